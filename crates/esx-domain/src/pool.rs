//! The `<pool>` document (`virsh pool-dumpxml`): the storage pool types libvirt's ESX driver
//! produces — `dir` (local datastore), `fs` (VMFS), `netfs` (NFS/CIFS datastore), `iscsi`
//! (static iSCSI target) — and `logical`, with libvirt's per-type source rules and layout.

use std::fmt;
use std::str::FromStr;

use crate::error::{DomainXmlError, Result};
use crate::types::Uuid;
use crate::xml::{a, ao, escape, Checked, Element, Writer};

/// A storage pool type this model handles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PoolType {
    /// A directory (ESX: a local datastore).
    Dir,
    /// A mounted block device file system (ESX: a VMFS datastore, format `vmfs`).
    Fs,
    /// A network file system (ESX: an NFS or CIFS datastore).
    Netfs,
    /// An LVM volume group.
    Logical,
    /// An iSCSI target (ESX: a static target of the software iSCSI adapter).
    Iscsi,
}

/// Which `<source>` children a pool type has (libvirt's `VIR_STORAGE_POOL_SOURCE_*` flags).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct SourceParts {
    host: bool,
    device: bool,
    dir: bool,
    name: bool,
    initiator: bool,
}

impl PoolType {
    /// Every supported type, in libvirt's enum order.
    pub const ALL: [PoolType; 5] = [
        PoolType::Dir,
        PoolType::Fs,
        PoolType::Netfs,
        PoolType::Logical,
        PoolType::Iscsi,
    ];

    /// The `type` attribute value.
    pub fn as_str(self) -> &'static str {
        match self {
            PoolType::Dir => "dir",
            PoolType::Fs => "fs",
            PoolType::Netfs => "netfs",
            PoolType::Logical => "logical",
            PoolType::Iscsi => "iscsi",
        }
    }

    /// The source formats of this pool type (libvirt's enum for it), `[]` when it has none.
    pub fn source_formats(self) -> &'static [&'static str] {
        match self {
            PoolType::Fs => &[
                "auto", "ext2", "ext3", "ext4", "ufs", "iso9660", "udf", "gfs", "gfs2", "vfat",
                "hfs+", "xfs", "ocfs2", "vmfs",
            ],
            PoolType::Netfs => &["auto", "nfs", "glusterfs", "cifs"],
            PoolType::Logical => &["unknown", "lvm2"],
            PoolType::Dir | PoolType::Iscsi => &[],
        }
    }

    /// The source format libvirt assumes when `<format>` is absent (`None`: no format).
    pub fn default_source_format(self) -> Option<&'static str> {
        match self {
            PoolType::Fs | PoolType::Netfs => Some("auto"),
            PoolType::Logical => Some("lvm2"),
            PoolType::Dir | PoolType::Iscsi => None,
        }
    }

    /// Whether volumes of this pool type carry a `<format>` in their target (file formats).
    pub fn volumes_have_format(self) -> bool {
        matches!(self, PoolType::Dir | PoolType::Fs | PoolType::Netfs)
    }

    fn parts(self) -> SourceParts {
        match self {
            PoolType::Dir => SourceParts::default(),
            PoolType::Fs => SourceParts {
                device: true,
                ..SourceParts::default()
            },
            PoolType::Netfs => SourceParts {
                host: true,
                dir: true,
                ..SourceParts::default()
            },
            PoolType::Logical => SourceParts {
                name: true,
                device: true,
                ..SourceParts::default()
            },
            PoolType::Iscsi => SourceParts {
                host: true,
                device: true,
                initiator: true,
                ..SourceParts::default()
            },
        }
    }
}

impl fmt::Display for PoolType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PoolType {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        PoolType::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| format!("unsupported storage pool type '{s}'"))
    }
}

/// A `<host>` of a pool source.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PoolSourceHost {
    /// `name`: DNS name or IP address.
    pub name: String,
    /// `port`, left out when absent or 0.
    pub port: Option<u16>,
}

/// The `<source>` of a pool. Only the parts the pool type has are written.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PoolSource {
    /// `<host>` elements (netfs, iscsi).
    pub hosts: Vec<PoolSourceHost>,
    /// `<device path>` elements (fs, logical, iscsi).
    pub devices: Vec<String>,
    /// `<dir path>` (netfs).
    pub dir: Option<String>,
    /// `<name>` (logical; defaults to the pool name).
    pub name: Option<String>,
    /// `<initiator><iqn name>` (iscsi).
    pub initiator_iqn: Option<String>,
    /// `<format type>`; [`PoolType::default_source_format`] is written when `None`.
    pub format: Option<String>,
    /// `<vendor name>`.
    pub vendor: Option<String>,
    /// `<product name>`.
    pub product: Option<String>,
}

