//! Lifecycle events as a stream, from `WaitForUpdatesEx` over a container view of the
//! datacenter's VMs (libvirt's ESX driver has no events at all).

use std::collections::HashMap;
use std::time::Duration;

use esx_domain::Uuid;
use esx_vim::{
    methods, Any, BaseEvent, EventFilterSpec, EventFilterSpecByEntity,
    EventFilterSpecRecursionOption, ManagedObjectReference as MoRef, ObjectSpec, ObjectUpdateKind,
    VirtualMachinePowerState as P, WaitOptions,
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
///
/// Events come from the server's event log, so a VM that was defined and undefined between
/// two updates of the watch is still reported; when it was gone before its UUID could be
/// read, `domain.uuid` is nil (the log does not record UUIDs).
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

fn event(domain: Domain, kind: DomainEventKind) -> DomainEvent {
    DomainEvent { domain, kind }
}

/// The handle of a watched VM, with the power state `power` (or the one seen).
fn domain_of(vm: &MoRef, s: &Seen, power: Option<P>) -> Option<Domain> {
    let uuid = s.uuid?;
    let off = match power.as_ref().or(s.power.as_ref()) {
        Some(P::PoweredOff) | None => true,
        Some(_) => false,
    };
    Some(Domain {
        name: s.name.clone(),
        uuid,
        id: if off { -1 } else { vi::vm_id(vm).unwrap_or(-1) },
    })
}

/// The event a power-state change means (when no event log is available).
fn transition(before: Option<&P>, now: Option<&P>) -> Option<DomainEventKind> {
    match (before, now) {
        (Some(P::PoweredOff), Some(P::PoweredOn)) => Some(DomainEventKind::Started),
        (Some(P::Suspended), Some(P::PoweredOn)) => Some(DomainEventKind::Resumed),
        (Some(P::PoweredOn), Some(P::Suspended)) => Some(DomainEventKind::Suspended),
        (Some(a), Some(P::PoweredOff)) if *a != P::PoweredOff => Some(DomainEventKind::Stopped),
        _ => None,
    }
}

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
    /// The event collector whose latest page carries power and inventory changes, when the
    /// server has one (property updates alone coalesce quick changes).
    collector: Option<MoRef>,
    /// The newest event key already handled.
    last_key: Option<i32>,
    version: Option<String>,
    seen: HashMap<MoRef, Seen>,
    /// Power states as the event log tells them (to tell a resume from a start).
    power: HashMap<MoRef, P>,
    /// Whether the first update (the state when the watch began) was folded in.
    primed: bool,
    /// Whether the first page of the event log was seen.
    logged: bool,
    /// The names last reported per VM (with the event log: renames are found against them).
    names: HashMap<MoRef, String>,
    hosts: HashMap<MoRef, String>,
    /// VMs known only from the event log (see [`Watcher::ghost`]).
    ghosts: HashMap<MoRef, Seen>,
}

/// The VM events whose order matters.
const LOG_EVENTS: [&str; 9] = [
    "VmPoweredOnEvent",
    "VmPoweredOffEvent",
    "VmSuspendedEvent",
    "VmRegisteredEvent",
    "VmCreatedEvent",
    "VmDeployedEvent",
    "VmClonedEvent",
    "VmRemovedEvent",
    "VmResettingEvent",
];

/// One entry of the event log the watch uses.
struct LogEntry {
    key: i32,
    kind: &'static str,
    vm: MoRef,
    /// The VM's name when the entry was written.
    name: String,
    /// The host the entry names.
    host: Option<MoRef>,
}

