//! One run of the agent: read the settings, choose the distribution's files, match NICs by
//! MAC, write what differs, and optionally apply it.
//!
//! Everything that can be wrong with the input (the settings, os-release, the devices) is found
//! before the first file is touched, and every target file is inspected before the first one
//! is written, so a failed run changes nothing unless the disk itself fails midway. Each file
//! is replaced atomically on its own.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::apply::{self, CommandError, RestartCommand};
use crate::distro::{self, Distro, DistroError};
use crate::files::{self, Change, FileError};
use crate::nic::MacAddr;
use crate::render::{self, FileKind, Interface};
use crate::source::{self, Source, SourceError, Vmtoolsd};
use crate::sysfs::{self, SysfsError};

/// What to do.
#[derive(Debug, Clone)]
pub struct Options {
    /// The root of the guest's file system: `/`, or an image or test tree.
    pub root: PathBuf,
    /// Report what would change without changing anything or running commands.
    pub dry_run: bool,
    /// Restart networking when a network file changed.
    pub apply: bool,
    /// Where the settings come from.
    pub source: Source,
    /// How to run VMware Tools.
    pub vmtoolsd: Vmtoolsd,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            root: PathBuf::from("/"),
            dry_run: false,
            apply: false,
            source: Source::Auto,
            vmtoolsd: Vmtoolsd::default(),
        }
    }
}

