//! `FileManager`: directory and file operations on datastore paths (`[ds] dir/file`).

use crate::fault::{Fault, MethodResult};
use crate::state::State;

/// `MakeDirectory`.
pub fn make_directory(state: &State, name: &str, parents: bool) -> MethodResult<()> {
    let (_, path) = state.resolve_ds_path(name)?;
    if path.exists() {
        return Err(Fault::already_exists(name));
    }
    let r = if parents {
        std::fs::create_dir_all(&path)
    } else {
        std::fs::create_dir(&path)
    };
    r.map_err(|_| Fault::file_not_found(name))
}

/// `DeleteDatastoreFile_Task`: a file, or a directory with everything in it.
pub fn delete(state: &State, name: &str) -> MethodResult<()> {
    let (ds, path) = state.resolve_ds_path(name)?;
    if state.datastore_dir(&ds).as_deref() == Some(path.as_path()) {
        return Err(Fault::invalid_argument("name"));
    }
    let r = if path.is_dir() {
        std::fs::remove_dir_all(&path)
    } else {
        std::fs::remove_file(&path)
    };
    r.map_err(|_| Fault::file_not_found(name))
}

/// `MoveDatastoreFile_Task` (`copy == false`) and `CopyDatastoreFile_Task`.
pub fn transfer(
    state: &State,
    source: &str,
    dest: &str,
    force: bool,
    copy: bool,
) -> MethodResult<()> {
    let (_, src) = state.resolve_ds_path(source)?;
    let (_, dst) = state.resolve_ds_path(dest)?;
    if !src.exists() {
        return Err(Fault::file_not_found(source));
    }
    if dst.exists() && !force {
        return Err(Fault::already_exists(dest));
    }
    let fail = |e: std::io::Error| Fault::invalid_state(&format!("cannot write {dest}: {e}"));
    if !copy {
        return std::fs::rename(&src, &dst).map_err(fail);
    }
    if src.is_dir() {
        return Err(Fault::not_supported("copying directories"));
    }
    std::fs::copy(&src, &dst).map(|_| ()).map_err(fail)
}
