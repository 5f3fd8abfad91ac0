//! libvirt's four driver tables for ESX as async traits, one method per callback, so another
//! backend could implement them. [`crate::Connection`] implements all four for ESX, GSX and
//! vCenter. Flag arguments take libvirt's values ([`crate::flags`]); callbacks libvirt gives a
//! `Flags` twin (`domain_create` / `domain_create_with_flags`) have both.

use async_trait::async_trait;

use crate::error::Result;
use crate::types::*;

/// libvirt's `virHypervisorDriver` for ESX (80 callbacks).
#[async_trait]
pub trait HypervisorDriver: Send + Sync {
    // --- connection and host ---

    /// `connectClose`: logs out of the host and the vCenter.
    async fn connect_close(&self) -> Result<()>;
    /// `connectSupportsFeature`.
    async fn connect_supports_feature(&self, feature: DriverFeature) -> Result<bool>;
    /// `connectGetType`: `"ESX"`.
    async fn connect_get_type(&self) -> Result<String>;
    /// `connectGetVersion`: the product version as major×1,000,000 + minor×1,000 + micro.
    async fn connect_get_version(&self) -> Result<u64>;
    /// `connectGetHostname`: `hostName.domainName` of the host.
    async fn connect_get_hostname(&self) -> Result<String>;
    /// `nodeGetInfo`.
    async fn node_get_info(&self) -> Result<NodeInfo>;
    /// `connectGetCapabilities`: the capabilities XML.
    async fn connect_get_capabilities(&self) -> Result<String>;
    /// `nodeGetFreeMemory`: free host memory in bytes.
    async fn node_get_free_memory(&self) -> Result<u64>;
    /// `connectIsEncrypted`: true over https.
    async fn connect_is_encrypted(&self) -> Result<bool>;
    /// `connectIsSecure`: true over https.
    async fn connect_is_secure(&self) -> Result<bool>;
    /// `connectIsAlive`.
    async fn connect_is_alive(&self) -> Result<bool>;
    /// `connectDomainXMLFromNative`: VMX text (format `vmware-vmx`) to domain XML.
    async fn connect_domain_xml_from_native(&self, format: &str, config: &str) -> Result<String>;
    /// `connectDomainXMLToNative`: domain XML to VMX text (format `vmware-vmx`).
    async fn connect_domain_xml_to_native(&self, format: &str, xml: &str) -> Result<String>;

    // --- listing and lookup ---

    /// `connectListDomains`: ids of the running domains.
    async fn connect_list_domains(&self) -> Result<Vec<i32>>;
    /// `connectNumOfDomains`.
    async fn connect_num_of_domains(&self) -> Result<usize>;
    /// `connectListAllDomains` with `flags::list_domains` filters.
    async fn connect_list_all_domains(&self, flags: u32) -> Result<Vec<Domain>>;
    /// `connectListDefinedDomains`: names of the domains that are not running (suspended
    /// ones included, as in libvirt).
    async fn connect_list_defined_domains(&self) -> Result<Vec<String>>;
    /// `connectNumOfDefinedDomains`.
    async fn connect_num_of_defined_domains(&self) -> Result<usize>;
    /// `domainLookupByID`.
    async fn domain_lookup_by_id(&self, id: i32) -> Result<Domain>;
    /// `domainLookupByUUID`.
    async fn domain_lookup_by_uuid(&self, uuid: &esx_domain::Uuid) -> Result<Domain>;
    /// `domainLookupByName`.
    async fn domain_lookup_by_name(&self, name: &str) -> Result<Domain>;

    // --- lifecycle ---

