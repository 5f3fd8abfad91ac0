//! The session layer against a small scripted vSphere endpoint (replies encoded with the
//! codec): RetrievePropertiesEx + ContinueRetrievePropertiesEx paging (vcsim 0.24 ignores
//! maxObjects), the version fallback when vimServiceVersions.xml is missing, and the
//! "expired session shows as NotAuthenticated entries, not a fault" recovery.

use crate::client_support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use client_support::{response, Ports, Scripted, Seen};
use esx_vim::client::{property, Client, ConnectOptions};
use esx_vim::codec::soap;
use esx_vim::generated::*;
use esx_vim::{Any, ManagedObjectReference};

/// Ports 18930-18939 belong to this test binary.
static PORTS: Ports = Ports::new(18930, 10);

fn moref(t: &str, v: &str) -> ManagedObjectReference {
    ManagedObjectReference::new(t, v)
}

/// The name of the request element in a SOAP body.
fn method_of(req: &Seen) -> String {
    let body = String::from_utf8_lossy(&req.body);
    let Some(at) = body.find("Body>") else {
        return String::new();
    };
    let rest = &body[at + 5..];
    let rest = rest.trim_start_matches('<');
    rest.split([' ', '>', '/'])
        .next()
        .unwrap_or_default()
        .to_string()
}

fn element(req: &[u8], tag: &str) -> Option<String> {
    let body = String::from_utf8_lossy(req).to_string();
    let open = format!("<{tag}>");
    let start = body.find(&open)? + open.len();
    let end = body[start..].find(&format!("</{tag}>"))? + start;
    Some(body[start..end].to_string())
}

fn vms(range: std::ops::Range<usize>) -> Vec<ObjectContent> {
    range
        .map(|i| ObjectContent {
            obj: moref("VirtualMachine", &format!("vm-{i}")),
            prop_set: vec![DynamicProperty {
                name: "name".into(),
                val: Any::String(format!("vm{i}")),
            }],
            missing_set: vec![],
        })
        .collect()
}

fn ok(body: Vec<u8>) -> Option<Vec<u8>> {
    Some(response(
        "200 OK",
        &[("Set-Cookie", "vmware_soap_session=\"s1\"; Path=/")],
        &body,
    ))
}

/// A fake ESX with 5 VMs; with `expire_once`, the first RetrievePropertiesEx answers as an
/// expired session does (NotAuthenticated entries, no fault) and SessionIsActive says false.
async fn fake_esx(port: u16, expire_once: bool) -> Scripted {
    let expired = Arc::new(AtomicBool::new(expire_once));
    Scripted::start(
        port,
        Arc::new(move |_, req: &Seen| {
            if req.request_line.starts_with("GET ") {
                return Some(response("404 Not Found", &[], b"no versions file"));
            }
            let method = method_of(req);
            let body = match method.as_str() {
                "RetrieveServiceContent" => soap::encode_response(
                    "RetrieveServiceContent",
                    &RetrieveServiceContentResponse {
                        returnval: ServiceContent {
                            root_folder: moref("Folder", "ha-folder-root"),
                            property_collector: moref("PropertyCollector", "ha-property-collector"),
                            view_manager: Some(moref("ViewManager", "ViewManager")),
                            session_manager: Some(moref("SessionManager", "ha-sessionmgr")),
                            about: AboutInfo {
                                name: "fake ESX".into(),
                                api_type: "HostAgent".into(),
                                api_version: "6.7".into(),
                                product_line_id: "embeddedEsx".into(),
                                version: "6.7.0".into(),
                                ..AboutInfo::default()
                            },
                            ..ServiceContent::default()
                        },
                    },
                ),
                "Login" => soap::encode_response(
                    "Login",
                    &LoginResponse {
                        returnval: UserSession {
                            key: "s1".into(),
                            user_name: "root".into(),
                            ..UserSession::default()
                        },
                    },
                ),
                "SessionIsActive" => soap::encode_response(
                    "SessionIsActive",
                    &SessionIsActiveResponse { returnval: false },
                ),
                "CreateContainerView" => soap::encode_response(
                    "CreateContainerView",
                    &CreateContainerViewResponse {
                        returnval: moref("ContainerView", "session[s1]view-1"),
                    },
                ),
                "DestroyView" => soap::encode_response("DestroyView", &DestroyViewResponse {}),
                "Logout" => soap::encode_response("Logout", &LogoutResponse {}),
                "RetrievePropertiesEx" => {
                    if expired.swap(false, Ordering::SeqCst) {
                        let missing = MissingProperty {
                            path: "name".into(),
                            fault: LocalizedMethodFault {
                                fault: BaseMethodFault::NotAuthenticated(Box::default()),
                                localized_message: None,
                            },
                        };
                        let objects = vec![ObjectContent {
                            obj: moref("ContainerView", "session[s1]view-1"),
                            prop_set: vec![],
                            missing_set: vec![missing],
                        }];
                        soap::encode_response(
                            "RetrievePropertiesEx",
                            &RetrievePropertiesExResponse {
                                returnval: Some(RetrieveResult {
                                    token: None,
                                    objects,
                                }),
                            },
                        )
                    } else {
                        let max = element(&req.body, "maxObjects");
                        if max.as_deref() != Some("2") {
                            // The page size must be sent; answer so the client fails loudly.
                            return Some(response(
                                "400 Bad Request",
                                &[],
                                format!("maxObjects {max:?}").as_bytes(),
                            ));
                        }
                        soap::encode_response(
                            "RetrievePropertiesEx",
                            &RetrievePropertiesExResponse {
                                returnval: Some(RetrieveResult {
                                    token: Some("t1".into()),
                                    objects: vms(0..2),
                                }),
                            },
                        )
                    }
                }
                "ContinueRetrievePropertiesEx" => {
                    let token = element(&req.body, "token").unwrap_or_default();
                    let result = match token.as_str() {
                        "t1" => RetrieveResult {
                            token: Some("t2".into()),
                            objects: vms(2..4),
                        },
                        _ => RetrieveResult {
                            token: None,
                            objects: vms(4..5),
                        },
                    };
                    soap::encode_response(
                        "ContinueRetrievePropertiesEx",
                        &ContinueRetrievePropertiesExResponse { returnval: result },
                    )
                }
                other => {
                    return Some(response(
                        "400 Bad Request",
                        &[],
                        format!("unexpected call {other}").as_bytes(),
                    ))
                }
            };
            ok(body)
        }),
    )
    .await
}

