//! Streaming decoder: a thin cursor over quick-xml's pull reader (namespace scopes kept by
//! [`Decoder`] itself, only for elements that declare them).
//!
//! Generated `Decode` impls walk the document with [`Decoder::next_child`], read leaf text with
//! [`Decoder::text`] and skip what they do not know with [`Decoder::skip`]. There is no DOM: each
//! value is built directly from the borrowed input.

use std::borrow::Cow;

use quick_xml::events::{BytesStart, BytesText, Event};
use quick_xml::name::{NamespaceResolver, QName, ResolveResult};
use quick_xml::Reader;

use super::DecodeError;

/// XML Schema namespace (`xsd:` types).
pub const XSD_NS: &[u8] = b"http://www.w3.org/2001/XMLSchema";
/// XML Schema instance namespace (`xsi:type`, `xsi:nil`).
pub const XSI_NS: &[u8] = b"http://www.w3.org/2001/XMLSchema-instance";
/// The vSphere API namespace.
pub const VIM_NS: &[u8] = b"urn:vim25";

/// Deepest element nesting accepted; real responses stay far below it.
pub const MAX_DEPTH: usize = 256;

/// Which namespace an `xsi:type` value resolved to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeNs {
    /// `http://www.w3.org/2001/XMLSchema`: a primitive such as `xsd:string`.
    Xsd,
    /// `urn:vim25`, or no namespace at all: a vSphere type.
    Vim,
    /// Any other namespace (vSAN, PBM, …): unknown to these bindings.
    Other,
}

/// A resolved `xsi:type` attribute.
#[derive(Debug, Clone)]
pub struct XsiType<'i> {
    /// The namespace the type name's prefix resolved to.
    pub ns: TypeNs,
    /// The type's local name.
    pub name: Cow<'i, str>,
}

/// An element whose start tag has just been read.
#[derive(Debug, Clone)]
pub struct Elem<'i> {
    start: BytesStart<'i>,
    empty: bool,
    xsi_type: Option<XsiType<'i>>,
    offset: usize,
    content: usize,
    /// The text length of an element read whole by the leaf fast path (`<a>text</a>`, with
    /// no reference or markup inside; the text starts at `content`): its end tag is already
    /// consumed.
    leaf: Option<usize>,
}

impl<'i> Elem<'i> {
    /// The element's local name (its prefix removed).
    #[inline]
    pub fn name(&self) -> &[u8] {
        self.start.local_name().into_inner()
    }

    /// The element's local name as text, for error messages.
    pub fn name_str(&self) -> String {
        String::from_utf8_lossy(self.name()).into_owned()
    }

    /// True for a self-closing element (`<a/>`).
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.empty
    }

    /// The resolved `xsi:type`, if the element carries one.
    #[inline]
    pub fn xsi_type(&self) -> Option<&XsiType<'i>> {
        self.xsi_type.as_ref()
    }

    /// The local name of `xsi:type` when it names a vSphere type (or has no namespace).
    #[inline]
    pub fn vim_type(&self) -> Option<&str> {
        match &self.xsi_type {
            Some(XsiType {
                ns: TypeNs::Vim,
                name,
            }) => Some(name),
            _ => None,
        }
    }

    /// Byte offset of the start tag in the input.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// The unescaped value of an unprefixed attribute.
    pub fn attr(&self, name: &str) -> Result<Option<Cow<'_, str>>, DecodeError> {
        for a in self.start.attributes().with_checks(false) {
            let a = a.map_err(|e| DecodeError::xml(self.offset, e))?;
            if a.key.as_ref() == name.as_bytes() {
                return a
                    .unescape_value()
                    .map(Some)
                    .map_err(|e| DecodeError::xml(self.offset, e));
            }
        }
        Ok(None)
    }
}

