//! Migration, libvirt's protocol v1 through vCenter (`vpxmigr://vcenter/pool/host`).

use esx_vim::{methods, BaseEvent, ManagedObjectReference as MoRef, VirtualMachineMovePriority};

use crate::error::{Error, Result};
use crate::esx::lifecycle::check_flags;
use crate::flags::migrate as M;
use crate::types::Domain;
use crate::Connection;

const ALLOWED: u32 = M::PERSIST_DEST | M::UNDEFINE_SOURCE | M::LIVE | M::PAUSED;

/// The message of a migration validation event.
fn event_message(e: &BaseEvent) -> String {
    let msg = match e {
        BaseEvent::MigrationErrorEvent(x) => x.full_formatted_message.clone(),
        BaseEvent::MigrationHostErrorEvent(x) => x.full_formatted_message.clone(),
        BaseEvent::MigrationResourceErrorEvent(x) => x.full_formatted_message.clone(),
        BaseEvent::MigrationWarningEvent(x) => x.full_formatted_message.clone(),
        BaseEvent::MigrationHostWarningEvent(x) => x.full_formatted_message.clone(),
        BaseEvent::MigrationResourceWarningEvent(x) => x.full_formatted_message.clone(),
        BaseEvent::MigrationEvent(x) => x.full_formatted_message.clone(),
        _ => None,
    };
    msg.unwrap_or_else(|| e.type_name().to_string())
}

impl Connection {
    pub(crate) async fn migrate_prepare(&self, uri_in: Option<&str>, flags: u32) -> Result<String> {
        check_flags(flags, ALLOWED, "esxDomainMigratePrepare")?;
        self.ensure_open()?;
        if let Some(u) = uri_in {
            return Ok(u.to_string());
        }
        let vc = self
            .inner
            .vcenter
            .as_ref()
            .ok_or_else(|| Error::invalid_arg("Migration not possible without a vCenter"))?;
        Ok(format!(
            "vpxmigr://{}/{}/{}",
            vc.ip, vc.resource_pool.value, vc.host_system.value
        ))
    }

    pub(crate) async fn migrate_perform(
        &self,
        dom: &Domain,
        uri: &str,
        flags: u32,
        dname: Option<&str>,
    ) -> Result<()> {
        check_flags(flags, ALLOWED, "esxDomainMigratePerform")?;
        self.check_writable("virDomainMigratePerform")?;
        let (vc, which) = match (&self.inner.vcenter, &self.inner.host) {
            (Some(v), Some(_)) => (v, 1),
            (Some(v), None) => (v, 0),
            _ => {
                return Err(Error::invalid_arg(
                    "Migration not possible without a vCenter",
                ))
            }
        };
        if dname.is_some() {
            return Err(Error::invalid_arg(
                "Renaming domains on migration not supported",
            ));
        }
        let rest = uri
            .strip_prefix("vpxmigr://")
            .ok_or_else(|| Error::invalid_arg("Only vpxmigr:// migration URIs are supported"))?;
        let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
        if host != vc.ip {
            return Err(Error::invalid_arg(
                "Migration source and destination have to refer to the same vCenter",
            ));
        }
        let items: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let [pool, target] = items[..] else {
            return Err(Error::invalid_arg(
                "Migration URI has to specify resource pool and host system",
            ));
        };
        let pool = MoRef::new("ResourcePool", pool);
        let target = MoRef::new("HostSystem", target);
        let vm = self.vm_for_task(vc, which, dom, &[]).await?;
        let si = MoRef::new("ServiceInstance", "ServiceInstance");
        let events = methods::validate_migration(
            &*vc.client,
            &si,
            vec![vm.moref.clone()],
            None,
            Vec::new(),
            Some(pool.clone()),
            Some(target.clone()),
        )
        .await?;
        if let Some(first) = events.first() {
            return Err(Error::internal(format!(
                "Could not migrate domain, validation reported a problem: {}",
                event_message(first)
            )));
        }
        let call = methods::migrate_vm_task(
            &*vc.client,
            &vm.moref,
            Some(pool),
            Some(target),
            VirtualMachineMovePriority::DefaultPriority,
            None,
        );
        self.vm_task(vc, &vm, "MigrateVM_Task", "migrate domain", call)
            .await?;
        Ok(())
    }

    pub(crate) async fn migrate_finish(&self, dname: &str, flags: u32) -> Result<Domain> {
        check_flags(flags, ALLOWED, "esxDomainMigrateFinish")?;
        self.lookup_by_name(dname).await
    }
}
