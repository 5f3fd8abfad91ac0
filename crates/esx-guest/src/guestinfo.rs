//! The `guestinfo.metadata` document of cloud-init's VMware datasource, as a second carrier of
//! the same NIC settings as `machine.id`.
//!
//! Layout (cloud-init's documented format; this module reads and writes this subset):
//!
//! * [`crate::keys::GUESTINFO_METADATA`] holds a YAML or JSON mapping,
//!   encoded as [`crate::keys::GUESTINFO_METADATA_ENCODING`] says:
//!   absent or empty for plain text, `base64`/`b64`, or `gzip+base64`/`gz+b64`.
//! * Top-level keys read: `instance-id`, `local-hostname` and `network`. `network` is a
//!   netplan version 2 mapping (`version: 2`, `ethernets: …`), also accepted nested under
//!   `network: {config: …}`, or as a string encoded as the sibling key `network.encoding` says.
//! * Per entry of `ethernets`: `match.macaddress` (required: the agent finds NICs by MAC),
//!   `addresses` (at most one IPv4 `address/prefix`; IPv6 entries are skipped), `gateway4` or
//!   a route to `default`/`0.0.0.0/0` (its `via` is the gateway), and
//!   `nameservers.addresses` (IPv4 entries; IPv6 ones are skipped). Other keys and other
//!   interface kinds (bonds, VLANs, …) are not read.
//!
//! Netplan has no broadcast address: a [`NicConfig::ipv4`]'s `broadcast` is not written by
//! [`format_metadata`] and reads back as `None` (the guest derives it from the netmask).
//! [`format_metadata`] writes JSON with one `ethernets` entry `nicN` per NIC, in order.

use std::io::Read as _;
use std::net::Ipv4Addr;

use base64::Engine as _;
use serde::ser::SerializeMap as _;
use serde::Serialize;
use yaml_rust2::{Yaml, YamlLoader};

use crate::keys::{
    ENCODING_BASE64, ENCODING_GZIP_BASE64, GUESTINFO_METADATA, GUESTINFO_METADATA_ENCODING,
};
use crate::nic::{Ipv4Config, MacAddr, Netmask, NicConfig};

/// The largest decoded document read (vSphere's limit for cloud-init metadata is 512 KiB).
pub const MAX_DOCUMENT_BYTES: usize = 1 << 20;

/// What cloud-init's metadata says about the instance and its NICs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GuestMetadata {
    /// `instance-id`.
    pub instance_id: Option<String>,
    /// `local-hostname`.
    pub local_hostname: Option<String>,
    /// The `ethernets` of `network`, in document order.
    pub nics: Vec<NicConfig>,
}

/// How a guestinfo value is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// The text itself.
    Plain,
    /// Base64 of the text.
    Base64,
    /// Base64 of the gzip-compressed text.
    GzipBase64,
}

impl Encoding {
    /// Reads an encoding key's value: empty, `base64`, `b64`, `gzip+base64` or `gz+b64`
    /// (surrounding white space and case are ignored).
    pub fn from_value(value: &str) -> Result<Self, GuestinfoError> {
        match value.trim().to_ascii_lowercase().as_str() {
            "" => Ok(Encoding::Plain),
            "base64" | "b64" => Ok(Encoding::Base64),
            "gzip+base64" | "gz+b64" => Ok(Encoding::GzipBase64),
            _ => Err(GuestinfoError::UnknownEncoding(value.trim().to_string())),
        }
    }

    /// The value to store in the encoding key (`""` for [`Encoding::Plain`]).
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Plain => "",
            Encoding::Base64 => ENCODING_BASE64,
            Encoding::GzipBase64 => ENCODING_GZIP_BASE64,
        }
    }
}

/// Why guestinfo metadata cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GuestinfoError {
    /// The encoding key names an encoding this crate does not know.
    #[error("unknown encoding {0:?} (expected base64 or gzip+base64)")]
    UnknownEncoding(String),
    /// The value is not valid base64.
    #[error("invalid base64: {0}")]
    Base64(String),
    /// The base64 content is not valid gzip.
    #[error("invalid gzip data: {0}")]
    Gzip(String),
    /// The decoded document is larger than [`MAX_DOCUMENT_BYTES`].
    #[error("document larger than {MAX_DOCUMENT_BYTES} bytes")]
    TooLarge,
    /// The decoded document is not UTF-8.
    #[error("document is not UTF-8")]
    NotUtf8,
    /// The document is not YAML (JSON is YAML).
    #[error("not YAML or JSON: {0}")]
    Syntax(String),
    /// A value in the document is missing or wrong; `path` is dotted (`network.ethernets.nic0`).
    #[error("{path}: {problem}")]
    Invalid {
        /// Where in the document.
        path: String,
        /// What is wrong.
        problem: String,
    },
}

