//! `AuthorizationManager`: the privilege catalogue, roles (the built-in ones and those added),
//! permissions on managed entities with propagation, the privilege queries, and the check every
//! call that changes the state goes through ([`check`]): the caller's role on the call's
//! entity must hold the privilege the method needs.

use std::collections::BTreeMap;

use esx_vim::{
    AlreadyExists, Any, ArrayOfAuthorizationPrivilege, ArrayOfAuthorizationRole,
    AuthMinimumAdminPermission, AuthorizationRole, EntityPrivilege, InvalidName, Permission,
    PrivilegeAvailability, RemoveFailed, Request, Response, UserNotFound, UserPrivilegeResult,
};

use crate::config::Flavor;
use crate::fault::{Fault, MethodResult};
use crate::property::Top;
use crate::state::{Ctx, Mo, MoRef, State};

mod catalogue;

use catalogue::*;
pub use catalogue::{
    known_privilege, privilege_list, ADMIN, ANONYMOUS, NO_ACCESS, NO_CRYPTO_ADMIN, READ_ONLY, VIEW,
};
/// Roles and permissions (`None` until the first change: the flavor's defaults).
#[derive(Debug, Default)]
pub struct Authorization {
    roles: Option<BTreeMap<i32, AuthorizationRole>>,
    permissions: Option<Vec<Permission>>,
}

/// The root folder of `state`.
fn root(state: &State) -> MoRef {
    crate::state::moref(
        "Folder",
        crate::mo::service_instance::ids(state.flavor()).root,
    )
}

fn grant(entity: &MoRef, principal: &str, group: bool, role_id: i32) -> Permission {
    Permission {
        entity: Some(entity.clone()),
        principal: principal.to_owned(),
        group,
        role_id,
        propagate: true,
    }
}

/// The permissions of a fresh server: the administrator (and the local system users of ESXi,
/// the administrators' group of vCenter) `Admin` on the root folder, the configured read-only
/// user `ReadOnly` there; all propagating.
fn default_permissions(state: &State) -> Vec<Permission> {
    let root = root(state);
    let mut v = vec![grant(&root, &state.config.user, false, ADMIN)];
    match state.flavor() {
        Flavor::Esx => {
            for u in ["dcui", "vpxuser"] {
                if u != state.config.user {
                    v.push(grant(&root, u, false, ADMIN));
                }
            }
        }
        Flavor::Vcenter => v.push(grant(&root, "VSPHERE.LOCAL\\Administrators", true, ADMIN)),
    }
    if let Some(ro) = &state.config.readonly_user {
        v.push(grant(&root, ro, false, READ_ONLY));
    }
    v
}

/// The built-in roles of `flavor`, made once.
fn builtin(flavor: Flavor) -> &'static BTreeMap<i32, AuthorizationRole> {
    static ESX: std::sync::OnceLock<BTreeMap<i32, AuthorizationRole>> = std::sync::OnceLock::new();
    static VC: std::sync::OnceLock<BTreeMap<i32, AuthorizationRole>> = std::sync::OnceLock::new();
    match flavor {
        Flavor::Esx => ESX.get_or_init(|| builtin_roles(Flavor::Esx)),
        Flavor::Vcenter => VC.get_or_init(|| builtin_roles(Flavor::Vcenter)),
    }
}

fn roles_ref(state: &State) -> &BTreeMap<i32, AuthorizationRole> {
    match &state.managers.auth.roles {
        Some(r) => r,
        None => builtin(state.flavor()),
    }
}

/// The roles now.
pub fn roles(state: &State) -> BTreeMap<i32, AuthorizationRole> {
    roles_ref(state).clone()
}

fn roles_mut(state: &mut State) -> &mut BTreeMap<i32, AuthorizationRole> {
    let flavor = state.flavor();
    state
        .managers
        .auth
        .roles
        .get_or_insert_with(|| builtin(flavor).clone())
}

/// The permissions as stored (some may name entities gone since).
fn stored(state: &State) -> std::borrow::Cow<'_, [Permission]> {
    match &state.managers.auth.permissions {
        Some(p) => std::borrow::Cow::Borrowed(p.as_slice()),
        None => std::borrow::Cow::Owned(default_permissions(state)),
    }
}

/// Every permission now whose entity still exists.
pub fn permissions(state: &State) -> Vec<Permission> {
    stored(state)
        .iter()
        .filter(|p| p.entity.as_ref().is_some_and(|e| state.get(e).is_some()))
        .cloned()
        .collect()
}

