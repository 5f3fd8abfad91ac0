//! Every esxsh verb against esx-sim (ESX and vCenter flavours), running the built binary:
//! stdout, stderr and exit status, including what esxsh does beyond or unlike virsh
//! (docs/COMPATIBILITY.md) and bad input.

use crate::support;

use esx_sim::Flavor;
use support::{esxsh, esxsh_env, Sim};

fn domain_xml(name: &str) -> String {
    format!(
        "<domain type='vmware'>\n  <name>{name}</name>\n  <memory>524288</memory>\n  \
         <vcpu>2</vcpu>\n  <os><type arch='x86_64'>hvm</type></os>\n  <devices>\n    \
         <disk type='file' device='disk'>\n      <source file='[datastore1] {name}/{name}.vmdk'/>\n      \
         <target dev='sda' bus='scsi'/>\n    </disk>\n    \
         <controller type='scsi' index='0' model='lsilogic'/>\n    \
         <interface type='bridge'>\n      <mac address='00:50:56:11:22:33'/>\n      \
         <source bridge='VM Network'/>\n    </interface>\n  </devices>\n</domain>\n"
    )
}

fn temp_file(sim: &Sim, name: &str, text: &str) -> String {
    let p = sim.dir.join(name);
    std::fs::write(&p, text).expect("write");
    p.to_string_lossy().into_owned()
}

/// README's main command: the embedded host's domains in three states.
#[test]
fn embedded_host_lists_domains() {
    let r = esxsh(&["list", "--all"]);
    assert_eq!(
        r.ok(),
        " Id   Name   State\n-----------------------\n 1    vm1    running\n 2    vm2    paused\n -    vm3    shut off\n\n"
    );
    assert_eq!(r.stderr, "");
    let r = esxsh(&["-c", "test:///default", "-q", "list"]);
    assert_eq!(r.ok(), " 1   vm1   running\n 2   vm2   paused\n");
    let r = esxsh(&["-q", "hostname"]);
    assert!(!r.ok().trim().is_empty());
}

#[test]
fn json_output() {
    let r = esxsh(&["list", "--all", "--json"]);
    let v: serde_json::Value = serde_json::from_str(r.ok()).expect("json");
    assert_eq!(v[0]["name"], "vm1");
    assert_eq!(v[0]["id"], 1);
    assert_eq!(v[1]["state"], "paused");
    assert_eq!(v[2]["id"], serde_json::Value::Null);
    let r = esxsh(&["-q", "--json", "dominfo", "vm1"]);
    let v: serde_json::Value = serde_json::from_str(r.ok()).expect("json");
    assert_eq!(v["state"], "running");
    assert_eq!(v["max_memory_kib"], 262144);
    for cmd in [
        &["nodeinfo"][..],
        &["pool-list"],
        &["pool-info", "datastore1"],
        &["vol-list", "datastore1"],
        &["net-list"],
        &["net-info", "vSwitch0"],
        &["iface-list"],
        &["schedinfo", "vm1"],
        &["vcpucount", "vm1"],
        &["snapshot-list", "vm1"],
        &["domstate", "vm2"],
        &["version"],
    ] {
        let args: Vec<&str> = ["-q", "--json"].iter().chain(cmd).copied().collect();
        let r = esxsh(&args);
        serde_json::from_str::<serde_json::Value>(r.ok())
            .unwrap_or_else(|e| panic!("{cmd:?}: {e}: {r:?}"));
    }
    esxsh(&["start", "vm3", "--json"])
        .fails_with("error: command 'start' doesn't support option --json\n");
}

