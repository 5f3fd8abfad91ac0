//! `ResourcePool`.

use esx_vim::{
    Any, ArrayOfResourceConfigSpec, ManagedEntityStatus, ResourceAllocationInfo,
    ResourceConfigSpec, ResourcePoolResourceUsage, ResourcePoolRuntimeInfo, ResourcePoolSummary,
    SharesInfo, SharesLevel,
};

use crate::property::{entity_common, refs, Top};
use crate::state::{Mo, MoRef, State};

/// A resource pool's model.
#[derive(Debug, Clone)]
pub struct ResourcePoolMo {
    /// Display name (`Resources` for a root pool).
    pub name: String,
    /// Parent (the compute resource for a root pool).
    pub parent: MoRef,
    /// The owning compute resource.
    pub owner: MoRef,
    /// Child pools.
    pub pools: Vec<MoRef>,
}

/// Default shares of a pool (`normal`): 4000 for CPU, 163840 for memory, as vSphere sets.
const CPU_SHARES: i32 = 4000;
const MEM_SHARES: i32 = 163_840;

impl ResourcePoolMo {
    /// Whether this is the root pool of its compute resource.
    fn is_root(&self) -> bool {
        self.parent == self.owner
    }

    /// The owner's capacity: (CPU MHz, memory bytes) of its hosts.
    fn capacity(&self, state: &State) -> (i64, i64) {
        let hosts = match state.objects.get(&self.owner.value) {
            Some(Mo::ComputeResource(c)) => c.hosts.len() as i64,
            _ => 0,
        };
        (hosts * 8 * 2400, hosts * super::host_system::HOST_MEMORY)
    }

    /// `config`: a root pool reserves its owner's whole capacity; a child pool reserves
    /// nothing, borrows from its parent (expandable) and has no limit. The simulator keeps no
    /// per-pool allocation, so these are the values vSphere gives a new pool.
    pub fn config(&self, state: &State, r: &MoRef) -> ResourceConfigSpec {
        let (cpu, mem) = self.capacity(state);
        let root = self.is_root();
        let alloc = |total: i64, shares: i32| ResourceAllocationInfo {
            reservation: Some(if root { total } else { 0 }),
            expandable_reservation: Some(!root),
            limit: Some(if root { total } else { -1 }),
            shares: Some(SharesInfo {
                shares,
                level: SharesLevel::Normal,
            }),
            overhead_limit: None,
        };
        ResourceConfigSpec {
            entity: Some(r.clone()),
            change_version: None,
            last_modified: None,
            cpu_allocation: alloc(cpu, CPU_SHARES),
            memory_allocation: alloc(mem >> 20, MEM_SHARES),
            scale_descendants_shares: None,
        }
    }

    /// `runtime`: usage is that of the powered-on VMs of the pool (their configured CPUs at
    /// full speed and their memory), against the owner's capacity.
    pub fn runtime(&self, state: &State, r: &MoRef) -> ResourcePoolRuntimeInfo {
        let (cpu, mem) = self.capacity(state);
        let (mut cpu_used, mut mem_used) = (0i64, 0i64);
        for m in state.objects.values() {
            if let Mo::VirtualMachine(vm) = m {
                let on = vm.runtime.power_state == esx_vim::VirtualMachinePowerState::PoweredOn;
                if &vm.resource_pool == r && on {
                    cpu_used += vm.config.hardware.num_cpu as i64 * 100;
                    mem_used += vm.config.hardware.memory_mb as i64 * 1024 * 1024;
                }
            }
        }
        let usage = |total: i64, used: i64| ResourcePoolResourceUsage {
            reservation_used: 0,
            reservation_used_for_vm: 0,
            unreserved_for_pool: total,
            unreserved_for_vm: total,
            overall_usage: used,
            max_usage: total,
        };
        ResourcePoolRuntimeInfo {
            memory: usage(mem, mem_used),
            cpu: usage(cpu, cpu_used),
            overall_status: ManagedEntityStatus::Green,
            shares_scalable: None,
        }
    }

    /// Reads a top-level property.
    pub fn property(&self, state: &State, r: &MoRef, name: &str) -> Top {
        Some(match name {
            "owner" => Some(Any::from(self.owner.clone())),
            "resourcePool" => Some(refs(self.pools.clone())),
            "vm" => {
                let mut v: Vec<MoRef> = state
                    .objects
                    .iter()
                    .filter_map(|(id, m)| match m {
                        Mo::VirtualMachine(vm) if &vm.resource_pool == r => {
                            Some(crate::state::moref("VirtualMachine", id))
                        }
                        _ => None,
                    })
                    .collect();
                v.sort();
                Some(refs(v))
            }
            "config" => Some(Any::from(self.config(state, r))),
            "runtime" => Some(Any::from(self.runtime(state, r))),
            "summary" => Some(Any::from(ResourcePoolSummary {
                name: self.name.clone(),
                config: self.config(state, r),
                runtime: self.runtime(state, r),
                ..Default::default()
            })),
            "childConfiguration" => Some(Any::from(ArrayOfResourceConfigSpec {
                resource_config_spec: self
                    .pools
                    .iter()
                    .filter_map(|p| match state.objects.get(&p.value) {
                        Some(Mo::ResourcePool(c)) => Some(c.config(state, p)),
                        _ => None,
                    })
                    .collect(),
            })),
            "namespace" => None,
            _ => return entity_common(state, r, name),
        })
    }
}
