//! A lossless reader/writer for `.vmx` files.
//!
//! [`VmxFile`] keeps the file as written: comments, blank lines, key order, duplicate keys,
//! the case of every key, the quoting of every value and the line breaks. An unmodified file
//! is written back byte for byte; [`VmxFile::set`] rewrites only the value of one entry and
//! [`VmxFile::remove`] only drops the lines of the removed entries.
//!
//! Lookups follow libvirt: names compare case-insensitively (they are ASCII) and the first of
//! several duplicates wins. The syntax is libvirt's VMX dialect of `virConf`: `name = "value"`
//! per line, names made of letters, digits and `_ : . * -` starting with a letter or `.`, values
//! quoted with `"`, `'` or `"""` (the last may span lines), no backslash escapes, `#` comments
//! on their own line or after a value, and `;` between statements on one line. Unquoted
//! numbers and lists are syntax errors.
//!
//! `.encoding` is honoured when reading bytes; the text in memory is UTF-8 and
//! [`VmxFile::to_bytes`] writes the encoding the file then declares (see there).

mod encoding;
mod escape;
mod syntax;

pub use escape::{
    escape_hex, escape_percent, escape_pipe, unescape_hex, unescape_percent, unescape_pipe,
};
pub use syntax::{is_valid_key, Quote, SyntaxErrorKind};

use encoding::LabelProblem;
use encoding_rs::{Encoding, UTF_8};
use syntax::{count_line_breaks, EntrySpan, RawSyntaxError};

/// The name of the entry that declares the file's character set.
pub const ENCODING_KEY: &str = ".encoding";

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Everything that can go wrong reading a `.vmx` file or one of its values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VmxError {
    /// The text is not valid VMX syntax.
    #[error("VMX syntax error at line {line}{}: {kind}", entry_suffix(.key))]
    Syntax {
        /// 1-based line of the error.
        line: usize,
        /// The entry being read, once its name was parsed.
        key: Option<String>,
        /// What was wrong.
        kind: SyntaxErrorKind,
    },
    /// `.encoding` names no known character set.
    #[error("line {line}: unknown .encoding '{label}'")]
    UnknownEncoding {
        /// 1-based line of the `.encoding` entry.
        line: usize,
        /// The value of `.encoding`.
        label: String,
    },
    /// `.encoding` names a character set that cannot carry VMX syntax (not ASCII-compatible).
    #[error("line {line}: unsupported .encoding '{label}' (not ASCII-compatible)")]
    UnsupportedEncoding {
        /// 1-based line of the `.encoding` entry.
        line: usize,
        /// The value of `.encoding`.
        label: String,
    },
    /// A required entry is absent (libvirt's text).
    #[error("Missing essential config entry '{key}'")]
    Missing {
        /// The entry that was looked up.
        key: String,
    },
    /// An entry is neither `true` nor `false` (libvirt's text).
    #[error("Config entry '{key}' must represent a boolean value (true|false)")]
    NotBoolean {
        /// The entry as looked up.
        key: String,
        /// 1-based line of the entry.
        line: usize,
        /// The offending value.
        value: String,
    },
    /// An entry is not a base-10 integer nor `unlimited` (libvirt's text).
    #[error("Config entry '{key}' must represent an integer value")]
    NotInteger {
        /// The entry as looked up.
        key: String,
        /// 1-based line of the entry.
        line: usize,
        /// The offending value.
        value: String,
    },
    /// A name given to [`VmxFile::try_set`] is not a valid VMX name.
    #[error("'{key}' is not a valid VMX entry name")]
    InvalidKey {
        /// The rejected name.
        key: String,
    },
    /// A value given to [`VmxFile::try_set`] cannot be quoted in any VMX style.
    #[error("the value for entry '{key}' contains both quote kinds and cannot be quoted")]
    UnrepresentableValue {
        /// The entry being set.
        key: String,
    },
    /// An escape character is not followed by two hex digits.
    #[error("invalid escape sequence at byte {offset} of '{value}': '{escape}' must be followed by two hex digits")]
    InvalidEscape {
        /// The escape character (`|` or `%`).
        escape: char,
        /// Byte offset of the escape character in `value`.
        offset: usize,
        /// The escaped text.
        value: String,
    },
    /// The escape sequences decode to bytes that are not UTF-8.
    #[error("escape sequences in '{value}' do not decode to UTF-8")]
    EscapeNotUtf8 {
        /// The escaped text.
        value: String,
    },
}