/// `<permissions>` of a pool or volume target.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Permissions {
    /// `<mode>`, written in octal with a leading 0 (`00`, `0755`).
    pub mode: Option<u32>,
    /// `<owner>` uid.
    pub owner: Option<u32>,
    /// `<group>` gid.
    pub group: Option<u32>,
    /// `<label>` (security label).
    pub label: Option<String>,
}

impl Permissions {
    /// What libvirt's ESX driver writes for every datastore: its zero-filled pool definition
    /// gives mode 00, owner 0 and group 0.
    pub fn esx_zeroed() -> Self {
        Permissions {
            mode: Some(0),
            owner: Some(0),
            group: Some(0),
            label: None,
        }
    }

    /// Parse a `<permissions>` element.
    pub(crate) fn parse(c: &Checked<'_>) -> Result<Permissions> {
        let mut p = Permissions::default();
        if let Some(m) = c.child("mode") {
            let t = m.text().trim();
            let mode = u32::from_str_radix(t, 8)
                .ok()
                .filter(|v| v & !0o777 == 0)
                .ok_or_else(|| m.invalid(t, "text", "malformed octal mode"))?;
            p.mode = Some(mode);
            m.finish()?;
        }
        for (name, slot) in [("owner", &mut p.owner), ("group", &mut p.group)] {
            if let Some(e) = c.child(name) {
                let t = e.text().trim();
                *slot =
                    match t {
                        "-1" => None,
                        _ => Some(t.parse().map_err(|_| {
                            e.invalid(t, "text", "expected an unsigned integer or -1")
                        })?),
                    };
                e.finish()?;
            }
        }
        if let Some(l) = c.child("label") {
            p.label = Some(l.text().to_string());
            l.finish()?;
        }
        c.finish()?;
        Ok(p)
    }

    /// Write `<permissions>` as libvirt does (nothing when every part is unset).
    pub(crate) fn write(&self, w: &mut Writer) {
        let mut pw = w.nested();
        if let Some(m) = self.mode {
            pw.text("mode", vec![], &format!("0{m:o}"));
        }
        if let Some(o) = self.owner {
            pw.text("owner", vec![], &o.to_string());
        }
        if let Some(g) = self.group {
            pw.text("group", vec![], &g.to_string());
        }
        if let Some(l) = &self.label {
            pw.text("label", vec![], l);
        }
        w.elem_opt("permissions", vec![], pw);
    }
}

/// The `<target>` of a pool.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PoolTarget {
    /// `<path>`: the mount path (`/vmfs/volumes/...`); absent for ESX iSCSI targets.
    pub path: Option<String>,
    /// `<permissions>`.
    pub permissions: Option<Permissions>,
}

/// A libvirt storage pool description.
///
/// ```
/// use esx_domain::{PoolType, StoragePool};
///
/// let pool = StoragePool::esx_datastore(PoolType::Fs, "datastore1", "/vmfs/volumes/5f1d");
/// let xml = pool.to_xml();
/// assert!(xml.starts_with("<pool type='fs'>\n  <name>datastore1</name>\n"));
/// assert!(xml.contains("  <source>\n    <format type='vmfs'/>\n  </source>\n"));
/// assert_eq!(StoragePool::from_xml(&xml)?, pool);
/// # Ok::<(), esx_domain::DomainXmlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoragePool {
    /// `type`.
    pub pool_type: PoolType,
    /// `<name>`.
    pub name: String,
    /// `<uuid>` (libvirt generates one when absent; this model writes it only when set).
    pub uuid: Option<Uuid>,
    /// `<capacity unit='bytes'>`.
    pub capacity: u64,
    /// `<allocation unit='bytes'>`.
    pub allocation: u64,
    /// `<available unit='bytes'>`.
    pub available: u64,
    /// `<source>`.
    pub source: PoolSource,
    /// `<target>`.
    pub target: PoolTarget,
}

