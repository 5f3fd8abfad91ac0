//! The provisioning tests' simulator: an in-process esx-sim on loopback (real HTTPS), a
//! connection to it, and images made on the fly.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use esx_driver::{Connection, FixedCredentials, OpenOptions};
use esx_provision::Provisioner;

/// A running simulator and its directory (removed on drop).
pub struct Sim {
    pub handle: Option<esx_sim::Handle>,
    pub dir: PathBuf,
    pub flavor: esx_sim::Flavor,
}

impl Sim {
    /// Starts a simulator of `flavor` named after the test.
    pub async fn start(test: &str, flavor: esx_sim::Flavor) -> Sim {
        Sim::start_with(test, flavor, |_| {}).await
    }

    /// [`Sim::start`] with a configuration change.
    pub async fn start_with(
        test: &str,
        flavor: esx_sim::Flavor,
        tweak: impl FnOnce(&mut esx_sim::Config),
    ) -> Sim {
        let dir = std::env::temp_dir().join(format!(
            "esx-provision-{test}-{}-{}",
            std::process::id(),
            seq()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("test dir");
        let mut cfg = esx_sim::Config::new(dir.join("data"));
        cfg.flavor = flavor;
        tweak(&mut cfg);
        let handle = esx_sim::Simulator::start(cfg)
            .await
            .expect("simulator starts");
        Sim {
            handle: Some(handle),
            dir,
            flavor,
        }
    }

    /// The connection URI (a host of the first cluster for vCenter).
    pub fn uri(&self) -> String {
        let port = self.handle.as_ref().expect("running").addr.port();
        match self.flavor {
            esx_sim::Flavor::Esx => format!("esx://root@127.0.0.1:{port}/?no_verify=1"),
            esx_sim::Flavor::Vcenter => {
                format!("vpx://root@127.0.0.1:{port}/DC0/Cluster0/esx-0-0-0.sim.local?no_verify=1")
            }
        }
    }

    /// A provisioner on a fresh connection as root.
    pub async fn provisioner(&self) -> Provisioner {
        let options = OpenOptions {
            auth: Some(Arc::new(FixedCredentials::new("root", "pass"))),
            ..OpenOptions::default()
        };
        let conn = Connection::open(&self.uri(), options)
            .await
            .unwrap_or_else(|e| panic!("open {}: {e}", self.uri()));
        Provisioner::new(conn)
    }

    /// The directory of datastore `name`.
    pub fn datastore(&self, name: &str) -> PathBuf {
        self.dir.join("data").join(name)
    }

    /// A scratch file path in the test directory.
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// `len` bytes of a deterministic pattern with zero holes (so sparse handling matters).
pub fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out = vec![0u8; len];
    for (i, chunk) in out.chunks_mut(4096).enumerate() {
        if i % 5 == 3 {
            continue; // a hole
        }
        for b in chunk.iter_mut() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *b = x as u8;
        }
    }
    out
}

/// Every file under `dir`, relative.
pub fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(r) = p.strip_prefix(dir) {
                out.push(r.display().to_string());
            }
        }
    }
    out.sort();
    out
}

/// A number no other directory of this process has had: one test binary holds every area's
/// tests, whose directory names could otherwise meet.
pub fn seq() -> usize {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}
