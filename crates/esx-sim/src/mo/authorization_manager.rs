//! `AuthorizationManager`: the privilege catalogue, roles (the built-in ones and those added),
//! permissions on managed entities with propagation, the privilege queries, and the check every
//! call that changes the state goes through ([`check`]): the caller's role on the call's
//! entity must hold the privilege the method needs.

use std::collections::BTreeMap;

use esx_vim::{
    AlreadyExists, Any, ArrayOfAuthorizationPrivilege, ArrayOfAuthorizationRole,
    AuthMinimumAdminPermission, AuthorizationDescription, AuthorizationPrivilege,
    AuthorizationRole, BaseDescription, BaseElementDescription, Description, ElementDescription,
    EntityPrivilege, InvalidName, Permission, PrivilegeAvailability, RemoveFailed, Request,
    Response, UserNotFound, UserPrivilegeResult,
};

use crate::config::Flavor;
use crate::fault::{Fault, MethodResult};
use crate::property::Top;
use crate::state::{Ctx, Mo, MoRef, State};

/// The id of the built-in `Admin` role.
pub const ADMIN: i32 = -1;
/// The id of the built-in `ReadOnly` role.
pub const READ_ONLY: i32 = -2;
/// The id of the built-in `View` role.
pub const VIEW: i32 = -3;
/// The id of the built-in `Anonymous` role.
pub const ANONYMOUS: i32 = -4;
/// The id of the built-in `NoAccess` role.
pub const NO_ACCESS: i32 = -5;
/// The id of the built-in `NoCryptoAdmin` role.
pub const NO_CRYPTO_ADMIN: i32 = -6;

/// The privileges every role but `NoAccess` holds.
const SYSTEM: &[&str] = &["System.Anonymous", "System.View", "System.Read"];

