//! Domain commands: listing and information, definition and editing, the life cycle,
//! resources, the guest, screenshots, migration and events.

use std::path::Path;

use esx_driver::{
    flags, Connection, Domain, DomainEventKind, HypervisorDriver, TypedParam, TypedValue,
};
use serde_json::json;

use super::{id_text, lookup_domain, lookup_domain_by, read_file, By, Out};
use crate::cli::{Command, ListArgs};
use crate::error::CliError;
use crate::output::{field, parse_scaled, yes_no, Table};
use crate::progress::Progress;
use crate::session::Session;

pub(super) async fn run(
    cmd: &Command,
    s: &Session,
    o: &mut Out<'_>,
) -> Option<Result<(), CliError>> {
    let c = &s.conn;
    let r = match cmd {
        Command::List(a) => list(s, a, o).await,
        Command::Dominfo(d) => dominfo(s, &d.domain, o).await,
        Command::Domstate { dom, reason } => {
            async {
                let d = lookup_domain(s, &dom.domain).await?;
                let (state, why) = c.domain_get_state(&d, 0).await?;
                if o.json {
                    return o.json_value(&json!({ "state": state.as_str(), "reason": why }));
                }
                if *reason {
                    o.print(&format!("{} (unknown)\n", state.as_str()))
                } else {
                    o.print(&format!("{}\n", state.as_str()))
                }
            }
            .await
        }
        Command::Domid(d) => {
            async {
                let d = lookup_domain_by(
                    s,
                    &d.domain,
                    By {
                        id: false,
                        ..By::ALL
                    },
                )
                .await?;
                if o.json {
                    return o.json_value(&json!({ "id": (d.id >= 0).then_some(d.id) }));
                }
                o.print(&format!("{}\n", id_text(d.id)))
            }
            .await
        }
        Command::Domname(d) => {
            async {
                let d = lookup_domain_by(
                    s,
                    &d.domain,
                    By {
                        name: false,
                        ..By::ALL
                    },
                )
                .await?;
                if o.json {
                    return o.json_value(&json!({ "name": d.name }));
                }
                o.print(&format!("{}\n", d.name))
            }
            .await
        }
        Command::Domuuid(d) => {
            async {
                let d = lookup_domain_by(
                    s,
                    &d.domain,
                    By {
                        uuid: false,
                        ..By::ALL
                    },
                )
                .await?;
                if o.json {
                    return o.json_value(&json!({ "uuid": d.uuid.to_string() }));
                }
                o.print(&format!("{}\n", d.uuid))
            }
            .await
        }
        Command::Dumpxml {
            dom,
            inactive,
            security_info,
            update_cpu,
            migratable,
        } => {
            async {
                let d = lookup_domain(s, &dom.domain).await?;
                let f = super::bits(&[
                    (*security_info, flags::domain_xml::SECURE),
                    (*inactive, flags::domain_xml::INACTIVE),
                    (*update_cpu, flags::domain_xml::UPDATE_CPU),
                    (*migratable, flags::domain_xml::MIGRATABLE),
                ]);
                let xml = c.domain_get_xml_desc(&d, f).await?;
                print_doc(o, &xml)
            }
            .await
        }
        Command::Define { file, validate } => {
            async {
                let xml = read_file(file)?;
                let f = if *validate {
                    flags::define::VALIDATE
                } else {
                    0
                };
                let d = c
                    .domain_define_xml_flags(&xml, f)
                    .await
                    .map_err(CliError::failed(format!(
                        "Failed to define domain from {}",
                        file.display()
                    )))?;
                o.extra(&format!(
                    "Domain '{}' defined from {}\n",
                    d.name,
                    file.display()
                ))
            }
            .await
        }
        Command::Undefine {
            dom,
            remove_all_storage,
            snapshots_metadata,
            managed_save,
            nvram,
        } => {
            undefine(
                s,
                &dom.domain,
                *remove_all_storage,
                (*snapshots_metadata, *managed_save, *nvram),
                o,
            )
            .await
        }
        Command::Create {
            file,
            paused,
            validate,
        } => {
            async {
                let xml = read_file(file)?;
                let what = format!("Failed to create domain from {}", file.display());
                let f = if *validate {
                    flags::define::VALIDATE
                } else {
                    0
                };
                let d = c
                    .domain_define_xml_flags(&xml, f)
                    .await
                    .map_err(CliError::failed(what.clone()))?;
                let p = Progress::task(c, "start");
                p.conn
                    .domain_create(&d)
                    .await
                    .map_err(CliError::failed(what.clone()))?;
                if *paused {
                    let d = c.domain_lookup_by_uuid(&d.uuid).await?;
                    p.conn
                        .domain_suspend(&d)
                        .await
                        .map_err(CliError::failed(what))?;
                }
                p.finish();
                o.extra(&format!(
                    "Domain '{}' created from {}\n",
                    d.name,
                    file.display()
                ))
            }
            .await
        }
        Command::Start { dom, paused } => {
            lifecycle(s, &dom.domain, Verb::Start(u32::from(*paused)), o).await
        }
        Command::Shutdown { dom, mode } => match shutdown_mode(mode.as_deref()) {
            Ok(f) => lifecycle(s, &dom.domain, Verb::Shutdown(f), o).await,
            Err(e) => Err(e),
        },
        Command::Reboot { dom, mode } => match shutdown_mode(mode.as_deref()) {
            Ok(f) => lifecycle(s, &dom.domain, Verb::Reboot(f), o).await,
            Err(e) => Err(e),
        },
        Command::Destroy { dom, graceful } => {
            lifecycle(s, &dom.domain, Verb::Destroy(u32::from(*graceful)), o).await
        }
        Command::Suspend(dom) => lifecycle(s, &dom.domain, Verb::Suspend, o).await,
        Command::Resume(dom) => lifecycle(s, &dom.domain, Verb::Resume, o).await,
        Command::Setmem { dom, size, impact } => {
            async {
                let d = lookup_domain(s, &dom.domain).await?;
                let kib = kib_arg(size, "size")?;
                let f = impact_flags(impact.config, impact.live);
                if f == 0 {
                    c.domain_set_memory(&d, kib).await?;
                } else {
                    c.domain_set_memory_flags(&d, kib, f).await?;
                }
                Ok(())
            }
            .await
        }
        Command::Setmaxmem { dom, size, impact } => {
            async {
                let d = lookup_domain(s, &dom.domain).await?;
                let kib = kib_arg(size, "size")?;
                let f = impact_flags(impact.config, impact.live);
                if f == 0 {
                    c.domain_set_max_memory(&d, kib)
                        .await
                        .map_err(CliError::failed("Unable to change MaxMemorySize"))?;
                } else {
                    // VIR_DOMAIN_MEM_MAXIMUM
                    c.domain_set_memory_flags(&d, kib, f | 4)
                        .await
                        .map_err(CliError::failed("Unable to change MaxMemorySize"))?;
                }
                Ok(())
            }
            .await
        }
        Command::Setvcpus {
            dom,
            count,
            maximum,
            impact,
            guest,
        } => {
            async {
                let d = lookup_domain(s, &dom.domain).await?;
                let mut f = impact_flags(impact.config, impact.live);
                if *maximum {
                    f |= flags::affect::VCPU_MAXIMUM;
                }
                if *guest {
                    f |= flags::affect::VCPU_GUEST;
                }
                if f == 0 {
                    c.domain_set_vcpus(&d, *count).await?;
                } else {
                    c.domain_set_vcpus_flags(&d, *count, f).await?;
                }
                Ok(())
            }
            .await
        }
        Command::Vcpucount {
            dom,
            maximum,
            active,
            live,
            config,
            current,
            guest,
        } => {
            vcpucount(
                s,
                &dom.domain,
                [*maximum, *active, *live, *config, *current, *guest],
                o,
            )
            .await
        }
        Command::Schedinfo {
            dom, set, set_opt, ..
        } => schedinfo(s, &dom.domain, set.iter().chain(set_opt), o).await,
        Command::Memtune {
            dom,
            hard_limit,
            soft_limit,
            swap_hard_limit,
            min_guarantee,
            impact,
        } => {
            async {
                let d = lookup_domain(s, &dom.domain).await?;
                let f = impact_flags(impact.config, impact.live);
                let mut params = Vec::new();
                for (name, v) in [
                    ("hard_limit", hard_limit),
                    ("soft_limit", soft_limit),
                    ("swap_hard_limit", swap_hard_limit),
                    ("min_guarantee", min_guarantee),
                ] {
                    if let Some(v) = v {
                        let kib = if v == "-1" {
                            u64::MAX >> 10
                        } else {
                            kib_arg(v, name)?
                        };
                        params.push(TypedParam::new(name, TypedValue::ULLong(kib)));
                    }
                }
                if !params.is_empty() {
                    return c
                        .domain_set_memory_parameters(&d, &params, f)
                        .await
                        .map_err(CliError::failed("Unable to change memory parameters"));
                }
                let got = c
                    .domain_get_memory_parameters(&d, f)
                    .await
                    .map_err(CliError::failed("Unable to get memory parameters"))?;
                if o.json {
                    let m: serde_json::Map<String, serde_json::Value> = got
                        .iter()
                        .map(|p| (p.field.clone(), param_json(p.value)))
                        .collect();
                    return o.json_value(&serde_json::Value::Object(m));
                }
                let mut t = String::new();
                for p in &got {
                    let v = match p.value {
                        TypedValue::ULLong(v) if v >= u64::MAX >> 10 => "unlimited".to_string(),
                        v => v.to_string(),
                    };
                    t.push_str(&format!("{:<15}: {v}\n", p.field));
                }
                o.print(&t)
            }
            .await
        }
        Command::Autostart { dom, disable } => {
            async {
                let d = lookup_domain(s, &dom.domain).await?;
                let (fail, done) = if *disable {
                    ("Failed to unmark domain '{}' as autostarted", "unmarked")
                } else {
                    ("Failed to mark domain '{}' as autostarted", "marked")
                };
                c.domain_set_autostart(&d, !*disable)
                    .await
                    .map_err(CliError::failed(fail.replace("{}", &d.name)))?;
                o.extra(&format!("Domain '{}' {done} as autostarted\n", d.name))
            }
            .await
        }
        Command::Domhostname { dom, source } => {
            async {
                let d = lookup_domain(s, &dom.domain).await?;
                let f = match source.as_deref() {
                    None => 0,
                    Some("lease") => 1,
                    Some("agent") => 2,
                    Some(other) => {
                        return Err(CliError::msg(format!("Unknown data source '{other}'")))
                    }
                };
                let h = c
                    .domain_get_hostname(&d, f)
                    .await
                    .map_err(CliError::failed("failed to get hostname"))?;
                if o.json {
                    return o.json_value(&json!({ "hostname": h }));
                }
                o.print(&format!("{h}\n"))
            }
            .await
        }
        Command::Domifaddr {
            dom,
            interface,
            full,
            source,
        } => {
            domifaddr(
                s,
                &dom.domain,
                interface.as_deref(),
                *full,
                source.as_deref(),
                o,
            )
            .await
        }
        Command::Screenshot { dom, file, screen } => {
            async {
                let d = lookup_domain(s, &dom.domain).await?;
                let (mime, data) = c
                    .domain_screenshot(&d, screen.unwrap_or(0), 0)
                    .await
                    .map_err(CliError::failed(format!(
                        "could not take a screenshot of {}",
                        d.name
                    )))?;
                let path = match file {
                    Some(f) => f.clone(),
                    None => {
                        let ext = if mime == "image/png" { ".png" } else { "" };
                        let now = crate::timefmt::now_local_compact();
                        std::path::PathBuf::from(format!("{}-{now}{ext}", d.name))
                    }
                };
                std::fs::write(&path, &data).map_err(|e| {
                    CliError::msg(format!(
                        "cannot create file {}: {}",
                        path.display(),
                        crate::error::strerror(&e)
                    ))
                })?;
                o.extra(&format!(
                    "Screenshot saved to {}, with type of {mime}\n",
                    path.display()
                ))
            }
            .await
        }
        Command::Migrate {
            dom,
            desturi,
            migrateuri,
            live,
            persistent,
            undefinesource,
            suspend,
            dname,
            verbose,
            p2p,
        } => {
            async {
                let d = lookup_domain(s, &dom.domain).await?;
                let f = super::bits(&[
                    (*live, flags::migrate::LIVE),
                    (*p2p, flags::migrate::PEER2PEER),
                    (*persistent, flags::migrate::PERSIST_DEST),
                    (*undefinesource, flags::migrate::UNDEFINE_SOURCE),
                    (*suspend, flags::migrate::PAUSED),
                ]);
                migrate(
                    s,
                    &d,
                    desturi,
                    migrateuri.as_deref(),
                    f,
                    dname.as_deref(),
                    *verbose,
                    o,
                )
                .await
            }
            .await
        }
        Command::Edit { dom, .. } => {
            async {
                let d = lookup_domain(s, &dom.domain).await?;
                edit_with(c, &d, &editor(), o).await
            }
            .await
        }
        Command::Event {
            domain,
            event,
            all: _,
            loop_,
            timeout,
            list,
            timestamp,
        } => {
            async {
                if *list {
                    return o.print("lifecycle\n");
                }
                if let Some(e) = event.as_deref().filter(|e| *e != "lifecycle") {
                    return Err(CliError::msg(format!("unknown event type {e}")));
                }
                let filter = match domain {
                    Some(d) => Some(lookup_domain(s, d).await?),
                    None => None,
                };
                events(c, filter, *loop_, *timeout, *timestamp, o).await
            }
            .await
        }
        _ => return None,
    };
    Some(r)
}

