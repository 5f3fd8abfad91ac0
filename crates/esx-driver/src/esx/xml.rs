//! Domain XML: reading a VM's `.vmx` and converting it (`domainGetXMLDesc`), and the two
//! native-format conversions.

use esx_domain::Domain as DomainDef;
use esx_domain::FormatOptions;
use esx_uri::DatastorePath;
use esx_vim::client::DatastoreFile;
use esx_vim::VirtualMachinePowerState as P;
use esx_vmx::convert::{
    domain_to_vmx, domain_xml_to_vmx, vmx_text_to_domain, DatastoreResolver, FormatContext,
    ParseContext,
};

use crate::context::{Context, Product};
use crate::error::{Error, ErrorCode, Result};
use crate::flags::domain_xml;
use crate::types::Domain;
use crate::Connection;

/// The only native format (`vmware-vmx`).
pub const VMX_FORMAT: &str = "vmware-vmx";

/// libvirt's `esxVI_ProductVersionToDefaultVirtualHWVersion`.
pub(crate) fn default_virtual_hw(product: Product, version: u64) -> i64 {
    let major = version / 1_000_000;
    let minor = (version / 1000) % 1000;
    match product {
        Product::Gsx => 7,
        Product::Esx => match (major, minor) {
            (3, _) => 4,
            (4, _) => 7,
            (5, 0..=4) => 9,
            (5, _) | (6, _) => 10,
            _ => 8,
        },
        Product::Vpx => match (major, minor) {
            (2, _) => 4,
            (4, _) => 7,
            (5, 0..=4) => 9,
            (5, _) | (6, _) => 10,
            _ => 8,
        },
    }
}

/// Removes what the secure flag guards (VNC passwords).
pub(crate) fn strip_secrets(def: &mut DomainDef) {
    for g in &mut def.devices.graphics {
        g.passwd = None;
    }
}

/// `[ds] dir` of a `.vmx` path, as libvirt builds it for bare file names.
pub(crate) fn vmx_directory(path: &DatastorePath) -> String {
    if path.directory.is_empty() {
        format!("[{}]", path.datastore)
    } else {
        format!("[{}] {}", path.datastore, path.directory)
    }
}

impl Connection {
    /// The datastore resolver for file names, over the host's datastores.
    pub(crate) async fn resolver(&self, vmx_directory: &str) -> Result<DatastoreResolver> {
        let datastores = self
            .datastores()
            .await?
            .into_iter()
            .map(|d| (d.name, d.mount_path))
            .collect();
        Ok(DatastoreResolver {
            datastores,
            vmx_directory: vmx_directory.to_string(),
        })
    }

    /// Downloads the `.vmx` of a VM (its `config.files.vmPathName`).
    pub(crate) async fn download_vmx(&self, ctx: &Context, vm_path: &str) -> Result<Vec<u8>> {
        let path = DatastorePath::parse(vm_path).map_err(|e| Error::internal(e.to_string()))?;
        let file = DatastoreFile::new(
            ctx.datacenter_path.clone(),
            path.datastore.clone(),
            path.directory_and_file.clone(),
        );
        let mut out = Vec::new();
        ctx.client.transport().download(&file, &mut out).await?;
        Ok(out)
    }

    /// The domain definition of a VM as read from its `.vmx`.
    pub(crate) async fn domain_def(&self, dom: &Domain) -> Result<(DomainDef, crate::esx::Vm)> {
        let ctx = self.primary();
        let vm = self.vm(dom, &["config.files.vmPathName"]).await?;
        let vm_path = vm
            .props
            .str("config.files.vmPathName")
            .ok_or_else(|| Error::internal("Missing 'config.files.vmPathName' property"))?
            .to_string();
        let text = self.download_vmx(ctx, &vm_path).await?;
        let path = DatastorePath::parse(&vm_path).map_err(|e| Error::internal(e.to_string()))?;
        let resolver = self.resolver(&vmx_directory(&path)).await?;
        let pctx = ParseContext {
            resolver: &resolver,
            datacenter_path: Some(ctx.datacenter_path.clone()),
            moref: Some(vm.moref.value.clone()),
        };
        let mut def = vmx_text_to_domain(&text, &pctx)?;
        if vm.power_state() != P::PoweredOff {
            def.id = crate::vi::vm_id(&vm.moref).map(i64::from);
        }
        Ok((def, vm))
    }

