//! The simulator's state: every managed object by reference, sessions, and a change counter
//! that wakes `WaitForUpdates` callers.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use esx_vim::{DateTime, ManagedObjectReference};

use crate::config::{Config, Flavor};
use crate::fault::{Fault, MethodResult};
use crate::mo;

/// Shorthand for a managed object reference.
pub type MoRef = ManagedObjectReference;

/// Builds a reference.
pub fn moref(ty: &str, id: &str) -> MoRef {
    ManagedObjectReference::new(ty, id)
}

/// The current time as the API's `DateTime`.
pub fn now() -> DateTime {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    chrono::DateTime::from_timestamp(d.as_secs() as i64, d.subsec_nanos())
        .unwrap_or_default()
        .fixed_offset()
}

/// One managed object.
#[derive(Debug)]
pub enum Mo {
    /// `ServiceInstance`.
    ServiceInstance,
    /// `SessionManager`.
    SessionManager,
    /// `PropertyCollector` (the default one or one made by `CreatePropertyCollector`).
    PropertyCollector(mo::property_collector::Collector),
    /// `PropertyFilter`.
    PropertyFilter(mo::property_collector::Filter),
    /// `ViewManager`.
    ViewManager,
    /// `ContainerView` or `ListView`.
    View(mo::view_manager::View),
    /// `SearchIndex`.
    SearchIndex,
    /// `FileManager`.
    FileManager,
    /// `VirtualDiskManager`.
    VirtualDiskManager,
    /// `TaskManager`.
    TaskManager,
    /// `EventManager`.
    EventManager,
    /// `EventHistoryCollector`.
    EventCollector(mo::event_manager::CollectorMo),
    /// `Task`.
    Task(Box<mo::task::TaskMo>),
    /// `Folder`.
    Folder(mo::folder::FolderMo),
    /// `Datacenter`.
    Datacenter(mo::datacenter::DatacenterMo),
    /// `ComputeResource` or `ClusterComputeResource`.
    ComputeResource(mo::compute_resource::ComputeResourceMo),
    /// `ResourcePool`.
    ResourcePool(mo::resource_pool::ResourcePoolMo),
    /// `HostSystem`.
    HostSystem(Box<mo::host_system::HostMo>),
    /// The host's helper objects (`HostNetworkSystem`, `HostStorageSystem`, …).
    HostService(mo::host_system::HostService),
    /// `HostDatastoreBrowser`.
    DatastoreBrowser(mo::datastore_browser::BrowserMo),
    /// `Datastore`.
    Datastore(mo::datastore::DatastoreMo),
    /// `Network`.
    Network(mo::network::NetworkMo),
    /// `VirtualMachine`.
    VirtualMachine(Box<mo::virtual_machine::VmMo>),
    /// `VirtualMachineSnapshot`.
    Snapshot(mo::snapshot::SnapshotMo),
    /// A service-content manager of the given WSDL type (see [`crate::managers`]).
    Manager(&'static str),
    /// `VmwareDistributedVirtualSwitch`.
    Dvs(Box<mo::distributed_virtual_switch::DvsMo>),
    /// `DistributedVirtualPortgroup`.
    DvPortgroup(Box<mo::distributed_virtual_portgroup::PortgroupMo>),
}

/// A logged-in (or not yet logged-in) client session.
#[derive(Debug, Clone)]
pub struct Session {
    /// The session key (also the cookie value).
    pub key: String,
    /// The user name.
    pub user: String,
    /// Whether the user may only read.
    pub read_only: bool,
    /// When the session logged in.
    pub login_time: DateTime,
    /// Last call and number of calls, updated under the state's read lock.
    pub activity: Activity,
    /// When it logged in (for an injected session lifetime).
    pub started: std::time::Instant,
}

/// When a session was last used and how many calls it made; atomics, so that calls served
/// under the state's read lock can refresh it.
#[derive(Debug, Default)]
pub struct Activity {
    /// Milliseconds since [`epoch`] at the last call.
    last_ms: AtomicU64,
    /// Calls made.
    calls: AtomicU64,
}

/// The process-wide instant [`Activity`] counts from.
fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

fn now_ms() -> u64 {
    u64::try_from(epoch().elapsed().as_millis()).unwrap_or(u64::MAX)
}

impl Activity {
    /// Activity of a session used just now.
    pub fn new() -> Activity {
        let a = Activity::default();
        a.last_ms.store(now_ms(), Ordering::Relaxed);
        a
    }

