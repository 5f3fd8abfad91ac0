//! `PerformanceManager`: the counter catalogue (ids, names, groups, units, rollups and levels as
//! vSphere 7.0.3 numbers them), the collection intervals, and samples computed on demand.
//!
//! Samples are a pure function of (object id, counter, instance, timestamp): the same query
//! gives the same numbers, consecutive samples differ, and every value stays within what the
//! object has (a VM's vCPUs and memory; nothing but zero while it is powered off).

use esx_vim::{
    Any, ArrayOfPerfCounterInfo, ArrayOfPerfInterval, BaseElementDescription,
    BasePerfEntityMetricBase, BasePerfMetricSeries, DateTime, ElementDescription,
    PerfCompositeMetric, PerfCounterInfo, PerfEntityMetric, PerfEntityMetricCSV, PerfInterval,
    PerfMetricId, PerfMetricIntSeries, PerfMetricSeriesCSV, PerfProviderSummary, PerfQuerySpec,
    PerfSampleInfo, PerfStatsType, PerfSummaryType, PerformanceDescription, Request, Response,
    VirtualMachinePowerState,
};

use crate::config::Flavor;
use crate::fault::{Fault, MethodResult};
use crate::property::Top;
use crate::state::{Ctx, Mo, MoRef, State};

/// The real-time sampling period (seconds), the `refreshRate` of VMs and hosts.
pub const REFRESH_RATE: i32 = 20;

/// Real-time samples kept (one hour).
const REALTIME_SAMPLES: i64 = 180;

/// Which objects report a counter.
const VM: u8 = 1;
const HOST: u8 = 2;
const DS: u8 = 4;
const CLUSTER: u8 = 8;
const POOL: u8 = 16;

/// What the instances of a counter are.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Inst {
    /// Only the aggregate ("").
    Aggregate,
    /// Per (virtual) CPU: "0", "1", ….
    Cpu,
    /// Per NIC: the device key on a VM ("4000"), the vmnic on a host.
    Nic,
    /// Per disk: "scsi0:0" on a VM, the device name on a host.
    Disk,
    /// Per datastore (its name).
    Datastore,
}

/// One counter of the catalogue.
struct Counter {
    key: i32,
    group: &'static str,
    name: &'static str,
    rollup: &'static str,
    stats: &'static str,
    unit: &'static str,
    level: i32,
    per_device: i32,
    label: &'static str,
    summary: &'static str,
    on: u8,
    inst: Inst,
}

macro_rules! counters {
    ($(($key:expr, $g:expr, $n:expr, $r:expr, $s:expr, $u:expr, $l:expr, $pd:expr, $label:expr, $sum:expr, $on:expr, $inst:ident)),* $(,)?) => {
        &[$(Counter { key: $key, group: $g, name: $n, rollup: $r, stats: $s, unit: $u, level: $l,
            per_device: $pd, label: $label, summary: $sum, on: $on, inst: Inst::$inst }),*]
    };
}

