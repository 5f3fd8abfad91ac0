//! The service content's managers beyond the inventory core (`PerformanceManager`,
//! `AuthorizationManager`, `OptionManager`, …): which exist in each flavor, under which id, and
//! the routing of their properties and methods to their modules under `mo/`.
//!
//! Each such object is a [`Mo::Manager`] carrying its WSDL type name; the state a manager keeps
//! lives in [`Managers`] (a field per module). A manager module provides any of
//! `property(state, ctx, r, name) -> Top`, `handle(state, ctx, req)` (methods that change the
//! state, under the write lock) and `handle_read(state, ctx, req)` (methods that only read),
//! and is listed in the three routing functions below. Properties a module does not answer but
//! the WSDL declares read as unset (see [`crate::property::read`]).

use esx_vim::{Request, Response, ServiceContent};

use crate::config::Flavor;
use crate::fault::MethodResult;
use crate::property::Top;
use crate::state::{moref, Ctx, Mo, MoRef, State};

/// One manager of the service content.
#[derive(Debug, Clone, Copy)]
pub struct ManagerDef {
    /// The WSDL managed object type.
    pub ty: &'static str,
    /// Its `ServiceContent` field (WSDL name).
    pub field: &'static str,
    /// Its id on ESXi 7.0.3, if ESXi has it.
    pub esx: Option<&'static str>,
    /// Its id on vCenter 7.0.3, if vCenter has it.
    pub vcenter: Option<&'static str>,
}

const fn def(
    ty: &'static str,
    field: &'static str,
    esx: Option<&'static str>,
    vcenter: Option<&'static str>,
) -> ManagerDef {
    ManagerDef {
        ty,
        field,
        esx,
        vcenter,
    }
}

