//! The non-generic half of every generated method: send an envelope, classify the reply.

use crate::codec::soap::{self, SoapFault};
use crate::codec::{Decode, DecodeError, ManagedObjectReference};
use crate::transport::{SoapCall, Transport, TransportError};

/// Why a vSphere call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request never got a usable HTTP reply.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The server answered with a SOAP fault.
    #[error("{method} failed: {fault}")]
    Fault {
        /// The operation called.
        method: &'static str,
        /// The fault, with its typed detail.
        fault: Box<SoapFault>,
    },
    /// The server answered with an HTTP status that carries no SOAP envelope.
    #[error("HTTP response code {status} for call to '{method}'")]
    Http {
        /// The operation called.
        method: &'static str,
        /// HTTP status code.
        status: u16,
        /// The start of the body, for diagnosis.
        body: String,
    },
    /// The reply could not be decoded.
    #[error("cannot decode the reply to {method}: {source}")]
    Decode {
        /// The operation called.
        method: &'static str,
        /// What was wrong with it.
        #[source]
        source: DecodeError,
    },
}

impl Error {
    /// The SOAP fault, if the server returned one.
    pub fn fault(&self) -> Option<&SoapFault> {
        match self {
            Error::Fault { fault, .. } => Some(fault),
            _ => None,
        }
    }

    /// True when the server returned a fault of type `name` (e.g. `NotAuthenticated`).
    pub fn is_fault(&self, name: &str) -> bool {
        self.fault().is_some_and(|f| f.fault_name() == name)
    }
}

/// A raw reply that still has to be decoded.
pub struct Reply {
    status: u16,
    body: Vec<u8>,
}

/// Sends one encoded request.
pub async fn send(
    t: &dyn Transport,
    method: &'static str,
    this: &ManagedObjectReference,
    body: Vec<u8>,
) -> Result<Reply, Error> {
    let call = SoapCall {
        method,
        this: Some((&this.r#type, &this.value)),
        body,
    };
    let reply = t.round_trip(call).await?;
    Ok(Reply {
        status: reply.status,
        body: reply.body,
    })
}

/// A response message: the `<Op>Response` element, and the value a method returns from it.
pub trait ResponseMessage: Decode {
    /// What the method returns (the `returnval`, or `()`).
    type Output;
    /// Extracts the returned value.
    fn into_output(self) -> Self::Output;
}

/// Sends an encoded request for `method` and decodes its response as `R`: the body of every
/// generated method (one generic future instead of an async fn per operation).
pub async fn call<R: ResponseMessage>(
    t: &dyn Transport,
    method: &'static str,
    this: ManagedObjectReference,
    body: Vec<u8>,
) -> Result<R::Output, Error> {
    let reply = send(t, method, &this, body).await?;
    decode_reply::<R>(&reply, method).map(R::into_output)
}

/// Decodes a reply into the operation's response type, or the fault it carries.
pub fn decode_reply<T: Decode>(reply: &Reply, method: &'static str) -> Result<T, Error> {
    let looks_soap = reply
        .body
        .windows(8)
        .take(512)
        .any(|w| w.eq_ignore_ascii_case(b"envelope"));
    if reply.status != 200 && !(reply.status == 500 && looks_soap) {
        let end = reply.body.len().min(200);
        return Err(Error::Http {
            method,
            status: reply.status,
            body: String::from_utf8_lossy(&reply.body[..end]).into_owned(),
        });
    }
    match soap::decode_response::<T>(&reply.body) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(fault)) => Err(Error::Fault {
            method,
            fault: Box::new(fault),
        }),
        Err(source) => Err(Error::Decode { method, source }),
    }
}
