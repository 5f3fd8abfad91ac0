//! Device models of the domain XML `<devices>` element.

use crate::error::{DomainXmlError, Result};
use crate::types::MacAddr;
use crate::xml::{a, ao, yes_no, Attrs, Checked, Writer};

/// A device address (`<address type=...>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    /// `type='drive'`: a disk or controller slot.
    Drive(DriveAddress),
    /// Any other address type, attributes kept in document order.
    Other {
        /// The `type` attribute.
        kind: String,
        /// Other attributes in order.
        attrs: Vec<(String, String)>,
    },
}

/// A `type='drive'` address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DriveAddress {
    /// Controller index.
    pub controller: u32,
    /// Bus on the controller.
    pub bus: u32,
    /// Target on the bus.
    pub target: u32,
    /// Unit on the target.
    pub unit: u32,
}

impl Address {
    fn parse(c: &Checked<'_>) -> Result<Address> {
        let kind = c.req_attr("type")?;
        if kind == "drive" {
            let d = DriveAddress {
                controller: c.attr_parse("controller")?.unwrap_or(0),
                bus: c.attr_parse("bus")?.unwrap_or(0),
                target: c.attr_parse("target")?.unwrap_or(0),
                unit: c.attr_parse("unit")?.unwrap_or(0),
            };
            c.finish()?;
            return Ok(Address::Drive(d));
        }
        let attrs = c
            .element()
            .attrs
            .iter()
            .filter(|(n, _)| n != "type")
            .cloned()
            .collect();
        Ok(Address::Other {
            kind: kind.to_string(),
            attrs,
        })
    }

    fn format(&self, w: &mut Writer) {
        match self {
            Address::Drive(d) => w.empty(
                "address",
                vec![
                    a("type", "drive"),
                    a("controller", d.controller),
                    a("bus", d.bus),
                    a("target", d.target),
                    a("unit", d.unit),
                ],
            ),
            Address::Other { kind, attrs } => {
                let mut list: Attrs<'_> = vec![a("type", kind)];
                for (n, v) in attrs {
                    list.push((n.as_str(), Some(v.clone())));
                }
                w.empty("address", list);
            }
        }
    }
}

fn parse_address(c: &Checked<'_>) -> Result<Option<Address>> {
    c.child("address").map(|x| Address::parse(&x)).transpose()
}

fn parse_alias(c: &Checked<'_>) -> Result<Option<String>> {
    match c.child("alias") {
        Some(x) => {
            let v = x.attr_string("name");
            x.finish()?;
            Ok(v)
        }
        None => Ok(None),
    }
}

/// `<disk>`: a hard disk, CD-ROM, floppy or LUN.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Disk {
    /// `type`: file, block, dir, network, volume.
    pub disk_type: String,
    /// `device`: disk, cdrom, floppy, lun.
    pub device: String,
    /// `<driver>`.
    pub driver: Option<DiskDriver>,
    /// `<source>`.
    pub source: Option<DiskSource>,
    /// `<target>`.
    pub target: DiskTarget,
    /// `<readonly/>`.
    pub readonly: bool,
    /// `<shareable/>`.
    pub shareable: bool,
    /// `<transient/>`.
    pub transient: bool,
    /// `<serial>`.
    pub serial: Option<String>,
    /// `<boot order=.../>`.
    pub boot_order: Option<u32>,
    /// `<alias name=.../>`.
    pub alias: Option<String>,
    /// `<address>`.
    pub address: Option<Address>,
}

/// `<disk><driver>`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DiskDriver {
    /// `name` (for ESX, the legacy SCSI controller model).
    pub name: Option<String>,
    /// `type` (image format).
    pub format: Option<String>,
    /// `cache` mode.
    pub cache: Option<String>,
    /// `io` mode.
    pub io: Option<String>,
}

/// `<disk><source>`: the attribute name (`file`, `dev`, `dir`) follows the disk type.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DiskSource {
    /// The file, device or directory path.
    pub path: Option<String>,
    /// `pool` for volume disks.
    pub pool: Option<String>,
    /// `volume` for volume disks.
    pub volume: Option<String>,
    /// `startupPolicy`: mandatory, requisite, optional.
    pub startup_policy: Option<String>,
}