/// A life cycle change and its flags.
#[derive(Debug, Clone, Copy)]
enum Verb {
    Start(u32),
    Shutdown(u32),
    Reboot(u32),
    Destroy(u32),
    Suspend,
    Resume,
}

/// `start`, `shutdown`, `reboot`, `destroy`, `suspend`, `resume`: virsh's checks, messages
/// and error lines, with a progress bar for the task-backed ones.
async fn lifecycle(s: &Session, name: &str, verb: Verb, o: &mut Out<'_>) -> Result<(), CliError> {
    let d = lookup_domain(s, name).await?;
    let (word, done) = match verb {
        Verb::Start(_) => ("start", "started"),
        Verb::Shutdown(_) => ("shutdown", "is being shutdown"),
        Verb::Reboot(_) => ("reboot", "is being rebooted"),
        Verb::Destroy(_) => ("destroy", "destroyed"),
        Verb::Suspend => ("suspend", "suspended"),
        Verb::Resume => ("resume", "resumed"),
    };
    if matches!(verb, Verb::Start(_)) && d.is_active() {
        return Err(CliError::msg("Domain is already active"));
    }
    let p = Progress::task(&s.conn, word);
    let c = &p.conn;
    let r = match verb {
        Verb::Start(f) => c.domain_create_with_flags(&d, f).await,
        Verb::Shutdown(f) => c.domain_shutdown_flags(&d, f).await,
        Verb::Reboot(f) => c.domain_reboot(&d, f).await,
        Verb::Destroy(f) => c.domain_destroy_flags(&d, f).await,
        Verb::Suspend => c.domain_suspend(&d).await,
        Verb::Resume => c.domain_resume(&d).await,
    };
    p.finish();
    r.map_err(CliError::failed(format!(
        "Failed to {word} domain '{}'",
        d.name
    )))?;
    o.extra(&format!("Domain '{}' {done}\n", d.name))
}

