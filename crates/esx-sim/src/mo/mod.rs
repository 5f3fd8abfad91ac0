//! One module per managed object type.

pub mod compute_resource;
pub mod datacenter;
pub mod datastore;
pub mod datastore_browser;
pub mod event_manager;
pub mod file_manager;
pub mod folder;
pub mod host_network;
pub mod host_storage;
pub mod host_system;
pub mod migration;
pub mod network;
pub mod property_collector;
pub mod resource_pool;
pub mod search_index;
pub mod service_instance;
pub mod session_manager;
pub mod snapshot;
pub mod task;
pub mod view_manager;
pub mod virtual_disk_manager;
pub mod virtual_machine;
pub mod vm_devices;
pub mod vm_guest;
pub mod vm_reconfig;
