//! The checks libvirt's domain XML parser and validator make on the way from domain XML to
//! VMX (`virDomainDefParseString` in the ESX driver's `domxml-to-native`) that the
//! [`esx_domain`] model does not make while reading, as far as they concern what the VMX
//! formatter uses. Each refusal carries libvirt's text.

use esx_domain::{CharDevice, Domain};

use super::{unsupported, Result};

/// The SCSI controller models libvirt's XML parser knows.
const SCSI_CONTROLLER_MODELS: &[&str] = &[
    "auto",
    "buslogic",
    "lsilogic",
    "lsisas1068",
    "vmpvscsi",
    "ibmvscsi",
    "virtio-scsi",
    "lsisas1078",
    "virtio-transitional",
    "virtio-non-transitional",
    "ncr53c90",
    "am53c974",
    "dc390",
];

fn check_char_device(dev: &CharDevice) -> Result<()> {
    let source = dev.sources.first();
    let path = source.and_then(|s| s.path.as_deref());
    match dev.chr_type.as_str() {
        "file" | "dev" | "pipe" | "unix" if path.is_none() => {
            unsupported("Missing source path attribute for char device")
        }
        "tcp" if source.and_then(|s| s.host.as_deref()).is_none() => {
            unsupported("Missing source host attribute for char device")
        }
        "tcp" | "udp" if source.and_then(|s| s.service.as_deref()).is_none() => {
            unsupported("Missing source service attribute for char device")
        }
        _ => Ok(()),
    }
}

/// The checks libvirt makes before its post-parse step changes the devices.
pub(crate) fn check_as_read(dom: &Domain) -> Result<()> {
    // Consoles without a target type become serial ones, and only the first may be.
    if dom
        .devices
        .consoles
        .iter()
        .skip(1)
        .any(|c| matches!(c.target.target_type.as_deref(), None | Some("serial")))
    {
        return unsupported("Only the first console can be a serial port");
    }
    Ok(())
}

/// libvirt's checks on a domain read from XML (see the module docs).
pub(crate) fn check(dom: &Domain) -> Result<()> {
    if dom.name.as_deref().is_none_or(str::is_empty) {
        return unsupported("missing name information");
    }
    if dom.memory_kib.unwrap_or(0) == 0 {
        return unsupported(
            "Memory size must be specified via <memory> or in the <numa> configuration",
        );
    }
    let arch = dom.os.arch.as_deref().unwrap_or("i686");
    if dom.os.os_type != "hvm" || !matches!(arch, "i686" | "x86_64") {
        return unsupported(format!(
            "could not find capabilities for ostype={} arch={arch} domaintype={}",
            dom.os.os_type, dom.domain_type
        ));
    }
    let feature = |name: &str| {
        dom.os
            .firmware_features
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, on)| *on)
    };
    // Without a firmware attribute libvirt ignores the features (a migration kludge).
    if dom.os.firmware.is_some()
        && feature("enrolled-keys") == Some(true)
        && feature("secure-boot") == Some(false)
    {
        return unsupported(
            "firmware feature 'enrolled-keys' cannot be enabled when firmware feature 'secure-boot' is disabled",
        );
    }
    if dom.vcpu.count == 0 {
        return unsupported("Invalid number of vCPUs '0'");
    }
    let mut seen = std::collections::BTreeSet::new();
    for c in &dom.devices.controllers {
        if c.controller_type == "scsi" {
            if let Some(m) = c.model.as_deref() {
                if !SCSI_CONTROLLER_MODELS.contains(&m) {
                    return unsupported(format!("Unknown model type '{m}'"));
                }
            }
        }
        if c.controller_type != "usb" && !seen.insert((c.controller_type.as_str(), c.index)) {
            return unsupported(format!(
                "Multiple '{}' controllers with index '{}'",
                c.controller_type, c.index
            ));
        }
    }
    let mut targets = std::collections::BTreeSet::new();
    for disk in &dom.devices.disks {
        if disk.device == "lun" && disk.disk_type != "block" {
            return unsupported("disk device='lun' is only valid for block type disk source");
        }
        let bus = disk.target.bus.as_deref().unwrap_or("");
        if (disk.device == "floppy") != (bus == "fdc") {
            return unsupported(format!("Invalid bus type '{bus}' for {} disk", disk.device));
        }
        if !targets.insert(disk.target.dev.as_str()) {
            return unsupported(format!(
                "target '{}' duplicated for disk sources",
                disk.target.dev
            ));
        }
    }
    for fs in &dom.devices.filesystems {
        if fs.source_dir.is_none() {
            return unsupported(format!(
                "missing source information for device {}",
                fs.target_dir
            ));
        }
        if fs.target_dir.is_empty() {
            return unsupported(format!(
                "missing target information for device {}",
                fs.source_dir.as_deref().unwrap_or_default()
            ));
        }
    }

    for iface in &dom.devices.interfaces {
        if let Some(mac) = iface.mac.as_ref().filter(|m| m.address.0[0] & 1 != 0) {
            return unsupported(format!(
                "expected unicast mac address, found multicast '{}'",
                mac.address
            ));
        }
        if let Some(t) = iface.mac.as_ref().and_then(|m| m.mac_type.as_deref()) {
            if !matches!(t, "generated" | "static") {
                return unsupported(format!(
                    "Invalid value for attribute 'type' in element 'mac': '{t}'"
                ));
            }
        }
        match iface.net_type.as_str() {
            "bridge" if iface.source.bridge.is_none() => {
                return unsupported("interface type='bridge' requires a 'source' element")
            }
            "vds" if iface.source.switchid.is_none() => {
                return unsupported("interface type='vds' requires a 'source' element")
            }
            _ => {}
        }
    }
    if dom
        .devices
        .channels
        .iter()
        .any(|c| c.target.target_type.is_none())
    {
        return unsupported("target type must be specified for channel device");
    }
    for dev in dom
        .devices
        .serials
        .iter()
        .chain(&dom.devices.parallels)
        .chain(&dom.devices.consoles)
        .chain(&dom.devices.channels)
    {
        check_char_device(dev)?;
    }
    Ok(())
}
