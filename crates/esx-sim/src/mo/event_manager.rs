//! `EventManager` and `EventHistoryCollector`: the events recorded for what happened (power
//! operations, VMs created, registered, reconfigured and removed, logins and logouts),
//! `QueryEvents`, and collectors with a `latestPage` and a scrollable view.

use esx_vim::{
    Any, ArrayOfEvent, BaseElementDescription, BaseEvent, DatacenterEventArgument, DateTime,
    ElementDescription, EventDescription, EventDescriptionEventDetail, EventFilterSpec,
    EventFilterSpecRecursionOption, HostEventArgument, UserLoginSessionEvent,
    UserLogoutSessionEvent, VmCreatedEvent, VmEventArgument, VmPoweredOffEvent, VmPoweredOnEvent,
    VmReconfiguredEvent, VmRegisteredEvent, VmRemovedEvent, VmResettingEvent, VmSuspendedEvent,
};

use crate::fault::{Fault, MethodResult};
use crate::property::Top;
use crate::state::{moref, now, Mo, MoRef, State};

/// Events kept; older ones are dropped.
pub const KEPT: usize = 1000;

/// Largest page a collector or a `ReadNext`/`ReadPrevious` call returns.
pub const MAX_PAGE: usize = 1000;

/// What happened to a VM.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VmChange {
    /// Powered on.
    PoweredOn,
    /// Powered off.
    PoweredOff,
    /// Suspended.
    Suspended,
    /// Reset.
    Reset,
    /// Created.
    Created,
    /// Registered.
    Registered,
    /// Reconfigured.
    Reconfigured,
    /// Removed (destroyed or unregistered).
    Removed,
}

impl VmChange {
    fn type_id(self) -> &'static str {
        match self {
            VmChange::PoweredOn => "VmPoweredOnEvent",
            VmChange::PoweredOff => "VmPoweredOffEvent",
            VmChange::Suspended => "VmSuspendedEvent",
            VmChange::Reset => "VmResettingEvent",
            VmChange::Created => "VmCreatedEvent",
            VmChange::Registered => "VmRegisteredEvent",
            VmChange::Reconfigured => "VmReconfiguredEvent",
            VmChange::Removed => "VmRemovedEvent",
        }
    }
}

/// One recorded event with what filters look at.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// `key`.
    pub key: i32,
    /// `chainId`.
    pub chain_id: i32,
    /// `createdTime`.
    pub created: DateTime,
    /// `userName`.
    pub user: String,
    /// The event's type name.
    pub type_id: &'static str,
    /// The entities it is about (VM, host, datacenter).
    pub entities: Vec<MoRef>,
    /// The event.
    pub event: BaseEvent,
    /// The same event as an `xsd:anyType` value.
    pub any: Any,
}

/// The fields every event shares.
struct Common {
    key: i32,
    created: DateTime,
    user: String,
    datacenter: Option<DatacenterEventArgument>,
    host: Option<HostEventArgument>,
    vm: Option<VmEventArgument>,
    message: String,
}

macro_rules! event {
    ($ty:ident, $c:expr) => {{
        let c = $c;
        let e = $ty {
            key: c.key,
            chain_id: c.key,
            created_time: c.created,
            user_name: c.user.clone(),
            datacenter: c.datacenter.clone(),
            host: c.host.clone(),
            vm: c.vm.clone(),
            full_formatted_message: Some(c.message.clone()),
            ..Default::default()
        };
        (BaseEvent::from(e.clone()), Any::from(e))
    }};
}

