//! `HostDatastoreBrowser`: `SearchDatastore_Task` and `SearchDatastoreSubFolders_Task` over
//! the real files of a datastore.

use std::path::Path;

use esx_vim::{
    Any, BaseFileInfo, BaseFileQuery, FileInfo, FileQueryFlags, FloppyImageFileInfo,
    FolderFileInfo, HostDatastoreBrowserSearchResults, HostDatastoreBrowserSearchSpec,
    IsoImageFileInfo, VmConfigFileInfo, VmDiskFileInfo, VmLogFileInfo, VmNvramFileInfo,
    VmSnapshotFileInfo,
};

use crate::fault::{Fault, MethodResult};
use crate::property::{refs, Top};
use crate::state::{MoRef, State};

/// A browser's model.
#[derive(Debug, Clone)]
pub struct BrowserMo {
    /// The datastores it can search.
    pub datastores: Vec<MoRef>,
}

impl BrowserMo {
    /// Reads a top-level property.
    pub fn property(&self, name: &str) -> Top {
        Some(match name {
            "datastore" => Some(refs(self.datastores.clone())),
            "supportedType" => None,
            _ => return None,
        })
    }
}

/// Whether `name` matches the glob `pat` (`*` and `?`).
pub fn glob(pat: &str, name: &str) -> bool {
    fn m(p: &[u8], n: &[u8]) -> bool {
        match (p.first(), n.first()) {
            (None, None) => true,
            (Some(b'*'), _) => m(&p[1..], n) || (!n.is_empty() && m(p, &n[1..])),
            (Some(b'?'), Some(_)) => m(&p[1..], &n[1..]),
            (Some(a), Some(b)) if a.eq_ignore_ascii_case(b) => m(&p[1..], &n[1..]),
            _ => false,
        }
    }
    m(pat.as_bytes(), name.as_bytes())
}

/// What a datastore file is, by name, as the datastore browser classifies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// A directory.
    Folder,
    /// A virtual disk descriptor (`.vmdk` but not an extent).
    VmDisk,
    /// `.vmx`.
    VmConfig,
    /// `.vmtx`.
    Template,
    /// `.log`.
    VmLog,
    /// `.nvram`.
    VmNvram,
    /// `.vmsn`.
    VmSnapshot,
    /// `.iso`.
    IsoImage,
    /// `.flp`.
    FloppyImage,
    /// Anything else.
    Other,
}

/// Extents of a disk, which the browser hides (they belong to their descriptor).
const EXTENT_SUFFIXES: [&str; 4] = ["-flat.vmdk", "-delta.vmdk", "-sesparse.vmdk", "-ctk.vmdk"];

/// Classifies `name`; `None` for files the browser never shows (disk extents).
pub fn file_kind(name: &str, is_dir: bool) -> Option<FileKind> {
    if is_dir {
        return Some(FileKind::Folder);
    }
    let lower = name.to_ascii_lowercase();
    if EXTENT_SUFFIXES.iter().any(|s| lower.ends_with(s)) {
        return None;
    }
    let ext = lower.rsplit_once('.').map_or("", |(_, e)| e);
    Some(match ext {
        "vmdk" => FileKind::VmDisk,
        "vmx" => FileKind::VmConfig,
        "vmtx" => FileKind::Template,
        "log" => FileKind::VmLog,
        "nvram" => FileKind::VmNvram,
        "vmsn" => FileKind::VmSnapshot,
        "iso" => FileKind::IsoImage,
        "flp" => FileKind::FloppyImage,
        _ => FileKind::Other,
    })
}

/// The query in `queries` that selects files of `kind`: `Ok(None)` when there are no queries
/// (everything matches), `Err(())` when no query matches.
fn matching_query(queries: &[BaseFileQuery], kind: FileKind) -> Result<Option<&BaseFileQuery>, ()> {
    if queries.is_empty() {
        return Ok(None);
    }
    queries
        .iter()
        .find(|q| match q {
            BaseFileQuery::FileQuery(_) => true,
            BaseFileQuery::FolderFileQuery(_) => kind == FileKind::Folder,
            BaseFileQuery::VmDiskFileQuery(_) => kind == FileKind::VmDisk,
            BaseFileQuery::VmConfigFileQuery(_) => kind == FileKind::VmConfig,
            BaseFileQuery::TemplateConfigFileQuery(_) => kind == FileKind::Template,
            BaseFileQuery::VmLogFileQuery(_) => kind == FileKind::VmLog,
            BaseFileQuery::VmNvramFileQuery(_) => kind == FileKind::VmNvram,
            BaseFileQuery::VmSnapshotFileQuery(_) => kind == FileKind::VmSnapshot,
            BaseFileQuery::IsoImageFileQuery(_) => kind == FileKind::IsoImage,
            BaseFileQuery::FloppyImageFileQuery(_) => kind == FileKind::FloppyImage,
        })
        .map(Some)
        .ok_or(())
}

