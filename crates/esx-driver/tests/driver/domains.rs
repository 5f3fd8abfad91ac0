//! The hypervisor table against esx-sim (ESX flavour) over HTTPS: host information, listing
//! and lookup, the life cycle, XML, resources, the scheduler and autostart, with libvirt's
//! errors for bad input.

use crate::support;

use esx_driver::{
    flags, DomainState, DriverFeature, ErrorCode, HypervisorDriver, TypedParam, TypedValue,
};
use support::Sim;

#[tokio::test]
async fn host_information() {
    let sim = Sim::esx("host").await;
    let c = sim.connect().await;
    assert_eq!(c.connect_get_type().await.unwrap(), "ESX");
    assert_eq!(c.connect_get_version().await.unwrap(), 7_000_003);
    assert!(c.connect_is_encrypted().await.unwrap());
    assert!(c.connect_is_secure().await.unwrap());
    assert!(c.connect_is_alive().await.unwrap());
    let hn = c.connect_get_hostname().await.unwrap();
    assert!(!hn.is_empty() && !hn.ends_with('.'), "{hn}");
    let node = c.node_get_info().await.unwrap();
    assert_eq!(
        (node.cpus, node.mhz, node.memory),
        (8, 2400, 32 * 1024 * 1024)
    );
    assert!(
        node.model.len() <= 31 && !node.model.contains("(R)"),
        "{}",
        node.model
    );
    let caps = c.connect_get_capabilities().await.unwrap();
    assert!(caps.contains("<arch>x86_64</arch>"), "{caps}");
    assert!(
        caps.contains("<uri_transport>vpxmigr</uri_transport>"),
        "{caps}"
    );
    let free = c.node_get_free_memory().await.unwrap();
    assert!(free > 0 && free <= 32 << 30, "{free}");
    // Migration needs a vCenter; global features are libvirt's core business.
    assert!(!c
        .connect_supports_feature(DriverFeature::MigrationV1)
        .await
        .unwrap());
    assert!(c
        .connect_supports_feature(DriverFeature::Global(2))
        .await
        .is_err());
    c.connect_close().await.unwrap();
    assert!(!c.connect_is_alive().await.unwrap());
    let e = c.connect_get_type().await.unwrap_err();
    assert_eq!(e.code, ErrorCode::OperationInvalid);
}

#[tokio::test]
async fn listing_and_lookup() {
    let sim = Sim::esx("list").await;
    let c = sim.connect().await;
    let all = c.connect_list_all_domains(0).await.unwrap();
    let names: Vec<&str> = all.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, ["vm1", "vm2", "vm3"]);
    assert!(all.iter().all(|d| d.id == -1), "all start powered off");
    assert_eq!(c.connect_num_of_domains().await.unwrap(), 0);
    assert_eq!(c.connect_num_of_defined_domains().await.unwrap(), 3);

    let vm2 = c.domain_lookup_by_name("vm2").await.unwrap();
    assert_eq!(c.domain_lookup_by_uuid(&vm2.uuid).await.unwrap(), vm2);
    c.domain_create(&vm2).await.unwrap();
    let running = c.domain_lookup_by_name("vm2").await.unwrap();
    assert!(running.id > 0, "{running:?}");
    assert_eq!(c.domain_lookup_by_id(running.id).await.unwrap(), running);
    assert_eq!(c.connect_list_domains().await.unwrap(), vec![running.id]);
    assert_eq!(
        c.connect_list_defined_domains().await.unwrap(),
        vec!["vm1".to_string(), "vm3".to_string()]
    );
    let active = c
        .connect_list_all_domains(flags::list_domains::ACTIVE)
        .await
        .unwrap();
    assert_eq!(active, vec![running.clone()]);
    let off = c
        .connect_list_all_domains(flags::list_domains::SHUTOFF)
        .await
        .unwrap();
    assert_eq!(off.len(), 2);
    assert!(c
        .connect_list_all_domains(flags::list_domains::TRANSIENT)
        .await
        .unwrap()
        .is_empty());

    // libvirt's errors for what does not exist.
    let e = c.domain_lookup_by_name("nosuch").await.unwrap_err();
    assert_eq!(e.code, ErrorCode::NoDomain);
    assert_eq!(
        e.to_string(),
        "Domain not found: Could not find domain with name 'nosuch'"
    );
    let e = c.domain_lookup_by_id(99999).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::NoDomain);
    let e = c
        .domain_lookup_by_uuid(&"00000000-1111-2222-3333-444444444444".parse().unwrap())
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::NoDomain);
    assert!(
        e.message.contains("00000000-1111-2222-3333-444444444444"),
        "{e}"
    );
}

