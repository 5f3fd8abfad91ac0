//! `VmwareDistributedVirtualSwitch` (vCenter only): a switch spanning the hosts of a datacenter,
//! its ports (numbered across its port groups), and the methods that create and change it.

use esx_vim::{
    Any, BaseDVPortSetting, BaseDVSConfigSpec, BaseDVSUplinkPortPolicy,
    BaseVmwareDistributedVirtualSwitchVlanSpec, BoolPolicy, DVPortConfigInfo, DVSCapability,
    DVSContactInfo, DVSCreateSpec, DVSNameArrayUplinkPortPolicy, DVSSummary, DateTime,
    DistributedVirtualPort, DistributedVirtualSwitchHostMember,
    DistributedVirtualSwitchHostMemberConfigInfo, DistributedVirtualSwitchHostMemberConfigSpec,
    DistributedVirtualSwitchPortConnectee, DistributedVirtualSwitchPortCriteria,
    DistributedVirtualSwitchProductSpec, StringPolicy, VMwareDVSConfigInfo, VMwareDVSPortSetting,
    VmwareDistributedVirtualSwitchVlanIdSpec, VmwareUplinkPortTeamingPolicy,
};

use super::distributed_virtual_portgroup::{PortgroupMo, PortgroupSpec};
use crate::fault::{Fault, MethodResult};
use crate::property::{entity_common, refs, Top};
use crate::state::{moref, Mo, MoRef, State};

/// The switch version a new switch gets (vCenter 7.0.3's newest).
pub const VERSION: &str = "7.0.3";

/// Uplinks per host of a new switch.
const UPLINKS: usize = 4;

/// A distributed switch's model.
#[derive(Debug, Clone)]
pub struct DvsMo {
    /// Name.
    pub name: String,
    /// Parent (network) folder.
    pub parent: MoRef,
    /// `uuid`, 16 hex pairs (`50 36 70 b8 … 4a-7e 5d … 84`).
    pub uuid: String,
    /// Member hosts.
    pub hosts: Vec<MoRef>,
    /// Port groups, the uplink one first.
    pub portgroups: Vec<MoRef>,
    /// The uplink port group.
    pub uplink_portgroup: Option<MoRef>,
    /// `config.description`.
    pub description: Option<String>,
    /// `config.configVersion`, bumped by every reconfiguration.
    pub config_version: u64,
    /// `config.maxPorts`.
    pub max_ports: i32,
    /// `config.defaultPortConfig`'s VLAN id.
    pub vlan: i32,
    /// `config.maxMtu`.
    pub max_mtu: i32,
    /// The uplink names (`uplink1`…).
    pub uplink_names: Vec<String>,
    /// `config.createTime`.
    pub created: DateTime,
    /// The next port key to hand out.
    pub next_port: u64,
    /// `summary.productInfo.version`.
    pub version: String,
}

/// The 16-byte hex-pairs form of a switch UUID made from `seed`.
pub fn switch_uuid(seed: &str) -> String {
    let hex: String = super::virtual_machine::uuid_from(seed)
        .chars()
        .filter(char::is_ascii_hexdigit)
        .collect();
    let pairs: Vec<&str> = (0..16).map(|i| &hex[2 * i..2 * i + 2]).collect();
    format!("{}-{}", pairs[..8].join(" "), pairs[8..].join(" "))
}

/// The common fields of a `DVSConfigSpec` whatever its subtype.
pub struct SwitchSpec<'a> {
    /// `configVersion`.
    pub config_version: Option<&'a str>,
    /// `name`.
    pub name: Option<&'a str>,
    /// `description`.
    pub description: Option<&'a str>,
    /// `maxPorts`.
    pub max_ports: Option<i32>,
    /// `defaultPortConfig`.
    pub default_port_config: Option<&'a BaseDVPortSetting>,
    /// `host`.
    pub host: &'a [DistributedVirtualSwitchHostMemberConfigSpec],
    /// `uplinkPortPolicy`.
    pub uplink_port_policy: Option<&'a BaseDVSUplinkPortPolicy>,
    /// `maxMtu` (VMware switches only).
    pub max_mtu: Option<i32>,
}

