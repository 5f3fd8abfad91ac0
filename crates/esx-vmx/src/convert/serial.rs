//! Serial (`serialN.*`) and parallel (`parallelN.*`) ports.

use esx_domain::{CharDevice, CharSource, CharTarget, Domain};

use super::{unsupported, FormatContext, Out, ParseContext, Result};
use crate::VmxFile;

/// What libvirt's `virURIParse` (libxml2's RFC 3986 parser) gives for a serial port's
/// `fileName`: the scheme, the host (percent-decoded, IPv6 brackets removed) and the port.
/// `None` when the text is not a URI.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Uri {
    scheme: Option<String>,
    server: Option<String>,
    port: i32,
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

fn is_sub_delim(b: u8) -> bool {
    matches!(
        b,
        b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'='
    )
}

struct UriCursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl UriCursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    /// A `%XX` escape at the cursor.
    fn pct(&self) -> bool {
        self.peek() == Some(b'%')
            && self.b.get(self.i + 1).is_some_and(u8::is_ascii_hexdigit)
            && self.b.get(self.i + 2).is_some_and(u8::is_ascii_hexdigit)
    }

    /// Skip characters of a class (`extra` adds single bytes), `%XX` escapes included.
    fn skip_class(&mut self, extra: &[u8]) {
        loop {
            if self.pct() {
                self.i += 3;
            } else if self
                .peek()
                .is_some_and(|b| is_unreserved(b) || is_sub_delim(b) || extra.contains(&b))
            {
                self.i += 1;
            } else {
                return;
            }
        }
    }

    fn segment(&mut self) -> usize {
        let start = self.i;
        self.skip_class(b":@");
        self.i - start
    }

    fn path_abempty(&mut self) {
        while self.peek() == Some(b'/') {
            self.i += 1;
            self.segment();
        }
    }

    /// `authority`: returns the server (decoded) and the port.
    fn authority(&mut self) -> Option<(Option<String>, i32)> {
        let start = self.i;
        self.skip_class(b":");
        if self.peek() == Some(b'@') {
            self.i += 1;
        } else {
            self.i = start;
        }
        let host_start = self.i;
        if self.peek() == Some(b'[') {
            while self.peek().is_some_and(|b| b != b']') {
                self.i += 1;
            }
            self.peek()?;
            self.i += 1;
        } else {
            self.skip_class(b"");
        }
        let host = self.b.get(host_start..self.i)?;
        let server = if host.is_empty() {
            None
        } else {
            Some(percent_decode(host))
        };
        let mut port = 0i32;
        if self.peek() == Some(b':') {
            self.i += 1;
            let digits_start = self.i;
            while let Some(d) = self.peek().filter(u8::is_ascii_digit) {
                port = port.checked_mul(10)?.checked_add(i32::from(d - b'0'))?;
                self.i += 1;
            }
            if self.i == digits_start {
                return None;
            }
        }
        Some((server, port))
    }

    fn query_and_fragment(&mut self) {
        if self.peek() == Some(b'?') {
            self.i += 1;
            self.skip_class(b":@/?");
        }
        if self.peek() == Some(b'#') {
            self.i += 1;
            self.skip_class(b":@/?[]");
        }
    }
}

