//! VMX ⇄ domain XML over libvirt's VMX corpus: esx-vmx (criterion, `benches/convert.rs`)
//! beside libvirt 11.3's converter over one connection to vcsim-xsi (`libvirt_vmx_bench.py`),
//! as `crates/esx-vmx/benches/beside-libvirt.sh` runs them.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use super::proc::{free_ports, run, Vcsim};
use super::{have, peers, Env, Key, Outcome, Plan};

/// Runs both converters on the corpus; MB/s per direction, from every pass.
pub fn measure(env: &Env, plan: &Plan) -> Result<Outcome, String> {
    let mut out = Outcome::default();
    let corpus = env.shared.join("corpus/libvirt-vmx");
    if !corpus.join("vmx2xml-cases.tsv").is_file() {
        out.skip(
            "VMX conversion",
            &format!("corpus {} not found", corpus.display()),
        );
        return Ok(out);
    }
    let mut ours = Vec::new();
    for direction in ["vmx2xml", "xml2vmx"] {
        ours.push((direction, Vec::new(), 0u64));
    }
    // esx-vmx: criterion, "files" only (the "bytes" benchmark times the same loop again).
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let secs = format!("{}", plan.vmx_seconds);
    let o = run(
        Command::new(cargo)
            .args([
                "bench", "-q", "-p", "esx-vmx", "--bench", "convert", "--", "files",
            ])
            .args(["--warm-up-time", "1", "--measurement-time", &secs])
            .env("LIBVIRT_VMX_CORPUS", &corpus)
            .current_dir(&env.root),
        Duration::from_secs(1800),
    )?;
    let criterion = env
        .release
        .parent()
        .unwrap_or(Path::new("."))
        .join("criterion");
    for (direction, samples, bytes) in &mut ours {
        // "vmx2xml: 59 of 61 corpus files convert, 48434 bytes per pass"
        let line = o
            .stderr
            .lines()
            .find(|l| l.starts_with(&format!("{direction}:")))
            .ok_or_else(|| {
                format!(
                    "convert bench printed no '{direction}:' line:\n{}",
                    o.stderr
                )
            })?;
        *bytes = super::proc::number_after(line, "convert,").unwrap_or(0.0) as u64;
        let path = criterion.join(&direction).join("files/new/sample.json");
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let v: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        let iters = v["iters"].as_array().cloned().unwrap_or_default();
        let times = v["times"].as_array().cloned().unwrap_or_default();
        for (i, t) in iters.iter().zip(&times) {
            if let (Some(i), Some(t)) = (i.as_f64(), t.as_f64()) {
                // nanoseconds for `i` passes -> MB/s
                samples.push(*bytes as f64 / (t / i / 1e9) / 1e6);
            }
        }
        eprintln!(
            "esx-vmx {direction}: {bytes} bytes per pass, {} criterion samples",
            samples.len()
        );
    }
    let case = |d: &str| {
        if d == "vmx2xml" {
            "VMX → domain XML"
        } else {
            "domain XML → VMX"
        }
    };
    let key = |d| Key {
        comparison: "VMX conversion",
        case: case(d),
        unit: "MB/s",
        higher_is_better: true,
    };
    for (direction, samples, _) in ours {
        out.add(key(direction), "esx-vmx", true, samples);
    }
    if !have(&mut out, "libvirt VMX conversion", peers::VCSIM_XSI) {
        return Ok(out);
    }
    let import = Command::new("/usr/bin/python3")
        .args(["-c", "import libvirt"])
        .status();
    if !matches!(import, Ok(s) if s.success()) {
        out.skip("libvirt VMX conversion", "python3-libvirt not installed");
        return Ok(out);
    }
    let label = if Path::new(peers::LIBVIRT_LIB).is_dir() {
        "libvirt 11.3"
    } else {
        out.skip(
            "libvirt 11.3 VMX conversion",
            "not built; Debian's libvirt measured instead",
        );
        "libvirt (Debian)"
    };
    let port = free_ports(1)?;
    let sim = Vcsim::start(
        &env.peer_script("start-vcsim.sh"),
        peers::VCSIM_XSI,
        "esx",
        1,
        port,
    )?;
    let mut cmd = Command::new("/usr/bin/python3");
    cmd.arg(env.root.join("crates/esx-vmx/benches/libvirt_vmx_bench.py"))
        .arg(format!("esx://root@127.0.0.1:{}/?no_verify=1", sim.port))
        .arg(&corpus)
        .arg(plan.vmx_passes.to_string());
    if label == "libvirt 11.3" {
        cmd.env("LD_LIBRARY_PATH", peers::LIBVIRT_LIB);
    }
    let o = run(&mut cmd, Duration::from_secs(1800))?;
    drop(sim);
    for v in serde_json::Deserializer::from_str(&o.stdout).into_iter::<serde_json::Value>() {
        let v = v.map_err(|e| format!("libvirt_vmx_bench.py: {e}"))?;
        let direction = v["direction"].as_str().unwrap_or("?").to_string();
        let bytes = v["bytes"].as_f64().unwrap_or(0.0);
        eprintln!(
            "{label} {direction}: {} files, {bytes} bytes per pass, median {} s, rejected {}",
            v["files"], v["median_s_per_pass"], v["rejected"]
        );
        let samples = v["times_s"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| t.as_f64())
            .map(|t| bytes / t / 1e6)
            .collect();
        if direction == "vmx2xml" || direction == "xml2vmx" {
            out.add(
                key(if direction == "vmx2xml" {
                    "vmx2xml"
                } else {
                    "xml2vmx"
                }),
                &format!("{label} (one connection)"),
                false,
                samples,
            );
        }
    }
    Ok(out)
}
