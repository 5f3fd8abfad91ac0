//! Differential test: libvirt 11.3's own ESX driver (its `virsh`) and ours on the same
//! esx-sim give the same documents and numbers. Skipped, loudly, when libvirt 11.3 is not
//! built (`../shared/peers/setup-libvirt-11.3.sh`).

use crate::support;

use std::path::Path;
use std::process::Command;

use esx_driver::{HypervisorDriver, InterfaceDriver, NetworkDriver, StorageDriver, TypedValue};
use support::Sim;

const LIBVIRT: &str = "/opt/libvirt-11.3";

fn virsh_available() -> bool {
    let ok = Path::new(LIBVIRT).join("bin/virsh").is_file();
    if !ok {
        eprintln!(
            "SKIPPED beside_libvirt: {LIBVIRT}/bin/virsh is missing; build it with \
             `bash ../shared/peers/setup-libvirt-11.3.sh`"
        );
    }
    ok
}

/// Runs libvirt 11.3's virsh on `uri`; stdout on success.
fn virsh(uri: &str, args: &[&str]) -> String {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    let out = esx_testkit::process::output(
        Command::new(Path::new(LIBVIRT).join("bin/virsh"))
            .env(
                "LD_LIBRARY_PATH",
                Path::new(LIBVIRT).join("lib/x86_64-linux-gnu"),
            )
            .env("LIBVIRT_AUTH_FILE", shared.join("peers/libvirt-auth.conf"))
            .env("LIBVIRT_LOG_OUTPUTS", "1:file:/dev/null")
            .args(["-q", "-c", uri])
            .args(args),
        esx_testkit::process::LIMIT,
    )
    .expect("virsh runs");
    assert!(
        out.status.success(),
        "virsh {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `Label:   value` lines of virsh's text output.
fn field<'a>(text: &'a str, label: &str) -> &'a str {
    text.lines()
        .find_map(|l| {
            l.strip_prefix(label)
                .map(|v| v.trim().trim_start_matches(':').trim())
        })
        .unwrap_or_else(|| panic!("no {label} in {text}"))
}

/// virsh prints the document and an empty line after it.
fn doc(text: String) -> String {
    text.trim_end_matches('\n').to_string() + "\n"
}

