//! Network (virtual switch) and host interface (physical NIC) commands.

use esx_driver::{InterfaceDriver, NetworkDriver};
use serde_json::json;

use super::{lookup_iface, lookup_network, read_file, Out};
use crate::cli::Command;
use crate::error::CliError;
use crate::output::{field, Table};
use crate::session::Session;

pub(super) async fn run(
    cmd: &Command,
    s: &Session,
    o: &mut Out<'_>,
) -> Option<Result<(), CliError>> {
    let c = &s.conn;
    let r =
        match cmd {
            Command::NetList {
                inactive,
                all,
                persistent: _,
                transient,
                autostart: _,
                no_autostart,
                uuid,
                name,
                table: _,
            } => {
                async {
                    // Virtual switches are always active, persistent and autostarted.
                    let mut nets = c
                        .connect_list_all_networks(0)
                        .await
                        .map_err(CliError::failed("Failed to list networks"))?;
                    nets.sort_by(|a, b| a.name.cmp(&b.name));
                    if (*inactive && !*all) || *transient || *no_autostart {
                        nets.clear();
                    }
                    if o.json {
                        let v: Vec<_> = nets
                            .iter()
                            .map(|n| {
                                json!({ "name": n.name, "uuid": n.uuid.to_string(), "active": true,
                        "autostart": true, "persistent": true })
                            })
                            .collect();
                        return o.json_value(&serde_json::Value::Array(v));
                    }
                    if *name || *uuid {
                        let t = super::uuid_name_lines(
                            nets.iter().map(|n| (n.name.as_str(), n.uuid.to_string())),
                            *uuid,
                            *name,
                        );
                        return o.print(&t);
                    }
                    let mut t = Table::new(["Name", "State", "Autostart", "Persistent"]);
                    for n in &nets {
                        t.row([n.name.as_str(), "active", "yes", "yes"]);
                    }
                    o.table(&t)
                }
                .await
            }
            Command::NetInfo { network } => {
                async {
                    let n = lookup_network(s, network).await?;
                    let active = c.network_is_active(&n).await?;
                    let persistent = c.network_is_persistent(&n).await?;
                    let autostart = c.network_get_autostart(&n).await?;
                    if o.json {
                        return o.json_value(&json!({ "name": n.name, "uuid": n.uuid.to_string(),
                    "active": active, "persistent": persistent, "autostart": autostart }));
                    }
                    let yn = crate::output::yes_no;
                    let mut t = String::new();
                    field(&mut t, 15, "Name:", &n.name);
                    field(&mut t, 15, "UUID:", n.uuid);
                    field(&mut t, 15, "Active:", yn(active));
                    field(&mut t, 15, "Persistent:", yn(persistent));
                    field(&mut t, 15, "Autostart:", yn(autostart));
                    o.print(&t)
                }
                .await
            }
            Command::NetDumpxml { network, inactive } => {
                async {
                    let n = lookup_network(s, network).await?;
                    let xml = c.network_get_xml_desc(&n, u32::from(*inactive)).await?;
                    super::domain::print_doc(o, &xml)
                }
                .await
            }
            Command::NetDefine { file, validate } => {
                async {
                    let xml = read_file(file)?;
                    let n = c
                        .network_define_xml_flags(&xml, u32::from(*validate))
                        .await
                        .map_err(CliError::failed(format!(
                            "Failed to define network from {}",
                            file.display()
                        )))?;
                    o.extra(&format!(
                        "Network {} defined from {}\n",
                        n.name,
                        file.display()
                    ))
                }
                .await
            }
            Command::NetUndefine { network } => {
                async {
                    let n = lookup_network(s, network).await?;
                    c.network_undefine(&n)
                        .await
                        .map_err(CliError::failed(format!(
                            "Failed to undefine network {network}"
                        )))?;
                    o.extra(&format!("Network {network} has been undefined\n"))
                }
                .await
            }
            Command::NetName { network } => {
                async {
                    let n = lookup_network(s, network).await?;
                    if o.json {
                        return o.json_value(&json!({ "name": n.name }));
                    }
                    o.print(&format!("{}\n", n.name))
                }
                .await
            }
            Command::NetUuid { network } => {
                async {
                    let n = lookup_network(s, network).await?;
                    if o.json {
                        return o.json_value(&json!({ "uuid": n.uuid.to_string() }));
                    }
                    o.print(&format!("{}\n", n.uuid))
                }
                .await
            }
            Command::IfaceList { inactive, all } => {
                async {
                    let mut names = c.connect_list_interfaces().await?;
                    names.sort();
                    if *inactive && !*all {
                        names.clear();
                    }
                    let mut ifaces = Vec::new();
                    for n in &names {
                        ifaces.push(c.interface_lookup_by_name(n).await?);
                    }
                    if o.json {
                        let v: Vec<_> = ifaces
                            .iter()
                            .map(|i| json!({ "name": i.name, "state": "active", "mac": i.mac }))
                            .collect();
                        return o.json_value(&serde_json::Value::Array(v));
                    }
                    let mut t = Table::new(["Name", "State", "MAC Address"]);
                    for i in &ifaces {
                        t.row([i.name.as_str(), "active", i.mac.as_str()]);
                    }
                    o.table(&t)
                }
                .await
            }
            Command::IfaceDumpxml {
                interface,
                inactive,
            } => {
                async {
                    let i = lookup_iface(s, interface).await?;
                    let xml = c.interface_get_xml_desc(&i, u32::from(*inactive)).await?;
                    super::domain::print_doc(o, &xml)
                }
                .await
            }
            Command::IfaceName { interface } => {
                async {
                    let i = c.interface_lookup_by_mac_string(interface).await.map_err(
                        CliError::failed(format!("failed to get interface '{interface}'")),
                    )?;
                    if o.json {
                        return o.json_value(&json!({ "name": i.name }));
                    }
                    o.print(&format!("{}\n", i.name))
                }
                .await
            }
            Command::IfaceMac { interface } => {
                async {
                    let i =
                        c.interface_lookup_by_name(interface)
                            .await
                            .map_err(CliError::failed(format!(
                                "failed to get interface '{interface}'"
                            )))?;
                    if o.json {
                        return o.json_value(&json!({ "mac": i.mac }));
                    }
                    o.print(&format!("{}\n", i.mac))
                }
                .await
            }
            _ => return None,
        };
    Some(r)
}
