//! `esxsh`, a virsh-style command line for ESX, GSX and vCenter.
//!
//! The syntax is virsh's: `esxsh [-c URI] COMMAND [ARGS]`. The commands so far:
//!
//! * `domxml-from-native vmware-vmx FILE`: a `.vmx` file to libvirt domain XML;
//! * `domxml-to-native vmware-vmx FILE [--virtual-hw N]`: domain XML to `.vmx` text;
//! * `uri`: the connection URI (default [`DEFAULT_URI`]);
//! * `version`.
//!
//! The conversions work like libvirt's ESX driver. With an `esx://`, `gsx://` or `vpx://` URI
//! they connect ([`connect::server_facts`]; credentials from the URI, libvirt's `auth.conf`,
//! `ESX_USERNAME` / `ESX_PASSWORD`) and map file names against the server's datastores; the
//! virtualHW version written is the one libvirt picks for the server's product. With any
//! other URI (the default) they work offline: [`OfflineResolver`] takes `/vmfs/volumes/<ds>`
//! to be datastore `<ds>`. Errors are printed as `error: <message>` on stderr with exit
//! status 1, as virsh does.
//!
//! ```
//! let mut out = Vec::new();
//! let mut err = Vec::new();
//! let status = esx_cli::run(["esxsh", "-c", "esx://host/", "uri"], &mut out, &mut err);
//! assert_eq!(status, 0);
//! assert_eq!(String::from_utf8_lossy(&out), "esx://host/\n");
//! ```

pub mod cli;
pub mod connect;
pub mod domxml;
pub mod error;
pub mod resolver;

use std::ffi::OsString;
use std::io::Write;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::Parser;
use esx_vmx::convert::DatastoreResolver;

pub use cli::{Cli, Command, DEFAULT_URI, DEFAULT_VIRTUAL_HW, VMWARE_VMX};
pub use error::CliError;
pub use resolver::OfflineResolver;

/// Parse `args` (program name first), run the command, write its output to `out` and any
/// error to `err`, and return the process exit status (0, or 1 on any error as in virsh).
pub fn run<I, T>(args: I, out: &mut dyn Write, err: &mut dyn Write) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => return report_usage(&e, out, err),
    };
    match execute(&cli, out) {
        Ok(()) => 0,
        Err(e) => {
            // Nothing more can be done if stderr itself is gone.
            let _ = writeln!(err, "error: {e}");
            1
        }
    }
}

/// Run an already parsed command line, writing its output to `out`.
pub fn execute(cli: &Cli, out: &mut dyn Write) -> Result<(), CliError> {
    // With an esx://, gsx:// or vpx:// URI the conversions ask the server, as libvirt does.
    let connected = || -> Result<(DatastoreResolver, i64), CliError> {
        let facts = connect::server_facts(&cli.connect)?;
        let resolver = DatastoreResolver {
            datastores: facts.datastores,
            vmx_directory: resolver::UNKNOWN_VMX_DIRECTORY.into(),
        };
        Ok((resolver, facts.virtual_hw))
    };
    let text = match &cli.command {
        Command::DomxmlFromNative { format, config } => {
            let data = domxml::read_input(config)?;
            if connect::is_vmware_uri(&cli.connect) {
                domxml::check_format(format)?;
                let (resolver, _) = connected()?;
                domxml::from_native_with(format, &data, &resolver)?
            } else {
                domxml::from_native(format, &data, &config.to_string_lossy())?
            }
        }
        Command::DomxmlToNative {
            format,
            xml,
            virtual_hw,
        } => {
            let data = domxml::read_input(xml)?;
            let text = String::from_utf8(data).map_err(|e| {
                CliError::read(
                    xml,
                    format!(
                        "not valid UTF-8 text (at byte {})",
                        e.utf8_error().valid_up_to()
                    ),
                )
            })?;
            if connect::is_vmware_uri(&cli.connect) {
                domxml::check_format(format)?;
                let (resolver, server_hw) = connected()?;
                domxml::to_native_with(format, &text, virtual_hw.unwrap_or(server_hw), &resolver)?
            } else {
                domxml::to_native(format, &text, virtual_hw.unwrap_or(DEFAULT_VIRTUAL_HW))?
            }
        }
        Command::Uri => format!("{}\n", cli.connect),
        Command::Version => {
            let v = env!("CARGO_PKG_VERSION");
            format!("Compiled against library: esx {v}\nUsing library: esx {v}\n")
        }
    };
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| CliError::Output(error::strerror(&e)))
}

/// Print a command line parsing outcome: help and version go to `out` with status 0, usage
/// errors to `err` with status 1 (virsh's status for a bad command line).
fn report_usage(e: &clap::Error, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    if !e.use_stderr() {
        let _ = write!(out, "{}", e.render());
        return 0;
    }
    if e.kind() == ErrorKind::InvalidSubcommand {
        if let Some(ContextValue::String(name)) = e.get(ContextKind::InvalidSubcommand) {
            let _ = writeln!(err, "error: unknown command: '{name}'");
            return 1;
        }
    }
    let _ = write!(err, "{}", e.render());
    1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_args(args: &[&str]) -> (i32, String, String) {
        let mut out = Vec::new();
        let mut err = Vec::new();
        let status = run(args.iter().copied(), &mut out, &mut err);
        (
            status,
            String::from_utf8_lossy(&out).into_owned(),
            String::from_utf8_lossy(&err).into_owned(),
        )
    }

    #[test]
    fn default_uri_and_version() {
        assert_eq!(
            run_args(&["esxsh", "uri"]),
            (0, "test:///default\n".into(), String::new())
        );
        let (status, out, _) = run_args(&["esxsh", "version"]);
        assert_eq!(status, 0);
        assert!(out.starts_with("Compiled against library: esx "), "{out}");
    }

    #[test]
    fn usage_errors_exit_1() {
        let (status, out, err) = run_args(&["esxsh", "frobnicate"]);
        assert_eq!((status, out.as_str()), (1, ""));
        assert_eq!(err, "error: unknown command: 'frobnicate'\n");
        let (status, _, err) = run_args(&["esxsh", "domxml-from-native"]);
        assert_eq!(status, 1);
        assert!(err.starts_with("error: "), "{err}");
        let (status, out, _) = run_args(&["esxsh", "--help"]);
        assert_eq!(status, 0);
        assert!(out.contains("domxml-from-native"), "{out}");
    }

    #[test]
    fn command_errors_exit_1_with_virsh_prefix() {
        let (status, out, err) = run_args(&[
            "esxsh",
            "domxml-from-native",
            "vmware-vmx",
            "/nonexistent/x.vmx",
        ]);
        assert_eq!(status, 1);
        assert_eq!(out, "");
        assert_eq!(
            err,
            "error: Failed to open file '/nonexistent/x.vmx': No such file or directory\n"
        );
    }
}
