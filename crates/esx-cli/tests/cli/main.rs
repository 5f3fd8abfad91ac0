//! esxsh's integration tests, one module per area, in one test binary (each binary links the
//! command line, the driver, the simulator and the bindings, about 170 MB with line tables).

mod support;

mod commands;
mod esxsh;
mod secrets;
mod virsh_compat;
