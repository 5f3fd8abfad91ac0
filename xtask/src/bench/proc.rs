//! Running measurement programs with a time limit, and the peers' lifetimes.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// What a finished program printed.
#[derive(Debug)]
pub struct Output {
    /// Its standard output.
    pub stdout: String,
    /// Its standard error.
    pub stderr: String,
}

/// Runs `cmd` in its own process group; kills the group after `limit`. Fails on a non-zero
/// exit, with the end of its standard error.
pub fn run(cmd: &mut Command, limit: Duration) -> Result<Output, String> {
    let shown = format!("{cmd:?}");
    let t = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(|e| format!("{shown}: {e}"))?;
    let pipe = |r: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut s = Vec::new();
            if let Some(mut r) = r {
                let _ = r.read_to_end(&mut s);
            }
            String::from_utf8_lossy(&s).into_owned()
        })
    };
    let out = pipe(
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let err = pipe(
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| format!("{shown}: {e}"))? {
            break status;
        }
        if t.elapsed() > limit {
            kill_group(&mut child);
            let _ = child.wait();
            return Err(format!(
                "{shown}: no result within {} s, stopped",
                limit.as_secs()
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    if !status.success() {
        let tail: String = stderr
            .chars()
            .rev()
            .take(3000)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        return Err(format!("{shown}: {status}\n{tail}"));
    }
    Ok(Output { stdout, stderr })
}

/// SIGTERM to the child's process group, then SIGKILL after 5 s.
fn kill_group(child: &mut Child) {
    let group = format!("-{}", child.id());
    let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
    for _ in 0..100 {
        if matches!(child.try_wait(), Ok(Some(_))) {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
}

/// A process this run started; stopped when dropped (also on error or panic).
pub struct Started {
    child: Child,
}

impl Started {
    /// Spawns `cmd` in its own process group.
    pub fn spawn(cmd: &mut Command) -> Result<Self, String> {
        let child = cmd
            .stdin(Stdio::null())
            .process_group(0)
            .spawn()
            .map_err(|e| format!("{cmd:?}: {e}"))?;
        Ok(Self { child })
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Started {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            kill_group(&mut self.child);
        }
        let _ = self.child.wait();
    }
}

/// A vcsim started with `start-vcsim.sh`; stopped with `start-vcsim.sh stop PORT` when dropped.
pub struct Vcsim {
    script: PathBuf,
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// Its process id.
    pub pid: u32,
    /// Seconds from launch until it printed that it listens.
    pub ready_s: f64,
}

impl Vcsim {
    /// `start-vcsim.sh MODE N PORT` with `binary` (`VCSIM_BIN`), bounded to 10 minutes.
    pub fn start(
        script: &Path,
        binary: &str,
        mode: &str,
        vms: usize,
        port: u16,
    ) -> Result<Self, String> {
        let out = run(
            Command::new("bash")
                .arg(script)
                .args([mode, &vms.to_string(), &port.to_string()])
                .env("VCSIM_BIN", binary)
                .env("VCSIM_START_TIMEOUT", "600"),
            Duration::from_secs(620),
        )?;
        let field = |k: &str| {
            out.stdout
                .split_whitespace()
                .find_map(|w| w.strip_prefix(k))
                .map(str::to_string)
                .ok_or_else(|| format!("start-vcsim.sh printed no {k}: {}", out.stdout))
        };
        let pid = field("VCSIM_PID=")?
            .parse()
            .map_err(|e| format!("VCSIM_PID: {e}"))?;
        let ready_s = field("VCSIM_READY_S=")?
            .parse()
            .map_err(|e| format!("VCSIM_READY_S: {e}"))?;
        Ok(Self {
            script: script.to_path_buf(),
            port,
            pid,
            ready_s,
        })
    }
}

impl Drop for Vcsim {
    fn drop(&mut self) {
        let _ = run(
            Command::new("bash")
                .arg(&self.script)
                .args(["stop", &self.port.to_string()]),
            Duration::from_secs(30),
        );
    }
}

/// A port on 127.0.0.1 that is free now, with `span - 1` free ports after it.
pub fn free_ports(span: u16) -> Result<u16, String> {
    for _ in 0..200 {
        let first = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free port: {e}"))?
            .port();
        if first.checked_add(span).is_none() {
            continue;
        }
        if (0..span).all(|i| std::net::TcpListener::bind(("127.0.0.1", first + i)).is_ok()) {
            return Ok(first);
        }
    }
    Err(format!("no {span} free ports in a row on 127.0.0.1"))
}

/// `VmRSS` or `VmHWM` of a process, in MiB.
pub fn status_mib(pid: u32, key: &str) -> Option<f64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
}

/// The 1, 5 and 15 minute load averages, as `/proc/loadavg` shows them.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" / "))
        .unwrap_or_else(|_| "?".into())
}

/// Number of CPUs.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The checked-out commit (short), with `+dirty` when the tree has changes.
pub fn git_commit(root: &Path) -> String {
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(root)
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default()
    };
    let head = git(&["rev-parse", "--short", "HEAD"]);
    let dirty = !git(&["status", "--porcelain", "--untracked-files=no"]).is_empty();
    format!("{head}{}", if dirty { "+dirty" } else { "" })
}

/// The first number after `prefix` in `text` (e.g. `value("esx-vim decode:", s)`).
pub fn number_after(text: &str, prefix: &str) -> Option<f64> {
    let rest = &text[text.find(prefix)? + prefix.len()..];
    let start = rest.find(|c: char| c.is_ascii_digit())?;
    let num: String = rest[start..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    num.parse().ok()
}

/// The `key=value` fields of a line, as numbers where they parse.
pub fn fields(line: &str) -> std::collections::HashMap<String, String> {
    line.split_whitespace()
        .filter_map(|w| w.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}
