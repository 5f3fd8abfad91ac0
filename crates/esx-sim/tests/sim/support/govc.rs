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
    std::fs::create_dir_all(home).expect("govc home");
    // Output goes to a file, not a pipe: a full pipe would block govc while we wait.
    let log = home.join("govc.out");
    let file = std::fs::File::create(&log).expect("govc output file");
    let mut child = Command::new(GOVC)
        .args(args)
        .env("GOVC_URL", url)
        .env("GOVC_INSECURE", "1")
        .env("GOVMOMI_HOME", home)
        .stdout(file.try_clone().expect("output file"))
        .stderr(file)
        .spawn()
        .expect("govc runs");
    let deadline = Instant::now() + LIMIT;
    let status = loop {
        match child.try_wait().expect("govc wait") {
            Some(st) => break Some(st),
            None if Instant::now() > deadline => break None,
            None => std::thread::sleep(Duration::from_millis(50)),
        }
    };
    let out = std::fs::read_to_string(&log).unwrap_or_default();
    match status {
        Some(st) => (st.success(), out),
        None => {
            let _ = child.kill();
            let _ = child.wait();
            (
                false,
                format!("TIMED OUT after 60 s: govc {}: {out}", args.join(" ")),
            )
        }
    }
}
