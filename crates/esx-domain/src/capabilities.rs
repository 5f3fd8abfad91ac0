//! The `<capabilities>` document (`virsh capabilities`) as libvirt's ESX driver builds it:
//! the host's UUID and CPU architecture (x86_64 when the CPU has long mode, else i686),
//! live migration over `vpxmigr`, and `hvm` guests for i686 (always) and x86_64 (with long
//! mode), each with the `vmware` domain type.

use crate::error::{DomainXmlError, Result};
use crate::types::Uuid;
use crate::xml::{a, ao, yes_no, Checked, Element, Writer};

/// libvirt's host power management targets, in its output order.
pub const PM_TARGETS: [&str; 3] = ["suspend_mem", "suspend_disk", "suspend_hybrid"];

/// `<migration_features>` of the host.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MigrationFeatures {
    /// `<live/>`.
    pub live: bool,
    /// `<uri_transports><uri_transport>` values (ESX: `vpxmigr`).
    pub uri_transports: Vec<String>,
}

/// `<host>`: what the hypervisor host is.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HostCapabilities {
    /// `<uuid>` (ESX: the BIOS UUID; left out when it is all one byte value, e.g. zero).
    pub uuid: Option<Uuid>,
    /// `<cpu><arch>`: `x86_64` or `i686` on ESX.
    pub arch: Option<String>,
    /// `<cpu><model>`.
    pub cpu_model: Option<String>,
    /// `<cpu><vendor>`.
    pub cpu_vendor: Option<String>,
    /// `<power_management>` children, a subset of [`PM_TARGETS`].
    pub power_management: Vec<String>,
    /// `<iommu support='yes'>`.
    pub iommu: bool,
    /// `<migration_features>`.
    pub migration: Option<MigrationFeatures>,
}

/// One `<guest>`: an OS type and architecture the host can run.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GuestCapabilities {
    /// `<os_type>`: `hvm`.
    pub os_type: String,
    /// `<arch name>`: `i686`, `x86_64`.
    pub arch: String,
    /// `<wordsize>`: 32 or 64.
    pub wordsize: u32,
    /// `<emulator>`.
    pub emulator: Option<String>,
    /// `<loader>`.
    pub loader: Option<String>,
    /// `<domain type>` values: `vmware`.
    pub domain_types: Vec<String>,
}

impl GuestCapabilities {
    /// An `hvm` guest of `arch` (word size from the architecture) with the `vmware` domain
    /// type, as the ESX driver adds them.
    pub fn vmware_hvm(arch: &str) -> Self {
        GuestCapabilities {
            os_type: "hvm".into(),
            arch: arch.into(),
            wordsize: if arch.ends_with("64") { 64 } else { 32 },
            emulator: None,
            loader: None,
            domain_types: vec!["vmware".into()],
        }
    }
}

/// A libvirt capabilities document.
///
/// ```
/// use esx_domain::Capabilities;
///
/// let caps = Capabilities::esx(true, None);
/// let xml = caps.to_xml();
/// assert!(xml.starts_with("<capabilities>\n\n  <host>\n    <cpu>\n      <arch>x86_64</arch>\n"));
/// assert!(xml.contains("    <arch name='x86_64'>\n      <wordsize>64</wordsize>\n      <domain type='vmware'/>\n"));
/// assert_eq!(Capabilities::from_xml(&xml)?, caps);
/// # Ok::<(), esx_domain::DomainXmlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Capabilities {
    /// `<host>`.
    pub host: Option<HostCapabilities>,
    /// `<guest>` elements.
    pub guests: Vec<GuestCapabilities>,
}

impl Capabilities {
    /// The capabilities libvirt's ESX driver reports: host arch x86_64 when the host CPU
    /// supports long mode (CPUID 0x80000001 EDX bit 29), else i686; the host UUID unless it
    /// is missing or all one byte; live migration over `vpxmigr`; `hvm` guests for i686 and,
    /// with long mode, x86_64.
    pub fn esx(long_mode: bool, host_uuid: Option<Uuid>) -> Self {
        let arch = if long_mode { "x86_64" } else { "i686" };
        let mut guests = vec![GuestCapabilities::vmware_hvm("i686")];
        if long_mode {
            guests.push(GuestCapabilities::vmware_hvm("x86_64"));
        }
        Capabilities {
            host: Some(HostCapabilities {
                uuid: host_uuid.filter(uuid_is_valid),
                arch: Some(arch.into()),
                migration: Some(MigrationFeatures {
                    live: true,
                    uri_transports: vec!["vpxmigr".into()],
                }),
                ..HostCapabilities::default()
            }),
            guests,
        }
    }

    /// The guest entry for `os_type`/`arch` offering `domain_type`, if any (what libvirt's
    /// `virCapabilitiesDomainSupported` checks).
    pub fn guest_for(
        &self,
        os_type: &str,
        arch: &str,
        domain_type: &str,
    ) -> Option<&GuestCapabilities> {
        self.guests.iter().find(|g| {
            g.os_type == os_type
                && g.arch == arch
                && g.domain_types.iter().any(|d| d == domain_type)
        })
    }

