//! Helpers for the driver's tests: an esx-sim on loopback (in-process, over real HTTPS) and
//! connections to it.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;

use esx_driver::{Connection, FixedCredentials, OpenOptions};

/// A running simulator with its data directory (removed on drop).
pub struct Sim {
    pub handle: Option<esx_sim::Handle>,
    pub dir: PathBuf,
    pub port: u16,
    pub flavor: esx_sim::Flavor,
    config: esx_sim::Config,
}

impl Sim {
    /// Starts a simulator of `flavor` with `inventory` (None: the default) named after the
    /// test; `tweak` may change the configuration (task delay, injection, …).
    pub async fn start_with(
        name: &str,
        flavor: esx_sim::Flavor,
        inventory: Option<&str>,
        tweak: impl FnOnce(&mut esx_sim::Config),
    ) -> Sim {
        let dir = std::env::temp_dir().join(format!(
            "esx-driver-{name}-{}-{}-{}",
            std::process::id(),
            flavor_name(flavor),
            seq()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("test dir");
        let mut cfg = esx_sim::Config::new(dir.join("data"));
        cfg.flavor = flavor;
        if let Some(inv) = inventory {
            cfg.inventory = inv.parse().expect("inventory spec");
        }
        tweak(&mut cfg);
        let handle = esx_sim::Simulator::start(cfg.clone())
            .await
            .expect("simulator starts");
        let port = handle.addr.port();
        cfg.listen = handle.addr;
        Sim {
            handle: Some(handle),
            dir,
            port,
            flavor,
            config: cfg,
        }
    }

    /// An ESX-flavoured simulator with the default inventory.
    pub async fn esx(name: &str) -> Sim {
        Sim::start_with(name, esx_sim::Flavor::Esx, None, |_| {}).await
    }

    /// The `esx://` URI (or `vpx://` of the first cluster's `host` for vCenter).
    pub fn uri(&self, extra: &str) -> String {
        match self.flavor {
            esx_sim::Flavor::Esx => {
                format!("esx://root@127.0.0.1:{}/?no_verify=1{extra}", self.port)
            }
            esx_sim::Flavor::Vcenter => format!(
                "vpx://root@127.0.0.1:{}/DC0/Cluster0/esx-0-0-0.sim.local?no_verify=1{extra}",
                self.port
            ),
        }
    }

    /// The `vpx://` URI of host `n` of the first cluster.
    pub fn vpx_host(&self, n: usize) -> String {
        format!(
            "vpx://root@127.0.0.1:{}/DC0/Cluster0/esx-0-0-{n}.sim.local?no_verify=1",
            self.port
        )
    }

    /// Opens the default URI as root.
    pub async fn connect(&self) -> Connection {
        self.open(&self.uri(""), false).await
    }

    /// Opens `uri` as root (read-only when asked).
    pub async fn open(&self, uri: &str, read_only: bool) -> Connection {
        Connection::open(uri, options("root", read_only))
            .await
            .unwrap_or_else(|e| panic!("open {uri}: {e}"))
    }

    /// The datastore directory `name` on disk.
    pub fn datastore_dir(&self, name: &str) -> PathBuf {
        self.dir.join("data").join(name)
    }

    /// Stops the simulator and starts it again on the same address and data directory
    /// (sessions, power states and references do not survive, files do).
    pub async fn restart(&mut self) {
        self.stop().await;
        let handle = esx_sim::Simulator::start(self.config.clone())
            .await
            .expect("simulator restarts");
        self.handle = Some(handle);
    }

    /// Stops the simulator now.
    pub async fn stop(&mut self) {
        if let Some(h) = self.handle.take() {
            h.shutdown().await;
        }
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn flavor_name(f: esx_sim::Flavor) -> &'static str {
    match f {
        esx_sim::Flavor::Esx => "esx",
        esx_sim::Flavor::Vcenter => "vc",
    }
}

/// Open options with the simulator's password for `user`.
pub fn options(user: &str, read_only: bool) -> OpenOptions {
    OpenOptions {
        read_only,
        auth: Some(Arc::new(FixedCredentials::new(user, "pass"))),
        ..OpenOptions::default()
    }
}

/// A minimal domain definition with one disk on `[datastore1] dir/disk.vmdk`.
pub fn domain_xml(name: &str, dir: &str) -> String {
    format!(
        "<domain type='vmware'>\n  <name>{name}</name>\n  <memory>524288</memory>\n  \
         <vcpu>2</vcpu>\n  <os><type arch='x86_64'>hvm</type></os>\n  <devices>\n    \
         <disk type='file' device='disk'>\n      <source file='[datastore1] {dir}/{name}.vmdk'/>\n      \
         <target dev='sda' bus='scsi'/>\n    </disk>\n    \
         <controller type='scsi' index='0' model='lsilogic'/>\n    \
         <interface type='bridge'>\n      <mac address='00:50:56:11:22:33'/>\n      \
         <source bridge='VM Network'/>\n    </interface>\n  </devices>\n</domain>\n"
    )
}

/// Open options for root with `password`.
pub fn options_with_password(password: &str) -> OpenOptions {
    OpenOptions {
        auth: Some(Arc::new(FixedCredentials::new("root", password))),
        ..OpenOptions::default()
    }
}

/// A number no other directory of this process has had: one test binary holds every area's
/// tests, whose directory names could otherwise meet.
pub fn seq() -> usize {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}
