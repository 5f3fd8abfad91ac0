//! `ReconfigVM_Task` (and the spec part of `CreateVM_Task`): a `VirtualMachineConfigSpec`
//! applied to a copy of the VM's `.vmx`, all or nothing.
//!
//! Every change is made to the copy first; disk files are created only when all changes were
//! accepted, and the copy replaces the VM's `.vmx` only when those succeeded too. Disks removed
//! with `fileOperation = destroy` are deleted last. A failing spec leaves the VM and its files
//! as they were.
//!
//! Faults, as ESX gives them: `InvalidDeviceSpec` (with `deviceIndex` and the property) for an
//! unknown key on edit or remove, a unit or bus already taken, a controller that does not exist
//! or cannot take the device, a device that cannot be added or removed, a bad backing;
//! `FileNotFound` for a disk or image that must exist; `FileAlreadyExists` for a disk to create
//! over an existing file; `InvalidPowerState` for what a powered-on VM cannot take (any device
//! change while suspended). Powered on, ESX hot-plugs disks on SCSI and SATA, NICs and SCSI/SATA
//! controllers (add), grows disks, changes CD-ROM and floppy media, NIC networks and every
//! device's `connectable`; the rest needs the VM powered off.

use std::path::PathBuf;

use esx_vim::{
    Any, BaseOptionValue, BaseVirtualDevice, BaseVirtualDeviceBackingInfo,
    BaseVirtualDeviceConfigSpec, SharesLevel, VirtualDeviceConfigSpecFileOperation,
    VirtualDeviceConfigSpecOperation, VirtualDeviceConnectInfo, VirtualMachineConfigSpec,
    VirtualMachinePowerState, VirtualSCSISharing,
};
use esx_vmx::VmxFile;

use crate::fault::{Fault, MethodResult};
use crate::mo::virtual_machine::{uuid_from, vmx_uuid};
use crate::mo::vm_devices::{self, Bus, Env, NicModel, ScsiModel, Slot};
use crate::state::{MoRef, State};

/// The fields every device type has.
#[derive(Debug, Clone, Copy)]
pub struct Common<'a> {
    /// `key`.
    pub key: i32,
    /// `backing`.
    pub backing: Option<&'a BaseVirtualDeviceBackingInfo>,
    /// `connectable`.
    pub connectable: Option<&'a VirtualDeviceConnectInfo>,
    /// `controllerKey`.
    pub controller_key: Option<i32>,
    /// `unitNumber`.
    pub unit_number: Option<i32>,
}

macro_rules! common_of {
    ($d:expr; $($v:ident),* $(,)?) => {
        match $d {
            $(BaseVirtualDevice::$v(x) => Common {
                key: x.key,
                backing: x.backing.as_ref(),
                connectable: x.connectable.as_ref(),
                controller_key: x.controller_key,
                unit_number: x.unit_number,
            },)*
        }
    };
}

/// The fields of `d` that every device type has.
pub fn common(d: &BaseVirtualDevice) -> Common<'_> {
    common_of!(d;
        VirtualDevice, ParaVirtualSCSIController, VirtualAHCIController,
        VirtualBusLogicController, VirtualCdrom, VirtualController, VirtualDisk, VirtualE1000,
        VirtualE1000e, VirtualEnsoniq1371, VirtualEthernetCard, VirtualFloppy,
        VirtualHdAudioCard, VirtualIDEController, VirtualKeyboard, VirtualLsiLogicController,
        VirtualLsiLogicSASController, VirtualMachineVMCIDevice, VirtualMachineVMIROM,
        VirtualMachineVideoCard, VirtualNVDIMM, VirtualNVDIMMController, VirtualNVMEController,
        VirtualPCIController, VirtualPCIPassthrough, VirtualPCNet32, VirtualPS2Controller,
        VirtualParallelPort, VirtualPointingDevice, VirtualPrecisionClock,
        VirtualSATAController, VirtualSCSIController, VirtualSCSIPassthrough,
        VirtualSIOController, VirtualSerialPort, VirtualSoundBlaster16, VirtualSoundCard,
        VirtualSriovEthernetCard, VirtualTPM, VirtualUSB, VirtualUSBController,
        VirtualUSBXHCIController, VirtualVmxnet, VirtualVmxnet2, VirtualVmxnet3,
        VirtualVmxnet3Vrdma, VirtualWDT,
    )
}

/// A NIC's own fields: `addressType`, `macAddress`, `wakeOnLanEnabled`.
fn nic_fields(d: &BaseVirtualDevice) -> Option<(Option<&str>, Option<&str>, Option<bool>)> {
    macro_rules! nic {
        ($x:expr) => {
            Some((
                $x.address_type.as_deref(),
                $x.mac_address.as_deref(),
                $x.wake_on_lan_enabled,
            ))
        };
    }
    match d {
        BaseVirtualDevice::VirtualPCNet32(x) => nic!(x),
        BaseVirtualDevice::VirtualVmxnet(x) => nic!(x),
        BaseVirtualDevice::VirtualVmxnet2(x) => nic!(x),
        BaseVirtualDevice::VirtualVmxnet3(x) => nic!(x),
        BaseVirtualDevice::VirtualE1000(x) => nic!(x),
        BaseVirtualDevice::VirtualE1000e(x) => nic!(x),
        BaseVirtualDevice::VirtualEthernetCard(x) => nic!(x),
        _ => None,
    }
}

/// The device families the simulator models.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Disk,
    Cdrom,
    Floppy,
    Nic(NicModel),
    Serial,
    Parallel,
    Scsi(ScsiModel),
    Sata,
    Video,
    Vmci,
    /// PCI, IDE, PS/2 and SIO controllers, keyboard, pointing device: always there.
    Fixed,
    Unsupported,
}

impl Family {
    fn of(d: &BaseVirtualDevice) -> Family {
        use BaseVirtualDevice as D;
        match d {
            D::VirtualDisk(_) => Family::Disk,
            D::VirtualCdrom(_) => Family::Cdrom,
            D::VirtualFloppy(_) => Family::Floppy,
            D::VirtualPCNet32(_) => Family::Nic(NicModel::Vlance),
            D::VirtualVmxnet(_) => Family::Nic(NicModel::Vmxnet),
            D::VirtualVmxnet2(_) => Family::Nic(NicModel::Vmxnet2),
            D::VirtualVmxnet3(_) => Family::Nic(NicModel::Vmxnet3),
            D::VirtualE1000(_) | D::VirtualEthernetCard(_) => Family::Nic(NicModel::E1000),
            D::VirtualE1000e(_) => Family::Nic(NicModel::E1000e),
            D::VirtualSerialPort(_) => Family::Serial,
            D::VirtualParallelPort(_) => Family::Parallel,
            D::VirtualLsiLogicController(_) | D::VirtualSCSIController(_) => {
                Family::Scsi(ScsiModel::LsiLogic)
            }
            D::VirtualBusLogicController(_) => Family::Scsi(ScsiModel::BusLogic),
            D::VirtualLsiLogicSASController(_) => Family::Scsi(ScsiModel::LsiLogicSas),
            D::ParaVirtualSCSIController(_) => Family::Scsi(ScsiModel::Pvscsi),
            D::VirtualAHCIController(_) | D::VirtualSATAController(_) => Family::Sata,
            D::VirtualMachineVideoCard(_) => Family::Video,
            D::VirtualMachineVMCIDevice(_) => Family::Vmci,
            D::VirtualPCIController(_)
            | D::VirtualIDEController(_)
            | D::VirtualPS2Controller(_)
            | D::VirtualSIOController(_)
            | D::VirtualKeyboard(_)
            | D::VirtualPointingDevice(_) => Family::Fixed,
            _ => Family::Unsupported,
        }
    }

