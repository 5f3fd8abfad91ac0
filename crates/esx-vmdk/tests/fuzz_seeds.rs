//! Replays the fuzz targets' committed seed corpora (`fuzz/seeds/<target>/`) through the
//! targets' own checks, on stable, in `cargo test`: a regression fails CI without nightly.
//!
//! The seeds are made by `write_seeds` below (our own data):
//! `cargo test -p esx-vmdk --test fuzz_seeds -- --ignored write_seeds`.

mod common;

use std::path::{Path, PathBuf};

use common::{monolithic, sector_with};
use esx_vmdk::{Descriptor, Format, Reader, VmdkError};

fn dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/seeds")
        .join(target)
}

fn seeds(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = dir(target);
    let mut out: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect();
    out.sort();
    out
}

/// A minimal streamOptimized image: header, a one-sector descriptor, then `body` from
/// sector 2 (grains of 8 sectors).
fn stream(capacity_sectors: u64, body: &[u8]) -> Vec<u8> {
    let mut img = sector_with(&[
        (0, 0x564d_444b, 4),
        (4, 3, 4),
        (8, 0x3_0001, 4),
        (12, capacity_sectors, 8),
        (20, 8, 8),
        (28, 1, 8),
        (36, 1, 8),
        (44, 512, 4),
        (56, u64::MAX, 8),
        (64, 2, 8),
        (77, 1, 2),
    ]);
    img[73..77].copy_from_slice(b"\n \r\n");
    let mut text = b"# Disk DescriptorFile\ncreateType=\"streamOptimized\"\n\
        RW 64 SPARSE \"s.vmdk\"\nddb.adapterType = \"ide\"\n"
        .to_vec();
    text.resize(512, 0);
    img.extend_from_slice(&text);
    img.extend_from_slice(body);
    img
}

fn marker(value: u64, kind: u32, sectors: usize) -> Vec<u8> {
    let mut m = sector_with(&[(0, value, 8), (12, u64::from(kind), 4)]);
    m.resize(512 * (1 + sectors), 0);
    m
}

fn grain(lba: u64, data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(data).unwrap();
    let c = z.finish().unwrap();
    let mut m = lba.to_le_bytes().to_vec();
    m.extend_from_slice(&(c.len() as u32).to_le_bytes());
    m.extend_from_slice(&c);
    m.resize(m.len().next_multiple_of(512), 0);
    m
}

