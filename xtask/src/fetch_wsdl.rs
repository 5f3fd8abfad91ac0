//! `cargo xtask fetch-wsdl`: download the WSDL set a live ESXi or vCenter serves under `/sdk/`.
//!
//! Starts from `vimService.wsdl` and follows every `<wsdl:import location=…>`,
//! `<xsd:include schemaLocation=…>` and `<xsd:import schemaLocation=…>` it finds, recursively,
//! so the output directory holds exactly what `cargo xtask codegen --wsdl DIR` reads (nine files
//! for vSphere 7.0.3). TLS certificates are verified against the system roots plus an optional CA
//! file unless `--insecure` is given. Nothing is written until every file has arrived, and each
//! file is written under a temporary name and renamed into place, so a failed or interrupted run
//! never leaves a half-written file behind.

use std::collections::{BTreeSet, VecDeque};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig, TlsProvider};

/// The file a vSphere `/sdk/` endpoint serves as the root of its WSDL set.
const ROOT_FILE: &str = "vimService.wsdl";
/// Largest file accepted (vim.wsdl for 7.0.3 is 1.6 MB; later versions grow slowly).
const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;
const WSDL_NS: &str = "http://schemas.xmlsoap.org/wsdl/";
const XSD_NS: &str = "http://www.w3.org/2001/XMLSchema";

/// Everything that can go wrong while fetching a WSDL set.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The command line was wrong.
    #[error("{0}\nusage: cargo xtask fetch-wsdl --from https://HOST[:PORT]/sdk/ --out DIR [--insecure] [--ca-file PEM]")]
    Usage(String),
    /// `--from` is not an http(s) URL this command can use.
    #[error("--from '{url}': {reason}")]
    BadUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The CA file could not be read.
    #[error("--ca-file {path}: {source}")]
    CaFileRead {
        /// The file named by `--ca-file`.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The CA file is not PEM or holds no certificate.
    #[error("--ca-file {path}: {reason}")]
    CaFileContent {
        /// The file named by `--ca-file`.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The server answered with an error status.
    #[error("GET {url}: HTTP status {status}")]
    Status {
        /// The URL requested.
        url: String,
        /// The HTTP status code.
        status: u16,
    },
    /// The server's certificate was refused.
    #[error(
        "GET {url}: the TLS certificate of {host} is not trusted ({reason}); \
         pass --ca-file PEM with the CA that signed it, or --insecure to skip verification"
    )]
    Untrusted {
        /// The URL requested.
        url: String,
        /// `host[:port]` of the server.
        host: String,
        /// rustls's reason.
        reason: String,
    },
    /// Any other transport failure (DNS, connection, timeout, body too large, …).
    #[error("GET {url}: {source}")]
    Transport {
        /// The URL requested.
        url: String,
        /// The underlying error.
        source: Box<ureq::Error>,
    },
    /// A downloaded file is not well-formed XML, so its references cannot be read.
    #[error("{url}: not well-formed XML: {reason}")]
    Xml {
        /// The URL the file came from.
        url: String,
        /// The parser's message, with position.
        reason: String,
    },
    /// A file refers to a location outside the directory it came from.
    #[error(
        "{url} refers to '{location}': only relative file names below the same directory are followed"
    )]
    BadReference {
        /// The URL of the referring file.
        url: String,
        /// The `location` / `schemaLocation` value.
        location: String,
    },
    /// Writing the output failed.
    #[error("writing {path}: {source}")]
    Write {
        /// The file or directory being written.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
}

/// Parsed command line of `fetch-wsdl`.
#[derive(Debug, PartialEq)]
struct Options {
    from: String,
    out: PathBuf,
    insecure: bool,
    ca_file: Option<PathBuf>,
}

/// Entry point: `fetch-wsdl --from URL --out DIR [--insecure] [--ca-file PEM]`.
pub fn run(args: &[String]) -> Result<(), String> {
    let options = parse_args(args).map_err(|e| e.to_string())?;
    let fetched = fetch(&options).map_err(|e| e.to_string())?;
    println!(
        "fetched {} files into {}",
        fetched.len(),
        options.out.display()
    );
    Ok(())
}

fn parse_args(args: &[String]) -> Result<Options, FetchError> {
    let mut from = None;
    let mut out = None;
    let mut insecure = false;
    let mut ca_file = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| FetchError::Usage(format!("{name} needs a value")))
        };
        match a.as_str() {
            "--from" => from = Some(value("--from")?),
            "--out" => out = Some(PathBuf::from(value("--out")?)),
            "--ca-file" => ca_file = Some(PathBuf::from(value("--ca-file")?)),
            "--insecure" => insecure = true,
            other => return Err(FetchError::Usage(format!("unknown argument '{other}'"))),
        }
    }
    Ok(Options {
        from: from.ok_or_else(|| FetchError::Usage("--from is required".into()))?,
        out: out.ok_or_else(|| FetchError::Usage("--out is required".into()))?,
        insecure,
        ca_file,
    })
}

