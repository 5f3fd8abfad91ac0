//! Arbitrary bytes as a `POST /sdk` body: the request decoder never panics, and whatever
//! decodes is dispatched (as an authenticated administrator) against a small inventory in a
//! temporary data directory without panicking either.
#![no_main]

use std::sync::{Mutex, OnceLock};

use esx_sim::server::{decode_request, Decoded};
use esx_sim::state::{Ctx, Session, State};
use libfuzzer_sys::fuzz_target;

fn state() -> &'static Mutex<State> {
    static STATE: OnceLock<Mutex<State>> = OnceLock::new();
    STATE.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("esx-sim-fuzz-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut cfg = esx_sim::Config::new(dir);
        cfg.inventory = "vm=3".parse().expect("inventory spec");
        let mut state = State::new(cfg);
        esx_sim::inventory::build(&mut state).expect("inventory");
        state.sessions.insert(
            "fuzz".into(),
            Session {
                key: "fuzz".into(),
                user: "root".into(),
                read_only: false,
                login_time: esx_sim::state::now(),
                activity: esx_sim::state::Activity::new(),
                started: std::time::Instant::now(),
            },
        );
        Mutex::new(state)
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(decoded) = decode_request(data) else {
        return;
    };
    let Decoded::Call(request) = decoded else {
        return;
    };
    // Waiting calls block by design; the server answers them outside dispatch.
    if matches!(
        *request,
        esx_vim::Request::WaitForUpdates(_) | esx_vim::Request::WaitForUpdatesEx(_)
    ) {
        return;
    }
    let Ok(mut guard) = state().lock() else {
        return;
    };
    let ctx = Ctx {
        session: Some("fuzz".into()),
    };
    let _ = esx_sim::dispatch::handle(&mut guard, &ctx, *request, &|| "k2".to_owned());
});
