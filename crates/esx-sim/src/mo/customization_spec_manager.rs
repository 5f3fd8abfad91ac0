//! `CustomizationSpecManager` (vCenter only): guest customization specifications kept in
//! memory; `info`, `encryptionKey`, `DoesCustomizationSpecExist`, `GetCustomizationSpec`,
//! `CreateCustomizationSpec`, `DeleteCustomizationSpec`.

use std::collections::BTreeMap;

use esx_vim::{
    AlreadyExists, Any, ArrayOfByte, ArrayOfCustomizationSpecInfo, CustomizationSpecItem, Request,
    Response,
};

use crate::fault::{Fault, MethodResult};
use crate::property::Top;
use crate::state::{Ctx, Mo, MoRef, State};

/// The specifications by name.
#[derive(Debug, Default)]
pub struct Specs {
    by_name: BTreeMap<String, CustomizationSpecItem>,
}

/// The key clients encrypt passwords in specifications with: bytes derived from the server
/// certificate's thumbprint (stable for the server's life).
fn encryption_key(state: &State) -> Vec<i8> {
    state
        .thumbprint
        .split(':')
        .filter_map(|h| u8::from_str_radix(h, 16).ok())
        .map(|b| b as i8)
        .collect()
}

/// Properties of the customization spec manager.
pub fn property(state: &State, name: &str) -> Top {
    Some(match name {
        "info" => Some(Any::from(ArrayOfCustomizationSpecInfo {
            customization_spec_info: state
                .managers
                .specs
                .by_name
                .values()
                .map(|i| i.info.clone())
                .collect(),
        })),
        "encryptionKey" => Some(Any::from(ArrayOfByte {
            byte: encryption_key(state),
        })),
        _ => return None,
    })
}

fn check_this(state: &State, this: &MoRef) -> MethodResult<()> {
    match state.lookup(this)? {
        Mo::Manager("CustomizationSpecManager") => Ok(()),
        _ => Err(Fault::not_found(this)),
    }
}

fn not_found(name: &str) -> Fault {
    Fault::not_found_plain(&format!(
        "The customization specification {name} does not exist."
    ))
}

/// Whether `method` is one of the manager's reads.
pub fn is_read(method: &str) -> bool {
    matches!(
        method,
        "DoesCustomizationSpecExist" | "GetCustomizationSpec"
    )
}

/// `DoesCustomizationSpecExist` and `GetCustomizationSpec`.
pub fn handle_read(state: &State, _ctx: &Ctx, req: &Request) -> Option<MethodResult<Response>> {
    let specs = &state.managers.specs.by_name;
    let run = || -> MethodResult<Response> {
        Ok(match req {
            Request::DoesCustomizationSpecExist(q) => {
                check_this(state, &q.this)?;
                Response::DoesCustomizationSpecExist(Box::new(
                    esx_vim::DoesCustomizationSpecExistResponse {
                        returnval: specs.contains_key(&q.name),
                    },
                ))
            }
            Request::GetCustomizationSpec(q) => {
                check_this(state, &q.this)?;
                let returnval = specs
                    .get(&q.name)
                    .cloned()
                    .ok_or_else(|| not_found(&q.name))?;
                Response::GetCustomizationSpec(Box::new(esx_vim::GetCustomizationSpecResponse {
                    returnval,
                }))
            }
            _ => return Err(Fault::invalid_argument("method")),
        })
    };
    is_read(req.method()).then(run)
}

/// `CreateCustomizationSpec` and `DeleteCustomizationSpec`; gives any other request back.
pub fn handle(
    state: &mut State,
    _ctx: &Ctx,
    req: Request,
) -> Result<MethodResult<Response>, Request> {
    Ok(match req {
        Request::CreateCustomizationSpec(q) => (|| {
            check_this(state, &q.this)?;
            let mut item = q.item;
            let name = item.info.name.clone();
            if name.trim().is_empty() {
                return Err(Fault::invalid_argument("item.info.name"));
            }
            if state.managers.specs.by_name.contains_key(&name) {
                return Err(Fault::new(
                    AlreadyExists {
                        name: Some(name.clone()),
                        ..Default::default()
                    },
                    format!("The specified key, name, or identifier '{name}' already exists."),
                ));
            }
            let now = crate::state::now();
            item.info.last_update_time = Some(now);
            item.info.change_version = Some(now.timestamp().to_string());
            state.managers.specs.by_name.insert(name, item);
            Ok(Response::CreateCustomizationSpec(Box::new(
                esx_vim::CreateCustomizationSpecResponse {},
            )))
        })(),
        Request::DeleteCustomizationSpec(q) => (|| {
            check_this(state, &q.this)?;
            if state.managers.specs.by_name.remove(&q.name).is_none() {
                return Err(not_found(&q.name));
            }
            Ok(Response::DeleteCustomizationSpec(Box::new(
                esx_vim::DeleteCustomizationSpecResponse {},
            )))
        })(),
        other => return Err(other),
    })
}
