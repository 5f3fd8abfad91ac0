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
    /// libvirt's `virUUIDParse`: 32 hex digits in pairs, with `-` or ` ` allowed between
    /// pairs (not inside one), ASCII white space allowed before and after.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || UuidError(s.into());
        let bytes = s.as_bytes();
        let mut i = 0;
        while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        let mut out = [0u8; 16];
        let mut n = 0;
        while n < 16 {
            match bytes.get(i) {
                None => return Err(err()),
                Some(b'-' | b' ') => i += 1,
                Some(&hi) => {
                    let hi = hex_digit(hi).ok_or_else(err)?;
                    let lo = bytes
                        .get(i + 1)
                        .copied()
                        .and_then(hex_digit)
                        .ok_or_else(err)?;
                    if let Some(slot) = out.get_mut(n) {
                        *slot = hi * 16 + lo;
                    }
                    n += 1;
                    i += 2;
                }
            }
        }
        if bytes
            .get(i..)
            .unwrap_or_default()
            .iter()
            .all(u8::is_ascii_whitespace)
        {
            Ok(Uuid(out))
        } else {
            Err(err())
        }
    }
}

fn hex_digit(b: u8) -> Option<u8> {
    char::from(b)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
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
    /// libvirt's `virMacAddrParse`: six groups of one or two hex digits separated by `:`;
    /// after the last group the text ends or goes on with a byte at or below `' '` (or a
    /// non-ASCII byte, which C compares as negative).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || MacAddrError(s.into());
        let bytes = s.as_bytes();
        let mut out = [0u8; 6];
        let mut i = 0;
        for n in 0..6 {
            let start = i;
            let mut value: u32 = 0;
            while let Some(d) = bytes.get(i).copied().and_then(hex_digit) {
                value = value.saturating_mul(16).saturating_add(u32::from(d));
                i += 1;
            }
            let len = i - start;
            if len == 0 || len > 2 {
                return Err(err());
            }
            if let Some(slot) = out.get_mut(n) {
                *slot = u8::try_from(value).map_err(|_| err())?;
            }
            let next = bytes.get(i).copied();
            if n == 5 {
                return match next {
                    None => Ok(MacAddr(out)),
                    Some(b) if b <= b' ' || b >= 0x80 => Ok(MacAddr(out)),
                    Some(_) => Err(err()),
                };
            }
            if next != Some(b':') {
                return Err(err());
            }
            i += 1;
        }
        Err(err())
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

/// Highest CPU number a [`CpuSet`] accepts (libvirt 11.3's VIR_DOMAIN_CPUMASK_LEN - 1).
pub const CPUSET_MAX: u32 = 16383;

/// A set of host CPU numbers, written `0-2,5,7` (ranges, `^N` exclusions accepted on input).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CpuSet(pub BTreeSet<u32>);

/// Error for a malformed CPU set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed CPU set '{0}'")]
pub struct CpuSetError(pub String);

/// ASCII white space as C's `isspace` sees it.
fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t'..=b'\r')
}

impl FromStr for CpuSet {
    type Err = CpuSetError;
    /// libvirt's `virBitmapParse`: `N`, `N-M` and `^N` items separated by commas, applied in
    /// order, white space allowed around numbers, CPU numbers up to [`CPUSET_MAX`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || CpuSetError(s.into());
        let b = s.as_bytes();
        let mut i = 0;
        let skip = |i: &mut usize| {
            while b.get(*i).copied().is_some_and(is_c_space) {
                *i += 1;
            }
        };
        // A number as strtol reads it after the caller's checks: digits only here.
        let number = |i: &mut usize| -> Option<u32> {
            let start = *i;
            while b.get(*i).is_some_and(u8::is_ascii_digit) {
                *i += 1;
            }
            let n: u64 = s.get(start..*i)?.parse().ok()?;
            u32::try_from(n).ok().filter(|n| *n <= CPUSET_MAX)
        };
        let mut set = BTreeSet::new();
        skip(&mut i);
        if i >= b.len() {
            return Err(err());
        }
        while i < b.len() {
            let neg = b.get(i) == Some(&b'^');
            if neg {
                i += 1;
            }
            if !b.get(i).is_some_and(u8::is_ascii_digit) {
                return Err(err());
            }
            let start = number(&mut i).ok_or_else(err)?;
            skip(&mut i);
            match b.get(i) {
                None | Some(b',') => {
                    if neg {
                        set.remove(&start);
                    } else {
                        set.insert(start);
                    }
                }
                Some(b'-') if !neg => {
                    i += 1;
                    skip(&mut i);
                    if !b.get(i).is_some_and(u8::is_ascii_digit) {
                        return Err(err());
                    }
                    let last = number(&mut i).ok_or_else(err)?;
                    if last < start {
                        return Err(err());
                    }
                    set.extend(start..=last);
                    skip(&mut i);
                }
                _ => return Err(err()),
            }
            match b.get(i) {
                Some(b',') => {
                    i += 1;
                    skip(&mut i);
                }
                None => break,
                _ => return Err(err()),
            }
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
        // libvirt's virMacAddrParse: colons only, one or two digits, trailing blanks allowed.
        assert!("00-0c-29-dd-ee-fe".parse::<MacAddr>().is_err());
        assert!("00:0c:29:dd:ee:fe:01".parse::<MacAddr>().is_err());
        assert!("000:0c:29:dd:ee:fe".parse::<MacAddr>().is_err());
        assert!(" 00:0c:29:dd:ee:fe".parse::<MacAddr>().is_err());
        assert_eq!(
            "0:c:29:d:e:f junk".parse::<MacAddr>().unwrap().to_string(),
            "00:0c:29:0d:0e:0f"
        );
    }

    #[test]
    fn uuid_like_vir_uuid_parse() {
        let want: Uuid = "564d9bef-acd9-b4e0-c8f0-aea8b9103515".parse().unwrap();
        for ok in [
            "56 4d 9b ef ac d9 b4 e0-c8 f0 ae a8 b9 10 35 15",
            " 564d9befacd9b4e0c8f0aea8b9103515\n",
            "56-4d--9b ef acd9b4e0c8f0aea8b9103515",
        ] {
            assert_eq!(ok.parse::<Uuid>().unwrap(), want, "{ok}");
        }
        for bad in [
            "5 64d9befacd9b4e0c8f0aea8b9103515",
            "564d9befacd9b4e0c8f0aea8b910351",
            "564d9befacd9b4e0c8f0aea8b910351500",
            "{564d9bef-acd9-b4e0-c8f0-aea8b9103515}",
        ] {
            assert!(bad.parse::<Uuid>().is_err(), "{bad}");
        }
    }

    #[test]
    fn cpuset_ranges() {
        let c: CpuSet = "0,1,2,5,6,7".parse().unwrap();
        assert_eq!(c.to_string(), "0-2,5-7");
        let c: CpuSet = "0-4,^2".parse().unwrap();
        assert_eq!(c.to_string(), "0-1,3-4");
        // Items apply in order, as in libvirt.
        let c: CpuSet = "^2,0-4".parse().unwrap();
        assert_eq!(c.to_string(), "0-4");
        let c: CpuSet = " 1 - 3 , 16383 ".parse().unwrap();
        assert_eq!(c.to_string(), "1-3,16383");
        for bad in ["5-1", "", "16384", "+1", "^1-2", "1 2", ","] {
            assert!(bad.parse::<CpuSet>().is_err(), "{bad}");
        }
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
