//! Folders: `CreateFolder` and `MoveIntoFolder_Task` through the dispatcher (faults, inventory
//! paths) and with govc (`folder.create`, `object.mv`).

use std::path::Path;

use esx_sim::state::{moref, Mo, MoRef, State};
use esx_vim::*;

use crate::support;

use support::call;

fn start(name: &str, flavor: esx_sim::Flavor) -> (State, std::path::PathBuf) {
    support::start("folders", name, flavor, None)
}

fn find(state: &mut State, path: &str) -> Option<MoRef> {
    let req = Request::FindByInventoryPath(Box::new(FindByInventoryPathRequestType {
        this: moref("SearchIndex", "SearchIndex"),
        inventory_path: path.into(),
    }));
    match call(state, req) {
        Ok(Response::FindByInventoryPath(r)) => r.returnval,
        other => panic!("{other:?}"),
    }
}

fn create(state: &mut State, parent: &MoRef, name: &str) -> Result<MoRef, Box<BaseMethodFault>> {
    let req = Request::CreateFolder(Box::new(CreateFolderRequestType {
        this: parent.clone(),
        name: name.into(),
    }));
    call(state, req).map(|r| match r {
        Response::CreateFolder(r) => r.returnval,
        other => panic!("{other:?}"),
    })
}

/// Moves `list` into `folder`: `Err` for a fault of the call, `Ok(Some(fault))` for a failed task.
fn mv(
    state: &mut State,
    folder: &MoRef,
    list: &[MoRef],
) -> Result<Option<LocalizedMethodFault>, Box<BaseMethodFault>> {
    let req = Request::MoveIntoFolder_Task(Box::new(MoveIntoFolderRequestType {
        this: folder.clone(),
        list: list.to_vec(),
    }));
    let t = match call(state, req)? {
        Response::MoveIntoFolder_Task(r) => r.returnval,
        other => panic!("{other:?}"),
    };
    match state.get(&t) {
        Some(Mo::Task(t)) => Ok(t.info.error.clone()),
        _ => panic!("no task"),
    }
}