    /// Parse a `<capabilities>` document; unknown elements/attributes and bad values are
    /// errors naming the line.
    pub fn from_xml(text: &str) -> Result<Capabilities> {
        let root = Element::parse(text)?;
        if root.name != "capabilities" {
            return Err(DomainXmlError::WrongRoot {
                expected: "capabilities".into(),
                found: root.name,
            });
        }
        let c = Checked::new(&root);
        let host = c.child("host").map(|h| parse_host(&h)).transpose()?;
        let guests = c
            .children("guest")
            .iter()
            .map(parse_guest)
            .collect::<Result<Vec<_>>>()?;
        c.finish()?;
        Ok(Capabilities { host, guests })
    }

    /// Format as libvirt's `virCapabilitiesFormatXML` does (with its blank lines).
    pub fn to_xml(&self) -> String {
        let mut w = Writer::new(0);
        let mut inner = w.nested();
        if let Some(h) = &self.host {
            write_host(&mut inner, h);
            inner.buf.push('\n');
        }
        for g in &self.guests {
            write_guest(&mut inner, g);
            inner.buf.push('\n');
        }
        w.buf.push_str("<capabilities>\n\n");
        w.buf.push_str(&inner.buf);
        w.buf.push_str("</capabilities>\n");
        w.buf
    }
}

/// libvirt's `virUUIDIsValid`: a UUID whose 16 bytes are all equal (e.g. all zero) is not.
fn uuid_is_valid(u: &Uuid) -> bool {
    u.0.iter().any(|b| *b != u.0[0])
}

fn parse_host(h: &Checked<'_>) -> Result<HostCapabilities> {
    let mut host = HostCapabilities::default();
    if let Some(u) = h.child("uuid") {
        let t = u.text().trim();
        host.uuid = Some(t.parse().map_err(|_| u.invalid(t, "text", "not a UUID"))?);
        u.finish()?;
    }
    if let Some(cpu) = h.child("cpu") {
        host.arch = cpu.child_text("arch").map(|t| t.trim().to_string());
        host.cpu_model = cpu.child_text("model").map(|t| t.trim().to_string());
        host.cpu_vendor = cpu.child_text("vendor").map(|t| t.trim().to_string());
        cpu.finish()?;
    }
    if let Some(pm) = h.child("power_management") {
        for target in PM_TARGETS {
            if pm.has_child(target)? {
                host.power_management.push(target.to_string());
            }
        }
        pm.finish()?;
    }
    if let Some(i) = h.child("iommu") {
        host.iommu = i.attr_yes_no("support")?.unwrap_or(false);
        i.finish()?;
    }
    if let Some(m) = h.child("migration_features") {
        let mut mig = MigrationFeatures {
            live: m.has_child("live")?,
            uri_transports: Vec::new(),
        };
        if let Some(ts) = m.child("uri_transports") {
            for t in ts.children("uri_transport") {
                mig.uri_transports.push(t.text().trim().to_string());
                t.finish()?;
            }
            ts.finish()?;
        }
        m.finish()?;
        host.migration = Some(mig);
    }
    h.finish()?;
    Ok(host)
}

fn parse_guest(g: &Checked<'_>) -> Result<GuestCapabilities> {
    let os_type = g
        .child_text("os_type")
        .map(|t| t.trim().to_string())
        .ok_or_else(|| DomainXmlError::MissingElement {
            element: "os_type".into(),
            parent: "guest".into(),
            line: g.line(),
        })?;
    let arch = g
        .child("arch")
        .ok_or_else(|| DomainXmlError::MissingElement {
            element: "arch".into(),
            parent: "guest".into(),
            line: g.line(),
        })?;
    let mut guest = GuestCapabilities {
        os_type,
        arch: arch.req_attr("name")?.to_string(),
        ..GuestCapabilities::default()
    };
    if let Some(w) = arch.child("wordsize") {
        guest.wordsize = w.text_parse()?;
        w.finish()?;
    }
    guest.emulator = arch.child_text("emulator").map(|t| t.trim().to_string());
    guest.loader = arch.child_text("loader").map(|t| t.trim().to_string());
    for d in arch.children("domain") {
        guest.domain_types.push(d.req_attr("type")?.to_string());
        d.finish()?;
    }
    arch.finish()?;
    g.finish()?;
    Ok(guest)
}

fn write_host(w: &mut Writer, h: &HostCapabilities) {
    let mut hw = w.nested();
    if let Some(u) = &h.uuid {
        hw.text("uuid", vec![], &u.to_string());
    }
    let mut cw = hw.nested();
    if let Some(arch) = &h.arch {
        cw.text("arch", vec![], arch);
    }
    if let Some(m) = &h.cpu_model {
        cw.text("model", vec![], m);
    }
    if let Some(v) = &h.cpu_vendor {
        cw.text("vendor", vec![], v);
    }
    crate::pool::open_close(&mut hw, "cpu", cw);
    let mut pw = hw.nested();
    for target in PM_TARGETS {
        if h.power_management.iter().any(|p| p == target) {
            pw.empty(target, vec![]);
        }
    }
    hw.elem("power_management", vec![], pw);
    hw.empty("iommu", vec![a("support", yes_no(h.iommu))]);
    if let Some(m) = &h.migration {
        let mut mw = hw.nested();
        if m.live {
            mw.empty("live", vec![]);
        }
        if !m.uri_transports.is_empty() {
            let mut tw = mw.nested();
            for t in &m.uri_transports {
                tw.text("uri_transport", vec![], t);
            }
            mw.elem("uri_transports", vec![], tw);
        }
        crate::pool::open_close(&mut hw, "migration_features", mw);
    }
    w.elem("host", vec![], hw);
}

