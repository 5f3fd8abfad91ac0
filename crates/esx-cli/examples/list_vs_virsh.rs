//! `esxsh list --all` beside libvirt 11.3's `virsh list --all` on one esx-sim with N VMs, in
//! one run: wall time of each (median of `--runs`), the ratio, and whether both printed the
//! same bytes. The figures in docs/PERFORMANCE.md come from here.
//!
//! ```sh
//! cargo build --release -p esx-cli --bin esxsh --example list_vs_virsh
//! target/release/examples/list_vs_virsh --vms 1000,10000 --runs 5
//! ```
//!
//! `--esxsh PATH` picks the binary (default: the `esxsh` built beside this example);
//! `--virsh-runs K` times virsh K times instead of `--runs` (0: not at all). Every run's
//! seconds also go to standard error as `times: vms=N esxsh=S,S,… virsh=S,…`.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

const VIRSH: &str = "/opt/libvirt-11.3/bin/virsh";

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn timed(cmd: &mut Command) -> (Duration, Vec<u8>) {
    let t = Instant::now();
    let out = cmd.output().expect("command runs");
    let took = t.elapsed();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (took, out.stdout)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let get = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1).cloned())
    };
    let sizes: Vec<usize> = get("--vms")
        .unwrap_or_else(|| "1000,10000".into())
        .split(',')
        .map(|s| s.parse().expect("--vms N,M"))
        .collect();
    let runs: usize = get("--runs").map_or(3, |r| r.parse().expect("--runs N"));
    let esxsh = get("--esxsh").map(PathBuf::from).unwrap_or_else(|| {
        let exe = std::env::current_exe().expect("exe");
        exe.parent()
            .and_then(|p| p.parent())
            .expect("target dir")
            .join("esxsh")
    });
    let virsh_runs: usize =
        get("--virsh-runs").map_or(runs, |r| r.parse().expect("--virsh-runs N"));
    let have_virsh = std::path::Path::new(VIRSH).exists() && virsh_runs > 0;
    if !have_virsh {
        eprintln!("virsh left out ({VIRSH} missing or --virsh-runs 0): esxsh alone");
    }
    let auth = std::env::temp_dir().join(format!("list-vs-virsh-{}.conf", std::process::id()));
    std::fs::write(
        &auth,
        "[credentials-s]\nusername=root\npassword=pass\n[auth-esx-127.0.0.1]\ncredentials=s\n",
    )
    .expect("auth file");
    println!("| VMs | esxsh list --all | virsh list --all | virsh / esxsh | same output |");
    println!("|---:|---:|---:|---:|---|");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    for n in sizes {
        let dir = std::env::temp_dir().join(format!("list-vs-virsh-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut cfg = esx_sim::Config::new(dir.join("data"));
        cfg.inventory = format!("vm={n}").parse().expect("inventory");
        let handle = rt
            .block_on(esx_sim::Simulator::start(cfg))
            .expect("simulator");
        let uri = format!("esx://root@127.0.0.1:{}/?no_verify=1", handle.addr.port());
        let esx = || {
            let mut c = Command::new(&esxsh);
            c.args(["-c", &uri, "list", "--all"])
                .env("LIBVIRT_AUTH_FILE", &auth)
                .env_remove("ESX_PASSWORD");
            c
        };
        let vir = || {
            let mut c = Command::new(VIRSH);
            c.args(["-c", &uri, "list", "--all"])
                .env("LD_LIBRARY_PATH", "/opt/libvirt-11.3/lib/x86_64-linux-gnu")
                .env("LIBVIRT_AUTH_FILE", &auth)
                .env("LIBVIRT_DEBUG", "4");
            c
        };
        // One untimed esxsh run first (the simulator builds lazily what a first reader asks);
        // virsh is slow enough at 10,000 VMs that its first timed run gives its output.
        let (_, e_out) = timed(&mut esx());
        let mut v_out = None;
        let mut te = Vec::new();
        let mut tv = Vec::new();
        for run in 0..runs {
            te.push(timed(&mut esx()).0);
            if have_virsh && run < virsh_runs {
                let (t, out) = timed(&mut vir());
                tv.push(t);
                v_out.get_or_insert(out);
            }
        }
        let secs = |v: &[Duration]| {
            v.iter()
                .map(|d| format!("{:.4}", d.as_secs_f64()))
                .collect::<Vec<_>>()
                .join(",")
        };
        eprintln!("times: vms={n} esxsh={} virsh={}", secs(&te), secs(&tv));
        let me = median(te);
        match v_out {
            Some(v_out) => {
                let mv = median(tv);
                println!(
                    "| {n} | {:.3} s | {:.3} s | {:.1}× | {} |",
                    me.as_secs_f64(),
                    mv.as_secs_f64(),
                    mv.as_secs_f64() / me.as_secs_f64(),
                    if v_out == e_out { "yes" } else { "NO" }
                );
            }
            None => println!("| {n} | {:.3} s | – | – | – |", me.as_secs_f64()),
        }
        rt.block_on(handle.shutdown());
        let _ = std::fs::remove_dir_all(&dir);
    }
    let _ = std::fs::remove_file(&auth);
}
