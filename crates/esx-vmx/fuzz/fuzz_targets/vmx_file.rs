//! Arbitrary bytes through the VMX reader (see `esx_vmx::fuzz::vmx_file`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| esx_vmx::fuzz::vmx_file(data));
