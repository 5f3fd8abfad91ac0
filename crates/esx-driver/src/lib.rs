//! libvirt's ESX driver as an async Rust API: one [`Connection`] to an ESX/ESXi host, a GSX
//! host or a vCenter, implementing libvirt's four driver tables as async traits
//! ([`HypervisorDriver`], [`StorageDriver`], [`NetworkDriver`], [`InterfaceDriver`]) with
//! libvirt's semantics and error texts, and what libvirt never learned: editing existing
//! domains, all-or-nothing definitions, lifecycle events, task progress and cancellation,
//! answering questions, streamed volume transfers, and listing any number of domains in one
//! request.
//!
//! ```no_run
//! use esx_driver::{Connection, FixedCredentials, HypervisorDriver, OpenOptions, flags};
//! use std::sync::Arc;
//!
//! # async fn demo() -> Result<(), esx_driver::Error> {
//! let options = OpenOptions {
//!     auth: Some(Arc::new(FixedCredentials::new("root", "secret"))),
//!     ..OpenOptions::default()
//! };
//! let conn = Connection::open("esx://esx1.example.com/?no_verify=1", options).await?;
//! for dom in conn.connect_list_all_domains(0).await? {
//!     println!("{:>4} {} {}", dom.id, dom.name, dom.uuid);
//! }
//! let web = conn.domain_lookup_by_name("web").await?;
//! if !web.is_active() {
//!     conn.domain_create(&web).await?;
//! }
//! let inactive = conn.connect_list_all_domains(flags::list_domains::INACTIVE).await?;
//! println!("{} domains are shut off", inactive.len());
//! conn.connect_close().await
//! # }
//! ```
//!
//! Connections are cheap to clone and serve many tasks at once; each endpoint keeps one
//! session, renewed once for everybody when it expires.
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

pub mod connection;
pub mod context;
pub mod control;
pub mod error;
mod esx;
pub mod traits;
pub mod types;
mod vi;

pub use connection::{AuthCallback, Connection, FixedCredentials, OpenOptions};
pub use context::Product;
pub use control::{CancelToken, TaskControl, TaskProgress};
pub use error::{Error, ErrorCode, Result};
pub use esx::events::{DomainEvent, DomainEventKind, DomainEvents};
pub use esx::xml::VMX_FORMAT;
pub use traits::{HypervisorDriver, InterfaceDriver, NetworkDriver, StorageDriver};
pub use types::flags;
pub use types::*;
