//! Reading images front to back as chunks of allocated data, or as a flat byte stream.

use std::io::{self, Read, Seek, SeekFrom};

use flate2::{Decompress, FlushDecompress, Status};

use crate::header::{
    u32_at, u64_at, value_in, SparseHeader, FLAG_COMPRESSED, FLAG_ZERO_GRAIN, GD_AT_END,
    GTES_PER_GT,
};
use crate::input::{seek_fn, Input, SeekFn};
use crate::{detect, is_zero, Format, VmdkError, MAX_CAPACITY, MAX_CHUNK, SECTOR};

/// Raw images are read, and checked for zeros, in blocks of this size.
const RAW_BLOCK: u64 = 64 * 1024;
/// Marker type of the end-of-stream marker.
const MARKER_EOS: u32 = 0;
/// Marker type of a footer (the last metadata marker defined).
const MARKER_FOOTER: u32 = 3;

/// One run of allocated data, at `offset` bytes into the virtual disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// Byte offset into the virtual disk.
    pub offset: u64,
    /// The bytes there (at most 1 MiB).
    pub data: Vec<u8>,
}

/// Where the next piece of data is on the disk, and how long it is.
#[derive(Debug, Clone, Copy)]
struct Piece {
    offset: u64,
    len: usize,
}

/// A streamOptimized image walked through its markers.
struct Stream {
    grain_size: u64,
    capacity: u64,
    /// File offset of the next marker.
    next_marker: u64,
    /// Disk offset of the last grain read.
    previous: Option<u64>,
    /// The grain whose marker was read last: (marker offset, compressed size).
    current: (u64, usize),
    compressed: Vec<u8>,
    inflate: Decompress,
    ended: bool,
}

/// A sparse image walked through its grain directory and tables.
struct Sparse {
    grain_size: u64,
    capacity: u64,
    /// Allocated grains as `(file sector << 32) | grain index` (forward-only input, file
    /// order) or `(grain index << 32) | file sector` (seekable input, disk order).
    map: Vec<u64>,
    next: usize,
    by_disk: bool,
    /// File sector of the grain whose piece was given last.
    current: u64,
}

enum Source {
    Raw { next: u64 },
    Stream(Box<Stream>),
    Sparse(Sparse),
}

/// Reads an image as a sequence of allocated chunks in increasing offset order (holes and
/// all-zero grains skipped; chunks ≤ 1 MiB).
///
/// Memory is bounded: a few MiB of buffers, plus for monolithicSparse images 8 bytes for each
/// allocated grain.
pub struct Reader<R> {
    input: Input<R>,
    format: Format,
    capacity: u64,
    adapter_type: Option<String>,
    source: Source,
    pending: Option<Chunk>,
    spare: Vec<u8>,
    failed: Option<String>,
}

impl<R> std::fmt::Debug for Reader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader")
            .field("format", &self.format)
            .field("capacity", &self.capacity)
            .field("adapter_type", &self.adapter_type)
            .finish_non_exhaustive()
    }
}

/// Reads up to `buf.len()` bytes, fewer only at the end of the input.
fn read_head<R: Read>(r: &mut R, buf: &mut [u8]) -> Result<usize, VmdkError> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(source) => {
                return Err(VmdkError::Read {
                    offset: n as u64,
                    source,
                })
            }
        }
    }
    Ok(n)
}

impl<R: Read> Reader<R> {
    /// Opens a raw image of `len` bytes (all of it is data; zero blocks may be skipped).
    pub fn raw(r: R, len: u64) -> Result<Self, VmdkError> {
        Self::raw_input(Input::new(r, &[], None), len)
    }

    fn raw_input(input: Input<R>, len: u64) -> Result<Self, VmdkError> {
        if len > MAX_CAPACITY {
            return Err(VmdkError::TooLarge {
                what: "capacity",
                size: len,
                limit: MAX_CAPACITY,
            });
        }
        Ok(Self::with_source(
            input,
            Format::Raw,
            len,
            None,
            Source::Raw { next: 0 },
        ))
    }

    fn with_source(
        input: Input<R>,
        format: Format,
        capacity: u64,
        adapter_type: Option<String>,
        source: Source,
    ) -> Self {
        Reader {
            input,
            format,
            capacity,
            adapter_type,
            source,
            pending: None,
            spare: Vec::new(),
            failed: None,
        }
    }

