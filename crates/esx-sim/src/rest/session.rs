//! `com/vmware/cis/session` (and `/api/session`): REST login with HTTP Basic credentials or a
//! SOAP session cookie, session info, logout.
//!
//! Credentials are checked by the SOAP `Login` itself ([`crate::mo::session_manager::login`]),
//! so that both APIs accept exactly the same users; the REST session is kept apart from the
//! SOAP sessions, as vCenter keeps them, and expires after the same idle time (or the injected
//! session lifetime, `session-ttl=`).

use base64::Engine as _;
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{json, Value};

use super::{json_reply, timestamp, Answer, Call, Kind, RestError};
use crate::server::{cookie_value, live_session, Body};
use crate::state::{Activity, State};

/// The header carrying a REST session token.
pub const HEADER: &str = "vmware-api-session-id";

/// One REST session.
#[derive(Debug, Clone)]
pub struct RestSession {
    /// Who logged in.
    pub user: String,
    /// Whether the user may only read.
    pub read_only: bool,
    /// When (vAPI timestamp).
    pub created: String,
    /// Last use, for the idle timeout.
    pub activity: Activity,
    /// When it logged in (for an injected session lifetime, `session-ttl=`).
    pub started: std::time::Instant,
}

/// What a request offers to authenticate itself.
#[derive(Debug, Default)]
pub struct Credentials {
    /// HTTP Basic user and password (`None` when absent; `Some(None)` when malformed).
    basic: Option<Option<(String, String)>>,
    /// The `vmware_soap_session` cookie.
    soap: Option<String>,
    /// The `vmware-api-session-id` header.
    token: Option<String>,
}

impl Credentials {
    /// The credentials of `req`.
    pub fn of(req: &Request<Incoming>) -> Credentials {
        let basic = req
            .headers()
            .get(hyper::header::AUTHORIZATION)
            .map(|v| v.to_str().ok().and_then(parse_basic));
        let token = req
            .headers()
            .get(HEADER)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty());
        Credentials {
            basic,
            soap: cookie_value(req, "vmware_soap_session"),
            token,
        }
    }
}

/// `Basic <base64(user:password)>` → (user, password).
fn parse_basic(h: &str) -> Option<(String, String)> {
    let (scheme, rest) = h.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(rest.trim())
        .ok()?;
    let s = String::from_utf8(raw).ok()?;
    let (u, p) = s.split_once(':')?;
    Some((u.to_owned(), p.to_owned()))
}

/// The live REST session of `creds` (token, read-only), refreshed; `unauthenticated` when
/// there is none or it has expired (an expired one is removed).
pub fn check(state: &mut State, creds: &Credentials) -> Result<(String, bool), RestError> {
    let token = creds
        .token
        .as_deref()
        .ok_or_else(RestError::unauthenticated)?;
    let timeout = state.config.session_timeout;
    let ttl = state.injector.session_ttl();
    let rest = &mut state.managers.rest;
    let Some(s) = rest.sessions.get(token) else {
        return Err(RestError::unauthenticated());
    };
    if s.activity.idle() > timeout || ttl.is_some_and(|t| s.started.elapsed() > t) {
        rest.sessions.remove(token);
        return Err(RestError::unauthenticated());
    }
    s.activity.touch();
    Ok((token.to_owned(), s.read_only))
}

/// Logs in with the request's Basic credentials, or else its SOAP session; the new token.
fn login(state: &mut State, creds: &Credentials) -> Result<String, RestError> {
    let (user, read_only) = match &creds.basic {
        Some(Some((user, password))) => {
            let probe = format!("rest-login-{}", crate::tls::session_key());
            let ok = crate::mo::session_manager::login(state, user, password, probe.clone());
            state.sessions.remove(&probe);
            if ok.is_err() {
                return Err(RestError::unauthenticated());
            }
            let ro = state.config.user != *user;
            (user.clone(), ro)
        }
        Some(None) => return Err(RestError::unauthenticated()),
        None => {
            let key = live_session(state, creds.soap.as_deref())
                .ok_or_else(RestError::unauthenticated)?;
            let s = state
                .sessions
                .get(&key)
                .ok_or_else(RestError::unauthenticated)?;
            (s.user.clone(), s.read_only)
        }
    };
    let token = crate::tls::session_key().replace('-', "");
    state.managers.rest.sessions.insert(
        token.clone(),
        RestSession {
            user,
            read_only,
            created: timestamp(),
            activity: Activity::new(),
            started: std::time::Instant::now(),
        },
    );
    Ok(token)
}

fn info(state: &State, token: &str) -> Value {
    match state.managers.rest.sessions.get(token) {
        Some(s) => json!({
            "user": s.user,
            "created_time": s.created,
            "last_accessed_time": timestamp(),
        }),
        None => Value::Null,
    }
}

/// `com/vmware/cis/session`: `POST` logs in, `POST ?~action=get` or `GET` tells the session,
/// `DELETE` logs out.
pub fn serve(state: &mut State, creds: &Credentials, call: &Call) -> Answer {
    if call.id.is_some() {
        return Err(RestError::no_operation(&call.method, &call.resource));
    }
    match (&call.method, call.action.as_deref()) {
        (&Method::POST, None | Some("create")) => Ok(Some(Value::String(login(state, creds)?))),
        (&Method::POST, Some("get")) | (&Method::GET, None) => {
            let (token, _) = check(state, creds)?;
            Ok(Some(info(state, &token)))
        }
        (&Method::DELETE, None) | (&Method::POST, Some("delete")) => {
            let (token, _) = check(state, creds)?;
            state.managers.rest.sessions.remove(&token);
            Ok(None)
        }
        _ => Err(RestError::no_operation(&call.method, &call.resource)),
    }
}

/// `/api/session`: `POST` answers the bare token (201), `GET` the session, `DELETE` logs out
/// (204); errors in the `/api` form.
pub fn serve_api(state: &mut State, method: &Method, creds: &Credentials) -> Response<Body> {
    let result = match *method {
        Method::POST => login(state, creds).map(|t| (StatusCode::CREATED, Some(Value::String(t)))),
        Method::GET => check(state, creds).map(|(t, _)| (StatusCode::OK, Some(info(state, &t)))),
        Method::DELETE => check(state, creds).map(|(t, _)| {
            state.managers.rest.sessions.remove(&t);
            (StatusCode::NO_CONTENT, None)
        }),
        _ => Err(RestError::new(
            Kind::OperationNotFound,
            "vapi.method.input.invalid.interface",
            format!("No operation for {method} /api/session."),
        )),
    };
    match result {
        Ok((status, body)) => json_reply(status, body),
        Err(e) => super::error_reply(true, &e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_parse() {
        assert_eq!(
            parse_basic("Basic cm9vdDpwYTpzcw=="),
            Some(("root".into(), "pa:ss".into()))
        );
        assert_eq!(parse_basic("Bearer x"), None);
        assert_eq!(parse_basic("Basic !!!"), None);
    }
}
