//! Opening connections with hyper-util's connectors: `HttpConnector` for TCP, `Tunnel`
//! (HTTP CONNECT), `SocksV4` (SOCKS4/4a) and `SocksV5` for proxies, hyper-rustls for TLS.
//! What is ours: their configuration, the connect timeout, local name resolution for SOCKS4
//! and SOCKS5, and turning their errors into [`TransportErrorKind`]s with messages that say
//! what failed.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use http::Uri;
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder, MaybeHttpsStream};
use hyper_util::client::legacy::connect::proxy::{SocksV4, SocksV5, Tunnel};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioIo;
use rustls::ClientConfig;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tower_service::Service;

use super::options::{ProxyAuth, ProxyConfig, ProxyKind};
use super::tls::tls_failure_message;
use crate::transport::TransportErrorKind;

type BoxFuture<T> = Pin<Box<dyn Future<Output = Result<T, ConnectFailure>> + Send>>;
type Tcp = TokioIo<TcpStream>;

/// Why a connection could not be opened; carried through hyper's error chain and turned back
/// into a [`crate::transport::TransportError`] of the same kind.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub(crate) struct ConnectFailure {
    pub(crate) kind: TransportErrorKind,
    pub(crate) message: String,
    #[source]
    pub(crate) source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl ConnectFailure {
    fn new(kind: TransportErrorKind, message: String) -> Self {
        Self {
            kind,
            message,
            source: None,
        }
    }

    fn with(
        kind: TransportErrorKind,
        message: String,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Self {
            kind,
            message,
            source: Some(source.into()),
        }
    }
}

/// The connector handed to hyper's pooled client: hyper-rustls over [`TcpOrProxy`], bounded
/// by the connect timeout (TCP, proxy tunnel and TLS handshake together).
#[derive(Clone)]
pub(crate) struct Connector {
    https: HttpsConnector<TcpOrProxy>,
    timeout: Duration,
}

impl Connector {
    pub(crate) fn new(tls: ClientConfig, proxy: Option<ProxyConfig>, timeout: Duration) -> Self {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        let proxy = proxy.map(|config| {
            let host = bracketed(&config.host);
            let uri = format!("http://{host}:{}", config.port).parse().ok();
            Arc::new(Proxy { config, uri })
        });
        let https = HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(TcpOrProxy { http, proxy });
        Self { https, timeout }
    }
}

impl Service<Uri> for Connector {
    type Response = MaybeHttpsStream<Tcp>;
    type Error = ConnectFailure;
    type Future = BoxFuture<Self::Response>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let timeout = self.timeout;
        let target = match Target::from_uri(&uri) {
            Ok(t) => t,
            Err(e) => return Box::pin(async move { Err(e) }),
        };
        let connecting = self.https.call(target.uri.clone());
        Box::pin(async move {
            match tokio::time::timeout(timeout, connecting).await {
                Ok(Ok(stream)) => Ok(stream),
                Ok(Err(e)) => Err(match e.downcast::<ConnectFailure>() {
                    Ok(failure) => *failure,
                    Err(e) => {
                        let message = tls_failure_message(&target.host, &*e);
                        ConnectFailure::with(TransportErrorKind::Tls, message, e)
                    }
                }),
                Err(_) => Err(ConnectFailure::new(
                    TransportErrorKind::Timeout,
                    format!(
                        "connecting to {}:{} took longer than {timeout:?}",
                        target.host, target.port
                    ),
                )),
            }
        })
    }
}

/// The server a connection goes to; `uri` spells the port out, since hyper-util's proxy
/// connectors assume 443 when it is missing.
struct Target {
    uri: Uri,
    host: String,
    port: u16,
}

impl Target {
    fn from_uri(uri: &Uri) -> Result<Self, ConnectFailure> {
        let default_port = match uri.scheme_str() {
            Some("https") => 443,
            Some("http") => 80,
            other => {
                return Err(ConnectFailure::new(
                    TransportErrorKind::Other,
                    format!(
                        "unsupported URL scheme '{}' in '{uri}'",
                        other.unwrap_or("")
                    ),
                ))
            }
        };
        let no_host = || {
            ConnectFailure::new(
                TransportErrorKind::Other,
                format!("URL '{uri}' has no host"),
            )
        };
        let host = uri.host().ok_or_else(no_host)?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let port = uri.port_u16().unwrap_or(default_port);
        let scheme = uri.scheme_str().unwrap_or("https");
        let uri = format!("{scheme}://{}:{port}/", bracketed(host))
            .parse()
            .map_err(|_| no_host())?;
        Ok(Self {
            uri,
            host: host.to_string(),
            port,
        })
    }
}