/// The entry an event of the log means to the watch.
fn log_event(e: &BaseEvent) -> Option<LogEntry> {
    macro_rules! ev {
        ($x:expr, $t:expr) => {{
            let vm = $x.vm.as_ref()?;
            Some(LogEntry {
                key: $x.key,
                kind: $t,
                vm: vm.vm.clone(),
                name: vi::unescape_name(&vm.name),
                host: $x.host.as_ref().map(|h| h.host.clone()),
            })
        }};
    }
    match e {
        BaseEvent::VmPoweredOnEvent(x) => ev!(x, "on"),
        BaseEvent::VmPoweredOffEvent(x) => ev!(x, "off"),
        BaseEvent::VmSuspendedEvent(x) => ev!(x, "suspended"),
        BaseEvent::VmRegisteredEvent(x) => ev!(x, "defined"),
        BaseEvent::VmCreatedEvent(x) => ev!(x, "defined"),
        BaseEvent::VmDeployedEvent(x) => ev!(x, "defined"),
        BaseEvent::VmClonedEvent(x) => ev!(x, "defined"),
        BaseEvent::VmRemovedEvent(x) => ev!(x, "removed"),
        _ => None,
    }
}

impl Watcher {
    /// Creates a private property collector, a container view of the datacenter's VMs and
    /// (when the server has an event manager) an event collector over the datacenter, with
    /// one filter on the VMs' identities and the collector's latest page.
    async fn connect(conn: &Connection) -> Result<(MoRef, MoRef, Option<MoRef>)> {
        let ctx = conn.primary();
        let client = &ctx.client;
        let pc = methods::create_property_collector(&**client, client.property_collector()).await?;
        let view = client
            .create_container_view(&ctx.vm_folder, &["VirtualMachine"], true)
            .await?
            .moref;
        let mut spec = filter(
            &view,
            true,
            vec![traverse("ContainerView", "view")],
            vec![prop_spec("VirtualMachine", &PATHS)],
        );
        let collector = match client.service_content().event_manager.clone() {
            Some(em) => {
                let filter_spec = EventFilterSpec {
                    entity: Some(EventFilterSpecByEntity {
                        entity: ctx.datacenter.clone(),
                        recursion: EventFilterSpecRecursionOption::All,
                    }),
                    event_type_id: LOG_EVENTS.iter().map(|t| t.to_string()).collect(),
                    ..Default::default()
                };
                match methods::create_collector_for_events(&**client, &em, filter_spec).await {
                    Ok(c) => {
                        let _ = methods::set_collector_page_size(&**client, &c, 1000).await;
                        spec.object_set.push(ObjectSpec {
                            obj: c.clone(),
                            skip: Some(false),
                            select_set: Vec::new(),
                        });
                        spec.prop_set
                            .push(prop_spec("EventHistoryCollector", &["latestPage"]));
                        Some(c)
                    }
                    Err(e) => {
                        tracing::debug!(error = %e, "no event collector: power changes come from property updates");
                        None
                    }
                }
            }
            None => None,
        };
        methods::create_filter(&**client, &pc, spec, false).await?;
        Ok((pc, view, collector))
    }

    async fn start(conn: Connection) -> Result<Watcher> {
        let (pc, view, collector) = Self::connect(&conn).await?;
        let mut w = Watcher {
            conn,
            pc,
            view,
            collector,
            last_key: None,
            version: None,
            seen: HashMap::new(),
            power: HashMap::new(),
            primed: false,
            logged: false,
            names: HashMap::new(),
            hosts: HashMap::new(),
            ghosts: HashMap::new(),
        };
        // The first update is the current state: remembered, not reported.
        let first = w.wait(Some(0)).await?;
        w.apply(first, &mut Vec::new()).await;
        Ok(w)
    }

