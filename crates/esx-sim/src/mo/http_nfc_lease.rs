//! `HttpNfcLease`: the lease `ResourcePool.ImportVApp` and `VirtualMachine.ExportVm` hand out,
//! and the `/nfc/<lease>/<file>` URLs its `info.deviceUrl`s name.
//!
//! A lease is ready as soon as it exists (its `initializing` phase takes no time here). Import:
//! `ImportVApp` creates the VM from the import spec (its disks empty); each disk's URL takes a
//! `POST` (govc, ovftool: a streamOptimized body) or `PUT` of the disk's bytes — a
//! streamOptimized or monolithicSparse image, or the raw flat bytes — which go to a temporary
//! file first (as `/folder` uploads do), then into the disk's flat extent through another
//! temporary file renamed over it; a body broken off leaves the disk as it was.
//! `HttpNfcLeaseComplete` keeps the VM; `HttpNfcLeaseAbort` (or the lease timing out) removes
//! it and its files. Export: each disk's URL answers `GET` with a streamOptimized image made as
//! it is sent. Both need the session cookie. A lease nobody touched (method call or transfer)
//! for `leaseTimeout` seconds turns to `error`.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use esx_vim::*;
use http_body_util::BodyExt;
use hyper::body::{Frame, Incoming};
use hyper::{Method, Request as HttpRequest, Response as HttpResponse, StatusCode};

use crate::fault::{Fault, MethodResult};
use crate::property::Top;
use crate::server::{cookie_value, full, live_session, Body, Shared};
use crate::state::{moref, Ctx, Mo, MoRef, State};

/// The `leaseTimeout` real servers report (seconds).
pub const LEASE_TIMEOUT: u32 = 300;

/// Leases kept after they ended (oldest dropped first).
const KEEP_ENDED: usize = 64;

/// One disk of a VM as a lease transfers it.
#[derive(Debug, Clone)]
pub struct LeaseDisk {
    /// The disk's device key.
    pub key: i32,
    /// Its controller's WSDL type (`VirtualLsiLogicController`).
    pub controller: &'static str,
    /// The controller's bus number.
    pub bus: i32,
    /// The disk's unit number.
    pub unit: i32,
    /// The descriptor (`.vmdk`) on the datastore.
    pub descriptor: PathBuf,
    /// Its datastore.
    pub datastore: MoRef,
    /// Capacity in bytes.
    pub capacity: u64,
    /// `ddb.adapterType`.
    pub adapter: String,
}

impl LeaseDisk {
    /// The device URL `key` of the disk: `/<vm id>/<Controller><bus>:<unit>`.
    pub fn device_key(&self, vm: &MoRef) -> String {
        crate::mo::ovf_manager::disk_import_key(&vm.value, self.controller, self.bus, self.unit)
    }
}

/// The disks of a VM, in device order, with their files.
pub fn vm_disks(state: &State, vm: &MoRef) -> MethodResult<Vec<LeaseDisk>> {
    let v = state.vm(vm)?;
    let devices = v.full_config(state).hardware.device;
    let mut out = Vec::new();
    for d in &devices {
        let BaseVirtualDevice::VirtualDisk(disk) = d else {
            continue;
        };
        let Some((controller, bus)) = devices
            .iter()
            .find_map(|c| controller_of(c, disk.controller_key?))
        else {
            continue;
        };
        let file = match &disk.backing {
            Some(BaseVirtualDeviceBackingInfo::VirtualDiskFlatVer2BackingInfo(b)) => {
                b.file_name.clone()
            }
            _ => continue,
        };
        let (ds, path) = state.resolve_file(&file)?;
        let desc = crate::vmdk::Descriptor::read(&path)
            .map_err(|e| Fault::invalid_state(&e.to_string()))?;
        out.push(LeaseDisk {
            key: disk.key,
            controller,
            bus,
            unit: disk.unit_number.unwrap_or(0),
            descriptor: path,
            datastore: ds,
            capacity: desc.capacity(),
            adapter: desc.ddb("ddb.adapterType").unwrap_or("lsilogic").to_owned(),
        });
    }
    Ok(out)
}