    /// Records a call now.
    pub fn touch(&self) {
        self.last_ms.fetch_max(now_ms(), Ordering::Relaxed);
        self.calls.fetch_add(1, Ordering::Relaxed);
    }

    /// Time since the last call.
    pub fn idle(&self) -> Duration {
        Duration::from_millis(now_ms().saturating_sub(self.last_ms.load(Ordering::Relaxed)))
    }

    /// Calls made so far.
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }
}

impl Clone for Activity {
    fn clone(&self) -> Activity {
        Activity {
            last_ms: AtomicU64::new(self.last_ms.load(Ordering::Relaxed)),
            calls: AtomicU64::new(self.calls()),
        }
    }
}

/// A container view's contents and the [`State::generation`] they were computed at.
pub type CachedView = (u64, Arc<Vec<MoRef>>);

/// The hasher of [`State::objects`]: object ids are short strings the simulator makes, so
/// rustc's FxHash beats the default DoS-resistant SipHash on every lookup.
pub type IdHash = rustc_hash::FxBuildHasher;

/// Who is calling: the session (if any) for this request.
#[derive(Debug, Clone, Default)]
pub struct Ctx {
    /// The session key, when the request carried a live session cookie.
    pub session: Option<String>,
    /// Whether the caller encodes the answer to XML at once (the SOAP server): the property
    /// collector may then hand out values kept encoded (see [`crate::encoded`]).
    pub encoded: bool,
}

/// The whole inventory and runtime state.
#[derive(Debug)]
pub struct State {
    /// The configuration the simulator started with.
    pub config: Config,
    /// Every managed object by id (`value` of its reference).
    pub objects: HashMap<String, Mo, IdHash>,
    /// Live sessions by key.
    pub sessions: HashMap<String, Session>,
    /// Recorded events, oldest first.
    pub events: Vec<mo::event_manager::Recorded>,
    /// Data directory root (datastores live in its subdirectories).
    pub data_dir: PathBuf,
    /// Paged results of `RetrievePropertiesEx` by token: the objects not sent yet (built when
    /// their page is asked for) and the `maxObjects` of the call that made the token.
    /// Behind its own lock, so that paging works under the state's read lock.
    pub pages: Mutex<BTreeMap<String, mo::property_collector::Paged>>,
    /// Bumped on every change of the state (every write access); caches key on it.
    pub generation: AtomicU64,
    /// Selections of recent property collector calls, at one generation (see
    /// [`mo::property_collector::KeptSelections`]).
    pub selections: Mutex<mo::property_collector::KeptSelections>,
    /// Container views' contents by view id, with the generation they were computed at.
    pub view_cache: Mutex<HashMap<String, CachedView>>,
    /// Property values kept encoded for the SOAP server, keyed on `generation` (see
    /// [`crate::encoded`]).
    pub encoded: crate::encoded::Cache,
    /// The generated VMs the manifest lists, by (datastore name, `.vmx` path); see [`crate::lazy`].
    pub generated: BTreeMap<(String, String), crate::lazy::Generated>,
    /// Fault injection with its counters.
    pub injector: crate::inject::Injector,
    /// Tasks still running their configured time (`Config::task_delay`).
    pub deferred: Vec<crate::mo::task::Deferred>,
    /// Generic service tickets not used yet, by id (see [`crate::ticket`]).
    pub tickets: HashMap<String, crate::ticket::Ticket>,
    /// The server certificate's SHA-1 thumbprint (`AA:BB:…`), reported in tickets.
    pub thumbprint: String,
    /// What the service-content managers keep (see [`crate::managers`]).
    pub managers: crate::managers::Managers,
    next_id: AtomicU64,
}

impl State {
    /// An empty state for `config`.
    pub fn new(config: Config) -> State {
        let data_dir = config.data_dir.clone();
        let injector = crate::inject::Injector::new(config.inject.clone());
        State {
            config,
            objects: HashMap::default(),
            sessions: HashMap::new(),
            events: Vec::new(),
            data_dir,
            pages: Mutex::new(BTreeMap::new()),
            generation: AtomicU64::new(0),
            selections: Mutex::default(),
            view_cache: Mutex::new(HashMap::new()),
            encoded: Default::default(),
            generated: BTreeMap::new(),
            injector,
            deferred: Vec::new(),
            tickets: HashMap::new(),
            thumbprint: String::new(),
            managers: crate::managers::Managers::default(),
            next_id: AtomicU64::new(1),
        }
    }

    /// The flavor.
    pub fn flavor(&self) -> Flavor {
        self.config.flavor
    }

