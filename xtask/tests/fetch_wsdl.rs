//! `xtask fetch-wsdl` against a local HTTPS file server serving the vSphere 7.0.3 WSDL set.
//!
//! The server (rustls, certificate from a throw-away test CA made with rcgen) runs on loopback in
//! this process and serves `../shared/wsdl/vsphere-7.0.3/*` under `/sdk/`.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

/// The nine files of the vSphere 7.0.3 set.
const FILES: [&str; 9] = [
    "vimService.wsdl",
    "vim.wsdl",
    "core-types.xsd",
    "reflect-messagetypes.xsd",
    "query-messagetypes.xsd",
    "vim-messagetypes.xsd",
    "reflect-types.xsd",
    "query-types.xsd",
    "vim-types.xsd",
];

fn wsdl_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/wsdl/vsphere-7.0.3");
    if dir.join("vimService.wsdl").is_file() {
        Some(dir)
    } else {
        eprintln!(
            "!!! SKIPPED: no WSDL at {} (../shared is absent)",
            dir.display()
        );
        None
    }
}

/// A running test server: its port and the PEM of the CA that signed its certificate.
struct Server {
    port: u16,
    ca_pem: String,
}

/// Starts an HTTPS server on 127.0.0.1 serving `dir` under `/sdk/`; `hidden` answers 404.
fn serve(dir: PathBuf, hidden: Option<&'static str>) -> Server {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "fetch-wsdl test CA");
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let leaf_params =
        CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()]).unwrap();
    let leaf = leaf_params.signed_by(&leaf_key, &ca, &ca_key).unwrap();

    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(
        vec![leaf.der().clone(), ca.der().clone()],
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
    )
    .unwrap();
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for tcp in listener.incoming().flatten() {
            let config = config.clone();
            let dir = dir.clone();
            std::thread::spawn(move || {
                // A refused handshake or a dropped client just ends this connection.
                let _ = handle(tcp, config, &dir, hidden);
            });
        }
    });
    Server {
        port,
        ca_pem: ca.pem(),
    }
}

/// Answers one request on one connection, then closes it.
fn handle(
    tcp: TcpStream,
    config: Arc<rustls::ServerConfig>,
    dir: &Path,
    hidden: Option<&str>,
) -> std::io::Result<()> {
    tcp.set_read_timeout(Some(Duration::from_secs(20)))?;
    let conn = rustls::ServerConnection::new(config).map_err(std::io::Error::other)?;
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    let mut reader = BufReader::new(&mut tls);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header == "\r\n" {
            break;
        }
    }
    let path = request_line.split(' ').nth(1).unwrap_or("");
    let name = path.strip_prefix("/sdk/").unwrap_or("");
    let file = (!name.is_empty() && !name.contains('/') && Some(name) != hidden)
        .then(|| std::fs::read(dir.join(name)).ok())
        .flatten();
    let (status, body) = match file {
        Some(body) => ("200 OK", body),
        None => ("404 Not Found", b"not found".to_vec()),
    };
    write!(
        tls,
        "HTTP/1.1 {status}\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    tls.write_all(&body)?;
    tls.conn.send_close_notify();
    tls.flush()
}

fn out_dir(case: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("xtask-fetch-wsdl-{}-{case}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn fetch(server: &Server, out: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["fetch-wsdl", "--from"])
        .arg(format!("https://127.0.0.1:{}/sdk/", server.port))
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .expect("xtask runs")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Asserts `out` holds exactly the nine files, byte-identical to `src`.
fn assert_same_set(src: &Path, out: &Path) {
    let mut names: Vec<String> = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut want: Vec<String> = FILES.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(names, want, "files in {}", out.display());
    for f in FILES {
        assert!(
            std::fs::read(src.join(f)).unwrap() == std::fs::read(out.join(f)).unwrap(),
            "{f} differs from the served file"
        );
    }
}

#[test]
fn insecure_fetch_gets_all_nine_files_and_codegen_check_passes() {
    let Some(src) = wsdl_dir() else { return };
    let server = serve(src.clone(), None);
    let out = out_dir("insecure");
    let run = fetch(&server, &out, &["--insecure"]);
    assert!(run.status.success(), "fetch failed:\n{}", text(&run));
    assert!(
        text(&run).contains("fetched 9 files into"),
        "{}",
        text(&run)
    );
    assert_same_set(&src, &out);

    let check = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["codegen", "--check", "--wsdl"])
        .arg(&out)
        .output()
        .expect("xtask runs");
    assert!(
        check.status.success(),
        "codegen --check on the fetched set failed:\n{}",
        text(&check)
    );
    assert!(
        text(&check).contains(
            "generated: 2167 data objects, 694 faults, 574 arrays, 393 enums, 928 operations"
        ),
        "{}",
        text(&check)
    );
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn self_signed_certificate_is_refused_without_insecure_and_trusted_with_ca_file() {
    let Some(src) = wsdl_dir() else { return };
    let server = serve(src.clone(), None);

    let out = out_dir("verify");
    let run = fetch(&server, &out, &[]);
    let msg = text(&run);
    assert!(
        !run.status.success(),
        "untrusted certificate accepted:\n{msg}"
    );
    let url = format!("https://127.0.0.1:{}/sdk/vimService.wsdl", server.port);
    assert!(msg.contains(&url), "error does not name the URL:\n{msg}");
    assert!(
        msg.contains("is not trusted") && msg.contains("--ca-file") && msg.contains("--insecure"),
        "unclear TLS error:\n{msg}"
    );
    assert!(!out.exists(), "a refused fetch wrote {}", out.display());

    let ca = out_dir("ca").with_extension("pem");
    std::fs::write(&ca, &server.ca_pem).unwrap();
    let run = fetch(&server, &out, &["--ca-file", ca.to_str().unwrap()]);
    assert!(
        run.status.success(),
        "fetch with --ca-file failed:\n{}",
        text(&run)
    );
    assert_same_set(&src, &out);
    std::fs::remove_dir_all(&out).unwrap();
    std::fs::remove_file(&ca).unwrap();
}

#[test]
fn missing_file_gives_an_error_naming_it_and_writes_nothing() {
    let Some(src) = wsdl_dir() else { return };
    let server = serve(src, Some("query-types.xsd"));
    let out = out_dir("missing");
    let run = fetch(&server, &out, &["--insecure"]);
    let msg = text(&run);
    assert!(!run.status.success(), "404 not reported:\n{msg}");
    let url = format!("https://127.0.0.1:{}/sdk/query-types.xsd", server.port);
    assert!(
        msg.contains(&format!("GET {url}: HTTP status 404")),
        "error does not name the file and status:\n{msg}"
    );
    assert!(!out.exists(), "a failed fetch wrote {}", out.display());
}

#[test]
fn unreadable_ca_file_is_named() {
    let out = out_dir("noca");
    let run = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["fetch-wsdl", "--from", "https://127.0.0.1:9/sdk/", "--out"])
        .arg(&out)
        .args(["--ca-file", "/nonexistent/ca.pem"])
        .output()
        .expect("xtask runs");
    let msg = text(&run);
    assert!(!run.status.success());
    assert!(msg.contains("--ca-file /nonexistent/ca.pem"), "{msg}");
}