/// Why a run failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AgentError {
    /// The settings could not be read, or are wrong.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// Two NICs of the settings have the same MAC.
    #[error("NIC settings {first} and {second} have the same MAC address {mac}")]
    DuplicateMac {
        /// The MAC.
        mac: MacAddr,
        /// 1-based position of the first.
        first: usize,
        /// 1-based position of the second.
        second: usize,
    },
    /// The distribution is not supported.
    #[error(transparent)]
    Distro(#[from] DistroError),
    /// The devices could not be listed.
    #[error(transparent)]
    Sysfs(#[from] SysfsError),
    /// No device has any of the MACs of the settings.
    #[error("no network device has any of the MAC addresses {}", list(.0))]
    NoMatchingDevice(Vec<MacAddr>),
    /// A file could not be read or written.
    #[error(transparent)]
    File(#[from] FileError),
    /// A restart command failed.
    #[error(transparent)]
    Command(#[from] CommandError),
}

fn list(macs: &[MacAddr]) -> String {
    macs.iter()
        .map(MacAddr::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// What happened to one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileReport {
    /// The path inside the guest (`/etc/resolv.conf`).
    pub path: PathBuf,
    /// What changed, or would change in a dry run.
    pub change: Change,
    /// In a dry run, a line diff from the current to the new content (created or updated files).
    pub diff: Option<String>,
}

/// What happened to one restart command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandReport {
    /// The command line.
    pub command: String,
    /// Whether it ran (`false` in a dry run).
    pub ran: bool,
    /// Why an allowed failure failed.
    pub ignored_failure: Option<String>,
}

/// The outcome of a run, printed by the binary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Whether nothing was changed on purpose.
    pub dry_run: bool,
    /// Which key gave the settings.
    pub source: Source,
    /// The distribution's configuration style.
    pub distro: Distro,
    /// The NICs found, with their settings.
    pub interfaces: Vec<Interface>,
    /// Things the user should know (skipped NICs, unused gateways, …).
    pub warnings: Vec<String>,
    /// One entry per file considered.
    pub files: Vec<FileReport>,
    /// The restart commands run (or that would run).
    pub commands: Vec<CommandReport>,
}

impl Report {
    /// Whether any file changed (or would change).
    pub fn changed(&self) -> bool {
        self.files.iter().any(|f| f.change.is_change())
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "source: {}", self.source)?;
        writeln!(f, "distribution: {}", self.distro)?;
        for iface in &self.interfaces {
            let address = iface.nic.ipv4.map(|v4| v4.cidr());
            let address = address.as_deref().unwrap_or("no IPv4 address");
            writeln!(f, "{}: {} {address}", iface.device, iface.nic.mac)?;
        }
        let would = if self.dry_run { "would be " } else { "" };
        for file in &self.files {
            let verb = match file.change {
                Change::Unchanged | Change::SkippedSymlink => file.change.verb().to_string(),
                change => format!("{would}{}", change.verb()),
            };
            writeln!(f, "{verb} {}", file.path.display())?;
            if let Some(diff) = &file.diff {
                diff.lines()
                    .try_for_each(|line| writeln!(f, "    {line}"))?;
            }
        }
        for cmd in &self.commands {
            match (&cmd.ignored_failure, cmd.ran) {
                (Some(reason), _) => {
                    writeln!(f, "ran: {} (failure ignored: {reason})", cmd.command)?
                }
                (None, true) => writeln!(f, "ran: {}", cmd.command)?,
                (None, false) => writeln!(f, "would run: {}", cmd.command)?,
            }
        }
        Ok(())
    }
}

/// The path inside the guest of a path relative to the root.
fn guest_path(relative: &Path) -> PathBuf {
    Path::new("/").join(relative)
}

/// Runs the agent once.
pub fn run(options: &Options) -> Result<Report, AgentError> {
    let (source, nics) = source::read_nics(options.source, &options.vmtoolsd)?;
    for (second, nic) in nics.iter().enumerate() {
        if let Some(first) = nics[..second].iter().position(|n| n.mac == nic.mac) {
            return Err(AgentError::DuplicateMac {
                mac: nic.mac,
                first: first + 1,
                second: second + 1,
            });
        }
    }
    let distro = distro::detect_at(&options.root)?;
    let devices = sysfs::list_devices(&options.root)?;
    let matching = sysfs::match_devices(&devices, &nics);
    if matching.interfaces.is_empty() {
        return Err(AgentError::NoMatchingDevice(
            nics.iter().map(|n| n.mac).collect(),
        ));
    }
    let warnings = warnings(&matching);
    let interfaces = matching.interfaces;

    // Inspect every file before writing any.
    let rendered = render::render(distro.renderer, &interfaces);
    let mut planned = Vec::new();
    for file in &rendered {
        let path = options.root.join(&file.path);
        let (change, current) = files::compare(&path, file.contents.as_bytes(), file.mode)?;
        planned.push((file, path, change, current));
    }

    let mut reports = Vec::new();
    let mut network_changed = false;
    for (file, path, planned_change, current) in planned {
        let change = if options.dry_run {
            planned_change
        } else {
            files::write_if_changed(&path, file.contents.as_bytes(), file.mode)?
        };
        let content_changed = matches!(change, Change::Created | Change::Updated);
        network_changed |= content_changed && file.kind == FileKind::Network;
        let diff = (options.dry_run && content_changed).then(|| {
            let old = current
                .as_deref()
                .map(String::from_utf8_lossy)
                .unwrap_or_default();
            files::diff(&old, &file.contents)
        });
        reports.push(FileReport {
            path: guest_path(&file.path),
            change,
            diff,
        });
    }

    let mut commands = Vec::new();
    if options.apply && network_changed {
        let devices: Vec<String> = interfaces
            .iter()
            .filter(|i| i.nic.ipv4.is_some())
            .map(|i| i.device.clone())
            .collect();
        for command in apply::restart_commands(distro.restart, &devices) {
            commands.push(run_command(&command, options.dry_run)?);
        }
    }

    Ok(Report {
        dry_run: options.dry_run,
        source,
        distro,
        interfaces,
        warnings,
        files: reports,
        commands,
    })
}

fn run_command(command: &RestartCommand, dry_run: bool) -> Result<CommandReport, CommandError> {
    let ignored_failure = if dry_run { None } else { apply::run(command)? };
    Ok(CommandReport {
        command: command.to_string(),
        ran: !dry_run,
        ignored_failure,
    })
}

fn warnings(matching: &sysfs::Matching) -> Vec<String> {
    let mut out = Vec::new();
    for mac in &matching.unmatched {
        out.push(format!(
            "no network device has MAC address {mac}: its settings are skipped"
        ));
    }
    for (mac, names) in &matching.ambiguous {
        out.push(format!(
            "MAC address {mac} belongs to several devices ({}): its settings are skipped",
            names.join(", ")
        ));
    }
    let owner = render::default_route_owner(&matching.interfaces);
    for (n, iface) in matching.interfaces.iter().enumerate() {
        match iface.nic.ipv4 {
            None => out.push(format!(
                "{}: no IPv4 address in the settings: the interface is left as it is",
                iface.device
            )),
            Some(v4) => {
                if let (Some(gateway), Some(owner)) = (v4.gateway, owner.filter(|o| *o != n)) {
                    out.push(format!(
                        "{}: gateway {gateway} not written: the default route goes through {}",
                        iface.device, matching.interfaces[owner].device
                    ));
                }
            }
        }
    }
    out
}
