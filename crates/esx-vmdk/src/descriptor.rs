//! Text descriptors: the small `.vmdk` beside a `-flat.vmdk` extent, or the one embedded in a
//! sparse image.

use std::fmt::Write as _;

use crate::{VmdkError, MAX_CAPACITY, SECTOR};

/// A text descriptor (the small `.vmdk` beside a `-flat.vmdk` extent, or embedded in a sparse
/// image).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Descriptor {
    /// `createType`, e.g. `vmfs`, `monolithicSparse`, `streamOptimized`.
    pub create_type: String,
    /// `CID`, the content id.
    pub cid: u32,
    /// `parentCID`; `0xffffffff` for a disk without a parent.
    pub parent_cid: u32,
    /// `parentFileNameHint`, the parent of a delta disk.
    pub parent_hint: Option<String>,
    /// The extents, in disk order.
    pub extents: Vec<Extent>,
    /// The disk database, keys with their `ddb.` prefix, values unquoted, in file order.
    pub ddb: Vec<(String, String)>,
}

/// One extent line of a descriptor: `RW 16777216 VMFS "disk-flat.vmdk"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extent {
    /// `RW`, `RDONLY` or `NOACCESS`.
    pub access: String,
    /// Size in 512-byte sectors.
    pub sectors: u64,
    /// `FLAT`, `SPARSE`, `VMFS`, `VMFSSPARSE`, `ZERO`, …
    pub kind: String,
    /// The extent's file (none for `ZERO`).
    pub file: Option<String>,
    /// Offset in sectors into the file (`FLAT` extents).
    pub offset: Option<u64>,
}

/// A value without one pair of surrounding double quotes, if it has them.
pub(crate) fn unquote(v: &str) -> &str {
    match v.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
        Some(inner) => inner,
        None => v,
    }
}

const ACCESS: [&str; 3] = ["RW", "RDONLY", "NOACCESS"];

fn snippet(line: &str) -> String {
    let cut: String = line.chars().take(40).collect();
    format!("{cut:?}{}", if cut.len() < line.len() { "…" } else { "" })
}

fn parse_extent(line: &str, n: usize) -> Result<Extent, VmdkError> {
    let err = |what: String| VmdkError::Descriptor { line: n, what };
    let mut rest = line;
    let mut token = || {
        let t = rest.trim_start();
        let end = t.find(char::is_whitespace).unwrap_or(t.len());
        rest = &t[end..];
        &t[..end]
    };
    let access = token().to_owned();
    let sectors_text = token();
    let sectors = sectors_text.parse::<u64>().map_err(|_| {
        err(format!(
            "extent size {} is not a number of sectors",
            snippet(sectors_text)
        ))
    })?;
    let kind = token().to_owned();
    if kind.is_empty() || !kind.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(err(format!("extent type {} is not a word", snippet(&kind))));
    }
    let rest = rest.trim();
    let (file, after) = if rest.is_empty() {
        (None, "")
    } else {
        let Some(quoted) = rest.strip_prefix('"') else {
            return Err(err(format!(
                "the extent's file name {} is not in double quotes",
                snippet(rest)
            )));
        };
        let Some(close) = quoted.rfind('"') else {
            return Err(err(format!(
                "the extent's file name {} has no closing quote",
                snippet(rest)
            )));
        };
        (Some(quoted[..close].to_owned()), quoted[close + 1..].trim())
    };
    let offset = if after.is_empty() {
        None
    } else {
        Some(after.parse::<u64>().map_err(|_| {
            err(format!(
                "extent offset {} is not a number of sectors",
                snippet(after)
            ))
        })?)
    };
    Ok(Extent {
        access,
        sectors,
        kind,
        file,
        offset,
    })
}

fn parse_cid(v: &str, n: usize, key: &str) -> Result<u32, VmdkError> {
    let v = unquote(v);
    if v.is_empty() || v.len() > 8 {
        return Err(VmdkError::Descriptor {
            line: n,
            what: format!("{key} {} is not 1 to 8 hex digits", snippet(v)),
        });
    }
    u32::from_str_radix(v, 16).map_err(|_| VmdkError::Descriptor {
        line: n,
        what: format!("{key} {} is not 1 to 8 hex digits", snippet(v)),
    })
}