impl<'a> SwitchSpec<'a> {
    /// The fields of `s`.
    pub fn of(s: &'a BaseDVSConfigSpec) -> SwitchSpec<'a> {
        macro_rules! common {
            ($c:expr, $mtu:expr) => {
                SwitchSpec {
                    config_version: $c.config_version.as_deref(),
                    name: $c.name.as_deref(),
                    description: $c.description.as_deref(),
                    max_ports: $c.max_ports,
                    default_port_config: $c.default_port_config.as_ref(),
                    host: &$c.host,
                    uplink_port_policy: $c.uplink_port_policy.as_ref(),
                    max_mtu: $mtu,
                }
            };
        }
        match s {
            BaseDVSConfigSpec::DVSConfigSpec(c) => common!(c, None),
            BaseDVSConfigSpec::VMwareDVSConfigSpec(c) => common!(c, c.max_mtu),
        }
    }
}

/// The VLAN id a port setting gives (`None`: no VLAN id setting, e.g. a trunk).
pub fn vlan_of(s: Option<&BaseDVPortSetting>) -> MethodResult<Option<i32>> {
    let Some(BaseDVPortSetting::VMwareDVSPortSetting(p)) = s else {
        return Ok(None);
    };
    match &p.vlan {
        Some(
            BaseVmwareDistributedVirtualSwitchVlanSpec::VmwareDistributedVirtualSwitchVlanIdSpec(v),
        ) => {
            if !(0..=4094).contains(&v.vlan_id) {
                return Err(Fault::invalid_argument("defaultPortConfig.vlan.vlanId"));
            }
            Ok(Some(v.vlan_id))
        }
        _ => Ok(None),
    }
}

/// A VMware port setting with VLAN `vlan` (and the teaming vCenter reports by default).
pub fn port_setting(vlan: i32) -> BaseDVPortSetting {
    let b = |v: bool| BoolPolicy {
        inherited: false,
        value: Some(v),
    };
    BaseDVPortSetting::from(VMwareDVSPortSetting {
        blocked: Some(b(false)),
        vlan: Some(BaseVmwareDistributedVirtualSwitchVlanSpec::from(
            VmwareDistributedVirtualSwitchVlanIdSpec {
                inherited: false,
                vlan_id: vlan,
            },
        )),
        uplink_teaming_policy: Some(VmwareUplinkPortTeamingPolicy {
            inherited: false,
            policy: Some(StringPolicy {
                inherited: false,
                value: Some("loadbalance_srcid".into()),
            }),
            reverse_policy: Some(b(true)),
            notify_switches: Some(b(true)),
            rolling_order: Some(b(false)),
            ..Default::default()
        }),
        tx_uplink: Some(b(false)),
        ..Default::default()
    })
}

impl DvsMo {
    fn product(&self) -> DistributedVirtualSwitchProductSpec {
        DistributedVirtualSwitchProductSpec {
            name: Some("DVS".into()),
            vendor: Some("VMware, Inc.".into()),
            version: Some(self.version.clone()),
            build: Some("18778458".into()),
            forwarding_class: Some("etherswitch".into()),
            ..Default::default()
        }
    }

    /// Ports of all port groups.
    fn num_ports(&self, state: &State) -> i32 {
        self.portgroups
            .iter()
            .filter_map(|p| match state.get(p) {
                Some(Mo::DvPortgroup(pg)) => Some(pg.ports.len() as i32),
                _ => None,
            })
            .sum()
    }

    /// The VMs with a NIC on one of the switch's port groups.
    fn vms(&self, state: &State) -> Vec<MoRef> {
        let mut v: Vec<MoRef> = self
            .portgroups
            .iter()
            .flat_map(|p| super::distributed_virtual_portgroup::vms_on(state, p))
            .collect();
        v.sort();
        v.dedup();
        v
    }

