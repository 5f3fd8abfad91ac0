//! The hypervisor driver: async traits mirroring libvirt's driver tables (connection, domains,
//! snapshots, storage, networks, interfaces) and their implementation for VMware ESX, GSX and
//! vCenter over the vSphere API.
