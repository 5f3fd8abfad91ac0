//! `HostSystem` and its configuration helpers (`HostNetworkSystem`, `HostStorageSystem`,
//! `HostAutoStartManager`, `HostDatastoreSystem`).

use esx_vim::{
    Any, AutoStartDefaults, AutoStartPowerInfo, BaseHostDnsConfig, HostAutoStartManagerConfig,
    HostCapability, HostConfigInfo, HostConfigManager, HostConfigSummary, HostCpuInfo,
    HostDnsConfig, HostHardwareInfo, HostHardwareSummary, HostListSummary,
    HostListSummaryQuickStats, HostNetworkInfo, HostNumaInfo, HostPortGroup, HostPortGroupSpec,
    HostRuntimeInfo, HostSystemConnectionState, HostSystemInfo, HostSystemPowerState,
    HostVirtualSwitch, ManagedEntityStatus,
};

use crate::property::{entity_common, refs, Top};
use crate::state::{moref, now, Mo, MoRef, State};

/// A host's model.
#[derive(Debug, Clone)]
pub struct HostMo {
    /// Host name (also its DNS name).
    pub name: String,
    /// Parent compute resource.
    pub parent: MoRef,
    /// Mounted datastores.
    pub datastores: Vec<MoRef>,
    /// Networks (port groups).
    pub networks: Vec<MoRef>,
    /// Hardware UUID.
    pub uuid: String,
    /// The helper objects' ids: network system, storage system, auto-start manager, datastore system.
    pub services: [String; 4],
    /// The datastore browser's id.
    pub browser: String,
    /// Standard virtual switches.
    pub vswitches: Vec<HostVirtualSwitch>,
    /// Port groups.
    pub portgroups: Vec<HostPortGroup>,
    /// Auto-start configuration.
    pub autostart: HostAutoStartManagerConfig,
    /// Power state (`ShutdownHost_Task` turns it off, `PowerUpHostFromStandBy_Task` on).
    pub power_state: HostSystemPowerState,
    /// Whether the host is in maintenance mode.
    pub in_maintenance: bool,
}

/// Memory of every simulated host, in bytes.
pub const HOST_MEMORY: i64 = 32 * 1024 * 1024 * 1024;

impl HostMo {
    /// A host named `name` with helper ids derived from `id`.
    pub fn new(name: &str, id: &str, parent: MoRef, uuid: String) -> HostMo {
        let sw = HostVirtualSwitch {
            name: "vSwitch0".into(),
            key: "key-vim.host.VirtualSwitch-vSwitch0".into(),
            num_ports: 128,
            num_ports_available: 120,
            mtu: Some(1500),
            portgroup: Vec::new(),
            pnic: vec!["key-vim.host.PhysicalNic-vmnic0".into()],
            spec: esx_vim::HostVirtualSwitchSpec {
                num_ports: 128,
                mtu: Some(1500),
                bridge: Some(esx_vim::BaseHostVirtualSwitchBridge::from(
                    esx_vim::HostVirtualSwitchBondBridge {
                        nic_device: vec!["vmnic0".into()],
                        ..Default::default()
                    },
                )),
                ..Default::default()
            },
        };
        HostMo {
            name: name.into(),
            parent,
            datastores: Vec::new(),
            networks: Vec::new(),
            uuid,
            services: [
                format!("networkSystem-{id}"),
                format!("storageSystem-{id}"),
                format!("autoStartManager-{id}"),
                format!("datastoreSystem-{id}"),
            ],
            browser: format!("datastoreBrowser-{id}"),
            vswitches: vec![sw],
            portgroups: Vec::new(),
            autostart: HostAutoStartManagerConfig {
                defaults: Some(AutoStartDefaults {
                    enabled: Some(false),
                    start_delay: Some(120),
                    stop_delay: Some(120),
                    wait_for_heartbeat: Some(false),
                    stop_action: Some("PowerOff".into()),
                }),
                power_info: Vec::new(),
            },
            power_state: HostSystemPowerState::PoweredOn,
            in_maintenance: false,
        }
    }

    /// Whether the host answers (powered on); a powered-off host is `notResponding`.
    pub fn connected(&self) -> bool {
        self.power_state == HostSystemPowerState::PoweredOn
    }

