//! `cargo xtask test`: the project's one test command (README.md, `.ci/run`).
//!
//! Installs the system packages the tests need when they are missing and we are allowed to
//! (root, Debian), then runs the workspace's tests.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Debian packages the test suite needs, with the program that proves each is present.
const SYSTEM_PACKAGES: &[(&str, &str)] = &[
    ("xmllint", "libxml2-utils"),
    ("curl", "curl"),
    // the VMDK differential tests (esx-vmdk, esx-provision)
    ("qemu-img", "qemu-utils"),
];

pub fn run(extra: &[String]) -> Result<(), String> {
    let root = workspace_root();
    let fresh = fresh_target(&root);
    if fresh {
        // A fresh target directory (CI's clean clone) is built once: incremental caches would
        // only double the disk it needs (the last CI run ran out of space), so they are off for
        // every cargo below, which inherits this environment.
        eprintln!("xtask: fresh target directory: building without incremental caches");
        std::env::set_var("CARGO_INCREMENTAL", "0");
    }
    install_system_packages()?;
    install_peers(&root)?;
    disk_report(&root, "before the tests");
    let status = Command::new(env_or("CARGO", "cargo"))
        .current_dir(&root)
        .args(["test", "--workspace", "--no-fail-fast"])
        .args(extra)
        .status()
        .map_err(|e| format!("cannot run cargo test: {e}"))?;
    // The bindings without the HTTPS client (esx-vim's `client` feature) must still build.
    let codec_only = Command::new(env_or("CARGO", "cargo"))
        .current_dir(&root)
        .args(["check", "-p", "esx-vim", "--no-default-features", "--lib"])
        .status()
        .map_err(|e| format!("cannot run cargo check: {e}"))?;
    disk_report(&root, "after the tests");
    // The fuzz crates are outside the workspace: without this they rot unseen until someone
    // runs nightly cargo-fuzz.
    let fuzz = check_fuzz_crates(&root);
    // Crates other projects can depend on: each builds from its own .crate archive, and the
    // dependency tree passes deny.toml (licences, bans, sources).
    let packaging = check_packaging(&root);
    if fresh {
        // Nothing will reuse them; the documentation step needs the room.
        for dir in ["target/fuzz-check", "target/package-check"] {
            let _ = std::fs::remove_dir_all(root.join(dir));
        }
    }
    disk_report(&root, "after the fuzz and packaging checks");
    let deny = check_deny(&root);
    // The documentation users read: every public item documented, every link resolved.
    let docs = check_docs(&root);
    disk_report(&root, "at the end");
    match (status.success(), codec_only.success()) {
        (true, true) => fuzz.and(packaging).and(deny).and(docs),
        (false, _) => Err(format!("cargo test failed ({status})")),
        (true, false) => Err(format!(
            "cargo check -p esx-vim --no-default-features failed ({codec_only})"
        )),
    }
}

/// Whether the workspace was never built in this target directory (only xtask itself, which
/// `cargo xtask` has just built): true on CI's clean clone.
fn fresh_target(root: &Path) -> bool {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let Ok(entries) = std::fs::read_dir(target.join("debug/.fingerprint")) else {
        return true;
    };
    !entries
        .flatten()
        .any(|e| e.file_name().to_string_lossy().starts_with("esx-vim-"))
}

/// Prints the space used under `target/` and left on its file system, so that a CI run that
/// runs out of disk shows where it went.
fn disk_report(root: &Path, when: &str) {
    let target = root.join("target");
    let used = Command::new("du")
        .args(["-sh"])
        .arg(&target)
        .output()
        .ok()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .split_whitespace()
                .next()
                .unwrap_or("?")
                .to_string()
        })
        .unwrap_or_else(|| "?".into());
    let free = Command::new("df")
        .args(["-h", "--output=avail"])
        .arg(&target)
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .nth(1)
                .map(|l| l.trim().to_string())
        })
        .unwrap_or_else(|| "?".into());
    eprintln!("xtask: disk {when}: target/ holds {used}, {free} free");
}

/// `cargo doc --workspace --no-deps` with rustdoc's warnings (broken intra-doc links, missing
/// docs on public items) as errors.
fn check_docs(root: &Path) -> Result<(), String> {
    eprintln!("xtask: cargo doc --workspace --no-deps (-D warnings -W missing-docs)");
    let st = Command::new(env_or("CARGO", "cargo"))
        .current_dir(root)
        .args(["doc", "--workspace", "--no-deps", "--quiet"])
        .env("RUSTDOCFLAGS", "-D warnings -W missing-docs")
        .status()
        .map_err(|e| format!("cannot run cargo doc: {e}"))?;
    if st.success() {
        Ok(())
    } else {
        Err(format!(
            "documentation check (cargo doc --workspace --no-deps, -D warnings) failed ({st})"
        ))
    }
}

