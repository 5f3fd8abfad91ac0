//! The VMware `.vmx` format: a lossless reader/writer, and the conversion between VMX and
//! libvirt domain XML ([`esx_domain`]) with libvirt's rules and error texts.
//!
//! This crate is pure and synchronous: no networking, no async, no file I/O.
//!
//! ```
//! use esx_vmx::VmxFile;
//!
//! let mut vmx = VmxFile::parse(b".encoding = \"UTF-8\"\ndisplayName = \"web\"\n")?;
//! assert_eq!(vmx.get("DISPLAYNAME"), Some("web"));
//! vmx.set("displayName", &esx_vmx::escape_pipe("web \"01\""));
//! assert_eq!(vmx.to_string(), ".encoding = \"UTF-8\"\ndisplayName = \"web |2201|22\"\n");
//! # Ok::<(), esx_vmx::VmxError>(())
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

pub mod convert;
pub mod file;
/// The fuzz targets' checks, replayed on stable by `tests/fuzz_seeds.rs`. Not stable API.
#[doc(hidden)]
pub mod fuzz;
pub use file::*;
