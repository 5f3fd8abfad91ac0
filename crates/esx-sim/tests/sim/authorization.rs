//! Roles, permissions and privilege checks (`AuthorizationManager`), the session list, the
//! diagnostic logs and a host's date/time, service and certificate managers, through the
//! dispatcher; and govc's role, permission and log commands against a running simulator.

use crate::support;

use std::path::Path;

use esx_sim::state::{moref, Ctx, Mo, MoRef, State};
use esx_sim::Flavor;
use esx_vim::*;

use support::{call, read, start};

use support::govc::GOVC;

fn auth(state: &State) -> MoRef {
    match state.flavor() {
        Flavor::Esx => moref("AuthorizationManager", "ha-authmgr"),
        Flavor::Vcenter => moref("AuthorizationManager", "AuthorizationManager"),
    }
}

/// The VMs, by id.
fn vms(state: &State) -> Vec<MoRef> {
    let mut v: Vec<MoRef> = state
        .objects
        .iter()
        .filter(|(_, m)| matches!(m, Mo::VirtualMachine(_)))
        .map(|(id, _)| moref("VirtualMachine", id))
        .collect();
    v.sort();
    v
}

fn root(state: &State) -> MoRef {
    esx_sim::mo::service_instance::content(state).root_folder
}

fn roles(state: &State) -> Vec<AuthorizationRole> {
    match read(state, &auth(state), "roleList") {
        Some(Any::ArrayOfAuthorizationRole(a)) => a.authorization_role,
        other => panic!("roleList: {other:?}"),
    }
}

fn perm(entity: &MoRef, principal: &str, role_id: i32, propagate: bool) -> Permission {
    Permission {
        entity: Some(entity.clone()),
        principal: principal.into(),
        group: false,
        role_id,
        propagate,
    }
}

fn set_perms(
    state: &mut State,
    entity: &MoRef,
    p: Vec<Permission>,
) -> Result<Response, Box<BaseMethodFault>> {
    let this = auth(state);
    call(
        state,
        Request::SetEntityPermissions(Box::new(SetEntityPermissionsRequestType {
            this,
            entity: entity.clone(),
            permission: p,
        })),
    )
}

fn add_role(state: &mut State, name: &str, privs: &[&str]) -> Result<i32, Box<BaseMethodFault>> {
    let this = auth(state);
    match call(
        state,
        Request::AddAuthorizationRole(Box::new(AddAuthorizationRoleRequestType {
            this,
            name: name.into(),
            priv_ids: privs.iter().map(|p| (*p).to_owned()).collect(),
        })),
    )? {
        Response::AddAuthorizationRole(r) => Ok(r.returnval),
        other => panic!("AddAuthorizationRole: {other:?}"),
    }
}

fn entity_perms(state: &mut State, entity: &MoRef, inherited: bool) -> Vec<Permission> {
    let this = auth(state);
    match call(
        state,
        Request::RetrieveEntityPermissions(Box::new(RetrieveEntityPermissionsRequestType {
            this,
            entity: entity.clone(),
            inherited,
        })),
    )
    .expect("RetrieveEntityPermissions")
    {
        Response::RetrieveEntityPermissions(r) => r.returnval,
        other => panic!("{other:?}"),
    }
}

/// Logs `user` in through the dispatcher; the session's context.
#[allow(clippy::field_reassign_with_default)] // whatever other fields `Ctx` grows
fn login(state: &mut State, user: &str, key: &str) -> Ctx {
    let sm = esx_sim::mo::service_instance::content(state)
        .session_manager
        .expect("session manager");
    let k = key.to_owned();
    esx_sim::dispatch::handle(
        state,
        &Ctx::default(),
        Request::Login(Box::new(LoginRequestType {
            this: sm,
            user_name: user.into(),
            password: "pass".into(),
            locale: None,
        })),
        &move || k.clone(),
    )
    .expect("login");
    let mut ctx = Ctx::default();
    ctx.session = Some(key.to_owned());
    ctx
}

