//! The session layer against vcsim in ESX and vCenter mode: connect/login/logout, wrong
//! password, paging through 5,000 VMs, power tasks with progress and typed task errors, an
//! expired session (TerminateSession from a second session) recovered transparently, once,
//! for concurrent callers.

use crate::client_support;

use std::sync::{Arc, Mutex};

use client_support::*;
use esx_vim::client::{
    property, ApiType, Client, ClientError, ConnectOptions, HttpOptions, TlsOptions,
};
use esx_vim::generated::methods;
use esx_vim::{Any, ManagedObjectReference, TaskInfoState};

/// Ports 18980-18989 belong to this test binary.
static PORTS: Ports = Ports::new(18980, 10);

fn options(password: &str) -> ConnectOptions {
    ConnectOptions {
        user: "root".into(),
        password: password.into(),
        http: HttpOptions {
            tls: TlsOptions {
                no_verify: true,
                ..TlsOptions::default()
            },
            ..HttpOptions::default()
        },
        ..ConnectOptions::default()
    }
}

fn power_state(v: Option<&Any>) -> String {
    match v {
        Some(Any::VirtualMachinePowerState(p)) => p.as_str().to_string(),
        other => format!("{other:?}"),
    }
}

async fn first_vm(client: &Client) -> (ManagedObjectReference, String) {
    let vms = client
        .list_objects("VirtualMachine", &["runtime.powerState"], Some(100))
        .await
        .expect("list");
    let vm = vms.first().expect("a VM");
    (
        vm.obj.clone(),
        power_state(property(vm, "runtime.powerState")),
    )
}

async fn login_logout_and_paging(mode: &[&str], expected: ApiType, vms: usize) {
    let mut args = mode.to_vec();
    args.extend(["-username", "root", "-password", "pass"]);
    let sim = Vcsim::start(PORTS.take(), &args);

    match Client::connect(&sim.url(), options("wrong")).await {
        Err(ClientError::InvalidLogin { user, host, .. }) => {
            assert_eq!((user.as_str(), host.as_str()), ("root", "127.0.0.1"))
        }
        other => panic!("expected InvalidLogin, got {other:?}"),
    }

    let client = Client::connect(&sim.url(), options("pass"))
        .await
        .expect("connect");
    assert_eq!(client.api_type(), expected);
    assert_eq!(client.transport().api_version().as_deref(), Some("6.5"));
    assert_eq!(client.logins(), 1);
    let session = client.session().await.expect("session");
    assert_eq!(session.user_name, "root");
    assert!(client.session_is_active().await.expect("active"));

    let started = std::time::Instant::now();
    let objects = client
        .list_objects(
            "VirtualMachine",
            &["name", "runtime.powerState"],
            Some(1000),
        )
        .await
        .expect("list");
    eprintln!(
        "{expected:?}: listed {} VMs in {:?}",
        objects.len(),
        started.elapsed()
    );
    assert_eq!(objects.len(), vms);
    let mut names: Vec<String> = objects
        .iter()
        .map(|o| match property(o, "name") {
            Some(Any::String(s)) => s.clone(),
            other => panic!("name is {other:?}"),
        })
        .collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), vms, "every VM exactly once across pages");
    assert!(objects
        .iter()
        .all(|o| power_state(property(o, "runtime.powerState")) == "poweredOn"));

    // vcsim 0.24 ignores maxObjects (one page); paging itself is covered by client_paging.rs.
    client.logout().await.expect("logout");
    let err = client
        .list_objects("VirtualMachine", &["name"], None)
        .await
        .expect_err("closed after logout");
    assert!(err.to_string().contains("closed"), "{err}");
}

#[tokio::test]
async fn esx_login_logout_and_paging_5000() {
    if skip_without_vcsim("esx_login_logout_and_paging_5000") {
        return;
    }
    login_logout_and_paging(&["-esx", "-vm", "5000"], ApiType::HostAgent, 5000).await;
}

#[tokio::test]
async fn vcenter_login_logout_and_paging_5000() {
    if skip_without_vcsim("vcenter_login_logout_and_paging_5000") {
        return;
    }
    login_logout_and_paging(
        &[
            "-dc",
            "1",
            "-standalone-host",
            "0",
            "-cluster",
            "1",
            "-host",
            "3",
            "-vm",
            "5000",
        ],
        ApiType::VirtualCenter,
        5000,
    )
    .await;
}