    /// The same kind of device (a NIC or SCSI controller of another model is not).
    fn same_kind(self, other: Family) -> bool {
        self == other
    }

    /// The `.vmx` keys (below the device's prefix) a powered-on VM may change.
    fn hot_keys(self) -> &'static [&'static str] {
        match self {
            Family::Cdrom | Family::Floppy => &[
                "fileName",
                "deviceType",
                "clientDevice",
                "fileType",
                "startConnected",
                "allowGuestConnectionControl",
            ],
            Family::Nic(_) => &[
                "networkName",
                "dvs.switchId",
                "dvs.portgroupId",
                "dvs.portId",
                "dvs.connectionId",
                "startConnected",
                "allowGuestConnectionControl",
            ],
            Family::Serial | Family::Parallel => &["startConnected", "allowGuestConnectionControl"],
            _ => &[],
        }
    }
}

/// Disk files a reconfiguration creates, grows and deletes, done once the `.vmx` changes are
/// all accepted.
#[derive(Debug, Default)]
pub struct FileOps {
    creates: Vec<NewDisk>,
    grows: Vec<(PathBuf, i64)>,
    destroys: Vec<PathBuf>,
    created: Vec<PathBuf>,
}

#[derive(Debug)]
struct NewDisk {
    path: PathBuf,
    name: String,
    capacity_kb: i64,
    adapter: &'static str,
    thin: bool,
}

impl FileOps {
    fn will_create(&self, p: &std::path::Path) -> bool {
        self.creates.iter().any(|c| c.path == p)
    }

    /// Fails with `NoDiskSpace` when the disks to create do not fit on their datastores
    /// (a thick disk needs its capacity, a thin one its descriptor's block).
    pub fn check_space(&self, state: &State) -> MethodResult<()> {
        let block = crate::files::BLOCK as u64;
        let mut per_ds: Vec<(String, u64, String)> = Vec::new();
        for d in &self.creates {
            let Some((ds, _)) = crate::state::parse_ds_path(&d.name) else {
                continue;
            };
            let bytes = if d.thin {
                block
            } else {
                (d.capacity_kb.max(0) as u64).saturating_mul(1024)
            } + block;
            match per_ds.iter_mut().find(|(n, ..)| n == ds) {
                Some(e) => e.1 = e.1.saturating_add(bytes),
                None => per_ds.push((ds.to_owned(), bytes, d.name.clone())),
            }
        }
        for (ds, bytes, file) in per_ds {
            if let Some(r) = state.datastore_by_name(&ds) {
                crate::mo::datastore::check_space(state, &r, bytes, 0, &file)?;
            }
        }
        Ok(())
    }

    /// Creates the new disks and grows the edited ones; on failure removes what it made.
    pub fn apply(&mut self) -> MethodResult<()> {
        for i in 0..self.creates.len() {
            let d = &self.creates[i];
            let uuid = vmx_uuid(&uuid_from(&format!("disk:{}", d.name)));
            let made = d
                .path
                .parent()
                .map_or(Ok(()), std::fs::create_dir_all)
                .and_then(|_| {
                    crate::vmdk::create_flat(
                        &d.path,
                        d.capacity_kb.max(0) as u64,
                        d.adapter,
                        &uuid,
                        d.thin,
                    )
                });
            if let Err(e) = made {
                let f = Fault::invalid_state(&format!("cannot create {}: {e}", d.name));
                self.undo();
                return Err(f);
            }
            let p = d.path.clone();
            self.created.push(p);
        }
        for (p, kb) in &self.grows {
            if let Err(e) = crate::files::grow_disk(p, *kb) {
                self.undo();
                return Err(Fault::invalid_state(&format!(
                    "cannot extend the disk: {e}"
                )));
            }
        }
        Ok(())
    }

    /// Removes the disks [`FileOps::apply`] created.
    pub fn undo(&mut self) {
        for p in self.created.drain(..) {
            for f in crate::mo::virtual_disk_manager::disk_files(&p) {
                let _ = std::fs::remove_file(f);
            }
        }
    }

    /// Deletes the removed disks that were to be destroyed (descriptor and extents).
    pub fn destroy(&self) {
        for p in &self.destroys {
            for f in crate::mo::virtual_disk_manager::disk_files(p) {
                let _ = std::fs::remove_file(f);
            }
        }
    }
}

/// What applying a spec needs besides the `.vmx`.
pub struct Target<'a> {
    /// Resolves files and networks, as for reading the device list.
    pub env: Env<'a>,
    /// The VM's display name (new disks are named after it).
    pub vm_name: &'a str,
    /// The VM's power state.
    pub power: VirtualMachinePowerState,
    /// `Network` -> its name (`None` for something that is not a network).
    pub network_name: &'a dyn Fn(&MoRef) -> Option<String>,
    /// Seeds generated MAC addresses.
    pub seed: &'a str,
}

impl Target<'_> {
    fn running(&self) -> bool {
        self.power != VirtualMachinePowerState::PoweredOff
    }

    fn refuse_running(&self) -> MethodResult<()> {
        if self.running() {
            Err(Fault::invalid_power_state(
                Some(VirtualMachinePowerState::PoweredOff),
                self.power.clone(),
            ))
        } else {
            Ok(())
        }
    }
}

