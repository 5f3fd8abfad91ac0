//! `LicenseManager`: the evaluation licence a fresh server runs on, the licence keys added
//! since, `QueryLicenseSourceAvailability`, `QueryLicenseUsage`, `AddLicense`,
//! `RemoveLicense`, `UpdateLicenseLabel` and `DecodeLicense`.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use esx_vim::{
    Any, ArrayOfLicenseFeatureInfo, ArrayOfLicenseManagerLicenseInfo, BaseLicenseSource,
    EvaluationLicenseSource, KeyAnyValue, KeyValue, LicenseAvailabilityInfo, LicenseFeatureInfo,
    LicenseFeatureInfoState, LicenseManagerEvaluationInfo, LicenseManagerLicenseInfo,
    LicenseUsageInfo, Request, Response,
};

use crate::config::Flavor;
use crate::fault::{Fault, MethodResult};
use crate::property::Top;
use crate::state::{moref, Ctx, Mo, MoRef, State};

/// The evaluation licence's key.
pub const EVAL_KEY: &str = "00000-00000-00000-00000-00000";

/// Length of the evaluation period.
const EVAL_HOURS: i64 = 60 * 24;

/// The id of vCenter's `LicenseAssignmentManager`.
pub const ASSIGNMENT_ID: &str = "LicenseAssignmentManager";

/// The licences added with `AddLicense`, by key, with their labels.
#[derive(Debug, Default)]
pub struct Licenses {
    added: BTreeMap<String, Vec<KeyValue>>,
    /// Licences assigned with `UpdateAssignedLicense`, by entity id.
    pub assigned: BTreeMap<String, String>,
}

/// When the evaluation period started (the first time it was asked for).
fn eval_start() -> i64 {
    static START: OnceLock<i64> = OnceLock::new();
    *START.get_or_init(|| crate::state::now().timestamp())
}

fn remaining_minutes() -> i64 {
    let used = (crate::state::now().timestamp() - eval_start()) / 60;
    (EVAL_HOURS * 60 - used).max(0)
}

fn kv(key: &str, value: Any) -> KeyAnyValue {
    KeyAnyValue {
        key: key.to_owned(),
        value,
    }
}

fn feature_kv(key: &str, label: &str) -> KeyAnyValue {
    kv(
        "feature",
        Any::from(KeyValue {
            key: key.to_owned(),
            value: label.to_owned(),
        }),
    )
}

/// The features the evaluation licence (and a full licence) enables.
const FEATURES: &[(&str, &str)] = &[
    ("esxFull", "ESX Server"),
    ("vsmp", "Up to 768-way virtual SMP"),
    ("vmotion", "vMotion"),
    ("drs", "vSphere DRS"),
    ("das", "vSphere HA"),
    ("dvs", "vSphere Distributed Switch"),
    ("backup", "vSphere Data Protection"),
    ("serialuploadkey", "Upload license keys"),
];

fn eval_properties(flavor: Flavor) -> Vec<KeyAnyValue> {
    let minutes = remaining_minutes();
    let expires = chrono::DateTime::from_timestamp(eval_start() + EVAL_HOURS * 3600, 0)
        .unwrap_or_default()
        .fixed_offset();
    let product = match flavor {
        Flavor::Esx => "VMware ESX Server",
        Flavor::Vcenter => "VMware VirtualCenter Server",
    };
    let mut v = vec![
        kv("ProductName", Any::String(product.to_owned())),
        kv("ProductVersion", Any::String("7.0".to_owned())),
        kv("expirationHours", Any::Long(minutes / 60)),
        kv("expirationMinutes", Any::Long(minutes)),
        kv("expirationDate", Any::DateTime(expires)),
        kv(
            "count_disabled",
            Any::String("This license is unlimited".to_owned()),
        ),
    ];
    v.extend(FEATURES.iter().map(|(k, l)| feature_kv(k, l)));
    v
}

/// The evaluation licence as the server lists it.
pub fn eval_license(flavor: Flavor) -> LicenseManagerLicenseInfo {
    LicenseManagerLicenseInfo {
        license_key: EVAL_KEY.to_owned(),
        edition_key: "eval".to_owned(),
        name: "Product Evaluation".to_owned(),
        total: 0,
        used: Some(0),
        cost_unit: String::new(),
        properties: eval_properties(flavor),
        labels: Vec::new(),
    }
}

