//! Request bodies (whole or streamed from a reader) and bounded reading of response bodies.

use std::io::{self, Read};
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use tokio::io::{AsyncRead, ReadBuf};

use crate::transport::{TransportError, TransportErrorKind};

/// Chunk size for streamed uploads.
const CHUNK: usize = 64 * 1024;

/// A request body: a complete buffer, or a reader streamed in 64 KiB chunks.
pub(crate) enum RequestBody {
    /// The whole body at once (SOAP envelopes).
    Full(Option<Bytes>),
    /// A streamed body of an optional known length (datastore uploads).
    Reader {
        reader: Pin<Box<dyn AsyncRead + Send>>,
        buf: Vec<u8>,
        remaining: Option<u64>,
    },
}

impl RequestBody {
    pub(crate) fn full(bytes: impl Into<Bytes>) -> Self {
        Self::Full(Some(bytes.into()))
    }

    pub(crate) fn empty() -> Self {
        Self::Full(None)
    }

    pub(crate) fn reader(reader: impl AsyncRead + Send + 'static, len: Option<u64>) -> Self {
        Self::Reader {
            reader: Box::pin(reader),
            buf: vec![0; CHUNK],
            remaining: len,
        }
    }
}

impl Body for RequestBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        match self.get_mut() {
            Self::Full(data) => Poll::Ready(data.take().map(|b| Ok(Frame::data(b)))),
            Self::Reader {
                reader,
                buf,
                remaining,
            } => {
                if *remaining == Some(0) {
                    return Poll::Ready(None);
                }
                let want = match remaining {
                    Some(r) => usize::try_from(*r).unwrap_or(usize::MAX).min(buf.len()),
                    None => buf.len(),
                };
                let mut rb = ReadBuf::new(&mut buf[..want]);
                match reader.as_mut().poll_read(cx, &mut rb) {
                    Poll::Pending => Poll::Pending,
                    Poll::Ready(Err(e)) => Poll::Ready(Some(Err(e))),
                    Poll::Ready(Ok(())) => {
                        let n = rb.filled().len();
                        if n == 0 {
                            return match remaining {
                                Some(r) => Poll::Ready(Some(Err(io::Error::new(
                                    io::ErrorKind::UnexpectedEof,
                                    format!(
                                        "upload source ended {r} bytes before its declared length"
                                    ),
                                )))),
                                None => Poll::Ready(None),
                            };
                        }
                        if let Some(r) = remaining {
                            *r = r.saturating_sub(n as u64);
                        }
                        Poll::Ready(Some(Ok(Frame::data(Bytes::copy_from_slice(rb.filled())))))
                    }
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Self::Full(data) => data.is_none(),
            Self::Reader { remaining, .. } => *remaining == Some(0),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Self::Full(Some(b)) => SizeHint::with_exact(b.len() as u64),
            Self::Full(None) => SizeHint::with_exact(0),
            Self::Reader {
                remaining: Some(r), ..
            } => SizeHint::with_exact(*r),
            Self::Reader {
                remaining: None, ..
            } => SizeHint::default(),
        }
    }
}

/// Reads a whole response body, failing once it exceeds `limit` bytes.
pub(crate) async fn collect_bounded<B>(
    mut body: B,
    limit: u64,
    what: &str,
) -> Result<Vec<u8>, TransportError>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let mut out = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            TransportError::new(
                TransportErrorKind::Io,
                format!("reading the reply to {what} failed: {e}"),
            )
            .with_source(e)
        })?;
        if let Ok(data) = frame.into_data() {
            if (out.len() + data.len()) as u64 > limit {
                return Err(too_large(what, limit));
            }
            out.extend_from_slice(&data);
        }
    }
    Ok(out)
}

/// Decompresses a gzip body, failing once the output exceeds `limit` bytes.
pub(crate) fn gunzip_bounded(
    compressed: &[u8],
    limit: u64,
    what: &str,
) -> Result<Vec<u8>, TransportError> {
    let decoder = flate2::read::GzDecoder::new(compressed);
    let mut out = Vec::with_capacity(compressed.len().saturating_mul(4).min(64 * 1024 * 1024));
    decoder
        .take(limit.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|e| {
            TransportError::new(
                TransportErrorKind::Http,
                format!("the gzip-encoded reply to {what} is corrupt: {e}"),
            )
            .with_source(e)
        })?;
    if out.len() as u64 > limit {
        return Err(too_large(what, limit));
    }
    Ok(out)
}

pub(crate) fn too_large(what: &str, limit: u64) -> TransportError {
    TransportError::new(
        TransportErrorKind::TooLarge,
        format!("the reply to {what} is larger than the {limit}-byte limit"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::GzEncoder;
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut enc = GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(data).expect("gzip");
        enc.finish().expect("gzip")
    }

    #[test]
    fn gunzip_roundtrip_and_bound() {
        let data = vec![b'x'; 10_000];
        let z = gz(&data);
        assert_eq!(gunzip_bounded(&z, 10_000, "T").expect("fits"), data);
        let err = gunzip_bounded(&z, 9_999, "T").expect_err("too large");
        assert_eq!(err.kind, TransportErrorKind::TooLarge);
        let err = gunzip_bounded(b"not gzip", 100, "T").expect_err("corrupt");
        assert_eq!(err.kind, TransportErrorKind::Http);
    }

    #[tokio::test]
    async fn collect_respects_limit() {
        let body = RequestBody::full(vec![1u8; 100]);
        assert_eq!(
            collect_bounded(body, 100, "T").await.expect("fits").len(),
            100
        );
        let body = RequestBody::full(vec![1u8; 101]);
        let err = collect_bounded(body, 100, "T")
            .await
            .expect_err("too large");
        assert_eq!(err.kind, TransportErrorKind::TooLarge);
    }

    #[tokio::test]
    async fn reader_body_streams_and_checks_length() {
        let data = vec![7u8; 200_000];
        let body = RequestBody::reader(std::io::Cursor::new(data.clone()), Some(200_000));
        assert_eq!(body.size_hint().exact(), Some(200_000));
        let got = body.collect().await.expect("read").to_bytes();
        assert_eq!(got.len(), 200_000);

        let short = RequestBody::reader(std::io::Cursor::new(vec![0u8; 10]), Some(20));
        let err = short.collect().await.expect_err("short source must fail");
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    }
}
