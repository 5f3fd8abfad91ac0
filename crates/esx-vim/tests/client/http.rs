//! HttpTransport against a scripted HTTP server on loopback: headers, cookie, keep-alive, gzip,
//! the response bound, retries (connection refused, 503) and no retry for faults or timeouts.
//! The tracing span with masked credentials is tested in `client_tracing.rs`.

use crate::client_support;

use std::io::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use client_support::{response, Ports, Script, Scripted};
use esx_vim::client::{HttpOptions, HttpTransport, RetryPolicy};
use esx_vim::transport::{SoapCall, Transport, TransportErrorKind};

/// Ports 18940-18969 belong to this test binary.
static PORTS: Ports = Ports::new(18940, 30);

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).expect("gzip");
    enc.finish().expect("gzip")
}

fn call(method: &str) -> SoapCall<'_> {
    SoapCall {
        method,
        this: Some(("ServiceInstance", "ServiceInstance")),
        body: b"<Envelope/>".to_vec(),
    }
}

fn fast_retry(max_attempts: u32) -> HttpOptions {
    HttpOptions {
        retry: RetryPolicy {
            max_attempts,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(400),
        },
        ..HttpOptions::default()
    }
}

#[tokio::test]
async fn headers_cookie_keepalive_and_gzip() {
    const XML: &str = "<soapenv:Envelope><soapenv:Body><ok/></soapenv:Body></soapenv:Envelope>";
    let script: Arc<Script> = Arc::new(|n, _| {
        let z = gzip(XML.as_bytes());
        Some(if n == 0 {
            response(
                "200 OK",
                &[
                    ("Content-Encoding", "gzip"),
                    (
                        "Set-Cookie",
                        "vmware_soap_session=\"52ab\"; Path=/; HttpOnly",
                    ),
                ],
                &z,
            )
        } else {
            response("200 OK", &[("Content-Encoding", "gzip")], &z)
        })
    });
    let srv = Scripted::start(PORTS.take(), script).await;
    let t = HttpTransport::new(&srv.url(), HttpOptions::default()).expect("transport");
    let r1 = t
        .round_trip(call("RetrieveServiceContent"))
        .await
        .expect("first");
    assert_eq!((r1.status, r1.body.as_slice()), (200, XML.as_bytes()));
    assert_eq!(t.session_cookie().as_deref(), Some("\"52ab\""));
    t.set_api_version("6.7");
    let r2 = t.round_trip(call("CurrentTime")).await.expect("second");
    assert_eq!(r2.body, XML.as_bytes());

    let seen = srv.seen();
    assert_eq!(seen.len(), 2);
    let (a, b) = (&seen[0], &seen[1]);
    assert_eq!(
        a.connection, b.connection,
        "the connection is kept alive and reused"
    );
    assert_eq!(
        a.headers.get("content-type").map(String::as_str),
        Some("text/xml; charset=utf-8")
    );
    assert_eq!(
        a.headers.get("soapaction").map(String::as_str),
        Some("urn:vim25")
    );
    assert_eq!(
        b.headers.get("soapaction").map(String::as_str),
        Some("urn:vim25/6.7")
    );
    assert_eq!(
        a.headers.get("accept-encoding").map(String::as_str),
        Some("gzip")
    );
    assert!(!a.headers.contains_key("cookie"));
    assert_eq!(
        b.headers.get("cookie").map(String::as_str),
        Some("vmware_soap_session=\"52ab\"")
    );
    let (op1, op2) = (
        a.headers.get("operationid").expect("op id"),
        b.headers.get("operationid").expect("op id"),
    );
    assert_ne!(op1, op2);
    assert_eq!(a.body, b"<Envelope/>");
    assert!(a.headers.keys().all(|k| !k.starts_with("vmware-api")));
}

#[tokio::test]
async fn response_bound_plain_and_gzip() {
    let script: Arc<Script> = Arc::new(|n, _| {
        Some(match n {
            0 => response("200 OK", &[], &vec![b'a'; 2000]),
            1 => response(
                "200 OK",
                &[("Content-Encoding", "gzip")],
                &gzip(&vec![0u8; 1_000_000]),
            ),
            _ => {
                // chunked, no Content-Length
                let mut out = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
                for _ in 0..3 {
                    out.extend_from_slice(format!("{:x}\r\n", 500).as_bytes());
                    out.extend_from_slice(&[b'b'; 500]);
                    out.extend_from_slice(b"\r\n");
                }
                out.extend_from_slice(b"0\r\n\r\n");
                out
            }
        })
    });
    let srv = Scripted::start(PORTS.take(), script).await;
    let opts = HttpOptions {
        max_response_bytes: 1000,
        ..HttpOptions::default()
    };
    let t = HttpTransport::new(&srv.url(), opts).expect("transport");
    for what in ["content-length", "gzip bomb", "chunked"] {
        let err = t
            .round_trip(call("RetrieveProperties"))
            .await
            .expect_err(what);
        assert_eq!(err.kind, TransportErrorKind::TooLarge, "{what}: {err}");
        assert!(err.message.contains("1000-byte limit"), "{err}");
    }
}

