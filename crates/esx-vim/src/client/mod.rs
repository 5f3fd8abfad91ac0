//! The vSphere client: [`HttpTransport`] carries SOAP calls to an endpoint (keep-alive pool,
//! TLS with verification on by default, HTTP CONNECT and SOCKS proxies, the session cookie,
//! gzip, bounded replies, timeouts, retries of transient failures, a tracing span per call with
//! credentials masked) and streams datastore files; [`Client`] adds the session on top
//! (connect sequence, Login, transparent re-login, paged property retrieval, container views,
//! waiting for tasks).
//!
//! ```no_run
//! use esx_vim::client::{property, Client, ConnectOptions};
//!
//! # async fn demo() -> Result<(), esx_vim::client::ClientError> {
//! let mut options = ConnectOptions { user: "root".into(), password: "secret".into(), ..Default::default() };
//! options.http.tls.ca_file = Some("/etc/esx/ca.pem".into());
//! let client = Client::connect("https://esx.example/sdk", options).await?;
//! for vm in client.list_objects("VirtualMachine", &["name"], Some(1000)).await? {
//!     println!("{:?}", property(&vm, "name"));
//! }
//! // Generated methods take the client as their transport and get re-login for free:
//! let si = esx_vim::ManagedObjectReference::new("ServiceInstance", "ServiceInstance");
//! let now = esx_vim::methods::current_time(&client, &si).await?;
//! println!("server time: {now:?}");
//! client.logout().await
//! # }
//! ```
//!
//! The transport alone, with a hand-written envelope:
//!
//! ```no_run
//! use esx_vim::client::{HttpOptions, HttpTransport, ProxyConfig, ProxyKind};
//! use esx_vim::transport::{SoapCall, Transport};
//!
//! # async fn demo() -> Result<(), esx_vim::transport::TransportError> {
//! let mut options = HttpOptions::default();
//! options.tls.ca_file = Some("/etc/esx/ca.pem".into());
//! options.proxy = Some(ProxyConfig::new(ProxyKind::Socks5, "proxy.example", 1080));
//! let transport = HttpTransport::new("https://esx.example/sdk", options)?;
//! let envelope = br#"<?xml version="1.0" encoding="UTF-8"?>
//! <soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">
//! <soapenv:Body><RetrieveServiceContent xmlns="urn:vim25">
//! <_this type="ServiceInstance">ServiceInstance</_this>
//! </RetrieveServiceContent></soapenv:Body></soapenv:Envelope>"#;
//! let call = SoapCall {
//!     method: "RetrieveServiceContent",
//!     this: Some(("ServiceInstance", "ServiceInstance")),
//!     body: envelope.to_vec(),
//! };
//! let reply = transport.round_trip(call).await?;
//! assert_eq!(reply.status, 200);
//! # Ok(())
//! # }
//! ```

mod body;
mod connector;
mod cookie;
mod datastore;
mod http;
mod mask;
mod options;
mod property;
mod session;
mod task;
mod tls;

pub use self::cookie::SESSION_COOKIE;
pub use self::datastore::{DatastoreFile, TransferError};
pub use self::http::HttpTransport;
pub use self::mask::{mask_reply_secrets, mask_secrets};
pub use self::options::{
    HttpOptions, ProxyAuth, ProxyConfig, ProxyKind, RetryPolicy, TlsOptions,
    DEFAULT_MAX_RESPONSE_BYTES,
};
pub use self::property::{property, view_spec, ContainerView};
pub use self::session::{ApiType, Client, ClientError, ConnectOptions};
pub use self::task::TaskError;
