//! `HostNetworkSystem` changes: standard virtual switches and port groups. A host's port groups
//! are its inventory networks: adding one makes (or joins) the `Network` of that name in the
//! datacenter's network folder, removing the last host's port group removes the `Network`.

use esx_vim::{
    BaseHostVirtualSwitchBridge, HostPortGroupSpec, HostVirtualSwitch, HostVirtualSwitchBondBridge,
    HostVirtualSwitchSpec, ResourceInUse,
};

use crate::config::Flavor;
use crate::fault::{Fault, MethodResult};
use crate::mo::host_system::{host, host_mut, ServiceKind};
use crate::mo::network::NetworkMo;
use crate::state::{moref, Mo, MoRef, State};

/// Longest virtual switch name ESX accepts.
pub const MAX_VSWITCH_NAME: usize = 32;

/// Ports a switch gets when the spec does not say (and the most it may have).
pub const DEFAULT_PORTS: i32 = 128;

/// Ports a switch may have at most.
pub const MAX_PORTS: i32 = 4088;

/// The host whose `HostNetworkSystem` is `this`.
pub fn host_of(state: &State, this: &MoRef) -> MethodResult<MoRef> {
    crate::mo::host_system::service_host(state, this, ServiceKind::Network)
}

fn in_use(kind: &str, name: &str) -> Fault {
    Fault::new(
        ResourceInUse {
            r#type: Some(kind.to_owned()),
            name: Some(name.to_owned()),
            ..Default::default()
        },
        format!("The resource '{name}' is in use."),
    )
}

fn not_found(what: &str) -> Fault {
    Fault::not_found_plain(&format!(
        "The object or item referred to could not be found: {what}"
    ))
}

fn check_vlan(vlan: i32) -> MethodResult<()> {
    if (0..=4095).contains(&vlan) {
        Ok(())
    } else {
        Err(Fault::invalid_argument("portgrp.vlanId"))
    }
}

