//! Conversion between VMX files and libvirt domain XML, following libvirt's `vmx.c` (11.3.0):
//! the keys it reads and writes, its defaults, its validation and its error texts.
//!
//! * [`vmx_text_to_domain`] (bytes) and [`vmx_to_domain`] (a read file) are
//!   `virsh domxml-from-native vmware-vmx`; format the result with
//!   [`esx_domain::FormatOptions::DRIVER`] for the ESX driver's output;
//! * [`domain_xml_to_vmx`] is `virsh domxml-to-native vmware-vmx` for a given virtualHW version
//!   (the XML read, post-parsed and validated as libvirt's parser does), and [`domain_to_vmx`]
//!   the formatter alone.
//!
//! Where libvirt 11.3 is wrong (it crashes, hangs, or silently drops or moves data) these give
//! a better answer instead; docs/COMPATIBILITY.md lists each case.
//!
//! File names go through a [`FileNameResolver`], so the driver can map `/vmfs/volumes/...`
//! paths with the server's datastore list while tests use libvirt's test conventions
//! ([`LibvirtTestResolver`]).
//!
//! ```
//! use esx_vmx::convert::{domain_to_vmx, vmx_text_to_domain};
//! use esx_vmx::convert::{FormatContext, LibvirtTestResolver, ParseContext};
//!
//! let vmx = b"config.version = \"8\"\nvirtualHW.version = \"4\"\ndisplayName = \"web\"\n";
//! let ctx = ParseContext { resolver: &LibvirtTestResolver, datacenter_path: None, moref: None };
//! let dom = vmx_text_to_domain(vmx, &ctx)?;
//! assert!(dom.to_xml().contains("<name>web</name>"));
//! let text = domain_to_vmx(&dom, &FormatContext { resolver: &LibvirtTestResolver }, 7)?;
//! assert!(text.contains("displayName = \"web\"\nmemsize = \"32\"\n"));
//! # Ok::<(), esx_vmx::convert::ConvertError>(())
//! ```

mod cjk;
mod disks;
mod ethernet;
mod graphics;
mod machine;
mod resolver;
mod serial;
mod sharedfolder;
mod text;
mod validate;

use esx_domain::Domain;
use thiserror::Error;

use crate::{VmxError, VmxFile};

pub use resolver::{
    split_datastore_path, DatastoreResolver, FileNameResolver, LibvirtTestResolver,
};

/// Why a conversion failed. The messages are libvirt's.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConvertError {
    /// A VMX entry is missing, or is not a valid boolean/integer, or the text is malformed.
    #[error(transparent)]
    Vmx(#[from] VmxError),
    /// A VMX or domain value the conversion cannot handle (libvirt's config-unsupported and
    /// internal errors), e.g. "Expecting VMX entry 'memsize' to be ...".
    #[error("{0}")]
    Unsupported(String),
    /// A file name the resolver could not map.
    #[error("{0}")]
    FileName(String),
}

/// Shorthand result type.
pub type Result<T> = std::result::Result<T, ConvertError>;

pub(crate) fn unsupported<T>(msg: impl Into<String>) -> Result<T> {
    Err(ConvertError::Unsupported(msg.into()))
}

/// What the VMX -> domain direction needs besides the VMX text.
pub struct ParseContext<'a> {
    /// Maps VMX file names to domain sources.
    pub resolver: &'a dyn FileNameResolver,
    /// Emitted as `<vmware:datacenterpath>` when set.
    pub datacenter_path: Option<String>,
    /// Emitted as `<vmware:moref>` when set.
    pub moref: Option<String>,
}

/// What the domain -> VMX direction needs besides the domain.
pub struct FormatContext<'a> {
    /// Maps domain sources to VMX file names; also answers SCSI model autodetection.
    pub resolver: &'a dyn FileNameResolver,
}

/// Convert a VMX file into a domain definition (libvirt's `virVMXParseConfig`).
pub fn vmx_to_domain(vmx: &VmxFile, ctx: &ParseContext<'_>) -> Result<Domain> {
    let mut def = Domain {
        domain_type: "vmware".into(),
        ..Domain::default()
    };
    let hw = machine::parse(vmx, &mut def)?;
    graphics::parse_vnc(vmx, &mut def)?;
    disks::parse(vmx, ctx, hw, &mut def)?;
    sharedfolder::parse(vmx, &mut def)?;
    ethernet::parse(vmx, &mut def)?;
    graphics::parse_svga(vmx, &mut def)?;
    serial::parse(vmx, ctx, &mut def)?;
    machine::parse_firmware(vmx, &mut def)?;
    def.vmware.datacenter_path = ctx.datacenter_path.clone();
    def.vmware.moref = ctx.moref.clone();
    def.apply_post_parse();
    Ok(def)
}

/// Read the bytes of a `.vmx` file and convert them ([`vmx_to_domain`]), as libvirt's ESX
/// driver reads them: the syntax is checked on the bytes as given, then the text is decoded
/// from the character set `.encoding` names (libvirt's decoders, not the WHATWG ones). A NUL
/// byte, a byte the character set does not define and bytes that are not UTF-8 in a value the
/// domain uses (in a UTF-8 file) are errors (libvirt silently cuts the file or writes
/// ill-formed XML there).
pub fn vmx_text_to_domain(text: &[u8], ctx: &ParseContext<'_>) -> Result<Domain> {
    let read = text::read_vmx(text)?;
    let dom = vmx_to_domain(&read.file, ctx)?;
    if read.lossy && dom.to_xml().contains('\u{fffd}') {
        return unsupported(
            "VMX file has bytes that are not UTF-8 in a value the domain uses (its .encoding is UTF-8)",
        );
    }
    Ok(dom)
}

