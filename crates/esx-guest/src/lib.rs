//! `esx-guest-agent` and its library: configure a VM's network, from inside the guest, with the
//! settings its provisioning injected into the VMX configuration.
//!
//! Two carriers hold the same settings ([`keys`] names them):
//!
//! * `machine.id`, in the record format of OpenStack Nova's VMware driver
//!   ([`machine_id`]: [`parse_machine_id`], [`format_machine_id`]);
//! * `guestinfo.metadata`, the document cloud-init's VMware datasource reads ([`guestinfo`]).
//!
//! The provisioning side builds the values with the same functions the agent reads them with:
//!
//! ```
//! use esx_guest::{format_machine_id, guestinfo, keys, parse_machine_id, Ipv4Config, Netmask, NicConfig};
//!
//! let nics = vec![NicConfig {
//!     mac: "00:50:56:8a:10:01".parse()?,
//!     ipv4: Some(Ipv4Config {
//!         address: [10, 20, 0, 15].into(),
//!         netmask: Netmask::from_prefix_len(24).unwrap(),
//!         gateway: Some([10, 20, 0, 1].into()),
//!         broadcast: Some([10, 20, 0, 255].into()),
//!     }),
//!     dns: vec![[10, 20, 0, 2].into()],
//! }];
//! let machine_id = (keys::MACHINE_ID, format_machine_id(&nics));
//! assert_eq!(machine_id.1, "00:50:56:8a:10:01;10.20.0.15;255.255.255.0;10.20.0.1;10.20.0.255;10.20.0.2#");
//! assert_eq!(parse_machine_id(&machine_id.1)?, nics);
//!
//! let meta = guestinfo::GuestMetadata { local_hostname: Some("web1".into()), nics, ..Default::default() };
//! let [(key, value), (encoding_key, encoding)] = guestinfo::extra_config(&meta);
//! assert_eq!((key, encoding_key, encoding.as_str()), (keys::GUESTINFO_METADATA, keys::GUESTINFO_METADATA_ENCODING, "gzip+base64"));
//! let text = guestinfo::decode(&value, guestinfo::Encoding::from_value(&encoding)?)?;
//! assert_eq!(guestinfo::parse_metadata(&text)?.local_hostname.as_deref(), Some("web1"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The agent ([`agent::run`], the `esx-guest-agent` binary through [`cli`]) reads the settings
//! with `vmtoolsd` ([`source`]), chooses the configuration style from os-release ([`distro`]),
//! finds each NIC by MAC in `/sys/class/net` ([`sysfs`]), renders the files ([`render`]) and
//! writes the ones that differ, atomically ([`files`]); `--apply` restarts networking
//! ([`apply`]).
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

pub mod agent;
pub mod apply;
pub mod cli;
pub mod distro;
pub mod files;
pub mod guestinfo;
pub mod keys;
pub mod machine_id;
pub mod nic;
pub mod render;
pub mod source;
pub mod sysfs;

pub use machine_id::{format_machine_id, parse_machine_id, MachineIdError};
pub use nic::{Ipv4Config, MacAddr, Netmask, NicConfig};