/// Applies `spec` to `vmx`; returns the file work to do once the `.vmx` is accepted.
pub fn apply(
    vmx: &mut VmxFile,
    spec: &VirtualMachineConfigSpec,
    t: &Target<'_>,
) -> MethodResult<FileOps> {
    apply_settings(vmx, spec)?;
    let mut ops = FileOps::default();
    if spec.device_change.is_empty() {
        return Ok(ops);
    }
    if t.power == VirtualMachinePowerState::Suspended {
        return Err(Fault::invalid_power_state(
            Some(VirtualMachinePowerState::PoweredOff),
            t.power.clone(),
        ));
    }
    // Controllers are added first, so the devices of the same spec can name them by their
    // temporary (negative) keys.
    let mut order: Vec<(usize, &BaseVirtualDeviceConfigSpec)> =
        spec.device_change.iter().enumerate().collect();
    order.sort_by_key(|(_, c)| {
        let (op, _, dev) = parts(c);
        !(matches!(op, Some(VirtualDeviceConfigSpecOperation::Add))
            && matches!(Family::of(dev), Family::Scsi(_) | Family::Sata))
    });
    let mut temp: Vec<(i32, i32)> = Vec::new();
    for (i, ch) in order {
        let (op, file_op, dev) = parts(ch);
        let mut c = Change {
            index: i as i32,
            file_op,
            dev,
            t,
            temp: &mut temp,
            ops: &mut ops,
        };
        match op {
            Some(VirtualDeviceConfigSpecOperation::Add) => c.add(vmx)?,
            Some(VirtualDeviceConfigSpecOperation::Edit) => c.edit(vmx)?,
            Some(VirtualDeviceConfigSpecOperation::Remove) => c.remove(vmx)?,
            _ => return Err(Fault::invalid_device_spec(i as i32, "operation")),
        }
    }
    Ok(ops)
}

fn parts(
    c: &BaseVirtualDeviceConfigSpec,
) -> (
    Option<&VirtualDeviceConfigSpecOperation>,
    Option<&VirtualDeviceConfigSpecFileOperation>,
    &BaseVirtualDevice,
) {
    match c {
        BaseVirtualDeviceConfigSpec::VirtualDeviceConfigSpec(c) => {
            (c.operation.as_ref(), c.file_operation.as_ref(), &c.device)
        }
        BaseVirtualDeviceConfigSpec::VirtualDiskConfigSpec(c) => {
            (c.operation.as_ref(), c.file_operation.as_ref(), &c.device)
        }
    }
}

/// The VMX `guestOS` of an API guest id (`otherGuest64`/`other64Guest` -> `other-64`,
/// `rhel7_64Guest` -> `rhel7-64`).
pub fn vmx_guest_os(api: &str) -> String {
    let g = api.replace("Guest", "");
    let g = match g.strip_suffix("_64").or_else(|| g.strip_suffix("64")) {
        Some(base) if !base.is_empty() => format!("{base}-64"),
        _ => g,
    };
    if g.is_empty() {
        "other".into()
    } else {
        g
    }
}

fn option_text(v: &Option<Any>) -> MethodResult<String> {
    Ok(match v {
        None => String::new(),
        Some(Any::String(s)) => s.clone(),
        Some(Any::Int(n)) => n.to_string(),
        Some(Any::Long(n)) => n.to_string(),
        Some(Any::Short(n)) => n.to_string(),
        Some(Any::Boolean(b)) => if *b { "TRUE" } else { "FALSE" }.into(),
        Some(_) => return Err(Fault::invalid_argument("spec.extraConfig.value")),
    })
}

/// The settings of a spec besides devices.
fn apply_settings(vmx: &mut VmxFile, spec: &VirtualMachineConfigSpec) -> MethodResult<()> {
    if let Some(n) = &spec.name {
        if n.is_empty() {
            return Err(Fault::invalid_argument("spec.name"));
        }
        vmx.set("displayName", n);
    }
    if let Some(a) = &spec.annotation {
        vmx.set("annotation", a);
    }
    if let Some(m) = spec.memory_mb {
        if m <= 0 || m % 4 != 0 {
            return Err(Fault::invalid_argument("spec.memoryMB"));
        }
        vmx.set("memsize", &m.to_string());
    }
    if let Some(c) = spec.num_cp_us {
        if !(1..=128).contains(&c) {
            return Err(Fault::invalid_argument("spec.numCPUs"));
        }
        vmx.set("numvcpus", &c.to_string());
    }
    if let Some(k) = spec.num_cores_per_socket {
        let cpus: i32 = vmx
            .get("numvcpus")
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(1);
        if k < 1 || cpus % k != 0 {
            return Err(Fault::invalid_argument("spec.numCoresPerSocket"));
        }
        vmx.set("cpuid.coresPerSocket", &k.to_string());
    }
    if let Some(g) = &spec.guest_id {
        vmx.set("guestOS", &vmx_guest_os(g));
    }
    for (alloc, prefix) in [
        (&spec.cpu_allocation, "sched.cpu"),
        (&spec.memory_allocation, "sched.mem"),
    ] {
        let Some(a) = alloc else { continue };
        if let Some(v) = a.reservation {
            vmx.set(&format!("{prefix}.min"), &v.to_string());
        }
        if let Some(v) = a.limit {
            if v < 0 {
                vmx.remove(&format!("{prefix}.max"));
            } else {
                vmx.set(&format!("{prefix}.max"), &v.to_string());
            }
        }
        if let Some(s) = &a.shares {
            let v = match s.level {
                SharesLevel::Low => "low".to_owned(),
                SharesLevel::Normal => "normal".to_owned(),
                SharesLevel::High => "high".to_owned(),
                _ => s.shares.to_string(),
            };
            vmx.set(&format!("{prefix}.shares"), &v);
        }
    }
    for o in &spec.extra_config {
        let BaseOptionValue::OptionValue(o) = o else {
            return Err(Fault::invalid_argument("spec.extraConfig"));
        };
        let valid = !o.key.is_empty()
            && o.key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-'));
        if !valid {
            return Err(Fault::invalid_argument("spec.extraConfig.key"));
        }
        let v = option_text(&o.value)?;
        if v.is_empty() {
            vmx.remove(&o.key);
        } else {
            vmx.set(&o.key, &v);
        }
    }
    Ok(())
}

/// Removes every `<prefix>.…` key.
fn remove_prefix(vmx: &mut VmxFile, prefix: &str) {
    let dot = format!("{prefix}.");
    let keys: Vec<String> = vmx
        .keys()
        .filter(|k| {
            k.len() > dot.len()
                && k.is_char_boundary(dot.len())
                && k[..dot.len()].eq_ignore_ascii_case(&dot)
        })
        .map(str::to_owned)
        .collect();
    for k in keys {
        vmx.remove(&k);
    }
}

/// The `<prefix>.…` keys and values, for comparing before and after an edit.
fn keys_below(vmx: &VmxFile, prefix: &str) -> Vec<(String, String)> {
    let dot = format!("{prefix}.").to_ascii_lowercase();
    let mut v: Vec<(String, String)> = vmx
        .keys()
        .filter(|k| k.to_ascii_lowercase().starts_with(&dot))
        .map(|k| {
            (
                k[dot.len()..].to_owned(),
                vmx.get(k).unwrap_or("").to_owned(),
            )
        })
        .collect();
    v.sort();
    v
}