#[test]
fn usage_errors_are_virsh_s() {
    esxsh(&["list", "--bogus"])
        .fails_with("error: command 'list' doesn't support option --bogus\n");
    esxsh(&["start"]).fails_with("error: command 'start' requires <domain> option\n");
    esxsh(&["frob"]).fails_with("error: unknown command: 'frob'\n");
    esxsh(&["dominfo", "a", "b"]).fails_with("error: unexpected data 'b'\n");
    esxsh(&["setvcpus", "vm1", "x"])
        .fails_with("error: Numeric value 'x' for <count> option is malformed or out of range\n");
    let r = esxsh(&["dominfo", "nosuch"]);
    r.fails_with("error: failed to get domain 'nosuch'\n");
    assert_eq!(r.stdout, "\n");
    esxsh(&["-c", "qemu:///system", "list"]).fails_with(
        "error: failed to connect to the hypervisor\nerror: no connection driver available for qemu:///system\n",
    );
    assert_eq!(
        esxsh(&["-v"]).ok(),
        format!("{}\n", env!("CARGO_PKG_VERSION"))
    );
    assert!(esxsh(&["-V"]).ok().contains("Embedded host"));
    assert!(esxsh(&["--help"]).ok().contains("snapshot-create-as"));
}

#[test]
fn lifecycle_and_wrong_states() {
    let sim = Sim::start("life", Flavor::Esx);
    assert_eq!(
        sim.esxsh(&["start", "vm1"]).ok(),
        "Domain 'vm1' started\n\n"
    );
    sim.esxsh(&["start", "vm1"])
        .fails_with("error: Domain is already active\n");
    assert_eq!(
        sim.esxsh(&["suspend", "vm1"]).ok(),
        "Domain 'vm1' suspended\n\n"
    );
    assert_eq!(sim.esxsh(&["-q", "domstate", "vm1"]).ok(), "paused\n");
    assert_eq!(
        sim.esxsh(&["resume", "vm1"]).ok(),
        "Domain 'vm1' resumed\n\n"
    );
    sim.esxsh(&["resume", "vm1"]).fails_with(
        "error: Failed to resume domain 'vm1'\nerror: Requested operation is not valid: Domain is not suspended\n",
    );
    assert_eq!(
        sim.esxsh(&["reboot", "vm1"]).ok(),
        "Domain 'vm1' is being rebooted\n\n"
    );
    assert_eq!(
        sim.esxsh(&["destroy", "vm1"]).ok(),
        "Domain 'vm1' destroyed\n\n"
    );
    sim.esxsh(&["destroy", "vm1"]).fails_with(
        "error: Failed to destroy domain 'vm1'\nerror: Requested operation is not valid: Domain is not powered on\n",
    );
    sim.esxsh(&["shutdown", "vm1"]).fails_with(
        "error: Failed to shutdown domain 'vm1'\nerror: Requested operation is not valid: Domain is not powered on\n",
    );
    assert_eq!(sim.esxsh(&["-q", "domid", "vm1"]).ok(), "-\n");
    // Read-only connections refuse changes.
    let r = sim.esxsh(&["-r", "start", "vm1"]);
    assert_eq!(r.status, 1);
    assert!(r.stderr.starts_with("error: Failed to start domain 'vm1'\nerror: operation forbidden: read only access prevents"), "{r:?}");
    assert_eq!(
        sim.esxsh(&["-r", "-q", "domstate", "vm1"]).ok(),
        "shut off\n"
    );
}

