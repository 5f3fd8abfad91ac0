//! The documented "libvirt is wrong" families (docs/COMPATIBILITY.md, "VMX conversion"): for
//! a case where the two answers differ, the family that explains it, if any. Each test looks
//! at the input (and at libvirt's answer where that is the point), never at our answer alone.

use esx_vmx::VmxFile;

use crate::libvirt::{Answer as L, ServerInfo};
use crate::ours::Answer as O;

pub const CRASH: &str = "libvirt crashes";
pub const HANG: &str = "libvirt hangs";
pub const NUL_BYTE: &str = "NUL byte cuts the file";
pub const ESCAPED_NUL: &str = "escaped NUL cuts the value";
pub const ILL_FORMED: &str = "ill-formed XML out";
pub const DATASTORE_PREFIX: &str = "file on the wrong datastore";
pub const SATA_MOVED: &str = "SATA disk moved";
pub const SCSI_MOVED: &str = "SCSI disk moved (virtualHW >= 13)";
pub const SHIFT_JIS_YEN: &str = "Shift_JIS backslash read as yen sign";
pub const RANDOM_MAC: &str = "random MAC address";
pub const RANDOM_UUID: &str = "random UUID";
pub const LEGACY_DRIVER_LOST: &str = "legacy SCSI driver name lost";
pub const NULL_TEXT: &str = "\"(null)\" written as a value";
pub const ESCAPED_IN_VMX: &str = "XML escapes written into VMX";

