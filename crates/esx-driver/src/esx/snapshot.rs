//! Snapshots: the VM's own snapshot tree on the server (libvirt keeps no metadata for ESX).

use esx_domain::DomainSnapshot as SnapshotDef;
use esx_vim::{methods, Any, ManagedObjectReference as MoRef, VirtualMachineSnapshotTree};

use crate::error::{Error, ErrorCode, Result};
use crate::esx::lifecycle::check_flags;
use crate::flags::{snapshot_create as C, snapshot_delete as D, snapshot_list as L};
use crate::types::{Domain, DomainSnapshot};
use crate::Connection;

/// The snapshot tree of a VM.
pub(crate) struct Tree {
    pub roots: Vec<VirtualMachineSnapshotTree>,
    pub current: Option<MoRef>,
    pub vm: MoRef,
}

fn walk<'a>(
    list: &'a [VirtualMachineSnapshotTree],
    parent: Option<&'a VirtualMachineSnapshotTree>,
    f: &mut dyn FnMut(&'a VirtualMachineSnapshotTree, Option<&'a VirtualMachineSnapshotTree>),
) {
    for s in list {
        f(s, parent);
        walk(&s.child_snapshot_list, Some(s), f);
    }
}

impl Tree {
    /// The snapshot named `name` and its parent.
    pub fn find(
        &self,
        name: &str,
    ) -> Option<(
        &VirtualMachineSnapshotTree,
        Option<&VirtualMachineSnapshotTree>,
    )> {
        let mut found = None;
        walk(&self.roots, None, &mut |s, p| {
            if found.is_none() && s.name == name {
                found = Some((s, p));
            }
        });
        found
    }

    fn by_ref(&self, r: &MoRef) -> Option<&VirtualMachineSnapshotTree> {
        let mut found = None;
        walk(&self.roots, None, &mut |s, _| {
            if found.is_none() && s.snapshot == *r {
                found = Some(s);
            }
        });
        found
    }
}

/// Names of `list` (recursively when `recurse`), keeping leaves only or non-leaves only.
fn names(list: &[VirtualMachineSnapshotTree], recurse: bool, flags: u32, out: &mut Vec<String>) {
    for s in list {
        let leaf = s.child_snapshot_list.is_empty();
        let keep = (flags & L::LEAVES == 0 || leaf) && (flags & L::NO_LEAVES == 0 || !leaf);
        if keep {
            out.push(s.name.clone());
        }
        if recurse {
            names(&s.child_snapshot_list, true, flags, out);
        }
    }
}

fn no_snapshot(name: &str) -> Error {
    Error::new(
        ErrorCode::NoDomainSnapshot,
        format!("Could not find snapshot with name '{name}'"),
    )
}

fn state_word(s: &esx_vim::VirtualMachinePowerState) -> &'static str {
    crate::types::DomainState::from_power_state(s).as_str_xml()
}

impl Connection {
    pub(crate) async fn snapshot_tree(&self, dom: &Domain) -> Result<Tree> {
        let vm = self
            .vm(
                dom,
                &["snapshot.rootSnapshotList", "snapshot.currentSnapshot"],
            )
            .await?;
        let roots = match vm.props.get("snapshot.rootSnapshotList") {
            Some(Any::ArrayOfVirtualMachineSnapshotTree(a)) => {
                a.virtual_machine_snapshot_tree.clone()
            }
            _ => Vec::new(),
        };
        Ok(Tree {
            roots,
            current: vm.props.moref("snapshot.currentSnapshot").cloned(),
            vm: vm.moref,
        })
    }

