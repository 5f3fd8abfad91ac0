//! Virtual disks as the simulator keeps them: a text descriptor (`disk.vmdk`) naming its
//! extents (`disk-flat.vmdk`), which hold the disk's bytes as they are (sparse files, holes
//! read as zeros).
//!
//! A snapshot delta (`disk-000001.vmdk`, `createType="vmfsSparse"`) names its parent with
//! `parentFileNameHint`; its extent (`disk-000001-delta.vmdk`) is laid out like a flat extent,
//! and a block of it that holds only zeros reads as unwritten, so the parent's block shows
//! through. The content of a delta is its chain coalesced ([`coalesce`]): the base disk
//! overlaid by each delta's data, oldest first.

use std::fs::File;
use std::path::{Path, PathBuf};

use crate::files::{write_atomic, TempFile};

/// Largest descriptor read (a descriptor is a few hundred bytes; anything larger is data).
pub const MAX_DESCRIPTOR: u64 = 64 * 1024;

/// Deepest snapshot chain followed.
pub const MAX_CHAIN: usize = 64;

/// One extent line: `RW 2097152 VMFS "disk-flat.vmdk"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extent {
    /// `RW`, `RDONLY` or `NOACCESS`.
    pub access: String,
    /// Size in 512-byte sectors.
    pub sectors: u64,
    /// `VMFS`, `FLAT`, `VMFSSPARSE`, `SPARSE`, …
    pub kind: String,
    /// The extent's file name, relative to the descriptor's directory.
    pub file: String,
    /// Offset in the file (`FLAT` extents may give one).
    pub offset: Option<u64>,
}

impl Extent {
    /// Size in bytes.
    pub fn bytes(&self) -> u64 {
        self.sectors.saturating_mul(512)
    }
}

/// A parsed descriptor.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Descriptor {
    /// `CID` (content id, hexadecimal).
    pub cid: String,
    /// `parentCID` (`ffffffff` for a base disk).
    pub parent_cid: String,
    /// `createType` (`vmfs`, `vmfsSparse`, `monolithicFlat`, …).
    pub create_type: String,
    /// `parentFileNameHint`: the parent of a delta.
    pub parent: Option<String>,
    /// The extents, in disk order.
    pub extents: Vec<Extent>,
    /// The disk database (`ddb.*`), in file order.
    pub ddb: Vec<(String, String)>,
}

/// Why a disk cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum DiskError {
    /// A descriptor or extent of the chain does not exist.
    #[error("{0} was not found")]
    Missing(String),
    /// A file is not a descriptor the simulator understands, or names a file it may not reach.
    #[error("{0} is not a valid virtual disk descriptor")]
    Invalid(String),
    /// The chain of parents is deeper than [`MAX_CHAIN`] or loops.
    #[error("the snapshot chain of {0} is too deep or loops")]
    Chain(String),
    /// Reading or writing failed.
    #[error("{0}: {1}")]
    Io(String, #[source] std::io::Error),
}

fn unquote(v: &str) -> String {
    v.trim().trim_matches('"').to_owned()
}

