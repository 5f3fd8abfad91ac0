//! Shared helpers for the client tests: a vcsim process on loopback, hand-written SOAP
//! envelopes, a small multi-protocol proxy and test certificates.
#![allow(dead_code)]

use std::io::Read;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::AtomicUsize;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// Where setup-peers.sh installs vcsim (override with `ESX_VCSIM`).
pub fn vcsim_bin() -> Option<PathBuf> {
    let p = std::env::var_os("ESX_VCSIM")
        .map(PathBuf::from)
        .unwrap_or_else(|| "/opt/peers/bin/vcsim".into());
    p.exists().then_some(p)
}

/// Prints a loud skip message and returns true when vcsim is missing.
pub fn skip_without_vcsim(test: &str) -> bool {
    if vcsim_bin().is_none() {
        eprintln!(
            "SKIPPED {test}: /opt/peers/bin/vcsim is missing; install the peers with \
             `bash ../shared/peers/setup-peers.sh` (or set ESX_VCSIM)"
        );
        return true;
    }
    false
}

/// Hands out free loopback ports from `[base, base + span)` (each test binary has its own range
/// inside 18900-18999).
pub struct Ports {
    next: AtomicU16,
    end: u16,
}

impl Ports {
    pub const fn new(base: u16, span: u16) -> Self {
        Self {
            next: AtomicU16::new(base),
            end: base + span,
        }
    }

    pub fn take(&self) -> u16 {
        loop {
            let p = self.next.fetch_add(1, Ordering::SeqCst);
            assert!(p < self.end, "test port range exhausted");
            if std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, p)).is_ok() {
                return p;
            }
        }
    }
}

/// A running vcsim, killed on drop.
pub struct Vcsim {
    child: Child,
    pub port: u16,
    dir: PathBuf,
}

