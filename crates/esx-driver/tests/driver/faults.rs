//! The fault matrix through the driver (docs/RELIABILITY.md): each row injects a fault into
//! esx-sim (`esx_sim::inject`), asserts the outcome — recovered, or a precise error naming
//! what happened — and the state afterwards.

use crate::support;

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

/// A read whose answer is cut off halfway (the call ran, the answer did not arrive whole) is
/// read again: recovered.
#[tokio::test]
async fn cut_read_is_read_again() {
    let sim = faulty("f-cut-read", "cut:RetrievePropertiesEx=1").await;
    let c = sim.connect().await;
    assert_eq!(c.connect_list_all_domains(0).await.unwrap().len(), 3);
}

/// A task call whose answer is cut off halfway did start its task: the driver finds it among
/// the VM's recent tasks and waits for it instead of sending the call again.
#[tokio::test]
async fn cut_task_answer_is_waited_for_not_resent() {
    let sim = faulty("f-cut-task", "cut:PowerOnVM_Task=1").await;
    let c = sim.connect().await;
    let d = c.domain_lookup_by_name("vm1").await.unwrap();
    c.domain_create(&d).await.unwrap();
    assert_eq!(state(&c, "vm1").await, DomainState::Running);
    assert_eq!(power_on_tasks(&c, &d).await, 1, "sent once");
}

/// How many `PowerOnVM_Task` tasks the VM's recent tasks hold.
async fn power_on_tasks(c: &esx_driver::Connection, d: &esx_driver::Domain) -> usize {
    let vm = c.domain_moref(d).await.unwrap();
    let props = c.properties(&vm, &["recentTask"]).await.unwrap();
    let tasks: Vec<esx_vim::ManagedObjectReference> = props
        .into_iter()
        .filter_map(|(_, v)| match v {
            esx_vim::Any::ArrayOfManagedObjectReference(list) => {
                Some(list.managed_object_reference)
            }
            _ => None,
        })
        .flatten()
        .collect();
    let mut n = 0;
    for t in &tasks {
        for (_, v) in c.properties(t, &["info.name"]).await.unwrap() {
            if matches!(&v, esx_vim::Any::String(s) if s == "PowerOnVM_Task") {
                n += 1;
            }
        }
    }
    n
}

/// A stream that yields `good` bytes of data, then fails: an upload broken off midway.
struct BreaksOff {
    good: usize,
}

impl tokio::io::AsyncRead for BreaksOff {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        if self.good == 0 {
            return std::task::Poll::Ready(Err(std::io::Error::other("source broke off")));
        }
        let n = self.good.min(buf.remaining()).min(64 * 1024);
        buf.put_slice(&vec![0x5a; n]);
        self.good -= n;
        std::task::Poll::Ready(Ok(()))
    }
}

/// An upload broken off midway, onto an existing volume and as a new one: a precise error,
/// the old content kept whole, no new volume, no temporary file left.
#[tokio::test]
async fn upload_broken_off_midway_keeps_the_old_file() {
    use esx_driver::StorageDriver;
    let sim = Sim::esx("f-upload").await;
    let c = sim.connect().await;
    let p = c.storage_pool_lookup_by_name("datastore1").await.unwrap();
    let old = vec![7u8; 1 << 20];
    let v = c
        .storage_vol_upload_new(&p, "iso/old.iso", std::io::Cursor::new(old.clone()), None)
        .await
        .unwrap();
    let len = Some(8u64 << 20);
    let e = c
        .storage_vol_upload(&v, BreaksOff { good: 3 << 20 }, len)
        .await
        .unwrap_err();
    assert!(e.message.contains("source broke off"), "{e}");
    let e = c
        .storage_vol_upload_new(&p, "iso/new.iso", BreaksOff { good: 3 << 20 }, len)
        .await
        .unwrap_err();
    assert!(e.message.contains("source broke off"), "{e}");
    let ds = sim.datastore_dir("datastore1");
    let quiet = std::time::Instant::now() + Duration::from_secs(20);
    while !esx_sim::files::temps_under(&ds).is_empty() {
        assert!(
            std::time::Instant::now() < quiet,
            "{:?}",
            esx_sim::files::temps_under(&ds)
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(std::fs::read(ds.join("iso/old.iso")).unwrap(), old);
    assert!(!ds.join("iso/new.iso").exists());
    assert!(c
        .storage_vol_lookup_by_name(&p, "iso/new.iso")
        .await
        .is_err());
}

/// A full datastore: a new volume, a new domain's disk and a snapshot are refused with the
/// server's `NoDiskSpace`, and nothing is left of them.
#[tokio::test]
async fn full_datastore_refuses_and_leaves_nothing() {
    use esx_driver::StorageDriver;
    let sim = faulty("f-full", "full-datastore:datastore1=0").await;
    let c = sim.connect().await;
    let p = c.storage_pool_lookup_by_name("datastore1").await.unwrap();
    let before = c.storage_pool_list_volumes(&p).await.unwrap();
    let thick = "<volume><name>data/big.vmdk</name><capacity unit='M'>64</capacity>\
                 <target><format type='vmdk'/></target></volume>";
    let e = c.storage_vol_create_xml(&p, thick, 0).await.unwrap_err();
    assert!(
        e.message.contains("NoDiskSpace") || e.message.contains("space"),
        "{e}"
    );
    assert_eq!(c.storage_pool_list_volumes(&p).await.unwrap(), before);
    let d = c.domain_lookup_by_name("vm1").await.unwrap();
    let e = c
        .domain_snapshot_create_xml(&d, "<domainsnapshot><name>s1</name></domainsnapshot>", 0)
        .await
        .unwrap_err();
    assert!(
        e.message.contains("NoDiskSpace") || e.message.contains("space"),
        "{e}"
    );
    assert!(c
        .domain_snapshot_list_names(&d, 0)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(c.storage_pool_list_volumes(&p).await.unwrap(), before);
    assert!(esx_sim::files::temps_under(&sim.datastore_dir("datastore1")).is_empty());
}

/// The session expires while a task runs: the wait for it logs in again once and goes on; the
/// task is not started twice.
#[tokio::test]
async fn session_expiring_mid_task_is_recovered() {
    let sim = Sim::start_with("f-ttl", esx_sim::Flavor::Esx, None, |cfg| {
        cfg.task_delay = Duration::from_millis(2500);
        cfg.inject = "session-ttl=1".parse().expect("inject spec");
    })
    .await;
    let c = sim.connect().await;
    let d = c.domain_lookup_by_name("vm1").await.unwrap();
    c.domain_create(&d).await.unwrap();
    assert_eq!(state(&c, "vm1").await, DomainState::Running);
    assert!(c.logins() >= 2, "logged in again: {}", c.logins());
    assert_eq!(power_on_tasks(&c, &d).await, 1, "sent once");
}
