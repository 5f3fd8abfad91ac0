//! Connection URIs for the ESX driver: `esx://`, `gsx://` and `vpx://`, their extra
//! parameters (`transport`, `vcenter`, `no_verify`, `auto_answer`, `proxy`), credential
//! callbacks and libvirt-compatible `auth.conf`, and the datastore-path helpers.
//!
//! This crate is pure: it parses, validates and formats, and never touches the network
//! (the only I/O is reading an `auth.conf` file when asked to).
//!
//! ```
//! use esx_uri::{CredentialResolver, Env, EsxUri, Scheme, StaticCredentials, Transport};
//!
//! let uri: EsxUri = "esx://root@esx1.example.com/?transport=http&no_verify=1".parse()?;
//! assert_eq!(uri.scheme, Scheme::Esx);
//! assert_eq!(uri.params.transport(), Transport::Http);
//! assert_eq!(uri.soap_url(), "http://esx1.example.com:80/sdk");
//!
//! // Credentials: the URI user, then auth.conf, then ESX_USERNAME/ESX_PASSWORD, then the callback.
//! let mut answers = StaticCredentials { username: None, password: Some("secret".into()) };
//! let mut creds = CredentialResolver::new(None, Env::default(), Some(&mut answers));
//! let user = creds.username(uri.scheme, &uri.host, uri.user.as_deref())?;
//! let password = creds.password(uri.scheme, &uri.host, &user)?;
//! assert_eq!((user.as_str(), password.to_string().as_str()), ("root", "****"));
//!
//! assert!(EsxUri::parse("esx+ssh://esx1.example.com/").is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## The esx crates
//!
//! [esx-vim](https://docs.rs/esx-vim) (vSphere bindings, SOAP codec, HTTPS client) ·
//! [esx-uri](https://docs.rs/esx-uri) (`esx://`, `gsx://`, `vpx://` URIs, auth.conf) ·
//! [esx-domain](https://docs.rs/esx-domain) (libvirt domain, snapshot, pool, volume, network XML) ·
//! [esx-vmx](https://docs.rs/esx-vmx) (`.vmx` files and VMX ⇄ domain XML) ·
//! [esx-vmdk](https://docs.rs/esx-vmdk) (VMDK images, streamed) ·
//! [esx-driver](https://docs.rs/esx-driver) (the libvirt-style ESX driver) ·
//! [esx-provision](https://docs.rs/esx-provision) (Nova-style spawning from images) ·
//! [esx-guest](https://docs.rs/esx-guest) (guest agent, `machine.id`) ·
//! [esx-sim](https://docs.rs/esx-sim) (a vSphere simulator) ·
//! [esx-cli](https://docs.rs/esx-cli) (`esxsh`).

pub mod auth;
pub mod datastore;
pub mod error;
#[doc(hidden)]
pub mod fuzz;
pub mod params;
pub mod uri;

pub use auth::{
    auth_file_path, auth_file_warnings, permission_warning, AuthConfig, AuthError, Authenticator,
    CredentialKind, CredentialRequest, CredentialResolver, Env, Secret, StaticCredentials,
    ENV_AUTH_FILE, ENV_PASSWORD, ENV_USERNAME,
};
pub use datastore::{
    datetime_to_epoch, escape_base64, escape_datastore_item, windows1252_to_utf8, DatastorePath,
};
pub use error::{HelperError, UriError};
pub use params::{
    parse_fingerprint, ExtraParams, Proxy, ProxyType, Transport, VCenter, DEFAULT_PROXY_PORT,
};
pub use uri::{EsxUri, Scheme};
