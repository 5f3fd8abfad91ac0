//! The statement grammar of `.vmx` files (libvirt's `virConf` in VMX mode), cut into items.
//!
//! An *item* is a run of whole physical lines: a blank line, a comment line, or one or more
//! statements (`name = "value"`, optionally followed by `# comment`, joined by `;` on one
//! line) whose last line terminator ends the item. A `"""` value may span several lines and
//! keeps them in one item. All offsets are byte offsets into the text handed to [`parse_items`];
//! every offset sits on an ASCII byte or at the end, so it is a valid `str` boundary.

use std::ops::Range;

/// How a value is quoted in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Quote {
    /// `"value"`: no `"` and no line break inside.
    Double,
    /// `'value'`: no `'` and no line break inside.
    Single,
    /// `"""value"""`: may span lines; no `"""` inside and no trailing `"`.
    Triple,
}

impl Quote {
    /// The delimiter written before and after the value.
    pub fn delimiter(self) -> &'static str {
        match self {
            Quote::Double => "\"",
            Quote::Single => "'",
            Quote::Triple => "\"\"\"",
        }
    }

    /// Whether `value` can be written between this quote's delimiters and read back unchanged.
    pub fn can_hold(self, value: &str) -> bool {
        let has_eol = value.contains(['\n', '\r']);
        match self {
            Quote::Double => !has_eol && !value.contains('"'),
            Quote::Single => !has_eol && !value.contains('\''),
            Quote::Triple => !value.contains("\"\"\"") && !value.ends_with('"'),
        }
    }

    /// `preferred` if it can hold `value`, else the first of `"`, `'`, `"""` that can.
    pub fn for_value(preferred: Quote, value: &str) -> Option<Quote> {
        [preferred, Quote::Double, Quote::Single, Quote::Triple]
            .into_iter()
            .find(|q| q.can_hold(value))
    }
}

/// What was wrong at a syntax error (libvirt's texts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SyntaxErrorKind {
    /// A statement does not start with a letter or `.`.
    ExpectingName,
    /// The name is not followed by `=`.
    ExpectingAssignment,
    /// Nothing usable follows `=`.
    ExpectingValue,
    /// An unquoted number (`key = 1`): VMX values must be quoted.
    NumbersNotAllowed,
    /// A list (`key = [ ... ]`): VMX has no lists.
    ListsNotAllowed,
    /// A quoted value has no closing quote (on its line, or for `"""` in the file).
    UnterminatedString,
    /// Something other than a comment, `;` or a line break follows a value.
    ExpectingSeparator,
}

impl std::fmt::Display for SyntaxErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SyntaxErrorKind::ExpectingName => "expecting a name",
            SyntaxErrorKind::ExpectingAssignment => "expecting an assignment",
            SyntaxErrorKind::ExpectingValue => "expecting a value",
            SyntaxErrorKind::NumbersNotAllowed => "numbers not allowed in VMX format",
            SyntaxErrorKind::ListsNotAllowed => "lists not allowed in VMX format",
            SyntaxErrorKind::UnterminatedString => "unterminated string",
            SyntaxErrorKind::ExpectingSeparator => "expecting a separator",
        })
    }
}

/// A syntax error at a byte offset; the caller turns the offset into a line number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawSyntaxError {
    pub offset: usize,
    pub key: Option<String>,
    pub kind: SyntaxErrorKind,
}

/// One `name = value` statement inside an item (offsets relative to the parsed text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EntrySpan {
    /// The name as written.
    pub key: Range<usize>,
    /// The value between the quotes.
    pub value: Range<usize>,
    /// The quoting used.
    pub quote: Quote,
    /// From the name to the next statement, or to the end of the line's content.
    pub stmt: Range<usize>,
}

impl EntrySpan {
    fn shifted(&self, by: usize) -> EntrySpan {
        EntrySpan {
            key: self.key.start + by..self.key.end + by,
            value: self.value.start + by..self.value.end + by,
            quote: self.quote,
            stmt: self.stmt.start + by..self.stmt.end + by,
        }
    }
}

