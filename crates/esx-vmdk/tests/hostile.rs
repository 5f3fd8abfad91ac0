//! Hostile and damaged input: each case is a precise error (kind and byte offset), never a
//! panic and never a short success.

mod common;

use std::io::Read;

use common::{flatten, monolithic, patterned, sector_with};
use esx_vmdk::{detect, write_stream_optimized, Descriptor, Reader, VmdkError};

const GRAIN: usize = 64 * 1024;

/// Reads an image to its end through `open`, returning the first error.
fn read_all(image: &[u8]) -> Result<Vec<u8>, VmdkError> {
    flatten(Reader::open(image, None)?)
}

fn stream_image() -> (Vec<u8>, Vec<u8>) {
    let disk = patterned(6 * GRAIN + 1024, 77);
    let image =
        write_stream_optimized(disk.as_slice(), disk.len() as u64, "lsilogic", Vec::new()).unwrap();
    (disk, image)
}

/// The file offsets of the grain markers of one of our images (they start at 64 KiB).
fn grain_markers(image: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut at = 128 * 512;
    loop {
        let size = u32::from_le_bytes(image[at + 8..at + 12].try_into().unwrap()) as usize;
        if size == 0 {
            return out;
        }
        out.push(at);
        at = (at + 12 + size).next_multiple_of(512);
    }
}

fn cut_points(len: usize) -> impl Iterator<Item = usize> {
    (0..len).step_by(509).chain([
        1,
        4,
        511,
        512,
        513,
        len - 1024,
        len - 513,
        len - 512,
        len - 1,
    ])
}

#[test]
fn truncated_stream_optimized_is_an_error_at_the_cut() {
    let (disk, image) = stream_image();
    assert_eq!(read_all(&image).unwrap(), disk);
    for cut in cut_points(image.len()) {
        match read_all(&image[..cut]) {
            Err(VmdkError::Truncated { offset, .. }) => assert_eq!(offset, cut as u64, "cut {cut}"),
            // Cut inside the header's first bytes: not a sparse image, so raw without a length.
            Err(VmdkError::Unsupported(_)) if cut < 4 => {}
            other => panic!("cut at {cut}: {:?}", other.map(|v| v.len())),
        }
        // The flat stream says so too, as UnexpectedEof, never a short Ok.
        if cut >= 512 {
            let mut flat = Vec::new();
            let e = Reader::open(&image[..cut], None)
                .map(|r| r.into_flat().read_to_end(&mut flat))
                .map(|r| r.unwrap_err());
            match e {
                Ok(io) => {
                    assert_eq!(io.kind(), std::io::ErrorKind::UnexpectedEof, "cut {cut}");
                    assert!(
                        io.to_string().contains(&format!("truncated at byte {cut}")),
                        "{io}"
                    );
                }
                Err(VmdkError::Truncated { .. }) => {}
                Err(other) => panic!("cut at {cut}: {other:?}"),
            }
        }
    }
}

#[test]
fn truncated_monolithic_sparse_is_an_error_at_the_cut() {
    let disk = patterned(8 * GRAIN, 78);
    let image = monolithic(&disk, 128);
    assert_eq!(read_all(&image).unwrap(), disk);
    for cut in cut_points(image.len()).filter(|&c| c >= 512) {
        match read_all(&image[..cut]) {
            Err(VmdkError::Truncated { offset, .. }) => assert_eq!(offset, cut as u64, "cut {cut}"),
            other => panic!("cut at {cut}: {:?}", other.map(|v| v.len())),
        }
    }
}

#[test]
fn truncated_raw_is_an_error_at_the_cut() {
    let disk = patterned(3 * GRAIN, 79);
    for cut in [0, 1, GRAIN, 2 * GRAIN + 5] {
        match flatten(Reader::raw(&disk[..cut], disk.len() as u64).unwrap()) {
            Err(VmdkError::Truncated { offset, .. }) => assert_eq!(offset, cut as u64),
            other => panic!("cut at {cut}: {:?}", other.map(|v| v.len())),
        }
    }
}

#[test]
fn wrong_magic() {
    let (_, mut image) = stream_image();
    image[0] = b'X';
    match Reader::sparse(image.as_slice()) {
        Err(VmdkError::BadMagic { offset: 0, found }) => assert_eq!(found, b"XDMV"),
        other => panic!("{other:?}"),
    }
    // Through open, it is simply not a sparse image: raw, which needs a length.
    assert!(matches!(
        Reader::open(image.as_slice(), None),
        Err(VmdkError::Unsupported(_))
    ));
    assert!(matches!(
        Reader::sparse(&b"KD"[..]),
        Err(VmdkError::Truncated { offset: 2, .. })
    ));
}

