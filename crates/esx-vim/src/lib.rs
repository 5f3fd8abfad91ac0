//! vSphere vim25 bindings: every data type, enum, fault and method of the vSphere Web
//! Services API, generated from the WSDL by `cargo xtask codegen`, with the SOAP codec.

pub mod transport;
pub mod client;
