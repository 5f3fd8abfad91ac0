//! Uploads and downloads one file through an esx-sim process's `/folder` endpoint with
//! esx-vim's `HttpTransport` (the transfer esx-driver's volume upload/download uses), beside
//! curl doing the same `PUT` / `GET` with a session cookie from a SOAP login, in one run on the
//! same simulator; prints each side's median, spread and MiB/s, and the ratio.
//!
//! ```sh
//! cargo build --release -p esx-sim
//! cargo run --release -p esx-driver --example datastore_transfer -- 256 3
//! ```
//! Arguments: file size in MiB (default 256), rounds (default 3). Everything (the file, the
//! simulator's datastore, the downloads) lives on tmpfs (`/dev/shm`) when there is one, so the
//! figures are the HTTPS path, not a disk. The order of the two sides alternates per round.
//! The last line, `samples KEY=s,…`, holds every round's seconds for `cargo xtask bench`.

#[path = "common/sim_process.rs"]
mod sim_process;

use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use esx_vim::client::{Client, ConnectOptions, DatastoreFile, HttpOptions, TlsOptions};
use sim_process::{median_spread, samples_line, SimProcess};

/// A file of `mib` MiB of pseudo-random bytes (no zero block, nothing to compress).
fn make_file(path: &Path, mib: usize) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).expect("create file"));
    let mut state: u32 = 0x1234_5679;
    let mut chunk = vec![0u8; 1 << 20];
    for _ in 0..mib {
        for word in chunk.chunks_exact_mut(4) {
            // Numerical Recipes' linear congruential generator.
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            word.copy_from_slice(&state.to_be_bytes());
        }
        f.write_all(&chunk).expect("write file");
    }
    f.flush().expect("flush file");
}

/// curl's side: a SOAP login (the body, with the password, read from a file), then the cookie.
struct Curl {
    jar: std::path::PathBuf,
    base: String,
}

impl Curl {
    fn login(port: u16, dir: &Path) -> Option<Curl> {
        let body = dir.join("login.xml");
        std::fs::write(
            &body,
            r#"<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:urn="urn:vim25"><soapenv:Body><urn:Login><urn:_this type="SessionManager">ha-sessionmgr</urn:_this><urn:userName>root</urn:userName><urn:password>pass</urn:password></urn:Login></soapenv:Body></soapenv:Envelope>"#,
        )
        .ok()?;
        let jar = dir.join("cookies");
        let ok = Command::new("curl")
            .args(["-sk", "--max-time", "60", "-o", "/dev/null", "-c"])
            .arg(&jar)
            .args(["-H", "Content-Type: text/xml"])
            .args(["-H", "SOAPAction: urn:vim25/7.0.3.0", "--data-binary"])
            .arg(format!("@{}", body.display()))
            .arg(format!("https://127.0.0.1:{port}/sdk"))
            .status()
            .ok()?
            .success();
        let _ = std::fs::remove_file(&body);
        ok.then(|| Curl {
            jar,
            base: format!("https://127.0.0.1:{port}"),
        })
    }

    /// `curl -T` (upload) or `curl -o` (download); seconds, if the status was a success.
    fn transfer(
        &self,
        file: &DatastoreFile,
        upload: Option<&Path>,
        download: &Path,
    ) -> Option<f64> {
        let mut cmd = Command::new("curl");
        cmd.args(["-sk", "--max-time", "600", "-w", "%{http_code}", "-b"])
            .arg(&self.jar);
        match upload {
            Some(src) => cmd.args(["-o", "/dev/null", "-T"]).arg(src),
            None => cmd.arg("-o").arg(download),
        };
        let t = Instant::now();
        let out = cmd
            .arg(format!("{}{}", self.base, file.url_path()))
            .output()
            .ok()?;
        let secs = t.elapsed().as_secs_f64();
        let code = String::from_utf8_lossy(&out.stdout).to_string();
        matches!(code.as_str(), "200" | "201").then_some(secs)
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mib: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(256);
    let rounds: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(3);
    let base = if Path::new("/dev/shm").is_dir() {
        std::path::PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    let sim = SimProcess::start(&base, "esx-transfer-bench", &[]);
    let dir = sim.dir.clone();
    let src = dir.join("source.bin");
    make_file(&src, mib);
    let size = (mib as u64) << 20;
    let options = ConnectOptions {
        user: "root".into(),
        password: "pass".into(),
        http: HttpOptions {
            tls: TlsOptions {
                no_verify: true,
                ..Default::default()
            },
            request_timeout: Duration::from_secs(300),
            ..Default::default()
        },
        ..Default::default()
    };
    let client = Client::connect(&format!("https://127.0.0.1:{}/sdk", sim.port), options)
        .await
        .expect("login");
    let http = client.transport().clone();
    let curl = Curl::login(sim.port, &dir);
    if curl.is_none() {
        eprintln!("curl missing or its login failed: esx-vim alone");
    }
    let file = |who: &str, r: usize| {
        DatastoreFile::new(
            "ha-datacenter",
            "datastore1",
            format!("bench-{who}-{r}.bin"),
        )
    };
    let (mut up, mut down, mut curl_up, mut curl_down) = (vec![], vec![], vec![], vec![]);
    let got = dir.join("downloaded.bin");
    for r in 0..rounds {
        for side in [r % 2, 1 - r % 2] {
            if side == 0 {
                let f = file("esx-vim", r);
                let t = Instant::now();
                let sent = http.upload_from_path(&f, &src).await.expect("upload");
                up.push(t.elapsed().as_secs_f64());
                assert_eq!(sent, size);
                let t = Instant::now();
                let n = http.download_to_path(&f, &got).await.expect("download");
                down.push(t.elapsed().as_secs_f64());
                assert_eq!(n, size);
            } else if let Some(c) = &curl {
                let f = file("curl", r);
                curl_up.extend(c.transfer(&f, Some(&src), &got));
                curl_down.extend(c.transfer(&f, None, &got));
                assert_eq!(std::fs::metadata(&got).map(|m| m.len()).ok(), Some(size));
            }
            let _ = std::fs::remove_file(&got);
        }
        for who in ["esx-vim", "curl"] {
            let _ = std::fs::remove_file(dir.join("data/datastore1").join(file(who, r).path));
        }
    }
    let _ = client.logout().await;
    println!("file: {mib} MiB, {rounds} rounds, esx-sim release on loopback HTTPS, tmpfs");
    let show = |name: &str, v: &[f64]| {
        if v.is_empty() {
            println!("{name:<22} not measured");
            return f64::NAN;
        }
        let (m, lo, hi) = median_spread(v.to_vec());
        println!(
            "{name:<22} median {m:.3} s ({:.0} MiB/s), spread {lo:.3}-{hi:.3} s",
            mib as f64 / m
        );
        m
    };
    let u = show("esx-vim upload", &up);
    let cu = show("curl -T (PUT)", &curl_up);
    let d = show("esx-vim download", &down);
    let cd = show("curl -o (GET)", &curl_down);
    println!(
        "throughput ratio esx-vim / curl: upload {:.2}, download {:.2}",
        cu / u,
        cd / d
    );
    println!(
        "{}",
        samples_line(&[
            ("upload_esx_vim", &up),
            ("upload_curl", &curl_up),
            ("download_esx_vim", &down),
            ("download_curl", &curl_down),
        ])
    );
}