    /// A fresh id with `prefix` (e.g. `task-12`).
    pub fn new_id(&self, prefix: &str) -> String {
        format!("{prefix}-{}", self.new_number())
    }

    /// A fresh number (for VM ids on ESX, snapshot ids, …).
    pub fn new_number(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Records that the state changed (invalidates caches keyed on [`State::generation`]).
    pub fn changed(&mut self) {
        *self.generation.get_mut() += 1;
    }

    /// Inserts an object under `id`.
    pub fn insert(&mut self, id: &str, mo: Mo) {
        self.objects.insert(id.to_owned(), mo);
    }

    /// The object `r` refers to, if its type matches.
    pub fn get(&self, r: &MoRef) -> Option<&Mo> {
        self.objects
            .get(&r.value)
            .filter(|m| type_matches(m.type_name(), &r.r#type))
    }

    /// Like [`State::get`], but a `ManagedObjectNotFound` fault when absent.
    pub fn lookup(&self, r: &MoRef) -> MethodResult<&Mo> {
        self.get(r).ok_or_else(|| Fault::not_found(r))
    }

    /// Mutable access with the same checks.
    pub fn lookup_mut(&mut self, r: &MoRef) -> MethodResult<&mut Mo> {
        match self.objects.get_mut(&r.value) {
            Some(m) if type_matches(m.type_name(), &r.r#type) => Ok(m),
            _ => Err(Fault::not_found(r)),
        }
    }

    /// The reference of the object stored under `id`.
    pub fn ref_of(&self, id: &str) -> Option<MoRef> {
        self.objects.get(id).map(|m| moref(m.type_name(), id))
    }

    /// The VM `r` refers to.
    pub fn vm(&self, r: &MoRef) -> MethodResult<&mo::virtual_machine::VmMo> {
        match self.lookup(r)? {
            Mo::VirtualMachine(v) => Ok(v),
            _ => Err(Fault::not_found(r)),
        }
    }

    /// The VM `r` refers to, mutably.
    pub fn vm_mut(&mut self, r: &MoRef) -> MethodResult<&mut mo::virtual_machine::VmMo> {
        match self.lookup_mut(r)? {
            Mo::VirtualMachine(v) => Ok(v),
            _ => Err(Fault::not_found(r)),
        }
    }

    /// The name of a managed entity.
    pub fn name_of(&self, r: &MoRef) -> Option<String> {
        Some(match self.get(r)? {
            Mo::Folder(f) => f.name.clone(),
            Mo::Datacenter(d) => d.name.clone(),
            Mo::ComputeResource(c) => c.name.clone(),
            Mo::ResourcePool(p) => p.name.clone(),
            Mo::HostSystem(h) => h.name.clone(),
            Mo::Datastore(d) => d.name.clone(),
            Mo::Network(n) => n.name.clone(),
            Mo::VirtualMachine(v) => v.name.clone(),
            Mo::Snapshot(s) => s.name.clone(),
            Mo::Dvs(d) => d.name.clone(),
            Mo::DvPortgroup(p) => p.name.clone(),
            _ => return None,
        })
    }

    /// The parent of a managed entity.
    pub fn parent_of(&self, r: &MoRef) -> Option<MoRef> {
        match self.get(r)? {
            Mo::Folder(f) => f.parent.clone(),
            Mo::Datacenter(d) => Some(d.parent.clone()),
            Mo::ComputeResource(c) => Some(c.parent.clone()),
            Mo::ResourcePool(p) => Some(p.parent.clone()),
            Mo::HostSystem(h) => Some(h.parent.clone()),
            Mo::Datastore(d) => Some(d.parent.clone()),
            Mo::Network(n) => Some(n.parent.clone()),
            Mo::VirtualMachine(v) => Some(v.parent.clone()),
            Mo::Dvs(d) => Some(d.parent.clone()),
            Mo::DvPortgroup(p) => Some(p.parent.clone()),
            _ => None,
        }
    }

    /// `r` and its ancestors, nearest first (bounded: a cycle or more than 256 levels ends it).
    pub fn lineage(&self, r: &MoRef) -> Vec<MoRef> {
        let mut v = vec![r.clone()];
        let mut cur = r.clone();
        while let Some(p) = self.parent_of(&cur) {
            if v.contains(&p) || v.len() > 256 {
                break;
            }
            v.push(p.clone());
            cur = p;
        }
        v
    }

    /// The child entities of a folder-like container (for views and inventory paths).
    pub fn children_of(&self, r: &MoRef) -> Vec<MoRef> {
        match self.get(r) {
            Some(Mo::Folder(f)) => f.children.clone(),
            Some(Mo::Datacenter(d)) => vec![
                d.vm_folder.clone(),
                d.host_folder.clone(),
                d.datastore_folder.clone(),
                d.network_folder.clone(),
            ],
            Some(Mo::ComputeResource(c)) => {
                let mut v = c.hosts.clone();
                v.push(c.resource_pool.clone());
                v
            }
            Some(Mo::ResourcePool(p)) => p.pools.clone(),
            _ => Vec::new(),
        }
    }

    /// The datastore directory for `ds`.
    pub fn datastore_dir(&self, ds: &MoRef) -> Option<PathBuf> {
        match self.get(ds)? {
            Mo::Datastore(d) => Some(d.dir.clone()),
            _ => None,
        }
    }

    /// Finds a datastore by name.
    pub fn datastore_by_name(&self, name: &str) -> Option<MoRef> {
        self.objects.iter().find_map(|(id, m)| match m {
            Mo::Datastore(d) if d.name == name => Some(moref("Datastore", id)),
            _ => None,
        })
    }

    /// Resolves `[ds] path/file` to an absolute path inside the data directory.
    pub fn resolve_ds_path(&self, ds_path: &str) -> MethodResult<(MoRef, PathBuf)> {
        let (ds_name, rel) =
            parse_ds_path(ds_path).ok_or_else(|| Fault::invalid_argument("name"))?;
        let ds = self
            .datastore_by_name(ds_name)
            .ok_or_else(|| Fault::file_not_found(ds_path))?;
        let dir = self
            .datastore_dir(&ds)
            .ok_or_else(|| Fault::file_not_found(ds_path))?;
        let path =
            crate::files::safe_join(&dir, rel).ok_or_else(|| Fault::invalid_argument("name"))?;
        Ok((ds, path))
    }
    /// Resolves a `[ds] path` named in a file or disk operation: `InvalidDatastorePath` for a
    /// malformed path, an unknown datastore or a path that would leave the datastore.
    pub fn resolve_file(&self, ds_path: &str) -> MethodResult<(MoRef, PathBuf)> {
        let bad = || Fault::invalid_datastore_path(ds_path);
        let (ds_name, rel) = parse_ds_path(ds_path).ok_or_else(bad)?;
        let ds = self.datastore_by_name(ds_name).ok_or_else(bad)?;
        let dir = self.datastore_dir(&ds).ok_or_else(bad)?;
        let path = crate::files::safe_join(&dir, rel).ok_or_else(bad)?;
        Ok((ds, path))
    }

    /// The file an absolute name reaches: `/vmfs/volumes/<ds>/<path>` or `[ds] path`.
    pub fn vmfs_path(&self, name: &str) -> Option<PathBuf> {
        let (ds, rel) = match parse_ds_path(name) {
            Some(x) => x,
            None => name.strip_prefix("/vmfs/volumes/")?.split_once('/')?,
        };
        let dir = self.datastore_dir(&self.datastore_by_name(ds)?)?;
        crate::files::safe_join(&dir, rel)
    }

    /// The `/vmfs/volumes/<ds>/<path>` name of a file inside a datastore's directory.
    pub fn vmfs_name(&self, p: &std::path::Path) -> Option<String> {
        self.objects.values().find_map(|m| match m {
            Mo::Datastore(d) => {
                let rel = p.strip_prefix(&d.dir).ok()?;
                Some(format!(
                    "/vmfs/volumes/{}/{}",
                    d.name,
                    rel.to_string_lossy()
                ))
            }
            _ => None,
        })
    }
}

impl State {
    /// Writes the files of the VMs in datastore `ds` not written yet (see [`crate::lazy`])
    /// whose directory is the first component of `rel` (every such VM when `rel` is empty).
    pub fn materialize(&mut self, ds: &MoRef, rel: &str) {
        let first = rel
            .trim_start_matches('/')
            .split('/')
            .next()
            .unwrap_or("")
            .to_owned();
        for m in self.objects.values_mut() {
            let Mo::VirtualMachine(vm) = m else { continue };
            if !vm.files_pending() || &vm.datastore != ds {
                continue;
            }
            if !first.is_empty() && vm.vmx_rel.split('/').next() != Some(first.as_str()) {
                continue;
            }
            if let Err(f) = vm.save() {
                tracing::warn!(vm = %vm.vmx_rel, error = %f.message, "cannot write the VM's files");
            }
        }
    }

    /// [`State::materialize`] for a `[ds] path` string (nothing for a malformed one).
    pub fn materialize_ds_path(&mut self, ds_path: &str) {
        let Some((ds_name, rel)) = parse_ds_path(ds_path) else {
            return;
        };
        if let Some(ds) = self.datastore_by_name(ds_name) {
            let rel = rel.to_owned();
            self.materialize(&ds, &rel);
        }
    }

    /// Drops a VM's entry from the generated-VM manifest (when it is destroyed or
    /// unregistered), rewriting the manifest.
    pub fn forget_generated(&mut self, ds_name: &str, rel: &str) {
        if self
            .generated
            .remove(&(ds_name.to_owned(), rel.to_owned()))
            .is_some()
        {
            if let Err(e) = crate::lazy::save(&self.data_dir, self.generated.values()) {
                tracing::warn!(error = %e, "cannot rewrite {}", crate::lazy::MANIFEST);
            }
        }
    }
}

/// Splits `[ds] some/path` into `("ds", "some/path")`.
pub fn parse_ds_path(p: &str) -> Option<(&str, &str)> {
    let rest = p.trim().strip_prefix('[')?;
    let (ds, path) = rest.split_once(']')?;
    Some((ds, path.trim_start()))
}

/// Whether an object of type `actual` answers to a reference typed `wanted`.
pub fn type_matches(actual: &str, wanted: &str) -> bool {
    actual == wanted
        || matches!(
            (actual, wanted),
            ("ClusterComputeResource", "ComputeResource")
                | ("VmwareDistributedVirtualSwitch", "DistributedVirtualSwitch")
        )
}

/// Whether `ty` is `base` or one of its subtypes (for property specs and traversal specs).
pub fn is_a(ty: &str, base: &str) -> bool {
    if ty == base {
        return true;
    }
    let parent = match ty {
        "ClusterComputeResource" => "ComputeResource",
        "VirtualApp" => "ResourcePool",
        "DistributedVirtualPortgroup" | "OpaqueNetwork" => "Network",
        "VmwareDistributedVirtualSwitch" => "DistributedVirtualSwitch",
        "Folder"
        | "Datacenter"
        | "ComputeResource"
        | "ResourcePool"
        | "HostSystem"
        | "Datastore"
        | "Network"
        | "VirtualMachine"
        | "DistributedVirtualSwitch" => "ManagedEntity",
        "ContainerView" | "ListView" | "InventoryView" => "ManagedObjectView",
        "EventHistoryCollector" | "TaskHistoryCollector" => "HistoryCollector",
        "ManagedObjectView" => "View",
        "ManagedEntity" | "Task" | "VirtualMachineSnapshot" => "ExtensibleManagedObject",
        _ => return false,
    };
    is_a(parent, base)
}

impl Mo {
    /// The managed object type name.
    pub fn type_name(&self) -> &'static str {
        match self {
            Mo::ServiceInstance => "ServiceInstance",
            Mo::SessionManager => "SessionManager",
            Mo::PropertyCollector(_) => "PropertyCollector",
            Mo::PropertyFilter(_) => "PropertyFilter",
            Mo::ViewManager => "ViewManager",
            Mo::View(v) => v.type_name(),
            Mo::SearchIndex => "SearchIndex",
            Mo::FileManager => "FileManager",
            Mo::VirtualDiskManager => "VirtualDiskManager",
            Mo::TaskManager => "TaskManager",
            Mo::EventManager => "EventManager",
            Mo::EventCollector(_) => "EventHistoryCollector",
            Mo::Task(_) => "Task",
            Mo::Folder(_) => "Folder",
            Mo::Datacenter(_) => "Datacenter",
            Mo::ComputeResource(c) => {
                if c.cluster {
                    "ClusterComputeResource"
                } else {
                    "ComputeResource"
                }
            }
            Mo::ResourcePool(_) => "ResourcePool",
            Mo::HostSystem(_) => "HostSystem",
            Mo::HostService(s) => s.type_name(),
            Mo::DatastoreBrowser(_) => "HostDatastoreBrowser",
            Mo::Datastore(_) => "Datastore",
            Mo::Network(_) => "Network",
            Mo::VirtualMachine(_) => "VirtualMachine",
            Mo::Snapshot(_) => "VirtualMachineSnapshot",
            Mo::Manager(ty) => ty,
            Mo::Dvs(_) => "VmwareDistributedVirtualSwitch",
            Mo::DvPortgroup(_) => "DistributedVirtualPortgroup",
        }
    }
}
