//! Breadth with unmodified clients (issue 17): pyVmomi reads every property API 7.0.3 declares of
//! every object it can reach, and the read-only govc commands people run daily behave on both
//! flavors as they do against a real server.

use crate::support;

use std::path::{Path, PathBuf};
use std::process::Command;

const PYTHON: &str = "/opt/peers/venv/bin/python";
use support::govc::GOVC;

fn peers() -> bool {
    let ok = Path::new(GOVC).exists() && Path::new(PYTHON).exists();
    if !ok {
        eprintln!("SKIPPED: /opt/peers is missing (run ../shared/peers/setup-peers.sh)");
    }
    ok
}

/// Runs the pyVmomi walk against one flavor; panics with its report unless nothing failed.
async fn read_everything(flavor: esx_sim::Flavor, tag: &str, min_types: usize) {
    let dir = support::data_dir("breadth", tag);
    let h = support::serve(flavor, &dir).await;
    let port = h.addr.port().to_string();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pyvmomi_all_props.py");
    let o = tokio::task::spawn_blocking(move || {
        esx_testkit::process::output(
            Command::new(PYTHON)
                .arg(script)
                .args(["127.0.0.1", &port, "root"])
                .env("ESX_SIM_PASSWORD", "pass"),
            esx_testkit::process::LIMIT,
        )
        .expect("python runs")
    })
    .await
    .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{out}{err}");
    let summary = out.lines().next().unwrap_or_default();
    let types: usize = summary
        .split_whitespace()
        .find_map(|w| w.strip_prefix("types="))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(
        types >= min_types,
        "only {types} object types reached: {out}"
    );
    h.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pyvmomi_reads_every_declared_property_vcenter() {
    if !peers() {
        return;
    }
    read_everything(esx_sim::Flavor::Vcenter, "pyall-vc", 55).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pyvmomi_reads_every_declared_property_esx() {
    if !peers() {
        return;
    }
    read_everything(esx_sim::Flavor::Esx, "pyall-esx", 30).await;
}

/// What a command must do on a flavor.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Want {
    /// Succeed, printing this text (empty: anything).
    Ok(&'static str),
    /// Fail, as it does against a real server of that flavor (printing this text).
    Fails(&'static str),
}
use Want::{Fails, Ok as Works};

/// The everyday read-only commands: (arguments, on vCenter, on ESX). `{vm}`, `{host}`,
/// `{cluster}`, `{pool}` are replaced by inventory paths found with `govc find`.
const COMMANDS: &[(&[&str], Want, Want)] = &[
    (&["about"], Works("7.0.3"), Works("7.0.3")),
    (&["about.cert", "-k"], Works(""), Works("")),
    (&["ls"], Works(""), Works("")),
    (&["find", ".", "-type", "m"], Works("vm1"), Works("vm1")),
    (&["datacenter.info"], Works("Name:"), Works("ha-datacenter")),
    (
        &["host.info", "-host", "{host}"],
        Works("Name:"),
        Works("Name:"),
    ),
    (
        &["host.vswitch.info", "-host", "{host}"],
        Works("vSwitch0"),
        Works("vSwitch0"),
    ),
    (
        &["host.portgroup.info", "-host", "{host}"],
        Works(""),
        Works(""),
    ),
    (
        &["host.storage.info", "-host", "{host}"],
        Works(""),
        Works(""),
    ),
    (
        &["host.service.ls", "-host", "{host}"],
        Works("ntpd"),
        Works("ntpd"),
    ),
    (
        &["host.date.info", "-host", "{host}"],
        Works("NTP"),
        Works("NTP"),
    ),
    (
        &["host.option.ls", "-host", "{host}"],
        Works("Config."),
        Works("Config."),
    ),
    (
        &["host.autostart.info", "-host", "{host}"],
        Works(""),
        Works(""),
    ),
    (&["host.cert.info", "-host", "{host}"], Works(""), Works("")),
    (&["datastore.info"], Works("Name:"), Works("Name:")),
    (&["datastore.ls"], Works(""), Works("")),
    (&["vm.info", "vm1"], Works("vm1"), Works("vm1")),
    (&["vm.info", "-r", "vm1"], Works("vm1"), Works("vm1")),
    (
        &["vm.option.info", "-vm", "vm1"],
        Works("ubuntu64Guest"),
        Works("ubuntu64Guest"),
    ),
    (&["vm.console", "vm1"], Works("vmrc://"), Works("vmrc://")),
    (
        &["vm.console", "-h5", "vm1"],
        // govc 0.24 builds the HTML5 console URL from vCenter's VirtualCenter.FQDN setting,
        // which an ESXi host does not have.
        Works("/ui/webconsole.html"),
        Fails("VirtualCenter.FQDN"),
    ),
    (
        &["device.ls", "-vm", "vm1"],
        Works("ethernet-0"),
        Works("ethernet-0"),
    ),
    (
        &["device.info", "-vm", "vm1"],
        Works("Name:"),
        Works("Name:"),
    ),
    (&["snapshot.tree", "-vm", "vm1"], Works(""), Works("")),
    (&["pool.info", "{pool}"], Works("Name:"), Works("Name:")),
    (&["folder.info", "/"], Works("Name:"), Works("Name:")),
    (
        &["object.collect", "-json", "{vm}"],
        Works("runtime"),
        Works("runtime"),
    ),
    (&["events"], Works(""), Works("")),
    (&["tasks"], Works(""), Works("")),
    (&["session.ls"], Works("root"), Works("root")),
    (&["role.ls"], Works("Admin"), Works("Admin")),
    (&["role.usage"], Works("Admin"), Works("Admin")),
    (&["permissions.ls"], Works("Admin"), Works("Admin")),
    (&["license.ls"], Works(""), Works("")),
    (
        &["license.assigned.ls"],
        Works(""),
        Fails("not supported by target"),
    ),
    (
        &["metric.ls", "{vm}"],
        Works("cpu.usage.average"),
        Works("cpu.usage.average"),
    ),
    (
        &["metric.info", "{vm}", "cpu.usage.average"],
        Works("cpu.usage.average"),
        Works("cpu.usage.average"),
    ),
    (
        &["metric.sample", "{vm}", "cpu.usage.average"],
        Works("cpu.usage.average"),
        Works("cpu.usage.average"),
    ),
    (&["metric.interval.info"], Works(""), Works("")),
    (&["option.ls"], Works(""), Works("")),
    (&["extension.info"], Works(""), Works("")),
    (&["fields.ls"], Works(""), Works("")),
    (&["fields.info", "{vm}"], Works(""), Works("")),
    (
        &["cluster.rule.ls", "-cluster", "{cluster}"],
        Works(""),
        Fails(""),
    ),
    (
        &["cluster.group.ls", "-cluster", "{cluster}"],
        Works(""),
        Fails(""),
    ),
    (&["cluster.usage", "{cluster}"], Works("Memory"), Fails("")),
    (
        &["dvs.portgroup.info", "DVS0"],
        Works("PortgroupKey"),
        Fails(""),
    ),
    (&["library.ls"], Works(""), Fails("404 Not Found")),
    (&["library.info"], Works(""), Fails("404 Not Found")),
    (&["tags.ls"], Works(""), Fails("404 Not Found")),
    (&["tags.category.ls"], Works(""), Fails("404 Not Found")),
    (
        &["tags.attached.ls", "-r", "{vm}"],
        Works(""),
        Fails("404 Not Found"),
    ),
    (&["logs.ls"], Works("vpxd"), Works("hostd")),
    (&["logs", "-n", "5"], Works(""), Works("")),
];

struct Govc {
    url: String,
    home: PathBuf,
}

impl Govc {
    /// Runs govc with `args` (see [`support::govc::run`]).
    fn run(&self, args: &[&str]) -> (bool, String) {
        support::govc::run(&self.url, &self.home, args)
    }

    /// The first path `govc find` prints for objects of `ty` (empty when none).
    fn first(&self, ty: &str) -> String {
        let (_, out) = self.run(&["find", "/", "-type", ty]);
        out.lines().next().unwrap_or_default().to_owned()
    }
}

/// Runs every command of [`COMMANDS`] on one flavor; returns one line per deviation.
fn everyday(govc: &Govc, vcenter: bool) -> Vec<String> {
    let (ok, out) = govc.run(&["vm.power", "-on", "vm1"]);
    assert!(ok, "vm.power -on vm1: {out}");
    let subst = [
        ("{vm}", govc.first("m")),
        ("{host}", govc.first("h")),
        ("{cluster}", govc.first("c")),
        ("{pool}", govc.first("p")),
    ];
    let mut bad = Vec::new();
    for (args, on_vc, on_esx) in COMMANDS {
        let want = if vcenter { *on_vc } else { *on_esx };
        let args: Vec<String> = args
            .iter()
            .map(|a| {
                subst
                    .iter()
                    .fold(a.to_string(), |a, (k, v)| a.replace(k, v))
            })
            .collect();
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let (ok, out) = govc.run(&argv);
        let good = match want {
            Works(text) => ok && out.contains(text),
            Fails(text) => !ok && out.contains(text),
        };
        if !good {
            let first: String = out.lines().take(3).collect::<Vec<_>>().join(" | ");
            bad.push(format!(
                "govc {}: want {want:?}, got ok={ok}: {first}",
                args.join(" ")
            ));
        }
    }
    bad
}

async fn govc_everyday(flavor: esx_sim::Flavor, tag: &str) {
    let dir = support::data_dir("breadth", tag);
    let h = support::serve(flavor, &dir).await;
    let govc = Govc {
        url: format!("https://root:pass@127.0.0.1:{}/sdk", h.addr.port()),
        home: dir.join("govmomi"),
    };
    let vcenter = flavor == esx_sim::Flavor::Vcenter;
    let bad = tokio::task::spawn_blocking(move || everyday(&govc, vcenter))
        .await
        .unwrap();
    h.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        bad.is_empty(),
        "{} of {} commands deviate:\n{}",
        bad.len(),
        COMMANDS.len(),
        bad.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn govc_everyday_commands_vcenter() {
    if !peers() {
        return;
    }
    govc_everyday(esx_sim::Flavor::Vcenter, "govc-vc").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn govc_everyday_commands_esx() {
    if !peers() {
        return;
    }
    govc_everyday(esx_sim::Flavor::Esx, "govc-esx").await;
}
