//! `GuestAuthManager`: checks guest credentials (see [`crate::mo::guest_operations`] for the
//! user and password every simulated guest accepts).

use esx_vim::*;

use crate::fault::MethodResult;
use crate::mo::guest_operations::check;
use crate::state::State;

/// The `GuestAuthManager` methods; gives the request back when it is not one.
pub fn handle(state: &mut State, req: Request) -> Result<MethodResult<Response>, Request> {
    Ok(match req {
        Request::ValidateCredentialsInGuest(q) => check(state, &q.vm, &q.auth).map(|_| {
            Response::ValidateCredentialsInGuest(Box::new(ValidateCredentialsInGuestResponse {}))
        }),
        Request::ReleaseCredentialsInGuest(q) => check(state, &q.vm, &q.auth).map(|_| {
            Response::ReleaseCredentialsInGuest(Box::new(ReleaseCredentialsInGuestResponse {}))
        }),
        other => return Err(other),
    })
}
