//! `Datacenter`.

use esx_vim::Any;

use crate::property::{entity_common, refs, Top};
use crate::state::{Mo, MoRef, State};

/// A datacenter's model.
#[derive(Debug, Clone)]
pub struct DatacenterMo {
    /// Display name.
    pub name: String,
    /// Parent folder.
    pub parent: MoRef,
    /// `vmFolder`.
    pub vm_folder: MoRef,
    /// `hostFolder`.
    pub host_folder: MoRef,
    /// `datastoreFolder`.
    pub datastore_folder: MoRef,
    /// `networkFolder`.
    pub network_folder: MoRef,
}

impl DatacenterMo {
    /// Reads a top-level property.
    pub fn property(&self, state: &State, r: &MoRef, name: &str) -> Top {
        Some(match name {
            "vmFolder" => Some(Any::from(self.vm_folder.clone())),
            "hostFolder" => Some(Any::from(self.host_folder.clone())),
            "datastoreFolder" => Some(Any::from(self.datastore_folder.clone())),
            "networkFolder" => Some(Any::from(self.network_folder.clone())),
            "datastore" => Some(refs(state.children_of(&self.datastore_folder))),
            "network" => Some(refs(super::view_manager::contents(
                state,
                &self.network_folder,
                &["Network".to_owned()],
                true,
            ))),
            "configuration" => None,
            _ => return entity_common(state, r, name),
        })
    }
}

/// The datacenter an entity belongs to.
pub fn datacenter_of(state: &State, r: &MoRef) -> Option<MoRef> {
    let mut cur = r.clone();
    for _ in 0..64 {
        if let Some(Mo::Datacenter(_)) = state.get(&cur) {
            return Some(cur);
        }
        cur = state.parent_of(&cur)?;
    }
    None
}
