//! `esxsh` binary: see the `esx_cli` crate documentation.

fn main() {
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    let status = esx_cli::run(std::env::args_os(), &mut stdout.lock(), &mut stderr.lock());
    std::process::exit(status);
}
