//! TLS client configuration and certificate checks: system roots plus an optional CA file,
//! a pinned leaf fingerprint, or no verification at all; and the messages for refusals.

use std::fmt;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{self, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, OtherError, RootCertStore,
    SignatureScheme,
};

use super::options::TlsOptions;
use crate::transport::{TransportError, TransportErrorKind};

/// Builds the rustls configuration for `opts`.
pub(crate) fn client_config(opts: &TlsOptions) -> Result<ClientConfig, TransportError> {
    let provider = Arc::new(crypto::ring::default_provider());
    let check = match (&opts.fingerprint, opts.no_verify) {
        (Some(pin), _) => Check::Pin(Fingerprint::parse(pin)?),
        (None, true) => Check::Nothing,
        (None, false) => {
            let roots = root_store(opts)?;
            if roots.is_empty() {
                Check::Chain(None)
            } else {
                let verifier =
                    WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                        .build()
                        .map_err(|e| {
                            TransportError::new(
                                TransportErrorKind::Tls,
                                format!("TLS setup failed: {e}"),
                            )
                        })?;
                Check::Chain(Some(verifier))
            }
        }
    };
    // No ALPN here: hyper-rustls's builder sets `http/1.1` (and refuses a preset list).
    let config = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| {
            TransportError::new(TransportErrorKind::Tls, format!("TLS setup failed: {e}"))
        })?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(Verifier { check, provider }))
        .with_no_client_auth();
    Ok(config)
}

fn root_store(opts: &TlsOptions) -> Result<RootCertStore, TransportError> {
    let mut roots = RootCertStore::empty();
    if !opts.skip_system_roots {
        let loaded = rustls_native_certs::load_native_certs();
        for err in &loaded.errors {
            tracing::debug!(error = %err, "skipping unreadable system root certificate");
        }
        let (added, ignored) = roots.add_parsable_certificates(loaded.certs);
        tracing::debug!(added, ignored, "loaded system root certificates");
    }
    if let Some(path) = &opts.ca_file {
        let bytes = std::fs::read(path).map_err(|e| {
            TransportError::new(
                TransportErrorKind::Tls,
                format!("cannot read CA certificate file '{}': {e}", path.display()),
            )
            .with_source(e)
        })?;
        let mut found = 0usize;
        for cert in CertificateDer::pem_slice_iter(&bytes) {
            let cert = cert.map_err(|e| {
                TransportError::new(
                    TransportErrorKind::Tls,
                    format!(
                        "CA certificate file '{}' is not valid PEM: {e}",
                        path.display()
                    ),
                )
            })?;
            roots.add(cert).map_err(|e| {
                TransportError::new(
                    TransportErrorKind::Tls,
                    format!(
                        "CA certificate file '{}' holds an unusable certificate: {e}",
                        path.display()
                    ),
                )
            })?;
            found += 1;
        }
        if found == 0 {
            return Err(TransportError::new(
                TransportErrorKind::Tls,
                format!(
                    "CA certificate file '{}' contains no PEM certificate",
                    path.display()
                ),
            ));
        }
    }
    Ok(roots)
}

/// The SHA-256 digest of a DER certificate, shown as `AA:BB:…`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fingerprint([u8; 32]);

impl Fingerprint {
    fn of(cert: &[u8]) -> Self {
        let digest = ring::digest::digest(&ring::digest::SHA256, cert);
        let mut bytes = [0u8; 32];
        bytes.copy_from_slice(digest.as_ref());
        Self(bytes)
    }

    /// Parses 64 hexadecimal digits, in either case, with or without colons between bytes.
    pub(crate) fn parse(text: &str) -> Result<Self, TransportError> {
        let digits: Vec<u8> = text.bytes().filter(|b| *b != b':').collect();
        let invalid = |why: &str| {
            TransportError::new(
                TransportErrorKind::Tls,
                format!(
                    "invalid certificate fingerprint '{text}': {why}; expected the SHA-256 \
                     fingerprint of the server's certificate as 64 hexadecimal digits \
                     (AA:BB:… or aabb…)"
                ),
            )
        };
        if !digits.iter().all(u8::is_ascii_hexdigit) {
            return Err(invalid("it holds characters other than hexadecimal digits"));
        }
        if digits.len() == 40 {
            return Err(invalid("it looks like a SHA-1 thumbprint"));
        }
        if digits.len() != 64 {
            return Err(invalid(&format!("it has {} digits", digits.len())));
        }
        let mut bytes = [0u8; 32];
        for (byte, pair) in bytes.iter_mut().zip(digits.chunks(2)) {
            let pair = std::str::from_utf8(pair).map_err(|_| invalid("not ASCII"))?;
            *byte = u8::from_str_radix(pair, 16).map_err(|_| invalid("not hexadecimal"))?;
        }
        Ok(Self(bytes))
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{b:02X}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// How the server's certificate is checked.
#[derive(Debug)]
enum Check {
    /// The leaf's fingerprint must be this one; chain, name and dates are not checked.
    Pin(Fingerprint),
    /// Chain to a trusted root, name and dates (webpki); `None`: no root is trusted.
    Chain(Option<Arc<WebPkiServerVerifier>>),
    /// `no_verify`: anything goes.
    Nothing,
}

/// Our certificate verifier: [`Check`], and refusals as [`Refusal`]s that say what was wrong.
#[derive(Debug)]
struct Verifier {
    check: Check,
    provider: Arc<CryptoProvider>,
}

/// A certificate this client refused, with the message for the user.
#[derive(Debug, thiserror::Error)]
enum Refusal {
    #[error(
        "the SSL certificate of host '{host}' could not be verified: {problem}; {hint}\
         use the no_verify=1 URI parameter to skip verification, \
         or install a certificate signed by a CA this client trusts \
         (the system roots or a CA file given to the client), \
         or pin its SHA-256 fingerprint {presented}"
    )]
    Unverified {
        host: String,
        problem: String,
        hint: &'static str,
        presented: Fingerprint,
    },
    #[error(
        "the SSL certificate of host '{host}' does not match the pinned fingerprint: \
         expected SHA-256 {expected}, the server presented {presented}; \
         if the server's certificate was replaced on purpose, pin the new fingerprint"
    )]
    PinMismatch {
        host: String,
        expected: Fingerprint,
        presented: Fingerprint,
    },
}

