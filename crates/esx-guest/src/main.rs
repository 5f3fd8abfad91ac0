//! `esx-guest-agent` binary.
fn main() {
    eprintln!("esx-guest-agent: no machine.id source is available on this host");
    std::process::exit(1);
}
