//! Datastore file transfer over the HTTP side channel:
//! `GET`/`PUT https://host/folder/<path>?dcPath=<datacenter>&dsName=<datastore>`, authorized by
//! the SOAP session cookie, streamed in constant memory.

use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use http::header::{CONTENT_LENGTH, CONTENT_TYPE, LOCATION};
use http::{Method, Request};
use http_body_util::BodyExt;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};

use super::body::RequestBody;
use super::http::HttpTransport;
use crate::transport::{TransportError, TransportErrorKind};

/// Characters escaped in a datastore path: everything but unreserved characters and `/`.
const PATH_ESCAPES: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'/');

/// Characters escaped in a query value: everything but unreserved characters and `/`.
const QUERY_ESCAPES: &AsciiSet = PATH_ESCAPES;

/// A file on a datastore, as addressed by the `/folder` HTTP endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatastoreFile {
    /// Inventory path of the datacenter (`ha-datacenter` on a standalone ESX host; e.g.
    /// `folder/dc1` on a vCenter).
    pub datacenter_path: String,
    /// The datastore name.
    pub datastore: String,
    /// The path of the file inside the datastore, e.g. `vm1/vm1.vmx`.
    pub path: String,
}

impl DatastoreFile {
    /// A file `path` on `datastore` in the datacenter at `datacenter_path`.
    pub fn new(
        datacenter_path: impl Into<String>,
        datastore: impl Into<String>,
        path: impl Into<String>,
    ) -> Self {
        Self {
            datacenter_path: datacenter_path.into(),
            datastore: datastore.into(),
            path: path.into(),
        }
    }

    /// The path and query of this file's URL: `/folder/<path>?dcPath=<dc>&dsName=<ds>`.
    pub fn url_path(&self) -> String {
        format!(
            "/folder/{}?dcPath={}&dsName={}",
            utf8_percent_encode(self.path.trim_start_matches('/'), PATH_ESCAPES),
            utf8_percent_encode(&self.datacenter_path, QUERY_ESCAPES),
            utf8_percent_encode(&self.datastore, QUERY_ESCAPES)
        )
    }

    /// The datastore path notation, `[datastore] path`.
    pub fn datastore_path(&self) -> String {
        format!("[{}] {}", self.datastore, self.path)
    }
}

/// A datastore transfer that failed.
#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    /// The server answered 404 for the file.
    #[error("file '{path}' not found on the datastore")]
    NotFound {
        /// The file in `[datastore] path` notation.
        path: String,
    },
    /// The server redirected the request (libvirt reports this, it does not follow it).
    #[error("the server redirects from '{from}' to '{to}'")]
    Redirect {
        /// The requested URL.
        from: String,
        /// The `Location` the server named.
        to: String,
    },
    /// The server answered with a status that is not success.
    #[error("{method} of '{path}' failed with HTTP status {status}")]
    Status {
        /// `GET` or `PUT`.
        method: &'static str,
        /// The file in `[datastore] path` notation.
        path: String,
        /// The HTTP status code.
        status: u16,
    },
    /// The connection failed or broke.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// Reading the local source or writing the local destination failed.
    #[error("local I/O on '{what}' failed: {source}")]
    Io {
        /// The local file or stream concerned.
        what: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

impl HttpTransport {
    /// Downloads `file` into `out`, streaming; returns the number of bytes written.
    pub async fn download<W>(&self, file: &DatastoreFile, out: &mut W) -> Result<u64, TransferError>
    where
        W: AsyncWrite + Unpin + ?Sized,
    {
        let url = self.server_url(&file.url_path())?;
        let what = format!("GET {}", file.datastore_path());
        let started = Instant::now();
        let req = self.finish_request(
            Request::builder().method(Method::GET).uri(url.clone()),
            RequestBody::empty(),
            &what,
        )?;
        let resp = self.timed(self.send(req, &what), &what).await?;
        check_status(resp.status().as_u16(), resp.headers(), "GET", file, &url)?;
        let mut body = resp.into_body();
        let mut written = 0u64;
        loop {
            let frame = match self.timed(async { Ok(body.frame().await) }, &what).await? {
                None => break,
                Some(Ok(frame)) => frame,
                Some(Err(e)) => {
                    return Err(TransportError::new(
                        TransportErrorKind::Io,
                        format!("{what}: download broke off: {e}"),
                    )
                    .with_source(e)
                    .into())
                }
            };
            if let Ok(data) = frame.into_data() {
                out.write_all(&data)
                    .await
                    .map_err(|source| TransferError::Io {
                        what: "download destination".into(),
                        source,
                    })?;
                written += data.len() as u64;
            }
        }
        out.flush().await.map_err(|source| TransferError::Io {
            what: "download destination".into(),
            source,
        })?;
        tracing::debug!(file = %file.datastore_path(), bytes = written, elapsed_ms = started.elapsed().as_millis() as u64, "download done");
        Ok(written)
    }

    /// Uploads `len` bytes (or, with `None`, everything until EOF, sent chunked) from `source`
    /// to `file`, streaming; returns the number of bytes sent. Uploads are never retried.
    pub async fn upload<R>(
        &self,
        file: &DatastoreFile,
        source: R,
        len: Option<u64>,
    ) -> Result<u64, TransferError>
    where
        R: AsyncRead + Send + 'static,
    {
        let url = self.server_url(&file.url_path())?;
        let what = format!("PUT {}", file.datastore_path());
        let started = Instant::now();
        let mut builder = Request::builder()
            .method(Method::PUT)
            .uri(url.clone())
            .header(CONTENT_TYPE, "application/octet-stream");
        if let Some(n) = len {
            builder = builder.header(CONTENT_LENGTH, n);
        }
        let counted = Counting {
            inner: Box::pin(source),
            count: Arc::new(AtomicU64::new(0)),
        };
        let count = counted.count.clone();
        let req = self.finish_request(builder, RequestBody::reader(counted, len), &what)?;
        // The request timeout applies to the wait for the status once the body is sent, not to
        // the transfer itself (which may take long for big files).
        let resp = self.send(req, &what).await.map_err(TransportError::from)?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        // Drain the (small) reply so the connection can go back to the pool.
        let _ = self
            .timed(async { Ok(resp.into_body().collect().await.ok()) }, &what)
            .await;
        check_status(status, &headers, "PUT", file, &url)?;
        let sent = count.load(Ordering::Relaxed);
        tracing::debug!(file = %file.datastore_path(), bytes = sent, status, elapsed_ms = started.elapsed().as_millis() as u64, "upload done");
        Ok(sent)
    }

    /// Downloads `file` into the local file `dest` (created or truncated).
    pub async fn download_to_path(
        &self,
        file: &DatastoreFile,
        dest: &Path,
    ) -> Result<u64, TransferError> {
        let mut out = tokio::fs::File::create(dest)
            .await
            .map_err(|source| TransferError::Io {
                what: dest.display().to_string(),
                source,
            })?;
        self.download(file, &mut out).await
    }

    /// Uploads the local file `src` to `file`.
    pub async fn upload_from_path(
        &self,
        file: &DatastoreFile,
        src: &Path,
    ) -> Result<u64, TransferError> {
        let io_err = |source| TransferError::Io {
            what: src.display().to_string(),
            source,
        };
        let f = tokio::fs::File::open(src).await.map_err(io_err)?;
        let len = f
            .metadata()
            .await
            .map_err(|source| TransferError::Io {
                what: PathBuf::from(src).display().to_string(),
                source,
            })?
            .len();
        self.upload(file, f, Some(len)).await
    }

    /// Runs `fut` under the request timeout.
    async fn timed<T, F>(&self, fut: F, what: &str) -> Result<T, TransportError>
    where
        F: std::future::Future<Output = Result<T, super::http::Attempt>>,
    {
        match tokio::time::timeout(self.options().request_timeout, fut).await {
            Ok(r) => r.map_err(TransportError::from),
            Err(_) => Err(TransportError::new(
                TransportErrorKind::Timeout,
                format!(
                    "{what}: no progress within {:?}",
                    self.options().request_timeout
                ),
            )),
        }
    }
}

/// An upload source that counts the bytes read from it.
struct Counting {
    inner: Pin<Box<dyn AsyncRead + Send>>,
    count: Arc<AtomicU64>,
}

impl AsyncRead for Counting {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = self.inner.as_mut().poll_read(cx, buf);
        let n = buf.filled().len().saturating_sub(before);
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        r
    }
}

