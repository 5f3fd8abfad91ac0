//! vCenter migration: `MigrateVM_Task`, `RelocateVM_Task` and `ServiceInstance.ValidateMigration`.
//!
//! A move changes the VM's host, resource pool, and (for a relocation) its folder and datastore;
//! a datastore change moves the VM's directory into the target datastore. Standalone hosts
//! (the ESX flavor) answer `NotSupported`, as real ones do.

use esx_vim::{
    BaseEvent, HostEventArgument, HostNotConnected, InvalidHostState, LocalizedMethodFault,
    MigrationErrorEvent, MigrationHostErrorEvent, VirtualMachinePowerState, VmEventArgument,
};

use crate::config::Flavor;
use crate::fault::{Fault, MethodResult};
use crate::mo::datacenter::datacenter_of;
use crate::state::{now, Mo, MoRef, State};

/// Where a VM goes: host and pool always, folder and datastore for a relocation.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// Destination resource pool.
    pub pool: MoRef,
    /// Destination host.
    pub host: MoRef,
    /// Destination folder (`None`: stays).
    pub folder: Option<MoRef>,
    /// Destination datastore (`None`: stays).
    pub datastore: Option<MoRef>,
}

/// `NotSupported` on a standalone host.
pub fn require_vcenter(state: &State, what: &str) -> MethodResult<()> {
    match state.flavor() {
        Flavor::Vcenter => Ok(()),
        Flavor::Esx => Err(Fault::not_supported(what)),
    }
}

/// The compute resource a host belongs to and its root pool.
fn host_compute(state: &State, host: &MoRef) -> MethodResult<(MoRef, MoRef)> {
    let Some(Mo::HostSystem(h)) = state.get(host) else {
        return Err(Fault::not_found(host));
    };
    match state.get(&h.parent) {
        Some(Mo::ComputeResource(c)) => Ok((h.parent.clone(), c.resource_pool.clone())),
        _ => Err(Fault::invalid_argument("host")),
    }
}

/// Resolves the destination host and pool from what the caller gave (either or both; with
/// neither, the VM's own). Faults: `ManagedObjectNotFound` for an unknown object,
/// `InvalidArgument` for a host outside the pool's compute resource or another datacenter.
pub fn resolve(
    state: &State,
    vm: &MoRef,
    pool: Option<MoRef>,
    host: Option<MoRef>,
) -> MethodResult<(MoRef, MoRef)> {
    let v = state.vm(vm)?;
    let (cur_pool, cur_host) = (v.resource_pool.clone(), v.host.clone());
    if let Some(p) = &pool {
        match state.get(p) {
            Some(Mo::ResourcePool(_)) => {}
            _ => return Err(Fault::not_found(p)),
        }
    }
    if let Some(h) = &host {
        host_compute(state, h)?;
    }
    let owner = |p: &MoRef| match state.get(p) {
        Some(Mo::ResourcePool(rp)) => Some(rp.owner.clone()),
        _ => None,
    };
    let (pool, host) = match (pool, host) {
        (None, None) => (cur_pool, cur_host),
        (None, Some(h)) => {
            let (_, root) = host_compute(state, &h)?;
            (root, h)
        }
        (Some(p), Some(h)) => {
            let (cr, _) = host_compute(state, &h)?;
            if owner(&p) != Some(cr) {
                return Err(Fault::invalid_argument("host"));
            }
            (p, h)
        }
        (Some(p), None) => {
            let cr = owner(&p).ok_or_else(|| Fault::invalid_argument("pool"))?;
            let Some(Mo::ComputeResource(c)) = state.get(&cr) else {
                return Err(Fault::invalid_argument("pool"));
            };
            // The current host when it is in the pool's cluster, else the first one up.
            let h = if c.hosts.contains(&cur_host) {
                cur_host
            } else {
                c.hosts
                    .iter()
                    .find(|h| matches!(state.get(h), Some(Mo::HostSystem(x)) if x.connected()))
                    .or(c.hosts.first())
                    .cloned()
                    .ok_or_else(|| Fault::invalid_argument("pool"))?
            };
            (p, h)
        }
    };
    if datacenter_of(state, &host) != datacenter_of(state, vm) {
        return Err(Fault::invalid_argument("host"));
    }
    Ok((pool, host))
}

/// Why `host` cannot take a VM now (powered off, in maintenance mode), as a fault.
pub fn host_problem(state: &State, host: &MoRef) -> Option<Fault> {
    let Some(Mo::HostSystem(h)) = state.get(host) else {
        return Some(Fault::not_found(host));
    };
    if !h.connected() {
        return Some(Fault::new(
            HostNotConnected::default(),
            format!(
                "Unable to communicate with the remote host {}, since it is disconnected.",
                h.name
            ),
        ));
    }
    if h.in_maintenance {
        return Some(Fault::new(
            InvalidHostState {
                host: Some(host.clone()),
                ..Default::default()
            },
            format!(
                "The operation is not allowed in the current state of the host {} (maintenance mode).",
                h.name
            ),
        ));
    }
    None
}

