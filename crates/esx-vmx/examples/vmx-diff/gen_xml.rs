//! Generated domain XML: libvirt's own answers to the VMX cases and the corpus's XML inputs,
//! as they are or changed by one family of mutations (every device the VMX formatter knows,
//! value ranges, and what libvirt's XML parser accepts or refuses).

use esx_domain::xml::{escape, Element};

use crate::rng::Rng;

/// The XML mutation families, in report order.
pub const FAMILIES: &[&str] = &[
    "xml-as-is",
    "xml-identity",
    "xml-memory",
    "xml-cpu",
    "xml-disks",
    "xml-controllers",
    "xml-nets",
    "xml-chr",
    "xml-graphics",
    "xml-video",
    "xml-fs",
    "xml-os",
    "xml-syntax",
];

/// The corpus's domain XML inputs.
pub fn load_bases(corpus: &std::path::Path, _testdata: &std::path::Path) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let tsv = std::fs::read_to_string(corpus.join("xml2vmx-cases.tsv")).unwrap_or_default();
    for line in tsv
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let cols: Vec<&str> = line.split('\t').collect();
        if let Some(input) = cols.get(1) {
            if let Ok(text) = std::fs::read(corpus.join(input)) {
                out.push(text);
            }
        }
    }
    out
}

/// Write an element tree back as XML (2-space indent, single quotes).
fn write(e: &Element, indent: usize, out: &mut String) {
    for _ in 0..indent {
        out.push(' ');
    }
    out.push('<');
    out.push_str(&e.name);
    if indent == 0 && e.children.iter().any(|c| c.name.starts_with("vmware:")) {
        // The parser does not keep namespace declarations: put the vmware one back.
        out.push_str(" xmlns:vmware='http://libvirt.org/schemas/domain/vmware/1.0'");
    }
    for (n, v) in &e.attrs {
        out.push_str(&format!(" {n}='{}'", escape(v)));
    }
    let text = e.text.trim();
    if e.children.is_empty() && text.is_empty() {
        out.push_str("/>\n");
        return;
    }
    out.push('>');
    if e.children.is_empty() {
        out.push_str(&escape(text));
    } else {
        out.push('\n');
        for c in &e.children {
            write(c, indent + 2, out);
        }
        for _ in 0..indent {
            out.push(' ');
        }
    }
    out.push_str(&format!("</{}>\n", e.name));
}

fn el(name: &str, attrs: &[(&str, &str)]) -> Element {
    Element {
        name: name.into(),
        attrs: attrs
            .iter()
            .map(|(n, v)| ((*n).to_string(), (*v).to_string()))
            .collect(),
        ..Element::default()
    }
}

fn with_children(mut e: Element, children: Vec<Element>) -> Element {
    e.children = children;
    e
}

fn text_el(name: &str, text: &str) -> Element {
    Element {
        name: name.into(),
        text: text.into(),
        ..Element::default()
    }
}

fn set_attr(e: &mut Element, name: &str, value: Option<&str>) {
    e.attrs.retain(|(n, _)| n != name);
    if let Some(v) = value {
        e.attrs.push((name.into(), v.into()));
    }
}

fn ensure_child<'a>(e: &'a mut Element, name: &str) -> &'a mut Element {
    if !e.children.iter().any(|c| c.name == name) {
        e.children.push(el(name, &[]));
    }
    let idx = e.children.iter().position(|c| c.name == name).unwrap_or(0);
    &mut e.children[idx]
}

fn set_text_child(e: &mut Element, name: &str, text: Option<&str>) {
    match text {
        None => e.children.retain(|c| c.name != name),
        Some(t) => ensure_child(e, name).text = t.into(),
    }
}

fn devices(root: &mut Element) -> &mut Element {
    ensure_child(root, "devices")
}

/// Remove every device of a kind and return how many there were.
fn remove_devices(root: &mut Element, name: &str) -> usize {
    let d = devices(root);
    let before = d.children.len();
    d.children.retain(|c| c.name != name);
    before - d.children.len()
}

