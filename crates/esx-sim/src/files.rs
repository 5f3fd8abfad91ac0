//! Datastore files on disk: confined paths, sizes, and virtual disk descriptors.

use std::path::{Component, Path, PathBuf};

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
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    let mut seen = 0;
    while let Some(d) = stack.pop() {
        let Ok(it) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in it.flatten() {
            seen += 1;
            if seen > 100_000 {
                return total;
            }
            match e.metadata() {
                Ok(m) if m.is_dir() => stack.push(e.path()),
                Ok(m) => total += m.len(),
                Err(_) => {}
            }
        }
    }
    total
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

/// Writes a monolithic-flat descriptor `<name>.vmdk` and a sparse `<name>-flat.vmdk` extent.
pub fn create_disk(
    descriptor: &Path,
    capacity_kb: i64,
    adapter: &str,
    uuid: &str,
) -> std::io::Result<()> {
    let stem = descriptor
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("disk")
        .to_owned();
    let flat_name = format!("{stem}-flat.vmdk");
    let sectors = capacity_kb.max(0) * 2;
    let cylinders = (sectors / (255 * 63)).max(1);
    let text = format!(
        "# Disk DescriptorFile\nversion=1\nencoding=\"UTF-8\"\nCID=fffffffe\nparentCID=ffffffff\ncreateType=\"vmfs\"\n\n\
         # Extent description\nRW {sectors} VMFS \"{flat_name}\"\n\n# The Disk Data Base\n#DDB\n\n\
         ddb.adapterType = \"{adapter}\"\nddb.geometry.cylinders = \"{cylinders}\"\nddb.geometry.heads = \"255\"\n\
         ddb.geometry.sectors = \"63\"\nddb.uuid = \"{uuid}\"\nddb.virtualHWVersion = \"14\"\n"
    );
    if let Some(dir) = descriptor.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(descriptor, text)?;
    let flat = descriptor.with_file_name(flat_name);
    let f = std::fs::File::create(flat)?;
    f.set_len((capacity_kb.max(0) as u64) * 1024)?;
    Ok(())
}

/// Grows the single-extent disk `descriptor` to `capacity_kb` (its extent grows sparsely).
pub fn grow_disk(descriptor: &Path, capacity_kb: i64) -> std::io::Result<()> {
    let text = std::fs::read_to_string(descriptor)?;
    let sectors = capacity_kb.max(0) * 2;
    let mut extent = None;
    let mut out = String::with_capacity(text.len() + 8);
    for line in text.lines() {
        if extent.is_none() && line.starts_with("RW ") {
            let file = line.split('"').nth(1).unwrap_or("").to_owned();
            let kind = line.split_whitespace().nth(2).unwrap_or("VMFS");
            out.push_str(&format!("RW {sectors} {kind} \"{file}\""));
            extent = Some(file);
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    let file = extent
        .filter(|f| !f.is_empty() && !f.contains('/') && !f.contains(".."))
        .ok_or_else(|| std::io::Error::other("no extent to grow"))?;
    let flat = descriptor.with_file_name(file);
    let f = std::fs::OpenOptions::new().write(true).open(flat)?;
    f.set_len((capacity_kb.max(0) as u64) * 1024)?;
    std::fs::write(descriptor, out)
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
