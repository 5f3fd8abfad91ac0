//! A VM's virtual devices (`config.hardware.device`), derived from its `.vmx` the way an ESX 7
//! host reports them.
//!
//! Keys follow the slot a device sits in, as a real host assigns them: PCI controller 100, IDE
//! controllers 200/201, PS/2 controller 300, SIO controller 400, video card 500, keyboard 600,
//! pointing device 700, SCSI controllers 1000+bus, devices on SCSI 2000 + 16×bus + unit, devices
//! on IDE 3000 + 2×bus + unit, NICs 4000+N, floppies 8000+N, serial ports 9000+N, parallel
//! ports 10000+N, VMCI 12000, SATA (AHCI) controllers 15000+bus and devices on SATA
//! 16000 + 30×bus + unit. So a SCSI disk is 2000+ and an IDE CD-ROM 3000+, but a CD-ROM on
//! SCSI takes a 2000+ key, as on a real host.
//!
//! The list is built only when `config` (or `config.hardware`) is read; listing VMs uses
//! [`Counts`] and [`network_names`], which scan the `.vmx` keys once.

use std::path::{Path, PathBuf};

use esx_vim::{
    BaseDescription, BaseVirtualDevice, BaseVirtualDeviceBackingInfo, BaseVirtualDeviceBusSlotInfo,
    Description, DistributedVirtualSwitchPortConnection, ParaVirtualSCSIController,
    VirtualAHCIController, VirtualBusLogicController, VirtualCdrom, VirtualCdromAtapiBackingInfo,
    VirtualCdromIsoBackingInfo, VirtualCdromPassthroughBackingInfo,
    VirtualCdromRemoteAtapiBackingInfo, VirtualCdromRemotePassthroughBackingInfo,
    VirtualDeviceConnectInfo, VirtualDevicePciBusSlotInfo, VirtualDisk,
    VirtualDiskFlatVer2BackingInfo, VirtualE1000, VirtualE1000e,
    VirtualEthernetCardDistributedVirtualPortBackingInfo, VirtualEthernetCardNetworkBackingInfo,
    VirtualFloppy, VirtualFloppyDeviceBackingInfo, VirtualFloppyImageBackingInfo,
    VirtualFloppyRemoteDeviceBackingInfo, VirtualIDEController, VirtualKeyboard,
    VirtualLsiLogicController, VirtualLsiLogicSASController, VirtualMachineVMCIDevice,
    VirtualMachineVideoCard, VirtualPCIController, VirtualPCNet32, VirtualPS2Controller,
    VirtualParallelPort, VirtualParallelPortDeviceBackingInfo, VirtualParallelPortFileBackingInfo,
    VirtualPointingDevice, VirtualPointingDeviceDeviceBackingInfo, VirtualSCSISharing,
    VirtualSIOController, VirtualSerialPort, VirtualSerialPortDeviceBackingInfo,
    VirtualSerialPortFileBackingInfo, VirtualSerialPortPipeBackingInfo,
    VirtualSerialPortURIBackingInfo, VirtualVmxnet, VirtualVmxnet2, VirtualVmxnet3,
};
use esx_vmx::VmxFile;

use crate::state::MoRef;

/// The PCI controller's key.
pub const PCI: i32 = 100;
/// The first IDE controller's key (the second is 201).
pub const IDE: i32 = 200;
/// The PS/2 controller's key.
pub const PS2: i32 = 300;
/// The SIO controller's key (floppies, serial and parallel ports hang off it).
pub const SIO: i32 = 400;
/// The video card's key.
pub const VIDEO: i32 = 500;
/// The VMCI device's key.
pub const VMCI: i32 = 12000;

/// The bus kinds that hold disks and CD-ROMs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bus {
    /// `scsiB:U` (units 0..15 but 7, the controller's own).
    Scsi,
    /// `ideB:U` (two buses of two units).
    Ide,
    /// `sataB:U` (units 0..29).
    Sata,
}

impl Bus {
    /// The `.vmx` prefix word.
    pub fn word(self) -> &'static str {
        match self {
            Bus::Scsi => "scsi",
            Bus::Ide => "ide",
            Bus::Sata => "sata",
        }
    }

    /// How many buses (controllers) of this kind a VM can have.
    pub fn buses(self) -> i32 {
        match self {
            Bus::Ide => 2,
            _ => 4,
        }
    }

    /// Units per bus.
    pub fn units(self) -> i32 {
        match self {
            Bus::Scsi => 16,
            Bus::Ide => 2,
            Bus::Sata => 30,
        }
    }

    /// Whether `unit` can hold a device (SCSI unit 7 is the controller itself).
    pub fn unit_ok(self, unit: i32) -> bool {
        (0..self.units()).contains(&unit) && !(self == Bus::Scsi && unit == 7)
    }

    /// The controller key of bus `bus`.
    pub fn controller_key(self, bus: i32) -> i32 {
        match self {
            Bus::Scsi => 1000 + bus,
            Bus::Ide => IDE + bus,
            Bus::Sata => 15000 + bus,
        }
    }

    /// The key of the device at `bus:unit`.
    pub fn child_key(self, bus: i32, unit: i32) -> i32 {
        match self {
            Bus::Scsi => 2000 + 16 * bus + unit,
            Bus::Ide => 3000 + 2 * bus + unit,
            Bus::Sata => 16000 + 30 * bus + unit,
        }
    }

    /// The bus kind and bus number of a controller key.
    pub fn of_controller(key: i32) -> Option<(Bus, i32)> {
        [Bus::Scsi, Bus::Ide, Bus::Sata].into_iter().find_map(|b| {
            let bus = key - b.controller_key(0);
            (0..b.buses()).contains(&bus).then_some((b, bus))
        })
    }
}

/// The NIC models, by `ethernetN.virtualDev` (and `features`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NicModel {
    /// `vlance`: VirtualPCNet32.
    Vlance,
    /// `vmxnet`: VirtualVmxnet.
    Vmxnet,
    /// `vmxnet` with `features = "15"`: VirtualVmxnet2.
    Vmxnet2,
    /// `vmxnet3`.
    Vmxnet3,
    /// `e1000`.
    E1000,
    /// `e1000e`.
    E1000e,
}

impl NicModel {
    /// The model of `ethernetN` (`vlance` when `virtualDev` is absent, as VMware does).
    pub fn of(vmx: &VmxFile, p: &str) -> NicModel {
        let dev = vmx
            .get(&format!("{p}.virtualDev"))
            .unwrap_or("vlance")
            .to_ascii_lowercase();
        match dev.as_str() {
            "vmxnet" if vmx.get(&format!("{p}.features")).map(str::trim) == Some("15") => {
                NicModel::Vmxnet2
            }
            "vmxnet" => NicModel::Vmxnet,
            "vmxnet3" => NicModel::Vmxnet3,
            "e1000" => NicModel::E1000,
            "e1000e" => NicModel::E1000e,
            _ => NicModel::Vlance,
        }
    }

    /// The `virtualDev` value (and whether `features = "15"` goes with it).
    pub fn vmx_value(self) -> (&'static str, bool) {
        match self {
            NicModel::Vlance => ("vlance", false),
            NicModel::Vmxnet => ("vmxnet", false),
            NicModel::Vmxnet2 => ("vmxnet", true),
            NicModel::Vmxnet3 => ("vmxnet3", false),
            NicModel::E1000 => ("e1000", false),
            NicModel::E1000e => ("e1000e", false),
        }
    }
}

/// The SCSI controller models, by `scsiN.virtualDev`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScsiModel {
    /// `lsilogic`.
    LsiLogic,
    /// `buslogic` (also the VMX default when `virtualDev` is absent).
    BusLogic,
    /// `lsisas1068`.
    LsiLogicSas,
    /// `pvscsi`.
    Pvscsi,
}

