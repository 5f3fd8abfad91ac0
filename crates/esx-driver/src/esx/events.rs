//! Lifecycle events as a stream, from `WaitForUpdatesEx` over a container view of the
//! datacenter's VMs (libvirt's ESX driver has no events at all).

use std::collections::HashMap;
use std::time::Duration;

use esx_domain::Uuid;
use esx_vim::{
    methods, Any, ManagedObjectReference as MoRef, ObjectUpdateKind, VirtualMachinePowerState as P,
    WaitOptions,
};
use tokio::sync::mpsc;

use crate::error::{Error, Result};
use crate::types::Domain;
use crate::vi::{self, filter, prop_spec, traverse};
use crate::Connection;

/// What happened to a domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DomainEventKind {
    /// A VM appeared on the host (registered, created, or migrated here).
    Defined,
    /// A VM left the inventory (unregistered or deleted).
    Undefined,
    /// Powered on from off.
    Started,
    /// Suspended.
    Suspended,
    /// Powered on from suspended.
    Resumed,
    /// Powered off.
    Stopped,
    /// Moved between hosts (seen on a vCenter).
    Migrated {
        /// The host it came from, by name.
        from: String,
        /// The host it went to, by name.
        to: String,
    },
    /// The VM's name changed.
    Renamed {
        /// The former name.
        old_name: String,
    },
}

impl DomainEventKind {
    /// The word virsh's `event` command prints for the event.
    pub fn as_str(&self) -> &'static str {
        match self {
            DomainEventKind::Defined => "Defined",
            DomainEventKind::Undefined => "Undefined",
            DomainEventKind::Started => "Started",
            DomainEventKind::Suspended => "Suspended",
            DomainEventKind::Resumed => "Resumed",
            DomainEventKind::Stopped => "Stopped",
            DomainEventKind::Migrated { .. } => "Migrated",
            DomainEventKind::Renamed { .. } => "Renamed",
        }
    }
}

/// One lifecycle event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainEvent {
    /// The domain as it is after the event.
    pub domain: Domain,
    /// What happened.
    pub kind: DomainEventKind,
}

/// A stream of lifecycle events; the watch on the server stops when it is dropped.
pub struct DomainEvents {
    rx: mpsc::Receiver<Result<DomainEvent>>,
}

impl DomainEvents {
    /// The next event; `None` once the watch ended (after an error was delivered).
    pub async fn next(&mut self) -> Option<Result<DomainEvent>> {
        self.rx.recv().await
    }
}

impl std::fmt::Debug for DomainEvents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DomainEvents").finish_non_exhaustive()
    }
}

#[derive(Debug, Clone)]
struct Seen {
    name: String,
    uuid: Option<Uuid>,
    power: Option<P>,
    host: Option<MoRef>,
}

const PATHS: [&str; 4] = ["name", "config.uuid", "runtime.powerState", "runtime.host"];

impl Connection {
    /// Starts watching the host's domains; events arrive in the order the server reports
    /// them. Ready when this returns: changes made afterwards are reported.
    pub async fn domain_events(&self) -> Result<DomainEvents> {
        self.ensure_open()?;
        let (tx, rx) = mpsc::channel(1024);
        let watcher = Watcher::start(self.clone()).await?;
        tokio::spawn(watcher.run(tx));
        Ok(DomainEvents { rx })
    }
}

struct Watcher {
    conn: Connection,
    pc: MoRef,
    view: MoRef,
    version: Option<String>,
    seen: HashMap<MoRef, Seen>,
    hosts: HashMap<MoRef, String>,
}

impl Watcher {
    /// Creates a private property collector and a container view of the datacenter's VMs
    /// with a filter on them.
    async fn connect(conn: &Connection) -> Result<(MoRef, MoRef)> {
        let ctx = conn.primary();
        let client = &ctx.client;
        let pc = methods::create_property_collector(&**client, client.property_collector()).await?;
        let view = client
            .create_container_view(&ctx.vm_folder, &["VirtualMachine"], true)
            .await?
            .moref;
        let spec = filter(
            &view,
            true,
            vec![traverse("ContainerView", "view")],
            vec![prop_spec("VirtualMachine", &PATHS)],
        );
        methods::create_filter(&**client, &pc, spec, false).await?;
        Ok((pc, view))
    }

