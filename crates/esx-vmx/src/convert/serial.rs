//! Serial (`serialN.*`) and parallel (`parallelN.*`) ports.

use esx_domain::{CharDevice, CharSource, CharTarget, Domain};

use super::{unsupported, FormatContext, Out, ParseContext, Result};
use crate::VmxFile;

/// Split `scheme://host:port/...` (scheme optional, `//host:port` allowed). `None` when the
/// text is not such a URI or has no non-zero port.
fn parse_network_uri(text: &str) -> Option<(Option<String>, String, String)> {
    let (scheme, rest) = match text.find(':') {
        Some(i)
            if text.get(..i).is_some_and(|s| {
                s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                    && s.chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
            }) =>
        {
            (text.get(..i).map(str::to_string), text.get(i + 1..)?)
        }
        _ => (None, text),
    };
    let authority = rest.strip_prefix("//")?;
    let authority = authority.split(['/', '?', '#']).next().unwrap_or("");
    let authority = authority.rsplit('@').next().unwrap_or("");
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, after) = v6.split_once(']')?;
        (h.to_string(), after.strip_prefix(':')?.to_string())
    } else {
        let (h, p) = authority.rsplit_once(':')?;
        (h.to_string(), p.to_string())
    };
    if port.is_empty() || !port.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    if port.parse::<u32>().ok()? == 0 {
        return None;
    }
    if host.chars().any(|c| c.is_whitespace()) {
        return None;
    }
    Some((scheme, host, port))
}

fn path_source(path: Option<String>) -> Vec<CharSource> {
    vec![CharSource {
        path,
        ..CharSource::default()
    }]
}

/// `serial0..3` and `parallel0..2` -> `<serial>` / `<parallel>`.
pub(super) fn parse(vmx: &VmxFile, ctx: &ParseContext<'_>, def: &mut Domain) -> Result<()> {
    for port in 0..4u32 {
        if let Some(s) = parse_serial(vmx, ctx, port)? {
            def.devices.serials.push(s);
        }
    }
    for port in 0..3u32 {
        if let Some(p) = parse_parallel(vmx, ctx, port)? {
            def.devices.parallels.push(p);
        }
    }
    Ok(())
}

fn parse_serial(vmx: &VmxFile, ctx: &ParseContext<'_>, port: u32) -> Result<Option<CharDevice>> {
    let p = format!("serial{port}");
    if !vmx.get_bool(&format!("{p}.present"))?.unwrap_or(false) {
        return Ok(None);
    }
    let _start_connected = vmx.get_bool(&format!("{p}.startConnected"))?;
    let file_type_key = format!("{p}.fileType");
    let file_type = vmx.get(&file_type_key);
    let file_name_key = format!("{p}.fileName");
    let file_name = vmx.get(&file_name_key);
    let end_point_key = format!("{p}.network.endPoint");
    let end_point = vmx.get(&end_point_key);
    let mut dev = CharDevice {
        target: CharTarget {
            port: Some(port),
            ..CharTarget::default()
        },
        ..CharDevice::default()
    };
    match file_type {
        None => {
            dev.chr_type = "dev".into();
            dev.sources = path_source(file_name.map(str::to_string));
        }
        Some(t) if t.eq_ignore_ascii_case("device") => {
            dev.chr_type = "dev".into();
            dev.sources = path_source(file_name.map(str::to_string));
        }
        Some(t) if t.eq_ignore_ascii_case("file") => {
            dev.chr_type = "file".into();
            let name = vmx.require(&file_name_key)?;
            dev.sources = path_source(ctx.resolver.parse_file_name(name, false)?);
        }
        Some(t) if t.eq_ignore_ascii_case("pipe") => {
            dev.chr_type = "pipe".into();
            dev.sources = path_source(file_name.map(str::to_string));
        }
        Some(t) if t.eq_ignore_ascii_case("network") => {
            let uri = file_name.and_then(parse_network_uri);
            let Some((scheme, host, service)) = uri else {
                dev.chr_type = "null".into();
                return Ok(Some(dev));
            };
            let protocol = match scheme.as_deref().map(str::to_ascii_lowercase).as_deref() {
                None | Some("tcp") | Some("tcp4") | Some("tcp6") => "raw",
                Some("telnet") => "telnet",
                Some("telnets") => "telnets",
                Some("ssl") | Some("tcp+ssl") | Some("tcp4+ssl") | Some("tcp6+ssl") => "tls",
                Some(_) => {
                    return unsupported(format!(
                        "VMX entry '{file_name_key}' contains unsupported scheme '{}'",
                        scheme.unwrap_or_default()
                    ))
                }
            };
            let mode = match end_point {
                None => "bind",
                Some(e) if e.eq_ignore_ascii_case("server") => "bind",
                Some(e) if e.eq_ignore_ascii_case("client") => "connect",
                Some(e) => {
                    return unsupported(format!(
                        "Expecting VMX entry '{end_point_key}' to be 'server' or 'client' but found '{e}'"
                    ))
                }
            };
            dev.chr_type = "tcp".into();
            dev.sources = vec![CharSource {
                mode: Some(mode.into()),
                host: Some(host),
                service: Some(service),
                ..CharSource::default()
            }];
            dev.protocol = Some(protocol.into());
        }
        Some(t) => {
            return unsupported(format!(
                "Expecting VMX entry '{file_type_key}' to be 'device', 'file' or 'pipe' or 'network' but found '{t}'"
            ))
        }
    }
    Ok(Some(dev))
}

