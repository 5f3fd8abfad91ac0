//! Library item content: update sessions (`com/vmware/content/library/item/update-session` and
//! `…/item/updatesession/file`) and download sessions (`…/item/download-session` and
//! `…/item/downloadsession/file`), the endpoints they hand out (`/cls-data/<session>/<file>`:
//! `PUT` streamed to the datastore like `/folder`, `GET` streamed from it) and the item's file
//! list (`com/vmware/content/library/item/file`).
//!
//! An item's files live in `contentlib-<library>/<item>/` on the library's first datastore. An
//! endpoint needs no cookie: its session id is the credential, as on vCenter; it works while
//! its session is `ACTIVE` (and, for downloads, once the file is prepared, which is at once).

use std::path::PathBuf;
use std::sync::Arc;

use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use percent_encoding::percent_decode_str;
use serde_json::{json, Value};

use super::{
    new_uuid, opt_string, string_field, text_reply, timestamp, Answer, Call, Kind, RestError,
};
use crate::server::{Body, Shared};
use crate::state::{moref, State};

/// What a file name keeps unescaped in an endpoint URL (RFC 3986's unreserved characters).
const URL_NAME: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'.')
    .remove(b'-')
    .remove(b'_')
    .remove(b'~');

/// A download session of a library item.
#[derive(Debug, Clone)]
pub struct DownloadSession {
    /// The item it reads.
    pub item_id: String,
    /// `ACTIVE`, `CANCELED` or `ERROR`.
    pub state: String,
    /// Files prepared for download.
    pub prepared: std::collections::BTreeSet<String>,
}

/// An update session of a library item.
#[derive(Debug, Clone)]
pub struct UpdateSession {
    /// The item it updates.
    pub item_id: String,
    /// `ACTIVE`, `DONE`, `ERROR` or `CANCELED`.
    pub state: String,
    /// Files added: name → announced size (`-1` when unknown).
    pub files: std::collections::BTreeMap<String, i64>,
}

fn not_found(what: &str, id: &str) -> RestError {
    RestError::new(
        Kind::NotFound,
        "com.vmware.vdcs.cls-main.invalid_session_id",
        format!("{what} with identifier {id} does not exist."),
    )
}

/// The directory of item `item` (on its library's first datastore).
pub fn item_dir(state: &State, item: &str) -> Option<PathBuf> {
    let rest = &state.managers.rest;
    let i = rest.items.get(item)?;
    let l = rest.libraries.get(&i.library_id)?;
    let ds = l.datastores.first()?;
    let dir = state.datastore_dir(&moref("Datastore", ds))?;
    Some(dir.join(format!("contentlib-{}", i.library_id)).join(item))
}

/// The files of item `item`: (name, size), sorted by name.
pub fn item_files(state: &State, item: &str) -> Vec<(String, u64)> {
    let Some(dir) = item_dir(state, item) else {
        return Vec::new();
    };
    let mut v: Vec<(String, u64)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let m = e.metadata().ok()?;
            (m.is_file() && !crate::files::is_temp(&name)).then_some((name, m.len()))
        })
        .collect();
    v.sort();
    v
}

fn session_json(id: &str, s: &UpdateSession) -> Value {
    json!({
        "id": id,
        "library_item_id": s.item_id,
        "library_item_content_version": "1",
        "state": s.state,
        "client_progress": if s.state == "DONE" { 100 } else { 0 },
        "expiration_time": timestamp(),
        "preview_info": {"state": "UNAVAILABLE"},
        "warning_behavior": [],
    })
}

fn file_json(state: &State, call: &Call, session: &str, s: &UpdateSession, name: &str) -> Value {
    let size = s.files.get(name).copied().unwrap_or(-1);
    let have = item_dir(state, &s.item_id)
        .and_then(|d| std::fs::metadata(d.join(name)).ok())
        .map(|m| m.len());
    let host = call.host.as_deref().unwrap_or("127.0.0.1");
    let enc: String = percent_encoding::utf8_percent_encode(name, URL_NAME).collect();
    json!({
        "name": name,
        "source_type": "PUSH",
        "size": size,
        "bytes_transferred": have.unwrap_or(0),
        "status": if have.is_some() { "READY" } else { "WAITING_FOR_TRANSFER" },
        "upload_endpoint": {"uri": format!("https://{host}/cls-data/{session}/{enc}")},
        "keep_in_storage": true,
    })
}

