//! TLS against local HTTPS servers with rcgen certificates: a wrong host name, an expired and a
//! self-signed certificate are refused with a message that names the problem and the remedies;
//! a pinned SHA-256 fingerprint accepts exactly the leaf it names.

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use esx_vim::client::{HttpOptions, HttpTransport, RetryPolicy, TlsOptions};
use esx_vim::transport::{SoapCall, Transport, TransportError, TransportErrorKind};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// A CA that signs test leaves.
struct Ca {
    cert: rcgen::Certificate,
    key: KeyPair,
}

impl Ca {
    fn new(name: &str) -> Ca {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("ca params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().expect("ca key");
        let cert = params.self_signed(&key).expect("ca cert");
        Ca { cert, key }
    }

    /// Writes the CA certificate as a PEM file and returns its path.
    fn pem_file(&self, name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("esx-vim-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("cert dir");
        let path = dir.join(format!("{name}.pem"));
        std::fs::write(&path, self.cert.pem()).expect("write ca");
        path
    }
}

/// A calendar date: year, month, day.
type Ymd = (i32, u8, u8);

/// A server certificate and its key.
struct Leaf {
    der: CertificateDer<'static>,
    key: Vec<u8>,
}

impl Leaf {
    /// A leaf for `names`, signed by `ca` (self-signed without one), valid from `dates` (or from
    /// rcgen's default, 1975 to 4096).
    fn new(names: &[&str], ca: Option<&Ca>, dates: Option<(Ymd, Ymd)>) -> Leaf {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut params = CertificateParams::new(names.clone()).expect("leaf params");
        // Not just the host name: a system root may be named `CN=localhost` (Debian's snakeoil).
        let cn = format!("esx-vim test leaf for {}", names[0]);
        params.distinguished_name.push(DnType::CommonName, cn);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        if let Some(((y0, m0, d0), (y1, m1, d1))) = dates {
            params.not_before = rcgen::date_time_ymd(y0, m0, d0);
            params.not_after = rcgen::date_time_ymd(y1, m1, d1);
        }
        let key = KeyPair::generate().expect("leaf key");
        let cert = match ca {
            Some(ca) => params.signed_by(&key, &ca.cert, &ca.key),
            None => params.self_signed(&key),
        }
        .expect("leaf cert");
        Leaf {
            der: cert.der().clone(),
            key: key.serialize_der(),
        }
    }

    /// The SHA-256 fingerprint as `AA:BB:…`.
    fn fingerprint(&self) -> String {
        let digest = ring::digest::digest(&ring::digest::SHA256, &self.der);
        let hex: Vec<String> = digest.as_ref().iter().map(|b| format!("{b:02X}")).collect();
        hex.join(":")
    }
}

/// An HTTPS server on a free loopback port presenting `leaf`, answering `<ok/>` once per
/// connection and counting TLS handshakes started.
struct Server {
    port: u16,
    handshakes: Arc<AtomicUsize>,
}

impl Server {
    async fn start(leaf: &Leaf) -> Server {
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf.key.clone()));
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_no_client_auth()
            .with_single_cert(vec![leaf.der.clone()], key)
            .expect("server config");
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let handshakes = Arc::new(AtomicUsize::new(0));
        let counter = handshakes.clone();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let mut conn = BufReader::new(tls);
                    let mut length = 0usize;
                    loop {
                        let mut line = String::new();
                        if conn.read_line(&mut line).await.unwrap_or(0) == 0 {
                            return;
                        }
                        let line = line.trim_end().to_ascii_lowercase();
                        if line.is_empty() {
                            break;
                        }
                        if let Some(v) = line.strip_prefix("content-length:") {
                            length = v.trim().parse().unwrap_or(0);
                        }
                    }
                    let mut body = vec![0u8; length];
                    if conn.read_exact(&mut body).await.is_err() {
                        return;
                    }
                    let reply =
                        "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 5\r\n\
                                 Connection: close\r\n\r\n<ok/>";
                    let _ = conn.write_all(reply.as_bytes()).await;
                    let _ = conn.shutdown().await;
                });
            }
        });
        Server { port, handshakes }
    }

    fn handshakes(&self) -> usize {
        self.handshakes.load(Ordering::SeqCst)
    }
}

fn options(tls: TlsOptions) -> HttpOptions {
    HttpOptions {
        tls,
        retry: RetryPolicy::default(),
        ..HttpOptions::default()
    }
}

/// Trust only `ca_file` (no system roots), so that the tests do not depend on the machine.
fn trusting(ca_file: PathBuf) -> TlsOptions {
    TlsOptions {
        ca_file: Some(ca_file),
        skip_system_roots: true,
        ..TlsOptions::default()
    }
}

async fn call(host: &str, port: u16, tls: TlsOptions) -> Result<Vec<u8>, TransportError> {
    let t = HttpTransport::new(&format!("https://{host}:{port}/sdk"), options(tls))?;
    let call = SoapCall {
        method: "RetrieveServiceContent",
        this: Some(("ServiceInstance", "ServiceInstance")),
        body: b"<Envelope/>".to_vec(),
    };
    t.round_trip(call).await.map(|r| r.body)
}

/// Asserts a TLS refusal that names `host` and gives the usual advice; returns the message.
fn refused(result: Result<Vec<u8>, TransportError>, host: &str) -> String {
    let err = result.expect_err("the certificate must be refused");
    assert_eq!(err.kind, TransportErrorKind::Tls, "{err}");
    let msg = err.message;
    eprintln!("{msg}");
    assert!(msg.contains(&format!("host '{host}'")), "{msg}");
    assert!(msg.contains("could not be verified"), "{msg}");
    assert!(msg.contains("no_verify=1"), "{msg}");
    assert!(msg.contains("CA file"), "{msg}");
    msg
}

