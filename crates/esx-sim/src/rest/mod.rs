//! The vSphere Automation REST API under `/rest` (with `/api/session` and the `/cls-data/` upload
//! endpoints), as vCenter serves it to
//! govc's `tags.*` and `library.*` commands: sessions ([`session`]), tagging ([`tagging`]) and
//! content libraries ([`library`]).
//!
//! Only the vCenter flavor serves it; an ESX-flavored simulator answers 404, as ESXi does.
//! Requests are JSON bodies; answers are `{"value": …}` (nothing for operations returning
//! nothing) or a vAPI error `{"type": "com.vmware.vapi.std.errors.…", "value": {"messages": …}}`
//! with the HTTP status vCenter uses for that error. The data (sessions, categories, tags,
//! their attachments, libraries and items) lives in the simulator's [`State`]
//! (`State::managers.rest`) and every request takes the same lock as the SOAP calls.

pub mod library;
pub mod session;
pub mod tagging;
pub mod transfer;

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use percent_encoding::percent_decode_str;
use serde_json::{json, Value};

use crate::config::Flavor;
use crate::server::{full, Body, Shared};
use crate::state::{now, MoRef, State};

/// What the REST API keeps: its sessions, the tagging data and the content libraries.
#[derive(Debug, Default)]
pub struct Rest {
    /// Live REST sessions by token (`vmware-api-session-id`).
    pub sessions: BTreeMap<String, session::RestSession>,
    /// Tag categories by id.
    pub categories: BTreeMap<String, tagging::Category>,
    /// Tags by id.
    pub tags: BTreeMap<String, tagging::Tag>,
    /// Tag attachments: (tag id, object type, object id).
    pub attached: std::collections::BTreeSet<(String, String, String)>,
    /// Content libraries by id.
    pub libraries: BTreeMap<String, library::Library>,
    /// Library items by id.
    pub items: BTreeMap<String, library::Item>,
    /// Library item update sessions by id.
    pub updates: BTreeMap<String, transfer::UpdateSession>,
    /// Library item download sessions by id.
    pub downloads: BTreeMap<String, transfer::DownloadSession>,
}

/// A vAPI standard error kind (`com.vmware.vapi.std.errors.<kind>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `not_found` (404).
    NotFound,
    /// `already_exists` (400).
    AlreadyExists,
    /// `invalid_argument` (400).
    InvalidArgument,
    /// `unauthenticated` (401).
    Unauthenticated,
    /// `unauthorized` (403).
    Unauthorized,
    /// `operation_not_found` (404): no such resource or action.
    OperationNotFound,
    /// `resource_in_use` (400).
    ResourceInUse,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::NotFound => "not_found",
            Kind::AlreadyExists => "already_exists",
            Kind::InvalidArgument => "invalid_argument",
            Kind::Unauthenticated => "unauthenticated",
            Kind::Unauthorized => "unauthorized",
            Kind::OperationNotFound => "operation_not_found",
            Kind::ResourceInUse => "resource_in_use",
        }
    }

    fn status(self) -> StatusCode {
        match self {
            Kind::NotFound | Kind::OperationNotFound => StatusCode::NOT_FOUND,
            Kind::AlreadyExists | Kind::InvalidArgument | Kind::ResourceInUse => {
                StatusCode::BAD_REQUEST
            }
            Kind::Unauthenticated => StatusCode::UNAUTHORIZED,
            Kind::Unauthorized => StatusCode::FORBIDDEN,
        }
    }

    /// The `/api` spelling (`NOT_FOUND`, …).
    fn api_name(self) -> String {
        self.name().to_ascii_uppercase()
    }
}

/// A vAPI error: its kind, a message id and the English message.
#[derive(Debug, Clone)]
pub struct RestError {
    /// The standard error.
    pub kind: Kind,
    /// The message id (`com.vmware.…`).
    pub id: &'static str,
    /// The default (English) message.
    pub message: String,
}

impl RestError {
    /// An error of `kind` with message `id` and text `message`.
    pub fn new(kind: Kind, id: &'static str, message: impl Into<String>) -> RestError {
        RestError {
            kind,
            id,
            message: message.into(),
        }
    }

    /// `invalid_argument` about the request's content.
    pub fn invalid(message: impl Into<String>) -> RestError {
        RestError::new(
            Kind::InvalidArgument,
            "vapi.bindings.typeconverter.invalid",
            message,
        )
    }

    /// `unauthenticated`: no (live) session.
    pub fn unauthenticated() -> RestError {
        RestError::new(
            Kind::Unauthenticated,
            "vapi.method.authentication.required",
            "This method requires authentication.",
        )
    }

    /// `unauthorized`: the session's user may not change anything.
    pub fn unauthorized() -> RestError {
        RestError::new(
            Kind::Unauthorized,
            "vapi.method.authorization.denied",
            "Permission denied.",
        )
    }

    /// `operation_not_found` for a request no handler serves.
    pub fn no_operation(method: &Method, path: &str) -> RestError {
        RestError::new(
            Kind::OperationNotFound,
            "vapi.method.input.invalid.interface",
            format!("No operation for {method} {path}."),
        )
    }

