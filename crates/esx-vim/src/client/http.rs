//! [`HttpTransport`]: SOAP over HTTP(S) with a keep-alive pool, the session cookie, gzip,
//! bounded replies, timeouts, retries of transient failures and a tracing span per call.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::RwLock;
use std::time::Instant;

use bytes::Bytes;
use http::header::{
    HeaderValue, ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, COOKIE,
    SET_COOKIE, USER_AGENT,
};
use http::{Method, Request, Response, StatusCode, Uri};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use tracing::field::Empty;
use tracing::Instrument;

use super::body::{collect_bounded, gunzip_bounded, too_large, RequestBody};
use super::connector::{ConnectFailure, Connector};
use super::cookie::{CookieJar, SESSION_COOKIE};
use super::mask::{mask_reply_secrets, mask_secrets};
use super::options::HttpOptions;
use super::tls::client_config;
use crate::transport::{SoapCall, SoapReply, Transport, TransportError, TransportErrorKind};

/// The SOAP namespace used in `SOAPAction` (`urn:vim25/<version>`).
const VIM25: &str = "urn:vim25";

/// An HTTP(S) [`Transport`] to one vSphere endpoint (`https://host[:port]/sdk`).
///
/// Connections are pooled and kept alive; the session cookie set by the server is replayed on
/// every later request (SOAP calls and datastore transfers alike).
pub struct HttpTransport {
    client: Client<Connector, RequestBody>,
    url: Uri,
    options: HttpOptions,
    api_version: RwLock<Option<String>>,
    cookies: CookieJar,
    closed: AtomicBool,
}

impl std::fmt::Debug for HttpTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpTransport")
            .field("url", &self.url)
            .field("proxy", &self.options.proxy)
            .field("no_verify", &self.options.tls.no_verify)
            .finish_non_exhaustive()
    }
}

impl HttpTransport {
    /// A transport for the SOAP endpoint `url` (e.g. `https://esx.example/sdk`).
    ///
    /// Fails when the URL is not `http`/`https` with a host, or when the TLS trust settings
    /// cannot be loaded (unreadable CA file). Must be called inside a tokio runtime.
    pub fn new(url: &str, options: HttpOptions) -> Result<Self, TransportError> {
        let url: Uri = url.parse().map_err(|e| {
            TransportError::new(
                TransportErrorKind::Other,
                format!("invalid SOAP URL '{url}': {e}"),
            )
        })?;
        match url.scheme_str() {
            Some("http") | Some("https") => {}
            _ => {
                return Err(TransportError::new(
                    TransportErrorKind::Other,
                    format!("SOAP URL '{url}' must start with http:// or https://"),
                ))
            }
        }
        let host = url.host().unwrap_or_default();
        if host.is_empty() {
            return Err(TransportError::new(
                TransportErrorKind::Other,
                format!("SOAP URL '{url}' has no host"),
            ));
        }
        let unchecked = options.tls.no_verify && options.tls.fingerprint.is_none();
        if unchecked && url.scheme_str() == Some("https") {
            tracing::warn!(
                host,
                "TLS certificate verification is disabled (no_verify): the server's identity is not checked"
            );
        }
        let tls = client_config(&options.tls)?;
        let connector = Connector::new(tls, options.proxy.clone(), options.connect_timeout);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(options.pool_idle_timeout)
            .pool_timer(TokioTimer::new())
            .build(connector);
        Ok(Self {
            client,
            url,
            options,
            api_version: RwLock::new(None),
            cookies: CookieJar::default(),
            closed: AtomicBool::new(false),
        })
    }

    /// The SOAP endpoint URL.
    pub fn url(&self) -> &Uri {
        &self.url
    }

    /// The options this transport was built with.
    pub fn options(&self) -> &HttpOptions {
        &self.options
    }

    /// Sets the API version sent in `SOAPAction: urn:vim25/<version>` (after negotiation).
    pub fn set_api_version(&self, version: &str) {
        let mut v = self.api_version.write().unwrap_or_else(|p| p.into_inner());
        *v = Some(version.to_string());
    }