impl StoragePool {
    /// A pool as the ESX driver describes a datastore: `dir` for local, `fs` with format
    /// `vmfs` for VMFS, `netfs` for NAS (set `source.hosts`, `source.dir` and
    /// `source.format`), target path = mount path, zeroed permissions, sizes 0 (fill them
    /// in when the datastore is accessible).
    pub fn esx_datastore(pool_type: PoolType, name: &str, mount_path: &str) -> Self {
        StoragePool {
            pool_type,
            name: name.to_string(),
            uuid: None,
            capacity: 0,
            allocation: 0,
            available: 0,
            source: PoolSource {
                format: (pool_type == PoolType::Fs).then(|| "vmfs".to_string()),
                ..PoolSource::default()
            },
            target: PoolTarget {
                path: Some(mount_path.to_string()),
                permissions: Some(Permissions::esx_zeroed()),
            },
        }
    }

    /// Parse a `<pool>` document. Unknown elements and attributes, elements the pool type
    /// does not have, unknown source formats and bad sizes are errors naming the line.
    ///
    /// As in libvirt: a missing source format becomes the type's default, a `logical` pool's
    /// source name defaults to the pool name and its target path is `/dev/<source name>`.
    /// The target path is required except for `iscsi` and `logical` (ESX's iSCSI pools
    /// have none).
    pub fn from_xml(text: &str) -> Result<StoragePool> {
        let root = Element::parse(text)?;
        if root.name != "pool" {
            return Err(DomainXmlError::WrongRoot {
                expected: "pool".into(),
                found: root.name,
            });
        }
        let c = Checked::new(&root);
        let type_text = c.req_attr("type")?;
        let pool_type: PoolType = type_text
            .parse()
            .map_err(|e: String| c.invalid(type_text, "attribute 'type'", &e))?;
        let name = c
            .child("name")
            .map(|n| n.text().trim().to_string())
            .ok_or_else(|| missing(&c, "name"))?;
        let uuid = match c.child("uuid") {
            Some(u) => {
                let t = u.text().trim();
                let v = t.parse().map_err(|_| u.invalid(t, "text", "not a UUID"))?;
                u.finish()?;
                Some(v)
            }
            None => None,
        };
        let capacity = size_child(&c, "capacity")?.unwrap_or(0);
        let allocation = size_child(&c, "allocation")?.unwrap_or(0);
        let available = size_child(&c, "available")?.unwrap_or(0);
        let mut source = match c.child("source") {
            Some(s) => parse_source(&s, pool_type)?,
            None => PoolSource::default(),
        };
        if source.format.is_none() {
            source.format = pool_type.default_source_format().map(str::to_string);
        }
        let mut target = match c.child("target") {
            Some(t) => {
                let path = t.child_text("path").map(|p| p.trim().to_string());
                let permissions = match t.child("permissions") {
                    Some(p) => Some(Permissions::parse(&p)?),
                    None => None,
                };
                t.finish()?;
                PoolTarget { path, permissions }
            }
            None => PoolTarget::default(),
        };
        if pool_type == PoolType::Logical {
            let vg = source.name.get_or_insert_with(|| name.clone());
            target.path = Some(format!("/dev/{vg}"));
        }
        if target.path.is_none() && !matches!(pool_type, PoolType::Iscsi | PoolType::Logical) {
            let line = root
                .children
                .iter()
                .find(|e| e.name == "target")
                .map_or(root.line, |e| e.line);
            return Err(DomainXmlError::MissingElement {
                element: "path".into(),
                parent: "target".into(),
                line,
            });
        }
        c.finish()?;
        Ok(StoragePool {
            pool_type,
            name,
            uuid,
            capacity,
            allocation,
            available,
            source,
            target,
        })
    }

    /// Format as libvirt's `virStoragePoolDefFormat` does.
    pub fn to_xml(&self) -> String {
        let mut w = Writer::new(0);
        let mut inner = w.nested();
        inner.text("name", vec![], &self.name);
        if let Some(u) = &self.uuid {
            inner.text("uuid", vec![], &u.to_string());
        }
        for (el, v) in [
            ("capacity", self.capacity),
            ("allocation", self.allocation),
            ("available", self.available),
        ] {
            inner.text(el, vec![a("unit", "bytes")], &v.to_string());
        }
        let src = self.source_writer(&inner);
        open_close(&mut inner, "source", src);
        let mut tw = inner.nested();
        if let Some(p) = &self.target.path {
            tw.text("path", vec![], p);
        }
        if let Some(p) = &self.target.permissions {
            p.write(&mut tw);
        }
        open_close(&mut inner, "target", tw);
        w.elem("pool", vec![a("type", self.pool_type)], inner);
        w.buf
    }