fn entry_suffix(key: &Option<String>) -> String {
    key.as_ref()
        .map(|k| format!(", entry '{k}'"))
        .unwrap_or_default()
}

/// One run of whole lines: blank, comment, or statements.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Item {
    /// The item's text, line terminator(s) included.
    text: String,
    /// The original bytes, while the item is unmodified.
    raw: Option<Vec<u8>>,
    /// The statements, offsets relative to `text`.
    entries: Vec<EntrySpan>,
}

impl Item {
    fn from_text(text: String) -> Item {
        let entries = syntax::parse_entries(&text).unwrap_or_default();
        Item {
            text,
            raw: None,
            entries,
        }
    }

    fn key(&self, span: &EntrySpan) -> &str {
        self.text.get(span.key.clone()).unwrap_or_default()
    }

    fn value(&self, span: &EntrySpan) -> &str {
        self.text.get(span.value.clone()).unwrap_or_default()
    }

    /// Replaces `range` of the text and re-reads the statements.
    fn splice(&mut self, range: std::ops::Range<usize>, with: &str) {
        if self.text.get(range.clone()).is_none() {
            return;
        }
        self.text.replace_range(range, with);
        self.raw = None;
        self.entries = syntax::parse_entries(&self.text).unwrap_or_default();
    }
}

/// A `.vmx` file, kept losslessly. See the [module docs](self).
///
/// ```
/// use esx_vmx::VmxFile;
///
/// let mut vmx = VmxFile::parse_str("# test\nmemSize = \"512\"\ndisplayName = 'vm'\n")?;
/// assert_eq!(vmx.get("memsize"), Some("512"));
/// assert_eq!(vmx.get_int("MEMSIZE")?, Some(512));
/// vmx.set("memsize", "1024");
/// vmx.set("numvcpus", "2");
/// assert_eq!(
///     vmx.to_string(),
///     "# test\nmemSize = \"1024\"\ndisplayName = 'vm'\nnumvcpus = \"2\"\n"
/// );
/// # Ok::<(), esx_vmx::VmxError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VmxFile {
    items: Vec<Item>,
    /// The encoding the original bytes were decoded with.
    source_encoding: &'static Encoding,
    /// The file started with a UTF-8 byte order mark.
    bom: bool,
    /// Some bytes could not be decoded and were replaced with U+FFFD.
    lossy: bool,
}

impl Default for VmxFile {
    fn default() -> Self {
        VmxFile::new()
    }
}

impl VmxFile {
    /// An empty file (UTF-8, no entries).
    pub fn new() -> VmxFile {
        VmxFile {
            items: Vec::new(),
            source_encoding: UTF_8,
            bom: false,
            lossy: false,
        }
    }