    /// The negotiated API version, if one was set.
    pub fn api_version(&self) -> Option<String> {
        self.api_version
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The `SOAPAction` header value: `urn:vim25/<version>`, or `urn:vim25` before negotiation.
    pub fn soap_action(&self) -> String {
        match self.api_version() {
            Some(v) => format!("{VIM25}/{v}"),
            None => VIM25.to_string(),
        }
    }

    /// The `vmware_soap_session` cookie value the server set, if any (a credential: never log it).
    pub fn session_cookie(&self) -> Option<String> {
        self.cookies.get(SESSION_COOKIE)
    }

    /// Replaces (or with `None` forgets) the `vmware_soap_session` cookie.
    pub fn set_session_cookie(&self, value: Option<&str>) {
        self.cookies.set(SESSION_COOKIE, value);
    }

    /// Refuses all further calls with [`TransportErrorKind::Closed`].
    pub fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
    }

    /// True once [`HttpTransport::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    /// The URL for `path_and_query` (starting with `/`) on this transport's server.
    pub fn server_url(&self, path_and_query: &str) -> Result<Uri, TransportError> {
        let scheme = self.url.scheme_str().unwrap_or("https");
        let authority = self.url.authority().map(|a| a.as_str()).unwrap_or_default();
        let s = format!("{scheme}://{authority}{path_and_query}");
        s.parse().map_err(|e| {
            TransportError::new(TransportErrorKind::Other, format!("invalid URL '{s}': {e}"))
        })
    }

    /// A plain `GET` of `path_and_query` on this server with the session cookie, reading the whole
    /// (bounded) body; e.g. `/sdk/vimServiceVersions.xml`. Returns the status and the body.
    pub async fn get_bytes(&self, path_and_query: &str) -> Result<(u16, Vec<u8>), TransportError> {
        let url = self.server_url(path_and_query)?;
        let what = format!("GET {path_and_query}");
        let started = Instant::now();
        let (status, body) = self
            .with_retries(&what, || {
                let mut req = Request::builder().method(Method::GET).uri(url.clone());
                if self.options.gzip {
                    req = req.header(ACCEPT_ENCODING, "gzip");
                }
                self.finish_request(req, RequestBody::empty(), &what)
            })
            .await?;
        tracing::debug!(
            path = path_and_query,
            status,
            bytes = body.len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "GET done"
        );
        Ok((status, body))
    }