/// Insert a device in libvirt's order (after the devices that come before it).
fn add_device(root: &mut Element, dev: Element) {
    const ORDER: &[&str] = &[
        "emulator",
        "disk",
        "controller",
        "filesystem",
        "interface",
        "serial",
        "parallel",
        "console",
        "channel",
        "input",
        "graphics",
        "sound",
        "video",
    ];
    let rank = |n: &str| ORDER.iter().position(|x| *x == n).unwrap_or(ORDER.len());
    let r = rank(&dev.name);
    let d = devices(root);
    let at = d
        .children
        .iter()
        .position(|c| rank(&c.name) > r)
        .unwrap_or(d.children.len());
    d.children.insert(at, dev);
}

/// Generate XML case `case`: (family, bytes).
pub fn generate(
    seed: u64,
    case: u64,
    pool: &[Vec<u8>],
    bases: &[Vec<u8>],
    only: Option<&str>,
) -> (String, Vec<u8>) {
    let mut rng = Rng::for_case(seed ^ 0x5a5a, case);
    let family = match only {
        Some(f) => f.to_string(),
        None => rng.pick(FAMILIES).to_string(),
    };
    let all: Vec<&Vec<u8>> = pool.iter().chain(bases.iter()).collect();
    let base = if all.is_empty() {
        b"<domain type='vmware'><name>x</name><memory>4096</memory><os><type>hvm</type></os></domain>"
            .to_vec()
    } else {
        all[rng.below(all.len())].clone()
    };
    if family == "xml-as-is" {
        return (family, base);
    }
    let text = String::from_utf8_lossy(&base).into_owned();
    let Ok(mut root) = Element::parse(&text) else {
        return (family, base);
    };
    if family == "xml-syntax" {
        return (family, syntax(&mut rng, &text));
    }
    for _ in 0..rng.range(1, 2) {
        match family.as_str() {
            "xml-identity" => identity(&mut rng, &mut root),
            "xml-memory" => memory(&mut rng, &mut root),
            "xml-cpu" => cpu(&mut rng, &mut root),
            "xml-disks" => disks(&mut rng, &mut root),
            "xml-controllers" => controllers(&mut rng, &mut root),
            "xml-nets" => nets(&mut rng, &mut root),
            "xml-chr" => chr(&mut rng, &mut root),
            "xml-graphics" => graphics(&mut rng, &mut root),
            "xml-video" => video(&mut rng, &mut root),
            "xml-fs" => fs(&mut rng, &mut root),
            _ => os(&mut rng, &mut root),
        }
    }
    let mut out = String::new();
    write(&root, 0, &mut out);
    (family, out.into_bytes())
}

/// Text-level changes: what an XML parser sees but the model does not.
fn syntax(rng: &mut Rng, text: &str) -> Vec<u8> {
    let t = text.to_string();
    let out = match rng.below(10) {
        0 => format!("<?xml version='1.0' encoding='UTF-8'?>\n<!-- generated -->\n{t}"),
        1 => t.replacen("<devices>", "<devices>\n    <!-- a comment -->", 1),
        2 => t
            .replacen("<name>", "<name><![CDATA[", 1)
            .replacen("</name>", "]]></name>", 1),
        3 => t.replace('\'', "\""),
        4 => t.replacen("<domain type='vmware'", "<domain type='vmware' id='7'", 1),
        5 => t.replacen(
            "</devices>",
            "  <input type='mouse' bus='ps2'/>\n  </devices>",
            1,
        ),
        6 => t.replacen("<os>", "<os>\n    <boot dev='hd'/>", 1),
        7 => t.replacen("</domain>", "  <features><acpi/></features>\n</domain>", 1),
        8 => t.replacen("<name>", "<name>&amp;&#x41;&lt;", 1),
        _ => t.replacen(
            "</domain>",
            "  <metadata><x:a xmlns:x='urn:x'>b</x:a></metadata>\n</domain>",
            1,
        ),
    };
    out.into_bytes()
}

