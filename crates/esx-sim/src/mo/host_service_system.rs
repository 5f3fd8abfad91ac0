//! `HostServiceSystem`: the services of a host (`serviceInfo`) and `StartService`,
//! `StopService`, `RestartService`, `UpdateServicePolicy`, `RefreshServices`,
//! `UninstallService`.

use std::collections::BTreeMap;

use esx_vim::{Any, HostService, HostServiceInfo, Request, Response};

use crate::config::Flavor;
use crate::fault::{Fault, MethodResult};
use crate::property::Top;
use crate::state::{Ctx, MoRef, State};

/// The WSDL type.
pub const TYPE: &str = "HostServiceSystem";

/// Each host's services, by host id (absent: a fresh host's).
#[derive(Debug, Default)]
pub struct Services {
    hosts: BTreeMap<String, Vec<HostService>>,
}

/// A service: key, label, required, running, policy, firewall rulesets.
type ServiceDef = (
    &'static str,
    &'static str,
    bool,
    bool,
    &'static str,
    &'static [&'static str],
);

/// The services of an ESXi 7.0.3 host: key, label, required, running, policy, firewall
/// rulesets. `vpxa` runs when a vCenter manages the host.
const SERVICES: &[ServiceDef] = &[
    ("DCUI", "Direct Console UI", false, true, "on", &[]),
    ("TSM", "ESXi Shell", false, false, "off", &[]),
    ("TSM-SSH", "SSH", false, false, "off", &["sshServer"]),
    ("attestd", "attestd", false, false, "off", &[]),
    ("dpd", "dpd", false, false, "off", &[]),
    ("kmxd", "kmxd", false, false, "off", &[]),
    ("lbtd", "Load-Based Teaming Daemon", false, true, "on", &[]),
    (
        "lwsmd",
        "Active Directory Service",
        false,
        false,
        "off",
        &["activeDirectoryAll"],
    ),
    ("ntpd", "NTP Daemon", false, false, "off", &["ntpClient"]),
    ("pcscd", "PC/SC Smart Card Daemon", false, false, "off", &[]),
    ("ptpd", "PTP Daemon", false, false, "off", &["ptpd"]),
    (
        "sfcbd-watchdog",
        "CIM Server",
        false,
        false,
        "on",
        &["CIMHttpServer", "CIMHttpsServer"],
    ),
    ("slpd", "SLP Server", false, false, "off", &["CIMSLP"]),
    ("snmpd", "SNMP Server", false, false, "on", &["snmp"]),
    ("vdtc", "vdtc", false, false, "off", &[]),
    ("vltd", "vltd", false, true, "on", &[]),
    ("vmsyslogd", "Syslog Server", true, true, "on", &[]),
    (
        "vpxa",
        "VMware vCenter Agent",
        false,
        false,
        "on",
        &["vpxHeartbeats"],
    ),
    ("xorg", "X.Org Server", false, false, "on", &[]),
];

fn fresh(flavor: Flavor) -> Vec<HostService> {
    SERVICES
        .iter()
        .map(
            |(key, label, required, running, policy, rules)| HostService {
                key: (*key).to_owned(),
                label: (*label).to_owned(),
                required: *required,
                uninstallable: false,
                running: *running || (*key == "vpxa" && flavor == Flavor::Vcenter),
                ruleset: rules.iter().map(|r| (*r).to_owned()).collect(),
                policy: (*policy).to_owned(),
                source_package: Some(esx_vim::HostServiceSourcePackage {
                    source_package_name: if *key == "vpxa" { "vpxa" } else { "esx-base" }
                        .to_owned(),
                    description: "This VIB contains all of the base functionality of vSphere ESXi."
                        .to_owned(),
                }),
            },
        )
        .collect()
}

/// Host `host`'s service system: `serviceSystem` on ESXi, `serviceSystem-N` for vCenter's `host-N`.
pub const PER_HOST: crate::mo::host_system::PerHost = crate::mo::host_system::PerHost {
    ty: TYPE,
    prefix: "serviceSystem",
    esx_id: "serviceSystem",
};

