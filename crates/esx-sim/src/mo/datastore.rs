//! `Datastore`: a real directory under the data directory.

use std::path::PathBuf;

use esx_vim::{
    Any, ArrayOfDatastoreHostMount, DatastoreCapability, DatastoreHostMount, DatastoreSummary,
    HostMountInfo, LocalDatastoreInfo,
};

use crate::property::{entity_common, refs, Top};
use crate::state::{moref, Mo, MoRef, State};

/// The capacity every simulated datastore reports, in bytes.
pub const CAPACITY: i64 = 1024 * 1024 * 1024 * 1024;

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
}

impl DatastoreMo {
    fn url(&self) -> String {
        format!("ds:///vmfs/volumes/{}/", self.name)
    }

    fn used(&self) -> i64 {
        (crate::files::dir_size(&self.dir) as i64).min(CAPACITY)
    }

    /// Reads a top-level property.
    pub fn property(&self, state: &State, r: &MoRef, name: &str) -> Top {
        Some(match name {
            "info" => Some(Any::from(LocalDatastoreInfo {
                name: self.name.clone(),
                url: self.url(),
                free_space: CAPACITY - self.used(),
                max_file_size: CAPACITY,
                max_virtual_disk_capacity: Some(CAPACITY),
                path: Some(format!("/vmfs/volumes/{}", self.name)),
                ..Default::default()
            })),
            "summary" => Some(Any::from(DatastoreSummary {
                datastore: Some(r.clone()),
                name: self.name.clone(),
                url: self.url(),
                capacity: CAPACITY,
                free_space: CAPACITY - self.used(),
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
