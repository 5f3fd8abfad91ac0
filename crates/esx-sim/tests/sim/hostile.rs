//! Bad requests over real HTTPS (curl): each gets the SOAP fault or HTTP status a real host
//! gives, the server keeps serving, and nothing outside the data directory is touched.

use std::path::Path;

use crate::support;

use support::https::{curl, curl_available, envelope, NS};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_faults_and_statuses() {
    if !curl_available() {
        eprintln!("!!! SKIPPED: curl is missing");
        return;
    }
    let dir = std::env::temp_dir().join(format!("esx-sim-hostile-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    // A file beside the data directory that no request may read, overwrite or delete.
    let outside = dir.join("secret.txt");
    std::fs::write(&outside, "keep out\n").unwrap();
    let mut cfg = esx_sim::Config::new(dir.join("data"));
    cfg.max_body = 64 * 1024;
    let h = esx_sim::Simulator::start(cfg).await.unwrap();
    let base = format!("https://127.0.0.1:{}", h.addr.port());
    let sdk = format!("{base}/sdk");
    let jar = dir.join("cookies");

    let d = dir.clone();
    tokio::task::spawn_blocking(move || {
        let post = |body: &str, jar: Option<&Path>| curl(&sdk, jar, "POST", Some(body.as_bytes()));
        let pc = r#"<_this type="PropertyCollector">ha-property-collector</_this>"#;
        let retrieve = envelope(&format!(
            r#"<RetrievePropertiesEx>{pc}<specSet><propSet><type>Folder</type><pathSet>name</pathSet></propSet><objectSet><obj type="Folder">ha-folder-root</obj></objectSet></specSet><options/></RetrievePropertiesEx>"#
        ));

        // Unauthenticated: NotAuthenticated, before any session exists.
        let (status, body) = post(&retrieve, None);
        assert_eq!(status, 500, "{body}");
        assert!(body.contains("NotAuthenticated"), "{body}");

        // Wrong password: InvalidLogin; then a real login.
        let login = |pw: &str| {
            envelope(&format!(
                r#"<Login><_this type="SessionManager">ha-sessionmgr</_this><userName>root</userName><password>{pw}</password></Login>"#
            ))
        };
        let (status, body) = post(&login("wrong"), Some(&jar));
        assert_eq!(status, 500);
        assert!(body.contains("InvalidLogin"), "{body}");
        assert!(!body.contains("wrong"), "the password is echoed: {body}");
        let (status, body) = post(&login("pass"), Some(&jar));
        assert_eq!(status, 200, "{body}");
        let (status, body) = post(&retrieve, Some(&jar));
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("ha-folder-root"), "{body}");

        // Malformed envelopes: a SOAP client fault, never a crash.
        for bad in [
            "",
            "not xml at all",
            "<soapenv:Envelope",
            &envelope("<RetrievePropertiesEx>"),
            &format!(
                r#"<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><soapenv:Envelope {NS}><soapenv:Body><CurrentTime><_this type="ServiceInstance">ServiceInstance</_this></CurrentTime></soapenv:Body></soapenv:Envelope>"#
            ),
        ] {
            let (status, body) = post(bad, Some(&jar));
            assert_eq!(status, 500, "{bad:?}: {body}");
            assert!(body.contains("Client") || body.contains("InvalidRequest"), "{bad:?}: {body}");
        }

        // Unknown method: MethodNotFound.
        let (status, body) = post(
            &envelope(r#"<FrobnicateVM_Task><_this type="VirtualMachine">1</_this></FrobnicateVM_Task>"#),
            Some(&jar),
        );
        assert_eq!(status, 500);
        assert!(body.contains("MethodNotFound"), "{body}");

        // A method on the wrong kind of object, and on an object that does not exist.
        let (status, body) = post(
            &envelope(r#"<PowerOnVM_Task><_this type="Folder">ha-folder-root</_this></PowerOnVM_Task>"#),
            Some(&jar),
        );
        assert_eq!(status, 500);
        assert!(
            body.contains("ManagedObjectNotFound") || body.contains("MethodNotFound"),
            "{body}"
        );
        let (status, body) = post(
            &envelope(r#"<PowerOnVM_Task><_this type="VirtualMachine">9999</_this></PowerOnVM_Task>"#),
            Some(&jar),
        );
        assert_eq!(status, 500);
        assert!(body.contains("ManagedObjectNotFound"), "{body}");

        // A body over the limit: 413.
        let huge = envelope(&format!(
            r#"<CurrentTime><_this type="ServiceInstance">ServiceInstance</_this><x>{}</x></CurrentTime>"#,
            "a".repeat(200 * 1024)
        ));
        let (status, _) = post(&huge, Some(&jar));
        assert_eq!(status, 413);

        // /folder: no session, traversal in the path, in dsName and in dcPath.
        let folder = |path: &str, q: &str| format!("{base}/folder/{path}?{q}");
        let ds = "dcPath=ha-datacenter&dsName=datastore1";
        let (status, _) = curl(&folder("vm1/vm1.vmx", ds), None, "GET", None);
        assert_eq!(status, 401);
        let (status, body) = curl(&folder("vm1/vm1.vmx", ds), Some(&jar), "GET", None);
        assert_eq!(status, 200, "{body}");
        for (path, q) in [
            ("../secret.txt", ds),
            ("../../secret.txt", ds),
            ("vm1/../../secret.txt", ds),
            ("%2e%2e/secret.txt", ds),
            ("..%2fsecret.txt", ds),
            ("/etc/passwd", ds),
            ("secret.txt", "dcPath=ha-datacenter&dsName=.."),
            ("secret.txt", "dcPath=ha-datacenter&dsName=%2e%2e"),
        ] {
            let url = folder(path, q);
            let (status, body) = curl(&url, Some(&jar), "GET", None);
            assert!(
                matches!(status, 400 | 403 | 404),
                "GET {url}: {status} {body}"
            );
            assert!(!body.contains("keep out"), "GET {url} read outside: {body}");
            let (status, _) = curl(&url, Some(&jar), "PUT", Some(b"overwritten"));
            assert!(matches!(status, 400 | 403 | 404), "PUT {url}: {status}");
            let (status, _) = curl(&url, Some(&jar), "DELETE", None);
            assert!(matches!(status, 400 | 403 | 404), "DELETE {url}: {status}");
        }
        assert_eq!(
            std::fs::read_to_string(d.join("secret.txt")).unwrap(),
            "keep out\n",
            "a file outside the data directory changed"
        );
        // And the server still answers.
        let (status, body) = post(&retrieve, Some(&jar));
        assert_eq!(status, 200, "{body}");
    })
    .await
    .unwrap();
    h.shutdown().await;
    assert!(outside.exists());
    let _ = std::fs::remove_dir_all(&dir);
}
