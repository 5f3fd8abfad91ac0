//! VNC remote display (`RemoteDisplay.vnc.*`) and the SVGA video device (`svga.vramSize`).

use esx_domain::{Domain, Graphics, GraphicsListen, Video};

use super::{unsupported, Out, Result};
use crate::VmxFile;

/// Default SVGA memory in bytes.
const DEFAULT_VRAM_BYTES: i64 = 4 * 1024 * 1024;

/// Default `vram` (KiB) libvirt gives a vmvga video on the vmware driver.
const DEFAULT_VMVGA_VRAM_KIB: u64 = 4096;

/// `RemoteDisplay.vnc.*` -> `<graphics type='vnc'>`.
pub(super) fn parse_vnc(vmx: &VmxFile, def: &mut Domain) -> Result<()> {
    if !vmx.get_bool("RemoteDisplay.vnc.enabled")?.unwrap_or(false) {
        return Ok(());
    }
    let port = vmx.get_int("RemoteDisplay.vnc.port")?.unwrap_or(-1);
    let listen = vmx.get("RemoteDisplay.vnc.ip").map(str::to_string);
    let (port, autoport) = if port < 0 {
        // libvirt warns: the port is unknown, so autoport is assumed.
        (0, true)
    } else {
        // libvirt keeps the port in an int: larger numbers wrap.
        (port as i32, false)
    };
    def.devices.graphics.push(Graphics {
        graphics_type: "vnc".into(),
        port: Some(port),
        autoport: Some(autoport),
        websocket: None,
        keymap: vmx.get("RemoteDisplay.vnc.keymap").map(str::to_string),
        passwd: vmx.get("RemoteDisplay.vnc.password").map(str::to_string),
        listens: vec![GraphicsListen {
            listen_type: "address".into(),
            address: listen,
            network: None,
        }],
    });
    Ok(())
}

/// `svga.vramSize` -> the one `<video>` device. As in libvirt, the bytes are divided by 1024
/// rounding up in 64-bit C arithmetic and kept in an unsigned int (what does not fit wraps);
/// the post-parse step then gives 0 the default and rounds up to a power of two.
pub(super) fn parse_svga(vmx: &VmxFile, def: &mut Domain) -> Result<()> {
    let vram = vmx.get_int("svga.vramSize")?.unwrap_or(DEFAULT_VRAM_BYTES);
    // C: (vram + 1023) / 1024 with signed overflow wrapping and division toward zero.
    let kib = vram.wrapping_add(1023) / 1024;
    def.devices.videos.push(Video {
        model_type: Some("vmvga".into()),
        vram: Some(u64::from(kib as u32)),
        heads: None,
        primary: Some(true),
        address: None,
    });
    Ok(())
}

/// `<graphics type='vnc'>` -> `RemoteDisplay.vnc.*`.
pub(super) fn format_vnc(def: &Domain, out: &mut Out) -> Result<()> {
    for g in &def.devices.graphics {
        if g.graphics_type != "vnc" {
            return unsupported(format!("Unsupported graphics type '{}'", g.graphics_type));
        }
        out.put("RemoteDisplay.vnc.enabled", "true");
        let autoport = g.autoport.unwrap_or(false) || matches!(g.port, None | Some(-1));
        if !autoport {
            if let Some(p) = g.port {
                out.put("RemoteDisplay.vnc.port", p.to_string());
            }
        }
        if let Some(addr) = g
            .listens
            .first()
            .filter(|l| l.listen_type == "address")
            .and_then(|l| l.address.as_ref())
        {
            out.put("RemoteDisplay.vnc.ip", addr);
        }
        if let Some(k) = &g.keymap {
            out.put("RemoteDisplay.vnc.keymap", k);
        }
        if let Some(p) = &g.passwd {
            out.put("RemoteDisplay.vnc.password", p);
        }
    }
    Ok(())
}

/// The `<video>` device (or the one implied by `<graphics>`) -> `svga.vramSize`.
pub(super) fn format_svga(def: &Domain, out: &mut Out) -> Result<()> {
    let implicit;
    let video = match def.devices.videos.as_slice() {
        [] if def.devices.graphics.is_empty() => return Ok(()),
        [] => {
            implicit = Video::default();
            &implicit
        }
        [one] => one,
        _ => return unsupported("No support for multiple video devices"),
    };
    let model = video.model_type.as_deref().unwrap_or("vmvga");
    if model != "vmvga" {
        return unsupported(format!("Unsupported video device type '{model}'"));
    }
    if video.heads.is_some_and(|h| h > 1) {
        return unsupported("Multi-head video devices are unsupported");
    }
    let vram = video.vram.unwrap_or(DEFAULT_VMVGA_VRAM_KIB);
    out.put("svga.vramSize", (vram.div_ceil(64) * 64 * 1024).to_string());
    Ok(())
}
