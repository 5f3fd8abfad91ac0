//! The hex escapes VMware and libvirt use inside VMX values.
//!
//! A special character is written as an escape character followed by the two lowercase hex
//! digits of each of its UTF-8 bytes: `|22` for `"`, `|7c` for `|` (the *pipe* escape, used
//! for `displayName` and `annotation`), and `%25`, `%2f`, `%5c` for `%`, `/`, `\` (the
//! *percent* escape libvirt applies to `displayName`).

use super::VmxError;

/// Escapes `escape` itself and every character of `specials` as `escape` + two hex digits per
/// UTF-8 byte (lowercase), leaving everything else as it is.
///
/// ```
/// assert_eq!(esx_vmx::escape_hex("a=b", '=', ""), "a=3db");
/// ```
pub fn escape_hex(value: &str, escape: char, specials: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for ch in value.chars() {
        if ch == escape || specials.contains(ch) {
            let mut buf = [0u8; 4];
            for byte in ch.encode_utf8(&mut buf).bytes() {
                out.push(escape);
                out.push_str(&format!("{byte:02x}"));
            }
        } else {
            out.push(ch);
        }
    }
    out
}

/// Reverses [`escape_hex`] and any other `escape`+`XX` sequence (hex digits in either case).
///
/// Fails with [`VmxError::InvalidEscape`] when `escape` is not followed by two hex digits, and
/// with [`VmxError::EscapeNotUtf8`] when the decoded bytes are not UTF-8. `escape` must be
/// an ASCII character; any other character is never treated as an escape.
pub fn unescape_hex(value: &str, escape: char) -> Result<String, VmxError> {
    if !escape.is_ascii() || !value.contains(escape) {
        return Ok(value.to_owned());
    }
    let esc = escape as u8;
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == esc {
            let hi = bytes.get(i + 1).copied().and_then(hex_value);
            let lo = bytes.get(i + 2).copied().and_then(hex_value);
            match (hi, lo) {
                (Some(hi), Some(lo)) => out.push(hi * 16 + lo),
                _ => {
                    return Err(VmxError::InvalidEscape {
                        escape,
                        offset: i,
                        value: value.to_owned(),
                    })
                }
            }
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| VmxError::EscapeNotUtf8 {
        value: value.to_owned(),
    })
}

fn hex_value(b: u8) -> Option<u8> {
    char::from(b)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

/// Escapes `"` as `|22` and `|` as `|7c` (libvirt's `virVMXEscapeHexPipe`).
///
/// ```
/// assert_eq!(esx_vmx::escape_pipe(r#"say "hi" | bye"#), "say |22hi|22 |7c bye");
/// ```
pub fn escape_pipe(value: &str) -> String {
    escape_hex(value, '|', "\"")
}

/// Decodes every `|XX` sequence (libvirt's `virVMXUnescapeHexPipe`).
///
/// ```
/// assert_eq!(esx_vmx::unescape_pipe("a|22b|7cc").unwrap(), "a\"b|c");
/// assert!(esx_vmx::unescape_pipe("a|2").is_err());
/// ```
pub fn unescape_pipe(value: &str) -> Result<String, VmxError> {
    unescape_hex(value, '|')
}

/// Escapes `%`, `/` and `\` as `%25`, `%2f` and `%5c` (libvirt's `virVMXEscapeHexPercent`).
///
/// ```
/// assert_eq!(esx_vmx::escape_percent(r"50%/a\b"), "50%25%2fa%5cb");
/// ```
pub fn escape_percent(value: &str) -> String {
    escape_hex(value, '%', "/\\")
}

/// Decodes every `%XX` sequence (libvirt's `virVMXUnescapeHexPercent`).
///
/// ```
/// assert_eq!(esx_vmx::unescape_percent("a%2fb%5C").unwrap(), "a/b\\");
/// ```
pub fn unescape_percent(value: &str) -> Result<String, VmxError> {
    unescape_hex(value, '%')
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn pipe_escapes() {
        assert_eq!(escape_pipe("plain"), "plain");
        assert_eq!(escape_pipe("a\"b|c"), "a|22b|7cc");
        assert_eq!(unescape_pipe("|41|c3|a9").unwrap(), "Aé");
        assert_eq!(unescape_pipe("|7C|7c").unwrap(), "||");
    }

    #[test]
    fn invalid_escapes_are_typed_errors() {
        assert_eq!(
            unescape_pipe("ab|zz"),
            Err(VmxError::InvalidEscape {
                escape: '|',
                offset: 2,
                value: "ab|zz".into()
            })
        );
        assert!(matches!(
            unescape_percent("%"),
            Err(VmxError::InvalidEscape { offset: 0, .. })
        ));
        assert!(matches!(
            unescape_percent("%ff"),
            Err(VmxError::EscapeNotUtf8 { .. })
        ));
    }

    #[test]
    fn percent_escapes_match_libvirt() {
        assert_eq!(escape_percent("K%U/H\\Z"), "K%25U%2fH%5cZ");
        assert_eq!(unescape_percent("K%25U%2fH%5cZ").unwrap(), "K%U/H\\Z");
    }

    proptest! {
        #[test]
        fn pipe_round_trip(s in any::<String>()) {
            let escaped = escape_pipe(&s);
            prop_assert!(!escaped.contains('"'));
            prop_assert_eq!(unescape_pipe(&escaped).unwrap(), s);
        }

        #[test]
        fn percent_round_trip(s in any::<String>()) {
            let escaped = escape_percent(&s);
            prop_assert!(!escaped.contains(['/', '\\']));
            prop_assert_eq!(unescape_percent(&escaped).unwrap(), s);
        }

        #[test]
        fn generic_round_trip(s in any::<String>(), esc in "[!-~]", specials in "\\PC{0,4}") {
            let esc = esc.chars().next().unwrap_or('|');
            let escaped = escape_hex(&s, esc, &specials);
            prop_assert_eq!(unescape_hex(&escaped, esc).unwrap(), s);
        }

        #[test]
        fn unescape_never_panics(s in any::<String>()) {
            let _ = unescape_pipe(&s);
            let _ = unescape_percent(&s);
        }
    }
}