/// Where the set lives: the directory URL (ending in `/`), the first file, and `host[:port]`.
#[derive(Debug, PartialEq)]
struct Origin {
    base: String,
    root_file: String,
    host: String,
}

/// Splits `--from` into the directory URL and the first file to fetch. A URL ending in `.wsdl`
/// names the first file itself; any other URL is the directory holding `vimService.wsdl`.
fn origin(from: &str) -> Result<Origin, FetchError> {
    let bad = |reason| FetchError::BadUrl {
        url: from.to_string(),
        reason,
    };
    let rest = from
        .strip_prefix("https://")
        .or_else(|| from.strip_prefix("http://"))
        .ok_or_else(|| bad("must start with https:// or http://"))?;
    if from.contains(['?', '#']) {
        return Err(bad("must not carry a query or fragment"));
    }
    let (host, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    if host.is_empty() {
        return Err(bad("has no host"));
    }
    let scheme = &from[..from.len() - rest.len()];
    let (dir, root_file) = if path.ends_with(".wsdl") {
        let cut = path.rfind('/').map_or(0, |i| i + 1);
        (path[..cut].to_string(), path[cut..].to_string())
    } else if path.ends_with('/') {
        (path.to_string(), ROOT_FILE.to_string())
    } else {
        (format!("{path}/"), ROOT_FILE.to_string())
    };
    let base = format!("{scheme}{host}{dir}");
    Ok(Origin {
        base,
        root_file,
        host: host.to_string(),
    })
}

/// Downloads the whole set, then writes it into `options.out`; returns the relative names
/// written, in the order they were found.
fn fetch(options: &Options) -> Result<Vec<String>, FetchError> {
    let origin = origin(&options.from)?;
    let agent = agent(options)?;
    let mut seen = BTreeSet::from([origin.root_file.clone()]);
    let mut queue = VecDeque::from([origin.root_file.clone()]);
    let mut files = Vec::new();
    while let Some(name) = queue.pop_front() {
        let url = format!("{}{name}", origin.base);
        let bytes = get(&agent, &url, &origin.host)?;
        for location in references(&url, &bytes)? {
            let target = resolve(&name, &location).ok_or_else(|| FetchError::BadReference {
                url: url.clone(),
                location: location.clone(),
            })?;
            if seen.insert(target.clone()) {
                queue.push_back(target);
            }
        }
        files.push((name, bytes));
    }
    // Only once the whole set has arrived, so a failed run writes nothing.
    for (name, bytes) in &files {
        write_atomically(&options.out, name, bytes)?;
        println!("{name} ({} bytes)", bytes.len());
    }
    Ok(files.into_iter().map(|(name, _)| name).collect())
}

/// A blocking HTTP agent with the TLS policy the options ask for.
fn agent(options: &Options) -> Result<ureq::Agent, FetchError> {
    let roots = if options.insecure {
        Vec::new()
    } else {
        trusted_roots(options.ca_file.as_deref())?
    };
    let tls = TlsConfig::builder()
        .provider(TlsProvider::Rustls)
        .unversioned_rustls_crypto_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .root_certs(RootCerts::from(roots))
        .disable_verification(options.insecure)
        .build();
    let config = ureq::Agent::config_builder()
        .tls_config(tls)
        .timeout_connect(Some(Duration::from_secs(30)))
        .timeout_global(Some(Duration::from_secs(600)))
        .build();
    Ok(config.into())
}

/// The system's root certificates plus every certificate in `ca_file`.
fn trusted_roots(ca_file: Option<&Path>) -> Result<Vec<Certificate<'static>>, FetchError> {
    let native = rustls_native_certs::load_native_certs();
    let mut roots: Vec<Certificate<'static>> = native
        .certs
        .iter()
        .map(|c| Certificate::from_der(c.as_ref()).to_owned())
        .collect();
    if let Some(path) = ca_file {
        let pem = std::fs::read(path).map_err(|source| FetchError::CaFileRead {
            path: path.to_path_buf(),
            source,
        })?;
        let before = roots.len();
        for item in ureq::tls::parse_pem(&pem) {
            match item {
                Ok(PemItem::Certificate(c)) => roots.push(c),
                Ok(_) => {}
                Err(e) => {
                    return Err(FetchError::CaFileContent {
                        path: path.to_path_buf(),
                        reason: e.to_string(),
                    })
                }
            }
        }
        if roots.len() == before {
            return Err(FetchError::CaFileContent {
                path: path.to_path_buf(),
                reason: "holds no PEM certificate".into(),
            });
        }
    }
    Ok(roots)
}

