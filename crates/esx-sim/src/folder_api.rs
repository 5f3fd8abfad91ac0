//! `/folder/<path>?dcPath=…&dsName=…`: GET, PUT and DELETE of datastore files, streamed.
//!
//! GET sends the file as it is read (`Content-Length` set; 404 when it does not exist). PUT
//! writes the body as it arrives into a temporary file beside the target, leaving blocks of
//! zeros as holes, and renames it over the target only once the whole body has arrived (as
//! long as `Content-Length` said, when it was given): a connection dropped mid-upload leaves
//! the old file (or none) and no temporary file. Memory stays bounded (about [`CHUNK`] bytes
//! per transfer) whatever the file's size. The only size limit is the datastore's free space
//! (see [`crate::mo::datastore`]): an upload that would not fit gets HTTP 507 (Insufficient
//! Storage) with a body naming the datastore and the sizes, and leaves nothing behind.

use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper::{Method, Request, Response, StatusCode};
use percent_encoding::percent_decode_str;

use crate::files::{TempFile, BLOCK, CHUNK};
use crate::mo::datastore::Reservation;
use crate::server::{cookie_value, full, live_session, Body, Shared};

/// How much a GET reads at once.
const READ_CHUNK: usize = 256 * 1024;

fn text(status: StatusCode, msg: &str) -> Response<Body> {
    let mut r = Response::new(full(msg.to_owned()));
    *r.status_mut() = status;
    r
}

/// The datastore a request reaches: name, directory, capacity and upload reservations.
pub(crate) struct Space {
    name: String,
    dir: PathBuf,
    capacity: u64,
    reserved: Arc<AtomicU64>,
}

impl Space {
    /// The space of datastore `ds` (for uploads other than `/folder`'s, e.g. NFC leases').
    pub(crate) fn of(st: &crate::state::State, ds: &crate::state::MoRef) -> Option<Space> {
        let Some(crate::state::Mo::Datastore(d)) = st.get(ds) else {
            return None;
        };
        Some(Space {
            name: d.name.clone(),
            dir: d.dir.clone(),
            capacity: d.capacity,
            reserved: d.reserved.clone(),
        })
    }

    fn free(&self) -> u64 {
        crate::mo::datastore::free_in(&self.dir, self.capacity, &self.reserved)
    }
}

