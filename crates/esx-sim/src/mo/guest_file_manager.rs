//! `GuestFileManager`: the guest model's file tree (see [`crate::mo::guest_operations`]), and
//! the `https://*/guestFile?id=…&token=…` URLs of file transfers.

use esx_vim::*;

use crate::fault::{Fault, MethodResult};
use crate::mo::guest_operations::{
    check, guest, norm, not_found, parent, GuestNode, Transfer, MAX_FILE,
};
use crate::state::{MoRef, State};

fn path_arg(p: &str, name: &str) -> MethodResult<String> {
    norm(p).ok_or_else(|| Fault::invalid_argument(name))
}

fn exists(p: &str) -> Fault {
    Fault::new(
        FileAlreadyExists {
            file: p.to_owned(),
            ..Default::default()
        },
        format!("File {p} already exists"),
    )
}

fn not_dir(p: &str) -> Fault {
    Fault::new(
        NotADirectory {
            file: p.to_owned(),
            ..Default::default()
        },
        format!("{p} is not a directory"),
    )
}

fn not_file(p: &str) -> Fault {
    Fault::new(
        NotAFile {
            file: p.to_owned(),
            ..Default::default()
        },
        format!("{p} is not a file"),
    )
}

fn attrs(n: &GuestNode) -> BaseGuestFileAttributes {
    BaseGuestFileAttributes::GuestPosixFileAttributes(Box::new(GuestPosixFileAttributes {
        modification_time: Some(n.mtime),
        access_time: Some(n.atime),
        owner_id: Some(n.owner.0),
        group_id: Some(n.owner.1),
        permissions: Some(n.mode),
        ..Default::default()
    }))
}

fn info(name: &str, n: &GuestNode) -> GuestFileInfo {
    GuestFileInfo {
        path: name.to_owned(),
        r#type: if n.is_dir() { "directory" } else { "file" }.into(),
        size: n.data.as_ref().map_or(4096, |d| d.len() as i64),
        attributes: attrs(n),
    }
}

/// Whether `name` matches a `matchPattern`: `.*`/empty match everything; `*` and `?` work as in
/// shell globs; anything else must appear in the name.
fn matches(name: &str, pattern: Option<&str>) -> bool {
    let Some(p) = pattern.filter(|p| !p.is_empty() && *p != ".*" && *p != "*") else {
        return true;
    };
    if p.contains('*') || p.contains('?') {
        fn glob(n: &[char], p: &[char]) -> bool {
            match p.split_first() {
                None => n.is_empty(),
                Some(('*', rest)) => (0..=n.len()).any(|i| glob(&n[i..], rest)),
                Some(('?', rest)) => !n.is_empty() && glob(&n[1..], rest),
                Some((c, rest)) => n.first() == Some(c) && glob(&n[1..], rest),
            }
        }
        let (n, p): (Vec<char>, Vec<char>) = (name.chars().collect(), p.chars().collect());
        return glob(&n, &p);
    }
    name.contains(p)
}

fn list(
    state: &mut State,
    vm: &MoRef,
    q: &ListFilesInGuestRequestType,
) -> MethodResult<GuestListFileInfo> {
    let p = path_arg(&q.file_path, "filePath")?;
    let g = guest(state, vm)?;
    let node = g.files.get(&p).ok_or_else(|| not_found(&p))?;
    let mut all: Vec<GuestFileInfo> = if node.is_dir() {
        let prefix = if p == "/" {
            "/".to_owned()
        } else {
            format!("{p}/")
        };
        let mut v = vec![info(".", node)];
        if let Some(up) = g.files.get(&parent(&p)) {
            v.push(info("..", up));
        }
        v.extend(
            g.files
                .range(prefix.clone()..)
                .take_while(|(k, _)| k.starts_with(&prefix))
                .filter(|(k, _)| k.len() > prefix.len() && !k[prefix.len()..].contains('/'))
                .map(|(k, n)| info(&k[prefix.len()..], n)),
        );
        v
    } else {
        vec![info(p.rsplit('/').next().unwrap_or(&p), node)]
    };
    all.retain(|f| matches(&f.path, q.match_pattern.as_deref()));
    let index = q.index.unwrap_or(0).max(0) as usize;
    let max = q
        .max_results
        .filter(|m| *m > 0)
        .map_or(usize::MAX, |m| m as usize);
    let total = all.len();
    let files: Vec<GuestFileInfo> = all.into_iter().skip(index).take(max).collect();
    let remaining = total.saturating_sub(index + files.len()) as i32;
    Ok(GuestListFileInfo { files, remaining })
}

