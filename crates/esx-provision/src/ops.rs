//! Nova's other compute operations on a spawned VM: reboot (soft through the tools when they
//! run, else hard), destroy (nothing left behind), suspend, resume, info, the instance list
//! (orphaned and inaccessible VMs skipped), the console screenshot and a VMRC console ticket.

use base64::Engine;
use esx_driver::{Domain, DomainInfo, DomainState, HypervisorDriver};
use esx_vim::{methods, Any, VirtualMachinePowerState as P};

use crate::error::{ProvisionError, Result};
use crate::Provisioner;

/// How a reboot was done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RebootKind {
    /// Through the guest's tools (`RebootGuest`).
    Soft,
    /// A reset (`ResetVM_Task`): the tools were not running.
    Hard,
}

/// A one-time console ticket (Nova's VMRC "OTP" mode). `Debug` prints `****` for the ticket.
#[derive(Clone, PartialEq, Eq)]
pub struct ConsoleTicket {
    /// The ticket from `AcquireCloneTicket` (valid once, shortly).
    pub ticket: String,
    /// The VM's managed object id.
    pub vm_id: String,
    /// The host to connect to.
    pub host: String,
    /// Its port.
    pub port: u16,
}

impl std::fmt::Debug for ConsoleTicket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsoleTicket")
            .field("ticket", &"****")
            .field("vm_id", &self.vm_id)
            .field("host", &self.host)
            .field("port", &self.port)
            .finish()
    }
}

impl ConsoleTicket {
    /// The `vmrc://` address a VMware Remote Console opens.
    pub fn vmrc_uri(&self) -> String {
        format!(
            "vmrc://clone:{}@{}:{}/?moid={}",
            self.ticket, self.host, self.port, self.vm_id
        )
    }

    /// Nova's console "password": base64 of `{"vm_id", "username", "password"}` with the
    /// ticket as user name and password.
    pub fn nova_password(&self) -> String {
        let json = serde_json::json!({
            "vm_id": self.vm_id,
            "username": self.ticket,
            "password": self.ticket,
        });
        base64::engine::general_purpose::STANDARD.encode(json.to_string())
    }
}

impl Provisioner {
    async fn power_state(&self, dom: &Domain) -> Result<(esx_vim::ManagedObjectReference, P)> {
        let vm = self.conn.domain_moref(dom).await?;
        let p = self.conn.properties(&vm, &["runtime.powerState"]).await?;
        let state = p
            .into_iter()
            .find_map(|(_, v)| match v {
                Any::VirtualMachinePowerState(s) => Some(s),
                _ => None,
            })
            .unwrap_or(P::PoweredOff);
        Ok((vm, state))
    }

    /// Reboots `dom`, which must be running: through the tools when they run, else a reset.
    pub async fn reboot(&self, dom: &Domain) -> Result<RebootKind> {
        let (vm, state) = self.power_state(dom).await?;
        if state != P::PoweredOn {
            return Err(ProvisionError::InvalidState(format!(
                "domain '{}' is not running",
                dom.name
            )));
        }
        let p = self
            .conn
            .properties(&vm, &["guest.toolsStatus", "guest.toolsRunningStatus"])
            .await?;
        let has = |k: &str, want: &str| {
            p.iter().any(|(n, v)| {
                n == k
                    && match v {
                        Any::String(s) => s == want,
                        Any::VirtualMachineToolsStatus(s) => {
                            format!("{s:?}").eq_ignore_ascii_case(want)
                        }
                        _ => false,
                    }
            })
        };
        let client = &self.conn.endpoint().client;
        if has("guest.toolsStatus", "toolsOk")
            && has("guest.toolsRunningStatus", "guestToolsRunning")
        {
            methods::reboot_guest(&**client, &vm).await?;
            return Ok(RebootKind::Soft);
        }
        self.conn.domain_reset(dom).await?;
        Ok(RebootKind::Hard)
    }

