//! Datastore files on disk: confined paths, sizes, writes that never leave half a file (a
//! temporary file renamed over the target), sparse writes and copies, and virtual disks.
//!
//! Every write the simulator makes to a datastore file goes through [`TempFile`] (or
//! [`write_atomic`]), so that an error or a crash leaves the old file or the new one; the
//! temporary files of writes a crash interrupted are removed at the next start
//! ([`remove_temps`]). Only a process crash is covered: files are not synced to the disk.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Joins a datastore-relative path onto `root`, refusing absolute paths and `..`.
pub fn safe_join(root: &Path, rel: &str) -> Option<PathBuf> {
    let mut out = root.to_path_buf();
    for c in Path::new(rel).components() {
        match c {
            Component::Normal(p) => out.push(p),
            Component::CurDir => {}
            _ => return None,
        }
    }
    Some(out)
}

/// Total size of the regular files under `dir` (one level of subdirectories deep is enough
/// for VM directories; deeper trees are summed too).
pub fn dir_size(dir: &Path) -> u64 {
    walk_files(dir, |m| m.len())
}

/// Bytes the regular files under `dir` occupy on disk (allocated blocks, so holes of sparse
/// files do not count): what a datastore has used.
pub fn allocated_size(dir: &Path) -> u64 {
    walk_files(dir, allocated)
}

/// Bytes one file occupies on disk.
pub fn allocated(m: &std::fs::Metadata) -> u64 {
    use std::os::unix::fs::MetadataExt;
    m.blocks().saturating_mul(512)
}

/// Sums `size` over the regular files under `dir`.
fn walk_files(dir: &Path, size: impl Fn(&std::fs::Metadata) -> u64) -> u64 {
    let mut total = 0u64;
    walk(dir, |e, t| {
        if t.is_file() {
            if let Ok(m) = e.metadata() {
                total = total.saturating_add(size(&m));
            }
        }
        true
    });
    total
}

/// Visits the entries under `dir` (at most 100,000), descending into the directories for
/// which `visit` returns true.
fn walk(dir: &Path, mut visit: impl FnMut(&std::fs::DirEntry, std::fs::FileType) -> bool) {
    let mut stack = vec![dir.to_path_buf()];
    let mut seen = 0;
    while let Some(d) = stack.pop() {
        let Ok(it) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in it.flatten() {
            seen += 1;
            if seen > 100_000 {
                return;
            }
            let Ok(t) = e.file_type() else { continue };
            if visit(&e, t) && t.is_dir() {
                stack.push(e.path());
            }
        }
    }
}

/// The granularity of sparse writes: a block of this many zero bytes is left as a hole.
pub const BLOCK: usize = 4096;

/// How much file data is read or written at once by the streaming helpers.
pub const CHUNK: usize = 1 << 20;

static ZEROS: [u8; BLOCK] = [0; BLOCK];

/// Whether `data` (at most [`BLOCK`] bytes) is all zeros.
fn is_zero(data: &[u8]) -> bool {
    data == &ZEROS[..data.len().min(BLOCK)]
}

/// The ending of the names of temporary files (`.<name>.<pid>-<n>.esx-sim-tmp`).
pub const TEMP_SUFFIX: &str = ".esx-sim-tmp";

/// Whether a file name is one of the simulator's temporary files.
pub fn is_temp(name: &str) -> bool {
    name.starts_with('.') && name.ends_with(TEMP_SUFFIX)
}

static TEMP_SEQ: AtomicU64 = AtomicU64::new(0);

/// The temporary files and directories under `dir` (writes not committed yet, or left by a
/// crash until [`remove_temps`] runs), for tests and checks.
pub fn temps_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    walk(dir, |e, _| {
        if is_temp(&e.file_name().to_string_lossy()) {
            out.push(e.path());
            return false;
        }
        true
    });
    out.sort();
    out
}

/// A fresh temporary name in `dir` for a file or directory that will become `name`.
pub fn temp_path(dir: &Path, name: &str) -> PathBuf {
    let mut short: String = name.chars().take(96).collect();
    short.retain(|c| c != '/');
    let seq = TEMP_SEQ.fetch_add(1, Ordering::Relaxed);
    dir.join(format!(
        ".{short}.{}-{seq}{TEMP_SUFFIX}",
        std::process::id()
    ))
}

