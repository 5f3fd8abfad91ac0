//! `AcquireCloneTicket`/`CloneSession` (one login per ticket, as the ticket's user) and
//! `VirtualMachine.AcquireTicket` for console tickets; through the dispatcher and over HTTPS.

use esx_sim::state::{moref, Ctx, MoRef, State};
use esx_vim::*;

use crate::support;

use support::https::{curl, curl_available, envelope, returnval};

fn run(
    state: &mut State,
    session: Option<&str>,
    req: Request,
) -> Result<(Response, Option<String>), Box<BaseMethodFault>> {
    let ctx = Ctx {
        session: session.map(str::to_owned),
        ..Ctx::default()
    };
    let n = state.sessions.len();
    esx_sim::dispatch::handle(state, &ctx, req, &move || format!("session-{n}"))
        .map_err(|f| Box::new(f.fault))
}

fn login(state: &mut State, user: &str) -> String {
    let sm = moref("SessionManager", "ha-sessionmgr");
    let (_, key) = run(
        state,
        None,
        Request::Login(Box::new(LoginRequestType {
            this: sm,
            user_name: user.into(),
            password: "pass".into(),
            locale: None,
        })),
    )
    .unwrap();
    key.unwrap()
}

fn clone_ticket(state: &mut State, session: &str) -> String {
    let sm = moref("SessionManager", "ha-sessionmgr");
    match run(
        state,
        Some(session),
        Request::AcquireCloneTicket(Box::new(AcquireCloneTicketRequestType { this: sm })),
    ) {
        Ok((Response::AcquireCloneTicket(r), _)) => r.returnval,
        other => panic!("{other:?}"),
    }
}

fn clone_session(
    state: &mut State,
    ticket: &str,
) -> Result<(UserSession, String), Box<BaseMethodFault>> {
    let sm = moref("SessionManager", "ha-sessionmgr");
    let req = Request::CloneSession(Box::new(CloneSessionRequestType {
        this: sm,
        clone_ticket: ticket.into(),
    }));
    match run(state, None, req)? {
        (Response::CloneSession(r), Some(key)) => Ok((r.returnval, key)),
        other => panic!("{other:?}"),
    }
}

fn vm_ticket(
    state: &mut State,
    vm: &MoRef,
    kind: &str,
) -> Result<VirtualMachineTicket, Box<BaseMethodFault>> {
    let req = Request::AcquireTicket(Box::new(AcquireTicketRequestType {
        this: vm.clone(),
        ticket_type: kind.into(),
    }));
    match run(state, None, req)? {
        (Response::AcquireTicket(r), _) => Ok(r.returnval),
        other => panic!("{other:?}"),
    }
}