impl Vcsim {
    /// Starts vcsim on `127.0.0.1:port` with `args` and waits until it answers.
    pub fn start(port: u16, args: &[&str]) -> Vcsim {
        let bin = vcsim_bin().expect("vcsim present");
        let dir = std::env::temp_dir().join(format!("esx-vim-vcsim-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("vcsim dir");
        let shm = Path::new("/dev/shm");
        let tmp = if shm.is_dir() {
            shm.join(format!("esx-vim-vcsim-{}-{port}", std::process::id()))
        } else {
            dir.join("tmp")
        };
        std::fs::create_dir_all(&tmp).expect("vcsim tmp dir");
        let out = std::fs::File::create(dir.join("out")).expect("out file");
        let err = std::fs::File::create(dir.join("err")).expect("err file");
        let child = Command::new(bin)
            .arg("-l")
            .arg(format!("127.0.0.1:{port}"))
            .args(args)
            .env("TMPDIR", &tmp)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("spawn vcsim");
        let mut sim = Vcsim { child, port, dir };
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let mut s = String::new();
            if let Ok(mut f) = std::fs::File::open(sim.dir.join("out")) {
                let _ = f.read_to_string(&mut s);
            }
            if s.contains("GOVC_URL") {
                break;
            }
            if let Ok(Some(status)) = sim.child.try_wait() {
                let err = std::fs::read_to_string(sim.dir.join("err")).unwrap_or_default();
                panic!("vcsim exited early ({status}): {err}");
            }
            assert!(Instant::now() < deadline, "vcsim did not start in time");
            std::thread::sleep(Duration::from_millis(20));
        }
        sim.tmp_cleanup_path(tmp);
        sim
    }

    fn tmp_cleanup_path(&mut self, tmp: PathBuf) {
        let _ = std::fs::write(self.dir.join("tmpdir"), tmp.to_string_lossy().as_bytes());
    }

    /// `https://127.0.0.1:PORT/sdk`.
    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}/sdk", self.port)
    }

    /// Sends SIGKILL to vcsim now (to test a server that went away).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Vcsim {
    fn drop(&mut self) {
        self.kill();
        if let Ok(tmp) = std::fs::read_to_string(self.dir.join("tmpdir")) {
            let _ = std::fs::remove_dir_all(tmp);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A SOAP 1.1 envelope around `body`.
pub fn envelope(body: &str) -> Vec<u8> {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>"#
    )
    .into_bytes()
}

/// RetrieveServiceContent on ServiceInstance.
pub fn retrieve_service_content() -> Vec<u8> {
    envelope(
        r#"<RetrieveServiceContent xmlns="urn:vim25"><_this type="ServiceInstance">ServiceInstance</_this></RetrieveServiceContent>"#,
    )
}

/// Login on the ESX session manager.
pub fn login(session_manager: &str, user: &str, password: &str) -> Vec<u8> {
    envelope(&format!(
        r#"<Login xmlns="urn:vim25"><_this type="SessionManager">{session_manager}</_this><userName>{user}</userName><password>{password}</password></Login>"#
    ))
}

/// RetrievePropertiesEx of `SessionManager.currentSession`.
pub fn current_session(collector: &str, session_manager: &str) -> Vec<u8> {
    envelope(&format!(
        r#"<RetrievePropertiesEx xmlns="urn:vim25"><_this type="PropertyCollector">{collector}</_this><specSet><propSet><type>SessionManager</type><pathSet>currentSession</pathSet></propSet><objectSet><obj type="SessionManager">{session_manager}</obj></objectSet></specSet><options></options></RetrievePropertiesEx>"#
    ))
}

/// A CA and a leaf certificate for `localhost`/`127.0.0.1` signed by it, as PEM files in `dir`:
/// returns `(ca.pem, leaf.pem, leaf.key)`.
pub fn make_certs(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
        KeyUsagePurpose,
    };
    std::fs::create_dir_all(dir).expect("cert dir");
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("ca params");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "esx-vim test CA");
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_key = KeyPair::generate().expect("ca key");
    let ca_cert = ca.self_signed(&ca_key).expect("ca cert");
    let mut leaf = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
        .expect("leaf params");
    leaf.distinguished_name
        .push(DnType::CommonName, "localhost");
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let leaf_key = KeyPair::generate().expect("leaf key");
    let leaf_cert = leaf
        .signed_by(&leaf_key, &ca_cert, &ca_key)
        .expect("leaf cert");
    let (ca_pem, cert_pem, key_pem) = (
        dir.join("ca.pem"),
        dir.join("leaf.pem"),
        dir.join("leaf.key"),
    );
    std::fs::write(&ca_pem, ca_cert.pem()).expect("write ca");
    std::fs::write(&cert_pem, leaf_cert.pem()).expect("write leaf");
    std::fs::write(&key_pem, leaf_key.serialize_pem()).expect("write key");
    (ca_pem, cert_pem, key_pem)
}

/// The text between `<tag>` and `</tag>` (first occurrence).
pub fn element<'a>(xml: &'a str, tag: &str) -> Option<&'a str> {
    let open = format!("<{tag}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&format!("</{tag}>"))? + start;
    Some(&xml[start..end])
}

/// A loopback proxy speaking HTTP CONNECT, SOCKS4, SOCKS4a and SOCKS5 (chosen by the first
/// byte the client sends), recording `"<protocol> <host>:<port>"` per tunnel.
pub struct TestProxy {
    pub addr: SocketAddr,
    pub log: Arc<Mutex<Vec<String>>>,
}

impl TestProxy {
    /// Starts the proxy on `127.0.0.1:port`. With `refuse`, HTTP CONNECT answers 403.
    pub async fn start(port: u16, refuse: bool) -> TestProxy {
        Self::start_with(port, refuse, None).await
    }

    /// Starts a proxy that asks for `user`/`password`: HTTP CONNECT by `Proxy-Authorization:
    /// Basic` (407 otherwise), SOCKS5 by user/password negotiation (RFC 1929).
    pub async fn start_with_credentials(port: u16, user: &str, password: &str) -> TestProxy {
        Self::start_with(port, false, Some((user.to_owned(), password.to_owned()))).await
    }

