//! `OptionManager`: the service content's `setting` (vCenter's `VpxSettings`, ESXi's
//! `HostAgentSettings`) and each host's advanced options (`configManager.advancedOption`),
//! with their definitions (`supportedOption`), `QueryOptions` and type-checked `UpdateOptions`.

use std::collections::BTreeMap;

use esx_vim::{
    Any, ArrayOfOptionDef, ArrayOfOptionValue, BaseOptionType, BaseOptionValue, BoolOption,
    IntOption, InvalidName, LongOption, OptionDef, OptionValue, Request, Response, StringOption,
};

use crate::config::Flavor;
use crate::fault::{Fault, MethodResult};
use crate::property::Top;
use crate::state::{moref, Ctx, Mo, MoRef, State};

/// An option's type and default.
#[derive(Clone, Copy, Debug)]
enum Ty {
    Bool(bool),
    Int(i32, i32, i32),
    Long(i64, i64, i64),
    Str(&'static str),
}

/// One option: key, label, type with default, read-only.
type Def = (&'static str, &'static str, Ty, bool);

use Ty::{Bool, Int, Long, Str};

/// vCenter's `VpxSettings`.
const VPX: &[Def] = &[
    (
        "VirtualCenter.InstanceName",
        "vCenter Server name",
        Str("vcenter.sim.local"),
        false,
    ),
    (
        "VirtualCenter.FQDN",
        "vCenter Server domain name",
        Str("vcenter.sim.local"),
        false,
    ),
    (
        "VirtualCenter.AutoManagedIPV4",
        "Managed IPv4 address",
        Str("127.0.0.1"),
        false,
    ),
    (
        "VirtualCenter.ManagedIP",
        "Managed IP address",
        Str(""),
        false,
    ),
    (
        "VirtualCenter.VimApiUrl",
        "API URL",
        Str("https://vcenter.sim.local:443/sdk"),
        false,
    ),
    (
        "VirtualCenter.VimWebServicesUrl",
        "Web services URL",
        Str("https://vcenter.sim.local:443/vws"),
        false,
    ),
    (
        "VirtualCenter.MaxDBConnection",
        "Maximum database connections",
        Int(5, 1024, 50),
        false,
    ),
    (
        "VirtualCenter.UniqueId",
        "vCenter Server unique id",
        Int(0, 63, 42),
        true,
    ),
    (
        "event.maxAge",
        "Event retention (days)",
        Int(0, 2_147_483_647, 30),
        false,
    ),
    ("event.maxAgeEnabled", "Event cleanup", Bool(true), false),
    (
        "task.maxAge",
        "Task retention (days)",
        Int(0, 2_147_483_647, 30),
        false,
    ),
    ("task.maxAgeEnabled", "Task cleanup", Bool(true), false),
    (
        "config.vpxd.hostPasswordLength",
        "Host password length",
        Int(8, 40, 32),
        false,
    ),
    (
        "config.vpxd.heartbeat.notRespondingTimeout",
        "Host not-responding timeout (s)",
        Int(30, 3600, 60),
        false,
    ),
    (
        "config.vpxd.stats.maxQueryMetrics",
        "Metrics per performance query",
        Int(-1, 2_147_483_647, 64),
        false,
    ),
    (
        "config.vpxd.sso.default.isGroup",
        "Default SSO principal is a group",
        Bool(false),
        false,
    ),
    (
        "config.registry.key_HttpProxyUrl",
        "HTTP proxy",
        Str(""),
        false,
    ),
    (
        "client.timeout.normal",
        "Normal operation timeout (s)",
        Int(1, 86_400, 30),
        false,
    ),
    (
        "client.timeout.long",
        "Long operation timeout (s)",
        Int(1, 86_400, 120),
        false,
    ),
    ("log.level", "Logging level", Str("info"), false),
    ("log.verbose", "Verbose logging", Bool(false), false),
    (
        "WebService.Ports.http",
        "HTTP port",
        Int(1, 65_535, 80),
        true,
    ),
    (
        "WebService.Ports.https",
        "HTTPS port",
        Int(1, 65_535, 443),
        true,
    ),
    ("mail.smtp.server", "Mail server", Str(""), false),
    (
        "mail.smtp.port",
        "Mail server port",
        Int(1, 65_535, 25),
        false,
    ),
    ("mail.sender", "Mail sender", Str(""), false),
    (
        "snmp.receiver.1.enabled",
        "SNMP receiver 1 enabled",
        Bool(true),
        false,
    ),
    (
        "snmp.receiver.1.name",
        "SNMP receiver 1 URL",
        Str(""),
        false,
    ),
    (
        "snmp.receiver.1.port",
        "SNMP receiver 1 port",
        Int(1, 65_535, 162),
        false,
    ),
    (
        "snmp.receiver.1.community",
        "SNMP receiver 1 community",
        Str("public"),
        false,
    ),
    (
        "snmp.receiver.2.enabled",
        "SNMP receiver 2 enabled",
        Bool(false),
        false,
    ),
    (
        "snmp.receiver.2.name",
        "SNMP receiver 2 URL",
        Str(""),
        false,
    ),
    (
        "snmp.receiver.2.port",
        "SNMP receiver 2 port",
        Int(1, 65_535, 162),
        false,
    ),
    (
        "snmp.receiver.2.community",
        "SNMP receiver 2 community",
        Str(""),
        false,
    ),
    (
        "ads.timeout",
        "Directory query timeout (s)",
        Int(1, 86_400, 60),
        false,
    ),
    (
        "ads.maxFetch",
        "Directory query limit",
        Int(0, 2_147_483_647, 5000),
        false,
    ),
];

/// ESXi's `HostAgentSettings` (hostd's own settings).
const HOST_AGENT: &[Def] = &[
    (
        "Config.HostAgent.log.level",
        "hostd log level",
        Str("info"),
        false,
    ),
    (
        "Config.HostAgent.plugins.solo.enableMob",
        "Managed object browser",
        Bool(false),
        false,
    ),
    (
        "Config.HostAgent.vmacore.soap.sessionTimeout",
        "API session timeout (min)",
        Int(0, 2_147_483_647, 30),
        false,
    ),
    (
        "Config.HostAgent.ssl.keyStore.allowSelfSigned",
        "Accept self-signed certificates",
        Bool(true),
        false,
    ),
];

/// A host's advanced options (`configManager.advancedOption`).
const HOST_ADVANCED: &[Def] = &[
    (
        "Annotations.WelcomeMessage",
        "Welcome message on the console",
        Str(""),
        false,
    ),
    (
        "BufferCache.SoftMaxDirty",
        "Dirty buffer flush threshold (%)",
        Long(0, 100, 15),
        false,
    ),
    (
        "Config.Defaults.security.host.ruissl",
        "Require SSL for the remote UI",
        Bool(true),
        false,
    ),
    ("Config.Etc.issue", "/etc/issue contents", Str(""), false),
    ("Config.Etc.motd", "/etc/motd contents", Str(""), false),
    (
        "Config.HostAgent.log.level",
        "hostd log level",
        Str("info"),
        false,
    ),
    (
        "Config.HostAgent.plugins.hostsvc.esxAdminsGroup",
        "Administrators group",
        Str("ESX Admins"),
        false,
    ),
    (
        "Config.HostAgent.plugins.solo.enableMob",
        "Managed object browser",
        Bool(false),
        false,
    ),
    (
        "Config.HostAgent.vmacore.soap.sessionTimeout",
        "API session timeout (min)",
        Int(0, 2_147_483_647, 30),
        false,
    ),
    (
        "Disk.MaxLUN",
        "Highest LUN scanned",
        Long(1, 16_384, 1024),
        false,
    ),
    (
        "Disk.SchedNumReqOutstanding",
        "Outstanding requests per disk",
        Long(1, 256, 32),
        false,
    ),
    (
        "Mem.AllocGuestLargePage",
        "Back guest memory with large pages",
        Long(0, 1, 1),
        false,
    ),
    (
        "Mem.MemZipEnable",
        "Memory compression",
        Long(0, 1, 1),
        false,
    ),
    (
        "Mem.ShareScanGHz",
        "Page sharing scan rate (GHz)",
        Long(0, 32, 4),
        false,
    ),
    (
        "Mem.ShareForceSalting",
        "Page sharing salting",
        Long(0, 2, 2),
        false,
    ),
    ("Misc.HostName", "Host name", Str("localhost"), false),
    (
        "Misc.LogToSerial",
        "Log to the serial port",
        Long(0, 1, 0),
        false,
    ),
    (
        "Misc.BlueScreenTimeout",
        "Seconds before rebooting after a crash",
        Long(0, 65_535, 0),
        false,
    ),
    ("NFS.MaxVolumes", "NFS mounts", Long(8, 256, 8), false),
    (
        "Net.BlockGuestBPDU",
        "Drop BPDUs from guests",
        Long(0, 1, 0),
        false,
    ),
    (
        "Net.TcpipHeapMax",
        "TCP/IP heap maximum (MB)",
        Long(32, 1576, 512),
        false,
    ),
    (
        "Net.TcpipHeapSize",
        "TCP/IP heap initial size (MB)",
        Long(0, 32, 0),
        false,
    ),
    (
        "Net.FollowHardwareMac",
        "Follow hardware MAC changes",
        Long(0, 1, 1),
        false,
    ),
    (
        "Security.AccountLockFailures",
        "Failed logins before lockout",
        Long(0, 99, 5),
        false,
    ),
    (
        "Security.AccountUnlockTime",
        "Lockout duration (s)",
        Long(0, 3600, 900),
        false,
    ),
    (
        "Security.PasswordQualityControl",
        "Password policy",
        Str("retry=3 min=disabled,disabled,disabled,7,7"),
        false,
    ),
    (
        "Syslog.global.logDir",
        "Log directory",
        Str("[] /scratch/log"),
        false,
    ),
    (
        "Syslog.global.logHost",
        "Remote syslog hosts",
        Str(""),
        false,
    ),
    (
        "UserVars.DcuiTimeOut",
        "DCUI idle timeout (s)",
        Long(0, 86_400, 600),
        false,
    ),
    (
        "UserVars.ESXiShellInteractiveTimeOut",
        "Shell idle timeout (s)",
        Long(0, 86_400, 0),
        false,
    ),
    (
        "UserVars.ESXiShellTimeOut",
        "Shell availability timeout (s)",
        Long(0, 86_400, 0),
        false,
    ),
    (
        "UserVars.HostClientCEIPOptIn",
        "Host client CEIP",
        Long(0, 2, 0),
        false,
    ),
    (
        "UserVars.SuppressShellWarning",
        "Hide the shell warning",
        Long(0, 1, 0),
        false,
    ),
    (
        "VMkernel.Boot.hyperthreading",
        "Hyperthreading",
        Bool(true),
        true,
    ),
];

/// The option values changed by `UpdateOptions`, by option manager id.
#[derive(Debug, Default)]
pub struct Options {
    changed: BTreeMap<String, BTreeMap<String, Any>>,
}

/// The id of host `host`'s advanced option manager (ESXi: `ha-adv-options`; vCenter:
/// `EsxHostAdvSettings-N` for `host-N`).
pub fn host_id(host: &MoRef) -> String {
    match host.value.strip_prefix("host-") {
        Some(n) => format!("EsxHostAdvSettings-{n}"),
        None => "ha-adv-options".to_owned(),
    }
}

/// The reference of host `host`'s advanced option manager.
pub fn host_ref(host: &MoRef) -> MoRef {
    moref("OptionManager", &host_id(host))
}

/// Creates host `host`'s advanced option manager (when the host is created).
pub fn insert_for_host(state: &mut State, host: &MoRef) {
    state.insert(&host_id(host), Mo::Manager("OptionManager"));
}

/// The definitions of option manager `id`.
fn defs(flavor: Flavor, id: &str) -> &'static [Def] {
    match (id, flavor) {
        ("VpxSettings" | "HostAgentSettings", Flavor::Vcenter) => VPX,
        ("VpxSettings" | "HostAgentSettings", Flavor::Esx) => HOST_AGENT,
        _ => HOST_ADVANCED,
    }
}

