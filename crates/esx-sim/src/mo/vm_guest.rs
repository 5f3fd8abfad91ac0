//! What VMware Tools report about a running guest's network (`guest.net`, `guest.ipAddress`).
//!
//! One `GuestNicInfo` per connected NIC (`ethernetN` present and starting connected), with
//! the addresses given in the `.vmx` as `guestinfo.esxsim.ip.N = "a.b.c.d/24,fe80::1/64"`
//! (N is the NIC's `ethernetN` index), else one deterministic private IPv4 address per NIC.

use std::net::IpAddr;

use esx_vim::{GuestNicInfo, NetIpConfigInfo, NetIpConfigInfoIpAddress};
use esx_vmx::VmxFile;

use crate::mo::vm_devices;

/// The `.vmx` key holding the addresses of NIC `n`.
pub fn ip_key(n: i32) -> String {
    format!("guestinfo.esxsim.ip.{n}")
}

/// Parses `a.b.c.d/prefix` (or an address alone: /32, /128) into an address and prefix.
fn parse_cidr(s: &str) -> Option<(IpAddr, i32)> {
    let s = s.trim();
    let (addr, prefix) = match s.split_once('/') {
        Some((a, p)) => (a.trim(), Some(p.trim().parse::<i32>().ok()?)),
        None => (s, None),
    };
    let ip: IpAddr = addr.parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let prefix = prefix.unwrap_or(max);
    (0..=max).contains(&prefix).then_some((ip, prefix))
}

/// The deterministic address of NIC `n` of the VM at `seed`: `10.x.y.z/24`.
fn default_ip(seed: &str, n: i32) -> (IpAddr, i32) {
    let b = crate::mo::virtual_machine::seed_bytes(&format!("ip:{seed}:{n}"));
    let host = 2 + b[2] % 250;
    let ip = std::net::Ipv4Addr::new(10, b[0], b[1], host);
    (IpAddr::V4(ip), 24)
}

/// The addresses of NIC `n`: from `guestinfo.esxsim.ip.N` (malformed entries are skipped),
/// else the deterministic default.
pub fn nic_ips(vmx: &VmxFile, seed: &str, n: i32) -> Vec<(IpAddr, i32)> {
    match vmx.get(&ip_key(n)) {
        Some(list) => list.split(',').filter_map(parse_cidr).collect(),
        None => vec![default_ip(seed, n)],
    }
}

/// `guest.net` of a running guest.
pub fn guest_net(vmx: &VmxFile, seed: &str) -> Vec<GuestNicInfo> {
    let mut nics: Vec<i32> = vm_devices::present_prefixes(vmx)
        .iter()
        .filter_map(|p| p.strip_prefix("ethernet")?.parse().ok())
        .filter(|n| (0..vm_devices::MAX_NICS).contains(n))
        .collect();
    nics.sort();
    nics.into_iter()
        .filter(|n| {
            vmx.get(&format!("ethernet{n}.startConnected"))
                .is_none_or(|v| v.eq_ignore_ascii_case("true"))
        })
        .map(|n| {
            let p = format!("ethernet{n}");
            let get = |k: &str| vmx.get(&format!("{p}.{k}"));
            let network = if get("dvs.switchId").is_some() {
                None
            } else {
                Some(get("networkName").unwrap_or("VM Network").to_owned())
            };
            let mac = if get("addressType").is_some_and(|t| t.eq_ignore_ascii_case("static")) {
                get("address")
            } else {
                get("generatedAddress")
            };
            let ips = nic_ips(vmx, seed, n);
            GuestNicInfo {
                network,
                ip_address: ips.iter().map(|(ip, _)| ip.to_string()).collect(),
                mac_address: mac.map(str::to_ascii_lowercase),
                connected: true,
                device_config_id: 4000 + n,
                ip_config: Some(NetIpConfigInfo {
                    ip_address: ips
                        .iter()
                        .map(|(ip, prefix)| NetIpConfigInfoIpAddress {
                            ip_address: ip.to_string(),
                            prefix_length: *prefix,
                            state: Some("preferred".into()),
                            ..Default::default()
                        })
                        .collect(),
                    ..Default::default()
                }),
                ..Default::default()
            }
        })
        .collect()
}

/// `guest.ipAddress`: the first address of the first connected NIC.
pub fn primary_ip(net: &[GuestNicInfo]) -> Option<String> {
    net.iter().find_map(|n| n.ip_address.first().cloned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_from_the_vmx_or_derived() {
        let vmx = VmxFile::parse_str(
            "ethernet0.present = \"TRUE\"\nethernet0.networkName = \"VM Network\"\n\
             ethernet0.generatedAddress = \"00:0C:29:01:02:03\"\n\
             guestinfo.esxsim.ip.0 = \"192.168.5.7/24, fe80::5/64,bogus,10.0.0.1/40\"\n\
             ethernet1.present = \"TRUE\"\nethernet1.startConnected = \"FALSE\"\n\
             ethernet2.present = \"TRUE\"\nethernet2.networkName = \"B\"\n\
             ethernet3.present = \"TRUE\"\nethernet3.dvs.switchId = \"x\"\n",
        )
        .unwrap();
        let net = guest_net(&vmx, "vm/vm.vmx");
        assert_eq!(net.len(), 3, "ethernet1 is not connected");
        assert_eq!(net[0].ip_address, ["192.168.5.7", "fe80::5"]);
        assert_eq!(net[0].mac_address.as_deref(), Some("00:0c:29:01:02:03"));
        assert_eq!(net[0].device_config_id, 4000);
        let cfg = net[0].ip_config.as_ref().unwrap();
        assert_eq!(
            (
                cfg.ip_address[1].ip_address.as_str(),
                cfg.ip_address[1].prefix_length
            ),
            ("fe80::5", 64)
        );
        assert_eq!(net[1].network.as_deref(), Some("B"));
        assert_eq!(net[1].device_config_id, 4002);
        assert!(net[1].ip_address[0].starts_with("10."));
        assert_eq!(
            net[1].ip_config.as_ref().unwrap().ip_address[0].prefix_length,
            24
        );
        assert_eq!(
            net[1].ip_address,
            guest_net(&vmx, "vm/vm.vmx")[1].ip_address,
            "deterministic"
        );
        assert_ne!(
            net[1].ip_address,
            guest_net(&vmx, "other/other.vmx")[1].ip_address
        );
        assert_eq!(net[2].network, None);
        assert_eq!(primary_ip(&net).as_deref(), Some("192.168.5.7"));
        let two =
            VmxFile::parse_str("ethernet0.present = \"TRUE\"\nethernet1.present = \"TRUE\"\n")
                .unwrap();
        let n = guest_net(&two, "vm/vm.vmx");
        assert_ne!(n[0].ip_address, n[1].ip_address, "each NIC its own address");
    }
}
