//! `cargo xtask bench [--quick] [--rounds N] [--out DIR] [--plots DIR] [--no-build]`: every
//! side-by-side measurement of docs/PERFORMANCE.md in one run, on the same inputs.
//!
//! Builds the release programs, starts the peers on loopback (and stops them, also on error),
//! runs the existing measurement programs and parses what they print, then prints a Markdown
//! table (median, min–max spread, ratio against the peers of the same run), writes
//! `DIR/results.json` and `DIR/results.md` (default `target/bench/`) and draws SVG plots
//! (default `docs/perf/`; `DIR/perf/` with `--quick`). A missing peer is reported with a
//! `SKIPPED:` line and left out; a measurement that fails is reported with `FAILED:` and the
//! command fails at the end, after everything else ran.

mod codec;
mod listing;
mod plot;
mod proc;
mod report;
mod sim;
mod transfer;
mod vmx;

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;

use crate::test::workspace_root;

/// One measured figure: a subject (ours or a peer) in one case of one comparison.
#[derive(Debug, Clone, Serialize)]
pub struct Figure {
    /// The comparison, e.g. `SOAP decode`; one plot each.
    pub comparison: String,
    /// The case inside the comparison, e.g. `1,000 VMs, vcsim`; ratios stay inside a case.
    pub case: String,
    /// Who was measured, e.g. `esx-vim` or `govmomi 0.24.2`.
    pub subject: String,
    /// Whether the subject is this project's code.
    pub ours: bool,
    /// Unit of the values, e.g. `MB/s` or `s`.
    pub unit: String,
    /// Whether a larger value is better (throughput) or worse (time, memory).
    pub higher_is_better: bool,
    /// Median over the rounds (or the samples the program reported).
    pub median: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// How many values the median is taken over.
    pub n: usize,
    /// The values, when the program reported each one.
    pub samples: Vec<f64>,
}

/// What a comparison reports: figures, and anything it had to leave out.
#[derive(Debug, Default)]
pub struct Outcome {
    /// The figures measured.
    pub figures: Vec<Figure>,
    /// `SKIPPED:` reasons (missing peers).
    pub skipped: Vec<String>,
}

impl Outcome {
    /// Records (and prints loudly) that `what` was left out because of `why`.
    pub fn skip(&mut self, what: &str, why: &str) {
        let line = format!("{what}: {why}");
        eprintln!("SKIPPED: {line}");
        self.skipped.push(line);
    }

    /// Adds a figure built from per-round samples (nothing when there are none).
    pub fn add(&mut self, key: Key<'_>, subject: &str, ours: bool, samples: Vec<f64>) {
        if let Some(f) = Figure::from_samples(key, subject, ours, samples) {
            self.figures.push(f);
        }
    }
}

/// The comparison, case, unit and direction shared by the figures of one case.
#[derive(Debug, Clone, Copy)]
pub struct Key<'a> {
    /// The comparison.
    pub comparison: &'a str,
    /// The case.
    pub case: &'a str,
    /// The unit.
    pub unit: &'a str,
    /// Whether larger is better.
    pub higher_is_better: bool,
}

impl Figure {
    /// A figure from its samples; `None` when there are no finite samples.
    pub fn from_samples(
        key: Key<'_>,
        subject: &str,
        ours: bool,
        samples: Vec<f64>,
    ) -> Option<Self> {
        let mut v: Vec<f64> = samples.into_iter().filter(|x| x.is_finite()).collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let median = median_sorted(&v);
        Some(Self::summary(key, subject, ours, (median, v[0], v[v.len() - 1], v.len())).with(v))
    }

    /// A figure from a median, min, max and count the program computed itself.
    pub fn summary(
        key: Key<'_>,
        subject: &str,
        ours: bool,
        (median, min, max, n): (f64, f64, f64, usize),
    ) -> Self {
        Self {
            comparison: key.comparison.into(),
            case: key.case.into(),
            subject: subject.into(),
            ours,
            unit: key.unit.into(),
            higher_is_better: key.higher_is_better,
            median,
            min,
            max,
            n,
            samples: Vec::new(),
        }
    }