/// Prints an XML document with a final newline.
pub(super) fn print_doc(o: &mut Out<'_>, xml: &str) -> Result<(), CliError> {
    o.print(xml)?;
    if !xml.ends_with('\n') {
        o.print("\n")?;
    }
    Ok(())
}

/// `--config`/`--live` as libvirt's `virDomainModificationImpact`.
fn impact_flags(config: bool, live: bool) -> u32 {
    let mut f = 0;
    if config {
        f |= flags::affect::CONFIG;
    }
    if live {
        f |= flags::affect::LIVE;
    }
    f
}

/// A scaled size argument (default unit KiB) in KiB, rounded up.
fn kib_arg(text: &str, name: &str) -> Result<u64, CliError> {
    parse_scaled(text, 1024)
        .map(|b| b.div_ceil(1024))
        .ok_or_else(|| {
            CliError::msg(format!(
                "Numeric value '{text}' for <{name}> option is malformed or out of range"
            ))
        })
}

/// virsh's shutdown/reboot `mode` list as flags.
fn shutdown_mode(mode: Option<&str>) -> Result<u32, CliError> {
    let mut f = 0;
    for m in mode.into_iter().flat_map(|m| m.split(',')) {
        f |= match m {
            "acpi" => 1,
            "agent" => 2,
            "initctl" => 4,
            "signal" => 8,
            "paravirt" => 16,
            other => return Err(CliError::msg(format!("Unknown mode {other} value, expecting 'acpi', 'agent', 'initctl', 'signal', or 'paravirt'"))),
        };
    }
    Ok(f)
}

