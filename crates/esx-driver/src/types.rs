//! Handles (what libvirt's `virDomainPtr`, `virStoragePoolPtr`, … hold) and the plain
//! results of the driver's calls.

use esx_domain::Uuid;

/// A domain (virtual machine), as libvirt's `virDomainPtr` identifies it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Domain {
    /// The VM's name (`%XX` escapes of vSphere unescaped).
    pub name: String,
    /// The VM's BIOS UUID (`config.uuid`).
    pub uuid: Uuid,
    /// The domain id: the number of the VM's managed object id when it is not powered off,
    /// else -1.
    pub id: i32,
}

impl Domain {
    /// Whether the domain has an id (is not shut off).
    pub fn is_active(&self) -> bool {
        self.id >= 0
    }
}

/// libvirt's domain states (`virDomainState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DomainState {
    /// `VIR_DOMAIN_NOSTATE` (0).
    NoState,
    /// `VIR_DOMAIN_RUNNING` (1): powered on.
    Running,
    /// `VIR_DOMAIN_PAUSED` (3): suspended.
    Paused,
    /// `VIR_DOMAIN_SHUTOFF` (5): powered off.
    Shutoff,
}

impl DomainState {
    /// libvirt's number for the state.
    pub fn number(self) -> i32 {
        match self {
            DomainState::NoState => 0,
            DomainState::Running => 1,
            DomainState::Paused => 3,
            DomainState::Shutoff => 5,
        }
    }

    /// The word virsh prints (`running`, `paused`, `shut off`, `no state`).
    pub fn as_str(self) -> &'static str {
        match self {
            DomainState::NoState => "no state",
            DomainState::Running => "running",
            DomainState::Paused => "paused",
            DomainState::Shutoff => "shut off",
        }
    }

    /// The word of a snapshot's `<state>` (`running`, `paused`, `shutoff`, `nostate`).
    pub fn as_str_xml(self) -> &'static str {
        match self {
            DomainState::Running => "running",
            DomainState::Paused => "paused",
            DomainState::Shutoff => "shutoff",
            DomainState::NoState => "nostate",
        }
    }

    /// The state of a vSphere power state.
    pub fn from_power_state(p: &esx_vim::VirtualMachinePowerState) -> DomainState {
        use esx_vim::VirtualMachinePowerState as P;
        match p {
            P::PoweredOn => DomainState::Running,
            P::PoweredOff => DomainState::Shutoff,
            P::Suspended => DomainState::Paused,
            _ => DomainState::NoState,
        }
    }
}

/// `virDomainInfo`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DomainInfo {
    /// The state.
    pub state: DomainState,
    /// Maximum memory in KiB.
    pub max_mem: u64,
    /// Current memory (the memory limit) in KiB.
    pub memory: u64,
    /// Number of virtual CPUs.
    pub nr_virt_cpu: u32,
    /// CPU time used in nanoseconds (the ESX driver does not fill it: 0).
    pub cpu_time: u64,
}

/// `virNodeInfo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeInfo {
    /// CPU model (at most 31 characters, `(R)`, `(TM)`, `(C)` and doubled spaces removed).
    pub model: String,
    /// Memory in KiB.
    pub memory: u64,
    /// Number of active CPUs (cores).
    pub cpus: u32,
    /// CPU frequency in MHz.
    pub mhz: u32,
    /// NUMA nodes.
    pub nodes: u32,
    /// Sockets per node (libvirt's ESX driver: always 1 after its adjustment).
    pub sockets: u32,
    /// Cores per socket.
    pub cores: u32,
    /// Threads per core.
    pub threads: u32,
}

/// A typed scheduler or memory parameter (`virTypedParameter`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypedParam {
    /// The field name (`reservation`, `limit`, `shares`, `min_guarantee`).
    pub field: String,
    /// The value.
    pub value: TypedValue,
}

/// The value of a [`TypedParam`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypedValue {
    /// `VIR_TYPED_PARAM_INT`.
    Int(i32),
    /// `VIR_TYPED_PARAM_LLONG`.
    LLong(i64),
    /// `VIR_TYPED_PARAM_ULLONG`.
    ULLong(u64),
}

