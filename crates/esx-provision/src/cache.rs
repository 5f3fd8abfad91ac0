//! The image cache on a datastore (Nova's `_base`): `[ds] esx-image-cache/<key>/<key>.vmdk`
//! with its flat extent. An image is uploaded into a temporary folder beside it and moved
//! into place only when complete, so a folder in the cache is always a whole image; a second
//! spawn of the same image uploads nothing. Spawns in one process upload a given image once
//! (a lock per image); a spawn in another process that loses the race deletes its copy.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use esx_vim::methods;
use esx_vmdk::Descriptor;

use crate::error::{ProvisionError, Result};
use crate::image::{cache_key, upload_flat, ImageSource, UrlOptions};
use crate::progress::Progress;
use crate::spawn::DatastoreRef;
use crate::Provisioner;

/// The cache's folder on each datastore.
pub const CACHE_DIR: &str = "esx-image-cache";

/// Whether a spawn found its image in the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheUse {
    /// It was there: nothing was uploaded.
    Hit,
    /// It was uploaded (and is cached now).
    Uploaded,
}

/// An image in the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedImage {
    /// The datastore path of its descriptor.
    pub descriptor: String,
    /// The virtual disk's size in bytes.
    pub capacity: u64,
    /// Its descriptor's adapter type.
    pub adapter_type: Option<String>,
}

type Locks = Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>;

fn lock_for(key: &str) -> Arc<tokio::sync::Mutex<()>> {
    static LOCKS: OnceLock<Locks> = OnceLock::new();
    let mut map = LOCKS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    map.entry(key.to_string()).or_default().clone()
}

fn random_bytes<const N: usize>() -> [u8; N] {
    use ring::rand::SecureRandom;
    let mut b = [0u8; N];
    // SystemRandom only fails when the OS has no randomness source at all.
    let _ = ring::rand::SystemRandom::new().fill(&mut b);
    b
}