/// Convert a domain definition into VMX text for `virtual_hw` (libvirt's
/// `virVMXFormatConfig`). The domain should have gone through
/// [`Domain::apply_device_defaults`] (done here on a copy).
pub fn domain_to_vmx(dom: &Domain, ctx: &FormatContext<'_>, virtual_hw: i64) -> Result<String> {
    let mut def = dom.clone();
    def.apply_post_parse();
    if def.os.arch.is_none() {
        def.os.arch = Some("i686".into());
    }
    let mut out = Out::default();
    machine::format(&def, virtual_hw, &mut out)?;
    graphics::format_vnc(&def, &mut out)?;
    let has_scsi = disks::format(&def, ctx, &mut out)?;
    sharedfolder::format(&def, &mut out)?;
    ethernet::format(&def, virtual_hw, &mut out)?;
    graphics::format_svga(&def, &mut out)?;
    serial::format(&def, ctx, &mut out)?;
    machine::format_tail(&def, virtual_hw, has_scsi, &mut out)?;
    Ok(out.text)
}

/// Domain XML text -> VMX text for `virtual_hw`, as libvirt's ESX driver does it
/// (`virsh domxml-to-native vmware-vmx`): the XML is read, checked as libvirt's parser and
/// validator check it (a name, a memory size, an `hvm` guest of a known architecture, one
/// controller per index, sources where a device needs one, ...), and converted with
/// [`domain_to_vmx`].
pub fn domain_xml_to_vmx(xml: &str, ctx: &FormatContext<'_>, virtual_hw: i64) -> Result<String> {
    let dom = Domain::from_xml(xml).map_err(|e| ConvertError::Unsupported(e.to_string()))?;
    validate::check_as_read(&dom)?;
    let mut checked = dom.clone();
    checked.apply_post_parse();
    validate::check(&checked)?;
    domain_to_vmx(&dom, ctx, virtual_hw)
}

/// The VMX text under construction, written in libvirt's key order.
#[derive(Debug, Default)]
pub(crate) struct Out {
    pub(crate) text: String,
}

impl Out {
    /// Append `key = "value"`.
    pub(crate) fn put(&mut self, key: &str, value: impl AsRef<str>) {
        self.text.push_str(key);
        self.text.push_str(" = \"");
        self.text.push_str(value.as_ref());
        self.text.push_str("\"\n");
    }
}

/// The numbers `N` for which the file has a `<prefix>N.<suffix>` entry for one of `suffixes`
/// (case-insensitive, `N` written without leading zeros, exactly the key a lookup of
/// `<prefix>N.<suffix>` finds), in ascending order. libvirt walks every number from 0 up to a
/// maximum taken from the file (`ethernetN` keys, `sharedFolder.maxNum`), which a single
/// crafted key turns into billions of lookups; a number none of whose entries exist yields
/// nothing there (and raises no error), so visiting only these numbers gives the same result
/// in time proportional to the file.
pub(crate) fn indices_with(
    vmx: &VmxFile,
    prefix: &str,
    suffixes: &[&str],
) -> std::collections::BTreeSet<u64> {
    vmx.keys()
        .filter_map(|key| {
            let head = key.get(..prefix.len())?;
            if !head.eq_ignore_ascii_case(prefix) {
                return None;
            }
            let rest = key.get(prefix.len()..)?;
            let (digits, tail) = rest.split_once('.')?;
            if !suffixes.iter().any(|s| tail.eq_ignore_ascii_case(s)) {
                return None;
            }
            let n: u64 = digits.parse().ok()?;
            (n.to_string() == digits).then_some(n)
        })
        .collect()
}

/// Case-insensitive suffix test (libvirt's `virStringHasCaseSuffix`).
pub(crate) fn has_case_suffix(s: &str, suffix: &str) -> bool {
    s.len() >= suffix.len()
        && s.get(s.len() - suffix.len()..)
            .is_some_and(|t| t.eq_ignore_ascii_case(suffix))
}

/// Parse a VMX-style UUID (`xx xx ... xx-xx ...`) with libvirt's `virUUIDParse` rules.
pub(crate) fn parse_vmx_uuid(value: &str, _key: &str) -> Result<esx_domain::Uuid> {
    value.parse().map_err(|_| {
        ConvertError::Unsupported(format!("Could not parse UUID from string '{value}'"))
    })
}

/// Format a UUID the VMX way: `xx xx xx xx xx xx xx xx-xx xx xx xx xx xx xx xx`.
pub(crate) fn format_vmx_uuid(u: &esx_domain::Uuid) -> String {
    let b = u.0;
    let hex = |r: &[u8]| {
        r.iter()
            .map(|x| format!("{x:02x}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    format!("{}-{}", hex(&b[..8]), hex(&b[8..]))
}

#[cfg(test)]
mod tests;
