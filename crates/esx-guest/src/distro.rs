//! Which network configuration a distribution reads, chosen from `/etc/os-release`.
//!
//! `ID` is looked at first, then each word of `ID_LIKE` in order; the first known name decides:
//!
//! | name (`ID` or in `ID_LIKE`) | `VERSION_ID` | files written | `--apply` runs |
//! |---|---|---|---|
//! | `rhel`, `centos`, `rocky`, `almalinux`, `ol`, `scientific` | below 8 | `/etc/sysconfig/network-scripts/ifcfg-<dev>` | `systemctl restart network` |
//! | the same | 8 and later, or none | the same | `systemctl restart NetworkManager` |
//! | `fedora` as `ID` | any | the same | `systemctl restart NetworkManager` |
//! | `fedora` in `ID_LIKE` | as for `rhel` | the same | as for `rhel` |
//! | `ubuntu` as `ID` | below 17.10 | `/etc/network/interfaces` | `ifdown --force <dev>` (failure ignored), `ifup <dev>` per NIC |
//! | `ubuntu` as `ID` | 17.10 and later, or none | `/etc/netplan/50-esx-guest.yaml` | `netplan apply` |
//! | `ubuntu` in `ID_LIKE` (derivatives, all based on 18.04 or later) | any | `/etc/netplan/50-esx-guest.yaml` | `netplan apply` |
//! | `debian` | any | `/etc/network/interfaces` | `ifdown --force <dev>` (failure ignored), `ifup <dev>` per NIC |
//! | anything else, when `systemd-networkd` is installed | any | `/etc/systemd/network/10-esx-guest-<dev>.network` | `networkctl reload` |
//!
//! Every family also gets `/etc/resolv.conf` (see [`crate::render`]). `systemd-networkd` is
//! installed when `usr/lib/systemd/systemd-networkd` or `lib/systemd/systemd-networkd` exists
//! under the root. Anything else is [`DistroError::Unsupported`].

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

/// The fields of an os-release file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OsRelease {
    fields: HashMap<String, String>,
}

impl OsRelease {
    /// Reads os-release text: `KEY=value` lines, values optionally in `"` or `'` quotes with
    /// `\` escapes inside double quotes; blank lines, comments and malformed lines are skipped.
    pub fn parse(text: &str) -> Self {
        let mut fields = HashMap::new();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                continue;
            }
            fields.insert(key.to_string(), unquote(value));
        }
        OsRelease { fields }
    }

    /// A field's value (`None` when absent).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields.get(key).map(String::as_str)
    }

    /// `ID`, lowercase (`linux` when absent, as the specification says).
    pub fn id(&self) -> String {
        self.get("ID").unwrap_or("linux").to_ascii_lowercase()
    }

    /// The words of `ID_LIKE`, lowercase.
    pub fn id_like(&self) -> Vec<String> {
        self.get("ID_LIKE")
            .unwrap_or("")
            .split_whitespace()
            .map(str::to_ascii_lowercase)
            .collect()
    }

    /// `PRETTY_NAME`, else `NAME VERSION_ID`, else `ID`.
    pub fn pretty_name(&self) -> String {
        if let Some(pretty) = self.get("PRETTY_NAME") {
            return pretty.to_string();
        }
        match (self.get("NAME"), self.get("VERSION_ID")) {
            (Some(name), Some(version)) => format!("{name} {version}"),
            (Some(name), None) => name.to_string(),
            _ => self.id(),
        }
    }
}

fn unquote(value: &str) -> String {
    let value = value.trim();
    let bytes = value.as_bytes();
    if bytes.len() >= 2 && bytes[0] == b'\'' && bytes[bytes.len() - 1] == b'\'' {
        return value[1..value.len() - 1].to_string();
    }
    if bytes.len() >= 2 && bytes[0] == b'"' && bytes[bytes.len() - 1] == b'"' {
        let mut out = String::new();
        let mut chars = value[1..value.len() - 1].chars();
        while let Some(c) = chars.next() {
            match (c, chars.clone().next()) {
                ('\\', Some(next @ ('"' | '\\' | '$' | '`'))) => {
                    out.push(next);
                    chars.next();
                }
                _ => out.push(c),
            }
        }
        return out;
    }
    value.to_string()
}