fn set_permissions(state: &mut State, v: Vec<Permission>) {
    state.managers.auth.permissions = Some(v);
}

/// The entity whose permissions govern a call on `r`: `r` itself for a managed entity, a
/// snapshot's VM, and the root folder for everything else (managers, tasks, collectors).
pub fn governing_entity(state: &State, r: &MoRef) -> MoRef {
    match state.get(r) {
        Some(Mo::Snapshot(s)) => s.vm.clone(),
        Some(_) if is_entity(state, r) => r.clone(),
        _ => root(state),
    }
}

fn is_entity(state: &State, r: &MoRef) -> bool {
    state.name_of(r).is_some() && !matches!(state.get(r), Some(Mo::Snapshot(_)))
}

/// The permission that applies to `user` on `entity`: one set for the user on the entity
/// itself, else the nearest propagating one on an ancestor. (Group membership is not
/// modelled: a group's permission applies to nobody.)
pub fn effective_permission(state: &State, user: &str, entity: &MoRef) -> Option<Permission> {
    let perms = stored(state);
    state
        .lineage(entity)
        .iter()
        .enumerate()
        .find_map(|(depth, e)| {
            perms.iter().find(|p| {
                p.entity.as_ref() == Some(e)
                    && (depth == 0 || p.propagate)
                    && !p.group
                    && p.principal == user
            })
        })
        .cloned()
}

/// The privileges `user` holds on `entity` (empty: none).
pub fn privileges_of(state: &State, user: &str, entity: &MoRef) -> Vec<String> {
    let Some(p) = effective_permission(state, user, entity) else {
        return Vec::new();
    };
    roles_ref(state)
        .get(&p.role_id)
        .map(|r| r.privilege.clone())
        .unwrap_or_default()
}

/// Whether `user` holds `privilege` on `entity`.
pub fn has_privilege(state: &State, user: &str, entity: &MoRef, privilege: &str) -> bool {
    let Some(p) = effective_permission(state, user, entity) else {
        return false;
    };
    roles_ref(state)
        .get(&p.role_id)
        .is_some_and(|r| r.privilege.iter().any(|x| x == privilege))
}

/// The privilege `method` needs (those of this module and the host helpers, else the
/// dispatcher's table).
pub fn required_privilege(method: &str) -> &'static str {
    match method {
        "AddAuthorizationRole" | "RemoveAuthorizationRole" | "UpdateAuthorizationRole" => {
            "Authorization.ModifyRoles"
        }
        "MergePermissions" => "Authorization.ReassignRolePermissions",
        "SetEntityPermissions" | "ResetEntityPermissions" | "RemoveEntityPermission" => {
            "Authorization.ModifyPermissions"
        }
        "TerminateSession" => "Sessions.TerminateSession",
        "GenerateLogBundles_Task" => "Global.Diagnostics",
        "UpdateDateTimeConfig" | "UpdateDateTime" | "RefreshDateTimeSystem" => {
            "Host.Config.DateTime"
        }
        "StartService"
        | "StopService"
        | "RestartService"
        | "UpdateServicePolicy"
        | "RefreshServices" => "Host.Config.NetService",
        m if m.contains("Certificate") || m.contains("Csr") => "Host.Config.Certificate",
        m => crate::dispatch::privilege(m),
    }
}

/// Refuses `req` with `NoPermission` unless the calling session's user holds the privilege
/// the method needs on the entity it is called on (calls that only read need none). Calls
/// without a session (in-process administration) pass.
pub fn check(state: &State, ctx: &Ctx, req: &Request) -> MethodResult<()> {
    let method = req.method();
    if crate::dispatch::is_read_only(method) {
        return Ok(());
    }
    let Some(s) = ctx.session.as_ref().and_then(|k| state.sessions.get(k)) else {
        return Ok(());
    };
    let this = crate::dispatch::this_of(req).unwrap_or_default();
    let entity = governing_entity(state, &this);
    let privilege = required_privilege(method);
    if has_privilege(state, &s.user, &entity, privilege) {
        Ok(())
    } else {
        Err(Fault::no_permission(&this, privilege))
    }
}

/// Properties of the authorization manager.
pub fn property(state: &State, name: &str) -> Top {
    Some(match name {
        "privilegeList" => Some(Any::from(ArrayOfAuthorizationPrivilege {
            authorization_privilege: privilege_list(),
        })),
        "roleList" => Some(Any::from(ArrayOfAuthorizationRole {
            authorization_role: roles(state).into_values().collect(),
        })),
        "description" => Some(Any::from(auth_description())),
        _ => return None,
    })
}