    /// `domainCreate`: power on.
    async fn domain_create(&self, dom: &Domain) -> Result<()> {
        self.domain_create_with_flags(dom, 0).await
    }
    /// `domainCreateWithFlags` (no flags are supported).
    async fn domain_create_with_flags(&self, dom: &Domain, flags: u32) -> Result<()>;
    /// `domainSuspend`.
    async fn domain_suspend(&self, dom: &Domain) -> Result<()>;
    /// `domainResume`.
    async fn domain_resume(&self, dom: &Domain) -> Result<()>;
    /// `domainShutdown`: asks the guest (VMware Tools) to shut down.
    async fn domain_shutdown(&self, dom: &Domain) -> Result<()> {
        self.domain_shutdown_flags(dom, 0).await
    }
    /// `domainShutdownFlags`.
    async fn domain_shutdown_flags(&self, dom: &Domain, flags: u32) -> Result<()>;
    /// `domainReboot`: asks the guest to reboot.
    async fn domain_reboot(&self, dom: &Domain, flags: u32) -> Result<()>;
    /// `domainDestroy`: power off.
    async fn domain_destroy(&self, dom: &Domain) -> Result<()> {
        self.domain_destroy_flags(dom, 0).await
    }
    /// `domainDestroyFlags`.
    async fn domain_destroy_flags(&self, dom: &Domain, flags: u32) -> Result<()>;
    /// `domainDefineXML`.
    async fn domain_define_xml(&self, xml: &str) -> Result<Domain> {
        self.domain_define_xml_flags(xml, 0).await
    }
    /// `domainDefineXMLFlags`.
    async fn domain_define_xml_flags(&self, xml: &str, flags: u32) -> Result<Domain>;
    /// `domainUndefine`.
    async fn domain_undefine(&self, dom: &Domain) -> Result<()> {
        self.domain_undefine_flags(dom, 0).await
    }
    /// `domainUndefineFlags`.
    async fn domain_undefine_flags(&self, dom: &Domain, flags: u32) -> Result<()>;

    // --- state, info, misc ---

    /// `domainGetOSType`: `"hvm"`.
    async fn domain_get_os_type(&self, dom: &Domain) -> Result<String>;
    /// `domainGetInfo`.
    async fn domain_get_info(&self, dom: &Domain) -> Result<DomainInfo>;
    /// `domainGetState`: the state and its reason (always 0).
    async fn domain_get_state(&self, dom: &Domain, flags: u32) -> Result<(DomainState, i32)>;
    /// `domainIsActive`.
    async fn domain_is_active(&self, dom: &Domain) -> Result<bool>;
    /// `domainIsPersistent`: always true.
    async fn domain_is_persistent(&self, dom: &Domain) -> Result<bool>;
    /// `domainIsUpdated`: always false.
    async fn domain_is_updated(&self, dom: &Domain) -> Result<bool>;
    /// `domainHasManagedSaveImage`: always false.
    async fn domain_has_managed_save_image(&self, dom: &Domain, flags: u32) -> Result<bool>;
    /// `domainGetHostname`: the guest's host name from VMware Tools.
    async fn domain_get_hostname(&self, dom: &Domain, flags: u32) -> Result<String>;
    /// `domainInterfaceAddresses` (source must be the agent).
    async fn domain_interface_addresses(
        &self,
        dom: &Domain,
        source: u32,
        flags: u32,
    ) -> Result<Vec<DomainInterface>>;
    /// `domainScreenshot`: the console as PNG (`image/png`, the bytes).
    async fn domain_screenshot(
        &self,
        dom: &Domain,
        screen: u32,
        flags: u32,
    ) -> Result<(String, Vec<u8>)>;
    /// `domainGetXMLDesc`.
    async fn domain_get_xml_desc(&self, dom: &Domain, flags: u32) -> Result<String>;

    // --- configuration and resources ---

    /// `domainGetMaxMemory` in KiB.
    async fn domain_get_max_memory(&self, dom: &Domain) -> Result<u64>;
    /// `domainSetMaxMemory` in KiB (powered off only; rounded up to 4 MiB).
    async fn domain_set_max_memory(&self, dom: &Domain, memory_kib: u64) -> Result<()>;
    /// `domainSetMemory` in KiB (the memory limit).
    async fn domain_set_memory(&self, dom: &Domain, memory_kib: u64) -> Result<()> {
        self.domain_set_memory_flags(dom, memory_kib, 0).await
    }
    /// `domainSetMemoryFlags`.
    async fn domain_set_memory_flags(
        &self,
        dom: &Domain,
        memory_kib: u64,
        flags: u32,
    ) -> Result<()>;
    /// `domainSetMemoryParameters` (`min_guarantee` only).
    async fn domain_set_memory_parameters(
        &self,
        dom: &Domain,
        params: &[TypedParam],
        flags: u32,
    ) -> Result<()>;
    /// `domainGetMemoryParameters` (`min_guarantee`).
    async fn domain_get_memory_parameters(
        &self,
        dom: &Domain,
        flags: u32,
    ) -> Result<Vec<TypedParam>>;
    /// `domainSetVcpus`.
    async fn domain_set_vcpus(&self, dom: &Domain, nvcpus: u32) -> Result<()> {
        self.domain_set_vcpus_flags(dom, nvcpus, crate::flags::affect::LIVE)
            .await
    }
    /// `domainSetVcpusFlags` (only `AFFECT_LIVE`).
    async fn domain_set_vcpus_flags(&self, dom: &Domain, nvcpus: u32, flags: u32) -> Result<()>;
    /// `domainGetVcpusFlags`: the host's maximum (libvirt's ESX behaviour).
    async fn domain_get_vcpus_flags(&self, dom: &Domain, flags: u32) -> Result<u32>;
    /// `domainGetMaxVcpus`: the host's maximum.
    async fn domain_get_max_vcpus(&self, dom: &Domain) -> Result<u32>;
    /// `domainGetAutostart`.
    async fn domain_get_autostart(&self, dom: &Domain) -> Result<bool>;
    /// `domainSetAutostart`.
    async fn domain_set_autostart(&self, dom: &Domain, autostart: bool) -> Result<()>;

