//! The parts of libvirt's domain post-parse step that conversions need: disk name indexes,
//! drive addresses assigned from target names, implicit disk controllers and the console that
//! mirrors the first serial port.

use crate::devices::{Address, CharDevice, Controller, DriveAddress};
use crate::domain::Domain;

/// Index of a disk target name after its prefix (`sda` -> 0, `hdb` -> 1, `sdaa` -> 26).
/// Returns `None` if the name does not start with `prefix` followed by lower-case letters only.
pub fn disk_name_to_index(name: &str, prefix: &str) -> Option<u32> {
    let rest = name.strip_prefix(prefix)?;
    if rest.is_empty() {
        return None;
    }
    let mut idx: u64 = 0;
    for (i, c) in rest.chars().enumerate() {
        if !c.is_ascii_lowercase() {
            return None;
        }
        let v = u64::from(c as u8 - b'a');
        idx = (idx + u64::from(i > 0)).checked_mul(26)?.checked_add(v)?;
        if idx > u64::from(u32::MAX) {
            return None;
        }
    }
    u32::try_from(idx).ok()
}

/// The disk target name for an index (`0` -> `<prefix>a`, `26` -> `<prefix>aa`).
pub fn index_to_disk_name(index: u32, prefix: &str) -> String {
    let mut letters = Vec::new();
    let mut i = i64::from(index);
    while i >= 0 {
        letters.push((b'a' + (i % 26) as u8) as char);
        i = i / 26 - 1;
    }
    let mut out = prefix.to_string();
    out.extend(letters.iter().rev());
    out
}

/// Index of any known disk target name, whatever its prefix (`hd`, `sd`, `vd`, `xvd`, `fd`,
/// `ubd`).
pub fn disk_target_index(name: &str) -> Option<u32> {
    ["xvd", "ubd", "hd", "sd", "vd", "fd"]
        .iter()
        .find_map(|p| disk_name_to_index(name, p))
}

/// The drive address libvirt derives from a target name and bus (with wide SCSI, as the
/// VMware drivers configure it). `None` for buses without a drive mapping or bad names.
pub fn drive_address_for_target(dev: &str, bus: &str) -> Option<DriveAddress> {
    let idx = disk_target_index(dev)?;
    Some(match bus {
        "scsi" => {
            let mut unit = idx % 15;
            if unit >= 7 {
                unit += 1;
            }
            DriveAddress {
                controller: idx / 15,
                bus: 0,
                target: 0,
                unit,
            }
        }
        "ide" => DriveAddress {
            controller: idx / 4,
            bus: (idx % 4) / 2,
            target: 0,
            unit: idx % 2,
        },
        "fdc" => DriveAddress {
            controller: idx / 2,
            bus: 0,
            target: 0,
            unit: idx % 2,
        },
        "sata" => DriveAddress {
            controller: idx / 6,
            bus: 0,
            target: 0,
            unit: idx % 6,
        },
        _ => return None,
    })
}

/// The default bus libvirt picks for a target name prefix.
pub fn default_bus_for_target(dev: &str) -> Option<&'static str> {
    if dev.starts_with("hd") {
        Some("ide")
    } else if dev.starts_with("sd") {
        Some("scsi")
    } else if dev.starts_with("fd") {
        Some("fdc")
    } else if dev.starts_with("vd") {
        Some("virtio")
    } else if dev.starts_with("xvd") {
        Some("xen")
    } else if dev.starts_with("ubd") {
        Some("uml")
    } else {
        None
    }
}

/// The highest controller index [`Domain::add_implicit_controllers`] fills in. libvirt adds
/// every index up to the highest one a disk address names, so a single
/// `<address type='drive' controller='2000000000'/>` makes it create two billion controller
/// objects; here the filling stops at this index (far above anything a hypervisor accepts: VMX
/// has at most 4 SCSI, 1 IDE, 1 floppy and 4 SATA controllers).
pub const MAX_IMPLICIT_CONTROLLER_INDEX: u32 = 4095;

/// The video RAM (KiB) libvirt gives a `vga`, `cirrus` or `vmvga` video without one on the
/// vmware driver.
pub const DEFAULT_VMWARE_VRAM_KIB: u32 = 4096;

/// libvirt's `VIR_ROUND_UP_POWER_OF_TWO` on an `unsigned int`: the next power of two, 0 for 0
/// and for anything above 2^31.
pub fn round_up_power_of_two(value: u32) -> u32 {
    if value == 0 || value > 1 << 31 {
        0
    } else {
        value.next_power_of_two()
    }
}

/// The video RAM (KiB) libvirt's vmware driver gives a video model without one.
pub fn default_video_ram_kib(model: Option<&str>) -> u32 {
    match model {
        None | Some("vmvga") | Some("vga") | Some("cirrus") | Some("xen") => {
            DEFAULT_VMWARE_VRAM_KIB
        }
        Some("bochs") => 16 * 1024,
        Some("qxl") => 64 * 1024,
        _ => 0,
    }
}

