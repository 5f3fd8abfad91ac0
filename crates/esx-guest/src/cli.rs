//! The command line: `esx-guest-agent [--root DIR] [--dry-run] [--apply] [--source …]`.

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;

use clap::{Parser, ValueEnum};

use crate::agent::{self, Options};
use crate::source::Source;

/// esx-guest-agent: configures this VM's network from the settings its VMware host injected
/// (Nova's `machine.id`, or cloud-init's `guestinfo.metadata`), read with vmtoolsd.
#[derive(Debug, Clone, PartialEq, Eq, Parser)]
#[command(name = "esx-guest-agent", version, about, long_about = None)]
pub struct Cli {
    /// Treat DIR as the root of the guest's file system: os-release, sys/class/net and the
    /// configuration files are read and written under it (for images and tests).
    #[arg(long, value_name = "DIR", default_value = "/")]
    pub root: PathBuf,
    /// Print what would change (with a diff) and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Restart networking the distribution's way when a network file changed.
    #[arg(long)]
    pub apply: bool,
    /// Where the settings come from.
    #[arg(long, value_enum, default_value_t = SourceArg::Auto)]
    pub source: SourceArg,
}

/// `--source` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SourceArg {
    /// Nova's machine.id (`vmtoolsd --cmd machine.id.get`).
    MachineId,
    /// cloud-init's guestinfo.metadata (`vmtoolsd --cmd "info-get guestinfo.metadata"`).
    Guestinfo,
    /// machine.id when it is set, else guestinfo.metadata.
    Auto,
}

impl From<SourceArg> for Source {
    fn from(arg: SourceArg) -> Self {
        match arg {
            SourceArg::MachineId => Source::MachineId,
            SourceArg::Guestinfo => Source::Guestinfo,
            SourceArg::Auto => Source::Auto,
        }
    }
}

/// Runs the command line `args` (program name first), printing the report on `out` and
/// warnings and errors (`error: …`) on `err`; returns the exit status: 0, or 1 after an error
/// (usage errors included).
pub fn run(
    args: impl IntoIterator<Item = impl Into<OsString> + Clone>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let text = e.render().to_string();
            if e.use_stderr() {
                let _ = err.write_all(text.as_bytes());
                return 1;
            }
            let _ = out.write_all(text.as_bytes());
            return 0;
        }
    };
    let options = Options {
        root: cli.root,
        dry_run: cli.dry_run,
        apply: cli.apply,
        source: cli.source.into(),
        ..Options::default()
    };
    match agent::run(&options) {
        Ok(report) => {
            for warning in &report.warnings {
                let _ = writeln!(err, "warning: {warning}");
            }
            match write!(out, "{report}") {
                Ok(()) => 0,
                Err(e) => {
                    let _ = writeln!(err, "error: cannot write the report: {e}");
                    1
                }
            }
        }
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_flags() {
        let cli = Cli::try_parse_from([
            "esx-guest-agent",
            "--root",
            "/tmp/x",
            "--dry-run",
            "--apply",
            "--source",
            "machine-id",
        ])
        .unwrap();
        assert_eq!(cli.root, PathBuf::from("/tmp/x"));
        assert!(cli.dry_run && cli.apply);
        assert_eq!(cli.source, SourceArg::MachineId);
        let cli = Cli::try_parse_from(["esx-guest-agent"]).unwrap();
        assert_eq!(
            (cli.root, cli.source),
            (PathBuf::from("/"), SourceArg::Auto)
        );
    }

    #[test]
    fn usage_errors_and_help() {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        assert_eq!(
            run(["esx-guest-agent", "--source", "x"], &mut out, &mut err),
            1
        );
        assert!(String::from_utf8_lossy(&err).starts_with("error: invalid value 'x'"));
        let (mut out, mut err) = (Vec::new(), Vec::new());
        assert_eq!(run(["esx-guest-agent", "--help"], &mut out, &mut err), 0);
        let help = String::from_utf8_lossy(&out);
        assert!(
            help.contains("--root <DIR>") && help.contains("machine-id"),
            "{help}"
        );
    }
}
