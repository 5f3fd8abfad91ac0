//! Replays the machine_id fuzz target's committed seed corpus (`fuzz/seeds/machine_id/`) and
//! the `machine.id` values of `testdata/guest/` through the target's own check, on stable, in
//! `cargo test`.

use std::path::Path;

use esx_guest::machine_id::fuzz_check;

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .collect();
    out.sort();
    out
}

#[test]
fn machine_id_seeds_pass_the_fuzz_check() {
    let seeds = files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/machine_id"));
    assert!(seeds.len() >= 10, "only {} seeds", seeds.len());
    for (name, data) in &seeds {
        let result = std::panic::catch_unwind(|| fuzz_check(data));
        assert!(result.is_ok(), "seed {name}");
    }
    // The seeds cover both outcomes.
    let parses = |name: &str| {
        let data = &seeds.iter().find(|(n, _)| n == name).unwrap().1;
        esx_guest::parse_machine_id(&String::from_utf8_lossy(data)).is_ok()
    };
    assert!(parses("nova-unit-test") && parses("two-nics") && parses("june-2011-no-hash"));
    assert!(!parses("cactus-four-fields") && !parses("bad-netmask") && !parses("empty"));
}

#[test]
fn testdata_machine_ids_pass_the_fuzz_check() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/guest");
    for case in ["rhel", "debian", "ubuntu", "networkd"] {
        let data = std::fs::read(dir.join(case).join("machine.id")).unwrap();
        fuzz_check(&data);
        assert!(
            esx_guest::parse_machine_id(&String::from_utf8_lossy(&data)).is_ok(),
            "{case}"
        );
    }
}
