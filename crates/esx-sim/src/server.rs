//! The HTTPS server: `/sdk` SOAP, the version and WSDL files, `/folder` datastore files and
//! `/screen` console pictures.

use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use bytes::Bytes;
use esx_vim::codec::{soap, Decoder};
use esx_vim::Request;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request as HttpRequest, Response as HttpResponse, StatusCode};

use crate::fault::Fault;
use crate::state::{Ctx, State};

/// Shared between connections.
pub struct Shared {
    /// The state: calls that only read it (see [`crate::dispatch::handle_read`]) share it,
    /// every other call has it alone.
    pub state: RwLock<State>,
    /// Bumped after every change; `WaitForUpdates` waits on it.
    pub changes: tokio::sync::watch::Sender<u64>,
}

impl Shared {
    /// Shared access to the state (`None` if a panic poisoned it).
    pub fn read(&self) -> Option<RwLockReadGuard<'_, State>> {
        self.state.read().ok()
    }

    /// Exclusive access to the state, counted as a change ([`State::changed`]).
    pub fn write(&self) -> Option<RwLockWriteGuard<'_, State>> {
        let mut g = self.state.write().ok()?;
        g.changed();
        Some(g)
    }
}

/// A response body: a small one held in memory, or a file streamed from disk.
pub type Body = http_body_util::combinators::BoxBody<Bytes, std::io::Error>;

type Resp = HttpResponse<Body>;

/// A body held in memory.
pub fn full(body: impl Into<Bytes>) -> Body {
    Full::new(body.into())
        .map_err(|never| match never {})
        .boxed()
}

/// A response with an in-memory body, boxed.
pub fn boxed(r: HttpResponse<Full<Bytes>>) -> Resp {
    r.map(|b| b.map_err(|never| match never {}).boxed())
}

fn reply(status: StatusCode, ctype: &str, body: impl Into<Bytes>) -> Resp {
    let mut r = HttpResponse::new(full(body));
    *r.status_mut() = status;
    if let Ok(v) = ctype.parse() {
        r.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
    }
    r
}

fn fault_reply(f: &Fault) -> Resp {
    reply(
        StatusCode::INTERNAL_SERVER_ERROR,
        "text/xml; charset=utf-8",
        soap::encode_fault(&f.to_soap()),
    )
}

fn client_fault(msg: &str) -> Resp {
    let f = soap::SoapFault {
        code: "ClientFaultCode".into(),
        string: msg.to_owned(),
        detail: None,
        detail_type: None,
    };
    reply(
        StatusCode::INTERNAL_SERVER_ERROR,
        "text/xml; charset=utf-8",
        soap::encode_fault(&f),
    )
}

/// The value of cookie `name` in a request (quotes removed).
pub fn cookie_value(req: &HttpRequest<Incoming>, name: &str) -> Option<String> {
    req.headers()
        .get_all(hyper::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|s| s.split(';'))
        .find_map(|p| {
            p.trim()
                .strip_prefix(name)
                .and_then(|v| v.strip_prefix('='))
                .map(|v| v.trim_matches('"').to_owned())
        })
}

fn cookie_session(req: &HttpRequest<Incoming>) -> Option<String> {
    cookie_value(req, "vmware_soap_session")
}

const VERSIONS: &str = r#"<?xml version="1.0" encoding="UTF-8" ?>
<namespaces version="1.0">
 <namespace>
  <name>urn:vim25</name>
  <version>7.0.3.0</version>
  <priorVersions>
   <version>6.7.3</version>
   <version>6.7</version>
   <version>6.5</version>
   <version>6.0</version>
   <version>5.5</version>
   <version>5.1</version>
   <version>5.0</version>
   <version>4.1</version>
   <version>4.0</version>
   <version>2.5u2</version>
   <version>2.5</version>
  </priorVersions>
 </namespace>
</namespaces>
"#;

/// A connection closed on purpose (fault injection), without an answer.
#[derive(Debug, thiserror::Error)]
#[error("connection dropped by fault injection")]
pub struct Dropped;

