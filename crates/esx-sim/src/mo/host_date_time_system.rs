//! `HostDateTimeSystem`: a host's clock, time zone and NTP configuration (`dateTimeInfo`,
//! `QueryDateTime`, `UpdateDateTime`, `UpdateDateTimeConfig`, `QueryAvailableTimeZones`,
//! `RefreshDateTimeSystem`, `TestTimeService`).

use std::collections::BTreeMap;

use esx_vim::{
    Any, HostDateTimeInfo, HostDateTimeSystemTimeZone, HostNtpConfig, Request, Response,
};

use crate::fault::{Fault, MethodResult};
use crate::property::Top;
use crate::state::{now, Ctx, MoRef, State};

/// The WSDL type.
pub const TYPE: &str = "HostDateTimeSystem";

/// Each host's clock offset and date/time configuration, by host id (absent: a fresh host's).
#[derive(Debug, Default)]
pub struct DateTimes {
    hosts: BTreeMap<String, HostClock>,
}

#[derive(Debug, Clone)]
struct HostClock {
    /// How far the host's clock is from the simulator's (set by `UpdateDateTime`).
    offset: chrono::Duration,
    info: HostDateTimeInfo,
}

fn utc() -> HostDateTimeSystemTimeZone {
    HostDateTimeSystemTimeZone {
        key: "UTC".into(),
        name: "UTC".into(),
        description: "UTC".into(),
        gmt_offset: 0,
    }
}

/// A fresh host's configuration: UTC (the only zone ESXi keeps), NTP as the clock protocol,
/// no server configured yet.
fn fresh() -> HostClock {
    HostClock {
        offset: chrono::Duration::zero(),
        info: HostDateTimeInfo {
            time_zone: utc(),
            system_clock_protocol: Some("ntp".into()),
            ntp_config: Some(HostNtpConfig {
                server: Vec::new(),
                config_file: Vec::new(),
            }),
            enabled: Some(false),
            ..Default::default()
        },
    }
}

/// Host `host`'s date/time system: `dateTimeSystem` on ESXi, `dateTimeSystem-N` for vCenter's `host-N`.
pub const PER_HOST: crate::mo::host_system::PerHost = crate::mo::host_system::PerHost {
    ty: TYPE,
    prefix: "dateTimeSystem",
    esx_id: "dateTimeSystem",
};

/// The id of host `host`'s date/time system.
pub fn id_for(host: &MoRef) -> String {
    PER_HOST.id_for(host)
}

/// The reference of host `host`'s date/time system.
pub fn ref_for(host: &MoRef) -> MoRef {
    PER_HOST.ref_for(host)
}

/// Creates host `host`'s date/time system (when the host is created).
pub fn insert_for_host(state: &mut State, host: &MoRef) {
    PER_HOST.insert(state, host)
}

/// The host whose date/time system is `this`.
fn host_of(state: &State, this: &MoRef) -> MethodResult<MoRef> {
    PER_HOST.host_of(state, this)
}

fn clock(state: &State, host: &MoRef) -> HostClock {
    state
        .managers
        .date_times
        .hosts
        .get(&host.value)
        .cloned()
        .unwrap_or_else(fresh)
}

fn clock_mut<'a>(state: &'a mut State, host: &MoRef) -> &'a mut HostClock {
    state
        .managers
        .date_times
        .hosts
        .entry(host.value.clone())
        .or_insert_with(fresh)
}

/// The host's current time.
pub fn host_time(state: &State, host: &MoRef) -> esx_vim::DateTime {
    now() + clock(state, host).offset
}

/// Properties of a date/time system.
pub fn property(state: &State, r: &MoRef, name: &str) -> Top {
    let host = host_of(state, r).ok()?;
    Some(match name {
        "dateTimeInfo" => Some(Any::from(clock(state, &host).info)),
        _ => return None,
    })
}

/// Whether `method` only reads a date/time system.
pub fn is_read(method: &str) -> bool {
    matches!(
        method,
        "QueryDateTime" | "QueryAvailableTimeZones" | "TestTimeService"
    )
}

