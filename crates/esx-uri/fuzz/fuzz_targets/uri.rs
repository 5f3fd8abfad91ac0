//! Arbitrary bytes as an esx://, gsx:// or vpx:// URI (see `esx_uri::fuzz::uri`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| esx_uri::fuzz::uri(data));