    fn source_writer(&self, parent: &Writer) -> Writer {
        let parts = self.pool_type.parts();
        let s = &self.source;
        let mut sw = parent.nested();
        if parts.host {
            for h in &s.hosts {
                sw.empty(
                    "host",
                    vec![a("name", &h.name), ao("port", h.port.filter(|p| *p != 0))],
                );
            }
        }
        if parts.device {
            for d in &s.devices {
                sw.empty("device", vec![a("path", d)]);
            }
        }
        if parts.dir {
            if let Some(d) = &s.dir {
                sw.empty("dir", vec![a("path", d)]);
            }
        }
        if parts.name {
            if let Some(n) = &s.name {
                sw.text("name", vec![], n);
            }
        }
        if parts.initiator {
            if let Some(iqn) = &s.initiator_iqn {
                let mut iw = sw.nested();
                iw.empty("iqn", vec![a("name", iqn)]);
                sw.elem("initiator", vec![], iw);
            }
        }
        let format = s
            .format
            .as_deref()
            .or(self.pool_type.default_source_format());
        if let (Some(f), false) = (format, self.pool_type.source_formats().is_empty()) {
            sw.empty("format", vec![a("type", f)]);
        }
        if let Some(v) = &s.vendor {
            sw.empty("vendor", vec![a("name", v)]);
        }
        if let Some(p) = &s.product {
            sw.empty("product", vec![a("name", p)]);
        }
        sw
    }
}

fn missing(c: &Checked<'_>, element: &str) -> DomainXmlError {
    DomainXmlError::MissingElement {
        element: element.into(),
        parent: c.element().name.clone(),
        line: c.line(),
    }
}

fn parse_source(s: &Checked<'_>, pool_type: PoolType) -> Result<PoolSource> {
    let parts = pool_type.parts();
    let mut src = PoolSource::default();
    if parts.host {
        for h in s.children("host") {
            let name = h.req_attr("name")?.to_string();
            let port = h.attr_parse::<u16>("port")?.filter(|p| *p != 0);
            h.finish()?;
            src.hosts.push(PoolSourceHost { name, port });
        }
        if src.hosts.is_empty() {
            return Err(missing(s, "host"));
        }
    }
    if parts.device {
        for d in s.children("device") {
            src.devices.push(d.req_attr("path")?.to_string());
            d.finish()?;
        }
    }
    if parts.dir {
        if let Some(d) = s.child("dir") {
            src.dir = Some(d.req_attr("path")?.to_string());
            d.finish()?;
        }
    }
    if parts.name {
        src.name = s.child_text("name").map(|n| n.trim().to_string());
    }
    if parts.initiator {
        if let Some(i) = s.child("initiator") {
            let iqn = i.child("iqn").ok_or_else(|| missing(&i, "iqn"))?;
            src.initiator_iqn = Some(iqn.req_attr("name")?.to_string());
            iqn.finish()?;
            i.finish()?;
        }
    }
    let formats = pool_type.source_formats();
    if !formats.is_empty() {
        if let Some(f) = s.child("format") {
            let t = f.req_attr("type")?;
            if !formats.contains(&t) {
                return Err(f.invalid(
                    t,
                    "attribute 'type'",
                    &format!("unknown pool format type for a {pool_type} pool"),
                ));
            }
            src.format = Some(t.to_string());
            f.finish()?;
        }
    }
    for (name, slot) in [("vendor", &mut src.vendor), ("product", &mut src.product)] {
        if let Some(e) = s.child(name) {
            *slot = Some(e.req_attr("name")?.to_string());
            e.finish()?;
        }
    }
    s.finish()?;
    Ok(src)
}

/// Parse a sized element (`<capacity unit='GiB'>10</capacity>`) into bytes.
pub(crate) fn size_child(c: &Checked<'_>, name: &str) -> Result<Option<u64>> {
    let Some(e) = c.child(name) else {
        return Ok(None);
    };
    let text = e.text().trim();
    let unit = e.attr("unit");
    let value: u64 = text.parse().map_err(|_| {
        e.invalid(
            text,
            "text",
            "malformed size (expected an unsigned integer)",
        )
    })?;
    let bytes = scale_to_bytes(value, unit).ok_or_else(|| {
        e.invalid(
            unit.unwrap_or(""),
            "attribute 'unit'",
            "unknown unit or value too large",
        )
    })?;
    e.finish()?;
    Ok(Some(bytes))
}