/// The catalogue: the common counters with the ids, levels and units vSphere 7.0.3 gives them.
const COUNTERS: &[Counter] = counters![
    (
        1,
        "cpu",
        "usage",
        "none",
        "rate",
        "percent",
        4,
        4,
        "Usage",
        "CPU used, in percent of the capacity",
        VM | HOST,
        Cpu
    ),
    (
        2,
        "cpu",
        "usage",
        "average",
        "rate",
        "percent",
        1,
        3,
        "Usage",
        "CPU used, in percent of the capacity",
        VM | HOST | CLUSTER,
        Cpu
    ),
    (
        3,
        "cpu",
        "usage",
        "minimum",
        "rate",
        "percent",
        4,
        4,
        "Usage",
        "CPU used, in percent of the capacity",
        VM | HOST,
        Cpu
    ),
    (
        4,
        "cpu",
        "usage",
        "maximum",
        "rate",
        "percent",
        4,
        4,
        "Usage",
        "CPU used, in percent of the capacity",
        VM | HOST,
        Cpu
    ),
    (
        6,
        "cpu",
        "usagemhz",
        "average",
        "rate",
        "megaHertz",
        1,
        3,
        "Usage in MHz",
        "CPU used, in megahertz",
        VM | HOST | CLUSTER | POOL,
        Cpu
    ),
    (
        10,
        "cpu",
        "system",
        "summation",
        "delta",
        "millisecond",
        3,
        3,
        "System",
        "Time spent in system processes",
        VM,
        Cpu
    ),
    (
        11,
        "cpu",
        "wait",
        "summation",
        "delta",
        "millisecond",
        3,
        3,
        "Wait",
        "Time spent waiting",
        VM | HOST,
        Cpu
    ),
    (
        12,
        "cpu",
        "ready",
        "summation",
        "delta",
        "millisecond",
        1,
        3,
        "Ready",
        "Time ready to run but not scheduled",
        VM | HOST,
        Cpu
    ),
    (
        13,
        "cpu",
        "idle",
        "summation",
        "delta",
        "millisecond",
        2,
        3,
        "Idle",
        "Time spent idle",
        VM | HOST,
        Cpu
    ),
    (
        14,
        "cpu",
        "used",
        "summation",
        "delta",
        "millisecond",
        3,
        3,
        "Used",
        "Time spent running",
        VM | HOST,
        Cpu
    ),
    (
        398,
        "cpu",
        "demand",
        "average",
        "absolute",
        "megaHertz",
        2,
        3,
        "Demand",
        "CPU that would be used without contention or limits",
        VM | HOST,
        Aggregate
    ),
    (
        399,
        "cpu",
        "costop",
        "summation",
        "delta",
        "millisecond",
        2,
        3,
        "Co-stop",
        "Time ready but held back by co-scheduling",
        VM,
        Cpu
    ),
    (
        23,
        "mem",
        "usage",
        "none",
        "absolute",
        "percent",
        4,
        4,
        "Host consumed %",
        "Memory consumed, in percent of the configured size",
        VM | HOST,
        Aggregate
    ),
    (
        24,
        "mem",
        "usage",
        "average",
        "absolute",
        "percent",
        1,
        3,
        "Host consumed %",
        "Memory consumed, in percent of the configured size",
        VM | HOST | CLUSTER,
        Aggregate
    ),
    (
        25,
        "mem",
        "usage",
        "minimum",
        "absolute",
        "percent",
        4,
        4,
        "Host consumed %",
        "Memory consumed, in percent of the configured size",
        VM | HOST,
        Aggregate
    ),
    (
        26,
        "mem",
        "usage",
        "maximum",
        "absolute",
        "percent",
        4,
        4,
        "Host consumed %",
        "Memory consumed, in percent of the configured size",
        VM | HOST,
        Aggregate
    ),
    (
        29,
        "mem",
        "granted",
        "average",
        "absolute",
        "kiloBytes",
        2,
        3,
        "Granted",
        "Host memory mapped for the object",
        VM | HOST | POOL,
        Aggregate
    ),
    (
        33,
        "mem",
        "active",
        "average",
        "absolute",
        "kiloBytes",
        2,
        3,
        "Active",
        "Memory recently read or written",
        VM | HOST | POOL,
        Aggregate
    ),
    (
        37,
        "mem",
        "shared",
        "average",
        "absolute",
        "kiloBytes",
        2,
        3,
        "Shared",
        "Memory shared between pages or machines",
        VM | HOST | POOL,
        Aggregate
    ),
    (
        70,
        "mem",
        "swapped",
        "average",
        "absolute",
        "kiloBytes",
        2,
        3,
        "Swapped",
        "Memory swapped out",
        VM | POOL,
        Aggregate
    ),
    (
        90,
        "mem",
        "vmmemctl",
        "average",
        "absolute",
        "kiloBytes",
        1,
        3,
        "Ballooned memory",
        "Memory reclaimed by the balloon driver",
        VM | HOST | POOL,
        Aggregate
    ),
    (
        98,
        "mem",
        "consumed",
        "average",
        "absolute",
        "kiloBytes",
        1,
        3,
        "Consumed",
        "Host memory backing the object's memory",
        VM | HOST | CLUSTER | POOL,
        Aggregate
    ),
    (
        102,
        "mem",
        "overhead",
        "average",
        "absolute",
        "kiloBytes",
        1,
        1,
        "Overhead consumed",
        "Host memory used by the hypervisor for the object",
        VM | HOST | POOL,
        Aggregate
    ),
    (
        406,
        "mem",
        "swapin",
        "average",
        "absolute",
        "kiloBytes",
        2,
        3,
        "Swap in",
        "Memory swapped in since power-on",
        VM | HOST,
        Aggregate
    ),
    (
        410,
        "mem",
        "swapout",
        "average",
        "absolute",
        "kiloBytes",
        2,
        3,
        "Swap out",
        "Memory swapped out since power-on",
        VM | HOST,
        Aggregate
    ),
    (
        125,
        "disk",
        "usage",
        "average",
        "rate",
        "kiloBytesPerSecond",
        1,
        3,
        "Usage",
        "Disk input and output rate",
        VM | HOST,
        Disk
    ),
    (
        128,
        "disk",
        "numberRead",
        "summation",
        "delta",
        "number",
        3,
        3,
        "Read requests",
        "Disk reads in the interval",
        VM | HOST,
        Disk
    ),
    (
        129,
        "disk",
        "numberWrite",
        "summation",
        "delta",
        "number",
        3,
        3,
        "Write requests",
        "Disk writes in the interval",
        VM | HOST,
        Disk
    ),
    (
        130,
        "disk",
        "read",
        "average",
        "rate",
        "kiloBytesPerSecond",
        2,
        3,
        "Read rate",
        "Disk read rate",
        VM | HOST,
        Disk
    ),
    (
        131,
        "disk",
        "write",
        "average",
        "rate",
        "kiloBytesPerSecond",
        2,
        3,
        "Write rate",
        "Disk write rate",
        VM | HOST,
        Disk
    ),
    (
        133,
        "disk",
        "maxTotalLatency",
        "latest",
        "absolute",
        "millisecond",
        1,
        3,
        "Highest latency",
        "Highest disk latency",
        VM | HOST,
        Aggregate
    ),
    (
        446,
        "disk",
        "commands",
        "summation",
        "delta",
        "number",
        2,
        3,
        "Commands issued",
        "SCSI commands in the interval",
        VM | HOST,
        Disk
    ),
    (
        281,
        "disk",
        "used",
        "latest",
        "absolute",
        "kiloBytes",
        1,
        1,
        "Space actually used",
        "Space the files take",
        VM | DS,
        Aggregate
    ),
    (
        282,
        "disk",
        "provisioned",
        "latest",
        "absolute",
        "kiloBytes",
        1,
        1,
        "Space potentially used",
        "Space set aside",
        VM | DS,
        Aggregate
    ),
    (
        283,
        "disk",
        "capacity",
        "latest",
        "absolute",
        "kiloBytes",
        1,
        3,
        "Capacity",
        "Configured size of the datastore",
        DS,
        Aggregate
    ),
    (
        143,
        "net",
        "usage",
        "average",
        "rate",
        "kiloBytesPerSecond",
        1,
        3,
        "Usage",
        "Network receive and transmit rate",
        VM | HOST,
        Nic
    ),
    (
        146,
        "net",
        "packetsRx",
        "summation",
        "delta",
        "number",
        2,
        3,
        "Packets received",
        "Packets received in the interval",
        VM | HOST,
        Nic
    ),
    (
        147,
        "net",
        "packetsTx",
        "summation",
        "delta",
        "number",
        2,
        3,
        "Packets transmitted",
        "Packets transmitted in the interval",
        VM | HOST,
        Nic
    ),
    (
        148,
        "net",
        "received",
        "average",
        "rate",
        "kiloBytesPerSecond",
        2,
        3,
        "Data receive rate",
        "Network receive rate",
        VM | HOST,
        Nic
    ),
    (
        149,
        "net",
        "transmitted",
        "average",
        "rate",
        "kiloBytesPerSecond",
        2,
        3,
        "Data transmit rate",
        "Network transmit rate",
        VM | HOST,
        Nic
    ),
    (
        460,
        "net",
        "droppedRx",
        "summation",
        "delta",
        "number",
        2,
        3,
        "Receive packets dropped",
        "Received packets dropped",
        VM | HOST,
        Nic
    ),
    (
        461,
        "net",
        "droppedTx",
        "summation",
        "delta",
        "number",
        2,
        3,
        "Transmit packets dropped",
        "Transmitted packets dropped",
        VM | HOST,
        Nic
    ),
    (
        462,
        "net",
        "bytesRx",
        "average",
        "rate",
        "kiloBytesPerSecond",
        2,
        3,
        "Data receive rate",
        "Data received per second",
        VM | HOST,
        Nic
    ),
    (
        463,
        "net",
        "bytesTx",
        "average",
        "rate",
        "kiloBytesPerSecond",
        2,
        3,
        "Data transmit rate",
        "Data transmitted per second",
        VM | HOST,
        Nic
    ),
    (
        178,
        "datastore",
        "numberReadAveraged",
        "average",
        "rate",
        "number",
        1,
        3,
        "Average read requests per second",
        "Datastore reads per second",
        VM | HOST,
        Datastore
    ),
    (
        179,
        "datastore",
        "numberWriteAveraged",
        "average",
        "rate",
        "number",
        1,
        3,
        "Average write requests per second",
        "Datastore writes per second",
        VM | HOST,
        Datastore
    ),
    (
        180,
        "datastore",
        "read",
        "average",
        "rate",
        "kiloBytesPerSecond",
        2,
        2,
        "Read rate",
        "Datastore read rate",
        VM | HOST,
        Datastore
    ),
    (
        181,
        "datastore",
        "write",
        "average",
        "rate",
        "kiloBytesPerSecond",
        2,
        2,
        "Write rate",
        "Datastore write rate",
        VM | HOST,
        Datastore
    ),
    (
        182,
        "datastore",
        "totalReadLatency",
        "average",
        "absolute",
        "millisecond",
        1,
        3,
        "Read latency",
        "Time a datastore read takes",
        VM | HOST,
        Datastore
    ),
    (
        183,
        "datastore",
        "totalWriteLatency",
        "average",
        "absolute",
        "millisecond",
        1,
        3,
        "Write latency",
        "Time a datastore write takes",
        VM | HOST,
        Datastore
    ),
    (
        173,
        "virtualDisk",
        "read",
        "average",
        "rate",
        "kiloBytesPerSecond",
        2,
        2,
        "Read rate",
        "Virtual disk read rate",
        VM,
        Disk
    ),
    (
        174,
        "virtualDisk",
        "write",
        "average",
        "rate",
        "kiloBytesPerSecond",
        2,
        2,
        "Write rate",
        "Virtual disk write rate",
        VM,
        Disk
    ),
    (
        155,
        "sys",
        "uptime",
        "latest",
        "absolute",
        "second",
        1,
        3,
        "Uptime",
        "Seconds since the last start",
        VM | HOST,
        Aggregate
    ),
    (
        473,
        "sys",
        "heartbeat",
        "latest",
        "absolute",
        "number",
        4,
        4,
        "Heartbeat",
        "Guest heartbeats in the interval",
        VM,
        Aggregate
    ),
    (
        157,
        "power",
        "power",
        "average",
        "rate",
        "watt",
        2,
        3,
        "Usage",
        "Power drawn",
        VM | HOST | CLUSTER,
        Aggregate
    ),
    (
        159,
        "power",
        "energy",
        "summation",
        "delta",
        "joule",
        3,
        3,
        "Energy usage",
        "Energy used in the interval",
        VM | HOST,
        Aggregate
    ),
    (
        348,
        "rescpu",
        "actav1",
        "latest",
        "absolute",
        "percent",
        3,
        3,
        "Active (1 min average)",
        "CPU active over one minute",
        HOST | POOL,
        Aggregate
    ),
];