impl ScsiModel {
    /// The model of `scsiN`.
    pub fn of(vmx: &VmxFile, bus: i32) -> ScsiModel {
        match vmx
            .get(&format!("scsi{bus}.virtualDev"))
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("lsilogic") => ScsiModel::LsiLogic,
            Some("lsisas1068") => ScsiModel::LsiLogicSas,
            Some("pvscsi") => ScsiModel::Pvscsi,
            _ => ScsiModel::BusLogic,
        }
    }

    /// The `virtualDev` value.
    pub fn vmx_value(self) -> &'static str {
        match self {
            ScsiModel::LsiLogic => "lsilogic",
            ScsiModel::BusLogic => "buslogic",
            ScsiModel::LsiLogicSas => "lsisas1068",
            ScsiModel::Pvscsi => "pvscsi",
        }
    }

    fn summary(self) -> &'static str {
        match self {
            ScsiModel::LsiLogic => "LSI Logic",
            ScsiModel::BusLogic => "BusLogic",
            ScsiModel::LsiLogicSas => "LSI Logic SAS",
            ScsiModel::Pvscsi => "VMware paravirtual SCSI",
        }
    }
}

/// What a storage slot (`scsiB:U`, `ideB:U`, `sataB:U`) holds, classified as the VMX converter
/// (and libvirt) does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Media {
    /// A `.vmdk`.
    Disk,
    /// A CD-ROM drive (image, host device, pass-through or client device).
    Cdrom,
}

fn eq_ci(v: Option<&str>, want: &str) -> bool {
    v.is_some_and(|v| v.eq_ignore_ascii_case(want))
}

fn ends_ci(v: &str, suffix: &str) -> bool {
    v.len() >= suffix.len()
        && v.is_char_boundary(v.len() - suffix.len())
        && v[v.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
}

/// Whether a file name is a `.vmdk` (any case).
pub fn is_vmdk(name: &str) -> bool {
    ends_ci(name, ".vmdk")
}

/// Whether `key` is `true` (any case).
pub fn truthy(vmx: &VmxFile, key: &str) -> bool {
    eq_ci(vmx.get(key), "true")
}

/// What the present slot `prefix` holds; `None` for an empty or unknown one.
pub fn media(vmx: &VmxFile, prefix: &str) -> Option<Media> {
    let dt = vmx.get(&format!("{prefix}.deviceType"));
    let name = vmx.get(&format!("{prefix}.fileName")).unwrap_or("");
    let cd_type = ["cdrom-image", "atapi-cdrom", "cdrom-raw"]
        .iter()
        .any(|t| eq_ci(dt, t));
    if cd_type
        || ends_ci(name, ".iso")
        || name == "emptyBackingString"
        || (eq_ci(dt, "scsi-passthru") && name.starts_with("/vmfs/devices/cdrom/"))
        || (truthy(vmx, &format!("{prefix}.clientDevice")) && !ends_ci(name, ".vmdk"))
    {
        Some(Media::Cdrom)
    } else if ends_ci(name, ".vmdk") {
        Some(Media::Disk)
    } else {
        None
    }
}

/// The `.present = "TRUE"` prefixes of a `.vmx`, lowercased, in file order (one pass).
pub fn present_prefixes(vmx: &VmxFile) -> Vec<String> {
    let mut v: Vec<String> = vmx
        .keys()
        .filter(|k| ends_ci(k, ".present"))
        .filter(|k| truthy(vmx, k))
        .map(|k| k[..k.len() - ".present".len()].to_ascii_lowercase())
        .collect();
    v.dedup();
    v
}

/// Parses `scsi0:1` as (bus kind, bus, unit).
pub fn parse_slot(prefix: &str) -> Option<(Bus, i32, i32)> {
    let (head, unit) = prefix.split_once(':')?;
    let (bus_kind, n) = [Bus::Scsi, Bus::Ide, Bus::Sata]
        .into_iter()
        .find_map(|b| Some((b, head.strip_prefix(b.word())?)))?;
    let bus: i32 = n.parse().ok()?;
    let unit: i32 = unit.parse().ok()?;
    ((0..bus_kind.buses()).contains(&bus) && bus_kind.unit_ok(unit))
        .then_some((bus_kind, bus, unit))
}

fn indexed(prefix: &str, word: &str, max: i32) -> Option<i32> {
    let n: i32 = prefix.strip_prefix(word)?.parse().ok()?;
    (0..max).contains(&n).then_some(n)
}

/// Maximum NICs (`ethernet0..9`).
pub const MAX_NICS: i32 = 10;
/// Maximum floppies, serial and parallel ports.
pub const MAX_FLOPPIES: i32 = 2;
/// Maximum serial ports.
pub const MAX_SERIALS: i32 = 4;
/// Maximum parallel ports.
pub const MAX_PARALLELS: i32 = 3;

/// The numbers `summary.config` reports without building the device list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Virtual disks.
    pub disks: i32,
    /// Ethernet cards.
    pub nics: i32,
}

impl Counts {
    /// Counts the disks and NICs the device list would hold.
    pub fn of(vmx: &VmxFile) -> Counts {
        let mut c = Counts::default();
        let present = present_prefixes(vmx);
        for p in &present {
            if let Some((bus, n, _)) = parse_slot(p) {
                if controller_present(&present, bus, n) && media(vmx, p) == Some(Media::Disk) {
                    c.disks += 1;
                }
            } else if indexed(p, "ethernet", MAX_NICS).is_some() {
                c.nics += 1;
            }
        }
        c
    }
}

fn controller_present(present: &[String], bus: Bus, n: i32) -> bool {
    bus == Bus::Ide || present.iter().any(|p| p == &format!("{}{n}", bus.word()))
}

/// The network names a VM's NICs use (standard port groups; for a DVS port, its port group
/// key when the `.vmx` names one).
pub fn network_names(vmx: &VmxFile) -> Vec<String> {
    let mut v: Vec<String> = Vec::new();
    for p in present_prefixes(vmx) {
        if indexed(&p, "ethernet", MAX_NICS).is_none() {
            continue;
        }
        let name = if vmx.contains_key(&format!("{p}.dvs.switchId")) {
            match vmx.get(&format!("{p}.dvs.portgroupId")) {
                Some(key) => key,
                None => continue,
            }
        } else {
            vmx.get(&format!("{p}.networkName")).unwrap_or("VM Network")
        };
        if !v.iter().any(|n| n == name) {
            v.push(name.to_owned());
        }
    }
    v
}

/// What building the device list needs besides the `.vmx`.
pub struct Env<'a> {
    /// The VM's datastore name.
    pub ds_name: &'a str,
    /// The VM's datastore.
    pub ds: &'a MoRef,
    /// The `.vmx`'s directory relative to the datastore root (`""` at the root).
    pub vm_dir: &'a str,
    /// Whether the VM is powered on (devices report `connected`).
    pub powered_on: bool,
    /// Network name -> `Network`.
    pub network: &'a dyn Fn(&str) -> Option<MoRef>,
    /// Datastore name -> (`Datastore`, its directory).
    pub datastore: &'a dyn Fn(&str) -> Option<(MoRef, PathBuf)>,
    /// The VM's datastore directory (`None` when unknown).
    pub ds_dir: Option<&'a Path>,
}

/// A file named in the `.vmx`, as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiFile {
    /// `[ds] dir/file` (or the name as given when it is outside every datastore).
    pub name: String,
    /// The datastore holding it.
    pub datastore: Option<MoRef>,
    /// The file on disk, when it is in a datastore.
    pub path: Option<PathBuf>,
}

