//! Disks, CD-ROMs, floppies and their SCSI/SATA controllers (`scsiN*`, `sataN*`, `ideB:U*`,
//! `floppyU*`).

use esx_domain::postparse::{drive_address_for_target, index_to_disk_name};
use esx_domain::{
    Address, Controller, Disk, DiskDriver, DiskSource, DiskTarget, Domain, DriveAddress,
};

use super::{has_case_suffix, unsupported, ConvertError, Out, ParseContext, Result};
use crate::VmxFile;

/// SCSI controller models VMX knows, as (VMX `virtualDev`, libvirt model).
const SCSI_MODELS: [(&str, &str); 4] = [
    ("buslogic", "buslogic"),
    ("lsilogic", "lsilogic"),
    ("lsisas1068", "lsisas1068"),
    ("pvscsi", "vmpvscsi"),
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Bus {
    Scsi,
    Sata,
    Ide,
    Fdc,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Disk,
    Cdrom,
    Floppy,
}

/// `scsiN.present` / `scsiN.virtualDev`: whether present, and the libvirt model.
fn parse_scsi_controller(vmx: &VmxFile, n: u32) -> Result<(bool, Option<String>)> {
    let present = vmx.get_bool(&format!("scsi{n}.present"))?.unwrap_or(false);
    if !present {
        return Ok((false, None));
    }
    let key = format!("scsi{n}.virtualDev");
    let Some(dev) = vmx.get(&key) else {
        return Ok((true, None));
    };
    let lower = dev.to_ascii_lowercase();
    match SCSI_MODELS.iter().find(|(v, _)| *v == lower) {
        Some((_, model)) => Ok((true, Some((*model).to_string()))),
        None => unsupported(format!(
            "Expecting VMX entry '{key}' to be 'buslogic' or 'lsilogic' or 'lsisas1068' or 'pvscsi' but found '{dev}'"
        )),
    }
}

/// Where a VMX device slot lands in the domain: its target name and drive address.
///
/// The target names are libvirt's: SCSI `sd` + (controller * 15 + unit, unit 7 skipped),
/// SATA `sd` + (controller * 30 + unit), IDE `hd` + (bus * 2 + unit), floppy `fd` + unit.
/// libvirt then derives the address back from the target name, which puts some disks
/// somewhere else than the VMX file does; we keep them where they are (docs/COMPATIBILITY.md):
///
/// * virtualHW 13 and later have 64 SCSI units per controller. libvirt still numbers the
///   targets in steps of 15 but derives addresses in steps of 63, so `scsi1:0` becomes
///   `sdp` on controller 0, unit 16. We number targets in steps of 63 (as later libvirt
///   releases do), which changes nothing on controller 0.
/// * libvirt derives SATA addresses with 6 units per controller (`sata0:7` on controller 1,
///   unit 1); we keep the VMX controller and unit.
fn slot(bus: Bus, controller: u32, unit: u32, scsi_max_unit: u32) -> (String, DriveAddress) {
    let at = |controller: u32, bus: u32, unit: u32| DriveAddress {
        controller,
        bus,
        target: 0,
        unit,
    };
    match bus {
        Bus::Scsi => {
            let per_controller = if scsi_max_unit > 16 {
                scsi_max_unit - 1
            } else {
                15
            };
            let idx = controller * per_controller + if unit < 7 { unit } else { unit - 1 };
            (index_to_disk_name(idx, "sd"), at(controller, 0, unit))
        }
        Bus::Sata => (
            index_to_disk_name(controller * 30 + unit, "sd"),
            at(controller, 0, unit),
        ),
        Bus::Ide => (
            index_to_disk_name(controller * 2 + unit, "hd"),
            at(0, controller, unit),
        ),
        Bus::Fdc => (index_to_disk_name(unit, "fd"), at(0, 0, unit)),
    }
}

/// Read every disk in libvirt's order and add the SCSI/SATA controllers.
pub(super) fn parse(
    vmx: &VmxFile,
    ctx: &ParseContext<'_>,
    hw: i64,
    def: &mut Domain,
) -> Result<()> {
    let scsi_max_unit: u32 = if hw >= 13 { 64 } else { 16 };
    let mut scsi_models: [Option<String>; 4] = Default::default();
    for controller in 0..4u32 {
        let (present, model) = parse_scsi_controller(vmx, controller)?;
        if let Some(slot) = scsi_models.get_mut(controller as usize) {
            *slot = model;
        }
        if !present {
            continue;
        }
        for unit in 0..scsi_max_unit {
            if unit == 7 {
                continue;
            }
            parse_slot(vmx, ctx, Bus::Scsi, controller, unit, scsi_max_unit, def)?;
        }
    }
    if let Some(last) = def.devices.disks.last() {
        if let Some(Address::Drive(a)) = &last.address {
            for index in 0..=a.controller {
                def.devices.controllers.push(Controller {
                    controller_type: "scsi".into(),
                    index,
                    model: scsi_models.get(index as usize).cloned().flatten(),
                    ..Controller::default()
                });
            }
        }
    }

    let before_sata = def.devices.disks.len();
    for controller in 0..4u32 {
        if !vmx
            .get_bool(&format!("sata{controller}.present"))?
            .unwrap_or(false)
        {
            continue;
        }
        for unit in 0..30u32 {
            parse_slot(vmx, ctx, Bus::Sata, controller, unit, scsi_max_unit, def)?;
        }
    }
    if def.devices.disks.len() > before_sata {
        if let Some(Address::Drive(a)) = def.devices.disks.last().and_then(|d| d.address.as_ref()) {
            for index in 0..=a.controller {
                def.devices.controllers.push(Controller {
                    controller_type: "sata".into(),
                    index,
                    ..Controller::default()
                });
            }
        }
    }

    for bus in 0..2u32 {
        for unit in 0..2u32 {
            parse_slot(vmx, ctx, Bus::Ide, bus, unit, scsi_max_unit, def)?;
        }
    }
    for unit in 0..2u32 {
        if let Some(d) = parse_disk(vmx, ctx, Kind::Floppy, Bus::Fdc, 0, unit, scsi_max_unit)? {
            def.devices.disks.push(d);
        }
    }
    Ok(())
}

/// One slot: the hard-disk interpretation first, then the CD-ROM one.
fn parse_slot(
    vmx: &VmxFile,
    ctx: &ParseContext<'_>,
    bus: Bus,
    controller: u32,
    unit: u32,
    scsi_max_unit: u32,
    def: &mut Domain,
) -> Result<()> {
    if let Some(d) = parse_disk(vmx, ctx, Kind::Disk, bus, controller, unit, scsi_max_unit)? {
        def.devices.disks.push(d);
    } else if let Some(d) = parse_disk(vmx, ctx, Kind::Cdrom, bus, controller, unit, scsi_max_unit)?
    {
        def.devices.disks.push(d);
    }
    Ok(())
}

fn eq_ci(a: Option<&str>, b: &str) -> bool {
    a.is_some_and(|a| a.eq_ignore_ascii_case(b))
}

/// libvirt's `virVMXParseDisk`: `Ok(None)` when the slot is empty or belongs to the other
/// interpretation. Entries are read (and must be valid) in libvirt's order: `present` and
/// `startConnected` always; `deviceType`, `clientDevice` and `mode` once present; the rest
/// only when the device is not a client device.
fn parse_disk(
    vmx: &VmxFile,
    ctx: &ParseContext<'_>,
    kind: Kind,
    bus: Bus,
    controller: u32,
    unit: u32,
    scsi_max_unit: u32,
) -> Result<Option<Disk>> {
    let prefix = match bus {
        Bus::Scsi => format!("scsi{controller}:{unit}"),
        Bus::Sata => format!("sata{controller}:{unit}"),
        Bus::Ide => format!("ide{controller}:{unit}"),
        Bus::Fdc => format!("floppy{unit}"),
    };
    let bus_name = match bus {
        Bus::Scsi => "scsi",
        Bus::Sata => "sata",
        Bus::Ide => "ide",
        Bus::Fdc => "fdc",
    };
    let (dev, address) = slot(bus, controller, unit, scsi_max_unit);
    let key = |s: &str| format!("{prefix}.{s}");
    let present = vmx.get_bool(&key("present"))?.unwrap_or(false);
    let _start_connected = vmx.get_bool(&key("startConnected"))?;
    if !present {
        return Ok(None);
    }
    let device_type_key = key("deviceType");
    let device_type = vmx.get(&device_type_key);
    let client_device = vmx.get_bool(&key("clientDevice"))?.unwrap_or(false);
    let mode = vmx.get(&key("mode"));
    if client_device {
        return Ok(None);
    }
    let file_type_key = key("fileType");
    let file_type = vmx.get(&file_type_key);
    let file_name_key = key("fileName");
    let file_name = vmx.get(&file_name_key);
    let write_through = vmx.get_bool(&key("writeThrough"))?.unwrap_or(false);

    let mut disk = Disk {
        target: DiskTarget {
            dev,
            bus: Some(bus_name.into()),
            ..DiskTarget::default()
        },
        address: Some(Address::Drive(address)),
        ..Disk::default()
    };
    let invalid = || {
        ConvertError::Unsupported(format!(
            "Invalid or not yet handled value '{}' for VMX entry '{}' for device type '{}'",
            file_name.unwrap_or("(null)"),
            file_name_key,
            device_type.unwrap_or("unknown")
        ))
    };

    match kind {
        Kind::Disk => {
            let Some(name) = file_name else {
                return Ok(None);
            };
            if has_case_suffix(name, ".iso")
                || name == "emptyBackingString"
                || eq_ci(device_type, "atapi-cdrom")
                || eq_ci(device_type, "cdrom-raw")
                || eq_ci(device_type, "cdrom-image")
                || (eq_ci(device_type, "scsi-passthru") && name.starts_with("/vmfs/devices/cdrom/"))
            {
                return Ok(None);
            }
            if !has_case_suffix(name, ".vmdk") {
                return Err(invalid());
            }
            if let Some(dt) = device_type {
                let ok = match bus {
                    Bus::Scsi => {
                        dt.eq_ignore_ascii_case("scsi-hardDisk") || dt.eq_ignore_ascii_case("disk")
                    }
                    Bus::Ide => {
                        dt.eq_ignore_ascii_case("ata-hardDisk") || dt.eq_ignore_ascii_case("disk")
                    }
                    _ => true,
                };
                if !ok {
                    let expected = if bus == Bus::Scsi {
                        "scsi-hardDisk"
                    } else {
                        "ata-hardDisk"
                    };
                    return unsupported(format!(
                        "Expecting VMX entry '{device_type_key}' to be '{expected}' or 'disk' but found '{dt}'"
                    ));
                }
            }
            disk.disk_type = "file".into();
            disk.device = "disk".into();
            let src = ctx.resolver.parse_file_name(name, false)?;
            disk.source = Some(DiskSource {
                path: src,
                ..DiskSource::default()
            });
            if write_through {
                disk.driver = Some(DiskDriver {
                    cache: Some("writethrough".into()),
                    ..DiskDriver::default()
                });
            }
            if eq_ci(mode, "independent-nonpersistent") {
                disk.transient = true;
            }
        }
        Kind::Cdrom => {
            disk.device = "cdrom".into();
            disk.readonly = true;
            let name = file_name;
            if name.is_some_and(|n| has_case_suffix(n, ".vmdk")) {
                return Ok(None);
            }
            let block_source = |n: Option<&str>| -> DiskSource {
                if n.is_some_and(|n| n.eq_ignore_ascii_case("auto detect")) {
                    DiskSource {
                        startup_policy: Some("optional".into()),
                        ..DiskSource::default()
                    }
                } else {
                    DiskSource {
                        path: n.map(str::to_string),
                        ..DiskSource::default()
                    }
                }
            };
            if let Some(n) = name.filter(|n| has_case_suffix(n, ".iso")) {
                if let Some(dt) = device_type.filter(|d| !d.eq_ignore_ascii_case("cdrom-image")) {
                    return unsupported(format!(
                        "Expecting VMX entry '{device_type_key}' to be 'cdrom-image' but found '{dt}'"
                    ));
                }
                disk.disk_type = "file".into();
                if let Some(src) = ctx.resolver.parse_file_name(n, true)? {
                    disk.source = Some(DiskSource {
                        path: Some(src),
                        ..DiskSource::default()
                    });
                }
            } else if eq_ci(device_type, "atapi-cdrom") {
                disk.disk_type = "block".into();
                disk.source = Some(block_source(name));
            } else if eq_ci(device_type, "cdrom-raw") {
                disk.disk_type = "block".into();
                disk.device = "lun".into();
                disk.source = Some(block_source(name));
            } else if bus == Bus::Scsi && eq_ci(device_type, "scsi-passthru") {
                // Only a CD-ROM pass-through is a CD-ROM; any other is left alone.
                let Some(n) = name.filter(|n| n.starts_with("/vmfs/devices/cdrom/")) else {
                    return Ok(None);
                };
                disk.disk_type = "block".into();
                disk.device = "lun".into();
                disk.source = Some(DiskSource {
                    path: Some(n.to_string()),
                    ..DiskSource::default()
                });
            } else if matches!(name, Some("") | Some("emptyBackingString")) {
                if let Some(dt) = device_type.filter(|d| !d.eq_ignore_ascii_case("cdrom-image")) {
                    return unsupported(format!(
                        "Expecting VMX entry '{device_type_key}' to be 'cdrom-image' but found '{dt}'"
                    ));
                }
                disk.disk_type = "file".into();
            } else {
                return Err(invalid());
            }
        }
        Kind::Floppy => {
            disk.device = "floppy".into();
            if eq_ci(file_type, "device") {
                disk.disk_type = "block".into();
                disk.source = Some(DiskSource {
                    path: file_name.map(str::to_string),
                    ..DiskSource::default()
                });
            } else if eq_ci(file_type, "file") {
                disk.disk_type = "file".into();
                let src = match file_name {
                    Some(n) => ctx.resolver.parse_file_name(n, false)?,
                    None => None,
                };
                disk.source = Some(DiskSource {
                    path: src,
                    ..DiskSource::default()
                });
            } else {
                return unsupported(format!(
                    "Invalid or not yet handled value '{}' for VMX entry '{}' for device type '{}'",
                    file_type.unwrap_or("(null)"),
                    file_type_key,
                    "floppy"
                ));
            }
        }
    }
    Ok(Some(disk))
}

fn bus_of(disk: &Disk) -> &str {
    disk.target.bus.as_deref().unwrap_or("")
}

/// libvirt's `virVMXVerifyDiskAddress`.
fn verify_address(disk: &Disk) -> Result<()> {
    let drive = match &disk.address {
        Some(Address::Drive(d)) => *d,
        Some(Address::Other { kind, .. }) => {
            return unsupported(format!("Unsupported disk address type '{kind}'"))
        }
        None => return unsupported("Missing disk address"),
    };
    let bus = bus_of(disk);
    let Some(expected) = drive_address_for_target(&disk.target.dev, bus) else {
        return unsupported(format!("Unsupported bus type '{bus}'"));
    };
    if drive.controller != expected.controller
        || drive.bus != expected.bus
        || drive.unit != expected.unit
    {
        return unsupported(format!(
            "Disk address {}:{}:{} doesn't match target device '{}'",
            drive.controller, drive.bus, drive.unit, disk.target.dev
        ));
    }
    if drive.target != 0 {
        return unsupported(format!(
            "Disk address {}:{}:{}:{} doesn't match target device '{}'",
            drive.controller, drive.bus, drive.target, drive.unit, disk.target.dev
        ));
    }
    match bus {
        "scsi" => {
            if drive.controller > 3 {
                return unsupported(format!(
                    "SCSI controller index {} out of [0..3] range",
                    drive.controller
                ));
            }
            if drive.bus != 0 {
                return unsupported(format!("SCSI bus index {} out of [0] range", drive.bus));
            }
            if drive.unit > 15 || drive.unit == 7 {
                return unsupported(format!(
                    "SCSI unit index {} out of [0..6,8..15] range",
                    drive.unit
                ));
            }
        }
        "ide" => {
            if drive.controller != 0 {
                return unsupported(format!(
                    "IDE controller index {} out of [0] range",
                    drive.controller
                ));
            }
            if drive.bus > 1 {
                return unsupported(format!("IDE bus index {} out of [0..1] range", drive.bus));
            }
            if drive.unit > 1 {
                return unsupported(format!("IDE unit index {} out of [0..1] range", drive.unit));
            }
        }
        "fdc" => {
            if drive.controller != 0 {
                return unsupported(format!(
                    "FDC controller index {} out of [0] range",
                    drive.controller
                ));
            }
            if drive.bus != 0 {
                return unsupported(format!("FDC bus index {} out of [0] range", drive.bus));
            }
            if drive.unit > 1 {
                return unsupported(format!("FDC unit index {} out of [0..1] range", drive.unit));
            }
        }
        other => return unsupported(format!("Unsupported bus type '{other}'")),
    }
    Ok(())
}

fn drive(disk: &Disk) -> esx_domain::DriveAddress {
    match &disk.address {
        Some(Address::Drive(d)) => *d,
        _ => esx_domain::DriveAddress::default(),
    }
}

fn vmx_model(model: &str) -> Option<&'static str> {
    SCSI_MODELS
        .iter()
        .find(|(_, m)| *m == model)
        .map(|(v, _)| *v)
}

