//! Credentials: a callback in the spirit of libvirt's `virConnectAuth`, libvirt-compatible
//! `auth.conf` files, and environment variables.
//!
//! The user name is taken, in this order, from the URI, from `auth.conf`, from
//! [`ENV_USERNAME`], from the callback (proposing the scheme's default user), and finally the
//! default itself when there is no callback. The password comes from `auth.conf`, then
//! [`ENV_PASSWORD`], then the callback; without any of them it is an error.
//!
//! `auth.conf` is found like libvirt does: `LIBVIRT_AUTH_FILE`, else
//! `$XDG_CONFIG_HOME/libvirt/auth.conf` (default `~/.config/libvirt/auth.conf`) if it
//! exists, else `/etc/libvirt/auth.conf` if it exists. Inside, `[auth-SERVICE-HOST]`
//! (falling back to `[auth-SERVICE-default]`) names a `credentials=NAME` group
//! `[credentials-NAME]` with `username=` and `password=`. libvirt's ESX driver always uses the
//! service `esx`; this crate first tries the URI's scheme (`esx`, `gsx` or `vpx`) and then
//! `esx`, so files written for libvirt keep working. The host is the host name being logged
//! into, as written (the vCenter's when logging into a vCenter).
//!
//! Like ssh with a private key, [`AuthConfig::load`] warns when the file is readable or
//! writable by group or others (on unix, `mode & 0o077 != 0`): the warning names the file,
//! its mode and the fix (`chmod 600 FILE`), is logged with `tracing::warn!` (once per file and
//! mode in a process) and kept in [`AuthConfig::warnings`]. The file is still used, as libvirt
//! does.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// Environment variable with a user name for every host.
pub const ENV_USERNAME: &str = "ESX_USERNAME";
/// Environment variable with a password for every host.
pub const ENV_PASSWORD: &str = "ESX_PASSWORD";
/// Environment variable naming the auth.conf file (libvirt's).
pub const ENV_AUTH_FILE: &str = "LIBVIRT_AUTH_FILE";
/// The system-wide auth.conf.
pub const SYSTEM_AUTH_FILE: &str = "/etc/libvirt/auth.conf";

/// A password or passphrase. `Debug` and `Display` print `****`; read it with
/// [`Secret::expose`] only where it is sent.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The secret text.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("****")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("****")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Secret {
        Secret(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Secret {
        Secret(value.to_owned())
    }
}

/// What a credential request asks for (libvirt's `VIR_CRED_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CredentialKind {
    /// A user name (`VIR_CRED_AUTHNAME`), may be echoed.
    Username,
    /// A password (`VIR_CRED_PASSPHRASE`/`NOECHOPROMPT`), never echoed.
    Password,
    /// The password of the `proxy=` parameter's user (an esx extension), never echoed. A
    /// separate kind so that a callback holding the server's password does not hand it to
    /// a proxy: [`StaticCredentials`] leaves it unanswered.
    ProxyPassword,
}

/// One question to the [`Authenticator`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialRequest {
    /// What is asked.
    pub kind: CredentialKind,
    /// A prompt for a person, e.g. `Enter username for esx1.example.com [root]`.
    pub prompt: String,
    /// The host name being logged into, so the callback can tell ESX from vCenter.
    pub challenge: String,
    /// The answer proposed when the user gives none.
    pub default: Option<String>,
    /// The answer, filled in by the callback.
    pub answer: Option<Secret>,
}

/// Answers credential requests, like libvirt's `virConnectAuth` callback.
pub trait Authenticator {
    /// Fills in `answer` of every request it can answer. Requests left unanswered are
    /// treated as declined.
    fn ask(&mut self, requests: &mut [CredentialRequest]) -> Result<(), AuthError>;
}

/// An [`Authenticator`] with fixed answers (for scripts and tests).
#[derive(Debug, Clone, Default)]
pub struct StaticCredentials {
    /// The user name to answer, if any.
    pub username: Option<String>,
    /// The password to answer, if any.
    pub password: Option<Secret>,
}

