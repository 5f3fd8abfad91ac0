//! Any bytes as a SOAP envelope: decoding never panics, and whatever decodes re-encodes and
//! decodes to the same value.
#![no_main]

use esx_vim::codec::soap::{self, Body};
use esx_vim::codec::{Decode, Decoder};
use esx_vim::{Any, Request, Response};
use libfuzzer_sys::fuzz_target;

fn request(input: &[u8]) -> Option<Request> {
    let mut r = Decoder::new(input);
    let Ok(Body::Element(el)) = soap::read_body(&mut r) else {
        return None;
    };
    let name = el.name_str();
    Request::decode_for(&mut r, &el, &name).ok().flatten()
}

fn response(input: &[u8]) -> Option<Response> {
    let mut r = Decoder::new(input);
    let Ok(Body::Element(el)) = soap::read_body(&mut r) else {
        return None;
    };
    let name = el.name_str();
    let method = name.strip_suffix("Response")?;
    Response::decode_for(&mut r, &el, method).ok().flatten()
}

fn any(input: &[u8]) -> Option<Any> {
    let mut r = Decoder::new(input);
    let el = r.root().ok()?;
    Any::decode(&mut r, &el).ok()
}

fuzz_target!(|input: &[u8]| {
    // Compare encodings rather than values: NaN != NaN, yet it encodes the same.
    if let Some(req) = request(input) {
        let once = req.to_envelope();
        let twice = request(&once)
            .expect("re-encoded request decodes")
            .to_envelope();
        assert_eq!(once, twice, "request round trip");
    }
    if let Some(resp) = response(input) {
        let once = resp.to_envelope();
        let twice = response(&once)
            .expect("re-encoded response decodes")
            .to_envelope();
        assert_eq!(once, twice, "response round trip");
    }
    let _ = any(input);
    let mut r = Decoder::new(input);
    if let Ok(Body::Fault(f)) = soap::read_body(&mut r) {
        let _ = soap::encode_fault(&f);
    }
});
