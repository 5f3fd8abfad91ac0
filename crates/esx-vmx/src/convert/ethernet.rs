//! Network cards (`ethernetN.*`).

use esx_domain::{Domain, Interface, InterfaceSource, Mac, MacAddr};

use super::{format_vmx_uuid, parse_vmx_uuid, unsupported, ConvertError, Out, Result};
use crate::VmxFile;

/// NIC models VMX accepts in `virtualDev`.
const VIRTUAL_DEVS: [&str; 5] = ["vlance", "vmxnet", "vmxnet3", "e1000", "e1000e"];

/// The highest `N` among `ethernetN.*` keys.
fn max_index(vmx: &VmxFile) -> Result<Option<u32>> {
    let mut max: Option<u32> = None;
    for (key, _) in vmx.entries() {
        let Some(head) = key.get(..8) else { continue };
        if !head.eq_ignore_ascii_case("ethernet") {
            continue;
        }
        // libvirt reads the number with strtol: an optional sign, digits, then a '.'; the
        // value must fit an int and not be negative.
        let rest = key.get(8..).unwrap_or("");
        let (negative, unsigned) = match rest.strip_prefix('-') {
            Some(r) => (true, r),
            None => (false, rest),
        };
        let digits: String = unsigned
            .chars()
            .take_while(|c| c.is_ascii_digit())
            .collect();
        let after = unsigned.get(digits.len()..).unwrap_or("");
        let n = digits
            .parse::<u32>()
            .ok()
            .filter(|n| *n <= i32::MAX as u32 && (!negative || *n == 0))
            .filter(|_| after.starts_with('.'));
        let Some(n) = n else {
            return unsupported(format!("failed to parse the index of the VMX key '{key}'"));
        };
        max = Some(max.map_or(n, |m: u32| m.max(n)));
    }
    Ok(max)
}

/// Every present `ethernetN` -> `<interface>`.
pub(super) fn parse(vmx: &VmxFile, def: &mut Domain) -> Result<()> {
    let Some(max) = max_index(vmx)? else {
        return Ok(());
    };
    // Only numbers with an `ethernetN.present` or `.startConnected` entry can yield a card or
    // an error (see indices_with).
    for n in super::indices_with(vmx, "ethernet", &["present", "startConnected"]) {
        let Ok(n) = u32::try_from(n) else { continue };
        if n > max {
            continue;
        }
        if let Some(iface) = parse_one(vmx, n)? {
            def.devices.interfaces.push(iface);
        }
    }
    Ok(())
}

fn parse_mac(vmx: &VmxFile, key: &str) -> Result<Option<MacAddr>> {
    match vmx.get(key) {
        None => Ok(None),
        Some(v) => v.parse().map(Some).map_err(|_| {
            ConvertError::Unsupported(format!(
                "Expecting VMX entry '{key}' to be MAC address but found '{v}'"
            ))
        }),
    }
}