fn identity(rng: &mut Rng, root: &mut Element) {
    match rng.below(6) {
        0 => set_text_child(
            root,
            "name",
            rng.pick_v(
                &[
                    Some("web"),
                    Some("a|b\"c%d/e\\f"),
                    Some("caf\u{e9} \u{6a19}"),
                    Some("x&y<z>'q"),
                    Some(" spaced "),
                    Some(""),
                    None,
                ],
                5,
            ),
        ),
        1 => set_text_child(
            root,
            "uuid",
            rng.pick_v(
                &[
                    Some("564d9bef-acd9-b4e0-c8f0-aea8b9103515"),
                    Some("00000000-0000-0000-0000-000000000000"),
                    Some("564d9befacd9b4e0c8f0aea8b9103515"),
                    None,
                    Some("564d9bef-acd9-b4e0-c8f0-aea8b91035"),
                    Some("zz4d9bef-acd9-b4e0-c8f0-aea8b9103515"),
                ],
                4,
            ),
        ),
        2 => set_text_child(
            root,
            "description",
            rng.pick(&[
                Some("a \"quoted\" | pipe"),
                Some("line1\nline2"),
                Some(""),
                None,
                Some("%25 |7c"),
            ]),
        ),
        3 => set_text_child(root, "title", rng.pick(&[Some("T"), None])),
        4 => {
            let t = rng.pick_v(&["vmware", "vmware", "kvm", "qemu", "bogus"], 2);
            set_attr(root, "type", Some(t));
        }
        _ => set_text_child(
            root,
            "genid",
            rng.pick(&[Some("43dc0cf8-809b-4adb-9bea-a9abb5f3d90e"), None]),
        ),
    }
}

fn memory(rng: &mut Rng, root: &mut Element) {
    let units = ["KiB", "MiB", "GiB", "k", "M", "b", "bytes", "KB", "MB"];
    let values = [
        "0", "1", "4095", "4096", "4097", "524288", "1048576", "1048577", "3", "1023", "2",
    ];
    for name in ["memory", "currentMemory"] {
        if rng.chance(70) {
            let unit = rng.pick_v(&units, units.len());
            let v = if rng.chance(50) {
                (rng.range(1, 1 << 20)).to_string()
            } else {
                rng.pick(&values).to_string()
            };
            let e = ensure_child(root, name);
            e.text = v;
            set_attr(e, "unit", Some(unit));
        }
    }
    if rng.chance(30) {
        let mt = ensure_child(root, "memtune");
        let mut mg = text_el("min_guarantee", &rng.range(0, 1 << 21).to_string());
        set_attr(&mut mg, "unit", Some(rng.pick(&["KiB", "MiB"])));
        mt.children = vec![mg];
    }
    if rng.wild && rng.chance(20) {
        root.children.retain(|c| c.name != "memory");
    }
}

fn cpu(rng: &mut Rng, root: &mut Element) {
    let count = rng.range(1, 16);
    {
        let v = ensure_child(root, "vcpu");
        v.text = if rng.wild && rng.chance(20) {
            rng.pick(&["0", "-1", "x", "4294967296"]).to_string()
        } else {
            count.to_string()
        };
        v.attrs.clear();
        if rng.chance(30) {
            v.attrs.push(("placement".into(), "static".into()));
        }
        if rng.chance(20) {
            v.attrs
                .push(("current".into(), rng.range(1, count + 1).to_string()));
        }
        if rng.chance(30) {
            let set = rng.pick(&["0-3", "0,2,4-7", "1", "0-15", "^1,0-3", "1023", "0-1024"]);
            v.attrs.push(("cpuset".into(), set.into()));
        }
    }
    if rng.chance(50) {
        let cores = rng.range(1, 4);
        let sockets = if rng.chance(70) {
            (count / cores).max(1)
        } else {
            rng.range(1, 4)
        };
        let mut topo = el("topology", &[]);
        for (k, v) in [
            ("sockets", sockets),
            ("dies", if rng.chance(85) { 1 } else { 2 }),
            ("clusters", if rng.chance(90) { 1 } else { 2 }),
            ("cores", cores),
            ("threads", if rng.chance(85) { 1 } else { 2 }),
        ] {
            if rng.chance(90) {
                topo.attrs.push((k.into(), v.to_string()));
            }
        }
        let mut c = with_children(el("cpu", &[]), vec![topo]);
        if rng.chance(25) {
            let mode = rng.pick(&["custom", "host-model", "host-passthrough", "maximum"]);
            set_attr(&mut c, "mode", Some(mode));
        }
        root.children.retain(|x| x.name != "cpu");
        let at = root
            .children
            .iter()
            .position(|x| x.name == "clock" || x.name == "on_poweroff")
            .unwrap_or(root.children.len());
        root.children.insert(at, c);
    } else if rng.chance(30) {
        root.children.retain(|x| x.name != "cpu");
    }
    if rng.chance(40) {
        let ct = ensure_child(root, "cputune");
        let shares = match rng.below(4) {
            0 => (count * 500).to_string(),
            1 => (count * 1000).to_string(),
            2 => (count * 2000).to_string(),
            _ => rng
                .pick(&["0", "1", "1023", "262144", "18446744073709551615"])
                .to_string(),
        };
        ct.children = vec![text_el("shares", &shares)];
    }
}

