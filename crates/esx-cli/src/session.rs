//! The connection a command runs against: opened on first use, with credentials as virsh gets
//! them (URI user, auth.conf, environment, then a prompt on the terminal), or the embedded host
//! for `test:///default`.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;

use esx_driver::{AuthCallback, Connection, FixedCredentials, OpenOptions};
use esx_uri::{AuthError, CredentialKind, CredentialRequest, Secret};

use crate::error::CliError;

/// The URIs that mean the embedded host.
pub fn is_embedded(uri: &str) -> bool {
    matches!(uri, "test:///default" | "test:///")
}

/// The warnings about the auth.conf the driver reads credentials from (the file libvirt would
/// read: `LIBVIRT_AUTH_FILE`, `~/.config/libvirt/auth.conf`, `/etc/libvirt/auth.conf`): one when
/// group or others may read or write it, as [`esx_uri::auth_file_warnings`] says.
pub fn auth_file_warnings() -> Vec<String> {
    esx_uri::auth_file_path(&esx_uri::Env::from_process(), std::path::Path::exists)
        .map(|path| esx_uri::auth_file_warnings(&path))
        .unwrap_or_default()
}

/// Asks for what auth.conf and the environment did not answer on the terminal: the user name
/// with its default, the password without echo. Without a terminal every request is declined
/// (the driver then fails with libvirt's "Password request failed").
#[derive(Debug, Default, Clone, Copy)]
pub struct TerminalAuth;

impl AuthCallback for TerminalAuth {
    fn ask(&self, requests: &mut [CredentialRequest]) -> Result<(), AuthError> {
        if !std::io::stdin().is_terminal() {
            return Ok(());
        }
        for r in requests {
            let answer = match r.kind {
                CredentialKind::Username => {
                    eprint!("{}: ", r.prompt);
                    let _ = std::io::stderr().flush();
                    let mut line = String::new();
                    std::io::stdin().lock().read_line(&mut line).map_err(|e| {
                        AuthError::Callback {
                            reason: e.to_string(),
                        }
                    })?;
                    let line = line.trim_end_matches(['\r', '\n']).to_string();
                    if line.is_empty() {
                        r.default.clone()
                    } else {
                        Some(line)
                    }
                }
                CredentialKind::Password | CredentialKind::ProxyPassword => Some(
                    rpassword::prompt_password(format!("{}: ", r.prompt)).map_err(|e| {
                        AuthError::Callback {
                            reason: e.to_string(),
                        }
                    })?,
                ),
            };
            r.answer = answer.map(Secret::new);
        }
        Ok(())
    }
}

/// The embedded host: an ESX-flavoured esx-sim on a loopback port, with a data directory
/// removed when it stops.
pub struct Embedded {
    handle: Option<esx_sim::Handle>,
    dir: PathBuf,
    /// The `esx://` URI the driver uses to reach it.
    pub uri: String,
    /// The credentials it accepts.
    pub auth: Arc<dyn AuthCallback>,
}

impl std::fmt::Debug for Embedded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Embedded").field("uri", &self.uri).finish()
    }
}

