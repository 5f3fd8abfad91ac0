//! The ESX, GSX and vCenter implementation of the driver tables, one module per area of
//! libvirt's driver.

pub(crate) mod blocks;
pub(crate) mod define;
pub(crate) mod domains;
pub(crate) mod edit;
pub(crate) mod events;
pub(crate) mod files;
pub(crate) mod guest;
pub(crate) mod host;
pub(crate) mod hypervisor;
pub(crate) mod interface;
pub(crate) mod lifecycle;
pub(crate) mod migrate;
pub(crate) mod network;
pub(crate) mod resources;
pub(crate) mod snapshot;
pub(crate) mod storage;
pub(crate) mod task;
pub(crate) mod xml;

use esx_domain::Uuid;
use esx_vim::{methods, ManagedObjectReference as MoRef, VirtualMachinePowerState};

use crate::context::Context;
use crate::error::{Error, ErrorCode, Result};
use crate::types::Domain;
use crate::vi::{self, Props};
use crate::Connection;

/// A VM found on an endpoint, with the properties read for the call.
#[derive(Debug, Clone)]
pub(crate) struct Vm {
    pub moref: MoRef,
    pub props: Props,
}

impl Vm {
    pub fn power_state(&self) -> VirtualMachinePowerState {
        match self.props.get("runtime.powerState") {
            Some(esx_vim::Any::VirtualMachinePowerState(p)) => p.clone(),
            _ => VirtualMachinePowerState::Other(String::new()),
        }
    }

    /// The libvirt handle of this VM (needs `name`, `config.uuid`, `runtime.powerState`).
    pub fn domain(&self) -> Option<Domain> {
        domain_of(&self.props)
    }
}

/// The handle of a VM from its `name`, `config.uuid` and `runtime.powerState`.
pub(crate) fn domain_of(p: &Props) -> Option<Domain> {
    let uuid: Uuid = p.str("config.uuid")?.parse().ok()?;
    let name = vi::unescape_name(p.str("name")?);
    let off = matches!(
        p.get("runtime.powerState"),
        Some(esx_vim::Any::VirtualMachinePowerState(
            VirtualMachinePowerState::PoweredOff
        )) | None
    );
    let id = if off {
        -1
    } else {
        vi::vm_id(p.obj()).unwrap_or(-1)
    };
    Some(Domain { name, uuid, id })
}

/// The properties every VM lookup reads.
pub(crate) const IDENTITY: [&str; 3] = ["name", "config.uuid", "runtime.powerState"];

impl Connection {
    /// Finds the VM with `uuid` on endpoint `which` (0 primary, 1 vCenter) and reads `paths`
    /// (plus its identity). A cached reference is used when it still names the same VM.
    pub(crate) async fn vm_on(
        &self,
        ctx: &Context,
        which: usize,
        uuid: &Uuid,
        paths: &[&str],
    ) -> Result<Vm> {
        self.ensure_open()?;
        let mut all: Vec<&str> = IDENTITY.to_vec();
        all.extend(paths.iter().filter(|p| !IDENTITY.contains(p)));
        let cached = self.inner.vm_cache[which]
            .lock()
            .expect("vm cache")
            .get(uuid)
            .cloned();
        if let Some(moref) = cached {
            match vi::get(&ctx.client, &moref, &all).await {
                Ok(p)
                    if p.str("config.uuid").and_then(|u| u.parse::<Uuid>().ok()) == Some(*uuid) =>
                {
                    return Ok(Vm { moref, props: p });
                }
                _ => {
                    self.inner.vm_cache[which]
                        .lock()
                        .expect("vm cache")
                        .remove(uuid);
                }
            }
        }
        let si = ctx
            .client
            .service_content()
            .search_index
            .clone()
            .ok_or_else(|| Error::internal("the service content has no searchIndex"))?;
        let found = vi::read_retry(|| async {
            methods::find_by_uuid(
                &*ctx.client,
                &si,
                Some(ctx.datacenter.clone()),
                uuid.to_string(),
                true,
                None,
            )
            .await
            .map_err(esx_vim::client::ClientError::from)
        })
        .await?;
        let Some(moref) = found else {
            return Err(no_domain_uuid(uuid));
        };
        let props = match vi::get(&ctx.client, &moref, &all).await {
            Ok(p) => p,
            Err(_) => return Err(no_domain_uuid(uuid)),
        };
        self.inner.vm_cache[which]
            .lock()
            .expect("vm cache")
            .insert(*uuid, moref.clone());
        Ok(Vm { moref, props })
    }

    /// [`Connection::vm_on`] on the primary endpoint.
    pub(crate) async fn vm(&self, dom: &Domain, paths: &[&str]) -> Result<Vm> {
        self.vm_on(self.primary(), 0, &dom.uuid, paths).await
    }

    /// Looks the VM up for a task-backed change (libvirt's
    /// `LookupVirtualMachineByUuidAndPrepareForTask`): a pending question is answered or
    /// reported, and other running tasks refuse the call.
    pub(crate) async fn vm_for_task(
        &self,
        ctx: &Context,
        which: usize,
        dom: &Domain,
        paths: &[&str],
    ) -> Result<Vm> {
        let mut all = vec!["runtime.question", "recentTask"];
        all.extend_from_slice(paths);
        let vm = self.vm_on(ctx, which, &dom.uuid, &all).await?;
        if let Some(esx_vim::Any::VirtualMachineQuestionInfo(q)) = vm.props.get("runtime.question")
        {
            self.handle_question(ctx, &vm.moref, q).await?;
        }
        let tasks = vm.props.morefs("recentTask");
        if !tasks.is_empty() {
            let spec = vi::filter(
                &tasks[0],
                false,
                Vec::new(),
                vec![vi::prop_spec("Task", &["info.state"])],
            );
            let mut spec = spec;
            spec.object_set = tasks
                .iter()
                .map(|t| esx_vim::ObjectSpec {
                    obj: t.clone(),
                    skip: Some(false),
                    select_set: Vec::new(),
                })
                .collect();
            let busy = vi::retrieve(&ctx.client, spec)
                .await
                .unwrap_or_default()
                .iter()
                .any(|p| {
                    matches!(
                        p.get("info.state"),
                        Some(esx_vim::Any::TaskInfoState(
                            esx_vim::TaskInfoState::Queued | esx_vim::TaskInfoState::Running
                        ))
                    )
                });
            if busy {
                return Err(Error::invalid_op("Other tasks are pending for this domain"));
            }
        }
        Ok(vm)
    }
}

/// libvirt's error for an unknown UUID.
pub(crate) fn no_domain_uuid(uuid: &Uuid) -> Error {
    Error::new(
        ErrorCode::NoDomain,
        format!("Could not find domain with UUID '{uuid}'"),
    )
}