fn push(state: &mut State, type_id: &'static str, entities: Vec<MoRef>, c: Common) {
    let (event, any) = match type_id {
        "VmPoweredOnEvent" => event!(VmPoweredOnEvent, &c),
        "VmPoweredOffEvent" => event!(VmPoweredOffEvent, &c),
        "VmSuspendedEvent" => event!(VmSuspendedEvent, &c),
        "VmResettingEvent" => event!(VmResettingEvent, &c),
        "VmCreatedEvent" => event!(VmCreatedEvent, &c),
        "VmRegisteredEvent" => event!(VmRegisteredEvent, &c),
        "VmReconfiguredEvent" => event!(VmReconfiguredEvent, &c),
        "VmRemovedEvent" => event!(VmRemovedEvent, &c),
        "UserLogoutSessionEvent" => event!(UserLogoutSessionEvent, &c),
        _ => event!(UserLoginSessionEvent, &c),
    };
    keep(
        state,
        Recorded {
            key: c.key,
            chain_id: c.key,
            created: c.created,
            user: c.user,
            type_id,
            entities,
            event,
            any,
        },
    );
}

/// Records `event`, keeping only the last [`KEPT`].
fn keep(state: &mut State, event: Recorded) {
    state.events.push(event);
    if state.events.len() > KEPT {
        let extra = state.events.len() - KEPT;
        state.events.drain(..extra);
    }
}

fn datacenter_of(state: &State, r: &MoRef) -> Option<(MoRef, String)> {
    let mut cur = state.parent_of(r);
    for _ in 0..64 {
        let p = cur?;
        if p.r#type == "Datacenter" {
            let name = state.name_of(&p).unwrap_or_default();
            return Some((p, name));
        }
        cur = state.parent_of(&p);
    }
    None
}

/// Records that `vm` changed, by `user`. Call it while the VM is still in the inventory.
pub fn record_vm(state: &mut State, change: VmChange, vm: &MoRef, user: &str) {
    let Ok(v) = state.vm(vm) else { return };
    let (name, host_ref) = (v.name.clone(), v.host.clone());
    let host_name = state.name_of(&host_ref).unwrap_or_default();
    let dc = datacenter_of(state, vm);
    let dc_name = dc.as_ref().map(|d| d.1.clone()).unwrap_or_default();
    let key = state.new_number() as i32;
    let mut entities = vec![vm.clone(), host_ref.clone()];
    if let Some((d, _)) = &dc {
        entities.push(d.clone());
    }
    let common = Common {
        key,
        created: now(),
        user: user.to_owned(),
        datacenter: dc.map(|(datacenter, name)| DatacenterEventArgument { name, datacenter }),
        host: Some(HostEventArgument {
            name: host_name.clone(),
            host: host_ref,
        }),
        vm: Some(VmEventArgument {
            name: name.clone(),
            vm: vm.clone(),
        }),
        message: format_message(change.type_id())
            .replace("{vm.name}", &name)
            .replace("{host.name}", &host_name)
            .replace("{datacenter.name}", &dc_name),
    };
    push(state, change.type_id(), entities, common);
}

/// Records that `vm` moved from `source_host` (and `source_ds`) to where it is now:
/// `VmMigratedEvent` after `MigrateVM_Task`, `VmRelocatedEvent` after `RelocateVM_Task`.
pub fn record_moved(
    state: &mut State,
    vm: &MoRef,
    user: &str,
    relocated: bool,
    source_host: &MoRef,
    source_ds: Option<&MoRef>,
) {
    let Ok(v) = state.vm(vm) else { return };
    let (name, host_ref) = (v.name.clone(), v.host.clone());
    let host_name = state.name_of(&host_ref).unwrap_or_default();
    let source_name = state.name_of(source_host).unwrap_or_default();
    let dc = datacenter_of(state, vm);
    let key = state.new_number() as i32;
    let mut entities = vec![vm.clone(), host_ref.clone(), source_host.clone()];
    if let Some((d, _)) = &dc {
        entities.push(d.clone());
    }
    let type_id = if relocated {
        "VmRelocatedEvent"
    } else {
        "VmMigratedEvent"
    };
    let message = format_message(type_id)
        .replace("{vm.name}", &name)
        .replace("{host.name}", &host_name)
        .replace("{sourceHost.name}", &source_name);
    let datacenter = dc.map(|(datacenter, name)| DatacenterEventArgument { name, datacenter });
    let source_datastore = source_ds.map(|d| esx_vim::DatastoreEventArgument {
        name: state.name_of(d).unwrap_or_default(),
        datastore: d.clone(),
    });
    let source = HostEventArgument {
        name: source_name,
        host: source_host.clone(),
    };
    let created = now();
    macro_rules! moved {
        ($ty:ident) => {{
            let e = esx_vim::$ty {
                key,
                chain_id: key,
                created_time: created,
                user_name: user.to_owned(),
                datacenter: datacenter.clone(),
                host: Some(HostEventArgument {
                    name: host_name.clone(),
                    host: host_ref.clone(),
                }),
                vm: Some(VmEventArgument {
                    name: name.clone(),
                    vm: vm.clone(),
                }),
                full_formatted_message: Some(message.clone()),
                source_host: source.clone(),
                source_datacenter: datacenter.clone(),
                source_datastore: source_datastore.clone(),
                ..Default::default()
            };
            (BaseEvent::from(e.clone()), Any::from(e))
        }};
    }
    let (event, any) = if relocated {
        moved!(VmRelocatedEvent)
    } else {
        moved!(VmMigratedEvent)
    };
    keep(
        state,
        Recorded {
            key,
            chain_id: key,
            created,
            user: user.to_owned(),
            type_id,
            entities,
            event,
            any,
        },
    );
}

