//! The privilege catalogue of vSphere 7.0.3 and the built-in roles of each flavor.

use std::collections::BTreeMap;

use esx_vim::{
    AuthorizationDescription, AuthorizationPrivilege, AuthorizationRole, BaseDescription,
    BaseElementDescription, Description, ElementDescription,
};

use crate::config::Flavor;

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
pub(super) const SYSTEM: &[&str] = &["System.Anonymous", "System.View", "System.Read"];

/// The privilege catalogue: id and whether it is checked on the parent of the entity.
pub(super) const PRIVILEGES: &[(&str, bool)] = &[
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
pub(super) fn group_label(group: &str) -> String {
    group.rsplit('.').next().unwrap_or(group).to_owned()
}

/// Splits a privilege id into its group and its own name.
pub(super) fn split(id: &str) -> (&str, &str) {
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

pub(super) fn description(label: &str, summary: &str) -> BaseDescription {
    BaseDescription::from(Description {
        label: label.to_owned(),
        summary: summary.to_owned(),
    })
}

pub(super) fn element(key: &str, label: &str, summary: &str) -> BaseElementDescription {
    BaseElementDescription::from(ElementDescription {
        label: label.to_owned(),
        summary: summary.to_owned(),
        key: key.to_owned(),
    })
}

/// The `description` property: a label and summary per privilege and per privilege group.
pub(super) fn auth_description() -> AuthorizationDescription {
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
pub(super) fn role(
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
pub(super) fn with_system(ids: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut v: Vec<String> = SYSTEM.iter().map(|s| (*s).to_owned()).collect();
    for id in ids {
        if !v.contains(&id) {
            v.push(id);
        }
    }
    v
}

pub(super) fn all_privileges() -> Vec<String> {
    PRIVILEGES.iter().map(|(p, _)| (*p).to_owned()).collect()
}

pub(super) fn group_privileges(prefixes: &[&str]) -> Vec<String> {
    with_system(
        PRIVILEGES
            .iter()
            .filter(|(p, _)| prefixes.iter().any(|x| p.starts_with(x)))
            .map(|(p, _)| (*p).to_owned()),
    )
}

/// The roles a fresh server has: the system roles, and on vCenter the sample roles.
pub(super) fn builtin_roles(flavor: Flavor) -> BTreeMap<i32, AuthorizationRole> {
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
