//! Arbitrary bytes as writes to a streamOptimized image (see `esx_vmdk::fuzz::round_trip`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| esx_vmdk::fuzz::round_trip(data));
