//! esxsh against libvirt's virsh 11.3, byte for byte: the same commands on two simulators
//! started alike (one per tool, so that changes made by one do not show in the other), with
//! stdout, stderr and the exit status compared after the port number and the snapshot times
//! are masked. Differences on purpose are tested in `commands.rs` and explained in
//! docs/COMPATIBILITY.md; none are allowed here. Skipped loudly without virsh.

use crate::support;

use support::{have_virsh, Run, Sim};

/// Replaces what differs between two runs by nature: the simulator's port and times.
fn mask(text: &str, port: u16) -> String {
    let text = text.replace(&port.to_string(), "PORT");
    let mut out = String::with_capacity(text.len());
    let b = text.as_bytes();
    let mut i = 0;
    // "YYYY-MM-DD HH:MM:SS +ZZZZ" and <creationTime>N</creationTime>
    let shape = b"dddd-dd-dd dd:dd:dd +dddd";
    while i < b.len() {
        if i + shape.len() <= b.len()
            && shape.iter().zip(&b[i..]).all(|(s, c)| match s {
                b'd' => c.is_ascii_digit(),
                b'+' => *c == b'+' || *c == b'-',
                other => other == c,
            })
        {
            out.push_str("TIME");
            i += shape.len();
            continue;
        }
        if text[i..].starts_with("<creationTime>") {
            if let Some(end) = text[i..].find("</creationTime>") {
                out.push_str("<creationTime>T</creationTime>");
                i += end + "</creationTime>".len();
                continue;
            }
        }
        let ch = text[i..].chars().next().unwrap_or(' ');
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

fn masked(r: Run, port: u16) -> Run {
    Run {
        status: r.status,
        stdout: mask(&r.stdout, port),
        stderr: mask(&r.stderr, port),
    }
}

/// Runs every line of `script` with virsh on `a` and esxsh on `b`; returns the mismatches.
fn compare(a: &Sim, b: &Sim, script: &[String]) -> Vec<String> {
    let mut bad = Vec::new();
    for line in script {
        let words = |sim: &Sim| {
            let line = line.replace("{HOST1}", &sim.vpx_host(1));
            esx_cli::shell::split_words(&line).expect("test line")
        };
        let (wa, wb) = (words(a), words(b));
        let args_a: Vec<&str> = wa.iter().map(String::as_str).collect();
        let args_b: Vec<&str> = wb.iter().map(String::as_str).collect();
        let v = masked(a.virsh(&args_a).expect("virsh"), a.port);
        let e = masked(b.esxsh(&args_b), b.port);
        if v != e {
            bad.push(format!(
                "`{line}`\n  virsh: {:?}\n         {:?}\n         {:?}\n  esxsh: {:?}\n         {:?}\n         {:?}",
                v.status, v.stdout, v.stderr, e.status, e.stdout, e.stderr
            ));
        }
    }
    bad
}

fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

/// Changes, on fresh simulators (before anything reads the VMs' files: esx-sim loses a VM
/// reconfigured after its files were browsed).
const ESX_CHANGES: &str = r#"
schedinfo vm2 --set limit=100
schedinfo vm2 reservation=10
setvcpus vm2 2
dominfo vm2
start
start nosuch
start vm1
start vm1
list --all
domid vm1
domname 1
domname vm1
domstate 1
suspend vm1
domstate vm1
list --all --state-paused
resume vm1
list --all --state-running
autostart vm1
dominfo vm1
list --all --autostart
autostart vm1 --disable
domhostname vm1
snapshot-list vm1
snapshot-create-as vm1 s1 --description hello
snapshot-create-as --domain vm1 --name s2
snapshot-create-as vm1 s3 --print-xml
snapshot-list vm1
snapshot-list vm1 --tree
snapshot-list vm1 --parent
snapshot-list vm1 --roots
snapshot-list vm1 --leaves
snapshot-list vm1 --name
list --all --with-snapshot
snapshot-info vm1 s1
snapshot-info vm1 --current
snapshot-current vm1 --name
snapshot-parent vm1 s2
snapshot-parent vm1 s1
snapshot-dumpxml vm1 s1
snapshot-dumpxml vm1 nosuch
snapshot-delete vm1 s1 --children
snapshot-list vm1
snapshot-current vm1
destroy vm1
destroy vm1
reboot vm1
shutdown vm1
suspend vm1
resume vm1
-q start vm2
-q snapshot-create-as vm2 q1
-q snapshot-parent vm2 q1
-q snapshot-current vm2 --name
undefine vm3
list --all
undefine nosuch
define /nonexistent/esxsh-test.xml
"#;

/// Reads (and storage changes), on fresh simulators.
const ESX_READS: &str = r#"
uri
hostname
nodeinfo
capabilities
freecell
sysinfo
pool-list
pool-list --all
pool-list --details
pool-list --name
pool-list --uuid
pool-info datastore1
pool-info datastore1 --bytes
pool-info nosuch
pool-dumpxml datastore1
pool-uuid datastore1
pool-refresh datastore1
vol-list datastore1
vol-list --pool datastore1 --details
vol-info vm1/vm1.vmdk datastore1
vol-info --pool datastore1 vm1/vm1.vmdk --bytes
vol-info nosuch
vol-info nosuch datastore1
vol-path vm1/vm1.vmdk --pool datastore1
vol-key vm1/vm1.vmdk datastore1
vol-dumpxml vm1/vm1.vmdk datastore1
vol-pool "[datastore1] vm1/vm1.vmdk"
vol-pool "[datastore1] vm1/vm1.vmdk" --uuid
vol-name "[datastore1] vm1/vm1.vmdk"
vol-create-as datastore1 new/new.vmdk 10M --print-xml
vol-create-as datastore1 new/new.vmdk 10M --allocation 0 --format vmdk
vol-clone new/new.vmdk clone/clone.vmdk datastore1
vol-list datastore1 --details
vol-wipe clone/clone.vmdk datastore1
vol-delete clone/clone.vmdk datastore1
vol-delete --pool datastore1 new/new.vmdk
net-list
net-list --all
net-list --name
net-list --uuid
net-info vSwitch0
net-info nosuch
net-dumpxml vSwitch0
net-uuid vSwitch0
list
list --all
list --inactive
list --all --name
list --all --uuid
list --all --id
list --all --uuid --name
list --all --table
list --all --title
list --state-shutoff
list --all --transient
list --all --autostart
list --all --with-snapshot
list --all --table --name
list --bogus
dominfo vm1
dominfo --domain vm2
dominfo nosuch
domstate vm1
domstate vm1 --reason
domid vm1
domuuid vm1
dumpxml vm1
dumpxml vm1 --inactive
schedinfo vm1
-q list --all
-q dominfo vm2
-q pool-list --details
-q nodeinfo
"#;

/// On host `esx-0-0-0` of a vCenter (`vpx://`), with a migration to `esx-0-0-1`.
const VCENTER: &str = r#"
uri
hostname
nodeinfo
list --all
dominfo vm1
pool-list --details
net-list
start vm1
list --all
migrate vm1 {HOST1} --live
list --all
migrate vm1 {HOST1}
migrate nosuch {HOST1}
"#;

/// Runs `script` on two fresh simulators of `flavor`; panics with every mismatch.
fn check(name: &str, flavor: esx_sim::Flavor, script: &str, lookups: bool) {
    let a = Sim::start(&format!("{name}-virsh"), flavor);
    let b = Sim::start(&format!("{name}-esxsh"), flavor);
    let mut script = lines(script);
    if lookups {
        // Lookups by the UUIDs and keys the first commands print, asked on both simulators
        // (which keeps their states alike: files appear when read).
        let ask = |args: &[&str]| {
            a.esxsh(args).ok();
            b.esxsh(args).ok().trim().to_string()
        };
        let pool_uuid = ask(&["-q", "pool-uuid", "datastore1"]);
        let net_uuid = ask(&["-q", "net-uuid", "vSwitch0"]);
        let vm_uuid = ask(&["-q", "domuuid", "vm2"]);
        let vol_key = ask(&["-q", "vol-key", "vm2/vm2.vmdk", "datastore1"]);
        script.extend([
            format!("pool-name {pool_uuid}"),
            format!("pool-info {pool_uuid}"),
            format!("net-name {net_uuid}"),
            format!("net-info {net_uuid}"),
            format!("dominfo {vm_uuid}"),
            format!("domname {vm_uuid}"),
            format!("vol-name {vol_key}"),
            format!("vol-info {vol_key}"),
        ]);
    }
    let bad = compare(&a, &b, &script);
    assert!(
        bad.is_empty(),
        "{} of {} commands differ:\n{}",
        bad.len(),
        script.len(),
        bad.join("\n")
    );
}

#[test]
fn esx_changes_print_what_virsh_prints() {
    if have_virsh() {
        check(
            "compat-esx-changes",
            esx_sim::Flavor::Esx,
            ESX_CHANGES,
            false,
        );
    }
}

#[test]
fn esx_reads_print_what_virsh_prints() {
    if have_virsh() {
        check("compat-esx-reads", esx_sim::Flavor::Esx, ESX_READS, true);
    }
}

#[test]
fn vcenter_prints_what_virsh_prints() {
    if have_virsh() {
        check("compat-vc", esx_sim::Flavor::Vcenter, VCENTER, false);
    }
}
