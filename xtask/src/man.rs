//! `cargo xtask man [--out FILE]`: the esxsh(1) man page, generated from esxsh's clap
//! definition by the hidden `esxsh man` command (so xtask does not build the vSphere
//! bindings itself); default `target/man/esxsh.1`.

use std::path::PathBuf;
use std::process::Command;

use crate::test::{env_or, workspace_root};

pub fn run(args: &[String]) -> Result<(), String> {
    let root = workspace_root();
    let out = match args {
        [] => root.join("target").join("man").join("esxsh.1"),
        [flag, path] if flag == "--out" => PathBuf::from(path),
        _ => return Err("usage: cargo xtask man [--out FILE]".into()),
    };
    let output = Command::new(env_or("CARGO", "cargo"))
        .current_dir(&root)
        .args([
            "run", "--quiet", "-p", "esx-cli", "--bin", "esxsh", "--", "-q", "man",
        ])
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "esxsh man failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::write(&out, &output.stdout).map_err(|e| format!("{}: {e}", out.display()))?;
    println!("wrote {}", out.display());
    Ok(())
}
