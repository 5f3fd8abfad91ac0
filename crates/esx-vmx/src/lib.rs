//! The VMware `.vmx` format: a lossless reader/writer, and the conversion between VMX and
//! libvirt domain XML ([`esx_domain`]) with libvirt's rules and error texts.
//!
//! This crate is pure and synchronous: no networking, no async, no file I/O.
