//! Defining, editing and undefining domains, and their XML, against esx-sim: a new domain
//! is written next to its first disk and registered, all or nothing; defining an existing
//! domain edits it with one reconfiguration.

use crate::support;

use esx_driver::{flags, ErrorCode, HypervisorDriver};
use support::{domain_xml, Sim};

fn files_under(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(it) = std::fs::read_dir(dir) {
        for e in it.flatten() {
            out.push(e.file_name().to_string_lossy().into_owned());
        }
    }
    out.sort();
    out
}

#[tokio::test]
async fn define_start_dump_undefine() {
    let sim = Sim::esx("define").await;
    let c = sim.connect().await;
    let d = c
        .domain_define_xml(&domain_xml("web", "web"))
        .await
        .unwrap();
    assert_eq!((d.name.as_str(), d.id), ("web", -1));
    let vmx = sim.datastore_dir("datastore1").join("web/web.vmx");
    assert!(vmx.is_file(), "the .vmx is next to the first disk");
    assert_eq!(c.domain_lookup_by_name("web").await.unwrap(), d);
    let xml = c.domain_get_xml_desc(&d, 0).await.unwrap();
    assert!(xml.contains("<name>web</name>"), "{xml}");
    assert!(xml.contains(&format!("<uuid>{}</uuid>", d.uuid)), "{xml}");
    assert!(xml.contains("<memory unit='KiB'>524288</memory>"), "{xml}");
    assert!(
        xml.contains("<source file='[datastore1] web/web.vmdk'/>"),
        "{xml}"
    );
    assert!(
        xml.contains("<vmware:datacenterpath>ha-datacenter</vmware:datacenterpath>"),
        "{xml}"
    );
    c.domain_create(&d).await.unwrap();
    let running = c.domain_lookup_by_name("web").await.unwrap();
    let xml = c.domain_get_xml_desc(&running, 0).await.unwrap();
    assert!(
        xml.starts_with(&format!("<domain type='vmware' id='{}'", running.id)),
        "{xml}"
    );
    let inactive = c
        .domain_get_xml_desc(&running, flags::domain_xml::INACTIVE)
        .await
        .unwrap();
    assert!(
        inactive.starts_with("<domain type='vmware' xmlns"),
        "{inactive}"
    );
    c.domain_destroy(&running).await.unwrap();
    c.domain_undefine(&d).await.unwrap();
    assert_eq!(
        c.domain_lookup_by_name("web").await.unwrap_err().code,
        ErrorCode::NoDomain
    );
    // Undefine keeps the files (as libvirt's UnregisterVM does).
    assert!(vmx.is_file());
}

#[tokio::test]
async fn define_refuses_bad_definitions_and_leaves_nothing() {
    let sim = Sim::esx("define-bad").await;
    let c = sim.connect().await;
    let ds = sim.datastore_dir("datastore1");
    let before = files_under(&ds);
    // Malformed XML.
    let e = c
        .domain_define_xml("<domain type='vmware'><name>x</na")
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::XmlError, "{e}");
    // Not a VMware domain.
    let e = c
        .domain_define_xml(&domain_xml("kvm", "kvm").replace("type='vmware'", "type='kvm'"))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::ConfigUnsupported, "{e}");
    // No file-based disk: libvirt cannot tell where the .vmx goes.
    let no_disk = "<domain type='vmware'><name>nodisk</name><memory>4096</memory>\
                   <os><type>hvm</type></os></domain>";
    let e = c.domain_define_xml(no_disk).await.unwrap_err();
    assert!(
        e.message
            .contains("doesn't contain any file-based harddisks"),
        "{e}"
    );
    // A disk that is not a VMDK.
    let e = c
        .domain_define_xml(&domain_xml("img", "img").replace("img.vmdk", "img.raw"))
        .await
        .unwrap_err();
    assert!(
        e.message.contains("to be a VMDK image") || e.code == ErrorCode::ConfigUnsupported,
        "{e}"
    );
    assert_eq!(files_under(&ds), before, "nothing was written");

    // A registration that fails removes the .vmx and the directory it made.
    let failing = Sim::start_with("define-fail", esx_sim::Flavor::Esx, None, |cfg| {
        cfg.inject = "fail-task:RegisterVM_Task".parse().unwrap()
    })
    .await;
    let c = failing.connect().await;
    let ds = failing.datastore_dir("datastore1");
    let before = files_under(&ds);
    let e = c
        .domain_define_xml(&domain_xml("lost", "lost"))
        .await
        .unwrap_err();
    assert!(e.message.contains("Could not define domain"), "{e}");
    assert_eq!(files_under(&ds), before, "no orphan directory or .vmx");
    assert!(c.domain_lookup_by_name("lost").await.is_err());
}