/// Bytes a file occupies on disk.
fn allocated(m: &std::fs::Metadata) -> u64 {
    use std::os::unix::fs::MetadataExt;
    m.blocks() * 512
}

/// Describes one file, or `None` when the search spec does not select it.
fn file_info(
    path: &Path,
    name: &str,
    spec: &Option<HostDatastoreBrowserSearchSpec>,
) -> Option<BaseFileInfo> {
    let md = std::fs::metadata(path).ok()?;
    let kind = file_kind(name, md.is_dir())?;
    let queries = spec.as_ref().map(|s| s.query.as_slice()).unwrap_or(&[]);
    let query = matching_query(queries, kind).ok()?;
    // Without a spec (or without details) the browser returns every detail: a lenient
    // default; with details, only the fields asked for.
    let flags = spec.as_ref().and_then(|s| s.details.clone());
    let want = |f: fn(&FileQueryFlags) -> bool| flags.as_ref().is_none_or(f);
    let modification = md.modified().ok().and_then(|t| {
        let d = t.duration_since(std::time::UNIX_EPOCH).ok()?;
        chrono::DateTime::from_timestamp(d.as_secs() as i64, 0).map(|x| x.fixed_offset())
    });
    let modification = modification.filter(|_| want(|f| f.modification));
    // A disk's size is what its descriptor and extents occupy (sparse extents count
    // their allocated blocks, so a fresh thin disk is small).
    let size = if kind == FileKind::VmDisk {
        crate::mo::virtual_disk_manager::disk_files(path)
            .iter()
            .filter_map(|f| std::fs::metadata(f).ok())
            .map(|m| allocated(&m))
            .sum()
    } else {
        md.len()
    };
    let file_size = Some(size as i64).filter(|_| want(|f| f.file_size));
    let owner = Some("root".to_owned()).filter(|_| want(|f| f.file_owner.unwrap_or(false)));
    let base = FileInfo {
        path: name.into(),
        file_size,
        modification,
        owner,
        ..Default::default()
    };
    Some(match kind {
        FileKind::Folder => BaseFileInfo::from(FolderFileInfo {
            path: base.path,
            file_size: base.file_size,
            modification: base.modification,
            owner: base.owner,
            ..Default::default()
        }),
        FileKind::VmDisk => {
            let disk_flags = match query {
                Some(BaseFileQuery::VmDiskFileQuery(q)) => q.details.clone(),
                _ => None,
            };
            let all = disk_flags.is_none();
            let d = disk_flags.unwrap_or_default();
            BaseFileInfo::from(VmDiskFileInfo {
                path: base.path,
                file_size: base.file_size,
                modification: base.modification,
                owner: base.owner,
                capacity_kb: crate::files::vmdk_capacity_kb(path).filter(|_| all || d.capacity_kb),
                disk_type: Some("VirtualDiskFlatVer2BackingInfo".to_owned())
                    .filter(|_| all || d.disk_type),
                hardware_version: Some(4).filter(|_| all || d.hardware_version),
                controller_type: Some("VirtualLsiLogicController".to_owned())
                    .filter(|_| all || d.controller_type.unwrap_or(false)),
                thin: Some(false).filter(|_| all || d.thin.unwrap_or(false)),
                ..Default::default()
            })
        }
        FileKind::VmConfig => BaseFileInfo::from(VmConfigFileInfo {
            path: base.path,
            file_size: base.file_size,
            modification: base.modification,
            owner: base.owner,
            config_version: Some(8),
            ..Default::default()
        }),
        FileKind::IsoImage => BaseFileInfo::from(IsoImageFileInfo {
            path: base.path,
            file_size: base.file_size,
            modification: base.modification,
            owner: base.owner,
            ..Default::default()
        }),
        FileKind::FloppyImage => BaseFileInfo::from(FloppyImageFileInfo {
            path: base.path,
            file_size: base.file_size,
            modification: base.modification,
            owner: base.owner,
            ..Default::default()
        }),
        FileKind::VmLog => BaseFileInfo::from(VmLogFileInfo {
            path: base.path,
            file_size: base.file_size,
            modification: base.modification,
            owner: base.owner,
            ..Default::default()
        }),
        FileKind::VmNvram => BaseFileInfo::from(VmNvramFileInfo {
            path: base.path,
            file_size: base.file_size,
            modification: base.modification,
            owner: base.owner,
            ..Default::default()
        }),
        FileKind::VmSnapshot => BaseFileInfo::from(VmSnapshotFileInfo {
            path: base.path,
            file_size: base.file_size,
            modification: base.modification,
            owner: base.owner,
            ..Default::default()
        }),
        FileKind::Template | FileKind::Other => BaseFileInfo::from(base),
    })
}

