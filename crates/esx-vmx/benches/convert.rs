//! Conversion throughput over libvirt's VMX corpus (`../shared/corpus/libvirt-vmx`, or the
//! directory in `LIBVIRT_VMX_CORPUS`): every vmx2xml input through VMX text -> domain XML text,
//! and every xml2vmx input through domain XML text -> VMX text, as `virsh domxml-from-native`
//! and `domxml-to-native` do with libvirt's ESX driver (the driver's format options; the XML
//! read, post-parsed and validated before it is converted). Each direction is reported twice, as files/s and as MB/s.
//! `libvirt_vmx_bench.py` beside this file times libvirt's own converter the same way.

use std::hint::black_box;
use std::path::{Path, PathBuf};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use esx_domain::FormatOptions;
use esx_vmx::convert::{
    domain_xml_to_vmx, vmx_text_to_domain, FormatContext, LibvirtTestResolver, ParseContext,
};

/// One corpus input: its text and, for xml2vmx, the virtualHW version of its case.
struct Input {
    text: Vec<u8>,
    virtual_hw: i64,
}

fn corpus_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("LIBVIRT_VMX_CORPUS") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/libvirt-vmx"),
    };
    if dir.join("vmx2xml-cases.tsv").is_file() {
        Some(dir)
    } else {
        eprintln!(
            "!!! SKIPPING conversion benchmark: libvirt vmx corpus {} not found (set LIBVIRT_VMX_CORPUS)",
            dir.display()
        );
        None
    }
}

/// The inputs of a `*-cases.tsv` list, without the `parse-fails` cases.
fn inputs(dir: &Path, tsv: &str) -> Vec<Input> {
    let list = std::fs::read_to_string(dir.join(tsv)).unwrap_or_default();
    list.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            if cols.get(3) == Some(&"parse-fails") {
                return None;
            }
            let text = std::fs::read(dir.join(cols.get(1)?)).ok()?;
            let virtual_hw = cols.get(3).and_then(|v| v.parse().ok()).unwrap_or(4);
            Some(Input { text, virtual_hw })
        })
        .collect()
}

fn parse_ctx() -> ParseContext<'static> {
    ParseContext {
        resolver: &LibvirtTestResolver,
        datacenter_path: None,
        moref: None,
    }
}

fn vmx2xml(input: &Input) -> Option<String> {
    vmx_text_to_domain(&input.text, &parse_ctx())
        .ok()
        .map(|d| d.to_xml_with(&FormatOptions::DRIVER))
}

fn xml2vmx(input: &Input) -> Option<String> {
    let text = std::str::from_utf8(&input.text).ok()?;
    let ctx = FormatContext {
        resolver: &LibvirtTestResolver,
    };
    domain_xml_to_vmx(text, &ctx, input.virtual_hw).ok()
}

type Convert = fn(&Input) -> Option<String>;

fn bench_direction(c: &mut Criterion, name: &str, all: Vec<Input>, convert: Convert) {
    let total = all.len();
    // Time only the files the converter accepts, as the libvirt side does.
    let files: Vec<Input> = all.into_iter().filter(|i| convert(i).is_some()).collect();
    let bytes: u64 = files.iter().map(|i| i.text.len() as u64).sum();
    eprintln!(
        "{name}: {} of {total} corpus files convert, {bytes} bytes per pass",
        files.len()
    );
    let mut group = c.benchmark_group(name);
    for (label, throughput) in [
        ("files", Throughput::Elements(files.len() as u64)),
        ("bytes", Throughput::Bytes(bytes)),
    ] {
        group.throughput(throughput);
        group.bench_function(label, |b| {
            b.iter(|| {
                for input in &files {
                    black_box(convert(black_box(input)));
                }
            })
        });
    }
    group.finish();
}

fn conversion(c: &mut Criterion) {
    let Some(dir) = corpus_dir() else { return };
    bench_direction(c, "vmx2xml", inputs(&dir, "vmx2xml-cases.tsv"), vmx2xml);
    bench_direction(c, "xml2vmx", inputs(&dir, "xml2vmx-cases.tsv"), xml2vmx);
}

criterion_group!(benches, conversion);
criterion_main!(benches);