/// `<disk><target>`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DiskTarget {
    /// `dev`, e.g. `sda`.
    pub dev: String,
    /// `bus`: ide, scsi, sata, fdc, virtio, usb, ...
    pub bus: Option<String>,
    /// `tray`.
    pub tray: Option<String>,
    /// `removable`.
    pub removable: Option<bool>,
}

fn source_attr(disk_type: &str) -> &'static str {
    match disk_type {
        "block" => "dev",
        "dir" => "dir",
        _ => "file",
    }
}

impl Disk {
    fn parse(c: &Checked<'_>) -> Result<Disk> {
        let disk_type = c.attr_string("type").unwrap_or_else(|| "file".into());
        let device = c.attr_string("device").unwrap_or_else(|| "disk".into());
        let driver = match c.child("driver") {
            Some(d) => {
                let v = DiskDriver {
                    name: d.attr_string("name"),
                    format: d.attr_string("type"),
                    cache: d.attr_string("cache"),
                    io: d.attr_string("io"),
                };
                d.finish()?;
                Some(v)
            }
            None => None,
        };
        let source = match c.child("source") {
            Some(s) => {
                let v = DiskSource {
                    // libvirt reads an empty path as none (an empty drive).
                    path: s
                        .attr_string(source_attr(&disk_type))
                        .filter(|p| !p.is_empty()),
                    pool: s.attr_string("pool"),
                    volume: s.attr_string("volume"),
                    startup_policy: s.attr_string("startupPolicy"),
                };
                s.finish()?;
                Some(v)
            }
            None => None,
        };
        // libvirt: a disk without <source> is a file disk (an empty CD-ROM drive).
        let disk_type = if source.is_none() {
            "file".to_string()
        } else {
            disk_type
        };
        let t = c
            .child("target")
            .ok_or_else(|| DomainXmlError::MissingElement {
                element: "target".into(),
                parent: "disk".into(),
                line: c.line(),
            })?;
        let target = DiskTarget {
            dev: t.req_attr("dev")?.to_string(),
            bus: t.attr_string("bus"),
            tray: t.attr_string("tray"),
            removable: t.attr_yes_no("removable")?,
        };
        t.finish()?;
        let boot_order = match c.child("boot") {
            Some(b) => {
                let v = b.attr_parse("order")?;
                b.finish()?;
                v
            }
            None => None,
        };
        let disk = Disk {
            disk_type,
            device,
            driver,
            source,
            target,
            readonly: c.has_child("readonly")?,
            shareable: c.has_child("shareable")?,
            transient: c.has_child("transient")?,
            serial: c.child_text("serial"),
            boot_order,
            alias: parse_alias(c)?,
            address: parse_address(c)?,
        };
        c.finish()?;
        Ok(disk)
    }

    fn format(&self, w: &mut Writer) {
        let mut inner = w.nested();
        if let Some(d) = &self.driver {
            inner.elem_opt(
                "driver",
                vec![
                    ao("name", d.name.as_ref()),
                    ao("type", d.format.as_ref()),
                    ao("cache", d.cache.as_ref()),
                    ao("io", d.io.as_ref()),
                ],
                Writer::default(),
            );
        }
        if let Some(s) = &self.source {
            inner.elem_opt(
                "source",
                vec![
                    ao(source_attr(&self.disk_type), s.path.as_ref()),
                    ao("pool", s.pool.as_ref()),
                    ao("volume", s.volume.as_ref()),
                    ao("startupPolicy", s.startup_policy.as_ref()),
                ],
                Writer::default(),
            );
        }
        inner.empty(
            "target",
            vec![
                a("dev", &self.target.dev),
                ao("bus", self.target.bus.as_ref()),
                ao("tray", self.target.tray.as_ref()),
                ao("removable", self.target.removable.map(yes_no)),
            ],
        );
        if self.readonly {
            inner.empty("readonly", vec![]);
        }
        if self.shareable {
            inner.empty("shareable", vec![]);
        }
        if self.transient {
            inner.empty("transient", vec![]);
        }
        if let Some(s) = &self.serial {
            inner.text("serial", vec![], s);
        }
        if let Some(o) = self.boot_order {
            inner.empty("boot", vec![a("order", o)]);
        }
        if let Some(al) = &self.alias {
            inner.empty("alias", vec![a("name", al)]);
        }
        if let Some(ad) = &self.address {
            ad.format(&mut inner);
        }
        w.elem(
            "disk",
            vec![a("type", &self.disk_type), a("device", &self.device)],
            inner,
        );
    }
}

