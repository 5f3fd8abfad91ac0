//! `com/vmware/content/{library,local-library,library/item}`: local content libraries backed by
//! a datastore, and their items (metadata only: no upload or download sessions).
//!
//! Creating a library makes its directory `contentlib-<id>` on each backing datastore, as
//! vCenter does; deleting it removes the directory and the library's items.

use hyper::Method;
use serde_json::{json, Value};

use super::{new_uuid, opt_string, string_field, timestamp, Answer, Call, Kind, RestError};
use crate::state::{moref, Mo, State};

/// A content library.
#[derive(Debug, Clone)]
pub struct Library {
    /// Its name (unique).
    pub name: String,
    /// Its description.
    pub description: String,
    /// `LOCAL` (the only kind created here).
    pub kind: String,
    /// Backing datastores' ids.
    pub datastores: Vec<String>,
    /// Creation time (vAPI timestamp).
    pub created: String,
    /// Last change (vAPI timestamp).
    pub modified: String,
    /// Version, bumped at each change.
    pub version: u64,
}

/// A library item.
#[derive(Debug, Clone)]
pub struct Item {
    /// Its library's id.
    pub library_id: String,
    /// Its name (unique within the library).
    pub name: String,
    /// Its description.
    pub description: String,
    /// Its type (`ovf`, `iso`, … or empty).
    pub kind: String,
    /// Creation time.
    pub created: String,
    /// Last change.
    pub modified: String,
}

fn not_found(what: &str, id: &str) -> RestError {
    RestError::new(
        Kind::NotFound,
        "com.vmware.vdcs.cls-main.invalid_library_id",
        format!("{what} with identifier {id} does not exist."),
    )
}

fn library_json(id: &str, l: &Library) -> Value {
    json!({
        "id": id,
        "name": l.name,
        "description": l.description,
        "type": l.kind,
        "storage_backings": l.datastores.iter().map(|d| json!({
            "datastore_id": d,
            "type": "DATASTORE",
        })).collect::<Vec<_>>(),
        "creation_time": l.created,
        "last_modified_time": l.modified,
        "version": l.version.to_string(),
        "server_guid": "",
        "publish_info": {
            "authentication_method": "NONE",
            "published": false,
            "persist_json_enabled": false,
        },
    })
}

fn item_json(state: &State, id: &str, i: &Item) -> Value {
    let size: u64 = super::transfer::item_files(state, id)
        .iter()
        .map(|(_, n)| n)
        .sum();
    json!({
        "id": id,
        "library_id": i.library_id,
        "name": i.name,
        "description": i.description,
        "type": i.kind,
        "size": size,
        "cached": true,
        "content_version": "1",
        "metadata_version": "1",
        "version": "1",
        "creation_time": i.created,
        "last_modified_time": i.modified,
    })
}

/// Serves `com/vmware/content/<resource>`.
pub fn serve(state: &mut State, resource: &str, call: &Call) -> Answer {
    match resource {
        "library" => library(state, call, None),
        "local-library" => library(state, call, Some("LOCAL")),
        "library/item" => item(state, call),
        "library/item/update-session" => super::transfer::update_session(state, call),
        "library/item/updatesession/file" => super::transfer::update_file(state, call),
        "library/item/file" => super::transfer::item_file(state, call),
        "library/item/download-session" => super::transfer::download_session(state, call),
        "library/item/downloadsession/file" => super::transfer::download_file(state, call),
        _ => Err(RestError::no_operation(&call.method, &call.resource)),
    }
}

/// The directory of library `id` on datastore `ds`.
fn library_dir(state: &State, ds: &str, id: &str) -> Option<std::path::PathBuf> {
    state
        .datastore_dir(&moref("Datastore", ds))
        .map(|d| d.join(format!("contentlib-{id}")))
}

