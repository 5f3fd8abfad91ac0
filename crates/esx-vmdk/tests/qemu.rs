//! Differential tests against qemu-img: its images read by our Reader, our images read by it.
//! Skipped (with a loud note on stderr) where qemu-img is not installed.

mod common;

use std::fs::File;
use std::io::{BufReader, BufWriter, Read};
use std::process::Command;

use common::{assert_same, flatten, patterned, qemu, run, TempDir};
use esx_vmdk::{detect, write_stream_optimized, Format, Reader, VmdkError};

/// Capacities: not multiples of the 64 KiB grain, of a grain table's 32 MiB, or both.
const CAPACITIES: [usize; 3] = [
    10 * 1024 * 1024 + 3 * 512,
    33 * 1024 * 1024 + 7 * 512,
    200 * 512,
];

fn convert_from_raw(img: &std::path::Path, raw: &std::path::Path, options: &str) -> Format {
    let qemu_img = qemu("qemu-img").expect("checked by the caller");
    run(Command::new(qemu_img)
        .args(["convert", "-f", "raw", "-O", "vmdk", "-o", options])
        .arg(raw)
        .arg(img));
    let mut head = vec![0u8; 64 * 1024];
    let n = File::open(img).unwrap().read(&mut head).unwrap();
    detect(&head[..n]).unwrap()
}

#[test]
fn qemu_monolithic_sparse_reads_back_equal() {
    if qemu("qemu-img").is_none() {
        return;
    }
    let dir = TempDir::new("qemu-ms");
    for (i, &cap) in CAPACITIES.iter().enumerate() {
        let disk = patterned(cap, 10 + i as u64);
        let (raw, img) = (dir.path("disk.raw"), dir.path("disk.vmdk"));
        std::fs::write(&raw, &disk).unwrap();
        let format = convert_from_raw(&img, &raw, "subformat=monolithicSparse");
        assert_eq!(format, Format::MonolithicSparse);
        let r = Reader::sparse(BufReader::new(File::open(&img).unwrap())).unwrap();
        assert_eq!(
            (r.format(), r.capacity(), r.adapter_type()),
            (Format::MonolithicSparse, cap as u64, Some("ide"))
        );
        assert_same("monolithicSparse chunks", &flatten(r).unwrap(), &disk);
        // The flat stream too, through a pipe-like reader (no Seek).
        let mut flat = Vec::new();
        Reader::open(File::open(&img).unwrap(), None)
            .unwrap()
            .into_flat()
            .read_to_end(&mut flat)
            .unwrap();
        assert_same("monolithicSparse flat", &flat, &disk);
        let r = Reader::open_seekable(File::open(&img).unwrap()).unwrap();
        assert_same("monolithicSparse seekable", &flatten(r).unwrap(), &disk);
    }
}

#[test]
fn qemu_stream_optimized_reads_back_equal() {
    if qemu("qemu-img").is_none() {
        return;
    }
    let dir = TempDir::new("qemu-so");
    for (i, &cap) in CAPACITIES.iter().enumerate() {
        let disk = patterned(cap, 20 + i as u64);
        let (raw, img) = (dir.path("disk.raw"), dir.path("disk.vmdk"));
        std::fs::write(&raw, &disk).unwrap();
        let format = convert_from_raw(
            &img,
            &raw,
            "subformat=streamOptimized,adapter_type=lsilogic",
        );
        assert_eq!(format, Format::StreamOptimized);
        let r = Reader::open(BufReader::new(File::open(&img).unwrap()), None).unwrap();
        assert_eq!(
            (r.format(), r.capacity(), r.adapter_type()),
            (Format::StreamOptimized, cap as u64, Some("lsilogic"))
        );
        assert_same("streamOptimized chunks", &flatten(r).unwrap(), &disk);
        let mut flat = Vec::new();
        Reader::sparse(File::open(&img).unwrap())
            .unwrap()
            .into_flat()
            .read_to_end(&mut flat)
            .unwrap();
        assert_same("streamOptimized flat", &flat, &disk);
    }
}

