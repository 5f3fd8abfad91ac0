//! `ServiceInstance`: the service content and the server clock.

use esx_vim::{AboutInfo, Any, ServiceContent};

use crate::config::Flavor;
use crate::property::Top;
use crate::state::{moref, now, State};

/// Well-known ids of the singleton objects, per flavor.
pub struct Ids {
    /// Root folder.
    pub root: &'static str,
    /// Default property collector.
    pub property_collector: &'static str,
    /// View manager.
    pub view_manager: &'static str,
    /// Session manager.
    pub session_manager: &'static str,
    /// Search index.
    pub search_index: &'static str,
    /// File manager.
    pub file_manager: &'static str,
    /// Virtual disk manager.
    pub virtual_disk_manager: &'static str,
    /// Task manager.
    pub task_manager: &'static str,
    /// Event manager.
    pub event_manager: &'static str,
}

/// The singleton ids for `flavor`.
pub fn ids(flavor: Flavor) -> Ids {
    match flavor {
        Flavor::Esx => Ids {
            root: "ha-folder-root",
            property_collector: "ha-property-collector",
            view_manager: "ViewManager",
            session_manager: "ha-sessionmgr",
            search_index: "ha-searchindex",
            file_manager: "ha-nfc-file-manager",
            virtual_disk_manager: "ha-vdiskmanager",
            task_manager: "ha-taskmgr",
            event_manager: "ha-eventmgr",
        },
        Flavor::Vcenter => Ids {
            root: "group-d1",
            property_collector: "propertyCollector",
            view_manager: "ViewManager",
            session_manager: "SessionManager",
            search_index: "SearchIndex",
            file_manager: "FileManager",
            virtual_disk_manager: "virtualDiskManager",
            task_manager: "TaskManager",
            event_manager: "EventManager",
        },
    }
}

/// `about` for the flavor.
pub fn about(state: &State) -> AboutInfo {
    match state.flavor() {
        Flavor::Esx => AboutInfo {
            name: "VMware ESXi".into(),
            full_name: "VMware ESXi 7.0.3 build-19193900".into(),
            vendor: "VMware, Inc.".into(),
            version: "7.0.3".into(),
            build: "19193900".into(),
            locale_version: Some("INTL".into()),
            locale_build: Some("000".into()),
            os_type: "vmnix-x86".into(),
            product_line_id: "embeddedEsx".into(),
            api_type: "HostAgent".into(),
            api_version: "7.0.3.0".into(),
            instance_uuid: None,
            license_product_name: Some("VMware ESX Server".into()),
            license_product_version: Some("7.0".into()),
            ..Default::default()
        },
        Flavor::Vcenter => AboutInfo {
            name: "VMware vCenter Server".into(),
            full_name: "VMware vCenter Server 7.0.3 build-19193900".into(),
            vendor: "VMware, Inc.".into(),
            version: "7.0.3".into(),
            build: "19193900".into(),
            locale_version: Some("INTL".into()),
            locale_build: Some("000".into()),
            os_type: "linux-x64".into(),
            product_line_id: "vpx".into(),
            api_type: "VirtualCenter".into(),
            api_version: "7.0.3.0".into(),
            instance_uuid: Some("dbed6e0c-bd88-4ef6-b594-21283e1c677f".into()),
            license_product_name: Some("VMware VirtualCenter Server".into()),
            license_product_version: Some("7.0".into()),
            ..Default::default()
        },
    }
}

/// `RetrieveServiceContent`.
pub fn content(state: &State) -> ServiceContent {
    let i = ids(state.flavor());
    let mut c = ServiceContent {
        root_folder: moref("Folder", i.root),
        property_collector: moref("PropertyCollector", i.property_collector),
        view_manager: Some(moref("ViewManager", i.view_manager)),
        about: about(state),
        session_manager: Some(moref("SessionManager", i.session_manager)),
        search_index: Some(moref("SearchIndex", i.search_index)),
        file_manager: Some(moref("FileManager", i.file_manager)),
        virtual_disk_manager: Some(moref("VirtualDiskManager", i.virtual_disk_manager)),
        task_manager: Some(moref("TaskManager", i.task_manager)),
        event_manager: Some(moref("EventManager", i.event_manager)),
        ..Default::default()
    };
    crate::managers::fill_content(state.flavor(), &mut c);
    c
}

/// Properties of the service instance.
pub fn property(state: &State, name: &str) -> Top {
    Some(match name {
        "content" => Some(Any::from(content(state))),
        "serverClock" => Some(Any::DateTime(now())),
        "capability" => None,
        _ => return None,
    })
}