    /// Reads a file from its bytes, honouring `.encoding`.
    ///
    /// Without `.encoding` (or with UTF-8) the bytes are read as UTF-8. Bytes that do not
    /// decode are replaced by U+FFFD in the text (see [`VmxFile::is_lossy`]) but kept for
    /// writing, so [`VmxFile::to_bytes`] still reproduces them while their line is unchanged.
    /// A leading UTF-8 byte order mark is kept too.
    pub fn parse(bytes: &[u8]) -> Result<VmxFile, VmxError> {
        let (bom, body) = match bytes.strip_prefix(UTF8_BOM) {
            Some(rest) => (true, rest),
            None => (false, bytes),
        };
        // The syntax is ASCII, and every supported encoding keeps ASCII bytes in place, so
        // a first read as UTF-8 finds `.encoding` whatever the file's encoding is.
        let utf8_text = String::from_utf8_lossy(body);
        let first = VmxFile::from_text(&utf8_text)?;
        let mut encoding = UTF_8;
        if let Some((line, label)) = first.encoding_entry() {
            encoding = encoding::resolve(label).map_err(|problem| match problem {
                LabelProblem::Unknown => VmxError::UnknownEncoding {
                    line,
                    label: label.to_owned(),
                },
                LabelProblem::NotAsciiCompatible => VmxError::UnsupportedEncoding {
                    line,
                    label: label.to_owned(),
                },
            })?;
        }
        let (mut file, lossy) = if encoding == UTF_8 {
            let lossy = matches!(utf8_text, std::borrow::Cow::Owned(_));
            (first, lossy)
        } else {
            let (text, lossy) = encoding::decode(body, encoding);
            (VmxFile::from_text(&text)?, lossy)
        };
        file.source_encoding = encoding;
        file.bom = bom;
        file.lossy = lossy;
        let counts: Vec<usize> = file
            .items
            .iter()
            .map(|item| count_line_breaks(item.text.as_bytes()))
            .collect();
        let pieces = encoding::split_after_line_breaks(body, &counts);
        if pieces.iter().map(Vec::len).sum::<usize>() == body.len() {
            for (item, piece) in file.items.iter_mut().zip(pieces) {
                item.raw = Some(piece);
            }
        }
        Ok(file)
    }

    /// Reads a file from UTF-8 text (`.encoding` is kept as an entry but not applied).
    pub fn parse_str(text: &str) -> Result<VmxFile, VmxError> {
        let mut file = VmxFile::from_text(text)?;
        for item in &mut file.items {
            item.raw = Some(item.text.as_bytes().to_vec());
        }
        Ok(file)
    }

    fn from_text(text: &str) -> Result<VmxFile, VmxError> {
        let parsed = syntax::parse_items(text).map_err(|e| syntax_error(text, e))?;
        let items = parsed
            .into_iter()
            .map(|p| Item {
                text: text.get(p.range).unwrap_or_default().to_owned(),
                raw: None,
                entries: p.entries,
            })
            .collect();
        Ok(VmxFile {
            items,
            ..VmxFile::new()
        })
    }

    /// The line and value of the first `.encoding` entry.
    fn encoding_entry(&self) -> Option<(usize, &str)> {
        let (index, span) = self.find(ENCODING_KEY)?;
        let item = self.items.get(index)?;
        Some((self.line_of_item(index), item.value(span)))
    }

    /// The first entry named `key` (case-insensitive): item index and span.
    fn find(&self, key: &str) -> Option<(usize, &EntrySpan)> {
        self.items.iter().enumerate().find_map(|(index, item)| {
            item.entries
                .iter()
                .find(|span| item.key(span).eq_ignore_ascii_case(key))
                .map(|span| (index, span))
        })
    }

    fn line_of_item(&self, index: usize) -> usize {
        1 + self
            .items
            .iter()
            .take(index)
            .map(|item| count_line_breaks(item.text.as_bytes()))
            .sum::<usize>()
    }

    /// The value of the first entry named `key` (case-insensitive), without its quotes.
    pub fn get(&self, key: &str) -> Option<&str> {
        let (index, span) = self.find(key)?;
        self.items.get(index).map(|item| item.value(span))
    }

    /// Whether an entry named `key` exists (case-insensitive).
    pub fn contains_key(&self, key: &str) -> bool {
        self.find(key).is_some()
    }

    /// The 1-based line on which the entry [`VmxFile::get`] finds starts.
    pub fn line_of(&self, key: &str) -> Option<usize> {
        let (index, span) = self.find(key)?;
        let item = self.items.get(index)?;
        let before = item.text.get(..span.key.start).unwrap_or_default();
        Some(self.line_of_item(index) + count_line_breaks(before.as_bytes()))
    }

