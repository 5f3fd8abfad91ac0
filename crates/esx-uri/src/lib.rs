//! Connection URIs for the ESX driver: `esx://`, `gsx://` and `vpx://`, their extra
//! parameters (`transport`, `vcenter`, `no_verify`, `auto_answer`, `proxy`), credential
//! callbacks and libvirt-compatible `auth.conf`, and the datastore-path helpers.
//!
//! This crate is pure: it parses, validates and formats, and never touches the network.
