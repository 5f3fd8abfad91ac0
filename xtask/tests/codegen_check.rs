//! The committed `crates/esx-vim/src/generated/` must be exactly what the WSDL generates.

use std::path::Path;
use std::process::Command;

#[test]
fn generated_code_is_up_to_date() {
    let wsdl = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/wsdl/vsphere-7.0.3");
    if !wsdl.join("vimService.wsdl").is_file() {
        eprintln!(
            "!!! SKIPPED: no WSDL at {} (../shared is absent)",
            wsdl.display()
        );
        return;
    }
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["codegen", "--check", "--wsdl"])
        .arg(&wsdl)
        .output()
        .expect("xtask runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "codegen --check failed:\n{stdout}{stderr}"
    );
    assert!(
        stdout.contains(
            "generated: 2167 data objects, 694 faults, 574 arrays, 393 enums, 928 operations"
        ),
        "unexpected counts: {stdout}"
    );
}
