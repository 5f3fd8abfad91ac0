//! Snapshots against esx-sim: the VM's own tree, libvirt's flags and errors.

use crate::support;

use esx_driver::{flags, ErrorCode, HypervisorDriver};
use support::Sim;

fn snap_xml(name: &str, desc: &str) -> String {
    format!("<domainsnapshot><name>{name}</name><description>{desc}</description></domainsnapshot>")
}

#[tokio::test]
async fn snapshot_tree() {
    let sim = Sim::esx("snap").await;
    let c = sim.connect().await;
    let d = c.domain_lookup_by_name("vm1").await.unwrap();
    assert!(!c.domain_has_current_snapshot(&d, 0).await.unwrap());
    let e = c.domain_snapshot_current(&d, 0).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::NoDomainSnapshot);
    let s1 = c
        .domain_snapshot_create_xml(&d, &snap_xml("s1", "first"), 0)
        .await
        .unwrap();
    let s2 = c
        .domain_snapshot_create_xml(&d, &snap_xml("s2", "second"), 0)
        .await
        .unwrap();
    assert!(c.domain_snapshot_is_current(&s2, 0).await.unwrap());
    assert!(!c.domain_snapshot_is_current(&s1, 0).await.unwrap());
    assert_eq!(c.domain_snapshot_current(&d, 0).await.unwrap(), s2);
    assert_eq!(c.domain_snapshot_get_parent(&s2, 0).await.unwrap(), s1);
    let e = c.domain_snapshot_get_parent(&s1, 0).await.unwrap_err();
    assert_eq!(e.message, "snapshot 's1' does not have a parent");
    // Revert to s1, then a sibling s3: s1 has two children.
    c.domain_revert_to_snapshot(&s1, 0).await.unwrap();
    let s3 = c
        .domain_snapshot_create_xml(&d, &snap_xml("s3", ""), flags::snapshot_create::DISK_ONLY)
        .await
        .unwrap();
    assert_eq!(c.domain_snapshot_num(&d, 0).await.unwrap(), 3);
    assert_eq!(
        c.domain_snapshot_list_names(&d, flags::snapshot_list::ROOTS)
            .await
            .unwrap(),
        vec!["s1"]
    );
    let mut leaves = c
        .domain_snapshot_list_names(&d, flags::snapshot_list::LEAVES)
        .await
        .unwrap();
    leaves.sort();
    assert_eq!(leaves, vec!["s2", "s3"]);
    assert_eq!(c.domain_snapshot_num_children(&s1, 0).await.unwrap(), 2);
    assert!(c
        .domain_snapshot_list_names(&d, flags::snapshot_list::METADATA)
        .await
        .unwrap()
        .is_empty());
    assert!(!c.domain_snapshot_has_metadata(&s1, 0).await.unwrap());
    let xml = c.domain_snapshot_get_xml_desc(&s2, 0).await.unwrap();
    assert!(xml.starts_with("<domainsnapshot>\n  <name>s2</name>\n  <description>second</description>\n  <state>shutoff</state>\n  <parent>\n    <name>s1</name>\n  </parent>\n  <creationTime>"), "{xml}");
    assert!(xml.contains(&format!("<uuid>{}</uuid>", d.uuid)), "{xml}");
    // Names are unique; unknown snapshots; disk-only snapshots with <disks> are refused.
    let e = c
        .domain_snapshot_create_xml(&d, &snap_xml("s2", "again"), 0)
        .await
        .unwrap_err();
    assert_eq!(e.message, "Snapshot 's2' already exists");
    let e = c
        .domain_snapshot_lookup_by_name(&d, "nope", 0)
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::NoDomainSnapshot);
    let e = c
        .domain_snapshot_create_xml(&d, "<domainsnapshot><disks/></domainsnapshot>", 0)
        .await
        .unwrap_err();
    assert_eq!(e.message, "disk snapshots not supported yet");
    // Delete s1 with its children: nothing left.
    c.domain_snapshot_delete(&s1, flags::snapshot_delete::CHILDREN)
        .await
        .unwrap();
    assert_eq!(c.domain_snapshot_num(&d, 0).await.unwrap(), 0);
    let _ = s3;
}

#[tokio::test]
async fn snapshot_filters_in_listing() {
    let sim = Sim::esx("snap-list").await;
    let c = sim.connect().await;
    let d = c.domain_lookup_by_name("vm3").await.unwrap();
    c.domain_snapshot_create_xml(&d, &snap_xml("only", ""), 0)
        .await
        .unwrap();
    let with = c
        .connect_list_all_domains(flags::list_domains::HAS_SNAPSHOT)
        .await
        .unwrap();
    assert_eq!(with, vec![d.clone()]);
    let without = c
        .connect_list_all_domains(flags::list_domains::NO_SNAPSHOT)
        .await
        .unwrap();
    assert_eq!(without.len(), 2);
}