/// The fault for moving a VM onto the host it already runs on.
fn same_host(state: &State, host: &MoRef) -> Fault {
    let name = state.name_of(host).unwrap_or_default();
    Fault::new(
        esx_vim::InvalidArgument {
            invalid_property: Some("host".into()),
            ..Default::default()
        },
        format!("The virtual machine is already on host {name}."),
    )
}

/// The problems a migration of `vm` to `target` would meet, as faults (empty when fine):
/// a power state other than `state`, the same host, an unusable host.
pub fn problems(
    state: &State,
    vm: &MoRef,
    power: Option<&VirtualMachinePowerState>,
    host: &MoRef,
    host_given: bool,
) -> MethodResult<Vec<Fault>> {
    let v = state.vm(vm)?;
    let mut out = Vec::new();
    if let Some(p) = power {
        if &v.runtime.power_state != p {
            out.push(Fault::invalid_power_state(
                Some(p.clone()),
                v.runtime.power_state.clone(),
            ));
        }
    }
    if host_given && &v.host == host {
        out.push(same_host(state, host));
    }
    if let Some(f) = host_problem(state, host) {
        out.push(f);
    }
    Ok(out)
}

/// `ValidateMigration`: one `MigrationHostErrorEvent` (or `MigrationErrorEvent` when no host
/// is involved) per problem per VM; empty when every VM can move.
pub fn validate(
    state: &mut State,
    vms: &[MoRef],
    power: Option<&VirtualMachinePowerState>,
    pool: Option<MoRef>,
    host: Option<MoRef>,
    user: &str,
) -> MethodResult<Vec<BaseEvent>> {
    require_vcenter(state, "ValidateMigration")?;
    if vms.is_empty() {
        return Err(Fault::invalid_argument("vm"));
    }
    if pool.is_none() && host.is_none() {
        return Err(Fault::invalid_argument("host"));
    }
    let mut found = Vec::new();
    for vm in vms {
        let (_, h) = resolve(state, vm, pool.clone(), host.clone())?;
        for f in problems(state, vm, power, &h, host.is_some())? {
            found.push((vm.clone(), h.clone(), f));
        }
    }
    let mut events = Vec::new();
    for (vm, h, f) in found {
        let key = state.new_number() as i32;
        let vm_arg = Some(VmEventArgument {
            name: state.name_of(&vm).unwrap_or_default(),
            vm: vm.clone(),
        });
        let fault = LocalizedMethodFault {
            fault: f.fault.clone(),
            localized_message: Some(f.message.clone()),
        };
        let dst = HostEventArgument {
            name: state.name_of(&h).unwrap_or_default(),
            host: h.clone(),
        };
        let e = if matches!(f.fault, esx_vim::BaseMethodFault::InvalidPowerState(_)) {
            BaseEvent::from(MigrationErrorEvent {
                key,
                chain_id: key,
                created_time: now(),
                user_name: user.to_owned(),
                vm: vm_arg,
                full_formatted_message: Some(f.message.clone()),
                fault,
                ..Default::default()
            })
        } else {
            BaseEvent::from(MigrationHostErrorEvent {
                key,
                chain_id: key,
                created_time: now(),
                user_name: user.to_owned(),
                vm: vm_arg,
                host: Some(dst.clone()),
                full_formatted_message: Some(f.message.clone()),
                fault,
                dst_host: dst,
                ..Default::default()
            })
        };
        events.push(e);
    }
    Ok(events)
}

/// The checks made before a move starts (the call faults rather than the task): the VM, its
/// power state against `power`, the destination objects.
pub fn check(
    state: &State,
    vm: &MoRef,
    power: Option<&VirtualMachinePowerState>,
    spec: (Option<MoRef>, Option<MoRef>, Option<MoRef>, Option<MoRef>),
) -> MethodResult<Target> {
    let (pool, host, folder, datastore) = spec;
    let v = state.vm(vm)?;
    if let Some(p) = power {
        if &v.runtime.power_state != p {
            return Err(Fault::invalid_power_state(
                Some(p.clone()),
                v.runtime.power_state.clone(),
            ));
        }
    }
    let (pool, host) = resolve(state, vm, pool, host)?;
    if let Some(f) = &folder {
        match state.get(f) {
            Some(Mo::Folder(fm)) if fm.child_type.iter().any(|t| t == "VirtualMachine") => {}
            Some(Mo::Folder(_)) => {
                return Err(Fault::new(
                    esx_vim::InvalidFolder {
                        target: f.clone(),
                        ..Default::default()
                    },
                    "The folder cannot hold virtual machines.",
                ))
            }
            _ => return Err(Fault::not_found(f)),
        }
        if datacenter_of(state, f) != datacenter_of(state, vm) {
            return Err(Fault::invalid_argument("spec.folder"));
        }
        if &v.parent != f {
            if let Some(dup) = crate::mo::folder::child_named(state, f, &v.name) {
                return Err(Fault::duplicate_name(&v.name, &dup));
            }
        }
    }
    if let Some(d) = &datastore {
        match state.get(d) {
            Some(Mo::Datastore(_)) => {}
            _ => return Err(Fault::not_found(d)),
        }
        let mounted =
            matches!(state.get(&host), Some(Mo::HostSystem(h)) if h.datastores.contains(d));
        if !mounted {
            return Err(Fault::invalid_argument("spec.datastore"));
        }
    }
    Ok(Target {
        pool,
        host,
        folder,
        datastore,
    })
}

