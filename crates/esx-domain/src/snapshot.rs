//! The `<domainsnapshot>` document, as far as the ESX driver uses it: name, description,
//! state, parent, creation time, memory snapshot mode and the domain's UUID.

use crate::error::{DomainXmlError, Result};
use crate::types::Uuid;
use crate::xml::{a, Checked, Element, Writer};

/// A libvirt domain snapshot description.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DomainSnapshot {
    /// `<name>`.
    pub name: Option<String>,
    /// `<description>`.
    pub description: Option<String>,
    /// `<state>`: running, shutoff, paused, disk-snapshot, ...
    pub state: Option<String>,
    /// `<parent><name>`.
    pub parent: Option<String>,
    /// `<creationTime>` in seconds since the epoch.
    pub creation_time: Option<i64>,
    /// `<memory snapshot=...>`: no, internal, external.
    pub memory: Option<String>,
    /// `<domain><uuid>` of the snapshotted domain.
    pub domain_uuid: Option<Uuid>,
}

impl DomainSnapshot {
    /// Parse a `<domainsnapshot>` document; unknown elements are errors naming their line.
    pub fn from_xml(text: &str) -> Result<DomainSnapshot> {
        let root = Element::parse(text)?;
        if root.name != "domainsnapshot" {
            return Err(DomainXmlError::WrongRoot {
                expected: "domainsnapshot".into(),
                found: root.name,
            });
        }
        let c = Checked::new(&root);
        let mut s = DomainSnapshot {
            name: c.child_text("name").map(|t| t.trim().to_string()),
            description: c.child_text("description"),
            state: c.child_text("state").map(|t| t.trim().to_string()),
            ..DomainSnapshot::default()
        };
        if let Some(p) = c.child("parent") {
            s.parent = p.child_text("name").map(|t| t.trim().to_string());
            p.finish()?;
        }
        if let Some(t) = c.child("creationTime") {
            s.creation_time = Some(t.text_parse()?);
            t.finish()?;
        }
        if let Some(m) = c.child("memory") {
            s.memory = m.attr_string("snapshot");
            let _ = m.attr("file");
            m.finish()?;
        }
        if let Some(d) = c.child("domain") {
            if let Some(u) = d.child("uuid") {
                let t = u.text();
                s.domain_uuid = Some(t.parse().map_err(|_| u.invalid(t, "text", "not a UUID"))?);
                u.finish()?;
            }
            // A full domain definition may follow; only its UUID is kept.
            let _ = d.take_rest();
            let _ = d.attr("type");
        }
        c.finish()?;
        Ok(s)
    }

    /// Format as libvirt does.
    pub fn to_xml(&self) -> String {
        let mut w = Writer::new(0);
        let mut inner = w.nested();
        if let Some(n) = &self.name {
            inner.text("name", vec![], n);
        }
        if let Some(d) = &self.description {
            inner.text("description", vec![], d);
        }
        if let Some(s) = &self.state {
            inner.text("state", vec![], s);
        }
        if let Some(p) = &self.parent {
            let mut pw = inner.nested();
            pw.text("name", vec![], p);
            inner.elem("parent", vec![], pw);
        }
        if let Some(t) = self.creation_time {
            inner.text("creationTime", vec![], &t.to_string());
        }
        if let Some(m) = &self.memory {
            inner.empty("memory", vec![a("snapshot", m)]);
        }
        if let Some(u) = &self.domain_uuid {
            let mut dw = inner.nested();
            dw.text("uuid", vec![], &u.to_string());
            inner.elem("domain", vec![], dw);
        }
        w.elem("domainsnapshot", vec![], inner);
        w.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_round_trip() {
        let text = "<domainsnapshot>\n  <name>s1</name>\n  <description>before &amp; after</description>\n  <state>running</state>\n  <parent>\n    <name>s0</name>\n  </parent>\n  <creationTime>1270000000</creationTime>\n  <domain>\n    <uuid>564d9bef-acd9-b4e0-c8f0-aea8b9103515</uuid>\n  </domain>\n</domainsnapshot>\n";
        let s = DomainSnapshot::from_xml(text).unwrap();
        assert_eq!(s.parent.as_deref(), Some("s0"));
        assert_eq!(s.to_xml(), text);
        assert!(DomainSnapshot::from_xml("<domain type='x'/>").is_err());
        assert!(DomainSnapshot::from_xml("<domainsnapshot><x/></domainsnapshot>").is_err());
    }
}
