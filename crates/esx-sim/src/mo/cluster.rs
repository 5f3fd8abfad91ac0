//! What only a `ClusterComputeResource` has: its configuration (DRS, HA, rules, groups, per-VM
//! overrides), its summary, recommendations, and `ReconfigureComputeResource_Task`.
//!
//! The configuration of each cluster lives in [`Clusters`] (a field of
//! [`crate::managers::Managers`]); a cluster never reconfigured has vCenter's defaults.

use std::collections::HashMap;

use esx_vim::*;

use super::compute_resource::ComputeResourceMo;
use crate::dispatch::run_task;
use crate::fault::{Fault, MethodResult};
use crate::property::Top;
use crate::state::{Ctx, Mo, MoRef, State};

/// The configuration of every cluster changed since start-up, by cluster id.
#[derive(Debug, Default)]
pub struct Clusters {
    by_id: HashMap<String, ClusterConfig>,
}

/// One cluster's configuration.
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    drs: ClusterDrsConfigInfo,
    das: ClusterDasConfigInfo,
    dpm: ClusterDpmConfigInfo,
    rules: Vec<BaseClusterRuleInfo>,
    groups: Vec<BaseClusterGroupInfo>,
    drs_vm: Vec<ClusterDrsVmConfigInfo>,
    das_vm: Vec<ClusterDasVmConfigInfo>,
    vm_swap_placement: String,
    next_key: i32,
}

impl Default for ClusterConfig {
    /// What vCenter 7.0.3 gives a cluster created without a spec.
    fn default() -> ClusterConfig {
        ClusterConfig {
            drs: ClusterDrsConfigInfo {
                enabled: Some(false),
                enable_vm_behavior_overrides: Some(true),
                default_vm_behavior: Some(DrsBehavior::FullyAutomated),
                vmotion_rate: Some(3),
                scale_descendants_shares: Some("disabled".into()),
                option: Vec::new(),
            },
            das: ClusterDasConfigInfo {
                enabled: Some(false),
                vm_monitoring: Some("vmMonitoringDisabled".into()),
                host_monitoring: Some("enabled".into()),
                vm_component_protecting: Some("disabled".into()),
                failover_level: Some(1),
                admission_control_policy: Some(BaseClusterDasAdmissionControlPolicy::from(
                    ClusterFailoverResourcesAdmissionControlPolicy {
                        resource_reduction_to_tolerate_percent: Some(100),
                        cpu_failover_resources_percent: 50,
                        memory_failover_resources_percent: 50,
                        failover_level: Some(1),
                        auto_compute_percentages: Some(true),
                        ..Default::default()
                    },
                )),
                admission_control_enabled: Some(true),
                default_vm_settings: Some(ClusterDasVmSettings {
                    restart_priority: Some("medium".into()),
                    restart_priority_timeout: Some(600),
                    isolation_response: Some("none".into()),
                    vm_tools_monitoring_settings: Some(ClusterVmToolsMonitoringSettings {
                        enabled: Some(false),
                        vm_monitoring: Some("vmMonitoringDisabled".into()),
                        cluster_settings: Some(true),
                        failure_interval: Some(30),
                        min_up_time: Some(120),
                        max_failures: Some(3),
                        max_failure_window: Some(3600),
                    }),
                    vm_component_protection_settings: None,
                }),
                h_b_datastore_candidate_policy: Some("allFeasibleDsWithUserPreference".into()),
                ..Default::default()
            },
            dpm: ClusterDpmConfigInfo {
                enabled: Some(false),
                default_dpm_behavior: Some(DpmBehavior::Automated),
                host_power_action_rate: Some(3),
                option: Vec::new(),
            },
            rules: Vec::new(),
            groups: Vec::new(),
            drs_vm: Vec::new(),
            das_vm: Vec::new(),
            vm_swap_placement: "vmDirectory".into(),
            next_key: 1,
        }
    }
}