/// The privilege catalogue: id and whether it is checked on the parent of the entity.
const PRIVILEGES: &[(&str, bool)] = &[
    ("System.Anonymous", false),
    ("System.View", false),
    ("System.Read", false),
    ("Global.CancelTask", false),
    ("Global.CapacityPlanning", false),
    ("Global.Diagnostics", false),
    ("Global.DisableMethods", false),
    ("Global.EnableMethods", false),
    ("Global.GlobalTag", false),
    ("Global.Health", false),
    ("Global.Licenses", false),
    ("Global.LogEvent", false),
    ("Global.ManageCustomFields", false),
    ("Global.Proxy", false),
    ("Global.ScriptAction", false),
    ("Global.ServiceManagers", false),
    ("Global.SetCustomField", false),
    ("Global.Settings", false),
    ("Global.SystemTag", false),
    ("Global.VCServer", false),
    ("Authorization.ModifyPermissions", false),
    ("Authorization.ModifyPrivileges", false),
    ("Authorization.ModifyRoles", false),
    ("Authorization.ReassignRolePermissions", false),
    ("Sessions.GlobalMessage", false),
    ("Sessions.ImpersonateUser", false),
    ("Sessions.TerminateSession", false),
    ("Sessions.ValidateSession", false),
    ("Task.Create", false),
    ("Task.Update", false),
    ("Alarm.Acknowledge", false),
    ("Alarm.Create", false),
    ("Alarm.Delete", false),
    ("Alarm.DisableActions", false),
    ("Alarm.Edit", false),
    ("Alarm.SetStatus", false),
    ("Folder.Create", false),
    ("Folder.Delete", true),
    ("Folder.Move", true),
    ("Folder.Rename", false),
    ("Datacenter.Create", false),
    ("Datacenter.Delete", true),
    ("Datacenter.Move", true),
    ("Datacenter.Rename", false),
    ("Datacenter.IpPoolConfig", false),
    ("Datastore.AllocateSpace", false),
    ("Datastore.Browse", false),
    ("Datastore.Config", false),
    ("Datastore.Delete", false),
    ("Datastore.DeleteFile", false),
    ("Datastore.FileManagement", false),
    ("Datastore.Move", true),
    ("Datastore.Rename", false),
    ("Datastore.UpdateVirtualMachineFiles", false),
    ("Datastore.UpdateVirtualMachineMetadata", false),
    ("Network.Assign", false),
    ("Network.Config", false),
    ("Network.Delete", true),
    ("Network.Move", true),
    ("DVSwitch.Create", false),
    ("DVSwitch.Delete", true),
    ("DVSwitch.Modify", false),
    ("DVSwitch.PolicyOp", false),
    ("DVPortgroup.Create", false),
    ("DVPortgroup.Delete", true),
    ("DVPortgroup.Modify", false),
    ("Host.Inventory.AddHostToCluster", false),
    ("Host.Inventory.AddStandaloneHost", false),
    ("Host.Inventory.CreateCluster", false),
    ("Host.Inventory.DeleteCluster", true),
    ("Host.Inventory.EditCluster", false),
    ("Host.Inventory.MoveCluster", true),
    ("Host.Inventory.MoveHost", true),
    ("Host.Inventory.RemoveHostFromCluster", true),
    ("Host.Inventory.RenameCluster", false),
    ("Host.Config.AdvancedConfig", false),
    ("Host.Config.AutoStart", false),
    ("Host.Config.Certificate", false),
    ("Host.Config.Connection", false),
    ("Host.Config.DateTime", false),
    ("Host.Config.Firmware", false),
    ("Host.Config.HyperThreading", false),
    ("Host.Config.Maintenance", false),
    ("Host.Config.Memory", false),
    ("Host.Config.NetService", false),
    ("Host.Config.Network", false),
    ("Host.Config.Patch", false),
    ("Host.Config.Power", false),
    ("Host.Config.Resources", false),
    ("Host.Config.Settings", false),
    ("Host.Config.Snmp", false),
    ("Host.Config.Storage", false),
    ("Host.Config.SystemManagement", false),
    ("Host.Local.CreateVM", false),
    ("Host.Local.DeleteVM", false),
    ("Host.Local.ManageUserGroups", false),
    ("Host.Local.ReconfigVM", false),
    ("Resource.ApplyRecommendation", false),
    ("Resource.AssignVAppToPool", false),
    ("Resource.AssignVMToPool", false),
    ("Resource.ColdMigrateVM", false),
    ("Resource.CreatePool", false),
    ("Resource.DeletePool", true),
    ("Resource.EditPool", false),
    ("Resource.HotMigrateVM", false),
    ("Resource.MovePool", true),
    ("Resource.QueryVMotion", false),
    ("Resource.RenamePool", false),
    ("ScheduledTask.Create", false),
    ("ScheduledTask.Delete", false),
    ("ScheduledTask.Edit", false),
    ("ScheduledTask.Run", false),
    ("Extension.Register", false),
    ("Extension.Unregister", false),
    ("Extension.Update", false),
    ("Performance.ModifyIntervals", false),
    ("VirtualMachine.Inventory.Create", false),
    ("VirtualMachine.Inventory.CreateFromExisting", false),
    ("VirtualMachine.Inventory.Delete", true),
    ("VirtualMachine.Inventory.Move", true),
    ("VirtualMachine.Inventory.Register", false),
    ("VirtualMachine.Inventory.Unregister", true),
    ("VirtualMachine.Interact.AnswerQuestion", false),
    ("VirtualMachine.Interact.ConsoleInteract", false),
    ("VirtualMachine.Interact.DeviceConnection", false),
    ("VirtualMachine.Interact.GuestControl", false),
    ("VirtualMachine.Interact.PowerOff", false),
    ("VirtualMachine.Interact.PowerOn", false),
    ("VirtualMachine.Interact.Reset", false),
    ("VirtualMachine.Interact.SetCDMedia", false),
    ("VirtualMachine.Interact.Suspend", false),
    ("VirtualMachine.Interact.ToolsInstall", false),
    ("VirtualMachine.Config.AddExistingDisk", false),
    ("VirtualMachine.Config.AddNewDisk", false),
    ("VirtualMachine.Config.AddRemoveDevice", false),
    ("VirtualMachine.Config.AdvancedConfig", false),
    ("VirtualMachine.Config.Annotation", false),
    ("VirtualMachine.Config.CPUCount", false),
    ("VirtualMachine.Config.DiskExtend", false),
    ("VirtualMachine.Config.EditDevice", false),
    ("VirtualMachine.Config.Memory", false),
    ("VirtualMachine.Config.RemoveDisk", false),
    ("VirtualMachine.Config.Rename", false),
    ("VirtualMachine.Config.Resource", false),
    ("VirtualMachine.Config.Settings", false),
    ("VirtualMachine.Config.UpgradeVirtualHardware", false),
    ("VirtualMachine.GuestOperations.Execute", false),
    ("VirtualMachine.GuestOperations.Modify", false),
    ("VirtualMachine.GuestOperations.Query", false),
    ("VirtualMachine.Provisioning.Clone", false),
    ("VirtualMachine.Provisioning.CloneTemplate", false),
    ("VirtualMachine.Provisioning.Customize", false),
    ("VirtualMachine.Provisioning.DeployTemplate", false),
    ("VirtualMachine.Provisioning.DiskRandomAccess", false),
    ("VirtualMachine.Provisioning.DiskRandomRead", false),
    ("VirtualMachine.Provisioning.GetVmFiles", false),
    ("VirtualMachine.Provisioning.MarkAsTemplate", false),
    ("VirtualMachine.Provisioning.MarkAsVM", false),
    ("VirtualMachine.Provisioning.PutVmFiles", false),
    ("VirtualMachine.State.CreateSnapshot", false),
    ("VirtualMachine.State.RemoveSnapshot", false),
    ("VirtualMachine.State.RenameSnapshot", false),
    ("VirtualMachine.State.RevertToSnapshot", false),
    ("VApp.Import", false),
    ("VApp.Export", false),
    ("Cryptographer.Access", false),
    ("Cryptographer.Clone", false),
    ("Cryptographer.Decrypt", false),
    ("Cryptographer.Encrypt", false),
    ("Cryptographer.ManageKeys", false),
];