/// Records a login (`logout` false) or logout of `user`.
pub fn record_session(state: &mut State, user: &str, logout: bool) {
    let key = state.new_number() as i32;
    let (type_id, message) = if logout {
        ("UserLogoutSessionEvent", format!("User {user} logged out"))
    } else {
        (
            "UserLoginSessionEvent",
            format!("User {user}@127.0.0.1 logged in as esx-sim"),
        )
    };
    let common = Common {
        key,
        created: now(),
        user: user.to_owned(),
        datacenter: None,
        host: None,
        vm: None,
        message,
    };
    push(state, type_id, Vec::new(), common);
}

/// Whether `entity` is `target` or (with recursion) one of its ancestors.
fn covers(
    state: &State,
    entity: &MoRef,
    recursion: &EventFilterSpecRecursionOption,
    target: &MoRef,
) -> bool {
    if entity == target {
        return !matches!(recursion, EventFilterSpecRecursionOption::Children);
    }
    if matches!(recursion, EventFilterSpecRecursionOption::SelfValue) {
        return false;
    }
    let mut cur = state.parent_of(target);
    let mut depth = 0;
    while let Some(p) = cur {
        depth += 1;
        if &p == entity {
            return depth == 1 || matches!(recursion, EventFilterSpecRecursionOption::All);
        }
        if depth > 64 {
            break;
        }
        cur = state.parent_of(&p);
    }
    false
}

