//! The property engine: reads any property path of any object from its typed model.

use esx_vim::{Any, ArrayOfManagedObjectReference, ArrayOfString, ManagedEntityStatus};

use crate::fault::{Fault, MethodResult};
use crate::mo;
use crate::path;
use crate::state::{Ctx, Mo, MoRef, State};

/// A top-level property read: `None` means the type has no such property;
/// `Some(None)` means it exists but is unset.
pub type Top = Option<Option<Any>>;

/// `ArrayOfManagedObjectReference` as a property value.
pub fn refs(v: Vec<MoRef>) -> Any {
    Any::from(ArrayOfManagedObjectReference {
        managed_object_reference: v,
    })
}

/// `ArrayOfString` as a property value.
pub fn strings(v: Vec<String>) -> Any {
    Any::from(ArrayOfString { string: v })
}

/// Properties every managed entity has.
pub fn entity_common(state: &State, r: &MoRef, name: &str) -> Top {
    Some(match name {
        "name" => state.name_of(r).map(Any::String),
        "parent" => state.parent_of(r).map(Any::from),
        "overallStatus" | "configStatus" => Some(Any::from(ManagedEntityStatus::Green)),
        "alarmActionsEnabled" | "declaredAlarmState" | "triggeredAlarmState" => {
            return mo::alarm_manager::entity_property(state, r, name)
        }
        "effectiveRole" => Some(Any::from(esx_vim::ArrayOfInt { int: vec![-1] })),
        "recentTask" => Some(refs(recent_tasks_for(state, r))),
        "customValue" | "value" => mo::custom_fields_manager::values(state, r),
        "availableField" => mo::custom_fields_manager::available(state, r),
        "disabledMethod" | "permission" | "tag" | "configIssue" => None,
        _ => return None,
    })
}

fn recent_tasks_for(state: &State, r: &MoRef) -> Vec<MoRef> {
    // As on a real server, finished tasks stay listed for a while (here: the entity's last
    // RECENT_DONE), so a client whose call's answer was lost can find the task it started.
    const RECENT_DONE: usize = 10;
    let mut v: Vec<(bool, u64, MoRef)> = state
        .objects
        .iter()
        .filter_map(|(id, m)| match m {
            Mo::Task(t) if t.info.entity.as_ref() == Some(r) => {
                let n = id.rsplit('-').next()?.parse().ok()?;
                Some((t.is_running(), n, crate::state::moref("Task", id)))
            }
            _ => None,
        })
        .collect();
    v.sort_by_key(|(_, n, _)| *n);
    let done = v.iter().filter(|(running, ..)| !running).count();
    let mut skip = done.saturating_sub(RECENT_DONE);
    v.into_iter()
        .filter(|(running, ..)| {
            if !running && skip > 0 {
                skip -= 1;
                return false;
            }
            true
        })
        .map(|(.., r)| r)
        .collect()
}

/// Reads the top-level property `name` of `r`.
pub fn top(state: &State, ctx: &Ctx, r: &MoRef, name: &str) -> MethodResult<Top> {
    let m = state.lookup(r)?;
    Ok(match m {
        Mo::ServiceInstance => mo::service_instance::property(state, name),
        Mo::SessionManager => mo::session_manager::property(state, ctx, name),
        Mo::PropertyCollector(c) => mo::property_collector::collector_property(c, name),
        Mo::PropertyFilter(f) => mo::property_collector::filter_property(f, name),
        Mo::ViewManager => mo::view_manager::manager_property(state, name),
        Mo::View(v) => mo::view_manager::view_property(state, r, v, name),
        Mo::TaskManager => mo::task::manager_property(state, name),
        Mo::Task(t) => t.property(name),
        Mo::EventManager => mo::event_manager::property(state, name),
        Mo::EventCollector(c) => mo::event_manager::collector_property(state, c, name),
        Mo::SearchIndex | Mo::FileManager | Mo::VirtualDiskManager => None,
        Mo::Folder(f) => f.property(state, r, name),
        Mo::Datacenter(d) => d.property(state, r, name),
        Mo::ComputeResource(c) => c.property(state, r, name),
        Mo::ResourcePool(p) => p.property(state, r, name),
        Mo::HostSystem(h) => h.property(state, r, name),
        Mo::HostService(s) => s.property(state, name),
        Mo::DatastoreBrowser(b) => b.property(name),
        Mo::Datastore(d) => d.property(state, r, name),
        Mo::Network(n) => n.property(state, r, name),
        Mo::VirtualMachine(v) => v.property(state, r, name),
        Mo::Snapshot(s) => s.property(state, name),
        Mo::Manager(ty) => crate::managers::property(state, ctx, r, ty, name),
        Mo::Dvs(d) => d.property(state, r, name),
        Mo::DvPortgroup(p) => p.property(state, r, name),
    })
}

/// The property names `all=true` reads for an object: every property its WSDL type and its
/// base types declare (base types first); unset ones are left out of the answer.
pub fn all_names(m: &Mo) -> Vec<&'static str> {
    let mut chain = Vec::new();
    let mut cur = esx_vim::reflect::managed_object_info(m.type_name());
    while let Some(info) = cur {
        chain.push(info);
        cur = info.base.and_then(esx_vim::reflect::managed_object_info);
    }
    chain
        .iter()
        .rev()
        .flat_map(|info| info.properties.iter().map(|p| p.name))
        .collect()
}

/// Reads a full property path (`config.hardware.memoryMB`).
pub fn read(state: &State, ctx: &Ctx, r: &MoRef, path: &str) -> MethodResult<Option<Any>> {
    if let Some(v) = fast_path(state, r, path) {
        return Ok(v);
    }
    let mut segs = path.split('.');
    let first = segs.next().unwrap_or("");
    let rest: Vec<&str> = segs.collect();
    let v = match top(state, ctx, r, first)? {
        Some(v) => v,
        // Declared by the WSDL but not modelled: unset, as a real server leaves many.
        None if declared(state, r, first) => None,
        None => return Err(Fault::invalid_property(path)),
    };
    match (v, rest.is_empty()) {
        (v, true) => Ok(v),
        (None, false) => Ok(None),
        (Some(v), false) => path::navigate(&v, &rest).map_err(|_| Fault::invalid_property(path)),
    }
}

/// Whether the WSDL declares property `name` for `r`'s type (or a base type).
pub fn declared(state: &State, r: &MoRef, name: &str) -> bool {
    state
        .get(r)
        .is_some_and(|m| esx_vim::reflect::property_info(m.type_name(), name).is_some())
}

/// The hot nested paths listing clients ask for, answered without the generic walk.
fn fast_path(state: &State, r: &MoRef, path: &str) -> Option<Option<Any>> {
    let vm = match state.get(r)? {
        Mo::VirtualMachine(v) => v,
        _ => return None,
    };
    Some(match path {
        "name" => Some(Any::String(vm.name.clone())),
        "runtime.powerState" => Some(Any::from(vm.runtime.power_state.clone())),
        "summary" => Some(Any::from(vm.summary(r))),
        "config.name" | "summary.config.name" => Some(Any::String(vm.name.clone())),
        "config.uuid" => Some(Any::String(vm.config.uuid.clone())),
        "config.template" => Some(Any::Boolean(false)),
        // Everything in `config` but the device list, without building it.
        p if p.starts_with("config.")
            && !p.starts_with("config.hardware.device")
            && p != "config.hardware" =>
        {
            let rest: Vec<&str> = p["config.".len()..].split('.').collect();
            return path::navigate(&Any::from(vm.config.clone()), &rest).ok();
        }
        _ => return None,
    })
}
