//! Maps each decoded request to its managed object's handler.

use esx_vim::*;

use crate::fault::{Fault, MethodResult};
use crate::mo::event_manager::VmChange;
use crate::mo::{self, property_collector as pc, task, view_manager};
use crate::state::{moref, Ctx, Mo, MoRef, State};

/// Methods a read-only user may call (everything else needs write access).
pub fn is_read_only(method: &str) -> bool {
    crate::managers::is_read(method)
        || matches!(
            method,
            "RetrieveServiceContent"
                | "CurrentTime"
                | "Login"
                | "Logout"
                | "SessionIsActive"
                | "RetrieveProperties"
                | "RetrievePropertiesEx"
                | "ContinueRetrievePropertiesEx"
                | "CancelRetrievePropertiesEx"
                | "CreateFilter"
                | "DestroyPropertyFilter"
                | "CreatePropertyCollector"
                | "DestroyPropertyCollector"
                | "WaitForUpdates"
                | "WaitForUpdatesEx"
                | "CheckForUpdates"
                | "CancelWaitForUpdates"
                | "CreateContainerView"
                | "ModifyListView"
                | "ResetListView"
                | "ResetListViewFromView"
                | "CreateListView"
                | "DestroyView"
                | "FindByUuid"
                | "FindByInventoryPath"
                | "FindChild"
                | "FindByIp"
                | "FindByDnsName"
                | "SearchDatastore_Task"
                | "SearchDatastoreSubFolders_Task"
                | "QueryVirtualDiskUuid"
                | "QueryEvents"
                | "CreateCollectorForEvents"
                | "SetCollectorPageSize"
                | "ReadNextEvents"
                | "ReadPreviousEvents"
                | "RewindCollector"
                | "ResetCollector"
                | "DestroyCollector"
                | "ValidateMigration"
                | "AcquireGenericServiceTicket"
                | "AcquireCloneTicket"
                | "CloneSession"
        )
}

/// The privilege `method` needs on the entity it is called on (named in its `NoPermission`
/// fault; see [`crate::mo::authorization_manager::required_privilege`]).
pub fn privilege(method: &str) -> &'static str {
    match method {
        "MigrateVM_Task" => "Resource.HotMigrateVM",
        "RelocateVM_Task" => "Resource.ColdMigrateVM",
        "CreateFolder" => "Folder.Create",
        "Rename_Task" => "Folder.Rename",
        "MoveIntoFolder_Task" => "Folder.Move",
        "AddVirtualSwitch"
        | "RemoveVirtualSwitch"
        | "AddPortGroup"
        | "RemovePortGroup"
        | "UpdatePortGroup" => "Host.Config.Network",
        "EnterMaintenanceMode_Task" | "ExitMaintenanceMode_Task" => "Host.Config.Maintenance",
        "ShutdownHost_Task" | "PowerUpHostFromStandBy_Task" => "Host.Config.Power",
        "CreateVM_Task" | "RegisterVM_Task" => "VirtualMachine.Inventory.Create",
        "UnregisterVM" | "Destroy_Task" => "VirtualMachine.Inventory.Delete",
        "ReconfigVM_Task" => "VirtualMachine.Config.Settings",
        "RescanHba" | "RescanAllHba" | "RefreshStorageSystem" => "Host.Config.Storage",
        "ReconfigureAutostart" => "Host.Config.AutoStart",
        m if m.contains("Snapshot") => "VirtualMachine.State.CreateSnapshot",
        m if m.contains("Datastore") || m.contains("VirtualDisk") || m == "MakeDirectory" => {
            "Datastore.FileManagement"
        }
        _ => "VirtualMachine.Interact.PowerOn",
    }
}

fn expect(state: &State, r: &MoRef, ty: &str) -> MethodResult<()> {
    match state.get(r) {
        Some(m) if crate::state::is_a(m.type_name(), ty) => Ok(()),
        _ => Err(Fault::not_found(r)),
    }
}

/// The user name of the calling session (empty when none).
pub fn user(state: &State, ctx: &Ctx) -> String {
    ctx.session
        .as_ref()
        .and_then(|k| state.sessions.get(k))
        .map(|s| s.user.clone())
        .unwrap_or_default()
}

/// Runs a task: creates it, runs `f` now (or after `Config::task_delay`, reporting progress
/// meanwhile), records the outcome. An injected task failure skips `f`.
pub fn run_task(
    state: &mut State,
    ctx: &Ctx,
    entity: &MoRef,
    method: &str,
    f: impl FnOnce(&mut State) -> MethodResult<Option<Any>> + Send + Sync + 'static,
) -> MoRef {
    let u = user(state, ctx);
    let t = task::create(state, entity, method, &u);
    let work: task::TaskWork = if state.injector.fail_task(method) {
        Box::new(|_| {
            Err(Fault::new(
                SystemError {
                    reason: "injected task failure".into(),
                    ..Default::default()
                },
                "A general system error occurred: injected task failure",
            ))
        })
    } else {
        Box::new(f)
    };
    let delay = state.config.task_delay;
    if delay.is_zero() {
        let r = work(state);
        task::finish(state, &t, r);
    } else {
        task::defer(state, &t, delay, work);
    }
    t
}

/// Re-derives a VM's `config`, name and networks from its `.vmx`.
pub fn refresh_vm(state: &mut State, r: &MoRef) -> MethodResult<()> {
    let nets = crate::inventory::network_lookup(state);
    let vm = state.vm_mut(r)?;
    vm.refresh(&|n| {
        nets.iter()
            .find(|(name, _)| name == n)
            .map(|(_, x)| x.clone())
    });
    Ok(())
}

fn power(state: &mut State, ctx: &Ctx, r: &MoRef, method: &str) -> MethodResult<MoRef> {
    use VirtualMachinePowerState as P;
    let cur = state.vm(r)?.runtime.power_state.clone();
    // A transition the current state does not allow still returns a task, which fails
    // with InvalidPowerState (clients such as govc ignore that failure on purpose).
    let refused = |expected: Option<P>, cur: P| Err(Fault::invalid_power_state(expected, cur));
    let target = match (method, &cur) {
        ("PowerOnVM_Task", P::PoweredOff | P::Suspended) => Ok(P::PoweredOn),
        ("PowerOffVM_Task", P::PoweredOn | P::Suspended) => Ok(P::PoweredOff),
        ("SuspendVM_Task", P::PoweredOn) => Ok(P::Suspended),
        ("ResetVM_Task", P::PoweredOn) => Ok(P::PoweredOn),
        ("PowerOnVM_Task", _) => refused(Some(P::PoweredOn), cur),
        ("PowerOffVM_Task", _) => refused(Some(P::PoweredOff), cur),
        _ => refused(None, cur),
    };
    // A VM does not start on a host that is down or in maintenance mode.
    let host = state.vm(r)?.host.clone();
    let target = target.and_then(|t| match mo::migration::host_problem(state, &host) {
        Some(f) if t == P::PoweredOn => Err(f),
        _ => Ok(t),
    });
    let target = match target {
        Ok(t) => t,
        Err(f) => return Ok(run_task(state, ctx, r, method, move |_| Err(f))),
    };
    if target == P::PoweredOn {
        let vm = state.vm_mut(r)?;
        if vm.files_pending() {
            vm.save()?;
        }
    }
    if target == P::PoweredOn && method == "PowerOnVM_Task" {
        let q = state.vm(r)?.uuid_question();
        if let Some(q) = q {
            let u = user(state, ctx);
            let t = task::create(state, r, method, &u);
            let vm = state.vm_mut(r)?;
            vm.runtime.question = Some(q);
            vm.pending_power_on = Some(t.clone());
            return Ok(t);
        }
    }
    let vm = r.clone();
    let who = user(state, ctx);
    let change = match method {
        "PowerOnVM_Task" => VmChange::PoweredOn,
        "SuspendVM_Task" => VmChange::Suspended,
        "ResetVM_Task" => VmChange::Reset,
        _ => VmChange::PoweredOff,
    };
    Ok(run_task(state, ctx, r, method, move |s| {
        s.vm_mut(&vm)?.set_power(target);
        mo::event_manager::record_vm(s, change, &vm, &who);
        Ok(None)
    }))
}