/// A parsed item: its byte range and its statements (offsets relative to the item start).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParsedItem {
    pub range: Range<usize>,
    pub entries: Vec<EntrySpan>,
}

/// Whether `key` is a valid VMX name: a letter or `.`, then letters, digits, `_ : . * -`
/// (`*` as in `pciPassthru*.present`, which VMware writes).
pub fn is_valid_key(key: &str) -> bool {
    let bytes = key.as_bytes();
    match bytes.first() {
        Some(&first) if first.is_ascii_alphabetic() || first == b'.' => {
            bytes.iter().skip(1).all(|&b| is_name_byte(b))
        }
        _ => false,
    }
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b':' | b'.' | b'*' | b'-')
}

fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

fn is_eol(b: u8) -> bool {
    b == b'\n' || b == b'\r'
}

/// Number of line terminators in `text` (`\r\n`, `\n` and a lone `\r` count once).
pub(crate) fn count_line_breaks(text: &[u8]) -> usize {
    let mut n = 0;
    let mut i = 0;
    while let Some(&b) = text.get(i) {
        if b == b'\n' {
            n += 1;
        } else if b == b'\r' {
            n += 1;
            if text.get(i + 1) == Some(&b'\n') {
                i += 1;
            }
        }
        i += 1;
    }
    n
}

struct Cursor<'a> {
    b: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.b.len()
    }

    fn at_eol(&self) -> bool {
        self.peek().is_some_and(is_eol)
    }

    fn starts_with(&self, s: &[u8]) -> bool {
        self.b
            .get(self.pos..)
            .is_some_and(|rest| rest.starts_with(s))
    }

    fn skip_blanks(&mut self) {
        while self.peek().is_some_and(is_blank) {
            self.pos += 1;
        }
    }

    fn skip_to_eol(&mut self) {
        while self.peek().is_some_and(|b| !is_eol(b)) {
            self.pos += 1;
        }
    }

    /// Consumes one line terminator (`\r\n` counts as one).
    fn eat_eol(&mut self) {
        match self.peek() {
            Some(b'\r') => {
                self.pos += 1;
                if self.peek() == Some(b'\n') {
                    self.pos += 1;
                }
            }
            Some(b'\n') => self.pos += 1,
            _ => {}
        }
    }
}

/// Cuts `text` into items and parses their statements.
pub(crate) fn parse_items(text: &str) -> Result<Vec<ParsedItem>, RawSyntaxError> {
    let mut c = Cursor {
        b: text.as_bytes(),
        pos: 0,
    };
    let mut items = Vec::new();
    while !c.at_end() {
        let start = c.pos;
        let entries = parse_item(&mut c, text)?;
        let entries = entries.iter().map(|e| e.shifted_back(start)).collect();
        items.push(ParsedItem {
            range: start..c.pos,
            entries,
        });
    }
    Ok(items)
}

/// Parses a text that was one item (or a few) and returns all statements, offsets relative
/// to the text.
pub(crate) fn parse_entries(text: &str) -> Result<Vec<EntrySpan>, RawSyntaxError> {
    Ok(parse_items(text)?
        .into_iter()
        .flat_map(|item| {
            let base = item.range.start;
            item.entries.into_iter().map(move |e| e.shifted(base))
        })
        .collect())
}

impl EntrySpan {
    fn shifted_back(&self, by: usize) -> EntrySpan {
        EntrySpan {
            key: self.key.start - by..self.key.end - by,
            value: self.value.start - by..self.value.end - by,
            quote: self.quote,
            stmt: self.stmt.start - by..self.stmt.end - by,
        }
    }
}

