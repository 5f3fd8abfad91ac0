//! `AlarmManager` and `Alarm`: vCenter's default alarm set on the root folder, alarms created,
//! changed and removed by clients, and the alarm states entities show.
//!
//! An alarm defined on an entity applies to that entity and everything below it whose type its
//! expression names. Two kinds of expression are evaluated against the simulated inventory:
//! a `StateAlarmExpression` on a property path the simulator models (e.g. a host's
//! `runtime.powerState`, a VM's `runtime.powerState`), and the datastore usage metric of the
//! default "Datastore usage on disk" alarm (used share of the capacity, in hundredths of a
//! percent, as vSphere counts `disk.used`). Other metric and event expressions are stored and
//! listed but never trigger. ESXi has the manager but no alarms, as a real host.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;

use esx_vim::{
    AlarmDescription, AlarmInfo, AlarmSetting, AlarmSpec, AlarmState, Any, ArrayOfAlarmState,
    BaseAlarmExpression, BaseAlarmSpec, BaseElementDescription, BaseTypeDescription, DateTime,
    ElementDescription, ManagedEntityStatus, MetricAlarmExpression, MetricAlarmOperator,
    PerfMetricId, Request, Response, StateAlarmExpression, StateAlarmOperator, TypeDescription,
};

use crate::config::Flavor;
use crate::fault::{Fault, MethodResult};
use crate::property::Top;
use crate::state::{is_a, moref, Ctx, Mo, MoRef, State};

/// One alarm's definition.
#[derive(Debug, Clone)]
pub struct Defined {
    /// What the client (or the default set) specified.
    pub spec: AlarmSpec,
    /// The entity it is defined on.
    pub entity: MoRef,
    /// When and by whom it was last changed.
    pub modified: (DateTime, String),
    /// The event that recorded its creation (0 for the default set).
    pub creation_event_id: i32,
}

/// Alarms and their acknowledgements (a field of [`crate::managers::Managers`]).
#[derive(Debug, Default)]
pub struct Alarms {
    /// Alarm id → definition.
    pub defined: BTreeMap<String, Defined>,
    /// (alarm id, entity id) → who acknowledged the triggered state, and when.
    pub acknowledged: HashMap<(String, String), (String, DateTime)>,
    /// Entities whose alarm actions are disabled.
    pub actions_disabled: HashSet<String>,
    /// When each triggered state (alarm id, entity id) was first seen, so its `time` stays put.
    pub first_seen: Mutex<HashMap<(String, String), DateTime>>,
    /// The next alarm number.
    pub next: u32,
}

fn now() -> DateTime {
    crate::state::now()
}

fn metric(counter: i32) -> PerfMetricId {
    PerfMetricId {
        counter_id: counter,
        instance: String::new(),
    }
}

/// The default alarm set of a fresh vCenter (a subset): name, description, expression.
fn defaults() -> Vec<(&'static str, &'static str, BaseAlarmExpression)> {
    let state = |ty: &str, path: &str, red: &str| {
        BaseAlarmExpression::from(StateAlarmExpression {
            operator: StateAlarmOperator::IsEqual,
            r#type: ty.to_owned(),
            state_path: path.to_owned(),
            yellow: None,
            red: Some(red.to_owned()),
        })
    };
    let usage = |ty: &str, counter: i32, yellow: i32, red: i32| {
        BaseAlarmExpression::from(MetricAlarmExpression {
            operator: MetricAlarmOperator::IsAbove,
            r#type: ty.to_owned(),
            metric: metric(counter),
            yellow: Some(yellow),
            yellow_interval: Some(300),
            red: Some(red),
            red_interval: Some(300),
        })
    };
    vec![
        (
            "Host connection and power state",
            "Default alarm to monitor host connection and power state",
            state("HostSystem", "runtime.powerState", "poweredOff"),
        ),
        (
            "Datastore usage on disk",
            "Default alarm to monitor datastore disk usage",
            usage("Datastore", DATASTORE_USED, 7500, 8500),
        ),
        (
            "Host CPU usage",
            "Default alarm to monitor host CPU usage",
            usage("HostSystem", 2, 7500, 9000),
        ),
        (
            "Host memory usage",
            "Default alarm to monitor host memory usage",
            usage("HostSystem", 24, 9000, 9500),
        ),
        (
            "Virtual machine CPU usage",
            "Default alarm to monitor virtual machine CPU usage",
            usage("VirtualMachine", 2, 7500, 9000),
        ),
        (
            "Virtual machine memory usage",
            "Default alarm to monitor virtual machine memory usage",
            usage("VirtualMachine", 24, 8500, 9500),
        ),
    ]
}

