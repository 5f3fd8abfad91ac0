//! The client's integration tests, one module per area, in one test binary (each binary links
//! the bindings, about 45–100 MB with line tables). `client_tracing` keeps its own binary: it
//! installs the tracing capture for its whole process.

#[path = "../client_support/mod.rs"]
mod client_support;

mod datastore;
mod http;
mod paging;
mod session;
mod tls;
mod vcsim;