/// The id of host `host`'s service system.
pub fn id_for(host: &MoRef) -> String {
    PER_HOST.id_for(host)
}

/// The reference of host `host`'s service system.
pub fn ref_for(host: &MoRef) -> MoRef {
    PER_HOST.ref_for(host)
}

/// Creates host `host`'s service system (when the host is created).
pub fn insert_for_host(state: &mut State, host: &MoRef) {
    PER_HOST.insert(state, host)
}

/// The host whose service system is `this`.
fn host_of(state: &State, this: &MoRef) -> MethodResult<MoRef> {
    PER_HOST.host_of(state, this)
}

/// The services of host `host` now.
pub fn services(state: &State, host: &MoRef) -> Vec<HostService> {
    match state.managers.host_services.hosts.get(&host.value) {
        Some(v) => v.clone(),
        None => fresh(state.flavor()),
    }
}

/// Whether service `key` runs on host `host`.
pub fn running(state: &State, host: &MoRef, key: &str) -> bool {
    services(state, host)
        .iter()
        .any(|s| s.key == key && s.running)
}

fn service_mut<'a>(
    state: &'a mut State,
    host: &MoRef,
    key: &str,
) -> MethodResult<&'a mut HostService> {
    let flavor = state.flavor();
    state
        .managers
        .host_services
        .hosts
        .entry(host.value.clone())
        .or_insert_with(|| fresh(flavor))
        .iter_mut()
        .find(|s| s.key == key)
        .ok_or_else(|| Fault::not_found_plain(&format!("The service {key} was not found.")))
}

/// Properties of a service system.
pub fn property(state: &State, r: &MoRef, name: &str) -> Top {
    let host = host_of(state, r).ok()?;
    Some(match name {
        "serviceInfo" => Some(Any::from(HostServiceInfo {
            service: services(state, &host),
        })),
        _ => return None,
    })
}

/// `StartService`, `StopService`, `RestartService`, `UpdateServicePolicy`, `RefreshServices`,
/// `UninstallService`; gives any other request back.
pub fn handle(
    state: &mut State,
    _ctx: &Ctx,
    req: Request,
) -> Result<MethodResult<Response>, Request> {
    macro_rules! ok {
        ($v:ident, $t:ident) => {
            Ok(Response::$v(Box::new(esx_vim::$t {})))
        };
    }
    Ok(match req {
        Request::StartService(q) => (|| {
            let host = host_of(state, &q.this)?;
            service_mut(state, &host, &q.id)?.running = true;
            ok!(StartService, StartServiceResponse)
        })(),
        Request::StopService(q) => (|| {
            let host = host_of(state, &q.this)?;
            let s = service_mut(state, &host, &q.id)?;
            if s.required {
                return Err(Fault::invalid_state(&format!(
                    "The service {} is required and cannot be stopped.",
                    q.id
                )));
            }
            s.running = false;
            ok!(StopService, StopServiceResponse)
        })(),
        Request::RestartService(q) => (|| {
            let host = host_of(state, &q.this)?;
            service_mut(state, &host, &q.id)?.running = true;
            ok!(RestartService, RestartServiceResponse)
        })(),
        Request::UpdateServicePolicy(q) => (|| {
            let host = host_of(state, &q.this)?;
            if !matches!(q.policy.as_str(), "on" | "off" | "automatic") {
                return Err(Fault::invalid_argument("policy"));
            }
            service_mut(state, &host, &q.id)?.policy = q.policy.clone();
            ok!(UpdateServicePolicy, UpdateServicePolicyResponse)
        })(),
        Request::UninstallService(q) => (|| {
            let host = host_of(state, &q.this)?;
            let s = service_mut(state, &host, &q.id)?;
            if !s.uninstallable {
                return Err(Fault::invalid_state(&format!(
                    "The service {} cannot be uninstalled.",
                    q.id
                )));
            }
            ok!(UninstallService, UninstallServiceResponse)
        })(),
        Request::RefreshServices(q) => (|| {
            host_of(state, &q.this)?;
            ok!(RefreshServices, RefreshServicesResponse)
        })(),
        other => return Err(other),
    })
}
