//! Round trips: flat bytes → streamOptimized (ours) → Reader → the same flat bytes; and the
//! monolithicSparse and raw readers on images built here.

mod common;

use std::io::Read;

use common::{assert_same, flatten, monolithic, patterned, Rng};
use esx_vmdk::{write_stream_optimized, Format, Reader, StreamOptimizedWriter, MAX_CHUNK};

const GRAIN: usize = 64 * 1024;

fn through_stream_optimized(disk: &[u8]) -> Vec<u8> {
    write_stream_optimized(disk, disk.len() as u64, "lsilogic", Vec::new()).unwrap()
}

#[test]
fn patterned_disks_round_trip() {
    // Capacities: a grain, not a multiple of a grain, across a grain table (32 MiB).
    for (i, cap) in [GRAIN, 3 * GRAIN + 512, 1_000_448, (32 << 20) + 5 * 512]
        .into_iter()
        .enumerate()
    {
        let disk = patterned(cap, i as u64);
        let image = through_stream_optimized(&disk);
        let r = Reader::open(image.as_slice(), None).unwrap();
        assert_eq!(
            (r.format(), r.capacity()),
            (Format::StreamOptimized, cap as u64)
        );
        assert_same(&format!("chunks of {cap}"), &flatten(r).unwrap(), &disk);
        let mut flat = Vec::new();
        Reader::sparse(image.as_slice())
            .unwrap()
            .into_flat()
            .read_to_end(&mut flat)
            .unwrap();
        assert_same(&format!("flat of {cap}"), &flat, &disk);
    }
}

#[test]
fn capacities_that_are_not_whole_sectors_round_up() {
    let mut disk = vec![0u8; 1000];
    disk[999] = 7;
    let image = through_stream_optimized(&disk);
    let r = Reader::open(image.as_slice(), None).unwrap();
    assert_eq!(r.capacity(), 1024);
    let flat = flatten(r).unwrap();
    assert_same("rounded", &flat[..1000], &disk);
    assert!(flat[1000..].iter().all(|&b| b == 0));
}

#[test]
fn holes_last_byte_and_empty_disks() {
    let cap = 5 * GRAIN + 1536;
    let mut disk = vec![0u8; cap];
    disk[cap - 1] = 1; // only the last byte
    assert_same(
        "last byte",
        &flatten(Reader::open(through_stream_optimized(&disk).as_slice(), None).unwrap()).unwrap(),
        &disk,
    );
    let empty = vec![0u8; cap];
    let image = through_stream_optimized(&empty);
    let mut r = Reader::open(image.as_slice(), None).unwrap();
    assert_eq!(r.next_chunk().unwrap(), None);
    let mut flat = Vec::new();
    Reader::open(image.as_slice(), None)
        .unwrap()
        .into_flat()
        .read_to_end(&mut flat)
        .unwrap();
    assert_same("empty", &flat, &empty);
    // A zero-capacity disk is an image too.
    let none = through_stream_optimized(&[]);
    let r = Reader::open(none.as_slice(), None).unwrap();
    assert_eq!(r.capacity(), 0);
    assert_eq!(r.into_flat().read(&mut [0; 8]).unwrap(), 0);
}

#[test]
fn writes_at_any_alignment_round_trip() {
    let cap = 3 * GRAIN as u64 + 777;
    let mut rng = Rng::new(99);
    for round in 0..20 {
        let mut w = StreamOptimizedWriter::new(Vec::new(), cap, "ide").unwrap();
        let mut want = vec![0u8; cap as usize];
        let mut pos = 0u64;
        loop {
            let offset = pos + rng.below(GRAIN as u64 / 2);
            let len = rng.below(GRAIN as u64 + 100);
            if offset + len > cap {
                break;
            }
            let mut data = vec![0u8; len as usize];
            rng.fill(&mut data);
            w.write_at(offset, &data).unwrap();
            want[offset as usize..(offset + len) as usize].copy_from_slice(&data);
            pos = offset + len;
        }
        let image = w.finish().unwrap();
        let r = Reader::open(image.as_slice(), None).unwrap();
        assert_eq!(r.adapter_type(), Some("ide"));
        assert_same(
            &format!("round {round}"),
            &flatten(r).unwrap()[..cap as usize],
            &want,
        );
    }
}

