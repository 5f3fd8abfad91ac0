//! Opening connections: TCP, an optional proxy tunnel (HTTP CONNECT, SOCKS4/4a/5), then TLS.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use rustls::ClientConfig;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use super::options::{ProxyConfig, ProxyKind};
use super::tls::verification_advice;
use crate::transport::TransportErrorKind;

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
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self {
            kind,
            message,
            source: Some(Box::new(source)),
        }
    }
}

/// A plain or TLS-wrapped TCP stream.
#[derive(Debug)]
pub(crate) enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl Connection for Stream {
    fn connected(&self) -> Connected {
        Connected::new()
    }
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_flush(cx),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Self::Plain(s) => s.is_write_vectored(),
            Self::Tls(s) => s.is_write_vectored(),
        }
    }
}

/// The connector handed to hyper's pooled client.
#[derive(Clone)]
pub(crate) struct Connector {
    inner: Arc<Inner>,
}

struct Inner {
    tls: Arc<ClientConfig>,
    proxy: Option<ProxyConfig>,
    connect_timeout: Duration,
}

impl Connector {
    pub(crate) fn new(
        tls: Arc<ClientConfig>,
        proxy: Option<ProxyConfig>,
        connect_timeout: Duration,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                tls,
                proxy,
                connect_timeout,
            }),
        }
    }
}

impl tower_service::Service<http::Uri> for Connector {
    type Response = TokioIo<Stream>;
    type Error = ConnectFailure;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: http::Uri) -> Self::Future {
        let inner = self.inner.clone();
        Box::pin(async move {
            let target = Target::from_uri(&uri)?;
            match tokio::time::timeout(inner.connect_timeout, inner.connect(&target)).await {
                Ok(result) => result.map(TokioIo::new),
                Err(_) => Err(ConnectFailure::new(
                    TransportErrorKind::Timeout,
                    format!(
                        "connecting to {}:{} took longer than {:?}",
                        target.host, target.port, inner.connect_timeout
                    ),
                )),
            }
        })
    }
}

/// The server a connection goes to.
struct Target {
    host: String,
    port: u16,
    tls: bool,
}

impl Target {
    fn from_uri(uri: &http::Uri) -> Result<Self, ConnectFailure> {
        let tls = match uri.scheme_str() {
            Some("https") => true,
            Some("http") => false,
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
        let host = uri.host().ok_or_else(|| {
            ConnectFailure::new(
                TransportErrorKind::Other,
                format!("URL '{uri}' has no host"),
            )
        })?;
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let port = uri.port_u16().unwrap_or(if tls { 443 } else { 80 });
        Ok(Self { host, port, tls })
    }
}

impl Inner {
    async fn connect(&self, target: &Target) -> Result<Stream, ConnectFailure> {
        let tcp = match &self.proxy {
            None => TcpStream::connect((target.host.as_str(), target.port))
                .await
                .map_err(|e| {
                    ConnectFailure::with(
                        TransportErrorKind::Connect,
                        format!("cannot connect to {}:{}: {e}", target.host, target.port),
                        e,
                    )
                })?,
            Some(proxy) => self.tunnel(proxy, target).await?,
        };
        let _ = tcp.set_nodelay(true);
        if !target.tls {
            return Ok(Stream::Plain(tcp));
        }
        let name = ServerName::try_from(target.host.clone()).map_err(|e| {
            ConnectFailure::with(
                TransportErrorKind::Tls,
                format!("'{}' is not a valid TLS server name", target.host),
                e,
            )
        })?;
        match TlsConnector::from(self.tls.clone())
            .connect(name, tcp)
            .await
        {
            Ok(tls) => Ok(Stream::Tls(Box::new(tls))),
            Err(e) => Err(tls_failure(&target.host, e)),
        }
    }