/// `<controller>`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Controller {
    /// `type`: scsi, ide, fdc, sata, usb, pci, ...
    pub controller_type: String,
    /// `index`.
    pub index: u32,
    /// `model`.
    pub model: Option<String>,
    /// `<alias name=.../>`.
    pub alias: Option<String>,
    /// `<address>`.
    pub address: Option<Address>,
}

impl Controller {
    fn parse(c: &Checked<'_>) -> Result<Controller> {
        let v = Controller {
            controller_type: c.req_attr("type")?.to_string(),
            index: c.attr_parse("index")?.unwrap_or(0),
            model: c.attr_string("model"),
            alias: parse_alias(c)?,
            address: parse_address(c)?,
        };
        c.finish()?;
        Ok(v)
    }

    fn format(&self, w: &mut Writer) {
        let mut inner = w.nested();
        if let Some(al) = &self.alias {
            inner.empty("alias", vec![a("name", al)]);
        }
        if let Some(ad) = &self.address {
            ad.format(&mut inner);
        }
        w.elem(
            "controller",
            vec![
                a("type", &self.controller_type),
                a("index", self.index),
                ao("model", self.model.as_ref()),
            ],
            inner,
        );
    }
}

/// `<filesystem>`: a host directory shared with the guest.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Filesystem {
    /// `type`, usually `mount`.
    pub fs_type: String,
    /// `accessmode`: passthrough, mapped, squash.
    pub accessmode: Option<String>,
    /// `<source dir=.../>`.
    pub source_dir: Option<String>,
    /// `<target dir=.../>`.
    pub target_dir: String,
    /// `<readonly/>`.
    pub readonly: bool,
}

impl Filesystem {
    fn parse(c: &Checked<'_>) -> Result<Filesystem> {
        let source_dir = match c.child("source") {
            Some(s) => {
                let v = s.attr_string("dir");
                s.finish()?;
                v
            }
            None => None,
        };
        let t = c
            .child("target")
            .ok_or_else(|| DomainXmlError::MissingElement {
                element: "target".into(),
                parent: "filesystem".into(),
                line: c.line(),
            })?;
        let target_dir = t.req_attr("dir")?.to_string();
        t.finish()?;
        let v = Filesystem {
            fs_type: c.attr_string("type").unwrap_or_else(|| "mount".into()),
            accessmode: c.attr_string("accessmode"),
            source_dir,
            target_dir,
            readonly: c.has_child("readonly")?,
        };
        c.finish()?;
        Ok(v)
    }

    fn format(&self, w: &mut Writer) {
        let mut inner = w.nested();
        if let Some(s) = &self.source_dir {
            inner.empty("source", vec![a("dir", s)]);
        }
        inner.empty("target", vec![a("dir", &self.target_dir)]);
        if self.readonly {
            inner.empty("readonly", vec![]);
        }
        w.elem(
            "filesystem",
            vec![
                a("type", &self.fs_type),
                // libvirt writes the default access mode explicitly.
                a(
                    "accessmode",
                    self.accessmode.as_deref().unwrap_or("passthrough"),
                ),
            ],
            inner,
        );
    }
}

/// `<interface>`: a network card.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Interface {
    /// `type`: bridge, network, user, null, vds, ethernet, direct, ...
    pub net_type: String,
    /// `<mac>`.
    pub mac: Option<Mac>,
    /// `<source>`.
    pub source: InterfaceSource,
    /// `<target dev=.../>`.
    pub target_dev: Option<String>,
    /// `<model type=.../>`.
    pub model: Option<String>,
    /// `<link state=.../>`.
    pub link_state: Option<String>,
    /// `<alias name=.../>`.
    pub alias: Option<String>,
    /// `<address>`.
    pub address: Option<Address>,
}