fn mkdir(state: &mut State, vm: &MoRef, p: &str, parents: bool) -> MethodResult<()> {
    let p = path_arg(p, "directoryPath")?;
    let g = guest(state, vm)?;
    if g.files.contains_key(&p) {
        return Err(exists(&p));
    }
    let mut missing = Vec::new();
    let mut cur = p.clone();
    loop {
        match g.files.get(&cur) {
            Some(n) if n.is_dir() => break,
            Some(_) => return Err(not_dir(&cur)),
            None => missing.push(cur.clone()),
        }
        cur = parent(&cur);
    }
    if missing.len() > 1 && !parents {
        return Err(not_found(&parent(&p)));
    }
    for d in missing {
        g.files.insert(d, GuestNode::dir());
    }
    Ok(())
}

fn rm_file(state: &mut State, vm: &MoRef, p: &str) -> MethodResult<()> {
    let p = path_arg(p, "filePath")?;
    let g = guest(state, vm)?;
    match g.files.get(&p) {
        None => Err(not_found(&p)),
        Some(n) if n.is_dir() => Err(not_file(&p)),
        Some(_) => {
            g.files.remove(&p);
            Ok(())
        }
    }
}

fn rm_dir(state: &mut State, vm: &MoRef, p: &str, recursive: bool) -> MethodResult<()> {
    let p = path_arg(p, "directoryPath")?;
    if p == "/" {
        return Err(Fault::new(
            GuestPermissionDenied::default(),
            "Permission to remove / is denied",
        ));
    }
    let g = guest(state, vm)?;
    match g.files.get(&p) {
        None => return Err(not_found(&p)),
        Some(n) if !n.is_dir() => return Err(not_dir(&p)),
        Some(_) => {}
    }
    let prefix = format!("{p}/");
    let inside: Vec<String> = g
        .files
        .range(prefix.clone()..)
        .take_while(|(k, _)| k.starts_with(&prefix))
        .map(|(k, _)| k.clone())
        .collect();
    if !inside.is_empty() && !recursive {
        return Err(Fault::new(
            DirectoryNotEmpty {
                file: p.clone(),
                ..Default::default()
            },
            format!("Directory {p} is not empty"),
        ));
    }
    for k in inside {
        g.files.remove(&k);
    }
    g.files.remove(&p);
    Ok(())
}

fn mv(
    state: &mut State,
    vm: &MoRef,
    src: &str,
    dst: &str,
    overwrite: bool,
    dirs: bool,
) -> MethodResult<()> {
    let src = path_arg(src, "srcFilePath")?;
    let dst = path_arg(dst, "dstFilePath")?;
    let g = guest(state, vm)?;
    let node = g.files.get(&src).ok_or_else(|| not_found(&src))?.clone();
    if node.is_dir() != dirs {
        return Err(if dirs { not_dir(&src) } else { not_file(&src) });
    }
    if !g.files.get(&parent(&dst)).is_some_and(GuestNode::is_dir) {
        return Err(not_found(&parent(&dst)));
    }
    if let Some(d) = g.files.get(&dst) {
        if dirs || d.is_dir() || !overwrite {
            return Err(exists(&dst));
        }
    }
    if dirs && dst.starts_with(&format!("{src}/")) {
        return Err(Fault::invalid_argument("dstDirectoryPath"));
    }
    let prefix = format!("{src}/");
    let moved: Vec<(String, GuestNode)> = g
        .files
        .range(src.clone()..)
        .take_while(|(k, _)| *k == &src || k.starts_with(&prefix))
        .map(|(k, n)| (k.clone(), n.clone()))
        .collect();
    for (k, _) in &moved {
        g.files.remove(k);
    }
    for (k, n) in moved {
        g.files.insert(format!("{dst}{}", &k[src.len()..]), n);
    }
    Ok(())
}