    /// Opens a sparse image (monolithicSparse or streamOptimized), read strictly front to back
    /// (works on a pipe or an HTTP body).
    ///
    /// A streamOptimized image is walked through its grain markers, which must come in
    /// increasing disk order. A monolithicSparse image needs its grain directory and tables
    /// before its grains (as VMware and qemu-img write them) and its grains in disk order;
    /// [`Reader::sparse_seekable`] reads any layout.
    pub fn sparse(r: R) -> Result<Self, VmdkError> {
        Self::sparse_input(Input::new(r, &[], None))
    }

    /// Detects and opens an image: a raw one needs `len`; a descriptor is an error
    /// ([`VmdkError::DescriptorFile`]).
    pub fn open(mut r: R, len: Option<u64>) -> Result<Self, VmdkError> {
        let mut head = [0u8; 512];
        let n = read_head(&mut r, &mut head)?;
        Self::open_input(r, &head[..n], len, None)
    }

    fn open_input(
        r: R,
        head: &[u8],
        len: Option<u64>,
        seek: Option<SeekFn<R>>,
    ) -> Result<Self, VmdkError> {
        let format = detect(head)?;
        let input = Input::new(r, head, seek);
        match format {
            Format::Raw => {
                let len = len.ok_or_else(|| {
                    VmdkError::Unsupported("a raw image cannot be read without its length".into())
                })?;
                Self::raw_input(input, len)
            }
            Format::Descriptor => Err(VmdkError::DescriptorFile),
            Format::MonolithicSparse | Format::StreamOptimized => Self::sparse_input(input),
        }
    }

    fn sparse_input(mut input: Input<R>) -> Result<Self, VmdkError> {
        let mut head = [0u8; 512];
        input.read_exact(&mut head, &|| "the sparse header".into())?;
        let h = SparseHeader::parse(&head, 0)?;
        let mut create_type = None;
        let mut adapter_type = None;
        if h.descriptor_offset != 0 && h.descriptor_size != 0 {
            let at = h.descriptor_offset * SECTOR;
            input.skip_to(at, &|| "the embedded descriptor".into())?;
            // At most 1 MiB (the header is validated).
            let mut text = vec![0u8; (h.descriptor_size * SECTOR) as usize];
            input.read_exact(&mut text, &|| "the embedded descriptor".into())?;
            create_type = value_in(&text, "createType", true);
            adapter_type = value_in(&text, "ddb.adapterType", true);
        }
        let capacity = h.capacity * SECTOR;
        let so_type = create_type.as_deref() == Some("streamOptimized");
        if so_type && !h.stream() {
            return Err(VmdkError::corrupt(
                8,
                format!(
                    "createType is streamOptimized but the header flags {:#x} have no markers",
                    h.flags
                ),
            ));
        }
        if h.stream() {
            if h.flags & FLAG_COMPRESSED == 0 {
                return Err(VmdkError::Unsupported(
                    "a sparse image with markers but uncompressed grains".into(),
                ));
            }
            input.skip_to(h.overhead * SECTOR, &|| "the first grain".into())?;
            let stream = Stream {
                grain_size: h.grain_size,
                capacity,
                next_marker: h.overhead * SECTOR,
                previous: None,
                current: (0, 0),
                compressed: Vec::new(),
                inflate: Decompress::new(true),
                ended: false,
            };
            let source = Source::Stream(Box::new(stream));
            return Ok(Self::with_source(
                input,
                Format::StreamOptimized,
                capacity,
                adapter_type,
                source,
            ));
        }
        if h.flags & FLAG_COMPRESSED != 0 {
            return Err(VmdkError::Unsupported(
                "a sparse image with compressed grains but no markers".into(),
            ));
        }
        if h.gd_offset == GD_AT_END {
            return Err(VmdkError::corrupt(
                56,
                "the grain directory is at the end (streamOptimized) but the header flags have \
                 no markers",
            ));
        }
        let sparse = read_tables(&mut input, &h)?;
        Ok(Self::with_source(
            input,
            Format::MonolithicSparse,
            capacity,
            adapter_type,
            Source::Sparse(sparse),
        ))
    }

    /// What the image is.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Virtual disk size in bytes.
    pub fn capacity(&self) -> u64 {
        self.capacity
    }

    /// `ddb.adapterType` of the embedded descriptor, if any (e.g. "lsilogic", "ide").
    pub fn adapter_type(&self) -> Option<&str> {
        self.adapter_type.as_deref()
    }

