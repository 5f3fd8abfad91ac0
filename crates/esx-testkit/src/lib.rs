//! Helpers shared by the workspace's tests (a dev-dependency only; never published).
//!
//! * [`trace`]: capture what `tracing` records during one test, deterministically, even while
//!   other tests of the same binary run in parallel threads.
//! * [`process`]: run a peer program with a time limit, so that a hang fails one test instead
//!   of hanging the suite.
//!
//! ```
//! let capture = esx_testkit::trace::capture();
//! tracing::info_span!("soap", method = "Login").in_scope(|| tracing::debug!("sent"));
//! let text = capture.text();
//! assert!(text.contains("span soap: method=\"Login\"") && text.contains("event: message=sent"));
//! ```

pub mod process;
pub mod trace;
