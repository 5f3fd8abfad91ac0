//! Nova-style provisioning verbs (not in virsh): `spawn`, `image-export`,
//! `portgroup-ensure`, `console-ticket`, on [`esx_provision`].

use std::net::Ipv4Addr;
use std::sync::Arc;

use esx_provision::{
    AdapterType, DatastoreChoice, DiskType, ExportFormat, ImageSource, NicModel, NicSpec,
    PortGroupOutcome, Provisioner, SpawnSpec, Uplink, UrlOptions,
};
use indicatif::ProgressBar;

use super::{lookup_domain, Out};
use crate::cli::Command;
use crate::error::CliError;
use crate::session::Session;

/// A transfer bar (on a terminal) behind esx-provision's progress.
struct Bar(std::sync::Mutex<Option<ProgressBar>>);

impl esx_provision::Progress for Bar {
    fn begin(&self, what: &str, total: Option<u64>) {
        if let Ok(mut b) = self.0.lock() {
            *b = crate::progress::transfer_bar(what, total);
        }
    }
    fn advance(&self, bytes: u64) {
        if let Ok(b) = self.0.lock() {
            if let Some(b) = b.as_ref() {
                b.inc(bytes);
            }
        }
    }
    fn end(&self) {
        if let Ok(mut b) = self.0.lock() {
            if let Some(b) = b.take() {
                b.finish_and_clear();
            }
        }
    }
}

fn bar() -> Arc<dyn esx_provision::Progress> {
    Arc::new(Bar(std::sync::Mutex::new(None)))
}

fn bad(msg: impl Into<String>) -> CliError {
    CliError::msg(msg.into())
}

/// Parses `network=PG[,vlan=N][,mac=M][,ip=A/P][,gateway=G][,dns=D[;D]][,model=M]`.
pub fn parse_nic(text: &str) -> Result<NicSpec, CliError> {
    let mut nic = NicSpec::default();
    for part in text.split(',').filter(|p| !p.is_empty()) {
        let (k, v) = part
            .split_once('=')
            .ok_or_else(|| bad(format!("--nic '{text}': '{part}' is not KEY=VALUE")))?;
        let ip = |v: &str| {
            v.parse::<Ipv4Addr>()
                .map_err(|_| bad(format!("--nic '{text}': '{v}' is not an IPv4 address")))
        };
        match k {
            "network" | "pg" | "portgroup" => nic.network = v.to_string(),
            "vlan" => {
                nic.vlan = Some(
                    v.parse()
                        .ok()
                        .filter(|n| *n <= 4095)
                        .ok_or_else(|| bad(format!("--nic '{text}': VLAN '{v}' is not 0-4095")))?,
                )
            }
            "mac" => {
                nic.mac = Some(
                    v.parse()
                        .map_err(|_| bad(format!("--nic '{text}': '{v}' is not a MAC address")))?,
                )
            }
            "ip" => {
                let (a, p) = v.split_once('/').unwrap_or((v, "24"));
                let prefix =
                    p.parse::<u8>().ok().filter(|p| *p <= 32).ok_or_else(|| {
                        bad(format!("--nic '{text}': '/{p}' is not a prefix length"))
                    })?;
                nic.ipv4 = Some((ip(a)?, prefix));
            }
            "gateway" | "gw" => nic.gateway = Some(ip(v)?),
            "dns" => {
                for d in v.split([';', ' ']).filter(|d| !d.is_empty()) {
                    nic.dns.push(ip(d)?);
                }
            }
            "model" => {
                nic.model = v
                    .parse::<NicModel>()
                    .map_err(|e| bad(format!("--nic '{text}': {e}")))?
            }
            _ => return Err(bad(format!("--nic '{text}': unknown key '{k}'"))),
        }
    }
    if nic.network.is_empty() {
        return Err(bad(format!(
            "--nic '{text}': network=PORTGROUP is required"
        )));
    }
    Ok(nic)
}

fn provision_error(what: String) -> impl FnOnce(esx_provision::ProvisionError) -> CliError {
    move |e| CliError::msg(format!("{what}\nerror: {e}"))
}