/// Applies `$e` to the `ClusterRuleInfo` fields of any rule subtype (`$v` bound to it).
macro_rules! rule_fields {
    ($rule:expr, $v:ident => $e:expr) => {
        match $rule {
            BaseClusterRuleInfo::ClusterRuleInfo($v) => $e,
            BaseClusterRuleInfo::ClusterAffinityRuleSpec($v) => $e,
            BaseClusterRuleInfo::ClusterAntiAffinityRuleSpec($v) => $e,
            BaseClusterRuleInfo::ClusterDependencyRuleInfo($v) => $e,
            BaseClusterRuleInfo::ClusterVmHostRuleInfo($v) => $e,
            BaseClusterRuleInfo::VirtualDiskAntiAffinityRuleSpec($v) => $e,
            BaseClusterRuleInfo::VirtualDiskRuleSpec($v) => $e,
        }
    };
}

fn group_name(g: &BaseClusterGroupInfo) -> &str {
    match g {
        BaseClusterGroupInfo::ClusterGroupInfo(x) => &x.name,
        BaseClusterGroupInfo::ClusterHostGroup(x) => &x.name,
        BaseClusterGroupInfo::ClusterVmGroup(x) => &x.name,
    }
}

fn config_of(state: &State, r: &MoRef) -> ClusterConfig {
    state
        .managers
        .clusters
        .by_id
        .get(&r.value)
        .cloned()
        .unwrap_or_default()
}

impl ClusterConfig {
    fn info_ex(&self) -> ClusterConfigInfoEx {
        ClusterConfigInfoEx {
            vm_swap_placement: self.vm_swap_placement.clone(),
            spbm_enabled: Some(true),
            default_hardware_version_key: None,
            das_config: self.das.clone(),
            das_vm_config: self.das_vm.clone(),
            drs_config: self.drs.clone(),
            drs_vm_config: self.drs_vm.clone(),
            rule: self.rules.clone(),
            orchestration: Some(ClusterOrchestrationInfo {
                default_vm_readiness: Some(ClusterVmReadiness {
                    ready_condition: Some("none".into()),
                    post_ready_delay: Some(0),
                }),
            }),
            dpm_config_info: Some(self.dpm.clone()),
            group: self.groups.clone(),
            infra_update_ha_config: Some(ClusterInfraUpdateHaConfigInfo {
                enabled: Some(false),
                behavior: Some("Manual".into()),
                moderate_remediation: Some("QuarantineMode".into()),
                severe_remediation: Some("QuarantineMode".into()),
                providers: Vec::new(),
            }),
            proactive_drs_config: Some(ClusterProactiveDrsConfigInfo {
                enabled: Some(false),
            }),
            ..Default::default()
        }
    }
}

/// The hosts' resources a cluster adds up (the simulator's hosts: 8 cores of 2.4 GHz with two
/// threads each, 32 GiB).
fn totals(c: &ComputeResourceMo) -> (i32, i64) {
    let n = c.hosts.len() as i32;
    (8 * 2400 * n, 32 * 1024 * 1024 * 1024 * n as i64)
}

/// The VMs whose host is in the cluster: (reference, powered on, memory MiB, vCPUs).
fn vms_of(state: &State, c: &ComputeResourceMo) -> Vec<(MoRef, bool, i64, i64)> {
    state
        .objects
        .iter()
        .filter_map(|(id, m)| match m {
            Mo::VirtualMachine(v) if c.hosts.contains(&v.host) => Some((
                crate::state::moref("VirtualMachine", id),
                v.runtime.power_state == VirtualMachinePowerState::PoweredOn,
                v.config.hardware.memory_mb.into(),
                v.config.hardware.num_cpu.into(),
            )),
            _ => None,
        })
        .collect()
}

