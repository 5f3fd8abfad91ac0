//! Port groups with Nova's rules, and the other compute operations: reboot, suspend,
//! resume, info, the instance list, the console screenshot and ticket, duplicates.

use crate::support;

use base64::Engine;
use esx_provision::{
    no_progress, ImageSource, PortGroupOutcome, ProvisionError, RebootKind, SpawnSpec, Uplink,
};
use support::{pattern, Sim};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vlan_port_groups_follow_novas_rules() {
    let sim = Sim::start("portgroups", esx_sim::Flavor::Esx).await;
    let p = sim.provisioner().await;
    let up = Uplink::Nic("vmnic0".into());
    assert_eq!(
        p.ensure_vlan_portgroup("pg-100", 100, &up).await.unwrap(),
        PortGroupOutcome::Created
    );
    assert_eq!(
        p.ensure_vlan_portgroup("pg-100", 100, &up).await.unwrap(),
        PortGroupOutcome::Existed
    );
    let e = p
        .ensure_vlan_portgroup("pg-100", 101, &up)
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            ProvisionError::PortGroupVlan {
                actual: 100,
                expected: 101,
                ..
            }
        ),
        "{e}"
    );
    let e = p
        .ensure_vlan_portgroup("pg-x", 5, &Uplink::Nic("vmnic7".into()))
        .await
        .unwrap_err();
    assert!(
        matches!(e, ProvisionError::NicNotFound(ref n) if n == "vmnic7"),
        "{e}"
    );
    // vmnic1 exists but no switch uses it.
    let e = p
        .ensure_vlan_portgroup("pg-x", 5, &Uplink::Nic("vmnic1".into()))
        .await
        .unwrap_err();
    assert!(
        matches!(e, ProvisionError::NoVswitch(ref n) if n == "vmnic1"),
        "{e}"
    );
    let e = p
        .ensure_vlan_portgroup("pg-x", 5, &Uplink::Vswitch("vSwitch9".into()))
        .await
        .unwrap_err();
    assert!(matches!(e, ProvisionError::VswitchNotFound(_)), "{e}");
    let e = p
        .ensure_vlan_portgroup("pg-x", 4096, &up)
        .await
        .unwrap_err();
    assert!(matches!(e, ProvisionError::InvalidArgument(_)), "{e}");
    // Two callers racing for the same group: both succeed, one creates it.
    let (a, b) = tokio::join!(
        p.ensure_vlan_portgroup("pg-race", 7, &up),
        p.ensure_vlan_portgroup("pg-race", 7, &up)
    );
    let outcomes = [a.unwrap(), b.unwrap()];
    assert!(
        outcomes.contains(&PortGroupOutcome::Created),
        "{outcomes:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compute_operations() {
    let sim = Sim::start("ops", esx_sim::Flavor::Esx).await;
    let p = sim.provisioner().await;
    let image = sim.file("disk.raw");
    std::fs::write(&image, pattern(1 << 20, 9)).unwrap();
    let vm = p
        .spawn(
            &SpawnSpec::new("ops-1", ImageSource::File(image.clone())),
            no_progress(),
        )
        .await
        .unwrap();
    let d = vm.domain.clone();
    // Nova's duplicate check.
    let e = p
        .spawn(
            &SpawnSpec::new("ops-1", ImageSource::File(image.clone())),
            no_progress(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(e, ProvisionError::Duplicate(ref n) if n == "ops-1"),
        "{e}"
    );
    assert!(p
        .list_instances()
        .await
        .unwrap()
        .contains(&"ops-1".to_string()));
    let info = p.info(&d).await.unwrap();
    assert_eq!((info.nr_virt_cpu, info.max_mem), (1, 512 * 1024));
    assert!(p.is_running(&d).await.unwrap());
    let kind = p.reboot(&d).await.unwrap();
    assert!(matches!(kind, RebootKind::Soft | RebootKind::Hard));
    p.suspend(&d).await.unwrap();
    p.suspend(&d).await.unwrap(); // already suspended: fine
    assert!(!p.is_running(&d).await.unwrap());
    let e = p.reboot(&d).await.unwrap_err();
    assert!(matches!(e, ProvisionError::InvalidState(_)), "{e}");
    p.resume(&d).await.unwrap();
    let e = p.resume(&d).await.unwrap_err();
    assert!(matches!(e, ProvisionError::InvalidState(_)), "{e}");
    let (mime, png) = p.console_screenshot(&d).await.unwrap();
    assert_eq!(mime, "image/png");
    assert!(png.starts_with(b"\x89PNG"));
    let t = p.console_ticket(&d).await.unwrap();
    assert!(!t.ticket.is_empty());
    assert!(t
        .vmrc_uri()
        .starts_with(&format!("vmrc://clone:{}@127.0.0.1:", t.ticket)));
    let json = base64::engine::general_purpose::STANDARD
        .decode(t.nova_password())
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(v["vm_id"], t.vm_id);
    assert_eq!(v["password"], t.ticket);
    p.destroy(&d).await.unwrap();
    assert!(!sim.datastore("datastore1").join("ops-1").exists());
    let e = p.suspend(&d).await.unwrap_err();
    assert!(
        e.to_string().contains("ops-1") || e.to_string().contains(&d.uuid.to_string()),
        "{e}"
    );
}
