//! `spawn`: a VM from a disk image, Nova's way — duplicate check, networks (VLAN port groups
//! made on demand), datastore choice, the image cache, the disk copied from the cache,
//! `CreateVM_Task` with every device and the `machine.id`/`guestinfo` settings, power-on.
//! Whatever fails, nothing of the VM is left behind.

use std::net::Ipv4Addr;
use std::sync::Arc;

use esx_domain::Uuid;
use esx_driver::{Domain, ErrorCode, HypervisorDriver};
use esx_guest::{guestinfo, Ipv4Config, MacAddr, Netmask, NicConfig};
use esx_vim::{
    methods, Any, BaseOptionValue, BaseVirtualDevice, BaseVirtualDeviceBackingInfo,
    BaseVirtualDeviceConfigSpec, BaseVirtualDiskSpec, FileBackedVirtualDiskSpec,
    ManagedObjectReference as MoRef, OptionValue, ParaVirtualSCSIController, ToolsConfigInfo,
    VirtualBusLogicController, VirtualDeviceConfigSpec, VirtualDeviceConfigSpecOperation,
    VirtualDeviceConnectInfo, VirtualDisk, VirtualDiskFlatVer2BackingInfo,
    VirtualLsiLogicController, VirtualLsiLogicSASController, VirtualMachineConfigSpec,
    VirtualMachineFileInfo, VirtualSCSISharing,
};

use crate::error::{ProvisionError, Result};
use crate::progress::{NoProgress, Progress};
use crate::spec::check_spec;
pub use crate::spec::{
    AdapterType, DatastoreChoice, DiskType, NicModel, NicSpec, SpawnSpec, Spawned,
};
use crate::Provisioner;

/// A datastore the host can use.
#[derive(Debug, Clone)]
pub(crate) struct DatastoreRef {
    pub name: String,
    pub free: u64,
}

/// A MAC in VMware's manually assigned range `00:50:56:00:00:00`–`00:50:56:3f:ff:ff`.
pub fn random_mac() -> MacAddr {
    use ring::rand::SecureRandom;
    let mut b = [0u8; 3];
    // SystemRandom only fails when the OS has no randomness source at all.
    let _ = ring::rand::SystemRandom::new().fill(&mut b);
    MacAddr([0x00, 0x50, 0x56, b[0] & 0x3f, b[1], b[2]])
}

/// The guest-side view of the NICs (what `machine.id` and `guestinfo` carry).
pub fn nic_configs(nics: &[NicSpec], macs: &[MacAddr]) -> Result<Vec<NicConfig>> {
    nics.iter()
        .zip(macs)
        .map(|(n, mac)| {
            let ipv4 = match n.ipv4 {
                None => None,
                Some((address, prefix)) => {
                    let netmask = Netmask::from_prefix_len(prefix).ok_or_else(|| {
                        ProvisionError::InvalidArgument(format!(
                            "prefix length {prefix} of {address} is out of range (0-32)"
                        ))
                    })?;
                    let host_bits = u32::MAX.checked_shr(u32::from(prefix)).unwrap_or(0);
                    let broadcast = Ipv4Addr::from(u32::from(address) | host_bits);
                    Some(Ipv4Config {
                        address,
                        netmask,
                        gateway: n.gateway,
                        broadcast: Some(broadcast),
                    })
                }
            };
            Ok(NicConfig {
                mac: *mac,
                ipv4,
                dns: n.dns.clone(),
            })
        })
        .collect()
}

fn option(key: &str, value: String) -> BaseOptionValue {
    BaseOptionValue::from(OptionValue {
        key: key.to_string(),
        value: Some(Any::String(value)),
    })
}

fn add(device: BaseVirtualDevice) -> BaseVirtualDeviceConfigSpec {
    BaseVirtualDeviceConfigSpec::from(VirtualDeviceConfigSpec {
        operation: Some(VirtualDeviceConfigSpecOperation::Add),
        device,
        ..Default::default()
    })
}

fn connected() -> Option<VirtualDeviceConnectInfo> {
    Some(VirtualDeviceConnectInfo {
        start_connected: true,
        connected: true,
        allow_guest_control: true,
        ..Default::default()
    })
}

/// The temporary key of the SCSI controller in the creation spec.
const CONTROLLER_KEY: i32 = -101;
/// The VM's first IDE controller (created with every VM).
const IDE_KEY: i32 = 200;

