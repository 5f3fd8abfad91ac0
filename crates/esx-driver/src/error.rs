//! The driver's error: libvirt's error code, its message prefix and the detail text.

use std::fmt;

/// libvirt's error codes (`virErrorNumber`) that the ESX driver reports, with their numbers,
/// so callers (and `esxsh`) can match what virsh does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// `VIR_ERR_INTERNAL_ERROR`: the server answered something the driver cannot use.
    InternalError,
    /// `VIR_ERR_NO_SUPPORT`: the callback does not exist for this connection.
    NoSupport,
    /// `VIR_ERR_INVALID_ARG`: a bad argument (URI parameter, flag, value out of range).
    InvalidArg,
    /// `VIR_ERR_OPERATION_FAILED`: the server refused or a task failed.
    OperationFailed,
    /// `VIR_ERR_HTTP_ERROR`: an HTTP transfer failed.
    HttpError,
    /// `VIR_ERR_XML_ERROR`: a malformed XML document.
    XmlError,
    /// `VIR_ERR_OPERATION_DENIED`: a read-only connection was asked to change something.
    OperationDenied,
    /// `VIR_ERR_SYSTEM_ERROR`: a local I/O failure.
    SystemError,
    /// `VIR_ERR_NO_DOMAIN`.
    NoDomain,
    /// `VIR_ERR_NO_NETWORK`.
    NoNetwork,
    /// `VIR_ERR_AUTH_FAILED`.
    AuthFailed,
    /// `VIR_ERR_NO_STORAGE_POOL`.
    NoStoragePool,
    /// `VIR_ERR_NO_STORAGE_VOL`.
    NoStorageVol,
    /// `VIR_ERR_OPERATION_INVALID`: the object is in the wrong state for the call.
    OperationInvalid,
    /// `VIR_ERR_NO_INTERFACE`.
    NoInterface,
    /// `VIR_ERR_CONFIG_UNSUPPORTED`: a definition the ESX format cannot express.
    ConfigUnsupported,
    /// `VIR_ERR_OPERATION_TIMEOUT`.
    OperationTimeout,
    /// `VIR_ERR_NO_DOMAIN_SNAPSHOT`.
    NoDomainSnapshot,
    /// `VIR_ERR_ARGUMENT_UNSUPPORTED`: a typed parameter the call does not know.
    ArgumentUnsupported,
    /// `VIR_ERR_OPERATION_ABORTED`: cancelled by the caller.
    OperationAborted,
    /// `VIR_ERR_OPERATION_UNSUPPORTED`.
    OperationUnsupported,
}

impl ErrorCode {
    /// libvirt's number for the code (`virErrorNumber`).
    pub fn number(self) -> i32 {
        match self {
            ErrorCode::InternalError => 1,
            ErrorCode::NoSupport => 3,
            ErrorCode::InvalidArg => 8,
            ErrorCode::OperationFailed => 9,
            ErrorCode::HttpError => 12,
            ErrorCode::XmlError => 27,
            ErrorCode::OperationDenied => 29,
            ErrorCode::SystemError => 38,
            ErrorCode::NoDomain => 42,
            ErrorCode::NoNetwork => 43,
            ErrorCode::AuthFailed => 45,
            ErrorCode::NoStoragePool => 49,
            ErrorCode::NoStorageVol => 50,
            ErrorCode::OperationInvalid => 55,
            ErrorCode::NoInterface => 57,
            ErrorCode::ConfigUnsupported => 67,
            ErrorCode::OperationTimeout => 68,
            ErrorCode::NoDomainSnapshot => 72,
            ErrorCode::ArgumentUnsupported => 74,
            ErrorCode::OperationAborted => 78,
            ErrorCode::OperationUnsupported => 84,
        }
    }

    /// The prefix libvirt puts before the detail text of an error with this code.
    pub fn prefix(self) -> &'static str {
        match self {
            ErrorCode::InternalError => "internal error",
            ErrorCode::NoSupport => "this function is not supported by the connection driver",
            ErrorCode::InvalidArg => "invalid argument",
            ErrorCode::OperationFailed => "operation failed",
            ErrorCode::HttpError => "HTTP error",
            ErrorCode::XmlError => "XML error",
            ErrorCode::OperationDenied => "operation forbidden",
            ErrorCode::SystemError => "system error",
            ErrorCode::NoDomain => "Domain not found",
            ErrorCode::NoNetwork => "Network not found",
            ErrorCode::AuthFailed => "authentication failed",
            ErrorCode::NoStoragePool => "Storage pool not found",
            ErrorCode::NoStorageVol => "Storage volume not found",
            ErrorCode::OperationInvalid => "Requested operation is not valid",
            ErrorCode::NoInterface => "Interface not found",
            ErrorCode::ConfigUnsupported => "unsupported configuration",
            ErrorCode::OperationTimeout => "Timed out during operation",
            ErrorCode::NoDomainSnapshot => "Domain snapshot not found",
            ErrorCode::ArgumentUnsupported => "argument unsupported",
            ErrorCode::OperationAborted => "operation aborted",
            ErrorCode::OperationUnsupported => "Operation not supported",
        }
    }
}

/// A driver error: a libvirt error code and the detail text (displayed as libvirt formats it,
/// `"<prefix>: <detail>"`). Never carries a password.
#[derive(Debug)]
pub struct Error {
    /// libvirt's error code.
    pub code: ErrorCode,
    /// The detail text, e.g. `Could not find domain with name 'web'`.
    pub message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl Error {
    /// An error with `code` and the detail `message`.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Error {
        Error {
            code,
            message: message.into(),
            source: None,
        }
    }