/// The SCSI controllers' presence and VMX `virtualDev`, after the legacy disk driver names
/// and autodetection.
fn gather_scsi(
    def: &Domain,
    ctx: &super::FormatContext<'_>,
) -> Result<[(bool, Option<String>); 4]> {
    let mut models: Vec<Controller> = def
        .devices
        .controllers
        .iter()
        .filter(|c| c.controller_type == "scsi")
        .cloned()
        .collect();
    // Legacy <driver name='lsilogic'/> on SCSI disks.
    for disk in &def.devices.disks {
        if bus_of(disk) != "scsi" {
            continue;
        }
        let Some(name) = disk.driver.as_ref().and_then(|d| d.name.as_deref()) else {
            continue;
        };
        let lower = name.to_ascii_lowercase();
        if vmx_model(&lower).is_none() {
            return unsupported(format!("Unknown driver name '{name}'"));
        }
        let index = drive(disk).controller;
        let Some(c) = models.iter_mut().find(|c| c.index == index) else {
            return unsupported(format!("Missing SCSI controller for index {index}"));
        };
        match c.model.as_deref() {
            None | Some("default") => c.model = Some(lower),
            Some(m) if m == lower => {}
            Some(m) => {
                return unsupported(format!(
                    "Inconsistent SCSI controller model ('{lower}' is not '{m}') for SCSI controller index {index}"
                ))
            }
        }
    }
    let mut out: [(bool, Option<String>); 4] = Default::default();
    for c in &models {
        // Controllers without disks are left out.
        let attached: Vec<&Disk> = def
            .devices
            .disks
            .iter()
            .filter(|d| bus_of(d) == "scsi" && drive(d).controller == c.index)
            .collect();
        if attached.is_empty() {
            continue;
        }
        let Some(slot) = out.get_mut(c.index as usize) else {
            return unsupported(format!(
                "SCSI controller index {} out of [0..3] range",
                c.index
            ));
        };
        slot.0 = true;
        let model = match c.model.as_deref() {
            None | Some("default") => None,
            Some("auto") => {
                // Every disk is asked; one that cannot tell leaves the model 'auto', which
                // is then refused, as in libvirt.
                let mut found: Option<Option<String>> = None;
                for disk in attached {
                    let m = ctx.resolver.autodetect_scsi_controller_model(disk)?;
                    match &found {
                        None => found = Some(m),
                        Some(f) if *f == m => {}
                        Some(_) => {
                            return unsupported(format!(
                                "Disks on SCSI controller {} have inconsistent controller models, cannot autodetect model",
                                c.index
                            ))
                        }
                    }
                }
                Some(found.flatten().unwrap_or_else(|| "auto".into()))
            }
            Some(m) => Some(m.to_string()),
        };
        if let Some(m) = model {
            match vmx_model(&m) {
                Some(v) => slot.1 = Some(v.to_string()),
                None => {
                    return unsupported(format!(
                        "Expecting domain XML attribute 'model' of entry 'controller' to be 'buslogic' or 'lsilogic' or 'lsisas1068' or 'vmpvscsi' but found '{m}'"
                    ))
                }
            }
        }
    }
    Ok(out)
}

