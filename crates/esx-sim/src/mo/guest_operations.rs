//! `GuestOperationsManager` and the guest model its sub-managers work on.
//!
//! The sub-managers (`GuestFileManager`, `GuestProcessManager`, `GuestAuthManager`,
//! `GuestAliasManager`, `GuestWindowsRegistryManager`) are objects of their own, one module
//! each. Every guest operation needs a powered-on VM whose tools run (else `InvalidPowerState`
//! or `GuestOperationsUnavailable`) and the guest credentials [`GUEST_USER`]/[`GUEST_PASSWORD`]
//! (else `InvalidGuestLogin`).
//!
//! Each VM's guest is a small in-memory model made at its first guest operation: a file tree
//! (`/`, `/tmp`, `/root`, `/etc/hostname`, `/etc/os-release`, programs under `/bin` and
//! `/usr/bin`), an environment, and a process table (`/sbin/init` as pid 1, then the programs
//! started). The process table starts afresh at each boot; files live as long as the simulator.

use std::collections::{BTreeMap, HashMap};

use esx_vim::*;

use crate::fault::{Fault, MethodResult};
use crate::property::Top;
use crate::state::{moref, Mo, MoRef, State};

/// The guest user every simulated guest accepts.
pub const GUEST_USER: &str = "root";
/// Its password.
pub const GUEST_PASSWORD: &str = "vmware";

/// Largest file the guest model holds (transfers beyond it are refused).
pub const MAX_FILE: u64 = 64 << 20;

/// The sub-managers: (WSDL type, `GuestOperationsManager` property, ESXi id, vCenter id).
pub const SUBS: [(&str, &str, &str, &str); 5] = [
    (
        "GuestFileManager",
        "fileManager",
        "ha-guest-operations-file-manager",
        "guestOperationsFileManager",
    ),
    (
        "GuestProcessManager",
        "processManager",
        "ha-guest-operations-process-manager",
        "guestOperationsProcessManager",
    ),
    (
        "GuestAuthManager",
        "authManager",
        "ha-guest-auth-manager",
        "guestOperationsAuthManager",
    ),
    (
        "GuestAliasManager",
        "aliasManager",
        "ha-guest-alias-manager",
        "guestOperationsAliasManager",
    ),
    (
        "GuestWindowsRegistryManager",
        "guestWindowsRegistryManager",
        "ha-guest-windows-registry-manager",
        "guestOperationsWindowsRegistryManager",
    ),
];

fn sub_id(state: &State, i: usize) -> &'static str {
    match state.flavor() {
        crate::config::Flavor::Esx => SUBS[i].2,
        crate::config::Flavor::Vcenter => SUBS[i].3,
    }
}

/// Creates the sub-managers (at start-up).
pub fn insert(state: &mut State) {
    for (i, sub) in SUBS.iter().enumerate() {
        let id = sub_id(state, i);
        state.insert(id, Mo::Manager(sub.0));
    }
}

/// `GuestOperationsManager`'s properties.
pub fn property(state: &State, name: &str) -> Top {
    let i = SUBS.iter().position(|s| s.1 == name)?;
    Some(Some(Any::from(moref(SUBS[i].0, sub_id(state, i)))))
}

/// A file or directory of a guest.
#[derive(Debug, Clone)]
pub struct GuestNode {
    /// The content (`None` for a directory).
    pub data: Option<Vec<u8>>,
    /// Modification time.
    pub mtime: DateTime,
    /// Access time.
    pub atime: DateTime,
    /// POSIX permission bits.
    pub mode: i64,
    /// Owner and group ids.
    pub owner: (i32, i32),
}

impl GuestNode {
    /// A new directory.
    pub fn dir() -> GuestNode {
        let t = crate::state::now();
        GuestNode {
            data: None,
            mtime: t,
            atime: t,
            mode: 0o755,
            owner: (0, 0),
        }
    }

    /// A new file.
    pub fn file(data: Vec<u8>, mode: i64) -> GuestNode {
        GuestNode {
            data: Some(data),
            mode,
            ..GuestNode::dir()
        }
    }