/// The decoding cursor over one document held in memory.
///
/// Namespaces matter only for `xsi:type` (element names are matched by local name), so the
/// reader is quick-xml's plain `Reader` and namespace scopes are kept here, opened only by
/// elements that declare a namespace: most elements carry no attribute at all and cost no
/// namespace work (`docs/PERFORMANCE.md`, "vim25 bindings and SOAP codec").
pub struct Decoder<'i> {
    reader: Reader<&'i [u8]>,
    input: &'i [u8],
    /// The whole input as text when it is valid UTF-8 (nearly always): borrowed text is then
    /// sliced from it, with no per-text validation.
    input_str: Option<&'i str>,
    depth: usize,
    /// The namespace declarations in scope.
    ns: NamespaceResolver,
    /// Depths of the open elements that declared namespaces (a scope each in `ns`).
    ns_depths: Vec<usize>,
    /// An empty element declared namespaces: its scope ends at the next read.
    ns_pending_pop: bool,
    /// The last event was a start or end tag, so the unread input begins where markup or
    /// text may begin (after a text event quick-xml has already consumed the next `<`).
    at_boundary: bool,
}

impl<'i> Decoder<'i> {
    /// A decoder over `input` (UTF-8 XML, with or without a byte-order mark).
    pub fn new(input: &'i [u8]) -> Self {
        // quick-xml skips a BOM without counting it in its positions, which would shift every
        // verbatim slice (`raw_content`) by its three bytes: leave it out of the input instead.
        let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
        let mut reader = Reader::from_reader(input);
        let cfg = reader.config_mut();
        cfg.check_end_names = true;
        cfg.expand_empty_elements = false;
        cfg.trim_text(false);
        Decoder {
            reader,
            input,
            input_str: std::str::from_utf8(input).ok(),
            depth: 0,
            ns: NamespaceResolver::default(),
            ns_depths: Vec::new(),
            ns_pending_pop: false,
            at_boundary: false,
        }
    }

    /// Current byte position in the input.
    #[inline]
    pub fn position(&self) -> usize {
        self.reader.buffer_position() as usize
    }

    /// Closes the namespace scope of an empty element that declared namespaces (it ends at
    /// the read after it).
    #[inline]
    fn end_pending_scope(&mut self) {
        if self.ns_pending_pop {
            self.ns_pending_pop = false;
            self.ns.pop();
        }
    }

