//! `VirtualMachineSnapshot`, and what snapshots do to a VM's disks.
//!
//! As on ESX, taking a snapshot puts a delta (`<disk>-000001.vmdk`, in the VM's directory,
//! `parentFileNameHint` naming the disk it grows from) on top of each of the VM's disks and
//! points the disk's `fileName` at it; the snapshot keeps the files the disks named before
//! (its `config` shows them). Reverting puts a fresh delta on top of the snapshot's files.
//! Removing a snapshot consolidates: when the file it kept has exactly one delta on it and
//! no other snapshot keeps that file, the delta's data is written into it and the delta
//! goes, whoever named the delta (the `.vmx`, snapshots, deltas above) then naming the file.
//! After each of these, deltas that neither the `.vmx`, a snapshot nor a delta still needed
//! names are deleted, so removing every snapshot leaves the VM on its original files.

use std::path::{Path, PathBuf};

use esx_vim::{Any, DateTime, VirtualMachinePowerState, VirtualMachineSnapshotTree};

use crate::fault::MethodResult;
use crate::mo::virtual_machine::VmMo;
use crate::mo::vm_devices::{self, Media};
use crate::property::{refs, Top};
use crate::state::{Mo, MoRef, State};
use crate::vmdk::{self, Descriptor};

/// Space counted for each delta a snapshot creates (its metadata, on a real host).
pub const DELTA_BYTES: u64 = 1 << 20;

/// A disk as a snapshot keeps it: the `.vmx` slot and the file it named then.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapDisk {
    /// The slot's `.vmx` prefix (`scsi0:0`).
    pub prefix: String,
    /// Its `fileName` when the snapshot was taken.
    pub file: String,
}

/// A snapshot's model.
#[derive(Debug, Clone)]
pub struct SnapshotMo {
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Numeric id.
    pub id: i32,
    /// The VM.
    pub vm: MoRef,
    /// Parent snapshot.
    pub parent: Option<MoRef>,
    /// Child snapshots.
    pub children: Vec<MoRef>,
    /// When it was taken.
    pub created: DateTime,
    /// The VM's power state then.
    pub state: VirtualMachinePowerState,
    /// The VM's memory size and CPU count then (restored on revert).
    pub saved: (String, String),
    /// The VM's disks then.
    pub disks: Vec<SnapDisk>,
}

impl SnapshotMo {
    /// Reads a top-level property.
    pub fn property(&self, state: &State, name: &str) -> Top {
        Some(match name {
            "vm" => Some(Any::from(self.vm.clone())),
            "childSnapshot" => Some(refs(self.children.clone())),
            "config" => match state.get(&self.vm) {
                Some(Mo::VirtualMachine(v)) => Some(Any::from(self.config(state, v))),
                _ => None,
            },
            _ => return None,
        })
    }
}

impl SnapshotMo {
    /// The VM's configuration as the snapshot keeps it: its memory, CPUs and disk files then.
    fn config(&self, state: &State, vm: &VmMo) -> esx_vim::VirtualMachineConfigInfo {
        let mut vmx = vm.vmx().into_owned();
        if !self.saved.0.is_empty() {
            vmx.set("memsize", &self.saved.0);
        }
        if !self.saved.1.is_empty() {
            vmx.set("numvcpus", &self.saved.1);
        }
        for d in &self.disks {
            if vmx.contains_key(&format!("{}.fileName", d.prefix)) {
                vmx.set(&format!("{}.fileName", d.prefix), &d.file);
            }
        }
        let mut c =
            crate::mo::virtual_machine::config_from_vmx(&vmx, &vm.datastore_name, &vm.vmx_rel);
        c.hardware.device = vm
            .device_slots(state, &vmx)
            .into_iter()
            .map(|s| s.device)
            .collect();
        c
    }
}

/// The VM's directory.
fn vm_dir(vm: &VmMo) -> Option<PathBuf> {
    vm.vmx_path.parent().map(Path::to_path_buf)
}

/// The file a `.vmx` `fileName` (or a delta's parent hint) names: relative to the VM's
/// directory, or `/vmfs/volumes/…` / `[ds] …`.
fn resolve(state: &State, dir: &Path, name: &str) -> Option<PathBuf> {
    if name.starts_with('/') || name.starts_with('[') {
        return state.vmfs_path(name);
    }
    crate::files::safe_join(dir, name)
}

/// How a file is named from the VM's directory (its name there, else `/vmfs/volumes/…`).
fn spelling(state: &State, dir: &Path, file: &Path) -> Option<String> {
    if file.parent() == Some(dir) {
        return file.file_name().map(|n| n.to_string_lossy().into_owned());
    }
    state.vmfs_name(file)
}

