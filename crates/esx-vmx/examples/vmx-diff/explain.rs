//! The documented "libvirt is wrong" families (docs/COMPATIBILITY.md): for a case where the
//! two answers differ, the family that explains it, if any.

use crate::libvirt::{Answer as L, ServerInfo};
use crate::ours::Answer as O;

/// VMX -> XML.
pub fn vmx(_input: &[u8], lv: &L, _ours: &O, _info: &ServerInfo) -> Option<&'static str> {
    match lv {
        L::Crash(_) => Some("libvirt crashes"),
        L::Hang => Some("libvirt hangs"),
        _ => None,
    }
}

/// XML -> VMX.
pub fn xml(_input: &[u8], lv: &L, _ours: &O, _info: &ServerInfo) -> Option<&'static str> {
    match lv {
        L::Crash(_) => Some("libvirt crashes"),
        L::Hang => Some("libvirt hangs"),
        _ => None,
    }
}
