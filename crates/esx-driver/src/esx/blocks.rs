//! Building blocks for layers above the driver (Nova-style provisioning, tools): the vSphere
//! object behind a handle, typed property reads, task waits and datastore files — the same
//! helpers the driver's own calls use, with its retry policy and error texts.

use esx_vim::client::DatastoreFile;
use esx_vim::{Any, ManagedObjectReference as MoRef, TaskInfo};

use crate::error::Result;
use crate::types::Domain;
use crate::{vi, Connection};

impl Connection {
    /// The `VirtualMachine` managed object of `dom` on the primary endpoint.
    pub async fn domain_moref(&self, dom: &Domain) -> Result<MoRef> {
        Ok(self.vm(dom, &[]).await?.moref)
    }

    /// Reads `paths` of `obj` on the primary endpoint (missing properties are left out).
    /// Reads are retried once on an ambiguous failure, like every read of the driver.
    pub async fn properties(&self, obj: &MoRef, paths: &[&str]) -> Result<Vec<(String, Any)>> {
        self.ensure_open()?;
        let p = vi::get(&self.primary().client, obj, paths).await?;
        Ok(p.0.prop_set.into_iter().map(|d| (d.name, d.val)).collect())
    }

    /// Waits for `task` on the primary endpoint to end, watching `vm`'s questions meanwhile
    /// (answered by the connection's `auto_answer` rule). A failed task is an error
    /// `"Could not {what}: <fault> - <message>"`.
    pub async fn task_wait(
        &self,
        task: &MoRef,
        vm: Option<&MoRef>,
        what: &str,
    ) -> Result<TaskInfo> {
        self.wait_task(self.primary(), task, vm, what).await
    }

    /// The `/folder` address of the datastore path `[ds] dir/file` on the primary endpoint.
    pub fn datastore_file(&self, path: &str) -> Result<DatastoreFile> {
        crate::esx::files::datastore_file(self.primary(), path)
    }

    /// Whether the datastore file `[ds] dir/file` exists.
    pub async fn datastore_file_exists(&self, path: &str) -> Result<bool> {
        self.file_exists(self.primary(), path).await
    }

    /// Creates the datastore directory `[ds] dir` and its parents; `false` when it existed.
    pub async fn datastore_make_directory(&self, path: &str) -> Result<bool> {
        self.make_directory(self.primary(), path).await
    }

    /// Deletes the datastore file or directory (recursively) `[ds] path`.
    pub async fn datastore_delete(&self, path: &str) -> Result<()> {
        self.delete_file(self.primary(), path).await
    }

    /// Reads `paths` of every VM on the host (the datacenter's VMs for `vpx://`), with the
    /// VM's identity (`name`, `config.uuid`, `runtime.powerState`) always included.
    pub async fn host_vm_properties(
        &self,
        paths: &[&str],
    ) -> Result<Vec<(MoRef, Vec<(String, Any)>)>> {
        Ok(self
            .host_vms(paths)
            .await?
            .into_iter()
            .map(|p| {
                let obj = p.0.obj;
                let props = p.0.prop_set.into_iter().map(|d| (d.name, d.val)).collect();
                (obj, props)
            })
            .collect())
    }
}
