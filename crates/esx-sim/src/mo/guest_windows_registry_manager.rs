//! `GuestWindowsRegistryManager`: the simulated guests run Linux, so every registry operation
//! fails with `OperationNotSupportedByGuest` (after the usual guest checks), as on a real
//! Linux guest.

use esx_vim::*;

use crate::fault::{Fault, MethodResult};
use crate::mo::guest_operations::check;
use crate::state::State;

fn unsupported() -> Fault {
    Fault::new(
        OperationNotSupportedByGuest::default(),
        "The guest operating system does not support the Windows registry",
    )
}

/// The `GuestWindowsRegistryManager` methods; gives the request back when it is not one.
pub fn handle(state: &mut State, req: Request) -> Result<MethodResult<Response>, Request> {
    let (vm, auth) = match &req {
        Request::CreateRegistryKeyInGuest(q) => (&q.vm, &q.auth),
        Request::ListRegistryKeysInGuest(q) => (&q.vm, &q.auth),
        Request::DeleteRegistryKeyInGuest(q) => (&q.vm, &q.auth),
        Request::SetRegistryValueInGuest(q) => (&q.vm, &q.auth),
        Request::ListRegistryValuesInGuest(q) => (&q.vm, &q.auth),
        Request::DeleteRegistryValueInGuest(q) => (&q.vm, &q.auth),
        _ => return Err(req),
    };
    Ok(check(state, vm, auth).and_then(|_| Err(unsupported())))
}
