//! `FileManager`: directory and file operations on datastore paths (`[ds] dir/file`).
//!
//! Files and directories alike: `MakeDirectory` (with or without its parents),
//! `DeleteDatastoreFile_Task` (directories with everything in them), `MoveDatastoreFile_Task`
//! and `CopyDatastoreFile_Task` (a file or a whole tree, replacing the destination only with
//! `force`). They work on files as files: a `.vmdk` descriptor moves without its extents (the
//! `VirtualDiskManager` handles disks). Copies are sparse and every file of a copy is complete
//! or absent; a copied tree appears under its name only once complete.
//!
//! Faults, as vSphere names them: `InvalidDatastorePath` for a name that is not a
//! `[datastore] path` on a known datastore, `FileNotFound` for a missing source or parent
//! directory, `FileAlreadyExists` for an existing destination (or directory to make),
//! `CannotDeleteFile` for what cannot be deleted (the datastore's root, a failed removal),
//! `NoDiskSpace` for a copy (or a move to another datastore) that does not fit.

use std::path::Path;

use crate::fault::{Fault, MethodResult};
use crate::files::{allocated, allocated_size, copy_file, copy_tree, temp_path};
use crate::state::State;

/// Bytes a file or tree occupies on disk.
fn occupied(path: &Path) -> u64 {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => allocated_size(path),
        Ok(m) => allocated(&m),
        Err(_) => 0,
    }
}

/// The `[ds] dir` of a datastore path's parent directory.
fn parent_name(name: &str) -> String {
    let n = name.trim_end_matches('/');
    match n.rsplit_once('/') {
        Some((d, _)) => d.to_owned(),
        None => n.split_once(']').map_or(n, |(d, _)| d).to_owned() + "]",
    }
}

/// `MakeDirectory`.
pub fn make_directory(state: &State, name: &str, parents: bool) -> MethodResult<()> {
    let (_, path) = state.resolve_file(name)?;
    if path.exists() {
        return Err(Fault::file_already_exists(name));
    }
    let r = if parents {
        std::fs::create_dir_all(&path)
    } else {
        if !path.parent().is_some_and(Path::is_dir) {
            return Err(Fault::file_not_found(&parent_name(name)));
        }
        std::fs::create_dir(&path)
    };
    r.map_err(|e| Fault::invalid_state(&format!("cannot create {name}: {e}")))
}

/// `DeleteDatastoreFile_Task`: a file, or a directory with everything in it.
pub fn delete(state: &State, name: &str) -> MethodResult<()> {
    let (ds, path) = state.resolve_file(name)?;
    if state.datastore_dir(&ds).as_deref() == Some(path.as_path()) {
        return Err(Fault::cannot_delete_file(name));
    }
    let m = std::fs::symlink_metadata(&path).map_err(|_| Fault::file_not_found(name))?;
    let r = if m.is_dir() {
        std::fs::remove_dir_all(&path)
    } else {
        std::fs::remove_file(&path)
    };
    r.map_err(|_| Fault::cannot_delete_file(name))
}

/// Puts `src` (a file or a directory) at `dst`, replacing what is there: the old `dst` is
/// moved aside first and put back if the rename fails.
fn replace_with(src: &Path, dst: &Path) -> std::io::Result<()> {
    let aside = match dst.parent() {
        Some(dir) if dst.exists() => {
            let name = dst
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let a = temp_path(dir, &name);
            std::fs::rename(dst, &a)?;
            Some(a)
        }
        _ => None,
    };
    let r = std::fs::rename(src, dst);
    match (r, aside) {
        (Ok(()), Some(a)) => {
            if a.is_dir() {
                std::fs::remove_dir_all(a)
            } else {
                std::fs::remove_file(a)
            }
        }
        (Ok(()), None) => Ok(()),
        (Err(e), Some(a)) => {
            let _ = std::fs::rename(a, dst);
            Err(e)
        }
        (Err(e), None) => Err(e),
    }
}

/// `MoveDatastoreFile_Task` (`copy == false`) and `CopyDatastoreFile_Task`.
pub fn transfer(
    state: &State,
    source: &str,
    dest: &str,
    force: bool,
    copy: bool,
) -> MethodResult<()> {
    let (src_ds, src) = state.resolve_file(source)?;
    let (dst_ds, dst) = state.resolve_file(dest)?;
    let src_meta = std::fs::symlink_metadata(&src).map_err(|_| Fault::file_not_found(source))?;
    if state.datastore_dir(&src_ds).as_deref() == Some(src.as_path()) {
        return Err(Fault::invalid_argument("sourceName"));
    }
    if src == dst {
        return Ok(());
    }
    if dst.starts_with(&src) || state.datastore_dir(&dst_ds).as_deref() == Some(dst.as_path()) {
        return Err(Fault::invalid_argument("destinationName"));
    }
    let exists = std::fs::symlink_metadata(&dst).is_ok();
    if exists && !force {
        return Err(Fault::file_already_exists(dest));
    }
    if !dst.parent().is_some_and(Path::is_dir) {
        return Err(Fault::file_not_found(&parent_name(dest)));
    }
    if copy || src_ds != dst_ds {
        let reclaimed = if exists { occupied(&dst) } else { 0 };
        crate::mo::datastore::check_space(state, &dst_ds, occupied(&src), reclaimed, dest)?;
    }
    let fail = |e: std::io::Error| Fault::invalid_state(&format!("cannot write {dest}: {e}"));
    if !copy {
        return replace_with(&src, &dst).map_err(fail);
    }
    if !src_meta.is_dir() {
        return copy_file(&src, &dst).map_err(fail);
    }
    // A tree is copied under a temporary name, then put in place whole.
    let dir = dst.parent().ok_or_else(|| Fault::file_not_found(dest))?;
    let name = dst
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = temp_path(dir, &name);
    if let Err(e) = copy_tree(&src, &temp) {
        let _ = std::fs::remove_dir_all(&temp);
        return Err(fail(e));
    }
    replace_with(&temp, &dst).map_err(|e| {
        let _ = std::fs::remove_dir_all(&temp);
        fail(e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parent_names() {
        assert_eq!(parent_name("[ds] a/b/c"), "[ds] a/b");
        assert_eq!(parent_name("[ds] a/b/"), "[ds] a");
        assert_eq!(parent_name("[ds] a"), "[ds]");
    }
}
