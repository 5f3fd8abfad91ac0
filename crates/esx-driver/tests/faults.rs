//! The fault matrix through the driver (docs/RELIABILITY.md): each row injects a fault into
//! esx-sim (`esx_sim::inject`), asserts the outcome — recovered, or a precise error naming
//! what happened — and the state afterwards.

mod support;

use std::time::Duration;

use esx_driver::{DomainState, ErrorCode, HypervisorDriver, OpenOptions};
use support::{domain_xml, Sim};

async fn faulty(name: &str, inject: &str) -> Sim {
    let spec = inject.to_string();
    Sim::start_with(name, esx_sim::Flavor::Esx, None, move |cfg| {
        cfg.inject = spec.parse().expect("inject spec")
    })
    .await
}

async fn state(c: &esx_driver::Connection, name: &str) -> DomainState {
    let d = c.domain_lookup_by_name(name).await.unwrap();
    c.domain_get_state(&d, 0).await.unwrap().0
}

/// A read whose connection drops is read again: recovered.
#[tokio::test]
async fn dropped_read_is_read_again() {
    let sim = faulty("f-drop-read", "drop:RetrievePropertiesEx=1").await;
    let c = sim.connect().await;
    assert_eq!(c.connect_list_all_domains(0).await.unwrap().len(), 3);
}

/// A task call whose connection drops is never sent again; the error says so and names the
/// VM's state, which is what the server really has.
#[tokio::test]
async fn dropped_task_call_is_not_resent() {
    let sim = faulty("f-drop-task", "drop:PowerOnVM_Task=1").await;
    let c = sim.connect().await;
    let d = c.domain_lookup_by_name("vm1").await.unwrap();
    let e = c.domain_create(&d).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::OperationFailed, "{e}");
    assert!(e.message.starts_with("Could not start domain: "), "{e}");
    assert!(e.message.contains("was not sent again"), "{e}");
    assert!(e.message.ends_with("the domain is shut off now"), "{e}");
    assert_eq!(state(&c, "vm1").await, DomainState::Shutoff);
    // The caller may try again: it works.
    c.domain_create(&d).await.unwrap();
    assert_eq!(state(&c, "vm1").await, DomainState::Running);
}

/// HTTP 503 (server busy) is retried with back-off by the transport: recovered.
#[tokio::test]
async fn busy_server_is_retried() {
    let sim = faulty("f-503", "http503:*=2").await;
    let c = sim.connect().await;
    let d = c.domain_lookup_by_name("vm1").await.unwrap();
    c.domain_create(&d).await.unwrap();
    assert_eq!(state(&c, "vm1").await, DomainState::Running);
}

/// HTTP 500 without a SOAP fault on a task call: not resent, reported with the state.
#[tokio::test]
async fn http_500_on_a_task_call() {
    let sim = faulty("f-500", "http500:PowerOffVM_Task=1").await;
    let c = sim.connect().await;
    let d = c.domain_lookup_by_name("vm2").await.unwrap();
    c.domain_create(&d).await.unwrap();
    let e = c.domain_destroy(&d).await.unwrap_err();
    assert!(e.message.contains("HTTP response code 500"), "{e}");
    assert!(e.message.ends_with("the domain is running now"), "{e}");
    assert_eq!(state(&c, "vm2").await, DomainState::Running);
}

/// A server slower than the request timeout: a precise timeout error, no hang.
#[tokio::test]
async fn slow_server_times_out() {
    let sim = faulty("f-slow", "latency:SuspendVM_Task=3000").await;
    let mut options = support::options("root", false);
    options.http = Some(esx_vim::client::HttpOptions {
        request_timeout: Duration::from_millis(500),
        ..Default::default()
    });
    let c = esx_driver::Connection::open(&sim.uri(""), options)
        .await
        .unwrap();
    let d = c.domain_lookup_by_name("vm3").await.unwrap();
    c.domain_create(&d).await.unwrap();
    let started = std::time::Instant::now();
    let e = c.domain_suspend(&d).await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "bounded by the timeout"
    );
    assert!(
        e.message.contains("timed out") || e.message.contains("within"),
        "{e}"
    );
    assert!(e.message.contains("was not sent again"), "{e}");
}