fn group_label(g: &str) -> &'static str {
    match g {
        "cpu" => "CPU",
        "mem" => "Memory",
        "disk" => "Disk",
        "net" => "Network",
        "datastore" => "Datastore",
        "virtualDisk" => "Virtual disk",
        "sys" => "System",
        "power" => "Power",
        "rescpu" => "Resource group CPU",
        _ => "Other",
    }
}

fn unit_label(u: &str) -> (&'static str, &'static str) {
    match u {
        "percent" => ("%", "Percentage"),
        "megaHertz" => ("MHz", "Megahertz"),
        "millisecond" => ("ms", "Millisecond"),
        "kiloBytes" => ("KB", "Kilobyte"),
        "kiloBytesPerSecond" => ("KBps", "Kilobytes per second"),
        "number" => ("num", "Number"),
        "second" => ("s", "Second"),
        "watt" => ("W", "Watt"),
        "joule" => ("J", "Joule"),
        _ => ("", ""),
    }
}

fn element(key: &str, label: &str, summary: &str) -> BaseElementDescription {
    BaseElementDescription::from(ElementDescription {
        key: key.to_owned(),
        label: label.to_owned(),
        summary: summary.to_owned(),
    })
}

fn rollup(s: &str) -> PerfSummaryType {
    match s {
        "average" => PerfSummaryType::Average,
        "maximum" => PerfSummaryType::Maximum,
        "minimum" => PerfSummaryType::Minimum,
        "latest" => PerfSummaryType::Latest,
        "summation" => PerfSummaryType::Summation,
        _ => PerfSummaryType::None,
    }
}

