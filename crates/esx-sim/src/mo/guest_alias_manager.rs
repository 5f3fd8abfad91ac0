//! `GuestAliasManager`: the simulated guests have no SAML aliases; listing them gives none.

use esx_vim::*;

use crate::fault::{Fault, MethodResult};
use crate::mo::guest_operations::check;
use crate::state::State;

/// The `GuestAliasManager` methods; gives the request back when it is not one.
pub fn handle(state: &mut State, req: Request) -> Result<MethodResult<Response>, Request> {
    Ok(match req {
        Request::ListGuestAliases(q) => check(state, &q.vm, &q.auth).map(|_| {
            Response::ListGuestAliases(Box::new(ListGuestAliasesResponse { returnval: vec![] }))
        }),
        Request::ListGuestMappedAliases(q) => check(state, &q.vm, &q.auth).map(|_| {
            Response::ListGuestMappedAliases(Box::new(ListGuestMappedAliasesResponse {
                returnval: vec![],
            }))
        }),
        Request::AddGuestAlias(q) => check(state, &q.vm, &q.auth)
            .and_then(|_| Err(Fault::not_supported("guest aliases in the simulated guest"))),
        Request::RemoveGuestAlias(q) => check(state, &q.vm, &q.auth)
            .and_then(|_| Err(Fault::not_supported("guest aliases in the simulated guest"))),
        Request::RemoveGuestAliasByCert(q) => check(state, &q.vm, &q.auth)
            .and_then(|_| Err(Fault::not_supported("guest aliases in the simulated guest"))),
        other => return Err(other),
    })
}
