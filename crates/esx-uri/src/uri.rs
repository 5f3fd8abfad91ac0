//! `esx://`, `gsx://` and `vpx://` connection URIs.
//!
//! `type://[username@]hostname[:port]/[[folder/...]datacenter/[folder/...][cluster/]server][?extraparameters]`

use std::fmt;

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, CONTROLS};

use crate::error::UriError;
use crate::params::{ExtraParams, Transport};

/// Which kind of server the URI names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// An ESX/ESXi host.
    Esx,
    /// A GSX server (VMware Server 2.0).
    Gsx,
    /// A vCenter (VPX), with a path to the host.
    Vpx,
}

impl Scheme {
    /// `esx`, `gsx` or `vpx`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Esx => "esx",
            Scheme::Gsx => "gsx",
            Scheme::Vpx => "vpx",
        }
    }

    /// The scheme for a name, compared case-insensitively.
    pub fn from_name(name: &str) -> Option<Scheme> {
        [Scheme::Esx, Scheme::Gsx, Scheme::Vpx]
            .into_iter()
            .find(|s| s.as_str().eq_ignore_ascii_case(name))
    }

    /// The port used when the URI has none: 443/80 for esx and vpx, 8333/8222 for gsx.
    pub fn default_port(self, transport: Transport) -> u16 {
        match (self, transport) {
            (Scheme::Gsx, Transport::Https) => 8333,
            (Scheme::Gsx, Transport::Http) => 8222,
            (_, Transport::Https) => 443,
            (_, Transport::Http) => 80,
        }
    }

    /// The user name libvirt proposes when asking for one: `root` for esx and gsx,
    /// `administrator@vsphere.local` for a vCenter.
    pub fn default_username(self) -> &'static str {
        match self {
            Scheme::Vpx => "administrator@vsphere.local",
            _ => "root",
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Characters escaped in the user name: everything but unreserved characters.
pub(crate) const USER: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b':')
    .add(b';')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'@')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}')
    .add(b'&')
    .add(b'=')
    .add(b'+');
/// Characters escaped in path segments.
const PATH: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');
/// Characters escaped in query names and values.
const QUERY: &AsciiSet = &PATH.add(b'&').add(b'=').add(b';').add(b'+');

/// A parsed connection URI. [`fmt::Display`] writes it back in canonical form, and
/// parsing that form gives an equal value.
///
/// ```
/// use esx_uri::{EsxUri, Scheme, Transport};
/// let uri: EsxUri = "vpx://DOMAIN%5Cadmin@vc.example.com/dc1/cluster1/esx1?no_verify=1".parse()?;
/// assert_eq!(uri.scheme, Scheme::Vpx);
/// assert_eq!(uri.user.as_deref(), Some("DOMAIN\\admin"));
/// assert_eq!(uri.port(), 443);
/// assert_eq!(uri.path_items(), ["dc1", "cluster1", "esx1"]);
/// assert!(uri.params.no_verify());
/// assert_eq!(uri.soap_url(), "https://vc.example.com:443/sdk");
/// assert_eq!(uri.to_string(), "vpx://DOMAIN%5Cadmin@vc.example.com/dc1/cluster1/esx1?no_verify=1");
/// # Ok::<(), esx_uri::UriError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EsxUri {
    /// esx, gsx or vpx.
    pub scheme: Scheme,
    /// The user name, percent-decoded.
    pub user: Option<String>,
    /// Host name or IP address (an IPv6 address without brackets).
    pub host: String,
    /// The port as given.
    pub explicit_port: Option<u16>,
    /// The path, percent-decoded (`""`, `"/"` or `"/dc/host"`).
    pub path: String,
    /// The extra parameters.
    pub params: ExtraParams,
}