/// Whether `key` has the licence key format: five groups of five letters or digits.
pub fn well_formed(key: &str) -> bool {
    let groups: Vec<&str> = key.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .all(|g| g.len() == 5 && g.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// What a (well-formed, non-evaluation) key decodes to.
fn decoded(flavor: Flavor, key: &str, labels: Vec<KeyValue>) -> LicenseManagerLicenseInfo {
    let (edition, name, unit) = match flavor {
        Flavor::Esx => (
            "esx.enterprisePlus.cpuPackage",
            "vSphere 7 Enterprise Plus",
            "cpuPackage",
        ),
        Flavor::Vcenter if key.starts_with('4') || key.starts_with('0') => (
            "vc.standard.instance",
            "vCenter Server 7 Standard",
            "server",
        ),
        Flavor::Vcenter => (
            "esx.enterprisePlus.cpuPackage",
            "vSphere 7 Enterprise Plus",
            "cpuPackage",
        ),
    };
    let mut properties = vec![
        kv("ProductName", Any::String(name.to_owned())),
        kv("ProductVersion", Any::String("7.0".to_owned())),
    ];
    properties.extend(FEATURES.iter().map(|(k, l)| feature_kv(k, l)));
    LicenseManagerLicenseInfo {
        license_key: key.to_owned(),
        edition_key: edition.to_owned(),
        name: name.to_owned(),
        total: if unit == "server" { 1 } else { 16 },
        used: Some(0),
        cost_unit: unit.to_owned(),
        properties,
        labels,
    }
}

/// The licence `key` as currently known (`None` if the server does not have it).
pub fn license(state: &State, key: &str) -> Option<LicenseManagerLicenseInfo> {
    if key == EVAL_KEY {
        return Some(eval_license(state.flavor()));
    }
    let labels = state.managers.licenses.added.get(key)?.clone();
    let mut info = decoded(state.flavor(), key, labels);
    info.used = Some(
        state
            .managers
            .licenses
            .assigned
            .values()
            .filter(|k| k.as_str() == key)
            .count() as i32,
    );
    Some(info)
}

/// Every licence the server has: the evaluation licence, then the added ones.
pub fn licenses(state: &State) -> Vec<LicenseManagerLicenseInfo> {
    let mut v = vec![eval_license(state.flavor())];
    v.extend(
        state
            .managers
            .licenses
            .added
            .keys()
            .filter_map(|k| license(state, k)),
    );
    v
}

fn feature_info() -> Vec<LicenseFeatureInfo> {
    FEATURES
        .iter()
        .filter(|(k, _)| *k != "serialuploadkey")
        .map(|(k, l)| LicenseFeatureInfo {
            key: (*k).to_owned(),
            feature_name: (*l).to_owned(),
            state: Some(LicenseFeatureInfoState::Enabled),
            cost_unit: "cpuPackage".to_owned(),
            edition: Some(false),
            ..Default::default()
        })
        .collect()
}

fn eval_source() -> EvaluationLicenseSource {
    EvaluationLicenseSource {
        remaining_hours: Some(remaining_minutes() / 60),
    }
}

fn source() -> BaseLicenseSource {
    BaseLicenseSource::from(eval_source())
}

/// Properties of the licence manager.
pub fn property(state: &State, name: &str) -> Top {
    Some(match name {
        "source" => Some(Any::from(eval_source())),
        "sourceAvailable" => Some(Any::Boolean(true)),
        "diagnostics" => None,
        "featureInfo" => Some(Any::from(ArrayOfLicenseFeatureInfo {
            license_feature_info: feature_info(),
        })),
        "licensedEdition" => Some(Any::String(String::new())),
        "licenses" => Some(Any::from(ArrayOfLicenseManagerLicenseInfo {
            license_manager_license_info: licenses(state),
        })),
        "licenseAssignmentManager" => match state.flavor() {
            Flavor::Vcenter => Some(Any::from(moref("LicenseAssignmentManager", ASSIGNMENT_ID))),
            Flavor::Esx => None,
        },
        "evaluation" => Some(Any::from(LicenseManagerEvaluationInfo {
            properties: eval_properties(state.flavor()),
        })),
        _ => return None,
    })
}

/// Creates vCenter's `LicenseAssignmentManager` (ESXi has none).
pub fn insert(state: &mut State) {
    if state.flavor() == Flavor::Vcenter {
        state.insert(ASSIGNMENT_ID, Mo::Manager("LicenseAssignmentManager"));
    }
}

fn check_this(state: &State, this: &MoRef) -> MethodResult<()> {
    match state.lookup(this)? {
        Mo::Manager("LicenseManager") => Ok(()),
        _ => Err(Fault::not_found(this)),
    }
}

fn check_host(state: &State, host: Option<&MoRef>) -> MethodResult<()> {
    match host {
        Some(h) => crate::mo::host_system::host(state, h).map(|_| ()),
        None => Ok(()),
    }
}

/// Whether `method` is one of the licence manager's reads.
pub fn is_read(method: &str) -> bool {
    matches!(
        method,
        "QueryLicenseSourceAvailability" | "QueryLicenseUsage" | "DecodeLicense"
    )
}

/// The licence manager's reads.
pub fn handle_read(state: &State, _ctx: &Ctx, req: &Request) -> Option<MethodResult<Response>> {
    let run = || -> MethodResult<Response> {
        Ok(match req {
            Request::QueryLicenseSourceAvailability(q) => {
                check_this(state, &q.this)?;
                check_host(state, q.host.as_ref())?;
                let returnval = feature_info()
                    .into_iter()
                    .map(|feature| LicenseAvailabilityInfo {
                        feature,
                        total: 0,
                        available: 0,
                    })
                    .collect();
                Response::QueryLicenseSourceAvailability(Box::new(
                    esx_vim::QueryLicenseSourceAvailabilityResponse { returnval },
                ))
            }
            Request::QueryLicenseUsage(q) => {
                check_this(state, &q.this)?;
                check_host(state, q.host.as_ref())?;
                Response::QueryLicenseUsage(Box::new(esx_vim::QueryLicenseUsageResponse {
                    returnval: LicenseUsageInfo {
                        source: source(),
                        source_available: true,
                        reservation_info: Vec::new(),
                        feature_info: feature_info(),
                    },
                }))
            }
            Request::DecodeLicense(q) => {
                check_this(state, &q.this)?;
                let returnval = decode(state, &q.license_key)?;
                Response::DecodeLicense(Box::new(esx_vim::DecodeLicenseResponse { returnval }))
            }
            _ => return Err(Fault::invalid_argument("method")),
        })
    };
    is_read(req.method()).then(run)
}

/// `DecodeLicense`: what a key is, without adding it.
fn decode(state: &State, key: &str) -> MethodResult<LicenseManagerLicenseInfo> {
    if key == EVAL_KEY {
        return Ok(eval_license(state.flavor()));
    }
    if !well_formed(key) {
        return Err(Fault::invalid_argument("licenseKey"));
    }
    Ok(decoded(state.flavor(), key, Vec::new()))
}

/// The licence manager's changes; gives any other request back.
pub fn handle(
    state: &mut State,
    _ctx: &Ctx,
    req: Request,
) -> Result<MethodResult<Response>, Request> {
    Ok(match req {
        Request::AddLicense(q) => (|| {
            check_this(state, &q.this)?;
            decode(state, &q.license_key)?;
            if q.license_key != EVAL_KEY {
                let slot = state
                    .managers
                    .licenses
                    .added
                    .entry(q.license_key.clone())
                    .or_default();
                for l in &q.labels {
                    slot.retain(|x| x.key != l.key);
                    slot.push(l.clone());
                }
            }
            let returnval = license(state, &q.license_key)
                .ok_or_else(|| Fault::invalid_argument("licenseKey"))?;
            Ok(Response::AddLicense(Box::new(
                esx_vim::AddLicenseResponse { returnval },
            )))
        })(),
        Request::RemoveLicense(q) => (|| {
            check_this(state, &q.this)?;
            let l = &mut state.managers.licenses;
            if q.license_key == EVAL_KEY
                || !l.added.contains_key(&q.license_key)
                || l.assigned.values().any(|k| k == &q.license_key)
            {
                return Err(Fault::invalid_argument("licenseKey"));
            }
            l.added.remove(&q.license_key);
            Ok(Response::RemoveLicense(Box::new(
                esx_vim::RemoveLicenseResponse {},
            )))
        })(),
        Request::UpdateLicenseLabel(q) => (|| {
            check_this(state, &q.this)?;
            let slot = state
                .managers
                .licenses
                .added
                .get_mut(&q.license_key)
                .ok_or_else(|| Fault::invalid_argument("licenseKey"))?;
            if q.label_key.is_empty() {
                return Err(Fault::invalid_argument("labelKey"));
            }
            slot.retain(|x| x.key != q.label_key);
            slot.push(KeyValue {
                key: q.label_key.clone(),
                value: q.label_value.clone(),
            });
            Ok(Response::UpdateLicenseLabel(Box::new(
                esx_vim::UpdateLicenseLabelResponse {},
            )))
        })(),
        other => return Err(other),
    })
}

/// The licence an entity (a host id or vCenter's instance uuid) runs on.
pub fn assigned_key(state: &State, entity: &str) -> String {
    state
        .managers
        .licenses
        .assigned
        .get(entity)
        .cloned()
        .unwrap_or_else(|| EVAL_KEY.to_owned())
}
