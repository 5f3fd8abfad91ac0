//! Encoder: writes XML straight into a byte buffer, in the WSDL's element order.

use super::{Decode, Decoder, Elem};

/// Where encoded XML goes.
#[derive(Debug, Default)]
pub struct Encoder {
    buf: Vec<u8>,
}

impl Encoder {
    /// An empty encoder.
    pub fn new() -> Self {
        Self::default()
    }

    /// An encoder with `capacity` bytes reserved.
    pub fn with_capacity(capacity: usize) -> Self {
        Encoder {
            buf: Vec::with_capacity(capacity),
        }
    }

    /// An encoder that writes into `buf` after clearing it, reusing its capacity.
    pub fn from_vec(mut buf: Vec<u8>) -> Self {
        buf.clear();
        Encoder { buf }
    }

    /// The bytes written so far.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    /// Appends raw, already well-formed XML.
    #[inline]
    pub fn raw(&mut self, xml: &str) {
        self.buf.extend_from_slice(xml.as_bytes());
    }

    /// Writes `<name` plus an optional `xsi:type`, leaving the tag open for attributes.
    #[inline]
    pub fn open_tag(&mut self, name: &str, xsi_type: Option<&str>) {
        self.buf.push(b'<');
        self.buf.extend_from_slice(name.as_bytes());
        if let Some(t) = xsi_type {
            self.buf.extend_from_slice(b" xsi:type=\"");
            self.buf.extend_from_slice(t.as_bytes());
            self.buf.push(b'"');
        }
    }

    /// Writes ` key="value"` (escaped) into an open tag.
    #[inline]
    pub fn attr(&mut self, key: &str, value: &str) {
        self.buf.push(b' ');
        self.buf.extend_from_slice(key.as_bytes());
        self.buf.extend_from_slice(b"=\"");
        escape_into(&mut self.buf, value, true);
        self.buf.push(b'"');
    }

    /// Closes an open tag with `>`.
    #[inline]
    pub fn close_tag(&mut self) {
        self.buf.push(b'>');
    }

    /// Writes a start tag.
    #[inline]
    pub fn start(&mut self, name: &str, xsi_type: Option<&str>) {
        self.open_tag(name, xsi_type);
        self.buf.push(b'>');
    }

    /// Writes an end tag.
    #[inline]
    pub fn end(&mut self, name: &str) {
        self.buf.extend_from_slice(b"</");
        self.buf.extend_from_slice(name.as_bytes());
        self.buf.push(b'>');
    }

    /// Writes escaped character data.
    #[inline]
    pub fn text(&mut self, s: &str) {
        escape_into(&mut self.buf, s, false);
    }

    /// Writes `<name xsi:type=…>text</name>`.
    ///
    /// Shared by every leaf field: not inlined into each generated `encode_fields`.
    pub fn leaf(&mut self, name: &str, xsi_type: Option<&str>, text: &str) {
        let t = text.as_bytes();
        match xsi_type {
            None if !needs_text_escape(t) => self.plain_leaf(name, t),
            _ => self.typed_or_escaped_leaf(name, xsi_type, text),
        }
    }

    /// Writes `<name>text</name>` where `text` needs no escaping, with one capacity check.
    #[inline]
    fn plain_leaf(&mut self, name: &str, text: &[u8]) {
        let n = name.as_bytes();
        let len = 2 * n.len() + 5 + text.len();
        self.buf.reserve(len);
        let spare = &mut self.buf.spare_capacity_mut()[..len];
        let (open, rest) = spare.split_at_mut(n.len() + 2);
        let (body, close) = rest.split_at_mut(text.len());
        open[0].write(b'<');
        open[1..=n.len()].write_copy_of_slice(n);
        open[n.len() + 1].write(b'>');
        body.write_copy_of_slice(text);
        close[0].write(b'<');
        close[1].write(b'/');
        close[2..2 + n.len()].write_copy_of_slice(n);
        close[2 + n.len()].write(b'>');
        let written = self.buf.len() + len;
        // SAFETY: `reserve` made room for `len` more bytes and the three parts above, which
        // tile `spare[..len]` exactly, initialised every one of them.
        unsafe { self.buf.set_len(written) };
    }

    fn typed_or_escaped_leaf(&mut self, name: &str, xsi_type: Option<&str>, text: &str) {
        self.open_tag(name, xsi_type);
        self.buf.push(b'>');
        escape_into(&mut self.buf, text, false);
        self.end(name);
    }

    /// Writes a complex value as element `name`, with `xsi:type` when given.
    #[inline]
    pub fn complex<T: ComplexType>(&mut self, name: &str, xsi_type: Option<&str>, v: &T) {
        self.start(name, xsi_type);
        v.encode_fields(self);
        self.end(name);
    }

    /// Encodes a field that occurs exactly once.
    #[inline]
    pub fn one<T: Encode + ?Sized>(&mut self, name: &str, v: &T) {
        v.encode(self, name);
    }

    /// Encodes an optional field; absent values write nothing.
    #[inline]
    pub fn opt<T: Encode>(&mut self, name: &str, v: &Option<T>) {
        if let Some(v) = v {
            v.encode(self, name);
        }
    }

    /// Encodes an optional boxed field (recursive types).
    #[inline]
    pub fn opt_boxed<T: Encode>(&mut self, name: &str, v: &Option<Box<T>>) {
        if let Some(v) = v {
            (**v).encode(self, name);
        }
    }

    /// Encodes a boxed field that occurs exactly once (recursive types).
    #[inline]
    #[allow(clippy::borrowed_box)] // generated code passes `&self.field` whatever its type
    pub fn boxed<T: Encode>(&mut self, name: &str, v: &Box<T>) {
        let v: &T = v;
        v.encode(self, name);
    }

