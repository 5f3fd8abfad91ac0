//! Builds the inventory: the singletons, datacenters, hosts, datastores (real directories),
//! networks, and VMs from the `.vmx` files found in the datastores (creating a sized set of
//! them when the data directory holds none yet).

use std::path::Path;

use esx_vmx::VmxFile;

use crate::config::Flavor;
use crate::mo::compute_resource::ComputeResourceMo;
use crate::mo::datacenter::DatacenterMo;
use crate::mo::datastore::DatastoreMo;
use crate::mo::datastore_browser::BrowserMo;
use crate::mo::folder::FolderMo;
use crate::mo::host_system::{HostMo, HostService, ServiceKind};
use crate::mo::network::NetworkMo;
use crate::mo::property_collector::Collector;
use crate::mo::resource_pool::ResourcePoolMo;
use crate::mo::service_instance::ids;
use crate::mo::virtual_machine::{initial_runtime, location_for, uuid_from, vmx_uuid, VmMo};
use crate::state::{moref, Mo, MoRef, State};
use crate::Error;

fn folder(name: &str, parent: Option<MoRef>, kinds: &[&str]) -> Mo {
    Mo::Folder(FolderMo {
        name: name.into(),
        parent,
        child_type: kinds.iter().map(|s| (*s).to_owned()).collect(),
        children: Vec::new(),
    })
}

fn add_child(state: &mut State, parent: &MoRef, child: MoRef) {
    if let Some(Mo::Folder(f)) = state.objects.get_mut(&parent.value) {
        f.children.push(child);
    }
}

/// The text of a generated VM's `.vmx` (`vmx_abs` is where it lives, for `uuid.location`;
/// `seed` makes its UUIDs and MAC address).
pub fn vmx_text(name: &str, vmx_abs: &str, net: &str, mem: i64, cpus: i64, seed: &str) -> String {
    let uuid = vmx_uuid(&uuid_from(seed));
    let vc = vmx_uuid(&uuid_from(&format!("vc:{seed}")));
    format!(
        ".encoding = \"UTF-8\"\nconfig.version = \"8\"\nvirtualHW.version = \"14\"\ndisplayName = \"{name}\"\n\
         guestOS = \"other-64\"\nmemsize = \"{mem}\"\nnumvcpus = \"{cpus}\"\nscsi0.present = \"TRUE\"\n\
         scsi0.virtualDev = \"lsilogic\"\nscsi0:0.present = \"TRUE\"\nscsi0:0.fileName = \"{name}.vmdk\"\n\
         scsi0:0.sim.capacityKB = \"1048576\"\nethernet0.present = \"TRUE\"\nethernet0.virtualDev = \"e1000\"\n\
         ethernet0.networkName = \"{net}\"\nethernet0.addressType = \"generated\"\n\
         ethernet0.generatedAddress = \"00:0c:29:{:02x}:{:02x}:{:02x}\"\nuuid.bios = \"{uuid}\"\n\
         uuid.location = \"{}\"\nvc.uuid = \"{vc}\"\n",
        seed.len() % 256,
        seed.bytes().fold(0u8, |a, b| a.wrapping_add(b)),
        seed.bytes().fold(7u8, |a, b| a.wrapping_mul(31).wrapping_add(b)),
        location_for(vmx_abs),
    )
}

/// Registers the VM whose `.vmx` is at `rel` in datastore `ds`; returns its reference.
pub fn register_vm(
    state: &mut State,
    ds: &MoRef,
    rel: &str,
    folder_ref: &MoRef,
    pool: &MoRef,
    host: &MoRef,
    name_override: Option<&str>,
) -> Result<MoRef, crate::fault::Fault> {
    let nets = network_lookup(state);
    let place = Placed {
        folder: folder_ref,
        pool,
        host,
        nets: &nets,
    };
    register_file(state, ds, rel, &place, name_override)
}

/// [`register_vm`] with the placement (and network names) already known.
fn register_file(
    state: &mut State,
    ds: &MoRef,
    rel: &str,
    place: &Placed<'_>,
    name_override: Option<&str>,
) -> Result<MoRef, crate::fault::Fault> {
    let (ds_name, dir) = match state.get(ds) {
        Some(Mo::Datastore(d)) => (d.name.clone(), d.dir.clone()),
        _ => return Err(crate::fault::Fault::not_found(ds)),
    };
    let path = crate::files::safe_join(&dir, rel)
        .ok_or_else(|| crate::fault::Fault::invalid_argument("path"))?;
    let bytes = std::fs::read(&path)
        .map_err(|_| crate::fault::Fault::file_not_found(&format!("[{ds_name}] {rel}")))?;
    let vmx = VmxFile::parse(&bytes).map_err(|_| crate::fault::Fault::invalid_argument("path"))?;
    Ok(register_parsed(
        state,
        (ds, ds_name),
        (rel, path),
        vmx,
        place,
        name_override,
        None,
    ))
}

