//! `--apply`: making the distribution use the new files, the way it does that itself.
//! The programs are looked up on PATH.

use std::fmt;
use std::process::Command;

use crate::distro::Restart;

/// One command to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestartCommand {
    /// The program (`systemctl`, `ifup`, …).
    pub program: &'static str,
    /// Its arguments.
    pub args: Vec<String>,
    /// Whether a failure is expected and ignored (`ifdown` of a NIC that is not up).
    pub may_fail: bool,
}

impl fmt::Display for RestartCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.program)?;
        self.args.iter().try_for_each(|a| write!(f, " {a}"))
    }
}

/// A command that failed.
#[derive(Debug, thiserror::Error)]
#[error("`{command}` failed: {reason}")]
pub struct CommandError {
    /// The command line.
    pub command: String,
    /// Exit status and standard error, or why it could not start.
    pub reason: String,
}

/// The commands for `restart`; `devices` are the configured NICs (used by ifupdown).
pub fn restart_commands(restart: Restart, devices: &[String]) -> Vec<RestartCommand> {
    let cmd = |program, args: &[&str], may_fail| RestartCommand {
        program,
        args: args.iter().map(|a| a.to_string()).collect(),
        may_fail,
    };
    match restart {
        Restart::NetworkService => vec![cmd("systemctl", &["restart", "network"], false)],
        Restart::NetworkManager => vec![cmd("systemctl", &["restart", "NetworkManager"], false)],
        Restart::NetplanApply => vec![cmd("netplan", &["apply"], false)],
        Restart::NetworkctlReload => vec![cmd("networkctl", &["reload"], false)],
        Restart::Ifupdown => devices
            .iter()
            .flat_map(|dev| {
                [
                    cmd("ifdown", &["--force", dev], true),
                    cmd("ifup", &[dev], false),
                ]
            })
            .collect(),
    }
}

/// Runs a command and waits for it: `Ok(None)` on success, `Ok(Some(reason))` when a command
/// that [may fail](RestartCommand::may_fail) failed.
pub fn run(command: &RestartCommand) -> Result<Option<String>, CommandError> {
    let failure = |reason: String| CommandError {
        command: command.to_string(),
        reason,
    };
    let output = Command::new(command.program)
        .args(&command.args)
        .output()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => failure("not found on PATH".into()),
            _ => failure(e.to_string()),
        })?;
    if output.status.success() {
        return Ok(None);
    }
    let stderr = String::from_utf8_lossy(&output.stderr).trim().to_string();
    let reason = if stderr.is_empty() {
        output.status.to_string()
    } else {
        format!("{}: {stderr}", output.status)
    };
    if command.may_fail {
        Ok(Some(reason))
    } else {
        Err(failure(reason))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_per_distribution() {
        let devs = ["eth0".to_string(), "eth1".to_string()];
        let lines = |r| -> Vec<String> {
            restart_commands(r, &devs)
                .iter()
                .map(|c| c.to_string())
                .collect()
        };
        assert_eq!(
            lines(Restart::NetworkService),
            ["systemctl restart network"]
        );
        assert_eq!(
            lines(Restart::NetworkManager),
            ["systemctl restart NetworkManager"]
        );
        assert_eq!(lines(Restart::NetplanApply), ["netplan apply"]);
        assert_eq!(lines(Restart::NetworkctlReload), ["networkctl reload"]);
        assert_eq!(
            lines(Restart::Ifupdown),
            [
                "ifdown --force eth0",
                "ifup eth0",
                "ifdown --force eth1",
                "ifup eth1"
            ]
        );
        assert!(restart_commands(Restart::Ifupdown, &devs)[0].may_fail);
    }

    #[test]
    fn failures() {
        let cmd = |program, may_fail| RestartCommand {
            program,
            args: vec![],
            may_fail,
        };
        assert_eq!(run(&cmd("true", false)).unwrap(), None);
        assert_eq!(
            run(&cmd("false", true)).unwrap().as_deref(),
            Some("exit status: 1")
        );
        assert_eq!(
            run(&cmd("false", false)).unwrap_err().to_string(),
            "`false` failed: exit status: 1"
        );
        assert_eq!(
            run(&cmd("esx-guest-no-such-program", false))
                .unwrap_err()
                .to_string(),
            "`esx-guest-no-such-program` failed: not found on PATH"
        );
    }
}
