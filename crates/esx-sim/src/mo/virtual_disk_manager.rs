//! `VirtualDiskManager`: create, copy, move, delete, zero-fill and identify `.vmdk` disks on a
//! datastore's real directory (see [`crate::vmdk`] for how a disk is kept).
//!
//! A copy holds the source's content byte for byte as one flat extent, written sparsely (a
//! snapshot delta is copied as its coalesced chain); its descriptor takes the destination
//! spec's adapter type and provisioning (`thin` writes `ddb.thinProvisioned = "1"`; without a
//! spec the copy is preallocated with a BusLogic adapter, as the API documents). Space is
//! checked first: a thick destination needs its full capacity free, a thin one what the
//! source's extents occupy, else `NoDiskSpace`. Faults: `InvalidDatastorePath` for a name that
//! is not a `[datastore] path/file.vmdk` on a known datastore, `FileNotFound` for a missing
//! source (or a missing parent of a delta, or a missing destination directory),
//! `FileAlreadyExists` for an existing destination without `force`.

use std::path::{Path, PathBuf};

use esx_vim::BaseVirtualDiskSpec;

use crate::fault::{Fault, MethodResult};
use crate::files::{TempFile, BLOCK};
use crate::mo::virtual_machine::{uuid_from, vmx_uuid};
use crate::state::{MoRef, State};
use crate::vmdk::{self, Descriptor, DiskError};

/// ESX's `ddb.adapterType` for an API `adapterType`.
fn ddb_adapter(api: &str) -> &'static str {
    match api {
        "ide" => "ide",
        "busLogic" => "buslogic",
        _ => "lsilogic",
    }
}

/// Whether an API `diskType` is thin (allocated as written) rather than thick.
fn thin_type(disk_type: &str, field: &str) -> MethodResult<bool> {
    match disk_type {
        "thin" | "sparse2Gb" | "sparseMonolithic" | "seSparse" | "delta" => Ok(true),
        "" | "preallocated" | "eagerZeroedThick" | "thick" | "thick2Gb" | "flatMonolithic" => {
            Ok(false)
        }
        _ => Err(Fault::invalid_argument(field)),
    }
}

/// The adapter type and disk type a spec asks for.
fn spec_types(spec: &BaseVirtualDiskSpec) -> (&str, &str) {
    match spec {
        BaseVirtualDiskSpec::VirtualDiskSpec(s) => (&s.adapter_type, &s.disk_type),
        BaseVirtualDiskSpec::DeviceBackedVirtualDiskSpec(s) => (&s.adapter_type, &s.disk_type),
        BaseVirtualDiskSpec::FileBackedVirtualDiskSpec(s) => (&s.adapter_type, &s.disk_type),
        BaseVirtualDiskSpec::SeSparseVirtualDiskSpec(s) => (&s.adapter_type, &s.disk_type),
    }
}

/// Checks that `name` is a `[ds] dir/file.vmdk` path and resolves it.
fn disk_path(state: &State, name: &str) -> MethodResult<(MoRef, PathBuf)> {
    if !name.to_ascii_lowercase().ends_with(".vmdk") {
        return Err(Fault::invalid_datastore_path(name));
    }
    state.resolve_file(name)
}

/// The fault for a disk that cannot be read (`name` is the disk asked for).
fn disk_fault(e: DiskError, name: &str) -> Fault {
    match e {
        DiskError::Missing(_) => Fault::file_not_found(name),
        other => Fault::invalid_state(&format!("cannot read the disk {name}: {other}")),
    }
}

/// Fails with `FileNotFound` unless the directory `path` is in exists.
fn parent_exists(path: &Path, name: &str) -> MethodResult<()> {
    match path.parent() {
        Some(d) if d.is_dir() => Ok(()),
        _ => Err(Fault::file_not_found(name)),
    }
}