fn source_for(rng: &mut Rng, ext: &str) -> String {
    let stem = rng.pick(&["disk", "Test VM", "a'b", "caf\u{e9}"]);
    match rng.pick_v(&[0, 0, 1, 2, 3, 4, 5, 6], 5) {
        0 => format!(
            "[{}] {}/{stem}{ext}",
            rng.pick(&["datastore", "ds", "storage"]),
            rng.pick(&["vm", "a/b"])
        ),
        1 => format!("/vmfs/volumes/datastore/vm/{stem}{ext}"),
        2 => format!("[datastore] {stem}{ext}"),
        3 => format!("/usr/lib/vmware/isoimages/{stem}{ext}"),
        4 => format!("[missing] vm/{stem}{ext}"),
        5 => format!("relative/{stem}{ext}"),
        _ => format!("[datastore] vm/{stem}.img"),
    }
}

fn disk_el(rng: &mut Rng, bus: &str, idx: u32) -> Element {
    let prefix = match bus {
        "ide" => "hd",
        "fdc" => "fd",
        "virtio" => "vd",
        _ => "sd",
    };
    let device = match bus {
        "fdc" => "floppy",
        _ => rng.pick_v(&["disk", "disk", "cdrom", "lun", "floppy"], 4),
    };
    let disk_type = rng.pick_v(&["file", "file", "block", "network", "dir"], 3);
    let dev = esx_domain::postparse::index_to_disk_name(idx, prefix);
    let mut children = Vec::new();
    if rng.chance(15) {
        let mut d = el("driver", &[]);
        if rng.chance(50) {
            let name = rng.pick_v(
                &[
                    "lsilogic",
                    "buslogic",
                    "LSILogic",
                    "vmpvscsi",
                    "lsisas1068",
                    "qemu",
                ],
                5,
            );
            set_attr(&mut d, "name", Some(name));
        }
        if rng.chance(60) {
            let cache = rng.pick_v(
                &["writethrough", "default", "none", "writeback", "bogus"],
                4,
            );
            set_attr(&mut d, "cache", Some(cache));
        }
        children.push(d);
    }
    if rng.chance(85) {
        let attr = if disk_type == "block" { "dev" } else { "file" };
        let path = match (device, disk_type) {
            (_, "block") => rng
                .pick(&[
                    "/dev/scd0",
                    "/vmfs/devices/cdrom/mpx.vmhba32:C0:T0:L0",
                    "/dev/sr0",
                ])
                .to_string(),
            ("disk", _) => source_for(rng, ".vmdk"),
            ("floppy", _) => source_for(rng, ".flp"),
            _ => source_for(rng, ".iso"),
        };
        let mut s = el("source", &[]);
        if rng.chance(92) {
            set_attr(&mut s, attr, Some(&path));
        }
        if rng.chance(10) {
            set_attr(
                &mut s,
                "startupPolicy",
                Some(rng.pick(&["optional", "mandatory"])),
            );
        }
        children.push(s);
    }
    let mut target = el("target", &[("dev", &dev)]);
    if rng.chance(90) {
        target.attrs.push(("bus".into(), bus.into()));
    }
    children.push(target);
    if device == "cdrom" || rng.chance(10) {
        children.push(el("readonly", &[]));
    }
    if rng.chance(10) {
        children.push(el("transient", &[]));
    }
    if rng.chance(40) {
        let a = esx_domain::postparse::drive_address_for_target(&dev, bus).unwrap_or_default();
        let (mut c, mut b, mut u) = (a.controller, a.bus, a.unit);
        if rng.wild && rng.chance(40) {
            c = rng.range(0, 5) as u32;
            b = rng.range(0, 2) as u32;
            u = rng.range(0, 17) as u32;
        }
        let (c, b, u) = (c.to_string(), b.to_string(), u.to_string());
        children.push(el(
            "address",
            &[
                ("type", "drive"),
                ("controller", &c),
                ("bus", &b),
                ("target", "0"),
                ("unit", &u),
            ],
        ));
    }
    with_children(
        el("disk", &[("type", disk_type), ("device", device)]),
        children,
    )
}