/// The keys an edit of a `fam` device at `p` may change.
fn watched(vmx: &VmxFile, fam: Family, p: &str) -> Vec<(String, String)> {
    let mut v = keys_below(vmx, p);
    if fam == Family::Video {
        v.extend(keys_below(vmx, "mks"));
    }
    v
}

fn set_bool(vmx: &mut VmxFile, key: &str, v: bool) {
    vmx.set(key, if v { "TRUE" } else { "FALSE" });
}

fn key_of(slot: &Slot) -> i32 {
    common(&slot.device).key
}

/// One entry of `deviceChange`.
struct Change<'a, 'b> {
    index: i32,
    file_op: Option<&'a VirtualDeviceConfigSpecFileOperation>,
    dev: &'a BaseVirtualDevice,
    t: &'a Target<'b>,
    temp: &'a mut Vec<(i32, i32)>,
    ops: &'a mut FileOps,
}

impl Change<'_, '_> {
    fn bad(&self, property: &str) -> Fault {
        Fault::invalid_device_spec(self.index, property)
    }

    /// A key as the spec gives it, with temporary (negative) keys of devices added earlier in
    /// the same spec replaced by their real keys.
    fn real_key(&self, key: i32) -> i32 {
        self.temp
            .iter()
            .find(|(t, _)| *t == key)
            .map_or(key, |(_, r)| *r)
    }

