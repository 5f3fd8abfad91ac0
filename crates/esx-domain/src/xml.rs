//! A small element tree on top of xml-rs, a checked reader that reports unknown attributes and
//! elements, and a writer that formats the way libvirt does (2-space indent, single quotes).

use std::cell::RefCell;
use std::str::FromStr;

use ::xml::common::Position;
use ::xml::reader::{ParserConfig, XmlEvent};

use crate::error::{DomainXmlError, Result};

/// One parsed XML element with its attributes, text and child elements.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Element {
    /// Local name, prefixed as `prefix:name` when the element has a namespace prefix.
    pub name: String,
    /// Namespace URI of the element, if any.
    pub namespace: Option<String>,
    /// Attributes in document order (`prefix:name` when prefixed).
    pub attrs: Vec<(String, String)>,
    /// Concatenated character data directly inside the element.
    pub text: String,
    /// Child elements in document order.
    pub children: Vec<Element>,
    /// 1-based line of the start tag.
    pub line: u64,
}

impl Element {
    /// Parse a whole document and return its root element.
    pub fn parse(text: &str) -> Result<Element> {
        let config = ParserConfig::new()
            .trim_whitespace(false)
            .whitespace_to_characters(true)
            .cdata_to_characters(true)
            .ignore_comments(true)
            .coalesce_characters(true);
        let mut reader = config.create_reader(text.as_bytes());
        let mut stack: Vec<Element> = Vec::new();
        loop {
            let line = reader.position().row + 1;
            let event = reader.next().map_err(|e| DomainXmlError::Malformed {
                line: e.position().row + 1,
                message: e.msg().to_string(),
            })?;
            match event {
                XmlEvent::StartElement {
                    name, attributes, ..
                } => {
                    let line = reader.position().row + 1;
                    let qualified = match &name.prefix {
                        Some(p) => format!("{p}:{}", name.local_name),
                        None => name.local_name.clone(),
                    };
                    let attrs = attributes
                        .into_iter()
                        .map(|a| {
                            let n = match &a.name.prefix {
                                Some(p) => format!("{p}:{}", a.name.local_name),
                                None => a.name.local_name,
                            };
                            (n, a.value)
                        })
                        .collect();
                    stack.push(Element {
                        name: qualified,
                        namespace: name.namespace.clone(),
                        attrs,
                        text: String::new(),
                        children: Vec::new(),
                        line,
                    });
                }
                XmlEvent::EndElement { .. } => {
                    let done = stack.pop().ok_or_else(|| DomainXmlError::Malformed {
                        line,
                        message: "unbalanced end tag".into(),
                    })?;
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(done),
                        None => return Ok(done),
                    }
                }
                XmlEvent::Characters(s) | XmlEvent::CData(s) | XmlEvent::Whitespace(s) => {
                    if let Some(top) = stack.last_mut() {
                        top.text.push_str(&s);
                    }
                }
                XmlEvent::EndDocument => {
                    return Err(DomainXmlError::Malformed {
                        line,
                        message: "document has no root element".into(),
                    })
                }
                _ => {}
            }
        }
    }
}

/// A read-only view of an [`Element`] that remembers which attributes and children were used,
/// so that [`Checked::finish`] can report anything the model did not understand.
pub(crate) struct Checked<'a> {
    el: &'a Element,
    used_attrs: RefCell<Vec<bool>>,
    used_children: RefCell<Vec<bool>>,
}

impl<'a> Checked<'a> {
    pub(crate) fn new(el: &'a Element) -> Self {
        Checked {
            el,
            used_attrs: RefCell::new(vec![false; el.attrs.len()]),
            used_children: RefCell::new(vec![false; el.children.len()]),
        }
    }

    /// 1-based line of the element.
    pub(crate) fn line(&self) -> u64 {
        self.el.line
    }