#[test]
fn clone_tickets_log_in_once_as_their_user() {
    let (mut state, dir) = support::start("clone", "once", esx_sim::Flavor::Esx, Some("vm=1"));
    let root = login(&mut state, "root");
    let t = clone_ticket(&mut state, &root);
    let (us, key) = clone_session(&mut state, &t).unwrap();
    assert_eq!(us.user_name, "root");
    assert_ne!(key, root, "a new session");
    assert!(state.sessions.get(&key).is_some_and(|s| !s.read_only));
    let e = clone_session(&mut state, &t).unwrap_err();
    assert!(
        matches!(*e, BaseMethodFault::InvalidLogin(_)),
        "reused: {e:?}"
    );
    let e = clone_session(&mut state, "cst-VCT-bogus").unwrap_err();
    assert!(matches!(*e, BaseMethodFault::InvalidLogin(_)), "{e:?}");
    // Expired.
    let t = clone_ticket(&mut state, &root);
    if let Some(x) = state.tickets.get_mut(&t) {
        x.created = x
            .created
            .checked_sub(esx_sim::ticket::LIFETIME + std::time::Duration::from_secs(1))
            .expect("the clock goes back five minutes");
    }
    let e = clone_session(&mut state, &t).unwrap_err();
    assert!(
        matches!(*e, BaseMethodFault::InvalidLogin(_)),
        "expired: {e:?}"
    );
    // A read-only user's clone is read-only; a clone ticket is no HTTP ticket.
    let ro = login(&mut state, "readonly");
    let t = clone_ticket(&mut state, &ro);
    assert_eq!(
        esx_sim::ticket::redeem(&mut state, &t, "GET", "/folder/x"),
        None
    );
    let (us, key) = clone_session(&mut state, &t).unwrap();
    assert_eq!(us.user_name, "readonly");
    assert!(state.sessions.get(&key).is_some_and(|s| s.read_only));

    // Console tickets.
    let vm = state
        .objects
        .iter()
        .find_map(|(id, m)| {
            matches!(m, esx_sim::state::Mo::VirtualMachine(_)).then(|| moref("VirtualMachine", id))
        })
        .unwrap();
    let e = vm_ticket(&mut state, &vm, "mks").unwrap_err();
    assert!(
        matches!(*e, BaseMethodFault::InvalidState(_)),
        "powered off: {e:?}"
    );
    support::power_on(&mut state, &vm);
    let mks = vm_ticket(&mut state, &vm, "mks").unwrap();
    assert!(!mks.ticket.is_empty());
    assert_eq!(mks.port, Some(902));
    assert_eq!(mks.cfg_file, "/vmfs/volumes/datastore1/vm1/vm1.vmx");
    assert_eq!(mks.host.as_deref(), Some("127.0.0.1"));
    assert_eq!(
        mks.ssl_thumbprint.as_deref(),
        Some(state.thumbprint.as_str())
    );
    let web = vm_ticket(&mut state, &vm, "webmks").unwrap();
    assert_ne!(web.ticket, mks.ticket);
    assert!(web
        .url
        .as_deref()
        .is_some_and(|u| u.starts_with("wss://127.0.0.1:") && u.ends_with(&web.ticket)));
    let e = vm_ticket(&mut state, &vm, "device").unwrap_err();
    assert!(matches!(*e, BaseMethodFault::InvalidArgument(_)), "{e:?}");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clone_session_over_https() {
    if !curl_available() {
        eprintln!("!!! SKIPPED: curl is missing");
        return;
    }
    let dir = std::env::temp_dir().join(format!("esx-sim-clone-https-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let h = esx_sim::Simulator::start(esx_sim::Config::new(dir.join("data")))
        .await
        .unwrap();
    let sdk = format!("https://127.0.0.1:{}/sdk", h.addr.port());
    let d = dir.clone();
    tokio::task::spawn_blocking(move || {
        let post = |jar: &std::path::Path, body: &str| {
            curl(&sdk, Some(jar), "POST", Some(envelope(body).as_bytes()))
        };
        let (first, second, third) = (d.join("a"), d.join("b"), d.join("c"));
        let (s, _) = post(&first, r#"<Login><_this type="SessionManager">ha-sessionmgr</_this><userName>root</userName><password>pass</password></Login>"#);
        assert_eq!(s, 200);
        let (s, body) = post(&first, r#"<AcquireCloneTicket><_this type="SessionManager">ha-sessionmgr</_this></AcquireCloneTicket>"#);
        assert_eq!(s, 200, "{body}");
        let ticket = returnval(&body);
        let clone = format!(r#"<CloneSession><_this type="SessionManager">ha-sessionmgr</_this><cloneTicket>{ticket}</cloneTicket></CloneSession>"#);
        let (s, body) = post(&second, &clone);
        assert_eq!(s, 200, "{body}");
        assert!(body.contains("<userName>root</userName>"), "{body}");
        let find = r#"<FindByInventoryPath><_this type="SearchIndex">ha-searchindex</_this><inventoryPath>ha-datacenter</inventoryPath></FindByInventoryPath>"#;
        let (s, body) = post(&second, find);
        assert_eq!(s, 200, "the cloned session works: {body}");
        let (s, body) = post(&third, &clone);
        assert_eq!(s, 500);
        assert!(body.contains("InvalidLogin"), "{body}");
        let (s, body) = post(&third, find);
        assert_eq!(s, 500);
        assert!(body.contains("NotAuthenticated"), "{body}");
    })
    .await
    .unwrap();
    h.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