/// `<interface><mac>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mac {
    /// The address.
    pub address: MacAddr,
    /// `type`: generated or static.
    pub mac_type: Option<String>,
    /// `check`: yes or no.
    pub check: Option<bool>,
}

/// `<interface><source>`, every attribute any interface type uses.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InterfaceSource {
    /// `network`.
    pub network: Option<String>,
    /// `portgroup`.
    pub portgroup: Option<String>,
    /// `bridge`.
    pub bridge: Option<String>,
    /// `dev` (direct).
    pub dev: Option<String>,
    /// `mode` (direct).
    pub mode: Option<String>,
    /// `switchid` (vds).
    pub switchid: Option<String>,
    /// `portid` (vds).
    pub portid: Option<String>,
    /// `portgroupid` (vds).
    pub portgroupid: Option<String>,
    /// `connectionid` (vds).
    pub connectionid: Option<String>,
}

impl InterfaceSource {
    fn attrs(&self) -> Attrs<'_> {
        vec![
            ao("network", self.network.as_ref()),
            ao("portgroup", self.portgroup.as_ref()),
            ao("bridge", self.bridge.as_ref()),
            ao("dev", self.dev.as_ref()),
            ao("mode", self.mode.as_ref()),
            ao("switchid", self.switchid.as_ref()),
            ao("portid", self.portid.as_ref()),
            ao("portgroupid", self.portgroupid.as_ref()),
            ao("connectionid", self.connectionid.as_ref()),
        ]
    }
}

/// Whether an interface name is one libvirt generates (`vnet*`, `macvtap*`, `macvlan*`); such
/// names are left out of inactive definitions, on input and on output.
pub fn is_generated_ifname(name: &str) -> bool {
    ["vnet", "macvtap", "macvlan"]
        .iter()
        .any(|p| name.starts_with(p))
}

impl Interface {
    fn parse(c: &Checked<'_>) -> Result<Interface> {
        let mac = match c.child("mac") {
            Some(m) => {
                // No address (or all zeros) asks libvirt for a generated one.
                let address: MacAddr = match m.attr("address") {
                    None => MacAddr::default(),
                    Some(text) => text
                        .parse()
                        .map_err(|_| m.invalid(text, "attribute 'address'", "not a MAC address"))?,
                };
                let v = Mac {
                    address,
                    mac_type: m.attr_string("type"),
                    check: m.attr_yes_no("check")?,
                };
                m.finish()?;
                Some(v)
            }
            None => None,
        };
        let source = match c.child("source") {
            Some(s) => {
                let v = InterfaceSource {
                    network: s.attr_string("network"),
                    portgroup: s.attr_string("portgroup"),
                    bridge: s.attr_string("bridge"),
                    dev: s.attr_string("dev"),
                    mode: s.attr_string("mode"),
                    switchid: s.attr_string("switchid"),
                    portid: s.attr_string("portid"),
                    portgroupid: s.attr_string("portgroupid"),
                    connectionid: s.attr_string("connectionid"),
                };
                s.finish()?;
                v
            }
            None => InterfaceSource::default(),
        };
        let simple = |name: &str, attr: &str| -> Result<Option<String>> {
            match c.child(name) {
                Some(x) => {
                    let v = x.attr_string(attr);
                    x.finish()?;
                    Ok(v)
                }
                None => Ok(None),
            }
        };
        // An interface name libvirt generates itself is not part of an inactive definition.
        let target_dev = simple("target", "dev")?.filter(|d| !is_generated_ifname(d));
        let v = Interface {
            net_type: c.req_attr("type")?.to_string(),
            mac,
            source,
            target_dev,
            model: simple("model", "type")?,
            link_state: simple("link", "state")?,
            alias: parse_alias(c)?,
            address: parse_address(c)?,
        };
        c.finish()?;
        Ok(v)
    }