    /// The next allocated chunk, or `None` at the end. A truncated image is an error naming
    /// the offset, never a short success; after an error every call fails.
    pub fn next_chunk(&mut self) -> Result<Option<Chunk>, VmdkError> {
        if let Some(msg) = &self.failed {
            return Err(VmdkError::Unsupported(format!(
                "reading on after an earlier error ({msg})"
            )));
        }
        let r = self.next_chunk_inner();
        if let Err(e) = &r {
            self.failed = Some(e.to_string());
        }
        r
    }

    fn next_chunk_inner(&mut self) -> Result<Option<Chunk>, VmdkError> {
        loop {
            let Some(piece) = self.next_piece()? else {
                return Ok(self.pending.take());
            };
            if let Some(mut p) = self.pending.take() {
                let end = p.offset + p.data.len() as u64;
                if end == piece.offset && p.data.len() + piece.len <= MAX_CHUNK {
                    let start = p.data.len();
                    self.read_piece(piece, &mut p.data)?;
                    if is_zero(&p.data[start..]) {
                        p.data.truncate(start);
                    }
                    self.pending = Some(p);
                    continue;
                }
                self.pending = Some(p);
            }
            let mut data = std::mem::take(&mut self.spare);
            data.clear();
            data.reserve(MAX_CHUNK);
            self.read_piece(piece, &mut data)?;
            if is_zero(&data) {
                self.spare = data;
                continue;
            }
            let chunk = Chunk {
                offset: piece.offset,
                data,
            };
            if let Some(done) = self.pending.replace(chunk) {
                return Ok(Some(done));
            }
        }
    }

    fn next_piece(&mut self) -> Result<Option<Piece>, VmdkError> {
        match &mut self.source {
            Source::Raw { next } => {
                if *next >= self.capacity {
                    return Ok(None);
                }
                let len = RAW_BLOCK.min(self.capacity - *next);
                let piece = Piece {
                    offset: *next,
                    len: len as usize,
                };
                *next += len;
                Ok(Some(piece))
            }
            Source::Stream(s) => s.next_piece(&mut self.input),
            Source::Sparse(s) => Ok(s.next_piece()),
        }
    }

    /// Appends the piece's `len` bytes to `out`.
    fn read_piece(&mut self, piece: Piece, out: &mut Vec<u8>) -> Result<(), VmdkError> {
        let start = out.len();
        match &mut self.source {
            Source::Raw { .. } => {
                out.resize(start + piece.len, 0);
                self.input.read_exact(&mut out[start..], &|| {
                    format!("raw data for disk byte {}", piece.offset)
                })
            }
            Source::Stream(s) => s.read_grain(&mut self.input, piece, out),
            Source::Sparse(s) => {
                let at = s.current * SECTOR;
                let what = || format!("the grain for disk byte {}", piece.offset);
                self.input.skip_to(at, &what)?;
                out.resize(start + piece.len, 0);
                self.input.read_exact(&mut out[start..], &what)
            }
        }
    }

    /// The whole virtual disk as a flat byte stream (zeros for holes), exactly
    /// [`capacity()`](Reader::capacity) bytes.
    pub fn into_flat(self) -> FlatStream<R> {
        FlatStream {
            pos: 0,
            capacity: self.capacity,
            chunk: None,
            used: 0,
            exhausted: false,
            failed: None,
            reader: self,
        }
    }
}

impl<R: Read + Seek> Reader<R> {
    /// Opens a sparse image from a seekable reader positioned at its start. Grain tables and
    /// grains may be anywhere in the file (e.g. a monolithicSparse disk written by a running
    /// VM): grains are read in disk order. streamOptimized grains must still come in order.
    pub fn sparse_seekable(r: R) -> Result<Self, VmdkError> {
        Self::sparse_input(Input::new(r, &[], Some(seek_fn::<R>())))
    }

    /// Detects and opens an image from a seekable reader (a raw image's length is the
    /// reader's); the reader is rewound to its start.
    pub fn open_seekable(mut r: R) -> Result<Self, VmdkError> {
        let io = |source| VmdkError::Read { offset: 0, source };
        let len = r.seek(SeekFrom::End(0)).map_err(io)?;
        r.seek(SeekFrom::Start(0)).map_err(io)?;
        let mut head = [0u8; 512];
        let n = read_head(&mut r, &mut head)?;
        Self::open_input(r, &head[..n], Some(len), Some(seek_fn::<R>()))
    }
}

