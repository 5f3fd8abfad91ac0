//! The network settings of one NIC, as the provisioning side injects them: a MAC address, at
//! most one static IPv4 address with its netmask, gateway and broadcast, and DNS servers.
//!
//! The types make invalid settings unrepresentable where the formats need it: a netmask is
//! always contiguous, and a gateway or broadcast exists only together with an address. This is
//! what lets [`format_machine_id`](crate::format_machine_id) produce, for every value, a string
//! that [`parse_machine_id`](crate::parse_machine_id) reads back unchanged.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

/// An Ethernet MAC address, shown as six lowercase hex pairs joined by `:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MacAddr(pub [u8; 6]);

/// Why a text is not a MAC address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected six hex pairs joined by ':'")]
pub struct MacAddrError;

impl MacAddr {
    /// True for `00:00:00:00:00:00`, the address of `lo` and of devices without one.
    pub fn is_zero(&self) -> bool {
        self.0 == [0; 6]
    }
}

impl FromStr for MacAddr {
    type Err = MacAddrError;

    /// Reads `aa:bb:cc:dd:ee:ff` in either case; nothing else (no `-`, no surrounding space).
    fn from_str(text: &str) -> Result<Self, MacAddrError> {
        let mut bytes = [0u8; 6];
        let mut parts = text.split(':');
        for byte in &mut bytes {
            let part = parts.next().ok_or(MacAddrError)?;
            if part.len() != 2 || !part.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(MacAddrError);
            }
            *byte = u8::from_str_radix(part, 16).map_err(|_| MacAddrError)?;
        }
        match parts.next() {
            None => Ok(MacAddr(bytes)),
            Some(_) => Err(MacAddrError),
        }
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{g:02x}")
    }
}

/// A contiguous IPv4 netmask, held as its prefix length (0 to 32).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Netmask(u8);

/// Why an IPv4 address is not a netmask: its one bits are not all leading.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a contiguous netmask")]
pub struct NetmaskError;

impl Netmask {
    /// The netmask of a prefix length; `None` above 32.
    pub fn from_prefix_len(len: u8) -> Option<Self> {
        (len <= 32).then_some(Netmask(len))
    }

    /// The prefix length, 0 to 32 (`255.255.255.0` is 24).
    pub fn prefix_len(self) -> u8 {
        self.0
    }

    /// The dotted-quad form (`255.255.255.0`).
    pub fn to_ipv4(self) -> Ipv4Addr {
        Ipv4Addr::from(self.bits())
    }

    fn bits(self) -> u32 {
        u32::MAX.checked_shl(32 - u32::from(self.0)).unwrap_or(0)
    }
}

impl TryFrom<Ipv4Addr> for Netmask {
    type Error = NetmaskError;

    fn try_from(mask: Ipv4Addr) -> Result<Self, NetmaskError> {
        let bits = u32::from(mask);
        let len = bits.leading_ones();
        if bits.checked_shl(len).unwrap_or(0) == 0 {
            Ok(Netmask(len as u8))
        } else {
            Err(NetmaskError)
        }
    }
}

impl fmt::Display for Netmask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.to_ipv4().fmt(f)
    }
}

/// A static IPv4 configuration: address and netmask, optionally gateway and broadcast.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv4Config {
    /// The NIC's address.
    pub address: Ipv4Addr,
    /// The netmask of its subnet.
    pub netmask: Netmask,
    /// The gateway of the subnet, if any.
    pub gateway: Option<Ipv4Addr>,
    /// The broadcast address, if given (writers that need none leave it out).
    pub broadcast: Option<Ipv4Addr>,
}

impl Ipv4Config {
    /// The network address: the address with the host bits cleared.
    pub fn network(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.address) & self.netmask.bits())
    }

    /// `address/prefix`, e.g. `10.0.0.3/24`.
    pub fn cidr(&self) -> String {
        format!("{}/{}", self.address, self.netmask.prefix_len())
    }
}