async fn state(c: &esx_driver::Connection, d: &esx_driver::Domain) -> DomainState {
    c.domain_get_state(d, 0).await.unwrap().0
}

#[tokio::test]
async fn life_cycle_with_state_checks() {
    let sim = Sim::esx("life").await;
    let c = sim.connect().await;
    let d = c.domain_lookup_by_name("vm1").await.unwrap();
    assert_eq!(state(&c, &d).await, DomainState::Shutoff);
    // Wrong state: libvirt's words.
    let e = c.domain_suspend(&d).await.unwrap_err();
    assert_eq!(
        (e.code, e.message.as_str()),
        (ErrorCode::OperationInvalid, "Domain is not powered on")
    );
    let e = c.domain_resume(&d).await.unwrap_err();
    assert_eq!(e.message, "Domain is not suspended");
    assert!(c.domain_destroy(&d).await.is_err());
    assert!(c.domain_shutdown(&d).await.is_err());

    c.domain_create(&d).await.unwrap();
    assert_eq!(state(&c, &d).await, DomainState::Running);
    assert!(c.domain_is_active(&d).await.unwrap());
    let e = c.domain_create(&d).await.unwrap_err();
    assert_eq!(e.message, "Domain is not powered off");
    c.domain_suspend(&d).await.unwrap();
    assert_eq!(state(&c, &d).await, DomainState::Paused);
    // Suspended domains cannot be undefined… only shut off or suspended may; running not.
    let e = c.domain_screenshot(&d, 0, 0).await.unwrap_err();
    assert_eq!(e.message, "Domain is not powered on");
    c.domain_resume(&d).await.unwrap();
    assert_eq!(state(&c, &d).await, DomainState::Running);
    // The console through /screen (the host's capability says it can).
    let (mime, png) = c.domain_screenshot(&d, 0, 0).await.unwrap();
    assert_eq!(mime, "image/png");
    assert!(png.starts_with(b"\x89PNG\r\n"), "a PNG");
    assert_eq!(
        c.domain_screenshot(&d, 1, 0).await.unwrap_err().message,
        "Screen cannot be selected"
    );
    let e = c.domain_undefine(&d).await.unwrap_err();
    assert_eq!(e.message, "Domain is not suspended and not powered off");
    c.domain_reboot(&d, 0).await.unwrap();
    c.domain_shutdown(&d).await.unwrap();
    let after = state(&c, &d).await;
    assert!(
        matches!(after, DomainState::Shutoff | DomainState::Running),
        "{after:?}"
    );
    if after == DomainState::Running {
        c.domain_destroy(&d).await.unwrap();
    }
    assert_eq!(state(&c, &d).await, DomainState::Shutoff);
    assert!(!c.domain_is_active(&d).await.unwrap());
    assert!(c.domain_is_persistent(&d).await.unwrap());
    assert!(!c.domain_is_updated(&d).await.unwrap());
    assert!(!c.domain_has_managed_save_image(&d, 0).await.unwrap());
    assert_eq!(c.domain_get_os_type(&d).await.unwrap(), "hvm");
    // Unsupported flags are refused as libvirt does.
    let e = c.domain_create_with_flags(&d, 1).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidArg);
    assert!(e.message.starts_with("unsupported flags (0x1)"), "{e}");
}