    fn find<'s>(&self, slots: &'s [Slot]) -> MethodResult<&'s Slot> {
        let key = self.real_key(common(self.dev).key);
        slots
            .iter()
            .find(|s| key_of(s) == key)
            .ok_or_else(|| self.bad("device.key"))
    }

    fn added(&mut self, real: i32) {
        let key = common(self.dev).key;
        self.temp.push((key, real));
    }

    fn add(&mut self, vmx: &mut VmxFile) -> MethodResult<()> {
        let fam = Family::of(self.dev);
        match fam {
            Family::Disk | Family::Cdrom => self.add_storage(vmx, fam),
            Family::Nic(model) => {
                let n = first_free(vmx, "ethernet", vm_devices::MAX_NICS)
                    .ok_or_else(|| self.bad("device"))?;
                let p = format!("ethernet{n}");
                remove_prefix(vmx, &p);
                vmx.set(&format!("{p}.present"), "TRUE");
                let (dev, features) = model.vmx_value();
                vmx.set(&format!("{p}.virtualDev"), dev);
                if features {
                    vmx.set(&format!("{p}.features"), "15");
                }
                self.write_nic(vmx, &p, n, true)?;
                self.added(4000 + n);
                Ok(())
            }
            Family::Floppy | Family::Serial | Family::Parallel => {
                self.t.refuse_running()?;
                let (word, max, base) = match fam {
                    Family::Floppy => ("floppy", vm_devices::MAX_FLOPPIES, 8000),
                    Family::Serial => ("serial", vm_devices::MAX_SERIALS, 9000),
                    _ => ("parallel", vm_devices::MAX_PARALLELS, 10000),
                };
                let n = first_free(vmx, word, max).ok_or_else(|| self.bad("device"))?;
                let p = format!("{word}{n}");
                remove_prefix(vmx, &p);
                vmx.set(&format!("{p}.present"), "TRUE");
                self.write_port(vmx, &p, fam)?;
                self.write_connectable(vmx, &p);
                self.added(base + n);
                Ok(())
            }
            Family::Scsi(_) | Family::Sata => {
                let (word, bus_kind) = if fam == Family::Sata {
                    ("sata", Bus::Sata)
                } else {
                    ("scsi", Bus::Scsi)
                };
                let bus = controller_bus(self.dev);
                if !(0..bus_kind.buses()).contains(&bus)
                    || vm_devices::truthy(vmx, &format!("{word}{bus}.present"))
                {
                    return Err(self.bad("device.busNumber"));
                }
                let p = format!("{word}{bus}");
                remove_prefix(vmx, &p);
                vmx.set(&format!("{p}.present"), "TRUE");
                if let Family::Scsi(model) = fam {
                    vmx.set(&format!("{p}.virtualDev"), model.vmx_value());
                    write_sharing(vmx, &p, self.dev);
                }
                self.added(bus_kind.controller_key(bus));
                Ok(())
            }
            Family::Vmci => {
                self.t.refuse_running()?;
                if vm_devices::truthy(vmx, "vmci0.present") {
                    return Err(self.bad("device"));
                }
                vmx.set("vmci0.present", "TRUE");
                self.added(vm_devices::VMCI);
                Ok(())
            }
            Family::Video | Family::Fixed => Err(self.bad("device")),
            Family::Unsupported => Err(Fault::not_supported(&format!(
                "adding a {} device",
                self.dev.type_name()
            ))),
        }
    }

    /// Picks the controller and unit of a new disk or CD-ROM and writes it.
    fn add_storage(&mut self, vmx: &mut VmxFile, fam: Family) -> MethodResult<()> {
        let c = common(self.dev);
        let slots = vm_devices::build(vmx, &self.t.env);
        let present = vm_devices::present_prefixes(vmx);
        let taken = |bus: Bus, n: i32, u: i32| present.contains(&format!("{}{n}:{u}", bus.word()));
        let free_unit =
            |bus: Bus, n: i32| (0..bus.units()).find(|u| bus.unit_ok(*u) && !taken(bus, n, *u));
        let controllers: Vec<(Bus, i32)> = slots
            .iter()
            .filter_map(|s| Bus::of_controller(key_of(s)))
            .collect();
        let (bus, n) = match c.controller_key {
            Some(k) => {
                let k = self.real_key(k);
                Bus::of_controller(k)
                    .filter(|bn| controllers.contains(bn))
                    .ok_or_else(|| self.bad("device.controllerKey"))?
            }
            None => {
                let prefer: [Bus; 3] = if fam == Family::Disk {
                    [Bus::Scsi, Bus::Sata, Bus::Ide]
                } else {
                    [Bus::Ide, Bus::Sata, Bus::Scsi]
                };
                prefer
                    .iter()
                    .flat_map(|b| controllers.iter().filter(move |(x, _)| x == b))
                    .find(|(b, n)| free_unit(*b, *n).is_some())
                    .copied()
                    .ok_or_else(|| self.bad("device.controllerKey"))?
            }
        };
        let unit = match c.unit_number {
            Some(u) if !bus.unit_ok(u) || taken(bus, n, u) => {
                return Err(self.bad("device.unitNumber"))
            }
            Some(u) => u,
            None => free_unit(bus, n).ok_or_else(|| self.bad("device.unitNumber"))?,
        };
        let hot = fam == Family::Disk && bus != Bus::Ide;
        if !hot {
            self.t.refuse_running()?;
        }
        let p = format!("{}{n}:{unit}", bus.word());
        remove_prefix(vmx, &p);
        vmx.set(&format!("{p}.present"), "TRUE");
        if fam == Family::Disk {
            let adapter = match (bus, ScsiModel::of(vmx, n)) {
                (Bus::Ide, _) => "ide",
                (Bus::Scsi, ScsiModel::BusLogic) => "buslogic",
                _ => "lsilogic",
            };
            match bus {
                Bus::Scsi => vmx.set(&format!("{p}.deviceType"), "scsi-hardDisk"),
                Bus::Ide => vmx.set(&format!("{p}.deviceType"), "ata-hardDisk"),
                Bus::Sata => {}
            }
            self.write_disk(vmx, &p, adapter, None)?;
        } else {
            self.write_cdrom(vmx, &p)?;
            self.write_connectable(vmx, &p);
        }
        self.added(bus.child_key(n, unit));
        Ok(())
    }

    fn edit(&mut self, vmx: &mut VmxFile) -> MethodResult<()> {
        let slots = vm_devices::build(vmx, &self.t.env);
        let slot = self.find(&slots)?.clone();
        let fam = Family::of(&slot.device);
        if !fam.same_kind(Family::of(self.dev)) {
            return Err(self.bad("device"));
        }
        let c = common(self.dev);
        let cur = common(&slot.device);
        let moved = |given: Option<i32>, now: Option<i32>| given.is_some() && given != now;
        if moved(
            c.controller_key.map(|k| self.real_key(k)),
            cur.controller_key,
        ) || moved(c.unit_number, cur.unit_number)
        {
            return Err(Fault::not_supported(
                "moving a device to another controller or unit",
            ));
        }
        let p = slot.prefix.clone();
        let before = watched(vmx, fam, &p);
        match fam {
            Family::Disk => self.edit_disk(vmx, &p, &slot.device)?,
            Family::Cdrom => {
                if c.backing.is_some() {
                    self.write_cdrom(vmx, &p)?;
                }
                self.write_connectable(vmx, &p);
            }
            Family::Nic(_) => {
                let n = p["ethernet".len()..].parse().unwrap_or(0);
                self.write_nic(vmx, &p, n, false)?;
            }
            Family::Floppy | Family::Serial | Family::Parallel => {
                if c.backing.is_some() {
                    self.write_port(vmx, &p, fam)?;
                }
                self.write_connectable(vmx, &p);
            }
            Family::Scsi(_) => write_sharing(vmx, &p, self.dev),
            Family::Video => {
                if let BaseVirtualDevice::VirtualMachineVideoCard(v) = self.dev {
                    if let Some(kb) = v.video_ram_size_in_kb {
                        if kb <= 0 {
                            return Err(self.bad("device.videoRamSizeInKB"));
                        }
                        vmx.set("svga.vramSize", &(kb * 1024).to_string());
                    }
                    if let Some(n) = v.num_displays {
                        vmx.set("svga.numDisplays", &n.to_string());
                    }
                    if let Some(a) = v.use_auto_detect {
                        set_bool(vmx, "svga.autodetect", a);
                    }
                    if let Some(e) = v.enable3_d_support {
                        set_bool(vmx, "mks.enable3d", e);
                    }
                }
            }
            Family::Sata | Family::Vmci | Family::Fixed | Family::Unsupported => {}
        }
        let after = watched(vmx, fam, &p);
        let hot = fam.hot_keys();
        let cold_change = before
            .iter()
            .chain(after.iter())
            .filter(|kv| !(before.contains(kv) && after.contains(kv)))
            .any(|(k, _)| !hot.iter().any(|h| h.eq_ignore_ascii_case(k)));
        if cold_change {
            self.t.refuse_running()?;
        }
        Ok(())
    }

    fn remove(&mut self, vmx: &mut VmxFile) -> MethodResult<()> {
        let slots = vm_devices::build(vmx, &self.t.env);
        let slot = self.find(&slots)?.clone();
        let fam = Family::of(&slot.device);
        let p = slot.prefix.clone();
        match fam {
            Family::Fixed | Family::Video | Family::Unsupported => return Err(self.bad("device")),
            Family::Scsi(_) | Family::Sata => {
                let key = key_of(&slot);
                if slots
                    .iter()
                    .any(|s| common(&s.device).controller_key == Some(key))
                {
                    return Err(self.bad("device"));
                }
                self.t.refuse_running()?;
            }
            Family::Disk => {
                if vm_devices::parse_slot(&p).is_some_and(|(b, _, _)| b == Bus::Ide) {
                    self.t.refuse_running()?;
                }
                if matches!(
                    self.file_op,
                    Some(VirtualDeviceConfigSpecFileOperation::Destroy)
                ) {
                    let name = vmx.get(&format!("{p}.fileName")).unwrap_or("");
                    if let Some(path) = self.t.env.api_file(name).path {
                        self.ops.destroys.push(path);
                    }
                }
            }
            Family::Nic(_) => {}
            Family::Cdrom | Family::Floppy | Family::Serial | Family::Parallel | Family::Vmci => {
                self.t.refuse_running()?
            }
        }
        remove_prefix(vmx, &p);
        Ok(())
    }

    fn write_connectable(&self, vmx: &mut VmxFile, p: &str) {
        if let Some(c) = common(self.dev).connectable {
            set_bool(vmx, &format!("{p}.startConnected"), c.start_connected);
            set_bool(
                vmx,
                &format!("{p}.allowGuestConnectionControl"),
                c.allow_guest_control,
            );
        }
    }

    /// A disk backing, for a new disk or a changed file.
    fn write_disk(
        &mut self,
        vmx: &mut VmxFile,
        p: &str,
        adapter: &'static str,
        current_kb: Option<i64>,
    ) -> MethodResult<()> {
        let BaseVirtualDevice::VirtualDisk(d) = self.dev else {
            return Err(self.bad("device"));
        };
        let b = match &d.backing {
            Some(BaseVirtualDeviceBackingInfo::VirtualDiskFlatVer2BackingInfo(b)) => Some(b),
            None if current_kb.is_none() => None,
            None => return Ok(()),
            Some(_) => return Err(Fault::not_supported("this disk backing type")),
        };
        let given = b.map(|b| b.file_name.trim()).unwrap_or("");
        let create = matches!(
            self.file_op,
            Some(VirtualDeviceConfigSpecFileOperation::Create)
        );
        let name = match crate::state::parse_ds_path(given) {
            Some((ds, rel)) if !rel.trim().is_empty() => format!("[{ds}] {rel}"),
            Some((ds, _)) => self.new_disk_name(vmx, ds),
            None if given.is_empty() => self.new_disk_name(vmx, self.t.env.ds_name),
            None => return Err(self.bad("device.backing.fileName")),
        };
        let file = self.t.env.api_file(&name);
        let path = file
            .path
            .ok_or_else(|| Fault::file_not_found(&name))
            .and_then(|p| {
                if vm_devices::is_vmdk(&name) {
                    Ok(p)
                } else {
                    Err(self.bad("device.backing.fileName"))
                }
            })?;
        if create {
            if path.exists() || self.ops.will_create(&path) {
                return Err(Fault::file_already_exists(&name));
            }
            let kb = if d.capacity_in_kb > 0 {
                d.capacity_in_kb
            } else {
                d.capacity_in_bytes.unwrap_or(0) / 1024
            };
            if kb <= 0 {
                return Err(self.bad("device.capacityInKB"));
            }
            self.ops.creates.push(NewDisk {
                path,
                name: name.clone(),
                capacity_kb: kb,
                adapter,
                thin: b.and_then(|b| b.thin_provisioned).unwrap_or(false),
            });
        } else if !path.is_file() && !self.ops.will_create(&path) {
            return Err(Fault::file_not_found(&name));
        }
        vmx.set(&format!("{p}.fileName"), &self.t.env.vmx_file(&name));
        vmx.remove(&format!("{p}.sim.capacityKB"));
        if let Some(b) = b {
            let mode = if b.disk_mode.is_empty() {
                "persistent".to_owned()
            } else {
                b.disk_mode.clone()
            };
            const MODES: [&str; 6] = [
                "persistent",
                "nonpersistent",
                "undoable",
                "independent_persistent",
                "independent_nonpersistent",
                "append",
            ];
            if !MODES.contains(&mode.as_str()) {
                return Err(self.bad("device.backing.diskMode"));
            }
            if mode == "persistent" {
                vmx.remove(&format!("{p}.mode"));
            } else {
                vmx.set(&format!("{p}.mode"), &mode.replace('_', "-"));
            }
            match b.write_through {
                Some(true) => vmx.set(&format!("{p}.writeThrough"), "TRUE"),
                _ => {
                    vmx.remove(&format!("{p}.writeThrough"));
                }
            }
        }
        Ok(())
    }

    /// `[ds] <vm dir>/<vm>.vmdk`, or `<vm>_N.vmdk` when that is taken.
    fn new_disk_name(&self, vmx: &VmxFile, ds: &str) -> String {
        let dir = self.t.env.vm_dir;
        let used: Vec<String> = vmx
            .keys()
            .filter(|k| k.to_ascii_lowercase().ends_with(".filename"))
            .filter_map(|k| vmx.get(k))
            .map(|v| self.t.env.api_file(v).name)
            .collect();
        (0..)
            .map(|i| {
                let file = if i == 0 {
                    format!("{}.vmdk", self.t.vm_name)
                } else {
                    format!("{}_{i}.vmdk", self.t.vm_name)
                };
                if dir.is_empty() {
                    format!("[{ds}] {file}")
                } else {
                    format!("[{ds}] {dir}/{file}")
                }
            })
            .find(|n| {
                !used.contains(n)
                    && !self
                        .t
                        .env
                        .api_file(n)
                        .path
                        .is_some_and(|p| p.exists() || self.ops.will_create(&p))
            })
            .unwrap_or_default()
    }

    fn edit_disk(
        &mut self,
        vmx: &mut VmxFile,
        p: &str,
        cur: &BaseVirtualDevice,
    ) -> MethodResult<()> {
        let (BaseVirtualDevice::VirtualDisk(d), BaseVirtualDevice::VirtualDisk(now)) =
            (self.dev, cur)
        else {
            return Err(self.bad("device"));
        };
        let cur_file = match &now.backing {
            Some(BaseVirtualDeviceBackingInfo::VirtualDiskFlatVer2BackingInfo(b)) => {
                b.file_name.clone()
            }
            _ => String::new(),
        };
        let new_file = match &d.backing {
            Some(BaseVirtualDeviceBackingInfo::VirtualDiskFlatVer2BackingInfo(b)) => {
                Some(b.file_name.clone())
            }
            _ => None,
        };
        if new_file.is_some_and(|f| f != cur_file)
            || matches!(
                self.file_op,
                Some(VirtualDeviceConfigSpecFileOperation::Create)
            )
        {
            self.write_disk(vmx, p, "lsilogic", Some(now.capacity_in_kb))?;
        } else if let Some(BaseVirtualDeviceBackingInfo::VirtualDiskFlatVer2BackingInfo(b)) =
            &d.backing
        {
            // Same file: only the mode and write-through may change.
            if !b.disk_mode.is_empty() {
                if b.disk_mode == "persistent" {
                    vmx.remove(&format!("{p}.mode"));
                } else {
                    vmx.set(&format!("{p}.mode"), &b.disk_mode.replace('_', "-"));
                }
            }
        }
        let want = if d.capacity_in_kb > 0 {
            d.capacity_in_kb
        } else {
            d.capacity_in_bytes.unwrap_or(0) / 1024
        };
        if want > 0 && want != now.capacity_in_kb {
            if want < now.capacity_in_kb {
                return Err(self.bad("device.capacityInKB"));
            }
            let name = vmx.get(&format!("{p}.fileName")).unwrap_or("").to_owned();
            match self.t.env.api_file(&name).path {
                Some(path) if path.is_file() => self.ops.grows.push((path, want)),
                _ => vmx.set(&format!("{p}.sim.capacityKB"), &want.to_string()),
            }
        }
        Ok(())
    }

    fn write_cdrom(&mut self, vmx: &mut VmxFile, p: &str) -> MethodResult<()> {
        for k in ["clientDevice", "deviceType", "fileName", "autodetect"] {
            vmx.remove(&format!("{p}.{k}"));
        }
        let set = |vmx: &mut VmxFile, dt: &str, name: &str| {
            vmx.set(&format!("{p}.deviceType"), dt);
            vmx.set(&format!("{p}.fileName"), name);
        };
        let device = |name: &str, auto: Option<bool>| {
            if auto == Some(true) {
                "auto detect".to_owned()
            } else {
                name.to_owned()
            }
        };
        use BaseVirtualDeviceBackingInfo as B;
        match common(self.dev).backing {
            None => set(vmx, "cdrom-image", "emptyBackingString"),
            Some(B::VirtualCdromIsoBackingInfo(b)) if b.file_name.trim().is_empty() => {
                set(vmx, "cdrom-image", "emptyBackingString")
            }
            Some(B::VirtualCdromIsoBackingInfo(b)) => {
                let f = self.t.env.api_file(&b.file_name);
                match &f.path {
                    Some(path) if path.is_file() => {}
                    Some(_) => return Err(Fault::file_not_found(&b.file_name)),
                    None => return Err(self.bad("device.backing.fileName")),
                }
                set(vmx, "cdrom-image", &self.t.env.vmx_file(&f.name));
            }
            Some(B::VirtualCdromAtapiBackingInfo(b)) => set(
                vmx,
                "atapi-cdrom",
                &device(&b.device_name, b.use_auto_detect),
            ),
            Some(B::VirtualCdromPassthroughBackingInfo(b)) => {
                set(vmx, "cdrom-raw", &device(&b.device_name, b.use_auto_detect))
            }
            Some(B::VirtualCdromRemotePassthroughBackingInfo(_)) => {
                set(vmx, "cdrom-raw", "emptyBackingString");
                vmx.set(&format!("{p}.clientDevice"), "TRUE");
            }
            Some(B::VirtualCdromRemoteAtapiBackingInfo(_)) => {
                set(vmx, "atapi-cdrom", "emptyBackingString");
                vmx.set(&format!("{p}.clientDevice"), "TRUE");
            }
            Some(_) => return Err(self.bad("device.backing")),
        }
        Ok(())
    }

    /// Floppy, serial and parallel backings.
    fn write_port(&mut self, vmx: &mut VmxFile, p: &str, fam: Family) -> MethodResult<()> {
        for k in [
            "clientDevice",
            "fileType",
            "fileName",
            "pipe.endPoint",
            "tryNoRxLoss",
            "network.endPoint",
            "vspc",
        ] {
            vmx.remove(&format!("{p}.{k}"));
        }
        let set = |vmx: &mut VmxFile, ty: &str, name: &str| {
            vmx.set(&format!("{p}.fileType"), ty);
            vmx.set(&format!("{p}.fileName"), name);
        };
        use BaseVirtualDeviceBackingInfo as B;
        let Some(backing) = common(self.dev).backing else {
            return Err(self.bad("device.backing"));
        };
        if let BaseVirtualDevice::VirtualSerialPort(s) = self.dev {
            set_bool(vmx, &format!("{p}.yieldOnMsrRead"), s.yield_on_poll);
        }

        let file_name = match (fam, backing) {
            (Family::Floppy, B::VirtualFloppyImageBackingInfo(b)) => Some(b.file_name.as_str()),
            (Family::Serial, B::VirtualSerialPortFileBackingInfo(b)) => Some(b.file_name.as_str()),
            (Family::Parallel, B::VirtualParallelPortFileBackingInfo(b)) => {
                Some(b.file_name.as_str())
            }
            _ => None,
        };
        if let Some(name) = file_name {
            let f = self.t.env.api_file(name);
            let path = f.path.ok_or_else(|| self.bad("device.backing.fileName"))?;
            // A floppy image must exist; port output files are made by the VM.
            if fam == Family::Floppy && !path.is_file() {
                return Err(Fault::file_not_found(name));
            }
            set(vmx, "file", &self.t.env.vmx_file(&f.name));
            return Ok(());
        }
        match (fam, backing) {
            (Family::Floppy, B::VirtualFloppyDeviceBackingInfo(b)) => {
                set(vmx, "device", &b.device_name)
            }
            (Family::Floppy, B::VirtualFloppyRemoteDeviceBackingInfo(_)) => {
                set(vmx, "device", "");
                vmx.set(&format!("{p}.clientDevice"), "TRUE");
            }
            (Family::Serial, B::VirtualSerialPortDeviceBackingInfo(b)) => {
                set(vmx, "device", &b.device_name)
            }
            (Family::Serial, B::VirtualSerialPortPipeBackingInfo(b)) => {
                set(vmx, "pipe", &b.pipe_name);
                let end = if b.endpoint == "server" {
                    "server"
                } else {
                    "client"
                };
                vmx.set(&format!("{p}.pipe.endPoint"), end);
                set_bool(vmx, &format!("{p}.tryNoRxLoss"), b.no_rx_loss == Some(true));
            }
            (Family::Serial, B::VirtualSerialPortURIBackingInfo(b)) => {
                set(vmx, "network", &b.service_uri);
                let end = if b.direction == "client" {
                    "client"
                } else {
                    "server"
                };
                vmx.set(&format!("{p}.network.endPoint"), end);
                if let Some(proxy) = &b.proxy_uri {
                    vmx.set(&format!("{p}.vspc"), proxy);
                }
            }
            (Family::Parallel, B::VirtualParallelPortDeviceBackingInfo(b)) => {
                set(vmx, "device", &b.device_name)
            }
            _ => return Err(self.bad("device.backing")),
        }
        Ok(())
    }

    /// A NIC's backing, address and connection (`new`: a NIC being added).
    fn write_nic(&mut self, vmx: &mut VmxFile, p: &str, n: i32, new: bool) -> MethodResult<()> {
        use BaseVirtualDeviceBackingInfo as B;
        let dvs = [
            "dvs.switchId",
            "dvs.portgroupId",
            "dvs.portId",
            "dvs.connectionId",
        ];
        match common(self.dev).backing {
            Some(B::VirtualEthernetCardNetworkBackingInfo(b)) => {
                let name = match &b.network {
                    Some(r) => (self.t.network_name)(r)
                        .ok_or_else(|| self.bad("device.backing.network"))?,
                    None if !b.device_name.is_empty() => b.device_name.clone(),
                    None => return Err(self.bad("device.backing.deviceName")),
                };
                for k in dvs {
                    vmx.remove(&format!("{p}.{k}"));
                }
                vmx.set(&format!("{p}.networkName"), &name);
            }
            Some(B::VirtualEthernetCardDistributedVirtualPortBackingInfo(b)) => {
                if b.port.switch_uuid.is_empty() {
                    return Err(self.bad("device.backing.port.switchUuid"));
                }
                vmx.remove(&format!("{p}.networkName"));
                vmx.set(&format!("{p}.dvs.switchId"), &b.port.switch_uuid);
                let opt = |vmx: &mut VmxFile, k: &str, v: Option<String>| match v {
                    Some(v) => vmx.set(&format!("{p}.{k}"), &v),
                    None => {
                        vmx.remove(&format!("{p}.{k}"));
                    }
                };
                opt(vmx, "dvs.portgroupId", b.port.portgroup_key.clone());
                opt(vmx, "dvs.portId", b.port.port_key.clone());
                opt(
                    vmx,
                    "dvs.connectionId",
                    b.port.connection_cookie.map(|c| c.to_string()),
                );
            }
            None if new => return Err(self.bad("device.backing")),
            None => {}
            Some(_) => return Err(self.bad("device.backing")),
        }
        let (address_type, mac, wol) = nic_fields(self.dev).unwrap_or((None, None, None));
        let valid_mac = |m: &str| {
            let parts: Vec<&str> = m.split(':').collect();
            parts.len() == 6
                && parts
                    .iter()
                    .all(|x| x.len() == 2 && x.chars().all(|c| c.is_ascii_hexdigit()))
        };
        let kind = address_type.map(str::to_ascii_lowercase);
        match kind.as_deref() {
            Some("manual") => {
                let m = mac
                    .filter(|m| valid_mac(m))
                    .ok_or_else(|| self.bad("device.macAddress"))?;
                vmx.set(&format!("{p}.addressType"), "static");
                vmx.set(&format!("{p}.address"), &m.to_ascii_lowercase());
                vmx.remove(&format!("{p}.generatedAddress"));
                vmx.remove(&format!("{p}.generatedAddressOffset"));
            }
            Some("assigned") => {
                let m = match mac {
                    Some(m) if valid_mac(m) => m.to_ascii_lowercase(),
                    Some(_) => return Err(self.bad("device.macAddress")),
                    None => self.generated_mac("00:50:56", n),
                };
                vmx.set(&format!("{p}.addressType"), "vpx");
                vmx.set(&format!("{p}.generatedAddress"), &m);
                vmx.remove(&format!("{p}.address"));
            }
            Some("generated") | None if new || kind.is_some() => {
                let keep = vmx
                    .get(&format!("{p}.addressType"))
                    .is_some_and(|t| t.eq_ignore_ascii_case("generated"))
                    && vmx.contains_key(&format!("{p}.generatedAddress"));
                if !keep {
                    vmx.set(&format!("{p}.addressType"), "generated");
                    vmx.set(
                        &format!("{p}.generatedAddress"),
                        &self.generated_mac("00:0c:29", n),
                    );
                    vmx.set(&format!("{p}.generatedAddressOffset"), "0");
                    vmx.remove(&format!("{p}.address"));
                }
            }
            None => {}
            Some(_) => return Err(self.bad("device.addressType")),
        }
        if let Some(w) = wol {
            set_bool(vmx, &format!("{p}.wakeOnPcktRcv"), w);
        }
        self.write_connectable(vmx, p);
        Ok(())
    }

    fn generated_mac(&self, oui: &str, n: i32) -> String {
        let b = crate::mo::virtual_machine::seed_bytes(&format!("mac:{}:{n}", self.t.seed));
        // vCenter's range (00:50:56) keeps the fourth byte's top bits at 10.
        let first = if oui == "00:50:56" {
            0x80 | (b[0] & 0x3f)
        } else {
            b[0]
        };
        format!("{oui}:{first:02x}:{:02x}:{:02x}", b[1], b[2])
    }
}

