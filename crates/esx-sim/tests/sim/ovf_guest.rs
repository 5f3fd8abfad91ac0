//! OVF import and export through `HttpNfcLease`s, and guest operations, with the unmodified
//! clients (govc, pyVmomi) against an in-process simulator on loopback.

use std::path::{Path, PathBuf};
use std::process::Command;

const PYTHON: &str = "/opt/peers/venv/bin/python";
use crate::support;
use support::govc::GOVC;

fn peers() -> bool {
    let ok = Path::new(GOVC).exists() && Path::new(PYTHON).exists();
    if !ok {
        eprintln!("SKIPPED: /opt/peers is missing (run ../shared/peers/setup-peers.sh)");
    }
    ok
}

fn data_dir(tag: &str) -> PathBuf {
    let dir = support::data_dir("ovfguest", tag);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

struct Govc {
    url: String,
    home: PathBuf,
    cwd: PathBuf,
}

impl Govc {
    fn new(port: u16, dir: &Path) -> Govc {
        Govc {
            url: format!("https://root:pass@127.0.0.1:{port}/sdk"),
            home: dir.join("govmomi"),
            cwd: dir.to_path_buf(),
        }
    }

    fn try_run(&self, args: &[&str]) -> (bool, String) {
        let (ok, out, err) = support::govc::run_in(&self.url, &self.home, Some(&self.cwd), args);
        (ok, out + &err)
    }

    fn run(&self, args: &[&str]) -> String {
        let (ok, out) = self.try_run(args);
        assert!(ok, "govc {args:?} failed: {out}");
        out
    }

    fn fails(&self, args: &[&str], want: &str) {
        let (ok, out) = self.try_run(args);
        assert!(!ok, "govc {args:?} succeeded: {out}");
        assert!(
            out.contains(want),
            "govc {args:?}: wanted {want:?} in {out}"
        );
    }
}

/// Runs blocking client code off the async workers.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

const CAPACITY: u64 = 4 << 20;

/// The flat content of the test disk: a few non-zero runs in 4 MiB of zeros.
fn disk_bytes() -> Vec<u8> {
    let mut d = vec![0u8; CAPACITY as usize];
    d[..11].copy_from_slice(b"hello, disk");
    for (i, b) in d[(1 << 20)..(1 << 20) + 70_000].iter_mut().enumerate() {
        *b = (i % 251) as u8 + 1;
    }
    d[CAPACITY as usize - 1] = 0x5a;
    d
}

/// `data` as a streamOptimized VMDK.
fn stream_optimized(data: &[u8]) -> Vec<u8> {
    let mut w =
        esx_vmdk::StreamOptimizedWriter::new(Vec::new(), data.len() as u64, "lsilogic").unwrap();
    for (i, g) in data.chunks(64 * 1024).enumerate() {
        if g.iter().any(|b| *b != 0) {
            w.write_at((i * 64 * 1024) as u64, g).unwrap();
        }
    }
    w.finish().unwrap()
}

/// The flat bytes of a VMDK image.
fn flat_of(image: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    esx_vmdk::Reader::open(image, Some(image.len() as u64))
        .unwrap()
        .into_flat()
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn ovf(name: &str, vmdk: &str, size: usize, net: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1"
  xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData"
  xmlns:vssd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData"
  xmlns:vmw="http://www.vmware.com/schema/ovf">
  <References>
    <File ovf:href="{vmdk}" ovf:id="file1" ovf:size="{size}"/>
  </References>
  <DiskSection>
    <Info>Virtual disk information</Info>
    <Disk ovf:capacity="4" ovf:capacityAllocationUnits="byte * 2^20" ovf:diskId="vmdisk1" ovf:fileRef="file1"
      ovf:format="http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized"/>
  </DiskSection>
  <NetworkSection>
    <Info>The list of logical networks</Info>
    <Network ovf:name="{net}"><Description>The {net} network</Description></Network>
  </NetworkSection>
  <VirtualSystem ovf:id="{name}">
    <Info>A virtual machine</Info>
    <Name>{name}</Name>
    <AnnotationSection><Info>note</Info><Annotation>made by hand &amp; imported</Annotation></AnnotationSection>
    <OperatingSystemSection ovf:id="101" vmw:osType="otherLinux64Guest"><Info>os</Info></OperatingSystemSection>
    <EulaSection><Info>licence</Info><License>Be nice.</License></EulaSection>
    <VirtualHardwareSection>
      <Info>Virtual hardware requirements</Info>
      <System>
        <vssd:ElementName>Virtual Hardware Family</vssd:ElementName>
        <vssd:InstanceID>0</vssd:InstanceID>
        <vssd:VirtualSystemType>vmx-13</vssd:VirtualSystemType>
      </System>
      <Item><rasd:AllocationUnits>hertz * 10^6</rasd:AllocationUnits><rasd:ElementName>2 CPUs</rasd:ElementName>
        <rasd:InstanceID>1</rasd:InstanceID><rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity>2</rasd:VirtualQuantity></Item>
      <Item><rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits><rasd:ElementName>256MB</rasd:ElementName>
        <rasd:InstanceID>2</rasd:InstanceID><rasd:ResourceType>4</rasd:ResourceType><rasd:VirtualQuantity>256</rasd:VirtualQuantity></Item>
      <Item><rasd:Address>0</rasd:Address><rasd:ElementName>SCSI 0</rasd:ElementName><rasd:InstanceID>3</rasd:InstanceID>
        <rasd:ResourceSubType>lsilogic</rasd:ResourceSubType><rasd:ResourceType>6</rasd:ResourceType></Item>
      <Item><rasd:Address>1</rasd:Address><rasd:ElementName>IDE 1</rasd:ElementName><rasd:InstanceID>4</rasd:InstanceID>
        <rasd:ResourceType>5</rasd:ResourceType></Item>
      <Item><rasd:AddressOnParent>0</rasd:AddressOnParent><rasd:ElementName>disk</rasd:ElementName>
        <rasd:HostResource>ovf:/disk/vmdisk1</rasd:HostResource><rasd:InstanceID>5</rasd:InstanceID>
        <rasd:Parent>3</rasd:Parent><rasd:ResourceType>17</rasd:ResourceType></Item>
      <Item><rasd:AddressOnParent>0</rasd:AddressOnParent><rasd:AutomaticAllocation>false</rasd:AutomaticAllocation>
        <rasd:ElementName>cd</rasd:ElementName><rasd:InstanceID>6</rasd:InstanceID><rasd:Parent>4</rasd:Parent>
        <rasd:ResourceType>15</rasd:ResourceType></Item>
      <Item><rasd:AutomaticAllocation>true</rasd:AutomaticAllocation><rasd:Connection>{net}</rasd:Connection>
        <rasd:ElementName>nic</rasd:ElementName><rasd:InstanceID>7</rasd:InstanceID>
        <rasd:ResourceSubType>VmxNet3</rasd:ResourceSubType><rasd:ResourceType>10</rasd:ResourceType></Item>
    </VirtualHardwareSection>
  </VirtualSystem>
</Envelope>
"#
    )
}

/// The datastore directory of the simulator's first datastore, and its name.
fn datastore(govc: &Govc, data: &Path) -> (String, PathBuf) {
    let out = govc.run(&["find", "/", "-type", "s"]);
    let path = out.lines().next().expect("a datastore").to_owned();
    let name = path.rsplit('/').next().unwrap().to_owned();
    // Datastores are directories named after them under the data directory.
    let dir = walk_find(data, &name).unwrap_or_else(|| panic!("no directory for {name}"));
    (name, dir)
}

fn walk_find(root: &Path, name: &str) -> Option<PathBuf> {
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).ok()?.flatten() {
            if e.file_type().ok()?.is_dir() {
                if e.file_name().to_string_lossy() == name {
                    return Some(e.path());
                }
                stack.push(e.path());
            }
        }
    }
    None
}