    /// Attaches the underlying error.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// `VIR_ERR_INTERNAL_ERROR` with `message`.
    pub fn internal(message: impl Into<String>) -> Error {
        Error::new(ErrorCode::InternalError, message)
    }

    /// `VIR_ERR_INVALID_ARG` with `message`.
    pub fn invalid_arg(message: impl Into<String>) -> Error {
        Error::new(ErrorCode::InvalidArg, message)
    }

    /// `VIR_ERR_OPERATION_INVALID` with `message`.
    pub fn invalid_op(message: impl Into<String>) -> Error {
        Error::new(ErrorCode::OperationInvalid, message)
    }

    /// `VIR_ERR_OPERATION_FAILED` with `message`.
    pub fn failed(message: impl Into<String>) -> Error {
        Error::new(ErrorCode::OperationFailed, message)
    }

    /// `VIR_ERR_NO_SUPPORT` for `what`.
    pub fn no_support(what: impl Into<String>) -> Error {
        Error::new(ErrorCode::NoSupport, what)
    }

    /// Prefixes the detail text with `context: ` (e.g. "Could not start domain").
    pub fn context(mut self, context: impl fmt::Display) -> Self {
        self.message = format!("{context}: {}", self.message);
        self
    }

    /// The vSphere fault type name behind this error, when it came from one.
    pub fn vim_fault(&self) -> Option<String> {
        let mut cur: Option<&(dyn std::error::Error + 'static)> =
            self.source.as_deref().map(|e| e as _);
        while let Some(e) = cur {
            if let Some(v) = e.downcast_ref::<esx_vim::Error>() {
                return v.fault().map(|f| f.fault_name().to_string());
            }
            if let Some(t) = e.downcast_ref::<esx_vim::client::TaskError>() {
                return Some(t.fault.clone());
            }
            cur = e.source();
        }
        None
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.prefix(), self.message)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|e| e as _)
    }
}

/// Shorthand result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<esx_vim::Error> for Error {
    /// Faults are reported with libvirt's text (`HTTP response code 500 for call to 'M'.
    /// Fault: T - message`) as internal errors, except `NoPermission`, which is what a
    /// read-only user meets (operation forbidden). The typed fault stays reachable through
    /// [`Error::vim_fault`] and the error's source.
    fn from(e: esx_vim::Error) -> Error {
        let (code, message) = match &e {
            esx_vim::Error::Fault { method, fault } => (
                if fault.fault_name() == "NoPermission" {
                    ErrorCode::OperationDenied
                } else {
                    ErrorCode::InternalError
                },
                format!(
                    "HTTP response code 500 for call to '{method}'. Fault: {} - {}",
                    fault.fault_name(),
                    fault.string
                ),
            ),
            esx_vim::Error::Http { .. } => (ErrorCode::HttpError, e.to_string()),
            other => (ErrorCode::InternalError, other.to_string()),
        };
        Error::new(code, message).with_source(e)
    }
}

impl From<esx_vim::client::ClientError> for Error {
    fn from(e: esx_vim::client::ClientError) -> Error {
        use esx_vim::client::ClientError as C;
        match e {
            C::Vim(v) => v.into(),
            C::InvalidLogin { .. } => {
                Error::new(ErrorCode::AuthFailed, e.to_string()).with_source(e)
            }
            C::Task(t) => Error::failed(format!("{} - {}", t.fault, t.message)).with_source(t),
            other => Error::internal(other.to_string()).with_source(other),
        }
    }
}

impl From<esx_vim::client::TransferError> for Error {
    fn from(e: esx_vim::client::TransferError) -> Error {
        use esx_vim::client::TransferError as T;
        let code = match &e {
            T::Io { .. } => ErrorCode::SystemError,
            _ => ErrorCode::HttpError,
        };
        Error::new(code, e.to_string()).with_source(e)
    }
}

impl From<esx_domain::DomainXmlError> for Error {
    fn from(e: esx_domain::DomainXmlError) -> Error {
        Error::new(ErrorCode::XmlError, e.to_string()).with_source(e)
    }
}

impl From<esx_vmx::convert::ConvertError> for Error {
    fn from(e: esx_vmx::convert::ConvertError) -> Error {
        use esx_vmx::convert::ConvertError as C;
        let code = match &e {
            C::Vmx(_) | C::FileName(_) => ErrorCode::InternalError,
            C::Unsupported(_) => ErrorCode::ConfigUnsupported,
        };
        Error::new(code, e.to_string()).with_source(e)
    }
}

impl From<esx_uri::UriError> for Error {
    fn from(e: esx_uri::UriError) -> Error {
        Error::new(ErrorCode::InvalidArg, e.to_string()).with_source(e)
    }
}

impl From<esx_uri::AuthError> for Error {
    fn from(e: esx_uri::AuthError) -> Error {
        Error::new(ErrorCode::AuthFailed, e.to_string()).with_source(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_prefix_and_detail() {
        let e = Error::new(ErrorCode::NoDomain, "Could not find domain with name 'web'");
        assert_eq!(
            e.to_string(),
            "Domain not found: Could not find domain with name 'web'"
        );
        assert_eq!(e.code.number(), 42);
        let e = Error::invalid_op("Domain is not powered off").context("x");
        assert_eq!(
            e.to_string(),
            "Requested operation is not valid: x: Domain is not powered off"
        );
    }
}