    pub(crate) async fn xml_desc(&self, dom: &Domain, flags: u32) -> Result<String> {
        crate::esx::lifecycle::check_flags(
            flags,
            domain_xml::SECURE
                | domain_xml::INACTIVE
                | domain_xml::UPDATE_CPU
                | domain_xml::MIGRATABLE,
            "esxDomainGetXMLDesc",
        )?;
        let (mut def, _) = self.domain_def(dom).await?;
        if flags & domain_xml::INACTIVE != 0 {
            def.id = None;
        }
        let secure = flags & domain_xml::SECURE != 0;
        if !secure {
            strip_secrets(&mut def);
        }
        Ok(def.to_xml_with(&FormatOptions { secure }))
    }

    pub(crate) async fn xml_from_native(&self, format: &str, config: &[u8]) -> Result<String> {
        self.ensure_open()?;
        if format != VMX_FORMAT {
            return Err(Error::invalid_arg(format!(
                "Unsupported config format '{format}'"
            )));
        }
        // Bare file names go to libvirt's placeholder directory `[?] ?`.
        let resolver = self.resolver("[?] ?").await?;
        let pctx = ParseContext {
            resolver: &resolver,
            datacenter_path: None,
            moref: None,
        };
        let def = vmx_text_to_domain(config, &pctx)?;
        // As libvirt's driver formats it: inactive, without secrets.
        Ok(def.to_xml_with(&FormatOptions::DRIVER))
    }

    /// The VMX text of a domain definition for this host's default virtual hardware.
    pub(crate) async fn to_vmx(&self, def: &DomainDef) -> Result<String> {
        let ctx = self.primary();
        let resolver = self.resolver("").await?;
        let hw = default_virtual_hw(ctx.product, ctx.product_version);
        Ok(domain_to_vmx(
            def,
            &FormatContext {
                resolver: &resolver,
            },
            hw,
        )?)
    }

    /// `connectDomainXMLFromNative` on raw bytes (a `.vmx` need not be UTF-8: its
    /// `.encoding` says what it is).
    pub async fn domain_xml_from_native_bytes(
        &self,
        format: &str,
        config: &[u8],
    ) -> Result<String> {
        self.xml_from_native(format, config).await
    }

    /// `connectDomainXMLToNative` for a chosen virtualHW version (`None`: the one libvirt picks
    /// for the server's product).
    pub async fn domain_xml_to_native_hw(
        &self,
        format: &str,
        xml: &str,
        virtual_hw: Option<i64>,
    ) -> Result<String> {
        self.xml_to_native(format, xml, virtual_hw).await
    }

    pub(crate) async fn xml_to_native(
        &self,
        format: &str,
        xml: &str,
        virtual_hw: Option<i64>,
    ) -> Result<String> {
        self.ensure_open()?;
        if format != VMX_FORMAT {
            return Err(Error::invalid_arg(format!(
                "Unsupported config format '{format}'"
            )));
        }
        let ctx = self.primary();
        let resolver = self.resolver("").await?;
        let hw = virtual_hw.unwrap_or_else(|| default_virtual_hw(ctx.product, ctx.product_version));
        // libvirt's parse, post-parse and validation, then the VMX formatter.
        Ok(domain_xml_to_vmx(
            xml,
            &FormatContext {
                resolver: &resolver,
            },
            hw,
        )?)
    }
}

/// libvirt's check that the definition is for VMware.
pub(crate) fn check_domain_type(def: &DomainDef) -> Result<()> {
    if def.domain_type != "vmware" {
        return Err(Error::new(
            ErrorCode::ConfigUnsupported,
            format!(
                "Expecting virt type to be 'vmware' but found '{}'",
                def.domain_type
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtual_hw_table() {
        assert_eq!(default_virtual_hw(Product::Esx, 3_005_000), 4);
        assert_eq!(default_virtual_hw(Product::Esx, 4_001_000), 7);
        assert_eq!(default_virtual_hw(Product::Esx, 5_001_000), 9);
        assert_eq!(default_virtual_hw(Product::Esx, 5_005_000), 10);
        assert_eq!(default_virtual_hw(Product::Esx, 6_007_000), 10);
        assert_eq!(default_virtual_hw(Product::Esx, 7_000_003), 8);
        assert_eq!(default_virtual_hw(Product::Vpx, 7_000_003), 8);
        assert_eq!(default_virtual_hw(Product::Gsx, 2_000_000), 7);
    }
}
