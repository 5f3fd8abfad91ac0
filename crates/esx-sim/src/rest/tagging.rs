//! `com/vmware/cis/tagging/{category,tag,tag-association}`: tag categories (cardinality
//! `SINGLE`/`MULTIPLE`, associable types), tags, and their attachment to inventory objects.
//!
//! Ids have vCenter's form (`urn:vmomi:InventoryServiceCategory:<uuid>:GLOBAL`,
//! `urn:vmomi:InventoryServiceTag:<uuid>:GLOBAL`). Attaching checks that the object exists in
//! the inventory, that the category allows its type and, for `SINGLE` categories, that the
//! object has no other tag of the category. Attachments of objects removed from the
//! inventory are no longer listed.

use hyper::Method;
use serde_json::{json, Value};

use super::{
    new_uuid, object_id, object_json, opt_string, opt_strings, string_field, Answer, Call, Kind,
    RestError,
};
use crate::state::{is_a, moref, MoRef, State};

/// A tag category.
#[derive(Debug, Clone)]
pub struct Category {
    /// Its name (unique).
    pub name: String,
    /// Its description.
    pub description: String,
    /// `SINGLE` or `MULTIPLE`.
    pub cardinality: String,
    /// Types whose objects its tags may be attached to (empty: any).
    pub associable_types: Vec<String>,
    /// `used_by` entries.
    pub used_by: Vec<String>,
}

/// A tag.
#[derive(Debug, Clone)]
pub struct Tag {
    /// Its category's id.
    pub category_id: String,
    /// Its name (unique within the category).
    pub name: String,
    /// Its description.
    pub description: String,
    /// `used_by` entries.
    pub used_by: Vec<String>,
}

fn not_found(what: &str, id: &str) -> RestError {
    RestError::new(
        Kind::NotFound,
        "com.vmware.cis.tagging.objectNotFound.error",
        format!("{what} with id {id} does not exist."),
    )
}

fn category_json(id: &str, c: &Category) -> Value {
    json!({
        "id": id,
        "name": c.name,
        "description": c.description,
        "cardinality": c.cardinality,
        "associable_types": c.associable_types,
        "used_by": c.used_by,
    })
}

fn tag_json(id: &str, t: &Tag) -> Value {
    json!({
        "id": id,
        "category_id": t.category_id,
        "name": t.name,
        "description": t.description,
        "used_by": t.used_by,
    })
}

fn cardinality(v: &Value) -> Result<Option<String>, RestError> {
    match opt_string(v, "cardinality")? {
        Some(c) if c == "SINGLE" || c == "MULTIPLE" => Ok(Some(c)),
        Some(c) => Err(RestError::invalid(format!(
            "Invalid cardinality {c}: expected SINGLE or MULTIPLE."
        ))),
        None => Ok(None),
    }
}

/// Serves `com/vmware/cis/tagging/<resource>`.
pub fn serve(state: &mut State, resource: &str, call: &Call) -> Answer {
    match resource {
        "category" => category(state, call),
        "tag" => tag(state, call),
        "tag-association" => association(state, call),
        _ => Err(RestError::no_operation(&call.method, &call.resource)),
    }
}

