//! `ExtensionManager`: the extensions a fresh vCenter 7.0.3 has registered (ESXi: none),
//! `FindExtension`, `RegisterExtension`, `UnregisterExtension`, `UpdateExtension` and
//! `QueryManagedBy`.

use std::collections::BTreeMap;

use esx_vim::{
    Any, ArrayOfExtension, BaseDescription, Description, Extension, ExtensionClientInfo,
    ExtensionServerInfo, Request, Response,
};

use crate::config::Flavor;
use crate::fault::{Fault, MethodResult};
use crate::property::Top;
use crate::state::{moref, Ctx, Mo, MoRef, State};

/// The extensions registered now, by key (`None` until the first change: the flavor's own).
#[derive(Debug, Default)]
pub struct Extensions {
    changed: Option<BTreeMap<String, Extension>>,
}

/// A fresh vCenter's extensions: key, label, version, server path, server type.
const VCENTER: &[(&str, &str, &str, &str, &str)] = &[
    (
        "com.vmware.vim.sms",
        "VMware vCenter Storage Monitoring Service",
        "7.0.3",
        "/sms/sdk",
        "SOAP",
    ),
    (
        "com.vmware.vim.eam",
        "vSphere ESX Agent Manager",
        "7.0.3",
        "/eam/sdk",
        "SOAP",
    ),
    (
        "com.vmware.vcIntegrity",
        "VMware vSphere Lifecycle Manager",
        "7.0.3",
        "/vci/sdk",
        "SOAP",
    ),
    (
        "com.vmware.rbd",
        "VMware vSphere Auto Deploy",
        "7.0.3",
        "/rbd/sdk",
        "SOAP",
    ),
    (
        "com.vmware.imagebuilder",
        "VMware vSphere ESXi Image Builder",
        "7.0.3",
        "/imagebuilder/sdk",
        "SOAP",
    ),
    (
        "com.vmware.vsan.health",
        "VMware vSAN Health Service",
        "7.0.3",
        "/vsanHealth",
        "HTTPS",
    ),
    (
        "com.vmware.vmcam",
        "VMware vSphere Authentication Proxy",
        "7.0.3",
        "/vmcam",
        "HTTPS",
    ),
    (
        "com.vmware.vim.vsm",
        "VMware vService Manager",
        "7.0.3",
        "/vsm/sdk",
        "SOAP",
    ),
    (
        "com.vmware.vlcm.client",
        "vSphere Lifecycle Manager Client",
        "7.0.3",
        "/ui/vlcm",
        "HTTPS",
    ),
    (
        "com.vmware.vim.stats.report",
        "vCenter Server Statistics Report",
        "7.0.3",
        "/statsreport",
        "HTTPS",
    ),
];

fn description(label: &str) -> BaseDescription {
    BaseDescription::from(Description {
        label: label.to_owned(),
        summary: label.to_owned(),
    })
}

fn builtin(flavor: Flavor, thumbprint: &str) -> BTreeMap<String, Extension> {
    if flavor == Flavor::Esx {
        return BTreeMap::new();
    }
    let heartbeat = chrono::DateTime::from_timestamp(1_700_000_000, 0)
        .unwrap_or_default()
        .fixed_offset();
    VCENTER
        .iter()
        .map(|(key, label, version, path, ty)| {
            let ext = Extension {
                description: description(label),
                key: (*key).to_owned(),
                company: Some("VMware, Inc.".to_owned()),
                r#type: None,
                version: (*version).to_owned(),
                subject_name: None,
                server: vec![ExtensionServerInfo {
                    url: format!("https://vcenter.sim.local:443{path}"),
                    description: description(label),
                    company: "VMware, Inc.".to_owned(),
                    r#type: (*ty).to_owned(),
                    admin_email: vec!["noreply@vmware.com".to_owned()],
                    server_thumbprint: Some(thumbprint.to_owned()),
                }],
                client: vec![ExtensionClientInfo {
                    version: (*version).to_owned(),
                    description: description(label),
                    company: "VMware, Inc.".to_owned(),
                    r#type: "vsphere-client-remote".to_owned(),
                    url: format!("https://vcenter.sim.local:443{path}"),
                }],
                last_heartbeat_time: heartbeat,
                shown_in_solution_manager: Some(false),
                ..Default::default()
            };
            ((*key).to_owned(), ext)
        })
        .collect()
}