/// `[v6]` for an IPv6 address, anything else as it is.
fn bracketed(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

/// TCP to the server, or to the proxy and through its tunnel.
#[derive(Clone)]
struct TcpOrProxy {
    http: HttpConnector,
    proxy: Option<Arc<Proxy>>,
}

struct Proxy {
    config: ProxyConfig,
    /// `http://host:port` of the proxy (`None` when the host is not a valid URI host).
    uri: Option<Uri>,
}

impl Service<Uri> for TcpOrProxy {
    type Response = Tcp;
    type Error = ConnectFailure;
    type Future = BoxFuture<Tcp>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        let mut http = self.http.clone();
        let proxy = self.proxy.clone();
        Box::pin(async move {
            let target = Target::from_uri(&dst)?;
            let Some(proxy) = proxy else {
                return http.call(target.uri).await.map_err(|e| {
                    let message = format!(
                        "cannot connect to {}:{}: {}",
                        target.host,
                        target.port,
                        root_cause(&e)
                    );
                    ConnectFailure::with(TransportErrorKind::Connect, message, e)
                });
            };
            let unreachable = |detail: String| {
                ConnectFailure::new(
                    TransportErrorKind::Proxy,
                    format!("cannot connect to proxy {}: {detail}", proxy.config),
                )
            };
            let uri = proxy
                .uri
                .clone()
                .ok_or_else(|| unreachable("not a valid host name".into()))?;
            let tcp = http
                .call(uri)
                .await
                .map_err(|e| unreachable(root_cause(&e)))?;
            proxy.tunnel(tcp, target).await
        })
    }
}

impl Proxy {
    /// Asks the proxy, over `tcp`, for a tunnel to `target`. hyper-util's connectors get the
    /// connection already made ([`Ready`]), so that their errors are always the proxy's answer.
    async fn tunnel(&self, tcp: Tcp, target: Target) -> Result<Tcp, ConnectFailure> {
        let refused = |detail: String, e: Box<dyn std::error::Error + Send + Sync>| {
            ConnectFailure::with(
                TransportErrorKind::Proxy,
                format!(
                    "proxy {} refused the tunnel to {}:{}: {detail}",
                    self.config, target.host, target.port
                ),
                e,
            )
        };
        let uri = self.uri.clone().unwrap_or_default();
        match self.config.kind {
            ProxyKind::Http => {
                let reply = Arc::new(Mutex::new(Vec::new()));
                let io = TokioIo::new(ReplyRecorder {
                    tcp: tcp.into_inner(),
                    reply: reply.clone(),
                });
                let mut tunnel = Tunnel::new(uri, Ready(Some(io)));
                if let Some(a) = &self.config.auth {
                    // hyper-util marks the header sensitive (never logged by hyper).
                    tunnel = tunnel.with_auth(basic_auth(a)?);
                }
                match tunnel.call(target.uri).await {
                    Ok(io) => Ok(TokioIo::new(io.into_inner().tcp)),
                    Err(e) => {
                        let detail = match status_line(&reply) {
                            Some(line) => format!("proxy answered '{line}'"),
                            None => root_cause(&e),
                        };
                        Err(refused(detail, e.into()))
                    }
                }
            }
            ProxyKind::Socks4 | ProxyKind::Socks4a if self.config.auth.is_some() => {
                Err(ConnectFailure::new(
                    TransportErrorKind::Proxy,
                    format!(
                        "proxy {}: {} proxies cannot carry a password; use an http:// or \
                         socks5:// proxy, or none without credentials",
                        self.config, self.config.kind
                    ),
                ))
            }
            ProxyKind::Socks4a => SocksV4::new(uri, Ready(Some(tcp)))
                .call(target.uri)
                .await
                .map_err(|e| refused(e.to_string(), e.into())),
            ProxyKind::Socks4 => {
                let addr = resolve(&target.host, target.port, true).await?;
                SocksV4::new(uri, Ready(Some(tcp)))
                    .call(addr_uri(addr))
                    .await
                    .map_err(|e| refused(e.to_string(), e.into()))
            }
            ProxyKind::Socks5 => {
                let addr = resolve(&target.host, target.port, false).await?;
                let mut socks = SocksV5::new(uri, Ready(Some(tcp)));
                if let Some(a) = &self.config.auth {
                    socks = socks.with_auth(a.user.clone(), a.password().to_owned());
                }
                socks
                    .call(addr_uri(addr))
                    .await
                    .map_err(|e| refused(e.to_string(), e.into()))
            }
        }
    }
}

