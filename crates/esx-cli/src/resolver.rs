//! File name mapping for conversions without a connection.

use esx_vmx::convert::{ConvertError, FileNameResolver};

/// What libvirt's ESX driver uses as the `.vmx` directory in `domxml-from-native`, where the
/// file's real location is unknown: bare file names become `[?] ?/<name>`.
pub const UNKNOWN_VMX_DIRECTORY: &str = "[?] ?";

/// Maps `/vmfs/volumes/<ds>/<path>` <-> `[ds] path` without asking a server which datastores
/// exist: every `<ds>` is taken to be a datastore name, mounted at `/vmfs/volumes/<ds>`.
///
/// Otherwise it follows libvirt's `esxParseVMXFileName` / `esxFormatVMXFileName`: bare file
/// names live in the `.vmx` file's directory, other absolute paths stay as they are, and
/// anything else is "Could not handle file name '...'". SCSI controller models cannot be
/// autodetected offline (no disk descriptor to read), so `auto` controllers get no model.
///
/// ```
/// use esx_cli::OfflineResolver;
/// use esx_vmx::convert::FileNameResolver;
///
/// let r = OfflineResolver::default();
/// let src = r.parse_file_name("/vmfs/volumes/ds1/vm/vm.vmdk", false)?;
/// assert_eq!(src.as_deref(), Some("[ds1] vm/vm.vmdk"));
/// assert_eq!(r.format_file_name("[ds1] vm/vm.vmdk")?, "/vmfs/volumes/ds1/vm/vm.vmdk");
/// # Ok::<(), esx_vmx::convert::ConvertError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfflineResolver {
    /// The `.vmx` file's directory as a datastore path (`[ds] dir`), for bare file names.
    pub vmx_directory: String,
}

impl Default for OfflineResolver {
    fn default() -> Self {
        OfflineResolver {
            vmx_directory: UNKNOWN_VMX_DIRECTORY.into(),
        }
    }
}

impl OfflineResolver {
    /// A resolver for a `.vmx` file at `path`: when the path is itself on a datastore
    /// (`/vmfs/volumes/<ds>/<dir>/<file>.vmx`), bare names resolve to `[ds] <dir>/<name>`,
    /// otherwise to libvirt's placeholder `[?] ?/<name>`.
    pub fn for_vmx_path(path: &str) -> Self {
        let vmx_directory = path
            .strip_prefix("/vmfs/volumes/")
            .and_then(|rest| rest.split_once('/'))
            .filter(|(ds, _)| !ds.is_empty())
            .map(|(ds, file)| match file.rsplit_once('/') {
                Some((dir, _)) => format!("[{ds}] {dir}"),
                None => format!("[{ds}]"),
            })
            .unwrap_or_else(|| UNKNOWN_VMX_DIRECTORY.into());
        OfflineResolver { vmx_directory }
    }
}

fn cannot_handle(name: &str) -> ConvertError {
    ConvertError::FileName(format!("Could not handle file name '{name}'"))
}

impl FileNameResolver for OfflineResolver {
    fn parse_file_name(
        &self,
        name: &str,
        _allow_missing: bool,
    ) -> esx_vmx::convert::Result<Option<String>> {
        if !name.contains('/') && !name.contains('\\') {
            return Ok(Some(format!("{}/{name}", self.vmx_directory)));
        }
        if let Some(rest) = name.strip_prefix("/vmfs/volumes/") {
            return match rest.split_once('/') {
                Some((ds, path)) if !ds.is_empty() => Ok(Some(format!("[{ds}] {path}"))),
                _ => Err(cannot_handle(name)),
            };
        }
        if name.starts_with('/') {
            return Ok(Some(name.to_string()));
        }
        Err(cannot_handle(name))
    }

    fn format_file_name(&self, src: &str) -> esx_vmx::convert::Result<String> {
        if let Some(rest) = src.strip_prefix('[') {
            return match rest.split_once(']') {
                Some((ds, path)) if !ds.is_empty() && !ds.contains('/') => Ok(format!(
                    "/vmfs/volumes/{ds}/{}",
                    path.trim_start_matches(' ')
                )),
                _ => Err(cannot_handle(src)),
            };
        }
        if src.starts_with('/') {
            return Ok(src.to_string());
        }
        Err(cannot_handle(src))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(r: &OfflineResolver, name: &str) -> Result<Option<String>, String> {
        r.parse_file_name(name, false).map_err(|e| e.to_string())
    }

    #[test]
    fn datastore_paths_map_both_ways() {
        let r = OfflineResolver::default();
        assert_eq!(
            parse(&r, "/vmfs/volumes/datastore1/vm/vm.vmdk")
                .unwrap()
                .as_deref(),
            Some("[datastore1] vm/vm.vmdk")
        );
        assert_eq!(
            r.format_file_name("[datastore1] vm/vm.vmdk").unwrap(),
            "/vmfs/volumes/datastore1/vm/vm.vmdk"
        );
        assert_eq!(
            r.format_file_name("[datastore1]vm.vmdk").unwrap(),
            "/vmfs/volumes/datastore1/vm.vmdk"
        );
    }

    #[test]
    fn bare_names_use_the_vmx_directory() {
        let r = OfflineResolver::default();
        assert_eq!(
            parse(&r, "vm.vmdk").unwrap().as_deref(),
            Some("[?] ?/vm.vmdk")
        );
        let r = OfflineResolver::for_vmx_path("/vmfs/volumes/ds/dir/vm.vmx");
        assert_eq!(r.vmx_directory, "[ds] dir");
        assert_eq!(
            parse(&r, "vm.vmdk").unwrap().as_deref(),
            Some("[ds] dir/vm.vmdk")
        );
        assert_eq!(
            OfflineResolver::for_vmx_path("/vmfs/volumes/ds/vm.vmx").vmx_directory,
            "[ds]"
        );
        assert_eq!(
            OfflineResolver::for_vmx_path("testdata/vm.vmx").vmx_directory,
            "[?] ?"
        );
        assert_eq!(
            OfflineResolver::for_vmx_path("/vmfs/volumes//vm.vmx").vmx_directory,
            "[?] ?"
        );
    }

    #[test]
    fn other_names() {
        let r = OfflineResolver::default();
        assert_eq!(
            parse(&r, "/dev/cdrom").unwrap().as_deref(),
            Some("/dev/cdrom")
        );
        assert_eq!(
            parse(&r, "sub/x.vmdk").unwrap_err(),
            "Could not handle file name 'sub/x.vmdk'"
        );
        assert_eq!(
            parse(&r, "/vmfs/volumes/ds").unwrap_err(),
            "Could not handle file name '/vmfs/volumes/ds'"
        );
        assert_eq!(r.format_file_name("/abs/x.iso").unwrap(), "/abs/x.iso");
        assert_eq!(
            r.format_file_name("rel.vmdk").unwrap_err().to_string(),
            "Could not handle file name 'rel.vmdk'"
        );
        assert_eq!(
            r.format_file_name("[] x.vmdk").unwrap_err().to_string(),
            "Could not handle file name '[] x.vmdk'"
        );
        assert_eq!(
            r.format_file_name("[ds x.vmdk").unwrap_err().to_string(),
            "Could not handle file name '[ds x.vmdk'"
        );
    }
}
