//! `ComputeResource` and `ClusterComputeResource`.

use esx_vim::{Any, ComputeResourceSummary, ManagedEntityStatus};

use crate::property::{entity_common, refs, Top};
use crate::state::{Mo, MoRef, State};

/// A compute resource's (or cluster's) model.
#[derive(Debug, Clone)]
pub struct ComputeResourceMo {
    /// Display name.
    pub name: String,
    /// Parent folder.
    pub parent: MoRef,
    /// Whether this is a `ClusterComputeResource`.
    pub cluster: bool,
    /// Member hosts.
    pub hosts: Vec<MoRef>,
    /// Root resource pool.
    pub resource_pool: MoRef,
}

impl ComputeResourceMo {
    fn union(
        &self,
        state: &State,
        f: impl Fn(&super::host_system::HostMo) -> Vec<MoRef>,
    ) -> Vec<MoRef> {
        let mut out: Vec<MoRef> = Vec::new();
        for h in &self.hosts {
            if let Some(Mo::HostSystem(host)) = state.get(h) {
                for r in f(host) {
                    if !out.contains(&r) {
                        out.push(r);
                    }
                }
            }
        }
        out
    }

    /// Reads a top-level property.
    pub fn property(&self, state: &State, r: &MoRef, name: &str) -> Top {
        if self.cluster {
            if let Some(v) = super::cluster::property(state, self, r, name) {
                return Some(v);
            }
        }
        Some(match name {
            "host" => Some(refs(self.hosts.clone())),
            "resourcePool" => Some(Any::from(self.resource_pool.clone())),
            "datastore" => Some(refs(self.union(state, |h| h.datastores.clone()))),
            "network" => Some(refs(self.union(state, |h| h.networks.clone()))),
            "summary" => {
                let n = self.hosts.len() as i32;
                Some(Any::from(ComputeResourceSummary {
                    total_cpu: 8 * 2400 * n,
                    total_memory: 32 * 1024 * 1024 * 1024 * n as i64,
                    num_cpu_cores: (8 * n) as i16,
                    num_cpu_threads: (16 * n) as i16,
                    effective_cpu: 8 * 2400 * n,
                    effective_memory: 32 * 1024 * n as i64,
                    num_hosts: n,
                    num_effective_hosts: n,
                    overall_status: ManagedEntityStatus::Green,
                }))
            }
            "environmentBrowser" => Some(crate::mo::environment_browser::of(r)),
            "configurationEx" | "lifecycleManaged" => None,
            _ => return entity_common(state, r, name),
        })
    }
}
