//! Mapping between VMX file names (`/vmfs/volumes/<ds>/<path>`) and libvirt datastore paths
//! (`[ds] path`).

use esx_domain::Disk;

use super::{ConvertError, Result};

/// Maps file names between the VMX and domain XML worlds.
pub trait FileNameResolver {
    /// VMX file name -> domain source (`[ds] path` or an absolute path). `Ok(None)` means the
    /// file is missing but `allow_missing` (only set for CD-ROM images) allowed that.
    fn parse_file_name(&self, name: &str, allow_missing: bool) -> Result<Option<String>>;

    /// Domain source -> VMX file name.
    fn format_file_name(&self, src: &str) -> Result<String>;

    /// The SCSI controller model for a disk on a controller whose model is `auto`
    /// (`None` when unknown).
    fn autodetect_scsi_controller_model(&self, _disk: &Disk) -> Result<Option<String>> {
        Ok(None)
    }
}

/// The conventions of libvirt's own vmx2xml/xml2vmx tests: `/vmfs/volumes/<ds>/<rest>` is
/// `[<ds>] <rest>`, a datastore named `missing` or a file name starting with `missing` is
/// absent, bare names live in `[datastore] directory/`, absolute paths stay, and the SCSI
/// model autodetection answers `lsilogic`.
#[derive(Debug, Clone, Copy, Default)]
pub struct LibvirtTestResolver;

impl FileNameResolver for LibvirtTestResolver {
    fn parse_file_name(&self, name: &str, allow_missing: bool) -> Result<Option<String>> {
        if let Some(rest) = name.strip_prefix("/vmfs/volumes/") {
            let Some((ds, path)) = rest.split_once('/') else {
                return Err(ConvertError::FileName(format!(
                    "Could not handle file name '{name}'"
                )));
            };
            if ds == "missing" || path.starts_with("missing") {
                if allow_missing {
                    return Ok(None);
                }
                return Err(ConvertError::FileName(format!(
                    "Referenced missing file '{name}'"
                )));
            }
            return Ok(Some(format!("[{ds}] {path}")));
        }
        if name.starts_with('/') {
            return Ok(Some(name.to_string()));
        }
        if name.contains('/') {
            return Err(ConvertError::FileName(format!(
                "Could not handle file name '{name}'"
            )));
        }
        Ok(Some(format!("[datastore] directory/{name}")))
    }

    fn format_file_name(&self, src: &str) -> Result<String> {
        if let Some(rest) = src.strip_prefix('[') {
            if let Some((ds, path)) = rest.split_once(']') {
                if !ds.is_empty() {
                    return Ok(format!(
                        "/vmfs/volumes/{ds}/{}",
                        path.trim_start_matches(' ')
                    ));
                }
            }
        } else if src.starts_with('/') {
            return Ok(src.to_string());
        }
        Err(ConvertError::FileName(format!(
            "Could not handle file name '{src}'"
        )))
    }

    fn autodetect_scsi_controller_model(&self, _disk: &Disk) -> Result<Option<String>> {
        Ok(Some("lsilogic".into()))
    }
}

/// The ESX driver's mapping (libvirt's `esxParseVMXFileName` / `esxFormatVMXFileName`) over
/// a known datastore list.
#[derive(Debug, Clone, Default)]
pub struct DatastoreResolver {
    /// `(name, host mount path)` of every datastore.
    pub datastores: Vec<(String, String)>,
    /// The `.vmx` file's directory as a datastore path, e.g. `[ds] vm`; bare file names are
    /// resolved against it.
    pub vmx_directory: String,
}

/// `[<datastore>] <path>` split as libvirt's `esxUtil_ParseDatastorePath` does: the name up
/// to the first `]` (not empty), the path after it without its leading spaces.
pub fn split_datastore_path(path: &str) -> Option<(&str, &str)> {
    let rest = path.strip_prefix('[')?;
    if rest.starts_with(']') || rest.is_empty() {
        return None;
    }
    match rest.split_once(']') {
        Some((ds, tail)) => Some((ds, tail.trim_start_matches(' '))),
        None => Some((rest, "")),
    }
}

impl FileNameResolver for DatastoreResolver {
    /// libvirt's `esxParseVMXFileName`, except that a datastore's mount path must end at a
    /// path separator of the file name: libvirt compares plain string prefixes, so with
    /// datastores `ds` and `ds2` the file `/vmfs/volumes/ds2/a.vmdk` can land in `[ds] 2/a.vmdk`
    /// (docs/COMPATIBILITY.md).
    fn parse_file_name(&self, name: &str, allow_missing: bool) -> Result<Option<String>> {
        if !name.contains('/') && !name.contains('\\') {
            return Ok(Some(format!("{}/{name}", self.vmx_directory)));
        }
        for (ds, mount) in &self.datastores {
            if mount.is_empty() {
                continue;
            }
            let Some(rest) = name.strip_prefix(mount.as_str()) else {
                continue;
            };
            let at_boundary =
                rest.is_empty() || rest.starts_with(['/', '\\']) || mount.ends_with(['/', '\\']);
            if !at_boundary {
                continue;
            }
            let rest = rest.trim_start_matches(['/', '\\']).replace('\\', "/");
            return Ok(Some(format!("[{ds}] {rest}")));
        }
        if let Some(tail) = name.strip_prefix("/vmfs/volumes/") {
            // strtok: the datastore is the first run of non-'/' characters, the path is all
            // after the '/' that ends it (which must not be empty).
            let tail = tail.trim_start_matches('/');
            let parsed = tail
                .split_once('/')
                .filter(|(ds, path)| !ds.is_empty() && !path.is_empty());
            let Some((ds, path)) = parsed else {
                return Err(ConvertError::FileName(format!(
                    "File name '{name}' doesn't have expected format '/vmfs/volumes/<datastore>/<path>'"
                )));
            };
            if self.datastores.iter().any(|(n, _)| n == ds) {
                return Ok(Some(format!("[{ds}] {path}")));
            }
            if allow_missing {
                return Ok(None);
            }
            return Err(ConvertError::FileName(format!(
                "File name '{name}' refers to non-existing datastore '{ds}'"
            )));
        }
        if name.starts_with('/') {
            return Ok(Some(name.to_string()));
        }
        Err(ConvertError::FileName(format!(
            "Could not handle file name '{name}'"
        )))
    }

