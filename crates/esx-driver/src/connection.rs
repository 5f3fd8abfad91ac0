//! [`Connection`]: opening an `esx://`, `gsx://` or `vpx://` URI, the shared state every call
//! uses, and closing.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use esx_domain::Uuid;
use esx_uri::{
    AuthError, Authenticator, CredentialRequest, CredentialResolver, EsxUri, ProxyType, Scheme,
    Secret,
};
use esx_vim::client::{HttpOptions, ProxyAuth, ProxyConfig, ProxyKind};
use esx_vim::ManagedObjectReference as MoRef;

use crate::context::{Context, Expect};
use crate::control::TaskControl;
use crate::error::{Error, ErrorCode, Result};

/// Answers credential requests during [`Connection::open`] (libvirt's `virConnectAuth`
/// callback). It may be called for the host and again for its vCenter.
pub trait AuthCallback: Send + Sync {
    /// Fills in the `answer` of every request it can; unanswered requests are declined.
    fn ask(&self, requests: &mut [CredentialRequest]) -> Result<(), AuthError>;
}

/// Fixed answers: a user name (optional) and a password.
#[derive(Clone)]
pub struct FixedCredentials {
    /// The user name to answer, if any (the URI's user and auth.conf come first).
    pub username: Option<String>,
    /// The password.
    pub password: Secret,
}

impl FixedCredentials {
    /// Answers `username` and `password`.
    pub fn new(username: impl Into<String>, password: impl Into<Secret>) -> Self {
        FixedCredentials {
            username: Some(username.into()),
            password: password.into(),
        }
    }
}

impl std::fmt::Debug for FixedCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FixedCredentials")
            .field("username", &self.username)
            .field("password", &"***")
            .finish()
    }
}

impl AuthCallback for FixedCredentials {
    fn ask(&self, requests: &mut [CredentialRequest]) -> Result<(), AuthError> {
        for r in requests {
            r.answer = match r.kind {
                esx_uri::CredentialKind::Username => self.username.clone().map(Secret::new),
                esx_uri::CredentialKind::Password => Some(self.password.clone()),
                // The server's password is never a proxy's.
                esx_uri::CredentialKind::ProxyPassword => None,
            };
        }
        Ok(())
    }
}

struct Adapter<'a>(&'a dyn AuthCallback);

impl Authenticator for Adapter<'_> {
    fn ask(&mut self, requests: &mut [CredentialRequest]) -> Result<(), AuthError> {
        self.0.ask(requests)
    }
}

/// How to open a connection besides its URI.
#[derive(Clone, Default)]
pub struct OpenOptions {
    /// Open read-only (libvirt's `VIR_CONNECT_RO`): every call that changes something fails
    /// with [`ErrorCode::OperationDenied`].
    pub read_only: bool,
    /// The credential callback, asked after the URI's user, auth.conf and the
    /// `ESX_USERNAME`/`ESX_PASSWORD` environment.
    pub auth: Option<Arc<dyn AuthCallback>>,
    /// Extra CA certificates (PEM) to trust besides the system's.
    pub ca_file: Option<PathBuf>,
    /// Base HTTP settings (timeouts, retries, limits); TLS verification and the proxy come
    /// from the URI.
    pub http: Option<HttpOptions>,
}

impl std::fmt::Debug for OpenOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenOptions")
            .field("read_only", &self.read_only)
            .field("auth", &self.auth.is_some())
            .field("ca_file", &self.ca_file)
            .finish_non_exhaustive()
    }
}

/// An open connection to an ESX/GSX host or a vCenter. Cheap to clone; clones share one
/// session per endpoint and may be used from many tasks at once.
#[derive(Clone)]
pub struct Connection {
    pub(crate) inner: Arc<Inner>,
    pub(crate) control: Option<Arc<TaskControl>>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("uri", &self.inner.uri.to_string())
            .field("read_only", &self.inner.read_only)
            .finish_non_exhaustive()
    }
}

