//! Memory stays bounded: a counting global allocator measures the peak while images far
//! larger than that peak are read and written, and while hostile headers claim 64 TiB.
//! One test function, so that no other test allocates beside it.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering};

use esx_vmdk::{write_stream_optimized, Reader};

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged to the system allocator.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = CURRENT.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) };
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static A: Counting = Counting;

/// The peak of live heap bytes above what was live when `f` started.
fn peak_during(f: impl FnOnce()) -> usize {
    let base = CURRENT.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    f();
    PEAK.load(Ordering::Relaxed) - base
}

/// A disk of `len` bytes produced on the fly: every other MiB patterned, the rest zeros.
struct Disk {
    pos: u64,
    len: u64,
}

impl Read for Disk {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = (buf.len() as u64).min(self.len - self.pos) as usize;
        for (i, b) in buf[..n].iter_mut().enumerate() {
            let at = self.pos + i as u64;
            *b = if (at >> 20).is_multiple_of(2) {
                (at % 251) as u8 ^ (at >> 12) as u8
            } else {
                0
            };
        }
        self.pos += n as u64;
        Ok(n)
    }
}

/// Counts bytes without keeping them.
struct Count(u64);

impl Write for Count {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn memory_is_bounded() {
    const LEN: u64 = 96 << 20;
    const BOUND: usize = 8 << 20;

    // Writing: 96 MiB of flat bytes into a writer that keeps nothing.
    let mut written = 0;
    let peak = peak_during(|| {
        let out = write_stream_optimized(Disk { pos: 0, len: LEN }, LEN, "lsilogic", Count(0));
        written = out.unwrap().0;
    });
    eprintln!("writing: peak {peak} bytes");
    assert!(peak < BOUND, "writing peaked at {peak} bytes");

    // Reading: the image (kept in memory only to replay it) through the flat stream.
    let image =
        write_stream_optimized(Disk { pos: 0, len: LEN }, LEN, "lsilogic", Vec::new()).unwrap();
    assert_eq!(image.len() as u64, written);
    let peak = peak_during(|| {
        let mut flat = Reader::open(image.as_slice(), None).unwrap().into_flat();
        let n = io::copy(&mut flat, &mut Count(0)).unwrap();
        assert_eq!(n, LEN);
    });
    eprintln!("reading: peak {peak} bytes");
    assert!(peak < BOUND, "reading peaked at {peak} bytes");

    // Raw reading.
    let peak = peak_during(|| {
        let flat = Reader::raw(Disk { pos: 0, len: LEN }, LEN)
            .unwrap()
            .into_flat();
        assert_eq!(
            io::copy(&mut flat.take(u64::MAX), &mut Count(0)).unwrap(),
            LEN
        );
    });
    assert!(peak < BOUND, "raw reading peaked at {peak} bytes");

    // Hostile headers claiming 64 TiB (and the largest grain directory that allows) allocate
    // by what the input holds, not by what it claims.
    let mut hostile = common::monolithic(&[1u8; 4096], 8);
    hostile[12..20].copy_from_slice(&((64u64 << 40) / 512).to_le_bytes());
    hostile[20..28].copy_from_slice(&2048u64.to_le_bytes());
    let mut so = image[..200_000].to_vec();
    so[12..20].copy_from_slice(&((64u64 << 40) / 512).to_le_bytes());
    for (name, img) in [("monolithic", hostile), ("stream", so)] {
        let peak = peak_during(|| {
            let r = Reader::open(img.as_slice(), None).and_then(common::flatten_chunks);
            assert!(r.is_err(), "{name}");
        });
        eprintln!("{name}: peak {peak} bytes");
        assert!(peak < BOUND, "{name} peaked at {peak} bytes");
    }
}