    /// Whether it is a directory.
    pub fn is_dir(&self) -> bool {
        self.data.is_none()
    }
}

/// A process of a guest.
#[derive(Debug, Clone)]
pub struct GuestProcess {
    /// As `ListProcessesInGuest` reports it.
    pub info: GuestProcessInfo,
}

/// One VM's guest.
#[derive(Debug, Clone)]
pub struct Guest {
    /// Files by absolute path.
    pub files: BTreeMap<String, GuestNode>,
    /// Processes, pid order.
    pub procs: Vec<GuestProcess>,
    /// Next pid.
    pub next_pid: i64,
    /// The boot the process table belongs to.
    pub boot: Option<DateTime>,
    /// Environment variables.
    pub env: Vec<(String, String)>,
}

/// Programs the guest has (they run and exit at once, `sleep` until killed).
pub const PROGRAMS: &[&str] = &[
    "/bin/echo",
    "/bin/sh",
    "/bin/bash",
    "/bin/true",
    "/bin/false",
    "/bin/sleep",
    "/bin/ls",
    "/bin/cat",
    "/bin/date",
    "/bin/mkdir",
    "/bin/rm",
    "/usr/bin/env",
    "/usr/bin/id",
    "/usr/bin/uptime",
    "/sbin/init",
];

impl Guest {
    fn new(vm_name: &str, boot: Option<DateTime>) -> Guest {
        let mut files = BTreeMap::new();
        for d in [
            "/", "/bin", "/etc", "/root", "/sbin", "/tmp", "/usr", "/usr/bin", "/var", "/var/log",
        ] {
            files.insert(d.to_owned(), GuestNode::dir());
        }
        if let Some(t) = files.get_mut("/tmp") {
            t.mode = 0o1777;
        }
        files.insert(
            "/etc/hostname".into(),
            GuestNode::file(
                format!("{}\n", vm_name.to_ascii_lowercase()).into_bytes(),
                0o644,
            ),
        );
        files.insert(
            "/etc/os-release".into(),
            GuestNode::file(
                b"NAME=\"Photon OS\"\nVERSION=\"4.0\"\nID=photon\nVERSION_ID=4.0\nPRETTY_NAME=\"VMware Photon OS/Linux\"\n".to_vec(),
                0o644,
            ),
        );
        for p in PROGRAMS {
            files.insert((*p).to_owned(), GuestNode::file(b"\x7fELF".to_vec(), 0o755));
        }
        let mut g = Guest {
            files,
            procs: Vec::new(),
            next_pid: 1,
            boot: None,
            env: [
                ("PATH", "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"),
                ("HOME", "/root"),
                ("USER", GUEST_USER),
                ("SHELL", "/bin/bash"),
                ("LANG", "en_US.UTF-8"),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .to_vec(),
        };
        g.reboot(boot);
        g
    }

    /// Starts the process table of a new boot (init as pid 1).
    fn reboot(&mut self, boot: Option<DateTime>) {
        self.boot = boot;
        self.procs.clear();
        self.next_pid = 1;
        let start = boot.unwrap_or_else(crate::state::now);
        self.spawn("/sbin/init", "", "root", start);
        self.next_pid = 1000;
    }

    /// Records a process; returns its pid.
    pub fn spawn(&mut self, path: &str, args: &str, owner: &str, start: DateTime) -> i64 {
        let pid = self.next_pid;
        self.next_pid += 1;
        let name = path.rsplit('/').next().unwrap_or(path).to_owned();
        let cmd_line = if args.is_empty() {
            format!("\"{path}\"")
        } else {
            format!("\"{path}\" {args}")
        };
        let (end_time, exit_code) = match name.as_str() {
            "init" | "sleep" => (None, None),
            "false" => (Some(start), Some(1)),
            _ => (Some(start), Some(0)),
        };
        self.procs.push(GuestProcess {
            info: GuestProcessInfo {
                name,
                pid,
                owner: owner.to_owned(),
                cmd_line,
                start_time: start,
                end_time,
                exit_code,
            },
        });
        pid
    }
}

/// A pending transfer of `/guestFile` (single use).
#[derive(Debug, Clone)]
pub struct Transfer {
    /// The VM.
    pub vm: String,
    /// The guest path.
    pub path: String,
    /// Into the guest (PUT) or out of it (GET).
    pub to_guest: bool,
    /// The size announced for an upload.
    pub size: u64,
    /// Overwrite an existing file.
    pub overwrite: bool,
}

/// Every VM's guest model and the pending transfers.
#[derive(Debug, Default)]
pub struct Guests {
    /// Guests by VM id.
    pub vms: HashMap<String, Guest>,
    /// Transfers by token.
    pub transfers: HashMap<String, Transfer>,
}

/// Checks that guest operations are possible on `vm` with `auth`; returns the user name.
pub fn check(state: &State, vm: &MoRef, auth: &BaseGuestAuthentication) -> MethodResult<String> {
    let v = state.vm(vm)?;
    if v.runtime.power_state != VirtualMachinePowerState::PoweredOn {
        return Err(Fault::invalid_power_state(
            Some(VirtualMachinePowerState::PoweredOn),
            v.runtime.power_state.clone(),
        ));
    }
    if !v.tools_running() {
        return Err(Fault::new(
            GuestOperationsUnavailable::default(),
            "The guest operations agent could not be contacted.",
        ));
    }
    match auth {
        BaseGuestAuthentication::NamePasswordAuthentication(a)
            if a.username == GUEST_USER && a.password == GUEST_PASSWORD =>
        {
            Ok(a.username.clone())
        }
        _ => Err(Fault::new(
            InvalidGuestLogin::default(),
            "Failed to authenticate with the guest operating system using the supplied credentials.",
        )),
    }
}

/// The guest of `vm` (made at first use; a new boot restarts its process table).
pub fn guest<'a>(state: &'a mut State, vm: &MoRef) -> MethodResult<&'a mut Guest> {
    let v = state.vm(vm)?;
    let (name, boot) = (v.name.clone(), v.runtime.boot_time);
    let g = state
        .managers
        .guest
        .vms
        .entry(vm.value.clone())
        .or_insert_with(|| Guest::new(&name, boot));
    if g.boot != boot {
        g.reboot(boot);
    }
    Ok(g)
}