/// The WSDL type and bus of controller device `c` when its key is `key`.
fn controller_of(c: &BaseVirtualDevice, key: i32) -> Option<(&'static str, i32)> {
    use BaseVirtualDevice as D;
    let (k, ty, bus) = match c {
        D::VirtualIDEController(x) => (x.key, "VirtualIDEController", x.bus_number),
        D::VirtualLsiLogicController(x) => (x.key, "VirtualLsiLogicController", x.bus_number),
        D::VirtualBusLogicController(x) => (x.key, "VirtualBusLogicController", x.bus_number),
        D::VirtualLsiLogicSASController(x) => (x.key, "VirtualLsiLogicSASController", x.bus_number),
        D::ParaVirtualSCSIController(x) => (x.key, "ParaVirtualSCSIController", x.bus_number),
        D::VirtualAHCIController(x) => (x.key, "VirtualAHCIController", x.bus_number),
        D::VirtualSATAController(x) => (x.key, "VirtualSATAController", x.bus_number),
        D::VirtualSCSIController(x) => (x.key, "VirtualSCSIController", x.bus_number),
        _ => return None,
    };
    (k == key).then_some((ty, bus))
}

/// One file of a lease (`disk-N.vmdk`).
#[derive(Debug, Clone)]
pub struct LeaseFile {
    /// The URL's last segment.
    pub name: String,
    /// The disk.
    pub disk: LeaseDisk,
    /// SHA-1 (hex) and size of what was transferred, once it was.
    pub transferred: Option<(String, u64)>,
}

/// A lease.
#[derive(Debug)]
pub struct Lease {
    /// Import (`ImportVApp`) or export.
    pub import: bool,
    /// `state`.
    pub state: HttpNfcLeaseState,
    /// `error`.
    pub error: Option<LocalizedMethodFault>,
    /// `transferProgress`.
    pub progress: i32,
    /// Last method call or transfer.
    pub touched: Instant,
    /// `info`.
    pub info: HttpNfcLeaseInfo,
    /// The files.
    pub files: Vec<LeaseFile>,
    /// Creation order (for dropping old ended leases).
    pub seq: u64,
}

/// Every lease by id, and the timeout.
#[derive(Debug)]
pub struct Leases {
    /// Leases by id.
    pub leases: HashMap<String, Lease>,
    /// How long a lease may stay untouched (`leaseTimeout`); tests shorten it.
    pub timeout: Duration,
}

impl Default for Leases {
    fn default() -> Leases {
        Leases {
            leases: HashMap::new(),
            timeout: Duration::from_secs(LEASE_TIMEOUT.into()),
        }
    }
}

fn lease_ref(id: &str) -> MoRef {
    moref("HttpNfcLease", id)
}

fn timed_out() -> LocalizedMethodFault {
    Fault::new(
        esx_vim::InvalidState::default(),
        "The lease timed out: nothing reported progress within its timeout",
    )
    .localized()
}

fn lease<'a>(state: &'a mut State, r: &MoRef) -> MethodResult<&'a mut Lease> {
    state
        .managers
        .nfc
        .leases
        .get_mut(&r.value)
        .ok_or_else(|| Fault::not_found(r))
}

/// Ends the ready leases idle longer than the timeout (an import's VM is removed).
pub fn expire(state: &mut State) {
    if state.managers.nfc.leases.is_empty() {
        return;
    }
    let timeout = state.managers.nfc.timeout;
    let stale: Vec<String> = state
        .managers
        .nfc
        .leases
        .iter()
        .filter(|(_, l)| l.state == HttpNfcLeaseState::Ready && l.touched.elapsed() > timeout)
        .map(|(k, _)| k.clone())
        .collect();
    for id in stale {
        end(state, &id, HttpNfcLeaseState::Error, Some(timed_out()));
    }
}

