//! Power operations, undefine, and the state checks libvirt makes before them.

use esx_vim::{methods, VirtualMachinePowerState as P};

use crate::error::{Error, Result};
use crate::types::Domain;
use crate::Connection;

/// libvirt's `virCheckFlags`: only bits in `allowed` may be set.
pub(crate) fn check_flags(flags: u32, allowed: u32, function: &str) -> Result<()> {
    let extra = flags & !allowed;
    if extra != 0 {
        return Err(Error::invalid_arg(format!(
            "unsupported flags (0x{extra:x}) in function {function}"
        )));
    }
    Ok(())
}

impl Connection {
    pub(crate) async fn create(&self, dom: &Domain, flags: u32) -> Result<()> {
        check_flags(flags, 0, "esxDomainCreateWithFlags")?;
        self.check_writable("virDomainCreateWithFlags")?;
        let ctx = self.primary();
        let vm = self.vm_for_task(ctx, 0, dom, &[]).await?;
        if vm.power_state() != P::PoweredOff {
            return Err(Error::invalid_op("Domain is not powered off"));
        }
        let call = methods::power_on_vm_task(&*ctx.client, &vm.moref, None);
        self.vm_task(ctx, &vm, "PowerOnVM_Task", "start domain", call)
            .await?;
        Ok(())
    }

    pub(crate) async fn suspend(&self, dom: &Domain) -> Result<()> {
        self.check_writable("virDomainSuspend")?;
        let ctx = self.primary();
        let vm = self.vm_for_task(ctx, 0, dom, &[]).await?;
        if vm.power_state() != P::PoweredOn {
            return Err(Error::invalid_op("Domain is not powered on"));
        }
        let call = methods::suspend_vm_task(&*ctx.client, &vm.moref);
        self.vm_task(ctx, &vm, "SuspendVM_Task", "suspend domain", call)
            .await?;
        Ok(())
    }

    pub(crate) async fn resume(&self, dom: &Domain) -> Result<()> {
        self.check_writable("virDomainResume")?;
        let ctx = self.primary();
        let vm = self.vm_for_task(ctx, 0, dom, &[]).await?;
        if vm.power_state() != P::Suspended {
            return Err(Error::invalid_op("Domain is not suspended"));
        }
        let call = methods::power_on_vm_task(&*ctx.client, &vm.moref, None);
        self.vm_task(ctx, &vm, "PowerOnVM_Task", "resume domain", call)
            .await?;
        Ok(())
    }

    pub(crate) async fn shutdown(&self, dom: &Domain, flags: u32) -> Result<()> {
        check_flags(flags, 0, "esxDomainShutdownFlags")?;
        self.check_writable("virDomainShutdownFlags")?;
        let ctx = self.primary();
        let vm = self.vm(dom, &[]).await?;
        if vm.power_state() != P::PoweredOn {
            return Err(Error::invalid_op("Domain is not powered on"));
        }
        methods::shutdown_guest(&*ctx.client, &vm.moref).await?;
        Ok(())
    }

    pub(crate) async fn reboot(&self, dom: &Domain, flags: u32) -> Result<()> {
        check_flags(flags, 0, "esxDomainReboot")?;
        self.check_writable("virDomainReboot")?;
        let ctx = self.primary();
        let vm = self.vm(dom, &[]).await?;
        if vm.power_state() != P::PoweredOn {
            return Err(Error::invalid_op("Domain is not powered on"));
        }
        methods::reboot_guest(&*ctx.client, &vm.moref).await?;
        Ok(())
    }

    pub(crate) async fn destroy(&self, dom: &Domain, flags: u32) -> Result<()> {
        check_flags(flags, 0, "esxDomainDestroyFlags")?;
        self.check_writable("virDomainDestroyFlags")?;
        let (ctx, which) = self.vcenter_or_primary();
        let vm = self.vm_for_task(ctx, which, dom, &[]).await?;
        if vm.power_state() != P::PoweredOn {
            return Err(Error::invalid_op("Domain is not powered on"));
        }
        let call = methods::power_off_vm_task(&*ctx.client, &vm.moref);
        self.vm_task(ctx, &vm, "PowerOffVM_Task", "destroy domain", call)
            .await?;
        Ok(())
    }

    pub(crate) async fn undefine(&self, dom: &Domain, flags: u32) -> Result<()> {
        check_flags(
            flags,
            crate::flags::undefine::SNAPSHOTS_METADATA,
            "esxDomainUndefineFlags",
        )?;
        self.check_writable("virDomainUndefineFlags")?;
        let (ctx, which) = self.vcenter_or_primary();
        let vm = self.vm_on(ctx, which, &dom.uuid, &[]).await?;
        let state = vm.power_state();
        if state != P::Suspended && state != P::PoweredOff {
            return Err(Error::invalid_op(
                "Domain is not suspended and not powered off",
            ));
        }
        methods::unregister_vm(&*ctx.client, &vm.moref).await?;
        self.inner.vm_cache[which]
            .lock()
            .expect("vm cache")
            .remove(&dom.uuid);
        Ok(())
    }

    /// Deletes a domain and all its files (`Destroy_Task`: unregister and remove the VM's
    /// directory); the VM must be powered off. Beyond libvirt (virsh does `undefine
    /// --remove-all-storage` one volume at a time).
    pub async fn domain_delete(&self, dom: &Domain) -> Result<()> {
        self.check_writable("virDomainUndefineFlags")?;
        let (ctx, which) = self.vcenter_or_primary();
        let vm = self.vm_for_task(ctx, which, dom, &[]).await?;
        if vm.power_state() != P::PoweredOff {
            return Err(Error::invalid_op("Domain is not powered off"));
        }
        let call = methods::destroy_task(&*ctx.client, &vm.moref);
        self.vm_task(ctx, &vm, "Destroy_Task", "delete domain", call)
            .await?;
        self.inner.vm_cache[which]
            .lock()
            .expect("vm cache")
            .remove(&dom.uuid);
        Ok(())
    }

    /// Hard reset of a running domain (`ResetVM_Task`; libvirt's ESX driver has no reset).
    pub async fn domain_reset(&self, dom: &Domain) -> Result<()> {
        self.check_writable("virDomainReset")?;
        let ctx = self.primary();
        let vm = self.vm_for_task(ctx, 0, dom, &[]).await?;
        if vm.power_state() != P::PoweredOn {
            return Err(Error::invalid_op("Domain is not powered on"));
        }
        let call = methods::reset_vm_task(&*ctx.client, &vm.moref);
        self.vm_task(ctx, &vm, "ResetVM_Task", "reset domain", call)
            .await?;
        Ok(())
    }
}