    /// `config` as a `VMwareDVSConfigInfo`.
    pub fn config(&self, state: &State) -> VMwareDVSConfigInfo {
        let members = self
            .hosts
            .iter()
            .map(|h| DistributedVirtualSwitchHostMember {
                config: DistributedVirtualSwitchHostMemberConfigInfo {
                    host: Some(h.clone()),
                    max_proxy_switch_ports: 512,
                    ..Default::default()
                },
                product_info: Some(self.product()),
                uplink_port_key: self.uplink_keys(state, h),
                status: "up".into(),
                ..Default::default()
            })
            .collect();
        VMwareDVSConfigInfo {
            uuid: self.uuid.clone(),
            name: self.name.clone(),
            num_standalone_ports: 0,
            num_ports: self.num_ports(state),
            max_ports: self.max_ports,
            uplink_port_policy: BaseDVSUplinkPortPolicy::from(DVSNameArrayUplinkPortPolicy {
                uplink_port_name: self.uplink_names.clone(),
            }),
            uplink_portgroup: self.uplink_portgroup.iter().cloned().collect(),
            default_port_config: port_setting(self.vlan),
            host: members,
            product_info: self.product(),
            extension_key: None,
            description: self.description.clone(),
            config_version: self.config_version.to_string(),
            contact: DVSContactInfo::default(),
            create_time: self.created,
            network_resource_management_enabled: Some(false),
            default_proxy_switch_max_num_ports: Some(512),
            network_resource_control_version: Some("version3".into()),
            pnic_capacity_ratio_for_reservation: Some(0),
            max_mtu: self.max_mtu,
            lacp_api_version: Some("multipleLag".into()),
            multicast_filtering_mode: Some("legacyFiltering".into()),
            ..Default::default()
        }
    }

    /// The uplink port keys of host `h` (its share of the uplink port group).
    fn uplink_keys(&self, state: &State, h: &MoRef) -> Vec<String> {
        let Some(Mo::DvPortgroup(pg)) = self.uplink_portgroup.as_ref().and_then(|u| state.get(u))
        else {
            return Vec::new();
        };
        let i = self.hosts.iter().position(|x| x == h).unwrap_or(0);
        pg.ports
            .iter()
            .skip(i * self.uplink_names.len())
            .take(self.uplink_names.len())
            .cloned()
            .collect()
    }

    /// Reads a top-level property.
    pub fn property(&self, state: &State, r: &MoRef, name: &str) -> Top {
        Some(match name {
            "uuid" => Some(Any::String(self.uuid.clone())),
            "capability" => Some(Any::from(DVSCapability {
                dvs_operation_supported: Some(true),
                dv_port_group_operation_supported: Some(true),
                dv_port_operation_supported: Some(true),
                ..Default::default()
            })),
            "summary" => Some(Any::from(DVSSummary {
                name: self.name.clone(),
                uuid: self.uuid.clone(),
                num_ports: self.num_ports(state),
                product_info: Some(self.product()),
                host_member: self.hosts.clone(),
                vm: self.vms(state),
                host: self.hosts.clone(),
                portgroup_name: self
                    .portgroups
                    .iter()
                    .filter_map(|p| state.name_of(p))
                    .collect(),
                description: self.description.clone(),
                contact: Some(DVSContactInfo::default()),
                num_hosts: Some(self.hosts.len() as i32),
            })),
            "config" => Some(Any::from(self.config(state))),
            "portgroup" => Some(refs(self.portgroups.clone())),
            _ => return entity_common(state, r, name),
        })
    }
}

/// Whether a port matches `c` (criteria fields a port does not have are ignored).
struct PortView<'a> {
    key: &'a str,
    portgroup: &'a MoRef,
    portgroup_key: &'a str,
    uplink: bool,
    vlan: i32,
    connectee: Option<(MoRef, String)>,
    host: Option<MoRef>,
}

impl PortView<'_> {
    fn matches(&self, c: &DistributedVirtualSwitchPortCriteria) -> bool {
        let connected = self.connectee.is_some();
        c.connected.is_none_or(|w| w == connected)
            && c.active.is_none_or(|w| w == connected)
            && c.uplink_port.is_none_or(|w| w == self.uplink)
            && c.inside.is_none_or(|w| w)
            && c.nsx_port.is_none_or(|w| !w)
            && (c.portgroup_key.is_empty()
                || c.portgroup_key.iter().any(|k| k == self.portgroup_key))
            && (c.port_key.is_empty() || c.port_key.iter().any(|k| k == self.key))
            && (c.host.is_empty() || self.host.as_ref().is_some_and(|h| c.host.contains(h)))
            && c.scope.as_ref().is_none_or(|s| s == self.portgroup)
    }
}

