//! Editing an existing domain: the difference between its current definition (read from
//! its `.vmx`) and the new one becomes one `ReconfigVM_Task`, which the server applies
//! whole or not at all. What a `ReconfigVM_Task` cannot express is refused with an error
//! that names it, before anything is sent.

use esx_domain::{
    Address, CharDevice, Disk, Domain as DomainDef, DriveAddress, Graphics, Interface,
};
use esx_vim::{
    Any, BaseOptionValue, BaseVirtualDevice, BaseVirtualDeviceBackingInfo,
    BaseVirtualDeviceConfigSpec, DistributedVirtualSwitchPortConnection, OptionValue,
    ResourceAllocationInfo, SharesInfo, SharesLevel, VirtualCdrom, VirtualCdromAtapiBackingInfo,
    VirtualCdromIsoBackingInfo, VirtualCdromPassthroughBackingInfo,
    VirtualCdromRemoteAtapiBackingInfo, VirtualDeviceConfigSpec, VirtualDeviceConfigSpecOperation,
    VirtualDeviceConnectInfo, VirtualDisk, VirtualDiskFlatVer2BackingInfo,
    VirtualEthernetCardDistributedVirtualPortBackingInfo, VirtualEthernetCardNetworkBackingInfo,
    VirtualFloppy, VirtualFloppyDeviceBackingInfo, VirtualFloppyImageBackingInfo,
    VirtualMachineConfigSpec, VirtualParallelPort, VirtualParallelPortDeviceBackingInfo,
    VirtualParallelPortFileBackingInfo, VirtualSerialPort, VirtualSerialPortDeviceBackingInfo,
    VirtualSerialPortFileBackingInfo, VirtualSerialPortPipeBackingInfo,
    VirtualSerialPortURIBackingInfo,
};

use crate::error::{Error, ErrorCode, Result};
use crate::types::Domain;
use crate::Connection;

fn unsupported(what: &str) -> Error {
    Error::new(
        ErrorCode::ConfigUnsupported,
        format!("changing {what} of an existing domain is not supported"),
    )
}

/// Key, controller key and unit number of the device families the edit touches.
fn slot(d: &BaseVirtualDevice) -> Option<(i32, Option<i32>, Option<i32>)> {
    macro_rules! s {
        ($x:expr) => {
            Some(($x.key, $x.controller_key, $x.unit_number))
        };
    }
    match d {
        BaseVirtualDevice::VirtualDisk(x) => s!(x),
        BaseVirtualDevice::VirtualCdrom(x) => s!(x),
        BaseVirtualDevice::VirtualFloppy(x) => s!(x),
        BaseVirtualDevice::VirtualSerialPort(x) => s!(x),
        BaseVirtualDevice::VirtualParallelPort(x) => s!(x),
        BaseVirtualDevice::VirtualE1000(x) => s!(x),
        BaseVirtualDevice::VirtualE1000e(x) => s!(x),
        BaseVirtualDevice::VirtualPCNet32(x) => s!(x),
        BaseVirtualDevice::VirtualVmxnet(x) => s!(x),
        BaseVirtualDevice::VirtualVmxnet2(x) => s!(x),
        BaseVirtualDevice::VirtualVmxnet3(x) => s!(x),
        _ => None,
    }
}

fn is_nic(d: &BaseVirtualDevice) -> bool {
    matches!(
        d,
        BaseVirtualDevice::VirtualE1000(_)
            | BaseVirtualDevice::VirtualE1000e(_)
            | BaseVirtualDevice::VirtualPCNet32(_)
            | BaseVirtualDevice::VirtualVmxnet(_)
            | BaseVirtualDevice::VirtualVmxnet2(_)
            | BaseVirtualDevice::VirtualVmxnet3(_)
    )
}