impl Authenticator for StaticCredentials {
    fn ask(&mut self, requests: &mut [CredentialRequest]) -> Result<(), AuthError> {
        for request in requests {
            request.answer = match request.kind {
                CredentialKind::Username => self.username.clone().map(Secret),
                CredentialKind::Password => self.password.clone(),
                CredentialKind::ProxyPassword => None,
            };
        }
        Ok(())
    }
}

/// Credential failures. No variant ever carries a password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// No user name could be obtained (libvirt's text).
    #[error("Username request failed")]
    UsernameRequestFailed,
    /// No password could be obtained (libvirt's text).
    #[error("Password request failed")]
    PasswordRequestFailed,
    /// The callback refused.
    #[error("credential callback failed: {reason}")]
    Callback {
        /// Why.
        reason: String,
    },
    /// auth.conf could not be read.
    #[error("cannot read auth file '{path}': {reason}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        reason: String,
    },
    /// auth.conf has a line that is not a group, key=value, comment or blank.
    #[error("auth file '{path}' line {line}: {reason}")]
    Syntax {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// An `[auth-...]` group without `credentials=` (libvirt's text).
    #[error("Missing item 'credentials' in group '{group}' in '{path}'")]
    MissingCredentialsItem {
        /// The auth group.
        group: String,
        /// The file.
        path: PathBuf,
    },
    /// `credentials=NAME` without a `[credentials-NAME]` group (libvirt's text).
    #[error("Missing group 'credentials-{name}' referenced from group '{group}' in '{path}'")]
    MissingCredentialsGroup {
        /// The credentials name.
        name: String,
        /// The auth group.
        group: String,
        /// The file.
        path: PathBuf,
    },
}

/// A snapshot of environment variables, so lookups are testable without touching the
/// process environment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Env {
    vars: HashMap<String, String>,
}

impl Env {
    /// The current process environment (variables that are valid UTF-8).
    pub fn from_process() -> Env {
        Env {
            vars: std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .collect(),
        }
    }

