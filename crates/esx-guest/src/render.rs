//! The configuration file writers: pure functions from NIC settings to file text.
//!
//! Rules shared by all writers:
//!
//! * Only NICs with an IPv4 address get an interface configuration; the others are left to
//!   whatever configures them now. When no NIC has one, no interface file is written at all
//!   (so the whole-file `/etc/network/interfaces` is never replaced by a `lo`-only one).
//! * One default route: the gateway of the first NIC (in `machine.id` order) that has one.
//!   Other NICs' gateways are not written ([`default_route_owner`]); several default routes
//!   on one host would compete.
//! * DNS servers come from every matched NIC, in order, each written once: per interface
//!   where the format has a place for them, and in `/etc/resolv.conf`.
//! * Each file starts with [`HEADER`].
//!
//! Fields of an `ifcfg` file follow the order of Nova's guest tool (`DEVICE`, `USERCTL`,
//! `ONBOOT`, `BOOTPROTO`, `BROADCAST`, `NETWORK`, `GATEWAY`, `NETMASK`, `IPADDR`, then the MAC),
//! with three deliberate differences: `USERCTL=no` (users other than root may not take the
//! NIC down), `NETWORK` holds the network address instead of being empty, and the MAC is
//! written as `HWADDR` (which binds the file to the NIC) rather than `MACADDR` (which would
//! set the NIC's address). `DNS1`, `DNS2`, … follow, so that NetworkManager keeps the servers.

use std::net::Ipv4Addr;
use std::path::PathBuf;

use crate::distro::Renderer;
use crate::nic::NicConfig;

/// The first line of every file the agent writes.
pub const HEADER: &str =
    "# Written by esx-guest-agent; local changes are overwritten at the next run.";

/// The netplan file, relative to the root.
pub const NETPLAN_PATH: &str = "etc/netplan/50-esx-guest.yaml";
/// The ifupdown file, relative to the root.
pub const INTERFACES_PATH: &str = "etc/network/interfaces";
/// The resolver file, relative to the root.
pub const RESOLV_CONF_PATH: &str = "etc/resolv.conf";

/// A NIC found in the guest: its device name and the settings meant for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interface {
    /// The kernel's device name (`eth0`, `ens192`).
    pub device: String,
    /// The settings whose MAC matched the device's.
    pub nic: NicConfig,
}

/// What a file is for: network files need `--apply`, the resolver file does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileKind {
    /// Interface configuration.
    Network,
    /// `/etc/resolv.conf`.
    Resolver,
}

/// A file to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedFile {
    /// Path relative to the root (`etc/resolv.conf`).
    pub path: PathBuf,
    /// The whole text.
    pub contents: String,
    /// Permission bits the file gets.
    pub mode: u32,
    /// What the file is for.
    pub kind: FileKind,
}

/// The index of the interface whose gateway becomes the default route: the first one with an
/// IPv4 address and a gateway.
pub fn default_route_owner(interfaces: &[Interface]) -> Option<usize> {
    interfaces
        .iter()
        .position(|i| i.nic.ipv4.is_some_and(|v4| v4.gateway.is_some()))
}

/// The DNS servers of all interfaces, in order, each once.
pub fn dns_servers(interfaces: &[Interface]) -> Vec<Ipv4Addr> {
    let mut servers: Vec<Ipv4Addr> = Vec::new();
    for server in interfaces.iter().flat_map(|i| &i.nic.dns) {
        if !servers.contains(server) {
            servers.push(*server);
        }
    }
    servers
}

/// Every file `renderer` needs for `interfaces`, resolv.conf last (when there is a DNS server).
pub fn render(renderer: Renderer, interfaces: &[Interface]) -> Vec<RenderedFile> {
    let owner = default_route_owner(interfaces);
    let with_v4: Vec<(usize, &Interface)> = interfaces
        .iter()
        .enumerate()
        .filter(|(_, i)| i.nic.ipv4.is_some())
        .collect();
    let file = |path: String, contents: String, mode: u32| RenderedFile {
        path: path.into(),
        contents,
        mode,
        kind: FileKind::Network,
    };
    let mut files = Vec::new();
    if !with_v4.is_empty() {
        match renderer {
            Renderer::Ifcfg => {
                for (n, iface) in &with_v4 {
                    let path = format!("etc/sysconfig/network-scripts/ifcfg-{}", iface.device);
                    files.push(file(path, ifcfg(iface, owner == Some(*n)), 0o644));
                }
            }
            Renderer::Networkd => {
                for (n, iface) in &with_v4 {
                    let path = format!("etc/systemd/network/10-esx-guest-{}.network", iface.device);
                    files.push(file(path, networkd(iface, owner == Some(*n)), 0o644));
                }
            }
            Renderer::Interfaces => {
                files.push(file(INTERFACES_PATH.into(), ifupdown(interfaces), 0o644));
            }
            // netplan warns about files other users can read.
            Renderer::Netplan => files.push(file(NETPLAN_PATH.into(), netplan(interfaces), 0o600)),
        }
    }
    if let Some(contents) = resolv_conf(interfaces) {
        files.push(RenderedFile {
            path: RESOLV_CONF_PATH.into(),
            contents,
            mode: 0o644,
            kind: FileKind::Resolver,
        });
    }
    files
}