/// The first `wordN` (N < max) that is not present.
fn first_free(vmx: &VmxFile, word: &str, max: i32) -> Option<i32> {
    (0..max).find(|n| !vm_devices::truthy(vmx, &format!("{word}{n}.present")))
}

fn controller_bus(d: &BaseVirtualDevice) -> i32 {
    match d {
        BaseVirtualDevice::VirtualLsiLogicController(c) => c.bus_number,
        BaseVirtualDevice::VirtualBusLogicController(c) => c.bus_number,
        BaseVirtualDevice::VirtualLsiLogicSASController(c) => c.bus_number,
        BaseVirtualDevice::ParaVirtualSCSIController(c) => c.bus_number,
        BaseVirtualDevice::VirtualSCSIController(c) => c.bus_number,
        BaseVirtualDevice::VirtualAHCIController(c) => c.bus_number,
        BaseVirtualDevice::VirtualSATAController(c) => c.bus_number,
        _ => -1,
    }
}

fn write_sharing(vmx: &mut VmxFile, p: &str, d: &BaseVirtualDevice) {
    let sharing = match d {
        BaseVirtualDevice::VirtualLsiLogicController(c) => &c.shared_bus,
        BaseVirtualDevice::VirtualBusLogicController(c) => &c.shared_bus,
        BaseVirtualDevice::VirtualLsiLogicSASController(c) => &c.shared_bus,
        BaseVirtualDevice::ParaVirtualSCSIController(c) => &c.shared_bus,
        BaseVirtualDevice::VirtualSCSIController(c) => &c.shared_bus,
        _ => return,
    };
    match sharing {
        VirtualSCSISharing::VirtualSharing => vmx.set(&format!("{p}.sharedBus"), "virtual"),
        VirtualSCSISharing::PhysicalSharing => vmx.set(&format!("{p}.sharedBus"), "physical"),
        _ => {
            vmx.remove(&format!("{p}.sharedBus"));
        }
    }
}

