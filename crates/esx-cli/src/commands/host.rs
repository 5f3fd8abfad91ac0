//! Connection and host commands: `uri`, `version`, `hostname`, `nodeinfo`, `capabilities`,
//! `freecell`, `sysinfo`, `maxvcpus`.

use esx_driver::{ErrorCode, HypervisorDriver};
use serde_json::json;

use super::Out;
use crate::cli::Command;
use crate::error::CliError;
use crate::output::field;
use crate::session::Session;

fn unsupported(api: &str) -> esx_driver::Error {
    esx_driver::Error::new(ErrorCode::NoSupport, api)
}

/// `major.minor.micro` of libvirt's version number.
pub fn version_text(v: u64) -> String {
    format!("{}.{}.{}", v / 1_000_000, (v / 1000) % 1000, v % 1000)
}

pub(super) async fn run(
    cmd: &Command,
    s: &Session,
    o: &mut Out<'_>,
) -> Option<Result<(), CliError>> {
    let c = &s.conn;
    let r = match cmd {
        Command::Uri => {
            if o.json {
                o.json_value(&json!({ "uri": s.uri }))
            } else {
                o.print(&format!("{}\n", s.uri))
            }
        }
        Command::Version { .. } => {
            async {
                let ty = c.connect_get_type().await?;
                let v = c.connect_get_version().await?;
                let ours = env!("CARGO_PKG_VERSION");
                if o.json {
                    return o.json_value(&json!({
                        "library": ours, "api": { "type": ty, "version": ours },
                        "hypervisor": { "type": ty, "version": version_text(v) },
                    }));
                }
                o.print(&format!(
                    "Compiled against library: esx {ours}\nUsing library: esx {ours}\n\
                 Using API: {ty} {ours}\nRunning hypervisor: {ty} {}\n",
                    version_text(v)
                ))
            }
            .await
        }
        Command::Hostname => {
            async {
                let h = c
                    .connect_get_hostname()
                    .await
                    .map_err(CliError::failed("failed to get hostname"))?;
                if o.json {
                    o.json_value(&json!({ "hostname": h }))
                } else {
                    o.print(&format!("{h}\n"))
                }
            }
            .await
        }
        Command::Nodeinfo => {
            async {
                let n = c
                    .node_get_info()
                    .await
                    .map_err(CliError::failed("failed to get node information"))?;
                if o.json {
                    return o.json_value(&json!({
                        "cpu_model": n.model, "cpus": n.cpus, "mhz": n.mhz, "sockets": n.sockets,
                        "cores_per_socket": n.cores, "threads_per_core": n.threads,
                        "numa_cells": n.nodes, "memory_kib": n.memory,
                    }));
                }
                let mut t = String::new();
                field(&mut t, 20, "CPU model:", &n.model);
                field(&mut t, 20, "CPU(s):", n.cpus);
                field(&mut t, 20, "CPU frequency:", format!("{} MHz", n.mhz));
                field(&mut t, 20, "CPU socket(s):", n.sockets);
                field(&mut t, 20, "Core(s) per socket:", n.cores);
                field(&mut t, 20, "Thread(s) per core:", n.threads);
                field(&mut t, 20, "NUMA cell(s):", n.nodes);
                field(&mut t, 20, "Memory size:", format!("{} KiB", n.memory));
                o.print(&t)
            }
            .await
        }
        Command::Capabilities => {
            async {
                let caps = c
                    .connect_get_capabilities()
                    .await
                    .map_err(CliError::failed("failed to get capabilities"))?;
                o.print(&caps)?;
                if !caps.ends_with('\n') {
                    o.print("\n")?;
                }
                Ok(())
            }
            .await
        }
        Command::Freecell { cellno, all } => {
            async {
                if *all || cellno.is_some() {
                    return Err(CliError::Driver(unsupported("virNodeGetCellsFreeMemory")));
                }
                let free = c.node_get_free_memory().await?;
                if o.json {
                    return o.json_value(&json!({ "total_free_kib": free / 1024 }));
                }
                o.print(&format!("Total: {} KiB\n", free / 1024))
            }
            .await
        }
        Command::Sysinfo => Err(CliError::Failed {
            what: "failed to get sysinfo".into(),
            source: unsupported("virConnectGetSysinfo"),
        }),
        Command::Maxvcpus { .. } => {
            async {
                // libvirt's ESX driver answers this per domain only: ask about any domain.
                let doms = c.connect_list_all_domains(0).await?;
                let Some(d) = doms.first() else {
                    return Err(CliError::Driver(unsupported("virConnectGetMaxVcpus")));
                };
                let max = c.domain_get_max_vcpus(d).await?;
                if o.json {
                    return o.json_value(&json!({ "max_vcpus": max }));
                }
                o.print(&format!("{max}\n"))
            }
            .await
        }
        _ => return None,
    };
    Some(r)
}
