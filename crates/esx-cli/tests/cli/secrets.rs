//! Secrets never show: full sessions at the most verbose level, through the built `esxsh`
//! (`-d 0`, `RUST_LOG=trace`) and in-process through esx-driver with every tracing event
//! captured, against esx-sim on loopback. Every byte of stdout, stderr and the log is searched
//! for the password (from an auth.conf, never argv), a wrong password, the session cookies the
//! simulator issued and the tickets it handed out; `Debug` of the connection, the errors and
//! the credential objects too. Also: an auth.conf that group or others may read is used, with
//! one warning on stderr.
//!
//! esxsh has no log file option (`-d`/`RUST_LOG` log to stderr), so stderr is the log. The
//! proxy asks for credentials (`proxy=http://USER@host:port`, an esx extension; the password
//! from auth.conf's `[auth-proxy-HOST]` or the callback): its password must reach the proxy
//! and nothing else.
//!
//! Every test calls `esx_testkit::trace::init` (or `capture`) first (see esx-testkit).

use crate::support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use esx_driver::{Connection, FixedCredentials, HypervisorDriver, OpenOptions, StorageDriver};
use esx_sim::Flavor;
use support::Sim;

/// The simulator's password: letters, digits and `-` only, so that it reads the same raw,
/// XML-escaped and percent-encoded, and one search finds it in any of those forms.
const PASSWORD: &str = "Sekr3t-pw-7f41c9d2e8";
/// A wrong password, as secret as the right one.
const WRONG_PASSWORD: &str = "Wr0ng-pw-3b8e5a1c66";
const USER: &str = "root";
/// The proxy's user and password.
const PROXY_USER: &str = "proxyuser";
const PROXY_PASSWORD: &str = "Pr0xy-pw-5c2d9e7a41";
/// A wrong proxy password.
const WRONG_PROXY_PASSWORD: &str = "Wr0ng-proxy-pw-92ad";
/// How long any wait on a child process or its output may take.
const WAIT: Duration = Duration::from_secs(120);

/// A secret and what it is, for the failure message.
#[derive(Debug, Clone)]
struct Secret {
    what: String,
    value: String,
}

fn secret(what: impl Into<String>, value: impl Into<String>) -> Secret {
    let value = value.into();
    assert!(
        value.len() >= 8,
        "a secret too short to search for: {value:?}"
    );
    Secret {
        what: what.into(),
        value,
    }
}

/// The secrets of `secrets` that `text` contains, with some context around the first match.
fn leaks(text: &str, secrets: &[Secret]) -> Vec<String> {
    secrets
        .iter()
        .filter_map(|s| {
            let at = text.find(&s.value)?;
            let from = text[..at]
                .char_indices()
                .rev()
                .nth(120)
                .map_or(0, |(i, _)| i);
            let to = (at + s.value.len() + 120).min(text.len());
            let to = (to..=text.len())
                .find(|&i| text.is_char_boundary(i))
                .unwrap_or(text.len());
            Some(format!(
                "{} ({}) in: …{}…",
                s.what,
                s.value,
                &text[from..to]
            ))
        })
        .collect()
}

/// Fails, naming every leak, when `text` (called `name`) contains any secret.
#[track_caller]
fn assert_no_leak(name: &str, text: &str, secrets: &[Secret]) {
    let found = leaks(text, secrets);
    assert!(found.is_empty(), "secrets in {name}:\n{}", found.join("\n"));
}

/// The forms a password could take besides itself: HTTP Basic of `user:password`.
fn password_secrets(what: &str, password: &str) -> Vec<Secret> {
    user_password_secrets(what, USER, password)
}

/// [`password_secrets`] for another user.
fn user_password_secrets(what: &str, user: &str, password: &str) -> Vec<Secret> {
    let basic = base64(format!("{user}:{password}").as_bytes());
    vec![
        secret(what, password),
        secret(format!("{what} (HTTP Basic)"), basic),
    ]
}