    fn body_rest(&self) -> Value {
        json!({
            "type": format!("com.vmware.vapi.std.errors.{}", self.kind.name()),
            "value": {"messages": [{
                "args": [],
                "default_message": self.message,
                "id": self.id,
            }]},
        })
    }

    fn body_api(&self) -> Value {
        json!({
            "error_type": self.kind.api_name(),
            "messages": [{
                "args": [],
                "default_message": self.message,
                "id": self.id,
            }],
        })
    }
}

/// What a handler answers: `Some(value)` is sent as `{"value": value}`, `None` as an empty 200.
pub type Answer = Result<Option<Value>, RestError>;

/// One decoded request.
#[derive(Debug)]
pub struct Call {
    /// The HTTP method.
    pub method: Method,
    /// The resource path below `/rest/` without a trailing `id:` segment
    /// (e.g. `com/vmware/cis/tagging/category`).
    pub resource: String,
    /// The `id:<x>` segment's value, percent-decoded.
    pub id: Option<String>,
    /// The `~action` query parameter.
    pub action: Option<String>,
    /// Other query parameters, percent-decoded.
    pub query: Vec<(String, String)>,
    /// The JSON body (`Null` when empty).
    pub body: Value,
    /// The session token of the caller (`None` for session creation and anonymous calls).
    pub session: Option<String>,
    /// Whether the caller may only read.
    pub read_only: bool,
    /// The `Host` the request was sent to (for the upload URLs handed out).
    pub host: Option<String>,
}

impl Call {
    /// The query parameter `name`.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The `id:` segment, or `invalid_argument`.
    pub fn need_id(&self) -> Result<&str, RestError> {
        self.id
            .as_deref()
            .ok_or_else(|| RestError::invalid("The operation needs an identifier (id:…)."))
    }

    /// Refuses a change by a read-only user.
    pub fn may_write(&self) -> Result<(), RestError> {
        if self.read_only {
            Err(RestError::unauthorized())
        } else {
            Ok(())
        }
    }

    /// The body's member `name` (an object member of the top-level object).
    pub fn member(&self, name: &str) -> Result<&Value, RestError> {
        match self.body.get(name) {
            Some(v) if !v.is_null() => Ok(v),
            _ => Err(RestError::invalid(format!(
                "Structure is missing a required field: {name}."
            ))),
        }
    }
}

/// A required string field `name` of `v`.
pub fn string_field<'a>(v: &'a Value, name: &str) -> Result<&'a str, RestError> {
    match v.get(name) {
        Some(Value::String(s)) => Ok(s),
        Some(Value::Null) | None => Err(RestError::invalid(format!(
            "Structure is missing a required field: {name}."
        ))),
        Some(_) => Err(RestError::invalid(format!(
            "Field {name} must be a string."
        ))),
    }
}

/// An optional string field `name` of `v`.
pub fn opt_string(v: &Value, name: &str) -> Result<Option<String>, RestError> {
    match v.get(name) {
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Null) | None => Ok(None),
        Some(_) => Err(RestError::invalid(format!(
            "Field {name} must be a string."
        ))),
    }
}

/// An optional list of strings `name` of `v`.
pub fn opt_strings(v: &Value, name: &str) -> Result<Option<Vec<String>>, RestError> {
    match v.get(name) {
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| {
                x.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| RestError::invalid(format!("Field {name} must hold strings.")))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(Value::Null) | None => Ok(None),
        Some(_) => Err(RestError::invalid(format!("Field {name} must be a list."))),
    }
}

/// A managed object reference in vAPI form (`{"type": …, "id": …}`).
pub fn object_id(v: &Value) -> Result<MoRef, RestError> {
    let ty = string_field(v, "type")?;
    let id = string_field(v, "id")?;
    Ok(crate::state::moref(ty, id))
}

