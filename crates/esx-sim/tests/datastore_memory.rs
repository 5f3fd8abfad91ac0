//! A 512 MiB upload and download through `/folder` over real HTTPS keep the process's resident
//! memory flat: neither side holds the file. The simulator runs in this test's process (its
//! own test binary, so no other test shares the heap); the client streams from a generator and
//! into a checker, so whatever grows is the server's (or the client's) buffering.

use std::pin::Pin;
use std::task::{Context, Poll};

use esx_vim::client::{Client, ConnectOptions, DatastoreFile, HttpOptions, RetryPolicy};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

const LEN: u64 = 512 << 20;

/// Byte `i` of the content: a pattern, with every fourth MiB zeros (a hole on the server).
fn byte(i: u64) -> u8 {
    if (i >> 20) % 4 == 3 {
        0
    } else {
        (i % 253 + 1) as u8
    }
}

/// Reads as `LEN` bytes of [`byte`].
struct Source(u64);

impl AsyncRead for Source {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let n = (LEN - self.0).min(buf.remaining() as u64).min(256 * 1024);
        let start = self.0;
        let chunk: Vec<u8> = (start..start + n).map(byte).collect();
        buf.put_slice(&chunk);
        self.0 += n;
        Poll::Ready(Ok(()))
    }
}

/// Checks what it is given against [`byte`], keeping nothing.
struct Check {
    at: u64,
    bad: Option<u64>,
}

impl AsyncWrite for Check {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        for (k, b) in data.iter().enumerate() {
            let i = self.at + k as u64;
            if *b != byte(i) && self.bad.is_none() {
                self.bad = Some(i);
            }
        }
        self.at += data.len() as u64;
        Poll::Ready(Ok(data.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// The process's resident memory in KiB (`VmRSS`).
fn rss_kib() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_a_gibibyte_each_way_in_flat_memory() {
    if !std::path::Path::new("/proc/self/status").exists() {
        eprintln!("!!! SKIPPED: no /proc/self/status");
        return;
    }
    let dir = std::env::temp_dir().join(format!("esx-sim-dsmem-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut cfg = esx_sim::Config::new(&dir);
    cfg.inventory = "vm=1".parse().unwrap();
    let h = esx_sim::Simulator::start(cfg).await.unwrap();
    let mut http = HttpOptions {
        retry: RetryPolicy::none(),
        ..Default::default()
    };
    http.tls.no_verify = true;
    let c = Client::connect(
        &h.url,
        ConnectOptions {
            user: "root".into(),
            password: "pass".into(),
            http,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let t = c.transport();
    let f = DatastoreFile::new("ha-datacenter", "datastore1", "big-flat.vmdk");
    // A small transfer first, so that buffers and threads that stay are there already.
    let warm = DatastoreFile::new("ha-datacenter", "datastore1", "warm.bin");
    t.upload(&warm, std::io::Cursor::new(vec![7u8; 4 << 20]), None)
        .await
        .unwrap();
    t.download(&warm, &mut Vec::new()).await.unwrap();
    let before = rss_kib();
    let sent = t.upload(&f, Source(0), Some(LEN)).await.unwrap();
    assert_eq!(sent, LEN);
    let after_put = rss_kib();
    let mut check = Check { at: 0, bad: None };
    assert_eq!(t.download(&f, &mut check).await.unwrap(), LEN);
    let after_get = rss_kib();
    assert_eq!(check.at, LEN);
    assert_eq!(check.bad, None, "the download differs from the upload");
    let grown = after_put.max(after_get).saturating_sub(before);
    eprintln!("VmRSS {before} KiB before, {after_put} after PUT, {after_get} after GET");
    assert!(
        grown < 16 * 1024,
        "resident memory grew by {grown} KiB for a {} MiB transfer",
        LEN >> 20
    );
    h.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}
