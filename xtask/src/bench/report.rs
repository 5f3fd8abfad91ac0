//! The Markdown table and `results.json`.

use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use super::listing::thousands;
use super::Figure;

/// What describes the run as a whole.
#[derive(Debug, Serialize)]
pub struct Meta {
    /// The command as given.
    pub command: String,
    /// `--quick`.
    pub quick: bool,
    /// Rounds per figure.
    pub rounds: usize,
    /// The commit measured (`+dirty` with local changes).
    pub commit: String,
    /// CPUs of the machine.
    pub cores: usize,
    /// Load average (1 / 5 / 15 min) when the run started.
    pub load_average_start: String,
    /// Load average when it ended.
    pub load_average_end: String,
    /// Seconds spent building.
    pub build_s: f64,
    /// Seconds spent measuring.
    pub measure_s: f64,
    /// Seconds per comparison.
    pub comparison_s: Vec<(String, f64)>,
    /// Peers and figures left out, and why.
    pub skipped: Vec<String>,
    /// Comparisons that failed.
    pub failed: Vec<String>,
}

#[derive(Serialize)]
struct Results<'a> {
    meta: &'a Meta,
    figures: &'a [Figure],
}

/// Writes `results.json` and `results.md` into `dir`.
pub fn write(dir: &Path, meta: &Meta, figures: &[Figure], table: &str) -> Result<(), String> {
    let json =
        serde_json::to_string_pretty(&Results { meta, figures }).map_err(|e| e.to_string())?;
    let path = dir.join("results.json");
    std::fs::write(&path, json + "\n").map_err(|e| format!("{}: {e}", path.display()))?;
    let mut md = format!(
        "Command: `{}` (commit {}, {} cores, load average {} at the start, {} at the end; build {:.0} s, measurements {:.0} s)\n\n",
        meta.command, meta.commit, meta.cores, meta.load_average_start, meta.load_average_end, meta.build_s, meta.measure_s
    );
    md.push_str(table);
    for s in &meta.skipped {
        let _ = writeln!(md, "\nSKIPPED: {s}");
    }
    for f in &meta.failed {
        let _ = writeln!(md, "\nFAILED: {f}");
    }
    let path = dir.join("results.md");
    std::fs::write(&path, md).map_err(|e| format!("{}: {e}", path.display()))
}

/// A value with a sensible number of digits (thousands separated from 10,000 up).
pub fn value(v: f64) -> String {
    let a = v.abs();
    if a >= 10_000.0 {
        thousands(v.round() as usize)
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

/// How many times better ours is than `peer` (> 1: ours is better).
pub fn advantage(ours: &Figure, peer: &Figure) -> f64 {
    if ours.higher_is_better {
        ours.median / peer.median
    } else {
        peer.median / ours.median
    }
}

/// The Markdown table: one row per figure, ours with their ratios to the peers of the case.
pub fn table(figures: &[Figure]) -> String {
    let mut t = String::from(
        "| comparison | case | who | median | spread (min–max) | n | ours vs the peers of the case (×, > 1: ours better) |\n|---|---|---|---:|---:|---:|---|\n",
    );
    for f in figures {
        let ratios: Vec<String> = if f.ours {
            figures
                .iter()
                .filter(|p| !p.ours && p.comparison == f.comparison && p.case == f.case)
                .map(|p| format!("{:.2}× {}", advantage(f, p), p.subject))
                .collect()
        } else {
            Vec::new()
        };
        let who = if f.ours {
            format!("**{}**", f.subject)
        } else {
            f.subject.clone()
        };
        let _ = writeln!(
            t,
            "| {} | {} | {} | {} {} | {}–{} | {} | {} |",
            f.comparison,
            f.case,
            who,
            value(f.median),
            f.unit,
            value(f.min),
            value(f.max),
            f.n,
            if ratios.is_empty() {
                "–".into()
            } else {
                ratios.join(", ")
            }
        );
    }
    t
}
