//! esx-driver's integration tests, one module per area, in one test binary (each binary links the
//! driver, the simulator and the bindings, about 170 MB with line tables).

mod support;

mod beside_libvirt;
mod define;
mod domains;
mod faults;
mod requests;
mod snapshots;
mod storage_network;
mod tasks;
mod vcenter;
mod vcsim;