impl Env<'_> {
    /// Resolves a `.vmx` file name: relative to the VM's directory, `/vmfs/volumes/<ds>/…`, or
    /// `[ds] …`.
    pub fn api_file(&self, vmx_name: &str) -> ApiFile {
        let in_ds = |ds: &str, rel: &str| {
            let found = (self.datastore)(ds);
            ApiFile {
                name: format!("[{ds}] {rel}"),
                path: found
                    .as_ref()
                    .and_then(|(_, d)| crate::files::safe_join(d, rel)),
                datastore: found.map(|(r, _)| r),
            }
        };
        if let Some((ds, rel)) = crate::state::parse_ds_path(vmx_name) {
            return in_ds(ds, rel);
        }
        if let Some(rest) = vmx_name.strip_prefix("/vmfs/volumes/") {
            if let Some((ds, rel)) = rest.split_once('/') {
                return in_ds(ds, rel);
            }
        }
        if vmx_name.starts_with('/') || vmx_name.is_empty() {
            return ApiFile {
                name: vmx_name.to_owned(),
                datastore: None,
                path: None,
            };
        }
        let rel = if self.vm_dir.is_empty() {
            vmx_name.to_owned()
        } else {
            format!("{}/{vmx_name}", self.vm_dir)
        };
        ApiFile {
            name: format!("[{}] {rel}", self.ds_name),
            datastore: Some(self.ds.clone()),
            path: self.ds_dir.and_then(|d| crate::files::safe_join(d, &rel)),
        }
    }

    /// The `.vmx` spelling of an API file name: relative when it is in the VM's directory,
    /// `/vmfs/volumes/<ds>/…` in another place, unchanged when it is not a datastore path.
    pub fn vmx_file(&self, api_name: &str) -> String {
        let Some((ds, rel)) = crate::state::parse_ds_path(api_name) else {
            return api_name.to_owned();
        };
        let (dir, file) = rel.rsplit_once('/').unwrap_or(("", rel));
        if ds == self.ds_name && dir == self.vm_dir {
            file.to_owned()
        } else {
            format!("/vmfs/volumes/{ds}/{rel}")
        }
    }
}

fn desc(label: impl Into<String>, summary: impl Into<String>) -> Option<BaseDescription> {
    Some(BaseDescription::from(Description {
        label: label.into(),
        summary: summary.into(),
    }))
}

/// `1,048,576` for 1048576.
fn grouped(n: i64) -> String {
    let s = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        out.insert(0, '-');
    }
    out
}

/// One device with the `.vmx` prefix it was read from (`""` for the fixed devices).
#[derive(Debug, Clone)]
pub struct Slot {
    /// `scsi0:1`, `ethernet0`, `floppy0`, `scsi0`, `sata0`, `svga`, `vmci0`, or `""`.
    pub prefix: String,
    /// The device as the API reports it.
    pub device: BaseVirtualDevice,
}

fn connect_info(vmx: &VmxFile, p: &str, env: &Env<'_>) -> Option<VirtualDeviceConnectInfo> {
    let start = vmx
        .get(&format!("{p}.startConnected"))
        .is_none_or(|v| v.eq_ignore_ascii_case("true"));
    let connected = env.powered_on && start;
    Some(VirtualDeviceConnectInfo {
        start_connected: start,
        allow_guest_control: vmx
            .get(&format!("{p}.allowGuestConnectionControl"))
            .is_none_or(|v| v.eq_ignore_ascii_case("true")),
        connected,
        status: Some(if connected { "ok" } else { "untried" }.into()),
        ..Default::default()
    })
}

/// The device list of a `.vmx`, with each device's prefix, in the order a host lists them.
pub fn build(vmx: &VmxFile, env: &Env<'_>) -> Vec<Slot> {
    let present = present_prefixes(vmx);
    let mut children: Vec<(i32, Slot)> = Vec::new();
    let mut on_bus: Vec<(i32, i32)> = Vec::new(); // (controller key, child key)
    let mut counters = [0usize; 6]; // disk, cdrom, floppy, nic, serial, parallel
    let mut next = |i: usize| {
        counters[i] += 1;
        counters[i]
    };
    // Storage slots in bus order, so labels count as a host counts them.
    let mut slots: Vec<(Bus, i32, i32, &String)> = present
        .iter()
        .filter_map(|p| parse_slot(p).map(|(b, n, u)| (b, n, u, p)))
        .filter(|(b, n, _, _)| controller_present(&present, *b, *n))
        .collect();
    slots.sort_by_key(|(b, n, u, _)| b.child_key(*n, *u));
    for (bus, n, unit, p) in slots {
        let key = bus.child_key(n, unit);
        let ckey = bus.controller_key(n);
        let dev = match media(vmx, p) {
            Some(Media::Disk) => disk(vmx, p, env, key, ckey, unit, next(0)),
            Some(Media::Cdrom) => cdrom(vmx, p, env, key, ckey, unit, next(1)),
            None => continue,
        };
        on_bus.push((ckey, key));
        children.push((
            key,
            Slot {
                prefix: p.clone(),
                device: dev,
            },
        ));
    }
    let mut nics = Vec::new();
    let mut sio = Vec::new();
    for p in &present {
        if let Some(n) = indexed(p, "ethernet", MAX_NICS) {
            nics.push((n, p));
        }
    }
    nics.sort();
    for (n, p) in nics {
        let key = 4000 + n;
        on_bus.push((PCI, key));
        children.push((
            key,
            Slot {
                prefix: p.clone(),
                device: nic(vmx, p, env, key, n, next(3)),
            },
        ));
    }
    let mut sio_devs: Vec<(i32, &String)> = present
        .iter()
        .filter_map(|p| {
            indexed(p, "floppy", MAX_FLOPPIES)
                .map(|n| 8000 + n)
                .or_else(|| indexed(p, "serial", MAX_SERIALS).map(|n| 9000 + n))
                .or_else(|| indexed(p, "parallel", MAX_PARALLELS).map(|n| 10000 + n))
                .map(|k| (k, p))
        })
        .collect();
    sio_devs.sort();
    for (key, p) in sio_devs {
        let unit = key % 1000;
        let dev = match key / 1000 {
            8 => floppy(vmx, p, env, key, unit, next(2)),
            9 => serial(vmx, p, env, key, unit, next(4)),
            _ => parallel(vmx, p, env, key, unit, next(5)),
        };
        sio.push(key);
        children.push((
            key,
            Slot {
                prefix: p.clone(),
                device: dev,
            },
        ));
    }

    let kids = |ckey: i32| -> Vec<i32> {
        let mut v: Vec<i32> = on_bus
            .iter()
            .filter(|(c, _)| *c == ckey)
            .map(|(_, k)| *k)
            .collect();
        v.sort();
        v
    };
    let fixed = |device: BaseVirtualDevice| Slot {
        prefix: String::new(),
        device,
    };
    let mut out = Vec::new();
    for bus in 0..2 {
        out.push(fixed(BaseVirtualDevice::from(VirtualIDEController {
            key: IDE + bus,
            device_info: desc(format!("IDE {bus}"), format!("IDE {bus}")),
            bus_number: bus,
            device: kids(IDE + bus),
            ..Default::default()
        })));
    }
    out.push(fixed(BaseVirtualDevice::from(VirtualPS2Controller {
        key: PS2,
        device_info: desc("PS2 controller 0", "PS2 controller 0"),
        bus_number: 0,
        device: vec![600, 700],
        ..Default::default()
    })));
    // Controllers on the PCI bus.
    let mut pci_kids = vec![VIDEO];
    let vmci = present.iter().any(|p| p == "vmci0");
    if vmci {
        pci_kids.push(VMCI);
    }
    let mut controllers = Vec::new();
    for bus in 0..Bus::Scsi.buses() {
        if !present.iter().any(|p| p == &format!("scsi{bus}")) {
            continue;
        }
        let key = Bus::Scsi.controller_key(bus);
        pci_kids.push(key);
        controllers.push(Slot {
            prefix: format!("scsi{bus}"),
            device: scsi_controller(vmx, bus, kids(key)),
        });
    }
    for bus in 0..Bus::Sata.buses() {
        if !present.iter().any(|p| p == &format!("sata{bus}")) {
            continue;
        }
        let key = Bus::Sata.controller_key(bus);
        pci_kids.push(key);
        controllers.push(Slot {
            prefix: format!("sata{bus}"),
            device: BaseVirtualDevice::from(VirtualAHCIController {
                key,
                device_info: desc(format!("SATA controller {bus}"), "AHCI"),
                controller_key: Some(PCI),
                unit_number: Some(24 + bus),
                bus_number: bus,
                device: kids(key),
                ..Default::default()
            }),
        });
    }
    pci_kids.extend(kids(PCI));
    pci_kids.sort();
    out.push(fixed(BaseVirtualDevice::from(VirtualPCIController {
        key: PCI,
        device_info: desc("PCI controller 0", "PCI controller 0"),
        bus_number: 0,
        device: pci_kids,
        ..Default::default()
    })));
    out.push(fixed(BaseVirtualDevice::from(VirtualSIOController {
        key: SIO,
        device_info: desc("SIO controller 0", "SIO controller 0"),
        bus_number: 0,
        device: sio,
        ..Default::default()
    })));
    out.push(fixed(BaseVirtualDevice::from(VirtualKeyboard {
        key: 600,
        device_info: desc("Keyboard", "Keyboard"),
        controller_key: Some(PS2),
        unit_number: Some(0),
        ..Default::default()
    })));
    out.push(fixed(BaseVirtualDevice::from(VirtualPointingDevice {
        key: 700,
        device_info: desc("Pointing device", "Pointing device; Device"),
        backing: Some(BaseVirtualDeviceBackingInfo::from(
            VirtualPointingDeviceDeviceBackingInfo {
                device_name: String::new(),
                use_auto_detect: Some(false),
                host_pointing_device: "autodetect".into(),
            },
        )),
        controller_key: Some(PS2),
        unit_number: Some(1),
        ..Default::default()
    })));
    out.push(Slot {
        prefix: "svga".into(),
        device: video(vmx),
    });
    if vmci {
        out.push(Slot {
            prefix: "vmci0".into(),
            device: BaseVirtualDevice::from(VirtualMachineVMCIDevice {
                key: VMCI,
                device_info: desc(
                    "VMCI device",
                    "Device on the virtual machine PCI bus that provides support for the \
                     virtual machine communication interface",
                ),
                controller_key: Some(PCI),
                unit_number: Some(17),
                id: Some(
                    vmx.get("vmci0.id")
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(-1),
                ),
                allow_unrestricted_communication: Some(false),
                filter_enable: Some(true),
                ..Default::default()
            }),
        });
    }
    out.extend(controllers);
    children.sort_by_key(|(k, _)| *k);
    out.extend(children.into_iter().map(|(_, s)| s));
    out
}

