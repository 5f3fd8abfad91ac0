//! Storage pools and volumes (datastores), networks (virtual switches) and interfaces
//! (physical NICs) against esx-sim.

use crate::support;

use esx_driver::{
    ErrorCode, InterfaceDriver, NetworkDriver, StorageDriver, StoragePoolState, StorageVolumeType,
};
use support::Sim;

#[tokio::test]
async fn datastore_pools() {
    let sim = Sim::esx("pools").await;
    let c = sim.connect().await;
    let names = c.connect_list_storage_pools().await.unwrap();
    assert!(names.contains(&"datastore1".to_string()), "{names:?}");
    assert_eq!(c.connect_num_of_defined_storage_pools().await.unwrap(), 0);
    let p = c.storage_pool_lookup_by_name("datastore1").await.unwrap();
    assert_eq!(c.storage_pool_lookup_by_uuid(&p.uuid).await.unwrap(), p);
    let info = c.storage_pool_get_info(&p).await.unwrap();
    assert_eq!(info.state, StoragePoolState::Running);
    assert!(info.capacity > 0 && info.capacity == info.allocation + info.available);
    let xml = c.storage_pool_get_xml_desc(&p, 0).await.unwrap();
    // esx-sim's datastores are local ones (`dir`); VMFS would be `fs` with format vmfs.
    assert!(
        xml.starts_with("<pool type='dir'>\n  <name>datastore1</name>\n"),
        "{xml}"
    );
    assert!(xml.contains(&format!("<uuid>{}</uuid>", p.uuid)), "{xml}");
    assert!(xml.contains("<path>/vmfs/volumes/"), "{xml}");
    c.storage_pool_refresh(&p, 0).await.unwrap();
    assert!(c.storage_pool_get_autostart(&p).await.unwrap());
    assert!(c.storage_pool_is_active(&p).await.unwrap());
    assert!(c.storage_pool_is_persistent(&p).await.unwrap());
    let e = c.storage_pool_set_autostart(&p, false).await.unwrap_err();
    assert_eq!(e.message, "Cannot deactivate storage pool autostart");
    let e = c.storage_pool_lookup_by_name("nope").await.unwrap_err();
    assert_eq!(e.code, ErrorCode::NoStoragePool);
    assert_eq!(e.message, "Could not find storage pool with name 'nope'");
}

#[tokio::test]
async fn datastore_volumes() {
    let sim = Sim::esx("vols").await;
    let c = sim.connect().await;
    let p = c.storage_pool_lookup_by_name("datastore1").await.unwrap();
    let vols = c.storage_pool_list_volumes(&p).await.unwrap();
    assert!(vols.contains(&"vm1/vm1.vmdk".to_string()), "{vols:?}");
    assert_eq!(c.storage_pool_num_of_volumes(&p).await.unwrap(), vols.len());
    let v = c
        .storage_vol_lookup_by_name(&p, "vm1/vm1.vmdk")
        .await
        .unwrap();
    assert_eq!(
        c.storage_vol_get_path(&v).await.unwrap(),
        "[datastore1] vm1/vm1.vmdk"
    );
    assert_eq!(
        c.storage_vol_lookup_by_path("[datastore1] vm1/vm1.vmdk")
            .await
            .unwrap(),
        v
    );
    assert_eq!(c.storage_vol_lookup_by_key(&v.key).await.unwrap(), v);
    assert_eq!(c.storage_pool_lookup_by_volume(&v).await.unwrap(), p);
    let info = c.storage_vol_get_info(&v).await.unwrap();
    assert_eq!(info.vol_type, StorageVolumeType::File);
    assert!(info.capacity > 0);
    let xml = c.storage_vol_get_xml_desc(&v, 0).await.unwrap();
    assert!(xml.contains("<name>vm1/vm1.vmdk</name>"), "{xml}");
    assert!(xml.contains("<format type='vmdk'/>"), "{xml}");

    // Create a thin disk in a new directory, copy it, wipe, delete.
    let new = "<volume><name>data/d1.vmdk</name><capacity unit='M'>64</capacity>\
               <allocation>0</allocation><target><format type='vmdk'/></target></volume>";
    let d1 = c.storage_vol_create_xml(&p, new, 0).await.unwrap();
    assert_eq!(d1.name, "data/d1.vmdk");
    assert_eq!(
        c.storage_vol_get_info(&d1).await.unwrap().capacity,
        64 << 20
    );
    let e = c.storage_vol_create_xml(&p, new, 0).await.unwrap_err();
    assert!(e.message.contains("already exists"), "{e}");
    let copy = new.replace("data/d1.vmdk", "data/d2.vmdk");
    let d2 = c
        .storage_vol_create_xml_from(&p, &copy, &d1, 0)
        .await
        .unwrap();
    c.storage_vol_wipe(&d2, 0).await.unwrap();
    c.storage_vol_delete(&d2, 0).await.unwrap();
    c.storage_vol_delete(&d1, 0).await.unwrap();
    assert!(c
        .storage_vol_lookup_by_name(&p, "data/d1.vmdk")
        .await
        .is_err());
    // libvirt's rules for new volumes.
    for (xml, msg) in [
        (
            new.replace("data/d1.vmdk", "flat.vmdk"),
            "<directory>/<file>",
        ),
        (new.replace("d1.vmdk", "d1.img"), "unsupported suffix"),
        (
            new.replace("<allocation>0</allocation>", "<allocation>7</allocation>"),
            "capacity-to-allocation",
        ),
    ] {
        let e = c.storage_vol_create_xml(&p, &xml, 0).await.unwrap_err();
        assert!(e.message.contains(msg), "{e}");
    }
    let e = c
        .storage_vol_lookup_by_path("relative/x")
        .await
        .unwrap_err();
    assert_eq!(e.message, "Unexpected volume path format: relative/x");
}