impl TypedParam {
    /// A parameter `field` = `value`.
    pub fn new(field: impl Into<String>, value: TypedValue) -> Self {
        TypedParam {
            field: field.into(),
            value,
        }
    }
}

impl std::fmt::Display for TypedValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TypedValue::Int(v) => write!(f, "{v}"),
            TypedValue::LLong(v) => write!(f, "{v}"),
            TypedValue::ULLong(v) => write!(f, "{v}"),
        }
    }
}

/// A snapshot of a domain (`virDomainSnapshotPtr`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DomainSnapshot {
    /// The domain it belongs to.
    pub domain: Domain,
    /// The snapshot's name (unique in the domain's tree).
    pub name: String,
}

/// A storage pool: a datastore or an iSCSI static target (`virStoragePoolPtr`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StoragePool {
    /// The datastore name, or the iSCSI target's IQN.
    pub name: String,
    /// MD5 of the datastore's host mount path, or of the IQN.
    pub uuid: Uuid,
    /// Which backend serves it.
    pub backend: PoolBackend,
}

/// The storage backends of libvirt's ESX storage driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PoolBackend {
    /// Datastores (VMFS, NFS, local).
    Vmfs,
    /// iSCSI static targets (read-only).
    Iscsi,
}

/// A storage volume (`virStorageVolPtr`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StorageVolume {
    /// The pool's name.
    pub pool: String,
    /// `dir/file` inside a datastore, or the LUN's device name.
    pub name: String,
    /// The key: the disk UUID (ESX), the datastore path, or the LUN's MD5-derived UUID.
    pub key: String,
    /// Which backend serves it.
    pub backend: PoolBackend,
}

/// `virStoragePoolInfo`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoragePoolInfo {
    /// The state.
    pub state: StoragePoolState,
    /// Capacity in bytes.
    pub capacity: u64,
    /// Allocation in bytes.
    pub allocation: u64,
    /// Free space in bytes.
    pub available: u64,
}

/// `virStoragePoolState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoragePoolState {
    /// `VIR_STORAGE_POOL_RUNNING` (2).
    Running,
    /// `VIR_STORAGE_POOL_INACCESSIBLE` (4).
    Inaccessible,
}

impl StoragePoolState {
    /// The word virsh prints.
    pub fn as_str(self) -> &'static str {
        match self {
            StoragePoolState::Running => "running",
            StoragePoolState::Inaccessible => "inaccessible",
        }
    }
}

/// `virStorageVolInfo`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StorageVolumeInfo {
    /// `file` or `block`.
    pub vol_type: StorageVolumeType,
    /// Capacity in bytes.
    pub capacity: u64,
    /// Allocation in bytes.
    pub allocation: u64,
}

/// `virStorageVolType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageVolumeType {
    /// `VIR_STORAGE_VOL_FILE` (0).
    File,
    /// `VIR_STORAGE_VOL_BLOCK` (1).
    Block,
}

impl StorageVolumeType {
    /// The word virsh prints.
    pub fn as_str(self) -> &'static str {
        match self {
            StorageVolumeType::File => "file",
            StorageVolumeType::Block => "block",
        }
    }
}

/// A network: a standard virtual switch (`virNetworkPtr`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Network {
    /// The virtual switch's name.
    pub name: String,
    /// MD5 of the switch's key.
    pub uuid: Uuid,
}

/// A host interface: a physical NIC (`virInterfacePtr`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Interface {
    /// The device name, e.g. `vmnic0`.
    pub name: String,
    /// Its MAC address.
    pub mac: String,
}

/// One guest interface with its addresses (`virDomainInterface`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainInterface {
    /// The network the NIC is connected to.
    pub name: String,
    /// The MAC address.
    pub hwaddr: Option<String>,
    /// The addresses the guest reports.
    pub addrs: Vec<IpAddress>,
}

/// One address of a [`DomainInterface`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpAddress {
    /// The address.
    pub addr: std::net::IpAddr,
    /// The prefix length (0 when the guest did not say).
    pub prefix: u32,
}