fn answer(state: &mut State, r: &MoRef, qid: &str, choice: &str) -> MethodResult<()> {
    let vm = state.vm_mut(r)?;
    let q = vm
        .runtime
        .question
        .clone()
        .ok_or_else(|| Fault::invalid_argument("questionId"))?;
    if q.id != qid {
        return Err(Fault::invalid_argument("questionId"));
    }
    let valid = q
        .choice
        .choice_info
        .iter()
        .any(|c| matches!(c, BaseElementDescription::ElementDescription(e) if e.key == choice));
    if !valid {
        return Err(Fault::invalid_argument("answerChoice"));
    }
    vm.runtime.question = None;
    let pending = vm.pending_power_on.take();
    let result = if choice == "0" {
        Err(Fault::invalid_state(
            "The operation was cancelled by the user (question answered with cancel).",
        ))
    } else {
        let loc = mo::virtual_machine::location_for(&vm.vmx_path.to_string_lossy());
        vm.vmx_mut().set("uuid.location", &loc);
        if choice == "2" {
            let new =
                mo::virtual_machine::uuid_from(&format!("copy:{}:{}", vm.vmx_rel, vm.config.uuid));
            vm.vmx_mut()
                .set("uuid.bios", &mo::virtual_machine::vmx_uuid(&new));
        }
        vm.save()?;
        vm.set_power(VirtualMachinePowerState::PoweredOn);
        Ok(None)
    };
    if result.is_ok() {
        refresh_vm(state, r)?;
        mo::event_manager::record_vm(state, VmChange::PoweredOn, r, "");
    }
    if let Some(t) = pending {
        task::finish(state, &t, result);
    }
    Ok(())
}

fn snapshot_create(
    state: &mut State,
    vm_ref: &MoRef,
    name: &str,
    description: &str,
) -> MethodResult<Option<Any>> {
    let id_num = state.new_number();
    let id = match state.flavor() {
        crate::config::Flavor::Esx => format!("{}-snapshot-{id_num}", vm_ref.value),
        crate::config::Flavor::Vcenter => format!("snapshot-{id_num}"),
    };
    let r = moref("VirtualMachineSnapshot", &id);
    let disks = mo::snapshot::take(state, vm_ref)?;
    let vm = state.vm(vm_ref)?;
    let parent = vm.current_snapshot.clone();
    let saved = (
        vm.vmx().get("memsize").unwrap_or("").to_owned(),
        vm.vmx().get("numvcpus").unwrap_or("").to_owned(),
    );
    let snap = mo::snapshot::SnapshotMo {
        name: name.to_owned(),
        description: description.to_owned(),
        id: id_num as i32,
        vm: vm_ref.clone(),
        parent: parent.clone(),
        children: Vec::new(),
        created: crate::state::now(),
        state: vm.runtime.power_state.clone(),
        saved,
        disks,
    };
    state.insert(&id, Mo::Snapshot(snap));
    match &parent {
        Some(p) => {
            if let Some(Mo::Snapshot(ps)) = state.objects.get_mut(&p.value) {
                ps.children.push(r.clone());
            }
        }
        None => state.vm_mut(vm_ref)?.root_snapshots.push(r.clone()),
    }
    state.vm_mut(vm_ref)?.current_snapshot = Some(r.clone());
    Ok(Some(Any::from(r)))
}

fn snapshot_revert(state: &mut State, snap: &MoRef) -> MethodResult<Option<Any>> {
    let (vm_ref, saved, pstate, disks) = match state.lookup(snap)? {
        Mo::Snapshot(s) => (
            s.vm.clone(),
            s.saved.clone(),
            s.state.clone(),
            s.disks.clone(),
        ),
        _ => return Err(Fault::not_found(snap)),
    };
    mo::snapshot::revert(state, &vm_ref, &disks)?;
    let vm = state.vm_mut(&vm_ref)?;
    if !saved.0.is_empty() {
        vm.vmx_mut().set("memsize", &saved.0);
    }
    if !saved.1.is_empty() {
        vm.vmx_mut().set("numvcpus", &saved.1);
    }
    vm.save()?;
    vm.set_power(pstate);
    vm.current_snapshot = Some(snap.clone());
    refresh_vm(state, &vm_ref)?;
    Ok(None)
}

fn snapshot_remove(
    state: &mut State,
    snap: &MoRef,
    remove_children: bool,
) -> MethodResult<Option<Any>> {
    let (vm_ref, parent, children) = match state.lookup(snap)? {
        Mo::Snapshot(s) => (s.vm.clone(), s.parent.clone(), s.children.clone()),
        _ => return Err(Fault::not_found(snap)),
    };
    let removed: Vec<MoRef> = if remove_children {
        mo::snapshot::descendants(state, snap)
    } else {
        vec![snap.clone()]
    };
    let adopt = if remove_children {
        Vec::new()
    } else {
        children
    };
    for c in &adopt {
        if let Some(Mo::Snapshot(cs)) = state.objects.get_mut(&c.value) {
            cs.parent = parent.clone();
        }
    }
    match &parent {
        Some(p) => {
            if let Some(Mo::Snapshot(ps)) = state.objects.get_mut(&p.value) {
                ps.children.retain(|c| c != snap);
                ps.children.extend(adopt);
            }
        }
        None => {
            let vm = state.vm_mut(&vm_ref)?;
            vm.root_snapshots.retain(|c| c != snap);
            vm.root_snapshots.extend(adopt);
        }
    }
    // Each removed snapshot's disks, the deepest first, to consolidate once they are gone.
    let kept: Vec<Vec<mo::snapshot::SnapDisk>> = removed
        .iter()
        .rev()
        .filter_map(|r| match state.get(r) {
            Some(Mo::Snapshot(s)) => Some(s.disks.clone()),
            _ => None,
        })
        .collect();
    for r in &removed {
        state.objects.remove(&r.value);
    }
    let vm = state.vm_mut(&vm_ref)?;
    if vm
        .current_snapshot
        .as_ref()
        .is_some_and(|c| removed.contains(c))
    {
        vm.current_snapshot = parent;
    }
    for disks in kept {
        mo::snapshot::consolidate(state, &vm_ref, &disks);
    }
    Ok(None)
}