    async fn start_with(port: u16, refuse: bool, creds: Option<(String, String)>) -> TestProxy {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port))
            .await
            .expect("bind proxy");
        let addr = listener.local_addr().expect("addr");
        let log = Arc::new(Mutex::new(Vec::new()));
        let log2 = log.clone();
        tokio::spawn(async move {
            while let Ok((conn, _)) = listener.accept().await {
                let log = log2.clone();
                let creds = creds.clone();
                tokio::spawn(async move {
                    let _ = serve_proxy(conn, log, refuse, creds).await;
                });
            }
        });
        TestProxy { addr, log }
    }

    pub fn entries(&self) -> Vec<String> {
        self.log.lock().expect("log").clone()
    }
}

async fn read_until_nul(conn: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let b = conn.read_u8().await?;
        if b == 0 {
            return Ok(out);
        }
        out.push(b);
    }
}

async fn serve_proxy(
    mut conn: TcpStream,
    log: Arc<Mutex<Vec<String>>>,
    refuse: bool,
    creds: Option<(String, String)>,
) -> std::io::Result<()> {
    let first = conn.read_u8().await?;
    let (proto, host, port) = match first {
        4 => {
            let _cmd = conn.read_u8().await?;
            let port = conn.read_u16().await?;
            let mut ip = [0u8; 4];
            conn.read_exact(&mut ip).await?;
            let _user = read_until_nul(&mut conn).await?;
            if ip[0] == 0 && ip[1] == 0 && ip[2] == 0 && ip[3] != 0 {
                let host = String::from_utf8_lossy(&read_until_nul(&mut conn).await?).to_string();
                ("socks4a", host, port)
            } else {
                ("socks4", Ipv4Addr::from(ip).to_string(), port)
            }
        }
        5 => {
            let n = conn.read_u8().await?;
            let mut methods = vec![0u8; n as usize];
            conn.read_exact(&mut methods).await?;
            if let Some((user, password)) = &creds {
                if !methods.contains(&2) {
                    log.lock()
                        .expect("log")
                        .push("socks5-no-auth-offered".into());
                    conn.write_all(&[5, 0xff]).await?;
                    return Ok(());
                }
                conn.write_all(&[5, 2]).await?;
                let _ver = conn.read_u8().await?;
                let ulen = conn.read_u8().await?;
                let mut u = vec![0u8; ulen as usize];
                conn.read_exact(&mut u).await?;
                let plen = conn.read_u8().await?;
                let mut p = vec![0u8; plen as usize];
                conn.read_exact(&mut p).await?;
                if u != user.as_bytes() || p != password.as_bytes() {
                    log.lock().expect("log").push("socks5-auth-refused".into());
                    conn.write_all(&[1, 1]).await?;
                    return Ok(());
                }
                conn.write_all(&[1, 0]).await?;
            } else {
                conn.write_all(&[5, 0]).await?;
            }
            let mut head = [0u8; 4];
            conn.read_exact(&mut head).await?;
            let host = match head[3] {
                1 => {
                    let mut ip = [0u8; 4];
                    conn.read_exact(&mut ip).await?;
                    Ipv4Addr::from(ip).to_string()
                }
                3 => {
                    let len = conn.read_u8().await?;
                    let mut name = vec![0u8; len as usize];
                    conn.read_exact(&mut name).await?;
                    String::from_utf8_lossy(&name).to_string()
                }
                4 => {
                    let mut ip = [0u8; 16];
                    conn.read_exact(&mut ip).await?;
                    std::net::Ipv6Addr::from(ip).to_string()
                }
                _ => return Ok(()),
            };
            let port = conn.read_u16().await?;
            ("socks5", host, port)
        }
        b'C' => {
            let mut head = vec![first];
            while !head.ends_with(b"\r\n\r\n") {
                head.push(conn.read_u8().await?);
            }
            let text = String::from_utf8_lossy(&head).to_string();
            let target = text
                .split_whitespace()
                .nth(1)
                .unwrap_or_default()
                .to_string();
            let (host, port) = target.rsplit_once(':').unwrap_or((&target, "0"));
            if let Some((user, password)) = &creds {
                use base64::Engine as _;
                let token =
                    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
                let wanted = format!("proxy-authorization: basic {token}");
                if !text
                    .lines()
                    .any(|l| l.trim_end().eq_ignore_ascii_case(&wanted))
                {
                    log.lock().expect("log").push(format!("http-407 {target}"));
                    conn.write_all(
                        b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n",
                    )
                    .await?;
                    return Ok(());
                }
            }
            if refuse {
                log.lock()
                    .expect("log")
                    .push(format!("http-refused {target}"));
                conn.write_all(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                    .await?;
                return Ok(());
            }
            (
                "http",
                host.trim_start_matches('[')
                    .trim_end_matches(']')
                    .to_string(),
                port.parse().unwrap_or(0),
            )
        }
        _ => return Ok(()),
    };
    log.lock()
        .expect("log")
        .push(format!("{proto} {host}:{port}"));
    let upstream = TcpStream::connect((host.as_str(), port)).await;
    let mut upstream = match upstream {
        Ok(u) => u,
        Err(_) => {
            match proto {
                "socks4" | "socks4a" => conn.write_all(&[0, 0x5b, 0, 0, 0, 0, 0, 0]).await?,
                "socks5" => conn.write_all(&[5, 5, 0, 1, 0, 0, 0, 0, 0, 0]).await?,
                _ => conn.write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n").await?,
            }
            return Ok(());
        }
    };
    match proto {
        "socks4" | "socks4a" => conn.write_all(&[0, 0x5a, 0, 0, 0, 0, 0, 0]).await?,
        "socks5" => conn.write_all(&[5, 0, 0, 1, 0, 0, 0, 0, 0, 0]).await?,
        _ => {
            conn.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                .await?
        }
    }
    let _ = tokio::io::copy_bidirectional(&mut conn, &mut upstream).await;
    Ok(())
}

/// One request as the scripted server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub request_line: String,
    pub connection: usize,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

pub type Script = dyn Fn(usize, &Seen) -> Option<Vec<u8>> + Send + Sync;

/// A keep-alive HTTP/1.1 server answering request number `n` (0-based) with `script(n, req)`;
/// `None` means: never answer.
pub struct Scripted {
    pub port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Scripted {
    pub async fn start(port: u16, script: Arc<Script>) -> Scripted {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port))
            .await
            .expect("bind");
        // Port 0 picks a free port without a race; report the one bound.
        let port = listener.local_addr().expect("addr").port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let seen2 = seen.clone();
        let connections = Arc::new(AtomicUsize::new(0));
        tokio::spawn(async move {
            while let Ok((conn, _)) = listener.accept().await {
                let id = connections.fetch_add(1, Ordering::SeqCst);
                let (seen, script) = (seen2.clone(), script.clone());
                tokio::spawn(async move {
                    let (r, mut w) = conn.into_split();
                    let mut r = BufReader::new(r);
                    loop {
                        let mut headers = HashMap::new();
                        let mut line = String::new();
                        if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                            return;
                        }
                        let request_line = line.trim_end().to_string();
                        loop {
                            line.clear();
                            if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                                return;
                            }
                            let l = line.trim_end();
                            if l.is_empty() {
                                break;
                            }
                            if let Some((k, v)) = l.split_once(':') {
                                headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
                            }
                        }
                        let len = headers
                            .get("content-length")
                            .and_then(|v| v.parse().ok())
                            .unwrap_or(0usize);
                        let mut body = vec![0u8; len];
                        if r.read_exact(&mut body).await.is_err() {
                            return;
                        }
                        let req = Seen {
                            request_line,
                            connection: id,
                            headers,
                            body,
                        };
                        let n = {
                            let mut s = seen.lock().expect("seen");
                            s.push(req.clone());
                            s.len() - 1
                        };
                        match script(n, &req) {
                            Some(resp) => {
                                if w.write_all(&resp).await.is_err() {
                                    return;
                                }
                            }
                            None => {
                                tokio::time::sleep(Duration::from_secs(3600)).await;
                                return;
                            }
                        }
                    }
                });
            }
        });
        Scripted { port, seen }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/sdk", self.port)
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("seen").clone()
    }
}

pub fn response(status: &str, extra_headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/xml; charset=utf-8\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in extra_headers {
        let _ = write!(head, "{k}: {v}\r\n");
    }
    head.push_str("\r\n");
    let mut out = head.into_bytes();
    out.extend_from_slice(body);
    out
}
