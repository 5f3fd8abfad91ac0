//! What to spawn: the spec of a VM made from a disk image (name, image, CPUs, memory, disk
//! controller and allocation, datastore, NICs and the settings injected for them), its checks,
//! and what a spawn reports back.

use std::net::Ipv4Addr;

use esx_driver::Domain;
use esx_guest::MacAddr;

use crate::cache::CacheUse;
use crate::error::{ProvisionError, Result};
use crate::image::{ImageSource, UrlOptions};
use crate::network::Uplink;

/// The disk controller the image's disk is attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AdapterType {
    /// LSI Logic parallel SCSI (Nova's default).
    #[default]
    LsiLogic,
    /// BusLogic parallel SCSI.
    BusLogic,
    /// LSI Logic SAS.
    LsiLogicSas,
    /// VMware paravirtual SCSI.
    ParaVirtual,
    /// IDE (the VM's built-in IDE controller 0).
    Ide,
}

impl AdapterType {
    /// vSphere's name (`VirtualDiskAdapterType` and Nova's image property).
    pub fn api_name(self) -> &'static str {
        match self {
            AdapterType::LsiLogic => "lsiLogic",
            AdapterType::BusLogic => "busLogic",
            AdapterType::LsiLogicSas => "lsiLogicsas",
            AdapterType::ParaVirtual => "paraVirtual",
            AdapterType::Ide => "ide",
        }
    }

    /// The `ddb.adapterType` a VMDK descriptor records for it.
    pub fn ddb_name(self) -> &'static str {
        match self {
            AdapterType::BusLogic => "buslogic",
            AdapterType::Ide => "ide",
            _ => "lsilogic",
        }
    }

    /// Parses vSphere's, Nova's or a descriptor's spelling (case does not matter).
    pub fn parse(s: &str) -> Option<AdapterType> {
        Some(match s.to_ascii_lowercase().as_str() {
            "lsilogic" => AdapterType::LsiLogic,
            "buslogic" => AdapterType::BusLogic,
            "lsilogicsas" | "lsisas1068" => AdapterType::LsiLogicSas,
            "paravirtual" | "pvscsi" => AdapterType::ParaVirtual,
            "ide" => AdapterType::Ide,
            _ => return None,
        })
    }
}

impl std::str::FromStr for AdapterType {
    type Err = ProvisionError;
    fn from_str(s: &str) -> Result<Self> {
        AdapterType::parse(s).ok_or_else(|| {
            ProvisionError::InvalidArgument(format!(
                "unknown adapter type '{s}' (expected lsiLogic, busLogic, lsiLogicsas, paraVirtual or ide)"
            ))
        })
    }
}

/// How the VM's disk is allocated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DiskType {
    /// Fully allocated (`preallocated`, Nova's 2011 "thick").
    #[default]
    Thick,
    /// Allocated on write.
    Thin,
    /// Fully allocated and zeroed.
    EagerZeroedThick,
}

impl DiskType {
    /// vSphere's `VirtualDiskType` name.
    pub fn api_name(self) -> &'static str {
        match self {
            DiskType::Thick => "preallocated",
            DiskType::Thin => "thin",
            DiskType::EagerZeroedThick => "eagerZeroedThick",
        }
    }
}

impl std::str::FromStr for DiskType {
    type Err = ProvisionError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "thick" | "preallocated" => Ok(DiskType::Thick),
            "thin" => Ok(DiskType::Thin),
            "eagerZeroedThick" | "eager-zeroed-thick" => Ok(DiskType::EagerZeroedThick),
            _ => Err(ProvisionError::InvalidArgument(format!(
                "unknown disk type '{s}' (expected thick, thin or eagerZeroedThick)"
            ))),
        }
    }
}

/// Which datastore holds the VM and the image cache.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum DatastoreChoice {
    /// The first accessible VMFS datastore of the host (Nova 2011).
    #[default]
    FirstVmfs,
    /// The accessible datastore with the most free space (current Nova's default).
    MostFree,
    /// This one.
    Named(String),
}

/// The virtual NIC model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NicModel {
    /// Intel e1000 (current Nova's default).
    #[default]
    E1000,
    /// Intel e1000e.
    E1000e,
    /// VMware vmxnet3.
    Vmxnet3,
    /// AMD PCnet32 (Nova 2011).
    PcNet32,
}

impl std::str::FromStr for NicModel {
    type Err = ProvisionError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "e1000" => Ok(NicModel::E1000),
            "e1000e" => Ok(NicModel::E1000e),
            "vmxnet3" => Ok(NicModel::Vmxnet3),
            "pcnet32" | "vlance" => Ok(NicModel::PcNet32),
            _ => Err(ProvisionError::InvalidArgument(format!(
                "unknown NIC model '{s}' (expected e1000, e1000e, vmxnet3 or pcnet32)"
            ))),
        }
    }
}

