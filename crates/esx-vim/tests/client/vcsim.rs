//! HttpTransport against govmomi's vcsim on loopback: raw SOAP envelopes, login and cookie,
//! wrong password, TLS with a CA file and without verification, every proxy kind.

use crate::client_support;

use client_support::*;
use esx_vim::client::{HttpOptions, HttpTransport, ProxyAuth, ProxyConfig, ProxyKind, TlsOptions};
use esx_vim::transport::{SoapCall, Transport, TransportErrorKind};

/// Ports 18900-18929 belong to this test binary.
static PORTS: Ports = Ports::new(18900, 30);

fn no_verify() -> HttpOptions {
    HttpOptions {
        tls: TlsOptions {
            no_verify: true,
            ..TlsOptions::default()
        },
        ..HttpOptions::default()
    }
}

fn call<'a>(method: &'a str, body: Vec<u8>) -> SoapCall<'a> {
    SoapCall {
        method,
        this: None,
        body,
    }
}

#[tokio::test]
async fn retrieve_service_content_and_versions() {
    if skip_without_vcsim("retrieve_service_content_and_versions") {
        return;
    }
    let sim = Vcsim::start(PORTS.take(), &["-esx", "-vm", "1"]);
    let t = HttpTransport::new(&sim.url(), no_verify()).expect("transport");
    let reply = t
        .round_trip(call("RetrieveServiceContent", retrieve_service_content()))
        .await
        .expect("reply");
    assert_eq!(reply.status, 200);
    let text = String::from_utf8(reply.body).expect("utf8");
    assert_eq!(element(&text, "apiType"), Some("HostAgent"), "{text}");
    assert_eq!(element(&text, "apiVersion"), Some("6.5"));

    let (status, versions) = t
        .get_bytes("/sdk/vimServiceVersions.xml")
        .await
        .expect("versions");
    assert_eq!(status, 200);
    let versions = String::from_utf8(versions).expect("utf8");
    assert!(versions.contains("<name>urn:vim25</name>"), "{versions}");
}

#[tokio::test]
async fn login_keeps_cookie_and_wrong_password_is_a_fault() {
    if skip_without_vcsim("login_keeps_cookie_and_wrong_password_is_a_fault") {
        return;
    }
    let sim = Vcsim::start(
        PORTS.take(),
        &[
            "-esx",
            "-vm",
            "1",
            "-username",
            "root",
            "-password",
            "right",
        ],
    );
    let t = HttpTransport::new(&sim.url(), no_verify()).expect("transport");

    // Wrong password: HTTP 500 with an InvalidLogin fault; no session.
    let reply = t
        .round_trip(call("Login", login("ha-sessionmgr", "root", "wrong")))
        .await
        .expect("reply");
    assert_eq!(reply.status, 500);
    let text = String::from_utf8(reply.body).expect("utf8");
    assert!(text.contains("InvalidLogin"), "{text}");
    assert_eq!(t.session_cookie(), None);

    // Not logged in: the current session is a NotAuthenticated entry.
    let probe = current_session("ha-property-collector", "ha-sessionmgr");
    let reply = t
        .round_trip(call("RetrievePropertiesEx", probe.clone()))
        .await
        .expect("reply");
    assert!(String::from_utf8_lossy(&reply.body).contains("NotAuthenticated"));

    // Right password: the cookie is kept and sent on later calls.
    let reply = t
        .round_trip(call("Login", login("ha-sessionmgr", "root", "right")))
        .await
        .expect("reply");
    assert_eq!(reply.status, 200);
    let text = String::from_utf8(reply.body).expect("utf8");
    let key = element(&text, "key").expect("session key").to_string();
    let cookie = t.session_cookie().expect("cookie kept");
    assert!(cookie.contains(&key), "cookie {cookie} vs key {key}");
    let reply = t
        .round_trip(call("RetrievePropertiesEx", probe.clone()))
        .await
        .expect("reply");
    let text = String::from_utf8(reply.body).expect("utf8");
    assert!(!text.contains("NotAuthenticated"), "{text}");
    assert_eq!(element(&text, "userName"), Some("root"), "{text}");

    // Forgetting the cookie loses the session again.
    t.set_session_cookie(None);
    let reply = t
        .round_trip(call("RetrievePropertiesEx", probe))
        .await
        .expect("reply");
    assert!(String::from_utf8_lossy(&reply.body).contains("NotAuthenticated"));
}