#[tokio::test]
async fn define_never_overwrites_another_vmx() {
    let sim = Sim::esx("define-clash").await;
    let c = sim.connect().await;
    // vm1's .vmx lives at [datastore1] vm1/vm1.vmx: a new domain named vm1 with another UUID
    // whose disk is in vm1/ would clash; a different name in the same directory does not.
    let xml = domain_xml("vm1", "vm1").replace(
        "<name>vm1</name>",
        "<name>vm1</name>\n  <uuid>11111111-2222-3333-4444-555555555555</uuid>",
    );
    let e = c.domain_define_xml(&xml).await.unwrap_err();
    assert!(e.message.contains("already"), "{e}");
    assert_eq!(c.connect_num_of_defined_domains().await.unwrap(), 3);
}

#[tokio::test]
async fn define_of_an_existing_domain_edits_it() {
    let sim = Sim::esx("edit").await;
    let c = sim.connect().await;
    let d = c
        .domain_define_xml(&domain_xml("app", "app"))
        .await
        .unwrap();
    let xml = c.domain_get_xml_desc(&d, 0).await.unwrap();
    // More memory, more vCPUs, a description, a new name: one edit.
    let edited = xml
        .replace(
            "<memory unit='KiB'>524288</memory>",
            "<memory unit='KiB'>1048576</memory>",
        )
        .replace(
            "<currentMemory unit='KiB'>524288</currentMemory>",
            "<currentMemory unit='KiB'>1048576</currentMemory>",
        )
        .replace(
            "<vcpu placement='static'>2</vcpu>",
            "<vcpu placement='static'>4</vcpu>",
        )
        .replace(
            "<name>app</name>",
            "<name>app2</name>\n  <description>edited</description>",
        );
    let d2 = c.domain_define_xml(&edited).await.unwrap();
    assert_eq!(d2.uuid, d.uuid, "same domain");
    assert_eq!(d2.name, "app2");
    let info = c.domain_get_info(&d2).await.unwrap();
    assert_eq!((info.max_mem, info.nr_virt_cpu), (1048576, 4));
    let now = c.domain_get_xml_desc(&d2, 0).await.unwrap();
    assert!(now.contains("<description>edited</description>"), "{now}");
    assert_eq!(
        c.connect_num_of_defined_domains().await.unwrap(),
        4,
        "no new VM"
    );
    // Defining the same XML again changes nothing.
    let d3 = c.domain_define_xml(&now).await.unwrap();
    assert_eq!(d3, d2);
    // An edit the ESX format cannot express is refused before anything is sent, and the
    // domain stays as it was.
    let bad = now.replace(
        "<vcpu placement='static'>4</vcpu>",
        "<vcpu placement='static' cpuset='0-3'>4</vcpu>",
    );
    let e = c.domain_define_xml(&bad).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::ConfigUnsupported, "{e}");
    assert_eq!(c.domain_get_xml_desc(&d2, 0).await.unwrap(), now);
}

