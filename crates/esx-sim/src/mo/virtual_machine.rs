//! `VirtualMachine`: configuration read from and written to a real `.vmx` file, power
//! operations, reconfiguration and questions.

use std::path::PathBuf;

use esx_vim::{
    Any, BaseElementDescription, ChoiceOption, ElementDescription, GuestInfo, ManagedEntityStatus,
    ResourceAllocationInfo, SharesInfo, SharesLevel, VirtualHardware, VirtualMachineCapability,
    VirtualMachineConfigInfo, VirtualMachineConfigSummary, VirtualMachineConnectionState,
    VirtualMachineFileInfo, VirtualMachineGuestSummary, VirtualMachinePowerState,
    VirtualMachineQuestionInfo, VirtualMachineQuickStats, VirtualMachineRuntimeInfo,
    VirtualMachineSnapshotInfo, VirtualMachineStorageSummary, VirtualMachineSummary,
    VirtualMachineToolsStatus,
};
use esx_vmx::VmxFile;

use crate::fault::{Fault, MethodResult};
use crate::mo::vm_devices;
use crate::property::{entity_common, refs, Top};
use crate::state::{now, MoRef, State};

/// A VM's model. `config` is always derived from `vmx`.
#[derive(Debug, Clone)]
pub struct VmMo {
    /// Display name.
    pub name: String,
    /// Parent folder.
    pub parent: MoRef,
    /// Resource pool.
    pub resource_pool: MoRef,
    /// Host it runs on.
    pub host: MoRef,
    /// Datastore holding its files.
    pub datastore: MoRef,
    /// Datastore name (for `[ds] path` strings).
    pub datastore_name: String,
    /// Networks its NICs use.
    pub networks: Vec<MoRef>,
    /// The `.vmx` file on disk.
    pub vmx_path: PathBuf,
    /// The `.vmx` path relative to the datastore root.
    pub vmx_rel: String,
    /// The parsed `.vmx`; `None` for a generated VM nobody has needed it for yet (it is
    /// made again from `generated` on demand, see [`VmMo::vmx`]).
    pub vmx_parsed: Option<VmxFile>,
    /// `config`, derived from `vmx`, without the device list (built when read, see
    /// [`VmMo::full_config`]).
    pub config: VirtualMachineConfigInfo,
    /// Disk and NIC counts for `summary.config`.
    pub counts: crate::mo::vm_devices::Counts,
    /// `runtime`.
    pub runtime: VirtualMachineRuntimeInfo,
    /// Current snapshot and the snapshot roots.
    pub current_snapshot: Option<MoRef>,
    /// Root snapshots.
    pub root_snapshots: Vec<MoRef>,
    /// The power-on task waiting for an answer to `runtime.question`.
    pub pending_power_on: Option<MoRef>,
    /// For a generated VM whose files are not written yet: what it was generated from (see
    /// [`crate::lazy`]).
    pub generated: Option<Box<crate::lazy::Generated>>,
}

