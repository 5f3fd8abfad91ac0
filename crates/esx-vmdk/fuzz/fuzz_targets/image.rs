//! Arbitrary bytes as a disk image (see `esx_vmdk::fuzz::image`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| esx_vmdk::fuzz::image(data));