/// Serves `com/vmware/content/library/item/update-session`.
pub fn update_session(state: &mut State, call: &Call) -> Answer {
    match (&call.method, call.id.as_deref(), call.action.as_deref()) {
        (&Method::GET, None, None) => Ok(Some(json!(state
            .managers
            .rest
            .updates
            .keys()
            .collect::<Vec<_>>()))),
        (&Method::GET, Some(id), None) => state
            .managers
            .rest
            .updates
            .get(id)
            .map(|s| Some(session_json(id, s)))
            .ok_or_else(|| not_found("Update session", id)),
        (&Method::POST, None, None) => {
            call.may_write()?;
            let spec = call.member("create_spec")?;
            let item = string_field(spec, "library_item_id")?.to_owned();
            let rest = &mut state.managers.rest;
            if !rest.items.contains_key(&item) {
                return Err(RestError::new(
                    Kind::NotFound,
                    "com.vmware.vdcs.cls-main.invalid_item_id",
                    format!("Library item with identifier {item} does not exist."),
                ));
            }
            if rest
                .updates
                .values()
                .any(|s| s.item_id == item && s.state == "ACTIVE")
            {
                return Err(RestError::new(
                    Kind::ResourceInUse,
                    "com.vmware.vdcs.cls-main.item_update_in_progress",
                    format!("Library item {item} is being updated by another session."),
                ));
            }
            let id = new_uuid();
            rest.updates.insert(
                id.clone(),
                UpdateSession {
                    item_id: item,
                    state: "ACTIVE".into(),
                    files: Default::default(),
                },
            );
            Ok(Some(Value::String(id)))
        }
        (&Method::POST, Some(id), Some(action)) => {
            call.may_write()?;
            let s = state
                .managers
                .rest
                .updates
                .get_mut(id)
                .ok_or_else(|| not_found("Update session", id))?;
            match action {
                "keep-alive" => {}
                "complete" | "cancel" | "fail" if s.state != "ACTIVE" => {
                    return Err(RestError::new(
                        Kind::InvalidArgument,
                        "com.vmware.vdcs.cls-main.session_not_active",
                        format!("Update session {id} is {}.", s.state),
                    ))
                }
                "complete" => {
                    s.state = "DONE".into();
                    let item = s.item_id.clone();
                    if let Some(i) = state.managers.rest.items.get_mut(&item) {
                        i.modified = timestamp();
                    }
                }
                "cancel" => s.state = "CANCELED".into(),
                "fail" => s.state = "ERROR".into(),
                _ => return Err(RestError::no_operation(&call.method, &call.resource)),
            }
            Ok(None)
        }
        (&Method::DELETE, Some(id), None) => {
            call.may_write()?;
            state
                .managers
                .rest
                .updates
                .remove(id)
                .map(|_| None)
                .ok_or_else(|| not_found("Update session", id))
        }
        _ => Err(RestError::no_operation(&call.method, &call.resource)),
    }
}

