//! End-to-end tests: the built `esx-guest-agent` with a fake `vmtoolsd` (and fake restart
//! commands) first on PATH and `--root` at a copy of `testdata/guest/<case>/root`; the files
//! it writes are compared byte for byte with `testdata/guest/<case>/expected`.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use esx_guest::guestinfo::{encode, Encoding};

fn case_dir(case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/guest")
        .join(case)
}

/// What the test can see of a file: content, permission bits, modification time; a symbolic
/// link is its target.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    File(Vec<u8>, u32, SystemTime),
    Link(PathBuf),
}

/// Every file and link under `dir` (directories are walked, not listed).
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Entry> {
    let mut out = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(next) = pending.pop() {
        for entry in fs::read_dir(&next).unwrap() {
            let path = entry.unwrap().path();
            let meta = fs::symlink_metadata(&path).unwrap();
            let relative = path.strip_prefix(dir).unwrap().to_path_buf();
            if meta.file_type().is_symlink() {
                out.insert(relative, Entry::Link(fs::read_link(&path).unwrap()));
            } else if meta.is_dir() {
                pending.push(path);
            } else {
                let mode = meta.permissions().mode() & 0o7777;
                let entry = Entry::File(fs::read(&path).unwrap(), mode, meta.modified().unwrap());
                out.insert(relative, entry);
            }
        }
    }
    out
}

fn contents(snapshot: &BTreeMap<PathBuf, Entry>) -> BTreeMap<PathBuf, Vec<u8>> {
    snapshot
        .iter()
        .filter_map(|(path, entry)| match entry {
            Entry::File(bytes, ..) => Some((path.clone(), bytes.clone())),
            Entry::Link(_) => None,
        })
        .collect()
}

fn copy_tree(from: &Path, to: &Path) {
    for (relative, entry) in snapshot(from) {
        let target = to.join(&relative);
        fs::create_dir_all(target.parent().unwrap()).unwrap();
        match entry {
            Entry::File(bytes, ..) => fs::write(&target, bytes).unwrap(),
            Entry::Link(link) => std::os::unix::fs::symlink(link, &target).unwrap(),
        }
    }
}

