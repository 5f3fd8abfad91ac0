//! `cargo xtask codegen`: WSDL -> `crates/esx-vim/src/generated/`.

mod emit;
mod managed;
mod names;
mod wsdl;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::test::workspace_root;

/// The default WSDL set: `../shared/wsdl/vsphere-7.0.3` beside the checkout.
pub fn default_wsdl_dir() -> PathBuf {
    workspace_root().join("../shared/wsdl/vsphere-7.0.3")
}

/// Generated sources for the WSDL in `dir`, rustfmt-formatted, by file name.
pub fn generate(dir: &Path) -> Result<(BTreeMap<String, String>, emit::Counts), String> {
    let schema = wsdl::load(dir)?;
    let table = std::fs::read_to_string(workspace_root().join("xtask/data/managed-objects.txt"))
        .map_err(|e| format!("xtask/data/managed-objects.txt: {e}"))?;
    let ops: HashSet<&str> = schema.operations.iter().map(|o| o.name.as_str()).collect();
    let managed = managed::restrict(managed::parse(&table)?, &ops);
    let gen = emit::Gen::new(&schema, &managed)?;
    let counts = gen.counts();
    let files = gen.files()?;
    let formatted = rustfmt(files)?;
    Ok((formatted, counts))
}

fn rustfmt(files: Vec<(String, String)>) -> Result<BTreeMap<String, String>, String> {
    let tmp = std::env::temp_dir().join(format!("esx-codegen-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
    for (name, text) in &files {
        std::fs::write(tmp.join(name), text).map_err(|e| format!("{name}: {e}"))?;
    }
    let status = Command::new("rustfmt")
        .args(["--edition", "2021"])
        .arg(tmp.join("mod.rs"))
        .status()
        .map_err(|e| format!("cannot run rustfmt: {e}"))?;
    if !status.success() {
        return Err(format!(
            "rustfmt failed on the generated code (kept in {})",
            tmp.display()
        ));
    }
    let mut out = BTreeMap::new();
    for (name, _) in files {
        let text = std::fs::read_to_string(tmp.join(&name)).map_err(|e| format!("{name}: {e}"))?;
        out.insert(name, text);
    }
    let _ = std::fs::remove_dir_all(&tmp);
    Ok(out)
}

/// `cargo xtask codegen [--wsdl DIR] [--check]`.
pub fn run(args: &[String]) -> Result<(), String> {
    let mut dir = default_wsdl_dir();
    let mut check = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--wsdl" => dir = PathBuf::from(it.next().ok_or("--wsdl needs a directory")?),
            "--check" => check = true,
            other => return Err(format!("codegen: unknown argument {other}")),
        }
    }
    if !dir.join("vimService.wsdl").is_file() {
        return Err(format!("no vimService.wsdl in {}", dir.display()));
    }
    let (files, c) = generate(&dir)?;
    println!(
        "generated: {} data objects, {} faults, {} arrays, {} enums, {} operations",
        c.data, c.faults, c.arrays, c.enums, c.operations
    );
    let out_dir = workspace_root().join("crates/esx-vim/src/generated");
    if check {
        let mut stale = Vec::new();
        for (name, text) in &files {
            match std::fs::read_to_string(out_dir.join(name)) {
                Ok(old) if &old == text => {}
                _ => stale.push(name.clone()),
            }
        }
        if let Ok(rd) = std::fs::read_dir(&out_dir) {
            for e in rd.flatten() {
                let n = e.file_name().to_string_lossy().into_owned();
                if !files.contains_key(&n) {
                    stale.push(format!("{n} (should not exist)"));
                }
            }
        }
        if !stale.is_empty() {
            return Err(format!(
                "crates/esx-vim/src/generated is stale ({}); run `cargo xtask codegen`",
                stale.join(", ")
            ));
        }
        println!("codegen: crates/esx-vim/src/generated is up to date");
        return Ok(());
    }
    let _ = std::fs::remove_dir_all(&out_dir);
    std::fs::create_dir_all(&out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
    for (name, text) in &files {
        std::fs::write(out_dir.join(name), text).map_err(|e| format!("{name}: {e}"))?;
    }
    println!(
        "codegen: wrote {} files to {}",
        files.len(),
        out_dir.display()
    );
    Ok(())
}