/// The cargo-fuzz packages (`crates/*/fuzz/Cargo.toml` and `crates/*/fuzz/*/Cargo.toml`),
/// each its own workspace, sorted.
fn fuzz_manifests(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(crates) = std::fs::read_dir(root.join("crates")) else {
        return out;
    };
    for krate in crates.flatten() {
        let fuzz = krate.path().join("fuzz");
        if fuzz.join("Cargo.toml").is_file() {
            out.push(fuzz.join("Cargo.toml"));
        }
        for sub in std::fs::read_dir(&fuzz).into_iter().flatten().flatten() {
            let manifest = sub.path().join("Cargo.toml");
            if manifest.is_file() {
                out.push(manifest);
            }
        }
    }
    out.sort();
    out
}

/// `cargo check` of every fuzz package on the toolchain at hand (stable in CI; libfuzzer-sys
/// builds its C++ with the system compiler), all into one target directory
/// (`target/fuzz-check`) so that the dependencies they share are checked once.
fn check_fuzz_crates(root: &Path) -> Result<(), String> {
    let target_dir = root.join("target/fuzz-check");
    let mut failed = Vec::new();
    for manifest in fuzz_manifests(root) {
        let dir = manifest.parent().unwrap_or(root);
        let name = dir.strip_prefix(root).unwrap_or(dir).display().to_string();
        eprintln!("xtask: cargo check {name} (fuzz targets)");
        let st = Command::new(env_or("CARGO", "cargo"))
            .current_dir(root)
            .arg("check")
            .arg("--quiet")
            .arg("--manifest-path")
            .arg(&manifest)
            .arg("--target-dir")
            .arg(&target_dir)
            .arg("--bins")
            .status()
            .map_err(|e| format!("cannot run cargo check: {e}"))?;
        if !st.success() {
            eprintln!("xtask: !!! the fuzz crate {name} does not compile ({st})");
            failed.push(name);
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("fuzz crates do not compile: {}", failed.join(", ")))
    }
}

fn install_system_packages() -> Result<(), String> {
    let missing: Vec<&str> = SYSTEM_PACKAGES
        .iter()
        .filter(|(prog, _)| !on_path(prog))
        .map(|(_, pkg)| *pkg)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    if !on_path("apt-get") {
        return Err(format!(
            "tests need Debian packages {missing:?} and apt-get is not available"
        ));
    }
    eprintln!("xtask: installing {missing:?}");
    let sudo: &[&str] = if is_root() { &[] } else { &["sudo", "-n"] };
    let apt = |args: &[&str]| -> Result<(), String> {
        let mut all: Vec<&str> = sudo.to_vec();
        all.push("apt-get");
        all.extend_from_slice(args);
        let st = Command::new(all[0])
            .args(&all[1..])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .map_err(|e| format!("cannot run apt-get: {e}"))?;
        if st.success() {
            Ok(())
        } else {
            Err(format!("apt-get {args:?} failed ({st})"))
        }
    };
    apt(&["update", "-qq"])?;
    let mut install = vec!["install", "-y", "-qq", "--no-install-recommends"];
    install.extend(missing.iter().copied());
    apt(&install)
}

/// The third-party peers (vcsim, govc, pyvmomi, virsh) that interop tests run against, built
/// by `../shared/peers/setup-peers.sh` into `/opt/peers` (or `$PEERS`).
fn install_peers(root: &Path) -> Result<(), String> {
    let peers = std::env::var("PEERS").unwrap_or_else(|_| "/opt/peers".into());
    let ready = ["bin/vcsim", "bin/vcsim-xsi", "bin/govc", "venv/bin/python"]
        .iter()
        .all(|p| Path::new(&peers).join(p).exists())
        && on_path("virsh");
    if ready {
        return Ok(());
    }
    let script = root.join("../shared/peers/setup-peers.sh");
    if !script.is_file() {
        eprintln!("xtask: !!! ../shared/peers is absent: interop tests will be skipped");
        return Ok(());
    }
    if !is_root() {
        eprintln!(
            "xtask: !!! peers missing and not root: run `sudo {}`",
            script.display()
        );
        return Ok(());
    }
    eprintln!("xtask: installing the third-party peers (setup-peers.sh, about two minutes)");
    let st = Command::new("bash")
        .arg(&script)
        .status()
        .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
    if st.success() {
        Ok(())
    } else {
        Err(format!("{} failed ({st})", script.display()))
    }
}

/// The crates that are not published (`publish = false`), left out of the packaging check.
const UNPUBLISHED: &[&str] = &["xtask", "esx-testkit"];