    async fn start(conn: Connection) -> Result<Watcher> {
        let (pc, view) = Self::connect(&conn).await?;
        let mut w = Watcher {
            conn,
            pc,
            view,
            version: None,
            seen: HashMap::new(),
            hosts: HashMap::new(),
        };
        // The first update is the current state: remembered, not reported.
        let first = w.wait(Some(0)).await?;
        w.apply(first, &mut Vec::new()).await;
        Ok(w)
    }

    /// Starts over on a new collector (after a lost session), reporting what changed
    /// meanwhile as events.
    async fn resync(&mut self, out: &mut Vec<DomainEvent>) -> Result<()> {
        let (pc, view) = Self::connect(&self.conn).await?;
        self.stop().await;
        self.pc = pc;
        self.view = view;
        self.version = None;
        let first = self.wait(Some(0)).await?;
        let present: std::collections::HashSet<MoRef> = first
            .iter()
            .flat_map(|u| &u.filter_set)
            .flat_map(|f| &f.object_set)
            .map(|o| o.obj.clone())
            .collect();
        self.apply(first, out).await;
        let gone: Vec<MoRef> = self
            .seen
            .keys()
            .filter(|k| !present.contains(*k))
            .cloned()
            .collect();
        for g in gone {
            if let Some(s) = self.seen.remove(&g) {
                if let Some(uuid) = s.uuid {
                    out.push(DomainEvent {
                        domain: Domain {
                            name: s.name,
                            uuid,
                            id: -1,
                        },
                        kind: DomainEventKind::Undefined,
                    });
                }
            }
        }
        Ok(())
    }

    async fn wait(&mut self, max_wait: Option<i32>) -> Result<Option<esx_vim::UpdateSet>> {
        let client = &self.conn.primary().client;
        let options = WaitOptions {
            max_wait_seconds: max_wait,
            max_object_updates: None,
        };
        let u =
            methods::wait_for_updates_ex(&**client, &self.pc, self.version.clone(), Some(options))
                .await?;
        if let Some(u) = &u {
            self.version = Some(u.version.clone());
        }
        Ok(u)
    }

    async fn host_name(&mut self, host: &MoRef) -> String {
        if let Some(n) = self.hosts.get(host) {
            return n.clone();
        }
        let name = vi::get(&self.conn.primary().client, host, &["name"])
            .await
            .ok()
            .and_then(|p| p.str("name").map(str::to_string))
            .unwrap_or_else(|| host.value.clone());
        self.hosts.insert(host.clone(), name.clone());
        name
    }