    /// The underlying element.
    pub(crate) fn element(&self) -> &'a Element {
        self.el
    }

    /// An attribute value, marking it understood.
    pub(crate) fn attr(&self, name: &str) -> Option<&'a str> {
        let pos = self.el.attrs.iter().position(|(n, _)| n == name)?;
        if let Some(flag) = self.used_attrs.borrow_mut().get_mut(pos) {
            *flag = true;
        }
        self.el.attrs.get(pos).map(|(_, v)| v.as_str())
    }

    /// An attribute as an owned string.
    pub(crate) fn attr_string(&self, name: &str) -> Option<String> {
        self.attr(name).map(str::to_string)
    }

    /// A required attribute.
    pub(crate) fn req_attr(&self, name: &str) -> Result<&'a str> {
        self.attr(name)
            .ok_or_else(|| DomainXmlError::MissingAttribute {
                attribute: name.into(),
                element: self.el.name.clone(),
                line: self.el.line,
            })
    }

    /// An attribute parsed with `FromStr`.
    pub(crate) fn attr_parse<T: FromStr>(&self, name: &str) -> Result<Option<T>> {
        match self.attr(name) {
            None => Ok(None),
            Some(v) => v
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| DomainXmlError::InvalidValue {
                    value: v.into(),
                    what: format!("attribute '{name}' of <{}>", self.el.name),
                    line: self.el.line,
                    reason: "not a valid number".into(),
                }),
        }
    }

    /// A `yes`/`no` attribute.
    pub(crate) fn attr_yes_no(&self, name: &str) -> Result<Option<bool>> {
        match self.attr(name) {
            None => Ok(None),
            Some("yes") => Ok(Some(true)),
            Some("no") => Ok(Some(false)),
            Some(v) => {
                Err(self.invalid(v, &format!("attribute '{name}'"), "expected 'yes' or 'no'"))
            }
        }
    }

    /// Build an [`DomainXmlError::InvalidValue`] for this element.
    pub(crate) fn invalid(&self, value: &str, what: &str, reason: &str) -> DomainXmlError {
        DomainXmlError::InvalidValue {
            value: value.into(),
            what: format!("{what} of <{}>", self.el.name),
            line: self.el.line,
            reason: reason.into(),
        }
    }

    /// The element's text content.
    pub(crate) fn text(&self) -> &'a str {
        &self.el.text
    }

    /// The text parsed with `FromStr` (surrounding whitespace ignored).
    pub(crate) fn text_parse<T: FromStr>(&self) -> Result<T> {
        self.el
            .text
            .trim()
            .parse()
            .map_err(|_| DomainXmlError::InvalidValue {
                value: self.el.text.clone(),
                what: format!("<{}>", self.el.name),
                line: self.el.line,
                reason: "not a valid number".into(),
            })
    }

    /// The first child with this name, marking it understood.
    pub(crate) fn child(&self, name: &str) -> Option<Checked<'a>> {
        let pos = self.el.children.iter().position(|c| c.name == name)?;
        if let Some(flag) = self.used_children.borrow_mut().get_mut(pos) {
            *flag = true;
        }
        self.el.children.get(pos).map(Checked::new)
    }

    /// The text of the first child with this name.
    pub(crate) fn child_text(&self, name: &str) -> Option<String> {
        self.child(name).map(|c| c.text().to_string())
    }

    /// Whether a child with this name exists (marking it understood).
    pub(crate) fn has_child(&self, name: &str) -> Result<bool> {
        match self.child(name) {
            Some(c) => {
                c.finish()?;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// All children with this name, marking them understood.
    pub(crate) fn children(&self, name: &str) -> Vec<Checked<'a>> {
        let mut out = Vec::new();
        let mut used = self.used_children.borrow_mut();
        for (i, c) in self.el.children.iter().enumerate() {
            if c.name == name {
                if let Some(flag) = used.get_mut(i) {
                    *flag = true;
                }
                out.push(Checked::new(c));
            }
        }
        out
    }

    /// All children not yet marked understood (in order), marking them now.
    pub(crate) fn take_rest(&self) -> Vec<&'a Element> {
        let mut out = Vec::new();
        let mut used = self.used_children.borrow_mut();
        for (i, c) in self.el.children.iter().enumerate() {
            if let Some(flag) = used.get_mut(i) {
                if !*flag {
                    *flag = true;
                    out.push(c);
                }
            }
        }
        out
    }

    /// Fail on the first attribute or child element that was never looked at.
    pub(crate) fn finish(&self) -> Result<()> {
        for (i, used) in self.used_attrs.borrow().iter().enumerate() {
            if !used {
                if let Some((name, _)) = self.el.attrs.get(i) {
                    return Err(DomainXmlError::UnknownAttribute {
                        attribute: name.clone(),
                        element: self.el.name.clone(),
                        line: self.el.line,
                    });
                }
            }
        }
        for (i, used) in self.used_children.borrow().iter().enumerate() {
            if !used {
                if let Some(c) = self.el.children.get(i) {
                    return Err(DomainXmlError::UnknownElement {
                        element: c.name.clone(),
                        parent: self.el.name.clone(),
                        line: c.line,
                    });
                }
            }
        }
        Ok(())
    }
}