/// Serves one HTTP request (`Err` closes the connection unanswered).
pub async fn serve(shared: Arc<Shared>, req: HttpRequest<Incoming>) -> Result<Resp, Dropped> {
    let path = req.uri().path().to_owned();
    let resp = match (req.method(), path.as_str()) {
        (&Method::GET, "/sdk/vimServiceVersions.xml") => {
            reply(StatusCode::OK, "text/xml", VERSIONS)
        }
        (&Method::GET, p)
            if p.starts_with("/sdk/") && (p.ends_with(".wsdl") || p.ends_with(".xsd")) =>
        {
            wsdl(&shared, p)
        }
        (&Method::POST, "/sdk") | (&Method::POST, "/sdk/") => soap_call(shared, req).await?,
        (_, p) if p.starts_with("/folder") => crate::folder_api::handle(shared, req).await,
        (_, "/screen") => boxed(crate::screen::handle(shared, req).await),
        (_, p) if p.starts_with("/nfc/") => crate::mo::http_nfc_lease::serve(shared, req).await,
        (_, "/guestFile") => crate::mo::guest_operations::serve(shared, req).await,
        (_, p) if crate::rest::serves(p) => crate::rest::serve(shared, req).await,
        _ => reply(StatusCode::NOT_FOUND, "text/plain", "not found\n"),
    };
    Ok(resp)
}

fn wsdl(shared: &Shared, p: &str) -> Resp {
    let dir = shared.read().and_then(|s| s.config.wsdl_dir.clone());
    let name = p.trim_start_matches("/sdk/");
    match dir.and_then(|d| crate::files::safe_join(&d, name)) {
        Some(f) => match std::fs::read(f) {
            Ok(b) => reply(StatusCode::OK, "text/xml", b),
            Err(_) => reply(StatusCode::NOT_FOUND, "text/plain", "not found\n"),
        },
        None => reply(StatusCode::NOT_FOUND, "text/plain", "not found\n"),
    }
}

/// Methods that need no session.
fn public(method: &str) -> bool {
    matches!(
        method,
        "RetrieveServiceContent" | "Login" | "CloneSession" | "CurrentTime"
    )
}

