//! `ResourcePool`.

use esx_vim::Any;

use crate::property::{entity_common, refs, Top};
use crate::state::{Mo, MoRef, State};

/// A resource pool's model.
#[derive(Debug, Clone)]
pub struct ResourcePoolMo {
    /// Display name (`Resources` for a root pool).
    pub name: String,
    /// Parent (the compute resource for a root pool).
    pub parent: MoRef,
    /// The owning compute resource.
    pub owner: MoRef,
    /// Child pools.
    pub pools: Vec<MoRef>,
}

impl ResourcePoolMo {
    /// Reads a top-level property.
    pub fn property(&self, state: &State, r: &MoRef, name: &str) -> Top {
        Some(match name {
            "owner" => Some(Any::from(self.owner.clone())),
            "resourcePool" => Some(refs(self.pools.clone())),
            "vm" => {
                let mut v: Vec<MoRef> = state
                    .objects
                    .iter()
                    .filter_map(|(id, m)| match m {
                        Mo::VirtualMachine(vm) if &vm.resource_pool == r => {
                            Some(crate::state::moref("VirtualMachine", id))
                        }
                        _ => None,
                    })
                    .collect();
                v.sort();
                Some(refs(v))
            }
            "summary" | "runtime" | "config" | "childConfiguration" | "namespace" => None,
            _ => return entity_common(state, r, name),
        })
    }
}
