//! The check the fuzz target runs (`fuzz/fuzz_targets/decode_envelope.rs`), shared with the
//! stable `cargo test` that replays the committed seed corpus (`tests/fuzz_seeds.rs`). Not
//! part of the stable API.

use crate::codec::soap::{self, Body};
use crate::codec::{Decode, Decoder};
use crate::{Any, Request, Response};

/// The envelope's body decoded as a request, if it is one.
pub fn request(input: &[u8]) -> Option<Request> {
    let mut r = Decoder::new(input);
    let Ok(Body::Element(el)) = soap::read_body(&mut r) else {
        return None;
    };
    let name = el.name_str();
    Request::decode_for(&mut r, &el, &name).ok().flatten()
}

/// The envelope's body decoded as the response to the method its element names
/// (`<XResponse>`), if it is one.
pub fn response(input: &[u8]) -> Option<Response> {
    let mut r = Decoder::new(input);
    let Ok(Body::Element(el)) = soap::read_body(&mut r) else {
        return None;
    };
    let name = el.name_str();
    let method = name.strip_suffix("Response")?;
    Response::decode_for(&mut r, &el, method).ok().flatten()
}

/// The document's root element decoded as an `Any`.
pub fn any(input: &[u8]) -> Option<Any> {
    let mut r = Decoder::new(input);
    let el = r.root().ok()?;
    Any::decode(&mut r, &el).ok()
}

/// Any bytes as a SOAP envelope, decoded as a request, a response, a bare `Any` and a fault:
/// none of these panics, and a request or response that decodes re-encodes to an envelope
/// that decodes and encodes to the same bytes again.
pub fn decode_envelope(input: &[u8]) {
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
}