/// Every manager of API 7.0.3's `ServiceContent` not modelled as its own [`Mo`] variant, with the
/// ids real servers use (the core ones, e.g. the property collector, are in
/// [`crate::mo::service_instance::ids`]).
pub const MANAGERS: &[ManagerDef] = &[
    def(
        "OptionManager",
        "setting",
        Some("HostAgentSettings"),
        Some("VpxSettings"),
    ),
    def(
        "UserDirectory",
        "userDirectory",
        Some("ha-user-directory"),
        Some("UserDirectory"),
    ),
    def(
        "AuthorizationManager",
        "authorizationManager",
        Some("ha-authmgr"),
        Some("AuthorizationManager"),
    ),
    def(
        "ServiceManager",
        "serviceManager",
        Some("ha-servicemanager"),
        Some("ServiceMgr"),
    ),
    def(
        "PerformanceManager",
        "perfManager",
        Some("ha-perfmgr"),
        Some("PerfMgr"),
    ),
    def(
        "ScheduledTaskManager",
        "scheduledTaskManager",
        None,
        Some("ScheduledTaskManager"),
    ),
    def(
        "AlarmManager",
        "alarmManager",
        Some("ha-alarm-manager"),
        Some("AlarmManager"),
    ),
    def(
        "ExtensionManager",
        "extensionManager",
        Some("ha-extensionmanager"),
        Some("ExtensionManager"),
    ),
    def(
        "CustomizationSpecManager",
        "customizationSpecManager",
        None,
        Some("CustomizationSpecManager"),
    ),
    def(
        "VirtualMachineGuestCustomizationManager",
        "guestCustomizationManager",
        None,
        Some("GuestCustomizationManager"),
    ),
    def(
        "CustomFieldsManager",
        "customFieldsManager",
        Some("ha-customfieldsmgr"),
        Some("CustomFieldsManager"),
    ),
    def(
        "HostLocalAccountManager",
        "accountManager",
        Some("ha-localacctmgr"),
        None,
    ),
    def(
        "DiagnosticManager",
        "diagnosticManager",
        Some("ha-diagnosticmgr"),
        Some("DiagMgr"),
    ),
    def(
        "LicenseManager",
        "licenseManager",
        Some("ha-license-manager"),
        Some("LicenseManager"),
    ),
    def(
        "DatastoreNamespaceManager",
        "datastoreNamespaceManager",
        Some("ha-datastore-namespace-manager"),
        Some("DatastoreNamespaceManager"),
    ),
    def("HostSnmpSystem", "snmpSystem", None, Some("SnmpSystem")),
    def(
        "VirtualMachineProvisioningChecker",
        "vmProvisioningChecker",
        None,
        Some("ProvChecker"),
    ),
    def(
        "VirtualMachineCompatibilityChecker",
        "vmCompatibilityChecker",
        None,
        Some("CompatChecker"),
    ),
    def(
        "OvfManager",
        "ovfManager",
        Some("ha-ovf-manager"),
        Some("OvfManager"),
    ),
    def(
        "IpPoolManager",
        "ipPoolManager",
        None,
        Some("IpPoolManager"),
    ),
    def(
        "DistributedVirtualSwitchManager",
        "dvSwitchManager",
        Some("ha-dvsmanager"),
        Some("DVSManager"),
    ),
    def(
        "HostProfileManager",
        "hostProfileManager",
        None,
        Some("HostProfileManager"),
    ),
    def(
        "ClusterProfileManager",
        "clusterProfileManager",
        None,
        Some("ClusterProfileManager"),
    ),
    def(
        "ProfileComplianceManager",
        "complianceManager",
        None,
        Some("MoComplianceManager"),
    ),
    def(
        "LocalizationManager",
        "localizationManager",
        Some("ha-l10n-manager"),
        Some("LocalizationManager"),
    ),
    def(
        "StorageResourceManager",
        "storageResourceManager",
        Some("ha-storage-resource-manager"),
        Some("StorageResourceManager"),
    ),
    def(
        "GuestOperationsManager",
        "guestOperationsManager",
        Some("ha-guest-operations-manager"),
        Some("guestOperationsManager"),
    ),
    def(
        "OverheadMemoryManager",
        "overheadMemoryManager",
        None,
        Some("OverheadMemoryManager"),
    ),
    def(
        "CertificateManager",
        "certificateManager",
        None,
        Some("certificateManager"),
    ),
    def(
        "IoFilterManager",
        "ioFilterManager",
        None,
        Some("IoFilterManager"),
    ),
    def(
        "VcenterVStorageObjectManager",
        "vStorageObjectManager",
        None,
        Some("VStorageObjectManager"),
    ),
    def(
        "HostSpecificationManager",
        "hostSpecManager",
        None,
        Some("HostSpecificationManager"),
    ),
    def(
        "CryptoManagerKmip",
        "cryptoManager",
        None,
        Some("CryptoManager"),
    ),
    def(
        "HealthUpdateManager",
        "healthUpdateManager",
        None,
        Some("HealthUpdateManager"),
    ),
    def(
        "FailoverClusterConfigurator",
        "failoverClusterConfigurator",
        None,
        Some("FailoverClusterConfigurator"),
    ),
    def(
        "FailoverClusterManager",
        "failoverClusterManager",
        None,
        Some("FailoverClusterManager"),
    ),
    def(
        "TenantTenantManager",
        "tenantManager",
        None,
        Some("TenantManager"),
    ),
    def(
        "SiteInfoManager",
        "siteInfoManager",
        None,
        Some("SiteInfoManager"),
    ),
    def(
        "StorageQueryManager",
        "storageQueryManager",
        None,
        Some("StorageQueryManager"),
    ),
];

/// The managers of `flavor` as (definition, id).
pub fn of_flavor(flavor: Flavor) -> impl Iterator<Item = (&'static ManagerDef, &'static str)> {
    MANAGERS.iter().filter_map(move |d| {
        let id = match flavor {
            Flavor::Esx => d.esx,
            Flavor::Vcenter => d.vcenter,
        }?;
        Some((d, id))
    })
}