impl Descriptor {
    /// Parses descriptor text. Comments, blank lines and unknown header keys are skipped; a
    /// line that is neither a comment, `key = value` nor an extent is an error naming it.
    ///
    /// ```
    /// let d = esx_vmdk::Descriptor::parse(
    ///     "# Disk DescriptorFile\nCID=fffffffe\nparentCID=ffffffff\ncreateType=\"vmfs\"\n\
    ///      RW 2048 VMFS \"a-flat.vmdk\"\nddb.adapterType = \"lsilogic\"\n",
    /// )?;
    /// assert_eq!((d.capacity(), d.adapter_type()), (1 << 20, Some("lsilogic")));
    /// # Ok::<(), esx_vmdk::VmdkError>(())
    /// ```
    pub fn parse(text: &str) -> Result<Self, VmdkError> {
        let mut create_type = None;
        let mut d = Descriptor {
            create_type: String::new(),
            cid: 0xffff_fffe,
            parent_cid: 0xffff_ffff,
            parent_hint: None,
            extents: Vec::new(),
            ddb: Vec::new(),
        };
        let mut total: u64 = 0;
        for (i, raw) in text.lines().enumerate() {
            let n = i + 1;
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let first = line.split(char::is_whitespace).next().unwrap_or("");
            if ACCESS.contains(&first) && line.len() > first.len() {
                let e = parse_extent(line, n)?;
                total = total.saturating_add(e.sectors);
                if total > MAX_CAPACITY / SECTOR {
                    return Err(VmdkError::Descriptor {
                        line: n,
                        what: format!(
                            "the extents add up to {total} sectors, above the 64 TiB limit"
                        ),
                    });
                }
                d.extents.push(e);
                continue;
            }
            let Some((key, value)) = line.split_once('=') else {
                return Err(VmdkError::Descriptor {
                    line: n,
                    what: format!(
                        "{} is neither a comment, a key = value nor an extent",
                        snippet(line)
                    ),
                });
            };
            let (key, value) = (key.trim(), value.trim());
            if key.starts_with("ddb.") {
                d.ddb.push((key.to_owned(), unquote(value).to_owned()));
                continue;
            }
            match key {
                "createType" => create_type = Some(unquote(value).to_owned()),
                "CID" => d.cid = parse_cid(value, n, key)?,
                "parentCID" => d.parent_cid = parse_cid(value, n, key)?,
                "parentFileNameHint" => d.parent_hint = Some(unquote(value).to_owned()),
                "" => {
                    return Err(VmdkError::Descriptor {
                        line: n,
                        what: format!("{} has no key before '='", snippet(line)),
                    })
                }
                _ => {} // version, encoding, isNativeSnapshot, …
            }
        }
        d.create_type = create_type.ok_or_else(|| VmdkError::Descriptor {
            line: 0,
            what: "no createType line".into(),
        })?;
        if d.extents.is_empty() {
            return Err(VmdkError::Descriptor {
                line: 0,
                what: "no extent line (e.g. RW 2048 VMFS \"disk-flat.vmdk\")".into(),
            });
        }
        Ok(d)
    }

    /// The descriptor as text, in the layout VMware writes.
    pub fn to_text(&self) -> String {
        let mut s = String::with_capacity(512);
        let _ = write!(
            s,
            "# Disk DescriptorFile\nversion=1\nencoding=\"UTF-8\"\nCID={:08x}\nparentCID={:08x}\n\
             createType=\"{}\"\n",
            self.cid, self.parent_cid, self.create_type
        );
        if let Some(hint) = &self.parent_hint {
            let _ = writeln!(s, "parentFileNameHint=\"{hint}\"");
        }
        s.push_str("\n# Extent description\n");
        for e in &self.extents {
            let _ = write!(s, "{} {} {}", e.access, e.sectors, e.kind);
            if let Some(file) = &e.file {
                let _ = write!(s, " \"{file}\"");
            }
            if let Some(offset) = e.offset {
                let _ = write!(s, " {offset}");
            }
            s.push('\n');
        }
        s.push_str("\n# The Disk Data Base\n#DDB\n\n");
        for (k, v) in &self.ddb {
            let _ = writeln!(s, "{k} = \"{v}\"");
        }
        s
    }

