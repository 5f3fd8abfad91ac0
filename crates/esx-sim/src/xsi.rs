//! Gives every item of an `ArrayOf*` wrapper an `xsi:type`, as real vSphere does.
//!
//! libvirt's ESX driver reads property values (`xsd:anyType`) item by item and refuses items
//! without `xsi:type`; esx-vim's encoder writes the wrapper's type only, so the simulator
//! adds the items' types in one linear pass over the encoded response.

fn item_type(array: &str) -> Option<String> {
    let rest = array.strip_prefix("ArrayOf")?;
    let prim = match rest {
        "String" => "xsd:string",
        "Int" => "xsd:int",
        "Long" => "xsd:long",
        "Short" => "xsd:short",
        "Byte" => "xsd:byte",
        "Boolean" => "xsd:boolean",
        "Double" => "xsd:double",
        "Float" => "xsd:float",
        "DateTime" => "xsd:dateTime",
        "AnyURI" => "xsd:anyURI",
        "Base64Binary" => "xsd:base64Binary",
        "AnyType" => return None,
        other => other,
    };
    Some(prim.to_owned())
}

const MARK: &[u8] = b" xsi:type=\"";

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Adds `xsi:type` to the direct children of every element typed `ArrayOf*` that lack one.
/// Input must be the encoder's own output (escaped text, no comments or CDATA).
pub fn type_array_items(xml: Vec<u8>) -> Vec<u8> {
    if find(&xml, b"xsi:type=\"ArrayOf").is_none() {
        return xml;
    }
    let mut out = Vec::with_capacity(xml.len() + xml.len() / 8);
    let mut stack: Vec<Option<String>> = Vec::new();
    let mut i = 0;
    while i < xml.len() {
        let Some(off) = xml[i..].iter().position(|&b| b == b'<') else {
            out.extend_from_slice(&xml[i..]);
            break;
        };
        out.extend_from_slice(&xml[i..i + off]);
        let start = i + off;
        let Some(len) = xml[start..].iter().position(|&b| b == b'>') else {
            out.extend_from_slice(&xml[start..]);
            break;
        };
        let end = start + len + 1;
        let tag = &xml[start..end];
        match tag.get(1) {
            Some(b'/') => {
                stack.pop();
                out.extend_from_slice(tag);
            }
            Some(b'?') | Some(b'!') => out.extend_from_slice(tag),
            _ => {
                let self_closing = tag.ends_with(b"/>");
                let own = find(tag, MARK).map(|p| {
                    let v = &tag[p + MARK.len()..];
                    let q = v.iter().position(|&b| b == b'"').unwrap_or(v.len());
                    String::from_utf8_lossy(&v[..q]).into_owned()
                });
                match (stack.last(), &own) {
                    (Some(Some(item)), None) => {
                        let name_len = tag[1..]
                            .iter()
                            .position(|&b| b == b' ' || b == b'>' || b == b'/')
                            .unwrap_or(tag.len() - 1);
                        out.extend_from_slice(&tag[..1 + name_len]);
                        out.extend_from_slice(MARK);
                        out.extend_from_slice(item.as_bytes());
                        out.push(b'"');
                        out.extend_from_slice(&tag[1 + name_len..]);
                    }
                    _ => out.extend_from_slice(tag),
                }
                if !self_closing {
                    stack.push(own.as_deref().and_then(item_type));
                }
            }
        }
        i = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_items_of_arrays_only() {
        let xml = br#"<a><val xsi:type="ArrayOfManagedObjectReference"><ManagedObjectReference type="VirtualMachine">1</ManagedObjectReference></val><val xsi:type="ArrayOfString"><string>x&lt;</string></val><b><c>1</c></b></a>"#.to_vec();
        let out = String::from_utf8(type_array_items(xml)).unwrap();
        assert_eq!(
            out,
            r#"<a><val xsi:type="ArrayOfManagedObjectReference"><ManagedObjectReference xsi:type="ManagedObjectReference" type="VirtualMachine">1</ManagedObjectReference></val><val xsi:type="ArrayOfString"><string xsi:type="xsd:string">x&lt;</string></val><b><c>1</c></b></a>"#
        );
    }

    #[test]
    fn keeps_existing_types() {
        let xml = br#"<val xsi:type="ArrayOfVirtualDevice"><VirtualDevice xsi:type="VirtualDisk"><key>1</key></VirtualDevice></val>"#.to_vec();
        assert_eq!(type_array_items(xml.clone()), xml);
    }
}