#[tokio::test]
async fn edit_devices() {
    let sim = Sim::esx("edit-dev").await;
    let c = sim.connect().await;
    let d = c
        .domain_define_xml(&domain_xml("dev", "dev"))
        .await
        .unwrap();
    let xml = c.domain_get_xml_desc(&d, 0).await.unwrap();
    // A second NIC.
    let two_nics = xml.replace(
        "    <video>",
        "    <interface type='bridge'>\n      <mac address='00:50:56:11:22:44'/>\n      \
         <source bridge='VM Network'/>\n    </interface>\n    <video>",
    );
    c.domain_define_xml(&two_nics).await.unwrap();
    let now = c.domain_get_xml_desc(&d, 0).await.unwrap();
    assert_eq!(now.matches("<interface type='bridge'>").count(), 2, "{now}");
    assert!(now.contains("00:50:56:11:22:44"), "{now}");
    // Remove it again.
    c.domain_define_xml(&xml).await.unwrap();
    let back = c.domain_get_xml_desc(&d, 0).await.unwrap();
    assert_eq!(
        back.matches("<interface type='bridge'>").count(),
        1,
        "{back}"
    );
}

#[tokio::test]
async fn native_conversions_through_the_connection() {
    let sim = Sim::esx("native").await;
    let c = sim.connect().await;
    let vmx = "config.version = \"8\"\nvirtualHW.version = \"4\"\ndisplayName = \"n\"\n\
               memsize = \"64\"\nscsi0.present = \"true\"\nscsi0:0.present = \"true\"\n\
               scsi0:0.fileName = \"/vmfs/volumes/datastore1/n/n.vmdk\"\n";
    let xml = c
        .connect_domain_xml_from_native("vmware-vmx", vmx)
        .await
        .unwrap();
    assert!(
        xml.contains("<source file='[datastore1] n/n.vmdk'/>"),
        "{xml}"
    );
    let e = c
        .connect_domain_xml_from_native("xen-xm", vmx)
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid argument: Unsupported config format 'xen-xm'"
    );
    let back = c
        .connect_domain_xml_to_native("vmware-vmx", &xml)
        .await
        .unwrap();
    assert!(
        back.contains("virtualHW.version = \"8\""),
        "ESX 7 defaults to 8: {back}"
    );
    assert!(
        back.contains("scsi0:0.fileName = \"/vmfs/volumes/datastore1/n/n.vmdk\""),
        "{back}"
    );
}

#[tokio::test]
async fn vnc_passwords_need_the_secure_flag() {
    let sim = Sim::esx("secure").await;
    let c = sim.connect().await;
    let xml = domain_xml("vnc", "vnc").replace(
        "  </devices>",
        "    <graphics type='vnc' port='5901' passwd='s3cret'/>\n  </devices>",
    );
    let d = c.domain_define_xml(&xml).await.unwrap();
    let plain = c.domain_get_xml_desc(&d, 0).await.unwrap();
    assert!(
        plain.contains("<graphics type='vnc' port='5901'"),
        "{plain}"
    );
    assert!(!plain.contains("s3cret"), "{plain}");
    let secure = c
        .domain_get_xml_desc(&d, flags::domain_xml::SECURE)
        .await
        .unwrap();
    assert!(secure.contains("passwd='s3cret'"), "{secure}");
}

#[tokio::test]
async fn delete_removes_the_vm_and_its_files() {
    let sim = Sim::esx("delete").await;
    let c = sim.connect().await;
    let d = c
        .domain_define_xml(&domain_xml("gone", "gone"))
        .await
        .unwrap();
    let dir = sim.datastore_dir("datastore1").join("gone");
    assert!(dir.is_dir());
    c.domain_create(&d).await.unwrap();
    let e = c.domain_delete(&d).await.unwrap_err();
    assert_eq!(e.message, "Domain is not powered off");
    c.domain_destroy(&d).await.unwrap();
    c.domain_delete(&d).await.unwrap();
    assert_eq!(
        c.domain_lookup_by_name("gone").await.unwrap_err().code,
        ErrorCode::NoDomain
    );
    assert!(!dir.exists(), "no file of the VM left");
}