#[test]
fn resources_beyond_virsh() {
    let sim = Sim::start("res", Flavor::Esx);
    // virsh 11.3 fails these on ESX (flags libvirt's ESX driver refuses); esxsh does them.
    assert_eq!(sim.esxsh(&["setmaxmem", "vm2", "1G"]).ok(), "\n");
    assert_eq!(sim.esxsh(&["setmem", "vm2", "524288"]).ok(), "\n");
    let info = sim.esxsh(&["-q", "dominfo", "vm2"]).ok().to_string();
    assert!(
        info.contains("Max memory:     1048576 KiB\nUsed memory:    524288 KiB\n"),
        "{info}"
    );
    sim.esxsh(&["setmem", "vm2", "1x"])
        .fails_with("error: Numeric value '1x' for <size> option is malformed or out of range\n");
    assert_eq!(sim.esxsh(&["setvcpus", "vm2", "2"]).ok(), "\n");
    assert_eq!(
        sim.esxsh(&["-q", "vcpucount", "vm2"]).ok(),
        "maximum      config       128\ncurrent      config         2\n"
    );
    assert_eq!(
        sim.esxsh(&["-q", "vcpucount", "vm2", "--current"]).ok(),
        "2\n"
    );
    assert_eq!(sim.esxsh(&["-q", "maxvcpus"]).ok(), "128\n");
    assert_eq!(
        sim.esxsh(&["memtune", "vm2", "--min-guarantee", "65536"])
            .ok(),
        "\n"
    );
    assert_eq!(
        sim.esxsh(&["-q", "memtune", "vm2"]).ok(),
        "min_guarantee  : 65536\n"
    );
    let r = sim.esxsh(&["schedinfo", "vm2", "--set", "shares=-3"]);
    assert!(r.ok().contains("shares         : -3\n"), "{r:?}");
    sim.esxsh(&["schedinfo", "vm2", "--set", "bogus=1"])
        .fails_with("error: invalid scheduler option: bogus\n");
    assert_eq!(
        sim.esxsh(&["autostart", "vm2"]).ok(),
        "Domain 'vm2' marked as autostarted\n\n"
    );
    assert_eq!(
        sim.esxsh(&["-q", "list", "--all", "--autostart", "--name"])
            .ok(),
        "vm2\n"
    );
    assert!(sim.esxsh(&["-q", "freecell"]).ok().starts_with("Total: "));
    sim.esxsh(&["sysinfo"]).fails_with(
        "error: failed to get sysinfo\nerror: this function is not supported by the connection driver: virConnectGetSysinfo\n",
    );
}

#[test]
fn guest_information() {
    let sim = Sim::start("guest", Flavor::Esx);
    sim.esxsh(&["-q", "start", "vm1"]).ok();
    assert_eq!(sim.esxsh(&["-q", "domhostname", "vm1"]).ok(), "vm1\n");
    // esxsh asks VMware Tools by default (virsh's default, the DHCP lease, does not exist).
    let r = sim.esxsh(&["-q", "domifaddr", "vm1"]);
    assert_eq!(r.status, 0, "{r:?}");
    let r = sim.esxsh(&["domifaddr", "vm1", "--source", "lease"]);
    r.fails_with("error: Failed to query for interfaces addresses\nerror: argument unsupported: Unknown IP address data source 0\n");
    let png = sim.dir.join("shot.png");
    let r = sim.esxsh(&["screenshot", "vm1", "--file", png.to_str().unwrap()]);
    if r.status == 0 {
        assert_eq!(
            r.stdout,
            format!(
                "Screenshot saved to {}, with type of image/png\n\n",
                png.display()
            )
        );
        assert!(std::fs::metadata(&png).unwrap().len() > 0);
    } else {
        assert!(
            r.stderr
                .starts_with("error: could not take a screenshot of vm1\n"),
            "{r:?}"
        );
    }
}

