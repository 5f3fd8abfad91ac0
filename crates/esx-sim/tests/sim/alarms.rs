//! AlarmManager: vCenter's default alarm set, alarms created, changed and removed through the
//! dispatcher, states that follow the inventory (a host powered off, a datastore filling up),
//! acknowledgements, and alarm actions switched off per entity; ESXi has no alarms.

use crate::support;

use esx_sim::state::{MoRef, State};
use esx_vim::*;

fn manager(state: &State) -> MoRef {
    esx_sim::mo::service_instance::content(state)
        .alarm_manager
        .expect("alarmManager in ServiceContent")
}

fn root(state: &State) -> MoRef {
    esx_sim::mo::service_instance::content(state).root_folder
}

fn alarms_on(state: &mut State, entity: Option<MoRef>) -> Vec<MoRef> {
    let this = manager(state);
    match support::call(
        state,
        Request::GetAlarm(Box::new(GetAlarmRequestType { this, entity })),
    ) {
        Ok(Response::GetAlarm(r)) => r.returnval,
        other => panic!("GetAlarm: {other:?}"),
    }
}

fn names(state: &State, alarms: &[MoRef]) -> Vec<String> {
    alarms
        .iter()
        .map(|a| match support::read(state, a, "info.name") {
            Some(Any::String(s)) => s,
            other => panic!("info.name of {a:?}: {other:?}"),
        })
        .collect()
}

fn first(state: &State, ty: &str) -> MoRef {
    let mut ids: Vec<&String> = state
        .objects
        .iter()
        .filter(|(_, m)| m.type_name() == ty)
        .map(|(id, _)| id)
        .collect();
    ids.sort();
    esx_sim::state::moref(ty, ids[0])
}

fn triggered(state: &State, r: &MoRef) -> Vec<AlarmState> {
    match support::read(state, r, "triggeredAlarmState") {
        Some(Any::ArrayOfAlarmState(a)) => a.alarm_state,
        None => Vec::new(),
        other => panic!("triggeredAlarmState: {other:?}"),
    }
}

fn spec(name: &str) -> BaseAlarmSpec {
    BaseAlarmSpec::from(AlarmSpec {
        name: name.into(),
        description: "test".into(),
        enabled: true,
        expression: BaseAlarmExpression::from(StateAlarmExpression {
            operator: StateAlarmOperator::IsEqual,
            r#type: "VirtualMachine".into(),
            state_path: "runtime.powerState".into(),
            yellow: None,
            red: Some("poweredOn".into()),
        }),
        ..Default::default()
    })
}

