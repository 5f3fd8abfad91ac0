//! `kill -9` of the `esx-sim` program in the middle of a define, a snapshot and an upload:
//! at the next start its data directory reads, every registered VM has its files (`.vmx`,
//! each disk's descriptor, extents and parents), no temporary file is left, and a file being
//! uploaded is there whole or not at all.
//!
//! The crash points are every datastore write of the scenario in turn: the program is started
//! with `--inject pause-before-commit=N`, stops before its `N`-th rename of a temporary file
//! over its target, and is killed there with SIGKILL; `N` runs from 1 until the scenario ends
//! without pausing. A separate test kills it while an upload's body is still arriving.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use esx_vim::client::{Client, ConnectOptions, DatastoreFile, HttpOptions, RetryPolicy};
use esx_vim::*;

const MIB: usize = 1 << 20;
const UPLOAD: usize = 8 * MIB;

/// A running `esx-sim` program; killed with SIGKILL when dropped.
struct Program {
    child: Child,
    url: String,
    /// The lines it prints on stderr.
    stderr: mpsc::Receiver<String>,
}

impl Program {
    fn start(dir: &Path, inject: Option<&str>) -> Program {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_esx-sim"));
        cmd.arg("--data-dir")
            .arg(dir)
            .args(["--inventory", "vm=1"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(spec) = inject {
            cmd.args(["--inject", spec]);
        }
        let mut child = cmd.spawn().expect("esx-sim starts");
        // Read in a thread for the whole life of the program (a closed pipe would kill it
        // when it prints its next line).
        let stdout = child.stdout.take().expect("stdout");
        let (url_tx, url_rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(u) = line.strip_prefix("url=") {
                    let _ = url_tx.send(u.to_owned());
                }
            }
        });
        let url = url_rx.recv_timeout(Duration::from_secs(60)).ok();
        let url = url.expect("esx-sim prints url=");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Program {
            child,
            url,
            stderr: rx,
        }
    }

    /// Waits (up to `limit`) for the line saying the program paused; the path it was about to
    /// commit.
    fn paused(&self, limit: Duration) -> Option<String> {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            match self.stderr.recv_timeout(left) {
                Ok(line) => {
                    if let Some(p) = line.strip_prefix("esx-sim: paused before committing ") {
                        return Some(p.to_owned());
                    }
                }
                Err(_) => return None,
            }
        }
    }

    /// `kill -9`, and reaped.
    fn kill9(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reaped");
    }
}

impl Drop for Program {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn connect(url: &str) -> Client {
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
    Client::connect(url, options).await.expect("login")
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251 + 1) as u8).collect()
}

async fn run(c: &Client, t: Result<ManagedObjectReference, Error>) -> Result<Option<Any>, String> {
    let t = t.map_err(|e| e.to_string())?;
    c.wait_for_task(&t, |_| {})
        .await
        .map(|i| i.result)
        .map_err(|e| e.to_string())
}

