//! Unit and property tests of the conversion: libvirt's error texts, round trips, and
//! no panics on arbitrary input.

use proptest::prelude::*;

use super::*;
use crate::VmxFile;

fn parse_ctx() -> ParseContext<'static> {
    ParseContext {
        resolver: &LibvirtTestResolver,
        datacenter_path: None,
        moref: None,
    }
}

fn format_ctx() -> FormatContext<'static> {
    FormatContext {
        resolver: &LibvirtTestResolver,
    }
}

fn from_vmx(text: &str) -> Result<Domain> {
    vmx_text_to_domain(text.as_bytes(), &parse_ctx())
}

const HEAD: &str = "config.version = \"8\"\nvirtualHW.version = \"4\"\n";

fn err_of(text: &str) -> String {
    match from_vmx(text) {
        Ok(d) => panic!("expected an error, got {}", d.to_xml()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn libvirt_error_texts() {
    assert_eq!(
        err_of("config.version = \"7\"\nvirtualHW.version = \"4\"\n"),
        "Expecting VMX entry 'config.version' to be 8 but found 7"
    );
    assert_eq!(
        err_of("config.version = \"8\"\n"),
        "Missing essential config entry 'virtualHW.version'"
    );
    assert_eq!(
        err_of(&format!("{HEAD}memsize = \"30\"\n")),
        "Expecting VMX entry 'memsize' to be an unsigned integer (multiple of 4) but found 30"
    );
    assert_eq!(
        err_of(&format!("{HEAD}firmware = \"EFI\"\n")),
        "VMX entry 'firmware' has unknown value 'EFI'"
    );
    assert_eq!(
        err_of(&format!(
            "{HEAD}ethernet0.present = \"true\"\nethernet0.connectionType = \"hostonly\"\n"
        )),
        "No yet handled value 'hostonly' for VMX entry 'ethernet0.connectionType'"
    );
    assert_eq!(
        err_of(&format!("{HEAD}ethernetX.present = \"true\"\n")),
        "failed to parse the index of the VMX key 'ethernetX.present'"
    );
    assert_eq!(
        err_of(&format!(
            "{HEAD}scsi0.present = \"true\"\nscsi0.virtualDev = \"foo\"\n"
        )),
        "Expecting VMX entry 'scsi0.virtualDev' to be 'buslogic' or 'lsilogic' or 'lsisas1068' or 'pvscsi' but found 'foo'"
    );
    assert_eq!(
        err_of(&format!(
            "{HEAD}ide0:0.present = \"true\"\nide0:0.deviceType = \"scsi-hardDisk\"\nide0:0.fileName = \"x.vmdk\"\n"
        )),
        "Expecting VMX entry 'ide0:0.deviceType' to be 'ata-hardDisk' or 'disk' but found 'scsi-hardDisk'"
    );
    assert_eq!(
        err_of(&format!(
            "{HEAD}serial0.present = \"true\"\nserial0.fileType = \"network\"\nserial0.fileName = \"gopher://h:1\"\n"
        )),
        "VMX entry 'serial0.fileName' contains unsupported scheme 'gopher'"
    );
    assert_eq!(
        err_of(&format!(
            "{HEAD}numvcpus = \"4\"\ncpuid.coresPerSocket = \"8\"\n"
        )),
        "VMX entry 'cpuid.coresPerSocket' smaller than 'numvcpus'"
    );
}

#[test]
fn format_error_texts() {
    let dom = |devices: &str| {
        Domain::from_xml(&format!(
            "<domain type='vmware'><name>x</name><memory>4096</memory><os><type>hvm</type></os><devices>{devices}</devices></domain>"
        ))
        .unwrap()
    };
    let err = |d: &Domain, hw: i64| domain_to_vmx(d, &format_ctx(), hw).unwrap_err().to_string();
    assert_eq!(
        err(&dom("<disk type='file' device='disk'><source file='[ds] a.vmdk'/><target dev='sda' bus='sata'/></disk>"), 4),
        "Unsupported bus type 'sata'"
    );
    assert_eq!(
        err(&dom("<disk type='file' device='disk'><source file='[ds] a.img'/><target dev='sda' bus='scsi'/></disk>"), 4),
        "Image file for SCSI harddisk 'sda' has unsupported suffix, expecting '.vmdk'"
    );
    assert_eq!(
        err(&dom("<interface type='network'><mac address='00:50:56:00:00:01'/><source network='n'/></interface>"), 4),
        "Unsupported net type 'network'"
    );
    let five: String = (0..5)
        .map(|i| format!("<interface type='user'><mac address='00:50:56:00:00:0{i}'/></interface>"))
        .collect();
    assert_eq!(
        err(&dom(&five), 4),
        "Ethernet controller index 4 out of [0..3] range"
    );
    assert!(domain_to_vmx(&dom(&five), &format_ctx(), 7).is_ok());
    assert_eq!(
        err(&dom("<graphics type='sdl'/>"), 4),
        "Unsupported graphics type 'sdl'"
    );
}

#[test]
fn datastore_resolver_plugs_in() {
    let resolver = DatastoreResolver {
        datastores: vec![("store1".into(), "/vmfs/volumes/aaaa-bbbb".into())],
        vmx_directory: "[store1] vm1".into(),
    };
    let ctx = ParseContext {
        resolver: &resolver,
        datacenter_path: Some("dc1".into()),
        moref: Some("vm-42".into()),
    };
    let text = format!(
        "{HEAD}scsi0.present = \"true\"\nscsi0:0.present = \"true\"\nscsi0:0.fileName = \"vm1.vmdk\"\n"
    );
    let dom = vmx_text_to_domain(text.as_bytes(), &ctx).unwrap();
    let xml = dom.to_xml();
    assert!(
        xml.contains("<source file='[store1] vm1/vm1.vmdk'/>"),
        "{xml}"
    );
    assert!(xml.contains("<vmware:moref>vm-42</vmware:moref>"), "{xml}");
    let vmx = domain_to_vmx(
        &dom,
        &FormatContext {
            resolver: &resolver,
        },
        8,
    )
    .unwrap();
    assert!(
        vmx.contains("scsi0:0.fileName = \"/vmfs/volumes/aaaa-bbbb/vm1/vm1.vmdk\""),
        "{vmx}"
    );
}

/// Found by fuzzing (vmx_to_domain): control characters in VMX values must not make the
/// domain XML malformed; they are left out as libvirt's escaping does (libvirt leaves
/// 0x1a-0x1f in, which no XML parser accepts; we leave them out too). A NUL byte is refused:
/// libvirt would silently stop reading the file there.
#[test]
fn control_characters_in_values_give_well_formed_xml() {
    let nul = format!("{HEAD}displayName = \"t\0est\"\n");
    assert!(from_vmx(&nul).unwrap_err().to_string().contains("NUL byte"));
    let text = format!(
        "{HEAD}guestOS = \"other-64\"\ndisplayName = \"t\x01est\"\nannotation = \"a\x07b\"\nethernet0.present = \"true\"\nethernet0.networkName = \"VM\x1bNet\"\n"
    );
    let dom = from_vmx(&text).unwrap();
    let xml = dom.to_xml();
    assert!(xml.contains("<name>test</name>"), "{xml}");
    assert!(xml.contains("<description>ab</description>"), "{xml}");
    assert!(xml.contains("<source bridge='VMNet'/>"), "{xml}");
    let again = Domain::from_xml(&xml).unwrap();
    assert_eq!(again.to_xml(), xml);
}

/// Found by fuzzing (vmx_to_domain timeout): a single `ethernet2147483647.*` key or a huge
/// `sharedFolder.maxNum` made the converter walk billions of device numbers (libvirt 11.3
/// hangs on both). Only numbers with a `.present` (or `.startConnected`, `.enabled`) entry
/// are visited now; what is found is unchanged. An index that does not fit an int is an error,
/// as in libvirt.
#[test]
fn huge_device_numbers_convert_quickly() {
    let start = std::time::Instant::now();
    let too_big = format!("{HEAD}ethernet000000000003709551615.generatedAddressOffset = \"8\"\n");
    assert!(from_vmx(&too_big).is_err());
    let text = format!(
        "{HEAD}ethernet0000000002147483647.generatedAddressOffset = \"8\"\n\
         ethernet2147483647.present = \"true\"\n\
         ethernet1.present = \"true\"\nethernet1.networkName = \"net1\"\n\
         ethernet01.present = \"true\"\nethernet01.networkName = \"ignored\"\n\
         isolation.tools.hgfs.disable = \"false\"\nsharedFolder.maxNum = \"9223372036854775807\"\n\
         sharedFolder7.present = \"true\"\nsharedFolder7.enabled = \"true\"\n\
         sharedFolder7.hostPath = \"/h\"\nsharedFolder7.guestName = \"g\"\n"
    );
    let dom = from_vmx(&text).unwrap();
    assert!(start.elapsed() < std::time::Duration::from_secs(5));
    // ethernet1, then ethernet2147483647 (present, no connection type and no network name).
    assert_eq!(dom.devices.interfaces.len(), 2);
    assert_eq!(
        dom.devices.interfaces[0].source.bridge.as_deref(),
        Some("net1")
    );
    assert_eq!(dom.devices.filesystems.len(), 1);
    assert_eq!(dom.devices.filesystems[0].target_dir, "g");

    // A folder at or above sharedFolder.maxNum is not read, as in libvirt.
    let capped = format!(
        "{HEAD}isolation.tools.hgfs.disable = \"false\"\nsharedFolder.maxNum = \"7\"\n\
         sharedFolder7.present = \"true\"\nsharedFolder7.enabled = \"true\"\n\
         sharedFolder7.hostPath = \"/h\"\nsharedFolder7.guestName = \"g\"\n"
    );
    assert!(from_vmx(&capped).unwrap().devices.filesystems.is_empty());
}

/// Found by fuzzing (domain_to_vmx timeout): a disk address with a huge controller index used
/// to hang in the implicit-controller step; now it is the address error, at once.
#[test]
fn huge_controller_index_is_an_address_error() {
    let start = std::time::Instant::now();
    let xml = "<domain type='vmware'><name>x</name><memory>4096</memory><os><type>hvm</type></os><devices>\
        <disk type='file' device='disk'><source file='[ds] a.vmdk'/><target dev='sda' bus='scsi'/>\
        <address type='drive' controller='4000000000' bus='0' target='0' unit='0'/></disk></devices></domain>";
    let dom = Domain::from_xml(xml).unwrap();
    let err = domain_to_vmx(&dom, &format_ctx(), 13).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Disk address 4000000000:0:0 doesn't match target device 'sda'"
    );
    assert!(start.elapsed() < std::time::Duration::from_secs(5));
}

/// One VMX document built from the keys the converter understands.
fn vmx_strategy() -> impl Strategy<Value = String> {
    let name = "[a-zA-Z0-9 |%/\\\\\"_-]{0,12}";
    let mac = (any::<u8>(), any::<u8>(), any::<u8>(), 0usize..4).prop_map(|(a, b, c, k)| {
        let prefix = ["00:50:56", "00:0c:29", "00:1a:4a", "00:50:56"][k];
        let hi = if k == 3 { a | 0x80 & 0xbf } else { a & 0x3f };
        format!("{prefix}:{hi:02x}:{b:02x}:{c:02x}")
    });
    (
        name,
        1u32..64,
        1u32..9,
        prop::collection::vec((0u32..4, 0u32..16, "[a-z]{1,6}", 0usize..3), 0..5),
        prop::collection::vec((mac, 0usize..4, prop::option::of("[A-Za-z ]{1,8}")), 0..4),
        prop::option::of((0u32..4, 0usize..3)),
        any::<bool>(),
        0usize..4,
        any::<bool>(),
    )
        .prop_map(
            |(name, mem4, vcpus, disks, nics, serial, vnc, shares, x64)| {
                let mut v = String::from(HEAD);
                v.push_str(&format!("displayName = \"{}\"\n", crate::escape_percent(&crate::escape_pipe(&name))));
                v.push_str(&format!("memsize = \"{}\"\nnumvcpus = \"{vcpus}\"\n", mem4 * 4));
                if x64 {
                    v.push_str("guestOS = \"other-64\"\n");
                }
                if shares > 0 {
                    let s = ["", "low", "high", "1234"][shares];
                    v.push_str(&format!("sched.cpu.shares = \"{s}\"\n"));
                }
                if vnc {
                    v.push_str("RemoteDisplay.vnc.enabled = \"true\"\nRemoteDisplay.vnc.port = \"5901\"\n");
                }
                let mut controllers = std::collections::BTreeSet::new();
                for (c, u, file, kind) in disks {
                    let u = if u == 7 { 8 } else { u };
                    controllers.insert(c);
                    let p = format!("scsi{c}:{u}");
                    match kind {
                        0 => v.push_str(&format!(
                            "{p}.present = \"true\"\n{p}.deviceType = \"scsi-hardDisk\"\n{p}.fileName = \"/vmfs/volumes/ds/{file}.vmdk\"\n"
                        )),
                        1 => v.push_str(&format!(
                            "{p}.present = \"true\"\n{p}.deviceType = \"cdrom-image\"\n{p}.fileName = \"/vmfs/volumes/ds/{file}.iso\"\n"
                        )),
                        _ => v.push_str(&format!(
                            "{p}.present = \"true\"\n{p}.deviceType = \"cdrom-raw\"\n{p}.fileName = \"/dev/{file}\"\n"
                        )),
                    }
                }
                for c in controllers {
                    v.push_str(&format!("scsi{c}.present = \"true\"\nscsi{c}.virtualDev = \"lsilogic\"\n"));
                }
                for (i, (mac, conn, net)) in nics.into_iter().enumerate() {
                    let p = format!("ethernet{i}");
                    v.push_str(&format!("{p}.present = \"true\"\n"));
                    match conn {
                        0 => v.push_str(&format!("{p}.connectionType = \"nat\"\n")),
                        1 => {
                            if let Some(n) = &net {
                                v.push_str(&format!("{p}.networkName = \"{n}\"\n"));
                            }
                        }
                        _ => v.push_str(&format!(
                            "{p}.connectionType = \"bridged\"\n{p}.networkName = \"{}\"\n",
                            net.unwrap_or_default()
                        )),
                    }
                    // A static address outside VMware's static range gets checkMACAddress =
                    // "false" on the way back (libvirt's classification), so keep to the range.
                    let static_range = mac.starts_with("00:50:56")
                        && u8::from_str_radix(&mac[9..11], 16).is_ok_and(|b| b <= 0x3f);
                    if static_range && conn % 2 == 0 {
                        v.push_str(&format!("{p}.addressType = \"static\"\n{p}.address = \"{mac}\"\n"));
                    } else {
                        v.push_str(&format!("{p}.addressType = \"generated\"\n{p}.generatedAddress = \"{mac}\"\n"));
                    }
                }
                if let Some((port, kind)) = serial {
                    let p = format!("serial{port}");
                    let (ft, fname) = [("device", "/dev/ttyS0"), ("file", "/vmfs/volumes/ds/s.log"), ("network", "telnet://1.2.3.4:99")][kind];
                    v.push_str(&format!("{p}.present = \"true\"\n{p}.fileType = \"{ft}\"\n{p}.fileName = \"{fname}\"\n"));
                }
                v
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// VMX -> domain -> VMX -> domain gives the same domain.
    #[test]
    fn vmx_round_trip_is_stable(text in vmx_strategy()) {
        let first = from_vmx(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        let vmx = domain_to_vmx(&first, &format_ctx(), 8)
            .map_err(|e| TestCaseError::fail(format!("{e}\n{}", first.to_xml())))?;
        let second = from_vmx(&vmx).map_err(|e| TestCaseError::fail(format!("{e}\n{vmx}")))?;
        prop_assert_eq!(first.to_xml(), second.to_xml());
        // And the XML text itself survives the domain parser.
        let reparsed = Domain::from_xml(&first.to_xml()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(reparsed.to_xml(), first.to_xml());
    }

    /// Arbitrary bytes never make the converter panic.
    #[test]
    fn arbitrary_bytes_do_not_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = vmx_text_to_domain(&bytes, &parse_ctx());
    }

    /// Arbitrary values for the keys the converter reads never make it panic, and whatever it
    /// accepts can be formatted back without panicking.
    #[test]
    fn arbitrary_values_do_not_panic(entries in prop::collection::vec((0usize..KEYS.len(), "[ -~]{0,24}"), 0..20)) {
        let mut vmx = VmxFile::new();
        vmx.set("config.version", "8");
        vmx.set("virtualHW.version", "13");
        for (k, value) in entries {
            vmx.set(KEYS[k], &value);
        }
        if let Ok(dom) = vmx_to_domain(&vmx, &parse_ctx()) {
            let _ = domain_to_vmx(&dom, &format_ctx(), 13);
            let _ = Domain::from_xml(&dom.to_xml());
        }
    }
}

/// Keys the converter reads, for the no-panic property test.
const KEYS: &[&str] = &[
    "uuid.bios",
    "displayName",
    "annotation",
    "memsize",
    "sched.mem.max",
    "sched.mem.minsize",
    "numvcpus",
    "cpuid.coresPerSocket",
    "sched.cpu.affinity",
    "sched.cpu.shares",
    "guestOS",
    "vm.genid",
    "vm.genidX",
    "firmware",
    "uefi.secureBoot.enabled",
    "smbios.reflecthost",
    "RemoteDisplay.vnc.enabled",
    "RemoteDisplay.vnc.port",
    "scsi0.present",
    "scsi0.virtualDev",
    "scsi0:0.present",
    "scsi0:0.deviceType",
    "scsi0:0.fileName",
    "scsi0:9.present",
    "scsi0:9.fileName",
    "sata0.present",
    "sata0:1.present",
    "sata0:1.fileName",
    "ide1:1.present",
    "ide1:1.deviceType",
    "ide1:1.fileName",
    "floppy0.present",
    "floppy0.fileType",
    "floppy0.fileName",
    "ethernet0.present",
    "ethernet0.virtualDev",
    "ethernet0.connectionType",
    "ethernet0.networkName",
    "ethernet0.addressType",
    "ethernet0.generatedAddress",
    "ethernet0.address",
    "ethernet0.dvs.switchId",
    "ethernet0.dvs.portId",
    "ethernet3.present",
    "serial0.present",
    "serial0.fileType",
    "serial0.fileName",
    "serial0.network.endPoint",
    "parallel0.present",
    "parallel0.fileType",
    "parallel0.fileName",
    "svga.vramSize",
    "isolation.tools.hgfs.disable",
    "sharedFolder.maxNum",
    "sharedFolder0.present",
    "sharedFolder0.enabled",
    "sharedFolder0.hostPath",
    "sharedFolder0.guestName",
];

/// Found by fuzzing (vmx_to_domain, issue 14): a multicast MAC from a VMX file (libvirt's VMX
/// reader takes it) must give domain XML that reads back; libvirt's validation refuses it only
/// on the way to VMX.
#[test]
fn multicast_mac_reads_back_and_is_refused_on_the_way_to_vmx() {
    let text = format!(
        "{HEAD}displayName = \"m\"\nethernet0.present = \"true\"\nethernet0.addressType = \"vpx\"\nethernet0.generatedAddress = \"01:50:56:87:65:43\"\n"
    );
    let dom = from_vmx(&text).unwrap();
    let xml = dom.to_xml();
    assert!(
        xml.contains("<mac address='01:50:56:87:65:43' type='generated'/>"),
        "{xml}"
    );
    let again = Domain::from_xml(&xml).unwrap();
    assert_eq!(again.to_xml(), xml);
    let err = crate::convert::domain_xml_to_vmx(&xml, &format_ctx(), 8).unwrap_err();
    assert!(err.to_string().contains("multicast"), "{err}");
}
