//! Disk images: where they come from (a local file or an `http(s)://` URL), what they are
//! (a raw flat extent, a monolithicSparse or a streamOptimized VMDK, detected from the
//! content), the key of the datastore image cache, and the streaming pipelines between the
//! blocking VMDK codec and the asynchronous datastore transfers. Nothing holds a whole image:
//! bytes move through bounded buffers (one MiB between each pair of stages).

use std::fmt;
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use esx_vim::client::{DatastoreFile, TransferError};
use esx_vmdk::{Format, Reader};
use ring::digest;
use tokio::io::AsyncWriteExt;
use tokio_util::io::SyncIoBridge;

use crate::error::{ProvisionError, Result};
use crate::pipe::pipe;
use crate::progress::Progress;

/// Bytes buffered between two stages of a transfer.
const STAGE: usize = 1 << 20;

/// Where an image comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageSource {
    /// A local file.
    File(PathBuf),
    /// An `http://` or `https://` URL, read with one GET.
    Url(String),
}

impl ImageSource {
    /// A URL when `s` starts with `http://` or `https://`, else a file path.
    pub fn parse(s: &str) -> ImageSource {
        if s.starts_with("http://") || s.starts_with("https://") {
            ImageSource::Url(s.to_string())
        } else {
            ImageSource::File(PathBuf::from(s))
        }
    }
}

impl fmt::Display for ImageSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImageSource::File(p) => write!(f, "{}", p.display()),
            ImageSource::Url(u) => f.write_str(u),
        }
    }
}

/// Where an exported image goes.
pub type ImageDest = ImageSource;

/// TLS settings for image URLs (certificates are verified unless `no_verify`).
#[derive(Debug, Clone, Default)]
pub struct UrlOptions {
    /// PEM file of the certificate authorities to trust instead of the system's.
    pub ca_file: Option<PathBuf>,
    /// Accept any certificate.
    pub no_verify: bool,
}

/// What an image turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageInfo {
    /// Its format.
    pub format: Format,
    /// The virtual disk's size in bytes.
    pub capacity: u64,
    /// The adapter type its embedded descriptor names, if any.
    pub adapter_type: Option<String>,
}

type BoxRead = Box<dyn Read + Send>;

fn unreadable(src: &ImageSource, reason: impl fmt::Display) -> ProvisionError {
    ProvisionError::ImageUnreadable {
        image: src.to_string(),
        reason: reason.to_string(),
    }
}

fn unwritable(dest: &ImageDest, reason: impl fmt::Display) -> ProvisionError {
    ProvisionError::ImageUnwritable {
        image: dest.to_string(),
        reason: reason.to_string(),
    }
}

fn image_error(src: &ImageSource, error: esx_vmdk::VmdkError) -> ProvisionError {
    ProvisionError::Image {
        image: src.to_string(),
        error,
    }
}

/// A blocking HTTPS agent with the options' trust.
fn agent(opts: &UrlOptions) -> std::result::Result<ureq::Agent, String> {
    use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig, TlsProvider};
    let mut roots = Vec::new();
    if !opts.no_verify {
        match &opts.ca_file {
            Some(path) => {
                let pem =
                    std::fs::read(path).map_err(|e| format!("CA file {}: {e}", path.display()))?;
                for item in ureq::tls::parse_pem(&pem) {
                    if let Ok(PemItem::Certificate(c)) = item {
                        roots.push(c);
                    }
                }
                if roots.is_empty() {
                    return Err(format!("CA file {} holds no certificate", path.display()));
                }
            }
            None => {
                for c in rustls_native_certs::load_native_certs().certs {
                    roots.push(Certificate::from_der(c.as_ref()).to_owned());
                }
            }
        }
    }
    let tls = TlsConfig::builder()
        .provider(TlsProvider::Rustls)
        .unversioned_rustls_crypto_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .root_certs(RootCerts::new_with_certs(&roots))
        .disable_verification(opts.no_verify)
        .build();
    Ok(ureq::Agent::config_builder()
        .tls_config(tls)
        .http_status_as_error(false)
        .build()
        .new_agent())
}