/// Serves `com/vmware/content/library/item/updatesession/file`.
pub fn update_file(state: &mut State, call: &Call) -> Answer {
    let id = match (&call.method, call.id.as_deref()) {
        (&Method::GET, None) => call
            .param("update_session_id")
            .ok_or_else(|| RestError::invalid("The parameter update_session_id is required."))?
            .to_owned(),
        _ => call.need_id()?.to_owned(),
    };
    let s = state
        .managers
        .rest
        .updates
        .get(&id)
        .cloned()
        .ok_or_else(|| not_found("Update session", &id))?;
    match (&call.method, call.action.as_deref()) {
        (&Method::GET, None) | (&Method::POST, Some("list")) => Ok(Some(Value::Array(
            s.files
                .keys()
                .map(|n| file_json(state, call, &id, &s, n))
                .collect(),
        ))),
        (&Method::POST, Some("get")) => {
            let name = string_field(&call.body, "file_name")?;
            if !s.files.contains_key(name) {
                return Err(not_found("File", name));
            }
            Ok(Some(file_json(state, call, &id, &s, name)))
        }
        (&Method::POST, Some("add")) => {
            call.may_write()?;
            let spec = call.member("file_spec")?;
            let name = string_field(spec, "name")?.to_owned();
            if name.is_empty() || name.contains('/') || name == "." || name == ".." {
                return Err(RestError::invalid(format!("Invalid file name {name:?}.")));
            }
            if opt_string(spec, "source_type")?.is_some_and(|t| t != "PUSH") {
                return Err(RestError::invalid("Only PUSH sources are supported."));
            }
            if s.state != "ACTIVE" {
                return Err(RestError::invalid(format!(
                    "Update session {id} is {}.",
                    s.state
                )));
            }
            let size = spec.get("size").and_then(Value::as_i64).unwrap_or(-1);
            let Some(sess) = state.managers.rest.updates.get_mut(&id) else {
                return Err(not_found("Update session", &id));
            };
            sess.files.insert(name.clone(), size);
            let sess = sess.clone();
            if let Some(dir) = item_dir(state, &sess.item_id) {
                let _ = std::fs::create_dir_all(dir);
            }
            Ok(Some(file_json(state, call, &id, &sess, &name)))
        }
        (&Method::POST, Some("remove")) => {
            call.may_write()?;
            let name = string_field(&call.body, "file_name")?.to_owned();
            if let Some(sess) = state.managers.rest.updates.get_mut(&id) {
                if sess.files.remove(&name).is_none() {
                    return Err(not_found("File", &name));
                }
            }
            Ok(None)
        }
        (&Method::POST, Some("validate")) => {
            let dir = item_dir(state, &s.item_id);
            let missing: Vec<&String> = s
                .files
                .keys()
                .filter(|n| !dir.as_ref().is_some_and(|d| d.join(n).is_file()))
                .collect();
            Ok(Some(json!({
                "has_errors": !missing.is_empty(),
                "missing_files": missing,
                "invalid_files": [],
            })))
        }
        _ => Err(RestError::no_operation(&call.method, &call.resource)),
    }
}

/// Serves `com/vmware/content/library/item/file` (the item's files).
pub fn item_file(state: &mut State, call: &Call) -> Answer {
    let item = call
        .param("library_item_id")
        .map(str::to_owned)
        .or_else(|| call.id.clone())
        .ok_or_else(|| RestError::invalid("The parameter library_item_id is required."))?;
    if !state.managers.rest.items.contains_key(&item) {
        return Err(RestError::new(
            Kind::NotFound,
            "com.vmware.vdcs.cls-main.invalid_item_id",
            format!("Library item with identifier {item} does not exist."),
        ));
    }
    let file = |(name, size): &(String, u64)| json!({"name": name, "size": size, "cached": true, "version": "1"});
    let files = item_files(state, &item);
    match (&call.method, call.action.as_deref()) {
        (&Method::GET, None) | (&Method::POST, Some("list")) => {
            Ok(Some(Value::Array(files.iter().map(file).collect())))
        }
        (&Method::POST, Some("get")) => {
            let name = string_field(&call.body, "name")?;
            files
                .iter()
                .find(|(n, _)| n == name)
                .map(|f| Some(file(f)))
                .ok_or_else(|| not_found("File", name))
        }
        _ => Err(RestError::no_operation(&call.method, &call.resource)),
    }
}

