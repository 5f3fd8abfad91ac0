//! SOAP decode and encode: esx-vim (`codec-figures`) beside govmomi (`govmomi_decode.go`) and
//! pyVmomi (`pyvmomi_decode.py`) on the same document, with quick-xml's tokenizing as ceiling.

use std::process::Command;
use std::time::Duration;

use super::proc::{number_after, run};
use super::{have, peers, Env, Key, Outcome, Plan};

/// Runs the codec comparison: every round writes the document anew (the fixture is
/// deterministic, so every decoder reads the same bytes) and runs each decoder on it.
pub fn measure(env: &Env, plan: &Plan) -> Result<Outcome, String> {
    let mut out = Outcome::default();
    let dir = env.out.join("codec");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let doc = dir.join("rpe.xml");
    let go = go_decoder(env, &dir, &mut out);
    let py = have(&mut out, "pyVmomi decode", peers::PY);
    let limit = Duration::from_secs(600);
    let (mut tok, mut dec, mut enc, mut enc_kept, mut peak) =
        (vec![], vec![], vec![], vec![], vec![]);
    let (mut go_dec, mut go_enc, mut py_dec) = (vec![], vec![], vec![]);
    let mut mb = 0.0;
    for round in 1..=plan.rounds {
        eprintln!("codec: round {round} of {}", plan.rounds);
        let o = run(
            Command::new(env.example("codec-figures")).args([
                "--vms",
                &plan.codec_vms.to_string(),
                "--runs",
                // Each run takes a tenth of a second; three leave the tokenizer's figure cold.
                if plan.quick { "3" } else { "9" },
                "--write",
                doc.to_str().unwrap_or_default(),
            ]),
            limit,
        )?;
        eprint!("{}", o.stdout);
        mb = number_after(&o.stdout, "VMs,").unwrap_or(mb);
        let get = |p: &str| {
            number_after(&o.stdout, p)
                .ok_or_else(|| format!("codec-figures printed no '{p}':\n{}", o.stdout))
        };
        tok.push(get("quick-xml tokenize:")?);
        dec.push(get("esx-vim decode:")?);
        enc.push(get("esx-vim encode:")?);
        enc_kept.push(get("esx-vim encode, reused buffer:")?);
        if let Some(p) = number_after(&o.stdout, "decode peak memory:") {
            peak.push(p);
        }
        if let Some(bin) = &go {
            let o = run(Command::new(bin).arg(&doc), limit)?;
            eprint!("{}", o.stdout);
            go_dec.extend(number_after(&o.stdout, "govmomi decode:"));
            go_enc.extend(number_after(&o.stdout, "govmomi encode:"));
        }
        if py {
            let o = run(
                Command::new(peers::PY)
                    .arg(
                        env.root
                            .join("crates/esx-vim/benches/peers/pyvmomi_decode.py"),
                    )
                    .arg(&doc),
                limit,
            )?;
            eprint!("{}", o.stdout);
            py_dec.extend(number_after(&o.stdout, "pyvmomi decode:"));
        }
    }
    let _ = std::fs::remove_file(&doc);
    let case = format!(
        "RetrievePropertiesEx reply, {} VMs, {mb:.1} MB",
        plan.codec_vms
    );
    let key = |comparison| Key {
        comparison,
        case: &case,
        unit: "MB/s",
        higher_is_better: true,
    };
    out.add(key("SOAP decode"), "esx-vim", true, dec);
    out.add(key("SOAP decode"), "govmomi 0.24.2", false, go_dec);
    out.add(key("SOAP decode"), "pyVmomi", false, py_dec);
    out.add(
        key("SOAP decode"),
        "quick-xml tokenizing (ceiling)",
        false,
        tok,
    );
    out.add(key("SOAP encode"), "esx-vim", true, enc);
    out.add(
        key("SOAP encode"),
        "esx-vim, reused output buffer",
        true,
        enc_kept,
    );
    out.add(key("SOAP encode"), "govmomi 0.24.2", false, go_enc);
    let peak_key = Key {
        comparison: "SOAP decode memory",
        case: &case,
        unit: "MB above the document",
        higher_is_better: false,
    };
    out.add(peak_key, "esx-vim", true, peak);
    Ok(out)
}

/// Builds `govmomi_decode.go` against govmomi 0.24.2 as `benches/peers/run.sh` does.
fn go_decoder(env: &Env, dir: &std::path::Path, out: &mut Outcome) -> Option<std::path::PathBuf> {
    if !have(out, "govmomi decode", peers::GOVMOMI_GOPATH) {
        return None;
    }
    let bin = dir.join("govmomi_decode");
    let src = env
        .root
        .join("crates/esx-vim/benches/peers/govmomi_decode.go");
    let built = run(
        Command::new("go")
            .args(["build", "-o"])
            .arg(&bin)
            .arg(&src)
            .current_dir(std::env::temp_dir())
            .env("GO111MODULE", "off")
            .env("GOFLAGS", "")
            .env("GOPROXY", "off")
            .env("GOCACHE", peers::GOCACHE)
            .env(
                "GOPATH",
                format!("{}:/usr/share/gocode", peers::GOVMOMI_GOPATH),
            ),
        Duration::from_secs(600),
    );
    match built {
        Ok(_) => Some(bin),
        Err(e) => {
            out.skip("govmomi decode", &format!("go build failed: {e}"));
            None
        }
    }
}
