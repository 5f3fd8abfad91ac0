//! Project automation for the esx workspace.
//!
//! * `cargo xtask codegen [--wsdl DIR] [--check]` — generate `crates/esx-vim/src/generated/`.
//! * `cargo xtask fetch-wsdl --from https://HOST/sdk/ --out DIR [--insecure] [--ca-file PEM]` — download a WSDL set.
//! * `cargo xtask test` — install what the tests need, then run the whole test suite.
//! * `cargo xtask man [--out FILE]` — the esxsh(1) man page from esxsh's clap definition.
//! * `cargo xtask bench [--quick] [--rounds N] [--out DIR]` — every side-by-side measurement
//!   against the peers in one run: table, `results.json`, SVG plots (docs/PERFORMANCE.md).

mod bench;
mod codegen;
mod fetch_wsdl;
mod man;
mod test;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test::run(&args[1..]),
        Some("codegen") => codegen::run(&args[1..]),
        Some("fetch-wsdl") => fetch_wsdl::run(&args[1..]),
        Some("man") => man::run(&args[1..]),
        Some("bench") => bench::run(&args[1..]),
        _ => Err(usage()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

fn usage() -> String {
    "usage: cargo xtask <codegen [--wsdl DIR] [--check] | fetch-wsdl --from URL --out DIR [--insecure] [--ca-file PEM] | test | man [--out FILE] | bench [--quick] [--rounds N] [--out DIR] [--plots DIR] [--no-build] [--only NAME,...]>"
        .to_string()
}
