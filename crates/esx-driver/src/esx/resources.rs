//! Memory, virtual CPUs, the CPU scheduler (resource allocation) and autostart.

use esx_vim::{
    methods, AutoStartDefaults, AutoStartPowerInfo, AutoStartWaitHeartbeatSetting,
    HostAutoStartManagerConfig, ManagedObjectReference as MoRef, ResourceAllocationInfo,
    SharesInfo, SharesLevel, VirtualMachineConfigSpec, VirtualMachinePowerState as P,
};

use crate::error::{Error, ErrorCode, Result};
use crate::esx::lifecycle::check_flags;
use crate::flags::affect;
use crate::types::{Domain, TypedParam, TypedValue};
use crate::Connection;

/// Checks typed parameters against `(name, type)` pairs (libvirt's `virTypedParamsValidate`).
fn validate(params: &[TypedParam], allowed: &[(&str, &str)]) -> Result<()> {
    for p in params {
        let Some((_, ty)) = allowed.iter().find(|(n, _)| *n == p.field) else {
            return Err(Error::new(
                ErrorCode::ArgumentUnsupported,
                format!("parameter '{}' not supported", p.field),
            ));
        };
        let actual = match p.value {
            TypedValue::Int(_) => "int",
            TypedValue::LLong(_) => "llong",
            TypedValue::ULLong(_) => "ullong",
        };
        if actual != *ty {
            return Err(Error::invalid_arg(format!(
                "invalid type '{actual}' for parameter '{}', expected '{ty}'",
                p.field
            )));
        }
    }
    Ok(())
}

/// KiB rounded up to MiB.
fn kib_to_mib_ceil(kib: u64) -> i64 {
    kib.div_ceil(1024).min(i64::MAX as u64) as i64
}

impl Connection {
    /// Applies `spec` with ReconfigVM_Task and waits; errors read `Could not {what}: …`.
    pub(crate) async fn reconfigure(
        &self,
        dom: &Domain,
        spec: VirtualMachineConfigSpec,
        what: &str,
    ) -> Result<()> {
        let ctx = self.primary();
        let vm = self.vm_for_task(ctx, 0, dom, &[]).await?;
        let call = esx_vim::methods::reconfig_vm_task(&*ctx.client, &vm.moref, spec);
        self.vm_task(ctx, &vm, "ReconfigVM_Task", what, call)
            .await?;
        Ok(())
    }

    pub(crate) async fn max_memory(&self, dom: &Domain) -> Result<u64> {
        let vm = self.vm(dom, &["config.hardware.memoryMB"]).await?;
        let mb = vm
            .props
            .int("config.hardware.memoryMB")
            .filter(|m| *m >= 0)
            .ok_or_else(|| Error::internal("Got invalid memory size"))?;
        Ok(mb as u64 * 1024)
    }

    pub(crate) async fn set_max_memory(&self, dom: &Domain, kib: u64) -> Result<()> {
        self.check_writable("virDomainSetMaxMemory")?;
        let vm = self.vm(dom, &[]).await?;
        if vm.power_state() != P::PoweredOff {
            return Err(Error::invalid_op("Domain is not powered off"));
        }
        let mb = kib.div_ceil(4096).saturating_mul(4).min(i32::MAX as u64) as i32;
        let spec = VirtualMachineConfigSpec {
            memory_mb: Some(mb as i64),
            ..Default::default()
        };
        self.reconfigure(dom, spec, &format!("set max-memory to {kib} kilobytes"))
            .await
    }

    pub(crate) async fn set_memory(&self, dom: &Domain, kib: u64, flags: u32) -> Result<()> {
        check_flags(flags, 0, "esxDomainSetMemoryFlags")?;
        self.check_writable("virDomainSetMemoryFlags")?;
        let spec = VirtualMachineConfigSpec {
            memory_allocation: Some(ResourceAllocationInfo {
                limit: Some(kib_to_mib_ceil(kib)),
                ..Default::default()
            }),
            ..Default::default()
        };
        self.reconfigure(dom, spec, &format!("set memory to {kib} kilobytes"))
            .await
    }

    pub(crate) async fn set_memory_parameters(
        &self,
        dom: &Domain,
        params: &[TypedParam],
        flags: u32,
    ) -> Result<()> {
        check_flags(flags, 0, "esxDomainSetMemoryParameters")?;
        validate(params, &[("min_guarantee", "ullong")])?;
        self.check_writable("virDomainSetMemoryParameters")?;
        let mut spec = VirtualMachineConfigSpec::default();
        for p in params {
            if let TypedValue::ULLong(kib) = p.value {
                spec.memory_allocation = Some(ResourceAllocationInfo {
                    reservation: Some(kib_to_mib_ceil(kib)),
                    ..Default::default()
                });
            }
        }
        self.reconfigure(dom, spec, "change memory parameters")
            .await
    }

