//! Datastores as storage pools and their disk, ISO and floppy image files as volumes
//! (libvirt's `esx_storage_backend_vmfs.c`), plus streamed volume upload and download.

use esx_domain::{
    PoolSourceHost, PoolType, StoragePool as PoolDef, StorageVolume as VolDef, VolumeType,
};
use esx_uri::DatastorePath;
use esx_vim::{
    methods, Any, BaseFileInfo, BaseFileQuery, BaseVirtualDiskSpec, FileBackedVirtualDiskSpec,
    FileQueryFlags, FloppyImageFileQuery, HostDatastoreBrowserSearchResults,
    HostDatastoreBrowserSearchSpec, IsoImageFileQuery, ManagedObjectReference as MoRef,
    VmDiskFileQuery, VmDiskFileQueryFlags,
};
use tokio::io::{AsyncRead, AsyncWrite};

use super::{md5_uuid, Datastore};
use crate::context::{Context, Product};
use crate::error::{Error, ErrorCode, Result};
use crate::types::{
    PoolBackend, StoragePool, StoragePoolInfo, StoragePoolState, StorageVolume, StorageVolumeInfo,
    StorageVolumeType,
};
use crate::Connection;

/// One file of a datastore that libvirt lists as a volume.
#[derive(Debug, Clone)]
pub(crate) struct VolFile {
    /// `dir/file` (or `file` at the datastore's root).
    pub name: String,
    /// `vmdk`, `iso` or `raw`.
    pub format: &'static str,
    pub capacity: u64,
    pub allocation: u64,
}

fn no_pool(name: &str) -> Error {
    Error::new(
        ErrorCode::NoStoragePool,
        format!("Could not find storage pool with name '{name}'"),
    )
}

fn no_volume(what: &str) -> Error {
    Error::new(
        ErrorCode::NoStorageVol,
        format!("Could not find storage volume {what}"),
    )
}

/// libvirt's `esxUtil_ReformatUuid`: `60 00 C2 9b …-…` (a virtual disk UUID) as a UUID.
pub(crate) fn reformat_uuid(text: &str) -> Option<String> {
    let hex: String = text.chars().filter(|c| c.is_ascii_hexdigit()).collect();
    if hex.len() != 32 {
        return None;
    }
    let h = hex.to_ascii_lowercase();
    Some(format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    ))
}

fn search_spec(pattern: Vec<String>) -> HostDatastoreBrowserSearchSpec {
    HostDatastoreBrowserSearchSpec {
        query: vec![
            BaseFileQuery::from(VmDiskFileQuery {
                filter: None,
                details: Some(VmDiskFileQueryFlags {
                    disk_type: true,
                    capacity_kb: true,
                    hardware_version: false,
                    controller_type: Some(true),
                    disk_extents: Some(false),
                    thin: Some(false),
                    encryption: None,
                }),
            }),
            BaseFileQuery::from(IsoImageFileQuery {}),
            BaseFileQuery::from(FloppyImageFileQuery {}),
        ],
        details: Some(FileQueryFlags {
            file_type: true,
            file_size: true,
            modification: false,
            file_owner: Some(false),
        }),
        search_case_insensitive: Some(false),
        match_pattern: pattern,
        sort_folders_first: None,
    }
}

/// The volume form of a search result file, named relative to the datastore.
fn vol_file(dir: &str, f: &BaseFileInfo) -> Option<VolFile> {
    let (path, size, format, capacity) = match f {
        BaseFileInfo::VmDiskFileInfo(d) => (
            &d.path,
            d.file_size,
            "vmdk",
            d.capacity_kb.map(|k| (k.max(0) as u64) * 1024),
        ),
        BaseFileInfo::IsoImageFileInfo(d) => (&d.path, d.file_size, "iso", None),
        BaseFileInfo::FloppyImageFileInfo(d) => (&d.path, d.file_size, "raw", None),
        _ => return None,
    };
    let size = size.unwrap_or(0).max(0) as u64;
    let name = if dir.is_empty() {
        path.clone()
    } else {
        format!("{dir}/{path}")
    };
    Some(VolFile {
        name,
        format,
        capacity: capacity.unwrap_or(size),
        allocation: size,
    })
}

/// The directory (relative to the datastore) of a result's `folderPath`.
fn folder_dir(folder: &str) -> String {
    DatastorePath::parse(folder)
        .map(|p| p.directory_and_file.trim_end_matches('/').to_string())
        .unwrap_or_default()
}