/// The VM's disk slots whose descriptor exists: (prefix, `fileName`, descriptor).
fn disks(state: &State, vm: &VmMo) -> Vec<(String, String, PathBuf)> {
    let Some(dir) = vm_dir(vm) else {
        return Vec::new();
    };
    let vmx = vm.vmx();
    vm_devices::present_prefixes(&vmx)
        .into_iter()
        .filter(|p| vm_devices::media(&vmx, p) == Some(Media::Disk))
        .filter_map(|p| {
            let file = vmx.get(&format!("{p}.fileName"))?.to_owned();
            let path = resolve(state, &dir, &file).filter(|f| f.is_file())?;
            Some((p, file, path))
        })
        .collect()
}

/// A free delta name in `dir` for a disk `base` (`disk-000001.vmdk`, …; a delta's own
/// number is dropped first).
fn next_delta(dir: &Path, base: &Path) -> PathBuf {
    let stem = vmdk::stem(base);
    let root = match stem.rsplit_once('-') {
        Some((r, n)) if n.len() == 6 && n.bytes().all(|b| b.is_ascii_digit()) => r.to_owned(),
        _ => stem,
    };
    (1..1_000_000)
        .map(|n| dir.join(format!("{root}-{n:06}.vmdk")))
        .find(|p| {
            !p.exists()
                && !p
                    .with_file_name(format!("{}-delta.vmdk", vmdk::stem(p)))
                    .exists()
        })
        .unwrap_or_else(|| dir.join(format!("{root}-delta.vmdk")))
}

/// The deltas the simulator made in `dir` (`*-NNNNNN.vmdk` with a parent).
fn deltas_in(dir: &Path) -> Vec<(PathBuf, Descriptor)> {
    let Ok(it) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<(PathBuf, Descriptor)> = it
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let s = vmdk::stem(p);
            p.extension().is_some_and(|x| x == "vmdk")
                && s.rsplit_once('-')
                    .is_some_and(|(_, n)| n.len() == 6 && n.bytes().all(|b| b.is_ascii_digit()))
        })
        .filter_map(|p| {
            let d = Descriptor::read(&p).ok()?;
            d.parent.is_some().then_some((p, d))
        })
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

/// Puts a delta on top of each `(prefix, file)` and points the slots at them, saving the
/// `.vmx`; on failure removes the deltas made and leaves the `.vmx` as it was.
fn add_deltas(state: &mut State, vm_ref: &MoRef, on: &[(String, String)]) -> MethodResult<()> {
    let vm = state.vm(vm_ref)?;
    let Some(dir) = vm_dir(vm) else {
        return Ok(());
    };
    let mut made: Vec<PathBuf> = Vec::new();
    let mut sets: Vec<(String, String)> = Vec::new();
    let undo = |made: &[PathBuf]| {
        for d in made {
            for f in crate::mo::virtual_disk_manager::disk_files(d) {
                let _ = std::fs::remove_file(f);
            }
        }
    };
    for (prefix, file) in on {
        let Some(path) = resolve(state, &dir, file) else {
            continue;
        };
        let Ok(parent) = Descriptor::read(&path) else {
            continue;
        };
        let Some(hint) = spelling(state, &dir, &path) else {
            continue;
        };
        let delta = next_delta(&dir, &path);
        let seed = crate::mo::virtual_machine::seed_bytes(&format!("cid:{}", delta.display()));
        let cid: String = seed[..4].iter().map(|b| format!("{b:02x}")).collect();
        if let Err(e) = vmdk::create_delta(&delta, &parent, &hint, &cid) {
            undo(&made);
            return Err(crate::fault::Fault::invalid_state(&format!(
                "cannot create the snapshot's delta of {file}: {e}"
            )));
        }
        sets.push((
            prefix.clone(),
            spelling(state, &dir, &delta).unwrap_or_default(),
        ));
        made.push(delta);
    }
    if sets.is_empty() {
        return Ok(());
    }
    let vm = state.vm_mut(vm_ref)?;
    let before = vm.vmx_parsed.clone();
    for (p, f) in &sets {
        vm.vmx_mut().set(&format!("{p}.fileName"), f);
    }
    if let Err(f) = vm.save() {
        vm.vmx_parsed = before;
        undo(&made);
        return Err(f);
    }
    Ok(())
}

