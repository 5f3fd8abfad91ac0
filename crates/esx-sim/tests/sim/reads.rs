//! Reads change nothing: property reads over HTTPS, by a client that sends a User-Agent, leave
//! the state's generation alone, so what is kept encoded between calls (`crate::encoded`)
//! survives from one listing to the next. A regression once took exclusive access on every
//! call that carried a User-Agent, which threw every kept encoding away and serialised the
//! readers. The simulator here runs tasks with a delay, so its task ticker runs too: it must not
//! take exclusive access while no task is running.

use esx_vim::client::{view_spec, Client, ConnectOptions, HttpOptions};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn property_reads_over_https_change_nothing() {
    let dir = std::env::temp_dir().join(format!(
        "esx-sim-reads-{}-{}",
        std::process::id(),
        crate::support::seq()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let mut cfg = esx_sim::Config::new(&dir);
    cfg.inventory = "dc=1,host=1,ds=1,net=1,vm=5".parse().expect("inventory");
    cfg.task_delay = std::time::Duration::from_millis(100);
    let h = esx_sim::Simulator::start(cfg)
        .await
        .expect("simulator starts");
    let mut http = HttpOptions::default();
    http.tls.no_verify = true;
    let options = ConnectOptions {
        user: "root".into(),
        password: "pass".into(),
        http,
        ..Default::default()
    };
    assert!(!options.http.user_agent.is_empty());
    let c = Client::connect(&h.url, options).await.expect("login");
    let root = c.service_content().root_folder.clone();
    let view = c
        .create_container_view(&root, &["VirtualMachine"], true)
        .await
        .expect("view");
    let spec = view_spec(
        &view.moref,
        "VirtualMachine",
        &["name", "summary", "config.uuid"],
    );
    let first = c.retrieve_properties(spec.clone(), Some(2)).await.unwrap();
    assert_eq!(first.len(), 5);
    let before = h.generation();
    for _ in 0..3 {
        let again = c.retrieve_properties(spec.clone(), Some(2)).await.unwrap();
        assert_eq!(again, first);
    }
    // Long enough for the task ticker (every 10 ms here) to have run many times.
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert_eq!(
        h.generation(),
        before,
        "a read or the idle task ticker took exclusive access"
    );
    // A change is counted.
    view.destroy(&c).await.expect("DestroyView");
    assert!(h.generation() > before);
    h.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
