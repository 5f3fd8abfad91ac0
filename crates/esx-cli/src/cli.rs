//! The command line grammar: `esxsh [-c URI] COMMAND [ARGS]`, as virsh spells it.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// The connection URI used when `-c` is not given (virsh's default test driver URI).
pub const DEFAULT_URI: &str = "test:///default";

/// The only native configuration format the ESX driver knows.
pub const VMWARE_VMX: &str = "vmware-vmx";

/// The virtualHW version `domxml-to-native` writes unless told otherwise: what libvirt's
/// ESX driver picks for current ESX releases (7.x, 8.x) in
/// `esxVI_ProductVersionToDefaultVirtualHWVersion`.
pub const DEFAULT_VIRTUAL_HW: i64 = 8;

/// `esxsh`: a virsh-style command line for ESX, GSX and vCenter.
#[derive(Debug, Clone, PartialEq, Eq, Parser)]
#[command(name = "esxsh", version, about, long_about = None)]
pub struct Cli {
    /// Hypervisor connection URI (esx://, gsx://, vpx://).
    #[arg(short = 'c', long = "connect", value_name = "URI", default_value = DEFAULT_URI)]
    pub connect: String,
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands esxsh knows.
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum Command {
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
    /// Print the connection URI.
    Uri,
    /// Show version information.
    Version,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grammar_is_virsh_s() {
        let cli =
            Cli::try_parse_from(["esxsh", "domxml-from-native", "vmware-vmx", "a.vmx"]).unwrap();
        assert_eq!(cli.connect, DEFAULT_URI);
        assert_eq!(
            cli.command,
            Command::DomxmlFromNative {
                format: "vmware-vmx".into(),
                config: "a.vmx".into()
            }
        );
        let cli = Cli::try_parse_from(["esxsh", "-c", "esx://h/", "uri"]).unwrap();
        assert_eq!(cli.connect, "esx://h/");
        let cli =
            Cli::try_parse_from(["esxsh", "domxml-to-native", "vmware-vmx", "d.xml"]).unwrap();
        assert!(matches!(
            cli.command,
            Command::DomxmlToNative {
                virtual_hw: None,
                ..
            }
        ));
        assert!(Cli::try_parse_from(["esxsh", "domxml-from-native", "vmware-vmx"]).is_err());
        assert!(Cli::try_parse_from(["esxsh", "frobnicate"]).is_err());
    }

    #[test]
    fn clap_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