fn power_on_as(state: &mut State, ctx: &Ctx, vm: &MoRef) -> Result<Response, Box<BaseMethodFault>> {
    esx_sim::dispatch::handle(
        state,
        ctx,
        Request::PowerOnVM_Task(Box::new(PowerOnVMRequestType {
            this: vm.clone(),
            host: None,
        })),
        &|| "unused".to_owned(),
    )
    .map(|(r, _)| r)
    .map_err(|f| Box::new(f.fault))
}

fn no_permission(r: Result<Response, Box<BaseMethodFault>>, privilege: &str) {
    match r {
        Err(e) => match *e {
            BaseMethodFault::NoPermission(f) => assert_eq!(f.privilege_id, privilege),
            other => panic!("want NoPermission, got {other:?}"),
        },
        Ok(r) => panic!("want NoPermission, got {r:?}"),
    }
}

#[test]
fn built_in_roles_privileges_and_role_changes() {
    for flavor in [Flavor::Esx, Flavor::Vcenter] {
        let (mut state, dir) = start("auth", &format!("roles-{flavor:?}"), flavor, None);
        let rs = roles(&state);
        for (id, name) in [
            (-1, "Admin"),
            (-2, "ReadOnly"),
            (-3, "View"),
            (-4, "Anonymous"),
            (-5, "NoAccess"),
        ] {
            let r = rs
                .iter()
                .find(|r| r.role_id == id)
                .unwrap_or_else(|| panic!("role {id}"));
            assert_eq!(r.name, name);
            assert!(r.system);
        }
        let admin = rs.iter().find(|r| r.role_id == -1).unwrap();
        assert!(admin
            .privilege
            .iter()
            .any(|p| p == "VirtualMachine.Interact.PowerOn"));
        let ro = rs.iter().find(|r| r.role_id == -2).unwrap();
        assert_eq!(
            ro.privilege,
            ["System.Anonymous", "System.View", "System.Read"]
        );
        match read(&state, &auth(&state), "privilegeList") {
            Some(Any::ArrayOfAuthorizationPrivilege(a)) => {
                let p = a
                    .authorization_privilege
                    .iter()
                    .find(|p| p.priv_id == "VirtualMachine.Interact.PowerOn")
                    .expect("PowerOn privilege");
                assert_eq!(p.priv_group_name, "VirtualMachine.Interact");
                assert_eq!(p.name, "PowerOn");
                assert!(a
                    .authorization_privilege
                    .iter()
                    .any(|p| p.priv_id == "System.Read"));
            }
            other => panic!("privilegeList: {other:?}"),
        }
        // Adding, renaming and removing a role.
        let id = add_role(&mut state, "Operator", &["VirtualMachine.Interact.PowerOn"]).unwrap();
        let op = roles(&state).into_iter().find(|r| r.role_id == id).unwrap();
        assert_eq!(op.name, "Operator");
        assert!(!op.system);
        assert!(
            op.privilege.iter().any(|p| p == "System.Read"),
            "System.* always held"
        );
        let e = add_role(&mut state, "Operator", &[]).unwrap_err();
        assert!(matches!(*e, BaseMethodFault::AlreadyExists(_)), "{e:?}");
        let e = add_role(&mut state, "Other", &["No.Such.Privilege"]).unwrap_err();
        assert!(matches!(*e, BaseMethodFault::InvalidArgument(_)), "{e:?}");
        let e = add_role(&mut state, "", &[]).unwrap_err();
        assert!(matches!(*e, BaseMethodFault::InvalidName(_)), "{e:?}");
        let this = auth(&state);
        call(
            &mut state,
            Request::UpdateAuthorizationRole(Box::new(UpdateAuthorizationRoleRequestType {
                this: this.clone(),
                role_id: id,
                new_name: "PowerOperator".into(),
                priv_ids: vec![
                    "VirtualMachine.Interact.PowerOn".into(),
                    "VirtualMachine.Interact.PowerOff".into(),
                ],
            })),
        )
        .unwrap();
        let op = roles(&state).into_iter().find(|r| r.role_id == id).unwrap();
        assert_eq!(op.name, "PowerOperator");
        assert!(op
            .privilege
            .iter()
            .any(|p| p == "VirtualMachine.Interact.PowerOff"));
        let remove = |role_id, fail_if_used| {
            Request::RemoveAuthorizationRole(Box::new(RemoveAuthorizationRoleRequestType {
                this: this.clone(),
                role_id,
                fail_if_used,
            }))
        };
        let e = call(&mut state, remove(-1, false)).unwrap_err();
        assert!(
            matches!(*e, BaseMethodFault::InvalidArgument(_)),
            "system role: {e:?}"
        );
        let e = call(&mut state, remove(4242, false)).unwrap_err();
        assert!(matches!(*e, BaseMethodFault::NotFound(_)), "{e:?}");
        // A role in use is kept with failIfUsed, removed with its permissions without.
        let vm = vms(&state)[0].clone();
        set_perms(&mut state, &vm, vec![perm(&vm, "readonly", id, true)]).unwrap();
        let e = call(&mut state, remove(id, true)).unwrap_err();
        assert!(matches!(*e, BaseMethodFault::RemoveFailed(_)), "{e:?}");
        call(&mut state, remove(id, false)).unwrap();
        assert!(roles(&state).iter().all(|r| r.role_id != id));
        assert!(entity_perms(&mut state, &vm, false).is_empty());
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[test]
fn permissions_propagate_and_are_retrieved() {
    let (mut state, dir) = start("auth", "propagate", Flavor::Vcenter, None);
    let root = root(&state);
    let vm = vms(&state)[0].clone();
    let folder = state.parent_of(&vm).expect("vm folder");
    // Defaults: the administrator Admin and the read-only user ReadOnly on the root folder.
    let on_root = entity_perms(&mut state, &root, false);
    assert!(on_root
        .iter()
        .any(|p| p.principal == "root" && p.role_id == -1 && p.propagate));
    assert!(on_root
        .iter()
        .any(|p| p.principal == "readonly" && p.role_id == -2));
    assert!(entity_perms(&mut state, &vm, false).is_empty());
    let inherited = entity_perms(&mut state, &vm, true);
    let root_perm = inherited
        .iter()
        .find(|p| p.principal == "root")
        .expect("inherited");
    assert_eq!(root_perm.entity.as_ref(), Some(&root));

    let id = add_role(&mut state, "Operator", &["VirtualMachine.Interact.PowerOn"]).unwrap();
    set_perms(
        &mut state,
        &folder,
        vec![perm(&folder, "readonly", id, true)],
    )
    .unwrap();
    let inherited = entity_perms(&mut state, &vm, true);
    let p = inherited
        .iter()
        .find(|p| p.principal == "readonly")
        .unwrap();
    assert_eq!(
        (p.role_id, p.entity.as_ref()),
        (id, Some(&folder)),
        "the nearest wins"
    );

    let this = auth(&state);
    let fetch = |state: &mut State, e: &MoRef| match call(
        state,
        Request::FetchUserPrivilegeOnEntities(Box::new(FetchUserPrivilegeOnEntitiesRequestType {
            this: this.clone(),
            entities: vec![e.clone()],
            user_name: "readonly".into(),
        })),
    )
    .unwrap()
    {
        Response::FetchUserPrivilegeOnEntities(r) => r.returnval[0].privileges.clone(),
        other => panic!("{other:?}"),
    };
    assert!(fetch(&mut state, &vm)
        .iter()
        .any(|p| p == "VirtualMachine.Interact.PowerOn"));
    assert!(!fetch(&mut state, &root)
        .iter()
        .any(|p| p == "VirtualMachine.Interact.PowerOn"));
    match call(
        &mut state,
        Request::HasUserPrivilegeOnEntities(Box::new(HasUserPrivilegeOnEntitiesRequestType {
            this: this.clone(),
            entities: vec![vm.clone(), root.clone()],
            user_name: "readonly".into(),
            priv_id: vec!["VirtualMachine.Interact.PowerOn".into()],
        })),
    )
    .unwrap()
    {
        Response::HasUserPrivilegeOnEntities(r) => {
            assert!(r.returnval[0].priv_availability[0].is_granted);
            assert!(!r.returnval[1].priv_availability[0].is_granted);
        }
        other => panic!("{other:?}"),
    }

    // Not propagating: applies to the folder only.
    set_perms(
        &mut state,
        &folder,
        vec![perm(&folder, "readonly", id, false)],
    )
    .unwrap();
    assert!(!fetch(&mut state, &vm)
        .iter()
        .any(|p| p == "VirtualMachine.Interact.PowerOn"));
    assert!(fetch(&mut state, &folder)
        .iter()
        .any(|p| p == "VirtualMachine.Interact.PowerOn"));

    match call(
        &mut state,
        Request::RetrieveRolePermissions(Box::new(RetrieveRolePermissionsRequestType {
            this: this.clone(),
            role_id: id,
        })),
    )
    .unwrap()
    {
        Response::RetrieveRolePermissions(r) => assert_eq!(r.returnval.len(), 1),
        other => panic!("{other:?}"),
    }
    match call(
        &mut state,
        Request::RetrieveAllPermissions(Box::new(RetrieveAllPermissionsRequestType {
            this: this.clone(),
        })),
    )
    .unwrap()
    {
        Response::RetrieveAllPermissions(r) => assert!(r.returnval.len() >= 3),
        other => panic!("{other:?}"),
    }

    // Faults: unknown user, unknown role, unknown entity, the last administrator.
    let e = set_perms(&mut state, &vm, vec![perm(&vm, "nobody", -1, true)]).unwrap_err();
    assert!(matches!(*e, BaseMethodFault::UserNotFound(_)), "{e:?}");
    let e = set_perms(&mut state, &vm, vec![perm(&vm, "readonly", 4242, true)]).unwrap_err();
    assert!(matches!(*e, BaseMethodFault::NotFound(_)), "{e:?}");
    let gone = moref("VirtualMachine", "vm-999999");
    let e = set_perms(&mut state, &gone, vec![]).unwrap_err();
    assert!(
        matches!(*e, BaseMethodFault::ManagedObjectNotFound(_)),
        "{e:?}"
    );
    let remove = |user: &str, entity: &MoRef| {
        Request::RemoveEntityPermission(Box::new(RemoveEntityPermissionRequestType {
            this: this.clone(),
            entity: entity.clone(),
            user: user.into(),
            is_group: false,
        }))
    };
    let e = call(&mut state, remove("readonly", &vm)).unwrap_err();
    assert!(matches!(*e, BaseMethodFault::NotFound(_)), "{e:?}");
    call(&mut state, remove("readonly", &folder)).unwrap();
    // vCenter's administrators group keeps Admin, so root's own permission may go.
    call(&mut state, remove("root", &root)).unwrap();
    let e = call(
        &mut state,
        Request::RemoveEntityPermission(Box::new(RemoveEntityPermissionRequestType {
            this: this.clone(),
            entity: root.clone(),
            user: "VSPHERE.LOCAL\\Administrators".into(),
            is_group: true,
        })),
    )
    .unwrap_err();
    assert!(
        matches!(*e, BaseMethodFault::AuthMinimumAdminPermission(_)),
        "{e:?}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn no_permission_follows_the_permissions() {
    let (mut state, dir) = start("auth", "nopermission", Flavor::Esx, None);
    let ro = login(&mut state, "readonly", "ro-session");
    let v = vms(&state);
    let (vm1, vm2) = (v[0].clone(), v[1].clone());
    // ReadOnly on the root folder: powering on is refused, naming the privilege.
    no_permission(
        power_on_as(&mut state, &ro, &vm1),
        "VirtualMachine.Interact.PowerOn",
    );
    // Admin on vm1 alone: vm1 powers on, vm2 still refuses.
    set_perms(&mut state, &vm1, vec![perm(&vm1, "readonly", -1, true)]).unwrap();
    power_on_as(&mut state, &ro, &vm1).expect("allowed on vm1");
    no_permission(
        power_on_as(&mut state, &ro, &vm2),
        "VirtualMachine.Interact.PowerOn",
    );
    // ReadOnly on vm2 explicitly: still refused; the administrator is not.
    set_perms(&mut state, &vm2, vec![perm(&vm2, "readonly", -2, false)]).unwrap();
    no_permission(
        power_on_as(&mut state, &ro, &vm2),
        "VirtualMachine.Interact.PowerOn",
    );
    let admin = login(&mut state, "root", "root-session");
    power_on_as(&mut state, &admin, &vm2).expect("the administrator may");
    // The read-only user may not change permissions either.
    let this = auth(&state);
    let r = esx_sim::dispatch::handle(
        &mut state,
        &ro,
        Request::SetEntityPermissions(Box::new(SetEntityPermissionsRequestType {
            this,
            entity: vm2.clone(),
            permission: vec![perm(&vm2, "readonly", -1, true)],
        })),
        &|| "unused".to_owned(),
    )
    .map(|(r, _)| r)
    .map_err(|f| Box::new(f.fault));
    no_permission(r, "Authorization.ModifyPermissions");
    // HasPrivilegeOnEntity answers for a session.
    let this = auth(&state);
    match call(
        &mut state,
        Request::HasPrivilegeOnEntity(Box::new(HasPrivilegeOnEntityRequestType {
            this,
            entity: vm1.clone(),
            session_id: "ro-session".into(),
            priv_id: vec![
                "VirtualMachine.Interact.PowerOn".into(),
                "System.Read".into(),
            ],
        })),
    )
    .unwrap()
    {
        Response::HasPrivilegeOnEntity(r) => assert_eq!(r.returnval, [true, true]),
        other => panic!("{other:?}"),
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn sessions_logs_and_host_managers() {
    for flavor in [Flavor::Esx, Flavor::Vcenter] {
        let (mut state, dir) = start("auth", &format!("host-{flavor:?}"), flavor, None);
        login(&mut state, "root", "s1");
        login(&mut state, "readonly", "s2");
        let sm = esx_sim::mo::service_instance::content(&state)
            .session_manager
            .unwrap();
        match read(&state, &sm, "sessionList") {
            Some(Any::ArrayOfUserSession(a)) => {
                let users: Vec<&str> = a
                    .user_session
                    .iter()
                    .map(|s| s.user_name.as_str())
                    .collect();
                assert_eq!(users.len(), 2, "{users:?}");
                assert!(users.contains(&"root") && users.contains(&"readonly"));
                assert!(a
                    .user_session
                    .iter()
                    .all(|s| s.ip_address.as_deref() == Some("127.0.0.1")));
            }
            other => panic!("sessionList: {other:?}"),
        }

        // Logs: the descriptions, and a power-on among the lines.
        let vm = vms(&state)[0].clone();
        support::power_on(&mut state, &vm);
        let dm = esx_sim::mo::service_instance::content(&state)
            .diagnostic_manager
            .unwrap();
        // The VM's own host, whose logs show the power-on.
        let host = state.vm(&vm).unwrap().host.clone();
        let hq = (flavor == Flavor::Vcenter).then(|| host.clone());
        match call(
            &mut state,
            Request::QueryDescriptions(Box::new(QueryDescriptionsRequestType {
                this: dm.clone(),
                host: hq.clone(),
            })),
        )
        .unwrap()
        {
            Response::QueryDescriptions(r) => {
                assert!(
                    r.returnval.iter().any(|d| d.key == "hostd"),
                    "{:?}",
                    r.returnval
                );
            }
            other => panic!("{other:?}"),
        }
        let browse = |state: &mut State, key: &str, start: Option<i32>, lines: Option<i32>| {
            call(
                state,
                Request::BrowseDiagnosticLog(Box::new(BrowseDiagnosticLogRequestType {
                    this: dm.clone(),
                    host: hq.clone(),
                    key: key.into(),
                    start,
                    lines,
                })),
            )
        };
        let h = match browse(&mut state, "hostd", Some(i32::MAX), None).unwrap() {
            Response::BrowseDiagnosticLog(r) => r.returnval,
            other => panic!("{other:?}"),
        };
        assert!(h.line_text.is_empty() && h.line_end > 3, "{h:?}");
        let h = match browse(&mut state, "hostd", Some(1), None).unwrap() {
            Response::BrowseDiagnosticLog(r) => r.returnval,
            other => panic!("{other:?}"),
        };
        assert!(
            h.line_text.iter().any(|l| l.contains("VmPoweredOnEvent")),
            "{:?}",
            h.line_text
        );
        let e = browse(&mut state, "nosuchlog", None, None).unwrap_err();
        assert!(matches!(*e, BaseMethodFault::CannotAccessFile(_)), "{e:?}");

        // The host's date/time system.
        let cm = match read(&state, &host, "configManager") {
            Some(Any::HostConfigManager(c)) => c,
            other => panic!("configManager: {other:?}"),
        };
        let dts = cm.date_time_system.expect("dateTimeSystem");
        call(
            &mut state,
            Request::UpdateDateTimeConfig(Box::new(UpdateDateTimeConfigRequestType {
                this: dts.clone(),
                config: HostDateTimeConfig {
                    ntp_config: Some(HostNtpConfig {
                        server: vec!["0.pool.ntp.org".into()],
                        config_file: Vec::new(),
                    }),
                    enabled: Some(true),
                    ..Default::default()
                },
            })),
        )
        .unwrap();
        match read(&state, &dts, "dateTimeInfo") {
            Some(Any::HostDateTimeInfo(i)) => {
                assert_eq!(i.time_zone.key, "UTC");
                assert_eq!(i.ntp_config.unwrap().server, ["0.pool.ntp.org"]);
            }
            other => panic!("dateTimeInfo: {other:?}"),
        }
        let e = call(
            &mut state,
            Request::UpdateDateTimeConfig(Box::new(UpdateDateTimeConfigRequestType {
                this: dts.clone(),
                config: HostDateTimeConfig {
                    time_zone: Some("Mars/Olympus".into()),
                    ..Default::default()
                },
            })),
        )
        .unwrap_err();
        assert!(matches!(*e, BaseMethodFault::InvalidArgument(_)), "{e:?}");
        let later = esx_sim::state::now() + chrono::Duration::hours(2);
        call(
            &mut state,
            Request::UpdateDateTime(Box::new(UpdateDateTimeRequestType {
                this: dts.clone(),
                date_time: later,
            })),
        )
        .unwrap();
        match call(
            &mut state,
            Request::QueryDateTime(Box::new(QueryDateTimeRequestType { this: dts.clone() })),
        )
        .unwrap()
        {
            Response::QueryDateTime(r) => {
                let off = r.returnval.signed_duration_since(esx_sim::state::now());
                assert!(off > chrono::Duration::minutes(119), "{off:?}");
            }
            other => panic!("{other:?}"),
        }

        // Its services.
        let ss = cm.service_system.expect("serviceSystem");
        let ntpd = |state: &State| match read(state, &ss, "serviceInfo") {
            Some(Any::HostServiceInfo(i)) => {
                i.service.into_iter().find(|s| s.key == "ntpd").unwrap()
            }
            other => panic!("serviceInfo: {other:?}"),
        };
        assert!(!ntpd(&state).running);
        call(
            &mut state,
            Request::StartService(Box::new(StartServiceRequestType {
                this: ss.clone(),
                id: "ntpd".into(),
            })),
        )
        .unwrap();
        call(
            &mut state,
            Request::UpdateServicePolicy(Box::new(UpdateServicePolicyRequestType {
                this: ss.clone(),
                id: "ntpd".into(),
                policy: "on".into(),
            })),
        )
        .unwrap();
        let s = ntpd(&state);
        assert!(s.running && s.policy == "on");
        let e = call(
            &mut state,
            Request::StopService(Box::new(StopServiceRequestType {
                this: ss.clone(),
                id: "vmsyslogd".into(),
            })),
        )
        .unwrap_err();
        assert!(matches!(*e, BaseMethodFault::InvalidState(_)), "{e:?}");
        let e = call(
            &mut state,
            Request::StartService(Box::new(StartServiceRequestType {
                this: ss.clone(),
                id: "nosuchd".into(),
            })),
        )
        .unwrap_err();
        assert!(matches!(*e, BaseMethodFault::NotFound(_)), "{e:?}");

        // Its certificate.
        let certm = cm.certificate_manager.expect("certificateManager");
        match read(&state, &certm, "certificateInfo") {
            Some(Any::HostCertificateManagerCertificateInfo(c)) => {
                assert_eq!(c.status, "good");
                assert!(c.subject.is_some() && c.not_after > c.not_before);
            }
            other => panic!("certificateInfo: {other:?}"),
        }
        match call(
            &mut state,
            Request::GenerateCertificateSigningRequest(Box::new(
                GenerateCertificateSigningRequestRequestType {
                    this: certm.clone(),
                    use_ip_address_as_common_name: false,
                },
            )),
        )
        .unwrap()
        {
            Response::GenerateCertificateSigningRequest(r) => {
                assert!(r
                    .returnval
                    .starts_with("-----BEGIN CERTIFICATE REQUEST-----"))
            }
            other => panic!("{other:?}"),
        }
        let by_dn = |dn: &str| {
            Request::GenerateCertificateSigningRequestByDn(Box::new(
                GenerateCertificateSigningRequestByDnRequestType {
                    this: certm.clone(),
                    distinguished_name: dn.into(),
                },
            ))
        };
        call(&mut state, by_dn("CN=esx.example.com,O=Example")).unwrap();
        let e = call(&mut state, by_dn("bogus")).unwrap_err();
        assert!(matches!(*e, BaseMethodFault::InvalidArgument(_)), "{e:?}");
        let _ = std::fs::remove_dir_all(dir);
    }
}

fn govc(url: &str, home: &Path, args: &[&str]) -> (bool, String) {
    support::govc::run(url, home, args)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn govc_roles_permissions_and_logs() {
    if !Path::new(GOVC).exists() {
        eprintln!("SKIPPED: {GOVC} is missing (/opt/peers not installed)");
        return;
    }
    for flavor in [Flavor::Esx, Flavor::Vcenter] {
        let dir = support::data_dir("auth", &format!("{flavor:?}"));
        let mut cfg = esx_sim::Config::new(&dir);
        cfg.flavor = flavor;
        let h = esx_sim::Simulator::start(cfg).await.unwrap();
        let port = h.addr.port();
        let home = dir.join("govmomi");
        let r = tokio::task::spawn_blocking(move || {
            let admin = format!("https://root:pass@127.0.0.1:{port}/sdk");
            let ro = format!("https://readonly:pass@127.0.0.1:{port}/sdk");
            let ok = |url: &str, args: &[&str]| {
                let (ok, out) = govc(url, &home, args);
                assert!(ok, "govc {}: {out}", args.join(" "));
                out
            };
            let vm = ok(&admin, &["ls", "/*/vm/*"])
                .lines()
                .next()
                .expect("a VM")
                .trim()
                .to_owned();
            assert!(ok(&admin, &["role.ls"]).contains("ReadOnly"));
            ok(
                &admin,
                &["role.create", "Operator", "VirtualMachine.Interact.PowerOn"],
            );
            assert!(
                ok(&admin, &["role.ls", "Operator"]).contains("VirtualMachine.Interact.PowerOn")
            );
            // The read-only user cannot power on until a permission allows it on that VM.
            let (done, out) = govc(&ro, &home, &["vm.power", "-on", &vm]);
            assert!(
                !done && (out.contains("NoPermission") || out.contains("Permission to perform")),
                "{out}"
            );
            ok(
                &admin,
                &[
                    "permissions.set",
                    "-principal",
                    "readonly",
                    "-role",
                    "Operator",
                    &vm,
                ],
            );
            let listed = ok(&admin, &["permissions.ls", &vm]);
            assert!(
                listed.contains("Operator") && listed.contains("readonly"),
                "{listed}"
            );
            ok(&ro, &["vm.power", "-on", &vm]);
            assert!(ok(&admin, &["role.usage", "Operator"]).contains("Operator"));
            ok(
                &admin,
                &["permissions.remove", "-principal", "readonly", &vm],
            );
            let (done, _) = govc(&ro, &home, &["vm.power", "-off", &vm]);
            assert!(!done, "the permission is gone");
            let sessions = ok(&admin, &["session.ls"]);
            assert!(sessions.contains("readonly"), "{sessions}");
            assert!(sessions.contains("govc"), "the user agent: {sessions}");
            let log = ok(&admin, &["logs", "-n", "50"]);
            assert!(log.contains("VmPoweredOnEvent"), "{log}");
        })
        .await;
        h.shutdown().await;
        let _ = std::fs::remove_dir_all(&dir);
        r.unwrap();
    }
}