impl Refusal {
    fn into_rustls(self) -> rustls::Error {
        rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(self))))
    }
}

/// What was wrong with a certificate, in words, and what to do about it besides the usual.
fn explain(problem: &CertificateError, host: &str) -> (String, &'static str) {
    let date = |t: &UnixTime| {
        i64::try_from(t.as_secs())
            .ok()
            .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
            .map(|d| d.format("%Y-%m-%d %H:%M:%S UTC").to_string())
            .unwrap_or_else(|| format!("{} (UNIX time)", t.as_secs()))
    };
    match problem {
        CertificateError::UnknownIssuer => (
            "it is self-signed or issued by a CA that is not trusted".into(),
            "",
        ),
        CertificateError::NotValidForNameContext { presented, .. } => (
            format!(
                "it is not valid for the name '{host}' (it names {})",
                if presented.is_empty() {
                    "no host".to_string()
                } else {
                    presented
                        .iter()
                        .map(|n| bare_name(n))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            ),
            "connect with a name the certificate holds, ",
        ),
        CertificateError::NotValidForName => (
            format!("it is not valid for the name '{host}'"),
            "connect with a name the certificate holds, ",
        ),
        CertificateError::ExpiredContext { not_after, .. } => (
            format!("it expired on {}", date(not_after)),
            "renew it (or check this machine's clock), ",
        ),
        CertificateError::Expired => (
            "it has expired".into(),
            "renew it (or check this machine's clock), ",
        ),
        CertificateError::NotValidYetContext { not_before, .. } => (
            format!("it is not valid before {}", date(not_before)),
            "check this machine's clock, ",
        ),
        CertificateError::NotValidYet => {
            ("it is not valid yet".into(), "check this machine's clock, ")
        }
        CertificateError::Revoked => ("it has been revoked".into(), ""),
        CertificateError::BadSignature => {
            ("its signature does not match its issuer's key".into(), "")
        }
        CertificateError::UnsupportedSignatureAlgorithmContext { .. }
        | CertificateError::UnsupportedSignatureAlgorithmForPublicKeyContext { .. } => (
            "its signature algorithm is not supported or does not fit its issuer's key".into(),
            "",
        ),
        other => (other.to_string(), ""),
    }
}

/// `esx.example` for webpki's `DnsName("esx.example")`, `10.0.0.1` for `IpAddress(10.0.0.1)`.
fn bare_name(presented: &str) -> &str {
    presented
        .strip_prefix("DnsName(\"")
        .and_then(|n| n.strip_suffix("\")"))
        .or_else(|| presented.strip_prefix("IpAddress(")?.strip_suffix(')'))
        .unwrap_or(presented)
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let host = server_name.to_str().into_owned();
        let presented = Fingerprint::of(end_entity);
        match &self.check {
            Check::Nothing => Ok(ServerCertVerified::assertion()),
            Check::Pin(expected) if *expected == presented => Ok(ServerCertVerified::assertion()),
            Check::Pin(expected) => Err(Refusal::PinMismatch {
                host,
                expected: *expected,
                presented,
            }
            .into_rustls()),
            Check::Chain(webpki) => {
                let checked = match webpki {
                    Some(v) => v.verify_server_cert(
                        end_entity,
                        intermediates,
                        server_name,
                        ocsp_response,
                        now,
                    ),
                    None => Err(rustls::Error::InvalidCertificate(
                        CertificateError::UnknownIssuer,
                    )),
                };
                checked.map_err(|e| match e {
                    rustls::Error::InvalidCertificate(problem) => {
                        let (problem, hint) = explain(&problem, &host);
                        Refusal::Unverified {
                            host,
                            problem,
                            hint,
                            presented,
                        }
                        .into_rustls()
                    }
                    other => other,
                })
            }
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algs = &self.provider.signature_verification_algorithms;
        self.signature(crypto::verify_tls12_signature(message, cert, dss, algs))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algs = &self.provider.signature_verification_algorithms;
        self.signature(crypto::verify_tls13_signature(message, cert, dss, algs))
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

impl Verifier {
    /// A handshake signature proves the server holds the certificate's key: required when the
    /// certificate was checked (chain or pin). Under `no_verify` a failure is tolerated: without
    /// a verified certificate the check proves nothing, and some servers (vcsim among them)
    /// present 1024-bit RSA keys that ring refuses to verify.
    fn signature(
        &self,
        checked: Result<HandshakeSignatureValid, rustls::Error>,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        match (&self.check, checked) {
            (Check::Nothing, Err(e)) => {
                tracing::debug!(error = %e, "no_verify: ignoring a handshake signature that did not verify");
                Ok(HandshakeSignatureValid::assertion())
            }
            (_, checked) => checked,
        }
    }
}

/// The message for a failed TLS handshake with `host`, found in hyper-rustls's error chain.
pub(crate) fn tls_failure_message(host: &str, e: &(dyn std::error::Error + 'static)) -> String {
    let mut next = Some(e);
    while let Some(e) = next {
        if let Some(rustls_err) = e.downcast_ref::<rustls::Error>() {
            if let rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(inner))) =
                rustls_err
            {
                if let Some(refusal) = inner.downcast_ref::<Refusal>() {
                    return refusal.to_string();
                }
            }
            return format!("TLS handshake with host '{host}' failed: {rustls_err}");
        }
        // io::Error::source() skips the error it wraps; get_ref() does not.
        next = match e.downcast_ref::<std::io::Error>() {
            Some(io) => io.get_ref().map(|inner| inner as _),
            None => e.source(),
        };
    }
    format!("TLS handshake with host '{host}' failed: {e}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_ca_file_names_the_path() {
        let opts = TlsOptions {
            ca_file: Some("/nonexistent/esx-ca.pem".into()),
            skip_system_roots: true,
            ..TlsOptions::default()
        };
        let err = client_config(&opts).expect_err("a missing file must fail");
        assert_eq!(err.kind, TransportErrorKind::Tls);
        assert!(
            err.message.contains("/nonexistent/esx-ca.pem"),
            "{}",
            err.message
        );
    }

    #[test]
    fn ca_file_without_certificates_is_rejected() {
        let dir = std::env::temp_dir().join(format!("esx-vim-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("empty.pem");
        std::fs::write(&path, b"not a certificate\n").expect("write");
        let opts = TlsOptions {
            ca_file: Some(path),
            skip_system_roots: true,
            ..TlsOptions::default()
        };
        let err = client_config(&opts).expect_err("no certificate must fail");
        assert!(
            err.message.contains("contains no PEM certificate"),
            "{}",
            err.message
        );
    }

    #[test]
    fn no_verify_and_empty_roots_build() {
        for opts in [
            TlsOptions {
                no_verify: true,
                ..TlsOptions::default()
            },
            TlsOptions {
                skip_system_roots: true,
                ..TlsOptions::default()
            },
        ] {
            assert!(client_config(&opts).is_ok(), "{opts:?}");
        }
    }

    #[test]
    fn fingerprints_parse_in_any_case_with_or_without_colons() {
        let upper = "AB:".repeat(31) + "CD";
        let lower = "ab".repeat(31) + "cd";
        let a = Fingerprint::parse(&upper).expect("upper");
        assert_eq!(a, Fingerprint::parse(&lower).expect("lower"));
        assert_eq!(a.to_string(), upper);
        for bad in ["", "zz", &"ab".repeat(20), &"ab".repeat(33)] {
            let err = Fingerprint::parse(bad).expect_err(bad);
            assert!(err.message.contains("SHA-256"), "{}", err.message);
        }
        let sha1 = Fingerprint::parse(&("ab:".repeat(19) + "ab")).expect_err("sha1");
        assert!(sha1.message.contains("SHA-1"), "{}", sha1.message);
    }

    #[test]
    fn presented_names_are_shown_bare() {
        assert_eq!(bare_name("DnsName(\"esx.example\")"), "esx.example");
        assert_eq!(bare_name("IpAddress(10.0.0.1)"), "10.0.0.1");
        assert_eq!(bare_name("other"), "other");
    }

    #[test]
    fn refusal_names_host_problem_and_remedies() {
        let (problem, hint) = explain(&CertificateError::UnknownIssuer, "esx1.example");
        let msg = Refusal::Unverified {
            host: "esx1.example".into(),
            problem,
            hint,
            presented: Fingerprint([0xab; 32]),
        }
        .to_string();
        assert!(msg.contains("'esx1.example'"), "{msg}");
        assert!(msg.contains("self-signed"), "{msg}");
        assert!(msg.contains("no_verify=1"), "{msg}");
        assert!(msg.contains("CA file"), "{msg}");
        assert!(msg.contains("AB:AB:"), "{msg}");
    }
}
