//! TLS: a self-signed certificate made at start (or PEM files), its fingerprint, and
//! random session keys from the crypto provider.

use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::Error;

/// A server TLS configuration, the certificate's SHA-256 fingerprint and its SHA-1
/// thumbprint (both `AA:BB:…`).
pub fn server_config(
    cert: Option<&(std::path::PathBuf, std::path::PathBuf)>,
) -> Result<(Arc<rustls::ServerConfig>, String, String), Error> {
    let (chain, key) = match cert {
        Some((c, k)) => {
            let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(c)
                .map_err(|e| Error::Tls(format!("{}: {e}", c.display())))?
                .collect::<Result<_, _>>()
                .map_err(|e| Error::Tls(format!("{}: {e}", c.display())))?;
            let key = PrivateKeyDer::from_pem_file(k)
                .map_err(|e| Error::Tls(format!("{}: {e}", k.display())))?;
            (chain, key)
        }
        None => {
            let ck =
                rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
                    .map_err(|e| Error::Tls(e.to_string()))?;
            let key = PrivateKeyDer::try_from(ck.key_pair.serialize_der())
                .map_err(|e| Error::Tls(e.to_string()))?;
            (vec![ck.cert.der().clone()], key)
        }
    };
    let first = chain
        .first()
        .ok_or_else(|| Error::Tls("empty certificate chain".into()))?;
    let fingerprint = fingerprint(first.as_ref());
    let thumbprint = crate::ticket::thumbprint(first.as_ref());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| Error::Tls(e.to_string()))?;
    Ok((Arc::new(cfg), fingerprint, thumbprint))
}

/// SHA-256 of `der`, as colon-separated upper-case hex.
pub fn fingerprint(der: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, der);
    digest
        .as_ref()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// A random session key in vSphere's style (`52xxxxxx-…`).
pub fn session_key() -> String {
    let mut b = [0u8; 16];
    let rng = rustls::crypto::ring::default_provider().secure_random;
    if rng.fill(&mut b).is_err() {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        b = t.to_le_bytes();
    }
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "52{}-{}-{}-{}-{}",
        &h[2..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}
