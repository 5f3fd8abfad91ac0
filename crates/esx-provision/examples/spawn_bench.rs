//! Spawns VMs from a big raw image on an esx-sim process and prints: the image upload's
//! throughput beside `curl -T` of the same file into the same simulator's `/folder` (as a
//! ratio), this process's peak memory after images of two sizes (it must not grow with the
//! image), and the time of a second spawn of the same image (served by the datastore cache).
//!
//! ```sh
//! cargo build --release -p esx-sim
//! cargo run --release -p esx-provision --example spawn_bench -- 1024 3
//! ```
//! Arguments: image size in MiB (default 1024), rounds (default 3). `ESX_SIM` overrides the
//! simulator binary (default `target/release/esx-sim`).

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use esx_driver::{Connection, FixedCredentials, OpenOptions};
use esx_provision::{CacheUse, ImageSource, Progress, Provisioner, SpawnSpec};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn median(mut v: Vec<f64>) -> (f64, f64, f64) {
    v.sort_by(|a, b| a.total_cmp(b));
    (v[v.len() / 2], v[0], v[v.len() - 1])
}

/// Peak resident memory of this process (VmHWM) in MiB.
fn peak_mib() -> f64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

/// Resets VmHWM to the current RSS (Linux: write 5 to clear_refs).
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Times the upload phase of a spawn.
#[derive(Default)]
struct Clock(Mutex<(Option<Instant>, f64)>);

impl Progress for Clock {
    fn begin(&self, _what: &str, _total: Option<u64>) {
        self.0.lock().unwrap().0 = Some(Instant::now());
    }
    fn end(&self) {
        let mut g = self.0.lock().unwrap();
        if let Some(t) = g.0.take() {
            g.1 = t.elapsed().as_secs_f64();
        }
    }
}

/// An image of `mib` MiB with no zero block (so neither side can skip any).
fn make_image(path: &Path, mib: usize) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut block = vec![0u8; 1 << 20];
    for _ in 0..mib {
        for b in block.chunks_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            b.copy_from_slice(&x.to_le_bytes()[..b.len()]);
        }
        f.write_all(&block).unwrap();
    }
    f.flush().unwrap();
}

