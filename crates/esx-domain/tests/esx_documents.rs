//! The storage pool, storage volume, network and capabilities documents under
//! `testdata/domain/` (listed in `cases.tsv`): each parses, formats back byte for byte, and
//! validates with xmllint against libvirt 11.3.0's RNG schema (after the documented
//! substitutions for libvirt's own schema gaps, which must really be gaps). The documents the
//! ESX constructors build are checked the same way.

use std::path::{Path, PathBuf};
use std::process::Command;

use esx_domain::{Capabilities, Network, PoolType, StoragePool, StorageVolume};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn schema_dir() -> Option<PathBuf> {
    let dir = workspace().join("../shared/schemas/libvirt-11.3.0");
    if dir.join("storagepool.rng").is_file() {
        Some(dir)
    } else {
        eprintln!(
            "!!! SKIPPING schema validation: {} not found",
            dir.display()
        );
        None
    }
}

/// Run xmllint; `Ok(())` when the document validates, `Err(stderr)` when it does not.
fn xmllint(schema: &Path, xml: &str, name: &str) -> Result<(), String> {
    let tmp = std::env::temp_dir().join(format!("esx-domain-doc-{}-{name}", std::process::id()));
    std::fs::write(&tmp, xml).expect("write temp file");
    let out = Command::new("xmllint")
        .arg("--noout")
        .arg("--relaxng")
        .arg(schema)
        .arg(&tmp)
        .output();
    let _ = std::fs::remove_file(&tmp);
    let out = out.expect("xmllint runs (apt-get install -y libxml2-utils)");
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// Parse with the model the schema belongs to and format again.
fn round_trip(schema: &str, text: &str) -> Result<String, String> {
    let e = |e: esx_domain::DomainXmlError| e.to_string();
    Ok(match schema {
        "storagepool.rng" => StoragePool::from_xml(text).map_err(e)?.to_xml(),
        "storagevol.rng" => StorageVolume::from_xml(text).map_err(e)?.to_xml(),
        "network.rng" => Network::from_xml(text).map_err(e)?.to_xml(),
        "capability.rng" => Capabilities::from_xml(text).map_err(e)?.to_xml(),
        other => return Err(format!("unknown schema column '{other}'")),
    })
}

/// Check one formatted document against its schema, applying `subs` first; with
/// substitutions, the original text must fail (the gap is real).
fn check_schema(
    dir: &Path,
    schema: &str,
    xml: &str,
    subs: &[(String, String)],
    name: &str,
) -> Result<(), String> {
    let rng = dir.join(schema);
    let mut patched = xml.to_string();
    for (from, to) in subs {
        if !patched.contains(from.as_str()) {
            return Err(format!("substitution text {from:?} not found"));
        }
        patched = patched.replace(from.as_str(), to);
    }
    xmllint(&rng, &patched, name).map_err(|e| format!("{schema} validation failed: {e}"))?;
    if !subs.is_empty() && xmllint(&rng, xml, name).is_ok() {
        return Err("validates without the substitutions: drop them from cases.tsv".into());
    }
    Ok(())
}

fn unescape(s: &str) -> String {
    s.replace("\\n", "\n")
}

#[test]
fn testdata_documents_round_trip_and_validate() {
    let data = workspace().join("testdata/domain");
    let cases = std::fs::read_to_string(data.join("cases.tsv")).expect("testdata/domain/cases.tsv");
    let schemas = schema_dir();
    let mut failures = Vec::new();
    let mut count = 0;
    for line in cases
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let cols: Vec<&str> = line.split('\t').collect();
        let (Some(file), Some(schema)) = (cols.first(), cols.get(1)) else {
            failures.push(format!("bad line {line:?}"));
            continue;
        };
        let subs: Vec<(String, String)> = cols[2..]
            .chunks(2)
            .filter_map(|p| match p {
                [f, t] => Some((unescape(f), unescape(t))),
                _ => None,
            })
            .collect();
        count += 1;
        let text = match std::fs::read_to_string(data.join(file)) {
            Ok(t) => t,
            Err(e) => {
                failures.push(format!("{file}: {e}"));
                continue;
            }
        };
        let result = round_trip(schema, &text).and_then(|out| {
            if out != text {
                return Err(format!("formatted text differs:\n{out}"));
            }
            match &schemas {
                Some(dir) => check_schema(dir, schema, &out, &subs, file),
                None => Ok(()),
            }
        });
        match result {
            Ok(()) => println!("PASS {file}"),
            Err(e) => failures.push(format!("{file}: {e}")),
        }
    }
    assert!(count >= 15, "only {count} cases in cases.tsv");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The documents the ESX constructors produce validate too (with the same gaps).
#[test]
fn esx_constructors_validate() {
    let Some(dir) = schema_dir() else { return };
    let mut pool = StoragePool::esx_datastore(PoolType::Dir, "local", "/vmfs/volumes/local");
    pool.uuid = Some("2d0f8c61-5b7e-4a93-8e14-c6a9f3b05d72".parse().unwrap());
    check_schema(
        &dir,
        "storagepool.rng",
        &pool.to_xml(),
        &[],
        "ctor-pool.xml",
    )
    .unwrap();

    let vol = StorageVolume::esx_file("ds1", "vm.vmdk", "[ds1] vm.vmdk", "vmdk", 1 << 30, 0);
    let subs = [(
        "<path>[ds1] ".to_string(),
        "<path>/vmfs/volumes/ds1/".to_string(),
    )];
    check_schema(&dir, "storagevol.rng", &vol.to_xml(), &subs, "ctor-vol.xml").unwrap();

    for long_mode in [false, true] {
        let caps = Capabilities::esx(long_mode, None);
        let subs = [("type='vmware'".to_string(), "type='test'".to_string())];
        check_schema(
            &dir,
            "capability.rng",
            &caps.to_xml(),
            &subs,
            "ctor-caps.xml",
        )
        .unwrap();
    }
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn parse_all(text: &str) {
        // Errors are fine; panics are not. Whatever parses must format to a fixed point.
        if let Ok(p) = StoragePool::from_xml(text) {
            assert_eq!(
                StoragePool::from_xml(&p.to_xml()).map(|q| q.to_xml()),
                Ok(p.to_xml())
            );
        }
        if let Ok(v) = StorageVolume::from_xml(text) {
            assert_eq!(
                StorageVolume::from_xml(&v.to_xml()).map(|q| q.to_xml()),
                Ok(v.to_xml())
            );
        }
        if let Ok(n) = Network::from_xml(text) {
            assert_eq!(
                Network::from_xml(&n.to_xml()).map(|q| q.to_xml()),
                Ok(n.to_xml())
            );
        }
        if let Ok(c) = Capabilities::from_xml(text) {
            assert_eq!(
                Capabilities::from_xml(&c.to_xml()).map(|q| q.to_xml()),
                Ok(c.to_xml())
            );
        }
    }

    fn documents() -> Vec<String> {
        let dir = workspace().join("testdata/domain");
        let mut out: Vec<String> = std::fs::read_dir(&dir)
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .filter(|e| e.path().extension().is_some_and(|x| x == "xml"))
                    .filter_map(|e| std::fs::read_to_string(e.path()).ok())
                    .collect()
            })
            .unwrap_or_default();
        out.sort();
        out
    }

    proptest! {
        #[test]
        fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
            parse_all(&text);
        }

        /// Cut a piece out of a real document, or replace it with other text.
        #[test]
        fn mutated_documents_never_panic(
            pick in any::<prop::sample::Index>(),
            start in any::<prop::sample::Index>(),
            len in 0usize..40,
            insert in "[<>/='a-z0-9 ]{0,12}",
        ) {
            let docs = documents();
            prop_assume!(!docs.is_empty());
            let doc = pick.get(&docs);
            let from = start.index(doc.len());
            let to = (from + len).min(doc.len());
            if let (Some(head), Some(tail)) = (doc.get(..from), doc.get(to..)) {
                parse_all(&format!("{head}{insert}{tail}"));
            }
        }
    }
}