fn stats(s: &str) -> PerfStatsType {
    match s {
        "delta" => PerfStatsType::Delta,
        "rate" => PerfStatsType::Rate,
        _ => PerfStatsType::Absolute,
    }
}

impl Counter {
    fn info(&self) -> PerfCounterInfo {
        let (unit, unit_summary) = unit_label(self.unit);
        let group = group_label(self.group);
        PerfCounterInfo {
            key: self.key,
            name_info: element(self.name, self.label, self.summary),
            group_info: element(self.group, group, group),
            unit_info: element(self.unit, unit, unit_summary),
            rollup_type: rollup(self.rollup),
            stats_type: stats(self.stats),
            level: Some(self.level),
            per_device_level: Some(self.per_device),
            associated_counter_id: Vec::new(),
        }
    }

    /// `group.name.rollup`, as clients name counters.
    pub fn full_name(&self) -> String {
        format!("{}.{}.{}", self.group, self.name, self.rollup)
    }
}

fn counter(key: i32) -> Option<&'static Counter> {
    COUNTERS.iter().find(|c| c.key == key)
}

/// The full name (`cpu.usage.average`) of counter `key`, if the catalogue has it.
pub fn counter_name(key: i32) -> Option<String> {
    counter(key).map(Counter::full_name)
}

/// The historical intervals: vCenter's four default ones; ESXi keeps real-time data only.
fn intervals(flavor: Flavor) -> Vec<PerfInterval> {
    if flavor == Flavor::Esx {
        return Vec::new();
    }
    [
        (1, 300, "Past day", 86_400),
        (2, 1800, "Past week", 604_800),
        (3, 7200, "Past month", 2_592_000),
        (4, 86_400, "Past year", 31_536_000),
    ]
    .into_iter()
    .map(|(key, period, name, length)| PerfInterval {
        key,
        sampling_period: period,
        name: name.to_owned(),
        length,
        level: Some(1),
        enabled: true,
    })
    .collect()
}

fn description() -> PerformanceDescription {
    let counter_type = [
        (
            "average",
            "Average",
            "Average of the samples in the interval",
        ),
        ("maximum", "Maximum", "Highest sample in the interval"),
        ("minimum", "Minimum", "Lowest sample in the interval"),
        ("latest", "Latest", "Last sample in the interval"),
        (
            "summation",
            "Summation",
            "Sum of the samples in the interval",
        ),
        ("none", "None", "Not rolled up"),
    ]
    .into_iter()
    .map(|(k, l, s)| element(k, l, s))
    .collect();
    let stats_type = [
        ("absolute", "Absolute", "A value at a point in time"),
        ("delta", "Delta", "The change over the interval"),
        ("rate", "Rate", "The change per second over the interval"),
    ]
    .into_iter()
    .map(|(k, l, s)| element(k, l, s))
    .collect();
    PerformanceDescription {
        counter_type,
        stats_type,
    }
}

/// Properties of the performance manager.
pub fn property(state: &State, name: &str) -> Top {
    Some(match name {
        "perfCounter" => Some(Any::from(ArrayOfPerfCounterInfo {
            perf_counter_info: COUNTERS.iter().map(Counter::info).collect(),
        })),
        "historicalInterval" => Some(Any::from(ArrayOfPerfInterval {
            perf_interval: intervals(state.flavor()),
        })),
        "description" => Some(Any::from(description())),
        _ => return None,
    })
}

