//! Replays the fuzz target's committed seed corpus (`fuzz/seeds/request/`) through the
//! target's own check (`esx_sim::fuzz::request`), on stable, in `cargo test`: a regression
//! fails CI without nightly.
//!
//! The starting seeds are our own data: the envelopes of the repository's
//! `testdata/sim/fuzz-seeds/` as written and as esx-vim's encoder re-encodes them, and a few
//! calls written below. `initial_seeds_replay` runs them on every test;
//! `ESX_FUZZ_CORPUS=DIR cargo test -p esx-sim --test sim -- --ignored fuzz_seeds::write_seeds`
//! writes them to `DIR/request/` (default `fuzz/corpus/`, not committed) to start a fuzzing
//! campaign, whose minimised corpus (`cargo fuzz cmin`) is what `fuzz/seeds/` holds.

use std::path::{Path, PathBuf};

use esx_sim::fuzz::request;
use esx_sim::server::{decode_request, Decoded};

fn envelope(body: &str) -> Vec<u8> {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>"#
    )
    .into_bytes()
}

/// Calls written here, beyond `testdata/sim/fuzz-seeds/`.
const CALLS: [(&str, &str); 7] = [
    (
        "current-time",
        r#"<CurrentTime xmlns="urn:vim25"><_this type="ServiceInstance">ServiceInstance</_this></CurrentTime>"#,
    ),
    (
        "power-off",
        r#"<PowerOffVM_Task xmlns="urn:vim25"><_this type="VirtualMachine">3</_this></PowerOffVM_Task>"#,
    ),
    (
        "rename",
        r#"<Rename_Task xmlns="urn:vim25"><_this type="VirtualMachine">1</_this><newName>a &amp; b</newName></Rename_Task>"#,
    ),
    (
        "container-view",
        r#"<CreateContainerView xmlns="urn:vim25"><_this type="ViewManager">ViewManager</_this><container type="Folder">ha-folder-root</container><type>VirtualMachine</type><recursive>true</recursive></CreateContainerView>"#,
    ),
    (
        "snapshot",
        r#"<CreateSnapshot_Task xmlns="urn:vim25"><_this type="VirtualMachine">2</_this><name>s1</name><memory>false</memory><quiesce>false</quiesce></CreateSnapshot_Task>"#,
    ),
    (
        "unknown-method",
        r#"<NoSuchMethod xmlns="urn:vim25"><_this type="VirtualMachine">2</_this></NoSuchMethod>"#,
    ),
    (
        "wrong-moref",
        r#"<PowerOnVM_Task xmlns="urn:vim25"><_this type="HostSystem">vm-404</_this></PowerOnVM_Task>"#,
    ),
];

/// The starting seeds, named.
fn initial() -> Vec<(String, Vec<u8>)> {
    let mut all = Vec::new();
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/sim/fuzz-seeds");
    let mut files: Vec<_> = std::fs::read_dir(&d)
        .unwrap_or_else(|e| panic!("{}: {e}", d.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for p in files {
        let stem = p.file_stem().unwrap().to_string_lossy().into_owned();
        let data = std::fs::read(&p).unwrap();
        if let Ok(Decoded::Call(req)) = decode_request(&data) {
            all.push((format!("{stem}-reencoded"), req.to_envelope()));
        }
        all.push((stem, data));
    }
    for (name, body) in CALLS {
        all.push((format!("str-{name}"), envelope(body)));
    }
    all.push(("str-not-soap".into(), b"<a>".to_vec()));
    all
}

/// Writes the starting seeds to `$ESX_FUZZ_CORPUS/request/` (default `fuzz/corpus/`).
#[test]
#[ignore]
fn write_seeds() {
    let out = std::env::var_os("ESX_FUZZ_CORPUS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus"),
        PathBuf::from,
    );
    let d = out.join("request");
    std::fs::create_dir_all(&d).unwrap();
    for (name, data) in initial() {
        std::fs::write(d.join(name), data).unwrap();
    }
}

fn committed() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/request");
    let mut out: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect();
    out.sort();
    out
}

/// Runs every seed through the check; returns how many were dispatched.
fn replay(seeds: &[(String, Vec<u8>)]) -> usize {
    let mut dispatched = 0;
    for (name, data) in seeds {
        let r = std::panic::catch_unwind(|| request(data));
        assert!(r.is_ok(), "seed request/{name}");
        dispatched += usize::from(r.unwrap());
    }
    dispatched
}

#[test]
fn request_seeds() {
    let all = committed();
    assert!(all.len() >= 20, "{} seeds", all.len());
    let dispatched = replay(&all);
    assert!(dispatched >= 10, "{dispatched} of {} dispatched", all.len());
}

/// The starting seeds pass too, and decode as what they are.
#[test]
fn initial_seeds_replay() {
    let all = initial();
    assert!(all.len() >= 20, "{} seeds", all.len());
    replay(&all);
    let method = |n: &str| {
        let d = &all.iter().find(|(x, _)| x == n).unwrap().1;
        match decode_request(d) {
            Ok(Decoded::Call(q)) => Some(q.method().to_owned()),
            Ok(Decoded::Fetch(_)) => Some("Fetch".to_owned()),
            Err(_) => None,
        }
    };
    assert_eq!(method("login").as_deref(), Some("Login"));
    assert_eq!(method("login-reencoded").as_deref(), Some("Login"));
    assert_eq!(method("fetch").as_deref(), Some("Fetch"));
    assert_eq!(method("str-rename").as_deref(), Some("Rename_Task"));
    assert_eq!(
        method("str-container-view").as_deref(),
        Some("CreateContainerView")
    );
    assert_eq!(method("str-not-soap"), None);
    let dispatched = |n: &str| request(&all.iter().find(|(x, _)| x == n).unwrap().1);
    assert!(dispatched("str-current-time") && dispatched("power_on"));
    assert!(!dispatched("fetch") && !dispatched("str-not-soap"));
}