/// Opens the source: a reader over its bytes, and their number when known.
fn open_source(src: &ImageSource, opts: &UrlOptions) -> Result<(BoxRead, Option<u64>)> {
    match src {
        ImageSource::File(path) => {
            let f = File::open(path).map_err(|e| unreadable(src, e))?;
            let meta = f.metadata().map_err(|e| unreadable(src, e))?;
            if !meta.is_file() {
                return Err(unreadable(src, "not a regular file"));
            }
            Ok((Box::new(f), Some(meta.len())))
        }
        ImageSource::Url(url) => {
            let agent = agent(opts).map_err(|e| unreadable(src, e))?;
            let resp = agent.get(url).call().map_err(|e| unreadable(src, e))?;
            let status = resp.status().as_u16();
            if status != 200 {
                return Err(unreadable(
                    src,
                    format!("the server answered HTTP {status}"),
                ));
            }
            let len = resp
                .headers()
                .get("content-length")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse().ok());
            let body = resp.into_body().into_with_config().reader();
            Ok((Box::new(body), len))
        }
    }
}

/// Opens the image for reading, detecting its format.
fn open_image(src: &ImageSource, opts: &UrlOptions) -> Result<Reader<BoxRead>> {
    let (r, len) = open_source(src, opts)?;
    Reader::open(r, len).map_err(|e| image_error(src, e))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The name of an image in the datastore cache: `explicit` (like Glance's image id) when
/// given; for a file, the SHA-256 of its content; for a URL, a hash of the URL with the
/// `ETag`, `Last-Modified` and `Content-Length` a `HEAD` request reports (a server that
/// sends none of the first two is keyed by URL and length).
pub fn cache_key(src: &ImageSource, opts: &UrlOptions, explicit: Option<&str>) -> Result<String> {
    if let Some(id) = explicit {
        let ok = !id.is_empty()
            && id.len() <= 128
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            && !id.starts_with('.');
        if !ok {
            return Err(ProvisionError::InvalidArgument(format!(
                "image id '{id}': use 1-128 letters, digits, '-', '_' or '.'"
            )));
        }
        return Ok(id.to_string());
    }
    match src {
        ImageSource::File(path) => {
            let mut f = File::open(path).map_err(|e| unreadable(src, e))?;
            let mut ctx = digest::Context::new(&digest::SHA256);
            let mut buf = vec![0u8; STAGE];
            loop {
                let n = f.read(&mut buf).map_err(|e| unreadable(src, e))?;
                if n == 0 {
                    break;
                }
                ctx.update(&buf[..n]);
            }
            Ok(format!("sha256-{}", hex(ctx.finish().as_ref())))
        }
        ImageSource::Url(url) => {
            let agent = agent(opts).map_err(|e| unreadable(src, e))?;
            let resp = agent.head(url).call().map_err(|e| unreadable(src, e))?;
            let status = resp.status().as_u16();
            if status != 200 {
                return Err(unreadable(
                    src,
                    format!("the server answered HTTP {status}"),
                ));
            }
            let h = |name: &str| {
                resp.headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string()
            };
            let id = format!(
                "{url}\n{}\n{}\n{}",
                h("etag"),
                h("last-modified"),
                h("content-length")
            );
            let d = digest::digest(&digest::SHA256, id.as_bytes());
            Ok(format!("url-{}", &hex(d.as_ref())[..40]))
        }
    }
}

/// Reads only the header of the image: its format, size and adapter type.
pub fn inspect(src: &ImageSource, opts: &UrlOptions) -> Result<ImageInfo> {
    let r = open_image(src, opts)?;
    Ok(ImageInfo {
        format: r.format(),
        capacity: r.capacity(),
        adapter_type: r.adapter_type().map(str::to_string),
    })
}

/// How the producing side of an upload ended.
enum Produced {
    Done,
    /// Reading the image failed.
    Read(ProvisionError),
    /// Writing into the upload failed (the upload ended first).
    Write,
}

/// Streams the flat bytes of the image at `src` into the datastore file `dest`.
/// `check` sees the image before a byte is sent (to refuse it, e.g. for lack of space).
pub(crate) async fn upload_flat(
    client: &esx_vim::client::Client,
    src: &ImageSource,
    opts: &UrlOptions,
    dest: &DatastoreFile,
    check: impl FnOnce(&ImageInfo) -> Result<()>,
    progress: Arc<dyn Progress>,
) -> Result<ImageInfo> {
    let (info_tx, info_rx) = tokio::sync::oneshot::channel::<ImageInfo>();
    let (rd, wr) = tokio::io::duplex(STAGE);
    let handle = tokio::runtime::Handle::current();
    let (src2, opts2, progress2) = (src.clone(), opts.clone(), progress.clone());
    let producer = tokio::task::spawn_blocking(move || {
        let reader = match open_image(&src2, &opts2) {
            Ok(r) => r,
            Err(e) => return Produced::Read(e),
        };
        let info = ImageInfo {
            format: reader.format(),
            capacity: reader.capacity(),
            adapter_type: reader.adapter_type().map(str::to_string),
        };
        if info_tx.send(info).is_err() {
            return Produced::Write;
        }
        let mut flat = reader.into_flat();
        let mut w = SyncIoBridge::new_with_handle(wr, handle);
        let mut buf = vec![0u8; STAGE];
        loop {
            let n = match flat.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => return Produced::Read(read_error(&src2, e)),
            };
            if w.write_all(&buf[..n]).is_err() {
                return Produced::Write;
            }
            progress2.advance(n as u64);
        }
        if w.shutdown().is_err() {
            return Produced::Write;
        }
        Produced::Done
    });
    let info = match info_rx.await {
        Ok(info) => info,
        Err(_) => {
            return Err(match producer.await {
                Ok(Produced::Read(e)) => e,
                _ => unreadable(src, "the image reader stopped"),
            })
        }
    };
    if let Err(e) = check(&info) {
        drop(rd);
        let _ = producer.await;
        return Err(e);
    }
    progress.begin(&format!("upload {src}"), Some(info.capacity));
    let sent = client
        .transport()
        .upload(dest, rd, Some(info.capacity))
        .await;
    let produced = producer.await;
    progress.end();
    match (produced, sent) {
        (Ok(Produced::Read(e)), _) => Err(e),
        (_, Err(error)) => Err(ProvisionError::Transfer {
            what: format!("upload of {src} to {}", dest.datastore_path()),
            error,
        }),
        (Ok(Produced::Write), Ok(_)) => Err(unreadable(src, "the upload ended early")),
        (Err(e), Ok(_)) => Err(unreadable(src, format!("the image reader failed: {e}"))),
        (Ok(Produced::Done), Ok(n)) if n != info.capacity => Err(unreadable(
            src,
            format!("{n} bytes were sent of {}", info.capacity),
        )),
        (Ok(Produced::Done), Ok(_)) => Ok(info),
    }
}

/// The image error inside an I/O error of the flat stream, or the I/O error itself.
fn read_error(src: &ImageSource, e: std::io::Error) -> ProvisionError {
    let text = e.to_string();
    match e.into_inner() {
        Some(inner) => match inner.downcast::<esx_vmdk::VmdkError>() {
            Ok(v) => image_error(src, *v),
            Err(other) => unreadable(src, other),
        },
        None => unreadable(src, text),
    }
}

/// The format of an exported image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExportFormat {
    /// The raw flat extent (what Nova's 2011 snapshot uploaded).
    #[default]
    Flat,
    /// A streamOptimized VMDK (compressed grains; what current Nova exports).
    StreamOptimized,
}