#[test]
fn default_alarms_and_the_states_they_compute() {
    let (mut state, dir) = support::start("alarms", "defaults", esx_sim::Flavor::Vcenter, None);
    let root = root(&state);
    let defaults = alarms_on(&mut state, None);
    let n = names(&state, &defaults);
    assert!(n.iter().any(|x| x == "Datastore usage on disk"), "{n:?}");
    assert!(
        n.iter().any(|x| x == "Host connection and power state"),
        "{n:?}"
    );
    assert_eq!(alarms_on(&mut state, Some(root.clone())), defaults);

    // A datastore at about 90 % turns the usage alarm red; while nearly empty nothing triggers.
    let (ds, ds_dir) = support::datastore(&state);
    let name = state.name_of(&ds).unwrap();
    assert!(triggered(&state, &ds).is_empty());
    std::fs::write(ds_dir.join("filler.bin"), vec![1u8; 1 << 20]).unwrap();
    assert!(esx_sim::mo::datastore::set_free(
        &mut state,
        &name,
        100 << 10
    ));
    let t = triggered(&state, &ds);
    assert_eq!(t.len(), 1, "{t:?}");
    assert_eq!(t[0].overall_status, ManagedEntityStatus::Red);
    assert_eq!(t[0].entity, ds);
    let time = t[0].time;
    // The time a state triggered stays put while it stays triggered.
    assert_eq!(triggered(&state, &ds)[0].time, time);

    // Acknowledged by the caller.
    let this = manager(&state);
    support::call(
        &mut state,
        Request::AcknowledgeAlarm(Box::new(AcknowledgeAlarmRequestType {
            this,
            alarm: t[0].alarm.clone(),
            entity: ds.clone(),
        })),
    )
    .unwrap();
    assert_eq!(triggered(&state, &ds)[0].acknowledged, Some(true));

    // GetAlarmState lists every alarm that applies to the entity, triggered or not.
    let this = manager(&state);
    let all = match support::call(
        &mut state,
        Request::GetAlarmState(Box::new(GetAlarmStateRequestType {
            this,
            entity: ds.clone(),
        })),
    ) {
        Ok(Response::GetAlarmState(r)) => r.returnval,
        other => panic!("{other:?}"),
    };
    assert!(!all.is_empty());
    assert!(all.iter().all(|s| s.entity == ds));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn alarms_created_changed_and_removed() {
    let (mut state, dir) = support::start("alarms", "crud", esx_sim::Flavor::Vcenter, None);
    let vm = first(&state, "VirtualMachine");
    let dc = first(&state, "Datacenter");
    let this = manager(&state);
    let created = match support::call(
        &mut state,
        Request::CreateAlarm(Box::new(CreateAlarmRequestType {
            this: this.clone(),
            entity: dc.clone(),
            spec: spec("VM on"),
        })),
    ) {
        Ok(Response::CreateAlarm(r)) => r.returnval,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        alarms_on(&mut state, Some(dc.clone())),
        vec![created.clone()]
    );
    // The same name twice on one entity: DuplicateName; an empty name: InvalidName.
    let dup = support::call(
        &mut state,
        Request::CreateAlarm(Box::new(CreateAlarmRequestType {
            this: this.clone(),
            entity: dc.clone(),
            spec: spec("VM on"),
        })),
    );
    assert!(
        matches!(
            dup.as_ref().map_err(|e| &**e),
            Err(BaseMethodFault::DuplicateName(_))
        ),
        "{dup:?}"
    );
    let empty = support::call(
        &mut state,
        Request::CreateAlarm(Box::new(CreateAlarmRequestType {
            this: this.clone(),
            entity: dc.clone(),
            spec: spec(" "),
        })),
    );
    assert!(
        matches!(
            empty.as_ref().map_err(|e| &**e),
            Err(BaseMethodFault::InvalidName(_))
        ),
        "{empty:?}"
    );

    // It applies below the datacenter: the VM turns red when powered on.
    let mine = |state: &State| {
        triggered(state, &vm)
            .into_iter()
            .filter(|s| s.alarm == created)
            .count()
    };
    assert_eq!(mine(&state), 0);
    support::power_on(&mut state, &vm);
    assert_eq!(mine(&state), 1);

    // Disabled by reconfiguring: no longer triggered.
    let mut s = match spec("VM on, renamed") {
        BaseAlarmSpec::AlarmSpec(s) => *s,
        _ => unreachable!(),
    };
    s.enabled = false;
    support::call(
        &mut state,
        Request::ReconfigureAlarm(Box::new(ReconfigureAlarmRequestType {
            this: created.clone(),
            spec: BaseAlarmSpec::from(s),
        })),
    )
    .unwrap();
    assert_eq!(mine(&state), 0);
    assert_eq!(
        names(&state, std::slice::from_ref(&created)),
        vec!["VM on, renamed".to_string()]
    );

    // Alarm actions off for the VM.
    support::call(
        &mut state,
        Request::EnableAlarmActions(Box::new(EnableAlarmActionsRequestType {
            this: this.clone(),
            entity: vm.clone(),
            enabled: false,
        })),
    )
    .unwrap();
    assert_eq!(
        support::read(&state, &vm, "alarmActionsEnabled"),
        Some(Any::Boolean(false))
    );

    // Removed: gone from GetAlarm and from the objects.
    support::call(
        &mut state,
        Request::RemoveAlarm(Box::new(RemoveAlarmRequestType {
            this: created.clone(),
        })),
    )
    .unwrap();
    assert!(alarms_on(&mut state, Some(dc)).is_empty());
    assert!(state.get(&created).is_none());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn esx_has_no_alarms() {
    let (mut state, dir) = support::start("alarms", "esx", esx_sim::Flavor::Esx, None);
    assert!(alarms_on(&mut state, None).is_empty());
    let host = first(&state, "HostSystem");
    assert!(triggered(&state, &host).is_empty());
    let _ = std::fs::remove_dir_all(dir);
}