/// The NIC (VM, device key) connected to port `key` of switch `uuid`.
fn connectees(state: &State, uuid: &str) -> Vec<(String, MoRef, String)> {
    let mut out = Vec::new();
    for (id, m) in &state.objects {
        let Mo::VirtualMachine(vm) = m else { continue };
        if vm.files_pending() {
            continue;
        }
        let vmx = vm.vmx();
        for n in 0..10 {
            let p = format!("ethernet{n}");
            if vmx
                .get(&format!("{p}.present"))
                .map(str::to_ascii_lowercase)
                .as_deref()
                != Some("true")
            {
                continue;
            }
            if vmx.get(&format!("{p}.dvs.switchId")) != Some(uuid) {
                continue;
            }
            if let Some(port) = vmx.get(&format!("{p}.dvs.portId")) {
                out.push((
                    port.to_owned(),
                    moref("VirtualMachine", id),
                    (4000 + n).to_string(),
                ));
            }
        }
    }
    out
}

/// `FetchDVPorts` / `FetchDVPortKeys`: the ports of `dvs` matching `criteria`.
pub fn fetch_ports(
    state: &State,
    dvs: &MoRef,
    criteria: Option<&DistributedVirtualSwitchPortCriteria>,
) -> MethodResult<Vec<DistributedVirtualPort>> {
    let d = dvs_of(state, dvs)?;
    let all = DistributedVirtualSwitchPortCriteria::default();
    let c = criteria.unwrap_or(&all);
    let conns = connectees(state, &d.uuid);
    let mut out = Vec::new();
    for pg_ref in &d.portgroups {
        let Some(Mo::DvPortgroup(pg)) = state.get(pg_ref) else {
            continue;
        };
        for (i, key) in pg.ports.iter().enumerate() {
            let host = if pg.uplink {
                d.hosts.get(i / d.uplink_names.len().max(1)).cloned()
            } else {
                None
            };
            let view = PortView {
                key,
                portgroup: pg_ref,
                portgroup_key: &pg.key,
                uplink: pg.uplink,
                vlan: pg.vlan,
                connectee: conns
                    .iter()
                    .find(|(k, ..)| k == key)
                    .map(|(_, vm, nic)| (vm.clone(), nic.clone())),
                host,
            };
            if !view.matches(c) {
                continue;
            }
            out.push(DistributedVirtualPort {
                key: key.clone(),
                config: DVPortConfigInfo {
                    name: pg
                        .uplink
                        .then(|| d.uplink_names[i % d.uplink_names.len().max(1)].clone()),
                    setting: Some(port_setting(view.vlan)),
                    config_version: "0".into(),
                    ..Default::default()
                },
                dvs_uuid: d.uuid.clone(),
                portgroup_key: Some(pg.key.clone()),
                proxy_host: view.host.clone(),
                connectee: view.connectee.clone().map(|(vm, nic)| {
                    DistributedVirtualSwitchPortConnectee {
                        connected_entity: Some(vm),
                        nic_key: Some(nic),
                        r#type: Some("vmVnic".into()),
                        address_hint: None,
                    }
                }),
                conflict: false,
                last_status_change: d.created,
                host_local_port: Some(false),
                ..Default::default()
            });
        }
    }
    Ok(out)
}

/// The switch `r` refers to.
pub fn dvs_of<'a>(state: &'a State, r: &MoRef) -> MethodResult<&'a DvsMo> {
    match state.lookup(r)? {
        Mo::Dvs(d) => Ok(d),
        _ => Err(Fault::not_found(r)),
    }
}

fn dvs_mut<'a>(state: &'a mut State, r: &MoRef) -> MethodResult<&'a mut DvsMo> {
    match state.lookup_mut(r)? {
        Mo::Dvs(d) => Ok(d),
        _ => Err(Fault::not_found(r)),
    }
}

/// Checks a new switch or port group name: not empty, at most 80 characters, unique in the
/// network folder.
pub fn check_name(
    state: &State,
    folder: &MoRef,
    name: &str,
    me: Option<&MoRef>,
) -> MethodResult<()> {
    if name.trim().is_empty() || name.chars().count() > 80 {
        return Err(Fault::new(
            esx_vim::InvalidName {
                name: name.to_owned(),
                entity: me.cloned(),
                ..Default::default()
            },
            format!("The name '{name}' is invalid."),
        ));
    }
    // Port groups and switches share the datacenter's network namespace.
    let dc = super::datacenter::datacenter_of(state, folder);
    let taken = state.objects.iter().find_map(|(id, m)| {
        let (n, p, ty) = match m {
            Mo::Dvs(d) => (&d.name, &d.parent, "VmwareDistributedVirtualSwitch"),
            Mo::DvPortgroup(p) => (&p.name, &p.parent, "DistributedVirtualPortgroup"),
            Mo::Network(n) => (&n.name, &n.parent, "Network"),
            _ => return None,
        };
        let r = moref(ty, id);
        (n == name && Some(&r) != me && super::datacenter::datacenter_of(state, p) == dc)
            .then_some(r)
    });
    match taken {
        Some(r) => Err(Fault::duplicate_name(name, &r)),
        None => Ok(()),
    }
}

