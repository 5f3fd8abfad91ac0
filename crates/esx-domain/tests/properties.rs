//! Property tests of the domain XML parser and formatter: no panics on arbitrary input, and
//! formatting is a fixed point for every document the parser accepts.

use esx_domain::{Domain, DomainXmlError};
use proptest::prelude::*;

/// Fragments that build plausible (and often invalid) domain documents.
const FRAGMENTS: &[&str] = &[
    "<name>vm</name>",
    "<uuid>564d9bef-acd9-b4e0-c8f0-aea8b9103515</uuid>",
    "<uuid>nope</uuid>",
    "<memory unit='MiB'>4</memory>",
    "<memory unit='xx'>4</memory>",
    "<currentMemory>2048</currentMemory>",
    "<vcpu cpuset='0-3,^1'>2</vcpu>",
    "<vcpu>x</vcpu>",
    "<os><type arch='x86_64'>hvm</type><boot dev='hd'/></os>",
    "<os firmware='efi'><type>hvm</type><loader readonly='yes'>/x</loader></os>",
    "<cpu><topology sockets='2' cores='2' threads='1'/></cpu>",
    "<clock offset='localtime'/>",
    "<features><acpi/><pae/></features>",
    "<description>a &amp; b &lt;c&gt; 'd' \"e\"</description>",
    "<devices><disk type='file' device='disk'><source file='[ds] a.vmdk'/><target dev='sda' bus='scsi'/></disk></devices>",
    "<devices><interface type='bridge'><mac address='00:50:56:01:02:03'/><source bridge='br0'/></interface></devices>",
    "<devices><interface type='bridge'><mac address='zz'/></interface></devices>",
    "<devices><serial type='tcp'><source mode='bind' host='h' service='1'/><protocol type='raw'/><target port='0'/></serial></devices>",
    "<devices><graphics type='vnc' port='5900' listen='1.2.3.4'/></devices>",
    "<devices><bogus/></devices>",
    "<unknown/>",
    "<memtune><min_guarantee unit='GiB'>1</min_guarantee></memtune>",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn arbitrary_text_does_not_panic(text in "\\PC{0,300}") {
        let _ = Domain::from_xml(&text);
    }

    #[test]
    fn accepted_documents_format_to_a_fixed_point(
        parts in prop::collection::vec(0usize..FRAGMENTS.len(), 0..8),
        kind in prop::sample::select(vec!["vmware", "kvm"]),
    ) {
        let body: String = parts.iter().map(|i| FRAGMENTS[*i]).collect();
        let text = format!("<domain type='{kind}'>{body}</domain>");
        match Domain::from_xml(&text) {
            Ok(dom) => {
                let out = dom.to_xml();
                let again = Domain::from_xml(&out).map_err(|e| TestCaseError::fail(format!("{e}\n{out}")))?;
                prop_assert_eq!(again.to_xml(), out);
            }
            Err(e) => {
                // Errors name what was wrong.
                let msg = e.to_string();
                prop_assert!(!msg.is_empty());
                if let DomainXmlError::UnknownElement { line, .. } = e {
                    prop_assert!(line >= 1);
                }
            }
        }
    }
}

#[test]
fn unknown_element_names_element_and_line() {
    let err = Domain::from_xml("<domain type='vmware'>\n  <name>x</name>\n  <bogus/>\n</domain>")
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "unsupported element <bogus> inside <domain> at line 3"
    );
    let err = Domain::from_xml(
        "<domain type='vmware'>\n<devices>\n<disk type='file' device='disk' foo='1'>\n<target dev='sda'/></disk></devices></domain>",
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "unsupported attribute 'foo' on <disk> at line 3"
    );
}

#[test]
fn units_and_defaults() {
    let dom = Domain::from_xml(
        "<domain type='vmware'><memory unit='MiB'>4</memory><vcpu cpuset='0,1,2,5'>2</vcpu><os><type>hvm</type></os></domain>",
    )
    .unwrap();
    assert_eq!(dom.memory_kib, Some(4096));
    let xml = dom.to_xml();
    assert!(
        xml.contains("<currentMemory unit='KiB'>4096</currentMemory>"),
        "{xml}"
    );
    assert!(
        xml.contains("<vcpu placement='static' cpuset='0-2,5'>2</vcpu>"),
        "{xml}"
    );
    assert!(xml.contains("<on_reboot>restart</on_reboot>"), "{xml}");
}

#[test]
fn vmware_namespace_round_trips() {
    let text = "<domain type='vmware' xmlns:vmware='http://libvirt.org/schemas/domain/vmware/1.0'>\n  <vmware:datacenterpath>dc</vmware:datacenterpath>\n  <vmware:moref>vm-1</vmware:moref>\n</domain>";
    let dom = Domain::from_xml(text).unwrap();
    assert_eq!(dom.vmware.datacenter_path.as_deref(), Some("dc"));
    assert_eq!(dom.vmware.moref.as_deref(), Some("vm-1"));
    let xml = dom.to_xml();
    assert!(xml.starts_with(
        "<domain type='vmware' xmlns:vmware='http://libvirt.org/schemas/domain/vmware/1.0'>"
    ));
    assert!(xml.contains("  <vmware:moref>vm-1</vmware:moref>\n</domain>"));
}
