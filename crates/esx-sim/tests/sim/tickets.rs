//! Generic service tickets: `AcquireGenericServiceTicket`, then the ticket as the
//! `vmware_cgi_ticket` cookie on `/folder` requests (once, for its URL and method), with curl.

use std::path::Path;
use std::process::Command;

use esx_vim::client::{Client, ConnectOptions, HttpOptions};
use esx_vim::{
    methods, BaseSessionManagerServiceRequestSpec, SessionManagerGenericServiceTicket,
    SessionManagerHttpServiceRequestSpec,
};

async fn connect(h: &esx_sim::Handle, user: &str) -> Client {
    let mut http = HttpOptions::default();
    http.tls.no_verify = true;
    let options = ConnectOptions {
        user: user.into(),
        password: "pass".into(),
        http,
        ..Default::default()
    };
    Client::connect(&h.url, options).await.unwrap()
}

async fn ticket(
    c: &Client,
    url: &str,
    method: Option<&str>,
) -> Result<SessionManagerGenericServiceTicket, esx_vim::Error> {
    let sm = c.service_content().session_manager.clone().unwrap();
    let spec = BaseSessionManagerServiceRequestSpec::from(SessionManagerHttpServiceRequestSpec {
        url: url.into(),
        method: method.map(str::to_owned),
    });
    methods::acquire_generic_service_ticket(c, &sm, spec).await
}

/// `curl -k` with only the ticket cookie; returns (HTTP status, body).
fn curl(url: &str, ticket: &str, put: Option<&str>) -> (u16, String) {
    let mut cmd = Command::new("curl");
    cmd.args(["-sk", "-o", "-", "-w", "\n%{http_code}", "--cookie"])
        .arg(format!("vmware_cgi_ticket={ticket}"));
    if let Some(body) = put {
        cmd.args(["-X", "PUT", "--data-binary", body]);
    }
    let out = esx_testkit::process::output(cmd.arg(url), esx_testkit::process::LIMIT).unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
    (code.trim().parse().unwrap_or(0), body.to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tickets_stand_in_for_a_session_once() {
    if !Path::new("/usr/bin/curl").exists() && Command::new("curl").arg("-V").output().is_err() {
        eprintln!("SKIPPED: curl is missing");
        return;
    }
    let dir = std::env::temp_dir().join(format!("esx-sim-tickets-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let h = esx_sim::Simulator::start(esx_sim::Config::new(&dir))
        .await
        .unwrap();
    let base = format!("https://127.0.0.1:{}", h.addr.port());
    let vmx = format!("{base}/folder/vm1/vm1.vmx?dcPath=ha-datacenter&dsName=datastore1");
    let c = connect(&h, "root").await;

    let t = ticket(&c, &vmx, Some("httpGet")).await.unwrap();
    assert_eq!(t.ssl_thumbprint.as_deref(), Some(h.thumbprint.as_str()));
    assert_eq!(h.thumbprint.len(), 59, "SHA-1 in colon hex");
    assert_eq!(t.host_name.as_deref(), Some("127.0.0.1"));
    let (vmx2, t2) = (vmx.clone(), t.id.clone());
    let (first, second, none) = tokio::task::spawn_blocking(move || {
        (
            curl(&vmx2, &t2, None),
            curl(&vmx2, &t2, None),
            curl(&vmx2, "52000000-0000-0000-0000-000000000000", None),
        )
    })
    .await
    .unwrap();
    assert_eq!(first.0, 200, "{first:?}");
    assert!(first.1.contains("displayName = \"vm1\""), "{first:?}");
    assert_eq!(second.0, 401, "a ticket is good once");
    assert_eq!(none.0, 401);

    // A GET ticket does not allow PUT, nor another path.
    let t = ticket(&c, &vmx, Some("httpGet")).await.unwrap();
    let url = vmx.clone();
    let put = tokio::task::spawn_blocking(move || curl(&url, &t.id, Some("x")))
        .await
        .unwrap();
    assert_eq!(put.0, 401, "{put:?}");
    let t = ticket(&c, &vmx, None).await.unwrap();
    let other = format!("{base}/folder/vm2/vm2.vmx?dcPath=ha-datacenter&dsName=datastore1");
    let wrong = tokio::task::spawn_blocking(move || curl(&other, &t.id, None))
        .await
        .unwrap();
    assert_eq!(wrong.0, 401, "{wrong:?}");

    // A ticket without a method allows an upload.
    let note = format!("{base}/folder/vm1/note.txt?dcPath=ha-datacenter&dsName=datastore1");
    let t = ticket(&c, &note, None).await.unwrap();
    let url = note.clone();
    let put = tokio::task::spawn_blocking(move || curl(&url, &t.id, Some("hello")))
        .await
        .unwrap();
    assert_eq!(put.0, 201, "{put:?}");
    assert_eq!(
        std::fs::read_to_string(dir.join("datastore1/vm1/note.txt")).unwrap(),
        "hello"
    );
    // Only /folder URLs.
    let e = ticket(&c, &format!("{base}/sdk"), None).await.unwrap_err();
    assert!(format!("{e:?}").contains("InvalidArgument"), "{e:?}");

    // A read-only user's ticket reads but does not write.
    let ro = connect(&h, "readonly").await;
    let t = ticket(&ro, &note, None).await.unwrap();
    let url = note.clone();
    let put = tokio::task::spawn_blocking(move || curl(&url, &t.id, Some("no")))
        .await
        .unwrap();
    assert_eq!(put.0, 403, "{put:?}");
    h.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}