fn write_script(path: &Path, body: &str) {
    fs::write(path, format!("#!/bin/sh\n{body}")).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

/// A temporary guest: `root/` (a copy of the case's), `bin/` (the fakes), `data/` (what the
/// fake vmtoolsd prints, one file per key) and `commands.log` (what the fake commands ran).
struct Guest {
    dir: PathBuf,
}

impl Guest {
    fn new(case: &str, test: &str) -> Guest {
        let dir = std::env::temp_dir().join(format!(
            "esx-guest-e2e-{}-{case}-{test}",
            std::process::id()
        ));
        let _ = fs::remove_dir_all(&dir);
        copy_tree(&case_dir(case).join("root"), &dir.join("root"));
        for sub in ["bin", "data"] {
            fs::create_dir_all(dir.join(sub)).unwrap();
        }
        let guest = Guest { dir };
        write_script(
            &guest.dir.join("bin/vmtoolsd"),
            &format!(
                "[ \"$1\" = --cmd ] || exit 64\nkey=\"${{2#info-get }}\"\n\
                 [ \"$key\" = machine.id.get ] && key=machine.id\n\
                 if [ -f \"{data}/$key\" ]; then cat \"{data}/$key\"; exit 0; fi\n\
                 echo \"No value found\" >&2\nexit 1\n",
                data = guest.dir.join("data").display()
            ),
        );
        for program in ["systemctl", "netplan", "networkctl", "ifup", "ifdown"] {
            guest.fake_command(program, 0);
        }
        guest
    }

    /// Installs a fake `program` that logs its command line and exits with `status`.
    fn fake_command(&self, program: &str, status: i32) {
        write_script(
            &self.dir.join("bin").join(program),
            &format!(
                "echo \"{program} $*\" >> \"{log}\"\nexit {status}\n",
                log = self.dir.join("commands.log").display()
            ),
        );
    }

    fn root(&self) -> PathBuf {
        self.dir.join("root")
    }

    /// Sets what the fake vmtoolsd prints for `key` (`machine.id`, `guestinfo.metadata`, …).
    fn set(&self, key: &str, value: &str) {
        fs::write(self.dir.join("data").join(key), value).unwrap();
    }

    fn commands(&self) -> String {
        fs::read_to_string(self.dir.join("commands.log")).unwrap_or_default()
    }

    /// Runs the agent on this guest's root with `args`; returns (status, stdout, stderr).
    fn run(&self, args: &[&str]) -> (i32, String, String) {
        let path = format!("{}:/usr/bin:/bin", self.dir.join("bin").display());
        self.run_with_path(args, &path)
    }

    fn run_with_path(&self, args: &[&str], path: &str) -> (i32, String, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_esx-guest-agent"))
            .arg("--root")
            .arg(self.root())
            .args(args)
            .env("PATH", path)
            .output()
            .expect("esx-guest-agent runs");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

impl Drop for Guest {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// The files of the case's root plus its expected files.
fn expected_tree(case: &str) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut tree = contents(&snapshot(&case_dir(case).join("root")));
    tree.extend(contents(&snapshot(&case_dir(case).join("expected"))));
    tree
}

fn assert_tree(guest: &Guest, case: &str) {
    let actual = contents(&snapshot(&guest.root()));
    let expected = expected_tree(case);
    assert_eq!(
        actual.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>(),
        "{case}: files under the root"
    );
    for (path, bytes) in &expected {
        assert_eq!(
            String::from_utf8_lossy(&actual[path]),
            String::from_utf8_lossy(bytes),
            "{case}: {}",
            path.display()
        );
    }
}

fn mode(guest: &Guest, relative: &str) -> u32 {
    fs::metadata(guest.root().join(relative))
        .unwrap()
        .permissions()
        .mode()
        & 0o7777
}

/// Each family: the written files byte for byte, their modes, the restart commands; a second
/// run changes nothing and restarts nothing.
#[test]
fn each_family_writes_its_files_once() {
    let cases = [
        (
            "rhel",
            "warning: no network device has MAC address de:ad:be:ef:00:09: its settings are skipped\n\
             warning: eth1: gateway 192.168.50.1 not written: the default route goes through eth0\n",
        ),
        (
            "debian",
            "warning: ens224: no IPv4 address in the settings: the interface is left as it is\n\
             warning: ens256: gateway 10.50.0.1 not written: the default route goes through ens192\n",
        ),
        ("ubuntu", ""),
        ("networkd", ""),
    ];
    for (case, warnings) in cases {
        let guest = Guest::new(case, "once");
        let machine_id = fs::read_to_string(case_dir(case).join("machine.id")).unwrap();
        guest.set("machine.id", &machine_id);

        let (status, out, err) = guest.run(&["--apply"]);
        assert_eq!((status, err.as_str()), (0, warnings), "{case}: {out}");
        assert!(
            out.starts_with("source: machine.id\ndistribution: "),
            "{case}: {out}"
        );
        for path in contents(&snapshot(&case_dir(case).join("expected"))).keys() {
            let line = format!("created /{}\n", path.display());
            assert!(out.contains(&line), "{case}: {line:?} not in {out}");
        }
        assert_tree(&guest, case);
        let expected_commands = fs::read_to_string(case_dir(case).join("commands")).unwrap();
        assert_eq!(guest.commands(), expected_commands, "{case}");
        assert_eq!(mode(&guest, "etc/resolv.conf"), 0o644);

        let before = snapshot(&guest.root());
        let (status, out, err) = guest.run(&["--apply"]);
        assert_eq!((status, err.as_str()), (0, warnings), "{case}");
        assert!(
            !out.contains("created") && !out.contains("updated"),
            "{case}: {out}"
        );
        assert!(
            out.contains("unchanged /etc/resolv.conf\n"),
            "{case}: {out}"
        );
        assert!(!out.contains("ran:"), "{case}: {out}");
        assert_eq!(snapshot(&guest.root()), before, "{case}: second run");
        assert_eq!(guest.commands(), expected_commands, "{case}: second run");
    }
}

#[test]
fn report_lists_source_distribution_and_nics() {
    let guest = Guest::new("ubuntu", "report");
    guest.set(
        "machine.id",
        &fs::read_to_string(case_dir("ubuntu").join("machine.id")).unwrap(),
    );
    let (status, out, _) = guest.run(&["--apply"]);
    assert_eq!(status, 0);
    assert_eq!(
        out,
        "source: machine.id\n\
         distribution: Ubuntu 22.04.4 LTS (netplan)\n\
         ens160: 00:50:56:b4:00:10 192.168.0.100/24\n\
         created /etc/netplan/50-esx-guest.yaml\n\
         created /etc/resolv.conf\n\
         ran: netplan apply\n"
    );
    assert_eq!(mode(&guest, "etc/netplan/50-esx-guest.yaml"), 0o600);
}

/// The same NIC as cloud-init metadata (gzip+base64), found by `--source auto` when
/// machine.id is not set, gives the same files.
#[test]
fn guestinfo_source_gives_the_same_files() {
    let guest = Guest::new("ubuntu", "guestinfo");
    let yaml = fs::read_to_string(case_dir("ubuntu").join("guestinfo.metadata")).unwrap();
    guest.set("guestinfo.metadata", &encode(&yaml, Encoding::GzipBase64));
    guest.set("guestinfo.metadata.encoding", "gzip+base64\n");
    let (status, out, err) = guest.run(&[]);
    assert_eq!((status, err.as_str()), (0, ""), "{out}");
    assert!(out.starts_with("source: guestinfo.metadata\n"), "{out}");
    assert_tree(&guest, "ubuntu");
    assert_eq!(guest.commands(), "", "no --apply, no commands");

    // Plain text without an encoding key, and --source guestinfo.
    let guest = Guest::new("ubuntu", "guestinfo-plain");
    guest.set("guestinfo.metadata", &yaml);
    guest.set("machine.id", "this is not read");
    let (status, out, err) = guest.run(&["--source", "guestinfo"]);
    assert_eq!((status, err.as_str()), (0, ""), "{out}");
    assert_tree(&guest, "ubuntu");
}

#[test]
fn dry_run_changes_nothing_and_shows_the_diff() {
    let guest = Guest::new("rhel", "dry");
    guest.set(
        "machine.id",
        &fs::read_to_string(case_dir("rhel").join("machine.id")).unwrap(),
    );
    let ifcfg = guest
        .root()
        .join("etc/sysconfig/network-scripts/ifcfg-eth0");
    fs::create_dir_all(ifcfg.parent().unwrap()).unwrap();
    fs::write(&ifcfg, "DEVICE=eth0\nBOOTPROTO=dhcp\n").unwrap();
    let before = snapshot(&guest.root());

    let (status, out, _) = guest.run(&["--dry-run", "--apply"]);
    assert_eq!(status, 0, "{out}");
    assert_eq!(snapshot(&guest.root()), before);
    assert_eq!(guest.commands(), "");
    for line in [
        "would be updated /etc/sysconfig/network-scripts/ifcfg-eth0\n",
        "    - BOOTPROTO=dhcp\n",
        "      DEVICE=eth0\n",
        "    + BOOTPROTO=static\n",
        "would be created /etc/sysconfig/network-scripts/ifcfg-eth1\n",
        "    + IPADDR=192.168.50.7\n",
        "would be created /etc/resolv.conf\n",
        "would run: systemctl restart NetworkManager\n",
    ] {
        assert!(out.contains(line), "{line:?} not in\n{out}");
    }

    // The real run then updates the file and runs the command.
    let (status, out, _) = guest.run(&["--apply"]);
    assert_eq!(status, 0);
    assert!(
        out.contains("updated /etc/sysconfig/network-scripts/ifcfg-eth0\n"),
        "{out}"
    );
    assert_tree(&guest, "rhel");
    assert_eq!(guest.commands(), "systemctl restart NetworkManager\n");
}

/// Bad settings after a good run: a clear error, exit status 1, and not one file touched.
#[test]
fn bad_input_changes_nothing() {
    let guest = Guest::new("networkd", "bad");
    let good = fs::read_to_string(case_dir("networkd").join("machine.id")).unwrap();
    guest.set("machine.id", &good);
    assert_eq!(guest.run(&[]).0, 0);
    let before = snapshot(&guest.root());

    let cases = [
        (
            "00:0c:29:3f:aa:01;10.128.4.33;255.0.255.0;;;#\n",
            "machine.id record 1, field 3 (netmask): \"255.0.255.0\" is not a contiguous netmask",
        ),
        (
            "00:0c:29:3f:aa:01;10.128.4.33;255.255.240.0;10.128.0.1\n",
            "machine.id record 1: 4 field(s) before the next '#', expected a multiple of 6 \
             (MAC;IP;netmask;gateway;broadcast;DNS)",
        ),
        (
            "00:0c:29:3f:aa:01;;;;;#00:0c:29:3f:aa:zz;;;;;#",
            "machine.id record 2, field 1 (MAC): \"00:0c:29:3f:aa:zz\" is not a MAC address \
             (six hex pairs joined by ':')",
        ),
        (
            "00:0c:29:3f:aa:01;10.128.4.333;255.255.240.0;;;#",
            "machine.id record 1, field 2 (IPv4 address): \"10.128.4.333\" is not an IPv4 address",
        ),
        (
            "00:0c:29:3f:aa:01;;;;;#00:0C:29:3F:AA:01;;;;;#",
            "NIC settings 1 and 2 have the same MAC address 00:0c:29:3f:aa:01",
        ),
        (
            "00:0c:29:3f:aa:77;10.0.0.2;255.0.0.0;;;#",
            "no network device has any of the MAC addresses 00:0c:29:3f:aa:77",
        ),
    ];
    for (machine_id, message) in cases {
        guest.set("machine.id", machine_id);
        for args in [&[][..], &["--apply"], &["--source", "machine-id"]] {
            let (status, out, err) = guest.run(args);
            assert_eq!((status, out.as_str()), (1, ""), "{machine_id}");
            assert_eq!(err, format!("error: {message}\n"), "{machine_id}");
            assert_eq!(snapshot(&guest.root()), before, "{machine_id}");
        }
    }
    // Empty machine.id falls back to guestinfo, which is not set either.
    guest.set("machine.id", "\n");
    let (status, _, err) = guest.run(&[]);
    assert_eq!(status, 1);
    assert_eq!(
        err,
        "error: neither machine.id nor guestinfo.metadata is set: machine.id is empty; \
         `vmtoolsd --cmd \"info-get guestinfo.metadata\"` failed (exit status: 1): No value found\n"
    );
    let (status, _, err) = guest.run(&["--source", "machine-id"]);
    assert_eq!((status, err.as_str()), (1, "error: machine.id is empty\n"));
    // Bad guestinfo metadata.
    fs::remove_file(guest.dir.join("data/machine.id")).unwrap();
    guest.set("guestinfo.metadata", "network: {version: 1}");
    let (status, _, err) = guest.run(&[]);
    assert_eq!(status, 1);
    assert_eq!(
        err,
        "error: guestinfo.metadata: network.version: \"1\" is not supported (only netplan version 2)\n"
    );
    guest.set("guestinfo.metadata.encoding", "base64");
    let (_, _, err) = guest.run(&[]);
    assert!(
        err.starts_with("error: guestinfo.metadata: invalid base64: "),
        "{err}"
    );
    assert_eq!(snapshot(&guest.root()), before);
    assert_eq!(guest.commands(), "");
}

#[test]
fn vmtoolsd_missing_or_failing() {
    let guest = Guest::new("rhel", "tools");
    let empty = guest.dir.join("data");
    let (status, out, err) = guest.run_with_path(&[], &empty.display().to_string());
    assert_eq!(
        (status, out.as_str(), err.as_str()),
        (
            1,
            "",
            "error: vmtoolsd not found on PATH (is open-vm-tools installed?)\n"
        )
    );
    let (status, _, err) = guest.run(&["--source", "machine-id"]);
    assert_eq!(
        (status, err.as_str()),
        (
            1,
            "error: `vmtoolsd --cmd \"machine.id.get\"` failed (exit status: 1): No value found\n"
        )
    );
}

/// systemd-resolved's resolv.conf link is not replaced; DNS goes in the netplan file.
#[test]
fn symlinked_resolv_conf_is_left_alone() {
    let guest = Guest::new("ubuntu", "resolved");
    guest.set(
        "machine.id",
        &fs::read_to_string(case_dir("ubuntu").join("machine.id")).unwrap(),
    );
    let link = guest.root().join("etc/resolv.conf");
    std::os::unix::fs::symlink("../run/systemd/resolve/stub-resolv.conf", &link).unwrap();
    let (status, out, _) = guest.run(&[]);
    assert_eq!(status, 0);
    assert!(
        out.contains("left alone (symbolic link) /etc/resolv.conf\n"),
        "{out}"
    );
    assert_eq!(
        fs::read_link(&link).unwrap(),
        Path::new("../run/systemd/resolve/stub-resolv.conf")
    );
}

/// ifdown of a NIC that is not up fails and is ignored; a failing restart is an error.
#[test]
fn apply_failures() {
    let guest = Guest::new("debian", "ifdown");
    guest.set(
        "machine.id",
        &fs::read_to_string(case_dir("debian").join("machine.id")).unwrap(),
    );
    guest.fake_command("ifdown", 1);
    let (status, out, _) = guest.run(&["--apply"]);
    assert_eq!(status, 0);
    assert!(
        out.contains(
            "ran: ifdown --force ens192 (failure ignored: exit status: 1)\nran: ifup ens192\n"
        ),
        "{out}"
    );
    assert_tree(&guest, "debian");

    let guest = Guest::new("ubuntu", "netplan-fails");
    guest.set(
        "machine.id",
        &fs::read_to_string(case_dir("ubuntu").join("machine.id")).unwrap(),
    );
    guest.fake_command("netplan", 3);
    let (status, _, err) = guest.run(&["--apply"]);
    assert_eq!(
        (status, err.as_str()),
        (1, "error: `netplan apply` failed: exit status: 3\n")
    );
}

#[test]
fn help_and_usage() {
    let guest = Guest::new("rhel", "help");
    let (status, out, _) = guest.run(&["--help"]);
    assert_eq!(status, 0);
    for text in [
        "--root <DIR>",
        "--dry-run",
        "--apply",
        "--source <SOURCE>",
        "machine-id",
        "guestinfo",
        "auto",
    ] {
        assert!(out.contains(text), "{text} not in {out}");
    }
    let (status, out, err) = guest.run(&["--bogus"]);
    assert_eq!((status, out.as_str()), (1, ""));
    assert!(
        err.starts_with("error: unexpected argument '--bogus'"),
        "{err}"
    );
}
