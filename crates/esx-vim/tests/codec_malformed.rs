//! Hostile and broken input: every case gives a typed error, never a panic or a stack overflow.

use esx_vim::codec::soap::{decode_response, encode_response};
use esx_vim::codec::{DecodeError, MAX_DEPTH};
use esx_vim::{
    Any, LocalizedMethodFault, ObjectContent, RetrievePropertiesExResponse, RetrieveResult,
    RetrieveServiceContentResponse,
};

type Resp = RetrievePropertiesExResponse;

fn envelope(body: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema"><soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>"#
    )
}

fn sample() -> Vec<u8> {
    let oc = ObjectContent {
        obj: esx_vim::ManagedObjectReference::new("VirtualMachine", "vm-1"),
        prop_set: vec![esx_vim::DynamicProperty {
            name: "name".into(),
            val: Any::String("web & db".into()),
        }],
        ..Default::default()
    };
    let resp = Resp {
        returnval: Some(RetrieveResult {
            token: Some("t1".into()),
            objects: vec![oc],
        }),
    };
    encode_response("RetrievePropertiesEx", &resp)
}

#[test]
fn every_truncation_is_an_error() {
    let full = sample();
    assert!(decode_response::<Resp>(&full)
        .expect("full document decodes")
        .is_ok());
    for n in 0..full.len() {
        let cut = &full[..n];
        assert!(
            decode_response::<Resp>(cut).is_err(),
            "a document cut at byte {n} decoded"
        );
    }
}

#[test]
fn wrong_types_name_the_type_and_element() {
    let xml = envelope(
        r#"<RetrieveServiceContentResponse xmlns="urn:vim25"><returnval><about><apiVersion>7.0</apiVersion></about><maxObjects>x</maxObjects></returnval></RetrieveServiceContentResponse>"#,
    );
    // `maxObjects` is not a ServiceContent field: skipped. A bad boolean inside a known field:
    let ok = decode_response::<RetrieveServiceContentResponse>(xml.as_bytes());
    assert!(ok.is_ok(), "{ok:?}");
    let xml = envelope(
        r#"<RetrievePropertiesExResponse xmlns="urn:vim25"><returnval><objects><obj type="VirtualMachine">vm-1</obj><propSet><name>x</name><val xsi:type="xsd:int">twelve</val></propSet></objects></returnval></RetrievePropertiesExResponse>"#,
    );
    match decode_response::<Resp>(xml.as_bytes()) {
        Err(DecodeError::Value {
            ty, value, element, ..
        }) => {
            assert_eq!(
                (ty, value.as_str(), element.as_str()),
                ("xsd:int", "twelve", "val")
            );
        }
        other => panic!("expected a value error, got {other:?}"),
    }
}

#[test]
fn huge_numbers_are_value_errors() {
    for (ty, v) in [
        ("xsd:int", "99999999999"),
        ("xsd:long", "99999999999999999999999"),
        ("xsd:byte", "300"),
        ("xsd:short", "-40000"),
    ] {
        let xml = envelope(&format!(
            r#"<RetrievePropertiesExResponse xmlns="urn:vim25"><returnval><objects><obj type="VirtualMachine">vm-1</obj><propSet><name>x</name><val xsi:type="{ty}">{v}</val></propSet></objects></returnval></RetrievePropertiesExResponse>"#
        ));
        let err = decode_response::<Resp>(xml.as_bytes()).expect_err("out of range");
        assert!(matches!(err, DecodeError::Value { .. }), "{ty} {v}: {err}");
        assert!(err.to_string().contains(v), "{err}");
    }
}

#[test]
fn doctype_and_entities_are_refused() {
    let bomb = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><x>&lol2;</x></soapenv:Body></soapenv:Envelope>"#;
    let err = decode_response::<Resp>(bomb.as_bytes()).expect_err("DTD refused");
    assert!(matches!(err, DecodeError::Dtd { .. }), "{err}");

    let xml = envelope(
        r#"<RetrievePropertiesExResponse xmlns="urn:vim25"><returnval><token>&custom;</token></returnval></RetrievePropertiesExResponse>"#,
    );
    let err = decode_response::<Resp>(xml.as_bytes()).expect_err("unknown entity");
    assert!(
        matches!(err, DecodeError::Entity { ref name, .. } if name == "custom"),
        "{err}"
    );

    let xml = envelope(
        r#"<RetrievePropertiesExResponse xmlns="urn:vim25"><returnval><token>a&amp;b&#x263A;&#65;</token></returnval></RetrievePropertiesExResponse>"#,
    );
    let ok = decode_response::<Resp>(xml.as_bytes())
        .expect("decodes")
        .expect("no fault");
    assert_eq!(ok.returnval.and_then(|r| r.token).as_deref(), Some("a&b☺A"));
}