/// `CreateVirtualDisk_Task`: writes a descriptor and a sparse extent; returns the datastore path.
pub fn create(state: &State, name: &str, spec: &BaseVirtualDiskSpec) -> MethodResult<String> {
    let (ds, path) = disk_path(state, name)?;
    let capacity_kb = match spec {
        BaseVirtualDiskSpec::FileBackedVirtualDiskSpec(s) => s.capacity_kb,
        BaseVirtualDiskSpec::SeSparseVirtualDiskSpec(s) => s.capacity_kb,
        _ => return Err(Fault::invalid_argument("spec")),
    };
    let (adapter, disk_type) = spec_types(spec);
    if capacity_kb < 0 {
        return Err(Fault::invalid_argument("spec.capacityKb"));
    }
    let thin = thin_type(disk_type, "spec.diskType")?;
    if path.exists() {
        return Err(Fault::file_already_exists(name));
    }
    parent_exists(&path, name)?;
    let bytes = (capacity_kb as u64).saturating_mul(1024);
    let needed = if thin { BLOCK as u64 } else { bytes } + BLOCK as u64;
    crate::mo::datastore::check_space(state, &ds, needed, 0, name)?;
    let uuid = vmx_uuid(&uuid_from(&format!("disk:{name}")));
    vmdk::create_flat(&path, capacity_kb as u64, ddb_adapter(adapter), &uuid, thin)
        .map_err(|e| Fault::invalid_state(&format!("cannot create {name}: {e}")))?;
    Ok(name.to_owned())
}

/// The files making up the disk `descriptor`: itself and its extents.
pub fn disk_files(descriptor: &Path) -> Vec<PathBuf> {
    let mut out = vec![descriptor.to_path_buf()];
    if let Ok(d) = Descriptor::read(descriptor) {
        out.extend(d.extent_paths(descriptor).unwrap_or_default());
    }
    out
}

/// `DeleteVirtualDisk_Task`: removes the descriptor and its extents.
pub fn delete(state: &State, name: &str) -> MethodResult<()> {
    let (_, path) = disk_path(state, name)?;
    if !path.is_file() {
        return Err(Fault::file_not_found(name));
    }
    for f in disk_files(&path) {
        let _ = std::fs::remove_file(f);
    }
    Ok(())
}

/// Bytes the disk `descriptor` occupies (descriptor and extents).
fn disk_allocated(descriptor: &Path) -> u64 {
    disk_files(descriptor)
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| crate::files::allocated(&m))
        .sum()
}

/// `CopyVirtualDisk_Task` (see the module documentation).
pub fn copy(
    state: &State,
    source: &str,
    dest: &str,
    spec: Option<&BaseVirtualDiskSpec>,
    force: bool,
) -> MethodResult<()> {
    let (_, src) = disk_path(state, source)?;
    let (dst_ds, dst) = disk_path(state, dest)?;
    if !src.is_file() {
        return Err(Fault::file_not_found(source));
    }
    if src == dst {
        return Ok(());
    }
    let (adapter, thin) = match spec {
        Some(s) => {
            let (a, t) = spec_types(s);
            (ddb_adapter(a), thin_type(t, "destSpec.diskType")?)
        }
        None => ("buslogic", false),
    };
    let chain = vmdk::chain(&src, &|h| state.vmfs_path(h)).map_err(|e| disk_fault(e, source))?;
    let exists = dst.exists();
    if exists && !force {
        return Err(Fault::file_already_exists(dest));
    }
    parent_exists(&dst, dest)?;
    let capacity = chain.first().map(|(_, d)| d.capacity()).unwrap_or(0);
    let data = if thin {
        vmdk::chain_allocated(&chain)
    } else {
        capacity
    };
    let reclaimed = if exists { disk_allocated(&dst) } else { 0 };
    crate::mo::datastore::check_space(
        state,
        &dst_ds,
        data.saturating_add(BLOCK as u64),
        reclaimed,
        dest,
    )?;
    let old_files = if exists { disk_files(&dst) } else { Vec::new() };
    let extent = format!("{}-flat.vmdk", vmdk::stem(&dst));
    let flat = dst.with_file_name(&extent);
    let failed =
        |e: &dyn std::fmt::Display| Fault::invalid_state(&format!("cannot copy to {dest}: {e}"));
    let temp = TempFile::create(&flat).map_err(|e| failed(&e))?;
    vmdk::coalesce(&chain, temp.file().map_err(|e| failed(&e))?)
        .map_err(|e| disk_fault(e, source))?;
    let uuid = vmx_uuid(&uuid_from(&format!("disk:{dest}")));
    let d = Descriptor::flat(&extent, capacity / 1024, adapter, &uuid, thin);
    temp.commit().map_err(|e| failed(&e))?;
    if let Err(e) = d.write(&dst) {
        if !old_files.contains(&flat) {
            let _ = std::fs::remove_file(&flat);
        }
        return Err(failed(&e));
    }
    // Extents of the disk that was overwritten and that the copy does not reuse.
    for f in old_files
        .iter()
        .skip(1)
        .filter(|f| **f != flat && **f != dst)
    {
        let _ = std::fs::remove_file(f);
    }
    Ok(())
}