/// Runs a provisioning command; `None` when `cmd` is not one.
pub async fn run(cmd: &Command, s: &Session, o: &mut Out<'_>) -> Option<Result<(), CliError>> {
    let p = Provisioner::new(s.conn.clone());
    Some(match cmd {
        Command::Spawn {
            name,
            image,
            image_id,
            vcpus,
            memory,
            guest_id,
            adapter,
            disk_type,
            datastore,
            most_free,
            nics,
            vlan_interface,
            hostname,
            no_machine_id,
            no_guestinfo,
            paused,
            insecure_image,
        } => {
            async {
                let mut spec = SpawnSpec::new(name.clone(), ImageSource::parse(image));
                spec.image_id = image_id.clone();
                spec.vcpus = *vcpus;
                spec.memory_mib = *memory;
                spec.guest_id = guest_id.clone();
                spec.adapter = match adapter {
                    Some(a) => Some(a.parse::<AdapterType>().map_err(|e| bad(e.to_string()))?),
                    None => None,
                };
                spec.disk_type = disk_type
                    .parse::<DiskType>()
                    .map_err(|e| bad(e.to_string()))?;
                spec.datastore = match (datastore, most_free) {
                    (Some(d), _) => DatastoreChoice::Named(d.clone()),
                    (None, true) => DatastoreChoice::MostFree,
                    (None, false) => DatastoreChoice::FirstVmfs,
                };
                spec.nics = nics
                    .iter()
                    .map(|n| parse_nic(n))
                    .collect::<Result<_, _>>()?;
                spec.uplink = Uplink::Nic(vlan_interface.clone());
                spec.hostname = hostname.clone();
                spec.machine_id = !no_machine_id;
                spec.guestinfo = !no_guestinfo;
                spec.power_on = !paused;
                spec.url_options = UrlOptions {
                    ca_file: None,
                    no_verify: *insecure_image,
                };
                let vm = p
                    .spawn(&spec, bar())
                    .await
                    .map_err(provision_error(format!("Failed to spawn domain '{name}'")))?;
                if o.json {
                    return o.json_value(&serde_json::json!({
                        "name": vm.domain.name,
                        "uuid": vm.domain.uuid.to_string(),
                        "id": vm.domain.id,
                        "datastore": vm.datastore,
                        "vmx": vm.vmx_path,
                        "disk": vm.disk_path,
                        "cache": matches!(vm.cache, esx_provision::CacheUse::Hit),
                        "macs": vm.macs.iter().map(|m| m.to_string()).collect::<Vec<_>>(),
                        "machine_id": vm.machine_id,
                    }));
                }
                let cache = match vm.cache {
                    esx_provision::CacheUse::Hit => "from the image cache",
                    esx_provision::CacheUse::Uploaded => "image uploaded",
                };
                o.extra(&format!(
                    "Domain '{}' spawned on {} ({cache})\n",
                    vm.domain.name, vm.datastore
                ))
            }
            .await
        }
        Command::ImageExport {
            domain,
            dest,
            format,
            insecure_image,
        } => {
            async {
                let d = lookup_domain(s, &domain.domain).await?;
                let format = format
                    .parse::<ExportFormat>()
                    .map_err(|e| bad(e.to_string()))?;
                let opts = UrlOptions {
                    ca_file: None,
                    no_verify: *insecure_image,
                };
                let e = p
                    .snapshot_to_image(&d, &ImageSource::parse(dest), format, &opts, bar())
                    .await
                    .map_err(provision_error(format!(
                        "Failed to export the image of domain '{}'",
                        d.name
                    )))?;
                if o.json {
                    return o.json_value(&serde_json::json!({
                        "dest": e.dest.to_string(),
                        "bytes": e.bytes,
                        "capacity": e.capacity,
                        "adapter": e.adapter.api_name(),
                        "guest_id": e.guest_id,
                    }));
                }
                o.extra(&format!(
                    "Image of domain '{}' written to {} ({} bytes, adapter {}, guest {})\n",
                    d.name,
                    e.dest,
                    e.bytes,
                    e.adapter.api_name(),
                    e.guest_id
                ))
            }
            .await
        }
        Command::PortgroupEnsure {
            name,
            vlan,
            vswitch,
            uplink,
        } => {
            async {
                let up = match (vswitch, uplink) {
                    (Some(v), _) => Uplink::Vswitch(v.clone()),
                    (None, Some(u)) => Uplink::Nic(u.clone()),
                    (None, None) => Uplink::default(),
                };
                let r =
                    p.ensure_vlan_portgroup(name, *vlan, &up)
                        .await
                        .map_err(provision_error(format!(
                            "Failed to ensure port group '{name}'"
                        )))?;
                let word = match r {
                    PortGroupOutcome::Created => "created",
                    PortGroupOutcome::Existed => "already exists",
                };
                if o.json {
                    return o.json_value(
                        &serde_json::json!({ "name": name, "vlan": vlan, "outcome": word }),
                    );
                }
                o.extra(&format!("Port group '{name}' (VLAN {vlan}) {word}\n"))
            }
            .await
        }
        Command::ConsoleTicket { domain } => {
            async {
                let d = lookup_domain(s, &domain.domain).await?;
                let t = p.console_ticket(&d).await.map_err(provision_error(format!(
                    "Failed to get a console ticket for domain '{}'",
                    d.name
                )))?;
                if o.json {
                    return o.json_value(&serde_json::json!({
                        "ticket": t.ticket,
                        "vm_id": t.vm_id,
                        "host": t.host,
                        "port": t.port,
                        "vmrc": t.vmrc_uri(),
                        "nova_password": t.nova_password(),
                    }));
                }
                o.print(&format!("{}\n", t.vmrc_uri()))
            }
            .await
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nic_specs_parse() {
        let n = parse_nic("network=pg10,vlan=10,mac=00:50:56:01:02:03,ip=10.0.0.5/24,gateway=10.0.0.1,dns=10.0.0.2;10.0.0.3,model=vmxnet3").unwrap();
        assert_eq!(n.network, "pg10");
        assert_eq!(n.vlan, Some(10));
        assert_eq!(n.ipv4, Some(([10, 0, 0, 5].into(), 24)));
        assert_eq!(n.dns.len(), 2);
        assert_eq!(n.model, NicModel::Vmxnet3);
        for bad in [
            "vlan=3",
            "network=a,vlan=5000",
            "network=a,ip=1.2.3",
            "network=a,x=1",
            "network=a,mac=zz",
        ] {
            assert!(parse_nic(bad).is_err(), "{bad}");
        }
    }
}