/// `Basic base64(user:password)` for `Proxy-Authorization`.
fn basic_auth(a: &ProxyAuth) -> Result<http::HeaderValue, ConnectFailure> {
    use base64::Engine as _;
    let token =
        base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", a.user, a.password()));
    http::HeaderValue::from_str(&format!("Basic {token}")).map_err(|_| {
        ConnectFailure::new(
            TransportErrorKind::Proxy,
            "the proxy user name cannot be sent in an HTTP header".into(),
        )
    })
}

fn addr_uri(addr: SocketAddr) -> Uri {
    format!("http://{addr}/")
        .parse()
        .expect("a socket address is a valid authority")
}

/// Resolves `host` locally (SOCKS4 and SOCKS5 send an address, not a name).
async fn resolve(host: &str, port: u16, ipv4_only: bool) -> Result<SocketAddr, ConnectFailure> {
    let addrs = tokio::net::lookup_host((host, port)).await.map_err(|e| {
        ConnectFailure::with(
            TransportErrorKind::Connect,
            format!("IP address lookup for host '{host}' failed: {e}"),
            e,
        )
    })?;
    addrs
        .into_iter()
        .find(|a| !ipv4_only || a.is_ipv4())
        .ok_or_else(|| {
            ConnectFailure::new(
                TransportErrorKind::Connect,
                format!("no IP address for host '{host}' found"),
            )
        })
}

/// The innermost cause's text (`Connection refused (os error 111)`, not `tcp connect error`).
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut last = e;
    while let Some(next) = last.source() {
        last = next;
    }
    last.to_string()
}

/// A service that hands out one connection made beforehand.
struct Ready<T>(Option<T>);

impl<T> Service<Uri> for Ready<T> {
    type Response = T;
    type Error = io::Error;
    type Future = std::future::Ready<Result<T, io::Error>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _proxy: Uri) -> Self::Future {
        std::future::ready(
            self.0
                .take()
                .ok_or_else(|| io::Error::other("the proxy connection was already used")),
        )
    }
}

/// Largest part of a proxy's CONNECT reply kept for the error message.
const REPLY_KEPT: usize = 512;

/// Keeps the start of what the proxy answers to CONNECT, so that a refusal can quote its
/// status line (hyper-util's tunnel error does not say which status it got). Removed again
/// once the tunnel stands.
struct ReplyRecorder {
    tcp: TcpStream,
    reply: Arc<Mutex<Vec<u8>>>,
}

fn status_line(reply: &Mutex<Vec<u8>>) -> Option<String> {
    let reply = reply.lock().unwrap_or_else(|p| p.into_inner());
    let line = reply.split(|b| *b == b'\n').next()?;
    let line = String::from_utf8_lossy(line).trim().to_string();
    line.starts_with("HTTP/").then_some(line)
}

impl AsyncRead for ReplyRecorder {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.tcp).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = polled {
            let mut reply = this.reply.lock().unwrap_or_else(|p| p.into_inner());
            let new = &buf.filled()[before..];
            let room = REPLY_KEPT.saturating_sub(reply.len()).min(new.len());
            reply.extend_from_slice(&new[..room]);
        }
        polled
    }
}

impl AsyncWrite for ReplyRecorder {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().tcp).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_from_uri() {
        let t = Target::from_uri(&"https://[::1]/sdk".parse().expect("uri")).expect("target");
        assert_eq!((t.host.as_str(), t.port), ("::1", 443));
        assert_eq!(t.uri.to_string(), "https://[::1]:443/");
        let t = Target::from_uri(&"http://esx/sdk".parse().expect("uri")).expect("target");
        assert_eq!((t.host.as_str(), t.port), ("esx", 80));
        assert_eq!(t.uri.to_string(), "http://esx:80/");
        assert!(Target::from_uri(&"ftp://esx/".parse().expect("uri")).is_err());
    }

    #[test]
    fn status_line_of_a_reply() {
        let reply = Mutex::new(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n".to_vec());
        assert_eq!(
            status_line(&reply).as_deref(),
            Some("HTTP/1.1 403 Forbidden")
        );
        assert_eq!(status_line(&Mutex::new(b"\x05\x00".to_vec())), None);
    }
}