fn param_json(v: TypedValue) -> serde_json::Value {
    match v {
        TypedValue::Int(i) => json!(i),
        TypedValue::LLong(i) => json!(i),
        TypedValue::ULLong(i) => json!(i),
    }
}

/// virsh's order: active domains by id, then inactive ones by name (case-insensitive).
fn sort_domains(doms: &mut [Domain]) {
    doms.sort_by(|a, b| match (a.is_active(), b.is_active()) {
        (true, true) => a.id.cmp(&b.id),
        (true, false) => std::cmp::Ordering::Less,
        (false, true) => std::cmp::Ordering::Greater,
        (false, false) => a.name.to_lowercase().cmp(&b.name.to_lowercase()),
    });
}

async fn list(s: &Session, a: &ListArgs, o: &mut Out<'_>) -> Result<(), CliError> {
    use flags::list_domains as L;
    if a.table && (a.name || a.uuid || a.id) {
        let other = if a.name {
            "name"
        } else if a.uuid {
            "uuid"
        } else {
            "id"
        };
        return Err(CliError::msg(format!(
            "Options --table and --{other} are mutually exclusive"
        )));
    }
    let states = [
        (a.state_running, L::RUNNING),
        (a.state_paused, L::PAUSED),
        (a.state_shutoff, L::SHUTOFF),
        (a.state_other, L::OTHER),
    ];
    let mut f = 0;
    if a.all {
        f |= L::ACTIVE | L::INACTIVE;
    } else if a.inactive {
        f |= L::INACTIVE;
    } else if !states.iter().any(|(set, _)| *set) {
        f |= L::ACTIVE;
    }
    for (set, bit) in states.into_iter().chain([
        (a.persistent, L::PERSISTENT),
        (a.transient, L::TRANSIENT),
        (a.with_managed_save, L::MANAGEDSAVE),
        (a.without_managed_save, L::NO_MANAGEDSAVE),
        (a.autostart, L::AUTOSTART),
        (a.no_autostart, L::NO_AUTOSTART),
        (a.with_snapshot, L::HAS_SNAPSHOT),
        (a.without_snapshot, L::NO_SNAPSHOT),
    ]) {
        if set {
            f |= bit;
        }
    }
    // ACTIVE|INACTIVE together mean no filter.
    if f & (L::ACTIVE | L::INACTIVE) == (L::ACTIVE | L::INACTIVE) {
        f &= !(L::ACTIVE | L::INACTIVE);
    }
    let mut doms = s
        .conn
        .connect_list_all_domains(f)
        .await
        .map_err(CliError::failed("Failed to list domains"))?;
    sort_domains(&mut doms);
    let short = a.name || a.uuid || a.id;
    let needs_state = o.json || !short;
    let mut states = Vec::with_capacity(doms.len());
    if needs_state {
        states = state_words(&s.conn, &doms).await;
    }
    if o.json {
        let v: Vec<_> = doms
            .iter()
            .zip(&states)
            .map(|(d, st)| {
                json!({ "id": (d.id >= 0).then_some(d.id), "name": d.name,
                         "uuid": d.uuid.to_string(), "state": st })
            })
            .collect();
        return o.json_value(&serde_json::Value::Array(v));
    }
    if short {
        let mut t = String::new();
        for d in &doms {
            if a.id && !a.name && !a.uuid && !d.is_active() {
                continue;
            }
            let mut parts = Vec::new();
            if a.uuid {
                parts.push(d.uuid.to_string());
            }
            if a.id {
                parts.push(id_text(d.id));
            }
            if a.name {
                parts.push(d.name.clone());
            }
            t.push_str(&parts.join(" "));
            t.push('\n');
        }
        return o.print(&t);
    }
    let mut t = if a.title {
        Table::new(["Id", "Name", "State", "Title"])
    } else {
        Table::new(["Id", "Name", "State"])
    };
    for (d, st) in doms.iter().zip(&states) {
        let mut row = vec![id_text(d.id), d.name.clone(), st.clone()];
        if a.title {
            row.push(String::new());
        }
        t.row(row);
    }
    o.table(&t)
}

