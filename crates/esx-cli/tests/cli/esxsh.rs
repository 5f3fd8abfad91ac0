//! End-to-end tests: run the built `esxsh` binary on the files under `testdata/` and check
//! stdout, stderr and the exit status.

use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Run `esxsh -q` with `args` in the workspace root (`-q`: without virsh's blank line after
/// each command); returns (status, stdout, stderr).
fn esxsh(args: &[&str]) -> (i32, String, String) {
    let out = esx_testkit::process::output(
        Command::new(env!("CARGO_BIN_EXE_esxsh"))
            .arg("-q")
            .args(args)
            .current_dir(workspace()),
        esx_testkit::process::LIMIT,
    )
    .expect("esxsh runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn testdata(name: &str) -> String {
    std::fs::read_to_string(workspace().join("testdata").join(name))
        .unwrap_or_else(|e| panic!("read testdata/{name}: {e}"))
}

/// The README's main job prints the domain XML of the minimal machine.
#[test]
fn readme_main_job() {
    let (status, out, err) = esxsh(&[
        "domxml-from-native",
        "vmware-vmx",
        "testdata/vmx/minimal.vmx",
    ]);
    assert_eq!((status, err.as_str()), (0, ""));
    assert_eq!(out, testdata("cli/minimal.xml"));
    assert!(out.contains("<source file='[datastore1] esx-minimal/esx-minimal.vmdk'/>"));
    assert!(out.contains("<uuid>421a7c55-0e3b-9d21-6f84-c2195a07e3b6</uuid>"));
}

/// `-c URI` comes before the command; a URI that is not a VMware one converts offline.
#[test]
fn connect_option_comes_first() {
    let (status, out, _) = esxsh(&[
        "-c",
        "test:///default",
        "domxml-from-native",
        "vmware-vmx",
        "testdata/vmx/minimal.vmx",
    ]);
    assert_eq!(status, 0);
    assert_eq!(out, testdata("cli/minimal.xml"));
    assert_eq!(
        esxsh(&["-c", "esx://esx1.example.com/", "uri"]),
        (0, "esx://esx1.example.com/\n".into(), String::new())
    );
    assert_eq!(
        esxsh(&["uri"]),
        (0, "test:///default\n".into(), String::new())
    );
}

/// Run `esxsh` against a URI with `ESX_PASSWORD` and no auth.conf of the user's.
fn esxsh_connected(args: &[&str], home: &Path) -> (i32, String, String) {
    let out = esx_testkit::process::output(
        Command::new(env!("CARGO_BIN_EXE_esxsh"))
            .arg("-q")
            .args(args)
            .current_dir(workspace())
            .env_remove("LIBVIRT_AUTH_FILE")
            .env("HOME", home)
            .env("XDG_CONFIG_HOME", home)
            .env("ESX_PASSWORD", "pass"),
        esx_testkit::process::LIMIT,
    )
    .expect("esxsh runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Through a connection, file names resolve against the server's datastores as libvirt
/// resolves them: `/vmfs/volumes/datastore1/...` is on `datastore1` (offline it would be
/// too, but only because the path says so), a datastore the server does not have is an error,
/// and domxml-to-native writes the server's virtualHW version (8 for ESX 7).
#[test]
fn connected_conversions_ask_the_server() {
    let dir = std::env::temp_dir().join(format!("esxsh-connected-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for ds in ["datastore1", "ds", "iso"] {
        std::fs::create_dir_all(dir.join("data").join(ds)).unwrap();
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut config = esx_sim::Config::new(dir.join("data"));
    config.inventory = "vm=0".parse().unwrap();
    let handle = runtime.block_on(esx_sim::Simulator::start(config)).unwrap();
    let uri = format!("esx://root@127.0.0.1:{}/?no_verify=1", handle.addr.port());

    let (status, out, err) = esxsh_connected(
        &[
            "-c",
            &uri,
            "domxml-from-native",
            "vmware-vmx",
            "testdata/vmx/minimal.vmx",
        ],
        &dir,
    );
    assert_eq!((status, err.as_str()), (0, ""));
    assert!(
        out.contains("<source file='[datastore1] esx-minimal/esx-minimal.vmdk'/>"),
        "{out}"
    );

    let vmx = dir.join("other.vmx");
    std::fs::write(
        &vmx,
        "config.version = \"8\"\nvirtualHW.version = \"13\"\nscsi0.present = \"true\"\n\
         scsi0:0.present = \"true\"\nscsi0:0.fileName = \"/vmfs/volumes/elsewhere/vm/vm.vmdk\"\n",
    )
    .unwrap();
    let vmx = vmx.to_string_lossy().into_owned();
    let (status, _, err) = esxsh_connected(
        &["-c", &uri, "domxml-from-native", "vmware-vmx", &vmx],
        &dir,
    );
    assert_eq!(status, 1);
    assert!(
        err.contains("refers to non-existing datastore 'elsewhere'"),
        "{err}"
    );
    // Offline the path names the datastore.
    let (status, out, _) = esxsh(&["domxml-from-native", "vmware-vmx", &vmx]);
    assert_eq!(status, 0);
    assert!(out.contains("[elsewhere] vm/vm.vmdk"), "{out}");

    let (status, out, err) = esxsh_connected(
        &[
            "-c",
            &uri,
            "domxml-to-native",
            "vmware-vmx",
            "testdata/cli/web.xml",
        ],
        &dir,
    );
    assert_eq!((status, err.as_str()), (0, ""));
    assert_eq!(out, testdata("cli/web.vmx"));

    // A server that does not answer: virsh's two error lines.
    let (status, out, err) = esxsh_connected(
        &[
            "-c",
            "esx://root@127.0.0.1:1/?no_verify=1",
            "domxml-from-native",
            "vmware-vmx",
            "testdata/vmx/minimal.vmx",
        ],
        &dir,
    );
    assert_eq!((status, out.as_str()), (1, ""));
    assert!(
        err.starts_with("error: failed to connect to the hypervisor\nerror: ")
            && err.contains("Connection refused"),
        "{err}"
    );
    runtime.block_on(handle.shutdown());
    let _ = std::fs::remove_dir_all(&dir);
}

/// Domain XML -> VMX gives the expected text, and VMX -> domain XML gives the document back.
#[test]
fn domain_xml_round_trip() {
    let (status, vmx, err) = esxsh(&["domxml-to-native", "vmware-vmx", "testdata/cli/web.xml"]);
    assert_eq!((status, err.as_str()), (0, ""));
    assert_eq!(vmx, testdata("cli/web.vmx"));
    assert!(vmx.contains("virtualHW.version = \"8\"\n"));
    assert!(vmx.contains("scsi0:0.fileName = \"/vmfs/volumes/datastore1/web-01/web-01.vmdk\"\n"));

    let (status, xml, err) = esxsh(&["domxml-from-native", "vmware-vmx", "testdata/cli/web.vmx"]);
    assert_eq!((status, err.as_str()), (0, ""));
    assert_eq!(xml, testdata("cli/web.xml"));

    let (status, vmx, _) = esxsh(&[
        "domxml-to-native",
        "vmware-vmx",
        "testdata/cli/web.xml",
        "--virtual-hw",
        "13",
    ]);
    assert_eq!(status, 0);
    assert!(vmx.contains("virtualHW.version = \"13\"\n"), "{vmx}");
}

/// Each failure prints one precise `error: ` line on stderr, nothing on stdout, and exits 1.
#[test]
fn errors_are_precise_and_exit_1() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["domxml-from-native", "vmware-vmx", "testdata/cli/malformed.vmx"],
            "error: VMX syntax error at line 4, entry 'memsize': numbers not allowed in VMX format\n",
        ),
        (
            &["domxml-from-native", "vmware-vmx", "testdata/cli/bad-memsize.vmx"],
            "error: Config entry 'memsize' must represent an integer value\n",
        ),
        (
            &["domxml-to-native", "vmware-vmx", "testdata/cli/malformed.xml"],
            "error: malformed XML at line 7: 7:12 Unexpected closing tag: devices != disk\n",
        ),
        (
            &["domxml-to-native", "vmware-vmx", "testdata/cli/unknown-element.xml"],
            "error: unsupported element <frobnicate> inside <domain> at line 5\n",
        ),
        (
            &["domxml-from-native", "xen-xm", "testdata/vmx/minimal.vmx"],
            "error: invalid argument: Unsupported config format 'xen-xm'\n",
        ),
        (
            &["domxml-to-native", "qemu-argv", "testdata/cli/web.xml"],
            "error: invalid argument: Unsupported config format 'qemu-argv'\n",
        ),
        (
            &["domxml-from-native", "vmware-vmx", "testdata/cli/no-such.vmx"],
            "error: Failed to open file 'testdata/cli/no-such.vmx': No such file or directory\n",
        ),
        (&["frobnicate"], "error: unknown command: 'frobnicate'\n"),
    ];
    for (args, want) in cases {
        let (status, out, err) = esxsh(args);
        assert_eq!(status, 1, "{args:?}");
        assert_eq!(out, "", "{args:?}");
        assert_eq!(err, *want, "{args:?}");
    }
}

/// Missing arguments are usage errors (exit 1, usage on stderr); `--help` and `version`
/// succeed.
#[test]
fn usage_help_and_version() {
    let (status, out, err) = esxsh(&["domxml-from-native", "vmware-vmx"]);
    assert_eq!((status, out.as_str()), (1, ""));
    assert!(err.starts_with("error: "), "{err}");
    assert_eq!(
        err,
        "error: command 'domxml-from-native' requires <config> option\n"
    );

    let (status, out, _) = esxsh(&["--help"]);
    assert_eq!(status, 0);
    for word in [
        "domxml-from-native",
        "domxml-to-native",
        "-c, --connect <URI>",
        "test:///default",
    ] {
        assert!(out.contains(word), "help lacks {word}: {out}");
    }

    let (status, out, _) = esxsh(&["version"]);
    assert_eq!(status, 0);
    assert_eq!(
        out,
        format!(
            "Compiled against library: esx {v}\nUsing library: esx {v}\n\
             Using API: ESX {v}\nRunning hypervisor: ESX 7.0.3\n",
            v = env!("CARGO_PKG_VERSION")
        )
    );
}
