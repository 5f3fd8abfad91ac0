//! `esx-guest-agent` and its library: configure a VM's network, from inside the guest, with the
//! settings its provisioning injected into the VMX configuration.
//!
//! `machine.id` holds them in the record format of OpenStack Nova's VMware driver
//! ([`machine_id`]: [`parse_machine_id`], [`format_machine_id`]), `guestinfo.metadata` in the
//! document cloud-init's VMware datasource reads ([`guestinfo`]); [`keys`] names the keys.
//!
//! ```
//! use esx_guest::{format_machine_id, parse_machine_id};
//!
//! let text = "00:50:56:8a:10:01;10.20.0.15;255.255.255.0;10.20.0.1;10.20.0.255;10.20.0.2#";
//! let nics = parse_machine_id(text)?;
//! assert_eq!(format_machine_id(&nics), text);
//! # Ok::<(), esx_guest::MachineIdError>(())
//! ```

pub mod distro;
pub mod files;
pub mod guestinfo;
pub mod keys;
pub mod machine_id;
pub mod nic;
pub mod render;
pub mod sysfs;

pub use machine_id::{format_machine_id, parse_machine_id, MachineIdError};
pub use nic::{Ipv4Config, MacAddr, Netmask, NicConfig};
