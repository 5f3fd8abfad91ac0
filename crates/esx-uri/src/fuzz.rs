//! The checks the fuzz targets run (`fuzz/`), shared with the stable `cargo test` that
//! replays the committed seed corpora (`tests/fuzz_seeds.rs`). Not part of the stable API.

use std::path::Path;

use crate::{AuthConfig, EsxUri};

/// Arbitrary bytes as a URI: never a panic; a URI that parses prints to text that parses to
/// the same URI.
pub fn uri(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(uri) = EsxUri::parse(text) else {
        return;
    };
    let printed = uri.to_string();
    let again = EsxUri::parse(&printed)
        .unwrap_or_else(|e| panic!("{printed:?} (printed from {text:?}) does not parse: {e}"));
    assert_eq!(again, uri, "{text:?} -> {printed:?}");
    let _ = (uri.soap_url(), uri.warnings(), uri.port());
}

/// Arbitrary bytes as an auth.conf: never a panic, lookups of any name never panic either.
pub fn auth_conf(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let Ok(config) = AuthConfig::parse(Path::new("fuzz.conf"), &text) else {
        return;
    };
    for (service, host) in [("esx", "h"), ("vpx", "vc"), ("gsx", "default"), ("", "")] {
        for cred in ["username", "password"] {
            let _ = config.lookup(service, host, cred);
            let _ = config.lookup_for(service, host, cred);
        }
    }
}