/// The reference of the manager of type `ty` in `state`'s flavor, if it has one.
pub fn find(state: &State, ty: &str) -> Option<MoRef> {
    of_flavor(state.flavor())
        .find(|(d, _)| d.ty == ty)
        .map(|(d, id)| moref(d.ty, id))
}

/// Per-manager state (a field per manager module that keeps any).
#[derive(Debug, Default)]
pub struct Managers {
    /// Alarms, their acknowledgements and disabled actions (see [`crate::mo::alarm_manager`]).
    pub alarms: crate::mo::alarm_manager::Alarms,
    /// Option values changed with `UpdateOptions` (see [`crate::mo::option_manager`]).
    pub options: crate::mo::option_manager::Options,
    /// Task history collectors (see [`crate::mo::task`]).
    pub tasks: crate::mo::task::Collectors,
    /// Licences added and assigned (see [`crate::mo::license_manager`]).
    pub licenses: crate::mo::license_manager::Licenses,
    /// Registered extensions (see [`crate::mo::extension_manager`]).
    pub extensions: crate::mo::extension_manager::Extensions,
    /// Custom field definitions and values (see [`crate::mo::custom_fields_manager`]).
    pub fields: crate::mo::custom_fields_manager::Fields,
    /// Customization specifications (see [`crate::mo::customization_spec_manager`]).
    pub specs: crate::mo::customization_spec_manager::Specs,
    /// Cluster configurations (see [`crate::mo::cluster`]).
    pub clusters: crate::mo::cluster::Clusters,
    /// `HttpNfcLease`s of imports and exports (see [`crate::mo::http_nfc_lease`]).
    pub nfc: crate::mo::http_nfc_lease::Leases,
    /// Each VM's guest model and pending guest file transfers (see
    /// [`crate::mo::guest_operations`]).
    pub guest: crate::mo::guest_operations::Guests,
    /// The vSphere Automation REST API's sessions, tags and content libraries (see
    /// [`crate::rest`]).
    pub rest: crate::rest::Rest,
    /// Roles and permissions (see [`crate::mo::authorization_manager`]).
    pub auth: crate::mo::authorization_manager::Authorization,
    /// Hosts' clocks and date/time settings (see [`crate::mo::host_date_time_system`]).
    pub date_times: crate::mo::host_date_time_system::DateTimes,
    /// Hosts' services (see [`crate::mo::host_service_system`]).
    pub host_services: crate::mo::host_service_system::Services,
    /// The user agents of the sessions (see [`crate::mo::session_manager`]).
    pub session_agents: crate::mo::session_manager::Agents,
}

/// Creates every manager of the flavor (at start-up).
pub fn insert_all(state: &mut State) {
    for (d, id) in of_flavor(state.flavor()) {
        state.insert(id, Mo::Manager(d.ty));
    }
    crate::mo::license_manager::insert(state);
    crate::mo::alarm_manager::insert(state);
    crate::mo::guest_operations::insert(state);
}