/// The vAPI form of a managed object reference.
pub fn object_json(r: &MoRef) -> Value {
    json!({"type": r.r#type, "id": r.value})
}

/// The current time as vAPI prints it (`2021-01-02T03:04:05.678Z`).
pub fn timestamp() -> String {
    now().to_utc().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// A fresh identifier (UUID-shaped).
pub fn new_uuid() -> String {
    crate::tls::session_key()
}

fn json_reply(status: StatusCode, body: Option<Value>) -> Response<Body> {
    let bytes = body.map(|v| v.to_string()).unwrap_or_default();
    let mut r = Response::new(full(bytes));
    *r.status_mut() = status;
    if let Ok(v) = "application/json".parse() {
        r.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
    }
    r
}

fn error_reply(api: bool, e: &RestError) -> Response<Body> {
    let body = if api { e.body_api() } else { e.body_rest() };
    json_reply(e.kind.status(), Some(body))
}

fn text_reply(status: StatusCode, msg: &str) -> Response<Body> {
    let mut r = Response::new(full(msg.to_owned()));
    *r.status_mut() = status;
    r
}

fn decode(s: &str) -> String {
    percent_decode_str(&s.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

/// Splits `/rest/<resource>[/id:<id>]` into resource and id.
fn split_path(path: &str) -> (String, Option<String>) {
    let rest = path.trim_start_matches('/').trim_end_matches('/');
    match rest.rsplit_once('/') {
        Some((res, last)) if last.starts_with("id:") => (
            res.to_owned(),
            Some(
                percent_decode_str(&last[3..])
                    .decode_utf8_lossy()
                    .into_owned(),
            ),
        ),
        _ => (rest.to_owned(), None),
    }
}

/// Whether a request for `path` is the REST API's (`/rest/`, `/api/`, `/cls-data/`).
pub fn serves(path: &str) -> bool {
    ["/rest/", "/api/", "/cls-data/"]
        .iter()
        .any(|p| path.starts_with(p))
}

/// Serves one request under `/rest/`, `/api/` or `/cls-data/`.
pub async fn serve(shared: Arc<Shared>, req: Request<Incoming>) -> Response<Body> {
    let (flavor, max) = match shared.read() {
        Some(s) => (s.flavor(), s.config.max_body),
        None => return text_reply(StatusCode::INTERNAL_SERVER_ERROR, "state unavailable\n"),
    };
    if flavor != Flavor::Vcenter {
        return text_reply(StatusCode::NOT_FOUND, "not found\n");
    }
    let path = req.uri().path().to_owned();
    if path.starts_with("/cls-data/") {
        return transfer::serve_data(shared, req).await;
    }
    let api = path.starts_with("/api/");
    let method = req.method().clone();
    let mut action = None;
    let mut query = Vec::new();
    for kv in req.uri().query().unwrap_or("").split('&') {
        if kv.is_empty() {
            continue;
        }
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        let (k, v) = (decode(k), decode(v));
        if k == "~action" || k == "action" {
            action = Some(v);
        } else {
            query.push((k, v));
        }
    }
    let creds = session::Credentials::of(&req);
    let host = req
        .headers()
        .get(hyper::header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = match Limited::new(req.into_body(), max).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            return error_reply(
                api,
                &RestError::invalid("The request body is too large or was cut off."),
            )
        }
    };
    let body = match parse_body(&body) {
        Ok(v) => v,
        Err(e) => return error_reply(api, &e),
    };
    let Some(mut guard) = shared.write() else {
        return text_reply(StatusCode::INTERNAL_SERVER_ERROR, "state unavailable\n");
    };
    let state = &mut *guard;
    if api {
        return match path.trim_end_matches('/') {
            "/api/session" => session::serve_api(state, &method, &creds),
            _ => error_reply(true, &RestError::no_operation(&method, &path)),
        };
    }
    let (resource, id) = split_path(path.trim_start_matches("/rest"));
    let mut call = Call {
        method,
        resource,
        id,
        action,
        query,
        body,
        session: None,
        read_only: false,
        host,
    };
    let answer = route(state, &creds, &mut call);
    drop(guard);
    match answer {
        Ok(v) => json_reply(StatusCode::OK, v.map(|v| json!({ "value": v }))),
        Err(e) => error_reply(false, &e),
    }
}

fn parse_body(body: &Bytes) -> Result<Value, RestError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(v @ (Value::Object(_) | Value::Null)) => Ok(v),
        Ok(_) => Err(RestError::new(
            Kind::InvalidArgument,
            "vapi.bindings.typeconverter.invalid.json",
            "The request body must be a JSON object.",
        )),
        Err(e) => Err(RestError::new(
            Kind::InvalidArgument,
            "vapi.bindings.typeconverter.invalid.json",
            format!("Unable to parse the JSON request body: {e}."),
        )),
    }
}

fn route(state: &mut State, creds: &session::Credentials, call: &mut Call) -> Answer {
    if call.resource == "com/vmware/cis/session" {
        return session::serve(state, creds, call);
    }
    let (token, read_only) = session::check(state, creds)?;
    call.session = Some(token);
    call.read_only = read_only;
    let res = call.resource.clone();
    if let Some(r) = res.strip_prefix("com/vmware/cis/tagging/") {
        return tagging::serve(state, r, call);
    }
    if let Some(r) = res.strip_prefix("com/vmware/content/") {
        return library::serve(state, r, call);
    }
    Err(RestError::no_operation(&call.method, &call.resource))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_split_into_resource_and_id() {
        assert_eq!(
            split_path("/com/vmware/cis/tagging/category/id:urn%3Avmomi%3Ax"),
            (
                "com/vmware/cis/tagging/category".into(),
                Some("urn:vmomi:x".into())
            )
        );
        assert_eq!(
            split_path("/com/vmware/cis/tagging/tag"),
            ("com/vmware/cis/tagging/tag".into(), None)
        );
    }

    #[test]
    fn malformed_bodies_are_invalid_arguments() {
        for b in [&b"{"[..], b"[1]", b"\"x\"", b"\xff\xfe"] {
            let e = parse_body(&Bytes::from_static(b)).unwrap_err();
            assert_eq!(e.kind, Kind::InvalidArgument);
        }
        assert_eq!(parse_body(&Bytes::from_static(b"  ")).unwrap(), Value::Null);
    }
}