/// Unregisters a powered-off VM, deleting its files when `files` is set.
pub fn delete_vm(state: &mut State, r: &MoRef, files: bool, who: &str) -> MethodResult<()> {
    let vm = state.vm(r)?;
    if vm.runtime.power_state != VirtualMachinePowerState::PoweredOff {
        return Err(Fault::invalid_power_state(
            None,
            vm.runtime.power_state.clone(),
        ));
    }
    mo::event_manager::record_vm(state, VmChange::Removed, r, who);
    let vm = state.vm(r)?;
    let parent = vm.parent.clone();
    let host = vm.host.clone();
    let dir = vm.vmx_path.parent().map(|p| p.to_path_buf());
    let (ds_name, rel) = (vm.datastore_name.clone(), vm.vmx_rel.clone());
    let pending = vm.files_pending();
    let snaps: Vec<MoRef> = vm.root_snapshots.clone();
    if !files && pending {
        // Unregistering leaves the files on the datastore, so they must exist.
        state.vm_mut(r)?.save()?;
    }
    state.forget_generated(&ds_name, &rel);
    for s in snaps {
        for d in mo::snapshot::descendants(state, &s) {
            state.objects.remove(&d.value);
        }
    }
    state.objects.remove(&r.value);
    mo::host_system::forget_autostart(state, &host, r);
    if let Some(Mo::Folder(f)) = state.objects.get_mut(&parent.value) {
        f.children.retain(|c| c != r);
    }
    if files {
        if let Some(d) = dir {
            if d.starts_with(&state.data_dir) && d != state.data_dir {
                let _ = std::fs::remove_dir_all(d);
            }
        }
    }
    Ok(())
}

/// `CreateVM_Task`: writes a new `.vmx` under `spec.files.vmPathName`, registers it and
/// applies the rest of the spec (devices, resources) as `ReconfigVM_Task` would.
pub(crate) fn create_vm(
    state: &mut State,
    folder: &MoRef,
    pool: &MoRef,
    host: &MoRef,
    spec: &VirtualMachineConfigSpec,
) -> MethodResult<MoRef> {
    let name = spec
        .name
        .clone()
        .filter(|n| !n.is_empty() && !n.contains('/'))
        .ok_or_else(|| Fault::invalid_argument("config.name"))?;
    let vm_path = spec
        .files
        .as_ref()
        .and_then(|f| f.vm_path_name.clone())
        .ok_or_else(|| Fault::invalid_argument("config.files.vmPathName"))?;
    let (ds_name, rel) = crate::state::parse_ds_path(&vm_path)
        .ok_or_else(|| Fault::invalid_argument("config.files.vmPathName"))?;
    let rel = rel.trim_matches('/');
    let rel = if rel.is_empty() {
        format!("{name}/{name}.vmx")
    } else if rel.to_ascii_lowercase().ends_with(".vmx") {
        rel.to_owned()
    } else {
        format!("{rel}/{name}.vmx")
    };
    let ds = state
        .datastore_by_name(ds_name)
        .ok_or_else(|| Fault::file_not_found(&vm_path))?;
    if let Some(dup) = mo::folder::child_named(state, folder, &name) {
        return Err(Fault::duplicate_name(&name, &dup));
    }
    let dir = state
        .datastore_dir(&ds)
        .ok_or_else(|| Fault::file_not_found(&vm_path))?;
    let path = crate::files::safe_join(&dir, &rel)
        .ok_or_else(|| Fault::invalid_argument("config.files.vmPathName"))?;
    if path.exists() {
        return Err(Fault::already_exists(&format!("[{ds_name}] {rel}")));
    }
    let hw = spec
        .version
        .as_deref()
        .and_then(|v| v.strip_prefix("vmx-"))
        .unwrap_or("14");
    let guest = spec
        .guest_id
        .as_deref()
        .unwrap_or("otherGuest")
        .trim_end_matches("Guest");
    let guest = if guest.is_empty() { "other" } else { guest };
    let mut vmx = esx_vmx::VmxFile::parse(b"").map_err(|_| Fault::invalid_argument("config"))?;
    for (k, v) in [
        (".encoding", "UTF-8"),
        ("config.version", "8"),
        ("virtualHW.version", hw),
        ("displayName", name.as_str()),
        ("guestOS", guest),
        ("memsize", "4"),
        ("numvcpus", "1"),
    ] {
        vmx.set(k, v);
    }
    let uuid = spec
        .uuid
        .clone()
        .unwrap_or_else(|| mo::virtual_machine::uuid_from(&format!("create:{ds_name}:{rel}")));
    vmx.set("uuid.bios", &mo::virtual_machine::vmx_uuid(&uuid));
    vmx.set(
        "uuid.location",
        &mo::virtual_machine::location_for(&path.to_string_lossy()),
    );
    // The .vmx and a directory's block; the disks the spec creates are checked as they are.
    mo::datastore::check_space(
        state,
        &ds,
        2 * crate::files::BLOCK as u64,
        0,
        &format!("[{ds_name}] {rel}"),
    )?;
    let created_dir = path
        .parent()
        .filter(|d| !d.exists())
        .map(|d| d.to_path_buf());
    let write = || -> std::io::Result<()> {
        if let Some(d) = path.parent() {
            std::fs::create_dir_all(d)?;
        }
        crate::files::write_atomic(&path, &vmx.to_bytes())
    };
    write().map_err(|e| Fault::invalid_state(&format!("cannot write [{ds_name}] {rel}: {e}")))?;
    let cleanup = |state: &mut State, r: Option<&MoRef>| {
        if let Some(r) = r {
            state.objects.remove(&r.value);
            if let Some(Mo::Folder(f)) = state.objects.get_mut(&folder.value) {
                f.children.retain(|c| c != r);
            }
        }
        match &created_dir {
            Some(d) => drop(std::fs::remove_dir_all(d)),
            None => drop(std::fs::remove_file(&path)),
        }
    };
    let r = match crate::inventory::register_vm(state, &ds, &rel, folder, pool, host, None) {
        Ok(r) => r,
        Err(f) => {
            cleanup(state, None);
            return Err(f);
        }
    };
    let applied = mo::vm_reconfig::reconfigure(state, &r, spec);
    if let Err(f) = applied.and_then(|_| refresh_vm(state, &r)) {
        cleanup(state, Some(&r));
        return Err(f);
    }
    Ok(r)
}

macro_rules! resp {
    ($v:ident, $t:ident { $($f:tt)* }) => {
        Response::$v(Box::new($t { $($f)* }))
    };
}

/// Writes the files of generated VMs (see [`crate::lazy`]) that a file-level request is
/// about to reach.
fn materialize_for(state: &mut State, req: &Request) {
    let paths: [Option<&str>; 2] = match req {
        Request::SearchDatastore_Task(q) => [Some(&q.datastore_path), None],
        Request::SearchDatastoreSubFolders_Task(q) => [Some(&q.datastore_path), None],
        Request::QueryVirtualDiskUuid(q) => [Some(&q.name), None],
        Request::DeleteVirtualDisk_Task(q) => [Some(&q.name), None],
        Request::ZeroFillVirtualDisk_Task(q) => [Some(&q.name), None],
        Request::CopyVirtualDisk_Task(q) => [Some(&q.source_name), Some(&q.dest_name)],
        Request::MoveVirtualDisk_Task(q) => [Some(&q.source_name), Some(&q.dest_name)],
        Request::CreateVirtualDisk_Task(q) => [Some(&q.name), None],
        Request::MakeDirectory(q) => [Some(&q.name), None],
        Request::DeleteDatastoreFile_Task(q) => [Some(&q.name), None],
        Request::MoveDatastoreFile_Task(q) => [Some(&q.source_name), Some(&q.destination_name)],
        Request::CopyDatastoreFile_Task(q) => [Some(&q.source_name), Some(&q.destination_name)],
        Request::RegisterVM_Task(q) => [Some(&q.path), None],
        _ => return,
    };
    for p in paths.into_iter().flatten() {
        state.materialize_ds_path(p);
    }
}

