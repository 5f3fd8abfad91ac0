//! Generic service tickets (`SessionManager.AcquireGenericServiceTicket`): a one-time
//! credential a client presents as the `vmware_cgi_ticket` cookie on a `/folder` request
//! instead of a session, as real hosts authorise datastore and NFC transfers. A ticket is
//! good for one request within [`LIFETIME`], for the URL (and HTTP method) it was made for.
//! Clone tickets (`AcquireCloneTicket`/`CloneSession`) live in the same table.

use std::time::{Duration, Instant};

use esx_vim::{BaseSessionManagerServiceRequestSpec, SessionManagerGenericServiceTicket};

use crate::fault::{Fault, MethodResult};
use crate::state::State;

/// How long a ticket stays valid.
pub const LIFETIME: Duration = Duration::from_secs(5 * 60);

/// The cookie that carries a ticket.
pub const COOKIE: &str = "vmware_cgi_ticket";

/// A ticket not used yet.
#[derive(Debug, Clone)]
pub struct Ticket {
    /// When it was made.
    pub created: Instant,
    /// Whether it was made for a read-only user (no PUT or DELETE).
    pub read_only: bool,
    /// The URL path it is good for (`None`: any `/folder` path).
    pub path: Option<String>,
    /// The HTTP method it is good for (`None`: any).
    pub method: Option<String>,
    /// For a clone ticket (`AcquireCloneTicket`): the user `CloneSession` logs in; such a
    /// ticket is no good for HTTP requests.
    pub clone_user: Option<String>,
}

/// The path of `url` (`https://host/folder/x?dsName=y` -> `/folder/x`), or `url` itself when
/// it is already a path.
fn url_path(url: &str) -> String {
    let rest = match url.split_once("://") {
        Some((_, r)) => r.find('/').map(|i| &r[i..]).unwrap_or("/"),
        None => url,
    };
    rest.split(['?', '#']).next().unwrap_or("").to_owned()
}

/// `httpGet` -> `GET` (and so on); `None` for a method the spec does not name.
fn http_method(m: &str) -> Option<String> {
    let m = m.strip_prefix("http").unwrap_or(m);
    (!m.is_empty()).then(|| m.to_ascii_uppercase())
}

/// `AcquireGenericServiceTicket`: a new ticket for the caller's session `session`.
pub fn acquire(
    state: &mut State,
    session: Option<&str>,
    spec: &BaseSessionManagerServiceRequestSpec,
) -> MethodResult<SessionManagerGenericServiceTicket> {
    let read_only = session
        .and_then(|k| state.sessions.get(k))
        .map(|s| s.read_only)
        .ok_or_else(|| Fault::invalid_argument("session"))?;
    let (path, method) = match spec {
        BaseSessionManagerServiceRequestSpec::SessionManagerHttpServiceRequestSpec(h) => {
            if h.url.trim().is_empty() {
                return Err(Fault::invalid_argument("spec.url"));
            }
            let path = url_path(&h.url);
            if !path.starts_with("/folder") {
                return Err(Fault::invalid_argument("spec.url"));
            }
            (Some(path), h.method.as_deref().and_then(http_method))
        }
        _ => (None, None),
    };
    prune(state);
    let id = crate::tls::session_key();
    state.tickets.insert(
        id.clone(),
        Ticket {
            created: Instant::now(),
            read_only,
            path,
            method,
            clone_user: None,
        },
    );
    Ok(SessionManagerGenericServiceTicket {
        id,
        host_name: Some(host_name(state)),
        ssl_thumbprint: Some(state.thumbprint.clone()),
        ..Default::default()
    })
}

/// The address clients reach the simulator at, as tickets name it.
pub fn host_name(state: &State) -> String {
    state
        .config
        .listen
        .ip()
        .to_string()
        .replace("0.0.0.0", "127.0.0.1")
}

