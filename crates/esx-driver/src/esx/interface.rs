//! Host interfaces: the physical NICs (libvirt's `esx_interface_driver.c`).

use async_trait::async_trait;
use esx_domain::{netmask_prefix, HostInterface, Ipv4Config};

use crate::error::{Error, ErrorCode, Result};
use crate::esx::lifecycle::check_flags;
use crate::flags::interface_xml;
use crate::traits::InterfaceDriver;
use crate::types::Interface;
use crate::Connection;

fn no_interface(what: String) -> Error {
    Error::new(ErrorCode::NoInterface, what)
}

impl Connection {
    async fn pnic(&self, iface: &Interface) -> Result<esx_vim::PhysicalNic> {
        self.host_network()
            .await?
            .pnics
            .into_iter()
            .find(|p| p.device == iface.name)
            .ok_or_else(|| {
                no_interface(format!(
                    "Could not find PhysicalNic with name '{}'",
                    iface.name
                ))
            })
    }
}

#[async_trait]
impl InterfaceDriver for Connection {
    async fn connect_num_of_interfaces(&self) -> Result<usize> {
        Ok(self.host_network().await?.pnics.len())
    }
    async fn connect_list_interfaces(&self) -> Result<Vec<String>> {
        Ok(self
            .host_network()
            .await?
            .pnics
            .iter()
            .map(|p| p.device.clone())
            .collect())
    }
    async fn connect_num_of_defined_interfaces(&self) -> Result<usize> {
        self.ensure_open()?;
        Ok(0)
    }
    async fn connect_list_defined_interfaces(&self) -> Result<Vec<String>> {
        self.ensure_open()?;
        Ok(Vec::new())
    }
    /// By device name (libvirt 11.3 looks the name up as a MAC address, a bug).
    async fn interface_lookup_by_name(&self, name: &str) -> Result<Interface> {
        self.host_network()
            .await?
            .pnics
            .iter()
            .find(|p| p.device == name)
            .map(|p| Interface {
                name: p.device.clone(),
                mac: p.mac.clone(),
            })
            .ok_or_else(|| no_interface(format!("Could not find PhysicalNic with name '{name}'")))
    }
    async fn interface_lookup_by_mac_string(&self, mac: &str) -> Result<Interface> {
        self.host_network()
            .await?
            .pnics
            .iter()
            .find(|p| p.mac.eq_ignore_ascii_case(mac))
            .map(|p| Interface {
                name: p.device.clone(),
                mac: p.mac.clone(),
            })
            .ok_or_else(|| {
                no_interface(format!(
                    "Could not find PhysicalNic with MAC address '{mac}'"
                ))
            })
    }
    async fn interface_get_xml_desc(&self, iface: &Interface, flags: u32) -> Result<String> {
        check_flags(flags, interface_xml::INACTIVE, "esxInterfaceGetXMLDesc")?;
        let p = self.pnic(iface).await?;
        let ipv4 = p.spec.ip.as_ref().map(|ip| {
            let mut addresses = Vec::new();
            let inactive = flags & interface_xml::INACTIVE != 0;
            if let (Some(a), Some(m)) = (&ip.ip_address, &ip.subnet_mask) {
                if !(a.is_empty() || ip.dhcp && inactive) {
                    addresses.push((a.clone(), netmask_prefix(m).unwrap_or(0)));
                }
            }
            Ipv4Config {
                dhcp: ip.dhcp,
                addresses,
            }
        });
        Ok(HostInterface {
            name: p.device.clone(),
            mac: Some(p.mac.clone()),
            ipv4,
        }
        .to_xml())
    }
    async fn interface_is_active(&self, iface: &Interface) -> Result<bool> {
        self.pnic(iface).await?;
        Ok(true)
    }
}