#[test]
fn define_edit_create_undefine() {
    let sim = Sim::start("define", Flavor::Esx);
    let xml = temp_file(&sim, "web.xml", &domain_xml("web"));
    // The disk must exist for the VM to be usable: create it first.
    sim.esxsh(&[
        "-q",
        "vol-create-as",
        "datastore1",
        "web/web.vmdk",
        "1G",
        "--format",
        "vmdk",
        "--allocation",
        "0",
    ])
    .ok();
    assert_eq!(
        sim.esxsh(&["define", &xml]).ok(),
        format!("Domain 'web' defined from {xml}\n\n")
    );
    let dump = sim.esxsh(&["-q", "dumpxml", "web"]).ok().to_string();
    assert!(
        dump.contains("<memory unit='KiB'>524288</memory>"),
        "{dump}"
    );
    // Defining its own XML again with other memory edits the existing VM.
    let xml2 = temp_file(&sim, "web2.xml", &dump.replace("524288", "1048576"));
    assert_eq!(
        sim.esxsh(&["define", &xml2]).ok(),
        format!("Domain 'web' defined from {xml2}\n\n")
    );
    assert!(sim
        .esxsh(&["-q", "dominfo", "web"])
        .ok()
        .contains("Max memory:     1048576 KiB"));
    // edit: $EDITOR changes the XML, esxsh applies it to the VM.
    let r = esxsh_env(
        &["-c", &sim.uri(), "edit", "web"],
        &[
            ("ESX_PASSWORD", "pass"),
            ("EDITOR", "sed -i s/1048576/786432/g"),
            ("VISUAL", ""),
        ],
    );
    assert_eq!(r.ok(), "Domain 'web' XML configuration edited.\n\n");
    assert!(sim
        .esxsh(&["-q", "dominfo", "web"])
        .ok()
        .contains("Max memory:     786432 KiB"));
    let r = esxsh_env(
        &["-c", &sim.uri(), "edit", "web"],
        &[("ESX_PASSWORD", "pass"), ("EDITOR", "true"), ("VISUAL", "")],
    );
    assert_eq!(r.ok(), "Domain 'web' XML configuration not changed.\n\n");
    // Malformed XML.
    let bad = temp_file(&sim, "bad.xml", "<domain type='vmware'><name>x</name>");
    let r = sim.esxsh(&["define", &bad]);
    assert_eq!(r.status, 1);
    assert!(
        r.stderr.starts_with(&format!(
            "error: Failed to define domain from {bad}\nerror: XML error: "
        )),
        "{r:?}"
    );
    // create = define + start.
    sim.esxsh(&[
        "-q",
        "vol-create-as",
        "datastore1",
        "app/app.vmdk",
        "1G",
        "--format",
        "vmdk",
        "--allocation",
        "0",
    ])
    .ok();
    let app = temp_file(
        &sim,
        "app.xml",
        &domain_xml("app").replace("00:50:56:11:22:33", "00:50:56:11:22:34"),
    );
    assert_eq!(
        sim.esxsh(&["create", &app]).ok(),
        format!("Domain 'app' created from {app}\n\n")
    );
    assert_eq!(sim.esxsh(&["-q", "domstate", "app"]).ok(), "running\n");
    sim.esxsh(&["undefine", "app"]).fails_with(
        "error: Failed to undefine domain 'app'\nerror: Requested operation is not valid: Domain is not suspended and not powered off\n",
    );
    sim.esxsh(&["-q", "destroy", "app"]).ok();
    assert_eq!(
        sim.esxsh(&["undefine", "app"]).ok(),
        "Domain 'app' has been undefined\n\n"
    );
    assert_eq!(
        sim.esxsh(&["undefine", "web"]).ok(),
        "Domain 'web' has been undefined\n\n"
    );
    sim.esxsh(&["dominfo", "web"])
        .fails_with("error: failed to get domain 'web'\n");
}

