//! `DistributedVirtualSwitchManager` (`DVSManager` on vCenter, `ha-dvsmanager` on ESXi) and the
//! routing of the methods of distributed switches and their port groups.

use esx_vim::*;

use super::distributed_virtual_portgroup::{self as dvpg, PortgroupSpec};
use super::distributed_virtual_switch::{self as dvs, DvsMo};
use crate::dispatch::run_task;
use crate::fault::{Fault, MethodResult};
use crate::state::{moref, Ctx, Mo, MoRef, State};

macro_rules! resp {
    ($v:ident, $t:ident { $($f:tt)* }) => {
        Response::$v(Box::new($t { $($f)* }))
    };
}

/// The switch versions this vCenter offers (`QueryAvailableDvsSpec`).
const VERSIONS: &[&str] = &["6.5.0", "6.6.0", "7.0.0", "7.0.2", "7.0.3"];

/// Whether `method` is one of the read-only methods handled here.
pub fn is_read(method: &str) -> bool {
    matches!(
        method,
        "QueryAvailableDvsSpec"
            | "QueryDvsByUuid"
            | "QueryDvsConfigTarget"
            | "QueryCompatibleHostForNewDvs"
            | "QueryCompatibleHostForExistingDvs"
            | "FetchDVPorts"
            | "FetchDVPortKeys"
    )
}

fn switches(state: &State) -> impl Iterator<Item = (MoRef, &DvsMo)> {
    state.objects.iter().filter_map(|(id, m)| match m {
        Mo::Dvs(d) => Some((moref("VmwareDistributedVirtualSwitch", id), &**d)),
        _ => None,
    })
}

fn expect_manager(state: &State, r: &MoRef) -> MethodResult<()> {
    match state.get(r) {
        Some(Mo::Manager("DistributedVirtualSwitchManager")) => Ok(()),
        _ => Err(Fault::not_found(r)),
    }
}

fn product(version: &str) -> DistributedVirtualSwitchProductSpec {
    DistributedVirtualSwitchProductSpec {
        name: Some("DVS".into()),
        vendor: Some("VMware, Inc.".into()),
        version: Some(version.to_owned()),
        forwarding_class: Some("etherswitch".into()),
        ..Default::default()
    }
}

/// The hosts under `container` (a folder, datacenter or compute resource).
fn hosts_under(state: &State, container: &MoRef, recursive: bool) -> Vec<MoRef> {
    let types = ["HostSystem".to_owned()];
    let mut v = super::view_manager::contents(state, container, &types, recursive);
    v.sort();
    v
}

/// The read-only methods; `None` when `req` is not one of them.
pub fn handle_read(state: &State, _ctx: &Ctx, req: &Request) -> Option<MethodResult<Response>> {
    let r = || -> MethodResult<Response> {
        Ok(match req {
            Request::QueryAvailableDvsSpec(q) => {
                expect_manager(state, &q.this)?;
                let returnval = match (state.flavor(), q.recommended) {
                    (crate::config::Flavor::Esx, _) => Vec::new(),
                    (_, Some(true)) => vec![product(dvs::VERSION)],
                    _ => VERSIONS.iter().map(|v| product(v)).collect(),
                };
                resp!(
                    QueryAvailableDvsSpec,
                    QueryAvailableDvsSpecResponse { returnval }
                )
            }
            Request::QueryDvsByUuid(q) => {
                expect_manager(state, &q.this)?;
                let found = switches(state).find(|(_, d)| d.uuid == q.uuid);
                let Some((r, _)) = found else {
                    return Err(Fault::not_found_plain(&format!(
                        "The distributed virtual switch with UUID '{}' was not found.",
                        q.uuid
                    )));
                };
                resp!(
                    QueryDvsByUuid,
                    QueryDvsByUuidResponse { returnval: Some(r) }
                )
            }
            Request::QueryDvsConfigTarget(q) => {
                expect_manager(state, &q.this)?;
                if let Some(h) = &q.host {
                    match state.get(h) {
                        Some(Mo::HostSystem(_)) => {}
                        _ => return Err(Fault::not_found(h)),
                    }
                }
                let mut target = DVSManagerDvsConfigTarget::default();
                for (r, d) in switches(state) {
                    if q.dvs.as_ref().is_some_and(|x| x != &r)
                        || q.host.as_ref().is_some_and(|h| !d.hosts.contains(h))
                    {
                        continue;
                    }
                    target
                        .distributed_virtual_switch
                        .push(DistributedVirtualSwitchInfo {
                            switch_name: d.name.clone(),
                            switch_uuid: d.uuid.clone(),
                            distributed_virtual_switch: r.clone(),
                            network_reservation_supported: Some(true),
                        });
                    for p in &d.portgroups {
                        let Ok(pg) = dvpg::pg_of(state, p) else {
                            continue;
                        };
                        target.distributed_virtual_portgroup.push(
                            DistributedVirtualPortgroupInfo {
                                switch_name: d.name.clone(),
                                switch_uuid: d.uuid.clone(),
                                portgroup_name: pg.name.clone(),
                                portgroup_key: pg.key.clone(),
                                portgroup_type: pg.kind.clone(),
                                uplink_portgroup: pg.uplink,
                                portgroup: p.clone(),
                                network_reservation_supported: Some(true),
                                backing_type: Some("standard".into()),
                                ..Default::default()
                            },
                        );
                    }
                }
                resp!(
                    QueryDvsConfigTarget,
                    QueryDvsConfigTargetResponse { returnval: target }
                )
            }
            Request::QueryCompatibleHostForNewDvs(q) => {
                expect_manager(state, &q.this)?;
                state.lookup(&q.container)?;
                let returnval = hosts_under(state, &q.container, q.recursive);
                resp!(
                    QueryCompatibleHostForNewDvs,
                    QueryCompatibleHostForNewDvsResponse { returnval }
                )
            }
            Request::QueryCompatibleHostForExistingDvs(q) => {
                expect_manager(state, &q.this)?;
                state.lookup(&q.container)?;
                dvs::dvs_of(state, &q.dvs)?;
                let returnval = hosts_under(state, &q.container, q.recursive);
                resp!(
                    QueryCompatibleHostForExistingDvs,
                    QueryCompatibleHostForExistingDvsResponse { returnval }
                )
            }
            Request::FetchDVPorts(q) => {
                let returnval = dvs::fetch_ports(state, &q.this, q.criteria.as_ref())?;
                resp!(FetchDVPorts, FetchDVPortsResponse { returnval })
            }
            Request::FetchDVPortKeys(q) => {
                let returnval = dvs::fetch_ports(state, &q.this, q.criteria.as_ref())?
                    .into_iter()
                    .map(|p| p.key)
                    .collect();
                resp!(FetchDVPortKeys, FetchDVPortKeysResponse { returnval })
            }
            _ => return Err(Fault::invalid_argument("method")),
        })
    };
    is_read(req.method()).then(r)
}