    /// libvirt's `esxAutodetectSCSIControllerModel` without the server's file information:
    /// a SCSI disk image on a datastore cannot be looked up here (libvirt asks the datastore
    /// browser, which reports the controller only for existing disks), any other disk gives
    /// no model.
    fn autodetect_scsi_controller_model(&self, disk: &Disk) -> Result<Option<String>> {
        let src = disk.source.as_ref().and_then(|s| s.path.as_deref());
        match src {
            Some(src)
                if disk.device == "disk"
                    && disk.target.bus.as_deref() == Some("scsi")
                    && disk.disk_type == "file"
                    && src.starts_with('[') =>
            {
                Err(ConvertError::FileName(format!(
                    "Could not lookup controller model for '{src}'"
                )))
            }
            _ => Ok(None),
        }
    }

    /// libvirt's `esxFormatVMXFileName`: `[ds] path` becomes the datastore's mount path, the
    /// separator it uses, and the path.
    fn format_file_name(&self, src: &str) -> Result<String> {
        if src.starts_with('[') {
            let Some((ds, path)) = split_datastore_path(src) else {
                return Err(ConvertError::FileName(format!(
                    "Datastore path '{src}' doesn't have expected format '[<datastore>] <path>'"
                )));
            };
            let Some((_, mount)) = self.datastores.iter().find(|(n, _)| n == ds) else {
                return Err(ConvertError::FileName(format!(
                    "Could not find datastore with name '{ds}'"
                )));
            };
            let sep = if mount.contains('\\') { '\\' } else { '/' };
            let base = mount.trim_end_matches(sep);
            let path = if sep == '\\' {
                path.replace('/', "\\")
            } else {
                path.to_string()
            };
            return Ok(format!("{base}{sep}{path}"));
        }
        if src.starts_with('/') {
            return Ok(src.to_string());
        }
        Err(ConvertError::FileName(format!(
            "Could not handle file name '{src}'"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libvirt_test_conventions() {
        let r = LibvirtTestResolver;
        assert_eq!(
            r.parse_file_name("/vmfs/volumes/ds/a/b.vmdk", false)
                .unwrap()
                .as_deref(),
            Some("[ds] a/b.vmdk")
        );
        assert_eq!(
            r.parse_file_name("/vmfs/volumes/missing/x.iso", true)
                .unwrap(),
            None
        );
        assert!(r
            .parse_file_name("/vmfs/volumes/ds/missing.vmdk", false)
            .is_err());
        assert_eq!(
            r.parse_file_name("x.vmdk", false).unwrap().as_deref(),
            Some("[datastore] directory/x.vmdk")
        );
        assert!(r.parse_file_name("a/x.vmdk", false).is_err());
        assert_eq!(
            r.format_file_name("[ds] a/b.vmdk").unwrap(),
            "/vmfs/volumes/ds/a/b.vmdk"
        );
        assert!(r.format_file_name("[] a").is_err());
        assert!(r.format_file_name("rel/a").is_err());
    }

    #[test]
    fn datastore_resolver() {
        let r = DatastoreResolver {
            datastores: vec![("store".into(), "/vmfs/volumes/4a5b".into())],
            vmx_directory: "[store] vm".into(),
        };
        assert_eq!(
            r.parse_file_name("disk.vmdk", false).unwrap().as_deref(),
            Some("[store] vm/disk.vmdk")
        );
        assert_eq!(
            r.parse_file_name("/vmfs/volumes/4a5b/vm/d.vmdk", false)
                .unwrap()
                .as_deref(),
            Some("[store] vm/d.vmdk")
        );
        assert_eq!(
            r.parse_file_name("/vmfs/volumes/store/vm/d.vmdk", false)
                .unwrap()
                .as_deref(),
            Some("[store] vm/d.vmdk")
        );
        assert!(r
            .parse_file_name("/vmfs/volumes/gone/d.vmdk", false)
            .is_err());
        assert_eq!(
            r.parse_file_name("/vmfs/volumes/gone/d.iso", true).unwrap(),
            None
        );
        assert_eq!(
            r.format_file_name("[store] vm/d.vmdk").unwrap(),
            "/vmfs/volumes/4a5b/vm/d.vmdk"
        );
        assert!(r.format_file_name("[nope] vm/d.vmdk").is_err());
    }
}