/// Where a VM goes in the inventory.
struct Placed<'a> {
    folder: &'a MoRef,
    pool: &'a MoRef,
    host: &'a MoRef,
    /// Name -> reference of every network (looked up once, not per VM).
    nets: &'a [(String, MoRef)],
}

/// Registers a generated VM whose files are not written yet (see [`crate::lazy`]).
fn register_generated(
    state: &mut State,
    ds: &MoRef,
    ds_dir: &Path,
    g: &crate::lazy::Generated,
    place: &Placed<'_>,
) -> Result<MoRef, crate::fault::Fault> {
    let path = crate::files::safe_join(ds_dir, &g.rel)
        .ok_or_else(|| crate::fault::Fault::invalid_argument("path"))?;
    let vmx = VmxFile::parse(g.vmx_text(&path).as_bytes())
        .map_err(|_| crate::fault::Fault::invalid_argument("path"))?;
    Ok(register_parsed(
        state,
        (ds, g.datastore.clone()),
        (&g.rel, path),
        vmx,
        place,
        None,
        Some(Box::new(g.clone())),
    ))
}

fn register_parsed(
    state: &mut State,
    (ds, ds_name): (&MoRef, String),
    (rel, path): (&str, std::path::PathBuf),
    mut vmx: VmxFile,
    place: &Placed<'_>,
    name_override: Option<&str>,
    generated: Option<Box<crate::lazy::Generated>>,
) -> MoRef {
    let (folder_ref, pool, host) = (place.folder, place.pool, place.host);
    if let Some(n) = name_override {
        vmx.set("displayName", n);
    }
    let id = match state.flavor() {
        Flavor::Esx => state.new_number().to_string(),
        Flavor::Vcenter => state.new_id("vm"),
    };
    let nets = place.nets;
    let mut vm = VmMo {
        name: String::new(),
        parent: folder_ref.clone(),
        resource_pool: pool.clone(),
        host: host.clone(),
        datastore: ds.clone(),
        datastore_name: ds_name,
        networks: Vec::new(),
        vmx_path: path,
        vmx_rel: rel.to_owned(),
        vmx_parsed: Some(vmx),
        config: Default::default(),
        counts: Default::default(),
        runtime: initial_runtime(host),
        current_snapshot: None,
        root_snapshots: Vec::new(),
        pending_power_on: None,
        generated,
    };
    vm.refresh(&|n| {
        nets.iter()
            .find(|(name, _)| name == n)
            .map(|(_, r)| r.clone())
    });
    if vm.generated.is_some() {
        // Made again from the generator when needed: a parsed .vmx is the bulk of a VM's memory.
        vm.vmx_parsed = None;
    }
    let r = moref("VirtualMachine", &id);
    state.insert(&id, Mo::VirtualMachine(Box::new(vm)));
    add_child(state, folder_ref, r.clone());
    r
}

/// Name -> reference of every network.
pub fn network_lookup(state: &State) -> Vec<(String, MoRef)> {
    state
        .objects
        .iter()
        .filter_map(|(id, m)| match m {
            Mo::Network(n) => Some((n.name.clone(), moref("Network", id))),
            // NICs on a distributed port group name it by its key (see `network_names`).
            Mo::DvPortgroup(p) => Some((p.key.clone(), moref("DistributedVirtualPortgroup", id))),
            _ => None,
        })
        .collect()
}

struct Placement {
    vm_folder: MoRef,
    pool: MoRef,
    host: MoRef,
}

