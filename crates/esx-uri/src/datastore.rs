//! Datastore paths and the escaping of names for datastore files (libvirt's `esx_util.c`),
//! the `xsd:dateTime` conversion and the windows-1252 decoding the ESX driver uses.

use crate::error::HelperError;

/// A datastore path `[datastore] directory/file` split like `esxUtil_ParseDatastorePath`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DatastorePath {
    /// The datastore name (between `[` and `]`).
    pub datastore: String,
    /// Everything before the last `/` of the path, or the whole path when it has no `/`
    /// (libvirt's quirk: `[ds] file` has the directory `file`).
    pub directory: String,
    /// The path after the datastore, leading spaces removed.
    pub directory_and_file: String,
}

impl DatastorePath {
    /// Splits `[datastore] path`; the path may be absent.
    ///
    /// ```
    /// let p = esx_uri::DatastorePath::parse("[datastore1] vm/vm.vmx")?;
    /// assert_eq!((p.datastore.as_str(), p.directory.as_str()), ("datastore1", "vm"));
    /// # Ok::<(), esx_uri::HelperError>(())
    /// ```
    pub fn parse(path: &str) -> Result<DatastorePath, HelperError> {
        let bad = || HelperError::DatastorePath {
            path: path.to_owned(),
        };
        let rest = path.strip_prefix('[').ok_or_else(bad)?;
        if rest.is_empty() || rest.starts_with(']') {
            return Err(bad());
        }
        let (datastore, after) = rest.split_once(']').unwrap_or((rest, ""));
        let directory_and_file = after.trim_start_matches(' ');
        let directory = directory_and_file
            .rsplit_once('/')
            .map_or(directory_and_file, |(dir, _)| dir);
        Ok(DatastorePath {
            datastore: datastore.to_owned(),
            directory: directory.to_owned(),
            directory_and_file: directory_and_file.to_owned(),
        })
    }
}

impl std::fmt::Display for DatastorePath {
    /// `[datastore] directory/file`, or `[datastore]` without a path.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.directory_and_file.is_empty() {
            write!(f, "[{}]", self.datastore)
        } else {
            write!(f, "[{}] {}", self.datastore, self.directory_and_file)
        }
    }
}

/// Characters that pass [`escape_base64`] unchanged.
fn is_base64_safe(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"'(),. _-".contains(&b)
}

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

/// libvirt's `esxUtil_EscapeBase64`: each run of bytes outside `A-Za-z0-9'(),. _-` becomes `+`
/// and its base64 (with `,` for `/`, no padding), followed by `-` if more text follows.
pub fn escape_base64(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(bytes.len() * 2);
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        let safe = bytes.get(i).is_some_and(|&b| is_base64_safe(b));
        while bytes.get(i).is_some_and(|&b| is_base64_safe(b) == safe) {
            i += 1;
        }
        let run = bytes.get(start..i).unwrap_or_default();
        if safe {
            out.extend(run.iter().map(|&b| char::from(b)));
            continue;
        }
        out.push('+');
        for chunk in run.chunks(3) {
            let b0 = chunk.first().copied().unwrap_or(0);
            let b1 = chunk.get(1).copied().unwrap_or(0);
            let b2 = chunk.get(2).copied().unwrap_or(0);
            let sextets = [
                b0 >> 2,
                ((b0 & 3) << 4) | (b1 >> 4),
                ((b1 & 15) << 2) | (b2 >> 6),
                b2 & 63,
            ];
            for &s in sextets.iter().take(chunk.len() + 1) {
                out.push(char::from(BASE64[usize::from(s & 63)]));
            }
        }
        if i < bytes.len() {
            out.push('-');
        }
    }
    out
}

/// libvirt's `esxUtil_EscapeDatastoreItem`: Windows specials `"*<>:|?` become `_`, then
/// `%`, `/`, `\` become `%XX`, then [`escape_base64`].
///
/// ```
/// assert_eq!(esx_uri::escape_datastore_item("~~~A"), "+fn5+-A");
/// assert_eq!(esx_uri::escape_datastore_item("vvv<A\"B\"C>zzz"), "vvv_A_B_C_zzz");
/// ```
pub fn escape_datastore_item(item: &str) -> String {
    let windows_safe: String = item
        .chars()
        .map(|c| if "\"*<>:|?".contains(c) { '_' } else { c })
        .collect();
    let mut percent = String::with_capacity(windows_safe.len());
    for c in windows_safe.chars() {
        match c {
            '%' => percent.push_str("%25"),
            '/' => percent.push_str("%2f"),
            '\\' => percent.push_str("%5c"),
            _ => percent.push(c),
        }
    }
    escape_base64(&percent)
}

