//! Real vCenter/ESXi SOAP traffic (vcrpy cassettes): every request and response body decodes,
//! re-encodes, and decodes again to the same value.
//!
//! Reads every `*.yaml` in `$VCENTER_SOAP_CORPUS` (default `../shared/corpus/vcenter-soap`).
//! Bodies of operations the WSDL lacks (pyVmomi's private `Fetch`, the PBM API) decode
//! generically: `_this` as a reference, every other child as `Any`.

use std::path::PathBuf;

use esx_vim::codec::soap::{self, Body, SoapFault};
use esx_vim::codec::{Decode, DecodeError, Decoder, Elem, Encoder, ManagedObjectReference};
use esx_vim::{Any, Request, Response};
use yaml_rust2::{Yaml, YamlLoader};

/// A decoded SOAP body, in whatever form fits it.
#[derive(Debug, PartialEq)]
enum Message {
    Request(Request),
    Response(Response),
    Fault(SoapFault),
    /// An operation outside the WSDL: element name and children.
    Generic(String, Vec<(String, Any)>),
}

fn decode_generic(r: &mut Decoder<'_>, el: &Elem<'_>) -> Result<Message, DecodeError> {
    let mut children = Vec::new();
    while let Some(c) = r.next_child(el)? {
        let name = c.name_str();
        let v = if name == "_this" {
            Any::ManagedObjectReference(ManagedObjectReference::decode(r, &c)?)
        } else {
            Any::decode(r, &c)?
        };
        children.push((name, v));
    }
    Ok(Message::Generic(el.name_str(), children))
}

fn decode(body: &[u8]) -> Result<Message, DecodeError> {
    let mut r = Decoder::new(body);
    let el = match soap::read_body(&mut r)? {
        Body::Fault(f) => return Ok(Message::Fault(f)),
        Body::Element(el) => el,
    };
    let name = el.name_str();
    if let Some(method) = name.strip_suffix("Response") {
        if let Some(resp) = Response::decode_for(&mut r, &el, method)? {
            return Ok(Message::Response(resp));
        }
    } else if let Some(req) = Request::decode_for(&mut r, &el, &name)? {
        return Ok(Message::Request(req));
    }
    decode_generic(&mut r, &el)
}

fn encode(m: &Message) -> Vec<u8> {
    match m {
        Message::Request(r) => r.to_envelope(),
        Message::Response(r) => r.to_envelope(),
        Message::Fault(f) => soap::encode_fault(f),
        Message::Generic(name, children) => {
            let mut w = Encoder::new();
            w.raw(r#"<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>"#);
            w.open_tag(name, None);
            w.attr("xmlns", "urn:vim25");
            w.close_tag();
            for (n, v) in children {
                match v {
                    Any::ManagedObjectReference(m) if n == "_this" => {
                        m.encode_typed(&mut w, n, None)
                    }
                    v => v.encode_element(&mut w, n),
                }
            }
            w.end(name);
            w.raw("</soapenv:Body></soapenv:Envelope>");
            w.into_bytes()
        }
    }
}

/// Decode, encode, decode again, compare.
fn round_trip(body: &[u8]) -> Result<String, String> {
    let first = decode(body).map_err(|e| format!("decode: {e}"))?;
    let again = encode(&first);
    let second = decode(&again).map_err(|e| {
        format!(
            "re-decode: {e}\n--- re-encoded ---\n{}",
            String::from_utf8_lossy(&again)
        )
    })?;
    if first != second {
        return Err(format!(
            "values differ after a round trip\nfirst:  {first:?}\nsecond: {second:?}"
        ));
    }
    Ok(match &first {
        Message::Request(r) => r.method().to_string(),
        Message::Response(r) => format!("{}Response", r.method()),
        Message::Fault(f) => format!("Fault({})", f.fault_name()),
        Message::Generic(n, _) => format!("{n} (generic)"),
    })
}

fn body_text(y: &Yaml) -> Option<String> {
    match y {
        Yaml::String(s) => Some(s.clone()),
        Yaml::Hash(_) => body_text(&y["string"]),
        _ => None,
    }
}

fn corpus_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("VCENTER_SOAP_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/vcenter-soap")
        });
    dir.is_dir().then_some(dir)
}

#[test]
fn vcenter_soap_corpus() {
    let Some(dir) = corpus_dir() else {
        eprintln!("!!! SKIPPED: no vCenter SOAP corpus (set VCENTER_SOAP_CORPUS or put ../shared beside the checkout)");
        return;
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("corpus directory is readable")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no cassettes in {}", dir.display());
    // With ESX_VIM_FUZZ_SEEDS=DIR, every SOAP body is also written there as a fuzzing seed
    // (crates/esx-vim/fuzz/README.md).
    let seeds = std::env::var_os("ESX_VIM_FUZZ_SEEDS").map(PathBuf::from);
    if let Some(d) = &seeds {
        std::fs::create_dir_all(d).expect("seed directory can be made");
    }
    let (mut passed, mut failed, mut skipped) = (0usize, 0usize, 0usize);
    for path in &files {
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        // Some cassettes tag scalars `!!python/unicode`: a plain string.
        let text = std::fs::read_to_string(path)
            .expect("cassette is UTF-8")
            .replace("!!python/unicode ", "");
        let docs = match YamlLoader::load_from_str(&text) {
            Ok(d) => d,
            Err(e) => {
                println!("FAIL {name}: not YAML: {e}");
                failed += 1;
                continue;
            }
        };
        let (mut p, mut f, mut s) = (0, 0, 0);
        let mut methods = Vec::new();
        for (i, it) in docs[0]["interactions"]
            .as_vec()
            .map(Vec::as_slice)
            .unwrap_or(&[])
            .iter()
            .enumerate()
        {
            for (side, body) in [
                ("request", body_text(&it["request"]["body"])),
                ("response", body_text(&it["response"]["body"])),
            ] {
                if let (Some(d), Some(b)) = (&seeds, &body) {
                    if b.contains("Envelope") {
                        let seed = d.join(format!("{name}-{i}-{side}.xml"));
                        std::fs::write(&seed, b).expect("seed is written");
                    }
                }
                match body {
                    Some(b) if b.contains("Envelope") => match round_trip(b.as_bytes()) {
                        Ok(m) => {
                            p += 1;
                            methods.push(m);
                        }
                        Err(e) => {
                            f += 1;
                            println!("  FAIL {name} interaction {i} {side}: {e}");
                        }
                    },
                    _ => s += 1,
                }
            }
        }
        methods.dedup();
        println!(
            "{} {name}: {p} passed, {f} failed, {s} skipped (not SOAP) [{}]",
            if f == 0 { "ok  " } else { "FAIL" },
            methods.join(", ")
        );
        passed += p;
        failed += f;
        skipped += s;
    }
    println!("vcenter soap corpus: {passed} passed, {failed} failed, {skipped} skipped");
    assert_eq!(failed, 0, "{failed} SOAP bodies failed the round trip");
    assert!(passed > 0);
}