fn category(state: &mut State, call: &Call) -> Answer {
    let rest = &mut state.managers.rest;
    match (&call.method, call.id.as_deref(), call.action.as_deref()) {
        (&Method::GET, None, None) => Ok(Some(json!(rest.categories.keys().collect::<Vec<_>>()))),
        (&Method::GET, Some(id), None) => rest
            .categories
            .get(id)
            .map(|c| Some(category_json(id, c)))
            .ok_or_else(|| not_found("Category", id)),
        (&Method::POST, None, None) => {
            call.may_write()?;
            let spec = call.member("create_spec")?;
            let name = string_field(spec, "name")?.to_owned();
            if name.trim().is_empty() {
                return Err(RestError::invalid("The category name must not be empty."));
            }
            let card = cardinality(spec)?.ok_or_else(|| {
                RestError::invalid("Structure is missing a required field: cardinality.")
            })?;
            if rest.categories.values().any(|c| c.name == name) {
                return Err(RestError::new(
                    Kind::AlreadyExists,
                    "cis.tagging.category.exists",
                    format!("Category {name} already exists."),
                ));
            }
            let id = match opt_string(spec, "category_id")? {
                Some(id) => {
                    if rest.categories.contains_key(&id) {
                        return Err(RestError::new(
                            Kind::AlreadyExists,
                            "cis.tagging.category.exists",
                            format!("Category {id} already exists."),
                        ));
                    }
                    id
                }
                None => format!("urn:vmomi:InventoryServiceCategory:{}:GLOBAL", new_uuid()),
            };
            rest.categories.insert(
                id.clone(),
                Category {
                    name,
                    description: opt_string(spec, "description")?.unwrap_or_default(),
                    cardinality: card,
                    associable_types: opt_strings(spec, "associable_types")?.unwrap_or_default(),
                    used_by: Vec::new(),
                },
            );
            Ok(Some(Value::String(id)))
        }
        (&Method::PATCH, Some(id), None) | (&Method::PUT, Some(id), None) => {
            call.may_write()?;
            let spec = call.member("update_spec")?;
            let name = opt_string(spec, "name")?;
            let card = cardinality(spec)?;
            let types = opt_strings(spec, "associable_types")?;
            let description = opt_string(spec, "description")?;
            if let Some(n) = &name {
                if n.trim().is_empty() {
                    return Err(RestError::invalid("The category name must not be empty."));
                }
                if rest.categories.iter().any(|(k, c)| k != id && c.name == *n) {
                    return Err(RestError::new(
                        Kind::AlreadyExists,
                        "cis.tagging.category.exists",
                        format!("Category {n} already exists."),
                    ));
                }
            }
            let c = rest
                .categories
                .get_mut(id)
                .ok_or_else(|| not_found("Category", id))?;
            if c.cardinality == "MULTIPLE" && card.as_deref() == Some("SINGLE") {
                return Err(RestError::invalid(
                    "The cardinality of a category can only change from SINGLE to MULTIPLE.",
                ));
            }
            if let Some(t) = &types {
                let keeps_all = c.associable_types.iter().all(|old| t.contains(old));
                if !keeps_all || (c.associable_types.is_empty() && !t.is_empty()) {
                    return Err(RestError::invalid(
                        "Associable types of a category can only be added.",
                    ));
                }
            }
            if let Some(n) = name {
                c.name = n;
            }
            if let Some(d) = description {
                c.description = d;
            }
            if let Some(k) = card {
                c.cardinality = k;
            }
            if let Some(t) = types {
                c.associable_types = t;
            }
            Ok(None)
        }
        (&Method::DELETE, Some(id), None) => {
            call.may_write()?;
            if rest.categories.remove(id).is_none() {
                return Err(not_found("Category", id));
            }
            let gone: Vec<String> = rest
                .tags
                .iter()
                .filter(|(_, t)| t.category_id == id)
                .map(|(k, _)| k.clone())
                .collect();
            for t in &gone {
                rest.tags.remove(t);
            }
            rest.attached.retain(|(t, _, _)| !gone.contains(t));
            Ok(None)
        }
        _ => Err(RestError::no_operation(&call.method, &call.resource)),
    }
}