/// The controller (none for IDE) and the disk.
fn disk_devices(
    adapter: AdapterType,
    file: &str,
    capacity: u64,
    thin: bool,
) -> Vec<BaseVirtualDevice> {
    let mut out = Vec::new();
    macro_rules! scsi {
        ($t:ident) => {
            BaseVirtualDevice::from($t {
                key: CONTROLLER_KEY,
                bus_number: 0,
                shared_bus: VirtualSCSISharing::NoSharing,
                ..Default::default()
            })
        };
    }
    let controller_key = match adapter {
        AdapterType::Ide => IDE_KEY,
        AdapterType::LsiLogic => {
            out.push(scsi!(VirtualLsiLogicController));
            CONTROLLER_KEY
        }
        AdapterType::BusLogic => {
            out.push(scsi!(VirtualBusLogicController));
            CONTROLLER_KEY
        }
        AdapterType::LsiLogicSas => {
            out.push(scsi!(VirtualLsiLogicSASController));
            CONTROLLER_KEY
        }
        AdapterType::ParaVirtual => {
            out.push(scsi!(ParaVirtualSCSIController));
            CONTROLLER_KEY
        }
    };
    out.push(BaseVirtualDevice::from(VirtualDisk {
        key: -100,
        controller_key: Some(controller_key),
        unit_number: Some(0),
        capacity_in_kb: capacity.div_ceil(1024) as i64,
        capacity_in_bytes: Some(capacity as i64),
        backing: Some(BaseVirtualDeviceBackingInfo::from(
            VirtualDiskFlatVer2BackingInfo {
                file_name: file.to_string(),
                disk_mode: "persistent".into(),
                thin_provisioned: Some(thin),
                ..Default::default()
            },
        )),
        connectable: Some(VirtualDeviceConnectInfo {
            start_connected: true,
            connected: true,
            allow_guest_control: false,
            ..Default::default()
        }),
        ..Default::default()
    }));
    out
}

fn nic_device(
    model: NicModel,
    key: i32,
    mac: MacAddr,
    backing: BaseVirtualDeviceBackingInfo,
) -> BaseVirtualDevice {
    macro_rules! nic {
        ($t:ident) => {
            BaseVirtualDevice::from(esx_vim::$t {
                key,
                backing: Some(backing),
                connectable: connected(),
                address_type: Some("manual".into()),
                mac_address: Some(mac.to_string()),
                wake_on_lan_enabled: Some(true),
                ..Default::default()
            })
        };
    }
    match model {
        NicModel::E1000 => nic!(VirtualE1000),
        NicModel::E1000e => nic!(VirtualE1000e),
        NicModel::Vmxnet3 => nic!(VirtualVmxnet3),
        NicModel::PcNet32 => nic!(VirtualPCNet32),
    }
}

/// What a failed spawn must undo.
#[derive(Default)]
struct Undo {
    dir: Option<String>,
    vm: Option<MoRef>,
}

impl Provisioner {
    /// Spawns a VM from `spec` (see the module documentation for the steps), reporting
    /// upload progress to `progress`.
    pub async fn spawn(&self, spec: &SpawnSpec, progress: Arc<dyn Progress>) -> Result<Spawned> {
        check_spec(spec)?;
        // 1. Nova's duplicate check.
        match self.conn.domain_lookup_by_name(&spec.name).await {
            Ok(_) => return Err(ProvisionError::Duplicate(spec.name.clone())),
            Err(e) if e.code == ErrorCode::NoDomain => {}
            Err(e) => return Err(e.into()),
        }
        // 2. Networks, with their VLAN port groups made first.
        let mut backings = Vec::new();
        for nic in &spec.nics {
            if let Some(vlan) = nic.vlan {
                self.ensure_vlan_portgroup(&nic.network, vlan, &spec.uplink)
                    .await?;
            }
            backings.push(self.nic_backing(&nic.network).await?);
        }
        let macs: Vec<MacAddr> = spec
            .nics
            .iter()
            .map(|n| n.mac.unwrap_or_else(random_mac))
            .collect();
        let guest_nics = nic_configs(&spec.nics, &macs)?;
        // 3. The datastore, and the image in its cache.
        let ds = self.choose_datastore(&spec.datastore).await?;
        let (cached, cache) = self
            .cached_image(
                &ds,
                &spec.image,
                spec.image_id.as_deref(),
                &spec.url_options,
                progress,
            )
            .await?;
        let adapter = spec
            .adapter
            .or_else(|| cached.adapter_type.as_deref().and_then(AdapterType::parse))
            .unwrap_or_default();
        // 4. The VM's folder: it must not exist (another VM's files are never touched).
        let dir = format!("[{}] {}", ds.name, spec.name);
        let vmx_path = format!("{dir}/{}.vmx", spec.name);
        let disk_path = format!("{dir}/{}.vmdk", spec.name);
        if !self.conn.datastore_make_directory(&dir).await? {
            return Err(ProvisionError::FilesExist(dir));
        }
        let mut undo = Undo {
            dir: Some(dir.clone()),
            vm: None,
        };
        let machine_id = spec
            .machine_id
            .then(|| esx_guest::format_machine_id(&guest_nics));
        let built = self
            .build_vm(
                spec,
                &ds,
                &cached,
                adapter,
                &backings,
                &macs,
                &guest_nics,
                &machine_id,
                &vmx_path,
                &disk_path,
                &mut undo,
            )
            .await;
        let domain = match built {
            Ok(d) => d,
            Err(e) => return Err(self.undo(undo, e).await),
        };
        Ok(Spawned {
            domain,
            datastore: ds.name,
            vmx_path,
            disk_path,
            cache,
            macs,
            machine_id,
        })
    }