/// `(key, bus number)` of the controllers of one kind.
fn controllers(devices: &[BaseVirtualDevice], kind: &str) -> Vec<(i32, i32)> {
    devices
        .iter()
        .filter_map(|d| match (kind, d) {
            ("scsi", BaseVirtualDevice::VirtualLsiLogicController(c)) => {
                Some((c.key, c.bus_number))
            }
            ("scsi", BaseVirtualDevice::VirtualBusLogicController(c)) => {
                Some((c.key, c.bus_number))
            }
            ("scsi", BaseVirtualDevice::VirtualLsiLogicSASController(c)) => {
                Some((c.key, c.bus_number))
            }
            ("scsi", BaseVirtualDevice::ParaVirtualSCSIController(c)) => {
                Some((c.key, c.bus_number))
            }
            ("ide", BaseVirtualDevice::VirtualIDEController(c)) => Some((c.key, c.bus_number)),
            ("sata", BaseVirtualDevice::VirtualAHCIController(c)) => Some((c.key, c.bus_number)),
            ("fdc", BaseVirtualDevice::VirtualSIOController(c)) => Some((c.key, c.bus_number)),
            _ => None,
        })
        .collect()
}

/// The drive address of a disk (assigned from the target by the post-parse step).
fn drive(d: &Disk) -> DriveAddress {
    match &d.address {
        Some(Address::Drive(a)) => *a,
        _ => DriveAddress::default(),
    }
}

/// Where a disk sits: its bus and drive address.
type DiskSlot = (String, u32, u32, u32);

fn disk_slot(d: &Disk) -> DiskSlot {
    let a = drive(d);
    let bus = d.target.bus.clone().unwrap_or_default();
    (bus, a.controller, a.bus, a.unit)
}

/// The vSphere controller key and unit number of a disk slot.
fn locate(
    devices: &[BaseVirtualDevice],
    slot: &DiskSlot,
    new_keys: &[(String, u32, i32)],
) -> Result<(i32, i32)> {
    let (bus, controller, ide_bus, unit) = slot;
    let (kind, number) = match bus.as_str() {
        "scsi" => ("scsi", *controller),
        "ide" => ("ide", *ide_bus),
        "sata" => ("sata", *controller),
        "fdc" => ("fdc", 0),
        other => {
            return Err(Error::new(
                ErrorCode::ConfigUnsupported,
                format!("Unsupported bus type '{other}'"),
            ))
        }
    };
    let key = controllers(devices, kind)
        .into_iter()
        .find(|(_, n)| *n as u32 == number || kind == "fdc")
        .map(|(k, _)| k)
        .or_else(|| {
            new_keys
                .iter()
                .find(|(k, n, _)| k == kind && *n == number)
                .map(|(_, _, key)| *key)
        })
        .ok_or_else(|| {
            Error::new(
                ErrorCode::ConfigUnsupported,
                format!("the domain has no {kind} controller {number} for disk {slot:?}"),
            )
        })?;
    Ok((key, *unit as i32))
}

fn connect_info() -> Option<VirtualDeviceConnectInfo> {
    Some(VirtualDeviceConnectInfo {
        start_connected: true,
        allow_guest_control: true,
        connected: false,
        ..Default::default()
    })
}