/// The counter the default datastore alarm watches (`disk.used.latest`, in vSphere's numbering).
const DATASTORE_USED: i32 = 240;

/// Creates the default alarm set (vCenter) and the `Alarm` objects (at start-up).
pub fn insert(state: &mut State) {
    if state.flavor() != Flavor::Vcenter {
        return;
    }
    let root = crate::mo::service_instance::content(state).root_folder;
    for (name, description, expression) in defaults() {
        let spec = AlarmSpec {
            name: name.to_owned(),
            system_name: Some(format!("alarm.{}", name.replace(' ', ""))),
            description: description.to_owned(),
            enabled: true,
            expression,
            action: None,
            action_frequency: Some(0),
            setting: Some(AlarmSetting {
                tolerance_range: 0,
                reporting_frequency: 300,
            }),
        };
        add(state, &root, spec, "", 0);
    }
}

fn add(state: &mut State, entity: &MoRef, spec: AlarmSpec, user: &str, event: i32) -> MoRef {
    let a = &mut state.managers.alarms;
    a.next += 1;
    let id = format!("alarm-{}", a.next);
    a.defined.insert(
        id.clone(),
        Defined {
            spec,
            entity: entity.clone(),
            modified: (now(), user.to_owned()),
            creation_event_id: event,
        },
    );
    state.insert(&id, Mo::Manager("Alarm"));
    moref("Alarm", &id)
}

fn info(id: &str, d: &Defined) -> AlarmInfo {
    let s = &d.spec;
    AlarmInfo {
        name: s.name.clone(),
        system_name: s.system_name.clone(),
        description: s.description.clone(),
        enabled: s.enabled,
        expression: s.expression.clone(),
        action: s.action.clone(),
        action_frequency: s.action_frequency,
        setting: s.setting.clone(),
        key: id.to_owned(),
        alarm: moref("Alarm", id),
        entity: d.entity.clone(),
        last_modified_time: d.modified.0,
        last_modified_user: d.modified.1.clone(),
        creation_event_id: d.creation_event_id,
    }
}

/// `Alarm`'s properties.
pub fn alarm_property(state: &State, r: &MoRef, name: &str) -> Top {
    let d = state.managers.alarms.defined.get(&r.value)?;
    match name {
        "info" => Some(Some(Any::from(info(&r.value, d)))),
        _ => None,
    }
}

fn described(key: &str, label: &str) -> BaseElementDescription {
    BaseElementDescription::from(ElementDescription {
        key: key.to_owned(),
        label: label.to_owned(),
        summary: label.to_owned(),
    })
}

/// `AlarmManager`'s properties.
pub fn property(name: &str) -> Top {
    Some(match name {
        "defaultExpression" => Some(Any::from(esx_vim::ArrayOfAlarmExpression {
            alarm_expression: defaults().into_iter().map(|(_, _, e)| e).collect(),
        })),
        "description" => Some(Any::from(AlarmDescription {
            expr: [
                ("StateAlarmExpression", "State"),
                ("MetricAlarmExpression", "Metric"),
                ("EventAlarmExpression", "Event"),
                ("AndAlarmExpression", "All of"),
                ("OrAlarmExpression", "Any of"),
            ]
            .into_iter()
            .map(|(k, l)| {
                BaseTypeDescription::from(TypeDescription {
                    key: k.to_owned(),
                    label: l.to_owned(),
                    summary: l.to_owned(),
                })
            })
            .collect(),
            state_operator: vec![
                described("isEqual", "Is equal to"),
                described("isUnequal", "Is not equal to"),
            ],
            metric_operator: vec![
                described("isAbove", "Is above"),
                described("isBelow", "Is below"),
            ],
            entity_status: ["gray", "green", "yellow", "red"]
                .into_iter()
                .map(|s| described(s, s))
                .collect(),
            ..Default::default()
        })),
        _ => return None,
    })
}