fn flat_extent(ds: &Path, vm: &str) -> Vec<u8> {
    std::fs::read(ds.join(format!("{vm}/{vm}-flat.vmdk"))).expect("flat extent")
}

async fn import_export(flavor: esx_sim::Flavor, tag: &str) {
    let dir = data_dir(tag);
    let h = support::serve(flavor, &dir.join("data")).await;
    let port = h.addr.port();
    let d2 = dir.clone();
    blocking(move || {
        let govc = Govc::new(port, &d2);
        let (ds_name, ds) = datastore(&govc, &d2.join("data"));
        let pool = govc.run(&["find", "/", "-type", "p"]);
        let pool = pool.lines().next().expect("a pool").to_owned();
        let place = ["-ds", ds_name.as_str(), "-pool", pool.as_str()];
        let data = disk_bytes();
        let image = stream_optimized(&data);
        let pkg = d2.join("pkg");
        std::fs::create_dir_all(&pkg).unwrap();
        std::fs::write(pkg.join("disk1.vmdk"), &image).unwrap();
        std::fs::write(
            pkg.join("web.ovf"),
            ovf("web", "disk1.vmdk", image.len(), "VM Network"),
        )
        .unwrap();
        govc.run(&[&["import.ovf"][..], &place, &["pkg/web.ovf"]].concat());
        let info = govc.run(&["vm.info", "-json", "web"]);
        assert!(info.contains("\"NumCPU\": 2"), "cpus");
        assert!(info.contains("\"MemoryMB\": 256"), "memory");
        assert!(info.contains("made by hand"), "annotation");
        let devs = govc.run(&["device.ls", "-vm", "web"]);
        for want in ["lsilogic-", "disk-", "cdrom-", "ethernet-0"] {
            assert!(devs.contains(want), "{want} missing: {devs}");
        }
        assert_eq!(flat_extent(&ds, "web"), data, "imported disk content");
        assert!(esx_sim::files::temps_under(&ds).is_empty());

        // Export: a streamOptimized image of the same bytes, and a descriptor naming it.
        govc.run(&["export.ovf", "-vm", "web", "out"]);
        let exported = std::fs::read(d2.join("out/web/web-disk-0.vmdk")).expect("exported disk");
        assert_eq!(&exported[..4], b"KDMV");
        assert_eq!(flat_of(&exported), data, "exported disk content");
        let desc = std::fs::read_to_string(d2.join("out/web/web.ovf")).unwrap();
        assert!(desc.contains("web-disk-0.vmdk"), "{desc}");
        // ...which imports again, byte for byte the same disk.
        govc.run(
            &[
                &["import.ovf", "-name", "web2"][..],
                &place,
                &["out/web/web.ovf"],
            ]
            .concat(),
        );
        assert_eq!(flat_extent(&ds, "web2"), flat_extent(&ds, "web"));

        // A powered-on VM is not exported.
        govc.run(&["vm.power", "-on", "web2"]);
        govc.fails(&["export.ovf", "-vm", "web2", "out2"], "current state");

        // A package naming a file that is not there fails before anything is created.
        std::fs::write(pkg.join("bad.ovf"), "<Envelope><References>").unwrap();
        govc.fails(
            &[&["import.ovf"][..], &place, &["pkg/bad.ovf"]].concat(),
            "",
        );
    })
    .await;
    h.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn govc_import_export_ovf_esx() {
    if !peers() {
        return;
    }
    import_export(esx_sim::Flavor::Esx, "ie-esx").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn govc_import_export_ovf_vcenter() {
    if !peers() {
        return;
    }
    import_export(esx_sim::Flavor::Vcenter, "ie-vc").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pyvmomi_import_complete_and_abort() {
    if !peers() {
        return;
    }
    let dir = data_dir("py");
    let h = support::serve(esx_sim::Flavor::Esx, &dir.join("data")).await;
    let port = h.addr.port().to_string();
    let d2 = dir.clone();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pyvmomi_ovf_import.py");
    let data = disk_bytes();
    let image = stream_optimized(&data);
    std::fs::write(dir.join("disk1.vmdk"), &image).unwrap();
    std::fs::write(
        dir.join("app.ovf"),
        ovf("app", "disk1.vmdk", image.len(), "VM Network"),
    )
    .unwrap();
    let o = blocking(move || {
        esx_testkit::process::output(
            Command::new(PYTHON)
                .arg(script)
                .args(["127.0.0.1", &port, d2.to_str().unwrap()]),
            esx_testkit::process::LIMIT,
        )
        .unwrap()
    })
    .await;
    let out = String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{out}");
    assert!(out.contains("completed app"), "{out}");
    assert!(out.contains("aborted gone"), "{out}");
    let port = h.addr.port();
    let d3 = dir.clone();
    blocking(move || {
        let govc = Govc::new(port, &d3);
        let (_, ds) = datastore(&govc, &d3.join("data"));
        assert_eq!(flat_extent(&ds, "app"), data);
        assert!(
            !ds.join("app-aborted").exists(),
            "aborted import's files remain"
        );
        assert!(esx_sim::files::temps_under(&ds).is_empty());
    })
    .await;
    h.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
