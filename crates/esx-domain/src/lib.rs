//! Typed models of libvirt's XML documents (domain, snapshot, storage pool, storage volume,
//! network, capabilities), parsed with xml-rs and formatted byte-for-byte as libvirt does.
//!
//! This crate is pure and synchronous: no networking, no async, no file I/O.