    async fn tunnel(
        &self,
        proxy: &ProxyConfig,
        target: &Target,
    ) -> Result<TcpStream, ConnectFailure> {
        let mut tcp = TcpStream::connect((proxy.host.as_str(), proxy.port))
            .await
            .map_err(|e| {
                ConnectFailure::with(
                    TransportErrorKind::Proxy,
                    format!("cannot connect to proxy {proxy}: {e}"),
                    e,
                )
            })?;
        let socks_err = |e: tokio_socks::Error| {
            ConnectFailure::with(
                TransportErrorKind::Proxy,
                format!(
                    "proxy {proxy} refused the tunnel to {}:{}: {e}",
                    target.host, target.port
                ),
                e,
            )
        };
        match proxy.kind {
            ProxyKind::Http => {
                http_connect(&mut tcp, &target.host, target.port)
                    .await
                    .map_err(|e| {
                        ConnectFailure::with(
                            TransportErrorKind::Proxy,
                            format!(
                                "proxy {proxy} refused the tunnel to {}:{}: {e}",
                                target.host, target.port
                            ),
                            e,
                        )
                    })?;
                Ok(tcp)
            }
            ProxyKind::Socks4 => {
                let addr = resolve(&target.host, target.port, true).await?;
                let s = tokio_socks::tcp::Socks4Stream::connect_with_socket(tcp, addr)
                    .await
                    .map_err(socks_err)?;
                Ok(s.into_inner())
            }
            ProxyKind::Socks4a => {
                let s = tokio_socks::tcp::Socks4Stream::connect_with_socket(
                    tcp,
                    (target.host.as_str(), target.port),
                )
                .await
                .map_err(socks_err)?;
                Ok(s.into_inner())
            }
            ProxyKind::Socks5 => {
                let addr = resolve(&target.host, target.port, false).await?;
                let s = tokio_socks::tcp::Socks5Stream::connect_with_socket(tcp, addr)
                    .await
                    .map_err(socks_err)?;
                Ok(s.into_inner())
            }
        }
    }
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

/// Largest proxy reply header accepted for a CONNECT request.
const MAX_CONNECT_REPLY: usize = 16 * 1024;

/// Asks an HTTP proxy for a tunnel with `CONNECT host:port` and checks for a 2xx answer.
async fn http_connect<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    host: &str,
    port: u16,
) -> io::Result<()> {
    let authority = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let request = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    stream.flush().await?;
    // Read byte by byte so that nothing after the reply header is consumed.
    let mut reply = Vec::with_capacity(256);
    let mut byte = [0u8; 1];
    while !reply.ends_with(b"\r\n\r\n") {
        if reply.len() >= MAX_CONNECT_REPLY {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "proxy reply header too long",
            ));
        }
        if stream.read(&mut byte).await? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "proxy closed the connection",
            ));
        }
        reply.push(byte[0]);
    }
    let status_line = reply.split(|b| *b == b'\n').next().unwrap_or_default();
    let status_line = String::from_utf8_lossy(status_line).trim().to_string();
    let mut parts = status_line.split_whitespace();
    let version_ok = parts.next().is_some_and(|v| v.starts_with("HTTP/1."));
    let code = parts.next().and_then(|c| c.parse::<u16>().ok());
    match code {
        Some(c) if version_ok && (200..300).contains(&c) => Ok(()),
        _ => Err(io::Error::other(format!("proxy answered '{status_line}'"))),
    }
}

fn tls_failure(host: &str, e: io::Error) -> ConnectFailure {
    let rustls_err = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>());
    match rustls_err {
        Some(rustls::Error::InvalidCertificate(reason)) => {
            let reason = format!("{reason:?}");
            ConnectFailure::with(
                TransportErrorKind::Tls,
                verification_advice(host, &reason),
                e,
            )
        }
        Some(other) => ConnectFailure::new(
            TransportErrorKind::Tls,
            format!("TLS handshake with host '{host}' failed: {other}"),
        ),
        None => ConnectFailure::with(
            TransportErrorKind::Tls,
            format!("TLS handshake with host '{host}' failed: {e}"),
            e,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::duplex;

    #[tokio::test]
    async fn http_connect_accepts_200_and_leaves_payload() {
        let (mut client, mut server) = duplex(4096);
        let srv = tokio::spawn(async move {
            let mut buf = vec![0u8; 1024];
            let n = server.read(&mut buf).await.expect("read");
            let req = String::from_utf8_lossy(&buf[..n]).to_string();
            server
                .write_all(b"HTTP/1.1 200 Connection established\r\n\r\nPAYLOAD")
                .await
                .expect("write");
            req
        });
        http_connect(&mut client, "esx.example", 443)
            .await
            .expect("tunnel");
        let req = srv.await.expect("join");
        assert!(
            req.starts_with("CONNECT esx.example:443 HTTP/1.1\r\n"),
            "{req}"
        );
        let mut rest = [0u8; 7];
        client.read_exact(&mut rest).await.expect("payload");
        assert_eq!(&rest, b"PAYLOAD");
    }

    #[tokio::test]
    async fn http_connect_rejects_407() {
        let (mut client, mut server) = duplex(4096);
        tokio::spawn(async move {
            let mut buf = vec![0u8; 1024];
            let _ = server.read(&mut buf).await;
            let _ = server
                .write_all(b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n")
                .await;
        });
        let err = http_connect(&mut client, "::1", 443)
            .await
            .expect_err("407 must fail");
        assert!(err.to_string().contains("407"), "{err}");
    }

    #[test]
    fn target_from_uri() {
        let t = Target::from_uri(&"https://[::1]/sdk".parse().expect("uri")).expect("target");
        assert_eq!((t.host.as_str(), t.port, t.tls), ("::1", 443, true));
        let t = Target::from_uri(&"http://esx:8080/sdk".parse().expect("uri")).expect("target");
        assert_eq!((t.host.as_str(), t.port, t.tls), ("esx", 8080, false));
        assert!(Target::from_uri(&"ftp://esx/".parse().expect("uri")).is_err());
    }
}
