//! `config.storageDevice` and `HostStorageSystem` as libvirt's iSCSI backend reads them: the
//! software iSCSI adapter's static targets, the LUNs each reaches through `scsiTopology`, and
//! `RescanHba`.

use esx_sim::state::moref;
use esx_vim::*;

use crate::support;

use support::{call, read};

#[test]
fn iscsi_targets_reach_their_luns() {
    let (mut state, dir) = support::start("storage", "iscsi", esx_sim::Flavor::Esx, Some("vm=0"));
    let host = moref("HostSystem", "ha-host");
    let storage = match read(&state, &host, "configManager.storageSystem") {
        Some(Any::ManagedObjectReference(r)) => r,
        other => panic!("{other:?}"),
    };
    let info = match read(&state, &host, "config.storageDevice") {
        Some(Any::HostStorageDeviceInfo(i)) => *i,
        other => panic!("{other:?}"),
    };
    match read(&state, &storage, "storageDeviceInfo") {
        Some(Any::HostStorageDeviceInfo(i)) => assert_eq!(*i, info, "both views agree"),
        other => panic!("{other:?}"),
    }
    let hba = info
        .host_bus_adapter
        .iter()
        .find_map(|a| match a {
            BaseHostHostBusAdapter::HostInternetScsiHba(h) => Some(h.clone()),
            _ => None,
        })
        .expect("a software iSCSI adapter");
    assert_eq!(hba.device, "vmhba33");
    assert!(hba.is_software_based && hba.i_scsi_name.starts_with("iqn.1998-01.com.vmware:"));
    assert_eq!(hba.configured_static_target.len(), 2);
    let luns: Vec<HostScsiDisk> = info
        .scsi_lun
        .iter()
        .filter_map(|l| match l {
            BaseScsiLun::HostScsiDisk(d) => Some((**d).clone()),
            _ => None,
        })
        .collect();
    assert_eq!(luns.len(), 3);
    for l in &luns {
        let name = l.canonical_name.clone().unwrap();
        assert!(name.starts_with("naa."));
        assert_eq!(l.device_path, format!("/vmfs/devices/disks/{name}"));
        assert_eq!(l.device_name, l.device_path);
        assert_eq!(l.lun_type, "disk");
        assert_eq!(l.capacity.block_size, 512);
        assert!(l.capacity.block > 0 && !l.uuid.is_empty());
    }
    let topo = info.scsi_topology.expect("a topology");
    let adapter = topo
        .adapter
        .iter()
        .find(|a| a.adapter == hba.key.clone().unwrap())
        .expect("the iSCSI adapter in the topology");
    let mut counts = Vec::new();
    for st in &hba.configured_static_target {
        assert_eq!(st.port, Some(3260));
        assert!(st.address.starts_with("192.0.2."));
        let target = adapter
            .target
            .iter()
            .find(|t| matches!(&t.transport, Some(BaseHostTargetTransport::HostInternetScsiTargetTransport(x)) if x.i_scsi_name == st.i_scsi_name))
            .expect("each static target is in the topology");
        for lun in &target.lun {
            assert!(
                luns.iter()
                    .any(|l| l.key.as_deref() == Some(lun.scsi_lun.as_str())),
                "{lun:?}"
            );
        }
        counts.push(target.lun.len());
    }
    assert_eq!(counts, [2, 1]);
    // Stable across restarts: derived from the host.
    let (state2, dir2) = support::start("storage", "again", esx_sim::Flavor::Esx, Some("vm=0"));
    assert_eq!(info_again(&state2), info_again(&state));

    let rescan = |dev: &str| {
        Request::RescanHba(Box::new(RescanHbaRequestType {
            this: storage.clone(),
            hba_device: dev.into(),
        }))
    };
    assert!(call(&mut state, rescan("vmhba33")).is_ok());
    let e = call(&mut state, rescan("vmhba99")).unwrap_err();
    assert!(matches!(*e, BaseMethodFault::NotFound(_)), "{e:?}");
    let e = call(
        &mut state,
        Request::RescanHba(Box::new(RescanHbaRequestType {
            this: host.clone(),
            hba_device: "vmhba33".into(),
        })),
    )
    .unwrap_err();
    assert!(
        matches!(*e, BaseMethodFault::ManagedObjectNotFound(_)),
        "{e:?}"
    );
    let _ = std::fs::remove_dir_all(dir);
    let _ = std::fs::remove_dir_all(dir2);
}

fn info_again(state: &esx_sim::state::State) -> HostStorageDeviceInfo {
    match read(
        state,
        &moref("HostSystem", "ha-host"),
        "config.storageDevice",
    ) {
        Some(Any::HostStorageDeviceInfo(i)) => *i,
        other => panic!("{other:?}"),
    }
}
