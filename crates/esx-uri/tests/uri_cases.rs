//! The URI cases of `testdata/uri/cases.tsv`, and property tests: formatting then parsing
//! gives the same URI back, and malformed URIs get precise errors, never panics.

use std::path::Path;

use esx_uri::{EsxUri, ExtraParams, Proxy, ProxyType, Scheme, Transport, UriError, VCenter};
use proptest::prelude::*;

#[test]
fn testdata_cases() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/uri/cases.tsv");
    let text = std::fs::read_to_string(&path).expect("testdata/uri/cases.tsv");
    let mut count = 0;
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let cols: Vec<&str> = line.split('\t').collect();
        let (uri, kind) = (cols[0], cols[1]);
        match (kind, EsxUri::parse(uri)) {
            ("ok", Ok(parsed)) => {
                assert_eq!(parsed.to_string(), cols[2], "canonical form of {uri}");
                assert_eq!(parsed.soap_url(), cols[3], "SOAP URL of {uri}");
                assert_eq!(
                    EsxUri::parse(cols[2]).as_ref(),
                    Ok(&parsed),
                    "reparse of {uri}"
                );
            }
            ("err", Err(e)) => assert_eq!(e.to_string(), cols[2], "error for {uri}"),
            (kind, got) => panic!("{uri}: expected {kind}, got {got:?}"),
        }
        count += 1;
    }
    assert!(count >= 20);
}

fn host() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z][a-z0-9-]{0,10}(\\.[a-z][a-z0-9-]{0,8}){0,3}",
        "(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])){3}",
        "[0-9a-f]{1,4}(:[0-9a-f]{1,4}){7}",
        "[0-9a-f]{1,4}::[0-9a-f]{1,4}",
    ]
}

fn params() -> impl Strategy<Value = ExtraParams> {
    let transport = prop::option::of(prop_oneof![Just(Transport::Http), Just(Transport::Https)]);
    let vcenter = prop::option::of(prop_oneof![
        Just(VCenter::Managing),
        "[a-z0-9.]{1,12}".prop_map(VCenter::Host)
    ]);
    let proxy = prop::option::of(
        (
            prop_oneof![
                Just(ProxyType::Http),
                Just(ProxyType::Socks4),
                Just(ProxyType::Socks4a),
                Just(ProxyType::Socks5)
            ],
            prop::option::of("[a-z@:%/ é]{1,8}"),
            host(),
            1u16..,
        )
            .prop_map(|(proxy_type, username, hostname, port)| Proxy {
                proxy_type,
                username,
                hostname,
                port,
            }),
    );
    (
        transport,
        vcenter,
        prop::option::of(any::<bool>()),
        prop::option::of(any::<bool>()),
        proxy,
        prop::option::of(any::<[u8; 32]>()),
    )
        .prop_map(
            |(transport, vcenter, no_verify, auto_answer, proxy, fp)| ExtraParams {
                transport,
                vcenter,
                no_verify,
                auto_answer,
                proxy,
                fingerprint: fp.map(|b| {
                    b.iter()
                        .map(|x| format!("{x:02X}"))
                        .collect::<Vec<_>>()
                        .join(":")
                }),
            },
        )
}

fn uri() -> impl Strategy<Value = EsxUri> {
    (
        prop_oneof![Just(Scheme::Esx), Just(Scheme::Gsx), Just(Scheme::Vpx)],
        prop::option::of("\\PC{1,12}"),
        host(),
        prop::option::of(1u16..),
        prop_oneof![
            Just(String::new()),
            Just("/".to_owned()),
            prop::collection::vec("[^/?#%\\x00-\\x1f]{1,8}", 1..4)
                .prop_map(|items| format!("/{}", items.join("/")))
        ],
        params(),
    )
        .prop_map(|(scheme, user, host, explicit_port, path, params)| EsxUri {
            scheme,
            user,
            host,
            explicit_port,
            path,
            params,
        })
}

proptest! {
    #[test]
    fn format_then_parse_is_identity(u in uri()) {
        let text = u.to_string();
        prop_assert_eq!(EsxUri::parse(&text), Ok(u), "{}", text);
    }

    #[test]
    fn arbitrary_text_never_panics(s in "\\PC{0,60}") {
        let _ = EsxUri::parse(&s);
    }

    #[test]
    fn uri_like_text_never_panics(s in "(esx|gsx|vpx|esx\\+ssh)://[a-z@:%\\[\\]0-9./?=&*]{0,40}") {
        if let Ok(u) = EsxUri::parse(&s) {
            // Whatever parses formats to something that parses to the same value.
            prop_assert_eq!(EsxUri::parse(&u.to_string()), Ok(u));
        }
    }

    #[test]
    fn bad_ports_name_the_port(port in "[1-9][0-9]{5,7}|0+|[a-z]{1,3}|-[0-9]") {
        let err = EsxUri::parse(&format!("esx://h:{port}/")).unwrap_err();
        prop_assert_eq!(err, UriError::InvalidPort { port: port.clone() });
    }

    #[test]
    fn bad_flags_name_parameter_and_value(name in "no_verify|auto_answer", value in "[2-9]|[a-z]{1,4}|-1") {
        let err = EsxUri::parse(&format!("esx://h/?{name}={value}")).unwrap_err();
        prop_assert_eq!(
            err.to_string(),
            format!("Query parameter '{name}' has unexpected value '{value}' (should be 0 or 1)")
        );
    }
}