fn tag(state: &mut State, call: &Call) -> Answer {
    let rest = &mut state.managers.rest;
    match (&call.method, call.id.as_deref(), call.action.as_deref()) {
        (&Method::GET, None, None) => Ok(Some(json!(rest.tags.keys().collect::<Vec<_>>()))),
        (&Method::GET, Some(id), None) => rest
            .tags
            .get(id)
            .map(|t| Some(tag_json(id, t)))
            .ok_or_else(|| not_found("Tag", id)),
        (&Method::POST, Some(cat), Some("list-tags-for-category")) => {
            if !rest.categories.contains_key(cat) {
                return Err(not_found("Category", cat));
            }
            Ok(Some(json!(rest
                .tags
                .iter()
                .filter(|(_, t)| t.category_id == cat)
                .map(|(k, _)| k)
                .collect::<Vec<_>>())))
        }
        (&Method::POST, None, Some("list-tags-for-category")) => {
            let cat = string_field(&call.body, "category_id")?;
            if !rest.categories.contains_key(cat) {
                return Err(not_found("Category", cat));
            }
            Ok(Some(json!(rest
                .tags
                .iter()
                .filter(|(_, t)| t.category_id == cat)
                .map(|(k, _)| k)
                .collect::<Vec<_>>())))
        }
        (&Method::POST, None, None) => {
            call.may_write()?;
            let spec = call.member("create_spec")?;
            let name = string_field(spec, "name")?.to_owned();
            let category_id = string_field(spec, "category_id")?.to_owned();
            if name.trim().is_empty() {
                return Err(RestError::invalid("The tag name must not be empty."));
            }
            if !rest.categories.contains_key(&category_id) {
                return Err(not_found("Category", &category_id));
            }
            if rest
                .tags
                .values()
                .any(|t| t.category_id == category_id && t.name == name)
            {
                return Err(RestError::new(
                    Kind::AlreadyExists,
                    "cis.tagging.tag.exists",
                    format!("Tag {name} already exists in category {category_id}."),
                ));
            }
            let id = match opt_string(spec, "tag_id")? {
                Some(id) if rest.tags.contains_key(&id) => {
                    return Err(RestError::new(
                        Kind::AlreadyExists,
                        "cis.tagging.tag.exists",
                        format!("Tag {id} already exists."),
                    ))
                }
                Some(id) => id,
                None => format!("urn:vmomi:InventoryServiceTag:{}:GLOBAL", new_uuid()),
            };
            rest.tags.insert(
                id.clone(),
                Tag {
                    category_id,
                    name,
                    description: opt_string(spec, "description")?.unwrap_or_default(),
                    used_by: Vec::new(),
                },
            );
            Ok(Some(Value::String(id)))
        }
        (&Method::PATCH, Some(id), None) | (&Method::PUT, Some(id), None) => {
            call.may_write()?;
            let spec = call.member("update_spec")?;
            let name = opt_string(spec, "name")?;
            let description = opt_string(spec, "description")?;
            let cat = rest
                .tags
                .get(id)
                .ok_or_else(|| not_found("Tag", id))?
                .category_id
                .clone();
            if let Some(n) = &name {
                if n.trim().is_empty() {
                    return Err(RestError::invalid("The tag name must not be empty."));
                }
                if rest
                    .tags
                    .iter()
                    .any(|(k, t)| k != id && t.category_id == cat && t.name == *n)
                {
                    return Err(RestError::new(
                        Kind::AlreadyExists,
                        "cis.tagging.tag.exists",
                        format!("Tag {n} already exists in category {cat}."),
                    ));
                }
            }
            let t = rest.tags.get_mut(id).ok_or_else(|| not_found("Tag", id))?;
            if let Some(n) = name {
                t.name = n;
            }
            if let Some(d) = description {
                t.description = d;
            }
            Ok(None)
        }
        (&Method::DELETE, Some(id), None) => {
            call.may_write()?;
            if rest.tags.remove(id).is_none() {
                return Err(not_found("Tag", id));
            }
            rest.attached.retain(|(t, _, _)| t != id);
            Ok(None)
        }
        _ => Err(RestError::no_operation(&call.method, &call.resource)),
    }
}

/// Whether `r` names an object of the inventory.
fn exists(state: &State, r: &MoRef) -> bool {
    state.get(r).is_some()
}

