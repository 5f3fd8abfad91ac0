//! Prints decode/encode throughput and peak memory for a large `RetrievePropertiesExResponse`
//! (2,000 VMs with config, guest, runtime and summary), beside quick-xml's bare tokenizing speed
//! on the same bytes. `--write FILE` also saves the document (for peer decoders).
//!
//! `cargo run --release -p esx-vim --example codec-figures [-- --vms 2000 --write /tmp/rpe.xml]`

#[path = "../benches/fixture.rs"]
mod fixture;

use std::time::Instant;

use esx_vim::codec::soap::{decode_response, encode_response, encode_response_into};
use esx_vim::RetrievePropertiesExResponse;

fn vm_hwm_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l.to_string())
        })
        .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

fn vm_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .map(|l| l.to_string())
        })
        .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

fn reset_hwm() {
    // Writing 5 to clear_refs resets VmHWM to the current RSS (Linux).
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// `--decode-once FILE`: one decode in a fresh process, reporting the peak memory it added.
fn decode_once(path: &str) {
    let doc = std::fs::read(path).expect("read document");
    let before = vm_rss_kb();
    reset_hwm();
    let v = decode_response::<RetrievePropertiesExResponse>(&doc)
        .expect("decodes")
        .expect("no fault");
    let peak = vm_hwm_kb().saturating_sub(before);
    std::hint::black_box(&v);
    println!(
        "decode peak memory: {:.1} MB above the loaded document = {:.2}x the payload",
        peak as f64 / 1024.0,
        peak as f64 * 1024.0 / doc.len() as f64
    );
}

/// `--profile decode|encode|encode-reused FILE N`: only that operation, `N` times (for `perf record`).
fn profile(what: &str, path: &str, n: usize) {
    let doc = std::fs::read(path).expect("read document");
    let decode = || {
        decode_response::<RetrievePropertiesExResponse>(&doc)
            .expect("decodes")
            .expect("no fault")
    };
    let value = decode();
    let mut out = Vec::new();
    for _ in 0..n {
        if what == "encode" {
            std::hint::black_box(encode_response("RetrievePropertiesEx", &value));
        } else if what == "encode-reused" {
            encode_response_into(&mut out, "RetrievePropertiesEx", &value);
            std::hint::black_box(&out);
        } else {
            std::hint::black_box(decode());
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--decode-once") {
        return decode_once(args.get(i + 1).map(String::as_str).unwrap_or("/dev/stdin"));
    }
    if let Some(i) = args.iter().position(|a| a == "--profile") {
        let get = |k: usize| args.get(i + k).map(String::as_str).unwrap_or_default();
        return profile(get(1), get(2), get(3).parse().unwrap_or(20));
    }
    let arg = |k: &str| {
        args.iter()
            .position(|a| a == k)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let n: usize = arg("--vms").and_then(|v| v.parse().ok()).unwrap_or(2000);
    let runs: usize = arg("--runs").and_then(|v| v.parse().ok()).unwrap_or(7);
    let doc = fixture::retrieve_properties_response(n);
    let mb = doc.len() as f64 / 1e6;
    if let Some(path) = arg("--write") {
        std::fs::write(&path, &doc).expect("write document");
    }
    println!("document: {n} VMs, {:.1} MB", mb);

    // quick-xml alone: read every event.
    let mut t = Vec::new();
    for _ in 0..runs {
        let s = Instant::now();
        let mut r = quick_xml::Reader::from_reader(&doc[..]);
        let mut events = 0u64;
        loop {
            match r.read_event() {
                Ok(quick_xml::events::Event::Eof) => break,
                Ok(_) => events += 1,
                Err(e) => panic!("{e}"),
            }
        }
        std::hint::black_box(events);
        t.push(s.elapsed().as_secs_f64());
    }
    let tok = median(t);

    let mut t = Vec::new();
    let mut decoded = None;
    for _ in 0..runs {
        drop(decoded.take());
        let s = Instant::now();
        let v = decode_response::<RetrievePropertiesExResponse>(&doc)
            .expect("decodes")
            .expect("no fault");
        t.push(s.elapsed().as_secs_f64());
        decoded = Some(v);
    }
    let dec = median(t);
    let value = decoded.expect("decoded");

    let mut t = Vec::new();
    let mut out_len = 0;
    for _ in 0..runs {
        let s = Instant::now();
        let out = encode_response("RetrievePropertiesEx", &value);
        t.push(s.elapsed().as_secs_f64());
        out_len = out.len();
    }
    let enc = median(t);
    assert_eq!(out_len, doc.len(), "re-encoding reproduces the document");

    // The same into one buffer kept across runs, as a server reusing its reply buffers does
    // (and as Go's heap, already faulted in, serves govmomi's `xml.Marshal`).
    let mut t = Vec::new();
    let mut out = Vec::new();
    encode_response_into(&mut out, "RetrievePropertiesEx", &value);
    for _ in 0..runs {
        let s = Instant::now();
        encode_response_into(&mut out, "RetrievePropertiesEx", &value);
        t.push(s.elapsed().as_secs_f64());
    }
    let enc_reused = median(t);
    assert!(
        out == doc,
        "re-encoding into a kept buffer reproduces the document"
    );

    println!("quick-xml tokenize: {:>7.1} MB/s", mb / tok);
    println!("esx-vim decode:     {:>7.1} MB/s  ({:.3} s)", mb / dec, dec);
    println!("esx-vim encode:     {:>7.1} MB/s  ({:.3} s)", mb / enc, enc);
    println!(
        "esx-vim encode, reused buffer: {:>7.1} MB/s  ({:.3} s)",
        mb / enc_reused,
        enc_reused
    );
    if let Some(path) = arg("--write") {
        // Peak memory is only meaningful in a fresh process.
        let exe = std::env::current_exe().expect("own path");
        let out = std::process::Command::new(exe)
            .args(["--decode-once", &path])
            .output()
            .expect("runs");
        print!("{}", String::from_utf8_lossy(&out.stdout));
    }
}