#[test]
fn create_and_move_folders() {
    let (mut state, dir) = start("api", esx_sim::Flavor::Vcenter);
    let vmf = find(&mut state, "DC0/vm").unwrap();
    let hostf = find(&mut state, "DC0/host").unwrap();
    let prod = create(&mut state, &vmf, "prod").unwrap();
    let web = create(&mut state, &prod, "web").unwrap();
    assert_eq!(find(&mut state, "DC0/vm/prod/web"), Some(web.clone()));
    match state.get(&web) {
        Some(Mo::Folder(f)) => assert_eq!(f.child_type, ["Folder", "VirtualMachine", "VirtualApp"]),
        _ => panic!(),
    }
    // Names.
    let e = create(&mut state, &vmf, "prod").unwrap_err();
    assert!(matches!(*e, BaseMethodFault::DuplicateName(_)), "{e:?}");
    for bad in ["", "a/b", &"x".repeat(81)] {
        let e = create(&mut state, &vmf, bad).unwrap_err();
        assert!(
            matches!(*e, BaseMethodFault::InvalidName(_)),
            "{bad:?}: {e:?}"
        );
    }
    create(&mut state, &vmf, &"x".repeat(80)).unwrap();
    // Not a folder.
    let dc = find(&mut state, "DC0").unwrap();
    let e = create(&mut state, &dc, "x").unwrap_err();
    assert!(
        matches!(*e, BaseMethodFault::ManagedObjectNotFound(_)),
        "{e:?}"
    );

    // A VM into the new folder; its inventory path follows.
    let vm1 = find(&mut state, "DC0/vm/vm1").unwrap();
    assert_eq!(
        mv(&mut state, &web, std::slice::from_ref(&vm1)).unwrap(),
        None
    );
    assert_eq!(find(&mut state, "DC0/vm/vm1"), None);
    assert_eq!(find(&mut state, "DC0/vm/prod/web/vm1"), Some(vm1.clone()));
    assert_eq!(state.parent_of(&vm1), Some(web.clone()));
    // A folder into its own subtree, or into itself.
    let e = mv(&mut state, &web, std::slice::from_ref(&prod)).unwrap_err();
    assert!(matches!(*e, BaseMethodFault::InvalidFolder(_)), "{e:?}");
    let e = mv(&mut state, &prod, std::slice::from_ref(&prod)).unwrap_err();
    assert!(matches!(*e, BaseMethodFault::InvalidFolder(_)), "{e:?}");
    // A VM into the host folder; a VM folder into the host folder.
    let vm2 = find(&mut state, "DC0/vm/vm2").unwrap();
    let e = mv(&mut state, &hostf, std::slice::from_ref(&vm2)).unwrap_err();
    assert!(matches!(*e, BaseMethodFault::NotSupported(_)), "{e:?}");
    let e = mv(&mut state, &hostf, std::slice::from_ref(&web)).unwrap_err();
    assert!(matches!(*e, BaseMethodFault::InvalidFolder(_)), "{e:?}");
    // A name already taken in the destination.
    let other = create(&mut state, &vmf, "web").unwrap();
    let e = mv(&mut state, &prod, std::slice::from_ref(&other)).unwrap_err();
    assert!(matches!(*e, BaseMethodFault::DuplicateName(_)), "{e:?}");
    // A whole folder moves with its content.
    let archive = create(&mut state, &vmf, "archive").unwrap();
    assert_eq!(
        mv(&mut state, &archive, std::slice::from_ref(&web)).unwrap(),
        None
    );
    assert_eq!(find(&mut state, "DC0/vm/archive/web/vm1"), Some(vm1));
    assert_eq!(find(&mut state, "DC0/vm/prod/web"), None);
    // A cluster into a host folder of its own.
    let hf = create(&mut state, &hostf, "hosts").unwrap();
    let cluster = find(&mut state, "DC0/host/Cluster0").unwrap();
    assert_eq!(
        mv(&mut state, &hf, std::slice::from_ref(&cluster)).unwrap(),
        None
    );
    assert_eq!(find(&mut state, "DC0/host/hosts/Cluster0"), Some(cluster));
    // Unknown objects.
    let ghost = moref("VirtualMachine", "vm-999");
    let e = mv(&mut state, &prod, &[ghost]).unwrap_err();
    assert!(
        matches!(*e, BaseMethodFault::ManagedObjectNotFound(_)),
        "{e:?}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

fn task_error(state: &State, r: Response) -> Option<LocalizedMethodFault> {
    let t = match r {
        Response::Rename_Task(t) => t.returnval,
        Response::Destroy_Task(t) => t.returnval,
        other => panic!("{other:?}"),
    };
    match state.get(&t) {
        Some(Mo::Task(t)) => t.info.error.clone(),
        _ => panic!("no task"),
    }
}

fn rename(state: &mut State, r: &MoRef, name: &str) -> Result<(), Box<BaseMethodFault>> {
    let req = Request::Rename_Task(Box::new(RenameRequestType {
        this: r.clone(),
        new_name: name.into(),
    }));
    let resp = call(state, req)?;
    assert_eq!(task_error(state, resp), None);
    Ok(())
}

fn destroy(state: &mut State, r: &MoRef) -> Result<(), Box<BaseMethodFault>> {
    let req = Request::Destroy_Task(Box::new(DestroyRequestType { this: r.clone() }));
    let resp = call(state, req)?;
    assert_eq!(task_error(state, resp), None);
    Ok(())
}

#[test]
fn rename_and_destroy_folders() {
    let (mut state, dir) = start("rename", esx_sim::Flavor::Vcenter);
    let vmf = find(&mut state, "DC0/vm").unwrap();
    let a = create(&mut state, &vmf, "a").unwrap();
    let b = create(&mut state, &a, "b").unwrap();
    create(&mut state, &vmf, "c").unwrap();
    rename(&mut state, &a, "alpha").unwrap();
    assert_eq!(find(&mut state, "DC0/vm/alpha/b"), Some(b.clone()));
    let e = rename(&mut state, &a, "c").unwrap_err();
    assert!(matches!(*e, BaseMethodFault::DuplicateName(_)), "{e:?}");
    let e = rename(&mut state, &a, "x/y").unwrap_err();
    assert!(matches!(*e, BaseMethodFault::InvalidName(_)), "{e:?}");
    let e = rename(&mut state, &vmf, "vms").unwrap_err();
    assert!(matches!(*e, BaseMethodFault::NotSupported(_)), "{e:?}");
    // A VM is renamed through its .vmx.
    let vm1 = find(&mut state, "DC0/vm/vm1").unwrap();
    rename(&mut state, &vm1, "web1").unwrap();
    assert_eq!(find(&mut state, "DC0/vm/web1"), Some(vm1.clone()));
    let vmx = std::fs::read_to_string(&state.vm(&vm1).unwrap().vmx_path).unwrap();
    assert!(vmx.contains("displayName = \"web1\""), "{vmx}");
    let e = rename(&mut state, &vm1, "vm2").unwrap_err();
    assert!(matches!(*e, BaseMethodFault::DuplicateName(_)), "{e:?}");

    // Destroying a folder destroys the powered-off VMs in it, files included.
    assert_eq!(
        mv(&mut state, &b, std::slice::from_ref(&vm1)).unwrap(),
        None
    );
    let vm_dir = state
        .vm(&vm1)
        .unwrap()
        .vmx_path
        .parent()
        .unwrap()
        .to_path_buf();
    assert!(vm_dir.exists());
    support::power_on(&mut state, &vm1);
    let e = destroy(&mut state, &a).unwrap_err();
    assert!(matches!(*e, BaseMethodFault::InvalidPowerState(_)), "{e:?}");
    call(
        &mut state,
        Request::PowerOffVM_Task(Box::new(PowerOffVMRequestType { this: vm1.clone() })),
    )
    .unwrap();
    destroy(&mut state, &a).unwrap();
    assert_eq!(find(&mut state, "DC0/vm/alpha"), None);
    assert!(state.get(&b).is_none() && state.get(&vm1).is_none());
    assert!(!vm_dir.exists());
    let e = destroy(&mut state, &vmf).unwrap_err();
    assert!(matches!(*e, BaseMethodFault::NotSupported(_)), "{e:?}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn standalone_host_has_no_folder_changes() {
    let (mut state, dir) = start("esx", esx_sim::Flavor::Esx);
    let vmf = moref("Folder", "ha-folder-vm");
    let e = create(&mut state, &vmf, "x").unwrap_err();
    assert!(matches!(*e, BaseMethodFault::NotSupported(_)), "{e:?}");
    let _ = std::fs::remove_dir_all(dir);
}

fn govc_available() -> bool {
    let ok = Path::new(support::govc::GOVC).exists();
    if !ok {
        eprintln!("SKIPPED: /opt/peers/bin/govc is missing (run ../shared/peers/setup-peers.sh)");
    }
    ok
}

/// A govc runner for the simulator at `port`: (success, stdout + stderr).
fn govc_at(port: u16, home: &Path) -> impl Fn(&[&str]) -> (bool, String) {
    let url = format!("https://root:pass@127.0.0.1:{port}/sdk");
    let home = home.to_path_buf();
    move |args: &[&str]| support::govc::run(&url, &home, args)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn govc_folder_create_and_object_mv() {
    if !govc_available() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("esx-sim-folders-govc-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut cfg = esx_sim::Config::new(dir.join("data"));
    cfg.flavor = esx_sim::Flavor::Vcenter;
    let h = esx_sim::Simulator::start(cfg).await.unwrap();
    let govc = govc_at(h.addr.port(), &dir.join("govmomi"));
    tokio::task::spawn_blocking(move || {
        let ok = |args: &[&str]| {
            let (success, out) = govc(args);
            assert!(success, "govc {args:?}: {out}");
            out
        };
        ok(&["folder.create", "/DC0/vm/prod"]);
        ok(&["folder.create", "/DC0/vm/prod/web"]);
        let (dup, out) = govc(&["folder.create", "/DC0/vm/prod"]);
        assert!(!dup && out.contains("already exists"), "{out}");
        ok(&["object.mv", "/DC0/vm/vm1", "/DC0/vm/prod/web"]);
        let listed = ok(&["ls", "/DC0/vm/prod/web"]);
        assert_eq!(listed.trim(), "/DC0/vm/prod/web/vm1");
        let info = ok(&["vm.info", "/DC0/vm/prod/web/vm1"]);
        assert!(
            info.contains("Path:         /DC0/vm/prod/web/vm1"),
            "{info}"
        );
        let found = ok(&["find", "/DC0/vm", "-type", "m"]);
        assert!(found.contains("/DC0/vm/prod/web/vm1"), "{found}");
        let folder = ok(&["folder.info", "/DC0/vm/prod"]);
        assert!(
            folder.contains("Folder,VirtualMachine,VirtualApp"),
            "{folder}"
        );
        let (cycle, out) = govc(&["object.mv", "/DC0/vm/prod", "/DC0/vm/prod/web"]);
        assert!(
            !cycle && out.contains("inside the folder being moved"),
            "{out}"
        );
        let (wrong, out) = govc(&["object.mv", "/DC0/vm/vm2", "/DC0/host"]);
        assert!(!wrong && out.contains("not supported"), "{out}");
        ok(&["folder.create", "/DC0/host/racks"]);
        ok(&["object.mv", "/DC0/host/Cluster0", "/DC0/host/racks"]);
        let hosts = ok(&["find", "/DC0/host/racks", "-type", "h"]);
        assert_eq!(hosts.lines().count(), 2, "{hosts}");
        ok(&["object.rename", "/DC0/vm/prod", "production"]);
        let listed = ok(&["ls", "/DC0/vm/production/web"]);
        assert_eq!(listed.trim(), "/DC0/vm/production/web/vm1");
        ok(&["object.destroy", "/DC0/vm/production"]);
        let (gone, out) = govc(&["ls", "/DC0/vm/production"]);
        assert!(gone && out.trim().is_empty(), "{out}");
        let left = ok(&["find", "/DC0/vm", "-type", "m"]);
        assert!(!left.contains("vm1") && left.contains("vm2"), "{left}");
    })
    .await
    .unwrap();
    h.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
