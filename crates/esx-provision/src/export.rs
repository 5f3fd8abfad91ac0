//! `snapshot_to_image`: a VM's disk back to an image, as Nova does it — snapshot (the disk
//! stops changing), coalesce the disk as of the snapshot into a temporary folder with
//! `CopyVirtualDisk_Task`, stream the copy out as a flat extent or a streamOptimized VMDK —
//! then, whatever happened, delete the temporary copy and **remove the snapshot** (Nova's
//! 2011 driver left its snapshots behind).

use std::sync::Arc;

use esx_driver::Domain;
use esx_vim::{
    methods, Any, BaseVirtualDevice, BaseVirtualDeviceBackingInfo, ManagedObjectReference as MoRef,
};

use crate::error::{ProvisionError, Result};
use crate::image::{download_image, ExportFormat, ImageDest, UrlOptions};
use crate::progress::Progress;
use crate::spawn::{AdapterType, DiskType};
use crate::Provisioner;

/// The folder of temporary disk copies on each datastore.
pub const TEMP_DIR: &str = "esx-tmp";

/// An exported image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exported {
    /// Where it went.
    pub dest: ImageDest,
    /// Its format.
    pub format: ExportFormat,
    /// Bytes written to the destination.
    pub bytes: u64,
    /// The virtual disk's size in bytes.
    pub capacity: u64,
    /// The disk's controller (Nova's `vmware_adaptertype`).
    pub adapter: AdapterType,
    /// The VM's guest id (Nova's `vmware_ostype`).
    pub guest_id: String,
}

/// The VM's first flat disk: its file, controller type and size.
fn first_disk(devices: &[BaseVirtualDevice]) -> Option<(String, AdapterType, u64)> {
    devices.iter().find_map(|d| {
        let BaseVirtualDevice::VirtualDisk(disk) = d else {
            return None;
        };
        let Some(BaseVirtualDeviceBackingInfo::VirtualDiskFlatVer2BackingInfo(b)) = &disk.backing
        else {
            return None;
        };
        let adapter = devices
            .iter()
            .find_map(|c| match c {
                BaseVirtualDevice::VirtualLsiLogicController(x)
                    if Some(x.key) == disk.controller_key =>
                {
                    Some(AdapterType::LsiLogic)
                }
                BaseVirtualDevice::VirtualBusLogicController(x)
                    if Some(x.key) == disk.controller_key =>
                {
                    Some(AdapterType::BusLogic)
                }
                BaseVirtualDevice::VirtualLsiLogicSASController(x)
                    if Some(x.key) == disk.controller_key =>
                {
                    Some(AdapterType::LsiLogicSas)
                }
                BaseVirtualDevice::ParaVirtualSCSIController(x)
                    if Some(x.key) == disk.controller_key =>
                {
                    Some(AdapterType::ParaVirtual)
                }
                BaseVirtualDevice::VirtualIDEController(x)
                    if Some(x.key) == disk.controller_key =>
                {
                    Some(AdapterType::Ide)
                }
                _ => None,
            })
            .unwrap_or_default();
        let capacity = disk
            .capacity_in_bytes
            .filter(|b| *b > 0)
            .unwrap_or(disk.capacity_in_kb.saturating_mul(1024))
            .max(0) as u64;
        Some((b.file_name.clone(), adapter, capacity))
    })
}

