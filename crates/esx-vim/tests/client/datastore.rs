//! Datastore file transfer against vcsim: a 200 MB file up and down in constant memory, a
//! small file round trip through local files, and 404 as a typed "file not found".
//!
//! Runs in its own test binary so the peak-RSS measurement sees only this transfer.

use crate::client_support;

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use client_support::*;
use esx_vim::client::{DatastoreFile, HttpOptions, HttpTransport, TlsOptions, TransferError};
use esx_vim::transport::{SoapCall, Transport};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Ports 18970-18979 belong to this test binary.
static PORTS: Ports = Ports::new(18970, 10);

const BIG: u64 = 200 * 1024 * 1024;

/// Byte `i` of the synthetic file: cheap, position-dependent, not compressible to nothing.
fn pattern(i: u64) -> u8 {
    (i.wrapping_mul(2654435761) >> 13) as u8
}

/// An `AsyncRead` producing `len` bytes of [`pattern`] without holding them.
struct PatternReader {
    pos: u64,
    len: u64,
}

impl AsyncRead for PatternReader {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let n = (self.len - self.pos).min(buf.remaining() as u64) as usize;
        let start = self.pos;
        let chunk: Vec<u8> = (0..n as u64).map(|i| pattern(start + i)).collect();
        buf.put_slice(&chunk);
        self.pos += n as u64;
        Poll::Ready(Ok(()))
    }
}

/// An `AsyncWrite` checking every byte against [`pattern`] and counting them.
struct PatternChecker {
    pos: u64,
    mismatches: u64,
}

impl AsyncWrite for PatternChecker {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let start = self.pos;
        let bad = data
            .iter()
            .enumerate()
            .filter(|(i, b)| **b != pattern(start + *i as u64))
            .count();
        self.mismatches += bad as u64;
        self.pos += data.len() as u64;
        Poll::Ready(Ok(data.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

fn status_kb(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

async fn logged_in(sim: &Vcsim) -> HttpTransport {
    let opts = HttpOptions {
        tls: TlsOptions {
            no_verify: true,
            ..TlsOptions::default()
        },
        ..HttpOptions::default()
    };
    let t = HttpTransport::new(&sim.url(), opts).expect("transport");
    let call = SoapCall {
        method: "Login",
        this: None,
        body: login("ha-sessionmgr", "root", "pass"),
    };
    let reply = t.round_trip(call).await.expect("login");
    assert_eq!(
        reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    assert!(t.session_cookie().is_some());
    t
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn datastore_transfers() {
    if skip_without_vcsim("datastore_transfers") {
        return;
    }
    let sim = Vcsim::start(PORTS.take(), &["-esx", "-vm", "1"]);
    let t = logged_in(&sim).await;

    // Small file through local files.
    let dir = std::env::temp_dir().join(format!("esx-vim-ds-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let src = dir.join("small.vmx");
    std::fs::write(
        &src,
        b"config.version = \"8\"\nvirtualHW.version = \"13\"\n",
    )
    .expect("write");
    let small = DatastoreFile::new("ha-datacenter", "LocalDS_0", "esx vim/small #1.vmx");
    assert_eq!(
        t.upload_from_path(&small, &src)
            .await
            .expect("upload small"),
        46
    );
    let back = dir.join("back.vmx");
    assert_eq!(
        t.download_to_path(&small, &back)
            .await
            .expect("download small"),
        46
    );
    assert_eq!(
        std::fs::read(&back).expect("read"),
        std::fs::read(&src).expect("read")
    );

    // 404: a typed error naming the file.
    let missing = DatastoreFile::new("ha-datacenter", "LocalDS_0", "nope/missing.vmdk");
    let mut sink = tokio::io::sink();
    match t.download(&missing, &mut sink).await {
        Err(TransferError::NotFound { path }) => assert_eq!(path, "[LocalDS_0] nope/missing.vmdk"),
        other => panic!("expected NotFound, got {other:?}"),
    }

    // 200 MB up and down, peak RSS bounded.
    let _ = std::fs::write("/proc/self/clear_refs", b"5"); // reset VmHWM where the kernel allows it
    let rss_before = status_kb("VmRSS:");
    let hwm_before = status_kb("VmHWM:").max(rss_before);
    let big = DatastoreFile::new("ha-datacenter", "LocalDS_0", "big/disk-flat.bin");
    let started = std::time::Instant::now();
    let sent = t
        .upload(&big, PatternReader { pos: 0, len: BIG }, Some(BIG))
        .await
        .expect("upload 200 MB");
    assert_eq!(sent, BIG);
    let up = started.elapsed();
    let mut checker = PatternChecker {
        pos: 0,
        mismatches: 0,
    };
    let got = t
        .download(&big, &mut checker)
        .await
        .expect("download 200 MB");
    assert_eq!((got, checker.pos, checker.mismatches), (BIG, BIG, 0));
    let hwm_after = status_kb("VmHWM:");
    let delta_mb = hwm_after.saturating_sub(hwm_before) / 1024;
    eprintln!(
        "200 MB: upload {:?}, download {:?}; VmHWM {} kB -> {} kB (+{delta_mb} MB)",
        up,
        started.elapsed() - up,
        hwm_before,
        hwm_after
    );
    assert!(
        delta_mb < 64,
        "peak RSS grew by {delta_mb} MB during a 200 MB transfer"
    );
    let _ = std::fs::remove_dir_all(dir);
}
