//! The checks the fuzz targets run (`fuzz/`), shared with the stable `cargo test` that
//! replays the committed seed corpora (`tests/fuzz_seeds.rs`). Not part of the stable API.

use std::io::Read;

use crate::{detect, Descriptor, Format, Reader, StreamOptimizedWriter, MAX_CHUNK};

/// Checks the chunks of a reader: increasing, non-overlapping, inside the capacity, each
/// non-empty and at most 1 MiB. Returns them (offset, length) up to the first error.
fn walk<R: Read>(mut r: Reader<R>) -> Vec<(u64, usize)> {
    let capacity = r.capacity();
    let mut end = 0u64;
    let mut out = Vec::new();
    while let Ok(Some(c)) = r.next_chunk() {
        assert!(c.offset >= end, "chunk at {} before {end}", c.offset);
        assert!(!c.data.is_empty() && c.data.len() <= MAX_CHUNK);
        end = c.offset + c.data.len() as u64;
        assert!(end <= capacity, "chunk ends at {end}, past {capacity}");
        out.push((c.offset, c.data.len()));
    }
    out
}

/// Arbitrary bytes as an image: detection and reading (forward-only and seekable) never
/// panic; chunks come in increasing, non-overlapping order inside the capacity, each at most
/// 1 MiB; the flat stream, when it succeeds, has exactly the capacity's length.
pub fn image(data: &[u8]) {
    let _ = detect(data);
    let forward = Reader::open(data, Some(data.len() as u64)).map(walk);
    let seekable = Reader::open_seekable(std::io::Cursor::new(data)).map(walk);
    if let (Ok(f), Ok(s)) = (&forward, &seekable) {
        // Where the forward-only walk got through, the seekable one agrees.
        assert!(s.starts_with(f) || f.starts_with(s), "{f:?} vs {s:?}");
    }
    if let Ok(r) = Reader::open(data, Some(data.len() as u64)) {
        let capacity = r.capacity();
        // Bounded: a hostile header may claim up to 64 TiB, so read at most 4 MiB of it.
        let mut flat = r.into_flat().take(4 << 20);
        let mut buf = vec![0u8; 1 << 16];
        let mut n = 0u64;
        loop {
            match flat.read(&mut buf) {
                Ok(0) => break,
                Ok(k) => n += k as u64,
                Err(_) => return,
            }
        }
        assert_eq!(n, capacity.min(4 << 20));
    }
}

/// Arbitrary bytes as descriptor text: never a panic; a descriptor that parses prints to
/// text that parses to the same descriptor.
pub fn descriptor(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(d) = Descriptor::parse(text) else {
        return;
    };
    let printed = d.to_text();
    let again = Descriptor::parse(&printed)
        .unwrap_or_else(|e| panic!("{printed:?} (printed from {text:?}) does not parse: {e}"));
    assert_eq!(again, d, "{text:?} -> {printed:?}");
    let _ = (d.capacity(), d.adapter_type());
}

/// Arbitrary bytes as writes (offset gaps and data): what the writer takes, the reader gives
/// back, byte for byte.
pub fn round_trip(data: &[u8]) {
    // A small disk: up to 1 MiB + 7 bytes, so that the flat comparison stays cheap.
    let Some((&[a, b, c], mut rest)) = data.split_first_chunk::<3>() else {
        return;
    };
    let capacity = u64::from(u16::from_le_bytes([a, b])) * 16 + u64::from(c % 8);
    let mut w = StreamOptimizedWriter::new(Vec::new(), capacity, "lsilogic").unwrap();
    let mut flat = vec![0u8; capacity as usize];
    let mut pos = 0u64;
    // Each write: gap (u16, in units of 61 bytes), length (u8 × 37), then a fill byte.
    while let Some((&[g0, g1, len, fill], tail)) = rest.split_first_chunk::<4>() {
        rest = tail;
        let offset = pos + u64::from(u16::from_le_bytes([g0, g1])) * 61;
        let len = u64::from(len) * 37;
        if offset + len > capacity {
            break;
        }
        let bytes: Vec<u8> = (0..len).map(|i| fill ^ (i as u8)).collect();
        w.write_at(offset, &bytes).unwrap();
        flat[offset as usize..(offset + len) as usize].copy_from_slice(&bytes);
        pos = offset + len;
    }
    let image = w.finish().unwrap();
    assert_eq!(detect(&image).unwrap(), Format::StreamOptimized);
    let mut back = Vec::new();
    Reader::sparse(image.as_slice())
        .unwrap()
        .into_flat()
        .read_to_end(&mut back)
        .unwrap();
    // The image holds whole sectors: the capacity rounds up, with zeros after the data.
    assert_eq!(back.len() as u64, capacity.next_multiple_of(512));
    let (data, tail) = back.split_at(flat.len());
    assert!(data == flat, "capacity {capacity}: flat bytes differ");
    assert!(
        tail.iter().all(|&b| b == 0),
        "capacity {capacity}: bytes past it"
    );
}