/// The network (by name) in the datacenter of `host`.
fn network_named(state: &State, host: &MoRef, name: &str) -> Option<MoRef> {
    let folder = network_folder(state, host)?;
    crate::mo::folder::child_named(state, &folder, name).filter(|r| r.r#type == "Network")
}

fn network_folder(state: &State, host: &MoRef) -> Option<MoRef> {
    let dc = crate::mo::datacenter::datacenter_of(state, host)?;
    match state.get(&dc) {
        Some(Mo::Datacenter(d)) => Some(d.network_folder.clone()),
        _ => None,
    }
}

/// Whether a VM on `host` has a NIC on the network named `name`.
fn used_by_vm(state: &State, host: &MoRef, name: &str) -> bool {
    let Some(net) = network_named(state, host, name) else {
        return false;
    };
    state
        .objects
        .values()
        .any(|m| matches!(m, Mo::VirtualMachine(v) if &v.host == host && v.networks.contains(&net)))
}

/// Makes `host` a member of the network named `name` (creating it when new).
fn join_network(state: &mut State, host: &MoRef, name: &str) {
    let net = match network_named(state, host, name) {
        Some(n) => n,
        None => {
            let Some(folder) = network_folder(state, host) else {
                return;
            };
            let id = match state.flavor() {
                Flavor::Esx => format!("HaNetwork-{name}"),
                Flavor::Vcenter => state.new_id("network"),
            };
            state.insert(
                &id,
                Mo::Network(NetworkMo {
                    name: name.to_owned(),
                    parent: folder.clone(),
                    hosts: Vec::new(),
                }),
            );
            let r = moref("Network", &id);
            if let Some(Mo::Folder(f)) = state.objects.get_mut(&folder.value) {
                f.children.push(r.clone());
            }
            r
        }
    };
    if let Some(Mo::Network(n)) = state.objects.get_mut(&net.value) {
        if !n.hosts.contains(host) {
            n.hosts.push(host.clone());
        }
    }
    if let Some(Mo::HostSystem(h)) = state.objects.get_mut(&host.value) {
        if !h.networks.contains(&net) {
            h.networks.push(net);
        }
    }
    relink_vms(state);
}

/// Takes `host` out of the network named `name` (removing it when no host is left and no VM
/// uses it).
fn leave_network(state: &mut State, host: &MoRef, name: &str) {
    let Some(net) = network_named(state, host, name) else {
        return;
    };
    if let Some(Mo::HostSystem(h)) = state.objects.get_mut(&host.value) {
        h.networks.retain(|n| n != &net);
    }
    let empty = match state.objects.get_mut(&net.value) {
        Some(Mo::Network(n)) => {
            n.hosts.retain(|h| h != host);
            n.hosts.is_empty()
        }
        _ => false,
    };
    let used = state
        .objects
        .values()
        .any(|m| matches!(m, Mo::VirtualMachine(v) if v.networks.contains(&net)));
    if empty && !used {
        let parent = state.parent_of(&net);
        state.objects.remove(&net.value);
        if let Some(Mo::Folder(f)) = parent.and_then(|p| state.objects.get_mut(&p.value)) {
            f.children.retain(|c| c != &net);
        }
    }
}

/// Re-attaches VM NICs to networks by name (a new port group can give a VM's NIC its network).
fn relink_vms(state: &mut State) {
    let vms: Vec<MoRef> = state
        .objects
        .iter()
        .filter_map(|(id, m)| match m {
            Mo::VirtualMachine(v) if v.networks.is_empty() => Some(moref("VirtualMachine", id)),
            _ => None,
        })
        .collect();
    for vm in vms {
        let _ = crate::dispatch::refresh_vm(state, &vm);
    }
}

/// `AddVirtualSwitch`.
pub fn add_vswitch(
    state: &mut State,
    host_ref: &MoRef,
    name: &str,
    spec: Option<&HostVirtualSwitchSpec>,
) -> MethodResult<()> {
    if name.is_empty() || name.len() > MAX_VSWITCH_NAME || name.contains('/') {
        return Err(Fault::invalid_argument("vswitchName"));
    }
    let spec = spec.cloned().unwrap_or(HostVirtualSwitchSpec {
        num_ports: DEFAULT_PORTS,
        ..Default::default()
    });
    if !(0..=MAX_PORTS).contains(&spec.num_ports) {
        return Err(Fault::invalid_argument("spec.numPorts"));
    }
    if spec.mtu.is_some_and(|m| !(1280..=9000).contains(&m)) {
        return Err(Fault::invalid_argument("spec.mtu"));
    }
    let h = host_mut(state, host_ref)?;
    if h.vswitches.iter().any(|s| s.name == name) {
        return Err(Fault::already_exists(name));
    }
    let uplinks = bridge_nics(h, spec.bridge.as_ref())?;
    let ports = if spec.num_ports == 0 {
        DEFAULT_PORTS
    } else {
        spec.num_ports
    };
    h.vswitches.push(HostVirtualSwitch {
        name: name.to_owned(),
        key: format!("key-vim.host.VirtualSwitch-{name}"),
        num_ports: ports,
        num_ports_available: ports,
        mtu: Some(spec.mtu.unwrap_or(1500)),
        pnic: uplinks
            .iter()
            .map(|d| format!("key-vim.host.PhysicalNic-{d}"))
            .collect(),
        spec: HostVirtualSwitchSpec {
            num_ports: ports,
            mtu: Some(spec.mtu.unwrap_or(1500)),
            bridge: (!uplinks.is_empty()).then(|| {
                BaseHostVirtualSwitchBridge::from(HostVirtualSwitchBondBridge {
                    nic_device: uplinks.clone(),
                    ..Default::default()
                })
            }),
            ..spec
        },
        ..Default::default()
    });
    Ok(())
}

/// The physical NICs (device names) a switch spec's bridge names, each by device name
/// (`vmnic1`) or `PhysicalNic` key (libvirt sends keys): `NotFound` for one the host does not
/// have, `ResourceInUse` for one another switch already uses.
fn bridge_nics(
    h: &crate::mo::host_system::HostMo,
    bridge: Option<&BaseHostVirtualSwitchBridge>,
) -> MethodResult<Vec<String>> {
    let names: Vec<String> = match bridge {
        None | Some(BaseHostVirtualSwitchBridge::HostVirtualSwitchAutoBridge(_)) => Vec::new(),
        Some(BaseHostVirtualSwitchBridge::HostVirtualSwitchBondBridge(b)) => b.nic_device.clone(),
        Some(BaseHostVirtualSwitchBridge::HostVirtualSwitchSimpleBridge(b)) => {
            vec![b.nic_device.clone()]
        }
        Some(BaseHostVirtualSwitchBridge::HostVirtualSwitchBridge(_)) => {
            return Err(Fault::invalid_argument("spec.bridge"))
        }
    };
    let pnics = crate::mo::host_system::physical_nics();
    let mut out: Vec<String> = Vec::new();
    for n in names {
        let nic = pnics
            .iter()
            .find(|p| p.device == n || p.key.as_deref() == Some(n.as_str()))
            .ok_or_else(|| not_found(&n))?;
        let key = nic.key.clone().unwrap_or_default();
        if let Some(sw) = h.vswitches.iter().find(|s| s.pnic.contains(&key)) {
            return Err(in_use(
                "pnic",
                &format!("{} (used by {})", nic.device, sw.name),
            ));
        }
        if !out.contains(&nic.device) {
            out.push(nic.device.clone());
        }
    }
    Ok(out)
}

/// `RemoveVirtualSwitch`: removes the switch with its port groups, unless a VM uses one.
pub fn remove_vswitch(state: &mut State, host_ref: &MoRef, name: &str) -> MethodResult<()> {
    let h = host(state, host_ref)?;
    if !h.vswitches.iter().any(|s| s.name == name) {
        return Err(not_found(name));
    }
    let groups: Vec<String> = h
        .portgroups
        .iter()
        .filter(|p| p.spec.vswitch_name == name)
        .map(|p| p.spec.name.clone())
        .collect();
    if let Some(g) = groups.iter().find(|g| used_by_vm(state, host_ref, g)) {
        return Err(in_use("portgroup", g));
    }
    let h = host_mut(state, host_ref)?;
    h.portgroups.retain(|p| p.spec.vswitch_name != name);
    h.vswitches.retain(|s| s.name != name);
    for g in groups {
        leave_network(state, host_ref, &g);
    }
    Ok(())
}

/// `AddPortGroup`.
pub fn add_portgroup(
    state: &mut State,
    host_ref: &MoRef,
    spec: &HostPortGroupSpec,
) -> MethodResult<()> {
    if spec.name.is_empty() || spec.name.contains('/') {
        return Err(Fault::invalid_argument("portgrp.name"));
    }
    check_vlan(spec.vlan_id)?;
    let h = host_mut(state, host_ref)?;
    if !h.vswitches.iter().any(|s| s.name == spec.vswitch_name) {
        return Err(not_found(&spec.vswitch_name));
    }
    if h.portgroups.iter().any(|p| p.spec.name == spec.name) {
        return Err(Fault::already_exists(&spec.name));
    }
    h.add_portgroup(&spec.name, &spec.vswitch_name, spec.vlan_id);
    if let Some(p) = h.portgroups.last_mut() {
        p.spec.policy = spec.policy.clone();
    }
    join_network(state, host_ref, &spec.name);
    Ok(())
}

/// Removes the port group `name` from the host's model (switch key list included).
fn drop_portgroup(h: &mut crate::mo::host_system::HostMo, name: &str) {
    let key = format!("key-vim.host.PortGroup-{name}");
    h.portgroups.retain(|p| p.spec.name != name);
    for sw in &mut h.vswitches {
        sw.portgroup.retain(|k| k != &key);
    }
}

/// `RemovePortGroup`: refused with `ResourceInUse` while a VM on the host uses it.
pub fn remove_portgroup(state: &mut State, host_ref: &MoRef, name: &str) -> MethodResult<()> {
    if !host(state, host_ref)?
        .portgroups
        .iter()
        .any(|p| p.spec.name == name)
    {
        return Err(not_found(name));
    }
    if used_by_vm(state, host_ref, name) {
        return Err(in_use("portgroup", name));
    }
    drop_portgroup(host_mut(state, host_ref)?, name);
    leave_network(state, host_ref, name);
    Ok(())
}

/// `UpdatePortGroup`: VLAN, policy, switch and name (renaming one a VM uses is `ResourceInUse`).
pub fn update_portgroup(
    state: &mut State,
    host_ref: &MoRef,
    name: &str,
    spec: &HostPortGroupSpec,
) -> MethodResult<()> {
    check_vlan(spec.vlan_id)?;
    let h = host(state, host_ref)?;
    if !h.portgroups.iter().any(|p| p.spec.name == name) {
        return Err(not_found(name));
    }
    let new_name = if spec.name.is_empty() {
        name.to_owned()
    } else {
        spec.name.clone()
    };
    if new_name.contains('/') {
        return Err(Fault::invalid_argument("portgrp.name"));
    }
    let switch = if spec.vswitch_name.is_empty() {
        h.portgroups
            .iter()
            .find(|p| p.spec.name == name)
            .map(|p| p.spec.vswitch_name.clone())
            .unwrap_or_default()
    } else {
        spec.vswitch_name.clone()
    };
    if !h.vswitches.iter().any(|s| s.name == switch) {
        return Err(not_found(&switch));
    }
    let renamed = new_name != name;
    if renamed {
        if h.portgroups.iter().any(|p| p.spec.name == new_name) {
            return Err(Fault::already_exists(&new_name));
        }
        if used_by_vm(state, host_ref, name) {
            return Err(in_use("portgroup", name));
        }
    }
    let h = host_mut(state, host_ref)?;
    drop_portgroup(h, name);
    h.add_portgroup(&new_name, &switch, spec.vlan_id);
    if let Some(p) = h.portgroups.last_mut() {
        p.spec.policy = spec.policy.clone();
    }
    if renamed {
        leave_network(state, host_ref, name);
        join_network(state, host_ref, &new_name);
    }
    Ok(())
}