/// The methods that change switches and port groups (`CreateDVS_Task`, `AddDVPortgroup_Task`,
/// `ReconfigureDvs_Task`, `ReconfigureDVPortgroup_Task`, `Destroy_Task` of either); gives the
/// request back when it is not one of them.
pub fn handle(
    state: &mut State,
    ctx: &Ctx,
    req: Request,
) -> Result<MethodResult<Response>, Request> {
    let method = req.method();
    let is_dvs = |s: &State, r: &MoRef| matches!(s.get(r), Some(Mo::Dvs(_) | Mo::DvPortgroup(_)));
    Ok(match req {
        Request::CreateDVS_Task(q) => {
            let folder = q.this.clone();
            let spec = q.spec.clone();
            if let Err(f) = state.lookup(&folder) {
                return Ok(Err(f));
            }
            let t = run_task(state, ctx, &folder.clone(), method, move |s| {
                dvs::create(s, &folder, &spec).map(|r| Some(Any::from(r)))
            });
            Ok(resp!(
                CreateDVS_Task,
                CreateDVS_TaskResponse { returnval: t }
            ))
        }
        Request::AddDVPortgroup_Task(q) => {
            let r = q.this.clone();
            let specs = match dvs::dvs_of(state, &r).and_then(|_| {
                q.spec
                    .iter()
                    .map(PortgroupSpec::from_spec)
                    .collect::<MethodResult<Vec<_>>>()
            }) {
                Ok(s) => s,
                Err(f) => return Ok(Err(f)),
            };
            let t = run_task(state, ctx, &r.clone(), method, move |s| {
                for spec in &specs {
                    dvs::add_portgroup(s, &r, spec, false)?;
                }
                Ok(None)
            });
            Ok(resp!(
                AddDVPortgroup_Task,
                AddDVPortgroup_TaskResponse { returnval: t }
            ))
        }
        Request::ReconfigureDvs_Task(q) => {
            let r = q.this.clone();
            if let Err(f) = dvs::dvs_of(state, &r) {
                return Ok(Err(f));
            }
            let t = run_task(state, ctx, &r.clone(), method, move |s| {
                dvs::reconfigure(s, &r, &q.spec).map(|_| None)
            });
            Ok(resp!(
                ReconfigureDvs_Task,
                ReconfigureDvs_TaskResponse { returnval: t }
            ))
        }
        Request::ReconfigureDVPortgroup_Task(q) => {
            let r = q.this.clone();
            if let Err(f) = dvpg::pg_of(state, &r) {
                return Ok(Err(f));
            }
            let t = run_task(state, ctx, &r.clone(), method, move |s| {
                dvpg::reconfigure(s, &r, &q.spec).map(|_| None)
            });
            Ok(resp!(
                ReconfigureDVPortgroup_Task,
                ReconfigureDVPortgroup_TaskResponse { returnval: t }
            ))
        }
        Request::Destroy_Task(q) if is_dvs(state, &q.this) => {
            let r = q.this.clone();
            let t = run_task(state, ctx, &r.clone(), method, move |s| {
                match s.get(&r) {
                    Some(Mo::Dvs(_)) => dvs::destroy(s, &r),
                    _ => dvpg::destroy(s, &r),
                }
                .map(|_| None)
            });
            Ok(resp!(Destroy_Task, Destroy_TaskResponse { returnval: t }))
        }
        other => return Err(other),
    })
}
