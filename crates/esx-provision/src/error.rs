//! What can go wrong while provisioning, each naming the object and the reason.

use esx_vim::client::TransferError;

/// Provisioning failed.
#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    /// A VM with the name exists already (Nova's duplicate check).
    #[error("a VM named '{0}' already exists")]
    Duplicate(String),
    /// The files of a VM with the name exist on the datastore (left by something else).
    #[error("'{0}' already exists on the datastore: refusing to overwrite another VM's files")]
    FilesExist(String),
    /// No network (port group or distributed port group) has the name.
    #[error("no network named '{network}' on host '{host}'")]
    NetworkNotFound {
        /// The network asked for.
        network: String,
        /// The host searched.
        host: String,
    },
    /// No usable datastore.
    #[error("no datastore fits: {0}")]
    NoDatastore(String),
    /// The datastore has too little free space for the image.
    #[error("datastore '{datastore}' has {free} bytes free; the disk needs {needed}")]
    NoSpace {
        /// The datastore.
        datastore: String,
        /// Its free space in bytes.
        free: u64,
        /// What the operation needs in bytes.
        needed: u64,
    },
    /// The image is not a usable disk image.
    #[error("image {image}: {error}")]
    Image {
        /// The file or URL.
        image: String,
        /// What is wrong with it.
        #[source]
        error: esx_vmdk::VmdkError,
    },
    /// The image could not be read (missing file, unreachable URL, HTTP error).
    #[error("cannot read image {image}: {reason}")]
    ImageUnreadable {
        /// The file or URL.
        image: String,
        /// Why.
        reason: String,
    },
    /// The export destination could not be written.
    #[error("cannot write image {image}: {reason}")]
    ImageUnwritable {
        /// The file or URL.
        image: String,
        /// Why.
        reason: String,
    },
    /// The uplink physical NIC of a VLAN port group does not exist.
    #[error("physical NIC '{0}' not found on the host")]
    NicNotFound(String),
    /// No virtual switch uses the uplink NIC.
    #[error("no virtual switch uses physical NIC '{0}'")]
    NoVswitch(String),
    /// The named virtual switch does not exist.
    #[error("virtual switch '{0}' not found on the host")]
    VswitchNotFound(String),
    /// The port group exists on another virtual switch.
    #[error("port group '{name}' is on virtual switch '{actual}', not '{expected}'")]
    PortGroupVswitch {
        /// The port group.
        name: String,
        /// Its virtual switch.
        actual: String,
        /// The one it should be on.
        expected: String,
    },
    /// The port group exists with another VLAN.
    #[error("port group '{name}' has VLAN {actual}, not {expected}")]
    PortGroupVlan {
        /// The port group.
        name: String,
        /// Its VLAN.
        actual: i32,
        /// The one asked for.
        expected: i32,
    },
    /// The VM is in the wrong state for the operation (Nova's `Invalid`).
    #[error("{0}")]
    InvalidState(String),
    /// A bad argument.
    #[error("{0}")]
    InvalidArgument(String),
    /// A datastore transfer failed.
    #[error("{what}: {error}")]
    Transfer {
        /// The transfer.
        what: String,
        /// Why.
        #[source]
        error: TransferError,
    },
    /// The driver (or the server behind it) refused or failed.
    #[error(transparent)]
    Driver(#[from] esx_driver::Error),
    /// The operation failed and cleaning up after it failed too: what is left is named.
    #[error("{error} (and cleaning up failed: {cleanup})")]
    CleanupFailed {
        /// The original failure.
        #[source]
        error: Box<ProvisionError>,
        /// What could not be removed, and why.
        cleanup: String,
    },
    /// The operation succeeded but cleaning up after it failed: what is left is named.
    #[error("{done}, but cleaning up failed: {cleanup}")]
    Leftover {
        /// What was done.
        done: String,
        /// What could not be removed, and why.
        cleanup: String,
    },
}

impl From<esx_vim::client::ClientError> for ProvisionError {
    fn from(e: esx_vim::client::ClientError) -> Self {
        ProvisionError::Driver(e.into())
    }
}

impl From<esx_vim::Error> for ProvisionError {
    fn from(e: esx_vim::Error) -> Self {
        ProvisionError::Driver(e.into())
    }
}

/// The crate's result.
pub type Result<T> = std::result::Result<T, ProvisionError>;
