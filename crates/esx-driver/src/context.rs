//! One vSphere endpoint of a connection (the ESX host, or the vCenter): its logged-in
//! session and the inventory objects the driver works in (datacenter, compute resource,
//! resource pool, host system), located as libvirt locates them.

use std::sync::Arc;

use esx_vim::client::{ApiType, Client, ConnectOptions, HttpOptions};
use esx_vim::ManagedObjectReference as MoRef;

use crate::error::{Error, ErrorCode, Result};
use crate::vi::{self, filter, prop_spec, traverse, Props};

/// The product line behind an endpoint (`about.productLineId`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Product {
    /// VMware Server (GSX).
    Gsx,
    /// ESX or ESXi.
    Esx,
    /// vCenter (VPX).
    Vpx,
}

impl Product {
    /// libvirt's name for the product line.
    pub fn as_str(self) -> &'static str {
        match self {
            Product::Gsx => "GSX",
            Product::Esx => "ESX",
            Product::Vpx => "VPX",
        }
    }
}

/// One logged-in endpoint and the inventory objects located on it, for code that calls the
/// vSphere API itself next to the driver (see [`crate::Connection::endpoint`]).
#[derive(Debug)]
pub struct Context {
    /// The logged-in session (a [`esx_vim::transport::Transport`] with re-login).
    pub client: Arc<Client>,
    /// The product line.
    pub product: Product,
    /// major×1,000,000 + minor×1,000 + micro.
    pub product_version: u64,
    /// The address the endpoint was reached at (IPv4 text when it resolved to one).
    pub ip: String,
    /// The datacenter.
    pub datacenter: MoRef,
    /// Inventory path of the datacenter (`dcPath` of `/folder` URLs).
    pub datacenter_path: String,
    /// The datacenter's VM folder.
    pub vm_folder: MoRef,
    /// The compute resource (or cluster) of the host.
    pub compute_resource: MoRef,
    /// The compute resource's root resource pool.
    pub resource_pool: MoRef,
    /// The host system.
    pub host_system: MoRef,
    /// The host system's name.
    pub host_system_name: String,
}

/// Parses `about.version` (`7.0.3`) into libvirt's number.
pub(crate) fn product_version(version: &str) -> u64 {
    let mut parts = version.split('.').map(|p| {
        p.chars()
            .take_while(|c| c.is_ascii_digit())
            .collect::<String>()
            .parse::<u64>()
            .unwrap_or(0)
    });
    let major = parts.next().unwrap_or(0);
    let minor = parts.next().unwrap_or(0);
    let micro = parts.next().unwrap_or(0);
    major * 1_000_000 + minor * 1_000 + micro
}

/// What an endpoint must be for the scheme that reached it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expect {
    /// `esx://`: ESX host.
    Esx,
    /// `gsx://`: GSX host.
    Gsx,
    /// `vpx://` or the vCenter of `?vcenter=`.
    Vpx,
}

impl Context {
    /// Logs in to `url` and checks the product line against `expect`.
    pub(crate) async fn login(
        url: &str,
        host: &str,
        expect: Expect,
        user: &str,
        password: &str,
        http: HttpOptions,
    ) -> Result<(Arc<Client>, Product, u64)> {
        let options = ConnectOptions {
            user: user.to_string(),
            password: password.to_string(),
            locale: None,
            http,
        };
        let client = Client::connect(url, options).await.map_err(|e| match e {
            esx_vim::client::ClientError::InvalidLogin { .. } => {
                Error::new(ErrorCode::AuthFailed, e.to_string()).with_source(e)
            }
            other => {
                let err: Error = other.into();
                Error::new(
                    ErrorCode::InternalError,
                    format!("cannot connect to '{host}': {}", err.message),
                )
                .with_source(err)
            }
        })?;
        let about = &client.service_content().about;
        let version = product_version(&about.version);
        let (product, min) = match about.product_line_id.as_str() {
            "gsx" => (Product::Gsx, 2_000_000),
            "esx" | "embeddedEsx" => (Product::Esx, 3_005_000),
            "vpx" => (Product::Vpx, 2_005_000),
            other => {
                return Err(Error::internal(format!(
                    "Expecting product 'gsx' or 'esx' or 'embeddedEsx' or 'vpx' but found '{other}'"
                )))
            }
        };
        if version < min {
            return Err(Error::internal(format!(
                "Expecting {} version to be at least {}.{} but found '{}'",
                product.as_str(),
                min / 1_000_000,
                (min / 1000) % 1000,
                about.version
            )));
        }
        let api_ok = match product {
            Product::Vpx => client.api_type() == ApiType::VirtualCenter,
            _ => client.api_type() == ApiType::HostAgent,
        };
        if !api_ok {
            return Err(Error::internal(format!(
                "Expecting VI API type '{}' for product '{}' but found '{}'",
                if product == Product::Vpx {
                    "VirtualCenter"
                } else {
                    "HostAgent"
                },
                about.product_line_id,
                about.api_type
            )));
        }
        let wanted = match expect {
            Expect::Esx => Product::Esx,
            Expect::Gsx => Product::Gsx,
            Expect::Vpx => Product::Vpx,
        };
        if product != wanted {
            let what = if expect == Expect::Vpx {
                "vCenter"
            } else {
                "host"
            };
            return Err(Error::internal(format!(
                "Expecting '{host}' to be a {} {what} but found a {} {what}",
                wanted.as_str(),
                product.as_str()
            )));
        }
        Ok((Arc::new(client), product, version))
    }