    /// Steps 5-7 of a spawn: the disk copied from the cache, the VM created, powered on.
    #[allow(clippy::too_many_arguments)]
    async fn build_vm(
        &self,
        spec: &SpawnSpec,
        ds: &DatastoreRef,
        cached: &crate::cache::CachedImage,
        adapter: AdapterType,
        backings: &[BaseVirtualDeviceBackingInfo],
        macs: &[MacAddr],
        guest_nics: &[NicConfig],
        machine_id: &Option<String>,
        vmx_path: &str,
        disk_path: &str,
        undo: &mut Undo,
    ) -> Result<Domain> {
        let ctx = self.conn.endpoint();
        let client = &ctx.client;
        let thin = spec.disk_type == DiskType::Thin;
        if !thin && ds.free < cached.capacity {
            return Err(ProvisionError::NoSpace {
                datastore: ds.name.clone(),
                free: ds.free,
                needed: cached.capacity,
            });
        }
        // The VM's disk: a copy of the cached image with the asked adapter and allocation.
        self.copy_disk(
            &cached.descriptor,
            disk_path,
            spec.disk_type,
            adapter,
            cached.capacity,
        )
        .await?;
        // The VM, with every device and the injected settings.
        let mut config = VirtualMachineConfigSpec {
            name: Some(spec.name.clone()),
            guest_id: Some(spec.guest_id.clone()),
            num_cp_us: Some(spec.vcpus as i32),
            memory_mb: Some(spec.memory_mib as i64),
            files: Some(VirtualMachineFileInfo {
                vm_path_name: Some(vmx_path.to_string()),
                ..Default::default()
            }),
            tools: Some(ToolsConfigInfo {
                after_power_on: Some(true),
                after_resume: Some(true),
                before_guest_standby: Some(true),
                before_guest_shutdown: Some(true),
                before_guest_reboot: Some(true),
                ..Default::default()
            }),
            ..Default::default()
        };
        for d in disk_devices(adapter, disk_path, cached.capacity, thin) {
            config.device_change.push(add(d));
        }
        for (i, ((nic, mac), backing)) in spec.nics.iter().zip(macs).zip(backings).enumerate() {
            config.device_change.push(add(nic_device(
                nic.model,
                -200 - i as i32,
                *mac,
                backing.clone(),
            )));
        }
        if let Some(id) = machine_id {
            config
                .extra_config
                .push(option(esx_guest::keys::MACHINE_ID, id.clone()));
        }
        if spec.guestinfo {
            let meta = guestinfo::GuestMetadata {
                instance_id: Some(spec.name.clone()),
                local_hostname: Some(spec.hostname.clone().unwrap_or_else(|| spec.name.clone())),
                nics: guest_nics.to_vec(),
            };
            for (k, v) in guestinfo::extra_config(&meta) {
                config.extra_config.push(option(k, v));
            }
        }
        let host = (self.conn.has_vcenter() || self.conn.product() == esx_driver::Product::Vpx)
            .then(|| ctx.host_system.clone());
        let task = methods::create_vm_task(
            &**client,
            &ctx.vm_folder,
            config,
            ctx.resource_pool.clone(),
            host,
        )
        .await?;
        let info = self
            .conn
            .task_wait(&task, None, &format!("create VM '{}'", spec.name))
            .await?;
        let vm = match info.result {
            Some(Any::ManagedObjectReference(r)) => r,
            _ => {
                return Err(ProvisionError::InvalidArgument(
                    "CreateVM_Task reported no VM".into(),
                ))
            }
        };
        undo.vm = Some(vm.clone());
        let props = self.conn.properties(&vm, &["config.uuid"]).await?;
        let uuid: Uuid = props
            .iter()
            .find_map(|(_, v)| match v {
                Any::String(s) => s.parse().ok(),
                _ => None,
            })
            .ok_or_else(|| ProvisionError::InvalidArgument("the new VM has no UUID".into()))?;
        let mut domain = Domain {
            name: spec.name.clone(),
            uuid,
            id: -1,
        };
        if spec.power_on {
            self.conn.domain_create(&domain).await?;
            domain = self.conn.domain_lookup_by_uuid(&uuid).await?;
        }
        Ok(domain)
    }

