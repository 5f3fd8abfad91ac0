//! Replays the fuzz target's committed seed corpus (`fuzz/seeds/decode_envelope/`) through
//! the target's own check (`esx_vim::fuzz::decode_envelope`), on stable, in `cargo test`: a
//! regression fails CI without nightly.
//!
//! The starting seeds are our own data: the request envelopes of the repository's
//! `testdata/sim/fuzz-seeds/` as written and as our encoder re-encodes them, and responses,
//! faults and values built below and encoded by our encoder. `initial_seeds_replay` runs
//! them on every test; `ESX_FUZZ_CORPUS=DIR cargo test -p esx-vim --test fuzz_seeds --
//! --ignored write_seeds` writes them to `DIR/decode_envelope/` (default `fuzz/corpus/`, not
//! committed) to start a fuzzing campaign, whose minimised corpus (`cargo fuzz cmin`) is what
//! `fuzz/seeds/` holds.

use std::path::{Path, PathBuf};

use esx_vim::codec::soap::{self, encode_element, SoapFault};
use esx_vim::codec::{parse_datetime, DateTime};
use esx_vim::fuzz::{any, decode_envelope, request, response};
use esx_vim::{
    AboutInfo, Any, ArrayOfString, BaseMethodFault, CurrentTimeResponse, DynamicProperty,
    LoginResponse, ManagedObjectReference, ObjectContent, PowerOnVM_TaskResponse, Request,
    Response, RetrievePropertiesExResponse, RetrieveResult, RetrieveServiceContentResponse,
    ServiceContent, UserSession, VirtualMachinePowerState,
};

fn time() -> DateTime {
    parse_datetime("2026-12-02T10:20:30.125Z").expect("a dateTime")
}

fn about() -> AboutInfo {
    AboutInfo {
        name: "VMware ESXi".into(),
        full_name: "VMware ESXi 7.0.3 build-1 & <test>".into(),
        vendor: "VMware, Inc.".into(),
        version: "7.0.3".into(),
        build: "1".into(),
        api_type: "HostAgent".into(),
        api_version: "7.0.3.0".into(),
        ..Default::default()
    }
}