fn write_guest(w: &mut Writer, g: &GuestCapabilities) {
    let mut gw = w.nested();
    gw.text("os_type", vec![], &g.os_type);
    let mut aw = gw.nested();
    aw.text("wordsize", vec![], &g.wordsize.to_string());
    if let Some(e) = &g.emulator {
        aw.text("emulator", vec![], e);
    }
    if let Some(l) = &g.loader {
        aw.text("loader", vec![], l);
    }
    for d in &g.domain_types {
        aw.empty("domain", vec![a("type", d)]);
    }
    gw.elem("arch", vec![ao("name", Some(&g.arch))], aw);
    w.elem("guest", vec![], gw);
}

#[cfg(test)]
mod tests {
    use super::*;

    const ESX_CAPS: &str = "<capabilities>\n\n  <host>\n    <uuid>4c4c4544-0037-4410-8052-b4c04f4b4d32</uuid>\n    <cpu>\n      <arch>x86_64</arch>\n    </cpu>\n    <power_management/>\n    <iommu support='no'/>\n    <migration_features>\n      <live/>\n      <uri_transports>\n        <uri_transport>vpxmigr</uri_transport>\n      </uri_transports>\n    </migration_features>\n  </host>\n\n  <guest>\n    <os_type>hvm</os_type>\n    <arch name='i686'>\n      <wordsize>32</wordsize>\n      <domain type='vmware'/>\n    </arch>\n  </guest>\n\n  <guest>\n    <os_type>hvm</os_type>\n    <arch name='x86_64'>\n      <wordsize>64</wordsize>\n      <domain type='vmware'/>\n    </arch>\n  </guest>\n\n</capabilities>\n";

    #[test]
    fn esx_capabilities_byte_exact() {
        let uuid: Uuid = "4c4c4544-0037-4410-8052-b4c04f4b4d32".parse().unwrap();
        let caps = Capabilities::esx(true, Some(uuid));
        assert_eq!(caps.to_xml(), ESX_CAPS);
        assert_eq!(Capabilities::from_xml(ESX_CAPS).unwrap(), caps);
        assert!(caps.guest_for("hvm", "x86_64", "vmware").is_some());
        assert!(caps.guest_for("hvm", "x86_64", "kvm").is_none());
    }

    #[test]
    fn without_long_mode_only_i686() {
        let caps = Capabilities::esx(false, Some(Uuid([0; 16])));
        let host = caps.host.as_ref().unwrap();
        assert_eq!(host.uuid, None, "an all-zero UUID is not written");
        assert_eq!(host.arch.as_deref(), Some("i686"));
        assert_eq!(caps.guests.len(), 1);
        assert!(caps.guest_for("hvm", "x86_64", "vmware").is_none());
        assert_eq!(Capabilities::from_xml(&caps.to_xml()).unwrap(), caps);
    }

    #[test]
    fn host_extras_round_trip() {
        let mut caps = Capabilities::esx(true, None);
        if let Some(h) = caps.host.as_mut() {
            h.cpu_model = Some("Intel Xeon Gold 6130".into());
            h.cpu_vendor = Some("Intel".into());
            h.power_management = vec!["suspend_mem".into()];
            h.iommu = true;
        }
        let xml = caps.to_xml();
        assert!(xml.contains("    <power_management>\n      <suspend_mem/>\n    </power_management>\n    <iommu support='yes'/>\n"), "{xml}");
        assert_eq!(Capabilities::from_xml(&xml).unwrap(), caps);
    }

    #[test]
    fn precise_errors() {
        let err = |t: &str| Capabilities::from_xml(t).unwrap_err().to_string();
        assert_eq!(
            err("<capabilities>\n<host>\n<cpu><arch>x86_64</arch><topology sockets='1'/></cpu></host></capabilities>"),
            "unsupported element <topology> inside <cpu> at line 3"
        );
        assert_eq!(
            err("<capabilities><guest><arch name='i686'/></guest></capabilities>"),
            "missing element <os_type> inside <guest> at line 1"
        );
        assert_eq!(
            err("<capabilities><guest><os_type>hvm</os_type><arch name='i686'><wordsize>big</wordsize></arch></guest></capabilities>"),
            "invalid value 'big' for <wordsize> at line 1: not a valid number"
        );
        assert_eq!(
            err("<capabilities><host><iommu support='maybe'/></host></capabilities>"),
            "invalid value 'maybe' for attribute 'support' of <iommu> at line 1: expected 'yes' or 'no'"
        );
        assert_eq!(
            err("<pool/>"),
            "expected root element <capabilities> but found <pool>"
        );
    }
}