    /// An environment with exactly these variables.
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Env {
        Env {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    /// A variable's value, if set and not empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

/// Where libvirt would read auth.conf from; `exists` decides whether a candidate file exists.
/// `LIBVIRT_AUTH_FILE` is returned even if the file does not exist (as libvirt does).
pub fn auth_file_path(env: &Env, exists: impl Fn(&Path) -> bool) -> Option<PathBuf> {
    if let Some(path) = env.get(ENV_AUTH_FILE) {
        return Some(PathBuf::from(path));
    }
    let user_dir = env
        .get("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| env.get("HOME").map(|home| Path::new(home).join(".config")));
    if let Some(dir) = user_dir {
        let path = dir.join("libvirt").join("auth.conf");
        if exists(&path) {
            return Some(path);
        }
    }
    let system = PathBuf::from(SYSTEM_AUTH_FILE);
    exists(&system).then_some(system)
}

/// The warning for an auth.conf at `path` with permission bits `mode` when group or others
/// may read or write it (`mode & 0o077 != 0`), as ssh warns about a private key; `None` when
/// only its owner may.
///
/// ```
/// use std::path::Path;
/// let w = esx_uri::auth::permission_warning(Path::new("/home/u/auth.conf"), 0o644).unwrap();
/// assert!(w.contains("'/home/u/auth.conf'") && w.contains("0644") && w.contains("chmod 600 /home/u/auth.conf"));
/// assert_eq!(esx_uri::auth::permission_warning(Path::new("a.conf"), 0o600), None);
/// ```
pub fn permission_warning(path: &Path, mode: u32) -> Option<String> {
    if mode & 0o077 == 0 {
        return None;
    }
    Some(format!(
        "permissions {:04o} for auth file '{}' are too open: it holds passwords that others \
         than its owner can read or change; it is used anyway, but fix it with: chmod 600 {}",
        mode & 0o7777,
        path.display(),
        shell_quote(&path.to_string_lossy()),
    ))
}

/// `text` as one shell word: as is when it has only safe characters, else single-quoted.
fn shell_quote(text: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "/._-+@%:,=".contains(c);
    if !text.is_empty() && text.chars().all(safe) {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

/// The warnings about the auth.conf file at `path` itself (on unix, [`permission_warning`]
/// for its mode); none when it cannot be examined or elsewhere than on unix. Nothing is
/// logged: [`AuthConfig::load`] logs.
pub fn auth_file_warnings(path: &Path) -> Vec<String> {
    std::fs::metadata(path)
        .map(|m| metadata_warnings(path, &m))
        .unwrap_or_default()
}

#[cfg(unix)]
fn metadata_warnings(path: &Path, metadata: &std::fs::Metadata) -> Vec<String> {
    use std::os::unix::fs::PermissionsExt;
    permission_warning(path, metadata.permissions().mode())
        .into_iter()
        .collect()
}

#[cfg(not(unix))]
fn metadata_warnings(_path: &Path, _metadata: &std::fs::Metadata) -> Vec<String> {
    Vec::new()
}

/// Logs `warning` about `path` with `tracing::warn!`, once per process for the same text (so
/// once per file and mode).
fn log_once(warning: &str) {
    static LOGGED: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let mut logged = LOGGED.lock().unwrap_or_else(|e| e.into_inner());
    if !logged.iter().any(|w| w == warning) {
        logged.push(warning.to_owned());
        tracing::warn!("{warning}");
    }
}

/// A parsed auth.conf (GKeyFile syntax: `[group]`, `key=value`, `#` comments). `Debug`
/// prints `****` for every `password` value.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct AuthConfig {
    path: PathBuf,
    groups: Vec<(String, Vec<(String, String)>)>,
    warnings: Vec<String>,
}

impl fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Entries<'a>(&'a [(String, String)]);
        impl fmt::Debug for Entries<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_map()
                    .entries(self.0.iter().map(|(k, v)| {
                        let v = if k == "password" { "****" } else { v.as_str() };
                        (k, v)
                    }))
                    .finish()
            }
        }
        f.debug_struct("AuthConfig")
            .field("path", &self.path)
            .field(
                "groups",
                &self
                    .groups
                    .iter()
                    .map(|(name, entries)| (name, Entries(entries)))
                    .collect::<Vec<_>>(),
            )
            .field("warnings", &self.warnings)
            .finish()
    }
}

impl AuthConfig {
    /// Reads and parses a file. A file that group or others may read or write is used, with
    /// a warning (see [`permission_warning`]) logged and kept in [`AuthConfig::warnings`].
    pub fn load(path: &Path) -> Result<AuthConfig, AuthError> {
        let read = |e: std::io::Error| AuthError::Read {
            path: path.to_owned(),
            reason: e.to_string(),
        };
        let file = std::fs::File::open(path).map_err(read)?;
        // The mode of the file actually opened, not of whatever the path names later.
        let warnings = file
            .metadata()
            .map(|m| metadata_warnings(path, &m))
            .unwrap_or_default();
        let text = std::io::read_to_string(file).map_err(read)?;
        for w in &warnings {
            log_once(w);
        }
        let mut config = AuthConfig::parse(path, &text)?;
        config.warnings = warnings;
        Ok(config)
    }

