//! Arbitrary bytes as a VMX file converted to a domain (see `esx_vmx::fuzz::vmx_to_domain`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| esx_vmx::fuzz::vmx_to_domain(data));