#[tokio::test]
async fn a_leaf_from_a_trusted_ca_is_accepted_by_ip_and_by_name() {
    let ca = Ca::new("esx-vim test CA");
    let server = Server::start(&Leaf::new(&["localhost", "127.0.0.1"], Some(&ca), None)).await;
    for host in ["127.0.0.1", "localhost"] {
        let body = call(host, server.port, trusting(ca.pem_file("trusted")))
            .await
            .expect("verified");
        assert_eq!(body, b"<ok/>");
    }
}

#[tokio::test]
async fn a_wrong_host_name_is_refused() {
    let ca = Ca::new("esx-vim test CA");
    let server = Server::start(&Leaf::new(&["esx.example"], Some(&ca), None)).await;
    let ca_file = ca.pem_file("wrong-name");
    let msg = refused(
        call("127.0.0.1", server.port, trusting(ca_file.clone())).await,
        "127.0.0.1",
    );
    assert!(msg.contains("not valid for the name '127.0.0.1'"), "{msg}");
    assert!(msg.contains("(it names esx.example)"), "{msg}");
    assert_eq!(
        server.handshakes(),
        1,
        "a refused certificate is not retried"
    );

    // The name was the only problem: without verification the call goes through.
    let no_verify = TlsOptions {
        no_verify: true,
        ..trusting(ca_file)
    };
    assert!(call("127.0.0.1", server.port, no_verify).await.is_ok());
}

#[tokio::test]
async fn an_expired_certificate_is_refused() {
    let ca = Ca::new("esx-vim test CA");
    let leaf = Leaf::new(
        &["localhost", "127.0.0.1"],
        Some(&ca),
        Some(((2019, 1, 1), (2020, 1, 1))),
    );
    let server = Server::start(&leaf).await;
    let msg = refused(
        call("127.0.0.1", server.port, trusting(ca.pem_file("expired"))).await,
        "127.0.0.1",
    );
    assert!(msg.contains("it expired on 2020-01-01"), "{msg}");
    assert!(msg.contains("renew it"), "{msg}");
}

#[tokio::test]
async fn a_self_signed_certificate_is_refused() {
    let leaf = Leaf::new(&["localhost", "127.0.0.1"], None, None);
    let server = Server::start(&leaf).await;
    // Trusting another CA, and trusting the system roots only.
    let other = Ca::new("some other CA");
    for tls in [trusting(other.pem_file("other")), TlsOptions::default()] {
        let msg = refused(call("127.0.0.1", server.port, tls).await, "127.0.0.1");
        assert!(msg.contains("self-signed"), "{msg}");
        assert!(
            msg.contains(&leaf.fingerprint()),
            "the message offers the fingerprint to pin: {msg}"
        );
    }
}

#[tokio::test]
async fn a_pinned_fingerprint_accepts_its_leaf_and_only_it() {
    let leaf = Leaf::new(&["esx.example"], None, Some(((2019, 1, 1), (2020, 1, 1))));
    let server = Server::start(&leaf).await;
    let pinned = |fingerprint: String| TlsOptions {
        fingerprint: Some(fingerprint),
        ..TlsOptions::default()
    };

    // Self-signed, expired and for another name, yet the pin names it: accepted, whether the
    // pin is written upper case with colons or lower case without.
    let upper = leaf.fingerprint();
    let lower = upper.replace(':', "").to_ascii_lowercase();
    for fp in [upper.clone(), lower] {
        let body = call("127.0.0.1", server.port, pinned(fp))
            .await
            .expect("pinned");
        assert_eq!(body, b"<ok/>");
    }

    // Another leaf's fingerprint: refused with both fingerprints, even under no_verify.
    let other = Leaf::new(&["esx.example"], None, None).fingerprint();
    for no_verify in [false, true] {
        let tls = TlsOptions {
            no_verify,
            ..pinned(other.clone())
        };
        let err = call("127.0.0.1", server.port, tls)
            .await
            .expect_err("wrong pin");
        assert_eq!(err.kind, TransportErrorKind::Tls, "{err}");
        let msg = err.message;
        assert!(
            msg.contains("does not match the pinned fingerprint"),
            "{msg}"
        );
        assert!(msg.contains(&format!("expected SHA-256 {other}")), "{msg}");
        assert!(msg.contains(&format!("presented {upper}")), "{msg}");
    }

    // A leaf that verifies against a trusted CA is still refused when the pin names another.
    let ca = Ca::new("esx-vim test CA");
    let good = Server::start(&Leaf::new(&["127.0.0.1"], Some(&ca), None)).await;
    let tls = TlsOptions {
        fingerprint: Some(upper),
        ..trusting(ca.pem_file("pinned"))
    };
    let err = call("127.0.0.1", good.port, tls)
        .await
        .expect_err("the pin wins over the CA");
    assert!(err.message.contains("pinned fingerprint"), "{err}");
}

#[tokio::test]
async fn a_malformed_fingerprint_is_refused_before_connecting() {
    for bad in ["AA:BB", "not hex at all", &"ab".repeat(20)] {
        let tls = TlsOptions {
            fingerprint: Some(bad.to_string()),
            ..TlsOptions::default()
        };
        let err = HttpTransport::new("https://127.0.0.1:1/sdk", options(tls)).expect_err(bad);
        assert_eq!(err.kind, TransportErrorKind::Tls, "{err}");
        assert!(err.message.contains("SHA-256"), "{err}");
    }
}