/// `VERSION_ID` as numbers: `"17.10"` is `[17, 10]`; reading stops at the first part that is
/// not a number.
fn version(os: &OsRelease) -> Option<Vec<u32>> {
    let text = os.get("VERSION_ID")?;
    let parts: Vec<u32> = text.split('.').map_while(|p| p.parse().ok()).collect();
    (!parts.is_empty()).then_some(parts)
}

/// Which configuration files the agent writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Renderer {
    /// Red Hat's `ifcfg-<dev>` files.
    Ifcfg,
    /// ifupdown's `/etc/network/interfaces`.
    Interfaces,
    /// A netplan YAML file.
    Netplan,
    /// systemd-networkd `.network` files.
    Networkd,
}

impl Renderer {
    /// A short name for reports: `ifcfg`, `interfaces`, `netplan`, `networkd`.
    pub fn name(self) -> &'static str {
        match self {
            Renderer::Ifcfg => "ifcfg",
            Renderer::Interfaces => "interfaces",
            Renderer::Netplan => "netplan",
            Renderer::Networkd => "networkd",
        }
    }
}

/// How `--apply` makes the distribution use the new files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Restart {
    /// `systemctl restart network` (initscripts, RHEL 7 and older).
    NetworkService,
    /// `systemctl restart NetworkManager`.
    NetworkManager,
    /// `ifdown --force <dev>` then `ifup <dev>` for each configured NIC.
    Ifupdown,
    /// `netplan apply`.
    NetplanApply,
    /// `networkctl reload`.
    NetworkctlReload,
}

/// The distribution's configuration style.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Distro {
    /// The os-release `PRETTY_NAME` (or what stands for it).
    pub name: String,
    /// Which files are written.
    pub renderer: Renderer,
    /// How they are applied.
    pub restart: Restart,
}

impl fmt::Display for Distro {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name, self.renderer.name())
    }
}

/// Why the distribution's configuration style cannot be chosen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DistroError {
    /// Neither `etc/os-release` nor `usr/lib/os-release` exists under the root.
    #[error("no os-release file under {0} (looked for etc/os-release and usr/lib/os-release)")]
    NoOsRelease(String),
    /// os-release names no supported distribution and systemd-networkd is not installed.
    #[error(
        "unsupported distribution {name:?} (ID={id:?}, ID_LIKE={id_like:?}): not a Red Hat, \
         Debian or Ubuntu family member, and systemd-networkd is not installed"
    )]
    Unsupported {
        /// `PRETTY_NAME`.
        name: String,
        /// `ID`.
        id: String,
        /// `ID_LIKE`.
        id_like: String,
    },
}

const RED_HAT: &[&str] = &["rhel", "centos", "rocky", "almalinux", "ol", "scientific"];

