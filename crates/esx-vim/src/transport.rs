//! The seam between the generated bindings and the network.
//!
//! Generated methods encode a SOAP envelope, hand it to a [`Transport`], and decode what comes
//! back. The HTTP(S) implementation lives in [`crate::client`]; tests and the simulator may plug
//! in others.

use std::fmt;

/// One SOAP call on its way out: the complete request envelope plus what a transport needs to
/// label it (logs, tracing spans, `SOAPAction`).
#[derive(Debug, Clone)]
pub struct SoapCall<'a> {
    /// WSDL operation name, e.g. `RetrievePropertiesEx`.
    pub method: &'a str,
    /// The managed object the call is made on (`_this`): `(type, value)`.
    pub this: Option<(&'a str, &'a str)>,
    /// The complete, encoded SOAP 1.1 envelope.
    pub body: Vec<u8>,
}

/// What a server answered: the HTTP status and the response body.
///
/// SOAP faults travel as HTTP 500 with a fault envelope; a transport returns them as a reply and
/// lets the codec decode them.
#[derive(Debug, Clone)]
pub struct SoapReply {
    /// HTTP status code.
    pub status: u16,
    /// Response body (already decompressed).
    pub body: Vec<u8>,
}

/// Something that can carry a SOAP call to a vSphere endpoint and bring back the reply.
#[async_trait::async_trait]
pub trait Transport: Send + Sync {
    /// Sends one call and waits for its reply.
    async fn round_trip(&self, call: SoapCall<'_>) -> Result<SoapReply, TransportError>;
}

/// The class of a [`TransportError`], for callers deciding whether to retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// The TCP connection could not be established.
    Connect,
    /// TLS handshake or certificate verification failed.
    Tls,
    /// The proxy refused or failed the tunnel.
    Proxy,
    /// The request did not complete in time.
    Timeout,
    /// The connection broke while sending or receiving.
    Io,
    /// The response exceeded the configured size bound.
    TooLarge,
    /// The server spoke HTTP we cannot use (bad framing, unexpected status for a non-SOAP call).
    Http,
    /// The transport was closed by its owner.
    Closed,
    /// The session is not (or no longer) authenticated and could not be renewed.
    Session,
    /// Anything else.
    Other,
}

impl TransportErrorKind {
    /// True for failures where sending the same request again may succeed.
    pub fn is_transient(self) -> bool {
        matches!(self, Self::Connect | Self::Timeout | Self::Io)
    }
}

impl fmt::Display for TransportErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Self::Connect => "connection failed",
            Self::Tls => "TLS error",
            Self::Proxy => "proxy error",
            Self::Timeout => "timed out",
            Self::Io => "connection error",
            Self::TooLarge => "response too large",
            Self::Http => "HTTP error",
            Self::Closed => "transport closed",
            Self::Session => "session error",
            Self::Other => "transport error",
        };
        f.write_str(s)
    }
}

/// A failure below SOAP: the call never produced a reply we can decode.
#[derive(Debug, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct TransportError {
    /// What class of failure this is.
    pub kind: TransportErrorKind,
    /// A human-readable description naming the host or call concerned (never a password).
    pub message: String,
    /// The underlying error, when there is one.
    #[source]
    pub source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl TransportError {
    /// A new error of `kind` with `message`.
    pub fn new(kind: TransportErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// Attaches the underlying cause.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }
}