fn expression_type(e: &BaseAlarmExpression) -> Option<&str> {
    match e {
        BaseAlarmExpression::StateAlarmExpression(s) => Some(&s.r#type),
        BaseAlarmExpression::MetricAlarmExpression(m) => Some(&m.r#type),
        BaseAlarmExpression::EventAlarmExpression(e) => e.object_type.as_deref(),
        _ => None,
    }
}

/// The alarms that apply to `r` (defined on it or an ancestor, for its type), by id.
fn applicable<'s>(state: &'s State, r: &MoRef) -> Vec<(&'s String, &'s Defined)> {
    let line = state.lineage(r);
    state
        .managers
        .alarms
        .defined
        .iter()
        .filter(|(_, d)| line.contains(&d.entity))
        .filter(|(_, d)| expression_type(&d.spec.expression).is_none_or(|t| is_a(&r.r#type, t)))
        .collect()
}

/// The status `d` gives `r` now (green when it does not trigger or cannot be evaluated).
fn evaluate(state: &State, r: &MoRef, d: &Defined) -> ManagedEntityStatus {
    if !d.spec.enabled {
        return ManagedEntityStatus::Gray;
    }
    match &d.spec.expression {
        BaseAlarmExpression::StateAlarmExpression(s) => {
            let value = crate::property::read(state, &Ctx::default(), r, &s.state_path)
                .ok()
                .flatten()
                .map(|v| text(&v));
            let hit = |want: &Option<String>| match (want, &value) {
                (Some(w), Some(v)) => (v == w) == (s.operator == StateAlarmOperator::IsEqual),
                _ => false,
            };
            if hit(&s.red) {
                ManagedEntityStatus::Red
            } else if hit(&s.yellow) {
                ManagedEntityStatus::Yellow
            } else {
                ManagedEntityStatus::Green
            }
        }
        BaseAlarmExpression::MetricAlarmExpression(m)
            if m.metric.counter_id == DATASTORE_USED && r.r#type == "Datastore" =>
        {
            let Some(Mo::Datastore(ds)) = state.objects.get(&r.value) else {
                return ManagedEntityStatus::Green;
            };
            let capacity = ds.capacity.max(1);
            let used = capacity.saturating_sub(ds.free());
            let share = (used.saturating_mul(10_000) / capacity) as i32;
            let above = |t: Option<i32>| match (t, &m.operator) {
                (Some(t), MetricAlarmOperator::IsAbove) => share > t,
                (Some(t), MetricAlarmOperator::IsBelow) => share < t,
                _ => false,
            };
            if above(m.red) {
                ManagedEntityStatus::Red
            } else if above(m.yellow) {
                ManagedEntityStatus::Yellow
            } else {
                ManagedEntityStatus::Green
            }
        }
        _ => ManagedEntityStatus::Green,
    }
}

/// A property value as the text a `StateAlarmExpression` compares (enum names, strings).
fn text(v: &Any) -> String {
    let mut w = esx_vim::codec::Encoder::new();
    v.encode_element(&mut w, "v");
    let xml = String::from_utf8(w.into_bytes()).unwrap_or_default();
    xml.split_once('>')
        .and_then(|(_, rest)| rest.strip_suffix("</v>"))
        .unwrap_or_default()
        .to_owned()
}

fn alarm_state(state: &State, r: &MoRef, id: &str, status: ManagedEntityStatus) -> AlarmState {
    let a = &state.managers.alarms;
    let key = (id.to_owned(), r.value.clone());
    let time = if status == ManagedEntityStatus::Green || status == ManagedEntityStatus::Gray {
        now()
    } else {
        let mut seen = a.first_seen.lock().unwrap_or_else(|e| e.into_inner());
        *seen.entry(key.clone()).or_insert_with(now)
    };
    let ack = a.acknowledged.get(&key);
    AlarmState {
        key: format!("{id}.{}", r.value),
        entity: r.clone(),
        alarm: moref("Alarm", id),
        overall_status: status,
        time,
        acknowledged: Some(ack.is_some()),
        acknowledged_by_user: ack.map(|(u, _)| u.clone()),
        acknowledged_time: ack.map(|(_, t)| *t),
        event_key: None,
        disabled: Some(!a.defined.get(id).is_some_and(|d| d.spec.enabled)),
    }
}

/// Every alarm that applies to `r`, with its status (`declaredAlarmState`).
pub fn declared(state: &State, r: &MoRef) -> Vec<AlarmState> {
    applicable(state, r)
        .into_iter()
        .map(|(id, d)| alarm_state(state, r, id, evaluate(state, r, d)))
        .collect()
}

/// The alarms that apply to `r` and are yellow or red now (`triggeredAlarmState`).
pub fn triggered(state: &State, r: &MoRef) -> Vec<AlarmState> {
    declared(state, r)
        .into_iter()
        .filter(|s| {
            matches!(
                s.overall_status,
                ManagedEntityStatus::Yellow | ManagedEntityStatus::Red
            )
        })
        .collect()
}

/// Entity properties that come from alarms; `None` for other names.
pub fn entity_property(state: &State, r: &MoRef, name: &str) -> Top {
    Some(match name {
        "declaredAlarmState" => Some(Any::from(ArrayOfAlarmState {
            alarm_state: declared(state, r),
        })),
        "triggeredAlarmState" => Some(Any::from(ArrayOfAlarmState {
            alarm_state: triggered(state, r),
        })),
        "alarmActionsEnabled" => Some(Any::Boolean(
            !state.managers.alarms.actions_disabled.contains(&r.value),
        )),
        _ => return None,
    })
}

fn check_manager(state: &State, r: &MoRef) -> MethodResult<()> {
    match state.get(r) {
        Some(Mo::Manager("AlarmManager")) => Ok(()),
        _ => Err(Fault::not_found(r)),
    }
}

fn check_entity(state: &State, r: &MoRef) -> MethodResult<()> {
    match state.get(r) {
        Some(m) if is_a(m.type_name(), "ManagedEntity") => Ok(()),
        _ => Err(Fault::not_found(r)),
    }
}

fn spec_of(s: &BaseAlarmSpec) -> MethodResult<AlarmSpec> {
    let spec = match s {
        BaseAlarmSpec::AlarmSpec(s) => (**s).clone(),
        BaseAlarmSpec::AlarmInfo(i) => AlarmSpec {
            name: i.name.clone(),
            system_name: i.system_name.clone(),
            description: i.description.clone(),
            enabled: i.enabled,
            expression: i.expression.clone(),
            action: i.action.clone(),
            action_frequency: i.action_frequency,
            setting: i.setting.clone(),
        },
    };
    if spec.name.trim().is_empty() {
        return Err(Fault::new(
            esx_vim::InvalidName {
                name: spec.name.clone(),
                ..Default::default()
            },
            "A specified parameter was not correct: spec.name".to_owned(),
        ));
    }
    Ok(spec)
}

/// Whether `method` is an alarm method that only reads.
pub fn is_read(method: &str) -> bool {
    matches!(
        method,
        "GetAlarm" | "GetAlarmState" | "AreAlarmActionsEnabled"
    )
}

/// The alarm methods that only read; `None` for other requests.
pub fn handle_read(state: &State, _ctx: &Ctx, req: &Request) -> Option<MethodResult<Response>> {
    let run = || -> MethodResult<Response> {
        Ok(match req {
            Request::GetAlarm(q) => {
                check_manager(state, &q.this)?;
                let entity = match &q.entity {
                    Some(e) => {
                        check_entity(state, e)?;
                        e.clone()
                    }
                    None => crate::mo::service_instance::content(state).root_folder,
                };
                let returnval = state
                    .managers
                    .alarms
                    .defined
                    .iter()
                    .filter(|(_, d)| d.entity == entity)
                    .map(|(id, _)| moref("Alarm", id))
                    .collect();
                Response::GetAlarm(Box::new(esx_vim::GetAlarmResponse { returnval }))
            }
            Request::GetAlarmState(q) => {
                check_manager(state, &q.this)?;
                check_entity(state, &q.entity)?;
                Response::GetAlarmState(Box::new(esx_vim::GetAlarmStateResponse {
                    returnval: declared(state, &q.entity),
                }))
            }
            Request::AreAlarmActionsEnabled(q) => {
                check_manager(state, &q.this)?;
                check_entity(state, &q.entity)?;
                Response::AreAlarmActionsEnabled(Box::new(
                    esx_vim::AreAlarmActionsEnabledResponse {
                        returnval: !state
                            .managers
                            .alarms
                            .actions_disabled
                            .contains(&q.entity.value),
                    },
                ))
            }
            _ => return Err(Fault::invalid_argument("method")),
        })
    };
    is_read(req.method()).then(run)
}

/// The alarm methods that change the state; gives other requests back.
pub fn handle(
    state: &mut State,
    ctx: &Ctx,
    req: Request,
) -> Result<MethodResult<Response>, Request> {
    let user = crate::dispatch::user(state, ctx);
    let out = match req {
        Request::CreateAlarm(q) => (|| {
            check_manager(state, &q.this)?;
            check_entity(state, &q.entity)?;
            let spec = spec_of(&q.spec)?;
            let taken = state
                .managers
                .alarms
                .defined
                .values()
                .any(|d| d.entity == q.entity && d.spec.name == spec.name);
            if taken {
                return Err(Fault::duplicate_name(&spec.name, &q.entity));
            }
            let returnval = add(state, &q.entity, spec, &user, 0);
            Ok(Response::CreateAlarm(Box::new(
                esx_vim::CreateAlarmResponse { returnval },
            )))
        })(),
        Request::ReconfigureAlarm(q) => (|| {
            let spec = spec_of(&q.spec)?;
            let a = &mut state.managers.alarms;
            let Some(d) = a.defined.get(&q.this.value) else {
                return Err(Fault::not_found(&q.this));
            };
            let entity = d.entity.clone();
            let taken = a.defined.iter().any(|(id, o)| {
                *id != q.this.value && o.entity == entity && o.spec.name == spec.name
            });
            if taken {
                return Err(Fault::duplicate_name(&spec.name, &entity));
            }
            if let Some(d) = a.defined.get_mut(&q.this.value) {
                d.spec = spec;
                d.modified = (now(), user.clone());
            }
            Ok(Response::ReconfigureAlarm(Box::new(
                esx_vim::ReconfigureAlarmResponse {},
            )))
        })(),
        Request::RemoveAlarm(q) => (|| {
            let a = &mut state.managers.alarms;
            if a.defined.remove(&q.this.value).is_none() {
                return Err(Fault::not_found(&q.this));
            }
            a.acknowledged.retain(|(id, _), _| *id != q.this.value);
            state.objects.remove(&q.this.value);
            Ok(Response::RemoveAlarm(Box::new(
                esx_vim::RemoveAlarmResponse {},
            )))
        })(),
        Request::AcknowledgeAlarm(q) => (|| {
            check_manager(state, &q.this)?;
            check_entity(state, &q.entity)?;
            if !state.managers.alarms.defined.contains_key(&q.alarm.value) {
                return Err(Fault::not_found(&q.alarm));
            }
            state.managers.alarms.acknowledged.insert(
                (q.alarm.value.clone(), q.entity.value.clone()),
                (user.clone(), now()),
            );
            Ok(Response::AcknowledgeAlarm(Box::new(
                esx_vim::AcknowledgeAlarmResponse {},
            )))
        })(),
        Request::EnableAlarmActions(q) => (|| {
            check_manager(state, &q.this)?;
            check_entity(state, &q.entity)?;
            let set = &mut state.managers.alarms.actions_disabled;
            if q.enabled {
                set.remove(&q.entity.value);
            } else {
                set.insert(q.entity.value.clone());
            }
            Ok(Response::EnableAlarmActions(Box::new(
                esx_vim::EnableAlarmActionsResponse {},
            )))
        })(),
        other => return Err(other),
    };
    Ok(out)
}