fn invalid(path: &str, problem: impl Into<String>) -> GuestinfoError {
    GuestinfoError::Invalid {
        path: path.to_string(),
        problem: problem.into(),
    }
}

/// Decodes a guestinfo value stored with `encoding`.
pub fn decode(value: &str, encoding: Encoding) -> Result<String, GuestinfoError> {
    let base64 = |value: &str| {
        let compact: String = value.split_ascii_whitespace().collect();
        base64::engine::general_purpose::STANDARD
            .decode(compact)
            .map_err(|e| GuestinfoError::Base64(e.to_string()))
    };
    let bytes = match encoding {
        Encoding::Plain => value.as_bytes().to_vec(),
        Encoding::Base64 => base64(value)?,
        Encoding::GzipBase64 => {
            let compressed = base64(value)?;
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(compressed.as_slice())
                .take(MAX_DOCUMENT_BYTES as u64 + 1)
                .read_to_end(&mut out)
                .map_err(|e| GuestinfoError::Gzip(e.to_string()))?;
            out
        }
    };
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(GuestinfoError::TooLarge);
    }
    String::from_utf8(bytes).map_err(|_| GuestinfoError::NotUtf8)
}

/// Encodes `text` for a guestinfo key (gzip at the default level, no file name or time, so the
/// result depends only on `text`).
pub fn encode(text: &str, encoding: Encoding) -> String {
    let engine = base64::engine::general_purpose::STANDARD;
    match encoding {
        Encoding::Plain => text.to_string(),
        Encoding::Base64 => engine.encode(text),
        Encoding::GzipBase64 => {
            use std::io::Write as _;
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            // Writing to a Vec cannot fail.
            let _ = gz.write_all(text.as_bytes());
            engine.encode(gz.finish().unwrap_or_default())
        }
    }
}

/// Reads a metadata document (YAML or JSON, already decoded).
///
/// ```
/// let meta = esx_guest::guestinfo::parse_metadata(
///     "local-hostname: web1\n\
///      network:\n  version: 2\n  ethernets:\n    nic0:\n      match:\n        macaddress: '00:50:56:00:00:01'\n      addresses: [10.0.0.3/24]\n      gateway4: 10.0.0.1\n",
/// )?;
/// assert_eq!(meta.local_hostname.as_deref(), Some("web1"));
/// assert_eq!(meta.nics[0].ipv4.unwrap().gateway, Some([10, 0, 0, 1].into()));
/// # Ok::<(), esx_guest::guestinfo::GuestinfoError>(())
/// ```
pub fn parse_metadata(text: &str) -> Result<GuestMetadata, GuestinfoError> {
    let docs =
        YamlLoader::load_from_str(text).map_err(|e| GuestinfoError::Syntax(e.to_string()))?;
    let root = match docs.into_iter().next() {
        Some(root @ Yaml::Hash(_)) => root,
        Some(Yaml::Null) | None => return Ok(GuestMetadata::default()),
        Some(_) => return Err(invalid("(document)", "is not a mapping")),
    };
    let mut meta = GuestMetadata {
        instance_id: scalar_text(&root["instance-id"], "instance-id")?,
        local_hostname: scalar_text(&root["local-hostname"], "local-hostname")?,
        nics: Vec::new(),
    };
    let network = match &root["network"] {
        Yaml::BadValue | Yaml::Null => return Ok(meta),
        Yaml::String(text) => {
            let encoding = match scalar_text(&root["network.encoding"], "network.encoding")? {
                Some(value) => Encoding::from_value(&value)?,
                None => Encoding::Plain,
            };
            let decoded = decode(text, encoding)?;
            let mut docs = YamlLoader::load_from_str(&decoded)
                .map_err(|e| GuestinfoError::Syntax(format!("network: {e}")))?;
            if docs.is_empty() {
                return Ok(meta);
            }
            docs.swap_remove(0)
        }
        other => other.clone(),
    };
    let (network, path) = match &network["config"] {
        Yaml::BadValue => (&network, "network"),
        config => (config, "network.config"),
    };
    meta.nics = parse_network(network, path)?;
    Ok(meta)
}