impl Descriptor {
    /// Parses a descriptor's text; `None` when it has no extent (not a descriptor).
    pub fn parse(text: &str) -> Option<Descriptor> {
        let mut d = Descriptor::default();
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut words = line.split_whitespace();
            let first = words.next().unwrap_or("");
            if matches!(first, "RW" | "RDONLY" | "NOACCESS") {
                let sectors = words.next()?.parse().ok()?;
                let kind = words.next()?.to_owned();
                let mut quoted = line.splitn(3, '"');
                quoted.next();
                let file = quoted.next()?.to_owned();
                let offset = quoted.next().and_then(|r| r.trim().parse().ok());
                d.extents.push(Extent {
                    access: first.to_owned(),
                    sectors,
                    kind,
                    file,
                    offset,
                });
                continue;
            }
            let Some((k, v)) = line.split_once('=') else {
                continue;
            };
            let (k, v) = (k.trim(), unquote(v));
            match k {
                "CID" => d.cid = v,
                "parentCID" => d.parent_cid = v,
                "createType" => d.create_type = v,
                "parentFileNameHint" => d.parent = Some(v).filter(|p| !p.is_empty()),
                _ if k.starts_with("ddb.") => d.ddb.push((k.to_owned(), v)),
                _ => {}
            }
        }
        (!d.extents.is_empty()).then_some(d)
    }

    /// Reads and parses the descriptor at `path`.
    pub fn read(path: &Path) -> Result<Descriptor, DiskError> {
        let name = path.display().to_string();
        let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => DiskError::Missing(name.clone()),
            _ => DiskError::Io(name.clone(), e),
        })?;
        if !meta.is_file() {
            return Err(DiskError::Missing(name));
        }
        if meta.len() > MAX_DESCRIPTOR {
            return Err(DiskError::Invalid(name));
        }
        let bytes = std::fs::read(path).map_err(|e| DiskError::Io(name.clone(), e))?;
        std::str::from_utf8(&bytes)
            .ok()
            .and_then(Descriptor::parse)
            .ok_or(DiskError::Invalid(name))
    }

    /// The descriptor's text.
    pub fn text(&self) -> String {
        let mut s = format!(
            "# Disk DescriptorFile\nversion=1\nencoding=\"UTF-8\"\nCID={}\nparentCID={}\ncreateType=\"{}\"\n",
            self.cid, self.parent_cid, self.create_type
        );
        if let Some(p) = &self.parent {
            s.push_str(&format!("parentFileNameHint=\"{p}\"\n"));
        }
        s.push_str("\n# Extent description\n");
        for e in &self.extents {
            s.push_str(&format!(
                "{} {} {} \"{}\"",
                e.access, e.sectors, e.kind, e.file
            ));
            if let Some(o) = e.offset {
                s.push_str(&format!(" {o}"));
            }
            s.push('\n');
        }
        s.push_str("\n# The Disk Data Base\n#DDB\n\n");
        for (k, v) in &self.ddb {
            s.push_str(&format!("{k} = \"{v}\"\n"));
        }
        s
    }

    /// Writes the descriptor to `path` (through a temporary file).
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        write_atomic(path, self.text().as_bytes())
    }

    /// A `ddb.*` value.
    pub fn ddb(&self, key: &str) -> Option<&str> {
        self.ddb
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Sets a `ddb.*` value (added at the end when new).
    pub fn set_ddb(&mut self, key: &str, value: &str) {
        match self.ddb.iter_mut().find(|(k, _)| k == key) {
            Some(e) => e.1 = value.to_owned(),
            None => self.ddb.push((key.to_owned(), value.to_owned())),
        }
    }

    /// Removes a `ddb.*` value.
    pub fn remove_ddb(&mut self, key: &str) {
        self.ddb.retain(|(k, _)| k != key);
    }

    /// The disk's size in bytes (its extents together).
    pub fn capacity(&self) -> u64 {
        self.extents.iter().map(Extent::bytes).sum()
    }

    /// Whether the disk is thin provisioned (`ddb.thinProvisioned = "1"`).
    pub fn thin(&self) -> bool {
        self.ddb("ddb.thinProvisioned") == Some("1")
    }

    /// The extent files, beside `descriptor`; `Err` for a name that would leave its directory.
    pub fn extent_paths(&self, descriptor: &Path) -> Result<Vec<PathBuf>, DiskError> {
        self.extents
            .iter()
            .map(|e| {
                if e.file.is_empty() || e.file.contains('/') || e.file == ".." {
                    Err(DiskError::Invalid(descriptor.display().to_string()))
                } else {
                    Ok(descriptor.with_file_name(&e.file))
                }
            })
            .collect()
    }

    /// A monolithic-flat (`vmfs`) disk of `capacity_kb` with one extent `extent`.
    pub fn flat(extent: &str, capacity_kb: u64, adapter: &str, uuid: &str, thin: bool) -> Self {
        let sectors = capacity_kb.saturating_mul(2);
        let cylinders = (sectors / (255 * 63)).max(1);
        let mut ddb = vec![
            ("ddb.adapterType".to_owned(), adapter.to_owned()),
            ("ddb.geometry.cylinders".to_owned(), cylinders.to_string()),
            ("ddb.geometry.heads".to_owned(), "255".to_owned()),
            ("ddb.geometry.sectors".to_owned(), "63".to_owned()),
        ];
        if thin {
            ddb.push(("ddb.thinProvisioned".to_owned(), "1".to_owned()));
        }
        ddb.push(("ddb.uuid".to_owned(), uuid.to_owned()));
        ddb.push(("ddb.virtualHWVersion".to_owned(), "14".to_owned()));
        Descriptor {
            cid: "fffffffe".into(),
            parent_cid: "ffffffff".into(),
            create_type: "vmfs".into(),
            parent: None,
            extents: vec![Extent {
                access: "RW".into(),
                sectors,
                kind: "VMFS".into(),
                file: extent.to_owned(),
                offset: None,
            }],
            ddb,
        }
    }
}

