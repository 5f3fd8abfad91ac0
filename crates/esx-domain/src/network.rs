//! The `<network>` document (`virsh net-dumpxml`) as libvirt's ESX driver writes and accepts
//! it for a host virtual switch: name, UUID, `<forward mode='bridge'>` over the physical
//! NICs, the bridge element libvirt adds to networks without forwarding, bandwidth (the
//! traffic shaping policy) and port groups with their VLAN and bandwidth.

use crate::error::{DomainXmlError, Result};
use crate::pool::open_close_attrs;
use crate::types::Uuid;
use crate::xml::{a, ao, yes_no, Attrs, Checked, Element, Writer};

/// libvirt's forward modes (`virNetworkForwardType` without `none`).
pub const FORWARD_MODES: [&str; 8] = [
    "nat",
    "route",
    "open",
    "bridge",
    "private",
    "vepa",
    "passthrough",
    "hostdev",
];

/// `<forward>`: how the network reaches the outside.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Forward {
    /// `mode`, one of [`FORWARD_MODES`] (libvirt's default when absent is `nat`).
    pub mode: String,
    /// `<interface dev>` children (ESX: the vswitch's physical NICs, `vmnic0`, ...).
    pub interfaces: Vec<String>,
}

impl Forward {
    /// Whether libvirt writes a `<bridge>` with `stp`/`delay` for this mode.
    fn has_bridge(&self) -> bool {
        matches!(self.mode.as_str(), "nat" | "route" | "open")
    }
}

/// One direction of `<bandwidth>`, in libvirt units (kilobytes/s, kilobytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Rate {
    /// `average` (required unless `floor` is set).
    pub average: u64,
    /// `peak` (0 = unset).
    pub peak: u64,
    /// `floor` (inbound only; 0 = unset).
    pub floor: u64,
    /// `burst` (0 = unset).
    pub burst: u64,
}

/// `<bandwidth>`: inbound and outbound rates (ESX: the traffic shaping policy, both equal).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Bandwidth {
    /// `<inbound>`.
    pub inbound: Option<Rate>,
    /// `<outbound>`.
    pub outbound: Option<Rate>,
}

/// One `<tag>` of a `<vlan>`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VlanTag {
    /// `id` (0-4095).
    pub id: u16,
    /// `nativeMode`: `tagged` or `untagged`.
    pub native_mode: Option<String>,
}

/// `<vlan>`: VLAN tags.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Vlan {
    /// `trunk='yes'` (implied by more than one tag).
    pub trunk: bool,
    /// The tags.
    pub tags: Vec<VlanTag>,
}

/// `<portgroup>`: an ESX port group on the vswitch.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PortGroup {
    /// `name`.
    pub name: String,
    /// `default='yes'`.
    pub is_default: bool,
    /// `<vlan>`.
    pub vlan: Option<Vlan>,
    /// `<bandwidth>`.
    pub bandwidth: Option<Bandwidth>,
}

/// A libvirt virtual network description.
///
/// ```
/// use esx_domain::{Forward, Network, PortGroup};
///
/// let net = Network {
///     name: "vSwitch0".into(),
///     forward: Some(Forward { mode: "bridge".into(), interfaces: vec!["vmnic0".into()] }),
///     portgroups: vec![PortGroup { name: "VM Network".into(), ..PortGroup::default() }],
///     ..Network::default()
/// };
/// let xml = net.to_xml();
/// assert!(xml.contains("  <forward dev='vmnic0' mode='bridge'>\n    <interface dev='vmnic0'/>\n  </forward>\n"));
/// assert!(xml.contains("  <portgroup name='VM Network'>\n  </portgroup>\n"));
/// assert_eq!(Network::from_xml(&xml)?.to_xml(), xml);
/// # Ok::<(), esx_domain::DomainXmlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Network {
    /// `<name>`.
    pub name: String,
    /// `<uuid>` (ESX: MD5 of the vswitch key); written only when set.
    pub uuid: Option<Uuid>,
    /// `<forward>`; `None` is libvirt's mode `none`.
    pub forward: Option<Forward>,
    /// `<bridge name>`.
    pub bridge_name: Option<String>,
    /// `<bridge stp>` (libvirt's parser defaults to on; the ESX driver's definitions leave
    /// it off). Written only for networks without forwarding or with nat/route/open.
    pub stp: bool,
    /// `<bridge delay>` in seconds.
    pub delay: u64,
    /// `<mtu size>`.
    pub mtu: Option<u32>,
    /// `<vlan>`.
    pub vlan: Option<Vlan>,
    /// `<bandwidth>`.
    pub bandwidth: Option<Bandwidth>,
    /// `<portgroup>` elements.
    pub portgroups: Vec<PortGroup>,
}

