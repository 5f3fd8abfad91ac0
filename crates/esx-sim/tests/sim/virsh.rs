//! libvirt's ESX driver (`virsh -c esx://…`) against an in-process simulator on loopback.

use std::path::{Path, PathBuf};
use std::process::Command;

fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared")
}

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/sim")
}

fn virsh_available() -> bool {
    let ok = Command::new("virsh").arg("--version").output().is_ok()
        && shared().join("peers/libvirt-auth.conf").exists();
    if !ok {
        eprintln!("SKIPPED: virsh or ../shared/peers/libvirt-auth.conf missing (run ../shared/peers/setup-peers.sh)");
    }
    ok
}

/// Runs `virsh -c esx://…` with `args`; returns (success, stdout, stderr).
fn virsh(port: u16, args: &[&str]) -> (bool, String, String) {
    virsh_at(&format!("esx://root@127.0.0.1:{port}/?no_verify=1"), args)
}

/// Runs `virsh -c URI` with `args`; returns (success, stdout, stderr).
fn virsh_at(uri: &str, args: &[&str]) -> (bool, String, String) {
    let o = esx_testkit::process::output(
        Command::new("virsh").arg("-c").arg(uri).args(args).env(
            "LIBVIRT_AUTH_FILE",
            shared().join("peers/libvirt-auth.conf"),
        ),
        esx_testkit::process::LIMIT,
    )
    .expect("virsh runs");
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Runs virsh and asserts it succeeded; returns stdout.
fn ok(port: u16, args: &[&str]) -> String {
    let (success, out, err) = virsh(port, args);
    assert!(success, "virsh {args:?} failed:\n{out}\n{err}");
    out
}

fn scenario(port: u16, dir: &Path) {
    assert!(ok(port, &["version"]).contains("Running hypervisor: ESX 7.0.3"));
    assert_eq!(ok(port, &["hostname"]).trim(), "localhost.localdomain");
    let node = ok(port, &["nodeinfo"]);
    assert!(node.contains("CPU(s):              8"), "{node}");
    let caps = ok(port, &["capabilities"]);
    assert!(
        caps.contains("<arch>x86_64</arch>") && caps.contains("<arch name='x86_64'>"),
        "{caps}"
    );

    let list = ok(port, &["list", "--all"]);
    for vm in ["vm1", "vm2", "vm3"] {
        assert!(list.contains(vm), "{list}");
    }
    let info = ok(port, &["dominfo", "vm1"]);
    assert!(info.contains("State:          shut off"), "{info}");
    assert!(info.contains("Max memory:     262144 KiB"), "{info}");
    let xml = ok(port, &["dumpxml", "vm1"]);
    assert!(
        xml.contains("<source file='[datastore1] vm1/vm1.vmdk'/>"),
        "{xml}"
    );
    let sched = ok(port, &["schedinfo", "vm1"]);
    assert!(sched.contains("reservation    : 0"), "{sched}");

    // A new domain from vm1's XML, under another name, through its life cycle.
    let defined = xml
        .replace("<name>vm1</name>", "<name>newvm</name>")
        .lines()
        .filter(|l| !l.contains("<uuid>") && !l.contains("<mac "))
        .collect::<Vec<_>>()
        .join("\n");
    let file = dir.join("newvm.xml");
    std::fs::write(&file, defined).unwrap();
    ok(port, &["define", file.to_str().unwrap()]);
    ok(port, &["start", "newvm"]);
    assert!(ok(port, &["domstate", "newvm"]).contains("running"));
    ok(port, &["suspend", "newvm"]);
    assert!(ok(port, &["domstate", "newvm"]).contains("paused"));
    ok(port, &["resume", "newvm"]);
    assert!(ok(port, &["domstate", "newvm"]).contains("running"));
    // Starting a running domain is refused, and the simulator keeps serving.
    let (started, _, err) = virsh(port, &["start", "newvm"]);
    assert!(!started, "{err}");
    ok(port, &["destroy", "newvm"]);
    assert!(ok(port, &["domstate", "newvm"]).contains("shut off"));
    ok(port, &["undefine", "newvm"]);
    assert!(!ok(port, &["list", "--all"]).contains("newvm"));

    // Snapshots.
    ok(port, &["snapshot-create-as", "vm2", "s1", "first"]);
    ok(port, &["snapshot-create-as", "vm2", "s2", "second"]);
    let snaps = ok(port, &["snapshot-list", "vm2", "--tree"]);
    assert!(snaps.contains("s1") && snaps.contains("s2"), "{snaps}");
    assert_eq!(
        ok(port, &["snapshot-current", "--name", "vm2"]).trim(),
        "s2"
    );
    ok(port, &["snapshot-revert", "vm2", "s1"]);
    assert_eq!(
        ok(port, &["snapshot-current", "--name", "vm2"]).trim(),
        "s1"
    );
    ok(port, &["snapshot-delete", "vm2", "s2"]);
    ok(port, &["snapshot-delete", "vm2", "s1"]);
    assert!(!ok(port, &["snapshot-list", "vm2"]).contains("s1"));

    // Autostart through HostAutoStartManager.
    let autostart = |vm: &str| {
        ok(port, &["dominfo", vm])
            .lines()
            .find(|l| l.starts_with("Autostart:"))
            .map(|l| l.split_whitespace().last().unwrap_or("").to_owned())
    };
    assert_eq!(autostart("vm1").as_deref(), Some("disable"));
    ok(port, &["autostart", "vm1"]);
    assert_eq!(autostart("vm1").as_deref(), Some("enable"));
    assert_eq!(autostart("vm2").as_deref(), Some("disable"));
    ok(port, &["autostart", "--disable", "vm1"]);
    assert_eq!(autostart("vm1").as_deref(), Some("disable"));

    // Storage.
    let pools = ok(port, &["pool-list"]);
    let row = |name: &str| {
        pools.lines().any(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f == [name, "active", "yes"]
        })
    };
    assert!(row("datastore1"), "{pools}");
    // libvirt's iSCSI backend: one pool per static target, its LUNs as volumes.
    let target0 = "iqn.2006-01.org.esx-sim:storage.target0";
    assert!(
        row(target0) && row("iqn.2006-01.org.esx-sim:storage.target1"),
        "{pools}"
    );
    let iscsi = ok(port, &["pool-dumpxml", target0]);
    assert!(
        iscsi.contains("<pool type='iscsi'>")
            && iscsi.contains("<host name='192.0.2.10' port='3260'/>"),
        "{iscsi}"
    );
    let luns = ok(port, &["vol-list", target0]);
    let vols = luns
        .lines()
        .filter(|l| l.trim_start().starts_with("/vmfs/devices/disks/naa."))
        .count();
    assert_eq!(vols, 2, "{luns}");
    ok(port, &["pool-refresh", target0]);
    let pool = ok(port, &["pool-dumpxml", "datastore1"]);
    assert!(
        pool.contains("<path>/vmfs/volumes/datastore1</path>"),
        "{pool}"
    );
    let vols = ok(port, &["vol-list", "datastore1"]);
    assert!(vols.contains("[datastore1] vm1/vm1.vmdk"), "{vols}");
    assert!(!vols.contains(".vmx") && !vols.contains("-flat"), "{vols}");
    let vol = ok(
        port,
        &["vol-dumpxml", "--pool", "datastore1", "vm1/vm1.vmdk"],
    );
    assert!(
        vol.contains("<capacity unit='bytes'>1073741824</capacity>"),
        "{vol}"
    );
    let spec = testdata().join("virsh-volume.xml");
    ok(port, &["vol-create", "datastore1", spec.to_str().unwrap()]);
    let info = ok(
        port,
        &["vol-info", "--pool", "datastore1", "vm1/extra.vmdk"],
    );
    assert!(info.contains("64.00 MiB"), "{info}");
    ok(
        port,
        &["vol-delete", "--pool", "datastore1", "vm1/extra.vmdk"],
    );
    assert!(!dir.join("data/datastore1/vm1/extra.vmdk").exists());

    // Networks and interfaces.
    let nets = ok(port, &["net-list"]);
    assert!(nets.contains("vSwitch0"), "{nets}");
    let net = ok(port, &["net-dumpxml", "vSwitch0"]);
    assert!(net.contains("<portgroup name='VM Network'>"), "{net}");
    // libvirt looks interfaces up by MAC even when given a name (a libvirt quirk), so
    // `iface-list` shows nothing on real ESX too; the interface is reachable by MAC.
    ok(port, &["iface-list", "--all"]);
    let iface = ok(port, &["iface-dumpxml", "00:50:56:00:00:01"]);
    assert!(
        iface.contains("name='vmnic0'") && iface.contains("dhcp"),
        "{iface}"
    );
    let iface = ok(port, &["iface-dumpxml", "00:50:56:00:00:02"]);
    assert!(
        iface.contains("name='vmnic1'") && iface.contains("address='192.0.2.50' prefix='24'"),
        "{iface}"
    );
    assert!(
        net.contains("mode='bridge'") && net.contains("<interface dev='vmnic0'/>"),
        "{net}"
    );
    // A switch defined through libvirt: bridged to vmnic1, with a shaping policy.
    let spec = testdata().join("virsh-network.xml");
    ok(port, &["net-define", spec.to_str().unwrap()]);
    let net = ok(port, &["net-dumpxml", "vSwitch7"]);
    assert!(net.contains("<interface dev='vmnic1'/>"), "{net}");
    assert!(
        net.contains("average='1000'") && net.contains("peak='2000'"),
        "{net}"
    );
    ok(port, &["net-undefine", "vSwitch7"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn virsh_esx_driver_commands() {
    if !virsh_available() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("esx-sim-virsh-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = esx_sim::Config::new(dir.join("data"));
    let h = esx_sim::Simulator::start(cfg).await.unwrap();
    let port = h.addr.port();
    let d = dir.clone();
    tokio::task::spawn_blocking(move || scenario(port, &d))
        .await
        .unwrap();
    h.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// `vpx://` URI of a host in the simulator's first cluster.
fn vpx(port: u16, host: &str) -> String {
    format!("vpx://root@127.0.0.1:{port}/DC0/Cluster0/{host}?no_verify=1")
}

/// Runs virsh on `uri` and asserts it succeeded; returns stdout.
fn ok_at(uri: &str, args: &[&str]) -> String {
    let (success, out, err) = virsh_at(uri, args);
    assert!(success, "virsh -c {uri} {args:?} failed:\n{out}\n{err}");
    out
}

/// The vCenter flavor, one cluster of two hosts: host commands, the domain life cycle and
/// migration between the hosts (libvirt: Prepare on the destination, ValidateMigration and
/// MigrateVM_Task on the source, lookup by name on the destination).
fn vpx_scenario(port: u16, dir: &Path) {
    let (h0, h1) = ("esx-0-0-0.sim.local", "esx-0-0-1.sim.local");
    let (u0, u1) = (vpx(port, h0), vpx(port, h1));
    assert!(ok_at(&u0, &["version"]).contains("Running hypervisor: ESX 7.0.3"));
    assert_eq!(ok_at(&u0, &["hostname"]).trim(), h0);
    assert_eq!(ok_at(&u1, &["hostname"]).trim(), h1);
    let node = ok_at(&u0, &["nodeinfo"]);
    assert!(node.contains("CPU(s):              8"), "{node}");
    let caps = ok_at(&u0, &["capabilities"]);
    assert!(
        caps.contains("<uri_transport>vpxmigr</uri_transport>") && caps.contains("<live/>"),
        "{caps}"
    );
    // VMs are spread over the hosts: vm1 on the first, vm2 on the second.
    let list0 = ok_at(&u0, &["list", "--all"]);
    assert!(list0.contains("vm1") && !list0.contains("vm2"), "{list0}");
    assert!(ok_at(&u1, &["list", "--all"]).contains("vm2"));
    let info = ok_at(&u0, &["dominfo", "vm1"]);
    assert!(info.contains("State:          shut off"), "{info}");
    let xml = ok_at(&u0, &["dumpxml", "vm1"]);
    assert!(
        xml.contains("<source file='[datastore1] vm1/vm1.vmdk'/>")
            && xml.contains("<vmware:datacenterpath>DC0</vmware:datacenterpath>"),
        "{xml}"
    );

    // Life cycle of a new domain on the first host.
    let defined = xml
        .replace("<name>vm1</name>", "<name>vpxvm</name>")
        .lines()
        .filter(|l| !l.contains("<uuid>") && !l.contains("<mac "))
        .collect::<Vec<_>>()
        .join("\n");
    let file = dir.join("vpxvm.xml");
    std::fs::write(&file, defined).unwrap();
    ok_at(&u0, &["define", file.to_str().unwrap()]);
    ok_at(&u0, &["start", "vpxvm"]);
    assert!(ok_at(&u0, &["domstate", "vpxvm"]).contains("running"));
    ok_at(&u0, &["suspend", "vpxvm"]);
    assert!(ok_at(&u0, &["domstate", "vpxvm"]).contains("paused"));
    ok_at(&u0, &["resume", "vpxvm"]);
    assert!(ok_at(&u0, &["domstate", "vpxvm"]).contains("running"));

    // Live migration of the running domain to the second host, then back offline.
    ok_at(&u0, &["migrate", "--live", "vpxvm", &u1]);
    let list1 = ok_at(&u1, &["list", "--all"]);
    assert!(
        list1
            .lines()
            .any(|l| l.contains("vpxvm") && l.contains("running")),
        "{list1}"
    );
    assert!(!ok_at(&u0, &["list", "--all"]).contains("vpxvm"));
    ok_at(&u1, &["destroy", "vpxvm"]);
    ok_at(&u1, &["migrate", "vpxvm", &u0]);
    assert!(ok_at(&u0, &["list", "--all"]).contains("vpxvm"));
    // The same host again: ValidateMigration's event becomes libvirt's error.
    let (moved, _, err) = virsh_at(&u0, &["migrate", "vpxvm", &u0]);
    assert!(!moved, "{err}");
    assert!(err.contains("already on host esx-0-0-0.sim.local"), "{err}");
    assert!(ok_at(&u0, &["domstate", "vpxvm"]).contains("shut off"));
    ok_at(&u0, &["undefine", "vpxvm"]);
    assert!(!ok_at(&u0, &["list", "--all"]).contains("vpxvm"));

    // vm1, powered off, moves to the second host.
    ok_at(&u0, &["migrate", "vm1", &u1]);
    let list1 = ok_at(&u1, &["list", "--all"]);
    assert!(list1.contains("vm1") && list1.contains("vm2"), "{list1}");
    assert!(!ok_at(&u0, &["list", "--all"]).contains("vm1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn virsh_vpx_driver_and_migration() {
    if !virsh_available() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("esx-sim-virsh-vpx-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut cfg = esx_sim::Config::new(dir.join("data"));
    cfg.flavor = esx_sim::Flavor::Vcenter;
    cfg.inventory = "dc=1,cluster=1,host=2,vm=3".parse().unwrap();
    let h = esx_sim::Simulator::start(cfg).await.unwrap();
    let port = h.addr.port();
    let d = dir.clone();
    tokio::task::spawn_blocking(move || vpx_scenario(port, &d))
        .await
        .unwrap();
    h.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