/// Responses built here, encoded by our encoder.
fn responses() -> Vec<(&'static str, Response)> {
    let vm = ManagedObjectReference::new("VirtualMachine", "vm-1");
    let props = vec![
        ("name", Any::String("web & \"db\" <1>".into())),
        (
            "runtime.powerState",
            Any::VirtualMachinePowerState(VirtualMachinePowerState::PoweredOn),
        ),
        ("config.hardware.numCPU", Any::Int(-2)),
        ("summary.storage.committed", Any::Long(i64::MAX)),
        ("summary.quickStats.overallCpuUsage", Any::Double(0.5)),
        ("config.template", Any::Boolean(false)),
        ("runtime.bootTime", Any::DateTime(time())),
        (
            "parent",
            Any::ManagedObjectReference(ManagedObjectReference::new("Folder", "group-v3")),
        ),
        (
            "tag",
            Any::ArrayOfString(Box::new(ArrayOfString {
                string: vec!["a".into(), "".into()],
            })),
        ),
        (
            "config.extraConfig",
            Any::Base64Binary(vec![0, 1, 0xfe, 0xff]),
        ),
        ("about", Any::AboutInfo(Box::new(about()))),
    ];
    let objects = vec![
        ObjectContent {
            obj: vm.clone(),
            prop_set: props
                .into_iter()
                .map(|(name, val)| DynamicProperty {
                    name: name.into(),
                    val,
                })
                .collect(),
            ..Default::default()
        },
        ObjectContent {
            obj: ManagedObjectReference::new("HostSystem", "ha-host"),
            ..Default::default()
        },
    ];
    vec![
        (
            "retrieve-properties-ex",
            Response::RetrievePropertiesEx(Box::new(RetrievePropertiesExResponse {
                returnval: Some(RetrieveResult {
                    token: Some("t1".into()),
                    objects,
                }),
            })),
        ),
        (
            "retrieve-properties-ex-empty",
            Response::RetrievePropertiesEx(Box::new(RetrievePropertiesExResponse {
                returnval: None,
            })),
        ),
        (
            "retrieve-service-content",
            Response::RetrieveServiceContent(Box::new(RetrieveServiceContentResponse {
                returnval: ServiceContent {
                    about: about(),
                    root_folder: ManagedObjectReference::new("Folder", "ha-folder-root"),
                    property_collector: ManagedObjectReference::new(
                        "PropertyCollector",
                        "ha-property-collector",
                    ),
                    ..Default::default()
                },
            })),
        ),
        (
            "login",
            Response::Login(Box::new(LoginResponse {
                returnval: UserSession {
                    key: "52a1".into(),
                    user_name: "root".into(),
                    full_name: "Administrator".into(),
                    login_time: time(),
                    last_active_time: time(),
                    locale: "en".into(),
                    message_locale: "en".into(),
                    ..Default::default()
                },
            })),
        ),
        (
            "current-time",
            Response::CurrentTime(Box::new(CurrentTimeResponse { returnval: time() })),
        ),
        (
            "power-on-task",
            Response::PowerOnVM_Task(Box::new(PowerOnVM_TaskResponse {
                returnval: ManagedObjectReference::new("Task", "task-7"),
            })),
        ),
    ]
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The starting seeds, named.
fn initial() -> Vec<(String, Vec<u8>)> {
    let mut all = Vec::new();
    let d = repo().join("testdata/sim/fuzz-seeds");
    let mut files: Vec<_> = std::fs::read_dir(&d)
        .unwrap_or_else(|e| panic!("{}: {e}", d.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for p in files {
        let stem = p.file_stem().unwrap().to_string_lossy().into_owned();
        let data = std::fs::read(&p).unwrap();
        // Not all are vim25 calls our bindings know (`fetch.xml` is the simulator's own).
        if let Some(req) = request(&data) {
            all.push((format!("req-{stem}-reencoded"), req.to_envelope()));
        }
        all.push((format!("req-{stem}"), data));
    }
    for (name, resp) in responses() {
        all.push((format!("resp-{name}"), resp.to_envelope()));
    }
    let fault = |detail: Option<BaseMethodFault>, detail_type: Option<&str>| {
        soap::encode_fault(&SoapFault {
            code: "ServerFaultCode".into(),
            string: "Cannot complete login due to an incorrect user name or password.".into(),
            detail,
            detail_type: detail_type.map(Into::into),
        })
    };
    all.push((
        "fault-invalid-login".into(),
        fault(
            Some(BaseMethodFault::InvalidLogin(Box::default())),
            Some("InvalidLogin"),
        ),
    ));
    all.push(("fault-bare".into(), fault(None, None)));
    all.push((
        "any-about".into(),
        encode_element("val", &Any::AboutInfo(Box::new(about()))),
    ));
    all
}

/// Writes the starting seeds to `$ESX_FUZZ_CORPUS/decode_envelope/` (default `fuzz/corpus/`).
#[test]
#[ignore]
fn write_seeds() {
    let out = std::env::var_os("ESX_FUZZ_CORPUS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus"),
        PathBuf::from,
    );
    let d = out.join("decode_envelope");
    std::fs::create_dir_all(&d).unwrap();
    for (name, data) in initial() {
        std::fs::write(d.join(name), data).unwrap();
    }
}

fn committed() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/decode_envelope");
    let mut out: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect();
    out.sort();
    out
}

fn replay(seeds: &[(String, Vec<u8>)]) {
    for (name, data) in seeds {
        let r = std::panic::catch_unwind(|| decode_envelope(data));
        assert!(r.is_ok(), "seed decode_envelope/{name}");
    }
}

#[test]
fn decode_envelope_seeds() {
    let all = committed();
    assert!(all.len() >= 20, "{} seeds", all.len());
    replay(&all);
    let requests = all.iter().filter(|(_, d)| request(d).is_some()).count();
    let responses = all.iter().filter(|(_, d)| response(d).is_some()).count();
    assert!(
        requests >= 5 && responses >= 3,
        "{requests} requests, {responses} responses"
    );
}

/// The starting seeds pass too, and decode to what they were made from.
#[test]
fn initial_seeds_replay() {
    let all = initial();
    assert!(all.len() >= 20, "{} seeds", all.len());
    replay(&all);
    let seed = |n: &str| &all.iter().find(|(x, _)| x == n).unwrap().1;
    for (name, resp) in responses() {
        let back = response(seed(&format!("resp-{name}"))).expect(name);
        assert_eq!(back.to_envelope(), resp.to_envelope(), "{name}");
    }
    let login = request(seed("req-login")).unwrap();
    assert!(matches!(login, Request::Login(_)), "{login:?}");
    let mut r = esx_vim::codec::Decoder::new(seed("fault-invalid-login"));
    let Ok(soap::Body::Fault(f)) = soap::read_body(&mut r) else {
        panic!("not a fault");
    };
    assert_eq!(f.fault_name(), "InvalidLogin");
    assert_eq!(
        any(seed("any-about")),
        Some(Any::AboutInfo(Box::new(about())))
    );
}

/// Found by the fuzzer (`crash-foreign-xsi-type`): a value typed in a namespace other than
/// urn:vim25 decoded as `Any::Unknown` with only its local name, and came back as the vim25
/// type of that name. The namespace is now kept, and written back.
#[test]
fn foreign_xsi_type_keeps_its_namespace() {
    let all = committed();
    let crash = &all
        .iter()
        .find(|(n, _)| n == "crash-foreign-xsi-type")
        .unwrap()
        .1;
    let once = response(crash).expect("decodes").to_envelope();
    let text = String::from_utf8_lossy(&once);
    assert!(
        text.contains(r#"xmlns:esxns="urn:vim26" xsi:type="esxns:VirtualMachinePowerState""#),
        "{text}"
    );
    let twice = response(&once).expect("re-encoded response decodes");
    assert_eq!(twice.to_envelope(), once);

    let xml = r#"<val xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:v="urn:vsan" xsi:type="v:AboutInfo"><name>x</name></val>"#;
    let value = any(xml.as_bytes()).unwrap();
    assert_eq!(
        value,
        Any::Unknown {
            xsi_type: "{urn:vsan}AboutInfo".into(),
            raw_xml: "<name>x</name>".into(),
        }
    );
    let again = any(&encode_element("val", &value)).unwrap();
    assert_eq!(again, value);
    // vim25's own types, and unknown ones in no namespace, are unchanged.
    let plain = r#"<val xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="NoSuchType"><a/></val>"#;
    assert!(matches!(
        any(plain.as_bytes()),
        Some(Any::Unknown { xsi_type, .. }) if xsi_type == "NoSuchType"
    ));
}
