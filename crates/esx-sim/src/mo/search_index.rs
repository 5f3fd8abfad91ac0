//! `SearchIndex`: lookups by UUID, inventory path and child name.

use crate::mo::folder::child_named;
use crate::state::{Mo, MoRef, State};

/// `FindByUuid`: a VM (or host when `vm_search` is false) with that UUID.
pub fn find_by_uuid(state: &State, uuid: &str, vm_search: bool, instance: bool) -> Option<MoRef> {
    let want = uuid.to_ascii_lowercase();
    let mut hits: Vec<MoRef> = state
        .objects
        .iter()
        .filter_map(|(id, m)| match m {
            Mo::VirtualMachine(v) if vm_search => {
                let u = if instance {
                    v.config.instance_uuid.clone().unwrap_or_default()
                } else {
                    v.config.uuid.clone()
                };
                (u.to_ascii_lowercase() == want).then(|| crate::state::moref("VirtualMachine", id))
            }
            Mo::HostSystem(h) if !vm_search => {
                (h.uuid.to_ascii_lowercase() == want).then(|| crate::state::moref("HostSystem", id))
            }
            _ => None,
        })
        .collect();
    hits.sort();
    hits.into_iter().next()
}

/// `FindByInventoryPath`: `dc/vm/folder/name` from the root folder.
pub fn find_by_inventory_path(state: &State, root: &MoRef, path: &str) -> Option<MoRef> {
    let mut cur = root.clone();
    for seg in path.trim_matches('/').split('/').filter(|s| !s.is_empty()) {
        let seg = seg.replace("%2f", "/").replace("%2F", "/");
        cur = child_named(state, &cur, &seg)?;
    }
    Some(cur)
}

/// `FindByIp`: a running VM one of whose guest addresses is `ip`, or a host.
pub fn find_by_ip(state: &State, ip: &str, vm_search: bool) -> Option<MoRef> {
    if !vm_search {
        return find_by_name(state, ip, false);
    }
    let mut hits: Vec<MoRef> = state
        .objects
        .iter()
        .filter_map(|(id, m)| match m {
            Mo::VirtualMachine(v) if v.tools_running() && v.guest_ips().iter().any(|a| a == ip) => {
                Some(crate::state::moref("VirtualMachine", id))
            }
            _ => None,
        })
        .collect();
    hits.sort();
    hits.into_iter().next()
}

/// `FindByDnsName` (and `FindByIp` for hosts): a VM whose guest host name matches, or a host.
pub fn find_by_name(state: &State, name: &str, vm_search: bool) -> Option<MoRef> {
    let mut hits: Vec<MoRef> = state
        .objects
        .iter()
        .filter_map(|(id, m)| match m {
            Mo::VirtualMachine(v)
                if vm_search && v.tools_running() && v.name.eq_ignore_ascii_case(name) =>
            {
                Some(crate::state::moref("VirtualMachine", id))
            }
            Mo::HostSystem(h) if !vm_search && (h.name == name || name == "127.0.0.1") => {
                Some(crate::state::moref("HostSystem", id))
            }
            _ => None,
        })
        .collect();
    hits.sort();
    hits.into_iter().next()
}