    // --- scheduler ---

    /// `domainGetSchedulerType`: `("allocation", 3)`.
    async fn domain_get_scheduler_type(&self, dom: &Domain) -> Result<(String, usize)>;
    /// `domainGetSchedulerParameters`.
    async fn domain_get_scheduler_parameters(&self, dom: &Domain) -> Result<Vec<TypedParam>> {
        self.domain_get_scheduler_parameters_flags(dom, 0).await
    }
    /// `domainGetSchedulerParametersFlags`.
    async fn domain_get_scheduler_parameters_flags(
        &self,
        dom: &Domain,
        flags: u32,
    ) -> Result<Vec<TypedParam>>;
    /// `domainSetSchedulerParameters`.
    async fn domain_set_scheduler_parameters(
        &self,
        dom: &Domain,
        params: &[TypedParam],
    ) -> Result<()> {
        self.domain_set_scheduler_parameters_flags(dom, params, 0)
            .await
    }
    /// `domainSetSchedulerParametersFlags`.
    async fn domain_set_scheduler_parameters_flags(
        &self,
        dom: &Domain,
        params: &[TypedParam],
        flags: u32,
    ) -> Result<()>;

    // --- migration (v1, through vCenter) ---

    /// `domainMigratePrepare` (on the destination): the URI to migrate to.
    async fn domain_migrate_prepare(
        &self,
        uri_in: Option<&str>,
        flags: u32,
        dname: Option<&str>,
        bandwidth: u64,
    ) -> Result<String>;
    /// `domainMigratePerform` (on the source).
    async fn domain_migrate_perform(
        &self,
        dom: &Domain,
        uri: &str,
        flags: u32,
        dname: Option<&str>,
        bandwidth: u64,
    ) -> Result<()>;
    /// `domainMigrateFinish` (on the destination): the migrated domain.
    async fn domain_migrate_finish(&self, dname: &str, uri: &str, flags: u32) -> Result<Domain>;

    // --- snapshots ---

    /// `domainSnapshotCreateXML`.
    async fn domain_snapshot_create_xml(
        &self,
        dom: &Domain,
        xml: &str,
        flags: u32,
    ) -> Result<DomainSnapshot>;
    /// `domainSnapshotGetXMLDesc`.
    async fn domain_snapshot_get_xml_desc(
        &self,
        snap: &DomainSnapshot,
        flags: u32,
    ) -> Result<String>;
    /// `domainSnapshotNum`.
    async fn domain_snapshot_num(&self, dom: &Domain, flags: u32) -> Result<usize>;
    /// `domainSnapshotListNames`.
    async fn domain_snapshot_list_names(&self, dom: &Domain, flags: u32) -> Result<Vec<String>>;
    /// `domainSnapshotNumChildren`.
    async fn domain_snapshot_num_children(
        &self,
        snap: &DomainSnapshot,
        flags: u32,
    ) -> Result<usize>;
    /// `domainSnapshotListChildrenNames`.
    async fn domain_snapshot_list_children_names(
        &self,
        snap: &DomainSnapshot,
        flags: u32,
    ) -> Result<Vec<String>>;
    /// `domainSnapshotLookupByName`.
    async fn domain_snapshot_lookup_by_name(
        &self,
        dom: &Domain,
        name: &str,
        flags: u32,
    ) -> Result<DomainSnapshot>;
    /// `domainHasCurrentSnapshot`.
    async fn domain_has_current_snapshot(&self, dom: &Domain, flags: u32) -> Result<bool>;
    /// `domainSnapshotGetParent`.
    async fn domain_snapshot_get_parent(
        &self,
        snap: &DomainSnapshot,
        flags: u32,
    ) -> Result<DomainSnapshot>;
    /// `domainSnapshotCurrent`.
    async fn domain_snapshot_current(&self, dom: &Domain, flags: u32) -> Result<DomainSnapshot>;
    /// `domainRevertToSnapshot`.
    async fn domain_revert_to_snapshot(&self, snap: &DomainSnapshot, flags: u32) -> Result<()>;
    /// `domainSnapshotIsCurrent`.
    async fn domain_snapshot_is_current(&self, snap: &DomainSnapshot, flags: u32) -> Result<bool>;
    /// `domainSnapshotHasMetadata`: always false (ESX keeps the tree).
    async fn domain_snapshot_has_metadata(&self, snap: &DomainSnapshot, flags: u32)
        -> Result<bool>;
    /// `domainSnapshotDelete`.
    async fn domain_snapshot_delete(&self, snap: &DomainSnapshot, flags: u32) -> Result<()>;
}

