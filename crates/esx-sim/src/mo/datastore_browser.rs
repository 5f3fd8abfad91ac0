//! `HostDatastoreBrowser`: `SearchDatastore_Task` and `SearchDatastoreSubFolders_Task` over
//! the real files of a datastore.

use std::path::Path;

use esx_vim::{
    Any, BaseFileInfo, FileInfo, FolderFileInfo, HostDatastoreBrowserSearchResults,
    HostDatastoreBrowserSearchSpec, VmConfigFileInfo, VmDiskFileInfo,
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

fn file_info(path: &Path, name: &str) -> Option<BaseFileInfo> {
    let md = std::fs::metadata(path).ok()?;
    let modification = md.modified().ok().and_then(|t| {
        let d = t.duration_since(std::time::UNIX_EPOCH).ok()?;
        chrono::DateTime::from_timestamp(d.as_secs() as i64, 0).map(|x| x.fixed_offset())
    });
    let size = Some(md.len() as i64);
    Some(if md.is_dir() {
        BaseFileInfo::from(FolderFileInfo {
            path: name.into(),
            file_size: size,
            modification,
            ..Default::default()
        })
    } else if name.ends_with(".vmdk") && !name.ends_with("-flat.vmdk") {
        let capacity = crate::files::vmdk_capacity_kb(path);
        BaseFileInfo::from(VmDiskFileInfo {
            path: name.into(),
            file_size: size,
            modification,
            capacity_kb: capacity,
            disk_type: Some("VirtualDiskFlatVer2BackingInfo".into()),
            hardware_version: Some(4),
            thin: Some(false),
            ..Default::default()
        })
    } else if name.ends_with(".vmx") {
        BaseFileInfo::from(VmConfigFileInfo {
            path: name.into(),
            file_size: size,
            modification,
            config_version: Some(8),
            ..Default::default()
        })
    } else {
        BaseFileInfo::from(FileInfo {
            path: name.into(),
            file_size: size,
            modification,
            ..Default::default()
        })
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
        .filter_map(|n| file_info(&dir.join(n), n))
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
    use super::glob;

    #[test]
    fn globs() {
        assert!(glob("*", "a.vmx"));
        assert!(glob("*.vmdk", "disk.VMDK"));
        assert!(!glob("*.vmdk", "disk-flat.vmx"));
        assert!(glob("a?c", "abc"));
    }
}