#[test]
fn our_stream_optimized_converts_to_the_same_raw_with_qemu() {
    let Some(qemu_img) = qemu("qemu-img") else {
        return;
    };
    let dir = TempDir::new("ours-so");
    for (i, &cap) in CAPACITIES.iter().enumerate() {
        let disk = patterned(cap, 30 + i as u64);
        let (img, raw) = (dir.path("ours.vmdk"), dir.path("back.raw"));
        let out = BufWriter::new(File::create(&img).unwrap());
        write_stream_optimized(disk.as_slice(), cap as u64, "lsilogic", out).unwrap();
        run(Command::new(&qemu_img)
            .args(["convert", "-f", "vmdk", "-O", "raw"])
            .arg(&img)
            .arg(&raw));
        assert_same(
            "qemu-img convert of ours",
            &std::fs::read(&raw).unwrap(),
            &disk,
        );

        let check = run(Command::new(&qemu_img)
            .args(["check", "-f", "vmdk"])
            .arg(&img));
        assert!(check.contains("No errors were found"), "{check}");
        let info = run(Command::new(&qemu_img)
            .args(["info", "-f", "vmdk", "--output=json"])
            .arg(&img));
        assert!(info.contains(&format!("\"virtual-size\": {cap}")), "{info}");
        assert!(
            info.contains("\"create-type\": \"streamOptimized\""),
            "{info}"
        );
        assert!(info.contains("\"compressed\": true"), "{info}");
        // And ours reads back ours.
        let r = Reader::open(File::open(&img).unwrap(), None).unwrap();
        assert_same("ours through ours", &flatten(r).unwrap(), &disk);
    }
}

#[test]
fn qemu_reads_an_ide_disk_and_an_empty_one_of_ours() {
    let Some(qemu_img) = qemu("qemu-img") else {
        return;
    };
    let dir = TempDir::new("ours-ide");
    for (cap, adapter) in [
        (3 * 1024 * 1024, "ide"),
        (1 << 30, "buslogic"),
        (512, "lsilogic"),
    ] {
        let img = dir.path("ours.vmdk");
        let w = esx_vmdk::StreamOptimizedWriter::new(
            BufWriter::new(File::create(&img).unwrap()),
            cap,
            adapter,
        )
        .unwrap();
        w.finish().unwrap();
        let info = run(Command::new(&qemu_img)
            .args(["info", "-f", "vmdk", "--output=json"])
            .arg(&img));
        assert!(info.contains(&format!("\"virtual-size\": {cap}")), "{info}");
        let map = run(Command::new(&qemu_img)
            .args(["map", "-f", "vmdk", "--output=json"])
            .arg(&img));
        assert!(!map.contains("\"data\": true"), "{map}");
        let mut r = Reader::open(File::open(&img).unwrap(), None).unwrap();
        assert_eq!((r.capacity(), r.adapter_type()), (cap, Some(adapter)));
        assert_eq!(r.next_chunk().unwrap(), None);
    }
}

/// A monolithicSparse image whose grains are not in disk order (qemu-io writes the grain for
/// 2 MiB before the one for 0): a forward-only read fails naming both, a seekable one works.
#[test]
fn grains_out_of_disk_order_need_a_seekable_reader() {
    let (Some(qemu_img), Some(qemu_io)) = (qemu("qemu-img"), qemu("qemu-io")) else {
        return;
    };
    let dir = TempDir::new("qemu-order");
    let img = dir.path("ooo.vmdk");
    run(Command::new(&qemu_img)
        .args([
            "create",
            "-q",
            "-f",
            "vmdk",
            "-o",
            "subformat=monolithicSparse",
        ])
        .arg(&img)
        .arg("4M"));
    run(Command::new(&qemu_io)
        .args([
            "-f",
            "vmdk",
            "-c",
            "write -P 0x11 2M 64k",
            "-c",
            "write -P 0x22 0 64k",
        ])
        .arg(&img));
    match Reader::sparse(File::open(&img).unwrap()) {
        Err(VmdkError::OutOfOrder {
            offset,
            disk_offset: 0,
            previous: 2097152,
        }) => assert_eq!(offset, 256 * 512),
        other => panic!("{other:?}"),
    }
    let flat = flatten(Reader::sparse_seekable(File::open(&img).unwrap()).unwrap()).unwrap();
    let mut want = vec![0u8; 4 << 20];
    want[..65536].fill(0x22);
    want[2 << 20..(2 << 20) + 65536].fill(0x11);
    assert_same("seekable out-of-order", &flat, &want);
}
