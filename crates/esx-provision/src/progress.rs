//! Progress of long transfers (image uploads and downloads), for progress bars.

/// Receives the progress of a transfer; every method has a do-nothing default.
pub trait Progress: Send + Sync {
    /// A transfer of `total` bytes (when known) begins; `what` names it.
    fn begin(&self, what: &str, total: Option<u64>) {
        let _ = (what, total);
    }
    /// `bytes` more were transferred.
    fn advance(&self, bytes: u64) {
        let _ = bytes;
    }
    /// The transfer ended (successfully or not).
    fn end(&self) {}
}

/// Progress that is not shown.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {}
