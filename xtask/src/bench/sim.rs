//! esx-sim beside vcsim, same inventory (as `crates/esx-sim/bench/startup.sh`): launch until
//! ready, resident memory once ready and at peak, and RetrievePropertiesEx throughput of the
//! `load` example under each number of concurrent clients.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::listing::thousands;
use super::proc::{fields, free_ports, run, status_mib, Started, Vcsim};
use super::{have, peers, Env, Key, Outcome, Plan};

/// One server's figures over the rounds.
#[derive(Default)]
struct Series {
    ready: Vec<f64>,
    rss: Vec<f64>,
    peak: Vec<f64>,
    /// VMs/s per entry of `Plan::clients`.
    vms_per_s: Vec<Vec<f64>>,
}

/// Runs both simulators at every VM count of the plan.
pub fn measure(env: &Env, plan: &Plan) -> Result<Outcome, String> {
    let mut out = Outcome::default();
    let vcsim = have(&mut out, "vcsim (simulator comparison)", peers::VCSIM);
    for &n in &plan.vm_counts {
        let mut ours = Series {
            vms_per_s: vec![Vec::new(); plan.clients.len()],
            ..Series::default()
        };
        let mut theirs = Series {
            vms_per_s: vec![Vec::new(); plan.clients.len()],
            ..Series::default()
        };
        for round in 1..=plan.rounds {
            eprintln!("sim: {n} VMs, round {round} of {}", plan.rounds);
            esx_sim(env, plan, n, &mut ours)?;
            if vcsim {
                let port = free_ports(1)?;
                let sim = Vcsim::start(
                    &env.peer_script("start-vcsim.sh"),
                    peers::VCSIM,
                    "vc",
                    n,
                    port,
                )?;
                eprintln!("vcsim: ready in {:.2} s", sim.ready_s);
                theirs.ready.push(sim.ready_s);
                measure_server(env, plan, n, sim.port, sim.pid, &mut theirs)?;
            }
        }
        let label = format!("{} VMs", thousands(n));
        for (name, s, is_ours) in [("esx-sim", ours, true), ("vcsim 0.24.2", theirs, false)] {
            let key = |comparison, unit| Key {
                comparison,
                case: &label,
                unit,
                higher_is_better: false,
            };
            out.add(
                key("Simulator start-up (launch to ready)", "s"),
                name,
                is_ours,
                s.ready,
            );
            out.add(
                key("Simulator memory once ready", "MiB"),
                name,
                is_ours,
                s.rss,
            );
            out.add(
                key("Simulator peak memory (after the loads)", "MiB"),
                name,
                is_ours,
                s.peak,
            );
            for (c, v) in plan.clients.iter().zip(s.vms_per_s) {
                let case = format!("{label}, {c} clients");
                let key = Key {
                    comparison: "Simulator throughput (RetrievePropertiesEx)",
                    case: &case,
                    unit: "VMs/s",
                    higher_is_better: true,
                };
                out.add(key, name, is_ours, v);
            }
        }
    }
    Ok(out)
}

/// Starts esx-sim (vCenter flavour, the inventory vcsim gets), measures it, stops it.
fn esx_sim(env: &Env, plan: &Plan, n: usize, s: &mut Series) -> Result<(), String> {
    let base = if Path::new("/dev/shm").is_dir() {
        std::path::PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    let dir = base.join(format!("esx-bench-sim-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let result = (|| {
        std::fs::write(dir.join("pw"), "pass\n").map_err(|e| e.to_string())?;
        let port = free_ports(1)?;
        let log = dir.join("out");
        let file = std::fs::File::create(&log).map_err(|e| e.to_string())?;
        let t = Instant::now();
        let sim = Started::spawn(
            Command::new(env.bin("esx-sim"))
                .args([
                    "--flavor",
                    "vcenter",
                    "--listen",
                    &format!("127.0.0.1:{port}"),
                ])
                .arg("--data-dir")
                .arg(dir.join("data"))
                .args([
                    "--inventory",
                    &format!("dc=1,cluster=1,host=3,ds=1,net=1,vm={n}"),
                ])
                .arg("--password-file")
                .arg(dir.join("pw"))
                .stdout(file.try_clone().map_err(|e| e.to_string())?)
                .stderr(Stdio::from(file)),
        )?;
        let mut ready = None;
        while t.elapsed() < Duration::from_secs(120) {
            if std::fs::read_to_string(&log)
                .unwrap_or_default()
                .lines()
                .any(|l| l.starts_with("ready_s="))
            {
                ready = Some(t.elapsed().as_secs_f64());
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let ready = ready.ok_or_else(|| {
            format!(
                "esx-sim did not start: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            )
        })?;
        eprintln!("esx-sim: ready in {ready:.2} s");
        s.ready.push(ready);
        measure_server(env, plan, n, port, sim.pid(), s)
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// Memory once ready, the loads, the peak.
fn measure_server(
    env: &Env,
    plan: &Plan,
    n: usize,
    port: u16,
    pid: u32,
    s: &mut Series,
) -> Result<(), String> {
    s.rss.extend(status_mib(pid, "VmRSS"));
    for (i, clients) in plan.clients.iter().enumerate() {
        let o = run(
            Command::new(env.example("load"))
                .args(["--url", &format!("https://127.0.0.1:{port}/sdk")])
                .args(["--user", "root", "--password-env", "ESX_BENCH_PASSWORD"])
                .args(["--clients", &clients.to_string(), "--rounds", "100000"])
                .args([
                    "--seconds",
                    &plan.load_seconds.to_string(),
                    "--page-size",
                    "1000",
                ])
                .args(["--expect", &n.to_string(), "--server-pid", &pid.to_string()])
                .env("ESX_BENCH_PASSWORD", "pass"),
            Duration::from_secs(600),
        )?;
        eprint!("  load: {}", o.stdout);
        let f = fields(o.stdout.lines().last().unwrap_or_default());
        let v: f64 = f
            .get("vms_per_s")
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("load printed no vms_per_s: {}", o.stdout))?;
        s.vms_per_s[i].push(v);
    }
    s.peak.extend(status_mib(pid, "VmHWM"));
    Ok(())
}
