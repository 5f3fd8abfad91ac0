//! `Folder`: a container of inventory objects; `CreateFolder` and `MoveIntoFolder_Task`.

use esx_vim::{Any, InvalidFolder, InvalidName};

use crate::fault::{Fault, MethodResult};
use crate::property::{entity_common, refs, strings, Top};
use crate::state::{Mo, MoRef, State};

/// A folder's model.
#[derive(Debug, Clone)]
pub struct FolderMo {
    /// Display name.
    pub name: String,
    /// Parent (`None` for the root folder).
    pub parent: Option<MoRef>,
    /// The kinds of children allowed (`childType`).
    pub child_type: Vec<String>,
    /// The children, in creation order.
    pub children: Vec<MoRef>,
}

impl FolderMo {
    /// Reads a top-level property.
    pub fn property(&self, state: &State, r: &MoRef, name: &str) -> Top {
        Some(match name {
            "childEntity" => Some(refs(self.children.clone())),
            "childType" => Some(strings(self.child_type.clone())),
            "namespace" => None,
            _ => return entity_common(state, r, name),
        })
    }
}

/// Whether a folder already has a child named `name`.
pub fn child_named(state: &State, folder: &MoRef, name: &str) -> Option<MoRef> {
    state
        .children_of(folder)
        .into_iter()
        .find(|c| state.name_of(c).as_deref() == Some(name))
}

/// Converts an optional reference into a property value.
pub fn opt_ref(r: &Option<MoRef>) -> Option<Any> {
    r.clone().map(Any::from)
}

/// Longest folder name accepted (vCenter's limit for entity names).
pub const MAX_NAME: usize = 80;

fn invalid_name(name: &str, entity: &MoRef) -> Fault {
    Fault::new(
        InvalidName {
            name: name.to_owned(),
            entity: Some(entity.clone()),
            ..Default::default()
        },
        format!("The name '{name}' is invalid: a folder name must have 1 to {MAX_NAME} characters and no '/'."),
    )
}

fn invalid_folder(target: &MoRef, why: &str) -> Fault {
    Fault::new(
        InvalidFolder {
            target: target.clone(),
            ..Default::default()
        },
        format!("The folder {target} is not a valid destination: {why}."),
    )
}

/// The folder `r` refers to.
fn folder<'a>(state: &'a State, r: &MoRef) -> MethodResult<&'a FolderMo> {
    match state.get(r) {
        Some(Mo::Folder(f)) => Ok(f),
        _ => Err(Fault::not_found(r)),
    }
}

/// The id prefix vCenter gives folders holding `child_type`.
fn id_prefix(child_type: &[String]) -> &'static str {
    let has = |t: &str| child_type.iter().any(|c| c == t);
    if has("VirtualMachine") {
        "group-v"
    } else if has("ComputeResource") {
        "group-h"
    } else if has("Datastore") {
        "group-s"
    } else if has("Network") {
        "group-n"
    } else {
        "group-d"
    }
}

/// `CreateFolder`: a new folder under `parent` with the parent's `childType`.
/// Faults: `NotSupported` on a standalone host or where folders are not allowed,
/// `InvalidName` for an empty, too long or `/`-holding name, `DuplicateName`.
pub fn create(state: &mut State, parent: &MoRef, name: &str) -> MethodResult<MoRef> {
    let child_type = folder(state, parent)?.child_type.clone();
    if state.flavor() == crate::config::Flavor::Esx {
        return Err(Fault::not_supported("CreateFolder on a standalone host"));
    }
    if !child_type.iter().any(|t| t == "Folder") {
        return Err(Fault::not_supported("folders in this folder"));
    }
    if name.trim().is_empty() || name.chars().count() > MAX_NAME || name.contains('/') {
        return Err(invalid_name(name, parent));
    }
    if let Some(dup) = child_named(state, parent, name) {
        return Err(Fault::duplicate_name(name, &dup));
    }
    let id = state.new_id(id_prefix(&child_type));
    state.insert(
        &id,
        Mo::Folder(FolderMo {
            name: name.to_owned(),
            parent: Some(parent.clone()),
            child_type,
            children: Vec::new(),
        }),
    );
    let r = crate::state::moref("Folder", &id);
    if let Some(Mo::Folder(p)) = state.objects.get_mut(&parent.value) {
        p.children.push(r.clone());
    }
    Ok(r)
}

