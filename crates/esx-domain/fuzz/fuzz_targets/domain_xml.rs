//! Fuzz the domain XML parser: it must never panic, and whatever it accepts must format to a
//! document that parses again and formats identically.
#![no_main]

use esx_domain::Domain;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(dom) = Domain::from_xml(text) {
        let out = dom.to_xml();
        let again = Domain::from_xml(&out).expect("formatted XML must parse");
        assert_eq!(again.to_xml(), out, "formatting must be a fixed point");
    }
});