#[tokio::test]
async fn volume_upload_and_download_stream() {
    let sim = Sim::esx("transfer").await;
    let c = sim.connect().await;
    let p = c.storage_pool_lookup_by_name("datastore1").await.unwrap();
    // 3 MiB of patterned data through the stream API, back byte for byte.
    let data: Vec<u8> = (0..3 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    let len = data.len() as u64;
    let v = c
        .storage_vol_upload_new(
            &p,
            "iso/test.iso",
            std::io::Cursor::new(data.clone()),
            Some(len),
        )
        .await
        .unwrap();
    let info = c.storage_vol_get_info(&v).await.unwrap();
    assert_eq!((info.capacity, info.allocation), (len, len));
    let mut back = Vec::new();
    assert_eq!(c.storage_vol_download(&v, &mut back).await.unwrap(), len);
    assert!(back == data, "download equals upload");
    let e = c
        .storage_vol_upload_new(&p, "iso/test.iso", std::io::Cursor::new(vec![1u8]), Some(1))
        .await
        .unwrap_err();
    assert!(e.message.contains("exists already"), "{e}");
    c.storage_vol_delete(&v, 0).await.unwrap();
}

#[tokio::test]
async fn networks() {
    let sim = Sim::esx("nets").await;
    let c = sim.connect().await;
    assert_eq!(c.connect_list_networks().await.unwrap(), vec!["vSwitch0"]);
    let n = c.network_lookup_by_name("vSwitch0").await.unwrap();
    assert_eq!(c.network_lookup_by_uuid(&n.uuid).await.unwrap(), n);
    let xml = c.network_get_xml_desc(&n, 0).await.unwrap();
    assert!(
        xml.starts_with("<network>\n  <name>vSwitch0</name>\n"),
        "{xml}"
    );
    assert!(xml.contains("<portgroup name='VM Network'>"), "{xml}");
    assert!(c.network_get_autostart(&n).await.unwrap());
    let e = c.network_set_autostart(&n, false).await.unwrap_err();
    assert_eq!(e.message, "Cannot deactivate network autostart");
    // Define a switch with two port groups and shaping, then undefine it.
    let def = "<network><name>vSwitch1</name><bandwidth><inbound average='1000' peak='2000' burst='512'/>\
               <outbound average='1000' peak='2000' burst='512'/></bandwidth>\
               <portgroup name='pg-a'/><portgroup name='pg-b'/></network>";
    let n1 = c.network_define_xml(def).await.unwrap();
    assert_eq!(c.connect_num_of_networks().await.unwrap(), 2);
    let xml = c.network_get_xml_desc(&n1, 0).await.unwrap();
    assert!(
        xml.contains("<inbound average='1000' peak='2000' burst='512'/>"),
        "{xml}"
    );
    assert!(xml.contains("<portgroup name='pg-a'>"), "{xml}");
    let e = c.network_define_xml(def).await.unwrap_err();
    assert!(e.message.contains("already exists"), "{e}");
    c.network_undefine(&n1).await.unwrap();
    assert_eq!(c.connect_num_of_networks().await.unwrap(), 1);
    // libvirt's refusals.
    for (xml, msg) in [
        ("<network><name>v2</name><uuid>00000000-0000-0000-0000-000000000001</uuid></network>", "Cannot use predefined UUID"),
        ("<network><name>v2</name><forward mode='nat'/></network>", "Unsupported forward mode 'nat'"),
        ("<network><name>v2</name><portgroup name='VM Network'/></network>", "exists already"),
        ("<network><name>v2</name><forward mode='bridge'><interface dev='vmnic9'/></forward></network>", "vmnic9"),
        ("<network><name>v2</name><bandwidth><inbound average='1'/><outbound average='2'/></bandwidth></network>", "Different inbound and outbound"),
    ] {
        let e = c.network_define_xml(xml).await.unwrap_err();
        assert!(e.message.contains(msg), "{xml}: {e}");
    }
    assert_eq!(
        c.connect_num_of_networks().await.unwrap(),
        1,
        "nothing half-defined"
    );
    let e = c.network_lookup_by_name("nope").await.unwrap_err();
    assert_eq!(e.code, ErrorCode::NoNetwork);
    assert_eq!(c.connect_list_all_networks(0).await.unwrap().len(), 1);
    assert!(c
        .connect_list_all_networks(esx_driver::flags::list_networks::INACTIVE)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn interfaces() {
    let sim = Sim::esx("ifaces").await;
    let c = sim.connect().await;
    let names = c.connect_list_interfaces().await.unwrap();
    assert!(names.contains(&"vmnic0".to_string()), "{names:?}");
    assert_eq!(c.connect_num_of_defined_interfaces().await.unwrap(), 0);
    let i = c.interface_lookup_by_name("vmnic0").await.unwrap();
    assert_eq!(c.interface_lookup_by_mac_string(&i.mac).await.unwrap(), i);
    assert!(c.interface_is_active(&i).await.unwrap());
    let xml = c.interface_get_xml_desc(&i, 0).await.unwrap();
    assert!(
        xml.starts_with("<interface type='ethernet' name='vmnic0'>\n  <start mode='onboot'/>\n"),
        "{xml}"
    );
    assert!(
        xml.contains(&format!("<mac address='{}'/>", i.mac)),
        "{xml}"
    );
    let e = c.interface_lookup_by_name("vmnic9").await.unwrap_err();
    assert_eq!(e.code, ErrorCode::NoInterface);
}
