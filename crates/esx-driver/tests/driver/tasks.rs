//! Task-backed calls: progress reports, cancellation, questions a VM asks (auto_answer=0/1
//! and answering explicitly), lifecycle events, and many tasks sharing one connection whose
//! session expires.

use crate::support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use esx_driver::{
    CancelToken, DomainEventKind, DomainState, ErrorCode, HypervisorDriver, TaskControl,
};
use support::{domain_xml, Sim};

#[tokio::test]
async fn progress_and_cancellation() {
    let sim = Sim::start_with("progress", esx_sim::Flavor::Esx, None, |cfg| {
        cfg.task_delay = Duration::from_millis(600)
    })
    .await;
    let c = sim.connect().await;
    let d = c.domain_lookup_by_name("vm1").await.unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let conn = c.with_control(TaskControl::new().on_progress(move |p| {
        log.lock()
            .unwrap()
            .push((p.description.clone(), p.percent, p.state.clone()))
    }));
    conn.domain_create(&d).await.unwrap();
    let reports = seen.lock().unwrap().clone();
    assert!(reports.len() >= 2, "{reports:?}");
    assert!(reports[0].0.starts_with("VirtualMachine."), "{reports:?}");
    assert_eq!(reports.last().unwrap().1, Some(100));
    assert_eq!(reports.last().unwrap().2, "success");
    assert!(
        reports
            .iter()
            .any(|r| r.2 == "running" && r.1.is_some_and(|p| p < 100)),
        "progress while running: {reports:?}"
    );

    // Cancelled at the first report of a running power-off: the call fails with
    // OperationAborted and the VM is left as it was (powered on).
    let token = CancelToken::new();
    let t = token.clone();
    let conn = c.with_control(TaskControl::new().with_cancel(token).on_progress(move |p| {
        if p.state == "running" {
            t.cancel();
        }
    }));
    let e = conn.domain_destroy(&d).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::OperationAborted, "{e}");
    assert_eq!(
        c.domain_get_state(&d, 0).await.unwrap().0,
        DomainState::Running
    );
}

/// Writes a copy of vm1 under `copy/` whose `uuid.location` says it lived elsewhere, and
/// registers it: powering it on asks "moved or copied?".
async fn copied_vm(sim: &Sim, c: &esx_driver::Connection) -> esx_driver::Domain {
    let ds = sim.datastore_dir("datastore1");
    let d = c
        .domain_define_xml(&domain_xml("orig", "orig"))
        .await
        .unwrap();
    let text = std::fs::read_to_string(ds.join("orig/orig.vmx")).unwrap();
    c.domain_undefine(&d).await.unwrap();
    std::fs::create_dir_all(ds.join("copy")).unwrap();
    let text = text.replace("displayName = \"orig\"", "displayName = \"copy\"")
        + "uuid.location = \"56 4d 00 00 00 00 00 00-00 00 00 00 00 00 00 01\"\n";
    std::fs::write(ds.join("copy/copy.vmx"), text).unwrap();
    let ep = c.endpoint();
    let task = esx_vim::methods::register_vm_task(
        &*ep.client,
        &ep.vm_folder,
        "[datastore1] copy/copy.vmx".into(),
        None,
        false,
        Some(ep.resource_pool.clone()),
        Some(ep.host_system.clone()),
    )
    .await
    .unwrap();
    ep.client.wait_for_task(&task, |_| {}).await.unwrap();
    c.domain_lookup_by_name("copy").await.unwrap()
}

