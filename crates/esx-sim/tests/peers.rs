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
    let govmomi_home = dir.join("govmomi");
    let govc = move |args: &[&str]| {
        let o = Command::new("/opt/peers/bin/govc")
            .args(args)
            .env("GOVC_URL", &url)
            .env("GOVC_INSECURE", "1")
            .env("GOVMOMI_HOME", &govmomi_home)
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
    let (ok, out) = tokio::task::spawn_blocking({
        let g = govc.clone();
        move || g(&["datastore.ls", "vm01"])
    })
    .await
    .unwrap();
    assert!(ok && out.contains("vm01.vmx"), "{out}");
    let upload = dir.join("upload.txt");
    std::fs::write(&upload, "hello from govc\n").unwrap();
    tokio::task::spawn_blocking(move || govc_scenario(&govc, &upload))
        .await
        .unwrap();
    h.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// govc: create/destroy a VM, snapshots, host info, datastore upload/download.
fn govc_scenario(govc: &dyn Fn(&[&str]) -> (bool, String), upload: &Path) {
    let run = |args: &[&str]| {
        let (ok, out) = govc(args);
        assert!(ok, "govc {args:?}: {out}");
        out
    };
    run(&[
        "vm.create",
        "-on=false",
        "-m",
        "128",
        "-c",
        "2",
        "-disk",
        "10MB",
        "-net",
        "VM Network",
        "created",
    ]);
    let info = run(&["vm.info", "created"]);
    assert!(
        info.contains("Memory:       128MB") && info.contains("CPU:          2 vCPU(s)"),
        "{info}"
    );
    let devices = run(&["device.ls", "-vm", "created"]);
    assert!(
        devices.contains("disk-1000-0") && devices.contains("ethernet-0"),
        "{devices}"
    );
    run(&["vm.power", "-on", "created"]);
    run(&["vm.destroy", "created"]);
    let (found, _) = govc(&["vm.info", "-json", "created"]);
    let listing = run(&["find", "/", "-type", "m", "-name", "created"]);
    assert!(
        listing.trim().is_empty(),
        "still listed: {listing} ({found})"
    );

    let events = run(&["events"]);
    for want in [
        "Created virtual machine created on",
        "created on localhost.localdomain in ha-datacenter is powered on",
        "Removed created on",
    ] {
        assert!(events.contains(want), "no {want:?} in: {events}");
    }
    let vm_events = run(&["events", "vm/vm01"]);
    assert!(!vm_events.contains("created"), "{vm_events}");

    run(&["snapshot.create", "-vm", "vm02", "before"]);
    run(&["snapshot.create", "-vm", "vm02", "after"]);
    let tree = run(&["snapshot.tree", "-vm", "vm02"]);
    assert!(tree.contains("before") && tree.contains("after"), "{tree}");
    run(&["snapshot.revert", "-vm", "vm02", "before"]);
    let current = run(&["snapshot.tree", "-vm", "vm02", "-C"]);
    assert_eq!(current.trim(), "before", "{current}");
    run(&["snapshot.remove", "-vm", "vm02", "*"]);
    assert!(run(&["snapshot.tree", "-vm", "vm02"]).trim().is_empty());

    let host = run(&["host.info"]);
    assert!(host.contains("Logical CPUs:    8 CPUs"), "{host}");

    run(&[
        "datastore.upload",
        upload.to_str().unwrap(),
        "vm01/notes.txt",
    ]);
    let back = run(&["datastore.download", "vm01/notes.txt", "-"]);
    assert_eq!(back, "hello from govc\n");
    assert!(run(&["datastore.ls", "vm01"]).contains("notes.txt"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pyvmomi_tasks_snapshot_and_question() {
    if !peers() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("esx-sim-pyvmomi-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let cfg = esx_sim::Config::new(&dir);
    let h = esx_sim::Simulator::start(cfg).await.unwrap();
    let port = h.addr.port().to_string();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pyvmomi_tasks.py");
    let data = dir.clone();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("/opt/peers/venv/bin/python")
            .arg(script)
            .args(["127.0.0.1", &port, "root", "pass"])
            .arg(data)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("ok question answered"),
        "pyvmomi: {text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    h.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
