//! `esxsh`, the virsh of VMware ESX, GSX and vCenter, on top of `esx-driver`.
//!
//! The syntax is virsh's: `esxsh [-c URI] [-r] [-q] [-t] [-d LEVEL] COMMAND [ARGS]`, with
//! virsh's command names, arguments (positional or `--name value`), flags, output and error
//! lines (`error: …` on stderr, exit status 1). Without `-c`, or with `-c test:///default`,
//! esxsh starts an embedded ESX host (esx-sim in-process, HTTPS on a loopback port) with three
//! VMs in different states and talks to it through the same driver as to a real host. Without
//! a command it is an interactive shell. `domxml-from-native` / `domxml-to-native` work
//! offline, or, with an `esx://`, `gsx://` or `vpx://` URI, through the driver's connected
//! conversion (datastores and virtualHW from the server, as libvirt's driver does).
//!
//! Beyond virsh: `--json` on read commands, progress bars on a terminal, `event --loop`,
//! `edit` as an edit of the existing VM, `completion bash|zsh|fish`, and a man page
//! (`cargo xtask man`). See `docs/USER-GUIDE.md` and `docs/COMPATIBILITY.md`.
//!
//! ```
//! esx_cli::with_stack(|| {
//!     let mut out = Vec::new();
//!     let mut err = Vec::new();
//!     let status = esx_cli::run(["esxsh", "-q", "-c", "esx://host/", "uri"], &mut out, &mut err);
//!     assert_eq!(status, 0);
//!     assert_eq!(String::from_utf8_lossy(&out), "esx://host/\n");
//! });
//! ```
//!
//! ## The esx crates
//!
//! [esx-vim](https://docs.rs/esx-vim) (vSphere bindings, SOAP codec, HTTPS client) ·
//! [esx-uri](https://docs.rs/esx-uri) (`esx://`, `gsx://`, `vpx://` URIs, auth.conf) ·
//! [esx-domain](https://docs.rs/esx-domain) (libvirt domain, snapshot, pool, volume, network XML) ·
//! [esx-vmx](https://docs.rs/esx-vmx) (`.vmx` files and VMX ⇄ domain XML) ·
//! [esx-vmdk](https://docs.rs/esx-vmdk) (VMDK images, streamed) ·
//! [esx-driver](https://docs.rs/esx-driver) (the libvirt-style ESX driver) ·
//! [esx-provision](https://docs.rs/esx-provision) (Nova-style spawning from images) ·
//! [esx-guest](https://docs.rs/esx-guest) (guest agent, `machine.id`) ·
//! [esx-sim](https://docs.rs/esx-sim) (a vSphere simulator) ·
//! [esx-cli](https://docs.rs/esx-cli) (`esxsh`).

pub mod argv;
pub mod cli;
pub mod commands;
pub mod domxml;
pub mod error;
pub mod logging;
pub mod output;
pub mod progress;
pub mod resolver;
pub mod session;
pub mod shell;
pub mod timefmt;

use std::ffi::OsString;
use std::io::Write;
use std::time::Instant;

use clap::{CommandFactory, Parser};

pub use cli::{Cli, Command, DEFAULT_URI, DEFAULT_VIRTUAL_HW, VMWARE_VMX};
pub use error::CliError;
pub use resolver::OfflineResolver;
pub use session::Session;

/// The stack size the command line runs with (see `main.rs`; also for tests that call
/// [`run`] or build the clap definition).
pub const STACK_SIZE: usize = 32 * 1024 * 1024;

/// Runs `f` on a thread with [`STACK_SIZE`] of stack (tests).
#[doc(hidden)]
pub fn with_stack<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .stack_size(STACK_SIZE)
            .spawn_scoped(s, f)
            .expect("thread")
            .join()
            .expect("no panic")
    })
}

/// Options that shape every command's output.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Style {
    /// `-q`.
    pub quiet: bool,
    /// `-t`.
    pub timing: bool,
    /// `--json`.
    pub json: bool,
}