/// The label of a privilege group (the id's prefix), as the description lists it.
fn group_label(group: &str) -> String {
    group.rsplit('.').next().unwrap_or(group).to_owned()
}

/// Splits a privilege id into its group and its own name.
fn split(id: &str) -> (&str, &str) {
    id.rsplit_once('.').unwrap_or(("", id))
}

/// Whether `id` is in the catalogue.
pub fn known_privilege(id: &str) -> bool {
    PRIVILEGES.iter().any(|(p, _)| *p == id)
}

/// The privilege catalogue (`privilegeList`).
pub fn privilege_list() -> Vec<AuthorizationPrivilege> {
    PRIVILEGES
        .iter()
        .map(|(id, on_parent)| {
            let (group, name) = split(id);
            AuthorizationPrivilege {
                priv_id: (*id).to_owned(),
                on_parent: *on_parent,
                name: name.to_owned(),
                priv_group_name: group.to_owned(),
            }
        })
        .collect()
}

fn description(label: &str, summary: &str) -> BaseDescription {
    BaseDescription::from(Description {
        label: label.to_owned(),
        summary: summary.to_owned(),
    })
}

fn element(key: &str, label: &str, summary: &str) -> BaseElementDescription {
    BaseElementDescription::from(ElementDescription {
        label: label.to_owned(),
        summary: summary.to_owned(),
        key: key.to_owned(),
    })
}

/// The `description` property: a label and summary per privilege and per privilege group.
fn auth_description() -> AuthorizationDescription {
    let mut groups: Vec<&str> = PRIVILEGES.iter().map(|(id, _)| split(id).0).collect();
    groups.dedup();
    let mut seen = std::collections::BTreeSet::new();
    groups.retain(|g| seen.insert(*g));
    AuthorizationDescription {
        privilege: PRIVILEGES
            .iter()
            .map(|(id, _)| {
                let (group, name) = split(id);
                element(id, name, &format!("{name} ({})", group.replace('.', " > ")))
            })
            .collect(),
        privilege_group: groups
            .iter()
            .map(|g| element(g, &group_label(g), &format!("{} privileges", g)))
            .collect(),
    }
}

