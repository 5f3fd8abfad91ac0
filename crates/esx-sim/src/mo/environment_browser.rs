//! `EnvironmentBrowser`: one per compute resource (`envbrowser-N` on vCenter, `ha-env-browser`
//! on ESX), also reached through each VM's `environmentBrowser`. Answers what VMs created there
//! may be: the hardware versions (`QueryConfigOptionDescriptor`), the guest operating systems
//! and their recommended devices (`QueryConfigOption`, `QueryConfigOptionEx`), and the
//! datastores and networks a VM can use (`QueryConfigTarget`).

use esx_vim::{
    Any, BaseNetworkSummary, ConfigTarget, GuestOsDescriptor, NetworkSummary, Request, Response,
    VirtualMachineConfigOption, VirtualMachineConfigOptionDescriptor, VirtualMachineDatastoreInfo,
    VirtualMachineNetworkInfo,
};

use crate::fault::{Fault, MethodResult};
use crate::property::Top;
use crate::state::{moref, Ctx, Mo, MoRef, State};

/// The hardware versions offered, newest (the default) last.
const VERSIONS: &[(&str, &str)] = &[
    ("vmx-13", "ESXi 6.5 virtual machine"),
    ("vmx-14", "ESXi 6.7 virtual machine"),
    ("vmx-15", "ESXi 6.7 U2 virtual machine"),
    ("vmx-17", "ESXi 7.0 virtual machine"),
    ("vmx-18", "ESXi 7.0 U1 virtual machine"),
    ("vmx-19", "ESXi 7.0 U2 virtual machine"),
];

/// A guest operating system offered: id, family, full name, recommended memory (MB),
/// recommended disk size (MB), recommended NIC, recommended disk controller, firmware.
type Guest = (
    &'static str,
    &'static str,
    &'static str,
    i32,
    i32,
    &'static str,
    &'static str,
    &'static str,
);

/// The guest operating systems offered.
const GUESTS: &[Guest] = &[
    (
        "otherGuest",
        "otherGuestFamily",
        "Other (32-bit)",
        256,
        8192,
        "pcnet32",
        "ide",
        "bios",
    ),
    (
        "otherGuest64",
        "otherGuestFamily",
        "Other (64-bit)",
        256,
        8192,
        "e1000",
        "ide",
        "bios",
    ),
    (
        "other3xLinux64Guest",
        "linuxGuest",
        "Other 3.x or later Linux (64-bit)",
        1024,
        16384,
        "vmxnet3",
        "pvscsi",
        "bios",
    ),
    (
        "ubuntu64Guest",
        "linuxGuest",
        "Ubuntu Linux (64-bit)",
        2048,
        16384,
        "vmxnet3",
        "lsilogic",
        "bios",
    ),
    (
        "debian10_64Guest",
        "linuxGuest",
        "Debian GNU/Linux 10 (64-bit)",
        2048,
        16384,
        "vmxnet3",
        "lsilogic",
        "bios",
    ),
    (
        "rhel8_64Guest",
        "linuxGuest",
        "Red Hat Enterprise Linux 8 (64-bit)",
        2048,
        16384,
        "vmxnet3",
        "pvscsi",
        "efi",
    ),
    (
        "centos8_64Guest",
        "linuxGuest",
        "CentOS 8 (64-bit)",
        2048,
        16384,
        "vmxnet3",
        "pvscsi",
        "efi",
    ),
    (
        "windows9_64Guest",
        "windowsGuest",
        "Microsoft Windows 10 (64-bit)",
        4096,
        32768,
        "e1000e",
        "lsilogicsas",
        "efi",
    ),
    (
        "windows2019srv_64Guest",
        "windowsGuest",
        "Microsoft Windows Server 2019 (64-bit)",
        4096,
        40960,
        "e1000e",
        "lsilogicsas",
        "efi",
    ),
    (
        "freebsd12_64Guest",
        "otherUnixGuest",
        "FreeBSD 12 (64-bit)",
        2048,
        16384,
        "vmxnet3",
        "lsilogic",
        "bios",
    ),
];

/// The browser of compute resource `cr_id`.
pub fn id_for(cr_id: &str) -> String {
    if cr_id.starts_with("ha-") {
        "ha-env-browser".to_owned()
    } else {
        format!("envbrowser-{}", cr_id.rsplit('-').next().unwrap_or(cr_id))
    }
}

/// Creates the browser of compute resource `cr_id` (with the compute resource).
pub fn insert(state: &mut State, cr_id: &str) {
    state.insert(&id_for(cr_id), Mo::Manager("EnvironmentBrowser"));
}

