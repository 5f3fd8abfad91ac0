//! `esxsh` binary: see the `esx_cli` crate documentation.

fn main() {
    // Building the clap definition of ~100 commands takes more stack than a debug build's
    // default on some threads; give the command line its own roomy thread.
    let worker = std::thread::Builder::new()
        .name("esxsh".into())
        .stack_size(esx_cli::STACK_SIZE)
        .spawn(|| {
            // Unlocked handles: tracing and progress bars write to stderr from other threads.
            esx_cli::run(
                std::env::args_os(),
                &mut std::io::stdout(),
                &mut std::io::stderr(),
            )
        });
    let status = match worker.map(|w| w.join()) {
        Ok(Ok(status)) => status,
        _ => 1,
    };
    std::process::exit(status);
}