/// The settings of one NIC, found in the guest by its MAC address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NicConfig {
    /// The MAC address the VM's virtual NIC has.
    pub mac: MacAddr,
    /// The static IPv4 configuration; `None` leaves the NIC as it is.
    pub ipv4: Option<Ipv4Config>,
    /// DNS servers, in order of preference.
    pub dns: Vec<Ipv4Addr>,
}

/// Proptest strategies shared by the format tests.
#[cfg(test)]
pub(crate) mod strategy {
    use super::*;
    use proptest::prelude::*;

    /// Any NIC settings; broadcast addresses only when `broadcast` is true (netplan has none).
    pub(crate) fn nic(broadcast: bool) -> impl Strategy<Value = NicConfig> {
        let addr = any::<u32>().prop_map(Ipv4Addr::from);
        let bcast = proptest::option::of(addr.clone()).prop_map(move |b| b.filter(|_| broadcast));
        let v4 = (
            addr.clone(),
            0u8..=32,
            proptest::option::of(addr.clone()),
            bcast,
        )
            .prop_map(|(address, len, gateway, broadcast)| Ipv4Config {
                address,
                netmask: Netmask::from_prefix_len(len).unwrap(),
                gateway,
                broadcast,
            });
        let dns = proptest::collection::vec(addr, 0..4);
        (any::<[u8; 6]>(), proptest::option::of(v4), dns).prop_map(|(mac, ipv4, dns)| NicConfig {
            mac: MacAddr(mac),
            ipv4,
            dns,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mac_reads_either_case_and_shows_lowercase() {
        let mac: MacAddr = "DE:AD:be:EF:00:0a".parse().unwrap();
        assert_eq!(mac.0, [0xde, 0xad, 0xbe, 0xef, 0x00, 0x0a]);
        assert_eq!(mac.to_string(), "de:ad:be:ef:00:0a");
        for bad in [
            "",
            "de:ad:be:ef:00",
            "de:ad:be:ef:00:0a:01",
            "de-ad-be-ef-00-0a",
            "de:ad:be:ef:00:0",
            "de:ad:be:ef:00:+a",
            " de:ad:be:ef:00:0a",
            "de:ad:be:ef:00:gg",
        ] {
            assert_eq!(bad.parse::<MacAddr>(), Err(MacAddrError), "{bad:?}");
        }
    }

    #[test]
    fn netmask_must_be_contiguous() {
        let mask = |s: &str| Netmask::try_from(s.parse::<Ipv4Addr>().unwrap());
        assert_eq!(mask("255.255.255.0").map(Netmask::prefix_len), Ok(24));
        assert_eq!(mask("255.255.255.255").map(Netmask::prefix_len), Ok(32));
        assert_eq!(mask("0.0.0.0").map(Netmask::prefix_len), Ok(0));
        assert_eq!(mask("255.255.254.0").map(Netmask::prefix_len), Ok(23));
        assert_eq!(mask("255.0.255.0"), Err(NetmaskError));
        assert_eq!(mask("0.255.255.255"), Err(NetmaskError));
        assert_eq!(mask("255.255.255.1"), Err(NetmaskError));
        for len in 0..=32 {
            let m = Netmask::from_prefix_len(len).unwrap();
            assert_eq!(Netmask::try_from(m.to_ipv4()), Ok(m));
        }
        assert_eq!(Netmask::from_prefix_len(33), None);
    }

    #[test]
    fn network_and_cidr() {
        let cfg = Ipv4Config {
            address: Ipv4Addr::new(192, 168, 50, 7),
            netmask: Netmask::from_prefix_len(25).unwrap(),
            gateway: None,
            broadcast: None,
        };
        assert_eq!(cfg.network(), Ipv4Addr::new(192, 168, 50, 0));
        assert_eq!(cfg.cidr(), "192.168.50.7/25");
        assert_eq!(cfg.netmask.to_string(), "255.255.255.128");
    }
}
