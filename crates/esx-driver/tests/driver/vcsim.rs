//! The subset of the driver that govmomi's unpatched vcsim supports (ESX and vCenter
//! modes): connection, host information, listing and lookup, the life cycle, snapshots,
//! datastores and networks. Skipped, loudly, when the peers are not installed
//! (`../shared/peers/setup-peers.sh`).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use esx_driver::{
    Connection, DomainState, FixedCredentials, HypervisorDriver, NetworkDriver, OpenOptions,
    StorageDriver,
};

fn vcsim_bin() -> Option<PathBuf> {
    let p = std::env::var_os("ESX_VCSIM")
        .map(PathBuf::from)
        .unwrap_or_else(|| "/opt/peers/bin/vcsim".into());
    if p.is_file() {
        Some(p)
    } else {
        eprintln!(
            "SKIPPED vcsim tests: {} is missing; install the peers with \
             `bash ../shared/peers/setup-peers.sh`",
            p.display()
        );
        None
    }
}

/// A vcsim process on a free loopback port (it picks the port; we read its URL).
struct Vcsim {
    child: Child,
    port: u16,
    tmp: PathBuf,
}

impl Vcsim {
    fn start(bin: &PathBuf, name: &str, args: &[&str]) -> Vcsim {
        let tmp =
            std::env::temp_dir().join(format!("esx-driver-vcsim-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(&tmp).unwrap();
        let mut child = Command::new(bin)
            .arg("-l")
            .arg("127.0.0.1:0")
            .args(args)
            .env("TMPDIR", &tmp)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("vcsim starts");
        // vcsim prints `export GOVC_URL=https://user:pass@127.0.0.1:PORT/sdk …` once ready.
        let out = child.stdout.take().unwrap();
        let mut port = 0;
        for line in BufReader::new(out).lines().take(50) {
            let line = line.unwrap_or_default();
            if let Some(rest) = line.split("@127.0.0.1:").nth(1) {
                port = rest.split('/').next().unwrap_or("0").parse().unwrap_or(0);
                break;
            }
        }
        assert!(port > 0, "vcsim did not print its URL");
        Vcsim { child, port, tmp }
    }
}

impl Drop for Vcsim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.tmp);
    }
}

fn options() -> OpenOptions {
    OpenOptions {
        auth: Some(Arc::new(FixedCredentials::new("user", "pass"))),
        ..OpenOptions::default()
    }
}

#[tokio::test]
async fn esx_mode() {
    let Some(bin) = vcsim_bin() else { return };
    let sim = Vcsim::start(&bin, "esx", &["-esx", "-vm", "2"]);
    let c = Connection::open(
        &format!("esx://user@127.0.0.1:{}/?no_verify=1", sim.port),
        options(),
    )
    .await
    .unwrap();
    assert_eq!(c.connect_get_type().await.unwrap(), "ESX");
    assert!(c.connect_get_version().await.unwrap() >= 6_000_000);
    let node = c.node_get_info().await.unwrap();
    assert!(node.cpus > 0 && node.memory > 0, "{node:?}");
    assert!(c
        .connect_get_capabilities()
        .await
        .unwrap()
        .contains("<capabilities>"));
    let all = c.connect_list_all_domains(0).await.unwrap();
    assert_eq!(all.len(), 2, "{all:?}");
    let d = c.domain_lookup_by_name(&all[0].name).await.unwrap();
    assert_eq!(c.domain_lookup_by_uuid(&d.uuid).await.unwrap().name, d.name);
    // vcsim starts its VMs powered on.
    let (state, _) = c.domain_get_state(&d, 0).await.unwrap();
    if state == DomainState::Running {
        c.domain_destroy(&d).await.unwrap();
    }
    assert_eq!(
        c.domain_get_state(&d, 0).await.unwrap().0,
        DomainState::Shutoff
    );
    c.domain_create(&d).await.unwrap();
    c.domain_suspend(&d).await.unwrap();
    c.domain_resume(&d).await.unwrap();
    assert_eq!(
        c.domain_get_state(&d, 0).await.unwrap().0,
        DomainState::Running
    );
    let info = c.domain_get_info(&d).await.unwrap();
    assert!(info.max_mem > 0 && info.nr_virt_cpu > 0, "{info:?}");
    let s = c
        .domain_snapshot_create_xml(&d, "<domainsnapshot><name>s1</name></domainsnapshot>", 0)
        .await
        .unwrap();
    assert_eq!(
        c.domain_snapshot_list_names(&d, 0).await.unwrap(),
        vec!["s1"]
    );
    c.domain_snapshot_delete(&s, 0).await.unwrap();
    let pools = c.connect_list_storage_pools().await.unwrap();
    assert!(!pools.is_empty());
    let p = c.storage_pool_lookup_by_name(&pools[0]).await.unwrap();
    assert!(c
        .storage_pool_get_xml_desc(&p, 0)
        .await
        .unwrap()
        .contains("<pool type="));
    let nets = c.connect_list_networks().await.unwrap();
    assert!(!nets.is_empty());
    c.connect_close().await.unwrap();
}

#[tokio::test]
async fn vcenter_mode() {
    let Some(bin) = vcsim_bin() else { return };
    let sim = Vcsim::start(
        &bin,
        "vc",
        &[
            "-dc",
            "1",
            "-standalone-host",
            "0",
            "-cluster",
            "1",
            "-host",
            "2",
            "-vm",
            "2",
        ],
    );
    // vcsim names its inventory DC0 / DC0_C0 / DC0_C0_H0.
    let c = Connection::open(
        &format!(
            "vpx://user@127.0.0.1:{}/DC0/DC0_C0/DC0_C0_H0?no_verify=1",
            sim.port
        ),
        options(),
    )
    .await
    .unwrap();
    assert_eq!(c.host_system_name(), "DC0_C0_H0");
    let all = c.connect_list_all_domains(0).await.unwrap();
    assert!(!all.is_empty(), "the host runs VMs");
    for d in &all {
        assert_eq!(c.domain_lookup_by_name(&d.name).await.unwrap().uuid, d.uuid);
    }
    assert!(c.node_get_info().await.unwrap().cpus > 0);
    assert!(c
        .connect_supports_feature(esx_driver::DriverFeature::MigrationV1)
        .await
        .is_ok());
}