/// The `childType` entry an entity needs in its destination folder.
fn kind_of(state: &State, r: &MoRef) -> Option<&'static str> {
    Some(match state.get(r)? {
        Mo::Folder(_) => "Folder",
        Mo::Datacenter(_) => "Datacenter",
        Mo::ComputeResource(_) => "ComputeResource",
        Mo::Datastore(_) => "Datastore",
        Mo::Network(_) => "Network",
        Mo::VirtualMachine(_) => "VirtualMachine",
        _ => return None,
    })
}

/// Checks a `MoveIntoFolder_Task` before the task starts: every entity exists and fits the
/// folder (`NotSupported` for a kind not in `childType` or another datacenter,
/// `InvalidFolder` for a folder of another kind or the folder's own subtree, `DuplicateName`).
pub fn check_move(state: &State, target: &MoRef, list: &[MoRef]) -> MethodResult<()> {
    let t = folder(state, target)?;
    if state.flavor() == crate::config::Flavor::Esx {
        return Err(Fault::not_supported(
            "MoveIntoFolder_Task on a standalone host",
        ));
    }
    let dc = crate::mo::datacenter::datacenter_of(state, target);
    let mut names: Vec<String> = Vec::new();
    for e in list {
        state.lookup(e)?;
        let kind = kind_of(state, e).ok_or_else(|| Fault::not_supported("moving this object"))?;
        if !t.child_type.iter().any(|c| c == kind) {
            return Err(Fault::not_supported(&format!(
                "a {kind} in a folder holding {}",
                t.child_type.join(", ")
            )));
        }
        if let Some(Mo::Folder(f)) = state.get(e) {
            if f.child_type != t.child_type {
                return Err(invalid_folder(target, "it holds another kind of object"));
            }
            // The target must not be the folder itself or inside it.
            let mut cur = Some(target.clone());
            for _ in 0..256 {
                let Some(c) = cur else { break };
                if &c == e {
                    return Err(invalid_folder(
                        target,
                        "it is inside the folder being moved",
                    ));
                }
                cur = state.parent_of(&c);
            }
        }
        if kind != "Datacenter" && crate::mo::datacenter::datacenter_of(state, e) != dc {
            return Err(Fault::not_supported("moving objects between datacenters"));
        }
        let name = state.name_of(e).unwrap_or_default();
        if state.parent_of(e).as_ref() != Some(target) {
            if let Some(dup) = child_named(state, target, &name) {
                return Err(Fault::duplicate_name(&name, &dup));
            }
            if names.contains(&name) {
                return Err(Fault::duplicate_name(&name, e));
            }
        }
        names.push(name);
    }
    Ok(())
}

/// `MoveIntoFolder_Task`'s work: checks again, then re-parents every entity.
pub fn move_into(state: &mut State, target: &MoRef, list: &[MoRef]) -> MethodResult<()> {
    check_move(state, target, list)?;
    for e in list {
        let Some(old) = state.parent_of(e) else {
            continue;
        };
        if &old == target {
            continue;
        }
        if let Some(Mo::Folder(o)) = state.objects.get_mut(&old.value) {
            o.children.retain(|c| c != e);
        }
        match state.objects.get_mut(&e.value) {
            Some(Mo::Folder(f)) => f.parent = Some(target.clone()),
            Some(Mo::Datacenter(d)) => d.parent = target.clone(),
            Some(Mo::ComputeResource(c)) => c.parent = target.clone(),
            Some(Mo::Datastore(d)) => d.parent = target.clone(),
            Some(Mo::Network(n)) => n.parent = target.clone(),
            Some(Mo::VirtualMachine(v)) => v.parent = target.clone(),
            _ => continue,
        }
        if let Some(Mo::Folder(t)) = state.objects.get_mut(&target.value) {
            t.children.push(e.clone());
        }
    }
    Ok(())
}