/// `summary` of a cluster.
fn summary(state: &State, c: &ComputeResourceMo) -> ClusterComputeResourceSummary {
    let (cpu, mem) = totals(c);
    let n = c.hosts.len() as i32;
    let vms = vms_of(state, c);
    let on: Vec<_> = vms.iter().filter(|v| v.1).collect();
    // Demand: what running VMs use (a tenth of their vCPUs' speed, their configured memory).
    let cpu_demand: i64 = on.iter().map(|v| v.3 * 240).sum();
    let mem_demand: i64 = on.iter().map(|v| v.2).sum();
    ClusterComputeResourceSummary {
        total_cpu: cpu,
        total_memory: mem,
        num_cpu_cores: (8 * n) as i16,
        num_cpu_threads: (16 * n) as i16,
        effective_cpu: cpu,
        effective_memory: mem / (1024 * 1024),
        num_hosts: n,
        num_effective_hosts: n,
        overall_status: ManagedEntityStatus::Green,
        current_failover_level: 0,
        num_vmotions: 0,
        usage_summary: Some(ClusterUsageSummary {
            total_cpu_capacity_mhz: cpu,
            total_mem_capacity_mb: (mem / (1024 * 1024)) as i32,
            cpu_reservation_mhz: 0,
            mem_reservation_mb: 0,
            powered_off_cpu_reservation_mhz: Some(0),
            powered_off_mem_reservation_mb: Some(0),
            cpu_demand_mhz: cpu_demand.min(i32::MAX as i64) as i32,
            mem_demand_mb: mem_demand.min(i32::MAX as i64) as i32,
            stats_gen_number: 1,
            cpu_entitled_mhz: cpu_demand.min(i32::MAX as i64) as i32,
            mem_entitled_mb: mem_demand.min(i32::MAX as i64) as i32,
            powered_off_vm_count: (vms.len() - on.len()) as i32,
            total_vm_count: vms.len() as i32,
        }),
        cluster_maintenance_mode_status: Some("notInMaintenance".into()),
        vcs_health_status: Some("healthy".into()),
        ..Default::default()
    }
}

/// The properties only a cluster has (or has in its own form); `None` for the others.
pub fn property(state: &State, c: &ComputeResourceMo, r: &MoRef, name: &str) -> Top {
    Some(match name {
        "configurationEx" => Some(Any::from(config_of(state, r).info_ex())),
        "configuration" => {
            let x = config_of(state, r);
            Some(Any::from(ClusterConfigInfo {
                das_config: x.das,
                das_vm_config: x.das_vm,
                drs_config: x.drs,
                drs_vm_config: x.drs_vm,
                rule: x.rules,
            }))
        }
        "summary" => Some(Any::from(summary(state, c))),
        // Nothing is imbalanced, nothing failed, nothing moved: all unset, as on a quiet
        // vCenter cluster.
        "recommendation" | "drsRecommendation" | "drsFault" | "migrationHistory"
        | "actionHistory" | "hciConfig" | "summaryEx" => None,
        _ => return None,
    })
}

/// Whether `r` is a cluster.
fn cluster_of<'a>(state: &'a State, r: &MoRef) -> MethodResult<&'a ComputeResourceMo> {
    match state.lookup(r)? {
        Mo::ComputeResource(c) if c.cluster => Ok(c),
        _ => Err(Fault::not_found(r)),
    }
}

fn key_of(k: &Option<Any>, what: &str) -> MethodResult<i32> {
    match k {
        Some(Any::Int(i)) => Ok(*i),
        Some(Any::Long(i)) => i32::try_from(*i).map_err(|_| Fault::invalid_argument(what)),
        Some(Any::Short(i)) => Ok(i32::from(*i)),
        Some(Any::String(s)) => s.parse().map_err(|_| Fault::invalid_argument(what)),
        _ => Err(Fault::invalid_argument(what)),
    }
}

/// Checks that the VMs a rule or group names exist and run in the cluster.
fn check_vms(state: &State, c: &ComputeResourceMo, vms: &[MoRef], what: &str) -> MethodResult<()> {
    for v in vms {
        let vm = state.vm(v)?;
        if !c.hosts.contains(&vm.host) {
            return Err(Fault::invalid_argument(what));
        }
    }
    Ok(())
}