/// `QueryDateTime`, `QueryAvailableTimeZones`, `TestTimeService`.
pub fn handle_read(state: &State, _ctx: &Ctx, req: &Request) -> Option<MethodResult<Response>> {
    let run = || -> MethodResult<Response> {
        Ok(match req {
            Request::QueryDateTime(q) => {
                let host = host_of(state, &q.this)?;
                Response::QueryDateTime(Box::new(esx_vim::QueryDateTimeResponse {
                    returnval: host_time(state, &host),
                }))
            }
            Request::QueryAvailableTimeZones(q) => {
                host_of(state, &q.this)?;
                Response::QueryAvailableTimeZones(Box::new(
                    esx_vim::QueryAvailableTimeZonesResponse {
                        returnval: vec![utc()],
                    },
                ))
            }
            Request::TestTimeService(q) => {
                let host = host_of(state, &q.this)?;
                let info = clock(state, &host).info;
                let servers = info.ntp_config.map(|c| c.server).unwrap_or_default();
                let working = info.enabled == Some(true) && !servers.is_empty();
                Response::TestTimeService(Box::new(esx_vim::TestTimeServiceResponse {
                    returnval: Some(esx_vim::HostDateTimeSystemServiceTestResult {
                        working_normally: working,
                        report: if working {
                            vec![format!("synchronised with {}", servers.join(", "))]
                        } else {
                            vec!["no time server configured or enabled".into()]
                        },
                    }),
                }))
            }
            _ => return Err(Fault::invalid_argument("method")),
        })
    };
    is_read(req.method()).then(run)
}

/// `UpdateDateTimeConfig`, `UpdateDateTime`, `RefreshDateTimeSystem`; gives any other request
/// back.
pub fn handle(
    state: &mut State,
    _ctx: &Ctx,
    req: Request,
) -> Result<MethodResult<Response>, Request> {
    Ok(match req {
        Request::UpdateDateTimeConfig(q) => (|| {
            let host = host_of(state, &q.this)?;
            let c = q.config;
            if let Some(tz) = &c.time_zone {
                if tz != "UTC" {
                    return Err(Fault::invalid_argument("config.timeZone"));
                }
            }
            if let Some(p) = &c.protocol {
                if p != "ntp" && p != "ptp" {
                    return Err(Fault::invalid_argument("config.protocol"));
                }
            }
            if let Some(n) = &c.ntp_config {
                if n.server
                    .iter()
                    .any(|s| s.trim().is_empty() || s.contains(char::is_whitespace))
                {
                    return Err(Fault::invalid_argument("config.ntpConfig.server"));
                }
            }
            let ck = clock_mut(state, &host);
            if c.reset_to_factory_defaults == Some(true) {
                *ck = fresh();
            }
            if let Some(n) = c.ntp_config {
                ck.info.ntp_config = Some(n);
            }
            if let Some(p) = c.ptp_config {
                ck.info.ptp_config = Some(p);
            }
            if let Some(p) = c.protocol {
                ck.info.system_clock_protocol = Some(p);
            }
            if let Some(e) = c.enabled {
                ck.info.enabled = Some(e);
            }
            if let Some(d) = c.disable_events {
                ck.info.disable_events = Some(d);
            }
            if let Some(d) = c.disable_fallback {
                ck.info.disable_fallback = Some(d);
            }
            Ok(Response::UpdateDateTimeConfig(Box::new(
                esx_vim::UpdateDateTimeConfigResponse {},
            )))
        })(),
        Request::UpdateDateTime(q) => (|| {
            let host = host_of(state, &q.this)?;
            let offset = q.date_time.signed_duration_since(now());
            clock_mut(state, &host).offset = offset;
            Ok(Response::UpdateDateTime(Box::new(
                esx_vim::UpdateDateTimeResponse {},
            )))
        })(),
        Request::RefreshDateTimeSystem(q) => (|| {
            host_of(state, &q.this)?;
            Ok(Response::RefreshDateTimeSystem(Box::new(
                esx_vim::RefreshDateTimeSystemResponse {},
            )))
        })(),
        other => return Err(other),
    })
}