/// Reads of the `SessionManager`'s own properties, which vSphere answers without a session
/// (`currentSession` is then unset): clients check it to decide whether to log in again.
fn session_manager_read(request: &Request) -> bool {
    let specs = match request {
        Request::RetrieveProperties(q) => &q.spec_set,
        Request::RetrievePropertiesEx(q) => &q.spec_set,
        _ => return false,
    };
    !specs.is_empty()
        && specs.iter().all(|s| {
            s.prop_set.iter().all(|p| p.r#type == "SessionManager")
                && s.object_set
                    .iter()
                    .all(|o| o.obj.r#type == "SessionManager" && o.select_set.is_empty())
        })
}

/// The live session named by the request's cookie, refreshed; `None` if expired or absent.
pub fn live_session(state: &mut State, cookie: Option<&str>) -> Option<String> {
    let key = cookie?;
    let timeout = state.config.session_timeout;
    let ttl = state.injector.session_ttl();
    let s = state.sessions.get(key)?;
    if s.activity.idle() > timeout || ttl.is_some_and(|t| s.started.elapsed() > t) {
        state.sessions.remove(key);
        return None;
    }
    s.activity.touch();
    Some(key.to_owned())
}

/// A session that has expired but is still listed: only [`live_session`], with exclusive
/// access, removes it.
struct Expired;

/// [`live_session`] with shared access: the live session, refreshed, or `None` when there is
/// no cookie or no such session; `Err` when the session has expired.
fn shared_session(state: &State, cookie: Option<&str>) -> Result<Option<String>, Expired> {
    let Some(key) = cookie else { return Ok(None) };
    let Some(s) = state.sessions.get(key) else {
        return Ok(None);
    };
    let ttl = state.injector.session_ttl();
    if s.activity.idle() > state.config.session_timeout
        || ttl.is_some_and(|t| s.started.elapsed() > t)
    {
        return Err(Expired);
    }
    s.activity.touch();
    Ok(Some(key.to_owned()))
}

/// Records the user agent of a call that logged in (one answered with a session cookie).
/// Every other call leaves the state alone: exclusive access counts as a change and would
/// throw away every kept encoding (`crate::encoded`) and serialise the readers.
fn remember_agent(shared: &Shared, resp: &Resp, agent: Option<String>) {
    let Some(agent) = agent else { return };
    let Some(key) = resp
        .headers()
        .get(hyper::header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("vmware_soap_session=\""))
        .and_then(|v| v.split('"').next())
    else {
        return;
    };
    if let Some(mut s) = shared.write() {
        crate::mo::session_manager::set_agent(&mut s, key, agent);
    }
}

/// A SOAP call after fault injection has had its say (`Err`: drop the connection).
async fn soap_call(shared: Arc<Shared>, req: HttpRequest<Incoming>) -> Result<Resp, Dropped> {
    let cookie = cookie_session(&req);
    let agent = req
        .headers()
        .get(hyper::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let max = shared.read().map(|s| s.config.max_body).unwrap_or(1 << 20);
    let mut incoming = req.into_body();
    let body = match Limited::new(&mut incoming, max).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            // Read (a bounded amount of) the rest, so that the client, still sending, reads
            // the answer instead of a reset connection.
            let mut left: u64 = 64 << 20;
            while let Some(Ok(f)) = incoming.frame().await {
                let n = f.data_ref().map_or(0, |d| d.len() as u64);
                left = left.saturating_sub(n);
                if left == 0 {
                    break;
                }
            }
            return Ok(reply(
                StatusCode::PAYLOAD_TOO_LARGE,
                "text/plain",
                "request body too large\n",
            ));
        }
    };
    let rules = shared.read().is_some_and(|s| s.injector.has_call_rules());
    let plan = match rules.then(|| shared.write()).flatten() {
        Some(mut s) => {
            let mut r = Decoder::new(&body);
            let method = match soap::read_body(&mut r) {
                Ok(soap::Body::Element(el)) => el.name_str(),
                _ => String::new(),
            };
            s.injector.on_call(&method)
        }
        _ => Default::default(),
    };
    if !plan.delay.is_zero() {
        tokio::time::sleep(plan.delay).await;
    }
    if plan.drop {
        return Err(Dropped);
    }
    if let Some(code) = plan.status {
        let status = StatusCode::from_u16(code).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        return Ok(reply(status, "text/plain", "injected failure\n"));
    }
    let resp = soap_body(shared.clone(), cookie, body).await;
    remember_agent(&shared, &resp, agent);
    if plan.cut {
        return Ok(cut_off(resp).await);
    }
    Ok(resp)
}

/// The answer of a call that was carried out, cut off halfway (`cut:` fault injection): the
/// status line, the headers with the whole length, half the body, then the connection closes.
async fn cut_off(resp: Resp) -> Resp {
    let (mut parts, body) = resp.into_parts();
    let whole = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    parts
        .headers
        .insert(hyper::header::CONTENT_LENGTH, whole.len().into());
    let half = whole.slice(..whole.len() / 2);
    HttpResponse::from_parts(parts, CutBody { half: Some(half) }.boxed())
}

/// A body that yields its first half, then fails (which makes hyper close the connection).
struct CutBody {
    half: Option<Bytes>,
}

impl hyper::body::Body for CutBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, std::io::Error>>> {
        std::task::Poll::Ready(Some(match self.half.take() {
            Some(b) => Ok(hyper::body::Frame::data(b)),
            None => Err(std::io::Error::other("answer cut off by fault injection")),
        }))
    }
}

/// A SOAP request body, decoded.
#[derive(Debug)]
pub enum Decoded {
    /// A vim25 operation.
    Call(Box<Request>),
    /// pyVmomi's `Fetch`.
    Fetch(crate::fetch::FetchRequest),
}

/// Why a request body is not a call the simulator can dispatch.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// Not a SOAP envelope with a body element.
    #[error("malformed request: {0}")]
    Malformed(String),
    /// The body holds a fault.
    #[error("a request cannot be a fault")]
    Fault,
    /// No operation has this name.
    #[error("unknown method {0}")]
    UnknownMethod(String),
    /// The operation's parameters do not decode.
    #[error("cannot decode {method}: {message}")]
    Invalid {
        /// The operation.
        method: String,
        /// What was wrong.
        message: String,
    },
}