fn disks(rng: &mut Rng, root: &mut Element) {
    if rng.chance(50) {
        remove_devices(root, "disk");
        remove_devices(root, "controller");
    }
    for _ in 0..rng.range(1, 4) {
        let bus = rng.pick_v(&["scsi", "scsi", "ide", "fdc", "sata", "virtio", "usb"], 4);
        let max = match bus {
            "ide" => 4,
            "fdc" => 2,
            _ => 64,
        };
        let idx = if rng.chance(80) {
            rng.range(0, max - 1) as u32
        } else {
            rng.range(0, 80) as u32
        };
        let d = disk_el(rng, bus, idx);
        add_device(root, d);
    }
}

fn controllers(rng: &mut Rng, root: &mut Element) {
    if rng.chance(60) {
        remove_devices(root, "controller");
    }
    if !devices(root).children.iter().any(|c| c.name == "disk") {
        let idx = rng.range(0, 40) as u32;
        let d = disk_el(rng, "scsi", idx);
        add_device(root, d);
    }
    for _ in 0..rng.range(1, 3) {
        let t = rng.pick_v(&["scsi", "scsi", "ide", "fdc", "sata", "usb", "pci"], 5);
        let idx = rng.range(0, 4).to_string();
        let mut c = el("controller", &[("type", t), ("index", &idx)]);
        if t == "scsi" && rng.chance(80) {
            let m = rng.pick_v(
                &[
                    "buslogic",
                    "lsilogic",
                    "lsisas1068",
                    "vmpvscsi",
                    "auto",
                    "virtio-scsi",
                    "lsisas1078",
                    "ibmvscsi",
                    "bogus",
                ],
                4,
            );
            set_attr(&mut c, "model", Some(m));
        }
        add_device(root, c);
    }
}

fn mac_text(rng: &mut Rng) -> String {
    let prefix = rng.pick(&["00:0c:29", "00:50:56", "00:50:56", "00:1c:14", "52:54:00"]);
    let fourth = if prefix == "00:50:56" {
        rng.pick(&[0x00usize, 0x3f, 0x40, 0x7f, 0x80, 0xbf, 0xc0, 0xff])
    } else {
        rng.below(256)
    };
    let m = format!(
        "{prefix}:{fourth:02x}:{:02x}:{:02x}",
        rng.below(256),
        rng.below(256)
    );
    rng.pick_v(
        &[
            m.as_str(),
            m.as_str(),
            "00:00:00:00:00:00",
            "01:00:5e:00:00:01",
            "00-0c-29-00-00-01",
            "zz",
        ],
        3,
    )
    .to_string()
}

fn nets(rng: &mut Rng, root: &mut Element) {
    if rng.chance(50) {
        remove_devices(root, "interface");
    }
    for _ in 0..rng.range(1, 3) {
        let t = rng.pick_v(
            &[
                "bridge", "bridge", "user", "null", "vds", "network", "direct", "ethernet",
            ],
            5,
        );
        let mut children = Vec::new();
        if rng.chance(85) {
            let mut m = el("mac", &[]);
            if rng.chance(95) {
                let addr = mac_text(rng);
                set_attr(&mut m, "address", Some(&addr));
            }
            if rng.chance(40) {
                set_attr(
                    &mut m,
                    "type",
                    Some(rng.pick_v(&["generated", "static", "bogus"], 2)),
                );
            }
            if rng.chance(30) {
                set_attr(
                    &mut m,
                    "check",
                    Some(rng.pick_v(&["yes", "no", "maybe"], 2)),
                );
            }
            children.push(m);
        }
        match t {
            "bridge" => {
                if rng.chance(90) {
                    let br = rng.pick(&["VM Network", "net'1", "a&b", ""]);
                    children.push(el("source", &[("bridge", br)]));
                }
                if rng.chance(25) {
                    children.push(el("target", &[("dev", rng.pick(&["vmnet8", "vnet0"]))]));
                }
            }
            "vds" => {
                let mut s = el(
                    "source",
                    &[("switchid", "50115e16-9bdc-49d7-f171-53c4d7f91710")],
                );
                for (k, v) in [
                    ("portid", rng.pick(&["0", "6", "-1", "9223372036854775807"])),
                    ("portgroupid", rng.pick(&["dvportgroup-25", "a'b&c", ""])),
                    ("connectionid", rng.pick(&["0", "408217997"])),
                ] {
                    if rng.chance(60) {
                        set_attr(&mut s, k, Some(v));
                    }
                }
                children.push(s);
            }
            "network" => children.push(el("source", &[("network", "default")])),
            _ => {}
        }
        if rng.chance(70) {
            let m = rng.pick_v(
                &[
                    "vmxnet3", "e1000", "e1000e", "vlance", "vmxnet", "vmxnet2", "virtio",
                    "rtl8139",
                ],
                6,
            );
            children.push(el("model", &[("type", m)]));
        }
        add_device(
            root,
            with_children(el("interface", &[("type", t)]), children),
        );
    }
}