fn percent_decode(s: &[u8]) -> String {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while let Some(&b) = s.get(i) {
        let hex = |j: usize| s.get(j).and_then(|c| char::from(*c).to_digit(16));
        match (b, hex(i + 1), hex(i + 2)) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl UriCursor<'_> {
    /// `hier-part` (after a scheme) or `relative-part`, then the query and fragment: the
    /// server and port of the authority, if any.
    fn after_scheme(&mut self, relative: bool) -> Option<(Option<String>, i32)> {
        let found = if self.b.get(self.i..)?.starts_with(b"//") {
            self.i += 2;
            let a = self.authority()?;
            self.path_abempty();
            a
        } else {
            let rooted = self.peek() == Some(b'/');
            if rooted {
                self.i += 1;
            }
            // A relative path's first segment has no ':' (it would read as a scheme).
            let first = if relative && !rooted {
                let start = self.i;
                self.skip_class(b"@");
                self.i - start
            } else {
                self.segment()
            };
            if first > 0 {
                self.path_abempty();
            }
            (None, 0)
        };
        self.query_and_fragment();
        Some(found)
    }
}

/// An absolute URI (`scheme ":" hier-part`) or a relative reference, the whole text.
fn parse_uri(text: &str) -> Option<Uri> {
    let b = text.as_bytes();
    let absolute = (|| {
        let mut c = UriCursor { b, i: 0 };
        if !c.peek()?.is_ascii_alphabetic() {
            return None;
        }
        while c
            .peek()
            .is_some_and(|x| x.is_ascii_alphanumeric() || matches!(x, b'+' | b'-' | b'.'))
        {
            c.i += 1;
        }
        if c.peek() != Some(b':') {
            return None;
        }
        let scheme = text.get(..c.i)?.to_string();
        c.i += 1;
        let (server, port) = c.after_scheme(false)?;
        (c.i == b.len()).then_some(Uri {
            scheme: Some(scheme),
            server,
            port,
        })
    })();
    if absolute.is_some() {
        return absolute;
    }
    let mut c = UriCursor { b, i: 0 };
    let (server, port) = c.after_scheme(true)?;
    (c.i == b.len()).then_some(Uri {
        scheme: None,
        server,
        port,
    })
}

/// Split a serial port's network `fileName` the way libvirt does: `None` (a `type='null'`
/// port) when it is not a URI, has no host or no port (or port 0); otherwise the scheme,
/// host and port.
fn parse_network_uri(text: &str) -> Option<(Option<String>, String, String)> {
    let uri = parse_uri(text)?;
    let mut server = uri.server.filter(|s| !s.is_empty())?;
    if uri.port == 0 {
        return None;
    }
    if server.starts_with('[') && server.ends_with(']') && server.contains(':') {
        server = server[1..server.len() - 1].to_string();
    }
    Some((uri.scheme, server, uri.port.to_string()))
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
    let present = vmx.get_bool(&format!("{p}.present"))?.unwrap_or(false);
    let _start_connected = vmx.get_bool(&format!("{p}.startConnected"))?;
    if !present {
        return Ok(None);
    }
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
    let present = vmx.get_bool(&format!("{p}.present"))?.unwrap_or(false);
    let _start_connected = vmx.get_bool(&format!("{p}.startConnected"))?;
    if !present {
        return Ok(None);
    }
    let file_type_key = format!("{p}.fileType");
    let file_type = vmx.require(&file_type_key)?;
    let file_name_key = format!("{p}.fileName");
    let file_name = vmx.require(&file_name_key)?;
    let mut dev = CharDevice {
        target: CharTarget {
            port: Some(port),
            ..CharTarget::default()
        },
        ..CharDevice::default()
    };
    if file_type.eq_ignore_ascii_case("device") {
        dev.chr_type = "dev".into();
        dev.sources = path_source(Some(file_name.to_string()));
    } else if file_type.eq_ignore_ascii_case("file") {
        dev.chr_type = "file".into();
        dev.sources = path_source(ctx.resolver.parse_file_name(file_name, false)?);
    } else {
        return unsupported(format!(
            "Expecting VMX entry '{file_type_key}' to be 'device' or 'file' but found '{file_type}'"
        ));
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
        assert_eq!(parse_network_uri("h:23"), None);
        assert_eq!(parse_network_uri("tcp://:23"), None);
        assert_eq!(parse_network_uri("tcp://h:0"), None);
        assert_eq!(parse_network_uri("tcp://h:2147483648"), None);
        assert_eq!(parse_network_uri("tcp://h:1:2"), None);
        assert_eq!(parse_network_uri("telnet://h :23"), None);
        assert_eq!(parse_network_uri("tcp://h%zz:1"), None);
        assert_eq!(
            parse_network_uri("tcp://u:p@h%20x:023/a?b#c"),
            Some((Some("tcp".into()), "h x".into(), "23".into()))
        );
        assert_eq!(
            parse_network_uri("tcp://[v1.x]:2"),
            Some((Some("tcp".into()), "[v1.x]".into(), "2".into()))
        );
        assert_eq!(parse_network_uri("aGVsbG8gd29ybGQ="), None);
        assert_eq!(parse_network_uri(""), None);
        assert_eq!(
            parse_network_uri("tcp://[::1]:5"),
            Some((Some("tcp".into()), "::1".into(), "5".into()))
        );
    }
}