    fn with(mut self, samples: Vec<f64>) -> Self {
        self.samples = samples;
        self
    }
}

/// The median of sorted values (the mean of the middle two for an even count).
pub fn median_sorted(v: &[f64]) -> f64 {
    let m = v.len() / 2;
    if v.len().is_multiple_of(2) {
        (v[m - 1] + v[m]) / 2.0
    } else {
        v[m]
    }
}

/// How big a run is.
#[derive(Debug, Clone)]
pub struct Plan {
    /// `--quick`.
    pub quick: bool,
    /// Rounds of every figure.
    pub rounds: usize,
    /// VM counts for the listing and simulator comparisons.
    pub vm_counts: Vec<usize>,
    /// Whether virsh lists the largest count (60–120 s a run at 10,000 VMs).
    pub virsh_at_largest: bool,
    /// VMs in the SOAP codec document.
    pub codec_vms: usize,
    /// Concurrent clients of the simulator load.
    pub clients: Vec<usize>,
    /// Seconds each load run lasts (the round in progress finishes).
    pub load_seconds: f64,
    /// Size of the datastore transfer file.
    pub transfer_mib: usize,
    /// VMs per simulator and VMs powered on/off per simulator in the scale-out run.
    pub scale_vms: (usize, usize),
    /// Passes over the VMX corpus for libvirt; criterion's measurement seconds for ours.
    pub vmx_passes: usize,
    /// Criterion's measurement time for esx-vmx.
    pub vmx_seconds: f64,
}

impl Plan {
    fn new(quick: bool, rounds: Option<usize>) -> Self {
        let full = Self {
            quick,
            rounds: rounds.unwrap_or(3),
            vm_counts: vec![1000, 10000],
            virsh_at_largest: true,
            codec_vms: 2000,
            clients: vec![1, 8, 32],
            load_seconds: 5.0,
            transfer_mib: 256,
            scale_vms: (1000, 25),
            vmx_passes: 20,
            vmx_seconds: 3.0,
        };
        if !quick {
            return full;
        }
        // A few minutes once built: 1,000 VMs only, one round, smaller inputs.
        Self {
            rounds: rounds.unwrap_or(1),
            vm_counts: vec![1000],
            virsh_at_largest: false,
            codec_vms: 500,
            load_seconds: 1.5,
            transfer_mib: 64,
            scale_vms: (200, 10),
            vmx_passes: 5,
            vmx_seconds: 1.0,
            ..full
        }
    }
}

/// Paths and peers every comparison uses.
pub struct Env {
    /// The workspace root.
    pub root: PathBuf,
    /// `../shared` (third-party data and peer scripts).
    pub shared: PathBuf,
    /// `target/release`.
    pub release: PathBuf,
    /// The output directory (`--out`).
    pub out: PathBuf,
}

impl Env {
    /// `target/release/NAME` (a binary).
    pub fn bin(&self, name: &str) -> PathBuf {
        self.release.join(name)
    }

    /// `target/release/examples/NAME`.
    pub fn example(&self, name: &str) -> PathBuf {
        self.release.join("examples").join(name)
    }

    /// `../shared/peers/NAME`.
    pub fn peer_script(&self, name: &str) -> PathBuf {
        self.shared.join("peers").join(name)
    }
}