    /// Locates the first datacenter, compute resource and host (esx:// and gsx://).
    pub(crate) async fn locate_first(
        client: Arc<Client>,
        product: Product,
        product_version: u64,
        ip: String,
    ) -> Result<Context> {
        let root = client.service_content().root_folder.clone();
        let dcs = children(&client, &root).await?;
        let (datacenter, dc_name) = first_of(&dcs, "Datacenter")
            .ok_or_else(|| Error::internal("Could not retrieve datacenter"))?;
        let dc = vi::get(&client, &datacenter, &["vmFolder", "hostFolder"]).await?;
        let host_folder = dc
            .moref("hostFolder")
            .cloned()
            .ok_or_else(|| Error::internal("Could not retrieve datacenter"))?;
        let crs = children(&client, &host_folder).await?;
        let (compute_resource, _) = first_of(&crs, "ComputeResource")
            .or_else(|| first_of(&crs, "ClusterComputeResource"))
            .ok_or_else(|| Error::internal("Could not retrieve compute resource"))?;
        let cr = vi::get(&client, &compute_resource, &["resourcePool", "host"]).await?;
        let resource_pool = cr
            .moref("resourcePool")
            .cloned()
            .ok_or_else(|| Error::internal("Could not retrieve resource pool"))?;
        let host_system = cr
            .morefs("host")
            .into_iter()
            .next()
            .ok_or_else(|| Error::internal("Could not retrieve host system"))?;
        let host = vi::get(&client, &host_system, &["name"]).await?;
        Ok(Context {
            product,
            product_version,
            ip,
            datacenter_path: dc_name,
            vm_folder: dc
                .moref("vmFolder")
                .cloned()
                .ok_or_else(|| Error::internal("Could not retrieve datacenter"))?,
            datacenter,
            compute_resource,
            resource_pool,
            host_system_name: host.str("name").unwrap_or_default().to_string(),
            host_system,
            client,
        })
    }

    /// Walks a vpx:// path: `[folder/…]datacenter/[folder/…]computeresource[/hostsystem]`.
    pub(crate) async fn locate_path(
        client: Arc<Client>,
        product: Product,
        product_version: u64,
        ip: String,
        path: &str,
    ) -> Result<Context> {
        let items: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let mut it = items.iter().copied().peekable();
        let mut cur = client.service_content().root_folder.clone();
        let mut dc_path = Vec::new();
        let datacenter = loop {
            let Some(item) = it.next() else {
                return Err(Error::invalid_arg(format!(
                    "Path '{path}' does not specify a datacenter"
                )));
            };
            dc_path.push(item);
            let kids = children(&client, &cur).await?;
            match find_child(&kids, item, &["Folder", "Datacenter"]) {
                Some((r, "Datacenter")) => break r,
                Some((r, _)) => cur = r,
                None => {
                    return Err(Error::internal(format!(
                        "Could not find datacenter specified in '{path}'"
                    )))
                }
            }
        };
        let dc = vi::get(&client, &datacenter, &["vmFolder", "hostFolder"]).await?;
        let mut cur = dc
            .moref("hostFolder")
            .cloned()
            .ok_or_else(|| Error::internal("Could not retrieve datacenter"))?;
        let (compute_resource, is_cluster, cr_name) = loop {
            let Some(item) = it.next() else {
                return Err(Error::invalid_arg(format!(
                    "Path '{path}' does not specify a compute resource"
                )));
            };
            let kids = children(&client, &cur).await?;
            match find_child(
                &kids,
                item,
                &["Folder", "ComputeResource", "ClusterComputeResource"],
            ) {
                Some((r, "Folder")) => cur = r,
                Some((r, ty)) => break (r, ty == "ClusterComputeResource", item),
                None => {
                    return Err(Error::internal(format!(
                        "Could not find compute resource specified in '{path}'"
                    )))
                }
            }
        };
        let cr = vi::get(&client, &compute_resource, &["resourcePool", "host"]).await?;
        let resource_pool = cr
            .moref("resourcePool")
            .cloned()
            .ok_or_else(|| Error::internal("Could not retrieve resource pool"))?;
        let hosts = cr.morefs("host");
        let host_name = if is_cluster {
            it.next().ok_or_else(|| {
                Error::invalid_arg(format!("Path '{path}' does not specify a host system"))
            })?
        } else {
            cr_name
        };
        if it.next().is_some() {
            return Err(Error::invalid_arg(format!(
                "Path '{path}' ends with an excess item"
            )));
        }
        let mut host_system = None;
        for h in hosts {
            let p = vi::get(&client, &h, &["name"]).await?;
            if p.str("name") == Some(host_name) {
                host_system = Some(h);
                break;
            }
        }
        let host_system = host_system.ok_or_else(|| {
            Error::internal(format!("Could not find host system specified in '{path}'"))
        })?;
        Ok(Context {
            product,
            product_version,
            ip,
            datacenter_path: dc_path.join("/"),
            vm_folder: dc
                .moref("vmFolder")
                .cloned()
                .ok_or_else(|| Error::internal("Could not retrieve datacenter"))?,
            datacenter,
            compute_resource,
            resource_pool,
            host_system,
            host_system_name: host_name.to_string(),
            client,
        })
    }

