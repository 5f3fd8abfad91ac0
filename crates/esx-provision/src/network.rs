//! Networks for NICs: finding a port group (standard or distributed) by name, and creating a
//! VLAN port group with Nova's rules.

use esx_vim::{
    methods, Any, BaseVirtualDeviceBackingInfo, DistributedVirtualSwitchPortConnection,
    HostNetworkInfo, HostNetworkPolicy, HostNicTeamingPolicy, HostPortGroupSpec,
    ManagedObjectReference as MoRef, VirtualEthernetCardDistributedVirtualPortBackingInfo,
    VirtualEthernetCardNetworkBackingInfo,
};

use crate::error::{ProvisionError, Result};
use crate::Provisioner;

/// Where a VLAN port group goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Uplink {
    /// On the virtual switch that uses this physical NIC (Nova's `vlan_interface`,
    /// `vmnic0` by default).
    Nic(String),
    /// On this virtual switch.
    Vswitch(String),
}

impl Default for Uplink {
    fn default() -> Self {
        Uplink::Nic("vmnic0".into())
    }
}

/// What [`Provisioner::ensure_vlan_portgroup`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortGroupOutcome {
    /// The port group was created.
    Created,
    /// It existed already, on the right switch with the right VLAN.
    Existed,
}

/// The names of the properties of a `DistributedVirtualPortgroup` a NIC backing needs.
const DVPG: [&str; 3] = ["name", "config.key", "config.distributedVirtualSwitch"];

impl Provisioner {
    /// The host's network system.
    async fn network_system(&self) -> Result<MoRef> {
        let host = self.conn.endpoint().host_system.clone();
        let props = self
            .conn
            .properties(&host, &["configManager.networkSystem"])
            .await?;
        props
            .into_iter()
            .find_map(|(_, v)| match v {
                Any::ManagedObjectReference(r) => Some(r),
                _ => None,
            })
            .ok_or_else(|| {
                ProvisionError::InvalidArgument(
                    "the host has no network system (configManager.networkSystem)".into(),
                )
            })
    }

    /// The host's network configuration.
    async fn network_info(&self, ns: &MoRef) -> Result<HostNetworkInfo> {
        let props = self.conn.properties(ns, &["networkInfo"]).await?;
        props
            .into_iter()
            .find_map(|(_, v)| match v {
                Any::HostNetworkInfo(i) => Some(*i),
                _ => None,
            })
            .ok_or_else(|| {
                ProvisionError::InvalidArgument("the host reports no network configuration".into())
            })
    }

