//! vSphere faults raised by the simulator's methods.

use esx_vim::codec::soap::SoapFault;
use esx_vim::{
    AlreadyExists, BaseMethodFault, CannotDeleteFile, DuplicateName, FileAlreadyExists,
    FileNotFound, InvalidArgument, InvalidDatastorePath, InvalidDeviceSpec, InvalidLogin,
    InvalidPowerState, InvalidProperty, InvalidState, LocalizedMethodFault, ManagedObjectNotFound,
    ManagedObjectReference, MethodNotFound, NoDiskSpace, NoPermission, NotAuthenticated, NotFound,
    NotSupported, VirtualMachinePowerState,
};

/// A method's failure: the typed fault plus the `faultstring` text.
#[derive(Debug, Clone, PartialEq)]
pub struct Fault {
    /// The vSphere fault, sent in `detail`.
    pub fault: BaseMethodFault,
    /// The human-readable message.
    pub message: String,
}

/// What every handler returns.
pub type MethodResult<T> = Result<T, Fault>;

impl Fault {
    /// A fault of type `f` with message `msg`.
    pub fn new(f: impl Into<BaseMethodFault>, msg: impl Into<String>) -> Fault {
        Fault {
            fault: f.into(),
            message: msg.into(),
        }
    }

    /// The SOAP fault sent on the wire.
    pub fn to_soap(&self) -> SoapFault {
        SoapFault {
            code: "ServerFaultCode".into(),
            string: self.message.clone(),
            detail: Some(self.fault.clone()),
            detail_type: None,
        }
    }

    /// The fault as a task's or a missing property's `LocalizedMethodFault`.
    pub fn localized(&self) -> LocalizedMethodFault {
        LocalizedMethodFault {
            fault: self.fault.clone(),
            localized_message: Some(self.message.clone()),
        }
    }

    /// `ManagedObjectNotFound` for `obj`.
    pub fn not_found(obj: &ManagedObjectReference) -> Fault {
        Fault::new(
            ManagedObjectNotFound {
                obj: obj.clone(),
                ..Default::default()
            },
            format!(
                "The object '{}' has already been deleted or has not been completely created",
                obj
            ),
        )
    }

    /// `InvalidArgument` naming the parameter.
    pub fn invalid_argument(name: &str) -> Fault {
        Fault::new(
            InvalidArgument {
                invalid_property: Some(name.to_owned()),
                ..Default::default()
            },
            format!("A specified parameter was not correct: {name}"),
        )
    }

    /// `InvalidProperty` for a property path.
    pub fn invalid_property(name: &str) -> Fault {
        Fault::new(
            InvalidProperty {
                name: name.to_owned(),
                ..Default::default()
            },
            format!("Invalid property: {name}"),
        )
    }

    /// `NotAuthenticated`.
    pub fn not_authenticated(obj: &ManagedObjectReference) -> Fault {
        Fault::new(
            NotAuthenticated {
                object: obj.clone(),
                privilege_id: "System.View".into(),
                ..Default::default()
            },
            "The session is not authenticated.",
        )
    }

    /// `NoPermission` for a read-only user.
    pub fn no_permission(obj: &ManagedObjectReference, privilege: &str) -> Fault {
        Fault::new(
            NoPermission {
                object: obj.clone(),
                privilege_id: privilege.to_owned(),
                ..Default::default()
            },
            format!("Permission to perform this operation was denied ({privilege})."),
        )
    }

    /// `InvalidLogin`.
    pub fn invalid_login() -> Fault {
        Fault::new(
            InvalidLogin::default(),
            "Cannot complete login due to an incorrect user name or password.",
        )
    }

    /// `InvalidPowerState`.
    pub fn invalid_power_state(
        requested: Option<VirtualMachinePowerState>,
        existing: VirtualMachinePowerState,
    ) -> Fault {
        Fault::new(
            InvalidPowerState {
                requested_state: requested,
                existing_state: existing,
                ..Default::default()
            },
            "The attempted operation cannot be performed in the current state.",
        )
    }