/// Parse `args` (program name first), run the command (or the shell), write its output to
/// `out` and any error to `err`, and return the process exit status (0, or 1 on any error as
/// in virsh).
pub fn run<I, T>(args: I, out: &mut dyn Write, err: &mut dyn Write) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let mut args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    if args.is_empty() {
        args.push("esxsh".into());
    }
    let prog = args.remove(0);
    let (norm, name) = argv::normalize(&Cli::command(), args);
    let cli = match Cli::try_parse_from(std::iter::once(prog).chain(norm)) {
        Ok(cli) => cli,
        Err(e) => return report_usage(&e, name.as_deref(), out, err),
    };
    if cli.version {
        let _ = writeln!(out, "{}", env!("CARGO_PKG_VERSION"));
        return 0;
    }
    if cli.long_version {
        let _ = write!(out, "{}", long_version());
        return 0;
    }
    logging::init(cli.debug);
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let _ = writeln!(err, "error: cannot start the runtime: {e}");
            return 1;
        }
    };
    let style = Style {
        quiet: cli.quiet,
        timing: cli.timing,
        json: cli.json,
    };
    let status = match &cli.command {
        None => shell::run(&cli, &rt, out, err),
        Some(cmd) => {
            let mut state = shell::State::new(&cli.connect, cli.readonly);
            let status = run_command(&rt, &mut state, cmd, style, out, err);
            rt.block_on(state.close());
            status
        }
    };
    rt.shutdown_timeout(std::time::Duration::from_millis(200));
    status
}

/// esxsh's `-V` text.
fn long_version() -> String {
    format!(
        "esxsh, the ESX command line tool of esx {v}\n\n\
         Compiled with support for:\n Hypervisors: ESX GSX VPX\n \
         Embedded host: test:///default (esx-sim)\n \
         Storage: VMFS iSCSI\n Networking: vSwitch\n",
        v = env!("CARGO_PKG_VERSION")
    )
}

/// Runs one parsed command: virsh's blank line after it (unless `-q`), or the timing line
/// with `-t`; errors as `error: …` lines on `err`. Returns the exit status.
pub fn run_command(
    rt: &tokio::runtime::Runtime,
    state: &mut shell::State,
    cmd: &Command,
    style: Style,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    let started = Instant::now();
    let result = rt.block_on(execute(state, cmd, style, out));
    for w in state.take_warnings() {
        let _ = writeln!(err, "warning: {w}");
    }
    if let Err(CliError::Connect(_)) = &result {
        // No command ran: no separator, as virsh.
        if let Err(e) = &result {
            let _ = writeln!(err, "error: {e}");
        }
        return 1;
    }
    let status = match &result {
        Ok(()) => 0,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            1
        }
    };
    if style.timing {
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        let _ = write!(out, "\n(Time: {ms:.3} ms)\n\n");
    } else if !style.quiet {
        let _ = out.write_all(b"\n");
    }
    let _ = out.flush();
    status
}

/// Whether `uri` names a VMware server (esx://, gsx://, vpx://, in any case), so that the
/// conversions connect to it.
pub fn is_vmware_uri(uri: &str) -> bool {
    uri.split_once("://").is_some_and(|(scheme, _)| {
        ["esx", "gsx", "vpx"]
            .iter()
            .any(|s| scheme.eq_ignore_ascii_case(s))
    })
}