/// A VM spec on `[datastore1] <name>/` with a new 4 MiB disk.
fn vm_spec(name: &str) -> VirtualMachineConfigSpec {
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
        file_operation: Some(VirtualDeviceConfigSpecFileOperation::Create),
        device: BaseVirtualDevice::from(VirtualDisk {
            key: -1,
            controller_key: Some(1000),
            unit_number: Some(0),
            capacity_in_kb: 4096,
            backing: Some(BaseVirtualDeviceBackingInfo::from(
                VirtualDiskFlatVer2BackingInfo {
                    file_name: format!("[datastore1] {name}/{name}.vmdk"),
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

/// The scenario: define a VM as the driver does (CreateVM_Task with a new disk), define one
/// from an uploaded `.vmx` (RegisterVM_Task), snapshot both, upload a file.
async fn scenario(url: String) -> Result<(), String> {
    let c = connect(&url).await;
    let folder = ManagedObjectReference::new("Folder", "ha-folder-vm");
    let pool = ManagedObjectReference::new("ResourcePool", "ha-root-pool");
    let made = run(
        &c,
        methods::create_vm_task(&c, &folder, vm_spec("made"), pool.clone(), None).await,
    )
    .await?;
    let Some(Any::ManagedObjectReference(made)) = made else {
        return Err(format!("CreateVM_Task returned {made:?}"));
    };
    let fm = c
        .service_content()
        .file_manager
        .clone()
        .expect("file manager");
    methods::make_directory(&c, &fm, "[datastore1] reg".into(), None, Some(true))
        .await
        .map_err(|e| e.to_string())?;
    let vmx = "config.version = \"8\"\nvirtualHW.version = \"13\"\ndisplayName = \"reg\"\n\
               memSize = \"64\"\nnumvcpus = \"1\"\nguestOS = \"otherGuest64\"\n";
    c.transport()
        .upload(
            &DatastoreFile::new("ha-datacenter", "datastore1", "reg/reg.vmx"),
            std::io::Cursor::new(vmx.as_bytes().to_vec()),
            None,
        )
        .await
        .map_err(|e| e.to_string())?;
    let reg = run(
        &c,
        methods::register_vm_task(
            &c,
            &folder,
            "[datastore1] reg/reg.vmx".into(),
            Some("reg".into()),
            false,
            Some(pool),
            None,
        )
        .await,
    )
    .await?;
    let Some(Any::ManagedObjectReference(reg)) = reg else {
        return Err(format!("RegisterVM_Task returned {reg:?}"));
    };
    for vm in [
        &made,
        &reg,
        &ManagedObjectReference::new("VirtualMachine", "1"),
    ] {
        run(
            &c,
            methods::create_snapshot_task(&c, vm, "s1".into(), None, false, false).await,
        )
        .await?;
    }
    methods::make_directory(&c, &fm, "[datastore1] iso".into(), None, Some(true))
        .await
        .map_err(|e| e.to_string())?;
    c.transport()
        .upload(
            &DatastoreFile::new("ha-datacenter", "datastore1", "iso/big.iso"),
            std::io::Cursor::new(pattern(UPLOAD)),
            Some(UPLOAD as u64),
        )
        .await
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// Every file under `dir` (relative paths), sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            if e.path().is_dir() {
                stack.push(e.path());
            } else if let Ok(rel) = e.path().strip_prefix(dir) {
                out.push(rel.display().to_string());
            }
        }
    }
    out.sort();
    out
}

/// Checks the data directory after a restart: every `.vmx` (each is registered at start)
/// parses and its disks' chains are whole; the server lists exactly those VMs and reads each
/// one's configuration; no temporary file; the upload whole or absent.
async fn check_after_restart(dir: &Path, at: &str) {
    let program = Program::start(dir, None);
    let ds = dir.join("datastore1");
    let files = listing(&ds);
    let temps = esx_sim::files::temps_under(&ds);
    assert!(temps.is_empty(), "{at}: temporaries left: {temps:?}");
    // The inventory's generated VM has no files until it is first changed.
    let mut vmx_count = usize::from(!ds.join("vm1/vm1.vmx").exists());
    for f in files.iter().filter(|f| f.ends_with(".vmx")) {
        vmx_count += 1;
        let path = ds.join(f);
        let vmx = esx_vmx::VmxFile::parse(&std::fs::read(&path).unwrap())
            .unwrap_or_else(|e| panic!("{at}: {f} does not parse: {e}"));
        for key in vmx.keys().filter(|k| k.ends_with(".fileName")) {
            let value = vmx.get(key).unwrap_or_default();
            if !value.ends_with(".vmdk") {
                continue;
            }
            let disk = path.parent().unwrap().join(value);
            let chain = esx_sim::vmdk::chain(&disk, &|_| None)
                .unwrap_or_else(|e| panic!("{at}: {f} {key} = {value}: {e}"));
            for (descriptor, d) in &chain {
                for x in &d.extents {
                    let extent = descriptor.parent().unwrap().join(&x.file);
                    assert!(
                        extent.is_file(),
                        "{at}: {f}: extent {} of {} missing",
                        x.file,
                        descriptor.display()
                    );
                }
            }
        }
    }
    match std::fs::read(ds.join("iso/big.iso")) {
        Ok(b) => assert!(b == pattern(UPLOAD), "{at}: iso/big.iso is not whole"),
        Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::NotFound, "{at}"),
    }
    let c = connect(&program.url).await;
    let view_manager = c.service_content().view_manager.clone().expect("views");
    let root = c.service_content().root_folder.clone();
    let view = methods::create_container_view(
        &c,
        &view_manager,
        root,
        vec!["VirtualMachine".into()],
        true,
    )
    .await
    .expect("container view");
    let vms = match prop(&c, &view, "view").await {
        Some(Any::ArrayOfManagedObjectReference(v)) => v.managed_object_reference,
        other => panic!("{at}: view is {other:?}"),
    };
    assert_eq!(
        vms.len(),
        vmx_count,
        "{at}: registered VMs vs .vmx files (+ the generated vm1 before its first write)"
    );
    for vm in &vms {
        assert!(
            matches!(
                prop(&c, vm, "config").await,
                Some(Any::VirtualMachineConfigInfo(_))
            ),
            "{at}: {vm:?} has no readable configuration"
        );
    }
    program.kill9();
}

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
    let objs = c.retrieve_properties(spec, None).await.ok()?;
    esx_vim::client::property(objs.first()?, path).cloned()
}

fn fresh(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("esx-sim-crash-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_at_every_write_leaves_a_readable_data_directory() {
    let mut points = Vec::new();
    // Bounded: the scenario makes a few dozen writes at most.
    for n in 1..=60u64 {
        let dir = fresh(&format!("at-{n}"));
        let program = Program::start(&dir, Some(&format!("pause-before-commit={n}")));
        let work = tokio::spawn(scenario(program.url.clone()));
        // Paused (its call then hangs), or the scenario ended (no write left to pause at).
        let deadline = Instant::now() + Duration::from_secs(60);
        let paused = loop {
            let p = tokio::task::block_in_place(|| program.paused(Duration::from_millis(20)));
            if p.is_some() || work.is_finished() {
                break p;
            }
            assert!(
                Instant::now() < deadline,
                "write {n}: neither paused nor done"
            );
        };
        match paused {
            Some(path) => {
                program.kill9();
                let _ = work.await;
                let at = format!("killed before write {n} ({path})");
                check_after_restart(&dir, &at).await;
                points.push(path);
            }
            None => {
                work.await
                    .expect("scenario task")
                    .expect("the scenario runs to its end without a pause");
                program.kill9();
                check_after_restart(&dir, "killed after the scenario").await;
                let _ = std::fs::remove_dir_all(&dir);
                break;
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
    eprintln!("crash points: {points:#?}");
    for what in [
        "made.vmx",
        "made.vmdk",
        "reg.vmx",
        "-000001.vmdk",
        "big.iso",
    ] {
        assert!(
            points.iter().any(|p| p.ends_with(what)),
            "no crash point writing {what}: {points:?}"
        );
    }
}

/// An upload whose body is still arriving when the program is killed: nothing of it is left
/// at the next start, and the file it was replacing is whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_during_an_upload_body_keeps_the_old_file() {
    struct Stalls {
        left: usize,
    }
    impl tokio::io::AsyncRead for Stalls {
        fn poll_read(
            mut self: std::pin::Pin<&mut Self>,
            _cx: &mut std::task::Context<'_>,
            buf: &mut tokio::io::ReadBuf<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            if self.left == 0 {
                // Never ready again: the body stays half sent until the server dies.
                return std::task::Poll::Pending;
            }
            let n = self.left.min(buf.remaining()).min(64 * 1024);
            buf.put_slice(&vec![0xa5; n]);
            self.left -= n;
            std::task::Poll::Ready(Ok(()))
        }
    }
    let dir = fresh("upload");
    let program = Program::start(&dir, None);
    let c = std::sync::Arc::new(connect(&program.url).await);
    std::fs::create_dir_all(dir.join("datastore1/iso")).unwrap();
    let iso = DatastoreFile::new("ha-datacenter", "datastore1", "iso/big.iso");
    c.transport()
        .upload(&iso, std::io::Cursor::new(pattern(UPLOAD)), None)
        .await
        .unwrap_or_else(|e| panic!("{e}: {:?}", program.stderr.try_iter().collect::<Vec<_>>()));
    let upload = {
        let c = c.clone();
        let iso = iso.clone();
        tokio::spawn(async move {
            c.transport()
                .upload(&iso, Stalls { left: 4 * MIB }, Some(16 * MIB as u64))
                .await
        })
    };
    let ds = dir.join("datastore1");
    let deadline = Instant::now() + Duration::from_secs(30);
    while esx_sim::files::temps_under(&ds).is_empty() {
        assert!(Instant::now() < deadline, "the upload never began");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    program.kill9();
    assert!(upload.await.unwrap().is_err(), "the upload cannot succeed");
    check_after_restart(&dir, "killed during an upload").await;
    let _ = std::fs::remove_dir_all(&dir);
}