/// Lines of `text` joined with `\n`, ending with one.
fn lines(lines: Vec<String>) -> String {
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

/// A Red Hat `ifcfg-<dev>` file; `default_route` says whether its gateway is written.
pub fn ifcfg(iface: &Interface, default_route: bool) -> String {
    let mut out = vec![HEADER.to_string(), format!("DEVICE={}", iface.device)];
    out.extend(["USERCTL=no", "ONBOOT=yes", "BOOTPROTO=static"].map(String::from));
    if let Some(v4) = iface.nic.ipv4 {
        if let Some(broadcast) = v4.broadcast {
            out.push(format!("BROADCAST={broadcast}"));
        }
        out.push(format!("NETWORK={}", v4.network()));
        if let Some(gateway) = v4.gateway.filter(|_| default_route) {
            out.push(format!("GATEWAY={gateway}"));
        }
        out.push(format!("NETMASK={}", v4.netmask));
        out.push(format!("IPADDR={}", v4.address));
    }
    out.push(format!("HWADDR={}", iface.nic.mac));
    for (n, server) in iface.nic.dns.iter().enumerate() {
        out.push(format!("DNS{}={server}", n + 1));
    }
    lines(out)
}

/// The whole `/etc/network/interfaces`: the loopback stanza, then one static stanza per
/// interface with an IPv4 address.
pub fn ifupdown(interfaces: &[Interface]) -> String {
    let owner = default_route_owner(interfaces);
    let mut out = vec![
        HEADER.to_string(),
        String::new(),
        "auto lo".into(),
        "iface lo inet loopback".into(),
    ];
    for (n, iface) in interfaces.iter().enumerate() {
        let Some(v4) = iface.nic.ipv4 else { continue };
        let dev = &iface.device;
        out.push(String::new());
        out.push(format!("auto {dev}"));
        out.push(format!("iface {dev} inet static"));
        out.push(format!("    address {}", v4.address));
        out.push(format!("    netmask {}", v4.netmask));
        if let Some(broadcast) = v4.broadcast {
            out.push(format!("    broadcast {broadcast}"));
        }
        if let Some(gateway) = v4.gateway.filter(|_| owner == Some(n)) {
            out.push(format!("    gateway {gateway}"));
        }
        if !iface.nic.dns.is_empty() {
            out.push(format!(
                "    dns-nameservers {}",
                joined(&iface.nic.dns, " ")
            ));
        }
    }
    lines(out)
}

fn joined(addrs: &[Ipv4Addr], separator: &str) -> String {
    addrs
        .iter()
        .map(Ipv4Addr::to_string)
        .collect::<Vec<_>>()
        .join(separator)
}

/// A netplan (version 2) file with one `ethernets` entry per interface with an IPv4 address,
/// named after the device and matched by MAC. `dhcp4: false` is explicit because netplan
/// merges entries of the same name from other files (cloud-init's names them after the device
/// too). The default route is written as a route to `0.0.0.0/0`, which netplan has read since
/// Ubuntu 17.10 (`gateway4` is deprecated).
pub fn netplan(interfaces: &[Interface]) -> String {
    let owner = default_route_owner(interfaces);
    let mut out = vec![
        HEADER.to_string(),
        "network:".into(),
        "  version: 2".into(),
        "  ethernets:".into(),
    ];
    for (n, iface) in interfaces.iter().enumerate() {
        let Some(v4) = iface.nic.ipv4 else { continue };
        out.push(format!("    {}:", iface.device));
        out.push("      match:".into());
        out.push(format!("        macaddress: \"{}\"", iface.nic.mac));
        out.push("      dhcp4: false".into());
        out.push("      addresses:".into());
        out.push(format!("        - {}", v4.cidr()));
        if let Some(gateway) = v4.gateway.filter(|_| owner == Some(n)) {
            out.push("      routes:".into());
            out.push("        - to: 0.0.0.0/0".into());
            out.push(format!("          via: {gateway}"));
        }
        if !iface.nic.dns.is_empty() {
            out.push("      nameservers:".into());
            out.push("        addresses:".into());
            out.extend(iface.nic.dns.iter().map(|s| format!("          - {s}")));
        }
    }
    lines(out)
}

/// A systemd-networkd `.network` file matching the interface by MAC.
pub fn networkd(iface: &Interface, default_route: bool) -> String {
    let mut out = vec![
        HEADER.to_string(),
        "[Match]".into(),
        format!("MACAddress={}", iface.nic.mac),
        String::new(),
        "[Network]".into(),
    ];
    let v4 = iface.nic.ipv4;
    if let Some(gateway) = v4.and_then(|v4| v4.gateway).filter(|_| default_route) {
        out.push(format!("Gateway={gateway}"));
    }
    out.extend(iface.nic.dns.iter().map(|s| format!("DNS={s}")));
    if let Some(v4) = v4 {
        out.push(String::new());
        out.push("[Address]".into());
        out.push(format!("Address={}", v4.cidr()));
        if let Some(broadcast) = v4.broadcast {
            out.push(format!("Broadcast={broadcast}"));
        }
    }
    lines(out)
}

/// `/etc/resolv.conf` with every DNS server once; `None` when there is none.
pub fn resolv_conf(interfaces: &[Interface]) -> Option<String> {
    let servers = dns_servers(interfaces);
    if servers.is_empty() {
        return None;
    }
    let mut out = vec![HEADER.to_string()];
    out.extend(servers.iter().map(|s| format!("nameserver {s}")));
    Some(lines(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nic::{Ipv4Config, Netmask};
    use std::collections::BTreeMap;
    use std::path::Path;

    fn iface(
        device: &str,
        mac: &str,
        v4: Option<(&str, u8, Option<&str>)>,
        dns: &[&str],
    ) -> Interface {
        Interface {
            device: device.into(),
            nic: NicConfig {
                mac: mac.parse().unwrap(),
                ipv4: v4.map(|(address, len, gateway)| Ipv4Config {
                    address: address.parse().unwrap(),
                    netmask: Netmask::from_prefix_len(len).unwrap(),
                    gateway: gateway.map(|g| g.parse().unwrap()),
                    broadcast: None,
                }),
                dns: dns.iter().map(|s| s.parse().unwrap()).collect(),
            },
        }
    }

    #[test]
    fn default_route_and_dns_rules() {
        let ifaces = [
            iface("a", "00:00:00:00:00:01", None, &["10.0.0.2"]),
            iface(
                "b",
                "00:00:00:00:00:02",
                Some(("10.0.0.5", 24, None)),
                &["10.0.0.3", "10.0.0.2"],
            ),
            iface(
                "c",
                "00:00:00:00:00:03",
                Some(("10.1.0.5", 24, Some("10.1.0.1"))),
                &[],
            ),
            iface(
                "d",
                "00:00:00:00:00:04",
                Some(("10.2.0.5", 24, Some("10.2.0.1"))),
                &["10.0.0.3"],
            ),
        ];
        assert_eq!(default_route_owner(&ifaces), Some(2));
        assert_eq!(
            dns_servers(&ifaces),
            ["10.0.0.2", "10.0.0.3"].map(|s| s.parse::<Ipv4Addr>().unwrap())
        );
        let files = render(Renderer::Ifcfg, &ifaces);
        let names: Vec<_> = files
            .iter()
            .map(|f| f.path.to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            [
                "etc/sysconfig/network-scripts/ifcfg-b",
                "etc/sysconfig/network-scripts/ifcfg-c",
                "etc/sysconfig/network-scripts/ifcfg-d",
                "etc/resolv.conf"
            ]
        );
        assert!(files[1].contents.contains("GATEWAY=10.1.0.1\n"));
        assert!(!files[2].contents.contains("GATEWAY"));
        let netplan = netplan(&ifaces);
        assert_eq!(netplan.matches("via:").count(), 1);
        assert!(!netplan.contains("    a:"));
    }

    #[test]
    fn nothing_with_ipv4_writes_only_resolv_conf() {
        let ifaces = [iface("a", "00:00:00:00:00:01", None, &["10.0.0.2"])];
        for renderer in [
            Renderer::Ifcfg,
            Renderer::Interfaces,
            Renderer::Netplan,
            Renderer::Networkd,
        ] {
            let files = render(renderer, &ifaces);
            assert_eq!(files.len(), 1);
            assert_eq!(files[0].kind, FileKind::Resolver);
        }
        assert!(render(
            Renderer::Interfaces,
            &[iface("a", "00:00:00:00:00:01", None, &[])]
        )
        .is_empty());
    }

    /// One directory per distribution family under `testdata/guest/`: the VM's `machine.id`,
    /// a guest `root/` (os-release, sys/class/net) and the `expected/` files.
    fn case_dir(case: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../testdata/guest")
            .join(case)
    }

    /// Every file under `dir`, by path relative to it.
    fn tree(dir: &Path) -> BTreeMap<PathBuf, String> {
        let mut files = BTreeMap::new();
        let mut pending = vec![dir.to_path_buf()];
        while let Some(next) = pending.pop() {
            for entry in std::fs::read_dir(&next).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    pending.push(path);
                } else {
                    let text = std::fs::read_to_string(&path).unwrap();
                    files.insert(path.strip_prefix(dir).unwrap().to_path_buf(), text);
                }
            }
        }
        files
    }

    fn interfaces_of(case: &str, nics: &[NicConfig]) -> Vec<Interface> {
        let devices = crate::sysfs::list_devices(&case_dir(case).join("root")).unwrap();
        crate::sysfs::match_devices(&devices, nics).interfaces
    }

    /// The writers against `testdata/guest/<case>/expected/`, one case per family.
    #[test]
    fn golden_files() {
        for (case, renderer) in [
            ("rhel", Renderer::Ifcfg),
            ("debian", Renderer::Interfaces),
            ("ubuntu", Renderer::Netplan),
            ("networkd", Renderer::Networkd),
        ] {
            let dir = case_dir(case);
            let distro = crate::distro::detect_at(&dir.join("root")).unwrap();
            assert_eq!(distro.renderer, renderer, "{case}");
            let text = std::fs::read_to_string(dir.join("machine.id")).unwrap();
            let nics = crate::parse_machine_id(&text).unwrap();
            let rendered: BTreeMap<PathBuf, String> = render(renderer, &interfaces_of(case, &nics))
                .into_iter()
                .map(|f| (f.path, f.contents))
                .collect();
            let expected = tree(&dir.join("expected"));
            assert_eq!(
                rendered.keys().collect::<Vec<_>>(),
                expected.keys().collect::<Vec<_>>(),
                "{case}"
            );
            for (path, text) in &expected {
                assert_eq!(&rendered[path], text, "{case}: {}", path.display());
            }
        }
    }

    /// The same NICs through guestinfo.metadata give the same netplan file.
    #[test]
    fn golden_files_from_guestinfo() {
        let text = std::fs::read_to_string(case_dir("ubuntu").join("guestinfo.metadata")).unwrap();
        let meta = crate::guestinfo::parse_metadata(&text).unwrap();
        let files = render(Renderer::Netplan, &interfaces_of("ubuntu", &meta.nics));
        let expected = tree(&case_dir("ubuntu").join("expected"));
        for file in files {
            assert_eq!(
                file.contents,
                expected[&file.path],
                "{}",
                file.path.display()
            );
        }
    }

    /// The netplan file is a netplan document: read back as guestinfo metadata (whose
    /// `network` is netplan), it gives the NICs that have an address, without broadcast.
    #[test]
    fn netplan_reads_back() {
        let text = std::fs::read_to_string(case_dir("debian").join("machine.id")).unwrap();
        let ifaces = interfaces_of("debian", &crate::parse_machine_id(&text).unwrap());
        let meta = crate::guestinfo::parse_metadata(&netplan(&ifaces)).unwrap();
        let owner = default_route_owner(&ifaces);
        let expected: Vec<NicConfig> = ifaces
            .iter()
            .enumerate()
            .filter(|(_, i)| i.nic.ipv4.is_some())
            .map(|(n, i)| {
                let mut nic = i.nic.clone();
                nic.ipv4 = nic.ipv4.map(|v4| Ipv4Config {
                    broadcast: None,
                    gateway: v4.gateway.filter(|_| owner == Some(n)),
                    ..v4
                });
                nic
            })
            .collect();
        assert_eq!(meta.nics, expected);
    }

    #[test]
    fn modes() {
        let ifaces = [iface(
            "a",
            "00:00:00:00:00:01",
            Some(("10.0.0.5", 24, None)),
            &["10.0.0.2"],
        )];
        for (renderer, mode) in [
            (Renderer::Ifcfg, 0o644),
            (Renderer::Interfaces, 0o644),
            (Renderer::Netplan, 0o600),
            (Renderer::Networkd, 0o644),
        ] {
            let files = render(renderer, &ifaces);
            assert_eq!(files[0].mode, mode, "{renderer:?}");
            assert_eq!(files[1].mode, 0o644);
        }
    }
}