/// A built-in or added role.
fn role(
    id: i32,
    system: bool,
    name: &str,
    label: &str,
    summary: &str,
    privs: Vec<String>,
) -> AuthorizationRole {
    AuthorizationRole {
        role_id: id,
        system,
        name: name.to_owned(),
        info: description(label, summary),
        privilege: privs,
    }
}

/// Privileges with `System.*` first, without duplicates, each known.
fn with_system(ids: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut v: Vec<String> = SYSTEM.iter().map(|s| (*s).to_owned()).collect();
    for id in ids {
        if !v.contains(&id) {
            v.push(id);
        }
    }
    v
}

fn all_privileges() -> Vec<String> {
    PRIVILEGES.iter().map(|(p, _)| (*p).to_owned()).collect()
}

fn group_privileges(prefixes: &[&str]) -> Vec<String> {
    with_system(
        PRIVILEGES
            .iter()
            .filter(|(p, _)| prefixes.iter().any(|x| p.starts_with(x)))
            .map(|(p, _)| (*p).to_owned()),
    )
}

/// The roles a fresh server has: the system roles, and on vCenter the sample roles.
fn builtin_roles(flavor: Flavor) -> BTreeMap<i32, AuthorizationRole> {
    let mut v = vec![
        role(
            ADMIN,
            true,
            "Admin",
            "Administrator",
            "Full access rights",
            all_privileges(),
        ),
        role(
            READ_ONLY,
            true,
            "ReadOnly",
            "Read-only",
            "See details of objects, but not make changes",
            with_system([]),
        ),
        role(
            VIEW,
            true,
            "View",
            "View",
            "Visibility access (cannot be granted)",
            vec!["System.Anonymous".into(), "System.View".into()],
        ),
        role(
            ANONYMOUS,
            true,
            "Anonymous",
            "Anonymous",
            "Not logged-in user (cannot be granted)",
            vec!["System.Anonymous".into()],
        ),
        role(
            NO_ACCESS,
            true,
            "NoAccess",
            "No access",
            "Used for restricting granted access",
            Vec::new(),
        ),
        role(
            NO_CRYPTO_ADMIN,
            true,
            "NoCryptoAdmin",
            "No cryptography administrator",
            "Full access without Cryptographic operations privileges",
            PRIVILEGES
                .iter()
                .filter(|(p, _)| !p.starts_with("Cryptographer."))
                .map(|(p, _)| (*p).to_owned())
                .collect(),
        ),
    ];
    if flavor == Flavor::Vcenter {
        let sample = [
            (
                "VirtualMachinePowerUser",
                "Virtual machine power user (sample)",
                "Provides virtual machine interaction and configuration permissions",
                &[
                    "VirtualMachine.Interact.",
                    "VirtualMachine.Config.",
                    "VirtualMachine.State.",
                    "Datastore.Browse",
                ][..],
            ),
            (
                "VirtualMachineUser",
                "Virtual machine user (sample)",
                "Provides virtual machine interaction permissions",
                &["VirtualMachine.Interact.", "Datastore.Browse"][..],
            ),
            (
                "ResourcePoolAdministrator",
                "Resource pool administrator (sample)",
                "Supports delegated resource management",
                &[
                    "Resource.",
                    "VirtualMachine.",
                    "Alarm.",
                    "Folder.",
                    "ScheduledTask.",
                    "Datastore.Browse",
                ][..],
            ),
            (
                "DatastoreConsumer",
                "Datastore consumer (sample)",
                "Assigned to datastores to allow creating disks or snapshots",
                &["Datastore.AllocateSpace"][..],
            ),
            (
                "NetworkConsumer",
                "Network administrator (sample)",
                "Assigned to networks to allow connecting virtual machines",
                &["Network.Assign"][..],
            ),
        ];
        for (i, (name, label, summary, prefixes)) in sample.iter().enumerate() {
            v.push(role(
                i as i32 + 1,
                false,
                name,
                label,
                summary,
                group_privileges(prefixes),
            ));
        }
    }
    v.into_iter().map(|r| (r.role_id, r)).collect()
}

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