#[test]
fn snapshots() {
    let sim = Sim::start("snap", Flavor::Esx);
    assert_eq!(
        sim.esxsh(&["snapshot-create-as", "vm3", "base"]).ok(),
        "Domain snapshot base created\n"
    );
    let x = temp_file(
        &sim,
        "s.xml",
        "<domainsnapshot><name>next</name><description>d</description></domainsnapshot>",
    );
    assert_eq!(
        sim.esxsh(&["snapshot-create", "vm3", &x]).ok(),
        format!("Domain snapshot next created from '{x}'\n")
    );
    assert_eq!(
        sim.esxsh(&["-q", "snapshot-list", "vm3", "--tree"]).ok(),
        "base\n  |\n  +- next\n    \n"
    );
    assert_eq!(
        sim.esxsh(&["-q", "snapshot-list", "vm3", "--name", "--leaves"])
            .ok(),
        "next\n"
    );
    assert_eq!(
        sim.esxsh(&["-q", "snapshot-list", "vm3", "--from", "base", "--name"])
            .ok(),
        "next\n"
    );
    assert_eq!(
        sim.esxsh(&["-q", "snapshot-current", "vm3", "--name"]).ok(),
        "next"
    );
    assert_eq!(
        sim.esxsh(&["snapshot-revert", "vm3", "base"]).ok(),
        "Domain snapshot base reverted\n\n"
    );
    assert_eq!(
        sim.esxsh(&["snapshot-revert", "vm3", "--current"]).ok(),
        "Domain snapshot base reverted\n\n"
    );
    sim.esxsh(&["snapshot-revert", "vm3"])
        .fails_with("error: --snapshotname or --current is required\n");
    // ESX (and libvirt's driver) cannot delete only the children.
    sim.esxsh(&["snapshot-delete", "vm3", "base", "--children-only"]).fails_with(
        "error: Failed to delete snapshot base\nerror: invalid argument: unsupported flags (0x4) in function esxDomainSnapshotDelete\n",
    );
    assert_eq!(
        sim.esxsh(&["snapshot-delete", "vm3", "--current"]).ok(),
        "Domain snapshot base deleted\n\n"
    );
    sim.esxsh(&["snapshot-current", "vm3"])
        .fails_with("error: domain 'vm3' has no current snapshot\n");
    sim.esxsh(&["snapshot-info", "vm3", "nosuch"]).fails_with(
        "error: Domain snapshot not found: Could not find snapshot with name 'nosuch'\n",
    );
}

#[test]
fn storage_transfers() {
    let sim = Sim::start("vol", Flavor::Esx);
    let src = temp_file(&sim, "data.iso", &"x".repeat(100_000));
    sim.esxsh(&[
        "-q",
        "vol-create-as",
        "datastore1",
        "iso/data.vmdk",
        "1M",
        "--format",
        "vmdk",
        "--allocation",
        "0",
    ])
    .ok();
    // vol-upload replaces a volume's file; vol-download reads it back.
    let r = sim.esxsh(&["vol-upload", "iso/data.vmdk", &src, "datastore1"]);
    assert_eq!(r.ok(), "\n");
    let back = sim.dir.join("back.bin");
    let r = sim.esxsh(&[
        "vol-download",
        "--pool",
        "datastore1",
        "iso/data.vmdk",
        back.to_str().unwrap(),
    ]);
    assert_eq!(r.ok(), "\n");
    assert_eq!(std::fs::read(&back).unwrap().len(), 100_000);
    sim.esxsh(&[
        "vol-upload",
        "iso/data.vmdk",
        "/nonexistent/x",
        "datastore1",
    ])
    .fails_with("error: Failed to open file '/nonexistent/x': No such file or directory\n");
    sim.esxsh(&["vol-create-as", "datastore1", "bad.vmdk", "1M"]).fails_with(
        "error: Failed to create vol bad.vmdk\nerror: invalid argument: Volume name 'bad.vmdk' doesn't have expected format '<directory>/<file>'\n",
    );
}

#[test]
fn networks_and_interfaces() {
    let sim = Sim::start("net", Flavor::Esx);
    let net = temp_file(
        &sim,
        "net.xml",
        "<network>\n  <name>vSwitch9</name>\n  <portgroup name='pg9'/>\n</network>\n",
    );
    assert_eq!(
        sim.esxsh(&["net-define", &net]).ok(),
        format!("Network vSwitch9 defined from {net}\n\n")
    );
    assert_eq!(
        sim.esxsh(&["-q", "net-list", "--name"]).ok(),
        "vSwitch0\nvSwitch9\n"
    );
    assert!(sim
        .esxsh(&["-q", "net-dumpxml", "vSwitch9"])
        .ok()
        .contains("<name>vSwitch9</name>"));
    assert_eq!(
        sim.esxsh(&["net-undefine", "vSwitch9"]).ok(),
        "Network vSwitch9 has been undefined\n\n"
    );
    let list = sim.esxsh(&["-q", "iface-list", "--all"]).ok().to_string();
    let name = list.split_whitespace().next().expect("a NIC").to_string();
    let mac = list.split_whitespace().nth(2).expect("its MAC").to_string();
    assert_eq!(
        sim.esxsh(&["-q", "iface-mac", &name]).ok(),
        format!("{mac}\n")
    );
    assert_eq!(
        sim.esxsh(&["-q", "iface-name", &mac]).ok(),
        format!("{name}\n")
    );
    assert!(sim
        .esxsh(&["-q", "iface-dumpxml", &name])
        .ok()
        .contains(&format!("<mac address='{mac}'/>")));
    let r = sim.esxsh(&["iface-dumpxml", "nosuch"]);
    assert_eq!(r.status, 1);
    assert!(
        r.stderr
            .starts_with("error: failed to get interface 'nosuch'\nerror: Interface not found: "),
        "{r:?}"
    );
}