fn parse_item(c: &mut Cursor<'_>, text: &str) -> Result<Vec<EntrySpan>, RawSyntaxError> {
    c.skip_blanks();
    if c.at_end() {
        return Ok(Vec::new());
    }
    if c.at_eol() {
        c.eat_eol();
        return Ok(Vec::new());
    }
    if c.peek() == Some(b'#') {
        c.skip_to_eol();
        c.eat_eol();
        return Ok(Vec::new());
    }
    let mut entries = Vec::new();
    loop {
        let entry = parse_statement(c, text)?;
        let key_name = || text.get(entry.0.clone()).map(str::to_owned);
        let (key, value, quote) = entry.clone();
        let stmt_start = key.start;
        let push = |entries: &mut Vec<EntrySpan>, end: usize| {
            entries.push(EntrySpan {
                key: key.clone(),
                value: value.clone(),
                quote,
                stmt: stmt_start..end,
            })
        };
        // Separator: end of text, a line break, or `;`.
        c.skip_blanks();
        if c.at_end() {
            push(&mut entries, c.pos);
            return Ok(entries);
        }
        if c.at_eol() {
            push(&mut entries, c.pos);
            c.eat_eol();
            return Ok(entries);
        }
        if c.peek() != Some(b';') {
            return Err(RawSyntaxError {
                offset: c.pos,
                key: key_name(),
                kind: SyntaxErrorKind::ExpectingSeparator,
            });
        }
        c.pos += 1;
        c.skip_blanks();
        if c.at_end() {
            push(&mut entries, c.pos);
            return Ok(entries);
        }
        if c.at_eol() {
            push(&mut entries, c.pos);
            c.eat_eol();
            return Ok(entries);
        }
        push(&mut entries, c.pos);
        if c.peek() == Some(b'#') {
            c.skip_to_eol();
            c.eat_eol();
            return Ok(entries);
        }
    }
}

