//! `HostNetworkSystem`: virtual switches and port groups through the dispatcher (faults, the
//! host's `config.network`, `network` lists and `Network` objects) and with govc.

use std::path::Path;

use esx_sim::state::{moref, Ctx, Mo, MoRef, State};
use esx_vim::*;

use crate::support;

use support::call;

fn start(name: &str, flavor: esx_sim::Flavor) -> (State, std::path::PathBuf) {
    support::start("hostnet", name, flavor, None)
}

fn pg(name: &str, vswitch: &str, vlan: i32) -> HostPortGroupSpec {
    HostPortGroupSpec {
        name: name.into(),
        vlan_id: vlan,
        vswitch_name: vswitch.into(),
        ..Default::default()
    }
}

fn read(state: &State, r: &MoRef, path: &str) -> Option<Any> {
    esx_sim::property::read(state, &Ctx::default(), r, path).unwrap()
}

fn network_names(state: &State, host: &MoRef) -> Vec<String> {
    match read(state, host, "network") {
        Some(Any::ArrayOfManagedObjectReference(a)) => a
            .managed_object_reference
            .iter()
            .filter_map(|n| state.name_of(n))
            .collect(),
        other => panic!("{other:?}"),
    }
}

fn folder_networks(state: &State, folder: &MoRef) -> Vec<String> {
    state
        .children_of(folder)
        .iter()
        .filter_map(|n| state.name_of(n))
        .collect()
}