    /// Adds a port group named `name` on the virtual switch `vswitch` (listed in the switch's
    /// `portgroup` keys when the switch exists).
    pub fn add_portgroup(&mut self, name: &str, vswitch: &str, vlan: i32) {
        let key = format!("key-vim.host.PortGroup-{name}");
        if let Some(sw) = self.vswitches.iter_mut().find(|s| s.name == vswitch) {
            sw.portgroup.push(key.clone());
        }
        self.portgroups.push(HostPortGroup {
            key: Some(key),
            vswitch: Some(format!("key-vim.host.VirtualSwitch-{vswitch}")),
            spec: HostPortGroupSpec {
                name: name.into(),
                vlan_id: vlan,
                vswitch_name: vswitch.into(),
                ..Default::default()
            },
            ..Default::default()
        });
    }

    fn hardware(&self) -> HostHardwareInfo {
        HostHardwareInfo {
            system_info: HostSystemInfo {
                vendor: "esx-sim".into(),
                model: "Simulated Host".into(),
                uuid: self.uuid.clone(),
                ..Default::default()
            },
            cpu_info: HostCpuInfo {
                num_cpu_packages: 2,
                num_cpu_cores: 8,
                num_cpu_threads: 16,
                hz: 2_400_000_000,
            },
            memory_size: HOST_MEMORY,
            numa_info: Some(HostNumaInfo {
                r#type: "NUMA".into(),
                num_nodes: 2,
                ..Default::default()
            }),
            cpu_feature: CPU_ID_LEAVES
                .iter()
                .map(|(level, regs)| cpu_id_info(*level, *regs))
                .collect(),
            ..Default::default()
        }
    }

    /// The host's DNS settings: its name split into host and domain.
    pub fn dns_config(&self) -> HostDnsConfig {
        let (host, domain) = self.name.split_once('.').unwrap_or((&self.name, ""));
        HostDnsConfig {
            dhcp: false,
            host_name: host.into(),
            domain_name: domain.into(),
            address: vec!["127.0.0.1".into()],
            search_domain: if domain.is_empty() {
                Vec::new()
            } else {
                vec![domain.into()]
            },
            ..Default::default()
        }
    }

    /// `config.network` (and `HostNetworkSystem.networkInfo`).
    pub fn network_info(&self) -> HostNetworkInfo {
        HostNetworkInfo {
            vswitch: self.vswitches.clone(),
            portgroup: self.portgroups.clone(),
            pnic: physical_nics(),
            dns_config: Some(BaseHostDnsConfig::from(self.dns_config())),
            ..Default::default()
        }
    }

    /// `HostNetworkSystem.networkConfig`: the same switches, port groups, physical NICs and DNS
    /// settings as [`HostMo::network_info`], as a configuration.
    pub fn network_config(&self) -> esx_vim::HostNetworkConfig {
        esx_vim::HostNetworkConfig {
            vswitch: self
                .vswitches
                .iter()
                .map(|s| esx_vim::HostVirtualSwitchConfig {
                    name: s.name.clone(),
                    spec: Some(s.spec.clone()),
                    ..Default::default()
                })
                .collect(),
            portgroup: self
                .portgroups
                .iter()
                .map(|p| esx_vim::HostPortGroupConfig {
                    spec: Some(p.spec.clone()),
                    ..Default::default()
                })
                .collect(),
            pnic: physical_nics()
                .into_iter()
                .map(|n| esx_vim::PhysicalNicConfig {
                    device: n.device,
                    spec: n.spec,
                })
                .collect(),
            dns_config: Some(BaseHostDnsConfig::from(self.dns_config())),
            ..Default::default()
        }
    }