impl Network {
    /// Parse a `<network>` document; unknown elements/attributes, bad forward modes, VLAN
    /// ids and rates are errors naming the line.
    pub fn from_xml(text: &str) -> Result<Network> {
        let root = Element::parse(text)?;
        if root.name != "network" {
            return Err(DomainXmlError::WrongRoot {
                expected: "network".into(),
                found: root.name,
            });
        }
        let c = Checked::new(&root);
        let name = c
            .child_text("name")
            .map(|n| n.trim().to_string())
            .ok_or_else(|| DomainXmlError::MissingElement {
                element: "name".into(),
                parent: "network".into(),
                line: root.line,
            })?;
        let mut net = Network {
            name,
            stp: true,
            ..Network::default()
        };
        if let Some(u) = c.child("uuid") {
            let t = u.text().trim();
            net.uuid = Some(t.parse().map_err(|_| u.invalid(t, "text", "not a UUID"))?);
            u.finish()?;
        }
        if let Some(f) = c.child("forward") {
            net.forward = parse_forward(&f)?;
        }
        if let Some(b) = c.child("bridge") {
            net.bridge_name = b.attr_string("name");
            net.stp = match b.attr("stp") {
                None | Some("on") => true,
                Some("off") => false,
                Some(v) => return Err(b.invalid(v, "attribute 'stp'", "expected 'on' or 'off'")),
            };
            net.delay = b.attr_parse("delay")?.unwrap_or(0);
            b.finish()?;
        }
        if let Some(m) = c.child("mtu") {
            net.mtu = m.attr_parse("size")?;
            m.finish()?;
        }
        if let Some(v) = c.child("vlan") {
            net.vlan = Some(parse_vlan(&v)?);
        }
        if let Some(b) = c.child("bandwidth") {
            net.bandwidth = parse_bandwidth(&b)?;
        }
        for p in c.children("portgroup") {
            let mut pg = PortGroup {
                name: p.req_attr("name")?.to_string(),
                is_default: p.attr_yes_no("default")?.unwrap_or(false),
                ..PortGroup::default()
            };
            if let Some(v) = p.child("vlan") {
                pg.vlan = Some(parse_vlan(&v)?);
            }
            if let Some(b) = p.child("bandwidth") {
                pg.bandwidth = parse_bandwidth(&b)?;
            }
            p.finish()?;
            net.portgroups.push(pg);
        }
        c.finish()?;
        Ok(net)
    }

