//! `domxml-from-native` and `domxml-to-native`: offline VMX <-> domain XML conversion.

use std::io::Read;
use std::path::Path;

use esx_domain::FormatOptions;
use esx_vmx::convert::{
    domain_xml_to_vmx, vmx_text_to_domain, FileNameResolver, FormatContext, ParseContext,
};

use crate::cli::VMWARE_VMX;
use crate::error::CliError;
use crate::resolver::OfflineResolver;

/// The largest input file virsh reads (`VSH_MAX_XML_FILE`, 10 MiB).
pub const MAX_INPUT_FILE: u64 = 10 * 1024 * 1024;

/// Check the native format argument the way the ESX driver does.
pub(crate) fn check_format(format: &str) -> Result<(), CliError> {
    if format == VMWARE_VMX {
        Ok(())
    } else {
        Err(CliError::UnsupportedFormat(format.to_string()))
    }
}

/// Read a whole input file, at most [`MAX_INPUT_FILE`] bytes.
pub fn read_input(path: &Path) -> Result<Vec<u8>, CliError> {
    let file = std::fs::File::open(path).map_err(|e| CliError::open(path, &e))?;
    let mut data = Vec::new();
    file.take(MAX_INPUT_FILE + 1)
        .read_to_end(&mut data)
        .map_err(|e| CliError::read(path, crate::error::strerror(&e)))?;
    if data.len() as u64 > MAX_INPUT_FILE {
        return Err(CliError::read(path, "File too large"));
    }
    Ok(data)
}

/// VMX text -> domain XML, as `virsh domxml-from-native vmware-vmx` prints it for ESX.
/// `vmx_path` only decides the directory of bare file names (see
/// [`OfflineResolver::for_vmx_path`]).
pub fn from_native(format: &str, vmx: &[u8], vmx_path: &str) -> Result<String, CliError> {
    let resolver = OfflineResolver::for_vmx_path(vmx_path);
    from_native_with(format, vmx, &resolver)
}

/// [`from_native`] with file names mapped by `resolver` (for a connection: a
/// [`esx_vmx::convert::DatastoreResolver`] over the server's datastores).
pub fn from_native_with(
    format: &str,
    vmx: &[u8],
    resolver: &dyn FileNameResolver,
) -> Result<String, CliError> {
    check_format(format)?;
    let ctx = ParseContext {
        resolver,
        datacenter_path: None,
        moref: None,
    };
    let dom = vmx_text_to_domain(vmx, &ctx)?;
    // As libvirt's ESX driver formats it: without secrets (no VNC password).
    Ok(dom.to_xml_with(&FormatOptions::DRIVER))
}

/// Domain XML -> VMX text for `virtual_hw`, as `virsh domxml-to-native vmware-vmx` prints it.
pub fn to_native(format: &str, xml: &str, virtual_hw: i64) -> Result<String, CliError> {
    to_native_with(format, xml, virtual_hw, &OfflineResolver::default())
}

/// [`to_native`] with file names mapped by `resolver`.
pub fn to_native_with(
    format: &str,
    xml: &str,
    virtual_hw: i64,
    resolver: &dyn FileNameResolver,
) -> Result<String, CliError> {
    check_format(format)?;
    Ok(domain_xml_to_vmx(
        xml,
        &FormatContext { resolver },
        virtual_hw,
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    const VMX: &[u8] = b"config.version = \"8\"\nvirtualHW.version = \"13\"\ndisplayName = \"t\"\nmemsize = \"512\"\nscsi0.present = \"true\"\nscsi0:0.present = \"true\"\nscsi0:0.fileName = \"t.vmdk\"\n";

    #[test]
    fn from_native_converts_and_resolves_bare_names() {
        let xml = from_native("vmware-vmx", VMX, "t.vmx").unwrap();
        assert!(
            xml.starts_with("<domain type='vmware'>\n  <name>t</name>\n"),
            "{xml}"
        );
        assert!(xml.contains("<memory unit='KiB'>524288</memory>"), "{xml}");
        assert!(xml.contains("<source file='[?] ?/t.vmdk'/>"), "{xml}");
        let xml = from_native("vmware-vmx", VMX, "/vmfs/volumes/ds/t/t.vmx").unwrap();
        assert!(xml.contains("<source file='[ds] t/t.vmdk'/>"), "{xml}");
    }

    #[test]
    fn to_native_converts() {
        let xml = from_native("vmware-vmx", VMX, "/vmfs/volumes/ds/t/t.vmx").unwrap();
        let vmx = to_native("vmware-vmx", &xml, 13).unwrap();
        assert!(vmx.contains("virtualHW.version = \"13\"\n"), "{vmx}");
        assert!(
            vmx.contains("scsi0:0.fileName = \"/vmfs/volumes/ds/t/t.vmdk\"\n"),
            "{vmx}"
        );
    }

    #[test]
    fn other_formats_are_refused() {
        let err = from_native("xen-xm", VMX, "t.vmx").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid argument: Unsupported config format 'xen-xm'"
        );
        let err = to_native("VMWARE-VMX", "<domain/>", 8).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid argument: Unsupported config format 'VMWARE-VMX'"
        );
    }

    #[test]
    fn missing_file_is_reported_like_virsh() {
        let err = read_input(Path::new("/nonexistent/esxsh/x.vmx")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Failed to open file '/nonexistent/esxsh/x.vmx': No such file or directory"
        );
    }
}