impl Embedded {
    /// Starts the simulator with three VMs (`vm1`..`vm3`), one datastore and one port group.
    pub async fn start() -> Result<Embedded, CliError> {
        let dir = std::env::temp_dir().join(format!(
            "esxsh-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0)
        ));
        let fail = |e: &dyn std::fmt::Display| {
            CliError::Message(format!("failed to start the embedded host: {e}"))
        };
        std::fs::create_dir_all(&dir).map_err(|e| fail(&e))?;
        // The driver takes auth.conf and ESX_PASSWORD before any callback: let the simulator
        // accept whatever they say for root on 127.0.0.1, else a password of our own.
        let configured = esx_uri::CredentialResolver::from_environment(None)
            .and_then(|mut r| r.password(esx_uri::Scheme::Esx, "127.0.0.1", "root"))
            .ok();
        let password = configured
            .as_ref()
            .map(|s| s.expose().to_string())
            .unwrap_or_else(|| format!("embedded-{}", std::process::id()));
        let mut cfg = esx_sim::Config::new(dir.join("data"));
        cfg.flavor = esx_sim::Flavor::Esx;
        cfg.inventory = esx_sim::InventorySpec::default();
        cfg.password = password.clone();
        let handle = match esx_sim::Simulator::start(cfg).await {
            Ok(h) => h,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&dir);
                return Err(fail(&e));
            }
        };
        let uri = format!("esx://root@127.0.0.1:{}/?no_verify=1", handle.addr.port());
        Ok(Embedded {
            handle: Some(handle),
            dir,
            uri,
            auth: Arc::new(FixedCredentials::new("root", password)),
        })
    }

    /// Puts the VMs in different states: `vm1` running, `vm2` paused, `vm3` shut off.
    pub async fn populate(conn: &Connection) -> Result<(), esx_driver::Error> {
        use esx_driver::HypervisorDriver;
        let vm1 = conn.domain_lookup_by_name("vm1").await?;
        conn.domain_create(&vm1).await?;
        let vm2 = conn.domain_lookup_by_name("vm2").await?;
        conn.domain_create(&vm2).await?;
        let vm2 = conn.domain_lookup_by_name("vm2").await?;
        conn.domain_suspend(&vm2).await?;
        Ok(())
    }

    /// Stops the simulator.
    pub async fn stop(&mut self) {
        if let Some(h) = self.handle.take() {
            h.shutdown().await;
        }
    }
}

impl Drop for Embedded {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// An open connection and, for `test:///default`, the host behind it.
pub struct Session {
    /// The URI as the user gave it.
    pub uri: String,
    /// The driver connection.
    pub conn: Connection,
    /// The embedded host, when there is one.
    pub embedded: Option<Embedded>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").field("uri", &self.uri).finish()
    }
}

impl Session {
    /// Opens `uri` (read-only when asked).
    pub async fn open(uri: &str, read_only: bool) -> Result<Session, CliError> {
        if is_embedded(uri) {
            let mut embedded = Embedded::start().await?;
            let options = OpenOptions {
                read_only: false,
                auth: Some(embedded.auth.clone()),
                ..OpenOptions::default()
            };
            let conn = match Connection::open(&embedded.uri, options.clone()).await {
                Ok(c) => c,
                Err(e) => {
                    embedded.stop().await;
                    return Err(CliError::connect(e));
                }
            };
            Embedded::populate(&conn).await.map_err(CliError::connect)?;
            let conn = if read_only {
                let _ = esx_driver::HypervisorDriver::connect_close(&conn).await;
                Connection::open(
                    &embedded.uri,
                    OpenOptions {
                        read_only: true,
                        ..options
                    },
                )
                .await
                .map_err(CliError::connect)?
            } else {
                conn
            };
            return Ok(Session {
                uri: uri.to_string(),
                conn,
                embedded: Some(embedded),
            });
        }
        if !(uri.starts_with("esx://") || uri.starts_with("gsx://") || uri.starts_with("vpx://")) {
            return Err(CliError::Connect(format!(
                "no connection driver available for {uri}"
            )));
        }
        let options = OpenOptions {
            read_only,
            auth: Some(Arc::new(TerminalAuth)),
            ..OpenOptions::default()
        };
        let conn = Connection::open(uri, options)
            .await
            .map_err(CliError::connect)?;
        Ok(Session {
            uri: uri.to_string(),
            conn,
            embedded: None,
        })
    }

    /// Logs out and stops the embedded host.
    pub async fn close(mut self) {
        let _ = esx_driver::HypervisorDriver::connect_close(&self.conn).await;
        if let Some(e) = self.embedded.as_mut() {
            e.stop().await;
        }
    }
}
