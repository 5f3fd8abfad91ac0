//! Real third-party clients (pyvmomi, govc) against an in-process simulator on loopback,
//! following the flows issue 5 lists.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

const PYTHON: &str = "/opt/peers/venv/bin/python";
use crate::support;
use support::govc::GOVC;

fn peers() -> bool {
    let ok = Path::new(GOVC).exists() && Path::new(PYTHON).exists();
    if !ok {
        eprintln!("SKIPPED: /opt/peers is missing (run ../shared/peers/setup-peers.sh)");
    }
    ok
}

fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared")
}

/// govc pointed at one simulator; every call blocks, so run it off the async workers.
struct Govc {
    url: String,
    home: PathBuf,
}

impl Govc {
    fn new(port: u16, dir: &Path) -> Govc {
        Govc {
            url: format!("https://root:pass@127.0.0.1:{port}/sdk"),
            home: dir.join("govmomi"),
        }
    }

    /// Runs govc; returns (success, stdout + stderr).
    fn try_run(&self, args: &[&str]) -> (bool, String) {
        support::govc::run(&self.url, &self.home, args)
    }

    /// Runs govc and fails the test unless it succeeds; returns stdout only.
    fn run(&self, args: &[&str]) -> String {
        let (ok, out, err) = support::govc::run_in(&self.url, &self.home, None, args);
        assert!(ok, "govc {args:?}: {out}{err}");
        out
    }

    /// Runs govc and fails the test unless it fails with `want` in its output.
    fn fails(&self, args: &[&str], want: &str) {
        let (ok, out) = self.try_run(args);
        assert!(
            !ok && out.contains(want),
            "govc {args:?} should fail with {want:?}: {out}"
        );
    }
}

/// The values of every `"key": value` member in govc's indented JSON, quotes removed.
fn json_values(json: &str, key: &str) -> Vec<String> {
    let needle = format!("\"{key}\": ");
    json.lines()
        .filter_map(|l| l.trim_start().strip_prefix(needle.as_str()))
        .map(|v| v.trim_end_matches(',').trim_matches('"').to_string())
        .collect()
}

/// A `Label:  value` line of govc's text output.
fn text_field<'a>(text: &'a str, label: &str) -> Option<&'a str> {
    text.lines()
        .find_map(|l| l.trim_start().strip_prefix(label))
        .map(|v| v.trim_start_matches(':').trim())
}