fn is_true(vmx: &VmxFile, key: &str) -> bool {
    vmx.get(key).is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// Whether libvirt's XML is one no XML parser accepts: bytes that are not UTF-8, or
/// characters XML 1.0 forbids (libvirt's escaping leaves 0x1a-0x1f and U+FFFE/U+FFFF in).
fn ill_formed(xml: &[u8]) -> bool {
    match std::str::from_utf8(xml) {
        Err(_) => true,
        Ok(t) => t
            .chars()
            .any(|c| ('\u{1a}'..='\u{1f}').contains(&c) || c == '\u{fffe}' || c == '\u{ffff}'),
    }
}

/// libvirt's `virVMXUnescapeHex` on bytes; `None` for an invalid escape.
fn unescape_hex_bytes(value: &[u8], escape: u8) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(value.len());
    let mut i = 0;
    while let Some(&b) = value.get(i) {
        if b == escape {
            let hex = |j: usize| value.get(j).and_then(|c| char::from(*c).to_digit(16));
            out.push((hex(i + 1)? * 16 + hex(i + 2)?) as u8);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    Some(out)
}

/// A value libvirt unescapes (`%XX` then `|XX`) that holds a NUL.
fn escapes_nul(value: &str, percent: bool) -> bool {
    let step1 = if percent {
        unescape_hex_bytes(value.as_bytes(), b'%')
    } else {
        Some(value.as_bytes().to_vec())
    };
    let Some(step1) = step1 else { return false };
    if step1.contains(&0) {
        return true;
    }
    unescape_hex_bytes(&step1, b'|').is_some_and(|b| b.contains(&0))
}

/// VMX -> XML.
pub fn vmx(input: &[u8], lv: &L, _ours: &O, info: &ServerInfo) -> Option<&'static str> {
    match lv {
        L::Crash(_) => return Some(CRASH),
        L::Hang => return Some(HANG),
        L::Ok(xml) if ill_formed(xml) => return Some(ILL_FORMED),
        _ => {}
    }
    if input.contains(&0) {
        return Some(NUL_BYTE);
    }
    if let L::Ok(xml) = lv {
        let text = String::from_utf8_lossy(xml);
        let lower = String::from_utf8_lossy(input).to_ascii_lowercase();
        if (lower.contains("shift_jis") || lower.contains("shift-jis") || lower.contains("sjis"))
            && text.contains(['\u{a5}', '\u{203e}'])
        {
            return Some(SHIFT_JIS_YEN);
        }
    }
    let vmx = VmxFile::parse_str(&String::from_utf8_lossy(input)).ok()?;
    if vmx.get("displayName").is_some_and(|v| escapes_nul(v, true))
        || vmx.get("annotation").is_some_and(|v| escapes_nul(v, false))
    {
        return Some(ESCAPED_NUL);
    }
    // A file name libvirt matches to a datastore whose mount path is only a string prefix.
    for (key, value) in vmx.entries() {
        let lower = key.to_ascii_lowercase();
        if !lower.ends_with(".filename") {
            continue;
        }
        let wrong = info.pools.iter().any(|(_, mount)| {
            !mount.is_empty()
                && value.strip_prefix(mount.as_str()).is_some_and(|rest| {
                    !rest.is_empty() && !rest.starts_with(['/', '\\']) && !mount.ends_with('/')
                })
        });
        if wrong {
            return Some(DATASTORE_PREFIX);
        }
    }
    let hw = vmx
        .get("virtualHW.version")
        .and_then(|v| v.trim().parse::<i64>().ok())
        .unwrap_or(0);
    for c in 0..4u32 {
        if is_true(&vmx, &format!("sata{c}.present")) {
            for u in 0..30u32 {
                if (c > 0 || u >= 6) && is_true(&vmx, &format!("sata{c}:{u}.present")) {
                    return Some(SATA_MOVED);
                }
            }
        }
        if hw >= 13 && c > 0 && is_true(&vmx, &format!("scsi{c}.present")) {
            for u in 0..64u32 {
                if is_true(&vmx, &format!("scsi{c}:{u}.present")) {
                    return Some(SCSI_MOVED);
                }
            }
        }
    }
    None
}

/// XML -> VMX.
pub fn xml(input: &[u8], lv: &L, ours: &O, _info: &ServerInfo) -> Option<&'static str> {
    match lv {
        L::Crash(_) => return Some(CRASH),
        L::Hang => return Some(HANG),
        L::Ok(vmx) if std::str::from_utf8(vmx).is_err() => return Some(ILL_FORMED),
        L::Ok(vmx) if String::from_utf8_lossy(vmx).contains("\"(null)\"") => {
            return Some(NULL_TEXT)
        }
        _ => {}
    }
    let root = esx_domain::xml::Element::parse(&String::from_utf8_lossy(input)).ok()?;
    // libvirt applies a disk's <driver name='...'/> to the first controller of that index,
    // whatever its type, so the SCSI controller may not get it.
    if let (L::Ok(a), O::Ok(b)) = (lv, ours) {
        let text = String::from_utf8_lossy(input);
        let (a, b) = (String::from_utf8_lossy(a), String::from_utf8_lossy(b));
        let lost = b
            .lines()
            .filter(|l| l.contains(".virtualDev") && l.starts_with("scsi"))
            .any(|l| !a.contains(l));
        if lost && text.contains("<driver name=") {
            return Some(LEGACY_DRIVER_LOST);
        }
    }
    if !root.children.iter().any(|c| c.name == "uuid") {
        return Some(RANDOM_UUID);
    }
    let devices = root.children.iter().find(|c| c.name == "devices")?;
    let attr = |e: &esx_domain::xml::Element, n: &str| {
        e.attrs.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone())
    };
    for iface in devices.children.iter().filter(|c| c.name == "interface") {
        let mac = iface.children.iter().find(|c| c.name == "mac");
        let address = mac.and_then(|m| attr(m, "address"));
        if address.is_none() || address.as_deref() == Some("00:00:00:00:00:00") {
            return Some(RANDOM_MAC);
        }
        let portgroup = iface
            .children
            .iter()
            .find(|c| c.name == "source")
            .and_then(|s| attr(s, "portgroupid"));
        if portgroup.is_some_and(|p| p.contains(['&', '<', '>', '\'', '"'])) {
            return Some(ESCAPED_IN_VMX);
        }
    }
    None
}
