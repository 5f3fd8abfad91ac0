//! The host: node info, capabilities, host name, free memory, version, features.

use esx_vim::Any;

use crate::error::{Error, Result};
use crate::types::{DriverFeature, NodeInfo};
use crate::vi::Props;
use crate::Connection;

/// Whether the host CPU supports long mode (CPUID 0x80000001, EDX bit 29), from
/// `hardware.cpuFeature`.
pub(crate) fn long_mode(hw: &Props) -> bool {
    let Some(Any::ArrayOfHostCpuIdInfo(leaves)) = hw.get("hardware.cpuFeature") else {
        return false;
    };
    leaves
        .host_cpu_id_info
        .iter()
        .filter(|l| l.level == 0x8000_0001_u32 as i32)
        .filter_map(|l| l.edx.as_deref())
        .any(|edx| register_bit(edx, 29))
}

/// Bit `bit` of a register written as vSphere does (`0010:1000:…`, most significant bit
/// first, `:` every four bits; `-` for an unspecified bit).
fn register_bit(text: &str, bit: u32) -> bool {
    let bits: Vec<char> = text.chars().filter(|c| *c != ':').collect();
    if bits.len() != 32 || bit > 31 {
        return false;
    }
    bits[(31 - bit) as usize] == '1'
}

/// libvirt's clean-up of the CPU model: `(R)`, `(TM)`, `(C)` removed, runs of spaces
/// collapsed, at most 31 characters.
pub(crate) fn clean_cpu_model(model: &str) -> String {
    let mut s = model.to_string();
    for mark in ["(R)", "(TM)", "(C)"] {
        s = s.replace(mark, "");
    }
    let mut out = String::with_capacity(s.len());
    let mut prev_space = false;
    for c in s.chars() {
        if c == ' ' {
            if prev_space {
                continue;
            }
            prev_space = true;
        } else {
            prev_space = false;
        }
        out.push(c);
    }
    out.chars().take(31).collect()
}

impl Connection {
    pub(crate) async fn node_info(&self) -> Result<NodeInfo> {
        self.ensure_open()?;
        let p = self
            .primary()
            .host_props(&[
                "hardware.cpuInfo",
                "hardware.memorySize",
                "hardware.numaInfo.numNodes",
                "summary.hardware.cpuModel",
            ])
            .await?;
        let Some(Any::HostCpuInfo(cpu)) = p.get("hardware.cpuInfo") else {
            return Err(Error::internal("Missing 'hardware.cpuInfo' property"));
        };
        let memory = p
            .int("hardware.memorySize")
            .ok_or_else(|| Error::internal("Missing 'hardware.memorySize' property"))?;
        let nodes = p.int("hardware.numaInfo.numNodes").unwrap_or(0);
        let model = p.str("summary.hardware.cpuModel").unwrap_or_default();
        let cores = cpu.num_cpu_cores.max(0) as u32;
        let packages = cpu.num_cpu_packages.max(0) as u32;
        let threads = cpu.num_cpu_threads.max(0) as u32;
        Ok(NodeInfo {
            model: clean_cpu_model(model),
            memory: (memory.max(0) as u64) / 1024,
            cpus: cores,
            mhz: (cpu.hz.max(0) / 1_000_000) as u32,
            nodes: nodes.max(0) as u32,
            sockets: packages,
            cores: cores.checked_div(packages).unwrap_or(0),
            threads: threads.checked_div(cores).unwrap_or(0),
        })
    }

    pub(crate) fn capabilities_xml(&self) -> String {
        esx_domain::Capabilities::esx(self.inner.long_mode, self.inner.host_uuid).to_xml()
    }

    pub(crate) async fn hostname(&self) -> Result<String> {
        self.ensure_open()?;
        let p = self
            .primary()
            .host_props(&["config.network.dnsConfig"])
            .await?;
        let (host, domain) = match p.get("config.network.dnsConfig") {
            Some(Any::HostDnsConfig(c)) => (c.host_name.clone(), c.domain_name.clone()),
            Some(Any::HostDnsConfigSpec(c)) => (c.host_name.clone(), c.domain_name.clone()),
            _ => (String::new(), String::new()),
        };
        if host.is_empty() {
            return Err(Error::internal("Missing or empty 'hostName' property"));
        }
        Ok(if domain.is_empty() {
            host
        } else {
            format!("{host}.{domain}")
        })
    }

    pub(crate) async fn free_memory(&self) -> Result<u64> {
        self.ensure_open()?;
        let p = self
            .primary()
            .host_props(&[
                "hardware.memorySize",
                "summary.quickStats.overallMemoryUsage",
            ])
            .await?;
        let total = p
            .int("hardware.memorySize")
            .ok_or_else(|| Error::internal("Missing 'hardware.memorySize' property"))?;
        let used = p.int("summary.quickStats.overallMemoryUsage").unwrap_or(0);
        Ok((total - used * 1_048_576).max(0) as u64)
    }

    pub(crate) async fn supports_feature(&self, feature: DriverFeature) -> Result<bool> {
        self.ensure_open()?;
        match feature {
            DriverFeature::MigrationV1 => {
                let Some(vc) = &self.inner.vcenter else {
                    return Ok(false);
                };
                let p = vc.host_props(&["capability.vmotionSupported"]).await?;
                Ok(p.bool("capability.vmotionSupported") == Some(true))
            }
            DriverFeature::Global(n) => Err(Error::internal(format!(
                "Global feature {n} should have already been handled"
            ))),
            _ => Ok(false),
        }
    }

    /// The host's `capability.maxSupportedVcpus`, read once.
    pub(crate) async fn max_vcpus(&self) -> Result<u32> {
        self.ensure_open()?;
        self.inner
            .max_vcpus
            .get_or_try_init(|| async {
                let p = self
                    .primary()
                    .host_props(&["capability.maxSupportedVcpus"])
                    .await?;
                p.int("capability.maxSupportedVcpus")
                    .filter(|v| *v > 0)
                    .map(|v| v as u32)
                    .ok_or_else(|| {
                        Error::internal("Missing 'capability.maxSupportedVcpus' property")
                    })
            })
            .await
            .copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_model_cleanup() {
        assert_eq!(
            clean_cpu_model("Intel(R) Xeon(R) CPU  E5-2650 v2 @ 2.60GHz"),
            "Intel Xeon CPU E5-2650 v2 @ 2.6"
        );
        assert_eq!(clean_cpu_model("AMD Opteron(TM)"), "AMD Opteron");
    }

    #[test]
    fn register_bits() {
        let edx = "0010:1000:0001:0000:0000:1000:0000:0000";
        assert!(register_bit(edx, 29));
        assert!(!register_bit(edx, 31));
        assert!(register_bit(edx, 27));
        assert!(!register_bit("junk", 29));
    }
}
