//! Progress bars for task-backed calls and transfers (on a terminal only), and Ctrl-C
//! cancellation of the running vSphere task.

use std::io::IsTerminal;

use esx_driver::{CancelToken, Connection, TaskControl};
use indicatif::{ProgressBar, ProgressStyle};

/// A connection whose task-backed calls report progress and stop on Ctrl-C.
pub struct Progress {
    /// Use this connection for the call.
    pub conn: Connection,
    bar: Option<ProgressBar>,
    watcher: Option<tokio::task::JoinHandle<()>>,
}

impl Progress {
    /// Progress for `what` (e.g. `start`) on `conn`: a bar when stderr is a terminal.
    pub fn task(conn: &Connection, what: &str) -> Progress {
        let bar = bar(what, 100);
        let cancel = CancelToken::new();
        let b = bar.clone();
        let mut control = TaskControl::new().with_cancel(cancel.clone());
        if let Some(b) = b {
            control = control.on_progress(move |p| {
                if let Some(pct) = p.percent {
                    b.set_position(pct.clamp(0, 100) as u64);
                }
            });
        }
        let watcher = tokio::runtime::Handle::try_current().ok().map(|h| {
            h.spawn(async move {
                if tokio::signal::ctrl_c().await.is_ok() {
                    cancel.cancel();
                }
            })
        });
        Progress {
            conn: conn.with_control(control),
            bar,
            watcher,
        }
    }

    /// Removes the bar.
    pub fn finish(self) {}
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
        if let Some(w) = self.watcher.take() {
            w.abort();
        }
    }
}

/// A bar of `len` units labelled `what`, when stderr is a terminal.
pub fn bar(what: &str, len: u64) -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let b = ProgressBar::new(len);
    let style = ProgressStyle::with_template("{msg:>10} [{bar:40}] {percent:>3}%")
        .map(|s| s.progress_chars("=> "))
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    b.set_style(style);
    b.set_message(what.to_string());
    Some(b)
}

/// A byte-counting bar for transfers of `len` bytes (unknown: a spinner with the count).
pub fn transfer_bar(what: &str, len: Option<u64>) -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let b = match len {
        Some(n) => {
            let b = ProgressBar::new(n);
            if let Ok(s) = ProgressStyle::with_template(
                "{msg:>10} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec}",
            ) {
                b.set_style(s.progress_chars("=> "));
            }
            b
        }
        None => ProgressBar::new_spinner(),
    };
    b.set_message(what.to_string());
    Some(b)
}