/// The stem of a descriptor's file name (`disk` for `disk.vmdk`).
pub fn stem(descriptor: &Path) -> String {
    descriptor
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "disk".into())
}

/// Creates the extent file `path` of `len` bytes, all holes, through a temporary file.
fn create_extent(path: &Path, len: u64) -> std::io::Result<()> {
    let t = TempFile::create(path)?;
    t.file()?.set_len(len)?;
    t.commit()
}

/// Writes a new flat disk: its sparse extent `<stem>-flat.vmdk`, then the descriptor (so
/// that a descriptor never names a missing extent). On failure nothing is left.
pub fn create_flat(
    descriptor: &Path,
    capacity_kb: u64,
    adapter: &str,
    uuid: &str,
    thin: bool,
) -> std::io::Result<()> {
    let extent = format!("{}-flat.vmdk", stem(descriptor));
    let d = Descriptor::flat(&extent, capacity_kb, adapter, uuid, thin);
    let flat = descriptor.with_file_name(&extent);
    create_extent(&flat, capacity_kb.saturating_mul(1024))?;
    d.write(descriptor).inspect_err(|_| {
        let _ = std::fs::remove_file(&flat);
    })
}

/// Writes a snapshot delta `descriptor` on top of `parent` (whose descriptor is `parent_desc`),
/// naming the parent `parent_hint`: an empty sparse extent of the parent's size and a
/// `vmfsSparse` descriptor that keeps the parent's adapter type and UUID.
pub fn create_delta(
    descriptor: &Path,
    parent_desc: &Descriptor,
    parent_hint: &str,
    cid: &str,
) -> std::io::Result<()> {
    let extent = format!("{}-delta.vmdk", stem(descriptor));
    let capacity = parent_desc.capacity();
    let mut ddb: Vec<(String, String)> = parent_desc
        .ddb
        .iter()
        .filter(|(k, _)| k != "ddb.thinProvisioned")
        .cloned()
        .collect();
    if ddb.is_empty() {
        ddb.push(("ddb.adapterType".into(), "lsilogic".into()));
    }
    let d = Descriptor {
        cid: cid.to_owned(),
        parent_cid: if parent_desc.cid.is_empty() {
            "fffffffe".into()
        } else {
            parent_desc.cid.clone()
        },
        create_type: "vmfsSparse".into(),
        parent: Some(parent_hint.to_owned()),
        extents: vec![Extent {
            access: "RW".into(),
            sectors: capacity / 512,
            kind: "VMFSSPARSE".into(),
            file: extent.clone(),
            offset: None,
        }],
        ddb,
    };
    let path = descriptor.with_file_name(&extent);
    create_extent(&path, capacity)?;
    d.write(descriptor).inspect_err(|_| {
        let _ = std::fs::remove_file(&path);
    })
}

/// Resolves a `parentFileNameHint` written in the delta `descriptor`: a name relative to its
/// directory, or an absolute one (`/vmfs/volumes/<ds>/…`) through `absolute`.
pub fn resolve_hint(
    descriptor: &Path,
    hint: &str,
    absolute: &dyn Fn(&str) -> Option<PathBuf>,
) -> Option<PathBuf> {
    if hint.starts_with('/') || hint.starts_with('[') {
        return absolute(hint);
    }
    let dir = descriptor.parent()?;
    crate::files::safe_join(dir, hint).filter(|p| p.parent() == Some(dir) || !hint.contains('/'))
}

/// The chain of `descriptor`: itself first, then each parent down to the base disk.
pub fn chain(
    descriptor: &Path,
    absolute: &dyn Fn(&str) -> Option<PathBuf>,
) -> Result<Vec<(PathBuf, Descriptor)>, DiskError> {
    let mut out: Vec<(PathBuf, Descriptor)> = Vec::new();
    let mut next = Some(descriptor.to_path_buf());
    while let Some(p) = next.take() {
        if out.len() >= MAX_CHAIN || out.iter().any(|(q, _)| q == &p) {
            return Err(DiskError::Chain(descriptor.display().to_string()));
        }
        let d = Descriptor::read(&p)?;
        if let Some(hint) = &d.parent {
            next = Some(
                resolve_hint(&p, hint, absolute).ok_or_else(|| DiskError::Missing(hint.clone()))?,
            );
        }
        out.push((p, d));
    }
    Ok(out)
}

/// Bytes the extents of a chain occupy on disk.
pub fn chain_allocated(chain: &[(PathBuf, Descriptor)]) -> u64 {
    chain
        .iter()
        .flat_map(|(p, d)| d.extent_paths(p).unwrap_or_default())
        .filter_map(|e| std::fs::metadata(e).ok())
        .map(|m| crate::files::allocated(&m))
        .sum()
}