/// What all clones of a connection share.
pub(crate) struct Inner {
    pub uri: EsxUri,
    pub read_only: bool,
    /// The ESX/GSX host (esx:// and gsx://).
    pub host: Option<Context>,
    /// The vCenter (vpx://, or esx://…?vcenter=).
    pub vcenter: Option<Context>,
    pub long_mode: bool,
    pub host_uuid: Option<Uuid>,
    pub max_vcpus: tokio::sync::OnceCell<u32>,
    /// UUID → VM reference, per endpoint (0: primary, 1: vCenter); verified on every use.
    pub vm_cache: [Mutex<HashMap<Uuid, MoRef>>; 2],
    pub closed: AtomicBool,
}

impl Inner {
    /// The endpoint most calls go to: the host, or the vCenter for vpx://.
    pub fn primary(&self) -> &Context {
        self.host
            .as_ref()
            .or(self.vcenter.as_ref())
            .expect("a connection has at least one endpoint")
    }
}

fn http_options(uri: &EsxUri, options: &OpenOptions) -> HttpOptions {
    let mut http = options.http.clone().unwrap_or_default();
    http.tls.no_verify = uri.params.no_verify();
    if let Some(f) = &uri.params.fingerprint {
        // `fingerprint=`: trust exactly the certificate with this SHA-256 fingerprint.
        http.tls.fingerprint = Some(f.clone());
    }
    if options.ca_file.is_some() {
        http.tls.ca_file = options.ca_file.clone();
    }
    http.proxy = uri.params.proxy.as_ref().map(|p| {
        let kind = match p.proxy_type {
            ProxyType::Http => ProxyKind::Http,
            ProxyType::Socks4 => ProxyKind::Socks4,
            ProxyType::Socks4a => ProxyKind::Socks4a,
            ProxyType::Socks5 => ProxyKind::Socks5,
        };
        ProxyConfig::new(kind, p.hostname.clone(), p.port)
    });
    http.user_agent = concat!("esx-driver/", env!("CARGO_PKG_VERSION")).to_string();
    http
}

/// The password of the `proxy=` parameter's `user@` (auth.conf's `[auth-proxy-HOST]`, else
/// the callback), put into the HTTP settings' proxy.
fn proxy_credentials(uri: &EsxUri, options: &OpenOptions, http: &mut HttpOptions) -> Result<()> {
    let Some(p) = &uri.params.proxy else {
        return Ok(());
    };
    let Some(user) = &p.username else {
        return Ok(());
    };
    let mut adapter = options.auth.as_ref().map(|a| Adapter(a.as_ref()));
    let callback = adapter.as_mut().map(|a| a as &mut dyn Authenticator);
    let mut resolver = CredentialResolver::from_environment(callback)?;
    let password = resolver.proxy_password(&p.hostname, user)?;
    if let Some(proxy) = http.proxy.take() {
        http.proxy = Some(proxy.with_auth(ProxyAuth::new(user.clone(), password.expose())));
    }
    Ok(())
}

/// User name and password for `host`, through the URI user, auth.conf, the environment and
/// the callback (in that order).
fn credentials(
    scheme: Scheme,
    host: &str,
    uri_user: Option<&str>,
    auth: Option<&Arc<dyn AuthCallback>>,
) -> Result<(String, Secret)> {
    let mut adapter = auth.map(|a| Adapter(a.as_ref()));
    let callback = adapter.as_mut().map(|a| a as &mut dyn Authenticator);
    let mut resolver = CredentialResolver::from_environment(callback)?;
    let user = resolver.username(scheme, host, uri_user)?;
    let password = resolver.password(scheme, host, &user)?;
    Ok((user, password))
}

/// The first IPv4 address of `host` (libvirt resolves with AF_INET).
async fn resolve_ipv4(host: &str) -> Result<String> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(ip.to_string());
    }
    let addrs = tokio::net::lookup_host((host, 0))
        .await
        .map_err(|e| Error::internal(format!("IP address lookup for host '{host}' failed: {e}")))?;
    for a in addrs {
        if a.is_ipv4() {
            return Ok(a.ip().to_string());
        }
    }
    Err(Error::internal(format!(
        "No IP address for host '{host}' found: no IPv4 address"
    )))
}

