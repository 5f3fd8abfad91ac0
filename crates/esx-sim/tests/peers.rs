//! Real third-party clients against an in-process simulator on loopback.

use std::path::Path;
use std::process::Command;

fn peers() -> bool {
    let ok = Path::new("/opt/peers/bin/govc").exists()
        && Path::new("/opt/peers/venv/bin/python").exists();
    if !ok {
        eprintln!("SKIPPED: /opt/peers is missing (run ../shared/peers/setup-peers.sh)");
    }
    ok
}

fn shared() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pyvmomi_and_govc_list_and_power() {
    if !peers() || !shared().exists() {
        eprintln!("SKIPPED: peers or ../shared missing");
        return;
    }
    let dir = std::env::temp_dir().join(format!("esx-sim-peers-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut cfg = esx_sim::Config::new(&dir);
    cfg.inventory = "vm=25".parse().unwrap();
    let h = esx_sim::Simulator::start(cfg).await.unwrap();
    let port = h.addr.port().to_string();
    let script = shared().join("peers/pyvmomi_list.py");
    let out = tokio::task::spawn_blocking(move || {
        Command::new("/opt/peers/venv/bin/python")
            .args([script.to_str().unwrap(), "127.0.0.1", &port, "root", "pass"])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("count=25"),
        "pyvmomi output: {text} {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let url = format!("https://root:pass@127.0.0.1:{}/sdk", h.addr.port());
    let govc = move |args: &[&str]| {
        let o = Command::new("/opt/peers/bin/govc")
            .args(args)
            .env("GOVC_URL", &url)
            .env("GOVC_INSECURE", "1")
            .output()
            .unwrap();
        (
            o.status.success(),
            String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr),
        )
    };
    let (ok, out) = tokio::task::spawn_blocking({
        let g = govc.clone();
        move || g(&["find", "/", "-type", "m"])
    })
    .await
    .unwrap();
    assert!(ok, "{out}");
    assert_eq!(out.lines().count(), 25, "{out}");
    let (ok, out) = tokio::task::spawn_blocking({
        let g = govc.clone();
        move || g(&["vm.power", "-on", "vm01"])
    })
    .await
    .unwrap();
    assert!(ok, "{out}");
    let (ok, out) = tokio::task::spawn_blocking({
        let g = govc.clone();
        move || g(&["vm.info", "vm01"])
    })
    .await
    .unwrap();
    assert!(ok && out.contains("poweredOn"), "{out}");
    // Powering on twice is an InvalidPowerState fault, not a crash.
    let (ok, out) = tokio::task::spawn_blocking({
        let g = govc.clone();
        move || g(&["vm.power", "-on", "vm01"])
    })
    .await
    .unwrap();
    assert!(!ok, "{out}");
    let (ok, out) = tokio::task::spawn_blocking(move || govc(&["datastore.ls", "vm01"]))
        .await
        .unwrap();
    assert!(ok && out.contains("vm01.vmx"), "{out}");
    h.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
