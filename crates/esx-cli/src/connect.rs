//! What a conversion needs from a server (`-c esx://...`, `gsx://`, `vpx://`): the datastores
//! with their mount paths, to resolve file names as libvirt's ESX driver does, and the
//! virtualHW version libvirt writes for the server's product.

use esx_uri::{CredentialResolver, EsxUri};
use esx_vim::client::{property, Client, ConnectOptions};
use esx_vim::Any;

use crate::error::CliError;

/// The server facts the conversions use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerFacts {
    /// `(name, host mount path)` of every datastore, in the server's order.
    pub datastores: Vec<(String, String)>,
    /// libvirt's default virtualHW version for the product (`domxml-to-native`).
    pub virtual_hw: i64,
}

/// Whether `uri` names a VMware server (otherwise esxsh works offline).
pub fn is_vmware_uri(uri: &str) -> bool {
    ["esx://", "gsx://", "vpx://"]
        .iter()
        .any(|s| uri.len() >= s.len() && uri[..s.len()].eq_ignore_ascii_case(s))
}

/// libvirt's `esxVI_ProductVersionToDefaultVirtualHWVersion`: the virtualHW version for a
/// product line (`about.productLineId`) and version (`about.version`).
pub fn default_virtual_hw(product_line: &str, version: &str) -> i64 {
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let major = parts.next().unwrap_or(0);
    let minor = parts.next().unwrap_or(0);
    match product_line {
        "gsx" => 7,
        "vpx" => match (major, minor) {
            (2, _) => 4,
            (4, _) => 7,
            (5, 0..=4) => 9,
            (5, 5) | (6, _) => 10,
            _ => 8,
        },
        _ => match (major, minor) {
            (3, _) => 4,
            (4, _) => 7,
            (5, 0..=4) => 9,
            (5, _) | (6, _) => 10,
            _ => 8,
        },
    }
}

fn connect_error(uri: &str, reason: impl std::fmt::Display) -> CliError {
    CliError::Connect(format!("failed to connect to '{uri}': {reason}"))
}

/// Connect to `uri` (credentials from the URI, libvirt's `auth.conf`, `ESX_USERNAME` /
/// `ESX_PASSWORD`), read the datastores and the product, and log out.
pub fn server_facts(uri: &str) -> Result<ServerFacts, CliError> {
    let parsed = EsxUri::parse(uri).map_err(|e| connect_error(uri, e))?;
    let mut credentials =
        CredentialResolver::from_environment(None).map_err(|e| connect_error(uri, e))?;
    let user = credentials
        .username(parsed.scheme, &parsed.host, parsed.user.as_deref())
        .map_err(|e| connect_error(uri, e))?;
    let password = credentials
        .password(parsed.scheme, &parsed.host, &user)
        .map_err(|e| connect_error(uri, e))?;
    let mut options = ConnectOptions {
        user,
        password: password.expose().to_string(),
        ..ConnectOptions::default()
    };
    options.http.tls.no_verify = parsed.params.no_verify();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| connect_error(uri, e))?;
    runtime.block_on(async {
        let client = Client::connect(&parsed.soap_url(), options)
            .await
            .map_err(|e| connect_error(uri, e))?;
        let about = &client.service_content().about;
        let virtual_hw = default_virtual_hw(&about.product_line_id, &about.version);
        let objects = client
            .list_objects("Datastore", &["summary.name", "host"], None)
            .await
            .map_err(|e| connect_error(uri, e));
        let _ = client.logout().await;
        let mut datastores = Vec::new();
        for object in objects? {
            let Some(Any::String(name)) = property(&object, "summary.name") else {
                continue;
            };
            // The mount of the (first) host: on an ESX server there is one.
            let mount = match property(&object, "host") {
                Some(Any::ArrayOfDatastoreHostMount(mounts)) => mounts
                    .datastore_host_mount
                    .iter()
                    .find_map(|m| m.mount_info.path.clone())
                    .unwrap_or_default(),
                _ => String::new(),
            };
            datastores.push((name.clone(), mount));
        }
        Ok(ServerFacts {
            datastores,
            virtual_hw,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtual_hw_follows_libvirt() {
        assert_eq!(default_virtual_hw("embeddedEsx", "7.0.3"), 8);
        assert_eq!(default_virtual_hw("embeddedEsx", "6.7.0"), 10);
        assert_eq!(default_virtual_hw("esx", "5.1.0"), 9);
        assert_eq!(default_virtual_hw("esx", "4.1.0"), 7);
        assert_eq!(default_virtual_hw("vpx", "5.5.0"), 10);
        assert_eq!(default_virtual_hw("gsx", "2.0.0"), 7);
        assert!(is_vmware_uri("ESX://h/"));
        assert!(!is_vmware_uri("test:///default"));
    }
}