fn check_this(state: &State, this: &MoRef) -> MethodResult<()> {
    match state.lookup(this)? {
        Mo::Manager("AuthorizationManager") => Ok(()),
        _ => Err(Fault::not_found(this)),
    }
}

fn check_entity(state: &State, e: &MoRef) -> MethodResult<()> {
    if is_entity(state, e) {
        Ok(())
    } else {
        Err(Fault::not_found(e))
    }
}

fn role_not_found(id: i32) -> Fault {
    Fault::not_found_plain(&format!("The role {id} was not found."))
}

fn check_privileges(ids: &[String]) -> MethodResult<()> {
    match ids.iter().find(|p| !known_privilege(p)) {
        Some(_) => Err(Fault::invalid_argument("privIds")),
        None => Ok(()),
    }
}

fn check_name(state: &State, name: &str, except: Option<i32>) -> MethodResult<()> {
    if name.trim().is_empty() {
        return Err(Fault::new(
            InvalidName {
                name: name.to_owned(),
                ..Default::default()
            },
            format!("The name '{name}' is invalid."),
        ));
    }
    if roles_ref(state)
        .values()
        .any(|r| r.name == name && Some(r.role_id) != except)
    {
        return Err(Fault::new(
            AlreadyExists {
                name: Some(name.to_owned()),
                ..Default::default()
            },
            format!("The specified key, name, or identifier '{name}' already exists."),
        ));
    }
    Ok(())
}

/// Users and groups the simulated directory knows (else `UserNotFound`): the configured
/// users, ESXi's system users, and on vCenter any `DOMAIN\name` or `name@domain` principal.
fn known_principal(state: &State, name: &str) -> bool {
    name == state.config.user
        || state.config.readonly_user.as_deref() == Some(name)
        || match state.flavor() {
            Flavor::Esx => matches!(name, "root" | "dcui" | "vpxuser"),
            Flavor::Vcenter => name.contains('\\') || name.contains('@'),
        }
}

fn check_permission(state: &State, p: &Permission) -> MethodResult<()> {
    if !known_principal(state, &p.principal) {
        return Err(Fault::new(
            UserNotFound {
                principal: p.principal.clone(),
                unresolved: false,
                ..Default::default()
            },
            format!("User or group {} not found.", p.principal),
        ));
    }
    if !roles_ref(state).contains_key(&p.role_id) {
        return Err(role_not_found(p.role_id));
    }
    Ok(())
}

/// `AuthMinimumAdminPermission` unless someone keeps a propagating `Admin` permission on the
/// root folder after a change.
fn keep_admin(state: &State, v: &[Permission]) -> MethodResult<()> {
    let root = root(state);
    if v.iter()
        .any(|p| p.entity.as_ref() == Some(&root) && p.role_id == ADMIN && p.propagate)
    {
        Ok(())
    } else {
        Err(Fault::new(
            AuthMinimumAdminPermission::default(),
            "At least one user must keep the Administrator role on the root folder.",
        ))
    }
}

/// The permissions defined on `entity`, and with `inherited` also those it inherits from its
/// ancestors (the nearest per principal).
pub fn entity_permissions(state: &State, entity: &MoRef, inherited: bool) -> Vec<Permission> {
    let perms = permissions(state);
    let mut out: Vec<Permission> = Vec::new();
    for (depth, e) in state.lineage(entity).iter().enumerate() {
        if depth > 0 && !inherited {
            break;
        }
        for p in perms.iter().filter(|p| p.entity.as_ref() == Some(e)) {
            if depth > 0 && !p.propagate {
                continue;
            }
            if out
                .iter()
                .any(|o| o.principal == p.principal && o.group == p.group)
            {
                continue;
            }
            out.push(p.clone());
        }
    }
    out
}

fn session_user(state: &State, session: &str) -> Option<String> {
    state.sessions.get(session).map(|s| s.user.clone())
}

fn availability(state: &State, user: Option<&str>, e: &MoRef, ids: &[String]) -> EntityPrivilege {
    let held = user.map(|u| privileges_of(state, u, e)).unwrap_or_default();
    EntityPrivilege {
        entity: e.clone(),
        priv_availability: ids
            .iter()
            .map(|id| PrivilegeAvailability {
                priv_id: id.clone(),
                is_granted: held.contains(id),
            })
            .collect(),
    }
}