#[tokio::test]
async fn tls_verification_with_ca_file_and_default_roots() {
    if skip_without_vcsim("tls_verification_with_ca_file_and_default_roots") {
        return;
    }
    let port = PORTS.take();
    let dir = std::env::temp_dir().join(format!("esx-vim-certs-{}-{port}", std::process::id()));
    let (ca, cert, key) = make_certs(&dir);
    let sim = Vcsim::start(
        port,
        &[
            "-esx",
            "-vm",
            "1",
            "-tlscert",
            cert.to_str().expect("path"),
            "-tlskey",
            key.to_str().expect("path"),
        ],
    );

    // Trusting our CA: verification on, the call goes through (by IP and by name).
    for host in ["127.0.0.1", "localhost"] {
        let opts = HttpOptions {
            tls: TlsOptions {
                ca_file: Some(ca.clone()),
                ..TlsOptions::default()
            },
            ..HttpOptions::default()
        };
        let url = format!("https://{host}:{}/sdk", sim.port);
        let t = HttpTransport::new(&url, opts).expect("transport");
        let reply = t
            .round_trip(call("RetrieveServiceContent", retrieve_service_content()))
            .await
            .expect("verified");
        assert_eq!(reply.status, 200);
    }

    // System roots only: the certificate is refused, with libvirt-like advice.
    let t = HttpTransport::new(&sim.url(), HttpOptions::default()).expect("transport");
    let err = t
        .round_trip(call("RetrieveServiceContent", retrieve_service_content()))
        .await
        .expect_err("unverified");
    assert_eq!(err.kind, TransportErrorKind::Tls, "{err}");
    assert!(
        err.message.contains("'127.0.0.1'") && err.message.contains("no_verify=1"),
        "{err}"
    );

    // no_verify: accepted.
    let t = HttpTransport::new(&sim.url(), no_verify()).expect("transport");
    assert_eq!(
        t.round_trip(call("RetrieveServiceContent", retrieve_service_content()))
            .await
            .expect("ok")
            .status,
        200
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn vcsim_default_certificate_is_refused_without_no_verify() {
    if skip_without_vcsim("vcsim_default_certificate_is_refused_without_no_verify") {
        return;
    }
    let sim = Vcsim::start(PORTS.take(), &["-esx", "-vm", "1"]);
    let t = HttpTransport::new(&sim.url(), HttpOptions::default()).expect("transport");
    let err = t
        .round_trip(call("RetrieveServiceContent", retrieve_service_content()))
        .await
        .expect_err("self-signed");
    assert_eq!(err.kind, TransportErrorKind::Tls, "{err}");
    assert!(err.message.contains("could not be verified"), "{err}");
}

#[tokio::test]
async fn every_proxy_kind_tunnels_to_vcsim() {
    if skip_without_vcsim("every_proxy_kind_tunnels_to_vcsim") {
        return;
    }
    let sim = Vcsim::start(PORTS.take(), &["-esx", "-vm", "1"]);
    let proxy = TestProxy::start(PORTS.take(), false).await;
    let cases = [
        (ProxyKind::Http, "127.0.0.1", "http 127.0.0.1"),
        (ProxyKind::Socks4, "localhost", "socks4 127.0.0.1"),
        (ProxyKind::Socks4a, "localhost", "socks4a localhost"),
        (ProxyKind::Socks5, "127.0.0.1", "socks5 127.0.0.1"),
    ];
    for (kind, host, expect) in cases {
        let mut opts = no_verify();
        opts.proxy = Some(ProxyConfig::new(kind, "127.0.0.1", proxy.addr.port()));
        let t = HttpTransport::new(&format!("https://{host}:{}/sdk", sim.port), opts)
            .expect("transport");
        let reply = t
            .round_trip(call("RetrieveServiceContent", retrieve_service_content()))
            .await
            .unwrap_or_else(|e| panic!("{kind} proxy: {e}"));
        assert_eq!(reply.status, 200);
        let expected = format!("{expect}:{}", sim.port);
        assert!(
            proxy.entries().contains(&expected),
            "{kind}: {:?} lacks {expected}",
            proxy.entries()
        );
    }
}

/// A proxy that asks for credentials: HTTP (Basic) and SOCKS5 (user/password) tunnel with the
/// right ones, refuse wrong ones with a proxy error naming the refusal; SOCKS4 and SOCKS4a,
/// which cannot carry a password, are refused before anything is sent.
#[tokio::test]
async fn proxies_with_credentials() {
    if skip_without_vcsim("proxies_with_credentials") {
        return;
    }
    let sim = Vcsim::start(PORTS.take(), &["-esx", "-vm", "1"]);
    let proxy = TestProxy::start_with_credentials(PORTS.take(), "alice", "Pr0xy-s3cret").await;
    let through = |kind: ProxyKind, password: &str| {
        let mut opts = no_verify();
        opts.proxy = Some(
            ProxyConfig::new(kind, "127.0.0.1", proxy.addr.port())
                .with_auth(ProxyAuth::new("alice", password)),
        );
        HttpTransport::new(&sim.url(), opts).expect("transport")
    };
    for kind in [ProxyKind::Http, ProxyKind::Socks5] {
        let reply = through(kind, "Pr0xy-s3cret")
            .round_trip(call("RetrieveServiceContent", retrieve_service_content()))
            .await
            .unwrap_or_else(|e| panic!("{kind} proxy: {e}"));
        assert_eq!(reply.status, 200);
        let err = through(kind, "wrong-pass")
            .round_trip(call("RetrieveServiceContent", retrieve_service_content()))
            .await
            .expect_err("wrong proxy password");
        assert_eq!(err.kind, TransportErrorKind::Proxy, "{err}");
        assert!(err.message.contains("alice@127.0.0.1"), "{err}");
        assert!(!format!("{err} {err:?}").contains("wrong-pass"), "{err:?}");
        if kind == ProxyKind::Http {
            assert!(err.message.contains("407"), "{err}");
        }
    }
    let entries = proxy.entries();
    for want in [
        "http 127.0.0.1",
        "socks5 127.0.0.1",
        "http-407",
        "socks5-auth-refused",
    ] {
        assert!(
            entries.iter().any(|e| e.starts_with(want)),
            "{want}: {entries:?}"
        );
    }
    let before = proxy.entries().len();
    for kind in [ProxyKind::Socks4, ProxyKind::Socks4a] {
        let err = through(kind, "Pr0xy-s3cret")
            .round_trip(call("RetrieveServiceContent", retrieve_service_content()))
            .await
            .expect_err("socks4 cannot carry a password");
        assert_eq!(err.kind, TransportErrorKind::Proxy, "{err}");
        assert!(err.message.contains("cannot carry a password"), "{err}");
    }
    assert_eq!(proxy.entries().len(), before, "nothing asked of the proxy");
}

#[tokio::test]
async fn proxy_refusal_and_dead_proxy_are_proxy_errors() {
    if skip_without_vcsim("proxy_refusal_and_dead_proxy_are_proxy_errors") {
        return;
    }
    let sim = Vcsim::start(PORTS.take(), &["-esx", "-vm", "1"]);
    let proxy = TestProxy::start(PORTS.take(), true).await;
    let mut opts = no_verify();
    opts.proxy = Some(ProxyConfig::new(
        ProxyKind::Http,
        "127.0.0.1",
        proxy.addr.port(),
    ));
    let t = HttpTransport::new(&sim.url(), opts).expect("transport");
    let err = t
        .round_trip(call("RetrieveServiceContent", retrieve_service_content()))
        .await
        .expect_err("refused");
    assert_eq!(err.kind, TransportErrorKind::Proxy, "{err}");
    assert!(err.message.contains("403"), "{err}");

    let dead = PORTS.take();
    let mut opts = no_verify();
    opts.proxy = Some(ProxyConfig::new(ProxyKind::Socks5, "127.0.0.1", dead));
    let t = HttpTransport::new(&sim.url(), opts).expect("transport");
    let err = t
        .round_trip(call("RetrieveServiceContent", retrieve_service_content()))
        .await
        .expect_err("no proxy");
    assert_eq!(err.kind, TransportErrorKind::Proxy, "{err}");
    assert!(err.message.contains(&format!("127.0.0.1:{dead}")), "{err}");
}

#[tokio::test]
async fn plain_http_endpoint() {
    if skip_without_vcsim("plain_http_endpoint") {
        return;
    }
    let sim = Vcsim::start(PORTS.take(), &["-esx", "-vm", "1", "-tls=false"]);
    let t = HttpTransport::new(
        &format!("http://127.0.0.1:{}/sdk", sim.port),
        HttpOptions::default(),
    )
    .expect("transport");
    let reply = t
        .round_trip(call("RetrieveServiceContent", retrieve_service_content()))
        .await
        .expect("reply");
    assert_eq!(reply.status, 200);
}
