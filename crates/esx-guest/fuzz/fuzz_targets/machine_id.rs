//! Arbitrary bytes as a `machine.id` value: the parser never panics, and whatever it reads
//! formats to a value it reads back to the same NICs (`esx_guest::machine_id::fuzz_check`,
//! which `tests/fuzz_seeds.rs` also runs on the committed seeds).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    esx_guest::machine_id::fuzz_check(data);
});