fn check_rule(
    state: &State,
    c: &ComputeResourceMo,
    cfg: &ClusterConfig,
    rule: &BaseClusterRuleInfo,
) -> MethodResult<()> {
    let group = |name: &str, vm: bool| {
        cfg.groups.iter().any(|g| {
            group_name(g) == name
                && matches!(
                    (g, vm),
                    (BaseClusterGroupInfo::ClusterVmGroup(_), true)
                        | (BaseClusterGroupInfo::ClusterHostGroup(_), false)
                )
        })
    };
    match rule {
        BaseClusterRuleInfo::ClusterAffinityRuleSpec(a) => {
            if a.vm.len() < 2 {
                return Err(Fault::invalid_argument("rulesSpec.info.vm"));
            }
            check_vms(state, c, &a.vm, "rulesSpec.info.vm")
        }
        BaseClusterRuleInfo::ClusterAntiAffinityRuleSpec(a) => {
            if a.vm.len() < 2 {
                return Err(Fault::invalid_argument("rulesSpec.info.vm"));
            }
            check_vms(state, c, &a.vm, "rulesSpec.info.vm")
        }
        BaseClusterRuleInfo::ClusterVmHostRuleInfo(h) => {
            let vm_ok = h.vm_group_name.as_deref().is_some_and(|n| group(n, true));
            let affine = h.affine_host_group_name.as_deref();
            let anti = h.anti_affine_host_group_name.as_deref();
            let host_ok = match (affine, anti) {
                (Some(n), None) | (None, Some(n)) => group(n, false),
                _ => false,
            };
            if !vm_ok {
                return Err(Fault::invalid_argument("rulesSpec.info.vmGroupName"));
            }
            if !host_ok {
                return Err(Fault::invalid_argument(
                    "rulesSpec.info.affineHostGroupName",
                ));
            }
            Ok(())
        }
        BaseClusterRuleInfo::ClusterDependencyRuleInfo(d) => {
            if d.vm_group == d.depends_on_vm_group
                || !group(&d.vm_group, true)
                || !group(&d.depends_on_vm_group, true)
            {
                return Err(Fault::invalid_argument("rulesSpec.info.vmGroup"));
            }
            if d.enabled.is_none() {
                return Err(Fault::invalid_argument("rulesSpec.info.enabled"));
            }
            Ok(())
        }
        _ => Err(Fault::invalid_argument("rulesSpec.info")),
    }
}