fn chr(rng: &mut Rng, root: &mut Element) {
    if rng.chance(60) {
        remove_devices(root, "serial");
        remove_devices(root, "parallel");
        remove_devices(root, "console");
    }
    for _ in 0..rng.range(1, 3) {
        let kind = rng.pick_v(&["serial", "serial", "parallel", "console", "channel"], 3);
        let t = rng.pick_v(
            &["dev", "file", "pipe", "tcp", "null", "pty", "udp", "unix"],
            5,
        );
        let mut children = Vec::new();
        match t {
            "tcp" => {
                let mut s = el("source", &[]);
                for (k, v) in [
                    ("mode", rng.pick(&["bind", "connect"])),
                    ("host", rng.pick(&["0.0.0.0", "h.example", "::1"])),
                    ("service", rng.pick(&["23", "42001", "0"])),
                ] {
                    if rng.chance(90) {
                        set_attr(&mut s, k, Some(v));
                    }
                }
                children.push(s);
                if rng.chance(70) {
                    let p = rng.pick_v(&["raw", "telnet", "telnets", "tls"], 4);
                    children.push(el("protocol", &[("type", p)]));
                }
            }
            "null" | "pty" => {}
            _ => {
                if rng.chance(85) {
                    let path = match t {
                        "file" => source_for(rng, ".log"),
                        "pipe" => rng
                            .pick(&["serial0.pipe", "\\\\.\\pipe\\com_1"])
                            .to_string(),
                        _ => rng.pick(&["/dev/ttyS0", "/dev/parport0"]).to_string(),
                    };
                    children.push(el("source", &[("path", &path)]));
                }
            }
        }
        if rng.chance(70) {
            let port = rng.pick_v(&["0", "1", "2", "3", "4", "-1"], 4);
            let mut target = el("target", &[("port", port)]);
            if kind == "console" && rng.chance(50) {
                set_attr(&mut target, "type", Some(rng.pick(&["serial", "virtio"])));
            }
            children.push(target);
        }
        add_device(root, with_children(el(kind, &[("type", t)]), children));
    }
}

fn graphics(rng: &mut Rng, root: &mut Element) {
    remove_devices(root, "graphics");
    for _ in 0..rng.range(0, 2) {
        let t = rng.pick_v(&["vnc", "vnc", "vnc", "sdl", "spice", "rdp"], 3);
        let mut g = el("graphics", &[("type", t)]);
        if rng.chance(70) {
            let port = rng.pick_v(
                &[
                    "5900",
                    "5903",
                    "-1",
                    "0",
                    "70000",
                    "5965",
                    "x",
                    "2147483648",
                ],
                6,
            );
            set_attr(&mut g, "port", Some(port));
        }
        if rng.chance(60) {
            set_attr(
                &mut g,
                "autoport",
                Some(rng.pick_v(&["yes", "no", "maybe"], 2)),
            );
        }
        if rng.chance(40) {
            let addr = rng.pick(&["0.0.0.0", "127.0.0.1", "", "::1"]);
            set_attr(&mut g, "listen", Some(addr));
            if rng.chance(50) {
                g.children
                    .push(el("listen", &[("type", "address"), ("address", addr)]));
            }
        }
        if rng.chance(30) {
            set_attr(&mut g, "keymap", Some(rng.pick(&["de", "en-us", ""])));
        }
        if rng.chance(40) {
            set_attr(&mut g, "passwd", Some(rng.pick(&["secret", "", "p&ss'\""])));
        }
        add_device(root, g);
    }
}

