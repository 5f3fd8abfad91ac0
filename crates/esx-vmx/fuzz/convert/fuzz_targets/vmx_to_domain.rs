//! Fuzz the VMX -> domain conversion: it must never panic; accepted input must format back
//! to VMX (or fail cleanly) and produce domain XML the domain parser accepts.
#![no_main]

use esx_domain::Domain;
use esx_vmx::convert::{
    domain_to_vmx, vmx_text_to_domain, FormatContext, LibvirtTestResolver, ParseContext,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
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
        let _ = domain_to_vmx(&dom, &fctx, 13);
    }
});
