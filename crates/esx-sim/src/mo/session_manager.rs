//! `SessionManager`: login, logout and session queries.

use esx_vim::{Any, UserSession};

use crate::fault::{Fault, MethodResult};
use crate::property::Top;
use crate::state::{now, Ctx, Session, State};

/// The `UserSession` for a session.
pub fn user_session(s: &Session) -> UserSession {
    UserSession {
        key: s.key.clone(),
        user_name: s.user.clone(),
        full_name: s.user.clone(),
        login_time: s.login_time,
        last_active_time: last_active(s),
        locale: "en".into(),
        message_locale: "en".into(),
        extension_session: Some(false),
        // The simulator listens on loopback only.
        ip_address: Some("127.0.0.1".into()),
        call_count: Some(i64::try_from(s.activity.calls()).unwrap_or(i64::MAX)),
        ..Default::default()
    }
}

/// When the session last made a call.
fn last_active(s: &Session) -> esx_vim::DateTime {
    let idle = chrono::Duration::from_std(s.activity.idle()).unwrap_or_default();
    let t = now() - idle;
    if t < s.login_time {
        s.login_time
    } else {
        t
    }
}

/// The user agents sessions logged in with, by session key.
#[derive(Debug, Default)]
pub struct Agents {
    by_session: std::collections::HashMap<String, String>,
}

/// Records the `User-Agent` header session `key` logged in with (forgetting those of sessions
/// gone since).
pub fn set_agent(state: &mut State, key: &str, agent: String) {
    let live = &state.sessions;
    let agents = &mut state.managers.session_agents.by_session;
    agents.retain(|k, _| live.contains_key(k));
    if live.contains_key(key) {
        agents.insert(key.to_owned(), agent);
    }
}

/// The `UserSession` for a session, with the user agent it logged in with.
fn described(state: &State, s: &Session) -> UserSession {
    UserSession {
        user_agent: state
            .managers
            .session_agents
            .by_session
            .get(&s.key)
            .cloned(),
        ..user_session(s)
    }
}

/// Every live session (`sessionList`), the oldest login first.
pub fn session_list(state: &State) -> Vec<UserSession> {
    let mut v: Vec<&Session> = state.sessions.values().collect();
    v.sort_by(|a, b| a.login_time.cmp(&b.login_time).then(a.key.cmp(&b.key)));
    v.into_iter().map(|s| described(state, s)).collect()
}

/// `Login`: checks the credentials and creates a session with key `key`.
pub fn login(
    state: &mut State,
    user: &str,
    password: &str,
    key: String,
) -> MethodResult<UserSession> {
    let read_only = if user == state.config.user && password == state.config.password {
        false
    } else if state.config.readonly_user.as_deref() == Some(user)
        && password == state.config.password
    {
        true
    } else {
        return Err(Fault::invalid_login());
    };
    Ok(open(state, user, read_only, key))
}

/// `CloneSession`: logs a new client in as the user a clone ticket was made for; the ticket
/// works once (`InvalidLogin` when unknown, used or expired).
pub fn clone_session(state: &mut State, ticket: &str, key: String) -> MethodResult<UserSession> {
    let (user, read_only) =
        crate::ticket::redeem_clone(state, ticket).ok_or_else(Fault::invalid_login)?;
    Ok(open(state, &user, read_only, key))
}

/// A new session `key` for `user`.
fn open(state: &mut State, user: &str, read_only: bool, key: String) -> UserSession {
    let s = Session {
        key: key.clone(),
        user: user.to_owned(),
        read_only,
        login_time: now(),
        activity: crate::state::Activity::new(),
        started: std::time::Instant::now(),
    };
    let us = user_session(&s);
    state.sessions.insert(key, s);
    us
}

/// Properties of the session manager.
pub fn property(state: &State, ctx: &Ctx, name: &str) -> Top {
    Some(match name {
        "currentSession" => ctx
            .session
            .as_ref()
            .and_then(|k| state.sessions.get(k))
            .map(|s| Any::from(described(state, s))),
        "sessionList" => Some(Any::from(esx_vim::ArrayOfUserSession {
            user_session: session_list(state),
        })),
        "defaultLocale" => Some(Any::String("en".into())),
        "supportedLocaleList" => None,
        "message" => None,
        "messageLocaleList" => None,
        _ => return None,
    })
}