/// Moves a lease to `done` or `error`; an import that did not complete loses its VM.
fn end(state: &mut State, id: &str, to: HttpNfcLeaseState, error: Option<LocalizedMethodFault>) {
    let Some(l) = state.managers.nfc.leases.get_mut(id) else {
        return;
    };
    l.state = to.clone();
    l.error = error;
    let (import, vm) = (l.import, l.info.entity.clone());
    if import && to == HttpNfcLeaseState::Error && state.vm(&vm).is_ok() {
        if let Err(f) = crate::dispatch::delete_vm(state, &vm, true, "") {
            tracing::warn!(vm = %vm.value, error = %f.message, "cannot remove an aborted import");
        }
    }
    // Keep a bounded number of ended leases.
    let mut ended: Vec<(u64, String)> = state
        .managers
        .nfc
        .leases
        .iter()
        .filter(|(_, l)| l.state != HttpNfcLeaseState::Ready)
        .map(|(k, l)| (l.seq, k.clone()))
        .collect();
    if ended.len() > KEEP_ENDED {
        ended.sort();
        for (_, k) in ended.iter().take(ended.len() - KEEP_ENDED) {
            state.managers.nfc.leases.remove(k);
            state.objects.remove(k);
        }
    }
}

/// Creates a ready lease for `vm`'s disks.
fn create(
    state: &mut State,
    vm: &MoRef,
    import: bool,
    import_name: Option<&str>,
) -> MethodResult<MoRef> {
    let disks = vm_disks(state, vm)?;
    let id = state.new_id("lease");
    let timeout = state.managers.nfc.timeout.as_secs().min(i32::MAX as u64) as i32;
    let files: Vec<LeaseFile> = disks
        .into_iter()
        .enumerate()
        .map(|(i, disk)| LeaseFile {
            name: format!("disk-{i}.vmdk"),
            disk,
            transferred: None,
        })
        .collect();
    let info = HttpNfcLeaseInfo {
        lease: lease_ref(&id),
        entity: vm.clone(),
        device_url: files
            .iter()
            .map(|f| {
                let key = f.disk.device_key(vm);
                HttpNfcLeaseDeviceUrl {
                    import_key: match import_name {
                        Some(n) => crate::mo::ovf_manager::disk_import_key(
                            n,
                            f.disk.controller,
                            f.disk.bus,
                            f.disk.unit,
                        ),
                        None => key.clone(),
                    },
                    key,
                    url: format!("https://*/nfc/{id}/{}", f.name),
                    ssl_thumbprint: state.thumbprint.clone(),
                    disk: Some(true),
                    target_id: (!import).then(|| f.name.clone()),
                    datastore_key: Some(f.disk.datastore.value.clone()),
                    file_size: None,
                }
            })
            .collect(),
        total_disk_capacity_in_kb: files.iter().map(|f| (f.disk.capacity / 1024) as i64).sum(),
        lease_timeout: timeout,
        ..Default::default()
    };
    let seq = state.new_number();
    state.managers.nfc.leases.insert(
        id.clone(),
        Lease {
            import,
            state: HttpNfcLeaseState::Ready,
            error: None,
            progress: 0,
            touched: Instant::now(),
            info,
            files,
            seq,
        },
    );
    state.insert(&id, Mo::Manager("HttpNfcLease"));
    Ok(lease_ref(&id))
}

