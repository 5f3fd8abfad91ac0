//! iSCSI static targets of the host's iSCSI adapters as read-only storage pools, their LUNs
//! as volumes (libvirt's `esx_storage_backend_iscsi.c`).

use esx_domain::{
    PoolSourceHost, PoolType, StoragePool as PoolDef, StorageVolume as VolDef, VolumeTarget,
    VolumeType,
};
use esx_vim::{
    methods, Any, BaseHostHostBusAdapter, BaseHostTargetTransport, BaseScsiLun,
    HostInternetScsiHba, HostScsiDisk, HostStorageDeviceInfo,
};

use super::md5_uuid;
use crate::error::{Error, ErrorCode, Result};
use crate::types::{
    PoolBackend, StoragePool, StoragePoolInfo, StoragePoolState, StorageVolume, StorageVolumeInfo,
    StorageVolumeType,
};
use crate::Connection;

/// A static target and the adapter it belongs to.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub hba: HostInternetScsiHba,
    pub iqn: String,
    pub address: String,
    pub port: Option<i32>,
}

fn no_support(what: &str) -> Error {
    Error::new(
        ErrorCode::NoSupport,
        format!("iSCSI storage pool does not support {what}"),
    )
}

/// The MD5-derived key of a LUN.
fn lun_key(lun: &HostScsiDisk) -> String {
    md5_uuid(&lun.uuid).to_string()
}

impl Connection {
    async fn storage_device(&self) -> Result<HostStorageDeviceInfo> {
        let p = self.primary().host_props(&["config.storageDevice"]).await?;
        Ok(match p.get("config.storageDevice") {
            Some(Any::HostStorageDeviceInfo(d)) => (**d).clone(),
            _ => HostStorageDeviceInfo::default(),
        })
    }

    pub(crate) async fn iscsi_targets(&self) -> Result<Vec<Target>> {
        let dev = self.storage_device().await?;
        let mut out = Vec::new();
        for hba in &dev.host_bus_adapter {
            if let BaseHostHostBusAdapter::HostInternetScsiHba(h) = hba {
                for t in &h.configured_static_target {
                    out.push(Target {
                        hba: (**h).clone(),
                        iqn: t.i_scsi_name.clone(),
                        address: t.address.clone(),
                        port: t.port,
                    });
                }
            }
        }
        Ok(out)
    }

    pub(crate) fn iscsi_pool(t: &Target) -> StoragePool {
        StoragePool {
            name: t.iqn.clone(),
            uuid: md5_uuid(&t.iqn),
            backend: PoolBackend::Iscsi,
        }
    }

    pub(crate) async fn iscsi_pools(&self) -> Result<Vec<StoragePool>> {
        Ok(self
            .iscsi_targets()
            .await?
            .iter()
            .map(Self::iscsi_pool)
            .collect())
    }

