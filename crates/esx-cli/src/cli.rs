//! The command line grammar: `esxsh [OPTIONS] [COMMAND [ARGS]]`, with virsh's global options,
//! command names, argument names and flags. Every positional argument may also be given by
//! name (`--domain vm1`), as in virsh; [`crate::argv::normalize`] rewrites those before clap
//! sees them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// The connection URI used when `-c` is not given: the embedded host (esx-sim in-process).
pub const DEFAULT_URI: &str = "test:///default";

/// The only native configuration format the ESX driver knows.
pub const VMWARE_VMX: &str = "vmware-vmx";

/// The virtualHW version `domxml-to-native` writes unless told otherwise: what libvirt's
/// ESX driver picks for current ESX releases (7.x, 8.x) in
/// `esxVI_ProductVersionToDefaultVirtualHWVersion`.
pub const DEFAULT_VIRTUAL_HW: i64 = 8;

/// `esxsh`: the virsh of VMware ESX, GSX and vCenter.
///
/// Without a command, esxsh starts an interactive shell. Without `-c`, it talks to an embedded
/// ESX host (`test:///default`) started in-process for the duration of the command.
#[derive(Debug, Clone, PartialEq, Eq, Parser)]
#[command(
    name = "esxsh",
    about,
    long_about = None,
    disable_version_flag = true,
    after_help = "Credentials come from the URI's user, auth.conf (LIBVIRT_AUTH_FILE), \
                  ESX_USERNAME/ESX_PASSWORD, or a prompt on the terminal; never from the \
                  command line."
)]
pub struct Cli {
    /// Hypervisor connection URI (esx://, gsx://, vpx://, or test:///default).
    #[arg(short = 'c', long = "connect", value_name = "URI", default_value = DEFAULT_URI, env = "ESXSH_DEFAULT_CONNECT_URI")]
    pub connect: String,
    /// Connect read-only.
    #[arg(short = 'r', long = "readonly")]
    pub readonly: bool,
    /// Quiet mode: no table headers and no informational messages.
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,
    /// Print the time each command took.
    #[arg(short = 't', long = "timing")]
    pub timing: bool,
    /// Debug level, 0 (everything) to 4 (errors only), to stderr (or RUST_LOG).
    #[arg(short = 'd', long = "debug", value_name = "LEVEL", value_parser = clap::value_parser!(u8).range(0..=4))]
    pub debug: Option<u8>,
    /// Print the short version and exit.
    #[arg(short = 'v', long = "version")]
    pub version: bool,
    /// Print the long version and exit.
    #[arg(short = 'V')]
    pub long_version: bool,
    /// Print the result of read commands as JSON (esxsh extension).
    #[arg(long, global = true)]
    pub json: bool,
    /// The command to run (none: the interactive shell).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// One command line of the interactive shell: a command without global options.
#[derive(Debug, Clone, PartialEq, Eq, Parser)]
#[command(name = "esxsh", no_binary_name = true, disable_help_flag = false)]
pub struct ShellLine {
    /// Print the result of read commands as JSON.
    #[arg(long, global = true)]
    pub json: bool,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// A domain argument: name, id or UUID.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct DomainArg {
    /// Domain name, id or uuid.
    #[arg(value_name = "DOMAIN")]
    pub domain: String,
}

/// `--config`, `--live`, `--current`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Args)]
pub struct Impact {
    /// Affect the next boot.
    #[arg(long)]
    pub config: bool,
    /// Affect the running domain.
    #[arg(long)]
    pub live: bool,
    /// Affect the current domain state.
    #[arg(long, conflicts_with_all = ["config", "live"])]
    pub current: bool,
}

/// The filters and columns of `list`.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct ListArgs {
    /// List inactive domains.
    #[arg(long)]
    pub inactive: bool,
    /// List inactive and active domains.
    #[arg(long)]
    pub all: bool,
    /// List transient domains.
    #[arg(long)]
    pub transient: bool,
    /// List persistent domains.
    #[arg(long)]
    pub persistent: bool,
    /// List domains with existing snapshot.
    #[arg(long = "with-snapshot")]
    pub with_snapshot: bool,
    /// List domains without a snapshot.
    #[arg(long = "without-snapshot")]
    pub without_snapshot: bool,
    /// List domains in running state.
    #[arg(long = "state-running")]
    pub state_running: bool,
    /// List domains in paused state.
    #[arg(long = "state-paused")]
    pub state_paused: bool,
    /// List domains in shutoff state.
    #[arg(long = "state-shutoff")]
    pub state_shutoff: bool,
    /// List domains in other states.
    #[arg(long = "state-other")]
    pub state_other: bool,
    /// List domains with autostart enabled.
    #[arg(long)]
    pub autostart: bool,
    /// List domains with autostart disabled.
    #[arg(long = "no-autostart")]
    pub no_autostart: bool,
    /// List domains with managed save state.
    #[arg(long = "with-managed-save")]
    pub with_managed_save: bool,
    /// List domains without managed save.
    #[arg(long = "without-managed-save")]
    pub without_managed_save: bool,
    /// List uuid's only.
    #[arg(long)]
    pub uuid: bool,
    /// List domain names only.
    #[arg(long)]
    pub name: bool,
    /// List domain IDs only.
    #[arg(long)]
    pub id: bool,
    /// List table (default).
    #[arg(long)]
    pub table: bool,
    /// Mark inactive domains with managed save state.
    #[arg(long = "managed-save")]
    pub managed_save: bool,
    /// Show domain title.
    #[arg(long)]
    pub title: bool,
}