    /// Adds the common headers and turns a builder into a request.
    pub(crate) fn finish_request(
        &self,
        mut req: http::request::Builder,
        body: RequestBody,
        what: &str,
    ) -> Result<Request<RequestBody>, TransportError> {
        if let Ok(ua) = HeaderValue::from_str(&self.options.user_agent) {
            req = req.header(USER_AGENT, ua);
        }
        if let Some(cookie) = self.cookies.header() {
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                req = req.header(COOKIE, v);
            }
        }
        req.body(body).map_err(|e| {
            TransportError::new(
                TransportErrorKind::Other,
                format!("cannot build the request for {what}: {e}"),
            )
        })
    }

    /// Sends a request built by `make` (called again for every attempt), keeps cookies, and
    /// reads the bounded, decompressed body. Connection failures and HTTP 503 are retried.
    async fn with_retries<F>(&self, what: &str, make: F) -> Result<(u16, Vec<u8>), TransportError>
    where
        F: Fn() -> Result<Request<RequestBody>, TransportError>,
    {
        let policy = &self.options.retry;
        let mut attempt = 1u32;
        loop {
            if self.is_closed() {
                return Err(TransportError::new(
                    TransportErrorKind::Closed,
                    format!("{what}: the transport is closed"),
                ));
            }
            let req = make()?;
            let result = tokio::time::timeout(self.options.request_timeout, async {
                let resp = self.send(req, what).await?;
                let status = resp.status().as_u16();
                let body = self.read_reply(resp, what).await?;
                Ok::<_, Attempt>((status, body))
            })
            .await
            .unwrap_or_else(|_| {
                Err(Attempt::Final(TransportError::new(
                    TransportErrorKind::Timeout,
                    format!(
                        "{what}: no complete reply from {} within {:?}",
                        self.host(),
                        self.options.request_timeout
                    ),
                )))
            });
            let retry_reason = match result {
                Ok((status, _)) if status == StatusCode::SERVICE_UNAVAILABLE.as_u16() => {
                    "HTTP 503 (server busy)".to_string()
                }
                Ok(reply) => return Ok(reply),
                Err(Attempt::Final(e)) => return Err(e),
                Err(Attempt::NotSent(e)) => {
                    if attempt >= policy.max_attempts {
                        return Err(e);
                    }
                    e.to_string()
                }
            };
            if attempt >= policy.max_attempts {
                return Err(TransportError::new(
                    TransportErrorKind::Http,
                    format!(
                        "{what}: {} is overloaded (HTTP 503) after {attempt} attempts",
                        self.host()
                    ),
                ));
            }
            let delay = policy.backoff(attempt);
            tracing::info!(attempt, delay_ms = delay.as_millis() as u64, reason = %retry_reason, "{what}: retrying");
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    fn host(&self) -> &str {
        self.url.host().unwrap_or("?")
    }

    /// Sends a request and keeps the cookies from the reply headers.
    pub(crate) async fn send(
        &self,
        req: Request<RequestBody>,
        what: &str,
    ) -> Result<Response<Incoming>, Attempt> {
        let resp = self
            .client
            .request(req)
            .await
            .map_err(|e| classify(e, what))?;
        for value in resp.headers().get_all(SET_COOKIE) {
            if let Ok(v) = value.to_str() {
                self.cookies.store_set_cookie(v);
            }
        }
        Ok(resp)
    }

    async fn read_reply(&self, resp: Response<Incoming>, what: &str) -> Result<Vec<u8>, Attempt> {
        let limit = self.options.max_response_bytes;
        let declared = resp
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > limit) {
            return Err(Attempt::Final(too_large(what, limit)));
        }
        let gzip = resp
            .headers()
            .get(CONTENT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("gzip"));
        let raw = collect_bounded(resp.into_body(), limit, what)
            .await
            .map_err(Attempt::Final)?;
        if gzip {
            gunzip_bounded(&raw, limit, what).map_err(Attempt::Final)
        } else {
            Ok(raw)
        }
    }
}

/// The outcome of a failed attempt: whether the request certainly never left.
pub(crate) enum Attempt {
    /// The connection could not be made: sending again is safe.
    NotSent(TransportError),
    /// The request may have reached the server (or the failure is not transient).
    Final(TransportError),
}

impl From<Attempt> for TransportError {
    fn from(a: Attempt) -> Self {
        match a {
            Attempt::NotSent(e) | Attempt::Final(e) => e,
        }
    }
}