#[test]
fn deep_nesting_stops_at_the_limit() {
    // LocalizedMethodFault -> MethodFault.faultCause -> LocalizedMethodFault …: recursion through
    // the typed decoders, which must stop before the stack does.
    let depth = 10_000;
    let mut xml = String::from(
        r#"<val xmlns="urn:vim25" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="LocalizedMethodFault">"#,
    );
    for _ in 0..depth {
        xml.push_str(r#"<fault xsi:type="SystemError"><faultCause>"#);
    }
    for _ in 0..depth {
        xml.push_str("</faultCause></fault>");
    }
    xml.push_str("</val>");
    let mut r = esx_vim::codec::Decoder::new(xml.as_bytes());
    let el = r.root().expect("root");
    let err = <LocalizedMethodFault as esx_vim::codec::Decode>::decode(&mut r, &el)
        .expect_err("too deep");
    assert!(
        matches!(err, DecodeError::TooDeep { max, .. } if max == MAX_DEPTH),
        "{err}"
    );

    // Untyped nesting (skipped elements) is bounded too.
    let open = r#"<RetrievePropertiesExResponse xmlns="urn:vim25"><returnval><unknown>"#;
    let xml = envelope(&format!(
        "{open}{}{}</unknown></returnval></RetrievePropertiesExResponse>",
        "<a>".repeat(100_000),
        "</a>".repeat(100_000)
    ));
    let err = decode_response::<Resp>(xml.as_bytes()).expect_err("too deep");
    assert!(matches!(err, DecodeError::TooDeep { .. }), "{err}");
}

#[test]
fn not_xml_and_not_soap() {
    for input in [
        &b""[..],
        b"\xff\xfe garbage",
        b"<html><body>502 Bad Gateway</body></html>",
        b"<a><b></a>",
    ] {
        let err = decode_response::<Resp>(input).expect_err("not SOAP");
        let _ = err.to_string();
    }
}

/// A `RetrievePropertiesEx` reply whose one property is written as `prop` (a `<name>` element
/// spelled in some way, then the value).
fn with_name_element(name_element: &str) -> String {
    envelope(&format!(
        r#"<RetrievePropertiesExResponse xmlns="urn:vim25"><returnval><objects><obj type="VirtualMachine">vm-1</obj><propSet>{name_element}<val xsi:type="xsd:string">v</val></propSet></objects></returnval></RetrievePropertiesExResponse>"#
    ))
}

fn decoded_name(xml: &str) -> Result<String, DecodeError> {
    let resp = decode_response::<Resp>(xml.as_bytes())?.expect("no fault");
    let objects = resp.returnval.expect("returnval").objects;
    Ok(objects[0].prop_set[0].name.clone())
}

#[test]
fn every_spelling_of_a_leaf_reads_the_same() {
    // The plain form takes the decoder's leaf fast path; every other spelling goes through
    // the reader's events. All must give the same value.
    for spelling in [
        "<name>a&lt;b</name>",
        "<name>a&#60;b</name>",
        "<name><![CDATA[a<b]]></name>",
        "<name>a<!-- note -->&lt;b</name>",
        "<name>a&lt;b</name >",
        "<name >a&lt;b</name>",
    ] {
        let got = decoded_name(&with_name_element(spelling));
        assert_eq!(got.as_deref().ok(), Some("a<b"), "{spelling}: {got:?}");
    }
    for spelling in [
        "<name>ab</name>",
        "<name>ab</name\n>",
        "<name>a<?pi x?>b</name>",
    ] {
        let got = decoded_name(&with_name_element(spelling));
        assert_eq!(got.as_deref().ok(), Some("ab"), "{spelling}: {got:?}");
    }
    let got = decoded_name(&with_name_element("<name></name>"));
    assert_eq!(got.as_deref().ok(), Some(""), "{got:?}");
}

#[test]
fn a_leaf_with_a_wrong_end_tag_is_an_error() {
    for spelling in [
        "<name>ab</nam>",
        "<name>ab</namex>",
        "<name>ab</Name>",
        "<name>ab<name>",
        "<name>ab</val>",
    ] {
        let got = decoded_name(&with_name_element(spelling));
        assert!(got.is_err(), "{spelling} decoded: {got:?}");
    }
}

#[test]
fn text_in_place_of_a_structure_is_ignored_either_way() {
    // A complex element holding only text decodes as empty, whether the text is plain (the
    // leaf fast path) or broken by a comment (the reader's events).
    for returnval in [
        "<returnval>junk</returnval>",
        "<returnval>ju<!---->nk</returnval>",
    ] {
        let xml = envelope(&format!(
            r#"<RetrievePropertiesExResponse xmlns="urn:vim25">{returnval}</RetrievePropertiesExResponse>"#
        ));
        let resp = decode_response::<Resp>(xml.as_bytes())
            .expect("decodes")
            .expect("no fault");
        let rv = resp.returnval.expect("returnval");
        assert!(
            rv.objects.is_empty() && rv.token.is_none(),
            "{returnval}: {rv:?}"
        );
    }
}

/// The first property's value of a reply whose `<val>` element is spelled `val`.
fn decoded_value(val: &str) -> Result<Any, DecodeError> {
    let xml = envelope(&format!(
        r#"<RetrievePropertiesExResponse xmlns="urn:vim25"><returnval><objects><obj type="VirtualMachine">vm-1</obj><propSet><name>p</name>{val}</propSet></objects></returnval></RetrievePropertiesExResponse>"#
    ));
    let resp = decode_response::<Resp>(xml.as_bytes())?.expect("no fault");
    let objects = resp.returnval.expect("returnval").objects;
    Ok(objects[0].prop_set[0].val.clone())
}

#[test]
fn leaves_with_attributes_read_the_same_in_every_spelling() {
    let host =
        Any::ManagedObjectReference(esx_vim::ManagedObjectReference::new("HostSystem", "host-1"));
    for (spelling, want) in [
        (
            r#"<val xsi:type="xsd:string">a&gt;b</val>"#,
            Any::String("a>b".into()),
        ),
        (
            r#"<val xsi:type="xsd:string">a>b</val>"#,
            Any::String("a>b".into()),
        ),
        (
            r#"<val xsi:type='xsd:string'>a>b</val>"#,
            Any::String("a>b".into()),
        ),
        (
            r#"<val  xsi:type="xsd:string" >a>b</val>"#,
            Any::String("a>b".into()),
        ),
        (r#"<val xsi:type="xsd:int">42</val>"#, Any::Int(42)),
        (r#"<val xsi:type="xsd:int"> 42 </val >"#, Any::Int(42)),
        (
            r#"<val xsi:type="ManagedObjectReference" type="HostSystem">host-1</val>"#,
            host.clone(),
        ),
        (
            r#"<val type="HostSystem" xsi:type="ManagedObjectReference">host-1</val>"#,
            host.clone(),
        ),
        (
            r#"<val xmlns:q="urn:vim25" xsi:type="q:ManagedObjectReference" type="HostSystem">host-1</val>"#,
            host.clone(),
        ),
        (
            r#"<val xsi:type="ManagedObjectReference" type='HostSystem'>host-1</val>"#,
            host.clone(),
        ),
    ] {
        let got = decoded_value(spelling);
        assert_eq!(got.as_ref().ok(), Some(&want), "{spelling}: {got:?}");
    }
    // A `>` inside a quoted attribute value does not end the start tag.
    let got = decoded_value(r#"<val xsi:type="ManagedObjectReference" type="Host>System">h</val>"#);
    let want =
        Any::ManagedObjectReference(esx_vim::ManagedObjectReference::new("Host>System", "h"));
    assert_eq!(got.as_ref().ok(), Some(&want), "{got:?}");
    // A prefix bound to another namespace is not a vSphere type, whatever its local name.
    let got = decoded_value(r#"<val xmlns:q="urn:other" xsi:type="q:string">x</val>"#);
    assert!(
        !matches!(got, Ok(Any::String(_))),
        "a foreign type read as a string: {got:?}"
    );
}

#[test]
fn a_leaf_with_attributes_and_a_wrong_end_tag_is_an_error() {
    for spelling in [
        r#"<val xsi:type="xsd:string">ab</va>"#,
        r#"<val xsi:type="xsd:string">ab</xsi:type>"#,
        r#"<val xsi:type="xsd:string>ab</val>"#,
    ] {
        let got = decoded_value(spelling);
        assert!(got.is_err(), "{spelling} decoded: {got:?}");
    }
}