/// Checks that `deltas` new deltas fit on the VM's datastore (`NoDiskSpace` otherwise).
fn check_space(state: &State, vm: &VmMo, deltas: usize) -> MethodResult<()> {
    let block = crate::files::BLOCK as u64;
    let needed = block + deltas as u64 * (block + DELTA_BYTES);
    crate::mo::datastore::check_space(state, &vm.datastore, needed, 0, &vm.ds_path())
}

/// `CreateSnapshot_Task`'s disk part: a delta on each of the VM's disks; returns the disks as
/// they were, for the snapshot to keep.
pub fn take(state: &mut State, vm_ref: &MoRef) -> MethodResult<Vec<SnapDisk>> {
    if state.vm(vm_ref)?.files_pending() {
        state.vm_mut(vm_ref)?.save()?;
    }
    let vm = state.vm(vm_ref)?;
    let list = disks(state, vm);
    check_space(state, vm, list.len())?;
    let on: Vec<(String, String)> = list.into_iter().map(|(p, f, _)| (p, f)).collect();
    add_deltas(state, vm_ref, &on)?;
    Ok(on
        .into_iter()
        .map(|(prefix, file)| SnapDisk { prefix, file })
        .collect())
}

/// `RevertToSnapshot_Task`'s disk part: a fresh delta on each disk the snapshot kept (for the
/// slots the VM still has), then the deltas nothing needs are deleted.
pub fn revert(state: &mut State, vm_ref: &MoRef, kept: &[SnapDisk]) -> MethodResult<()> {
    let vm = state.vm(vm_ref)?;
    let now: Vec<String> = disks(state, vm).into_iter().map(|(p, ..)| p).collect();
    let on: Vec<(String, String)> = kept
        .iter()
        .filter(|d| now.contains(&d.prefix))
        .map(|d| (d.prefix.clone(), d.file.clone()))
        .collect();
    check_space(state, vm, on.len())?;
    add_deltas(state, vm_ref, &on)?;
    collect_garbage(state, vm_ref);
    Ok(())
}

/// The disk files the snapshots of `vm_ref` keep, resolved.
fn snapshot_files(state: &State, vm_ref: &MoRef, dir: &Path) -> Vec<PathBuf> {
    state
        .objects
        .values()
        .filter_map(|m| match m {
            Mo::Snapshot(s) if &s.vm == vm_ref => Some(s),
            _ => None,
        })
        .flat_map(|s| s.disks.iter())
        .filter_map(|d| resolve(state, dir, &d.file))
        .collect()
}

/// After a snapshot that kept `kept` left the tree: merges into each kept file its only
/// delta (when no other snapshot keeps the file), then deletes the deltas nothing needs.
pub fn consolidate(state: &mut State, vm_ref: &MoRef, kept: &[SnapDisk]) {
    for d in kept {
        if let Err(e) = merge_child(state, vm_ref, d) {
            tracing::warn!(file = %d.file, error = %e.message, "cannot consolidate a snapshot");
        }
    }
    collect_garbage(state, vm_ref);
}

