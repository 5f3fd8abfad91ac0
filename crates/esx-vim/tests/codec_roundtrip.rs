//! Round trips over the generated types, driven by the reflection tables: for every data object,
//! fault and array type, random documents (polymorphic fields filled with random subtypes,
//! `anyType` with random primitives and objects) decode, re-encode and decode to the same value.

use esx_vim::codec::soap::{encode_element, encode_response, encode_response_into};
use esx_vim::codec::{Decode, Decoder};
use esx_vim::reflect::{type_info, TypeKind, TYPE_INFO};
use esx_vim::Any;
use proptest::prelude::*;
use std::collections::HashMap;
use std::sync::OnceLock;

/// A small deterministic generator (xorshift64*), so a failing seed can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// All types `name` or derived from it (by walking base links), computed once.
fn family(name: &str) -> &'static [&'static str] {
    static FAMILIES: OnceLock<HashMap<&'static str, Vec<&'static str>>> = OnceLock::new();
    let map = FAMILIES.get_or_init(|| {
        let mut m: HashMap<&'static str, Vec<&'static str>> = HashMap::new();
        for t in TYPE_INFO {
            let mut cur = Some(t.name);
            while let Some(c) = cur {
                m.entry(c).or_default().push(t.name);
                cur = type_info(c).and_then(|t| t.base);
            }
        }
        m
    });
    map.get(name).map(Vec::as_slice).unwrap_or(&[])
}

const PRIMS: &[&str] = &[
    "xsd:string",
    "xsd:int",
    "xsd:long",
    "xsd:short",
    "xsd:byte",
    "xsd:boolean",
    "xsd:float",
    "xsd:double",
    "xsd:dateTime",
    "xsd:base64Binary",
    "xsd:anyURI",
];

fn prim_text(ty: &str, rng: &mut Rng) -> String {
    match ty {
        "xsd:int" => (rng.next() as i32).to_string(),
        "xsd:long" => (rng.next() as i64).to_string(),
        "xsd:short" => (rng.next() as i16).to_string(),
        "xsd:byte" => (rng.next() as i8).to_string(),
        "xsd:boolean" => ["true", "false"][rng.below(2)].into(),
        "xsd:float" => format!("{}", (rng.next() % 100_000) as f32 / 8.0),
        "xsd:double" => format!("{}", (rng.next() as i64 % 1_000_000_000) as f64 / 1024.0),
        "xsd:dateTime" => format!(
            "20{:02}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            rng.below(40),
            1 + rng.below(12),
            1 + rng.below(28),
            rng.below(24),
            rng.below(60),
            rng.below(60),
            rng.below(1000)
        ),
        "xsd:base64Binary" => ["", "AA==", "aGVsbG8=", "3q2+7w=="][rng.below(4)].into(),
        _ => escape(
            [
                "",
                "vm-42",
                "a & b < c > \"d\"",
                "ünïcødé ☃",
                " spaced ",
                "line\nbreak",
            ][rng.below(6)],
        ),
    }
}

/// An element `<name …>` holding a random value of declared type `ty`.
fn element(name: &str, ty: &str, rng: &mut Rng, depth: usize, out: &mut String) {
    if ty == "xsd:anyType" {
        return any_element(name, rng, depth, out);
    }
    if let Some(p) = ty.strip_prefix("xsd:") {
        let _ = p;
        out.push_str(&format!("<{name}>{}</{name}>", prim_text(ty, rng)));
        return;
    }
    if ty == "ManagedObjectReference" {
        out.push_str(&format!(
            "<{name} type=\"VirtualMachine\">vm-{}</{name}>",
            rng.below(1000)
        ));
        return;
    }
    match type_info(ty) {
        None => {
            // An enumeration: a known-looking or an unknown value.
            let v = ["poweredOn", "other", "somethingNewer", ""][rng.below(4)];
            out.push_str(&format!("<{name}>{v}</{name}>"));
        }
        Some(_) => {
            let fam = family(ty);
            let actual = fam[rng.below(fam.len())];
            complex_element(name, actual, true, rng, depth, out);
        }
    }
}

fn complex_element(
    name: &str,
    ty: &str,
    typed: bool,
    rng: &mut Rng,
    depth: usize,
    out: &mut String,
) {
    let info = type_info(ty).expect("complex type");
    if typed {
        out.push_str(&format!("<{name} xsi:type=\"{ty}\">"));
    } else {
        out.push_str(&format!("<{name}>"));
    }
    for f in info.fields {
        let n = if f.repeated {
            if depth > 3 {
                0
            } else {
                rng.below(3)
            }
        } else if f.optional {
            usize::from(depth <= 3 && rng.chance(60))
        } else {
            1
        };
        for _ in 0..n {
            element(f.name, f.ty, rng, depth + 1, out);
        }
    }
    out.push_str(&format!("</{name}>"));
}

