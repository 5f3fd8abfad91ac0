//! Arbitrary bytes as a `POST /sdk` body (see `esx_sim::fuzz::request`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    esx_sim::fuzz::request(data);
});
