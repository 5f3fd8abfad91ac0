//! Generated VMs get their files on first use, and a restart on the same data directory keeps
//! the inventory (changes included).

use esx_sim::state::{moref, Ctx, Mo, MoRef, State};
use esx_vim::{DestroyRequestType, PowerOnVMRequestType, Request, UnregisterVMRequestType};

fn start(dir: &std::path::Path) -> State {
    let mut cfg = esx_sim::Config::new(dir);
    cfg.inventory = "vm=20".parse().unwrap();
    let mut state = State::new(cfg);
    esx_sim::inventory::build(&mut state).unwrap();
    state
}

fn vm_named(state: &State, name: &str) -> Option<MoRef> {
    state.objects.iter().find_map(|(id, m)| match m {
        Mo::VirtualMachine(v) if v.name == name => Some(moref("VirtualMachine", id)),
        _ => None,
    })
}

fn vm_names(state: &State) -> Vec<String> {
    let mut v: Vec<String> = state
        .objects
        .values()
        .filter_map(|m| match m {
            Mo::VirtualMachine(v) => Some(v.name.clone()),
            _ => None,
        })
        .collect();
    v.sort();
    v
}

fn call(state: &mut State, req: Request) {
    let r = esx_sim::dispatch::handle(state, &Ctx::default(), req, &|| "k".to_owned());
    assert!(r.is_ok(), "{:?}", r.err().map(|f| f.message));
}

#[test]
fn files_are_written_on_first_use_and_survive_restart() {
    let dir = std::env::temp_dir().join(format!("esx-sim-lazy-it-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let ds = dir.join("datastore1");
    let mut state = start(&dir);
    assert_eq!(vm_names(&state).len(), 20);
    assert!(!ds.join("vm01").exists(), "no VM files before first use");

    // A power-on writes the VM's files.
    let vm3 = vm_named(&state, "vm03").unwrap();
    call(
        &mut state,
        Request::PowerOnVM_Task(Box::new(PowerOnVMRequestType {
            this: vm3.clone(),
            host: None,
        })),
    );
    assert!(ds.join("vm03/vm03.vmx").is_file());
    assert!(ds.join("vm03/vm03.vmdk").is_file());
    assert_eq!(
        std::fs::metadata(ds.join("vm03/vm03-flat.vmdk"))
            .unwrap()
            .len(),
        1 << 30
    );
    let on = std::fs::read_to_string(ds.join("vm03/vm03.vmx")).unwrap();
    assert!(on.contains("displayName = \"vm03\""), "{on}");

    // Datastore paths reach the files of the VM directory they name.
    let ds_ref = state.datastore_by_name("datastore1").unwrap();
    state.materialize(&ds_ref, "vm05/vm05.vmx");
    assert!(ds.join("vm05/vm05.vmx").is_file());
    assert!(!ds.join("vm06").exists());

    // Destroying a VM whose files were never written drops it for good; unregistering
    // one leaves its files on the datastore.
    let vm7 = vm_named(&state, "vm07").unwrap();
    call(
        &mut state,
        Request::Destroy_Task(Box::new(DestroyRequestType { this: vm7 })),
    );
    let vm8 = vm_named(&state, "vm08").unwrap();
    call(
        &mut state,
        Request::UnregisterVM(Box::new(UnregisterVMRequestType { this: vm8 })),
    );
    assert!(ds.join("vm08/vm08.vmx").is_file());
    assert!(vm_named(&state, "vm08").is_none());
    drop(state);

    // Restart: the same VMs minus the destroyed one (the unregistered one's .vmx is on the
    // datastore, so it is registered again), with the same identities.
    let state = start(&dir);
    let names = vm_names(&state);
    assert_eq!(names.len(), 19, "{names:?}");
    assert!(!names.contains(&"vm07".to_owned()));
    assert!(names.contains(&"vm08".to_owned()));
    assert!(!ds.join("vm01").exists());
    let vm3 = vm_named(&state, "vm03").unwrap();
    let uuid = state.vm(&vm3).unwrap().config.uuid.clone();
    assert!(!uuid.is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}