/// The state words of many domains: the id says running/paused vs shut off for inactive
/// ones; active ones are asked (at most a few concurrent calls).
async fn state_words(c: &Connection, doms: &[Domain]) -> Vec<String> {
    let mut out = vec![String::new(); doms.len()];
    let mut pending = Vec::new();
    for (i, d) in doms.iter().enumerate() {
        if d.is_active() {
            pending.push(i);
        } else {
            out[i] = esx_driver::DomainState::Shutoff.as_str().to_string();
        }
    }
    if pending.is_empty() {
        return out;
    }
    // Paused domains are the ones listed as PAUSED; one call instead of one per domain.
    let paused: std::collections::HashSet<esx_domain::Uuid> = c
        .connect_list_all_domains(flags::list_domains::PAUSED)
        .await
        .map(|v| v.into_iter().map(|d| d.uuid).collect())
        .unwrap_or_default();
    for i in pending {
        out[i] = if paused.contains(&doms[i].uuid) {
            esx_driver::DomainState::Paused
        } else {
            esx_driver::DomainState::Running
        }
        .as_str()
        .to_string();
    }
    out
}

async fn dominfo(s: &Session, name: &str, o: &mut Out<'_>) -> Result<(), CliError> {
    let c = &s.conn;
    let d = lookup_domain(s, name).await?;
    let info = c.domain_get_info(&d).await?;
    let os = c.domain_get_os_type(&d).await.ok();
    let persistent = c.domain_is_persistent(&d).await.ok();
    let autostart = c.domain_get_autostart(&d).await.ok();
    let managed = c.domain_has_managed_save_image(&d, 0).await.ok();
    if o.json {
        return o.json_value(&json!({
            "id": (d.id >= 0).then_some(d.id), "name": d.name, "uuid": d.uuid.to_string(),
            "os_type": os, "state": info.state.as_str(), "vcpus": info.nr_virt_cpu,
            "cpu_time_ns": info.cpu_time, "max_memory_kib": info.max_mem,
            "used_memory_kib": info.memory, "persistent": persistent, "autostart": autostart,
            "managed_save": managed,
        }));
    }
    let mut t = String::new();
    field(&mut t, 15, "Id:", id_text(d.id));
    field(&mut t, 15, "Name:", &d.name);
    field(&mut t, 15, "UUID:", d.uuid);
    if let Some(os) = &os {
        field(&mut t, 15, "OS Type:", os);
    }
    field(&mut t, 15, "State:", info.state.as_str());
    field(&mut t, 15, "CPU(s):", info.nr_virt_cpu);
    if info.cpu_time != 0 {
        field(
            &mut t,
            15,
            "CPU time:",
            format!("{:.1}s", info.cpu_time as f64 / 1e9),
        );
    }
    field(&mut t, 15, "Max memory:", format!("{} KiB", info.max_mem));
    field(&mut t, 15, "Used memory:", format!("{} KiB", info.memory));
    field(
        &mut t,
        15,
        "Persistent:",
        persistent.map_or("unknown", yes_no),
    );
    if let Some(a) = autostart {
        field(
            &mut t,
            15,
            "Autostart:",
            if a { "enable" } else { "disable" },
        );
    }
    if let Some(m) = managed {
        field(&mut t, 15, "Managed save:", yes_no(m));
    }
    o.print(&t)
}