    /// A descriptor for a single flat extent as ESX writes it (createType `vmfs`, extent kind
    /// `VMFS`, geometry 255 heads/63 sectors, `ddb.thinProvisioned = "1"` when thin).
    ///
    /// `capacity` is in bytes, rounded up to whole sectors.
    pub fn flat(
        extent_file: &str,
        capacity: u64,
        adapter_type: &str,
        thin: bool,
        uuid: &str,
    ) -> Self {
        let sectors = capacity.div_ceil(SECTOR);
        let mut ddb = vec![("ddb.adapterType".to_owned(), adapter_type.to_owned())];
        ddb.extend(geometry(sectors, 255));
        if thin {
            ddb.push(("ddb.thinProvisioned".into(), "1".into()));
        }
        ddb.push(("ddb.uuid".into(), uuid.to_owned()));
        ddb.push(("ddb.virtualHWVersion".into(), "14".into()));
        Descriptor::single_extent("vmfs", sectors, "VMFS", extent_file, ddb)
    }

    /// A base disk (no parent) of one read-write extent.
    pub(crate) fn single_extent(
        create_type: &str,
        sectors: u64,
        kind: &str,
        file: &str,
        ddb: Vec<(String, String)>,
    ) -> Self {
        Descriptor {
            create_type: create_type.into(),
            cid: 0xffff_fffe,
            parent_cid: 0xffff_ffff,
            parent_hint: None,
            extents: vec![Extent {
                access: "RW".into(),
                sectors,
                kind: kind.into(),
                file: Some(file.into()),
                offset: None,
            }],
            ddb,
        }
    }

