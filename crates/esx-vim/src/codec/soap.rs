//! The SOAP 1.1 envelope: requests, responses and faults.

use super::{ComplexType, Decode, DecodeError, Decoder, Elem, Encode, Encoder};
use crate::generated::BaseMethodFault;

/// The SOAP 1.1 envelope namespace.
pub const SOAP_ENV_NS: &str = "http://schemas.xmlsoap.org/soap/envelope/";

const ENVELOPE_START: &str = concat!(
    r#"<?xml version="1.0" encoding="UTF-8"?>"#,
    r#"<soapenv:Envelope xmlns:soapenc="http://schemas.xmlsoap.org/soap/encoding/""#,
    r#" xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/""#,
    r#" xmlns:xsd="http://www.w3.org/2001/XMLSchema""#,
    r#" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>"#
);
const ENVELOPE_END: &str = "</soapenv:Body></soapenv:Envelope>";

/// A SOAP fault as the server reported it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SoapFault {
    /// `faultcode`, e.g. `ServerFaultCode`.
    pub code: String,
    /// `faultstring`: the server's message.
    pub string: String,
    /// The vSphere fault from `detail`, typed; `None` when the fault carried no detail.
    pub detail: Option<BaseMethodFault>,
    /// The fault type's name as sent (useful when it is newer than these bindings and
    /// `detail` holds only its `MethodFault` base).
    pub detail_type: Option<String>,
}

impl SoapFault {
    /// The fault type name: from the detail, else the SOAP fault code.
    pub fn fault_name(&self) -> &str {
        self.detail_type.as_deref().unwrap_or(&self.code)
    }
}

impl std::fmt::Display for SoapFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.detail_type {
            Some(t) if self.string.is_empty() => write!(f, "{t}"),
            Some(t) => write!(f, "{t}: {}", self.string),
            None => write!(f, "{}: {}", self.code, self.string),
        }
    }
}

impl std::error::Error for SoapFault {}

/// What a SOAP body held.
#[derive(Debug)]
pub enum Body<'i> {
    /// The first element of the body, ready to decode (a request or a response).
    Element(Elem<'i>),
    /// A fault.
    Fault(SoapFault),
}

/// Reads an envelope up to the first element of its body.
pub fn read_body<'i>(r: &mut Decoder<'i>) -> Result<Body<'i>, DecodeError> {
    let env = r.root()?;
    if env.name() != b"Envelope" {
        return Err(DecodeError::Structure {
            msg: format!("expected a SOAP Envelope, found <{}>", env.name_str()),
            pos: env.offset(),
        });
    }
    while let Some(child) = r.next_child(&env)? {
        if child.name() != b"Body" {
            r.skip(&child)?;
            continue;
        }
        return match r.next_child(&child)? {
            Some(first) if first.name() == b"Fault" => read_fault(r, &first).map(Body::Fault),
            Some(first) => Ok(Body::Element(first)),
            None => Err(DecodeError::Structure {
                msg: "empty SOAP Body".into(),
                pos: child.offset(),
            }),
        };
    }
    Err(DecodeError::Structure {
        msg: "SOAP Envelope without a Body".into(),
        pos: env.offset(),
    })
}

fn read_fault(r: &mut Decoder<'_>, el: &Elem<'_>) -> Result<SoapFault, DecodeError> {
    let mut fault = SoapFault::default();
    while let Some(c) = r.next_child(el)? {
        match c.name() {
            b"faultcode" => fault.code = strip_prefix(&r.text(&c)?).to_owned(),
            b"faultstring" => fault.string = r.text(&c)?.into_owned(),
            b"detail" => {
                while let Some(d) = r.next_child(&c)? {
                    if fault.detail.is_some() {
                        r.skip(&d)?;
                        continue;
                    }
                    // `<InvalidLoginFault xsi:type="InvalidLogin">`: the type is in xsi:type,
                    // or else in the element name minus its `Fault` suffix.
                    let name = d.name_str();
                    let ty = match d.vim_type() {
                        Some(t) => t.to_owned(),
                        None => name.strip_suffix("Fault").unwrap_or(&name).to_owned(),
                    };
                    fault.detail = Some(BaseMethodFault::decode_as(r, &d, Some(&ty))?);
                    fault.detail_type = Some(ty);
                }
            }
            _ => r.skip(&c)?,
        }
    }
    Ok(fault)
}

fn strip_prefix(s: &str) -> &str {
    s.rsplit_once(':').map_or(s, |(_, local)| local)
}

/// Decodes a response envelope: `Ok(Ok(response))`, `Ok(Err(fault))`, or a decoding error.
pub fn decode_response<T: Decode>(input: &[u8]) -> Result<Result<T, SoapFault>, DecodeError> {
    let mut r = Decoder::new(input);
    let out = match read_body(&mut r)? {
        Body::Element(el) => Ok(T::decode(&mut r, &el)?),
        Body::Fault(f) => Err(f),
    };
    r.finish()?;
    Ok(out)
}

/// Encodes the envelope of a call to `method` (the request element's name) with `body`'s fields.
pub fn encode_request<T: ComplexType>(method: &str, body: &T) -> Vec<u8> {
    encode_message(method, body)
}

/// Encodes a response envelope for `method` (writes `<{method}Response>`).
pub fn encode_response<T: ComplexType>(method: &str, body: &T) -> Vec<u8> {
    let name = format!("{method}Response");
    encode_message(&name, body)
}

/// Encodes a response envelope for `method` into `out`, replacing its contents and reusing its
/// capacity: a server answering many large replies skips growing (and the kernel zeroing) a
/// fresh buffer for each.
pub fn encode_response_into<T: ComplexType>(out: &mut Vec<u8>, method: &str, body: &T) {
    let name = format!("{method}Response");
    let w = Encoder::from_vec(std::mem::take(out));
    *out = write_message(w, &name, body);
}

fn encode_message<T: ComplexType>(element: &str, body: &T) -> Vec<u8> {
    write_message(Encoder::with_capacity(512), element, body)
}

fn write_message<T: ComplexType>(mut w: Encoder, element: &str, body: &T) -> Vec<u8> {
    w.raw(ENVELOPE_START);
    w.open_tag(element, None);
    w.attr("xmlns", "urn:vim25");
    w.close_tag();
    body.encode_fields(&mut w);
    w.end(element);
    w.raw(ENVELOPE_END);
    w.into_bytes()
}

/// Encodes a fault envelope; `detail` is written as `<{Type}Fault xsi:type="{Type}">`.
pub fn encode_fault(fault: &SoapFault) -> Vec<u8> {
    let mut w = Encoder::with_capacity(512);
    w.raw(ENVELOPE_START);
    w.start("soapenv:Fault", None);
    w.leaf("faultcode", None, &fault.code);
    w.leaf("faultstring", None, &fault.string);
    if let Some(detail) = &fault.detail {
        w.start("detail", None);
        let ty = detail.type_name();
        let name = format!("{ty}Fault");
        detail.encode_element(&mut w, &name, Some(("xmlns", "urn:vim25")));
        w.end("detail");
    }
    w.end("soapenv:Fault");
    w.raw(ENVELOPE_END);
    w.into_bytes()
}

/// Encodes a value as a standalone element (no envelope), for tests and tools.
pub fn encode_element<T: Encode + ?Sized>(name: &str, value: &T) -> Vec<u8> {
    let mut w = Encoder::new();
    value.encode(&mut w, name);
    w.into_bytes()
}