/// Chooses the configuration style from os-release fields (the table in the module
/// documentation); `has_networkd` says whether systemd-networkd is installed.
pub fn detect(os: &OsRelease, has_networkd: bool) -> Result<Distro, DistroError> {
    let id = os.id();
    let version = version(os);
    let below = |limit: &[u32]| version.as_deref().is_some_and(|v| v < limit);
    let choice = |renderer, restart| Distro {
        name: os.pretty_name(),
        renderer,
        restart,
    };
    let names =
        std::iter::once((id.clone(), true)).chain(os.id_like().into_iter().map(|n| (n, false)));
    for (name, is_id) in names {
        match name.as_str() {
            "fedora" if is_id => return Ok(choice(Renderer::Ifcfg, Restart::NetworkManager)),
            n if n == "fedora" || RED_HAT.contains(&n) => {
                let restart = if below(&[8]) {
                    Restart::NetworkService
                } else {
                    Restart::NetworkManager
                };
                return Ok(choice(Renderer::Ifcfg, restart));
            }
            "ubuntu" if is_id && below(&[17, 10]) => {
                return Ok(choice(Renderer::Interfaces, Restart::Ifupdown))
            }
            "ubuntu" => return Ok(choice(Renderer::Netplan, Restart::NetplanApply)),
            "debian" => return Ok(choice(Renderer::Interfaces, Restart::Ifupdown)),
            _ => {}
        }
    }
    if has_networkd {
        return Ok(choice(Renderer::Networkd, Restart::NetworkctlReload));
    }
    Err(DistroError::Unsupported {
        name: os.pretty_name(),
        id,
        id_like: os.get("ID_LIKE").unwrap_or("").to_string(),
    })
}

/// Where systemd-networkd's daemon is installed, relative to the root.
const NETWORKD_PATHS: [&str; 2] = [
    "usr/lib/systemd/systemd-networkd",
    "lib/systemd/systemd-networkd",
];

/// Reads the os-release file under `root` (`etc/os-release`, else `usr/lib/os-release`) and
/// chooses the configuration style.
pub fn detect_at(root: &Path) -> Result<Distro, DistroError> {
    let text = ["etc/os-release", "usr/lib/os-release"]
        .iter()
        .find_map(|p| read_under(root, Path::new(p)))
        .ok_or_else(|| DistroError::NoOsRelease(root.display().to_string()))?;
    let os = OsRelease::parse(&String::from_utf8_lossy(&text));
    let has_networkd = NETWORKD_PATHS.iter().any(|p| root.join(p).exists());
    detect(&os, has_networkd)
}