#[test]
fn vcenter_migration() {
    let sim = Sim::start("vc", Flavor::Vcenter);
    assert_eq!(sim.esxsh(&["-q", "list", "--all", "--name"]).ok(), "vm1\n");
    sim.esxsh(&["-q", "start", "vm1"]).ok();
    let r = sim.esxsh(&[
        "migrate",
        "--live",
        "--domain",
        "vm1",
        "--desturi",
        &sim.vpx_host(1),
    ]);
    assert_eq!(r.ok(), "\n");
    assert_eq!(sim.esxsh(&["-q", "list", "--all", "--name"]).ok(), "");
    let r = esxsh_env(
        &["-c", &sim.vpx_host(1), "-q", "list", "--name"],
        &[("ESX_PASSWORD", "pass")],
    );
    assert_eq!(r.ok(), "vm1\n");
    let esx = Sim::start("vc-esx", Flavor::Esx);
    let r = esx.esxsh(&["migrate", "vm1", &sim.vpx_host(0)]);
    assert_eq!(r.status, 1, "{r:?}");
    assert!(
        r.stderr
            .contains("Migration not possible without a vCenter"),
        "{r:?}"
    );
}

#[test]
fn events_stream() {
    let sim = Sim::start("events", Flavor::Esx);
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_esxsh"))
        .args(["-c", &sim.uri(), "event", "--loop", "--timeout", "4"])
        .env("ESX_PASSWORD", "pass")
        .env_remove("LIBVIRT_AUTH_FILE")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("esxsh event");
    std::thread::sleep(std::time::Duration::from_millis(1500));
    sim.esxsh(&["-q", "start", "vm2"]).ok();
    sim.esxsh(&["-q", "suspend", "vm2"]).ok();
    let out = child.wait_with_output().expect("event ends");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        text,
        "event 'lifecycle' for domain 'vm2': Started Booted\nevent 'lifecycle' for domain 'vm2': Suspended Paused\nevent loop timed out\nevents received: 2\n\n"
    );
    assert_eq!(sim.esxsh(&["-q", "event", "--list"]).ok(), "lifecycle\n");
}

#[test]
fn shell_reads_commands_from_stdin() {
    use std::io::Write;
    let sim = Sim::start("shell", Flavor::Esx);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_esxsh"))
        .args(["-c", &sim.uri(), "-q"])
        .env("ESX_PASSWORD", "pass")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("esxsh shell");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"list --all --name\n# a comment\nstart vm1\ndomstate 'vm1'\nbogus\nconnect test:///default\nlist --name\nquit\nlist\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "vm1\nvm2\nvm3\nrunning\nvm1\nvm2\n"
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: unknown command: 'bogus'\n"
    );
}

#[test]
fn completions_and_man_page() {
    for shell in ["bash", "zsh", "fish"] {
        let r = esxsh(&["-q", "completion", shell]);
        assert!(r.ok().contains("snapshot-create-as"), "{shell}");
    }
    let man = esxsh(&["-q", "man"]);
    assert!(
        man.ok().starts_with(".ie \\n(.g .ds Aq"),
        "{}",
        &man.stdout[..200.min(man.stdout.len())]
    );
    assert!(man.stdout.contains("esxsh"));
}