/// Standard base64 with padding.
fn base64(data: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ABC[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The simulator's live sessions and unused tickets now.
fn sim_secrets(sim: &Sim) -> Vec<Secret> {
    let h = sim.handle();
    let mut out: Vec<Secret> = h
        .session_keys()
        .into_iter()
        .map(|k| secret("session cookie", k))
        .collect();
    out.extend(h.ticket_ids().into_iter().map(|t| secret("ticket", t)));
    out
}

/// Adds what is not in `all` yet.
fn merge(all: &mut Vec<Secret>, more: Vec<Secret>) {
    for s in more {
        if !all.iter().any(|a| a.value == s.value) {
            all.push(s);
        }
    }
}

/// A fresh directory for one test's files.
fn test_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("esxsh-secrets-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("test dir");
    dir
}

/// Writes an auth.conf giving `password` for root on 127.0.0.1, with `mode`.
fn write_auth_conf(dir: &Path, name: &str, password: &str, mode: u32) -> PathBuf {
    write_auth_conf_with_proxy(dir, name, password, PROXY_PASSWORD, mode)
}

/// [`write_auth_conf`] with the proxy's password given.
fn write_auth_conf_with_proxy(
    dir: &Path,
    name: &str,
    password: &str,
    proxy_password: &str,
    mode: u32,
) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(
        &path,
        format!(
            "[credentials-sim]\nusername={USER}\npassword={password}\n\n\
             [auth-esx-127.0.0.1]\ncredentials=sim\n\n\
             [credentials-proxy]\npassword={proxy_password}\n\n\
             [auth-proxy-127.0.0.1]\ncredentials=proxy\n"
        ),
    )
    .expect("auth.conf");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    path
}

/// The ESX simulator with our password.
fn start_sim(name: &str) -> Sim {
    Sim::start_with(name, Flavor::Esx, |c| c.password = PASSWORD.into())
}

// --- an HTTP CONNECT proxy on loopback (a peer, like a real proxy) ---

/// A CONNECT proxy that asks for `PROXY_USER`/`PROXY_PASSWORD` (HTTP Basic; 407 without
/// them), records each request head and tunnels to the target.
struct Proxy {
    port: u16,
    heads: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    accept: Option<std::thread::JoinHandle<()>>,
}

impl Proxy {
    fn start() -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("proxy listens");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("addr").port();
        let heads = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (h, s) = (heads.clone(), stop.clone());
        let accept = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((client, _)) => {
                        let h = h.clone();
                        std::thread::spawn(move || tunnel(client, &h));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        Proxy {
            port,
            heads,
            stop,
            accept: Some(accept),
        }
    }

    fn heads(&self) -> Vec<String> {
        self.heads.lock().unwrap().clone()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(a) = self.accept.take() {
            let _ = a.join();
        }
    }
}

/// One proxied connection: reads the CONNECT head (at most 16 KiB), records it, connects to
/// the loopback target and copies both ways until either side closes (or 2 minutes idle).
fn tunnel(client: TcpStream, heads: &Mutex<Vec<String>>) {
    let _ = client.set_nonblocking(false);
    let _ = client.set_read_timeout(Some(WAIT));
    let mut reader = BufReader::new(client.try_clone().expect("clone"));
    let mut head = String::new();
    while head.len() < 16 * 1024 {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        head.push_str(&line);
        if line == "\r\n" {
            break;
        }
    }
    heads.lock().unwrap().push(head.clone());
    let mut client = client;
    let wanted = format!(
        "proxy-authorization: basic {}",
        base64(format!("{PROXY_USER}:{PROXY_PASSWORD}").as_bytes())
    );
    if !head
        .lines()
        .any(|l| l.trim_end().eq_ignore_ascii_case(&wanted))
    {
        let _ = client.write_all(
            b"HTTP/1.1 407 Proxy Authentication Required\r\n\
              proxy-authenticate: Basic realm=\"test\"\r\ncontent-length: 0\r\n\r\n",
        );
        return;
    }
    let target = head
        .strip_prefix("CONNECT ")
        .and_then(|r| r.split(' ').next())
        .filter(|t| t.starts_with("127.0.0.1:"))
        .map(str::to_owned);
    let Some(target) = target else {
        let _ = client.write_all(b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n");
        return;
    };
    let Ok(server) = TcpStream::connect(&target) else {
        let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n");
        return;
    };
    let _ = server.set_read_timeout(Some(WAIT));
    if client
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .is_err()
    {
        return;
    }
    let (mut s_read, mut c_write) = (server.try_clone().expect("clone"), client);
    let mut s_write = server;
    let up = std::thread::spawn(move || {
        let _ = std::io::copy(&mut reader, &mut s_write);
        let _ = s_write.shutdown(std::net::Shutdown::Write);
    });
    let _ = std::io::copy(&mut s_read, &mut c_write);
    let _ = c_write.shutdown(std::net::Shutdown::Both);
    let _ = up.join();
}

// --- esxsh as a shell on a pipe, so that the simulator can be asked while it is connected ---

/// A running `esxsh` shell reading commands from a pipe.
struct Shell {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: Arc<Mutex<Vec<u8>>>,
    stderr: Arc<Mutex<Vec<u8>>>,
    readers: Vec<std::thread::JoinHandle<()>>,
}

fn drain(
    mut from: impl Read + Send + 'static,
    into: Arc<Mutex<Vec<u8>>>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        loop {
            match from.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => into.lock().unwrap().extend_from_slice(&buf[..n]),
            }
        }
    })
}