#[test]
fn chunks_merge_up_to_a_mebibyte() {
    let disk = vec![0x11u8; 5 * MAX_CHUNK + GRAIN];
    let image = through_stream_optimized(&disk);
    let mut r = Reader::open(image.as_slice(), None).unwrap();
    let mut sizes = Vec::new();
    while let Some(c) = r.next_chunk().unwrap() {
        assert_eq!(c.offset, (sizes.len() * MAX_CHUNK) as u64);
        sizes.push(c.data.len());
    }
    assert_eq!(
        sizes,
        [MAX_CHUNK, MAX_CHUNK, MAX_CHUNK, MAX_CHUNK, MAX_CHUNK, GRAIN]
    );
}

#[test]
fn zero_grains_are_skipped_in_chunks() {
    let mut disk = vec![0x22u8; 4 * GRAIN];
    disk[GRAIN..2 * GRAIN].fill(0);
    // Written as data, stored as no grain, read as a hole: two chunks.
    let image = through_stream_optimized(&disk);
    let mut r = Reader::open(image.as_slice(), None).unwrap();
    let a = r.next_chunk().unwrap().unwrap();
    let b = r.next_chunk().unwrap().unwrap();
    assert_eq!(
        (a.offset, a.data.len(), b.offset, b.data.len()),
        (0, GRAIN as u64 as usize, 2 * GRAIN as u64, 2 * GRAIN)
    );
    assert_eq!(r.next_chunk().unwrap(), None);
    // Raw images skip zero blocks too.
    let mut r = Reader::raw(disk.as_slice(), disk.len() as u64).unwrap();
    let a = r.next_chunk().unwrap().unwrap();
    assert_eq!((a.offset, a.data.len()), (0, GRAIN));
    assert_eq!(r.next_chunk().unwrap().unwrap().offset, 2 * GRAIN as u64);
}

#[test]
fn monolithic_sparse_images_read_back() {
    for (i, (cap, grain)) in [
        (3 * GRAIN + 512, 128),
        ((33 << 20) + 512, 128),
        (50_000 * 512, 8),
        (4 << 20, 2048),
    ]
    .into_iter()
    .enumerate()
    {
        let disk = patterned(cap, 40 + i as u64);
        let image = monolithic(&disk, grain);
        let r = Reader::open(image.as_slice(), None).unwrap();
        assert_eq!(
            (r.format(), r.capacity(), r.adapter_type()),
            (Format::MonolithicSparse, cap as u64, Some("buslogic"))
        );
        assert_same(
            &format!("monolithic {cap}/{grain}"),
            &flatten(r).unwrap(),
            &disk,
        );
        let r = Reader::open_seekable(std::io::Cursor::new(&image)).unwrap();
        assert_same(
            &format!("seekable {cap}/{grain}"),
            &flatten(r).unwrap(),
            &disk,
        );
        // Converting it to streamOptimized through the flat stream keeps every byte.
        let flat = Reader::open(image.as_slice(), None).unwrap().into_flat();
        let so = write_stream_optimized(flat, cap as u64, "buslogic", Vec::new()).unwrap();
        assert_same(
            "ms → so",
            &flatten(Reader::open(so.as_slice(), None).unwrap()).unwrap(),
            &disk,
        );
    }
}

#[test]
fn raw_images_read_back_through_open() {
    let disk = patterned(3 * MAX_CHUNK + 12345, 7);
    let r = Reader::open(disk.as_slice(), Some(disk.len() as u64)).unwrap();
    assert_eq!((r.format(), r.adapter_type()), (Format::Raw, None));
    assert_same("raw", &flatten(r).unwrap(), &disk);
    let r = Reader::open_seekable(std::io::Cursor::new(&disk)).unwrap();
    assert_eq!(r.capacity(), disk.len() as u64);
    let mut flat = Vec::new();
    r.into_flat().read_to_end(&mut flat).unwrap();
    assert_same("raw flat", &flat, &disk);
}

#[test]
fn flat_stream_serves_any_read_size() {
    let disk = patterned(2 * MAX_CHUNK + 3 * 512, 5);
    let image = through_stream_optimized(&disk);
    for size in [1, 7, 512, 4096, 65537, 3 << 20] {
        let mut flat = Reader::open(image.as_slice(), None).unwrap().into_flat();
        assert_eq!(flat.remaining(), disk.len() as u64);
        let mut got = Vec::with_capacity(disk.len());
        let mut buf = vec![0u8; size];
        loop {
            let n = flat.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        assert_same(&format!("reads of {size}"), &got, &disk);
        assert_eq!(flat.remaining(), 0);
    }
}
