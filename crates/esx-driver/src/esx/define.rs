//! Defining domains: a new VM is written as a `.vmx` next to its first disk and registered,
//! all or nothing; a definition of an existing domain edits it ([`super::edit`]) instead of
//! libvirt's "editing existing domains is not supported yet".

use esx_domain::{Domain as DomainDef, Uuid};
use esx_uri::{escape_datastore_item, DatastorePath};
use esx_vim::{methods, Any};

use crate::error::{Error, ErrorCode, Result};
use crate::esx::lifecycle::check_flags;
use crate::esx::xml::check_domain_type;
use crate::esx::{domain_of, IDENTITY};
use crate::flags::define;
use crate::types::Domain;
use crate::vi;
use crate::Connection;

/// A random (version 4) UUID, as libvirt gives a definition without one.
pub(crate) fn random_uuid() -> Result<Uuid> {
    let mut b = [0u8; 16];
    getrandom::getrandom(&mut b)
        .map_err(|e| Error::internal(format!("cannot generate a UUID: {e}")))?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    Ok(Uuid(b))
}

/// Where the `.vmx` of a new domain goes: next to the first file-based hard disk
/// (libvirt's rule and its error texts).
pub(crate) fn vmx_location(def: &DomainDef, name: &str) -> Result<(DatastorePath, String)> {
    let disk = def
        .devices
        .disks
        .iter()
        .find(|d| d.device == "disk" && d.disk_type == "file")
        .ok_or_else(|| {
            Error::internal(
                "Domain XML doesn't contain any file-based harddisks, cannot deduce datastore \
                 and path for VMX file",
            )
        })?;
    let src = disk
        .source
        .as_ref()
        .and_then(|s| s.path.as_deref())
        .ok_or_else(|| {
            Error::internal(
                "First file-based harddisk has no source, cannot deduce datastore and path for \
                 VMX file",
            )
        })?;
    if !src.ends_with(".vmdk") {
        return Err(Error::internal(format!(
            "Expecting source '{src}' of first file-based harddisk to be a VMDK image"
        )));
    }
    let path = DatastorePath::parse(src).map_err(|e| Error::invalid_arg(e.to_string()))?;
    let vmx = format!(
        "[{}] {}/{}.vmx",
        path.datastore,
        path.directory,
        escape_datastore_item(name)
    );
    Ok((path, vmx))
}

impl Connection {
    pub(crate) async fn define_xml(&self, xml: &str, flags: u32) -> Result<Domain> {
        check_flags(flags, define::VALIDATE, "esxDomainDefineXMLFlags")?;
        self.check_writable("virDomainDefineXMLFlags")?;
        let mut def = DomainDef::from_xml(xml)?;
        check_domain_type(&def)?;
        let name = def
            .name
            .clone()
            .filter(|n| !n.is_empty())
            .ok_or_else(|| Error::new(ErrorCode::XmlError, "missing name information"))?;
        if name.contains('\n') {
            return Err(Error::new(
                ErrorCode::XmlError,
                format!("name {name:?} must not contain a newline"),
            ));
        }
        // An existing domain, by UUID or by name.
        let vms = self.host_vms(&[]).await?;
        let by_uuid = def.uuid.filter(|u| !u.is_nil()).and_then(|u| {
            vms.iter()
                .find_map(|p| domain_of(p).filter(|d| d.uuid == u))
        });
        let by_name = vms
            .iter()
            .find_map(|p| domain_of(p).filter(|d| d.name == name));
        match (by_uuid, by_name) {
            (Some(u), Some(n)) if u.uuid != n.uuid => Err(Error::failed(format!(
                "domain '{}' is already defined with uuid {}",
                n.name, n.uuid
            ))),
            (Some(existing), _) => self.edit(&existing, def).await,
            (None, Some(existing)) => {
                if def.uuid.is_some_and(|u| !u.is_nil() && u != existing.uuid) {
                    return Err(Error::failed(format!(
                        "domain '{}' already exists with uuid {}",
                        existing.name, existing.uuid
                    )));
                }
                def.uuid = Some(existing.uuid);
                self.edit(&existing, def).await
            }
            (None, None) => self.define_new(def, &name).await,
        }
    }

    async fn define_new(&self, mut def: DomainDef, name: &str) -> Result<Domain> {
        let ctx = self.primary();
        if def.uuid.is_none_or(|u| u.is_nil()) {
            def.uuid = Some(random_uuid()?);
        }
        let vmx = self.to_vmx(&def).await?;
        let (disk_path, vmx_path) = vmx_location(&def, name)?;
        if self.file_exists(ctx, &vmx_path).await? {
            return Err(Error::invalid_op(format!(
                "File '{vmx_path}' exists already; refusing to overwrite another domain's \
                 configuration"
            )));
        }
        let dir = format!("[{}] {}", disk_path.datastore, disk_path.directory);
        let created_dir = self.make_directory(ctx, &dir).await?;
        if let Err(e) = self.upload_bytes(ctx, &vmx_path, vmx.into_bytes()).await {
            return Err(self
                .undo_define(&vmx_path, created_dir.then_some(&dir), e)
                .await);
        }
        let registered = async {
            let call = methods::register_vm_task(
                &*ctx.client,
                &ctx.vm_folder,
                vmx_path.clone(),
                None,
                false,
                Some(ctx.resource_pool.clone()),
                Some(ctx.host_system.clone()),
            )
            .await;
            match call {
                Ok(task) => self
                    .wait_task(ctx, &task, None, "define domain")
                    .await
                    .map(|info| info.result),
                // The call may have been carried out: a VM registered from our .vmx says so.
                Err(e) if crate::vi::ambiguous(&e) => match self.find_by_path(ctx, &vmx_path).await
                {
                    Some(vm) => Ok(Some(Any::ManagedObjectReference(vm))),
                    None => Err(Error::from(e).context("Could not define domain")),
                },
                Err(e) => Err(Error::from(e).context("Could not define domain")),
            }
        }
        .await;
        let result = match registered {
            Ok(result) => result,
            Err(e) => {
                return Err(self
                    .undo_define(&vmx_path, created_dir.then_some(&dir), e)
                    .await)
            }
        };
        let Some(Any::ManagedObjectReference(vm)) = result else {
            return Err(Error::internal("RegisterVM_Task returned no VM"));
        };
        let props = vi::get(&ctx.client, &vm, &IDENTITY).await?;
        domain_of(&props).ok_or_else(|| Error::internal("the registered VM has no UUID"))
    }

    /// The VM registered from the `.vmx` at `path`, if any (`FindByDatastorePath`).
    async fn find_by_path(
        &self,
        ctx: &crate::context::Context,
        path: &str,
    ) -> Option<esx_vim::ManagedObjectReference> {
        let si = ctx.client.service_content().search_index.clone()?;
        methods::find_by_datastore_path(&*ctx.client, &si, ctx.datacenter.clone(), path.to_string())
            .await
            .ok()
            .flatten()
    }

    /// Removes what a failed definition wrote (the `.vmx`, and the directory when it made
    /// it) and gives back the original error.
    async fn undo_define(&self, vmx_path: &str, dir: Option<&String>, e: Error) -> Error {
        let ctx = self.primary();
        if let Err(d) = self.delete_file(ctx, vmx_path).await {
            tracing::debug!(error = %d, "define: removing the .vmx after a failure");
        }
        if let Some(dir) = dir {
            if let Err(d) = self.delete_file(ctx, dir).await {
                tracing::warn!(error = %d, dir = %dir, "define: removing the directory after a failure");
            }
        }
        e
    }
}