    /// The value of `key`, or libvirt's "Missing essential config entry" error.
    pub fn require(&self, key: &str) -> Result<&str, VmxError> {
        self.get(key).ok_or_else(|| VmxError::Missing {
            key: key.to_owned(),
        })
    }

    /// `key` as a boolean: `true`/`false` in any case, `None` when absent.
    pub fn get_bool(&self, key: &str) -> Result<Option<bool>, VmxError> {
        let Some(value) = self.get(key) else {
            return Ok(None);
        };
        if value.eq_ignore_ascii_case("true") {
            Ok(Some(true))
        } else if value.eq_ignore_ascii_case("false") {
            Ok(Some(false))
        } else {
            Err(VmxError::NotBoolean {
                key: key.to_owned(),
                line: self.line_of(key).unwrap_or(0),
                value: value.to_owned(),
            })
        }
    }

    /// `key` as a boolean, or libvirt's "Missing essential config entry" error.
    pub fn require_bool(&self, key: &str) -> Result<bool, VmxError> {
        self.get_bool(key)?.ok_or_else(|| VmxError::Missing {
            key: key.to_owned(),
        })
    }

    /// `key` as a base-10 integer (`unlimited`, in any case, is -1), `None` when absent.
    ///
    /// Like libvirt (`strtoll` over the whole value), leading white space and a sign are
    /// accepted; anything after the digits, or a value out of `i64` range, is an error.
    pub fn get_int(&self, key: &str) -> Result<Option<i64>, VmxError> {
        let Some(value) = self.get(key) else {
            return Ok(None);
        };
        if value.eq_ignore_ascii_case("unlimited") {
            return Ok(Some(-1));
        }
        parse_c_integer(value)
            .map(Some)
            .ok_or_else(|| VmxError::NotInteger {
                key: key.to_owned(),
                line: self.line_of(key).unwrap_or(0),
                value: value.to_owned(),
            })
    }

    /// `key` as an integer, or libvirt's "Missing essential config entry" error.
    pub fn require_int(&self, key: &str) -> Result<i64, VmxError> {
        self.get_int(key)?.ok_or_else(|| VmxError::Missing {
            key: key.to_owned(),
        })
    }

    /// Sets `key` to `value`.
    ///
    /// If the key exists, the first match gets the new value in place: its name, quoting
    /// (when the new value allows it), spacing and trailing comment stay, and no other line
    /// changes. Otherwise `key = "value"` is appended at the end.
    ///
    /// A value no VMX quoting can hold (it has `"` and `'` or a line break, and also `"""` or
    /// a trailing `"`) is stored with `"` and `|` pipe-escaped ([`escape_pipe`]), VMware's own
    /// convention. An invalid `key` is ignored; use [`VmxFile::try_set`] to get errors.
    pub fn set(&mut self, key: &str, value: &str) {
        if self.try_set(key, value).is_err() && is_valid_key(key) {
            // Only unrepresentable values fail for valid keys; pipe-escaping removes all `"`.
            let _ = self.try_set(key, &escape_pipe(value));
        }
    }

    /// Like [`VmxFile::set`], but reports an invalid key or an unrepresentable value.
    pub fn try_set(&mut self, key: &str, value: &str) -> Result<(), VmxError> {
        if !is_valid_key(key) {
            return Err(VmxError::InvalidKey {
                key: key.to_owned(),
            });
        }
        let unrepresentable = || VmxError::UnrepresentableValue {
            key: key.to_owned(),
        };
        match self.find(key).map(|(index, span)| (index, span.clone())) {
            Some((index, span)) => {
                let quote = Quote::for_value(span.quote, value).ok_or_else(unrepresentable)?;
                let delimiter = quote.delimiter();
                let old = span.quote.delimiter().len();
                let range = span.value.start.saturating_sub(old)..span.value.end + old;
                if let Some(item) = self.items.get_mut(index) {
                    item.splice(range, &format!("{delimiter}{value}{delimiter}"));
                }
            }
            None => {
                let quote = Quote::for_value(Quote::Double, value).ok_or_else(unrepresentable)?;
                self.append_line(key, value, quote);
            }
        }
        Ok(())
    }