/// `/cls-data/<session>/<file>`: `PUT` of a file added to an active update session, `GET` of a
/// file prepared in a download session.
pub async fn serve_data(shared: Arc<Shared>, req: Request<Incoming>) -> Response<Body> {
    let path = req.uri().path().trim_start_matches("/cls-data/").to_owned();
    let Some((session, name)) = path.split_once('/') else {
        return text_reply(StatusCode::NOT_FOUND, "not found\n");
    };
    let name = percent_decode_str(name).decode_utf8_lossy().into_owned();
    if req.method() == Method::GET {
        let file = {
            let Some(st) = shared.read() else {
                return text_reply(StatusCode::INTERNAL_SERVER_ERROR, "state unavailable\n");
            };
            let Some(s) = st.managers.rest.downloads.get(session) else {
                return text_reply(StatusCode::NOT_FOUND, "no such download session\n");
            };
            if s.state != "ACTIVE" || !s.prepared.contains(&name) {
                return text_reply(StatusCode::NOT_FOUND, "file not prepared\n");
            }
            item_dir(&st, &s.item_id).and_then(|d| crate::files::safe_join(&d, &name))
        };
        return match file {
            Some(f) => download(f).await,
            None => text_reply(StatusCode::NOT_FOUND, "not found\n"),
        };
    }
    if req.method() != Method::PUT {
        return text_reply(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
    }
    let target = {
        let Some(st) = shared.read() else {
            return text_reply(StatusCode::INTERNAL_SERVER_ERROR, "state unavailable\n");
        };
        let Some(s) = st.managers.rest.updates.get(session) else {
            return text_reply(StatusCode::NOT_FOUND, "no such update session\n");
        };
        if s.state != "ACTIVE" || !s.files.contains_key(&name) {
            return text_reply(StatusCode::NOT_FOUND, "no such file in the session\n");
        }
        let item = &st.managers.rest.items.get(&s.item_id);
        let lib = item.and_then(|i| st.managers.rest.libraries.get(&i.library_id));
        let ds = lib
            .and_then(|l| l.datastores.first())
            .map(|d| moref("Datastore", d));
        let space = ds
            .as_ref()
            .and_then(|d| crate::folder_api::Space::of(&st, d));
        let dir = item_dir(&st, &s.item_id);
        match (space, dir.and_then(|d| crate::files::safe_join(&d, &name))) {
            (Some(space), Some(p)) => (space, p),
            _ => return text_reply(StatusCode::NOT_FOUND, "no such library item\n"),
        }
    };
    let (space, file) = target;
    if let Some(d) = file.parent() {
        let _ = std::fs::create_dir_all(d);
    }
    crate::folder_api::put(req, file, space).await
}

fn item_not_found(item: &str) -> RestError {
    RestError::new(
        Kind::NotFound,
        "com.vmware.vdcs.cls-main.invalid_item_id",
        format!("Library item with identifier {item} does not exist."),
    )
}

/// Serves `com/vmware/content/library/item/download-session`.
pub fn download_session(state: &mut State, call: &Call) -> Answer {
    let rest = &mut state.managers.rest;
    match (&call.method, call.id.as_deref(), call.action.as_deref()) {
        (&Method::GET, None, None) => Ok(Some(json!(rest.downloads.keys().collect::<Vec<_>>()))),
        (&Method::GET, Some(id), None) => rest
            .downloads
            .get(id)
            .map(|s| {
                Some(json!({
                    "id": id,
                    "library_item_id": s.item_id,
                    "library_item_content_version": "1",
                    "state": s.state,
                    "client_progress": 0,
                    "expiration_time": timestamp(),
                }))
            })
            .ok_or_else(|| not_found("Download session", id)),
        (&Method::POST, None, None) => {
            let spec = call.member("create_spec")?;
            let item = string_field(spec, "library_item_id")?.to_owned();
            if !rest.items.contains_key(&item) {
                return Err(item_not_found(&item));
            }
            let id = new_uuid();
            rest.downloads.insert(
                id.clone(),
                DownloadSession {
                    item_id: item,
                    state: "ACTIVE".into(),
                    prepared: Default::default(),
                },
            );
            Ok(Some(Value::String(id)))
        }
        (&Method::POST, Some(id), Some(action)) => {
            let s = rest
                .downloads
                .get_mut(id)
                .ok_or_else(|| not_found("Download session", id))?;
            match action {
                "keep-alive" => {}
                "cancel" => s.state = "CANCELED".into(),
                "fail" => s.state = "ERROR".into(),
                _ => return Err(RestError::no_operation(&call.method, &call.resource)),
            }
            Ok(None)
        }
        (&Method::DELETE, Some(id), None) => rest
            .downloads
            .remove(id)
            .map(|_| None)
            .ok_or_else(|| not_found("Download session", id)),
        _ => Err(RestError::no_operation(&call.method, &call.resource)),
    }
}

fn download_file_json(
    call: &Call,
    session: &str,
    s: &DownloadSession,
    (name, size): &(String, u64),
) -> Value {
    let mut v = json!({
        "name": name,
        "size": size,
        "bytes_transferred": 0,
        "status": if s.prepared.contains(name) { "PREPARED" } else { "UNPREPARED" },
    });
    if s.prepared.contains(name) {
        let host = call.host.as_deref().unwrap_or("127.0.0.1");
        let enc: String = percent_encoding::utf8_percent_encode(name, URL_NAME).collect();
        v["download_endpoint"] = json!({"uri": format!("https://{host}/cls-data/{session}/{enc}")});
    }
    v
}

/// Serves `com/vmware/content/library/item/downloadsession/file`.
pub fn download_file(state: &mut State, call: &Call) -> Answer {
    let id = match (&call.method, call.id.as_deref()) {
        (&Method::GET, None) => call
            .param("download_session_id")
            .ok_or_else(|| RestError::invalid("The parameter download_session_id is required."))?
            .to_owned(),
        _ => call.need_id()?.to_owned(),
    };
    let s = state
        .managers
        .rest
        .downloads
        .get(&id)
        .cloned()
        .ok_or_else(|| not_found("Download session", &id))?;
    let files = item_files(state, &s.item_id);
    let find = |name: &str| {
        files
            .iter()
            .find(|(n, _)| n == name)
            .cloned()
            .ok_or_else(|| not_found("File", name))
    };
    match (&call.method, call.action.as_deref()) {
        (&Method::GET, None) | (&Method::POST, Some("list")) => Ok(Some(Value::Array(
            files
                .iter()
                .map(|f| download_file_json(call, &id, &s, f))
                .collect(),
        ))),
        (&Method::POST, Some("get")) => {
            let f = find(string_field(&call.body, "file_name")?)?;
            Ok(Some(download_file_json(call, &id, &s, &f)))
        }
        (&Method::POST, Some("prepare")) => {
            let f = find(string_field(&call.body, "file_name")?)?;
            if opt_string(&call.body, "endpoint_type")?.is_some_and(|t| t != "HTTPS") {
                return Err(RestError::invalid("Only HTTPS endpoints are supported."));
            }
            let Some(sess) = state.managers.rest.downloads.get_mut(&id) else {
                return Err(not_found("Download session", &id));
            };
            sess.prepared.insert(f.0.clone());
            let sess = sess.clone();
            Ok(Some(download_file_json(call, &id, &sess, &f)))
        }
        _ => Err(RestError::no_operation(&call.method, &call.resource)),
    }
}

/// A file's content read on a blocking thread, a chunk at a time, as the client takes it.
struct FileBody {
    rx: tokio::sync::mpsc::Receiver<std::io::Result<bytes::Bytes>>,
}

impl hyper::body::Body for FileBody {
    type Data = bytes::Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<bytes::Bytes>, std::io::Error>>> {
        self.rx
            .poll_recv(cx)
            .map(|o| o.map(|r| r.map(hyper::body::Frame::data)))
    }
}

/// `GET` of a prepared file: its content, streamed.
async fn download(path: PathBuf) -> Response<Body> {
    use http_body_util::BodyExt;
    let opened = tokio::task::spawn_blocking(move || {
        let f = std::fs::File::open(&path)?;
        let len = f.metadata()?.len();
        Ok::<_, std::io::Error>((f, len))
    })
    .await;
    let Ok(Ok((mut file, len))) = opened else {
        return text_reply(StatusCode::NOT_FOUND, "not found\n");
    };
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    tokio::task::spawn_blocking(move || {
        use std::io::Read;
        let mut left = len;
        while left > 0 {
            let n = left.min(crate::files::CHUNK as u64) as usize;
            let mut buf = vec![0u8; n];
            let r = file.read_exact(&mut buf).map(|_| bytes::Bytes::from(buf));
            let failed = r.is_err();
            if tx.blocking_send(r).is_err() || failed {
                return;
            }
            left -= n as u64;
        }
    });
    let mut r = Response::new(FileBody { rx }.boxed());
    let h = r.headers_mut();
    h.insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/octet-stream"),
    );
    h.insert(hyper::header::CONTENT_LENGTH, len.into());
    r
}
