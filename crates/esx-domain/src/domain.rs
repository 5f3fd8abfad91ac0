//! The `<domain>` document: top-level model, parser and libvirt-identical formatter.

use crate::devices::Devices;
use crate::error::{DomainXmlError, Result};
use crate::types::{scale_to_kib, CpuSet, Uuid};
use crate::xml::{a, ao, yes_no, Checked, Element, Writer};

/// XML namespace URI of the `vmware:` metadata elements.
pub const VMWARE_NAMESPACE: &str = "http://libvirt.org/schemas/domain/vmware/1.0";

/// What [`Domain::to_xml_with`] writes: the libvirt format flags that change the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FormatOptions {
    /// libvirt's `VIR_DOMAIN_DEF_FORMAT_SECURE`: write secrets (the VNC `passwd`). libvirt's
    /// ESX driver formats without it (`domxml-from-native`, `dumpxml` without
    /// `--security-info`); its test suite formats with it. Default: `true`.
    pub secure: bool,
}

impl Default for FormatOptions {
    fn default() -> Self {
        FormatOptions { secure: true }
    }
}

impl FormatOptions {
    /// What libvirt's ESX driver writes: no secrets.
    pub const DRIVER: FormatOptions = FormatOptions { secure: false };
}

/// A libvirt domain (virtual machine) definition.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Domain {
    /// `type` attribute, e.g. `vmware`.
    pub domain_type: String,
    /// `id` attribute of a running domain.
    pub id: Option<i64>,
    /// `<name>`.
    pub name: Option<String>,
    /// `<uuid>`.
    pub uuid: Option<Uuid>,
    /// `<genid>`.
    pub genid: Option<Uuid>,
    /// `<title>`.
    pub title: Option<String>,
    /// `<description>`.
    pub description: Option<String>,
    /// `<metadata>`, kept verbatim.
    pub metadata: Option<Element>,
    /// `<memory>` in KiB.
    pub memory_kib: Option<u64>,
    /// `<currentMemory>` in KiB; formatted as `memory` when absent.
    pub current_memory_kib: Option<u64>,
    /// `<memtune>`.
    pub memtune: MemTune,
    /// `<vcpu>`.
    pub vcpu: Vcpu,
    /// `<cputune>`.
    pub cputune: CpuTune,
    /// `<os>`.
    pub os: Os,
    /// `<features>`, children kept verbatim.
    pub features: Option<Vec<Element>>,
    /// `<cpu>`.
    pub cpu: Option<Cpu>,
    /// `<clock>`; formatted as `<clock offset='utc'/>` when absent.
    pub clock: Option<Clock>,
    /// `<on_poweroff>`, default `destroy`.
    pub on_poweroff: Option<String>,
    /// `<on_reboot>`, default `restart`.
    pub on_reboot: Option<String>,
    /// `<on_crash>`, default `destroy`.
    pub on_crash: Option<String>,
    /// `<devices>`.
    pub devices: Devices,
    /// `vmware:` namespace data.
    pub vmware: VmwareData,
}

/// `<memtune>` values in KiB.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MemTune {
    /// `<hard_limit>`.
    pub hard_limit: Option<u64>,
    /// `<soft_limit>`.
    pub soft_limit: Option<u64>,
    /// `<min_guarantee>`.
    pub min_guarantee: Option<u64>,
    /// `<swap_hard_limit>`.
    pub swap_hard_limit: Option<u64>,
}

/// `<vcpu>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vcpu {
    /// Maximum number of virtual CPUs.
    pub count: u32,
    /// `placement`: static (default) or auto.
    pub placement: Option<String>,
    /// `cpuset`: host CPUs the vCPUs may run on.
    pub cpuset: Option<CpuSet>,
    /// `current`: vCPUs online at boot.
    pub current: Option<u32>,
}

impl Default for Vcpu {
    fn default() -> Self {
        Vcpu {
            count: 1,
            placement: None,
            cpuset: None,
            current: None,
        }
    }
}