/// Applies the rule, group and override changes of a spec to `cfg` (checked one by one, in
/// the order a real server applies them: groups, then rules).
fn apply(
    state: &State,
    c: &ComputeResourceMo,
    cfg: &mut ClusterConfig,
    spec: &ClusterConfigSpecEx,
) -> MethodResult<()> {
    use ArrayUpdateOperation as Op;
    if let Some(d) = &spec.drs_config {
        let cur = &mut cfg.drs;
        macro_rules! set {
            ($($f:ident),*) => { $( if d.$f.is_some() { cur.$f = d.$f.clone(); } )* };
        }
        set!(
            enabled,
            enable_vm_behavior_overrides,
            default_vm_behavior,
            scale_descendants_shares
        );
        if let Some(rate) = d.vmotion_rate {
            if !(1..=5).contains(&rate) {
                return Err(Fault::invalid_argument("drsConfig.vmotionRate"));
            }
            cur.vmotion_rate = Some(rate);
        }
        if !d.option.is_empty() {
            cur.option = d.option.clone();
        }
    }
    if let Some(d) = &spec.das_config {
        let cur = &mut cfg.das;
        macro_rules! set {
            ($($f:ident),*) => { $( if d.$f.is_some() { cur.$f = d.$f.clone(); } )* };
        }
        set!(
            enabled,
            vm_monitoring,
            host_monitoring,
            vm_component_protecting,
            failover_level,
            admission_control_policy,
            admission_control_enabled,
            default_vm_settings,
            h_b_datastore_candidate_policy
        );
    }
    if let Some(d) = &spec.dpm_config {
        if d.enabled.is_some() {
            cfg.dpm.enabled = d.enabled;
        }
        if d.default_dpm_behavior.is_some() {
            cfg.dpm.default_dpm_behavior = d.default_dpm_behavior.clone();
        }
    }
    if let Some(p) = &spec.vm_swap_placement {
        if !["vmDirectory", "hostLocal"].contains(&p.as_str()) {
            return Err(Fault::invalid_argument("vmSwapPlacement"));
        }
        cfg.vm_swap_placement = p.clone();
    }
    for g in &spec.group_spec {
        match (&g.operation, &g.info) {
            (Op::Add, Some(info)) => {
                let name = group_name(info);
                if name.is_empty() || cfg.groups.iter().any(|x| group_name(x) == name) {
                    return Err(Fault::invalid_argument("groupSpec.info.name"));
                }
                check_group(state, c, info)?;
                cfg.groups.push(info.clone());
            }
            (Op::Edit, Some(info)) => {
                let name = group_name(info);
                let Some(i) = cfg.groups.iter().position(|x| group_name(x) == name) else {
                    return Err(Fault::invalid_argument("groupSpec.info.name"));
                };
                if std::mem::discriminant(&cfg.groups[i]) != std::mem::discriminant(info) {
                    return Err(Fault::invalid_argument("groupSpec.info"));
                }
                check_group(state, c, info)?;
                cfg.groups[i] = info.clone();
            }
            (Op::Remove, _) => {
                let Some(Any::String(name)) = &g.remove_key else {
                    return Err(Fault::invalid_argument("groupSpec.removeKey"));
                };
                let Some(i) = cfg.groups.iter().position(|x| group_name(x) == name) else {
                    return Err(Fault::invalid_argument("groupSpec.removeKey"));
                };
                cfg.groups.remove(i);
            }
            _ => return Err(Fault::invalid_argument("groupSpec")),
        }
    }
    for r in &spec.rules_spec {
        match (&r.operation, &r.info) {
            (Op::Add, Some(info)) => {
                check_rule(state, c, cfg, info)?;
                let mut info = info.clone();
                let key = cfg.next_key;
                cfg.next_key += 1;
                rule_fields!(&mut info, v => {
                    if v.name.as_deref().is_none_or(str::is_empty) {
                        return Err(Fault::invalid_argument("rulesSpec.info.name"));
                    }
                    v.key = Some(key);
                    v.status = Some(ManagedEntityStatus::Green);
                    v.in_compliance = Some(true);
                    v.enabled.get_or_insert(false);
                    v.mandatory.get_or_insert(false);
                    v.user_created.get_or_insert(true);
                    v.rule_uuid = Some(crate::mo::virtual_machine::uuid_from(&format!(
                        "rule:{}:{key}",
                        c.name
                    )));
                });
                cfg.rules.push(info);
            }
            (Op::Edit, Some(info)) => {
                let key = rule_fields!(info, v => v.key)
                    .ok_or_else(|| Fault::invalid_argument("rulesSpec.info.key"))?;
                let Some(i) = cfg
                    .rules
                    .iter()
                    .position(|x| rule_fields!(x, v => v.key) == Some(key))
                else {
                    return Err(Fault::invalid_argument("rulesSpec.info.key"));
                };
                if cfg.rules[i].type_name() != info.type_name() {
                    return Err(Fault::invalid_argument("rulesSpec.info"));
                }
                check_rule(state, c, cfg, info)?;
                let old = cfg.rules[i].clone();
                let mut info = info.clone();
                rule_fields!(&mut info, v => {
                    let o = rule_fields!(&old, o => (**o).clone_base());
                    if v.name.is_none() { v.name = o.0; }
                    if v.enabled.is_none() { v.enabled = o.1; }
                    if v.mandatory.is_none() { v.mandatory = o.2; }
                    v.user_created = o.3;
                    v.rule_uuid = o.4;
                    v.status = Some(ManagedEntityStatus::Green);
                    v.in_compliance = Some(true);
                });
                cfg.rules[i] = info;
            }
            (Op::Remove, _) => {
                let key = key_of(&r.remove_key, "rulesSpec.removeKey")?;
                let Some(i) = cfg
                    .rules
                    .iter()
                    .position(|x| rule_fields!(x, v => v.key) == Some(key))
                else {
                    return Err(Fault::invalid_argument("rulesSpec.removeKey"));
                };
                cfg.rules.remove(i);
            }
            _ => return Err(Fault::invalid_argument("rulesSpec")),
        }
    }
    for d in &spec.drs_vm_config_spec {
        overrides(
            state,
            c,
            &mut cfg.drs_vm,
            &d.operation,
            &d.remove_key,
            d.info.as_ref(),
            |i| &i.key,
            "drsVmConfigSpec",
        )?;
    }
    for d in &spec.das_vm_config_spec {
        overrides(
            state,
            c,
            &mut cfg.das_vm,
            &d.operation,
            &d.remove_key,
            d.info.as_ref(),
            |i| &i.key,
            "dasVmConfigSpec",
        )?;
    }
    Ok(())
}

