//! [`Client`]: a logged-in vSphere session over [`HttpTransport`].
//!
//! Connect sequence: RetrieveServiceContent → check `about.apiType` (HostAgent or
//! VirtualCenter) and the API version → read `/sdk/vimServiceVersions.xml` for the `SOAPAction`
//! version → Login. The client is itself a [`Transport`]: every generated method called through
//! it recovers from an expired session (a `NotAuthenticated` fault) by logging in again once —
//! one Login shared by all concurrent callers — and resending the call.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::codec::soap::{self, Body};
use crate::codec::Decoder;
use crate::generated::{methods, ServiceContent, UserSession};
use crate::transport::{SoapCall, SoapReply, Transport, TransportError};
use crate::{Error, ManagedObjectReference};

use super::http::HttpTransport;
use super::options::HttpOptions;

/// Oldest API version accepted (libvirt's floor for vCenter and ESX alike).
const MIN_API_VERSION: (u32, u32) = (2, 5);

/// How to connect and log in.
#[derive(Clone, Default)]
pub struct ConnectOptions {
    /// User name for Login.
    pub user: String,
    /// Password for Login (kept in memory for re-login; never logged or printed).
    pub password: String,
    /// Locale passed to Login (`None`: the server's default).
    pub locale: Option<String>,
    /// HTTP settings: TLS, proxy, limits, retries.
    pub http: HttpOptions,
}

impl fmt::Debug for ConnectOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectOptions")
            .field("user", &self.user)
            .field("password", &"***")
            .field("locale", &self.locale)
            .field("http", &self.http)
            .finish()
    }
}

/// Which kind of endpoint answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ApiType {
    /// A standalone ESX/ESXi (or GSX) host.
    HostAgent,
    /// A vCenter server.
    VirtualCenter,
}

