//! Running the unmodified govc (from `../shared/peers/setup-peers.sh`) against a simulator on
//! loopback, with a time limit so that one hanging command cannot hang a test.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// Where the peers script installs govc.
pub const GOVC: &str = "/opt/peers/bin/govc";

/// How long one command may run before it is killed and reported as failed.
const LIMIT: Duration = Duration::from_secs(60);

/// Runs govc with `args` against `url` (certificate not verified), with `home` as its
/// `GOVMOMI_HOME` (its session cache); (success, stdout then stderr). A command still running
/// after 60 s is killed and reported as failed, its output starting with `TIMED OUT`.
pub fn run(url: &str, home: &Path, args: &[&str]) -> (bool, String) {
    let (ok, out, err) = run_in(url, home, None, args);
    (ok, out + &err)
}

/// [`run`] in the working directory `cwd` (default: this process's), with stdout and stderr
/// apart: (success, stdout, stderr).
pub fn run_in(url: &str, home: &Path, cwd: Option<&Path>, args: &[&str]) -> (bool, String, String) {
    std::fs::create_dir_all(home).expect("govc home");
    // Output goes to files, not pipes: a full pipe would block govc while we wait.
    let (out_log, err_log) = (home.join("govc.out"), home.join("govc.err"));
    let out = std::fs::File::create(&out_log).expect("govc output file");
    let err = std::fs::File::create(&err_log).expect("govc error file");
    let mut cmd = Command::new(GOVC);
    cmd.args(args)
        .env("GOVC_URL", url)
        .env("GOVC_INSECURE", "1")
        .env("GOVMOMI_HOME", home)
        .env_remove("GOVC_GUEST_LOGIN")
        .stdout(out)
        .stderr(err);
    if let Some(cwd) = cwd {
        cmd.current_dir(cwd);
    }
    let mut child = cmd.spawn().expect("govc runs");
    let deadline = Instant::now() + LIMIT;
    let status = loop {
        match child.try_wait().expect("govc wait") {
            Some(st) => break Some(st),
            None if Instant::now() > deadline => break None,
            None => std::thread::sleep(Duration::from_millis(50)),
        }
    };
    let out = std::fs::read_to_string(&out_log).unwrap_or_default();
    let err = std::fs::read_to_string(&err_log).unwrap_or_default();
    match status {
        Some(st) => (st.success(), out, err),
        None => {
            let _ = child.kill();
            let _ = child.wait();
            (
                false,
                format!("TIMED OUT after 60 s: govc {}: {out}", args.join(" ")),
                err,
            )
        }
    }
}