/// `CreateDVS_Task` on network folder `folder`: the switch with its uplink port group.
pub fn create(state: &mut State, folder: &MoRef, spec: &DVSCreateSpec) -> MethodResult<MoRef> {
    if state.flavor() == crate::config::Flavor::Esx {
        return Err(Fault::not_supported("CreateDVS_Task on a standalone host"));
    }
    match state.lookup(folder)? {
        Mo::Folder(f) if f.child_type.iter().any(|t| t == "Network") => {}
        _ => {
            return Err(Fault::not_supported(
                "CreateDVS_Task outside a network folder",
            ))
        }
    }
    let s = SwitchSpec::of(&spec.config_spec);
    let name = s
        .name
        .ok_or_else(|| Fault::invalid_argument("spec.configSpec.name"))?;
    check_name(state, folder, name, None)?;
    let vlan = vlan_of(s.default_port_config)?.unwrap_or(0);
    let uplink_names = match s.uplink_port_policy {
        Some(BaseDVSUplinkPortPolicy::DVSNameArrayUplinkPortPolicy(p))
            if !p.uplink_port_name.is_empty() =>
        {
            p.uplink_port_name.clone()
        }
        _ => (1..=UPLINKS).map(|i| format!("uplink{i}")).collect(),
    };
    let mut hosts = Vec::new();
    for h in s.host {
        if h.operation != "add" {
            return Err(Fault::invalid_argument("spec.configSpec.host.operation"));
        }
        match state.get(&h.host) {
            Some(Mo::HostSystem(_)) => hosts.push(h.host.clone()),
            _ => return Err(Fault::not_found(&h.host)),
        }
    }
    let version = spec
        .product_info
        .as_ref()
        .and_then(|p| p.version.clone())
        .unwrap_or_else(|| VERSION.to_owned());
    if !["6.5.0", "6.6.0", "7.0.0", "7.0.2", "7.0.3"].contains(&version.as_str()) {
        return Err(Fault::invalid_argument("spec.productInfo.version"));
    }
    let id = state.new_id("dvs");
    let r = moref("VmwareDistributedVirtualSwitch", &id);
    let uplink_name = format!("{name}-DVUplinks-{}", id.trim_start_matches("dvs-"));
    let dvs = DvsMo {
        name: name.to_owned(),
        parent: folder.clone(),
        uuid: switch_uuid(&format!("dvs:{id}:{name}")),
        hosts: Vec::new(),
        portgroups: Vec::new(),
        uplink_portgroup: None,
        description: s.description.map(str::to_owned),
        config_version: 1,
        max_ports: s.max_ports.unwrap_or(2_147_483_647),
        vlan,
        max_mtu: s.max_mtu.unwrap_or(1500),
        uplink_names,
        created: crate::state::now(),
        next_port: 0,
        version,
    };
    state.insert(&id, Mo::Dvs(Box::new(dvs)));
    if let Some(Mo::Folder(f)) = state.objects.get_mut(&folder.value) {
        f.children.push(r.clone());
    }
    let up = add_portgroup(
        state,
        &r,
        &PortgroupSpec {
            name: uplink_name,
            num_ports: 0,
            kind: "earlyBinding".into(),
            vlan: None,
            description: None,
            auto_expand: false,
        },
        true,
    )?;
    dvs_mut(state, &r)?.uplink_portgroup = Some(up);
    for h in hosts {
        join(state, &r, &h)?;
    }
    Ok(r)
}