/// libvirt's `esxVI_DateTime_ConvertToCalendarTime`: seconds since the epoch of an
/// `xsd:dateTime` `[-]CCYY-MM-DDTHH:MM:SS[.ssssss][(+|-)HH:MM|Z]`.
///
/// A missing zone means UTC, fractional seconds are ignored, and a negative year gives 0.
///
/// ```
/// assert_eq!(esx_uri::datetime_to_epoch("2010-04-08T14:45:11+02:00")?, 1270730711);
/// # Ok::<(), esx_uri::HelperError>(())
/// ```
pub fn datetime_to_epoch(value: &str) -> Result<i64, HelperError> {
    let bad = || HelperError::DateTime {
        value: value.to_owned(),
    };
    if value.starts_with('-') {
        return Ok(0);
    }
    let mut s = Scanner { rest: value };
    let year = s.number(1, 9).ok_or_else(bad)?;
    s.expect('-').ok_or_else(bad)?;
    let month = s.number(1, 2).ok_or_else(bad)?;
    s.expect('-').ok_or_else(bad)?;
    let day = s.number(1, 2).ok_or_else(bad)?;
    s.expect('T').ok_or_else(bad)?;
    let hour = s.number(1, 2).ok_or_else(bad)?;
    s.expect(':').ok_or_else(bad)?;
    let minute = s.number(1, 2).ok_or_else(bad)?;
    s.expect(':').ok_or_else(bad)?;
    let second = s.number(1, 2).ok_or_else(bad)?;
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return Err(bad());
    }
    if s.expect('.').is_some() {
        s.number(1, 18).ok_or_else(bad)?;
    }
    let offset = if s.rest.is_empty() || s.rest == "Z" {
        0
    } else {
        let sign = if s.expect('+').is_some() {
            1
        } else if s.expect('-').is_some() {
            -1
        } else {
            return Err(bad());
        };
        let hours = s.number(1, 2).ok_or_else(bad)?;
        s.expect(':').ok_or_else(bad)?;
        let minutes = s.number(1, 2).ok_or_else(bad)?;
        if !s.rest.is_empty() {
            return Err(bad());
        }
        sign * (hours * 3600 + minutes * 60)
    };
    let days = days_from_civil(year, month, day);
    Ok(days * 86400 + hour * 3600 + minute * 60 + second - offset)
}

struct Scanner<'a> {
    rest: &'a str,
}

impl Scanner<'_> {
    fn number(&mut self, min: usize, max: usize) -> Option<i64> {
        let len = self.rest.bytes().take_while(u8::is_ascii_digit).count();
        if len < min || len > max {
            return None;
        }
        let (digits, rest) = self.rest.split_at(len);
        self.rest = rest;
        digits.parse().ok()
    }

    fn expect(&mut self, c: char) -> Option<()> {
        self.rest = self.rest.strip_prefix(c)?;
        Some(())
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Decodes windows-1252 bytes to UTF-8 (libvirt's `virVMXConvertToUTF8("Windows-1252")`).
///
/// The five bytes windows-1252 leaves undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D) map to the
/// C1 control characters of the same value, as the WHATWG decoder does.
pub fn windows1252_to_utf8(bytes: &[u8]) -> String {
    let (text, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes);
    text.into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn datastore_paths() {
        let p = DatastorePath::parse("[datastore] file").unwrap();
        assert_eq!(p.directory, "file");
        let p = DatastorePath::parse("[ds]").unwrap();
        assert_eq!(
            (p.directory.as_str(), p.directory_and_file.as_str()),
            ("", "")
        );
        assert_eq!(p.to_string(), "[ds]");
        assert!(DatastorePath::parse("[] x").is_err());
        assert!(DatastorePath::parse("[").is_err());
        assert_eq!(
            DatastorePath::parse("x").unwrap_err().to_string(),
            "Datastore path 'x' doesn't have expected format '[<datastore>] <path>'"
        );
    }

    #[test]
    fn dates() {
        assert_eq!(datetime_to_epoch("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(datetime_to_epoch("-0001-01-01T00:00:00Z"), Ok(0));
        assert!(datetime_to_epoch("2010-04-08T12:45:11 UTC").is_err());
        assert!(datetime_to_epoch("2010-04-08").is_err());
        assert!(datetime_to_epoch("2010-13-08T12:45:11").is_err());
        assert_eq!(
            datetime_to_epoch("x").unwrap_err().to_string(),
            "xsd:dateTime value 'x' has unexpected format"
        );
    }

    proptest! {
        #[test]
        fn escaped_items_are_safe(s in any::<String>()) {
            let e = escape_datastore_item(&s);
            prop_assert!(e.bytes().all(|b| is_base64_safe(b) || b == b'+' || b == b','));
        }

        #[test]
        fn dates_never_panic(s in "[-0-9T:.+Z]{0,30}") {
            let _ = datetime_to_epoch(&s);
        }

        #[test]
        fn datastore_round_trip(ds in "[a-z0-9 ]{1,8}", path in "[a-z0-9/]{0,12}") {
            let path = path.trim_start_matches(' ');
            let text = if path.is_empty() { format!("[{ds}]") } else { format!("[{ds}] {path}") };
            let parsed = DatastorePath::parse(&text).unwrap();
            prop_assert_eq!(parsed.to_string(), text);
        }
    }
}