impl std::str::FromStr for ExportFormat {
    type Err = ProvisionError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "flat" | "raw" => Ok(ExportFormat::Flat),
            "streamOptimized" | "stream-optimized" | "streamoptimized" => {
                Ok(ExportFormat::StreamOptimized)
            }
            _ => Err(ProvisionError::InvalidArgument(format!(
                "unknown image format '{s}' (expected flat or streamOptimized)"
            ))),
        }
    }
}

/// A local file being written: a temporary beside it, renamed over it when complete and
/// removed otherwise (an export never leaves a half-written image).
struct Partial {
    temp: PathBuf,
    dest: PathBuf,
    done: bool,
}

impl Partial {
    fn new(dest: &Path) -> Partial {
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "image".into());
        let temp = dest.with_file_name(format!(".{name}.partial-{}", std::process::id()));
        Partial {
            temp,
            dest: dest.to_path_buf(),
            done: false,
        }
    }

    fn commit(mut self) -> std::io::Result<()> {
        std::fs::rename(&self.temp, &self.dest)?;
        self.done = true;
        Ok(())
    }
}

impl Drop for Partial {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

/// Streams the datastore flat extent `file` (`capacity` bytes) out to `dest` as `format`;
/// returns the bytes written at the destination.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn download_image(
    client: &esx_vim::client::Client,
    file: &DatastoreFile,
    capacity: u64,
    adapter_type: &str,
    dest: &ImageDest,
    format: ExportFormat,
    opts: &UrlOptions,
    progress: Arc<dyn Progress>,
) -> Result<u64> {
    let what = format!("download of {}", file.datastore_path());
    let partial = match dest {
        ImageSource::File(p) => Some(Partial::new(p)),
        ImageSource::Url(_) => None,
    };
    // The consumer: a blocking thread that turns the flat bytes into the destination.
    let (rd, mut wr) = tokio::io::duplex(STAGE);
    let handle = tokio::runtime::Handle::current();
    let reader = SyncIoBridge::new_with_handle(rd, handle);
    let temp = partial.as_ref().map(|p| p.temp.clone());
    let (dest2, opts2, adapter) = (dest.clone(), opts.clone(), adapter_type.to_string());
    let consumer = tokio::task::spawn_blocking(move || -> Result<u64> {
        consume(
            reader,
            capacity,
            &adapter,
            &dest2,
            temp.as_deref(),
            format,
            &opts2,
        )
    });
    progress.begin(&format!("download to {dest}"), Some(capacity));
    let mut counted = Counted {
        inner: &mut wr,
        progress: progress.as_ref(),
    };
    let got = client.transport().download(file, &mut counted).await;
    let _ = wr.shutdown().await;
    drop(wr);
    let consumed = consumer.await;
    progress.end();
    let n = match (got, consumed) {
        (Err(TransferError::Io { .. }), Ok(Err(e))) => return Err(e),
        (Err(error), _) => return Err(ProvisionError::Transfer { what, error }),
        (Ok(_), Ok(Err(e))) => return Err(e),
        (Ok(_), Err(e)) => return Err(unwritable(dest, format!("the writer failed: {e}"))),
        (Ok(got), Ok(Ok(n))) => {
            if got != capacity {
                return Err(unwritable(
                    dest,
                    format!("the datastore sent {got} bytes of {capacity}"),
                ));
            }
            n
        }
    };
    if let Some(p) = partial {
        p.commit().map_err(|e| unwritable(dest, e))?;
    }
    Ok(n)
}