    /// Appends `key = "value"` at the end even if `key` already exists (a duplicate that
    /// [`VmxFile::get`] will not see). Errors as [`VmxFile::try_set`].
    pub fn append(&mut self, key: &str, value: &str) -> Result<(), VmxError> {
        if !is_valid_key(key) {
            return Err(VmxError::InvalidKey {
                key: key.to_owned(),
            });
        }
        let quote = Quote::for_value(Quote::Double, value).ok_or_else(|| {
            VmxError::UnrepresentableValue {
                key: key.to_owned(),
            }
        })?;
        self.append_line(key, value, quote);
        Ok(())
    }

    /// Appends a comment line (`# text`); line breaks in `text` are replaced by spaces.
    pub fn append_comment(&mut self, text: &str) {
        let text = text.replace(['\n', '\r'], " ");
        let eol = self.line_ending();
        self.terminate_last_line();
        self.items.push(Item::from_text(format!("# {text}{eol}")));
    }

    fn append_line(&mut self, key: &str, value: &str, quote: Quote) {
        let eol = self.line_ending();
        self.terminate_last_line();
        let d = quote.delimiter();
        self.items
            .push(Item::from_text(format!("{key} = {d}{value}{d}{eol}")));
    }

    /// The line terminator the file uses (`\r\n` if its first line break is one, else `\n`).
    fn line_ending(&self) -> &'static str {
        for item in &self.items {
            let text = item.text.as_bytes();
            if let Some(pos) = text.iter().position(|&b| b == b'\n' || b == b'\r') {
                return match (text.get(pos), text.get(pos + 1)) {
                    (Some(b'\r'), Some(b'\n')) => "\r\n",
                    (Some(b'\r'), _) => "\r",
                    _ => "\n",
                };
            }
        }
        "\n"
    }

    /// Adds a line terminator to the last item if the file does not end with one.
    fn terminate_last_line(&mut self) {
        let eol = self.line_ending();
        if let Some(last) = self.items.last_mut() {
            if !last.text.ends_with(['\n', '\r']) {
                last.text.push_str(eol);
                if let Some(raw) = last.raw.as_mut() {
                    raw.extend_from_slice(eol.as_bytes());
                }
            }
        }
    }

    /// Removes every entry named `key` (case-insensitive); returns whether any was found.
    ///
    /// A line holding only that entry disappears with its line break; on a line with several
    /// `;`-joined statements only the statement is cut out.
    pub fn remove(&mut self, key: &str) -> bool {
        let mut found = false;
        let mut index = 0;
        while let Some(item) = self.items.get_mut(index) {
            let matching: Vec<EntrySpan> = item
                .entries
                .iter()
                .filter(|span| item.key(span).eq_ignore_ascii_case(key))
                .cloned()
                .collect();
            if matching.is_empty() {
                index += 1;
                continue;
            }
            found = true;
            if matching.len() == item.entries.len() {
                self.items.remove(index);
                continue;
            }
            // Cut statements from the back so earlier offsets stay valid.
            for span in matching.iter().rev() {
                item.splice(span.stmt.clone(), "");
            }
            index += 1;
        }
        found
    }

    /// All entries in file order, duplicates included: (name as written, value).
    pub fn entries(&self) -> impl Iterator<Item = (&str, &str)> {
        self.items.iter().flat_map(|item| {
            item.entries
                .iter()
                .map(move |span| (item.key(span), item.value(span)))
        })
    }

    /// The names of all entries in file order, as written (duplicates included).
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries().map(|(key, _)| key)
    }

    /// Number of entries (duplicates included).
    pub fn len(&self) -> usize {
        self.items.iter().map(|item| item.entries.len()).sum()
    }

    /// Whether the file has no entries (it may still have comments).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether some bytes did not decode in the file's encoding and read as U+FFFD.
    pub fn is_lossy(&self) -> bool {
        self.lossy
    }

    /// The name of the encoding [`VmxFile::to_bytes`] writes: the one `.encoding` declares
    /// (WHATWG name, e.g. `UTF-8`, `windows-1252`), UTF-8 when absent or unusable.
    pub fn encoding_name(&self) -> &'static str {
        self.target_encoding().name()
    }

    fn target_encoding(&self) -> &'static Encoding {
        self.get(ENCODING_KEY)
            .and_then(|label| encoding::resolve(label).ok())
            .unwrap_or(UTF_8)
    }

    /// The file as bytes in the encoding its `.encoding` entry declares.
    ///
    /// Unmodified lines are written exactly as read (when the encoding did not change).
    /// If a character has no mapping in the declared encoding, the file is written as UTF-8
    /// instead, with `.encoding` set to `UTF-8` so it stays self-consistent.
    pub fn to_bytes(&self) -> Vec<u8> {
        let target = self.target_encoding();
        match self.encode_items(target) {
            Some(bytes) => bytes,
            None => {
                let mut utf8 = self.clone();
                utf8.set(ENCODING_KEY, "UTF-8");
                utf8.encode_items(UTF_8)
                    .unwrap_or_else(|| utf8.to_string().into_bytes())
            }
        }
    }

    fn encode_items(&self, target: &'static Encoding) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        let same_encoding = target == self.source_encoding;
        if self.bom && (target == UTF_8 || same_encoding) {
            out.extend_from_slice(UTF8_BOM);
        }
        for item in &self.items {
            match (&item.raw, same_encoding) {
                (Some(raw), true) => out.extend_from_slice(raw),
                _ => out.extend(encoding::encode(&item.text, target)?),
            }
        }
        Some(out)
    }
}

