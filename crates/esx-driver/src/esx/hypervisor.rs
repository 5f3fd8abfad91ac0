//! The hypervisor table: every callback delegates to the module of its area.

use async_trait::async_trait;
use esx_domain::Uuid;

use crate::error::{Error, Result};
use crate::esx::lifecycle::check_flags;
use crate::traits::HypervisorDriver;
use crate::types::*;
use crate::Connection;

#[async_trait]
impl HypervisorDriver for Connection {
    async fn connect_close(&self) -> Result<()> {
        self.close_all().await
    }
    async fn connect_supports_feature(&self, feature: DriverFeature) -> Result<bool> {
        self.supports_feature(feature).await
    }
    async fn connect_get_type(&self) -> Result<String> {
        self.ensure_open()?;
        Ok("ESX".to_string())
    }
    async fn connect_get_version(&self) -> Result<u64> {
        self.ensure_open()?;
        Ok(self.primary().product_version)
    }
    async fn connect_get_hostname(&self) -> Result<String> {
        self.hostname().await
    }
    async fn node_get_info(&self) -> Result<NodeInfo> {
        self.node_info().await
    }
    async fn connect_get_capabilities(&self) -> Result<String> {
        self.ensure_open()?;
        Ok(self.capabilities_xml())
    }
    async fn node_get_free_memory(&self) -> Result<u64> {
        self.free_memory().await
    }
    async fn connect_is_encrypted(&self) -> Result<bool> {
        self.ensure_open()?;
        Ok(self.inner.uri.params.transport() == esx_uri::Transport::Https)
    }
    async fn connect_is_secure(&self) -> Result<bool> {
        self.connect_is_encrypted().await
    }
    async fn connect_is_alive(&self) -> Result<bool> {
        Ok(self.ensure_open().is_ok())
    }
    async fn connect_domain_xml_from_native(&self, format: &str, config: &str) -> Result<String> {
        self.xml_from_native(format, config.as_bytes()).await
    }
    async fn connect_domain_xml_to_native(&self, format: &str, xml: &str) -> Result<String> {
        self.xml_to_native(format, xml, None).await
    }

    async fn connect_list_domains(&self) -> Result<Vec<i32>> {
        self.list_ids().await
    }
    async fn connect_num_of_domains(&self) -> Result<usize> {
        Ok(self.list_ids().await?.len())
    }
    async fn connect_list_all_domains(&self, flags: u32) -> Result<Vec<Domain>> {
        check_flags(flags, 0xffff, "esxConnectListAllDomains")?;
        self.list_all(flags).await
    }
    async fn connect_list_defined_domains(&self) -> Result<Vec<String>> {
        self.list_defined_names().await
    }
    async fn connect_num_of_defined_domains(&self) -> Result<usize> {
        Ok(self.list_defined_names().await?.len())
    }
    async fn domain_lookup_by_id(&self, id: i32) -> Result<Domain> {
        self.lookup_by_id(id).await
    }
    async fn domain_lookup_by_uuid(&self, uuid: &Uuid) -> Result<Domain> {
        self.lookup_by_uuid(uuid).await
    }
    async fn domain_lookup_by_name(&self, name: &str) -> Result<Domain> {
        self.lookup_by_name(name).await
    }

    async fn domain_create_with_flags(&self, dom: &Domain, flags: u32) -> Result<()> {
        self.create(dom, flags).await
    }
    async fn domain_suspend(&self, dom: &Domain) -> Result<()> {
        self.suspend(dom).await
    }
    async fn domain_resume(&self, dom: &Domain) -> Result<()> {
        self.resume(dom).await
    }
    async fn domain_shutdown_flags(&self, dom: &Domain, flags: u32) -> Result<()> {
        self.shutdown(dom, flags).await
    }
    async fn domain_reboot(&self, dom: &Domain, flags: u32) -> Result<()> {
        self.reboot(dom, flags).await
    }
    async fn domain_destroy_flags(&self, dom: &Domain, flags: u32) -> Result<()> {
        self.destroy(dom, flags).await
    }
    async fn domain_define_xml_flags(&self, xml: &str, flags: u32) -> Result<Domain> {
        self.define_xml(xml, flags).await
    }
    async fn domain_undefine_flags(&self, dom: &Domain, flags: u32) -> Result<()> {
        self.undefine(dom, flags).await
    }

