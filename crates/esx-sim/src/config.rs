//! Simulator configuration: flavor, inventory size, credentials, files.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Which product the simulator pretends to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Flavor {
    /// A standalone ESXi host (`HostAgent`, `ha-datacenter`).
    #[default]
    Esx,
    /// vCenter (`VirtualCenter`: datacenters, clusters, hosts).
    Vcenter,
}

impl std::str::FromStr for Flavor {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Self, ConfigError> {
        match s {
            "esx" => Ok(Flavor::Esx),
            "vcenter" | "vc" => Ok(Flavor::Vcenter),
            _ => Err(ConfigError::Flavor(s.to_owned())),
        }
    }
}

/// A configuration error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// Unknown flavor.
    #[error("unknown flavor {0:?} (expected esx or vcenter)")]
    Flavor(String),
    /// Bad inventory spec item.
    #[error("invalid inventory item {0:?} (expected KEY=NUMBER with KEY one of dc, cluster, host, vm, ds, net)")]
    Inventory(String),
}

/// How big an inventory to build: `dc=1,cluster=1,host=2,vm=100,ds=1,net=1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InventorySpec {
    /// Datacenters (vcenter only).
    pub datacenters: usize,
    /// Clusters per datacenter (vcenter only).
    pub clusters: usize,
    /// Hosts per cluster (vcenter) — ESX always has one.
    pub hosts: usize,
    /// VMs in total.
    pub vms: usize,
    /// Datastores.
    pub datastores: usize,
    /// Networks (port groups).
    pub networks: usize,
}

impl Default for InventorySpec {
    fn default() -> Self {
        InventorySpec {
            datacenters: 1,
            clusters: 1,
            hosts: 2,
            vms: 3,
            datastores: 1,
            networks: 1,
        }
    }
}

impl std::str::FromStr for InventorySpec {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Self, ConfigError> {
        let mut spec = InventorySpec::default();
        for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (k, v) = item
                .split_once('=')
                .ok_or_else(|| ConfigError::Inventory(item.into()))?;
            let n: usize = v
                .trim()
                .parse()
                .map_err(|_| ConfigError::Inventory(item.into()))?;
            match k.trim() {
                "dc" | "datacenter" => spec.datacenters = n.max(1),
                "cluster" => spec.clusters = n,
                "host" => spec.hosts = n.max(1),
                "vm" => spec.vms = n,
                "ds" | "datastore" => spec.datastores = n.max(1),
                "net" | "network" => spec.networks = n.max(1),
                _ => return Err(ConfigError::Inventory(item.into())),
            }
        }
        Ok(spec)
    }
}

/// Everything needed to start a simulator.
#[derive(Debug, Clone)]
pub struct Config {
    /// The flavor.
    pub flavor: Flavor,
    /// Where to listen (`127.0.0.1:0` picks a free port).
    pub listen: SocketAddr,
    /// Data directory: one subdirectory per datastore.
    pub data_dir: PathBuf,
    /// Inventory size (used only when the data directory holds no VMs yet).
    pub inventory: InventorySpec,
    /// The administrator's user name.
    pub user: String,
    /// The password (for the administrator and the read-only user).
    pub password: String,
    /// A user who may only read (`NoPermission` on changes).
    pub readonly_user: Option<String>,
    /// PEM certificate and key files; a self-signed certificate when `None`.
    pub cert: Option<(PathBuf, PathBuf)>,
    /// Directory holding `vimService.wsdl` and friends, served under `/sdk/`.
    pub wsdl_dir: Option<PathBuf>,
    /// Largest request body accepted, in bytes.
    pub max_body: usize,
    /// How long tasks stay running before completing.
    pub task_delay: Duration,
    /// Idle time after which a session expires.
    pub session_timeout: Duration,
    /// Fault injection (latency, dropped connections, HTTP errors, session expiry, failing
    /// tasks, full datastores); see [`crate::inject`].
    pub inject: crate::inject::InjectSpec,
    /// Capacity of each datastore in bytes (see [`crate::mo::datastore`]).
    pub datastore_capacity: u64,
}

impl Config {
    /// A configuration for `data_dir` with the defaults (ESX, loopback, root/pass).
    pub fn new(data_dir: impl Into<PathBuf>) -> Config {
        Config {
            flavor: Flavor::Esx,
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir: data_dir.into(),
            inventory: InventorySpec::default(),
            user: "root".into(),
            password: "pass".into(),
            readonly_user: Some("readonly".into()),
            cert: None,
            wsdl_dir: None,
            max_body: 16 * 1024 * 1024,
            task_delay: Duration::ZERO,
            session_timeout: Duration::from_secs(30 * 60),
            inject: crate::inject::InjectSpec::default(),
            datastore_capacity: crate::mo::datastore::CAPACITY,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_inventory() {
        let s: InventorySpec = "dc=2, cluster=3,host=4,vm=10000,ds=2,net=3"
            .parse()
            .unwrap();
        assert_eq!(
            (
                s.datacenters,
                s.clusters,
                s.hosts,
                s.vms,
                s.datastores,
                s.networks
            ),
            (2, 3, 4, 10000, 2, 3)
        );
        assert!("vm=x".parse::<InventorySpec>().is_err());
        assert!("bogus=1".parse::<InventorySpec>().is_err());
        assert_eq!("esx".parse::<Flavor>().unwrap(), Flavor::Esx);
    }
}
