//! The bytes of a `.vmx` file as libvirt's ESX driver reads them for a conversion: the syntax
//! is checked on the bytes as given, then `.encoding` (unless it is `UTF-8`) names the
//! character set the whole text is converted from before it is read again.
//!
//! Character sets follow libvirt's decoders (libxml2's own for ISO-8859-1 and ASCII, glibc's
//! iconv for the rest), not the WHATWG ones: `ISO-8859-1` is Latin-1 (bytes 0x80–0x9F are C1
//! controls, not windows-1252), and a byte a Windows code page leaves undefined (0x81 in
//! windows-1252) is an error. Where libvirt goes wrong we refuse instead (see
//! docs/COMPATIBILITY.md): a NUL byte (libvirt silently stops reading there), a byte the
//! character set cannot decode (libvirt silently drops the rest of the file), and bytes that
//! are not UTF-8 in a UTF-8 file (libvirt copies them into XML no parser accepts).

use encoding_rs::Encoding;

use super::{ConvertError, Result};
use crate::{VmxError, VmxFile};

/// How a character set label decodes, as libvirt's decoders do it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decoder {
    /// Strict UTF-8 (libvirt converts UTF-8 to UTF-8 through iconv for labels other than
    /// `UTF-8` itself).
    Utf8,
    /// Latin-1: every byte is the code point of the same number.
    Latin1,
    /// ASCII: bytes from 0x80 are errors.
    Ascii,
    /// A single-byte code page whose WHATWG table fills glibc's holes with C1 controls: such
    /// bytes are errors.
    CodePage(&'static Encoding),
    /// An ISO-8859 part that WHATWG replaces with a Windows code page: 0x80–0x9F are C1
    /// controls, the rest is the code page (which agrees with the ISO part there).
    IsoOverWindows(&'static Encoding),
    /// A single-byte table where glibc differs from WHATWG at a few bytes.
    Patched(&'static Encoding, &'static [(u8, char)]),
    /// A table used as WHATWG defines it (the single-byte tables that agree with glibc).
    Whatwg(&'static Encoding),
    /// A multi-byte East Asian encoding: WHATWG's, where glibc differs corrected by a table
    /// (see [`super::cjk`]).
    EastAsian(&'static Encoding, &'static super::cjk::Table),
}

const KOI8_U_PATCH: &[(u8, char)] = &[(0xae, '\u{255d}'), (0xbe, '\u{256c}')];
const MACINTOSH_PATCH: &[(u8, char)] = &[(0xc6, '\u{0394}'), (0xf0, '\u{e01e}')];

/// The decoder for a `.encoding` value other than `UTF-8`, or `None` when libvirt has none
/// (or none that keeps the ASCII syntax of the file, such as UTF-16).
fn decoder_for(label: &str) -> Option<Decoder> {
    let upper = label.to_ascii_uppercase();
    let u = upper.as_str();
    let latin_n = |n: u32| -> Option<u32> {
        // LATIN1..LATIN10 / L1..L10 -> the ISO-8859 part.
        Some(match n {
            1 => 1,
            2 => 2,
            3 => 3,
            4 => 4,
            5 => 9,
            6 => 10,
            7 => 13,
            8 => 14,
            9 => 15,
            10 => 16,
            _ => return None,
        })
    };
    let iso_part = if let Some(n) = u
        .strip_prefix("ISO-8859-")
        .or_else(|| u.strip_prefix("ISO8859-"))
        .or_else(|| u.strip_prefix("ISO_8859-"))
    {
        n.parse::<u32>().ok()
    } else if let Some(n) = u.strip_prefix("LATIN").or_else(|| u.strip_prefix('L')) {
        n.parse::<u32>().ok().and_then(latin_n)
    } else {
        match u {
            "ISO88591" | "ISO_8859-1:1987" | "ISO-IR-100" | "CP819" | "IBM819" | "CSISOLATIN1"
            | "8859_1" | "ISO-LATIN-1" | "ISO LATIN 1" => Some(1),
            "CYRILLIC" => Some(5),
            "ARABIC" => Some(6),
            "GREEK" => Some(7),
            "HEBREW" => Some(8),
            _ => None,
        }
    };
    if let Some(n) = iso_part {
        return match n {
            1 => Some(Decoder::Latin1),
            9 => Some(Decoder::IsoOverWindows(encoding_rs::WINDOWS_1254)),
            11 => Some(Decoder::IsoOverWindows(encoding_rs::WINDOWS_874)),
            2..=8 | 10 | 13..=16 => {
                Encoding::for_label(format!("iso-8859-{n}").as_bytes()).map(Decoder::Whatwg)
            }
            _ => None,
        };
    }
    let windows = |n: u32| -> Option<Decoder> {
        Encoding::for_label(format!("windows-{n}").as_bytes()).map(Decoder::CodePage)
    };
    if let Some(n) = u
        .strip_prefix("WINDOWS-")
        .or_else(|| u.strip_prefix("CP"))
        .and_then(|n| n.parse::<u32>().ok())
        .filter(|n| (1250..=1258).contains(n))
    {
        return windows(n);
    }
    match u {
        "UTF8" | "ISO-10646/UTF8" | "ISO-10646/UTF-8" => Some(Decoder::Utf8),
        "ASCII" | "US-ASCII" | "ANSI_X3.4-1968" | "ANSI_X3.4-1986" | "ISO646-US"
        | "ISO_646.IRV:1991" | "US" | "IBM367" | "CP367" | "CSASCII" => Some(Decoder::Ascii),
        "MS-ANSI" => windows(1252),
        "MS-EE" => windows(1250),
        "MS-CYRL" => windows(1251),
        "MS-GREEK" => windows(1253),
        "MS-TURK" => windows(1254),
        "MS-HEBR" => windows(1255),
        "MS-ARAB" => windows(1256),
        "WINBALTRIM" => windows(1257),
        "KOI8-R" => Some(Decoder::Whatwg(encoding_rs::KOI8_R)),
        "KOI8-U" => Some(Decoder::Patched(encoding_rs::KOI8_U, KOI8_U_PATCH)),
        "IBM866" | "CP866" => Some(Decoder::Whatwg(encoding_rs::IBM866)),
        "MACINTOSH" | "MAC" => Some(Decoder::Patched(encoding_rs::MACINTOSH, MACINTOSH_PATCH)),
        "SHIFT_JIS" | "SHIFT-JIS" | "SJIS" | "MS_KANJI" | "CSSHIFTJIS" => Some(Decoder::EastAsian(
            encoding_rs::SHIFT_JIS,
            &super::cjk::SHIFT_JIS,
        )),
        "EUC-JP" | "EUCJP" => Some(Decoder::EastAsian(encoding_rs::EUC_JP, &super::cjk::EUC_JP)),
        "EUC-KR" | "EUCKR" => Some(Decoder::EastAsian(encoding_rs::EUC_KR, &super::cjk::EUC_KR)),
        "GBK" | "CP936" => Some(Decoder::EastAsian(encoding_rs::GBK, &super::cjk::GBK)),
        "BIG5" | "BIG-5" | "CP950" => {
            Some(Decoder::EastAsian(encoding_rs::BIG5, &super::cjk::BIG5))
        }
        _ => None,
    }
}

/// Why bytes could not be decoded: the 1-based line of the first bad byte.
fn bad_byte_line(bytes: &[u8], valid_up_to: usize) -> usize {
    1 + bytes
        .get(..valid_up_to)
        .unwrap_or_default()
        .iter()
        .filter(|b| **b == b'\n')
        .count()
}

fn undecodable(label: &str, bytes: &[u8], at: usize) -> ConvertError {
    let byte = bytes.get(at).copied().unwrap_or(0);
    ConvertError::Unsupported(format!(
        "VMX file has a byte 0x{byte:02x} at line {} that the .encoding '{label}' does not define",
        bad_byte_line(bytes, at)
    ))
}

/// Decode `bytes` with `decoder`; the error names the first byte that does not decode.
fn decode(decoder: Decoder, label: &str, bytes: &[u8]) -> Result<String> {
    match decoder {
        Decoder::Utf8 => std::str::from_utf8(bytes)
            .map(str::to_owned)
            .map_err(|e| undecodable(label, bytes, e.valid_up_to())),
        Decoder::Latin1 => Ok(bytes.iter().map(|b| char::from(*b)).collect()),
        Decoder::Ascii => match bytes.iter().position(|b| *b >= 0x80) {
            Some(at) => Err(undecodable(label, bytes, at)),
            None => Ok(bytes.iter().map(|b| char::from(*b)).collect()),
        },
        Decoder::EastAsian(enc, table) => {
            super::cjk::decode(enc, table, bytes).map_err(|at| undecodable(label, bytes, at))
        }
        Decoder::CodePage(enc)
        | Decoder::Whatwg(enc)
        | Decoder::Patched(enc, _)
        | Decoder::IsoOverWindows(enc) => {
            // Single-byte tables decode byte by byte so that each byte can be checked; the
            // multi-byte ones in one go.
            if !enc.is_single_byte() {
                let (text, had_errors) = enc.decode_without_bom_handling(bytes);
                if had_errors {
                    let at = first_error(enc, bytes);
                    return Err(undecodable(label, bytes, at));
                }
                return Ok(text.into_owned());
            }
            let mut out = String::with_capacity(bytes.len());
            for (at, &b) in bytes.iter().enumerate() {
                if b < 0x80 {
                    out.push(char::from(b));
                    continue;
                }
                if let Decoder::IsoOverWindows(_) = decoder {
                    if b < 0xa0 {
                        out.push(char::from(b));
                        continue;
                    }
                }
                if let Decoder::Patched(_, patch) = decoder {
                    if let Some((_, c)) = patch.iter().find(|(x, _)| *x == b) {
                        out.push(*c);
                        continue;
                    }
                }
                let one = [b];
                let (text, had_errors) = enc.decode_without_bom_handling(&one);
                match text.chars().next() {
                    Some(c) if !had_errors => {
                        // glibc leaves these Windows code page bytes undefined; WHATWG maps
                        // them to the C1 control of the same number.
                        if matches!(decoder, Decoder::CodePage(_))
                            && b < 0xa0
                            && u32::from(c) == u32::from(b)
                        {
                            return Err(undecodable(label, bytes, at));
                        }
                        out.push(c);
                    }
                    _ => return Err(undecodable(label, bytes, at)),
                }
            }
            Ok(out)
        }
    }
}

/// Offset of the first byte a multi-byte decoder rejects.
fn first_error(enc: &'static Encoding, bytes: &[u8]) -> usize {
    let mut decoder = enc.new_decoder_without_bom_handling();
    let mut out = String::with_capacity(bytes.len() * 3 + 16);
    let (result, read) = decoder.decode_to_string_without_replacement(bytes, &mut out, true);
    match result {
        encoding_rs::DecoderResult::Malformed(len, _) => {
            read.saturating_sub(usize::from(len)).min(bytes.len())
        }
        _ => read.min(bytes.len()),
    }
}

fn syntax(text: &str) -> Result<VmxFile> {
    VmxFile::parse_str(text).map_err(ConvertError::from)
}

/// A `.vmx` file read for a conversion.
pub(crate) struct ReadVmx {
    /// The entries.
    pub(crate) file: VmxFile,
    /// A UTF-8 file held bytes that are not UTF-8 (each is U+FFFD in `file`).
    pub(crate) lossy: bool,
}

/// Read a `.vmx` file's bytes for a conversion, as libvirt's ESX driver does (see the module
/// docs for where we refuse instead).
pub(crate) fn read_vmx(bytes: &[u8]) -> Result<ReadVmx> {
    if let Some(at) = bytes.iter().position(|b| *b == 0) {
        return Err(ConvertError::Unsupported(format!(
            "VMX file has a NUL byte at line {}",
            bad_byte_line(bytes, at)
        )));
    }
    // The syntax first, on the bytes as they are (bytes that are not UTF-8 can only matter
    // inside values and comments, where any byte is allowed).
    let lossy_text = String::from_utf8_lossy(bytes);
    let lossy = matches!(lossy_text, std::borrow::Cow::Owned(_));
    let first = syntax(&lossy_text)?;
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        // libvirt reads a byte order mark as the start of a name.
        return Err(VmxError::Syntax {
            line: 1,
            key: None,
            kind: crate::SyntaxErrorKind::ExpectingName,
        }
        .into());
    }
    let label = match first.get(crate::ENCODING_KEY) {
        None => None,
        Some(l) if l.eq_ignore_ascii_case("UTF-8") => None,
        Some(l) => Some(l.to_owned()),
    };
    let Some(label) = label else {
        // UTF-8 as it is: libvirt copies bytes that are not UTF-8 into its XML; we let them
        // through here and refuse the conversion if one of them reaches the domain.
        return Ok(ReadVmx { file: first, lossy });
    };
    let decoder = decoder_for(&label).ok_or_else(|| {
        ConvertError::Unsupported(format!("libxml2 doesn't handle {label} encoding"))
    })?;
    let text = decode(decoder, &label, bytes)?;
    if !lossy && text == lossy_text {
        return Ok(ReadVmx { file: first, lossy });
    }
    Ok(ReadVmx {
        file: syntax(&text)?,
        lossy: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded(label: &str, bytes: &[u8]) -> Option<String> {
        decode(decoder_for(label)?, label, bytes).ok()
    }

    #[test]
    fn labels_follow_libxml2_and_glibc() {
        assert_eq!(decoder_for("iso-8859-1"), Some(Decoder::Latin1));
        assert_eq!(decoder_for("LATIN1"), Some(Decoder::Latin1));
        assert_eq!(decoder_for("us-ascii"), Some(Decoder::Ascii));
        assert!(matches!(decoder_for("cp1252"), Some(Decoder::CodePage(_))));
        assert_eq!(decoder_for("bogus"), None);
        assert_eq!(decoder_for(""), None);
        assert_eq!(decoder_for("UTF-16LE"), None);
        assert_eq!(decoder_for("windows-1252 "), None);
    }

    #[test]
    fn single_byte_tables_match_libvirt() {
        // Measured with libvirt 11.3 (libxml2 2.9.14, glibc iconv) through vmx-diff.
        assert_eq!(
            decoded("windows-1252", b"\x80\x9f").as_deref(),
            Some("\u{20ac}\u{178}")
        );
        assert_eq!(decoded("windows-1252", b"\x81"), None);
        assert_eq!(decoded("windows-1252", b"\x9d"), None);
        assert_eq!(
            decoded("ISO-8859-1", b"\x80\x9f\xe9").as_deref(),
            Some("\u{80}\u{9f}\u{e9}")
        );
        assert_eq!(
            decoded("ISO-8859-9", b"\x80\xfd").as_deref(),
            Some("\u{80}\u{131}")
        );
        assert_eq!(decoded("ISO-8859-3", b"\xa5"), None);
        assert_eq!(
            decoded("KOI8-U", b"\xae\xbe").as_deref(),
            Some("\u{255d}\u{256c}")
        );
        assert_eq!(decoded("ASCII", b"\x80"), None);
        assert_eq!(decoded("windows-1251", b"\x98"), None);
        assert_eq!(decoded("windows-1256", b"\x81").as_deref(), Some("\u{67e}"));
        assert_eq!(
            decoded("windows-1252", b"\xeb\xff").as_deref(),
            Some("\u{eb}\u{ff}")
        );
        // East Asian: glibc's C1 singles, holes and mappings.
        assert_eq!(
            decoded("EUC-JP", b"\x91x\xa4\xa2").as_deref(),
            Some("\u{91}x\u{3042}")
        );
        assert_eq!(decoded("EUC-JP", b"\xa1\xc1").as_deref(), Some("\u{301c}"));
        assert_eq!(decoded("EUC-JP", b"\xf9\xa1"), None);
        assert_eq!(decoded("Shift_JIS", b"\x80"), None);
        assert_eq!(
            decoded("Shift_JIS", b"C:\\x~\xb1").as_deref(),
            Some("C:\\x~\u{ff71}")
        );
        assert_eq!(decoded("GBK", b"\xaa\xa1"), None);
        assert_eq!(decoded("Big5", b"\xc6\xa1").as_deref(), Some("\u{f6b1}"));
        assert_eq!(
            decoded("EUC-KR", b"\x81A\xa2\xe8").as_deref(),
            Some("\u{81}A\u{327e}")
        );
    }

    #[test]
    fn refusals() {
        assert!(read_vmx(b"a = \"b\0\"\n").is_err());
        assert!(read_vmx(b"\xEF\xBB\xBFa = \"b\"\n").is_err());
        assert!(read_vmx(b"a = \"\xff\"\n").unwrap().lossy);
        assert!(read_vmx(b".encoding = \"windows-1252\"\na = \"\x81\"\n").is_err());
        let f = read_vmx(b".encoding = \"windows-1252\"\na = \"\x80\"\n")
            .unwrap()
            .file;
        assert_eq!(f.get("a"), Some("\u{20ac}"));
        let f = read_vmx(b".encoding = \"utf-8\"\na = \"\xc3\xa9\"\n")
            .unwrap()
            .file;
        assert_eq!(f.get("a"), Some("\u{e9}"));
    }
}