async fn undefine(
    s: &Session,
    name: &str,
    remove_storage: bool,
    (snapshots, managed, nvram): (bool, bool, bool),
    o: &mut Out<'_>,
) -> Result<(), CliError> {
    let c = &s.conn;
    let d = lookup_domain(s, name).await?;
    let fail = format!("Failed to undefine domain '{}'", d.name);
    if remove_storage {
        // The disks the VM's directory goes away with.
        let xml = c
            .domain_get_xml_desc(&d, flags::domain_xml::INACTIVE)
            .await?;
        let def = esx_domain::Domain::from_xml(&xml).map_err(esx_driver::Error::from)?;
        let disks: Vec<(String, String)> = def
            .devices
            .disks
            .iter()
            .filter(|k| k.device == "disk" && k.disk_type == "file")
            .filter_map(|k| {
                let path = k.source.as_ref()?.path.clone()?;
                Some((k.target.dev.clone(), path))
            })
            .collect();
        let p = Progress::task(c, "delete");
        p.conn
            .domain_delete(&d)
            .await
            .map_err(CliError::failed(fail))?;
        p.finish();
        o.extra(&format!("Domain '{}' has been undefined\n", d.name))?;
        for (target, path) in disks {
            o.extra(&format!("Volume '{target}'({path}) removed.\n"))?;
        }
        return Ok(());
    }
    let mut f = 0;
    if managed {
        f |= flags::undefine::MANAGED_SAVE;
    }
    if snapshots {
        f |= flags::undefine::SNAPSHOTS_METADATA;
    }
    if nvram {
        f |= flags::undefine::NVRAM;
    }
    let r = if f == 0 {
        c.domain_undefine(&d).await
    } else {
        c.domain_undefine_flags(&d, f).await
    };
    r.map_err(CliError::failed(fail))?;
    o.extra(&format!("Domain '{}' has been undefined\n", d.name))
}

async fn vcpucount(
    s: &Session,
    name: &str,
    [maximum, active, live, config, current, guest]: [bool; 6],
    o: &mut Out<'_>,
) -> Result<(), CliError> {
    let c = &s.conn;
    let d = lookup_domain(s, name).await?;
    if guest {
        return Err(CliError::Driver(esx_driver::Error::new(
            esx_driver::ErrorCode::NoSupport,
            "virDomainGetVcpusFlags",
        )));
    }
    if maximum && active {
        return Err(CliError::msg(
            "Options --maximum and --active are mutually exclusive",
        ));
    }
    let max = c
        .domain_get_max_vcpus(&d)
        .await
        .map_err(CliError::failed("Failed to retrieve maximum vcpu count"))?;
    let cur = c
        .domain_vcpu_count(&d)
        .await
        .map_err(CliError::failed("Failed to retrieve current vcpu count"))?;
    let wants_live = live || (current && d.is_active());
    if live && !d.is_active() {
        return Err(CliError::msg(
            "Requested operation is not valid: domain is not running",
        ));
    }
    let one = maximum || active || live || config || current;
    if o.json {
        return o.json_value(&json!({ "maximum": max, "current": cur, "active": d.is_active() }));
    }
    if one {
        let v = if maximum { max } else { cur };
        let _ = wants_live;
        return o.print(&format!("{v}\n"));
    }
    let mut t = String::new();
    t.push_str(&format!("{:<12} {:<12} {:>3}\n", "maximum", "config", max));
    if d.is_active() {
        t.push_str(&format!("{:<12} {:<12} {:>3}\n", "maximum", "live", max));
    }
    t.push_str(&format!("{:<12} {:<12} {:>3}\n", "current", "config", cur));
    if d.is_active() {
        t.push_str(&format!("{:<12} {:<12} {:>3}\n", "current", "live", cur));
    }
    o.print(&t)
}