/// Whether `method` is one of the authorization manager's reads.
pub fn is_read(method: &str) -> bool {
    matches!(
        method,
        "RetrieveEntityPermissions"
            | "RetrieveAllPermissions"
            | "RetrieveRolePermissions"
            | "HasPrivilegeOnEntity"
            | "HasPrivilegeOnEntities"
            | "FetchUserPrivilegeOnEntities"
            | "HasUserPrivilegeOnEntities"
    )
}

macro_rules! resp {
    ($v:ident, $t:ident { $($f:tt)* }) => {
        Response::$v(Box::new(esx_vim::$t { $($f)* }))
    };
}

/// The permission queries and privilege checks.
pub fn handle_read(state: &State, _ctx: &Ctx, req: &Request) -> Option<MethodResult<Response>> {
    let run = || -> MethodResult<Response> {
        Ok(match req {
            Request::RetrieveEntityPermissions(q) => {
                check_this(state, &q.this)?;
                check_entity(state, &q.entity)?;
                let returnval = entity_permissions(state, &q.entity, q.inherited);
                resp!(
                    RetrieveEntityPermissions,
                    RetrieveEntityPermissionsResponse { returnval }
                )
            }
            Request::RetrieveAllPermissions(q) => {
                check_this(state, &q.this)?;
                let returnval = permissions(state);
                resp!(
                    RetrieveAllPermissions,
                    RetrieveAllPermissionsResponse { returnval }
                )
            }
            Request::RetrieveRolePermissions(q) => {
                check_this(state, &q.this)?;
                if !roles_ref(state).contains_key(&q.role_id) {
                    return Err(role_not_found(q.role_id));
                }
                let returnval = permissions(state)
                    .into_iter()
                    .filter(|p| p.role_id == q.role_id)
                    .collect();
                resp!(
                    RetrieveRolePermissions,
                    RetrieveRolePermissionsResponse { returnval }
                )
            }
            Request::HasPrivilegeOnEntity(q) => {
                check_this(state, &q.this)?;
                check_entity(state, &q.entity)?;
                let user = session_user(state, &q.session_id);
                let returnval = availability(state, user.as_deref(), &q.entity, &q.priv_id)
                    .priv_availability
                    .into_iter()
                    .map(|a| a.is_granted)
                    .collect();
                resp!(
                    HasPrivilegeOnEntity,
                    HasPrivilegeOnEntityResponse { returnval }
                )
            }
            Request::HasPrivilegeOnEntities(q) => {
                check_this(state, &q.this)?;
                let user = session_user(state, &q.session_id);
                let mut returnval = Vec::new();
                for e in &q.entity {
                    check_entity(state, e)?;
                    returnval.push(availability(state, user.as_deref(), e, &q.priv_id));
                }
                resp!(
                    HasPrivilegeOnEntities,
                    HasPrivilegeOnEntitiesResponse { returnval }
                )
            }
            Request::FetchUserPrivilegeOnEntities(q) => {
                check_this(state, &q.this)?;
                let mut returnval = Vec::new();
                for e in &q.entities {
                    check_entity(state, e)?;
                    returnval.push(UserPrivilegeResult {
                        entity: e.clone(),
                        privileges: privileges_of(state, &q.user_name, e),
                    });
                }
                resp!(
                    FetchUserPrivilegeOnEntities,
                    FetchUserPrivilegeOnEntitiesResponse { returnval }
                )
            }
            Request::HasUserPrivilegeOnEntities(q) => {
                check_this(state, &q.this)?;
                let mut returnval = Vec::new();
                for e in &q.entities {
                    check_entity(state, e)?;
                    returnval.push(availability(state, Some(&q.user_name), e, &q.priv_id));
                }
                resp!(
                    HasUserPrivilegeOnEntities,
                    HasUserPrivilegeOnEntitiesResponse { returnval }
                )
            }
            _ => return Err(Fault::invalid_argument("method")),
        })
    };
    is_read(req.method()).then(run)
}

fn system_role(state: &State, id: i32) -> MethodResult<AuthorizationRole> {
    let r = roles_ref(state)
        .get(&id)
        .cloned()
        .ok_or_else(|| role_not_found(id))?;
    if r.system {
        return Err(Fault::invalid_argument("roleId"));
    }
    Ok(r)
}