/// The reference of the browser of compute resource `cr`.
pub fn of(cr: &MoRef) -> Any {
    Any::from(moref("EnvironmentBrowser", &id_for(&cr.value)))
}

/// The compute resource whose browser is `r`.
fn owner<'s>(
    state: &'s State,
    r: &MoRef,
) -> MethodResult<(MoRef, &'s super::compute_resource::ComputeResourceMo)> {
    state
        .objects
        .iter()
        .find_map(|(id, m)| match m {
            Mo::ComputeResource(c) if id_for(id) == r.value => Some((moref(m.type_name(), id), c)),
            _ => None,
        })
        .ok_or_else(|| Fault::not_found(r))
}

/// `EnvironmentBrowser`'s properties.
pub fn property(state: &State, r: &MoRef, name: &str) -> Top {
    match name {
        // The datastore browser of the compute resource's first host.
        "datastoreBrowser" => {
            let (_, c) = owner(state, r).ok()?;
            let host = c.hosts.first()?;
            match state.objects.get(&host.value) {
                Some(Mo::HostSystem(h)) => {
                    Some(Some(Any::from(moref("HostDatastoreBrowser", &h.browser))))
                }
                _ => Some(None),
            }
        }
        _ => None,
    }
}

fn descriptor(
    state: &State,
    c: &super::compute_resource::ComputeResourceMo,
) -> Vec<VirtualMachineConfigOptionDescriptor> {
    let _ = state;
    VERSIONS
        .iter()
        .enumerate()
        .map(
            |(i, (key, description))| VirtualMachineConfigOptionDescriptor {
                key: (*key).to_owned(),
                description: Some((*description).to_owned()),
                host: c.hosts.clone(),
                create_supported: Some(true),
                default_config_option: Some(i + 1 == VERSIONS.len()),
                run_supported: Some(true),
                upgrade_supported: Some(true),
            },
        )
        .collect()
}

/// The configuration option of hardware version `key` (the newest when unset), limited to
/// `guests` when not empty. An unknown version is `InvalidArgument`, as on vSphere.
fn config_option(key: Option<&str>, guests: &[String]) -> MethodResult<VirtualMachineConfigOption> {
    let (version, description) = match key {
        None => VERSIONS[VERSIONS.len() - 1],
        Some(k) => *VERSIONS
            .iter()
            .find(|(v, _)| *v == k)
            .ok_or_else(|| Fault::invalid_argument("key"))?,
    };
    let guest_os_descriptor: Vec<GuestOsDescriptor> = GUESTS
        .iter()
        .filter(|g| guests.is_empty() || guests.iter().any(|w| w == g.0))
        .map(
            |&(id, family, full, mem, disk, nic, ctl, fw)| GuestOsDescriptor {
                id: id.to_owned(),
                family: family.to_owned(),
                full_name: full.to_owned(),
                supported_max_cp_us: 768,
                supported_min_mem_mb: 4,
                supported_max_mem_mb: 24 * 1024 * 1024,
                recommended_mem_mb: mem,
                recommended_color_depth: 32,
                supported_disk_controller_list: [
                    "VirtualIDEController",
                    "VirtualLsiLogicController",
                    "ParaVirtualSCSIController",
                    "VirtualLsiLogicSASController",
                    "VirtualAHCIController",
                    "VirtualNVMEController",
                ]
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
                recommended_scsi_controller: Some(
                    match ctl {
                        "pvscsi" => "ParaVirtualSCSIController",
                        "lsilogicsas" => "VirtualLsiLogicSASController",
                        _ => "VirtualLsiLogicController",
                    }
                    .to_owned(),
                ),
                recommended_disk_controller: if ctl == "ide" {
                    "VirtualIDEController"
                } else {
                    "VirtualSCSIController"
                }
                .to_owned(),
                supported_num_disks: 60,
                recommended_disk_size_mb: disk,
                recommended_cdrom_controller: Some("VirtualIDEController".to_owned()),
                supported_ethernet_card: [
                    "VirtualE1000",
                    "VirtualE1000e",
                    "VirtualVmxnet3",
                    "VirtualPCNet32",
                ]
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
                recommended_ethernet_card: Some(
                    match nic {
                        "vmxnet3" => "VirtualVmxnet3",
                        "e1000e" => "VirtualE1000e",
                        "pcnet32" => "VirtualPCNet32",
                        _ => "VirtualE1000",
                    }
                    .to_owned(),
                ),
                supports_wake_on_lan: true,
                supported_firmware: vec!["bios".to_owned(), "efi".to_owned()],
                recommended_firmware: Some(fw.to_owned()),
                support_level: Some("supported".to_owned()),
                supported_for_create: Some(true),
                ..Default::default()
            },
        )
        .collect();
    if guest_os_descriptor.is_empty() && !guests.is_empty() {
        return Err(Fault::invalid_argument("spec.guestId"));
    }
    let default = guest_os_descriptor
        .iter()
        .position(|g| g.id == "otherGuest")
        .unwrap_or(0) as i32;
    Ok(VirtualMachineConfigOption {
        version: version.to_owned(),
        description: description.to_owned(),
        guest_os_descriptor,
        guest_os_default_index: default,
        supported_monitor_type: vec!["release".to_owned(), "debug".to_owned(), "stats".to_owned()],
        supported_ovf_environment_transport: vec![
            "iso".to_owned(),
            "com.vmware.guestInfo".to_owned(),
        ],
        supported_ovf_install_transport: vec!["cdrom".to_owned()],
        ..Default::default()
    })
}