#[test]
fn grain_directory_past_the_end() {
    let disk = patterned(4 * GRAIN, 80);
    let mut image = monolithic(&disk, 128);
    image[56..64].copy_from_slice(&1_000_000u64.to_le_bytes());
    match Reader::open(image.as_slice(), None) {
        Err(VmdkError::Truncated { offset, what }) => {
            assert_eq!(offset, image.len() as u64);
            assert!(what.contains("grain directory"), "{what}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn grain_table_and_grain_past_the_end() {
    let disk = patterned(4 * GRAIN, 81);
    let mut image = monolithic(&disk, 128);
    let gd = 21 * 512;
    let mut bad = image.clone();
    bad[gd..gd + 4].copy_from_slice(&4_000_000u32.to_le_bytes());
    match Reader::open(bad.as_slice(), None) {
        Err(VmdkError::Truncated { offset, what }) => {
            assert_eq!(offset, bad.len() as u64);
            assert!(what.contains("grain table 0"), "{what}");
        }
        other => panic!("{other:?}"),
    }
    // The last grain table entry points past the end: found while reading grains.
    let gt = 22 * 512;
    image[gt + 12..gt + 16].copy_from_slice(&4_000_000u32.to_le_bytes());
    match read_all(&image) {
        Err(VmdkError::Truncated { offset, .. }) => assert_eq!(offset, image.len() as u64),
        other => panic!("{:?}", other.map(|v| v.len())),
    }
}

#[test]
fn grain_tables_overlapping_the_directory_or_each_other() {
    let disk = patterned(40 << 20, 82);
    let image = monolithic(&disk, 128);
    let gd = 21 * 512;
    let mut bad = image.clone();
    bad[gd..gd + 4].copy_from_slice(&21u32.to_le_bytes());
    match Reader::open(bad.as_slice(), None) {
        Err(VmdkError::Corrupt { offset, what }) => {
            assert_eq!(offset, gd as u64);
            assert!(what.contains("overlaps the grain directory"), "{what}");
        }
        other => panic!("{other:?}"),
    }
    let mut bad = image.clone();
    let second = u32::from_le_bytes(image[gd..gd + 4].try_into().unwrap()) + 2;
    bad[gd + 4..gd + 8].copy_from_slice(&second.to_le_bytes());
    match Reader::open(bad.as_slice(), None) {
        Err(VmdkError::Corrupt { offset, what }) => {
            assert_eq!(offset, gd as u64 + 4);
            assert!(what.contains("grain tables 0 and 1 overlap"), "{what}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn grains_overlapping_or_before_the_tables() {
    let disk = vec![0x33u8; 4 * GRAIN];
    let image = monolithic(&disk, 128);
    let gt = 22 * 512;
    let first = u32::from_le_bytes(image[gt..gt + 4].try_into().unwrap());
    let mut bad = image.clone();
    bad[gt + 4..gt + 8].copy_from_slice(&(first + 64).to_le_bytes());
    assert!(matches!(
        Reader::open(bad.as_slice(), None),
        Err(VmdkError::Corrupt { offset, .. }) if offset == u64::from(first + 64) * 512
    ));
    let mut bad = image.clone();
    bad[gt + 4..gt + 8].copy_from_slice(&5u32.to_le_bytes());
    match Reader::open(bad.as_slice(), None) {
        Err(VmdkError::Unsupported(what)) => {
            assert!(what.contains("disk byte 65536 is at byte 2560"), "{what}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn grain_marker_with_a_huge_size() {
    let (_, mut image) = stream_image();
    let at = grain_markers(&image)[1];
    image[at + 8..at + 12].copy_from_slice(&u32::MAX.to_le_bytes());
    match read_all(&image) {
        Err(VmdkError::Corrupt { offset, what }) => {
            assert_eq!(offset, at as u64 + 8);
            assert!(what.contains("4294967295 compressed bytes"), "{what}");
        }
        other => panic!("{:?}", other.map(|v| v.len())),
    }
}

#[test]
fn grain_markers_out_of_range_or_misaligned() {
    let (_, image) = stream_image();
    let at = grain_markers(&image)[0];
    for lba in [5u64, 1 << 40, 896] {
        let mut bad = image.clone();
        bad[at..at + 8].copy_from_slice(&lba.to_le_bytes());
        match read_all(&bad) {
            Err(VmdkError::Corrupt { offset, .. }) => assert_eq!(offset, at as u64, "{lba}"),
            other => panic!("{lba}: {:?}", other.map(|v| v.len())),
        }
    }
}

#[test]
fn grains_out_of_order() {
    let (_, image) = stream_image();
    let markers = grain_markers(&image);
    let mut bad = image.clone();
    // The second grain claims the first grain's sector.
    let first_lba = image[markers[0]..markers[0] + 8].to_vec();
    bad[markers[1]..markers[1] + 8].copy_from_slice(&first_lba);
    let lba = u64::from_le_bytes(first_lba.try_into().unwrap());
    match read_all(&bad) {
        Err(VmdkError::OutOfOrder {
            offset,
            disk_offset,
            previous,
        }) => {
            assert_eq!(offset, markers[1] as u64);
            assert_eq!((disk_offset, previous), (lba * 512, lba * 512));
        }
        other => panic!("{:?}", other.map(|v| v.len())),
    }
}

#[test]
fn grain_data_that_does_not_inflate() {
    let (_, image) = stream_image();
    let at = grain_markers(&image)[0];
    let mut bad = image.clone();
    for b in &mut bad[at + 14..at + 40] {
        *b ^= 0x5a;
    }
    match read_all(&bad) {
        Err(VmdkError::Corrupt { offset, what }) => {
            assert_eq!(offset, at as u64 + 12);
            assert!(
                what.contains("inflate") || what.contains("deflate"),
                "{what}"
            );
        }
        other => panic!("{:?}", other.map(|v| v.len())),
    }
    // A compressed size too small cuts the deflate stream.
    let mut bad = image.clone();
    bad[at + 8..at + 12].copy_from_slice(&10u32.to_le_bytes());
    assert!(matches!(read_all(&bad), Err(VmdkError::Corrupt { .. })));
}

#[test]
fn unknown_marker_type() {
    let (_, mut image) = stream_image();
    let end = image.len();
    // The footer marker (end - 1536) gets type 9.
    image[end - 1536 + 12] = 9;
    match read_all(&image) {
        Err(VmdkError::Corrupt { offset, .. }) => assert_eq!(offset, end as u64 - 1536 + 12),
        other => panic!("{:?}", other.map(|v| v.len())),
    }
}

#[test]
fn capacity_above_64_tib() {
    let (_, mut image) = stream_image();
    image[12..20].copy_from_slice(&((64u64 << 40) / 512 + 128).to_le_bytes());
    assert!(matches!(
        detect(&image),
        Err(VmdkError::TooLarge {
            what: "capacity",
            ..
        })
    ));
    assert!(matches!(
        Reader::open(image.as_slice(), None),
        Err(VmdkError::TooLarge { .. })
    ));
    assert!(matches!(
        Reader::raw(&b""[..], (64 << 40) + 1),
        Err(VmdkError::TooLarge { .. })
    ));
    assert!(matches!(
        esx_vmdk::StreamOptimizedWriter::new(Vec::new(), (64 << 40) + 1, "ide"),
        Err(VmdkError::TooLarge { .. })
    ));
    // Exactly 64 TiB of holes is fine.
    image[12..20].copy_from_slice(&((64u64 << 40) / 512).to_le_bytes());
    Reader::open(image.as_slice(), None).unwrap();
}

#[test]
fn hostile_header_fields() {
    let (_, image) = stream_image();
    for (field, value, width, offset) in [
        (4, 77u64, 4, 4u64), // version
        (20, 3, 8, 20),      // grain size
        (44, 1, 4, 44),      // entries per grain table
        (64, 3, 8, 64),      // overHead inside the descriptor
        (77, 2, 2, 77),      // compression algorithm
    ] {
        let mut bad = image.clone();
        bad[field..field + width].copy_from_slice(&value.to_le_bytes()[..width]);
        match Reader::open(bad.as_slice(), None) {
            Err(VmdkError::Corrupt { offset: o, .. }) => assert_eq!(o, offset, "field {field}"),
            other => panic!("field {field}: {other:?}"),
        }
    }
}

#[test]
fn garbage_embedded_descriptor_is_not_fatal_but_a_descriptor_file_is_refused() {
    let (disk, mut image) = stream_image();
    image[512..1024].fill(0xff);
    let r = Reader::open(image.as_slice(), None).unwrap();
    assert_eq!(r.adapter_type(), None);
    assert_eq!(flatten(r).unwrap(), disk);
    let text = Descriptor::flat("a-flat.vmdk", 1 << 20, "ide", false, "u").to_text();
    assert!(matches!(
        Reader::open(text.as_bytes(), Some(text.len() as u64)),
        Err(VmdkError::DescriptorFile)
    ));
}

#[test]
fn descriptor_garbage() {
    for (text, line) in [
        ("\u{0}\u{1}\u{2}", 1),
        ("createType=\"vmfs\"\nRW 12 VMFS \"a\"\n}{", 3),
        ("createType=\"vmfs\"\nRW -1 VMFS \"a\"\n", 2),
        (
            "createType=\"vmfs\"\nRW 99999999999999999999 VMFS \"a\"\n",
            2,
        ),
        ("# Disk DescriptorFile\nCID=\"zz\"\n", 2),
        ("# Disk DescriptorFile\n", 0),
    ] {
        match Descriptor::parse(text) {
            Err(VmdkError::Descriptor { line: l, .. }) => assert_eq!(l, line, "{text:?}"),
            other => panic!("{text:?}: {other:?}"),
        }
    }
}

#[test]
fn a_stream_without_its_end_of_stream_marker_is_truncated() {
    let (_, image) = stream_image();
    // Everything up to the footer's end, without the end-of-stream marker.
    let cut = image.len() - 512;
    match read_all(&image[..cut]) {
        Err(VmdkError::Truncated { offset, what }) => {
            assert_eq!(offset, cut as u64);
            assert!(what.contains("marker"), "{what}");
        }
        other => panic!("{:?}", other.map(|v| v.len())),
    }
}

#[test]
fn writer_misuse_is_refused() {
    let mut w = esx_vmdk::StreamOptimizedWriter::new(Vec::new(), 4096, "lsilogic").unwrap();
    w.write_at(100, b"abc").unwrap();
    assert!(matches!(
        w.write_at(102, b"x"),
        Err(VmdkError::BadWrite { offset: 102, .. })
    ));
    assert!(matches!(
        w.write_at(4095, b"xy"),
        Err(VmdkError::BadWrite { offset: 4095, .. })
    ));
    assert!(matches!(
        w.write_at(u64::MAX, b"x"),
        Err(VmdkError::BadWrite { .. })
    ));
    w.write_at(4095, b"z").unwrap();
    w.finish().unwrap();
    for bad in ["", "lsi logic", "ide\"", "a\nb"] {
        assert!(matches!(
            esx_vmdk::StreamOptimizedWriter::new(Vec::new(), 4096, bad),
            Err(VmdkError::Unsupported(_))
        ));
    }
    // write_stream_optimized wants exactly `capacity` bytes.
    match write_stream_optimized(&[1u8; 1000][..], 1001, "ide", Vec::new()) {
        Err(VmdkError::Truncated { offset: 1000, .. }) => {}
        other => panic!("{:?}", other.map(|v| v.len())),
    }
    match write_stream_optimized(&[1u8; 1000][..], 999, "ide", Vec::new()) {
        Err(VmdkError::Corrupt { offset: 999, .. }) => {}
        other => panic!("{:?}", other.map(|v| v.len())),
    }
}

#[test]
fn a_forward_only_reader_cannot_go_back_for_metadata() {
    // Grain directory before the descriptor's end is caught by the header checks; one that
    // sits after the grains it indexes is reached, but its tables point back.
    let disk = vec![0x44u8; 2 * GRAIN];
    let image = monolithic(&disk, 128);
    let overhead = u64::from_le_bytes(image[64..72].try_into().unwrap()) as usize;
    // Move the directory and table after the grains: GD at the end, GT right after it.
    let mut bad = image.clone();
    let gd_sector = (bad.len() / 512) as u64;
    let mut gd = sector_with(&[(0, gd_sector + 1, 4)]);
    gd.extend_from_slice(&image[22 * 512..23 * 512]);
    gd.resize(5 * 512, 0);
    bad.extend_from_slice(&gd);
    bad[56..64].copy_from_slice(&gd_sector.to_le_bytes());
    assert!(overhead * 512 < bad.len());
    match Reader::open(bad.as_slice(), None) {
        Err(VmdkError::Unsupported(what)) => assert!(what.contains("tables before"), "{what}"),
        other => panic!("{other:?}"),
    }
    // A seekable reader goes back for the grains.
    let r = Reader::open_seekable(std::io::Cursor::new(bad)).unwrap();
    assert_eq!(flatten(r).unwrap(), disk);
}

#[test]
fn next_chunk_after_an_error_fails_again() {
    let (_, image) = stream_image();
    let mut r = Reader::open(&image[..70_000], None).unwrap();
    let first = loop {
        match r.next_chunk() {
            Ok(Some(_)) => continue,
            Ok(None) => panic!("a short success"),
            Err(e) => break e,
        }
    };
    assert!(matches!(first, VmdkError::Truncated { .. }));
    let again = r.next_chunk().unwrap_err();
    assert!(again.to_string().contains("earlier error"), "{again}");
}
