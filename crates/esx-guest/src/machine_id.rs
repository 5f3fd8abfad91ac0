//! The `machine.id` format of Nova's VMware driver (Diablo and later).
//!
//! One record per NIC, each record six fields joined by `;` and followed by `#`:
//!
//! ```text
//! MAC;IPv4 address;netmask;gateway;broadcast;DNS#
//! ```
//!
//! Nova writes one DNS server; the field may hold several joined by `,`. A NIC without IPv4
//! settings is `MAC;;;;;#`. As Nova's guest tool did, the reader splits the text on `#`, then
//! each piece on `;`, and takes every six fields of a piece as one record, so a piece may hold
//! several records; fields are trimmed, MACs are compared without regard to case, and the `#`
//! after the last record may be missing. Unlike that tool, a piece whose field count is not a
//! multiple of six is an error, not the silent end of the list, and every field is checked.
//! The Cactus driver's four-field record (no broadcast, no DNS) is therefore refused.

use std::fmt;
use std::net::Ipv4Addr;

use crate::nic::{Ipv4Config, MacAddr, Netmask, NicConfig};

/// The fields of a record, in their order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// 1: the MAC address.
    Mac,
    /// 2: the IPv4 address.
    Address,
    /// 3: the netmask.
    Netmask,
    /// 4: the gateway.
    Gateway,
    /// 5: the broadcast address.
    Broadcast,
    /// 6: the DNS servers.
    Dns,
}

impl Field {
    /// The field's 1-based position in a record.
    pub fn position(self) -> usize {
        self as usize + 1
    }

    fn name(self) -> &'static str {
        match self {
            Field::Mac => "MAC",
            Field::Address => "IPv4 address",
            Field::Netmask => "netmask",
            Field::Gateway => "gateway",
            Field::Broadcast => "broadcast",
            Field::Dns => "DNS",
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "field {} ({})", self.position(), self.name())
    }
}

/// What is wrong with one field's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Problem {
    /// A required field is empty.
    Empty,
    /// Not a MAC address.
    BadMac,
    /// Not a dotted-quad IPv4 address.
    BadIpv4,
    /// An IPv4 address whose one bits are not all leading.
    NotContiguous,
    /// Set although the record has no IPv4 address.
    WithoutAddress,
    /// Empty although the record has an IPv4 address.
    MissingForAddress,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Problem::Empty => "is empty",
            Problem::BadMac => "is not a MAC address (six hex pairs joined by ':')",
            Problem::BadIpv4 => "is not an IPv4 address",
            Problem::NotContiguous => "is not a contiguous netmask",
            Problem::WithoutAddress => "is set but the record has no IPv4 address",
            Problem::MissingForAddress => "is empty but the record has an IPv4 address",
        })
    }
}

/// Why a `machine.id` value cannot be read. Records are numbered from 1.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MachineIdError {
    /// The value is empty or only white space.
    #[error("machine.id is empty")]
    Empty,
    /// A `#`-separated piece does not hold a multiple of six `;`-separated fields.
    #[error(
        "machine.id record {record}: {fields} field(s) before the next '#', \
         expected a multiple of 6 (MAC;IP;netmask;gateway;broadcast;DNS)"
    )]
    FieldCount {
        /// The number of the first record of the piece.
        record: usize,
        /// How many fields the piece has.
        fields: usize,
    },
    /// One field has a wrong value.
    #[error("machine.id record {record}, {field}: {value:?} {problem}")]
    Field {
        /// The record's number.
        record: usize,
        /// Which field.
        field: Field,
        /// The field's text, trimmed (cut to 64 characters).
        value: String,
        /// What is wrong with it.
        problem: Problem,
    },
}

/// The longest field text quoted in an error.
const QUOTED_MAX: usize = 64;

fn field_error(record: usize, field: Field, value: &str, problem: Problem) -> MachineIdError {
    let value = match value.char_indices().nth(QUOTED_MAX) {
        Some((end, _)) => format!("{}...", &value[..end]),
        None => value.to_string(),
    };
    MachineIdError::Field {
        record,
        field,
        value,
        problem,
    }
}

