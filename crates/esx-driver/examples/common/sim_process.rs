//! An esx-sim process for the examples that measure against a simulator running as a real
//! host would: `target/release/esx-sim` (or `$ESX_SIM`), on a free loopback port, with its
//! data in a directory of its own; killed and cleaned up when dropped.

// Each example includes this module and uses part of it.
#![allow(dead_code)]

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// A running esx-sim process.
pub struct SimProcess {
    child: Child,
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// Its working directory (the datastores are under `data/`).
    pub dir: PathBuf,
}

impl SimProcess {
    /// Starts esx-sim with `args` (e.g. `["--inventory", "vm=1000"]`) in a fresh directory
    /// named after `tag` under `base`, and waits until it is ready.
    pub fn start(base: &Path, tag: &str, args: &[&str]) -> SimProcess {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let target = std::env::var("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|_| root.join("target"));
        let bin = std::env::var_os("ESX_SIM")
            .map(PathBuf::from)
            .unwrap_or_else(|| target.join("release/esx-sim"));
        assert!(
            bin.is_file(),
            "build the simulator first: cargo build --release -p esx-sim"
        );
        let dir = base.join(format!("{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("simulator directory");
        let mut child = Command::new(&bin)
            .arg("--data-dir")
            .arg(dir.join("data"))
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .expect("esx-sim starts");
        let mut port = 0u16;
        let out = child.stdout.take().expect("stdout");
        for line in std::io::BufReader::new(out).lines().take(20) {
            let line = line.expect("esx-sim output");
            if let Some(url) = line.strip_prefix("url=https://127.0.0.1:") {
                port = url.split('/').next().unwrap_or("").parse().unwrap_or(0);
            }
            if line.starts_with("ready_s=") {
                break;
            }
        }
        assert!(port > 0, "esx-sim printed no URL");
        SimProcess { child, port, dir }
    }
}

impl Drop for SimProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Median, min and max of `v` (seconds).
pub fn median_spread(mut v: Vec<f64>) -> (f64, f64, f64) {
    v.sort_by(f64::total_cmp);
    (v[v.len() / 2], v[0], v[v.len() - 1])
}

/// `samples KEY=s,s,…` for `cargo xtask bench`.
pub fn samples_line(fields: &[(&str, &[f64])]) -> String {
    let parts: Vec<String> = fields
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| {
            let list: Vec<String> = v.iter().map(|s| format!("{s:.4}")).collect();
            format!("{k}={}", list.join(","))
        })
        .collect();
    format!("samples {}", parts.join(" "))
}
