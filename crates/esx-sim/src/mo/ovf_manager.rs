//! `OvfManager`: parses OVF 1.x descriptors (`ParseDescriptor`, `ValidateHost`), turns one into a
//! `VirtualMachineImportSpec` for `ResourcePool.ImportVApp` (`CreateImportSpec`), and writes the
//! descriptor of an existing VM (`CreateDescriptor`).
//!
//! The descriptor is read into a small element tree (local names only, namespaces ignored, as
//! OVF files mix `ovf:`/`rasd:`/`vmw:` prefixes freely); malformed XML is an `InvalidArgument`
//! on `ovfDescriptor` naming the line and what is wrong.

use std::collections::BTreeMap;

use esx_vim::*;
use quick_xml::events::Event;

use crate::fault::{Fault, MethodResult};
use crate::state::{Mo, MoRef, State};

/// Largest descriptor accepted (real descriptors are a few KiB).
const MAX_DESCRIPTOR: usize = 8 << 20;

/// One XML element: local name, attributes by local name, text, children.
#[derive(Debug, Default, Clone)]
pub struct Node {
    /// Local name (`Item` for `<ovf:Item>`).
    pub name: String,
    /// Attributes by local name.
    pub attrs: Vec<(String, String)>,
    /// The text directly inside.
    pub text: String,
    /// Child elements in order.
    pub children: Vec<Node>,
}

impl Node {
    /// The attribute with local name `n`.
    pub fn attr(&self, n: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.as_str())
    }

    /// The first child named `n`.
    pub fn child(&self, n: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == n)
    }

    /// Every child named `n`.
    pub fn all<'a>(&'a self, n: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |c| c.name == n)
    }

    /// The trimmed text of the first child named `n`.
    pub fn text_of(&self, n: &str) -> Option<String> {
        self.child(n)
            .map(|c| c.text.trim().to_owned())
            .filter(|t| !t.is_empty())
    }
}