/// One NIC of a spawned VM and the settings injected for it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NicSpec {
    /// The port group (or distributed port group) name.
    pub network: String,
    /// Create the port group with this VLAN when missing (see
    /// [`crate::Provisioner::ensure_vlan_portgroup`]).
    pub vlan: Option<u16>,
    /// The MAC address; one in VMware's manual range (`00:50:56:00-3f`) is generated if none.
    pub mac: Option<MacAddr>,
    /// IPv4 address and prefix length.
    pub ipv4: Option<(Ipv4Addr, u8)>,
    /// IPv4 gateway.
    pub gateway: Option<Ipv4Addr>,
    /// DNS servers.
    pub dns: Vec<Ipv4Addr>,
    /// The model.
    pub model: NicModel,
}

/// What to spawn.
#[derive(Debug, Clone)]
pub struct SpawnSpec {
    /// The VM's name.
    pub name: String,
    /// The disk image.
    pub image: ImageSource,
    /// The image's name in the datastore cache (default: derived from its content or URL).
    pub image_id: Option<String>,
    /// Virtual CPUs.
    pub vcpus: u32,
    /// Memory in MiB.
    pub memory_mib: u64,
    /// vSphere guest id (Nova's `vmware_ostype`).
    pub guest_id: String,
    /// The disk controller (default: the image's own descriptor's, else LSI Logic).
    pub adapter: Option<AdapterType>,
    /// The disk's allocation.
    pub disk_type: DiskType,
    /// The datastore.
    pub datastore: DatastoreChoice,
    /// The NICs, in order.
    pub nics: Vec<NicSpec>,
    /// The uplink of VLAN port groups made for NICs.
    pub uplink: Uplink,
    /// The guest's host name (for `guestinfo.metadata`; default: the VM's name).
    pub hostname: Option<String>,
    /// Write `machine.id` (Nova's format).
    pub machine_id: bool,
    /// Write `guestinfo.metadata` (cloud-init's VMware datasource).
    pub guestinfo: bool,
    /// Power the VM on at the end.
    pub power_on: bool,
    /// TLS settings for an image URL.
    pub url_options: UrlOptions,
}

impl SpawnSpec {
    /// A spec with Nova's defaults: 1 vCPU, 512 MiB, `otherGuest`, thick disk, first VMFS
    /// datastore, both injections, powered on, no NIC.
    pub fn new(name: impl Into<String>, image: ImageSource) -> SpawnSpec {
        SpawnSpec {
            name: name.into(),
            image,
            image_id: None,
            vcpus: 1,
            memory_mib: 512,
            guest_id: "otherGuest".into(),
            adapter: None,
            disk_type: DiskType::Thick,
            datastore: DatastoreChoice::FirstVmfs,
            nics: Vec::new(),
            uplink: Uplink::default(),
            hostname: None,
            machine_id: true,
            guestinfo: true,
            power_on: true,
            url_options: UrlOptions::default(),
        }
    }
}

/// A spawned VM.
#[derive(Debug, Clone)]
pub struct Spawned {
    /// Its handle.
    pub domain: Domain,
    /// The datastore it lives on.
    pub datastore: String,
    /// Its `.vmx`.
    pub vmx_path: String,
    /// Its disk.
    pub disk_path: String,
    /// Whether the image came from the cache.
    pub cache: CacheUse,
    /// The MACs of its NICs, in order.
    pub macs: Vec<MacAddr>,
    /// The `machine.id` value written, if any.
    pub machine_id: Option<String>,
}

pub(crate) fn check_spec(spec: &SpawnSpec) -> Result<()> {
    let bad = |m: String| Err(ProvisionError::InvalidArgument(m));
    if spec.name.is_empty() || spec.name.len() > 80 || spec.name.contains(['/', '\\', '[', ']']) {
        return bad(format!(
            "VM name '{}': use 1-80 characters without '/', '\\', '[' or ']'",
            spec.name
        ));
    }
    if spec.vcpus == 0 || spec.vcpus > 768 {
        return bad(format!("{} vCPUs: use 1-768", spec.vcpus));
    }
    if spec.memory_mib < 4 || !spec.memory_mib.is_multiple_of(4) {
        return bad(format!(
            "{} MiB of memory: use a multiple of 4 MiB, at least 4",
            spec.memory_mib
        ));
    }
    if spec.nics.len() > 10 {
        return bad(format!("{} NICs: a VM has at most 10", spec.nics.len()));
    }
    for n in &spec.nics {
        if n.network.is_empty() {
            return bad("a NIC without a network".into());
        }
    }
    Ok(())
}