/// Peer programs; missing ones are skipped.
pub mod peers {
    /// govmomi's vcsim.
    pub const VCSIM: &str = "/opt/peers/bin/vcsim";
    /// vcsim with libvirt's compatibility patch.
    pub const VCSIM_XSI: &str = "/opt/peers/bin/vcsim-xsi";
    /// The Python with pyVmomi.
    pub const PY: &str = "/opt/peers/venv/bin/python";
    /// libvirt 11.3's virsh.
    pub const VIRSH: &str = "/opt/libvirt-11.3/bin/virsh";
    /// libvirt 11.3's libraries (for python3-libvirt).
    pub const LIBVIRT_LIB: &str = "/opt/libvirt-11.3/lib/x86_64-linux-gnu";
    /// govmomi 0.24.2's sources (GOPATH).
    pub const GOVMOMI_GOPATH: &str = "/opt/peers/gopath-govmomi-0.24.2";
    /// Go's build cache of the peers.
    pub const GOCACHE: &str = "/opt/peers/gocache";
}

/// Whether `path` exists; records a `SKIPPED:` line for `what` otherwise.
pub fn have(out: &mut Outcome, what: &str, path: &str) -> bool {
    if Path::new(path).exists() {
        true
    } else {
        out.skip(
            what,
            &format!("{path} not found (../shared/peers/setup-peers.sh installs it)"),
        );
        false
    }
}

struct Args {
    quick: bool,
    rounds: Option<usize>,
    out: Option<PathBuf>,
    plots: Option<PathBuf>,
    build: bool,
    only: Vec<String>,
}

const USAGE: &str = "usage: cargo xtask bench [--quick] [--rounds N] [--out DIR] [--plots DIR] [--no-build] [--only NAME,...]\n  NAME: codec, listing, vmx, sim, transfer, scale-out";

fn parse(args: &[String]) -> Result<Args, String> {
    let mut a = Args {
        quick: false,
        rounds: None,
        out: None,
        plots: None,
        build: true,
        only: Vec::new(),
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{arg} needs a value\n{USAGE}"))
        };
        match arg.as_str() {
            "--quick" => a.quick = true,
            "--no-build" => a.build = false,
            "--rounds" => {
                let v = value()?;
                let n: usize = v
                    .parse()
                    .map_err(|_| format!("--rounds: '{v}' is not a number"))?;
                a.rounds = Some(n.max(1));
            }
            "--out" => a.out = Some(PathBuf::from(value()?)),
            "--plots" => a.plots = Some(PathBuf::from(value()?)),
            "--only" => a.only = value()?.split(',').map(str::to_string).collect(),
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument '{other}'\n{USAGE}")),
        }
    }
    Ok(a)
}

/// The comparisons, by `--only` name, in the order they run.
const COMPARISONS: [&str; 6] = ["codec", "listing", "vmx", "sim", "transfer", "scale-out"];

