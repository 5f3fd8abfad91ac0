//! Helpers for the end-to-end tests: an esx-sim on loopback served by its own runtime, and
//! runs of the built `esxsh` (and of libvirt's `virsh`, when installed) against it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// libvirt 11.3's virsh, the version esxsh follows.
pub const VIRSH: &str = "/opt/libvirt-11.3/bin/virsh";
const VIRSH_LIBS: &str = "/opt/libvirt-11.3/lib/x86_64-linux-gnu";

/// A simulator with its data directory (removed on drop) and the runtime serving it.
pub struct Sim {
    rt: Option<tokio::runtime::Runtime>,
    handle: Option<esx_sim::Handle>,
    pub dir: PathBuf,
    pub port: u16,
    pub flavor: esx_sim::Flavor,
}

impl Sim {
    /// Starts a simulator of `flavor` (default inventory: vm1..vm3, datastore1, VM Network).
    pub fn start(name: &str, flavor: esx_sim::Flavor) -> Sim {
        Sim::start_with(name, flavor, |_| {})
    }

    /// Starts a simulator after `tweak` changed its configuration.
    pub fn start_with(
        name: &str,
        flavor: esx_sim::Flavor,
        tweak: impl FnOnce(&mut esx_sim::Config),
    ) -> Sim {
        let dir = std::env::temp_dir().join(format!(
            "esxsh-test-{name}-{}-{}",
            std::process::id(),
            seq()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("test dir");
        let mut cfg = esx_sim::Config::new(dir.join("data"));
        cfg.flavor = flavor;
        tweak(&mut cfg);
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let handle = rt
            .block_on(esx_sim::Simulator::start(cfg))
            .expect("simulator starts");
        let port = handle.addr.port();
        Sim {
            rt: Some(rt),
            handle: Some(handle),
            dir,
            port,
            flavor,
        }
    }

    /// The running simulator (to read its sessions and tickets).
    pub fn handle(&self) -> &esx_sim::Handle {
        self.handle.as_ref().expect("running")
    }

    /// The URI of the simulator (ESX), or of host `esx-0-0-0` through the vCenter.
    pub fn uri(&self) -> String {
        match self.flavor {
            esx_sim::Flavor::Esx => format!("esx://root@127.0.0.1:{}/?no_verify=1", self.port),
            esx_sim::Flavor::Vcenter => self.vpx_host(0),
        }
    }

    /// The `vpx://` URI of host `n` of the first cluster.
    pub fn vpx_host(&self, n: usize) -> String {
        format!(
            "vpx://root@127.0.0.1:{}/DC0/Cluster0/esx-0-0-{n}.sim.local?no_verify=1",
            self.port
        )
    }

    /// Runs `esxsh -c <uri> args…` with the simulator's password in the environment.
    pub fn esxsh(&self, args: &[&str]) -> Run {
        esxsh_env(
            &[&["-c", &self.uri()], args].concat(),
            &[("ESX_PASSWORD", "pass")],
        )
    }

    /// Runs virsh 11.3 the same way (None when it is not installed).
    pub fn virsh(&self, args: &[&str]) -> Option<Run> {
        virsh(&[&["-c", &self.uri()], args].concat())
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        if let (Some(rt), Some(h)) = (self.rt.as_ref(), self.handle.take()) {
            rt.block_on(h.shutdown());
        }
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// What a run printed and its exit status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Asserts success and returns stdout.
    #[track_caller]
    pub fn ok(&self) -> &str {
        assert_eq!(self.status, 0, "failed: {self:?}");
        &self.stdout
    }

    /// Asserts failure with exactly `stderr` and returns self.
    #[track_caller]
    pub fn fails_with(&self, stderr: &str) -> &Self {
        assert_eq!((self.status, self.stderr.as_str()), (1, stderr), "{self:?}");
        self
    }
}

fn collect(out: std::process::Output) -> Run {
    Run {
        status: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs the built esxsh with `args` and extra environment, in the workspace root, with no
/// auth.conf and no stdin.
pub fn esxsh_env(args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_esxsh"));
    cmd.args(args)
        .current_dir(workspace())
        .env_remove("LIBVIRT_AUTH_FILE")
        .env("XDG_CONFIG_HOME", "/nonexistent/esxsh-test-config")
        .env_remove("ESX_USERNAME")
        .env_remove("ESX_PASSWORD")
        .env_remove("ESXSH_DEFAULT_CONNECT_URI")
        .env_remove("RUST_LOG")
        .stdin(std::process::Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    collect(
        esx_testkit::process::output(&mut cmd, esx_testkit::process::LIMIT).expect("esxsh runs"),
    )
}

/// Runs esxsh on the embedded host.
pub fn esxsh(args: &[&str]) -> Run {
    esxsh_env(args, &[])
}

/// Whether virsh 11.3 is installed; says so loudly when it is not.
pub fn have_virsh() -> bool {
    let ok = Path::new(VIRSH).exists();
    if !ok {
        eprintln!("SKIPPED: {VIRSH} is not installed (../shared/peers/setup-libvirt-11.3.sh)");
    }
    ok
}

/// Runs virsh 11.3 with `args` (credentials from an auth.conf of our own), its log limited to
/// errors; None when it is not installed.
pub fn virsh(args: &[&str]) -> Option<Run> {
    if !Path::new(VIRSH).exists() {
        return None;
    }
    static AUTH: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    let auth = AUTH.get_or_init(|| {
        let path =
            std::env::temp_dir().join(format!("esxsh-test-virsh-auth-{}.conf", std::process::id()));
        std::fs::write(
            &path,
            "[credentials-sim]\nusername=root\npassword=pass\n\n[auth-esx-127.0.0.1]\n\
             credentials=sim\n\n[auth-vpx-127.0.0.1]\ncredentials=sim\n",
        )
        .expect("auth file");
        path
    });
    let out = esx_testkit::process::output(
        Command::new(VIRSH)
            .args(args)
            .env("LD_LIBRARY_PATH", VIRSH_LIBS)
            .env("LIBVIRT_AUTH_FILE", auth)
            .env("LIBVIRT_DEBUG", "4")
            .env_remove("LIBVIRT_DEFAULT_URI")
            .env_remove("VIRSH_DEFAULT_CONNECT_URI")
            .stdin(std::process::Stdio::null()),
        esx_testkit::process::LIMIT,
    )
    .expect("virsh runs");
    Some(collect(out))
}

/// A number no other directory of this process has had: one test binary holds every area's
/// tests, whose directory names could otherwise meet.
pub fn seq() -> usize {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}
