//! `ManagedObjectReference`: the one simple-content type of the API.

use super::{Decode, DecodeError, Decoder, Elem, Encode, Encoder};

/// A reference to a server-side managed object: its type and its identifier.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct ManagedObjectReference {
    /// The managed object type, e.g. `VirtualMachine`.
    pub r#type: String,
    /// The server's identifier, e.g. `vm-42`.
    pub value: String,
}

impl ManagedObjectReference {
    /// A reference to the object `value` of type `ty`.
    pub fn new(ty: impl Into<String>, value: impl Into<String>) -> Self {
        ManagedObjectReference {
            r#type: ty.into(),
            value: value.into(),
        }
    }
}

impl std::fmt::Display for ManagedObjectReference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.r#type, self.value)
    }
}

impl Decode for ManagedObjectReference {
    fn decode(r: &mut Decoder<'_>, el: &Elem<'_>) -> Result<Self, DecodeError> {
        let ty = el.attr("type")?.map(|t| t.into_owned()).unwrap_or_default();
        let value = r.text(el)?.into_owned();
        Ok(ManagedObjectReference { r#type: ty, value })
    }
}

impl ManagedObjectReference {
    /// Writes the reference as element `name`, with `xsi:type` when given.
    pub fn encode_typed(&self, w: &mut Encoder, name: &str, xsi_type: Option<&str>) {
        w.open_tag(name, xsi_type);
        w.attr("type", &self.r#type);
        w.close_tag();
        w.text(&self.value);
        w.end(name);
    }
}

impl Encode for ManagedObjectReference {
    fn encode(&self, w: &mut Encoder, name: &str) {
        self.encode_typed(w, name, None)
    }
}
