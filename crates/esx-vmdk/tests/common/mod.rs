//! Helpers shared by the integration tests: a deterministic PRNG, patterned disks with holes,
//! temporary directories and reading images back.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use esx_vmdk::{Chunk, Reader, VmdkError, MAX_CHUNK};

/// xorshift64*: deterministic, good enough for test patterns.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    pub fn fill(&mut self, buf: &mut [u8]) {
        for c in buf.chunks_mut(8) {
            let v = self.next_u64().to_le_bytes();
            c.copy_from_slice(&v[..c.len()]);
        }
    }
}

/// A disk of `capacity` bytes: runs of random data (some compressible, some not), holes,
/// explicitly zero runs, and data in the first and the last byte.
pub fn patterned(capacity: usize, seed: u64) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    let mut disk = vec![0u8; capacity];
    let mut pos = 0usize;
    while pos < capacity {
        let len = (1 + rng.below(300_000) as usize).min(capacity - pos);
        match rng.below(4) {
            0 => rng.fill(&mut disk[pos..pos + len]),
            1 => {
                let b = rng.next_u64() as u8 | 1;
                for (i, x) in disk[pos..pos + len].iter_mut().enumerate() {
                    *x = b.wrapping_add((i / 97) as u8);
                }
            }
            _ => {} // a hole
        }
        pos += len;
    }
    if capacity > 0 {
        disk[0] = 0xA5;
        disk[capacity - 1] = 0x5A;
    }
    disk
}

/// Reads every chunk, checking their order and sizes, and returns the flat disk.
pub fn flatten<R: std::io::Read>(mut r: Reader<R>) -> Result<Vec<u8>, VmdkError> {
    let mut flat = vec![0u8; r.capacity() as usize];
    let mut end = 0u64;
    while let Some(Chunk { offset, data }) = r.next_chunk()? {
        assert!(
            offset >= end,
            "chunk at {offset} before the end {end} of the last"
        );
        assert!(
            !data.is_empty() && data.len() <= MAX_CHUNK,
            "{} bytes",
            data.len()
        );
        assert!(
            data.iter().any(|&b| b != 0),
            "an all-zero chunk at {offset}"
        );
        flat[offset as usize..offset as usize + data.len()].copy_from_slice(&data);
        end = offset + data.len() as u64;
    }
    Ok(flat)
}

/// A directory under the system temp dir, removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let dir =
            std::env::temp_dir().join(format!("esx-vmdk-{name}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub fn path(&self, file: &str) -> PathBuf {
        self.0.join(file)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `qemu-img` (or another qemu tool) if installed; otherwise a loud note on stderr.
pub fn qemu(tool: &str) -> Option<PathBuf> {
    for dir in ["/usr/bin", "/usr/local/bin"] {
        let p = Path::new(dir).join(tool);
        if p.exists() {
            return Some(p);
        }
    }
    if let Ok(out) = Command::new("which").arg(tool).output() {
        let p = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        if out.status.success() && !p.is_empty() {
            return Some(PathBuf::from(p));
        }
    }
    eprintln!("\n\n*** SKIPPED: {tool} not found ***\n");
    None
}

/// Runs a command, panicking with its output if it fails; returns its stdout.
pub fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Panics naming the first differing byte, for a readable failure.
pub fn assert_same(what: &str, got: &[u8], want: &[u8]) {
    if let Some(at) = first_difference(got, want) {
        panic!(
            "{what}: differs at byte {at} ({} vs {} bytes)",
            got.len(),
            want.len()
        );
    }
}

/// The index of the first differing byte.
pub fn first_difference(a: &[u8], b: &[u8]) -> Option<usize> {
    if a.len() != b.len() {
        return Some(a.len().min(b.len()));
    }
    a.iter().zip(b).position(|(x, y)| x != y)
}

/// Puts little-endian `fields` (offset, value, width in bytes) into a 512-byte sector.
pub fn sector_with(fields: &[(usize, u64, usize)]) -> Vec<u8> {
    let mut s = vec![0u8; 512];
    for &(at, value, width) in fields {
        s[at..at + width].copy_from_slice(&value.to_le_bytes()[..width]);
    }
    s
}

/// A monolithicSparse image of `disk` as VMware lays it out (header, descriptor, grain
/// directory, grain tables, then the non-zero grains in disk order), without a redundant
/// directory; `grain` in sectors.
pub fn monolithic(disk: &[u8], grain: u64) -> Vec<u8> {
    let sectors = (disk.len() as u64).div_ceil(512);
    let grains = sectors.div_ceil(grain);
    let tables = grains.div_ceil(512);
    let gd_sectors = (tables * 4).div_ceil(512);
    let gt_start = 21 + gd_sectors;
    let overhead = (gt_start + tables * 4).next_multiple_of(128);
    let mut img = sector_with(&[
        (0, 0x564d_444b, 4), // "KDMV"
        (4, 1, 4),
        (8, 1, 4), // valid newline test
        (12, sectors, 8),
        (20, grain, 8),
        (28, 1, 8),
        (36, 20, 8),
        (44, 512, 4),
        (56, 21, 8),
        (64, overhead, 8),
    ]);
    img[73..77].copy_from_slice(b"\n \r\n");
    let text = esx_vmdk::Descriptor {
        create_type: "monolithicSparse".into(),
        cid: 0x1234_5678,
        parent_cid: 0xffff_ffff,
        parent_hint: None,
        extents: vec![esx_vmdk::Extent {
            access: "RW".into(),
            sectors,
            kind: "SPARSE".into(),
            file: Some("test.vmdk".into()),
            offset: None,
        }],
        ddb: vec![("ddb.adapterType".into(), "buslogic".into())],
    }
    .to_text();
    img.extend_from_slice(text.as_bytes());
    img.resize(21 * 512, 0);
    for t in 0..tables {
        img.extend_from_slice(&((gt_start + t * 4) as u32).to_le_bytes());
    }
    img.resize((gt_start * 512) as usize, 0);
    let gt_at = img.len();
    img.resize((overhead * 512) as usize, 0);
    let gb = (grain * 512) as usize;
    for (g, data) in disk.chunks(gb).enumerate() {
        if data.iter().all(|&b| b == 0) {
            continue;
        }
        let sector = (img.len() / 512) as u32;
        img[gt_at + g * 4..gt_at + g * 4 + 4].copy_from_slice(&sector.to_le_bytes());
        img.extend_from_slice(data);
        img.resize(img.len().next_multiple_of(gb), 0);
    }
    img
}

/// Reads every chunk and drops it, returning how many bytes they held.
pub fn flatten_chunks<R: std::io::Read>(mut r: Reader<R>) -> Result<u64, VmdkError> {
    let mut n = 0;
    while let Some(c) = r.next_chunk()? {
        n += c.data.len() as u64;
    }
    Ok(n)
}