/// `ResourcePool.ImportVApp`: creates the VM of a `VirtualMachineImportSpec` and a lease to
/// upload its disks.
pub fn import_vapp(state: &mut State, ctx: &Ctx, q: &ImportVAppRequestType) -> MethodResult<MoRef> {
    let pool = q.this.clone();
    if !matches!(state.lookup(&pool)?, Mo::ResourcePool(_)) {
        return Err(Fault::not_found(&pool));
    }
    let spec = match &q.spec {
        BaseImportSpec::VirtualMachineImportSpec(s) => s.config_spec.clone(),
        BaseImportSpec::VirtualAppImportSpec(_) => {
            return Err(Fault::not_supported(
                "importing a vApp (VirtualAppImportSpec)",
            ))
        }
        BaseImportSpec::ImportSpec(_) => return Err(Fault::invalid_argument("spec")),
    };
    let folder = match &q.folder {
        Some(f) => {
            if !matches!(state.lookup(f)?, Mo::Folder(_)) {
                return Err(Fault::invalid_argument("folder"));
            }
            f.clone()
        }
        None => {
            let dc = crate::mo::datacenter::datacenter_of(state, &pool)
                .ok_or_else(|| Fault::invalid_argument("folder"))?;
            match state.get(&dc) {
                Some(Mo::Datacenter(d)) => d.vm_folder.clone(),
                _ => return Err(Fault::invalid_argument("folder")),
            }
        }
    };
    let (pool, host) = crate::dispatch::placement(state, &folder, Some(pool), q.host.clone())?;
    let name = spec.name.clone().unwrap_or_default();
    let vm = crate::dispatch::create_vm(state, &folder, &pool, &host, &spec)?;
    let who = crate::dispatch::user(state, ctx);
    crate::mo::event_manager::record_vm(
        state,
        crate::mo::event_manager::VmChange::Created,
        &vm,
        &who,
    );
    match create(state, &vm, true, Some(&name)) {
        Ok(l) => Ok(l),
        Err(f) => {
            let _ = crate::dispatch::delete_vm(state, &vm, true, &who);
            Err(f)
        }
    }
}

/// `VirtualMachine.ExportVm`: a lease to download a powered-off VM's disks.
pub fn export_vm(state: &mut State, vm: &MoRef) -> MethodResult<MoRef> {
    let v = state.vm(vm)?;
    if v.runtime.power_state != VirtualMachinePowerState::PoweredOff {
        return Err(Fault::invalid_power_state(
            Some(VirtualMachinePowerState::PoweredOff),
            v.runtime.power_state.clone(),
        ));
    }
    if v.files_pending() {
        state.vm_mut(vm)?.save()?;
    }
    create(state, vm, false, None)
}

fn ready<'a>(state: &'a mut State, r: &MoRef) -> MethodResult<&'a mut Lease> {
    let l = lease(state, r)?;
    if l.state != HttpNfcLeaseState::Ready {
        return Err(Fault::invalid_state(&format!(
            "The lease is {}, not ready",
            match l.state {
                HttpNfcLeaseState::Done => "done",
                HttpNfcLeaseState::Error => "in error",
                _ => "initializing",
            }
        )));
    }
    l.touched = Instant::now();
    Ok(l)
}

