//! Helpers shared by the tests that drive the dispatcher directly (no HTTP).

#![allow(dead_code)]

pub mod govc;
pub mod https;

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
    let dir = std::env::temp_dir().join(format!(
        "esx-sim-{tag}-{name}-{}-{}",
        std::process::id(),
        seq()
    ));
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

/// Reads a property path of `r`.
pub fn read(state: &State, r: &esx_sim::state::MoRef, path: &str) -> Option<esx_vim::Any> {
    esx_sim::property::read(state, &Ctx::default(), r, path).unwrap()
}

/// The first datastore (by id): its reference and directory.
pub fn datastore(state: &State) -> (esx_sim::state::MoRef, std::path::PathBuf) {
    let mut v: Vec<(String, std::path::PathBuf)> = state
        .objects
        .iter()
        .filter_map(|(id, m)| match m {
            esx_sim::state::Mo::Datastore(d) => Some((id.clone(), d.dir.clone())),
            _ => None,
        })
        .collect();
    v.sort();
    let (id, dir) = v.remove(0);
    (esx_sim::state::moref("Datastore", &id), dir)
}

/// Writes `<name>/<name>.vmx` (versions, display name, guest OS, memory, then `body`) into the first
/// datastore of an ESX-flavor state and registers it.
pub fn vm_with(state: &mut State, name: &str, body: &str) -> esx_sim::state::MoRef {
    use esx_sim::state::moref;
    let (ds, dir) = datastore(state);
    std::fs::create_dir_all(dir.join(name)).unwrap();
    let text =
        format!("config.version = \"8\"\nvirtualHW.version = \"14\"\ndisplayName = \"{name}\"\nguestOS = \"other-64\"\nmemsize = \"256\"\n{body}");
    std::fs::write(dir.join(format!("{name}/{name}.vmx")), text).unwrap();
    esx_sim::inventory::register_vm(
        state,
        &ds,
        &format!("{name}/{name}.vmx"),
        &moref("Folder", "ha-folder-vm"),
        &moref("ResourcePool", "ha-root-pool"),
        &moref("HostSystem", "ha-host"),
        None,
    )
    .unwrap()
}

/// `config.hardware.device` of `vm`.
pub fn devices(state: &State, vm: &esx_sim::state::MoRef) -> Vec<esx_vim::BaseVirtualDevice> {
    match read(state, vm, "config.hardware.device") {
        Some(esx_vim::Any::ArrayOfVirtualDevice(a)) => a.virtual_device,
        other => panic!("{other:?}"),
    }
}

/// The fault a finished task of `resp` ended with (`None` on success).
pub fn task_error(state: &State, resp: &Response) -> Option<BaseMethodFault> {
    let t = match resp {
        Response::ReconfigVM_Task(x) => &x.returnval,
        Response::PowerOnVM_Task(x) => &x.returnval,
        Response::PowerOffVM_Task(x) => &x.returnval,
        other => panic!("not a task: {other:?}"),
    };
    match state.get(t) {
        Some(esx_sim::state::Mo::Task(t)) => t.info.error.clone().map(|e| e.fault),
        _ => panic!("no task {t:?}"),
    }
}

/// A number no other directory of this process has had: one test binary holds every area's
/// tests, whose directory names could otherwise meet.
pub fn seq() -> usize {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// A temporary directory for test `tag` of `area`, unique in this process and removed if an
/// earlier run left it (not created: the simulator makes its data directory itself).
pub fn data_dir(area: &str, tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "esx-sim-{area}-{tag}-{}-{}",
        std::process::id(),
        seq()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Starts a simulator of `flavor` on loopback, its data in `data`.
pub async fn serve(flavor: esx_sim::Flavor, data: &std::path::Path) -> esx_sim::Handle {
    let mut cfg = esx_sim::Config::new(data);
    cfg.flavor = flavor;
    esx_sim::Simulator::start(cfg)
        .await
        .expect("simulator starts")
}
