//! The managed-object table (`xtask/data/managed-objects.txt`): which managed object type
//! declares which operation. The WSDL names operations but not their objects.

/// One managed object type.
#[derive(Debug, Clone)]
pub struct ManagedObject {
    pub name: String,
    pub base: Option<String>,
    pub methods: Vec<String>,
    /// `(name, type)` as written in the table, e.g. `("config", "VirtualMachineConfigInfo?")`.
    pub properties: Vec<(String, String)>,
}

/// Parses the table.
pub fn parse(text: &str) -> Result<Vec<ManagedObject>, String> {
    let mut out: Vec<ManagedObject> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let mut words = t.split_whitespace();
        match words.next() {
            Some("managed") => {
                let name = words
                    .next()
                    .ok_or_else(|| format!("line {}: managed without name", i + 1))?;
                let base = match (words.next(), words.next()) {
                    (Some(":"), Some(b)) => Some(b.to_string()),
                    (None, _) => None,
                    _ => return Err(format!("line {}: expected `managed NAME [: BASE]`", i + 1)),
                };
                out.push(ManagedObject {
                    name: name.into(),
                    base,
                    methods: Vec::new(),
                    properties: Vec::new(),
                });
            }
            Some(kind @ ("method" | "property")) => {
                let cur = out
                    .last_mut()
                    .ok_or_else(|| format!("line {}: {kind} before any managed", i + 1))?;
                let name = words
                    .next()
                    .ok_or_else(|| format!("line {}: {kind} without name", i + 1))?;
                if kind == "method" {
                    cur.methods.push(name.into());
                } else {
                    let ty = words
                        .next()
                        .ok_or_else(|| format!("line {}: property without type", i + 1))?;
                    cur.properties.push((name.into(), ty.into()));
                }
            }
            _ => return Err(format!("line {}: cannot parse {t:?}", i + 1)),
        }
    }
    Ok(out)
}

/// Keeps the types this WSDL has: those declaring at least one of its operations or one
/// property, their ancestors and descendants, and the types their properties refer to.
pub fn restrict(
    all: Vec<ManagedObject>,
    ops: &std::collections::HashSet<&str>,
) -> Vec<ManagedObject> {
    use std::collections::{BTreeMap, BTreeSet};
    let mut all: BTreeMap<String, ManagedObject> =
        all.into_iter().map(|m| (m.name.clone(), m)).collect();
    for m in all.values_mut() {
        m.methods.retain(|x| ops.contains(x.as_str()));
    }
    // The table lists only types and properties of the WSDL's API version (see
    // extract-managed-objects.py), so a type with properties but no methods (e.g.
    // `GuestOperationsManager`) is kept too.
    let mut keep: BTreeSet<String> = all
        .values()
        .filter(|m| !m.methods.is_empty() || !m.properties.is_empty())
        .map(|m| m.name.clone())
        .collect();
    loop {
        let mut add = BTreeSet::new();
        for n in &keep {
            let m = &all[n];
            if let Some(b) = &m.base {
                add.insert(b.clone());
            }
            for (_, ty) in &m.properties {
                if let Some(t) = ty.strip_prefix("MOR:") {
                    add.insert(t.trim_end_matches(['?', '[', ']']).to_string());
                }
            }
        }
        for m in all.values() {
            if m.base.as_ref().is_some_and(|b| keep.contains(b)) {
                add.insert(m.name.clone());
            }
        }
        let before = keep.len();
        keep.extend(add.into_iter().filter(|n| all.contains_key(n)));
        if keep.len() == before {
            break;
        }
    }
    keep.into_iter().filter_map(|n| all.remove(&n)).collect()
}
