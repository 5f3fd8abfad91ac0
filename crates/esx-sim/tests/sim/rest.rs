//! The vSphere Automation REST API (`/rest`, `/api/session`) of a vCenter-flavored simulator:
//! govc 0.24's `tags.*` and `library.*` commands end to end, and the protocol details (login
//! with Basic credentials or a SOAP session, vAPI error bodies, malformed JSON) with curl.

use crate::support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::govc::GOVC;

fn govc_available() -> bool {
    let ok = Path::new(GOVC).exists();
    if !ok {
        eprintln!("SKIPPED: /opt/peers is missing (run ../shared/peers/setup-peers.sh)");
    }
    ok
}

fn curl_available() -> bool {
    let ok = Command::new("curl").arg("-V").output().is_ok();
    if !ok {
        eprintln!("SKIPPED: curl is not installed");
    }
    ok
}

/// govc with a per-command limit of 60 s.
struct Govc {
    url: String,
    home: PathBuf,
}

impl Govc {
    fn new(port: u16, dir: &Path, user: &str, password: &str) -> Govc {
        Govc {
            url: format!("https://{user}:{password}@127.0.0.1:{port}/sdk"),
            // Each credential pair has its own home: govc caches sessions there.
            home: dir.join(format!("govmomi-{user}-{password}")),
        }
    }

    /// Runs govc with `args` (see [`support::govc::run`]).
    fn run(&self, args: &[&str]) -> (bool, String) {
        support::govc::run(&self.url, &self.home, args)
    }

    /// Runs `args`, which must succeed; their output.
    fn ok(&self, args: &[&str]) -> String {
        let (ok, out) = self.run(args);
        assert!(ok, "govc {}: {out}", args.join(" "));
        out
    }

    /// Runs `args`, which must fail; their output.
    fn fails(&self, args: &[&str]) -> String {
        let (ok, out) = self.run(args);
        assert!(!ok, "govc {} should fail: {out}", args.join(" "));
        out
    }
}

/// One request with curl (30 s at most): (HTTP status, body).
fn curl(method: &str, url: &str, headers: &[String], body: Option<&str>) -> (u16, String) {
    let mut cmd = Command::new("curl");
    cmd.args([
        "-sk",
        "--max-time",
        "30",
        "-o",
        "-",
        "-w",
        "\n%{http_code}",
        "-X",
        method,
    ]);
    for h in headers {
        cmd.arg("-H").arg(h);
    }
    if let Some(b) = body {
        cmd.args(["-H", "Content-Type: application/json", "--data-binary", b]);
    }
    let out =
        esx_testkit::process::output(cmd.arg(url), esx_testkit::process::LIMIT).expect("curl runs");
    let raw = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = raw.rsplit_once('\n').unwrap_or(("", &raw));
    (code.trim().parse().unwrap_or(0), body.to_owned())
}

