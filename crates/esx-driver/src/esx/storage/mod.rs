//! Storage: libvirt's ESX storage driver over two backends, datastores ([`vmfs`]) and
//! iSCSI static targets ([`iscsi`], read-only).

pub(crate) mod iscsi;
pub(crate) mod vmfs;

use async_trait::async_trait;
use esx_vim::{Any, ManagedObjectReference as MoRef};

use crate::error::{Error, ErrorCode, Result};
use crate::traits::StorageDriver;
use crate::types::{PoolBackend, StoragePool, StoragePoolInfo, StorageVolume, StorageVolumeInfo};
use crate::vi::{self, filter, prop_spec, traverse};
use crate::Connection;

/// A datastore of the host, as the storage driver and the file-name resolver need it.
#[derive(Debug, Clone)]
pub(crate) struct Datastore {
    pub moref: MoRef,
    pub name: String,
    /// This host's mount path (`/vmfs/volumes/…`).
    pub mount_path: String,
    pub accessible: bool,
    pub capacity: i64,
    pub free_space: i64,
    pub info: Option<Any>,
    pub browser: Option<MoRef>,
}

impl Connection {
    /// Every datastore mounted on the host, in one property read.
    pub(crate) async fn datastores(&self) -> Result<Vec<Datastore>> {
        self.ensure_open()?;
        let ctx = self.primary();
        let spec = filter(
            &ctx.host_system,
            true,
            vec![traverse("HostSystem", "datastore")],
            vec![prop_spec(
                "Datastore",
                &[
                    "summary.name",
                    "summary.accessible",
                    "summary.capacity",
                    "summary.freeSpace",
                    "host",
                    "info",
                    "browser",
                ],
            )],
        );
        let mut out = Vec::new();
        for p in vi::retrieve(&ctx.client, spec).await? {
            let mount_path = match p.get("host") {
                Some(Any::ArrayOfDatastoreHostMount(m)) => m
                    .datastore_host_mount
                    .iter()
                    .find(|m| m.key == ctx.host_system)
                    .and_then(|m| m.mount_info.path.clone())
                    .unwrap_or_default(),
                _ => String::new(),
            };
            out.push(Datastore {
                moref: p.obj().clone(),
                name: p.str("summary.name").unwrap_or_default().to_string(),
                mount_path,
                accessible: p.bool("summary.accessible").unwrap_or(false),
                capacity: p.int("summary.capacity").unwrap_or(0),
                free_space: p.int("summary.freeSpace").unwrap_or(0),
                info: p.get("info").cloned(),
                browser: p.moref("browser").cloned(),
            });
        }
        Ok(out)
    }
}

/// MD5 of `text` as a UUID (libvirt's pool, network and LUN identifiers).
pub(crate) fn md5_uuid(text: &str) -> esx_domain::Uuid {
    use md5::{Digest, Md5};
    let digest = Md5::digest(text.as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest);
    esx_domain::Uuid(b)
}

fn no_pool_name(name: &str) -> Error {
    Error::new(
        ErrorCode::NoStoragePool,
        format!("Could not find storage pool with name '{name}'"),
    )
}

