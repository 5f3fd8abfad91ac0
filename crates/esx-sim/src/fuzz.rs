//! The check the fuzz target runs (`fuzz/fuzz_targets/request.rs`), shared with the stable
//! `cargo test` that replays the committed seed corpus (`tests/sim/fuzz_seeds.rs`). Not part of
//! the stable API.

use std::sync::{Mutex, OnceLock};

use crate::server::{decode_request, Decoded};
use crate::state::{Activity, Ctx, Session, State};

/// The simulator the target dispatches to: a three-VM inventory in a temporary data
/// directory (`$TMPDIR/esx-sim-fuzz-PID`), with an administrator session `fuzz`. One per
/// process, kept across inputs.
fn state() -> &'static Mutex<State> {
    static STATE: OnceLock<Mutex<State>> = OnceLock::new();
    STATE.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("esx-sim-fuzz-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut cfg = crate::Config::new(dir);
        cfg.inventory = "vm=3".parse().expect("inventory spec");
        let mut state = State::new(cfg);
        crate::inventory::build(&mut state).expect("inventory");
        state.sessions.insert(
            "fuzz".into(),
            Session {
                key: "fuzz".into(),
                user: "root".into(),
                read_only: false,
                login_time: crate::state::now(),
                activity: Activity::new(),
                started: std::time::Instant::now(),
            },
        );
        Mutex::new(state)
    })
}

/// Arbitrary bytes as a `POST /sdk` body: the request decoder never panics, and whatever
/// decodes as a vim25 call is dispatched (as an authenticated administrator) against
/// a small inventory's state without panicking either. Returns whether the input was dispatched.
pub fn request(data: &[u8]) -> bool {
    let Ok(decoded) = decode_request(data) else {
        return false;
    };
    let Decoded::Call(request) = decoded else {
        return false;
    };
    // Waiting calls block by design; the server answers them outside dispatch.
    if matches!(
        *request,
        esx_vim::Request::WaitForUpdates(_) | esx_vim::Request::WaitForUpdatesEx(_)
    ) {
        return false;
    }
    // A panic in an earlier input poisons the lock: carry on with what is there.
    let mut guard = state().lock().unwrap_or_else(|e| e.into_inner());
    let ctx = Ctx {
        session: Some("fuzz".into()),
        encoded: false,
    };
    let _ = crate::dispatch::handle(&mut guard, &ctx, *request, &|| "k2".to_owned());
    true
}
