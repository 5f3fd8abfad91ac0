//! Generated domain XML: libvirt's own answers to the VMX cases, the corpus's XML inputs, and
//! those documents changed by one family of mutations.

use crate::rng::Rng;

/// The XML mutation families, in report order.
pub const FAMILIES: &[&str] = &["xml-as-is"];

/// The corpus's domain XML inputs and our testdata domains.
pub fn load_bases(corpus: &std::path::Path, _testdata: &std::path::Path) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let tsv = std::fs::read_to_string(corpus.join("xml2vmx-cases.tsv")).unwrap_or_default();
    for line in tsv
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let cols: Vec<&str> = line.split('\t').collect();
        if let Some(input) = cols.get(1) {
            if let Ok(text) = std::fs::read(corpus.join(input)) {
                out.push(text);
            }
        }
    }
    out
}

/// Generate XML case `case`: (family, bytes).
pub fn generate(
    seed: u64,
    case: u64,
    pool: &[Vec<u8>],
    bases: &[Vec<u8>],
    _only: Option<&str>,
) -> (String, Vec<u8>) {
    let mut rng = Rng::for_case(seed ^ 0x5a5a, case);
    let all: Vec<&Vec<u8>> = pool.iter().chain(bases.iter()).collect();
    if all.is_empty() {
        return ("xml-as-is".into(), b"<domain type='vmware'/>".to_vec());
    }
    ("xml-as-is".into(), all[rng.below(all.len())].clone())
}
