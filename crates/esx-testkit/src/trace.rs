//! Deterministic capture of `tracing` output in tests.
//!
//! # Why tests must not use `tracing::subscriber::set_default`
//!
//! `tracing-core` caches, per call site, whether any subscriber is interested in it. While only
//! one dispatcher is registered (a scoped one from `set_default`, no global default),
//! tracing-core computes that interest from **the default subscriber of the thread that hits the
//! call site first**. When another test of the same binary, running on a thread with no
//! subscriber, reaches a span first, the span is cached as "never" for the whole process and
//! the capturing test records nothing — a test that passes or fails by thread scheduling
//! (issue 15: `span_per_call_with_masked_password` failed 3 runs in 5).
//!
//! # The pattern
//!
//! One process-wide subscriber ([`init`]) that is interested in every call site, installed
//! before any call site is hit, which writes only what happens on threads that are capturing
//! ([`capture`]). Rules for a test binary that captures:
//!
//! 1. Every test of the binary calls [`capture`] (or [`init`]) as its first statement, so the
//!    global subscriber exists before any call site registers. Capturing tests are best kept in
//!    a binary of their own.
//! 2. Run the code under test on the test's own thread: `#[tokio::test]` (the current-thread
//!    runtime; spawned tasks run on the same thread). Work moved to other threads
//!    (`spawn_blocking`, a multi-thread runtime) is not captured.
//! 3. Assert on [`Capture::text`]: spans as `span NAME: field=value…`, span records as
//!    `record: …`, events as `event: field=value…`, values in `Debug` form.

use std::cell::RefCell;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Once};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Event, Metadata, Subscriber};

thread_local! {
    static SINK: RefCell<Option<Arc<Mutex<String>>>> = const { RefCell::new(None) };
}

static INIT: Once = Once::new();

/// Installs the process-wide capturing subscriber (idempotent). Panics if another global
/// subscriber was installed first, since captures would then silently record nothing.
pub fn init() {
    INIT.call_once(|| {
        tracing::subscriber::set_global_default(Global {
            next: AtomicU64::new(1),
        })
        .expect("esx_testkit::trace::init must be the only global tracing subscriber");
    });
}

/// Starts capturing what this thread records; stops when the guard is dropped.
pub fn capture() -> Capture {
    init();
    let out = Arc::new(Mutex::new(String::new()));
    SINK.with(|s| *s.borrow_mut() = Some(out.clone()));
    Capture { out }
}

/// An active capture on the current thread (see [`capture`]).
#[must_use = "the capture stops when dropped"]
pub struct Capture {
    out: Arc<Mutex<String>>,
}

impl Capture {
    /// Everything recorded so far.
    pub fn text(&self) -> String {
        self.out.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        SINK.with(|s| {
            let mut s = s.borrow_mut();
            if s.as_ref().is_some_and(|cur| Arc::ptr_eq(cur, &self.out)) {
                *s = None;
            }
        });
    }
}

/// Appends to this thread's capture, if there is one.
fn write(f: impl FnOnce(&mut String)) {
    SINK.with(|s| {
        if let Some(out) = s.borrow().as_ref() {
            f(&mut out.lock().unwrap_or_else(|e| e.into_inner()));
        }
    });
}

struct Fields<'a>(&'a mut String);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, " {}={:?}", field.name(), value);
    }
}

struct Global {
    next: AtomicU64,
}

impl Subscriber for Global {
    fn register_callsite(&self, _: &'static Metadata<'static>) -> Interest {
        Interest::always()
    }
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &Attributes<'_>) -> Id {
        write(|out| {
            let _ = write!(out, "\nspan {}:", span.metadata().name());
            span.record(&mut Fields(out));
        });
        Id::from_u64(self.next.fetch_add(1, Ordering::Relaxed))
    }
    fn record(&self, _: &Id, values: &Record<'_>) {
        write(|out| {
            out.push_str("\nrecord:");
            values.record(&mut Fields(out));
        });
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        write(|out| {
            out.push_str("\nevent:");
            event.record(&mut Fields(out));
        });
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_threads_are_not_captured() {
        let c = capture();
        std::thread::spawn(|| tracing::info!(secret = 1, "elsewhere"))
            .join()
            .unwrap();
        tracing::info!(here = 2, "mine");
        let t = c.text();
        assert!(t.contains("here=2") && !t.contains("secret"), "{t}");
    }

    #[test]
    fn many_threads_race_to_the_same_callsite() {
        // Threads without a capture hit the call site at the same time as capturing ones:
        // each capturing thread must still see its own span.
        let handles: Vec<_> = (0..16)
            .map(|i| {
                std::thread::spawn(move || {
                    let c = (i % 2 == 0).then(capture);
                    init();
                    tracing::info_span!("raced", i).in_scope(|| {});
                    c.map(|c| c.text())
                })
            })
            .collect();
        for (i, h) in handles.into_iter().enumerate() {
            if let Some(t) = h.join().unwrap() {
                assert!(t.contains(&format!("span raced: i={i}")), "{t}");
            }
        }
    }
}
