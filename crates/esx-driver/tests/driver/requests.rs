//! How many SOAP requests the driver sends, counted from the client's tracing spans (one
//! `soap` span per call) with the deterministic capture of `esx_testkit::trace`. Every test
//! of this binary calls `capture()` first (see that module for why).

use crate::support;

use esx_driver::{flags, HypervisorDriver};
use support::Sim;

/// The methods of the SOAP calls recorded in a capture.
fn calls(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.starts_with("span soap:"))
        .filter_map(|l| l.split("method=\"").nth(1))
        .filter_map(|m| m.split('"').next())
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn listing_any_number_of_domains_takes_one_request() {
    let capture = esx_testkit::trace::capture();
    let sim = Sim::start_with("requests", esx_sim::Flavor::Esx, Some("vm=2000"), |_| {}).await;
    let c = sim.connect().await;
    let before = calls(&capture.text()).len();
    let all = c.connect_list_all_domains(0).await.unwrap();
    assert_eq!(all.len(), 2000);
    let listing = calls(&capture.text())[before..].to_vec();
    assert!(
        !listing.is_empty() && listing.len() <= 3,
        "listing 2,000 domains took {listing:?}"
    );
    assert!(
        listing.iter().all(|m| m.contains("RetrieveProperties")),
        "{listing:?}"
    );

    // Filters that need more data cost at most one more request.
    let before = calls(&capture.text()).len();
    c.connect_list_all_domains(flags::list_domains::AUTOSTART)
        .await
        .unwrap();
    let n = calls(&capture.text()).len() - before;
    assert!(n <= 4, "{n} requests");

    // A lookup by name after a listing does not search the whole inventory again for the
    // calls that follow: a cached reference is verified with one read.
    let d = all.iter().find(|d| d.name == "vm1000").unwrap().clone();
    let before = calls(&capture.text()).len();
    c.domain_get_info(&d).await.unwrap();
    let info = calls(&capture.text())[before..].to_vec();
    assert_eq!(info.len(), 1, "{info:?}");
}