    pub(crate) async fn memory_parameters(
        &self,
        dom: &Domain,
        flags: u32,
    ) -> Result<Vec<TypedParam>> {
        check_flags(flags, 0, "esxDomainGetMemoryParameters")?;
        let vm = self
            .vm(dom, &["config.memoryAllocation.reservation"])
            .await?;
        let r = vm
            .props
            .int("config.memoryAllocation.reservation")
            .unwrap_or(0)
            .max(0) as u64;
        Ok(vec![TypedParam::new(
            "min_guarantee",
            TypedValue::ULLong(r * 1024),
        )])
    }

    pub(crate) async fn set_vcpus(&self, dom: &Domain, nvcpus: u32, flags: u32) -> Result<()> {
        check_flags(flags, affect::LIVE, "esxDomainSetVcpusFlags")?;
        if flags != affect::LIVE {
            return Err(Error::invalid_arg(format!(
                "unsupported flags: (0x{flags:x})"
            )));
        }
        self.check_writable("virDomainSetVcpusFlags")?;
        if nvcpus < 1 {
            return Err(Error::invalid_arg(
                "Requested number of virtual CPUs must at least be 1",
            ));
        }
        let max = self.max_vcpus().await?;
        if nvcpus > max {
            return Err(Error::invalid_arg(format!(
                "Requested number of virtual CPUs is greater than max allowable number of \
                 virtual CPUs for the domain: {nvcpus} > {max}"
            )));
        }
        let spec = VirtualMachineConfigSpec {
            num_cp_us: Some(nvcpus as i32),
            ..Default::default()
        };
        self.reconfigure(
            dom,
            spec,
            &format!("set number of virtual CPUs to {nvcpus}"),
        )
        .await
    }

    pub(crate) async fn vcpus_flags(&self, dom: &Domain, flags: u32) -> Result<u32> {
        check_flags(
            flags,
            affect::LIVE | affect::VCPU_MAXIMUM,
            "esxDomainGetVcpusFlags",
        )?;
        if flags != (affect::LIVE | affect::VCPU_MAXIMUM) {
            return Err(Error::invalid_arg(format!(
                "unsupported flags: (0x{flags:x})"
            )));
        }
        self.vm(dom, &[]).await?;
        self.max_vcpus().await
    }

    /// The number of virtual CPUs the VM has now (`config.hardware.numCPU`; beyond libvirt,
    /// whose ESX driver only reports the host's maximum).
    pub async fn domain_vcpu_count(&self, dom: &Domain) -> Result<u32> {
        let vm = self.vm(dom, &["config.hardware.numCPU"]).await?;
        Ok(vm.props.int("config.hardware.numCPU").unwrap_or(0).max(0) as u32)
    }

    async fn autostart_manager(&self) -> Result<(MoRef, HostAutoStartManagerConfig)> {
        let ctx = self.primary();
        let host = ctx.host_props(&["configManager.autoStartManager"]).await?;
        let mgr = host
            .moref("configManager.autoStartManager")
            .cloned()
            .ok_or_else(|| Error::internal("the host has no auto-start manager"))?;
        let p = crate::vi::get(&ctx.client, &mgr, &["config"]).await?;
        let config = match p.get("config") {
            Some(esx_vim::Any::HostAutoStartManagerConfig(c)) => (**c).clone(),
            _ => HostAutoStartManagerConfig::default(),
        };
        Ok((mgr, config))
    }

    /// Reference values of the VMs that start with the host.
    pub(crate) async fn autostart_vms(&self) -> Result<Vec<String>> {
        let (_, config) = self.autostart_manager().await?;
        let enabled = config.defaults.as_ref().and_then(|d| d.enabled) == Some(true);
        if !enabled {
            return Ok(Vec::new());
        }
        Ok(config
            .power_info
            .iter()
            .filter(|p| p.start_action.eq_ignore_ascii_case("powerOn"))
            .map(|p| p.key.value.clone())
            .collect())
    }

    pub(crate) async fn autostart(&self, dom: &Domain) -> Result<bool> {
        let vm = self.vm(dom, &[]).await?;
        Ok(self.autostart_vms().await?.contains(&vm.moref.value))
    }