fn scalar_text(value: &Yaml, path: &str) -> Result<Option<String>, GuestinfoError> {
    match value {
        Yaml::BadValue | Yaml::Null => Ok(None),
        Yaml::String(s) | Yaml::Real(s) => Ok(Some(s.clone())),
        Yaml::Integer(i) => Ok(Some(i.to_string())),
        Yaml::Boolean(b) => Ok(Some(b.to_string())),
        _ => Err(invalid(path, "is not a scalar")),
    }
}

fn parse_network(network: &Yaml, path: &str) -> Result<Vec<NicConfig>, GuestinfoError> {
    if !matches!(network, Yaml::Hash(_)) {
        return Err(invalid(path, "is not a mapping"));
    }
    match &network["version"] {
        Yaml::Integer(2) => {}
        Yaml::String(s) if s == "2" => {}
        Yaml::BadValue => return Err(invalid(&format!("{path}.version"), "is missing")),
        other => {
            let shown = scalar_text(other, path).ok().flatten().unwrap_or_default();
            return Err(invalid(
                &format!("{path}.version"),
                format!("{shown:?} is not supported (only netplan version 2)"),
            ));
        }
    }
    let ethernets = match &network["ethernets"] {
        Yaml::BadValue | Yaml::Null => return Ok(Vec::new()),
        Yaml::Hash(map) => map,
        _ => return Err(invalid(&format!("{path}.ethernets"), "is not a mapping")),
    };
    ethernets
        .iter()
        .map(|(id, entry)| {
            let id = scalar_text(id, path).ok().flatten().unwrap_or_default();
            parse_ethernet(entry, &format!("{path}.ethernets.{id}"))
        })
        .collect()
}

fn text_at<'a>(value: &'a Yaml, path: &str) -> Result<&'a str, GuestinfoError> {
    value
        .as_str()
        .ok_or_else(|| invalid(path, "is missing or not a string"))
}

fn list_at<'a>(value: &'a Yaml, path: &str) -> Result<&'a [Yaml], GuestinfoError> {
    match value {
        Yaml::BadValue | Yaml::Null => Ok(&[]),
        Yaml::Array(items) => Ok(items),
        _ => Err(invalid(path, "is not a list")),
    }
}

fn ipv4_at(value: &Yaml, path: &str) -> Result<Ipv4Addr, GuestinfoError> {
    let text = text_at(value, path)?;
    text.parse()
        .map_err(|_| invalid(path, format!("{text:?} is not an IPv4 address")))
}