#[test]
fn credentials_never_from_argv_and_masked_in_logs() {
    let sim = Sim::start("creds", Flavor::Esx);
    // No password anywhere and no terminal: libvirt's failure.
    let r = esxsh_env(&["-c", &sim.uri(), "list"], &[]);
    r.fails_with("error: failed to connect to the hypervisor\nerror: authentication failed: Password request failed\n");
    // auth.conf.
    let conf = temp_file(
        &sim,
        "auth.conf",
        "[credentials-t]\nusername=root\npassword=pass\n[auth-esx-127.0.0.1]\ncredentials=t\n",
    );
    let r = esxsh_env(
        &["-c", &sim.uri(), "-q", "list", "--all", "--name"],
        &[("LIBVIRT_AUTH_FILE", &conf)],
    );
    assert_eq!(r.ok(), "vm1\nvm2\nvm3\n");
    // -d 0 traces everything, the password masked.
    let r = esxsh_env(
        &["-c", &sim.uri(), "-d", "0", "-q", "hostname"],
        &[("ESX_PASSWORD", "pass")],
    );
    assert_eq!(r.status, 0);
    assert!(
        r.stderr.contains("Login"),
        "no trace: {}",
        &r.stderr[..r.stderr.len().min(500)]
    );
    assert!(!r.stderr.contains(">pass<"), "password in the trace");
}

/// The driver gaps met on the way, as failing tests.
/// Fixed in the driver since (was: the description left out).
#[test]
fn snapshot_xml_keeps_an_empty_description() {
    let sim = Sim::start("snapdesc", Flavor::Esx);
    sim.esxsh(&["-q", "snapshot-create-as", "vm3", "plain"])
        .ok();
    assert!(sim
        .esxsh(&["-q", "snapshot-dumpxml", "vm3", "plain"])
        .ok()
        .contains("<description></description>"));
}

#[test]
fn vol_clone_from_the_source_definition() {
    use esx_driver::StorageDriver;
    let sim = Sim::start("clonexml", Flavor::Esx);
    sim.esxsh(&[
        "-q",
        "vol-create-as",
        "datastore1",
        "a/a.vmdk",
        "10M",
        "--format",
        "vmdk",
        "--allocation",
        "0",
    ])
    .ok();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let conn = esx_driver::Connection::open(
            &sim.uri(),
            esx_driver::OpenOptions {
                auth: Some(std::sync::Arc::new(esx_driver::FixedCredentials::new(
                    "root", "pass",
                ))),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let pool = conn
            .storage_pool_lookup_by_name("datastore1")
            .await
            .unwrap();
        let src = conn
            .storage_vol_lookup_by_name(&pool, "a/a.vmdk")
            .await
            .unwrap();
        let xml = conn
            .storage_vol_get_xml_desc(&src, 0)
            .await
            .unwrap()
            .replace("a/a.vmdk", "b/b.vmdk");
        conn.storage_vol_create_xml_from(&pool, &xml, &src, 0)
            .await
            .unwrap();
    });
}

#[test]
fn undefine_remove_all_storage() {
    let sim = Sim::start("delete", Flavor::Esx);
    let app = temp_file(&sim, "app.xml", &domain_xml("app"));
    sim.esxsh(&["-q", "define", &app]).ok();
    assert_eq!(
        sim.esxsh(&["undefine", "app", "--remove-all-storage"]).ok(),
        "Domain 'app' has been undefined\nVolume 'sda'([datastore1] app/app.vmdk) removed.\n\n"
    );
    assert!(!sim.dir.join("data/datastore1/app").exists());
}

