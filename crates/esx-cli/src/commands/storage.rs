//! Storage pool and volume commands.

use std::pin::Pin;
use std::task::{Context, Poll};

use esx_driver::{StorageDriver, StorageVolume};
use serde_json::json;
use tokio::io::{AsyncRead, ReadBuf};

use super::{lookup_pool, lookup_vol, read_file, Out};
use crate::cli::Command;
use crate::error::CliError;
use crate::output::{capacity, field, parse_scaled, yes_no, Table};
use crate::progress::Progress;
use crate::session::Session;

/// Counts bytes read into a progress bar.
struct Counting<R> {
    inner: R,
    bar: Option<indicatif::ProgressBar>,
}

impl<R: AsyncRead + Unpin> AsyncRead for Counting<R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let (Poll::Ready(Ok(())), Some(b)) = (&r, &self.bar) {
            b.inc((buf.filled().len() - before) as u64);
        }
        r
    }
}

/// Counts bytes written into a progress bar.
struct CountingWriter<W> {
    inner: W,
    bar: Option<indicatif::ProgressBar>,
}

impl<W: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for CountingWriter<W> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, data);
        if let (Poll::Ready(Ok(n)), Some(b)) = (&r, &self.bar) {
            b.inc(*n as u64);
        }
        r
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

fn size_arg(text: &str, name: &str) -> Result<u64, CliError> {
    parse_scaled(text, 1).ok_or_else(|| {
        CliError::msg(format!(
            "Numeric value '{text}' for <{name}> option is malformed or out of range"
        ))
    })
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

async fn vol_info(
    s: &Session,
    v: &StorageVolume,
) -> Result<esx_driver::StorageVolumeInfo, CliError> {
    Ok(s.conn.storage_vol_get_info(v).await?)
}

pub(super) async fn run(
    cmd: &Command,
    s: &Session,
    o: &mut Out<'_>,
) -> Option<Result<(), CliError>> {
    let c = &s.conn;
    let r = match cmd {
        Command::PoolList {
            inactive,
            all,
            transient,
            persistent: _,
            autostart: _,
            no_autostart,
            type_,
            details,
            uuid,
            name,
        } => async {
            // Pools are always active, persistent and autostarted on ESX.
            let mut names = c.connect_list_storage_pools().await?;
            names.sort();
            if (*inactive && !*all) || *transient || *no_autostart {
                names.clear();
            }
            let mut pools = Vec::new();
            for n in &names {
                let p = c.storage_pool_lookup_by_name(n).await?;
                let info = c.storage_pool_get_info(&p).await?;
                pools.push((p, info));
            }
            if let Some(t) = type_ {
                let want: Vec<&str> = t.split(',').collect();
                let mut keep = Vec::new();
                for (p, i) in pools {
                    let xml = c.storage_pool_get_xml_desc(&p, 0).await?;
                    let ty = esx_domain::StoragePool::from_xml(&xml)
                        .map(|d| d.pool_type.as_str().to_string())
                        .unwrap_or_default();
                    if want.contains(&ty.as_str()) {
                        keep.push((p, i));
                    }
                }
                pools = keep;
            }
            if o.json {
                let v: Vec<_> = pools
                    .iter()
                    .map(|(p, i)| json!({ "name": p.name, "uuid": p.uuid.to_string(),
                        "state": i.state.as_str(), "autostart": true, "persistent": true,
                        "capacity": i.capacity, "allocation": i.allocation, "available": i.available }))
                    .collect();
                return o.json_value(&serde_json::Value::Array(v));
            }
            if *name || *uuid {
                let t = super::uuid_name_lines(
                    pools.iter().map(|(p, _)| (p.name.as_str(), p.uuid.to_string())),
                    *uuid,
                    *name,
                );
                return o.print(&t);
            }
            if *details {
                let mut t = Table::new([
                    "Name", "State", "Autostart", "Persistent", "Capacity", "Allocation", "Available",
                ]);
                for (p, i) in &pools {
                    let running = i.state == esx_driver::StoragePoolState::Running;
                    t.row([
                        p.name.clone(),
                        i.state.as_str().to_string(),
                        "yes".into(),
                        "yes".into(),
                        if running { capacity(i.capacity) } else { "-".into() },
                        if running { capacity(i.allocation) } else { "-".into() },
                        if running { capacity(i.available) } else { "-".into() },
                    ]);
                }
                return o.table(&t);
            }
            let mut t = Table::new(["Name", "State", "Autostart"]);
            for (p, _) in &pools {
                t.row([p.name.as_str(), "active", "yes"]);
            }
            o.table(&t)
        }
        .await,
        Command::PoolInfo { pool, bytes } => async {
            let p = lookup_pool(s, pool).await?;
            let i = c.storage_pool_get_info(&p).await?;
            let persistent = c.storage_pool_is_persistent(&p).await?;
            let autostart = c.storage_pool_get_autostart(&p).await?;
            if o.json {
                return o.json_value(&json!({ "name": p.name, "uuid": p.uuid.to_string(),
                    "state": i.state.as_str(), "persistent": persistent, "autostart": autostart,
                    "capacity": i.capacity, "allocation": i.allocation, "available": i.available }));
            }
            let mut t = String::new();
            field(&mut t, 15, "Name:", &p.name);
            field(&mut t, 15, "UUID:", p.uuid);
            field(&mut t, 15, "State:", i.state.as_str());
            field(&mut t, 15, "Persistent:", yes_no(persistent));
            field(&mut t, 15, "Autostart:", yes_no(autostart));
            if i.state == esx_driver::StoragePoolState::Running {
                let f = |v: u64| if *bytes { v.to_string() } else { capacity(v) };
                field(&mut t, 15, "Capacity:", f(i.capacity));
                field(&mut t, 15, "Allocation:", f(i.allocation));
                field(&mut t, 15, "Available:", f(i.available));
            }
            o.print(&t)
        }
        .await,
        Command::PoolDumpxml { pool, inactive } => async {
            let p = lookup_pool(s, pool).await?;
            let xml = c.storage_pool_get_xml_desc(&p, u32::from(*inactive)).await?;
            super::domain::print_doc(o, &xml)
        }
        .await,
        Command::PoolRefresh { pool } => async {
            let p = lookup_pool(s, pool).await?;
            c.storage_pool_refresh(&p, 0)
                .await
                .map_err(CliError::failed(format!("Failed to refresh pool {}", p.name)))?;
            o.extra(&format!("Pool {} refreshed\n", p.name))
        }
        .await,
        Command::PoolName { pool } => async {
            let p = lookup_pool(s, pool).await?;
            if o.json {
                return o.json_value(&json!({ "name": p.name }));
            }
            o.print(&format!("{}\n", p.name))
        }
        .await,
        Command::PoolUuid { pool } => async {
            let p = lookup_pool(s, pool).await?;
            if o.json {
                return o.json_value(&json!({ "uuid": p.uuid.to_string() }));
            }
            o.print(&format!("{}\n", p.uuid))
        }
        .await,
        Command::VolList { pool, details } => async {
            let p = lookup_pool(s, pool).await?;
            let mut names = c
                .storage_pool_list_volumes(&p)
                .await
                .map_err(CliError::failed("Failed to list storage volumes"))?;
            names.sort();
            let mut rows = Vec::new();
            for n in &names {
                let v = c.storage_vol_lookup_by_name(&p, n).await?;
                let path = c.storage_vol_get_path(&v).await?;
                let info = if *details || o.json {
                    Some(vol_info(s, &v).await?)
                } else {
                    None
                };
                rows.push((v, path, info));
            }
            if o.json {
                let v: Vec<_> = rows
                    .iter()
                    .map(|(v, path, i)| {
                        let i = i.as_ref();
                        json!({ "name": v.name, "path": path, "key": v.key,
                            "type": i.map(|i| i.vol_type.as_str()),
                            "capacity": i.map(|i| i.capacity), "allocation": i.map(|i| i.allocation) })
                    })
                    .collect();
                return o.json_value(&serde_json::Value::Array(v));
            }
            if *details {
                let mut t = Table::new(["Name", "Path", "Type", "Capacity", "Allocation"]);
                for (v, path, i) in &rows {
                    let i = i.as_ref().copied();
                    t.row([
                        v.name.clone(),
                        path.clone(),
                        i.map(|i| i.vol_type.as_str().to_string()).unwrap_or_default(),
                        i.map(|i| capacity(i.capacity)).unwrap_or_default(),
                        i.map(|i| capacity(i.allocation)).unwrap_or_default(),
                    ]);
                }
                return o.table(&t);
            }
            let mut t = Table::new(["Name", "Path"]);
            for (v, path, _) in &rows {
                t.row([v.name.clone(), path.clone()]);
            }
            o.table(&t)
        }
        .await,
        Command::VolInfo { vol, pool, bytes } => async {
            let v = lookup_vol(s, &vol.vol, pool.as_deref()).await?;
            let i = vol_info(s, &v).await?;
            if o.json {
                return o.json_value(&json!({ "name": v.name, "type": i.vol_type.as_str(),
                    "capacity": i.capacity, "allocation": i.allocation }));
            }
            let f = |n: u64| if *bytes { format!("{n} bytes") } else { capacity(n) };
            let mut t = String::new();
            field(&mut t, 15, "Name:", &v.name);
            field(&mut t, 15, "Type:", i.vol_type.as_str());
            field(&mut t, 15, "Capacity:", f(i.capacity));
            field(&mut t, 15, "Allocation:", f(i.allocation));
            o.print(&t)
        }
        .await,
        Command::VolDumpxml { vol, pool } => async {
            let v = lookup_vol(s, &vol.vol, pool.as_deref()).await?;
            let xml = c.storage_vol_get_xml_desc(&v, 0).await?;
            super::domain::print_doc(o, &xml)
        }
        .await,
        Command::VolPath { vol, pool } => async {
            let v = lookup_vol(s, &vol.vol, pool.as_deref()).await?;
            let path = c.storage_vol_get_path(&v).await?;
            if o.json {
                return o.json_value(&json!({ "path": path }));
            }
            o.print(&format!("{path}\n"))
        }
        .await,
        Command::VolKey { vol, pool } => async {
            let v = lookup_vol(s, &vol.vol, pool.as_deref()).await?;
            if o.json {
                return o.json_value(&json!({ "key": v.key }));
            }
            o.print(&format!("{}\n", v.key))
        }
        .await,
        Command::VolName { vol } => async {
            let v = lookup_vol(s, &vol.vol, None).await?;
            if o.json {
                return o.json_value(&json!({ "name": v.name }));
            }
            o.print(&format!("{}\n", v.name))
        }
        .await,
        Command::VolPool { vol, uuid } => async {
            let v = lookup_vol(s, &vol.vol, None).await?;
            let p = c
                .storage_pool_lookup_by_volume(&v)
                .await
                .map_err(CliError::failed("failed to get parent pool"))?;
            if o.json {
                return o.json_value(&json!({ "name": p.name, "uuid": p.uuid.to_string() }));
            }
            if *uuid {
                o.print(&format!("{}\n", p.uuid))
            } else {
                o.print(&format!("{}\n", p.name))
            }
        }
        .await,
        Command::VolCreate { pool, file } => async {
            let p = lookup_pool(s, pool).await?;
            let xml = read_file(file)?;
            let pr = Progress::task(c, "create");
            let v = pr
                .conn
                .storage_vol_create_xml(&p, &xml, 0)
                .await
                .map_err(CliError::failed(format!("Failed to create vol from {}", file.display())))?;
            pr.finish();
            o.extra(&format!("Vol {} created from {}\n", v.name, file.display()))
        }
        .await,
        Command::VolCreateAs {
            pool,
            name,
            capacity: cap,
            allocation,
            format,
            print_xml,
        } => async {
            let cap = size_arg(cap, "capacity")?;
            let mut xml = format!(
                "<volume>\n  <name>{}</name>\n  <capacity>{cap}</capacity>\n",
                escape(name)
            );
            if let Some(a) = allocation {
                xml.push_str(&format!("  <allocation>{}</allocation>\n", size_arg(a, "allocation")?));
            }
            if let Some(f) = format {
                xml.push_str(&format!("  <target>\n    <format type='{}'/>\n  </target>\n", escape(f)));
            }
            xml.push_str("</volume>\n");
            if *print_xml {
                return o.print(&xml);
            }
            let p = lookup_pool(s, pool).await?;
            let pr = Progress::task(c, "create");
            let v = pr
                .conn
                .storage_vol_create_xml(&p, &xml, 0)
                .await
                .map_err(CliError::failed(format!("Failed to create vol {name}")))?;
            pr.finish();
            o.extra(&format!("Vol {} created\n", v.name))
        }
        .await,
        Command::VolClone { vol, newname, pool } => async {
            let src = lookup_vol(s, &vol.vol, pool.as_deref()).await?;
            let p = c.storage_pool_lookup_by_volume(&src).await?;
            let xml = c.storage_vol_get_xml_desc(&src, 0).await?;
            let mut def = esx_domain::StorageVolume::from_xml(&xml).map_err(esx_driver::Error::from)?;
            def.name = newname.clone();
            def.key = None;
            // The driver takes only preallocated (allocation = capacity) or thin (0) disks,
            // and a thin source reports its file size: clone anything else as thin, as
            // libvirt lets ESX do.
            if def.allocation != def.capacity {
                def.allocation = 0;
            }
            let pr = Progress::task(c, "clone");
            let v = pr
                .conn
                .storage_vol_create_xml_from(&p, &def.to_xml(), &src, 0)
                .await
                .map_err(CliError::failed(format!("Failed to clone vol from {}", src.name)))?;
            pr.finish();
            o.extra(&format!("Vol {} cloned from {}\n", v.name, src.name))
        }
        .await,
        Command::VolDelete { vol, pool } => async {
            let v = lookup_vol(s, &vol.vol, pool.as_deref()).await?;
            let pr = Progress::task(c, "delete");
            pr.conn
                .storage_vol_delete(&v, 0)
                .await
                .map_err(CliError::failed(format!("Failed to delete vol {}", vol.vol)))?;
            pr.finish();
            o.extra(&format!("Vol {} deleted\n", vol.vol))
        }
        .await,
        Command::VolWipe {
            vol,
            pool,
            algorithm,
        } => async {
            let v = lookup_vol(s, &vol.vol, pool.as_deref()).await?;
            if algorithm.as_deref().is_some_and(|a| a != "zero") {
                return Err(CliError::Failed {
                    what: format!("Failed to wipe vol {}", vol.vol),
                    source: esx_driver::Error::new(
                        esx_driver::ErrorCode::NoSupport,
                        "virStorageVolWipePattern",
                    ),
                });
            }
            let pr = Progress::task(c, "wipe");
            pr.conn
                .storage_vol_wipe(&v, 0)
                .await
                .map_err(CliError::failed(format!("Failed to wipe vol {}", vol.vol)))?;
            pr.finish();
            o.extra(&format!("Vol {} wiped\n", vol.vol))
        }
        .await,
        Command::VolUpload {
            vol,
            file,
            pool,
            offset,
            length,
        } => async {
            let v = lookup_vol(s, &vol.vol, pool.as_deref()).await?;
            let what = format!("cannot upload to volume {}", vol.vol);
            if offset.is_some_and(|o| o != 0) {
                return Err(CliError::msg(format!("{what}: only offset 0 is supported")));
            }
            let f = tokio::fs::File::open(file).await.map_err(|e| CliError::open(file, &e))?;
            let size = f.metadata().await.map(|m| m.len()).ok();
            let len = length.or(size);
            let bar = crate::progress::transfer_bar("upload", len);
            let reader = Counting { inner: tokio::io::AsyncReadExt::take(f, len.unwrap_or(u64::MAX)), bar: bar.clone() };
            let r = c.storage_vol_upload(&v, reader, len).await;
            if let Some(b) = bar {
                b.finish_and_clear();
            }
            r.map_err(CliError::failed(what))?;
            Ok(())
        }
        .await,
        Command::VolDownload {
            vol,
            file,
            pool,
            offset,
            length,
        } => async {
            let v = lookup_vol(s, &vol.vol, pool.as_deref()).await?;
            let what = format!("cannot download from volume {}", vol.vol);
            if offset.is_some_and(|o| o != 0) || length.is_some() {
                return Err(CliError::msg(format!("{what}: only whole volumes can be downloaded")));
            }
            let len = vol_info(s, &v).await.ok().map(|i| i.allocation);
            let f = tokio::fs::File::create(file).await.map_err(|e| CliError::open(file, &e))?;
            let bar = crate::progress::transfer_bar("download", len);
            let mut w = CountingWriter { inner: f, bar: bar.clone() };
            let r = c.storage_vol_download(&v, &mut w).await;
            if let Some(b) = bar {
                b.finish_and_clear();
            }
            r.map_err(CliError::failed(what))?;
            tokio::io::AsyncWriteExt::flush(&mut w.inner)
                .await
                .map_err(|e| CliError::Output(crate::error::strerror(&e)))?;
            Ok(())
        }
        .await,
        _ => return None,
    };
    Some(r)
}