fn check_status(
    status: u16,
    headers: &http::HeaderMap,
    method: &'static str,
    file: &DatastoreFile,
    url: &http::Uri,
) -> Result<(), TransferError> {
    let ok = match method {
        "GET" => status == 200 || status == 206,
        _ => status == 200 || status == 201 || status == 204,
    };
    if ok {
        return Ok(());
    }
    match status {
        404 => Err(TransferError::NotFound {
            path: file.datastore_path(),
        }),
        301 | 302 | 303 | 307 | 308 => Err(TransferError::Redirect {
            from: url.to_string(),
            to: headers
                .get(LOCATION)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("?")
                .to_string(),
        }),
        401 | 403 => Err(TransportError::new(
            TransportErrorKind::Session,
            format!(
                "{method} of '{}' was refused with HTTP {status}: not logged in?",
                file.datastore_path()
            ),
        )
        .into()),
        _ => Err(TransferError::Status {
            method,
            path: file.datastore_path(),
            status,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_path_escapes() {
        let f = DatastoreFile::new("dc folder/DC 1", "datastore1", "my vm/my vm#1.vmx");
        assert_eq!(
            f.url_path(),
            "/folder/my%20vm/my%20vm%231.vmx?dcPath=dc%20folder/DC%201&dsName=datastore1"
        );
        assert_eq!(f.datastore_path(), "[datastore1] my vm/my vm#1.vmx");
        let f = DatastoreFile::new("ha-datacenter", "LocalDS_0", "/a&b.iso");
        assert_eq!(
            f.url_path(),
            "/folder/a%26b.iso?dcPath=ha-datacenter&dsName=LocalDS_0"
        );
    }

    #[test]
    fn status_mapping() {
        let f = DatastoreFile::new("ha-datacenter", "ds", "x.vmx");
        let url: http::Uri = "https://h/folder/x.vmx".parse().expect("uri");
        let h = http::HeaderMap::new();
        assert!(check_status(200, &h, "GET", &f, &url).is_ok());
        assert!(check_status(201, &h, "PUT", &f, &url).is_ok());
        assert!(
            matches!(check_status(404, &h, "GET", &f, &url), Err(TransferError::NotFound { path }) if path == "[ds] x.vmx")
        );
        let mut h2 = http::HeaderMap::new();
        h2.insert(LOCATION, "https://other/".parse().expect("hv"));
        let e = check_status(301, &h2, "GET", &f, &url).expect_err("redirect");
        assert_eq!(
            e.to_string(),
            "the server redirects from 'https://h/folder/x.vmx' to 'https://other/'"
        );
        assert!(matches!(
            check_status(500, &h, "PUT", &f, &url),
            Err(TransferError::Status { status: 500, .. })
        ));
    }
}
