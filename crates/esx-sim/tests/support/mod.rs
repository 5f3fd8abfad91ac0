//! Helpers shared by the tests that drive the dispatcher directly (no HTTP).

#![allow(dead_code)]

use esx_sim::state::{Ctx, State};
use esx_vim::{BaseMethodFault, Request, Response};

/// A fresh state of `flavor` with inventory `inv` (None: the default), in a temporary data
/// directory named after the test (`tag`, `name`); returns the state and its directory.
pub fn start(
    tag: &str,
    name: &str,
    flavor: esx_sim::Flavor,
    inv: Option<&str>,
) -> (State, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("esx-sim-{tag}-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut cfg = esx_sim::Config::new(&dir);
    cfg.flavor = flavor;
    if let Some(inv) = inv {
        cfg.inventory = inv.parse().expect("inventory spec");
    }
    let mut state = State::new(cfg);
    esx_sim::inventory::build(&mut state).expect("inventory builds");
    (state, dir)
}

/// One call through the dispatcher as the administrator; the fault on failure.
pub fn call(state: &mut State, req: Request) -> Result<Response, Box<BaseMethodFault>> {
    esx_sim::dispatch::handle(state, &Ctx::default(), req, &|| "k".to_owned())
        .map(|(r, _)| r)
        .map_err(|f| Box::new(f.fault))
}

/// `PowerOnVM_Task` on `vm` (no host given); panics if the call itself faults.
pub fn power_on(state: &mut State, vm: &esx_sim::state::MoRef) {
    call(
        state,
        Request::PowerOnVM_Task(Box::new(esx_vim::PowerOnVMRequestType {
            this: vm.clone(),
            host: None,
        })),
    )
    .expect("PowerOnVM_Task is accepted");
}
