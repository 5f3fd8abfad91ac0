//! Snapshot commands.

use std::collections::HashMap;

use esx_driver::{flags, Domain, DomainSnapshot, HypervisorDriver};
use serde_json::json;

use super::{lookup_domain, read_file, Out};
use crate::cli::Command;
use crate::error::CliError;
use crate::output::{field, Table};
use crate::progress::Progress;
use crate::session::Session;

/// What `snapshot-list` and `snapshot-info` show of one snapshot.
struct Info {
    name: String,
    parent: Option<String>,
    created: Option<i64>,
    state: String,
    memory: Option<String>,
}

async fn info(s: &Session, snap: &DomainSnapshot) -> Result<Info, CliError> {
    let xml = s.conn.domain_snapshot_get_xml_desc(snap, 0).await?;
    let doc = esx_domain::DomainSnapshot::from_xml(&xml).map_err(esx_driver::Error::from)?;
    Ok(Info {
        name: snap.name.clone(),
        parent: doc.parent,
        created: doc.creation_time,
        state: doc.state.unwrap_or_default(),
        memory: doc.memory,
    })
}

/// Every snapshot of `d`, sorted by name.
async fn all(s: &Session, d: &Domain) -> Result<Vec<Info>, CliError> {
    let mut names = s.conn.domain_snapshot_list_names(d, 0).await?;
    names.sort();
    let mut out = Vec::with_capacity(names.len());
    for n in names {
        let snap = DomainSnapshot {
            domain: d.clone(),
            name: n,
        };
        out.push(info(s, &snap).await?);
    }
    Ok(out)
}

fn escape(text: &str) -> String {
    let mut o = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '&' => o.push_str("&amp;"),
            '\'' => o.push_str("&apos;"),
            '"' => o.push_str("&quot;"),
            c => o.push(c),
        }
    }
    o
}

/// The snapshot named by `name`, or the current one with `--current`.
async fn pick(
    s: &Session,
    d: &Domain,
    name: Option<&str>,
    current: bool,
) -> Result<DomainSnapshot, CliError> {
    match (name, current) {
        (Some(n), _) => Ok(s.conn.domain_snapshot_lookup_by_name(d, n, 0).await?),
        (None, true) => s
            .conn
            .domain_snapshot_current(d, 0)
            .await
            .map_err(|_| CliError::msg(format!("domain '{}' has no current snapshot", d.name))),
        (None, false) => Err(CliError::msg("--snapshotname or --current is required")),
    }
}

fn create_flags(
    no_metadata: bool,
    halt: bool,
    disk_only: bool,
    quiesce: bool,
    atomic: bool,
    live: bool,
    validate: bool,
) -> u32 {
    use flags::snapshot_create as F;
    super::bits(&[
        (no_metadata, F::NO_METADATA),
        (halt, F::HALT),
        (disk_only, F::DISK_ONLY),
        (quiesce, F::QUIESCE),
        (atomic, F::ATOMIC),
        (live, F::LIVE),
        (validate, F::VALIDATE),
    ])
}

/// Prints the snapshots of `parent` in `tree` below `indent`, the way virsh draws trees.
fn draw(
    out: &mut String,
    children: &HashMap<Option<String>, Vec<String>>,
    node: &str,
    root: bool,
    last: bool,
    indent: &mut String,
) {
    out.push_str(indent);
    if !root {
        out.push_str("+- ");
    }
    out.push_str(node);
    out.push('\n');
    let base = indent.len();
    if !root {
        indent.push(if last { ' ' } else { '|' });
        indent.push(' ');
    }
    let kids = children
        .get(&Some(node.to_string()))
        .cloned()
        .unwrap_or_default();
    if !kids.is_empty() {
        out.push_str(indent);
        out.push_str("  |\n");
    }
    let inner = indent.len();
    indent.push_str("  ");
    for (i, k) in kids.iter().enumerate() {
        draw(out, children, k, false, i + 1 == kids.len(), indent);
    }
    indent.truncate(inner);
    if kids.is_empty() && last {
        out.push_str(indent);
        out.push('\n');
    }
    indent.truncate(base);
}