impl EsxUri {
    /// Parses a URI, validating every extra parameter.
    pub fn parse(text: &str) -> Result<EsxUri, UriError> {
        let (scheme_text, rest) = text
            .split_once("://")
            .filter(|(s, _)| !s.is_empty())
            .ok_or_else(|| UriError::MissingScheme {
                uri: text.to_owned(),
            })?;
        let scheme = parse_scheme(scheme_text)?;
        let (rest, fragment) = match rest.split_once('#') {
            Some((before, fragment)) => (before, Some(fragment)),
            None => (rest, None),
        };
        if let Some(fragment) = fragment {
            return Err(UriError::Fragment {
                fragment: fragment.to_owned(),
            });
        }
        let (rest, query) = match rest.split_once('?') {
            Some((before, query)) => (before, Some(query)),
            None => (rest, None),
        };
        let (authority, path) = match rest.find('/') {
            Some(at) => (
                rest.get(..at).unwrap_or_default(),
                rest.get(at..).unwrap_or_default(),
            ),
            None => (rest, ""),
        };
        let (user, hostport) = match authority.rsplit_once('@') {
            Some((user, hostport)) => (Some(user), hostport),
            None => (None, authority),
        };
        let user = match user {
            Some(user) if user.contains(':') => return Err(UriError::PasswordInUri),
            Some(user) => Some(decode("user name", user)?),
            None => None,
        };
        let (host, explicit_port) = parse_host_port(hostport)?;
        let path = decode("path", path)?;
        let mut params = ExtraParams::default();
        for pair in query.unwrap_or_default().split(['&', ';']) {
            if pair.is_empty() {
                continue;
            }
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let name = decode("query parameter name", name)?;
            let value = decode("query parameter value", value)?;
            params.apply(&name, &value)?;
        }
        Ok(EsxUri {
            scheme,
            user,
            host,
            explicit_port,
            path,
            params,
        })
    }

    /// The port to connect to: the explicit one, else the scheme's default for the transport.
    pub fn port(&self) -> u16 {
        self.explicit_port
            .unwrap_or_else(|| self.scheme.default_port(self.params.transport()))
    }

    /// The SOAP endpoint, `{transport}://{host}:{port}/sdk`.
    pub fn soap_url(&self) -> String {
        format!(
            "{}://{}:{}/sdk",
            self.params.transport(),
            bracket_host(&self.host),
            self.port()
        )
    }

    /// The non-empty `/`-separated items of the path (empty items collapse, as in libvirt).
    pub fn path_items(&self) -> Vec<&str> {
        self.path.split('/').filter(|s| !s.is_empty()).collect()
    }

    /// Whether the path names anything (not `""` nor `"/"`).
    pub fn has_path(&self) -> bool {
        !self.path.is_empty() && self.path != "/"
    }

    /// For vpx://, the path items, or libvirt's "Path has to specify the datacenter and
    /// compute resource" when there are none.
    pub fn vpx_path_items(&self) -> Result<Vec<&str>, UriError> {
        let items = self.path_items();
        if items.is_empty() {
            Err(UriError::MissingVpxPath)
        } else {
            Ok(items)
        }
    }

    /// Warnings libvirt logs for this URI (a path on esx:// or gsx://, which is ignored).
    pub fn warnings(&self) -> Vec<String> {
        if self.scheme != Scheme::Vpx && self.has_path() {
            vec![format!(
                "Ignoring unexpected path '{}' for non-vpx scheme '{}'",
                self.path, self.scheme
            )]
        } else {
            Vec::new()
        }
    }
}

impl std::str::FromStr for EsxUri {
    type Err = UriError;

    fn from_str(text: &str) -> Result<EsxUri, UriError> {
        EsxUri::parse(text)
    }
}