/// Escape text or an attribute value the way libvirt's formatter does (`virBufferEscapeString`):
/// the five markup characters become entities, and control characters that XML 1.0 does not
/// allow (everything below U+0020 except tab, newline and carriage return, which is written
/// `&#13;` so that it reads back as itself) are left out, so
/// names read from a VMX file can never make the document malformed. U+FFFE and U+FFFF, also
/// not XML characters, are left out as well.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\'' => out.push_str("&apos;"),
            '"' => out.push_str("&quot;"),
            // A raw carriage return would read back as a newline (XML's line-end handling).
            '\r' => out.push_str("&#13;"),
            '\t' | '\n' => out.push(c),
            c if c < ' ' || c == '\u{fffe}' || c == '\u{ffff}' => {}
            c => out.push(c),
        }
    }
    out
}

/// Attribute list under construction: `None` values are left out.
pub(crate) type Attrs<'a> = Vec<(&'a str, Option<String>)>;

/// An indenting writer producing libvirt's layout.
#[derive(Debug)]
pub(crate) struct Writer {
    pub(crate) buf: String,
    indent: usize,
    /// libvirt's `VIR_DOMAIN_DEF_FORMAT_SECURE`: secrets (VNC passwords) are written.
    pub(crate) secure: bool,
}

impl Default for Writer {
    fn default() -> Self {
        Writer::new(0)
    }
}

impl Writer {
    pub(crate) fn new(indent: usize) -> Self {
        Writer {
            buf: String::new(),
            indent,
            secure: true,
        }
    }

    /// A writer for the children of an element written by this one.
    pub(crate) fn nested(&self) -> Writer {
        Writer {
            buf: String::new(),
            indent: self.indent + 2,
            secure: self.secure,
        }
    }

    fn start(&mut self, name: &str, attrs: &Attrs<'_>) {
        for _ in 0..self.indent {
            self.buf.push(' ');
        }
        self.buf.push('<');
        self.buf.push_str(name);
        for (n, v) in attrs {
            if let Some(v) = v {
                self.buf.push(' ');
                self.buf.push_str(n);
                self.buf.push_str("='");
                self.buf.push_str(&escape(v));
                self.buf.push('\'');
            }
        }
    }

    /// `<name attrs/>`.
    pub(crate) fn empty(&mut self, name: &str, attrs: Attrs<'_>) {
        self.start(name, &attrs);
        self.buf.push_str("/>\n");
    }

    /// `<name attrs>text</name>`.
    pub(crate) fn text(&mut self, name: &str, attrs: Attrs<'_>, text: &str) {
        self.start(name, &attrs);
        self.buf.push('>');
        self.buf.push_str(&escape(text));
        self.buf.push_str("</");
        self.buf.push_str(name);
        self.buf.push_str(">\n");
    }

    /// `<name attrs>` + children + `</name>`, or `<name attrs/>` when there are no children.
    pub(crate) fn elem(&mut self, name: &str, attrs: Attrs<'_>, children: Writer) {
        if children.buf.is_empty() {
            self.empty(name, attrs);
            return;
        }
        self.start(name, &attrs);
        self.buf.push_str(">\n");
        self.buf.push_str(&children.buf);
        for _ in 0..self.indent {
            self.buf.push(' ');
        }
        self.buf.push_str("</");
        self.buf.push_str(name);
        self.buf.push_str(">\n");
    }

