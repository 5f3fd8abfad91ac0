//! Any bytes as a SOAP envelope (see `esx_vim::fuzz::decode_envelope`).
#![no_main]

libfuzzer_sys::fuzz_target!(|input: &[u8]| esx_vim::fuzz::decode_envelope(input));
