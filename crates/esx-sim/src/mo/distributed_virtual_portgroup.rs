//! `DistributedVirtualPortgroup`: a port group of a distributed switch, seen as an inventory
//! network.

use esx_vim::{
    Any, BaseDVPortgroupPolicy, DVPortgroupConfigInfo, DVPortgroupConfigSpec, NetworkSummary,
    VMwareDVSPortgroupPolicy,
};

use super::distributed_virtual_switch::{in_use, port_setting, take_ports, vlan_of};
use crate::fault::{Fault, MethodResult};
use crate::property::{entity_common, refs, Top};
use crate::state::{moref, Mo, MoRef, State};

/// The port group types the API knows.
const KINDS: &[&str] = &["earlyBinding", "lateBinding", "ephemeral"];

/// A port group's model.
#[derive(Debug, Clone)]
pub struct PortgroupMo {
    /// Name.
    pub name: String,
    /// Parent (network) folder.
    pub parent: MoRef,
    /// The switch.
    pub dvs: MoRef,
    /// `key` (the same as the object id, `dvportgroup-N`).
    pub key: String,
    /// `config.type` (`earlyBinding`, `lateBinding`, `ephemeral`).
    pub kind: String,
    /// `config.defaultPortConfig`'s VLAN id.
    pub vlan: i32,
    /// Whether this is the switch's uplink group.
    pub uplink: bool,
    /// `config.description`.
    pub description: Option<String>,
    /// `config.configVersion`, bumped by every reconfiguration.
    pub config_version: u64,
    /// `config.autoExpand`.
    pub auto_expand: bool,
    /// The keys of its ports.
    pub ports: Vec<String>,
}

/// What a new port group gets.
#[derive(Debug, Clone)]
pub struct PortgroupSpec {
    /// Name.
    pub name: String,
    /// Number of ports.
    pub num_ports: i32,
    /// Binding type.
    pub kind: String,
    /// VLAN id (`None`: the switch's default).
    pub vlan: Option<i32>,
    /// Description.
    pub description: Option<String>,
    /// `autoExpand`.
    pub auto_expand: bool,
}

impl PortgroupSpec {
    /// The port group a `DVPortgroupConfigSpec` of `AddDVPortgroup_Task` describes.
    pub fn from_spec(s: &DVPortgroupConfigSpec) -> MethodResult<PortgroupSpec> {
        let name = s
            .name
            .clone()
            .ok_or_else(|| Fault::invalid_argument("spec.name"))?;
        let kind = s.r#type.clone().unwrap_or_else(|| "earlyBinding".into());
        if !KINDS.contains(&kind.as_str()) {
            return Err(Fault::invalid_argument("spec.type"));
        }
        let num_ports = s
            .num_ports
            .unwrap_or(if kind == "ephemeral" { 0 } else { 8 });
        if num_ports < 0 {
            return Err(Fault::invalid_argument("spec.numPorts"));
        }
        Ok(PortgroupSpec {
            name,
            num_ports,
            kind,
            vlan: vlan_of(s.default_port_config.as_ref())?,
            description: s.description.clone(),
            auto_expand: s.auto_expand.unwrap_or(true),
        })
    }
}

/// The VMs with a NIC on port group `pg`.
pub fn vms_on(state: &State, pg: &MoRef) -> Vec<MoRef> {
    let mut v: Vec<MoRef> = state
        .objects
        .iter()
        .filter_map(|(id, m)| match m {
            Mo::VirtualMachine(vm) if vm.networks.contains(pg) => Some(moref("VirtualMachine", id)),
            _ => None,
        })
        .collect();
    v.sort();
    v
}

impl PortgroupMo {
    /// `config`.
    pub fn config(&self) -> DVPortgroupConfigInfo {
        DVPortgroupConfigInfo {
            key: self.key.clone(),
            name: self.name.clone(),
            num_ports: self.ports.len() as i32,
            distributed_virtual_switch: Some(self.dvs.clone()),
            default_port_config: Some(port_setting(self.vlan)),
            description: self.description.clone(),
            r#type: self.kind.clone(),
            backing_type: Some("standard".into()),
            policy: BaseDVPortgroupPolicy::from(VMwareDVSPortgroupPolicy {
                block_override_allowed: true,
                port_config_reset_at_disconnect: true,
                network_resource_pool_override_allowed: Some(false),
                traffic_filter_override_allowed: Some(false),
                ipfix_override_allowed: Some(false),
                mac_management_override_allowed: Some(false),
                ..Default::default()
            }),
            config_version: Some(self.config_version.to_string()),
            auto_expand: Some(self.auto_expand),
            uplink: Some(self.uplink),
            ..Default::default()
        }
    }

