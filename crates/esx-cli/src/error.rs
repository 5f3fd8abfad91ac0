//! The error type of every esxsh command.

use std::path::Path;

use esx_domain::DomainXmlError;
use esx_vmx::convert::ConvertError;
use thiserror::Error;

/// Why a command failed. `Display` is the text after virsh's `error: ` prefix.
#[derive(Debug, Error)]
pub enum CliError {
    /// The input file could not be opened (virsh: `Failed to open file '...': <strerror>`).
    #[error("Failed to open file '{path}': {reason}")]
    Open {
        /// The file name as given on the command line.
        path: String,
        /// The operating system's reason, without Rust's `(os error N)` suffix.
        reason: String,
    },
    /// The input file could be opened but not read completely, or is too large.
    #[error("Failed to read file '{path}': {reason}")]
    Read {
        /// The file name as given on the command line.
        path: String,
        /// What went wrong.
        reason: String,
    },
    /// A native format other than `vmware-vmx` was asked for (libvirt's `VIR_ERR_INVALID_ARG`).
    #[error("invalid argument: Unsupported config format '{0}'")]
    UnsupportedFormat(String),
    /// The domain XML document could not be parsed.
    #[error("{0}")]
    DomainXml(#[from] DomainXmlError),
    /// The VMX <-> domain conversion failed (the message is libvirt's).
    #[error("{0}")]
    Convert(#[from] ConvertError),
    /// Writing the result failed (e.g. a closed pipe).
    #[error("Failed to write output: {0}")]
    Output(String),
    /// The connection could not be opened (virsh's two lines).
    #[error("failed to connect to the hypervisor\nerror: {0}")]
    Connect(String),
    /// A driver call failed; the text is libvirt's.
    #[error("{0}")]
    Driver(#[from] esx_driver::Error),
    /// A driver call failed: virsh's line saying what failed, then the driver's error.
    #[error("{what}\nerror: {source}")]
    Failed {
        /// virsh's first line, e.g. `Failed to start domain 'vm1'`.
        what: String,
        /// The driver's error.
        source: esx_driver::Error,
    },
    /// virsh's own error text, e.g. `failed to get domain 'x'`.
    #[error("{0}")]
    Message(String),
}

impl CliError {
    /// A [`CliError::Connect`] from a driver error.
    pub fn connect(e: esx_driver::Error) -> Self {
        CliError::Connect(e.to_string())
    }

    /// Wraps a driver error under virsh's `what` line.
    pub fn failed(what: impl Into<String>) -> impl FnOnce(esx_driver::Error) -> CliError {
        let what = what.into();
        move |source| CliError::Failed { what, source }
    }

    /// A [`CliError::Message`].
    pub fn msg(text: impl Into<String>) -> Self {
        CliError::Message(text.into())
    }

    /// An [`CliError::Open`] for `path` from an I/O error.
    pub fn open(path: &Path, err: &std::io::Error) -> Self {
        CliError::Open {
            path: path.display().to_string(),
            reason: strerror(err),
        }
    }

    /// A [`CliError::Read`] for `path`.
    pub fn read(path: &Path, reason: impl Into<String>) -> Self {
        CliError::Read {
            path: path.display().to_string(),
            reason: reason.into(),
        }
    }
}

/// The C library's text for an I/O error (`No such file or directory`), as virsh prints it.
pub fn strerror(err: &std::io::Error) -> String {
    let text = err.to_string();
    match text.rfind(" (os error ").and_then(|pos| text.get(..pos)) {
        Some(head) if text.ends_with(')') => head.to_string(),
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strerror_drops_the_os_error_suffix() {
        let err = std::io::Error::from_raw_os_error(2);
        assert_eq!(strerror(&err), "No such file or directory");
        let custom = std::io::Error::other("plain");
        assert_eq!(strerror(&custom), "plain");
    }

    #[test]
    fn unsupported_format_text_is_virsh_s() {
        assert_eq!(
            CliError::UnsupportedFormat("xen-xm".into()).to_string(),
            "invalid argument: Unsupported config format 'xen-xm'"
        );
    }
}