/// Convert a value with a libvirt scale unit (`b`/`bytes`, `KB` = 1000, `k`/`KiB` = 1024,
/// `MB`, `M`/`MiB`, ... up to `E`) to bytes; `None` means bytes. Returns `None` for an
/// unknown unit or a result above `i64::MAX` (libvirt's limit for storage sizes).
pub fn scale_to_bytes(value: u64, unit: Option<&str>) -> Option<u64> {
    let lower = unit.unwrap_or("b").to_ascii_lowercase();
    let (base, power): (u128, u32) = match lower.as_str() {
        "b" | "bytes" => (1, 0),
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
                "" | "ib" => (1024, p),
                "b" => (1000, p),
                _ => return None,
            }
        }
    };
    let bytes = u128::from(value).checked_mul(base.checked_pow(power)?)?;
    u64::try_from(bytes)
        .ok()
        .filter(|b| i64::try_from(*b).is_ok())
}

/// Write `<name>` + children + `</name>` even when there are no children, the way libvirt
/// writes `<source>` and `<target>` (`<source>\n  </source>`).
pub(crate) fn open_close(w: &mut Writer, name: &str, children: Writer) {
    open_close_attrs(w, name, &[], children);
}

/// [`open_close`] with attributes (written in order, escaped).
pub(crate) fn open_close_attrs(
    w: &mut Writer,
    name: &str,
    attrs: &[(&str, String)],
    children: Writer,
) {
    let indent = " ".repeat(indent_of(w));
    w.buf.push_str(&indent);
    w.buf.push('<');
    w.buf.push_str(name);
    for (n, v) in attrs {
        w.buf.push_str(&format!(" {n}='{}'", escape(v)));
    }
    w.buf.push_str(">\n");
    w.buf.push_str(&children.buf);
    w.buf.push_str(&indent);
    w.buf.push_str("</");
    w.buf.push_str(name);
    w.buf.push_str(">\n");
}

