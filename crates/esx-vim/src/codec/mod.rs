//! The SOAP codec: a streaming decoder over quick-xml, an encoder writing straight to bytes,
//! the XSD primitives, and the SOAP 1.1 envelope.
//!
//! Generated types implement [`Decode`] and [`Encode`]; data objects do so through
//! [`ComplexType`], whose two methods are all the per-type code there is.

#[macro_use]
mod macros;
mod any;
mod de;
mod moref;
mod prim;
mod ser;
pub mod soap;

pub use any::{decode_unknown, encode_typed, encode_unknown, prim_text, PrimText};
pub use de::{Decode, Decoder, Elem, TypeNs, XsiType, MAX_DEPTH, VIM_NS, XSD_NS, XSI_NS};
pub use moref::ManagedObjectReference;
pub use prim::{
    format_datetime, format_float, parse_base64, parse_bool, parse_datetime, parse_float, DateTime,
};
pub use ser::{decode_complex, ComplexType, Encode, EncodeTyped, Encoder};

/// Why a document could not be decoded. Every variant names the byte offset concerned.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The XML itself is malformed.
    #[error("malformed XML at byte {pos}: {msg}")]
    Xml {
        /// What the XML parser reported.
        msg: String,
        /// Byte offset.
        pos: usize,
    },
    /// Well-formed XML that is not what the schema allows here.
    #[error("unexpected document structure at byte {pos}: {msg}")]
    Structure {
        /// What was wrong.
        msg: String,
        /// Byte offset.
        pos: usize,
    },
    /// A leaf's text is not a valid value of its type.
    #[error("invalid {ty} value {value:?} in <{element}> at byte {pos}")]
    Value {
        /// The XSD or vSphere type expected.
        ty: &'static str,
        /// The offending text (truncated).
        value: String,
        /// The element that held it.
        element: String,
        /// Byte offset of the element.
        pos: usize,
    },
    /// The document ended early.
    #[error("document truncated at byte {pos}")]
    Eof {
        /// Byte offset where input ran out.
        pos: usize,
    },
    /// Elements nested deeper than [`MAX_DEPTH`].
    #[error("elements nested deeper than {max} at byte {pos}")]
    TooDeep {
        /// The limit.
        max: usize,
        /// Byte offset.
        pos: usize,
    },
    /// A document type declaration (and so entity definitions) was present.
    #[error("DOCTYPE declarations are not accepted (byte {pos})")]
    Dtd {
        /// Byte offset.
        pos: usize,
    },
    /// An entity reference other than the five predefined ones or a character reference.
    #[error("unknown or invalid entity reference &{name}; at byte {pos}")]
    Entity {
        /// The entity's name.
        name: String,
        /// Byte offset.
        pos: usize,
    },
}

impl DecodeError {
    pub(crate) fn xml(pos: usize, e: impl std::fmt::Display) -> Self {
        DecodeError::Xml {
            msg: e.to_string(),
            pos,
        }
    }
}

/// A type that is one of the variants of enum `E` (a `Base*` enum or `Any`).
pub trait VariantOf<E> {
    /// Wraps the value in its variant.
    fn wrap(self) -> E;
}

/// A decoder function stored in a dispatch table.
pub type DecodeFn<T> = fn(&mut Decoder<'_>, &Elem<'_>) -> Result<T, DecodeError>;

/// Decodes `Sub` and converts it into `Base` (a polymorphic enum or `Any`): the entries of the
/// generated `xsi:type` dispatch tables.
#[inline]
pub fn decode_into<Sub: Decode, Base: From<Sub>>(
    r: &mut Decoder<'_>,
    el: &Elem<'_>,
) -> Result<Base, DecodeError> {
    Sub::decode(r, el).map(Base::from)
}

/// Looks `name` up in a table sorted by name.
#[inline]
pub fn lookup<T: Copy>(table: &[(&'static str, T)], name: &str) -> Option<T> {
    table
        .binary_search_by(|(n, _)| (*n).cmp(name))
        .ok()
        .map(|i| table[i].1)
}

/// Decodes a polymorphic value: the subtype named by `type_name` when the table knows it,
/// the declared base type otherwise (including types newer than these bindings).
#[inline]
pub fn decode_poly<T>(
    r: &mut Decoder<'_>,
    el: &Elem<'_>,
    type_name: Option<&str>,
    base: DecodeFn<T>,
    subtypes: &[(&'static str, DecodeFn<T>)],
) -> Result<T, DecodeError> {
    match type_name.and_then(|n| lookup(subtypes, n)) {
        Some(f) => f(r, el),
        None => base(r, el),
    }
}

/// Reads a simple (enumeration) value's text.
#[inline]
pub fn decode_enum<T>(
    r: &mut Decoder<'_>,
    el: &Elem<'_>,
    parse: fn(&str) -> T,
) -> Result<T, DecodeError> {
    let text = r.text(el)?;
    Ok(parse(text.trim()))
}