/// Sorts a hyper client error into a [`TransportError`] and whether it may be retried.
fn classify(e: hyper_util::client::legacy::Error, what: &str) -> Attempt {
    let connect = e.is_connect();
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(s) = source {
        if let Some(cf) = s.downcast_ref::<ConnectFailure>() {
            let err = TransportError::new(cf.kind, format!("{what}: {}", cf.message));
            return if connect && cf.kind.is_transient() {
                Attempt::NotSent(err)
            } else {
                Attempt::Final(err)
            };
        }
        source = s.source();
    }
    let detail = error_chain(&e);
    if connect {
        Attempt::NotSent(
            TransportError::new(TransportErrorKind::Connect, format!("{what}: {detail}"))
                .with_source(e),
        )
    } else {
        Attempt::Final(
            TransportError::new(TransportErrorKind::Io, format!("{what}: {detail}")).with_source(e),
        )
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if parts.last() != Some(&text) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

/// A short random id for the `operationID` header, to match calls up in server logs.
pub(crate) fn operation_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    format!("esx-{:08x}", h.finish() as u32)
}

#[async_trait::async_trait]
impl Transport for HttpTransport {
    async fn round_trip(&self, call: SoapCall<'_>) -> Result<SoapReply, TransportError> {
        let op_id = operation_id();
        let moref = call
            .this
            .map(|(t, v)| format!("{t}:{v}"))
            .unwrap_or_default();
        let span = tracing::info_span!(
            "soap",
            method = call.method,
            moref = %moref,
            op = %op_id,
            status = Empty,
            bytes = Empty,
            duration_ms = Empty,
        );
        let started = Instant::now();
        let method = call.method;
        let recorder = span.clone();
        async move {
            if tracing::enabled!(tracing::Level::TRACE) {
                tracing::trace!(body = %mask_secrets(&String::from_utf8_lossy(&call.body)), "request");
            }
            let body = Bytes::from(call.body);
            let action = self.soap_action();
            let what = format!("{method} on {}", self.host());
            let result = self
                .with_retries(&what, || {
                    let mut req = Request::builder()
                        .method(Method::POST)
                        .uri(self.url.clone())
                        .header(CONTENT_TYPE, "text/xml; charset=utf-8")
                        .header("SOAPAction", action.as_str())
                        .header("operationID", op_id.as_str());
                    if self.options.gzip {
                        req = req.header(ACCEPT_ENCODING, "gzip");
                    }
                    self.finish_request(req, RequestBody::full(body.clone()), &what)
                })
                .await;
            recorder.record("duration_ms", started.elapsed().as_millis() as u64);
            let (status, body) = match result {
                Ok(r) => r,
                Err(e) => {
                    tracing::debug!(error = %e, "call failed");
                    return Err(e);
                }
            };
            recorder.record("status", status);
            recorder.record("bytes", body.len() as u64);
            if tracing::enabled!(tracing::Level::TRACE) {
                tracing::trace!(body = %mask_reply_secrets(method, &String::from_utf8_lossy(&body)), "reply");
            }
            tracing::debug!(status, bytes = body.len(), "call done");
            if (200..300).contains(&status) || status == 500 {
                Ok(SoapReply { status, body })
            } else {
                Err(unexpected_status(status, &body, &what))
            }
        }
        .instrument(span)
        .await
    }
}

/// A non-SOAP status (not 2xx, not a 500 fault) as a typed error with a short masked excerpt.
fn unexpected_status(status: u16, body: &[u8], what: &str) -> TransportError {
    let text = mask_secrets(&String::from_utf8_lossy(body));
    let excerpt: String = text.chars().take(200).collect();
    let kind = if status == 401 || status == 403 {
        TransportErrorKind::Session
    } else {
        TransportErrorKind::Http
    };
    TransportError::new(
        kind,
        format!(
            "{what}: unexpected HTTP status {status}: {}",
            excerpt.trim()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_ids_differ() {
        let a = operation_id();
        let b = operation_id();
        assert_ne!(a, b);
        assert!(a.starts_with("esx-") && a.len() == 12, "{a}");
    }

    #[tokio::test]
    async fn rejects_bad_urls() {
        assert!(HttpTransport::new("ftp://host/sdk", HttpOptions::default()).is_err());
        assert!(HttpTransport::new("not a url", HttpOptions::default()).is_err());
        let t = HttpTransport::new("https://127.0.0.1:8989/sdk", HttpOptions::default())
            .expect("valid");
        assert_eq!(t.soap_action(), "urn:vim25");
        t.set_api_version("6.5");
        assert_eq!(t.soap_action(), "urn:vim25/6.5");
        assert_eq!(
            t.server_url("/folder/a?dsName=b").expect("url").to_string(),
            "https://127.0.0.1:8989/folder/a?dsName=b"
        );
    }

    #[test]
    fn unexpected_status_masks() {
        let e = unexpected_status(404, b"<password>x</password> not here", "Login on h");
        assert_eq!(e.kind, TransportErrorKind::Http);
        assert!(
            e.message.contains("404") && !e.message.contains(">x<"),
            "{}",
            e.message
        );
    }
}