/// Handles one `/folder` request.
pub async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> Response<Body> {
    let cookie = cookie_value(&req, "vmware_soap_session");
    let ticket = cookie_value(&req, crate::ticket::COOKIE);
    let method = req.method().as_str().to_owned();
    let uri_path = req.uri().path().to_owned();
    let raw_path = req
        .uri()
        .path()
        .trim_start_matches("/folder")
        .trim_start_matches('/')
        .to_owned();
    let rel = percent_decode_str(&raw_path)
        .decode_utf8_lossy()
        .into_owned();
    let mut ds_name = None;
    for kv in req.uri().query().unwrap_or("").split('&') {
        if let Some(v) = kv.strip_prefix("dsName=") {
            ds_name = Some(
                percent_decode_str(&v.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned(),
            );
        }
    }
    let (path, read_only, space) = {
        let Some(mut st) = shared.write() else {
            return text(StatusCode::INTERNAL_SERVER_ERROR, "state unavailable\n");
        };
        let ro = match live_session(&mut st, cookie.as_deref()) {
            Some(key) => st.sessions.get(&key).is_some_and(|s| s.read_only),
            // A one-time ticket from AcquireGenericServiceTicket stands in for a session.
            None => match ticket
                .as_deref()
                .and_then(|t| crate::ticket::redeem(&mut st, t, &method, &uri_path))
            {
                Some(ro) => ro,
                None => return text(StatusCode::UNAUTHORIZED, "not authenticated\n"),
            },
        };
        let Some(ds) = ds_name.and_then(|n| st.datastore_by_name(&n)) else {
            return text(StatusCode::NOT_FOUND, "no such datastore\n");
        };
        st.materialize(&ds, &rel);
        let Some(crate::state::Mo::Datastore(d)) = st.get(&ds) else {
            return text(StatusCode::NOT_FOUND, "no such datastore\n");
        };
        let space = Space {
            name: d.name.clone(),
            dir: d.dir.clone(),
            capacity: d.capacity,
            reserved: d.reserved.clone(),
        };
        match crate::files::safe_join(&space.dir, &rel) {
            Some(p) if !rel.is_empty() => (p, ro, space),
            _ => return text(StatusCode::BAD_REQUEST, "invalid path\n"),
        }
    };
    match *req.method() {
        Method::GET => get(path).await,
        Method::PUT if !read_only => put(req, path, space).await,
        Method::DELETE if !read_only => match tokio::fs::remove_file(&path).await {
            Ok(()) => text(StatusCode::NO_CONTENT, ""),
            Err(_) => text(StatusCode::NOT_FOUND, "not found\n"),
        },
        Method::PUT | Method::DELETE => text(StatusCode::FORBIDDEN, "permission denied\n"),
        _ => text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n"),
    }
}

/// A file's content, read on a blocking thread a chunk at a time as the client takes it.
struct FileBody {
    rx: tokio::sync::mpsc::Receiver<std::io::Result<Bytes>>,
    remaining: u64,
}

impl hyper::body::Body for FileBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        match self.rx.poll_recv(cx) {
            Poll::Ready(Some(Ok(b))) => {
                self.remaining = self.remaining.saturating_sub(b.len() as u64);
                Poll::Ready(Some(Ok(Frame::data(b))))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.remaining == 0
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }
}

/// Reads `len` bytes of `file` into `tx`, a chunk at a time, until the receiver goes away.
fn read_into(
    mut file: std::fs::File,
    len: u64,
    tx: tokio::sync::mpsc::Sender<std::io::Result<Bytes>>,
) {
    use std::io::Read;
    let mut left = len;
    while left > 0 {
        let n = left.min(READ_CHUNK as u64) as usize;
        let mut buf = vec![0u8; n];
        let r = file.read_exact(&mut buf).map(|_| Bytes::from(buf));
        let failed = r.is_err();
        if tx.blocking_send(r).is_err() || failed {
            return;
        }
        left -= n as u64;
    }
}

async fn get(path: PathBuf) -> Response<Body> {
    let opened = tokio::task::spawn_blocking(move || {
        let f = std::fs::File::open(&path)?;
        let m = f.metadata()?;
        if !m.is_file() {
            return Err(std::io::Error::from(std::io::ErrorKind::NotFound));
        }
        Ok((f, m.len()))
    })
    .await;
    let Ok(Ok((file, len))) = opened else {
        return text(StatusCode::NOT_FOUND, "not found\n");
    };
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    tokio::task::spawn_blocking(move || read_into(file, len, tx));
    let mut r = Response::new(FileBody { rx, remaining: len }.map_err(|e| e).boxed());
    let h = r.headers_mut();
    h.insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/octet-stream"),
    );
    h.insert(hyper::header::CONTENT_LENGTH, len.into());
    r
}

/// The 507 answer for `needed` bytes on a datastore with `free` bytes free.
fn full_datastore(space: &Space, needed: u64, free: u64) -> Response<Body> {
    text(
        StatusCode::INSUFFICIENT_STORAGE,
        &format!(
            "datastore '{}' is full: the upload needs {needed} bytes, {free} bytes are free\n",
            space.name
        ),
    )
}

/// Reads what is left of a refused request's body (so that the client, still sending, reads
/// the answer); a client that waits for `100 Continue` has sent nothing and is not waited for.
async fn drain(body: &mut Incoming, expect_continue: bool) {
    if expect_continue {
        return;
    }
    while let Some(Ok(_)) = body.frame().await {}
}

/// Writes `data` at `offset` of the temporary file on a blocking thread (zero blocks left as
/// holes); gives both back for the next chunk.
async fn write_chunk(
    temp: TempFile,
    data: Vec<u8>,
    offset: u64,
) -> std::io::Result<(TempFile, Vec<u8>)> {
    tokio::task::spawn_blocking(move || {
        crate::files::write_sparse_at(temp.file()?, offset, &data)?;
        Ok((temp, data))
    })
    .await
    .map_err(std::io::Error::other)?
}