async fn schedinfo(
    s: &Session,
    name: &str,
    set: impl Iterator<Item = &String>,
    o: &mut Out<'_>,
) -> Result<(), CliError> {
    let c = &s.conn;
    let d = lookup_domain(s, name).await?;
    let (ty, _) = c.domain_get_scheduler_type(&d).await?;
    let mut params = c.domain_get_scheduler_parameters(&d).await?;
    let mut updates = Vec::new();
    for item in set {
        let Some((k, v)) = item.split_once('=') else {
            return Err(CliError::msg(
                "Invalid syntax for --set, expecting name=value",
            ));
        };
        let Some(p) = params.iter().find(|p| p.field == k) else {
            return Err(CliError::msg(format!("invalid scheduler option: {k}")));
        };
        let bad = || CliError::msg(format!("invalid value for '{k}': {v}"));
        let value = match p.value {
            TypedValue::Int(_) => TypedValue::Int(v.parse().map_err(|_| bad())?),
            TypedValue::LLong(_) => TypedValue::LLong(v.parse().map_err(|_| bad())?),
            TypedValue::ULLong(_) => TypedValue::ULLong(v.parse().map_err(|_| bad())?),
        };
        updates.push(TypedParam::new(k, value));
    }
    if !updates.is_empty() {
        c.domain_set_scheduler_parameters(&d, &updates).await?;
        params = c.domain_get_scheduler_parameters(&d).await?;
    }
    if o.json {
        let mut m = serde_json::Map::new();
        m.insert("scheduler".into(), json!(ty));
        for p in &params {
            m.insert(p.field.clone(), param_json(p.value));
        }
        return o.json_value(&serde_json::Value::Object(m));
    }
    let mut t = format!("{:<15}: {ty}\n", "Scheduler");
    for p in &params {
        t.push_str(&format!("{:<15}: {}\n", p.field, p.value));
    }
    o.print(&t)
}

async fn domifaddr(
    s: &Session,
    name: &str,
    only: Option<&str>,
    full: bool,
    source: Option<&str>,
    o: &mut Out<'_>,
) -> Result<(), CliError> {
    use flags::addresses_source as A;
    let d = lookup_domain(s, name).await?;
    let src = match source {
        None | Some("agent") => A::AGENT,
        Some("lease") => A::LEASE,
        Some("arp") => A::ARP,
        Some(other) => return Err(CliError::msg(format!("Unknown data source '{other}'"))),
    };
    let ifaces = s
        .conn
        .domain_interface_addresses(&d, src, 0)
        .await
        .map_err(CliError::failed("Failed to query for interfaces addresses"))?;
    let ifaces: Vec<_> = ifaces
        .into_iter()
        .filter(|i| only.is_none_or(|n| i.name == n || i.hwaddr.as_deref() == Some(n)))
        .collect();
    if o.json {
        let v: Vec<_> = ifaces
            .iter()
            .map(|i| {
                json!({ "name": i.name, "hwaddr": i.hwaddr, "addrs": i.addrs.iter().map(|a| json!({
                    "type": if a.addr.is_ipv4() { "ipv4" } else { "ipv6" },
                    "addr": a.addr.to_string(), "prefix": a.prefix })).collect::<Vec<_>>() })
            })
            .collect();
        return o.json_value(&serde_json::Value::Array(v));
    }
    let mut t = String::new();
    if !o.quiet {
        t.push_str(&format!(
            " {:<10} {:<20} {:<8}     {}\n{}\n",
            "Name",
            "MAC address",
            "Protocol",
            "Address",
            "-".repeat(79)
        ));
    }
    for i in &ifaces {
        let hw = i.hwaddr.clone().unwrap_or_else(|| "N/A".into());
        if i.addrs.is_empty() {
            t.push_str(&format!(
                " {:<10} {:<17}    {:<12} {}\n",
                i.name, hw, "N/A", "N/A"
            ));
        }
        for (j, a) in i.addrs.iter().enumerate() {
            let ty = if a.addr.is_ipv4() { "ipv4" } else { "ipv6" };
            let addr = format!("{}/{}", a.addr, a.prefix);
            let (n, h) = if full || j == 0 {
                (i.name.as_str(), hw.as_str())
            } else {
                ("-", "-")
            };
            t.push_str(&format!(" {n:<10} {h:<17}    {ty:<12} {addr}\n"));
        }
    }
    o.print(&t)
}

#[allow(clippy::too_many_arguments)]
async fn migrate(
    s: &Session,
    d: &Domain,
    desturi: &str,
    migrateuri: Option<&str>,
    f: u32,
    dname: Option<&str>,
    verbose: bool,
    o: &mut Out<'_>,
) -> Result<(), CliError> {
    let dest = crate::session::Session::open(desturi, false).await?;
    let uri = match dest
        .conn
        .domain_migrate_prepare(migrateuri, f, dname, 0)
        .await
    {
        Ok(u) => u,
        Err(e) => {
            dest.close().await;
            return Err(e.into());
        }
    };
    let p = Progress::task(&s.conn, "migrate");
    let r = p.conn.domain_migrate_perform(d, &uri, f, dname, 0).await;
    p.finish();
    if let Err(e) = r {
        dest.close().await;
        return Err(e.into());
    }
    let r = dest
        .conn
        .domain_migrate_finish(dname.unwrap_or(&d.name), &uri, f)
        .await;
    dest.close().await;
    r?;
    if verbose {
        o.extra("Migration: [100 %]\n")?;
    }
    Ok(())
}