fn line_of(xml: &str, pos: usize) -> usize {
    xml.as_bytes()[..pos.min(xml.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

fn bad_xml(xml: &str, pos: usize, what: &str) -> Fault {
    Fault::new(
        InvalidArgument {
            invalid_property: Some("ovfDescriptor".into()),
            ..Default::default()
        },
        format!(
            "A specified parameter was not correct: ovfDescriptor (line {}: {what})",
            line_of(xml, pos)
        ),
    )
}

/// Parses XML into its root element.
pub fn parse_xml(xml: &str) -> MethodResult<Node> {
    if xml.len() > MAX_DESCRIPTOR {
        return Err(bad_xml(xml, 0, "the descriptor is larger than 8 MiB"));
    }
    let mut r = quick_xml::Reader::from_str(xml);
    r.config_mut().check_end_names = true;
    let mut stack: Vec<Node> = Vec::new();
    let mut root: Option<Node> = None;
    loop {
        let pos = r.buffer_position() as usize;
        let ev = r
            .read_event()
            .map_err(|e| bad_xml(xml, r.error_position() as usize, &e.to_string()))?;
        match ev {
            Event::Start(e) | Event::Empty(e) if root.is_some() && stack.is_empty() => {
                let _ = e;
                return Err(bad_xml(xml, pos, "content after the root element"));
            }
            Event::Start(e) => stack.push(element(xml, pos, &e)?),
            Event::Empty(e) => {
                let n = element(xml, pos, &e)?;
                match stack.last_mut() {
                    Some(p) => p.children.push(n),
                    None => root = Some(n),
                }
            }
            Event::End(_) => {
                let n = stack
                    .pop()
                    .ok_or_else(|| bad_xml(xml, pos, "unexpected end tag"))?;
                match stack.last_mut() {
                    Some(p) => p.children.push(n),
                    None => root = Some(n),
                }
            }
            Event::Text(t) => {
                if let Some(p) = stack.last_mut() {
                    let s = t.decode().map_err(|e| bad_xml(xml, pos, &e.to_string()))?;
                    p.text.push_str(&s);
                }
            }
            Event::CData(t) => {
                if let Some(p) = stack.last_mut() {
                    p.text.push_str(&String::from_utf8_lossy(&t));
                }
            }
            Event::GeneralRef(g) => {
                if let Some(p) = stack.last_mut() {
                    let c = match g.resolve_char_ref() {
                        Ok(Some(c)) => c,
                        _ => match g.decode().as_deref() {
                            Ok("lt") => '<',
                            Ok("gt") => '>',
                            Ok("amp") => '&',
                            Ok("quot") => '"',
                            Ok("apos") => '\'',
                            _ => return Err(bad_xml(xml, pos, "unknown entity reference")),
                        },
                    };
                    p.text.push(c);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err(bad_xml(
            xml,
            xml.len(),
            &format!("element <{}> is not closed", stack[stack.len() - 1].name),
        ));
    }
    root.ok_or_else(|| bad_xml(xml, 0, "no root element"))
}

fn element(xml: &str, pos: usize, e: &quick_xml::events::BytesStart<'_>) -> MethodResult<Node> {
    let mut attrs = Vec::new();
    for a in e.attributes() {
        let a = a.map_err(|err| bad_xml(xml, pos, &err.to_string()))?;
        let v = a
            .unescape_value()
            .map_err(|err| bad_xml(xml, pos, &err.to_string()))?;
        attrs.push((
            String::from_utf8_lossy(a.key.local_name().as_ref()).into_owned(),
            v.into_owned(),
        ));
    }
    Ok(Node {
        name: String::from_utf8_lossy(e.local_name().as_ref()).into_owned(),
        attrs,
        ..Default::default()
    })
}

/// A file of the package (`References/File`).
#[derive(Debug, Clone, Default)]
pub struct FileRef {
    /// `ovf:id`.
    pub id: String,
    /// `ovf:href`.
    pub href: String,
    /// `ovf:size`.
    pub size: Option<i64>,
}

/// A disk of the `DiskSection`.
#[derive(Debug, Clone, Default)]
pub struct Disk {
    /// `ovf:diskId`.
    pub id: String,
    /// `ovf:fileRef` (none: a new blank disk).
    pub file_ref: Option<String>,
    /// Capacity in bytes.
    pub capacity: i64,
    /// `ovf:populatedSize`.
    pub populated: Option<i64>,
}

/// One hardware item (`Item`, `StorageItem`, `EthernetPortItem`): its `rasd:` fields by name.
#[derive(Debug, Clone, Default)]
pub struct HwItem {
    /// `ResourceType`, `InstanceID`, `Parent`, … (the first value of each).
    pub fields: BTreeMap<String, String>,
}

impl HwItem {
    fn get(&self, k: &str) -> Option<&str> {
        self.fields.get(k).map(String::as_str)
    }

    fn int(&self, k: &str) -> Option<i64> {
        self.get(k)?.trim().parse().ok()
    }
}

/// The parts of an OVF envelope the simulator uses.
#[derive(Debug, Clone, Default)]
pub struct Envelope {
    /// Files of the package.
    pub files: Vec<FileRef>,
    /// Disks.
    pub disks: Vec<Disk>,
    /// Networks: name and description.
    pub networks: Vec<(String, String)>,
    /// The licence texts.
    pub eulas: Vec<String>,
    /// Whether the top entity is a `VirtualSystemCollection` (a vApp).
    pub collection: bool,
    /// The virtual system (the first one of a collection).
    pub system: Option<System>,
}

/// A `VirtualSystem`.
#[derive(Debug, Clone, Default)]
pub struct System {
    /// `ovf:id`.
    pub id: String,
    /// `Name`.
    pub name: Option<String>,
    /// `AnnotationSection/Annotation`.
    pub annotation: String,
    /// `vmw:osType` of the `OperatingSystemSection`.
    pub os_type: Option<String>,
    /// The first `vmx-NN` of `VirtualSystemType`.
    pub hw_version: Option<String>,
    /// The hardware items.
    pub items: Vec<HwItem>,
    /// `ProductSection`.
    pub product: Option<VAppProductInfo>,
}

/// Bytes in one `capacityAllocationUnits`/`AllocationUnits` unit (`byte * 2^20` → 1 MiB).
fn unit_bytes(units: Option<&str>) -> Option<i64> {
    let u = units
        .unwrap_or("byte")
        .replace(' ', "")
        .to_ascii_lowercase();
    match u.as_str() {
        "byte" | "bytes" => Some(1),
        "kilobytes" | "kb" => Some(1 << 10),
        "megabytes" | "mb" => Some(1 << 20),
        "gigabytes" | "gb" => Some(1 << 30),
        _ => {
            let rest = u.strip_prefix("byte*")?;
            let (base, exp) = rest.split_once('^')?;
            let (base, exp): (i64, u32) = (base.parse().ok()?, exp.parse().ok()?);
            base.checked_pow(exp)
        }
    }
}

fn invalid_package(what: &str) -> Fault {
    Fault::new(
        InvalidArgument {
            invalid_property: Some("ovfDescriptor".into()),
            ..Default::default()
        },
        format!("A specified parameter was not correct: ovfDescriptor ({what})"),
    )
}

/// Reads an OVF envelope.
pub fn parse_envelope(xml: &str) -> MethodResult<Envelope> {
    let root = parse_xml(xml)?;
    if root.name != "Envelope" {
        return Err(invalid_package(&format!(
            "the root element is <{}>, not an OVF <Envelope>",
            root.name
        )));
    }
    let mut env = Envelope::default();
    if let Some(refs) = root.child("References") {
        for f in refs.all("File") {
            env.files.push(FileRef {
                id: f.attr("id").unwrap_or_default().to_owned(),
                href: f
                    .attr("href")
                    .ok_or_else(|| invalid_package("a <File> has no ovf:href"))?
                    .to_owned(),
                size: f.attr("size").and_then(|s| s.trim().parse().ok()),
            });
        }
    }
    if let Some(ds) = root.child("DiskSection") {
        for d in ds.all("Disk") {
            let id = d
                .attr("diskId")
                .ok_or_else(|| invalid_package("a <Disk> has no ovf:diskId"))?;
            let cap: i64 = d
                .attr("capacity")
                .and_then(|c| c.trim().parse().ok())
                .ok_or_else(|| invalid_package(&format!("disk {id} has no valid ovf:capacity")))?;
            let unit = unit_bytes(d.attr("capacityAllocationUnits")).ok_or_else(|| {
                invalid_package(&format!("disk {id}: unknown ovf:capacityAllocationUnits"))
            })?;
            let file_ref = d.attr("fileRef").map(str::to_owned);
            if let Some(f) = &file_ref {
                if !env.files.iter().any(|x| &x.id == f) {
                    return Err(invalid_package(&format!(
                        "disk {id} refers to file {f}, which <References> does not list"
                    )));
                }
            }
            env.disks.push(Disk {
                id: id.to_owned(),
                file_ref,
                capacity: cap.saturating_mul(unit),
                populated: d.attr("populatedSize").and_then(|c| c.trim().parse().ok()),
            });
        }
    }
    if let Some(ns) = root.child("NetworkSection") {
        for n in ns.all("Network") {
            env.networks.push((
                n.attr("name").unwrap_or_default().to_owned(),
                n.text_of("Description").unwrap_or_default(),
            ));
        }
    }
    let vs = match (
        root.child("VirtualSystem"),
        root.child("VirtualSystemCollection"),
    ) {
        (Some(vs), _) => Some(vs),
        (None, Some(c)) => {
            env.collection = true;
            c.child("VirtualSystem")
        }
        (None, None) => None,
    };
    for sec in [Some(&root), vs].into_iter().flatten() {
        for e in sec.all("EulaSection") {
            if let Some(l) = e.text_of("License") {
                env.eulas.push(l);
            }
        }
    }
    env.system = vs.map(system).transpose()?;
    Ok(env)
}

fn system(vs: &Node) -> MethodResult<System> {
    let mut s = System {
        id: vs.attr("id").unwrap_or_default().to_owned(),
        name: vs.text_of("Name"),
        ..Default::default()
    };
    if let Some(a) = vs.child("AnnotationSection") {
        s.annotation = a.text_of("Annotation").unwrap_or_default();
    }
    if let Some(os) = vs.child("OperatingSystemSection") {
        s.os_type = os.attr("osType").map(str::to_owned);
    }
    if let Some(p) = vs.child("ProductSection") {
        s.product = Some(VAppProductInfo {
            name: p.text_of("Product"),
            vendor: p.text_of("Vendor"),
            version: p.text_of("Version"),
            full_version: p.text_of("FullVersion"),
            vendor_url: p.text_of("VendorUrl"),
            product_url: p.text_of("ProductUrl"),
            ..Default::default()
        });
    }
    let hw = vs
        .child("VirtualHardwareSection")
        .ok_or_else(|| invalid_package("the virtual system has no <VirtualHardwareSection>"))?;
    if let Some(sys) = hw.child("System") {
        s.hw_version = sys.text_of("VirtualSystemType").and_then(|t| {
            t.split_whitespace()
                .find(|v| v.starts_with("vmx-"))
                .map(str::to_owned)
        });
    }
    for it in hw.children.iter().filter(|c| c.name.ends_with("Item")) {
        let mut item = HwItem::default();
        for f in &it.children {
            item.fields
                .entry(f.name.clone())
                .or_insert_with(|| f.text.trim().to_owned());
        }
        if item.int("ResourceType").is_none() {
            return Err(invalid_package(&format!(
                "a hardware item (InstanceID {}) has no valid ResourceType",
                item.get("InstanceID").unwrap_or("?")
            )));
        }
        s.items.push(item);
    }
    Ok(s)
}

fn warning(msg: String) -> LocalizedMethodFault {
    Fault::new(
        OvfUnsupportedElement {
            line_number: None,
            ..Default::default()
        },
        msg,
    )
    .localized()
}

fn error(msg: String) -> LocalizedMethodFault {
    Fault::new(
        OvfUnsupportedPackage {
            line_number: None,
            ..Default::default()
        },
        msg,
    )
    .localized()
}

/// `ParseDescriptor`.
pub fn parse_descriptor(xml: &str) -> MethodResult<OvfParseDescriptorResult> {
    let env = parse_envelope(xml)?;
    let size: i64 = env.files.iter().filter_map(|f| f.size).sum();
    let flat: i64 = env.disks.iter().map(|d| d.capacity).sum();
    let sparse: i64 = env.disks.iter().map(|d| d.populated.unwrap_or(0)).sum();
    let sys = env.system.clone().unwrap_or_default();
    Ok(OvfParseDescriptorResult {
        eula: env.eulas,
        network: env
            .networks
            .into_iter()
            .map(|(name, description)| OvfNetworkInfo { name, description })
            .collect(),
        product_info: sys.product.clone(),
        annotation: sys.annotation.clone(),
        approximate_download_size: Some(size),
        approximate_flat_deployment_size: Some(flat),
        approximate_sparse_deployment_size: Some(sparse),
        default_entity_name: sys.name.clone().unwrap_or(sys.id),
        virtual_app: env.collection,
        ..Default::default()
    })
}

/// `ValidateHost`: a descriptor that parses fits any host of the simulator.
pub fn validate_host(
    state: &State,
    xml: &str,
    host: &MoRef,
) -> MethodResult<OvfValidateHostResult> {
    crate::mo::host_system::host(state, host)?;
    let env = parse_envelope(xml)?;
    Ok(OvfValidateHostResult {
        download_size: Some(env.files.iter().filter_map(|f| f.size).sum()),
        flat_deployment_size: Some(env.disks.iter().map(|d| d.capacity).sum()),
        sparse_deployment_size: Some(env.disks.iter().map(|d| d.populated.unwrap_or(0)).sum()),
        supported_disk_provisioning: ["monolithicSparse", "monolithicFlat", "thin", "thick"]
            .map(String::from)
            .to_vec(),
        ..Default::default()
    })
}

/// The controller-relative id of a disk that import leases use to pair a lease's device URLs
/// with the file items of `CreateImportSpec`: `/<entity>/<ControllerType><bus>:<unit>`.
pub fn disk_import_key(entity: &str, controller: &str, bus: i32, unit: i32) -> String {
    format!("/{entity}/{controller}{bus}:{unit}")
}

/// A controller the import spec adds or reuses: its device key, WSDL type and bus.
#[derive(Debug, Clone)]
struct Ctl {
    instance: String,
    key: i32,
    ty: &'static str,
    bus: i32,
    next_unit: i32,
}

fn scsi_controller(sub: &str, key: i32, bus: i32) -> (BaseVirtualDevice, &'static str) {
    let sub = sub.to_ascii_lowercase();
    macro_rules! ctl {
        ($t:ident) => {
            (
                BaseVirtualDevice::$t(Box::new($t {
                    key,
                    bus_number: bus,
                    shared_bus: VirtualSCSISharing::NoSharing,
                    ..Default::default()
                })),
                stringify!($t),
            )
        };
    }
    match sub.as_str() {
        "buslogic" => ctl!(VirtualBusLogicController),
        "lsilogicsas" => ctl!(VirtualLsiLogicSASController),
        "virtualscsi" | "pvscsi" => ctl!(ParaVirtualSCSIController),
        _ => ctl!(VirtualLsiLogicController),
    }
}

fn nic(sub: &str, key: i32, backing: VirtualEthernetCardNetworkBackingInfo) -> BaseVirtualDevice {
    let connectable = Some(VirtualDeviceConnectInfo {
        start_connected: true,
        allow_guest_control: true,
        ..Default::default()
    });
    let backing = Some(
        BaseVirtualDeviceBackingInfo::VirtualEthernetCardNetworkBackingInfo(Box::new(backing)),
    );
    macro_rules! card {
        ($t:ident) => {
            BaseVirtualDevice::$t(Box::new($t {
                key,
                backing,
                connectable,
                address_type: Some("generated".into()),
                ..Default::default()
            }))
        };
    }
    match sub.to_ascii_lowercase().as_str() {
        "vmxnet3" => card!(VirtualVmxnet3),
        "e1000e" => card!(VirtualE1000e),
        "pcnet32" => card!(VirtualPCNet32),
        "vmxnet2" => card!(VirtualVmxnet2),
        _ => card!(VirtualE1000),
    }
}

fn add(dev: BaseVirtualDevice, create: bool) -> BaseVirtualDeviceConfigSpec {
    BaseVirtualDeviceConfigSpec::VirtualDeviceConfigSpec(Box::new(VirtualDeviceConfigSpec {
        operation: Some(VirtualDeviceConfigSpecOperation::Add),
        file_operation: create.then_some(VirtualDeviceConfigSpecFileOperation::Create),
        device: dev,
        ..Default::default()
    }))
}

/// `CreateImportSpec`.
pub fn create_import_spec(
    state: &State,
    q: &CreateImportSpecRequestType,
) -> MethodResult<OvfCreateImportSpecResult> {
    match state.lookup(&q.resource_pool)? {
        Mo::ResourcePool(_) => {}
        _ => return Err(Fault::not_found(&q.resource_pool)),
    }
    let ds_name = state
        .name_of(&q.datastore)
        .filter(|_| matches!(state.get(&q.datastore), Some(Mo::Datastore(_))))
        .ok_or_else(|| Fault::not_found(&q.datastore))?;
    let env = parse_envelope(&q.ovf_descriptor)?;
    let mut out = OvfCreateImportSpecResult::default();
    if env.collection {
        out.error.push(error(
            "a VirtualSystemCollection (vApp) cannot be imported by this simulator; import its \
             virtual systems one by one"
                .into(),
        ));
        return Ok(out);
    }
    let Some(sys) = env.system.as_ref() else {
        out.error
            .push(error("the package has no <VirtualSystem> to import".into()));
        return Ok(out);
    };
    let name = Some(q.cisp.entity_name.trim().to_owned())
        .filter(|n| !n.is_empty())
        .or_else(|| sys.name.clone())
        .unwrap_or_else(|| sys.id.clone());
    if name.is_empty() || name.contains('/') {
        return Err(Fault::invalid_argument("cisp.entityName"));
    }
    let thin = match q.cisp.disk_provisioning.as_deref().unwrap_or("") {
        "" | "thin" | "monolithicSparse" | "twoGbMaxExtentSparse" | "seSparse" | "sparse" => true,
        "thick" | "monolithicFlat" | "twoGbMaxExtentFlat" | "eagerZeroedThick" | "flat" => false,
        _ => return Err(Fault::invalid_argument("cisp.diskProvisioning")),
    };
    let networks = crate::inventory::network_lookup(state);
    let mut spec = VirtualMachineConfigSpec {
        name: Some(name.clone()),
        version: Some(sys.hw_version.clone().unwrap_or_else(|| "vmx-14".into())),
        guest_id: Some(sys.os_type.clone().unwrap_or_else(|| "otherGuest".into())),
        annotation: Some(sys.annotation.clone()).filter(|a| !a.is_empty()),
        files: Some(VirtualMachineFileInfo {
            vm_path_name: Some(format!("[{ds_name}]")),
            ..Default::default()
        }),
        ..Default::default()
    };
    let mut ctls: Vec<Ctl> = Vec::new();
    let mut next_key = -100;
    let mut key = || {
        next_key -= 1;
        next_key
    };
    let mut scsi_bus = 0;
    // Controllers first: disks and CD-ROMs name them by InstanceID.
    for it in &sys.items {
        let inst = it.get("InstanceID").unwrap_or_default().to_owned();
        match it.int("ResourceType") {
            Some(5) => {
                let bus = it.int("Address").unwrap_or(
                    ctls.iter()
                        .filter(|c| c.ty == "VirtualIDEController")
                        .count() as i64,
                ) as i32;
                if !(0..2).contains(&bus) {
                    out.warning.push(warning(format!(
                        "IDE controller {inst}: only buses 0 and 1 exist"
                    )));
                    continue;
                }
                ctls.push(Ctl {
                    instance: inst,
                    key: 200 + bus,
                    ty: "VirtualIDEController",
                    bus,
                    next_unit: 0,
                });
            }
            Some(6) => {
                let bus = it.int("Address").map(|b| b as i32).unwrap_or(scsi_bus);
                scsi_bus = scsi_bus.max(bus + 1);
                let k = key();
                let (dev, ty) = scsi_controller(it.get("ResourceSubType").unwrap_or(""), k, bus);
                spec.device_change.push(add(dev, false));
                ctls.push(Ctl {
                    instance: inst,
                    key: k,
                    ty,
                    bus,
                    next_unit: 0,
                });
            }
            Some(20) => {
                let k = key();
                let bus = ctls
                    .iter()
                    .filter(|c| c.ty == "VirtualAHCIController")
                    .count() as i32;
                spec.device_change.push(add(
                    BaseVirtualDevice::VirtualAHCIController(Box::new(VirtualAHCIController {
                        key: k,
                        bus_number: bus,
                        ..Default::default()
                    })),
                    false,
                ));
                ctls.push(Ctl {
                    instance: inst,
                    key: k,
                    ty: "VirtualAHCIController",
                    bus,
                    next_unit: 0,
                });
            }
            _ => {}
        }
    }
    let mut memory: Option<i64> = None;
    for it in &sys.items {
        let inst = it.get("InstanceID").unwrap_or("?").to_owned();
        let parent = |it: &HwItem| -> Option<usize> {
            let p = it.get("Parent")?;
            ctls.iter().position(|c| c.instance == p)
        };
        match it.int("ResourceType") {
            Some(3) => spec.num_cp_us = it.int("VirtualQuantity").map(|n| n as i32),
            Some(4) => {
                let q = it.int("VirtualQuantity").unwrap_or(0);
                let unit = unit_bytes(Some(it.get("AllocationUnits").unwrap_or("byte * 2^20")))
                    .ok_or_else(|| {
                        invalid_package(&format!("item {inst}: unknown AllocationUnits"))
                    })?;
                memory = Some(q.saturating_mul(unit) / (1 << 20));
            }
            Some(5) | Some(6) | Some(20) => {}
            Some(17) => {
                let Some(ci) = parent(it) else {
                    out.error.push(error(format!(
                        "disk item {inst} names no controller of the descriptor as Parent"
                    )));
                    continue;
                };
                let host_res = it.get("HostResource").unwrap_or_default();
                let disk_id = host_res
                    .trim_start_matches("ovf:")
                    .trim_start_matches('/')
                    .trim_start_matches("disk/");
                let Some(d) = env.disks.iter().find(|d| d.id == disk_id) else {
                    out.error.push(error(format!(
                        "disk item {inst} refers to '{host_res}', which the DiskSection does not list"
                    )));
                    continue;
                };
                let c = &mut ctls[ci];
                let unit = it
                    .int("AddressOnParent")
                    .map(|u| u as i32)
                    .unwrap_or(c.next_unit);
                c.next_unit = c.next_unit.max(unit + 1);
                let (ckey, cty, cbus) = (c.key, c.ty, c.bus);
                let kb = (d.capacity + 1023) / 1024;
                spec.device_change.push(add(
                    BaseVirtualDevice::VirtualDisk(Box::new(VirtualDisk {
                        key: key(),
                        controller_key: Some(ckey),
                        unit_number: Some(unit),
                        capacity_in_kb: kb,
                        capacity_in_bytes: Some(d.capacity),
                        backing: Some(
                            BaseVirtualDeviceBackingInfo::VirtualDiskFlatVer2BackingInfo(Box::new(
                                VirtualDiskFlatVer2BackingInfo {
                                    file_name: format!("[{ds_name}]"),
                                    datastore: Some(q.datastore.clone()),
                                    disk_mode: "persistent".into(),
                                    thin_provisioned: Some(thin),
                                    ..Default::default()
                                },
                            )),
                        ),
                        ..Default::default()
                    })),
                    true,
                ));
                if let Some(f) = d
                    .file_ref
                    .as_ref()
                    .and_then(|r| env.files.iter().find(|f| &f.id == r))
                {
                    out.file_item.push(OvfFileItem {
                        device_id: disk_import_key(&name, cty, cbus, unit),
                        path: f.href.clone(),
                        size: f.size,
                        cim_type: 17,
                        create: false,
                        ..Default::default()
                    });
                }
            }
            Some(10) => {
                let wanted = it.get("Connection").unwrap_or_default().to_owned();
                let mapped = q
                    .cisp
                    .network_mapping
                    .iter()
                    .find(|m| m.name == wanted)
                    .map(|m| m.network.clone());
                if let Some(m) = &mapped {
                    if state.name_of(m).is_none() {
                        return Err(Fault::not_found(m));
                    }
                }
                let net = mapped
                    .or_else(|| {
                        networks
                            .iter()
                            .find(|(n, _)| *n == wanted)
                            .map(|(_, r)| r.clone())
                    })
                    .or_else(|| {
                        let mut all = networks.clone();
                        all.sort();
                        let first = all.first().map(|(_, r)| r.clone());
                        if let Some(f) = &first {
                            out.warning.push(warning(format!(
                                "network '{wanted}' is not mapped and does not exist; NIC {inst} \
                                 goes to '{}'",
                                state.name_of(f).unwrap_or_default()
                            )));
                        }
                        first
                    });
                let Some(net) = net else {
                    out.error
                        .push(error("the host has no network for the NICs".into()));
                    continue;
                };
                let backing = VirtualEthernetCardNetworkBackingInfo {
                    device_name: state.name_of(&net).unwrap_or_default(),
                    network: Some(net),
                    ..Default::default()
                };
                spec.device_change.push(add(
                    nic(it.get("ResourceSubType").unwrap_or("e1000"), key(), backing),
                    false,
                ));
            }
            Some(15) | Some(16) => {
                let Some(ci) = parent(it) else {
                    out.warning.push(warning(format!(
                        "CD-ROM item {inst} has no controller; left out"
                    )));
                    continue;
                };
                let c = &mut ctls[ci];
                let unit = it
                    .int("AddressOnParent")
                    .map(|u| u as i32)
                    .unwrap_or(c.next_unit);
                c.next_unit = c.next_unit.max(unit + 1);
                spec.device_change.push(add(
                    BaseVirtualDevice::VirtualCdrom(Box::new(VirtualCdrom {
                        key: key(),
                        controller_key: Some(c.key),
                        unit_number: Some(unit),
                        backing: Some(
                            BaseVirtualDeviceBackingInfo::VirtualCdromRemotePassthroughBackingInfo(
                                Box::new(VirtualCdromRemotePassthroughBackingInfo {
                                    device_name: String::new(),
                                    exclusive: false,
                                    ..Default::default()
                                }),
                            ),
                        ),
                        connectable: Some(VirtualDeviceConnectInfo {
                            allow_guest_control: true,
                            ..Default::default()
                        }),
                        ..Default::default()
                    })),
                    false,
                ));
            }
            Some(t) => out.warning.push(warning(format!(
                "hardware item {inst} of ResourceType {t} is not imported"
            ))),
            None => {}
        }
    }
    spec.memory_mb = memory;
    out.import_spec = Some(BaseImportSpec::VirtualMachineImportSpec(Box::new(
        VirtualMachineImportSpec {
            config_spec: spec,
            ..Default::default()
        },
    )));
    Ok(out)
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `CreateDescriptor` of a VM: an OVF 1.0 envelope with its CPUs, memory, controllers, disks
/// (each a `File` of `cdp.ovfFiles` when one has the disk's device id), NICs and CD-ROMs.
pub fn create_descriptor(
    state: &State,
    obj: &MoRef,
    cdp: &OvfCreateDescriptorParams,
) -> MethodResult<OvfCreateDescriptorResult> {
    let vm = match state.lookup(obj)? {
        Mo::VirtualMachine(v) => v,
        _ => {
            return Err(Fault::not_supported(
                "a descriptor of anything but a virtual machine",
            ))
        }
    };
    let name = cdp.name.clone().unwrap_or_else(|| vm.name.clone());
    let cfg = vm.full_config(state);
    let disks = crate::mo::http_nfc_lease::vm_disks(state, obj)?;
    let mut refs = String::new();
    let mut disk_sec = String::new();
    let mut items = String::new();
    let mut nets: Vec<String> = Vec::new();
    let mut inst = 0;
    let mut next = || {
        inst += 1;
        inst
    };
    let cpu = next();
    items.push_str(&format!(
        "      <Item>\n        <rasd:AllocationUnits>hertz * 10^6</rasd:AllocationUnits>\n        <rasd:Description>Number of Virtual CPUs</rasd:Description>\n        <rasd:ElementName>{n} virtual CPU(s)</rasd:ElementName>\n        <rasd:InstanceID>{cpu}</rasd:InstanceID>\n        <rasd:ResourceType>3</rasd:ResourceType>\n        <rasd:VirtualQuantity>{n}</rasd:VirtualQuantity>\n      </Item>\n",
        n = cfg.hardware.num_cpu
    ));
    let mem = next();
    items.push_str(&format!(
        "      <Item>\n        <rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits>\n        <rasd:Description>Memory Size</rasd:Description>\n        <rasd:ElementName>{m}MB of memory</rasd:ElementName>\n        <rasd:InstanceID>{mem}</rasd:InstanceID>\n        <rasd:ResourceType>4</rasd:ResourceType>\n        <rasd:VirtualQuantity>{m}</rasd:VirtualQuantity>\n      </Item>\n",
        m = cfg.hardware.memory_mb
    ));
    let mut ctl_inst: BTreeMap<i32, i32> = BTreeMap::new();
    for d in &cfg.hardware.device {
        use BaseVirtualDevice as D;
        let (rt, sub, key, bus, label) = match d {
            D::VirtualIDEController(c) => (5, "", c.key, c.bus_number, "IDE Controller"),
            D::VirtualLsiLogicController(c) => {
                (6, "lsilogic", c.key, c.bus_number, "SCSI Controller")
            }
            D::VirtualBusLogicController(c) => {
                (6, "buslogic", c.key, c.bus_number, "SCSI Controller")
            }
            D::VirtualLsiLogicSASController(c) => {
                (6, "lsilogicsas", c.key, c.bus_number, "SCSI Controller")
            }
            D::ParaVirtualSCSIController(c) => {
                (6, "VirtualSCSI", c.key, c.bus_number, "SCSI Controller")
            }
            D::VirtualAHCIController(c) => (
                20,
                "vmware.sata.ahci",
                c.key,
                c.bus_number,
                "SATA Controller",
            ),
            _ => continue,
        };
        let i = next();
        ctl_inst.insert(key, i);
        let sub = if sub.is_empty() {
            String::new()
        } else {
            format!("        <rasd:ResourceSubType>{sub}</rasd:ResourceSubType>\n")
        };
        items.push_str(&format!(
            "      <Item>\n        <rasd:Address>{bus}</rasd:Address>\n        <rasd:Description>{label} {bus}</rasd:Description>\n        <rasd:ElementName>{label} {bus}</rasd:ElementName>\n        <rasd:InstanceID>{i}</rasd:InstanceID>\n{sub}        <rasd:ResourceType>{rt}</rasd:ResourceType>\n      </Item>\n"
        ));
    }
    let mut n_disk = 0;
    for d in &cfg.hardware.device {
        use BaseVirtualDevice as D;
        match d {
            D::VirtualDisk(disk) => {
                n_disk += 1;
                let id = format!("vmdisk{n_disk}");
                let lease_disk = disks.iter().find(|x| x.key == disk.key);
                let file = lease_disk.and_then(|ld| {
                    cdp.ovf_files
                        .iter()
                        .find(|f| f.device_id == ld.device_key(obj))
                });
                let file_attr = match file {
                    Some(f) => {
                        refs.push_str(&format!(
                            "    <File ovf:href=\"{}\" ovf:id=\"file{n_disk}\" ovf:size=\"{}\"/>\n",
                            esc(&f.path),
                            f.size
                        ));
                        format!(
                            " ovf:fileRef=\"file{n_disk}\" ovf:format=\"http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized\""
                        )
                    }
                    None => String::new(),
                };
                let bytes = disk
                    .capacity_in_bytes
                    .unwrap_or(disk.capacity_in_kb.saturating_mul(1024));
                disk_sec.push_str(&format!(
                    "    <Disk ovf:capacity=\"{bytes}\" ovf:capacityAllocationUnits=\"byte\" ovf:diskId=\"{id}\"{file_attr}/>\n"
                ));
                let i = next();
                let parent = disk
                    .controller_key
                    .and_then(|k| ctl_inst.get(&k))
                    .copied()
                    .unwrap_or(0);
                items.push_str(&format!(
                    "      <Item>\n        <rasd:AddressOnParent>{u}</rasd:AddressOnParent>\n        <rasd:ElementName>Hard disk {n_disk}</rasd:ElementName>\n        <rasd:HostResource>ovf:/disk/{id}</rasd:HostResource>\n        <rasd:InstanceID>{i}</rasd:InstanceID>\n        <rasd:Parent>{parent}</rasd:Parent>\n        <rasd:ResourceType>17</rasd:ResourceType>\n      </Item>\n",
                    u = disk.unit_number.unwrap_or(0)
                ));
            }
            D::VirtualCdrom(c) => {
                let i = next();
                let parent = c
                    .controller_key
                    .and_then(|k| ctl_inst.get(&k))
                    .copied()
                    .unwrap_or(0);
                items.push_str(&format!(
                    "      <Item ovf:required=\"false\">\n        <rasd:AddressOnParent>{u}</rasd:AddressOnParent>\n        <rasd:AutomaticAllocation>false</rasd:AutomaticAllocation>\n        <rasd:ElementName>CD/DVD drive {i}</rasd:ElementName>\n        <rasd:InstanceID>{i}</rasd:InstanceID>\n        <rasd:Parent>{parent}</rasd:Parent>\n        <rasd:ResourceType>15</rasd:ResourceType>\n      </Item>\n",
                    u = c.unit_number.unwrap_or(0)
                ));
            }
            _ => {
                let Some((sub, card)) = nic_of(d) else {
                    continue;
                };
                let net = match card.backing.as_ref() {
                    Some(BaseVirtualDeviceBackingInfo::VirtualEthernetCardNetworkBackingInfo(
                        b,
                    )) => b.device_name.clone(),
                    _ => "VM Network".into(),
                };
                if !nets.contains(&net) {
                    nets.push(net.clone());
                }
                let i = next();
                items.push_str(&format!(
                    "      <Item>\n        <rasd:AddressOnParent>{u}</rasd:AddressOnParent>\n        <rasd:AutomaticAllocation>true</rasd:AutomaticAllocation>\n        <rasd:Connection>{n}</rasd:Connection>\n        <rasd:ElementName>Network adapter {i}</rasd:ElementName>\n        <rasd:InstanceID>{i}</rasd:InstanceID>\n        <rasd:ResourceSubType>{sub}</rasd:ResourceSubType>\n        <rasd:ResourceType>10</rasd:ResourceType>\n      </Item>\n",
                    u = card.unit_number.unwrap_or(7),
                    n = esc(&net)
                ));
            }
        }
    }
    let net_sec: String = nets
        .iter()
        .map(|n| {
            format!(
                "    <Network ovf:name=\"{0}\">\n      <Description>The {0} network</Description>\n    </Network>\n",
                esc(n)
            )
        })
        .collect();
    let annotation = cfg
        .annotation
        .clone()
        .or_else(|| cdp.description.clone())
        .filter(|a| !a.is_empty())
        .map(|a| {
            format!(
                "    <AnnotationSection>\n      <Info>A human-readable annotation</Info>\n      <Annotation>{}</Annotation>\n    </AnnotationSection>\n",
                esc(&a)
            )
        })
        .unwrap_or_default();
    let xml = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:cim="http://schemas.dmtf.org/wbem/wscim/1/common" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1" xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData" xmlns:vmw="http://www.vmware.com/schema/ovf" xmlns:vssd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <References>
{refs}  </References>
  <DiskSection>
    <Info>Virtual disk information</Info>
{disk_sec}  </DiskSection>
  <NetworkSection>
    <Info>The list of logical networks</Info>
{net_sec}  </NetworkSection>
  <VirtualSystem ovf:id="{id}">
    <Info>A virtual machine</Info>
    <Name>{id}</Name>
    <OperatingSystemSection ovf:id="1" vmw:osType="{os}">
      <Info>The kind of installed guest operating system</Info>
    </OperatingSystemSection>
{annotation}    <VirtualHardwareSection>
      <Info>Virtual hardware requirements</Info>
      <System>
        <vssd:ElementName>Virtual Hardware Family</vssd:ElementName>
        <vssd:InstanceID>0</vssd:InstanceID>
        <vssd:VirtualSystemIdentifier>{id}</vssd:VirtualSystemIdentifier>
        <vssd:VirtualSystemType>{hw}</vssd:VirtualSystemType>
      </System>
{items}    </VirtualHardwareSection>
  </VirtualSystem>
</Envelope>
"#,
        id = esc(&name),
        os = esc(&cfg.guest_id),
        hw = esc(&cfg.version),
    );
    Ok(OvfCreateDescriptorResult {
        ovf_descriptor: xml,
        include_image_files: Some(false),
        ..Default::default()
    })
}

fn nic_of(d: &BaseVirtualDevice) -> Option<(&'static str, VirtualEthernetCard)> {
    use BaseVirtualDevice as D;
    macro_rules! card {
        ($c:expr) => {
            VirtualEthernetCard {
                key: $c.key,
                backing: $c.backing.clone(),
                unit_number: $c.unit_number,
                ..Default::default()
            }
        };
    }
    Some(match d {
        D::VirtualE1000(c) => ("E1000", card!(c)),
        D::VirtualE1000e(c) => ("E1000e", card!(c)),
        D::VirtualVmxnet3(c) => ("VmxNet3", card!(c)),
        D::VirtualVmxnet2(c) => ("VmxNet2", card!(c)),
        D::VirtualPCNet32(c) => ("PCNet32", card!(c)),
        _ => return None,
    })
}

/// The `OvfManager` methods; gives the request back when it is not one.
pub fn handle(state: &mut State, req: Request) -> Result<MethodResult<Response>, Request> {
    Ok(match req {
        Request::ParseDescriptor(q) => parse_descriptor(&q.ovf_descriptor).map(|returnval| {
            Response::ParseDescriptor(Box::new(ParseDescriptorResponse { returnval }))
        }),
        Request::ValidateHost(q) => validate_host(state, &q.ovf_descriptor, &q.host)
            .map(|returnval| Response::ValidateHost(Box::new(ValidateHostResponse { returnval }))),
        Request::CreateImportSpec(q) => create_import_spec(state, &q).map(|returnval| {
            Response::CreateImportSpec(Box::new(CreateImportSpecResponse { returnval }))
        }),
        Request::CreateDescriptor(q) => create_descriptor(state, &q.obj, &q.cdp).map(|returnval| {
            Response::CreateDescriptor(Box::new(CreateDescriptorResponse { returnval }))
        }),
        other => return Err(other),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_xml_names_the_line() {
        let f = parse_envelope("<Envelope>\n<References>\n</Envelope>").unwrap_err();
        assert!(f.message.contains("line 3"), "{}", f.message);
        let f = parse_envelope("<Foo/>").unwrap_err();
        assert!(f.message.contains("not an OVF"), "{}", f.message);
        let f = parse_envelope(
            "<Envelope><DiskSection><Disk ovf:diskId=\"d\"/></DiskSection></Envelope>",
        )
        .unwrap_err();
        assert!(f.message.contains("capacity"), "{}", f.message);
    }

    #[test]
    fn units() {
        assert_eq!(unit_bytes(Some("byte * 2^20")), Some(1 << 20));
        assert_eq!(unit_bytes(None), Some(1));
        assert_eq!(unit_bytes(Some("byte * 2^30")), Some(1 << 30));
        assert_eq!(unit_bytes(Some("furlongs")), None);
    }
}
