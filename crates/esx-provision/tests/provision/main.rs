//! esx-provision's integration tests, one module per area, in one test binary (each binary links
//! the provisioning library, the driver, the simulator and the bindings).

mod support;

mod images;
mod operations;
mod spawn;