/// Moves `vm` to `target` (the task's work): host problems fail it; a datastore change moves
/// the VM's directory; the event is recorded.
pub fn perform(
    state: &mut State,
    vm: &MoRef,
    target: &Target,
    host_given: bool,
    relocated: bool,
    user: &str,
) -> MethodResult<()> {
    if let Some(f) = problems(state, vm, None, &target.host, host_given && !relocated)?
        .into_iter()
        .next()
    {
        return Err(f);
    }
    let (source_host, source_ds) = {
        let v = state.vm(vm)?;
        (v.host.clone(), v.datastore.clone())
    };
    let moved_ds = match &target.datastore {
        Some(d) if d != &source_ds => {
            move_files(state, vm, d)?;
            Some(source_ds)
        }
        _ => None,
    };
    if let Some(f) = &target.folder {
        let old = state.vm(vm)?.parent.clone();
        if &old != f {
            let name = state.name_of(vm).unwrap_or_default();
            if let Some(dup) = crate::mo::folder::child_named(state, f, &name) {
                return Err(Fault::duplicate_name(&name, &dup));
            }
            if let Some(Mo::Folder(o)) = state.objects.get_mut(&old.value) {
                o.children.retain(|c| c != vm);
            }
            if let Some(Mo::Folder(n)) = state.objects.get_mut(&f.value) {
                n.children.push(vm.clone());
            }
            state.vm_mut(vm)?.parent = f.clone();
        }
    }
    let v = state.vm_mut(vm)?;
    v.host = target.host.clone();
    v.runtime.host = Some(target.host.clone());
    v.resource_pool = target.pool.clone();
    crate::mo::event_manager::record_moved(
        state,
        vm,
        user,
        relocated,
        &source_host,
        moved_ds.as_ref(),
    );
    Ok(())
}

/// Moves the VM's directory into datastore `ds` (same relative path) and points the VM there.
fn move_files(state: &mut State, vm: &MoRef, ds: &MoRef) -> MethodResult<()> {
    let (ds_name, dir) = match state.get(ds) {
        Some(Mo::Datastore(d)) => (d.name.clone(), d.dir.clone()),
        _ => return Err(Fault::not_found(ds)),
    };
    let v = state.vm_mut(vm)?;
    if v.files_pending() {
        v.save()?;
    }
    let (old_ds_name, rel) = (v.datastore_name.clone(), v.vmx_rel.clone());
    let vm_dir_rel = rel.rsplit_once('/').map(|(d, _)| d.to_owned());
    let new_vmx = crate::files::safe_join(&dir, &rel)
        .ok_or_else(|| Fault::invalid_argument("spec.datastore"))?;
    match &vm_dir_rel {
        Some(d) => {
            let from = v
                .vmx_path
                .parent()
                .map(|p| p.to_path_buf())
                .ok_or_else(|| Fault::invalid_argument("spec.datastore"))?;
            let to = crate::files::safe_join(&dir, d)
                .ok_or_else(|| Fault::invalid_argument("spec.datastore"))?;
            if to.exists() {
                return Err(Fault::already_exists(&format!("[{ds_name}] {d}")));
            }
            std::fs::rename(&from, &to).map_err(|e| {
                Fault::invalid_state(&format!(
                    "cannot move {} to [{ds_name}] {d}: {e}",
                    from.display()
                ))
            })?;
        }
        None => {
            if new_vmx.exists() {
                return Err(Fault::already_exists(&format!("[{ds_name}] {rel}")));
            }
            std::fs::rename(&v.vmx_path, &new_vmx).map_err(|e| {
                Fault::invalid_state(&format!("cannot move to [{ds_name}] {rel}: {e}"))
            })?;
        }
    }
    v.vmx_path = new_vmx;
    v.datastore = ds.clone();
    v.datastore_name = ds_name;
    // vCenter moves the files itself, so the VM keeps its identity (no moved-or-copied question).
    let loc = crate::mo::virtual_machine::location_for(&v.vmx_path.to_string_lossy());
    v.vmx_mut().set("uuid.location", &loc);
    v.save()?;
    state.forget_generated(&old_ds_name, &rel);
    crate::dispatch::refresh_vm(state, vm)
}
