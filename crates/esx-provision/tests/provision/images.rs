//! Every image format and adapter type spawns; bad images, an unreachable URL and a missing
//! datastore fail with a precise error and leave nothing behind; an http:// image spawns and
//! is cached by its URL's validators.

use crate::support;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;

use esx_provision::{
    no_progress, AdapterType, CacheUse, DatastoreChoice, DiskType, ImageSource, ProvisionError,
    SpawnSpec,
};
use support::{files_under, pattern, Sim};

/// Datastore files that are not in the image cache.
fn stray_files(sim: &Sim) -> Vec<String> {
    files_under(&sim.datastore("datastore1"))
        .into_iter()
        .filter(|f| {
            let vm = f.starts_with("img-") || f.starts_with("bad-") || f.starts_with("url-");
            let tmp = f.contains("esx-image-cache/tmp-") || f.starts_with("esx-tmp/");
            vm || tmp
        })
        .collect()
}

fn stream_optimized(flat: &[u8], adapter: &str) -> Vec<u8> {
    esx_vmdk::write_stream_optimized(flat, flat.len() as u64, adapter, Vec::new()).unwrap()
}

/// A monolithicSparse VMDK of `flat` made by qemu-img, or None (loudly) without qemu-img.
fn monolithic_sparse(dir: &Path, flat: &[u8]) -> Option<Vec<u8>> {
    let raw = dir.join("ms.raw");
    let out = dir.join("ms.vmdk");
    std::fs::write(&raw, flat).unwrap();
    let st = std::process::Command::new("qemu-img")
        .args([
            "convert",
            "-f",
            "raw",
            "-O",
            "vmdk",
            "-o",
            "subformat=monolithicSparse",
        ])
        .arg(&raw)
        .arg(&out)
        .status();
    match st {
        Ok(s) if s.success() => Some(std::fs::read(&out).unwrap()),
        _ => {
            eprintln!("SKIPPED (monolithicSparse): qemu-img not found or failed");
            None
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_format_and_adapter_spawns() {
    let sim = Sim::start("formats", esx_sim::Flavor::Esx).await;
    let p = sim.provisioner().await;
    let flat = pattern(2 << 20, 11);
    let mut images = vec![
        ("raw", flat.clone()),
        ("so", stream_optimized(&flat, "lsilogic")),
    ];
    if let Some(ms) = monolithic_sparse(&sim.dir, &flat) {
        images.push(("ms", ms));
    }
    let adapters = [
        (AdapterType::LsiLogic, "scsi0.virtualDev", "lsilogic"),
        (AdapterType::BusLogic, "scsi0.virtualDev", "buslogic"),
        (AdapterType::LsiLogicSas, "scsi0.virtualDev", "lsisas1068"),
        (AdapterType::ParaVirtual, "scsi0.virtualDev", "pvscsi"),
        (AdapterType::Ide, "ide0:0.fileName", "img-"),
    ];
    for (i, (kind, bytes)) in images.iter().enumerate() {
        let path = sim.file(&format!("image.{kind}"));
        std::fs::write(&path, bytes).unwrap();
        for (j, (adapter, key, want)) in adapters.iter().enumerate() {
            // Every adapter with the raw image; one per other format.
            if i > 0 && j > 0 {
                continue;
            }
            let name = format!("img-{kind}-{}", adapter.api_name());
            let mut spec = SpawnSpec::new(&name, ImageSource::File(path.clone()));
            spec.adapter = Some(*adapter);
            spec.disk_type = if j % 2 == 0 {
                DiskType::Thin
            } else {
                DiskType::Thick
            };
            let vm = p
                .spawn(&spec, no_progress())
                .await
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            let vmx = std::fs::read_to_string(
                sim.datastore("datastore1")
                    .join(&name)
                    .join(format!("{name}.vmx")),
            )
            .unwrap();
            let line = vmx
                .lines()
                .find(|l| l.starts_with(key))
                .unwrap_or_else(|| panic!("{name}: no {key} in\n{vmx}"));
            assert!(line.contains(want), "{name}: {line}");
            // The VM's disk holds the image.
            let disk = sim
                .datastore("datastore1")
                .join(&name)
                .join(format!("{name}-flat.vmdk"));
            let got = std::fs::read(&disk).unwrap_or_else(|e| panic!("{}: {e}", disk.display()));
            assert!(got == flat, "{name}: the disk's content");
            p.destroy(&vm.domain).await.unwrap();
        }
    }
    assert!(stray_files(&sim).is_empty(), "{:?}", stray_files(&sim));
}

async fn spawn_fails(sim: &Sim, name: &str, image: ImageSource) -> ProvisionError {
    let p = sim.provisioner().await;
    let e = p
        .spawn(&SpawnSpec::new(name, image), no_progress())
        .await
        .expect_err("the spawn fails");
    assert!(
        stray_files(sim).is_empty(),
        "{name}: left {:?}",
        stray_files(sim)
    );
    assert!(
        p.list_instances().await.unwrap().iter().all(|n| n != name),
        "{name} stays registered"
    );
    e
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_images_fail_precisely_and_leave_nothing() {
    let sim = Sim::start("bad", esx_sim::Flavor::Esx).await;
    let flat = pattern(1 << 20, 3);
    let so = stream_optimized(&flat, "lsilogic");
    // Truncated in the middle of a grain.
    let cut = sim.file("truncated.vmdk");
    std::fs::write(&cut, &so[..so.len() / 2]).unwrap();
    let e = spawn_fails(&sim, "bad-truncated", ImageSource::File(cut)).await;
    assert!(matches!(e, ProvisionError::Image { .. }), "{e}");
    assert!(e.to_string().contains("truncated.vmdk"), "{e}");
    // A sparse header with a wrong version.
    let mut wrong = so.clone();
    wrong[4] = 99;
    let p = sim.file("version.vmdk");
    std::fs::write(&p, &wrong).unwrap();
    let e = spawn_fails(&sim, "bad-version", ImageSource::File(p)).await;
    assert!(matches!(e, ProvisionError::Image { .. }), "{e}");
    // A descriptor instead of an image (it points at an extent we do not have).
    let d = sim.file("descriptor.vmdk");
    std::fs::write(
        &d,
        "# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType=\"vmfs\"\n\nRW 2048 VMFS \"nowhere-flat.vmdk\"\n",
    )
    .unwrap();
    let e = spawn_fails(&sim, "bad-descriptor", ImageSource::File(d)).await;
    assert!(e.to_string().contains("descriptor"), "{e}");
    // A missing file, an unreachable URL.
    let e = spawn_fails(
        &sim,
        "bad-missing",
        ImageSource::File(sim.file("nope.vmdk")),
    )
    .await;
    assert!(
        matches!(e, ProvisionError::ImageUnreadable { .. }) && e.to_string().contains("nope.vmdk"),
        "{e}"
    );
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}/image.vmdk");
    let e = spawn_fails(&sim, "bad-url", ImageSource::Url(url.clone())).await;
    assert!(
        matches!(e, ProvisionError::ImageUnreadable { .. }) && e.to_string().contains(&url),
        "{e}"
    );
    // An unknown datastore.
    let raw = sim.file("ok.raw");
    std::fs::write(&raw, &flat).unwrap();
    let mut spec = SpawnSpec::new("bad-ds", ImageSource::File(raw));
    spec.datastore = DatastoreChoice::Named("nonexistent".into());
    let e = sim
        .provisioner()
        .await
        .spawn(&spec, no_progress())
        .await
        .unwrap_err();
    assert!(
        matches!(e, ProvisionError::NoDatastore(_)) && e.to_string().contains("nonexistent"),
        "{e}"
    );
    assert!(stray_files(&sim).is_empty());
}

/// Serves `body` over plain HTTP to `n` requests (HEAD and GET), with an ETag.
fn serve(body: Vec<u8>, n: usize) -> (String, std::thread::JoinHandle<()>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/images/disk.raw", l.local_addr().unwrap());
    let t = std::thread::spawn(move || {
        for _ in 0..n {
            let Ok((mut s, _)) = l.accept() else { return };
            let mut req = Vec::new();
            let mut buf = [0u8; 1024];
            while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(k) => req.extend_from_slice(&buf[..k]),
                }
            }
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nETag: \"v1\"\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = s.write_all(head.as_bytes());
            if req.starts_with(b"GET") {
                let _ = s.write_all(&body);
            }
        }
    });
    (url, t)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http_image_spawns_and_is_cached() {
    let sim = Sim::start("url", esx_sim::Flavor::Esx).await;
    let p = sim.provisioner().await;
    let flat = pattern(1 << 20, 5);
    // HEAD + GET for the first spawn, HEAD for the second.
    let (url, server) = serve(flat.clone(), 3);
    let first = p
        .spawn(
            &SpawnSpec::new("url-1", ImageSource::Url(url.clone())),
            no_progress(),
        )
        .await
        .unwrap();
    assert_eq!(first.cache, CacheUse::Uploaded);
    let second = p
        .spawn(
            &SpawnSpec::new("url-2", ImageSource::Url(url.clone())),
            no_progress(),
        )
        .await
        .unwrap();
    assert_eq!(
        second.cache,
        CacheUse::Hit,
        "the second spawn uploads nothing"
    );
    server.join().unwrap();
    let disk = std::fs::read(sim.datastore("datastore1").join("url-2/url-2-flat.vmdk")).unwrap();
    assert!(disk == flat);
    for vm in [first, second] {
        p.destroy(&vm.domain).await.unwrap();
    }
    assert!(stray_files(&sim).is_empty(), "{:?}", stray_files(&sim));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_datastore_fails_precisely_and_leaves_nothing() {
    let sim = Sim::start("full", esx_sim::Flavor::Esx).await;
    let flat = pattern(2 << 20, 13);
    let raw = sim.file("disk.raw");
    std::fs::write(&raw, &flat).unwrap();
    let handle = sim.handle.as_ref().unwrap();
    // Too small for the image: refused before a byte is sent.
    handle.set_datastore_free("datastore1", 1 << 20);
    let e = spawn_fails(&sim, "bad-full", ImageSource::File(raw.clone())).await;
    assert!(
        matches!(e, ProvisionError::NoSpace { ref datastore, needed, .. } if datastore == "datastore1" && needed == 2 << 20),
        "{e}"
    );
    // Room for the cached image but not for the VM's thick copy: the server refuses the
    // copy (NoDiskSpace), the spawn undoes itself, the cached image stays usable.
    handle.set_datastore_free("datastore1", (3 << 20) + (1 << 19));
    let e = spawn_fails(&sim, "bad-full2", ImageSource::File(raw.clone())).await;
    assert!(
        e.to_string().contains("NoDiskSpace") || matches!(e, ProvisionError::NoSpace { .. }),
        "{e}"
    );
    handle.set_datastore_free("datastore1", 1 << 40);
    let p = sim.provisioner().await;
    let mut spec = SpawnSpec::new("img-after-full", ImageSource::File(raw));
    spec.disk_type = DiskType::Thin;
    let vm = p.spawn(&spec, no_progress()).await.unwrap();
    assert_eq!(
        vm.cache,
        CacheUse::Hit,
        "the image cached before the failure is whole"
    );
    p.destroy(&vm.domain).await.unwrap();
    assert!(stray_files(&sim).is_empty(), "{:?}", stray_files(&sim));
}