/// Reads the grain directory and tables of a monolithicSparse image into its grain map.
fn read_tables<R: Read>(input: &mut Input<R>, h: &SparseHeader) -> Result<Sparse, VmdkError> {
    let gd_at = h.gd_offset * SECTOR;
    input.skip_to(gd_at, &|| "the grain directory".into())?;
    let entries = h.gd_entries();
    // (table sector, table index) of each allocated grain table, grown as the input is read.
    let mut tables: Vec<(u64, u64)> = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut index = 0u64;
    while index < entries {
        let n = (entries - index).min(buf.len() as u64 / 4) as usize;
        let at = input.pos();
        input.read_exact(&mut buf[..n * 4], &|| "the grain directory".into())?;
        for (k, e) in buf[..n * 4].chunks_exact(4).enumerate() {
            let sector = u64::from(u32_at(e, 0));
            if sector != 0 {
                if sector < h.gd_offset + h.gd_sectors() && sector + 4 > h.gd_offset {
                    return Err(VmdkError::corrupt(
                        at + 4 * k as u64,
                        format!(
                            "grain table {} at sector {sector} overlaps the grain directory",
                            index + k as u64
                        ),
                    ));
                }
                tables.push((sector, index + k as u64));
            }
        }
        index += n as u64;
    }
    tables.sort_unstable();
    for w in tables.windows(2) {
        if w[1].0 < w[0].0 + 4 {
            return Err(VmdkError::corrupt(
                gd_at + 4 * w[1].1,
                format!(
                    "grain tables {} and {} overlap at sector {}",
                    w[0].1, w[1].1, w[1].0
                ),
            ));
        }
    }
    let grains = h.grains();
    let by_disk = input.seekable();
    let mut map = Vec::new();
    let mut table = [0u8; (GTES_PER_GT * 4) as usize];
    for &(sector, t) in &tables {
        let at = sector * SECTOR;
        let what = || format!("grain table {t}");
        input.skip_to(at, &what)?;
        input.read_exact(&mut table, &what)?;
        for (j, e) in table.chunks_exact(4).enumerate() {
            let grain = t * GTES_PER_GT + j as u64;
            let gs = u64::from(u32_at(e, 0));
            if gs == 0 || grain >= grains || (gs == 1 && h.flags & FLAG_ZERO_GRAIN != 0) {
                continue;
            }
            map.push(if by_disk {
                grain << 32 | gs
            } else {
                gs << 32 | grain
            });
        }
    }
    let tables_end = input.pos();
    if !by_disk {
        map.sort_unstable();
        let mut previous: Option<(u64, u64)> = None;
        for &packed in &map {
            let (sector, grain) = (packed >> 32, packed & 0xffff_ffff);
            let at = sector * SECTOR;
            if at < tables_end {
                return Err(VmdkError::Unsupported(format!(
                    "the grain for disk byte {} is at byte {at}, before the end of the grain \
                     tables at byte {tables_end}: a streamed monolithicSparse image needs its \
                     tables before its grains (read it from a seekable file)",
                    grain * h.grain_bytes()
                )));
            }
            if let Some((psector, pgrain)) = previous {
                if sector < psector + h.grain_size {
                    return Err(VmdkError::corrupt(
                        at,
                        format!(
                            "the grains for disk bytes {} and {} overlap in the file",
                            pgrain * h.grain_bytes(),
                            grain * h.grain_bytes()
                        ),
                    ));
                }
                if grain < pgrain {
                    return Err(VmdkError::OutOfOrder {
                        offset: at,
                        disk_offset: grain * h.grain_bytes(),
                        previous: pgrain * h.grain_bytes(),
                    });
                }
            }
            previous = Some((sector, grain));
        }
    } else {
        map.sort_unstable();
    }
    Ok(Sparse {
        grain_size: h.grain_size,
        capacity: h.capacity * SECTOR,
        map,
        next: 0,
        by_disk,
        current: 0,
    })
}

impl Sparse {
    fn next_piece(&mut self) -> Option<Piece> {
        let packed = *self.map.get(self.next)?;
        self.next += 1;
        let (hi, lo) = (packed >> 32, packed & 0xffff_ffff);
        let (sector, grain) = if self.by_disk { (lo, hi) } else { (hi, lo) };
        self.current = sector;
        let offset = grain * self.grain_size * SECTOR;
        let len = (self.grain_size * SECTOR).min(self.capacity - offset) as usize;
        Some(Piece { offset, len })
    }
}

