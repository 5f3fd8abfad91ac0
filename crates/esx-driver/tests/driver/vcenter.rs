//! The vCenter flavour: vpx:// path walking, a two-host cluster, migration with libvirt's v1
//! protocol (prepare on the destination, perform on the source, finish on the destination),
//! and migration events.

use crate::support;

use std::time::Duration;

use esx_driver::{flags, DomainEventKind, DriverFeature, ErrorCode, HypervisorDriver};
use support::Sim;

async fn vc(name: &str) -> Sim {
    Sim::start_with(name, esx_sim::Flavor::Vcenter, None, |_| {}).await
}

#[tokio::test]
async fn path_walk_and_listing() {
    let sim = vc("vpx-path").await;
    let h0 = sim.open(&sim.vpx_host(0), false).await;
    let h1 = sim.open(&sim.vpx_host(1), false).await;
    assert_eq!(h0.host_system_name(), "esx-0-0-0.sim.local");
    assert_eq!(
        h0.connect_get_hostname().await.unwrap(),
        "esx-0-0-0.sim.local"
    );
    let l0: Vec<String> = h0
        .connect_list_all_domains(0)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.name)
        .collect();
    let l1: Vec<String> = h1
        .connect_list_all_domains(0)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.name)
        .collect();
    assert!(
        l0.contains(&"vm1".to_string()) && !l0.contains(&"vm2".to_string()),
        "{l0:?}"
    );
    assert!(l1.contains(&"vm2".to_string()), "{l1:?}");
    assert!(h0
        .connect_supports_feature(DriverFeature::MigrationV1)
        .await
        .unwrap());
    // Path errors, with libvirt's texts.
    let base = format!("vpx://root@127.0.0.1:{}", sim.port);
    for (path, msg) in [
        (
            "/nodc/x",
            "Could not find datacenter specified in '/nodc/x'",
        ),
        ("/DC0", "Path '/DC0' does not specify a compute resource"),
        (
            "/DC0/Cluster0",
            "Path '/DC0/Cluster0' does not specify a host system",
        ),
        (
            "/DC0/nocr",
            "Could not find compute resource specified in '/DC0/nocr'",
        ),
        (
            "/DC0/Cluster0/nohost",
            "Could not find host system specified in '/DC0/Cluster0/nohost'",
        ),
        (
            "/DC0/Cluster0/esx-0-0-0.sim.local/extra",
            "Path '/DC0/Cluster0/esx-0-0-0.sim.local/extra' ends with an excess item",
        ),
    ] {
        let e = esx_driver::Connection::open(
            &format!("{base}{path}?no_verify=1"),
            support::options("root", false),
        )
        .await
        .unwrap_err();
        assert_eq!(e.message, msg, "{path}");
    }
    // An esx:// URI to a vCenter is refused.
    let e = esx_driver::Connection::open(
        &format!("esx://root@127.0.0.1:{}/?no_verify=1", sim.port),
        support::options("root", false),
    )
    .await
    .unwrap_err();
    assert!(
        e.message.contains("to be a ESX host but found a VPX host"),
        "{e}"
    );
}

#[tokio::test]
async fn migration_v1() {
    let sim = vc("vpx-migrate").await;
    let src = sim.open(&sim.vpx_host(0), false).await;
    let dst = sim.open(&sim.vpx_host(1), false).await;
    let mut events = src.domain_events().await.unwrap();
    let d = src.domain_lookup_by_name("vm1").await.unwrap();
    src.domain_create(&d).await.unwrap();
    let live =
        flags::migrate::LIVE | flags::migrate::PERSIST_DEST | flags::migrate::UNDEFINE_SOURCE;
    let uri = dst
        .domain_migrate_prepare(None, live, None, 0)
        .await
        .unwrap();
    assert!(uri.starts_with("vpxmigr://"), "{uri}");
    src.domain_migrate_perform(&d, &uri, live, None, 0)
        .await
        .unwrap();
    let there = dst.domain_migrate_finish("vm1", &uri, live).await.unwrap();
    assert_eq!(there.uuid, d.uuid);
    assert!(there.id > 0, "still running");
    assert!(
        src.domain_lookup_by_name("vm1").await.is_err(),
        "gone from the source host"
    );
    // The source's event stream saw it leave (after the Started of the power-on).
    let mut kinds = Vec::new();
    while !kinds
        .iter()
        .any(|k| matches!(k, DomainEventKind::Migrated { .. }))
    {
        let e = tokio::time::timeout(Duration::from_secs(10), events.next())
            .await
            .unwrap_or_else(|_| panic!("a migration event after {kinds:?}"))
            .unwrap()
            .unwrap();
        kinds.push(e.kind);
    }
    assert_eq!(
        kinds.last().unwrap(),
        &DomainEventKind::Migrated {
            from: "esx-0-0-0.sim.local".into(),
            to: "esx-0-0-1.sim.local".into()
        }
    );
    // To the host it is already on: ValidateMigration's message comes back.
    let back = dst.domain_migrate_prepare(None, 0, None, 0).await.unwrap();
    let e = dst
        .domain_migrate_perform(&there, &back, 0, None, 0)
        .await
        .unwrap_err();
    assert!(
        e.message
            .starts_with("Could not migrate domain, validation reported a problem"),
        "{e}"
    );
    // libvirt's refusals.
    let e = dst
        .domain_migrate_perform(&there, "tcp://x/y/z", 0, None, 0)
        .await
        .unwrap_err();
    assert_eq!(e.message, "Only vpxmigr:// migration URIs are supported");
    let e = dst
        .domain_migrate_perform(&there, "vpxmigr://10.9.9.9/a/b", 0, None, 0)
        .await
        .unwrap_err();
    assert_eq!(
        e.message,
        "Migration source and destination have to refer to the same vCenter"
    );
    let e = dst
        .domain_migrate_perform(&there, &back, 0, Some("newname"), 0)
        .await
        .unwrap_err();
    assert_eq!(e.message, "Renaming domains on migration not supported");
    let e = dst
        .domain_migrate_perform(&there, &back, flags::migrate::TUNNELLED, None, 0)
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidArg);
}

#[tokio::test]
async fn migration_needs_a_vcenter() {
    let sim = Sim::esx("novc").await;
    let c = sim.connect().await;
    let d = c.domain_lookup_by_name("vm1").await.unwrap();
    let e = c
        .domain_migrate_perform(&d, "vpxmigr://127.0.0.1/p/h", 0, None, 0)
        .await
        .unwrap_err();
    assert_eq!(e.message, "Migration not possible without a vCenter");
    let e = c
        .domain_migrate_prepare(None, 0, None, 0)
        .await
        .unwrap_err();
    assert_eq!(e.message, "Migration not possible without a vCenter");
}