/// Just the devices of [`build`].
pub fn devices(vmx: &VmxFile, env: &Env<'_>) -> Vec<BaseVirtualDevice> {
    build(vmx, env).into_iter().map(|s| s.device).collect()
}

fn video(vmx: &VmxFile) -> BaseVirtualDevice {
    let num = |k: &str| vmx.get(k).and_then(|v| v.trim().parse::<i64>().ok());
    BaseVirtualDevice::from(VirtualMachineVideoCard {
        key: VIDEO,
        device_info: desc("Video card ", "Video card"),
        controller_key: Some(PCI),
        unit_number: Some(0),
        video_ram_size_in_kb: Some(num("svga.vramSize").map_or(4096, |b| b / 1024)),
        num_displays: Some(num("svga.numDisplays").unwrap_or(1) as i32),
        use_auto_detect: Some(truthy(vmx, "svga.autodetect")),
        enable3_d_support: Some(truthy(vmx, "mks.enable3d")),
        use3d_renderer: Some("automatic".into()),
        graphics_memory_size_in_kb: Some(num("svga.graphicsMemoryKB").unwrap_or(262144)),
        ..Default::default()
    })
}

fn scsi_controller(vmx: &VmxFile, bus: i32, device: Vec<i32>) -> BaseVirtualDevice {
    let model = ScsiModel::of(vmx, bus);
    let key = Bus::Scsi.controller_key(bus);
    let shared_bus = match vmx
        .get(&format!("scsi{bus}.sharedBus"))
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("virtual") => VirtualSCSISharing::VirtualSharing,
        Some("physical") => VirtualSCSISharing::PhysicalSharing,
        _ => VirtualSCSISharing::NoSharing,
    };
    let info = desc(format!("SCSI controller {bus}"), model.summary());
    macro_rules! ctl {
        ($ty:ident) => {
            BaseVirtualDevice::from($ty {
                key,
                device_info: info,
                controller_key: Some(PCI),
                unit_number: Some(3 + bus),
                bus_number: bus,
                device,
                hot_add_remove: Some(true),
                shared_bus,
                scsi_ctlr_unit_number: Some(7),
                ..Default::default()
            })
        };
    }
    match model {
        ScsiModel::LsiLogic => ctl!(VirtualLsiLogicController),
        ScsiModel::BusLogic => ctl!(VirtualBusLogicController),
        ScsiModel::LsiLogicSas => ctl!(VirtualLsiLogicSASController),
        ScsiModel::Pvscsi => ctl!(ParaVirtualSCSIController),
    }
}

/// The API `diskMode` of a `.vmx` `mode` (`independent-persistent` -> `independent_persistent`).
pub fn disk_mode(vmx_mode: Option<&str>) -> String {
    vmx_mode
        .map(|m| m.trim().to_ascii_lowercase().replace('-', "_"))
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| "persistent".into())
}

fn disk(
    vmx: &VmxFile,
    p: &str,
    env: &Env<'_>,
    key: i32,
    ckey: i32,
    unit: i32,
    n: usize,
) -> BaseVirtualDevice {
    let file = env.api_file(vmx.get(&format!("{p}.fileName")).unwrap_or(""));
    let on_disk = file.path.as_deref();
    let capacity_kb = on_disk
        .and_then(crate::files::vmdk_capacity_kb)
        .or_else(|| {
            vmx.get(&format!("{p}.sim.capacityKB"))
                .and_then(|v| v.trim().parse().ok())
        })
        .unwrap_or(0);
    let uuid = on_disk
        .and_then(crate::files::vmdk_uuid)
        .map(|u| crate::mo::virtual_machine::api_uuid(&u))
        .filter(|u| u.len() == 36);
    BaseVirtualDevice::from(VirtualDisk {
        key,
        device_info: desc(
            format!("Hard disk {n}"),
            format!("{} KB", grouped(capacity_kb)),
        ),
        backing: Some(BaseVirtualDeviceBackingInfo::from(
            VirtualDiskFlatVer2BackingInfo {
                file_name: file.name,
                datastore: file.datastore,
                disk_mode: disk_mode(vmx.get(&format!("{p}.mode"))),
                write_through: Some(truthy(vmx, &format!("{p}.writeThrough"))),
                thin_provisioned: Some(
                    on_disk
                        .and_then(|p| crate::vmdk::Descriptor::read(p).ok())
                        .is_some_and(|d| d.thin()),
                ),
                uuid,
                split: Some(false),
                digest_enabled: Some(false),
                sharing: Some("sharingNone".into()),
                ..Default::default()
            },
        )),
        controller_key: Some(ckey),
        unit_number: Some(unit),
        capacity_in_kb: capacity_kb,
        capacity_in_bytes: Some(capacity_kb * 1024),
        ..Default::default()
    })
}

