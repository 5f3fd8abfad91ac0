//! Arbitrary bytes as domain XML (see `esx_domain::fuzz::domain_xml`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| esx_domain::fuzz::domain_xml(data));
