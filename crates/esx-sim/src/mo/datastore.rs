//! `Datastore`: a real directory under the data directory, with a capacity.
//!
//! Used space is what the files under the directory occupy on disk (allocated blocks, so the
//! holes of sparse files are free), plus what uploads under way have announced. A datastore's
//! capacity is `Config::datastore_capacity` (1 TiB unless set, `--datastore-capacity GIB`);
//! [`set_free`] (the `full-datastore:NAME=MIB` fault-injection rule, or
//! `Handle::set_datastore_free`) sets it so that a given amount is free now. What would not
//! fit fails: an upload with HTTP 507, disk and VM operations with `NoDiskSpace`
//! ([`check_space`]).

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use esx_vim::{
    Any, ArrayOfDatastoreHostMount, DatastoreCapability, DatastoreHostMount, DatastoreSummary,
    HostMountInfo, LocalDatastoreInfo,
};

use crate::property::{entity_common, refs, Top};
use crate::state::{moref, Mo, MoRef, State};

/// The default capacity of a datastore, in bytes (1 TiB).
pub const CAPACITY: u64 = 1024 * 1024 * 1024 * 1024;

/// A datastore's model.
#[derive(Debug, Clone)]
pub struct DatastoreMo {
    /// Name (`datastore1`).
    pub name: String,
    /// Parent folder.
    pub parent: MoRef,
    /// The directory holding its files.
    pub dir: PathBuf,
    /// Hosts that mount it.
    pub hosts: Vec<MoRef>,
    /// The browser's id.
    pub browser: String,
    /// Capacity in bytes.
    pub capacity: u64,
    /// Bytes announced by uploads under way (see [`Reservation`]).
    pub reserved: Arc<AtomicU64>,
}

/// Space held for an upload under way (its announced length), given back when dropped.
#[derive(Debug)]
pub struct Reservation {
    bytes: u64,
    counter: Arc<AtomicU64>,
}

impl Reservation {
    /// Holds `bytes` on `counter`.
    pub fn new(counter: Arc<AtomicU64>, bytes: u64) -> Reservation {
        counter.fetch_add(bytes, Ordering::Relaxed);
        Reservation { bytes, counter }
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.counter.fetch_sub(self.bytes, Ordering::Relaxed);
    }
}

/// Bytes free with `capacity`, files under `dir` and `reserved` bytes held.
pub fn free_in(dir: &std::path::Path, capacity: u64, reserved: &AtomicU64) -> u64 {
    capacity
        .saturating_sub(crate::files::allocated_size(dir))
        .saturating_sub(reserved.load(Ordering::Relaxed))
}

/// Fails with `NoDiskSpace` (naming `file`) when `needed` bytes do not fit on datastore `ds`,
/// `reclaimed` bytes (of files the operation replaces) counted as free.
pub fn check_space(
    state: &State,
    ds: &MoRef,
    needed: u64,
    reclaimed: u64,
    file: &str,
) -> crate::fault::MethodResult<()> {
    let Some(Mo::Datastore(d)) = state.get(ds) else {
        return Ok(());
    };
    let free = d.free().saturating_add(reclaimed);
    if needed > free {
        return Err(crate::fault::Fault::no_disk_space(
            file, &d.name, needed, free,
        ));
    }
    Ok(())
}

/// Sets the capacity of datastore `name` so that `free` bytes are free now; `false` when
/// there is no such datastore.
pub fn set_free(state: &mut State, name: &str, free: u64) -> bool {
    let Some(r) = state.datastore_by_name(name) else {
        return false;
    };
    match state.objects.get_mut(&r.value) {
        Some(Mo::Datastore(d)) => {
            d.capacity = d.used().saturating_add(free);
            true
        }
        _ => false,
    }
}

impl DatastoreMo {
    fn url(&self) -> String {
        format!("ds:///vmfs/volumes/{}/", self.name)
    }

    /// Bytes used: the files' allocated blocks and the uploads under way.
    pub fn used(&self) -> u64 {
        crate::files::allocated_size(&self.dir)
            .saturating_add(self.reserved.load(Ordering::Relaxed))
    }

    /// Bytes free.
    pub fn free(&self) -> u64 {
        self.capacity.saturating_sub(self.used())
    }

    /// Reads a top-level property.
    pub fn property(&self, state: &State, r: &MoRef, name: &str) -> Top {
        let capacity = i64::try_from(self.capacity).unwrap_or(i64::MAX);
        Some(match name {
            "info" => Some(Any::from(LocalDatastoreInfo {
                name: self.name.clone(),
                url: self.url(),
                free_space: i64::try_from(self.free()).unwrap_or(i64::MAX),
                max_file_size: capacity,
                max_virtual_disk_capacity: Some(capacity),
                path: Some(format!("/vmfs/volumes/{}", self.name)),
                ..Default::default()
            })),
            "summary" => Some(Any::from(DatastoreSummary {
                datastore: Some(r.clone()),
                name: self.name.clone(),
                url: self.url(),
                capacity,
                free_space: i64::try_from(self.free()).unwrap_or(i64::MAX),
                uncommitted: Some(0),
                accessible: true,
                multiple_host_access: Some(self.hosts.len() > 1),
                r#type: "VMFS".into(),
                maintenance_mode: Some("normal".into()),
            })),
            "host" => Some(Any::from(ArrayOfDatastoreHostMount {
                datastore_host_mount: self
                    .hosts
                    .iter()
                    .map(|h| DatastoreHostMount {
                        key: h.clone(),
                        mount_info: HostMountInfo {
                            path: Some(format!("/vmfs/volumes/{}", self.name)),
                            access_mode: "readWrite".into(),
                            mounted: Some(true),
                            accessible: Some(true),
                            ..Default::default()
                        },
                    })
                    .collect(),
            })),
            "vm" => {
                let mut v: Vec<MoRef> = state
                    .objects
                    .iter()
                    .filter_map(|(id, m)| match m {
                        Mo::VirtualMachine(vm) if &vm.datastore == r => {
                            Some(moref("VirtualMachine", id))
                        }
                        _ => None,
                    })
                    .collect();
                v.sort();
                Some(refs(v))
            }
            "browser" => Some(Any::from(moref("HostDatastoreBrowser", &self.browser))),
            "capability" => Some(Any::from(DatastoreCapability {
                directory_hierarchy_supported: true,
                raw_disk_mappings_supported: false,
                per_file_thin_provisioning_supported: true,
                top_level_directory_create_supported: Some(true),
                ..Default::default()
            })),
            "iormConfiguration" => None,
            _ => return entity_common(state, r, name),
        })
    }
}