/// The lease methods (and `ImportVApp`, `ExportVm`); gives the request back when it is not one.
pub fn handle(
    state: &mut State,
    ctx: &Ctx,
    req: Request,
) -> Result<MethodResult<Response>, Request> {
    macro_rules! resp {
        ($v:ident, $t:ident { $($f:tt)* }) => {
            Response::$v(Box::new($t { $($f)* }))
        };
    }
    if matches!(
        req,
        Request::ImportVApp(_)
            | Request::ExportVm(_)
            | Request::ExportVApp(_)
            | Request::HttpNfcLeaseProgress(_)
            | Request::HttpNfcLeaseComplete(_)
            | Request::HttpNfcLeaseAbort(_)
            | Request::HttpNfcLeaseGetManifest(_)
            | Request::HttpNfcLeaseSetManifestChecksumType(_)
            | Request::HttpNfcLeasePullFromUrls_Task(_)
    ) {
        expire(state);
    }
    Ok(match req {
        Request::ImportVApp(q) => import_vapp(state, ctx, &q)
            .map(|returnval| resp!(ImportVApp, ImportVAppResponse { returnval })),
        Request::ExportVm(q) => export_vm(state, &q.this)
            .map(|returnval| resp!(ExportVm, ExportVmResponse { returnval })),
        Request::ExportVApp(q) => match state.lookup(&q.this) {
            Err(f) => Err(f),
            Ok(_) => Err(Fault::not_supported("exporting a vApp")),
        },
        Request::HttpNfcLeaseProgress(q) => {
            if !(0..=100).contains(&q.percent) {
                return Ok(Err(Fault::invalid_argument("percent")));
            }
            ready(state, &q.this).map(|l| {
                l.progress = q.percent;
                resp!(HttpNfcLeaseProgress, HttpNfcLeaseProgressResponse {})
            })
        }
        Request::HttpNfcLeaseComplete(q) => match ready(state, &q.this) {
            Err(f) => Err(f),
            Ok(l) => {
                l.progress = 100;
                end(state, &q.this.value, HttpNfcLeaseState::Done, None);
                Ok(resp!(HttpNfcLeaseComplete, HttpNfcLeaseCompleteResponse {}))
            }
        },
        Request::HttpNfcLeaseAbort(q) => match lease(state, &q.this) {
            Err(f) => Err(f),
            Ok(l) if l.state == HttpNfcLeaseState::Done => Err(Fault::invalid_state(
                "The lease is done; it cannot be aborted",
            )),
            Ok(_) => {
                let fault = q.fault.clone().unwrap_or_else(|| {
                    Fault::new(
                        RequestCanceled::default(),
                        "The operation was canceled by the user",
                    )
                    .localized()
                });
                end(state, &q.this.value, HttpNfcLeaseState::Error, Some(fault));
                Ok(resp!(HttpNfcLeaseAbort, HttpNfcLeaseAbortResponse {}))
            }
        },
        Request::HttpNfcLeaseGetManifest(q) => ready(state, &q.this).map(|l| {
            let returnval = l
                .files
                .iter()
                .filter_map(|f| {
                    let (sha1, size) = f.transferred.clone()?;
                    Some(HttpNfcLeaseManifestEntry {
                        key: f.disk.device_key(&l.info.entity),
                        sha1: sha1.clone(),
                        checksum: Some(sha1),
                        checksum_type: Some("sha1".into()),
                        size: size as i64,
                        disk: true,
                        capacity: Some(f.disk.capacity as i64),
                        populated_size: None,
                    })
                })
                .collect();
            resp!(
                HttpNfcLeaseGetManifest,
                HttpNfcLeaseGetManifestResponse { returnval }
            )
        }),
        Request::HttpNfcLeaseSetManifestChecksumType(q) => ready(state, &q.this).and_then(|_| {
            for kv in &q.device_urls_to_checksum_types {
                if !kv.value.eq_ignore_ascii_case("sha1") {
                    return Err(Fault::invalid_argument("deviceUrlsToChecksumTypes"));
                }
            }
            Ok(resp!(
                HttpNfcLeaseSetManifestChecksumType,
                HttpNfcLeaseSetManifestChecksumTypeResponse {}
            ))
        }),
        Request::HttpNfcLeasePullFromUrls_Task(q) => match lease(state, &q.this) {
            Err(f) => Err(f),
            Ok(_) => Err(Fault::not_supported(
                "pull mode (the lease's capabilities say so)",
            )),
        },
        other => return Err(other),
    })
}

/// The properties of lease `r`.
pub fn property(state: &State, r: &MoRef, name: &str) -> Top {
    let l = state.managers.nfc.leases.get(&r.value)?;
    let expired =
        l.state == HttpNfcLeaseState::Ready && l.touched.elapsed() > state.managers.nfc.timeout;
    Some(match name {
        "state" => Some(Any::from(if expired {
            HttpNfcLeaseState::Error
        } else {
            l.state.clone()
        })),
        "error" => match expired {
            true => Some(Any::from(timed_out())),
            false => l.error.clone().map(Any::from),
        },
        "info" => {
            (l.state == HttpNfcLeaseState::Ready && !expired).then(|| Any::from(l.info.clone()))
        }
        "initializeProgress" => Some(Any::Int(100)),
        "transferProgress" => Some(Any::Int(l.progress)),
        "mode" => Some(Any::String("pushOrGet".into())),
        "capabilities" => Some(Any::from(HttpNfcLeaseCapabilities {
            pull_mode_supported: false,
            cors_supported: false,
        })),
        _ => return None,
    })
}