#[test]
fn switches_and_port_groups() {
    let (mut state, dir) = start("api", esx_sim::Flavor::Esx);
    let ns = moref("HostNetworkSystem", "networkSystem-ha-host");
    let host = moref("HostSystem", "ha-host");
    let netf = moref("Folder", "ha-folder-network");
    let add_sw = |name: &str| {
        Request::AddVirtualSwitch(Box::new(AddVirtualSwitchRequestType {
            this: ns.clone(),
            vswitch_name: name.into(),
            spec: None,
        }))
    };
    let add_pg = |spec: HostPortGroupSpec| {
        Request::AddPortGroup(Box::new(AddPortGroupRequestType {
            this: ns.clone(),
            portgrp: spec,
        }))
    };
    let remove_pg = |name: &str| {
        Request::RemovePortGroup(Box::new(RemovePortGroupRequestType {
            this: ns.clone(),
            pg_name: name.into(),
        }))
    };
    call(&mut state, add_sw("vSwitch1")).unwrap();
    let e = call(&mut state, add_sw("vSwitch1")).unwrap_err();
    assert!(matches!(*e, BaseMethodFault::AlreadyExists(_)), "{e:?}");
    let e = call(&mut state, add_sw("")).unwrap_err();
    assert!(matches!(*e, BaseMethodFault::InvalidArgument(_)), "{e:?}");

    for vlan in [-1, 4096] {
        let e = call(&mut state, add_pg(pg("Bad", "vSwitch1", vlan))).unwrap_err();
        assert!(matches!(*e, BaseMethodFault::InvalidArgument(_)), "{e:?}");
    }
    let e = call(&mut state, add_pg(pg("Lost", "vSwitch9", 0))).unwrap_err();
    assert!(matches!(*e, BaseMethodFault::NotFound(_)), "{e:?}");
    call(&mut state, add_pg(pg("Prod", "vSwitch1", 4095))).unwrap();
    let e = call(&mut state, add_pg(pg("Prod", "vSwitch0", 0))).unwrap_err();
    assert!(matches!(*e, BaseMethodFault::AlreadyExists(_)), "{e:?}");

    // The host's configuration, network list and the datacenter's network folder follow.
    let info = format!("{:?}", read(&state, &host, "config.network"));
    assert!(
        info.contains("\"vSwitch1\"") && info.contains("\"Prod\""),
        "{info}"
    );
    let sw = format!("{:?}", read(&state, &host, "config.network.vswitch"));
    assert!(sw.contains("key-vim.host.PortGroup-Prod"), "{sw}");
    assert_eq!(network_names(&state, &host), ["VM Network", "Prod"]);
    assert_eq!(folder_networks(&state, &netf), ["VM Network", "Prod"]);
    let prod = moref("Network", "HaNetwork-Prod");
    assert!(matches!(state.get(&prod), Some(Mo::Network(_))));

    // Update: VLAN and name; renaming a used port group is refused.
    let update = |name: &str, spec: HostPortGroupSpec| {
        Request::UpdatePortGroup(Box::new(UpdatePortGroupRequestType {
            this: ns.clone(),
            pg_name: name.into(),
            portgrp: spec,
        }))
    };
    call(&mut state, update("Prod", pg("Prod", "vSwitch1", 12))).unwrap();
    let e = call(&mut state, update("Prod", pg("Prod", "vSwitch1", 5000))).unwrap_err();
    assert!(matches!(*e, BaseMethodFault::InvalidArgument(_)), "{e:?}");
    let e = call(&mut state, update("Nope", pg("Nope", "vSwitch1", 1))).unwrap_err();
    assert!(matches!(*e, BaseMethodFault::NotFound(_)), "{e:?}");
    call(&mut state, update("Prod", pg("Web", "vSwitch1", 12))).unwrap();
    assert_eq!(folder_networks(&state, &netf), ["VM Network", "Web"]);
    let e = call(
        &mut state,
        update("VM Network", pg("Renamed", "vSwitch0", 0)),
    )
    .unwrap_err();
    assert!(matches!(*e, BaseMethodFault::ResourceInUse(_)), "{e:?}");
    let vlan = format!("{:?}", read(&state, &host, "config.network.portgroup"));
    assert!(vlan.contains("vlan_id: 12"), "{vlan}");

    // Removal: in use by the VMs, or missing.
    let e = call(&mut state, remove_pg("VM Network")).unwrap_err();
    assert!(matches!(*e, BaseMethodFault::ResourceInUse(_)), "{e:?}");
    let e = call(&mut state, remove_pg("Nope")).unwrap_err();
    assert!(matches!(*e, BaseMethodFault::NotFound(_)), "{e:?}");
    let rm_sw = |name: &str| {
        Request::RemoveVirtualSwitch(Box::new(RemoveVirtualSwitchRequestType {
            this: ns.clone(),
            vswitch_name: name.into(),
        }))
    };
    let e = call(&mut state, rm_sw("vSwitch0")).unwrap_err();
    assert!(matches!(*e, BaseMethodFault::ResourceInUse(_)), "{e:?}");
    // Removing a switch takes its port groups (and their networks) with it.
    call(&mut state, rm_sw("vSwitch1")).unwrap();
    assert_eq!(folder_networks(&state, &netf), ["VM Network"]);
    assert_eq!(network_names(&state, &host), ["VM Network"]);
    let e = call(&mut state, rm_sw("vSwitch1")).unwrap_err();
    assert!(matches!(*e, BaseMethodFault::NotFound(_)), "{e:?}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn vcenter_hosts_share_a_network_by_name() {
    let (mut state, dir) = start("vc", esx_sim::Flavor::Vcenter);
    let mut hosts: Vec<(String, MoRef)> = state
        .objects
        .iter()
        .filter_map(|(id, m)| match m {
            Mo::HostSystem(h) => Some((h.name.clone(), moref("HostSystem", id))),
            _ => None,
        })
        .collect();
    hosts.sort();
    let ns = |h: &MoRef| moref("HostNetworkSystem", &format!("networkSystem-{}", h.value));
    for (_, h) in hosts.iter().take(2) {
        call(
            &mut state,
            Request::AddPortGroup(Box::new(AddPortGroupRequestType {
                this: ns(h),
                portgrp: pg("Shared", "vSwitch0", 3),
            })),
        )
        .unwrap();
    }
    let nets: Vec<&esx_sim::mo::network::NetworkMo> = state
        .objects
        .values()
        .filter_map(|m| match m {
            Mo::Network(n) if n.name == "Shared" => Some(n),
            _ => None,
        })
        .collect();
    assert_eq!(nets.len(), 1);
    assert_eq!(nets[0].hosts.len(), 2);
    // Removing it from one host keeps the network for the other.
    call(
        &mut state,
        Request::RemovePortGroup(Box::new(RemovePortGroupRequestType {
            this: ns(&hosts[0].1),
            pg_name: "Shared".into(),
        })),
    )
    .unwrap();
    let left: Vec<usize> = state
        .objects
        .values()
        .filter_map(|m| match m {
            Mo::Network(n) if n.name == "Shared" => Some(n.hosts.len()),
            _ => None,
        })
        .collect();
    assert_eq!(left, [1]);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn govc_vswitch_and_portgroup_commands() {
    if !Path::new(support::govc::GOVC).exists() {
        eprintln!("SKIPPED: /opt/peers/bin/govc is missing (run ../shared/peers/setup-peers.sh)");
        return;
    }
    let dir = std::env::temp_dir().join(format!("esx-sim-hostnet-govc-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let h = esx_sim::Simulator::start(esx_sim::Config::new(dir.join("data")))
        .await
        .unwrap();
    let url = format!("https://root:pass@127.0.0.1:{}/sdk", h.addr.port());
    let home = dir.join("govmomi");
    tokio::task::spawn_blocking(move || {
        let govc = |args: &[&str]| support::govc::run(&url, &home, args);
        let ok = |args: &[&str]| {
            let (success, out) = govc(args);
            assert!(success, "govc {args:?}: {out}");
            out
        };
        ok(&["host.vswitch.add", "vSwitch1"]);
        let (again, out) = govc(&["host.vswitch.add", "vSwitch1"]);
        assert!(!again && out.contains("already exists"), "{out}");
        ok(&[
            "host.portgroup.add",
            "-vswitch",
            "vSwitch1",
            "-vlan",
            "10",
            "Prod",
        ]);
        let (bad, out) = govc(&[
            "host.portgroup.add",
            "-vswitch",
            "vSwitch1",
            "-vlan",
            "5000",
            "X",
        ]);
        assert!(!bad && out.contains("vlanId"), "{out}");
        let sw = ok(&["host.vswitch.info"]);
        assert!(
            sw.contains("vSwitch1") && sw.contains("Portgroup:        Prod"),
            "{sw}"
        );
        ok(&[
            "host.portgroup.change",
            "-vlan-id",
            "20",
            "-name",
            "Web",
            "Prod",
        ]);
        let pgs = ok(&["host.portgroup.info"]);
        assert!(pgs.contains("Name:            Web"), "{pgs}");
        assert!(pgs.contains("VLAN ID:         20"), "{pgs}");
        let nets = ok(&["ls", "/ha-datacenter/network"]);
        assert!(nets.contains("/ha-datacenter/network/Web"), "{nets}");
        let (used, out) = govc(&["host.portgroup.remove", "VM Network"]);
        assert!(!used && out.contains("in use"), "{out}");
        ok(&["host.portgroup.remove", "Web"]);
        ok(&["host.vswitch.remove", "vSwitch1"]);
        let sw = ok(&["host.vswitch.info"]);
        assert!(!sw.contains("vSwitch1"), "{sw}");
        assert!(!ok(&["ls", "/ha-datacenter/network"]).contains("Web"));
    })
    .await
    .unwrap();
    h.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn physical_nics_dns_bridges_and_shaping() {
    let (mut state, dir) = start("pnic", esx_sim::Flavor::Esx);
    let ns = moref("HostNetworkSystem", "networkSystem-ha-host");
    let host = moref("HostSystem", "ha-host");
    let info = match read(&state, &host, "config.network") {
        Some(Any::HostNetworkInfo(i)) => *i,
        other => panic!("{other:?}"),
    };
    assert_eq!(info.pnic.len(), 2);
    let (n0, n1) = (&info.pnic[0], &info.pnic[1]);
    assert_eq!(
        (n0.device.as_str(), n1.device.as_str()),
        ("vmnic0", "vmnic1")
    );
    assert_eq!(n0.key.as_deref(), Some("key-vim.host.PhysicalNic-vmnic0"));
    assert_eq!(n0.mac, "00:50:56:00:00:01");
    assert!(n0.driver.is_some() && n0.link_speed.as_ref().is_some_and(|l| l.speed_mb == 1000));
    assert!(n0.spec.ip.as_ref().is_some_and(|ip| ip.dhcp));
    let ip1 = n1.spec.ip.clone().unwrap();
    assert!(!ip1.dhcp);
    assert_eq!(ip1.ip_address.as_deref(), Some("192.0.2.50"));
    assert_eq!(ip1.subnet_mask.as_deref(), Some("255.255.255.0"));
    match &info.dns_config {
        Some(BaseHostDnsConfig::HostDnsConfig(d)) => {
            assert_eq!(
                (d.host_name.as_str(), d.domain_name.as_str()),
                ("localhost", "localdomain")
            );
        }
        other => panic!("{other:?}"),
    }
    let sw0 = info.vswitch.iter().find(|s| s.name == "vSwitch0").unwrap();
    assert_eq!(sw0.pnic, ["key-vim.host.PhysicalNic-vmnic0"]);
    assert!(
        matches!(&sw0.spec.bridge, Some(BaseHostVirtualSwitchBridge::HostVirtualSwitchBondBridge(b)) if b.nic_device == ["vmnic0"])
    );

    // AddVirtualSwitch: a bridge naming a free pnic (by key, as libvirt does), and a shaping
    // policy that reads back.
    let add = |name: &str, nics: &[&str]| {
        Request::AddVirtualSwitch(Box::new(AddVirtualSwitchRequestType {
            this: ns.clone(),
            vswitch_name: name.into(),
            spec: Some(HostVirtualSwitchSpec {
                num_ports: 128,
                bridge: Some(BaseHostVirtualSwitchBridge::from(
                    HostVirtualSwitchBondBridge {
                        nic_device: nics.iter().map(|s| s.to_string()).collect(),
                        ..Default::default()
                    },
                )),
                policy: Some(HostNetworkPolicy {
                    shaping_policy: Some(HostNetworkTrafficShapingPolicy {
                        enabled: Some(true),
                        average_bandwidth: Some(8_000_000),
                        peak_bandwidth: Some(16_000_000),
                        burst_size: Some(102_400),
                    }),
                    ..Default::default()
                }),
                mtu: None,
            }),
        }))
    };
    let e = call(&mut state, add("vSwitch9", &["vmnic9"])).unwrap_err();
    assert!(matches!(*e, BaseMethodFault::NotFound(_)), "{e:?}");
    let e = call(&mut state, add("vSwitch9", &["vmnic0"])).unwrap_err();
    assert!(matches!(*e, BaseMethodFault::ResourceInUse(_)), "{e:?}");
    call(
        &mut state,
        add("vSwitch1", &["key-vim.host.PhysicalNic-vmnic1"]),
    )
    .unwrap();
    let info = match read(&state, &host, "config.network") {
        Some(Any::HostNetworkInfo(i)) => *i,
        other => panic!("{other:?}"),
    };
    let sw1 = info.vswitch.iter().find(|s| s.name == "vSwitch1").unwrap();
    assert_eq!(sw1.pnic, ["key-vim.host.PhysicalNic-vmnic1"]);
    assert!(
        matches!(&sw1.spec.bridge, Some(BaseHostVirtualSwitchBridge::HostVirtualSwitchBondBridge(b)) if b.nic_device == ["vmnic1"])
    );
    let shaping = sw1
        .spec
        .policy
        .as_ref()
        .and_then(|p| p.shaping_policy.clone())
        .unwrap();
    assert_eq!(
        (
            shaping.average_bandwidth,
            shaping.peak_bandwidth,
            shaping.burst_size
        ),
        (Some(8_000_000), Some(16_000_000), Some(102_400))
    );

    // HostNetworkSystem agrees with the host's config.network.
    match read(&state, &ns, "networkInfo") {
        Some(Any::HostNetworkInfo(i)) => assert_eq!(*i, info),
        other => panic!("{other:?}"),
    }
    match read(&state, &ns, "networkConfig") {
        Some(Any::HostNetworkConfig(c)) => {
            let names: Vec<&str> = c.vswitch.iter().map(|s| s.name.as_str()).collect();
            assert_eq!(names, ["vSwitch0", "vSwitch1"]);
            for (cfg, sw) in c.vswitch.iter().zip(&info.vswitch) {
                assert_eq!(cfg.spec.as_ref(), Some(&sw.spec));
            }
            let pgs: Vec<_> = c.portgroup.iter().filter_map(|p| p.spec.clone()).collect();
            let want: Vec<_> = info.portgroup.iter().map(|p| p.spec.clone()).collect();
            assert_eq!(pgs, want);
            let pnics: Vec<_> = c
                .pnic
                .iter()
                .map(|p| (p.device.clone(), p.spec.clone()))
                .collect();
            let want: Vec<_> = info
                .pnic
                .iter()
                .map(|p| (p.device.clone(), p.spec.clone()))
                .collect();
            assert_eq!(pnics, want);
            assert_eq!(c.dns_config, info.dns_config);
        }
        other => panic!("{other:?}"),
    }
    match read(&state, &ns, "dnsConfig") {
        Some(Any::HostDnsConfig(d)) => {
            assert_eq!(Some(BaseHostDnsConfig::HostDnsConfig(d)), info.dns_config)
        }
        other => panic!("{other:?}"),
    }
    // Removing the switch frees its pnic.
    call(
        &mut state,
        Request::RemoveVirtualSwitch(Box::new(RemoveVirtualSwitchRequestType {
            this: ns.clone(),
            vswitch_name: "vSwitch1".into(),
        })),
    )
    .unwrap();
    call(&mut state, add("vSwitch2", &["vmnic1"])).unwrap();
    let _ = std::fs::remove_dir_all(dir);
}
