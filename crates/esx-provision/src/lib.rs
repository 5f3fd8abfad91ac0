//! Nova-style provisioning on VMware ESX and vCenter, above [`esx_driver`]'s connection:
//! spawn a VM from a disk image with its network settings injected, make VLAN port groups,
//! snapshot a VM back to an image, and the other compute operations OpenStack Nova's VMware
//! driver performs.
//!
//! * [`Provisioner::spawn`] — a VM from a raw flat extent, a monolithicSparse or a
//!   streamOptimized VMDK (detected from the content; sparse images are converted to a flat
//!   extent while streaming, so the server only ever receives flat disks), read from a file
//!   or an `http(s)://` URL and never held in memory; the image is kept in a cache on the
//!   datastore so the next spawn of it uploads nothing; `machine.id` in Nova's format and
//!   `guestinfo.metadata` for cloud-init carry the NICs' settings (see [`esx_guest`], whose
//!   agent reads them inside the guest).
//! * [`Provisioner::ensure_vlan_portgroup`] — Nova's port group rules.
//! * [`Provisioner::snapshot_to_image`] — snapshot, coalesce, stream out, clean up.
//! * [`Provisioner::reboot`], [`destroy`](Provisioner::destroy),
//!   [`suspend`](Provisioner::suspend), [`resume`](Provisioner::resume),
//!   [`info`](Provisioner::info), [`list_instances`](Provisioner::list_instances),
//!   [`console_screenshot`](Provisioner::console_screenshot),
//!   [`console_ticket`](Provisioner::console_ticket).
//!
//! Sessions follow oslo.vmware's rules through the driver's client: one shared session, one
//! locked re-login, an empty property result checked with `SessionIsActive` before it is
//! believed; reads are retried once on an ambiguous failure and tasks are never sent twice.
//!
//! ```no_run
//! use esx_driver::{Connection, OpenOptions};
//! use esx_provision::{ImageSource, NicSpec, Provisioner, SpawnSpec};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let conn = Connection::open("esx://root@esx1.example.com/", OpenOptions::default()).await?;
//! let p = Provisioner::new(conn);
//! let mut spec = SpawnSpec::new("web1", ImageSource::parse("/images/debian-12.vmdk"));
//! spec.nics.push(NicSpec {
//!     network: "VM Network".into(),
//!     ipv4: Some(([192, 168, 10, 20].into(), 24)),
//!     gateway: Some([192, 168, 10, 1].into()),
//!     ..Default::default()
//! });
//! let vm = p.spawn(&spec, esx_provision::no_progress()).await?;
//! println!("{} runs with id {}", vm.domain.name, vm.domain.id);
//! # Ok(()) }
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

#![warn(missing_docs)]

pub mod cache;
pub mod error;
pub mod export;
pub mod image;
pub mod network;
pub mod ops;
mod pipe;
pub mod progress;
pub mod spawn;
pub mod spec;

pub use cache::{CacheUse, CachedImage};
pub use error::{ProvisionError, Result};
pub use export::Exported;
pub use image::{ExportFormat, ImageDest, ImageInfo, ImageSource, UrlOptions};
pub use network::{PortGroupOutcome, Uplink};
pub use ops::{ConsoleTicket, RebootKind};
pub use progress::{NoProgress, Progress};
pub use spawn::{
    no_progress, AdapterType, DatastoreChoice, DiskType, NicModel, NicSpec, SpawnSpec, Spawned,
};

use esx_driver::Connection;

/// Provisioning operations over one driver connection (cheap to clone; the connection is
/// shared).
#[derive(Clone)]
pub struct Provisioner {
    conn: Connection,
}

impl Provisioner {
    /// Provisioning over `conn`.
    pub fn new(conn: Connection) -> Provisioner {
        Provisioner { conn }
    }

    /// The driver connection.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }
}

impl std::fmt::Debug for Provisioner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provisioner")
            .field("uri", &self.conn.uri())
            .finish()
    }
}
