//! `esx-sim`: runs the simulator until SIGTERM or Ctrl-C.

use std::path::PathBuf;

use clap::Parser;

/// A vSphere simulator for tests and demos.
#[derive(Parser, Debug)]
#[command(name = "esx-sim", version)]
struct Args {
    /// esx or vcenter.
    #[arg(long, default_value = "esx")]
    flavor: esx_sim::Flavor,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: std::net::SocketAddr,
    /// Data directory (one subdirectory per datastore).
    #[arg(long)]
    data_dir: PathBuf,
    /// Inventory size, e.g. dc=1,cluster=1,host=2,vm=1000,ds=1,net=1.
    #[arg(long)]
    inventory: Option<esx_sim::InventorySpec>,
    /// Administrator user name.
    #[arg(long, default_value = "root")]
    user: String,
    /// File holding the password (first line).
    #[arg(long)]
    password_file: Option<PathBuf>,
    /// PEM certificate (with --key).
    #[arg(long, requires = "key")]
    cert: Option<PathBuf>,
    /// PEM private key (with --cert).
    #[arg(long, requires = "cert")]
    key: Option<PathBuf>,
    /// Directory with vimService.wsdl and its includes.
    #[arg(long)]
    wsdl_dir: Option<PathBuf>,
    /// Milliseconds each task stays running.
    #[arg(long, default_value_t = 0)]
    task_delay_ms: u64,
    /// Capacity of each datastore, in GiB.
    #[arg(long, value_name = "GIB", default_value_t = 1024)]
    datastore_capacity: u64,
    /// Fault injection, e.g. latency:Login=50,drop:RetrievePropertiesEx=1,http503:*=2,
    /// cut:PowerOnVM_Task=1,fail-task:PowerOnVM_Task,session-ttl=60,
    /// full-datastore:datastore1=100, pause-before-commit=3 (may be repeated).
    #[arg(long = "inject", value_name = "SPEC")]
    inject: Vec<esx_sim::inject::InjectSpec>,
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("esx-sim: cannot start runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    rt.block_on(run(args))
}

async fn run(args: Args) -> std::process::ExitCode {
    let mut cfg = esx_sim::Config::new(args.data_dir);
    cfg.flavor = args.flavor;
    cfg.listen = args.listen;
    cfg.user = args.user;
    if let Some(inv) = args.inventory {
        cfg.inventory = inv;
    }
    if let Some(f) = args.password_file {
        match std::fs::read_to_string(&f) {
            Ok(s) => cfg.password = s.lines().next().unwrap_or("").to_owned(),
            Err(e) => {
                eprintln!("esx-sim: cannot read {}: {e}", f.display());
                return std::process::ExitCode::FAILURE;
            }
        }
    }
    cfg.cert = args.cert.zip(args.key);
    cfg.wsdl_dir = args.wsdl_dir;
    cfg.task_delay = std::time::Duration::from_millis(args.task_delay_ms);
    cfg.datastore_capacity = args.datastore_capacity.saturating_mul(1 << 30);
    for spec in args.inject {
        cfg.inject.extend(spec);
    }
    let started = std::time::Instant::now();
    let handle = match esx_sim::Simulator::start(cfg).await {
        Ok(h) => h,
        Err(e) => {
            eprintln!("esx-sim: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    println!("url={}", handle.url);
    println!("fingerprint={}", handle.fingerprint);
    println!("ready_s={:.3}", started.elapsed().as_secs_f64());
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("esx-sim: cannot install SIGTERM handler: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    handle.shutdown().await;
    std::process::ExitCode::SUCCESS
}
