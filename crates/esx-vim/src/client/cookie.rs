//! A minimal cookie jar: one endpoint, cookies kept by name, attributes ignored.

use std::sync::Mutex;

/// The name of the cookie vSphere uses for the SOAP session.
pub const SESSION_COOKIE: &str = "vmware_soap_session";

/// Cookies set by one server, replayed on every request to it.
#[derive(Debug, Default)]
pub(crate) struct CookieJar {
    cookies: Mutex<Vec<(String, String)>>,
}

impl CookieJar {
    /// Stores the `name=value` part of one `Set-Cookie` header value.
    pub(crate) fn store_set_cookie(&self, header: &str) {
        let pair = header.split(';').next().unwrap_or_default();
        let Some((name, value)) = pair.split_once('=') else {
            return;
        };
        let name = name.trim();
        if name.is_empty() {
            return;
        }
        self.set(name, Some(value.trim()));
    }

    /// Sets (or with `None` removes) the cookie `name`.
    pub(crate) fn set(&self, name: &str, value: Option<&str>) {
        let mut jar = self.cookies.lock().unwrap_or_else(|p| p.into_inner());
        jar.retain(|(n, _)| n != name);
        if let Some(v) = value {
            jar.push((name.to_string(), v.to_string()));
        }
    }

    /// The value of cookie `name`, if set.
    pub(crate) fn get(&self, name: &str) -> Option<String> {
        let jar = self.cookies.lock().unwrap_or_else(|p| p.into_inner());
        jar.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone())
    }

    /// The `Cookie` request header value, or `None` when the jar is empty.
    pub(crate) fn header(&self) -> Option<String> {
        let jar = self.cookies.lock().unwrap_or_else(|p| p.into_inner());
        if jar.is_empty() {
            return None;
        }
        Some(
            jar.iter()
                .map(|(n, v)| format!("{n}={v}"))
                .collect::<Vec<_>>()
                .join("; "),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_session_cookie_and_replaces_it() {
        let jar = CookieJar::default();
        assert_eq!(jar.header(), None);
        jar.store_set_cookie("vmware_soap_session=\"abc\"; Path=/; HttpOnly; Secure;");
        assert_eq!(jar.get(SESSION_COOKIE).as_deref(), Some("\"abc\""));
        jar.store_set_cookie("other=1");
        jar.store_set_cookie("vmware_soap_session=\"def\"; Path=/");
        assert_eq!(
            jar.header().as_deref(),
            Some("other=1; vmware_soap_session=\"def\"")
        );
        jar.set("other", None);
        assert_eq!(jar.header().as_deref(), Some("vmware_soap_session=\"def\""));
    }

    #[test]
    fn ignores_malformed() {
        let jar = CookieJar::default();
        jar.store_set_cookie("no-equals-sign");
        jar.store_set_cookie("=value");
        assert_eq!(jar.header(), None);
    }
}
