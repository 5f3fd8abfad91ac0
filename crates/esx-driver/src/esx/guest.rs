//! What VMware Tools report from inside the guest (host name, addresses), the console
//! screenshot, and questions a VM asks.

use esx_vim::{methods, Any, VirtualMachinePowerState as P};

use crate::error::{Error, ErrorCode, Result};
use crate::esx::lifecycle::check_flags;
use crate::esx::task::question_of;
use crate::flags::addresses_source;
use crate::types::{Domain, DomainInterface, IpAddress, Question};
use crate::vi;
use crate::Connection;

impl Connection {
    pub(crate) async fn guest_hostname(&self, dom: &Domain, flags: u32) -> Result<String> {
        check_flags(flags, 0, "esxDomainGetHostname")?;
        let vm = self.vm(dom, &["guest.hostName"]).await?;
        if vm.power_state() != P::PoweredOn {
            return Err(Error::invalid_op("Domain is not powered on"));
        }
        match vm.props.str("guest.hostName") {
            Some(h) if !h.is_empty() => Ok(h.to_string()),
            _ => Err(Error::failed(
                "hostName field not available (missing VMware Tools?)",
            )),
        }
    }

    pub(crate) async fn interface_addresses(
        &self,
        dom: &Domain,
        source: u32,
        flags: u32,
    ) -> Result<Vec<DomainInterface>> {
        check_flags(flags, 0, "esxDomainInterfaceAddresses")?;
        if source != addresses_source::AGENT {
            return Err(Error::new(
                ErrorCode::ArgumentUnsupported,
                format!("Unknown IP address data source {source}"),
            ));
        }
        let vm = self.vm(dom, &["guest.net"]).await?;
        let nics = match vm.props.get("guest.net") {
            Some(Any::ArrayOfGuestNicInfo(a)) => a.guest_nic_info.clone(),
            _ => Vec::new(),
        };
        let mut out = Vec::new();
        for nic in nics {
            if !nic.connected {
                continue;
            }
            let Some(network) = nic.network.clone() else {
                continue;
            };
            let mut addrs = Vec::new();
            match &nic.ip_config {
                Some(cfg) if !cfg.ip_address.is_empty() => {
                    for a in &cfg.ip_address {
                        if let Ok(ip) = a.ip_address.parse() {
                            addrs.push(IpAddress {
                                addr: ip,
                                prefix: a.prefix_length.max(0) as u32,
                            });
                        }
                    }
                }
                _ => {
                    for a in &nic.ip_address {
                        if let Ok(ip) = a.parse() {
                            addrs.push(IpAddress {
                                addr: ip,
                                prefix: 0,
                            });
                        }
                    }
                }
            }
            out.push(DomainInterface {
                name: network,
                hwaddr: nic.mac_address.clone(),
                addrs,
            });
        }
        Ok(out)
    }

    pub(crate) async fn screenshot(
        &self,
        dom: &Domain,
        screen: u32,
        flags: u32,
    ) -> Result<(String, Vec<u8>)> {
        check_flags(flags, 0, "esxDomainScreenshot")?;
        if screen != 0 {
            return Err(Error::invalid_arg("Screen cannot be selected"));
        }
        // A host capability (libvirt reads it from the HostSystem too); VMs have no such
        // property.
        let ctx = self.primary();
        let host = vi::get(
            &ctx.client,
            &ctx.host_system,
            &["capability.screenshotSupported"],
        )
        .await?;
        if host.bool("capability.screenshotSupported") != Some(true) {
            return Err(Error::invalid_op("Screenshot feature is unsupported"));
        }
        let vm = self.vm(dom, &[]).await?;
        if vm.power_state() != P::PoweredOn {
            return Err(Error::invalid_op("Domain is not powered on"));
        }
        let (status, body) = ctx
            .client
            .transport()
            .get_bytes(&format!("/screen?id={}", vm.moref.value))
            .await
            .map_err(|e| Error::new(ErrorCode::HttpError, e.to_string()).with_source(e))?;
        if status != 200 {
            return Err(Error::new(
                ErrorCode::HttpError,
                format!("HTTP response code {status} for screenshot download"),
            ));
        }
        Ok(("image/png".to_string(), body))
    }

    /// The question the VM is waiting on, if any (e.g. "moved or copied?" at power-on).
    pub async fn domain_question(&self, dom: &Domain) -> Result<Option<Question>> {
        let vm = self.vm(dom, &["runtime.question"]).await?;
        Ok(match vm.props.get("runtime.question") {
            Some(Any::VirtualMachineQuestionInfo(q)) => Some(question_of(q)),
            _ => None,
        })
    }

    /// Answers the VM's pending question with the choice `answer` (a key of
    /// [`Question::choices`]).
    pub async fn domain_answer_question(&self, dom: &Domain, answer: &str) -> Result<()> {
        self.check_writable("virDomainAnswerQuestion")?;
        let ctx = self.primary();
        let vm = self.vm(dom, &["runtime.question"]).await?;
        let Some(Any::VirtualMachineQuestionInfo(q)) = vm.props.get("runtime.question") else {
            return Err(Error::invalid_op("Domain has no pending question"));
        };
        let question = question_of(q);
        if !question.choices.iter().any(|(k, _)| k == answer) {
            let keys: Vec<&str> = question.choices.iter().map(|(k, _)| k.as_str()).collect();
            return Err(Error::invalid_arg(format!(
                "'{answer}' is not an answer to '{}' (expecting one of {})",
                question.text,
                keys.join(", ")
            )));
        }
        methods::answer_vm(&*ctx.client, &vm.moref, question.id, answer.to_string()).await?;
        Ok(())
    }
}
