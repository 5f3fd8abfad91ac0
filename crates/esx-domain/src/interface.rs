//! The `<interface>` document (`virsh iface-dumpxml`) as libvirt's ESX driver describes a
//! host's physical NIC: an ethernet interface started on boot with its MAC and IPv4
//! configuration.

use crate::xml::{a, Writer};

/// A host interface description.
///
/// ```
/// use esx_domain::{HostInterface, Ipv4Config};
///
/// let iface = HostInterface {
///     name: "vmnic0".into(),
///     mac: Some("00:50:56:01:02:03".into()),
///     ipv4: Some(Ipv4Config { dhcp: false, addresses: vec![("192.168.1.5".into(), 24)] }),
/// };
/// assert_eq!(
///     iface.to_xml(),
///     "<interface type='ethernet' name='vmnic0'>\n  <start mode='onboot'/>\n  \
///      <protocol family='ipv4'>\n    <ip address='192.168.1.5' prefix='24'/>\n  \
///      </protocol>\n  <mac address='00:50:56:01:02:03'/>\n</interface>\n"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HostInterface {
    /// The device name, e.g. `vmnic0`.
    pub name: String,
    /// `<mac address>`.
    pub mac: Option<String>,
    /// `<protocol family='ipv4'>`.
    pub ipv4: Option<Ipv4Config>,
}

/// The IPv4 part of a [`HostInterface`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Ipv4Config {
    /// `<dhcp/>`.
    pub dhcp: bool,
    /// `<ip address prefix>` elements.
    pub addresses: Vec<(String, u32)>,
}

impl HostInterface {
    /// Format as libvirt's interface formatter does (type ethernet, start mode onboot).
    pub fn to_xml(&self) -> String {
        let mut w = Writer::new(0);
        let mut inner = w.nested();
        inner.empty("start", vec![a("mode", "onboot")]);
        if let Some(ip) = &self.ipv4 {
            let mut p = inner.nested();
            if ip.dhcp {
                // libvirt's ESX driver leaves peerdns at 0, which formats as 'no'.
                p.empty("dhcp", vec![a("peerdns", "no")]);
            }
            for (addr, prefix) in &ip.addresses {
                p.empty("ip", vec![a("address", addr), a("prefix", prefix)]);
            }
            inner.elem("protocol", vec![a("family", "ipv4")], p);
        }
        if let Some(mac) = &self.mac {
            inner.empty("mac", vec![a("address", mac)]);
        }
        w.elem(
            "interface",
            vec![a("type", "ethernet"), a("name", &self.name)],
            inner,
        );
        w.buf
    }
}

/// The prefix length of an IPv4 netmask (`255.255.255.0` → 24); `None` when the mask is not
/// a valid contiguous netmask.
pub fn netmask_prefix(mask: &str) -> Option<u32> {
    let ip: std::net::Ipv4Addr = mask.parse().ok()?;
    let bits = u32::from(ip);
    let prefix = bits.leading_ones();
    (bits.checked_shl(prefix).unwrap_or(0) == 0).then_some(prefix)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dhcp_and_prefix() {
        let i = HostInterface {
            name: "vmnic1".into(),
            mac: None,
            ipv4: Some(Ipv4Config {
                dhcp: true,
                addresses: vec![],
            }),
        };
        assert!(i.to_xml().contains("    <dhcp peerdns='no'/>\n"));
        assert_eq!(netmask_prefix("255.255.255.0"), Some(24));
        assert_eq!(netmask_prefix("255.255.0.255"), None);
        assert_eq!(netmask_prefix("0.0.0.0"), Some(0));
        assert_eq!(netmask_prefix("255.255.255.255"), Some(32));
    }
}