#[tokio::test]
async fn same_documents_and_numbers_as_libvirt() {
    if !virsh_available() {
        return;
    }
    let sim = Sim::esx("beside").await;
    let c = sim.connect().await;
    // Give vm2 some character first: running, a snapshot, VNC, scheduler values.
    let vm2 = c.domain_lookup_by_name("vm2").await.unwrap();
    c.domain_set_scheduler_parameters(
        &vm2,
        &[
            esx_driver::TypedParam::new("reservation", TypedValue::LLong(300)),
            esx_driver::TypedParam::new("shares", TypedValue::Int(1500)),
        ],
    )
    .await
    .unwrap();
    c.domain_create(&vm2).await.unwrap();
    let vm3 = c.domain_lookup_by_name("vm3").await.unwrap();
    let s1 = c
        .domain_snapshot_create_xml(
            &vm3,
            "<domainsnapshot><name>s1</name><description>one</description></domainsnapshot>",
            0,
        )
        .await
        .unwrap();
    let s2 = c
        .domain_snapshot_create_xml(&vm3, "<domainsnapshot><name>s2</name></domainsnapshot>", 0)
        .await
        .unwrap();
    let uri = sim.uri("");
    let u = uri.clone();
    let theirs = tokio::task::spawn_blocking(move || {
        let run = |a: &[&str]| virsh(&u, a);
        (
            run(&["dumpxml", "vm1"]),
            run(&["dumpxml", "vm2"]),
            run(&["capabilities"]),
            run(&["pool-dumpxml", "datastore1"]),
            run(&["vol-dumpxml", "--pool", "datastore1", "vm1/vm1.vmdk"]),
            run(&["net-dumpxml", "vSwitch0"]),
            run(&["nodeinfo"]),
            run(&["dominfo", "vm2"]),
            run(&["schedinfo", "vm2"]),
            run(&["hostname"]),
            run(&["snapshot-dumpxml", "vm3", "s1"]),
            run(&["snapshot-dumpxml", "vm3", "s2"]),
            run(&["list", "--all", "--uuid"]),
        )
    })
    .await
    .unwrap();
    let vm1 = c.domain_lookup_by_name("vm1").await.unwrap();
    let vm2 = c.domain_lookup_by_name("vm2").await.unwrap();
    assert_eq!(
        c.domain_get_xml_desc(&vm1, 0).await.unwrap(),
        doc(theirs.0),
        "dumpxml vm1"
    );
    assert_eq!(
        c.domain_get_xml_desc(&vm2, 0).await.unwrap(),
        doc(theirs.1),
        "dumpxml vm2"
    );
    assert_eq!(
        c.connect_get_capabilities().await.unwrap(),
        doc(theirs.2),
        "capabilities"
    );
    let pool = c.storage_pool_lookup_by_name("datastore1").await.unwrap();
    assert_eq!(
        c.storage_pool_get_xml_desc(&pool, 0).await.unwrap(),
        doc(theirs.3),
        "pool-dumpxml"
    );
    let vol = c
        .storage_vol_lookup_by_name(&pool, "vm1/vm1.vmdk")
        .await
        .unwrap();
    assert_eq!(
        c.storage_vol_get_xml_desc(&vol, 0).await.unwrap(),
        doc(theirs.4),
        "vol-dumpxml"
    );
    let net = c.network_lookup_by_name("vSwitch0").await.unwrap();
    assert_eq!(
        c.network_get_xml_desc(&net, 0).await.unwrap(),
        doc(theirs.5),
        "net-dumpxml"
    );

    let node = c.node_get_info().await.unwrap();
    let n = &theirs.6;
    assert_eq!(field(n, "CPU model"), node.model);
    assert_eq!(field(n, "CPU(s)"), node.cpus.to_string());
    assert_eq!(field(n, "CPU frequency"), format!("{} MHz", node.mhz));
    assert_eq!(field(n, "CPU socket(s)"), node.sockets.to_string());
    assert_eq!(field(n, "Core(s) per socket"), node.cores.to_string());
    assert_eq!(field(n, "Thread(s) per core"), node.threads.to_string());
    assert_eq!(field(n, "NUMA cell(s)"), node.nodes.to_string());
    assert_eq!(field(n, "Memory size"), format!("{} KiB", node.memory));

    let info = c.domain_get_info(&vm2).await.unwrap();
    let d = &theirs.7;
    assert_eq!(field(d, "Id"), vm2.id.to_string());
    assert_eq!(field(d, "UUID"), vm2.uuid.to_string());
    assert_eq!(field(d, "State"), info.state.as_str());
    assert_eq!(field(d, "CPU(s)"), info.nr_virt_cpu.to_string());
    assert_eq!(field(d, "Max memory"), format!("{} KiB", info.max_mem));
    assert_eq!(field(d, "Used memory"), format!("{} KiB", info.memory));
    let autostart = c.domain_get_autostart(&vm2).await.unwrap();
    assert_eq!(
        field(d, "Autostart"),
        if autostart { "enable" } else { "disable" }
    );

    let s = &theirs.8;
    let (ty, _) = c.domain_get_scheduler_type(&vm2).await.unwrap();
    assert_eq!(field(s, "Scheduler"), ty);
    for p in c.domain_get_scheduler_parameters(&vm2).await.unwrap() {
        assert_eq!(field(s, &p.field), p.value.to_string(), "{}", p.field);
    }
    assert_eq!(
        theirs.9.trim(),
        c.connect_get_hostname().await.unwrap(),
        "hostname"
    );
    assert_eq!(
        c.domain_snapshot_get_xml_desc(&s1, 0).await.unwrap(),
        doc(theirs.10),
        "snapshot-dumpxml s1"
    );
    assert_eq!(
        c.domain_snapshot_get_xml_desc(&s2, 0).await.unwrap(),
        doc(theirs.11),
        "snapshot-dumpxml s2"
    );
    let mut ours: Vec<String> = c
        .connect_list_all_domains(0)
        .await
        .unwrap()
        .iter()
        .map(|d| d.uuid.to_string())
        .collect();
    let mut listed: Vec<String> = theirs
        .12
        .lines()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect();
    ours.sort();
    listed.sort();
    assert_eq!(ours, listed, "list --all --uuid");
}

#[tokio::test]
async fn same_interface_documents_as_libvirt() {
    if !virsh_available() {
        return;
    }
    let sim = Sim::esx("beside-iface").await;
    let c = sim.connect().await;
    let uri = sim.uri("");
    for name in c.connect_list_interfaces().await.unwrap() {
        let i = c.interface_lookup_by_name(&name).await.unwrap();
        // libvirt 11.3 looks interfaces up "by name" through their MAC address.
        let (u, mac) = (uri.clone(), i.mac.clone());
        let theirs = tokio::task::spawn_blocking(move || virsh(&u, &["iface-dumpxml", &mac]))
            .await
            .unwrap();
        assert_eq!(
            c.interface_get_xml_desc(&i, 0).await.unwrap(),
            doc(theirs),
            "{name}"
        );
    }
}