fn text(status: StatusCode, msg: &str) -> HttpResponse<Body> {
    let mut r = HttpResponse::new(full(msg.to_owned()));
    *r.status_mut() = status;
    r
}

/// What one transfer works on, taken under the state lock.
struct Transfer {
    file: LeaseFile,
    space: Option<crate::folder_api::Space>,
    datastores: Vec<(String, PathBuf)>,
}

/// Serves `/nfc/<lease>/<file>`: upload (PUT/POST) to an import lease, download (GET) from an
/// export lease.
pub async fn serve(shared: Arc<Shared>, req: HttpRequest<Incoming>) -> HttpResponse<Body> {
    let cookie = cookie_value(&req, "vmware_soap_session");
    let path = req.uri().path().to_owned();
    let mut parts = path.trim_start_matches("/nfc/").splitn(2, '/');
    let (id, name) = (
        parts.next().unwrap_or("").to_owned(),
        parts.next().unwrap_or("").to_owned(),
    );
    let method = req.method().clone();
    let t = {
        let Some(mut st) = shared.write() else {
            return text(StatusCode::INTERNAL_SERVER_ERROR, "state unavailable\n");
        };
        if live_session(&mut st, cookie.as_deref()).is_none() {
            return text(StatusCode::UNAUTHORIZED, "not authenticated\n");
        }
        expire(&mut st);
        let Some(l) = st.managers.nfc.leases.get_mut(&id) else {
            return text(StatusCode::NOT_FOUND, "no such lease\n");
        };
        if l.state != HttpNfcLeaseState::Ready {
            return text(StatusCode::CONFLICT, "the lease is not ready\n");
        }
        let wanted_import = matches!(method, Method::PUT | Method::POST);
        if wanted_import != l.import || !(wanted_import || method == Method::GET) {
            return text(
                StatusCode::METHOD_NOT_ALLOWED,
                "method not allowed for this lease\n",
            );
        }
        let Some(file) = l.files.iter().find(|f| f.name == name).cloned() else {
            return text(StatusCode::NOT_FOUND, "no such file in the lease\n");
        };
        l.touched = Instant::now();
        let space = crate::folder_api::Space::of(&st, &file.disk.datastore);
        let datastores = st
            .objects
            .values()
            .filter_map(|m| match m {
                Mo::Datastore(d) => Some((d.name.clone(), d.dir.clone())),
                _ => None,
            })
            .collect();
        Transfer {
            file,
            space,
            datastores,
        }
    };
    if method == Method::GET {
        return download(shared, id, t);
    }
    upload(shared, req, id, t).await
}

fn record(shared: &Shared, id: &str, name: &str, sha1: String, size: u64) {
    if let Some(mut st) = shared.write() {
        if let Some(l) = st.managers.nfc.leases.get_mut(id) {
            l.touched = Instant::now();
            if let Some(f) = l.files.iter_mut().find(|f| f.name == name) {
                f.transferred = Some((sha1, size));
            }
        }
    }
}

async fn upload(
    shared: Arc<Shared>,
    req: HttpRequest<Incoming>,
    id: String,
    t: Transfer,
) -> HttpResponse<Body> {
    let Some(space) = t.space else {
        return text(StatusCode::NOT_FOUND, "no such datastore\n");
    };
    let Some(dir) = t.file.disk.descriptor.parent().map(Path::to_path_buf) else {
        return text(StatusCode::INTERNAL_SERVER_ERROR, "no directory\n");
    };
    // The body lands in a temporary-named file (removed at the next start if a crash left it).
    let raw = dir.join(format!(
        ".{}.nfc-upload{}",
        t.file.name,
        crate::files::TEMP_SUFFIX
    ));
    let resp = crate::folder_api::put(req, raw.clone(), space).await;
    if !resp.status().is_success() {
        let _ = std::fs::remove_file(&raw);
        return resp;
    }
    let disk = t.file.disk.clone();
    let done = tokio::task::spawn_blocking(move || {
        let r = write_disk(&raw, &disk.descriptor, disk.capacity);
        let _ = std::fs::remove_file(&raw);
        r
    })
    .await;
    match done {
        Ok(Ok((sha1, size))) => {
            record(&shared, &id, &t.file.name, sha1, size);
            text(StatusCode::OK, "")
        }
        Ok(Err(msg)) => text(StatusCode::BAD_REQUEST, &format!("{msg}\n")),
        Err(_) => text(StatusCode::INTERNAL_SERVER_ERROR, "write failed\n"),
    }
}