impl Domain {
    /// libvirt's generic post-parse (`virDomainDefPostParse`) as far as the VMware drivers
    /// see it: [`Domain::apply_device_defaults`], then the current memory (0 or more than the
    /// memory means all of it) and the video RAM (a default when 0, rounded up to a power of
    /// two; the first video goes through that twice, as in libvirt, so a size that rounds to
    /// nothing gets the default).
    pub fn apply_post_parse(&mut self) {
        self.apply_device_defaults();
        if let Some(total) = self.memory_kib {
            match self.current_memory_kib {
                Some(cur) if cur != 0 && cur <= total => {}
                _ => self.current_memory_kib = Some(total),
            }
        }
        for (i, video) in self.devices.videos.iter_mut().enumerate() {
            let passes = if i == 0 && video.model_type.as_deref() != Some("none") {
                2
            } else {
                1
            };
            let default = default_video_ram_kib(video.model_type.as_deref());
            let mut vram = video.vram.map(|v| v as u32).unwrap_or(0);
            for _ in 0..passes {
                if vram == 0 {
                    vram = default;
                }
                vram = round_up_power_of_two(vram);
            }
            video.vram = (vram != 0).then_some(u64::from(vram));
            if i == 0 {
                video.primary = Some(true);
            }
        }
    }

    /// Fill in what libvirt's post-parse adds for the device model: disk buses from target
    /// prefixes, drive addresses from target names, implicit disk controllers and the
    /// console that mirrors the first serial port.
    pub fn apply_device_defaults(&mut self) {
        self.assign_disk_addresses();
        self.assign_char_ports();
        self.add_implicit_controllers();
        self.add_console_compat();
    }

    /// Give every disk without an address the drive address derived from its target, and a
    /// bus derived from its target prefix when it has none.
    pub fn assign_disk_addresses(&mut self) {
        for disk in &mut self.devices.disks {
            if disk.target.bus.is_none() {
                disk.target.bus = default_bus_for_target(&disk.target.dev).map(str::to_string);
            }
            if disk.address.is_none() {
                if let Some(bus) = disk.target.bus.as_deref() {
                    disk.address =
                        drive_address_for_target(&disk.target.dev, bus).map(Address::Drive);
                }
            }
        }
    }

    /// Add the SCSI, floppy, IDE and SATA controllers (in that order) that disks refer to and
    /// that are not defined yet, from index 0 up to the highest index used, but at most up to
    /// [`MAX_IMPLICIT_CONTROLLER_INDEX`].
    pub fn add_implicit_controllers(&mut self) {
        for (bus, ctype) in [
            ("scsi", "scsi"),
            ("fdc", "fdc"),
            ("ide", "ide"),
            ("sata", "sata"),
        ] {
            let max = self
                .devices
                .disks
                .iter()
                .filter(|d| d.target.bus.as_deref() == Some(bus))
                .filter_map(|d| match &d.address {
                    Some(Address::Drive(a)) => Some(a.controller),
                    _ => None,
                })
                .max();
            let Some(max) = max else { continue };
            let existing: std::collections::BTreeSet<u32> = self
                .devices
                .controllers
                .iter()
                .filter(|c| c.controller_type == ctype)
                .map(|c| c.index)
                .collect();
            for index in 0..=max.min(MAX_IMPLICIT_CONTROLLER_INDEX) {
                if !existing.contains(&index) {
                    crate::devices::insert_controller(
                        &mut self.devices.controllers,
                        Controller {
                            controller_type: ctype.to_string(),
                            index,
                            ..Controller::default()
                        },
                    );
                }
            }
        }
    }

    /// libvirt's console compatibility: a first console that is (or may be) a serial port
    /// becomes the first serial port when there is none, and is replaced when it differs from
    /// the first serial port; a first serial port gets a console; consoles are numbered by
    /// position; the first console then mirrors the first serial port.
    pub fn add_console_compat(&mut self) {
        let devices = &mut self.devices;
        let hvm = self.os.os_type == "hvm" || self.os.os_type.is_empty();
        let stub = || CharDevice {
            target: crate::devices::CharTarget {
                target_type: Some("serial".into()),
                ..Default::default()
            },
            ..CharDevice::default()
        };
        let serial_like = |t: &Option<String>| matches!(t.as_deref(), None | Some("serial"));
        if hvm
            && devices
                .consoles
                .first()
                .is_some_and(|c| serial_like(&c.target.target_type))
        {
            if devices.serials.is_empty() {
                let mut serial = devices.consoles.remove(0);
                serial.target.target_type = None;
                serial.target.port = Some(0);
                devices.serials.push(serial);
                devices.consoles.insert(0, stub());
            } else if let (Some(serial), Some(console)) =
                (devices.serials.first(), devices.consoles.first())
            {
                if serial.chr_type != console.chr_type
                    || serial.sources != console.sources
                    || serial.protocol != console.protocol
                {
                    devices.consoles[0] = stub();
                }
            }
        } else if hvm
            && devices.serials.first().is_some_and(|s| {
                matches!(
                    s.target.target_type.as_deref(),
                    None | Some("isa-serial")
                        | Some("spapr-vio-serial")
                        | Some("system-serial")
                        | Some("sclp-serial")
                )
            })
        {
            devices.consoles.insert(0, stub());
        }
        for (i, c) in devices.consoles.iter_mut().enumerate() {
            c.target.port = u32::try_from(i).ok();
        }
        let Some(first) = devices.serials.first() else {
            return;
        };
        let mut console: CharDevice = first.clone();
        console.target.target_type = Some("serial".into());
        console.target.port = Some(first.target.port.unwrap_or(0));
        console.address = None;
        if let Some(c) = devices.consoles.first_mut() {
            if c.target.target_type.as_deref() == Some("serial") {
                *c = console;
            }
        }
    }