/// Role and permission changes; gives any other request back.
pub fn handle(
    state: &mut State,
    _ctx: &Ctx,
    req: Request,
) -> Result<MethodResult<Response>, Request> {
    Ok(match req {
        Request::AddAuthorizationRole(q) => (|| {
            check_this(state, &q.this)?;
            check_name(state, &q.name, None)?;
            check_privileges(&q.priv_ids)?;
            let id = roles_ref(state).keys().max().copied().unwrap_or(0).max(9) + 1;
            let privs = with_system(q.priv_ids.iter().cloned());
            roles_mut(state).insert(id, role(id, false, &q.name, &q.name, &q.name, privs));
            Ok(resp!(
                AddAuthorizationRole,
                AddAuthorizationRoleResponse { returnval: id }
            ))
        })(),
        Request::UpdateAuthorizationRole(q) => (|| {
            check_this(state, &q.this)?;
            system_role(state, q.role_id)?;
            check_name(state, &q.new_name, Some(q.role_id))?;
            check_privileges(&q.priv_ids)?;
            let privs = with_system(q.priv_ids.iter().cloned());
            if let Some(r) = roles_mut(state).get_mut(&q.role_id) {
                r.name = q.new_name.clone();
                r.info = description(&q.new_name, &q.new_name);
                r.privilege = privs;
            }
            Ok(resp!(
                UpdateAuthorizationRole,
                UpdateAuthorizationRoleResponse {}
            ))
        })(),
        Request::RemoveAuthorizationRole(q) => (|| {
            check_this(state, &q.this)?;
            system_role(state, q.role_id)?;
            let mut perms = permissions(state);
            if q.fail_if_used && perms.iter().any(|p| p.role_id == q.role_id) {
                return Err(Fault::new(
                    RemoveFailed::default(),
                    format!("The role {} is used by permissions.", q.role_id),
                ));
            }
            perms.retain(|p| p.role_id != q.role_id);
            keep_admin(state, &perms)?;
            set_permissions(state, perms);
            roles_mut(state).remove(&q.role_id);
            Ok(resp!(
                RemoveAuthorizationRole,
                RemoveAuthorizationRoleResponse {}
            ))
        })(),
        Request::MergePermissions(q) => (|| {
            check_this(state, &q.this)?;
            system_role(state, q.src_role_id)?;
            if !roles_ref(state).contains_key(&q.dst_role_id) {
                return Err(role_not_found(q.dst_role_id));
            }
            let mut perms = permissions(state);
            for p in perms.iter_mut().filter(|p| p.role_id == q.src_role_id) {
                p.role_id = q.dst_role_id;
            }
            set_permissions(state, perms);
            roles_mut(state).remove(&q.src_role_id);
            Ok(resp!(MergePermissions, MergePermissionsResponse {}))
        })(),
        Request::SetEntityPermissions(q) => (|| {
            check_this(state, &q.this)?;
            check_entity(state, &q.entity)?;
            let mut perms = permissions(state);
            for p in &q.permission {
                check_permission(state, p)?;
                let mut p = p.clone();
                p.entity = Some(q.entity.clone());
                match perms.iter_mut().find(|o| {
                    o.entity == p.entity && o.principal == p.principal && o.group == p.group
                }) {
                    Some(o) => *o = p,
                    None => perms.push(p),
                }
            }
            keep_admin(state, &perms)?;
            set_permissions(state, perms);
            Ok(resp!(SetEntityPermissions, SetEntityPermissionsResponse {}))
        })(),
        Request::ResetEntityPermissions(q) => (|| {
            check_this(state, &q.this)?;
            check_entity(state, &q.entity)?;
            let mut perms = permissions(state);
            perms.retain(|p| p.entity.as_ref() != Some(&q.entity));
            for p in &q.permission {
                check_permission(state, p)?;
                let mut p = p.clone();
                p.entity = Some(q.entity.clone());
                perms.retain(|o| {
                    !(o.entity == p.entity && o.principal == p.principal && o.group == p.group)
                });
                perms.push(p);
            }
            keep_admin(state, &perms)?;
            set_permissions(state, perms);
            Ok(resp!(
                ResetEntityPermissions,
                ResetEntityPermissionsResponse {}
            ))
        })(),
        Request::RemoveEntityPermission(q) => (|| {
            check_this(state, &q.this)?;
            check_entity(state, &q.entity)?;
            let mut perms = permissions(state);
            let before = perms.len();
            perms.retain(|p| {
                !(p.entity.as_ref() == Some(&q.entity)
                    && p.principal == q.user
                    && p.group == q.is_group)
            });
            if perms.len() == before {
                return Err(Fault::not_found_plain(&format!(
                    "No permission for {} is defined on {}.",
                    q.user, q.entity
                )));
            }
            keep_admin(state, &perms)?;
            set_permissions(state, perms);
            Ok(resp!(
                RemoveEntityPermission,
                RemoveEntityPermissionResponse {}
            ))
        })(),
        other => return Err(other),
    })
}
