//! Arbitrary bytes as descriptor text (see `esx_vmdk::fuzz::descriptor`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| esx_vmdk::fuzz::descriptor(data));