fn search_dir(
    ds: &MoRef,
    folder: &str,
    dir: &Path,
    spec: &Option<HostDatastoreBrowserSearchSpec>,
) -> HostDatastoreBrowserSearchResults {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|it| {
            it.filter_map(|e| e.ok())
                .filter_map(|e| e.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    let patterns = spec
        .as_ref()
        .map(|s| s.match_pattern.clone())
        .unwrap_or_default();
    let file = names
        .iter()
        .filter(|n| !n.starts_with('.'))
        .filter(|n| patterns.is_empty() || patterns.iter().any(|p| glob(p, n)))
        .filter_map(|n| file_info(&dir.join(n), n, spec))
        .collect();
    HostDatastoreBrowserSearchResults {
        datastore: Some(ds.clone()),
        folder_path: Some(folder.to_owned()),
        file,
    }
}

/// `SearchDatastore_Task`'s result.
pub fn search(
    state: &State,
    ds_path: &str,
    spec: &Option<HostDatastoreBrowserSearchSpec>,
) -> MethodResult<Any> {
    let (ds, dir) = state.resolve_ds_path(ds_path)?;
    if !dir.is_dir() {
        return Err(Fault::file_not_found(ds_path));
    }
    Ok(Any::from(search_dir(&ds, ds_path, &dir, spec)))
}

/// `SearchDatastoreSubFolders_Task`'s result.
pub fn search_sub_folders(
    state: &State,
    ds_path: &str,
    spec: &Option<HostDatastoreBrowserSearchSpec>,
) -> MethodResult<Any> {
    let (ds, dir) = state.resolve_ds_path(ds_path)?;
    if !dir.is_dir() {
        return Err(Fault::file_not_found(ds_path));
    }
    let mut out = Vec::new();
    let mut stack = vec![(ds_path.trim_end_matches('/').to_owned(), dir)];
    while let Some((label, d)) = stack.pop() {
        out.push(search_dir(&ds, &label, &d, spec));
        let mut subs: Vec<_> = std::fs::read_dir(&d)
            .map(|it| {
                it.filter_map(|e| e.ok())
                    .filter(|e| e.path().is_dir())
                    .collect()
            })
            .unwrap_or_default();
        subs.sort_by_key(|e| e.file_name());
        for e in subs.into_iter().rev() {
            let name = e.file_name().to_string_lossy().into_owned();
            let sep = if label.ends_with(']') { " " } else { "/" };
            stack.push((format!("{label}{sep}{name}"), e.path()));
        }
        if out.len() > 10_000 {
            break;
        }
    }
    Ok(Any::from(
        esx_vim::ArrayOfHostDatastoreBrowserSearchResults {
            host_datastore_browser_search_results: out,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::{file_kind, glob, FileKind};

    #[test]
    fn classifies_and_hides_extents() {
        assert_eq!(file_kind("a.vmdk", false), Some(FileKind::VmDisk));
        assert_eq!(file_kind("a-flat.vmdk", false), None);
        assert_eq!(file_kind("a.VMX", false), Some(FileKind::VmConfig));
        assert_eq!(file_kind("a.iso", false), Some(FileKind::IsoImage));
        assert_eq!(file_kind("a.vmx", true), Some(FileKind::Folder));
        assert_eq!(file_kind("notes", false), Some(FileKind::Other));
    }

    #[test]
    fn globs() {
        assert!(glob("*", "a.vmx"));
        assert!(glob("*.vmdk", "disk.VMDK"));
        assert!(!glob("*.vmdk", "disk-flat.vmx"));
        assert!(glob("a?c", "abc"));
    }
}