/// A failure of the session layer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// A vSphere call failed (transport, fault, decoding).
    #[error(transparent)]
    Vim(#[from] Error),
    /// Login was refused: wrong user name or password.
    #[error("cannot log in to '{host}' as '{user}': {message}")]
    InvalidLogin {
        /// The server.
        host: String,
        /// The user name tried.
        user: String,
        /// The server's message.
        message: String,
    },
    /// The endpoint is neither an ESX host nor a vCenter.
    #[error("expecting VI API type 'HostAgent' or 'VirtualCenter' but found '{0}'")]
    UnsupportedApiType(String),
    /// The endpoint's API version is too old or unreadable.
    #[error("expecting VI API version 2.5 or newer but found '{0}'")]
    UnsupportedVersion(String),
    /// The service content lacks a manager this client needs.
    #[error("the server's service content has no {0}")]
    MissingManager(&'static str),
    /// A task ended in error.
    #[error(transparent)]
    Task(#[from] super::task::TaskError),
}

impl From<TransportError> for ClientError {
    fn from(e: TransportError) -> Self {
        Self::Vim(Error::Transport(e))
    }
}

/// A logged-in session: the service content, the session, and transparent re-login.
pub struct Client {
    transport: Arc<HttpTransport>,
    service: ServiceContent,
    api_type: ApiType,
    user: String,
    password: String,
    locale: Option<String>,
    session: tokio::sync::Mutex<Option<UserSession>>,
    /// Incremented by every successful Login; a caller that saw a NotAuthenticated fault under
    /// epoch `e` logs in again only if the epoch is still `e`.
    epoch: AtomicU64,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("url", self.transport.url())
            .field("api_type", &self.api_type)
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

fn service_instance() -> ManagedObjectReference {
    ManagedObjectReference::new("ServiceInstance", "ServiceInstance")
}

/// Parses `major.minor[...]` into a comparable pair.
fn parse_version(v: &str) -> Option<(u32, u32)> {
    let mut parts = v.trim().split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next().map_or(Some(0), |m| m.parse().ok())?;
    Some((major, minor))
}

/// The `urn:vim25` version in a `vimServiceVersions.xml` document.
fn vim25_version(xml: &str) -> Option<String> {
    let at = xml.find("<name>urn:vim25</name>")?;
    let rest = &xml[at..];
    let start = rest.find("<version>")? + "<version>".len();
    let end = rest[start..].find("</version>")? + start;
    let v = rest[start..end].trim();
    parse_version(v).map(|_| v.to_string())
}

/// True when a reply is a SOAP fault of type `NotAuthenticated`.
fn is_not_authenticated(reply: &SoapReply) -> bool {
    if reply.status != 500 {
        return false;
    }
    let mut r = Decoder::new(&reply.body);
    matches!(soap::read_body(&mut r), Ok(Body::Fault(f)) if f.fault_name() == "NotAuthenticated")
}

impl Client {
    /// Connects to the SOAP endpoint `url` (e.g. `https://esx.example/sdk`) and logs in.
    pub async fn connect(url: &str, options: ConnectOptions) -> Result<Client, ClientError> {
        let transport = Arc::new(HttpTransport::new(url, options.http.clone())?);
        let service = methods::retrieve_service_content(&*transport, &service_instance()).await?;
        let about = &service.about;
        let api_type = match about.api_type.as_str() {
            "HostAgent" => ApiType::HostAgent,
            "VirtualCenter" => ApiType::VirtualCenter,
            other => return Err(ClientError::UnsupportedApiType(other.to_string())),
        };
        match parse_version(&about.api_version) {
            Some(v) if v >= MIN_API_VERSION => {}
            _ => return Err(ClientError::UnsupportedVersion(about.api_version.clone())),
        }
        let version = match transport.get_bytes("/sdk/vimServiceVersions.xml").await {
            Ok((200, body)) => vim25_version(&String::from_utf8_lossy(&body)),
            _ => None,
        }
        .unwrap_or_else(|| about.api_version.clone());
        transport.set_api_version(&version);
        tracing::debug!(api_type = ?api_type, version, product = %about.full_name, "connected");
        let client = Client {
            transport,
            service,
            api_type,
            user: options.user,
            password: options.password,
            locale: options.locale,
            session: tokio::sync::Mutex::new(None),
            epoch: AtomicU64::new(0),
        };
        client.relogin(0).await?;
        Ok(client)
    }

    /// The service content read at connect time.
    pub fn service_content(&self) -> &ServiceContent {
        &self.service
    }

    /// ESX host or vCenter.
    pub fn api_type(&self) -> ApiType {
        self.api_type
    }

    /// The HTTP transport (for datastore transfers and raw calls; it has no re-login).
    pub fn transport(&self) -> &Arc<HttpTransport> {
        &self.transport
    }

    /// The property collector of the service content.
    pub fn property_collector(&self) -> &ManagedObjectReference {
        &self.service.property_collector
    }

    fn session_manager(&self) -> Result<&ManagedObjectReference, ClientError> {
        self.service
            .session_manager
            .as_ref()
            .ok_or(ClientError::MissingManager("sessionManager"))
    }

    /// The current session (key, user name as the server spells it, …).
    pub async fn session(&self) -> Option<UserSession> {
        self.session.lock().await.clone()
    }

    /// How many times this client has logged in (1 after connect; more after recoveries).
    pub fn logins(&self) -> u64 {
        self.epoch.load(Ordering::SeqCst)
    }

    /// Logs in again unless another caller already did since `seen_epoch`.
    async fn relogin(&self, seen_epoch: u64) -> Result<(), ClientError> {
        let mut session = self.session.lock().await;
        if self.epoch.load(Ordering::SeqCst) != seen_epoch {
            return Ok(());
        }
        let sm = self.session_manager()?.clone();
        let result = methods::login(
            &*self.transport,
            &sm,
            self.user.clone(),
            self.password.clone(),
            self.locale.clone(),
        )
        .await;
        match result {
            Ok(s) => {
                tracing::info!(user = %s.user_name, "logged in");
                *session = Some(s);
                self.epoch.fetch_add(1, Ordering::SeqCst);
                Ok(())
            }
            Err(e) if e.is_fault("InvalidLogin") => Err(ClientError::InvalidLogin {
                host: self.transport.url().host().unwrap_or_default().to_string(),
                user: self.user.clone(),
                message: e.fault().map(|f| f.string.clone()).unwrap_or_default(),
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// Logs in again now if the session is gone; used when a reply hints at an expired
    /// session without a fault (an empty or NotAuthenticated-only property result).
    pub(crate) async fn recover_session(&self, seen_epoch: u64) -> Result<bool, ClientError> {
        if self.session_is_active().await.unwrap_or(false) {
            return Ok(false);
        }
        self.relogin(seen_epoch).await?;
        Ok(true)
    }

    /// The current login epoch (see [`Client::logins`]).
    pub(crate) fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::SeqCst)
    }

    /// Asks the server whether this client's session is still valid (`SessionIsActive`; on an
    /// ESX host that does not implement it, falls back to reading `currentSession`).
    pub async fn session_is_active(&self) -> Result<bool, ClientError> {
        let Some(session) = self.session().await else {
            return Ok(false);
        };
        let sm = self.session_manager()?;
        match methods::session_is_active(
            &*self.transport,
            sm,
            session.key.clone(),
            session.user_name.clone(),
        )
        .await
        {
            Ok(active) => Ok(active),
            Err(e) if e.is_fault("NotAuthenticated") => Ok(false),
            Err(e) if e.fault().is_some() => {
                // Not supported here (ESX): a session is active when currentSession reads back.
                let spec =
                    super::property::single_property_spec(sm, "SessionManager", "currentSession");
                let opts = crate::generated::RetrieveOptions::default();
                let res = methods::retrieve_properties_ex(
                    &*self.transport,
                    self.property_collector(),
                    vec![spec],
                    opts,
                )
                .await?;
                let active = res.is_some_and(|r| {
                    r.objects
                        .iter()
                        .any(|o| o.prop_set.iter().any(|p| p.name == "currentSession"))
                });
                Ok(active)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Logs out and closes the transport. Errors from Logout are returned but the transport
    /// is closed in any case.
    pub async fn logout(&self) -> Result<(), ClientError> {
        let result = match self.session_manager() {
            Ok(sm) => methods::logout(&*self.transport, sm)
                .await
                .map_err(ClientError::from),
            Err(e) => Err(e),
        };
        *self.session.lock().await = None;
        self.transport.close();
        result
    }
}

#[async_trait::async_trait]
impl Transport for Client {
    async fn round_trip(&self, call: SoapCall<'_>) -> Result<SoapReply, TransportError> {
        let epoch = self.epoch();
        let retry = call.clone();
        let reply = self.transport.round_trip(call).await?;
        if !is_not_authenticated(&reply) || matches!(retry.method, "Login" | "Logout") {
            return Ok(reply);
        }
        tracing::info!(method = retry.method, "session expired; logging in again");
        if let Err(e) = self.relogin(epoch).await {
            return Err(TransportError::new(
                crate::transport::TransportErrorKind::Session,
                format!("the session expired and logging in again failed: {e}"),
            ));
        }
        self.transport.round_trip(retry).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert_eq!(parse_version("6.5"), Some((6, 5)));
        assert_eq!(parse_version("8.0.3.0"), Some((8, 0)));
        assert_eq!(parse_version("7"), Some((7, 0)));
        assert_eq!(parse_version("x.1"), None);
        assert!(parse_version("2.5").is_some_and(|v| v >= MIN_API_VERSION));
        assert!(parse_version("2.0").is_some_and(|v| v < MIN_API_VERSION));
    }

    #[test]
    fn vim_service_versions() {
        let xml =
            "<namespaces version=\"1.0\"><namespace><name>urn:vim25</name><version>6.5</version>\
                   <priorVersions><version>6.0</version></priorVersions></namespace></namespaces>";
        assert_eq!(vim25_version(xml).as_deref(), Some("6.5"));
        assert_eq!(vim25_version("<namespaces/>"), None);
        assert_eq!(
            vim25_version("<name>urn:vim25</name><version>junk</version>"),
            None
        );
    }

    #[test]
    fn not_authenticated_detection() {
        let fault = br#"<?xml version="1.0"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><soapenv:Fault><faultcode>ServerFaultCode</faultcode><faultstring>session is not authenticated</faultstring><detail><NotAuthenticatedFault xmlns="urn:vim25" xsi:type="NotAuthenticated"><object type="Folder">ha-folder-root</object><privilegeId>System.View</privilegeId></NotAuthenticatedFault></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>"#;
        assert!(is_not_authenticated(&SoapReply {
            status: 500,
            body: fault.to_vec()
        }));
        assert!(!is_not_authenticated(&SoapReply {
            status: 200,
            body: fault.to_vec()
        }));
        let other = String::from_utf8_lossy(fault).replace("NotAuthenticated", "InvalidLogin");
        assert!(!is_not_authenticated(&SoapReply {
            status: 500,
            body: other.into_bytes()
        }));
    }

    #[test]
    fn options_debug_hides_password() {
        let o = ConnectOptions {
            user: "root".into(),
            password: "hunter2".into(),
            ..ConnectOptions::default()
        };
        let s = format!("{o:?}");
        assert!(s.contains("root") && !s.contains("hunter2"), "{s}");
    }
}
