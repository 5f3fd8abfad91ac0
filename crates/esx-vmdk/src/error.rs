//! The one error type of this crate.

use std::io;

/// What went wrong reading or writing an image or a descriptor, and where.
///
/// Byte offsets are into the image file (the input stream), unless the variant says it names
/// a position on the virtual disk.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VmdkError {
    /// The input does not start with the sparse header magic `KDMV`.
    #[error(
        "not a sparse VMDK: bytes at offset {offset} are {found:02x?}, not the magic \"KDMV\""
    )]
    BadMagic {
        /// Where the magic was expected.
        offset: u64,
        /// The bytes found there (fewer than 4 at the end of the input).
        found: Vec<u8>,
    },
    /// The input ended before the image did.
    #[error("image truncated at byte {offset}: {what}")]
    Truncated {
        /// Where the input ended.
        offset: u64,
        /// What was being read.
        what: String,
    },
    /// A structure in the image is inconsistent or out of range.
    #[error("corrupt image at byte {offset}: {what}")]
    Corrupt {
        /// Where the bad structure (or field) is.
        offset: u64,
        /// What is wrong with it.
        what: String,
    },
    /// Grains of a stream come in an order that a forward-only reader cannot serve.
    #[error(
        "grain at byte {offset} holds disk byte {disk_offset}, not after disk byte {previous} \
         of the grain before it: grains must come in increasing disk order to be streamed"
    )]
    OutOfOrder {
        /// Where the grain (or its marker) is in the file.
        offset: u64,
        /// The virtual-disk byte offset the grain holds.
        disk_offset: u64,
        /// The virtual-disk byte offset of the grain read before it.
        previous: u64,
    },
    /// A valid image (or request) this crate does not handle.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// A size above what this crate accepts (it keeps memory bounded).
    #[error("{what} of {size} bytes is above the limit of {limit} bytes")]
    TooLarge {
        /// What is too large (e.g. "capacity").
        what: &'static str,
        /// Its size in bytes.
        size: u64,
        /// The limit in bytes.
        limit: u64,
    },
    /// The input is a descriptor file: the data is in the extent it names.
    #[error("a descriptor file, not an image: upload its extent")]
    DescriptorFile,
    /// A write to [`StreamOptimizedWriter`](crate::StreamOptimizedWriter) out of order or out of range.
    #[error("bad write at disk byte {offset}: {what}")]
    BadWrite {
        /// The virtual-disk byte offset of the write.
        offset: u64,
        /// What is wrong with it.
        what: String,
    },
    /// Reading the input failed (other than by ending early).
    #[error("reading the image at byte {offset}: {source}")]
    Read {
        /// Where the read started.
        offset: u64,
        /// The I/O error.
        source: io::Error,
    },
    /// Another I/O error (writing the output, or from a caller's reader).
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),
    /// A descriptor text line that does not parse (line 0: the text as a whole).
    #[error("descriptor line {line}: {what}")]
    Descriptor {
        /// 1-based line number, or 0 for something missing from the whole text.
        line: usize,
        /// What is wrong with it.
        what: String,
    },
}

impl VmdkError {
    pub(crate) fn corrupt(offset: u64, what: impl Into<String>) -> Self {
        VmdkError::Corrupt {
            offset,
            what: what.into(),
        }
    }

    pub(crate) fn truncated(offset: u64, what: impl Into<String>) -> Self {
        VmdkError::Truncated {
            offset,
            what: what.into(),
        }
    }

    /// The `std::io::ErrorKind` that best matches this error.
    pub fn io_kind(&self) -> io::ErrorKind {
        match self {
            VmdkError::Truncated { .. } => io::ErrorKind::UnexpectedEof,
            VmdkError::Read { source, .. } | VmdkError::Io(source) => source.kind(),
            VmdkError::Unsupported(_) => io::ErrorKind::Unsupported,
            VmdkError::BadWrite { .. } => io::ErrorKind::InvalidInput,
            _ => io::ErrorKind::InvalidData,
        }
    }
}

impl From<VmdkError> for io::Error {
    /// An `io::Error` of the matching kind whose text is the `VmdkError`'s.
    fn from(e: VmdkError) -> Self {
        match e {
            VmdkError::Io(inner) => inner,
            other => io::Error::new(other.io_kind(), other),
        }
    }
}
