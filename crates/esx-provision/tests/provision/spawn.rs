//! End to end against esx-sim (ESX and vCenter flavours): an image goes up, VMs spawn with two
//! NICs (one on a VLAN port group made for it), their `.vmx` holds the exact `machine.id` and
//! guestinfo keys, a fake `vmtoolsd` hands the value to the guest agent whose files match the
//! golden files of `testdata/guest/`, the image cache serves the next spawn, the disk comes
//! back byte for byte through `snapshot_to_image` (flat and streamOptimized), the export
//! snapshot is gone, and `destroy` leaves no file of the VMs.

use crate::support;

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use esx_driver::HypervisorDriver;
use esx_guest::{guestinfo, NicConfig};
use esx_provision::{
    no_progress, CacheUse, ExportFormat, ImageSource, NicSpec, SpawnSpec, UrlOptions,
};
use support::{files_under, pattern, Sim};

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/guest")
}

/// The NICs of a golden case, from its `machine.id`.
fn case_nics(case: &str) -> Vec<NicConfig> {
    let text = std::fs::read_to_string(testdata().join(case).join("machine.id")).unwrap();
    esx_guest::parse_machine_id(text.trim()).unwrap()
}

/// Spawn NICs for golden NICs: the first on "VM Network", the others on VLAN port groups.
fn nic_specs(nics: &[NicConfig]) -> Vec<NicSpec> {
    nics.iter()
        .enumerate()
        .map(|(i, n)| NicSpec {
            network: if i == 0 {
                "VM Network".into()
            } else {
                format!("pg-vlan{}", 40 + i)
            },
            vlan: (i > 0).then_some(40 + i as u16),
            mac: Some(n.mac),
            ipv4: n.ipv4.as_ref().map(|c| (c.address, c.netmask.prefix_len())),
            gateway: n.ipv4.as_ref().and_then(|c| c.gateway),
            dns: n.dns.clone(),
            ..Default::default()
        })
        .collect()
}