/// libvirt's `virStorageDriver` for ESX (26 callbacks over the VMFS and iSCSI backends).
#[async_trait]
pub trait StorageDriver: Send + Sync {
    /// `connectNumOfStoragePools`.
    async fn connect_num_of_storage_pools(&self) -> Result<usize>;
    /// `connectListStoragePools`.
    async fn connect_list_storage_pools(&self) -> Result<Vec<String>>;
    /// `connectNumOfDefinedStoragePools`: 0 (pools are always active).
    async fn connect_num_of_defined_storage_pools(&self) -> Result<usize>;
    /// `connectListDefinedStoragePools`: empty.
    async fn connect_list_defined_storage_pools(&self) -> Result<Vec<String>>;
    /// `storagePoolLookupByName`.
    async fn storage_pool_lookup_by_name(&self, name: &str) -> Result<StoragePool>;
    /// `storagePoolLookupByUUID`.
    async fn storage_pool_lookup_by_uuid(&self, uuid: &esx_domain::Uuid) -> Result<StoragePool>;
    /// `storagePoolLookupByVolume`.
    async fn storage_pool_lookup_by_volume(&self, vol: &StorageVolume) -> Result<StoragePool>;
    /// `storagePoolRefresh`.
    async fn storage_pool_refresh(&self, pool: &StoragePool, flags: u32) -> Result<()>;
    /// `storagePoolGetInfo`.
    async fn storage_pool_get_info(&self, pool: &StoragePool) -> Result<StoragePoolInfo>;
    /// `storagePoolGetXMLDesc`.
    async fn storage_pool_get_xml_desc(&self, pool: &StoragePool, flags: u32) -> Result<String>;
    /// `storagePoolGetAutostart`: always true.
    async fn storage_pool_get_autostart(&self, pool: &StoragePool) -> Result<bool>;
    /// `storagePoolSetAutostart`: only `true` is accepted.
    async fn storage_pool_set_autostart(&self, pool: &StoragePool, autostart: bool) -> Result<()>;
    /// `storagePoolNumOfVolumes`.
    async fn storage_pool_num_of_volumes(&self, pool: &StoragePool) -> Result<usize>;
    /// `storagePoolListVolumes`.
    async fn storage_pool_list_volumes(&self, pool: &StoragePool) -> Result<Vec<String>>;
    /// `storageVolLookupByName`.
    async fn storage_vol_lookup_by_name(
        &self,
        pool: &StoragePool,
        name: &str,
    ) -> Result<StorageVolume>;
    /// `storageVolLookupByKey`.
    async fn storage_vol_lookup_by_key(&self, key: &str) -> Result<StorageVolume>;
    /// `storageVolLookupByPath`.
    async fn storage_vol_lookup_by_path(&self, path: &str) -> Result<StorageVolume>;
    /// `storageVolCreateXML`.
    async fn storage_vol_create_xml(
        &self,
        pool: &StoragePool,
        xml: &str,
        flags: u32,
    ) -> Result<StorageVolume>;
    /// `storageVolCreateXMLFrom`.
    async fn storage_vol_create_xml_from(
        &self,
        pool: &StoragePool,
        xml: &str,
        source: &StorageVolume,
        flags: u32,
    ) -> Result<StorageVolume>;
    /// `storageVolDelete`.
    async fn storage_vol_delete(&self, vol: &StorageVolume, flags: u32) -> Result<()>;
    /// `storageVolWipe`.
    async fn storage_vol_wipe(&self, vol: &StorageVolume, flags: u32) -> Result<()>;
    /// `storageVolGetInfo`.
    async fn storage_vol_get_info(&self, vol: &StorageVolume) -> Result<StorageVolumeInfo>;
    /// `storageVolGetXMLDesc`.
    async fn storage_vol_get_xml_desc(&self, vol: &StorageVolume, flags: u32) -> Result<String>;
    /// `storageVolGetPath`.
    async fn storage_vol_get_path(&self, vol: &StorageVolume) -> Result<String>;
    /// `storagePoolIsActive`: always true.
    async fn storage_pool_is_active(&self, pool: &StoragePool) -> Result<bool>;
    /// `storagePoolIsPersistent`: always true.
    async fn storage_pool_is_persistent(&self, pool: &StoragePool) -> Result<bool>;
}