/// Runs `cargo xtask bench`.
pub fn run(args: &[String]) -> Result<(), String> {
    let a = parse(args)?;
    for name in &a.only {
        if !COMPARISONS.contains(&name.as_str()) {
            return Err(format!("--only: unknown comparison '{name}'\n{USAGE}"));
        }
    }
    let root = workspace_root();
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let out = a.out.clone().unwrap_or_else(|| target.join("bench"));
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let plots = a.plots.clone().unwrap_or_else(|| {
        if a.quick {
            out.join("perf")
        } else {
            root.join("docs/perf")
        }
    });
    let shared = std::env::var_os("ESX_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("../shared"));
    let env = Env {
        release: target.join("release"),
        shared,
        out: out.clone(),
        root,
    };
    let plan = Plan::new(a.quick, a.rounds);
    let started = Instant::now();
    let load_start = proc::load_average();
    eprintln!(
        "bench: {} run, {} round(s), load average {} on {} cores",
        if plan.quick { "quick" } else { "full" },
        plan.rounds,
        load_start,
        proc::cores()
    );
    if plan.quick {
        eprintln!(
            "SKIPPED: 10,000 VMs (listing, virsh, simulators): --quick measures 1,000 VMs only"
        );
    }
    if a.build {
        build(&env)?;
    }
    let built_s = started.elapsed().as_secs_f64();
    let wanted = |name: &str| a.only.is_empty() || a.only.iter().any(|o| o == name);
    let mut all = Outcome::default();
    let mut failed = Vec::new();
    let mut timings = Vec::new();
    for name in COMPARISONS {
        if !wanted(name) {
            continue;
        }
        eprintln!("\n== {name} (load average {})", proc::load_average());
        let t = Instant::now();
        let result = match name {
            "codec" => codec::measure(&env, &plan),
            "listing" => listing::measure(&env, &plan),
            "vmx" => vmx::measure(&env, &plan),
            "sim" => sim::measure(&env, &plan),
            "transfer" => transfer::run_transfer(&env, &plan),
            _ => transfer::run_scale_out(&env, &plan),
        };
        timings.push((name, t.elapsed().as_secs_f64()));
        match result {
            Ok(o) => {
                all.figures.extend(o.figures);
                all.skipped.extend(o.skipped);
            }
            Err(e) => {
                eprintln!("FAILED: {name}: {e}");
                failed.push(format!("{name}: {e}"));
            }
        }
    }
    let total_s = started.elapsed().as_secs_f64();
    let load_end = proc::load_average();
    let meta = report::Meta {
        command: std::iter::once("cargo xtask bench".to_string())
            .chain(args.iter().cloned())
            .collect::<Vec<_>>()
            .join(" "),
        quick: plan.quick,
        rounds: plan.rounds,
        commit: proc::git_commit(&env.root),
        cores: proc::cores(),
        load_average_start: load_start,
        load_average_end: load_end.clone(),
        build_s: built_s,
        measure_s: total_s - built_s,
        comparison_s: timings.iter().map(|(n, s)| (n.to_string(), *s)).collect(),
        skipped: all.skipped.clone(),
        failed: failed.clone(),
    };
    let table = report::table(&all.figures);
    println!("{table}");
    report::write(&env.out, &meta, &all.figures, &table)?;
    let svgs = plot::draw_all(&plots, &all.figures)?;
    eprintln!("bench: plots {}", svgs.join(", "));
    eprintln!(
        "bench: results in {}, plots in {}; build {:.0} s, measurements {:.0} s, load average {} at the end",
        env.out.join("results.json").display(),
        plots.display(),
        built_s,
        total_s - built_s,
        load_end
    );
    for s in &all.skipped {
        eprintln!("SKIPPED: {s}");
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} comparison(s) failed: {}",
            failed.len(),
            failed.join("; ")
        ))
    }
}

/// The release binaries the comparisons run.
const BINS: &[&str] = &["esx-sim", "esxsh"];

/// The release examples the comparisons run (directly or through a peer script).
const EXAMPLES: &[&str] = &[
    "codec-figures",
    "list-vms",
    "list_beside_peers",
    "list_vs_virsh",
    "load",
    "datastore_transfer",
    "scale_out",
];

/// Step 1: the release programs (and the esx-vmx criterion bench).
fn build(env: &Env) -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    // Only the programs the comparisons run (every example of these packages would double
    // the build on two cores); the same package set each time, so features unify alike.
    let mut build = vec!["build", "--release"];
    for p in ["esx-vim", "esx-sim", "esx-driver", "esx-cli"] {
        build.extend(["-p", p]);
    }
    for b in BINS {
        build.extend(["--bin", b]);
    }
    for e in EXAMPLES {
        build.extend(["--example", e]);
    }
    let mut steps: Vec<Vec<&str>> = vec![build];
    steps.push(vec![
        "bench", "--no-run", "-p", "esx-vmx", "--bench", "convert",
    ]);
    for step in steps {
        eprintln!("bench: cargo {}", step.join(" "));
        let status = std::process::Command::new(&cargo)
            .args(&step)
            .current_dir(&env.root)
            .status()
            .map_err(|e| format!("cargo: {e}"))?;
        if !status.success() {
            return Err(format!("cargo {} failed", step.join(" ")));
        }
    }
    Ok(())
}
