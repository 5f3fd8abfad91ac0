//! A vSphere simulator: an HTTPS server that answers the vim25 SOAP API and the datastore
//! `/folder` file API from an in-memory inventory backed by real files, so that real clients
//! (pyvmomi, govc, virsh, our own driver) can run against it on loopback.
//!
//! ```no_run
//! # async fn demo() -> Result<(), esx_sim::Error> {
//! let cfg = esx_sim::Config::new(std::env::temp_dir().join("esx-sim-demo"));
//! let handle = esx_sim::Simulator::start(cfg).await?;
//! println!("{} {}", handle.url, handle.fingerprint);
//! handle.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! ## The esx crates
//!
//! [esx-vim](https://docs.rs/esx-vim) (vSphere bindings, SOAP codec, HTTPS client) ·
//! [esx-uri](https://docs.rs/esx-uri) (`esx://`, `gsx://`, `vpx://` URIs, auth.conf) ·
//! [esx-domain](https://docs.rs/esx-domain) (libvirt domain, snapshot, pool, volume, network XML) ·
//! [esx-vmx](https://docs.rs/esx-vmx) (`.vmx` files and VMX ⇄ domain XML) ·
//! [esx-vmdk](https://docs.rs/esx-vmdk) (VMDK images, streamed) ·
//! [esx-driver](https://docs.rs/esx-driver) (the libvirt-style ESX driver) ·
//! [esx-provision](https://docs.rs/esx-provision) (Nova-style spawning from images) ·
//! [esx-guest](https://docs.rs/esx-guest) (guest agent, `machine.id`) ·
//! [esx-sim](https://docs.rs/esx-sim) (a vSphere simulator) ·
//! [esx-cli](https://docs.rs/esx-cli) (`esxsh`).

pub mod config;
pub mod dispatch;
pub mod encoded;
pub mod fault;
pub mod fetch;
pub mod files;
pub mod folder_api;
/// The fuzz target's check, replayed on stable by `tests/sim/fuzz_seeds.rs`. Not stable API.
#[doc(hidden)]
pub mod fuzz;
pub mod inject;
pub mod inventory;
pub mod lazy;
pub mod managers;
pub mod mo;
pub mod path;
pub mod property;
pub mod rest;
pub mod screen;
pub mod server;
pub mod state;
pub mod ticket;
pub mod tls;
pub mod vmdk;

use std::sync::Arc;

pub use config::{Config, Flavor, InventorySpec};

/// Why the simulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or directory could not be read or written.
    #[error("{0}: {1}")]
    Io(String, #[source] std::io::Error),
    /// The listener could not be bound.
    #[error("cannot listen on {0}: {1}")]
    Listen(std::net::SocketAddr, #[source] std::io::Error),
    /// TLS setup failed.
    #[error("TLS setup failed: {0}")]
    Tls(String),
}

/// The simulator.
pub struct Simulator;

/// A running simulator.
pub struct Handle {
    /// `https://127.0.0.1:PORT/sdk`.
    pub url: String,
    /// The bound address.
    pub addr: std::net::SocketAddr,
    /// The certificate's SHA-256 fingerprint (`AA:BB:…`).
    pub fingerprint: String,
    /// The certificate's SHA-1 thumbprint (`AA:BB:…`), as tickets report it.
    pub thumbprint: String,
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    shared: Arc<server::Shared>,
}

impl Handle {
    /// Sets datastore `name`'s capacity so that `free` bytes are free now (to test what a
    /// full datastore does; see [`mo::datastore`]); `false` when there is no such datastore.
    pub fn set_datastore_free(&self, name: &str, free: u64) -> bool {
        match self.shared.write() {
            Some(mut s) => mo::datastore::set_free(&mut s, name, free),
            None => false,
        }
    }

    /// The bytes free on datastore `name` (`None` when there is no such datastore).
    pub fn datastore_free(&self, name: &str) -> Option<u64> {
        let s = self.shared.read()?;
        let r = s.datastore_by_name(name)?;
        match s.get(&r)? {
            state::Mo::Datastore(d) => Some(d.free()),
            _ => None,
        }
    }

    /// The keys of the sessions logged in now, sorted. Each is also the value of its client's
    /// `vmware_soap_session` cookie: for tests that check a client never reveals them.
    pub fn session_keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = match self.shared.read() {
            Some(s) => s.sessions.keys().cloned().collect(),
            None => Vec::new(),
        };
        keys.sort();
        keys
    }

    /// The tickets issued and not used yet (generic service tickets and clone tickets, see
    /// [`ticket`]), sorted: for tests that check a client never reveals them.
    pub fn ticket_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = match self.shared.read() {
            Some(s) => s.tickets.keys().cloned().collect(),
            None => Vec::new(),
        };
        ids.sort();
        ids
    }

    /// How many times the state has been accessed exclusively (each counts as a change and
    /// ends every kept encoding, see [`State::generation`]): for tests that check that reads
    /// change nothing.
    ///
    /// [`State::generation`]: state::State::generation
    pub fn generation(&self) -> u64 {
        self.shared.read().map_or(0, |s| {
            s.generation.load(std::sync::atomic::Ordering::Acquire)
        })
    }

    /// Stops accepting connections and waits for the accept loop to end.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Advances tasks that run for `Config::task_delay` (progress, completion) until stopped,
