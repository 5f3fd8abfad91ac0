//! Lists every domain of an esx-sim with many VMs through the driver, beside pyVmomi (name +
//! power state with a container view) and libvirt 11.3's `virsh list --all`, in one run on
//! the same server; prints medians, spreads, ratios and the driver's request count.
//!
//! ```sh
//! cargo run --release -p esx-driver --example list_beside_peers -- 10000 5
//! ```
//! Arguments: VM count (default 10000), rounds (default 5), and `--no-virsh` to leave virsh
//! out. The simulator runs as its own process (`target/release/esx-sim`, built first), as a
//! real host would.

#[path = "common/sim_process.rs"]
mod sim_process;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use esx_driver::{Connection, FixedCredentials, HypervisorDriver, OpenOptions};
use sim_process::{median_spread, SimProcess};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[tokio::main]
async fn main() {
    let mut args: Vec<String> = std::env::args().collect();
    let no_virsh = args.iter().any(|a| a == "--no-virsh");
    args.retain(|a| a != "--no-virsh");
    let vms: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let rounds: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(5);
    let sim = SimProcess::start(
        &std::env::temp_dir(),
        "esx-driver-bench",
        &["--inventory", &format!("vm={vms}")],
    );
    let port = sim.port;
    let uri = format!("esx://root@127.0.0.1:{port}/?no_verify=1");
    let options = OpenOptions {
        auth: Some(Arc::new(FixedCredentials::new("root", "pass"))),
        ..OpenOptions::default()
    };

    // The driver: open once, list `rounds` times.
    let conn = Connection::open(&uri, options.clone()).await.unwrap();
    let mut ours = Vec::new();
    for _ in 0..rounds {
        let t = Instant::now();
        let n = conn.connect_list_all_domains(0).await.unwrap().len();
        ours.push(t.elapsed().as_secs_f64());
        assert_eq!(n, vms);
    }
    // Open + list, as a command-line user pays it.
    let mut ours_cold = Vec::new();
    for _ in 0..rounds {
        let t = Instant::now();
        let c = Connection::open(&uri, options.clone()).await.unwrap();
        c.connect_list_all_domains(0).await.unwrap();
        ours_cold.push(t.elapsed().as_secs_f64());
        c.connect_close().await.unwrap();
    }

    // pyVmomi: its own connect and list times.
    let py = Path::new("/opt/peers/venv/bin/python");
    let script = root().join("../shared/peers/pyvmomi_list.py");
    let mut py_list = Vec::new();
    let mut py_total = Vec::new();
    if py.is_file() && script.is_file() {
        for _ in 0..rounds {
            let t = Instant::now();
            let out = Command::new(py)
                .arg(&script)
                .args(["127.0.0.1", &port.to_string(), "root", "pass"])
                .output()
                .unwrap();
            py_total.push(t.elapsed().as_secs_f64());
            let text = String::from_utf8_lossy(&out.stdout);
            let list: f64 = text
                .split("list_s=")
                .nth(1)
                .and_then(|s| s.trim().parse().ok())
                .unwrap_or(f64::NAN);
            py_list.push(list);
        }
    } else {
        eprintln!("pyVmomi not installed: run ../shared/peers/setup-peers.sh");
    }

    // libvirt 11.3's virsh (13 + 3×N requests): one round is enough at 10,000 VMs.
    let virsh = Path::new("/opt/libvirt-11.3/bin/virsh");
    let mut virsh_times = Vec::new();
    if no_virsh {
        eprintln!("virsh left out (--no-virsh)");
    } else if virsh.is_file() {
        let n = if vms > 2000 { 1 } else { rounds };
        for _ in 0..n {
            let t = Instant::now();
            let out = Command::new(virsh)
                .env("LD_LIBRARY_PATH", "/opt/libvirt-11.3/lib/x86_64-linux-gnu")
                .env(
                    "LIBVIRT_AUTH_FILE",
                    root().join("../shared/peers/libvirt-auth.conf"),
                )
                .env("LIBVIRT_LOG_OUTPUTS", "1:file:/dev/null")
                .args(["-q", "-c", &uri, "list", "--all"])
                .output()
                .unwrap();
            virsh_times.push(t.elapsed().as_secs_f64());
            assert_eq!(
                String::from_utf8_lossy(&out.stdout)
                    .lines()
                    .filter(|l| !l.trim().is_empty())
                    .count(),
                vms
            );
        }
    } else {
        eprintln!("libvirt 11.3 not built: run ../shared/peers/setup-libvirt-11.3.sh");
    }

    drop(sim);

    let show = |name: &str, v: &[f64]| {
        if v.is_empty() {
            return f64::NAN;
        }
        let (m, lo, hi) = median_spread(v.to_vec());
        println!(
            "{name:<34} median {m:>8.3} s  (min {lo:.3}, max {hi:.3}, n={})",
            v.len()
        );
        m
    };
    println!("listing {vms} domains, {rounds} rounds");
    let o = show("esx-driver list (open connection)", &ours);
    let oc = show("esx-driver open + list", &ours_cold);
    let pl = show("pyVmomi list (its list_s)", &py_list);
    let pt = show("pyVmomi process (connect + list)", &py_total);
    let vt = show("virsh list --all (process)", &virsh_times);
    println!("ratio esx-driver list / pyVmomi list:      {:.3}", o / pl);
    println!("ratio esx-driver open+list / pyVmomi total: {:.3}", oc / pt);
    println!("ratio esx-driver open+list / virsh:         {:.4}", oc / vt);
}