/// Whether [`handle_read`] answers `req` (with shared access to the state).
pub fn is_shared_read(req: &Request) -> bool {
    crate::managers::is_read(req.method())
        || matches!(
            req,
            Request::RetrieveServiceContent(_)
                | Request::CurrentTime(_)
                | Request::SessionIsActive(_)
                | Request::RetrieveProperties(_)
                | Request::RetrievePropertiesEx(_)
                | Request::ContinueRetrievePropertiesEx(_)
                | Request::CancelRetrievePropertiesEx(_)
                | Request::FindByUuid(_)
                | Request::FindByInventoryPath(_)
                | Request::FindChild(_)
                | Request::FindByIp(_)
                | Request::FindByDnsName(_)
        )
}

/// Answers the calls that only read the state (property collector reads and paging, the
/// search index, the service content), so that many can run at once under a read lock;
/// `None` for every other call (see [`is_shared_read`]).
pub fn handle_read(state: &State, ctx: &Ctx, req: &Request) -> Option<MethodResult<Response>> {
    if let Some(r) = crate::managers::handle_read(state, ctx, req) {
        return Some(r);
    }
    let r = || -> MethodResult<Response> {
        Ok(match req {
            Request::RetrieveServiceContent(_) => resp!(
                RetrieveServiceContent,
                RetrieveServiceContentResponse {
                    returnval: mo::service_instance::content(state)
                }
            ),
            Request::CurrentTime(_) => resp!(
                CurrentTime,
                CurrentTimeResponse {
                    returnval: crate::state::now()
                }
            ),
            Request::SessionIsActive(q) => {
                let active = state
                    .sessions
                    .get(&q.session_id)
                    .is_some_and(|s| s.user == q.user_name);
                resp!(
                    SessionIsActive,
                    SessionIsActiveResponse { returnval: active }
                )
            }
            Request::RetrieveProperties(q) => {
                expect(state, &q.this, "PropertyCollector")?;
                let returnval = pc::retrieve(state, ctx, &q.spec_set)?;
                resp!(RetrieveProperties, RetrievePropertiesResponse { returnval })
            }
            Request::RetrievePropertiesEx(q) => {
                expect(state, &q.this, "PropertyCollector")?;
                let returnval = pc::retrieve_ex(state, ctx, &q.spec_set, q.options.max_objects)?;
                resp!(
                    RetrievePropertiesEx,
                    RetrievePropertiesExResponse { returnval }
                )
            }
            Request::ContinueRetrievePropertiesEx(q) => {
                expect(state, &q.this, "PropertyCollector")?;
                let returnval = pc::continue_ex(state, ctx, &q.token)?;
                resp!(
                    ContinueRetrievePropertiesEx,
                    ContinueRetrievePropertiesExResponse { returnval }
                )
            }
            Request::CancelRetrievePropertiesEx(q) => {
                pc::take_token(state, &q.token);
                resp!(
                    CancelRetrievePropertiesEx,
                    CancelRetrievePropertiesExResponse {}
                )
            }
            Request::FindByUuid(q) => {
                expect(state, &q.this, "SearchIndex")?;
                let returnval = mo::search_index::find_by_uuid(
                    state,
                    &q.uuid,
                    q.vm_search,
                    q.instance_uuid.unwrap_or(false),
                );
                resp!(FindByUuid, FindByUuidResponse { returnval })
            }
            Request::FindByInventoryPath(q) => {
                expect(state, &q.this, "SearchIndex")?;
                let root = mo::service_instance::content(state).root_folder;
                let returnval =
                    mo::search_index::find_by_inventory_path(state, &root, &q.inventory_path);
                resp!(
                    FindByInventoryPath,
                    FindByInventoryPathResponse { returnval }
                )
            }
            Request::FindChild(q) => {
                expect(state, &q.this, "SearchIndex")?;
                state.lookup(&q.entity)?;
                let returnval = mo::folder::child_named(state, &q.entity, &q.name);
                resp!(FindChild, FindChildResponse { returnval })
            }
            Request::FindByIp(q) => {
                let returnval = mo::search_index::find_by_ip(state, &q.ip, q.vm_search);
                resp!(FindByIp, FindByIpResponse { returnval })
            }
            Request::FindByDnsName(q) => {
                let returnval = mo::search_index::find_by_name(state, &q.dns_name, q.vm_search);
                resp!(FindByDnsName, FindByDnsNameResponse { returnval })
            }
            _ => return Err(Fault::invalid_argument("method")),
        })
    };
    is_shared_read(req).then(r)
}

/// `RetrievePropertiesEx` and `ContinueRetrievePropertiesEx` for the HTTP server (`ctx.encoded`)
/// when whole object elements are kept ([`crate::encoded::Mode::Objects`]): the reply envelope,
/// with each page's objects written from their kept XML. `None` for every other call, and when
/// the cache keeps less: [`handle_read`] answers then.
pub fn handle_read_xml(state: &State, ctx: &Ctx, req: &Request) -> Option<MethodResult<Vec<u8>>> {
    if !ctx.encoded || crate::encoded::mode() != crate::encoded::Mode::Objects {
        return None;
    }
    let result = |token: Option<String>| RetrieveResult {
        token,
        objects: Vec::new(),
    };
    match req {
        Request::RetrievePropertiesEx(q) => Some((|| {
            expect(state, &q.this, "PropertyCollector")?;
            let page = pc::retrieve_ex_xml(state, ctx, &q.spec_set, q.options.max_objects)?;
            let (returnval, objects) = match page {
                Some(p) => (Some(result(p.token)), p.objects),
                None => (None, Vec::new()),
            };
            let envelope = resp!(
                RetrievePropertiesEx,
                RetrievePropertiesExResponse { returnval }
            )
            .to_envelope();
            Ok(crate::encoded::splice_objects(envelope, &objects))
        })()),
        Request::ContinueRetrievePropertiesEx(q) => Some((|| {
            expect(state, &q.this, "PropertyCollector")?;
            let p = pc::continue_ex_xml(state, ctx, &q.token)?;
            let envelope = resp!(
                ContinueRetrievePropertiesEx,
                ContinueRetrievePropertiesExResponse {
                    returnval: result(p.token)
                }
            )
            .to_envelope();
            Ok(crate::encoded::splice_objects(envelope, &p.objects))
        })()),
        _ => None,
    }
}

