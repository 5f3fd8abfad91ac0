//! `esxsh` binary.
fn main() {
    eprintln!("esxsh: no command given");
    std::process::exit(2);
}