pub(super) async fn run(
    cmd: &Command,
    s: &Session,
    o: &mut Out<'_>,
) -> Option<Result<(), CliError>> {
    let c = &s.conn;
    let r = match cmd {
        Command::SnapshotCreateAs {
            dom,
            name,
            description,
            print_xml,
            no_metadata,
            halt,
            disk_only,
            quiesce,
            atomic,
            live,
            validate,
        } => async {
            let mut xml = String::from("<domainsnapshot>\n");
            if let Some(n) = name {
                xml.push_str(&format!("  <name>{}</name>\n", escape(n)));
            }
            if let Some(d) = description {
                xml.push_str(&format!("  <description>{}</description>\n", escape(d)));
            }
            xml.push_str("</domainsnapshot>\n");
            if *print_xml {
                return o.print(&format!("{xml}\n"));
            }
            let d = lookup_domain(s, &dom.domain).await?;
            let f = create_flags(*no_metadata, *halt, *disk_only, *quiesce, *atomic, *live, *validate);
            let p = Progress::task(c, "snapshot");
            let snap = p.conn.domain_snapshot_create_xml(&d, &xml, f).await?;
            p.finish();
            o.extra(&format!("Domain snapshot {} created", snap.name))
        }
        .await,
        Command::SnapshotCreate {
            dom,
            xmlfile,
            no_metadata,
            halt,
            disk_only,
            quiesce,
            atomic,
            live,
            validate,
        } => async {
            let d = lookup_domain(s, &dom.domain).await?;
            let xml = match xmlfile {
                Some(f) => read_file(f)?,
                None => "<domainsnapshot/>".to_string(),
            };
            let f = create_flags(*no_metadata, *halt, *disk_only, *quiesce, *atomic, *live, *validate);
            let p = Progress::task(c, "snapshot");
            let snap = p.conn.domain_snapshot_create_xml(&d, &xml, f).await?;
            p.finish();
            match xmlfile {
                Some(f) => o.extra(&format!(
                    "Domain snapshot {} created from '{}'",
                    snap.name,
                    f.display()
                )),
                None => o.extra(&format!("Domain snapshot {} created", snap.name)),
            }
        }
        .await,
        Command::SnapshotList {
            dom,
            parent,
            roots,
            leaves,
            no_leaves,
            metadata,
            no_metadata: _,
            tree,
            from,
            current,
            descendants,
            name,
            topological: _,
        } => async {
            let d = lookup_domain(s, &dom.domain).await?;
            let mut snaps = all(s, &d).await?;
            let mut children: HashMap<Option<String>, Vec<String>> = HashMap::new();
            for i in &snaps {
                children.entry(i.parent.clone()).or_default().push(i.name.clone());
            }
            let start = match (from, current) {
                (Some(f), _) => Some(c.domain_snapshot_lookup_by_name(&d, f, 0).await?.name),
                (None, true) => Some(
                    c.domain_snapshot_current(&d, 0)
                        .await
                        .map_err(|_| CliError::msg(format!("domain '{}' has no current snapshot", d.name)))?
                        .name,
                ),
                _ => None,
            };
            if let Some(st) = &start {
                let mut keep = std::collections::HashSet::new();
                let mut todo = vec![st.clone()];
                while let Some(n) = todo.pop() {
                    for k in children.get(&Some(n)).cloned().unwrap_or_default() {
                        keep.insert(k.clone());
                        if *descendants || *tree {
                            todo.push(k);
                        }
                    }
                }
                snaps.retain(|i| keep.contains(&i.name));
            }
            if *roots {
                snaps.retain(|i| i.parent.is_none());
            }
            if *leaves {
                snaps.retain(|i| !children.contains_key(&Some(i.name.clone())));
            }
            if *no_leaves {
                snaps.retain(|i| children.contains_key(&Some(i.name.clone())));
            }
            if *metadata {
                snaps.clear();
            }
            if o.json {
                let v: Vec<_> = snaps
                    .iter()
                    .map(|i| json!({ "name": i.name, "parent": i.parent, "creation_time": i.created, "state": i.state }))
                    .collect();
                return o.json_value(&serde_json::Value::Array(v));
            }
            if *tree {
                let mut t = String::new();
                let names: std::collections::HashSet<&str> = snaps.iter().map(|i| i.name.as_str()).collect();
                let mut kids: HashMap<Option<String>, Vec<String>> = HashMap::new();
                for i in &snaps {
                    let p = i.parent.clone().filter(|p| names.contains(p.as_str()));
                    kids.entry(p).or_default().push(i.name.clone());
                }
                for r in kids.get(&None).cloned().unwrap_or_default() {
                    draw(&mut t, &kids, &r, true, true, &mut String::new());
                }
                return o.print(&t);
            }
            if *name {
                let t: String = snaps.iter().map(|i| format!("{}\n", i.name)).collect();
                return o.print(&t);
            }
            let mut t = if *parent {
                Table::new(["Name", "Creation Time", "State", "Parent"])
            } else {
                Table::new(["Name", "Creation Time", "State"])
            };
            for i in &snaps {
                let when = i.created.map(crate::timefmt::creation_time).unwrap_or_default();
                let mut row = vec![i.name.clone(), when, i.state.clone()];
                if *parent {
                    row.push(i.parent.clone().unwrap_or_default());
                }
                t.row(row);
            }
            o.table(&t)
        }
        .await,
        Command::SnapshotInfo {
            dom,
            snapshotname,
            current,
        } => async {
            let d = lookup_domain(s, &dom.domain).await?;
            let snap = pick(s, &d, snapshotname.as_deref(), *current).await?;
            let i = info(s, &snap).await?;
            let is_current = c.domain_snapshot_is_current(&snap, 0).await?;
            let kids = c.domain_snapshot_num_children(&snap, 0).await?;
            let desc = c
                .domain_snapshot_num_children(&snap, flags::snapshot_list::DESCENDANTS)
                .await?;
            let meta = c.domain_snapshot_has_metadata(&snap, 0).await?;
            let location = if i.state == "disk-snapshot" || i.memory.as_deref() == Some("external") {
                "external"
            } else {
                "internal"
            };
            if o.json {
                return o.json_value(&json!({
                    "name": i.name, "domain": d.name, "current": is_current, "state": i.state,
                    "location": location, "parent": i.parent, "children": kids,
                    "descendants": desc, "metadata": meta, "creation_time": i.created,
                }));
            }
            let mut t = String::new();
            field(&mut t, 15, "Name:", &i.name);
            field(&mut t, 15, "Domain:", &d.name);
            field(&mut t, 15, "Current:", crate::output::yes_no(is_current));
            field(&mut t, 15, "State:", &i.state);
            field(&mut t, 15, "Location:", location);
            field(&mut t, 15, "Parent:", i.parent.as_deref().unwrap_or("-"));
            field(&mut t, 15, "Children:", kids);
            field(&mut t, 15, "Descendants:", desc);
            field(&mut t, 15, "Metadata:", crate::output::yes_no(meta));
            o.print(&t)
        }
        .await,
        Command::SnapshotDumpxml {
            dom,
            snapshotname,
            security_info,
        } => async {
            let d = lookup_domain(s, &dom.domain).await?;
            let snap = c.domain_snapshot_lookup_by_name(&d, snapshotname, 0).await?;
            let xml = c
                .domain_snapshot_get_xml_desc(&snap, u32::from(*security_info))
                .await?;
            super::domain::print_doc(o, &xml)
        }
        .await,
        Command::SnapshotCurrent {
            dom,
            name,
            security_info,
            snapshotname,
        } => async {
            let d = lookup_domain(s, &dom.domain).await?;
            if let Some(n) = snapshotname {
                let snap = c.domain_snapshot_lookup_by_name(&d, n, 0).await?;
                let xml = c.domain_snapshot_get_xml_desc(&snap, 0).await?;
                use flags::snapshot_create as F;
                c.domain_snapshot_create_xml(&d, &xml, F::REDEFINE | F::CURRENT)
                    .await?;
                return o.extra(&format!("Snapshot {n} set as current"));
            }
            let snap = c
                .domain_snapshot_current(&d, 0)
                .await
                .map_err(|_| CliError::msg(format!("domain '{}' has no current snapshot", d.name)))?;
            if o.json {
                return o.json_value(&json!({ "name": snap.name }));
            }
            if *name {
                // virsh leaves the line to its blank line after the command.
                return o.print(&snap.name);
            }
            let xml = c
                .domain_snapshot_get_xml_desc(&snap, u32::from(*security_info))
                .await?;
            super::domain::print_doc(o, &xml)
        }
        .await,
        Command::SnapshotParent {
            dom,
            snapshotname,
            current,
        } => async {
            let d = lookup_domain(s, &dom.domain).await?;
            let snap = pick(s, &d, snapshotname.as_deref(), *current).await?;
            let p = c
                .domain_snapshot_get_parent(&snap, 0)
                .await
                .map_err(|_| CliError::msg(format!("snapshot '{}' has no parent", snap.name)))?;
            if o.json {
                return o.json_value(&json!({ "parent": p.name }));
            }
            o.print(&p.name)
        }
        .await,
        Command::SnapshotRevert {
            dom,
            snapshotname,
            current,
            running,
            paused,
            force,
        } => async {
            use flags::snapshot_revert as F;
            let d = lookup_domain(s, &dom.domain).await?;
            let snap = pick(s, &d, snapshotname.as_deref(), *current).await?;
            let f = super::bits(&[(*running, F::RUNNING), (*paused, F::PAUSED), (*force, F::FORCE)]);
            let p = Progress::task(c, "revert");
            p.conn.domain_revert_to_snapshot(&snap, f).await?;
            p.finish();
            o.extra(&format!("Domain snapshot {} reverted\n", snap.name))
        }
        .await,
        Command::SnapshotDelete {
            dom,
            snapshotname,
            current,
            children,
            children_only,
            metadata,
        } => async {
            use flags::snapshot_delete as F;
            let d = lookup_domain(s, &dom.domain).await?;
            let snap = pick(s, &d, snapshotname.as_deref(), *current).await?;
            let f = super::bits(&[
                    (*children, F::CHILDREN),
                    (*children_only, F::CHILDREN_ONLY),
                    (*metadata, F::METADATA_ONLY),
                ]);
            let p = Progress::task(c, "delete");
            p.conn
                .domain_snapshot_delete(&snap, f)
                .await
                .map_err(CliError::failed(format!("Failed to delete snapshot {}", snap.name)))?;
            p.finish();
            if *children_only {
                o.extra(&format!("Domain snapshot {} children deleted\n", snap.name))
            } else {
                o.extra(&format!("Domain snapshot {} deleted\n", snap.name))
            }
        }
        .await,
        _ => return None,
    };
    Some(r)
}