#[tokio::test]
async fn questions_block_or_are_answered() {
    let sim = Sim::esx("question").await;
    let c = sim.connect().await;
    let d = copied_vm(&sim, &c).await;
    // auto_answer=0 (the default): the question's text and answers come back as the error.
    let e = c.domain_create(&d).await.unwrap_err();
    assert!(
        e.message.starts_with(
            "Pending question blocks virtual machine execution, question is 'msg.uuid.altered"
        ),
        "{e}"
    );
    assert!(e.message.contains("button.uuid.copiedTheVM"), "{e}");
    let q = c.domain_question(&d).await.unwrap().expect("still pending");
    assert_eq!(q.default.as_deref(), Some("2"));
    // Answering explicitly: "moved" keeps the UUID and lets the power-on finish.
    let e = c.domain_answer_question(&d, "9").await.unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidArg);
    c.domain_answer_question(&d, "1").await.unwrap();
    assert!(c.domain_question(&d).await.unwrap().is_none());
    let d = c.domain_lookup_by_uuid(&d.uuid).await.unwrap();
    assert_eq!(
        c.domain_get_state(&d, 0).await.unwrap().0,
        DomainState::Running
    );
}

#[tokio::test]
async fn auto_answer_takes_the_default() {
    let sim = Sim::esx("autoanswer").await;
    let c = sim.connect().await;
    let d = copied_vm(&sim, &c).await;
    let auto = sim.open(&sim.uri("&auto_answer=1"), false).await;
    auto.domain_create(&d).await.unwrap();
    // The default ("copied") gave the VM a new UUID.
    let on = auto.domain_lookup_by_name("copy").await.unwrap();
    assert_ne!(on.uuid, d.uuid);
    assert!(on.id > 0);
}

#[tokio::test]
async fn lifecycle_events() {
    let sim = Sim::esx("events").await;
    let c = sim.connect().await;
    let mut events = c.domain_events().await.unwrap();
    let d = c.domain_lookup_by_name("vm2").await.unwrap();
    c.domain_create(&d).await.unwrap();
    c.domain_suspend(&d).await.unwrap();
    c.domain_resume(&d).await.unwrap();
    c.domain_destroy(&d).await.unwrap();
    let n = c.domain_define_xml(&domain_xml("ev", "ev")).await.unwrap();
    let xml = c.domain_get_xml_desc(&n, 0).await.unwrap();
    c.domain_define_xml(&xml.replace("<name>ev</name>", "<name>ev2</name>"))
        .await
        .unwrap();
    c.domain_undefine(&n).await.unwrap();
    let mut got = Vec::new();
    while got.len() < 7 {
        let e = tokio::time::timeout(Duration::from_secs(10), events.next())
            .await
            .unwrap_or_else(|_| panic!("an event in time after {got:?}"))
            .expect("stream open")
            .expect("no error");
        got.push((e.domain.name.clone(), e.kind));
    }
    let want = vec![
        ("vm2".to_string(), DomainEventKind::Started),
        ("vm2".to_string(), DomainEventKind::Suspended),
        ("vm2".to_string(), DomainEventKind::Resumed),
        ("vm2".to_string(), DomainEventKind::Stopped),
        ("ev".to_string(), DomainEventKind::Defined),
        (
            "ev2".to_string(),
            DomainEventKind::Renamed {
                old_name: "ev".into(),
            },
        ),
        ("ev2".to_string(), DomainEventKind::Undefined),
    ];
    assert_eq!(got, want);
}

#[tokio::test]
async fn many_callers_share_one_relogin() {
    let sim = Sim::esx("relogin").await;
    let c = sim.connect().await;
    assert_eq!(c.logins(), 1);
    // Another administrator ends our session behind our back.
    let admin = sim.connect().await;
    let key = c.endpoint().client.session().await.unwrap().key;
    let sm = admin
        .endpoint()
        .client
        .service_content()
        .session_manager
        .clone()
        .unwrap();
    esx_vim::methods::terminate_session(&*admin.endpoint().client, &sm, vec![key])
        .await
        .unwrap();
    let d = c.domain_lookup_by_name("vm1").await.unwrap();
    let mut calls = Vec::new();
    for _ in 0..50 {
        let c = c.clone();
        let d = d.clone();
        calls.push(tokio::spawn(async move { c.domain_get_info(&d).await }));
    }
    for call in calls {
        call.await.unwrap().unwrap();
    }
    assert_eq!(c.logins(), 2, "exactly one re-login for 51 callers");
}
