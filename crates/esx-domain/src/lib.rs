//! Typed models of libvirt's XML documents, parsed with xml-rs and formatted byte-for-byte as
//! libvirt formats them.
//!
//! The main document is the domain ([`Domain`]): [`Domain::from_xml`] reads it, rejecting
//! elements and attributes the model does not know with an error that names them and their
//! line, and [`Domain::to_xml`] writes it with libvirt's element order, indentation, quoting and
//! defaults (`<vcpu placement='static'>`, `<clock offset='utc'/>`, the `on_*` actions, ...).
//! [`postparse`] holds the parts of libvirt's post-parse step that the VMX conversion relies
//! on (drive addresses from target names, implicit controllers, the serial console).
//!
//! The other documents libvirt's ESX driver reads and writes have models with the same
//! `from_xml`/`to_xml` pair: [`DomainSnapshot`], [`StoragePool`] (`pool-dumpxml`),
//! [`StorageVolume`] (`vol-dumpxml`), [`Network`] (`net-dumpxml`) and [`Capabilities`]
//! (`virsh capabilities`), with constructors for what the ESX driver reports
//! ([`StoragePool::esx_datastore`], [`StorageVolume::esx_file`], [`Capabilities::esx`]).
//!
//! This crate is pure and synchronous: no networking, no async, no file I/O.
//!
//! ```
//! use esx_domain::Domain;
//!
//! let xml = "<domain type='vmware'><name>vm</name><memory>4096</memory>\
//!            <os><type>hvm</type></os></domain>";
//! let dom = Domain::from_xml(xml).unwrap();
//! assert_eq!(dom.name.as_deref(), Some("vm"));
//! let text = dom.to_xml();
//! assert!(text.contains("<vcpu placement='static'>1</vcpu>"));
//! assert!(text.contains("<clock offset='utc'/>"));
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

pub mod capabilities;
pub mod devices;
pub mod domain;
pub mod error;
/// The fuzz target's check, replayed on stable by `tests/fuzz_seeds.rs`. Not stable API.
#[doc(hidden)]
pub mod fuzz;
pub mod interface;
pub mod network;
pub mod pool;
pub mod postparse;
pub mod snapshot;
pub mod types;
pub mod volume;
pub mod xml;

pub use capabilities::{Capabilities, GuestCapabilities, HostCapabilities, MigrationFeatures};
pub use devices::*;
pub use domain::*;
pub use error::DomainXmlError;
pub use interface::{netmask_prefix, HostInterface, Ipv4Config};
pub use network::{Bandwidth, Forward, Network, PortGroup, Rate, Vlan, VlanTag};
pub use pool::{Permissions, PoolSource, PoolSourceHost, PoolTarget, PoolType, StoragePool};
pub use snapshot::DomainSnapshot;
pub use types::{CpuSet, MacAddr, Uuid};
pub use volume::{StorageVolume, VolumeTarget, VolumeType};