/// Write the SCSI controller lines, every disk, and the absent floppies; returns whether a
/// SCSI controller was written.
pub(super) fn format(def: &Domain, ctx: &super::FormatContext<'_>, out: &mut Out) -> Result<bool> {
    for disk in &def.devices.disks {
        verify_address(disk)?;
    }
    let scsi = gather_scsi(def, ctx)?;
    for (i, (present, model)) in scsi.iter().enumerate() {
        if *present {
            out.put(&format!("scsi{i}.present"), "true");
            if let Some(m) = model {
                out.put(&format!("scsi{i}.virtualDev"), m);
            }
        }
    }
    let mut floppy_present = [false; 2];
    for disk in &def.devices.disks {
        match disk.device.as_str() {
            "disk" | "cdrom" | "lun" => format_disk(disk, ctx, out)?,
            "floppy" => format_floppy(disk, ctx, out, &mut floppy_present)?,
            other => return unsupported(format!("Unsupported disk device type '{other}'")),
        }
    }
    for (i, present) in floppy_present.iter().enumerate() {
        if !present {
            out.put(&format!("floppy{i}.present"), "false");
        }
    }
    Ok(scsi.iter().any(|(present, _)| *present))
}

fn source_path(disk: &Disk) -> Option<&str> {
    disk.source.as_ref().and_then(|s| s.path.as_deref())
}