impl Stream {
    fn grain_bytes(&self) -> usize {
        (self.grain_size * SECTOR) as usize
    }

    /// Reads markers up to the next grain's, skipping metadata.
    fn next_piece<R: Read>(&mut self, input: &mut Input<R>) -> Result<Option<Piece>, VmdkError> {
        loop {
            if self.ended {
                return Ok(None);
            }
            let at = self.next_marker;
            input.skip_to(at, &|| "the next marker".into())?;
            let mut m = [0u8; 12];
            input.read_exact(&mut m, &|| "a marker".into())?;
            let (value, size) = (u64_at(&m, 0), u32_at(&m, 8));
            if size == 0 {
                let mut rest = [0u8; 500];
                input.read_exact(&mut rest, &|| "a metadata marker".into())?;
                let kind = u32_at(&rest, 0);
                if kind == MARKER_EOS {
                    self.ended = true;
                    return Ok(None);
                }
                if kind > MARKER_FOOTER {
                    return Err(VmdkError::corrupt(
                        at + 12,
                        format!("marker type {kind} (0 to 3 are defined)"),
                    ));
                }
                let Some(next) = value
                    .checked_mul(SECTOR)
                    .and_then(|len| (at + SECTOR).checked_add(len))
                    .filter(|_| value <= MAX_CAPACITY / SECTOR)
                else {
                    return Err(VmdkError::corrupt(
                        at,
                        format!("metadata marker of type {kind} claims {value} sectors"),
                    ));
                };
                self.next_marker = next;
                continue;
            }
            let lba = value;
            let capacity_sectors = self.capacity / SECTOR;
            if lba >= capacity_sectors || lba % self.grain_size != 0 {
                return Err(VmdkError::corrupt(
                    at,
                    format!(
                        "grain marker for sector {lba}, which is not the start of a grain of a \
                         disk of {capacity_sectors} sectors (grains of {} sectors)",
                        self.grain_size
                    ),
                ));
            }
            let limit = 2 * self.grain_bytes() + 1024;
            if size as usize > limit {
                return Err(VmdkError::corrupt(
                    at + 8,
                    format!(
                        "grain marker for sector {lba} claims {size} compressed bytes, more than \
                         the {limit} a grain of {} bytes may take",
                        self.grain_bytes()
                    ),
                ));
            }
            let offset = lba * SECTOR;
            if let Some(previous) = self.previous.filter(|p| offset <= *p) {
                return Err(VmdkError::OutOfOrder {
                    offset: at,
                    disk_offset: offset,
                    previous,
                });
            }
            self.previous = Some(offset);
            self.current = (at, size as usize);
            self.next_marker = (at + 12 + u64::from(size)).next_multiple_of(SECTOR);
            let len = (self.grain_bytes() as u64).min(self.capacity - offset) as usize;
            return Ok(Some(Piece { offset, len }));
        }
    }

    /// Reads and inflates the grain whose marker was read last, appending `piece.len` bytes.
    fn read_grain<R: Read>(
        &mut self,
        input: &mut Input<R>,
        piece: Piece,
        out: &mut Vec<u8>,
    ) -> Result<(), VmdkError> {
        let (at, size) = self.current;
        self.compressed.resize(size, 0);
        input.read_exact(&mut self.compressed, &|| {
            format!(
                "the compressed grain for disk byte {} at byte {at}",
                piece.offset
            )
        })?;
        let start = out.len();
        let grain = self.grain_bytes();
        out.resize(start + grain, 0);
        self.inflate.reset(true);
        let status =
            self.inflate
                .decompress(&self.compressed, &mut out[start..], FlushDecompress::Finish);
        let produced = self.inflate.total_out() as usize;
        let bad = |what: String| {
            Err(VmdkError::corrupt(
                at + 12,
                format!("the grain for disk byte {}: {what}", piece.offset),
            ))
        };
        match status {
            Ok(Status::StreamEnd) => {}
            Ok(_) if produced == grain => {
                return bad(format!("it inflates to more than a grain ({grain} bytes)"))
            }
            Ok(_) => {
                return bad(format!(
                    "its {size} compressed bytes end before the deflate stream does"
                ))
            }
            Err(e) => return bad(format!("it does not inflate: {e}")),
        }
        if produced < piece.len {
            return bad(format!(
                "it inflates to {produced} bytes, not {}",
                piece.len
            ));
        }
        out.truncate(start + piece.len);
        Ok(())
    }
}

