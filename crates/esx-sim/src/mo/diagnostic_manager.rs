//! `DiagnosticManager`: the log files of the server and its hosts (`QueryDescriptions`) and
//! their lines (`BrowseDiagnosticLog`). The lines are the server's start-up and one line per
//! event the simulator recorded (logins, power operations, reconfigurations, …), in the
//! format of hostd, vpxa, vpxd and the vmkernel.

use esx_vim::{
    BaseDescription, CannotAccessFile, Description, DiagnosticManagerLogDescriptor,
    DiagnosticManagerLogHeader, Request, Response,
};

use crate::config::Flavor;
use crate::fault::{Fault, MethodResult};
use crate::state::{Ctx, Mo, MoRef, State};

/// A log: key, file, creator, description.
type Log = (&'static str, &'static str, &'static str, &'static str);

/// The logs of an ESXi host.
const HOST_LOGS: &[Log] = &[
    (
        "hostd",
        "/var/run/log/hostd.log",
        "hostd",
        "Server log in 'plain' format",
    ),
    (
        "vmkernel",
        "/var/run/log/vmkernel.log",
        "vmkernel",
        "Server log in 'plain' format",
    ),
];

/// The vCenter agent's log, on hosts a vCenter manages.
const VPXA_LOG: Log = (
    "vpxa",
    "/var/run/log/vpxa.log",
    "vpxa",
    "vCenter agent log in 'plain' format",
);

/// The logs of vCenter itself.
const VPXD_LOGS: &[Log] = &[
    (
        "vpxd:vpxd.log",
        "/var/log/vmware/vpxd/vpxd.log",
        "vpxd",
        "vCenter server log in 'plain' format",
    ),
    (
        "vpxd-profiler:vpxd-profiler.log",
        "/var/log/vmware/vpxd/vpxd-profiler.log",
        "vpxd-profiler",
        "vCenter server profiling log in 'plain' format",
    ),
];

fn check_this(state: &State, this: &MoRef) -> MethodResult<()> {
    match state.lookup(this)? {
        Mo::Manager("DiagnosticManager") => Ok(()),
        _ => Err(Fault::not_found(this)),
    }
}

/// The logs of `host` (vCenter: of the server itself when `None`; ESXi ignores `host`).
fn logs(state: &State, host: Option<&MoRef>) -> MethodResult<Vec<Log>> {
    if let Some(h) = host {
        crate::mo::host_system::host(state, h)?;
    }
    Ok(match (state.flavor(), host) {
        (Flavor::Esx, _) => HOST_LOGS.to_vec(),
        (Flavor::Vcenter, None) => VPXD_LOGS.to_vec(),
        (Flavor::Vcenter, Some(_)) => {
            let mut v = HOST_LOGS.to_vec();
            v.push(VPXA_LOG);
            v
        }
    })
}

fn descriptor(l: &Log) -> DiagnosticManagerLogDescriptor {
    DiagnosticManagerLogDescriptor {
        key: l.0.to_owned(),
        file_name: l.1.to_owned(),
        creator: l.2.to_owned(),
        format: "plain".to_owned(),
        mime_type: "text/plain".to_owned(),
        info: BaseDescription::from(Description {
            label: l.3.to_owned(),
            summary: l.3.to_owned(),
        }),
    }
}