fn library(state: &mut State, call: &Call, only: Option<&str>) -> Answer {
    let of_kind = |l: &Library| only.is_none_or(|k| l.kind == k);
    match (&call.method, call.id.as_deref(), call.action.as_deref()) {
        (&Method::GET, None, None) => Ok(Some(json!(state
            .managers
            .rest
            .libraries
            .iter()
            .filter(|(_, l)| of_kind(l))
            .map(|(k, _)| k)
            .collect::<Vec<_>>()))),
        (&Method::GET, Some(id), None) => state
            .managers
            .rest
            .libraries
            .get(id)
            .filter(|l| of_kind(l))
            .map(|l| Some(library_json(id, l)))
            .ok_or_else(|| not_found("Library", id)),
        (&Method::POST, None, Some("find")) => {
            let spec = call.member("spec")?;
            let name = opt_string(spec, "name")?;
            let kind = opt_string(spec, "type")?;
            Ok(Some(json!(state
                .managers
                .rest
                .libraries
                .iter()
                .filter(|(_, l)| of_kind(l)
                    && name.as_ref().is_none_or(|n| l.name.eq_ignore_ascii_case(n))
                    && kind.as_ref().is_none_or(|k| l.kind == *k))
                .map(|(k, _)| k)
                .collect::<Vec<_>>())))
        }
        (&Method::POST, None, None) if only == Some("LOCAL") => {
            call.may_write()?;
            create(state, call)
        }
        (&Method::PATCH, Some(id), None) if only == Some("LOCAL") => {
            call.may_write()?;
            let spec = call.member("update_spec")?;
            let name = opt_string(spec, "name")?;
            let description = opt_string(spec, "description")?;
            let rest = &mut state.managers.rest;
            if let Some(n) = &name {
                if rest.libraries.iter().any(|(k, l)| k != id && l.name == *n) {
                    return Err(RestError::new(
                        Kind::AlreadyExists,
                        "com.vmware.vdcs.cls-main.duplicate_library_name",
                        format!("A library with name {n} already exists."),
                    ));
                }
            }
            let l = rest
                .libraries
                .get_mut(id)
                .ok_or_else(|| not_found("Library", id))?;
            if let Some(n) = name {
                l.name = n;
            }
            if let Some(d) = description {
                l.description = d;
            }
            l.version += 1;
            l.modified = timestamp();
            Ok(None)
        }
        (&Method::DELETE, Some(id), None) if only == Some("LOCAL") => {
            call.may_write()?;
            let Some(l) = state.managers.rest.libraries.remove(id) else {
                return Err(not_found("Library", id));
            };
            let rest = &mut state.managers.rest;
            rest.items.retain(|_, i| i.library_id != id);
            let items = &rest.items;
            rest.updates.retain(|_, s| items.contains_key(&s.item_id));
            rest.downloads.retain(|_, s| items.contains_key(&s.item_id));
            for ds in &l.datastores {
                if let Some(dir) = library_dir(state, ds, id) {
                    let _ = std::fs::remove_dir_all(dir);
                }
            }
            Ok(None)
        }
        _ => Err(RestError::no_operation(&call.method, &call.resource)),
    }
}

fn create(state: &mut State, call: &Call) -> Answer {
    let spec = call.member("create_spec")?;
    let name = string_field(spec, "name")?.to_owned();
    if name.trim().is_empty() {
        return Err(RestError::invalid("The library name must not be empty."));
    }
    let kind = opt_string(spec, "type")?.unwrap_or_else(|| "LOCAL".into());
    if kind != "LOCAL" {
        return Err(RestError::invalid(format!(
            "Library type {kind} cannot be created as a local library."
        )));
    }
    let backings = match spec.get("storage_backings") {
        Some(Value::Array(a)) if !a.is_empty() => a,
        _ => {
            return Err(RestError::invalid(
                "A library needs a storage backing (storage_backings).",
            ))
        }
    };
    let mut datastores = Vec::new();
    for b in backings {
        if opt_string(b, "type")?.is_some_and(|t| t != "DATASTORE") {
            return Err(RestError::invalid(
                "Only DATASTORE storage backings are supported.",
            ));
        }
        let ds = string_field(b, "datastore_id")?;
        if !matches!(state.get(&moref("Datastore", ds)), Some(Mo::Datastore(_))) {
            return Err(RestError::invalid(format!(
                "The datastore {ds} does not exist."
            )));
        }
        datastores.push(ds.to_owned());
    }
    if state
        .managers
        .rest
        .libraries
        .values()
        .any(|l| l.name == name)
    {
        return Err(RestError::new(
            Kind::AlreadyExists,
            "com.vmware.vdcs.cls-main.duplicate_library_name",
            format!("A library with name {name} already exists."),
        ));
    }
    let id = new_uuid();
    for ds in &datastores {
        if let Some(dir) = library_dir(state, ds, &id) {
            let _ = std::fs::create_dir_all(dir);
        }
    }
    let t = timestamp();
    state.managers.rest.libraries.insert(
        id.clone(),
        Library {
            name,
            description: opt_string(spec, "description")?.unwrap_or_default(),
            kind,
            datastores,
            created: t.clone(),
            modified: t,
            version: 1,
        },
    );
    Ok(Some(Value::String(id)))
}