    /// Makes sure the port group `name` with `vlan` exists on the virtual switch of `uplink`
    /// (Nova's rules): the uplink NIC must exist and belong to a virtual switch; a missing
    /// port group is added (an `AlreadyExists` from a racing caller is fine); an existing one
    /// on another switch or with another VLAN is an error naming both.
    pub async fn ensure_vlan_portgroup(
        &self,
        name: &str,
        vlan: u16,
        uplink: &Uplink,
    ) -> Result<PortGroupOutcome> {
        if vlan > 4095 {
            return Err(ProvisionError::InvalidArgument(format!(
                "VLAN {vlan} is out of range (0-4095)"
            )));
        }
        let ns = self.network_system().await?;
        let info = self.network_info(&ns).await?;
        let vswitch = match uplink {
            Uplink::Nic(nic) => {
                if !info.pnic.iter().any(|p| p.device == *nic) {
                    return Err(ProvisionError::NicNotFound(nic.clone()));
                }
                info.vswitch
                    .iter()
                    .find(|s| {
                        s.pnic
                            .iter()
                            .any(|k| k.rsplit('-').next() == Some(nic.as_str()))
                    })
                    .map(|s| s.name.clone())
                    .ok_or_else(|| ProvisionError::NoVswitch(nic.clone()))?
            }
            Uplink::Vswitch(s) => {
                if !info.vswitch.iter().any(|v| v.name == *s) {
                    return Err(ProvisionError::VswitchNotFound(s.clone()));
                }
                s.clone()
            }
        };
        let check = |info: &HostNetworkInfo| -> Result<Option<PortGroupOutcome>> {
            let Some(pg) = info.portgroup.iter().find(|p| p.spec.name == name) else {
                return Ok(None);
            };
            if pg.spec.vswitch_name != vswitch {
                return Err(ProvisionError::PortGroupVswitch {
                    name: name.into(),
                    actual: pg.spec.vswitch_name.clone(),
                    expected: vswitch.clone(),
                });
            }
            if pg.spec.vlan_id != i32::from(vlan) {
                return Err(ProvisionError::PortGroupVlan {
                    name: name.into(),
                    actual: pg.spec.vlan_id,
                    expected: i32::from(vlan),
                });
            }
            Ok(Some(PortGroupOutcome::Existed))
        };
        if let Some(done) = check(&info)? {
            return Ok(done);
        }
        let spec = HostPortGroupSpec {
            name: name.to_string(),
            vlan_id: i32::from(vlan),
            vswitch_name: vswitch.clone(),
            policy: HostNetworkPolicy {
                nic_teaming: Some(HostNicTeamingPolicy {
                    notify_switches: Some(true),
                    ..Default::default()
                }),
                ..Default::default()
            },
        };
        let client = &self.conn.endpoint().client;
        match methods::add_port_group(&**client, &ns, spec).await {
            Ok(()) => {
                tracing::info!(portgroup = name, vlan, vswitch = %vswitch, "port group added");
                Ok(PortGroupOutcome::Created)
            }
            Err(e) if e.is_fault("AlreadyExists") => {
                // Another caller added it meanwhile: it must match too.
                let info = self.network_info(&ns).await?;
                Ok(check(&info)?.unwrap_or(PortGroupOutcome::Existed))
            }
            Err(e) => Err(esx_driver::Error::from(e)
                .context(format!("Could not add port group '{name}'"))
                .into()),
        }
    }

    /// The NIC backing for the network called `name` on the host: a standard port group, or
    /// a distributed port group (with its switch's UUID and the group's key).
    pub(crate) async fn nic_backing(&self, name: &str) -> Result<BaseVirtualDeviceBackingInfo> {
        let ctx = self.conn.endpoint();
        let props = self.conn.properties(&ctx.host_system, &["network"]).await?;
        let nets: Vec<MoRef> = props
            .into_iter()
            .flat_map(|(_, v)| match v {
                Any::ArrayOfManagedObjectReference(a) => a.managed_object_reference,
                _ => Vec::new(),
            })
            .collect();
        for net in nets {
            if net.r#type == "DistributedVirtualPortgroup" {
                let p = self.conn.properties(&net, &DVPG).await?;
                let get = |k: &str| p.iter().find(|(n, _)| n == k).map(|(_, v)| v);
                if !matches!(get("name"), Some(Any::String(n)) if n == name) {
                    continue;
                }
                let key = match get("config.key") {
                    Some(Any::String(k)) => k.clone(),
                    _ => continue,
                };
                let Some(Any::ManagedObjectReference(dvs)) = get("config.distributedVirtualSwitch")
                else {
                    continue;
                };
                let sw = self.conn.properties(dvs, &["uuid"]).await?;
                let uuid = sw
                    .into_iter()
                    .find_map(|(_, v)| match v {
                        Any::String(u) => Some(u),
                        _ => None,
                    })
                    .unwrap_or_default();
                return Ok(BaseVirtualDeviceBackingInfo::from(
                    VirtualEthernetCardDistributedVirtualPortBackingInfo {
                        port: DistributedVirtualSwitchPortConnection {
                            switch_uuid: uuid,
                            portgroup_key: Some(key),
                            port_key: None,
                            connection_cookie: None,
                        },
                    },
                ));
            }
            let p = self.conn.properties(&net, &["name"]).await?;
            if p.iter()
                .any(|(_, v)| matches!(v, Any::String(n) if n == name))
            {
                return Ok(BaseVirtualDeviceBackingInfo::from(
                    VirtualEthernetCardNetworkBackingInfo {
                        device_name: name.to_string(),
                        network: Some(net.clone()),
                        ..Default::default()
                    },
                ));
            }
        }
        Err(ProvisionError::NetworkNotFound {
            network: name.to_string(),
            host: ctx.host_system_name.clone(),
        })
    }
}
