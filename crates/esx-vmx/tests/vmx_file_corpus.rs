//! Every `.vmx` file of libvirt's corpus reads and writes back byte for byte, and a `set` on
//! any entry changes only that entry's line.
//!
//! The corpus directory comes from `LIBVIRT_VMX_CORPUS` (default
//! `<workspace>/../shared/corpus/libvirt-vmx`); the test is skipped loudly when it is absent.

use std::path::{Path, PathBuf};

use esx_vmx::VmxFile;

fn corpus_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("LIBVIRT_VMX_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/libvirt-vmx")
        });
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "SKIPPED: libvirt VMX corpus not found at {} (set LIBVIRT_VMX_CORPUS)",
            dir.display()
        );
        None
    }
}

fn vmx_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for sub in ["vmx2xml", "xml2vmx"] {
        let Ok(entries) = std::fs::read_dir(dir.join(sub)) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "vmx") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The test data we write ourselves.
fn own_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/vmx");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "vmx"));
    files.sort();
    files
}

fn check_file(path: &Path) -> Result<usize, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("read: {e}"))?;
    let vmx = VmxFile::parse(&bytes).map_err(|e| format!("parse: {e}"))?;
    if vmx.to_bytes() != bytes {
        return Err("to_bytes differs from the file".into());
    }
    let text = vmx.to_string();
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let entries: Vec<(String, String)> = vmx
        .entries()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    for (key, _) in &entries {
        if vmx.get(key).is_none() {
            return Err(format!("entry '{key}' not found by get"));
        }
        let line = vmx.line_of(key).ok_or(format!("no line for '{key}'"))?;
        let mut edited = vmx.clone();
        edited.set(key, "edited value");
        let edited_text = edited.to_string();
        let edited_lines: Vec<&str> = edited_text.split_inclusive('\n').collect();
        if edited_lines.len() != lines.len() {
            return Err(format!("set '{key}' changed the number of lines"));
        }
        for (n, (a, b)) in lines.iter().zip(&edited_lines).enumerate() {
            if n + 1 != line && a != b {
                return Err(format!("set '{key}' (line {line}) changed line {}", n + 1));
            }
        }
        let reread = VmxFile::parse_str(&edited_text).map_err(|e| format!("reparse: {e}"))?;
        if reread.get(key) != Some("edited value") {
            return Err(format!("set '{key}' did not stick"));
        }
    }
    Ok(entries.len())
}

#[test]
fn corpus_files_round_trip_byte_for_byte() {
    let mut files = own_files();
    assert!(!files.is_empty(), "testdata/vmx has no .vmx files");
    if let Some(dir) = corpus_dir() {
        let corpus = vmx_files(&dir);
        assert!(!corpus.is_empty(), "no .vmx files under {}", dir.display());
        files.extend(corpus);
    }
    let (mut passed, mut failed, mut entries) = (0, 0, 0);
    for path in &files {
        match check_file(path) {
            Ok(n) => {
                passed += 1;
                entries += n;
            }
            Err(reason) => {
                failed += 1;
                println!("FAIL {}: {reason}", path.display());
            }
        }
    }
    println!("vmx file round trip: {passed} passed, {failed} failed ({entries} entries edited)");
    assert_eq!(failed, 0);
}