/// Merges the only delta on top of `kept.file` into it (see [`consolidate`]).
fn merge_child(state: &mut State, vm_ref: &MoRef, kept: &SnapDisk) -> MethodResult<()> {
    let vm = state.vm(vm_ref)?;
    let Some(dir) = vm_dir(vm) else {
        return Ok(());
    };
    let Some(parent) = resolve(state, &dir, &kept.file) else {
        return Ok(());
    };
    if snapshot_files(state, vm_ref, &dir).contains(&parent) {
        return Ok(());
    }
    let deltas = deltas_in(&dir);
    let children: Vec<&(PathBuf, Descriptor)> = deltas
        .iter()
        .filter(|(p, d)| {
            d.parent
                .as_deref()
                .and_then(|h| vmdk::resolve_hint(p, h, &|x| state.vmfs_path(x)))
                .as_ref()
                == Some(&parent)
        })
        .collect();
    let [(child, child_desc)] = children.as_slice() else {
        return Ok(());
    };
    let Ok(parent_desc) = Descriptor::read(&parent) else {
        return Ok(());
    };
    let fail = |e: &dyn std::fmt::Display| {
        crate::fault::Fault::invalid_state(&format!("cannot consolidate {}: {e}", kept.file))
    };
    let (Ok(pe), Ok(ce)) = (
        parent_desc.extent_paths(&parent),
        child_desc.extent_paths(child),
    ) else {
        return Ok(());
    };
    let ([pe], [ce]) = (pe.as_slice(), ce.as_slice()) else {
        return Ok(());
    };
    // The delta's data, written into the file it grew from.
    let src = std::fs::File::open(ce).map_err(|e| fail(&e))?;
    let dst = std::fs::OpenOptions::new()
        .write(true)
        .open(pe)
        .map_err(|e| fail(&e))?;
    let len = child_desc.capacity().min(parent_desc.capacity());
    crate::files::overlay(&src, 0, len, &dst, 0).map_err(|e| fail(&e))?;
    drop((src, dst));
    // Whoever named the delta now names the file.
    let child = child.clone();
    let parent_hint = spelling(state, &dir, &parent).unwrap_or_else(|| kept.file.clone());
    for (p, d) in &deltas {
        let named = d
            .parent
            .as_deref()
            .and_then(|h| vmdk::resolve_hint(p, h, &|x| state.vmfs_path(x)));
        if named.as_ref() == Some(&child) {
            let mut d = d.clone();
            d.parent = Some(parent_hint.clone());
            d.parent_cid = parent_desc.cid.clone();
            d.write(p).map_err(|e| fail(&e))?;
        }
    }
    let renamed: Vec<(String, usize)> = state
        .objects
        .iter()
        .filter_map(|(id, m)| match m {
            Mo::Snapshot(s) if &s.vm == vm_ref => Some((id, s)),
            _ => None,
        })
        .flat_map(|(id, s)| {
            s.disks
                .iter()
                .enumerate()
                .filter(|(_, sd)| resolve(state, &dir, &sd.file).as_ref() == Some(&child))
                .map(|(i, _)| (id.clone(), i))
                .collect::<Vec<_>>()
        })
        .collect();
    for (id, i) in renamed {
        if let Some(Mo::Snapshot(s)) = state.objects.get_mut(&id) {
            if let Some(sd) = s.disks.get_mut(i) {
                sd.file = kept.file.clone();
            }
        }
    }
    let slots: Vec<String> = disks(state, state.vm(vm_ref)?)
        .into_iter()
        .filter(|(_, _, p)| p == &child)
        .map(|(prefix, ..)| prefix)
        .collect();
    let vm = state.vm_mut(vm_ref)?;
    for prefix in &slots {
        vm.vmx_mut().set(&format!("{prefix}.fileName"), &kept.file);
    }
    if !slots.is_empty() {
        vm.save()?;
    }
    for f in crate::mo::virtual_disk_manager::disk_files(&child) {
        let _ = std::fs::remove_file(f);
    }
    Ok(())
}

/// Deletes the VM's deltas that neither its `.vmx`, its snapshots nor a delta still needed
/// names.
pub fn collect_garbage(state: &State, vm_ref: &MoRef) {
    let Ok(vm) = state.vm(vm_ref) else {
        return;
    };
    let Some(dir) = vm_dir(vm) else {
        return;
    };
    let deltas = deltas_in(&dir);
    if deltas.is_empty() {
        return;
    }
    let mut keep: Vec<PathBuf> = disks(state, vm).into_iter().map(|(.., p)| p).collect();
    keep.extend(snapshot_files(state, vm_ref, &dir));
    let mut i = 0;
    while i < keep.len() {
        if let Some((p, d)) = deltas.iter().find(|(p, _)| p == &keep[i]) {
            if let Some(parent) = d
                .parent
                .as_deref()
                .and_then(|h| vmdk::resolve_hint(p, h, &|x| state.vmfs_path(x)))
            {
                if !keep.contains(&parent) {
                    keep.push(parent);
                }
            }
        }
        i += 1;
    }
    for (p, _) in &deltas {
        if !keep.contains(p) {
            for f in crate::mo::virtual_disk_manager::disk_files(p) {
                let _ = std::fs::remove_file(f);
            }
        }
    }
}

/// The snapshot tree rooted at `r`.
pub fn tree(state: &State, r: &MoRef) -> Option<VirtualMachineSnapshotTree> {
    let Some(Mo::Snapshot(s)) = state.get(r) else {
        return None;
    };
    Some(VirtualMachineSnapshotTree {
        snapshot: r.clone(),
        vm: s.vm.clone(),
        name: s.name.clone(),
        description: s.description.clone(),
        id: Some(s.id),
        create_time: s.created,
        state: s.state.clone(),
        quiesced: false,
        child_snapshot_list: s.children.iter().filter_map(|c| tree(state, c)).collect(),
        ..Default::default()
    })
}

/// All snapshots under (and including) `r`.
pub fn descendants(state: &State, r: &MoRef) -> Vec<MoRef> {
    let mut out = vec![r.clone()];
    if let Some(Mo::Snapshot(s)) = state.get(r) {
        for c in &s.children {
            out.extend(descendants(state, c));
        }
    }
    out
}