fn stamp(t: &esx_vim::DateTime) -> String {
    t.to_utc().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// The lines of log `key` (of `host` on vCenter; `None`: the server's own).
pub fn lines(state: &State, key: &str, host: Option<&MoRef>) -> Vec<String> {
    let started = state
        .sessions
        .values()
        .map(|s| s.login_time)
        .chain(state.events.iter().map(|e| e.created))
        .min()
        .unwrap_or_else(crate::state::now);
    let t0 = stamp(&started);
    let about = crate::mo::service_instance::about(state);
    let (proc_name, pid) = match key {
        "hostd" => ("hostd", 2099),
        "vpxa" => ("vpxa", 2581),
        "vmkernel" => ("vmkernel", 0),
        _ => ("vpxd", 17211),
    };
    let mut out = Vec::new();
    if key == "vmkernel" {
        out.push(format!("{t0} cpu0:2097152)Boot Successful"));
        out.push(format!("{t0} cpu1:2097619)Loading module e1000 ..."));
        out.push(format!(
            "{t0} cpu1:2097619)Elf: 2130: module e1000 has license ThirdParty"
        ));
        out.push(format!(
            "{t0} cpu0:2097640)NetPort: 1580: enabled port 0x2000002 with mac 00:50:56:00:00:01"
        ));
    } else {
        out.push(format!(
            "{t0} info {proc_name}[{pid}] [Originator@6876 sub=Default] Supported VMs {}",
            4096
        ));
        // vpxd names vCenter; a host's daemons name ESXi.
        let product = if proc_name == "vpxd" || state.flavor() == Flavor::Esx {
            about.full_name.clone()
        } else {
            format!("VMware ESXi {}", about.version)
        };
        out.push(format!(
            "{t0} info {proc_name}[{pid}] [Originator@6876 sub=Default] {product} started"
        ));
        out.push(format!(
            "{t0} info {proc_name}[{pid}] [Originator@6876 sub=Libs] HTTP server listening on 443"
        ));
    }
    let host_name = host.and_then(|h| state.name_of(h));
    for e in &state.events {
        let names: Vec<String> = e.entities.iter().filter_map(|r| state.name_of(r)).collect();
        if let Some(h) = &host_name {
            // A host's own log shows what happened on it.
            let on_host = e.entities.iter().any(|r| {
                state.name_of(r).as_deref() == Some(h.as_str())
                    || matches!(state.get(r), Some(Mo::VirtualMachine(v)) if Some(&v.host) == host)
            });
            if !on_host && key != "vpxa" {
                continue;
            }
        }
        let t = stamp(&e.created);
        let user = if e.user.is_empty() { "root" } else { &e.user };
        if key == "vmkernel" {
            if e.type_id.contains("PoweredOn") || e.type_id.contains("PoweredOff") {
                out.push(format!(
                    "{t} cpu1:2099001)World: vm {}: {}",
                    names.join(", "),
                    if e.type_id.contains("PoweredOn") {
                        "started"
                    } else {
                        "stopped"
                    }
                ));
            }
            continue;
        }
        out.push(format!(
            "{t} info {proc_name}[{pid}] [Originator@6876 sub=Vimsvc.ha-eventmgr opID=esx-sim-{} user={user}] Event {} : {} on {}",
            e.chain_id,
            e.key,
            e.type_id,
            if names.is_empty() { "-".to_owned() } else { names.join(", ") }
        ));
    }
    out
}

/// Whether `method` only reads the diagnostic manager.
pub fn is_read(method: &str) -> bool {
    matches!(method, "QueryDescriptions" | "BrowseDiagnosticLog")
}

/// `QueryDescriptions` and `BrowseDiagnosticLog`.
pub fn handle_read(state: &State, _ctx: &Ctx, req: &Request) -> Option<MethodResult<Response>> {
    let run = || -> MethodResult<Response> {
        Ok(match req {
            Request::QueryDescriptions(q) => {
                check_this(state, &q.this)?;
                let returnval = logs(state, q.host.as_ref())?
                    .iter()
                    .map(descriptor)
                    .collect();
                Response::QueryDescriptions(Box::new(esx_vim::QueryDescriptionsResponse {
                    returnval,
                }))
            }
            Request::BrowseDiagnosticLog(q) => {
                check_this(state, &q.this)?;
                let host = match state.flavor() {
                    Flavor::Esx => None,
                    Flavor::Vcenter => q.host.as_ref(),
                };
                if !logs(state, host)?.iter().any(|l| l.0 == q.key) {
                    return Err(Fault::new(
                        CannotAccessFile {
                            file: q.key.clone(),
                            ..Default::default()
                        },
                        format!("Cannot access file {}", q.key),
                    ));
                }
                let all = lines(state, &q.key, q.host.as_ref());
                let total = all.len() as i64;
                let start = i64::from(q.start.unwrap_or(1)).clamp(1, total + 1);
                // Without a count: every line from `start` to the end.
                let count = match q.lines {
                    Some(n) if n > 0 => i64::from(n),
                    _ => total,
                };
                let end = (start + count - 1).min(total);
                let line_text = if end >= start {
                    all[(start - 1) as usize..end as usize].to_vec()
                } else {
                    Vec::new()
                };
                Response::BrowseDiagnosticLog(Box::new(esx_vim::BrowseDiagnosticLogResponse {
                    returnval: DiagnosticManagerLogHeader {
                        line_start: i32::try_from(start).unwrap_or(i32::MAX),
                        line_end: i32::try_from(end).unwrap_or(i32::MAX),
                        line_text,
                    },
                }))
            }
            _ => return Err(Fault::invalid_argument("method")),
        })
    };
    is_read(req.method()).then(run)
}