fn sha1_of(f: &std::fs::File) -> std::io::Result<(String, u64)> {
    use std::io::Read;
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY);
    let mut r = std::io::BufReader::with_capacity(crate::files::CHUNK, f);
    let mut buf = vec![0u8; crate::files::CHUNK];
    let mut n = 0u64;
    loop {
        let k = r.read(&mut buf)?;
        if k == 0 {
            break;
        }
        ctx.update(&buf[..k]);
        n += k as u64;
    }
    Ok((hex(ctx.finish().as_ref()), n))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Writes the uploaded image `raw` (streamOptimized, monolithicSparse or raw bytes) into the
/// flat extent of `descriptor`, through a temporary file renamed over the extent.
fn write_disk(raw: &Path, descriptor: &Path, capacity: u64) -> Result<(String, u64), String> {
    use std::os::unix::fs::FileExt;
    let io = |e: std::io::Error| format!("write failed: {e}");
    let f = std::fs::File::open(raw).map_err(io)?;
    let (sha1, size) = sha1_of(&f).map_err(io)?;
    let d = crate::vmdk::Descriptor::read(descriptor).map_err(|e| e.to_string())?;
    let extents = d.extent_paths(descriptor).map_err(|e| e.to_string())?;
    let [flat] = extents.as_slice() else {
        return Err("the target disk has more than one extent".into());
    };
    let temp = crate::files::TempFile::create(flat).map_err(io)?;
    let mut head = [0u8; 4];
    let n = f.read_at(&mut head, 0).map_err(io)?;
    if n == 4 && &head == b"KDMV" {
        let mut r = esx_vmdk::Reader::open_seekable(&f)
            .map_err(|e| format!("not a usable VMDK image: {e}"))?;
        if r.capacity() > capacity {
            return Err(format!(
                "the image holds {} bytes; the disk has {capacity}",
                r.capacity()
            ));
        }
        while let Some(c) = r.next_chunk().map_err(|e| format!("bad VMDK image: {e}"))? {
            crate::files::write_sparse_at(temp.file().map_err(io)?, c.offset, &c.data)
                .map_err(io)?;
        }
    } else if head.starts_with(b"# D") || head.starts_with(b"# Di") {
        return Err("a descriptor alone is not a disk image; send the disk's data".into());
    } else {
        if size > capacity {
            return Err(format!(
                "the image holds {size} bytes; the disk has {capacity}"
            ));
        }
        crate::files::overlay(&f, 0, size, temp.file().map_err(io)?, 0).map_err(io)?;
    }
    temp.file().map_err(io)?.set_len(capacity).map_err(io)?;
    temp.commit().map_err(io)?;
    Ok((sha1, size))
}

/// A body fed from a channel (no length known in advance: sent chunked).
struct ChannelBody {
    rx: tokio::sync::mpsc::Receiver<std::io::Result<Bytes>>,
}

impl hyper::body::Body for ChannelBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        self.rx.poll_recv(cx).map(|o| o.map(|r| r.map(Frame::data)))
    }
}

/// Sends what is written in about [`crate::files::CHUNK`]-sized pieces, hashing it.
struct ChannelWriter {
    tx: tokio::sync::mpsc::Sender<std::io::Result<Bytes>>,
    buf: Vec<u8>,
    sha1: ring::digest::Context,
    sent: u64,
}