/// A task that fails on the server: its fault comes back, nothing changed.
#[tokio::test]
async fn failing_task_changes_nothing() {
    let sim = faulty(
        "f-task",
        "fail-task:PowerOnVM_Task=1,fail-task:ReconfigVM_Task=1",
    )
    .await;
    let c = sim.connect().await;
    let d = c.domain_lookup_by_name("vm1").await.unwrap();
    let e = c.domain_create(&d).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::InternalError);
    assert_eq!(
        e.message,
        "Could not start domain: SystemError - A general system error occurred: injected task failure"
    );
    assert_eq!(e.vim_fault().as_deref(), Some("SystemError"));
    assert_eq!(state(&c, "vm1").await, DomainState::Shutoff);
    // A failing edit leaves the domain as it was.
    let before = c.domain_get_xml_desc(&d, 0).await.unwrap();
    let edited = before.replace(
        "<vcpu placement='static'>1</vcpu>",
        "<vcpu placement='static'>2</vcpu>",
    );
    assert_ne!(edited, before);
    let e = c.domain_define_xml(&edited).await.unwrap_err();
    assert!(e.message.contains("injected task failure"), "{e}");
    assert_eq!(c.domain_get_xml_desc(&d, 0).await.unwrap(), before);
}

/// The server restarts between two calls: the session is gone and VM references are given
/// out afresh; the driver logs in again and finds its VMs by UUID.
#[tokio::test]
async fn server_restart_between_calls() {
    let mut sim = Sim::esx("f-restart").await;
    let c = sim.connect().await;
    let d = c.define_and_start().await;
    sim.restart().await;
    let info = c.domain_get_info(&d).await.unwrap();
    assert_eq!(
        info.state,
        DomainState::Shutoff,
        "power states do not survive a restart"
    );
    assert_eq!(c.logins(), 2);
    assert_eq!(c.domain_lookup_by_name("fr").await.unwrap().uuid, d.uuid);
}

trait DefineAndStart {
    async fn define_and_start(&self) -> esx_driver::Domain;
}

impl DefineAndStart for esx_driver::Connection {
    async fn define_and_start(&self) -> esx_driver::Domain {
        let d = self
            .domain_define_xml(&domain_xml("fr", "fr"))
            .await
            .unwrap();
        self.domain_create(&d).await.unwrap();
        d
    }
}

/// A wrong password is a precise error that never shows the password.
#[tokio::test]
async fn wrong_password() {
    let sim = Sim::esx("f-auth").await;
    let e = esx_driver::Connection::open(
        &sim.uri(""),
        OpenOptions {
            auth: Some(std::sync::Arc::new(esx_driver::FixedCredentials::new(
                "root", "hunter2",
            ))),
            ..OpenOptions::default()
        },
    )
    .await
    .unwrap_err();
    assert_eq!(e.code, ErrorCode::AuthFailed);
    assert!(!format!("{e} {e:?}").contains("hunter2"));
}

/// `fingerprint=` pins the simulator's self-signed certificate without `no_verify`; another
/// fingerprint, or neither, is refused before any credential is sent.
#[tokio::test]
async fn a_pinned_fingerprint_is_trusted_and_nothing_else() {
    let sim = Sim::esx("pinned").await;
    let fp = sim.handle.as_ref().unwrap().fingerprint.clone();
    let uri = |q: &str| format!("esx://root@127.0.0.1:{}/{q}", sim.port);
    let c = sim.open(&uri(&format!("?fingerprint={fp}")), false).await;
    assert!(!c.connect_list_all_domains(0).await.unwrap().is_empty());
    let other = fp.replace(&fp[..2], if &fp[..2] == "00" { "11" } else { "00" });
    for q in [format!("?fingerprint={other}"), String::new()] {
        let e = esx_driver::Connection::open(&uri(&q), support::options("root", false))
            .await
            .expect_err("an untrusted certificate is refused");
        let text = e.to_string().to_lowercase();
        assert!(
            text.contains("certificate") || text.contains("fingerprint"),
            "{q}: {e}"
        );
    }
}