    /// Folds an update into what was seen, pushing the events it means.
    async fn apply(&mut self, update: Option<esx_vim::UpdateSet>, out: &mut Vec<DomainEvent>) {
        let Some(update) = update else { return };
        let our_host = self.conn.primary().host_system.clone();
        for obj in update.filter_set.into_iter().flat_map(|f| f.object_set) {
            let before = self.seen.get(&obj.obj).cloned();
            let mut now = before.clone().unwrap_or(Seen {
                name: String::new(),
                uuid: None,
                power: None,
                host: None,
            });
            for c in &obj.change_set {
                match (c.name.as_str(), &c.val) {
                    ("name", Some(Any::String(s))) => now.name = vi::unescape_name(s),
                    ("config.uuid", Some(Any::String(s))) => now.uuid = s.parse().ok(),
                    ("runtime.powerState", Some(Any::VirtualMachinePowerState(p))) => {
                        now.power = Some(p.clone())
                    }
                    ("runtime.host", Some(Any::ManagedObjectReference(h))) => {
                        now.host = Some(h.clone())
                    }
                    _ => {}
                }
            }
            let domain = |s: &Seen| {
                s.uuid.map(|uuid| Domain {
                    name: s.name.clone(),
                    uuid,
                    id: if s.power == Some(P::PoweredOff) || s.power.is_none() {
                        -1
                    } else {
                        vi::vm_id(&obj.obj).unwrap_or(-1)
                    },
                })
            };
            let ours = |s: &Seen| s.host.as_ref().is_none_or(|h| *h == our_host);
            match obj.kind {
                ObjectUpdateKind::Leave => {
                    self.seen.remove(&obj.obj);
                    if let Some(b) = before.filter(|b| ours(b)) {
                        if let Some(d) = domain(&b) {
                            out.push(DomainEvent {
                                domain: d,
                                kind: DomainEventKind::Undefined,
                            });
                        }
                    }
                    continue;
                }
                ObjectUpdateKind::Enter if before.is_none() => {
                    if ours(&now) {
                        if let Some(d) = domain(&now) {
                            out.push(DomainEvent {
                                domain: d,
                                kind: DomainEventKind::Defined,
                            });
                        }
                    }
                }
                _ => {
                    let Some(b) = &before else {
                        self.seen.insert(obj.obj.clone(), now);
                        continue;
                    };
                    let Some(d) = domain(&now) else {
                        self.seen.insert(obj.obj.clone(), now);
                        continue;
                    };
                    if b.host != now.host && (ours(b) || ours(&now)) {
                        let from = match &b.host {
                            Some(h) => self.host_name(h).await,
                            None => String::new(),
                        };
                        let to = match &now.host {
                            Some(h) => self.host_name(h).await,
                            None => String::new(),
                        };
                        out.push(DomainEvent {
                            domain: d.clone(),
                            kind: DomainEventKind::Migrated { from, to },
                        });
                    }
                    if ours(&now) {
                        if b.name != now.name && !b.name.is_empty() {
                            out.push(DomainEvent {
                                domain: d.clone(),
                                kind: DomainEventKind::Renamed {
                                    old_name: b.name.clone(),
                                },
                            });
                        }
                        let kind = match (&b.power, &now.power) {
                            (Some(P::PoweredOff), Some(P::PoweredOn)) => {
                                Some(DomainEventKind::Started)
                            }
                            (Some(P::Suspended), Some(P::PoweredOn)) => {
                                Some(DomainEventKind::Resumed)
                            }
                            (Some(P::PoweredOn), Some(P::Suspended)) => {
                                Some(DomainEventKind::Suspended)
                            }
                            (Some(a), Some(P::PoweredOff)) if *a != P::PoweredOff => {
                                Some(DomainEventKind::Stopped)
                            }
                            _ => None,
                        };
                        if let Some(kind) = kind {
                            out.push(DomainEvent { domain: d, kind });
                        }
                    }
                }
            }
            self.seen.insert(obj.obj.clone(), now);
        }
    }

    async fn run(mut self, tx: mpsc::Sender<Result<DomainEvent>>) {
        let mut failures = 0u32;
        loop {
            let step = tokio::select! {
                _ = tx.closed() => break,
                r = self.wait(Some(60)) => r,
            };
            let mut out = Vec::new();
            match step {
                Ok(update) => {
                    failures = 0;
                    self.apply(update, &mut out).await;
                }
                Err(e) => {
                    failures += 1;
                    if failures > 5 || self.conn.ensure_open().is_err() {
                        let _ = tx
                            .send(Err(Error::internal(format!(
                                "the event watch failed: {}",
                                e.message
                            ))))
                            .await;
                        break;
                    }
                    // The collector may be gone with an expired session: start over.
                    tokio::time::sleep(Duration::from_millis(200 * u64::from(failures))).await;
                    if let Err(e) = self.resync(&mut out).await {
                        tracing::debug!(error = %e, "event watch: resync failed");
                    }
                }
            }
            for e in out {
                if tx.send(Ok(e)).await.is_err() {
                    self.stop().await;
                    return;
                }
            }
        }
        self.stop().await;
    }

    async fn stop(&self) {
        let client = &self.conn.primary().client;
        let _ = methods::destroy_view(&**client, &self.view).await;
        let _ = methods::destroy_property_collector(&**client, &self.pc).await;
    }
}
