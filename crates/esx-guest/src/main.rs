//! `esx-guest-agent` binary: see the `esx_guest` crate documentation.

fn main() {
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    let status = esx_guest::cli::run(std::env::args_os(), &mut stdout.lock(), &mut stderr.lock());
    std::process::exit(status);
}