/// Applies `spec` to the VM `r`, all or nothing (see the module documentation); the caller
/// re-derives the VM's model afterwards.
pub fn reconfigure(
    state: &mut State,
    r: &MoRef,
    spec: &VirtualMachineConfigSpec,
) -> MethodResult<()> {
    if state.vm(r)?.files_pending() {
        state.vm_mut(r)?.save()?;
    }
    let nets = crate::inventory::network_lookup(state);
    let vm = state.vm(r)?;
    let mut vmx = vm.vmx().into_owned();
    let network = |n: &str| nets.iter().find(|(x, _)| x == n).map(|(_, r)| r.clone());
    let network_name = |m: &MoRef| nets.iter().find(|(_, x)| x == m).map(|(n, _)| n.clone());
    let datastore = |n: &str| {
        let r = state.datastore_by_name(n)?;
        let d = state.datastore_dir(&r)?;
        Some((r, d))
    };
    let ds_dir = state.datastore_dir(&vm.datastore);
    let t = Target {
        env: Env {
            ds_name: &vm.datastore_name,
            ds: &vm.datastore,
            vm_dir: vm.vm_dir(),
            powered_on: vm.runtime.power_state == VirtualMachinePowerState::PoweredOn,
            network: &network,
            datastore: &datastore,
            ds_dir: ds_dir.as_deref(),
        },
        vm_name: &vm.name,
        power: vm.runtime.power_state.clone(),
        network_name: &network_name,
        seed: &vm.vmx_rel,
    };
    let mut ops = apply(&mut vmx, spec, &t)?;
    ops.check_space(state)?;
    ops.apply()?;
    let vm = state.vm_mut(r)?;
    let before = vm.vmx_parsed.replace(vmx);
    if let Err(f) = vm.save() {
        vm.vmx_parsed = before;
        ops.undo();
        return Err(f);
    }
    ops.destroy();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guest_ids_to_vmx() {
        assert_eq!(vmx_guest_os("otherGuest64"), "other-64");
        assert_eq!(vmx_guest_os("other64Guest"), "other-64");
        assert_eq!(vmx_guest_os("otherGuest"), "other");
        assert_eq!(vmx_guest_os("rhel7_64Guest"), "rhel7-64");
        assert_eq!(vmx_guest_os("ubuntu64Guest"), "ubuntu-64");
        assert_eq!(vmx_guest_os("windows9Guest"), "windows9");
    }
}