/// Counts what passes through into the progress.
struct Counted<'a, W> {
    inner: &'a mut W,
    progress: &'a dyn Progress,
}

impl<W: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for Counted<'_, W> {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let p = std::pin::Pin::new(&mut *self.inner).poll_write(cx, buf);
        if let std::task::Poll::Ready(Ok(n)) = &p {
            self.progress.advance(*n as u64);
        }
        p
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut *self.inner).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut *self.inner).poll_shutdown(cx)
    }
}

/// Counts bytes written through.
struct CountingWriter<W> {
    inner: W,
    count: u64,
}

impl<W: Write> Write for CountingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.count += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// The blocking side of an export: flat bytes from `flat` to a file (`temp`) or a URL.
fn consume(
    mut flat: impl Read + Send + 'static,
    capacity: u64,
    adapter: &str,
    dest: &ImageDest,
    temp: Option<&Path>,
    format: ExportFormat,
    opts: &UrlOptions,
) -> Result<u64> {
    match (dest, temp) {
        (ImageSource::File(_), Some(temp)) => {
            let f = File::create(temp).map_err(|e| unwritable(dest, e))?;
            let mut out = CountingWriter {
                inner: BufWriter::with_capacity(STAGE, f),
                count: 0,
            };
            match format {
                ExportFormat::Flat => {
                    std::io::copy(&mut flat, &mut out).map_err(|e| unwritable(dest, e))?;
                }
                ExportFormat::StreamOptimized => {
                    out = esx_vmdk::write_stream_optimized(flat, capacity, adapter, out)
                        .map_err(|e| unwritable(dest, e))?;
                }
            }
            out.flush().map_err(|e| unwritable(dest, e))?;
            let n = out.count;
            let f = out
                .inner
                .into_inner()
                .map_err(|e| unwritable(dest, e.error()))?;
            f.sync_all().map_err(|e| unwritable(dest, e))?;
            Ok(n)
        }
        (ImageSource::Url(url), _) => {
            let agent = agent(opts).map_err(|e| unwritable(dest, e))?;
            let (status, n) = match format {
                ExportFormat::Flat => {
                    let mut counted = CountingReader {
                        inner: flat,
                        count: 0,
                    };
                    let resp = agent
                        .put(url)
                        .header("content-type", "application/octet-stream")
                        .header("content-length", capacity.to_string())
                        .send(ureq::SendBody::from_reader(&mut counted))
                        .map_err(|e| unwritable(dest, e))?;
                    (resp.status().as_u16(), counted.count)
                }
                ExportFormat::StreamOptimized => {
                    let (w, mut r) = pipe();
                    let adapter = adapter.to_string();
                    let writer = std::thread::spawn(move || {
                        esx_vmdk::write_stream_optimized(flat, capacity, &adapter, w).map(|_| ())
                    });
                    let mut counted = CountingReader {
                        inner: &mut r,
                        count: 0,
                    };
                    let sent = agent
                        .put(url)
                        .header("content-type", "application/octet-stream")
                        .send(ureq::SendBody::from_reader(&mut counted));
                    let count = counted.count;
                    drop(r);
                    let wrote = writer
                        .join()
                        .map_err(|_| unwritable(dest, "the image writer stopped"))?;
                    let resp = sent.map_err(|e| unwritable(dest, e))?;
                    wrote.map_err(|e| unwritable(dest, e))?;
                    (resp.status().as_u16(), count)
                }
            };
            if !(200..300).contains(&status) {
                return Err(unwritable(
                    dest,
                    format!("the server answered HTTP {status}"),
                ));
            }
            Ok(n)
        }
        (ImageSource::File(_), None) => Err(unwritable(dest, "no temporary file")),
    }
}

