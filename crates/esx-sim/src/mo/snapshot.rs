//! `VirtualMachineSnapshot`.

use esx_vim::{Any, DateTime, VirtualMachinePowerState, VirtualMachineSnapshotTree};

use crate::property::{refs, Top};
use crate::state::{Mo, MoRef, State};

/// A snapshot's model.
#[derive(Debug, Clone)]
pub struct SnapshotMo {
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Numeric id.
    pub id: i32,
    /// The VM.
    pub vm: MoRef,
    /// Parent snapshot.
    pub parent: Option<MoRef>,
    /// Child snapshots.
    pub children: Vec<MoRef>,
    /// When it was taken.
    pub created: DateTime,
    /// The VM's power state then.
    pub state: VirtualMachinePowerState,
    /// The VM's memory size and CPU count then (restored on revert).
    pub saved: (String, String),
}

impl SnapshotMo {
    /// Reads a top-level property.
    pub fn property(&self, state: &State, name: &str) -> Top {
        Some(match name {
            "vm" => Some(Any::from(self.vm.clone())),
            "childSnapshot" => Some(refs(self.children.clone())),
            "config" => match state.get(&self.vm) {
                Some(Mo::VirtualMachine(v)) => Some(Any::from(v.full_config(state))),
                _ => None,
            },
            _ => return None,
        })
    }
}

/// The snapshot tree rooted at `r`.
pub fn tree(state: &State, r: &MoRef) -> Option<VirtualMachineSnapshotTree> {
    let Some(Mo::Snapshot(s)) = state.get(r) else {
        return None;
    };
    Some(VirtualMachineSnapshotTree {
        snapshot: r.clone(),
        vm: s.vm.clone(),
        name: s.name.clone(),
        description: s.description.clone(),
        id: Some(s.id),
        create_time: s.created,
        state: s.state.clone(),
        quiesced: false,
        child_snapshot_list: s.children.iter().filter_map(|c| tree(state, c)).collect(),
        ..Default::default()
    })
}

/// All snapshots under (and including) `r`.
pub fn descendants(state: &State, r: &MoRef) -> Vec<MoRef> {
    let mut out = vec![r.clone()];
    if let Some(Mo::Snapshot(s)) = state.get(r) {
        for c in &s.children {
            out.extend(descendants(state, c));
        }
    }
    out
}