impl std::fmt::Display for VmxFile {
    /// The file as UTF-8 text (without a byte order mark).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.items
            .iter()
            .try_for_each(|item| f.write_str(&item.text))
    }
}

impl std::str::FromStr for VmxFile {
    type Err = VmxError;

    fn from_str(text: &str) -> Result<VmxFile, VmxError> {
        VmxFile::parse_str(text)
    }
}

fn syntax_error(text: &str, e: RawSyntaxError) -> VmxError {
    let before = text.as_bytes().get(..e.offset).unwrap_or_default();
    VmxError::Syntax {
        line: 1 + count_line_breaks(before),
        key: e.key,
        kind: e.kind,
    }
}

/// The sign and the digits of a C number: leading white space skipped, an optional sign, then
/// only digits (at least one).
fn c_number_parts(value: &str) -> Option<(bool, &str)> {
    let rest = value.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (negative, digits) = match rest.as_bytes().first() {
        Some(b'-') => (true, rest.get(1..)?),
        Some(b'+') => (false, rest.get(1..)?),
        _ => (false, rest),
    };
    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())).then_some((negative, digits))
}

/// C's `strtoull` over a whole value (libvirt's `virStrToLong_ull`): leading white space and
/// a sign are accepted, a `-` negates modulo 2^64, anything after the digits or a magnitude
/// above `u64::MAX` is an error.
pub(crate) fn parse_c_unsigned(value: &str) -> Option<u64> {
    let (negative, digits) = c_number_parts(value)?;
    let magnitude: u64 = digits.parse().ok()?;
    Some(if negative {
        magnitude.wrapping_neg()
    } else {
        magnitude
    })
}

/// [`parse_c_integer`] for the converter.
pub(crate) fn parse_c_long(value: &str) -> Option<i64> {
    parse_c_integer(value)
}

/// `strtoll(value, &end, 10)` that must consume the whole value (libvirt's `virStrToLong_ll`).
fn parse_c_integer(value: &str) -> Option<i64> {
    let (negative, digits) = c_number_parts(value)?;
    let magnitude: i128 = digits.parse().ok()?;
    let signed = if negative { -magnitude } else { magnitude };
    i64::try_from(signed).ok()
}

#[cfg(test)]
mod tests;