/// `<cputune>`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CpuTune {
    /// `<shares>`.
    pub shares: Option<u64>,
    /// `<period>`.
    pub period: Option<u64>,
    /// `<quota>`.
    pub quota: Option<i64>,
}

/// `<os>`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Os {
    /// `firmware` attribute: bios or efi.
    pub firmware: Option<String>,
    /// `<type>` text, e.g. `hvm`.
    pub os_type: String,
    /// `<type arch=...>`.
    pub arch: Option<String>,
    /// `<type machine=...>`.
    pub machine: Option<String>,
    /// `<firmware><feature enabled name/>`: (name, enabled).
    pub firmware_features: Vec<(String, bool)>,
    /// `<loader>`.
    pub loader: Option<Loader>,
    /// `<nvram>` path.
    pub nvram: Option<String>,
    /// `<kernel>`.
    pub kernel: Option<String>,
    /// `<initrd>`.
    pub initrd: Option<String>,
    /// `<cmdline>`.
    pub cmdline: Option<String>,
    /// `<boot dev=...>` in order.
    pub boot_devs: Vec<String>,
    /// `<bootmenu enable=...>`.
    pub bootmenu: Option<bool>,
    /// `<smbios mode=...>`: emulate, host, sysinfo.
    pub smbios_mode: Option<String>,
}

/// `<os><loader>`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Loader {
    /// `readonly`.
    pub readonly: Option<bool>,
    /// `secure`.
    pub secure: Option<bool>,
    /// `type`: rom or pflash.
    pub loader_type: Option<String>,
    /// Path text.
    pub path: Option<String>,
}

/// `<cpu>`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Cpu {
    /// `mode`: custom, host-model, host-passthrough, maximum.
    pub mode: Option<String>,
    /// `match`.
    pub match_: Option<String>,
    /// `check`.
    pub check: Option<String>,
    /// `<model>` text.
    pub model: Option<String>,
    /// `<vendor>` text.
    pub vendor: Option<String>,
    /// `<topology>`.
    pub topology: Option<Topology>,
}

/// `<cpu><topology>`; dies and clusters default to 1 as in libvirt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Topology {
    /// `sockets`.
    pub sockets: u32,
    /// `dies`.
    pub dies: u32,
    /// `clusters`.
    pub clusters: u32,
    /// `cores`.
    pub cores: u32,
    /// `threads`.
    pub threads: u32,
}

/// `<clock>`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Clock {
    /// `offset`: utc, localtime, timezone, variable.
    pub offset: String,
    /// `timezone` (offset='timezone').
    pub timezone: Option<String>,
    /// `adjustment` (offset='variable').
    pub adjustment: Option<String>,
    /// `basis` (offset='variable').
    pub basis: Option<String>,
    /// `<timer>` children, kept verbatim.
    pub timers: Vec<Element>,
}

/// The `vmware:` namespace elements libvirt's VMX driver writes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VmwareData {
    /// `<vmware:datacenterpath>`.
    pub datacenter_path: Option<String>,
    /// `<vmware:moref>`.
    pub moref: Option<String>,
}

fn parse_memory(c: &Checked<'_>) -> Result<u64> {
    let value: u64 = c.text_parse()?;
    let unit = c.attr("unit");
    let _dump = c.attr("dumpCore");
    scale_to_kib(value, unit).ok_or_else(|| {
        c.invalid(
            unit.unwrap_or(""),
            "attribute 'unit'",
            "unknown unit or value too large",
        )
    })
}

fn opt_memory(c: &Checked<'_>, name: &str) -> Result<Option<u64>> {
    match c.child(name) {
        Some(x) => {
            let v = parse_memory(&x)?;
            x.finish()?;
            Ok(Some(v))
        }
        None => Ok(None),
    }
}

