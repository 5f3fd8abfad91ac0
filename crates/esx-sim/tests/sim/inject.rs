//! Fault injection, delayed tasks with progress, and `CancelTask`, exercised with our own
//! vSphere client over HTTPS.

use std::time::{Duration, Instant};

use esx_vim::client::{Client, ConnectOptions, HttpOptions, HttpTransport, RetryPolicy};
use esx_vim::{methods, ManagedObjectReference, VirtualMachinePowerState};

fn service_instance() -> ManagedObjectReference {
    ManagedObjectReference::new("ServiceInstance", "ServiceInstance")
}

async fn sim(
    name: &str,
    inject: &str,
    task_delay_ms: u64,
) -> (esx_sim::Handle, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("esx-sim-inject-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut cfg = esx_sim::Config::new(&dir);
    cfg.inject = inject.parse().unwrap();
    cfg.task_delay = Duration::from_millis(task_delay_ms);
    (esx_sim::Simulator::start(cfg).await.unwrap(), dir)
}

fn http(retry: RetryPolicy) -> HttpOptions {
    let mut o = HttpOptions {
        retry,
        ..Default::default()
    };
    o.tls.no_verify = true;
    o
}

async fn connect(h: &esx_sim::Handle) -> Client {
    let options = ConnectOptions {
        user: "root".into(),
        password: "pass".into(),
        http: http(RetryPolicy::none()),
        ..Default::default()
    };
    Client::connect(&h.url, options).await.unwrap()
}

async fn first_vm(c: &Client) -> ManagedObjectReference {
    let vms = c
        .list_objects("VirtualMachine", &["name"], None)
        .await
        .unwrap();
    vms.first().unwrap().obj.clone()
}

async fn power_state(c: &Client, vm: &ManagedObjectReference) -> VirtualMachinePowerState {
    let vms = c
        .list_objects("VirtualMachine", &["runtime.powerState"], None)
        .await
        .unwrap();
    let o = vms.iter().find(|o| &o.obj == vm).unwrap();
    match esx_vim::client::property(o, "runtime.powerState") {
        Some(esx_vim::Any::VirtualMachinePowerState(s)) => s.clone(),
        other => panic!("powerState: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency_delays_only_the_named_method() {
    let (h, dir) = sim("latency", "latency:CurrentTime=400", 0).await;
    let t = HttpTransport::new(&h.url, http(RetryPolicy::none())).unwrap();
    let start = Instant::now();
    methods::retrieve_service_content(&t, &service_instance())
        .await
        .unwrap();
    let fast = start.elapsed();
    let start = Instant::now();
    methods::current_time(&t, &service_instance())
        .await
        .unwrap();
    let slow = start.elapsed();
    assert!(slow >= Duration::from_millis(400), "{slow:?}");
    assert!(fast < Duration::from_millis(400), "{fast:?}");
    h.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_connections_then_normal_service() {
    let (h, dir) = sim("drop", "drop:CurrentTime=2", 0).await;
    let t = HttpTransport::new(&h.url, http(RetryPolicy::none())).unwrap();
    for _ in 0..2 {
        let e = methods::current_time(&t, &service_instance())
            .await
            .unwrap_err();
        assert!(
            matches!(e, esx_vim::Error::Transport(_)),
            "a dropped connection is a transport error: {e}"
        );
    }
    methods::current_time(&t, &service_instance())
        .await
        .unwrap();
    h.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_errors_for_the_first_calls() {
    let (h, dir) = sim(
        "http",
        "http500:CurrentTime=1,http503:RetrieveServiceContent=2",
        0,
    )
    .await;
    let t = HttpTransport::new(&h.url, http(RetryPolicy::none())).unwrap();
    match methods::current_time(&t, &service_instance()).await {
        Err(esx_vim::Error::Http { status: 500, .. }) => {}
        other => panic!("expected HTTP 500, got {other:?}"),
    }
    methods::current_time(&t, &service_instance())
        .await
        .unwrap();
    let e = methods::retrieve_service_content(&t, &service_instance())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("503"), "{e}");
    // A client that retries 503 gets through on its next attempt.
    let retrying = HttpTransport::new(&h.url, http(RetryPolicy::default())).unwrap();
    methods::retrieve_service_content(&retrying, &service_instance())
        .await
        .unwrap();
    h.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_expire_after_their_lifetime() {
    let (h, dir) = sim("ttl", "session-ttl=1", 0).await;
    let c = connect(&h).await;
    let before = c.logins();
    first_vm(&c).await;
    assert_eq!(c.logins(), before, "no re-login while the session lives");
    tokio::time::sleep(Duration::from_millis(1300)).await;
    // The expired session gets NotAuthenticated; the client logs in again by itself.
    first_vm(&c).await;
    assert_eq!(c.logins(), before + 1, "one re-login after expiry");
    h.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_task_then_success() {
    let (h, dir) = sim("failtask", "fail-task:PowerOnVM_Task=1", 0).await;
    let c = connect(&h).await;
    let vm = first_vm(&c).await;
    let t = methods::power_on_vm_task(&c, &vm, None).await.unwrap();
    let e = c.wait_for_task(&t, |_| {}).await.unwrap_err();
    assert!(e.to_string().contains("SystemError"), "{e}");
    assert_eq!(
        power_state(&c, &vm).await,
        VirtualMachinePowerState::PoweredOff
    );
    let t = methods::power_on_vm_task(&c, &vm, None).await.unwrap();
    c.wait_for_task(&t, |_| {}).await.unwrap();
    assert_eq!(
        power_state(&c, &vm).await,
        VirtualMachinePowerState::PoweredOn
    );
    h.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_tasks_report_progress_and_can_be_cancelled() {
    let (h, dir) = sim("slowtask", "", 1500).await;
    let c = connect(&h).await;
    let vm = first_vm(&c).await;

    let start = Instant::now();
    let t = methods::power_on_vm_task(&c, &vm, None).await.unwrap();
    // Still off while the task runs.
    assert_eq!(
        power_state(&c, &vm).await,
        VirtualMachinePowerState::PoweredOff
    );
    let mut seen = Vec::new();
    let info = c.wait_for_task(&t, |p| seen.push(p)).await.unwrap();
    assert!(start.elapsed() >= Duration::from_millis(1500));
    assert_eq!(info.progress, Some(100));
    assert!(
        seen.iter().any(|p| (1..100).contains(p)),
        "progress seen through the property collector: {seen:?}"
    );
    assert_eq!(
        power_state(&c, &vm).await,
        VirtualMachinePowerState::PoweredOn
    );

    // Cancelled before it completes: the work is never done.
    let t = methods::power_off_vm_task(&c, &vm).await.unwrap();
    methods::cancel_task(&c, &t).await.unwrap();
    let e = c.wait_for_task(&t, |_| {}).await.unwrap_err();
    assert!(e.to_string().contains("RequestCanceled"), "{e}");
    tokio::time::sleep(Duration::from_millis(1700)).await;
    assert_eq!(
        power_state(&c, &vm).await,
        VirtualMachinePowerState::PoweredOn
    );
    // A finished task cannot be cancelled.
    match methods::cancel_task(&c, &t).await {
        Err(esx_vim::Error::Fault { fault, .. }) => assert_eq!(fault.fault_name(), "InvalidState"),
        other => panic!("expected InvalidState, got {other:?}"),
    }
    h.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}