/// Whether `r` is a root or a datacenter's own folder (`vm`, `host`, …), which keep their name.
fn is_fixed_folder(state: &State, r: &MoRef) -> bool {
    match state.get(r) {
        Some(Mo::Folder(f)) => match &f.parent {
            None => true,
            Some(p) => p.r#type == "Datacenter",
        },
        _ => false,
    }
}

/// Checks a `Rename_Task` of `r` to `name`: `InvalidName` (1 to 80 characters, no `/` for
/// non-VMs), `DuplicateName` among the siblings, `NotSupported` for fixed folders and kinds
/// that cannot be renamed here.
pub fn check_rename(state: &State, r: &MoRef, name: &str) -> MethodResult<()> {
    let m = state.lookup(r)?;
    let vm = matches!(m, Mo::VirtualMachine(_));
    let allowed = match m {
        Mo::VirtualMachine(_) => true,
        Mo::Folder(_) | Mo::Datacenter(_) | Mo::ComputeResource(_) => {
            state.flavor() == crate::config::Flavor::Vcenter && !is_fixed_folder(state, r)
        }
        _ => false,
    };
    if !allowed {
        return Err(Fault::not_supported("Rename_Task on this object"));
    }
    if name.trim().is_empty() || name.chars().count() > MAX_NAME || (!vm && name.contains('/')) {
        return Err(invalid_name(name, r));
    }
    if let Some(p) = state.parent_of(r) {
        if let Some(dup) = child_named(state, &p, name).filter(|d| d != r) {
            return Err(Fault::duplicate_name(name, &dup));
        }
    }
    Ok(())
}

/// Renames a folder, datacenter or compute resource (VMs are renamed through their `.vmx`).
pub fn rename_entity(state: &mut State, r: &MoRef, name: &str) -> MethodResult<()> {
    check_rename(state, r, name)?;
    match state.objects.get_mut(&r.value) {
        Some(Mo::Folder(f)) => f.name = name.to_owned(),
        Some(Mo::Datacenter(d)) => d.name = name.to_owned(),
        Some(Mo::ComputeResource(c)) => c.name = name.to_owned(),
        _ => return Err(Fault::not_supported("Rename_Task on this object")),
    }
    Ok(())
}

/// The folders and VMs below folder `r` (itself included), for `Destroy_Task`: `NotSupported`
/// for fixed folders or a subtree holding other kinds of objects, `InvalidPowerState` when a
/// VM in it is not powered off.
pub fn destroy_plan(state: &State, r: &MoRef) -> MethodResult<(Vec<MoRef>, Vec<MoRef>)> {
    folder(state, r)?;
    if state.flavor() == crate::config::Flavor::Esx || is_fixed_folder(state, r) {
        return Err(Fault::not_supported("Destroy_Task on this folder"));
    }
    let (mut folders, mut vms) = (Vec::new(), Vec::new());
    let mut todo = vec![r.clone()];
    while let Some(f) = todo.pop() {
        for c in state.children_of(&f) {
            match state.get(&c) {
                Some(Mo::Folder(_)) => todo.push(c),
                Some(Mo::VirtualMachine(v)) => {
                    if v.runtime.power_state != esx_vim::VirtualMachinePowerState::PoweredOff {
                        return Err(Fault::invalid_power_state(
                            None,
                            v.runtime.power_state.clone(),
                        ));
                    }
                    vms.push(c);
                }
                _ => {
                    return Err(Fault::not_supported(
                        "destroying a folder that holds datacenters, hosts, datastores or networks",
                    ))
                }
            }
        }
        folders.push(f);
    }
    Ok((folders, vms))
}

/// Removes the (already emptied) folders of a destroy plan, children first.
pub fn remove_folders(state: &mut State, folders: &[MoRef]) {
    for f in folders.iter().rev() {
        if let Some(p) = state.parent_of(f) {
            if let Some(Mo::Folder(pf)) = state.objects.get_mut(&p.value) {
                pf.children.retain(|c| c != f);
            }
        }
        state.objects.remove(&f.value);
    }
}