impl Connection {
    pub(crate) async fn datastore(&self, name: &str) -> Result<Datastore> {
        self.datastores()
            .await?
            .into_iter()
            .find(|d| d.name == name)
            .ok_or_else(|| no_pool(name))
    }

    pub(crate) fn vmfs_pool(d: &Datastore) -> StoragePool {
        StoragePool {
            name: d.name.clone(),
            uuid: md5_uuid(&d.mount_path),
            backend: PoolBackend::Vmfs,
        }
    }

    pub(crate) async fn vmfs_pools(&self) -> Result<Vec<StoragePool>> {
        Ok(self
            .datastores()
            .await?
            .iter()
            .map(Self::vmfs_pool)
            .collect())
    }

    pub(crate) async fn vmfs_pool_info(&self, pool: &StoragePool) -> Result<StoragePoolInfo> {
        let d = self.datastore(&pool.name).await?;
        Ok(if d.accessible {
            StoragePoolInfo {
                state: StoragePoolState::Running,
                capacity: d.capacity.max(0) as u64,
                allocation: (d.capacity - d.free_space).max(0) as u64,
                available: d.free_space.max(0) as u64,
            }
        } else {
            StoragePoolInfo {
                state: StoragePoolState::Inaccessible,
                capacity: 0,
                allocation: 0,
                available: 0,
            }
        })
    }