/// Whether an event passes a filter.
pub fn matches(state: &State, f: &EventFilterSpec, e: &Recorded) -> bool {
    if let Some(by) = &f.entity {
        let root = state.parent_of(&by.entity).is_none() && by.entity.r#type == "Folder";
        let ok = (root && !matches!(by.recursion, EventFilterSpecRecursionOption::SelfValue))
            || e.entities
                .iter()
                .any(|t| covers(state, &by.entity, &by.recursion, t));
        if !ok {
            return false;
        }
    }
    let types: Vec<&String> = f.event_type_id.iter().chain(f.r#type.iter()).collect();
    if !types.is_empty() && !types.iter().any(|t| t.as_str() == e.type_id) {
        return false;
    }
    if let Some(c) = f.event_chain_id {
        if c != e.chain_id {
            return false;
        }
    }
    if let Some(t) = &f.time {
        if t.begin_time.is_some_and(|b| e.created < b) || t.end_time.is_some_and(|x| e.created > x)
        {
            return false;
        }
    }
    if let Some(u) = &f.user_name {
        if !u.user_list.is_empty() && !u.user_list.contains(&e.user) {
            return false;
        }
    }
    if !f.category.is_empty() && !f.category.iter().any(|c| c == "info") {
        return false;
    }
    true
}

/// `QueryEvents`: the matching events, oldest first, the newest `maxCount` when given.
pub fn query(state: &State, f: &EventFilterSpec) -> Vec<BaseEvent> {
    let hits: Vec<&Recorded> = state
        .events
        .iter()
        .filter(|e| matches(state, f, e))
        .collect();
    let skip = match f.max_count {
        Some(n) if n >= 0 => hits.len().saturating_sub(n as usize),
        _ => 0,
    };
    hits.into_iter()
        .skip(skip)
        .map(|e| e.event.clone())
        .collect()
}

/// An `EventHistoryCollector`.
#[derive(Debug, Clone)]
pub struct CollectorMo {
    /// The filter it was created with.
    pub filter: EventFilterSpec,
    /// Size of `latestPage`.
    pub page_size: usize,
    /// Position of the scrollable view: the key after which `ReadNextEvents` continues.
    pub after: i32,
    /// Position for `ReadPreviousEvents`: the key before which it continues.
    pub before: i32,
}

/// `CreateCollectorForEvents`.
pub fn create_collector(state: &mut State, filter: EventFilterSpec) -> MethodResult<MoRef> {
    let n = state
        .objects
        .values()
        .filter(|m| matches!(m, Mo::EventCollector(_)))
        .count();
    if n >= 32 {
        return Err(Fault::invalid_state(
            "Too many event collectors; destroy some first.",
        ));
    }
    if filter.max_count.is_some_and(|m| m < 0) {
        return Err(Fault::invalid_argument("filter.maxCount"));
    }
    let id = state.new_id("session[esx-sim]event");
    state.insert(
        &id,
        Mo::EventCollector(CollectorMo {
            filter,
            page_size: 10,
            after: i32::MIN,
            before: i32::MAX,
        }),
    );
    Ok(moref("EventHistoryCollector", &id))
}

fn collector_mut<'a>(state: &'a mut State, r: &MoRef) -> MethodResult<&'a mut CollectorMo> {
    match state.lookup_mut(r)? {
        Mo::EventCollector(c) => Ok(c),
        _ => Err(Fault::not_found(r)),
    }
}

fn page_len(n: i32, what: &str) -> MethodResult<usize> {
    if n <= 0 || n as usize > MAX_PAGE {
        return Err(Fault::invalid_argument(what));
    }
    Ok(n as usize)
}

/// `SetCollectorPageSize`.
pub fn set_page_size(state: &mut State, r: &MoRef, n: i32) -> MethodResult<()> {
    let n = if n == 0 { 0 } else { page_len(n, "maxCount")? };
    collector_mut(state, r)?.page_size = n;
    Ok(())
}

/// `RewindCollector` (`rewind` true: back to the oldest) or `ResetCollector` (to the newest).
pub fn reposition(state: &mut State, r: &MoRef, rewind: bool) -> MethodResult<()> {
    let last = state.events.last().map(|e| e.key).unwrap_or(i32::MIN);
    let c = collector_mut(state, r)?;
    if rewind {
        c.after = i32::MIN;
        c.before = i32::MIN;
    } else {
        c.after = last;
        c.before = last.saturating_add(1);
    }
    Ok(())
}

/// `ReadNextEvents` (`next` true) or `ReadPreviousEvents`.
pub fn read(state: &mut State, r: &MoRef, n: i32, next: bool) -> MethodResult<Vec<BaseEvent>> {
    let n = page_len(n, "maxCount")?;
    let c = match state.lookup(r)? {
        Mo::EventCollector(c) => c.clone(),
        _ => return Err(Fault::not_found(r)),
    };
    let hits: Vec<&Recorded> = state
        .events
        .iter()
        .filter(|e| matches(state, &c.filter, e))
        .collect();
    let page: Vec<&Recorded> = if next {
        hits.into_iter()
            .filter(|e| e.key > c.after)
            .take(n)
            .collect()
    } else {
        let older: Vec<&Recorded> = hits.into_iter().filter(|e| e.key < c.before).collect();
        let skip = older.len().saturating_sub(n);
        older.into_iter().skip(skip).collect()
    };
    let (first, last) = (page.first().map(|e| e.key), page.last().map(|e| e.key));
    let out: Vec<BaseEvent> = page.into_iter().map(|e| e.event.clone()).collect();
    let col = collector_mut(state, r)?;
    if next {
        if let Some(k) = last {
            col.after = k;
            col.before = k.saturating_add(1);
        }
    } else if let Some(k) = first {
        col.before = k;
        col.after = k.saturating_sub(1);
    }
    Ok(out)
}

