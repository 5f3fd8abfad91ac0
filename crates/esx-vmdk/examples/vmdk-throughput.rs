//! Throughput of reading and writing streamOptimized images, beside `qemu-img convert` timed
//! in the same run on the same data.
//!
//! ```sh
//! cargo run --release -p esx-vmdk --example vmdk-throughput [MiB]   # default 256
//! ```
//!
//! The disk is a quarter random bytes, half compressible text-like bytes and a quarter zeros
//! (in 64 KiB runs). Rates are MiB of virtual disk per second.

use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use esx_vmdk::{Reader, StreamOptimizedWriter, VmdkError};

const RUN: usize = 64 * 1024;

/// xorshift64*, deterministic.
fn next(state: &mut u64) -> u64 {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    state.wrapping_mul(0x2545_F491_4F6C_DD1D)
}

fn make_disk(path: &Path, len: u64) -> io::Result<()> {
    let mut out = BufWriter::new(File::create(path)?);
    let mut state = 0x5eed_u64;
    let words: [&[u8]; 8] = [
        b"esx ",
        b"datastore ",
        b"vmdk ",
        b"grain ",
        b"0x1f ",
        b"\n",
        b"lsilogic ",
        b"sector ",
    ];
    let mut run = vec![0u8; RUN];
    for i in 0..len / RUN as u64 {
        match next(&mut state) % 4 {
            0 => run
                .chunks_mut(8)
                .for_each(|c| c.copy_from_slice(&next(&mut state).to_le_bytes())),
            1 => run.fill(0),
            _ => {
                let mut at = 0;
                while at < RUN {
                    let w = words[(next(&mut state) % 8) as usize];
                    let n = w.len().min(RUN - at);
                    run[at..at + n].copy_from_slice(&w[..n]);
                    at += n;
                }
            }
        }
        if i == 0 {
            run[0] = 1; // never a zero first run: the disk has data from its start
        }
        out.write_all(&run)?;
    }
    out.flush()
}

fn qemu_img() -> Option<PathBuf> {
    ["/usr/bin/qemu-img", "/usr/local/bin/qemu-img"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

fn timed<T>(f: impl FnOnce() -> T) -> (T, f64) {
    let start = Instant::now();
    let t = f();
    (t, start.elapsed().as_secs_f64())
}

fn qemu(args: &[&str], files: &[&Path]) -> f64 {
    let qemu = qemu_img().expect("checked");
    let ((), secs) = timed(|| {
        let out = Command::new(qemu)
            .args(args)
            .args(files)
            .output()
            .expect("qemu-img runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    });
    secs
}

/// Ours, to a raw file as qemu-img writes it: data chunks written, holes left sparse.
fn to_raw_file(image: &Path, raw: &Path) -> Result<u64, VmdkError> {
    let mut r = Reader::open(File::open(image)?, None)?;
    let mut out = File::create(raw)?;
    while let Some(c) = r.next_chunk()? {
        out.seek(SeekFrom::Start(c.offset))?;
        out.write_all(&c.data)?;
    }
    out.set_len(r.capacity())?;
    Ok(r.capacity())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mib: u64 = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(256);
    let len = mib << 20;
    let dir = std::env::temp_dir().join(format!("esx-vmdk-throughput-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let p = |name: &str| dir.join(name);
    let result = (|| -> Result<(), Box<dyn std::error::Error>> {
        make_disk(&p("disk.raw"), len)?;
        let rate = |secs: f64| mib as f64 / secs;
        let line = |label: &str, secs: f64, extra: String| {
            println!("{label:<44} {:8.1} MiB/s  ({secs:.2} s{extra})", rate(secs));
        };
        println!("disk: {mib} MiB (1/4 random, 1/2 text-like, 1/4 zeros); MiB/s of virtual disk");

        // Write: flat → streamOptimized, at our default level 1 and at qemu-img's level 6.
        let mut write_secs = [0.0; 2];
        for (i, level) in [1, 6].into_iter().enumerate() {
            let (size, secs) = timed(|| -> Result<u64, VmdkError> {
                let out = BufWriter::with_capacity(1 << 20, File::create(p("ours.vmdk"))?);
                let mut w = StreamOptimizedWriter::new(out, len, "lsilogic")?;
                w.set_compression_level(level);
                let mut flat = File::open(p("disk.raw"))?;
                let mut buf = vec![0u8; 1 << 20];
                let mut pos = 0;
                while pos < len {
                    flat.read_exact(&mut buf)?;
                    w.write_at(pos, &buf)?;
                    pos += buf.len() as u64;
                }
                w.finish()?
                    .into_inner()
                    .map_err(|e| e.into_error())?
                    .sync_all()?;
                Ok(std::fs::metadata(p("ours.vmdk"))?.len())
            });
            let size = size?;
            let image = format!(", image {:.1} MiB", size as f64 / 1048576.0);
            line(&format!("write ours, level {level}"), secs, image);
            write_secs[i] = secs;
            if level == 6 {
                std::fs::rename(p("ours.vmdk"), p("ours6.vmdk"))?;
            }
        }

        // Read: streamOptimized → flat bytes (the upload path) and → a raw file.
        let (n, secs) = timed(|| -> Result<u64, VmdkError> {
            let mut flat = Reader::open(File::open(p("ours6.vmdk"))?, None)?.into_flat();
            Ok(io::copy(&mut flat, &mut io::sink())?)
        });
        assert_eq!(n?, len);
        line("read ours, our image → flat stream", secs, String::new());
        let (n, read_secs) = timed(|| to_raw_file(&p("ours6.vmdk"), &p("ours.raw")));
        assert_eq!(n?, len);
        line("read ours, our image → raw file", read_secs, String::new());
        assert!(std::fs::read(p("ours.raw"))? == std::fs::read(p("disk.raw"))?);

        if qemu_img().is_none() {
            println!("qemu-img not found: no comparison");
            return Ok(());
        }
        let q_write = qemu(
            &[
                "convert",
                "-f",
                "raw",
                "-O",
                "vmdk",
                "-o",
                "subformat=streamOptimized",
            ],
            &[&p("disk.raw"), &p("qemu.vmdk")],
        );
        line("write qemu-img convert (level 6)", q_write, String::new());
        let (n, ours_q) = timed(|| to_raw_file(&p("qemu.vmdk"), &p("ours-q.raw")));
        assert_eq!(n?, len);
        line(
            "read ours, qemu-img's image → raw file",
            ours_q,
            String::new(),
        );
        let q_read = qemu(
            &["convert", "-f", "vmdk", "-O", "raw"],
            &[&p("ours6.vmdk"), &p("qemu.raw")],
        );
        line(
            "read qemu-img convert, our image → raw file",
            q_read,
            String::new(),
        );
        println!(
            "ratio ours/qemu-img (higher is faster): write {:.2}x at level 6 as qemu-img, \
             {:.2}x at our default level 1; read {:.2}x",
            q_write / write_secs[1],
            q_write / write_secs[0],
            q_read / read_secs
        );
        Ok(())
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result
}
