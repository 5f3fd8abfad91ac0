//! The tracing span of every SOAP call, with credentials masked, captured deterministically
//! with `esx_testkit::trace` (see its module doc for why tests must not use
//! `tracing::subscriber::set_default`). Every test of this binary calls `capture()` first.

mod client_support;

use std::sync::Arc;

use client_support::{response, Script, Scripted};
use esx_vim::client::{HttpOptions, HttpTransport};
use esx_vim::transport::{SoapCall, Transport};

#[tokio::test]
async fn span_per_call_with_masked_password() {
    let capture = esx_testkit::trace::capture();
    let script: Arc<Script> = Arc::new(|_, req| {
        let echoed = String::from_utf8_lossy(&req.body).to_string();
        Some(response(
            "200 OK",
            &[("Set-Cookie", "vmware_soap_session=\"TOPSECRETCOOKIE\"")],
            echoed.as_bytes(),
        ))
    });
    let srv = Scripted::start(0, script).await;
    let t = HttpTransport::new(&srv.url(), HttpOptions::default()).expect("transport");
    let body = br#"<Login xmlns="urn:vim25"><_this type="SessionManager">ha-sessionmgr</_this><userName>root</userName><password>Sup3rS3cret</password></Login>"#;
    let call = SoapCall {
        method: "Login",
        this: Some(("SessionManager", "ha-sessionmgr")),
        body: body.to_vec(),
    };
    let reply = t.round_trip(call).await.expect("reply");
    assert_eq!(reply.status, 200);
    let text = capture.text();
    assert!(
        text.contains("span soap:") && text.contains("method=\"Login\""),
        "{text}"
    );
    assert!(
        text.contains("moref=SessionManager:ha-sessionmgr"),
        "{text}"
    );
    assert!(
        text.contains("status=200") && text.contains(&format!("bytes={}", body.len())),
        "{text}"
    );
    assert!(text.contains("duration_ms="), "{text}");
    assert!(
        text.contains("<password>***</password>"),
        "trace logs the masked body: {text}"
    );
    assert!(
        !text.contains("Sup3rS3cret"),
        "the password leaked into the logs: {text}"
    );
    assert!(
        !text.contains("TOPSECRETCOOKIE"),
        "the session cookie leaked into the logs: {text}"
    );
}
