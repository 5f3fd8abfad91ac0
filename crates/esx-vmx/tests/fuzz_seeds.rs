//! Replays the fuzz targets' committed seed corpora (`fuzz/seeds/<target>/`) through the
//! targets' own checks (`esx_vmx::fuzz`), on stable, in `cargo test`: a regression fails CI
//! without nightly.
//!
//! The starting seeds are our own data: the `.vmx` and domain XML files of the repository's
//! `testdata/` and a few strings below. `initial_seeds_replay` runs them on every test;
//! `ESX_FUZZ_CORPUS=DIR cargo test -p esx-vmx --test fuzz_seeds -- --ignored write_seeds`
//! writes them to `DIR/<target>/` (default `fuzz/corpus/`, not committed) to start a fuzzing
//! campaign, whose minimised corpus (`cargo fuzz cmin`) is what `fuzz/seeds/` holds.

use std::path::{Path, PathBuf};

use esx_domain::Domain;
use esx_vmx::convert::{vmx_text_to_domain, LibvirtTestResolver, ParseContext};
use esx_vmx::VmxFile;

type Check = fn(&[u8]);

const TARGETS: [(&str, Check); 3] = [
    ("vmx_file", esx_vmx::fuzz::vmx_file),
    ("vmx_to_domain", esx_vmx::fuzz::vmx_to_domain),
    ("domain_to_vmx", esx_vmx::fuzz::domain_to_vmx),
];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The files of the repository's `testdata/<dir>` ending in `.ext`, by name.
fn testdata(dirs: &[&str], ext: &str) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for dir in dirs {
        let d = repo().join("testdata").join(dir);
        for e in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == ext) {
                let name = format!(
                    "{}-{}",
                    dir.replace('/', "-"),
                    p.file_name().unwrap().to_string_lossy()
                );
                out.push((name, std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

const VMX_DIRS: [&str; 4] = ["vmx", "vmx/parity", "domain/parity", "cli"];
const XML_DIRS: [&str; 3] = ["vmx/parity", "domain/parity", "cli"];

/// VMX text written here: odd corners of the reader.
fn vmx_strings() -> Vec<(String, Vec<u8>)> {
    [
        ("empty", &b""[..]),
        (
            "crlf",
            b".encoding = \"UTF-8\"\r\ndisplayName = \"a\"\r\nmemsize = \"64\"\r\n",
        ),
        ("no-newline", b"displayName = \"x\""),
        (
            "pipe-escapes",
            b"displayName = \"a |22b|7C c\"\nannotation = \"|0A|0D\"\n",
        ),
        (
            "latin1",
            b".encoding = \"windows-1252\"\ndisplayName = \"caf\xe9\"\n",
        ),
        (
            "comments",
            b"# c\n\n  # indented\nguestOS = \"other\" # tail\n",
        ),
        ("bad-line", b"displayName \"x\"\n"),
        ("dup-keys", b"memsize = \"1\"\nMEMSIZE = \"2\"\n"),
    ]
    .into_iter()
    .map(|(n, d)| (format!("str-{n}"), d.to_vec()))
    .collect()
}

/// The starting seeds of `target`, named.
fn initial(target: &str) -> Vec<(String, Vec<u8>)> {
    match target {
        "vmx_file" | "vmx_to_domain" => {
            let mut all = testdata(&VMX_DIRS, "vmx");
            all.extend(vmx_strings());
            all
        }
        "domain_to_vmx" => testdata(&XML_DIRS, "xml")
            .into_iter()
            .enumerate()
            .map(|(i, (name, xml))| {
                // Spread the files over the virtualHW versions (index 6 is 13).
                let hw = (i * 5 + 6) % esx_vmx::fuzz::HW_VERSIONS.len();
                let mut data = vec![hw as u8];
                data.extend(xml);
                (name, data)
            })
            .collect(),
        _ => unreachable!("{target}"),
    }
}

/// Writes the starting seeds to `$ESX_FUZZ_CORPUS/<target>/` (default `fuzz/corpus/`).
#[test]
#[ignore]
fn write_seeds() {
    let out = std::env::var_os("ESX_FUZZ_CORPUS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus"),
        PathBuf::from,
    );
    for (target, _) in TARGETS {
        let d = out.join(target);
        std::fs::create_dir_all(&d).unwrap();
        for (name, data) in initial(target) {
            std::fs::write(d.join(name), data).unwrap();
        }
    }
}

fn committed(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/seeds")
        .join(target);
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

fn replay(target: &str, check: Check, seeds: &[(String, Vec<u8>)]) {
    for (name, data) in seeds {
        let r = std::panic::catch_unwind(|| check(data));
        assert!(r.is_ok(), "seed {target}/{name}");
    }
}

fn to_domain(vmx: &[u8]) -> Option<Domain> {
    let ctx = ParseContext {
        resolver: &LibvirtTestResolver,
        datacenter_path: None,
        moref: None,
    };
    vmx_text_to_domain(vmx, &ctx).ok()
}

fn count(seeds: &[(String, Vec<u8>)], accepted: impl Fn(&[u8]) -> bool) -> usize {
    seeds.iter().filter(|(_, d)| accepted(d)).count()
}

#[test]
fn vmx_file_seeds() {
    let all = committed("vmx_file");
    assert!(all.len() >= 20, "{} seeds", all.len());
    replay("vmx_file", esx_vmx::fuzz::vmx_file, &all);
    let parsed = count(&all, |d| VmxFile::parse(d).is_ok());
    assert!(
        parsed >= 10 && parsed < all.len(),
        "{parsed} of {} parse",
        all.len()
    );
}

#[test]
fn vmx_to_domain_seeds() {
    let all = committed("vmx_to_domain");
    assert!(all.len() >= 20, "{} seeds", all.len());
    replay("vmx_to_domain", esx_vmx::fuzz::vmx_to_domain, &all);
    let converted = count(&all, |d| to_domain(d).is_some());
    assert!(converted >= 10, "{converted} of {} convert", all.len());
}

#[test]
fn domain_to_vmx_seeds() {
    let all = committed("domain_to_vmx");
    assert!(all.len() >= 20, "{} seeds", all.len());
    replay("domain_to_vmx", esx_vmx::fuzz::domain_to_vmx, &all);
    let read = count(&all, |d| {
        std::str::from_utf8(&d[1.min(d.len())..]).is_ok_and(|x| Domain::from_xml(x).is_ok())
    });
    assert!(read >= 10, "{read} of {} read as a domain", all.len());
}

/// The starting seeds pass too, and say what they should.
#[test]
fn initial_seeds_replay() {
    for (target, check) in TARGETS {
        let seeds = initial(target);
        assert!(seeds.len() >= 20, "{target}: {} seeds", seeds.len());
        replay(target, check, &seeds);
    }
    let vmx = initial("vmx_file");
    let seed = |n: &str| &vmx.iter().find(|(x, _)| x == n).unwrap().1;
    let web = to_domain(seed("cli-web.vmx")).expect("web.vmx converts");
    assert_eq!(web.name.as_deref(), Some("web-01"));
    assert!(to_domain(seed("vmx-minimal.vmx")).is_some());
    assert!(VmxFile::parse(seed("cli-malformed.vmx")).is_err());
    assert!(VmxFile::parse(seed("str-bad-line")).is_err());
    let latin1 = VmxFile::parse(seed("str-latin1")).unwrap();
    assert_eq!(latin1.get("displayName"), Some("café"));
    let xml = initial("domain_to_vmx");
    let web = &xml.iter().find(|(x, _)| x == "cli-web.xml").unwrap().1;
    let dom = Domain::from_xml(std::str::from_utf8(&web[1..]).unwrap()).unwrap();
    assert_eq!(dom.name.as_deref(), Some("web-01"));
}