/// A pending question on a VM (`runtime.question`), e.g. "moved or copied?".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    /// The question's id, to answer it.
    pub id: String,
    /// The text.
    pub text: String,
    /// `(key, label)` of every choice.
    pub choices: Vec<(String, String)>,
    /// The key of the default choice.
    pub default: Option<String>,
}

/// Optional driver features (`virDrvFeature`) asked with `connect_supports_feature`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DriverFeature {
    /// `VIR_DRV_FEATURE_MIGRATION_V1`.
    MigrationV1,
    /// `VIR_DRV_FEATURE_MIGRATION_V2`.
    MigrationV2,
    /// `VIR_DRV_FEATURE_MIGRATION_V3`.
    MigrationV3,
    /// `VIR_DRV_FEATURE_MIGRATION_P2P`.
    MigrationP2p,
    /// `VIR_DRV_FEATURE_MIGRATION_DIRECT`.
    MigrationDirect,
    /// `VIR_DRV_FEATURE_MIGRATION_PARAMS`.
    MigrationParams,
    /// A global feature (`VIR_DRV_FEATURE_REMOTE`, …), answered by libvirt's core.
    Global(i32),
}

/// libvirt's flag values, grouped as in libvirt's headers.
pub mod flags {
    /// `virConnectFlags`.
    pub mod connect {
        /// `VIR_CONNECT_RO`.
        pub const RO: u32 = 1;
    }
    /// `virConnectListAllDomainsFlags`.
    pub mod list_domains {
        /// `VIR_CONNECT_LIST_DOMAINS_ACTIVE`.
        pub const ACTIVE: u32 = 1 << 0;
        /// `VIR_CONNECT_LIST_DOMAINS_INACTIVE`.
        pub const INACTIVE: u32 = 1 << 1;
        /// `VIR_CONNECT_LIST_DOMAINS_PERSISTENT`.
        pub const PERSISTENT: u32 = 1 << 2;
        /// `VIR_CONNECT_LIST_DOMAINS_TRANSIENT`.
        pub const TRANSIENT: u32 = 1 << 3;
        /// `VIR_CONNECT_LIST_DOMAINS_RUNNING`.
        pub const RUNNING: u32 = 1 << 4;
        /// `VIR_CONNECT_LIST_DOMAINS_PAUSED`.
        pub const PAUSED: u32 = 1 << 5;
        /// `VIR_CONNECT_LIST_DOMAINS_SHUTOFF`.
        pub const SHUTOFF: u32 = 1 << 6;
        /// `VIR_CONNECT_LIST_DOMAINS_OTHER`.
        pub const OTHER: u32 = 1 << 7;
        /// `VIR_CONNECT_LIST_DOMAINS_MANAGEDSAVE`.
        pub const MANAGEDSAVE: u32 = 1 << 8;
        /// `VIR_CONNECT_LIST_DOMAINS_NO_MANAGEDSAVE`.
        pub const NO_MANAGEDSAVE: u32 = 1 << 9;
        /// `VIR_CONNECT_LIST_DOMAINS_AUTOSTART`.
        pub const AUTOSTART: u32 = 1 << 10;
        /// `VIR_CONNECT_LIST_DOMAINS_NO_AUTOSTART`.
        pub const NO_AUTOSTART: u32 = 1 << 11;
        /// `VIR_CONNECT_LIST_DOMAINS_HAS_SNAPSHOT`.
        pub const HAS_SNAPSHOT: u32 = 1 << 12;
        /// `VIR_CONNECT_LIST_DOMAINS_NO_SNAPSHOT`.
        pub const NO_SNAPSHOT: u32 = 1 << 13;
        /// `VIR_CONNECT_LIST_DOMAINS_HAS_CHECKPOINT`.
        pub const HAS_CHECKPOINT: u32 = 1 << 14;
        /// `VIR_CONNECT_LIST_DOMAINS_NO_CHECKPOINT`.
        pub const NO_CHECKPOINT: u32 = 1 << 15;
    }
    /// `virDomainXMLFlags`.
    pub mod domain_xml {
        /// `VIR_DOMAIN_XML_SECURE`: include passwords.
        pub const SECURE: u32 = 1 << 0;
        /// `VIR_DOMAIN_XML_INACTIVE`.
        pub const INACTIVE: u32 = 1 << 1;
        /// `VIR_DOMAIN_XML_UPDATE_CPU`.
        pub const UPDATE_CPU: u32 = 1 << 2;
        /// `VIR_DOMAIN_XML_MIGRATABLE`.
        pub const MIGRATABLE: u32 = 1 << 3;
    }
    /// `virDomainDefineFlags`.
    pub mod define {
        /// `VIR_DOMAIN_DEFINE_VALIDATE`.
        pub const VALIDATE: u32 = 1 << 0;
    }
    /// `virDomainUndefineFlagsValues`.
    pub mod undefine {
        /// `VIR_DOMAIN_UNDEFINE_MANAGED_SAVE`.
        pub const MANAGED_SAVE: u32 = 1 << 0;
        /// `VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA`.
        pub const SNAPSHOTS_METADATA: u32 = 1 << 1;
        /// `VIR_DOMAIN_UNDEFINE_NVRAM`.
        pub const NVRAM: u32 = 1 << 2;
    }
    /// `virDomainModificationImpact` and `virDomainVcpuFlags`.
    pub mod affect {
        /// `VIR_DOMAIN_AFFECT_CURRENT`.
        pub const CURRENT: u32 = 0;
        /// `VIR_DOMAIN_AFFECT_LIVE`.
        pub const LIVE: u32 = 1 << 0;
        /// `VIR_DOMAIN_AFFECT_CONFIG`.
        pub const CONFIG: u32 = 1 << 1;
        /// `VIR_DOMAIN_VCPU_MAXIMUM`.
        pub const VCPU_MAXIMUM: u32 = 1 << 2;
        /// `VIR_DOMAIN_VCPU_GUEST`.
        pub const VCPU_GUEST: u32 = 1 << 3;
    }
    /// `virDomainMigrateFlags`.
    pub mod migrate {
        /// `VIR_MIGRATE_LIVE`.
        pub const LIVE: u32 = 1 << 0;
        /// `VIR_MIGRATE_PEER2PEER`.
        pub const PEER2PEER: u32 = 1 << 1;
        /// `VIR_MIGRATE_TUNNELLED`.
        pub const TUNNELLED: u32 = 1 << 2;
        /// `VIR_MIGRATE_PERSIST_DEST`.
        pub const PERSIST_DEST: u32 = 1 << 3;
        /// `VIR_MIGRATE_UNDEFINE_SOURCE`.
        pub const UNDEFINE_SOURCE: u32 = 1 << 4;
        /// `VIR_MIGRATE_PAUSED`.
        pub const PAUSED: u32 = 1 << 5;
    }
    /// `virDomainSnapshotCreateFlags`.
    pub mod snapshot_create {
        /// `VIR_DOMAIN_SNAPSHOT_CREATE_REDEFINE`.
        pub const REDEFINE: u32 = 1 << 0;
        /// `VIR_DOMAIN_SNAPSHOT_CREATE_CURRENT`.
        pub const CURRENT: u32 = 1 << 1;
        /// `VIR_DOMAIN_SNAPSHOT_CREATE_NO_METADATA`.
        pub const NO_METADATA: u32 = 1 << 2;
        /// `VIR_DOMAIN_SNAPSHOT_CREATE_HALT`.
        pub const HALT: u32 = 1 << 3;
        /// `VIR_DOMAIN_SNAPSHOT_CREATE_DISK_ONLY`.
        pub const DISK_ONLY: u32 = 1 << 4;
        /// `VIR_DOMAIN_SNAPSHOT_CREATE_REUSE_EXT`.
        pub const REUSE_EXT: u32 = 1 << 5;
        /// `VIR_DOMAIN_SNAPSHOT_CREATE_QUIESCE`.
        pub const QUIESCE: u32 = 1 << 6;
        /// `VIR_DOMAIN_SNAPSHOT_CREATE_ATOMIC`.
        pub const ATOMIC: u32 = 1 << 7;
        /// `VIR_DOMAIN_SNAPSHOT_CREATE_LIVE`.
        pub const LIVE: u32 = 1 << 8;
        /// `VIR_DOMAIN_SNAPSHOT_CREATE_VALIDATE`.
        pub const VALIDATE: u32 = 1 << 9;
    }
    /// `virDomainSnapshotListFlags`.
    pub mod snapshot_list {
        /// `VIR_DOMAIN_SNAPSHOT_LIST_ROOTS` (for whole-domain listings).
        pub const ROOTS: u32 = 1 << 0;
        /// `VIR_DOMAIN_SNAPSHOT_LIST_DESCENDANTS` (for children listings; same bit).
        pub const DESCENDANTS: u32 = 1 << 0;
        /// `VIR_DOMAIN_SNAPSHOT_LIST_METADATA`.
        pub const METADATA: u32 = 1 << 1;
        /// `VIR_DOMAIN_SNAPSHOT_LIST_LEAVES`.
        pub const LEAVES: u32 = 1 << 2;
        /// `VIR_DOMAIN_SNAPSHOT_LIST_NO_LEAVES`.
        pub const NO_LEAVES: u32 = 1 << 3;
        /// `VIR_DOMAIN_SNAPSHOT_LIST_NO_METADATA`.
        pub const NO_METADATA: u32 = 1 << 4;
    }
    /// `virDomainSnapshotDeleteFlags`.
    pub mod snapshot_delete {
        /// `VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN`.
        pub const CHILDREN: u32 = 1 << 0;
        /// `VIR_DOMAIN_SNAPSHOT_DELETE_METADATA_ONLY`.
        pub const METADATA_ONLY: u32 = 1 << 1;
        /// `VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN_ONLY`.
        pub const CHILDREN_ONLY: u32 = 1 << 2;
    }
    /// `virDomainSnapshotRevertFlags`.
    pub mod snapshot_revert {
        /// `VIR_DOMAIN_SNAPSHOT_REVERT_RUNNING`.
        pub const RUNNING: u32 = 1 << 0;
        /// `VIR_DOMAIN_SNAPSHOT_REVERT_PAUSED`.
        pub const PAUSED: u32 = 1 << 1;
        /// `VIR_DOMAIN_SNAPSHOT_REVERT_FORCE`.
        pub const FORCE: u32 = 1 << 2;
    }
    /// `virConnectListAllNetworksFlags`.
    pub mod list_networks {
        /// `VIR_CONNECT_LIST_NETWORKS_INACTIVE`.
        pub const INACTIVE: u32 = 1 << 0;
        /// `VIR_CONNECT_LIST_NETWORKS_ACTIVE`.
        pub const ACTIVE: u32 = 1 << 1;
        /// `VIR_CONNECT_LIST_NETWORKS_PERSISTENT`.
        pub const PERSISTENT: u32 = 1 << 2;
        /// `VIR_CONNECT_LIST_NETWORKS_TRANSIENT`.
        pub const TRANSIENT: u32 = 1 << 3;
        /// `VIR_CONNECT_LIST_NETWORKS_AUTOSTART`.
        pub const AUTOSTART: u32 = 1 << 4;
        /// `VIR_CONNECT_LIST_NETWORKS_NO_AUTOSTART`.
        pub const NO_AUTOSTART: u32 = 1 << 5;
    }
    /// `virInterfaceXMLFlags`.
    pub mod interface_xml {
        /// `VIR_INTERFACE_XML_INACTIVE`.
        pub const INACTIVE: u32 = 1 << 0;
    }
    /// `virNetworkDefineFlags`.
    pub mod network_define {
        /// `VIR_NETWORK_DEFINE_VALIDATE`.
        pub const VALIDATE: u32 = 1 << 0;
    }
    /// `virDomainInterfaceAddressesSource`.
    pub mod addresses_source {
        /// `VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE`.
        pub const LEASE: u32 = 0;
        /// `VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT`.
        pub const AGENT: u32 = 1;
        /// `VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_ARP`.
        pub const ARP: u32 = 2;
    }
}