impl Shell {
    /// `esxsh -d 0 ARGS` with `RUST_LOG=trace`, credentials only from `auth_file`, and no
    /// password anywhere in its arguments or environment.
    fn start(args: &[&str], auth_file: &Path) -> Shell {
        let mut child = Command::new(env!("CARGO_BIN_EXE_esxsh"))
            .arg("-d")
            .arg("0")
            .args(args)
            .current_dir(support::workspace())
            .env("LIBVIRT_AUTH_FILE", auth_file)
            .env("XDG_CONFIG_HOME", "/nonexistent/esxsh-test-config")
            .env("RUST_LOG", "trace")
            .env_remove("ESX_USERNAME")
            .env_remove("ESX_PASSWORD")
            .env_remove("ESXSH_DEFAULT_CONNECT_URI")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("esxsh runs");
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let readers = vec![
            drain(child.stdout.take().expect("stdout"), stdout.clone()),
            drain(child.stderr.take().expect("stderr"), stderr.clone()),
        ];
        Shell {
            stdin: child.stdin.take(),
            child,
            stdout,
            stderr,
            readers,
        }
    }

    fn send(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin.write_all(line.as_bytes()).expect("write");
        stdin.write_all(b"\n").expect("write");
        stdin.flush().expect("flush");
    }

    fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.stdout.lock().unwrap()).into_owned()
    }

    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.stderr.lock().unwrap()).into_owned()
    }

    /// Waits until stdout contains `needle` `count` times (the shell flushes after each
    /// command).
    #[track_caller]
    fn wait_stdout(&mut self, needle: &str, count: usize) {
        let started = Instant::now();
        while self.stdout().matches(needle).count() < count {
            if started.elapsed() > WAIT || self.child.try_wait().ok().flatten().is_some() {
                let _ = self.child.kill();
                panic!(
                    "no {needle:?} (x{count}) from esxsh:\nstdout: {}\nstderr tail: {}",
                    self.stdout(),
                    tail(&self.stderr())
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Closes stdin (the shell then logs out and exits) and returns (status, stdout, stderr).
    fn finish(mut self) -> (i32, String, String) {
        drop(self.stdin.take());
        let started = Instant::now();
        let status = loop {
            if let Some(s) = self.child.try_wait().expect("wait") {
                break s.code().unwrap_or(-1);
            }
            if started.elapsed() > WAIT {
                let _ = self.child.kill();
                panic!("esxsh did not exit: {}", tail(&self.stderr()));
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        for r in self.readers.drain(..) {
            let _ = r.join();
        }
        (status, self.stdout(), self.stderr())
    }
}

fn tail(text: &str) -> &str {
    let from = text.len().saturating_sub(4000);
    let from = (from..text.len())
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(text.len());
    &text[from..]
}

/// What shows that trace-level logging ran and that the search works on it: the user name of
/// the Login, a masked password, request and reply bodies.
#[track_caller]
fn assert_verbose_log(log: &str) {
    let user = [secret("user name", format!("<userName>{USER}</userName>"))];
    assert_eq!(
        leaks(log, &user).len(),
        1,
        "no Login body in the log: {}",
        tail(log)
    );
    for needle in ["<password>***</password>", "request", "reply", "TRACE"] {
        assert!(
            log.contains(needle),
            "no {needle:?} in the log: {}",
            tail(log)
        );
    }
}

// --- the tests ---

#[test]
fn the_search_finds_what_it_looks_for() {
    esx_testkit::trace::init();
    let s = [secret("password", PASSWORD)];
    assert!(leaks("nothing here", &s).is_empty());
    let found = leaks(&format!("é x {PASSWORD} y"), &s);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(std::panic::catch_unwind(|| assert_no_leak("t", &format!("a{PASSWORD}"), &s)).is_err());
    assert_eq!(base64(b"root:pw"), "cm9vdDpwdw==");
    assert_eq!(base64(b"ab"), "YWI=");
}

/// esxsh at `-d 0` / `RUST_LOG=trace`: login with the password from auth.conf, a volume
/// uploaded and downloaded, a console ticket; then a wrong password; then the same host
/// through an HTTP CONNECT proxy. No password, session cookie or ticket in any output (the
/// console ticket only in `console-ticket`'s own line, which is what it is for).
#[test]
fn esxsh_full_session_at_trace_level_shows_no_secret() {
    esx_testkit::trace::init();
    let sim = start_sim("esxsh");
    let dir = test_dir("esxsh");
    let auth = write_auth_conf(&dir, "auth.conf", PASSWORD, 0o600);
    let uri = format!("esx://127.0.0.1:{}/?no_verify=1", sim.port);
    let src = dir.join("data.bin");
    std::fs::write(&src, vec![0x5au8; 200_000]).expect("data");
    let back = dir.join("back.bin");
    let mut secrets = password_secrets("password", PASSWORD);
    merge(
        &mut secrets,
        password_secrets("wrong password", WRONG_PASSWORD),
    );

    // 1. A successful session; the password only in auth.conf.
    let mut sh = Shell::start(&["-c", &uri], &auth);
    sh.send("list --all");
    sh.wait_stdout("vm1", 1);
    let during = sim_secrets(&sim);
    assert_eq!(
        during.iter().filter(|s| s.what == "session cookie").count(),
        1,
        "one session while esxsh is connected: {during:?}"
    );
    merge(&mut secrets, during);
    sh.send("vol-create-as datastore1 sec/data.vmdk 1M --format vmdk --allocation 0");
    sh.send(&format!(
        "vol-upload sec/data.vmdk {} datastore1",
        src.display()
    ));
    sh.send(&format!(
        "vol-download --pool datastore1 sec/data.vmdk {}",
        back.display()
    ));
    sh.send("console-ticket vm1");
    sh.wait_stdout("vmrc://", 1);
    merge(&mut secrets, sim_secrets(&sim));
    let (status, out, log) = sh.finish();
    assert_eq!(status, 0, "stdout: {out}\nstderr: {}", tail(&log));
    assert_eq!(std::fs::read(&back).expect("downloaded").len(), 200_000);
    assert!(sim.handle().session_keys().is_empty(), "esxsh logged out");
    let tickets: Vec<&Secret> = secrets.iter().filter(|s| s.what == "ticket").collect();
    assert_eq!(tickets.len(), 1, "{secrets:?}");
    // console-ticket prints its ticket: that line is its output, the rest must not have it.
    let ticket_line = out
        .lines()
        .find(|l| l.starts_with("vmrc://"))
        .expect("vmrc line")
        .to_owned();
    assert!(ticket_line.contains(&tickets[0].value), "{ticket_line}");
    let other_out = out.replace(&ticket_line, "");
    assert_no_leak("esxsh stdout", &other_out, &secrets);
    assert_no_leak("esxsh stderr (the trace log)", &log, &secrets);
    assert_verbose_log(&log);
    assert!(
        log.contains("upload done") && log.contains("download done"),
        "the transfers are logged"
    );
    assert!(
        log.contains("AcquireCloneTicket"),
        "the ticket call is logged"
    );

    // 2. A wrong password.
    let wrong = write_auth_conf(&dir, "wrong.conf", WRONG_PASSWORD, 0o600);
    let mut sh = Shell::start(&["-c", &uri], &wrong);
    sh.send("list --all");
    let (status, out, log) = sh.finish();
    assert_eq!(status, 1, "stdout: {out}\nstderr: {}", tail(&log));
    assert!(
        log.contains("error: failed to connect to the hypervisor"),
        "{}",
        tail(&log)
    );
    assert_no_leak("esxsh stdout (wrong password)", &out, &secrets);
    assert_no_leak("esxsh stderr (wrong password)", &log, &secrets);
    assert_verbose_log(&log);

    // 3. Through an HTTP CONNECT proxy.
    let proxy = Proxy::start();
    let via = format!(
        "esx://127.0.0.1:{}/?no_verify=1&proxy=http://{PROXY_USER}@127.0.0.1:{}",
        sim.port, proxy.port
    );
    let proxy_secrets = user_password_secrets("proxy password", PROXY_USER, PROXY_PASSWORD);
    let mut sh = Shell::start(&["-c", &via], &auth);
    sh.send("list --all");
    sh.wait_stdout("vm1", 1);
    merge(&mut secrets, sim_secrets(&sim));
    sh.send(&format!(
        "vol-download --pool datastore1 sec/data.vmdk {}",
        back.display()
    ));
    let (status, out, log) = sh.finish();
    assert_eq!(status, 0, "stdout: {out}\nstderr: {}", tail(&log));
    let heads = proxy.heads();
    assert!(
        !heads.is_empty()
            && heads
                .iter()
                .all(|h| h.starts_with(&format!("CONNECT 127.0.0.1:{} ", sim.port))),
        "everything went through the proxy: {heads:?}"
    );
    assert_eq!(
        secrets
            .iter()
            .filter(|s| s.what == "session cookie")
            .count(),
        2,
        "{secrets:?}"
    );
    assert_no_leak("proxy requests", &heads.join(""), &secrets);
    // The proxy got its credentials, and only the proxy did.
    assert!(
        heads.iter().all(|h| h.contains(&proxy_secrets[1].value)),
        "the proxy got Basic credentials: {heads:?}"
    );
    merge(&mut secrets, proxy_secrets);
    assert_no_leak("esxsh stdout (proxy)", &out, &secrets);
    assert_no_leak("esxsh stderr (proxy)", &log, &secrets);
    assert_verbose_log(&log);

    // 4. A wrong proxy password: the proxy's refusal, named; no password shown.
    merge(
        &mut secrets,
        user_password_secrets("wrong proxy password", PROXY_USER, WRONG_PROXY_PASSWORD),
    );
    let wrong_proxy = write_auth_conf_with_proxy(
        &dir,
        "wrong-proxy.conf",
        PASSWORD,
        WRONG_PROXY_PASSWORD,
        0o600,
    );
    let mut sh = Shell::start(&["-c", &via], &wrong_proxy);
    sh.send("list --all");
    let (status, out, log) = sh.finish();
    assert_eq!(status, 1, "stdout: {out}\nstderr: {}", tail(&log));
    assert!(
        log.contains("407"),
        "the proxy's answer is named: {}",
        tail(&log)
    );
    assert_no_leak("esxsh stdout (wrong proxy password)", &out, &secrets);
    assert_no_leak("esxsh stderr (wrong proxy password)", &log, &secrets);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The same steps in-process through esx-driver (and esx-provision for the ticket), with
/// every tracing event captured at trace level, plus `Debug` of the connection, the options,
/// the errors and the credential objects.
#[test]
fn driver_full_session_at_trace_level_shows_no_secret() {
    let capture = esx_testkit::trace::capture();
    let sim = start_sim("driver");
    let dir = test_dir("driver");
    let auth_path = write_auth_conf(&dir, "auth.conf", PASSWORD, 0o600);
    let uri = format!("esx://{USER}@127.0.0.1:{}/?no_verify=1", sim.port);
    let mut secrets = password_secrets("password", PASSWORD);
    merge(
        &mut secrets,
        password_secrets("wrong password", WRONG_PASSWORD),
    );
    let proxy = Proxy::start();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut debug = Vec::new();

    // The credential objects, as a program would hold them.
    let config = esx_uri::AuthConfig::load(&auth_path).expect("auth.conf");
    let mut resolver =
        esx_uri::CredentialResolver::new(Some(config.clone()), esx_uri::Env::default(), None);
    let password = resolver
        .password(esx_uri::Scheme::Esx, "127.0.0.1", USER)
        .expect("password from auth.conf");
    assert_eq!(password.expose(), PASSWORD);
    let creds = FixedCredentials::new(USER, password.clone());
    let options = OpenOptions {
        auth: Some(Arc::new(creds.clone())),
        ..OpenOptions::default()
    };
    debug.push(format!(
        "{config:?} {resolver:?} {password:?} {password} {creds:?} {options:?}"
    ));
    debug.push(format!(
        "{:?}",
        esx_uri::StaticCredentials {
            username: Some(USER.into()),
            password: Some(password.clone()),
        }
    ));

    let ticket = rt.block_on(async {
        // 1. Login, a transfer both ways, a console ticket.
        let conn = Connection::open(&uri, options.clone())
            .await
            .expect("login");
        debug.push(format!("{conn:?}"));
        merge(&mut secrets, sim_secrets(&sim));
        let doms = conn.connect_list_all_domains(0).await.expect("list");
        assert_eq!(doms.len(), 3);
        let pool = conn
            .storage_pool_lookup_by_name("datastore1")
            .await
            .expect("pool");
        let data = vec![0xa5u8; 100_000];
        let vol = conn
            .storage_vol_upload_new(
                &pool,
                "sec/up.bin",
                std::io::Cursor::new(data),
                Some(100_000),
            )
            .await
            .expect("upload");
        let mut back = Vec::new();
        let n = conn
            .storage_vol_download(&vol, &mut back)
            .await
            .expect("download");
        assert_eq!((n, back.len()), (100_000, 100_000));
        let vm1 = conn.domain_lookup_by_name("vm1").await.expect("vm1");
        let p = esx_provision::Provisioner::new(conn.clone());
        let ticket = p.console_ticket(&vm1).await.expect("ticket");
        debug.push(format!("{p:?}"));
        merge(&mut secrets, sim_secrets(&sim));
        conn.connect_close().await.expect("logout");
        debug.push(format!("{conn:?}"));
        // A call on the closed connection fails; its error is looked at too.
        let closed = conn.connect_list_all_domains(0).await.expect_err("closed");
        debug.push(format!("{closed} {closed:?}"));

        // 2. A wrong password.
        let wrong = OpenOptions {
            auth: Some(Arc::new(FixedCredentials::new(USER, WRONG_PASSWORD))),
            ..OpenOptions::default()
        };
        let e = Connection::open(&uri, wrong.clone())
            .await
            .expect_err("wrong password");
        assert!(e.to_string().contains("authentication failed"), "{e}");
        debug.push(format!("{e} {e:?} {wrong:?}"));

        // 3. Through the proxy, which asks for credentials: the server's fixed credentials
        // do not answer for it; a callback that knows the proxy's password does.
        let via = format!("{uri}&proxy=http://{PROXY_USER}@127.0.0.1:{}", proxy.port);
        let e = Connection::open(&via, options.clone())
            .await
            .expect_err("no proxy password");
        debug.push(format!("{e} {e:?}"));
        let both = OpenOptions {
            auth: Some(Arc::new(ServerAndProxy)),
            ..OpenOptions::default()
        };
        debug.push(format!("{both:?}"));
        let conn = Connection::open(&via, both).await.expect("via proxy");
        merge(&mut secrets, sim_secrets(&sim));
        let mut back = Vec::new();
        conn.storage_vol_download(&vol, &mut back)
            .await
            .expect("download via proxy");
        assert_eq!(back.len(), 100_000);
        debug.push(format!("{conn:?}"));
        conn.connect_close().await.expect("logout");
        ticket
    });
    assert!(!proxy.heads().is_empty(), "the proxy was used");
    merge(
        &mut secrets,
        user_password_secrets("proxy password", PROXY_USER, PROXY_PASSWORD),
    );
    assert_eq!(
        secrets
            .iter()
            .filter(|s| s.what == "session cookie")
            .count(),
        2,
        "{secrets:?}"
    );
    assert!(
        secrets.iter().any(|s| s.value == ticket.ticket),
        "the simulator's ticket is the one handed out"
    );
    let log = capture.text();
    drop(capture);
    assert_no_leak("captured tracing", &log, &secrets);
    assert!(
        log.contains(&format!("<userName>{USER}</userName>")) && log.contains("AcquireCloneTicket"),
        "trace-level bodies captured: {}",
        tail(&log)
    );
    let debug = debug.join("\n");
    assert_no_leak("Debug and Display of the objects", &debug, &secrets);
    assert!(debug.contains(USER), "{debug}");
    let ticket_debug = format!("{ticket:?}");
    assert_no_leak("Debug of the console ticket", &ticket_debug, &secrets);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A callback that knows the server's and the proxy's passwords.
struct ServerAndProxy;

impl esx_driver::AuthCallback for ServerAndProxy {
    fn ask(&self, requests: &mut [esx_uri::CredentialRequest]) -> Result<(), esx_uri::AuthError> {
        for r in requests {
            r.answer = Some(esx_uri::Secret::new(match r.kind {
                esx_uri::CredentialKind::Username => USER,
                esx_uri::CredentialKind::Password => PASSWORD,
                esx_uri::CredentialKind::ProxyPassword => PROXY_PASSWORD,
            }));
        }
        Ok(())
    }
}

/// An auth.conf that group or others may read is used, with ssh's kind of warning on stderr,
/// once per run even when the shell connects again; a private one gives no warning.
#[test]
fn an_auth_conf_others_may_read_is_used_with_one_warning() {
    esx_testkit::trace::init();
    let sim = start_sim("warn");
    let dir = test_dir("warn");
    let uri = format!("esx://127.0.0.1:{}/?no_verify=1", sim.port);
    for mode in [0o644, 0o640, 0o600] {
        let auth = write_auth_conf(&dir, &format!("auth-{mode:o}.conf"), PASSWORD, mode);
        let out = Command::new(env!("CARGO_BIN_EXE_esxsh"))
            .args(["-q", "-c", &uri])
            .current_dir(support::workspace())
            .env("LIBVIRT_AUTH_FILE", &auth)
            .env("XDG_CONFIG_HOME", "/nonexistent/esxsh-test-config")
            .env_remove("ESX_USERNAME")
            .env_remove("ESX_PASSWORD")
            .env_remove("ESXSH_DEFAULT_CONNECT_URI")
            .env_remove("RUST_LOG")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .and_then(|mut child| {
                let mut stdin = child.stdin.take().expect("stdin");
                stdin.write_all(
                    format!("list --all\nconnect {uri}\nlist --all --name\n").as_bytes(),
                )?;
                drop(stdin);
                child.wait_with_output()
            })
            .expect("esxsh runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{mode:o}: {stdout}\n{stderr}");
        // The file is used: the simulator's password came from it.
        assert_eq!(stdout.matches("vm1").count(), 2, "{stdout}");
        if mode == 0o600 {
            assert_eq!(stderr, "", "{mode:o}");
            continue;
        }
        let p = auth.display();
        assert_eq!(
            stderr,
            format!(
                "warning: permissions {mode:04o} for auth file '{p}' are too open: it holds \
                 passwords that others than its owner can read or change; it is used anyway, \
                 but fix it with: chmod 600 {p}\n"
            ),
            "{mode:o}"
        );
        assert!(!stderr.contains(PASSWORD));
    }
    let _ = std::fs::remove_dir_all(&dir);
}
