//! Datastore files over real HTTPS: `/folder` uploads and downloads that keep content byte
//! for byte and sparse, uploads broken off midway, full datastores, and the disk and file
//! operations a provisioning library chains (upload, copy thin and thick, file manager,
//! a VM on the disk, a snapshot, a copy of the snapshot's disk, clean-up).

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use esx_vim::client::{Client, ConnectOptions, DatastoreFile, HttpOptions, RetryPolicy};
use esx_vim::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const MIB: usize = 1 << 20;

async fn sim(name: &str) -> (esx_sim::Handle, PathBuf) {
    let dir = std::env::temp_dir().join(format!("esx-sim-dsfiles-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut cfg = esx_sim::Config::new(&dir);
    cfg.inventory = "vm=1".parse().unwrap();
    (esx_sim::Simulator::start(cfg).await.unwrap(), dir)
}

async fn connect(h: &esx_sim::Handle) -> Client {
    let mut http = HttpOptions {
        retry: RetryPolicy::none(),
        ..Default::default()
    };
    http.tls.no_verify = true;
    let options = ConnectOptions {
        user: "root".into(),
        password: "pass".into(),
        http,
        ..Default::default()
    };
    Client::connect(&h.url, options).await.unwrap()
}

fn file(path: &str) -> DatastoreFile {
    DatastoreFile::new("ha-datacenter", "datastore1", path)
}

/// `len` bytes of 1 MiB blocks: every third block zeros, the others a non-zero pattern.
fn pattern(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| {
            let block = i / MIB;
            if block % 3 == 1 {
                0
            } else {
                ((block * 31 + i) % 251 + 1) as u8
            }
        })
        .collect()
}

/// Waits (up to 20 s, checking every few milliseconds) until `cond` holds.
async fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

mod raw {
    //! A bare HTTPS client, to send what a polite one never would (a body cut short).

    use std::sync::Arc;

    use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
    use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
    use rustls::{DigitallySignedStruct, SignatureScheme};

    #[derive(Debug)]
    struct AnyCert(Arc<rustls::crypto::CryptoProvider>);

    impl ServerCertVerifier for AnyCert {
        fn verify_server_cert(
            &self,
            _: &CertificateDer<'_>,
            _: &[CertificateDer<'_>],
            _: &ServerName<'_>,
            _: &[u8],
            _: UnixTime,
        ) -> Result<ServerCertVerified, rustls::Error> {
            Ok(ServerCertVerified::assertion())
        }
        fn verify_tls12_signature(
            &self,
            _: &[u8],
            _: &CertificateDer<'_>,
            _: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            Ok(HandshakeSignatureValid::assertion())
        }
        fn verify_tls13_signature(
            &self,
            _: &[u8],
            _: &CertificateDer<'_>,
            _: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            Ok(HandshakeSignatureValid::assertion())
        }
        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.0.signature_verification_algorithms.supported_schemes()
        }
    }

    /// A TLS connection to the simulator at `addr`.
    pub async fn connect(
        addr: std::net::SocketAddr,
    ) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let cfg = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .unwrap()
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCert(provider)))
            .with_no_client_auth();
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        tokio_rustls::TlsConnector::from(Arc::new(cfg))
            .connect(ServerName::try_from("127.0.0.1").unwrap(), tcp)
            .await
            .unwrap()
    }
}