    /// libvirt's port numbers for serial and parallel ports without one: one more than the
    /// highest port of their kind so far.
    pub fn assign_char_ports(&mut self) {
        for list in [&mut self.devices.serials, &mut self.devices.parallels] {
            for i in 0..list.len() {
                if list.get(i).is_some_and(|d| d.target.port.is_none()) {
                    let next = list
                        .iter()
                        .filter_map(|d| d.target.port)
                        .max()
                        .map_or(0, |m| m.saturating_add(1));
                    if let Some(d) = list.get_mut(i) {
                        d.target.port = Some(next);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_indexes() {
        assert_eq!(disk_name_to_index("sda", "sd"), Some(0));
        assert_eq!(disk_name_to_index("sdz", "sd"), Some(25));
        assert_eq!(disk_name_to_index("sdaa", "sd"), Some(26));
        assert_eq!(disk_name_to_index("sd1", "sd"), None);
        assert_eq!(disk_name_to_index("hda", "sd"), None);
        for i in [0, 1, 25, 26, 27, 51, 52, 701, 702, 18277] {
            assert_eq!(
                disk_name_to_index(&index_to_disk_name(i, "sd"), "sd"),
                Some(i)
            );
        }
        assert_eq!(index_to_disk_name(26, "hd"), "hdaa");
    }

    /// Found by fuzzing domain_to_vmx: a disk address naming controller 4000000000 made the
    /// implicit-controller step loop (quadratically) for billions of indexes.
    #[test]
    fn huge_controller_indexes_stop_at_the_cap() {
        let xml = "<domain type='vmware'><name>x</name><memory>4096</memory><os><type>hvm</type></os><devices>\
            <disk type='file' device='disk'><source file='[ds] a.vmdk'/><target dev='sda' bus='scsi'/>\
            <address type='drive' controller='4000000000' bus='0' target='0' unit='0'/></disk>\
            <disk type='file' device='disk'><source file='[ds] b.vmdk'/><target dev='hda' bus='ide'/>\
            <address type='drive' controller='2' bus='0' target='0' unit='0'/></disk>\
            <controller type='ide' index='1'/></devices></domain>";
        let mut dom = Domain::from_xml(xml).unwrap();
        let start = std::time::Instant::now();
        dom.add_implicit_controllers();
        assert!(start.elapsed() < std::time::Duration::from_secs(5));
        let count = |dom: &Domain, t: &str| {
            dom.devices
                .controllers
                .iter()
                .filter(|c| c.controller_type == t)
                .count()
        };
        assert_eq!(
            count(&dom, "scsi"),
            MAX_IMPLICIT_CONTROLLER_INDEX as usize + 1
        );
        // ide 1 existed; 0 and 2 are added, once each.
        assert_eq!(count(&dom, "ide"), 3);
        dom.add_implicit_controllers();
        assert_eq!(count(&dom, "ide"), 3);
    }

    #[test]
    fn powers_of_two_like_libvirt() {
        assert_eq!(round_up_power_of_two(0), 0);
        assert_eq!(round_up_power_of_two(1), 1);
        assert_eq!(round_up_power_of_two(3), 4);
        assert_eq!(round_up_power_of_two(4096), 4096);
        assert_eq!(round_up_power_of_two(4097), 8192);
        assert_eq!(round_up_power_of_two(1 << 31), 1 << 31);
        assert_eq!(round_up_power_of_two((1 << 31) + 1), 0);
    }

    #[test]
    fn scsi_addresses_skip_unit_7() {
        let a = drive_address_for_target("sdh", "scsi").unwrap();
        assert_eq!((a.controller, a.unit), (0, 8));
        let a = drive_address_for_target("sdp", "scsi").unwrap();
        assert_eq!((a.controller, a.unit), (1, 0));
        let a = drive_address_for_target("hdd", "ide").unwrap();
        assert_eq!((a.controller, a.bus, a.unit), (0, 1, 1));
    }
}
