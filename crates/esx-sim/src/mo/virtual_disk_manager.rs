//! `VirtualDiskManager`: create, copy, delete, zero-fill and identify `.vmdk` disks on a
//! datastore's real directory.

use esx_vim::{BaseVirtualDiskSpec, FileBackedVirtualDiskSpec};

use crate::fault::{Fault, MethodResult};
use crate::mo::virtual_machine::{uuid_from, vmx_uuid};
use crate::state::State;

/// ESX's `ddb.adapterType` for an API `adapterType`.
fn ddb_adapter(api: &str) -> &'static str {
    match api {
        "ide" => "ide",
        "busLogic" => "buslogic",
        _ => "lsilogic",
    }
}

/// Checks that `name` is a `[ds] dir/file.vmdk` path and resolves it.
fn disk_path(state: &State, name: &str) -> MethodResult<std::path::PathBuf> {
    if !name.to_ascii_lowercase().ends_with(".vmdk") {
        return Err(Fault::invalid_argument("name"));
    }
    Ok(state.resolve_ds_path(name)?.1)
}

/// `CreateVirtualDisk_Task`: writes a descriptor and a sparse extent; returns the datastore path.
pub fn create(state: &State, name: &str, spec: &BaseVirtualDiskSpec) -> MethodResult<String> {
    let path = disk_path(state, name)?;
    let (adapter, capacity_kb) = match spec {
        BaseVirtualDiskSpec::FileBackedVirtualDiskSpec(s) => {
            let FileBackedVirtualDiskSpec {
                adapter_type,
                capacity_kb,
                ..
            } = s.as_ref();
            (adapter_type.as_str(), *capacity_kb)
        }
        BaseVirtualDiskSpec::SeSparseVirtualDiskSpec(s) => (s.adapter_type.as_str(), s.capacity_kb),
        _ => return Err(Fault::invalid_argument("spec")),
    };
    if capacity_kb < 0 {
        return Err(Fault::invalid_argument("spec.capacityKb"));
    }
    if path.exists() {
        return Err(Fault::already_exists(name));
    }
    match path.parent() {
        Some(d) if d.is_dir() => {}
        _ => return Err(Fault::file_not_found(name)),
    }
    let uuid = vmx_uuid(&uuid_from(&format!("disk:{name}")));
    crate::files::create_disk(&path, capacity_kb, ddb_adapter(adapter), &uuid)
        .map_err(|e| Fault::invalid_state(&format!("cannot create {name}: {e}")))?;
    Ok(name.to_owned())
}

/// The files making up the disk `descriptor`: itself and its extents.
pub fn disk_files(descriptor: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![descriptor.to_path_buf()];
    let Ok(text) = std::fs::read_to_string(descriptor) else {
        return out;
    };
    for line in text.lines() {
        if !(line.starts_with("RW ") || line.starts_with("RDONLY ")) {
            continue;
        }
        let Some(file) = line.split('"').nth(1) else {
            continue;
        };
        if !file.contains('/') && !file.contains("..") {
            out.push(descriptor.with_file_name(file));
        }
    }
    out
}

/// `DeleteVirtualDisk_Task`: removes the descriptor and its extents.
pub fn delete(state: &State, name: &str) -> MethodResult<()> {
    let path = disk_path(state, name)?;
    if !path.is_file() {
        return Err(Fault::file_not_found(name));
    }
    for f in disk_files(&path) {
        let _ = std::fs::remove_file(f);
    }
    Ok(())
}

/// `CopyVirtualDisk_Task`: copies the descriptor (with a new UUID) and its extents.
pub fn copy(state: &State, source: &str, dest: &str, force: bool) -> MethodResult<()> {
    let src = disk_path(state, source)?;
    let dst = disk_path(state, dest)?;
    if !src.is_file() {
        return Err(Fault::file_not_found(source));
    }
    if dst.exists() && !force {
        return Err(Fault::already_exists(dest));
    }
    let capacity = crate::files::vmdk_capacity_kb(&src).unwrap_or(0);
    let adapter = std::fs::read_to_string(&src)
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("ddb.adapterType = "))
                .map(|v| v.trim_matches('"').to_owned())
        })
        .unwrap_or_else(|| "lsilogic".to_owned());
    let uuid = vmx_uuid(&uuid_from(&format!("disk:{dest}")));
    crate::files::create_disk(&dst, capacity, &adapter, &uuid)
        .map_err(|e| Fault::invalid_state(&format!("cannot create {dest}: {e}")))
}

/// `ZeroFillVirtualDisk_Task`: the disk must exist (extents are sparse, already zero).
pub fn zero_fill(state: &State, name: &str) -> MethodResult<()> {
    let path = disk_path(state, name)?;
    if !path.is_file() {
        return Err(Fault::file_not_found(name));
    }
    Ok(())
}

/// `QueryVirtualDiskUuid`: the descriptor's `ddb.uuid` (`60 00 c2 …-…` form).
pub fn query_uuid(state: &State, name: &str) -> MethodResult<String> {
    let path = disk_path(state, name)?;
    if !path.is_file() {
        return Err(Fault::file_not_found(name));
    }
    Ok(crate::files::vmdk_uuid(&path)
        .unwrap_or_else(|| vmx_uuid(&uuid_from(&format!("disk:{name}")))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extents_come_from_the_descriptor() {
        let dir = std::env::temp_dir().join(format!("esx-sim-vdm-{}", std::process::id()));
        let d = dir.join("a.vmdk");
        crate::files::create_disk(&d, 1024, "lsilogic", "00").unwrap();
        let files = disk_files(&d);
        assert_eq!(files, vec![d.clone(), dir.join("a-flat.vmdk")]);
        let _ = std::fs::remove_dir_all(dir);
        assert_eq!(ddb_adapter("busLogic"), "buslogic");
        assert_eq!(ddb_adapter("lsiLogic"), "lsilogic");
    }
}