/// Parses `name = value [# comment]`; returns the name, value and quote.
fn parse_statement(
    c: &mut Cursor<'_>,
    text: &str,
) -> Result<(Range<usize>, Range<usize>, Quote), RawSyntaxError> {
    let key_start = c.pos;
    match c.peek() {
        Some(b) if b.is_ascii_alphabetic() || b == b'.' => c.pos += 1,
        _ => {
            return Err(RawSyntaxError {
                offset: c.pos,
                key: None,
                kind: SyntaxErrorKind::ExpectingName,
            })
        }
    }
    while c.peek().is_some_and(is_name_byte) {
        c.pos += 1;
    }
    let key = key_start..c.pos;
    let err = |offset: usize, kind| RawSyntaxError {
        offset,
        key: text.get(key.clone()).map(str::to_owned),
        kind,
    };
    c.skip_blanks();
    if c.peek() != Some(b'=') {
        return Err(err(c.pos, SyntaxErrorKind::ExpectingAssignment));
    }
    c.pos += 1;
    c.skip_blanks();
    let open = c.pos;
    let (value, quote) = match c.peek() {
        None => return Err(err(c.pos, SyntaxErrorKind::ExpectingValue)),
        Some(b'"') if c.pos + 6 < c.b.len() && c.starts_with(b"\"\"\"") => {
            c.pos += 3;
            let start = c.pos;
            while c.pos + 2 < c.b.len() && !c.starts_with(b"\"\"\"") {
                c.pos += 1;
            }
            if !c.starts_with(b"\"\"\"") {
                return Err(err(open, SyntaxErrorKind::UnterminatedString));
            }
            let value = start..c.pos;
            c.pos += 3;
            (value, Quote::Triple)
        }
        Some(q @ (b'"' | b'\'')) => {
            c.pos += 1;
            let start = c.pos;
            while c.peek().is_some_and(|b| b != q && !is_eol(b)) {
                c.pos += 1;
            }
            if c.peek() != Some(q) {
                return Err(err(open, SyntaxErrorKind::UnterminatedString));
            }
            let value = start..c.pos;
            c.pos += 1;
            let quote = if q == b'"' {
                Quote::Double
            } else {
                Quote::Single
            };
            (value, quote)
        }
        Some(b'[') => return Err(err(c.pos, SyntaxErrorKind::ListsNotAllowed)),
        Some(b) if b.is_ascii_digit() || b == b'-' || b == b'+' => {
            return Err(err(c.pos, SyntaxErrorKind::NumbersNotAllowed))
        }
        Some(_) => return Err(err(c.pos, SyntaxErrorKind::ExpectingValue)),
    };
    c.skip_blanks();
    if c.peek() == Some(b'#') {
        c.skip_to_eol();
    }
    Ok((key, value, quote))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> SyntaxErrorKind {
        match parse_items(text) {
            Err(e) => e.kind,
            Ok(items) => panic!("expected an error for {text:?}, got {items:?}"),
        }
    }

    #[test]
    fn items_are_whole_lines() {
        let text =
            "#!/usr/bin/vmware\n\n  a = \"1\"\r\nb='2' # note\nc = \"\"\"x\ny\"\"\"\nd = \"4\"";
        let items = parse_items(text).unwrap();
        let pieces: Vec<&str> = items.iter().map(|i| &text[i.range.clone()]).collect();
        assert_eq!(
            pieces,
            [
                "#!/usr/bin/vmware\n",
                "\n",
                "  a = \"1\"\r\n",
                "b='2' # note\n",
                "c = \"\"\"x\ny\"\"\"\n",
                "d = \"4\""
            ]
        );
        let c = &items[4];
        let piece = pieces[4];
        assert_eq!(&piece[c.entries[0].value.clone()], "x\ny");
        assert_eq!(c.entries[0].quote, Quote::Triple);
        assert_eq!(&pieces[3][items[3].entries[0].stmt.clone()], "b='2' # note");
    }

    #[test]
    fn several_statements_on_one_line() {
        let text = "a = \"1\"; b = \"2\" ;\n";
        let items = parse_items(text).unwrap();
        assert_eq!(items.len(), 1);
        let e = &items[0].entries;
        assert_eq!(e.len(), 2);
        assert_eq!(&text[e[0].stmt.clone()], "a = \"1\"; ");
        assert_eq!(&text[e[1].stmt.clone()], "b = \"2\" ;");
    }

    #[test]
    fn errors_match_libvirt() {
        assert_eq!(kinds("a = 1\n"), SyntaxErrorKind::NumbersNotAllowed);
        assert_eq!(kinds("a = -1\n"), SyntaxErrorKind::NumbersNotAllowed);
        assert_eq!(kinds("a = [\"1\"]\n"), SyntaxErrorKind::ListsNotAllowed);
        assert_eq!(kinds("a = x\n"), SyntaxErrorKind::ExpectingValue);
        assert_eq!(kinds("a = "), SyntaxErrorKind::ExpectingValue);
        assert_eq!(kinds("a \"1\"\n"), SyntaxErrorKind::ExpectingAssignment);
        assert_eq!(kinds("1a = \"1\"\n"), SyntaxErrorKind::ExpectingName);
        assert_eq!(kinds("_a = \"1\"\n"), SyntaxErrorKind::ExpectingName);
        assert_eq!(kinds("a = \"1\n\"\n"), SyntaxErrorKind::UnterminatedString);
        assert_eq!(kinds("a = '1\n"), SyntaxErrorKind::UnterminatedString);
        assert_eq!(
            kinds("a = \"\"\"1\n2\"\"\n"),
            SyntaxErrorKind::UnterminatedString
        );
        assert_eq!(kinds("a = \"1\" b\n"), SyntaxErrorKind::ExpectingSeparator);
    }

    #[test]
    fn keys_and_quotes() {
        assert!(is_valid_key("scsi0:1.fileName"));
        assert!(is_valid_key(".encoding"));
        assert!(is_valid_key("a-b_c"));
        assert!(is_valid_key("pciPassthru*.present"));
        assert!(!is_valid_key(""));
        assert!(!is_valid_key("0a"));
        assert!(!is_valid_key("a b"));
        assert_eq!(Quote::for_value(Quote::Double, "a\"b"), Some(Quote::Single));
        assert_eq!(
            Quote::for_value(Quote::Double, "a\"'b"),
            Some(Quote::Triple)
        );
        assert_eq!(Quote::for_value(Quote::Double, "a\"'b\""), None);
        assert_eq!(count_line_breaks(b"a\r\nb\nc\rd"), 3);
    }
}