    /// Copies the disk `source` to `dest` (`CopyVirtualDisk_Task`: a chain is coalesced)
    /// with `disk_type` allocation and `adapter`.
    pub(crate) async fn copy_disk(
        &self,
        source: &str,
        dest: &str,
        disk_type: DiskType,
        adapter: AdapterType,
        capacity: u64,
    ) -> Result<()> {
        let ctx = self.conn.endpoint();
        let client = &ctx.client;
        let vdm = client
            .service_content()
            .virtual_disk_manager
            .clone()
            .ok_or_else(|| {
                ProvisionError::InvalidArgument("the server has no virtual disk manager".into())
            })?;
        let dest_spec = BaseVirtualDiskSpec::from(FileBackedVirtualDiskSpec {
            disk_type: disk_type.api_name().into(),
            adapter_type: adapter.api_name().into(),
            capacity_kb: capacity.div_ceil(1024) as i64,
            ..Default::default()
        });
        let task = methods::copy_virtual_disk_task(
            &**client,
            &vdm,
            source.to_string(),
            Some(ctx.datacenter.clone()),
            dest.to_string(),
            Some(ctx.datacenter.clone()),
            Some(dest_spec),
            Some(false),
        )
        .await?;
        self.conn
            .task_wait(&task, None, &format!("copy '{source}' to '{dest}'"))
            .await?;
        Ok(())
    }

    /// Undoes a failed spawn: the VM powered off and unregistered, its folder deleted.
    async fn undo(&self, undo: Undo, error: ProvisionError) -> ProvisionError {
        let ctx = self.conn.endpoint();
        let mut left = Vec::new();
        if let Some(vm) = &undo.vm {
            if let Ok(p) = self.conn.properties(vm, &["runtime.powerState"]).await {
                let on = p.iter().any(|(_, v)| {
                    !matches!(
                        v,
                        Any::VirtualMachinePowerState(
                            esx_vim::VirtualMachinePowerState::PoweredOff
                        )
                    )
                });
                if on {
                    if let Ok(t) = methods::power_off_vm_task(&*ctx.client, vm).await {
                        let _ = self.conn.task_wait(&t, None, "power off").await;
                    }
                }
            }
            if let Err(e) = methods::unregister_vm(&*ctx.client, vm).await {
                left.push(format!("VM {} stays registered: {e}", vm.value));
            }
        }
        if let Some(dir) = &undo.dir {
            if let Err(e) = self.conn.datastore_delete(dir).await {
                left.push(format!("'{dir}' stays: {e}"));
            }
        }
        tracing::info!(error = %error, "spawn failed; undone");
        if left.is_empty() {
            error
        } else {
            ProvisionError::CleanupFailed {
                error: Box::new(error),
                cleanup: left.join("; "),
            }
        }
    }