impl fmt::Display for EsxUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://", self.scheme)?;
        if let Some(user) = &self.user {
            write!(f, "{}@", utf8_percent_encode(user, USER))?;
        }
        f.write_str(&bracket_host(&self.host))?;
        if let Some(port) = self.explicit_port {
            write!(f, ":{port}")?;
        }
        write!(f, "{}", utf8_percent_encode(&self.path, PATH))?;
        let pairs = self.params.pairs();
        for (index, (name, value)) in pairs.iter().enumerate() {
            let sep = if index == 0 { '?' } else { '&' };
            write!(f, "{sep}{name}={}", utf8_percent_encode(value, QUERY))?;
        }
        Ok(())
    }
}

fn bracket_host(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_owned()
    }
}

fn parse_scheme(text: &str) -> Result<Scheme, UriError> {
    if let Some((base, transport)) = text.split_once('+') {
        if Scheme::from_name(base).is_some() {
            return Err(UriError::RemoteTransport {
                scheme: text.to_owned(),
                base: base.to_ascii_lowercase(),
                transport: transport.to_owned(),
            });
        }
    }
    Scheme::from_name(text).ok_or_else(|| UriError::UnsupportedScheme {
        scheme: text.to_owned(),
    })
}

fn decode(part: &'static str, text: &str) -> Result<String, UriError> {
    let bad = || UriError::BadPercentEncoding {
        part,
        text: text.to_owned(),
    };
    // Every `%` must start a `%XX` sequence.
    let bytes = text.as_bytes();
    for (i, _) in bytes.iter().enumerate().filter(|(_, &b)| b == b'%') {
        let hex = |j: usize| bytes.get(j).is_some_and(u8::is_ascii_hexdigit);
        if !hex(i + 1) || !hex(i + 2) {
            return Err(bad());
        }
    }
    percent_decode_str(text)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| bad())
}