/// Handles one request. Returns the response and, after `Login`, the new session key.
pub fn handle(
    state: &mut State,
    ctx: &Ctx,
    req: Request,
    new_key: &dyn Fn() -> String,
) -> MethodResult<(Response, Option<String>)> {
    let method = req.method();
    let mut new_session = None;
    state.changed();
    if let Some(r) = handle_read(state, ctx, &req) {
        return r.map(|r| (r, None));
    }
    mo::authorization_manager::check(state, ctx, &req)?;
    materialize_for(state, &req);
    let req = match crate::managers::handle(state, ctx, req) {
        Ok(r) => return r.map(|r| (r, None)),
        Err(req) => req,
    };
    let r = match req {
        Request::Login(q) => {
            expect(state, &q.this, "SessionManager")?;
            let key = new_key();
            let us = mo::session_manager::login(state, &q.user_name, &q.password, key.clone())?;
            mo::event_manager::record_session(state, &us.user_name, false);
            new_session = Some(key);
            resp!(Login, LoginResponse { returnval: us })
        }
        Request::CloneSession(q) => {
            expect(state, &q.this, "SessionManager")?;
            let key = new_key();
            let us = mo::session_manager::clone_session(state, &q.clone_ticket, key.clone())?;
            mo::event_manager::record_session(state, &us.user_name, false);
            new_session = Some(key);
            resp!(CloneSession, CloneSessionResponse { returnval: us })
        }
        Request::AcquireCloneTicket(q) => {
            expect(state, &q.this, "SessionManager")?;
            let returnval = crate::ticket::acquire_clone(state, ctx.session.as_deref())?;
            resp!(AcquireCloneTicket, AcquireCloneTicketResponse { returnval })
        }
        Request::AcquireTicket(q) => {
            let returnval = mo::virtual_machine::acquire_ticket(state, &q.this, &q.ticket_type)?;
            resp!(AcquireTicket, AcquireTicketResponse { returnval })
        }
        Request::Logout(q) => {
            expect(state, &q.this, "SessionManager")?;
            if let Some(k) = &ctx.session {
                if let Some(gone) = state.sessions.remove(k) {
                    mo::event_manager::record_session(state, &gone.user, true);
                }
            }
            resp!(Logout, LogoutResponse {})
        }
        Request::TerminateSession(q) => {
            for k in &q.session_id {
                if ctx.session.as_ref() == Some(k) {
                    return Err(Fault::invalid_argument("sessionId"));
                }
                if state.sessions.remove(k).is_none() {
                    return Err(Fault::not_found_plain("session not found"));
                }
            }
            resp!(TerminateSession, TerminateSessionResponse {})
        }
        Request::CreateFilter(q) => {
            let returnval =
                pc::create_filter(state, ctx, &q.this, q.spec.clone(), q.partial_updates)?;
            resp!(CreateFilter, CreateFilterResponse { returnval })
        }
        Request::DestroyPropertyFilter(q) => {
            pc::destroy_filter(state, &q.this)?;
            resp!(DestroyPropertyFilter, DestroyPropertyFilterResponse {})
        }
        Request::CreatePropertyCollector(q) => {
            expect(state, &q.this, "PropertyCollector")?;
            let returnval = pc::create_collector(state, ctx);
            resp!(
                CreatePropertyCollector,
                CreatePropertyCollectorResponse { returnval }
            )
        }
        Request::DestroyPropertyCollector(q) => {
            pc::destroy_collector(state, &q.this)?;
            resp!(
                DestroyPropertyCollector,
                DestroyPropertyCollectorResponse {}
            )
        }
        Request::CheckForUpdates(q) => {
            let returnval = pc::poll_updates(state, ctx, &q.this)?;
            resp!(CheckForUpdates, CheckForUpdatesResponse { returnval })
        }
        Request::CancelWaitForUpdates(q) => {
            expect(state, &q.this, "PropertyCollector")?;
            resp!(CancelWaitForUpdates, CancelWaitForUpdatesResponse {})
        }
        Request::CreateContainerView(q) => {
            expect(state, &q.this, "ViewManager")?;
            state.lookup(&q.container)?;
            let returnval = view_manager::create(
                state,
                view_manager::View::Container {
                    container: q.container.clone(),
                    types: q.r#type.clone(),
                    recursive: q.recursive,
                },
            );
            resp!(
                CreateContainerView,
                CreateContainerViewResponse { returnval }
            )
        }
        Request::CreateListView(q) => {
            expect(state, &q.this, "ViewManager")?;
            let returnval = view_manager::create(state, view_manager::View::List(q.obj.clone()));
            resp!(CreateListView, CreateListViewResponse { returnval })
        }
        Request::ModifyListView(q) => {
            let returnval = view_manager::modify_list(state, &q.this, &q.add, &q.remove, false)?;
            resp!(ModifyListView, ModifyListViewResponse { returnval })
        }
        Request::ResetListView(q) => {
            let returnval = view_manager::modify_list(state, &q.this, &q.obj, &[], true)?;
            resp!(ResetListView, ResetListViewResponse { returnval })
        }
        Request::ResetListViewFromView(q) => {
            let objs = view_manager::objects_of(state, &q.view)?;
            view_manager::modify_list(state, &q.this, &objs, &[], true)?;
            resp!(ResetListViewFromView, ResetListViewFromViewResponse {})
        }
        Request::DestroyView(q) => {
            match state.lookup(&q.this)? {
                Mo::View(_) => {}
                _ => return Err(Fault::not_found(&q.this)),
            }
            state.objects.remove(&q.this.value);
            resp!(DestroyView, DestroyViewResponse {})
        }
        Request::PowerOnVM_Task(q) => resp!(
            PowerOnVM_Task,
            PowerOnVM_TaskResponse {
                returnval: power(state, ctx, &q.this, method)?
            }
        ),
        Request::PowerOffVM_Task(q) => resp!(
            PowerOffVM_Task,
            PowerOffVM_TaskResponse {
                returnval: power(state, ctx, &q.this, method)?
            }
        ),
        Request::SuspendVM_Task(q) => resp!(
            SuspendVM_Task,
            SuspendVM_TaskResponse {
                returnval: power(state, ctx, &q.this, method)?
            }
        ),
        Request::ResetVM_Task(q) => resp!(
            ResetVM_Task,
            ResetVM_TaskResponse {
                returnval: power(state, ctx, &q.this, method)?
            }
        ),
        Request::ShutdownGuest(q) => {
            let vm = state.vm(&q.this)?;
            if !vm.tools_running() {
                return Err(Fault::new(ToolsUnavailable::default(), "Cannot complete operation because VMware Tools is not running in this virtual machine."));
            }
            state
                .vm_mut(&q.this)?
                .set_power(VirtualMachinePowerState::PoweredOff);
            resp!(ShutdownGuest, ShutdownGuestResponse {})
        }
        Request::RebootGuest(q) => {
            if !state.vm(&q.this)?.tools_running() {
                return Err(Fault::new(ToolsUnavailable::default(), "Cannot complete operation because VMware Tools is not running in this virtual machine."));
            }
            state
                .vm_mut(&q.this)?
                .set_power(VirtualMachinePowerState::PoweredOn);
            resp!(RebootGuest, RebootGuestResponse {})
        }
        Request::AnswerVM(q) => {
            answer(state, &q.this, &q.question_id, &q.answer_choice)?;
            resp!(AnswerVM, AnswerVMResponse {})
        }
        Request::ReconfigVM_Task(q) => {
            let r = q.this.clone();
            state.vm(&r)?;
            let who = user(state, ctx);
            let t = run_task(state, ctx, &r.clone(), method, move |s| {
                mo::vm_reconfig::reconfigure(s, &r, &q.spec)?;
                refresh_vm(s, &r)?;
                mo::event_manager::record_vm(s, VmChange::Reconfigured, &r, &who);
                Ok(None)
            });
            resp!(ReconfigVM_Task, ReconfigVM_TaskResponse { returnval: t })
        }
        Request::UnregisterVM(q) => {
            let who = user(state, ctx);
            delete_vm(state, &q.this, false, &who)?;
            resp!(UnregisterVM, UnregisterVMResponse {})
        }
        Request::Destroy_Task(q) => {
            let r = q.this.clone();
            match state.lookup(&r)? {
                Mo::VirtualMachine(_) => {}
                Mo::Folder(_) => {
                    mo::folder::destroy_plan(state, &r)?;
                    let who = user(state, ctx);
                    let t = run_task(state, ctx, &r.clone(), method, move |s| {
                        let (folders, vms) = mo::folder::destroy_plan(s, &r)?;
                        for vm in &vms {
                            delete_vm(s, vm, true, &who)?;
                        }
                        mo::folder::remove_folders(s, &folders);
                        Ok(None)
                    });
                    return Ok((
                        resp!(Destroy_Task, Destroy_TaskResponse { returnval: t }),
                        new_session,
                    ));
                }
                _ => return Err(Fault::not_supported("Destroy_Task on this object")),
            }
            let who = user(state, ctx);
            let t = run_task(state, ctx, &r.clone(), method, move |s| {
                delete_vm(s, &r, true, &who).map(|_| None)
            });
            resp!(Destroy_Task, Destroy_TaskResponse { returnval: t })
        }
        Request::CreateSnapshot_Task(q) => {
            let r = q.this.clone();
            state.vm(&r)?;
            let t = run_task(state, ctx, &r.clone(), method, move |s| {
                snapshot_create(s, &r, &q.name, q.description.as_deref().unwrap_or(""))
            });
            resp!(
                CreateSnapshot_Task,
                CreateSnapshot_TaskResponse { returnval: t }
            )
        }
        Request::RevertToSnapshot_Task(q) => {
            let r = q.this.clone();
            let vm = match state.lookup(&r)? {
                Mo::Snapshot(s) => s.vm.clone(),
                _ => return Err(Fault::not_found(&r)),
            };
            let t = run_task(state, ctx, &vm.clone(), method, move |s| {
                snapshot_revert(s, &r)
            });
            resp!(
                RevertToSnapshot_Task,
                RevertToSnapshot_TaskResponse { returnval: t }
            )
        }
        Request::RemoveSnapshot_Task(q) => {
            let r = q.this.clone();
            let vm = match state.lookup(&r)? {
                Mo::Snapshot(s) => s.vm.clone(),
                _ => return Err(Fault::not_found(&r)),
            };
            let t = run_task(state, ctx, &vm.clone(), method, move |s| {
                snapshot_remove(s, &r, q.remove_children)
            });
            resp!(
                RemoveSnapshot_Task,
                RemoveSnapshot_TaskResponse { returnval: t }
            )
        }
        Request::RevertToCurrentSnapshot_Task(q) => {
            let r = q.this.clone();
            let cur = state.vm(&r)?.current_snapshot.clone().ok_or_else(|| {
                Fault::invalid_state("The virtual machine has no current snapshot.")
            })?;
            let t = run_task(state, ctx, &r.clone(), method, move |s| {
                snapshot_revert(s, &cur)
            });
            resp!(
                RevertToCurrentSnapshot_Task,
                RevertToCurrentSnapshot_TaskResponse { returnval: t }
            )
        }
        Request::RemoveAllSnapshots_Task(q) => {
            let r = q.this.clone();
            let roots = state.vm(&r)?.root_snapshots.clone();
            let t = run_task(state, ctx, &r.clone(), method, move |s| {
                for root in roots {
                    snapshot_remove(s, &root, true)?;
                }
                Ok(None)
            });
            resp!(
                RemoveAllSnapshots_Task,
                RemoveAllSnapshots_TaskResponse { returnval: t }
            )
        }
        Request::RegisterVM_Task(q) => {
            let folder = q.this.clone();
            expect(state, &folder, "Folder")?;
            let (ds_name, rel) = crate::state::parse_ds_path(&q.path)
                .ok_or_else(|| Fault::invalid_argument("path"))?;
            let ds = state
                .datastore_by_name(ds_name)
                .ok_or_else(|| Fault::not_found_plain(&q.path))?;
            let (pool, host) = placement(state, &folder, q.pool.clone(), q.host.clone())?;
            let rel = rel.to_owned();
            let name = q.name.clone();
            if let Some(n) = &name {
                if let Some(dup) = mo::folder::child_named(state, &folder, n) {
                    return Err(Fault::duplicate_name(n, &dup));
                }
            }
            let who = user(state, ctx);
            let t = run_task(state, ctx, &folder.clone(), method, move |s| {
                let r = crate::inventory::register_vm(
                    s,
                    &ds,
                    &rel,
                    &folder,
                    &pool,
                    &host,
                    name.as_deref(),
                )?;
                mo::event_manager::record_vm(s, VmChange::Registered, &r, &who);
                Ok(Some(Any::from(r)))
            });
            resp!(RegisterVM_Task, RegisterVM_TaskResponse { returnval: t })
        }
        Request::CreateVM_Task(q) => {
            let folder = q.this.clone();
            expect(state, &folder, "Folder")?;
            let (pool, host) = placement(state, &folder, Some(q.pool.clone()), q.host.clone())?;
            let spec = q.config.clone();
            let who = user(state, ctx);
            let t = run_task(state, ctx, &folder.clone(), method, move |s| {
                let r = create_vm(s, &folder, &pool, &host, &spec)?;
                mo::event_manager::record_vm(s, VmChange::Created, &r, &who);
                Ok(Some(Any::from(r)))
            });
            resp!(CreateVM_Task, CreateVM_TaskResponse { returnval: t })
        }
        Request::SearchDatastore_Task(q) => {
            let r = q.this.clone();
            let t = run_task(state, ctx, &r.clone(), method, move |s| {
                mo::datastore_browser::search(s, &q.datastore_path, &q.search_spec).map(Some)
            });
            resp!(
                SearchDatastore_Task,
                SearchDatastore_TaskResponse { returnval: t }
            )
        }
        Request::SearchDatastoreSubFolders_Task(q) => {
            let r = q.this.clone();
            let t = run_task(state, ctx, &r.clone(), method, move |s| {
                mo::datastore_browser::search_sub_folders(s, &q.datastore_path, &q.search_spec)
                    .map(Some)
            });
            resp!(
                SearchDatastoreSubFolders_Task,
                SearchDatastoreSubFolders_TaskResponse { returnval: t }
            )
        }
        Request::QueryVirtualDiskUuid(q) => {
            expect(state, &q.this, "VirtualDiskManager")?;
            let returnval = mo::virtual_disk_manager::query_uuid(state, &q.name)?;
            resp!(
                QueryVirtualDiskUuid,
                QueryVirtualDiskUuidResponse { returnval }
            )
        }
        Request::CreateVirtualDisk_Task(q) => {
            expect(state, &q.this, "VirtualDiskManager")?;
            let t = run_task(state, ctx, &q.this.clone(), method, move |s| {
                mo::virtual_disk_manager::create(s, &q.name, &q.spec).map(|p| Some(Any::String(p)))
            });
            resp!(
                CreateVirtualDisk_Task,
                CreateVirtualDisk_TaskResponse { returnval: t }
            )
        }
        Request::DeleteVirtualDisk_Task(q) => {
            expect(state, &q.this, "VirtualDiskManager")?;
            let t = run_task(state, ctx, &q.this.clone(), method, move |s| {
                mo::virtual_disk_manager::delete(s, &q.name).map(|_| None)
            });
            resp!(
                DeleteVirtualDisk_Task,
                DeleteVirtualDisk_TaskResponse { returnval: t }
            )
        }
        Request::CopyVirtualDisk_Task(q) => {
            expect(state, &q.this, "VirtualDiskManager")?;
            let t = run_task(state, ctx, &q.this.clone(), method, move |s| {
                mo::virtual_disk_manager::copy(
                    s,
                    &q.source_name,
                    &q.dest_name,
                    q.dest_spec.as_ref(),
                    q.force.unwrap_or(false),
                )
                .map(|_| None)
            });
            resp!(
                CopyVirtualDisk_Task,
                CopyVirtualDisk_TaskResponse { returnval: t }
            )
        }
        Request::MoveVirtualDisk_Task(q) => {
            expect(state, &q.this, "VirtualDiskManager")?;
            let t = run_task(state, ctx, &q.this.clone(), method, move |s| {
                mo::virtual_disk_manager::move_disk(
                    s,
                    &q.source_name,
                    &q.dest_name,
                    q.force.unwrap_or(false),
                )
                .map(|_| None)
            });
            resp!(
                MoveVirtualDisk_Task,
                MoveVirtualDisk_TaskResponse { returnval: t }
            )
        }
        Request::ZeroFillVirtualDisk_Task(q) => {
            expect(state, &q.this, "VirtualDiskManager")?;
            let t = run_task(state, ctx, &q.this.clone(), method, move |s| {
                mo::virtual_disk_manager::zero_fill(s, &q.name).map(|_| None)
            });
            resp!(
                ZeroFillVirtualDisk_Task,
                ZeroFillVirtualDisk_TaskResponse { returnval: t }
            )
        }
        Request::MakeDirectory(q) => {
            expect(state, &q.this, "FileManager")?;
            mo::file_manager::make_directory(
                state,
                &q.name,
                q.create_parent_directories.unwrap_or(false),
            )?;
            resp!(MakeDirectory, MakeDirectoryResponse {})
        }
        Request::DeleteDatastoreFile_Task(q) => {
            expect(state, &q.this, "FileManager")?;
            let t = run_task(state, ctx, &q.this.clone(), method, move |s| {
                mo::file_manager::delete(s, &q.name).map(|_| None)
            });
            resp!(
                DeleteDatastoreFile_Task,
                DeleteDatastoreFile_TaskResponse { returnval: t }
            )
        }
        Request::MoveDatastoreFile_Task(q) => {
            expect(state, &q.this, "FileManager")?;
            let t = run_task(state, ctx, &q.this.clone(), method, move |s| {
                mo::file_manager::transfer(
                    s,
                    &q.source_name,
                    &q.destination_name,
                    q.force.unwrap_or(false),
                    false,
                )
                .map(|_| None)
            });
            resp!(
                MoveDatastoreFile_Task,
                MoveDatastoreFile_TaskResponse { returnval: t }
            )
        }
        Request::CopyDatastoreFile_Task(q) => {
            expect(state, &q.this, "FileManager")?;
            let t = run_task(state, ctx, &q.this.clone(), method, move |s| {
                mo::file_manager::transfer(
                    s,
                    &q.source_name,
                    &q.destination_name,
                    q.force.unwrap_or(false),
                    true,
                )
                .map(|_| None)
            });
            resp!(
                CopyDatastoreFile_Task,
                CopyDatastoreFile_TaskResponse { returnval: t }
            )
        }
        Request::RefreshDatastore(q) => {
            expect(state, &q.this, "Datastore")?;
            resp!(RefreshDatastore, RefreshDatastoreResponse {})
        }
        Request::RescanHba(q) => {
            let host = mo::host_system::service_host(
                state,
                &q.this,
                mo::host_system::ServiceKind::Storage,
            )?;
            mo::host_system::host(state, &host)?;
            mo::host_storage::rescan_hba(&q.hba_device)?;
            resp!(RescanHba, RescanHbaResponse {})
        }
        Request::RescanAllHba(q) => {
            mo::host_system::service_host(state, &q.this, mo::host_system::ServiceKind::Storage)?;
            resp!(RescanAllHba, RescanAllHbaResponse {})
        }
        Request::RefreshStorageSystem(q) => {
            mo::host_system::service_host(state, &q.this, mo::host_system::ServiceKind::Storage)?;
            resp!(RefreshStorageSystem, RefreshStorageSystemResponse {})
        }
        Request::ReconfigureAutostart(q) => {
            let host = mo::host_system::service_host(
                state,
                &q.this,
                mo::host_system::ServiceKind::AutoStart,
            )?;
            mo::host_system::reconfigure_autostart(state, &host, q.spec.clone())?;
            resp!(ReconfigureAutostart, ReconfigureAutostartResponse {})
        }
        Request::QueryEvents(q) => {
            expect(state, &q.this, "EventManager")?;
            let returnval = mo::event_manager::query(state, &q.filter);
            resp!(QueryEvents, QueryEventsResponse { returnval })
        }
        Request::CreateCollectorForEvents(q) => {
            expect(state, &q.this, "EventManager")?;
            let returnval = mo::event_manager::create_collector(state, q.filter)?;
            resp!(
                CreateCollectorForEvents,
                CreateCollectorForEventsResponse { returnval }
            )
        }
        Request::SetCollectorPageSize(q) => {
            mo::event_manager::set_page_size(state, &q.this, q.max_count)?;
            resp!(SetCollectorPageSize, SetCollectorPageSizeResponse {})
        }
        Request::ReadNextEvents(q) => {
            let returnval = mo::event_manager::read(state, &q.this, q.max_count, true)?;
            resp!(ReadNextEvents, ReadNextEventsResponse { returnval })
        }
        Request::ReadPreviousEvents(q) => {
            let returnval = mo::event_manager::read(state, &q.this, q.max_count, false)?;
            resp!(ReadPreviousEvents, ReadPreviousEventsResponse { returnval })
        }
        Request::RewindCollector(q) => {
            mo::event_manager::reposition(state, &q.this, true)?;
            resp!(RewindCollector, RewindCollectorResponse {})
        }
        Request::ResetCollector(q) => {
            mo::event_manager::reposition(state, &q.this, false)?;
            resp!(ResetCollector, ResetCollectorResponse {})
        }
        Request::DestroyCollector(q) => {
            match state.lookup(&q.this)? {
                Mo::EventCollector(_) => {}
                _ => return Err(Fault::not_found(&q.this)),
            }
            state.objects.remove(&q.this.value);
            resp!(DestroyCollector, DestroyCollectorResponse {})
        }
        Request::AcquireGenericServiceTicket(q) => {
            expect(state, &q.this, "SessionManager")?;
            let returnval = crate::ticket::acquire(state, ctx.session.as_deref(), &q.spec)?;
            resp!(
                AcquireGenericServiceTicket,
                AcquireGenericServiceTicketResponse { returnval }
            )
        }
        Request::AddVirtualSwitch(q) => {
            let h = mo::host_network::host_of(state, &q.this)?;
            mo::host_network::add_vswitch(state, &h, &q.vswitch_name, q.spec.as_ref())?;
            resp!(AddVirtualSwitch, AddVirtualSwitchResponse {})
        }
        Request::RemoveVirtualSwitch(q) => {
            let h = mo::host_network::host_of(state, &q.this)?;
            mo::host_network::remove_vswitch(state, &h, &q.vswitch_name)?;
            resp!(RemoveVirtualSwitch, RemoveVirtualSwitchResponse {})
        }
        Request::AddPortGroup(q) => {
            let h = mo::host_network::host_of(state, &q.this)?;
            mo::host_network::add_portgroup(state, &h, &q.portgrp)?;
            resp!(AddPortGroup, AddPortGroupResponse {})
        }
        Request::RemovePortGroup(q) => {
            let h = mo::host_network::host_of(state, &q.this)?;
            mo::host_network::remove_portgroup(state, &h, &q.pg_name)?;
            resp!(RemovePortGroup, RemovePortGroupResponse {})
        }
        Request::UpdatePortGroup(q) => {
            let h = mo::host_network::host_of(state, &q.this)?;
            mo::host_network::update_portgroup(state, &h, &q.pg_name, &q.portgrp)?;
            resp!(UpdatePortGroup, UpdatePortGroupResponse {})
        }
        Request::Rename_Task(q) => {
            let r = q.this.clone();
            mo::folder::check_rename(state, &r, &q.new_name)?;
            let name = q.new_name.clone();
            let t = run_task(state, ctx, &r.clone(), method, move |s| {
                if matches!(s.get(&r), Some(Mo::VirtualMachine(_))) {
                    mo::folder::check_rename(s, &r, &name)?;
                    let vm = s.vm_mut(&r)?;
                    vm.vmx_mut().set("displayName", &name);
                    vm.save()?;
                    refresh_vm(s, &r)?;
                } else {
                    mo::folder::rename_entity(s, &r, &name)?;
                }
                Ok(None)
            });
            resp!(Rename_Task, Rename_TaskResponse { returnval: t })
        }
        Request::CreateFolder(q) => {
            let returnval = mo::folder::create(state, &q.this, &q.name)?;
            resp!(CreateFolder, CreateFolderResponse { returnval })
        }
        Request::MoveIntoFolder_Task(q) => {
            let target = q.this.clone();
            mo::folder::check_move(state, &target, &q.list)?;
            let list = q.list.clone();
            let t = run_task(state, ctx, &target.clone(), method, move |s| {
                mo::folder::move_into(s, &target, &list).map(|_| None)
            });
            resp!(
                MoveIntoFolder_Task,
                MoveIntoFolder_TaskResponse { returnval: t }
            )
        }
        Request::MigrateVM_Task(q) => {
            mo::migration::require_vcenter(state, "MigrateVM_Task")?;
            let vm = q.this.clone();
            if q.pool.is_none() && q.host.is_none() {
                state.vm(&vm)?;
                return Err(Fault::invalid_argument("pool"));
            }
            let host_given = q.host.is_some();
            let target = mo::migration::check(
                state,
                &vm,
                q.state.as_ref(),
                (q.pool.clone(), q.host.clone(), None, None),
            )?;
            let who = user(state, ctx);
            let t = run_task(state, ctx, &vm.clone(), method, move |s| {
                mo::migration::perform(s, &vm, &target, host_given, false, &who).map(|_| None)
            });
            resp!(MigrateVM_Task, MigrateVM_TaskResponse { returnval: t })
        }
        Request::RelocateVM_Task(q) => {
            mo::migration::require_vcenter(state, "RelocateVM_Task")?;
            let vm = q.this.clone();
            let sp = &q.spec;
            let host_given = sp.host.is_some();
            let target = mo::migration::check(
                state,
                &vm,
                None,
                (
                    sp.pool.clone(),
                    sp.host.clone(),
                    sp.folder.clone(),
                    sp.datastore.clone(),
                ),
            )?;
            let who = user(state, ctx);
            let t = run_task(state, ctx, &vm.clone(), method, move |s| {
                mo::migration::perform(s, &vm, &target, host_given, true, &who).map(|_| None)
            });
            resp!(RelocateVM_Task, RelocateVM_TaskResponse { returnval: t })
        }
        Request::ValidateMigration(q) => {
            expect(state, &q.this, "ServiceInstance")?;
            let who = user(state, ctx);
            let returnval = mo::migration::validate(
                state,
                &q.vm,
                q.state.as_ref(),
                q.pool.clone(),
                q.host.clone(),
                &who,
            )?;
            resp!(ValidateMigration, ValidateMigrationResponse { returnval })
        }
        Request::EnterMaintenanceMode_Task(q) => {
            let h = q.this.clone();
            mo::host_system::host(state, &h)?;
            let t = run_task(state, ctx, &h.clone(), method, move |s| {
                mo::host_system::enter_maintenance(s, &h).map(|_| None)
            });
            resp!(
                EnterMaintenanceMode_Task,
                EnterMaintenanceMode_TaskResponse { returnval: t }
            )
        }
        Request::ExitMaintenanceMode_Task(q) => {
            let h = q.this.clone();
            mo::host_system::host(state, &h)?;
            let t = run_task(state, ctx, &h.clone(), method, move |s| {
                mo::host_system::host_mut(s, &h)?.in_maintenance = false;
                Ok(None)
            });
            resp!(
                ExitMaintenanceMode_Task,
                ExitMaintenanceMode_TaskResponse { returnval: t }
            )
        }
        Request::ShutdownHost_Task(q) => {
            let h = q.this.clone();
            mo::host_system::host(state, &h)?;
            let force = q.force;
            let t = run_task(state, ctx, &h.clone(), method, move |s| {
                mo::host_system::shut_down(s, &h, force).map(|_| None)
            });
            resp!(
                ShutdownHost_Task,
                ShutdownHost_TaskResponse { returnval: t }
            )
        }
        Request::PowerUpHostFromStandBy_Task(q) => {
            mo::migration::require_vcenter(state, "PowerUpHostFromStandBy_Task")?;
            let h = q.this.clone();
            mo::host_system::host(state, &h)?;
            let t = run_task(state, ctx, &h.clone(), method, move |s| {
                mo::host_system::host_mut(s, &h)?.power_state = HostSystemPowerState::PoweredOn;
                Ok(None)
            });
            resp!(
                PowerUpHostFromStandBy_Task,
                PowerUpHostFromStandBy_TaskResponse { returnval: t }
            )
        }
        Request::CancelTask(q) => {
            task::cancel(state, &q.this)?;
            resp!(CancelTask, CancelTaskResponse {})
        }
        other => {
            let this =
                this_of(&other).unwrap_or_else(|| moref("ServiceInstance", "ServiceInstance"));
            state.lookup(&this)?;
            return Err(Fault::method_not_found(&this, other.method()));
        }
    };
    Ok((r, new_session))
}