/// Attaches tag `tag` to `obj` after the checks vCenter makes.
fn attach(state: &mut State, tag: &str, obj: &MoRef) -> Result<(), RestError> {
    let rest = &state.managers.rest;
    let t = rest.tags.get(tag).ok_or_else(|| not_found("Tag", tag))?;
    if !exists(state, obj) {
        return Err(RestError::new(
            Kind::NotFound,
            "com.vmware.vapi.std.errors.not_found",
            format!("Object {}:{} does not exist.", obj.r#type, obj.value),
        ));
    }
    if let Some(c) = rest.categories.get(&t.category_id) {
        let ty = state.get(obj).map_or("", |m| m.type_name());
        if !c.associable_types.is_empty()
            && !c
                .associable_types
                .iter()
                .any(|a| is_a(ty, a.trim_start_matches("urn:vim25:")) || a == "ManagedEntity")
        {
            return Err(RestError::invalid(format!(
                "Tags of category {} cannot be attached to objects of type {ty}.",
                c.name
            )));
        }
        if c.cardinality == "SINGLE" {
            let other = rest.attached.iter().any(|(k, oty, oid)| {
                k != tag
                    && *oty == obj.r#type
                    && *oid == obj.value
                    && rest
                        .tags
                        .get(k)
                        .is_some_and(|o| o.category_id == t.category_id)
            });
            if other {
                return Err(RestError::invalid(format!(
                    "Category {} allows a single tag per object.",
                    c.name
                )));
            }
        }
    }
    state
        .managers
        .rest
        .attached
        .insert((tag.to_owned(), obj.r#type.clone(), obj.value.clone()));
    Ok(())
}

fn detach(state: &mut State, tag: &str, obj: &MoRef) -> Result<(), RestError> {
    let rest = &mut state.managers.rest;
    if !rest.tags.contains_key(tag) {
        return Err(not_found("Tag", tag));
    }
    rest.attached
        .remove(&(tag.to_owned(), obj.r#type.clone(), obj.value.clone()));
    Ok(())
}

/// The tags attached to `obj` (that still exists).
fn tags_on(state: &State, obj: &MoRef) -> Vec<String> {
    if !exists(state, obj) {
        return Vec::new();
    }
    state
        .managers
        .rest
        .attached
        .iter()
        .filter(|(_, ty, id)| *ty == obj.r#type && *id == obj.value)
        .map(|(t, _, _)| t.clone())
        .collect()
}

/// The objects (still in the inventory) tag `tag` is attached to.
fn objects_of(state: &State, tag: &str) -> Vec<Value> {
    state
        .managers
        .rest
        .attached
        .iter()
        .filter(|(t, _, _)| t == tag)
        .map(|(_, ty, id)| moref(ty, id))
        .filter(|r| exists(state, r))
        .map(|r| object_json(&r))
        .collect()
}

fn object_ids(v: &Value, name: &str) -> Result<Vec<MoRef>, RestError> {
    match v.get(name) {
        Some(Value::Array(a)) => a.iter().map(object_id).collect(),
        Some(Value::Null) | None => Err(RestError::invalid(format!(
            "Structure is missing a required field: {name}."
        ))),
        Some(_) => Err(RestError::invalid(format!("Field {name} must be a list."))),
    }
}

/// The result of a batch operation (`{"success": …, "error_messages": […]}`).
fn batch(errors: Vec<RestError>) -> Value {
    json!({
        "success": errors.is_empty(),
        "error_messages": errors.iter().map(|e| json!({
            "args": [],
            "default_message": e.message,
            "id": e.id,
        })).collect::<Vec<_>>(),
    })
}

fn association(state: &mut State, call: &Call) -> Answer {
    if call.method != Method::POST {
        return Err(RestError::no_operation(&call.method, &call.resource));
    }
    let action = call.action.as_deref().unwrap_or("");
    match (call.id.as_deref(), action) {
        (Some(tag), "attach") => {
            call.may_write()?;
            let obj = object_id(call.member("object_id")?)?;
            attach(state, tag, &obj)?;
            Ok(None)
        }
        (Some(tag), "detach") => {
            call.may_write()?;
            let obj = object_id(call.member("object_id")?)?;
            detach(state, tag, &obj)?;
            Ok(None)
        }
        (Some(tag), "list-attached-objects") => {
            if !state.managers.rest.tags.contains_key(tag) {
                return Err(not_found("Tag", tag));
            }
            Ok(Some(Value::Array(objects_of(state, tag))))
        }
        (Some(tag), "attach-tag-to-multiple-objects") => {
            call.may_write()?;
            let objs = object_ids(&call.body, "object_ids")?;
            if !state.managers.rest.tags.contains_key(tag) {
                return Err(not_found("Tag", tag));
            }
            let errs = objs
                .iter()
                .filter_map(|o| attach(state, tag, o).err())
                .collect();
            Ok(Some(batch(errs)))
        }
        (Some(tag), "detach-tag-from-multiple-objects") => {
            call.may_write()?;
            let objs = object_ids(&call.body, "object_ids")?;
            let errs = objs
                .iter()
                .filter_map(|o| detach(state, tag, o).err())
                .collect();
            Ok(Some(batch(errs)))
        }
        (None, "list-attached-tags") => {
            let obj = object_id(call.member("object_id")?)?;
            Ok(Some(json!(tags_on(state, &obj))))
        }
        (None, "list-attached-objects-on-tags") => {
            let tags = opt_strings(&call.body, "tag_ids")?.unwrap_or_default();
            Ok(Some(Value::Array(
                tags.iter()
                    .map(|t| json!({"tag_id": t, "object_ids": objects_of(state, t)}))
                    .collect(),
            )))
        }
        (None, "list-attached-tags-on-objects") => {
            let objs = object_ids(&call.body, "object_ids")?;
            Ok(Some(Value::Array(
                objs.iter()
                    .map(|o| json!({"object_id": object_json(o), "tag_ids": tags_on(state, o)}))
                    .collect(),
            )))
        }
        (None, "attach-multiple-tags-to-object") => {
            call.may_write()?;
            let obj = object_id(call.member("object_id")?)?;
            let tags = opt_strings(&call.body, "tag_ids")?.unwrap_or_default();
            let errs = tags
                .iter()
                .filter_map(|t| attach(state, t, &obj).err())
                .collect();
            Ok(Some(batch(errs)))
        }
        (None, "detach-multiple-tags-from-object") => {
            call.may_write()?;
            let obj = object_id(call.member("object_id")?)?;
            let tags = opt_strings(&call.body, "tag_ids")?.unwrap_or_default();
            let errs = tags
                .iter()
                .filter_map(|t| detach(state, t, &obj).err())
                .collect();
            Ok(Some(batch(errs)))
        }
        (None, "list-used-tags") => {
            let used: std::collections::BTreeSet<&String> = state
                .managers
                .rest
                .attached
                .iter()
                .map(|(t, _, _)| t)
                .collect();
            Ok(Some(json!(used)))
        }
        _ => Err(RestError::no_operation(&call.method, &call.resource)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::Mo;

    fn call(
        method: Method,
        resource: &str,
        id: Option<&str>,
        action: Option<&str>,
        body: Value,
    ) -> Call {
        Call {
            method,
            resource: format!("com/vmware/cis/tagging/{resource}"),
            id: id.map(str::to_owned),
            action: action.map(str::to_owned),
            query: Vec::new(),
            body,
            session: Some("t".into()),
            read_only: false,
            host: None,
        }
    }

    fn run(state: &mut State, c: &Call) -> Answer {
        let r = c
            .resource
            .trim_start_matches("com/vmware/cis/tagging/")
            .to_owned();
        serve(state, &r, c)
    }

    #[test]
    fn attachments_follow_the_inventory_and_the_category_rules() {
        let dir = std::env::temp_dir().join(format!("esx-sim-rest-unit-{}", std::process::id()));
        let mut cfg = crate::config::Config::new(&dir);
        cfg.flavor = crate::config::Flavor::Vcenter;
        let mut state = State::new(cfg);
        crate::inventory::build(&mut state).expect("inventory");
        let vms: Vec<MoRef> = state
            .objects
            .iter()
            .filter(|(_, m)| matches!(m, Mo::VirtualMachine(_)))
            .map(|(k, _)| moref("VirtualMachine", k))
            .collect();
        let vm = vms[0].clone();

        let spec = json!({"create_spec": {"name": "c", "cardinality": "SINGLE",
            "associable_types": ["VirtualMachine"]}});
        let cat = run(
            &mut state,
            &call(Method::POST, "category", None, None, spec),
        )
        .unwrap();
        let cat = cat.unwrap().as_str().unwrap().to_owned();
        let mut tags = Vec::new();
        for name in ["a", "b"] {
            let spec = json!({"create_spec": {"name": name, "category_id": cat}});
            let t = run(&mut state, &call(Method::POST, "tag", None, None, spec)).unwrap();
            tags.push(t.unwrap().as_str().unwrap().to_owned());
        }
        let obj = json!({"object_id": object_json(&vm)});
        let attach = |t: &str| {
            call(
                Method::POST,
                "tag-association",
                Some(t),
                Some("attach"),
                obj.clone(),
            )
        };
        run(&mut state, &attach(&tags[0])).unwrap();
        // SINGLE: a second tag of the category is refused; the same one again is fine.
        let e = run(&mut state, &attach(&tags[1])).unwrap_err();
        assert_eq!(e.kind, Kind::InvalidArgument);
        run(&mut state, &attach(&tags[0])).unwrap();
        // Not a VM: refused; unknown object: not found.
        let folder = json!({"object_id": {"type": "Folder", "id": "group-d1"}});
        let c = call(
            Method::POST,
            "tag-association",
            Some(&tags[0]),
            Some("attach"),
            folder,
        );
        assert_eq!(run(&mut state, &c).unwrap_err().kind, Kind::InvalidArgument);
        let ghost = json!({"object_id": {"type": "VirtualMachine", "id": "vm-ghost"}});
        let c = call(
            Method::POST,
            "tag-association",
            Some(&tags[0]),
            Some("attach"),
            ghost,
        );
        assert_eq!(run(&mut state, &c).unwrap_err().kind, Kind::NotFound);

        let list = call(
            Method::POST,
            "tag-association",
            Some(&tags[0]),
            Some("list-attached-objects"),
            Value::Null,
        );
        assert_eq!(
            run(&mut state, &list).unwrap().unwrap(),
            json!([object_json(&vm)])
        );
        // A VM gone from the inventory no longer shows.
        state.objects.remove(&vm.value);
        assert_eq!(run(&mut state, &list).unwrap().unwrap(), json!([]));
        // Deleting the category deletes its tags.
        let del = call(Method::DELETE, "category", Some(&cat), None, Value::Null);
        run(&mut state, &del).unwrap();
        assert!(state.managers.rest.tags.is_empty());
        assert!(state.managers.rest.attached.is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
