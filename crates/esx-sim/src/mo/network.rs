//! `Network`: a standard port group seen as an inventory network.

use esx_vim::{Any, NetworkSummary};

use crate::property::{entity_common, refs, Top};
use crate::state::{Mo, MoRef, State};

/// A network's model.
#[derive(Debug, Clone)]
pub struct NetworkMo {
    /// Name (the port group name).
    pub name: String,
    /// Parent folder.
    pub parent: MoRef,
    /// Hosts that have it.
    pub hosts: Vec<MoRef>,
}

impl NetworkMo {
    /// Reads a top-level property.
    pub fn property(&self, state: &State, r: &MoRef, name: &str) -> Top {
        Some(match name {
            "summary" => Some(Any::from(NetworkSummary {
                network: Some(r.clone()),
                name: self.name.clone(),
                accessible: true,
                ..Default::default()
            })),
            "host" => Some(refs(self.hosts.clone())),
            "vm" => {
                let mut v: Vec<MoRef> = state
                    .objects
                    .iter()
                    .filter_map(|(id, m)| match m {
                        Mo::VirtualMachine(vm) if vm.networks.contains(r) => {
                            Some(crate::state::moref("VirtualMachine", id))
                        }
                        _ => None,
                    })
                    .collect();
                v.sort();
                Some(refs(v))
            }
            _ => return entity_common(state, r, name),
        })
    }
}
