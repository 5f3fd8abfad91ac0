//! A virtualHW byte and domain XML converted to VMX and back (see
//! `esx_vmx::fuzz::domain_to_vmx`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| esx_vmx::fuzz::domain_to_vmx(data));
