//! Arbitrary bytes as a libvirt auth.conf (see `esx_uri::fuzz::auth_conf`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| esx_uri::fuzz::auth_conf(data));