/// The name an extent `file` of the disk `from_stem` takes when the disk becomes `to_stem`.
fn moved_extent(file: &str, from_stem: &str, to_stem: &str) -> String {
    match file.strip_prefix(from_stem) {
        Some(rest) => format!("{to_stem}{rest}"),
        None => format!("{to_stem}-{file}"),
    }
}

/// `MoveVirtualDisk_Task`: moves the descriptor and its extents (renamed after the new
/// descriptor); a delta's parent stays reachable (its hint made absolute when the directory
/// changes).
pub fn move_disk(state: &State, source: &str, dest: &str, force: bool) -> MethodResult<()> {
    let (src_ds, src) = disk_path(state, source)?;
    let (dst_ds, dst) = disk_path(state, dest)?;
    if !src.is_file() {
        return Err(Fault::file_not_found(source));
    }
    if src == dst {
        return Ok(());
    }
    let mut d = Descriptor::read(&src).map_err(|e| disk_fault(e, source))?;
    let extents = d.extent_paths(&src).map_err(|e| disk_fault(e, source))?;
    let exists = dst.exists();
    if exists && !force {
        return Err(Fault::file_already_exists(dest));
    }
    parent_exists(&dst, dest)?;
    if src_ds != dst_ds {
        let reclaimed = if exists { disk_allocated(&dst) } else { 0 };
        crate::mo::datastore::check_space(state, &dst_ds, disk_allocated(&src), reclaimed, dest)?;
    }
    if let Some(hint) = d.parent.clone() {
        if src.parent() != dst.parent() && !hint.starts_with('/') && !hint.starts_with('[') {
            let parent = vmdk::resolve_hint(&src, &hint, &|h| state.vmfs_path(h))
                .and_then(|p| state.vmfs_name(&p))
                .ok_or_else(|| Fault::file_not_found(&hint))?;
            d.parent = Some(parent);
        }
    }
    let old_files = if exists { disk_files(&dst) } else { Vec::new() };
    let (from_stem, to_stem) = (vmdk::stem(&src), vmdk::stem(&dst));
    let mut moved: Vec<(PathBuf, PathBuf)> = Vec::new();
    let undo = |moved: &[(PathBuf, PathBuf)]| {
        for (from, to) in moved.iter().rev() {
            let _ = std::fs::rename(to, from);
        }
    };
    for (e, from) in d.extents.iter_mut().zip(extents) {
        e.file = moved_extent(&e.file, &from_stem, &to_stem);
        let to = dst.with_file_name(&e.file);
        if let Err(err) = rename_or_copy(&from, &to) {
            undo(&moved);
            return Err(Fault::invalid_state(&format!(
                "cannot move to {dest}: {err}"
            )));
        }
        moved.push((from, to));
    }
    if let Err(err) = d.write(&dst) {
        undo(&moved);
        return Err(Fault::invalid_state(&format!(
            "cannot move to {dest}: {err}"
        )));
    }
    let _ = std::fs::remove_file(&src);
    for f in old_files.iter().skip(1) {
        if !moved.iter().any(|(_, to)| to == f) {
            let _ = std::fs::remove_file(f);
        }
    }
    Ok(())
}

/// Renames `from` to `to`, or copies and removes it across file systems.
pub fn rename_or_copy(from: &Path, to: &Path) -> std::io::Result<()> {
    match std::fs::rename(from, to) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::CrossesDevices => {
            crate::files::copy_file(from, to)?;
            std::fs::remove_file(from)
        }
        Err(e) => Err(e),
    }
}

/// `ZeroFillVirtualDisk_Task`: the disk must exist (extents are sparse, already zero).
pub fn zero_fill(state: &State, name: &str) -> MethodResult<()> {
    let (_, path) = disk_path(state, name)?;
    if !path.is_file() {
        return Err(Fault::file_not_found(name));
    }
    Ok(())
}

/// `QueryVirtualDiskUuid`: the descriptor's `ddb.uuid` (`60 00 c2 …-…` form).
pub fn query_uuid(state: &State, name: &str) -> MethodResult<String> {
    let (_, path) = disk_path(state, name)?;
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
        assert_eq!(moved_extent("a-flat.vmdk", "a", "b"), "b-flat.vmdk");
        assert_eq!(moved_extent("x.raw", "a", "b"), "b-x.raw");
        assert!(thin_type("thin", "t").unwrap());
        assert!(!thin_type("eagerZeroedThick", "t").unwrap());
        assert!(thin_type("rdm", "t").is_err());
    }
}