/// `AcquireCloneTicket`: a one-time ticket with which one more client logs in as the caller
/// (`CloneSession`), within [`LIFETIME`].
pub fn acquire_clone(state: &mut State, session: Option<&str>) -> MethodResult<String> {
    let (user, read_only) = session
        .and_then(|k| state.sessions.get(k))
        .map(|s| (s.user.clone(), s.read_only))
        .ok_or_else(|| Fault::invalid_argument("session"))?;
    prune(state);
    let id = format!("cst-VCT-{}", crate::tls::session_key());
    state.tickets.insert(
        id.clone(),
        Ticket {
            created: Instant::now(),
            read_only,
            path: None,
            method: None,
            clone_user: Some(user),
        },
    );
    Ok(id)
}

/// Uses up clone ticket `id`: the user it logs in and whether that user is read-only;
/// `None` when it is unknown, used or expired.
pub fn redeem_clone(state: &mut State, id: &str) -> Option<(String, bool)> {
    prune(state);
    state.tickets.get(id)?.clone_user.as_ref()?;
    let t = state.tickets.remove(id)?;
    Some((t.clone_user?, t.read_only))
}

/// Drops expired tickets.
pub fn prune(state: &mut State) {
    state.tickets.retain(|_, t| t.created.elapsed() <= LIFETIME);
}

/// Uses up ticket `id` for `method` on `path`: `Some(read_only)` when it was valid.
pub fn redeem(state: &mut State, id: &str, method: &str, path: &str) -> Option<bool> {
    prune(state);
    let t = state.tickets.get(id)?;
    if t.clone_user.is_some()
        || t.path.as_deref().is_some_and(|p| p != path)
        || t.method.as_deref().is_some_and(|m| m != method)
    {
        return None;
    }
    state.tickets.remove(id).map(|t| t.read_only)
}

/// SHA-1 of `data` (for the certificate thumbprint vSphere reports in tickets).
pub fn sha1(data: &[u8]) -> [u8; 20] {
    let digest = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, data);
    let mut out = [0u8; 20];
    out.copy_from_slice(digest.as_ref());
    out
}

/// The SHA-1 thumbprint of a DER certificate as colon-separated upper-case hex.
pub fn thumbprint(der: &[u8]) -> String {
    sha1(der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn sha1_known_answers() {
        assert_eq!(hex(&sha1(b"")), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        assert_eq!(
            hex(&sha1(b"abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(
            hex(&sha1(
                b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
            )),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1"
        );
        assert_eq!(thumbprint(b"abc").len(), 59);
    }

    #[test]
    fn tickets_expire_and_are_used_once() {
        let dir = std::env::temp_dir().join(format!("esx-sim-ticket-unit-{}", std::process::id()));
        let mut state = State::new(crate::Config::new(&dir));
        let fresh = Ticket {
            created: Instant::now(),
            read_only: true,
            path: Some("/folder/a".into()),
            method: Some("GET".into()),
            clone_user: None,
        };
        state.tickets.insert("t1".into(), fresh.clone());
        assert_eq!(redeem(&mut state, "t1", "PUT", "/folder/a"), None);
        assert_eq!(redeem(&mut state, "t1", "GET", "/folder/b"), None);
        assert_eq!(redeem(&mut state, "t1", "GET", "/folder/a"), Some(true));
        assert_eq!(redeem(&mut state, "t1", "GET", "/folder/a"), None);
        if let Some(old) = Instant::now().checked_sub(LIFETIME + Duration::from_secs(1)) {
            state.tickets.insert(
                "t2".into(),
                Ticket {
                    created: old,
                    ..fresh
                },
            );
            assert_eq!(redeem(&mut state, "t2", "GET", "/folder/a"), None);
            assert!(state.tickets.is_empty());
        }
    }

    #[test]
    fn url_paths_and_methods() {
        assert_eq!(
            url_path("https://127.0.0.1:443/folder/vm1/vm1.vmx?dcPath=x&dsName=y"),
            "/folder/vm1/vm1.vmx"
        );
        assert_eq!(url_path("/folder/a"), "/folder/a");
        assert_eq!(http_method("httpGet").as_deref(), Some("GET"));
        assert_eq!(http_method("httpPut").as_deref(), Some("PUT"));
    }
}