fn opt_text_parse<T: std::str::FromStr>(c: &Checked<'_>, name: &str) -> Result<Option<T>> {
    match c.child(name) {
        Some(x) => {
            let v = x.text_parse()?;
            x.finish()?;
            Ok(Some(v))
        }
        None => Ok(None),
    }
}

fn opt_text(c: &Checked<'_>, name: &str) -> Result<Option<String>> {
    match c.child(name) {
        Some(x) => {
            let v = x.text().to_string();
            x.finish()?;
            Ok(Some(v))
        }
        None => Ok(None),
    }
}

fn parse_uuid(c: &Checked<'_>, name: &str) -> Result<Option<Uuid>> {
    match c.child(name) {
        Some(x) => {
            let t = x.text();
            let v = t.parse().map_err(|_| x.invalid(t, "text", "not a UUID"))?;
            x.finish()?;
            Ok(Some(v))
        }
        None => Ok(None),
    }
}

impl Os {
    fn parse(c: &Checked<'_>) -> Result<Os> {
        let mut os = Os {
            firmware: c.attr_string("firmware"),
            ..Os::default()
        };
        if let Some(t) = c.child("type") {
            os.os_type = t.text().trim().to_string();
            os.arch = t.attr_string("arch");
            os.machine = t.attr_string("machine");
            t.finish()?;
        }
        if let Some(f) = c.child("firmware") {
            for feat in f.children("feature") {
                let name = feat.req_attr("name")?.to_string();
                let enabled = feat.attr_yes_no("enabled")?.unwrap_or(false);
                feat.finish()?;
                os.firmware_features.push((name, enabled));
            }
            f.finish()?;
        }
        if let Some(l) = c.child("loader") {
            let t = l.text().trim();
            os.loader = Some(Loader {
                readonly: l.attr_yes_no("readonly")?,
                secure: l.attr_yes_no("secure")?,
                loader_type: l.attr_string("type"),
                path: if t.is_empty() {
                    None
                } else {
                    Some(t.to_string())
                },
            });
            l.finish()?;
        }
        os.nvram = opt_text(c, "nvram")?;
        os.kernel = opt_text(c, "kernel")?;
        os.initrd = opt_text(c, "initrd")?;
        os.cmdline = opt_text(c, "cmdline")?;
        for b in c.children("boot") {
            os.boot_devs.push(b.req_attr("dev")?.to_string());
            b.finish()?;
        }
        if let Some(b) = c.child("bootmenu") {
            os.bootmenu = b.attr_yes_no("enable")?;
            let _ = b.attr("timeout");
            b.finish()?;
        }
        if let Some(s) = c.child("smbios") {
            os.smbios_mode = Some(s.req_attr("mode")?.to_string());
            s.finish()?;
        }
        c.finish()?;
        Ok(os)
    }

    fn format(&self, w: &mut Writer) {
        let mut inner = w.nested();
        inner.text(
            "type",
            vec![
                ao("arch", self.arch.as_ref()),
                ao("machine", self.machine.as_ref()),
            ],
            &self.os_type,
        );
        if !self.firmware_features.is_empty() {
            let mut f = inner.nested();
            for (name, enabled) in &self.firmware_features {
                f.empty(
                    "feature",
                    vec![a("enabled", yes_no(*enabled)), a("name", name)],
                );
            }
            inner.elem("firmware", vec![], f);
        }
        if let Some(l) = &self.loader {
            let attrs = vec![
                ao("readonly", l.readonly.map(yes_no)),
                ao("secure", l.secure.map(yes_no)),
                ao("type", l.loader_type.as_ref()),
            ];
            match &l.path {
                Some(p) => inner.text("loader", attrs, p),
                None => inner.empty("loader", attrs),
            }
        }
        if let Some(n) = &self.nvram {
            inner.text("nvram", vec![], n);
        }
        for (name, v) in [
            ("kernel", &self.kernel),
            ("initrd", &self.initrd),
            ("cmdline", &self.cmdline),
        ] {
            if let Some(v) = v {
                inner.text(name, vec![], v);
            }
        }
        for b in &self.boot_devs {
            inner.empty("boot", vec![a("dev", b)]);
        }
        if let Some(b) = self.bootmenu {
            inner.empty("bootmenu", vec![a("enable", yes_no(b))]);
        }
        if let Some(m) = &self.smbios_mode {
            inner.empty("smbios", vec![a("mode", m)]);
        }
        w.elem("os", vec![ao("firmware", self.firmware.as_ref())], inner);
    }
}

