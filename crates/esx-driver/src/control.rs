//! Progress reports and cancellation for task-backed calls (what libvirt's ESX driver lacks).
//!
//! ```
//! use esx_driver::{CancelToken, TaskControl};
//!
//! let cancel = CancelToken::new();
//! let control = TaskControl::new()
//!     .on_progress(|p| eprintln!("{}: {:?}%", p.description, p.percent))
//!     .with_cancel(cancel.clone());
//! // let conn = conn.with_control(control); conn.domain_create(&dom).await?;
//! cancel.cancel(); // from another task: CancelTask is sent, the call fails with OperationAborted
//! assert!(cancel.is_cancelled());
//! # let _ = control;
//! ```

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// One progress report of a vSphere task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskProgress {
    /// The task's managed object id, e.g. `task-42`.
    pub task: String,
    /// What the task does (`descriptionId`, e.g. `VirtualMachine.powerOn`).
    pub description: String,
    /// Percent done, when the server reports it.
    pub percent: Option<i32>,
    /// `queued`, `running`, `success` or `error`.
    pub state: String,
}

type ProgressFn = dyn Fn(&TaskProgress) + Send + Sync;

/// A cancellation flag shared between the caller and the driver.
#[derive(Clone, Default)]
pub struct CancelToken(Arc<CancelInner>);

#[derive(Default)]
struct CancelInner {
    cancelled: AtomicBool,
    notify: tokio::sync::Notify,
}

impl CancelToken {
    /// A token that is not cancelled.
    pub fn new() -> Self {
        Self::default()
    }

    /// Cancels every task-backed call watching this token.
    pub fn cancel(&self) {
        self.0.cancelled.store(true, Ordering::SeqCst);
        self.0.notify.notify_waiters();
    }

    /// Whether [`CancelToken::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.cancelled.load(Ordering::SeqCst)
    }

    /// Resolves once the token is cancelled.
    pub async fn cancelled(&self) {
        loop {
            let notified = self.0.notify.notified();
            if self.is_cancelled() {
                return;
            }
            notified.await;
        }
    }
}

impl fmt::Debug for CancelToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("CancelToken")
            .field(&self.is_cancelled())
            .finish()
    }
}

/// How task-backed calls of a connection report progress and observe cancellation; attach it
/// with [`crate::Connection::with_control`].
#[derive(Clone, Default)]
pub struct TaskControl {
    progress: Option<Arc<ProgressFn>>,
    cancel: Option<CancelToken>,
}

impl TaskControl {
    /// No progress callback, no cancellation.
    pub fn new() -> Self {
        Self::default()
    }

    /// Calls `f` with every progress report.
    pub fn on_progress(mut self, f: impl Fn(&TaskProgress) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(f));
        self
    }

    /// Cancels running tasks (with `CancelTask`) when `token` is cancelled.
    pub fn with_cancel(mut self, token: CancelToken) -> Self {
        self.cancel = Some(token);
        self
    }

    pub(crate) fn report(&self, p: &TaskProgress) {
        if let Some(f) = &self.progress {
            f(p);
        }
    }

    pub(crate) fn cancel_token(&self) -> Option<&CancelToken> {
        self.cancel.as_ref()
    }
}

impl fmt::Debug for TaskControl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskControl")
            .field("progress", &self.progress.is_some())
            .field("cancel", &self.cancel)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn cancelled_wakes_waiters() {
        let t = CancelToken::new();
        let t2 = t.clone();
        let waiter = tokio::spawn(async move { t2.cancelled().await });
        tokio::task::yield_now().await;
        t.cancel();
        waiter.await.unwrap();
        // Already cancelled: returns at once.
        t.cancelled().await;
    }
}