/// Counts bytes read through.
struct CountingReader<R> {
    inner: R,
    count: u64,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_parse() {
        assert_eq!(
            ImageSource::parse("https://h/x.vmdk"),
            ImageSource::Url("https://h/x.vmdk".into())
        );
        assert_eq!(
            ImageSource::parse("/tmp/x.vmdk"),
            ImageSource::File("/tmp/x.vmdk".into())
        );
    }

    #[test]
    fn explicit_keys_are_checked() {
        let src = ImageSource::File("/nonexistent".into());
        let o = UrlOptions::default();
        assert_eq!(
            cache_key(&src, &o, Some("glance-1.2")).unwrap(),
            "glance-1.2"
        );
        for bad in ["", "../x", "a/b", ".hidden", "a b"] {
            assert!(cache_key(&src, &o, Some(bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn file_keys_follow_content() {
        let dir = std::env::temp_dir().join(format!("esx-provision-key-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (a, b, c) = (dir.join("a"), dir.join("b"), dir.join("c"));
        std::fs::write(&a, b"same").unwrap();
        std::fs::write(&b, b"same").unwrap();
        std::fs::write(&c, b"other").unwrap();
        let o = UrlOptions::default();
        let key = |p: &PathBuf| cache_key(&ImageSource::File(p.clone()), &o, None).unwrap();
        assert_eq!(key(&a), key(&b));
        assert_ne!(key(&a), key(&c));
        assert!(key(&a).starts_with("sha256-"));
        let missing = cache_key(&ImageSource::File(dir.join("nope")), &o, None).unwrap_err();
        assert!(missing.to_string().contains("nope"), "{missing}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_partial_file_is_removed_unless_committed() {
        let dir =
            std::env::temp_dir().join(format!("esx-provision-partial-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let dest = dir.join("img.vmdk");
        {
            let p = Partial::new(&dest);
            std::fs::write(&p.temp, b"half").unwrap();
        }
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
        let p = Partial::new(&dest);
        std::fs::write(&p.temp, b"whole").unwrap();
        p.commit().unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), b"whole");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