#[async_trait]
impl StorageDriver for Connection {
    async fn connect_num_of_storage_pools(&self) -> Result<usize> {
        Ok(self.connect_list_storage_pools().await?.len())
    }
    async fn connect_list_storage_pools(&self) -> Result<Vec<String>> {
        let mut names: Vec<String> = self
            .vmfs_pools()
            .await?
            .into_iter()
            .map(|p| p.name)
            .collect();
        names.extend(self.iscsi_pools().await?.into_iter().map(|p| p.name));
        Ok(names)
    }
    async fn connect_num_of_defined_storage_pools(&self) -> Result<usize> {
        self.ensure_open()?;
        Ok(0)
    }
    async fn connect_list_defined_storage_pools(&self) -> Result<Vec<String>> {
        self.ensure_open()?;
        Ok(Vec::new())
    }
    async fn storage_pool_lookup_by_name(&self, name: &str) -> Result<StoragePool> {
        if let Some(p) = self
            .vmfs_pools()
            .await?
            .into_iter()
            .find(|p| p.name == name)
        {
            return Ok(p);
        }
        self.iscsi_pools()
            .await?
            .into_iter()
            .find(|p| p.name == name)
            .ok_or_else(|| no_pool_name(name))
    }
    async fn storage_pool_lookup_by_uuid(&self, uuid: &esx_domain::Uuid) -> Result<StoragePool> {
        if let Some(p) = self
            .vmfs_pools()
            .await?
            .into_iter()
            .find(|p| p.uuid == *uuid)
        {
            return Ok(p);
        }
        self.iscsi_pools()
            .await?
            .into_iter()
            .find(|p| p.uuid == *uuid)
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::NoStoragePool,
                    format!("Could not find storage pool with uuid '{uuid}'"),
                )
            })
    }
    async fn storage_pool_lookup_by_volume(&self, vol: &StorageVolume) -> Result<StoragePool> {
        self.storage_pool_lookup_by_name(&vol.pool).await
    }
    async fn storage_pool_refresh(&self, pool: &StoragePool, flags: u32) -> Result<()> {
        crate::esx::lifecycle::check_flags(flags, 0, "esxStoragePoolRefresh")?;
        match pool.backend {
            PoolBackend::Vmfs => self.vmfs_refresh(pool).await,
            PoolBackend::Iscsi => self.iscsi_refresh(pool).await,
        }
    }
    async fn storage_pool_get_info(&self, pool: &StoragePool) -> Result<StoragePoolInfo> {
        match pool.backend {
            PoolBackend::Vmfs => self.vmfs_pool_info(pool).await,
            PoolBackend::Iscsi => self.iscsi_pool_info(pool).await,
        }
    }
    async fn storage_pool_get_xml_desc(&self, pool: &StoragePool, flags: u32) -> Result<String> {
        crate::esx::lifecycle::check_flags(flags, 0, "esxStoragePoolGetXMLDesc")?;
        match pool.backend {
            PoolBackend::Vmfs => self.vmfs_pool_xml(pool).await,
            PoolBackend::Iscsi => self.iscsi_pool_xml(pool).await,
        }
    }
    async fn storage_pool_get_autostart(&self, pool: &StoragePool) -> Result<bool> {
        self.storage_pool_lookup_by_name(&pool.name).await?;
        Ok(true)
    }
    async fn storage_pool_set_autostart(&self, pool: &StoragePool, autostart: bool) -> Result<()> {
        self.storage_pool_lookup_by_name(&pool.name).await?;
        if !autostart {
            return Err(Error::invalid_op(
                "Cannot deactivate storage pool autostart",
            ));
        }
        Ok(())
    }
    async fn storage_pool_num_of_volumes(&self, pool: &StoragePool) -> Result<usize> {
        Ok(self.storage_pool_list_volumes(pool).await?.len())
    }
    async fn storage_pool_list_volumes(&self, pool: &StoragePool) -> Result<Vec<String>> {
        match pool.backend {
            PoolBackend::Vmfs => self.vmfs_volume_names(pool).await,
            PoolBackend::Iscsi => self.iscsi_volume_names(pool).await,
        }
    }
    async fn storage_vol_lookup_by_name(
        &self,
        pool: &StoragePool,
        name: &str,
    ) -> Result<StorageVolume> {
        match pool.backend {
            PoolBackend::Vmfs => self.vmfs_lookup(&pool.name, name).await,
            PoolBackend::Iscsi => self.iscsi_lookup(&pool.name, name).await,
        }
    }
    async fn storage_vol_lookup_by_key(&self, key: &str) -> Result<StorageVolume> {
        if let Some(v) = self.vmfs_lookup_by_key(key).await? {
            return Ok(v);
        }
        self.iscsi_lookup_by_key(key).await?.ok_or_else(|| {
            Error::new(
                ErrorCode::NoStorageVol,
                format!("Could not find storage volume with key '{key}'"),
            )
        })
    }
    async fn storage_vol_lookup_by_path(&self, path: &str) -> Result<StorageVolume> {
        if path.starts_with('[') {
            self.vmfs_lookup_by_path(path).await
        } else if path.starts_with('/') {
            self.iscsi_lookup_by_path(path).await?.ok_or_else(|| {
                Error::new(
                    ErrorCode::NoStorageVol,
                    format!("Could not find storage volume with path '{path}'"),
                )
            })
        } else {
            Err(Error::invalid_arg(format!(
                "Unexpected volume path format: {path}"
            )))
        }
    }
    async fn storage_vol_create_xml(
        &self,
        pool: &StoragePool,
        xml: &str,
        flags: u32,
    ) -> Result<StorageVolume> {
        crate::esx::lifecycle::check_flags(flags, 0, "esxStorageVolCreateXML")?;
        match pool.backend {
            PoolBackend::Vmfs => self.vmfs_create(pool, xml).await,
            PoolBackend::Iscsi => Err(Self::iscsi_refuse("volume creation")),
        }
    }
    async fn storage_vol_create_xml_from(
        &self,
        pool: &StoragePool,
        xml: &str,
        source: &StorageVolume,
        flags: u32,
    ) -> Result<StorageVolume> {
        crate::esx::lifecycle::check_flags(flags, 0, "esxStorageVolCreateXMLFrom")?;
        match pool.backend {
            PoolBackend::Vmfs => self.vmfs_create_from(pool, xml, source).await,
            PoolBackend::Iscsi => Err(Self::iscsi_refuse("volume creation")),
        }
    }
    async fn storage_vol_delete(&self, vol: &StorageVolume, flags: u32) -> Result<()> {
        crate::esx::lifecycle::check_flags(flags, 0, "esxStorageVolDelete")?;
        match vol.backend {
            PoolBackend::Vmfs => self.vmfs_delete(vol).await,
            PoolBackend::Iscsi => Err(Self::iscsi_refuse("volume deletion")),
        }
    }
    async fn storage_vol_wipe(&self, vol: &StorageVolume, flags: u32) -> Result<()> {
        crate::esx::lifecycle::check_flags(flags, 0, "esxStorageVolWipe")?;
        match vol.backend {
            PoolBackend::Vmfs => self.vmfs_wipe(vol).await,
            PoolBackend::Iscsi => Err(Self::iscsi_refuse("wiping")),
        }
    }
    async fn storage_vol_get_info(&self, vol: &StorageVolume) -> Result<StorageVolumeInfo> {
        match vol.backend {
            PoolBackend::Vmfs => self.vmfs_vol_info(vol).await,
            PoolBackend::Iscsi => self.iscsi_vol_info(vol).await,
        }
    }
    async fn storage_vol_get_xml_desc(&self, vol: &StorageVolume, flags: u32) -> Result<String> {
        crate::esx::lifecycle::check_flags(flags, 0, "esxStorageVolGetXMLDesc")?;
        match vol.backend {
            PoolBackend::Vmfs => self.vmfs_vol_xml(vol).await,
            PoolBackend::Iscsi => self.iscsi_vol_xml(vol).await,
        }
    }
    async fn storage_vol_get_path(&self, vol: &StorageVolume) -> Result<String> {
        match vol.backend {
            PoolBackend::Vmfs => Ok(format!("[{}] {}", vol.pool, vol.name)),
            PoolBackend::Iscsi => self.iscsi_vol_path(vol).await,
        }
    }
    async fn storage_pool_is_active(&self, pool: &StoragePool) -> Result<bool> {
        self.storage_pool_lookup_by_name(&pool.name).await?;
        Ok(true)
    }
    async fn storage_pool_is_persistent(&self, pool: &StoragePool) -> Result<bool> {
        self.storage_pool_lookup_by_name(&pool.name).await?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_of_mount_path() {
        // MD5("") = d41d8cd98f00b204e9800998ecf8427e
        assert_eq!(
            md5_uuid("").to_string(),
            "d41d8cd9-8f00-b204-e980-0998ecf8427e"
        );
    }
}