/// The vSphere backing of a disk-family device.
fn disk_backing(d: &Disk) -> Result<Option<BaseVirtualDeviceBackingInfo>> {
    let src = d.source.as_ref().and_then(|s| s.path.clone());
    let auto = d.source.as_ref().and_then(|s| s.startup_policy.as_deref()) == Some("optional");
    Ok(Some(match (d.device.as_str(), d.disk_type.as_str()) {
        ("disk", "file") => BaseVirtualDeviceBackingInfo::from(VirtualDiskFlatVer2BackingInfo {
            file_name: src.ok_or_else(|| unsupported("a hard disk without a source"))?,
            disk_mode: if d.transient {
                "independent_nonpersistent"
            } else {
                "persistent"
            }
            .to_string(),
            write_through: (d.driver.as_ref().and_then(|x| x.cache.as_deref())
                == Some("writethrough"))
            .then_some(true),
            ..Default::default()
        }),
        ("cdrom", "file") => match src {
            Some(f) => BaseVirtualDeviceBackingInfo::from(VirtualCdromIsoBackingInfo {
                file_name: f,
                ..Default::default()
            }),
            None => BaseVirtualDeviceBackingInfo::from(VirtualCdromRemoteAtapiBackingInfo {
                device_name: String::new(),
                use_auto_detect: Some(false),
            }),
        },
        ("cdrom", "block") => BaseVirtualDeviceBackingInfo::from(VirtualCdromAtapiBackingInfo {
            device_name: src.unwrap_or_else(|| "auto detect".to_string()),
            use_auto_detect: Some(auto),
        }),
        ("lun", "block") => {
            BaseVirtualDeviceBackingInfo::from(VirtualCdromPassthroughBackingInfo {
                device_name: src.unwrap_or_else(|| "auto detect".to_string()),
                use_auto_detect: Some(auto),
                exclusive: false,
            })
        }
        ("floppy", "file") => BaseVirtualDeviceBackingInfo::from(VirtualFloppyImageBackingInfo {
            file_name: src.unwrap_or_default(),
            ..Default::default()
        }),
        ("floppy", "block") => BaseVirtualDeviceBackingInfo::from(VirtualFloppyDeviceBackingInfo {
            device_name: src.unwrap_or_default(),
            use_auto_detect: Some(false),
        }),
        (dev, ty) => {
            return Err(Error::new(
                ErrorCode::ConfigUnsupported,
                format!("Unsupported disk device '{dev}' of type '{ty}'"),
            ))
        }
    }))
}

/// A new vSphere device for disk `d` at `(controller key, unit)` with temporary `key`.
fn disk_device(d: &Disk, at: (i32, i32), key: i32) -> Result<BaseVirtualDevice> {
    let backing = disk_backing(d)?;
    let (controller_key, unit_number) = (Some(at.0), Some(at.1));
    Ok(match d.device.as_str() {
        "disk" => BaseVirtualDevice::from(VirtualDisk {
            key,
            backing,
            controller_key,
            unit_number,
            ..Default::default()
        }),
        "cdrom" | "lun" => BaseVirtualDevice::from(VirtualCdrom {
            key,
            backing,
            connectable: connect_info(),
            controller_key,
            unit_number,
            ..Default::default()
        }),
        _ => BaseVirtualDevice::from(VirtualFloppy {
            key,
            backing,
            connectable: connect_info(),
            controller_key,
            unit_number,
            ..Default::default()
        }),
    })
}

/// The existing device with a new backing.
fn with_backing(
    dev: &BaseVirtualDevice,
    backing: Option<BaseVirtualDeviceBackingInfo>,
) -> BaseVirtualDevice {
    let mut d = dev.clone();
    match &mut d {
        BaseVirtualDevice::VirtualDisk(x) => x.backing = backing,
        BaseVirtualDevice::VirtualCdrom(x) => x.backing = backing,
        BaseVirtualDevice::VirtualFloppy(x) => x.backing = backing,
        BaseVirtualDevice::VirtualSerialPort(x) => x.backing = backing,
        BaseVirtualDevice::VirtualParallelPort(x) => x.backing = backing,
        _ => {}
    }
    d
}

/// vSphere's address type and MAC for an interface, with the VMX converter's ranges.
fn mac_for(i: &Interface) -> (Option<String>, Option<String>) {
    let Some(mac) = &i.mac else {
        return (Some("generated".into()), None);
    };
    let text = mac.address.to_string();
    let b = mac.address.0;
    let kind = match mac.mac_type.as_deref() {
        Some("generated") => "generated",
        Some("static") => "manual",
        _ if b[..3] == [0x00, 0x0c, 0x29] => "generated",
        _ if b[..3] == [0x00, 0x50, 0x56] && b[3] >= 0x80 && b[3] <= 0xbf => "assigned",
        _ => "manual",
    };
    (Some(kind.to_string()), Some(text))
}

