//! The `<volume>` document (`virsh vol-dumpxml`): what libvirt's ESX driver writes for the
//! files of a datastore (`.vmdk` disks, ISO and floppy images) and for iSCSI LUNs, and what
//! `vol-create` accepts.

use std::fmt;
use std::str::FromStr;

use crate::error::{DomainXmlError, Result};
use crate::pool::{open_close, size_child, Permissions};
use crate::xml::{a, Checked, Element, Writer};

/// libvirt's storage file formats (`virStorageFileFormat`, without `none`), accepted in a
/// volume's `<target><format type>`.
pub const VOLUME_FORMATS: [&str; 16] = [
    "raw", "dir", "bochs", "cloop", "dmg", "iso", "vpc", "vdi", "fat", "vhd", "ploop", "cow",
    "qcow", "qcow2", "qed", "vmdk",
];

/// The `type` of a volume.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum VolumeType {
    /// A file (ESX datastore files).
    #[default]
    File,
    /// A block device (ESX iSCSI LUNs).
    Block,
    /// A directory.
    Dir,
    /// A network volume.
    Network,
    /// A network directory.
    Netdir,
    /// A ploop image.
    Ploop,
}

impl VolumeType {
    /// Every type, in libvirt's enum order.
    pub const ALL: [VolumeType; 6] = [
        VolumeType::File,
        VolumeType::Block,
        VolumeType::Dir,
        VolumeType::Network,
        VolumeType::Netdir,
        VolumeType::Ploop,
    ];

    /// The `type` attribute value.
    pub fn as_str(self) -> &'static str {
        match self {
            VolumeType::File => "file",
            VolumeType::Block => "block",
            VolumeType::Dir => "dir",
            VolumeType::Network => "network",
            VolumeType::Netdir => "netdir",
            VolumeType::Ploop => "ploop",
        }
    }
}

impl fmt::Display for VolumeType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for VolumeType {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        VolumeType::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| format!("unknown volume type '{s}'"))
    }
}

/// The `<target>` of a volume.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VolumeTarget {
    /// `<path>`: the datastore path (`[ds] dir/file.vmdk`) or the LUN's device path.
    pub path: Option<String>,
    /// `<format type>`: `vmdk`, `iso`, `raw`, ... Volumes of pools whose type has no file
    /// formats (iSCSI) have none; see [`crate::PoolType::volumes_have_format`].
    pub format: Option<String>,
    /// `<permissions>` (the ESX driver writes none for volumes).
    pub permissions: Option<Permissions>,
}

/// A libvirt storage volume description.
///
/// ```
/// use esx_domain::StorageVolume;
///
/// let vol = StorageVolume::esx_file(
///     "datastore1",
///     "web/web.vmdk",
///     "[datastore1] web/web.vmdk",
///     "vmdk",
///     10 << 30,
///     3 << 30,
/// );
/// let xml = vol.to_xml();
/// assert!(xml.contains("  <target>\n    <path>[datastore1] web/web.vmdk</path>\n    <format type='vmdk'/>\n  </target>\n"));
/// assert_eq!(StorageVolume::from_xml(&xml)?, vol);
/// # Ok::<(), esx_domain::DomainXmlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StorageVolume {
    /// `type` (default `file`).
    pub vol_type: VolumeType,
    /// `<name>`: for datastores `dir/file`, relative to the datastore.
    pub name: String,
    /// `<key>`: the virtual disk UUID on ESX, else the datastore path.
    pub key: Option<String>,
    /// `<capacity unit='bytes'>`.
    pub capacity: u64,
    /// `<allocation unit='bytes'>` (libvirt: equal to the capacity when absent).
    pub allocation: u64,
    /// `<physical unit='bytes'>`, written only when non-zero.
    pub physical: Option<u64>,
    /// `<target>`.
    pub target: VolumeTarget,
}