/// GETs one file, turning status, TLS and transport failures into errors that name the URL.
fn get(agent: &ureq::Agent, url: &str, host: &str) -> Result<Vec<u8>, FetchError> {
    let classify = |e: ureq::Error| match e {
        ureq::Error::StatusCode(status) => FetchError::Status {
            url: url.to_string(),
            status,
        },
        other => match certificate_problem(&other) {
            Some(reason) => FetchError::Untrusted {
                url: url.to_string(),
                host: host.to_string(),
                reason,
            },
            None => FetchError::Transport {
                url: url.to_string(),
                source: Box::new(other),
            },
        },
    };
    let response = agent.get(url).call().map_err(classify)?;
    response
        .into_body()
        .into_with_config()
        .limit(MAX_FILE_BYTES)
        .read_to_vec()
        .map_err(classify)
}

/// rustls's reason when `e` is a refused server certificate.
fn certificate_problem(e: &ureq::Error) -> Option<String> {
    let tls = match e {
        ureq::Error::Rustls(t) => Some(t),
        ureq::Error::Io(io) => io
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>()),
        _ => None,
    }?;
    match tls {
        rustls::Error::InvalidCertificate(c) => Some(describe_certificate_error(&format!("{c:?}"))),
        _ => None,
    }
}

/// Plain words for rustls's certificate errors (given as their `Debug` text, which is stable
/// across rustls releases where the variants' fields are not).
fn describe_certificate_error(debug: &str) -> String {
    let plain = if debug.starts_with("UnknownIssuer") {
        "signed by an unknown certificate authority"
    } else if debug.starts_with("NotValidForName") {
        "issued for another host name"
    } else if debug.starts_with("Expired") {
        "expired"
    } else if debug.starts_with("NotValidYet") {
        "not valid yet"
    } else if debug.contains("CaUsedAsEndEntity") {
        "the server presents a CA certificate (CA:TRUE) as its own; \
         a CA file cannot vouch for that, only a certificate signed by a CA can be verified"
    } else {
        return debug.to_string();
    };
    format!("{plain}: {debug}")
}

/// The `location` of every WSDL import and the `schemaLocation` of every XSD include/import.
fn references(url: &str, bytes: &[u8]) -> Result<Vec<String>, FetchError> {
    use xml::reader::{EventReader, XmlEvent};
    let mut found = Vec::new();
    for event in EventReader::new(bytes) {
        let event = event.map_err(|e| FetchError::Xml {
            url: url.to_string(),
            reason: e.to_string(),
        })?;
        let XmlEvent::StartElement {
            name, attributes, ..
        } = event
        else {
            continue;
        };
        let attribute = match (name.namespace.as_deref(), name.local_name.as_str()) {
            (Some(WSDL_NS), "import") => "location",
            (Some(XSD_NS), "import" | "include") => "schemaLocation",
            _ => continue,
        };
        if let Some(a) = attributes
            .iter()
            .find(|a| a.name.namespace.is_none() && a.name.local_name == attribute)
        {
            found.push(a.value.clone());
        }
    }
    Ok(found)
}

/// Resolves `location`, found in the file `from` (a relative name), to a relative name in the
/// same tree. Absolute URLs, absolute paths, `..`, queries and anything that could escape the
/// output directory are refused (`None`).
fn resolve(from: &str, location: &str) -> Option<String> {
    if location.is_empty()
        || location.contains([':', '?', '#', '\\', '\0'])
        || location.starts_with('/')
    {
        return None;
    }
    let mut parts: Vec<&str> = from.split('/').collect();
    parts.pop();
    for segment in location.split('/') {
        match segment {
            "" | "." | ".." => return None,
            s => parts.push(s),
        }
    }
    Some(parts.join("/"))
}

