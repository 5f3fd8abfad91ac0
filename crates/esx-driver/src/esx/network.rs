//! Networks: the host's standard virtual switches with their port groups (libvirt's
//! `esx_network_driver.c`), and the network driver table.

use async_trait::async_trait;
use esx_domain::{Bandwidth, Forward, Network as NetDef, PortGroup, Rate, Uuid};
use esx_vim::{
    methods, Any, BaseHostVirtualSwitchBridge, HostNetworkPolicy, HostNetworkTrafficShapingPolicy,
    HostPortGroup, HostPortGroupSpec, HostVirtualSwitch, HostVirtualSwitchBondBridge,
    HostVirtualSwitchSpec, ManagedObjectReference as MoRef, PhysicalNic,
};

use crate::error::{Error, ErrorCode, Result};
use crate::esx::lifecycle::check_flags;
use crate::esx::storage::md5_uuid;
use crate::flags::{list_networks as F, network_define};
use crate::traits::NetworkDriver;
use crate::types::Network;
use crate::vi::{self, filter, prop_spec, traverse};
use crate::Connection;

/// The host's network configuration as the network and interface drivers read it.
pub(crate) struct HostNetwork {
    pub vswitches: Vec<HostVirtualSwitch>,
    pub portgroups: Vec<HostPortGroup>,
    pub pnics: Vec<PhysicalNic>,
}

fn handle(sw: &HostVirtualSwitch) -> Network {
    Network {
        name: sw.name.clone(),
        uuid: md5_uuid(&sw.key),
    }
}

/// libvirt's shaping policy ↔ bandwidth: kilobytes/s ×8000 = bits/s, kilobytes ×1024 = bytes.
fn shaping(b: &Bandwidth) -> Result<Option<HostNetworkTrafficShapingPolicy>> {
    if b.inbound.is_none() && b.outbound.is_none() {
        return Ok(None);
    }
    if b.inbound != b.outbound {
        return Err(Error::new(
            ErrorCode::ConfigUnsupported,
            "Different inbound and outbound bandwidth is unsupported",
        ));
    }
    let r = b.inbound.unwrap_or_default();
    Ok(Some(HostNetworkTrafficShapingPolicy {
        enabled: Some(true),
        average_bandwidth: Some(r.average as i64 * 8000),
        peak_bandwidth: Some(r.peak as i64 * 8000),
        burst_size: Some(r.burst as i64 * 1024),
    }))
}

fn bandwidth(p: Option<&HostNetworkTrafficShapingPolicy>) -> Option<Bandwidth> {
    let p = p.filter(|p| p.enabled == Some(true))?;
    let rate = Rate {
        average: (p.average_bandwidth.unwrap_or(0).max(0) / 8000) as u64,
        peak: (p.peak_bandwidth.unwrap_or(0).max(0) / 8000) as u64,
        floor: 0,
        burst: (p.burst_size.unwrap_or(0).max(0) / 1024) as u64,
    };
    Some(Bandwidth {
        inbound: Some(rate),
        outbound: Some(rate),
    })
}

fn no_network(what: String) -> Error {
    Error::new(ErrorCode::NoNetwork, what)
}

impl Connection {
    pub(crate) async fn host_network(&self) -> Result<HostNetwork> {
        self.ensure_open()?;
        let p = self
            .primary()
            .host_props(&[
                "config.network.vswitch",
                "config.network.portgroup",
                "config.network.pnic",
            ])
            .await?;
        Ok(HostNetwork {
            vswitches: match p.get("config.network.vswitch") {
                Some(Any::ArrayOfHostVirtualSwitch(a)) => a.host_virtual_switch.clone(),
                _ => Vec::new(),
            },
            portgroups: match p.get("config.network.portgroup") {
                Some(Any::ArrayOfHostPortGroup(a)) => a.host_port_group.clone(),
                _ => Vec::new(),
            },
            pnics: match p.get("config.network.pnic") {
                Some(Any::ArrayOfPhysicalNic(a)) => a.physical_nic.clone(),
                _ => Vec::new(),
            },
        })
    }

    async fn network_system(&self) -> Result<MoRef> {
        let p = self
            .primary()
            .host_props(&["configManager.networkSystem"])
            .await?;
        p.moref("configManager.networkSystem")
            .cloned()
            .ok_or_else(|| Error::internal("the host has no network system"))
    }

    /// Names of the datacenter's networks (port groups that VMs can use).
    async fn datacenter_networks(&self) -> Result<Vec<String>> {
        let ctx = self.primary();
        let spec = filter(
            &ctx.datacenter,
            true,
            vec![traverse("Datacenter", "network")],
            vec![prop_spec("Network", &["name"])],
        );
        Ok(vi::retrieve(&ctx.client, spec)
            .await?
            .iter()
            .filter_map(|p| p.str("name").map(str::to_string))
            .collect())
    }