impl Connection {
    /// Opens `uri` (`esx://`, `gsx://` or `vpx://`) as libvirt's ESX driver does: logs in to
    /// the host (and to its vCenter with `?vcenter=`), or to the vCenter and walks the
    /// `vpx://` path to the datacenter, compute resource and host.
    pub async fn open(uri: &str, options: OpenOptions) -> Result<Connection> {
        let uri = EsxUri::parse(uri)?;
        for w in uri.warnings() {
            tracing::warn!("{w}");
        }
        let mut http = http_options(&uri, &options);
        proxy_credentials(&uri, &options, &mut http)?;
        let (host, vcenter) = match uri.scheme {
            Scheme::Esx | Scheme::Gsx => {
                let expect = if uri.scheme == Scheme::Esx {
                    Expect::Esx
                } else {
                    Expect::Gsx
                };
                let ip = resolve_ipv4(&uri.host).await?;
                let (user, password) = credentials(
                    uri.scheme,
                    &uri.host,
                    uri.user.as_deref(),
                    options.auth.as_ref(),
                )?;
                let (client, product, version) = Context::login(
                    &uri.soap_url(),
                    &uri.host,
                    expect,
                    &user,
                    password.expose(),
                    http.clone(),
                )
                .await?;
                let host = Context::locate_first(client, product, version, ip.clone()).await?;
                let vcenter = match &uri.params.vcenter {
                    None => None,
                    Some(wanted) => Some(
                        Self::open_vcenter(&uri, &options, &host, wanted, &ip, http.clone())
                            .await?,
                    ),
                };
                (Some(host), vcenter)
            }
            Scheme::Vpx => {
                if !uri.has_path() {
                    return Err(Error::invalid_arg(
                        "Path has to specify the datacenter and compute resource",
                    ));
                }
                let ip = resolve_ipv4(&uri.host).await?;
                let (user, password) = credentials(
                    uri.scheme,
                    &uri.host,
                    uri.user.as_deref(),
                    options.auth.as_ref(),
                )?;
                let (client, product, version) = Context::login(
                    &uri.soap_url(),
                    &uri.host,
                    Expect::Vpx,
                    &user,
                    password.expose(),
                    http,
                )
                .await?;
                let ctx = Context::locate_path(client, product, version, ip, &uri.path).await?;
                (None, Some(ctx))
            }
        };
        let primary = host.as_ref().or(vcenter.as_ref()).expect("one endpoint");
        let hw = primary
            .host_props(&[
                "hardware.cpuFeature",
                "hardware.systemInfo.uuid",
                "runtime.inMaintenanceMode",
            ])
            .await?;
        if hw.bool("runtime.inMaintenanceMode") == Some(true) {
            tracing::warn!("The host is in maintenance mode");
        }
        let long_mode = crate::esx::host::long_mode(&hw);
        let host_uuid = hw
            .str("hardware.systemInfo.uuid")
            .and_then(|u| u.parse::<Uuid>().ok());
        Ok(Connection {
            inner: Arc::new(Inner {
                uri,
                read_only: options.read_only,
                host,
                vcenter,
                long_mode,
                host_uuid,
                max_vcpus: tokio::sync::OnceCell::new(),
                vm_cache: [Mutex::default(), Mutex::default()],
                closed: AtomicBool::new(false),
            }),
            control: None,
        })
    }

    async fn open_vcenter(
        uri: &EsxUri,
        options: &OpenOptions,
        host: &Context,
        wanted: &esx_uri::VCenter,
        host_ip: &str,
        http: HttpOptions,
    ) -> Result<Context> {
        let summary = host.host_props(&["summary.managementServerIp"]).await?;
        let managing = summary
            .str("summary.managementServerIp")
            .filter(|s| !s.is_empty())
            .map(str::to_string);
        let vcenter_ip = match wanted {
            esx_uri::VCenter::Managing => {
                managing.ok_or_else(|| Error::internal("This host is not managed by a vCenter"))?
            }
            esx_uri::VCenter::Host(name) => {
                let ip = resolve_ipv4(name).await?;
                match &managing {
                    Some(m) if *m == ip => ip,
                    Some(m) => {
                        return Err(Error::internal(format!(
                            "This host is managed by a vCenter with IP address {m}, but a \
                             mismatching vCenter '{name}' ({ip}) has been specified"
                        )))
                    }
                    None => return Err(Error::internal("This host is not managed by a vCenter")),
                }
            }
        };
        let url = format!(
            "{}://{}:{}/sdk",
            uri.params.transport(),
            if vcenter_ip.contains(':') {
                format!("[{vcenter_ip}]")
            } else {
                vcenter_ip.clone()
            },
            uri.port()
        );
        let (user, password) = credentials(
            Scheme::Vpx,
            &vcenter_ip,
            uri.user.as_deref(),
            options.auth.as_ref(),
        )?;
        let (client, product, version) = Context::login(
            &url,
            &vcenter_ip,
            Expect::Vpx,
            &user,
            password.expose(),
            http,
        )
        .await?;
        let si = client
            .service_content()
            .search_index
            .clone()
            .ok_or_else(|| Error::internal("the vCenter's service content has no searchIndex"))?;
        let found = esx_vim::methods::find_by_ip(&*client, &si, None, host_ip.to_string(), false)
            .await?
            .ok_or_else(|| {
                Error::internal(format!(
                    "Could not find host system specified by IP address '{host_ip}' on the vCenter"
                ))
            })?;
        Context::locate_host(client, product, version, vcenter_ip, found).await
    }

