//! Cluster rules, groups and DRS: govc creating, listing and removing a VM group and a VM-VM
//! affinity rule; invalid changes refused with `InvalidArgument` through the dispatcher.

use crate::support;

use std::path::Path;

use esx_sim::state::{Mo, MoRef, State};
use esx_vim::*;

use support::govc::GOVC;

fn govc(url: &str, home: &Path, args: &[&str]) -> (bool, String) {
    support::govc::run(url, home, args)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn govc_rules_and_groups() {
    if !Path::new(GOVC).exists() {
        return;
    }
    let dir = support::data_dir("cluster", "govc");
    let mut cfg = esx_sim::Config::new(&dir);
    cfg.flavor = esx_sim::Flavor::Vcenter;
    let h = esx_sim::Simulator::start(cfg).await.unwrap();
    let url = format!("https://root:pass@127.0.0.1:{}/sdk", h.addr.port());
    let home = dir.join("govmomi");
    let r = tokio::task::spawn_blocking(move || {
        let ok = |args: &[&str]| {
            let (ok, out) = govc(&url, &home, args);
            assert!(ok, "govc {}: {out}", args.join(" "));
            out
        };
        let c = "/DC0/host/Cluster0";
        assert_eq!(ok(&["cluster.rule.ls", "-cluster", c]).trim(), "");
        ok(&[
            "cluster.group.create",
            "-cluster",
            c,
            "-name",
            "web",
            "-vm",
            "vm1",
            "vm2",
        ]);
        assert_eq!(ok(&["cluster.group.ls", "-cluster", c]).trim(), "web");
        let members = ok(&["cluster.group.ls", "-cluster", c, "-name", "web"]);
        assert_eq!(
            members.split_whitespace().collect::<Vec<_>>(),
            ["vm1", "vm2"]
        );
        ok(&[
            "cluster.rule.create",
            "-cluster",
            c,
            "-name",
            "together",
            "-enable",
            "-affinity",
            "vm1",
            "vm2",
        ]);
        let l = ok(&["cluster.rule.ls", "-cluster", c, "-l"]);
        assert_eq!(l.trim(), "together (ClusterAffinityRuleSpec)");
        let l = ok(&["cluster.rule.ls", "-cluster", c, "-name", "together", "-l"]);
        assert!(l.contains("vm1 (VM)") && l.contains("vm2 (VM)"), "{l}");
        let json = ok(&["object.collect", "-json", c, "configurationEx"]);
        assert!(json.contains("\"Enabled\": true"), "{json}");
        // A VM-host rule naming a group that does not exist is refused.
        let (fine, out) = govc(
            &url,
            &home,
            &[
                "cluster.rule.create",
                "-cluster",
                c,
                "-name",
                "x",
                "-vm-host",
                "-vm-group",
                "web",
                "-host-affine-group",
                "nope",
            ],
        );
        assert!(!fine && out.contains("not correct"), "{out}");
        ok(&["cluster.rule.remove", "-cluster", c, "-name", "together"]);
        assert_eq!(ok(&["cluster.rule.ls", "-cluster", c]).trim(), "");
        ok(&["cluster.group.remove", "-cluster", c, "-name", "web"]);
        assert_eq!(ok(&["cluster.group.ls", "-cluster", c]).trim(), "");
        let u = ok(&["cluster.usage", c]);
        assert!(u.contains("Memory"), "{u}");
    })
    .await;
    h.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
    r.unwrap();
}

fn cluster(state: &State) -> MoRef {
    let mut v: Vec<MoRef> = state
        .objects
        .iter()
        .filter_map(|(id, m)| match m {
            Mo::ComputeResource(c) if c.cluster => {
                Some(esx_sim::state::moref("ClusterComputeResource", id))
            }
            _ => None,
        })
        .collect();
    v.sort();
    v.remove(0)
}

fn reconfigure(state: &mut State, c: &MoRef, spec: ClusterConfigSpecEx) -> Option<BaseMethodFault> {
    let resp = support::call(
        state,
        Request::ReconfigureComputeResource_Task(Box::new(ReconfigureComputeResourceRequestType {
            this: c.clone(),
            spec: BaseComputeResourceConfigSpec::from(spec),
            modify: true,
        })),
    )
    .expect("the task starts");
    let Response::ReconfigureComputeResource_Task(t) = resp else {
        panic!("{resp:?}")
    };
    match state.get(&t.returnval) {
        Some(Mo::Task(t)) => t.info.error.clone().map(|e| e.fault),
        _ => panic!("no task"),
    }
}

fn rules(state: &State, c: &MoRef) -> Vec<BaseClusterRuleInfo> {
    match support::read(state, c, "configurationEx") {
        Some(Any::ClusterConfigInfoEx(x)) => x.rule,
        other => panic!("{other:?}"),
    }
}

#[test]
fn invalid_changes_are_refused() {
    let (mut state, dir) = support::start("cluster", "invalid", esx_sim::Flavor::Vcenter, None);
    let c = cluster(&state);
    // Removing a rule that does not exist.
    let f = reconfigure(
        &mut state,
        &c,
        ClusterConfigSpecEx {
            rules_spec: vec![ClusterRuleSpec {
                operation: ArrayUpdateOperation::Remove,
                remove_key: Some(Any::Int(42)),
                info: None,
            }],
            ..Default::default()
        },
    );
    assert!(
        matches!(f, Some(BaseMethodFault::InvalidArgument(_))),
        "{f:?}"
    );
    // An anti-affinity rule with one VM.
    let vm = match support::read(&state, &c, "resourcePool") {
        Some(Any::ManagedObjectReference(_)) => state
            .objects
            .iter()
            .find_map(|(id, m)| match m {
                Mo::VirtualMachine(v) if v.host.value.starts_with("host") => {
                    Some(esx_sim::state::moref("VirtualMachine", id))
                }
                _ => None,
            })
            .unwrap(),
        other => panic!("{other:?}"),
    };
    let one = ClusterAntiAffinityRuleSpec {
        name: Some("apart".into()),
        vm: vec![vm.clone()],
        ..Default::default()
    };
    let f = reconfigure(
        &mut state,
        &c,
        ClusterConfigSpecEx {
            rules_spec: vec![ClusterRuleSpec {
                operation: ArrayUpdateOperation::Add,
                remove_key: None,
                info: Some(BaseClusterRuleInfo::from(one)),
            }],
            ..Default::default()
        },
    );
    assert!(
        matches!(f, Some(BaseMethodFault::InvalidArgument(_))),
        "{f:?}"
    );
    assert!(rules(&state, &c).is_empty());
    // A rule and a bad group in one spec: nothing is applied.
    let f = reconfigure(
        &mut state,
        &c,
        ClusterConfigSpecEx {
            drs_config: Some(ClusterDrsConfigInfo {
                enabled: Some(true),
                ..Default::default()
            }),
            group_spec: vec![ClusterGroupSpec {
                operation: ArrayUpdateOperation::Remove,
                remove_key: Some(Any::String("missing".into())),
                info: None,
            }],
            ..Default::default()
        },
    );
    assert!(
        matches!(f, Some(BaseMethodFault::InvalidArgument(_))),
        "{f:?}"
    );
    let drs = support::read(&state, &c, "configurationEx.drsConfig.enabled");
    assert_eq!(drs, Some(Any::Boolean(false)));
    // No recommendation exists, so applying one is refused; refreshing is fine.
    let f = support::call(
        &mut state,
        Request::ApplyRecommendation(Box::new(ApplyRecommendationRequestType {
            this: c.clone(),
            key: "1".into(),
        })),
    );
    assert!(
        matches!(
            f.as_ref().map_err(|e| &**e),
            Err(BaseMethodFault::InvalidArgument(_))
        ),
        "{f:?}"
    );
    support::call(
        &mut state,
        Request::RefreshRecommendation(Box::new(RefreshRecommendationRequestType {
            this: c.clone(),
        })),
    )
    .unwrap();
    assert_eq!(support::read(&state, &c, "recommendation"), None);
    match support::read(&state, &c, "summary") {
        Some(Any::ClusterComputeResourceSummary(s)) => {
            assert!(s.num_hosts > 0);
            assert!(s.usage_summary.is_some_and(|u| u.total_vm_count > 0));
        }
        other => panic!("{other:?}"),
    }
    let _ = std::fs::remove_dir_all(dir);
}