    /// Reads a top-level property.
    pub fn property(&self, state: &State, r: &MoRef, name: &str) -> Top {
        let product = crate::mo::service_instance::about(state);
        Some(match name {
            "hardware" => Some(Any::from(self.hardware())),
            "runtime" => Some(Any::from(self.runtime())),
            "summary" => Some(Any::from(HostListSummary {
                host: Some(r.clone()),
                hardware: Some(HostHardwareSummary {
                    vendor: "esx-sim".into(),
                    model: "Simulated Host".into(),
                    uuid: self.uuid.clone(),
                    memory_size: HOST_MEMORY,
                    cpu_model: "Intel(R) Xeon(R) CPU E5-2630 v3 @ 2.40GHz".into(),
                    cpu_mhz: 2400,
                    num_cpu_pkgs: 2,
                    num_cpu_cores: 8,
                    num_cpu_threads: 16,
                    num_nics: 2,
                    num_hb_as: 2,
                    ..Default::default()
                }),
                runtime: Some(self.runtime()),
                config: HostConfigSummary {
                    name: self.name.clone(),
                    port: 443,
                    // A vCenter reports its hosts' certificate thumbprint (here: the one the
                    // simulator serves); ESXi leaves its own unset.
                    ssl_thumbprint: (state.flavor() == crate::config::Flavor::Vcenter)
                        .then(|| state.thumbprint.clone()),
                    product: Some(product),
                    vmotion_enabled: true,
                    ..Default::default()
                },
                quick_stats: HostListSummaryQuickStats {
                    overall_cpu_usage: Some(100),
                    overall_memory_usage: Some(2048),
                    uptime: Some(3600),
                    ..Default::default()
                },
                overall_status: ManagedEntityStatus::Green,
                management_server_ip: None,
                ..Default::default()
            })),
            "capability" => Some(Any::from(HostCapability {
                vmotion_supported: true,
                max_supported_vcpus: Some(128),
                max_running_v_ms: Some(1024),
                max_registered_v_ms: Some(100_000),
                screenshot_supported: true,
                nfs_supported: true,
                ..Default::default()
            })),
            "config" => Some(Any::from(HostConfigInfo {
                host: r.clone(),
                product,
                network: Some(self.network_info()),
                storage_device: Some(crate::mo::host_storage::device_info(self)),
                ..Default::default()
            })),
            "configManager" => Some(Any::from(HostConfigManager {
                network_system: Some(moref("HostNetworkSystem", &self.services[0])),
                storage_system: Some(moref("HostStorageSystem", &self.services[1])),
                auto_start_manager: Some(moref("HostAutoStartManager", &self.services[2])),
                datastore_system: Some(moref("HostDatastoreSystem", &self.services[3])),
                advanced_option: Some(crate::mo::option_manager::host_ref(r)),
                date_time_system: Some(crate::mo::host_date_time_system::ref_for(r)),
                service_system: Some(crate::mo::host_service_system::ref_for(r)),
                certificate_manager: Some(crate::mo::host_certificate_manager::ref_for(r)),
                ..Default::default()
            })),
            "vm" => {
                let mut v: Vec<MoRef> = state
                    .objects
                    .iter()
                    .filter_map(|(id, m)| match m {
                        Mo::VirtualMachine(vm) if &vm.host == r => {
                            Some(moref("VirtualMachine", id))
                        }
                        _ => None,
                    })
                    .collect();
                v.sort();
                Some(refs(v))
            }
            "datastore" => Some(refs(self.datastores.clone())),
            "network" => Some(refs(self.networks.clone())),
            "datastoreBrowser" => Some(Any::from(moref("HostDatastoreBrowser", &self.browser))),
            "systemResources"
            | "licensableResource"
            | "answerFileValidationState"
            | "precheckRemediationResult"
            | "remediationResult"
            | "complianceCheckResult"
            | "complianceCheckState"
            | "runtime.quickStats" => None,
            _ => return entity_common(state, r, name),
        })
    }

    fn runtime(&self) -> HostRuntimeInfo {
        HostRuntimeInfo {
            connection_state: if self.connected() {
                HostSystemConnectionState::Connected
            } else {
                HostSystemConnectionState::NotResponding
            },
            power_state: self.power_state.clone(),
            in_maintenance_mode: self.in_maintenance,
            boot_time: Some(now()),
            ..Default::default()
        }
    }
}

/// The host's physical NICs: `vmnic0` (DHCP, the uplink of `vSwitch0`) and `vmnic1` (a static
/// address in the documentation range), 1 Gbit/s full duplex.
pub fn physical_nics() -> Vec<esx_vim::PhysicalNic> {
    let link = esx_vim::PhysicalNicLinkInfo {
        speed_mb: 1000,
        duplex: true,
    };
    let nic = |n: u8, ip: esx_vim::HostIpConfig| esx_vim::PhysicalNic {
        key: Some(format!("key-vim.host.PhysicalNic-vmnic{n}")),
        device: format!("vmnic{n}"),
        pci: format!("0000:0{}:00.0", n + 2),
        mac: format!("00:50:56:00:00:0{}", n + 1),
        driver: Some("e1000".into()),
        link_speed: Some(link.clone()),
        valid_link_specification: vec![link.clone()],
        spec: esx_vim::PhysicalNicSpec {
            ip: Some(ip),
            link_speed: Some(link.clone()),
            ..Default::default()
        },
        wake_on_lan_supported: false,
        auto_negotiate_supported: Some(true),
        ..Default::default()
    };
    vec![
        nic(
            0,
            esx_vim::HostIpConfig {
                dhcp: true,
                ..Default::default()
            },
        ),
        nic(
            1,
            esx_vim::HostIpConfig {
                dhcp: false,
                ip_address: Some("192.0.2.50".into()),
                subnet_mask: Some("255.255.255.0".into()),
                ..Default::default()
            },
        ),
    ]
}