    fn format(&self, w: &mut Writer) {
        let mut inner = w.nested();
        if let Some(m) = &self.mac {
            inner.empty(
                "mac",
                vec![
                    a("address", m.address),
                    ao("type", m.mac_type.as_ref()),
                    ao("check", m.check.map(yes_no)),
                ],
            );
        }
        inner.elem_opt("source", self.source.attrs(), Writer::default());
        if let Some(t) = self.target_dev.as_ref().filter(|t| !is_generated_ifname(t)) {
            inner.empty("target", vec![a("dev", t)]);
        }
        if let Some(m) = &self.model {
            inner.empty("model", vec![a("type", m)]);
        }
        if let Some(l) = &self.link_state {
            inner.empty("link", vec![a("state", l)]);
        }
        if let Some(al) = &self.alias {
            inner.empty("alias", vec![a("name", al)]);
        }
        if let Some(ad) = &self.address {
            ad.format(&mut inner);
        }
        w.elem("interface", vec![a("type", &self.net_type)], inner);
    }
}

/// A character device: `<serial>`, `<parallel>`, `<console>` or `<channel>`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CharDevice {
    /// `type`: null, vc, pty, dev, file, pipe, tcp, udp, unix, ...
    pub chr_type: String,
    /// `<source>` elements (udp has two).
    pub sources: Vec<CharSource>,
    /// `<protocol type=.../>` for tcp.
    pub protocol: Option<String>,
    /// `<target>`.
    pub target: CharTarget,
    /// `<alias name=.../>`.
    pub alias: Option<String>,
    /// `<address>`.
    pub address: Option<Address>,
}

/// `<source>` of a character device.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CharSource {
    /// `mode`: bind or connect.
    pub mode: Option<String>,
    /// `host`.
    pub host: Option<String>,
    /// `service` (port).
    pub service: Option<String>,
    /// `path`.
    pub path: Option<String>,
    /// `append`.
    pub append: Option<String>,
}

/// `<target>` of a character device.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CharTarget {
    /// `type`, e.g. `serial` for a console.
    pub target_type: Option<String>,
    /// `port`.
    pub port: Option<u32>,
    /// `name` (channels).
    pub name: Option<String>,
}

impl CharDevice {
    fn parse(c: &Checked<'_>) -> Result<CharDevice> {
        let mut sources = Vec::new();
        for s in c.children("source") {
            sources.push(CharSource {
                mode: s.attr_string("mode"),
                host: s.attr_string("host"),
                service: s.attr_string("service"),
                path: s.attr_string("path"),
                append: s.attr_string("append"),
            });
            s.finish()?;
        }
        let protocol = match c.child("protocol") {
            Some(p) => {
                let v = p.attr_string("type");
                p.finish()?;
                v
            }
            None => None,
        };
        let target = match c.child("target") {
            Some(t) => {
                // Port -1 is libvirt's "none given".
                let port = match t.attr("port") {
                    Some(p) if p.trim() == "-1" => None,
                    _ => t.attr_parse("port")?,
                };
                let v = CharTarget {
                    target_type: t.attr_string("type"),
                    port,
                    name: t.attr_string("name"),
                };
                t.finish()?;
                v
            }
            None => CharTarget::default(),
        };
        let v = CharDevice {
            chr_type: c.attr_string("type").unwrap_or_else(|| "pty".into()),
            sources,
            protocol,
            target,
            alias: parse_alias(c)?,
            address: parse_address(c)?,
        };
        c.finish()?;
        Ok(v)
    }

    fn format(&self, name: &str, w: &mut Writer) {
        let mut inner = w.nested();
        for s in &self.sources {
            inner.elem_opt(
                "source",
                vec![
                    ao("mode", s.mode.as_ref()),
                    ao("host", s.host.as_ref()),
                    ao("service", s.service.as_ref()),
                    ao("path", s.path.as_ref()),
                    ao("append", s.append.as_ref()),
                ],
                Writer::default(),
            );
        }
        if let Some(p) = &self.protocol {
            inner.empty("protocol", vec![a("type", p)]);
        }
        inner.elem_opt(
            "target",
            vec![
                ao("type", self.target.target_type.as_ref()),
                ao("name", self.target.name.as_ref()),
                ao("port", self.target.port),
            ],
            Writer::default(),
        );
        if let Some(al) = &self.alias {
            inner.empty("alias", vec![a("name", al)]);
        }
        if let Some(ad) = &self.address {
            ad.format(&mut inner);
        }
        w.elem(name, vec![a("type", &self.chr_type)], inner);
    }
}