fn vmx_of(sim: &Sim, ds: &str, name: &str) -> esx_vmx::VmxFile {
    let path = sim.datastore(ds).join(name).join(format!("{name}.vmx"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    esx_vmx::VmxFile::parse(&bytes).unwrap()
}

fn copy_tree(from: &Path, to: &Path) {
    for rel in files_under(from) {
        let target = to.join(&rel);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(from.join(&rel), &target).unwrap();
    }
}

fn tree(dir: &Path) -> BTreeMap<String, String> {
    files_under(dir)
        .into_iter()
        .map(|r| {
            let text = std::fs::read_to_string(dir.join(&r)).unwrap_or_default();
            (r, text)
        })
        .collect()
}

/// Runs the guest agent on a copy of the case's root with a fake `vmtoolsd` that prints
/// `machine_id`, and compares what it wrote with the case's expected files.
fn agent_writes_the_golden_files(sim: &Sim, case: &str, machine_id: &str) {
    let guest = sim.file(&format!("guest-{case}"));
    let root = guest.join("root");
    copy_tree(&testdata().join(case).join("root"), &root);
    let value = guest.join("machine.id");
    std::fs::write(&value, machine_id).unwrap();
    let tools = guest.join("vmtoolsd");
    std::fs::write(
        &tools,
        format!(
            "#!/bin/sh\n[ \"$1 $2\" = \"--cmd machine.id.get\" ] || exit 1\ncat '{}'\n",
            value.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&tools, std::fs::Permissions::from_mode(0o755)).unwrap();
    let options = esx_guest::agent::Options {
        root: root.clone(),
        source: esx_guest::source::Source::MachineId,
        vmtoolsd: esx_guest::source::Vmtoolsd::with_program(&tools),
        ..Default::default()
    };
    esx_guest::agent::run(&options).unwrap_or_else(|e| panic!("{case}: agent: {e}"));
    let mut want = tree(&testdata().join(case).join("root"));
    want.extend(tree(&testdata().join(case).join("expected")));
    assert_eq!(tree(&root), want, "{case}: the files the agent wrote");
}

async fn end_to_end(flavor: esx_sim::Flavor, test: &str) {
    let sim = Sim::start(test, flavor).await;
    let p = sim.provisioner().await;
    let image = pattern(3 << 20, 7);
    let image_path = sim.file("disk.raw");
    std::fs::write(&image_path, &image).unwrap();

    let mut spawned = Vec::new();
    for (i, case) in ["rhel", "debian", "ubuntu", "networkd"].iter().enumerate() {
        let golden = case_nics(case);
        let mut spec = SpawnSpec::new(format!("vm-{case}"), ImageSource::File(image_path.clone()));
        spec.nics = nic_specs(&golden);
        spec.vcpus = 2;
        spec.memory_mib = 1024;
        let vm = p
            .spawn(&spec, no_progress())
            .await
            .unwrap_or_else(|e| panic!("{case}: {e}"));
        assert_eq!(
            vm.cache,
            if i == 0 {
                CacheUse::Uploaded
            } else {
                CacheUse::Hit
            },
            "{case}: the image cache"
        );
        assert!(vm.domain.id > 0, "{case}: powered on");
        // The exact machine.id (Nova's records, '#' after each) and the guestinfo keys.
        let vmx = vmx_of(&sim, &vm.datastore, &spec.name);
        let machine_id = vmx
            .get("machine.id")
            .expect("machine.id in the .vmx")
            .to_string();
        assert_eq!(
            machine_id,
            esx_guest::format_machine_id(
                &esx_provision::spawn::nic_configs(&spec.nics, &vm.macs).unwrap()
            )
        );
        assert_eq!(Some(machine_id.as_str()), vm.machine_id.as_deref());
        assert!(machine_id.ends_with('#') && machine_id.matches('#').count() == golden.len());
        let encoding = vmx
            .get("guestinfo.metadata.encoding")
            .expect("encoding key");
        let meta = vmx.get("guestinfo.metadata").expect("metadata key");
        let text =
            guestinfo::decode(meta, guestinfo::Encoding::from_value(encoding).unwrap()).unwrap();
        let parsed = guestinfo::parse_metadata(&text).unwrap();
        assert_eq!(parsed.local_hostname.as_deref(), Some(spec.name.as_str()));
        assert_eq!(parsed.nics.len(), golden.len());
        agent_writes_the_golden_files(&sim, case, &machine_id);
        spawned.push(vm);
    }
    // The rhel VM's value, literally.
    assert_eq!(
        spawned[0].machine_id.as_deref(),
        Some(
            "00:50:56:8a:10:01;10.20.0.15;255.255.255.0;10.20.0.1;10.20.0.255;10.20.0.2,10.20.0.3#\
              00:50:56:8a:10:02;192.168.50.7;255.255.255.128;192.168.50.1;192.168.50.127;10.20.0.2#\
              de:ad:be:ef:00:09;10.9.9.9;255.255.255.0;;10.9.9.255;#"
        )
    );

    // Back to an image, both formats; the export snapshot does not stay.
    let dom = &spawned[0].domain;
    let flat = sim.file("export.raw");
    let e = p
        .snapshot_to_image(
            dom,
            &ImageSource::File(flat.clone()),
            ExportFormat::Flat,
            &UrlOptions::default(),
            no_progress(),
        )
        .await
        .unwrap();
    assert_eq!(e.capacity, image.len() as u64);
    assert!(
        std::fs::read(&flat).unwrap() == image,
        "the flat export equals the image"
    );
    let so = sim.file("export.vmdk");
    p.snapshot_to_image(
        dom,
        &ImageSource::File(so.clone()),
        ExportFormat::StreamOptimized,
        &UrlOptions::default(),
        no_progress(),
    )
    .await
    .unwrap();
    let so_len = std::fs::metadata(&so).unwrap().len();
    assert!(
        so_len < image.len() as u64,
        "streamOptimized is compressed ({so_len} bytes)"
    );
    let mut back = Vec::new();
    let r = esx_vmdk::Reader::open(std::fs::File::open(&so).unwrap(), Some(so_len)).unwrap();
    std::io::Read::read_to_end(&mut r.into_flat(), &mut back).unwrap();
    assert!(
        back == image,
        "the streamOptimized export reads back as the image"
    );
    assert_eq!(
        p.connection().domain_snapshot_num(dom, 0).await.unwrap(),
        0,
        "no snapshot left"
    );
    // The exported image spawns again (from its own content: a cache hit too).
    let again = p
        .spawn(
            &SpawnSpec::new("vm-again", ImageSource::File(so.clone())),
            no_progress(),
        )
        .await
        .unwrap();
    assert_eq!(
        again.cache,
        CacheUse::Uploaded,
        "a streamOptimized file is another image file"
    );
    spawned.push(again);

    // destroy leaves nothing of the VMs.
    let ds = spawned[0].datastore.clone();
    for vm in &spawned {
        p.destroy(&vm.domain).await.unwrap();
    }
    let left: Vec<String> = files_under(&sim.datastore(&ds))
        .into_iter()
        .filter(|f| !f.starts_with("esx-image-cache/"))
        .filter(|f| {
            spawned
                .iter()
                .any(|v| f.starts_with(&format!("{}/", v.domain.name)))
                || f.starts_with("esx-tmp/")
        })
        .collect();
    assert!(left.is_empty(), "files left: {left:?}");
    let names = p.list_instances().await.unwrap();
    assert!(
        spawned.iter().all(|v| !names.contains(&v.domain.name)),
        "{names:?}"
    );
    // The cache holds whole images only.
    let cache: Vec<String> = files_under(&sim.datastore(&ds))
        .into_iter()
        .filter(|f| f.starts_with("esx-image-cache/"))
        .collect();
    assert_eq!(
        cache.len(),
        4,
        "two images, descriptor and extent each: {cache:?}"
    );
    assert!(cache.iter().all(|f| !f.contains("/tmp-")), "{cache:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn end_to_end_on_esx() {
    end_to_end(esx_sim::Flavor::Esx, "e2e-esx").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn end_to_end_on_a_vcenter_cluster() {
    end_to_end(esx_sim::Flavor::Vcenter, "e2e-vc").await;
}