/// The indentation of `w`'s own elements, found by writing a probe element one level deeper.
fn indent_of(w: &Writer) -> usize {
    let mut probe = w.nested();
    probe.empty("x", vec![]);
    probe.buf.find('<').map_or(0, |n| n.saturating_sub(2))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ESX_VMFS: &str = "<pool type='fs'>\n  <name>datastore1</name>\n  <uuid>5f1d7a3e-2c41-8b9e-0d6f-a4c8e2b71f30</uuid>\n  <capacity unit='bytes'>499826819072</capacity>\n  <allocation unit='bytes'>123145302310</allocation>\n  <available unit='bytes'>376681516762</available>\n  <source>\n    <format type='vmfs'/>\n  </source>\n  <target>\n    <path>/vmfs/volumes/5f1d7a3e-2c418b9e-0d6f-a4c8e2b71f30</path>\n    <permissions>\n      <mode>00</mode>\n      <owner>0</owner>\n      <group>0</group>\n    </permissions>\n  </target>\n</pool>\n";

    #[test]
    fn esx_vmfs_pool_round_trip() {
        let p = StoragePool::from_xml(ESX_VMFS).unwrap();
        assert_eq!(p.pool_type, PoolType::Fs);
        assert_eq!(p.available, 376681516762);
        assert_eq!(p.target.permissions, Some(Permissions::esx_zeroed()));
        assert_eq!(p.to_xml(), ESX_VMFS);
    }

    #[test]
    fn dir_pool_has_an_empty_source_block() {
        let p = StoragePool::esx_datastore(PoolType::Dir, "local", "/vmfs/volumes/local");
        let xml = p.to_xml();
        assert!(
            xml.contains("\n  <source>\n  </source>\n  <target>\n"),
            "{xml}"
        );
        assert_eq!(StoragePool::from_xml(&xml).unwrap(), p);
    }

    #[test]
    fn netfs_source_order_and_defaults() {
        let text = "<pool type='netfs'><name>nfs1</name><source><format type='nfs'/><dir path='/export/vms'/><host name='nas.example.com'/></source><target><path>/vmfs/volumes/nfs1</path></target></pool>";
        let p = StoragePool::from_xml(text).unwrap();
        let xml = p.to_xml();
        assert!(xml.contains("  <source>\n    <host name='nas.example.com'/>\n    <dir path='/export/vms'/>\n    <format type='nfs'/>\n  </source>\n"), "{xml}");
        let p = StoragePool::from_xml(&text.replace("<format type='nfs'/>", "")).unwrap();
        assert_eq!(p.source.format.as_deref(), Some("auto"));
    }

    #[test]
    fn logical_defaults_follow_libvirt() {
        let p = StoragePool::from_xml(
            "<pool type='logical'><name>vg0</name><source><device path='/dev/sdb'/></source><target><path>/ignored</path></target></pool>",
        )
        .unwrap();
        assert_eq!(p.source.name.as_deref(), Some("vg0"));
        assert_eq!(p.source.format.as_deref(), Some("lvm2"));
        assert_eq!(p.target.path.as_deref(), Some("/dev/vg0"));
    }

    #[test]
    fn iscsi_without_target_path() {
        let text = "<pool type='iscsi'>\n  <name>iqn.2001-05.com.example:t1</name>\n  <uuid>0b7f58a2-4d1e-93c6-a0e2-5f1c7d3b9e48</uuid>\n  <capacity unit='bytes'>0</capacity>\n  <allocation unit='bytes'>0</allocation>\n  <available unit='bytes'>0</available>\n  <source>\n    <host name='10.0.0.5' port='3260'/>\n    <initiator>\n      <iqn name='iqn.1998-01.com.vmware:esx1'/>\n    </initiator>\n  </source>\n  <target>\n    <permissions>\n      <mode>00</mode>\n      <owner>0</owner>\n      <group>0</group>\n    </permissions>\n  </target>\n</pool>\n";
        let p = StoragePool::from_xml(text).unwrap();
        assert_eq!(p.source.hosts[0].port, Some(3260));
        assert_eq!(p.to_xml(), text);
    }

    #[test]
    fn precise_errors() {
        let err = |t: &str| StoragePool::from_xml(t).unwrap_err().to_string();
        assert_eq!(
            err("<pool type='rbd'><name>x</name></pool>"),
            "invalid value 'rbd' for attribute 'type' of <pool> at line 1: unsupported storage pool type 'rbd'"
        );
        assert_eq!(
            err("<pool type='dir'>\n<name>x</name>\n<source><host name='h'/></source>\n<target><path>/p</path></target></pool>"),
            "unsupported element <host> inside <source> at line 3"
        );
        assert_eq!(
            err("<pool type='fs'><name>x</name><source><format type='ntfs'/></source><target><path>/p</path></target></pool>"),
            "invalid value 'ntfs' for attribute 'type' of <format> at line 1: unknown pool format type for a fs pool"
        );
        assert_eq!(
            err("<pool type='dir'><name>x</name>\n<target/></pool>"),
            "missing element <path> inside <target> at line 2"
        );
        assert_eq!(
            err("<pool type='dir'><uuid>x</uuid></pool>"),
            "missing element <name> inside <pool> at line 1"
        );
        assert_eq!(
            err("<pool type='dir'><name>x</name><capacity unit='parsecs'>1</capacity><target><path>/p</path></target></pool>"),
            "invalid value 'parsecs' for attribute 'unit' of <capacity> at line 1: unknown unit or value too large"
        );
        assert_eq!(
            err("<pool type='dir'><name>x</name><target><path>/p</path><permissions><mode>0888</mode></permissions></target></pool>"),
            "invalid value '0888' for text of <mode> at line 1: malformed octal mode"
        );
        assert_eq!(
            err("<volume/>"),
            "expected root element <pool> but found <volume>"
        );
    }

    #[test]
    fn sizes_scale() {
        assert_eq!(scale_to_bytes(1, Some("KiB")), Some(1024));
        assert_eq!(scale_to_bytes(1, Some("KB")), Some(1000));
        assert_eq!(scale_to_bytes(2, Some("G")), Some(2 << 30));
        assert_eq!(scale_to_bytes(5, None), Some(5));
        assert_eq!(scale_to_bytes(9, Some("E")), None);
        assert_eq!(scale_to_bytes(1, Some("q")), None);
        let p = StoragePool::from_xml(
            "<pool type='dir'><name>x</name><capacity unit='GiB'>2</capacity><target><path>/p</path></target></pool>",
        )
        .unwrap();
        assert_eq!(p.capacity, 2 << 30);
    }
}
