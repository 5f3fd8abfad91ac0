//! Reading the VM's settings through VMware Tools: `vmtoolsd --cmd machine.id.get` and
//! `vmtoolsd --cmd "info-get guestinfo.<key>"`.

use std::ffi::OsString;
use std::fmt;
use std::process::Command;

use crate::guestinfo::{self, Encoding, GuestinfoError};
use crate::keys::{GUESTINFO_METADATA, GUESTINFO_METADATA_ENCODING, MACHINE_ID};
use crate::machine_id::{parse_machine_id, MachineIdError};
use crate::nic::NicConfig;

/// Where the settings come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    /// Nova's `machine.id`.
    MachineId,
    /// cloud-init's `guestinfo.metadata`.
    Guestinfo,
    /// `machine.id` when it is set, else `guestinfo.metadata`.
    Auto,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Source::MachineId => MACHINE_ID,
            Source::Guestinfo => GUESTINFO_METADATA,
            Source::Auto => "auto",
        })
    }
}

/// Why a value could not be read through `vmtoolsd`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ToolsError {
    /// The program is not on PATH.
    #[error("{program} not found on PATH (is open-vm-tools installed?)")]
    NotFound {
        /// The program name.
        program: String,
    },
    /// The program could not be started.
    #[error("cannot run {program}: {source}")]
    Spawn {
        /// The program name.
        program: String,
        /// The operating system's reason.
        #[source]
        source: std::io::Error,
    },
    /// The program failed (for `info-get`: usually because the key is not set).
    #[error("`{command}` failed ({status}){}", stderr_suffix(.stderr))]
    Failed {
        /// The command line.
        command: String,
        /// Exit status.
        status: String,
        /// Its standard error, trimmed.
        stderr: String,
    },
    /// The output is not UTF-8.
    #[error("`{command}` printed something that is not UTF-8")]
    NotUtf8 {
        /// The command line.
        command: String,
    },
}

fn stderr_suffix(stderr: &str) -> String {
    if stderr.is_empty() {
        String::new()
    } else {
        format!(": {stderr}")
    }
}