    /// Format as libvirt's `virNetworkDefFormat` does.
    pub fn to_xml(&self) -> String {
        let mut w = Writer::new(0);
        let mut inner = w.nested();
        inner.text("name", vec![], &self.name);
        if let Some(u) = &self.uuid {
            inner.text("uuid", vec![], &u.to_string());
        }
        if let Some(f) = &self.forward {
            let mut fw = inner.nested();
            for dev in &f.interfaces {
                fw.empty("interface", vec![a("dev", dev)]);
            }
            let attrs: Attrs<'_> = vec![ao("dev", f.interfaces.first()), a("mode", &f.mode)];
            inner.elem("forward", attrs, fw);
        }
        let has_bridge = self.forward.as_ref().is_none_or(Forward::has_bridge);
        if has_bridge || self.bridge_name.is_some() {
            let mut attrs: Attrs<'_> = vec![ao("name", self.bridge_name.as_ref())];
            if has_bridge {
                attrs.push(a("stp", if self.stp { "on" } else { "off" }));
                attrs.push(a("delay", self.delay));
            }
            inner.empty("bridge", attrs);
        }
        if let Some(m) = self.mtu {
            inner.empty("mtu", vec![a("size", m)]);
        }
        if let Some(v) = &self.vlan {
            write_vlan(&mut inner, v);
        }
        if let Some(b) = &self.bandwidth {
            write_bandwidth(&mut inner, b);
        }
        for pg in &self.portgroups {
            let mut pw = inner.nested();
            if let Some(v) = &pg.vlan {
                write_vlan(&mut pw, v);
            }
            if let Some(b) = &pg.bandwidth {
                write_bandwidth(&mut pw, b);
            }
            let mut attrs = vec![("name", pg.name.clone())];
            if pg.is_default {
                attrs.push(("default", yes_no(true).to_string()));
            }
            open_close_attrs(&mut inner, "portgroup", &attrs, pw);
        }
        w.elem("network", vec![], inner);
        w.buf
    }
}

fn parse_forward(f: &Checked<'_>) -> Result<Option<Forward>> {
    let mode = f.attr("mode").unwrap_or("nat");
    if mode == "none" {
        f.finish()?;
        return Ok(None);
    }
    if !FORWARD_MODES.contains(&mode) {
        return Err(f.invalid(mode, "attribute 'mode'", "unknown forwarding type"));
    }
    let mut interfaces = Vec::new();
    for i in f.children("interface") {
        interfaces.push(i.req_attr("dev")?.to_string());
        i.finish()?;
    }
    if let Some(dev) = f.attr("dev") {
        match interfaces.first() {
            None => interfaces.push(dev.to_string()),
            Some(first) if first == dev => {}
            Some(first) => {
                return Err(f.invalid(
                    dev,
                    "attribute 'dev'",
                    &format!("forward dev must match first interface element dev '{first}'"),
                ))
            }
        }
    }
    f.finish()?;
    Ok(Some(Forward {
        mode: mode.to_string(),
        interfaces,
    }))
}

fn parse_rate(r: &Checked<'_>, allow_floor: bool) -> Result<Rate> {
    let rate = Rate {
        average: r.attr_parse("average")?.unwrap_or(0),
        peak: r.attr_parse("peak")?.unwrap_or(0),
        floor: if allow_floor {
            r.attr_parse("floor")?.unwrap_or(0)
        } else {
            0
        },
        burst: r.attr_parse("burst")?.unwrap_or(0),
    };
    if rate.average == 0 && rate.floor == 0 {
        return Err(DomainXmlError::MissingAttribute {
            attribute: "average".into(),
            element: r.element().name.clone(),
            line: r.line(),
        });
    }
    r.finish()?;
    Ok(rate)
}

fn parse_bandwidth(b: &Checked<'_>) -> Result<Option<Bandwidth>> {
    let bw = Bandwidth {
        inbound: b
            .child("inbound")
            .map(|r| parse_rate(&r, true))
            .transpose()?,
        outbound: b
            .child("outbound")
            .map(|r| parse_rate(&r, false))
            .transpose()?,
    };
    b.finish()?;
    Ok((bw.inbound.is_some() || bw.outbound.is_some()).then_some(bw))
}