/// waking `WaitForUpdates` callers when something changed.
async fn advance_tasks(
    shared: Arc<server::Shared>,
    delay: std::time::Duration,
    mut stopped: tokio::sync::watch::Receiver<bool>,
) {
    let step = (delay / 10).clamp(
        std::time::Duration::from_millis(10),
        std::time::Duration::from_millis(250),
    );
    let mut every = tokio::time::interval(step);
    loop {
        tokio::select! {
            _ = every.tick() => {}
            _ = stopped.changed() => break,
        }
        // Exclusive access counts as a change and ends every kept encoding: take it only when
        // a task is running.
        match shared.read() {
            Some(s) if s.deferred.is_empty() => continue,
            Some(_) => {}
            None => break,
        }
        let changed = match shared.write() {
            Some(mut s) => mo::task::tick(&mut s),
            None => break,
        };
        if changed {
            shared.changes.send_modify(|v| *v += 1);
        }
    }
}

impl Simulator {
    /// Builds the inventory, binds the listener and serves until [`Handle::shutdown`].
    pub async fn start(config: Config) -> Result<Handle, Error> {
        let (tls, fingerprint, thumbprint) = tls::server_config(config.cert.as_ref())?;
        let listen = config.listen;
        let task_delay = config.task_delay;
        let mut state = state::State::new(config);
        state.thumbprint = thumbprint.clone();
        inventory::build(&mut state)?;
        if let Some(n) = state.config.inject.pause_before_commit {
            files::pause_before_commit(n);
        }
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|e| Error::Listen(listen, e))?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::Listen(listen, e))?;
        // The address actually bound (a port 0 in the configuration becomes the real one).
        state.config.listen = addr;
        let (changes, _) = tokio::sync::watch::channel(0u64);
        let shared = Arc::new(server::Shared {
            state: std::sync::RwLock::new(state),
            changes,
        });
        let acceptor = tokio_rustls::TlsAcceptor::from(tls);
        let kept = shared.clone();
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        if !task_delay.is_zero() {
            tokio::spawn(advance_tasks(shared.clone(), task_delay, stopped.clone()));
        }
        let task = tokio::spawn(async move {
            loop {
                let conn = tokio::select! {
                    c = listener.accept() => c,
                    _ = stopped.changed() => break,
                };
                let Ok((tcp, _)) = conn else { continue };
                let acceptor = acceptor.clone();
                let shared = shared.clone();
                let mut stop_conn = stopped.clone();
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let io = hyper_util::rt::TokioIo::new(tls);
                    let svc =
                        hyper::service::service_fn(move |req| server::serve(shared.clone(), req));
                    let conn = hyper::server::conn::http1::Builder::new().serve_connection(io, svc);
                    tokio::pin!(conn);
                    tokio::select! {
                        _ = conn.as_mut() => {}
                        _ = stop_conn.changed() => {}
                    }
                });
            }
        });
        Ok(Handle {
            url: format!("https://{addr}/sdk"),
            addr,
            fingerprint,
            thumbprint,
            stop,
            task,
            shared: kept,
        })
    }
}