/// `ClusterRuleInfo`'s own fields: name, enabled, mandatory, userCreated, ruleUuid.
type RuleBase = (
    Option<String>,
    Option<bool>,
    Option<bool>,
    Option<bool>,
    Option<String>,
);

/// The `ClusterRuleInfo` fields an edit keeps when the spec leaves them unset.
trait CloneBase {
    fn clone_base(&self) -> RuleBase;
}

macro_rules! clone_base {
    ($($t:ty),*) => {$(
        impl CloneBase for $t {
            fn clone_base(&self) -> RuleBase {
                (self.name.clone(), self.enabled, self.mandatory, self.user_created, self.rule_uuid.clone())
            }
        }
    )*};
}
clone_base!(
    ClusterRuleInfo,
    ClusterAffinityRuleSpec,
    ClusterAntiAffinityRuleSpec,
    ClusterDependencyRuleInfo,
    ClusterVmHostRuleInfo,
    VirtualDiskAntiAffinityRuleSpec,
    VirtualDiskRuleSpec
);

fn check_group(state: &State, c: &ComputeResourceMo, g: &BaseClusterGroupInfo) -> MethodResult<()> {
    match g {
        BaseClusterGroupInfo::ClusterVmGroup(v) => check_vms(state, c, &v.vm, "groupSpec.info.vm"),
        BaseClusterGroupInfo::ClusterHostGroup(h) => {
            if h.host.iter().all(|x| c.hosts.contains(x)) {
                Ok(())
            } else {
                Err(Fault::invalid_argument("groupSpec.info.host"))
            }
        }
        BaseClusterGroupInfo::ClusterGroupInfo(_) => Err(Fault::invalid_argument("groupSpec.info")),
    }
}

/// Adds, edits or removes a per-VM override keyed by VM.
#[allow(clippy::too_many_arguments)]
fn overrides<T: Clone>(
    state: &State,
    c: &ComputeResourceMo,
    list: &mut Vec<T>,
    op: &ArrayUpdateOperation,
    remove_key: &Option<Any>,
    info: Option<&T>,
    key: impl Fn(&T) -> &MoRef,
    what: &str,
) -> MethodResult<()> {
    use ArrayUpdateOperation as Op;
    let pos = |list: &Vec<T>, k: &MoRef| list.iter().position(|x| key(x) == k);
    match (op, info) {
        (Op::Add, Some(i)) => {
            check_vms(state, c, std::slice::from_ref(key(i)), what)?;
            if pos(list, key(i)).is_some() {
                return Err(Fault::invalid_argument(what));
            }
            list.push(i.clone());
        }
        (Op::Edit, Some(i)) => {
            let p = pos(list, key(i)).ok_or_else(|| Fault::invalid_argument(what))?;
            list[p] = i.clone();
        }
        (Op::Remove, _) => {
            let Some(Any::ManagedObjectReference(k)) = remove_key else {
                return Err(Fault::invalid_argument(what));
            };
            let p = pos(list, k).ok_or_else(|| Fault::invalid_argument(what))?;
            list.remove(p);
        }
        _ => return Err(Fault::invalid_argument(what)),
    }
    Ok(())
}