    async fn domain_get_os_type(&self, dom: &Domain) -> Result<String> {
        self.vm(dom, &[]).await?;
        Ok("hvm".to_string())
    }
    async fn domain_get_info(&self, dom: &Domain) -> Result<DomainInfo> {
        let vm = self
            .vm(
                dom,
                &[
                    "config.hardware.memoryMB",
                    "config.hardware.numCPU",
                    "config.memoryAllocation.limit",
                ],
            )
            .await?;
        let max_mem = vm.props.int("config.hardware.memoryMB").unwrap_or(0).max(0) as u64 * 1024;
        let limit = vm.props.int("config.memoryAllocation.limit").unwrap_or(-1);
        let memory = match limit {
            l if l > 0 => l as u64 * 1024,
            0 => 0,
            _ => max_mem,
        };
        Ok(DomainInfo {
            state: DomainState::from_power_state(&vm.power_state()),
            max_mem,
            memory,
            nr_virt_cpu: vm.props.int("config.hardware.numCPU").unwrap_or(0).max(0) as u32,
            cpu_time: 0,
        })
    }
    async fn domain_get_state(&self, dom: &Domain, flags: u32) -> Result<(DomainState, i32)> {
        check_flags(flags, 0, "esxDomainGetState")?;
        let vm = self.vm(dom, &[]).await?;
        Ok((DomainState::from_power_state(&vm.power_state()), 0))
    }
    async fn domain_is_active(&self, dom: &Domain) -> Result<bool> {
        let vm = self.vm(dom, &[]).await?;
        Ok(vm.power_state() != esx_vim::VirtualMachinePowerState::PoweredOff)
    }
    async fn domain_is_persistent(&self, dom: &Domain) -> Result<bool> {
        self.vm(dom, &[]).await?;
        Ok(true)
    }
    async fn domain_is_updated(&self, dom: &Domain) -> Result<bool> {
        self.vm(dom, &[]).await?;
        Ok(false)
    }
    async fn domain_has_managed_save_image(&self, dom: &Domain, flags: u32) -> Result<bool> {
        check_flags(flags, 0, "esxDomainHasManagedSaveImage")?;
        self.vm(dom, &[]).await?;
        Ok(false)
    }
    async fn domain_get_hostname(&self, dom: &Domain, flags: u32) -> Result<String> {
        self.guest_hostname(dom, flags).await
    }
    async fn domain_interface_addresses(
        &self,
        dom: &Domain,
        source: u32,
        flags: u32,
    ) -> Result<Vec<DomainInterface>> {
        self.interface_addresses(dom, source, flags).await
    }
    async fn domain_screenshot(
        &self,
        dom: &Domain,
        screen: u32,
        flags: u32,
    ) -> Result<(String, Vec<u8>)> {
        self.screenshot(dom, screen, flags).await
    }
    async fn domain_get_xml_desc(&self, dom: &Domain, flags: u32) -> Result<String> {
        self.xml_desc(dom, flags).await
    }

    async fn domain_get_max_memory(&self, dom: &Domain) -> Result<u64> {
        self.max_memory(dom).await
    }
    async fn domain_set_max_memory(&self, dom: &Domain, memory_kib: u64) -> Result<()> {
        self.set_max_memory(dom, memory_kib).await
    }
    async fn domain_set_memory_flags(
        &self,
        dom: &Domain,
        memory_kib: u64,
        flags: u32,
    ) -> Result<()> {
        self.set_memory(dom, memory_kib, flags).await
    }
    async fn domain_set_memory_parameters(
        &self,
        dom: &Domain,
        params: &[TypedParam],
        flags: u32,
    ) -> Result<()> {
        self.set_memory_parameters(dom, params, flags).await
    }
    async fn domain_get_memory_parameters(
        &self,
        dom: &Domain,
        flags: u32,
    ) -> Result<Vec<TypedParam>> {
        self.memory_parameters(dom, flags).await
    }
    async fn domain_set_vcpus_flags(&self, dom: &Domain, nvcpus: u32, flags: u32) -> Result<()> {
        self.set_vcpus(dom, nvcpus, flags).await
    }
    async fn domain_get_vcpus_flags(&self, dom: &Domain, flags: u32) -> Result<u32> {
        self.vcpus_flags(dom, flags).await
    }
    async fn domain_get_max_vcpus(&self, dom: &Domain) -> Result<u32> {
        self.vcpus_flags(
            dom,
            crate::flags::affect::LIVE | crate::flags::affect::VCPU_MAXIMUM,
        )
        .await
    }
    async fn domain_get_autostart(&self, dom: &Domain) -> Result<bool> {
        self.autostart(dom).await
    }
    async fn domain_set_autostart(&self, dom: &Domain, autostart: bool) -> Result<()> {
        self.set_autostart(dom, autostart).await
    }