/// The resource pool and host for a VM registered in `folder`.
pub(crate) fn placement(
    state: &State,
    folder: &MoRef,
    pool: Option<MoRef>,
    host: Option<MoRef>,
) -> MethodResult<(MoRef, MoRef)> {
    let dc = mo::datacenter::datacenter_of(state, folder)
        .ok_or_else(|| Fault::invalid_argument("_this"))?;
    if let Some(h) = &host {
        expect(state, h, "HostSystem")?;
    }
    if let Some(p) = &pool {
        expect(state, p, "ResourcePool")?;
    }
    // First compute resource under the datacenter's host folder.
    let hostf = match state.get(&dc) {
        Some(Mo::Datacenter(d)) => d.host_folder.clone(),
        _ => return Err(Fault::invalid_argument("_this")),
    };
    let cr = state
        .children_of(&hostf)
        .into_iter()
        .find(|c| matches!(state.get(c), Some(Mo::ComputeResource(_))))
        .ok_or_else(|| Fault::invalid_argument("pool"))?;
    let Some(Mo::ComputeResource(c)) = state.get(&cr) else {
        return Err(Fault::invalid_argument("pool"));
    };
    let pool = pool.unwrap_or_else(|| c.resource_pool.clone());
    let host = match host {
        Some(h) => h,
        None => {
            let owner = match state.get(&pool) {
                Some(Mo::ResourcePool(p)) => p.owner.clone(),
                _ => cr.clone(),
            };
            match state.get(&owner) {
                Some(Mo::ComputeResource(c)) => c
                    .hosts
                    .first()
                    .cloned()
                    .ok_or_else(|| Fault::invalid_argument("host"))?,
                _ => return Err(Fault::invalid_argument("host")),
            }
        }
    };
    Ok((pool, host))
}

/// The `_this` of a request, re-read from its encoding (every request type has one).
pub fn this_of(req: &Request) -> Option<MoRef> {
    let xml = req.to_envelope();
    let mut r = esx_vim::codec::Decoder::new(&xml);
    let esx_vim::codec::soap::Body::Element(el) = esx_vim::codec::soap::read_body(&mut r).ok()?
    else {
        return None;
    };
    while let Ok(Some(c)) = r.next_child(&el) {
        if c.name() == b"_this" {
            return <MoRef as esx_vim::codec::Decode>::decode(&mut r, &c).ok();
        }
        r.skip(&c).ok()?;
    }
    None
}