    /// The value of a disk database key (with its `ddb.` prefix), the first if repeated.
    pub fn ddb_value(&self, key: &str) -> Option<&str> {
        self.ddb
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// `ddb.adapterType`, e.g. `lsilogic`, `ide`, `buslogic`.
    pub fn adapter_type(&self) -> Option<&str> {
        self.ddb_value("ddb.adapterType")
    }

    /// The virtual disk size in bytes: the extents' sectors added up.
    pub fn capacity(&self) -> u64 {
        self.extents
            .iter()
            .fold(0u64, |t, e| t.saturating_add(e.sectors))
            .saturating_mul(SECTOR)
    }
}

/// The `ddb.geometry.*` entries for a disk of `sectors` with `heads` heads and 63 sectors a
/// track (255 heads for SCSI, 16 for IDE, whose cylinders stop at 16383).
pub(crate) fn geometry(sectors: u64, heads: u64) -> [(String, String); 3] {
    let mut cylinders = (sectors / (heads * 63)).max(1);
    if heads == 16 {
        cylinders = cylinders.min(16383);
    }
    [
        ("ddb.geometry.cylinders".into(), cylinders.to_string()),
        ("ddb.geometry.heads".into(), heads.to_string()),
        ("ddb.geometry.sectors".into(), "63".into()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    const ESX: &str = "# Disk DescriptorFile\nversion=1\nencoding=\"UTF-8\"\nCID=fffffffe\n\
        parentCID=ffffffff\ncreateType=\"vmfs\"\n\n# Extent description\n\
        RW 16777216 VMFS \"web-flat.vmdk\"\n\n# The Disk Data Base\n#DDB\n\n\
        ddb.adapterType = \"lsilogic\"\nddb.geometry.cylinders = \"1044\"\n\
        ddb.geometry.heads = \"255\"\nddb.geometry.sectors = \"63\"\n\
        ddb.thinProvisioned = \"1\"\nddb.uuid = \"60 00 C2 9a\"\nddb.virtualHWVersion = \"14\"\n";

    fn line_of(text: &str) -> usize {
        match Descriptor::parse(text) {
            Err(VmdkError::Descriptor { line, .. }) => line,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn parses_what_esx_writes_and_prints_it_back() {
        let d = Descriptor::parse(ESX).unwrap();
        assert_eq!(d.create_type, "vmfs");
        assert_eq!((d.cid, d.parent_cid), (0xffff_fffe, 0xffff_ffff));
        assert_eq!(d.capacity(), 8 << 30);
        assert_eq!(d.adapter_type(), Some("lsilogic"));
        assert_eq!(d.ddb_value("ddb.uuid"), Some("60 00 C2 9a"));
        assert_eq!(d.to_text(), ESX);
    }

    #[test]
    fn flat_is_what_esx_writes() {
        let d = Descriptor::flat("web-flat.vmdk", 8 << 30, "lsilogic", true, "60 00 C2 9a");
        assert_eq!(d.to_text(), ESX);
        let thick = Descriptor::flat("a-flat.vmdk", 1000, "ide", false, "u");
        assert_eq!(thick.capacity(), 1024);
        assert_eq!(thick.ddb_value("ddb.thinProvisioned"), None);
        assert_eq!(thick.ddb_value("ddb.geometry.cylinders"), Some("1"));
        assert_eq!(Descriptor::parse(&thick.to_text()).unwrap(), thick);
    }

    #[test]
    fn extents_of_every_shape() {
        let d = Descriptor::parse(
            "createType=\"twoGbMaxExtentFlat\"\nparentFileNameHint=\"base.vmdk\"\n\
             RW 4192256 FLAT \"my disk-f001.vmdk\" 0\nRDONLY 100 ZERO\n\
             NOACCESS 7 SPARSE \"a \"quoted\" name.vmdk\"\n",
        )
        .unwrap();
        assert_eq!(d.parent_hint.as_deref(), Some("base.vmdk"));
        assert_eq!(d.extents.len(), 3);
        assert_eq!(d.extents[0].file.as_deref(), Some("my disk-f001.vmdk"));
        assert_eq!(d.extents[0].offset, Some(0));
        assert_eq!(
            (d.extents[1].kind.as_str(), d.extents[1].file.as_deref()),
            ("ZERO", None)
        );
        assert_eq!(d.extents[2].file.as_deref(), Some("a \"quoted\" name.vmdk"));
        assert_eq!(d.capacity(), (4192256 + 107) * 512);
        assert_eq!(Descriptor::parse(&d.to_text()).unwrap(), d);
    }

    #[test]
    fn garbage_names_its_line() {
        assert_eq!(
            line_of("createType=\"vmfs\"\nRW 1 VMFS \"a\"\n\u{1}\u{2}garbage\n"),
            3
        );
        assert_eq!(line_of("createType=\"vmfs\"\nRW lots VMFS \"a\"\n"), 2);
        assert_eq!(line_of("createType=\"vmfs\"\nRW 1 VMFS a-flat.vmdk\n"), 2);
        assert_eq!(line_of("createType=\"vmfs\"\nRW 1 VMFS \"a\" x\n"), 2);
        assert_eq!(line_of("createType=\"vmfs\"\nRW 1 VMFS \"a\nCID=1\n"), 2);
        assert_eq!(line_of("createType=\"vmfs\"\nRW 1 V-M \"a\"\n"), 2);
        assert_eq!(
            line_of("CID=xyz\ncreateType=\"vmfs\"\nRW 1 VMFS \"a\"\n"),
            1
        );
        assert_eq!(line_of("parentCID=123456789\n"), 1);
        assert_eq!(line_of("=3\n"), 1);
        assert_eq!(line_of("RW 1 VMFS \"a\"\n"), 0);
        assert_eq!(line_of("createType=\"vmfs\"\n"), 0);
        assert_eq!(
            line_of("createType=\"vmfs\"\nRW 137438953472 VMFS \"a\"\nRW 1 VMFS \"b\"\n"),
            3
        );
    }

    #[test]
    fn values_survive_a_round_trip() {
        let d = Descriptor::parse(
            "createType=\" x \"\nCID=1\nRW 1 FLAT \"\"\nddb.a = \"\"\nddb.b = a\"\nddb.c=\"\"\"\n",
        )
        .unwrap();
        assert_eq!(d.create_type, " x ");
        assert_eq!(d.ddb_value("ddb.a"), Some(""));
        assert_eq!(d.ddb_value("ddb.b"), Some("a\""));
        assert_eq!(d.ddb_value("ddb.c"), Some("\""));
        assert_eq!(Descriptor::parse(&d.to_text()).unwrap(), d);
    }
}