/// An `Authorization: Basic …` header.
fn basic(user: &str, password: &str) -> String {
    // base64 by hand: the tests need no extra crate.
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let raw = format!("{user}:{password}").into_bytes();
    let mut s = String::new();
    for c in raw.chunks(3) {
        let b = [c[0], *c.get(1).unwrap_or(&0), *c.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= c.len() {
                s.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
    }
    format!("Authorization: Basic {s}")
}

/// The `"value"` string of a `{"value": "…"}` answer.
fn value_string(body: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(body).expect("a JSON answer");
    v["value"].as_str().expect("a string value").to_owned()
}

/// The vAPI error type of an error body.
fn error_type(body: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(body).expect("a JSON error");
    assert!(
        v["value"]["messages"][0]["default_message"].is_string(),
        "no message: {body}"
    );
    v["type"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn govc_tags_and_libraries() {
    if !govc_available() {
        return;
    }
    let dir = support::data_dir("rest", "govc");
    let h = support::serve(esx_sim::Flavor::Vcenter, &dir).await;
    let port = h.addr.port();
    let data = dir.clone();
    tokio::task::spawn_blocking(move || {
        let g = Govc::new(port, &data, "root", "pass");
        let vm = g.ok(&["find", "/", "-type", "m", "-name", "vm1"]);
        let vm = vm.lines().next().expect("vm1 exists").to_owned();
        let host = g.ok(&["find", "/", "-type", "h"]);
        let host = host.lines().next().expect("a host").to_owned();

        // Categories.
        assert_eq!(g.ok(&["tags.category.ls"]), "");
        let cat = g.ok(&[
            "tags.category.create",
            "-t",
            "VirtualMachine",
            "-d",
            "envs",
            "env",
        ]);
        assert!(
            cat.starts_with("urn:vmomi:InventoryServiceCategory:"),
            "{cat}"
        );
        g.ok(&["tags.category.create", "-m", "owner"]);
        let ls = g.ok(&["tags.category.ls"]);
        assert!(ls.contains("env") && ls.contains("owner"), "{ls}");
        let info = g.ok(&["tags.category.info", "env"]);
        assert!(
            info.contains("SINGLE") && info.contains("VirtualMachine"),
            "{info}"
        );
        assert!(info.contains("envs"), "{info}");
        let dup = g.fails(&["tags.category.create", "env"]);
        assert!(dup.contains("already_exists"), "{dup}");
        g.ok(&["tags.category.update", "-d", "environments", "env"]);
        assert!(g
            .ok(&["tags.category.info", "env"])
            .contains("environments"));

        // Tags.
        let prod = g.ok(&["tags.create", "-c", "env", "prod"]);
        assert!(prod.starts_with("urn:vmomi:InventoryServiceTag:"), "{prod}");
        g.ok(&["tags.create", "-c", "env", "dev"]);
        g.ok(&["tags.create", "-c", "owner", "alice"]);
        g.ok(&["tags.create", "-c", "owner", "bob"]);
        let ls = g.ok(&["tags.ls"]);
        assert!(ls.contains("prod") && ls.contains("alice"), "{ls}");
        let ls = g.ok(&["tags.ls", "-c", "owner"]);
        assert!(ls.contains("bob") && !ls.contains("prod"), "{ls}");
        let info = g.ok(&["tags.info", "prod"]);
        assert!(info.contains(prod.trim()) && info.contains("env"), "{info}");
        let dup = g.fails(&["tags.create", "-c", "env", "prod"]);
        assert!(dup.contains("already_exists"), "{dup}");

        // Attachments.
        g.ok(&["tags.attach", "prod", &vm]);
        g.ok(&["tags.attach", "alice", &vm]);
        g.ok(&["tags.attach", "bob", &vm]);
        // A SINGLE category allows one tag per object; env is for VMs only.
        g.fails(&["tags.attach", "dev", &vm]);
        g.fails(&["tags.attach", "prod", &host]);
        let on_vm = g.ok(&["tags.attached.ls", "-r", &vm]);
        assert!(
            on_vm.contains("prod") && on_vm.contains("alice") && on_vm.contains("bob"),
            "{on_vm}"
        );
        let objs = g.ok(&["tags.attached.ls", "prod"]);
        assert!(objs.contains("VirtualMachine:"), "{objs}");
        g.ok(&["tags.detach", "prod", &vm]);
        assert_eq!(g.ok(&["tags.attached.ls", "prod"]).trim(), "");
        g.ok(&["tags.attach", "dev", &vm]);
        let on_vm = g.ok(&["tags.attached.ls", "-r", &vm]);
        assert!(on_vm.contains("dev") && !on_vm.contains("prod"), "{on_vm}");

        // Removal.
        g.ok(&["tags.rm", "prod"]);
        assert!(!g.ok(&["tags.ls"]).contains("prod"));
        g.ok(&["tags.rm", "-f", "dev"]);
        g.ok(&["tags.category.rm", "env"]);
        let ls = g.ok(&["tags.category.ls"]);
        assert!(!ls.contains("env") && ls.contains("owner"), "{ls}");

        // Content libraries.
        assert_eq!(g.ok(&["library.ls"]), "");
        let ds = g.ok(&["find", "/", "-type", "s"]);
        let ds = ds.lines().next().expect("a datastore").rsplit('/').next();
        let ds = ds.expect("a datastore name").to_owned();
        let id = g.ok(&["library.create", "-ds", &ds, "-d", "images", "lib1"]);
        let id = id.trim().to_owned();
        assert!(!id.is_empty());
        assert!(g.ok(&["library.ls"]).contains("/lib1"));
        let info = g.ok(&["library.info", "-l", "lib1"]);
        assert!(info.contains(&id) && info.contains("images"), "{info}");
        assert!(info.contains("contentlib-"), "{info}");
        let all = g.ok(&["library.info"]);
        assert!(all.contains("lib1"), "{all}");
        let dup = g.fails(&["library.create", "-ds", &ds, "lib1"]);
        assert!(dup.contains("already_exists"), "{dup}");

        // Items: upload (update session, PUT to the endpoint handed out), list, download.
        let iso = data.join("disk.iso");
        let content: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
        std::fs::write(&iso, &content).expect("test file");
        let iso = iso.to_string_lossy().into_owned();
        g.ok(&["library.import", "lib1", &iso]);
        g.ok(&["library.import", "-n", "copy", "lib1", &iso]);
        let items = g.ok(&["library.ls", "lib1/*"]);
        assert!(
            items.contains("/lib1/disk") && items.contains("/lib1/copy"),
            "{items}"
        );
        let info = g.ok(&["library.info", "-l", "lib1/disk"]);
        assert!(info.contains("iso") && info.contains("293.0KB"), "{info}");
        let dup = g.fails(&["library.import", "lib1", &iso]);
        assert!(dup.contains("already_exists"), "{dup}");
        let back = data.join("back.iso");
        g.ok(&[
            "library.export",
            "lib1/disk/disk.iso",
            &back.to_string_lossy(),
        ]);
        assert_eq!(std::fs::read(&back).expect("downloaded"), content);
        g.ok(&["library.rm", "lib1/copy"]);
        assert!(!g.ok(&["library.ls", "lib1/*"]).contains("copy"));

        g.ok(&["library.rm", "lib1"]);
        assert_eq!(g.ok(&["library.ls"]), "");
        let left = std::fs::read_dir(data.join(&ds)).map(|d| {
            d.flatten()
                .filter(|e| e.file_name().to_string_lossy().starts_with("contentlib-"))
                .count()
        });
        assert_eq!(left.unwrap_or(0), 0, "the library's directory is removed");

        // A user who may only read can list but not create.
        let ro = Govc::new(port, &data, "readonly", "pass");
        assert!(ro.ok(&["tags.category.ls"]).contains("owner"));
        let denied = ro.fails(&["tags.category.create", "other"]);
        assert!(
            denied.contains("403") || denied.contains("unauthorized"),
            "{denied}"
        );
        // Wrong credentials are refused.
        Govc::new(port, &data, "root", "wrong").fails(&["tags.ls"]);
    })
    .await
    .unwrap();
    h.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_protocol() {
    if !curl_available() {
        return;
    }
    let dir = support::data_dir("rest", "curl");
    let h = support::serve(esx_sim::Flavor::Vcenter, &dir).await;
    let base = format!("https://127.0.0.1:{}", h.addr.port());
    tokio::task::spawn_blocking(move || {
        let session = format!("{base}/rest/com/vmware/cis/session");
        // No credentials, wrong credentials, garbage credentials.
        for hdrs in [
            vec![],
            vec![basic("root", "wrong")],
            vec![basic("nobody", "pass")],
            vec!["Authorization: Basic !!!".to_owned()],
        ] {
            let (code, body) = curl("POST", &session, &hdrs, None);
            assert_eq!(code, 401, "{body}");
            assert_eq!(
                error_type(&body),
                "com.vmware.vapi.std.errors.unauthenticated"
            );
        }
        let (code, body) = curl("POST", &session, &[basic("root", "pass")], None);
        assert_eq!(code, 200, "{body}");
        let token = value_string(&body);
        let auth = vec![format!("vmware-api-session-id: {token}")];
        let (code, body) = curl("GET", &session, &auth, None);
        assert_eq!(code, 200, "{body}");
        assert!(body.contains(r#""user":"root""#), "{body}");
        let (code, body) = curl("POST", &format!("{session}?~action=get"), &auth, None);
        assert_eq!(code, 200, "{body}");

        // Calls need the session.
        let cats = format!("{base}/rest/com/vmware/cis/tagging/category");
        let (code, body) = curl("GET", &cats, &[], None);
        assert_eq!(code, 401, "{body}");
        let (code, body) = curl(
            "GET",
            &cats,
            &["vmware-api-session-id: bogus".to_owned()],
            None,
        );
        assert_eq!(code, 401, "{body}");
        let (code, body) = curl("GET", &cats, &auth, None);
        assert_eq!((code, body.as_str()), (200, r#"{"value":[]}"#));

        // Malformed JSON, wrong shapes and missing fields are invalid arguments (400).
        for bad in [
            "{",
            "[1,2]",
            "\"x\"",
            r#"{"create_spec":"x"}"#,
            r#"{"create_spec":{"name":"c"}}"#,
            r#"{"create_spec":{"name":"c","cardinality":"MANY","associable_types":[]}}"#,
            r#"{"create_spec":{"name":7,"cardinality":"SINGLE"}}"#,
        ] {
            let (code, body) = curl("POST", &cats, &auth, Some(bad));
            assert_eq!(code, 400, "{bad}: {body}");
            assert_eq!(
                error_type(&body),
                "com.vmware.vapi.std.errors.invalid_argument",
                "{bad}"
            );
        }
        let spec = r#"{"create_spec":{"name":"c1","description":"","cardinality":"MULTIPLE","associable_types":[]}}"#;
        let (code, body) = curl("POST", &cats, &auth, Some(spec));
        assert_eq!(code, 200, "{body}");
        let cat = value_string(&body);
        let (code, body) = curl("POST", &cats, &auth, Some(spec));
        assert_eq!(code, 400, "{body}");
        assert_eq!(
            error_type(&body),
            "com.vmware.vapi.std.errors.already_exists"
        );
        let (code, body) = curl("GET", &format!("{cats}/id:nope"), &auth, None);
        assert_eq!(code, 404, "{body}");
        assert_eq!(error_type(&body), "com.vmware.vapi.std.errors.not_found");

        // Attaching to an object the inventory does not have.
        let tags = format!("{base}/rest/com/vmware/cis/tagging/tag");
        let spec = format!(r#"{{"create_spec":{{"name":"t1","description":"","category_id":"{cat}"}}}}"#);
        let (code, body) = curl("POST", &tags, &auth, Some(&spec));
        assert_eq!(code, 200, "{body}");
        let tag = value_string(&body);
        let assoc = format!("{base}/rest/com/vmware/cis/tagging/tag-association");
        let (code, body) = curl(
            "POST",
            &format!("{assoc}/id:{tag}?~action=attach"),
            &auth,
            Some(r#"{"object_id":{"type":"VirtualMachine","id":"vm-nope"}}"#),
        );
        assert_eq!(code, 404, "{body}");
        assert_eq!(error_type(&body), "com.vmware.vapi.std.errors.not_found");
        let (code, body) = curl(
            "POST",
            &format!("{assoc}?~action=list-attached-tags-on-objects"),
            &auth,
            Some(r#"{"object_ids":[{"type":"Folder","id":"group-d1"}]}"#),
        );
        assert_eq!(code, 200, "{body}");
        // An unknown action or resource.
        let (code, body) = curl("POST", &format!("{assoc}?~action=fly"), &auth, Some("{}"));
        assert_eq!(code, 404, "{body}");
        let (code, _) = curl("GET", &format!("{base}/rest/com/vmware/nothing"), &auth, None);
        assert_eq!(code, 404);

        // Logout ends the session.
        let (code, body) = curl("DELETE", &session, &auth, None);
        assert_eq!(code, 200, "{body}");
        let (code, _) = curl("GET", &cats, &auth, None);
        assert_eq!(code, 401);

        // A SOAP session logs in too.
        let login = r#"<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="urn:vim25"><soapenv:Body><Login><_this type="SessionManager">SessionManager</_this><userName>root</userName><password>pass</password></Login></soapenv:Body></soapenv:Envelope>"#;
        let out = esx_testkit::process::output(Command::new("curl")
            .args(["-sk", "--max-time", "30", "-D", "-", "-o", "/dev/null"])
            .args(["-H", "Content-Type: text/xml", "--data-binary", login])
            .arg(format!("{base}/sdk"))
            , esx_testkit::process::LIMIT)
            .expect("curl runs");
        let head = String::from_utf8_lossy(&out.stdout);
        let cookie = head
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
            .and_then(|l| l.split_once(':'))
            .map(|(_, v)| v.split(';').next().unwrap_or_default().trim().to_owned())
            .expect("a session cookie");
        let (code, body) = curl("POST", &session, &[format!("Cookie: {cookie}")], None);
        assert_eq!(code, 200, "{body}");
        let (code, _) = curl(
            "POST",
            &session,
            &["Cookie: vmware_soap_session=\"52nope\"".to_owned()],
            None,
        );
        assert_eq!(code, 401);

        // The newer /api/session.
        let api = format!("{base}/api/session");
        let (code, body) = curl("POST", &api, &[basic("root", "pass")], None);
        assert_eq!(code, 201, "{body}");
        let token: String = serde_json::from_str(&body).expect("a JSON string");
        let auth = vec![format!("vmware-api-session-id: {token}")];
        let (code, body) = curl("GET", &api, &auth, None);
        assert_eq!(code, 200, "{body}");
        assert!(body.contains("root"), "{body}");
        let (code, _) = curl("DELETE", &api, &auth, None);
        assert_eq!(code, 204);
        let (code, body) = curl("GET", &api, &auth, None);
        assert_eq!(code, 401, "{body}");
        assert!(body.contains(r#""error_type":"UNAUTHENTICATED""#), "{body}");
    })
    .await
    .unwrap();
    h.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn esx_has_no_rest_api() {
    if !curl_available() {
        return;
    }
    let dir = support::data_dir("rest", "esx");
    let h = support::serve(esx_sim::Flavor::Esx, &dir).await;
    let base = format!("https://127.0.0.1:{}", h.addr.port());
    tokio::task::spawn_blocking(move || {
        for path in ["/rest/com/vmware/cis/session", "/api/session"] {
            let (code, _) = curl(
                "POST",
                &format!("{base}{path}"),
                &[basic("root", "pass")],
                None,
            );
            assert_eq!(code, 404, "{path}");
        }
    })
    .await
    .unwrap();
    h.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_sessions_expire_with_an_injected_lifetime() {
    if !curl_available() {
        return;
    }
    let dir = support::data_dir("rest", "ttl");
    let mut cfg = esx_sim::Config::new(&dir);
    cfg.flavor = esx_sim::Flavor::Vcenter;
    cfg.inject
        .extend("session-ttl=1".parse().expect("inject spec"));
    let h = esx_sim::Simulator::start(cfg)
        .await
        .expect("simulator starts");
    let base = format!("https://127.0.0.1:{}", h.addr.port());
    tokio::task::spawn_blocking(move || {
        let session = format!("{base}/rest/com/vmware/cis/session");
        let (code, body) = curl("POST", &session, &[basic("root", "pass")], None);
        assert_eq!(code, 200, "{body}");
        let auth = vec![format!("vmware-api-session-id: {}", value_string(&body))];
        let (code, _) = curl("GET", &session, &auth, None);
        assert_eq!(code, 200);
        std::thread::sleep(std::time::Duration::from_millis(1500));
        let (code, body) = curl("GET", &session, &auth, None);
        assert_eq!(code, 401, "{body}");
    })
    .await
    .unwrap();
    h.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
