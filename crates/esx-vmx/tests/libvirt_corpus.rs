//! libvirt's vmx2xml and xml2vmx test cases, run the way libvirt's test programs run them:
//! byte-exact comparison (a trailing newline added to our output if missing), libvirt's fake
//! file name conventions, the datacenterPath and virtualHW columns, and `parse-fails` cases.
//! Every domain XML we produce is also validated with xmllint against libvirt's domain.rng.

use std::path::{Path, PathBuf};
use std::process::Command;

use esx_domain::Domain;
use esx_vmx::convert::{
    domain_to_vmx, vmx_text_to_domain, FormatContext, LibvirtTestResolver, ParseContext,
};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn corpus_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("LIBVIRT_VMX_CORPUS") {
        Some(d) => PathBuf::from(d),
        None => workspace().join("../shared/corpus/libvirt-vmx"),
    };
    if dir.join("vmx2xml-cases.tsv").is_file() {
        Some(dir)
    } else {
        eprintln!(
            "!!! SKIPPING libvirt vmx corpus: {} not found (set LIBVIRT_VMX_CORPUS)",
            dir.display()
        );
        None
    }
}

fn schema() -> PathBuf {
    workspace().join("../shared/schemas/libvirt-11.3.0/domain.rng")
}

fn rows(path: &Path) -> Vec<Vec<String>> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
}

fn with_newline(mut s: String) -> String {
    if !s.ends_with('\n') {
        s.push('\n');
    }
    s
}