    /// The file's path (as given to [`AuthConfig::load`] or [`AuthConfig::parse`]).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Warnings about the file found by [`AuthConfig::load`]: one when group or others may
    /// read or write it. Empty for a parsed text.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Parses `text`; `path` is only used in messages.
    pub fn parse(path: &Path, text: &str) -> Result<AuthConfig, AuthError> {
        let mut groups: Vec<(String, Vec<(String, String)>)> = Vec::new();
        let syntax = |line: usize, reason: String| AuthError::Syntax {
            path: path.to_owned(),
            line,
            reason,
        };
        for (index, raw) in text.lines().enumerate() {
            let line = raw.trim_start();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some(rest) = line.strip_prefix('[') {
                let name = rest
                    .trim_end()
                    .strip_suffix(']')
                    .ok_or_else(|| syntax(index + 1, format!("group header '{raw}' lacks ']'")))?;
                groups.push((name.to_owned(), Vec::new()));
                continue;
            }
            let (key, value) = line.split_once('=').ok_or_else(|| {
                syntax(
                    index + 1,
                    "line is not a group, key=value or comment".into(),
                )
            })?;
            let (_, entries) = groups
                .last_mut()
                .ok_or_else(|| syntax(index + 1, "key=value before the first [group]".into()))?;
            entries.push((key.trim().to_owned(), unescape_value(value.trim_start())));
        }
        Ok(AuthConfig {
            path: path.to_owned(),
            groups,
            warnings: Vec::new(),
        })
    }

    fn group(&self, name: &str) -> Option<&[(String, String)]> {
        self.groups
            .iter()
            .rev()
            .find(|(g, _)| g == name)
            .map(|(_, entries)| entries.as_slice())
    }

    fn value<'a>(entries: &'a [(String, String)], key: &str) -> Option<&'a str> {
        entries
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// libvirt's `virAuthConfigLookup`: `credname` (`username` or `password`) for `service`
    /// on `hostname`, via `[auth-SERVICE-HOST]` or `[auth-SERVICE-default]`.
    pub fn lookup(
        &self,
        service: &str,
        hostname: &str,
        credname: &str,
    ) -> Result<Option<String>, AuthError> {
        let mut group_name = format!("auth-{service}-{hostname}");
        if self.group(&group_name).is_none() {
            group_name = format!("auth-{service}-default");
        }
        let Some(group) = self.group(&group_name) else {
            return Ok(None);
        };
        let name =
            Self::value(group, "credentials").ok_or_else(|| AuthError::MissingCredentialsItem {
                group: group_name.clone(),
                path: self.path.clone(),
            })?;
        let credentials = self.group(&format!("credentials-{name}")).ok_or_else(|| {
            AuthError::MissingCredentialsGroup {
                name: name.to_owned(),
                group: group_name.clone(),
                path: self.path.clone(),
            }
        })?;
        Ok(Self::value(credentials, credname).map(str::to_owned))
    }

    /// [`AuthConfig::lookup`] with this crate's service order: the scheme, then `esx`.
    pub fn lookup_for(
        &self,
        scheme: &str,
        hostname: &str,
        credname: &str,
    ) -> Result<Option<String>, AuthError> {
        if let Some(found) = self.lookup(scheme, hostname, credname)? {
            return Ok(Some(found));
        }
        if scheme != "esx" {
            return self.lookup("esx", hostname, credname);
        }
        Ok(None)
    }
}

/// GKeyFile value escapes: `\s`, `\n`, `\t`, `\r`, `\\`.
fn unescape_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('s') => out.push(' '),
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('\\') => out.push('\\'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// Obtains user names and passwords from the sources in the module's order.
pub struct CredentialResolver<'a> {
    config: Option<AuthConfig>,
    env: Env,
    callback: Option<&'a mut dyn Authenticator>,
}

impl fmt::Debug for CredentialResolver<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CredentialResolver")
            .field("config", &self.config.as_ref().map(|c| c.path.clone()))
            .field("callback", &self.callback.is_some())
            .finish_non_exhaustive()
    }
}