impl StorageVolume {
    /// A file of datastore `datastore` as the ESX driver describes it: the key (disk UUID
    /// or datastore path), `[datastore] name` as target path, and the file format (`vmdk`
    /// for disks with capacity = capacityKb × 1024 and allocation = file size; `iso`/`raw`
    /// images with both = file size).
    pub fn esx_file(
        datastore: &str,
        name: &str,
        key: &str,
        format: &str,
        capacity: u64,
        allocation: u64,
    ) -> StorageVolume {
        StorageVolume {
            vol_type: VolumeType::File,
            name: name.to_string(),
            key: Some(key.to_string()),
            capacity,
            allocation,
            physical: None,
            target: VolumeTarget {
                path: Some(format!("[{datastore}] {name}")),
                format: Some(format.to_string()),
                permissions: None,
            },
        }
    }

    /// Parse a `<volume>` document; unknown elements/attributes, unknown types and formats,
    /// a missing name or capacity and bad sizes are errors naming the line.
    pub fn from_xml(text: &str) -> Result<StorageVolume> {
        let root = Element::parse(text)?;
        if root.name != "volume" {
            return Err(DomainXmlError::WrongRoot {
                expected: "volume".into(),
                found: root.name,
            });
        }
        let c = Checked::new(&root);
        let vol_type = match c.attr("type") {
            Some(t) => t
                .parse()
                .map_err(|e: String| c.invalid(t, "attribute 'type'", &e))?,
            None => VolumeType::File,
        };
        let missing = |element: &str| DomainXmlError::MissingElement {
            element: element.into(),
            parent: "volume".into(),
            line: root.line,
        };
        let name = c
            .child_text("name")
            .map(|n| n.trim().to_string())
            .ok_or_else(|| missing("name"))?;
        let key = c.child_text("key").map(|k| k.trim().to_string());
        if let Some(s) = c.child("source") {
            // libvirt writes extents only for disk/logical pools; an empty block is accepted.
            s.finish()?;
        }
        let capacity = size_child(&c, "capacity")?.ok_or_else(|| missing("capacity"))?;
        let allocation = size_child(&c, "allocation")?.unwrap_or(capacity);
        let physical = size_child(&c, "physical")?.filter(|p| *p != 0);
        let target = match c.child("target") {
            Some(t) => parse_target(&t)?,
            None => VolumeTarget::default(),
        };
        c.finish()?;
        Ok(StorageVolume {
            vol_type,
            name,
            key,
            capacity,
            allocation,
            physical,
            target,
        })
    }

    /// Format as libvirt's `virStorageVolDefFormat` does.
    pub fn to_xml(&self) -> String {
        let mut w = Writer::new(0);
        let mut inner = w.nested();
        inner.text("name", vec![], &self.name);
        if let Some(k) = &self.key {
            inner.text("key", vec![], k);
        }
        inner.text(
            "capacity",
            vec![a("unit", "bytes")],
            &self.capacity.to_string(),
        );
        inner.text(
            "allocation",
            vec![a("unit", "bytes")],
            &self.allocation.to_string(),
        );
        if let Some(p) = self.physical.filter(|p| *p != 0) {
            inner.text("physical", vec![a("unit", "bytes")], &p.to_string());
        }
        let mut tw = inner.nested();
        if let Some(p) = &self.target.path {
            tw.text("path", vec![], p);
        }
        if let Some(f) = &self.target.format {
            tw.empty("format", vec![a("type", f)]);
        }
        if let Some(p) = &self.target.permissions {
            p.write(&mut tw);
        }
        open_close(&mut inner, "target", tw);
        w.elem("volume", vec![a("type", self.vol_type)], inner);
        w.buf
    }
}

