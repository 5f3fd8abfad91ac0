//! The guest's NICs, from `sys/class/net/<dev>/address` under the root (no ioctls).

use std::collections::HashMap;
use std::path::Path;

use crate::nic::{MacAddr, NicConfig};
use crate::render::Interface;

/// A network device of the guest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetDevice {
    /// The device name.
    pub name: String,
    /// Its MAC address.
    pub mac: MacAddr,
    /// Whether sysfs links it to hardware (`<dev>/device` exists), as opposed to a VLAN, bond
    /// or bridge that shows the same MAC.
    pub physical: bool,
}

/// Why the devices cannot be listed.
#[derive(Debug, thiserror::Error)]
#[error("cannot list network devices in {path}: {source}")]
pub struct SysfsError {
    /// The `sys/class/net` directory.
    pub path: String,
    /// The operating system's reason.
    #[source]
    pub source: std::io::Error,
}

/// Whether a device name is safe to put in a file name and a configuration file.
fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 15
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'@'))
}

/// The devices under `root`/sys/class/net with a non-zero Ethernet MAC address, sorted by name.
/// Devices whose address is unreadable, not an Ethernet MAC, all zeros (`lo`), or whose name
/// has characters other than letters, digits and `_-.@` are skipped.
pub fn list_devices(root: &Path) -> Result<Vec<NetDevice>, SysfsError> {
    let dir = root.join("sys/class/net");
    let err = |source| SysfsError {
        path: dir.display().to_string(),
        source,
    };
    let mut devices = Vec::new();
    for entry in std::fs::read_dir(&dir).map_err(err)? {
        let entry = entry.map_err(err)?;
        let Some(name) = entry.file_name().to_str().map(str::to_string) else {
            continue;
        };
        if !is_plain_name(&name) {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(entry.path().join("address")) else {
            continue;
        };
        let Ok(mac) = text.trim().parse::<MacAddr>() else {
            continue;
        };
        if !mac.is_zero() {
            let physical = entry.path().join("device").exists();
            devices.push(NetDevice {
                name,
                mac,
                physical,
            });
        }
    }
    devices.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(devices)
}

/// The outcome of matching NIC settings to devices.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Matching {
    /// Settings with their device, in the order of the settings.
    pub interfaces: Vec<Interface>,
    /// Settings whose MAC no device has.
    pub unmatched: Vec<MacAddr>,
    /// MACs several devices share, none of them the only physical one: (MAC, device names).
    pub ambiguous: Vec<(MacAddr, Vec<String>)>,
}

/// Finds each NIC's device by MAC. Where several devices share a MAC, the only one linked to
/// hardware wins; otherwise the MAC is ambiguous and the NIC is not configured.
pub fn match_devices(devices: &[NetDevice], nics: &[NicConfig]) -> Matching {
    let mut by_mac: HashMap<MacAddr, Vec<&NetDevice>> = HashMap::new();
    for device in devices {
        by_mac.entry(device.mac).or_default().push(device);
    }
    let mut matching = Matching::default();
    for nic in nics {
        let candidates = by_mac.get(&nic.mac).map(Vec::as_slice).unwrap_or(&[]);
        let physical: Vec<&NetDevice> = candidates.iter().copied().filter(|d| d.physical).collect();
        let chosen = match (candidates, physical.as_slice()) {
            ([], _) => {
                matching.unmatched.push(nic.mac);
                continue;
            }
            ([only], _) | (_, [only]) => only,
            _ => {
                let names = candidates.iter().map(|d| d.name.clone()).collect();
                matching.ambiguous.push((nic.mac, names));
                continue;
            }
        };
        matching.interfaces.push(Interface {
            device: chosen.name.clone(),
            nic: nic.clone(),
        });
    }
    matching
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_root(name: &str) -> std::path::PathBuf {
        let dir =
            std::env::temp_dir().join(format!("esx-guest-sysfs-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    fn add(root: &Path, dev: &str, address: &str, physical: bool) {
        let dir = root.join("sys/class/net").join(dev);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("address"), address).unwrap();
        if physical {
            std::fs::create_dir_all(dir.join("device")).unwrap();
        }
    }

    #[test]
    fn lists_and_matches() {
        let root = temp_root("match");
        add(&root, "lo", "00:00:00:00:00:00\n", false);
        add(&root, "eth0", "00:50:56:aa:00:01\n", true);
        add(&root, "eth0.100", "00:50:56:aa:00:01\n", false);
        add(&root, "eth1", "00:50:56:AA:00:02\n", false);
        add(
            &root,
            "ib0",
            "80:00:02:08:fe:80:00:00:00:00:00:00:00:00:00:00:00:00:00:01\n",
            true,
        );
        add(&root, "bond0", "00:50:56:aa:00:03\n", false);
        add(&root, "bond1", "00:50:56:aa:00:03\n", false);
        add(&root, "bad name", "00:50:56:aa:00:04\n", false);
        std::fs::create_dir_all(root.join("sys/class/net/noaddr")).unwrap();
        let devices = list_devices(&root).unwrap();
        let names: Vec<_> = devices.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["bond0", "bond1", "eth0", "eth0.100", "eth1"]);

        let nic = |mac: &str| NicConfig {
            mac: mac.parse().unwrap(),
            ipv4: None,
            dns: vec![],
        };
        let nics = [
            nic("00:50:56:aa:00:02"),
            nic("00:50:56:aa:00:01"),
            nic("00:50:56:aa:00:09"),
            nic("00:50:56:aa:00:03"),
        ];
        let m = match_devices(&devices, &nics);
        let matched: Vec<_> = m.interfaces.iter().map(|i| i.device.as_str()).collect();
        assert_eq!(matched, ["eth1", "eth0"]);
        assert_eq!(m.unmatched, ["00:50:56:aa:00:09".parse().unwrap()]);
        assert_eq!(m.ambiguous[0].1, ["bond0", "bond1"]);
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn missing_sysfs_is_an_error() {
        let root = temp_root("missing");
        let err = list_devices(&root).unwrap_err().to_string();
        assert!(err.starts_with("cannot list network devices in "), "{err}");
        assert!(err.contains("sys/class/net"), "{err}");
    }
}
