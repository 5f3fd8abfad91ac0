//! Files on datastores: existence, directories, deletion, small uploads (what define and
//! the volume calls need, done so that a failure leaves nothing behind).

use esx_uri::DatastorePath;
use esx_vim::client::{DatastoreFile, TransferError};
use esx_vim::{methods, ManagedObjectReference as MoRef};

use crate::context::Context;
use crate::error::{Error, Result};
use crate::Connection;

fn file_manager(ctx: &Context) -> Result<MoRef> {
    ctx.client
        .service_content()
        .file_manager
        .clone()
        .ok_or_else(|| Error::internal("the service content has no fileManager"))
}

/// The `/folder` address of a datastore path.
pub(crate) fn datastore_file(ctx: &Context, path: &str) -> Result<DatastoreFile> {
    let p = DatastorePath::parse(path).map_err(|e| Error::invalid_arg(e.to_string()))?;
    Ok(DatastoreFile::new(
        ctx.datacenter_path.clone(),
        p.datastore,
        p.directory_and_file,
    ))
}

impl Connection {
    /// Whether the file at `path` (`[ds] dir/file`) exists (read through `/folder`).
    pub(crate) async fn file_exists(&self, ctx: &Context, path: &str) -> Result<bool> {
        let file = datastore_file(ctx, path)?;
        let mut sink = tokio::io::sink();
        match ctx.client.transport().download(&file, &mut sink).await {
            Ok(_) => Ok(true),
            Err(TransferError::NotFound { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Creates the directory `path` (and its parents); `true` when it did not exist.
    pub(crate) async fn make_directory(&self, ctx: &Context, path: &str) -> Result<bool> {
        let fm = file_manager(ctx)?;
        match methods::make_directory(
            &*ctx.client,
            &fm,
            path.to_string(),
            Some(ctx.datacenter.clone()),
            Some(true),
        )
        .await
        {
            Ok(()) => Ok(true),
            // ESX says FileAlreadyExists; some servers say AlreadyExists.
            Err(e) if e.is_fault("FileAlreadyExists") || e.is_fault("AlreadyExists") => Ok(false),
            Err(e) => Err(Error::from(e).context(format!("Could not create directory '{path}'"))),
        }
    }

    /// Deletes the file or directory `path` (`DeleteDatastoreFile_Task`).
    pub(crate) async fn delete_file(&self, ctx: &Context, path: &str) -> Result<()> {
        let fm = file_manager(ctx)?;
        let task = methods::delete_datastore_file_task(
            &*ctx.client,
            &fm,
            path.to_string(),
            Some(ctx.datacenter.clone()),
        )
        .await?;
        self.wait_task(ctx, &task, None, &format!("delete '{path}'"))
            .await?;
        Ok(())
    }

    /// Uploads `data` to `path`.
    pub(crate) async fn upload_bytes(
        &self,
        ctx: &Context,
        path: &str,
        data: Vec<u8>,
    ) -> Result<()> {
        let file = datastore_file(ctx, path)?;
        let len = data.len() as u64;
        ctx.client
            .transport()
            .upload(&file, std::io::Cursor::new(data), Some(len))
            .await?;
        Ok(())
    }
}