/// `ReconfigureComputeResource_Task` and `ReconfigureCluster_Task`: checks the whole spec
/// against a copy and keeps the copy only when every change applies.
pub fn reconfigure(
    state: &mut State,
    r: &MoRef,
    spec: &ClusterConfigSpecEx,
    modify: bool,
) -> MethodResult<()> {
    let c = cluster_of(state, r)?;
    let base = if modify {
        config_of(state, r)
    } else {
        ClusterConfig {
            next_key: config_of(state, r).next_key,
            ..Default::default()
        }
    };
    let mut cfg = base;
    apply(state, c, &mut cfg, spec)?;
    state.managers.clusters.by_id.insert(r.value.clone(), cfg);
    Ok(())
}

macro_rules! resp {
    ($v:ident, $t:ident { $($f:tt)* }) => {
        Response::$v(Box::new($t { $($f)* }))
    };
}

/// The cluster methods; gives the request back when it is not one of them.
pub fn handle(
    state: &mut State,
    ctx: &Ctx,
    req: Request,
) -> Result<MethodResult<Response>, Request> {
    let method = req.method();
    Ok(match req {
        Request::ReconfigureComputeResource_Task(q) => {
            let r = q.this.clone();
            let spec = match (&q.spec, state.lookup(&r)) {
                (_, Err(f)) => return Ok(Err(f)),
                (
                    BaseComputeResourceConfigSpec::ClusterConfigSpecEx(s),
                    Ok(Mo::ComputeResource(c)),
                ) if c.cluster => Some((**s).clone()),
                (
                    BaseComputeResourceConfigSpec::ComputeResourceConfigSpec(s),
                    Ok(Mo::ComputeResource(c)),
                ) => {
                    if let Some(p) = &s.vm_swap_placement {
                        if !["vmDirectory", "hostLocal"].contains(&p.as_str()) {
                            return Ok(Err(Fault::invalid_argument("spec.vmSwapPlacement")));
                        }
                    }
                    c.cluster.then(|| ClusterConfigSpecEx {
                        vm_swap_placement: s.vm_swap_placement.clone(),
                        ..Default::default()
                    })
                }
                (_, Ok(Mo::ComputeResource(_))) => {
                    return Ok(Err(Fault::invalid_argument("spec")));
                }
                _ => return Ok(Err(Fault::not_found(&r))),
            };
            let modify = q.modify;
            let t = run_task(state, ctx, &r.clone(), method, move |s| {
                if let Some(spec) = &spec {
                    reconfigure(s, &r, spec, modify)?;
                }
                Ok(None)
            });
            Ok(resp!(
                ReconfigureComputeResource_Task,
                ReconfigureComputeResource_TaskResponse { returnval: t }
            ))
        }
        Request::ReconfigureCluster_Task(q) => {
            let r = q.this.clone();
            if let Err(f) = cluster_of(state, &r) {
                return Ok(Err(f));
            }
            let spec = ClusterConfigSpecEx {
                das_config: q.spec.das_config.clone(),
                das_vm_config_spec: q.spec.das_vm_config_spec.clone(),
                drs_config: q.spec.drs_config.clone(),
                drs_vm_config_spec: q.spec.drs_vm_config_spec.clone(),
                rules_spec: q.spec.rules_spec.clone(),
                ..Default::default()
            };
            let modify = q.modify;
            let t = run_task(state, ctx, &r.clone(), method, move |s| {
                reconfigure(s, &r, &spec, modify).map(|_| None)
            });
            Ok(resp!(
                ReconfigureCluster_Task,
                ReconfigureCluster_TaskResponse { returnval: t }
            ))
        }
        Request::ApplyRecommendation(q) => {
            // No recommendation is ever pending, so every key is unknown.
            Err(cluster_of(state, &q.this)
                .err()
                .unwrap_or_else(|| Fault::invalid_argument("key")))
        }
        Request::RefreshRecommendation(q) => cluster_of(state, &q.this)
            .map(|_| resp!(RefreshRecommendation, RefreshRecommendationResponse {})),
        other => return Err(other),
    })
}
