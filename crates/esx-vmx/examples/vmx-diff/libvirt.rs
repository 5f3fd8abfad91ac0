//! libvirt's side: `libvirt_worker.py` in a subprocess, one request at a time with a timeout.
//! A worker that dies (libvirt crashed) or does not answer in time (libvirt hangs) is recorded
//! and replaced by a new one.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::time::Duration;

/// What libvirt answered for one input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The converted text.
    Ok(Vec<u8>),
    /// libvirt's error message.
    Refused(String),
    /// The worker process died (how it ended).
    Crash(String),
    /// No answer within the timeout.
    Hang,
}

/// What the connection reported at start-up.
#[derive(Debug, Clone, Default)]
pub struct ServerInfo {
    pub version: u64,
    pub hv_version: u64,
    /// (name, mount path) of every datastore, in the server's order.
    pub pools: Vec<(String, String)>,
}

pub fn hex(data: &[u8]) -> String {
    let mut s = String::with_capacity(data.len() * 2);
    for b in data {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

pub fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// A running worker.
pub struct Libvirt {
    script: PathBuf,
    uri: String,
    log: PathBuf,
    timeout: Duration,
    child: Option<(Child, ChildStdin, Receiver<String>)>,
    pub info: ServerInfo,
    /// Workers started (1 + crashes + hangs).
    pub starts: usize,
}

impl Libvirt {
    pub fn new(
        script: PathBuf,
        uri: String,
        log: PathBuf,
        timeout: Duration,
    ) -> Result<Libvirt, String> {
        let mut l = Libvirt {
            script,
            uri,
            log,
            timeout,
            child: None,
            info: ServerInfo::default(),
            starts: 0,
        };
        l.start()?;
        Ok(l)
    }

    fn start(&mut self) -> Result<(), String> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .map_err(|e| format!("{}: {e}", self.log.display()))?;
        let mut child = Command::new("python3")
            .arg(&self.script)
            .arg(&self.uri)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", self.script.display()))?;
        let stdin = child.stdin.take().ok_or("no stdin")?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        self.starts += 1;
        let mut info = ServerInfo::default();
        loop {
            let line = rx
                .recv_timeout(Duration::from_secs(60))
                .map_err(|_| "the libvirt worker did not start (see the log)".to_string())?;
            let words: Vec<&str> = line.split(' ').collect();
            match words.as_slice() {
                ["ready", v, hv] => {
                    info.version = v.parse().unwrap_or(0);
                    info.hv_version = hv.parse().unwrap_or(0);
                }
                ["pool", name, path] => {
                    let text = |h: &str| {
                        String::from_utf8_lossy(&unhex(h).unwrap_or_default()).into_owned()
                    };
                    info.pools.push((text(name), text(path)));
                }
                ["pools-end"] => break,
                ["fail", msg] => {
                    return Err(format!(
                        "libvirt could not connect: {}",
                        String::from_utf8_lossy(&unhex(msg).unwrap_or_default())
                    ))
                }
                _ => return Err(format!("unexpected worker line: {line}")),
            }
        }
        self.info = info;
        self.child = Some((child, stdin, rx));
        Ok(())
    }

    fn kill(&mut self) -> String {
        match self.child.take() {
            Some((mut child, stdin, _)) => {
                drop(stdin);
                let _ = child.kill();
                match child.wait() {
                    Ok(status) => status.to_string(),
                    Err(e) => e.to_string(),
                }
            }
            None => "not running".into(),
        }
    }

    /// Convert `data` (`op` is `from` or `to`).
    pub fn convert(&mut self, op: &str, data: &[u8]) -> Answer {
        if self.child.is_none() {
            if let Err(e) = self.start() {
                return Answer::Crash(format!("restart failed: {e}"));
            }
        }
        let Some((child, stdin, rx)) = self.child.as_mut() else {
            return Answer::Crash("no worker".into());
        };
        let request = format!("{op} {}\n", hex(data));
        if stdin
            .write_all(request.as_bytes())
            .and_then(|()| stdin.flush())
            .is_err()
        {
            let how = child.wait().map(|s| s.to_string()).unwrap_or_default();
            self.child = None;
            return Answer::Crash(how);
        }
        match rx.recv_timeout(self.timeout) {
            Ok(line) => {
                let (kind, payload) = line.split_once(' ').unwrap_or((line.as_str(), ""));
                let bytes = unhex(payload).unwrap_or_default();
                match kind {
                    "ok" => Answer::Ok(bytes),
                    "err" => Answer::Refused(String::from_utf8_lossy(&bytes).into_owned()),
                    _ => Answer::Crash(format!("bad worker line: {line}")),
                }
            }
            Err(RecvTimeoutError::Timeout) => {
                self.kill();
                Answer::Hang
            }
            Err(RecvTimeoutError::Disconnected) => {
                let how = self.kill();
                Answer::Crash(how)
            }
        }
    }
}

impl Drop for Libvirt {
    fn drop(&mut self) {
        self.kill();
    }
}