    /// Locates the host `host_system` found on a vCenter: its compute resource, pool and
    /// datacenter (for esx://…?vcenter=).
    pub(crate) async fn locate_host(
        client: Arc<Client>,
        product: Product,
        product_version: u64,
        ip: String,
        host_system: MoRef,
    ) -> Result<Context> {
        let host = vi::get(&client, &host_system, &["name", "parent"]).await?;
        let compute_resource = host
            .moref("parent")
            .cloned()
            .ok_or_else(|| Error::internal("Could not retrieve compute resource"))?;
        let cr = vi::get(&client, &compute_resource, &["resourcePool"]).await?;
        let resource_pool = cr
            .moref("resourcePool")
            .cloned()
            .ok_or_else(|| Error::internal("Could not retrieve resource pool"))?;
        // Up the parents to the datacenter, collecting the folder names for its path.
        let mut cur = compute_resource.clone();
        let mut datacenter = None;
        for _ in 0..64 {
            let p = vi::get(&client, &cur, &["parent"]).await?;
            let Some(parent) = p.moref("parent").cloned() else {
                break;
            };
            if parent.r#type == "Datacenter" {
                datacenter = Some(parent);
                break;
            }
            cur = parent;
        }
        let datacenter =
            datacenter.ok_or_else(|| Error::internal("Could not retrieve datacenter"))?;
        let mut names = Vec::new();
        let mut cur = datacenter.clone();
        let root = client.service_content().root_folder.clone();
        for _ in 0..64 {
            if cur == root {
                break;
            }
            let p = vi::get(&client, &cur, &["name", "parent"]).await?;
            names.push(p.str("name").unwrap_or_default().to_string());
            match p.moref("parent") {
                Some(parent) => cur = parent.clone(),
                None => break,
            }
        }
        names.reverse();
        let dc = vi::get(&client, &datacenter, &["vmFolder"]).await?;
        Ok(Context {
            product,
            product_version,
            ip,
            datacenter_path: names.join("/"),
            vm_folder: dc
                .moref("vmFolder")
                .cloned()
                .ok_or_else(|| Error::internal("Could not retrieve datacenter"))?,
            datacenter,
            compute_resource,
            resource_pool,
            host_system_name: host.str("name").unwrap_or_default().to_string(),
            host_system,
            client,
        })
    }

    /// Reads `paths` of the selected host.
    pub(crate) async fn host_props(&self, paths: &[&str]) -> Result<Props> {
        vi::get(&self.client, &self.host_system, paths).await
    }
}

/// The children of a folder (or the entities of any container with `childEntity`):
/// `(reference, name)`.
async fn children(client: &Client, folder: &MoRef) -> Result<Vec<(MoRef, String)>> {
    let props = [
        "Folder",
        "Datacenter",
        "ComputeResource",
        "ClusterComputeResource",
        "HostSystem",
    ]
    .iter()
    .map(|t| prop_spec(t, &["name"]))
    .collect();
    let spec = filter(folder, true, vec![traverse("Folder", "childEntity")], props);
    Ok(vi::retrieve(client, spec)
        .await?
        .into_iter()
        .map(|p| {
            let name = p.str("name").unwrap_or_default().to_string();
            (p.0.obj, name)
        })
        .collect())
}

fn first_of(kids: &[(MoRef, String)], ty: &str) -> Option<(MoRef, String)> {
    kids.iter().find(|(r, _)| r.r#type == ty).cloned()
}

/// The child named `name` whose type is one of `types` (earlier types win, as libvirt tries
/// a folder before a datacenter).
fn find_child<'a>(
    kids: &[(MoRef, String)],
    name: &str,
    types: &[&'a str],
) -> Option<(MoRef, &'a str)> {
    for ty in types {
        if let Some((r, _)) = kids.iter().find(|(r, n)| r.r#type == *ty && n == name) {
            return Some((r.clone(), ty));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert_eq!(product_version("7.0.3"), 7_000_003);
        assert_eq!(product_version("6.5"), 6_005_000);
        assert_eq!(product_version("8.0.2u1"), 8_000_002);
        assert_eq!(product_version(""), 0);
    }
}