/// Decodes a `POST /sdk` body into the call it makes.
pub fn decode_request(body: &[u8]) -> Result<Decoded, RequestError> {
    let mut r = Decoder::new(body);
    let el = match soap::read_body(&mut r) {
        Ok(soap::Body::Element(el)) => el,
        Ok(soap::Body::Fault(_)) => return Err(RequestError::Fault),
        Err(e) => return Err(RequestError::Malformed(e.to_string())),
    };
    let method = el.name_str();
    let invalid = |e: esx_vim::codec::DecodeError| RequestError::Invalid {
        method: method.clone(),
        message: e.to_string(),
    };
    if method == "Fetch" {
        return crate::fetch::decode(&mut r, &el)
            .map(Decoded::Fetch)
            .map_err(invalid);
    }
    match Request::decode_for(&mut r, &el, &method) {
        Ok(Some(q)) => Ok(Decoded::Call(Box::new(q))),
        Ok(None) => Err(RequestError::UnknownMethod(method.clone())),
        Err(e) => Err(invalid(e)),
    }
}

async fn soap_body(shared: Arc<Shared>, cookie: Option<String>, body: Bytes) -> Resp {
    let request = match decode_request(&body) {
        Ok(Decoded::Call(q)) => *q,
        Ok(Decoded::Fetch(q)) => return fetch(&shared, cookie, q),
        Err(RequestError::UnknownMethod(method)) => {
            let f = Fault::method_not_found(
                &esx_vim::ManagedObjectReference::new("ServiceInstance", "ServiceInstance"),
                &method,
            );
            return fault_reply(&f);
        }
        Err(e) => return client_fault(&e.to_string()),
    };
    let method = request.method();
    tracing::debug!(method = %method, "SOAP call");
    if matches!(
        request,
        Request::WaitForUpdates(_) | Request::WaitForUpdatesEx(_)
    ) {
        return wait_for_updates(shared, cookie, request).await;
    }
    if crate::dispatch::is_shared_read(&request) {
        if let Some(resp) = shared_read(&shared, cookie.as_deref(), &request) {
            return resp;
        }
    }
    let Some(mut guard) = shared.write() else {
        return client_fault("server state unavailable");
    };
    let state = &mut *guard;
    let session = live_session(state, cookie.as_deref());
    let ctx = Ctx {
        session: session.clone(),
        encoded: false,
    };
    let this = crate::dispatch::this_of(&request).unwrap_or_default();
    if session.is_none() && !public(method) && !session_manager_read(&request) {
        return fault_reply(&Fault::not_authenticated(&this));
    }
    // Permissions are checked in `dispatch::handle` (see `mo::authorization_manager::check`).
    let result = crate::dispatch::handle(state, &ctx, request, &crate::tls::session_key);
    drop(guard);
    // Allowed to read-only users, yet they change what a waiting collector sees.
    let notifies = matches!(
        method,
        "Login" | "CloneSession" | "ModifyListView" | "ResetListView" | "ResetListViewFromView"
    );
    if !crate::dispatch::is_read_only(method) || notifies {
        shared.changes.send_modify(|v| *v += 1);
    }
    respond(result)
}

/// A call that only reads the state, answered under the read lock; `None` when it needs the
/// exclusive path (an expired session to remove).
fn shared_read(shared: &Shared, cookie: Option<&str>, request: &Request) -> Option<Resp> {
    let method = request.method();
    let guard = shared.read()?;
    let session = shared_session(&guard, cookie).ok()?;
    if session.is_none() && !public(method) && !session_manager_read(request) {
        let this = crate::dispatch::this_of(request).unwrap_or_default();
        return Some(fault_reply(&Fault::not_authenticated(&this)));
    }
    // Every shared read is allowed to read-only users too. The reply is encoded below, under
    // no lock, so values may come kept encoded.
    let ctx = Ctx {
        session,
        encoded: true,
    };
    if let Some(xml) = crate::dispatch::handle_read_xml(&guard, &ctx, request) {
        drop(guard);
        return Some(match xml {
            Ok(body) => reply(StatusCode::OK, "text/xml; charset=utf-8", body),
            Err(f) => fault_reply(&f),
        });
    }
    let result = crate::dispatch::handle_read(&guard, &ctx, request)?;
    drop(guard);
    Some(respond(result.map(|r| (r, None))))
}