    /// Reads a top-level property.
    pub fn property(&self, state: &State, r: &MoRef, name: &str) -> Top {
        let hosts = || match state.get(&self.dvs) {
            Some(Mo::Dvs(d)) => d.hosts.clone(),
            _ => Vec::new(),
        };
        Some(match name {
            "key" => Some(Any::String(self.key.clone())),
            "config" => Some(Any::from(self.config())),
            "portKeys" => Some(crate::property::strings(self.ports.clone())),
            "summary" => Some(Any::from(NetworkSummary {
                network: Some(r.clone()),
                name: self.name.clone(),
                accessible: true,
                ..Default::default()
            })),
            "host" => Some(refs(hosts())),
            "vm" => Some(refs(vms_on(state, r))),
            _ => return entity_common(state, r, name),
        })
    }
}

fn pg_mut<'a>(state: &'a mut State, r: &MoRef) -> MethodResult<&'a mut PortgroupMo> {
    match state.lookup_mut(r)? {
        Mo::DvPortgroup(p) => Ok(p),
        _ => Err(Fault::not_found(r)),
    }
}

/// The port group `r` refers to.
pub fn pg_of<'a>(state: &'a State, r: &MoRef) -> MethodResult<&'a PortgroupMo> {
    match state.lookup(r)? {
        Mo::DvPortgroup(p) => Ok(p),
        _ => Err(Fault::not_found(r)),
    }
}

/// `ReconfigureDVPortgroup_Task`: name, ports, type, VLAN, description; a stale
/// `configVersion` is refused with `ConcurrentAccess`.
pub fn reconfigure(state: &mut State, r: &MoRef, s: &DVPortgroupConfigSpec) -> MethodResult<()> {
    let pg = pg_of(state, r)?;
    if let Some(v) = &s.config_version {
        if *v != pg.config_version.to_string() {
            return Err(Fault::new(
                esx_vim::ConcurrentAccess::default(),
                "Cannot complete operation due to concurrent modification by another operation.",
            ));
        }
    }
    if let Some(k) = &s.r#type {
        if !KINDS.contains(&k.as_str()) {
            return Err(Fault::invalid_argument("spec.type"));
        }
    }
    if let Some(n) = s.name.as_deref().filter(|n| *n != pg.name) {
        let folder = pg.parent.clone();
        super::distributed_virtual_switch::check_name(state, &folder, n, Some(r))?;
    }
    let vlan = vlan_of(s.default_port_config.as_ref())?;
    let (have, dvs) = (pg.ports.len(), pg.dvs.clone());
    let want = match s.num_ports {
        Some(n) if n < 0 => return Err(Fault::invalid_argument("spec.numPorts")),
        Some(n) => n as usize,
        None => have,
    };
    let extra = if want > have {
        take_ports(state, &dvs, want - have)?
    } else {
        Vec::new()
    };
    let pg = pg_mut(state, r)?;
    pg.ports.extend(extra);
    pg.ports.truncate(want);
    if let Some(n) = &s.name {
        pg.name = n.clone();
    }
    if let Some(k) = &s.r#type {
        pg.kind = k.clone();
    }
    if let Some(v) = vlan {
        pg.vlan = v;
    }
    if let Some(d) = &s.description {
        pg.description = Some(d.clone());
    }
    if let Some(a) = s.auto_expand {
        pg.auto_expand = a;
    }
    pg.config_version += 1;
    Ok(())
}

/// `Destroy_Task` of a port group: `ResourceInUse` while a VM uses it; the uplink group goes
/// only with its switch.
pub fn destroy(state: &mut State, r: &MoRef) -> MethodResult<()> {
    let pg = pg_of(state, r)?;
    if pg.uplink {
        return Err(in_use("DistributedVirtualPortgroup", &pg.name));
    }
    if !vms_on(state, r).is_empty() {
        return Err(in_use("DistributedVirtualPortgroup", &pg.name));
    }
    let (dvs, parent) = (pg.dvs.clone(), pg.parent.clone());
    state.objects.remove(&r.value);
    if let Some(Mo::Dvs(d)) = state.objects.get_mut(&dvs.value) {
        d.portgroups.retain(|p| p != r);
    }
    if let Some(Mo::Folder(f)) = state.objects.get_mut(&parent.value) {
        f.children.retain(|c| c != r);
    }
    for m in state.objects.values_mut() {
        if let Mo::HostSystem(h) = m {
            h.networks.retain(|n| n != r);
        }
    }
    Ok(())
}