    pub(crate) async fn vmfs_pool_xml(&self, pool: &StoragePool) -> Result<String> {
        let d = self.datastore(&pool.name).await?;
        let mut def = match &d.info {
            Some(Any::NasDatastoreInfo(n)) => {
                let mut def = PoolDef::esx_datastore(PoolType::Netfs, &d.name, &d.mount_path);
                if let Some(nas) = &n.nas {
                    def.source.hosts = vec![PoolSourceHost {
                        name: nas.remote_host.clone(),
                        port: None,
                    }];
                    def.source.dir = Some(nas.remote_path.clone());
                    def.source.format = Some(
                        if nas.r#type.eq_ignore_ascii_case("CIFS") {
                            "cifs"
                        } else {
                            "nfs"
                        }
                        .to_string(),
                    );
                }
                def
            }
            Some(Any::VmfsDatastoreInfo(_)) => {
                PoolDef::esx_datastore(PoolType::Fs, &d.name, &d.mount_path)
            }
            Some(Any::LocalDatastoreInfo(_)) => {
                PoolDef::esx_datastore(PoolType::Dir, &d.name, &d.mount_path)
            }
            _ => {
                return Err(Error::internal(format!(
                    "DatastoreInfo of datastore '{}' has unexpected type",
                    d.name
                )))
            }
        };
        def.uuid = Some(md5_uuid(&d.mount_path));
        if d.accessible {
            def.capacity = d.capacity.max(0) as u64;
            def.available = d.free_space.max(0) as u64;
            def.allocation = def.capacity.saturating_sub(def.available);
        }
        Ok(def.to_xml())
    }

    pub(crate) async fn vmfs_refresh(&self, pool: &StoragePool) -> Result<()> {
        let d = self.datastore(&pool.name).await?;
        methods::refresh_datastore(&*self.primary().client, &d.moref).await?;
        Ok(())
    }

    async fn search(
        &self,
        d: &Datastore,
        path: String,
        pattern: Vec<String>,
        sub_folders: bool,
    ) -> Result<Vec<HostDatastoreBrowserSearchResults>> {
        let ctx = self.primary();
        let browser = d
            .browser
            .clone()
            .ok_or_else(|| Error::internal(format!("datastore '{}' has no browser", d.name)))?;
        let spec = Some(search_spec(pattern));
        let task = if sub_folders {
            methods::search_datastore_sub_folders_task(&*ctx.client, &browser, path, spec).await?
        } else {
            methods::search_datastore_task(&*ctx.client, &browser, path, spec).await?
        };
        let info = match self
            .wait_task(ctx, &task, None, "search the datastore")
            .await
        {
            Ok(info) => info,
            Err(e) if e.vim_fault().as_deref() == Some("FileNotFound") => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        Ok(match info.result {
            Some(Any::ArrayOfHostDatastoreBrowserSearchResults(a)) => {
                a.host_datastore_browser_search_results
            }
            Some(Any::HostDatastoreBrowserSearchResults(r)) => vec![*r],
            _ => Vec::new(),
        })
    }

    /// Every volume file of a datastore (one SearchDatastoreSubFolders_Task).
    pub(crate) async fn vmfs_files(&self, d: &Datastore) -> Result<Vec<VolFile>> {
        let results = self
            .search(d, format!("[{}]", d.name), Vec::new(), true)
            .await?;
        let mut out = Vec::new();
        for r in results {
            let dir = folder_dir(r.folder_path.as_deref().unwrap_or_default());
            out.extend(r.file.iter().filter_map(|f| vol_file(&dir, f)));
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// One volume file, by its name in the datastore.
    pub(crate) async fn vmfs_file(&self, d: &Datastore, name: &str) -> Result<Option<VolFile>> {
        let (dir, file) = name.rsplit_once('/').unwrap_or(("", name));
        let path = if dir.is_empty() {
            format!("[{}]", d.name)
        } else {
            format!("[{}] {dir}", d.name)
        };
        let results = self.search(d, path, vec![file.to_string()], false).await?;
        Ok(results
            .iter()
            .flat_map(|r| r.file.iter())
            .filter_map(|f| vol_file(dir, f))
            .find(|v| v.name == name))
    }

    /// The key of a volume: the disk UUID on ESX, else the datastore path.
    async fn vmfs_key(&self, ds: &str, f: &VolFile) -> String {
        let ctx = self.primary();
        let path = format!("[{ds}] {}", f.name);
        if f.format == "vmdk" && ctx.product == Product::Esx {
            if let Some(vdm) = ctx.client.service_content().virtual_disk_manager.clone() {
                if let Ok(u) = methods::query_virtual_disk_uuid(
                    &*ctx.client,
                    &vdm,
                    path.clone(),
                    Some(ctx.datacenter.clone()),
                )
                .await
                {
                    if let Some(k) = reformat_uuid(&u) {
                        return k;
                    }
                }
            }
        }
        path
    }

    pub(crate) async fn vmfs_volume(&self, pool: &str, f: &VolFile) -> StorageVolume {
        StorageVolume {
            pool: pool.to_string(),
            name: f.name.clone(),
            key: self.vmfs_key(pool, f).await,
            backend: PoolBackend::Vmfs,
        }
    }

    pub(crate) async fn vmfs_volume_names(&self, pool: &StoragePool) -> Result<Vec<String>> {
        let d = self.datastore(&pool.name).await?;
        Ok(self
            .vmfs_files(&d)
            .await?
            .into_iter()
            .map(|f| f.name)
            .collect())
    }

    pub(crate) async fn vmfs_lookup(&self, pool: &str, name: &str) -> Result<StorageVolume> {
        let d = self.datastore(pool).await?;
        let f = self
            .vmfs_file(&d, name)
            .await?
            .ok_or_else(|| no_volume(&format!("with name '{name}'")))?;
        Ok(self.vmfs_volume(pool, &f).await)
    }

    pub(crate) async fn vmfs_lookup_by_path(&self, path: &str) -> Result<StorageVolume> {
        let p = DatastorePath::parse(path).map_err(|e| Error::invalid_arg(e.to_string()))?;
        let d = self
            .datastore(&p.datastore)
            .await
            .map_err(|_| no_volume(&format!("with path '{path}'")))?;
        let f = self
            .vmfs_file(&d, &p.directory_and_file)
            .await?
            .ok_or_else(|| no_volume(&format!("with path '{path}'")))?;
        Ok(self.vmfs_volume(&d.name, &f).await)
    }

    pub(crate) async fn vmfs_lookup_by_key(&self, key: &str) -> Result<Option<StorageVolume>> {
        if key.starts_with('[') {
            return Ok(self.vmfs_lookup_by_path(key).await.ok());
        }
        if key.parse::<esx_domain::Uuid>().is_err() {
            return Ok(None);
        }
        for d in self.datastores().await? {
            for f in self.vmfs_files(&d).await? {
                if f.format == "vmdk" {
                    let v = self.vmfs_volume(&d.name, &f).await;
                    if v.key == key {
                        return Ok(Some(v));
                    }
                }
            }
        }
        Ok(None)
    }

    async fn vmfs_vol_file(&self, vol: &StorageVolume) -> Result<(Datastore, VolFile)> {
        let d = self.datastore(&vol.pool).await?;
        let f = self
            .vmfs_file(&d, &vol.name)
            .await?
            .ok_or_else(|| no_volume(&format!("with name '{}'", vol.name)))?;
        Ok((d, f))
    }

    pub(crate) async fn vmfs_vol_info(&self, vol: &StorageVolume) -> Result<StorageVolumeInfo> {
        let (_, f) = self.vmfs_vol_file(vol).await?;
        Ok(StorageVolumeInfo {
            vol_type: StorageVolumeType::File,
            capacity: f.capacity,
            allocation: f.allocation,
        })
    }

    pub(crate) async fn vmfs_vol_xml(&self, vol: &StorageVolume) -> Result<String> {
        let (d, f) = self.vmfs_vol_file(vol).await?;
        let key = self.vmfs_key(&d.name, &f).await;
        Ok(VolDef::esx_file(&d.name, &f.name, &key, f.format, f.capacity, f.allocation).to_xml())
    }

    fn vdm(ctx: &Context) -> Result<MoRef> {
        ctx.client
            .service_content()
            .virtual_disk_manager
            .clone()
            .ok_or_else(|| Error::internal("the service content has no virtualDiskManager"))
    }

    /// Validates a new volume's definition against libvirt's rules; `(name, disk type)`.
    /// A copy (`clone`) accepts any allocation: only an allocation equal to the capacity
    /// asks for a preallocated copy, anything else makes it thin (virsh's `vol-clone` passes
    /// the source's own definition, whose allocation is what the file uses).
    fn new_volume_for(xml: &str, clone: bool) -> Result<(VolDef, String)> {
        let def = VolDef::from_xml(xml)?;
        if def.vol_type != VolumeType::File {
            return Err(Error::new(
                ErrorCode::NoSupport,
                "Creating non-file volumes is not supported",
            ));
        }
        if !def.name.contains('/') || def.name.starts_with('/') || def.name.ends_with('/') {
            return Err(Error::invalid_arg(format!(
                "Volume name '{}' doesn't have expected format '<directory>/<file>'",
                def.name
            )));
        }
        if !def.name.ends_with(".vmdk") {
            return Err(Error::invalid_arg(format!(
                "Volume name '{}' has unsupported suffix, expecting '.vmdk'",
                def.name
            )));
        }
        let format = def.target.format.clone().unwrap_or_else(|| "raw".into());
        if format != "vmdk" {
            return Err(Error::new(
                ErrorCode::NoSupport,
                format!("Creation of {format} volumes is not supported"),
            ));
        }
        let disk_type = if def.allocation == def.capacity {
            "preallocated"
        } else if def.allocation == 0 || clone {
            "thin"
        } else {
            return Err(Error::new(
                ErrorCode::NoSupport,
                "Unsupported capacity-to-allocation relation",
            ));
        };
        Ok((def, disk_type.to_string()))
    }

    fn new_volume(xml: &str) -> Result<(VolDef, String)> {
        Self::new_volume_for(xml, false)
    }

    /// Creates the directory of a new volume; a failure after this removes it again.
    async fn prepare_dir(&self, ds: &str, name: &str) -> Result<Option<String>> {
        let ctx = self.primary();
        let dir = format!("[{ds}] {}", name.rsplit_once('/').map_or("", |(d, _)| d));
        Ok(self.make_directory(ctx, &dir).await?.then_some(dir))
    }

    async fn cleanup_dir(&self, created: Option<String>) {
        if let Some(dir) = created {
            if let Err(e) = self.delete_file(self.primary(), &dir).await {
                tracing::warn!(error = %e, dir = %dir, "removing a directory after a failure");
            }
        }
    }

    pub(crate) async fn vmfs_create(&self, pool: &StoragePool, xml: &str) -> Result<StorageVolume> {
        self.check_writable("virStorageVolCreateXML")?;
        let (def, disk_type) = Self::new_volume(xml)?;
        let d = self.datastore(&pool.name).await?;
        if self.vmfs_file(&d, &def.name).await?.is_some() {
            return Err(Error::invalid_op(format!(
                "Storage volume '{}' already exists",
                def.name
            )));
        }
        let ctx = self.primary();
        let created = self.prepare_dir(&d.name, &def.name).await?;
        let path = format!("[{}] {}", d.name, def.name);
        let spec = BaseVirtualDiskSpec::from(FileBackedVirtualDiskSpec {
            disk_type,
            adapter_type: "lsiLogic".into(),
            capacity_kb: def.capacity.div_ceil(1024) as i64,
            ..Default::default()
        });
        let result = async {
            let task = methods::create_virtual_disk_task(
                &*ctx.client,
                &Self::vdm(ctx)?,
                path.clone(),
                Some(ctx.datacenter.clone()),
                spec,
            )
            .await?;
            self.wait_task(ctx, &task, None, "create volume").await
        }
        .await;
        if let Err(e) = result {
            self.cleanup_dir(created).await;
            return Err(e);
        }
        self.vmfs_lookup(&d.name, &def.name).await
    }

    pub(crate) async fn vmfs_create_from(
        &self,
        pool: &StoragePool,
        xml: &str,
        source: &StorageVolume,
    ) -> Result<StorageVolume> {
        self.check_writable("virStorageVolCreateXMLFrom")?;
        let (def, disk_type) = Self::new_volume_for(xml, true)?;
        let d = self.datastore(&pool.name).await?;
        let (sd, sf) = self.vmfs_vol_file(source).await?;
        if sf.format != "vmdk" {
            return Err(Error::new(
                ErrorCode::NoSupport,
                format!("Copying {} volumes is not supported", sf.format),
            ));
        }
        if self.vmfs_file(&d, &def.name).await?.is_some() {
            return Err(Error::invalid_op(format!(
                "Storage volume '{}' already exists",
                def.name
            )));
        }
        let ctx = self.primary();
        let created = self.prepare_dir(&d.name, &def.name).await?;
        let spec = BaseVirtualDiskSpec::from(FileBackedVirtualDiskSpec {
            disk_type,
            adapter_type: "lsiLogic".into(),
            capacity_kb: def.capacity.div_ceil(1024) as i64,
            ..Default::default()
        });
        let result = async {
            let task = methods::copy_virtual_disk_task(
                &*ctx.client,
                &Self::vdm(ctx)?,
                format!("[{}] {}", sd.name, sf.name),
                Some(ctx.datacenter.clone()),
                format!("[{}] {}", d.name, def.name),
                Some(ctx.datacenter.clone()),
                Some(spec),
                Some(false),
            )
            .await?;
            self.wait_task(ctx, &task, None, "copy volume").await
        }
        .await;
        if let Err(e) = result {
            self.cleanup_dir(created).await;
            return Err(e);
        }
        self.vmfs_lookup(&d.name, &def.name).await
    }

    pub(crate) async fn vmfs_delete(&self, vol: &StorageVolume) -> Result<()> {
        self.check_writable("virStorageVolDelete")?;
        let (d, f) = self.vmfs_vol_file(vol).await?;
        let ctx = self.primary();
        let path = format!("[{}] {}", d.name, f.name);
        if f.format == "vmdk" {
            let task = methods::delete_virtual_disk_task(
                &*ctx.client,
                &Self::vdm(ctx)?,
                path,
                Some(ctx.datacenter.clone()),
            )
            .await?;
            self.wait_task(ctx, &task, None, "delete volume").await?;
        } else {
            self.delete_file(ctx, &path).await?;
        }
        Ok(())
    }

    pub(crate) async fn vmfs_wipe(&self, vol: &StorageVolume) -> Result<()> {
        self.check_writable("virStorageVolWipe")?;
        let (d, f) = self.vmfs_vol_file(vol).await?;
        if f.format != "vmdk" {
            return Err(Error::new(
                ErrorCode::NoSupport,
                format!("Wiping {} volumes is not supported", f.format),
            ));
        }
        let ctx = self.primary();
        let task = methods::zero_fill_virtual_disk_task(
            &*ctx.client,
            &Self::vdm(ctx)?,
            format!("[{}] {}", d.name, f.name),
            Some(ctx.datacenter.clone()),
        )
        .await?;
        self.wait_task(ctx, &task, None, "wipe volume").await?;
        Ok(())
    }

    /// Streams the file of a datastore volume into `out` (constant memory); returns the
    /// bytes written. Beyond libvirt, whose ESX storage driver cannot download.
    pub async fn storage_vol_download<W>(&self, vol: &StorageVolume, out: &mut W) -> Result<u64>
    where
        W: AsyncWrite + Unpin + ?Sized,
    {
        self.ensure_open()?;
        if vol.backend != PoolBackend::Vmfs {
            return Err(Error::new(
                ErrorCode::NoSupport,
                "iSCSI storage pool does not support volume download",
            ));
        }
        let ctx = self.primary();
        let file =
            super::super::files::datastore_file(ctx, &format!("[{}] {}", vol.pool, vol.name))?;
        Ok(ctx.client.transport().download(&file, out).await?)
    }

    /// Streams `len` bytes (or everything until EOF with `None`) from `source` into the file
    /// of a datastore volume, creating or replacing it. Beyond libvirt, whose ESX storage
    /// driver cannot upload. For the files of a VMDK disk, upload the descriptor and the
    /// extent separately.
    pub async fn storage_vol_upload<R>(
        &self,
        vol: &StorageVolume,
        source: R,
        len: Option<u64>,
    ) -> Result<u64>
    where
        R: AsyncRead + Send + 'static,
    {
        self.check_writable("virStorageVolUpload")?;
        if vol.backend != PoolBackend::Vmfs {
            return Err(Error::new(
                ErrorCode::NoSupport,
                "iSCSI storage pool does not support volume upload",
            ));
        }
        let ctx = self.primary();
        let file =
            super::super::files::datastore_file(ctx, &format!("[{}] {}", vol.pool, vol.name))?;
        Ok(ctx.client.transport().upload(&file, source, len).await?)
    }

    /// Uploads a new file `name` (`dir/file`) into datastore `pool` from `source`, creating
    /// its directory; on failure nothing is left behind. Returns the volume.
    pub async fn storage_vol_upload_new<R>(
        &self,
        pool: &StoragePool,
        name: &str,
        source: R,
        len: Option<u64>,
    ) -> Result<StorageVolume>
    where
        R: AsyncRead + Send + 'static,
    {
        self.check_writable("virStorageVolUpload")?;
        let d = self.datastore(&pool.name).await?;
        let ctx = self.primary();
        let path = format!("[{}] {name}", d.name);
        if self.file_exists(ctx, &path).await? {
            return Err(Error::invalid_op(format!("File '{path}' exists already")));
        }
        let created = if name.contains('/') {
            self.prepare_dir(&d.name, name).await?
        } else {
            None
        };
        let file = super::super::files::datastore_file(ctx, &path)?;
        if let Err(e) = ctx.client.transport().upload(&file, source, len).await {
            let _ = self.delete_file(ctx, &path).await;
            self.cleanup_dir(created).await;
            return Err(e.into());
        }
        let f = self.vmfs_file(&d, name).await?;
        Ok(match f {
            Some(f) => self.vmfs_volume(&d.name, &f).await,
            None => StorageVolume {
                pool: d.name.clone(),
                name: name.to_string(),
                key: path,
                backend: PoolBackend::Vmfs,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disk_uuid_reformat() {
        assert_eq!(
            reformat_uuid("60 00 C2 9b 69 2f c9 aa-5a 9e 3d f9 7c 54 c4 7c").as_deref(),
            Some("6000c29b-692f-c9aa-5a9e-3df97c54c47c")
        );
        assert_eq!(reformat_uuid("junk"), None);
    }

    #[test]
    fn new_volume_rules() {
        let xml = |name: &str, cap: u64, alloc: u64, fmt: &str| {
            format!(
                "<volume><name>{name}</name><capacity>{cap}</capacity><allocation>{alloc}</allocation>\
                 <target><format type='{fmt}'/></target></volume>"
            )
        };
        assert_eq!(
            Connection::new_volume(&xml("d/x.vmdk", 1024, 0, "vmdk"))
                .unwrap()
                .1,
            "thin"
        );
        assert_eq!(
            Connection::new_volume(&xml("d/x.vmdk", 1024, 1024, "vmdk"))
                .unwrap()
                .1,
            "preallocated"
        );
        let e = Connection::new_volume(&xml("d/x.vmdk", 1024, 10, "vmdk")).unwrap_err();
        assert!(e.message.contains("capacity-to-allocation"), "{e}");
        let e = Connection::new_volume(&xml("x.vmdk", 1024, 0, "vmdk")).unwrap_err();
        assert!(e.message.contains("<directory>/<file>"), "{e}");
        let e = Connection::new_volume(&xml("d/x.img", 1024, 0, "vmdk")).unwrap_err();
        assert!(e.message.contains("suffix"), "{e}");
        let e = Connection::new_volume(&xml("d/x.vmdk", 1024, 0, "raw")).unwrap_err();
        assert!(e.message.contains("raw"), "{e}");
    }
}