/// `<input>`: keyboard, mouse or tablet.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Input {
    /// `type`.
    pub input_type: String,
    /// `bus`.
    pub bus: Option<String>,
}

/// `<graphics>`: a remote display.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Graphics {
    /// `type`: vnc, sdl, rdp, spice, ...
    pub graphics_type: String,
    /// `port` (-1 with autoport).
    pub port: Option<i32>,
    /// `autoport`.
    pub autoport: Option<bool>,
    /// `websocket`.
    pub websocket: Option<i32>,
    /// `keymap`.
    pub keymap: Option<String>,
    /// `passwd` (written only by a secure format, see [`crate::FormatOptions`]).
    pub passwd: Option<String>,
    /// `<listen>` children.
    pub listens: Vec<GraphicsListen>,
}

/// `<graphics><listen>`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GraphicsListen {
    /// `type`: address, network, socket, none.
    pub listen_type: String,
    /// `address`.
    pub address: Option<String>,
    /// `network`.
    pub network: Option<String>,
}

impl Graphics {
    fn parse(c: &Checked<'_>) -> Result<Graphics> {
        let mut listens = Vec::new();
        let compat = c.attr("listen");
        for l in c.children("listen") {
            let listen_type = l.req_attr("type")?.to_string();
            let mut address = l.attr_string("address");
            if listen_type == "address" && address.is_none() {
                address = compat.map(str::to_string);
            }
            listens.push(GraphicsListen {
                // libvirt keeps no empty address.
                address: address.filter(|a| !a.is_empty()),
                network: l.attr_string("network").filter(|n| !n.is_empty()),
                listen_type,
            });
            l.finish()?;
        }
        if listens.is_empty() {
            if let Some(addr) = compat {
                listens.push(GraphicsListen {
                    listen_type: "address".into(),
                    address: Some(addr.to_string()).filter(|a| !a.is_empty()),
                    network: None,
                });
            }
        }
        let graphics_type = c.req_attr("type")?.to_string();
        let (port, autoport) = if graphics_type == "vnc" {
            // libvirt: no port, or port -1, means an automatic port; an autoport attribute
            // that is neither yes nor no is ignored; an automatic port is 0 when inactive.
            let mut port: i32 = c.attr_parse("port")?.unwrap_or(-1);
            let mut autoport = port == -1;
            if autoport {
                port = 0;
            }
            match c.attr("autoport") {
                Some("yes") => autoport = true,
                Some("no") => autoport = false,
                _ => {}
            }
            if autoport {
                port = 0;
            }
            (Some(port), Some(autoport))
        } else {
            (c.attr_parse("port")?, c.attr_yes_no("autoport")?)
        };
        let v = Graphics {
            graphics_type,
            port,
            autoport,
            websocket: c.attr_parse("websocket")?,
            keymap: c.attr_string("keymap"),
            passwd: c.attr_string("passwd"),
            listens,
        };
        c.finish()?;
        Ok(v)
    }

    fn format(&self, w: &mut Writer) {
        let mut inner = w.nested();
        for l in &self.listens {
            inner.empty(
                "listen",
                vec![
                    a("type", &l.listen_type),
                    ao("address", l.address.as_ref()),
                    ao("network", l.network.as_ref()),
                ],
            );
        }
        let listen_attr = self
            .listens
            .first()
            .filter(|l| l.listen_type == "address")
            .and_then(|l| l.address.clone());
        // An inactive definition: an automatic port is -1, a port of 0 is not written.
        let port = if self.graphics_type == "vnc" {
            if self.autoport == Some(true) {
                Some(-1)
            } else {
                self.port.filter(|p| *p != 0)
            }
        } else {
            self.port
        };
        let passwd = if w.secure { self.passwd.as_ref() } else { None };
        w.elem(
            "graphics",
            vec![
                a("type", &self.graphics_type),
                ao("port", port),
                ao("autoport", self.autoport.map(yes_no)),
                ao("websocket", self.websocket),
                ao("listen", listen_attr),
                ao("keymap", self.keymap.as_ref()),
                ao("passwd", passwd),
            ],
            inner,
        );
    }
}