/// A volume argument: name (with the pool), key or path.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct VolArg {
    /// Volume name, key or path.
    #[arg(value_name = "VOL")]
    pub vol: String,
}

/// The commands esxsh knows.
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum Command {
    // --- connection and host ---
    /// Print the connection URI.
    Uri,
    /// Show version information.
    Version {
        /// Report the daemon version too (there is none).
        #[arg(long)]
        daemon: bool,
    },
    /// Print the hypervisor host name.
    Hostname,
    /// Node information.
    Nodeinfo,
    /// Capabilities (XML).
    Capabilities,
    /// Free memory of the host.
    Freecell {
        /// NUMA cell number.
        #[arg(long)]
        cellno: Option<i32>,
        /// Show free memory of all NUMA cells.
        #[arg(long)]
        all: bool,
    },
    /// Host SMBIOS information (the ESX driver has none).
    Sysinfo,
    /// Connection vCPU maximum.
    Maxvcpus {
        /// Domain type.
        #[arg(long = "type")]
        type_: Option<String>,
    },

    // --- domains ---
    /// List domains.
    List(ListArgs),
    /// Domain information.
    Dominfo(DomainArg),
    /// Domain state.
    Domstate {
        /// The domain.
        #[command(flatten)]
        dom: DomainArg,
        /// Also print the reason for the state.
        #[arg(long)]
        reason: bool,
    },
    /// Convert a domain name or UUID to its id.
    Domid(DomainArg),
    /// Convert a domain id or UUID to its name.
    Domname(DomainArg),
    /// Convert a domain name or id to its UUID.
    Domuuid(DomainArg),
    /// Domain information in XML.
    Dumpxml {
        /// The domain.
        #[command(flatten)]
        dom: DomainArg,
        /// Show inactive defined XML.
        #[arg(long)]
        inactive: bool,
        /// Include security sensitive information in XML dump.
        #[arg(long = "security-info")]
        security_info: bool,
        /// Update guest CPU according to host CPU.
        #[arg(long = "update-cpu")]
        update_cpu: bool,
        /// Provide XML suitable for migrations.
        #[arg(long)]
        migratable: bool,
    },
    /// Define (but don't start) a domain from an XML file; an existing domain is edited.
    Define {
        /// File containing an XML domain description.
        file: PathBuf,
        /// Validate the XML against the schema.
        #[arg(long)]
        validate: bool,
    },
    /// Undefine a domain.
    Undefine {
        /// The domain.
        #[command(flatten)]
        dom: DomainArg,
        /// Remove all associated storage volumes (the VM's files).
        #[arg(long = "remove-all-storage")]
        remove_all_storage: bool,
        /// Remove all domain snapshot metadata (ESX keeps none).
        #[arg(long = "snapshots-metadata")]
        snapshots_metadata: bool,
        /// Remove domain managed state file.
        #[arg(long = "managed-save")]
        managed_save: bool,
        /// Remove nvram file.
        #[arg(long)]
        nvram: bool,
    },
    /// Create a domain from an XML file and start it.
    Create {
        /// File containing an XML domain description.
        file: PathBuf,
        /// Leave the guest paused after creation.
        #[arg(long)]
        paused: bool,
        /// Validate the XML against the schema.
        #[arg(long)]
        validate: bool,
    },
    /// Start a (previously defined) inactive domain.
    Start {
        /// The domain.
        #[command(flatten)]
        dom: DomainArg,
        /// Leave the guest paused after start.
        #[arg(long)]
        paused: bool,
    },
    /// Gracefully shutdown a domain.
    Shutdown {
        /// The domain.
        #[command(flatten)]
        dom: DomainArg,
        /// Shutdown mode (only the guest agent, VMware Tools).
        mode: Option<String>,
    },
    /// Reboot a domain.
    Reboot {
        /// The domain.
        #[command(flatten)]
        dom: DomainArg,
        /// Shutdown mode (only the guest agent, VMware Tools).
        mode: Option<String>,
    },
    /// Destroy (stop) a domain.
    Destroy {
        /// The domain.
        #[command(flatten)]
        dom: DomainArg,
        /// Terminate gracefully.
        #[arg(long)]
        graceful: bool,
    },
    /// Suspend a domain.
    Suspend(DomainArg),
    /// Resume a domain.
    Resume(DomainArg),
    /// Change memory allocation (KiB unless a unit is given).
    Setmem {
        /// The domain.
        #[command(flatten)]
        dom: DomainArg,
        /// New memory size, as scaled integer (default KiB).
        size: String,
        /// Which state the change applies to (live, config, current).
        #[command(flatten)]
        impact: Impact,
    },
    /// Change maximum memory limit (KiB unless a unit is given).
    Setmaxmem {
        /// The domain.
        #[command(flatten)]
        dom: DomainArg,
        /// New maximum memory size, as scaled integer (default KiB).
        size: String,
        /// Which state the change applies to (live, config, current).
        #[command(flatten)]
        impact: Impact,
    },
    /// Change number of virtual CPUs.
    Setvcpus {
        /// The domain.
        #[command(flatten)]
        dom: DomainArg,
        /// Number of virtual CPUs.
        count: u32,
        /// Set maximum limit on next boot.
        #[arg(long)]
        maximum: bool,
        /// Which state the change applies to (live, config, current).
        #[command(flatten)]
        impact: Impact,
        /// Modify cpu state in the guest.
        #[arg(long)]
        guest: bool,
    },
    /// Domain vcpu counts.
    Vcpucount {
        /// The domain.
        #[command(flatten)]
        dom: DomainArg,
        /// Get maximum count of vcpus.
        #[arg(long)]
        maximum: bool,
        /// Get number of currently active vcpus.
        #[arg(long)]
        active: bool,
        /// Get value from running domain.
        #[arg(long)]
        live: bool,
        /// Get value to be used on next boot.
        #[arg(long)]
        config: bool,
        /// Get value according to current domain state.
        #[arg(long)]
        current: bool,
        /// Retrieve vcpu count from the guest instead of the hypervisor.
        #[arg(long)]
        guest: bool,
    },
    /// Show/set scheduler parameters.
    Schedinfo {
        /// The domain.
        #[command(flatten)]
        dom: DomainArg,
        /// Parameter=value to set (reservation, limit, shares).
        #[arg(value_name = "SET")]
        set: Vec<String>,
        /// Also accepted as `--set field=value`.
        #[arg(long = "set", value_name = "FIELD=VALUE", hide = true)]
        set_opt: Vec<String>,
        /// Affect the current state.
        #[arg(long)]
        current: bool,
        /// Affect the next boot.
        #[arg(long)]
        config: bool,
        /// Affect the running domain.
        #[arg(long)]
        live: bool,
    },
    /// Get or set memory parameters.
    Memtune {
        /// The domain.
        #[command(flatten)]
        dom: DomainArg,
        /// Max memory, as scaled integer (default KiB).
        #[arg(long = "hard-limit")]
        hard_limit: Option<String>,
        /// Memory during contention, as scaled integer (default KiB).
        #[arg(long = "soft-limit")]
        soft_limit: Option<String>,
        /// Max memory plus swap, as scaled integer (default KiB).
        #[arg(long = "swap-hard-limit")]
        swap_hard_limit: Option<String>,
        /// Min guaranteed memory, as scaled integer (default KiB).
        #[arg(long = "min-guarantee")]
        min_guarantee: Option<String>,
        /// Which state the change applies to (live, config, current).
        #[command(flatten)]
        impact: Impact,
    },
    /// Autostart a domain.
    Autostart {
        /// The domain.
        #[command(flatten)]
        dom: DomainArg,
        /// Disable autostarting.
        #[arg(long)]
        disable: bool,
    },
    /// Print the domain's hostname.
    Domhostname {
        /// The domain.
        #[command(flatten)]
        dom: DomainArg,
        /// Address source: 'agent' (VMware Tools).
        #[arg(long)]
        source: Option<String>,
    },
    /// Get network interfaces' addresses for a running domain.
    Domifaddr {
        /// The domain.
        #[command(flatten)]
        dom: DomainArg,
        /// Network interface name.
        interface: Option<String>,
        /// Always display names and MACs of interfaces.
        #[arg(long)]
        full: bool,
        /// Address source: 'agent' (VMware Tools; the default here).
        #[arg(long)]
        source: Option<String>,
    },
    /// Take a screenshot of a current domain console and store it into a file.
    Screenshot {
        /// The domain.
        #[command(flatten)]
        dom: DomainArg,
        /// Where to store the screenshot.
        #[arg(long)]
        file: Option<PathBuf>,
        /// ID of a screen to take screenshot of.
        #[arg(long)]
        screen: Option<u32>,
    },
    /// Migrate a domain to another host (through their vCenter).
    Migrate {
        /// The domain.
        #[command(flatten)]
        dom: DomainArg,
        /// Connection URI of the destination host.
        desturi: String,
        /// Migration URI (vpxmigr://…); usually left out.
        #[arg(long)]
        migrateuri: Option<String>,
        /// Live migration.
        #[arg(long)]
        live: bool,
        /// Persist the domain on the destination.
        #[arg(long)]
        persistent: bool,
        /// Undefine the domain on the source.
        #[arg(long)]
        undefinesource: bool,
        /// Do not restart the domain on the destination host.
        #[arg(long)]
        suspend: bool,
        /// Rename to new name during migration (not supported by ESX).
        #[arg(long)]
        dname: Option<String>,
        /// Display the progress of migration.
        #[arg(long)]
        verbose: bool,
        /// Peer-to-peer migration (not supported by ESX).
        #[arg(long)]
        p2p: bool,
    },
    /// Edit the XML configuration of a domain in $EDITOR and apply it to the domain.
    Edit {
        /// The domain.
        #[command(flatten)]
        dom: DomainArg,
        /// Skip validation of the XML.
        #[arg(long = "skip-validate")]
        skip_validate: bool,
    },
    /// Domain lifecycle events.
    Event {
        /// Filter by domain name, id or uuid.
        #[arg(long)]
        domain: Option<String>,
        /// Which event type to wait for (only `lifecycle`).
        #[arg(long)]
        event: Option<String>,
        /// Wait for all events.
        #[arg(long)]
        all: bool,
        /// Loop until timeout or interrupt, rather than one event.
        #[arg(long = "loop")]
        loop_: bool,
        /// Timeout seconds.
        #[arg(long)]
        timeout: Option<u64>,
        /// List valid event types.
        #[arg(long)]
        list: bool,
        /// Show timestamp for each printed event.
        #[arg(long)]
        timestamp: bool,
    },

    // --- snapshots ---
    /// Create a snapshot from a set of args.
    SnapshotCreateAs {
        /// The domain.
        #[command(flatten)]
        dom: DomainArg,
        /// Name of snapshot.
        name: Option<String>,
        /// Description of snapshot.
        #[arg(long)]
        description: Option<String>,
        /// Print XML document rather than create.
        #[arg(long = "print-xml")]
        print_xml: bool,
        /// Take snapshot but create no metadata.
        #[arg(long = "no-metadata")]
        no_metadata: bool,
        /// Halt domain after snapshot is created.
        #[arg(long)]
        halt: bool,
        /// Create a disk-only snapshot.
        #[arg(long = "disk-only")]
        disk_only: bool,
        /// Quiesce guest's file systems.
        #[arg(long)]
        quiesce: bool,
        /// Require atomic operation.
        #[arg(long)]
        atomic: bool,
        /// Take a live snapshot.
        #[arg(long)]
        live: bool,
        /// Validate the XML.
        #[arg(long)]
        validate: bool,
    },
    /// Create a snapshot from XML.
    SnapshotCreate {
        /// The domain.
        #[command(flatten)]
        dom: DomainArg,
        /// Domain snapshot XML.
        xmlfile: Option<PathBuf>,
        /// Take snapshot but create no metadata.
        #[arg(long = "no-metadata")]
        no_metadata: bool,
        /// Halt domain after snapshot is created.
        #[arg(long)]
        halt: bool,
        /// Create a disk-only snapshot.
        #[arg(long = "disk-only")]
        disk_only: bool,
        /// Quiesce guest's file systems.
        #[arg(long)]
        quiesce: bool,
        /// Require atomic operation.
        #[arg(long)]
        atomic: bool,
        /// Take a live snapshot.
        #[arg(long)]
        live: bool,
        /// Validate the XML.
        #[arg(long)]
        validate: bool,
    },
    /// List snapshots for a domain.
    SnapshotList {
        /// The domain.
        #[command(flatten)]
        dom: DomainArg,
        /// Add a column showing parent snapshot.
        #[arg(long)]
        parent: bool,
        /// List only snapshots without parents.
        #[arg(long)]
        roots: bool,
        /// List only snapshots without children.
        #[arg(long)]
        leaves: bool,
        /// List only snapshots that are not leaves (with children).
        #[arg(long = "no-leaves")]
        no_leaves: bool,
        /// List only snapshots that have metadata that would prevent undefine.
        #[arg(long)]
        metadata: bool,
        /// List only snapshots that have no metadata managed by libvirt.
        #[arg(long = "no-metadata")]
        no_metadata: bool,
        /// List snapshots in a tree.
        #[arg(long)]
        tree: bool,
        /// Limit list to children of given snapshot.
        #[arg(long)]
        from: Option<String>,
        /// Limit list to children of current snapshot.
        #[arg(long)]
        current: bool,
        /// With --from, list all descendants.
        #[arg(long)]
        descendants: bool,
        /// List snapshot names only.
        #[arg(long)]
        name: bool,
        /// Sort list topologically rather than by name.
        #[arg(long)]
        topological: bool,
    },
    /// Snapshot information.
    SnapshotInfo {
        /// The domain.
        #[command(flatten)]
        dom: DomainArg,
        /// Snapshot name.
        snapshotname: Option<String>,
        /// Info on current snapshot.
        #[arg(long)]
        current: bool,
    },
    /// Dump XML for a domain snapshot.
    SnapshotDumpxml {
        /// The domain.
        #[command(flatten)]
        dom: DomainArg,
        /// Snapshot name.
        snapshotname: String,
        /// Include security sensitive information in XML dump.
        #[arg(long = "security-info")]
        security_info: bool,
    },
    /// Get the current snapshot.
    SnapshotCurrent {
        /// The domain.
        #[command(flatten)]
        dom: DomainArg,
        /// List the name, rather than the full xml.
        #[arg(long)]
        name: bool,
        /// Include security sensitive information in XML dump.
        #[arg(long = "security-info")]
        security_info: bool,
        /// Name of existing snapshot to make current (ESX: not supported).
        snapshotname: Option<String>,
    },
    /// Get the name of the parent of a snapshot.
    SnapshotParent {
        /// The domain.
        #[command(flatten)]
        dom: DomainArg,
        /// Find parent of snapshot name.
        snapshotname: Option<String>,
        /// Find parent of current snapshot.
        #[arg(long)]
        current: bool,
    },
    /// Revert a domain to a snapshot.
    SnapshotRevert {
        /// The domain.
        #[command(flatten)]
        dom: DomainArg,
        /// Snapshot name.
        snapshotname: Option<String>,
        /// Revert to current snapshot.
        #[arg(long)]
        current: bool,
        /// After reverting, change state to running.
        #[arg(long)]
        running: bool,
        /// After reverting, change state to paused.
        #[arg(long)]
        paused: bool,
        /// Try harder on risky reverts.
        #[arg(long)]
        force: bool,
    },
    /// Delete a domain snapshot.
    SnapshotDelete {
        /// The domain.
        #[command(flatten)]
        dom: DomainArg,
        /// Snapshot name.
        snapshotname: Option<String>,
        /// Delete current snapshot.
        #[arg(long)]
        current: bool,
        /// Delete snapshot and all children.
        #[arg(long)]
        children: bool,
        /// Delete children but not snapshot.
        #[arg(long = "children-only")]
        children_only: bool,
        /// Delete only libvirt metadata, leaving snapshot contents behind.
        #[arg(long)]
        metadata: bool,
    },

    // --- storage ---
    /// List pools.
    PoolList {
        /// List inactive pools.
        #[arg(long)]
        inactive: bool,
        /// List inactive & active pools.
        #[arg(long)]
        all: bool,
        /// List transient pools.
        #[arg(long)]
        transient: bool,
        /// List persistent pools.
        #[arg(long)]
        persistent: bool,
        /// List pools with autostart enabled.
        #[arg(long)]
        autostart: bool,
        /// List pools with autostart disabled.
        #[arg(long = "no-autostart")]
        no_autostart: bool,
        /// Only list pool of specified type(s).
        #[arg(long = "type")]
        type_: Option<String>,
        /// Display extended details for pools.
        #[arg(long)]
        details: bool,
        /// List UUID of active pools only.
        #[arg(long)]
        uuid: bool,
        /// List name of active pools only.
        #[arg(long)]
        name: bool,
    },
    /// Storage pool information.
    PoolInfo {
        /// Pool name or uuid.
        pool: String,
        /// Reture pool info in bytes.
        #[arg(long)]
        bytes: bool,
    },
    /// Pool information in XML.
    PoolDumpxml {
        /// Pool name or uuid.
        pool: String,
        /// Show inactive defined XML.
        #[arg(long)]
        inactive: bool,
    },
    /// Refresh a pool.
    PoolRefresh {
        /// Pool name or uuid.
        pool: String,
    },
    /// Convert a pool UUID to pool name.
    PoolName {
        /// Pool uuid.
        pool: String,
    },
    /// Convert a pool name to pool UUID.
    PoolUuid {
        /// Pool name.
        pool: String,
    },
    /// List volumes.
    VolList {
        /// Pool name or uuid.
        pool: String,
        /// Display extended details for volumes.
        #[arg(long)]
        details: bool,
    },
    /// Storage vol information.
    VolInfo {
        /// The volume.
        #[command(flatten)]
        vol: VolArg,
        /// Pool name or uuid.
        pool: Option<String>,
        /// Return the count of bytes instead of a scaled value.
        #[arg(long)]
        bytes: bool,
    },
    /// Vol information in XML.
    VolDumpxml {
        /// The volume.
        #[command(flatten)]
        vol: VolArg,
        /// Pool name or uuid.
        pool: Option<String>,
    },
    /// Returns the volume path for a given volume name or key.
    VolPath {
        /// The volume.
        #[command(flatten)]
        vol: VolArg,
        /// Pool name or uuid.
        pool: Option<String>,
    },
    /// Returns the volume key for a given volume name or path.
    VolKey {
        /// The volume.
        #[command(flatten)]
        vol: VolArg,
        /// Pool name or uuid.
        pool: Option<String>,
    },
    /// Returns the volume name for a given volume key or path.
    VolName {
        /// The volume.
        #[command(flatten)]
        vol: VolArg,
    },
    /// Returns the storage pool for a given volume key or path.
    VolPool {
        /// The volume.
        #[command(flatten)]
        vol: VolArg,
        /// Return the pool uuid rather than pool name.
        #[arg(long)]
        uuid: bool,
    },
    /// Create a vol from an XML file.
    VolCreate {
        /// Pool name.
        pool: String,
        /// File containing an XML vol description.
        file: PathBuf,
    },
    /// Create a volume from a set of args.
    VolCreateAs {
        /// Pool name.
        pool: String,
        /// Name of the volume (`dir/file.vmdk`).
        name: String,
        /// Size of the vol, as scaled integer (default bytes).
        capacity: String,
        /// Initial allocation size, as scaled integer (default bytes).
        #[arg(long)]
        allocation: Option<String>,
        /// File format type (only vmdk).
        #[arg(long)]
        format: Option<String>,
        /// Print XML document, but don't define/create.
        #[arg(long = "print-xml")]
        print_xml: bool,
    },
    /// Clone a volume.
    VolClone {
        /// The volume.
        #[command(flatten)]
        vol: VolArg,
        /// Name of the clone.
        newname: String,
        /// Pool name or uuid.
        pool: Option<String>,
    },
    /// Delete a vol.
    VolDelete {
        /// The volume.
        #[command(flatten)]
        vol: VolArg,
        /// Pool name or uuid.
        pool: Option<String>,
    },
    /// Wipe a vol.
    VolWipe {
        /// The volume.
        #[command(flatten)]
        vol: VolArg,
        /// Pool name or uuid.
        pool: Option<String>,
        /// Perform selected wiping algorithm (only zero).
        #[arg(long)]
        algorithm: Option<String>,
    },
    /// Upload file contents to a volume.
    VolUpload {
        /// The volume.
        #[command(flatten)]
        vol: VolArg,
        /// File.
        file: PathBuf,
        /// Pool name or uuid.
        pool: Option<String>,
        /// Volume offset to upload to (only 0).
        #[arg(long)]
        offset: Option<u64>,
        /// Amount of data to upload.
        #[arg(long)]
        length: Option<u64>,
    },
    /// Download volume contents to a file.
    VolDownload {
        /// The volume.
        #[command(flatten)]
        vol: VolArg,
        /// File.
        file: PathBuf,
        /// Pool name or uuid.
        pool: Option<String>,
        /// Volume offset to download from (only 0).
        #[arg(long)]
        offset: Option<u64>,
        /// Amount of data to download.
        #[arg(long)]
        length: Option<u64>,
    },

    // --- networks and interfaces ---
    /// List networks.
    NetList {
        /// List inactive networks.
        #[arg(long)]
        inactive: bool,
        /// List inactive & active networks.
        #[arg(long)]
        all: bool,
        /// List persistent networks.
        #[arg(long)]
        persistent: bool,
        /// List transient networks.
        #[arg(long)]
        transient: bool,
        /// List networks with autostart enabled.
        #[arg(long)]
        autostart: bool,
        /// List networks with autostart disabled.
        #[arg(long = "no-autostart")]
        no_autostart: bool,
        /// List uuid's only.
        #[arg(long)]
        uuid: bool,
        /// List network names only.
        #[arg(long)]
        name: bool,
        /// List table (default).
        #[arg(long)]
        table: bool,
    },
    /// Network information.
    NetInfo {
        /// Network name or uuid.
        network: String,
    },
    /// Network information in XML.
    NetDumpxml {
        /// Network name or uuid.
        network: String,
        /// Show inactive defined XML.
        #[arg(long)]
        inactive: bool,
    },
    /// Define an inactive persistent virtual network from an XML file.
    NetDefine {
        /// File containing an XML network description.
        file: PathBuf,
        /// Validate the XML against the schema.
        #[arg(long)]
        validate: bool,
    },
    /// Undefine a persistent network.
    NetUndefine {
        /// Network name or uuid.
        network: String,
    },
    /// Convert a network UUID to network name.
    NetName {
        /// Network uuid.
        network: String,
    },
    /// Convert a network name to network UUID.
    NetUuid {
        /// Network name.
        network: String,
    },
    /// List physical host interfaces.
    IfaceList {
        /// List inactive interfaces.
        #[arg(long)]
        inactive: bool,
        /// List inactive & active interfaces.
        #[arg(long)]
        all: bool,
    },
    /// Interface information in XML.
    IfaceDumpxml {
        /// Interface name or MAC address.
        interface: String,
        /// Show inactive defined XML.
        #[arg(long)]
        inactive: bool,
    },
    /// Convert an interface MAC address to interface name.
    IfaceName {
        /// Interface MAC address.
        interface: String,
    },
    /// Convert an interface name to interface MAC address.
    IfaceMac {
        /// Interface name.
        interface: String,
    },

    // --- provisioning (Nova-style) ---
    /// Spawn a VM from a disk image (a file or an http(s) URL; raw flat extent,
    /// monolithicSparse or streamOptimized VMDK), with its network settings injected.
    Spawn {
        /// The new VM's name.
        name: String,
        /// The image: a file path or an http(s):// URL.
        #[arg(long)]
        image: String,
        /// The image's name in the datastore cache (default: from its content or URL).
        #[arg(long)]
        image_id: Option<String>,
        /// Virtual CPUs.
        #[arg(long, default_value_t = 1)]
        vcpus: u32,
        /// Memory in MiB.
        #[arg(long, default_value_t = 512)]
        memory: u64,
        /// vSphere guest id.
        #[arg(long, default_value = "otherGuest")]
        guest_id: String,
        /// Disk adapter: lsiLogic, busLogic, lsiLogicsas, paraVirtual or ide (default: the
        /// image's, else lsiLogic).
        #[arg(long)]
        adapter: Option<String>,
        /// Disk allocation: thick, thin or eagerZeroedThick.
        #[arg(long, default_value = "thick")]
        disk_type: String,
        /// Datastore (default: the first VMFS one).
        #[arg(long)]
        datastore: Option<String>,
        /// Choose the datastore with the most free space.
        #[arg(long, conflicts_with = "datastore")]
        most_free: bool,
        /// A NIC (repeatable); the syntax is in the help text.
        #[arg(
            long = "nic",
            value_name = "SPEC",
            help = "A NIC: network=PG[,vlan=N][,mac=M][,ip=A/P][,gateway=G][,dns=D[;D]][,model=e1000|e1000e|vmxnet3|pcnet32]"
        )]
        nics: Vec<String>,
        /// Uplink of VLAN port groups made for NICs: a physical NIC.
        #[arg(long, default_value = "vmnic0")]
        vlan_interface: String,
        /// The guest's host name (default: the VM's name).
        #[arg(long)]
        hostname: Option<String>,
        /// Do not write machine.id.
        #[arg(long)]
        no_machine_id: bool,
        /// Do not write guestinfo.metadata.
        #[arg(long)]
        no_guestinfo: bool,
        /// Leave the VM powered off.
        #[arg(long)]
        paused: bool,
        /// Accept any certificate of an https image URL.
        #[arg(long)]
        insecure_image: bool,
    },
    /// Snapshot a domain's disk back to an image (the snapshot is removed afterwards).
    ImageExport {
        /// The domain.
        #[command(flatten)]
        domain: DomainArg,
        /// Where to write: a file or an http(s):// URL (PUT).
        dest: String,
        /// flat or streamOptimized.
        #[arg(long, default_value = "flat")]
        format: String,
        /// Accept any certificate of an https destination.
        #[arg(long)]
        insecure_image: bool,
    },
    /// Make sure a VLAN port group exists (Nova's rules).
    PortgroupEnsure {
        /// Port group name.
        name: String,
        /// VLAN id (0-4095).
        #[arg(long)]
        vlan: u16,
        /// On this virtual switch.
        #[arg(long, conflicts_with = "uplink")]
        vswitch: Option<String>,
        /// On the virtual switch using this physical NIC (default vmnic0).
        #[arg(long)]
        uplink: Option<String>,
    },
    /// A one-time console ticket (VMRC) for a domain.
    ConsoleTicket {
        /// The domain.
        #[command(flatten)]
        domain: DomainArg,
    },

    // --- conversions ---
    /// Convert a native guest configuration (a .vmx file) to domain XML.
    #[command(name = "domxml-from-native")]
    DomxmlFromNative {
        /// Source config data format (only `vmware-vmx`).
        format: String,
        /// The native config file.
        config: PathBuf,
    },
    /// Convert domain XML to a native guest configuration (.vmx text).
    #[command(name = "domxml-to-native")]
    DomxmlToNative {
        /// Target config data format (only `vmware-vmx`).
        format: String,
        /// The domain XML file.
        xml: PathBuf,
        /// virtualHW version to write (esxsh extension). Default: what libvirt writes for the
        /// connected server's product, or 8 without a connection.
        #[arg(long = "virtual-hw", value_name = "N")]
        virtual_hw: Option<i64>,
    },

    // --- shell and tooling ---
    /// (Re)connect to the hypervisor (interactive shell).
    Connect {
        /// Hypervisor connection URI.
        name: Option<String>,
        /// Read-only connection.
        #[arg(long)]
        readonly: bool,
    },
    /// Quit the interactive shell.
    #[command(alias = "exit")]
    Quit,
    /// Print a shell completion script (bash, zsh or fish).
    Completion {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Write the esxsh(1) man page (roff) to stdout (used by `cargo xtask man`).
    #[command(hide = true)]
    Man,
}