fn parse_one(vmx: &VmxFile, n: u32) -> Result<Option<Interface>> {
    let p = format!("ethernet{n}");
    let key = |s: &str| format!("{p}.{s}");
    let present = vmx.get_bool(&key("present"))?.unwrap_or(false);
    let _start_connected = vmx.get_bool(&key("startConnected"))?;
    if !present {
        return Ok(None);
    }
    let connection_type_key = key("connectionType");
    let connection_type = vmx.get(&connection_type_key);
    let address_type_key = key("addressType");
    let address_type = vmx.get(&address_type_key);

    let mut mac = Mac {
        address: MacAddr::default(),
        mac_type: None,
        check: None,
    };
    match address_type {
        None => {
            if let Some(m) = parse_mac(vmx, &key("generatedAddress"))? {
                mac.address = m;
            }
        }
        Some(t) if t.eq_ignore_ascii_case("generated") || t.eq_ignore_ascii_case("vpx") => {
            if let Some(m) = parse_mac(vmx, &key("generatedAddress"))? {
                mac.address = m;
            }
            mac.mac_type = Some("generated".into());
        }
        Some(t) if t.eq_ignore_ascii_case("static") => {
            if let Some(m) = parse_mac(vmx, &key("address"))? {
                mac.address = m;
            }
            mac.mac_type = Some("static".into());
        }
        Some(t) => {
            return unsupported(format!(
                "Expecting VMX entry '{address_type_key}' to be 'generated' or 'static' or 'vpx' but found '{t}'"
            ))
        }
    }
    if let Some(check) = vmx.get(&key("checkMACAddress")) {
        mac.check = Some(check == "true");
    }

    let mut iface = Interface {
        mac: Some(mac),
        ..Interface::default()
    };

    let virtual_dev_key = key("virtualDev");
    // libvirt reads `features` whether or not it is needed.
    let features = vmx.get_int(&key("features"))?.unwrap_or(0);
    if let Some(dev) = vmx.get(&virtual_dev_key) {
        let lower = dev.to_ascii_lowercase();
        if !VIRTUAL_DEVS.contains(&lower.as_str()) {
            return unsupported(format!(
                "Expecting VMX entry '{virtual_dev_key}' to be 'vlance' or 'vmxnet' or 'vmxnet3' or 'e1000' or 'e1000e' but found '{dev}'"
            ));
        }
        let mut model = lower;
        if model == "vmxnet" && features == 15 {
            model = "vmxnet2".into();
        }
        iface.model = Some(model);
    }

    let bridged_or_custom =
        |t: &str| t.eq_ignore_ascii_case("bridged") || t.eq_ignore_ascii_case("custom");
    let network_name = match connection_type {
        None => vmx.get(&key("networkName")).map(str::to_string),
        Some(t) if bridged_or_custom(t) => Some(vmx.require(&key("networkName"))?.to_string()),
        Some(_) => None,
    };
    let vnet = match connection_type {
        Some(t) if t.eq_ignore_ascii_case("custom") => Some(vmx.require(&key("vnet"))?.to_string()),
        _ => None,
    };

    let switch_id_key = key("dvs.switchId");
    if let Some(switch_id) = vmx.get(&switch_id_key) {
        let uuid = parse_vmx_uuid(switch_id, &switch_id_key)?;
        iface.net_type = "vds".into();
        let portgroup_id = vmx.get(&key("dvs.portgroupId")).map(str::to_string);
        let port_id = vmx.get_int(&key("dvs.portId"))?.unwrap_or(0);
        let connection_id = vmx.get_int(&key("dvs.connectionId"))?.unwrap_or(0);
        iface.source = InterfaceSource {
            switchid: Some(uuid.to_string()),
            portid: Some(port_id.to_string()),
            portgroupid: portgroup_id,
            connectionid: Some(connection_id.to_string()),
            ..InterfaceSource::default()
        };
        return Ok(Some(iface));
    }

    match connection_type {
        None if network_name.is_none() => iface.net_type = "null".into(),
        None => {
            iface.net_type = "bridge".into();
            iface.source.bridge = network_name;
        }
        Some(t) if t.eq_ignore_ascii_case("bridged") => {
            iface.net_type = "bridge".into();
            iface.source.bridge = network_name;
        }
        Some(t) if t.eq_ignore_ascii_case("hostonly") => {
            return unsupported(format!(
                "No yet handled value '{t}' for VMX entry '{connection_type_key}'"
            ))
        }
        Some(t) if t.eq_ignore_ascii_case("nat") => iface.net_type = "user".into(),
        Some(t) if t.eq_ignore_ascii_case("custom") => {
            iface.net_type = "bridge".into();
            iface.source.bridge = network_name;
            iface.target_dev = vnet;
        }
        Some(t) => {
            return unsupported(format!(
                "Invalid value '{t}' for VMX entry '{connection_type_key}'"
            ))
        }
    }
    Ok(Some(iface))
}

/// A stable stand-in for the MAC libvirt would generate (prefix 00:0c:29) for an interface
/// without one.
fn fallback_mac(def: &Domain, n: usize) -> MacAddr {
    let u = def.uuid.unwrap_or_default().0;
    let salt = n as u8;
    MacAddr([0x00, 0x0c, 0x29, u[13] ^ salt, u[14], u[15]])
}

