//! The commands that need a connection, grouped as virsh groups them, with the printer they
//! write through and virsh's lookups of domains, pools, volumes, networks and interfaces.

mod domain;
mod host;
mod network;
mod provision;
mod snapshot;
mod storage;

use std::io::Write;

use esx_driver::{
    Domain, HypervisorDriver, Interface, InterfaceDriver, Network, NetworkDriver, StoragePool,
    StorageVolume,
};

use crate::cli::Command;
use crate::error::CliError;
use crate::session::Session;

pub use domain::edit_with;

/// Where a command writes: results always, informational messages unless `-q`, JSON for
/// `--json`.
pub struct Out<'a> {
    w: &'a mut dyn Write,
    /// `-q`: no table headers, no informational messages.
    pub quiet: bool,
    /// `--json`.
    pub json: bool,
}

impl<'a> Out<'a> {
    /// A printer on `w`.
    pub fn new(w: &'a mut dyn Write, quiet: bool, json: bool) -> Out<'a> {
        Out { w, quiet, json }
    }

    /// Writes a result.
    pub fn print(&mut self, text: &str) -> Result<(), CliError> {
        self.w
            .write_all(text.as_bytes())
            .and_then(|()| self.w.flush())
            .map_err(|e| CliError::Output(crate::error::strerror(&e)))
    }

    /// Writes an informational message (left out with `-q`).
    pub fn extra(&mut self, text: &str) -> Result<(), CliError> {
        if self.quiet {
            Ok(())
        } else {
            self.print(text)
        }
    }

    /// Writes a JSON document (pretty, with a final newline).
    pub fn json_value(&mut self, v: &serde_json::Value) -> Result<(), CliError> {
        let text = serde_json::to_string_pretty(v).unwrap_or_else(|_| "null".into());
        self.print(&text)?;
        self.print("\n")
    }

    /// Writes a table, with its header unless `-q`.
    pub fn table(&mut self, t: &crate::output::Table) -> Result<(), CliError> {
        let text = t.render(!self.quiet);
        self.print(&text)
    }
}

/// Whether a command reads only (and so accepts `--json`).
pub fn supports_json(cmd: &Command) -> bool {
    use Command as C;
    matches!(
        cmd,
        C::Uri
            | C::Version { .. }
            | C::Hostname
            | C::Nodeinfo
            | C::Freecell { .. }
            | C::Maxvcpus { .. }
            | C::List(_)
            | C::Dominfo(_)
            | C::Domstate { .. }
            | C::Domid(_)
            | C::Domname(_)
            | C::Domuuid(_)
            | C::Vcpucount { .. }
            | C::Schedinfo { .. }
            | C::Memtune { .. }
            | C::Autostart { .. }
            | C::Domhostname { .. }
            | C::Domifaddr { .. }
            | C::Event { .. }
            | C::SnapshotList { .. }
            | C::SnapshotInfo { .. }
            | C::SnapshotCurrent { .. }
            | C::SnapshotParent { .. }
            | C::PoolList { .. }
            | C::PoolInfo { .. }
            | C::PoolName { .. }
            | C::PoolUuid { .. }
            | C::VolList { .. }
            | C::VolInfo { .. }
            | C::VolPath { .. }
            | C::VolKey { .. }
            | C::VolName { .. }
            | C::VolPool { .. }
            | C::NetList { .. }
            | C::NetInfo { .. }
            | C::NetName { .. }
            | C::NetUuid { .. }
            | C::IfaceList { .. }
            | C::IfaceName { .. }
            | C::IfaceMac { .. }
            | C::Spawn { .. }
            | C::ImageExport { .. }
            | C::PortgroupEnsure { .. }
            | C::ConsoleTicket { .. }
    )
}

/// Runs a command that needs the connection.
pub async fn run(cmd: &Command, s: &Session, o: &mut Out<'_>) -> Result<(), CliError> {
    if o.json && !supports_json(cmd) {
        return Err(CliError::msg(format!(
            "command '{}' doesn't support option --json",
            cmd.name()
        )));
    }
    if let Some(r) = host::run(cmd, s, o).await {
        return r;
    }
    if let Some(r) = domain::run(cmd, s, o).await {
        return r;
    }
    if let Some(r) = snapshot::run(cmd, s, o).await {
        return r;
    }
    if let Some(r) = storage::run(cmd, s, o).await {
        return r;
    }
    if let Some(r) = network::run(cmd, s, o).await {
        return r;
    }
    if let Some(r) = provision::run(cmd, s, o).await {
        return r;
    }
    Err(CliError::msg(format!(
        "command '{}' needs no connection",
        cmd.name()
    )))
}

/// Which keys a domain lookup tries (virsh's `VIRSH_BYID`, `VIRSH_BYUUID`, `VIRSH_BYNAME`).
#[derive(Debug, Clone, Copy)]
pub struct By {
    /// By id.
    pub id: bool,
    /// By UUID.
    pub uuid: bool,
    /// By name.
    pub name: bool,
}

impl By {
    /// Every key.
    pub const ALL: By = By {
        id: true,
        uuid: true,
        name: true,
    };
}

/// virsh's domain lookup: by id when the text is a non-negative number, then by UUID, then
/// by name; `failed to get domain 'x'` when none matches.
pub async fn lookup_domain(s: &Session, text: &str) -> Result<Domain, CliError> {
    lookup_domain_by(s, text, By::ALL).await
}

/// [`lookup_domain`] with only the keys in `by`.
pub async fn lookup_domain_by(s: &Session, text: &str, by: By) -> Result<Domain, CliError> {
    let c = &s.conn;
    let not_found = || CliError::msg(format!("failed to get domain '{text}'"));
    if let Some(id) = text.parse::<i32>().ok().filter(|_| by.id) {
        if id >= 0 {
            if let Ok(d) = c.domain_lookup_by_id(id).await {
                return Ok(d);
            }
        }
    }
    if text.len() == 36 && by.uuid {
        if let Ok(u) = text.parse::<esx_domain::Uuid>() {
            if let Ok(d) = c.domain_lookup_by_uuid(&u).await {
                return Ok(d);
            }
        }
    }
    if !by.name {
        return Err(not_found());
    }
    match c.domain_lookup_by_name(text).await {
        Ok(d) => Ok(d),
        Err(e) if e.code == esx_driver::ErrorCode::NoDomain => Err(not_found()),
        Err(e) => Err(CliError::Failed {
            what: format!("failed to get domain '{text}'"),
            source: e,
        }),
    }
}

/// virsh's pool lookup: by UUID, then by name; the last driver error follows virsh's line.
pub async fn lookup_pool(s: &Session, text: &str) -> Result<StoragePool, CliError> {
    use esx_driver::StorageDriver;
    if let Ok(u) = text.parse::<esx_domain::Uuid>() {
        if let Ok(p) = s.conn.storage_pool_lookup_by_uuid(&u).await {
            return Ok(p);
        }
    }
    s.conn
        .storage_pool_lookup_by_name(text)
        .await
        .map_err(CliError::failed(format!("failed to get pool '{text}'")))
}

/// virsh's volume lookup: by name in `pool` when one is given, else by key, then by path.
pub async fn lookup_vol(
    s: &Session,
    text: &str,
    pool: Option<&str>,
) -> Result<StorageVolume, CliError> {
    use esx_driver::StorageDriver;
    if let Some(p) = pool {
        let pool = lookup_pool(s, p).await?;
        if let Ok(v) = s.conn.storage_vol_lookup_by_name(&pool, text).await {
            return Ok(v);
        }
    }
    if let Ok(v) = s.conn.storage_vol_lookup_by_key(text).await {
        return Ok(v);
    }
    let err = match s.conn.storage_vol_lookup_by_path(text).await {
        Ok(v) => return Ok(v),
        Err(e) => e,
    };
    Err(CliError::Failed {
        what: if pool.is_some() {
            format!("failed to get vol '{text}'")
        } else {
            format!("failed to get vol '{text}', specifying --pool might help")
        },
        source: err,
    })
}

/// virsh's network lookup: by UUID, then by name.
pub async fn lookup_network(s: &Session, text: &str) -> Result<Network, CliError> {
    if let Ok(u) = text.parse::<esx_domain::Uuid>() {
        if let Ok(n) = s.conn.network_lookup_by_uuid(&u).await {
            return Ok(n);
        }
    }
    s.conn
        .network_lookup_by_name(text)
        .await
        .map_err(CliError::failed(format!("failed to get network '{text}'")))
}

/// virsh's interface lookup: by name, then by MAC address.
pub async fn lookup_iface(s: &Session, text: &str) -> Result<Interface, CliError> {
    let err = match s.conn.interface_lookup_by_name(text).await {
        Ok(i) => return Ok(i),
        Err(e) => e,
    };
    if text.len() == 17 && text.matches(':').count() == 5 {
        if let Ok(i) = s.conn.interface_lookup_by_mac_string(text).await {
            return Ok(i);
        }
    }
    Err(CliError::Failed {
        what: format!("failed to get interface '{text}'"),
        source: err,
    })
}

/// Reads an XML input file as virsh does (`Failed to open file '…'`, 10 MiB at most).
pub fn read_file(path: &std::path::Path) -> Result<String, CliError> {
    let data = crate::domxml::read_input(path)?;
    String::from_utf8(data).map_err(|e| {
        CliError::read(
            path,
            format!(
                "not valid UTF-8 text (at byte {})",
                e.utf8_error().valid_up_to()
            ),
        )
    })
}

/// The OR of the flags whose condition is set.
pub fn bits(pairs: &[(bool, u32)]) -> u32 {
    pairs
        .iter()
        .filter(|(set, _)| *set)
        .fold(0, |f, (_, b)| f | b)
}

/// `--uuid` / `--name` listings: `uuid name`, one object a line, in virsh's order.
pub fn uuid_name_lines<'a>(
    items: impl IntoIterator<Item = (&'a str, String)>,
    uuid: bool,
    name: bool,
) -> String {
    items
        .into_iter()
        .map(|(n, u)| {
            let mut parts = Vec::new();
            if uuid {
                parts.push(u);
            }
            if name {
                parts.push(n.to_string());
            }
            format!("{}\n", parts.join(" "))
        })
        .collect()
}

/// An id as virsh prints it: the number, or `-` for none.
pub fn id_text(id: i32) -> String {
    if id < 0 {
        "-".to_string()
    } else {
        id.to_string()
    }
}