/// Which helper object of a host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceKind {
    /// `HostNetworkSystem`.
    Network,
    /// `HostStorageSystem`.
    Storage,
    /// `HostAutoStartManager`.
    AutoStart,
    /// `HostDatastoreSystem`.
    Datastore,
}

/// A host helper object: its kind and the host it belongs to.
#[derive(Debug, Clone)]
pub struct HostService {
    /// Which helper.
    pub kind: ServiceKind,
    /// The host.
    pub host: MoRef,
}

impl HostService {
    /// The managed object type.
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            ServiceKind::Network => "HostNetworkSystem",
            ServiceKind::Storage => "HostStorageSystem",
            ServiceKind::AutoStart => "HostAutoStartManager",
            ServiceKind::Datastore => "HostDatastoreSystem",
        }
    }

    /// Reads a top-level property.
    pub fn property(&self, state: &State, name: &str) -> Top {
        let Some(Mo::HostSystem(h)) = state.get(&self.host) else {
            return None;
        };
        Some(match (self.kind, name) {
            (ServiceKind::Network, "networkInfo") => Some(Any::from(h.network_info())),
            (ServiceKind::Network, "networkConfig") => Some(Any::from(h.network_config())),
            (ServiceKind::Network, "dnsConfig") => Some(Any::from(h.dns_config())),
            (
                ServiceKind::Network,
                "capabilities"
                | "ipRouteConfig"
                | "consoleIpRouteConfig"
                | "offloadCapabilities"
                | "networkDescription",
            ) => None,
            (ServiceKind::Storage, "storageDeviceInfo") => {
                Some(Any::from(crate::mo::host_storage::device_info(h)))
            }
            (
                ServiceKind::Storage,
                "fileSystemVolumeInfo" | "systemFile" | "multipathStateInfo",
            ) => None,
            (ServiceKind::AutoStart, "config") => Some(Any::from(h.autostart.clone())),
            (ServiceKind::Datastore, "datastore") => Some(refs(h.datastores.clone())),
            (ServiceKind::Datastore, "capabilities") => None,
            _ => return None,
        })
    }
}

/// The host whose helper of kind `kind` is `this` (`NotFound` for anything else).
pub fn service_host(
    state: &State,
    this: &MoRef,
    kind: ServiceKind,
) -> crate::fault::MethodResult<MoRef> {
    match state.lookup(this)? {
        Mo::HostService(s) if s.kind == kind => Ok(s.host.clone()),
        _ => Err(crate::fault::Fault::not_found(this)),
    }
}

/// The host `r` refers to.
pub fn host<'a>(state: &'a State, r: &MoRef) -> crate::fault::MethodResult<&'a HostMo> {
    match state.get(r) {
        Some(Mo::HostSystem(h)) => Ok(h),
        _ => Err(crate::fault::Fault::not_found(r)),
    }
}

/// The host `r` refers to, mutably.
pub fn host_mut<'a>(state: &'a mut State, r: &MoRef) -> crate::fault::MethodResult<&'a mut HostMo> {
    match state.lookup_mut(r)? {
        Mo::HostSystem(h) => Ok(h),
        _ => Err(crate::fault::Fault::not_found(r)),
    }
}

/// Whether any VM registered on `host` is not powered off.
fn runs_vms(state: &State, host: &MoRef) -> bool {
    state.objects.values().any(|m| {
        matches!(m, Mo::VirtualMachine(v) if &v.host == host
            && v.runtime.power_state != esx_vim::VirtualMachinePowerState::PoweredOff)
    })
}