/// Writes the content of `chain` (as [`chain`] gives it) into `dst`, a new empty file, as one
/// flat extent: the base disk's data, overlaid by each delta's in turn. Blocks of zeros are
/// not written, so `dst` is as sparse as the data allows; its length becomes the capacity of
/// the chain's first disk.
pub fn coalesce(chain: &[(PathBuf, Descriptor)], dst: &File) -> Result<(), DiskError> {
    let Some((_, top)) = chain.first() else {
        return Ok(());
    };
    let capacity = top.capacity();
    let io = |p: &Path, e: std::io::Error| DiskError::Io(p.display().to_string(), e);
    for (path, d) in chain.iter().rev() {
        let mut at = 0u64;
        for (e, file) in d.extents.iter().zip(d.extent_paths(path)?) {
            if at >= capacity {
                break;
            }
            let src = File::open(&file).map_err(|err| match err.kind() {
                std::io::ErrorKind::NotFound => DiskError::Missing(file.display().to_string()),
                _ => io(&file, err),
            })?;
            let len = e.bytes().min(capacity - at);
            let from = e.offset.unwrap_or(0).saturating_mul(512);
            crate::files::overlay(&src, from, len, dst, at).map_err(|err| io(&file, err))?;
            at = at.saturating_add(e.bytes());
        }
    }
    dst.set_len(capacity)
        .map_err(|e| DiskError::Io("copy".into(), e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::FileExt;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("esx-sim-vmdk-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn parses_and_writes_descriptors() {
        let text = "# Disk DescriptorFile\nversion=1\nCID=12345678\nparentCID=ffffffff\n\
                    createType=\"vmfsSparse\"\nparentFileNameHint=\"base.vmdk\"\n\
                    RW 2048 VMFSSPARSE \"a-000001-delta.vmdk\"\nRDONLY 10 FLAT \"x.raw\" 512\n\
                    ddb.adapterType = \"lsilogic\"\nddb.thinProvisioned = \"1\"\n";
        let d = Descriptor::parse(text).unwrap();
        assert_eq!(d.parent.as_deref(), Some("base.vmdk"));
        assert_eq!(d.extents.len(), 2);
        assert_eq!(d.extents[1].offset, Some(512));
        assert_eq!(d.capacity(), (2048 + 10) * 512);
        assert!(d.thin());
        assert_eq!(Descriptor::parse(&d.text()), Some(d));
        assert_eq!(Descriptor::parse("just text\n"), None);
        assert_eq!(Descriptor::parse("RW x VMFS \"a\"\n"), None);
    }

    #[test]
    fn coalesces_a_chain() {
        let d = dir("chain");
        let base = d.join("b.vmdk");
        create_flat(&base, 64, "lsilogic", "00", false).unwrap();
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(d.join("b-flat.vmdk"))
            .unwrap();
        f.write_all_at(&[1u8; 8192], 0).unwrap();
        f.write_all_at(&[2u8; 4096], 16384).unwrap();
        let delta = d.join("b-000001.vmdk");
        create_delta(&delta, &Descriptor::read(&base).unwrap(), "b.vmdk", "abc").unwrap();
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(d.join("b-000001-delta.vmdk"))
            .unwrap();
        f.write_all_at(&[3u8; 4096], 4096).unwrap();
        let c = chain(&delta, &|_| None).unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(c[1].0, base);
        let out = std::fs::File::create(d.join("out")).unwrap();
        coalesce(&c, &out).unwrap();
        let got = std::fs::read(d.join("out")).unwrap();
        assert_eq!(got.len(), 64 * 1024);
        assert_eq!(&got[..4096], &[1u8; 4096][..]);
        assert_eq!(&got[4096..8192], &[3u8; 4096][..]);
        assert_eq!(&got[16384..20480], &[2u8; 4096][..]);
        assert!(got[20480..].iter().all(|b| *b == 0));
        // A missing parent, a loop.
        std::fs::rename(&base, d.join("gone.vmdk")).unwrap();
        assert!(matches!(
            chain(&delta, &|_| None),
            Err(DiskError::Missing(_))
        ));
        let mut looped = Descriptor::read(&delta).unwrap();
        looped.parent = Some("b-000001.vmdk".into());
        looped.write(&delta).unwrap();
        assert!(matches!(chain(&delta, &|_| None), Err(DiskError::Chain(_))));
        let _ = std::fs::remove_dir_all(d);
    }
}