/// Named seeds of one target.
type Seeds = Vec<(&'static str, Vec<u8>)>;

fn image_seeds() -> Seeds {
    let pattern: Vec<u8> = (0..4096u32).map(|i| (i % 13) as u8 + 1).collect();
    let mut so = grain(0, &pattern);
    so.extend(grain(16, &pattern));
    so.extend(marker(0, 0, 0));
    let mut so_meta = marker(4, 1, 4);
    so_meta.extend(grain(8, &pattern));
    so_meta.extend(marker(1, 2, 1));
    so_meta.extend(marker(1, 3, 1));
    so_meta.extend(marker(0, 0, 0));
    let mut ms_disk = vec![0u8; 64 * 512];
    ms_disk[4096..8192].copy_from_slice(&pattern);
    ms_disk[32767] = 9;
    let ms = monolithic(&ms_disk, 8);
    let mut truncated = stream(64, &so);
    truncated.truncate(1500);
    vec![
        ("so-two-grains", stream(64, &so)),
        ("so-metadata-markers", stream(64, &so_meta)),
        ("so-truncated", truncated),
        ("ms-grain-8", ms.clone()),
        ("ms-gd-past-end", {
            let mut m = ms;
            m[56..64].copy_from_slice(&900u64.to_le_bytes());
            m
        }),
        ("raw", pattern[..700].to_vec()),
        // Found by the fuzzer: overHead near 2^64 overflowed a multiplication.
        ("so-overhead-overflow", {
            let mut s = stream(64, &so);
            s[64..72].copy_from_slice(&(u64::MAX - 253).to_le_bytes());
            s
        }),
        (
            "descriptor-file",
            Descriptor::flat("a-flat.vmdk", 1 << 20, "lsilogic", true, "u")
                .to_text()
                .into_bytes(),
        ),
    ]
}

fn descriptor_seeds() -> Seeds {
    let esx = Descriptor::flat("web-flat.vmdk", 8 << 30, "lsilogic", true, "60 00 C2 9a 5b");
    vec![
        ("esx-flat", esx.to_text().into_bytes()),
        (
            "split-with-parent",
            b"# Disk DescriptorFile\nversion=1\nCID=12ab34cd\nparentCID=fffffffe\n\
              createType=\"twoGbMaxExtentFlat\"\nparentFileNameHint=\"base.vmdk\"\n\
              RW 4192256 FLAT \"d-f001.vmdk\" 0\nRDONLY 2048 ZERO\n\
              ddb.adapterType = \"buslogic\"\nddb.toolsVersion = 12\n"
                .to_vec(),
        ),
        (
            "embedded-sparse",
            b"# Disk DescriptorFile\nversion=1\nCID=b8148732\nparentCID=ffffffff\n\
              createType=\"monolithicSparse\"\n\n# Extent description\n\
              RW 20505 SPARSE \"ms.vmdk\"\n\n# The Disk Data Base\n#DDB\n\n\
              ddb.virtualHWVersion = \"4\"\nddb.adapterType = \"ide\"\n"
                .to_vec(),
        ),
        (
            "garbage",
            b"createType=\"vmfs\"\nRW 1 VMFS \"a\"\n\x01}{ \"x\n".to_vec(),
        ),
        (
            "quotes",
            b"createType=\"\"\"\nRW 1 FLAT \"a\"b\" 7\nddb.x = \"\n".to_vec(),
        ),
    ]
}

fn round_trip_seeds() -> Seeds {
    vec![
        ("empty-disk", vec![0x10, 0x00, 3]),
        (
            "two-writes",
            vec![0x00, 0x10, 5, 1, 0, 200, 0x11, 0x40, 0x02, 255, 0x22],
        ),
        ("last-byte", vec![0x01, 0x00, 0, 0x06, 0x00, 1, 0x77]),
    ]
}

fn all_seeds() -> Vec<(&'static str, Seeds)> {
    vec![
        ("image", image_seeds()),
        ("descriptor", descriptor_seeds()),
        ("round_trip", round_trip_seeds()),
    ]
}

/// Regenerates the committed seeds (run by hand after changing them here).
#[test]
#[ignore]
fn write_seeds() {
    for (target, seeds) in all_seeds() {
        let d = dir(target);
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        for (name, data) in seeds {
            std::fs::write(d.join(name), data).unwrap();
        }
    }
}

/// What an image seed reads as: its chunks, or its error.
fn outcome(data: &[u8]) -> String {
    let chunks = Reader::open(data, Some(data.len() as u64)).and_then(|mut r| {
        let mut all = Vec::new();
        while let Some(c) = r.next_chunk()? {
            all.push(c);
        }
        Ok(all)
    });
    format!("{chunks:?}")
}

#[test]
fn committed_seeds_are_the_generated_ones() {
    for (target, generated) in all_seeds() {
        let committed = seeds(target);
        let names: Vec<&str> = committed.iter().map(|(n, _)| n.as_str()).collect();
        let mut want: Vec<&str> = generated.iter().map(|(n, _)| *n).collect();
        want.sort();
        assert_eq!(names, want, "{target}");
        for (name, data) in generated {
            let c = &committed.iter().find(|(n, _)| n == name).unwrap().1;
            // Compressed grains may differ between deflate versions: then the image must
            // still read the same.
            let same = c == &data || (target == "image" && outcome(c) == outcome(&data));
            assert!(same, "{target}/{name} differs from what write_seeds makes");
        }
    }
}

fn replay(target: &str, check: fn(&[u8])) -> Vec<(String, Vec<u8>)> {
    let all = seeds(target);
    assert!(all.len() >= 3, "{} seeds", all.len());
    for (name, data) in &all {
        let r = std::panic::catch_unwind(|| check(data));
        assert!(r.is_ok(), "seed {target}/{name}");
    }
    all
}

fn seed<'a>(all: &'a [(String, Vec<u8>)], name: &str) -> &'a [u8] {
    &all.iter().find(|(n, _)| n == name).unwrap().1
}

#[test]
fn image_seeds_replay() {
    let all = replay("image", esx_vmdk::fuzz::image);
    let chunks = |name: &str| -> Result<Vec<(u64, usize)>, VmdkError> {
        let d = seed(&all, name);
        let mut r = Reader::open(d, Some(d.len() as u64))?;
        let mut out = Vec::new();
        while let Some(c) = r.next_chunk()? {
            out.push((c.offset, c.data.len()));
        }
        Ok(out)
    };
    assert_eq!(chunks("so-two-grains").unwrap(), [(0, 4096), (8192, 4096)]);
    assert_eq!(chunks("so-metadata-markers").unwrap(), [(4096, 4096)]);
    assert_eq!(chunks("ms-grain-8").unwrap(), [(4096, 4096), (28672, 4096)]);
    assert_eq!(chunks("raw").unwrap(), [(0, 700)]);
    assert!(matches!(
        chunks("so-truncated"),
        Err(VmdkError::Truncated { offset: 1500, .. })
    ));
    assert!(matches!(
        chunks("ms-gd-past-end"),
        Err(VmdkError::Truncated { .. })
    ));
    assert!(matches!(
        chunks("descriptor-file"),
        Err(VmdkError::DescriptorFile)
    ));
    let r = Reader::open(seed(&all, "so-two-grains"), None).unwrap();
    assert_eq!(
        (r.format(), r.adapter_type()),
        (Format::StreamOptimized, Some("ide"))
    );
}

#[test]
fn descriptor_seeds_replay() {
    let all = replay("descriptor", esx_vmdk::fuzz::descriptor);
    let parse = |n: &str| Descriptor::parse(std::str::from_utf8(seed(&all, n)).unwrap());
    assert_eq!(parse("esx-flat").unwrap().capacity(), 8 << 30);
    assert_eq!(parse("split-with-parent").unwrap().extents.len(), 2);
    assert_eq!(
        parse("embedded-sparse").unwrap().adapter_type(),
        Some("ide")
    );
    assert!(matches!(
        parse("garbage"),
        Err(VmdkError::Descriptor { line: 3, .. })
    ));
    assert_eq!(parse("quotes").unwrap().create_type, "\"");
}

#[test]
fn round_trip_seeds_replay() {
    replay("round_trip", esx_vmdk::fuzz::round_trip);
}