fn cdrom(
    vmx: &VmxFile,
    p: &str,
    env: &Env<'_>,
    key: i32,
    ckey: i32,
    unit: i32,
    n: usize,
) -> BaseVirtualDevice {
    let dt = vmx.get(&format!("{p}.deviceType"));
    let name = vmx.get(&format!("{p}.fileName")).unwrap_or("");
    let auto = name.eq_ignore_ascii_case("auto detect");
    let (backing, summary) = if truthy(vmx, &format!("{p}.clientDevice")) {
        if eq_ci(dt, "atapi-cdrom") {
            (
                BaseVirtualDeviceBackingInfo::from(VirtualCdromRemoteAtapiBackingInfo {
                    device_name: String::new(),
                    use_auto_detect: Some(false),
                }),
                "Remote ATAPI".to_owned(),
            )
        } else {
            (
                BaseVirtualDeviceBackingInfo::from(VirtualCdromRemotePassthroughBackingInfo {
                    device_name: String::new(),
                    use_auto_detect: Some(false),
                    exclusive: false,
                }),
                "Remote device".to_owned(),
            )
        }
    } else if eq_ci(dt, "atapi-cdrom") {
        (
            BaseVirtualDeviceBackingInfo::from(VirtualCdromAtapiBackingInfo {
                device_name: name.to_owned(),
                use_auto_detect: Some(auto),
            }),
            format!("ATAPI {name}"),
        )
    } else if eq_ci(dt, "cdrom-raw") || eq_ci(dt, "scsi-passthru") {
        (
            BaseVirtualDeviceBackingInfo::from(VirtualCdromPassthroughBackingInfo {
                device_name: name.to_owned(),
                use_auto_detect: Some(auto),
                exclusive: false,
            }),
            format!("Passthrough {name}"),
        )
    } else {
        // An ISO image; an empty drive (`emptyBackingString` or no name) has an empty one.
        let file = if name.is_empty() || name == "emptyBackingString" {
            ApiFile {
                name: String::new(),
                datastore: None,
                path: None,
            }
        } else {
            env.api_file(name)
        };
        let summary = format!("ISO {}", file.name);
        (
            BaseVirtualDeviceBackingInfo::from(VirtualCdromIsoBackingInfo {
                file_name: file.name,
                datastore: file.datastore,
                ..Default::default()
            }),
            summary,
        )
    };
    BaseVirtualDevice::from(VirtualCdrom {
        key,
        device_info: desc(format!("CD/DVD drive {n}"), summary),
        backing: Some(backing),
        connectable: connect_info(vmx, p, env),
        controller_key: Some(ckey),
        unit_number: Some(unit),
        ..Default::default()
    })
}

fn floppy(
    vmx: &VmxFile,
    p: &str,
    env: &Env<'_>,
    key: i32,
    unit: i32,
    n: usize,
) -> BaseVirtualDevice {
    let name = vmx.get(&format!("{p}.fileName")).unwrap_or("");
    let (backing, summary) = if truthy(vmx, &format!("{p}.clientDevice")) {
        (
            BaseVirtualDeviceBackingInfo::from(VirtualFloppyRemoteDeviceBackingInfo {
                device_name: String::new(),
                use_auto_detect: Some(false),
            }),
            "Remote".to_owned(),
        )
    } else if eq_ci(vmx.get(&format!("{p}.fileType")), "file") {
        let file = env.api_file(name);
        let summary = format!("Image {}", file.name);
        (
            BaseVirtualDeviceBackingInfo::from(VirtualFloppyImageBackingInfo {
                file_name: file.name,
                datastore: file.datastore,
                ..Default::default()
            }),
            summary,
        )
    } else {
        (
            BaseVirtualDeviceBackingInfo::from(VirtualFloppyDeviceBackingInfo {
                device_name: name.to_owned(),
                use_auto_detect: Some(name.eq_ignore_ascii_case("auto detect")),
            }),
            format!("Device {name}"),
        )
    };
    BaseVirtualDevice::from(VirtualFloppy {
        key,
        device_info: desc(format!("Floppy drive {n}"), summary),
        backing: Some(backing),
        connectable: connect_info(vmx, p, env),
        controller_key: Some(SIO),
        unit_number: Some(unit),
        ..Default::default()
    })
}

fn nic(vmx: &VmxFile, p: &str, env: &Env<'_>, key: i32, n: i32, nth: usize) -> BaseVirtualDevice {
    let get = |k: &str| vmx.get(&format!("{p}.{k}"));
    let (backing, summary) = match get("dvs.switchId") {
        Some(switch) => (
            BaseVirtualDeviceBackingInfo::from(
                VirtualEthernetCardDistributedVirtualPortBackingInfo {
                    port: DistributedVirtualSwitchPortConnection {
                        switch_uuid: switch.to_owned(),
                        portgroup_key: get("dvs.portgroupId").map(str::to_owned),
                        port_key: get("dvs.portId").map(str::to_owned),
                        connection_cookie: get("dvs.connectionId")
                            .and_then(|v| v.trim().parse().ok()),
                    },
                },
            ),
            format!("DVSwitch: {switch}"),
        ),
        None => {
            let net = get("networkName").unwrap_or("VM Network");
            (
                BaseVirtualDeviceBackingInfo::from(VirtualEthernetCardNetworkBackingInfo {
                    device_name: net.to_owned(),
                    use_auto_detect: Some(false),
                    network: (env.network)(net),
                    ..Default::default()
                }),
                net.to_owned(),
            )
        }
    };
    let kind = get("addressType").map(str::to_ascii_lowercase);
    let (address_type, mac) = match kind.as_deref() {
        Some("static") => ("manual", get("address")),
        Some("vpx") => ("assigned", get("generatedAddress")),
        _ => ("generated", get("generatedAddress")),
    };
    let slot_info = get("pciSlotNumber")
        .and_then(|v| v.trim().parse().ok())
        .filter(|s: &i32| *s >= 0)
        .map(|s| {
            BaseVirtualDeviceBusSlotInfo::from(VirtualDevicePciBusSlotInfo { pci_slot_number: s })
        });
    let model = NicModel::of(vmx, p);
    macro_rules! card {
        ($ty:ident) => {
            BaseVirtualDevice::from($ty {
                key,
                device_info: desc(format!("Network adapter {nth}"), summary),
                backing: Some(backing),
                connectable: connect_info(vmx, p, env),
                slot_info,
                controller_key: Some(PCI),
                unit_number: Some(7 + n),
                address_type: Some(address_type.into()),
                mac_address: mac.map(str::to_ascii_lowercase),
                wake_on_lan_enabled: Some(!eq_ci(get("wakeOnPcktRcv"), "false")),
                upt_compatibility_enabled: (model == NicModel::Vmxnet3).then_some(true),
                ..Default::default()
            })
        };
    }
    match model {
        NicModel::Vlance => card!(VirtualPCNet32),
        NicModel::Vmxnet => card!(VirtualVmxnet),
        NicModel::Vmxnet2 => card!(VirtualVmxnet2),
        NicModel::Vmxnet3 => card!(VirtualVmxnet3),
        NicModel::E1000 => card!(VirtualE1000),
        NicModel::E1000e => card!(VirtualE1000e),
    }
}

fn serial(
    vmx: &VmxFile,
    p: &str,
    env: &Env<'_>,
    key: i32,
    unit: i32,
    n: usize,
) -> BaseVirtualDevice {
    let get = |k: &str| vmx.get(&format!("{p}.{k}"));
    let name = get("fileName").unwrap_or("");
    let kind = get("fileType").map(str::to_ascii_lowercase);
    let (backing, summary) = match kind.as_deref() {
        Some("file") => {
            let file = env.api_file(name);
            let summary = format!("File {}", file.name);
            (
                BaseVirtualDeviceBackingInfo::from(VirtualSerialPortFileBackingInfo {
                    file_name: file.name,
                    datastore: file.datastore,
                    ..Default::default()
                }),
                summary,
            )
        }
        Some("pipe") => (
            BaseVirtualDeviceBackingInfo::from(VirtualSerialPortPipeBackingInfo {
                pipe_name: name.to_owned(),
                endpoint: if eq_ci(get("pipe.endPoint"), "server") {
                    "server"
                } else {
                    "client"
                }
                .into(),
                no_rx_loss: Some(truthy(vmx, &format!("{p}.tryNoRxLoss"))),
            }),
            format!("Pipe {name}"),
        ),
        Some("network") => (
            BaseVirtualDeviceBackingInfo::from(VirtualSerialPortURIBackingInfo {
                service_uri: name.to_owned(),
                direction: if eq_ci(get("network.endPoint"), "client") {
                    "client"
                } else {
                    "server"
                }
                .into(),
                proxy_uri: get("vspc").map(str::to_owned),
            }),
            format!("Remote {name}"),
        ),
        _ => (
            BaseVirtualDeviceBackingInfo::from(VirtualSerialPortDeviceBackingInfo {
                device_name: name.to_owned(),
                use_auto_detect: Some(name.eq_ignore_ascii_case("auto detect")),
            }),
            format!("Device {name}"),
        ),
    };
    BaseVirtualDevice::from(VirtualSerialPort {
        key,
        device_info: desc(format!("Serial port {n}"), summary),
        backing: Some(backing),
        connectable: connect_info(vmx, p, env),
        controller_key: Some(SIO),
        unit_number: Some(unit),
        yield_on_poll: truthy(vmx, &format!("{p}.yieldOnMsrRead")),
        ..Default::default()
    })
}