/// Runs a command, opening the connection first when it needs one.
pub async fn execute(
    state: &mut shell::State,
    cmd: &Command,
    style: Style,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let mut o = commands::Out::new(out, style.quiet, style.json);
    match cmd {
        Command::DomxmlFromNative { format, config } => {
            let data = domxml::read_input(config)?;
            if is_vmware_uri(&state.uri) {
                // Connected, as libvirt's driver converts: the server's datastores.
                domxml::check_format(format)?;
                let session = state.session().await?;
                let xml = session
                    .conn
                    .domain_xml_from_native_bytes(format, &data)
                    .await?;
                o.print(&xml)
            } else {
                o.print(&domxml::from_native(
                    format,
                    &data,
                    &config.to_string_lossy(),
                )?)
            }
        }
        Command::DomxmlToNative {
            format,
            xml,
            virtual_hw,
        } => {
            let text = commands::read_file(xml)?;
            if is_vmware_uri(&state.uri) {
                // Connected: the server's datastores and, unless given, its virtualHW.
                domxml::check_format(format)?;
                let session = state.session().await?;
                let vmx = session
                    .conn
                    .domain_xml_to_native_hw(format, &text, *virtual_hw)
                    .await?;
                o.print(&vmx)
            } else {
                o.print(&domxml::to_native(
                    format,
                    &text,
                    virtual_hw.unwrap_or(DEFAULT_VIRTUAL_HW),
                )?)
            }
        }
        Command::Uri if !style.json => o.print(&format!("{}\n", state.uri)),
        Command::Completion { shell } => {
            let mut buf = Vec::new();
            clap_complete::generate(*shell, &mut Cli::command(), "esxsh", &mut buf);
            o.print(&String::from_utf8_lossy(&buf))
        }
        Command::Man => {
            let mut buf = Vec::new();
            clap_mangen::Man::new(Cli::command())
                .render(&mut buf)
                .map_err(|e| CliError::Output(error::strerror(&e)))?;
            o.print(&String::from_utf8_lossy(&buf))
        }
        Command::Connect { name, readonly } => {
            state.reconnect(name.clone(), *readonly).await?;
            Ok(())
        }
        Command::Quit => Ok(()),
        _ => {
            let session = state.session().await?;
            commands::run(cmd, session, &mut o).await
        }
    }
}

/// Print a command line parsing outcome: help goes to `out` with status 0, usage errors to
/// `err` as virsh words them, with status 1.
fn report_usage(
    e: &clap::Error,
    command: Option<&str>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    if !e.use_stderr() {
        let _ = write!(out, "{}", e.render());
        return 0;
    }
    let _ = writeln!(err, "error: {}", argv::usage_error(e, command));
    1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_args(args: &[&str]) -> (i32, String, String) {
        with_stack(|| {
            let mut out = Vec::new();
            let mut err = Vec::new();
            let status = run(args.iter().copied(), &mut out, &mut err);
            (
                status,
                String::from_utf8_lossy(&out).into_owned(),
                String::from_utf8_lossy(&err).into_owned(),
            )
        })
    }

    #[test]
    fn default_uri_and_version() {
        assert_eq!(
            run_args(&["esxsh", "uri"]),
            (0, "test:///default\n\n".into(), String::new())
        );
        assert_eq!(
            run_args(&["esxsh", "-q", "uri"]),
            (0, "test:///default\n".into(), String::new())
        );
        let (status, out, _) = run_args(&["esxsh", "-v"]);
        assert_eq!((status, out.as_str()), (0, "0.1.0\n"));
        let (status, out, _) = run_args(&["esxsh", "-V"]);
        assert_eq!(status, 0);
        assert!(out.starts_with("esxsh, the ESX command line tool"), "{out}");
    }

    #[test]
    fn usage_errors_exit_1() {
        let (status, out, err) = run_args(&["esxsh", "frobnicate"]);
        assert_eq!((status, out.as_str()), (1, ""));
        assert_eq!(err, "error: unknown command: 'frobnicate'\n");
        let (status, _, err) = run_args(&["esxsh", "domxml-from-native"]);
        assert_eq!(status, 1);
        assert_eq!(
            err,
            "error: command 'domxml-from-native' requires <format> option\n"
        );
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
        assert_eq!(out, "\n");
        assert_eq!(
            err,
            "error: Failed to open file '/nonexistent/x.vmx': No such file or directory\n"
        );
    }

    #[test]
    fn timing_line() {
        let (status, out, _) = run_args(&["esxsh", "-t", "uri"]);
        assert_eq!(status, 0);
        assert!(out.starts_with("test:///default\n\n(Time: "), "{out}");
        assert!(out.ends_with(" ms)\n\n"), "{out}");
    }
}
