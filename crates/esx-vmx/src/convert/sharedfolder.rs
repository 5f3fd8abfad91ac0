//! Shared folders (`isolation.tools.hgfs.disable`, `sharedFolderN.*`) <-> `<filesystem>`.

use esx_domain::{Domain, Filesystem};

use super::{unsupported, Out, Result};
use crate::VmxFile;

/// Enabled shared folders -> `<filesystem type='mount' accessmode='passthrough'>`.
pub(super) fn parse(vmx: &VmxFile, def: &mut Domain) -> Result<()> {
    if vmx
        .get_bool("isolation.tools.hgfs.disable")?
        .unwrap_or(true)
    {
        return Ok(());
    }
    let max = vmx.get_int("sharedFolder.maxNum")?.unwrap_or(0);
    // Only numbers with a `sharedFolderN.present` or `.enabled` entry can yield a folder or an
    // error (see indices_with); libvirt walks every number below `sharedFolder.maxNum`.
    for n in super::indices_with(vmx, "sharedFolder", &["present", "enabled"]) {
        if n >= max.max(0).unsigned_abs() {
            continue;
        }
        let p = format!("sharedFolder{n}");
        let present = vmx.get_bool(&format!("{p}.present"))?.unwrap_or(false);
        let enabled = vmx.get_bool(&format!("{p}.enabled"))?.unwrap_or(false);
        if !(present && enabled) {
            continue;
        }
        let host_path = vmx.require(&format!("{p}.hostPath"))?.to_string();
        let guest_name = vmx.require(&format!("{p}.guestName"))?.to_string();
        let write = vmx.get_bool(&format!("{p}.writeAccess"))?.unwrap_or(false);
        def.devices.filesystems.push(Filesystem {
            fs_type: "mount".into(),
            accessmode: Some("passthrough".into()),
            source_dir: Some(host_path),
            target_dir: guest_name,
            readonly: !write,
        });
    }
    Ok(())
}

/// `<filesystem>` list -> shared folder keys.
pub(super) fn format(def: &Domain, out: &mut Out) -> Result<()> {
    let fss = &def.devices.filesystems;
    if fss.is_empty() {
        return Ok(());
    }
    out.put("isolation.tools.hgfs.disable", "false");
    out.put("sharedFolder.maxNum", fss.len().to_string());
    for (n, fs) in fss.iter().enumerate() {
        if fs.fs_type != "mount" {
            return unsupported("Only 'mount' filesystem type is supported");
        }
        let p = format!("sharedFolder{n}");
        out.put(&format!("{p}.present"), "true");
        out.put(&format!("{p}.enabled"), "true");
        out.put(&format!("{p}.readAccess"), "true");
        out.put(
            &format!("{p}.writeAccess"),
            if fs.readonly { "false" } else { "true" },
        );
        out.put(
            &format!("{p}.hostPath"),
            fs.source_dir.as_deref().unwrap_or(""),
        );
        out.put(&format!("{p}.guestName"), &fs.target_dir);
    }
    Ok(())
}
