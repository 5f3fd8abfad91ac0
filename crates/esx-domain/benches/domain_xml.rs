//! Domain XML parse and format throughput over every domain document of libvirt's VMX corpus
//! (`../shared/corpus/libvirt-vmx`, or the directory in `LIBVIRT_VMX_CORPUS`), in files/s and
//! MB/s: the XML half of `domxml-from-native` / `domxml-to-native`.

use std::hint::black_box;
use std::path::{Path, PathBuf};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use esx_domain::Domain;

fn corpus_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("LIBVIRT_VMX_CORPUS") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/libvirt-vmx"),
    };
    if dir.join("vmx2xml").is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "!!! SKIPPING domain XML benchmark: libvirt vmx corpus {} not found (set LIBVIRT_VMX_CORPUS)",
            dir.display()
        );
        None
    }
}

/// Every `.xml` file under `vmx2xml/` and `xml2vmx/` that parses as a domain.
fn documents(dir: &Path) -> Vec<String> {
    let mut docs = Vec::new();
    for sub in ["vmx2xml", "xml2vmx"] {
        let Ok(entries) = std::fs::read_dir(dir.join(sub)) else {
            continue;
        };
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for path in paths {
            if path.extension().is_some_and(|e| e == "xml") {
                if let Ok(text) = std::fs::read_to_string(&path) {
                    if Domain::from_xml(&text).is_ok() {
                        docs.push(text);
                    }
                }
            }
        }
    }
    docs
}

fn domain_xml(c: &mut Criterion) {
    let Some(dir) = corpus_dir() else { return };
    let docs = documents(&dir);
    let bytes: u64 = docs.iter().map(|d| d.len() as u64).sum();
    let parsed: Vec<Domain> = docs
        .iter()
        .filter_map(|d| Domain::from_xml(d).ok())
        .collect();
    eprintln!(
        "domain XML: {} documents, {bytes} bytes per pass",
        docs.len()
    );
    let mut group = c.benchmark_group("domain_xml");
    for (label, throughput) in [
        ("files", Throughput::Elements(docs.len() as u64)),
        ("bytes", Throughput::Bytes(bytes)),
    ] {
        group.throughput(throughput);
        group.bench_function(format!("parse/{label}"), |b| {
            b.iter(|| {
                for d in &docs {
                    let _ = black_box(Domain::from_xml(black_box(d)));
                }
            })
        });
        group.bench_function(format!("format/{label}"), |b| {
            b.iter(|| {
                for d in &parsed {
                    black_box(black_box(d).to_xml());
                }
            })
        });
    }
    group.finish();
}

criterion_group!(benches, domain_xml);
criterion_main!(benches);
