//! Runtime support for `Any` and polymorphic values.

use std::borrow::Cow;

use base64::Engine as _;

use super::{
    format_datetime, format_float, ComplexType, DateTime, DecodeError, Decoder, Elem, Encoder,
};
use crate::generated::Any;

// `Any`'s variants that are neither boxed generated types (`variant_of!`) nor unboxed ones
// (`variant_of_unboxed!`): the explicit auto-trait impls of `hub_auto_traits!` rely on this.
auto_traits_hold!(
    String,
    bool,
    i8,
    i16,
    i32,
    i64,
    f32,
    f64,
    super::DateTime,
    Vec<u8>
);

/// Writes a complex value as `<name xsi:type="ty" [attr]>fields</name>`.
#[inline]
pub fn encode_typed<T: ComplexType>(
    w: &mut Encoder,
    name: &str,
    ty: &str,
    attr: Option<(&str, &str)>,
    v: &T,
) {
    w.open_tag(name, Some(ty));
    if let Some((k, val)) = attr {
        w.attr(k, val);
    }
    w.close_tag();
    v.encode_fields(w);
    w.end(name);
}

/// Writes an `Any::Unknown` back as it came. A type from another namespace
/// (`{uri}local`, see [`decode_unknown`]) is written with that namespace declared.
pub fn encode_unknown(w: &mut Encoder, name: &str, xsi_type: &str, raw_xml: &str) {
    let foreign = xsi_type
        .strip_prefix('{')
        .and_then(|rest| rest.rsplit_once('}'));
    if let Some((uri, local)) = foreign {
        w.open_tag(name, None);
        w.attr("xmlns:esxns", uri);
        w.attr("xsi:type", &format!("esxns:{local}"));
        w.close_tag();
    } else {
        w.start(
            name,
            if xsi_type.is_empty() {
                None
            } else {
                Some(xsi_type)
            },
        );
    }
    w.raw(raw_xml);
    w.end(name);
}

/// Keeps a value of an unknown type verbatim.
pub fn decode_unknown(
    r: &mut Decoder<'_>,
    el: &Elem<'_>,
    xsi_type: &str,
) -> Result<Any, DecodeError> {
    // A type from a namespace other than urn:vim25 (vSAN, PBM, an unknown `xsd:` type) keeps
    // it, as `{uri}local`: found by fuzzing, a foreign type whose local name is also a vim25
    // type came back as that vim25 type.
    let xsi_type = match r.foreign_xsi_type_uri(el) {
        Some(uri) => format!("{{{uri}}}{xsi_type}"),
        None => xsi_type.to_owned(),
    };
    let raw = r.raw_content(el)?;
    Ok(Any::Unknown {
        xsi_type,
        raw_xml: raw.to_owned(),
    })
}

/// The text of a primitive value.
pub trait PrimText {
    /// The value as XSD spells it.
    fn prim_text(&self) -> Cow<'_, str>;
}

/// The text of a primitive value (generated code calls this).
#[inline]
pub fn prim_text<T: PrimText + ?Sized>(v: &T) -> Cow<'_, str> {
    v.prim_text()
}

impl PrimText for String {
    fn prim_text(&self) -> Cow<'_, str> {
        Cow::Borrowed(self)
    }
}
impl PrimText for bool {
    fn prim_text(&self) -> Cow<'_, str> {
        Cow::Borrowed(if *self { "true" } else { "false" })
    }
}
macro_rules! prim_int {
    ($($t:ty),*) => {$(
        impl PrimText for $t {
            fn prim_text(&self) -> Cow<'_, str> {
                Cow::Owned(self.to_string())
            }
        }
    )*};
}
prim_int!(i8, i16, i32, i64);
impl PrimText for f32 {
    fn prim_text(&self) -> Cow<'_, str> {
        Cow::Owned(format_float(*self as f64))
    }
}
impl PrimText for f64 {
    fn prim_text(&self) -> Cow<'_, str> {
        Cow::Owned(format_float(*self))
    }
}
impl PrimText for DateTime {
    fn prim_text(&self) -> Cow<'_, str> {
        Cow::Owned(format_datetime(self))
    }
}
impl PrimText for Vec<u8> {
    fn prim_text(&self) -> Cow<'_, str> {
        Cow::Owned(base64::engine::general_purpose::STANDARD.encode(self))
    }
}

macro_rules! prim_typed {
    ($($t:ty),*) => {$(
        impl super::EncodeTyped for $t {
            fn encode_as(&self, w: &mut Encoder, name: &str, xsi_type: &str) {
                w.leaf(name, Some(xsi_type), &self.prim_text())
            }
        }
    )*};
}
prim_typed!(String, bool, i8, i16, i32, i64, f32, f64, DateTime, Vec<u8>);

impl super::EncodeTyped for super::ManagedObjectReference {
    fn encode_as(&self, w: &mut Encoder, name: &str, xsi_type: &str) {
        self.encode_typed(w, name, Some(xsi_type))
    }
}

impl super::EncodeTyped for Any {
    fn encode_as(&self, w: &mut Encoder, name: &str, _xsi_type: &str) {
        self.encode_element(w, name)
    }
}
