//! vSphere vim25 bindings: every data type, enum, fault and method of the vSphere Web
//! Services API, generated from the WSDL by `cargo xtask codegen`, with the SOAP codec.
//!
//! * [`generated`] (re-exported at the crate root): data objects as plain structs with
//!   inheritance flattened; `Base*` enums for polymorphic fields; [`Any`] for `xsd:anyType`;
//!   enumerations with an `Other(String)` catch-all; request/response messages; typed
//!   managed-object handles ([`VirtualMachine`], [`PropertyCollector`], …).
//! * [`methods`]: one function per operation, returning a future, over any
//!   [`transport::Transport`]; the managed-object handles call them.
//! * [`client`] (default feature `client`): the HTTPS transport and the session (`Client` logs
//!   in, renews the session, pages property retrieval and waits for tasks). Without the feature
//!   the crate has no hyper, rustls or tokio: types, codec, `reflect` and the `Transport` seam.
//! * [`codec`]: the streaming decoder/encoder and the SOAP envelope.
//! * [`reflect`]: declared fields of every type, properties and methods of every managed object.
//!
//! Calling the API (any [`transport::Transport`] will do; `client::Client` is the real one):
//!
//! ```no_run
//! # async fn demo(client: &dyn esx_vim::transport::Transport) -> Result<(), esx_vim::Error> {
//! use esx_vim::{PropertyCollector, ServiceInstance};
//!
//! let si = ServiceInstance::from_id("ServiceInstance");
//! let content = si.retrieve_service_content(client).await?;
//! println!("{} {}", content.about.full_name, content.about.api_version);
//! let pc = PropertyCollector::new(content.property_collector);
//! let _ = pc; // pc.retrieve_properties_ex(client, specs, options).await? …
//! # Ok(()) }
//! ```
//!
//! Values encode and decode without a server:
//!
//! ```
//! use esx_vim::{codec::soap, AboutInfo, Any};
//!
//! let about = AboutInfo { name: "VMware ESXi".into(), api_type: "HostAgent".into(), ..Default::default() };
//! let xml = soap::encode_element("val", &Any::from(about.clone()));
//! let mut r = esx_vim::codec::Decoder::new(&xml);
//! let el = r.root().unwrap();
//! let back: Any = esx_vim::codec::Decode::decode(&mut r, &el).unwrap();
//! assert_eq!(back, Any::AboutInfo(Box::new(about)));
//! ```
//!
//! ## The esx crates
//!
//! [esx-vim](https://docs.rs/esx-vim) (vSphere bindings, SOAP codec, HTTPS client) ·
//! [esx-uri](https://docs.rs/esx-uri) (`esx://`, `gsx://`, `vpx://` URIs, auth.conf) ·
//! [esx-domain](https://docs.rs/esx-domain) (libvirt domain, snapshot, pool, volume, network XML) ·
//! [esx-vmx](https://docs.rs/esx-vmx) (`.vmx` files and VMX ⇄ domain XML) ·
//! [esx-vmdk](https://docs.rs/esx-vmdk) (VMDK images, streamed) ·
//! [esx-driver](https://docs.rs/esx-driver) (the libvirt-style ESX driver) ·
//! [esx-provision](https://docs.rs/esx-provision) (Nova-style spawning from images) ·
//! [esx-guest](https://docs.rs/esx-guest) (guest agent, `machine.id`) ·
//! [esx-sim](https://docs.rs/esx-sim) (a vSphere simulator) ·
//! [esx-cli](https://docs.rs/esx-cli) (`esxsh`).

#![cfg_attr(docsrs, feature(doc_cfg))]

#[macro_use]
pub mod codec;
#[cfg(feature = "client")]
#[cfg_attr(docsrs, doc(cfg(feature = "client")))]
pub mod client;
/// The fuzz target's check, replayed on stable by `tests/fuzz_seeds.rs`. Not stable API.
#[doc(hidden)]
pub mod fuzz;
pub mod generated;
pub mod reflect;
mod rpc;
pub mod transport;

pub use generated::*;
pub use rpc::{call, decode_reply, send, Error, Reply, ResponseMessage};
