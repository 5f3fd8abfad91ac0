//! Fuzz the domain -> VMX direction: any domain XML the parser accepts must convert to VMX (or
//! fail cleanly) at every virtualHW version, without panicking or hanging, and VMX it writes
//! must read back without panicking.
#![no_main]

use esx_domain::Domain;
use esx_vmx::convert::{
    domain_to_vmx, domain_xml_to_vmx, vmx_text_to_domain, FormatContext, LibvirtTestResolver,
    ParseContext,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&hw, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let fctx = FormatContext {
        resolver: &LibvirtTestResolver,
    };
    // virtualHW 4, 7, 8, ... 21: every limit switch is crossed.
    let hw = [4, 7, 8, 9, 10, 11, 13, 14, 17, 19, 21][usize::from(hw) % 11];
    // The driver path: read, post-parse, libvirt's validation, convert.
    let _ = domain_xml_to_vmx(text, &fctx, hw);
    let Ok(dom) = Domain::from_xml(text) else {
        return;
    };
    if let Ok(vmx) = domain_to_vmx(&dom, &fctx, hw) {
        let pctx = ParseContext {
            resolver: &LibvirtTestResolver,
            datacenter_path: dom.vmware.datacenter_path.clone(),
            moref: None,
        };
        if let Ok(back) = vmx_text_to_domain(vmx.as_bytes(), &pctx) {
            let _ = Domain::from_xml(&back.to_xml()).expect("produced domain XML must parse");
        }
    }
});
