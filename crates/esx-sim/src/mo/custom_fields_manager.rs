//! `CustomFieldsManager`: custom attribute definitions (`field`), `AddCustomFieldDef`,
//! `RemoveCustomFieldDef`, `RenameCustomFieldDef`, `SetField`, and what entities show of them
//! (`customValue`, `value`, `availableField`).

use std::collections::BTreeMap;

use esx_vim::{
    Any, ArrayOfCustomFieldDef, ArrayOfCustomFieldValue, BaseCustomFieldValue, CustomFieldDef,
    CustomFieldStringValue, DuplicateName, PrivilegePolicyDef, Request, Response,
};

use crate::fault::{Fault, MethodResult};
use crate::property::Top;
use crate::state::{Ctx, Mo, MoRef, State};

/// The definitions and the values set on entities.
#[derive(Debug, Default)]
pub struct Fields {
    defs: Vec<CustomFieldDef>,
    /// Values by entity id, then field key.
    values: BTreeMap<String, BTreeMap<i32, String>>,
    last_key: i32,
}

/// The managed entity types a field may be limited to.
const ENTITY_TYPES: &[&str] = &[
    "ManagedEntity",
    "Folder",
    "Datacenter",
    "ComputeResource",
    "ClusterComputeResource",
    "ResourcePool",
    "VirtualApp",
    "HostSystem",
    "Datastore",
    "StoragePod",
    "Network",
    "DistributedVirtualPortgroup",
    "DistributedVirtualSwitch",
    "VmwareDistributedVirtualSwitch",
    "VirtualMachine",
];

fn policy(create: &str, read: &str) -> PrivilegePolicyDef {
    PrivilegePolicyDef {
        create_privilege: create.to_owned(),
        read_privilege: read.to_owned(),
        update_privilege: create.to_owned(),
        delete_privilege: create.to_owned(),
    }
}

/// Whether a field defined for `mo_type` applies to an entity of type `ty`.
fn applies(def: &CustomFieldDef, ty: &str) -> bool {
    match def.managed_object_type.as_deref() {
        None | Some("") | Some("ManagedEntity") => true,
        Some(t) => crate::state::is_a(ty, t),
    }
}

fn is_entity(state: &State, r: &MoRef) -> Option<&'static str> {
    let ty = state.get(r)?.type_name();
    crate::state::is_a(ty, "ManagedEntity").then_some(ty)
}

/// `customValue`/`value` of entity `r`: the fields set on it.
pub fn values(state: &State, r: &MoRef) -> Option<Any> {
    let set = state.managers.fields.values.get(&r.value)?;
    let custom_field_value = set
        .iter()
        .map(|(k, v)| {
            BaseCustomFieldValue::from(CustomFieldStringValue {
                key: *k,
                value: v.clone(),
            })
        })
        .collect();
    Some(Any::from(ArrayOfCustomFieldValue { custom_field_value }))
}

/// `availableField` of entity `r`: the definitions that apply to its type.
pub fn available(state: &State, r: &MoRef) -> Option<Any> {
    let ty = state.get(r)?.type_name();
    let custom_field_def: Vec<CustomFieldDef> = state
        .managers
        .fields
        .defs
        .iter()
        .filter(|d| applies(d, ty))
        .cloned()
        .collect();
    (!custom_field_def.is_empty()).then(|| Any::from(ArrayOfCustomFieldDef { custom_field_def }))
}

/// Properties of the custom fields manager.
pub fn property(state: &State, name: &str) -> Top {
    Some(match name {
        "field" => Some(Any::from(ArrayOfCustomFieldDef {
            custom_field_def: state.managers.fields.defs.clone(),
        })),
        _ => return None,
    })
}

fn duplicate(name: &str, this: &MoRef) -> Fault {
    Fault::new(
        DuplicateName {
            name: name.to_owned(),
            object: this.clone(),
            ..Default::default()
        },
        format!("The name '{name}' already exists."),
    )
}

fn clashes(f: &Fields, name: &str, mo_type: Option<&str>, except: Option<i32>) -> bool {
    f.defs.iter().any(|d| {
        Some(d.key) != except
            && d.name == name
            && (d.managed_object_type.is_none()
                || mo_type.is_none()
                || d.managed_object_type.as_deref() == mo_type)
    })
}

