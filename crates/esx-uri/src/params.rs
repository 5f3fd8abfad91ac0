//! The extra parameters of the query string (`?transport=http&no_verify=1...`).
//!
//! Names compare case-insensitively, values case-sensitively, and a later occurrence
//! overrides an earlier one, as in libvirt's `esxUtil_ParseUri`. Unlike libvirt, which only
//! warns, an unknown parameter is an error naming it.

use crate::error::UriError;

/// HTTP or HTTPS to the SOAP endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Transport {
    /// Plain HTTP.
    Http,
    /// HTTPS (the default).
    #[default]
    Https,
}

impl Transport {
    /// `http` or `https`.
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Http => "http",
            Transport::Https => "https",
        }
    }
}

impl std::fmt::Display for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `vcenter` parameter.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum VCenter {
    /// `*`: the vCenter that manages the host, whatever it is.
    Managing,
    /// A host name or IP address the managing vCenter must match.
    Host(String),
}

impl std::fmt::Display for VCenter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VCenter::Managing => f.write_str("*"),
            VCenter::Host(host) => f.write_str(host),
        }
    }
}

/// The kind of proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ProxyType {
    /// An HTTP proxy (the default).
    #[default]
    Http,
    /// SOCKS version 4.
    Socks4,
    /// SOCKS 4a (the proxy resolves names).
    Socks4a,
    /// SOCKS version 5 (`socks://` is the same).
    Socks5,
}

impl ProxyType {
    /// The scheme written before `://`.
    pub fn as_str(self) -> &'static str {
        match self {
            ProxyType::Http => "http",
            ProxyType::Socks4 => "socks4",
            ProxyType::Socks4a => "socks4a",
            ProxyType::Socks5 => "socks5",
        }
    }
}

/// The default proxy port.
pub const DEFAULT_PROXY_PORT: u16 = 1080;

/// The `proxy` parameter: `[type://][user@]hostname[:port]`.
///
/// `user@` is an esx extension (libvirt's proxies take no credentials): the user name for a
/// proxy that asks for one (HTTP `Proxy-Authorization: Basic`, SOCKS5 user/password), whose
/// password comes from auth.conf (`[auth-proxy-HOSTNAME]`) or the credential callback, never
/// from the URI.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Proxy {
    /// The proxy kind (default HTTP).
    pub proxy_type: ProxyType,
    /// The user name the proxy is given (percent-decoded), if any.
    pub username: Option<String>,
    /// Host name or address (IPv6 without brackets).
    pub hostname: String,
    /// Port (default 1080).
    pub port: u16,
}

impl Proxy {
    /// Parses the value of `proxy=` with libvirt's rules and messages.
    ///
    /// ```
    /// use esx_uri::{Proxy, ProxyType};
    /// let p = Proxy::parse("socks://proxy.example.com:23456")?;
    /// assert_eq!((p.proxy_type, p.hostname.as_str(), p.port), (ProxyType::Socks5, "proxy.example.com", 23456));
    /// assert_eq!(Proxy::parse("proxy")?.port, 1080);
    /// assert_eq!(Proxy::parse("http://alice@proxy:3128")?.username.as_deref(), Some("alice"));
    /// assert!(Proxy::parse("http://alice:secret@proxy:3128").is_err());
    /// # Ok::<(), esx_uri::UriError>(())
    /// ```
    pub fn parse(value: &str) -> Result<Proxy, UriError> {
        const PREFIXES: [(&str, ProxyType); 5] = [
            ("http://", ProxyType::Http),
            ("socks://", ProxyType::Socks5),
            ("socks5://", ProxyType::Socks5),
            ("socks4://", ProxyType::Socks4),
            ("socks4a://", ProxyType::Socks4a),
        ];
        let (proxy_type, rest) = match PREFIXES
            .iter()
            .find_map(|(prefix, kind)| value.strip_prefix(prefix).map(|rest| (*kind, rest)))
        {
            Some(found) => found,
            None => match value.find("://") {
                Some(at) => {
                    return Err(UriError::BadProxyType {
                        proxy_type: value.get(..at).unwrap_or_default().to_owned(),
                    })
                }
                None => (ProxyType::Http, value),
            },
        };
        let (username, rest) = match rest.rsplit_once('@') {
            None => (None, rest),
            Some((user, _)) if user.contains(':') => return Err(UriError::PasswordInUri),
            Some((user, rest)) => {
                let decoded = percent_encoding::percent_decode_str(user)
                    .decode_utf8()
                    .map_err(|_| UriError::BadPercentEncoding {
                        part: "proxy user name",
                        text: user.to_owned(),
                    })?;
                (Some(decoded.into_owned()).filter(|u| !u.is_empty()), rest)
            }
        };
        let (hostname, port) = split_host_port(rest);
        if hostname.is_empty() {
            return Err(UriError::ProxyWithoutHostname);
        }
        let port = match port {
            None => DEFAULT_PROXY_PORT,
            Some(text) => parse_c_int(text)
                .and_then(|n| u16::try_from(n).ok())
                .filter(|&n| n >= 1)
                .ok_or_else(|| UriError::BadProxyPort {
                    port: text.to_owned(),
                })?,
        };
        Ok(Proxy {
            proxy_type,
            username,
            hostname: hostname.to_owned(),
            port,
        })
    }
}