fn parse_ethernet(entry: &Yaml, path: &str) -> Result<NicConfig, GuestinfoError> {
    let mac_path = format!("{path}.match.macaddress");
    let mac_text = text_at(&entry["match"]["macaddress"], &mac_path)
        .map_err(|_| invalid(&mac_path, "is missing (NICs are found by MAC address)"))?;
    let mac: MacAddr = mac_text
        .parse()
        .map_err(|_| invalid(&mac_path, format!("{mac_text:?} is not a MAC address")))?;

    let mut address = None;
    let addresses_path = format!("{path}.addresses");
    for (i, item) in list_at(&entry["addresses"], &addresses_path)?
        .iter()
        .enumerate()
    {
        let item_path = format!("{addresses_path}[{i}]");
        let text = text_at(item, &item_path)?;
        if text.contains(':') {
            continue; // IPv6: not carried.
        }
        let bad = || {
            invalid(
                &item_path,
                format!("{text:?} is not an IPv4 address/prefix"),
            )
        };
        let (addr, len) = text.split_once('/').ok_or_else(bad)?;
        let addr: Ipv4Addr = addr.parse().map_err(|_| bad())?;
        let len = len
            .parse::<u8>()
            .ok()
            .and_then(Netmask::from_prefix_len)
            .ok_or_else(bad)?;
        if address.replace((addr, len)).is_some() {
            return Err(invalid(
                &item_path,
                "a second IPv4 address is not supported",
            ));
        }
    }

    let mut gateway = match &entry["gateway4"] {
        Yaml::BadValue | Yaml::Null => None,
        value => Some(ipv4_at(value, &format!("{path}.gateway4"))?),
    };
    let routes_path = format!("{path}.routes");
    for (i, route) in list_at(&entry["routes"], &routes_path)?.iter().enumerate() {
        let route_path = format!("{routes_path}[{i}]");
        if !matches!(route["to"].as_str(), Some("default" | "0.0.0.0/0")) {
            continue;
        }
        let via = ipv4_at(&route["via"], &format!("{route_path}.via"))?;
        if gateway.is_some_and(|gw| gw != via) {
            return Err(invalid(&route_path, "a second IPv4 default gateway"));
        }
        gateway = Some(via);
    }

    let mut dns = Vec::new();
    let dns_path = format!("{path}.nameservers.addresses");
    for (i, item) in list_at(&entry["nameservers"]["addresses"], &dns_path)?
        .iter()
        .enumerate()
    {
        let item_path = format!("{dns_path}[{i}]");
        if text_at(item, &item_path)?.contains(':') {
            continue; // IPv6: not carried.
        }
        dns.push(ipv4_at(item, &item_path)?);
    }

    let ipv4 = match (address, gateway) {
        (Some((address, netmask)), gateway) => Some(Ipv4Config {
            address,
            netmask,
            gateway,
            broadcast: None,
        }),
        (None, Some(_)) => {
            return Err(invalid(path, "has an IPv4 gateway but no IPv4 address"));
        }
        (None, None) => None,
    };
    Ok(NicConfig { mac, ipv4, dns })
}

/// Writes metadata as the JSON document [`parse_metadata`] reads (broadcast addresses are
/// left out: netplan has none).
///
/// ```
/// use esx_guest::guestinfo::{format_metadata, parse_metadata, GuestMetadata};
///
/// let meta = GuestMetadata { local_hostname: Some("web1".into()), ..Default::default() };
/// assert_eq!(format_metadata(&meta), "{\n  \"local-hostname\": \"web1\"\n}");
/// assert_eq!(parse_metadata(&format_metadata(&meta)).unwrap(), meta);
/// ```
pub fn format_metadata(meta: &GuestMetadata) -> String {
    let doc = MetadataDoc {
        instance_id: meta.instance_id.as_deref(),
        local_hostname: meta.local_hostname.as_deref(),
        network: (!meta.nics.is_empty()).then_some(NetworkDoc {
            version: 2,
            ethernets: Ethernets(&meta.nics),
        }),
    };
    // Serializing these types to a String cannot fail.
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}

/// The `extraConfig` entries that carry `meta` to the guest: the document, gzip+base64, under
/// [`GUESTINFO_METADATA`], and its encoding under [`GUESTINFO_METADATA_ENCODING`].
pub fn extra_config(meta: &GuestMetadata) -> [(&'static str, String); 2] {
    let encoding = Encoding::GzipBase64;
    [
        (GUESTINFO_METADATA, encode(&format_metadata(meta), encoding)),
        (GUESTINFO_METADATA_ENCODING, encoding.as_str().to_string()),
    ]
}

#[derive(Serialize)]
struct MetadataDoc<'a> {
    #[serde(rename = "instance-id", skip_serializing_if = "Option::is_none")]
    instance_id: Option<&'a str>,
    #[serde(rename = "local-hostname", skip_serializing_if = "Option::is_none")]
    local_hostname: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    network: Option<NetworkDoc<'a>>,
}

#[derive(Serialize)]
struct NetworkDoc<'a> {
    version: u8,
    ethernets: Ethernets<'a>,
}

/// The NICs as a mapping `nic0`, `nic1`, … in order (a map type would sort `nic10` first).
struct Ethernets<'a>(&'a [NicConfig]);

impl Serialize for Ethernets<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (i, nic) in self.0.iter().enumerate() {
            map.serialize_entry(&format!("nic{i}"), &EthernetDoc::new(nic))?;
        }
        map.end()
    }
}

