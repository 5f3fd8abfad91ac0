//! XSD primitive types: how each is read from and written to element text.

use super::{Decode, DecodeError, Decoder, Elem, Encode, Encoder};
use base64::Engine as _;

/// `xsd:dateTime`, with the offset the server sent.
pub type DateTime = chrono::DateTime<chrono::FixedOffset>;

impl Decode for String {
    #[inline]
    fn decode(r: &mut Decoder<'_>, el: &Elem<'_>) -> Result<Self, DecodeError> {
        r.text(el).map(|c| c.into_owned())
    }
}

impl Encode for String {
    #[inline]
    fn encode(&self, w: &mut Encoder, name: &str) {
        w.leaf(name, None, self)
    }
}

impl Encode for str {
    #[inline]
    fn encode(&self, w: &mut Encoder, name: &str) {
        w.leaf(name, None, self)
    }
}

impl Decode for bool {
    fn decode(r: &mut Decoder<'_>, el: &Elem<'_>) -> Result<Self, DecodeError> {
        r.parse_text(el, "xsd:boolean", parse_bool)
    }
}

impl Encode for bool {
    fn encode(&self, w: &mut Encoder, name: &str) {
        w.leaf(name, None, if *self { "true" } else { "false" })
    }
}

/// Parses `xsd:boolean` (`true`, `false`, `1`, `0`).
pub fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}

macro_rules! int_prim {
    ($($t:ty => $xsd:literal),*) => {$(
        impl Decode for $t {
            fn decode(r: &mut Decoder<'_>, el: &Elem<'_>) -> Result<Self, DecodeError> {
                r.parse_text(el, $xsd, |s| s.strip_prefix('+').unwrap_or(s).parse().ok())
            }
        }
        impl Encode for $t {
            fn encode(&self, w: &mut Encoder, name: &str) {
                w.leaf(name, None, itoa::Buffer::new().format(*self))
            }
        }
    )*};
}
int_prim!(i8 => "xsd:byte", i16 => "xsd:short", i32 => "xsd:int", i64 => "xsd:long");

macro_rules! float_prim {
    ($($t:ty => $xsd:literal),*) => {$(
        impl Decode for $t {
            fn decode(r: &mut Decoder<'_>, el: &Elem<'_>) -> Result<Self, DecodeError> {
                r.parse_text(el, $xsd, parse_float)
            }
        }
        impl Encode for $t {
            fn encode(&self, w: &mut Encoder, name: &str) {
                w.leaf(name, None, &format_float(*self as f64))
            }
        }
    )*};
}
float_prim!(f32 => "xsd:float", f64 => "xsd:double");

/// Parses `xsd:float`/`xsd:double`, including `INF`, `-INF` and `NaN`.
pub fn parse_float<T: std::str::FromStr + From<f32>>(s: &str) -> Option<T> {
    match s {
        "INF" => Some(T::from(f32::INFINITY)),
        "-INF" => Some(T::from(f32::NEG_INFINITY)),
        "NaN" => Some(T::from(f32::NAN)),
        _ if s.eq_ignore_ascii_case("inf")
            || s.eq_ignore_ascii_case("infinity")
            || s.eq_ignore_ascii_case("nan") =>
        {
            None
        }
        _ => s.parse().ok(),
    }
}

/// Formats a float the way XSD spells it.
pub fn format_float(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 {
            "INF".into()
        } else {
            "-INF".into()
        }
    } else {
        format!("{v}")
    }
}

impl Decode for DateTime {
    fn decode(r: &mut Decoder<'_>, el: &Elem<'_>) -> Result<Self, DecodeError> {
        r.parse_text(el, "xsd:dateTime", parse_datetime)
    }
}

impl Encode for DateTime {
    fn encode(&self, w: &mut Encoder, name: &str) {
        w.leaf(name, None, &format_datetime(self))
    }
}

/// Parses `xsd:dateTime`; a value without a zone is taken as UTC.
pub fn parse_datetime(s: &str) -> Option<DateTime> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(t);
    }
    let naive = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f").ok()?;
    Some(naive.and_utc().fixed_offset())
}

/// Formats `xsd:dateTime` (RFC 3339, `Z` for UTC).
pub fn format_datetime(t: &DateTime) -> String {
    if t.offset().local_minus_utc() == 0 {
        t.naive_utc()
            .and_utc()
            .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
    } else {
        t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false)
    }
}

impl Decode for Vec<u8> {
    fn decode(r: &mut Decoder<'_>, el: &Elem<'_>) -> Result<Self, DecodeError> {
        r.parse_text(el, "xsd:base64Binary", parse_base64)
    }
}

impl Encode for Vec<u8> {
    fn encode(&self, w: &mut Encoder, name: &str) {
        w.leaf(
            name,
            None,
            &base64::engine::general_purpose::STANDARD.encode(self),
        )
    }
}

/// Parses `xsd:base64Binary`, ignoring whitespace.
pub fn parse_base64(s: &str) -> Option<Vec<u8>> {
    let engine = &base64::engine::general_purpose::STANDARD;
    if s.bytes().any(|b| b.is_ascii_whitespace()) {
        let compact: String = s.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        engine.decode(compact).ok()
    } else {
        engine.decode(s).ok()
    }
}