impl Cpu {
    fn parse(c: &Checked<'_>) -> Result<Cpu> {
        let topology = match c.child("topology") {
            Some(t) => {
                // As in libvirt: sockets, cores and threads are required, none may be 0.
                let count = |name: &str, required: bool| -> Result<u32> {
                    let v = match t.attr_parse::<u32>(name)? {
                        Some(v) => v,
                        None if required => {
                            return Err(DomainXmlError::MissingAttribute {
                                attribute: name.into(),
                                element: "topology".into(),
                                line: t.line(),
                            })
                        }
                        None => 1,
                    };
                    if v == 0 {
                        return Err(t.invalid(
                            "0",
                            &format!("attribute '{name}'"),
                            "must not be 0",
                        ));
                    }
                    Ok(v)
                };
                let v = Topology {
                    sockets: count("sockets", true)?,
                    dies: count("dies", false)?,
                    clusters: count("clusters", false)?,
                    cores: count("cores", true)?,
                    threads: count("threads", true)?,
                };
                t.finish()?;
                Some(v)
            }
            None => None,
        };
        let model = match c.child("model") {
            Some(m) => {
                let _ = m.attr("fallback");
                let v = m.text().trim().to_string();
                m.finish()?;
                Some(v)
            }
            None => None,
        };
        let v = Cpu {
            mode: c.attr_string("mode"),
            match_: c.attr_string("match"),
            check: c.attr_string("check"),
            model,
            vendor: opt_text(c, "vendor")?,
            topology,
        };
        c.finish()?;
        Ok(v)
    }

    fn format(&self, w: &mut Writer) {
        let mut inner = w.nested();
        if let Some(m) = &self.model {
            inner.text("model", vec![], m);
        }
        if let Some(v) = &self.vendor {
            inner.text("vendor", vec![], v);
        }
        if let Some(t) = &self.topology {
            inner.empty(
                "topology",
                vec![
                    a("sockets", t.sockets),
                    a("dies", t.dies),
                    a("clusters", t.clusters),
                    a("cores", t.cores),
                    a("threads", t.threads),
                ],
            );
        }
        w.elem(
            "cpu",
            vec![
                ao("mode", self.mode.as_ref()),
                ao("match", self.match_.as_ref()),
                ao("check", self.check.as_ref()),
            ],
            inner,
        );
    }
}