    pub(crate) async fn snapshot_create(
        &self,
        dom: &Domain,
        xml: &str,
        flags: u32,
    ) -> Result<DomainSnapshot> {
        check_flags(
            flags,
            C::DISK_ONLY | C::QUIESCE | C::NO_METADATA | C::VALIDATE,
            "esxDomainSnapshotCreateXML",
        )?;
        self.check_writable("virDomainSnapshotCreateXML")?;
        if xml.contains("<disks") {
            return Err(Error::new(
                ErrorCode::ConfigUnsupported,
                "disk snapshots not supported yet",
            ));
        }
        let def = SnapshotDef::from_xml(xml)?;
        let name = def.name.clone().unwrap_or_else(|| chrono_now().to_string());
        let ctx = self.primary();
        let tree = self.snapshot_tree(dom).await?;
        if tree.find(&name).is_some() {
            return Err(Error::invalid_op(format!(
                "Snapshot '{name}' already exists"
            )));
        }
        let vm = self.vm_for_task(ctx, 0, dom, &[]).await?;
        let task = methods::create_snapshot_task(
            &*ctx.client,
            &vm.moref,
            name.clone(),
            def.description.clone(),
            flags & C::DISK_ONLY == 0,
            flags & C::QUIESCE != 0,
        )
        .await?;
        self.wait_task(ctx, &task, Some(&vm.moref), "create snapshot")
            .await?;
        Ok(DomainSnapshot {
            domain: dom.clone(),
            name,
        })
    }

    pub(crate) async fn snapshot_xml(&self, snap: &DomainSnapshot, flags: u32) -> Result<String> {
        check_flags(flags, 0, "esxDomainSnapshotGetXMLDesc")?;
        let tree = self.snapshot_tree(&snap.domain).await?;
        let (s, parent) = tree
            .find(&snap.name)
            .ok_or_else(|| no_snapshot(&snap.name))?;
        let def = SnapshotDef {
            name: Some(s.name.clone()),
            description: Some(s.description.clone()),
            state: Some(state_word(&s.state).to_string()),
            parent: parent.map(|p| p.name.clone()),
            creation_time: Some(s.create_time.timestamp()),
            memory: None,
            domain_uuid: Some(snap.domain.uuid),
        };
        Ok(def.to_xml())
    }

