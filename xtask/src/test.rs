//! `cargo xtask test`: the project's one test command (README.md, `.ci/run`).
//!
//! Installs the system packages the tests need when they are missing and we are allowed to
//! (root, Debian), then runs the workspace's tests.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Debian packages the test suite needs, with the program that proves each is present.
const SYSTEM_PACKAGES: &[(&str, &str)] = &[
    ("xmllint", "libxml2-utils"),
    ("curl", "curl"),
    // the VMDK differential tests (esx-vmdk, esx-provision)
    ("qemu-img", "qemu-utils"),
];

pub fn run(extra: &[String]) -> Result<(), String> {
    let root = workspace_root();
    install_system_packages()?;
    install_peers(&root)?;
    let status = Command::new(env_or("CARGO", "cargo"))
        .current_dir(&root)
        .args(["test", "--workspace", "--no-fail-fast"])
        .args(extra)
        .status()
        .map_err(|e| format!("cannot run cargo test: {e}"))?;
    // The bindings without the HTTPS client (esx-vim's `client` feature) must still build.
    let codec_only = Command::new(env_or("CARGO", "cargo"))
        .current_dir(&root)
        .args(["check", "-p", "esx-vim", "--no-default-features", "--lib"])
        .status()
        .map_err(|e| format!("cannot run cargo check: {e}"))?;
    match (status.success(), codec_only.success()) {
        (true, true) => Ok(()),
        (false, _) => Err(format!("cargo test failed ({status})")),
        (true, false) => Err(format!(
            "cargo check -p esx-vim --no-default-features failed ({codec_only})"
        )),
    }
}

fn install_system_packages() -> Result<(), String> {
    let missing: Vec<&str> = SYSTEM_PACKAGES
        .iter()
        .filter(|(prog, _)| !on_path(prog))
        .map(|(_, pkg)| *pkg)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    if !on_path("apt-get") {
        return Err(format!(
            "tests need Debian packages {missing:?} and apt-get is not available"
        ));
    }
    eprintln!("xtask: installing {missing:?}");
    let sudo: &[&str] = if is_root() { &[] } else { &["sudo", "-n"] };
    let apt = |args: &[&str]| -> Result<(), String> {
        let mut all: Vec<&str> = sudo.to_vec();
        all.push("apt-get");
        all.extend_from_slice(args);
        let st = Command::new(all[0])
            .args(&all[1..])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .map_err(|e| format!("cannot run apt-get: {e}"))?;
        if st.success() {
            Ok(())
        } else {
            Err(format!("apt-get {args:?} failed ({st})"))
        }
    };
    apt(&["update", "-qq"])?;
    let mut install = vec!["install", "-y", "-qq", "--no-install-recommends"];
    install.extend(missing.iter().copied());
    apt(&install)
}

/// The third-party peers (vcsim, govc, pyvmomi, virsh) that interop tests run against, built
/// by `../shared/peers/setup-peers.sh` into `/opt/peers` (or `$PEERS`).
fn install_peers(root: &Path) -> Result<(), String> {
    let peers = std::env::var("PEERS").unwrap_or_else(|_| "/opt/peers".into());
    let ready = ["bin/vcsim", "bin/vcsim-xsi", "bin/govc", "venv/bin/python"]
        .iter()
        .all(|p| Path::new(&peers).join(p).exists())
        && on_path("virsh");
    if ready {
        return Ok(());
    }
    let script = root.join("../shared/peers/setup-peers.sh");
    if !script.is_file() {
        eprintln!("xtask: !!! ../shared/peers is absent: interop tests will be skipped");
        return Ok(());
    }
    if !is_root() {
        eprintln!(
            "xtask: !!! peers missing and not root: run `sudo {}`",
            script.display()
        );
        return Ok(());
    }
    eprintln!("xtask: installing the third-party peers (setup-peers.sh, about two minutes)");
    let st = Command::new("bash")
        .arg(&script)
        .status()
        .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
    if st.success() {
        Ok(())
    } else {
        Err(format!("{} failed ({st})", script.display()))
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn on_path(prog: &str) -> bool {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(prog).is_file()))
        .unwrap_or(false)
}

pub fn env_or(key: &str, default: &str) -> String {
    std::env::var(key).unwrap_or_else(|_| default.to_string())
}

/// The workspace root (the parent of the xtask crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives inside the workspace")
        .to_path_buf()
}