/// Sets the service content's fields of the flavor's managers.
pub fn fill_content(flavor: Flavor, c: &mut ServiceContent) {
    for (d, id) in of_flavor(flavor) {
        let r = Some(moref(d.ty, id));
        let slot = match d.field {
            "setting" => &mut c.setting,
            "userDirectory" => &mut c.user_directory,
            "authorizationManager" => &mut c.authorization_manager,
            "serviceManager" => &mut c.service_manager,
            "perfManager" => &mut c.perf_manager,
            "scheduledTaskManager" => &mut c.scheduled_task_manager,
            "alarmManager" => &mut c.alarm_manager,
            "extensionManager" => &mut c.extension_manager,
            "customizationSpecManager" => &mut c.customization_spec_manager,
            "guestCustomizationManager" => &mut c.guest_customization_manager,
            "customFieldsManager" => &mut c.custom_fields_manager,
            "accountManager" => &mut c.account_manager,
            "diagnosticManager" => &mut c.diagnostic_manager,
            "licenseManager" => &mut c.license_manager,
            "datastoreNamespaceManager" => &mut c.datastore_namespace_manager,
            "snmpSystem" => &mut c.snmp_system,
            "vmProvisioningChecker" => &mut c.vm_provisioning_checker,
            "vmCompatibilityChecker" => &mut c.vm_compatibility_checker,
            "ovfManager" => &mut c.ovf_manager,
            "ipPoolManager" => &mut c.ip_pool_manager,
            "dvSwitchManager" => &mut c.dv_switch_manager,
            "hostProfileManager" => &mut c.host_profile_manager,
            "clusterProfileManager" => &mut c.cluster_profile_manager,
            "complianceManager" => &mut c.compliance_manager,
            "localizationManager" => &mut c.localization_manager,
            "storageResourceManager" => &mut c.storage_resource_manager,
            "guestOperationsManager" => &mut c.guest_operations_manager,
            "overheadMemoryManager" => &mut c.overhead_memory_manager,
            "certificateManager" => &mut c.certificate_manager,
            "ioFilterManager" => &mut c.io_filter_manager,
            "vStorageObjectManager" => &mut c.v_storage_object_manager,
            "hostSpecManager" => &mut c.host_spec_manager,
            "cryptoManager" => &mut c.crypto_manager,
            "healthUpdateManager" => &mut c.health_update_manager,
            "failoverClusterConfigurator" => &mut c.failover_cluster_configurator,
            "failoverClusterManager" => &mut c.failover_cluster_manager,
            "tenantManager" => &mut c.tenant_manager,
            "siteInfoManager" => &mut c.site_info_manager,
            "storageQueryManager" => &mut c.storage_query_manager,
            _ => continue,
        };
        *slot = r;
    }
}

/// Reads the top-level property `name` of the manager `r` of type `ty`. `None` when its module
/// does not model it (the WSDL fallback then decides).
pub fn property(state: &State, _ctx: &Ctx, r: &MoRef, ty: &str, name: &str) -> Top {
    match ty {
        "AlarmManager" => crate::mo::alarm_manager::property(name),
        "Alarm" => crate::mo::alarm_manager::alarm_property(state, r, name),
        "EnvironmentBrowser" => crate::mo::environment_browser::property(state, r, name),
        "HttpNfcLease" => crate::mo::http_nfc_lease::property(state, r, name),
        "GuestOperationsManager" => crate::mo::guest_operations::property(state, name),
        "PerformanceManager" => crate::mo::perf_manager::property(state, name),
        "OptionManager" => crate::mo::option_manager::property(state, r, name),
        "TaskHistoryCollector" => crate::mo::task::collector_property(state, r, name),
        "LicenseManager" => crate::mo::license_manager::property(state, name),
        "ExtensionManager" => crate::mo::extension_manager::property(state, name),
        "CustomFieldsManager" => crate::mo::custom_fields_manager::property(state, name),
        "ScheduledTaskManager" => crate::mo::scheduled_task_manager::property(name),
        "CustomizationSpecManager" => crate::mo::customization_spec_manager::property(state, name),
        "AuthorizationManager" => crate::mo::authorization_manager::property(state, name),
        "HostDateTimeSystem" => crate::mo::host_date_time_system::property(state, r, name),
        "HostServiceSystem" => crate::mo::host_service_system::property(state, r, name),
        "HostCertificateManager" => crate::mo::host_certificate_manager::property(state, r, name),
        _ => None,
    }
}

/// Whether `method` belongs to a manager and only reads (served under the read lock, and
/// allowed to read-only users).
pub fn is_read(method: &str) -> bool {
    crate::mo::perf_manager::is_read(method)
        || crate::mo::environment_browser::is_read(method)
        || crate::mo::alarm_manager::is_read(method)
        || crate::mo::option_manager::is_read(method)
        || crate::mo::license_manager::is_read(method)
        || crate::mo::license_assignment_manager::is_read(method)
        || crate::mo::extension_manager::is_read(method)
        || crate::mo::scheduled_task_manager::is_read(method)
        || crate::mo::customization_spec_manager::is_read(method)
        || crate::mo::dvs_manager::is_read(method)
        || crate::mo::authorization_manager::is_read(method)
        || crate::mo::diagnostic_manager::is_read(method)
        || crate::mo::host_date_time_system::is_read(method)
        || crate::mo::host_certificate_manager::is_read(method)
}

