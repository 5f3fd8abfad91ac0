//! Generated VMs whose files are written on first use.
//!
//! A fresh data directory sized with `--inventory vm=10000` would otherwise need 40,000 file
//! system operations before the simulator could answer. Instead, the generated VMs are listed
//! in a manifest (`.esx-sim-generated` in the data directory, one line per VM) and kept in
//! memory; a VM's directory, `.vmx`, disk descriptor and sparse extent are written the first
//! time something needs them: a `/folder` request or a datastore browser search that reaches
//! its directory, a file or disk manager call on its path, a power-on, or any change saved to
//! its `.vmx`. A restart on the same data directory registers the `.vmx` files found on disk
//! and the manifest entries that have none yet; a VM that is destroyed or unregistered leaves
//! the manifest.

use std::path::{Path, PathBuf};

use crate::mo::virtual_machine::{uuid_from, vmx_uuid};

/// The manifest's file name inside the data directory.
pub const MANIFEST: &str = ".esx-sim-generated";

/// Capacity of each generated VM's disk.
pub const DISK_KB: i64 = 1024 * 1024;

/// One generated VM, as the manifest records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generated {
    /// The datastore (directory) name.
    pub datastore: String,
    /// The `.vmx` path relative to the datastore root (`vm1/vm1.vmx`).
    pub rel: String,
    /// Display name, also the directory and file stem.
    pub name: String,
    /// The network its NIC is attached to.
    pub network: String,
    /// Memory in MB.
    pub memory_mb: i64,
    /// Virtual CPUs.
    pub cpus: i64,
}

/// The disk a not yet written VM will get when its files are written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingDisk {
    /// The descriptor's path (`…/vm1/vm1.vmdk`).
    pub descriptor: PathBuf,
    /// Capacity in KB.
    pub capacity_kb: i64,
    /// `ddb.uuid` in the descriptor's spelling.
    pub uuid: String,
}

impl Generated {
    /// A generated VM `name` in `datastore`, at `name/name.vmx`.
    pub fn new(datastore: &str, name: &str, network: &str, memory_mb: i64, cpus: i64) -> Self {
        Generated {
            datastore: datastore.to_owned(),
            rel: format!("{name}/{name}.vmx"),
            name: name.to_owned(),
            network: network.to_owned(),
            memory_mb,
            cpus,
        }
    }

    /// The manifest line (tab-separated fields).
    pub fn line(&self) -> String {
        format!(
            "{}\t{}\t{}\t{}\t{}\t{}",
            self.datastore, self.rel, self.name, self.network, self.memory_mb, self.cpus
        )
    }

    /// Parses a manifest line; `None` for a malformed one (or one with a field that could
    /// escape the datastore).
    pub fn parse(line: &str) -> Option<Self> {
        let mut f = line.split('\t');
        let g = Generated {
            datastore: f.next()?.to_owned(),
            rel: f.next()?.to_owned(),
            name: f.next()?.to_owned(),
            network: f.next()?.to_owned(),
            memory_mb: f.next()?.parse().ok()?,
            cpus: f.next()?.parse().ok()?,
        };
        let plain = |s: &str| !s.is_empty() && !s.contains(['/', '\\', '"']) && s != "..";
        let ok = f.next().is_none()
            && plain(&g.datastore)
            && plain(&g.name)
            && !g.network.contains('"')
            && g.rel == format!("{0}/{0}.vmx", g.name);
        ok.then_some(g)
    }

    /// The `.vmx` text (its `uuid.location` matches `vmx_abs`, so no question is raised).
    pub fn vmx_text(&self, vmx_abs: &Path) -> String {
        crate::inventory::vmx_text(
            &self.name,
            &vmx_abs.to_string_lossy(),
            &self.network,
            self.memory_mb,
            self.cpus,
            &self.rel,
        )
    }

    /// The disk to write with the VM's files.
    pub fn disk(&self, vm_dir: &Path) -> PendingDisk {
        PendingDisk {
            descriptor: vm_dir.join(format!("{}.vmdk", self.name)),
            capacity_kb: DISK_KB,
            uuid: vmx_uuid(&uuid_from(&format!("disk:{}", self.rel))),
        }
    }
}

impl PendingDisk {
    /// Writes the descriptor and sparse extent unless a descriptor is already there.
    pub fn write(&self) -> std::io::Result<()> {
        if self.descriptor.exists() {
            return Ok(());
        }
        crate::files::create_disk(&self.descriptor, self.capacity_kb, "lsilogic", &self.uuid)
    }
}

/// The manifest's entries (none when it is absent or unreadable; malformed lines are skipped).
pub fn load(data_dir: &Path) -> Vec<Generated> {
    let Ok(text) = std::fs::read_to_string(data_dir.join(MANIFEST)) else {
        return Vec::new();
    };
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| match Generated::parse(l) {
            Some(g) => Some(g),
            None => {
                tracing::warn!(line = %l, "skipping malformed line in {MANIFEST}");
                None
            }
        })
        .collect()
}

/// Writes the manifest (atomically: a temporary file renamed over it); removes it when
/// `entries` is empty.
pub fn save<'a>(
    data_dir: &Path,
    entries: impl IntoIterator<Item = &'a Generated>,
) -> std::io::Result<()> {
    let path = data_dir.join(MANIFEST);
    let mut text = String::from("# esx-sim: generated VMs (files written on first use)\n");
    let mut any = false;
    for g in entries {
        any = true;
        text.push_str(&g.line());
        text.push('\n');
    }
    if !any {
        return match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        };
    }
    let tmp = data_dir.join(format!("{MANIFEST}.tmp"));
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, &path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_round_trip_and_refusals() {
        let g = Generated::new("datastore1", "vm01", "VM Network", 512, 2);
        assert_eq!(Generated::parse(&g.line()), Some(g.clone()));
        assert_eq!(Generated::parse("ds\t../x/x.vmx\t..\tnet\t1\t1"), None);
        assert_eq!(Generated::parse("ds\tother/vm.vmx\tvm\tnet\t1\t1"), None);
        assert_eq!(Generated::parse("ds\tvm/vm.vmx\tvm\tnet\tx\t1"), None);
        assert_eq!(
            Generated::parse("ds\tvm/vm.vmx\tvm\tnet\t1\t1\textra"),
            None
        );

        let dir = std::env::temp_dir().join(format!("esx-sim-lazy-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let h = Generated::new("datastore1", "vm02", "VM Network", 256, 1);
        save(&dir, [&g, &h]).unwrap();
        std::fs::write(
            dir.join(MANIFEST),
            std::fs::read_to_string(dir.join(MANIFEST)).unwrap() + "garbage line\n",
        )
        .unwrap();
        assert_eq!(load(&dir), vec![g, h]);
        save(&dir, []).unwrap();
        assert!(!dir.join(MANIFEST).exists());
        assert!(load(&dir).is_empty());
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn pending_disk_is_written_once() {
        let dir = std::env::temp_dir().join(format!("esx-sim-lazy-disk-{}", std::process::id()));
        let g = Generated::new("ds", "vm1", "VM Network", 256, 1);
        let d = g.disk(&dir.join("vm1"));
        d.write().unwrap();
        assert_eq!(crate::files::vmdk_capacity_kb(&d.descriptor), Some(DISK_KB));
        std::fs::write(dir.join("vm1/vm1-flat.vmdk"), b"data").unwrap();
        d.write().unwrap();
        assert_eq!(
            std::fs::read(dir.join("vm1/vm1-flat.vmdk")).unwrap(),
            b"data"
        );
        let _ = std::fs::remove_dir_all(dir);
    }
}