/// What an entity is, for the counters it reports.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Vm,
    Host,
    Datastore,
    Cluster,
    Pool,
    /// Another managed entity: summaries only, no counters.
    Other,
}

impl Kind {
    fn of(state: &State, r: &MoRef) -> MethodResult<Kind> {
        Ok(match state.lookup(r)? {
            Mo::VirtualMachine(_) => Kind::Vm,
            Mo::HostSystem(_) => Kind::Host,
            Mo::Datastore(_) => Kind::Datastore,
            Mo::ComputeResource(_) => Kind::Cluster,
            Mo::ResourcePool(_) => Kind::Pool,
            Mo::Folder(_) | Mo::Datacenter(_) | Mo::Network(_) => Kind::Other,
            _ => return Err(Fault::invalid_argument("entity")),
        })
    }

    fn bit(self) -> u8 {
        match self {
            Kind::Vm => VM,
            Kind::Host => HOST,
            Kind::Datastore => DS,
            Kind::Cluster => CLUSTER,
            Kind::Pool => POOL,
            Kind::Other => 0,
        }
    }

    fn current(self) -> bool {
        matches!(self, Kind::Vm | Kind::Host)
    }
}

/// The entity facts samples are derived from.
struct Subject {
    id: String,
    kind: Kind,
    on: bool,
    cpus: i64,
    mhz: i64,
    mem_kb: i64,
    cpu_inst: Vec<String>,
    nic_inst: Vec<String>,
    disk_inst: Vec<String>,
    ds_inst: Vec<String>,
    used_kb: i64,
    provisioned_kb: i64,
    capacity_kb: i64,
}

const HOST_MHZ: i64 = 2400;
const HOST_CPUS: i64 = 8;

fn subject(state: &State, ctx: &Ctx, r: &MoRef) -> MethodResult<Subject> {
    let kind = Kind::of(state, r)?;
    let mut s = Subject {
        id: r.value.clone(),
        kind,
        on: true,
        cpus: HOST_CPUS,
        mhz: HOST_MHZ,
        mem_kb: crate::mo::host_system::HOST_MEMORY / 1024,
        cpu_inst: Vec::new(),
        nic_inst: Vec::new(),
        disk_inst: Vec::new(),
        ds_inst: Vec::new(),
        used_kb: 0,
        provisioned_kb: 0,
        capacity_kb: 0,
    };
    let long = |path: &str| match crate::property::read(state, ctx, r, path) {
        Ok(Some(Any::Long(n))) => n,
        _ => 0,
    };
    match state.lookup(r)? {
        Mo::VirtualMachine(vm) => {
            s.on = vm.runtime.power_state == VirtualMachinePowerState::PoweredOn;
            s.cpus = i64::from(vm.config.hardware.num_cpu.max(1));
            s.mem_kb = i64::from(vm.config.hardware.memory_mb.max(0)) * 1024;
            let vmx = vm.vmx();
            for p in crate::mo::vm_devices::present_prefixes(&vmx) {
                if crate::mo::vm_devices::parse_slot(&p).is_some()
                    && crate::mo::vm_devices::media(&vmx, &p)
                        == Some(crate::mo::vm_devices::Media::Disk)
                {
                    s.disk_inst.push(p);
                } else if let Some(n) = p
                    .strip_prefix("ethernet")
                    .and_then(|n| n.parse::<i32>().ok())
                {
                    s.nic_inst.push((4000 + n).to_string());
                }
            }
            s.ds_inst.push(vm.datastore_name.clone());
            s.used_kb = long("summary.storage.committed") / 1024;
            s.provisioned_kb = s.used_kb + long("summary.storage.uncommitted") / 1024;
        }
        Mo::HostSystem(h) => {
            s.nic_inst = vec!["vmnic0".into(), "vmnic1".into()];
            s.disk_inst = vec!["mpx.vmhba0:C0:T0:L0".into()];
            s.ds_inst = h
                .datastores
                .iter()
                .filter_map(|d| state.name_of(d))
                .collect();
        }
        Mo::Datastore(_) => {
            s.capacity_kb = long("summary.capacity") / 1024;
            s.used_kb = s.capacity_kb - long("summary.freeSpace") / 1024;
            s.provisioned_kb = s.used_kb + long("summary.uncommitted") / 1024;
        }
        Mo::ComputeResource(c) => {
            let n = c.hosts.len().max(1) as i64;
            s.cpus = HOST_CPUS * n;
            s.mem_kb *= n;
        }
        _ => {}
    }
    s.cpu_inst = (0..s.cpus).map(|i| i.to_string()).collect();
    Ok(s)
}

impl Subject {
    fn instances(&self, c: &Counter) -> &[String] {
        if self.kind == Kind::Vm || self.kind == Kind::Host {
            match c.inst {
                Inst::Aggregate => &[],
                Inst::Cpu => &self.cpu_inst,
                Inst::Nic => &self.nic_inst,
                Inst::Disk => &self.disk_inst,
                Inst::Datastore => &self.ds_inst,
            }
        } else {
            &[]
        }
    }

