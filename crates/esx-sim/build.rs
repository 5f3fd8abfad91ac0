//! Builds the field-type table the property engine uses to walk nested property paths
//! (`config.hardware.memoryMB`): for every generated data object, each field's WSDL name,
//! declared type and whether it repeats, read from the doc comments esx-vim's generator writes.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../esx-vim/src/generated");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut rows: Vec<(String, String, bool)> = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map(|it| it.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    for file in files {
        let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if !name.starts_with("types_") {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        let mut current: Option<String> = None;
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("pub struct ") {
                current = rest.strip_suffix(" {").map(str::to_owned);
                continue;
            }
            if line == "}" {
                current = None;
                continue;
            }
            let (Some(ty), Some(doc)) = (&current, line.strip_prefix("    /// `")) else {
                continue;
            };
            let Some((field, rest)) = doc.split_once("`: ") else {
                continue;
            };
            let rest = rest.trim_end_matches('.');
            let mut parts = rest.split(", ");
            let decl = parts.next().unwrap_or("").to_owned();
            let repeated = parts.any(|p| p == "repeated");
            rows.push((format!("{ty}.{field}"), decl, repeated));
        }
    }
    rows.sort();
    rows.dedup_by(|a, b| a.0 == b.0);
    let mut out = String::from("/// `Type.field` -> (declared WSDL type, repeated), sorted.\n");
    out.push_str("pub static FIELD_TYPES: &[(&str, &str, bool)] = &[\n");
    for (k, t, r) in rows {
        let _ = writeln!(out, "    ({k:?}, {t:?}, {r}),");
    }
    out.push_str("];\n");
    let out_dir = std::env::var("OUT_DIR").unwrap_or_else(|_| ".".into());
    let _ = std::fs::write(Path::new(&out_dir).join("field_types.rs"), out);
}
