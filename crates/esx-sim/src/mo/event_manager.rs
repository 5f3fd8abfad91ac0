//! `EventManager`: the events recorded for what happened.

use esx_vim::Any;

use crate::property::Top;
use crate::state::State;

/// Properties of the event manager.
pub fn property(state: &State, name: &str) -> Top {
    Some(match name {
        "latestEvent" => state.events.last().cloned(),
        "maxCollector" => Some(Any::Int(32)),
        "description" => None,
        _ => return None,
    })
}
