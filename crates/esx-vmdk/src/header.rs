//! The 512-byte sparse extent header (`KDMV`) and format detection.

use crate::{VmdkError, MAX_CAPACITY, SECTOR};

/// The sparse header magic, `KDMV` as it appears in the file.
pub(crate) const MAGIC: &[u8; 4] = b"KDMV";
/// `gdOffset` of a streamOptimized header whose grain directory is found via the footer.
pub(crate) const GD_AT_END: u64 = u64::MAX;
/// Header flag: the newline-detection bytes are valid.
pub(crate) const FLAG_NEWLINE_TEST: u32 = 1;
/// Header flag: a redundant grain directory is kept.
pub(crate) const FLAG_REDUNDANT_GT: u32 = 1 << 1;
/// Header flag: grain table entry 1 means an all-zero grain.
pub(crate) const FLAG_ZERO_GRAIN: u32 = 1 << 2;
/// Header flag: grains are compressed.
pub(crate) const FLAG_COMPRESSED: u32 = 1 << 16;
/// Header flag: the stream carries markers.
pub(crate) const FLAG_MARKERS: u32 = 1 << 17;
/// Grain table entries per grain table: the only value the format defines.
pub(crate) const GTES_PER_GT: u64 = 512;
/// The largest grain this crate reads, in sectors (1 MiB): it bounds a read buffer.
pub(crate) const MAX_GRAIN_SECTORS: u64 = 2048;
/// The largest embedded descriptor this crate reads, in sectors (1 MiB).
pub(crate) const MAX_DESCRIPTOR_SECTORS: u64 = 2048;
/// The newline-detection bytes: `\n`, ` `, `\r`, `\n`.
const NEWLINE_TEST: [u8; 4] = *b"\n \r\n";

/// What an image is, from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Flat bytes: the virtual disk itself (also any format this crate does not recognise).
    Raw,
    /// A hosted sparse extent with grain directory and tables (`createType="monolithicSparse"`).
    MonolithicSparse,
    /// A compressed sparse extent with markers, written front to back (`createType="streamOptimized"`).
    StreamOptimized,
    /// A text descriptor naming extents in other files.
    Descriptor,
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Format::Raw => "raw",
            Format::MonolithicSparse => "monolithicSparse",
            Format::StreamOptimized => "streamOptimized",
            Format::Descriptor => "descriptor",
        })
    }
}

/// The fields of a sparse extent header (sizes and offsets in sectors).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SparseHeader {
    pub version: u32,
    pub flags: u32,
    pub capacity: u64,
    pub grain_size: u64,
    pub descriptor_offset: u64,
    pub descriptor_size: u64,
    pub num_gtes_per_gt: u32,
    pub rgd_offset: u64,
    pub gd_offset: u64,
    pub overhead: u64,
    pub unclean_shutdown: u8,
    pub compress_algorithm: u16,
}

/// The little-endian `u32` at `at` (the caller checks the length).
pub(crate) fn u32_at(b: &[u8], at: usize) -> u32 {
    let mut a = [0; 4];
    a.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(a)
}