impl Provisioner {
    /// Exports the disk of `dom` as it is now to `dest` (a local file, written to a temporary
    /// name and renamed when complete, or an `http(s)://` URL, sent with one PUT) in `format`.
    pub async fn snapshot_to_image(
        &self,
        dom: &Domain,
        dest: &ImageDest,
        format: ExportFormat,
        url_options: &UrlOptions,
        progress: Arc<dyn Progress>,
    ) -> Result<Exported> {
        let ctx = self.conn.endpoint();
        let client = &ctx.client;
        let vm = self.conn.domain_moref(dom).await?;
        let props = self
            .conn
            .properties(
                &vm,
                &[
                    "config.hardware.device",
                    "config.guestId",
                    "guest.toolsRunningStatus",
                ],
            )
            .await?;
        let get = |k: &str| props.iter().find(|(n, _)| n == k).map(|(_, v)| v);
        let devices = match get("config.hardware.device") {
            Some(Any::ArrayOfVirtualDevice(a)) => a.virtual_device.clone(),
            _ => Vec::new(),
        };
        let guest_id = match get("config.guestId") {
            Some(Any::String(s)) => s.clone(),
            _ => "otherGuest".into(),
        };
        let tools = matches!(get("guest.toolsRunningStatus"), Some(Any::String(s)) if s == "guestToolsRunning");
        let (disk, adapter, capacity) = first_disk(&devices).ok_or_else(|| {
            ProvisionError::InvalidState(format!(
                "domain '{}' has no flat disk to export",
                dom.name
            ))
        })?;
        let ds = esx_uri::DatastorePath::parse(&disk)
            .map_err(|e| ProvisionError::InvalidArgument(format!("disk '{disk}': {e}")))?
            .datastore;
        // 1. The snapshot: from now on the VM writes to a delta disk, `disk` stays as it is.
        let name = format!("{}-image-{}", dom.name, crate::cache::random_hex());
        let task = methods::create_snapshot_task(
            &**client,
            &vm,
            name.clone(),
            Some("esx-provision: snapshot for an image export".into()),
            false,
            tools,
        )
        .await?;
        let info = self
            .conn
            .task_wait(&task, Some(&vm), &format!("snapshot '{}'", dom.name))
            .await?;
        let snapshot = match info.result {
            Some(Any::ManagedObjectReference(r)) => r,
            _ => {
                return Err(ProvisionError::InvalidArgument(
                    "CreateSnapshot_Task reported no snapshot".into(),
                ))
            }
        };
        // 2. The copy and the download; 3. the cleanup, whatever happened.
        let temp = format!("[{ds}] {TEMP_DIR}/{}", crate::cache::random_hex());
        let exported = self
            .copy_and_download(
                &disk,
                &temp,
                adapter,
                capacity,
                dest,
                format,
                url_options,
                progress,
            )
            .await;
        let mut left = Vec::new();
        if let Err(e) = self.conn.datastore_delete(&temp).await {
            if !e.message.contains("FileNotFound") && !e.message.contains("not found") {
                left.push(format!("'{temp}' stays: {e}"));
            }
        }
        if let Err(e) = self.remove_snapshot(&vm, &snapshot, dom).await {
            left.push(format!("snapshot '{name}' stays: {e}"));
        }
        match (exported, left.is_empty()) {
            (Ok(bytes), true) => Ok(Exported {
                dest: dest.clone(),
                format,
                bytes,
                capacity,
                adapter,
                guest_id,
            }),
            (Ok(_), false) => Err(ProvisionError::Leftover {
                done: format!("the image of '{}' was written to {dest}", dom.name),
                cleanup: left.join("; "),
            }),
            (Err(e), true) => Err(e),
            (Err(e), false) => Err(ProvisionError::CleanupFailed {
                error: Box::new(e),
                cleanup: left.join("; "),
            }),
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn copy_and_download(
        &self,
        disk: &str,
        temp: &str,
        adapter: AdapterType,
        capacity: u64,
        dest: &ImageDest,
        format: ExportFormat,
        url_options: &UrlOptions,
        progress: Arc<dyn Progress>,
    ) -> Result<u64> {
        let ctx = self.conn.endpoint();
        let client = &ctx.client;
        self.conn.datastore_make_directory(temp).await?;
        let copy = format!("{temp}/disk.vmdk");
        self.copy_disk(disk, &copy, DiskType::Thick, adapter, capacity)
            .await?;
        // The copy's extent, as its descriptor names it.
        let extent = self
            .read_descriptor(&copy)
            .await?
            .and_then(|d| d.extents.into_iter().find_map(|e| e.file))
            .ok_or_else(|| {
                ProvisionError::InvalidArgument(format!("the copy '{copy}' names no extent"))
            })?;
        let file = self.conn.datastore_file(&format!("{temp}/{extent}"))?;
        download_image(
            client,
            &file,
            capacity,
            adapter.ddb_name(),
            dest,
            format,
            url_options,
            progress,
        )
        .await
    }

    async fn remove_snapshot(&self, vm: &MoRef, snapshot: &MoRef, dom: &Domain) -> Result<()> {
        let client = &self.conn.endpoint().client;
        let task = methods::remove_snapshot_task(&**client, snapshot, false, Some(true)).await?;
        self.conn
            .task_wait(
                &task,
                Some(vm),
                &format!("remove the export snapshot of '{}'", dom.name),
            )
            .await?;
        Ok(())
    }
}