/// The editor virsh would run: `$VISUAL`, else `$EDITOR`, else `vi`.
pub(crate) fn editor() -> String {
    std::env::var("VISUAL")
        .ok()
        .filter(|v| !v.is_empty())
        .or_else(|| std::env::var("EDITOR").ok().filter(|v| !v.is_empty()))
        .unwrap_or_else(|| "vi".into())
}

/// `edit`: writes the domain's XML (inactive, with secrets) to a temporary file, runs `editor`
/// on it, and defines the result, which edits the existing VM.
pub async fn edit_with(
    c: &Connection,
    d: &Domain,
    editor: &str,
    o: &mut Out<'_>,
) -> Result<(), CliError> {
    let xml = c
        .domain_get_xml_desc(d, flags::domain_xml::SECURE | flags::domain_xml::INACTIVE)
        .await?;
    let path =
        std::env::temp_dir().join(format!("esxsh-edit-{}-{}.xml", std::process::id(), d.uuid));
    std::fs::write(&path, &xml).map_err(|e| CliError::open(&path, &e))?;
    let result = run_editor(editor, &path);
    let edited =
        result.and_then(|()| std::fs::read_to_string(&path).map_err(|e| CliError::open(&path, &e)));
    let _ = std::fs::remove_file(&path);
    let edited = edited?;
    if edited == xml {
        return o.extra(&format!(
            "Domain '{}' XML configuration not changed.\n",
            d.name
        ));
    }
    let nd = c.domain_define_xml(&edited).await?;
    o.extra(&format!("Domain '{}' XML configuration edited.\n", nd.name))
}

fn run_editor(editor: &str, path: &Path) -> Result<(), CliError> {
    // The editor may carry arguments (`EDITOR="code -w"`), as a shell would split them.
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{editor} \"$1\""))
        .arg("esxsh-editor")
        .arg(path)
        .status()
        .map_err(|e| {
            CliError::msg(format!(
                "cannot run editor '{editor}': {}",
                crate::error::strerror(&e)
            ))
        })?;
    if !status.success() {
        return Err(CliError::msg(format!("{editor}: command failed: {status}")));
    }
    Ok(())
}

fn event_words(k: &DomainEventKind) -> (&'static str, String) {
    match k {
        DomainEventKind::Defined => ("Defined", "Added".into()),
        DomainEventKind::Undefined => ("Undefined", "Removed".into()),
        DomainEventKind::Started => ("Started", "Booted".into()),
        DomainEventKind::Suspended => ("Suspended", "Paused".into()),
        DomainEventKind::Resumed => ("Resumed", "Unpaused".into()),
        DomainEventKind::Stopped => ("Stopped", "Shutdown".into()),
        DomainEventKind::Migrated { .. } => ("Started", "Migrated".into()),
        DomainEventKind::Renamed { .. } => ("Defined", "Renamed".into()),
    }
}

async fn events(
    c: &Connection,
    filter: Option<Domain>,
    looping: bool,
    timeout: Option<u64>,
    timestamp: bool,
    o: &mut Out<'_>,
) -> Result<(), CliError> {
    let mut stream = c.domain_events().await?;
    let deadline = timeout.map(|t| tokio::time::Instant::now() + std::time::Duration::from_secs(t));
    let mut count = 0u64;
    let interrupted = tokio::signal::ctrl_c();
    tokio::pin!(interrupted);
    loop {
        let next = async {
            match deadline {
                Some(dl) => tokio::time::timeout_at(dl, stream.next()).await.ok(),
                None => Some(stream.next().await),
            }
        };
        let ev = tokio::select! {
            ev = next => ev,
            _ = &mut interrupted => break,
        };
        let Some(ev) = ev else {
            o.print("event loop timed out\n")?;
            break;
        };
        let Some(ev) = ev else { break };
        let ev = ev?;
        if filter.as_ref().is_some_and(|f| f.uuid != ev.domain.uuid) {
            continue;
        }
        count += 1;
        let (word, detail) = event_words(&ev.kind);
        let when = if timestamp {
            format!("{}: ", crate::timefmt::now_utc_millis())
        } else {
            String::new()
        };
        if o.json {
            let mut v = json!({ "event": "lifecycle", "domain": ev.domain.name,
                "uuid": ev.domain.uuid.to_string(), "type": word, "detail": detail });
            if let DomainEventKind::Migrated { from, to } = &ev.kind {
                v["from"] = json!(from);
                v["to"] = json!(to);
            }
            if let DomainEventKind::Renamed { old_name } = &ev.kind {
                v["old_name"] = json!(old_name);
            }
            if timestamp {
                v["timestamp"] = json!(crate::timefmt::now_utc_millis());
            }
            o.print(&format!("{v}\n"))?;
        } else {
            o.print(&format!(
                "{when}event 'lifecycle' for domain '{}': {word} {detail}\n",
                ev.domain.name
            ))?;
        }
        if !looping {
            break;
        }
    }
    if !o.json {
        o.print(&format!("events received: {count}\n"))?;
    }
    Ok(())
}