    /// Encodes every item of an array wrapper, each with `xsi:type` (`ArrayOf*` types).
    #[inline]
    pub fn many_typed<T: EncodeTyped>(&mut self, name: &str, xsi_type: &str, v: &[T]) {
        for x in v {
            x.encode_as(self, name, xsi_type);
        }
    }

    /// Encodes every occurrence of a repeated field.
    #[inline]
    pub fn many<T: Encode>(&mut self, name: &str, v: &[T]) {
        for x in v {
            x.encode(self, name);
        }
    }
}

/// A value that can be written as an element.
pub trait Encode {
    /// Writes `self` as the element `name` (declared type: the value's own type).
    fn encode(&self, w: &mut Encoder, name: &str);
}

/// A value that can be written with an explicit `xsi:type` (array items).
pub trait EncodeTyped {
    /// Writes `self` as element `name` typed `xsi_type` (polymorphic values use their own type).
    fn encode_as(&self, w: &mut Encoder, name: &str, xsi_type: &str);
}

impl<T: ComplexType> EncodeTyped for T {
    #[inline]
    fn encode_as(&self, w: &mut Encoder, name: &str, xsi_type: &str) {
        w.complex(name, Some(xsi_type), self)
    }
}

/// A generated data object: named, with child elements in WSDL order.
pub trait ComplexType: Default {
    /// The WSDL type name, as written in `xsi:type`.
    const TYPE_NAME: &'static str;
    /// Writes the child elements, in WSDL order.
    fn encode_fields(&self, w: &mut Encoder);
    /// Decodes one child element into the matching field; unknown children are skipped.
    fn decode_field<'i>(
        &mut self,
        r: &mut Decoder<'i>,
        child: &Elem<'i>,
    ) -> Result<(), super::DecodeError>;
}

/// Decodes a complex type field by field: the shared body of every generated `Decode` impl.
#[inline]
pub fn decode_complex<T: ComplexType>(
    r: &mut Decoder<'_>,
    el: &Elem<'_>,
) -> Result<T, super::DecodeError> {
    let mut v = T::default();
    while let Some(child) = r.next_child(el)? {
        v.decode_field(r, &child)?;
    }
    Ok(v)
}

impl<T: ComplexType> Decode for T {
    #[inline]
    fn decode(r: &mut Decoder<'_>, el: &Elem<'_>) -> Result<Self, super::DecodeError> {
        decode_complex(r, el)
    }
}

impl<T: ComplexType> Encode for T {
    #[inline]
    fn encode(&self, w: &mut Encoder, name: &str) {
        w.complex(name, None, self)
    }
}

/// Bytes that need escaping in text (`<`, `>`, `&`, CR) and also in attribute values (`"`,
/// LF, tab), as bit 0 and bit 1.
static ESCAPE: [u8; 256] = {
    let mut t = [0u8; 256];
    t[b'<' as usize] = 3;
    t[b'>' as usize] = 3;
    t[b'&' as usize] = 3;
    t[b'\r' as usize] = 3;
    t[b'"' as usize] = 2;
    t[b'\n' as usize] = 2;
    t[b'\t' as usize] = 2;
    t
};

/// Whether `bytes` holds a byte that text escaping rewrites (`<`, `>`, `&`, CR), eight bytes
/// at a time: most leaves are UUIDs, paths and names tens of bytes long, where a byte-by-byte
/// table scan was half the cost of writing them.
#[inline]
fn needs_text_escape(bytes: &[u8]) -> bool {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    // Non-zero exactly when some byte of `w` equals `c` (the classic has-zero-byte test on
    // `w ^ c…c`; it can misplace which byte, never whether one does).
    #[inline(always)]
    fn has(w: u64, c: u8) -> u64 {
        let x = w ^ (ONES * c as u64);
        x.wrapping_sub(ONES) & !x & HIGH
    }
    let mut words = bytes.chunks_exact(8);
    for chunk in &mut words {
        let mut w = [0u8; 8];
        w.copy_from_slice(chunk);
        let w = u64::from_ne_bytes(w);
        if has(w, b'<') | has(w, b'>') | has(w, b'&') | has(w, b'\r') != 0 {
            return true;
        }
    }
    words
        .remainder()
        .iter()
        .any(|&b| ESCAPE[b as usize] & 1 != 0)
}

#[inline]
fn escape_into(buf: &mut Vec<u8>, s: &str, attr: bool) {
    let bytes = s.as_bytes();
    let mask = if attr { 2 } else { 1 };
    // Nearly every value needs no escaping: one table scan, one copy.
    match bytes.iter().position(|&b| ESCAPE[b as usize] & mask != 0) {
        None => buf.extend_from_slice(bytes),
        Some(first) => escape_from(buf, bytes, first, attr),
    }
}

#[cold]
fn escape_from(buf: &mut Vec<u8>, bytes: &[u8], first: usize, attr: bool) {
    buf.extend_from_slice(&bytes[..first]);
    let mut last = first;
    for (i, &b) in bytes.iter().enumerate().skip(first) {
        let rep: &[u8] = match b {
            b'<' => b"&lt;",
            b'>' => b"&gt;",
            b'&' => b"&amp;",
            b'"' if attr => b"&quot;",
            b'\r' => b"&#13;",
            b'\n' if attr => b"&#10;",
            b'\t' if attr => b"&#9;",
            _ => continue,
        };
        buf.extend_from_slice(&bytes[last..i]);
        buf.extend_from_slice(rep);
        last = i + 1;
    }
    buf.extend_from_slice(&bytes[last..]);
}
