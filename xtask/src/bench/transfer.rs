//! The two comparisons with their own examples in esx-driver: datastore upload/download beside
//! curl (`datastore_transfer`), and four simulators driven concurrently or one after another
//! (`scale_out`). Both print `samples key=s,s,…` lines (seconds per round).

use std::collections::HashMap;
use std::process::Command;
use std::time::Duration;

use super::proc::{fields, run};
use super::{Env, Key, Outcome, Plan};

/// The `samples` line of an example: key -> seconds per round.
fn samples(stdout: &str) -> HashMap<String, Vec<f64>> {
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix("samples "))
        .flat_map(|l| fields(l).into_iter())
        .map(|(k, v)| (k, v.split(',').filter_map(|x| x.parse().ok()).collect()))
        .collect()
}

/// Runs example `name` with `args` (simulator: the release esx-sim); its samples.
fn example(env: &Env, name: &str, args: &[String]) -> Result<HashMap<String, Vec<f64>>, String> {
    let o = run(
        Command::new(env.example(name))
            .args(args)
            .env("ESX_SIM", env.bin("esx-sim")),
        Duration::from_secs(1800),
    )?;
    eprint!("{}", o.stdout);
    Ok(samples(&o.stdout))
}

/// Upload and download of one file through esx-sim's `/folder`, esx-vim beside curl.
pub fn run_transfer(env: &Env, plan: &Plan) -> Result<Outcome, String> {
    let mut out = Outcome::default();
    let s = example(
        env,
        "datastore_transfer",
        &[
            plan.transfer_mib.to_string(),
            plan.rounds.max(2).to_string(),
        ],
    )?;
    let mib = plan.transfer_mib as f64;
    let rate = |k: &str| -> Vec<f64> { s.get(k).into_iter().flatten().map(|t| mib / t).collect() };
    if !s.contains_key("upload_curl") {
        out.skip(
            "curl transfer",
            "curl missing or refused (see the example's output)",
        );
    }
    for (case, ours, peer) in [
        ("upload (PUT)", "upload_esx_vim", "upload_curl"),
        ("download (GET)", "download_esx_vim", "download_curl"),
    ] {
        let case = format!("{case}, {} MiB", plan.transfer_mib);
        let key = Key {
            comparison: "Datastore transfer through /folder",
            case: &case,
            unit: "MiB/s",
            higher_is_better: true,
        };
        out.add(key, "esx-vim HttpTransport", true, rate(ours));
        out.add(key, "curl", false, rate(peer));
    }
    Ok(out)
}

/// Four esx-sim processes, one connection each: concurrently vs one after another.
pub fn run_scale_out(env: &Env, plan: &Plan) -> Result<Outcome, String> {
    let mut out = Outcome::default();
    let (vms, power) = plan.scale_vms;
    let s = example(
        env,
        "scale_out",
        &[
            vms.to_string(),
            power.to_string(),
            plan.rounds.max(2).to_string(),
        ],
    )?;
    let get = |k: &str| s.get(k).cloned().unwrap_or_default();
    let list_case = format!("list all domains, 4 × {vms} VMs");
    let power_case = format!("power on + off {power} VMs on each of 4");
    for (case, key) in [(&list_case, "list"), (&power_case, "power")] {
        let k = Key {
            comparison: "Scale-out: 4 simulators, one connection each",
            case,
            unit: "s",
            higher_is_better: false,
        };
        out.add(
            k,
            "esx-driver, all four concurrently",
            true,
            get(&format!("{key}_concurrent")),
        );
        out.add(
            k,
            "esx-driver, one after another",
            false,
            get(&format!("{key}_sequential")),
        );
    }
    Ok(out)
}