    /// Starts over on a new collector (after a lost session), reporting what changed
    /// meanwhile as events.
    async fn resync(&mut self, out: &mut Vec<DomainEvent>) -> Result<()> {
        let (pc, view, collector) = Self::connect(&self.conn).await?;
        self.stop().await;
        self.pc = pc;
        self.view = view;
        self.collector = collector;
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
        let log = self.collector.is_some();
        for g in gone {
            if let Some(s) = self.seen.remove(&g) {
                if log {
                    continue; // the log reports the removal
                }
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

    /// Folds an update into what was seen, pushing the events it means: power and
    /// inventory changes from the event log (in order, none lost to coalescing), renames
    /// and host changes from the properties.
    async fn apply(&mut self, update: Option<esx_vim::UpdateSet>, out: &mut Vec<DomainEvent>) {
        let Some(update) = update else { return };
        let our_host = self.conn.primary().host_system.clone();
        let log = self.collector.is_some();
        let primed = self.primed;
        self.primed = true;
        let mut page: Option<Vec<BaseEvent>> = None;
        let mut left: HashMap<MoRef, Seen> = HashMap::new();
        let ours = |s: &Seen| s.host.as_ref().is_none_or(|h| *h == our_host);
        for obj in update.filter_set.into_iter().flat_map(|f| f.object_set) {
            if Some(&obj.obj) == self.collector.as_ref() {
                for c in obj.change_set {
                    if let (true, Some(Any::ArrayOfEvent(a))) = (c.name == "latestPage", c.val) {
                        page = Some(a.event);
                    }
                }
                continue;
            }
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
            let vm = obj.obj.clone();
            match (obj.kind, before) {
                (ObjectUpdateKind::Leave, before) => {
                    self.seen.remove(&vm);
                    if let Some(b) = before {
                        if !log && ours(&b) {
                            if let Some(d) = domain_of(&vm, &b, Some(P::PoweredOff)) {
                                out.push(event(d, DomainEventKind::Undefined));
                            }
                        }
                        left.insert(vm, b);
                    }
                    continue;
                }
                (_, None) => {
                    // A VM seen for the first time (at start, or defined since).
                    if let Some(p) = &now.power {
                        self.power.entry(vm.clone()).or_insert(p.clone());
                    }
                    if !primed {
                        self.names.insert(vm.clone(), now.name.clone());
                    }
                    if primed && !log && ours(&now) {
                        if let Some(d) = domain_of(&vm, &now, None) {
                            out.push(event(d, DomainEventKind::Defined));
                        }
                    }
                }
                (_, Some(b)) => {
                    if let Some(d) = domain_of(&vm, &now, None) {
                        if b.host != now.host && (ours(&b) || ours(&now)) {
                            let from = match &b.host {
                                Some(h) => self.host_name(h).await,
                                None => String::new(),
                            };
                            let to = match &now.host {
                                Some(h) => self.host_name(h).await,
                                None => String::new(),
                            };
                            out.push(event(d.clone(), DomainEventKind::Migrated { from, to }));
                        }
                        if !log && ours(&now) && b.name != now.name && !b.name.is_empty() {
                            out.push(event(
                                d.clone(),
                                DomainEventKind::Renamed {
                                    old_name: b.name.clone(),
                                },
                            ));
                        }
                        if !log && ours(&now) {
                            if let Some(kind) = transition(b.power.as_ref(), now.power.as_ref()) {
                                out.push(event(d, kind));
                            }
                        }
                    }
                }
            }
            self.seen.insert(vm, now);
        }
        if log {
            if let Some(page) = page {
                self.apply_log(page, &left, out).await;
            }
            // Names that changed without an event naming the VM since: renames.
            let renamed: Vec<(MoRef, Seen, String)> = self
                .seen
                .iter()
                .filter(|(_, s)| ours(s))
                .filter_map(|(vm, s)| {
                    let old = self.names.get(vm)?;
                    (*old != s.name && !s.name.is_empty())
                        .then(|| (vm.clone(), s.clone(), old.clone()))
                })
                .collect();
            for (vm, s, old) in renamed {
                self.names.insert(vm.clone(), s.name.clone());
                if let Some(d) = domain_of(&vm, &s, self.power.get(&vm).cloned()) {
                    out.push(event(d, DomainEventKind::Renamed { old_name: old }));
                }
            }
        }
    }

    /// The identity of a VM the property updates never showed (it came, and maybe went,
    /// between two updates): read from the server while it exists, else with a nil UUID
    /// (nothing else records it) and the host the log entry names.
    async fn ghost(&mut self, entry: &LogEntry) -> Seen {
        if let Some(s) = self.ghosts.get(&entry.vm) {
            return s.clone();
        }
        let paths = ["config.uuid", "runtime.host"];
        let read = vi::get(&self.conn.primary().client, &entry.vm, &paths).await;
        let s = Seen {
            name: entry.name.clone(),
            uuid: Some(
                read.as_ref()
                    .ok()
                    .and_then(|p| p.str("config.uuid")?.parse().ok())
                    .unwrap_or(Uuid([0; 16])),
            ),
            power: None,
            host: read
                .as_ref()
                .ok()
                .and_then(|p| p.moref("runtime.host").cloned())
                .or_else(|| entry.host.clone()),
        };
        self.ghosts.insert(entry.vm.clone(), s.clone());
        s
    }

    /// Turns the new entries of the event log into events, in order, with the VM's name as
    /// each entry gives it (a rename between two entries is reported between them).
    async fn apply_log(
        &mut self,
        page: Vec<BaseEvent>,
        left: &HashMap<MoRef, Seen>,
        out: &mut Vec<DomainEvent>,
    ) {
        let our_host = self.conn.primary().host_system.clone();
        let ours = |s: &Seen| s.host.as_ref().is_none_or(|h| *h == our_host);
        let mut new: Vec<LogEntry> = page.iter().filter_map(log_event).collect();
        new.sort_by_key(|e| e.key);
        if !self.logged {
            // The log as it was when the watch began: remembered, not reported.
            self.logged = true;
            self.last_key = new.last().map(|e| e.key).or(self.last_key);
            return;
        }
        for entry in new {
            if self.last_key.is_some_and(|l| entry.key <= l) {
                continue;
            }
            self.last_key = Some(entry.key);
            let mut ident = match self.seen.get(&entry.vm).or_else(|| left.get(&entry.vm)) {
                Some(s) => s.clone(),
                None => self.ghost(&entry).await,
            };
            let LogEntry { kind, vm, name, .. } = entry;
            if !ours(&ident) {
                continue;
            }
            ident.name = name.clone();
            if let Some(old) = self.names.insert(vm.clone(), name.clone()) {
                if old != name && kind != "defined" {
                    if let Some(d) = domain_of(&vm, &ident, self.power.get(&vm).cloned()) {
                        out.push(event(d, DomainEventKind::Renamed { old_name: old }));
                    }
                }
            }
            let (kind, power) = match kind {
                "on" => {
                    let prev = self.power.get(&vm).cloned();
                    let k = if prev == Some(P::Suspended) {
                        DomainEventKind::Resumed
                    } else {
                        DomainEventKind::Started
                    };
                    (k, Some(P::PoweredOn))
                }
                "off" => (DomainEventKind::Stopped, Some(P::PoweredOff)),
                "suspended" => (DomainEventKind::Suspended, Some(P::Suspended)),
                "defined" => (DomainEventKind::Defined, Some(P::PoweredOff)),
                _ => (DomainEventKind::Undefined, None),
            };
            match &power {
                Some(p) => {
                    self.power.insert(vm.clone(), p.clone());
                }
                None => {
                    self.power.remove(&vm);
                    self.names.remove(&vm);
                    self.ghosts.remove(&vm);
                }
            }
            if let Some(d) = domain_of(&vm, &ident, Some(power.unwrap_or(P::PoweredOff))) {
                out.push(event(d, kind));
            }
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
        if let Some(c) = &self.collector {
            let _ = methods::destroy_collector(&**client, c).await;
        }
        let _ = methods::destroy_view(&**client, &self.view).await;
        let _ = methods::destroy_property_collector(&**client, &self.pc).await;
    }
}