/// The HTTP reply for a call's result (with the session cookie after `Login`).
fn respond(result: crate::fault::MethodResult<(esx_vim::Response, Option<String>)>) -> Resp {
    match result {
        Ok((resp, new_session)) => {
            let xml = resp.to_envelope();
            let mut out = reply(StatusCode::OK, "text/xml; charset=utf-8", xml);
            if let Some(k) = new_session {
                if let Ok(v) =
                    format!("vmware_soap_session=\"{k}\"; Path=/; HttpOnly; Secure;").parse()
                {
                    out.headers_mut().insert(hyper::header::SET_COOKIE, v);
                }
            }
            out
        }
        Err(f) => fault_reply(&f),
    }
}

async fn wait_for_updates(shared: Arc<Shared>, cookie: Option<String>, request: Request) -> Resp {
    let (this, max_wait, ex) = match &request {
        Request::WaitForUpdatesEx(q) => (
            q.this.clone(),
            q.options.as_ref().and_then(|o| o.max_wait_seconds),
            true,
        ),
        Request::WaitForUpdates(q) => (q.this.clone(), None, false),
        _ => return client_fault("not a wait"),
    };
    let deadline =
        max_wait.map(|s| tokio::time::Instant::now() + Duration::from_secs(s.max(0) as u64));
    let mut rx = shared.changes.subscribe();
    loop {
        rx.borrow_and_update();
        let polled = {
            let Some(mut guard) = shared.write() else {
                return client_fault("server state unavailable");
            };
            let state = &mut *guard;
            let Some(session) = live_session(state, cookie.as_deref()) else {
                return fault_reply(&Fault::not_authenticated(&this));
            };
            crate::mo::property_collector::poll_updates(
                state,
                &Ctx {
                    session: Some(session),
                    encoded: false,
                },
                &this,
            )
        };
        match polled {
            Err(f) => return fault_reply(&f),
            Ok(Some(set)) => {
                let resp = if ex {
                    esx_vim::Response::WaitForUpdatesEx(Box::new(
                        esx_vim::WaitForUpdatesExResponse {
                            returnval: Some(set),
                        },
                    ))
                } else {
                    esx_vim::Response::WaitForUpdates(Box::new(esx_vim::WaitForUpdatesResponse {
                        returnval: set,
                    }))
                };
                return reply(
                    StatusCode::OK,
                    "text/xml; charset=utf-8",
                    resp.to_envelope(),
                );
            }
            Ok(None) => {}
        }
        let changed = match deadline {
            Some(d) => tokio::time::timeout_at(d, rx.changed()).await.is_ok(),
            None => rx.changed().await.is_ok(),
        };
        if !changed {
            let resp =
                esx_vim::Response::WaitForUpdatesEx(Box::new(esx_vim::WaitForUpdatesExResponse {
                    returnval: None,
                }));
            return reply(
                StatusCode::OK,
                "text/xml; charset=utf-8",
                resp.to_envelope(),
            );
        }
    }
}

/// Answers pyVmomi's `Fetch` (one property of one object).
fn fetch(shared: &Shared, cookie: Option<String>, q: crate::fetch::FetchRequest) -> Resp {
    let Some(mut guard) = shared.write() else {
        return client_fault("server state unavailable");
    };
    let state = &mut *guard;
    let session = live_session(state, cookie.as_deref());
    if session.is_none() && q.this.r#type != "SessionManager" {
        return fault_reply(&Fault::not_authenticated(&q.this));
    }
    let ctx = Ctx {
        session,
        encoded: false,
    };
    let value = state
        .lookup(&q.this)
        .map(|_| ())
        .and_then(|_| crate::property::read(state, &ctx, &q.this, &q.prop));
    match value {
        Ok(returnval) => reply(
            StatusCode::OK,
            "text/xml; charset=utf-8",
            soap::encode_response("Fetch", &crate::fetch::FetchResponse { returnval }),
        ),
        Err(f) => fault_reply(&f),
    }
}