/// libvirt's `virNetworkDriver` for ESX (15 callbacks; networks are virtual switches).
#[async_trait]
pub trait NetworkDriver: Send + Sync {
    /// `connectNumOfNetworks`.
    async fn connect_num_of_networks(&self) -> Result<usize>;
    /// `connectListNetworks`.
    async fn connect_list_networks(&self) -> Result<Vec<String>>;
    /// `connectNumOfDefinedNetworks`: 0.
    async fn connect_num_of_defined_networks(&self) -> Result<usize>;
    /// `connectListDefinedNetworks`: empty.
    async fn connect_list_defined_networks(&self) -> Result<Vec<String>>;
    /// `networkLookupByUUID`.
    async fn network_lookup_by_uuid(&self, uuid: &esx_domain::Uuid) -> Result<Network>;
    /// `networkLookupByName`.
    async fn network_lookup_by_name(&self, name: &str) -> Result<Network>;
    /// `networkDefineXML`.
    async fn network_define_xml(&self, xml: &str) -> Result<Network> {
        self.network_define_xml_flags(xml, 0).await
    }
    /// `networkDefineXMLFlags`.
    async fn network_define_xml_flags(&self, xml: &str, flags: u32) -> Result<Network>;
    /// `networkUndefine`.
    async fn network_undefine(&self, net: &Network) -> Result<()>;
    /// `networkGetXMLDesc`.
    async fn network_get_xml_desc(&self, net: &Network, flags: u32) -> Result<String>;
    /// `networkGetAutostart`: always true.
    async fn network_get_autostart(&self, net: &Network) -> Result<bool>;
    /// `networkSetAutostart`: only `true` is accepted.
    async fn network_set_autostart(&self, net: &Network, autostart: bool) -> Result<()>;
    /// `networkIsActive`: always true.
    async fn network_is_active(&self, net: &Network) -> Result<bool>;
    /// `networkIsPersistent`: always true.
    async fn network_is_persistent(&self, net: &Network) -> Result<bool>;
    /// `connectListAllNetworks` with `flags::list_networks` filters.
    async fn connect_list_all_networks(&self, flags: u32) -> Result<Vec<Network>>;
}

/// libvirt's `virInterfaceDriver` for ESX (8 callbacks; interfaces are physical NICs).
#[async_trait]
pub trait InterfaceDriver: Send + Sync {
    /// `connectNumOfInterfaces`.
    async fn connect_num_of_interfaces(&self) -> Result<usize>;
    /// `connectListInterfaces`.
    async fn connect_list_interfaces(&self) -> Result<Vec<String>>;
    /// `connectNumOfDefinedInterfaces`: 0.
    async fn connect_num_of_defined_interfaces(&self) -> Result<usize>;
    /// `connectListDefinedInterfaces`: empty.
    async fn connect_list_defined_interfaces(&self) -> Result<Vec<String>>;
    /// `interfaceLookupByName` (by device name; libvirt 11.3 wrongly looks up by MAC).
    async fn interface_lookup_by_name(&self, name: &str) -> Result<Interface>;
    /// `interfaceLookupByMACString`.
    async fn interface_lookup_by_mac_string(&self, mac: &str) -> Result<Interface>;
    /// `interfaceGetXMLDesc`.
    async fn interface_get_xml_desc(&self, iface: &Interface, flags: u32) -> Result<String>;
    /// `interfaceIsActive`: always true.
    async fn interface_is_active(&self, iface: &Interface) -> Result<bool>;
}