fn nic_backing(i: &Interface) -> Result<Option<BaseVirtualDeviceBackingInfo>> {
    match i.net_type.as_str() {
        "bridge" => Ok(Some(BaseVirtualDeviceBackingInfo::from(
            VirtualEthernetCardNetworkBackingInfo {
                device_name: i.source.bridge.clone().unwrap_or_default(),
                ..Default::default()
            },
        ))),
        "vds" => Ok(Some(BaseVirtualDeviceBackingInfo::from(
            VirtualEthernetCardDistributedVirtualPortBackingInfo {
                port: DistributedVirtualSwitchPortConnection {
                    switch_uuid: i.source.switchid.clone().unwrap_or_default(),
                    portgroup_key: i.source.portgroupid.clone(),
                    port_key: i.source.portid.clone(),
                    connection_cookie: i
                        .source
                        .connectionid
                        .as_deref()
                        .and_then(|c| c.parse().ok()),
                },
            },
        ))),
        "null" => Ok(None),
        other => Err(Error::new(
            ErrorCode::ConfigUnsupported,
            format!("Unsupported net type '{other}'"),
        )),
    }
}

fn nic_device(i: &Interface, key: i32) -> Result<BaseVirtualDevice> {
    let backing = nic_backing(i)?;
    let (address_type, mac_address) = mac_for(i);
    macro_rules! nic {
        ($t:ident) => {
            BaseVirtualDevice::from(esx_vim::$t {
                key,
                backing,
                connectable: connect_info(),
                address_type,
                mac_address,
                ..Default::default()
            })
        };
    }
    Ok(match i.model.as_deref().unwrap_or("e1000") {
        "vlance" => nic!(VirtualPCNet32),
        "vmxnet" => nic!(VirtualVmxnet),
        "vmxnet2" => nic!(VirtualVmxnet2),
        "vmxnet3" => nic!(VirtualVmxnet3),
        "e1000" => nic!(VirtualE1000),
        "e1000e" => nic!(VirtualE1000e),
        other => {
            return Err(Error::new(
                ErrorCode::ConfigUnsupported,
                format!("Unsupported network card model '{other}'"),
            ))
        }
    })
}

fn char_backing(c: &CharDevice, serial: bool) -> Result<Option<BaseVirtualDeviceBackingInfo>> {
    let src = c.sources.first();
    let path = src.and_then(|s| s.path.clone()).unwrap_or_default();
    Ok(Some(match (c.chr_type.as_str(), serial) {
        ("dev", true) => BaseVirtualDeviceBackingInfo::from(VirtualSerialPortDeviceBackingInfo {
            device_name: path,
            use_auto_detect: Some(false),
        }),
        ("file", true) => BaseVirtualDeviceBackingInfo::from(VirtualSerialPortFileBackingInfo {
            file_name: path,
            ..Default::default()
        }),
        ("pipe", true) => BaseVirtualDeviceBackingInfo::from(VirtualSerialPortPipeBackingInfo {
            pipe_name: path,
            endpoint: "client".into(),
            no_rx_loss: Some(false),
        }),
        ("tcp", true) => {
            let s = src.cloned().unwrap_or_default();
            let proto = match c.protocol.as_deref() {
                Some("telnet") => "telnet",
                Some("telnets") => "telnets",
                Some("tls") => "ssl",
                _ => "tcp",
            };
            BaseVirtualDeviceBackingInfo::from(VirtualSerialPortURIBackingInfo {
                service_uri: format!(
                    "{proto}://{}:{}",
                    s.host.unwrap_or_default(),
                    s.service.unwrap_or_default()
                ),
                direction: if s.mode.as_deref() == Some("connect") {
                    "client"
                } else {
                    "server"
                }
                .into(),
                proxy_uri: None,
            })
        }
        ("dev", false) => {
            BaseVirtualDeviceBackingInfo::from(VirtualParallelPortDeviceBackingInfo {
                device_name: path,
                use_auto_detect: Some(false),
            })
        }
        ("file", false) => BaseVirtualDeviceBackingInfo::from(VirtualParallelPortFileBackingInfo {
            file_name: path,
            ..Default::default()
        }),
        (other, _) => {
            return Err(Error::new(
                ErrorCode::ConfigUnsupported,
                format!("Unsupported character device type '{other}'"),
            ))
        }
    }))
}