#[derive(Serialize)]
struct EthernetDoc {
    #[serde(rename = "match")]
    matches: MatchDoc,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    addresses: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    routes: Vec<RouteDoc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    nameservers: Option<NameserversDoc>,
}

#[derive(Serialize)]
struct MatchDoc {
    macaddress: String,
}

#[derive(Serialize)]
struct RouteDoc {
    to: &'static str,
    via: String,
}

#[derive(Serialize)]
struct NameserversDoc {
    addresses: Vec<String>,
}

impl EthernetDoc {
    fn new(nic: &NicConfig) -> Self {
        let v4 = nic.ipv4.as_ref();
        EthernetDoc {
            matches: MatchDoc {
                macaddress: nic.mac.to_string(),
            },
            addresses: v4.map(Ipv4Config::cidr).into_iter().collect(),
            routes: v4
                .and_then(|c| c.gateway)
                .map(|gw| RouteDoc {
                    to: "0.0.0.0/0",
                    via: gw.to_string(),
                })
                .into_iter()
                .collect(),
            nameservers: (!nic.dns.is_empty()).then(|| NameserversDoc {
                addresses: nic.dns.iter().map(Ipv4Addr::to_string).collect(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const NETPLAN_DOC: &str = "\
instance-id: i-0001
local-hostname: web1
network:
  version: 2
  ethernets:
    primary:
      match:
        macaddress: \"00:50:56:AA:00:01\"
      addresses:
        - 10.1.2.3/24
        - fd00::3/64
      routes:
        - to: 192.168.0.0/16
          via: 10.1.2.254
        - to: default
          via: 10.1.2.1
      nameservers:
        addresses: [10.1.2.53, \"fd00::53\", 9.9.9.9]
    backup:
      match: {macaddress: \"00:50:56:aa:00:02\"}
      dhcp4: true
";

    #[test]
    fn reads_netplan_v2() {
        let meta = parse_metadata(NETPLAN_DOC).unwrap();
        assert_eq!(meta.instance_id.as_deref(), Some("i-0001"));
        assert_eq!(meta.local_hostname.as_deref(), Some("web1"));
        assert_eq!(meta.nics.len(), 2);
        let v4 = meta.nics[0].ipv4.unwrap();
        assert_eq!(meta.nics[0].mac.to_string(), "00:50:56:aa:00:01");
        assert_eq!(v4.cidr(), "10.1.2.3/24");
        assert_eq!(v4.gateway, Some(Ipv4Addr::new(10, 1, 2, 1)));
        assert_eq!(v4.broadcast, None);
        assert_eq!(
            meta.nics[0].dns,
            [Ipv4Addr::new(10, 1, 2, 53), Ipv4Addr::new(9, 9, 9, 9)]
        );
        assert_eq!(meta.nics[1].ipv4, None);
    }

    #[test]
    fn network_nested_under_config_or_encoded() {
        let inner = "version: 2\nethernets:\n  a:\n    match:\n      macaddress: 00:50:56:aa:00:01\n    addresses: [10.0.0.2/8]\n";
        let nested = format!(
            "network:\n  config:\n{}",
            inner
                .lines()
                .map(|l| format!("    {l}\n"))
                .collect::<String>()
        );
        let expected = parse_metadata(&format!(
            "network:\n{}",
            inner
                .lines()
                .map(|l| format!("  {l}\n"))
                .collect::<String>()
        ))
        .unwrap();
        assert_eq!(expected.nics.len(), 1);
        assert_eq!(parse_metadata(&nested).unwrap(), expected);
        let encoded = format!(
            "network: {}\nnetwork.encoding: gz+b64\n",
            encode(inner, Encoding::GzipBase64)
        );
        assert_eq!(parse_metadata(&encoded).unwrap(), expected);
    }

    #[test]
    fn errors_name_the_path() {
        let cases = [
            ("network: {ethernets: {}}", "network.version: is missing"),
            (
                "network: {version: 1, config: []}",
                "network.config: is not a mapping",
            ),
            (
                "network: {version: 1}",
                "network.version: \"1\" is not supported (only netplan version 2)",
            ),
            (
                "network: {version: 2, ethernets: {e0: {dhcp4: true}}}",
                "network.ethernets.e0.match.macaddress: is missing (NICs are found by MAC address)",
            ),
            (
                "network: {version: 2, ethernets: {e0: {match: {macaddress: x}}}}",
                "network.ethernets.e0.match.macaddress: \"x\" is not a MAC address",
            ),
            (
                "network: {version: 2, ethernets: {e0: {match: {macaddress: '00:50:56:aa:00:01'}, addresses: [10.0.0.1/33]}}}",
                "network.ethernets.e0.addresses[0]: \"10.0.0.1/33\" is not an IPv4 address/prefix",
            ),
            (
                "network: {version: 2, ethernets: {e0: {match: {macaddress: '00:50:56:aa:00:01'}, addresses: [10.0.0.1/8, 10.0.0.2/8]}}}",
                "network.ethernets.e0.addresses[1]: a second IPv4 address is not supported",
            ),
            (
                "network: {version: 2, ethernets: {e0: {match: {macaddress: '00:50:56:aa:00:01'}, gateway4: 10.0.0.1}}}",
                "network.ethernets.e0: has an IPv4 gateway but no IPv4 address",
            ),
            (
                "network: {version: 2, ethernets: {e0: {match: {macaddress: '00:50:56:aa:00:01'}, nameservers: {addresses: [one]}}}}",
                "network.ethernets.e0.nameservers.addresses[0]: \"one\" is not an IPv4 address",
            ),
            ("[1, 2]", "(document): is not a mapping"),
        ];
        for (doc, message) in cases {
            assert_eq!(
                parse_metadata(doc).unwrap_err().to_string(),
                message,
                "{doc}"
            );
        }
        assert!(matches!(
            parse_metadata("network: {version: 2"),
            Err(GuestinfoError::Syntax(_))
        ));
    }

    #[test]
    fn encodings() {
        assert_eq!(Encoding::from_value(" GZ+B64\n"), Ok(Encoding::GzipBase64));
        assert_eq!(Encoding::from_value("b64"), Ok(Encoding::Base64));
        assert_eq!(Encoding::from_value(""), Ok(Encoding::Plain));
        assert_eq!(
            Encoding::from_value("rot13").unwrap_err().to_string(),
            "unknown encoding \"rot13\" (expected base64 or gzip+base64)"
        );
        for encoding in [Encoding::Plain, Encoding::Base64, Encoding::GzipBase64] {
            let text = "network:\n  version: 2\n";
            assert_eq!(decode(&encode(text, encoding), encoding).unwrap(), text);
        }
        // Line-wrapped base64 is accepted.
        assert_eq!(decode("aGVs\nbG8=\n", Encoding::Base64).unwrap(), "hello");
        assert!(matches!(
            decode("!!", Encoding::Base64),
            Err(GuestinfoError::Base64(_))
        ));
        assert!(matches!(
            decode("aGVsbG8=", Encoding::GzipBase64),
            Err(GuestinfoError::Gzip(_))
        ));
        let bomb = encode(&"a".repeat(MAX_DOCUMENT_BYTES + 1), Encoding::GzipBase64);
        assert_eq!(
            decode(&bomb, Encoding::GzipBase64),
            Err(GuestinfoError::TooLarge)
        );
    }

    #[test]
    fn extra_config_keys() {
        let meta = parse_metadata(NETPLAN_DOC).unwrap();
        let [(k1, v1), (k2, v2)] = extra_config(&meta);
        assert_eq!(
            (k1, k2, v2.as_str()),
            (
                GUESTINFO_METADATA,
                GUESTINFO_METADATA_ENCODING,
                "gzip+base64"
            )
        );
        let text = decode(&v1, Encoding::from_value(&v2).unwrap()).unwrap();
        assert_eq!(parse_metadata(&text).unwrap(), meta);
    }

    proptest! {
        #[test]
        fn format_then_parse_is_identity(
            nics in proptest::collection::vec(crate::nic::strategy::nic(false), 0..12),
            instance_id in proptest::option::of("\\PC{0,20}"),
            local_hostname in proptest::option::of("[a-z0-9.-]{1,20}"),
        ) {
            let meta = GuestMetadata { instance_id, local_hostname, nics };
            prop_assert_eq!(parse_metadata(&format_metadata(&meta)), Ok(meta));
        }

        #[test]
        fn random_documents_never_panic(text in "\\PC{0,200}") {
            let _ = parse_metadata(&text);
        }
    }
}
