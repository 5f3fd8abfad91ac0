//! Listing and looking up domains: every listing is one `RetrievePropertiesEx` over the
//! host's VMs (plus its pages), whatever the VM count (libvirt: 13 + 3×N requests).

use esx_vim::{Any, VirtualMachinePowerState as P};

use crate::error::{Error, ErrorCode, Result};
use crate::esx::{domain_of, IDENTITY};
use crate::flags::list_domains as F;
use crate::types::Domain;
use crate::vi::{self, filter, prop_spec, traverse, Props};
use crate::Connection;

impl Connection {
    /// Reads `paths` (plus the identity) of every VM on the host, in one property
    /// collector round (paged by the server).
    pub(crate) async fn host_vms(&self, paths: &[&str]) -> Result<Vec<Props>> {
        self.ensure_open()?;
        let ctx = self.primary();
        let mut all: Vec<&str> = IDENTITY.to_vec();
        all.extend(paths.iter().filter(|p| !IDENTITY.contains(p)));
        let spec = filter(
            &ctx.host_system,
            true,
            vec![traverse("HostSystem", "vm")],
            vec![prop_spec("VirtualMachine", &all)],
        );
        let vms = vi::retrieve(&ctx.client, spec).await?;
        // Keep the references of what we saw: later calls skip FindByUuid.
        let mut cache = self.inner.vm_cache[0].lock().expect("vm cache");
        if cache.len() < 100_000 {
            for p in &vms {
                if let Some(u) = p.str("config.uuid").and_then(|u| u.parse().ok()) {
                    cache.insert(u, p.obj().clone());
                }
            }
        }
        Ok(vms)
    }

    pub(crate) async fn list_all(&self, flags: u32) -> Result<Vec<Domain>> {
        // Transient and managed-save domains do not exist on ESX.
        if flags & F::TRANSIENT != 0 || flags & F::MANAGEDSAVE != 0 {
            return Ok(Vec::new());
        }
        let want_snapshot = flags & (F::HAS_SNAPSHOT | F::NO_SNAPSHOT) != 0;
        let want_autostart = flags & (F::AUTOSTART | F::NO_AUTOSTART) != 0;
        let mut paths: Vec<&str> = Vec::new();
        if want_snapshot {
            paths.push("snapshot.rootSnapshotList");
        }
        let vms = self.host_vms(&paths).await?;
        let autostart = if want_autostart {
            Some(self.autostart_vms().await?)
        } else {
            None
        };
        let mut out = Vec::with_capacity(vms.len());
        for p in &vms {
            let Some(dom) = domain_of(p) else {
                continue; // an inaccessible VM: skipped, as libvirt does
            };
            let state = match p.get("runtime.powerState") {
                Some(Any::VirtualMachinePowerState(s)) => s.clone(),
                _ => P::Other(String::new()),
            };
            let active = state != P::PoweredOff;
            if flags & (F::ACTIVE | F::INACTIVE) != 0
                && !((flags & F::ACTIVE != 0 && active) || (flags & F::INACTIVE != 0 && !active))
            {
                continue;
            }
            if flags & (F::RUNNING | F::PAUSED | F::SHUTOFF | F::OTHER) != 0 {
                let ok = match state {
                    P::PoweredOn => flags & F::RUNNING != 0,
                    P::Suspended => flags & F::PAUSED != 0,
                    P::PoweredOff => flags & F::SHUTOFF != 0,
                    _ => flags & F::OTHER != 0,
                };
                if !ok {
                    continue;
                }
            }
            if want_snapshot {
                let has = match p.get("snapshot.rootSnapshotList") {
                    Some(Any::ArrayOfVirtualMachineSnapshotTree(a)) => {
                        !a.virtual_machine_snapshot_tree.is_empty()
                    }
                    _ => false,
                };
                if !((flags & F::HAS_SNAPSHOT != 0 && has) || (flags & F::NO_SNAPSHOT != 0 && !has))
                {
                    continue;
                }
            }
            if let Some(auto) = &autostart {
                let on = auto.contains(&p.obj().value);
                if !((flags & F::AUTOSTART != 0 && on) || (flags & F::NO_AUTOSTART != 0 && !on)) {
                    continue;
                }
            }
            out.push(dom);
        }
        Ok(out)
    }

    pub(crate) async fn list_ids(&self) -> Result<Vec<i32>> {
        let doms = self.list_all(F::RUNNING).await?;
        Ok(doms.into_iter().map(|d| d.id).collect())
    }

    /// Names of the VMs that are not powered on (suspended ones count, as in libvirt).
    pub(crate) async fn list_defined_names(&self) -> Result<Vec<String>> {
        let doms = self.list_all(F::PAUSED | F::SHUTOFF | F::OTHER).await?;
        Ok(doms.into_iter().map(|d| d.name).collect())
    }

    pub(crate) async fn lookup_by_id(&self, id: i32) -> Result<Domain> {
        let not_found = || Error::new(ErrorCode::NoDomain, format!("No domain with ID {id}"));
        if id < 0 {
            return Err(not_found());
        }
        for p in self.host_vms(&[]).await? {
            if vi::vm_id(p.obj()) == Some(id) {
                if let Some(d) = domain_of(&p) {
                    if d.id == id {
                        return Ok(d);
                    }
                }
            }
        }
        Err(not_found())
    }

    pub(crate) async fn lookup_by_uuid(&self, uuid: &esx_domain::Uuid) -> Result<Domain> {
        let vm = self.vm_on(self.primary(), 0, uuid, &[]).await?;
        vm.domain().ok_or_else(|| crate::esx::no_domain_uuid(uuid))
    }

    pub(crate) async fn lookup_by_name(&self, name: &str) -> Result<Domain> {
        for p in self.host_vms(&[]).await? {
            if let Some(d) = domain_of(&p) {
                if d.name == name {
                    return Ok(d);
                }
            }
        }
        Err(Error::new(
            ErrorCode::NoDomain,
            format!("Could not find domain with name '{name}'"),
        ))
    }
}
