//! esx-sim's integration tests, one module per area, in one test binary: each binary links the
//! simulator and the bindings (about 140 MB with line tables), so one binary instead of 28 saves
//! CI about 4 GB of disk and 27 links. `datastore_memory` keeps its own binary: it measures the
//! process's resident memory, which no other test may share.

mod support;

mod alarms;
mod authorization;
mod autostart;
mod breadth;
mod clone_tickets;
mod cluster;
mod crash;
mod datastore_files;
mod decode;
mod dvs;
mod events;
mod folders;
mod fuzz_seeds;
mod guest_net;
mod host_network;
mod host_storage;
mod hostile;
mod inject;
mod lazy_files;
mod migration;
mod ovf_guest;
mod peers;
mod reads;
mod reconfig;
mod rest;
mod screen;
mod tickets;
mod virsh;
mod vm_devices;