/// Every `<interface>` -> `ethernetN.*` (N = position in the list).
pub(super) fn format(def: &Domain, hw: i64, out: &mut Out) -> Result<()> {
    let limit = if hw >= 7 { 10 } else { 4 };
    for (n, iface) in def.devices.interfaces.iter().enumerate() {
        if n >= limit {
            return unsupported(format!(
                "Ethernet controller index {n} out of [0..{}] range",
                limit - 1
            ));
        }
        let p = format!("ethernet{n}");
        out.put(&format!("{p}.present"), "true");
        if let Some(model) = &iface.model {
            match model.as_str() {
                "vmxnet2" => {
                    out.put(&format!("{p}.virtualDev"), "vmxnet");
                    out.put(&format!("{p}.features"), "15");
                }
                m if VIRTUAL_DEVS.contains(&m) => out.put(&format!("{p}.virtualDev"), m),
                other => {
                    return unsupported(format!(
                        "Expecting domain XML entry 'devices/interface/model' to be 'vlance' or 'vmxnet' or 'vmxnet2' or 'vmxnet3' or 'e1000' or 'e1000e' but found '{other}'"
                    ))
                }
            }
        }
        match iface.net_type.as_str() {
            "bridge" => {
                if let Some(b) = &iface.source.bridge {
                    out.put(&format!("{p}.networkName"), b);
                }
                match &iface.target_dev {
                    Some(dev) => {
                        out.put(&format!("{p}.connectionType"), "custom");
                        out.put(&format!("{p}.vnet"), dev);
                    }
                    None => out.put(&format!("{p}.connectionType"), "bridged"),
                }
            }
            "user" => out.put(&format!("{p}.connectionType"), "nat"),
            "null" => {}
            "vds" => {
                let sw = iface.source.switchid.as_deref().unwrap_or("");
                let uuid: esx_domain::Uuid = sw.parse().map_err(|_| {
                    ConvertError::Unsupported(format!("Could not parse UUID from string '{sw}'"))
                })?;
                out.put(&format!("{p}.dvs.switchId"), format_vmx_uuid(&uuid));
                // The port and connection ids are C long longs, written when not 0.
                let long = |v: Option<&str>, what: &str| -> Result<i64> {
                    match v {
                        None => Ok(0),
                        Some(t) => crate::file::parse_c_long(t).ok_or_else(|| {
                            ConvertError::Unsupported(format!(
                                "Invalid value for attribute '{what}' in element 'source': '{t}'"
                            ))
                        }),
                    }
                };
                let port_id = long(iface.source.portid.as_deref(), "portid")?;
                let connection_id = long(iface.source.connectionid.as_deref(), "connectionid")?;
                if port_id != 0 {
                    out.put(&format!("{p}.dvs.portId"), port_id.to_string());
                }
                if let Some(v) = &iface.source.portgroupid {
                    out.put(&format!("{p}.dvs.portgroupId"), v);
                }
                if connection_id != 0 {
                    out.put(&format!("{p}.dvs.connectionId"), connection_id.to_string());
                }
            }
            other => return unsupported(format!("Unsupported net type '{other}'")),
        }
        format_mac(def, iface, n, &p, out);
    }
    Ok(())
}

fn format_mac(def: &Domain, iface: &Interface, n: usize, p: &str, out: &mut Out) {
    // No address, or all zeros: libvirt generates a random one; ours is stable.
    let address = iface
        .mac
        .as_ref()
        .map(|m| m.address)
        .filter(|a| *a != MacAddr::default())
        .unwrap_or_else(|| fallback_mac(def, n));
    let b = address.0;
    let prefix = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
    let suffix = (u32::from(b[3]) << 16) | (u32::from(b[4]) << 8) | u32::from(b[5]);
    enum Kind {
        Generated,
        Static,
        Vpx,
    }
    // The defaults from the address ranges, then an explicit type, then an explicit check.
    let vpx_range = prefix == 0x005056 && (0x800000..=0xbfffff).contains(&suffix);
    let (mut kind, mut check) = if prefix == 0x000c29 {
        (Kind::Generated, None)
    } else if prefix == 0x005056 && suffix <= 0x3fffff {
        (Kind::Static, None)
    } else if vpx_range {
        (Kind::Vpx, None)
    } else {
        (Kind::Static, Some(false))
    };
    match iface.mac.as_ref().and_then(|m| m.mac_type.as_deref()) {
        Some("generated") => {
            kind = if vpx_range {
                Kind::Vpx
            } else {
                Kind::Generated
            };
            check = None;
        }
        Some("static") => kind = Kind::Static,
        _ => {}
    }
    if let Some(c) = iface.mac.as_ref().and_then(|m| m.check) {
        check = Some(c);
    }
    match kind {
        Kind::Generated => {
            out.put(&format!("{p}.addressType"), "generated");
            out.put(&format!("{p}.generatedAddress"), address.to_string());
            out.put(&format!("{p}.generatedAddressOffset"), "0");
        }
        Kind::Static => {
            out.put(&format!("{p}.addressType"), "static");
            out.put(&format!("{p}.address"), address.to_string());
        }
        Kind::Vpx => {
            out.put(&format!("{p}.addressType"), "vpx");
            out.put(&format!("{p}.generatedAddress"), address.to_string());
        }
    }
    if let Some(c) = check {
        out.put(
            &format!("{p}.checkMACAddress"),
            if c { "true" } else { "false" },
        );
    }
}