/// `<video>`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Video {
    /// `<model type=...>`: vga, cirrus, vmvga, qxl, virtio, ...
    pub model_type: Option<String>,
    /// `vram` in KiB.
    pub vram: Option<u64>,
    /// `heads`.
    pub heads: Option<u32>,
    /// `primary`.
    pub primary: Option<bool>,
    /// `<address>`.
    pub address: Option<Address>,
}

impl Video {
    fn parse(c: &Checked<'_>) -> Result<Video> {
        let mut v = Video::default();
        if let Some(m) = c.child("model") {
            v.model_type = m.attr_string("type");
            v.vram = m.attr_parse("vram")?;
            v.heads = m.attr_parse("heads")?;
            v.primary = m.attr_yes_no("primary")?;
            m.finish()?;
        }
        v.address = parse_address(c)?;
        c.finish()?;
        Ok(v)
    }

    fn format(&self, w: &mut Writer) {
        let mut inner = w.nested();
        inner.elem_opt(
            "model",
            vec![
                ao("type", self.model_type.as_ref()),
                ao("vram", self.vram),
                ao("heads", self.heads),
                ao("primary", self.primary.map(yes_no)),
            ],
            Writer::default(),
        );
        if let Some(ad) = &self.address {
            ad.format(&mut inner);
        }
        w.elem("video", vec![], inner);
    }
}

/// `<sound>`, `<watchdog>` or `<memballoon>`: a device known only by model (and action).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ModelDevice {
    /// `model`.
    pub model: String,
    /// `action` (watchdog only).
    pub action: Option<String>,
    /// `<address>`.
    pub address: Option<Address>,
}

impl ModelDevice {
    fn parse(c: &Checked<'_>) -> Result<ModelDevice> {
        let v = ModelDevice {
            model: c.req_attr("model")?.to_string(),
            action: c.attr_string("action"),
            address: parse_address(c)?,
        };
        c.finish()?;
        Ok(v)
    }

    fn format(&self, name: &str, w: &mut Writer) {
        let mut inner = w.nested();
        if let Some(ad) = &self.address {
            ad.format(&mut inner);
        }
        w.elem(
            name,
            vec![a("model", &self.model), ao("action", self.action.as_ref())],
            inner,
        );
    }
}

/// `<devices>`: every device list, in libvirt's formatting order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Devices {
    /// `<emulator>`.
    pub emulator: Option<String>,
    /// `<disk>` elements.
    pub disks: Vec<Disk>,
    /// `<controller>` elements.
    pub controllers: Vec<Controller>,
    /// `<filesystem>` elements.
    pub filesystems: Vec<Filesystem>,
    /// `<interface>` elements.
    pub interfaces: Vec<Interface>,
    /// `<serial>` elements.
    pub serials: Vec<CharDevice>,
    /// `<parallel>` elements.
    pub parallels: Vec<CharDevice>,
    /// `<console>` elements.
    pub consoles: Vec<CharDevice>,
    /// `<channel>` elements.
    pub channels: Vec<CharDevice>,
    /// `<input>` elements.
    pub inputs: Vec<Input>,
    /// `<graphics>` elements.
    pub graphics: Vec<Graphics>,
    /// `<sound>` elements.
    pub sounds: Vec<ModelDevice>,
    /// `<video>` elements.
    pub videos: Vec<Video>,
    /// `<watchdog>` elements.
    pub watchdogs: Vec<ModelDevice>,
    /// `<memballoon>`.
    pub memballoon: Option<ModelDevice>,
}

/// Insert a disk where libvirt's parser puts it: after the disks of the same bus with lower
/// target indexes, before the first one with a higher index (`virDomainDiskInsert`).
pub fn insert_disk(disks: &mut Vec<Disk>, disk: Disk) {
    let index = |d: &Disk| crate::postparse::disk_target_index(&d.target.dev).map_or(-1, i64::from);
    let new_index = index(&disk);
    let mut at: Option<usize> = None;
    for (i, d) in disks.iter().enumerate().rev() {
        if d.target.bus != disk.target.bus {
            continue;
        }
        if index(d) > new_index {
            at = Some(i);
        } else if at.is_none() {
            at = Some(i + 1);
        }
    }
    disks.insert(at.unwrap_or(disks.len()), disk);
}