fn parse_target(t: &Checked<'_>) -> Result<VolumeTarget> {
    let path = t.child_text("path").map(|p| p.trim().to_string());
    let format = match t.child("format") {
        Some(f) => {
            let v = f.req_attr("type")?;
            if !VOLUME_FORMATS.contains(&v) {
                return Err(f.invalid(v, "attribute 'type'", "unknown volume format type"));
            }
            f.finish()?;
            Some(v.to_string())
        }
        None => None,
    };
    let permissions = match t.child("permissions") {
        Some(p) => Some(Permissions::parse(&p)?),
        None => None,
    };
    t.finish()?;
    Ok(VolumeTarget {
        path,
        format,
        permissions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ESX_VMDK: &str = "<volume type='file'>\n  <name>web-01/web-01.vmdk</name>\n  <key>6000c29a-54be-5f6e-77d2-0c3b9a1e4f85</key>\n  <capacity unit='bytes'>17179869184</capacity>\n  <allocation unit='bytes'>4294967296</allocation>\n  <target>\n    <path>[datastore1] web-01/web-01.vmdk</path>\n    <format type='vmdk'/>\n  </target>\n</volume>\n";

    #[test]
    fn esx_vmdk_round_trip() {
        let v = StorageVolume::from_xml(ESX_VMDK).unwrap();
        assert_eq!(v.capacity, 16 << 30);
        assert_eq!(v.target.format.as_deref(), Some("vmdk"));
        assert_eq!(v.to_xml(), ESX_VMDK);
    }

    #[test]
    fn create_request_defaults() {
        let v = StorageVolume::from_xml(
            "<volume><name>new/new.vmdk</name><capacity unit='G'>8</capacity><target><format type='vmdk'/></target></volume>",
        )
        .unwrap();
        assert_eq!(v.vol_type, VolumeType::File);
        assert_eq!(v.capacity, 8 << 30);
        assert_eq!(v.allocation, v.capacity);
        assert_eq!(v.key, None);
        let xml = v.to_xml();
        assert!(xml.starts_with("<volume type='file'>\n  <name>new/new.vmdk</name>\n  <capacity unit='bytes'>8589934592</capacity>\n"), "{xml}");
    }

    #[test]
    fn iscsi_lun_has_no_format() {
        let v = StorageVolume {
            vol_type: VolumeType::Block,
            name: "vmhba33:C0:T0:L0".into(),
            key: Some("8f2d1c4e-6b3a-47d0-9e51-a2c7f0b38d16".into()),
            capacity: 1 << 40,
            allocation: 1 << 40,
            physical: None,
            target: VolumeTarget {
                path: Some("/vmfs/devices/disks/naa.600a0b80".into()),
                format: None,
                permissions: None,
            },
        };
        let xml = v.to_xml();
        assert!(
            xml.contains(
                "  <target>\n    <path>/vmfs/devices/disks/naa.600a0b80</path>\n  </target>\n"
            ),
            "{xml}"
        );
        assert_eq!(StorageVolume::from_xml(&xml).unwrap(), v);
    }

    #[test]
    fn precise_errors() {
        let err = |t: &str| StorageVolume::from_xml(t).unwrap_err().to_string();
        assert_eq!(
            err("<volume>\n<name>x</name></volume>"),
            "missing element <capacity> inside <volume> at line 1"
        );
        assert_eq!(
            err("<volume><capacity>1</capacity></volume>"),
            "missing element <name> inside <volume> at line 1"
        );
        assert_eq!(
            err("<volume type='tape'><name>x</name><capacity>1</capacity></volume>"),
            "invalid value 'tape' for attribute 'type' of <volume> at line 1: unknown volume type 'tape'"
        );
        assert_eq!(
            err("<volume><name>x</name><capacity>1</capacity>\n<target><format type='vmfs'/></target></volume>"),
            "invalid value 'vmfs' for attribute 'type' of <format> at line 2: unknown volume format type"
        );
        assert_eq!(
            err("<volume><name>x</name><capacity>-1</capacity></volume>"),
            "invalid value '-1' for text of <capacity> at line 1: malformed size (expected an unsigned integer)"
        );
        assert_eq!(
            err("<volume><name>x</name><capacity>1</capacity><target><encryption/></target></volume>"),
            "unsupported element <encryption> inside <target> at line 1"
        );
    }
}