/// `Read` over the flat bytes of a [`Reader`]: exactly [`Reader::capacity`] bytes, zeros for
/// holes (for an HTTP PUT with `Content-Length` = capacity). Errors carry the
/// [`VmdkError`]'s text (and kind: a truncated image is `UnexpectedEof`).
pub struct FlatStream<R> {
    reader: Reader<R>,
    pos: u64,
    capacity: u64,
    chunk: Option<Chunk>,
    /// Bytes of `chunk` already given out.
    used: usize,
    exhausted: bool,
    failed: Option<(io::ErrorKind, String)>,
}

impl<R> std::fmt::Debug for FlatStream<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlatStream")
            .field("reader", &self.reader)
            .field("pos", &self.pos)
            .finish_non_exhaustive()
    }
}

impl<R> FlatStream<R> {
    /// Bytes still to come.
    pub fn remaining(&self) -> u64 {
        self.capacity - self.pos
    }
}

impl<R: Read> Read for FlatStream<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some((kind, msg)) = &self.failed {
            return Err(io::Error::new(*kind, msg.clone()));
        }
        if buf.is_empty() || self.pos == self.capacity {
            return Ok(0);
        }
        if self.chunk.is_none() && !self.exhausted {
            match self.reader.next_chunk() {
                Ok(Some(c)) => {
                    self.chunk = Some(c);
                    self.used = 0;
                }
                Ok(None) => self.exhausted = true,
                Err(e) => {
                    self.failed = Some((e.io_kind(), e.to_string()));
                    return Err(e.into());
                }
            }
        }
        let want = buf.len() as u64;
        let n = match &self.chunk {
            Some(c) if self.pos < c.offset => {
                let n = (c.offset - self.pos).min(want) as usize;
                buf[..n].fill(0);
                n
            }
            Some(c) => {
                let rest = &c.data[self.used..];
                let n = rest.len().min(buf.len());
                buf[..n].copy_from_slice(&rest[..n]);
                self.used += n;
                if self.used == c.data.len() {
                    self.chunk = None;
                }
                n
            }
            None => {
                let n = (self.capacity - self.pos).min(want) as usize;
                buf[..n].fill(0);
                n
            }
        };
        self.pos += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::header::{FLAG_MARKERS, FLAG_NEWLINE_TEST};

    /// A streamOptimized image by hand: header (no descriptor), then `body` at sector 1.
    fn stream(capacity_sectors: u64, body: &[u8]) -> Vec<u8> {
        let h = SparseHeader {
            version: 3,
            flags: FLAG_NEWLINE_TEST | FLAG_COMPRESSED | FLAG_MARKERS,
            capacity: capacity_sectors,
            grain_size: 8,
            descriptor_offset: 0,
            descriptor_size: 0,
            num_gtes_per_gt: 512,
            rgd_offset: 0,
            gd_offset: GD_AT_END,
            overhead: 1,
            unclean_shutdown: 0,
            compress_algorithm: 1,
        };
        let mut img = h.to_bytes().to_vec();
        img.extend_from_slice(body);
        img
    }

    fn meta(sectors: u64, kind: u32) -> Vec<u8> {
        let mut m = vec![0u8; 512 * (1 + sectors as usize)];
        m[..8].copy_from_slice(&sectors.to_le_bytes());
        m[12..16].copy_from_slice(&kind.to_le_bytes());
        m
    }

    fn grain(lba: u64, data: &[u8]) -> Vec<u8> {
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut z, data).unwrap();
        let c = z.finish().unwrap();
        let mut m = lba.to_le_bytes().to_vec();
        m.extend_from_slice(&(c.len() as u32).to_le_bytes());
        m.extend_from_slice(&c);
        m.resize(m.len().next_multiple_of(512), 0);
        m
    }

    fn chunks(img: &[u8]) -> Result<Vec<(u64, usize)>, VmdkError> {
        let mut r = Reader::sparse(img)?;
        let mut out = Vec::new();
        while let Some(c) = r.next_chunk()? {
            out.push((c.offset, c.data.len()));
        }
        Ok(out)
    }

    #[test]
    fn metadata_markers_are_passed_over_and_trailing_bytes_ignored() {
        let mut body = meta(4, 1); // a grain table
        body.extend(grain(0, &[1; 4096]));
        body.extend(meta(0, 2)); // an empty directory
        body.extend(grain(16, &[2; 4096]));
        body.extend(grain(24, &[3; 1024])); // a short last grain: the disk ends in it
        body.extend(meta(1, 3)); // footer
        body.extend(meta(0, 0)); // end of stream
        body.extend_from_slice(b"anything after the end");
        let img = stream(26, &body);
        assert_eq!(chunks(&img).unwrap(), [(0, 4096), (8192, 5120)]);
    }

    #[test]
    fn a_grain_that_inflates_to_less_than_the_disk_needs() {
        let mut body = grain(0, &[1; 100]);
        body.extend(meta(0, 0));
        match chunks(&stream(16, &body)) {
            Err(VmdkError::Corrupt { offset: 524, what }) => {
                assert!(what.contains("inflates to 100 bytes, not 4096"), "{what}")
            }
            other => panic!("{other:?}"),
        }
        let mut body = grain(0, &[1; 5000]);
        body.extend(meta(0, 0));
        assert!(matches!(
            chunks(&stream(16, &body)),
            Err(VmdkError::Corrupt { offset: 524, .. })
        ));
    }

    #[test]
    fn descriptor_and_raw_without_length_are_refused_by_open() {
        let text = b"# Disk DescriptorFile\ncreateType=\"vmfs\"\n";
        assert!(matches!(
            Reader::open(&text[..], Some(40)),
            Err(VmdkError::DescriptorFile)
        ));
        assert!(matches!(
            Reader::open(&[0u8; 600][..], None),
            Err(VmdkError::Unsupported(_))
        ));
        let r = Reader::open(&[0u8; 600][..], Some(600)).unwrap();
        assert_eq!(
            (r.format(), r.capacity(), r.adapter_type()),
            (Format::Raw, 600, None)
        );
    }

    #[test]
    fn flat_stream_keeps_failing_after_an_error() {
        let mut body = grain(0, &[1; 4096]);
        body.truncate(300);
        let img = stream(16, &body);
        let mut flat = Reader::sparse(img.as_slice()).unwrap().into_flat();
        let mut buf = [0u8; 100];
        let e = flat.read(&mut buf).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);
        let again = flat.read(&mut buf).unwrap_err();
        assert_eq!((again.kind(), again.to_string()), (e.kind(), e.to_string()));
        assert!(e.to_string().contains("truncated at byte 812"), "{e}");
    }

    #[test]
    fn monolithic_sparse_with_compressed_grains_or_no_directory_is_refused() {
        let mut h = SparseHeader {
            version: 1,
            flags: FLAG_NEWLINE_TEST | FLAG_COMPRESSED,
            capacity: 64,
            grain_size: 8,
            descriptor_offset: 0,
            descriptor_size: 0,
            num_gtes_per_gt: 512,
            rgd_offset: 0,
            gd_offset: 1,
            overhead: 8,
            unclean_shutdown: 0,
            compress_algorithm: 1,
        };
        let img = h.to_bytes();
        assert!(matches!(
            Reader::sparse(&img[..]),
            Err(VmdkError::Unsupported(_))
        ));
        h.flags = FLAG_NEWLINE_TEST;
        h.gd_offset = GD_AT_END;
        let img = h.to_bytes();
        assert!(matches!(
            Reader::sparse(&img[..]),
            Err(VmdkError::Corrupt { offset: 56, .. })
        ));
    }

    #[test]
    fn create_type_stream_optimized_needs_markers() {
        let h = SparseHeader {
            version: 1,
            flags: FLAG_NEWLINE_TEST,
            capacity: 64,
            grain_size: 8,
            descriptor_offset: 1,
            descriptor_size: 1,
            num_gtes_per_gt: 512,
            rgd_offset: 0,
            gd_offset: 2,
            overhead: 8,
            unclean_shutdown: 0,
            compress_algorithm: 0,
        };
        let mut img = h.to_bytes().to_vec();
        img.extend_from_slice(b"createType=\"streamOptimized\"\n");
        img.resize(4096, 0);
        assert_eq!(detect(&img).unwrap(), Format::StreamOptimized);
        assert!(matches!(
            Reader::sparse(img.as_slice()),
            Err(VmdkError::Corrupt { offset: 8, .. })
        ));
    }
}