fn host_name_of(state: &State, id: &str) -> Option<String> {
    let host = match id.strip_prefix("EsxHostAdvSettings-") {
        Some(n) => moref("HostSystem", &format!("host-{n}")),
        None if id == "ha-adv-options" => moref("HostSystem", "ha-host"),
        None => return None,
    };
    state.name_of(&host)
}

fn default_value(state: &State, id: &str, key: &str, ty: Ty) -> Any {
    match ty {
        Bool(b) => Any::Boolean(b),
        Int(_, _, d) => Any::Int(d),
        Long(_, _, d) => Any::Long(d),
        Str(_) if key == "Misc.HostName" => {
            let name = host_name_of(state, id).unwrap_or_default();
            Any::String(name.split('.').next().unwrap_or("localhost").to_owned())
        }
        Str(s) => Any::String(s.to_owned()),
    }
}

fn option_def(d: &Def) -> OptionDef {
    let (key, label, ty, ro) = *d;
    let readonly = ro.then_some(true);
    let option_type = match ty {
        Bool(b) => BaseOptionType::from(BoolOption {
            value_is_readonly: readonly,
            supported: true,
            default_value: b,
        }),
        Int(min, max, default_value) => BaseOptionType::from(IntOption {
            value_is_readonly: readonly,
            min,
            max,
            default_value,
        }),
        Long(min, max, default_value) => BaseOptionType::from(LongOption {
            value_is_readonly: readonly,
            min,
            max,
            default_value,
        }),
        Str(s) => BaseOptionType::from(StringOption {
            value_is_readonly: readonly,
            default_value: s.to_owned(),
            valid_characters: None,
        }),
    };
    OptionDef {
        label: label.to_owned(),
        summary: label.to_owned(),
        key: key.to_owned(),
        option_type,
    }
}