/// pyvmomi_list.py over 5,000 VMs (ContainerView + RetrievePropertiesEx/Continue), checked
/// line by line: every name once, and the power states govc set beforehand.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pyvmomi_lists_5000_vms() {
    if !peers() || !shared().exists() {
        eprintln!("SKIPPED: peers or ../shared missing");
        return;
    }
    let dir = support::data_dir("peers", "peers5000");
    let mut cfg = esx_sim::Config::new(&dir);
    cfg.inventory = "vm=5000".parse().unwrap();
    let h = esx_sim::Simulator::start(cfg).await.unwrap();
    let port = h.addr.port();
    let govc = Govc::new(port, &dir);
    let script = shared().join("peers/pyvmomi_list.py");
    let (out, stderr) = tokio::task::spawn_blocking(move || {
        govc.run(&["vm.power", "-on", "vm0042", "vm5000"]);
        let o = esx_testkit::process::output(
            Command::new(PYTHON).arg(script).args([
                "127.0.0.1",
                &port.to_string(),
                "root",
                "pass",
                "--print",
            ]),
            esx_testkit::process::LIMIT,
        )
        .unwrap();
        (
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    })
    .await
    .unwrap();
    let summary = out.lines().last().unwrap_or_default();
    assert!(summary.starts_with("count=5000 "), "{summary} {stderr}");
    let mut names = BTreeSet::new();
    let mut on = BTreeSet::new();
    for line in out.lines().filter(|l| !l.starts_with("count=")) {
        let (name, state) = line.split_once(' ').expect("NAME STATE");
        assert!(names.insert(name.to_string()), "{name} listed twice");
        match state {
            "poweredOn" => {
                on.insert(name.to_string());
            }
            "poweredOff" => {}
            other => panic!("{name}: power state {other:?}"),
        }
    }
    let want: BTreeSet<String> = (1..=5000).map(|k| format!("vm{k:04}")).collect();
    assert_eq!(names, want);
    assert_eq!(
        on,
        BTreeSet::from(["vm0042".to_string(), "vm5000".to_string()])
    );
    h.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pyvmomi_and_govc_list_and_power() {
    if !peers() || !shared().exists() {
        eprintln!("SKIPPED: peers or ../shared missing");
        return;
    }
    let dir = support::data_dir("peers", "peers");
    let mut cfg = esx_sim::Config::new(&dir);
    cfg.inventory = "vm=25".parse().unwrap();
    let h = esx_sim::Simulator::start(cfg).await.unwrap();
    let port = h.addr.port().to_string();
    let script = shared().join("peers/pyvmomi_list.py");
    let out = tokio::task::spawn_blocking(move || {
        esx_testkit::process::output(
            Command::new(PYTHON).args([
                script.to_str().unwrap(),
                "127.0.0.1",
                &port,
                "root",
                "pass",
            ]),
            esx_testkit::process::LIMIT,
        )
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

    let govc = Govc::new(h.addr.port(), &dir);
    let upload = dir.join("upload.txt");
    std::fs::write(&upload, "hello from govc\n").unwrap();
    tokio::task::spawn_blocking(move || {
        govc_inventory(&govc);
        govc_power_and_info(&govc);
        govc_scenario(&govc, &upload);
    })
    .await
    .unwrap();
    h.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// govc device commands on the VM `created` (powered off): NICs, CD-ROM media, disks created
/// and destroyed, floppy and serial ports; then auto-start, guest addresses and a screenshot
/// once it is on.
fn govc_devices(govc: &Govc, scratch: &Path) {
    let run = |args: &[&str]| govc.run(args);
    let ls = || run(&["device.ls", "-vm", "created"]);
    run(&[
        "vm.network.add",
        "-vm",
        "created",
        "-net",
        "VM Network",
        "-net.adapter",
        "vmxnet3",
    ]);
    assert!(
        ls().lines()
            .any(|l| l.starts_with("ethernet-1 ") && l.contains("VirtualVmxnet3")),
        "{}",
        ls()
    );
    run(&["datastore.mkdir", "iso"]);
    run(&["datastore.upload", scratch.to_str().unwrap(), "iso/a.iso"]);
    run(&["device.cdrom.add", "-vm", "created"]);
    run(&["device.cdrom.insert", "-vm", "created", "iso/a.iso"]);
    assert!(ls().contains("ISO [datastore1] iso/a.iso"), "{}", ls());
    run(&["device.cdrom.eject", "-vm", "created"]);
    run(&[
        "vm.disk.create",
        "-vm",
        "created",
        "-name",
        "created/extra",
        "-size",
        "10M",
    ]);
    assert!(ls().contains("disk-1000-1"), "{}", ls());
    run(&[
        "device.remove",
        "-vm",
        "created",
        "-keep=false",
        "disk-1000-1",
    ]);
    assert!(!ls().contains("disk-1000-1"), "{}", ls());
    run(&["device.floppy.add", "-vm", "created"]);
    run(&["device.serial.add", "-vm", "created"]);
    let devices = ls();
    assert!(
        devices.contains("floppy-8000") && devices.contains("serialport-9000"),
        "{devices}"
    );
    run(&[
        "device.remove",
        "-vm",
        "created",
        "ethernet-1",
        "floppy-8000",
        "serialport-9000",
    ]);
    assert!(!ls().contains("ethernet-1"), "{}", ls());

    run(&["host.autostart.add", "created"]);
    let auto = run(&["host.autostart.info"]);
    assert!(
        auto.contains("created") && auto.contains("powerOn"),
        "{auto}"
    );
    run(&["host.autostart.remove", "created"]);
    run(&["vm.power", "-on", "created"]);
    let ip = run(&["vm.ip", "-v4", "created"]);
    assert!(ip.trim().starts_with("10."), "{ip}");
    let png = scratch.with_file_name("created.png");
    run(&["vm.console", "-capture", png.to_str().unwrap(), "created"]);
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    run(&["vm.power", "-off", "created"]);
}

/// govc about, ls (root, the datacenter, its vm folder), find.
fn govc_inventory(govc: &Govc) {
    let about = govc.run(&["about"]);
    assert_eq!(text_field(&about, "Name"), Some("VMware ESXi"), "{about}");
    assert_eq!(text_field(&about, "API type"), Some("HostAgent"), "{about}");
    assert!(
        text_field(&about, "API version").is_some_and(|v| v.starts_with("7.0")),
        "{about}"
    );

    let folders = ["vm", "host", "datastore", "network"].map(|f| format!("/ha-datacenter/{f}"));
    let dc = govc.run(&["ls", "/ha-datacenter"]);
    let got: BTreeSet<&str> = dc.lines().collect();
    assert_eq!(got, folders.iter().map(String::as_str).collect(), "{dc}");
    assert_eq!(
        govc.run(&["ls"]),
        dc,
        "ls with no argument lists the datacenter"
    );
    let vms = govc.run(&["ls", "/ha-datacenter/vm"]);
    let want: Vec<String> = (1..=25)
        .map(|k| format!("/ha-datacenter/vm/vm{k:02}"))
        .collect();
    let mut got: Vec<&str> = vms.lines().collect();
    got.sort();
    assert_eq!(got, want, "{vms}");
    assert_eq!(
        govc.run(&["ls", "/ha-datacenter/datastore"]).trim(),
        "/ha-datacenter/datastore/datastore1"
    );
    assert_eq!(
        govc.run(&["ls", "/ha-datacenter/network"]).trim(),
        "/ha-datacenter/network/VM Network"
    );

    let found = govc.run(&["find", "/", "-type", "m"]);
    assert_eq!(found.lines().count(), 25, "{found}");
    assert!(
        found.lines().all(|l| l.starts_with("/ha-datacenter/vm/vm")),
        "{found}"
    );
}

/// govc vm.power -on/-off (and their InvalidPowerState faults), vm.info text and -json.
fn govc_power_and_info(govc: &Govc) {
    govc.run(&["vm.power", "-on", "vm01"]);
    let info = govc.run(&["vm.info", "vm01"]);
    assert_eq!(
        text_field(&info, "Power state"),
        Some("poweredOn"),
        "{info}"
    );
    govc.fails(&["vm.power", "-on", "vm01"], "current state");

    // -json: the same VM, its identity and sizes agreeing with the text output and the
    // generator (vm01: 256 MB, 1 vCPU, on datastore1).
    let json = govc.run(&["vm.info", "-json", "vm01"]);
    assert!(
        json.trim_start().starts_with('{') && json.trim_end().ends_with('}'),
        "{json}"
    );
    let uuid = text_field(&info, "UUID").expect("UUID line");
    assert_eq!(uuid.len(), 36, "{info}");
    let names = json_values(&json, "Name");
    assert!(names.iter().any(|n| n == "vm01"), "{names:?}");
    let uuids = json_values(&json, "Uuid");
    assert!(uuids.iter().any(|u| u == uuid), "{uuid} not in {uuids:?}");
    assert!(json_values(&json, "MemoryMB").contains(&"256".to_string()));
    assert!(json_values(&json, "NumCPU").contains(&"1".to_string()));
    assert!(json_values(&json, "GuestId").contains(&"other64Guest".to_string()));
    assert!(json_values(&json, "VmPathName").contains(&"[datastore1] vm01/vm01.vmx".to_string()));
    let states = json_values(&json, "PowerState");
    assert!(
        !states.is_empty() && states.iter().all(|s| s == "poweredOn"),
        "{states:?}"
    );

    govc.run(&["vm.power", "-off", "vm01"]);
    let info = govc.run(&["vm.info", "vm01"]);
    assert_eq!(
        text_field(&info, "Power state"),
        Some("poweredOff"),
        "{info}"
    );
    govc.fails(&["vm.power", "-off", "vm01"], "current state");
    let states = json_values(&govc.run(&["vm.info", "-json", "vm01"]), "PowerState");
    assert!(
        !states.is_empty() && states.iter().all(|s| s == "poweredOff"),
        "{states:?}"
    );

    let events = govc.run(&["events", "vm/vm01"]);
    let on = events.find("vm01 on localhost.localdomain in ha-datacenter is powered on");
    let off = events.find("vm01 on localhost.localdomain in ha-datacenter is powered off");
    assert!(
        matches!((on, off), (Some(a), Some(b)) if a < b),
        "power events out of order: {events}"
    );
}

/// govc: create/destroy a VM, snapshots, host info, events, datastore ls/upload/download.
fn govc_scenario(govc: &Govc, upload: &Path) {
    let run = |args: &[&str]| govc.run(args);
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
    govc_devices(govc, upload);
    run(&["vm.destroy", "created"]);
    let (found, _) = govc.try_run(&["vm.info", "-json", "created"]);
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
    assert_eq!(
        text_field(&host, "Name"),
        Some("localhost.localdomain"),
        "{host}"
    );
    assert_eq!(
        text_field(&host, "Logical CPUs"),
        Some("8 CPUs @ 2400MHz"),
        "{host}"
    );
    assert_eq!(text_field(&host, "Memory"), Some("32768MB"), "{host}");
    assert_eq!(text_field(&host, "State"), Some("connected"), "{host}");

    let ls = run(&["datastore.ls", "vm01"]);
    assert!(ls.lines().any(|l| l == "vm01.vmx"), "{ls}");
    let vmx = run(&["datastore.download", "vm01/vm01.vmx", "-"]);
    assert!(vmx.contains("displayName = \"vm01\""), "{vmx}");
    assert!(vmx.contains("memsize = \"256\""), "{vmx}");
    // The BIOS uuid in the file is the config.uuid vm.info reported.
    let info = run(&["vm.info", "vm01"]);
    let hex: String = text_field(&info, "UUID")
        .unwrap_or_default()
        .chars()
        .filter(|c| *c != '-')
        .collect();
    let bytes: Vec<&str> = (0..hex.len() / 2)
        .filter_map(|i| hex.get(2 * i..2 * i + 2))
        .collect();
    let bios = format!("{}-{}", bytes[..8].join(" "), bytes[8..].join(" "));
    assert!(
        vmx.contains(&format!("uuid.bios = \"{bios}\"")),
        "{bios}: {vmx}"
    );
    run(&[
        "datastore.upload",
        upload.to_str().unwrap(),
        "vm01/notes.txt",
    ]);
    let back = run(&["datastore.download", "vm01/notes.txt", "-"]);
    assert_eq!(back, "hello from govc\n");
    assert!(run(&["datastore.ls", "vm01"])
        .lines()
        .any(|l| l == "notes.txt"));
    govc.fails(&["datastore.download", "vm01/absent.txt", "-"], "404");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pyvmomi_tasks_snapshot_and_question() {
    if !peers() {
        return;
    }
    let dir = support::data_dir("peers", "pyvmomi");
    let cfg = esx_sim::Config::new(&dir);
    let h = esx_sim::Simulator::start(cfg).await.unwrap();
    let port = h.addr.port().to_string();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pyvmomi_tasks.py");
    let data = dir.clone();
    let out = tokio::task::spawn_blocking(move || {
        esx_testkit::process::output(
            Command::new(PYTHON)
                .arg(script)
                .args(["127.0.0.1", &port, "root", "pass"])
                .arg(data),
            esx_testkit::process::LIMIT,
        )
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

/// Continuation pages keep the `maxObjects` of the RetrievePropertiesEx that made the token,
/// as vCenter and ESX do (clients that ask for small pages to bound their memory rely on it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn continue_keeps_max_objects() {
    use esx_vim::client::{view_spec, Client, ConnectOptions, HttpOptions, TlsOptions};
    use esx_vim::{methods, RetrieveOptions};

    let dir = support::data_dir("peers", "paging");
    let mut cfg = esx_sim::Config::new(&dir);
    cfg.inventory = "vm=250".parse().unwrap();
    let h = esx_sim::Simulator::start(cfg).await.unwrap();
    let options = ConnectOptions {
        user: "root".into(),
        password: "pass".into(),
        http: HttpOptions {
            tls: TlsOptions {
                no_verify: true,
                ..Default::default()
            },
            ..Default::default()
        },
        ..Default::default()
    };
    let url = format!("https://127.0.0.1:{}/sdk", h.addr.port());
    let client = Client::connect(&url, options).await.unwrap();
    let root = client.service_content().root_folder.clone();
    let view = client
        .create_container_view(&root, &["VirtualMachine"], true)
        .await
        .unwrap();
    let pc = client.property_collector().clone();
    let spec = view_spec(&view.moref, "VirtualMachine", &["name"]);
    let options = RetrieveOptions {
        max_objects: Some(100),
    };
    let first = methods::retrieve_properties_ex(&client, &pc, vec![spec], options)
        .await
        .unwrap()
        .expect("a first page");
    assert_eq!(first.objects.len(), 100);
    let second = methods::continue_retrieve_properties_ex(&client, &pc, first.token.unwrap())
        .await
        .unwrap();
    assert_eq!(second.objects.len(), 100, "second page");
    let third = methods::continue_retrieve_properties_ex(&client, &pc, second.token.unwrap())
        .await
        .unwrap();
    assert_eq!(third.objects.len(), 50, "third page");
    assert!(third.token.is_none());
    h.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