/// Insert a controller where libvirt puts it: among the controllers of its type, in index
/// order; a new type goes last (`virDomainControllerInsertPreAlloced`).
pub fn insert_controller(controllers: &mut Vec<Controller>, controller: Controller) {
    let mut at: Option<usize> = None;
    for (i, c) in controllers.iter().enumerate().rev() {
        if c.controller_type != controller.controller_type {
            continue;
        }
        if c.index > controller.index {
            at = Some(i);
        } else if at.is_none() {
            at = Some(i + 1);
        }
    }
    controllers.insert(at.unwrap_or(controllers.len()), controller);
}

impl Devices {
    pub(crate) fn parse(c: &Checked<'_>) -> Result<Devices> {
        let mut d = Devices {
            emulator: c.child_text("emulator"),
            ..Devices::default()
        };
        for x in c.children("disk") {
            insert_disk(&mut d.disks, Disk::parse(&x)?);
        }
        for x in c.children("controller") {
            insert_controller(&mut d.controllers, Controller::parse(&x)?);
        }
        for x in c.children("filesystem") {
            d.filesystems.push(Filesystem::parse(&x)?);
        }
        for x in c.children("interface") {
            d.interfaces.push(Interface::parse(&x)?);
        }
        for x in c.children("serial") {
            d.serials.push(CharDevice::parse(&x)?);
        }
        for x in c.children("parallel") {
            d.parallels.push(CharDevice::parse(&x)?);
        }
        for x in c.children("console") {
            d.consoles.push(CharDevice::parse(&x)?);
        }
        for x in c.children("channel") {
            d.channels.push(CharDevice::parse(&x)?);
        }
        for x in c.children("input") {
            d.inputs.push(Input {
                input_type: x.req_attr("type")?.to_string(),
                bus: x.attr_string("bus"),
            });
            x.finish()?;
        }
        for x in c.children("graphics") {
            d.graphics.push(Graphics::parse(&x)?);
        }
        for x in c.children("sound") {
            d.sounds.push(ModelDevice::parse(&x)?);
        }
        for x in c.children("video") {
            d.videos.push(Video::parse(&x)?);
        }
        for x in c.children("watchdog") {
            d.watchdogs.push(ModelDevice::parse(&x)?);
        }
        if let Some(x) = c.child("memballoon") {
            d.memballoon = Some(ModelDevice::parse(&x)?);
        }
        c.finish()?;
        Ok(d)
    }

    pub(crate) fn format(&self, w: &mut Writer) {
        let mut inner = w.nested();
        if let Some(e) = &self.emulator {
            inner.text("emulator", vec![], e);
        }
        for x in &self.disks {
            x.format(&mut inner);
        }
        for x in &self.controllers {
            x.format(&mut inner);
        }
        for x in &self.filesystems {
            x.format(&mut inner);
        }
        for x in &self.interfaces {
            x.format(&mut inner);
        }
        for x in &self.serials {
            x.format("serial", &mut inner);
        }
        for x in &self.parallels {
            x.format("parallel", &mut inner);
        }
        for x in &self.consoles {
            x.format("console", &mut inner);
        }
        for x in &self.channels {
            x.format("channel", &mut inner);
        }
        for x in &self.inputs {
            inner.empty(
                "input",
                vec![a("type", &x.input_type), ao("bus", x.bus.as_ref())],
            );
        }
        for x in &self.graphics {
            x.format(&mut inner);
        }
        for x in &self.sounds {
            x.format("sound", &mut inner);
        }
        for x in &self.videos {
            x.format(&mut inner);
        }
        for x in &self.watchdogs {
            x.format("watchdog", &mut inner);
        }
        if let Some(m) = &self.memballoon {
            m.format("memballoon", &mut inner);
        }
        w.elem("devices", vec![], inner);
    }
}