impl ChannelWriter {
    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let b = std::mem::take(&mut self.buf);
        self.sha1.update(&b);
        self.sent += b.len() as u64;
        self.tx
            .blocking_send(Ok(Bytes::from(b)))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "client went away"))
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= crate::files::CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

fn download(shared: Arc<Shared>, id: String, t: Transfer) -> HttpResponse<Body> {
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let disk = t.file.disk.clone();
    let name = t.file.name.clone();
    let datastores = t.datastores;
    tokio::task::spawn_blocking(move || {
        let w = ChannelWriter {
            tx: tx.clone(),
            buf: Vec::new(),
            sha1: ring::digest::Context::new(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY),
            sent: 0,
        };
        match stream_disk(&disk, &datastores, w) {
            Ok(mut w) => match w.send() {
                Ok(()) => {
                    let sha1 = hex(w.sha1.finish().as_ref());
                    record(&shared, &id, &name, sha1, w.sent);
                }
                Err(e) => tracing::debug!(error = %e, "export download broken off"),
            },
            Err(e) => {
                let _ = tx.blocking_send(Err(std::io::Error::other(e)));
            }
        }
    });
    let mut r = HttpResponse::new(ChannelBody { rx }.boxed());
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/x-vnd.vmware-streamVmdk"),
    );
    r
}

/// Writes `disk` (its snapshot chain coalesced) as a streamOptimized image into `w`.
fn stream_disk(
    disk: &LeaseDisk,
    datastores: &[(String, PathBuf)],
    w: ChannelWriter,
) -> Result<ChannelWriter, String> {
    use std::os::unix::fs::FileExt;
    let absolute = |name: &str| -> Option<PathBuf> {
        let (ds, rel) = match crate::state::parse_ds_path(name) {
            Some(x) => x,
            None => name.strip_prefix("/vmfs/volumes/")?.split_once('/')?,
        };
        let (_, dir) = datastores.iter().find(|(n, _)| n == ds)?;
        crate::files::safe_join(dir, rel)
    };
    let chain = crate::vmdk::chain(&disk.descriptor, &absolute).map_err(|e| e.to_string())?;
    let single = match chain.as_slice() {
        [(p, d)] => d.extent_paths(p).ok().filter(|e| e.len() == 1),
        _ => None,
    };
    // A chain (or several extents) is coalesced into a temporary file first, never committed.
    let mut temp = None;
    let src = match single {
        Some(e) => std::fs::File::open(&e[0]).map_err(|e| e.to_string())?,
        None => {
            let t = crate::files::TempFile::create(&disk.descriptor).map_err(|e| e.to_string())?;
            crate::vmdk::coalesce(&chain, t.file().map_err(|e| e.to_string())?)
                .map_err(|e| e.to_string())?;
            let f = t
                .file()
                .map_err(|e| e.to_string())?
                .try_clone()
                .map_err(|e| e.to_string())?;
            temp = Some(t);
            f
        }
    };
    let mut sw = esx_vmdk::StreamOptimizedWriter::new(w, disk.capacity, &disk.adapter)
        .map_err(|e| e.to_string())?;
    let len = src
        .metadata()
        .map_err(|e| e.to_string())?
        .len()
        .min(disk.capacity);
    let mut buf = vec![0u8; crate::files::CHUNK];
    let mut pos = 0u64;
    const GRAIN: usize = 64 * 1024;
    while pos < len {
        let n = (len - pos).min(buf.len() as u64) as usize;
        let chunk = &mut buf[..n];
        let mut got = 0;
        while got < n {
            match src.read_at(&mut chunk[got..], pos + got as u64) {
                Ok(0) => {
                    chunk[got..].fill(0);
                    got = n;
                }
                Ok(k) => got += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.to_string()),
            }
        }
        for (i, g) in chunk.chunks(GRAIN).enumerate() {
            if g.iter().any(|b| *b != 0) {
                sw.write_at(pos + (i * GRAIN) as u64, g)
                    .map_err(|e| e.to_string())?;
            }
        }
        pos += n as u64;
    }
    drop(temp);
    sw.finish().map_err(|e| e.to_string())
}
