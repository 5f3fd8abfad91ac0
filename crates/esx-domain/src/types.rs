//! Small value types shared by the models: UUIDs, MAC addresses, CPU sets and memory sizes.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

/// A 128-bit UUID, formatted `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` in lower case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Uuid(pub [u8; 16]);

impl Uuid {
    /// Whether every byte is zero.
    pub fn is_nil(&self) -> bool {
        self.0.iter().all(|b| *b == 0)
    }
}

/// Error for a malformed UUID text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed UUID '{0}'")]
pub struct UuidError(pub String);

impl FromStr for Uuid {
    type Err = UuidError;
    /// Accepts 32 hex digits with optional `-` separators between byte pairs (as libvirt does),
    /// surrounding spaces ignored.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut out = [0u8; 16];
        let mut nibbles = 0usize;
        for c in s.trim().chars() {
            if c == '-' {
                if nibbles % 2 != 0 {
                    return Err(UuidError(s.into()));
                }
                continue;
            }
            let v = c.to_digit(16).ok_or_else(|| UuidError(s.into()))? as u8;
            let slot = out
                .get_mut(nibbles / 2)
                .ok_or_else(|| UuidError(s.into()))?;
            *slot = (*slot << 4) | v;
            nibbles += 1;
        }
        if nibbles != 32 {
            return Err(UuidError(s.into()));
        }
        Ok(Uuid(out))
    }
}

impl fmt::Display for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                f.write_str("-")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// A 48-bit Ethernet MAC address, formatted `aa:bb:cc:dd:ee:ff` in lower case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct MacAddr(pub [u8; 6]);

/// Error for a malformed MAC address text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed MAC address '{0}'")]
pub struct MacAddrError(pub String);

impl FromStr for MacAddr {
    type Err = MacAddrError;
    /// Six hex byte groups separated by `:` (or `-`), one or two digits each.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut out = [0u8; 6];
        let mut n = 0;
        for part in s.split([':', '-']) {
            if part.is_empty() || part.len() > 2 {
                return Err(MacAddrError(s.into()));
            }
            let v = u8::from_str_radix(part, 16).map_err(|_| MacAddrError(s.into()))?;
            *out.get_mut(n).ok_or_else(|| MacAddrError(s.into()))? = v;
            n += 1;
        }
        if n != 6 {
            return Err(MacAddrError(s.into()));
        }
        Ok(MacAddr(out))
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            b[0], b[1], b[2], b[3], b[4], b[5]
        )
    }
}

/// Highest CPU number a [`CpuSet`] accepts (libvirt's VIR_DOMAIN_CPUMASK_LEN - 1).
pub const CPUSET_MAX: u32 = 1023;

/// A set of host CPU numbers, written `0-2,5,7` (ranges, `^N` exclusions accepted on input).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CpuSet(pub BTreeSet<u32>);

/// Error for a malformed CPU set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed CPU set '{0}'")]
pub struct CpuSetError(pub String);

impl FromStr for CpuSet {
    type Err = CpuSetError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || CpuSetError(s.into());
        let mut set = BTreeSet::new();
        let mut excluded = BTreeSet::new();
        for part in s.split(',') {
            let part = part.trim();
            if let Some(neg) = part.strip_prefix('^') {
                excluded.insert(neg.trim().parse::<u32>().map_err(|_| err())?);
                continue;
            }
            let (lo, hi) = match part.split_once('-') {
                Some((a, b)) => (
                    a.trim().parse::<u32>().map_err(|_| err())?,
                    b.trim().parse::<u32>().map_err(|_| err())?,
                ),
                None => {
                    let v = part.parse::<u32>().map_err(|_| err())?;
                    (v, v)
                }
            };
            if lo > hi || hi > CPUSET_MAX {
                return Err(err());
            }
            set.extend(lo..=hi);
        }
        for e in excluded {
            set.remove(&e);
        }
        Ok(CpuSet(set))
    }
}

impl fmt::Display for CpuSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        let mut iter = self.0.iter().copied().peekable();
        while let Some(start) = iter.next() {
            let mut end = start;
            while iter.peek() == Some(&(end + 1)) {
                end += 1;
                iter.next();
            }
            if !first {
                f.write_str(",")?;
            }
            first = false;
            if start == end {
                write!(f, "{start}")?;
            } else {
                write!(f, "{start}-{end}")?;
            }
        }
        Ok(())
    }
}

/// Convert a value with a libvirt scale unit (`b`, `KB`, `KiB`, `k`, `M`, `GiB`, ...) to KiB,
/// rounding up. `None` means the default unit KiB. Returns `None` for an unknown unit or overflow.
pub fn scale_to_kib(value: u64, unit: Option<&str>) -> Option<u64> {
    let bytes: u128 = match unit {
        None => return Some(value),
        Some(u) => {
            let lower = u.to_ascii_lowercase();
            let (base, power) = match lower.as_str() {
                "b" | "bytes" => (1u128, 0u32),
                _ => {
                    let mut chars = lower.chars();
                    let p = match chars.next()? {
                        'k' => 1,
                        'm' => 2,
                        'g' => 3,
                        't' => 4,
                        'p' => 5,
                        'e' => 6,
                        _ => return None,
                    };
                    match chars.as_str() {
                        "" | "ib" => (1024u128, p),
                        "b" => (1000u128, p),
                        _ => return None,
                    }
                }
            };
            (value as u128).checked_mul(base.checked_pow(power)?)?
        }
    };
    u64::try_from(bytes.div_ceil(1024)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_round_trip() {
        let u: Uuid = "42359420-99dc-4261-5264-ba58ddae20e4".parse().unwrap();
        assert_eq!(u.to_string(), "42359420-99dc-4261-5264-ba58ddae20e4");
        let v: Uuid = "4235942099dc42615264ba58ddae20e4".parse().unwrap();
        assert_eq!(u, v);
        assert!("1234".parse::<Uuid>().is_err());
        assert!("zz359420-99dc-4261-5264-ba58ddae20e4"
            .parse::<Uuid>()
            .is_err());
    }

    #[test]
    fn mac_round_trip() {
        let m: MacAddr = "00:0C:29:dd:ee:fe".parse().unwrap();
        assert_eq!(m.to_string(), "00:0c:29:dd:ee:fe");
        assert!("00:0c:29:dd:ee".parse::<MacAddr>().is_err());
    }

    #[test]
    fn cpuset_ranges() {
        let c: CpuSet = "0,1,2,5,6,7".parse().unwrap();
        assert_eq!(c.to_string(), "0-2,5-7");
        let c: CpuSet = "0-4,^2".parse().unwrap();
        assert_eq!(c.to_string(), "0-1,3-4");
        assert!("5-1".parse::<CpuSet>().is_err());
    }

    #[test]
    fn scaling() {
        assert_eq!(scale_to_kib(4, Some("MiB")), Some(4096));
        assert_eq!(scale_to_kib(1, Some("b")), Some(1));
        assert_eq!(scale_to_kib(1, Some("MB")), Some(977));
        assert_eq!(scale_to_kib(7, None), Some(7));
        assert_eq!(scale_to_kib(7, Some("xx")), None);
    }
}
