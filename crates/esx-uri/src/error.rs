//! Errors of URI parsing and of the datastore and date helpers.

/// Why a connection URI was refused. Texts follow libvirt where libvirt has one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UriError {
    /// No `scheme://` prefix.
    #[error("URI '{uri}' has no scheme (expected esx://, gsx:// or vpx://)")]
    MissingScheme {
        /// The URI as given.
        uri: String,
    },
    /// A scheme this driver does not handle.
    #[error("Unsupported URI scheme '{scheme}' (expected esx, gsx or vpx)")]
    UnsupportedScheme {
        /// The scheme as given.
        scheme: String,
    },
    /// `esx+ssh://` and friends: the driver talks HTTP(S) itself and has no remote transport.
    #[error(
        "URI scheme '{scheme}' names the remote transport '{transport}', but the ESX driver is \
         client-side only: it connects to the server over HTTP(S) itself and cannot be reached \
         through libvirtd; use '{base}://' (and '?transport=http|https')"
    )]
    RemoteTransport {
        /// The full scheme (`esx+ssh`).
        scheme: String,
        /// The driver part (`esx`).
        base: String,
        /// The transport part (`ssh`).
        transport: String,
    },
    /// No host name.
    #[error("URI is missing the server part")]
    MissingServer,
    /// A host name with characters a host cannot have.
    #[error("URI has an invalid server part '{server}'")]
    InvalidServer {
        /// The server part as given.
        server: String,
    },
    /// A port that is not a number in 1..65535.
    #[error("URI has an invalid port '{port}' (should be [1..65535])")]
    InvalidPort {
        /// The port text as given.
        port: String,
    },
    /// `user:password@host`: passwords do not belong into URIs.
    #[error("URI must not contain a password; use auth.conf or the credential callback")]
    PasswordInUri,
    /// A fragment (`#...`), which the driver has no use for.
    #[error("URI must not contain a fragment ('#{fragment}')")]
    Fragment {
        /// The fragment, without `#`.
        fragment: String,
    },
    /// A `%XX` sequence that is malformed or does not decode to UTF-8.
    #[error("URI {part} '{text}' has an invalid percent-encoding")]
    BadPercentEncoding {
        /// Which part (user name, path, query parameter ...).
        part: &'static str,
        /// The text as given.
        text: String,
    },
    /// `transport` is not `http` or `https`.
    #[error("Query parameter 'transport' has unexpected value '{value}' (should be http|https)")]
    BadTransport {
        /// The value as given.
        value: String,
    },
    /// `no_verify` or `auto_answer` is not 0 or 1.
    #[error("Query parameter '{name}' has unexpected value '{value}' (should be 0 or 1)")]
    BadFlag {
        /// `no_verify` or `auto_answer`.
        name: &'static str,
        /// The value as given.
        value: String,
    },
    /// `fingerprint=` that is not a SHA-256 digest in hex.
    #[error(
        "Query parameter 'fingerprint' has unexpected value '{value}' (should be the server \
         certificate's SHA-256 fingerprint: 64 hex digits, colons allowed)"
    )]
    BadFingerprint {
        /// The value as given.
        value: String,
    },
    /// `vcenter=` with nothing after it.
    #[error("Query parameter 'vcenter' has an empty value (should be a hostname or *)")]
    EmptyVCenter,
    /// `proxy=xyz://...` with an unknown type.
    #[error(
        "Query parameter 'proxy' contains unexpected type '{proxy_type}' (should be (http|socks(|4|4a|5))"
    )]
    BadProxyType {
        /// The text before `://`.
        proxy_type: String,
    },
    /// `proxy=:port` or an empty proxy.
    #[error("Query parameter 'proxy' doesn't contain a hostname")]
    ProxyWithoutHostname,
    /// A proxy port that is not in 1..65535.
    #[error("Query parameter 'proxy' has unexpected port value '{port}' (should be [1..65535])")]
    BadProxyPort {
        /// The port text as given.
        port: String,
    },
    /// A query parameter the driver does not know.
    #[error(
        "Unexpected query parameter '{name}' (known: transport, vcenter, no_verify, auto_answer, proxy)"
    )]
    UnknownParameter {
        /// The parameter name as given.
        name: String,
    },
    /// A vpx:// URI whose path does not name a datacenter and compute resource.
    #[error("Path has to specify the datacenter and compute resource")]
    MissingVpxPath,
}

/// Errors of the datastore-path and date helpers (libvirt's `esx_util.c`/`esx_vi_types.c`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HelperError {
    /// Not `[datastore] path`.
    #[error("Datastore path '{path}' doesn't have expected format '[<datastore>] <path>'")]
    DatastorePath {
        /// The path as given.
        path: String,
    },
    /// Not an `xsd:dateTime`.
    #[error("xsd:dateTime value '{value}' has unexpected format")]
    DateTime {
        /// The value as given.
        value: String,
    },
}