#[tokio::test]
async fn info_memory_vcpus_and_scheduler() {
    let sim = Sim::esx("res").await;
    let c = sim.connect().await;
    let d = c.domain_lookup_by_name("vm1").await.unwrap();
    let info = c.domain_get_info(&d).await.unwrap();
    assert_eq!(info.state, DomainState::Shutoff);
    assert_eq!(info.max_mem, c.domain_get_max_memory(&d).await.unwrap());
    assert_eq!(
        info.memory, info.max_mem,
        "unlimited memory reads as the maximum"
    );

    c.domain_set_max_memory(&d, 1_000_000).await.unwrap();
    // Rounded up to a multiple of 4 MiB: 1,000,000 KiB -> 980 MiB.
    assert_eq!(c.domain_get_max_memory(&d).await.unwrap(), 980 * 1024);
    c.domain_set_memory(&d, 500 * 1024).await.unwrap();
    assert_eq!(c.domain_get_info(&d).await.unwrap().memory, 500 * 1024);
    c.domain_set_memory_parameters(
        &d,
        &[TypedParam::new(
            "min_guarantee",
            TypedValue::ULLong(256 * 1024),
        )],
        0,
    )
    .await
    .unwrap();
    assert_eq!(
        c.domain_get_memory_parameters(&d, 0).await.unwrap(),
        vec![TypedParam::new(
            "min_guarantee",
            TypedValue::ULLong(256 * 1024)
        )]
    );
    let e = c
        .domain_set_memory_parameters(
            &d,
            &[TypedParam::new("hard_limit", TypedValue::ULLong(1))],
            0,
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::ArgumentUnsupported);

    let max = c.domain_get_max_vcpus(&d).await.unwrap();
    assert!(max >= 8, "{max}");
    c.domain_set_vcpus(&d, 4).await.unwrap();
    assert_eq!(c.domain_get_info(&d).await.unwrap().nr_virt_cpu, 4);
    assert_eq!(c.domain_vcpu_count(&d).await.unwrap(), 4);
    let e = c.domain_set_vcpus(&d, 0).await.unwrap_err();
    assert_eq!(
        e.message,
        "Requested number of virtual CPUs must at least be 1"
    );
    let e = c.domain_set_vcpus(&d, max + 1).await.unwrap_err();
    assert!(e.message.contains("greater than max allowable"), "{e}");

    // Setting the maximum memory of a running domain is refused.
    c.domain_create(&d).await.unwrap();
    let e = c.domain_set_max_memory(&d, 2 << 20).await.unwrap_err();
    assert_eq!(e.message, "Domain is not powered off");
    c.domain_destroy(&d).await.unwrap();

    assert_eq!(
        c.domain_get_scheduler_type(&d).await.unwrap(),
        ("allocation".to_string(), 3)
    );
    let params = [
        TypedParam::new("reservation", TypedValue::LLong(500)),
        TypedParam::new("limit", TypedValue::LLong(2000)),
        TypedParam::new("shares", TypedValue::Int(-3)),
    ];
    c.domain_set_scheduler_parameters(&d, &params)
        .await
        .unwrap();
    assert_eq!(c.domain_get_scheduler_parameters(&d).await.unwrap(), params);
    c.domain_set_scheduler_parameters(&d, &[TypedParam::new("shares", TypedValue::Int(1234))])
        .await
        .unwrap();
    let got = c.domain_get_scheduler_parameters(&d).await.unwrap();
    assert_eq!(got[2], TypedParam::new("shares", TypedValue::Int(1234)));
    for (p, msg) in [
        (
            TypedParam::new("reservation", TypedValue::LLong(-1)),
            "expecting positive value",
        ),
        (
            TypedParam::new("limit", TypedValue::LLong(-2)),
            "or -1 (unlimited)",
        ),
        (TypedParam::new("shares", TypedValue::Int(-4)), "-3 (high)"),
    ] {
        let e = c
            .domain_set_scheduler_parameters(&d, &[p])
            .await
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidArg);
        assert!(e.message.contains(msg), "{e}");
    }
    let e = c
        .domain_set_scheduler_parameters(&d, &[TypedParam::new("limit", TypedValue::Int(5))])
        .await
        .unwrap_err();
    assert!(e.message.contains("invalid type"), "{e}");
}