fn parse_vlan(v: &Checked<'_>) -> Result<Vlan> {
    let mut tags = Vec::new();
    for t in v.children("tag") {
        let id: u16 = t
            .attr_parse("id")?
            .ok_or_else(|| DomainXmlError::MissingAttribute {
                attribute: "id".into(),
                element: "tag".into(),
                line: t.line(),
            })?;
        if id > 4095 {
            return Err(t.invalid(
                &id.to_string(),
                "attribute 'id'",
                "vlan tag id too large (maximum 4095)",
            ));
        }
        let native_mode = match t.attr("nativeMode") {
            None => None,
            Some(m @ ("tagged" | "untagged")) => Some(m.to_string()),
            Some(m) => {
                return Err(t.invalid(
                    m,
                    "attribute 'nativeMode'",
                    "expected 'tagged' or 'untagged'",
                ))
            }
        };
        t.finish()?;
        tags.push(VlanTag { id, native_mode });
    }
    if tags.is_empty() {
        return Err(DomainXmlError::MissingElement {
            element: "tag".into(),
            parent: "vlan".into(),
            line: v.line(),
        });
    }
    let trunk = match v.attr("trunk") {
        None => tags.len() > 1,
        Some("yes") => true,
        Some("no") if tags.len() > 1 => {
            return Err(v.invalid(
                "no",
                "attribute 'trunk'",
                "trunk='yes' is required for more than one vlan tag",
            ))
        }
        Some("no") if tags.iter().any(|t| t.native_mode.is_some()) => {
            return Err(v.invalid(
                "no",
                "attribute 'trunk'",
                "trunk='no' is not allowed with a native vlan id",
            ))
        }
        Some("no") => false,
        Some(t) => return Err(v.invalid(t, "attribute 'trunk'", "must be yes or no")),
    };
    v.finish()?;
    Ok(Vlan { trunk, tags })
}

fn write_rate(w: &mut Writer, name: &str, r: &Option<Rate>) {
    let Some(r) = r else { return };
    if r.average == 0 && r.floor == 0 {
        return;
    }
    let nz = |v: u64| (v != 0).then_some(v);
    w.empty(
        name,
        vec![
            ao("average", nz(r.average)),
            ao("peak", nz(r.peak)),
            ao("floor", nz(r.floor)),
            ao("burst", nz(r.burst)),
        ],
    );
}

fn write_bandwidth(w: &mut Writer, b: &Bandwidth) {
    let mut bw = w.nested();
    write_rate(&mut bw, "inbound", &b.inbound);
    write_rate(&mut bw, "outbound", &b.outbound);
    open_close_attrs(w, "bandwidth", &[], bw);
}

fn write_vlan(w: &mut Writer, v: &Vlan) {
    if v.tags.is_empty() {
        return;
    }
    let mut vw = w.nested();
    for t in &v.tags {
        vw.empty(
            "tag",
            vec![a("id", t.id), ao("nativeMode", t.native_mode.as_ref())],
        );
    }
    let attrs: Attrs<'_> = vec![ao("trunk", v.trunk.then_some("yes"))];
    w.elem("vlan", attrs, vw);
}

#[cfg(test)]
mod tests {
    use super::*;

    const ESX_VSWITCH: &str = "<network>\n  <name>vSwitch0</name>\n  <uuid>8a3c5e71-0f2b-4d96-b1e8-7c4a2f09d635</uuid>\n  <forward dev='vmnic0' mode='bridge'>\n    <interface dev='vmnic0'/>\n    <interface dev='vmnic1'/>\n  </forward>\n  <bandwidth>\n    <inbound average='12500' peak='25000' burst='100'/>\n    <outbound average='12500' peak='25000' burst='100'/>\n  </bandwidth>\n  <portgroup name='VM Network'>\n  </portgroup>\n  <portgroup name='Production'>\n    <vlan>\n      <tag id='42'/>\n    </vlan>\n  </portgroup>\n</network>\n";