/// The little-endian `u64` at `at` (the caller checks the length).
pub(crate) fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut a = [0; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

impl SparseHeader {
    /// Parses and validates the 512 bytes of a header found at byte `base` of the input.
    pub fn parse(b: &[u8; 512], base: u64) -> Result<Self, VmdkError> {
        if &b[..4] != MAGIC {
            return Err(VmdkError::BadMagic {
                offset: base,
                found: b[..4].to_vec(),
            });
        }
        let h = SparseHeader {
            version: u32_at(b, 4),
            flags: u32_at(b, 8),
            capacity: u64_at(b, 12),
            grain_size: u64_at(b, 20),
            descriptor_offset: u64_at(b, 28),
            descriptor_size: u64_at(b, 36),
            num_gtes_per_gt: u32_at(b, 44),
            rgd_offset: u64_at(b, 48),
            gd_offset: u64_at(b, 56),
            overhead: u64_at(b, 64),
            unclean_shutdown: b[72],
            compress_algorithm: u16::from_le_bytes([b[77], b[78]]),
        };
        if h.flags & FLAG_NEWLINE_TEST != 0 && b[73..77] != NEWLINE_TEST {
            return Err(VmdkError::corrupt(
                base + 73,
                format!(
                    "newline-detection bytes are {:02x?}, not 0a 20 0d 0a: the image was altered \
                     as text (e.g. an FTP transfer in ASCII mode)",
                    &b[73..77]
                ),
            ));
        }
        h.validate(base)?;
        Ok(h)
    }

    fn validate(&self, base: u64) -> Result<(), VmdkError> {
        let bad = |field: usize, what: String| Err(VmdkError::corrupt(base + field as u64, what));
        if !(1..=3).contains(&self.version) {
            return bad(
                4,
                format!("header version {} (1 to 3 are defined)", self.version),
            );
        }
        if self.capacity > MAX_CAPACITY / SECTOR {
            return Err(VmdkError::TooLarge {
                what: "capacity",
                size: self.capacity.saturating_mul(SECTOR),
                limit: MAX_CAPACITY,
            });
        }
        if self.grain_size < 8 || !self.grain_size.is_power_of_two() {
            return bad(
                20,
                format!(
                    "grain size {} sectors (must be a power of two of at least 8)",
                    self.grain_size
                ),
            );
        }
        if self.grain_size > MAX_GRAIN_SECTORS {
            return Err(VmdkError::Unsupported(format!(
                "grain size of {} sectors (at most {MAX_GRAIN_SECTORS} are read)",
                self.grain_size
            )));
        }
        if u64::from(self.num_gtes_per_gt) != GTES_PER_GT {
            return bad(
                44,
                format!(
                    "{} grain table entries per table (the format defines {GTES_PER_GT})",
                    self.num_gtes_per_gt
                ),
            );
        }
        if self.flags & FLAG_COMPRESSED != 0 && self.compress_algorithm != 1 {
            return bad(
                77,
                format!(
                    "compression algorithm {} (only 1, deflate, is defined)",
                    self.compress_algorithm
                ),
            );
        }
        if self.grains() > u64::from(u32::MAX) {
            return Err(VmdkError::Unsupported(format!(
                "{} grains of {} sectors (at most 2^32 grains are read)",
                self.grains(),
                self.grain_size
            )));
        }
        if self.descriptor_offset != 0 && self.descriptor_size > MAX_DESCRIPTOR_SECTORS {
            return Err(VmdkError::TooLarge {
                what: "embedded descriptor",
                size: self.descriptor_size.saturating_mul(SECTOR),
                limit: MAX_DESCRIPTOR_SECTORS * SECTOR,
            });
        }
        // The metadata regions may not overlap each other (nor the header).
        let gd_sectors = self.gd_sectors();
        let mut regions: Vec<(&str, usize, u64, u64)> = vec![("header", 0, 0, 1)];
        if self.descriptor_offset != 0 || self.descriptor_size != 0 {
            regions.push((
                "embedded descriptor",
                28,
                self.descriptor_offset,
                self.descriptor_size,
            ));
        }
        if self.flags & FLAG_REDUNDANT_GT != 0 && self.rgd_offset != 0 {
            regions.push(("redundant grain directory", 48, self.rgd_offset, gd_sectors));
        }
        if self.gd_offset != GD_AT_END {
            regions.push(("grain directory", 56, self.gd_offset, gd_sectors));
        }
        for (i, &(name, field, start, len)) in regions.iter().enumerate() {
            let Some(end) = start
                .checked_add(len)
                .filter(|e| *e <= MAX_CAPACITY / SECTOR)
            else {
                return bad(field, format!("{name} at sector {start} is out of range"));
            };
            for &(other, _, ostart, olen) in &regions[..i] {
                if start < ostart + olen && ostart < end {
                    return bad(
                        field,
                        format!(
                            "{name} (sectors {start}..{end}) overlaps the {other} \
                             (sectors {ostart}..{})",
                            ostart + olen
                        ),
                    );
                }
            }
        }
        if self.overhead > MAX_CAPACITY / SECTOR {
            return bad(
                64,
                format!(
                    "grains start at sector {} (overHead), past any disk",
                    self.overhead
                ),
            );
        }
        let desc_end = self.descriptor_offset + self.descriptor_size;
        if self.stream() && self.overhead < desc_end.max(1) {
            return bad(
                64,
                format!(
                    "grains start at sector {} (overHead), inside the metadata ending at sector {}",
                    self.overhead,
                    desc_end.max(1)
                ),
            );
        }
        Ok(())
    }

    /// Whether the grains are walked through markers (streamOptimized).
    pub fn stream(&self) -> bool {
        self.flags & FLAG_MARKERS != 0
    }

    /// Grain size in bytes.
    pub fn grain_bytes(&self) -> u64 {
        self.grain_size * SECTOR
    }

    /// Number of grains covering the capacity.
    pub fn grains(&self) -> u64 {
        self.capacity.div_ceil(self.grain_size)
    }

    /// Number of grain tables (entries in the grain directory).
    pub fn gd_entries(&self) -> u64 {
        self.grains().div_ceil(GTES_PER_GT)
    }

    /// Size of the grain directory in sectors.
    pub fn gd_sectors(&self) -> u64 {
        (self.gd_entries() * 4).div_ceil(SECTOR)
    }

    /// The 512 bytes of this header.
    pub fn to_bytes(&self) -> [u8; 512] {
        let mut b = [0u8; 512];
        b[..4].copy_from_slice(MAGIC);
        b[4..8].copy_from_slice(&self.version.to_le_bytes());
        b[8..12].copy_from_slice(&self.flags.to_le_bytes());
        b[12..20].copy_from_slice(&self.capacity.to_le_bytes());
        b[20..28].copy_from_slice(&self.grain_size.to_le_bytes());
        b[28..36].copy_from_slice(&self.descriptor_offset.to_le_bytes());
        b[36..44].copy_from_slice(&self.descriptor_size.to_le_bytes());
        b[44..48].copy_from_slice(&self.num_gtes_per_gt.to_le_bytes());
        b[48..56].copy_from_slice(&self.rgd_offset.to_le_bytes());
        b[56..64].copy_from_slice(&self.gd_offset.to_le_bytes());
        b[64..72].copy_from_slice(&self.overhead.to_le_bytes());
        b[72] = self.unclean_shutdown;
        b[73..77].copy_from_slice(&NEWLINE_TEST);
        b[77..79].copy_from_slice(&self.compress_algorithm.to_le_bytes());
        b
    }
}

/// The value of the first `key = value` line for `key` in descriptor text (unquoted), if a
/// complete one is there. Lines that are not `key = value` are passed over.
///
/// `complete`: the text is the whole descriptor; otherwise a last line without its newline
/// may be cut short and does not count. The text ends at its first NUL.
pub(crate) fn value_in(text: &[u8], key: &str, complete: bool) -> Option<String> {
    let (text, complete) = match text.iter().position(|&b| b == 0) {
        Some(nul) => (&text[..nul], true),
        None => (text, complete),
    };
    let text = match (complete, text.iter().rposition(|&b| b == b'\n')) {
        (true, _) => text,
        (false, Some(nl)) => &text[..nl],
        (false, None) => return None,
    };
    String::from_utf8_lossy(text).lines().find_map(|line| {
        let (k, v) = line.split_once('=')?;
        (k.trim() == key).then(|| crate::descriptor::unquote(v.trim()).to_owned())
    })
}

/// Detects what an image is from its first bytes.
///
/// Pass at least 512 bytes when the image has them (the whole embedded descriptor, up to
/// byte 11264 for images written by VMware or qemu-img, lets its `createType` count too);
/// shorter input is taken as the whole image. A sparse header (`KDMV`) is validated: a
/// garbled or hostile one is an error, not a guess.
///
/// ```
/// use esx_vmdk::{detect, Format};
/// assert_eq!(detect(b"# Disk DescriptorFile\nversion=1\n")?, Format::Descriptor);
/// assert_eq!(detect(&[0u8; 4096])?, Format::Raw);
/// assert!(detect(b"KDMV\x01\0\0\0").is_err()); // a sparse header cut short
/// # Ok::<(), esx_vmdk::VmdkError>(())
/// ```
pub fn detect(head: &[u8]) -> Result<Format, VmdkError> {
    if head.starts_with(MAGIC) {
        let Some(first) = head.first_chunk::<512>() else {
            return Err(VmdkError::truncated(
                head.len() as u64,
                "the sparse header needs 512 bytes",
            ));
        };
        let h = SparseHeader::parse(first, 0)?;
        let mut stream = h.stream();
        if h.descriptor_offset != 0 {
            let start = usize::try_from(h.descriptor_offset * SECTOR).unwrap_or(usize::MAX);
            let end = usize::try_from((h.descriptor_offset + h.descriptor_size) * SECTOR)
                .unwrap_or(usize::MAX);
            if start < head.len() {
                let text = &head[start..end.min(head.len())];
                let complete = end <= head.len();
                stream |=
                    value_in(text, "createType", complete).as_deref() == Some("streamOptimized");
            }
        }
        return Ok(if stream {
            Format::StreamOptimized
        } else {
            Format::MonolithicSparse
        });
    }
    if head.starts_with(b"COWD") {
        return Err(VmdkError::Unsupported(
            "a vmfsSparse (COWD) delta extent: convert it to a flat or streamOptimized image"
                .into(),
        ));
    }
    if head.starts_with(b"# Disk DescriptorFile") {
        return Ok(Format::Descriptor);
    }
    Ok(Format::Raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn header() -> SparseHeader {
        SparseHeader {
            version: 1,
            flags: FLAG_NEWLINE_TEST | FLAG_REDUNDANT_GT,
            capacity: 20480,
            grain_size: 128,
            descriptor_offset: 1,
            descriptor_size: 20,
            num_gtes_per_gt: 512,
            rgd_offset: 21,
            gd_offset: 26,
            overhead: 128,
            unclean_shutdown: 0,
            compress_algorithm: 0,
        }
    }

    fn with(f: impl FnOnce(&mut SparseHeader)) -> [u8; 512] {
        let mut h = header();
        f(&mut h);
        h.to_bytes()
    }

    fn corrupt_field(b: &[u8; 512]) -> u64 {
        match SparseHeader::parse(b, 0) {
            Err(VmdkError::Corrupt { offset, .. }) => offset,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn header_round_trips_through_bytes() {
        let b = header().to_bytes();
        assert_eq!(SparseHeader::parse(&b, 0).unwrap(), header());
        assert_eq!(&b[73..77], b"\n \r\n");
        assert_eq!(header().gd_entries(), 1);
        assert_eq!(header().gd_sectors(), 1);
    }

    #[test]
    fn detects_the_four_formats() {
        assert_eq!(
            detect(&header().to_bytes()).unwrap(),
            Format::MonolithicSparse
        );
        let so = with(|h| {
            h.flags |= FLAG_COMPRESSED | FLAG_MARKERS;
            h.compress_algorithm = 1;
            h.gd_offset = GD_AT_END;
        });
        assert_eq!(detect(&so).unwrap(), Format::StreamOptimized);
        assert_eq!(
            detect(b"# Disk DescriptorFile\n").unwrap(),
            Format::Descriptor
        );
        assert_eq!(detect(b"").unwrap(), Format::Raw);
        assert_eq!(detect(b"KDM").unwrap(), Format::Raw);
        assert_eq!(detect(b"QFI\xfb\0\0\0\x03").unwrap(), Format::Raw);
        assert!(matches!(
            detect(b"COWD\x01\0\0\0"),
            Err(VmdkError::Unsupported(_))
        ));
    }

    #[test]
    fn create_type_of_the_embedded_descriptor_counts() {
        let mut img = header().to_bytes().to_vec();
        img.extend_from_slice(
            b"# Disk DescriptorFile\nversion=1\ncreateType=\"streamOptimized\"\n",
        );
        assert_eq!(detect(&img).unwrap(), Format::StreamOptimized);
        // A line cut by the end of the head does not count.
        img.truncate(512 + 50);
        assert_eq!(detect(&img).unwrap(), Format::MonolithicSparse);
        assert_eq!(
            value_in(
                b"createType=\"monolithicSparse\"\n\0\0\0",
                "createType",
                false
            ),
            Some("monolithicSparse".into())
        );
        assert_eq!(value_in(b"createType=\"stream", "createType", false), None);
        assert_eq!(
            value_in(b"x=1\ncreateType=\"stream", "createType", false),
            None
        );
        assert_eq!(
            value_in(b"createType=\"vmfs\"", "createType", true),
            Some("vmfs".into())
        );
        assert_eq!(
            value_in(b"createType=\"vmfs\"\0\0", "createType", false),
            Some("vmfs".into())
        );
    }

    #[test]
    fn short_sparse_header_is_truncated() {
        let b = header().to_bytes();
        match detect(&b[..100]) {
            Err(VmdkError::Truncated { offset: 100, .. }) => {}
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn garbled_headers_name_the_field() {
        assert_eq!(corrupt_field(&with(|h| h.version = 9)), 4);
        assert_eq!(corrupt_field(&with(|h| h.grain_size = 100)), 20);
        assert_eq!(corrupt_field(&with(|h| h.grain_size = 4)), 20);
        assert_eq!(corrupt_field(&with(|h| h.grain_size = 0)), 20);
        assert_eq!(corrupt_field(&with(|h| h.num_gtes_per_gt = 4096)), 44);
        assert_eq!(corrupt_field(&with(|h| h.gd_offset = 10)), 56);
        assert_eq!(corrupt_field(&with(|h| h.rgd_offset = 26)), 56);
        assert_eq!(corrupt_field(&with(|h| h.descriptor_offset = 0)), 28);
        assert_eq!(corrupt_field(&with(|h| h.gd_offset = u64::MAX - 1)), 56);
        let mut text = header().to_bytes();
        text[75] = b'\n'; // "\r\n" became "\n"
        assert_eq!(corrupt_field(&text), 73);
        let compressed = with(|h| {
            h.flags |= FLAG_COMPRESSED;
            h.compress_algorithm = 7;
        });
        assert_eq!(corrupt_field(&compressed), 77);
        let so = with(|h| {
            h.flags |= FLAG_COMPRESSED | FLAG_MARKERS;
            h.compress_algorithm = 1;
            h.gd_offset = GD_AT_END;
            h.overhead = 5;
        });
        assert_eq!(corrupt_field(&so), 64);
        assert_eq!(corrupt_field(&with(|h| h.overhead = u64::MAX - 253)), 64);
    }

    #[test]
    fn capacity_above_64_tib_is_too_large() {
        let b = with(|h| h.capacity = (64 << 40) / 512 + 1);
        assert!(matches!(
            SparseHeader::parse(&b, 0),
            Err(VmdkError::TooLarge {
                what: "capacity",
                ..
            })
        ));
        let max = with(|h| {
            h.capacity = (64 << 40) / 512;
            h.rgd_offset = 0;
            h.flags = 0;
            h.gd_offset = 21;
        });
        SparseHeader::parse(&max, 0).unwrap();
        let b = with(|h| h.capacity = u64::MAX);
        assert!(matches!(detect(&b), Err(VmdkError::TooLarge { .. })));
    }

    #[test]
    fn huge_grains_and_descriptors_are_refused() {
        let b = with(|h| h.grain_size = 1 << 20);
        assert!(matches!(
            SparseHeader::parse(&b, 0),
            Err(VmdkError::Unsupported(_))
        ));
        let b = with(|h| h.descriptor_size = 1 << 40);
        assert!(matches!(
            SparseHeader::parse(&b, 0),
            Err(VmdkError::TooLarge { .. })
        ));
    }

    #[test]
    fn wrong_magic() {
        let mut b = header().to_bytes();
        b[0] = b'X';
        assert!(matches!(
            SparseHeader::parse(&b, 0),
            Err(VmdkError::BadMagic { offset: 0, .. })
        ));
    }
}