/// Normalises an absolute guest path (`//a/./b/` → `/a/b`); `None` for a relative one or one
/// with `..` reaching above `/`.
pub fn norm(p: &str) -> Option<String> {
    if !p.starts_with('/') {
        return None;
    }
    let mut parts: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            c => parts.push(c),
        }
    }
    Some(format!("/{}", parts.join("/")))
}

/// The parent of a normalised path (`/` for a top-level entry).
pub fn parent(p: &str) -> String {
    match p.rsplit_once('/') {
        Some(("", _)) | None => "/".into(),
        Some((d, _)) => d.to_owned(),
    }
}

/// `FileNotFound` for a guest path.
pub fn not_found(p: &str) -> Fault {
    Fault::new(
        FileNotFound {
            file: p.to_owned(),
            ..Default::default()
        },
        format!("File {p} was not found"),
    )
}

/// Serves `/guestFile?id=…&token=…`: PUT writes the body into the guest, GET reads the file
/// out (each token once).
pub async fn serve(
    shared: std::sync::Arc<crate::server::Shared>,
    req: hyper::Request<hyper::body::Incoming>,
) -> hyper::Response<crate::server::Body> {
    use http_body_util::BodyExt;
    use hyper::{Method, StatusCode};
    let text = |s: StatusCode, m: &str| {
        let mut r = hyper::Response::new(crate::server::full(m.to_owned()));
        *r.status_mut() = s;
        r
    };
    let token = req
        .uri()
        .query()
        .unwrap_or("")
        .split('&')
        .find_map(|kv| kv.strip_prefix("token="))
        .unwrap_or("")
        .to_owned();
    let t = {
        let Some(mut st) = shared.write() else {
            return text(StatusCode::INTERNAL_SERVER_ERROR, "state unavailable\n");
        };
        match st.managers.guest.transfers.remove(&token) {
            Some(t) => t,
            None => return text(StatusCode::UNAUTHORIZED, "unknown or used token\n"),
        }
    };
    match (req.method(), t.to_guest) {
        (&Method::GET, false) => {
            let Some(mut st) = shared.write() else {
                return text(StatusCode::INTERNAL_SERVER_ERROR, "state unavailable\n");
            };
            let data = st
                .managers
                .guest
                .vms
                .get_mut(&t.vm)
                .and_then(|g| g.files.get_mut(&t.path))
                .and_then(|n| {
                    n.atime = crate::state::now();
                    n.data.clone()
                });
            match data {
                Some(d) => {
                    let mut r = hyper::Response::new(crate::server::full(d));
                    r.headers_mut().insert(
                        hyper::header::CONTENT_TYPE,
                        hyper::header::HeaderValue::from_static("application/octet-stream"),
                    );
                    r
                }
                None => text(StatusCode::NOT_FOUND, "the file is gone\n"),
            }
        }
        (&Method::PUT, true) | (&Method::POST, true) => {
            let body = http_body_util::Limited::new(req.into_body(), MAX_FILE as usize);
            let Ok(b) = body.collect().await else {
                return text(StatusCode::BAD_REQUEST, "upload broken off or too large\n");
            };
            let data = b.to_bytes().to_vec();
            if data.len() as u64 != t.size {
                return text(
                    StatusCode::BAD_REQUEST,
                    "body length differs from fileSize\n",
                );
            }
            let Some(mut st) = shared.write() else {
                return text(StatusCode::INTERNAL_SERVER_ERROR, "state unavailable\n");
            };
            let Some(g) = st.managers.guest.vms.get_mut(&t.vm) else {
                return text(StatusCode::NOT_FOUND, "the guest is gone\n");
            };
            if !g.files.get(&parent(&t.path)).is_some_and(GuestNode::is_dir) {
                return text(StatusCode::NOT_FOUND, "the directory is gone\n");
            }
            match g.files.get_mut(&t.path) {
                Some(n) if n.is_dir() => text(StatusCode::CONFLICT, "a directory is there\n"),
                Some(_) if !t.overwrite => text(StatusCode::CONFLICT, "the file exists\n"),
                Some(n) => {
                    n.data = Some(data);
                    n.mtime = crate::state::now();
                    text(StatusCode::OK, "")
                }
                None => {
                    g.files.insert(t.path.clone(), GuestNode::file(data, 0o644));
                    text(StatusCode::OK, "")
                }
            }
        }
        _ => text(
            StatusCode::METHOD_NOT_ALLOWED,
            "method not allowed for this token\n",
        ),
    }
}

/// The guest operations; gives the request back when it is not one.
pub fn handle(state: &mut State, req: Request) -> Result<MethodResult<Response>, Request> {
    let req = match crate::mo::guest_auth_manager::handle(state, req) {
        Ok(r) => return Ok(r),
        Err(req) => req,
    };
    let req = match crate::mo::guest_file_manager::handle(state, req) {
        Ok(r) => return Ok(r),
        Err(req) => req,
    };
    let req = match crate::mo::guest_process_manager::handle(state, req) {
        Ok(r) => return Ok(r),
        Err(req) => req,
    };
    let req = match crate::mo::guest_alias_manager::handle(state, req) {
        Ok(r) => return Ok(r),
        Err(req) => req,
    };
    crate::mo::guest_windows_registry_manager::handle(state, req)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(norm("//tmp/./a/").as_deref(), Some("/tmp/a"));
        assert_eq!(norm("/tmp/../etc").as_deref(), Some("/etc"));
        assert_eq!(norm("/.."), None);
        assert_eq!(norm("tmp"), None);
        assert_eq!(parent("/tmp/a"), "/tmp");
        assert_eq!(parent("/tmp"), "/");
    }
}
