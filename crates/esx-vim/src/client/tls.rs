//! TLS client configuration: system roots plus an optional CA file, or no verification at all.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{self, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use super::options::TlsOptions;
use crate::transport::{TransportError, TransportErrorKind};

fn provider() -> Arc<CryptoProvider> {
    Arc::new(crypto::ring::default_provider())
}

/// Builds the rustls configuration for `opts`.
pub(crate) fn client_config(opts: &TlsOptions) -> Result<Arc<ClientConfig>, TransportError> {
    let provider = provider();
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| {
            TransportError::new(TransportErrorKind::Tls, format!("TLS setup failed: {e}"))
        })?;
    let mut config = if opts.no_verify {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate { provider }))
            .with_no_client_auth()
    } else {
        builder
            .with_root_certificates(root_store(opts)?)
            .with_no_client_auth()
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
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

/// The message for a certificate that did not verify, in the spirit of libvirt's advice.
pub(crate) fn verification_advice(host: &str, reason: &dyn std::fmt::Display) -> String {
    format!(
        "the SSL certificate of host '{host}' could not be verified ({reason}); \
         use the no_verify=1 URI parameter to skip verification, \
         or install a certificate signed by a CA this client trusts \
         (the system roots or a CA file given to the client)"
    )
}

/// A verifier for `no_verify`: accepts any certificate chain, name and handshake signature.
///
/// Signatures are checked first, but a failure is tolerated: without a verified certificate
/// the check proves nothing, and some servers (vcsim among them) present 1024-bit RSA keys
/// that ring refuses to verify.
#[derive(Debug)]
struct AcceptAnyCertificate {
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algs = &self.provider.signature_verification_algorithms;
        Ok(tolerate(crypto::verify_tls12_signature(
            message, cert, dss, algs,
        )))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algs = &self.provider.signature_verification_algorithms;
        Ok(tolerate(crypto::verify_tls13_signature(
            message, cert, dss, algs,
        )))
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

fn tolerate(checked: Result<HandshakeSignatureValid, rustls::Error>) -> HandshakeSignatureValid {
    match checked {
        Ok(valid) => valid,
        Err(e) => {
            tracing::debug!(error = %e, "no_verify: ignoring a handshake signature that did not verify");
            HandshakeSignatureValid::assertion()
        }
    }
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
    fn no_verify_builds() {
        let opts = TlsOptions {
            no_verify: true,
            ..TlsOptions::default()
        };
        assert!(client_config(&opts).is_ok());
    }

    #[test]
    fn advice_names_host_and_remedies() {
        let msg = verification_advice("esx1.example", &"UnknownIssuer");
        assert!(msg.contains("'esx1.example'"));
        assert!(msg.contains("no_verify=1"));
        assert!(msg.contains("CA"));
    }
}