/// Every current value of option manager `id`, sorted by key.
fn values(state: &State, id: &str) -> Vec<OptionValue> {
    let changed = state.managers.options.changed.get(id);
    let mut all: BTreeMap<String, Any> = defs(state.flavor(), id)
        .iter()
        .map(|(k, _, ty, _)| (k.to_string(), default_value(state, id, k, *ty)))
        .collect();
    if let Some(c) = changed {
        all.extend(c.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    all.into_iter()
        .map(|(key, v)| OptionValue {
            key,
            value: Some(v),
        })
        .collect()
}

/// Properties of an option manager.
pub fn property(state: &State, r: &MoRef, name: &str) -> Top {
    Some(match name {
        "setting" => Some(Any::from(ArrayOfOptionValue {
            option_value: values(state, &r.value)
                .into_iter()
                .map(BaseOptionValue::from)
                .collect(),
        })),
        "supportedOption" => Some(Any::from(ArrayOfOptionDef {
            option_def: defs(state.flavor(), &r.value)
                .iter()
                .map(option_def)
                .collect(),
        })),
        _ => return None,
    })
}

fn invalid_name(name: &str, r: &MoRef) -> Fault {
    Fault::new(
        InvalidName {
            name: name.to_owned(),
            entity: Some(r.clone()),
            ..Default::default()
        },
        format!("A specified parameter was not correct: {name}"),
    )
}

/// `QueryOptions`: every option (no name), the ones under a prefix ending in ".", or one.
pub fn query(state: &State, r: &MoRef, name: Option<&str>) -> MethodResult<Vec<OptionValue>> {
    let all = values(state, &r.value);
    let hits: Vec<OptionValue> = match name.unwrap_or("") {
        "" => all,
        p if p.ends_with('.') => all.into_iter().filter(|v| v.key.starts_with(p)).collect(),
        n => all.into_iter().filter(|v| v.key == n).collect(),
    };
    if hits.is_empty() {
        return Err(invalid_name(name.unwrap_or(""), r));
    }
    Ok(hits)
}

/// Checks `v` against the definition's type: the value as it will be stored.
fn checked(key: &str, ty: Ty, ro: bool, v: Option<&Any>) -> MethodResult<Any> {
    let bad = || Fault::invalid_argument(key);
    if ro {
        return Err(bad());
    }
    Ok(match (ty, v) {
        (Bool(_), Some(Any::Boolean(b))) => Any::Boolean(*b),
        (Int(min, max, _), Some(Any::Int(n))) if (min..=max).contains(n) => Any::Int(*n),
        (Long(min, max, _), Some(Any::Long(n))) if (min..=max).contains(n) => Any::Long(*n),
        (Long(min, max, _), Some(Any::Int(n))) if (min..=max).contains(&i64::from(*n)) => {
            Any::Long(i64::from(*n))
        }
        (Str(_), Some(Any::String(s))) => Any::String(s.clone()),
        _ => return Err(bad()),
    })
}

/// `UpdateOptions`: all values are checked first; nothing changes if one is wrong. vCenter's
/// settings accept new keys (string values), as its advanced settings do.
pub fn update(state: &mut State, r: &MoRef, changes: &[BaseOptionValue]) -> MethodResult<()> {
    let defs = defs(state.flavor(), &r.value);
    let open = r.value == "VpxSettings";
    let mut staged = Vec::new();
    for c in changes {
        let BaseOptionValue::OptionValue(c) = c else {
            return Err(Fault::invalid_argument("changedValue"));
        };
        let v = match defs.iter().find(|d| d.0 == c.key) {
            Some((key, _, ty, ro)) => checked(key, *ty, *ro, c.value.as_ref())?,
            None if open && !c.key.is_empty() => match &c.value {
                Some(Any::String(s)) => Any::String(s.clone()),
                _ => return Err(Fault::invalid_argument(&c.key)),
            },
            None => return Err(invalid_name(&c.key, r)),
        };
        staged.push((c.key.clone(), v));
    }
    let slot = state
        .managers
        .options
        .changed
        .entry(r.value.clone())
        .or_default();
    slot.extend(staged);
    Ok(())
}

fn check_this(state: &State, this: &MoRef) -> MethodResult<()> {
    match state.lookup(this)? {
        Mo::Manager("OptionManager") => Ok(()),
        _ => Err(Fault::not_found(this)),
    }
}

/// Whether `method` is the option manager's read (`QueryOptions`).
pub fn is_read(method: &str) -> bool {
    method == "QueryOptions"
}

/// `QueryOptions`.
pub fn handle_read(state: &State, _ctx: &Ctx, req: &Request) -> Option<MethodResult<Response>> {
    let Request::QueryOptions(q) = req else {
        return None;
    };
    Some((|| {
        check_this(state, &q.this)?;
        let returnval = query(state, &q.this, q.name.as_deref())?
            .into_iter()
            .map(BaseOptionValue::from)
            .collect();
        Ok(Response::QueryOptions(Box::new(
            esx_vim::QueryOptionsResponse { returnval },
        )))
    })())
}

/// `UpdateOptions`; gives any other request back.
pub fn handle(
    state: &mut State,
    _ctx: &Ctx,
    req: Request,
) -> Result<MethodResult<Response>, Request> {
    let Request::UpdateOptions(q) = req else {
        return Err(req);
    };
    Ok((|| {
        check_this(state, &q.this)?;
        update(state, &q.this, &q.changed_value)?;
        Ok(Response::UpdateOptions(Box::new(
            esx_vim::UpdateOptionsResponse {},
        )))
    })())
}