impl Command {
    /// The command's name as typed (`snapshot-list`).
    pub fn name(&self) -> String {
        use clap::CommandFactory;
        let cmd = ShellLine::command();
        let id = format!("{self:?}");
        let variant = id.split([' ', '(', '{']).next().unwrap_or_default();
        let found = cmd
            .get_subcommands()
            .map(|s| s.get_name().to_string())
            .find(|n| n.replace('-', "").eq_ignore_ascii_case(variant));
        found.unwrap_or_else(|| variant.to_lowercase())
    }

    /// Whether the command needs no connection.
    pub fn is_offline(&self) -> bool {
        matches!(
            self,
            Command::Uri
                | Command::DomxmlFromNative { .. }
                | Command::DomxmlToNative { .. }
                | Command::Connect { .. }
                | Command::Quit
                | Command::Completion { .. }
                | Command::Man
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grammar_is_virsh_s() {
        crate::with_stack(grammar);
    }

    fn grammar() {
        let cli =
            Cli::try_parse_from(["esxsh", "domxml-from-native", "vmware-vmx", "a.vmx"]).unwrap();
        assert_eq!(cli.connect, DEFAULT_URI);
        assert_eq!(
            cli.command,
            Some(Command::DomxmlFromNative {
                format: "vmware-vmx".into(),
                config: "a.vmx".into()
            })
        );
        let cli = Cli::try_parse_from(["esxsh", "-c", "esx://h/", "uri"]).unwrap();
        assert_eq!(cli.connect, "esx://h/");
        let cli =
            Cli::try_parse_from(["esxsh", "domxml-to-native", "vmware-vmx", "d.xml"]).unwrap();
        assert!(matches!(
            cli.command,
            Some(Command::DomxmlToNative {
                virtual_hw: None,
                ..
            })
        ));
        assert!(Cli::try_parse_from(["esxsh", "domxml-from-native", "vmware-vmx"]).is_err());
        assert!(Cli::try_parse_from(["esxsh", "frobnicate"]).is_err());
        let cli = Cli::try_parse_from(["esxsh", "-q", "list", "--all", "--json"]).unwrap();
        assert!(cli.quiet && cli.json);
    }

    #[test]
    fn command_names() {
        crate::with_stack(names);
    }

    fn names() {
        let cli = Cli::try_parse_from(["esxsh", "snapshot-list", "vm1"]).unwrap();
        assert_eq!(cli.command.unwrap().name(), "snapshot-list");
        let cli = Cli::try_parse_from(["esxsh", "dominfo", "vm1"]).unwrap();
        assert_eq!(cli.command.unwrap().name(), "dominfo");
        let cli = Cli::try_parse_from(["esxsh", "domxml-from-native", "a", "b"]).unwrap();
        assert_eq!(cli.command.unwrap().name(), "domxml-from-native");
    }

    #[test]
    fn clap_definition_is_consistent() {
        use clap::CommandFactory;
        crate::with_stack(|| {
            Cli::command().debug_assert();
            ShellLine::command().debug_assert();
        });
    }
}