#[tokio::test]
async fn overload_503_is_retried_with_backoff() {
    let script: Arc<Script> = Arc::new(|n, _| {
        Some(if n < 2 {
            response("503 Service Unavailable", &[], b"busy")
        } else {
            response("200 OK", &[], b"<ok/>")
        })
    });
    let srv = Scripted::start(PORTS.take(), script).await;
    let t = HttpTransport::new(&srv.url(), fast_retry(3)).expect("transport");
    let started = Instant::now();
    let reply = t
        .round_trip(call("PowerOnVM_Task"))
        .await
        .expect("third attempt succeeds");
    assert_eq!(reply.body, b"<ok/>");
    assert_eq!(srv.seen().len(), 3);
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "backoff 100 + 200 ms"
    );

    let t = HttpTransport::new(&srv.url(), fast_retry(2)).expect("transport");
    let script_srv = Scripted::start(
        PORTS.take(),
        Arc::new(|_, _| Some(response("503 Service Unavailable", &[], b""))),
    )
    .await;
    let t2 = HttpTransport::new(&script_srv.url(), fast_retry(2)).expect("transport");
    let err = t2
        .round_trip(call("PowerOnVM_Task"))
        .await
        .expect_err("always busy");
    assert_eq!(err.kind, TransportErrorKind::Http);
    assert!(
        err.message.contains("503") && err.message.contains("2 attempts"),
        "{err}"
    );
    assert_eq!(script_srv.seen().len(), 2);
    drop(t);
}

#[tokio::test]
async fn soap_fault_is_returned_not_retried() {
    let fault = b"<soapenv:Fault><faultstring>Login failure</faultstring></soapenv:Fault>";
    let script: Arc<Script> =
        Arc::new(move |_, _| Some(response("500 Internal Server Error", &[], fault)));
    let srv = Scripted::start(PORTS.take(), script).await;
    let t = HttpTransport::new(&srv.url(), fast_retry(3)).expect("transport");
    let reply = t
        .round_trip(call("Login"))
        .await
        .expect("a fault is a reply");
    assert_eq!(reply.status, 500);
    assert_eq!(reply.body, fault);
    assert_eq!(srv.seen().len(), 1, "faults are never retried");
}

#[tokio::test]
async fn other_statuses_are_http_errors() {
    let script: Arc<Script> =
        Arc::new(|_, _| Some(response("404 Not Found", &[], b"no such page")));
    let srv = Scripted::start(PORTS.take(), script).await;
    let t = HttpTransport::new(&srv.url(), fast_retry(3)).expect("transport");
    let err = t.round_trip(call("Login")).await.expect_err("404");
    assert_eq!(err.kind, TransportErrorKind::Http);
    assert!(
        err.message.contains("404") && err.message.contains("Login"),
        "{err}"
    );
    assert_eq!(srv.seen().len(), 1);
}

#[tokio::test]
async fn connection_refused_is_retried_until_the_server_is_up() {
    let port = PORTS.take();
    let t = HttpTransport::new(&format!("http://127.0.0.1:{port}/sdk"), fast_retry(3))
        .expect("transport");

    // Nobody listens: three attempts, then a Connect error naming the address.
    let started = Instant::now();
    let err = t
        .round_trip(call("RetrieveServiceContent"))
        .await
        .expect_err("refused");
    assert_eq!(err.kind, TransportErrorKind::Connect, "{err}");
    assert!(err.message.contains(&format!("127.0.0.1:{port}")), "{err}");
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "two backoffs (100 + 200 ms)"
    );

    // The server comes up during the backoff: the call succeeds.
    let starter = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(150)).await;
        Scripted::start(
            port,
            Arc::new(|_, _| Some(response("200 OK", &[], b"<up/>"))),
        )
        .await
    });
    let reply = t
        .round_trip(call("RetrieveServiceContent"))
        .await
        .expect("retried into success");
    assert_eq!(reply.body, b"<up/>");
    let srv = starter.await.expect("server");
    assert_eq!(srv.seen().len(), 1);
}

#[tokio::test]
async fn timeout_is_not_retried() {
    let script: Arc<Script> = Arc::new(|_, _| None);
    let srv = Scripted::start(PORTS.take(), script).await;
    let opts = HttpOptions {
        request_timeout: Duration::from_millis(300),
        ..fast_retry(3)
    };
    let t = HttpTransport::new(&srv.url(), opts).expect("transport");
    let err = t
        .round_trip(call("PowerOffVM_Task"))
        .await
        .expect_err("timeout");
    assert_eq!(err.kind, TransportErrorKind::Timeout, "{err}");
    assert!(err.message.contains("PowerOffVM_Task"), "{err}");
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        srv.seen().len(),
        1,
        "a request that may have reached the server is not resent"
    );
}

#[tokio::test]
async fn closed_transport_refuses_calls() {
    let srv = Scripted::start(
        PORTS.take(),
        Arc::new(|_, _| Some(response("200 OK", &[], b"<ok/>"))),
    )
    .await;
    let t = HttpTransport::new(&srv.url(), HttpOptions::default()).expect("transport");
    t.close();
    let err = t.round_trip(call("Logout")).await.expect_err("closed");
    assert_eq!(err.kind, TransportErrorKind::Closed);
    assert!(srv.seen().is_empty());
}