/// Formats `56 4d 12 …` (vmx) as `564d12..-....-....-....-............` (API).
pub fn api_uuid(vmx_uuid: &str) -> String {
    let hex: String = vmx_uuid.chars().filter(|c| c.is_ascii_hexdigit()).collect();
    if hex.len() != 32 {
        return hex;
    }
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// Formats an API UUID in the vmx style (`56 4d … 12-34 …`).
pub fn vmx_uuid(api: &str) -> String {
    let hex: Vec<char> = api.chars().filter(|c| c.is_ascii_hexdigit()).collect();
    let pairs: Vec<String> = hex.chunks(2).map(|c| c.iter().collect()).collect();
    if pairs.len() != 16 {
        return api.to_owned();
    }
    format!("{}-{}", pairs[..8].join(" "), pairs[8..].join(" "))
}

/// A deterministic pseudo-random UUID (API form) from a seed string.
pub fn uuid_from(seed: &str) -> String {
    let mut h: u128 = 0x6c62272e07bb014262b821756295c58d;
    for b in seed.bytes() {
        h ^= b as u128;
        h = h.wrapping_mul(0x0000000001000000000000000000013B);
    }
    let hex = format!("{h:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// 16 deterministic pseudo-random bytes from a seed string (the start of its SHA-256, so
/// seeds that differ in one character give unrelated bytes).
pub fn seed_bytes(seed: &str) -> [u8; 16] {
    let d = ring::digest::digest(&ring::digest::SHA256, seed.as_bytes());
    let mut out = [0u8; 16];
    out.copy_from_slice(&d.as_ref()[..16]);
    out
}

/// The `uuid.location` value for a `.vmx` at `path` (changes when the files are copied).
pub fn location_for(path: &str) -> String {
    vmx_uuid(&uuid_from(&format!("location:{path}")))
}

fn guest_id(vmx_guest: &str) -> String {
    let g = vmx_guest.replace('-', "");
    if g.is_empty() {
        "otherGuest".into()
    } else {
        format!("{g}Guest")
    }
}

/// What the simulator's VMs can do: the snapshot operations it implements (as a real ESX host
/// reports them), and the configuration features a current host supports.
fn capability() -> VirtualMachineCapability {
    VirtualMachineCapability {
        snapshot_operations_supported: true,
        multiple_snapshots_supported: true,
        snapshot_config_supported: true,
        powered_off_snapshots_supported: true,
        memory_snapshots_supported: true,
        revert_to_snapshot_supported: true,
        quiesced_snapshots_supported: true,
        disable_snapshots_supported: false,
        lock_snapshots_supported: true,
        console_preferences_supported: true,
        cpu_feature_mask_supported: true,
        s1_acpi_management_supported: true,
        setting_screen_resolution_supported: false,
        tools_auto_update_supported: false,
        swap_placement_supported: true,
        tools_sync_time_supported: true,
        virtual_mmu_usage_supported: true,
        disk_shares_supported: true,
        boot_options_supported: true,
        boot_retry_options_supported: Some(true),
        setting_video_ram_size_supported: true,
        multiple_cores_per_socket_supported: Some(true),
        change_tracking_supported: Some(true),
        ..VirtualMachineCapability::default()
    }
}

fn int(vmx: &VmxFile, key: &str) -> Option<i64> {
    vmx.get(key)?.trim().parse().ok()
}

/// Builds `config` from a `.vmx`, without the device list (see [`VmMo::full_config`]).
pub fn config_from_vmx(vmx: &VmxFile, ds_name: &str, vmx_rel: &str) -> VirtualMachineConfigInfo {
    let dir = vmx_rel.rsplit_once('/').map_or("", |(d, _)| d);
    let ds_path = |file: &str| {
        if dir.is_empty() {
            format!("[{ds_name}] {file}")
        } else {
            format!("[{ds_name}] {dir}/{file}")
        }
    };
    let num_cpu = int(vmx, "numvcpus").unwrap_or(1) as i32;
    let shares = |key: &str, per: i64, default_units: i64| -> SharesInfo {
        match vmx.get(key).map(str::to_ascii_lowercase).as_deref() {
            Some("low") => SharesInfo {
                shares: (per / 2 * default_units) as i32,
                level: SharesLevel::Low,
            },
            Some("high") => SharesInfo {
                shares: (per * 2 * default_units) as i32,
                level: SharesLevel::High,
            },
            Some(v) if v.parse::<i32>().is_ok() => SharesInfo {
                shares: v.parse().unwrap_or(0),
                level: SharesLevel::Custom,
            },
            _ => SharesInfo {
                shares: (per * default_units) as i32,
                level: SharesLevel::Normal,
            },
        }
    };
    let memory_mb = int(vmx, "memsize").unwrap_or(32) as i32;
    let uuid = vmx.get("uuid.bios").map(api_uuid).unwrap_or_default();
    VirtualMachineConfigInfo {
        change_version: now().to_rfc3339(),
        modified: now(),
        name: vmx.get("displayName").unwrap_or("").to_owned(),
        guest_full_name: vmx.get("guestOS").unwrap_or("other").to_owned(),
        version: format!("vmx-{:02}", int(vmx, "virtualHW.version").unwrap_or(14)),
        uuid,
        instance_uuid: vmx.get("vc.uuid").map(api_uuid),
        template: false,
        guest_id: guest_id(vmx.get("guestOS").unwrap_or("other")),
        alternate_guest_name: String::new(),
        annotation: vmx.get("annotation").map(str::to_owned),
        files: VirtualMachineFileInfo {
            vm_path_name: Some(ds_path(vmx_rel.rsplit('/').next().unwrap_or(vmx_rel))),
            snapshot_directory: Some(ds_path("")),
            suspend_directory: Some(ds_path("")),
            log_directory: Some(ds_path("")),
            ..Default::default()
        },
        hardware: VirtualHardware {
            num_cpu,
            num_cores_per_socket: Some(int(vmx, "cpuid.coresPerSocket").unwrap_or(1) as i32),
            memory_mb,
            ..Default::default()
        },
        cpu_allocation: Some(ResourceAllocationInfo {
            reservation: Some(int(vmx, "sched.cpu.min").unwrap_or(0)),
            expandable_reservation: Some(false),
            limit: Some(int(vmx, "sched.cpu.max").unwrap_or(-1)),
            shares: Some(shares("sched.cpu.shares", 1000, num_cpu as i64)),
            ..Default::default()
        }),
        memory_allocation: Some(ResourceAllocationInfo {
            reservation: Some(int(vmx, "sched.mem.min").unwrap_or(0)),
            expandable_reservation: Some(false),
            limit: Some(int(vmx, "sched.mem.max").unwrap_or(-1)),
            shares: Some(shares("sched.mem.shares", 10, memory_mb as i64)),
            ..Default::default()
        }),
        firmware: Some(vmx.get("firmware").unwrap_or("bios").to_owned()),
        ..Default::default()
    }
}

impl VmMo {
    /// The `[ds] dir/name.vmx` path.
    pub fn ds_path(&self) -> String {
        let mut p = String::with_capacity(self.datastore_name.len() + self.vmx_rel.len() + 3);
        p.push('[');
        p.push_str(&self.datastore_name);
        p.push_str("] ");
        p.push_str(&self.vmx_rel);
        p
    }

    /// Re-derives `config`, `name`, the device counts and the networks from `vmx`.
    pub fn refresh(&mut self, networks: &dyn Fn(&str) -> Option<MoRef>) {
        let vmx = self.vmx();
        let config = config_from_vmx(&vmx, &self.datastore_name, &self.vmx_rel);
        let counts = vm_devices::Counts::of(&vmx);
        let nets = vm_devices::network_names(&vmx)
            .iter()
            .filter_map(|n| networks(n))
            .collect();
        drop(vmx);
        self.config = config;
        self.counts = counts;
        self.networks = nets;
        self.name = self.config.name.clone();
    }

    /// The `.vmx`'s directory relative to its datastore root.
    pub fn vm_dir(&self) -> &str {
        self.vmx_rel.rsplit_once('/').map_or("", |(d, _)| d)
    }

    /// The device list with each device's `.vmx` prefix, built from `vmx` (see
    /// [`vm_devices::build`]).
    pub fn device_slots(&self, state: &State, vmx: &VmxFile) -> Vec<vm_devices::Slot> {
        let network = |n: &str| {
            self.networks
                .iter()
                .find(|r| state.name_of(r).as_deref() == Some(n))
                .cloned()
        };
        let datastore = |n: &str| {
            let r = state.datastore_by_name(n)?;
            let d = state.datastore_dir(&r)?;
            Some((r, d))
        };
        let ds_dir = state.datastore_dir(&self.datastore);
        let env = vm_devices::Env {
            ds_name: &self.datastore_name,
            ds: &self.datastore,
            vm_dir: self.vm_dir(),
            powered_on: self.runtime.power_state == VirtualMachinePowerState::PoweredOn,
            network: &network,
            datastore: &datastore,
            ds_dir: ds_dir.as_deref(),
        };
        vm_devices::build(vmx, &env)
    }

    /// `config` with its device list.
    pub fn full_config(&self, state: &State) -> VirtualMachineConfigInfo {
        let mut c = self.config.clone();
        c.hardware.device = self
            .device_slots(state, &self.vmx())
            .into_iter()
            .map(|s| s.device)
            .collect();
        c
    }

    /// Writes the `.vmx` back to disk (with the directory and disk of a generated VM whose
    /// files were not written yet).
    pub fn save(&mut self) -> MethodResult<()> {
        let fail = |e: std::io::Error| {
            Fault::invalid_state(&format!("cannot write {}: {e}", self.vmx_path.display()))
        };
        if let Some(g) = &self.generated {
            if let Some(d) = self.vmx_path.parent() {
                std::fs::create_dir_all(d).map_err(fail)?;
                g.disk(d).write().map_err(fail)?;
            }
        }
        let vmx = self.vmx().into_owned();
        crate::files::write_atomic(&self.vmx_path, &vmx.to_bytes()).map_err(fail)?;
        // Once written, the file is the truth: keep it parsed (it cannot be generated again).
        self.vmx_parsed = Some(vmx);
        self.generated = None;
        Ok(())
    }

    /// Whether this is a generated VM whose files are not written yet.
    pub fn files_pending(&self) -> bool {
        self.generated.is_some()
    }

    fn regenerate(&self) -> VmxFile {
        self.generated
            .as_ref()
            .and_then(|g| VmxFile::parse(g.vmx_text(&self.vmx_path).as_bytes()).ok())
            .unwrap_or_default()
    }

    /// The parsed `.vmx` (made from the generator when not held).
    pub fn vmx(&self) -> std::borrow::Cow<'_, VmxFile> {
        match &self.vmx_parsed {
            Some(v) => std::borrow::Cow::Borrowed(v),
            None => std::borrow::Cow::Owned(self.regenerate()),
        }
    }

    /// The parsed `.vmx`, to change (held from now on).
    pub fn vmx_mut(&mut self) -> &mut VmxFile {
        if self.vmx_parsed.is_none() {
            self.vmx_parsed = Some(self.regenerate());
        }
        self.vmx_parsed.get_or_insert_with(VmxFile::new)
    }

    fn guest(&self) -> GuestInfo {
        let on = self.tools_running();
        let net = if on {
            crate::mo::vm_guest::guest_net(&self.vmx(), &self.vmx_rel)
        } else {
            Vec::new()
        };
        GuestInfo {
            tools_status: Some(self.tools_status()),
            tools_running_status: Some(self.tools_running_status().into()),
            tools_version_status2: Some("guestToolsCurrent".into()),
            guest_id: Some(self.config.guest_id.clone()),
            guest_full_name: Some(self.config.guest_full_name.clone()),
            host_name: on.then(|| self.name.to_ascii_lowercase()),
            ip_address: crate::mo::vm_guest::primary_ip(&net),
            net,
            guest_state: if on { "running" } else { "notRunning" }.into(),
            ..Default::default()
        }
    }

    /// The guest's addresses (none unless its tools run).
    pub fn guest_ips(&self) -> Vec<String> {
        if !self.tools_running() {
            return Vec::new();
        }
        crate::mo::vm_guest::guest_net(&self.vmx(), &self.vmx_rel)
            .into_iter()
            .flat_map(|n| n.ip_address)
            .collect()
    }

    /// Whether the guest's tools are running (they are, whenever the VM is on).
    pub fn tools_running(&self) -> bool {
        self.runtime.power_state == VirtualMachinePowerState::PoweredOn
    }

    /// `toolsStatus`, as `guest` and `summary.guest` report it.
    fn tools_status(&self) -> VirtualMachineToolsStatus {
        if self.tools_running() {
            VirtualMachineToolsStatus::ToolsOk
        } else {
            VirtualMachineToolsStatus::ToolsNotRunning
        }
    }

    /// `toolsRunningStatus`, as `guest` and `summary.guest` report it.
    fn tools_running_status(&self) -> &'static str {
        if self.tools_running() {
            "guestToolsRunning"
        } else {
            "guestToolsNotRunning"
        }
    }

    /// The VM's `summary` property.
    pub fn summary(&self, r: &MoRef) -> VirtualMachineSummary {
        // The guest part of `guest()`, without building the rest.
        let on = self.tools_running();
        VirtualMachineSummary {
            vm: Some(r.clone()),
            runtime: self.runtime.clone(),
            guest: Some(VirtualMachineGuestSummary {
                guest_id: Some(self.config.guest_id.clone()),
                guest_full_name: Some(self.config.guest_full_name.clone()),
                tools_status: Some(self.tools_status()),
                tools_running_status: Some(self.tools_running_status().into()),
                host_name: on.then(|| self.name.to_ascii_lowercase()),
                ip_address: on.then(|| self.guest_ips().into_iter().next()).flatten(),
                ..Default::default()
            }),
            config: VirtualMachineConfigSummary {
                name: self.name.clone(),
                template: false,
                vm_path_name: self.ds_path(),
                memory_size_mb: Some(self.config.hardware.memory_mb),
                num_cpu: Some(self.config.hardware.num_cpu),
                num_ethernet_cards: Some(self.counts.nics),
                num_virtual_disks: Some(self.counts.disks),
                uuid: Some(self.config.uuid.clone()),
                instance_uuid: self.config.instance_uuid.clone(),
                guest_id: Some(self.config.guest_id.clone()),
                guest_full_name: Some(self.config.guest_full_name.clone()),
                annotation: self.config.annotation.clone(),
                hw_version: Some(self.config.version.clone()),
                ..Default::default()
            },
            storage: Some(VirtualMachineStorageSummary {
                committed: 0,
                uncommitted: 0,
                unshared: 0,
                timestamp: now(),
            }),
            quick_stats: VirtualMachineQuickStats {
                guest_heartbeat_status: if self.tools_running() {
                    ManagedEntityStatus::Green
                } else {
                    ManagedEntityStatus::Gray
                },
                overall_cpu_usage: Some(0),
                guest_memory_usage: Some(0),
                host_memory_usage: Some(0),
                uptime_seconds: Some(0),
                ..Default::default()
            },
            overall_status: ManagedEntityStatus::Green,
            ..Default::default()
        }
    }

    /// Reads a top-level property.
    pub fn property(&self, state: &State, r: &MoRef, name: &str) -> Top {
        Some(match name {
            "config" => Some(Any::from(self.full_config(state))),
            "runtime" => Some(Any::from(self.runtime.clone())),
            "guest" => Some(Any::from(self.guest())),
            "summary" => Some(Any::from(self.summary(r))),
            "datastore" => Some(refs(vec![self.datastore.clone()])),
            "network" => Some(refs(self.networks.clone())),
            "resourcePool" => Some(Any::from(self.resource_pool.clone())),
            "snapshot" => {
                if self.root_snapshots.is_empty() {
                    None
                } else {
                    Some(Any::from(VirtualMachineSnapshotInfo {
                        current_snapshot: self.current_snapshot.clone(),
                        root_snapshot_list: self
                            .root_snapshots
                            .iter()
                            .filter_map(|s| crate::mo::snapshot::tree(state, s))
                            .collect(),
                    }))
                }
            }
            "rootSnapshot" => Some(refs(self.root_snapshots.clone())),
            "guestHeartbeatStatus" => Some(Any::from(if self.tools_running() {
                ManagedEntityStatus::Green
            } else {
                ManagedEntityStatus::Gray
            })),
            "capability" => Some(Any::from(capability())),
            // The browser of the compute resource the VM's pool belongs to.
            "environmentBrowser" => match state.objects.get(&self.resource_pool.value) {
                Some(crate::state::Mo::ResourcePool(p)) => {
                    Some(crate::mo::environment_browser::of(&p.owner))
                }
                _ => None,
            },
            "layout" | "layoutEx" | "storage" | "resourceConfig" | "parentVApp" | "file" => None,
            _ => return entity_common(state, r, name),
        })
    }

    /// A `msg.uuid.altered` question when the files moved since the last power-on.
    pub fn uuid_question(&self) -> Option<VirtualMachineQuestionInfo> {
        let vmx = self.vmx();
        let loc = vmx.get("uuid.location")?;
        if loc == location_for(&self.vmx_path.to_string_lossy()) {
            return None;
        }
        let choice = |key: &str, label: &str| {
            BaseElementDescription::from(ElementDescription {
                key: key.into(),
                label: label.into(),
                summary: label.into(),
            })
        };
        Some(VirtualMachineQuestionInfo {
            id: format!("{}-uuid", self.vmx_rel),
            text: "msg.uuid.altered:This virtual machine might have been moved or copied.".into(),
            choice: ChoiceOption {
                choice_info: vec![
                    choice("0", "button.uuid.cancel"),
                    choice("1", "button.uuid.movedTheVM"),
                    choice("2", "button.uuid.copiedTheVM"),
                ],
                default_index: Some(2),
                ..Default::default()
            },
            message: vec![esx_vim::VirtualMachineMessage {
                id: "msg.uuid.altered".into(),
                text: Some("This virtual machine might have been moved or copied.".into()),
                ..Default::default()
            }],
        })
    }

    /// Sets the power state (and boot/suspend times).
    pub fn set_power(&mut self, s: VirtualMachinePowerState) {
        match s {
            VirtualMachinePowerState::PoweredOn => {
                self.runtime.boot_time = Some(now());
                self.runtime.suspend_time = None;
            }
            VirtualMachinePowerState::Suspended => self.runtime.suspend_time = Some(now()),
            _ => {
                self.runtime.boot_time = None;
                self.runtime.suspend_time = None;
            }
        }
        self.runtime.power_state = s;
    }
}

/// `AcquireTicket` for `mks` or `webmks` (console tickets) of a powered-on VM: a fresh ticket
/// with the `.vmx` path, the host (the simulator's address) and port (902 for MKS, the
/// simulator's HTTPS port for WebMKS, with its `wss://` URL) and the certificate's SHA-1
/// thumbprint. `InvalidState` when the VM is not powered on, `InvalidArgument` for another
/// ticket type. Nothing listens for these tickets.
pub fn acquire_ticket(
    state: &State,
    r: &MoRef,
    ticket_type: &str,
) -> MethodResult<esx_vim::VirtualMachineTicket> {
    let vm = state.vm(r)?;
    let web = match ticket_type {
        "mks" => false,
        "webmks" => true,
        _ => return Err(Fault::invalid_argument("ticketType")),
    };
    if vm.runtime.power_state != VirtualMachinePowerState::PoweredOn {
        return Err(Fault::invalid_state(
            "The operation is not allowed in the current state: the virtual machine is not powered on.",
        ));
    }
    let host = crate::ticket::host_name(state);
    let ticket = crate::tls::session_key();
    let port = if web {
        i32::from(state.config.listen.port())
    } else {
        902
    };
    Ok(esx_vim::VirtualMachineTicket {
        url: web.then(|| format!("wss://{host}:{port}/ticket/{ticket}")),
        ticket,
        cfg_file: format!("/vmfs/volumes/{}/{}", vm.datastore_name, vm.vmx_rel),
        host: Some(host),
        port: Some(port),
        ssl_thumbprint: Some(state.thumbprint.clone()),
    })
}

/// The runtime of a VM that is registered but off.
pub fn initial_runtime(host: &MoRef) -> VirtualMachineRuntimeInfo {
    VirtualMachineRuntimeInfo {
        host: Some(host.clone()),
        connection_state: VirtualMachineConnectionState::Connected,
        power_state: VirtualMachinePowerState::PoweredOff,
        max_cpu_usage: Some(2400),
        max_memory_usage: Some(1024),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_forms() {
        let api = "564d1234-5678-9abc-def0-123456789abc";
        let v = vmx_uuid(api);
        assert_eq!(v, "56 4d 12 34 56 78 9a bc-de f0 12 34 56 78 9a bc");
        assert_eq!(api_uuid(&v), api);
    }

    #[test]
    fn config_from_minimal_vmx() {
        let vmx = VmxFile::parse_str("displayName = \"a\"\nmemsize = \"512\"\nnumvcpus = \"2\"\nscsi0.present = \"TRUE\"\nscsi0:0.present = \"TRUE\"\nscsi0:0.fileName = \"a.vmdk\"\nethernet0.present = \"TRUE\"\nethernet0.networkName = \"VM Network\"\n").unwrap();
        let c = config_from_vmx(&vmx, "datastore1", "a/a.vmx");
        assert_eq!(c.name, "a");
        assert_eq!(c.hardware.memory_mb, 512);
        assert_eq!(c.hardware.num_cpu, 2);
        assert_eq!(
            c.files.vm_path_name.as_deref(),
            Some("[datastore1] a/a.vmx")
        );
        assert!(c.hardware.device.is_empty(), "devices are built when read");
        assert_eq!(
            vm_devices::Counts::of(&vmx),
            vm_devices::Counts { disks: 1, nics: 1 }
        );
    }
}