/// Properties of a collector: `latestPage` (newest first) and `filter`.
pub fn collector_property(state: &State, c: &CollectorMo, name: &str) -> Top {
    Some(match name {
        "latestPage" => {
            let hits: Vec<&Recorded> = state
                .events
                .iter()
                .filter(|e| matches(state, &c.filter, e))
                .collect();
            let skip = hits.len().saturating_sub(c.page_size);
            let event: Vec<BaseEvent> = hits
                .into_iter()
                .skip(skip)
                .rev()
                .map(|e| e.event.clone())
                .collect();
            Some(Any::from(ArrayOfEvent { event }))
        }
        "filter" => Some(Any::from(c.filter.clone())),
        _ => return None,
    })
}

const KNOWN: [(&str, &str); 12] = [
    (
        "VmMigratedEvent",
        "Migration of virtual machine {vm.name} from {sourceHost.name} to {host.name} completed",
    ),
    (
        "VmRelocatedEvent",
        "Completed the relocation of the virtual machine {vm.name} from {sourceHost.name} to {host.name}",
    ),
    (
        "VmPoweredOnEvent",
        "{vm.name} on {host.name} in {datacenter.name} is powered on",
    ),
    (
        "VmPoweredOffEvent",
        "{vm.name} on {host.name} in {datacenter.name} is powered off",
    ),
    (
        "VmSuspendedEvent",
        "{vm.name} on {host.name} in {datacenter.name} is suspended",
    ),
    (
        "VmResettingEvent",
        "{vm.name} on {host.name} in {datacenter.name} is reset",
    ),
    (
        "VmCreatedEvent",
        "Created virtual machine {vm.name} on {host.name} in {datacenter.name}",
    ),
    (
        "VmRegisteredEvent",
        "Registered {vm.name} on {host.name} in {datacenter.name}",
    ),
    (
        "VmReconfiguredEvent",
        "Reconfigured {vm.name} on {host.name} in {datacenter.name}",
    ),
    (
        "VmRemovedEvent",
        "Removed {vm.name} on {host.name} from {datacenter.name}",
    ),
    (
        "UserLoginSessionEvent",
        "User {userName}@{ipAddress} logged in as {userAgent}",
    ),
    ("UserLogoutSessionEvent", "User {userName} logged out"),
];

/// The `fullFormat` of a recorded event type.
fn format_message(type_id: &str) -> &'static str {
    KNOWN
        .iter()
        .find(|(k, _)| *k == type_id)
        .map(|(_, f)| *f)
        .unwrap_or("")
}

fn description() -> EventDescription {
    let category = ["info", "warning", "error", "user"]
        .iter()
        .map(|k| {
            BaseElementDescription::from(ElementDescription {
                key: (*k).to_owned(),
                label: (*k).to_owned(),
                summary: (*k).to_owned(),
            })
        })
        .collect();
    let event_info = KNOWN
        .iter()
        .map(|(key, format)| EventDescriptionEventDetail {
            key: (*key).to_owned(),
            description: Some((*key).to_owned()),
            category: "info".to_owned(),
            full_format: (*format).to_owned(),
            ..Default::default()
        })
        .collect();
    EventDescription {
        category,
        event_info,
        ..Default::default()
    }
}

/// Properties of the event manager.
pub fn property(state: &State, name: &str) -> Top {
    Some(match name {
        "latestEvent" => state.events.last().map(|e| e.any.clone()),
        "maxCollector" => Some(Any::Int(32)),
        "description" => Some(Any::from(description())),
        _ => return None,
    })
}
