//! Arbitrary bytes through the VMX reader: never panic, unmodified output equals the input,
//! and an edit re-reads to the value that was set.
#![no_main]

use esx_vmx::VmxFile;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(mut vmx) = VmxFile::parse(data) else {
        return;
    };
    assert_eq!(vmx.to_bytes(), data);
    let first_key = vmx.keys().next().map(str::to_owned);
    if let Some(key) = first_key {
        vmx.set(&key, "fuzz \"value\"");
        let reread = VmxFile::parse_str(&vmx.to_string()).expect("edited file re-reads");
        assert_eq!(reread.get(&key), Some("fuzz \"value\""));
        vmx.remove(&key);
    }
    vmx.set("fuzz.added", "1");
    let _ = vmx.to_bytes();
});
