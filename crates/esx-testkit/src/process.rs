//! Running a program with a time limit, so that a peer that hangs (a client waiting on a
//! simulator that never answers, say) fails its test instead of hanging the whole suite.

use std::os::unix::process::ExitStatusExt;
use std::process::{Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

/// How long a peer program may run by default before it is killed.
pub const LIMIT: Duration = Duration::from_secs(120);

/// [`Command::output`] with a time limit: stdout and stderr are collected through files (a
/// full pipe cannot block the program while we wait), and a program still running after
/// `limit` is killed. Its output then reports failure (killed by SIGKILL) and its stderr
/// starts with `TIMED OUT after N s`. `Err` only when the program cannot be started.
pub fn output(cmd: &mut Command, limit: Duration) -> std::io::Result<Output> {
    let dir = std::env::temp_dir();
    let name = format!("esx-testkit-{}-{}", std::process::id(), next());
    let (out_path, err_path) = (
        dir.join(format!("{name}.out")),
        dir.join(format!("{name}.err")),
    );
    let out = std::fs::File::create(&out_path)?;
    let err = std::fs::File::create(&err_path)?;
    let started = cmd.stdin(Stdio::null()).stdout(out).stderr(err).spawn();
    let mut child = match started {
        Ok(c) => c,
        Err(e) => {
            let _ = std::fs::remove_file(&out_path);
            let _ = std::fs::remove_file(&err_path);
            return Err(e);
        }
    };
    let deadline = Instant::now() + limit;
    let status = loop {
        match child.try_wait()? {
            Some(st) => break Some(st),
            None if Instant::now() >= deadline => break None,
            None => std::thread::sleep(Duration::from_millis(20)),
        }
    };
    let timed_out = status.is_none();
    let status = match status {
        Some(st) => st,
        None => {
            let _ = child.kill();
            let _ = child.wait();
            ExitStatus::from_raw(9)
        }
    };
    let stdout = std::fs::read(&out_path).unwrap_or_default();
    let mut stderr = std::fs::read(&err_path).unwrap_or_default();
    let _ = std::fs::remove_file(&out_path);
    let _ = std::fs::remove_file(&err_path);
    if timed_out {
        let mut head =
            format!("TIMED OUT after {:.1} s: {cmd:?}\n", limit.as_secs_f64()).into_bytes();
        head.append(&mut stderr);
        stderr = head;
    }
    Ok(Output {
        status,
        stdout,
        stderr,
    })
}

fn next() -> usize {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_both_streams_and_the_status() {
        let out = output(
            Command::new("sh").args(["-c", "echo out; echo err >&2; exit 3"]),
            LIMIT,
        )
        .unwrap();
        assert_eq!(out.status.code(), Some(3));
        assert_eq!(out.stdout, b"out\n");
        assert_eq!(out.stderr, b"err\n");
    }

    #[test]
    fn a_program_past_its_limit_is_killed_and_says_so() {
        let t = Instant::now();
        let out = output(
            Command::new("sh").args(["-c", "echo started; sleep 30"]),
            Duration::from_millis(300),
        )
        .unwrap();
        assert!(t.elapsed() < Duration::from_secs(20));
        assert!(!out.status.success());
        assert_eq!(out.stdout, b"started\n");
        assert!(String::from_utf8_lossy(&out.stderr).starts_with("TIMED OUT after 0.3 s"));
    }

    #[test]
    fn a_missing_program_is_an_error() {
        assert!(output(&mut Command::new("/nonexistent/program"), LIMIT).is_err());
    }
}