/// `EnterMaintenanceMode_Task`: refused (`InvalidState`) while VMs run on the host; the
/// simulator has no DRS to evacuate them.
pub fn enter_maintenance(state: &mut State, host: &MoRef) -> crate::fault::MethodResult<()> {
    if runs_vms(state, host) {
        return Err(crate::fault::Fault::invalid_state(
            "The host has powered-on virtual machines; migrate or power them off first.",
        ));
    }
    host_mut(state, host)?.in_maintenance = true;
    Ok(())
}

/// `ShutdownHost_Task`: a host not in maintenance mode shuts down only with `force`; running
/// VMs are powered off with it.
pub fn shut_down(state: &mut State, host: &MoRef, force: bool) -> crate::fault::MethodResult<()> {
    let h = self::host(state, host)?;
    if !force && !h.in_maintenance {
        return Err(crate::fault::Fault::new(
            esx_vim::InvalidState::default(),
            "The host is not in maintenance mode; use force to shut it down.",
        ));
    }
    for m in state.objects.values_mut() {
        if let Mo::VirtualMachine(v) = m {
            if &v.host == host {
                v.set_power(esx_vim::VirtualMachinePowerState::PoweredOff);
            }
        }
    }
    host_mut(state, host)?.power_state = HostSystemPowerState::PoweredOff;
    Ok(())
}

/// `ReconfigureAutostart`: checks the whole spec, then merges the defaults and the per-VM
/// power info. An entry whose start action is `none` with no start order (-1) takes the VM
/// off the list; the list is kept in start order, unordered (-1) entries last. Faults:
/// `ManagedObjectNotFound` for a key that is no VM, `InvalidArgument` for a VM of another host,
/// an unknown action or heartbeat setting, or an order or delay below -1.
pub fn reconfigure_autostart(
    state: &mut State,
    host_ref: &MoRef,
    spec: HostAutoStartManagerConfig,
) -> crate::fault::MethodResult<()> {
    use crate::fault::Fault;
    const STOP: [&str; 5] = [
        "none",
        "systemDefault",
        "powerOff",
        "guestShutdown",
        "suspend",
    ];
    let known = |v: &str, list: &[&str]| list.iter().any(|x| x.eq_ignore_ascii_case(v));
    if let Some(d) = &spec.defaults {
        if d.stop_action.as_deref().is_some_and(|a| !known(a, &STOP)) {
            return Err(Fault::invalid_argument("spec.defaults.stopAction"));
        }
        if d.start_delay.is_some_and(|x| x < -1) || d.stop_delay.is_some_and(|x| x < -1) {
            return Err(Fault::invalid_argument("spec.defaults"));
        }
    }
    for p in &spec.power_info {
        let vm = state.vm(&p.key)?;
        if &vm.host != host_ref {
            return Err(Fault::invalid_argument("spec.powerInfo.key"));
        }
        if !known(&p.start_action, &["none", "powerOn"]) {
            return Err(Fault::invalid_argument("spec.powerInfo.startAction"));
        }
        if !known(&p.stop_action, &STOP) {
            return Err(Fault::invalid_argument("spec.powerInfo.stopAction"));
        }
        if matches!(
            p.wait_for_heartbeat,
            esx_vim::AutoStartWaitHeartbeatSetting::Other(_)
        ) {
            return Err(Fault::invalid_argument("spec.powerInfo.waitForHeartbeat"));
        }
        if p.start_order < -1 || p.start_delay < -1 || p.stop_delay < -1 {
            return Err(Fault::invalid_argument("spec.powerInfo"));
        }
    }
    let h = host_mut(state, host_ref)?;
    if let Some(d) = spec.defaults {
        let cur = h.autostart.defaults.get_or_insert_with(Default::default);
        if d.enabled.is_some() {
            cur.enabled = d.enabled;
        }
        if d.start_delay.is_some() {
            cur.start_delay = d.start_delay;
        }
        if d.stop_delay.is_some() {
            cur.stop_delay = d.stop_delay;
        }
        if d.wait_for_heartbeat.is_some() {
            cur.wait_for_heartbeat = d.wait_for_heartbeat;
        }
        if d.stop_action.is_some() {
            cur.stop_action = d.stop_action;
        }
    }
    for p in spec.power_info {
        let p: AutoStartPowerInfo = p;
        h.autostart.power_info.retain(|x| x.key != p.key);
        if !p.start_action.eq_ignore_ascii_case("none") || p.start_order >= 0 {
            h.autostart.power_info.push(p);
        }
    }
    h.autostart.power_info.sort_by_key(|p| {
        if p.start_order < 0 {
            i32::MAX
        } else {
            p.start_order
        }
    });
    Ok(())
}

