//! Writing configuration files: only when their content or mode differs, atomically (a
//! temporary file in the same directory, flushed to disk, then renamed over the old one), so a
//! reader sees the old file or the new one and never a part of either.

use std::fs::{self, OpenOptions, Permissions};
use std::io::{self, Write as _};
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

/// What happened (or, in a dry run, would happen) to a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Change {
    /// The file did not exist.
    Created,
    /// The file's content differed.
    Updated,
    /// Only the file's permission bits differed; they were set.
    ModeFixed,
    /// The file already had this content and mode.
    Unchanged,
    /// The file is a symbolic link (resolv.conf managed by systemd-resolved or resolvconf):
    /// left alone.
    SkippedSymlink,
}

impl Change {
    /// Whether the file is (or would be) different afterwards.
    pub fn is_change(self) -> bool {
        matches!(self, Change::Created | Change::Updated | Change::ModeFixed)
    }

    /// The verb for reports: `created`, `updated`, `mode set`, `unchanged`, `left alone (symlink)`.
    pub fn verb(self) -> &'static str {
        match self {
            Change::Created => "created",
            Change::Updated => "updated",
            Change::ModeFixed => "mode set",
            Change::Unchanged => "unchanged",
            Change::SkippedSymlink => "left alone (symbolic link)",
        }
    }
}

/// An I/O failure on one file.
#[derive(Debug, thiserror::Error)]
#[error("{action} {path}: {source}")]
pub struct FileError {
    /// What was being done (`read`, `write`, …).
    pub action: &'static str,
    /// The file.
    pub path: PathBuf,
    /// The operating system's reason.
    #[source]
    pub source: io::Error,
}

fn file_error<'a>(
    action: &'static str,
    path: &'a Path,
) -> impl FnOnce(io::Error) -> FileError + 'a {
    move |source| FileError {
        action,
        path: path.to_path_buf(),
        source,
    }
}

/// What the file at `path` needs to hold `contents` with `mode`, and its current content
/// (`None` when absent). Symbolic links are reported as [`Change::SkippedSymlink`].
pub fn compare(
    path: &Path,
    contents: &[u8],
    mode: u32,
) -> Result<(Change, Option<Vec<u8>>), FileError> {
    let meta = match fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((Change::Created, None)),
        Err(e) => return Err(file_error("inspect", path)(e)),
    };
    if meta.file_type().is_symlink() {
        return Ok((Change::SkippedSymlink, None));
    }
    if !meta.is_file() {
        let e = io::Error::new(io::ErrorKind::InvalidInput, "not a regular file");
        return Err(file_error("replace", path)(e));
    }
    let current = fs::read(path).map_err(file_error("read", path))?;
    let change = if current != contents {
        Change::Updated
    } else if meta.permissions().mode() & 0o7777 != mode {
        Change::ModeFixed
    } else {
        Change::Unchanged
    };
    Ok((change, Some(current)))
}

/// Makes the file at `path` hold `contents` with permission bits `mode`, touching it only when
/// something differs. Missing parent directories are created (mode 0755 less the umask).
pub fn write_if_changed(path: &Path, contents: &[u8], mode: u32) -> Result<Change, FileError> {
    let (change, _) = compare(path, contents, mode)?;
    match change {
        Change::Created | Change::Updated => write_atomic(path, contents, mode)?,
        Change::ModeFixed => fs::set_permissions(path, Permissions::from_mode(mode))
            .map_err(file_error("chmod", path))?,
        Change::Unchanged | Change::SkippedSymlink => {}
    }
    Ok(change)
}