/// Reads `relative` under `root`, following symbolic links with absolute targets (such as
/// `etc/os-release -> /usr/lib/os-release`) under `root` too rather than on the host.
fn read_under(root: &Path, relative: &Path) -> Option<Vec<u8>> {
    let mut path = root.join(relative);
    for _ in 0..8 {
        match std::fs::read_link(&path) {
            Ok(target) => {
                path = match target.strip_prefix("/") {
                    Ok(inside) => root.join(inside),
                    Err(_) => path.parent()?.join(target),
                }
            }
            Err(_) => return std::fs::read(&path).ok(),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_quotes_and_escapes() {
        let os = OsRelease::parse(
            "# comment\nNAME=\"Rocky Linux\"\nID=rocky\nID_LIKE='rhel centos fedora'\n\
             VERSION_ID=\"9.3\"\nPRETTY_NAME=\"A \\\"quoted\\\" \\$name\"\nbad line\n=x\n",
        );
        assert_eq!(os.get("NAME"), Some("Rocky Linux"));
        assert_eq!(os.id(), "rocky");
        assert_eq!(os.id_like(), ["rhel", "centos", "fedora"]);
        assert_eq!(os.get("VERSION_ID"), Some("9.3"));
        assert_eq!(os.pretty_name(), "A \"quoted\" $name");
        assert_eq!(OsRelease::parse("").id(), "linux");
        assert_eq!(
            OsRelease::parse("NAME=Foo\nVERSION_ID=2").pretty_name(),
            "Foo 2"
        );
    }

    /// The module documentation's table, row by row: os-release lines (joined by `;`), whether
    /// systemd-networkd is installed, the files and the restart.
    const TABLE: &str = "
        ID=centos;ID_LIKE='rhel fedora';VERSION_ID='7'       | no  | ifcfg      | NetworkService
        ID='rhel';ID_LIKE='fedora';VERSION_ID='8.9'          | no  | ifcfg      | NetworkManager
        ID=rocky;ID_LIKE='rhel centos fedora';VERSION_ID=9.3 | yes | ifcfg      | NetworkManager
        ID=almalinux;VERSION_ID=9.4                          | no  | ifcfg      | NetworkManager
        ID=ol;ID_LIKE='fedora';VERSION_ID='7.9'              | no  | ifcfg      | NetworkService
        ID=fedora;VERSION_ID=39                              | yes | ifcfg      | NetworkManager
        ID=fedora;VERSION_ID=7                               | no  | ifcfg      | NetworkManager
        ID=amzn;ID_LIKE='centos rhel fedora';VERSION_ID='2'  | no  | ifcfg      | NetworkService
        ID=centos;ID_LIKE='rhel fedora'                      | no  | ifcfg      | NetworkManager
        ID=ubuntu;ID_LIKE=debian;VERSION_ID='14.04'          | no  | interfaces | Ifupdown
        ID=ubuntu;ID_LIKE=debian;VERSION_ID='17.04'          | yes | interfaces | Ifupdown
        ID=ubuntu;ID_LIKE=debian;VERSION_ID='17.10'          | no  | netplan    | NetplanApply
        ID=ubuntu;ID_LIKE=debian;VERSION_ID='22.04'          | yes | netplan    | NetplanApply
        ID=ubuntu                                            | no  | netplan    | NetplanApply
        ID=linuxmint;ID_LIKE='ubuntu debian';VERSION_ID=21.3 | no  | netplan    | NetplanApply
        ID=pop;ID_LIKE='ubuntu debian';VERSION_ID=16.04      | no  | netplan    | NetplanApply
        ID=debian;VERSION_ID='12'                            | yes | interfaces | Ifupdown
        ID=raspbian;ID_LIKE=debian                           | no  | interfaces | Ifupdown
        ID=photon;VERSION_ID=5.0                             | yes | networkd   | NetworkctlReload
        ID=arch                                              | yes | networkd   | NetworkctlReload
        ID='opensuse-leap';ID_LIKE='suse opensuse'           | yes | networkd   | NetworkctlReload
    ";

    #[test]
    fn distribution_table() {
        for row in TABLE.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let cells: Vec<&str> = row.split('|').map(str::trim).collect();
            let os = OsRelease::parse(&cells[0].replace(';', "\n"));
            let distro = detect(&os, cells[1] == "yes").unwrap();
            assert_eq!(distro.renderer.name(), cells[2], "{row}");
            assert_eq!(format!("{:?}", distro.restart), cells[3], "{row}");
        }
    }

    #[test]
    fn os_release_links_stay_under_the_root() {
        let root = std::env::temp_dir().join(format!("esx-guest-distro-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("etc")).unwrap();
        std::fs::create_dir_all(root.join("usr/lib")).unwrap();
        std::fs::write(root.join("usr/lib/os-release"), "ID=debian\n").unwrap();
        std::os::unix::fs::symlink("/usr/lib/os-release", root.join("etc/os-release")).unwrap();
        assert_eq!(detect_at(&root).unwrap().renderer, Renderer::Interfaces);
        std::fs::remove_file(root.join("etc/os-release")).unwrap();
        std::os::unix::fs::symlink("../usr/lib/os-release", root.join("etc/os-release")).unwrap();
        assert_eq!(detect_at(&root).unwrap().renderer, Renderer::Interfaces);
        std::fs::remove_file(root.join("etc/os-release")).unwrap();
        std::fs::remove_file(root.join("usr/lib/os-release")).unwrap();
        let err = detect_at(&root).unwrap_err().to_string();
        assert!(err.starts_with("no os-release file under "), "{err}");
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn unknown_without_networkd_is_an_error() {
        let os = OsRelease::parse("ID=alpine\nPRETTY_NAME=\"Alpine Linux v3.19\"");
        assert_eq!(
            detect(&os, false).unwrap_err().to_string(),
            "unsupported distribution \"Alpine Linux v3.19\" (ID=\"alpine\", ID_LIKE=\"\"): not a \
             Red Hat, Debian or Ubuntu family member, and systemd-networkd is not installed"
        );
    }
}
