//! `HostStorageSystem`: the host's storage adapters and LUNs (`config.storageDevice`,
//! `storageDeviceInfo`), as libvirt's iSCSI storage backend reads them, and `RescanHba`.
//!
//! Every host has a local block adapter `vmhba0` and the software iSCSI adapter `vmhba33` with
//! two static targets; each target reaches its own LUNs through `scsiTopology`. Names, UUIDs
//! and sizes are derived from the host's name, so they are stable across restarts. The
//! addresses are in the documentation range (192.0.2.0/24): nothing is ever contacted.

use esx_vim::{
    BaseHostHostBusAdapter, BaseHostTargetTransport, BaseScsiLun, HostBlockHba,
    HostDiskDimensionsLba, HostInternetScsiHba, HostInternetScsiHbaStaticTarget,
    HostInternetScsiTargetTransport, HostScsiDisk, HostScsiTopology, HostScsiTopologyInterface,
    HostScsiTopologyLun, HostScsiTopologyTarget, HostStorageDeviceInfo,
};

use crate::fault::{Fault, MethodResult};
use crate::mo::host_system::HostMo;

/// The software iSCSI adapter's device name.
pub const ISCSI_HBA: &str = "vmhba33";
/// The local adapter's device name.
pub const LOCAL_HBA: &str = "vmhba0";

/// One static target: its address, port, IQN and the LUN sizes (in 512-byte blocks) behind it.
struct Target {
    address: &'static str,
    iqn: &'static str,
    luns: &'static [i64],
}

const TARGETS: [Target; 2] = [
    Target {
        address: "192.0.2.10",
        iqn: "iqn.2006-01.org.esx-sim:storage.target0",
        luns: &[20_971_520, 41_943_040],
    },
    Target {
        address: "192.0.2.11",
        iqn: "iqn.2006-01.org.esx-sim:storage.target1",
        luns: &[10_485_760],
    },
];

fn hba_key(device: &str, kind: &str) -> String {
    format!("key-vim.host.{kind}-{device}")
}

/// `naa.` name of LUN `lun` of target `t` on `host`.
fn naa(host: &HostMo, t: usize, lun: usize) -> String {
    let b = crate::mo::virtual_machine::seed_bytes(&format!("lun:{}:{t}:{lun}", host.name));
    let tail: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("naa.6000c29{}", &tail[..25])
}

/// The host's storage devices.
pub fn device_info(host: &HostMo) -> HostStorageDeviceInfo {
    let short = host.name.split('.').next().unwrap_or(&host.name);
    let iscsi = HostInternetScsiHba {
        key: Some(hba_key(ISCSI_HBA, "InternetScsiHba")),
        device: ISCSI_HBA.into(),
        bus: 0,
        status: "online".into(),
        model: "iSCSI Software Adapter".into(),
        driver: Some("iscsi_vmk".into()),
        storage_protocol: Some("scsi".into()),
        is_software_based: true,
        can_be_disabled: Some(true),
        i_scsi_name: format!(
            "iqn.1998-01.com.vmware:{short}-{}",
            &host.uuid.get(..8).unwrap_or("0")
        ),
        i_scsi_alias: Some(short.to_owned()),
        configured_static_target: TARGETS
            .iter()
            .map(|t| HostInternetScsiHbaStaticTarget {
                address: t.address.into(),
                port: Some(3260),
                i_scsi_name: t.iqn.into(),
                discovery_method: Some("staticMethod".into()),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    };
    let local = HostBlockHba {
        key: Some(hba_key(LOCAL_HBA, "BlockHba")),
        device: LOCAL_HBA.into(),
        bus: 0,
        status: "unknown".into(),
        model: "PIIX4 for 430TX/440BX/MX IDE Controller".into(),
        driver: Some("vmkata".into()),
        pci: Some("0000:00:07.1".into()),
        storage_protocol: Some("scsi".into()),
    };
    let mut luns = Vec::new();
    let mut targets = Vec::new();
    for (ti, t) in TARGETS.iter().enumerate() {
        let mut topo = Vec::new();
        for (li, blocks) in t.luns.iter().enumerate() {
            let name = naa(host, ti, li);
            let key = format!("key-vim.host.ScsiDisk-{}", name.trim_start_matches("naa."));
            let path = format!("/vmfs/devices/disks/{name}");
            luns.push(BaseScsiLun::from(HostScsiDisk {
                key: Some(key.clone()),
                uuid: format!("0200{li:02x}0000{}564d5741524520", &name[4..]),
                canonical_name: Some(name.clone()),
                display_name: Some(format!("ESXSIM iSCSI Disk ({name})")),
                device_name: path.clone(),
                device_path: path,
                device_type: "disk".into(),
                lun_type: "disk".into(),
                vendor: Some("ESXSIM".into()),
                model: Some("iSCSI Disk".into()),
                revision: Some("1.0".into()),
                scsi_level: Some(5),
                operational_state: vec!["ok".into()],
                capacity: HostDiskDimensionsLba {
                    block_size: 512,
                    block: *blocks,
                },
                ssd: Some(false),
                local_disk: Some(false),
                ..Default::default()
            }));
            topo.push(HostScsiTopologyLun {
                key: format!("key-vim.host.ScsiTopology.Lun-{name}"),
                lun: li as i32,
                scsi_lun: key,
            });
        }
        targets.push(HostScsiTopologyTarget {
            key: format!("key-vim.host.ScsiTopology.Target-{ISCSI_HBA}:0:{ti}"),
            target: ti as i32,
            lun: topo,
            transport: Some(BaseHostTargetTransport::from(
                HostInternetScsiTargetTransport {
                    i_scsi_name: t.iqn.into(),
                    i_scsi_alias: String::new(),
                    address: vec![format!("{}:3260", t.address)],
                },
            )),
        });
    }
    HostStorageDeviceInfo {
        host_bus_adapter: vec![
            BaseHostHostBusAdapter::from(local),
            BaseHostHostBusAdapter::from(iscsi),
        ],
        scsi_lun: luns,
        scsi_topology: Some(HostScsiTopology {
            adapter: vec![
                HostScsiTopologyInterface {
                    key: format!("key-vim.host.ScsiTopology.Interface-{LOCAL_HBA}"),
                    adapter: hba_key(LOCAL_HBA, "BlockHba"),
                    target: Vec::new(),
                },
                HostScsiTopologyInterface {
                    key: format!("key-vim.host.ScsiTopology.Interface-{ISCSI_HBA}"),
                    adapter: hba_key(ISCSI_HBA, "InternetScsiHba"),
                    target: targets,
                },
            ],
        }),
        software_internet_scsi_enabled: true,
        ..Default::default()
    }
}

/// `RescanHba`: succeeds for one of the host's adapters, `NotFound` otherwise.
pub fn rescan_hba(device: &str) -> MethodResult<()> {
    if device == ISCSI_HBA || device == LOCAL_HBA {
        Ok(())
    } else {
        Err(Fault::not_found_plain(&format!(
            "The object or item referred to could not be found: host bus adapter {device}"
        )))
    }
}