fn change(
    op: VirtualDeviceConfigSpecOperation,
    device: BaseVirtualDevice,
) -> BaseVirtualDeviceConfigSpec {
    BaseVirtualDeviceConfigSpec::from(VirtualDeviceConfigSpec {
        operation: Some(op),
        device,
        ..Default::default()
    })
}

fn option(key: &str, value: Option<String>) -> BaseOptionValue {
    BaseOptionValue::from(OptionValue {
        key: key.to_string(),
        value: Some(Any::String(value.unwrap_or_default())),
    })
}

fn vnc(def: &DomainDef) -> Option<&Graphics> {
    def.devices
        .graphics
        .iter()
        .find(|g| g.graphics_type == "vnc")
}

/// The memory limit in MiB of a definition: -1 (unlimited) when the current memory is the
/// whole memory.
fn limit_mib(def: &DomainDef) -> i64 {
    let max = def.memory_kib.unwrap_or(0).div_ceil(4096) * 4096;
    match def.current_memory_kib {
        Some(c) if c < max => c.div_ceil(1024) as i64,
        _ => -1,
    }
}

/// The `ReconfigVM_Task` spec that turns `old` into `new`, given the VM's devices.
pub(crate) fn config_spec(
    old: &DomainDef,
    new: &DomainDef,
    devices: &[BaseVirtualDevice],
) -> Result<VirtualMachineConfigSpec> {
    let mut spec = VirtualMachineConfigSpec::default();
    if new.name != old.name {
        spec.name = new.name.clone();
    }
    if new.description != old.description {
        spec.annotation = Some(new.description.clone().unwrap_or_default());
    }
    if new.memory_kib != old.memory_kib {
        if let Some(kib) = new.memory_kib {
            spec.memory_mb = Some((kib.div_ceil(4096) * 4) as i64);
        }
    }
    let mut mem = ResourceAllocationInfo::default();
    let mut mem_changed = false;
    if limit_mib(new) != limit_mib(old) {
        mem.limit = Some(limit_mib(new));
        mem_changed = true;
    }
    if new.memtune.min_guarantee != old.memtune.min_guarantee {
        mem.reservation = Some(new.memtune.min_guarantee.unwrap_or(0).div_ceil(1024) as i64);
        mem_changed = true;
    }
    if mem_changed {
        spec.memory_allocation = Some(mem);
    }
    if new.vcpu.count != old.vcpu.count {
        spec.num_cp_us = Some(new.vcpu.count as i32);
    }
    let cores = |d: &DomainDef| d.cpu.as_ref().and_then(|c| c.topology).map(|t| t.cores);
    if cores(new) != cores(old) {
        spec.num_cores_per_socket = Some(cores(new).unwrap_or(1) as i32);
    }
    if new.cputune.shares != old.cputune.shares {
        spec.cpu_allocation = Some(ResourceAllocationInfo {
            shares: Some(match new.cputune.shares {
                Some(s) => SharesInfo {
                    shares: s.min(i32::MAX as u64) as i32,
                    level: SharesLevel::Custom,
                },
                None => SharesInfo {
                    shares: 0,
                    level: SharesLevel::Normal,
                },
            }),
            ..Default::default()
        });
    }
    if new.os.firmware != old.os.firmware {
        spec.firmware = Some(new.os.firmware.clone().unwrap_or_else(|| "bios".into()));
    }
    if new.vcpu.cpuset != old.vcpu.cpuset {
        return Err(unsupported("the CPU affinity (vcpu cpuset)"));
    }
    if new.devices.filesystems != old.devices.filesystems {
        return Err(unsupported("shared folders"));
    }
    if new.os.smbios_mode != old.os.smbios_mode {
        return Err(unsupported("the SMBIOS mode"));
    }
    // VNC through the VMX keys ESX reads (extraConfig).
    let (ov, nv) = (vnc(old), vnc(new));
    if ov != nv {
        match nv {
            Some(g) => {
                spec.extra_config
                    .push(option("RemoteDisplay.vnc.enabled", Some("true".into())));
                spec.extra_config.push(option(
                    "RemoteDisplay.vnc.port",
                    g.port.filter(|p| *p > 0).map(|p| p.to_string()),
                ));
                spec.extra_config
                    .push(option("RemoteDisplay.vnc.password", g.passwd.clone()));
                spec.extra_config
                    .push(option("RemoteDisplay.vnc.keymap", g.keymap.clone()));
                spec.extra_config.push(option(
                    "RemoteDisplay.vnc.ip",
                    g.listens.first().and_then(|l| l.address.clone()),
                ));
            }
            None => {
                for k in ["enabled", "port", "password", "keymap", "ip"] {
                    spec.extra_config
                        .push(option(&format!("RemoteDisplay.vnc.{k}"), None));
                }
            }
        }
    }
    let mut next_key = -100;
    let mut key = || {
        next_key -= 1;
        next_key
    };
    // SCSI controllers the new definition adds.
    let mut new_controllers: Vec<(String, u32, i32)> = Vec::new();
    let existing_scsi = controllers(devices, "scsi");
    for c in new
        .devices
        .controllers
        .iter()
        .filter(|c| c.controller_type == "scsi")
    {
        if existing_scsi.iter().any(|(_, n)| *n as u32 == c.index) {
            let old_model = old
                .devices
                .controllers
                .iter()
                .find(|o| o.controller_type == "scsi" && o.index == c.index)
                .and_then(|o| o.model.clone());
            if c.model.is_some() && c.model != old_model {
                return Err(unsupported(&format!(
                    "the model of SCSI controller {}",
                    c.index
                )));
            }
            continue;
        }
        if !new
            .devices
            .disks
            .iter()
            .any(|d| d.target.bus.as_deref() == Some("scsi") && drive(d).controller == c.index)
        {
            continue;
        }
        let k = key();
        let base = |bus_number| esx_vim::VirtualLsiLogicController {
            key: k,
            bus_number,
            shared_bus: esx_vim::VirtualSCSISharing::NoSharing,
            ..Default::default()
        };
        let bus = c.index as i32;
        let dev = match c.model.as_deref() {
            Some("buslogic") => BaseVirtualDevice::from(esx_vim::VirtualBusLogicController {
                key: k,
                bus_number: bus,
                shared_bus: esx_vim::VirtualSCSISharing::NoSharing,
                ..Default::default()
            }),
            Some("lsisas1068") => BaseVirtualDevice::from(esx_vim::VirtualLsiLogicSASController {
                key: k,
                bus_number: bus,
                shared_bus: esx_vim::VirtualSCSISharing::NoSharing,
                ..Default::default()
            }),
            Some("vmpvscsi") => BaseVirtualDevice::from(esx_vim::ParaVirtualSCSIController {
                key: k,
                bus_number: bus,
                shared_bus: esx_vim::VirtualSCSISharing::NoSharing,
                ..Default::default()
            }),
            _ => BaseVirtualDevice::from(base(bus)),
        };
        spec.device_change
            .push(change(VirtualDeviceConfigSpecOperation::Add, dev));
        new_controllers.push(("scsi".into(), c.index, k));
    }
    // Disks, CD-ROMs and floppies, matched by their slot.
    let find_at = |at: (i32, i32)| {
        devices.iter().find(|d| {
            slot(d).is_some_and(|(_, c, u)| c == Some(at.0) && u == Some(at.1))
                && matches!(
                    d,
                    BaseVirtualDevice::VirtualDisk(_)
                        | BaseVirtualDevice::VirtualCdrom(_)
                        | BaseVirtualDevice::VirtualFloppy(_)
                )
        })
    };
    for od in &old.devices.disks {
        if !new
            .devices
            .disks
            .iter()
            .any(|nd| disk_slot(nd) == disk_slot(od))
        {
            let at = locate(devices, &disk_slot(od), &[])?;
            let dev = find_at(at).ok_or_else(|| {
                Error::internal(format!(
                    "no device of the VM matches disk '{}'",
                    od.target.dev
                ))
            })?;
            spec.device_change.push(change(
                VirtualDeviceConfigSpecOperation::Remove,
                dev.clone(),
            ));
        }
    }
    for nd in &new.devices.disks {
        let at = locate(devices, &disk_slot(nd), &new_controllers)?;
        match old
            .devices
            .disks
            .iter()
            .find(|od| disk_slot(od) == disk_slot(nd))
        {
            None => {
                let k = key();
                spec.device_change.push(change(
                    VirtualDeviceConfigSpecOperation::Add,
                    disk_device(nd, at, k)?,
                ));
            }
            Some(od) if od == nd => {}
            Some(od) => {
                let dev = find_at(at).ok_or_else(|| {
                    Error::internal(format!(
                        "no device of the VM matches disk '{}'",
                        od.target.dev
                    ))
                })?;
                if od.device != nd.device {
                    spec.device_change.push(change(
                        VirtualDeviceConfigSpecOperation::Remove,
                        dev.clone(),
                    ));
                    let k = key();
                    spec.device_change.push(change(
                        VirtualDeviceConfigSpecOperation::Add,
                        disk_device(nd, at, k)?,
                    ));
                } else {
                    spec.device_change.push(change(
                        VirtualDeviceConfigSpecOperation::Edit,
                        with_backing(dev, disk_backing(nd)?),
                    ));
                }
            }
        }
    }
    // Network cards, matched by position.
    let mut nics: Vec<&BaseVirtualDevice> = devices.iter().filter(|d| is_nic(d)).collect();
    nics.sort_by_key(|d| slot(d).map(|s| s.0).unwrap_or(0));
    let n = old
        .devices
        .interfaces
        .len()
        .max(new.devices.interfaces.len());
    for i in 0..n {
        match (old.devices.interfaces.get(i), new.devices.interfaces.get(i)) {
            (Some(o), Some(nw)) if o == nw => {}
            (Some(o), nw) => {
                let dev = nics.get(i).ok_or_else(|| {
                    Error::internal(format!(
                        "no network card of the VM matches interface {} ({:?})",
                        i, o.source.bridge
                    ))
                })?;
                spec.device_change.push(change(
                    VirtualDeviceConfigSpecOperation::Remove,
                    (*dev).clone(),
                ));
                if let Some(nw) = nw {
                    let k = key();
                    spec.device_change.push(change(
                        VirtualDeviceConfigSpecOperation::Add,
                        nic_device(nw, k)?,
                    ));
                }
            }
            (None, Some(nw)) => {
                let k = key();
                spec.device_change.push(change(
                    VirtualDeviceConfigSpecOperation::Add,
                    nic_device(nw, k)?,
                ));
            }
            (None, None) => {}
        }
    }
    // Serial and parallel ports, matched by port number.
    for (serial, olds, news) in [
        (true, &old.devices.serials, &new.devices.serials),
        (false, &old.devices.parallels, &new.devices.parallels),
    ] {
        let mut ports: Vec<&BaseVirtualDevice> = devices
            .iter()
            .filter(|d| {
                if serial {
                    matches!(d, BaseVirtualDevice::VirtualSerialPort(_))
                } else {
                    matches!(d, BaseVirtualDevice::VirtualParallelPort(_))
                }
            })
            .collect();
        ports.sort_by_key(|d| slot(d).map(|s| s.0).unwrap_or(0));
        let port = |c: &CharDevice| c.target.port.unwrap_or(0) as usize;
        for o in olds.iter() {
            let nw = news.iter().find(|n| port(n) == port(o));
            if nw == Some(o) {
                continue;
            }
            let dev = olds
                .iter()
                .position(|x| x == o)
                .and_then(|i| ports.get(i))
                .ok_or_else(|| {
                    Error::internal("no port of the VM matches a serial/parallel port")
                })?;
            match nw {
                Some(nw) => spec.device_change.push(change(
                    VirtualDeviceConfigSpecOperation::Edit,
                    with_backing(dev, char_backing(nw, serial)?),
                )),
                None => spec.device_change.push(change(
                    VirtualDeviceConfigSpecOperation::Remove,
                    (*dev).clone(),
                )),
            }
        }
        for nw in news
            .iter()
            .filter(|n| !olds.iter().any(|o| port(o) == port(n)))
        {
            let k = key();
            let backing = char_backing(nw, serial)?;
            let dev = if serial {
                BaseVirtualDevice::from(VirtualSerialPort {
                    key: k,
                    backing,
                    connectable: connect_info(),
                    yield_on_poll: true,
                    ..Default::default()
                })
            } else {
                BaseVirtualDevice::from(VirtualParallelPort {
                    key: k,
                    backing,
                    connectable: connect_info(),
                    ..Default::default()
                })
            };
            spec.device_change
                .push(change(VirtualDeviceConfigSpecOperation::Add, dev));
        }
    }
    // Video memory.
    let vram = |d: &DomainDef| d.devices.videos.first().and_then(|v| v.vram);
    // A definition without <video> keeps the card as it is (every VMX has one).
    if !new.devices.videos.is_empty() && vram(new) != vram(old) {
        let card = devices.iter().find_map(|d| match d {
            BaseVirtualDevice::VirtualMachineVideoCard(c) => Some(c),
            _ => None,
        });
        match (card, vram(new)) {
            (Some(c), Some(kib)) => {
                let mut c = (**c).clone();
                c.video_ram_size_in_kb = Some((kib.div_ceil(64) * 64) as i64);
                spec.device_change.push(change(
                    VirtualDeviceConfigSpecOperation::Edit,
                    BaseVirtualDevice::from(c),
                ));
            }
            _ => return Err(unsupported("the video card")),
        }
    }
    Ok(spec)
}

/// Whether a spec changes nothing.
fn is_empty(spec: &VirtualMachineConfigSpec) -> bool {
    spec == &VirtualMachineConfigSpec::default()
}

impl Connection {
    /// Turns the existing domain `dom` into `new` with one reconfiguration.
    pub(crate) async fn edit(&self, dom: &Domain, mut new: DomainDef) -> Result<Domain> {
        let (old, vm) = self.domain_def(dom).await?;
        new.apply_device_defaults();
        let props = crate::vi::get(
            &self.primary().client,
            &vm.moref,
            &["config.hardware.device"],
        )
        .await?;
        let devices = match props.get("config.hardware.device") {
            Some(Any::ArrayOfVirtualDevice(a)) => a.virtual_device.clone(),
            _ => Vec::new(),
        };
        // Compare like with like: the old definition as the converter reads it back.
        let mut old_cmp = old.clone();
        old_cmp.id = None;
        old_cmp.vmware = Default::default();
        let spec = config_spec(&old_cmp, &new, &devices)?;
        if !is_empty(&spec) {
            self.reconfigure(dom, spec, "edit domain").await?;
        }
        self.lookup_by_uuid(&dom.uuid).await
    }
}
