//! The VMX `extraConfig` keys that carry a VM's network settings into the guest, and the
//! values of their encoding keys. The provisioning side sets them (with
//! [`format_machine_id`](crate::format_machine_id) and
//! [`guestinfo::extra_config`](crate::guestinfo::extra_config)); the agent reads them with
//! `vmtoolsd`.
//!
//! | key | value | read with |
//! |---|---|---|
//! | [`MACHINE_ID`] | Nova's record format ([`crate::machine_id`]) | `vmtoolsd --cmd machine.id.get` |
//! | [`GUESTINFO_METADATA`] | cloud-init metadata: YAML or JSON with `instance-id`, `local-hostname` and `network` (netplan version 2) | `vmtoolsd --cmd "info-get guestinfo.metadata"` |
//! | [`GUESTINFO_METADATA_ENCODING`] | [`ENCODING_BASE64`], [`ENCODING_GZIP_BASE64`], or absent/empty for plain text | `vmtoolsd --cmd "info-get guestinfo.metadata.encoding"` |

/// Nova's key: one `MAC;IP;netmask;gateway;broadcast;DNS#` record per NIC.
pub const MACHINE_ID: &str = "machine.id";

/// cloud-init's VMware datasource key for the instance metadata document.
pub const GUESTINFO_METADATA: &str = "guestinfo.metadata";

/// How [`GUESTINFO_METADATA`] is encoded.
pub const GUESTINFO_METADATA_ENCODING: &str = "guestinfo.metadata.encoding";

/// Encoding value: the document is base64 (`b64` is read as well).
pub const ENCODING_BASE64: &str = "base64";

/// Encoding value: the document is gzip-compressed, then base64 (`gz+b64` is read as well).
pub const ENCODING_GZIP_BASE64: &str = "gzip+base64";