fn item(state: &mut State, call: &Call) -> Answer {
    let rest = &mut state.managers.rest;
    match (&call.method, call.id.as_deref(), call.action.as_deref()) {
        (&Method::GET, None, None) => {
            let lib = call
                .param("library_id")
                .ok_or_else(|| RestError::invalid("The parameter library_id is required."))?;
            if !rest.libraries.contains_key(lib) {
                return Err(not_found("Library", lib));
            }
            Ok(Some(json!(rest
                .items
                .iter()
                .filter(|(_, i)| i.library_id == lib)
                .map(|(k, _)| k)
                .collect::<Vec<_>>())))
        }
        (&Method::GET, Some(id), None) => state
            .managers
            .rest
            .items
            .get(id)
            .map(|i| Some(item_json(state, id, i)))
            .ok_or_else(|| not_found("Library item", id)),
        (&Method::POST, None, Some("find")) => {
            let spec = call.member("spec")?;
            let name = opt_string(spec, "name")?;
            let lib = opt_string(spec, "library_id")?;
            let kind = opt_string(spec, "type")?;
            Ok(Some(json!(rest
                .items
                .iter()
                .filter(
                    |(_, i)| name.as_ref().is_none_or(|n| i.name.eq_ignore_ascii_case(n))
                        && lib.as_ref().is_none_or(|l| i.library_id == *l)
                        && kind.as_ref().is_none_or(|k| i.kind == *k)
                )
                .map(|(k, _)| k)
                .collect::<Vec<_>>())))
        }
        (&Method::POST, None, None) => {
            call.may_write()?;
            let spec = call.member("create_spec")?;
            let name = string_field(spec, "name")?.to_owned();
            let lib = string_field(spec, "library_id")?.to_owned();
            if name.trim().is_empty() {
                return Err(RestError::invalid("The item name must not be empty."));
            }
            let Some(l) = rest.libraries.get_mut(&lib) else {
                return Err(not_found("Library", &lib));
            };
            if rest
                .items
                .values()
                .any(|i| i.library_id == lib && i.name == name)
            {
                return Err(RestError::new(
                    Kind::AlreadyExists,
                    "com.vmware.vdcs.cls-main.duplicate_item_name",
                    format!("An item with name {name} already exists in the library."),
                ));
            }
            l.version += 1;
            let t = timestamp();
            l.modified = t.clone();
            let id = new_uuid();
            rest.items.insert(
                id.clone(),
                Item {
                    library_id: lib,
                    name,
                    description: opt_string(spec, "description")?.unwrap_or_default(),
                    kind: opt_string(spec, "type")?.unwrap_or_default(),
                    created: t.clone(),
                    modified: t,
                },
            );
            Ok(Some(Value::String(id)))
        }
        (&Method::PATCH, Some(id), None) => {
            call.may_write()?;
            let spec = call.member("update_spec")?;
            let name = opt_string(spec, "name")?;
            let description = opt_string(spec, "description")?;
            let i = rest
                .items
                .get_mut(id)
                .ok_or_else(|| not_found("Library item", id))?;
            if let Some(n) = name {
                i.name = n;
            }
            if let Some(d) = description {
                i.description = d;
            }
            i.modified = timestamp();
            Ok(None)
        }
        (&Method::DELETE, Some(id), None) => {
            call.may_write()?;
            if let Some(dir) = super::transfer::item_dir(state, id) {
                let _ = std::fs::remove_dir_all(dir);
            }
            let rest = &mut state.managers.rest;
            if rest.items.remove(id).is_none() {
                return Err(not_found("Library item", id));
            }
            rest.updates.retain(|_, s| s.item_id != id);
            rest.downloads.retain(|_, s| s.item_id != id);
            Ok(None)
        }
        _ => Err(RestError::no_operation(&call.method, &call.resource)),
    }
}
