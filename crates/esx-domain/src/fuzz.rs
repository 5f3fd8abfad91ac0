//! The check the fuzz target runs (`fuzz/fuzz_targets/domain_xml.rs`), shared with the
//! stable `cargo test` that replays the committed seed corpus (`tests/fuzz_seeds.rs`). Not
//! part of the stable API.

use crate::Domain;

/// Arbitrary bytes as domain XML: the parser never panics, and whatever it accepts formats to
/// a document that parses again and formats identically.
pub fn domain_xml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(dom) = Domain::from_xml(text) {
        let out = dom.to_xml();
        let again = Domain::from_xml(&out).expect("formatted XML must parse");
        assert_eq!(again.to_xml(), out, "formatting must be a fixed point");
    }
}