fn format_disk(disk: &Disk, ctx: &super::FormatContext<'_>, out: &mut Out) -> Result<()> {
    let d = drive(disk);
    let (prefix, bus_name, type_prefix) = match bus_of(disk) {
        "scsi" => (format!("scsi{}:{}", d.controller, d.unit), "SCSI", "scsi"),
        "ide" => (format!("ide{}:{}", d.bus, d.unit), "IDE", "ata"),
        other => {
            return unsupported(format!(
                "Unsupported bus type '{other}' for device type '{}'",
                disk.device
            ))
        }
    };
    let src = source_path(disk);
    if !matches!(disk.disk_type.as_str(), "file" | "block") {
        return unsupported(format!(
            "{bus_name} {} '{}' has unsupported type '{}', expecting 'file' or 'block'",
            disk.device, disk.target.dev, disk.disk_type
        ));
    }
    let device_type = match (disk.device.as_str(), disk.disk_type.as_str()) {
        ("disk", "file") => format!("{type_prefix}-hardDisk"),
        ("cdrom", "file") => "cdrom-image".into(),
        ("cdrom", "block") => "atapi-cdrom".into(),
        ("lun", _) => {
            if bus_name == "SCSI" && src.is_some_and(|s| s.starts_with("/vmfs/devices/cdrom/")) {
                "scsi-passthru".into()
            } else {
                "cdrom-raw".into()
            }
        }
        (dev, ty) => {
            return unsupported(format!(
                "{bus_name} {dev} '{}' has unsupported type '{ty}', expecting 'file' or 'block'",
                disk.target.dev
            ))
        }
    };
    out.put(&format!("{prefix}.present"), "true");
    out.put(&format!("{prefix}.deviceType"), &device_type);
    let kind_name = if disk.device == "disk" {
        "harddisk"
    } else {
        "cdrom"
    };
    if disk.disk_type == "file" {
        match src {
            Some(path) => {
                let suffix = if disk.device == "disk" {
                    ".vmdk"
                } else {
                    ".iso"
                };
                if !has_case_suffix(path, suffix) {
                    return unsupported(format!(
                        "Image file for {bus_name} {kind_name} '{}' has unsupported suffix, expecting '{suffix}'",
                        disk.target.dev
                    ));
                }
                let name = ctx.resolver.format_file_name(path)?;
                out.put(&format!("{prefix}.fileName"), name);
            }
            None if disk.device == "cdrom" => {
                out.put(&format!("{prefix}.fileName"), "emptyBackingString");
            }
            None => {
                return unsupported(format!(
                    "{bus_name} {kind_name} '{}' has no source file",
                    disk.target.dev
                ))
            }
        }
    } else if disk.disk_type == "block" {
        let optional = disk
            .source
            .as_ref()
            .and_then(|s| s.startup_policy.as_deref())
            == Some("optional");
        match src {
            None if optional => {
                out.put(&format!("{prefix}.autodetect"), "true");
                out.put(&format!("{prefix}.fileName"), "auto detect");
            }
            // libvirt writes "(null)" as the file name here; we write none.
            None => {}
            Some(path) => out.put(&format!("{prefix}.fileName"), path),
        }
    }
    if bus_name == "SCSI" {
        match disk.driver.as_ref().and_then(|d| d.cache.as_deref()) {
            None | Some("default") => {}
            Some("writethrough") => out.put(&format!("{prefix}.writeThrough"), "true"),
            Some(other) => {
                return unsupported(format!(
                    "{bus_name} harddisk '{}' has unsupported cache mode '{other}'",
                    disk.target.dev
                ))
            }
        }
    }
    if disk.transient {
        out.put(&format!("{prefix}.mode"), "independent-nonpersistent");
    }
    Ok(())
}

fn format_floppy(
    disk: &Disk,
    ctx: &super::FormatContext<'_>,
    out: &mut Out,
    present: &mut [bool; 2],
) -> Result<()> {
    let unit = drive(disk).unit;
    if let Some(p) = present.get_mut(unit as usize) {
        *p = true;
    }
    let prefix = format!("floppy{unit}");
    out.put(&format!("{prefix}.present"), "true");
    match disk.disk_type.as_str() {
        "file" => {
            out.put(&format!("{prefix}.fileType"), "file");
            if let Some(path) = source_path(disk) {
                let name = ctx.resolver.format_file_name(path)?;
                out.put(&format!("{prefix}.fileName"), name);
            }
        }
        "block" => {
            out.put(&format!("{prefix}.fileType"), "device");
            if let Some(path) = source_path(disk) {
                out.put(&format!("{prefix}.fileName"), path);
            }
        }
        other => {
            return unsupported(format!(
                "Floppy '{}' has unsupported type '{other}', expecting 'file' or 'block'",
                disk.target.dev
            ))
        }
    }
    Ok(())
}