    pub(crate) async fn set_autostart(&self, dom: &Domain, on: bool) -> Result<()> {
        self.check_writable("virDomainSetAutostart")?;
        let ctx = self.primary();
        let vm = self.vm(dom, &[]).await?;
        let (mgr, config) = self.autostart_manager().await?;
        if on {
            let enabled = config.defaults.as_ref().and_then(|d| d.enabled) == Some(true);
            if !enabled {
                let others = config
                    .power_info
                    .iter()
                    .any(|p| p.key != vm.moref && p.start_action.eq_ignore_ascii_case("powerOn"));
                if others {
                    return Err(Error::internal(
                        "Cannot enable general autostart option without affecting other domains",
                    ));
                }
                let spec = HostAutoStartManagerConfig {
                    defaults: Some(AutoStartDefaults {
                        enabled: Some(true),
                        ..Default::default()
                    }),
                    power_info: Vec::new(),
                };
                methods::reconfigure_autostart(&*ctx.client, &mgr, spec).await?;
            }
        }
        let spec = HostAutoStartManagerConfig {
            defaults: None,
            power_info: vec![AutoStartPowerInfo {
                key: vm.moref.clone(),
                start_order: -1,
                start_delay: -1,
                wait_for_heartbeat: AutoStartWaitHeartbeatSetting::SystemDefault,
                start_action: if on { "powerOn" } else { "none" }.to_string(),
                stop_delay: -1,
                stop_action: "none".to_string(),
            }],
        };
        methods::reconfigure_autostart(&*ctx.client, &mgr, spec).await?;
        Ok(())
    }

    pub(crate) async fn scheduler_parameters(
        &self,
        dom: &Domain,
        flags: u32,
    ) -> Result<Vec<TypedParam>> {
        check_flags(flags, 0, "esxDomainGetSchedulerParametersFlags")?;
        let vm = self
            .vm(
                dom,
                &[
                    "config.cpuAllocation.reservation",
                    "config.cpuAllocation.limit",
                    "config.cpuAllocation.shares",
                ],
            )
            .await?;
        let reservation = vm
            .props
            .int("config.cpuAllocation.reservation")
            .unwrap_or(0);
        let limit = vm.props.int("config.cpuAllocation.limit").unwrap_or(-1);
        let shares = match vm.props.get("config.cpuAllocation.shares") {
            Some(esx_vim::Any::SharesInfo(s)) => match s.level {
                SharesLevel::Low => -1,
                SharesLevel::Normal => -2,
                SharesLevel::High => -3,
                _ => s.shares,
            },
            _ => -2,
        };
        Ok(vec![
            TypedParam::new("reservation", TypedValue::LLong(reservation)),
            TypedParam::new("limit", TypedValue::LLong(limit)),
            TypedParam::new("shares", TypedValue::Int(shares)),
        ])
    }

    pub(crate) async fn set_scheduler_parameters(
        &self,
        dom: &Domain,
        params: &[TypedParam],
        flags: u32,
    ) -> Result<()> {
        check_flags(flags, 0, "esxDomainSetSchedulerParametersFlags")?;
        validate(
            params,
            &[
                ("reservation", "llong"),
                ("limit", "llong"),
                ("shares", "int"),
            ],
        )?;
        self.check_writable("virDomainSetSchedulerParametersFlags")?;
        let mut alloc = ResourceAllocationInfo::default();
        for p in params {
            match (p.field.as_str(), p.value) {
                ("reservation", TypedValue::LLong(v)) => {
                    if v < 0 {
                        return Err(Error::invalid_arg(format!(
                            "Could not set reservation to {v} MHz, expecting positive value"
                        )));
                    }
                    alloc.reservation = Some(v);
                }
                ("limit", TypedValue::LLong(v)) => {
                    if v < -1 {
                        return Err(Error::invalid_arg(format!(
                            "Could not set limit to {v} MHz, expecting positive value or -1 \
                             (unlimited)"
                        )));
                    }
                    alloc.limit = Some(v);
                }
                ("shares", TypedValue::Int(v)) => {
                    let (level, shares) = match v {
                        -1 => (SharesLevel::Low, 0),
                        -2 => (SharesLevel::Normal, 0),
                        -3 => (SharesLevel::High, 0),
                        v if v >= 0 => (SharesLevel::Custom, v),
                        v => {
                            return Err(Error::invalid_arg(format!(
                                "Could not set shares to {v}, expecting positive value or -1 \
                                 (low), -2 (normal) or -3 (high)"
                            )))
                        }
                    };
                    alloc.shares = Some(SharesInfo { shares, level });
                }
                _ => {}
            }
        }
        let spec = VirtualMachineConfigSpec {
            cpu_allocation: Some(alloc),
            ..Default::default()
        };
        self.reconfigure(dom, spec, "change scheduler parameters")
            .await
    }
}