    /// This connection with task progress reports and cancellation (see [`TaskControl`]).
    pub fn with_control(&self, control: TaskControl) -> Connection {
        Connection {
            inner: self.inner.clone(),
            control: Some(Arc::new(control)),
        }
    }

    /// The URI this connection was opened with (canonical form).
    pub fn uri(&self) -> String {
        self.inner.uri.to_string()
    }

    /// Whether the connection is read-only.
    pub fn is_read_only(&self) -> bool {
        self.inner.read_only
    }

    /// The product line of the primary endpoint.
    pub fn product(&self) -> crate::context::Product {
        self.inner.primary().product
    }

    /// Whether a vCenter is part of this connection.
    pub fn has_vcenter(&self) -> bool {
        self.inner.vcenter.is_some()
    }

    /// The name of the host system this connection manages.
    pub fn host_system_name(&self) -> &str {
        &self.inner.primary().host_system_name
    }

    /// Logins made by the primary endpoint's session so far (1 after open; more after
    /// recoveries from expired sessions).
    pub fn logins(&self) -> u64 {
        self.inner.primary().client.logins()
    }

    pub(crate) fn primary(&self) -> &Context {
        self.inner.primary()
    }

    /// The endpoint most calls go to (the host; the vCenter for `vpx://`), with its session
    /// and located inventory, for calling the vSphere API directly.
    pub fn endpoint(&self) -> &Context {
        self.inner.primary()
    }

    /// The vCenter endpoint, when the connection has one.
    pub fn vcenter_endpoint(&self) -> Option<&Context> {
        self.inner.vcenter.as_ref()
    }

    /// The vCenter if there is one, else the primary endpoint (libvirt uses the vCenter for
    /// power-off and unregistering when it has one).
    pub(crate) fn vcenter_or_primary(&self) -> (&Context, usize) {
        match &self.inner.vcenter {
            Some(v) if self.inner.host.is_some() => (v, 1),
            _ => (self.inner.primary(), 0),
        }
    }

    pub(crate) fn ensure_open(&self) -> Result<()> {
        if self.inner.closed.load(Ordering::SeqCst) {
            return Err(Error::invalid_op("the connection is closed"));
        }
        Ok(())
    }

    /// Fails with libvirt's read-only error when the connection is read-only.
    pub(crate) fn check_writable(&self, api: &str) -> Result<()> {
        self.ensure_open()?;
        if self.inner.read_only {
            return Err(Error::new(
                ErrorCode::OperationDenied,
                format!("read only access prevents {api}"),
            ));
        }
        Ok(())
    }

    pub(crate) fn control(&self) -> Option<&TaskControl> {
        self.control.as_deref()
    }

    /// Logs out of every endpoint; later calls fail.
    pub(crate) async fn close_all(&self) -> Result<()> {
        if self.inner.closed.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        let mut result = Ok(());
        for ctx in [self.inner.host.as_ref(), self.inner.vcenter.as_ref()]
            .into_iter()
            .flatten()
        {
            if let Err(e) = ctx.client.logout().await {
                result = Err(Error::from(e));
            }
        }
        result
    }
}
