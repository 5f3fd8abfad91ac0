//! `/folder/<path>?dcPath=…&dsName=…`: GET, PUT and DELETE of datastore files.

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use percent_encoding::percent_decode_str;

use crate::server::{cookie_value, live_session, Shared};

/// Largest file accepted by PUT.
pub const MAX_UPLOAD: usize = 1 << 30;

fn text(status: StatusCode, msg: &str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(msg.to_owned())));
    *r.status_mut() = status;
    r
}

/// Handles one `/folder` request.
pub async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> Response<Full<Bytes>> {
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
    let (path, read_only) = {
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
        let Some(dir) = st.datastore_dir(&ds) else {
            return text(StatusCode::NOT_FOUND, "no such datastore\n");
        };
        match crate::files::safe_join(&dir, &rel) {
            Some(p) if !rel.is_empty() => (p, ro),
            _ => return text(StatusCode::BAD_REQUEST, "invalid path\n"),
        }
    };
    match *req.method() {
        Method::GET => match tokio::fs::read(&path).await {
            Ok(b) => {
                let mut r = Response::new(Full::new(Bytes::from(b)));
                if let Ok(v) = "application/octet-stream".parse() {
                    r.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
                }
                r
            }
            Err(_) => text(StatusCode::NOT_FOUND, "not found\n"),
        },
        Method::PUT if !read_only => {
            let body = match Limited::new(req.into_body(), MAX_UPLOAD).collect().await {
                Ok(b) => b.to_bytes(),
                Err(_) => return text(StatusCode::PAYLOAD_TOO_LARGE, "too large\n"),
            };
            if let Some(parent) = path.parent() {
                if !parent.is_dir() {
                    return text(StatusCode::NOT_FOUND, "parent directory not found\n");
                }
            }
            let existed = path.exists();
            match tokio::fs::write(&path, &body).await {
                Ok(()) => text(
                    if existed {
                        StatusCode::OK
                    } else {
                        StatusCode::CREATED
                    },
                    "",
                ),
                Err(_) => text(StatusCode::INTERNAL_SERVER_ERROR, "write failed\n"),
            }
        }
        Method::DELETE if !read_only => match tokio::fs::remove_file(&path).await {
            Ok(()) => text(StatusCode::NO_CONTENT, ""),
            Err(_) => text(StatusCode::NOT_FOUND, "not found\n"),
        },
        Method::PUT | Method::DELETE => text(StatusCode::FORBIDDEN, "permission denied\n"),
        _ => text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n"),
    }
}