/// Reads a `machine.id` value (surrounding white space, such as `vmtoolsd`'s newline, is
/// ignored) into one [`NicConfig`] per record, in order.
///
/// ```
/// let nics = esx_guest::parse_machine_id(
///     "02:16:3E:00:00:01;10.0.0.3;255.255.255.0;10.0.0.1;10.0.0.255;8.8.8.8#\n",
/// )?;
/// assert_eq!(nics[0].mac.to_string(), "02:16:3e:00:00:01");
/// assert_eq!(nics[0].ipv4.unwrap().cidr(), "10.0.0.3/24");
/// # Ok::<(), esx_guest::MachineIdError>(())
/// ```
pub fn parse_machine_id(text: &str) -> Result<Vec<NicConfig>, MachineIdError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(MachineIdError::Empty);
    }
    let body = text.strip_suffix('#').unwrap_or(text);
    let mut nics = Vec::new();
    for piece in body.split('#') {
        let fields: Vec<&str> = piece.split(';').map(str::trim).collect();
        if !fields.len().is_multiple_of(6) {
            return Err(MachineIdError::FieldCount {
                record: nics.len() + 1,
                fields: fields.len(),
            });
        }
        for record in fields.chunks_exact(6) {
            let number = nics.len() + 1;
            nics.push(parse_record(number, record)?);
        }
    }
    Ok(nics)
}

fn parse_record(number: usize, fields: &[&str]) -> Result<NicConfig, MachineIdError> {
    let err = |field: Field, problem| field_error(number, field, fields[field as usize], problem);
    let ipv4 = |field: Field| -> Result<Option<Ipv4Addr>, MachineIdError> {
        match fields[field as usize] {
            "" => Ok(None),
            text => text
                .parse()
                .map(Some)
                .map_err(|_| err(field, Problem::BadIpv4)),
        }
    };

    let mac = match fields[Field::Mac as usize] {
        "" => return Err(err(Field::Mac, Problem::Empty)),
        text => text
            .parse::<MacAddr>()
            .map_err(|_| err(Field::Mac, Problem::BadMac))?,
    };
    let address = ipv4(Field::Address)?;
    let netmask = match ipv4(Field::Netmask)? {
        None => None,
        Some(mask) => {
            Some(Netmask::try_from(mask).map_err(|_| err(Field::Netmask, Problem::NotContiguous))?)
        }
    };
    let gateway = ipv4(Field::Gateway)?;
    let broadcast = ipv4(Field::Broadcast)?;
    let mut dns = Vec::new();
    for server in fields[Field::Dns as usize].split(',').map(str::trim) {
        if !server.is_empty() {
            let addr = server
                .parse()
                .map_err(|_| field_error(number, Field::Dns, server, Problem::BadIpv4))?;
            dns.push(addr);
        }
    }

    let ipv4 = match (address, netmask) {
        (Some(address), Some(netmask)) => Some(Ipv4Config {
            address,
            netmask,
            gateway,
            broadcast,
        }),
        (Some(_), None) => return Err(err(Field::Netmask, Problem::MissingForAddress)),
        (None, _) => {
            let stray = [
                (Field::Netmask, netmask.is_some()),
                (Field::Gateway, gateway.is_some()),
                (Field::Broadcast, broadcast.is_some()),
            ];
            if let Some((field, _)) = stray.into_iter().find(|(_, set)| *set) {
                return Err(err(field, Problem::WithoutAddress));
            }
            None
        }
    };
    Ok(NicConfig { mac, ipv4, dns })
}

/// Writes NIC settings as a `machine.id` value that [`parse_machine_id`] reads back to the same
/// list: one record per NIC in order, each followed by `#`, DNS servers joined by `,`
/// (Nova itself writes only the first).
///
/// ```
/// use esx_guest::{format_machine_id, parse_machine_id, Ipv4Config, MacAddr, Netmask, NicConfig};
///
/// let nic = NicConfig {
///     mac: "de:ad:be:ef:00:00".parse()?,
///     ipv4: Some(Ipv4Config {
///         address: [192, 168, 0, 100].into(),
///         netmask: Netmask::from_prefix_len(24).unwrap(),
///         gateway: Some([192, 168, 0, 1].into()),
///         broadcast: Some([192, 168, 0, 255].into()),
///     }),
///     dns: vec![[192, 168, 0, 1].into()],
/// };
/// let text = format_machine_id(&[nic.clone()]);
/// assert_eq!(text, "de:ad:be:ef:00:00;192.168.0.100;255.255.255.0;192.168.0.1;192.168.0.255;192.168.0.1#");
/// assert_eq!(parse_machine_id(&text)?, vec![nic]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn format_machine_id(nics: &[NicConfig]) -> String {
    use std::fmt::Write as _;

    fn opt(value: Option<impl fmt::Display>) -> String {
        value.map(|v| v.to_string()).unwrap_or_default()
    }

    let mut out = String::new();
    for nic in nics {
        let dns: Vec<String> = nic.dns.iter().map(Ipv4Addr::to_string).collect();
        let v4 = nic.ipv4.as_ref();
        // Writing to a String cannot fail.
        let _ = write!(
            out,
            "{};{};{};{};{};{}#",
            nic.mac,
            opt(v4.map(|c| c.address)),
            opt(v4.map(|c| c.netmask)),
            opt(v4.and_then(|c| c.gateway)),
            opt(v4.and_then(|c| c.broadcast)),
            dns.join(","),
        );
    }
    out
}