/// Writes `DIR/name` through a temporary file in the same directory and a rename.
fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), FetchError> {
    let path = dir.join(name);
    let parent = path.parent().unwrap_or(dir);
    std::fs::create_dir_all(parent).map_err(|source| FetchError::Write {
        path: parent.to_path_buf(),
        source,
    })?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = parent.join(format!(".{file_name}.part-{}", std::process::id()));
    let result = std::fs::write(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, &path));
    result.map_err(|source| {
        let _ = std::fs::remove_file(&tmp);
        FetchError::Write {
            path: path.clone(),
            source,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_the_command_line() {
        let o = parse_args(&args(&[
            "--from",
            "https://h/sdk/",
            "--out",
            "d",
            "--insecure",
            "--ca-file",
            "ca.pem",
        ]))
        .unwrap();
        assert_eq!(
            o,
            Options {
                from: "https://h/sdk/".into(),
                out: "d".into(),
                insecure: true,
                ca_file: Some("ca.pem".into()),
            }
        );
        let e = parse_args(&args(&["--out", "d"])).unwrap_err().to_string();
        assert!(e.starts_with("--from is required"), "{e}");
        let e = parse_args(&args(&["--from"])).unwrap_err().to_string();
        assert!(e.starts_with("--from needs a value"), "{e}");
        let e = parse_args(&args(&["--bogus"])).unwrap_err().to_string();
        assert!(e.starts_with("unknown argument '--bogus'"), "{e}");
    }

    #[test]
    fn origin_of_directory_and_file_urls() {
        let want = Origin {
            base: "https://vc:8443/sdk/".into(),
            root_file: "vimService.wsdl".into(),
            host: "vc:8443".into(),
        };
        assert_eq!(origin("https://vc:8443/sdk/").unwrap(), want);
        assert_eq!(origin("https://vc:8443/sdk").unwrap(), want);
        assert_eq!(origin("https://vc:8443/sdk/vimService.wsdl").unwrap(), want);
        let o = origin("http://[::1]").unwrap();
        assert_eq!(
            (o.base.as_str(), o.host.as_str()),
            ("http://[::1]/", "[::1]")
        );
        for bad in ["ftp://h/sdk", "https:///sdk", "https://h/sdk?x=1", "h/sdk"] {
            assert!(
                matches!(origin(bad), Err(FetchError::BadUrl { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn resolves_only_relative_names_inside_the_tree() {
        assert_eq!(
            resolve("vim.wsdl", "core-types.xsd").as_deref(),
            Some("core-types.xsd")
        );
        assert_eq!(resolve("a/b.xsd", "c/d.xsd").as_deref(), Some("a/c/d.xsd"));
        for bad in [
            "",
            "../x.xsd",
            "a/../../x.xsd",
            "/etc/passwd",
            "https://evil/x.xsd",
            "x.xsd?y",
            "a\\b.xsd",
            "a//b.xsd",
            "./x.xsd",
        ] {
            assert_eq!(resolve("vim.wsdl", bad), None, "{bad}");
        }
    }

    #[test]
    fn finds_wsdl_imports_and_schema_includes_by_namespace() {
        let doc = br#"<definitions xmlns="http://schemas.xmlsoap.org/wsdl/"
              xmlns:x="http://www.w3.org/2001/XMLSchema">
            <import location="vim.wsdl" namespace="urn:vim25"/>
            <types><x:schema>
              <x:include schemaLocation="core-types.xsd"/>
              <x:import namespace="urn:reflect" schemaLocation="reflect-types.xsd"/>
              <x:element name="include" type="x:string"/>
            </x:schema></types>
            <other:import xmlns:other="urn:other" location="not-me.xsd"/>
        </definitions>"#;
        assert_eq!(
            references("u", doc).unwrap(),
            ["vim.wsdl", "core-types.xsd", "reflect-types.xsd"]
        );
        let e = references("https://h/sdk/x.xsd", b"<a><b></a>")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("https://h/sdk/x.xsd: not well-formed XML"),
            "{e}"
        );
    }

    #[test]
    fn certificate_errors_read_plainly() {
        assert_eq!(
            describe_certificate_error("UnknownIssuer"),
            "signed by an unknown certificate authority: UnknownIssuer"
        );
        assert!(
            describe_certificate_error("Other(OtherError(CaUsedAsEndEntity))")
                .starts_with("the server presents a CA certificate (CA:TRUE) as its own")
        );
        assert_eq!(describe_certificate_error("Revoked"), "Revoked");
    }

    #[test]
    fn writes_atomically_and_leaves_no_temporary_file() {
        let dir = std::env::temp_dir().join(format!("fetch-wsdl-unit-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        write_atomically(&dir, "sub/a.xsd", b"<a/>").unwrap();
        write_atomically(&dir, "sub/a.xsd", b"<b/>").unwrap();
        assert_eq!(std::fs::read(dir.join("sub/a.xsd")).unwrap(), b"<b/>");
        let names: Vec<_> = std::fs::read_dir(dir.join("sub"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["a.xsd"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