/// The head of a PUT of `path` announcing `len` bytes, with the session cookie of `c`.
fn put_head(c: &Client, path: &str, len: usize) -> String {
    let cookie = c.transport().session_cookie().unwrap();
    format!(
        "PUT {} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: vmware_soap_session={cookie}\r\n\
         Content-Type: application/octet-stream\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n",
        file(path).url_path()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_round_trip_sparse_and_whole() {
    let (h, dir) = sim("roundtrip").await;
    let c = connect(&h).await;
    let t = c.transport();
    let data = pattern(64 * MIB);
    let f = file("images/disk-flat.vmdk");
    std::fs::create_dir_all(dir.join("datastore1/images")).unwrap();
    let sent = t
        .upload(
            &f,
            std::io::Cursor::new(data.clone()),
            Some(data.len() as u64),
        )
        .await
        .unwrap();
    assert_eq!(sent, data.len() as u64);
    let mut got = Vec::new();
    assert_eq!(t.download(&f, &mut got).await.unwrap(), data.len() as u64);
    assert!(got == data, "the download differs from the upload");
    // Stored sparse: the zero blocks (a third of the file) take no space.
    let m = std::fs::metadata(dir.join("datastore1/images/disk-flat.vmdk")).unwrap();
    assert_eq!(m.len(), data.len() as u64);
    let allocated = m.blocks() * 512;
    assert!(
        allocated <= (data.len() as u64) * 2 / 3 + MIB as u64,
        "not sparse: {allocated} bytes allocated for {}",
        data.len()
    );
    // A chunked upload of unknown length replaces the file whole.
    let small = pattern(3 * MIB + 5);
    t.upload(&f, std::io::Cursor::new(small.clone()), None)
        .await
        .unwrap();
    let mut got = Vec::new();
    t.download(&f, &mut got).await.unwrap();
    assert!(got == small);
    // A missing file is 404; no temporary file is left anywhere.
    let e = t
        .download(&file("images/nope"), &mut Vec::new())
        .await
        .unwrap_err();
    assert!(
        matches!(e, esx_vim::client::TransferError::NotFound { .. }),
        "{e}"
    );
    assert_eq!(esx_sim::files::temps_under(&dir), Vec::<PathBuf>::new());
    h.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_broken_off_leaves_nothing() {
    let (h, dir) = sim("dropped").await;
    let c = connect(&h).await;
    let images = dir.join("datastore1/images");
    std::fs::create_dir_all(&images).unwrap();
    std::fs::write(images.join("old.bin"), b"old content").unwrap();
    for (name, before) in [("new.bin", None), ("old.bin", Some(&b"old content"[..]))] {
        let mut s = raw::connect(h.addr).await;
        let path = format!("images/{name}");
        s.write_all(put_head(&c, &path, 8 * MIB).as_bytes())
            .await
            .unwrap();
        s.write_all(&pattern(4 * MIB)).await.unwrap();
        s.flush().await.unwrap();
        // The server is writing (its temporary file exists), then the client goes away.
        eventually("the upload has begun", || {
            !esx_sim::files::temps_under(&dir).is_empty()
        })
        .await;
        drop(s);
        eventually("the temporary file is gone", || {
            esx_sim::files::temps_under(&dir).is_empty()
        })
        .await;
        match before {
            None => assert!(!images.join(name).exists(), "{name} left behind"),
            Some(b) => assert_eq!(std::fs::read(images.join(name)).unwrap(), b),
        }
    }
    // A body shorter than announced, then a clean close of the write side: 400, nothing.
    let mut s = raw::connect(h.addr).await;
    s.write_all(put_head(&c, "images/short.bin", 10).as_bytes())
        .await
        .unwrap();
    s.write_all(b"12345").await.unwrap();
    s.shutdown().await.unwrap();
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer).await;
    eventually("the temporary file is gone", || {
        esx_sim::files::temps_under(&dir).is_empty()
    })
    .await;
    assert!(!images.join("short.bin").exists());
    h.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}

/// Reads one property of `obj`.
async fn prop(c: &Client, obj: &ManagedObjectReference, path: &str) -> Option<Any> {
    let spec = PropertyFilterSpec {
        prop_set: vec![PropertySpec {
            r#type: obj.r#type.clone(),
            all: None,
            path_set: vec![path.into()],
        }],
        object_set: vec![ObjectSpec {
            obj: obj.clone(),
            ..Default::default()
        }],
        ..Default::default()
    };
    let objs = c.retrieve_properties(spec, None).await.unwrap();
    esx_vim::client::property(objs.first()?, path).cloned()
}

async fn free_space(c: &Client) -> i64 {
    let ds = ManagedObjectReference::new("Datastore", "datastore-datastore1");
    match prop(c, &ds, "summary").await {
        Some(Any::DatastoreSummary(s)) => s.free_space,
        other => panic!("{other:?}"),
    }
}

/// Runs a task to its end: its result, or the fault's type name and message.
async fn run(
    c: &Client,
    t: Result<ManagedObjectReference, esx_vim::Error>,
) -> Result<Option<Any>, String> {
    let t = t.map_err(|e| e.to_string())?;
    c.wait_for_task(&t, |_| {})
        .await
        .map(|i| i.result)
        .map_err(|e| e.to_string())
}

fn vdm(c: &Client) -> ManagedObjectReference {
    c.service_content().virtual_disk_manager.clone().unwrap()
}

fn fm(c: &Client) -> ManagedObjectReference {
    c.service_content().file_manager.clone().unwrap()
}

fn disk_spec(disk_type: &str, adapter: &str, kb: i64) -> BaseVirtualDiskSpec {
    BaseVirtualDiskSpec::from(FileBackedVirtualDiskSpec {
        disk_type: disk_type.into(),
        adapter_type: adapter.into(),
        capacity_kb: kb,
        ..Default::default()
    })
}

async fn copy_disk(
    c: &Client,
    from: &str,
    to: &str,
    spec: Option<BaseVirtualDiskSpec>,
    force: bool,
) -> Result<Option<Any>, String> {
    let vdm = vdm(c);
    let t = methods::copy_virtual_disk_task(
        c,
        &vdm,
        from.into(),
        None,
        to.into(),
        None,
        spec,
        Some(force),
    )
    .await;
    run(c, t).await
}

/// A small VM spec on `[datastore1] <name>/`, with the disk `disk` attached (no file made).
fn vm_spec(name: &str, disk: &str, create_kb: Option<i64>) -> VirtualMachineConfigSpec {
    let ctl = VirtualDeviceConfigSpec {
        operation: Some(VirtualDeviceConfigSpecOperation::Add),
        device: BaseVirtualDevice::from(VirtualLsiLogicController {
            key: 1000,
            bus_number: 0,
            shared_bus: VirtualSCSISharing::NoSharing,
            ..Default::default()
        }),
        ..Default::default()
    };
    let disk = VirtualDeviceConfigSpec {
        operation: Some(VirtualDeviceConfigSpecOperation::Add),
        file_operation: create_kb.map(|_| VirtualDeviceConfigSpecFileOperation::Create),
        device: BaseVirtualDevice::from(VirtualDisk {
            key: -1,
            controller_key: Some(1000),
            unit_number: Some(0),
            capacity_in_kb: create_kb.unwrap_or(0),
            backing: Some(BaseVirtualDeviceBackingInfo::from(
                VirtualDiskFlatVer2BackingInfo {
                    file_name: disk.into(),
                    disk_mode: "persistent".into(),
                    ..Default::default()
                },
            )),
            ..Default::default()
        }),
        ..Default::default()
    };
    VirtualMachineConfigSpec {
        name: Some(name.into()),
        guest_id: Some("otherGuest64".into()),
        memory_mb: Some(64),
        num_cp_us: Some(1),
        files: Some(VirtualMachineFileInfo {
            vm_path_name: Some("[datastore1]".into()),
            ..Default::default()
        }),
        device_change: vec![
            BaseVirtualDeviceConfigSpec::from(ctl),
            BaseVirtualDeviceConfigSpec::from(disk),
        ],
        ..Default::default()
    }
}

async fn create_vm(c: &Client, spec: VirtualMachineConfigSpec) -> Result<Option<Any>, String> {
    let folder = ManagedObjectReference::new("Folder", "ha-folder-vm");
    let pool = ManagedObjectReference::new("ResourcePool", "ha-root-pool");
    let t = methods::create_vm_task(c, &folder, spec, pool, None).await;
    run(c, t).await
}

/// The files (relative paths) under `dir`, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            out.push(p.strip_prefix(dir).unwrap().to_string_lossy().into_owned());
            if p.is_dir() {
                stack.push(p);
            }
        }
    }
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_datastore_refuses_and_leaves_nothing() {
    let dir = std::env::temp_dir().join(format!("esx-sim-dsfiles-full-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut cfg = esx_sim::Config::new(&dir);
    cfg.inventory = "vm=1".parse().unwrap();
    cfg.inject = "full-datastore:datastore1=3".parse().unwrap();
    let h = esx_sim::Simulator::start(cfg).await.unwrap();
    let c = connect(&h).await;
    let free = free_space(&c).await;
    assert_eq!(free, 3 << 20, "the rule leaves 3 MiB free");
    assert_eq!(h.datastore_free("datastore1"), Some(3 << 20));
    let ds = dir.join("datastore1");
    std::fs::create_dir_all(ds.join("images")).unwrap();
    // A 2 MiB disk to work with fits.
    let small = pattern(2 * MIB);
    c.transport()
        .upload(
            &file("images/small-flat.vmdk"),
            std::io::Cursor::new(small),
            Some(2 * MIB as u64),
        )
        .await
        .unwrap();
    let before = listing(&ds);

    // An upload past the free space: 507 naming the datastore and the sizes, nothing left.
    let mut s = raw::connect(h.addr).await;
    s.write_all(put_head(&c, "images/big.bin", 4 * MIB).as_bytes())
        .await
        .unwrap();
    s.write_all(&pattern(4 * MIB)).await.unwrap();
    s.flush().await.unwrap();
    let mut answer = vec![0u8; 4096];
    let n = s.read(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer[..n]).into_owned();
    assert!(answer.starts_with("HTTP/1.1 507"), "{answer}");
    let mut rest = String::new();
    let _ = s.read_to_string(&mut rest).await;
    let answer = answer + &rest;
    assert!(answer.contains("datastore1"), "{answer}");
    assert!(answer.contains(&(4 * MIB).to_string()), "{answer}");
    // The same through the client library (chunked, so found out midway).
    let e = c
        .transport()
        .upload(
            &file("images/big2.bin"),
            std::io::Cursor::new(pattern(4 * MIB)),
            None,
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("507"), "{e}");
    assert_eq!(listing(&ds), before);

    // Disks: a thick one that does not fit, a thick copy; NoDiskSpace naming the datastore.
    let small_desc = "# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType=\"vmfs\"\nRW 4096 VMFS \"small-flat.vmdk\"\nddb.adapterType = \"lsilogic\"\n";
    c.transport()
        .upload(
            &file("images/small.vmdk"),
            std::io::Cursor::new(small_desc.as_bytes().to_vec()),
            Some(small_desc.len() as u64),
        )
        .await
        .unwrap();
    let before = listing(&ds);
    let vdm = vdm(&c);
    let t = methods::create_virtual_disk_task(
        &c,
        &vdm,
        "[datastore1] images/thick.vmdk".into(),
        None,
        disk_spec("eagerZeroedThick", "lsiLogic", 4096),
    )
    .await;
    let e = run(&c, t).await.unwrap_err();
    assert!(e.contains("NoDiskSpace") && e.contains("datastore1"), "{e}");
    let e = copy_disk(
        &c,
        "[datastore1] images/small.vmdk",
        "[datastore1] images/copy.vmdk",
        Some(disk_spec("preallocated", "lsiLogic", 0)),
        false,
    )
    .await
    .unwrap_err();
    assert!(e.contains("NoDiskSpace"), "{e}");
    assert_eq!(listing(&ds), before);
    // A thin copy needs only what the source holds (1 MiB of data, the rest holes): it fits,
    // and the space it takes shows.
    let free = free_space(&c).await;
    copy_disk(
        &c,
        "[datastore1] images/small.vmdk",
        "[datastore1] images/copy.vmdk",
        Some(disk_spec("thin", "lsiLogic", 0)),
        false,
    )
    .await
    .unwrap();
    let used = free - free_space(&c).await;
    assert!((MIB as i64..2 * MIB as i64).contains(&used), "{used}");

    // No room at all: CreateVM_Task and CreateSnapshot_Task fail, leaving no file.
    assert!(h.set_datastore_free("datastore1", 0));
    assert_eq!(free_space(&c).await, 0);
    let before = listing(&ds);
    let e = create_vm(&c, vm_spec("full", "", Some(1024)))
        .await
        .unwrap_err();
    assert!(e.contains("NoDiskSpace"), "{e}");
    let vm = c
        .list_objects("VirtualMachine", &["name"], None)
        .await
        .unwrap()
        .remove(0)
        .obj;
    let t = methods::create_snapshot_task(&c, &vm, "s".into(), None, false, false).await;
    let e = run(&c, t).await.unwrap_err();
    assert!(e.contains("NoDiskSpace"), "{e}");
    assert!(prop(&c, &vm, "snapshot").await.is_none());
    let after: Vec<String> = listing(&ds);
    // The VM's own files were written on first use (lazily), nothing else.
    let added: Vec<&String> = after
        .iter()
        .filter(|f| !before.contains(f) && !f.starts_with("vm1"))
        .collect();
    assert!(added.is_empty(), "left behind: {added:?}");
    assert!(!ds.join("full").exists());
    // With room again, the same VM is made.
    assert!(h.set_datastore_free("datastore1", 64 << 20));
    create_vm(&c, vm_spec("full", "", Some(1024)))
        .await
        .unwrap();
    assert!(ds.join("full/full.vmdk").is_file());
    h.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}

/// The flat extent's bytes and whether its descriptor says thin, and its adapter type.
fn disk_facts(path: &Path) -> (Vec<u8>, bool, String) {
    let d = esx_sim::vmdk::Descriptor::read(path).unwrap();
    let extents = d.extent_paths(path).unwrap();
    assert_eq!(extents.len(), 1, "one flat extent");
    let bytes = std::fs::read(&extents[0]).unwrap();
    (
        bytes,
        d.thin(),
        d.ddb("ddb.adapterType").unwrap_or("").to_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provisioning_run_keeps_the_uploaded_bytes() {
    let (h, dir) = sim("provision").await;
    let c = connect(&h).await;
    let tr = c.transport();
    let ds = dir.join("datastore1");
    let fm = fm(&c);
    let cap = 8 * MIB;
    let image = pattern(cap);

    // The image cache folder, the upload of extent and descriptor.
    methods::make_directory(&c, &fm, "[datastore1] cache/tmp".into(), None, Some(true))
        .await
        .unwrap();
    let e = methods::make_directory(&c, &fm, "[datastore1] cache".into(), None, None)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("FileAlreadyExists"), "{e}");
    let e = methods::make_directory(&c, &fm, "[datastore1] a/b".into(), None, None)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("FileNotFound"), "{e}");
    let e = methods::make_directory(&c, &fm, "[nosuch] a".into(), None, None)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("InvalidDatastorePath"), "{e}");
    tr.upload(
        &file("cache/tmp/img-flat.vmdk"),
        std::io::Cursor::new(image.clone()),
        Some(cap as u64),
    )
    .await
    .unwrap();
    let desc = format!(
        "# Disk DescriptorFile\nversion=1\nencoding=\"UTF-8\"\nCID=fffffffe\nparentCID=ffffffff\n\
         createType=\"vmfs\"\n\n# Extent description\nRW {} VMFS \"img-flat.vmdk\"\n\n\
         # The Disk Data Base\n#DDB\n\nddb.adapterType = \"lsilogic\"\n",
        cap / 512
    );
    tr.upload(
        &file("cache/tmp/img.vmdk"),
        std::io::Cursor::new(desc.into_bytes()),
        None,
    )
    .await
    .unwrap();

    // File manager: move the pair into the cache, copy a directory, delete one.
    let mv = |from: &str, to: &str, force: bool| {
        let (c, fm) = (&c, &fm);
        let (from, to) = (from.to_owned(), to.to_owned());
        async move {
            let t =
                methods::move_datastore_file_task(c, fm, from, None, to, None, Some(force)).await;
            run(c, t).await
        }
    };
    let cp = |from: &str, to: &str, force: bool| {
        let (c, fm) = (&c, &fm);
        let (from, to) = (from.to_owned(), to.to_owned());
        async move {
            let t =
                methods::copy_datastore_file_task(c, fm, from, None, to, None, Some(force)).await;
            run(c, t).await
        }
    };
    let rm = |name: &str| {
        let (c, fm) = (&c, &fm);
        let name = name.to_owned();
        async move {
            let t = methods::delete_datastore_file_task(c, fm, name, None).await;
            run(c, t).await
        }
    };
    mv(
        "[datastore1] cache/tmp/img-flat.vmdk",
        "[datastore1] cache/img-flat.vmdk",
        false,
    )
    .await
    .unwrap();
    mv(
        "[datastore1] cache/tmp/img.vmdk",
        "[datastore1] cache/img.vmdk",
        false,
    )
    .await
    .unwrap();
    let e = mv(
        "[datastore1] cache/tmp/img.vmdk",
        "[datastore1] cache/x.vmdk",
        false,
    )
    .await
    .unwrap_err();
    assert!(e.contains("FileNotFound"), "{e}");
    cp("[datastore1] cache", "[datastore1] cache2", false)
        .await
        .unwrap();
    assert_eq!(
        std::fs::read(ds.join("cache2/img-flat.vmdk")).unwrap(),
        image
    );
    let e = cp("[datastore1] cache", "[datastore1] cache2", false)
        .await
        .unwrap_err();
    assert!(e.contains("FileAlreadyExists"), "{e}");
    cp(
        "[datastore1] cache/img.vmdk",
        "[datastore1] cache2/img.vmdk",
        true,
    )
    .await
    .unwrap();
    mv("[datastore1] cache2", "[datastore1] cache3", false)
        .await
        .unwrap();
    rm("[datastore1] cache3").await.unwrap();
    assert!(!ds.join("cache2").exists() && !ds.join("cache3").exists());
    let e = rm("[datastore1] cache3").await.unwrap_err();
    assert!(e.contains("FileNotFound"), "{e}");
    let e = rm("[datastore1] ").await.unwrap_err();
    assert!(e.contains("CannotDeleteFile"), "{e}");
    let e = rm("[datastore1] ../x").await.unwrap_err();
    assert!(e.contains("InvalidDatastorePath"), "{e}");

    // Copies into the VM's folder: thin and eager-zeroed thick keep the content.
    methods::make_directory(&c, &fm, "[datastore1] web".into(), None, None)
        .await
        .unwrap();
    copy_disk(
        &c,
        "[datastore1] cache/img.vmdk",
        "[datastore1] web/web.vmdk",
        Some(disk_spec("thin", "lsiLogic", 0)),
        false,
    )
    .await
    .unwrap();
    copy_disk(
        &c,
        "[datastore1] cache/img.vmdk",
        "[datastore1] web/thick.vmdk",
        Some(disk_spec("eagerZeroedThick", "busLogic", 0)),
        false,
    )
    .await
    .unwrap();
    let (bytes, thin, adapter) = disk_facts(&ds.join("web/web.vmdk"));
    assert!(bytes == image && thin && adapter == "lsilogic");
    let (bytes, thin, adapter) = disk_facts(&ds.join("web/thick.vmdk"));
    assert!(bytes == image && !thin && adapter == "buslogic");
    let flat = std::fs::metadata(ds.join("web/web-flat.vmdk")).unwrap();
    assert!(flat.blocks() * 512 < cap as u64, "the copy is not sparse");
    // Refused: an existing destination without force, a missing source, a bad name.
    let e = copy_disk(
        &c,
        "[datastore1] cache/img.vmdk",
        "[datastore1] web/web.vmdk",
        None,
        false,
    )
    .await
    .unwrap_err();
    assert!(e.contains("FileAlreadyExists"), "{e}");
    let e = copy_disk(
        &c,
        "[datastore1] cache/no.vmdk",
        "[datastore1] web/n.vmdk",
        None,
        false,
    )
    .await
    .unwrap_err();
    assert!(e.contains("FileNotFound"), "{e}");
    let e = copy_disk(
        &c,
        "datastore1 cache/img.vmdk",
        "[datastore1] web/n.vmdk",
        None,
        false,
    )
    .await
    .unwrap_err();
    assert!(e.contains("InvalidDatastorePath"), "{e}");
    // With force, the thick copy is replaced by a thin one.
    copy_disk(
        &c,
        "[datastore1] cache/img.vmdk",
        "[datastore1] web/thick.vmdk",
        Some(disk_spec("thin", "lsiLogic", 0)),
        true,
    )
    .await
    .unwrap();
    assert!(disk_facts(&ds.join("web/thick.vmdk")).1);
    // MoveVirtualDisk_Task takes the extent along, renamed.
    let vdm = vdm(&c);
    let t = methods::move_virtual_disk_task(
        &c,
        &vdm,
        "[datastore1] web/thick.vmdk".into(),
        None,
        "[datastore1] cache/moved.vmdk".into(),
        None,
        Some(false),
        vec![],
    )
    .await;
    run(&c, t).await.unwrap();
    assert!(!ds.join("web/thick.vmdk").exists() && !ds.join("web/thick-flat.vmdk").exists());
    assert_eq!(disk_facts(&ds.join("cache/moved.vmdk")).0, image);

    // A VM on the disk, a snapshot, a copy of the disk as of the snapshot.
    let vm = match create_vm(&c, vm_spec("web", "[datastore1] web/web.vmdk", None))
        .await
        .unwrap()
    {
        Some(Any::ManagedObjectReference(r)) => r,
        other => panic!("{other:?}"),
    };
    let t = methods::power_on_vm_task(&c, &vm, None).await;
    run(&c, t).await.unwrap();
    let t = methods::create_snapshot_task(&c, &vm, "base".into(), None, false, false).await;
    let snap = match run(&c, t).await.unwrap() {
        Some(Any::ManagedObjectReference(r)) => r,
        other => panic!("{other:?}"),
    };
    let vmx = std::fs::read_to_string(ds.join("web/web.vmx")).unwrap();
    assert!(
        vmx.contains("scsi0:0.fileName = \"web-000001.vmdk\""),
        "{vmx}"
    );
    let delta = std::fs::read_to_string(ds.join("web/web-000001.vmdk")).unwrap();
    assert!(delta.contains("parentFileNameHint=\"web.vmdk\""), "{delta}");
    // The snapshot's configuration names the disk as it was.
    let snap_disk = match prop(&c, &snap, "config").await {
        Some(Any::VirtualMachineConfigInfo(ci)) => ci
            .hardware
            .device
            .iter()
            .find_map(|d| match d {
                BaseVirtualDevice::VirtualDisk(d) => match &d.backing {
                    Some(BaseVirtualDeviceBackingInfo::VirtualDiskFlatVer2BackingInfo(b)) => {
                        Some(b.file_name.clone())
                    }
                    _ => None,
                },
                _ => None,
            })
            .unwrap(),
        other => panic!("{other:?}"),
    };
    assert_eq!(snap_disk, "[datastore1] web/web.vmdk");
    // The guest writes after the snapshot (into the delta): the snapshot's copy keeps the
    // image, a copy of the running disk shows the write.
    let written = vec![0xabu8; 4096];
    {
        use std::os::unix::fs::FileExt;
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(ds.join("web/web-000001-delta.vmdk"))
            .unwrap();
        f.write_all_at(&written, 4096 * 3).unwrap();
    }
    methods::make_directory(&c, &fm, "[datastore1] export".into(), None, None)
        .await
        .unwrap();
    copy_disk(
        &c,
        &snap_disk,
        "[datastore1] export/snap.vmdk",
        Some(disk_spec("thin", "lsiLogic", 0)),
        false,
    )
    .await
    .unwrap();
    copy_disk(
        &c,
        "[datastore1] web/web-000001.vmdk",
        "[datastore1] export/now.vmdk",
        Some(disk_spec("thin", "lsiLogic", 0)),
        false,
    )
    .await
    .unwrap();
    let mut got = Vec::new();
    tr.download(&file("export/snap-flat.vmdk"), &mut got)
        .await
        .unwrap();
    assert!(got == image, "the snapshot's copy differs from the upload");
    let mut now = Vec::new();
    tr.download(&file("export/now-flat.vmdk"), &mut now)
        .await
        .unwrap();
    let mut want = image.clone();
    want[4096 * 3..4096 * 4].copy_from_slice(&written);
    assert!(now == want, "the coalesced chain differs");

    // Removing the snapshot consolidates the delta into the disk; the VM runs on it again.
    let t = methods::remove_snapshot_task(&c, &snap, false, None).await;
    run(&c, t).await.unwrap();
    let vmx = std::fs::read_to_string(ds.join("web/web.vmx")).unwrap();
    assert!(vmx.contains("scsi0:0.fileName = \"web.vmdk\""), "{vmx}");
    assert!(!ds.join("web/web-000001.vmdk").exists());
    assert!(!ds.join("web/web-000001-delta.vmdk").exists());
    assert_eq!(std::fs::read(ds.join("web/web-flat.vmdk")).unwrap(), want);

    // Clean-up: nothing of the VM is left.
    let t = methods::power_off_vm_task(&c, &vm).await;
    run(&c, t).await.unwrap();
    let t = methods::destroy_task(&c, &vm).await;
    run(&c, t).await.unwrap();
    rm("[datastore1] export").await.unwrap();
    rm("[datastore1] cache").await.unwrap();
    assert!(!ds.join("web").exists(), "{:?}", listing(&ds));
    let left: Vec<String> = listing(&ds)
        .into_iter()
        .filter(|f| !f.starts_with("vm1"))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
    assert_eq!(esx_sim::files::temps_under(&dir), Vec::<PathBuf>::new());
    h.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_trees_keep_each_state() {
    let (h, dir) = sim("snaptree").await;
    let c = connect(&h).await;
    let ds = dir.join("datastore1");
    let vm = match create_vm(&c, vm_spec("t", "", Some(64))).await.unwrap() {
        Some(Any::ManagedObjectReference(r)) => r,
        other => panic!("{other:?}"),
    };
    let write = |file: &str, byte: u8| {
        use std::os::unix::fs::FileExt;
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(ds.join("t").join(file))
            .unwrap();
        f.write_all_at(&[byte; 4096], 0).unwrap();
    };
    write("t-flat.vmdk", 1);
    let snap = |name: &str| {
        let (c, vm) = (&c, &vm);
        let name = name.to_owned();
        async move {
            let t = methods::create_snapshot_task(c, vm, name, None, false, false).await;
            match run(c, t).await.unwrap() {
                Some(Any::ManagedObjectReference(r)) => r,
                other => panic!("{other:?}"),
            }
        }
    };
    let s1 = snap("s1").await;
    write("t-000001-delta.vmdk", 2);
    let s2 = snap("s2").await;
    write("t-000002-delta.vmdk", 3);
    // The content the VM runs on now: 3; as of s2: 2; as of s1: 1.
    let content = |name: &str| {
        let (c, ds) = (&c, ds.clone());
        let name = name.to_owned();
        async move {
            copy_disk(c, &name, "[datastore1] t/probe.vmdk", None, true)
                .await
                .unwrap();
            std::fs::read(ds.join("t/probe-flat.vmdk")).unwrap()[0]
        }
    };
    assert_eq!(content("[datastore1] t/t-000002.vmdk").await, 3);
    assert_eq!(content("[datastore1] t/t-000001.vmdk").await, 2);
    assert_eq!(content("[datastore1] t/t.vmdk").await, 1);
    // Revert to s1: a fresh delta on t.vmdk, the running delta of s2's time dropped.
    let t = methods::revert_to_snapshot_task(&c, &s1, None, None).await;
    run(&c, t).await.unwrap();
    let vmx = std::fs::read_to_string(ds.join("t/t.vmx")).unwrap();
    assert!(
        vmx.contains("scsi0:0.fileName = \"t-000003.vmdk\""),
        "{vmx}"
    );
    assert!(!ds.join("t/t-000002.vmdk").exists());
    assert_eq!(content("[datastore1] t/t-000003.vmdk").await, 1);
    // Remove everything: back on t.vmdk with s1's content (the revert discarded 2 and 3),
    // and no delta left.
    let _ = s2;
    let t = methods::remove_all_snapshots_task(&c, &vm, None).await;
    run(&c, t).await.unwrap();
    let vmx = std::fs::read_to_string(ds.join("t/t.vmx")).unwrap();
    assert!(vmx.contains("scsi0:0.fileName = \"t.vmdk\""), "{vmx}");
    let left: Vec<String> = listing(&ds.join("t"))
        .into_iter()
        .filter(|f| f.contains("-00000"))
        .collect();
    assert!(left.is_empty(), "deltas left: {left:?}");
    assert_eq!(std::fs::read(ds.join("t/t-flat.vmdk")).unwrap()[0], 1);
    h.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}
