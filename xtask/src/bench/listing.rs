//! Listing every VM at each VM count: esx-vim's `list-vms` beside pyVmomi and govc on vcsim
//! (`list_vms_peers.py`), esx-driver beside pyVmomi on esx-sim (`list_beside_peers`), esxsh
//! beside libvirt 11.3's virsh on esx-sim (`list_vs_virsh`).

use std::process::Command;
use std::time::Duration;

use super::proc::{free_ports, run};
use super::{have, peers, Env, Figure, Key, Outcome, Plan};

/// Runs the listing comparisons for every VM count of the plan.
pub fn measure(env: &Env, plan: &Plan) -> Result<Outcome, String> {
    let mut out = Outcome::default();
    let vcsim = have(
        &mut out,
        "listing on vcsim (list_vms_peers.py)",
        peers::VCSIM,
    );
    let virsh = have(&mut out, "virsh list --all", peers::VIRSH);
    let largest = plan.vm_counts.iter().copied().max().unwrap_or(0);
    let mut errors = Vec::new();
    for &n in &plan.vm_counts {
        let label = format!("{} VMs", thousands(n));
        if vcsim {
            if let Err(e) = on_vcsim(env, plan, n, &label, &mut out) {
                errors.push(e);
            }
        }
        if let Err(e) = driver(env, plan, n, &label, &mut out) {
            errors.push(e);
        }
        let virsh_runs = match (virsh, n == largest && n >= 5000) {
            (false, _) => 0,
            (true, false) => plan.rounds,
            (true, true) if plan.virsh_at_largest => 1,
            (true, true) => {
                out.skip(
                    &format!("virsh list --all at {label}"),
                    "left out of this run (slow)",
                );
                0
            }
        };
        if let Err(e) = esxsh(env, plan, n, &label, virsh_runs, &mut out) {
            errors.push(e);
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        // Keep what did run; the errors still fail the command.
        for f in out.figures {
            eprintln!(
                "listing: measured before the failure: {} {} {}",
                f.case, f.subject, f.median
            );
        }
        Err(errors.join("; "))
    }
}

/// `list_vms_peers.py --json`: whole-process times against one vcsim in vCenter mode.
fn on_vcsim(
    env: &Env,
    plan: &Plan,
    n: usize,
    label: &str,
    out: &mut Outcome,
) -> Result<(), String> {
    let port = free_ports(2)?;
    let o = run(
        Command::new("python3")
            .arg(env.root.join("crates/esx-vim/benches/list_vms_peers.py"))
            .args(["--vms", &n.to_string(), "--runs", &plan.rounds.to_string()])
            .args(["--port", &port.to_string(), "--no-build", "--json"])
            .env("ESX_SHARED", &env.shared),
        Duration::from_secs(1800),
    )?;
    eprint!(
        "{}",
        o.stdout
            .lines()
            .filter(|l| !l.starts_with("BENCH-JSON"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    eprintln!();
    let case = format!("{label}, vcsim (process wall time)");
    let key = key(&case);
    for line in o.stdout.lines() {
        let Some(json) = line.strip_prefix("BENCH-JSON ") else {
            continue;
        };
        let v: serde_json::Value =
            serde_json::from_str(json).map_err(|e| format!("list_vms_peers.py: {e}"))?;
        let client = v["client"].as_str().unwrap_or("?");
        let times: Vec<f64> = v["times_s"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| t.as_f64())
            .collect();
        let (subject, ours) = if client.contains("ours") {
            ("esx-vim list-vms", true)
        } else if client.starts_with("pyvmomi") {
            ("pyVmomi", false)
        } else if client.starts_with("govc") {
            ("govc find", false)
        } else {
            (client, false)
        };
        out.add(key, subject, ours, times);
    }
    Ok(())
}

/// `list_beside_peers N ROUNDS --no-virsh`: the driver in-process beside pyVmomi on esx-sim.
fn driver(env: &Env, plan: &Plan, n: usize, label: &str, out: &mut Outcome) -> Result<(), String> {
    let o = run(
        Command::new(env.example("list_beside_peers"))
            .args([
                &n.to_string(),
                &plan.rounds.max(2).to_string(),
                "--no-virsh",
            ])
            .env("ESX_SIM", env.bin("esx-sim")),
        Duration::from_secs(900),
    )?;
    eprint!("{}", o.stdout);
    // "NAME   median 0.084 s  (min 0.077, max 0.142, n=3)"
    let parse = |name: &str| -> Option<(f64, f64, f64, usize)> {
        let line = o.stdout.lines().find(|l| l.starts_with(name))?;
        let rest = &line[name.len()..];
        let num = |k: &str| super::proc::number_after(rest, k);
        Some((
            num("median")?,
            num("min")?,
            num("max")?,
            num("n=")? as usize,
        ))
    };
    let open = format!("{label}, esx-sim (connect + list)");
    let list = format!("{label}, esx-sim (list on an open connection)");
    for (case, name, subject, ours) in [
        (
            &open,
            "esx-driver open + list",
            "esx-driver open + list (no process start)",
            true,
        ),
        (
            &open,
            "pyVmomi process (connect + list)",
            "pyVmomi (process)",
            false,
        ),
        (
            &list,
            "esx-driver list (open connection)",
            "esx-driver",
            true,
        ),
        (&list, "pyVmomi list (its list_s)", "pyVmomi", false),
    ] {
        match parse(name) {
            Some(s) => out
                .figures
                .push(Figure::summary(key(case), subject, ours, s)),
            None => out.skip(
                &format!("{subject} at {label}"),
                "list_beside_peers printed no figure",
            ),
        }
    }
    Ok(())
}

/// `list_vs_virsh --vms N`: esxsh and virsh as processes against one esx-sim.
fn esxsh(
    env: &Env,
    plan: &Plan,
    n: usize,
    label: &str,
    virsh_runs: usize,
    out: &mut Outcome,
) -> Result<(), String> {
    let o = run(
        Command::new(env.example("list_vs_virsh"))
            .args(["--vms", &n.to_string(), "--runs", &plan.rounds.to_string()])
            .args(["--virsh-runs", &virsh_runs.to_string()])
            .arg("--esxsh")
            .arg(env.bin("esxsh")),
        Duration::from_secs(1800),
    )?;
    eprint!("{}", o.stdout);
    let line = o
        .stderr
        .lines()
        .find(|l| l.starts_with("times:"))
        .ok_or_else(|| format!("list_vs_virsh printed no times:\n{}", o.stderr))?;
    let f = super::proc::fields(line);
    let list = |k: &str| -> Vec<f64> {
        f.get(k)
            .map(|v| v.split(',').filter_map(|x| x.parse().ok()).collect())
            .unwrap_or_default()
    };
    let case = format!("{label}, esx-sim (connect + list)");
    let key = key(&case);
    out.add(key, "esxsh list --all (process)", true, list("esxsh"));
    out.add(key, "virsh 11.3 list --all (process)", false, list("virsh"));
    if o.stdout.contains("| NO |") {
        return Err(format!(
            "esxsh and virsh printed different lists at {label}"
        ));
    }
    Ok(())
}

/// The key of a listing figure: seconds, lower is better.
fn key(case: &str) -> Key<'_> {
    Key {
        comparison: "List all VMs",
        case,
        unit: "s",
        higher_is_better: false,
    }
}

/// `12345` -> `12,345`.
pub fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