    async fn vswitch(&self, net: &Network) -> Result<(HostNetwork, usize)> {
        let n = self.host_network().await?;
        let i = n
            .vswitches
            .iter()
            .position(|s| s.name == net.name)
            .ok_or_else(|| {
                no_network(format!(
                    "Could not find HostVirtualSwitch with name '{}'",
                    net.name
                ))
            })?;
        Ok((n, i))
    }

    async fn net_define(&self, xml: &str, flags: u32) -> Result<Network> {
        check_flags(flags, network_define::VALIDATE, "esxNetworkDefineXMLFlags")?;
        self.check_writable("virNetworkDefineXMLFlags")?;
        let def = NetDef::from_xml(xml)?;
        let n = self.host_network().await?;
        if n.vswitches.iter().any(|s| s.name == def.name) {
            return Err(Error::invalid_op(
                "HostVirtualSwitch already exists, editing existing ones is not supported yet",
            ));
        }
        if def.uuid.is_some() {
            return Err(Error::invalid_op("Cannot use predefined UUID"));
        }
        if let Some(f) = &def.forward {
            if f.mode != "bridge" && f.mode != "none" {
                return Err(Error::new(
                    ErrorCode::ConfigUnsupported,
                    format!("Unsupported forward mode '{}'", f.mode),
                ));
            }
        }
        for pg in &def.portgroups {
            if n.portgroups.iter().any(|p| p.spec.name == pg.name) {
                return Err(Error::invalid_op(format!(
                    "HostPortGroup with name '{}' exists already",
                    pg.name
                )));
            }
        }
        let mut nics = Vec::new();
        for dev in def.forward.iter().flat_map(|f| &f.interfaces) {
            if !n.pnics.iter().any(|p| p.device == *dev) {
                return Err(Error::internal(format!(
                    "Could not find PhysicalNic with name '{dev}'"
                )));
            }
            nics.push(dev.clone());
        }
        let policy = def
            .bandwidth
            .as_ref()
            .map(shaping)
            .transpose()?
            .flatten()
            .map(|s| HostNetworkPolicy {
                shaping_policy: Some(s),
                ..Default::default()
            });
        let mut pg_specs = Vec::new();
        for pg in &def.portgroups {
            let vlan = pg
                .vlan
                .as_ref()
                .and_then(|v| v.tags.first())
                .map(|t| t.id as i32)
                .unwrap_or(0);
            let policy = match &pg.bandwidth {
                Some(b) => HostNetworkPolicy {
                    shaping_policy: shaping(b)?,
                    ..Default::default()
                },
                None => HostNetworkPolicy::default(),
            };
            pg_specs.push(HostPortGroupSpec {
                name: pg.name.clone(),
                vlan_id: vlan,
                vswitch_name: def.name.clone(),
                policy,
            });
        }
        let ns = self.network_system().await?;
        let ctx = self.primary();
        let spec = HostVirtualSwitchSpec {
            num_ports: 128,
            bridge: (!nics.is_empty()).then(|| {
                BaseHostVirtualSwitchBridge::from(HostVirtualSwitchBondBridge {
                    nic_device: nics,
                    ..Default::default()
                })
            }),
            policy,
            mtu: def.mtu.map(|m| m as i32),
        };
        methods::add_virtual_switch(&*ctx.client, &ns, def.name.clone(), Some(spec)).await?;
        for pg in pg_specs {
            let name = pg.name.clone();
            if let Err(e) = methods::add_port_group(&*ctx.client, &ns, pg).await {
                // All or nothing: take the switch (and its port groups) away again.
                if let Err(r) =
                    methods::remove_virtual_switch(&*ctx.client, &ns, def.name.clone()).await
                {
                    tracing::warn!(error = %r, "removing a half-defined virtual switch");
                }
                return Err(Error::from(e).context(format!("Could not add port group '{name}'")));
            }
        }
        let n = self.host_network().await?;
        n.vswitches
            .iter()
            .find(|s| s.name == def.name)
            .map(handle)
            .ok_or_else(|| Error::internal("the new virtual switch is missing"))
    }

    async fn net_undefine(&self, net: &Network) -> Result<()> {
        self.check_writable("virNetworkUndefine")?;
        let (n, i) = self.vswitch(net).await?;
        let sw = &n.vswitches[i];
        let pgs: Vec<&HostPortGroup> = n
            .portgroups
            .iter()
            .filter(|p| {
                p.vswitch.as_deref() == Some(sw.key.as_str()) || p.spec.vswitch_name == sw.name
            })
            .collect();
        for pg in &pgs {
            if !pg.port.is_empty() {
                return Err(Error::invalid_op(format!(
                    "Cannot undefine HostVirtualSwitch that has a '{}' port",
                    pg.port[0].r#type
                )));
            }
        }
        let ns = self.network_system().await?;
        let ctx = self.primary();
        for pg in pgs {
            methods::remove_port_group(&*ctx.client, &ns, pg.spec.name.clone()).await?;
        }
        methods::remove_virtual_switch(&*ctx.client, &ns, sw.name.clone()).await?;
        Ok(())
    }