/// Adds host `h` to switch `r` (its uplink ports and the port groups on its `network`).
fn join(state: &mut State, r: &MoRef, h: &MoRef) -> MethodResult<()> {
    let d = dvs_of(state, r)?;
    if d.hosts.contains(h) {
        return Err(Fault::new(
            esx_vim::AlreadyExists {
                name: Some(state.name_of(h).unwrap_or_default()),
                ..Default::default()
            },
            "The host is already a member of the switch.",
        ));
    }
    let (pgs, up, n) = (
        d.portgroups.clone(),
        d.uplink_portgroup.clone(),
        d.uplink_names.len(),
    );
    if let Some(up) = up {
        let keys = take_ports(state, r, n)?;
        if let Some(Mo::DvPortgroup(pg)) = state.objects.get_mut(&up.value) {
            pg.ports.extend(keys);
        }
    }
    dvs_mut(state, r)?.hosts.push(h.clone());
    if let Some(Mo::HostSystem(hm)) = state.objects.get_mut(&h.value) {
        for p in pgs {
            if !hm.networks.contains(&p) {
                hm.networks.push(p);
            }
        }
    }
    Ok(())
}

/// Removes host `h` from switch `r`; `ResourceInUse` while a VM of the host uses the switch.
fn leave(state: &mut State, r: &MoRef, h: &MoRef) -> MethodResult<()> {
    let d = dvs_of(state, r)?;
    let Some(i) = d.hosts.iter().position(|x| x == h) else {
        return Err(Fault::not_found(h));
    };
    let busy = d
        .vms(state)
        .iter()
        .any(|vm| state.vm(vm).is_ok_and(|v| &v.host == h));
    if busy {
        return Err(in_use("HostSystem", &state.name_of(h).unwrap_or_default()));
    }
    let (pgs, up, n) = (
        d.portgroups.clone(),
        d.uplink_portgroup.clone(),
        d.uplink_names.len(),
    );
    if let Some(Mo::DvPortgroup(pg)) = up.and_then(|u| state.objects.get_mut(&u.value)) {
        let end = ((i + 1) * n).min(pg.ports.len());
        pg.ports.drain((i * n).min(end)..end);
    }
    dvs_mut(state, r)?.hosts.remove(i);
    if let Some(Mo::HostSystem(hm)) = state.objects.get_mut(&h.value) {
        hm.networks.retain(|x| !pgs.contains(x));
    }
    Ok(())
}

/// A `ResourceInUse` fault for the object of `ty` named `name`.
pub fn in_use(ty: &str, name: &str) -> Fault {
    Fault::new(
        esx_vim::ResourceInUse {
            r#type: Some(ty.to_owned()),
            name: Some(name.to_owned()),
            ..Default::default()
        },
        format!("The resource '{name}' is in use."),
    )
}

/// Hands out `n` fresh port keys of switch `r`.
pub fn take_ports(state: &mut State, r: &MoRef, n: usize) -> MethodResult<Vec<String>> {
    let d = dvs_mut(state, r)?;
    let keys = (0..n as u64)
        .map(|k| (d.next_port + k).to_string())
        .collect();
    d.next_port += n as u64;
    Ok(keys)
}

/// Adds a port group to switch `r` (`uplink`: the switch's uplink group).
pub fn add_portgroup(
    state: &mut State,
    r: &MoRef,
    spec: &PortgroupSpec,
    uplink: bool,
) -> MethodResult<MoRef> {
    let d = dvs_of(state, r)?;
    let folder = d.parent.clone();
    let hosts = d.hosts.clone();
    let n = if uplink {
        hosts.len() * d.uplink_names.len()
    } else {
        spec.num_ports.max(0) as usize
    };
    let vlan = spec.vlan.unwrap_or(d.vlan);
    check_name(state, &folder, &spec.name, None)?;
    let id = state.new_id("dvportgroup");
    let pr = moref("DistributedVirtualPortgroup", &id);
    let ports = take_ports(state, r, n)?;
    let pg = PortgroupMo {
        name: spec.name.clone(),
        parent: folder.clone(),
        dvs: r.clone(),
        key: id.clone(),
        kind: spec.kind.clone(),
        vlan,
        uplink,
        description: spec.description.clone(),
        config_version: 0,
        auto_expand: spec.auto_expand,
        ports,
    };
    state.insert(&id, Mo::DvPortgroup(Box::new(pg)));
    dvs_mut(state, r)?.portgroups.push(pr.clone());
    if let Some(Mo::Folder(f)) = state.objects.get_mut(&folder.value) {
        f.children.push(pr.clone());
    }
    for h in hosts {
        if let Some(Mo::HostSystem(hm)) = state.objects.get_mut(&h.value) {
            hm.networks.push(pr.clone());
        }
    }
    Ok(pr)
}

