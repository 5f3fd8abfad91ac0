//! `LicenseAssignmentManager` (vCenter only): which licence each host and vCenter itself run
//! on; `QueryAssignedLicenses`, `UpdateAssignedLicense`, `RemoveAssignedLicense`.

use esx_vim::{
    Any, KeyAnyValue, LicenseAssignmentManagerLicenseAssignment, LicenseEntityNotFound, Request,
    Response,
};

use crate::fault::{Fault, MethodResult};
use crate::mo::license_manager as lm;
use crate::state::{Ctx, Mo, MoRef, State};

/// The licensable entities: vCenter itself (its instance uuid) and every host, as
/// (entity id, display name, product).
fn entities(state: &State) -> Vec<(String, String, &'static str)> {
    let about = crate::mo::service_instance::about(state);
    let mut v = vec![(
        about.instance_uuid.unwrap_or_default(),
        "vcenter.sim.local".to_owned(),
        "VMware VirtualCenter Server",
    )];
    let mut hosts: Vec<(String, String, &'static str)> = state
        .objects
        .iter()
        .filter_map(|(id, m)| match m {
            Mo::HostSystem(h) => Some((id.clone(), h.name.clone(), "VMware ESX Server")),
            _ => None,
        })
        .collect();
    hosts.sort();
    v.extend(hosts);
    v
}

fn not_found(entity: &str) -> Fault {
    Fault::new(
        LicenseEntityNotFound {
            entity_id: entity.to_owned(),
            ..Default::default()
        },
        format!("The entity {entity} is not found."),
    )
}

fn assignment(
    state: &State,
    (id, name, product): (String, String, &'static str),
) -> LicenseAssignmentManagerLicenseAssignment {
    let key = lm::assigned_key(state, &id);
    let assigned_license =
        lm::license(state, &key).unwrap_or_else(|| lm::eval_license(state.flavor()));
    LicenseAssignmentManagerLicenseAssignment {
        entity_id: id,
        scope: None,
        entity_display_name: Some(name),
        assigned_license,
        properties: vec![
            KeyAnyValue {
                key: "ProductName".to_owned(),
                value: Any::String(product.to_owned()),
            },
            KeyAnyValue {
                key: "ProductVersion".to_owned(),
                value: Any::String("7.0".to_owned()),
            },
        ],
    }
}

fn check_this(state: &State, this: &MoRef) -> MethodResult<()> {
    match state.lookup(this)? {
        Mo::Manager("LicenseAssignmentManager") => Ok(()),
        _ => Err(Fault::not_found(this)),
    }
}

/// Whether `method` is the assignment manager's read.
pub fn is_read(method: &str) -> bool {
    method == "QueryAssignedLicenses"
}

/// `QueryAssignedLicenses`: every entity's licence, or one entity's (`LicenseEntityNotFound`
/// for an unknown one).
pub fn handle_read(state: &State, _ctx: &Ctx, req: &Request) -> Option<MethodResult<Response>> {
    let Request::QueryAssignedLicenses(q) = req else {
        return None;
    };
    Some((|| {
        check_this(state, &q.this)?;
        let all = entities(state);
        let picked: Vec<_> = match q.entity_id.as_deref() {
            None | Some("") => all,
            Some(e) => {
                let one: Vec<_> = all.into_iter().filter(|x| x.0 == e).collect();
                if one.is_empty() {
                    return Err(not_found(e));
                }
                one
            }
        };
        let returnval = picked.into_iter().map(|e| assignment(state, e)).collect();
        Ok(Response::QueryAssignedLicenses(Box::new(
            esx_vim::QueryAssignedLicensesResponse { returnval },
        )))
    })())
}

/// `UpdateAssignedLicense` and `RemoveAssignedLicense`; gives any other request back.
pub fn handle(
    state: &mut State,
    _ctx: &Ctx,
    req: Request,
) -> Result<MethodResult<Response>, Request> {
    Ok(match req {
        Request::UpdateAssignedLicense(q) => (|| {
            check_this(state, &q.this)?;
            if !entities(state).iter().any(|e| e.0 == q.entity) {
                return Err(not_found(&q.entity));
            }
            let returnval = lm::license(state, &q.license_key)
                .ok_or_else(|| Fault::invalid_argument("licenseKey"))?;
            if q.license_key == lm::EVAL_KEY {
                state.managers.licenses.assigned.remove(&q.entity);
            } else {
                state
                    .managers
                    .licenses
                    .assigned
                    .insert(q.entity.clone(), q.license_key.clone());
            }
            Ok(Response::UpdateAssignedLicense(Box::new(
                esx_vim::UpdateAssignedLicenseResponse { returnval },
            )))
        })(),
        Request::RemoveAssignedLicense(q) => (|| {
            check_this(state, &q.this)?;
            if !entities(state).iter().any(|e| e.0 == q.entity_id) {
                return Err(not_found(&q.entity_id));
            }
            state.managers.licenses.assigned.remove(&q.entity_id);
            Ok(Response::RemoveAssignedLicense(Box::new(
                esx_vim::RemoveAssignedLicenseResponse {},
            )))
        })(),
        other => return Err(other),
    })
}
