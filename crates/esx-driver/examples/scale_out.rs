//! Scale-out: four esx-sim processes, this one process with one esx-driver connection to
//! each. Lists every domain of all four, and powers N domains of each on and off again, once
//! on all four connections concurrently and once one connection after another; prints both
//! figures (median and spread over the rounds) and their ratio.
//!
//! ```sh
//! cargo build --release -p esx-sim
//! cargo run --release -p esx-driver --example scale_out -- 1000 25 3
//! ```
//! Arguments: VMs per simulator (default 1000), domains powered on and off per simulator
//! (default 25), rounds (default 3). Simulators: `target/release/esx-sim` or `$ESX_SIM`,
//! data on tmpfs when there is one. The last line, `samples KEY=s,…`, holds every round's
//! seconds for `cargo xtask bench`.

#[path = "common/sim_process.rs"]
mod sim_process;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use esx_driver::{Connection, Domain, FixedCredentials, HypervisorDriver, OpenOptions};
use sim_process::{median_spread, samples_line, SimProcess};
use tokio::task::JoinSet;

/// Lists every domain on `conn`; returns how many.
async fn list(conn: Connection) -> usize {
    conn.connect_list_all_domains(0).await.expect("list").len()
}

/// Powers `doms` on, one after another, then off again.
async fn power(conn: Connection, doms: Vec<Domain>) -> usize {
    for d in &doms {
        conn.domain_create(d).await.expect("power on");
    }
    for d in &doms {
        conn.domain_destroy(d).await.expect("power off");
    }
    doms.len()
}

/// Runs `job` on every connection at once; returns seconds and the sum of the results.
async fn concurrently<F, Fut>(conns: &[(Connection, Vec<Domain>)], job: F) -> (f64, usize)
where
    F: Fn(Connection, Vec<Domain>) -> Fut,
    Fut: std::future::Future<Output = usize> + Send + 'static,
{
    let t = Instant::now();
    let mut set = JoinSet::new();
    for (c, d) in conns {
        set.spawn(job(c.clone(), d.clone()));
    }
    let mut total = 0;
    while let Some(n) = set.join_next().await {
        total += n.expect("task");
    }
    (t.elapsed().as_secs_f64(), total)
}

/// Runs `job` on one connection after another; returns seconds and the sum of the results.
async fn sequentially<F, Fut>(conns: &[(Connection, Vec<Domain>)], job: F) -> (f64, usize)
where
    F: Fn(Connection, Vec<Domain>) -> Fut,
    Fut: std::future::Future<Output = usize>,
{
    let t = Instant::now();
    let mut total = 0;
    for (c, d) in conns {
        total += job(c.clone(), d.clone()).await;
    }
    (t.elapsed().as_secs_f64(), total)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let vms: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(1000);
    let n_power: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(25);
    let rounds: usize = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(3);
    let base = if Path::new("/dev/shm").is_dir() {
        PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    let inventory = format!("vm={vms}");
    let sims: Vec<SimProcess> = (0..4)
        .map(|i| {
            SimProcess::start(
                &base,
                &format!("esx-scale-out-{i}"),
                &["--inventory", &inventory],
            )
        })
        .collect();
    let options = OpenOptions {
        auth: Some(Arc::new(FixedCredentials::new("root", "pass"))),
        ..OpenOptions::default()
    };
    let mut conns = Vec::new();
    for sim in &sims {
        let uri = format!("esx://root@127.0.0.1:{}/?no_verify=1", sim.port);
        let conn = Connection::open(&uri, options.clone()).await.expect("open");
        // The first N powered-off domains are the ones powered on and off.
        let doms: Vec<Domain> = conn
            .connect_list_all_domains(0)
            .await
            .expect("list")
            .into_iter()
            .filter(|d| d.id < 0)
            .take(n_power)
            .collect();
        assert_eq!(doms.len(), n_power, "not enough powered-off domains");
        conns.push((conn, doms));
    }
    let (mut ls, mut lc, mut ps, mut pc) = (vec![], vec![], vec![], vec![]);
    let list_job = |c: Connection, _d: Vec<Domain>| list(c);
    for r in 0..rounds {
        // Alternate which way goes first.
        for way in [r % 2, 1 - r % 2] {
            let ((l, nl), (p, np)) = if way == 0 {
                (
                    sequentially(&conns, list_job).await,
                    sequentially(&conns, power).await,
                )
            } else {
                (
                    concurrently(&conns, list_job).await,
                    concurrently(&conns, power).await,
                )
            };
            assert_eq!(nl, 4 * vms);
            assert_eq!(np, 4 * n_power);
            if way == 0 {
                ls.push(l);
                ps.push(p);
            } else {
                lc.push(l);
                pc.push(p);
            }
        }
    }
    for (c, _) in &conns {
        let _ = c.connect_close().await;
    }
    drop(sims);
    println!("4 esx-sim processes x {vms} VMs, one connection each, {rounds} rounds");
    let show = |name: &str, v: &[f64]| {
        let (m, lo, hi) = median_spread(v.to_vec());
        println!("{name:<34} median {m:.3} s, spread {lo:.3}-{hi:.3} s");
        m
    };
    let a = show("list all, one after another", &ls);
    let b = show("list all, concurrently", &lc);
    let c = show(&format!("power {n_power} on+off, one after another"), &ps);
    let d = show(&format!("power {n_power} on+off, concurrently"), &pc);
    println!(
        "speed-up of concurrency: list {:.2}x, power {:.2}x",
        a / b,
        c / d
    );
    println!(
        "{}",
        samples_line(&[
            ("list_sequential", &ls),
            ("list_concurrent", &lc),
            ("power_sequential", &ps),
            ("power_concurrent", &pc),
        ])
    );
}