    async fn net_xml(&self, net: &Network, flags: u32) -> Result<String> {
        check_flags(flags, 0, "esxNetworkGetXMLDesc")?;
        let (n, i) = self.vswitch(net).await?;
        let sw = &n.vswitches[i];
        let nets = self.datacenter_networks().await?;
        let pnic_names: Vec<String> = sw
            .pnic
            .iter()
            .filter_map(|k| {
                n.pnics
                    .iter()
                    .find(|p| p.key.as_deref() == Some(k.as_str()))
            })
            .map(|p| p.device.clone())
            .collect();
        let portgroups = n
            .portgroups
            .iter()
            .filter(|p| sw.portgroup.iter().any(|k| Some(k) == p.key.as_ref()))
            .filter(|p| nets.contains(&p.spec.name))
            .map(|p| PortGroup {
                name: p.spec.name.clone(),
                bandwidth: bandwidth(p.spec.policy.shaping_policy.as_ref()),
                ..Default::default()
            })
            .collect();
        let def = NetDef {
            name: sw.name.clone(),
            uuid: Some(md5_uuid(&sw.key)),
            forward: (!pnic_names.is_empty()).then(|| Forward {
                mode: "bridge".into(),
                interfaces: pnic_names,
            }),
            bandwidth: bandwidth(
                sw.spec
                    .policy
                    .as_ref()
                    .and_then(|p| p.shaping_policy.as_ref()),
            ),
            portgroups,
            ..Default::default()
        };
        Ok(def.to_xml())
    }
}

#[async_trait]
impl NetworkDriver for Connection {
    async fn connect_num_of_networks(&self) -> Result<usize> {
        Ok(self.host_network().await?.vswitches.len())
    }
    async fn connect_list_networks(&self) -> Result<Vec<String>> {
        Ok(self
            .host_network()
            .await?
            .vswitches
            .iter()
            .map(|s| s.name.clone())
            .collect())
    }
    async fn connect_num_of_defined_networks(&self) -> Result<usize> {
        self.ensure_open()?;
        Ok(0)
    }
    async fn connect_list_defined_networks(&self) -> Result<Vec<String>> {
        self.ensure_open()?;
        Ok(Vec::new())
    }
    async fn network_lookup_by_uuid(&self, uuid: &Uuid) -> Result<Network> {
        self.host_network()
            .await?
            .vswitches
            .iter()
            .map(handle)
            .find(|n| n.uuid == *uuid)
            .ok_or_else(|| {
                no_network(format!(
                    "Could not find HostVirtualSwitch with UUID '{uuid}'"
                ))
            })
    }
    async fn network_lookup_by_name(&self, name: &str) -> Result<Network> {
        self.host_network()
            .await?
            .vswitches
            .iter()
            .find(|s| s.name == name)
            .map(handle)
            .ok_or_else(|| {
                no_network(format!(
                    "Could not find HostVirtualSwitch with name '{name}'"
                ))
            })
    }
    async fn network_define_xml_flags(&self, xml: &str, flags: u32) -> Result<Network> {
        self.net_define(xml, flags).await
    }
    async fn network_undefine(&self, net: &Network) -> Result<()> {
        self.net_undefine(net).await
    }
    async fn network_get_xml_desc(&self, net: &Network, flags: u32) -> Result<String> {
        self.net_xml(net, flags).await
    }
    async fn network_get_autostart(&self, net: &Network) -> Result<bool> {
        self.vswitch(net).await?;
        Ok(true)
    }
    async fn network_set_autostart(&self, net: &Network, autostart: bool) -> Result<()> {
        self.vswitch(net).await?;
        if !autostart {
            return Err(Error::invalid_op("Cannot deactivate network autostart"));
        }
        Ok(())
    }
    async fn network_is_active(&self, net: &Network) -> Result<bool> {
        self.vswitch(net).await?;
        Ok(true)
    }
    async fn network_is_persistent(&self, net: &Network) -> Result<bool> {
        self.vswitch(net).await?;
        Ok(true)
    }
    async fn connect_list_all_networks(&self, flags: u32) -> Result<Vec<Network>> {
        check_flags(flags, 0x3f, "esxConnectListAllNetworks")?;
        // Every virtual switch is active, persistent and autostarted.
        if flags & (F::INACTIVE | F::TRANSIENT | F::NO_AUTOSTART) != 0
            && flags & (F::ACTIVE | F::PERSISTENT | F::AUTOSTART) == 0
        {
            return Ok(Vec::new());
        }
        Ok(self
            .host_network()
            .await?
            .vswitches
            .iter()
            .map(handle)
            .collect())
    }
}
