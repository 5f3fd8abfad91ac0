//! Distributed switches with the unmodified govc: the default `DVS0`, `dvs.create`,
//! `dvs.portgroup.add`/`change`/`info`, a VM NIC on a distributed port group, and a port
//! group in use that cannot be destroyed.

use crate::support;

use std::path::{Path, PathBuf};

use support::govc::GOVC;

struct Govc {
    url: String,
    home: PathBuf,
}

impl Govc {
    fn run(&self, args: &[&str]) -> (bool, String) {
        support::govc::run(&self.url, &self.home, args)
    }

    fn ok(&self, args: &[&str]) -> String {
        let (ok, out) = self.run(args);
        assert!(ok, "govc {}: {out}", args.join(" "));
        out
    }
}

async fn with_govc(flavor: esx_sim::Flavor, tag: &str, f: impl FnOnce(&Govc) + Send + 'static) {
    let dir = support::data_dir("dvs", tag);
    let mut cfg = esx_sim::Config::new(&dir);
    cfg.flavor = flavor;
    let h = esx_sim::Simulator::start(cfg)
        .await
        .expect("simulator starts");
    let govc = Govc {
        url: format!("https://root:pass@127.0.0.1:{}/sdk", h.addr.port()),
        home: dir.join("govmomi"),
    };
    let r = tokio::task::spawn_blocking(move || f(&govc)).await;
    h.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
    r.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_switch_and_portgroups() {
    if !Path::new(GOVC).exists() {
        return;
    }
    with_govc(esx_sim::Flavor::Vcenter, "default", |g| {
        let ls = g.ok(&["ls", "-l", "/DC0/network"]);
        assert!(ls.contains("DVS0 (VmwareDistributedVirtualSwitch)"), "{ls}");
        assert!(
            ls.contains("DC0_DVPG0 (DistributedVirtualPortgroup)"),
            "{ls}"
        );
        assert!(ls.contains("DVS0-DVUplinks-"), "{ls}");
        // Free, unconnected ports of the non-uplink group, with the switch's UUID format.
        let info = g.ok(&["dvs.portgroup.info", "DVS0"]);
        assert_eq!(info.matches("PortKey:").count(), 8, "{info}");
        let uuid = info
            .lines()
            .find_map(|l| l.strip_prefix("DvsUuid:"))
            .unwrap()
            .trim()
            .to_owned();
        assert_eq!(uuid.len(), 47, "{uuid}");
        assert_eq!(uuid.as_bytes()[23], b'-', "{uuid}");
        let json = g.ok(&["object.collect", "-json", "/DC0/network/DVS0", "config"]);
        assert!(json.contains("\"MaxMtu\": 1500"), "{json}");
        assert!(json.contains("uplink1"), "{json}");

        g.ok(&["dvs.create", "-dc", "DC0", "DVS1"]);
        let (ok, out) = g.run(&["dvs.create", "-dc", "DC0", "DVS1"]);
        assert!(!ok && out.contains("already exists"), "{out}");
        g.ok(&[
            "dvs.portgroup.add",
            "-dvs",
            "DVS1",
            "-vlan",
            "42",
            "-nports",
            "4",
            "PG42",
        ]);
        let info = g.ok(&["dvs.portgroup.info", "-pg", "PG42", "DVS1"]);
        assert_eq!(info.matches("VlanId:       42").count(), 4, "{info}");
        g.ok(&[
            "dvs.portgroup.change",
            "-vlan",
            "43",
            "-nports",
            "6",
            "PG42",
        ]);
        let info = g.ok(&["dvs.portgroup.info", "-pg", "PG42", "DVS1"]);
        assert_eq!(info.matches("VlanId:       43").count(), 6, "{info}");
        let v = g.ok(&[
            "object.collect",
            "-s",
            "/DC0/network/PG42",
            "config.configVersion",
            "config.numPorts",
        ]);
        assert!(v.contains('1') && v.contains('6'), "{v}");

        // A NIC on a distributed port group (Nova's backing) shows in the VM's networks.
        g.ok(&["vm.network.add", "-vm", "vm1", "-net", "DC0_DVPG0"]);
        let nets = g.ok(&["vm.info", "-r", "vm1"]);
        assert!(nets.contains("DC0_DVPG0"), "{nets}");
        let dev = g.ok(&["device.info", "-vm", "vm1", "-json", "ethernet-1"]);
        assert!(dev.contains(&uuid), "{dev}");
        assert!(dev.contains("dvportgroup-"), "{dev}");
        let vms = g.ok(&["object.collect", "-s", "/DC0/network/DC0_DVPG0", "vm"]);
        assert!(vms.contains("VirtualMachine:"), "{vms}");
        let (ok, out) = g.run(&["object.destroy", "/DC0/network/DC0_DVPG0"]);
        assert!(!ok && out.contains("in use"), "{out}");
        g.ok(&["object.destroy", "/DC0/network/PG42"]);
        let ls = g.ok(&["ls", "/DC0/network"]);
        assert!(!ls.contains("PG42") && ls.contains("DC0_DVPG0"), "{ls}");
        // Datacenter.network lists networks and port groups, not switches.
        let nets = g.ok(&["object.collect", "-s", "/DC0", "network"]);
        assert!(nets.contains("DistributedVirtualPortgroup:"), "{nets}");
        assert!(!nets.contains("DistributedVirtualSwitch:"), "{nets}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn esx_has_no_switches() {
    if !Path::new(GOVC).exists() {
        return;
    }
    with_govc(esx_sim::Flavor::Esx, "esx", |g| {
        let (ok, out) = g.run(&["dvs.portgroup.info", "DVS0"]);
        assert!(!ok, "{out}");
        let (ok, out) = g.run(&["dvs.create", "DVS1"]);
        assert!(!ok, "{out}");
    })
    .await;
}