impl<'a> CredentialResolver<'a> {
    /// A resolver over an optional auth.conf, an environment and an optional callback.
    pub fn new(
        config: Option<AuthConfig>,
        env: Env,
        callback: Option<&'a mut dyn Authenticator>,
    ) -> CredentialResolver<'a> {
        CredentialResolver {
            config,
            env,
            callback,
        }
    }

    /// A resolver over the process environment and the auth.conf libvirt would read.
    pub fn from_environment(
        callback: Option<&'a mut dyn Authenticator>,
    ) -> Result<CredentialResolver<'a>, AuthError> {
        let env = Env::from_process();
        let config = match auth_file_path(&env, Path::exists) {
            Some(path) => Some(AuthConfig::load(&path)?),
            None => None,
        };
        Ok(CredentialResolver::new(config, env, callback))
    }

    /// The warnings about the auth.conf in use (see [`AuthConfig::warnings`]).
    pub fn warnings(&self) -> &[String] {
        self.config.as_ref().map_or(&[], AuthConfig::warnings)
    }

    /// The user name for `hostname` on a `scheme` connection; `uri_user` wins if given.
    pub fn username(
        &mut self,
        scheme: crate::Scheme,
        hostname: &str,
        uri_user: Option<&str>,
    ) -> Result<String, AuthError> {
        if let Some(user) = uri_user {
            return Ok(user.to_owned());
        }
        if let Some(config) = &self.config {
            if let Some(user) = config.lookup_for(scheme.as_str(), hostname, "username")? {
                return Ok(user);
            }
        }
        if let Some(user) = self.env.get(ENV_USERNAME) {
            return Ok(user.to_owned());
        }
        let default = scheme.default_username();
        let Some(callback) = self.callback.as_deref_mut() else {
            return Ok(default.to_owned());
        };
        let mut requests = [CredentialRequest {
            kind: CredentialKind::Username,
            prompt: format!("Enter username for {hostname} [{default}]"),
            challenge: hostname.to_owned(),
            default: Some(default.to_owned()),
            answer: None,
        }];
        callback.ask(&mut requests)?;
        let [request] = requests;
        match request.answer {
            Some(answer) if answer.expose().is_empty() => Ok(default.to_owned()),
            Some(answer) => Ok(answer.0),
            None => Err(AuthError::UsernameRequestFailed),
        }
    }

    /// The password of `username` on `hostname` for a `scheme` connection.
    pub fn password(
        &mut self,
        scheme: crate::Scheme,
        hostname: &str,
        username: &str,
    ) -> Result<Secret, AuthError> {
        if let Some(config) = &self.config {
            if let Some(password) = config.lookup_for(scheme.as_str(), hostname, "password")? {
                return Ok(Secret(password));
            }
        }
        if let Some(password) = self.env.get(ENV_PASSWORD) {
            return Ok(Secret::new(password));
        }
        self.ask_password(
            CredentialKind::Password,
            format!("Enter {username}'s password for {hostname}"),
            hostname,
        )
    }

    /// The password of `username` on the proxy `hostname` (a `proxy=` with `user@`): from
    /// auth.conf's `[auth-proxy-HOSTNAME]` (or `[auth-proxy-default]`) section, else from the
    /// callback. Never from the environment, whose password is the server's.
    pub fn proxy_password(&mut self, hostname: &str, username: &str) -> Result<Secret, AuthError> {
        if let Some(config) = &self.config {
            if let Some(password) = config.lookup("proxy", hostname, "password")? {
                return Ok(Secret(password));
            }
        }
        self.ask_password(
            CredentialKind::ProxyPassword,
            format!("Enter {username}'s password for proxy {hostname}"),
            hostname,
        )
    }

    /// Asks the callback for one password of `kind`; without a callback or an answer it is
    /// libvirt's "Password request failed".
    fn ask_password(
        &mut self,
        kind: CredentialKind,
        prompt: String,
        hostname: &str,
    ) -> Result<Secret, AuthError> {
        let callback = self
            .callback
            .as_deref_mut()
            .ok_or(AuthError::PasswordRequestFailed)?;
        let mut requests = [CredentialRequest {
            kind,
            prompt,
            challenge: hostname.to_owned(),
            default: None,
            answer: None,
        }];
        callback.ask(&mut requests)?;
        let [request] = requests;
        request.answer.ok_or(AuthError::PasswordRequestFailed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Scheme;

    const CONF: &str = "# test\n[credentials-lab]\nusername=root\npassword=s3cr\\set\n\n\
        [credentials-vc]\nusername = administrator@vsphere.local\npassword=vcpass\n\
        [auth-esx-esx1.lab]\ncredentials=lab\n[auth-vpx-vc.lab]\ncredentials=vc\n\
        [auth-esx-default]\ncredentials=lab\n[auth-gsx-broken]\n[auth-gsx-dangling]\ncredentials=nope\n";

    fn config() -> AuthConfig {
        AuthConfig::parse(Path::new("/test/auth.conf"), CONF).unwrap()
    }

    #[test]
    fn secrets_never_print() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s} {s:?}"), "**** ****");
        let c = StaticCredentials {
            username: None,
            password: Some(s),
        };
        assert!(!format!("{c:?}").contains("hunter2"));
        let config = AuthConfig::parse(
            Path::new("a.conf"),
            "[credentials-x]\nusername=me\npassword=hunter2\n",
        )
        .unwrap();
        let debug = format!(
            "{config:?} {:?}",
            CredentialResolver::new(Some(config.clone()), Env::default(), None)
        );
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(
            debug.contains(r#""username": "me", "password": "****""#),
            "{debug}"
        );
    }

    #[test]
    fn proxy_passwords_come_from_their_own_section_or_the_callback() {
        let text = format!(
            "{CONF}[credentials-px]\npassword=proxypass\n[auth-proxy-px.lab]\ncredentials=px\n"
        );
        let with_proxy = AuthConfig::parse(Path::new("/test/auth.conf"), &text).unwrap();
        let env = Env::from_pairs([(ENV_PASSWORD, "server-password")]);
        let mut r = CredentialResolver::new(Some(with_proxy), env.clone(), None);
        assert_eq!(
            r.proxy_password("px.lab", "alice").unwrap().expose(),
            "proxypass"
        );
        // Neither the server's sections (auth-esx-default matches any host) nor the
        // environment's server password stand in for a proxy's.
        assert!(matches!(
            r.proxy_password("other.lab", "alice"),
            Err(AuthError::PasswordRequestFailed)
        ));
        // A callback holding the server's password does not answer for the proxy.
        let mut server_only = StaticCredentials {
            username: None,
            password: Some(Secret::new("server-password")),
        };
        let mut r = CredentialResolver::new(Some(config()), env.clone(), Some(&mut server_only));
        assert!(matches!(
            r.proxy_password("px.lab", "alice"),
            Err(AuthError::PasswordRequestFailed)
        ));
        struct Typed(Vec<CredentialRequest>);
        impl Authenticator for Typed {
            fn ask(&mut self, requests: &mut [CredentialRequest]) -> Result<(), AuthError> {
                for r in requests.iter_mut() {
                    r.answer = Some(Secret::new("typed"));
                    self.0.push(r.clone());
                }
                Ok(())
            }
        }
        let mut typed = Typed(Vec::new());
        let mut r = CredentialResolver::new(Some(config()), env, Some(&mut typed));
        assert_eq!(
            r.proxy_password("px.lab", "alice").unwrap().expose(),
            "typed"
        );
        assert_eq!(typed.0[0].kind, CredentialKind::ProxyPassword);
        assert_eq!(typed.0[0].prompt, "Enter alice's password for proxy px.lab");
    }

    #[test]
    fn lookup_follows_libvirt() {
        let c = config();
        assert_eq!(
            c.lookup("esx", "esx1.lab", "password").unwrap().as_deref(),
            Some("s3cr et")
        );
        assert_eq!(
            c.lookup("esx", "other", "username").unwrap().as_deref(),
            Some("root")
        );
        assert_eq!(
            c.lookup("vpx", "vc.lab", "username").unwrap().as_deref(),
            Some("administrator@vsphere.local")
        );
        assert_eq!(c.lookup("vpx", "other", "username").unwrap(), None);
        assert_eq!(
            c.lookup_for("vpx", "other", "username").unwrap().as_deref(),
            Some("root")
        );
        assert_eq!(
            c.lookup("gsx", "broken", "username")
                .unwrap_err()
                .to_string(),
            "Missing item 'credentials' in group 'auth-gsx-broken' in '/test/auth.conf'"
        );
        assert_eq!(
            c.lookup("gsx", "dangling", "username").unwrap_err().to_string(),
            "Missing group 'credentials-nope' referenced from group 'auth-gsx-dangling' in '/test/auth.conf'"
        );
    }

    #[test]
    fn syntax_errors_name_the_line() {
        let err = AuthConfig::parse(Path::new("a.conf"), "[x]\nnot a pair\n").unwrap_err();
        assert!(matches!(err, AuthError::Syntax { line: 2, .. }));
        assert!(AuthConfig::parse(Path::new("a.conf"), "k=v\n").is_err());
        assert!(AuthConfig::parse(Path::new("a.conf"), "[x\n").is_err());
    }

    #[test]
    fn auth_file_search_order() {
        let env = Env::from_pairs([("LIBVIRT_AUTH_FILE", "/x/auth.conf"), ("HOME", "/home/u")]);
        assert_eq!(auth_file_path(&env, |_| false), Some("/x/auth.conf".into()));
        let env = Env::from_pairs([("XDG_CONFIG_HOME", "/cfg"), ("HOME", "/home/u")]);
        assert_eq!(
            auth_file_path(&env, |_| true),
            Some("/cfg/libvirt/auth.conf".into())
        );
        let env = Env::from_pairs([("HOME", "/home/u")]);
        assert_eq!(
            auth_file_path(&env, |_| true),
            Some("/home/u/.config/libvirt/auth.conf".into())
        );
        assert_eq!(
            auth_file_path(&env, |p| p == Path::new("/etc/libvirt/auth.conf")),
            Some("/etc/libvirt/auth.conf".into())
        );
        assert_eq!(auth_file_path(&env, |_| false), None);
    }

    #[test]
    fn resolver_order() {
        // URI user beats everything; auth.conf beats env; env beats the callback.
        let env = Env::from_pairs([(ENV_USERNAME, "envuser"), (ENV_PASSWORD, "envpass")]);
        let mut r = CredentialResolver::new(Some(config()), env.clone(), None);
        assert_eq!(
            r.username(Scheme::Esx, "esx1.lab", Some("me")).unwrap(),
            "me"
        );
        assert_eq!(
            r.username(Scheme::Vpx, "vc.lab", None).unwrap(),
            "administrator@vsphere.local"
        );
        assert_eq!(
            r.password(Scheme::Esx, "esx1.lab", "root")
                .unwrap()
                .expose(),
            "s3cr et"
        );
        let mut r = CredentialResolver::new(None, env, None);
        assert_eq!(r.username(Scheme::Esx, "h", None).unwrap(), "envuser");
        assert_eq!(
            r.password(Scheme::Esx, "h", "u").unwrap().expose(),
            "envpass"
        );
    }

    #[test]
    fn callback_gets_the_hostname_as_challenge() {
        struct Recorder(Vec<CredentialRequest>);
        impl Authenticator for Recorder {
            fn ask(&mut self, requests: &mut [CredentialRequest]) -> Result<(), AuthError> {
                for r in requests.iter_mut() {
                    r.answer = Some(match r.kind {
                        CredentialKind::Username => Secret::new(""),
                        CredentialKind::Password | CredentialKind::ProxyPassword => {
                            Secret::new("pw")
                        }
                    });
                    self.0.push(r.clone());
                }
                Ok(())
            }
        }
        let mut rec = Recorder(Vec::new());
        {
            let mut r = CredentialResolver::new(None, Env::default(), Some(&mut rec));
            assert_eq!(
                r.username(Scheme::Vpx, "vc.lab", None).unwrap(),
                "administrator@vsphere.local"
            );
            assert_eq!(
                r.password(Scheme::Vpx, "vc.lab", "admin").unwrap().expose(),
                "pw"
            );
        }
        assert_eq!(rec.0.len(), 2);
        assert!(rec.0.iter().all(|r| r.challenge == "vc.lab"));
        assert_eq!(
            rec.0[0].default.as_deref(),
            Some("administrator@vsphere.local")
        );
        assert_eq!(rec.0[1].kind, CredentialKind::Password);

        let mut none = StaticCredentials::default();
        let mut r = CredentialResolver::new(None, Env::default(), Some(&mut none));
        assert_eq!(
            r.username(Scheme::Esx, "h", None),
            Err(AuthError::UsernameRequestFailed)
        );
        assert_eq!(
            r.password(Scheme::Esx, "h", "root")
                .unwrap_err()
                .to_string(),
            "Password request failed"
        );
        let mut r = CredentialResolver::new(None, Env::default(), None);
        assert_eq!(r.username(Scheme::Gsx, "h", None).unwrap(), "root");
        assert_eq!(
            r.password(Scheme::Gsx, "h", "root"),
            Err(AuthError::PasswordRequestFailed)
        );
    }

    #[cfg(unix)]
    #[test]
    fn open_auth_files_warn_like_ssh() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("esx-uri-auth-mode-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("auth.conf");
        std::fs::write(&path, CONF).unwrap();
        for (mode, warns) in [
            (0o644, true),
            (0o640, true),
            (0o604, true),
            (0o620, true),
            (0o600, false),
            (0o400, false),
        ] {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
            let config = AuthConfig::load(&path).unwrap();
            // The file is used whatever its mode.
            assert_eq!(
                config
                    .lookup("esx", "esx1.lab", "password")
                    .unwrap()
                    .as_deref(),
                Some("s3cr et")
            );
            assert_eq!(config.warnings(), auth_file_warnings(&path).as_slice());
            let resolver = CredentialResolver::new(Some(config.clone()), Env::default(), None);
            assert_eq!(resolver.warnings(), config.warnings());
            if !warns {
                assert!(
                    config.warnings().is_empty(),
                    "{mode:o}: {:?}",
                    config.warnings()
                );
                continue;
            }
            let [warning] = config.warnings() else {
                panic!("{mode:o}: {:?}", config.warnings());
            };
            assert_eq!(
                *warning,
                format!(
                    "permissions {mode:04o} for auth file '{p}' are too open: it holds passwords \
                     that others than its owner can read or change; it is used anyway, but fix \
                     it with: chmod 600 {p}",
                    p = path.display()
                )
            );
            assert!(!warning.contains("s3cr"), "{warning}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn permission_warning_quotes_the_path_for_the_shell() {
        let w = permission_warning(Path::new("/tmp/my dir/it's.conf"), 0o100666).unwrap();
        assert!(
            w.starts_with("permissions 0666 for auth file '/tmp/my dir/it's.conf'"),
            "{w}"
        );
        assert!(w.ends_with("chmod 600 '/tmp/my dir/it'\\''s.conf'"), "{w}");
        assert_eq!(permission_warning(Path::new("x"), 0o100600), None);
        assert_eq!(permission_warning(Path::new("x"), 0o700), None);
        assert!(permission_warning(Path::new("x"), 0o602).is_some());
        assert!(auth_file_warnings(Path::new("/nonexistent/auth.conf")).is_empty());
        assert!(AuthConfig::parse(Path::new("x"), CONF)
            .unwrap()
            .warnings()
            .is_empty());
    }

    #[test]
    fn peers_example_file() {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/peers/libvirt-auth.conf");
        if !path.exists() {
            eprintln!("SKIPPED: {} not found", path.display());
            return;
        }
        let c = AuthConfig::load(&path).unwrap();
        let mut r = CredentialResolver::new(Some(c), Env::default(), None);
        assert_eq!(r.username(Scheme::Esx, "127.0.0.1", None).unwrap(), "root");
        assert_eq!(
            r.password(Scheme::Vpx, "127.0.0.1", "root")
                .unwrap()
                .expose(),
            "pass"
        );
    }
}