/// 16 random hex digits (names of temporary folders).
pub(crate) fn random_hex() -> String {
    random_bytes::<8>()
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

/// A `ddb.uuid` value: 16 random bytes as space-separated hex pairs.
fn ddb_uuid() -> String {
    let b = random_bytes::<16>();
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

impl Provisioner {
    /// Reads and parses the disk descriptor at the datastore path `descriptor`, if it exists.
    pub(crate) async fn read_descriptor(&self, descriptor: &str) -> Result<Option<Descriptor>> {
        let file = self.conn.datastore_file(descriptor)?;
        let mut text = Vec::new();
        match self
            .conn
            .endpoint()
            .client
            .transport()
            .download(&file, &mut text)
            .await
        {
            Ok(_) => {}
            Err(esx_vim::client::TransferError::NotFound { .. }) => return Ok(None),
            Err(error) => {
                return Err(ProvisionError::Transfer {
                    what: format!("reading the descriptor '{descriptor}'"),
                    error,
                })
            }
        }
        let text = String::from_utf8_lossy(&text);
        Descriptor::parse(&text)
            .map(Some)
            .map_err(|error| ProvisionError::Image {
                image: descriptor.to_string(),
                error,
            })
    }

    /// Reads the cached image's descriptor, if the image is in the cache.
    async fn read_cached(&self, descriptor: &str) -> Result<Option<CachedImage>> {
        let Some(d) = self.read_descriptor(descriptor).await? else {
            return Ok(None);
        };
        Ok(Some(CachedImage {
            descriptor: descriptor.to_string(),
            capacity: d.capacity(),
            adapter_type: d.adapter_type().map(str::to_string),
        }))
    }

    /// The image `src` in the cache of datastore `ds`, uploaded first when missing.
    pub(crate) async fn cached_image(
        &self,
        ds: &DatastoreRef,
        src: &ImageSource,
        image_id: Option<&str>,
        opts: &UrlOptions,
        progress: Arc<dyn Progress>,
    ) -> Result<(CachedImage, CacheUse)> {
        let key = {
            let (s, o, id) = (src.clone(), opts.clone(), image_id.map(str::to_string));
            tokio::task::spawn_blocking(move || cache_key(&s, &o, id.as_deref()))
                .await
                .map_err(|e| ProvisionError::ImageUnreadable {
                    image: src.to_string(),
                    reason: e.to_string(),
                })??
        };
        let dir = format!("[{}] {CACHE_DIR}/{key}", ds.name);
        let descriptor = format!("{dir}/{key}.vmdk");
        let lock = lock_for(&format!("{}/{key}", ds.name));
        let _held = lock.lock().await;
        if let Some(c) = self.read_cached(&descriptor).await? {
            tracing::info!(image = %src, cache = %dir, "image found in the cache");
            return Ok((c, CacheUse::Hit));
        }
        let temp = format!("[{}] {CACHE_DIR}/tmp-{}", ds.name, random_hex());
        self.conn.datastore_make_directory(&temp).await?;
        let uploaded = self
            .upload_to_cache(ds, src, opts, &key, &temp, &dir, progress)
            .await;
        match uploaded {
            Ok(moved) => {
                if !moved {
                    // Another process cached the same image meanwhile: keep theirs.
                    let _ = self.conn.datastore_delete(&temp).await;
                }
                let c = self.read_cached(&descriptor).await?.ok_or_else(|| {
                    ProvisionError::InvalidArgument(format!(
                        "the cached image '{descriptor}' vanished after the upload"
                    ))
                })?;
                Ok((c, CacheUse::Uploaded))
            }
            Err(e) => match self.conn.datastore_delete(&temp).await {
                Ok(()) => Err(e),
                Err(d) => Err(ProvisionError::CleanupFailed {
                    error: Box::new(e),
                    cleanup: format!("'{temp}' stays: {d}"),
                }),
            },
        }
    }

    /// Uploads the extent and a descriptor into `temp`, then moves `temp` to `dir`;
    /// `false` when `dir` appeared meanwhile.
    #[allow(clippy::too_many_arguments)]
    async fn upload_to_cache(
        &self,
        ds: &DatastoreRef,
        src: &ImageSource,
        opts: &UrlOptions,
        key: &str,
        temp: &str,
        dir: &str,
        progress: Arc<dyn Progress>,
    ) -> Result<bool> {
        let ctx = self.conn.endpoint();
        let extent = format!("{key}-flat.vmdk");
        let file = self.conn.datastore_file(&format!("{temp}/{extent}"))?;
        let free = ds.free;
        let name = ds.name.clone();
        let info = upload_flat(
            &ctx.client,
            src,
            opts,
            &file,
            |info| {
                if info.capacity > free {
                    Err(ProvisionError::NoSpace {
                        datastore: name,
                        free,
                        needed: info.capacity,
                    })
                } else {
                    Ok(())
                }
            },
            progress,
        )
        .await?;
        let adapter = info
            .adapter_type
            .clone()
            .unwrap_or_else(|| "lsilogic".into());
        let text = Descriptor::flat(&extent, info.capacity, &adapter, false, &ddb_uuid()).to_text();
        let dfile = self.conn.datastore_file(&format!("{temp}/{key}.vmdk"))?;
        let len = text.len() as u64;
        ctx.client
            .transport()
            .upload(&dfile, std::io::Cursor::new(text.into_bytes()), Some(len))
            .await
            .map_err(|error| ProvisionError::Transfer {
                what: format!("upload of the descriptor of {src}"),
                error,
            })?;
        let fm = ctx
            .client
            .service_content()
            .file_manager
            .clone()
            .ok_or_else(|| {
                ProvisionError::InvalidArgument("the server has no file manager".into())
            })?;
        let task = methods::move_datastore_file_task(
            &*ctx.client,
            &fm,
            temp.to_string(),
            Some(ctx.datacenter.clone()),
            dir.to_string(),
            Some(ctx.datacenter.clone()),
            Some(false),
        )
        .await?;
        match self
            .conn
            .task_wait(&task, None, &format!("move '{temp}' to '{dir}'"))
            .await
        {
            Ok(_) => {
                tracing::info!(image = %src, cache = %dir, bytes = info.capacity, "image cached");
                Ok(true)
            }
            Err(e)
                if e.message.contains("FileAlreadyExists")
                    || e.message.contains("AlreadyExists") =>
            {
                Ok(false)
            }
            Err(e) => Err(e.into()),
        }
    }
}
