//! Nested property paths: reads `config.hardware.memoryMB` out of a typed top-level value.
//!
//! The top-level value is encoded with the esx-vim codec, the path is walked through the
//! element tree (using each element's `xsi:type`, or the declared field type from
//! `esx_vim::reflect`), and the element found is decoded back into a typed
//! [`Any`]. Repeated fields come back as their `ArrayOf*` wrapper, as vSphere returns them.

use esx_vim::codec::{soap, Decode, Decoder};
use esx_vim::Any;
use quick_xml::events::Event;

/// A property path that names nothing on the object's type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid property path segment {segment:?} on type {ty}")]
pub struct PathError {
    /// The WSDL type being walked.
    pub ty: String,
    /// The segment that type does not have.
    pub segment: String,
}

/// The declared type of `ty.field` and whether the field repeats, from esx-vim's reflection tables.
pub fn field_type(ty: &str, field: &str) -> Option<(&'static str, bool)> {
    esx_vim::reflect::type_info(ty)
        .and_then(|t| t.field(field))
        .map(|f| (f.ty, f.repeated))
}

struct Node {
    name: String,
    attrs: String,
    xsi_type: Option<String>,
    inner: (usize, usize),
    children: Vec<usize>,
}

fn parse_tree(xml: &[u8]) -> Option<Vec<Node>> {
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut nodes: Vec<Node> = Vec::new();
    let mut stack: Vec<usize> = Vec::new();
    loop {
        let before = reader.buffer_position() as usize;
        let ev = reader.read_event().ok()?;
        let after = reader.buffer_position() as usize;
        match ev {
            Event::Start(e) | Event::Empty(e) => {
                let empty = after >= 2 && xml.get(after - 2) == Some(&b'/');
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                let attrs = String::from_utf8_lossy(e.attributes_raw()).into_owned();
                let xsi_type = e
                    .attributes()
                    .filter_map(Result::ok)
                    .find(|a| a.key.as_ref() == b"xsi:type")
                    .map(|a| String::from_utf8_lossy(&a.value).into_owned());
                let idx = nodes.len();
                nodes.push(Node {
                    name,
                    attrs,
                    xsi_type,
                    inner: (after, after),
                    children: Vec::new(),
                });
                if let Some(&p) = stack.last() {
                    nodes.get_mut(p)?.children.push(idx);
                }
                if !empty {
                    stack.push(idx);
                }
            }
            Event::End(_) => {
                let idx = stack.pop()?;
                nodes.get_mut(idx)?.inner.1 = before;
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Some(nodes)
}

const XMLNS: &str = r#" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema""#;

fn array_names(item: &str) -> (String, String) {
    match item.strip_prefix("xsd:") {
        Some(p) => {
            let mut cap = p.to_owned();
            if let Some(first) = cap.get_mut(0..1) {
                first.make_ascii_uppercase();
            }
            let cap = match p {
                "anyURI" => "AnyURI".to_owned(),
                _ => cap,
            };
            (format!("ArrayOf{cap}"), p.to_owned())
        }
        None => (format!("ArrayOf{item}"), item.to_owned()),
    }
}

fn strip_xsi(attrs: &str) -> String {
    // Our own encoder writes `xsi:type="…"` first; drop it so it can be rewritten.
    let mut out = String::new();
    let mut rest = attrs;
    while let Some(i) = rest.find("xsi:type=\"") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 10..];
        rest = after.find('"').map_or("", |j| &after[j + 1..]);
    }
    out.push_str(rest);
    out
}

fn decode_any(snippet: &str) -> Option<Any> {
    let mut r = Decoder::new(snippet.as_bytes());
    let el = r.root().ok()?;
    Any::decode(&mut r, &el).ok()
}

/// Reads the path `rest` (already split on `.`) inside `top`.
/// `Ok(None)`: the path is valid but unset here.
pub fn navigate(top: &Any, rest: &[&str]) -> Result<Option<Any>, PathError> {
    let xml = soap::encode_element("v", top);
    let Some(nodes) = parse_tree(&xml) else {
        return Ok(None);
    };
    let text = String::from_utf8_lossy(&xml);
    let mut cur: Vec<usize> = vec![0];
    let mut ty = top.type_name().to_owned();
    let mut repeated = false;
    for seg in rest {
        let Some(&one) = cur.first() else {
            return Ok(None);
        };
        let Some(node) = nodes.get(one) else {
            return Ok(None);
        };
        let actual = node.xsi_type.clone().unwrap_or_else(|| ty.clone());
        let (decl, rep) = field_type(&actual, seg).ok_or_else(|| PathError {
            ty: actual.clone(),
            segment: (*seg).to_owned(),
        })?;
        if cur.len() > 1 {
            return Err(PathError {
                ty: actual,
                segment: (*seg).to_owned(),
            });
        }
        cur = node
            .children
            .iter()
            .copied()
            .filter(|&c| nodes.get(c).is_some_and(|n| n.name == *seg))
            .collect();
        ty = decl.to_owned();
        repeated = rep;
    }
    if cur.is_empty() {
        return Ok(None);
    }
    let inner = |n: &Node| text.get(n.inner.0..n.inner.1).unwrap_or("").to_owned();
    if repeated {
        let (array, item) = array_names(&ty);
        let mut s = format!("<v{XMLNS} xsi:type=\"{array}\">");
        for &i in &cur {
            let Some(n) = nodes.get(i) else { continue };
            s.push_str(&format!("<{item} {}>{}</{item}>", n.attrs, inner(n)));
        }
        s.push_str("</v>");
        return Ok(decode_any(&s));
    }
    let Some(n) = cur.first().and_then(|&i| nodes.get(i)) else {
        return Ok(None);
    };
    let t = n.xsi_type.clone().unwrap_or(ty);
    let s = format!(
        "<v{XMLNS} {} xsi:type=\"{t}\">{}</v>",
        strip_xsi(&n.attrs),
        inner(n)
    );
    Ok(decode_any(&s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use esx_vim::{VirtualHardware, VirtualMachineConfigInfo, VirtualMachineRuntimeInfo};

    #[test]
    fn reads_nested_primitive_and_enum() {
        let cfg = VirtualMachineConfigInfo {
            name: "vm1".into(),
            hardware: VirtualHardware {
                memory_mb: 512,
                num_cpu: 2,
                ..Default::default()
            },
            ..Default::default()
        };
        let top = Any::from(cfg);
        assert_eq!(
            navigate(&top, &["hardware", "memoryMB"]).unwrap(),
            Some(Any::Int(512))
        );
        assert_eq!(
            navigate(&top, &["name"]).unwrap(),
            Some(Any::String("vm1".into()))
        );
        assert!(navigate(&top, &["hardware", "device"]).unwrap().is_none());
        assert!(navigate(&top, &["nope"]).is_err());
        let rt = Any::from(VirtualMachineRuntimeInfo {
            power_state: esx_vim::VirtualMachinePowerState::PoweredOn,
            host: Some(esx_vim::ManagedObjectReference::new(
                "HostSystem",
                "ha-host",
            )),
            ..Default::default()
        });
        assert_eq!(
            navigate(&rt, &["powerState"]).unwrap(),
            Some(Any::from(esx_vim::VirtualMachinePowerState::PoweredOn))
        );
        assert_eq!(
            navigate(&rt, &["host"]).unwrap(),
            Some(Any::ManagedObjectReference(
                esx_vim::ManagedObjectReference::new("HostSystem", "ha-host")
            ))
        );
    }
}