impl Domain {
    /// Parse a `<domain>` document. Unknown elements and attributes are errors naming the
    /// element and its line; `<metadata>`, `<features>` children and clock timers are kept
    /// verbatim.
    pub fn from_xml(text: &str) -> Result<Domain> {
        let root = Element::parse(text)?;
        if root.name != "domain" {
            return Err(DomainXmlError::WrongRoot {
                expected: "domain".into(),
                found: root.name,
            });
        }
        let c = Checked::new(&root);
        let mut d = Domain {
            domain_type: c.req_attr("type")?.to_string(),
            id: c.attr_parse("id")?,
            name: opt_text(&c, "name")?,
            uuid: parse_uuid(&c, "uuid")?,
            genid: parse_uuid(&c, "genid")?,
            // libvirt reads an empty title or description as none.
            title: opt_text(&c, "title")?.filter(|t| !t.is_empty()),
            description: opt_text(&c, "description")?.filter(|t| !t.is_empty()),
            metadata: c.child("metadata").map(|m| m.element().clone()),
            memory_kib: opt_memory(&c, "memory")?,
            current_memory_kib: opt_memory(&c, "currentMemory")?,
            ..Domain::default()
        };
        if let Some(m) = c.child("memtune") {
            d.memtune = MemTune {
                hard_limit: opt_memory(&m, "hard_limit")?,
                soft_limit: opt_memory(&m, "soft_limit")?,
                min_guarantee: opt_memory(&m, "min_guarantee")?,
                swap_hard_limit: opt_memory(&m, "swap_hard_limit")?,
            };
            m.finish()?;
        }
        if let Some(v) = c.child("vcpu") {
            let cpuset = match v.attr("cpuset") {
                Some(s) => {
                    let set = s
                        .parse::<CpuSet>()
                        .map_err(|_| v.invalid(s, "attribute 'cpuset'", "not a CPU set"))?;
                    // libvirt: "Invalid value of 'cpuset'" when it selects no CPU (`^3`);
                    // an empty set would also print as `cpuset=''`, which does not parse.
                    if set.0.is_empty() {
                        return Err(v.invalid(s, "attribute 'cpuset'", "selects no CPU"));
                    }
                    Some(set)
                }
                None => None,
            };
            d.vcpu = Vcpu {
                count: v.text_parse()?,
                placement: v.attr_string("placement"),
                cpuset,
                current: v.attr_parse("current")?,
            };
            v.finish()?;
        }
        if let Some(t) = c.child("cputune") {
            d.cputune = CpuTune {
                shares: opt_text_parse(&t, "shares")?,
                period: opt_text_parse(&t, "period")?,
                quota: opt_text_parse(&t, "quota")?,
            };
            t.finish()?;
        }
        if let Some(o) = c.child("os") {
            d.os = Os::parse(&o)?;
        }
        if let Some(f) = c.child("features") {
            d.features = Some(f.take_rest().into_iter().cloned().collect());
            f.finish()?;
        }
        if let Some(cpu) = c.child("cpu") {
            d.cpu = Some(Cpu::parse(&cpu)?);
        }
        if let Some(k) = c.child("clock") {
            d.clock = Some(Clock {
                offset: k.attr_string("offset").unwrap_or_else(|| "utc".into()),
                timezone: k.attr_string("timezone"),
                adjustment: k.attr_string("adjustment"),
                basis: k.attr_string("basis"),
                timers: k
                    .children("timer")
                    .into_iter()
                    .map(|t| t.element().clone())
                    .collect(),
            });
            k.finish()?;
        }
        d.on_poweroff = opt_text(&c, "on_poweroff")?.map(|s| s.trim().to_string());
        d.on_reboot = opt_text(&c, "on_reboot")?.map(|s| s.trim().to_string());
        d.on_crash = opt_text(&c, "on_crash")?.map(|s| s.trim().to_string());
        if let Some(dev) = c.child("devices") {
            d.devices = Devices::parse(&dev)?;
        }
        for extra in c.take_rest() {
            let local = extra.name.rsplit(':').next().unwrap_or(&extra.name);
            if extra.namespace.as_deref() == Some(VMWARE_NAMESPACE) {
                match local {
                    "datacenterpath" => d.vmware.datacenter_path = Some(extra.text.clone()),
                    "moref" => d.vmware.moref = Some(extra.text.clone()),
                    _ => {}
                }
                if matches!(local, "datacenterpath" | "moref") {
                    continue;
                }
            }
            return Err(DomainXmlError::UnknownElement {
                element: extra.name.clone(),
                parent: "domain".into(),
                line: extra.line,
            });
        }
        c.finish()?;
        Ok(d)
    }

    /// Format as libvirt's domain formatter does (inactive, secure), ending with a newline.
    pub fn to_xml(&self) -> String {
        self.to_xml_with(&FormatOptions::default())
    }