    /// The datastore `choice` names, with its free space.
    pub(crate) async fn choose_datastore(&self, choice: &DatastoreChoice) -> Result<DatastoreRef> {
        let ctx = self.conn.endpoint();
        let props = self
            .conn
            .properties(&ctx.host_system, &["datastore"])
            .await?;
        let list: Vec<MoRef> = props
            .into_iter()
            .flat_map(|(_, v)| match v {
                Any::ArrayOfManagedObjectReference(a) => a.managed_object_reference,
                _ => Vec::new(),
            })
            .collect();
        let mut all = Vec::new();
        for ds in list {
            let p = self.conn.properties(&ds, &["summary"]).await?;
            if let Some(Any::DatastoreSummary(s)) = p.into_iter().map(|(_, v)| v).next() {
                all.push(*s);
            }
        }
        let usable = all.iter().filter(|s| s.accessible);
        let found = match choice {
            DatastoreChoice::Named(n) => {
                let s = all.iter().find(|s| s.name == *n).ok_or_else(|| {
                    ProvisionError::NoDatastore(format!("the host has no datastore '{n}'"))
                })?;
                if !s.accessible {
                    return Err(ProvisionError::NoDatastore(format!(
                        "datastore '{n}' is not accessible"
                    )));
                }
                s
            }
            DatastoreChoice::FirstVmfs => usable
                .clone()
                .find(|s| s.r#type.eq_ignore_ascii_case("VMFS"))
                .ok_or_else(|| {
                    ProvisionError::NoDatastore("the host has no accessible VMFS datastore".into())
                })?,
            DatastoreChoice::MostFree => usable.max_by_key(|s| s.free_space).ok_or_else(|| {
                ProvisionError::NoDatastore("the host has no accessible datastore".into())
            })?,
        };
        Ok(DatastoreRef {
            name: found.name.clone(),
            free: found.free_space.max(0) as u64,
        })
    }
}

/// A progress sink that shows nothing (for callers without a progress bar).
pub fn no_progress() -> Arc<dyn Progress> {
    Arc::new(NoProgress)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::ImageSource;

    #[test]
    fn adapters_parse_every_spelling() {
        for (s, a) in [
            ("lsiLogic", AdapterType::LsiLogic),
            ("lsilogic", AdapterType::LsiLogic),
            ("busLogic", AdapterType::BusLogic),
            ("lsiLogicsas", AdapterType::LsiLogicSas),
            ("paraVirtual", AdapterType::ParaVirtual),
            ("pvscsi", AdapterType::ParaVirtual),
            ("ide", AdapterType::Ide),
        ] {
            assert_eq!(AdapterType::parse(s), Some(a), "{s}");
            assert_eq!(AdapterType::parse(a.api_name()), Some(a));
        }
        assert!("scsi".parse::<AdapterType>().is_err());
    }

    #[test]
    fn generated_macs_are_in_the_manual_range() {
        for _ in 0..100 {
            let m = random_mac();
            assert_eq!(&m.0[..3], &[0x00, 0x50, 0x56]);
            assert!(m.0[3] <= 0x3f);
        }
    }

    #[test]
    fn nic_configs_compute_the_broadcast() {
        let nics = vec![
            NicSpec {
                network: "a".into(),
                ipv4: Some(([10, 0, 0, 3].into(), 24)),
                gateway: Some([10, 0, 0, 1].into()),
                dns: vec![[8, 8, 8, 8].into()],
                ..Default::default()
            },
            NicSpec {
                network: "b".into(),
                ..Default::default()
            },
        ];
        let macs = [
            "02:16:3e:00:00:01".parse().unwrap(),
            "02:16:3e:00:00:02".parse().unwrap(),
        ];
        let c = nic_configs(&nics, &macs).unwrap();
        assert_eq!(
            esx_guest::format_machine_id(&c),
            "02:16:3e:00:00:01;10.0.0.3;255.255.255.0;10.0.0.1;10.0.0.255;8.8.8.8#02:16:3e:00:00:02;;;;;#"
        );
        let mut bad = nics.clone();
        bad[0].ipv4 = Some(([10, 0, 0, 3].into(), 33));
        assert!(nic_configs(&bad, &macs).is_err());
    }

    #[test]
    fn specs_are_checked() {
        let ok = SpawnSpec::new("vm", ImageSource::File("/x".into()));
        assert!(check_spec(&ok).is_ok());
        for f in [
            |s: &mut SpawnSpec| s.name = "a/b".into(),
            |s: &mut SpawnSpec| s.vcpus = 0,
            |s: &mut SpawnSpec| s.memory_mib = 6,
            |s: &mut SpawnSpec| s.nics = vec![NicSpec::default()],
        ] {
            let mut s = ok.clone();
            f(&mut s);
            assert!(check_spec(&s).is_err());
        }
    }
}