/// Builds the whole inventory into `state`.
pub fn build(state: &mut State) -> Result<(), Error> {
    let flavor = state.flavor();
    let spec = state.config.inventory;
    let i = ids(flavor);
    state.insert("ServiceInstance", Mo::ServiceInstance);
    state.insert(i.session_manager, Mo::SessionManager);
    state.insert(
        i.property_collector,
        Mo::PropertyCollector(Collector::default()),
    );
    state.insert(i.view_manager, Mo::ViewManager);
    state.insert(i.search_index, Mo::SearchIndex);
    state.insert(i.file_manager, Mo::FileManager);
    state.insert(i.virtual_disk_manager, Mo::VirtualDiskManager);
    state.insert(i.task_manager, Mo::TaskManager);
    state.insert(i.event_manager, Mo::EventManager);
    crate::managers::insert_all(state);
    let root = moref("Folder", i.root);
    state.insert(
        i.root,
        folder("Datacenters", None, &["Folder", "Datacenter"]),
    );
    std::fs::create_dir_all(&state.data_dir)
        .map_err(|e| Error::Io(state.data_dir.display().to_string(), e))?;

    let dcs = if flavor == Flavor::Esx {
        1
    } else {
        spec.datacenters
    };
    let mut placements: Vec<(MoRef, Vec<Placement>)> = Vec::new();
    for dc_n in 0..dcs {
        let (dc_id, vmf, hostf, dsf, netf) = match flavor {
            Flavor::Esx => (
                "ha-datacenter".to_owned(),
                "ha-folder-vm".to_owned(),
                "ha-folder-host".to_owned(),
                "ha-folder-datastore".to_owned(),
                "ha-folder-network".to_owned(),
            ),
            Flavor::Vcenter => (
                state.new_id("datacenter"),
                state.new_id("group-v"),
                state.new_id("group-h"),
                state.new_id("group-s"),
                state.new_id("group-n"),
            ),
        };
        let dc = moref("Datacenter", &dc_id);
        let dc_name = if flavor == Flavor::Esx {
            "ha-datacenter".to_owned()
        } else {
            format!("DC{dc_n}")
        };
        state.insert(
            &vmf,
            folder(
                "vm",
                Some(dc.clone()),
                &["Folder", "VirtualMachine", "VirtualApp"],
            ),
        );
        state.insert(
            &hostf,
            folder("host", Some(dc.clone()), &["Folder", "ComputeResource"]),
        );
        state.insert(
            &dsf,
            folder("datastore", Some(dc.clone()), &["Folder", "Datastore"]),
        );
        state.insert(
            &netf,
            folder("network", Some(dc.clone()), &["Folder", "Network"]),
        );
        let (vmf, hostf, dsf, netf) = (
            moref("Folder", &vmf),
            moref("Folder", &hostf),
            moref("Folder", &dsf),
            moref("Folder", &netf),
        );
        state.insert(
            &dc_id,
            Mo::Datacenter(DatacenterMo {
                name: dc_name,
                parent: root.clone(),
                vm_folder: vmf.clone(),
                host_folder: hostf.clone(),
                datastore_folder: dsf.clone(),
                network_folder: netf.clone(),
            }),
        );
        add_child(state, &root, dc.clone());

        // Hosts: ESX has one standalone host; vCenter has clusters of hosts plus one standalone.
        let mut groups: Vec<(bool, usize)> = Vec::new();
        match flavor {
            Flavor::Esx => groups.push((false, 1)),
            Flavor::Vcenter => {
                for _ in 0..spec.clusters {
                    groups.push((true, spec.hosts));
                }
                groups.push((false, 1));
            }
        }
        let mut hosts: Vec<MoRef> = Vec::new();
        let mut places = Vec::new();
        for (gi, (cluster, n)) in groups.into_iter().enumerate() {
            let cr_id = match (flavor, cluster) {
                (Flavor::Esx, _) => "ha-compute-res".to_owned(),
                (_, true) => state.new_id("domain-c"),
                (_, false) => state.new_id("domain-s"),
            };
            let pool_id = if flavor == Flavor::Esx {
                "ha-root-pool".to_owned()
            } else {
                state.new_id("resgroup")
            };
            let cr = moref(
                if cluster {
                    "ClusterComputeResource"
                } else {
                    "ComputeResource"
                },
                &cr_id,
            );
            let pool = moref("ResourcePool", &pool_id);
            let mut members = Vec::new();
            for hn in 0..n {
                let host_id = if flavor == Flavor::Esx {
                    "ha-host".to_owned()
                } else {
                    state.new_id("host")
                };
                let name = if flavor == Flavor::Esx {
                    "localhost.localdomain".to_owned()
                } else {
                    format!("esx-{dc_n}-{gi}-{hn}.sim.local")
                };
                let h = moref("HostSystem", &host_id);
                let hm = HostMo::new(
                    &name,
                    &host_id,
                    cr.clone(),
                    uuid_from(&format!("host:{host_id}")),
                );
                for (k, sid) in [
                    (ServiceKind::Network, &hm.services[0]),
                    (ServiceKind::Storage, &hm.services[1]),
                    (ServiceKind::AutoStart, &hm.services[2]),
                    (ServiceKind::Datastore, &hm.services[3]),
                ] {
                    state.insert(
                        sid,
                        Mo::HostService(HostService {
                            kind: k,
                            host: h.clone(),
                        }),
                    );
                }
                let browser = hm.browser.clone();
                state.insert(&host_id, Mo::HostSystem(Box::new(hm)));
                crate::mo::option_manager::insert_for_host(state, &h);
                crate::mo::host_date_time_system::insert_for_host(state, &h);
                crate::mo::host_service_system::insert_for_host(state, &h);
                crate::mo::host_certificate_manager::insert_for_host(state, &h);
                state.insert(
                    &browser,
                    Mo::DatastoreBrowser(BrowserMo {
                        datastores: Vec::new(),
                    }),
                );
                members.push(h.clone());
                hosts.push(h.clone());
                places.push(Placement {
                    vm_folder: vmf.clone(),
                    pool: pool.clone(),
                    host: h,
                });
            }
            let cr_name = if flavor == Flavor::Esx {
                "localhost.localdomain".to_owned()
            } else if cluster {
                format!("Cluster{gi}")
            } else {
                format!("esx-{dc_n}-{gi}-0.sim.local")
            };
            state.insert(
                &cr_id,
                Mo::ComputeResource(ComputeResourceMo {
                    name: cr_name,
                    parent: hostf.clone(),
                    cluster,
                    hosts: members,
                    resource_pool: pool.clone(),
                }),
            );
            crate::mo::environment_browser::insert(state, &cr_id);
            state.insert(
                &pool_id,
                Mo::ResourcePool(ResourcePoolMo {
                    name: "Resources".into(),
                    parent: cr.clone(),
                    owner: cr.clone(),
                    pools: Vec::new(),
                }),
            );
            add_child(state, &hostf, cr);
        }

        // Datastores: every directory under the data dir is one (created when too few).
        for n in 0..spec.datastores {
            let name = if dcs == 1 {
                format!("datastore{}", n + 1)
            } else {
                format!("dc{dc_n}-datastore{}", n + 1)
            };
            let dir = state.data_dir.join(&name);
            std::fs::create_dir_all(&dir).map_err(|e| Error::Io(dir.display().to_string(), e))?;
        }
        let prefix = if dcs == 1 {
            String::new()
        } else {
            format!("dc{dc_n}-")
        };
        let mut ds_names: Vec<String> = std::fs::read_dir(&state.data_dir)
            .map_err(|e| Error::Io(state.data_dir.display().to_string(), e))?
            .filter_map(|e| e.ok())
            .filter(|e| e.path().is_dir())
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| {
                !n.starts_with('.') && n.starts_with(&prefix) && (dcs == 1 || n.starts_with("dc"))
            })
            .collect();
        ds_names.sort();
        for name in ds_names {
            let id = if flavor == Flavor::Esx {
                format!("datastore-{name}")
            } else {
                state.new_id("datastore")
            };
            let r = moref("Datastore", &id);
            let mut browsers = Vec::new();
            for h in &hosts {
                if let Some(Mo::HostSystem(hm)) = state.objects.get_mut(&h.value) {
                    hm.datastores.push(r.clone());
                    browsers.push(hm.browser.clone());
                }
            }
            for b in browsers {
                if let Some(Mo::DatastoreBrowser(bm)) = state.objects.get_mut(&b) {
                    bm.datastores.push(r.clone());
                }
            }
            let browser = match hosts.first().and_then(|h| state.get(h)) {
                Some(Mo::HostSystem(hm)) => hm.browser.clone(),
                _ => String::new(),
            };
            state.insert(
                &id,
                Mo::Datastore(DatastoreMo {
                    name: name.clone(),
                    parent: dsf.clone(),
                    dir: state.data_dir.join(&name),
                    hosts: hosts.clone(),
                    browser,
                    capacity: state.config.datastore_capacity,
                    reserved: Default::default(),
                }),
            );
            add_child(state, &dsf, r);
        }
        for n in 0..spec.networks {
            let name = if n == 0 {
                "VM Network".to_owned()
            } else {
                format!("VM Network {n}")
            };
            let id = if flavor == Flavor::Esx {
                format!("HaNetwork-{name}")
            } else {
                state.new_id("network")
            };
            let r = moref("Network", &id);
            for h in &hosts {
                if let Some(Mo::HostSystem(hm)) = state.objects.get_mut(&h.value) {
                    hm.networks.push(r.clone());
                    hm.add_portgroup(&name, "vSwitch0", 0);
                }
            }
            state.insert(
                &id,
                Mo::Network(NetworkMo {
                    name,
                    parent: netf.clone(),
                    hosts: hosts.clone(),
                }),
            );
            add_child(state, &netf, r);
        }
        if flavor == Flavor::Vcenter {
            let dc_name = state.name_of(&dc).unwrap_or_default();
            crate::mo::distributed_virtual_switch::create_default(state, &dc_name, &netf, &hosts);
        }
        placements.push((dc, places));
    }

    // VMs: register every .vmx already there and the generated VMs whose files are not
    // written yet; generate the requested number (files written on first use) when there
    // are neither.
    let mut datastores: Vec<(MoRef, String, std::path::PathBuf, MoRef)> = state
        .objects
        .iter()
        .filter_map(|(id, m)| match m {
            Mo::Datastore(d) => Some((
                moref("Datastore", id),
                d.name.clone(),
                d.dir.clone(),
                d.parent.clone(),
            )),
            _ => None,
        })
        .collect();
    datastores.sort_by(|a, b| a.1.cmp(&b.1));
    enum Source {
        File(String),
        Generated(crate::lazy::Generated),
    }
    // (datastore index, .vmx path relative to the datastore, where it comes from)
    let mut vms: Vec<(usize, String, Source)> = Vec::new();
    let mut on_disk = std::collections::HashSet::new();
    for (di, (_, ds_name, dir, _)) in datastores.iter().enumerate() {
        let Ok(it) = std::fs::read_dir(dir) else {
            continue;
        };
        for e in it.flatten() {
            let Ok(sub) = std::fs::read_dir(e.path()) else {
                continue;
            };
            for f in sub.flatten() {
                let name = f.file_name().to_string_lossy().into_owned();
                if name.ends_with(".vmx") {
                    let rel = format!("{}/{name}", e.file_name().to_string_lossy());
                    on_disk.insert((ds_name.clone(), rel.clone()));
                    vms.push((di, rel.clone(), Source::File(rel)));
                }
            }
        }
    }
    let mut generated = crate::lazy::load(&state.data_dir);
    if vms.is_empty() && generated.is_empty() {
        if let Some((_, ds_name, _, _)) = datastores.iter().min_by_key(|(r, ..)| r.value.clone()) {
            let n = spec.vms;
            let width = n.to_string().len().max(1);
            for k in 0..n {
                let name = if n <= 9 {
                    format!("vm{}", k + 1)
                } else {
                    format!("vm{:0width$}", k + 1)
                };
                let mem = [256, 512, 1024][k % 3];
                generated.push(crate::lazy::Generated::new(
                    ds_name,
                    &name,
                    "VM Network",
                    mem,
                    1 + (k % 2) as i64,
                ));
            }
            crate::lazy::save(&state.data_dir, &generated).map_err(|e| {
                Error::Io(
                    state
                        .data_dir
                        .join(crate::lazy::MANIFEST)
                        .display()
                        .to_string(),
                    e,
                )
            })?;
        }
    }
    for g in &generated {
        let Some(di) = datastores.iter().position(|d| d.1 == g.datastore) else {
            continue;
        };
        if !on_disk.contains(&(g.datastore.clone(), g.rel.clone())) {
            vms.push((di, g.rel.clone(), Source::Generated(g.clone())));
        }
    }
    state.generated = generated
        .into_iter()
        .map(|g| ((g.datastore.clone(), g.rel.clone()), g))
        .collect();
    vms.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    let nets = network_lookup(state);
    for (k, (di, rel, source)) in vms.into_iter().enumerate() {
        let Some((ds, _, dir, dsf)) = datastores.get(di) else {
            continue;
        };
        // The datastore folder's datacenter decides where the VM goes.
        let dc = state.parent_of(dsf);
        let Some((_, places)) = placements.iter().find(|(d, _)| Some(d) == dc.as_ref()) else {
            continue;
        };
        let Some(p) = places.get(k % places.len().max(1)) else {
            continue;
        };
        let (f, pool, host) = (p.vm_folder.clone(), p.pool.clone(), p.host.clone());
        let place = Placed {
            folder: &f,
            pool: &pool,
            host: &host,
            nets: &nets,
        };
        let r = match &source {
            Source::File(rel) => register_file(state, ds, rel, &place, None),
            Source::Generated(g) => register_generated(state, ds, dir, g, &place),
        };
        if let Err(e) = r {
            tracing::warn!(path = %rel, error = %e.message, "skipping VM that cannot be registered");
        }
    }
    // Writes a crash interrupted left temporary files; the space a test asked to be free.
    for (_, _, dir, _) in &datastores {
        crate::files::remove_temps(dir);
    }
    for (name, free) in state.config.inject.datastore_free.clone() {
        if !crate::mo::datastore::set_free(state, &name, free) {
            tracing::warn!(datastore = %name, "full-datastore: no such datastore");
        }
    }
    Ok(())
}