    /// Destroys `dom`: powered off, unregistered, and its folder deleted with everything in it.
    pub async fn destroy(&self, dom: &Domain) -> Result<()> {
        let (vm, state) = self.power_state(dom).await?;
        let p = self
            .conn
            .properties(&vm, &["config.files.vmPathName"])
            .await?;
        let vmx = p
            .into_iter()
            .find_map(|(_, v)| match v {
                Any::String(s) => Some(s),
                _ => None,
            })
            .ok_or_else(|| {
                ProvisionError::InvalidState(format!(
                    "domain '{}' has no configuration file",
                    dom.name
                ))
            })?;
        let dir = match vmx.rfind('/') {
            Some(i) => vmx[..i].to_string(),
            None => {
                return Err(ProvisionError::InvalidState(format!(
                "domain '{}' lives at the root of its datastore ('{vmx}'): refusing to delete it",
                dom.name
            )))
            }
        };
        if state != P::PoweredOff {
            self.conn.domain_destroy(dom).await?;
        }
        let client = &self.conn.endpoint().client;
        methods::unregister_vm(&**client, &vm).await?;
        self.conn.datastore_delete(&dir).await?;
        tracing::info!(domain = %dom.name, folder = %dir, "destroyed");
        Ok(())
    }

    /// Suspends `dom` when running; already suspended is fine; powered off is an error.
    pub async fn suspend(&self, dom: &Domain) -> Result<()> {
        match self.power_state(dom).await?.1 {
            P::PoweredOn => Ok(self.conn.domain_suspend(dom).await?),
            P::Suspended => {
                tracing::info!(domain = %dom.name, "already suspended");
                Ok(())
            }
            _ => Err(ProvisionError::InvalidState(format!(
                "domain '{}' is powered off: it cannot be suspended",
                dom.name
            ))),
        }
    }

    /// Resumes `dom`, which must be suspended.
    pub async fn resume(&self, dom: &Domain) -> Result<()> {
        match self.power_state(dom).await?.1 {
            P::Suspended => Ok(self.conn.domain_resume(dom).await?),
            _ => Err(ProvisionError::InvalidState(format!(
                "domain '{}' is not suspended",
                dom.name
            ))),
        }
    }

    /// State, memory and vCPUs of `dom` (Nova's `get_info`; CPU time is not reported).
    pub async fn info(&self, dom: &Domain) -> Result<DomainInfo> {
        Ok(self.conn.domain_get_info(dom).await?)
    }

    /// Whether `dom` is running.
    pub async fn is_running(&self, dom: &Domain) -> Result<bool> {
        Ok(self.info(dom).await?.state == DomainState::Running)
    }

    /// The names of the host's VMs, without orphaned and inaccessible ones.
    pub async fn list_instances(&self) -> Result<Vec<String>> {
        let vms = self
            .conn
            .host_vm_properties(&["runtime.connectionState"])
            .await?;
        let mut names = Vec::new();
        for (_, props) in vms {
            let bad = props.iter().any(|(n, v)| {
                n == "runtime.connectionState"
                    && matches!(
                        v,
                        Any::VirtualMachineConnectionState(
                            esx_vim::VirtualMachineConnectionState::Orphaned
                                | esx_vim::VirtualMachineConnectionState::Inaccessible
                        )
                    )
            });
            if bad {
                continue;
            }
            if let Some(Any::String(name)) = props.iter().find(|(n, _)| n == "name").map(|(_, v)| v)
            {
                names.push(name.clone());
            }
        }
        names.sort();
        Ok(names)
    }

    /// A screenshot of the console: `(MIME type, bytes)` (the host's `/screen`).
    pub async fn console_screenshot(&self, dom: &Domain) -> Result<(String, Vec<u8>)> {
        Ok(self.conn.domain_screenshot(dom, 0, 0).await?)
    }

    /// A one-time console ticket for `dom` (`AcquireCloneTicket`).
    pub async fn console_ticket(&self, dom: &Domain) -> Result<ConsoleTicket> {
        let vm = self.conn.domain_moref(dom).await?;
        let ctx = self.conn.endpoint();
        let sm = ctx
            .client
            .service_content()
            .session_manager
            .clone()
            .ok_or_else(|| {
                ProvisionError::InvalidArgument("the server has no session manager".into())
            })?;
        let ticket = methods::acquire_clone_ticket(&*ctx.client, &sm).await?;
        let url = ctx.client.transport().url();
        Ok(ConsoleTicket {
            ticket,
            vm_id: vm.value,
            host: url.host().unwrap_or_default().to_string(),
            port: url.port_u16().unwrap_or(443),
        })
    }
}