impl std::fmt::Display for Proxy {
    /// Always the explicit form `type://[user@]host:port`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}://", self.proxy_type.as_str())?;
        if let Some(user) = &self.username {
            let user = percent_encoding::utf8_percent_encode(user, crate::uri::USER);
            write!(f, "{user}@")?;
        }
        if self.hostname.contains(':') {
            write!(f, "[{}]:{}", self.hostname, self.port)
        } else {
            write!(f, "{}:{}", self.hostname, self.port)
        }
    }
}

/// Splits `host[:port]` or `[v6]:port`; the port is `None` without a `:`.
fn split_host_port(text: &str) -> (&str, Option<&str>) {
    if let Some(rest) = text.strip_prefix('[') {
        if let Some(end) = rest.find(']') {
            let host = rest.get(..end).unwrap_or_default();
            let after = rest.get(end + 1..).unwrap_or_default();
            return (
                host,
                after
                    .strip_prefix(':')
                    .or(if after.is_empty() { None } else { Some(after) }),
            );
        }
    }
    match text.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (text, None),
    }
}

/// The extra parameters as given; absent ones take the defaults through the accessors.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct ExtraParams {
    /// `transport=http|https`.
    pub transport: Option<Transport>,
    /// `vcenter=HOST|*`.
    pub vcenter: Option<VCenter>,
    /// `no_verify=0|1`: skip the server certificate check.
    pub no_verify: Option<bool>,
    /// `auto_answer=0|1`: answer VM questions with the default answer.
    pub auto_answer: Option<bool>,
    /// `proxy=[type://]host[:port]`.
    pub proxy: Option<Proxy>,
    /// `fingerprint=AA:BB:…` (an esx extension; libvirt has none): trust the server whose
    /// certificate has this SHA-256 fingerprint, even if no CA vouches for it. Normalised to
    /// upper-case hex pairs separated by colons.
    pub fingerprint: Option<String>,
}

/// Normalises a SHA-256 fingerprint (`aabb…`, `AA:BB:…`) to `AA:BB:…`.
pub fn parse_fingerprint(value: &str) -> Result<String, UriError> {
    let hex: String = value.chars().filter(|c| *c != ':').collect();
    if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(UriError::BadFingerprint {
            value: value.to_owned(),
        });
    }
    let upper = hex.to_ascii_uppercase();
    let pairs: Vec<&str> = (0..32).map(|i| &upper[2 * i..2 * i + 2]).collect();
    Ok(pairs.join(":"))
}

impl ExtraParams {
    /// Applies one `name=value` pair (name case-insensitive).
    pub fn apply(&mut self, name: &str, value: &str) -> Result<(), UriError> {
        if name.eq_ignore_ascii_case("transport") {
            self.transport = Some(match value {
                "http" => Transport::Http,
                "https" => Transport::Https,
                _ => {
                    return Err(UriError::BadTransport {
                        value: value.to_owned(),
                    })
                }
            });
        } else if name.eq_ignore_ascii_case("vcenter") {
            self.vcenter = Some(match value {
                "" => return Err(UriError::EmptyVCenter),
                "*" => VCenter::Managing,
                host => VCenter::Host(host.to_owned()),
            });
        } else if name.eq_ignore_ascii_case("no_verify") {
            self.no_verify = Some(parse_flag("no_verify", value)?);
        } else if name.eq_ignore_ascii_case("auto_answer") {
            self.auto_answer = Some(parse_flag("auto_answer", value)?);
        } else if name.eq_ignore_ascii_case("proxy") {
            self.proxy = Some(Proxy::parse(value)?);
        } else if name.eq_ignore_ascii_case("fingerprint") {
            self.fingerprint = Some(parse_fingerprint(value)?);
        } else {
            return Err(UriError::UnknownParameter {
                name: name.to_owned(),
            });
        }
        Ok(())
    }

    /// The transport (HTTPS unless `transport=http`).
    pub fn transport(&self) -> Transport {
        self.transport.unwrap_or_default()
    }

    /// Whether certificate checks are off (`no_verify=1`).
    pub fn no_verify(&self) -> bool {
        self.no_verify.unwrap_or(false)
    }

    /// Whether questions are answered automatically (`auto_answer=1`).
    pub fn auto_answer(&self) -> bool {
        self.auto_answer.unwrap_or(false)
    }

