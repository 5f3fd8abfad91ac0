//! Rust spellings of WSDL names.

/// `PowerOnVM_Task` -> `power_on_vm_task`, `_this` -> `this`, `type` -> `r#type`.
pub fn snake(name: &str) -> String {
    let name = name.trim_start_matches('_');
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() {
            let prev = if i > 0 { Some(chars[i - 1]) } else { None };
            let next = chars.get(i + 1).copied();
            let boundary = match prev {
                Some(p) if p.is_ascii_lowercase() || p.is_ascii_digit() => true,
                Some(p) if p.is_ascii_uppercase() => next.is_some_and(|n| n.is_ascii_lowercase()),
                _ => false,
            };
            if boundary && !out.ends_with('_') {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else if c == '_' || c == '-' || c == '.' {
            if !out.ends_with('_') && !out.is_empty() {
                out.push('_');
            }
        } else {
            out.push(c);
        }
    }
    let out = out.trim_end_matches('_').to_string();
    escape_ident(out)
}

/// Makes a snake-case identifier legal.
pub fn escape_ident(s: String) -> String {
    const RAW_OK: &[&str] = &[
        "as", "break", "const", "continue", "else", "enum", "extern", "false", "fn", "for", "if",
        "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return",
        "static", "struct", "trait", "true", "type", "unsafe", "use", "where", "while", "async",
        "await", "dyn", "abstract", "become", "box", "do", "final", "macro", "override", "priv",
        "typeof", "unsized", "virtual", "yield", "try", "gen",
    ];
    if s.is_empty() {
        return "value".into();
    }
    if matches!(s.as_str(), "self" | "super" | "crate" | "Self") {
        return format!("{s}_");
    }
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        return format!("n{s}");
    }
    if RAW_OK.contains(&s.as_str()) {
        return format!("r#{s}");
    }
    s
}

/// An enumeration value as a variant name: `poweredOn` -> `PoweredOn`, `in_progress` -> `InProgress`.
pub fn variant(value: &str) -> String {
    let mut out = String::new();
    for part in value
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|p| !p.is_empty())
    {
        let mut cs = part.chars();
        if let Some(f) = cs.next() {
            out.push(f.to_ascii_uppercase());
            out.push_str(cs.as_str());
        }
    }
    if out.is_empty() {
        out.push_str("Empty");
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'V');
    }
    if out == "Other" {
        // `Other(String)` is the catch-all for values newer than the WSDL.
        out = "OtherValue".into();
    }
    if out == "Self" {
        out = "SelfValue".into();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_cases() {
        assert_eq!(snake("PowerOnVM_Task"), "power_on_vm_task");
        assert_eq!(snake("RetrievePropertiesEx"), "retrieve_properties_ex");
        assert_eq!(snake("dnsIPAddress"), "dns_ip_address");
        assert_eq!(snake("ipv6Address"), "ipv6_address");
        assert_eq!(snake("_this"), "this");
        assert_eq!(snake("type"), "r#type");
        assert_eq!(snake("self"), "self_");
        assert_eq!(snake("setCustomValue"), "set_custom_value");
    }

    #[test]
    fn variants() {
        assert_eq!(variant("poweredOn"), "PoweredOn");
        assert_eq!(variant("in_progress"), "InProgress");
        assert_eq!(variant("other"), "OtherValue");
        assert_eq!(variant("1"), "V1");
    }
}