/// The registered extensions.
fn current(state: &State) -> BTreeMap<String, Extension> {
    match &state.managers.extensions.changed {
        Some(m) => m.clone(),
        None => builtin(state.flavor(), &state.thumbprint),
    }
}

fn current_mut(state: &mut State) -> &mut BTreeMap<String, Extension> {
    let builtin = builtin(state.flavor(), &state.thumbprint);
    state.managers.extensions.changed.get_or_insert(builtin)
}

/// Properties of the extension manager.
pub fn property(state: &State, name: &str) -> Top {
    Some(match name {
        "extensionList" => Some(Any::from(ArrayOfExtension {
            extension: current(state).into_values().collect(),
        })),
        _ => return None,
    })
}

fn check_this(state: &State, this: &MoRef) -> MethodResult<()> {
    match state.lookup(this)? {
        Mo::Manager("ExtensionManager") => Ok(()),
        _ => Err(Fault::not_found(this)),
    }
}

fn not_found(key: &str) -> Fault {
    Fault::not_found_plain(&format!("The extension {key} is not registered."))
}

/// Whether `method` is one of the extension manager's reads.
pub fn is_read(method: &str) -> bool {
    matches!(method, "FindExtension" | "QueryManagedBy")
}

/// `FindExtension` and `QueryManagedBy`.
pub fn handle_read(state: &State, _ctx: &Ctx, req: &Request) -> Option<MethodResult<Response>> {
    let run = || -> MethodResult<Response> {
        Ok(match req {
            Request::FindExtension(q) => {
                check_this(state, &q.this)?;
                let returnval = current(state).remove(&q.extension_key);
                Response::FindExtension(Box::new(esx_vim::FindExtensionResponse { returnval }))
            }
            Request::QueryManagedBy(q) => {
                check_this(state, &q.this)?;
                let mut returnval: Vec<MoRef> = state
                    .objects
                    .iter()
                    .filter_map(|(id, m)| match m {
                        Mo::VirtualMachine(v)
                            if v.config
                                .managed_by
                                .as_ref()
                                .is_some_and(|b| b.extension_key == q.extension_key) =>
                        {
                            Some(moref("VirtualMachine", id))
                        }
                        _ => None,
                    })
                    .collect();
                returnval.sort();
                Response::QueryManagedBy(Box::new(esx_vim::QueryManagedByResponse { returnval }))
            }
            _ => return Err(Fault::invalid_argument("method")),
        })
    };
    is_read(req.method()).then(run)
}

/// `RegisterExtension`, `UnregisterExtension` and `UpdateExtension`; gives any other request
/// back.
pub fn handle(
    state: &mut State,
    _ctx: &Ctx,
    req: Request,
) -> Result<MethodResult<Response>, Request> {
    Ok(match req {
        Request::RegisterExtension(q) => (|| {
            check_this(state, &q.this)?;
            let key = q.extension.key.clone();
            if key.is_empty() {
                return Err(Fault::invalid_argument("extension.key"));
            }
            if current(state).contains_key(&key) {
                return Err(Fault::invalid_argument("extension.key"));
            }
            let mut ext = q.extension;
            ext.last_heartbeat_time = crate::state::now();
            current_mut(state).insert(key, ext);
            Ok(Response::RegisterExtension(Box::new(
                esx_vim::RegisterExtensionResponse {},
            )))
        })(),
        Request::UpdateExtension(q) => (|| {
            check_this(state, &q.this)?;
            let key = q.extension.key.clone();
            if !current(state).contains_key(&key) {
                return Err(not_found(&key));
            }
            let mut ext = q.extension;
            ext.last_heartbeat_time = crate::state::now();
            current_mut(state).insert(key, ext);
            Ok(Response::UpdateExtension(Box::new(
                esx_vim::UpdateExtensionResponse {},
            )))
        })(),
        Request::UnregisterExtension(q) => (|| {
            check_this(state, &q.this)?;
            if current_mut(state).remove(&q.extension_key).is_none() {
                return Err(not_found(&q.extension_key));
            }
            Ok(Response::UnregisterExtension(Box::new(
                esx_vim::UnregisterExtensionResponse {},
            )))
        })(),
        other => return Err(other),
    })
}