fn any_element(name: &str, rng: &mut Rng, depth: usize, out: &mut String) {
    if depth > 3 || rng.chance(50) {
        let p = PRIMS[rng.below(PRIMS.len())];
        out.push_str(&format!(
            "<{name} xsi:type=\"{p}\">{}</{name}>",
            prim_text(p, rng)
        ));
    } else {
        let t = &TYPE_INFO[rng.below(TYPE_INFO.len())];
        if matches!(t.kind, TypeKind::Data | TypeKind::Fault | TypeKind::Array) {
            complex_element(name, t.name, true, rng, depth, out);
        } else {
            out.push_str(&format!(
                "<{name} xsi:type=\"ManagedObjectReference\" type=\"Folder\">group-d1</{name}>"
            ));
        }
    }
}

fn document(ty: &str, seed: u64) -> String {
    let mut rng = Rng(seed | 1);
    let mut body = String::new();
    complex_element("val", ty, true, &mut rng, 0, &mut body);
    // Declare the namespaces on the root element itself.
    body.replacen(
        "<val ",
        "<val xmlns=\"urn:vim25\" xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" ",
        1,
    )
}

fn decode_any(xml: &[u8]) -> Any {
    let mut r = Decoder::new(xml);
    let el = r.root().expect("root element");
    Any::decode(&mut r, &el)
        .unwrap_or_else(|e| panic!("decode failed: {e}\n{}", String::from_utf8_lossy(xml)))
}

/// The same document with a space before the `>` of every end tag: the same value, but no
/// element qualifies for the decoder's leaf fast path, so every leaf goes through the
/// reader's events.
fn without_plain_leaves(xml: &str) -> String {
    let mut out = String::with_capacity(xml.len() + xml.len() / 8);
    let mut rest = xml;
    while let Some(i) = rest.find("</") {
        let gt = i + rest[i..].find('>').expect("end tag closed");
        out.push_str(&rest[..gt]);
        out.push_str(" >");
        rest = &rest[gt + 1..];
    }
    out.push_str(rest);
    out
}

fn check(ty: &str, seed: u64) {
    let xml = document(ty, seed);
    let first = decode_any(xml.as_bytes());
    assert_eq!(
        first.type_name(),
        ty,
        "decoded as the wrong type from\n{xml}"
    );
    let slow = without_plain_leaves(&xml);
    assert_eq!(
        first,
        decode_any(slow.as_bytes()),
        "the leaf fast path and the reader's events disagree on {ty} (seed {seed})\n{xml}"
    );
    let again = encode_element("val", &first);
    let again = String::from_utf8(again).expect("UTF-8");
    let again = again.replacen(
        "<val ",
        "<val xmlns=\"urn:vim25\" xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" ",
        1,
    );
    let second = decode_any(again.as_bytes());
    assert_eq!(
        first, second,
        "round trip changed the value of {ty} (seed {seed})\nfrom {xml}\nvia  {again}"
    );
}

#[test]
fn every_type_round_trips() {
    let mut n = 0;
    for t in TYPE_INFO {
        if matches!(t.kind, TypeKind::Data | TypeKind::Fault | TypeKind::Array) {
            for seed in [1u64, 0x9e37_79b9_7f4a_7c15] {
                check(t.name, seed);
                n += 1;
            }
        }
    }
    println!("round-tripped {n} random documents over every data, fault and array type");
    assert!(n > 6000);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_types_round_trip(i in 0..TYPE_INFO.len(), seed in any::<u64>()) {
        let t = &TYPE_INFO[i];
        if matches!(t.kind, TypeKind::Data | TypeKind::Fault | TypeKind::Array) {
            check(t.name, seed);
        }
    }
}

/// What a leaf's text must become: the four bytes text escaping rewrites, and nothing else.
fn escaped_text(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\r', "&#13;")
}

/// Every special byte at every position of strings up to three words long: the word-at-a-time
/// check in front of the escaper must send each of them to the escaping path.
#[test]
fn leaf_text_escapes_each_special_byte_at_each_position() {
    for len in 1..=24 {
        for at in 0..len {
            for special in ['<', '>', '&', '\r'] {
                let mut s: String = "abcdefghijklmnopqrstuvwx"[..len].into();
                s.replace_range(at..=at, &special.to_string());
                let xml = String::from_utf8(encode_element("s", &s)).expect("UTF-8");
                assert_eq!(xml, format!("<s>{}</s>", escaped_text(&s)), "{s:?}");
            }
        }
    }
}

proptest! {
    #[test]
    fn leaf_text_escapes_exactly(s in "[a-z0-9<>&\r\n\t\"' ü☃]{0,40}") {
        let xml = String::from_utf8(encode_element("s", &s)).expect("UTF-8");
        prop_assert_eq!(xml, format!("<s>{}</s>", escaped_text(&s)));
    }
}

/// Encoding into a kept buffer gives the bytes of a fresh encoding, whatever the buffer held.
#[test]
fn encoding_into_a_kept_buffer_replaces_its_contents() {
    let reply = esx_vim::RetrievePropertiesExResponse {
        returnval: Some(esx_vim::RetrieveResult {
            token: Some("t<1>&".into()),
            ..Default::default()
        }),
    };
    let fresh = encode_response("RetrievePropertiesEx", &reply);
    let mut kept = b"left over from an earlier, longer reply".repeat(100);
    encode_response_into(&mut kept, "RetrievePropertiesEx", &reply);
    assert_eq!(kept, fresh);
    encode_response_into(&mut kept, "RetrievePropertiesEx", &reply);
    assert_eq!(kept, fresh);
}
