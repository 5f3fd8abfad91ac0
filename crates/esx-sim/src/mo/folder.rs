//! `Folder`: a container of inventory objects.

use esx_vim::Any;

use crate::property::{entity_common, refs, strings, Top};
use crate::state::{MoRef, State};

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
