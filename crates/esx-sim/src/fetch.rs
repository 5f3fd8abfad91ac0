//! `Fetch`: the internal one-property read pyVmomi 7+ uses for attribute access
//! (`vm.name`), answered by real ESX and vCenter though it is not in the WSDL.

use esx_vim::codec::{ComplexType, DecodeError, Decoder, Elem, Encode, Encoder};
use esx_vim::{Any, ManagedObjectReference};

/// A decoded `Fetch` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchRequest {
    /// The object read.
    pub this: ManagedObjectReference,
    /// The property path.
    pub prop: String,
}

/// Reads the children of a `<Fetch>` element.
pub fn decode(r: &mut Decoder<'_>, el: &Elem<'_>) -> Result<FetchRequest, DecodeError> {
    let mut this = None;
    let mut prop = None;
    while let Some(c) = r.next_child(el)? {
        match c.name() {
            b"_this" => {
                this = Some(<ManagedObjectReference as esx_vim::codec::Decode>::decode(
                    r, &c,
                )?)
            }
            b"prop" => prop = Some(r.text(&c)?.into_owned()),
            _ => r.skip(&c)?,
        }
    }
    match (this, prop) {
        (Some(this), Some(prop)) => Ok(FetchRequest { this, prop }),
        _ => Err(DecodeError::Structure {
            msg: "Fetch needs _this and prop".into(),
            pos: 0,
        }),
    }
}

/// `<FetchResponse>`: the value, or no `returnval` when unset.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FetchResponse {
    /// The property's value.
    pub returnval: Option<Any>,
}

impl ComplexType for FetchResponse {
    const TYPE_NAME: &'static str = "FetchResponse";

    fn encode_fields(&self, w: &mut Encoder) {
        if let Some(v) = &self.returnval {
            v.encode(w, "returnval");
        }
    }

    fn decode_field<'i>(
        &mut self,
        r: &mut Decoder<'i>,
        child: &Elem<'i>,
    ) -> Result<(), DecodeError> {
        r.skip(child)
    }
}
