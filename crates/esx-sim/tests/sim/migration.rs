//! vCenter migration: `MigrateVM_Task`, `RelocateVM_Task`, `ValidateMigration`, host power and
//! maintenance mode, and `NotSupported` on a standalone host.

use esx_sim::state::{moref, Ctx, Mo, MoRef, State};
use esx_vim::*;

use crate::support;

use support::call;

fn start(name: &str, flavor: esx_sim::Flavor, inv: &str) -> (State, std::path::PathBuf) {
    support::start("migr", name, flavor, Some(inv))
}

fn named(state: &State, ty: &str, name: &str) -> MoRef {
    let mut hits: Vec<MoRef> = state
        .objects
        .keys()
        .filter_map(|id| state.ref_of(id))
        .filter(|r| r.r#type == ty && state.name_of(r).as_deref() == Some(name))
        .collect();
    hits.sort();
    hits.into_iter()
        .next()
        .unwrap_or_else(|| panic!("no {ty} {name}"))
}

fn task_info(state: &State, r: &Response) -> TaskInfo {
    let t = match r {
        Response::MigrateVM_Task(x) => &x.returnval,
        Response::RelocateVM_Task(x) => &x.returnval,
        Response::ShutdownHost_Task(x) => &x.returnval,
        Response::PowerUpHostFromStandBy_Task(x) => &x.returnval,
        Response::EnterMaintenanceMode_Task(x) => &x.returnval,
        Response::ExitMaintenanceMode_Task(x) => &x.returnval,
        other => panic!("not a task: {other:?}"),
    };
    match state.get(t) {
        Some(Mo::Task(t)) => t.info.clone(),
        _ => panic!("no task {t:?}"),
    }
}

fn migrate(vm: &MoRef, pool: Option<MoRef>, host: Option<MoRef>) -> Request {
    Request::MigrateVM_Task(Box::new(MigrateVMRequestType {
        this: vm.clone(),
        pool,
        host,
        priority: VirtualMachineMovePriority::DefaultPriority,
        state: None,
    }))
}

fn validate(state: &mut State, vm: &MoRef, host: &MoRef) -> Result<Vec<BaseEvent>, String> {
    let req = Request::ValidateMigration(Box::new(ValidateMigrationRequestType {
        this: moref("ServiceInstance", "ServiceInstance"),
        vm: vec![vm.clone()],
        host: Some(host.clone()),
        ..Default::default()
    }));
    match call(state, req) {
        Ok(Response::ValidateMigration(r)) => Ok(r.returnval),
        Ok(other) => panic!("{other:?}"),
        Err(f) => Err(format!("{f:?}")),
    }
}

fn event_text(e: &BaseEvent) -> String {
    format!("{e:?}")
}

fn host_vms(state: &State, host: &MoRef) -> Vec<MoRef> {
    match esx_sim::property::read(state, &Ctx::default(), host, "vm").unwrap() {
        Some(Any::ArrayOfManagedObjectReference(a)) => a.managed_object_reference,
        other => panic!("{other:?}"),
    }
}

#[test]
fn migrates_between_cluster_hosts_and_validates() {
    let (mut state, dir) = start("migrate", esx_sim::Flavor::Vcenter, "vm=3");
    let vm1 = named(&state, "VirtualMachine", "vm1");
    let h0 = named(&state, "HostSystem", "esx-0-0-0.sim.local");
    let h1 = named(&state, "HostSystem", "esx-0-0-1.sim.local");
    assert_eq!(state.vm(&vm1).unwrap().host, h0);
    assert!(host_vms(&state, &h0).contains(&vm1));

    // Fine to move: no events.
    assert!(validate(&mut state, &vm1, &h1).unwrap().is_empty());
    // Same host: one event naming the host.
    let same = validate(&mut state, &vm1, &h0).unwrap();
    assert_eq!(same.len(), 1);
    assert!(event_text(&same[0]).contains("already on host esx-0-0-0.sim.local"));
    // Unknown host: ManagedObjectNotFound.
    let ghost = moref("HostSystem", "host-999");
    assert!(validate(&mut state, &vm1, &ghost)
        .unwrap_err()
        .contains("ManagedObjectNotFound"));
    let e = call(&mut state, migrate(&vm1, None, Some(ghost))).unwrap_err();
    assert!(
        matches!(*e, BaseMethodFault::ManagedObjectNotFound(_)),
        "{e:?}"
    );
    // Neither pool nor host.
    let e = call(&mut state, migrate(&vm1, None, None)).unwrap_err();
    assert!(matches!(*e, BaseMethodFault::InvalidArgument(_)), "{e:?}");
    // A state that does not match.
    let mut req = MigrateVMRequestType {
        this: vm1.clone(),
        host: Some(h1.clone()),
        state: Some(VirtualMachinePowerState::PoweredOn),
        ..Default::default()
    };
    let e = call(&mut state, Request::MigrateVM_Task(Box::new(req.clone()))).unwrap_err();
    assert!(matches!(*e, BaseMethodFault::InvalidPowerState(_)), "{e:?}");

    // The move itself.
    req.state = Some(VirtualMachinePowerState::PoweredOff);
    let r = call(&mut state, Request::MigrateVM_Task(Box::new(req))).unwrap();
    let info = task_info(&state, &r);
    assert_eq!(info.state, TaskInfoState::Success, "{:?}", info.error);
    let v = state.vm(&vm1).unwrap();
    assert_eq!(v.host, h1);
    assert_eq!(v.runtime.host.as_ref(), Some(&h1));
    assert!(host_vms(&state, &h1).contains(&vm1));
    assert!(!host_vms(&state, &h0).contains(&vm1));
    let last = state.events.last().unwrap();
    assert_eq!(last.type_id, "VmMigratedEvent");
    let text = event_text(&last.event);
    assert!(
        text.contains("from esx-0-0-0.sim.local to esx-0-0-1.sim.local"),
        "{text}"
    );
    // Moving it onto the host it is on now fails the task.
    let r = call(&mut state, migrate(&vm1, None, Some(h1.clone()))).unwrap();
    assert_eq!(task_info(&state, &r).state, TaskInfoState::Error);

    // A powered-off host: validation reports it and the task fails; after power-up it is fine.
    let r = call(
        &mut state,
        Request::ShutdownHost_Task(Box::new(ShutdownHostRequestType {
            this: h0.clone(),
            force: false,
        })),
    )
    .unwrap();
    assert_eq!(
        task_info(&state, &r).state,
        TaskInfoState::Error,
        "not in maintenance mode"
    );
    let r = call(
        &mut state,
        Request::ShutdownHost_Task(Box::new(ShutdownHostRequestType {
            this: h0.clone(),
            force: true,
        })),
    )
    .unwrap();
    assert_eq!(task_info(&state, &r).state, TaskInfoState::Success);
    let down = validate(&mut state, &vm1, &h0).unwrap();
    assert_eq!(down.len(), 1);
    assert!(event_text(&down[0]).contains("HostNotConnected"));
    let r = call(&mut state, migrate(&vm1, None, Some(h0.clone()))).unwrap();
    assert_eq!(task_info(&state, &r).state, TaskInfoState::Error);
    let r = call(
        &mut state,
        Request::PowerUpHostFromStandBy_Task(Box::new(PowerUpHostFromStandByRequestType {
            this: h0.clone(),
            timeout_sec: 60,
        })),
    )
    .unwrap();
    assert_eq!(task_info(&state, &r).state, TaskInfoState::Success);
    assert!(validate(&mut state, &vm1, &h0).unwrap().is_empty());
    // Maintenance mode is refused while VMs run there, and blocks migrations onto it.
    let vm2 = named(&state, "VirtualMachine", "vm2");
    assert_eq!(state.vm(&vm2).unwrap().host, h1);
    support::power_on(&mut state, &vm2);
    let enter = |h: &MoRef| {
        Request::EnterMaintenanceMode_Task(Box::new(EnterMaintenanceModeRequestType {
            this: h.clone(),
            ..Default::default()
        }))
    };
    let r = call(&mut state, enter(&h1)).unwrap();
    assert_eq!(task_info(&state, &r).state, TaskInfoState::Error);
    let r = call(&mut state, enter(&h0)).unwrap();
    assert_eq!(task_info(&state, &r).state, TaskInfoState::Success);
    let busy = validate(&mut state, &vm2, &h0).unwrap();
    assert!(
        event_text(&busy[0]).contains("InvalidHostState"),
        "{busy:?}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn migrates_by_pool_and_relocates_storage() {
    let (mut state, dir) = start("relocate", esx_sim::Flavor::Vcenter, "vm=3,ds=2");
    let vm1 = named(&state, "VirtualMachine", "vm1");
    let standalone = named(&state, "HostSystem", "esx-0-1-0.sim.local");
    let cr = named(&state, "ComputeResource", "esx-0-1-0.sim.local");
    let pool = match state.get(&cr) {
        Some(Mo::ComputeResource(c)) => c.resource_pool.clone(),
        _ => panic!(),
    };
    let cluster_host = named(&state, "HostSystem", "esx-0-0-1.sim.local");
    // A host outside the pool's compute resource.
    let e = call(
        &mut state,
        migrate(&vm1, Some(pool.clone()), Some(cluster_host)),
    )
    .unwrap_err();
    assert!(matches!(*e, BaseMethodFault::InvalidArgument(_)), "{e:?}");
    // The pool alone picks the compute resource's host.
    let r = call(&mut state, migrate(&vm1, Some(pool.clone()), None)).unwrap();
    assert_eq!(task_info(&state, &r).state, TaskInfoState::Success);
    assert_eq!(state.vm(&vm1).unwrap().host, standalone);
    assert_eq!(state.vm(&vm1).unwrap().resource_pool, pool);

    // Storage: the VM's directory moves to the other datastore.
    let ds2 = named(&state, "Datastore", "datastore2");
    let old_dir = dir.join("datastore1/vm1");
    let r = call(
        &mut state,
        Request::RelocateVM_Task(Box::new(RelocateVMRequestType {
            this: vm1.clone(),
            spec: VirtualMachineRelocateSpec {
                datastore: Some(ds2.clone()),
                ..Default::default()
            },
            priority: None,
        })),
    )
    .unwrap();
    let info = task_info(&state, &r);
    assert_eq!(info.state, TaskInfoState::Success, "{:?}", info.error);
    assert!(!old_dir.exists());
    assert!(dir.join("datastore2/vm1/vm1.vmx").exists());
    assert!(dir.join("datastore2/vm1/vm1-flat.vmdk").exists());
    let v = state.vm(&vm1).unwrap();
    assert_eq!(v.datastore, ds2);
    assert_eq!(
        v.config.files.vm_path_name.as_deref(),
        Some("[datastore2] vm1/vm1.vmx")
    );
    assert_eq!(v.host, standalone, "a storage move keeps the host");
    assert_eq!(state.events.last().unwrap().type_id, "VmRelocatedEvent");
    // Powering on asks no moved-or-copied question.
    support::power_on(&mut state, &vm1);
    assert_eq!(
        state.vm(&vm1).unwrap().runtime.power_state,
        VirtualMachinePowerState::PoweredOn
    );
    // Unknown datastore.
    let e = call(
        &mut state,
        Request::RelocateVM_Task(Box::new(RelocateVMRequestType {
            this: vm1.clone(),
            spec: VirtualMachineRelocateSpec {
                datastore: Some(moref("Datastore", "datastore-999")),
                ..Default::default()
            },
            priority: None,
        })),
    )
    .unwrap_err();
    assert!(matches!(*e, BaseMethodFault::ManagedObjectNotFound(_)));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn standalone_host_does_not_migrate() {
    let (mut state, dir) = start("esx", esx_sim::Flavor::Esx, "vm=1");
    let vm1 = named(&state, "VirtualMachine", "vm1");
    let host = moref("HostSystem", "ha-host");
    let e = call(&mut state, migrate(&vm1, None, Some(host.clone()))).unwrap_err();
    assert!(matches!(*e, BaseMethodFault::NotSupported(_)), "{e:?}");
    let e = call(
        &mut state,
        Request::RelocateVM_Task(Box::new(RelocateVMRequestType {
            this: vm1.clone(),
            ..Default::default()
        })),
    )
    .unwrap_err();
    assert!(matches!(*e, BaseMethodFault::NotSupported(_)), "{e:?}");
    assert!(validate(&mut state, &vm1, &host)
        .unwrap_err()
        .contains("NotSupported"));
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_user_may_validate_but_not_migrate() {
    use esx_vim::client::{Client, ConnectOptions, HttpOptions};
    let dir = std::env::temp_dir().join(format!("esx-sim-migr-ro-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut cfg = esx_sim::Config::new(&dir);
    cfg.flavor = esx_sim::Flavor::Vcenter;
    let h = esx_sim::Simulator::start(cfg).await.unwrap();
    let mut http = HttpOptions::default();
    http.tls.no_verify = true;
    let c = Client::connect(
        &h.url,
        ConnectOptions {
            user: "readonly".into(),
            password: "pass".into(),
            http,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let vms = c
        .list_objects("VirtualMachine", &["name"], None)
        .await
        .unwrap();
    let hosts = c.list_objects("HostSystem", &["name"], None).await.unwrap();
    let vm = vms.first().unwrap().obj.clone();
    let host = hosts.last().unwrap().obj.clone();
    let si = moref("ServiceInstance", "ServiceInstance");
    methods::validate_migration(
        &c,
        &si,
        vec![vm.clone()],
        None,
        vec![],
        None,
        Some(host.clone()),
    )
    .await
    .unwrap();
    let e = methods::migrate_vm_task(
        &c,
        &vm,
        None,
        Some(host),
        VirtualMachineMovePriority::DefaultPriority,
        None,
    )
    .await
    .unwrap_err();
    let text = format!("{e:?}");
    assert!(
        text.contains("NoPermission") && text.contains("Resource.HotMigrateVM"),
        "{e:?}"
    );
    h.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn vms_do_not_start_on_a_host_in_maintenance_mode() {
    let (mut state, dir) = start("maint", esx_sim::Flavor::Vcenter, "vm=3");
    let vm1 = named(&state, "VirtualMachine", "vm1");
    let h0 = named(&state, "HostSystem", "esx-0-0-0.sim.local");
    let r = call(
        &mut state,
        Request::EnterMaintenanceMode_Task(Box::new(EnterMaintenanceModeRequestType {
            this: h0.clone(),
            ..Default::default()
        })),
    )
    .unwrap();
    assert_eq!(task_info(&state, &r).state, TaskInfoState::Success);
    let on = || {
        Request::PowerOnVM_Task(Box::new(PowerOnVMRequestType {
            this: vm1.clone(),
            host: None,
        }))
    };
    let t = match call(&mut state, on()).unwrap() {
        Response::PowerOnVM_Task(t) => t.returnval,
        other => panic!("{other:?}"),
    };
    match state.get(&t) {
        Some(Mo::Task(t)) => {
            assert_eq!(t.info.state, TaskInfoState::Error);
            let e = format!("{:?}", t.info.error);
            assert!(e.contains("InvalidHostState"), "{e}");
        }
        _ => panic!(),
    }
    let r = call(
        &mut state,
        Request::ExitMaintenanceMode_Task(Box::new(ExitMaintenanceModeRequestType {
            this: h0.clone(),
            timeout: 0,
        })),
    )
    .unwrap();
    assert_eq!(task_info(&state, &r).state, TaskInfoState::Success);
    call(&mut state, on()).unwrap();
    assert_eq!(
        state.vm(&vm1).unwrap().runtime.power_state,
        VirtualMachinePowerState::PoweredOn
    );
    let _ = std::fs::remove_dir_all(dir);
}