/// Replaces `path` with `contents` through a temporary file in the same directory, which is
/// removed again if anything fails before the rename.
pub fn write_atomic(path: &Path, contents: &[u8], mode: u32) -> Result<(), FileError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    fs::create_dir_all(dir).map_err(file_error("create directory", dir))?;
    let temp = dir.join(format!(".{name}.esx-guest-{}.tmp", std::process::id()));
    let result = (|| {
        let mut file = match open_new(&temp, mode) {
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                // Left over by an earlier run with the same process id.
                fs::remove_file(&temp)?;
                open_new(&temp, mode)?
            }
            other => other?,
        };
        // The mode given to open is reduced by the umask; set it exactly.
        file.set_permissions(Permissions::from_mode(mode))?;
        file.write_all(contents)?;
        file.sync_all()?;
        fs::rename(&temp, path)
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&temp);
        return Err(file_error("write", path)(e));
    }
    // Make the rename itself durable; not all file systems allow syncing a directory.
    if let Ok(dir) = fs::File::open(dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}

fn open_new(path: &Path, mode: u32) -> io::Result<fs::File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
}

/// A line diff of `old` and `new` for dry runs: unchanged lines start with two spaces, removed
/// ones with `- `, added ones with `+ ` (trailing white space dropped).
pub fn diff(old: &str, new: &str) -> String {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    // Longest common subsequence table; configuration files are small.
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut out = String::new();
    let mut push = |mark: char, line: &str| {
        out.push_str(format!("{mark} {line}").trim_end());
        out.push('\n');
    };
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            push(' ', a[i]);
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            push('-', a[i]);
            i += 1;
        } else {
            push('+', b[j]);
            j += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("esx-guest-files-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    fn mode_of(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn creates_updates_and_leaves_alone() {
        let dir = temp_dir("cycle");
        let path = dir.join("etc/netplan/50-x.yaml");
        assert_eq!(
            write_if_changed(&path, b"one\n", 0o600).unwrap(),
            Change::Created
        );
        assert_eq!(fs::read(&path).unwrap(), b"one\n");
        assert_eq!(mode_of(&path), 0o600);
        let mtime = fs::metadata(&path).unwrap().modified().unwrap();
        assert_eq!(
            write_if_changed(&path, b"one\n", 0o600).unwrap(),
            Change::Unchanged
        );
        assert_eq!(fs::metadata(&path).unwrap().modified().unwrap(), mtime);
        assert_eq!(
            write_if_changed(&path, b"one\n", 0o644).unwrap(),
            Change::ModeFixed
        );
        assert_eq!(mode_of(&path), 0o644);
        assert_eq!(
            write_if_changed(&path, b"two\n", 0o644).unwrap(),
            Change::Updated
        );
        assert_eq!(fs::read(&path).unwrap(), b"two\n");
        // No temporary file is left behind.
        let names: Vec<_> = fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["50-x.yaml"]);
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn symlinks_and_directories() {
        let dir = temp_dir("links");
        fs::create_dir_all(dir.join("sub")).unwrap();
        std::os::unix::fs::symlink("target", dir.join("link")).unwrap();
        assert_eq!(
            write_if_changed(&dir.join("link"), b"x", 0o644).unwrap(),
            Change::SkippedSymlink
        );
        assert!(fs::symlink_metadata(dir.join("link"))
            .unwrap()
            .file_type()
            .is_symlink());
        let err = write_if_changed(&dir.join("sub"), b"x", 0o644).unwrap_err();
        assert!(err.to_string().contains("not a regular file"), "{err}");
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn failed_write_leaves_the_old_file_and_no_temporary() {
        let dir = temp_dir("fail");
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("f");
        fs::write(&path, "old").unwrap();
        // A directory where the temporary file would go makes the write fail.
        let temp = dir.join(format!(".f.esx-guest-{}.tmp", std::process::id()));
        fs::create_dir(&temp).unwrap();
        fs::write(temp.join("keep"), "x").unwrap();
        assert!(write_atomic(&path, b"new", 0o644).is_err());
        assert_eq!(fs::read(&path).unwrap(), b"old");
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn line_diff() {
        assert_eq!(
            diff("a\nb\nc\n", "a\nx\nc\nd\n"),
            "  a\n- b\n+ x\n  c\n+ d\n"
        );
        assert_eq!(diff("", "a\n\nb\n"), "+ a\n+\n+ b\n");
        assert_eq!(diff("a\n", ""), "- a\n");
    }
}