#[tokio::test]
async fn power_tasks_with_progress_and_typed_errors() {
    if skip_without_vcsim("power_tasks_with_progress_and_typed_errors") {
        return;
    }
    let sim = Vcsim::start(PORTS.take(), &["-esx", "-vm", "2"]);
    let client = Client::connect(&sim.url(), options("any"))
        .await
        .expect("connect");
    let (vm, state) = first_vm(&client).await;
    assert_eq!(state, "poweredOn");

    // Powering on a running VM: the task fails with a typed InvalidPowerState.
    let task = methods::power_on_vm_task(&client, &vm, None)
        .await
        .expect("task");
    match client.wait_for_task(&task, |_| {}).await {
        Err(ClientError::Task(e)) => {
            assert_eq!(e.fault, "InvalidPowerState", "{e}");
            assert_eq!(e.task, task.value);
            assert!(matches!(e.info.state, TaskInfoState::Error));
        }
        other => panic!("expected a task error, got {other:?}"),
    }

    // Off, then on again, with progress reported up to 100.
    for (start, expect) in [(true, "poweredOff"), (false, "poweredOn")] {
        let task = if start {
            methods::power_off_vm_task(&client, &vm).await.expect("off")
        } else {
            methods::power_on_vm_task(&client, &vm, None)
                .await
                .expect("on")
        };
        let seen = Arc::new(Mutex::new(Vec::new()));
        let seen2 = seen.clone();
        let info = client
            .wait_for_task(&task, move |p| seen2.lock().expect("progress").push(p))
            .await
            .expect("done");
        assert!(matches!(info.state, TaskInfoState::Success));
        let seen = seen.lock().expect("progress").clone();
        assert_eq!(seen.last(), Some(&100), "{seen:?}");
        assert!(
            seen.windows(2).all(|w| w[0] < w[1]),
            "progress only grows: {seen:?}"
        );
        assert_eq!(first_vm(&client).await.1, expect);
    }
    client.logout().await.expect("logout");
}

#[tokio::test]
async fn expired_session_is_recovered_once_for_concurrent_callers() {
    if skip_without_vcsim("expired_session_is_recovered_once_for_concurrent_callers") {
        return;
    }
    let sim = Vcsim::start(
        PORTS.take(),
        &[
            "-dc",
            "1",
            "-standalone-host",
            "0",
            "-cluster",
            "1",
            "-host",
            "1",
            "-vm",
            "3",
        ],
    );
    let a = Arc::new(
        Client::connect(&sim.url(), options("any"))
            .await
            .expect("connect a"),
    );
    let b = Client::connect(&sim.url(), options("any"))
        .await
        .expect("connect b");
    let old_key = a.session().await.expect("session").key;

    // B terminates A's session.
    let sm = b
        .service_content()
        .session_manager
        .clone()
        .expect("session manager");
    methods::terminate_session(&b, &sm, vec![old_key.clone()])
        .await
        .expect("terminate");
    assert!(
        !a.session_is_active().await.expect("is active"),
        "A's session must be gone"
    );

    // Eight concurrent calls on A: all succeed, with exactly one new Login.
    let mut calls = Vec::new();
    for _ in 0..8 {
        let a = a.clone();
        calls.push(tokio::spawn(async move {
            let root = a.service_content().root_folder.clone();
            let view = a
                .create_container_view(&root, &["VirtualMachine"], true)
                .await?;
            let n = a
                .retrieve_properties(
                    esx_vim::client::view_spec(&view.moref, "VirtualMachine", &["name"]),
                    None,
                )
                .await?
                .len();
            view.destroy(&a).await?;
            Ok::<usize, ClientError>(n)
        }));
    }
    for c in calls {
        assert_eq!(c.await.expect("join").expect("call after expiry"), 3);
    }
    assert_eq!(a.logins(), 2, "one shared re-login");
    let new_key = a.session().await.expect("session").key;
    assert_ne!(new_key, old_key);
    assert!(a.session_is_active().await.expect("is active"));
    b.logout().await.expect("logout b");
    a.logout().await.expect("logout a");
}

#[tokio::test]
async fn datastore_transfer_through_client_session() {
    if skip_without_vcsim("datastore_transfer_through_client_session") {
        return;
    }
    let sim = Vcsim::start(PORTS.take(), &["-esx", "-vm", "1"]);
    let client = Client::connect(&sim.url(), options("any"))
        .await
        .expect("connect");
    let file =
        esx_vim::client::DatastoreFile::new("ha-datacenter", "LocalDS_0", "session/test.txt");
    let data = b"uploaded with the session cookie\n".to_vec();
    let n = client
        .transport()
        .upload(
            &file,
            std::io::Cursor::new(data.clone()),
            Some(data.len() as u64),
        )
        .await
        .expect("up");
    assert_eq!(n, data.len() as u64);
    let mut back = Vec::new();
    client
        .transport()
        .download(&file, &mut back)
        .await
        .expect("down");
    assert_eq!(back, data);
}