/// Writes a request's body to `path` (see the module's description): 201 or 200 when whole.
pub(crate) async fn put(req: Request<Incoming>, path: PathBuf, space: Space) -> Response<Body> {
    let announced: Option<u64> = req
        .headers()
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok());
    let expect_continue = req
        .headers()
        .get(hyper::header::EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    let mut body = req.into_body();
    let target = path.clone();
    let checked = tokio::task::spawn_blocking(move || {
        let parent_ok = target.parent().is_some_and(Path::is_dir);
        let old = std::fs::symlink_metadata(&target).ok();
        let free = space.free();
        (parent_ok, old, free, space)
    })
    .await;
    let Ok((parent_ok, old, free, space)) = checked else {
        return text(StatusCode::INTERNAL_SERVER_ERROR, "write failed\n");
    };
    if !parent_ok {
        drain(&mut body, expect_continue).await;
        return text(StatusCode::NOT_FOUND, "parent directory not found\n");
    }
    if old.as_ref().is_some_and(|m| !m.is_file()) {
        drain(&mut body, expect_continue).await;
        return text(StatusCode::CONFLICT, "not a file\n");
    }
    let existed = old.is_some();
    // The file replaced gives its space back once the upload is in place.
    let limit = free.saturating_add(old.as_ref().map(crate::files::allocated).unwrap_or(0));
    if let Some(n) = announced.filter(|n| *n > limit) {
        drain(&mut body, expect_continue).await;
        return full_datastore(&space, n, limit);
    }
    let _held = announced.map(|n| Reservation::new(space.reserved.clone(), n));
    let target = path.clone();
    let created = tokio::task::spawn_blocking(move || TempFile::create(&target)).await;
    let Ok(Ok(mut temp)) = created else {
        drain(&mut body, expect_continue).await;
        return text(StatusCode::INTERNAL_SERVER_ERROR, "write failed\n");
    };
    let mut buf: Vec<u8> = Vec::with_capacity(CHUNK + BLOCK);
    let mut written = 0u64;
    let mut received = 0u64;
    loop {
        let data = match body.frame().await {
            None => break,
            // The connection broke off: the temporary file goes with `temp`.
            Some(Err(_)) => return text(StatusCode::BAD_REQUEST, "upload broken off\n"),
            Some(Ok(frame)) => match frame.into_data() {
                Ok(d) => d,
                Err(_) => continue,
            },
        };
        received = received.saturating_add(data.len() as u64);
        if received > limit {
            drop(temp);
            drain(&mut body, false).await;
            return full_datastore(&space, received, limit);
        }
        buf.extend_from_slice(&data);
        if buf.len() >= CHUNK {
            // Whole blocks go now (so holes line up with the file system's), the rest waits.
            let whole = buf.len() / BLOCK * BLOCK;
            let rest = buf.split_off(whole);
            let n = buf.len() as u64;
            match write_chunk(temp, buf, written).await {
                Ok((t, mut b)) => {
                    temp = t;
                    b.clear();
                    b.extend_from_slice(&rest);
                    buf = b;
                }
                Err(_) => return text(StatusCode::INTERNAL_SERVER_ERROR, "write failed\n"),
            }
            written += n;
        }
    }
    if announced.is_some_and(|n| n != received) {
        return text(
            StatusCode::BAD_REQUEST,
            "body shorter than Content-Length\n",
        );
    }
    let done = tokio::task::spawn_blocking(move || {
        crate::files::write_sparse_at(temp.file()?, written, &buf)?;
        temp.file()?.set_len(received)?;
        temp.commit()
    })
    .await;
    match done {
        Ok(Ok(())) if existed => text(StatusCode::OK, ""),
        Ok(Ok(())) => text(StatusCode::CREATED, ""),
        _ => text(StatusCode::INTERNAL_SERVER_ERROR, "write failed\n"),
    }
}