/// Methods of the managers that only read the state (served under the read lock); `None`
/// when no manager module handles the request.
pub fn handle_read(state: &State, ctx: &Ctx, req: &Request) -> Option<MethodResult<Response>> {
    crate::mo::perf_manager::handle_read(state, ctx, req)
        .or_else(|| crate::mo::environment_browser::handle_read(state, ctx, req))
        .or_else(|| crate::mo::alarm_manager::handle_read(state, ctx, req))
        .or_else(|| crate::mo::option_manager::handle_read(state, ctx, req))
        .or_else(|| crate::mo::license_manager::handle_read(state, ctx, req))
        .or_else(|| crate::mo::license_assignment_manager::handle_read(state, ctx, req))
        .or_else(|| crate::mo::extension_manager::handle_read(state, ctx, req))
        .or_else(|| crate::mo::scheduled_task_manager::handle_read(state, ctx, req))
        .or_else(|| crate::mo::customization_spec_manager::handle_read(state, ctx, req))
        .or_else(|| crate::mo::dvs_manager::handle_read(state, ctx, req))
        .or_else(|| crate::mo::authorization_manager::handle_read(state, ctx, req))
        .or_else(|| crate::mo::diagnostic_manager::handle_read(state, ctx, req))
        .or_else(|| crate::mo::host_date_time_system::handle_read(state, ctx, req))
        .or_else(|| crate::mo::host_certificate_manager::handle_read(state, ctx, req))
}

/// Returns the outcome when the module handled the request, else gives the request back.
macro_rules! handled_or {
    ($call:expr) => {
        match $call {
            Ok(outcome) => return Ok(outcome),
            Err(req) => req,
        }
    };
}

/// Methods of the managers that change the state (served under the write lock); gives the
/// request back when no manager module handles it.
pub fn handle(
    state: &mut State,
    ctx: &Ctx,
    req: Request,
) -> Result<MethodResult<Response>, Request> {
    let req = handled_or!(crate::mo::option_manager::handle(state, ctx, req));
    let req = handled_or!(crate::mo::alarm_manager::handle(state, ctx, req));
    let req = handled_or!(crate::mo::task::handle_collector(state, req));
    let req = handled_or!(crate::mo::license_manager::handle(state, ctx, req));
    let req = handled_or!(crate::mo::license_assignment_manager::handle(
        state, ctx, req
    ));
    let req = handled_or!(crate::mo::extension_manager::handle(state, ctx, req));
    let req = handled_or!(crate::mo::custom_fields_manager::handle(state, ctx, req));
    let req = handled_or!(crate::mo::customization_spec_manager::handle(
        state, ctx, req
    ));
    let req = handled_or!(crate::mo::dvs_manager::handle(state, ctx, req));
    let req = handled_or!(crate::mo::authorization_manager::handle(state, ctx, req));
    let req = handled_or!(crate::mo::host_date_time_system::handle(state, ctx, req));
    let req = handled_or!(crate::mo::host_service_system::handle(state, ctx, req));
    let req = handled_or!(crate::mo::host_certificate_manager::handle(state, ctx, req));
    let req = handled_or!(crate::mo::cluster::handle(state, ctx, req));
    crate::mo::http_nfc_lease::expire(state);
    let req = handled_or!(crate::mo::http_nfc_lease::handle(state, ctx, req));
    let req = handled_or!(crate::mo::ovf_manager::handle(state, req));
    let req = handled_or!(crate::mo::guest_operations::handle(state, req));
    Err(req)
}