    /// `InvalidState`.
    pub fn invalid_state(msg: &str) -> Fault {
        Fault::new(InvalidState::default(), msg)
    }

    /// `NotSupported`.
    pub fn not_supported(what: &str) -> Fault {
        Fault::new(
            NotSupported::default(),
            format!("The operation is not supported on the object: {what}"),
        )
    }

    /// `MethodNotFound`.
    pub fn method_not_found(receiver: &ManagedObjectReference, method: &str) -> Fault {
        Fault::new(
            MethodNotFound {
                receiver: receiver.clone(),
                method: method.to_owned(),
                ..Default::default()
            },
            format!("Method {method} not found on {receiver}"),
        )
    }

    /// `FileNotFound`.
    pub fn file_not_found(file: &str) -> Fault {
        Fault::new(
            FileNotFound {
                file: file.to_owned(),
                ..Default::default()
            },
            format!("File {file} was not found"),
        )
    }

    /// `NotFound`.
    pub fn not_found_plain(msg: &str) -> Fault {
        Fault::new(NotFound::default(), msg)
    }

    /// `DuplicateName`.
    pub fn duplicate_name(name: &str, obj: &ManagedObjectReference) -> Fault {
        Fault::new(
            DuplicateName {
                name: name.to_owned(),
                object: obj.clone(),
                ..Default::default()
            },
            format!("The name '{name}' already exists."),
        )
    }

    /// `AlreadyExists`.
    pub fn already_exists(name: &str) -> Fault {
        Fault::new(
            AlreadyExists {
                name: Some(name.to_owned()),
                ..Default::default()
            },
            format!("The specified key, name, or identifier '{name}' already exists."),
        )
    }

    /// `InvalidDeviceSpec` for change number `index` of a `deviceChange` list, naming the
    /// offending `property` (as ESX does: `device.key`, `device.unitNumber`, …).
    pub fn invalid_device_spec(index: i32, property: &str) -> Fault {
        Fault::new(
            InvalidDeviceSpec {
                device_index: index,
                property: Some(property.to_owned()),
                ..Default::default()
            },
            format!("Invalid configuration for device '{index}'."),
        )
    }

    /// `FileAlreadyExists`.
    pub fn file_already_exists(file: &str) -> Fault {
        Fault::new(
            FileAlreadyExists {
                file: file.to_owned(),
                ..Default::default()
            },
            format!(
                "Cannot complete the operation because the file or folder {file} already exists"
            ),
        )
    }

    /// `NoDiskSpace`: `needed` bytes for `file` do not fit in the `free` bytes of `datastore`.
    pub fn no_disk_space(file: &str, datastore: &str, needed: u64, free: u64) -> Fault {
        Fault::new(
            NoDiskSpace {
                file: file.to_owned(),
                datastore: datastore.to_owned(),
                ..Default::default()
            },
            format!(
                "There is not enough space on the file system for the selected operation: \
                 {file} needs {needed} bytes, datastore '{datastore}' has {free} bytes free"
            ),
        )
    }

    /// `InvalidDatastorePath`: not a `[datastore] path` the simulator can resolve.
    pub fn invalid_datastore_path(path: &str) -> Fault {
        let ds = crate::state::parse_ds_path(path).map(|(d, _)| d.to_owned());
        Fault::new(
            InvalidDatastorePath {
                datastore_path: path.to_owned(),
                name: ds,
                ..Default::default()
            },
            format!("Invalid datastore path '{path}'."),
        )
    }

    /// `CannotDeleteFile`.
    pub fn cannot_delete_file(file: &str) -> Fault {
        Fault::new(
            CannotDeleteFile {
                file: file.to_owned(),
                ..Default::default()
            },
            format!("Cannot delete file {file}"),
        )
    }
}