    pub(crate) async fn snapshot_names(&self, dom: &Domain, flags: u32) -> Result<Vec<String>> {
        let allowed = L::ROOTS | L::METADATA | L::LEAVES | L::NO_LEAVES | L::NO_METADATA | 0x7e0;
        check_flags(flags, allowed, "esxDomainSnapshotListNames")?;
        let tree = self.snapshot_tree(dom).await?;
        if flags & L::METADATA != 0 {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        names(&tree.roots, flags & L::ROOTS == 0, flags, &mut out);
        Ok(out)
    }

    pub(crate) async fn snapshot_children(
        &self,
        snap: &DomainSnapshot,
        flags: u32,
    ) -> Result<Vec<String>> {
        let allowed =
            L::DESCENDANTS | L::METADATA | L::LEAVES | L::NO_LEAVES | L::NO_METADATA | 0x7e0;
        check_flags(flags, allowed, "esxDomainSnapshotListChildrenNames")?;
        let tree = self.snapshot_tree(&snap.domain).await?;
        let (s, _) = tree
            .find(&snap.name)
            .ok_or_else(|| no_snapshot(&snap.name))?;
        if flags & L::METADATA != 0 {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        names(
            &s.child_snapshot_list,
            flags & L::DESCENDANTS != 0,
            flags,
            &mut out,
        );
        Ok(out)
    }

    pub(crate) async fn snapshot_lookup(
        &self,
        dom: &Domain,
        name: &str,
        flags: u32,
    ) -> Result<DomainSnapshot> {
        check_flags(flags, 0, "esxDomainSnapshotLookupByName")?;
        let tree = self.snapshot_tree(dom).await?;
        tree.find(name).ok_or_else(|| no_snapshot(name))?;
        Ok(DomainSnapshot {
            domain: dom.clone(),
            name: name.to_string(),
        })
    }

    pub(crate) async fn has_current_snapshot(&self, dom: &Domain, flags: u32) -> Result<bool> {
        check_flags(flags, 0, "esxDomainHasCurrentSnapshot")?;
        Ok(self.snapshot_tree(dom).await?.current.is_some())
    }

    pub(crate) async fn snapshot_parent(
        &self,
        snap: &DomainSnapshot,
        flags: u32,
    ) -> Result<DomainSnapshot> {
        check_flags(flags, 0, "esxDomainSnapshotGetParent")?;
        let tree = self.snapshot_tree(&snap.domain).await?;
        let (_, parent) = tree
            .find(&snap.name)
            .ok_or_else(|| no_snapshot(&snap.name))?;
        let parent = parent.ok_or_else(|| {
            Error::new(
                ErrorCode::NoDomainSnapshot,
                format!("snapshot '{}' does not have a parent", snap.name),
            )
        })?;
        Ok(DomainSnapshot {
            domain: snap.domain.clone(),
            name: parent.name.clone(),
        })
    }

    pub(crate) async fn snapshot_current(
        &self,
        dom: &Domain,
        flags: u32,
    ) -> Result<DomainSnapshot> {
        check_flags(flags, 0, "esxDomainSnapshotCurrent")?;
        let tree = self.snapshot_tree(dom).await?;
        let cur = tree
            .current
            .as_ref()
            .and_then(|c| tree.by_ref(c))
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::NoDomainSnapshot,
                    "Domain has no current snapshot",
                )
            })?;
        Ok(DomainSnapshot {
            domain: dom.clone(),
            name: cur.name.clone(),
        })
    }

    pub(crate) async fn snapshot_is_current(
        &self,
        snap: &DomainSnapshot,
        flags: u32,
    ) -> Result<bool> {
        check_flags(flags, 0, "esxDomainSnapshotIsCurrent")?;
        let tree = self.snapshot_tree(&snap.domain).await?;
        let (s, _) = tree
            .find(&snap.name)
            .ok_or_else(|| no_snapshot(&snap.name))?;
        Ok(tree.current.as_ref() == Some(&s.snapshot))
    }

    pub(crate) async fn snapshot_has_metadata(
        &self,
        snap: &DomainSnapshot,
        flags: u32,
    ) -> Result<bool> {
        check_flags(flags, 0, "esxDomainSnapshotHasMetadata")?;
        let tree = self.snapshot_tree(&snap.domain).await?;
        tree.find(&snap.name)
            .ok_or_else(|| no_snapshot(&snap.name))?;
        Ok(false)
    }

    pub(crate) async fn snapshot_revert(&self, snap: &DomainSnapshot, flags: u32) -> Result<()> {
        check_flags(flags, 0, "esxDomainRevertToSnapshot")?;
        self.check_writable("virDomainRevertToSnapshot")?;
        let ctx = self.primary();
        let tree = self.snapshot_tree(&snap.domain).await?;
        let (s, _) = tree
            .find(&snap.name)
            .ok_or_else(|| no_snapshot(&snap.name))?;
        let target = s.snapshot.clone();
        let task = methods::revert_to_snapshot_task(&*ctx.client, &target, None, None).await?;
        self.wait_task(
            ctx,
            &task,
            Some(&tree.vm),
            &format!("revert to snapshot '{}'", snap.name),
        )
        .await?;
        Ok(())
    }

    pub(crate) async fn snapshot_delete(&self, snap: &DomainSnapshot, flags: u32) -> Result<()> {
        check_flags(
            flags,
            D::CHILDREN | D::METADATA_ONLY,
            "esxDomainSnapshotDelete",
        )?;
        self.check_writable("virDomainSnapshotDelete")?;
        let ctx = self.primary();
        let tree = self.snapshot_tree(&snap.domain).await?;
        let (s, _) = tree
            .find(&snap.name)
            .ok_or_else(|| no_snapshot(&snap.name))?;
        if flags & D::METADATA_ONLY != 0 {
            return Ok(());
        }
        let target = s.snapshot.clone();
        let task =
            methods::remove_snapshot_task(&*ctx.client, &target, flags & D::CHILDREN != 0, None)
                .await?;
        self.wait_task(
            ctx,
            &task,
            Some(&tree.vm),
            &format!("delete snapshot '{}'", snap.name),
        )
        .await?;
        Ok(())
    }
}

/// Seconds since the epoch (a snapshot's default name, as libvirt names it).
fn chrono_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
