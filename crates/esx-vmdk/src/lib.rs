//! VMDK disk images, streamed: detect what an image is, read it front to back as chunks of
//! allocated data or as the flat bytes of the virtual disk, write a streamOptimized image to a
//! forward-only writer, and parse and write text descriptors.
//!
//! Images may be many GiB: nothing here holds a whole image in memory. Readers work on a pipe
//! or an HTTP body (`std::io::Read`); memory is a few MiB of buffers, plus the grain map of a
//! monolithicSparse image (8 bytes an allocated grain). Capacities above 64 TiB are refused.
//! Hostile input is an error naming what was wrong and at which byte, never a panic.
//!
//! Formats read: raw (flat), monolithicSparse (hosted sparse, as VMware and `qemu-img`
//! write it) and streamOptimized (compressed grains with markers, as in OVF/OVA packages).
//! A forward-only reader needs the grains in disk order and a sparse image's tables before
//! its grains; [`Reader::sparse_seekable`] and [`Reader::open_seekable`] read a seekable
//! file whatever its layout. Written: streamOptimized ([`StreamOptimizedWriter`]) and text
//! descriptors ([`Descriptor::flat`] for a `-flat.vmdk` extent as ESX lays it out).
//!
//! ```
//! use std::io::Read;
//! use esx_vmdk::{Descriptor, Format, Reader, StreamOptimizedWriter};
//!
//! // Write a 1 MiB disk with data at 4 KiB and in its last byte...
//! let mut w = StreamOptimizedWriter::new(Vec::new(), 1 << 20, "lsilogic")?;
//! w.write_at(4096, b"hello")?;
//! w.write_at((1 << 20) - 1, b"!")?;
//! let image = w.finish()?;
//!
//! // ...read it back as chunks of allocated data...
//! let mut r = Reader::open(image.as_slice(), None)?;
//! assert_eq!((r.format(), r.capacity()), (Format::StreamOptimized, 1 << 20));
//! assert_eq!(r.adapter_type(), Some("lsilogic"));
//! let first = r.next_chunk()?.expect("a chunk");
//! assert_eq!((first.offset, &first.data[4096..4101]), (0, &b"hello"[..]));
//!
//! // ...or as the flat bytes of the disk, e.g. for an HTTP PUT of a `-flat.vmdk` extent.
//! let mut flat = Vec::new();
//! Reader::open(image.as_slice(), None)?.into_flat().read_to_end(&mut flat)?;
//! assert_eq!((flat.len(), flat[4096], flat[(1 << 20) - 1]), (1 << 20, b'h', b'!'));
//!
//! // The descriptor that goes beside that extent.
//! let d = Descriptor::flat("web-flat.vmdk", 1 << 20, "lsilogic", true, "60 00 C2 9a");
//! assert!(d.to_text().contains("RW 2048 VMFS \"web-flat.vmdk\""));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## The esx crates
//!
//! [esx-vim](https://docs.rs/esx-vim) (vSphere bindings, SOAP codec, HTTPS client) ·
//! [esx-uri](https://docs.rs/esx-uri) (`esx://`, `gsx://`, `vpx://` URIs, auth.conf) ·
//! [esx-domain](https://docs.rs/esx-domain) (libvirt domain, snapshot, pool, volume, network XML) ·
//! [esx-vmx](https://docs.rs/esx-vmx) (`.vmx` files and VMX ⇄ domain XML) ·
//! [esx-vmdk](https://docs.rs/esx-vmdk) (VMDK images, streamed) ·
//! [esx-driver](https://docs.rs/esx-driver) (the libvirt-style ESX driver) ·
//! [esx-provision](https://docs.rs/esx-provision) (Nova-style spawning from images) ·
//! [esx-guest](https://docs.rs/esx-guest) (guest agent, `machine.id`) ·
//! [esx-sim](https://docs.rs/esx-sim) (a vSphere simulator) ·
//! [esx-cli](https://docs.rs/esx-cli) (`esxsh`).

#![warn(missing_docs)]

mod descriptor;
mod error;
#[doc(hidden)]
pub mod fuzz;
mod header;
mod input;
mod reader;
mod writer;

pub use descriptor::{Descriptor, Extent};
pub use error::VmdkError;
pub use header::{detect, Format};
pub use reader::{Chunk, FlatStream, Reader};
pub use writer::{write_stream_optimized, StreamOptimizedWriter};

/// Bytes in a sector, the unit of sizes and offsets in VMDK metadata.
pub const SECTOR: u64 = 512;
/// The largest capacity accepted: 64 TiB.
pub const MAX_CAPACITY: u64 = 64 << 40;
/// The largest [`Chunk`] a [`Reader`] returns: 1 MiB.
pub const MAX_CHUNK: usize = 1 << 20;

/// Whether every byte is zero.
pub(crate) fn is_zero(b: &[u8]) -> bool {
    let mut blocks = b.chunks_exact(64);
    for block in &mut blocks {
        if block.iter().fold(0u8, |a, &x| a | x) != 0 {
            return false;
        }
    }
    blocks.remainder().iter().all(|&x| x == 0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn readers_and_writers_can_move_to_another_thread() {
        fn send<T: Send>() {}
        send::<crate::Reader<std::fs::File>>();
        send::<crate::FlatStream<std::fs::File>>();
        send::<crate::StreamOptimizedWriter<std::fs::File>>();
        send::<crate::VmdkError>();
    }

    #[test]
    fn is_zero_finds_any_byte() {
        assert!(super::is_zero(&[]));
        assert!(super::is_zero(&[0; 1000]));
        for at in [0, 63, 64, 500, 999] {
            let mut b = vec![0u8; 1000];
            b[at] = 1;
            assert!(!super::is_zero(&b), "{at}");
        }
    }
}