    async fn domain_get_scheduler_type(&self, dom: &Domain) -> Result<(String, usize)> {
        self.vm(dom, &[]).await?;
        Ok(("allocation".to_string(), 3))
    }
    async fn domain_get_scheduler_parameters_flags(
        &self,
        dom: &Domain,
        flags: u32,
    ) -> Result<Vec<TypedParam>> {
        self.scheduler_parameters(dom, flags).await
    }
    async fn domain_set_scheduler_parameters_flags(
        &self,
        dom: &Domain,
        params: &[TypedParam],
        flags: u32,
    ) -> Result<()> {
        self.set_scheduler_parameters(dom, params, flags).await
    }

    async fn domain_migrate_prepare(
        &self,
        uri_in: Option<&str>,
        flags: u32,
        _dname: Option<&str>,
        _bandwidth: u64,
    ) -> Result<String> {
        self.migrate_prepare(uri_in, flags).await
    }
    async fn domain_migrate_perform(
        &self,
        dom: &Domain,
        uri: &str,
        flags: u32,
        dname: Option<&str>,
        _bandwidth: u64,
    ) -> Result<()> {
        self.migrate_perform(dom, uri, flags, dname).await
    }
    async fn domain_migrate_finish(&self, dname: &str, _uri: &str, flags: u32) -> Result<Domain> {
        self.migrate_finish(dname, flags).await
    }

    async fn domain_snapshot_create_xml(
        &self,
        dom: &Domain,
        xml: &str,
        flags: u32,
    ) -> Result<DomainSnapshot> {
        self.snapshot_create(dom, xml, flags).await
    }
    async fn domain_snapshot_get_xml_desc(
        &self,
        snap: &DomainSnapshot,
        flags: u32,
    ) -> Result<String> {
        self.snapshot_xml(snap, flags).await
    }
    async fn domain_snapshot_num(&self, dom: &Domain, flags: u32) -> Result<usize> {
        Ok(self.snapshot_names(dom, flags).await?.len())
    }
    async fn domain_snapshot_list_names(&self, dom: &Domain, flags: u32) -> Result<Vec<String>> {
        self.snapshot_names(dom, flags).await
    }
    async fn domain_snapshot_num_children(
        &self,
        snap: &DomainSnapshot,
        flags: u32,
    ) -> Result<usize> {
        Ok(self.snapshot_children(snap, flags).await?.len())
    }
    async fn domain_snapshot_list_children_names(
        &self,
        snap: &DomainSnapshot,
        flags: u32,
    ) -> Result<Vec<String>> {
        self.snapshot_children(snap, flags).await
    }
    async fn domain_snapshot_lookup_by_name(
        &self,
        dom: &Domain,
        name: &str,
        flags: u32,
    ) -> Result<DomainSnapshot> {
        self.snapshot_lookup(dom, name, flags).await
    }
    async fn domain_has_current_snapshot(&self, dom: &Domain, flags: u32) -> Result<bool> {
        self.has_current_snapshot(dom, flags).await
    }
    async fn domain_snapshot_get_parent(
        &self,
        snap: &DomainSnapshot,
        flags: u32,
    ) -> Result<DomainSnapshot> {
        self.snapshot_parent(snap, flags).await
    }
    async fn domain_snapshot_current(&self, dom: &Domain, flags: u32) -> Result<DomainSnapshot> {
        self.snapshot_current(dom, flags).await
    }
    async fn domain_revert_to_snapshot(&self, snap: &DomainSnapshot, flags: u32) -> Result<()> {
        self.snapshot_revert(snap, flags).await
    }
    async fn domain_snapshot_is_current(&self, snap: &DomainSnapshot, flags: u32) -> Result<bool> {
        self.snapshot_is_current(snap, flags).await
    }
    async fn domain_snapshot_has_metadata(
        &self,
        snap: &DomainSnapshot,
        flags: u32,
    ) -> Result<bool> {
        self.snapshot_has_metadata(snap, flags).await
    }
    async fn domain_snapshot_delete(&self, snap: &DomainSnapshot, flags: u32) -> Result<()> {
        self.snapshot_delete(snap, flags).await
    }
}

#[allow(dead_code)]
fn _assert_send_sync() {
    fn is<T: Send + Sync + Clone>() {}
    is::<Connection>();
    let _ = Error::internal("");
}
