//! `HostAutoStartManager`: `ReconfigureAutostart` for the defaults and per-VM power info as
//! libvirt sends them, read back through the property collector; faults, all or nothing, and a
//! removed VM leaving the list.

use esx_sim::state::{moref, Mo, MoRef, State};
use esx_vim::*;

use crate::support;

use support::call;

fn manager() -> MoRef {
    moref("HostAutoStartManager", "autoStartManager-ha-host")
}

fn vms(state: &State) -> Vec<MoRef> {
    let mut v: Vec<MoRef> = state
        .objects
        .iter()
        .filter(|(_, m)| matches!(m, Mo::VirtualMachine(_)))
        .map(|(id, _)| moref("VirtualMachine", id))
        .collect();
    v.sort();
    v
}

/// What libvirt sends for `virsh autostart` (on) and `--disable` (off).
fn power_info(vm: &MoRef, on: bool) -> AutoStartPowerInfo {
    AutoStartPowerInfo {
        key: vm.clone(),
        start_order: -1,
        start_delay: -1,
        wait_for_heartbeat: AutoStartWaitHeartbeatSetting::SystemDefault,
        start_action: if on { "powerOn" } else { "none" }.into(),
        stop_delay: -1,
        stop_action: "none".into(),
    }
}

fn reconfigure(
    state: &mut State,
    enabled: Option<bool>,
    info: Vec<AutoStartPowerInfo>,
) -> Result<Response, Box<BaseMethodFault>> {
    call(
        state,
        Request::ReconfigureAutostart(Box::new(ReconfigureAutostartRequestType {
            this: manager(),
            spec: HostAutoStartManagerConfig {
                defaults: enabled.map(|e| AutoStartDefaults {
                    enabled: Some(e),
                    ..Default::default()
                }),
                power_info: info,
            },
        })),
    )
}

/// `config.defaults` and `config.powerInfo` through `RetrievePropertiesEx`.
fn collect(state: &mut State) -> (AutoStartDefaults, Vec<AutoStartPowerInfo>) {
    let resp = call(
        state,
        Request::RetrievePropertiesEx(Box::new(RetrievePropertiesExRequestType {
            this: moref("PropertyCollector", "ha-property-collector"),
            spec_set: vec![PropertyFilterSpec {
                prop_set: vec![PropertySpec {
                    r#type: "HostAutoStartManager".into(),
                    path_set: vec!["config.defaults".into(), "config.powerInfo".into()],
                    ..Default::default()
                }],
                object_set: vec![ObjectSpec {
                    obj: manager(),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            options: RetrieveOptions::default(),
        })),
    )
    .unwrap();
    let Response::RetrievePropertiesEx(r) = resp else {
        panic!("{resp:?}")
    };
    let props = &r.returnval.expect("a result").objects[0].prop_set;
    let mut defaults = None;
    let mut info = Vec::new();
    for p in props {
        match (p.name.as_str(), &p.val) {
            ("config.defaults", Any::AutoStartDefaults(d)) => defaults = Some((**d).clone()),
            ("config.powerInfo", Any::ArrayOfAutoStartPowerInfo(a)) => {
                info = a.auto_start_power_info.clone()
            }
            other => panic!("{other:?}"),
        }
    }
    (defaults.expect("defaults"), info)
}

#[test]
fn autostart_reads_back_and_faults() {
    let (mut state, dir) = support::start("autostart", "api", esx_sim::Flavor::Esx, Some("vm=3"));
    let v = vms(&state);
    let (d, info) = collect(&mut state);
    assert_eq!(d.enabled, Some(false));
    assert!(info.is_empty());

    reconfigure(
        &mut state,
        Some(true),
        vec![power_info(&v[0], true), power_info(&v[1], true)],
    )
    .unwrap();
    let (d, info) = collect(&mut state);
    assert_eq!(d.enabled, Some(true));
    assert_eq!(info, vec![power_info(&v[0], true), power_info(&v[1], true)]);
    // An ordered entry comes first.
    let mut first = power_info(&v[2], true);
    first.start_order = 1;
    reconfigure(&mut state, None, vec![first.clone()]).unwrap();
    assert_eq!(collect(&mut state).1[0], first);
    // Disabling one VM takes it off the list; the defaults stay.
    reconfigure(&mut state, None, vec![power_info(&v[0], false)]).unwrap();
    let (d, info) = collect(&mut state);
    assert_eq!(d.enabled, Some(true));
    assert_eq!(
        info.iter().map(|p| p.key.clone()).collect::<Vec<_>>(),
        [v[2].clone(), v[1].clone()]
    );

    // Faults change nothing, not even the defaults of the same spec.
    let before = collect(&mut state);
    let e = reconfigure(
        &mut state,
        Some(false),
        vec![power_info(&moref("VirtualMachine", "999"), true)],
    )
    .unwrap_err();
    assert!(
        matches!(*e, BaseMethodFault::ManagedObjectNotFound(_)),
        "{e:?}"
    );
    let mut bad = power_info(&v[0], true);
    bad.start_action = "launch".into();
    let e = reconfigure(&mut state, Some(false), vec![bad]).unwrap_err();
    assert!(matches!(*e, BaseMethodFault::InvalidArgument(_)), "{e:?}");
    let mut bad = power_info(&v[0], true);
    bad.start_delay = -5;
    let e = reconfigure(&mut state, Some(false), vec![bad]).unwrap_err();
    assert!(matches!(*e, BaseMethodFault::InvalidArgument(_)), "{e:?}");
    assert_eq!(collect(&mut state), before);

    // A destroyed VM leaves the list.
    call(
        &mut state,
        Request::Destroy_Task(Box::new(DestroyRequestType { this: v[1].clone() })),
    )
    .unwrap();
    assert_eq!(
        collect(&mut state)
            .1
            .iter()
            .map(|p| p.key.clone())
            .collect::<Vec<_>>(),
        [v[2].clone()]
    );
    let _ = std::fs::remove_dir_all(dir);
}