fn parallel(
    vmx: &VmxFile,
    p: &str,
    env: &Env<'_>,
    key: i32,
    unit: i32,
    n: usize,
) -> BaseVirtualDevice {
    let name = vmx.get(&format!("{p}.fileName")).unwrap_or("");
    let (backing, summary) = if eq_ci(vmx.get(&format!("{p}.fileType")), "file") {
        let file = env.api_file(name);
        let summary = format!("File {}", file.name);
        (
            BaseVirtualDeviceBackingInfo::from(VirtualParallelPortFileBackingInfo {
                file_name: file.name,
                datastore: file.datastore,
                ..Default::default()
            }),
            summary,
        )
    } else {
        (
            BaseVirtualDeviceBackingInfo::from(VirtualParallelPortDeviceBackingInfo {
                device_name: name.to_owned(),
                use_auto_detect: Some(false),
            }),
            format!("Device {name}"),
        )
    };
    BaseVirtualDevice::from(VirtualParallelPort {
        key,
        device_info: desc(format!("Parallel port {n}"), summary),
        backing: Some(backing),
        connectable: connect_info(vmx, p, env),
        controller_key: Some(SIO),
        unit_number: Some(unit),
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_build(text: &str, powered_on: bool) -> Vec<Slot> {
        let vmx = VmxFile::parse_str(text).unwrap();
        let ds = MoRef::new("Datastore", "ds1");
        let other = MoRef::new("Datastore", "ds2");
        let network = |n: &str| (n == "VM Network").then(|| MoRef::new("Network", "net1"));
        let datastore = |n: &str| (n == "other").then(|| (other.clone(), PathBuf::from("/nx")));
        let env = Env {
            ds_name: "datastore1",
            ds: &ds,
            vm_dir: "vm1",
            powered_on,
            network: &network,
            datastore: &datastore,
            ds_dir: None,
        };
        build(&vmx, &env)
    }

    fn by_key(slots: &[Slot], key: i32) -> &BaseVirtualDevice {
        &slots
            .iter()
            .find(|s| device_key(&s.device) == key)
            .unwrap_or_else(|| panic!("no device {key} in {slots:#?}"))
            .device
    }

    fn device_key(d: &BaseVirtualDevice) -> i32 {
        match d {
            BaseVirtualDevice::VirtualDisk(x) => x.key,
            BaseVirtualDevice::VirtualCdrom(x) => x.key,
            BaseVirtualDevice::VirtualFloppy(x) => x.key,
            BaseVirtualDevice::VirtualSerialPort(x) => x.key,
            BaseVirtualDevice::VirtualParallelPort(x) => x.key,
            BaseVirtualDevice::VirtualPCNet32(x) => x.key,
            BaseVirtualDevice::VirtualVmxnet(x) => x.key,
            BaseVirtualDevice::VirtualVmxnet2(x) => x.key,
            BaseVirtualDevice::VirtualVmxnet3(x) => x.key,
            BaseVirtualDevice::VirtualE1000(x) => x.key,
            BaseVirtualDevice::VirtualE1000e(x) => x.key,
            BaseVirtualDevice::VirtualLsiLogicController(x) => x.key,
            BaseVirtualDevice::VirtualBusLogicController(x) => x.key,
            BaseVirtualDevice::VirtualLsiLogicSASController(x) => x.key,
            BaseVirtualDevice::ParaVirtualSCSIController(x) => x.key,
            BaseVirtualDevice::VirtualAHCIController(x) => x.key,
            BaseVirtualDevice::VirtualIDEController(x) => x.key,
            BaseVirtualDevice::VirtualPCIController(x) => x.key,
            BaseVirtualDevice::VirtualPS2Controller(x) => x.key,
            BaseVirtualDevice::VirtualSIOController(x) => x.key,
            BaseVirtualDevice::VirtualMachineVideoCard(x) => x.key,
            BaseVirtualDevice::VirtualMachineVMCIDevice(x) => x.key,
            BaseVirtualDevice::VirtualKeyboard(x) => x.key,
            BaseVirtualDevice::VirtualPointingDevice(x) => x.key,
            _ => -1,
        }
    }

    #[test]
    fn fixed_devices_video_and_vmci() {
        let s = env_build(
            "svga.vramSize = \"8388608\"\nvmci0.present = \"TRUE\"\nvmci0.id = \"12345\"\n",
            false,
        );
        let keys: Vec<i32> = s.iter().map(|s| device_key(&s.device)).collect();
        assert_eq!(keys, [200, 201, 300, 100, 400, 600, 700, 500, 12000]);
        match by_key(&s, 500) {
            BaseVirtualDevice::VirtualMachineVideoCard(v) => {
                assert_eq!(v.video_ram_size_in_kb, Some(8192));
                assert_eq!(v.controller_key, Some(100));
            }
            d => panic!("{d:?}"),
        }
        match by_key(&s, 12000) {
            BaseVirtualDevice::VirtualMachineVMCIDevice(v) => assert_eq!(v.id, Some(12345)),
            d => panic!("{d:?}"),
        }
        match by_key(&s, 100) {
            BaseVirtualDevice::VirtualPCIController(c) => assert_eq!(c.device, [500, 12000]),
            d => panic!("{d:?}"),
        }
        match by_key(&s, 300) {
            BaseVirtualDevice::VirtualPS2Controller(c) => assert_eq!(c.device, [600, 700]),
            d => panic!("{d:?}"),
        }
        // No VMCI without vmci0.present; default video RAM 4 MB.
        let s = env_build("", false);
        assert!(s.iter().all(|s| device_key(&s.device) != 12000));
        match by_key(&s, 500) {
            BaseVirtualDevice::VirtualMachineVideoCard(v) => {
                assert_eq!(v.video_ram_size_in_kb, Some(4096))
            }
            d => panic!("{d:?}"),
        }
    }

    #[test]
    fn scsi_controllers_and_disks() {
        let s = env_build(
            "scsi0.present = \"TRUE\"\nscsi0.virtualDev = \"lsilogic\"\n\
             scsi0:0.present = \"TRUE\"\nscsi0:0.fileName = \"vm1.vmdk\"\nscsi0:0.sim.capacityKB = \"2048\"\n\
             scsi0:1.present = \"TRUE\"\nscsi0:1.fileName = \"/vmfs/volumes/other/x/y.vmdk\"\n\
             scsi0:1.mode = \"independent-persistent\"\n\
             scsi1.present = \"TRUE\"\nscsi1.virtualDev = \"buslogic\"\n\
             scsi2.present = \"TRUE\"\nscsi2.virtualDev = \"lsisas1068\"\n\
             scsi3.present = \"TRUE\"\nscsi3.virtualDev = \"pvscsi\"\n\
             scsi3:2.present = \"TRUE\"\nscsi3:2.fileName = \"d.vmdk\"\n\
             scsi1:3.present = \"FALSE\"\nscsi1:3.fileName = \"gone.vmdk\"\n",
            false,
        );
        assert!(
            matches!(by_key(&s, 1000), BaseVirtualDevice::VirtualLsiLogicController(c) if c.device == [2000, 2001] && c.bus_number == 0 && c.scsi_ctlr_unit_number == Some(7))
        );
        assert!(
            matches!(by_key(&s, 1001), BaseVirtualDevice::VirtualBusLogicController(c) if c.device.is_empty() && c.bus_number == 1)
        );
        assert!(matches!(
            by_key(&s, 1002),
            BaseVirtualDevice::VirtualLsiLogicSASController(_)
        ));
        assert!(
            matches!(by_key(&s, 1003), BaseVirtualDevice::ParaVirtualSCSIController(c) if c.device == [2050])
        );
        match by_key(&s, 2000) {
            BaseVirtualDevice::VirtualDisk(d) => {
                assert_eq!(d.capacity_in_kb, 2048);
                assert_eq!((d.controller_key, d.unit_number), (Some(1000), Some(0)));
                match &d.backing {
                    Some(BaseVirtualDeviceBackingInfo::VirtualDiskFlatVer2BackingInfo(b)) => {
                        assert_eq!(b.file_name, "[datastore1] vm1/vm1.vmdk");
                        assert_eq!(b.disk_mode, "persistent");
                        assert_eq!(b.datastore, Some(MoRef::new("Datastore", "ds1")));
                    }
                    b => panic!("{b:?}"),
                }
            }
            d => panic!("{d:?}"),
        }
        match by_key(&s, 2001) {
            BaseVirtualDevice::VirtualDisk(d) => match &d.backing {
                Some(BaseVirtualDeviceBackingInfo::VirtualDiskFlatVer2BackingInfo(b)) => {
                    assert_eq!(b.file_name, "[other] x/y.vmdk");
                    assert_eq!(b.disk_mode, "independent_persistent");
                    assert_eq!(b.datastore, Some(MoRef::new("Datastore", "ds2")));
                }
                b => panic!("{b:?}"),
            },
            d => panic!("{d:?}"),
        }
        assert!(s.iter().all(|x| device_key(&x.device) != 2019));
        let vmx = VmxFile::parse_str("scsi0:0.present = \"TRUE\"\nscsi0:0.fileName = \"a.vmdk\"\n")
            .unwrap();
        assert_eq!(Counts::of(&vmx).disks, 0, "no disk without its controller");
    }

    #[test]
    fn ide_and_sata_disks_and_cdroms() {
        let s = env_build(
            "ide0:0.present = \"TRUE\"\nide0:0.fileName = \"boot.vmdk\"\nide0:0.deviceType = \"ata-hardDisk\"\n\
             ide0:1.present = \"TRUE\"\nide0:1.deviceType = \"atapi-cdrom\"\nide0:1.fileName = \"/dev/cdrom\"\n\
             ide1:0.present = \"TRUE\"\nide1:0.deviceType = \"cdrom-image\"\nide1:0.fileName = \"/vmfs/volumes/datastore1/iso/a.iso\"\n\
             ide1:1.present = \"TRUE\"\nide1:1.deviceType = \"cdrom-raw\"\nide1:1.fileName = \"auto detect\"\nide1:1.startConnected = \"FALSE\"\n\
             sata0.present = \"TRUE\"\nsata0:0.present = \"TRUE\"\nsata0:0.deviceType = \"cdrom-image\"\nsata0:0.fileName = \"emptyBackingString\"\n\
             sata0:1.present = \"TRUE\"\nsata0:1.fileName = \"s.vmdk\"\n\
             sata0:2.present = \"TRUE\"\nsata0:2.clientDevice = \"TRUE\"\nsata0:2.deviceType = \"cdrom-raw\"\n",
            true,
        );
        assert!(
            matches!(by_key(&s, 200), BaseVirtualDevice::VirtualIDEController(c) if c.device == [3000, 3001])
        );
        assert!(
            matches!(by_key(&s, 201), BaseVirtualDevice::VirtualIDEController(c) if c.device == [3002, 3003])
        );
        assert!(
            matches!(by_key(&s, 15000), BaseVirtualDevice::VirtualAHCIController(c) if c.device == [16000, 16001, 16002] && c.controller_key == Some(100))
        );
        assert!(
            matches!(by_key(&s, 3000), BaseVirtualDevice::VirtualDisk(d) if d.controller_key == Some(200))
        );
        assert!(
            matches!(by_key(&s, 16001), BaseVirtualDevice::VirtualDisk(d) if d.unit_number == Some(1))
        );
        let cd = |k| match by_key(&s, k) {
            BaseVirtualDevice::VirtualCdrom(c) => c.clone(),
            d => panic!("{d:?}"),
        };
        assert!(
            matches!(&cd(3001).backing, Some(BaseVirtualDeviceBackingInfo::VirtualCdromAtapiBackingInfo(b)) if b.device_name == "/dev/cdrom")
        );
        assert!(
            matches!(&cd(3002).backing, Some(BaseVirtualDeviceBackingInfo::VirtualCdromIsoBackingInfo(b)) if b.file_name == "[datastore1] iso/a.iso")
        );
        let raw = cd(3003);
        assert!(
            matches!(&raw.backing, Some(BaseVirtualDeviceBackingInfo::VirtualCdromPassthroughBackingInfo(b)) if b.use_auto_detect == Some(true))
        );
        let c = raw.connectable.unwrap();
        assert!(!c.start_connected && !c.connected);
        assert!(cd(3002).connectable.unwrap().connected, "powered on");
        assert!(
            matches!(&cd(16000).backing, Some(BaseVirtualDeviceBackingInfo::VirtualCdromIsoBackingInfo(b)) if b.file_name.is_empty())
        );
        assert!(matches!(
            &cd(16002).backing,
            Some(BaseVirtualDeviceBackingInfo::VirtualCdromRemotePassthroughBackingInfo(_))
        ));
        let labels: Vec<String> = s
            .iter()
            .filter_map(|x| match &x.device {
                BaseVirtualDevice::VirtualCdrom(c) => match &c.device_info {
                    Some(BaseDescription::Description(d)) => Some(d.label.clone()),
                    _ => None,
                },
                _ => None,
            })
            .collect();
        assert_eq!(
            labels,
            [
                "CD/DVD drive 1",
                "CD/DVD drive 2",
                "CD/DVD drive 3",
                "CD/DVD drive 4",
                "CD/DVD drive 5"
            ]
        );
    }

    #[test]
    fn nics_every_model_and_backing() {
        let s = env_build(
            "ethernet0.present = \"TRUE\"\nethernet0.virtualDev = \"vlance\"\nethernet0.networkName = \"VM Network\"\n\
             ethernet0.addressType = \"static\"\nethernet0.address = \"00:50:56:01:02:03\"\n\
             ethernet1.present = \"TRUE\"\nethernet1.virtualDev = \"vmxnet\"\nethernet1.addressType = \"generated\"\nethernet1.generatedAddress = \"00:0C:29:aa:bb:cc\"\n\
             ethernet2.present = \"TRUE\"\nethernet2.virtualDev = \"vmxnet\"\nethernet2.features = \"15\"\nethernet2.addressType = \"vpx\"\nethernet2.generatedAddress = \"00:50:56:80:00:01\"\n\
             ethernet3.present = \"TRUE\"\nethernet3.virtualDev = \"vmxnet3\"\n\
             ethernet4.present = \"TRUE\"\nethernet4.virtualDev = \"e1000\"\n\
             ethernet5.present = \"TRUE\"\nethernet5.virtualDev = \"e1000e\"\nethernet5.startConnected = \"FALSE\"\n\
             ethernet6.present = \"TRUE\"\nethernet6.virtualDev = \"vmxnet3\"\nethernet6.dvs.switchId = \"50 1a\"\n\
             ethernet6.dvs.portgroupId = \"dvportgroup-1\"\nethernet6.dvs.portId = \"7\"\nethernet6.dvs.connectionId = \"42\"\n",
            false,
        );
        assert!(
            matches!(by_key(&s, 4000), BaseVirtualDevice::VirtualPCNet32(n) if n.address_type.as_deref() == Some("manual") && n.mac_address.as_deref() == Some("00:50:56:01:02:03") && n.unit_number == Some(7))
        );
        assert!(
            matches!(by_key(&s, 4001), BaseVirtualDevice::VirtualVmxnet(n) if n.address_type.as_deref() == Some("generated") && n.mac_address.as_deref() == Some("00:0c:29:aa:bb:cc"))
        );
        assert!(
            matches!(by_key(&s, 4002), BaseVirtualDevice::VirtualVmxnet2(n) if n.address_type.as_deref() == Some("assigned"))
        );
        assert!(matches!(
            by_key(&s, 4003),
            BaseVirtualDevice::VirtualVmxnet3(_)
        ));
        assert!(matches!(
            by_key(&s, 4004),
            BaseVirtualDevice::VirtualE1000(_)
        ));
        assert!(
            matches!(by_key(&s, 4005), BaseVirtualDevice::VirtualE1000e(n) if !n.connectable.as_ref().unwrap().start_connected)
        );
        match by_key(&s, 4000) {
            BaseVirtualDevice::VirtualPCNet32(n) => match &n.backing {
                Some(BaseVirtualDeviceBackingInfo::VirtualEthernetCardNetworkBackingInfo(b)) => {
                    assert_eq!(b.device_name, "VM Network");
                    assert_eq!(b.network, Some(MoRef::new("Network", "net1")));
                }
                b => panic!("{b:?}"),
            },
            d => panic!("{d:?}"),
        }
        match by_key(&s, 4006) {
            BaseVirtualDevice::VirtualVmxnet3(n) => match &n.backing {
                Some(BaseVirtualDeviceBackingInfo::VirtualEthernetCardDistributedVirtualPortBackingInfo(b)) => {
                    assert_eq!(b.port.switch_uuid, "50 1a");
                    assert_eq!(b.port.portgroup_key.as_deref(), Some("dvportgroup-1"));
                    assert_eq!(b.port.port_key.as_deref(), Some("7"));
                    assert_eq!(b.port.connection_cookie, Some(42));
                }
                b => panic!("{b:?}"),
            },
            d => panic!("{d:?}"),
        }
        assert!(
            matches!(by_key(&s, 100), BaseVirtualDevice::VirtualPCIController(c) if c.device == [500, 4000, 4001, 4002, 4003, 4004, 4005, 4006])
        );
        let vmx = VmxFile::parse_str("ethernet0.present = \"TRUE\"\nethernet0.networkName = \"A\"\nethernet1.present = \"TRUE\"\nethernet1.networkName = \"A\"\nethernet2.present = \"TRUE\"\nethernet2.dvs.switchId = \"x\"\n").unwrap();
        assert_eq!(network_names(&vmx), ["A"]);
        assert_eq!(Counts::of(&vmx).nics, 3);
    }

    #[test]
    fn floppies_serial_and_parallel_ports() {
        let s = env_build(
            "floppy0.present = \"TRUE\"\nfloppy0.fileType = \"file\"\nfloppy0.fileName = \"f.flp\"\n\
             floppy1.present = \"TRUE\"\nfloppy1.fileType = \"device\"\nfloppy1.fileName = \"/dev/fd0\"\n\
             serial0.present = \"TRUE\"\nserial0.fileType = \"file\"\nserial0.fileName = \"/vmfs/volumes/datastore1/vm1/s.log\"\nserial0.yieldOnMsrRead = \"TRUE\"\n\
             serial1.present = \"TRUE\"\nserial1.fileType = \"device\"\nserial1.fileName = \"/dev/ttyS0\"\n\
             serial2.present = \"TRUE\"\nserial2.fileType = \"pipe\"\nserial2.fileName = \"serial2-pipe\"\nserial2.pipe.endPoint = \"server\"\nserial2.tryNoRxLoss = \"TRUE\"\n\
             serial3.present = \"TRUE\"\nserial3.fileType = \"network\"\nserial3.fileName = \"telnet://127.0.0.1:4444\"\nserial3.network.endPoint = \"client\"\n\
             parallel0.present = \"TRUE\"\nparallel0.fileType = \"file\"\nparallel0.fileName = \"p.out\"\n\
             parallel1.present = \"TRUE\"\nparallel1.fileType = \"device\"\nparallel1.fileName = \"/dev/parport0\"\n",
            false,
        );
        assert!(
            matches!(by_key(&s, 400), BaseVirtualDevice::VirtualSIOController(c) if c.device == [8000, 8001, 9000, 9001, 9002, 9003, 10000, 10001])
        );
        let backing = |k| match by_key(&s, k) {
            BaseVirtualDevice::VirtualFloppy(d) => d.backing.clone(),
            BaseVirtualDevice::VirtualSerialPort(d) => d.backing.clone(),
            BaseVirtualDevice::VirtualParallelPort(d) => d.backing.clone(),
            d => panic!("{d:?}"),
        };
        assert!(
            matches!(backing(8000), Some(BaseVirtualDeviceBackingInfo::VirtualFloppyImageBackingInfo(b)) if b.file_name == "[datastore1] vm1/f.flp")
        );
        assert!(
            matches!(backing(8001), Some(BaseVirtualDeviceBackingInfo::VirtualFloppyDeviceBackingInfo(b)) if b.device_name == "/dev/fd0")
        );
        assert!(
            matches!(backing(9000), Some(BaseVirtualDeviceBackingInfo::VirtualSerialPortFileBackingInfo(b)) if b.file_name == "[datastore1] vm1/s.log")
        );
        assert!(
            matches!(backing(9001), Some(BaseVirtualDeviceBackingInfo::VirtualSerialPortDeviceBackingInfo(b)) if b.device_name == "/dev/ttyS0")
        );
        assert!(
            matches!(backing(9002), Some(BaseVirtualDeviceBackingInfo::VirtualSerialPortPipeBackingInfo(b)) if b.pipe_name == "serial2-pipe" && b.endpoint == "server" && b.no_rx_loss == Some(true))
        );
        assert!(
            matches!(backing(9003), Some(BaseVirtualDeviceBackingInfo::VirtualSerialPortURIBackingInfo(b)) if b.service_uri == "telnet://127.0.0.1:4444" && b.direction == "client")
        );
        assert!(
            matches!(backing(10000), Some(BaseVirtualDeviceBackingInfo::VirtualParallelPortFileBackingInfo(b)) if b.file_name == "[datastore1] vm1/p.out")
        );
        assert!(
            matches!(backing(10001), Some(BaseVirtualDeviceBackingInfo::VirtualParallelPortDeviceBackingInfo(b)) if b.device_name == "/dev/parport0")
        );
        assert!(
            matches!(by_key(&s, 9000), BaseVirtualDevice::VirtualSerialPort(p) if p.yield_on_poll && p.controller_key == Some(400) && p.unit_number == Some(0))
        );
        assert!(
            matches!(by_key(&s, 9001), BaseVirtualDevice::VirtualSerialPort(p) if !p.yield_on_poll)
        );
    }

    #[test]
    fn file_names_both_ways() {
        let ds = MoRef::new("Datastore", "ds1");
        let env = Env {
            ds_name: "datastore1",
            ds: &ds,
            vm_dir: "vm1",
            powered_on: false,
            network: &|_| None,
            datastore: &|_| None,
            ds_dir: Some(Path::new("/data/datastore1")),
        };
        let f = env.api_file("a.vmdk");
        assert_eq!(f.name, "[datastore1] vm1/a.vmdk");
        assert_eq!(f.path, Some(PathBuf::from("/data/datastore1/vm1/a.vmdk")));
        assert_eq!(env.api_file("/dev/cdrom").name, "/dev/cdrom");
        assert_eq!(env.api_file("[x] y/z.iso").name, "[x] y/z.iso");
        assert_eq!(env.vmx_file("[datastore1] vm1/a.vmdk"), "a.vmdk");
        assert_eq!(
            env.vmx_file("[datastore1] iso/a.iso"),
            "/vmfs/volumes/datastore1/iso/a.iso"
        );
        assert_eq!(env.vmx_file("/dev/cdrom"), "/dev/cdrom");
        assert_eq!(env.api_file("../../etc/passwd").path, None);
        assert_eq!(grouped(1048576), "1,048,576");
        assert_eq!(grouped(12), "12");
    }
}