/// A temporary file beside `target` that replaces it on [`TempFile::commit`] (a rename, so
/// readers see the old file or the new one, never half of it) and is removed when dropped
/// uncommitted (an error, a dropped connection, a cancelled future).
#[derive(Debug)]
pub struct TempFile {
    path: PathBuf,
    target: PathBuf,
    file: Option<File>,
}

impl TempFile {
    /// Creates an empty temporary file in `target`'s directory (which must exist).
    pub fn create(target: &Path) -> std::io::Result<TempFile> {
        let dir = target
            .parent()
            .ok_or_else(|| std::io::Error::other("no directory"))?;
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let path = temp_path(dir, &name);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)?;
        Ok(TempFile {
            path,
            target: target.to_path_buf(),
            file: Some(file),
        })
    }

    /// The open temporary file.
    pub fn file(&self) -> std::io::Result<&File> {
        self.file
            .as_ref()
            .ok_or_else(|| std::io::Error::other("temporary file already closed"))
    }

    /// Where the temporary file is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Closes the file and renames it over the target.
    pub fn commit(mut self) -> std::io::Result<()> {
        drop(self.file.take());
        paused_here(&self.target);
        std::fs::rename(&self.path, &self.target)?;
        self.path = PathBuf::new();
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.path.as_os_str().is_empty() {
            drop(self.file.take());
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

static PAUSE_AT: AtomicU64 = AtomicU64::new(0);
static COMMITS: AtomicU64 = AtomicU64::new(0);

/// Arms a crash point for crash tests (`--inject pause-before-commit=N`): the process's `n`-th
/// [`TempFile::commit`] (counted from 1) stops before its rename, prints
/// `esx-sim: paused before committing PATH` on stderr and waits there for the test to kill
/// the process; after 60 s it aborts. Process-wide; `0` disarms.
pub fn pause_before_commit(n: u64) {
    PAUSE_AT.store(n, Ordering::SeqCst);
}

/// Counts a commit and stops at the armed one (see [`pause_before_commit`]).
fn paused_here(target: &Path) {
    let at = PAUSE_AT.load(Ordering::SeqCst);
    if at == 0 || COMMITS.fetch_add(1, Ordering::SeqCst) + 1 != at {
        return;
    }
    eprintln!("esx-sim: paused before committing {}", target.display());
    std::thread::sleep(std::time::Duration::from_secs(60));
    eprintln!("esx-sim: nobody killed the paused process in 60 s; aborting");
    std::process::abort();
}

/// Writes `data` to `path` through a temporary file renamed over it: a crash or an error
/// leaves the old content or the new, never a part.
pub fn write_atomic(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let t = TempFile::create(path)?;
    let mut f = t.file()?;
    f.write_all(data)?;
    t.commit()
}

/// Writes `data` at `offset` of `file`, skipping the [`BLOCK`]s that are all zeros (in a new
/// file they stay holes; over old content they leave it as it was).
pub fn write_sparse_at(file: &File, offset: u64, data: &[u8]) -> std::io::Result<()> {
    let mut i = 0;
    while i < data.len() {
        let end = (i + BLOCK).min(data.len());
        if is_zero(&data[i..end]) {
            i = end;
            continue;
        }
        let start = i;
        i = end;
        while i < data.len() {
            let end = (i + BLOCK).min(data.len());
            if is_zero(&data[i..end]) {
                break;
            }
            i = end;
        }
        file.write_all_at(&data[start..i], offset + start as u64)?;
    }
    Ok(())
}

/// Writes the data blocks of `len` bytes of `src` from `src_offset` over `dst` at
/// `dst_offset` (blocks of zeros are skipped; past `src`'s end it reads as zeros): a sparse
/// copy into a new file, or an overlay onto an existing one.
pub fn overlay(
    src: &File,
    src_offset: u64,
    len: u64,
    dst: &File,
    dst_offset: u64,
) -> std::io::Result<()> {
    let have = src.metadata()?.len().saturating_sub(src_offset).min(len);
    let mut buf = vec![0u8; CHUNK];
    let mut pos = 0u64;
    while pos < have {
        let n = (have - pos).min(CHUNK as u64) as usize;
        let chunk = &mut buf[..n];
        read_full_at(src, chunk, src_offset + pos)?;
        write_sparse_at(dst, dst_offset + pos, chunk)?;
        pos += n as u64;
    }
    Ok(())
}

/// Fills `buf` from `offset` of `file`; what lies past the end reads as zeros.
fn read_full_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    let mut done = 0;
    while done < buf.len() {
        match file.read_at(&mut buf[done..], offset + done as u64) {
            Ok(0) => {
                buf[done..].fill(0);
                break;
            }
            Ok(n) => done += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Copies the file `src` to `dst` sparsely, through a temporary file renamed over `dst`.
pub fn copy_file(src: &Path, dst: &Path) -> std::io::Result<()> {
    let from = File::open(src)?;
    let len = from.metadata()?.len();
    let t = TempFile::create(dst)?;
    overlay(&from, 0, len, t.file()?, 0)?;
    t.file()?.set_len(len)?;
    t.commit()
}

/// Copies the directory tree `src` to `dst` (created; files copied with [`copy_file`], so
/// sparsely and each complete or absent).
pub fn copy_tree(src: &Path, dst: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dst)?;
    for e in std::fs::read_dir(src)? {
        let e = e?;
        let name = e.file_name();
        if is_temp(&name.to_string_lossy()) {
            continue;
        }
        let t = e.file_type()?;
        if t.is_dir() {
            copy_tree(&e.path(), &dst.join(&name))?;
        } else if t.is_file() {
            copy_file(&e.path(), &dst.join(&name))?;
        }
    }
    Ok(())
}

/// Removes the temporary files (and directories) unfinished writes left under `dir` (after a
/// crash).
pub fn remove_temps(dir: &Path) {
    walk(dir, |e, t| {
        if !is_temp(&e.file_name().to_string_lossy()) {
            return true;
        }
        let _ = if t.is_dir() {
            std::fs::remove_dir_all(e.path())
        } else {
            std::fs::remove_file(e.path())
        };
        false
    });
}

/// The capacity in KB a `.vmdk` descriptor declares (sum of its extents).
pub fn vmdk_capacity_kb(path: &Path) -> Option<i64> {
    let text = std::fs::read(path).ok()?;
    if text.len() > 64 * 1024 {
        return None;
    }
    let text = String::from_utf8_lossy(&text);
    let sectors: i64 = text
        .lines()
        .filter(|l| l.starts_with("RW ") || l.starts_with("RDONLY "))
        .filter_map(|l| l.split_whitespace().nth(1)?.parse::<i64>().ok())
        .sum();
    Some(sectors / 2)
}

/// The `ddb.uuid` of a descriptor.
pub fn vmdk_uuid(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("ddb.uuid = "))
        .map(|v| v.trim_matches('"').to_owned())
}

/// Writes a monolithic-flat descriptor `<name>.vmdk` and a sparse `<name>-flat.vmdk` extent
/// (thick: no `ddb.thinProvisioned`), making the directory if needed.
pub fn create_disk(
    descriptor: &Path,
    capacity_kb: i64,
    adapter: &str,
    uuid: &str,
) -> std::io::Result<()> {
    if let Some(dir) = descriptor.parent() {
        std::fs::create_dir_all(dir)?;
    }
    crate::vmdk::create_flat(descriptor, capacity_kb.max(0) as u64, adapter, uuid, false)
}

/// Grows the single-extent disk `descriptor` to `capacity_kb` (its extent grows sparsely; the
/// descriptor is replaced through a temporary file).
pub fn grow_disk(descriptor: &Path, capacity_kb: i64) -> std::io::Result<()> {
    let mut d = crate::vmdk::Descriptor::read(descriptor).map_err(std::io::Error::other)?;
    let bytes = (capacity_kb.max(0) as u64).saturating_mul(1024);
    let flat = match (d.extent_paths(descriptor), d.extents.first_mut()) {
        (Ok(paths), Some(e)) if paths.len() == 1 => {
            e.sectors = bytes / 512;
            paths.into_iter().next()
        }
        _ => None,
    }
    .ok_or_else(|| std::io::Error::other("no extent to grow"))?;
    let f = OpenOptions::new().write(true).open(flat)?;
    if f.metadata()?.len() < bytes {
        f.set_len(bytes)?;
    }
    d.write(descriptor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_traversal() {
        let root = Path::new("/data/ds1");
        assert_eq!(
            safe_join(root, "vm/a.vmx"),
            Some(PathBuf::from("/data/ds1/vm/a.vmx"))
        );
        assert_eq!(safe_join(root, "../etc/passwd"), None);
        assert_eq!(safe_join(root, "vm/../../x"), None);
        assert_eq!(safe_join(root, "/etc/passwd"), None);
    }

    #[test]
    fn writes_are_whole_and_sparse() {
        use std::os::unix::fs::MetadataExt;
        let dir = std::env::temp_dir().join(format!("esx-sim-files-w-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let target = dir.join("f");
        write_atomic(&target, b"old").unwrap();
        // Dropped uncommitted: the target keeps its content, no temporary is left.
        let t = TempFile::create(&target).unwrap();
        t.file().unwrap().write_all_at(b"new", 0).unwrap();
        let temp = t.path().to_path_buf();
        assert!(is_temp(&temp.file_name().unwrap().to_string_lossy()));
        drop(t);
        assert!(!temp.exists());
        assert_eq!(std::fs::read(&target).unwrap(), b"old");
        // Sparse: 4 MiB of which one block is data.
        let mut data = vec![0u8; 4 << 20];
        data[(2 << 20) + 5] = 9;
        let t = TempFile::create(&target).unwrap();
        write_sparse_at(t.file().unwrap(), 0, &data).unwrap();
        t.file().unwrap().set_len(data.len() as u64).unwrap();
        t.commit().unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), data);
        let m = std::fs::metadata(&target).unwrap();
        assert!(m.blocks() * 512 <= 64 * 1024, "{} blocks", m.blocks());
        // A sparse copy, an overlay, a tree copy; stale temporaries go at start.
        copy_file(&target, &dir.join("g")).unwrap();
        assert_eq!(std::fs::read(dir.join("g")).unwrap(), data);
        std::fs::create_dir_all(dir.join("t/u")).unwrap();
        std::fs::write(dir.join("t/u/x"), b"x").unwrap();
        std::fs::write(dir.join("t/.x.1-1.esx-sim-tmp"), b"half").unwrap();
        copy_tree(&dir.join("t"), &dir.join("t2")).unwrap();
        assert_eq!(std::fs::read(dir.join("t2/u/x")).unwrap(), b"x");
        assert!(!dir.join("t2/.x.1-1.esx-sim-tmp").exists());
        remove_temps(&dir);
        assert!(!dir.join("t/.x.1-1.esx-sim-tmp").exists());
        assert!(dir.join("t/u/x").exists());
        assert!(allocated_size(&dir) > 0 && dir_size(&dir) > 8 << 20);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn descriptor_round_trip() {
        let dir = std::env::temp_dir().join(format!("esx-sim-files-{}", std::process::id()));
        let d = dir.join("vm/disk.vmdk");
        create_disk(&d, 2048, "lsilogic", "60 00 C2 9a").unwrap();
        assert_eq!(vmdk_capacity_kb(&d), Some(2048));
        assert_eq!(vmdk_uuid(&d).as_deref(), Some("60 00 C2 9a"));
        grow_disk(&d, 4096).unwrap();
        assert_eq!(vmdk_capacity_kb(&d), Some(4096));
        assert_eq!(
            std::fs::metadata(dir.join("vm/disk-flat.vmdk"))
                .unwrap()
                .len(),
            4096 * 1024
        );
        create_disk(&d, 2048, "lsilogic", "60 00 C2 9a").unwrap();
        assert_eq!(
            std::fs::metadata(dir.join("vm/disk-flat.vmdk"))
                .unwrap()
                .len(),
            2048 * 1024
        );
        let _ = std::fs::remove_dir_all(dir);
    }
}