    async fn iscsi_target(&self, name: &str) -> Result<Target> {
        self.iscsi_targets()
            .await?
            .into_iter()
            .find(|t| t.iqn == name)
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::NoStoragePool,
                    format!("Could not find storage pool with name '{name}'"),
                )
            })
    }

    /// The LUNs reached through the static target named `iqn`.
    async fn iscsi_luns(&self, iqn: &str) -> Result<Vec<HostScsiDisk>> {
        let dev = self.storage_device().await?;
        let mut keys = Vec::new();
        for adapter in dev.scsi_topology.iter().flat_map(|t| &t.adapter) {
            for target in &adapter.target {
                let ours = matches!(&target.transport,
                    Some(BaseHostTargetTransport::HostInternetScsiTargetTransport(tr)) if tr.i_scsi_name == iqn);
                if ours {
                    keys.extend(target.lun.iter().map(|l| l.scsi_lun.clone()));
                }
            }
        }
        Ok(dev
            .scsi_lun
            .iter()
            .filter_map(|l| match l {
                BaseScsiLun::HostScsiDisk(d)
                    if d.key.as_ref().is_some_and(|k| keys.contains(k)) =>
                {
                    Some((**d).clone())
                }
                _ => None,
            })
            .collect())
    }

    pub(crate) async fn iscsi_pool_info(&self, pool: &StoragePool) -> Result<StoragePoolInfo> {
        self.iscsi_target(&pool.name).await?;
        Ok(StoragePoolInfo {
            state: StoragePoolState::Running,
            capacity: 0,
            allocation: 0,
            available: 0,
        })
    }

    pub(crate) async fn iscsi_pool_xml(&self, pool: &StoragePool) -> Result<String> {
        let t = self.iscsi_target(&pool.name).await?;
        let mut def = PoolDef::esx_datastore(PoolType::Iscsi, &t.iqn, "");
        def.uuid = Some(md5_uuid(&t.iqn));
        def.target.path = None;
        def.target.permissions = None;
        def.source.format = None;
        def.source.hosts = vec![PoolSourceHost {
            name: t.address.clone(),
            port: t.port.and_then(|p| u16::try_from(p).ok()),
        }];
        def.source.devices = vec![t.iqn.clone()];
        def.source.initiator_iqn = Some(t.hba.i_scsi_name.clone());
        Ok(def.to_xml())
    }

    pub(crate) async fn iscsi_refresh(&self, pool: &StoragePool) -> Result<()> {
        let t = self.iscsi_target(&pool.name).await?;
        let ctx = self.primary();
        let host = ctx.host_props(&["configManager.storageSystem"]).await?;
        let ss = host
            .moref("configManager.storageSystem")
            .cloned()
            .ok_or_else(|| Error::internal("the host has no storage system"))?;
        methods::rescan_hba(&*ctx.client, &ss, t.hba.device.clone()).await?;
        Ok(())
    }

    pub(crate) async fn iscsi_volume_names(&self, pool: &StoragePool) -> Result<Vec<String>> {
        self.iscsi_target(&pool.name).await?;
        Ok(self
            .iscsi_luns(&pool.name)
            .await?
            .into_iter()
            .map(|l| l.device_name)
            .collect())
    }

    fn iscsi_volume(pool: &str, l: &HostScsiDisk) -> StorageVolume {
        StorageVolume {
            pool: pool.to_string(),
            name: l.device_name.clone(),
            key: lun_key(l),
            backend: PoolBackend::Iscsi,
        }
    }

    pub(crate) async fn iscsi_lookup(&self, pool: &str, name: &str) -> Result<StorageVolume> {
        self.iscsi_luns(pool)
            .await?
            .iter()
            .find(|l| l.device_name == name)
            .map(|l| Self::iscsi_volume(pool, l))
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::NoStorageVol,
                    format!("Could not find storage volume with name '{name}'"),
                )
            })
    }

    /// A LUN by a predicate, over every target.
    async fn iscsi_find(
        &self,
        f: impl Fn(&HostScsiDisk) -> bool,
    ) -> Result<Option<(StorageVolume, HostScsiDisk)>> {
        for t in self.iscsi_targets().await? {
            for l in self.iscsi_luns(&t.iqn).await? {
                if f(&l) {
                    return Ok(Some((Self::iscsi_volume(&t.iqn, &l), l)));
                }
            }
        }
        Ok(None)
    }

    pub(crate) async fn iscsi_lookup_by_path(&self, path: &str) -> Result<Option<StorageVolume>> {
        Ok(self
            .iscsi_find(|l| l.device_path == path)
            .await?
            .map(|x| x.0))
    }

    pub(crate) async fn iscsi_lookup_by_key(&self, key: &str) -> Result<Option<StorageVolume>> {
        Ok(self.iscsi_find(|l| lun_key(l) == key).await?.map(|x| x.0))
    }

    async fn iscsi_lun(&self, vol: &StorageVolume) -> Result<HostScsiDisk> {
        self.iscsi_luns(&vol.pool)
            .await?
            .into_iter()
            .find(|l| l.device_name == vol.name)
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::NoStorageVol,
                    format!("Could not find storage volume with name '{}'", vol.name),
                )
            })
    }

    pub(crate) async fn iscsi_vol_info(&self, vol: &StorageVolume) -> Result<StorageVolumeInfo> {
        let l = self.iscsi_lun(vol).await?;
        let size = (l.capacity.block.max(0) as u64) * (l.capacity.block_size.max(0) as u64);
        Ok(StorageVolumeInfo {
            vol_type: StorageVolumeType::Block,
            capacity: size,
            allocation: size,
        })
    }

    pub(crate) async fn iscsi_vol_xml(&self, vol: &StorageVolume) -> Result<String> {
        let l = self.iscsi_lun(vol).await?;
        let size = (l.capacity.block.max(0) as u64) * (l.capacity.block_size.max(0) as u64);
        let def = VolDef {
            vol_type: VolumeType::Block,
            name: l.device_name.clone(),
            key: Some(lun_key(&l)),
            capacity: size,
            allocation: size,
            physical: None,
            target: VolumeTarget {
                path: Some(l.device_path.clone()),
                format: None,
                permissions: None,
            },
        };
        Ok(def.to_xml())
    }

    pub(crate) async fn iscsi_vol_path(&self, vol: &StorageVolume) -> Result<String> {
        Ok(self.iscsi_lun(vol).await?.device_path)
    }

    pub(crate) fn iscsi_refuse(what: &str) -> Error {
        no_support(what)
    }
}
