//! libvirt's `esxutilstest` vectors, read from the shared corpus
//! (`ESXUTILS_VECTORS`, default `<workspace>/../shared/corpus/libvirt-vmx/esxutils-vectors.json`).

use std::path::PathBuf;

use esx_uri::{datetime_to_epoch, escape_datastore_item, windows1252_to_utf8, DatastorePath};
use serde_json::Value;

fn vectors() -> Option<Value> {
    let path = std::env::var_os("ESXUTILS_VECTORS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../../shared/corpus/libvirt-vmx/esxutils-vectors.json")
        });
    match std::fs::read_to_string(&path) {
        Ok(text) => Some(serde_json::from_str(&text).expect("vectors are JSON")),
        Err(e) => {
            eprintln!(
                "SKIPPED: esxutils vectors not readable at {}: {e}",
                path.display()
            );
            None
        }
    }
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect()
}

fn list<'a>(v: &'a Value, name: &str) -> &'a [Value] {
    v[name]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_else(|| panic!("no list '{name}'"))
}

#[test]
fn esxutils_vectors() {
    let Some(v) = vectors() else { return };
    let mut failures = Vec::new();
    let mut passed = 0;
    let mut check = |name: String, ok: bool| {
        if ok {
            passed += 1;
        } else {
            failures.push(name);
        }
    };

    for case in list(&v, "ParseDatastorePath") {
        let input = case["input"].as_str().expect("input");
        let got = DatastorePath::parse(input);
        let ok = match case["result"].as_i64() {
            Some(0) => got.as_ref().is_ok_and(|p| {
                Some(p.datastore.as_str()) == case["datastoreName"].as_str()
                    && Some(p.directory.as_str()) == case["directoryName"].as_str()
                    && Some(p.directory_and_file.as_str()) == case["directoryAndFileName"].as_str()
            }),
            _ => got.is_err(),
        };
        check(format!("ParseDatastorePath {input:?}: {got:?}"), ok);
    }
    for case in list(&v, "ConvertDateTimeToCalendarTime") {
        let input = case["input"].as_str().expect("input");
        let got = datetime_to_epoch(input);
        let ok = got.as_ref().ok() == case["secondsSinceEpoch"].as_i64().as_ref();
        check(
            format!("ConvertDateTimeToCalendarTime {input:?}: {got:?}"),
            ok,
        );
    }
    for case in list(&v, "EscapeDatastoreItem") {
        let input = String::from_utf8(hex(case["input_utf8_hex"].as_str().expect("hex")))
            .expect("utf-8 input");
        let got = escape_datastore_item(&input);
        let ok = Some(got.as_str()) == case["escaped"].as_str();
        check(format!("EscapeDatastoreItem {input:?}: {got:?}"), ok);
    }
    for case in list(&v, "ConvertWindows1252ToUTF8") {
        let input = hex(case["input_windows1252_hex"].as_str().expect("hex"));
        let got = windows1252_to_utf8(&input);
        let ok = got.as_bytes() == hex(case["expected_utf8_hex"].as_str().expect("hex"));
        check(format!("ConvertWindows1252ToUTF8 {input:x?}: {got:?}"), ok);
    }

    for failure in &failures {
        println!("FAIL {failure}");
    }
    println!(
        "esxutils vectors: {passed} passed, {} failed",
        failures.len()
    );
    assert!(passed >= 43, "expected all 43 vectors, ran {passed}");
    assert!(failures.is_empty());
}