fn parse_host_port(text: &str) -> Result<(String, Option<u16>), UriError> {
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or_else(|| UriError::InvalidServer {
                server: text.to_owned(),
            })?;
        if host.is_empty()
            || !host
                .chars()
                .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
        {
            return Err(UriError::InvalidServer {
                server: text.to_owned(),
            });
        }
        let port = match after {
            "" => None,
            _ => Some(
                after
                    .strip_prefix(':')
                    .ok_or_else(|| UriError::InvalidServer {
                        server: text.to_owned(),
                    })?,
            ),
        };
        (host.to_owned(), port)
    } else {
        let (host, port) = match text.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (text, None),
        };
        let host = decode("server", host)?;
        let valid = host
            .chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && !"/?#@[]:%\\".contains(c));
        if !host.is_empty() && !valid {
            return Err(UriError::InvalidServer {
                server: text.to_owned(),
            });
        }
        (host, port)
    };
    if host.is_empty() {
        return Err(UriError::MissingServer);
    }
    let port = match port {
        None => None,
        Some(p) => Some(
            p.parse::<u16>()
                .ok()
                .filter(|&n| n >= 1 && p.bytes().all(|b| b.is_ascii_digit()))
                .ok_or_else(|| UriError::InvalidPort { port: p.to_owned() })?,
        ),
    };
    Ok((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::{Proxy, ProxyType, VCenter};

    fn err(text: &str) -> String {
        EsxUri::parse(text).unwrap_err().to_string()
    }

    #[test]
    fn libvirt_examples() {
        let u = EsxUri::parse("vpx://example-vcenter.com/dc1/srv1").unwrap();
        assert_eq!(
            (u.scheme, u.host.as_str(), u.port()),
            (Scheme::Vpx, "example-vcenter.com", 443)
        );
        assert_eq!(u.vpx_path_items().unwrap(), ["dc1", "srv1"]);
        let u = EsxUri::parse("gsx://example-gsx.com").unwrap();
        assert_eq!(u.port(), 8333);
        assert_eq!(u.soap_url(), "https://example-gsx.com:8333/sdk");
        let u = EsxUri::parse("gsx://example-gsx.com/?transport=http").unwrap();
        assert_eq!(u.port(), 8222);
        let u = EsxUri::parse("esx://example-esx.com/?transport=http").unwrap();
        assert_eq!(u.soap_url(), "http://example-esx.com:80/sdk");
        let u = EsxUri::parse(
            "esx://example.com/?no_verify=1&auto_answer=1&proxy=socks://example-proxy.com:23456",
        )
        .unwrap();
        assert!(u.params.no_verify() && u.params.auto_answer());
        assert_eq!(
            u.params.proxy,
            Some(Proxy {
                proxy_type: ProxyType::Socks5,
                username: None,
                hostname: "example-proxy.com".into(),
                port: 23456
            })
        );
        let u = EsxUri::parse("ESX://root@[fe80::1]:8443/?vcenter=*").unwrap();
        assert_eq!(u.host, "fe80::1");
        assert_eq!(u.soap_url(), "https://[fe80::1]:8443/sdk");
        assert_eq!(u.params.vcenter, Some(VCenter::Managing));
        assert_eq!(u.to_string(), "esx://root@[fe80::1]:8443/?vcenter=*");
    }

    #[test]
    fn user_names_are_percent_decoded() {
        let u = EsxUri::parse("vpx://user%40vsphere.local@vc/dc/h").unwrap();
        assert_eq!(u.user.as_deref(), Some("user@vsphere.local"));
        assert_eq!(u.to_string(), "vpx://user%40vsphere.local@vc/dc/h");
        let u = EsxUri::parse("vpx://a@b@vc/dc/h").unwrap();
        assert_eq!(u.user.as_deref(), Some("a@b"));
        let u = EsxUri::parse("vpx://vc/My%20DC/host").unwrap();
        assert_eq!(u.path_items(), ["My DC", "host"]);
    }

    #[test]
    fn warnings_and_errors() {
        let u = EsxUri::parse("esx://h/dc/x").unwrap();
        assert_eq!(
            u.warnings(),
            ["Ignoring unexpected path '/dc/x' for non-vpx scheme 'esx'"]
        );
        assert_eq!(
            EsxUri::parse("vpx://vc/")
                .unwrap()
                .vpx_path_items()
                .unwrap_err()
                .to_string(),
            "Path has to specify the datacenter and compute resource"
        );
        assert!(err("esx+ssh://example.com/").contains("client-side only"));
        assert!(matches!(
            EsxUri::parse("vpx+tls://vc/"),
            Err(UriError::RemoteTransport { .. })
        ));
        assert!(matches!(
            EsxUri::parse("GSX+tcp://vc/"),
            Err(UriError::RemoteTransport { .. })
        ));
        assert_eq!(
            err("qemu:///system"),
            "Unsupported URI scheme 'qemu' (expected esx, gsx or vpx)"
        );
        assert_eq!(err("esx:///"), "URI is missing the server part");
        assert_eq!(
            err("esx://h:0/"),
            "URI has an invalid port '0' (should be [1..65535])"
        );
        assert_eq!(
            err("esx://h:x/"),
            "URI has an invalid port 'x' (should be [1..65535])"
        );
        assert_eq!(
            err("esx://h:+1/"),
            "URI has an invalid port '+1' (should be [1..65535])"
        );
        assert!(matches!(
            EsxUri::parse("esx://u:p@h/"),
            Err(UriError::PasswordInUri)
        ));
        assert!(matches!(
            EsxUri::parse("esx://h/#x"),
            Err(UriError::Fragment { .. })
        ));
        assert!(matches!(
            EsxUri::parse("esx://u%zz@h/"),
            Err(UriError::BadPercentEncoding {
                part: "user name",
                ..
            })
        ));
        assert!(matches!(
            EsxUri::parse("example.com"),
            Err(UriError::MissingScheme { .. })
        ));
        assert_eq!(
            err("esx://h/?transport=ftp"),
            "Query parameter 'transport' has unexpected value 'ftp' (should be http|https)"
        );
        assert!(err("esx://h/?foo=1").contains("'foo'"));
    }
}
