//! The checks the fuzz targets run (`fuzz/fuzz_targets/vmx_file.rs`,
//! `fuzz/convert/fuzz_targets/{vmx_to_domain,domain_to_vmx}.rs`), shared with the stable
//! `cargo test` that replays the committed seed corpora (`tests/fuzz_seeds.rs`). Not part of
//! the stable API.

use esx_domain::Domain;

use crate::convert::{
    domain_to_vmx as to_vmx, domain_xml_to_vmx, vmx_text_to_domain, FormatContext,
    LibvirtTestResolver, ParseContext,
};
use crate::VmxFile;

/// Arbitrary bytes through the VMX reader: never a panic, unmodified output equals the input,
/// and an edit re-reads to the value that was set.
pub fn vmx_file(data: &[u8]) {
    let Ok(mut vmx) = VmxFile::parse(data) else {
        return;
    };
    assert_eq!(vmx.to_bytes(), data);
    let first_key = vmx.keys().next().map(str::to_owned);
    if let Some(key) = first_key {
        vmx.set(&key, "fuzz \"value\"");
        let reread = VmxFile::parse_str(&vmx.to_string()).expect("edited file re-reads");
        assert_eq!(reread.get(&key), Some("fuzz \"value\""));
        vmx.remove(&key);
    }
    vmx.set("fuzz.added", "1");
    let _ = vmx.to_bytes();
}

/// Arbitrary bytes as a VMX file converted to a domain: never a panic; accepted input
/// produces domain XML the domain parser accepts, and formats back to VMX (or fails cleanly).
pub fn vmx_to_domain(data: &[u8]) {
    let ctx = ParseContext {
        resolver: &LibvirtTestResolver,
        datacenter_path: None,
        moref: None,
    };
    if let Ok(dom) = vmx_text_to_domain(data, &ctx) {
        let xml = dom.to_xml();
        Domain::from_xml(&xml).expect("produced domain XML must parse");
        let fctx = FormatContext {
            resolver: &LibvirtTestResolver,
        };
        let _ = to_vmx(&dom, &fctx, 13);
    }
}

/// The virtualHW versions `domain_to_vmx` picks from with its first byte: every limit
/// switch is crossed.
pub const HW_VERSIONS: [i64; 11] = [4, 7, 8, 9, 10, 11, 13, 14, 17, 19, 21];

/// One byte (the virtualHW version, an index into [`HW_VERSIONS`] modulo 11), then domain
/// XML: any domain the parser accepts converts to VMX (or fails cleanly) without panicking,
/// along the driver's path and the direct one, and VMX it writes reads back to a domain whose
/// XML parses.
pub fn domain_to_vmx(data: &[u8]) {
    let Some((&hw, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let fctx = FormatContext {
        resolver: &LibvirtTestResolver,
    };
    let hw = HW_VERSIONS[usize::from(hw) % HW_VERSIONS.len()];
    // The driver path: read, post-parse, libvirt's validation, convert.
    let _ = domain_xml_to_vmx(text, &fctx, hw);
    let Ok(dom) = Domain::from_xml(text) else {
        return;
    };
    if let Ok(vmx) = to_vmx(&dom, &fctx, hw) {
        let pctx = ParseContext {
            resolver: &LibvirtTestResolver,
            datacenter_path: dom.vmware.datacenter_path.clone(),
            moref: None,
        };
        if let Ok(back) = vmx_text_to_domain(vmx.as_bytes(), &pctx) {
            let _ = Domain::from_xml(&back.to_xml()).expect("produced domain XML must parse");
        }
    }
}