/// `curl -T` of `file` into the simulator's `/folder`, after a SOAP login with curl too.
fn curl_upload(port: u16, dir: &Path, file: &Path, name: &str) -> Option<f64> {
    let jar = dir.join("cookies");
    let login = r#"<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:urn="urn:vim25"><soapenv:Body><urn:Login><urn:_this type="SessionManager">ha-sessionmgr</urn:_this><urn:userName>root</urn:userName><urn:password>pass</urn:password></urn:Login></soapenv:Body></soapenv:Envelope>"#;
    let ok = Command::new("curl")
        .args(["-sk", "-o", "/dev/null", "-c"])
        .arg(&jar)
        .args([
            "-H",
            "Content-Type: text/xml",
            "-H",
            "SOAPAction: urn:vim25/7.0.3.0",
            "-d",
            login,
        ])
        .arg(format!("https://127.0.0.1:{port}/sdk"))
        .status()
        .ok()?
        .success();
    if !ok {
        return None;
    }
    let t = Instant::now();
    let out = Command::new("curl")
        .args(["-sk", "-o", "/dev/null", "-w", "%{http_code}", "-b"])
        .arg(&jar)
        .arg("-T")
        .arg(file)
        .arg(format!(
            "https://127.0.0.1:{port}/folder/{name}?dcPath=ha-datacenter&dsName=datastore1"
        ))
        .output()
        .ok()?;
    let secs = t.elapsed().as_secs_f64();
    let code = String::from_utf8_lossy(&out.stdout).to_string();
    (code == "201" || code == "200").then_some(secs)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mib: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(1024);
    let rounds: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(3);
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root().join("target"));
    let sim_bin = std::env::var_os("ESX_SIM")
        .map(PathBuf::from)
        .unwrap_or_else(|| target.join("release/esx-sim"));
    assert!(
        sim_bin.is_file(),
        "build the simulator first: cargo build --release -p esx-sim"
    );
    let dir = std::env::temp_dir().join(format!("esx-spawn-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut sim = Command::new(&sim_bin)
        .args([
            "--data-dir",
            dir.join("data").to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .expect("esx-sim starts");
    let mut port = 0u16;
    let out = sim.stdout.take().unwrap();
    for line in std::io::BufReader::new(out).lines().take(20) {
        let line = line.unwrap();
        if let Some(url) = line.strip_prefix("url=https://127.0.0.1:") {
            port = url.split('/').next().unwrap().parse().unwrap();
        }
        if line.starts_with("ready_s=") {
            break;
        }
    }
    assert!(port > 0, "esx-sim printed no URL");
    let options = OpenOptions {
        auth: Some(Arc::new(FixedCredentials::new("root", "pass"))),
        ..OpenOptions::default()
    };
    let conn = Connection::open(
        &format!("esx://root@127.0.0.1:{port}/?no_verify=1"),
        options,
    )
    .await
    .unwrap();
    let p = Provisioner::new(conn);

    // Peak memory after a small image, then after the big one.
    let small = dir.join("small.raw");
    make_image(&small, 64);
    let big = dir.join("big.raw");
    make_image(&big, mib);
    reset_peak();
    let base = peak_mib();
    let spec = SpawnSpec::new("mem-small", ImageSource::File(small.clone()));
    p.spawn(&spec, Arc::new(Clock::default())).await.unwrap();
    let peak_small = peak_mib();

    let mut ours = Vec::new();
    let mut curl = Vec::new();
    let mut second = Vec::new();
    let mut peak_big = 0f64;
    for r in 0..rounds {
        if let Some(s) = curl_upload(port, &dir, &big, &format!("curl-{r}.raw")) {
            curl.push(s);
        }
        // A distinct cache key per round, so each round uploads.
        let mut spec = SpawnSpec::new(format!("big-{r}"), ImageSource::File(big.clone()));
        spec.image_id = Some(format!("bench-{r}"));
        spec.power_on = false;
        let clock = Arc::new(Clock::default());
        let vm = p.spawn(&spec, clock.clone()).await.unwrap();
        assert_eq!(vm.cache, CacheUse::Uploaded);
        ours.push(clock.0.lock().unwrap().1);
        peak_big = peak_big.max(peak_mib());
        let mut again = SpawnSpec::new(format!("again-{r}"), ImageSource::File(big.clone()));
        again.image_id = Some(format!("bench-{r}"));
        again.power_on = false;
        let t = Instant::now();
        let vm2 = p.spawn(&again, Arc::new(Clock::default())).await.unwrap();
        second.push(t.elapsed().as_secs_f64());
        assert_eq!(vm2.cache, CacheUse::Hit);
        for d in [vm.domain, vm2.domain] {
            p.destroy(&d).await.unwrap();
        }
        let _ = std::fs::remove_file(dir.join(format!("data/datastore1/curl-{r}.raw")));
        let _ =
            std::fs::remove_dir_all(dir.join(format!("data/datastore1/esx-image-cache/bench-{r}")));
    }
    let size = (mib as f64) * 1024.0 * 1024.0;
    let (o, omin, omax) = median(ours);
    println!("image: {mib} MiB raw, {rounds} rounds, esx-sim release on loopback HTTPS");
    println!(
        "spawn upload: median {:.3} s ({:.0} MiB/s), spread {:.3}-{:.3} s",
        o,
        size / o / 1048576.0,
        omin,
        omax
    );
    if curl.is_empty() {
        println!("curl -T: not measured (curl missing or refused)");
    } else {
        let (c, cmin, cmax) = median(curl);
        println!(
            "curl -T /folder: median {:.3} s ({:.0} MiB/s), spread {:.3}-{:.3} s",
            c,
            size / c / 1048576.0,
            cmin,
            cmax
        );
        println!("throughput ratio (spawn upload / curl): {:.2}", c / o);
    }
    let (s2, s2min, s2max) = median(second);
    println!(
        "second spawn (cache hit, whole spawn): median {s2:.3} s, spread {s2min:.3}-{s2max:.3} s"
    );
    println!(
        "peak RSS of this process: {base:.1} MiB before, {peak_small:.1} MiB after a 64 MiB image, {peak_big:.1} MiB after {mib} MiB images"
    );
    let _ = sim.kill();
    let _ = sim.wait();
    let _ = std::fs::remove_dir_all(&dir);
}