fn check_this(state: &State, this: &MoRef) -> MethodResult<()> {
    match state.lookup(this)? {
        Mo::Manager("CustomFieldsManager") => Ok(()),
        _ => Err(Fault::not_found(this)),
    }
}

fn add(
    state: &mut State,
    this: &MoRef,
    q: &esx_vim::AddCustomFieldDefRequestType,
) -> MethodResult<CustomFieldDef> {
    let name = q.name.trim();
    if name.is_empty() {
        return Err(Fault::invalid_argument("name"));
    }
    let mo_type = q.mo_type.as_deref().filter(|t| !t.is_empty());
    if mo_type.is_some_and(|t| !ENTITY_TYPES.contains(&t)) {
        return Err(Fault::invalid_argument("moType"));
    }
    let f = &mut state.managers.fields;
    if clashes(f, name, mo_type, None) {
        return Err(duplicate(name, this));
    }
    f.last_key += 1;
    let def = CustomFieldDef {
        key: f.last_key,
        name: name.to_owned(),
        r#type: "string".to_owned(),
        managed_object_type: mo_type.map(str::to_owned),
        field_def_privileges: Some(
            q.field_def_policy
                .clone()
                .unwrap_or_else(|| policy("Global.ManageCustomFields", "System.View")),
        ),
        field_instance_privileges: Some(
            q.field_policy
                .clone()
                .unwrap_or_else(|| policy("Global.SetCustomField", "System.View")),
        ),
    };
    f.defs.push(def.clone());
    Ok(def)
}

fn def_index(state: &State, key: i32) -> MethodResult<usize> {
    state
        .managers
        .fields
        .defs
        .iter()
        .position(|d| d.key == key)
        .ok_or_else(|| Fault::invalid_argument("key"))
}

/// Sets field `key` of `entity` (shared by `SetField` and an entity's `setCustomValue`).
pub fn set_field(state: &mut State, entity: &MoRef, key: i32, value: &str) -> MethodResult<()> {
    state.lookup(entity)?;
    let ty = is_entity(state, entity).ok_or_else(|| Fault::invalid_argument("entity"))?;
    let i = def_index(state, key)?;
    if !applies(&state.managers.fields.defs[i], ty) {
        return Err(Fault::invalid_argument("key"));
    }
    state
        .managers
        .fields
        .values
        .entry(entity.value.clone())
        .or_default()
        .insert(key, value.to_owned());
    Ok(())
}

/// The custom fields manager's methods; gives any other request back.
pub fn handle(
    state: &mut State,
    _ctx: &Ctx,
    req: Request,
) -> Result<MethodResult<Response>, Request> {
    Ok(match req {
        Request::AddCustomFieldDef(q) => (|| {
            check_this(state, &q.this)?;
            let returnval = add(state, &q.this, &q)?;
            Ok(Response::AddCustomFieldDef(Box::new(
                esx_vim::AddCustomFieldDefResponse { returnval },
            )))
        })(),
        Request::RemoveCustomFieldDef(q) => (|| {
            check_this(state, &q.this)?;
            let i = def_index(state, q.key)?;
            let f = &mut state.managers.fields;
            f.defs.remove(i);
            for set in f.values.values_mut() {
                set.remove(&q.key);
            }
            f.values.retain(|_, set| !set.is_empty());
            Ok(Response::RemoveCustomFieldDef(Box::new(
                esx_vim::RemoveCustomFieldDefResponse {},
            )))
        })(),
        Request::RenameCustomFieldDef(q) => (|| {
            check_this(state, &q.this)?;
            let i = def_index(state, q.key)?;
            let name = q.name.trim();
            if name.is_empty() {
                return Err(Fault::invalid_argument("name"));
            }
            let f = &mut state.managers.fields;
            let mo_type = f.defs[i].managed_object_type.clone();
            if clashes(f, name, mo_type.as_deref(), Some(q.key)) {
                return Err(duplicate(name, &q.this));
            }
            f.defs[i].name = name.to_owned();
            Ok(Response::RenameCustomFieldDef(Box::new(
                esx_vim::RenameCustomFieldDefResponse {},
            )))
        })(),
        Request::SetField(q) => (|| {
            check_this(state, &q.this)?;
            set_field(state, &q.entity, q.key, &q.value)?;
            Ok(Response::SetField(Box::new(esx_vim::SetFieldResponse {})))
        })(),
        other => return Err(other),
    })
}
