//! `/screen?id=<vm>` over HTTPS with curl: 401 without a session, 404 for an unknown id, 409
//! for a VM that is not powered on, and a 640×480 PNG (different for two VMs) once it is.

use esx_sim::state::moref;
use esx_vim::Any;

use crate::support;

use support::https::{curl, curl_available, curl_bytes, envelope, returnval};

fn ihdr_size(png: &[u8]) -> (u32, u32) {
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "PNG signature");
    assert_eq!(&png[12..16], b"IHDR");
    let be = |i: usize| u32::from_be_bytes([png[i], png[i + 1], png[i + 2], png[i + 3]]);
    (be(16), be(20))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn screenshots_of_running_vms() {
    if !curl_available() {
        eprintln!("!!! SKIPPED: curl is missing");
        return;
    }
    let dir = std::env::temp_dir().join(format!("esx-sim-screen-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut cfg = esx_sim::Config::new(dir.join("data"));
    cfg.inventory = "vm=2".parse().unwrap();
    let h = esx_sim::Simulator::start(cfg).await.unwrap();
    let base = format!("https://127.0.0.1:{}", h.addr.port());
    let jar = dir.join("cookies");
    tokio::task::spawn_blocking(move || {
        let sdk = format!("{base}/sdk");
        let post = |body: String| {
            let (status, text) = curl(&sdk, Some(&jar), "POST", Some(envelope(&body).as_bytes()));
            assert_eq!(status, 200, "{text}");
            text
        };
        let screen = |id: &str, jar: Option<&std::path::Path>| {
            curl_bytes(&format!("{base}/screen?id={id}"), jar, "GET", None)
        };
        let find = |name: &str| {
            returnval(&post(format!(
                r#"<FindByInventoryPath><_this type="SearchIndex">ha-searchindex</_this><inventoryPath>ha-datacenter/vm/{name}</inventoryPath></FindByInventoryPath>"#
            )))
        };
        post(r#"<Login><_this type="SessionManager">ha-sessionmgr</_this><userName>root</userName><password>pass</password></Login>"#.into());
        let (vm1, vm2) = (find("vm1"), find("vm2"));
        assert_eq!(screen(&vm1, None).0, 401, "no session");
        assert_eq!(screen(&vm1, Some(&jar)).0, 409, "powered off");
        assert_eq!(screen("no-such-vm", Some(&jar)).0, 404);
        assert_eq!(screen("ha-host", Some(&jar)).0, 404, "not a VM");
        for vm in [&vm1, &vm2] {
            post(format!(r#"<PowerOnVM_Task><_this type="VirtualMachine">{vm}</_this></PowerOnVM_Task>"#));
        }
        let (status, a) = screen(&vm1, Some(&jar));
        assert_eq!(status, 200);
        assert_eq!(ihdr_size(&a), (640, 480));
        let (status, b) = screen(&vm2, Some(&jar));
        assert_eq!(status, 200);
        assert_eq!(ihdr_size(&b), (640, 480));
        assert_ne!(a, b, "two VMs give two pictures");
        assert_eq!(screen(&vm1, Some(&jar)).1, a, "one VM always the same");
    })
    .await
    .unwrap();
    h.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn hosts_claim_screenshot_support() {
    let (state, dir) = support::start("screen", "cap", esx_sim::Flavor::Esx, Some("vm=0"));
    let host = moref("HostSystem", "ha-host");
    assert_eq!(
        support::read(&state, &host, "capability.screenshotSupported"),
        Some(Any::Boolean(true))
    );
    let _ = std::fs::remove_dir_all(dir);
}
