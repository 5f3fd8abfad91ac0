//! Events: what is recorded, `QueryEvents` filters, and event history collectors.

use esx_sim::state::{moref, Ctx, Mo, MoRef, State};
use esx_vim::*;

fn start(name: &str) -> (State, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("esx-sim-events-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut state = State::new(esx_sim::Config::new(&dir));
    esx_sim::inventory::build(&mut state).unwrap();
    (state, dir)
}

fn call(state: &mut State, req: Request) -> Result<Response, String> {
    esx_sim::dispatch::handle(state, &Ctx::default(), req, &|| "k".to_owned())
        .map(|(r, _)| r)
        .map_err(|f| format!("{:?}", f.fault))
}

fn vm(state: &State, name: &str) -> MoRef {
    state
        .objects
        .iter()
        .find_map(|(id, m)| match m {
            Mo::VirtualMachine(v) if v.name == name => Some(moref("VirtualMachine", id)),
            _ => None,
        })
        .unwrap()
}

fn em() -> MoRef {
    moref("EventManager", "ha-eventmgr")
}

fn messages(events: &[BaseEvent]) -> Vec<String> {
    events
        .iter()
        .map(|e| {
            let any = esx_vim::Any::from(ArrayOfEvent {
                event: vec![e.clone()],
            });
            let xml = format!("{any:?}");
            let start = xml.find("full_formatted_message: Some(\"").unwrap() + 30;
            let end = xml[start..].find('"').unwrap() + start;
            xml[start..end].to_owned()
        })
        .collect()
}

fn query(state: &mut State, filter: EventFilterSpec) -> Vec<BaseEvent> {
    match call(
        state,
        Request::QueryEvents(Box::new(QueryEventsRequestType { this: em(), filter })),
    ) {
        Ok(Response::QueryEvents(r)) => r.returnval,
        other => panic!("{other:?}"),
    }
}

#[test]
fn records_and_filters_events() {
    let (mut state, dir) = start("query");
    let (vm1, vm2) = (vm(&state, "vm1"), vm(&state, "vm2"));
    for (vm, on) in [(&vm1, true), (&vm2, true), (&vm1, false)] {
        let req = if on {
            Request::PowerOnVM_Task(Box::new(PowerOnVMRequestType {
                this: vm.clone(),
                host: None,
            }))
        } else {
            Request::PowerOffVM_Task(Box::new(PowerOffVMRequestType { this: vm.clone() }))
        };
        call(&mut state, req).unwrap();
    }
    let all = messages(&query(&mut state, EventFilterSpec::default()));
    assert_eq!(
        all,
        vec![
            "vm1 on localhost.localdomain in ha-datacenter is powered on",
            "vm2 on localhost.localdomain in ha-datacenter is powered on",
            "vm1 on localhost.localdomain in ha-datacenter is powered off",
        ]
    );
    let by_vm = EventFilterSpec {
        entity: Some(EventFilterSpecByEntity {
            entity: vm1.clone(),
            recursion: EventFilterSpecRecursionOption::SelfValue,
        }),
        ..Default::default()
    };
    assert_eq!(query(&mut state, by_vm).len(), 2);
    let by_type = EventFilterSpec {
        event_type_id: vec!["VmPoweredOffEvent".into()],
        ..Default::default()
    };
    assert_eq!(query(&mut state, by_type).len(), 1);
    let newest = EventFilterSpec {
        max_count: Some(1),
        ..Default::default()
    };
    assert_eq!(
        messages(&query(&mut state, newest)),
        vec!["vm1 on localhost.localdomain in ha-datacenter is powered off"]
    );
    // A datacenter covers its VMs' events only with recursion.
    let dc = moref("Datacenter", "ha-datacenter");
    let children = EventFilterSpec {
        entity: Some(EventFilterSpecByEntity {
            entity: dc.clone(),
            recursion: EventFilterSpecRecursionOption::Children,
        }),
        ..Default::default()
    };
    assert!(query(&mut state, children).is_empty());
    let all_below = EventFilterSpec {
        entity: Some(EventFilterSpecByEntity {
            entity: dc,
            recursion: EventFilterSpecRecursionOption::All,
        }),
        ..Default::default()
    };
    assert_eq!(query(&mut state, all_below).len(), 3);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn collectors_page_through_events() {
    let (mut state, dir) = start("collector");
    let vm1 = vm(&state, "vm1");
    for _ in 0..3 {
        call(
            &mut state,
            Request::PowerOnVM_Task(Box::new(PowerOnVMRequestType {
                this: vm1.clone(),
                host: None,
            })),
        )
        .unwrap();
        call(
            &mut state,
            Request::PowerOffVM_Task(Box::new(PowerOffVMRequestType { this: vm1.clone() })),
        )
        .unwrap();
    }
    let c = match call(
        &mut state,
        Request::CreateCollectorForEvents(Box::new(CreateCollectorForEventsRequestType {
            this: em(),
            filter: EventFilterSpec::default(),
        })),
    ) {
        Ok(Response::CreateCollectorForEvents(r)) => r.returnval,
        other => panic!("{other:?}"),
    };
    assert_eq!(c.r#type, "EventHistoryCollector");
    call(
        &mut state,
        Request::SetCollectorPageSize(Box::new(SetCollectorPageSizeRequestType {
            this: c.clone(),
            max_count: 4,
        })),
    )
    .unwrap();
    let page = esx_sim::property::read(&state, &Ctx::default(), &c, "latestPage").unwrap();
    match page {
        Some(Any::ArrayOfEvent(a)) => {
            let m = messages(&a.event);
            assert_eq!(m.len(), 4);
            assert!(m[0].ends_with("powered off"), "newest first: {m:?}");
        }
        other => panic!("{other:?}"),
    }
    let read_next = |state: &mut State, n: i32| match call(
        state,
        Request::ReadNextEvents(Box::new(ReadNextEventsRequestType {
            this: c.clone(),
            max_count: n,
        })),
    ) {
        Ok(Response::ReadNextEvents(r)) => Ok(r.returnval.len()),
        Ok(other) => panic!("{other:?}"),
        Err(e) => Err(e),
    };
    assert_eq!(read_next(&mut state, 4), Ok(4));
    assert_eq!(read_next(&mut state, 4), Ok(2));
    assert_eq!(read_next(&mut state, 4), Ok(0));
    let e = read_next(&mut state, 0).unwrap_err();
    assert!(e.contains("InvalidArgument"), "{e}");
    call(
        &mut state,
        Request::RewindCollector(Box::new(RewindCollectorRequestType { this: c.clone() })),
    )
    .unwrap();
    assert_eq!(read_next(&mut state, 100), Ok(6));
    call(
        &mut state,
        Request::DestroyCollector(Box::new(DestroyCollectorRequestType { this: c.clone() })),
    )
    .unwrap();
    let e = read_next(&mut state, 1).unwrap_err();
    assert!(e.contains("ManagedObjectNotFound"), "{e}");
    let _ = std::fs::remove_dir_all(dir);
}