/// `cargo package --workspace`: every published crate is packaged, then built from its
/// `.crate` alone (cargo packages the workspace's unpublished crates in dependency order
/// through a local registry overlay), in `target/package-check` so that the main target
/// directory is left alone. Without debug info: only that it builds matters. `--allow-dirty`
/// so that it also runs on a work tree with uncommitted changes; `--quiet` hides the warnings
/// about the tests, benches and examples the archives leave out on purpose.
fn check_packaging(root: &Path) -> Result<(), String> {
    eprintln!("xtask: cargo package --workspace (each crate built from its .crate)");
    forget_own_registry_builds(&root.join("target/package-check"));
    let mut cmd = Command::new(env_or("CARGO", "cargo"));
    cmd.current_dir(root)
        .args(["package", "--workspace", "--allow-dirty", "--quiet"])
        .arg("--target-dir")
        .arg(root.join("target/package-check"))
        .env("CARGO_PROFILE_DEV_DEBUG", "false");
    for name in UNPUBLISHED {
        cmd.args(["--exclude", name]);
    }
    let st = cmd
        .status()
        .map_err(|e| format!("packaging check: cannot run cargo package: {e}"))?;
    if st.success() {
        Ok(())
    } else {
        eprintln!("xtask: !!! packaging check failed: a crate does not package or build alone");
        Err(format!(
            "packaging check (cargo package --workspace) failed ({st})"
        ))
    }
}

/// Cargo takes a registry crate as final (published versions never change), but the packaging
/// check publishes our crates, always 0.1.0, to a local overlay again and again: an earlier
/// esx-uri, extracted under `$CARGO_HOME/registry/src/` and built in the target directory,
/// would be reused against today's esx-driver. Forget both for our own crates (`esx-*`);
/// third-party ones stay.
fn forget_own_registry_builds(target_dir: &Path) {
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")));
    if let Some(home) = cargo_home {
        for kind in ["src", "cache"] {
            let Ok(registries) = std::fs::read_dir(home.join("registry").join(kind)) else {
                continue;
            };
            for registry in registries.flatten() {
                for e in std::fs::read_dir(registry.path())
                    .into_iter()
                    .flatten()
                    .flatten()
                {
                    if e.file_name().to_string_lossy().starts_with("esx-") {
                        let path = e.path();
                        let _ = if path.is_dir() {
                            std::fs::remove_dir_all(&path)
                        } else {
                            std::fs::remove_file(&path)
                        };
                    }
                }
            }
        }
    }
    let profile = target_dir.join("debug");
    for sub in [".fingerprint", "build", "deps"] {
        let Ok(entries) = std::fs::read_dir(profile.join(sub)) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with("esx-") || name.starts_with("esx_") || name.starts_with("libesx_") {
                let path = e.path();
                let _ = if path.is_dir() {
                    std::fs::remove_dir_all(&path)
                } else {
                    std::fs::remove_file(&path)
                };
            }
        }
    }
}

/// The cargo-deny version installed when none is on the PATH.
const CARGO_DENY_VERSION: &str = "0.20.2";

/// `cargo deny check licenses bans sources` against `deny.toml`. The advisories check is left
/// out: it clones the RustSec database from GitHub, which CI cannot reach. cargo-deny comes
/// from the PATH, else from `target/tools/bin`, where it is installed (`cargo install
/// --locked`, a few minutes) the first time and reused afterwards.
fn check_deny(root: &Path) -> Result<(), String> {
    let tools = root.join("target/tools");
    let mut paths = vec![tools.join("bin")];
    paths.extend(
        std::env::var_os("PATH")
            .map_or_else(Vec::new, |p| std::env::split_paths(&p).collect::<Vec<_>>()),
    );
    let path = std::env::join_paths(paths).map_err(|e| format!("cargo deny: PATH: {e}"))?;
    let cargo = env_or("CARGO", "cargo");
    let present = Command::new(&cargo)
        .args(["deny", "--version"])
        .env("PATH", &path)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !present {
        eprintln!(
            "xtask: installing cargo-deny {CARGO_DENY_VERSION} into {}",
            tools.display()
        );
        let st = Command::new(&cargo)
            // A debug build: it installs in a fraction of a release build's time and checks
            // this tree in seconds all the same.
            .args([
                "install",
                "--locked",
                "--quiet",
                "--debug",
                "cargo-deny",
                "--version",
            ])
            .arg(CARGO_DENY_VERSION)
            .arg("--root")
            .arg(&tools)
            .status()
            .map_err(|e| format!("cargo deny: cannot run cargo install: {e}"))?;
        if !st.success() {
            return Err(format!(
                "cargo deny: cargo install cargo-deny failed ({st})"
            ));
        }
    }
    eprintln!("xtask: cargo deny check licenses bans sources");
    let st = Command::new(&cargo)
        .current_dir(root)
        .args([
            "deny",
            "--log-level",
            "error",
            "check",
            "licenses",
            "bans",
            "sources",
        ])
        .env("PATH", &path)
        .status()
        .map_err(|e| format!("cargo deny: cannot run it: {e}"))?;
    if st.success() {
        Ok(())
    } else {
        eprintln!("xtask: !!! cargo deny check licenses bans sources failed (deny.toml)");
        Err(format!(
            "cargo deny check licenses bans sources failed ({st})"
        ))
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn on_path(prog: &str) -> bool {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(prog).is_file()))
        .unwrap_or(false)
}

pub fn env_or(key: &str, default: &str) -> String {
    std::env::var(key).unwrap_or_else(|_| default.to_string())
}

/// The workspace root (the parent of the xtask crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives inside the workspace")
        .to_path_buf()
}