/// Why the settings could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    /// `vmtoolsd` failed.
    #[error(transparent)]
    Tools(#[from] ToolsError),
    /// `machine.id` is set but wrong.
    #[error(transparent)]
    MachineId(#[from] MachineIdError),
    /// `guestinfo.metadata` is set but wrong.
    #[error("guestinfo.metadata: {0}")]
    Guestinfo(#[from] GuestinfoError),
    /// `guestinfo.metadata` has no `network.ethernets` entry.
    #[error("guestinfo.metadata has no network.ethernets entry")]
    NoGuestinfoNics,
    /// With [`Source::Auto`]: neither key could be read.
    #[error("neither machine.id nor guestinfo.metadata is set: {machine_id}; {guestinfo}")]
    NothingSet {
        /// Why machine.id could not be read.
        machine_id: String,
        /// Why guestinfo.metadata could not be read.
        guestinfo: String,
    },
}

/// Runs `vmtoolsd` (or another program with the same `--cmd` interface).
#[derive(Debug, Clone)]
pub struct Vmtoolsd {
    program: OsString,
}

impl Default for Vmtoolsd {
    fn default() -> Self {
        Vmtoolsd {
            program: "vmtoolsd".into(),
        }
    }
}

impl Vmtoolsd {
    /// Uses `program` (a name looked up on PATH, or a path) instead of `vmtoolsd`.
    pub fn with_program(program: impl Into<OsString>) -> Self {
        Vmtoolsd {
            program: program.into(),
        }
    }

    /// Runs `<program> --cmd <rpc>` and returns its standard output without the final line
    /// break(s).
    pub fn rpc(&self, rpc: &str) -> Result<String, ToolsError> {
        let program = self.program.to_string_lossy().into_owned();
        let command = format!("{program} --cmd {rpc:?}");
        let output = Command::new(&self.program)
            .args(["--cmd", rpc])
            .output()
            .map_err(|source| match source.kind() {
                std::io::ErrorKind::NotFound => ToolsError::NotFound {
                    program: program.clone(),
                },
                _ => ToolsError::Spawn {
                    program: program.clone(),
                    source,
                },
            })?;
        if !output.status.success() {
            return Err(ToolsError::Failed {
                command,
                status: output.status.to_string(),
                stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
            });
        }
        let text = String::from_utf8(output.stdout).map_err(|_| ToolsError::NotUtf8 { command })?;
        Ok(text.trim_end_matches(['\r', '\n']).to_string())
    }

    /// The value of a guestinfo key (`info-get <key>`).
    pub fn info_get(&self, key: &str) -> Result<String, ToolsError> {
        self.rpc(&format!("info-get {key}"))
    }
}

/// Reads the NIC settings from `source`; also returns which source gave them.
///
/// With [`Source::Auto`], `machine.id` is used when `vmtoolsd` returns a non-empty value for it
/// (and then a wrong value is an error, not a reason to fall back); otherwise
/// `guestinfo.metadata`. A missing `vmtoolsd` is an error at once.
pub fn read_nics(
    source: Source,
    tools: &Vmtoolsd,
) -> Result<(Source, Vec<NicConfig>), SourceError> {
    match source {
        Source::MachineId => {
            let text = tools.rpc("machine.id.get")?;
            Ok((Source::MachineId, parse_machine_id(&text)?))
        }
        Source::Guestinfo => Ok((Source::Guestinfo, read_guestinfo(tools)?)),
        Source::Auto => {
            let machine_id = match tools.rpc("machine.id.get") {
                Ok(text) if !text.trim().is_empty() => {
                    return Ok((Source::MachineId, parse_machine_id(&text)?))
                }
                Ok(_) => "machine.id is empty".to_string(),
                Err(e @ ToolsError::Failed { .. }) => e.to_string(),
                Err(e) => return Err(e.into()),
            };
            match read_guestinfo(tools) {
                Ok(nics) => Ok((Source::Guestinfo, nics)),
                Err(SourceError::Tools(e @ ToolsError::Failed { .. })) => {
                    Err(SourceError::NothingSet {
                        machine_id,
                        guestinfo: e.to_string(),
                    })
                }
                Err(e) => Err(e),
            }
        }
    }
}

fn read_guestinfo(tools: &Vmtoolsd) -> Result<Vec<NicConfig>, SourceError> {
    let value = tools.info_get(GUESTINFO_METADATA)?;
    // An unset encoding key means plain text.
    let encoding = match tools.info_get(GUESTINFO_METADATA_ENCODING) {
        Ok(text) => Encoding::from_value(&text)?,
        Err(ToolsError::Failed { .. }) => Encoding::Plain,
        Err(e) => return Err(e.into()),
    };
    let text = guestinfo::decode(&value, encoding)?;
    let meta = guestinfo::parse_metadata(&text)?;
    if meta.nics.is_empty() {
        return Err(SourceError::NoGuestinfoNics);
    }
    Ok(meta.nics)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_program_is_a_clear_error() {
        let tools = Vmtoolsd::with_program("esx-guest-no-such-vmtoolsd");
        let err = read_nics(Source::Auto, &tools).unwrap_err();
        assert_eq!(
            err.to_string(),
            "esx-guest-no-such-vmtoolsd not found on PATH (is open-vm-tools installed?)"
        );
    }

    #[test]
    fn failing_program_reports_command_and_status() {
        let tools = Vmtoolsd::with_program("false");
        let err = read_nics(Source::MachineId, &tools)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "`false --cmd \"machine.id.get\"` failed (exit status: 1)"
        );
        let err = read_nics(Source::Auto, &tools).unwrap_err().to_string();
        assert!(
            err.starts_with("neither machine.id nor guestinfo.metadata is set: "),
            "{err}"
        );
    }
}
