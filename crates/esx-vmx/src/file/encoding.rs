//! The `.encoding` entry: which character set the file's bytes use.
//!
//! VMware writes `.encoding = "UTF-8"` or a legacy code page such as `windows-1252`,
//! `Shift_JIS`, `GBK`, `Big5` or `EUC-KR`. Labels are resolved with the WHATWG rules of
//! `encoding_rs` (so `ISO-8859-1` reads as windows-1252). Only ASCII-compatible encodings are
//! accepted: the VMX syntax (names, `=`, quotes, line breaks) is ASCII and must stay intact.

use encoding_rs::{Encoding, UTF_8};

/// Why a `.encoding` label cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LabelProblem {
    /// No encoding has this label.
    Unknown,
    /// The encoding exists but is not ASCII-compatible (UTF-16, ISO-2022-JP, ...).
    NotAsciiCompatible,
}

/// Resolves a `.encoding` value to an encoding.
pub(crate) fn resolve(label: &str) -> Result<&'static Encoding, LabelProblem> {
    let encoding = Encoding::for_label(label.trim().as_bytes()).ok_or(LabelProblem::Unknown)?;
    if encoding == UTF_8 {
        return Ok(UTF_8);
    }
    if !encoding.is_ascii_compatible() || encoding.output_encoding() != encoding {
        return Err(LabelProblem::NotAsciiCompatible);
    }
    Ok(encoding)
}

/// Decodes `bytes` with `encoding`; malformed sequences become U+FFFD. Returns the text and
/// whether anything was replaced.
pub(crate) fn decode(bytes: &[u8], encoding: &'static Encoding) -> (String, bool) {
    let (text, had_errors) = encoding.decode_without_bom_handling(bytes);
    (text.into_owned(), had_errors)
}

/// Encodes `text` in `encoding`, or `None` if some character has no mapping there.
pub(crate) fn encode(text: &str, encoding: &'static Encoding) -> Option<Vec<u8>> {
    if encoding == UTF_8 {
        return Some(text.as_bytes().to_vec());
    }
    let (bytes, _, unmappable) = encoding.encode(text);
    (!unmappable).then(|| bytes.into_owned())
}

/// Splits `bytes` after the given numbers of line terminators (`\r\n`, `\n`, lone `\r`), one
/// piece per count, the last piece taking the rest. The decoders used here keep ASCII bytes
/// where they are, so the pieces line up with the decoded items.
pub(crate) fn split_after_line_breaks(bytes: &[u8], counts: &[usize]) -> Vec<Vec<u8>> {
    let mut pieces = Vec::with_capacity(counts.len());
    let mut pos = 0;
    for (index, &count) in counts.iter().enumerate() {
        let start = pos;
        if index + 1 == counts.len() {
            pos = bytes.len();
        } else {
            let mut seen = 0;
            while seen < count {
                match bytes.get(pos) {
                    Some(b'\n') => {
                        seen += 1;
                        pos += 1;
                    }
                    Some(b'\r') => {
                        seen += 1;
                        pos += 1;
                        if bytes.get(pos) == Some(&b'\n') {
                            pos += 1;
                        }
                    }
                    Some(_) => pos += 1,
                    None => break,
                }
            }
        }
        pieces.push(bytes.get(start..pos).unwrap_or_default().to_vec());
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        assert_eq!(resolve("UTF-8"), Ok(UTF_8));
        assert_eq!(resolve("utf8"), Ok(UTF_8));
        assert_eq!(
            resolve("windows-1252").map(|e| e.name()),
            Ok("windows-1252")
        );
        assert_eq!(resolve("ISO-8859-1").map(|e| e.name()), Ok("windows-1252"));
        assert_eq!(resolve("Shift_JIS").map(|e| e.name()), Ok("Shift_JIS"));
        assert_eq!(resolve("GBK").map(|e| e.name()), Ok("GBK"));
        assert_eq!(resolve("bogus"), Err(LabelProblem::Unknown));
        assert_eq!(resolve("UTF-16LE"), Err(LabelProblem::NotAsciiCompatible));
        assert_eq!(
            resolve("ISO-2022-JP"),
            Err(LabelProblem::NotAsciiCompatible)
        );
    }

    #[test]
    fn windows_1252_round_trip() {
        let w = resolve("windows-1252").unwrap();
        let (text, bad) = decode(b"A\x80Z\xe4", w);
        assert_eq!((text.as_str(), bad), ("A\u{20ac}Z\u{e4}", false));
        assert_eq!(encode(&text, w).unwrap(), b"A\x80Z\xe4");
        assert_eq!(encode("\u{6a19}", w), None);
    }

    #[test]
    fn split() {
        let pieces = split_after_line_breaks(b"a\r\nb\n\nc", &[1, 1, 1, 0]);
        assert_eq!(
            pieces,
            [
                b"a\r\n".to_vec(),
                b"b\n".to_vec(),
                b"\n".to_vec(),
                b"c".to_vec()
            ]
        );
    }
}