    /// The parameters that were given, in a fixed order, as (name, value).
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        let flag = |b: bool| if b { "1" } else { "0" }.to_owned();
        let mut pairs = Vec::new();
        if let Some(t) = self.transport {
            pairs.push(("transport", t.as_str().to_owned()));
        }
        if let Some(v) = &self.vcenter {
            pairs.push(("vcenter", v.to_string()));
        }
        if let Some(b) = self.no_verify {
            pairs.push(("no_verify", flag(b)));
        }
        if let Some(b) = self.auto_answer {
            pairs.push(("auto_answer", flag(b)));
        }
        if let Some(p) = &self.proxy {
            pairs.push(("proxy", p.to_string()));
        }
        if let Some(f) = &self.fingerprint {
            pairs.push(("fingerprint", f.clone()));
        }
        pairs
    }
}

fn parse_flag(name: &'static str, value: &str) -> Result<bool, UriError> {
    match parse_c_int(value) {
        Some(0) => Ok(false),
        Some(1) => Ok(true),
        _ => Err(UriError::BadFlag {
            name,
            value: value.to_owned(),
        }),
    }
}

/// libvirt's `virStrToLong_i` over a whole string: optional leading white space and sign,
/// then base-10 digits up to the end, within `i32`.
pub(crate) fn parse_c_int(text: &str) -> Option<i32> {
    let rest = text.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (negative, digits) = match rest.as_bytes().first() {
        Some(b'-') => (true, rest.get(1..)?),
        Some(b'+') => (false, rest.get(1..)?),
        _ => (false, rest),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let magnitude: i64 = digits.parse().ok()?;
    i32::try_from(if negative { -magnitude } else { magnitude }).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(name: &str, value: &str) -> Result<ExtraParams, UriError> {
        let mut p = ExtraParams::default();
        p.apply(name, value).map(|()| p)
    }

    #[test]
    fn libvirt_messages() {
        let msg = |name, value| apply(name, value).unwrap_err().to_string();
        assert_eq!(
            msg("transport", "HTTP"),
            "Query parameter 'transport' has unexpected value 'HTTP' (should be http|https)"
        );
        assert_eq!(
            msg("no_verify", "2"),
            "Query parameter 'no_verify' has unexpected value '2' (should be 0 or 1)"
        );
        assert_eq!(
            msg("Auto_Answer", "yes"),
            "Query parameter 'auto_answer' has unexpected value 'yes' (should be 0 or 1)"
        );
        assert_eq!(
            msg("proxy", "ftp://x:1"),
            "Query parameter 'proxy' contains unexpected type 'ftp' (should be (http|socks(|4|4a|5))"
        );
        assert_eq!(
            msg("proxy", ":8080"),
            "Query parameter 'proxy' doesn't contain a hostname"
        );
        assert_eq!(
            msg("proxy", "host:0"),
            "Query parameter 'proxy' has unexpected port value '0' (should be [1..65535])"
        );
        assert_eq!(
            msg("proxy", "host:65536"),
            "Query parameter 'proxy' has unexpected port value '65536' (should be [1..65535])"
        );
        assert_eq!(
            msg("colour", "red"),
            "Unexpected query parameter 'colour' (known: transport, vcenter, no_verify, auto_answer, proxy)"
        );
    }

    #[test]
    fn values() {
        assert_eq!(
            apply("TRANSPORT", "http").unwrap().transport(),
            Transport::Http
        );
        assert!(apply("no_verify", " 1").unwrap().no_verify());
        assert!(!apply("no_verify", "0").unwrap().no_verify());
        assert_eq!(
            apply("vcenter", "*").unwrap().vcenter,
            Some(VCenter::Managing)
        );
        let p = apply("proxy", "socks4a://[::1]:3128")
            .unwrap()
            .proxy
            .unwrap();
        assert_eq!(
            (p.proxy_type, p.hostname.as_str(), p.port),
            (ProxyType::Socks4a, "::1", 3128)
        );
        assert_eq!(p.to_string(), "socks4a://[::1]:3128");
        let p = Proxy::parse("http://proxy").unwrap();
        assert_eq!(p.to_string(), "http://proxy:1080");
        assert_eq!(
            Proxy::parse("socks4://p:9").unwrap().proxy_type,
            ProxyType::Socks4
        );
        assert_eq!(parse_c_int("+7"), Some(7));
        assert_eq!(parse_c_int("7x"), None);
    }

    #[test]
    fn fingerprint_parameter() {
        let hex = "ab".repeat(32);
        let mut p = ExtraParams::default();
        p.apply("FingerPrint", &hex).unwrap();
        let want = vec!["AB"; 32].join(":");
        assert_eq!(p.fingerprint.as_deref(), Some(want.as_str()));
        p.apply("fingerprint", &want.to_lowercase()).unwrap();
        assert_eq!(p.fingerprint.as_deref(), Some(want.as_str()));
        assert!(p.pairs().contains(&("fingerprint", want.clone())));
        for bad in ["", "ab", &"zz".repeat(32), &"ab".repeat(33)] {
            let e = ExtraParams::default()
                .apply("fingerprint", bad)
                .unwrap_err();
            assert!(e.to_string().contains("SHA-256"), "{e}");
        }
    }
}