fn options() -> ConnectOptions {
    ConnectOptions {
        user: "root".into(),
        password: "pw".into(),
        ..ConnectOptions::default()
    }
}

fn methods_called(srv: &Scripted) -> Vec<String> {
    srv.seen()
        .iter()
        .map(|s| {
            if s.request_line.starts_with("GET ") {
                "GET".to_string()
            } else {
                method_of(s)
            }
        })
        .collect()
}

#[tokio::test]
async fn pages_through_continuation_tokens() {
    let srv = fake_esx(PORTS.take(), false).await;
    let url = format!("http://127.0.0.1:{}/sdk", srv.port);
    let client = Client::connect(&url, options()).await.expect("connect");
    // No vimServiceVersions.xml: the SOAPAction version falls back to about.apiVersion.
    assert_eq!(client.transport().soap_action(), "urn:vim25/6.7");
    let objects = client
        .list_objects("VirtualMachine", &["name"], Some(2))
        .await
        .expect("list");
    let names: Vec<_> = objects
        .iter()
        .map(|o| match property(o, "name") {
            Some(Any::String(s)) => s.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(names, ["vm0", "vm1", "vm2", "vm3", "vm4"]);
    client.logout().await.expect("logout");
    assert_eq!(
        methods_called(&srv),
        [
            "RetrieveServiceContent",
            "GET",
            "Login",
            "CreateContainerView",
            "RetrievePropertiesEx",
            "ContinueRetrievePropertiesEx",
            "ContinueRetrievePropertiesEx",
            "DestroyView",
            "Logout"
        ]
    );
    let seen = srv.seen();
    assert!(seen.iter().skip(3).all(|s| s
        .headers
        .get("cookie")
        .is_some_and(|c| c.contains("vmware_soap_session"))));
}

#[tokio::test]
async fn expired_session_without_fault_is_recovered() {
    let srv = fake_esx(PORTS.take(), true).await;
    let url = format!("http://127.0.0.1:{}/sdk", srv.port);
    let client = Client::connect(&url, options()).await.expect("connect");
    let objects = client
        .list_objects("VirtualMachine", &["name"], Some(2))
        .await
        .expect("list");
    assert_eq!(objects.len(), 5);
    assert_eq!(client.logins(), 2);
    let calls = methods_called(&srv);
    let after_view = &calls[4..];
    assert_eq!(
        &after_view[..4],
        [
            "RetrievePropertiesEx",
            "SessionIsActive",
            "Login",
            "RetrievePropertiesEx"
        ],
        "{calls:?}"
    );
}