    #[inline]
    fn read(&mut self) -> Result<Event<'i>, DecodeError> {
        self.end_pending_scope();
        let pos = self.position();
        let ev = self.reader.read_event();
        self.at_boundary = matches!(ev, Ok(Event::Start(_) | Event::End(_) | Event::Empty(_)));
        match ev {
            Ok(Event::DocType(_)) => Err(DecodeError::Dtd { pos }),
            Ok(ev) => Ok(ev),
            Err(e) => Err(DecodeError::xml(self.reader.error_position() as usize, e)),
        }
    }

    /// The leaf fast path: when the unread input starts with a whole `<name>text</name>`
    /// (plain attributes such as `xsi:type` allowed, no reference or markup inside, the end
    /// tag written exactly), reads it in one scan instead of three reader events, and returns
    /// it as an [`Elem`] whose text is already known. Four elements in five of a
    /// property-collector reply are such leaves (`docs/PERFORMANCE.md`). Anything else is left
    /// to the reader, untouched, so errors and odd forms behave exactly as before.
    #[inline]
    fn try_leaf(&mut self) -> Option<Elem<'i>> {
        if !self.at_boundary || self.depth >= MAX_DEPTH {
            return None;
        }
        let all = self.input_str?;
        let offset = self.position();
        let rest = all.as_bytes().get(offset..)?;
        if rest.first() != Some(&b'<') {
            return None;
        }
        // The name, up to the first byte that cannot be part of one; then either `>` or
        // attributes up to the first `>` outside quotes, as the reader finds it.
        let name_len = rest[1..].iter().position(|&b| !LEAF_NAME[b as usize])?;
        let name = &rest[1..1 + name_len];
        let (gt, has_attributes) = match rest[1 + name_len] {
            _ if name_len == 0 => return None,
            b'>' => (1 + name_len, false),
            b if b.is_ascii_whitespace() => (attributes_end(rest, 1 + name_len)?, true),
            _ => return None,
        };
        let from = gt + 1;
        let len = text_end(&rest[from..])?;
        let close = &rest[from + len..];
        if close.first() != Some(&b'<')
            || close.get(1) != Some(&b'/')
            || close.get(2..2 + name.len()) != Some(name)
            || close.get(2 + name.len()) != Some(&b'>')
        {
            return None;
        }
        self.end_pending_scope();
        // `<`, `>` and `/` are ASCII, so every cut below falls on a character boundary.
        let start = BytesStart::from_content(&all[offset + 1..offset + gt], name_len);
        let xsi_type = if has_attributes {
            // On an error the reader reads the element again and reports it.
            self.resolve_xsi_type(&start, offset).ok()?
        } else {
            None
        };
        let consumed = from + len + name.len() + 3;
        std::io::BufRead::consume(&mut self.reader.stream(), consumed);
        Some(Elem {
            start,
            empty: false,
            xsi_type,
            offset,
            content: offset + from,
            leaf: Some(len),
        })
    }

    fn open(
        &mut self,
        start: BytesStart<'i>,
        empty: bool,
        offset: usize,
    ) -> Result<Elem<'i>, DecodeError> {
        if !empty {
            self.depth += 1;
            if self.depth > MAX_DEPTH {
                return Err(DecodeError::TooDeep {
                    max: MAX_DEPTH,
                    pos: offset,
                });
            }
        }
        // Most elements have no attributes: no namespace or `xsi:type` work for them.
        let xsi_type = if start.attributes_raw().is_empty() {
            None
        } else {
            self.open_scope(&start, empty, offset)?;
            self.resolve_xsi_type(&start, offset)?
        };
        let content = self.position();
        Ok(Elem {
            start,
            empty,
            xsi_type,
            offset,
            content,
            leaf: None,
        })
    }

    /// Opens a namespace scope when `start` declares namespaces.
    fn open_scope(
        &mut self,
        start: &BytesStart<'i>,
        empty: bool,
        offset: usize,
    ) -> Result<(), DecodeError> {
        let attrs = start.attributes_raw();
        if !attrs.windows(5).any(|w| w == b"xmlns") {
            return Ok(());
        }
        self.ns
            .push(start)
            .map_err(|e| DecodeError::xml(offset, e))?;
        if empty {
            self.ns_pending_pop = true;
        } else {
            self.ns_depths.push(self.depth);
        }
        Ok(())
    }

    /// Closes the namespace scope of the element just ended, if it opened one.
    #[inline]
    fn close_scope(&mut self) {
        if self.ns_depths.last().is_some_and(|&d| d > self.depth) {
            self.ns_depths.pop();
            self.ns.pop();
        }
    }

    /// Text borrowed from the input.
    #[inline]
    fn input_text(&self, b: &'i [u8], offset: usize) -> Result<&'i str, DecodeError> {
        if let Some(all) = self.input_str {
            let start = (b.as_ptr() as usize).wrapping_sub(all.as_ptr() as usize);
            if let Some(s) = all.get(start..start.wrapping_add(b.len())) {
                return Ok(s);
            }
        }
        std::str::from_utf8(b).map_err(|e| DecodeError::xml(offset, e))
    }

    /// The text of a text or CDATA event.
    #[inline]
    fn event_text(&self, t: Cow<'i, [u8]>, offset: usize) -> Result<Cow<'i, str>, DecodeError> {
        match t {
            Cow::Borrowed(b) => self.input_text(b, offset).map(Cow::Borrowed),
            Cow::Owned(v) => String::from_utf8(v)
                .map(Cow::Owned)
                .map_err(|e| DecodeError::xml(offset, e.utf8_error())),
        }
    }

    /// The namespace URI of `el`'s `xsi:type` when it is bound to one other than `urn:vim25`
    /// (`Any::Unknown` keeps it: written back without it, the type's local name would land in
    /// `urn:vim25`, where it may name another type). Call before reading `el`'s content.
    pub(crate) fn foreign_xsi_type_uri(&self, el: &Elem<'_>) -> Option<String> {
        el.xsi_type
            .as_ref()
            .filter(|t| !matches!(t.ns, TypeNs::Vim))?;
        for a in el.start.attributes().with_checks(false).flatten() {
            let key = a.key;
            if key.local_name().as_ref() != b"type" || key.prefix().is_none() {
                continue;
            }
            let is_xsi = match self.ns.resolve_attribute(key).0 {
                ResolveResult::Bound(n) => n.as_ref() == XSI_NS,
                ResolveResult::Unknown(p) => p == b"xsi",
                ResolveResult::Unbound => false,
            };
            if !is_xsi {
                continue;
            }
            let value = a.unescape_value().ok()?;
            return match self.ns.resolve_element(QName(value.as_bytes())).0 {
                ResolveResult::Bound(n) if n.as_ref() != VIM_NS => {
                    Some(String::from_utf8_lossy(n.as_ref()).into_owned())
                }
                _ => None,
            };
        }
        None
    }

    fn resolve_xsi_type(
        &self,
        start: &BytesStart<'i>,
        offset: usize,
    ) -> Result<Option<XsiType<'i>>, DecodeError> {
        for a in start.attributes().with_checks(false) {
            let a = a.map_err(|e| DecodeError::xml(offset, e))?;
            let key = a.key;
            if key.local_name().as_ref() != b"type" || key.prefix().is_none() {
                continue;
            }
            let (ns, _) = self.ns.resolve_attribute(key);
            let is_xsi = match ns {
                ResolveResult::Bound(n) => n.as_ref() == XSI_NS,
                // An undeclared `xsi:` prefix (fragments cut from a larger document).
                ResolveResult::Unknown(p) => p == b"xsi",
                ResolveResult::Unbound => false,
            };
            if !is_xsi {
                continue;
            }
            let value = a
                .unescape_value()
                .map_err(|e| DecodeError::xml(offset, e))?;
            let (ns, name) = {
                let qname = QName(value.as_bytes());
                let (res, local) = self.ns.resolve_element(qname);
                let kind = match res {
                    ResolveResult::Bound(n) if n.as_ref() == XSD_NS => TypeNs::Xsd,
                    ResolveResult::Bound(n) if n.as_ref() == VIM_NS => TypeNs::Vim,
                    ResolveResult::Bound(_) => TypeNs::Other,
                    ResolveResult::Unbound => TypeNs::Vim,
                    // An undeclared prefix: take the conventional ones at their word.
                    ResolveResult::Unknown(p) => match p.as_slice() {
                        b"xsd" | b"xs" => TypeNs::Xsd,
                        _ => TypeNs::Vim,
                    },
                };
                (kind, local.into_inner().len())
            };
            let local = &value[value.len() - name..];
            let name = match self.borrow_input(local) {
                Some(b) => Cow::Borrowed(b),
                None => Cow::Owned(local.to_owned()),
            };
            return Ok(Some(XsiType { ns, name }));
        }
        Ok(None)
    }

    /// `s` again, borrowed from the input itself when it is a slice of it.
    fn borrow_input(&self, s: &str) -> Option<&'i str> {
        let base = self.input.as_ptr() as usize;
        let start = (s.as_ptr() as usize).checked_sub(base)?;
        // `s` is text, so when it is a slice of the input its ends are character boundaries.
        match self.input_str {
            Some(all) => all.get(start..start + s.len()),
            None => std::str::from_utf8(self.input.get(start..start + s.len())?).ok(),
        }
    }

    /// Reads up to the document element and returns it.
    pub fn root(&mut self) -> Result<Elem<'i>, DecodeError> {
        loop {
            let offset = self.position();
            match self.read()? {
                Event::Start(s) => return self.open(s, false, offset),
                Event::Empty(s) => return self.open(s, true, offset),
                Event::Eof => return Err(DecodeError::Eof { pos: offset }),
                Event::Text(t) if is_blank(&t) => {}
                Event::Decl(_) | Event::Comment(_) | Event::PI(_) => {}
                _ => {
                    return Err(DecodeError::Structure {
                        msg: "content before the document element".into(),
                        pos: offset,
                    })
                }
            }
        }
    }

    /// The next child element of `parent`, or `None` once `parent`'s end tag has been read.
    ///
    /// The caller must consume every child returned (decode it, read its text, or skip it).
    pub fn next_child(&mut self, parent: &Elem<'_>) -> Result<Option<Elem<'i>>, DecodeError> {
        if parent.empty || parent.leaf.is_some() {
            return Ok(None);
        }
        if let Some(leaf) = self.try_leaf() {
            return Ok(Some(leaf));
        }
        loop {
            let offset = self.position();
            match self.read()? {
                Event::Start(s) => return self.open(s, false, offset).map(Some),
                Event::Empty(s) => return self.open(s, true, offset).map(Some),
                Event::End(_) => {
                    self.depth -= 1;
                    self.close_scope();
                    return Ok(None);
                }
                Event::Eof => return Err(DecodeError::Eof { pos: offset }),
                // Stray text or comments between child elements carry nothing for us.
                Event::Text(_)
                | Event::CData(_)
                | Event::GeneralRef(_)
                | Event::Comment(_)
                | Event::PI(_) => {}
                Event::Decl(_) | Event::DocType(_) => {
                    return Err(DecodeError::Structure {
                        msg: "declaration inside an element".into(),
                        pos: offset,
                    })
                }
            }
        }
    }

    /// Reads the text content of `el` up to its end tag, resolving entity and character
    /// references. Borrowed from the input when it contains no references.
    pub fn text(&mut self, el: &Elem<'_>) -> Result<Cow<'i, str>, DecodeError> {
        if let Some(len) = el.leaf {
            // The leaf was cut from this decoder's input, which is then valid UTF-8.
            let text = self
                .input_str
                .and_then(|all| all.get(el.content..el.content + len));
            return Ok(Cow::Borrowed(text.unwrap_or_default()));
        }
        if el.empty {
            return Ok(Cow::Borrowed(""));
        }
        let mut out: Cow<'i, str> = Cow::Borrowed("");
        loop {
            let offset = self.position();
            match self.read()? {
                Event::Text(t) => {
                    let s = self.event_text(text_bytes(t), offset)?;
                    append(&mut out, s);
                }
                Event::CData(t) => {
                    let s = self.event_text(t.into_inner(), offset)?;
                    append(&mut out, s);
                }
                Event::GeneralRef(r) => {
                    let c = resolve_ref(&r, offset)?;
                    let mut buf = [0u8; 4];
                    append(&mut out, Cow::Owned(c.encode_utf8(&mut buf).to_owned()));
                }
                Event::End(_) => {
                    self.depth -= 1;
                    self.close_scope();
                    return Ok(out);
                }
                Event::Comment(_) | Event::PI(_) => {}
                Event::Start(s) | Event::Empty(s) => {
                    return Err(DecodeError::Structure {
                        msg: format!(
                            "element <{}> inside <{}>, which holds text",
                            String::from_utf8_lossy(s.local_name().as_ref()),
                            el.name_str()
                        ),
                        pos: offset,
                    })
                }
                Event::Eof => return Err(DecodeError::Eof { pos: offset }),
                Event::Decl(_) | Event::DocType(_) => {
                    return Err(DecodeError::Structure {
                        msg: "declaration inside an element".into(),
                        pos: offset,
                    })
                }
            }
        }
    }

    /// Skips `el` and everything inside it.
    pub fn skip(&mut self, el: &Elem<'_>) -> Result<(), DecodeError> {
        self.skip_to_end(el).map(|_| ())
    }

    /// Skips `el` and returns its content (between the start and end tags) verbatim.
    pub fn raw_content(&mut self, el: &Elem<'_>) -> Result<&'i str, DecodeError> {
        let from = el.content;
        let to = self.skip_to_end(el)?;
        let bytes = self.input.get(from..to.max(from)).unwrap_or_default();
        std::str::from_utf8(bytes).map_err(|_| DecodeError::Structure {
            msg: "content is not UTF-8".into(),
            pos: from,
        })
    }

    /// Reads past `el`'s end tag; returns the offset where that end tag starts.
    fn skip_to_end(&mut self, el: &Elem<'_>) -> Result<usize, DecodeError> {
        if let Some(len) = el.leaf {
            return Ok(el.content + len);
        }
        if el.empty {
            return Ok(el.content);
        }
        let target = self.depth - 1;
        let mut end = el.content;
        while self.depth > target {
            let offset = self.position();
            match self.read()? {
                Event::Start(_) => {
                    self.depth += 1;
                    if self.depth > MAX_DEPTH {
                        return Err(DecodeError::TooDeep {
                            max: MAX_DEPTH,
                            pos: offset,
                        });
                    }
                }
                Event::End(_) => {
                    self.depth -= 1;
                    self.close_scope();
                    end = offset;
                }
                Event::Eof => return Err(DecodeError::Eof { pos: offset }),
                Event::GeneralRef(r) => {
                    resolve_ref(&r, offset)?;
                }
                _ => {}
            }
        }
        Ok(end)
    }

    /// Reads the rest of the document, checking that every open element is closed: a reply
    /// truncated after its payload is still an error.
    pub fn finish(&mut self) -> Result<(), DecodeError> {
        loop {
            let offset = self.position();
            match self.read()? {
                Event::Start(_) => {
                    self.depth += 1;
                    if self.depth > MAX_DEPTH {
                        return Err(DecodeError::TooDeep {
                            max: MAX_DEPTH,
                            pos: offset,
                        });
                    }
                }
                Event::End(_) => {
                    self.depth = self.depth.saturating_sub(1);
                    self.close_scope();
                }
                Event::GeneralRef(r) => {
                    resolve_ref(&r, offset)?;
                }
                Event::Eof if self.depth == 0 => return Ok(()),
                Event::Eof => return Err(DecodeError::Eof { pos: offset }),
                _ => {}
            }
        }
    }

    /// Decodes a field that occurs exactly once.
    #[inline]
    pub fn one<T: Decode>(&mut self, el: &Elem<'_>, slot: &mut T) -> Result<(), DecodeError> {
        *slot = T::decode(self, el)?;
        Ok(())
    }

    /// Decodes an optional field.
    #[inline]
    pub fn opt<T: Decode>(
        &mut self,
        el: &Elem<'_>,
        slot: &mut Option<T>,
    ) -> Result<(), DecodeError> {
        *slot = Some(T::decode(self, el)?);
        Ok(())
    }

    /// Decodes one occurrence of a repeated field.
    #[inline]
    pub fn many<T: Decode>(&mut self, el: &Elem<'_>, slot: &mut Vec<T>) -> Result<(), DecodeError> {
        slot.push(T::decode(self, el)?);
        Ok(())
    }

    /// Decodes a boxed field that occurs exactly once (recursive types).
    #[inline]
    pub fn boxed<T: Decode>(
        &mut self,
        el: &Elem<'_>,
        slot: &mut Box<T>,
    ) -> Result<(), DecodeError> {
        **slot = T::decode(self, el)?;
        Ok(())
    }

    /// Decodes an optional boxed field (recursive types).
    #[inline]
    pub fn opt_boxed<T: Decode>(
        &mut self,
        el: &Elem<'_>,
        slot: &mut Option<Box<T>>,
    ) -> Result<(), DecodeError> {
        *slot = Some(Box::new(T::decode(self, el)?));
        Ok(())
    }

    /// Reads `el`'s text and parses it with `parse`, naming `ty` if it fails.
    pub fn parse_text<T>(
        &mut self,
        el: &Elem<'_>,
        ty: &'static str,
        parse: impl FnOnce(&str) -> Option<T>,
    ) -> Result<T, DecodeError> {
        let text = self.text(el)?;
        parse(text.trim()).ok_or_else(|| DecodeError::Value {
            ty,
            value: truncate(&text),
            element: el.name_str(),
            pos: el.offset,
        })
    }
}

/// Bytes the leaf fast path accepts in an element name: anything but whitespace and the
/// characters that would make the tag something other than a plain start tag.
static LEAF_NAME: [bool; 256] = {
    let mut t = [true; 256];
    let reject = b" \t\r\n/<>\"'=&!?";
    let mut i = 0;
    while i < reject.len() {
        t[reject[i] as usize] = false;
        i += 1;
    }
    t
};

/// Where the start tag whose attributes begin at `i` ends: the index of its first `>` outside
/// quotes. `None` (leave it to the reader) for a self-closing tag, a namespace declaration
/// (it opens a scope), a `<` outside quotes, or no `>` at all.
#[inline]
fn attributes_end(b: &[u8], mut i: usize) -> Option<usize> {
    let mut quote = 0u8;
    while let Some(&c) = b.get(i) {
        if quote != 0 {
            if c == quote {
                quote = 0;
            }
        } else {
            match c {
                b'>' => return (b[i - 1] != b'/').then_some(i),
                b'"' | b'\'' => quote = c,
                b'<' => return None,
                b'x' if b[i..].starts_with(b"xmlns") => return None,
                _ => {}
            }
        }
        i += 1;
    }
    None
}

/// The length of the text at the start of `b` up to the next `<`; `None` at a reference
/// (`&`) or the end of the input. Leaf texts are short: a plain loop, then `memchr` for long
/// ones.
#[inline]
fn text_end(b: &[u8]) -> Option<usize> {
    const SHORT: usize = 32;
    for (i, &c) in b.iter().take(SHORT).enumerate() {
        match c {
            b'<' => return Some(i),
            b'&' => return None,
            _ => {}
        }
    }
    if b.len() <= SHORT {
        return None;
    }
    let i = SHORT + memchr::memchr2(b'<', b'&', &b[SHORT..])?;
    (b[i] == b'<').then_some(i)
}

/// A value that can be read from an element.
pub trait Decode: Sized {
    /// Decodes the element `el`, whose start tag has just been read, consuming it to its end tag.
    fn decode(r: &mut Decoder<'_>, el: &Elem<'_>) -> Result<Self, DecodeError>;
}

#[inline]
fn text_bytes(t: BytesText<'_>) -> Cow<'_, [u8]> {
    t.into_inner()
}

fn is_blank(t: &[u8]) -> bool {
    t.iter().all(u8::is_ascii_whitespace)
}

fn append<'i>(out: &mut Cow<'i, str>, s: Cow<'i, str>) {
    if out.is_empty() {
        *out = s;
    } else {
        out.to_mut().push_str(&s);
    }
}

fn resolve_ref(r: &quick_xml::events::BytesRef<'_>, pos: usize) -> Result<char, DecodeError> {
    if r.is_char_ref() {
        return match r.resolve_char_ref() {
            Ok(Some(c)) => Ok(c),
            _ => Err(DecodeError::Entity {
                name: String::from_utf8_lossy(r).into_owned(),
                pos,
            }),
        };
    }
    match &**r {
        b"lt" => Ok('<'),
        b"gt" => Ok('>'),
        b"amp" => Ok('&'),
        b"apos" => Ok('\''),
        b"quot" => Ok('"'),
        other => Err(DecodeError::Entity {
            name: String::from_utf8_lossy(other).into_owned(),
            pos,
        }),
    }
}

pub(crate) fn truncate(s: &str) -> String {
    const MAX: usize = 64;
    if s.len() <= MAX {
        s.to_owned()
    } else {
        let mut end = MAX;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}…", &s[..end])
    }
}