/// The Nova-style verbs: spawn (with a VLAN port group made on the way), the image back out,
/// a port group, a console ticket; bad input in their own words.
#[test]
fn provisioning_verbs() {
    let sim = Sim::start("provision", Flavor::Esx);
    let image = sim.dir.join("disk.raw");
    let bytes: Vec<u8> = (0..(1u32 << 20)).map(|i| (i % 251) as u8).collect();
    std::fs::write(&image, &bytes).expect("image");
    let image = image.to_string_lossy().into_owned();
    let r = sim.esxsh(&[
        "spawn",
        "web",
        "--image",
        &image,
        "--vcpus",
        "2",
        "--memory",
        "1024",
        "--nic",
        "network=VM Network,mac=00:50:56:01:02:03,ip=10.1.0.5/24,gateway=10.1.0.1,dns=10.1.0.2",
        "--nic",
        "network=pg-77,vlan=77",
    ]);
    assert_eq!(
        r.ok(),
        "Domain 'web' spawned on datastore1 (image uploaded)\n\n"
    );
    let vmx = std::fs::read(sim.dir.join("data/datastore1/web/web.vmx")).expect("vmx");
    let vmx = esx_vmx::VmxFile::parse(&vmx).expect("a valid .vmx");
    let id = vmx.get("machine.id").expect("machine.id");
    assert!(
        id.starts_with(
            "00:50:56:01:02:03;10.1.0.5;255.255.255.0;10.1.0.1;10.1.0.255;10.1.0.2#00:50:56:"
        ) && id.ends_with(";;;;;#"),
        "{id}"
    );
    let r = sim.esxsh(&[
        "-q", "--json", "spawn", "web2", "--image", &image, "--paused",
    ]);
    let v: serde_json::Value = serde_json::from_str(r.ok()).expect("json");
    assert_eq!(v["cache"], true, "the second spawn uses the cache");
    assert_eq!(v["id"], -1);
    assert_eq!(sim.esxsh(&["domstate", "web"]).ok(), "running\n\n");
    let out = sim.dir.join("web.raw");
    let out_s = out.to_string_lossy().into_owned();
    let r = sim.esxsh(&["image-export", "web", &out_s]);
    assert!(
        r.ok().starts_with("Image of domain 'web' written to "),
        "{r:?}"
    );
    assert!(
        std::fs::read(&out).expect("export") == bytes,
        "the export equals the image"
    );
    assert_eq!(sim.esxsh(&["snapshot-list", "web", "--name"]).ok(), "\n");
    assert_eq!(
        sim.esxsh(&["portgroup-ensure", "pg-77", "--vlan", "77"])
            .ok(),
        "Port group 'pg-77' (VLAN 77) already exists\n\n"
    );
    sim.esxsh(&["portgroup-ensure", "pg-77", "--vlan", "78"]).fails_with(
        "error: Failed to ensure port group 'pg-77'\nerror: port group 'pg-77' has VLAN 77, not 78\n",
    );
    let r = sim.esxsh(&["console-ticket", "web"]);
    assert!(
        r.ok().starts_with("vmrc://clone:") && r.ok().contains("/?moid="),
        "{r:?}"
    );
    sim.esxsh(&["spawn", "web", "--image", &image]).fails_with(
        "error: Failed to spawn domain 'web'\nerror: a VM named 'web' already exists\n",
    );
    sim.esxsh(&["spawn", "x", "--image", &image, "--nic", "vlan=3"])
        .fails_with("error: --nic 'vlan=3': network=PORTGROUP is required\n");
    sim.esxsh(&["spawn", "x", "--image", &image, "--adapter", "scsi"]).fails_with(
        "error: unknown adapter type 'scsi' (expected lsiLogic, busLogic, lsiLogicsas, paraVirtual or ide)\n",
    );
    // Deleting a VM and its files is virsh's destroy + undefine --remove-all-storage.
    sim.esxsh(&["destroy", "web"]).ok();
    sim.esxsh(&["undefine", "web", "--remove-all-storage"]).ok();
    assert!(!sim.dir.join("data/datastore1/web/web.vmx").exists());
}