    /// The metric ids available at an interval (20: real time, with instances; a historical
    /// interval: the level-1 counters' aggregates).
    fn available(&self, period: i32) -> Vec<PerfMetricId> {
        let realtime = period == REFRESH_RATE;
        let mut v = Vec::new();
        for c in COUNTERS.iter().filter(|c| c.on & self.kind.bit() != 0) {
            // Space counters are sampled for the historical intervals only.
            if realtime && c.per_device == 1 && c.group == "disk" {
                continue;
            }
            if !realtime && c.level > 1 {
                continue;
            }
            // Datastores and clusters have aggregates; a datastore counter's instance is
            // the datastore itself, so it has no aggregate.
            if c.inst != Inst::Datastore || self.instances(c).is_empty() {
                v.push(PerfMetricId {
                    counter_id: c.key,
                    instance: String::new(),
                });
            }
            if realtime {
                for i in self.instances(c) {
                    v.push(PerfMetricId {
                        counter_id: c.key,
                        instance: i.clone(),
                    });
                }
            }
        }
        v
    }
}

/// A hash of the inputs mapped to [0, 1).
fn unit_hash(parts: &[&str], n: i64) -> f64 {
    // FNV-1a over the parts, then a splitmix64 finaliser with the number.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes().chain([0u8]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    let mut z = h ^ (n as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

/// A load in [0.02, 0.95] that drifts over the hour and jitters per sample.
fn load(id: &str, what: &str, instance: &str, ts: i64) -> f64 {
    let base = 0.1 + 0.45 * unit_hash(&[id, what, instance], 0);
    let phase = std::f64::consts::TAU * unit_hash(&[id, what, instance], 1);
    let wave = 0.15 * ((ts as f64) * std::f64::consts::TAU / 3600.0 + phase).sin();
    let jitter = 0.16 * (unit_hash(&[id, what, instance], ts) - 0.5);
    (base + wave + jitter).clamp(0.02, 0.95)
}

impl Subject {
    /// The value of counter `c` for `instance` over the sample ending at `ts` of `period`.
    fn value(&self, c: &Counter, instance: &str, ts: i64, period: i64) -> i64 {
        let off = self.kind == Kind::Vm && !self.on;
        if off && !(c.group == "disk" && c.per_device == 1) {
            return 0;
        }
        let id = self.id.as_str();
        let agg = instance.is_empty();
        // The CPUs this sample covers, and their mean load.
        let cpu_load = || {
            if agg {
                let n = self.cpu_inst.len().max(1);
                self.cpu_inst
                    .iter()
                    .map(|i| load(id, "cpu", i, ts))
                    .sum::<f64>()
                    / n as f64
            } else {
                load(id, "cpu", instance, ts)
            }
        };
        let ncpu = if agg { self.cpus } else { 1 } as f64;
        let ms = (period * 1000) as f64;
        let rolled = |v: f64| match c.rollup {
            "maximum" => (v * 1.08).min(10_000.0),
            "minimum" => v * 0.9,
            _ => v,
        };
        let mem = load(id, "mem", "", ts);
        let granted = self.mem_kb as f64 * (0.55 + 0.4 * mem);
        let consumed = granted * (0.85 + 0.1 * load(id, "mem.c", "", ts));
        let io = load(id, "io", instance, ts);
        let net = load(id, "net", instance, ts);
        let v = match (c.group, c.name) {
            ("cpu", "usage") => rolled(cpu_load() * 10_000.0),
            ("cpu", "usagemhz") => cpu_load() * ncpu * self.mhz as f64,
            ("cpu", "demand") => (cpu_load() * 1.04).min(1.0) * ncpu * self.mhz as f64,
            ("cpu", "used") => cpu_load() * ms * ncpu,
            ("cpu", "idle") => (1.0 - cpu_load()) * ms * ncpu * 0.97,
            ("cpu", "wait") => (1.0 - cpu_load()) * ms * ncpu,
            ("cpu", "ready") => cpu_load() * ms * ncpu * 0.02,
            ("cpu", "system") => cpu_load() * ms * ncpu * 0.03,
            ("cpu", "costop") => cpu_load() * ms * ncpu * 0.002,
            ("mem", "usage") => rolled(consumed / self.mem_kb.max(1) as f64 * 10_000.0),
            ("mem", "granted") => granted,
            ("mem", "consumed") => consumed,
            ("mem", "active") => consumed * (0.1 + 0.5 * load(id, "mem.a", "", ts)),
            ("mem", "shared") => granted - consumed,
            ("mem", "overhead") => 20_000.0 + self.mem_kb as f64 / 200.0,
            ("mem", _) => 0.0,
            ("disk" | "datastore" | "virtualDisk", "read") => io * 1500.0,
            ("disk" | "datastore" | "virtualDisk", "write") => io * 900.0 + 20.0,
            ("disk", "usage") => io * 2400.0 + 20.0,
            ("disk", "numberRead") => io * 120.0 * period as f64,
            ("disk", "numberWrite") => (io * 80.0 + 2.0) * period as f64,
            ("disk", "commands") => (io * 200.0 + 2.0) * period as f64,
            ("disk", "maxTotalLatency") => 1.0 + io * 6.0,
            ("disk", "used") => self.used_kb as f64,
            ("disk", "provisioned") => self.provisioned_kb as f64,
            ("disk", "capacity") => self.capacity_kb as f64,
            ("datastore", "numberReadAveraged") => io * 120.0,
            ("datastore", "numberWriteAveraged") => io * 80.0 + 2.0,
            ("datastore", _) => 1.0 + io * 4.0,
            ("net", "received" | "bytesRx") => net * 800.0,
            ("net", "transmitted" | "bytesTx") => net * 500.0 + 1.0,
            ("net", "usage") => net * 1300.0 + 1.0,
            ("net", "packetsRx") => net * 600.0 * period as f64,
            ("net", "packetsTx") => (net * 400.0 + 1.0) * period as f64,
            ("net", _) => 0.0,
            ("sys", "uptime") => {
                let boot = 1_600_000_000 + (unit_hash(&[id, "boot"], 0) * 1e6) as i64;
                (ts - boot).max(0) as f64
            }
            ("sys", "heartbeat") => (period / 10) as f64,
            ("power", "power") => {
                let idle = if self.kind == Kind::Vm { 8.0 } else { 110.0 };
                idle + cpu_load() * ncpu * 12.0
            }
            ("power", "energy") => (20.0 + cpu_load() * ncpu * 12.0) * period as f64,
            ("rescpu", _) => cpu_load() * 10_000.0,
            _ => 0.0,
        };
        v.round() as i64
    }
}

/// The sampling period an interval id names for `kind` (`None`: not collected).
fn period_of(flavor: Flavor, kind: Kind, interval: Option<i32>) -> Option<i32> {
    let historical = intervals(flavor);
    match interval {
        Some(REFRESH_RATE) if kind.current() => Some(REFRESH_RATE),
        None if kind.current() => Some(REFRESH_RATE),
        None => historical.first().map(|i| i.sampling_period),
        Some(p) => historical
            .iter()
            .find(|i| i.sampling_period == p)
            .map(|i| i.sampling_period),
    }
}

fn secs(t: &DateTime) -> i64 {
    t.timestamp()
}

fn time_of(ts: i64) -> DateTime {
    chrono::DateTime::from_timestamp(ts, 0)
        .unwrap_or_default()
        .fixed_offset()
}

/// The timestamps of the samples a spec selects, oldest first.
fn timestamps(spec: &PerfQuerySpec, period: i32, flavor: Flavor) -> Vec<i64> {
    let p = i64::from(period);
    let now = secs(&crate::state::now());
    let latest = now - now.rem_euclid(p);
    let kept = if period == REFRESH_RATE {
        REALTIME_SAMPLES
    } else {
        intervals(flavor)
            .iter()
            .find(|i| i.sampling_period == period)
            .map(|i| i64::from(i.length) / p)
            .unwrap_or(1)
    };
    let oldest = latest - (kept - 1) * p;
    let end = spec
        .end_time
        .as_ref()
        .map(|t| secs(t).min(latest))
        .unwrap_or(latest);
    let end = end - end.rem_euclid(p);
    let start = spec.start_time.as_ref().map(secs);
    let mut first = oldest;
    if let Some(s) = start {
        // The start is exclusive.
        first = first.max(s - s.rem_euclid(p) + p);
    }
    if period == REFRESH_RATE {
        if let Some(m) = spec.max_sample.filter(|m| *m > 0) {
            first = first.max(end - (i64::from(m) - 1) * p);
        }
    }
    if first > end {
        return Vec::new();
    }
    (0..=(end - first) / p).map(|i| first + i * p).collect()
}

/// The metric ids a spec asks for, resolved against what the entity has.
fn metrics(s: &Subject, spec: &PerfQuerySpec, period: i32) -> Vec<PerfMetricId> {
    let avail = s.available(period);
    if spec.metric_id.is_empty() {
        return avail;
    }
    let mut out = Vec::new();
    for m in &spec.metric_id {
        for a in &avail {
            if a.counter_id == m.counter_id
                && (m.instance == "*" || m.instance == a.instance)
                && !out.contains(a)
            {
                out.push(a.clone());
            }
        }
    }
    out
}

/// Answers one query spec for one entity.
fn query_one(
    state: &State,
    ctx: &Ctx,
    spec: &PerfQuerySpec,
    entity: &MoRef,
) -> MethodResult<BasePerfEntityMetricBase> {
    let s = subject(state, ctx, entity)?;
    let csv = match spec.format.as_deref() {
        None | Some("normal") => false,
        Some("csv") => true,
        Some(_) => return Err(Fault::invalid_argument("querySpec.format")),
    };
    let period = period_of(state.flavor(), s.kind, spec.interval_id)
        .ok_or_else(|| Fault::invalid_argument("querySpec.interval"))?;
    let ids = metrics(&s, spec, period);
    let times = if ids.is_empty() {
        Vec::new()
    } else {
        timestamps(spec, period, state.flavor())
    };
    let p = i64::from(period);
    let series = ids.into_iter().filter_map(|id| {
        let c = counter(id.counter_id)?;
        let values: Vec<i64> = times
            .iter()
            .map(|&t| s.value(c, &id.instance, t, p))
            .collect();
        Some((id, values))
    });
    if csv {
        let sample_info_csv = times
            .iter()
            .map(|t| format!("{period},{}", time_of(*t).format("%Y-%m-%dT%H:%M:%SZ")))
            .collect::<Vec<_>>()
            .join(",");
        let value = series
            .map(|(id, v)| PerfMetricSeriesCSV {
                id,
                value: Some(v.iter().map(i64::to_string).collect::<Vec<_>>().join(",")),
            })
            .collect();
        return Ok(BasePerfEntityMetricBase::from(PerfEntityMetricCSV {
            entity: entity.clone(),
            sample_info_csv,
            value,
        }));
    }
    let sample_info = times
        .iter()
        .map(|t| PerfSampleInfo {
            timestamp: time_of(*t),
            interval: period,
        })
        .collect();
    let value = series
        .map(|(id, value)| BasePerfMetricSeries::from(PerfMetricIntSeries { id, value }))
        .collect();
    Ok(BasePerfEntityMetricBase::from(PerfEntityMetric {
        entity: entity.clone(),
        sample_info,
        value,
    }))
}

fn check_this(state: &State, this: &MoRef) -> MethodResult<()> {
    match state.lookup(this)? {
        Mo::Manager("PerformanceManager") => Ok(()),
        _ => Err(Fault::not_found(this)),
    }
}

/// Whether `method` is one of the performance manager's (all of them only read).
pub fn is_read(method: &str) -> bool {
    matches!(
        method,
        "QueryPerfCounter"
            | "QueryPerfCounterByLevel"
            | "QueryAvailablePerfMetric"
            | "QueryPerfProviderSummary"
            | "QueryPerf"
            | "QueryPerfComposite"
    )
}

macro_rules! resp {
    ($v:ident, $t:ident { $($f:tt)* }) => {
        Response::$v(Box::new(esx_vim::$t { $($f)* }))
    };
}

/// The performance manager's methods (they only read the state).
pub fn handle_read(state: &State, ctx: &Ctx, req: &Request) -> Option<MethodResult<Response>> {
    let run = || -> MethodResult<Response> {
        Ok(match req {
            Request::QueryPerfCounter(q) => {
                check_this(state, &q.this)?;
                let returnval = q
                    .counter_id
                    .iter()
                    .filter_map(|k| counter(*k).map(Counter::info))
                    .collect();
                resp!(QueryPerfCounter, QueryPerfCounterResponse { returnval })
            }
            Request::QueryPerfCounterByLevel(q) => {
                check_this(state, &q.this)?;
                if !(1..=4).contains(&q.level) {
                    return Err(Fault::invalid_argument("level"));
                }
                let returnval = COUNTERS
                    .iter()
                    .filter(|c| c.level <= q.level)
                    .map(Counter::info)
                    .collect();
                resp!(
                    QueryPerfCounterByLevel,
                    QueryPerfCounterByLevelResponse { returnval }
                )
            }
            Request::QueryAvailablePerfMetric(q) => {
                check_this(state, &q.this)?;
                let s = subject(state, ctx, &q.entity)?;
                let returnval = match period_of(state.flavor(), s.kind, q.interval_id) {
                    Some(p) => s.available(p),
                    None if q.interval_id.is_some() => {
                        return Err(Fault::invalid_argument("intervalId"))
                    }
                    None => Vec::new(),
                };
                resp!(
                    QueryAvailablePerfMetric,
                    QueryAvailablePerfMetricResponse { returnval }
                )
            }
            Request::QueryPerfProviderSummary(q) => {
                check_this(state, &q.this)?;
                let kind = Kind::of(state, &q.entity)?;
                let returnval = PerfProviderSummary {
                    entity: q.entity.clone(),
                    current_supported: kind.current(),
                    summary_supported: true,
                    refresh_rate: kind.current().then_some(REFRESH_RATE),
                };
                resp!(
                    QueryPerfProviderSummary,
                    QueryPerfProviderSummaryResponse { returnval }
                )
            }
            Request::QueryPerf(q) => {
                check_this(state, &q.this)?;
                let returnval = q
                    .query_spec
                    .iter()
                    .map(|spec| query_one(state, ctx, spec, &spec.entity))
                    .collect::<MethodResult<Vec<_>>>()?;
                resp!(QueryPerf, QueryPerfResponse { returnval })
            }
            Request::QueryPerfComposite(q) => {
                check_this(state, &q.this)?;
                let spec = &q.query_spec;
                let Some(Mo::HostSystem(_)) = state.get(&spec.entity) else {
                    state.lookup(&spec.entity)?;
                    return Err(Fault::invalid_argument("querySpec.entity"));
                };
                if spec.format.as_deref() == Some("csv") {
                    return Err(Fault::invalid_argument("querySpec.format"));
                }
                let entity = Some(query_one(state, ctx, spec, &spec.entity)?);
                let mut vms: Vec<MoRef> = state
                    .objects
                    .iter()
                    .filter_map(|(id, m)| match m {
                        Mo::VirtualMachine(v) if v.host == spec.entity => {
                            Some(crate::state::moref("VirtualMachine", id))
                        }
                        _ => None,
                    })
                    .collect();
                vms.sort();
                let child_entity = vms
                    .iter()
                    .map(|vm| query_one(state, ctx, spec, vm))
                    .collect::<MethodResult<Vec<_>>>()?;
                resp!(
                    QueryPerfComposite,
                    QueryPerfCompositeResponse {
                        returnval: PerfCompositeMetric {
                            entity,
                            child_entity,
                        }
                    }
                )
            }
            _ => return Err(Fault::invalid_argument("method")),
        })
    };
    is_read(req.method()).then(run)
}