/// The fuzz target's check, shared with the test that replays its seed corpus: bytes that are
/// UTF-8 parse without panicking, and whatever parses formats to a text that parses back to
/// the same NICs. Panics when the check fails.
#[doc(hidden)]
pub fn fuzz_check(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(nics) = parse_machine_id(text) {
        let formatted = format_machine_id(&nics);
        assert_eq!(
            parse_machine_id(&formatted).as_ref(),
            Ok(&nics),
            "{formatted:?}"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn record_error(text: &str) -> MachineIdError {
        parse_machine_id(text).expect_err(text)
    }

    #[test]
    fn nova_unit_test_value() {
        let nics = parse_machine_id(
            "DE:AD:BE:EF:00:00;192.168.0.100;255.255.255.0;192.168.0.1;192.168.0.255;192.168.0.1#",
        )
        .unwrap();
        assert_eq!(nics.len(), 1);
        let v4 = nics[0].ipv4.unwrap();
        assert_eq!(nics[0].mac.to_string(), "de:ad:be:ef:00:00");
        assert_eq!(v4.address, Ipv4Addr::new(192, 168, 0, 100));
        assert_eq!(v4.netmask.prefix_len(), 24);
        assert_eq!(v4.gateway, Some(Ipv4Addr::new(192, 168, 0, 1)));
        assert_eq!(v4.broadcast, Some(Ipv4Addr::new(192, 168, 0, 255)));
        assert_eq!(nics[0].dns, vec![Ipv4Addr::new(192, 168, 0, 1)]);
    }

    #[test]
    fn two_nics_second_without_dns_and_no_v4_nic() {
        let text = "02:16:3e:00:00:01;10.0.0.3;255.255.255.0;10.0.0.1;10.0.0.255;8.8.8.8#\
                    02:16:3e:00:00:02;192.168.5.7;255.255.255.0;192.168.5.1;192.168.5.255;#\
                    02:16:3e:00:00:03;;;;;#";
        let nics = parse_machine_id(text).unwrap();
        assert_eq!(nics.len(), 3);
        assert!(nics[1].dns.is_empty());
        assert_eq!(nics[2].ipv4, None);
        assert_eq!(format_machine_id(&nics), text);
    }

    #[test]
    fn accepted_variations() {
        let one = "02:16:3e:00:00:01;10.0.0.3;255.255.255.0;10.0.0.1;10.0.0.255;8.8.8.8#";
        let expected = parse_machine_id(one).unwrap();
        for text in [
            // June 2011: one record, no '#'.
            "02:16:3e:00:00:01;10.0.0.3;255.255.255.0;10.0.0.1;10.0.0.255;8.8.8.8",
            // vmtoolsd's newline, CRLF, spaces around fields.
            "02:16:3e:00:00:01;10.0.0.3;255.255.255.0;10.0.0.1;10.0.0.255;8.8.8.8#\r\n",
            " 02:16:3E:00:00:01 ; 10.0.0.3;255.255.255.0 ;10.0.0.1;10.0.0.255; 8.8.8.8 #",
        ] {
            assert_eq!(parse_machine_id(text).unwrap(), expected, "{text:?}");
        }
        // Two records in one piece, as the guest tool allowed.
        let joined = "02:16:3e:00:00:01;10.0.0.3;255.255.255.0;;;;02:16:3e:00:00:02;;;;;#";
        assert_eq!(parse_machine_id(joined).unwrap().len(), 2);
        // A DNS list, with an empty item.
        let dns = parse_machine_id("02:16:3e:00:00:01;;;;;8.8.8.8, 8.8.4.4,,#").unwrap();
        assert_eq!(dns[0].dns.len(), 2);
    }

    #[test]
    fn errors_name_record_and_field() {
        assert_eq!(record_error(""), MachineIdError::Empty);
        assert_eq!(record_error(" \n"), MachineIdError::Empty);
        assert_eq!(
            record_error("#"),
            MachineIdError::FieldCount {
                record: 1,
                fields: 1
            }
        );
        // Cactus: four fields.
        let cactus = record_error("02:16:3e:4f:5a:01;10.0.0.3;255.255.255.0;10.0.0.1");
        assert_eq!(
            cactus.to_string(),
            "machine.id record 1: 4 field(s) before the next '#', expected a multiple of 6 \
             (MAC;IP;netmask;gateway;broadcast;DNS)"
        );
        let ok = "02:16:3e:00:00:01;10.0.0.3;255.255.255.0;10.0.0.1;10.0.0.255;8.8.8.8#";
        assert_eq!(
            record_error(&format!("{ok}##")),
            MachineIdError::FieldCount {
                record: 2,
                fields: 1
            }
        );
        let cases = [
            (";;;;;#", Field::Mac, Problem::Empty),
            ("02:16:3e:00:00;;;;;#", Field::Mac, Problem::BadMac),
            (
                "02:16:3e:00:00:01;10.0.0.256;255.0.0.0;;;#",
                Field::Address,
                Problem::BadIpv4,
            ),
            (
                "02:16:3e:00:00:01;10.0.0.3;255.0.255.0;;;#",
                Field::Netmask,
                Problem::NotContiguous,
            ),
            (
                "02:16:3e:00:00:01;10.0.0.3;;;;#",
                Field::Netmask,
                Problem::MissingForAddress,
            ),
            (
                "02:16:3e:00:00:01;;255.0.0.0;;;#",
                Field::Netmask,
                Problem::WithoutAddress,
            ),
            (
                "02:16:3e:00:00:01;;;10.0.0.1;;#",
                Field::Gateway,
                Problem::WithoutAddress,
            ),
            (
                "02:16:3e:00:00:01;;;;10.0.0.255;#",
                Field::Broadcast,
                Problem::WithoutAddress,
            ),
            (
                "02:16:3e:00:00:01;10.0.0.3;255.0.0.0;gw;;#",
                Field::Gateway,
                Problem::BadIpv4,
            ),
            (
                "02:16:3e:00:00:01;10.0.0.3;255.0.0.0;;x;#",
                Field::Broadcast,
                Problem::BadIpv4,
            ),
            (
                "02:16:3e:00:00:01;;;;;8.8.8.8,dns#",
                Field::Dns,
                Problem::BadIpv4,
            ),
        ];
        for (text, field, problem) in cases {
            match record_error(&format!("{ok}{text}")) {
                MachineIdError::Field {
                    record: 2,
                    field: f,
                    problem: p,
                    ..
                } => assert_eq!((f, p), (field, problem), "{text}"),
                other => panic!("{text}: {other:?}"),
            }
        }
        assert_eq!(
            record_error("02:16:3e:00:00:01;10.0.0.3;255.0.255.0;;;#").to_string(),
            "machine.id record 1, field 3 (netmask): \"255.0.255.0\" is not a contiguous netmask"
        );
        assert_eq!(
            record_error("02:16:3e:00:00:01;;;;;8.8.8.8,dns#").to_string(),
            "machine.id record 1, field 6 (DNS): \"dns\" is not an IPv4 address"
        );
    }

    #[test]
    fn long_values_are_cut_in_errors() {
        let long = "x".repeat(1000);
        let err = record_error(&format!("{long};;;;;#")).to_string();
        assert!(err.len() < 200, "{err}");
        assert!(err.contains(&format!("\"{}...\"", "x".repeat(QUOTED_MAX))));
        // Cutting respects character boundaries.
        let wide = "é".repeat(100);
        let _ = record_error(&format!("{wide};;;;;#")).to_string();
    }

    proptest! {
        #[test]
        fn format_then_parse_is_identity(nics in proptest::collection::vec(crate::nic::strategy::nic(true), 1..5)) {
            let text = format_machine_id(&nics);
            prop_assert_eq!(parse_machine_id(&text), Ok(nics));
        }

        #[test]
        fn random_text_never_panics(text in "\\PC*") {
            let _ = parse_machine_id(&text);
            fuzz_check(text.as_bytes());
        }

        #[test]
        fn near_valid_text_never_panics(text in "[0-9a-fA-F:;#,. \n]{0,120}") {
            fuzz_check(text.as_bytes());
        }

        #[test]
        fn random_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..200)) {
            fuzz_check(&data);
        }
    }
}
