//! Settings for [`super::HttpTransport`]: TLS trust, proxy, limits, retries.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// The kind of proxy a connection is tunnelled through (libvirt's `proxy=` URI parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProxyKind {
    /// An HTTP proxy, used with `CONNECT host:port` for every connection.
    Http,
    /// SOCKS4: the target name is resolved locally and sent as an IPv4 address.
    Socks4,
    /// SOCKS4a: the target name is sent to the proxy, which resolves it.
    Socks4a,
    /// SOCKS5 (no authentication, or user/password with [`ProxyConfig::auth`]): the target
    /// name is resolved locally.
    Socks5,
}

impl fmt::Display for ProxyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Http => "http",
            Self::Socks4 => "socks4",
            Self::Socks4a => "socks4a",
            Self::Socks5 => "socks5",
        })
    }
}

/// Where a proxy listens and which protocol it speaks.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ProxyConfig {
    /// The proxy protocol.
    pub kind: ProxyKind,
    /// Host name or IP address of the proxy.
    pub host: String,
    /// TCP port of the proxy (libvirt's default is 1080).
    pub port: u16,
    /// Credentials for a proxy that asks for them: HTTP proxies get them as
    /// `Proxy-Authorization: Basic`, SOCKS5 proxies by user/password negotiation; SOCKS4 and
    /// SOCKS4a have no way to carry a password, so connecting through them with credentials
    /// is refused.
    pub auth: Option<ProxyAuth>,
}

impl ProxyConfig {
    /// A proxy of `kind` at `host:port`, without credentials.
    pub fn new(kind: ProxyKind, host: impl Into<String>, port: u16) -> Self {
        Self {
            kind,
            host: host.into(),
            port,
            auth: None,
        }
    }

    /// The same proxy, with credentials.
    pub fn with_auth(mut self, auth: ProxyAuth) -> Self {
        self.auth = Some(auth);
        self
    }
}

impl fmt::Display for ProxyConfig {
    /// `kind://[user@]host:port`; never the password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://", self.kind)?;
        if let Some(a) = &self.auth {
            write!(f, "{}@", a.user)?;
        }
        write!(f, "{}:{}", self.host, self.port)
    }
}

/// A user name and password for a proxy. `Debug` and `Display` never show the password.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ProxyAuth {
    /// The user name.
    pub user: String,
    password: String,
}

impl ProxyAuth {
    /// Credentials of `user`.
    pub fn new(user: impl Into<String>, password: impl Into<String>) -> Self {
        Self {
            user: user.into(),
            password: password.into(),
        }
    }

    /// The password, for the connector that sends it.
    pub fn password(&self) -> &str {
        &self.password
    }
}

impl fmt::Debug for ProxyAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProxyAuth")
            .field("user", &self.user)
            .field("password", &"****")
            .finish()
    }
}

/// How the server's certificate is checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsOptions {
    /// Accept any certificate (libvirt's `no_verify=1`). A warning is logged once per transport.
    pub no_verify: bool,
    /// An extra PEM file of CA certificates trusted in addition to the system roots.
    pub ca_file: Option<PathBuf>,
    /// Do not load the system's root certificates (only `ca_file` is trusted).
    pub skip_system_roots: bool,
    /// Pin the server's leaf certificate by its SHA-256 fingerprint (`AA:BB:…`, 64 hexadecimal
    /// digits, any case, colons optional). When set, exactly that certificate is accepted,
    /// self-signed, expired or issued for another name alike, and any other is refused;
    /// `no_verify`, the CA file and the system roots no longer matter.
    pub fingerprint: Option<String>,
}

/// When and how often a failed call is sent again.
///
/// Only failures where the request certainly did not reach the server (the connection could
/// not be made) and HTTP 503 (overload) are retried. A SOAP fault is never retried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total attempts, including the first (1 disables retries).
    pub max_attempts: u32,
    /// Delay before the second attempt; doubled for each further one.
    pub initial_backoff: Duration,
    /// Upper bound of the delay between attempts.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(2),
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// The delay after failed attempt number `attempt` (1-based).
    pub fn backoff(&self, attempt: u32) -> Duration {
        let shift = attempt.saturating_sub(1).min(16);
        self.initial_backoff
            .saturating_mul(1u32 << shift)
            .min(self.max_backoff)
    }
}

/// Default bound on one response body: 256 MiB.
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 256 * 1024 * 1024;

/// Everything [`super::HttpTransport`] can be told.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// Certificate checking.
    pub tls: TlsOptions,
    /// An optional proxy for every connection.
    pub proxy: Option<ProxyConfig>,
    /// Time allowed for one SOAP call, from sending to the last byte of the reply.
    pub request_timeout: Duration,
    /// Time allowed to open a connection (TCP, proxy tunnel and TLS handshake).
    pub connect_timeout: Duration,
    /// Largest accepted response body, after decompression.
    pub max_response_bytes: u64,
    /// Retry policy for transient failures.
    pub retry: RetryPolicy,
    /// `User-Agent` header value.
    pub user_agent: String,
    /// How long an idle pooled connection is kept open.
    pub pool_idle_timeout: Duration,
    /// Ask for gzip-compressed replies (`Accept-Encoding: gzip`).
    pub gzip: bool,
}

impl Default for HttpOptions {
    fn default() -> Self {
        Self {
            tls: TlsOptions::default(),
            proxy: None,
            request_timeout: Duration::from_secs(300),
            connect_timeout: Duration::from_secs(30),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            retry: RetryPolicy::default(),
            user_agent: concat!("esx-vim/", env!("CARGO_PKG_VERSION")).to_string(),
            pool_idle_timeout: Duration::from_secs(90),
            gzip: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let p = RetryPolicy::default();
        assert_eq!(p.backoff(1), Duration::from_millis(100));
        assert_eq!(p.backoff(2), Duration::from_millis(200));
        assert_eq!(p.backoff(3), Duration::from_millis(400));
        assert_eq!(p.backoff(10), Duration::from_secs(2));
        assert_eq!(p.backoff(u32::MAX), Duration::from_secs(2));
    }

    #[test]
    fn proxy_display() {
        let p = ProxyConfig::new(ProxyKind::Socks4a, "proxy.example", 1080);
        assert_eq!(p.to_string(), "socks4a://proxy.example:1080");
        let p = ProxyConfig::new(ProxyKind::Http, "proxy.example", 3128)
            .with_auth(ProxyAuth::new("alice", "hunter2"));
        assert_eq!(p.to_string(), "http://alice@proxy.example:3128");
        assert!(!format!("{p:?}").contains("hunter2"), "{p:?}");
    }
}
