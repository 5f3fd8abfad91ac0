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

pub mod convert;
pub mod file;
/// The fuzz targets' checks, replayed on stable by `tests/fuzz_seeds.rs`. Not stable API.
#[doc(hidden)]
pub mod fuzz;
pub use file::*;