    /// Format as libvirt's domain formatter does for an inactive definition, with `options`.
    pub fn to_xml_with(&self, options: &FormatOptions) -> String {
        let mut w = Writer::new(0);
        w.secure = options.secure;
        let mut inner = w.nested();
        if let Some(n) = &self.name {
            inner.text("name", vec![], n);
        }
        if let Some(u) = &self.uuid {
            inner.text("uuid", vec![], &u.to_string());
        }
        if let Some(g) = &self.genid {
            inner.text("genid", vec![], &g.to_string());
        }
        if let Some(t) = &self.title {
            inner.text("title", vec![], t);
        }
        if let Some(t) = &self.description {
            inner.text("description", vec![], t);
        }
        if let Some(m) = &self.metadata {
            inner.raw(m);
        }
        let mem = self.memory_kib.unwrap_or(0);
        inner.text("memory", vec![a("unit", "KiB")], &mem.to_string());
        let cur = self.current_memory_kib.unwrap_or(mem);
        inner.text("currentMemory", vec![a("unit", "KiB")], &cur.to_string());
        let mut mt = inner.nested();
        for (name, v) in [
            ("hard_limit", self.memtune.hard_limit),
            ("soft_limit", self.memtune.soft_limit),
            ("min_guarantee", self.memtune.min_guarantee),
            ("swap_hard_limit", self.memtune.swap_hard_limit),
        ] {
            if let Some(v) = v {
                mt.text(name, vec![a("unit", "KiB")], &v.to_string());
            }
        }
        inner.elem_opt("memtune", vec![], mt);
        inner.text(
            "vcpu",
            vec![
                a(
                    "placement",
                    self.vcpu.placement.as_deref().unwrap_or("static"),
                ),
                ao("cpuset", self.vcpu.cpuset.as_ref()),
                ao("current", self.vcpu.current),
            ],
            &self.vcpu.count.to_string(),
        );
        let mut ct = inner.nested();
        if let Some(s) = self.cputune.shares {
            ct.text("shares", vec![], &s.to_string());
        }
        if let Some(s) = self.cputune.period {
            ct.text("period", vec![], &s.to_string());
        }
        if let Some(s) = self.cputune.quota {
            ct.text("quota", vec![], &s.to_string());
        }
        inner.elem_opt("cputune", vec![], ct);
        self.os.format(&mut inner);
        if let Some(f) = &self.features {
            let mut fw = inner.nested();
            for e in f {
                fw.raw(e);
            }
            inner.elem("features", vec![], fw);
        }
        if let Some(cpu) = &self.cpu {
            cpu.format(&mut inner);
        }
        match &self.clock {
            Some(k) => {
                let mut kw = inner.nested();
                for t in &k.timers {
                    kw.raw(t);
                }
                inner.elem(
                    "clock",
                    vec![
                        a("offset", &k.offset),
                        ao("timezone", k.timezone.as_ref()),
                        ao("adjustment", k.adjustment.as_ref()),
                        ao("basis", k.basis.as_ref()),
                    ],
                    kw,
                );
            }
            None => inner.empty("clock", vec![a("offset", "utc")]),
        }
        inner.text(
            "on_poweroff",
            vec![],
            self.on_poweroff.as_deref().unwrap_or("destroy"),
        );
        inner.text(
            "on_reboot",
            vec![],
            self.on_reboot.as_deref().unwrap_or("restart"),
        );
        inner.text(
            "on_crash",
            vec![],
            self.on_crash.as_deref().unwrap_or("destroy"),
        );
        self.devices.format(&mut inner);
        let has_ns = self.vmware.datacenter_path.is_some() || self.vmware.moref.is_some();
        if let Some(p) = &self.vmware.datacenter_path {
            inner.text("vmware:datacenterpath", vec![], p);
        }
        if let Some(m) = &self.vmware.moref {
            inner.text("vmware:moref", vec![], m);
        }
        w.elem(
            "domain",
            vec![
                a("type", &self.domain_type),
                ao("id", self.id),
                ao("xmlns:vmware", has_ns.then_some(VMWARE_NAMESPACE)),
            ],
            inner,
        );
        w.buf
    }
}