/// Takes `vm` off its host's auto-start list (it is being removed).
pub fn forget_autostart(state: &mut State, host_ref: &MoRef, vm: &MoRef) {
    if let Some(Mo::HostSystem(h)) = state.objects.get_mut(&host_ref.value) {
        h.autostart.power_info.retain(|p| &p.key != vm);
    }
}

/// CPUID leaves reported in `hardware.cpuFeature`, as (level, [eax, ebx, ecx, edx]): a
/// GenuineIntel x86_64 CPU. Leaf 0x80000001 has EDX bit 29 (long mode) set, which libvirt
/// reads to offer x86_64 guests; every register is filled, as real hosts do (libvirt parses all four).
const CPU_ID_LEAVES: [(i32, [u32; 4]); 4] = [
    (0, [0x0000_000d, 0x756e_6547, 0x6c65_746e, 0x4965_6e69]),
    (1, [0x0002_06d7, 0x0001_0800, 0x97ba_222b, 0x0fab_fbff]),
    (i32::MIN, [0x8000_0008, 0, 0, 0]),
    (i32::MIN + 1, [0, 0, 0x0000_0001, 0x2810_0800]),
];

/// One `HostCpuIdInfo` with each register written as vSphere does (`0000:0000:...`, MSB first).
fn cpu_id_info(level: i32, regs: [u32; 4]) -> esx_vim::HostCpuIdInfo {
    let [eax, ebx, ecx, edx] = regs.map(|r| Some(cpu_id_bits(r)));
    esx_vim::HostCpuIdInfo {
        level,
        eax,
        ebx,
        ecx,
        edx,
        ..Default::default()
    }
}

/// `r` as 32 binary digits in groups of four separated by `:`.
fn cpu_id_bits(r: u32) -> String {
    let bits = format!("{r:032b}");
    bits.as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(":")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_id_registers_are_grouped_bits_with_long_mode() {
        assert_eq!(
            cpu_id_bits(0x2810_0800),
            "0010:1000:0001:0000:0000:1000:0000:0000"
        );
        let ext = cpu_id_info(i32::MIN + 1, CPU_ID_LEAVES[3].1);
        let edx = ext.edx.unwrap_or_default();
        // Bit 29 (long mode) is the third character of the first group.
        assert_eq!(edx.as_bytes()[2], b'1');
        assert!(ext.eax.is_some() && ext.ebx.is_some() && ext.ecx.is_some());
    }
}

/// A per-host configuration object of `configManager` (date/time, services, certificate…):
/// one per host, `<prefix>-N` for vCenter's `host-N`, a fixed id on ESXi.
#[derive(Debug, Clone, Copy)]
pub struct PerHost {
    /// The WSDL type.
    pub ty: &'static str,
    /// The id prefix on vCenter (`dateTimeSystem` gives `dateTimeSystem-N`).
    pub prefix: &'static str,
    /// The id on ESXi.
    pub esx_id: &'static str,
}

impl PerHost {
    /// The id of host `host`'s object.
    pub fn id_for(&self, host: &MoRef) -> String {
        match host.value.strip_prefix("host-") {
            Some(n) => format!("{}-{n}", self.prefix),
            None => self.esx_id.to_owned(),
        }
    }

    /// The reference of host `host`'s object.
    pub fn ref_for(&self, host: &MoRef) -> MoRef {
        moref(self.ty, &self.id_for(host))
    }

    /// Creates host `host`'s object (when the host is created).
    pub fn insert(&self, state: &mut State, host: &MoRef) {
        state.insert(&self.id_for(host), Mo::Manager(self.ty));
    }

    /// The host whose object `this` is (`NotFound` when `this` is not one, or its host is gone).
    pub fn host_of(&self, state: &State, this: &MoRef) -> crate::fault::MethodResult<MoRef> {
        match state.lookup(this)? {
            Mo::Manager(t) if *t == self.ty => {}
            _ => return Err(crate::fault::Fault::not_found(this)),
        }
        let h = this
            .value
            .strip_prefix(self.prefix)
            .and_then(|rest| rest.strip_prefix('-'))
            .map_or_else(
                || moref("HostSystem", "ha-host"),
                |n| moref("HostSystem", &format!("host-{n}")),
            );
        host(state, &h)?;
        Ok(h)
    }
}
