//! Replays the fuzz targets' committed seed corpora (`fuzz/seeds/<target>/`) through the
//! targets' own checks, on stable, in `cargo test`: a regression fails CI without nightly.

use std::path::Path;

fn seeds(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/seeds")
        .join(target);
    let mut out: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            let p = e.unwrap().path();
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn uri_seeds() {
    let all = seeds("uri");
    assert!(all.len() >= 10, "{} seeds", all.len());
    for (name, data) in &all {
        let r = std::panic::catch_unwind(|| esx_uri::fuzz::uri(data));
        assert!(r.is_ok(), "seed {name}");
    }
    let parses = |n: &str| {
        let d = &all.iter().find(|(x, _)| x == n).unwrap().1;
        esx_uri::EsxUri::parse(std::str::from_utf8(d).unwrap()).is_ok()
    };
    assert!(parses("plain") && parses("vpx-full") && parses("fingerprint") && parses("ipv6"));
    assert!(!parses("password") && !parses("remote-transport") && !parses("bad-proxy"));
}

#[test]
fn auth_conf_seeds() {
    let all = seeds("auth_conf");
    assert!(all.len() >= 6, "{} seeds", all.len());
    for (name, data) in &all {
        let r = std::panic::catch_unwind(|| esx_uri::fuzz::auth_conf(data));
        assert!(r.is_ok(), "seed {name}");
    }
}