/// `QueryConfigTarget`: the compute resource's CPUs, datastores and networks.
fn config_target(state: &State, c: &super::compute_resource::ComputeResourceMo) -> ConfigTarget {
    let mut datastores: Vec<MoRef> = Vec::new();
    let mut networks: Vec<MoRef> = Vec::new();
    for h in &c.hosts {
        if let Some(Mo::HostSystem(host)) = state.objects.get(&h.value) {
            for d in &host.datastores {
                if !datastores.contains(d) {
                    datastores.push(d.clone());
                }
            }
            for n in &host.networks {
                if !networks.contains(n) {
                    networks.push(n.clone());
                }
            }
        }
    }
    let datastore = datastores
        .iter()
        .filter_map(|d| {
            let summary = match crate::property::read(state, &Ctx::default(), d, "summary") {
                Ok(Some(Any::DatastoreSummary(s))) => *s,
                _ => return None,
            };
            Some(VirtualMachineDatastoreInfo {
                name: summary.name.clone(),
                max_file_size: summary.capacity,
                mode: "readWrite".to_owned(),
                datastore: summary,
                ..Default::default()
            })
        })
        .collect();
    let network = networks
        .iter()
        .filter_map(|n| {
            let name = state.name_of(n)?;
            Some(VirtualMachineNetworkInfo {
                name: name.clone(),
                network: BaseNetworkSummary::from(NetworkSummary {
                    network: Some(n.clone()),
                    name,
                    accessible: true,
                    ..Default::default()
                }),
                ..Default::default()
            })
        })
        .collect();
    let hosts = c.hosts.len() as i32;
    ConfigTarget {
        num_cpus: 8 * hosts,
        num_cpu_cores: 8 * hosts,
        num_numa_nodes: hosts,
        max_cpus_per_host: Some(8),
        datastore,
        network,
        ..Default::default()
    }
}

/// Whether `method` is one of the browser's (all only read).
pub fn is_read(method: &str) -> bool {
    matches!(
        method,
        "QueryConfigOption"
            | "QueryConfigOptionEx"
            | "QueryConfigOptionDescriptor"
            | "QueryConfigTarget"
    )
}

/// The browser's methods; `None` for other requests.
pub fn handle_read(state: &State, _ctx: &Ctx, req: &Request) -> Option<MethodResult<Response>> {
    let run = || -> MethodResult<Response> {
        Ok(match req {
            Request::QueryConfigOptionDescriptor(q) => {
                let (_, c) = owner(state, &q.this)?;
                Response::QueryConfigOptionDescriptor(Box::new(
                    esx_vim::QueryConfigOptionDescriptorResponse {
                        returnval: descriptor(state, c),
                    },
                ))
            }
            Request::QueryConfigOption(q) => {
                owner(state, &q.this)?;
                Response::QueryConfigOption(Box::new(esx_vim::QueryConfigOptionResponse {
                    returnval: Some(config_option(q.key.as_deref(), &[])?),
                }))
            }
            Request::QueryConfigOptionEx(q) => {
                owner(state, &q.this)?;
                let (key, guests) = match &q.spec {
                    Some(s) => (s.key.as_deref(), s.guest_id.as_slice()),
                    None => (None, &[][..]),
                };
                Response::QueryConfigOptionEx(Box::new(esx_vim::QueryConfigOptionExResponse {
                    returnval: Some(config_option(key, guests)?),
                }))
            }
            Request::QueryConfigTarget(q) => {
                let (_, c) = owner(state, &q.this)?;
                Response::QueryConfigTarget(Box::new(esx_vim::QueryConfigTargetResponse {
                    returnval: Some(config_target(state, c)),
                }))
            }
            _ => return Err(Fault::invalid_argument("method")),
        })
    };
    is_read(req.method()).then(run)
}