    /// Like [`Writer::elem`] but writes nothing at all when there are no children and no
    /// attributes.
    pub(crate) fn elem_opt(&mut self, name: &str, attrs: Attrs<'_>, children: Writer) {
        if children.buf.is_empty() && attrs.iter().all(|(_, v)| v.is_none()) {
            return;
        }
        self.elem(name, attrs, children);
    }

    /// Write a preserved element verbatim (re-indented).
    pub(crate) fn raw(&mut self, el: &Element) {
        let attrs: Attrs<'_> = el
            .attrs
            .iter()
            .map(|(n, v)| (n.as_str(), Some(v.clone())))
            .collect();
        if el.children.is_empty() {
            if el.text.trim().is_empty() {
                self.empty(&el.name, attrs);
            } else {
                self.text(&el.name, attrs, &el.text);
            }
            return;
        }
        let mut inner = self.nested();
        for c in &el.children {
            inner.raw(c);
        }
        self.elem(&el.name, attrs, inner);
    }
}

/// Helper building an attribute entry that is always present.
pub(crate) fn a(name: &str, value: impl ToString) -> (&str, Option<String>) {
    (name, Some(value.to_string()))
}

/// Helper building an optional attribute entry.
pub(crate) fn ao<T: ToString>(name: &str, value: Option<T>) -> (&str, Option<String>) {
    (name, value.map(|v| v.to_string()))
}

/// `yes`/`no` for a boolean attribute.
pub(crate) fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_tree_with_lines() {
        let e = Element::parse("<a x='1'>\n  <b>t&amp;</b>\n</a>").unwrap();
        assert_eq!(e.name, "a");
        assert_eq!(e.children[0].text, "t&");
        assert_eq!(e.children[0].line, 2);
    }

    #[test]
    fn unknown_attribute_is_reported() {
        let e = Element::parse("<a x='1' y='2'/>").unwrap();
        let c = Checked::new(&e);
        assert_eq!(c.attr("x"), Some("1"));
        let err = c.finish().unwrap_err();
        assert!(err.to_string().contains("'y'"), "{err}");
    }

    #[test]
    fn malformed_is_an_error() {
        assert!(Element::parse("<a><b></a>").is_err());
        assert!(Element::parse("").is_err());
    }

    #[test]
    fn escapes_like_libvirt() {
        assert_eq!(escape("a<'\">&"), "a&lt;&apos;&quot;&gt;&amp;");
    }

    /// Found by fuzzing domain_xml: a raw carriage return in a name was written raw and read
    /// back as a newline, so formatting was not a fixed point.
    #[test]
    fn carriage_returns_survive_a_round_trip() {
        assert_eq!(escape("a\rb\r\nc"), "a&#13;b&#13;\nc");
        let dom = crate::Domain::from_xml(
            "<domain type='vmware'><name>a&#13;b</name><memory>1024</memory><vcpu>1</vcpu>\
             <os><type>hvm</type></os></domain>",
        )
        .unwrap();
        assert_eq!(dom.name.as_deref(), Some("a\rb"));
        let xml = dom.to_xml();
        assert_eq!(crate::Domain::from_xml(&xml).unwrap().to_xml(), xml);
    }

    /// Found by fuzzing vmx_to_domain: a VMX displayName holding NUL bytes gave a document
    /// xml-rs (and xmllint) reject.
    #[test]
    fn drops_characters_xml_does_not_allow() {
        assert_eq!(escape("t\0\u{1}\u{1f}est"), "test");
        assert_eq!(escape("a\tb\nc\rd"), "a\tb\nc&#13;d");
        assert_eq!(escape("x\u{fffe}\u{ffff}\u{fffd}"), "x\u{fffd}");
        let doc = format!("<a b='{}'>{}</a>", escape("\u{7}q"), escape("\0r"));
        assert!(Element::parse(&doc).is_ok(), "{doc:?}");
    }
}