    #[test]
    fn esx_vswitch_round_trip() {
        let n = Network::from_xml(ESX_VSWITCH).unwrap();
        assert_eq!(n.forward.as_ref().unwrap().interfaces, ["vmnic0", "vmnic1"]);
        assert_eq!(n.portgroups.len(), 2);
        assert_eq!(n.portgroups[1].vlan.as_ref().unwrap().tags[0].id, 42);
        assert_eq!(n.to_xml(), ESX_VSWITCH);
    }

    #[test]
    fn vswitch_without_uplinks_gets_a_bridge_element() {
        let n = Network {
            name: "vSwitch1".into(),
            ..Network::default()
        };
        assert_eq!(
            n.to_xml(),
            "<network>\n  <name>vSwitch1</name>\n  <bridge stp='off' delay='0'/>\n</network>\n"
        );
        let parsed = Network::from_xml(&n.to_xml()).unwrap();
        assert_eq!(parsed, n);
        let n = Network::from_xml("<network><name>x</name></network>").unwrap();
        assert!(n.stp, "libvirt's parser defaults stp to on");
        assert!(n.to_xml().contains("<bridge stp='on' delay='0'/>"));
    }

    #[test]
    fn forward_dev_and_defaults() {
        let n = Network::from_xml(
            "<network><name>x</name><forward dev='eth0' mode='bridge'/></network>",
        )
        .unwrap();
        assert_eq!(n.forward.unwrap().interfaces, ["eth0"]);
        let n = Network::from_xml("<network><name>x</name><forward/></network>").unwrap();
        assert_eq!(n.forward.unwrap().mode, "nat");
        let n =
            Network::from_xml("<network><name>x</name><forward mode='none'/></network>").unwrap();
        assert_eq!(n.forward, None);
    }

    #[test]
    fn trunk_vlan() {
        let n = Network::from_xml("<network><name>x</name><portgroup name='t' default='yes'><vlan><tag id='10'/><tag id='20' nativeMode='untagged'/></vlan></portgroup></network>").unwrap();
        let xml = n.to_xml();
        assert!(xml.contains("  <portgroup name='t' default='yes'>\n    <vlan trunk='yes'>\n      <tag id='10'/>\n      <tag id='20' nativeMode='untagged'/>\n    </vlan>\n  </portgroup>\n"), "{xml}");
    }

    #[test]
    fn precise_errors() {
        let err = |t: &str| Network::from_xml(t).unwrap_err().to_string();
        assert_eq!(
            err("<network><name>x</name>\n<forward mode='tunnel'/></network>"),
            "invalid value 'tunnel' for attribute 'mode' of <forward> at line 2: unknown forwarding type"
        );
        assert_eq!(
            err("<network><name>x</name><forward dev='a' mode='bridge'><interface dev='b'/></forward></network>"),
            "invalid value 'a' for attribute 'dev' of <forward> at line 1: forward dev must match first interface element dev 'b'"
        );
        assert_eq!(
            err("<network><name>x</name><portgroup name='p'><vlan><tag id='5000'/></vlan></portgroup></network>"),
            "invalid value '5000' for attribute 'id' of <tag> at line 1: vlan tag id too large (maximum 4095)"
        );
        assert_eq!(
            err("<network><name>x</name><portgroup name='p'><vlan trunk='no'><tag id='1'/><tag id='2'/></vlan></portgroup></network>"),
            "invalid value 'no' for attribute 'trunk' of <vlan> at line 1: trunk='yes' is required for more than one vlan tag"
        );
        assert_eq!(
            err("<network><name>x</name><bandwidth><inbound peak='5'/></bandwidth></network>"),
            "missing attribute 'average' on <inbound> at line 1"
        );
        assert_eq!(
            err("<network><name>x</name>\n<ip address='10.0.0.1'/></network>"),
            "unsupported element <ip> inside <network> at line 2"
        );
        assert_eq!(
            err("<network><uuid>8a3c5e71-0f2b-4d96-b1e8-7c4a2f09d635</uuid></network>"),
            "missing element <name> inside <network> at line 1"
        );
    }
}