fn video(rng: &mut Rng, root: &mut Element) {
    remove_devices(root, "video");
    for _ in 0..rng.pick_v(&[1, 1, 1, 0, 2], 4) {
        let mut m = el("model", &[]);
        if rng.chance(90) {
            let t = rng.pick_v(
                &["vmvga", "vmvga", "vga", "cirrus", "qxl", "virtio", "none"],
                2,
            );
            set_attr(&mut m, "type", Some(t));
        }
        if rng.chance(80) {
            let v = if rng.chance(50) {
                rng.range(0, 1 << 20).to_string()
            } else {
                rng.pick(&[
                    "0",
                    "1",
                    "63",
                    "64",
                    "65",
                    "4096",
                    "4097",
                    "16384",
                    "2147483648",
                    "2147483649",
                    "4294967295",
                ])
                .to_string()
            };
            set_attr(&mut m, "vram", Some(&v));
        }
        if rng.chance(20) {
            set_attr(&mut m, "heads", Some(rng.pick(&["1", "2"])));
        }
        if rng.chance(20) {
            set_attr(&mut m, "primary", Some("yes"));
        }
        add_device(root, with_children(el("video", &[]), vec![m]));
    }
}

fn fs(rng: &mut Rng, root: &mut Element) {
    remove_devices(root, "filesystem");
    for _ in 0..rng.range(1, 3) {
        let t = rng.pick_v(&["mount", "mount", "block", "file", "template"], 2);
        let mut f = el("filesystem", &[("type", t)]);
        if rng.chance(40) {
            let m = rng.pick_v(&["passthrough", "mapped", "squash"], 1);
            set_attr(&mut f, "accessmode", Some(m));
        }
        if rng.chance(90) {
            let dir = rng.pick(&["/path/to/share", "C:\\share", "/a b/c'd"]);
            f.children.push(el("source", &[("dir", dir)]));
        }
        if rng.chance(95) {
            let dir = rng.pick(&["share", "a/b", "n&m"]);
            f.children.push(el("target", &[("dir", dir)]));
        }
        if rng.chance(40) {
            f.children.push(el("readonly", &[]));
        }
        add_device(root, f);
    }
}

fn os(rng: &mut Rng, root: &mut Element) {
    let os = ensure_child(root, "os");
    match rng.below(5) {
        0 => {
            let t = ensure_child(os, "type");
            let arch = rng.pick_v(
                &[
                    Some("i686"),
                    Some("x86_64"),
                    None,
                    Some("aarch64"),
                    Some("ppc64"),
                ],
                3,
            );
            set_attr(t, "arch", arch);
        }
        1 => {
            let fw = rng.pick_v(&[Some("efi"), Some("bios"), None, Some("bogus")], 3);
            set_attr(os, "firmware", fw);
        }
        2 => {
            os.children.retain(|c| c.name != "smbios");
            if rng.chance(80) {
                let m = rng.pick_v(&["host", "emulate", "sysinfo"], 2);
                os.children.push(el("smbios", &[("mode", m)]));
            }
        }
        3 => {
            os.children.retain(|c| c.name != "firmware");
            let feats = vec![
                el("feature", &[("enabled", "yes"), ("name", "enrolled-keys")]),
                el(
                    "feature",
                    &[
                        ("enabled", rng.pick(&["yes", "no"])),
                        ("name", "secure-boot"),
                    ],
                ),
            ];
            let pos = os
                .children
                .iter()
                .position(|c| c.name == "type")
                .map_or(0, |p| p + 1);
            os.children
                .insert(pos, with_children(el("firmware", &[]), feats));
            set_attr(os, "firmware", Some("efi"));
        }
        _ => {
            let t = ensure_child(os, "type");
            t.text = rng.pick_v(&["hvm", "hvm", "xen", "linux"], 2).into();
        }
    }
}
