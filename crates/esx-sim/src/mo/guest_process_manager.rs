//! `GuestProcessManager`: starts, lists and ends processes of the guest model (see
//! [`crate::mo::guest_operations`]). Programs must exist in the guest (`FileNotFound`
//! otherwise); `/bin/sleep` runs until terminated, `/bin/false` exits 1 at once, every other
//! program exits 0 at once.

use esx_vim::*;

use crate::fault::{Fault, MethodResult};
use crate::mo::guest_operations::{check, guest, norm, not_found};
use crate::state::{MoRef, State};

fn start(
    state: &mut State,
    vm: &MoRef,
    user: &str,
    spec: &BaseGuestProgramSpec,
) -> MethodResult<i64> {
    let s = match spec {
        BaseGuestProgramSpec::GuestProgramSpec(s) => s.as_ref().clone(),
        BaseGuestProgramSpec::GuestWindowsProgramSpec(_) => {
            return Err(Fault::new(
                OperationNotSupportedByGuest::default(),
                "A Windows program spec on a Linux guest",
            ))
        }
    };
    let path = norm(&s.program_path).ok_or_else(|| not_found(&s.program_path))?;
    for e in &s.env_variables {
        if !e.contains('=') {
            return Err(Fault::invalid_argument("spec.envVariables"));
        }
    }
    let g = guest(state, vm)?;
    match g.files.get(&path) {
        Some(n) if !n.is_dir() => {}
        _ => return Err(not_found(&s.program_path)),
    }
    if let Some(w) = s.working_directory.as_deref().filter(|w| !w.is_empty()) {
        let w = norm(w).ok_or_else(|| not_found(w))?;
        if !g.files.get(&w).is_some_and(|n| n.is_dir()) {
            return Err(not_found(&w));
        }
    }
    Ok(g.spawn(&path, s.arguments.trim(), user, crate::state::now()))
}

fn list(state: &mut State, vm: &MoRef, pids: &[i64]) -> MethodResult<Vec<GuestProcessInfo>> {
    let g = guest(state, vm)?;
    Ok(g.procs
        .iter()
        .filter(|p| pids.is_empty() || pids.contains(&p.info.pid))
        .map(|p| p.info.clone())
        .collect())
}

fn terminate(state: &mut State, vm: &MoRef, pid: i64) -> MethodResult<()> {
    let g = guest(state, vm)?;
    let gone = || {
        Fault::new(
            GuestProcessNotFound {
                pid,
                ..Default::default()
            },
            format!("The guest process {pid} was not found"),
        )
    };
    let p = g
        .procs
        .iter_mut()
        .find(|p| p.info.pid == pid)
        .ok_or_else(gone)?;
    if p.info.end_time.is_some() {
        return Err(gone());
    }
    if pid == 1 {
        return Err(Fault::new(
            GuestPermissionDenied::default(),
            "Permission to terminate init is denied",
        ));
    }
    p.info.end_time = Some(crate::state::now());
    // Killed by SIGTERM.
    p.info.exit_code = Some(143);
    Ok(())
}

fn env(state: &mut State, vm: &MoRef, names: &[String]) -> MethodResult<Vec<String>> {
    let g = guest(state, vm)?;
    Ok(g.env
        .iter()
        .filter(|(k, _)| names.is_empty() || names.contains(k))
        .map(|(k, v)| format!("{k}={v}"))
        .collect())
}

/// The `GuestProcessManager` methods; gives the request back when it is not one.
pub fn handle(state: &mut State, req: Request) -> Result<MethodResult<Response>, Request> {
    Ok(match req {
        Request::StartProgramInGuest(q) => check(state, &q.vm, &q.auth)
            .and_then(|user| start(state, &q.vm, &user, &q.spec))
            .map(|returnval| {
                Response::StartProgramInGuest(Box::new(StartProgramInGuestResponse { returnval }))
            }),
        Request::ListProcessesInGuest(q) => check(state, &q.vm, &q.auth)
            .and_then(|_| list(state, &q.vm, &q.pids))
            .map(|returnval| {
                Response::ListProcessesInGuest(Box::new(ListProcessesInGuestResponse { returnval }))
            }),
        Request::TerminateProcessInGuest(q) => check(state, &q.vm, &q.auth)
            .and_then(|_| terminate(state, &q.vm, q.pid))
            .map(|_| {
                Response::TerminateProcessInGuest(Box::new(TerminateProcessInGuestResponse {}))
            }),
        Request::ReadEnvironmentVariableInGuest(q) => check(state, &q.vm, &q.auth)
            .and_then(|_| env(state, &q.vm, &q.names))
            .map(|returnval| {
                Response::ReadEnvironmentVariableInGuest(Box::new(
                    ReadEnvironmentVariableInGuestResponse { returnval },
                ))
            }),
        other => return Err(other),
    })
}