fn validate(xml: &str, name: &str) -> Result<(), String> {
    let rng = schema();
    if !rng.exists() {
        return Err(format!("schema {} not found", rng.display()));
    }
    let tmp =
        std::env::temp_dir().join(format!("esx-vmx-corpus-{}-{name}.xml", std::process::id()));
    std::fs::write(&tmp, xml).map_err(|e| e.to_string())?;
    let out = Command::new("xmllint")
        .arg("--noout")
        .arg("--relaxng")
        .arg(&rng)
        .arg(&tmp)
        .output();
    let _ = std::fs::remove_file(&tmp);
    let out = out.map_err(|e| {
        format!("cannot run xmllint ({e}); install it: apt-get install -y libxml2-utils")
    })?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "domain.rng validation failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

fn first_difference(a: &str, b: &str) -> String {
    for (i, (x, y)) in a.lines().zip(b.lines()).enumerate() {
        if x != y {
            return format!("line {}: got {x:?}, expected {y:?}", i + 1);
        }
    }
    format!(
        "length differs: got {} lines, expected {} lines",
        a.lines().count(),
        b.lines().count()
    )
}

fn vmx2xml_case(dir: &Path, row: &[String]) -> Result<(), String> {
    let get = |i: usize| row.get(i).map(String::as_str).unwrap_or("");
    let (name, input, expected, expect, dc) = (get(0), get(1), get(2), get(3), get(4));
    let text = std::fs::read(dir.join(input)).map_err(|e| format!("read {input}: {e}"))?;
    let ctx = ParseContext {
        resolver: &LibvirtTestResolver,
        datacenter_path: (dc != "NULL" && !dc.is_empty()).then(|| dc.to_string()),
        moref: None,
    };
    let result = vmx_text_to_domain(&text, &ctx);
    if expect == "parse-fails" {
        return match result {
            Ok(_) => Err("expected the conversion to fail, but it succeeded".into()),
            Err(_) => Ok(()),
        };
    }
    let dom = result.map_err(|e| format!("conversion failed: {e}"))?;
    let xml = with_newline(dom.to_xml());
    let want =
        std::fs::read_to_string(dir.join(expected)).map_err(|e| format!("read {expected}: {e}"))?;
    if xml != want {
        return Err(format!("output differs: {}", first_difference(&xml, &want)));
    }
    validate(&xml, name)
}

fn xml2vmx_case(dir: &Path, row: &[String]) -> Result<(), String> {
    let get = |i: usize| row.get(i).map(String::as_str).unwrap_or("");
    let (input, expected, hw) = (get(1), get(2), get(3));
    let hw: i64 = hw
        .parse()
        .map_err(|_| format!("bad virtualHW column '{hw}'"))?;
    let text =
        std::fs::read_to_string(dir.join(input)).map_err(|e| format!("read {input}: {e}"))?;
    let dom = Domain::from_xml(&text).map_err(|e| format!("domain XML: {e}"))?;
    let ctx = FormatContext {
        resolver: &LibvirtTestResolver,
    };
    let vmx = domain_to_vmx(&dom, &ctx, hw).map_err(|e| format!("conversion failed: {e}"))?;
    let vmx = with_newline(vmx);
    let want =
        std::fs::read_to_string(dir.join(expected)).map_err(|e| format!("read {expected}: {e}"))?;
    if vmx != want {
        return Err(format!("output differs: {}", first_difference(&vmx, &want)));
    }
    Ok(())
}

/// A case runner: the corpus dir and a case row, `Err` with the failure reason.
type CaseFn = fn(&Path, &[String]) -> Result<(), String>;

#[test]
fn libvirt_vmx_corpus() {
    let Some(dir) = corpus_dir() else { return };
    let mut passed = 0usize;
    let mut failed = 0usize;
    let suites: [(&str, CaseFn); 2] = [("vmx2xml", vmx2xml_case), ("xml2vmx", xml2vmx_case)];
    for (suite, run) in suites {
        for row in rows(&dir.join(format!("{suite}-cases.tsv"))) {
            let name = format!("{suite}/{}", row.first().map(String::as_str).unwrap_or("?"));
            match run(&dir, &row) {
                Ok(()) => {
                    passed += 1;
                    println!("PASS {name}");
                }
                Err(reason) => {
                    failed += 1;
                    println!("FAIL {name}: {reason}");
                }
            }
        }
    }
    println!("libvirt vmx corpus: {passed} passed, {failed} failed");
    assert!(passed + failed > 0, "no cases found in {}", dir.display());
    assert_eq!(failed, 0, "{failed} libvirt vmx corpus case(s) failed");
}

/// domain -> VMX -> domain keeps what VMX can express: every expected vmx2xml document that
/// the formatter accepts comes back identical (the VM generation ID, which libvirt does not
/// write, aside).
#[test]
fn domain_vmx_domain_round_trip() {
    let Some(dir) = corpus_dir() else { return };
    let mut checked = 0;
    let mut failures = Vec::new();
    for row in rows(&dir.join("vmx2xml-cases.tsv")) {
        let (Some(name), Some(expected)) = (row.first(), row.get(2)) else {
            continue;
        };
        if expected == "-" {
            continue;
        }
        let text = std::fs::read_to_string(dir.join(expected)).unwrap_or_default();
        if text.contains("<mac address='00:00:00:00:00:00'") {
            // An all-zero address asks for a new one (libvirt makes a random one).
            println!("SKIP {name}: all-zero MAC address");
            continue;
        }
        let Ok(mut dom) = Domain::from_xml(&text) else {
            failures.push(format!("{name}: does not parse"));
            continue;
        };
        dom.genid = None;
        let fctx = FormatContext {
            resolver: &LibvirtTestResolver,
        };
        let vmx = match domain_to_vmx(&dom, &fctx, 10) {
            Ok(v) => v,
            // SATA disks and the like cannot be written to VMX by libvirt either.
            Err(e) => {
                println!("SKIP {name}: {e}");
                continue;
            }
        };
        let pctx = ParseContext {
            resolver: &LibvirtTestResolver,
            datacenter_path: dom.vmware.datacenter_path.clone(),
            moref: None,
        };
        match vmx_text_to_domain(vmx.as_bytes(), &pctx) {
            Ok(back) if back.to_xml() == dom.to_xml() => checked += 1,
            Ok(back) => failures.push(format!(
                "{name}: {}",
                first_difference(&back.to_xml(), &dom.to_xml())
            )),
            Err(e) => failures.push(format!("{name}: re-parse failed: {e}\n{vmx}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    println!("domain -> vmx -> domain: {checked} documents identical");
}
