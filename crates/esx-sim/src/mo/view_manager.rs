//! `ViewManager`, `ContainerView` and `ListView`.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::property::{refs, Top};
use crate::state::{is_a, moref, Mo, MoRef, State};

/// A view's model.
#[derive(Debug, Clone)]
pub enum View {
    /// `ContainerView`: objects of `types` under `container`.
    Container {
        /// The container.
        container: MoRef,
        /// Types wanted (all when empty).
        types: Vec<String>,
        /// Whether to descend below direct children.
        recursive: bool,
    },
    /// `ListView`: a fixed list.
    List(Vec<MoRef>),
}

impl View {
    /// The managed object type.
    pub fn type_name(&self) -> &'static str {
        match self {
            View::Container { .. } => "ContainerView",
            View::List(_) => "ListView",
        }
    }
}

/// The objects a container view shows.
pub fn contents(state: &State, container: &MoRef, types: &[String], recursive: bool) -> Vec<MoRef> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let mut pool_vms: Option<HashMap<String, Vec<MoRef>>> = None;
    // From the root folder or a datacenter, every VM is reached through the VM folders
    // already: skip the scan on that hot path.
    let via_pools = !matches!(
        state.get(container),
        Some(Mo::Datacenter(_))
            | Some(Mo::Folder(crate::mo::folder::FolderMo { parent: None, .. }))
    );
    let mut stack: Vec<MoRef> = state.children_of(container).into_iter().rev().collect();
    while let Some(r) = stack.pop() {
        if !seen.insert(r.clone()) {
            continue;
        }
        let Some(m) = state.get(&r) else { continue };
        if types.is_empty() || types.iter().any(|t| is_a(m.type_name(), t)) {
            out.push(r.clone());
        }
        if recursive {
            stack.extend(state.children_of(&r).into_iter().rev());
            // A resource pool's view also holds its VMs (its `vm` property).
            if let (Mo::ResourcePool(_), true) = (m, via_pools) {
                let index = pool_vms.get_or_insert_with(|| vms_by_pool(state));
                stack.extend(index.get(&r.value).into_iter().flatten().cloned());
            }
        }
    }
    out
}

/// Every VM by the id of its resource pool.
fn vms_by_pool(state: &State) -> HashMap<String, Vec<MoRef>> {
    let mut m: HashMap<String, Vec<MoRef>> = HashMap::new();
    for (id, o) in &state.objects {
        if let Mo::VirtualMachine(v) = o {
            m.entry(v.resource_pool.value.clone())
                .or_default()
                .push(crate::state::moref("VirtualMachine", id));
        }
    }
    m
}

/// The objects view `r` (whose model is `v`) shows, computed once per state generation
/// (see [`State::generation`]) for container views.
pub fn contents_of(state: &State, r: &MoRef, v: &View) -> Arc<Vec<MoRef>> {
    let View::Container {
        container,
        types,
        recursive,
    } = v
    else {
        return Arc::new(match v {
            View::List(l) => l.clone(),
            View::Container { .. } => Vec::new(),
        });
    };
    let generation = state.generation.load(Ordering::Acquire);
    let cached = state
        .view_cache
        .lock()
        .ok()
        .and_then(|c| c.get(&r.value).cloned());
    if let Some((g, list)) = cached {
        if g == generation {
            return list;
        }
    }
    let list = Arc::new(contents(state, container, types, *recursive));
    if let Ok(mut c) = state.view_cache.lock() {
        c.retain(|_, (g, _)| *g == generation);
        c.insert(r.value.clone(), (generation, list.clone()));
    }
    list
}

/// Properties of a view.
pub fn view_property(state: &State, r: &MoRef, v: &View, name: &str) -> Top {
    Some(match name {
        "view" => Some(refs(contents_of(state, r, v).as_ref().clone())),
        "container" => match v {
            View::Container { container, .. } => Some(esx_vim::Any::from(container.clone())),
            View::List(_) => return None,
        },
        "type" => match v {
            View::Container { types, .. } => Some(crate::property::strings(types.clone())),
            View::List(_) => return None,
        },
        "recursive" => match v {
            View::Container { recursive, .. } => Some(esx_vim::Any::Boolean(*recursive)),
            View::List(_) => return None,
        },
        _ => return None,
    })
}

/// Properties of the view manager.
pub fn manager_property(state: &State, name: &str) -> Top {
    Some(match name {
        "viewList" => {
            let mut v: Vec<MoRef> = state
                .objects
                .iter()
                .filter_map(|(id, m)| match m {
                    Mo::View(v) => Some(moref(v.type_name(), id)),
                    _ => None,
                })
                .collect();
            v.sort();
            Some(refs(v))
        }
        _ => return None,
    })
}

/// Creates a view and returns its reference.
pub fn create(state: &mut State, v: View) -> MoRef {
    let id = state.new_id("session[view]");
    let r = moref(v.type_name(), &id);
    state.insert(&id, Mo::View(v));
    r
}

/// `ModifyListView` / `ResetListView` / `ResetListViewFromView` on list view `r`: removes
/// `remove`, then adds the objects of `add` that exist (or, with `reset`, replaces the list by
/// them). Answers the references of `add` that name no object, as vSphere does.
pub fn modify_list(
    state: &mut State,
    r: &MoRef,
    add: &[MoRef],
    remove: &[MoRef],
    reset: bool,
) -> crate::fault::MethodResult<Vec<MoRef>> {
    let (found, unresolved): (Vec<MoRef>, Vec<MoRef>) =
        add.iter().cloned().partition(|a| state.get(a).is_some());
    let Mo::View(View::List(list)) = state.lookup_mut(r)? else {
        return Err(crate::fault::Fault::invalid_argument("_this"));
    };
    if reset {
        list.clear();
    }
    list.retain(|x| !remove.contains(x));
    for a in found {
        if !list.contains(&a) {
            list.push(a);
        }
    }
    state.changed();
    Ok(unresolved)
}

/// The objects another view shows (for `ResetListViewFromView`).
pub fn objects_of(state: &State, view: &MoRef) -> crate::fault::MethodResult<Vec<MoRef>> {
    match state.lookup(view)? {
        Mo::View(v) => Ok(contents_of(state, view, v).as_ref().clone()),
        _ => Err(crate::fault::Fault::invalid_argument("view")),
    }
}