#[tokio::test]
async fn autostart() {
    let sim = Sim::esx("auto").await;
    let c = sim.connect().await;
    let d1 = c.domain_lookup_by_name("vm1").await.unwrap();
    let d2 = c.domain_lookup_by_name("vm2").await.unwrap();
    assert!(!c.domain_get_autostart(&d1).await.unwrap());
    c.domain_set_autostart(&d1, true).await.unwrap();
    assert!(c.domain_get_autostart(&d1).await.unwrap());
    assert!(!c.domain_get_autostart(&d2).await.unwrap());
    let auto = c
        .connect_list_all_domains(flags::list_domains::AUTOSTART)
        .await
        .unwrap();
    assert_eq!(auto, vec![d1.clone()]);
    let no = c
        .connect_list_all_domains(flags::list_domains::NO_AUTOSTART)
        .await
        .unwrap();
    assert_eq!(no.len(), 2);
    c.domain_set_autostart(&d1, false).await.unwrap();
    assert!(!c.domain_get_autostart(&d1).await.unwrap());
}

#[tokio::test]
async fn read_only_connection_refuses_changes() {
    let sim = Sim::esx("ro").await;
    let c = sim.open(&sim.uri(""), true).await;
    assert!(c.is_read_only());
    let d = c.domain_lookup_by_name("vm1").await.unwrap();
    let e = c.domain_create(&d).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::OperationDenied);
    assert_eq!(
        e.to_string(),
        "operation forbidden: read only access prevents virDomainCreateWithFlags"
    );
    assert_eq!(
        c.domain_define_xml(&support::domain_xml("x", "x"))
            .await
            .unwrap_err()
            .code,
        ErrorCode::OperationDenied
    );
    // Reads work.
    assert!(c
        .domain_get_xml_desc(&d, 0)
        .await
        .unwrap()
        .contains("<name>vm1</name>"));
    // A read-only *user* gets the server's NoPermission as "operation forbidden".
    let uri = format!("esx://readonly@127.0.0.1:{}/?no_verify=1", sim.port);
    let ro = esx_driver::Connection::open(&uri, support::options("readonly", false))
        .await
        .unwrap();
    let e = ro.domain_create(&d).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::OperationDenied, "{e}");
    assert_eq!(e.vim_fault().as_deref(), Some("NoPermission"));
}

#[tokio::test]
async fn bad_credentials_and_uris() {
    let sim = Sim::esx("auth").await;
    let e = esx_driver::Connection::open(&sim.uri(""), support::options_with_password("wrong"))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::AuthFailed, "{e}");
    assert!(!e.to_string().contains("wrong"), "the password leaked: {e}");
    let e = esx_driver::Connection::open("esx://127.0.0.1/?transport=ftp", Default::default())
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidArg);
    let e = esx_driver::Connection::open(
        &format!("vpx://root@127.0.0.1:{}/?no_verify=1", sim.port),
        support::options("root", false),
    )
    .await
    .unwrap_err();
    assert_eq!(
        e.message,
        "Path has to specify the datacenter and compute resource"
    );
    // An ESX host is not a vCenter.
    let e = esx_driver::Connection::open(
        &format!("vpx://root@127.0.0.1:{}/dc/cr?no_verify=1", sim.port),
        support::options("root", false),
    )
    .await
    .unwrap_err();
    assert!(e.message.contains("to be a VPX"), "{e}");
    // Without no_verify the simulator's self-signed certificate is refused.
    let e = esx_driver::Connection::open(
        &format!("esx://root@127.0.0.1:{}/", sim.port),
        support::options("root", false),
    )
    .await
    .unwrap_err();
    assert!(e.message.to_lowercase().contains("certificate"), "{e}");
    // vcenter=* on a host no vCenter manages.
    let e = esx_driver::Connection::open(&sim.uri("&vcenter=*"), support::options("root", false))
        .await
        .unwrap_err();
    assert_eq!(e.message, "This host is not managed by a vCenter");
}