fn temp(
    state: &mut State,
    vm: &MoRef,
    prefix: &str,
    suffix: &str,
    dir: Option<&str>,
    is_dir: bool,
) -> MethodResult<String> {
    let d = path_arg(dir.unwrap_or("/tmp"), "directoryPath")?;
    if prefix.contains('/') || suffix.contains('/') {
        return Err(Fault::invalid_argument("prefix"));
    }
    let n = state.new_number();
    let g = guest(state, vm)?;
    match g.files.get(&d) {
        None => return Err(not_found(&d)),
        Some(x) if !x.is_dir() => return Err(not_dir(&d)),
        _ => {}
    }
    let base = if d == "/" { String::new() } else { d };
    let path = format!("{base}/{prefix}{n:06x}{suffix}");
    let mut node = match is_dir {
        true => GuestNode::dir(),
        false => GuestNode::file(Vec::new(), 0o600),
    };
    node.mode = if is_dir { 0o700 } else { 0o600 };
    g.files.insert(path.clone(), node);
    Ok(path)
}

fn chattr(state: &mut State, vm: &MoRef, p: &str, a: &BaseGuestFileAttributes) -> MethodResult<()> {
    let p = path_arg(p, "guestFilePath")?;
    let g = guest(state, vm)?;
    let n = g.files.get_mut(&p).ok_or_else(|| not_found(&p))?;
    match a {
        BaseGuestFileAttributes::GuestPosixFileAttributes(x) => {
            if let Some(t) = x.modification_time {
                n.mtime = t;
            }
            if let Some(t) = x.access_time {
                n.atime = t;
            }
            if let Some(m) = x.permissions {
                n.mode = m & 0o7777;
            }
            if let Some(o) = x.owner_id {
                n.owner.0 = o;
            }
            if let Some(o) = x.group_id {
                n.owner.1 = o;
            }
        }
        BaseGuestFileAttributes::GuestFileAttributes(x) => {
            if let Some(t) = x.modification_time {
                n.mtime = t;
            }
            if let Some(t) = x.access_time {
                n.atime = t;
            }
        }
        BaseGuestFileAttributes::GuestWindowsFileAttributes(_) => {
            return Err(Fault::new(
                OperationNotSupportedByGuest::default(),
                "Windows file attributes on a Linux guest",
            ))
        }
    }
    Ok(())
}

fn url(state: &mut State, vm: &MoRef, t: Transfer) -> String {
    let token = crate::tls::session_key();
    let id = format!("{}-{}", vm.value, state.new_number());
    state.managers.guest.transfers.insert(token.clone(), t);
    format!("https://*/guestFile?id={id}&token={token}")
}

fn to_guest(
    state: &mut State,
    vm: &MoRef,
    q: &InitiateFileTransferToGuestRequestType,
) -> MethodResult<String> {
    let p = path_arg(&q.guest_file_path, "guestFilePath")?;
    if q.file_size < 0 || q.file_size as u64 > MAX_FILE {
        return Err(Fault::invalid_argument("fileSize"));
    }
    let g = guest(state, vm)?;
    match g.files.get(&parent(&p)) {
        None => return Err(not_found(&parent(&p))),
        Some(d) if !d.is_dir() => return Err(not_dir(&parent(&p))),
        _ => {}
    }
    match g.files.get(&p) {
        Some(n) if n.is_dir() => return Err(not_file(&p)),
        Some(_) if !q.overwrite => return Err(exists(&p)),
        _ => {}
    }
    let t = Transfer {
        vm: vm.value.clone(),
        path: p,
        to_guest: true,
        size: q.file_size as u64,
        overwrite: q.overwrite,
    };
    Ok(url(state, vm, t))
}

fn from_guest(state: &mut State, vm: &MoRef, p: &str) -> MethodResult<FileTransferInformation> {
    let p = path_arg(p, "guestFilePath")?;
    let g = guest(state, vm)?;
    let n = g.files.get(&p).ok_or_else(|| not_found(&p))?;
    if n.is_dir() {
        return Err(not_file(&p));
    }
    let (attributes, size) = (attrs(n), n.data.as_ref().map_or(0, |d| d.len() as i64));
    let t = Transfer {
        vm: vm.value.clone(),
        path: p,
        to_guest: false,
        size: size as u64,
        overwrite: false,
    };
    Ok(FileTransferInformation {
        attributes,
        size,
        url: url(state, vm, t),
    })
}