/// `ReconfigureDvs_Task`: name, description, max ports, default VLAN, MTU, uplink names,
/// host members; a stale `configVersion` is refused with `ConcurrentAccess`.
pub fn reconfigure(state: &mut State, r: &MoRef, spec: &BaseDVSConfigSpec) -> MethodResult<()> {
    let s = SwitchSpec::of(spec);
    let d = dvs_of(state, r)?;
    if let Some(v) = s.config_version {
        if v != d.config_version.to_string() {
            return Err(Fault::new(
                esx_vim::ConcurrentAccess::default(),
                "Cannot complete operation due to concurrent modification by another operation.",
            ));
        }
    }
    if let Some(n) = s.name.filter(|n| *n != d.name) {
        let folder = d.parent.clone();
        check_name(state, &folder, n, Some(r))?;
    }
    let vlan = vlan_of(s.default_port_config)?;
    if s.max_mtu.is_some_and(|m| !(1280..=9000).contains(&m)) {
        return Err(Fault::invalid_argument("spec.maxMtu"));
    }
    for h in s.host {
        match h.operation.as_str() {
            "add" => join(state, r, &h.host)?,
            "remove" => leave(state, r, &h.host)?,
            "edit" => {
                dvs_of(state, r)?;
            }
            _ => return Err(Fault::invalid_argument("spec.host.operation")),
        }
    }
    let d = dvs_mut(state, r)?;
    if let Some(n) = s.name {
        d.name = n.to_owned();
    }
    if let Some(x) = s.description {
        d.description = Some(x.to_owned());
    }
    if let Some(m) = s.max_ports {
        d.max_ports = m;
    }
    if let Some(v) = vlan {
        d.vlan = v;
    }
    if let Some(m) = s.max_mtu {
        d.max_mtu = m;
    }
    if let Some(BaseDVSUplinkPortPolicy::DVSNameArrayUplinkPortPolicy(p)) = s.uplink_port_policy {
        if p.uplink_port_name.len() == d.uplink_names.len() {
            d.uplink_names = p.uplink_port_name.clone();
        }
    }
    d.config_version += 1;
    Ok(())
}

/// `Destroy_Task` of a switch: `ResourceInUse` while a VM uses one of its port groups.
pub fn destroy(state: &mut State, r: &MoRef) -> MethodResult<()> {
    let d = dvs_of(state, r)?;
    if !d.vms(state).is_empty() {
        return Err(in_use("VmwareDistributedVirtualSwitch", &d.name));
    }
    let (pgs, parent, hosts) = (d.portgroups.clone(), d.parent.clone(), d.hosts.clone());
    for p in pgs.iter().chain(std::iter::once(r)) {
        state.objects.remove(&p.value);
        if let Some(Mo::Folder(f)) = state.objects.get_mut(&parent.value) {
            f.children.retain(|c| c != p);
        }
    }
    for h in hosts {
        if let Some(Mo::HostSystem(hm)) = state.objects.get_mut(&h.value) {
            hm.networks.retain(|x| !pgs.contains(x));
        }
    }
    Ok(())
}

/// The switch vCenter's inventory starts with in each datacenter (named as vcsim names it, so
/// that scripts written against vcsim work): `DVS0` with every host of the datacenter, its
/// uplink group and the port group `<DC>_DVPG0`.
pub fn create_default(state: &mut State, dc_name: &str, folder: &MoRef, hosts: &[MoRef]) {
    if let Some(Mo::Folder(f)) = state.objects.get_mut(&folder.value) {
        if !f.child_type.iter().any(|t| t == "DistributedVirtualSwitch") {
            f.child_type.push("DistributedVirtualSwitch".into());
        }
    }
    let spec = DVSCreateSpec {
        config_spec: BaseDVSConfigSpec::from(esx_vim::VMwareDVSConfigSpec {
            name: Some("DVS0".into()),
            host: hosts
                .iter()
                .map(|h| DistributedVirtualSwitchHostMemberConfigSpec {
                    operation: "add".into(),
                    host: h.clone(),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }),
        ..Default::default()
    };
    let made = create(state, folder, &spec).and_then(|r| {
        add_portgroup(
            state,
            &r,
            &PortgroupSpec {
                name: format!("{dc_name}_DVPG0"),
                num_ports: 8,
                kind: "earlyBinding".into(),
                vlan: None,
                description: None,
                auto_expand: true,
            },
            false,
        )
    });
    if let Err(f) = made {
        tracing::warn!(error = %f.message, "cannot create the default distributed switch");
    }
}