fn parse_parallel(vmx: &VmxFile, ctx: &ParseContext<'_>, port: u32) -> Result<Option<CharDevice>> {
    let p = format!("parallel{port}");
    if !vmx.get_bool(&format!("{p}.present"))?.unwrap_or(false) {
        return Ok(None);
    }
    let _start_connected = vmx.get_bool(&format!("{p}.startConnected"))?;
    let file_type_key = format!("{p}.fileType");
    let file_type = vmx.get(&file_type_key);
    let file_name_key = format!("{p}.fileName");
    let file_name = vmx.get(&file_name_key);
    let mut dev = CharDevice {
        target: CharTarget {
            port: Some(port),
            ..CharTarget::default()
        },
        ..CharDevice::default()
    };
    match file_type {
        Some(t) if t.eq_ignore_ascii_case("device") => {
            dev.chr_type = "dev".into();
            dev.sources = path_source(file_name.map(str::to_string));
        }
        Some(t) if t.eq_ignore_ascii_case("file") => {
            dev.chr_type = "file".into();
            let name = vmx.require(&file_name_key)?;
            dev.sources = path_source(ctx.resolver.parse_file_name(name, false)?);
        }
        other => {
            return unsupported(format!(
                "Expecting VMX entry '{file_type_key}' to be 'device' or 'file' but found '{}'",
                other.unwrap_or("(null)")
            ))
        }
    }
    Ok(Some(dev))
}

fn source_path(dev: &CharDevice) -> Option<&str> {
    dev.sources.first().and_then(|s| s.path.as_deref())
}

/// `<serial>` and `<parallel>` -> `serialN.*` / `parallelN.*`.
pub(super) fn format(def: &Domain, ctx: &FormatContext<'_>, out: &mut Out) -> Result<()> {
    for (i, dev) in def.devices.serials.iter().enumerate() {
        let port = dev.target.port.unwrap_or(i as u32);
        if port > 3 {
            return unsupported(format!("Serial port index {port} out of [0..3] range"));
        }
        let p = format!("serial{port}");
        out.put(&format!("{p}.present"), "true");
        match dev.chr_type.as_str() {
            "dev" => {
                out.put(&format!("{p}.fileType"), "device");
                out.put(&format!("{p}.fileName"), source_path(dev).unwrap_or(""));
            }
            "file" => {
                out.put(&format!("{p}.fileType"), "file");
                let name = ctx
                    .resolver
                    .format_file_name(source_path(dev).unwrap_or(""))?;
                out.put(&format!("{p}.fileName"), name);
            }
            "pipe" => {
                out.put(&format!("{p}.fileType"), "pipe");
                // libvirt cannot tell client from server; it always writes the client side.
                out.put(&format!("{p}.pipe.endPoint"), "client");
                out.put(&format!("{p}.tryNoRxLoss"), "false");
                out.put(&format!("{p}.fileName"), source_path(dev).unwrap_or(""));
            }
            "tcp" => {
                let proto = match dev.protocol.as_deref().unwrap_or("raw") {
                    "raw" => "tcp",
                    "telnet" => "telnet",
                    "telnets" => "telnets",
                    "tls" => "ssl",
                    other => {
                        return unsupported(format!(
                            "Unsupported character device TCP protocol '{other}'"
                        ))
                    }
                };
                let src = dev.sources.first().cloned().unwrap_or_default();
                out.put(&format!("{p}.fileType"), "network");
                out.put(
                    &format!("{p}.fileName"),
                    format!(
                        "{proto}://{}:{}",
                        src.host.as_deref().unwrap_or(""),
                        src.service.as_deref().unwrap_or("")
                    ),
                );
                let server = src.mode.as_deref() == Some("bind");
                out.put(
                    &format!("{p}.network.endPoint"),
                    if server { "server" } else { "client" },
                );
            }
            other => return unsupported(format!("Unsupported character device type '{other}'")),
        }
        out.put(&format!("{p}.yieldOnMsrRead"), "true");
    }
    for (i, dev) in def.devices.parallels.iter().enumerate() {
        let port = dev.target.port.unwrap_or(i as u32);
        if port > 2 {
            return unsupported(format!("Parallel port index {port} out of [0..2] range"));
        }
        let p = format!("parallel{port}");
        out.put(&format!("{p}.present"), "true");
        match dev.chr_type.as_str() {
            "dev" => {
                out.put(&format!("{p}.fileType"), "device");
                out.put(&format!("{p}.fileName"), source_path(dev).unwrap_or(""));
            }
            "file" => {
                out.put(&format!("{p}.fileType"), "file");
                let name = ctx
                    .resolver
                    .format_file_name(source_path(dev).unwrap_or(""))?;
                out.put(&format!("{p}.fileName"), name);
            }
            other => return unsupported(format!("Unsupported character device type '{other}'")),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_network_uri;

    #[test]
    fn network_uris() {
        assert_eq!(
            parse_network_uri("telnet://0.0.0.0:42001"),
            Some((Some("telnet".into()), "0.0.0.0".into(), "42001".into()))
        );
        assert_eq!(
            parse_network_uri("//h:1"),
            Some((None, "h".into(), "1".into()))
        );
        assert_eq!(parse_network_uri("tcp://host"), None);
        assert_eq!(parse_network_uri("aGVsbG8gd29ybGQ="), None);
        assert_eq!(parse_network_uri(""), None);
        assert_eq!(
            parse_network_uri("tcp://[::1]:5"),
            Some((Some("tcp".into()), "::1".into(), "5".into()))
        );
    }
}