/// The `GuestFileManager` methods; gives the request back when it is not one.
pub fn handle(state: &mut State, req: Request) -> Result<MethodResult<Response>, Request> {
    macro_rules! op {
        ($q:ident, $v:ident, $t:ident, $body:expr) => {{
            Ok(check(state, &$q.vm, &$q.auth).and_then(|_| $body).map(|r| {
                let _ = &r;
                Response::$v(Box::new($t::from_val(r)))
            }))
        }};
    }
    trait FromVal<T> {
        fn from_val(v: T) -> Self;
    }
    macro_rules! unit {
        ($($t:ident),*) => {$(impl FromVal<()> for $t { fn from_val(_: ()) -> Self { $t {} } })*};
    }
    macro_rules! val {
        ($($t:ident: $v:ty),*) => {$(impl FromVal<$v> for $t { fn from_val(returnval: $v) -> Self { $t { returnval } } })*};
    }
    unit!(
        MakeDirectoryInGuestResponse,
        DeleteFileInGuestResponse,
        DeleteDirectoryInGuestResponse,
        MoveFileInGuestResponse,
        MoveDirectoryInGuestResponse,
        ChangeFileAttributesInGuestResponse
    );
    val!(
        ListFilesInGuestResponse: GuestListFileInfo,
        CreateTemporaryFileInGuestResponse: String,
        CreateTemporaryDirectoryInGuestResponse: String,
        InitiateFileTransferToGuestResponse: String,
        InitiateFileTransferFromGuestResponse: FileTransferInformation
    );
    match req {
        Request::ListFilesInGuest(q) => op!(
            q,
            ListFilesInGuest,
            ListFilesInGuestResponse,
            list(state, &q.vm, &q)
        ),
        Request::MakeDirectoryInGuest(q) => op!(
            q,
            MakeDirectoryInGuest,
            MakeDirectoryInGuestResponse,
            mkdir(state, &q.vm, &q.directory_path, q.create_parent_directories)
        ),
        Request::DeleteFileInGuest(q) => op!(
            q,
            DeleteFileInGuest,
            DeleteFileInGuestResponse,
            rm_file(state, &q.vm, &q.file_path)
        ),
        Request::DeleteDirectoryInGuest(q) => op!(
            q,
            DeleteDirectoryInGuest,
            DeleteDirectoryInGuestResponse,
            rm_dir(state, &q.vm, &q.directory_path, q.recursive)
        ),
        Request::MoveFileInGuest(q) => op!(
            q,
            MoveFileInGuest,
            MoveFileInGuestResponse,
            mv(
                state,
                &q.vm,
                &q.src_file_path,
                &q.dst_file_path,
                q.overwrite,
                false
            )
        ),
        Request::MoveDirectoryInGuest(q) => op!(
            q,
            MoveDirectoryInGuest,
            MoveDirectoryInGuestResponse,
            mv(
                state,
                &q.vm,
                &q.src_directory_path,
                &q.dst_directory_path,
                false,
                true
            )
        ),
        Request::CreateTemporaryFileInGuest(q) => op!(
            q,
            CreateTemporaryFileInGuest,
            CreateTemporaryFileInGuestResponse,
            temp(
                state,
                &q.vm,
                &q.prefix,
                &q.suffix,
                q.directory_path.as_deref(),
                false
            )
        ),
        Request::CreateTemporaryDirectoryInGuest(q) => op!(
            q,
            CreateTemporaryDirectoryInGuest,
            CreateTemporaryDirectoryInGuestResponse,
            temp(
                state,
                &q.vm,
                &q.prefix,
                &q.suffix,
                q.directory_path.as_deref(),
                true
            )
        ),
        Request::ChangeFileAttributesInGuest(q) => op!(
            q,
            ChangeFileAttributesInGuest,
            ChangeFileAttributesInGuestResponse,
            chattr(state, &q.vm, &q.guest_file_path, &q.file_attributes)
        ),
        Request::InitiateFileTransferToGuest(q) => op!(
            q,
            InitiateFileTransferToGuest,
            InitiateFileTransferToGuestResponse,
            to_guest(state, &q.vm, &q)
        ),
        Request::InitiateFileTransferFromGuest(q) => op!(
            q,
            InitiateFileTransferFromGuest,
            InitiateFileTransferFromGuestResponse,
            from_guest(state, &q.vm, &q.guest_file_path)
        ),
        other => Err(other),
    }
}
