//! `ReconfigVM_Task` through the dispatcher: every device family added, edited and removed,
//! the `.vmx` afterwards, disk files, the faults ESX gives (`InvalidDeviceSpec` with its index
//! and property, `FileNotFound`, `FileAlreadyExists`, `InvalidPowerState`) and all-or-nothing.

use esx_sim::state::{moref, MoRef, State};
use esx_vim::*;
use esx_vmx::VmxFile;

use crate::support;

use support::{call, datastore, devices, task_error, vm_with};

const BASE: &str = "scsi0.present = \"TRUE\"\nscsi0.virtualDev = \"lsilogic\"\n\
    scsi0:0.present = \"TRUE\"\nscsi0:0.fileName = \"t.vmdk\"\n\
    ethernet0.present = \"TRUE\"\nethernet0.virtualDev = \"e1000\"\nethernet0.networkName = \"VM Network\"\n\
    ethernet0.addressType = \"generated\"\nethernet0.generatedAddress = \"00:0c:29:00:00:01\"\n\
    ide1:0.present = \"TRUE\"\nide1:0.deviceType = \"cdrom-image\"\nide1:0.fileName = \"emptyBackingString\"\n";

struct T {
    state: State,
    dir: std::path::PathBuf,
    ds: std::path::PathBuf,
    vm: MoRef,
}

impl T {
    fn new(name: &str) -> T {
        let (mut state, dir) = support::start("reconfig", name, esx_sim::Flavor::Esx, Some("vm=0"));
        let (_, ds) = datastore(&state);
        esx_sim::files::create_disk(&ds.join("t/t.vmdk"), 1024, "lsilogic", "60 00 C2 9a").unwrap();
        esx_sim::files::create_disk(&ds.join("t/spare.vmdk"), 2048, "lsilogic", "60 00 C2 9b")
            .unwrap();
        std::fs::create_dir_all(ds.join("iso")).unwrap();
        std::fs::write(ds.join("iso/a.iso"), b"iso").unwrap();
        std::fs::write(ds.join("iso/f.flp"), b"flp").unwrap();
        let vm = vm_with(&mut state, "t", BASE);
        T { state, dir, ds, vm }
    }

    fn vmx(&self) -> VmxFile {
        VmxFile::parse(&std::fs::read(self.ds.join("t/t.vmx")).unwrap()).unwrap()
    }

    fn raw(&self) -> Vec<u8> {
        std::fs::read(self.ds.join("t/t.vmx")).unwrap()
    }

    fn get(&self, key: &str) -> Option<String> {
        self.vmx().get(key).map(str::to_owned)
    }

    fn reconfig(&mut self, spec: VirtualMachineConfigSpec) -> Option<BaseMethodFault> {
        let resp = call(
            &mut self.state,
            Request::ReconfigVM_Task(Box::new(ReconfigVMRequestType {
                this: self.vm.clone(),
                spec,
            })),
        )
        .expect("ReconfigVM_Task is accepted");
        task_error(&self.state, &resp)
    }

    fn devices(&mut self, changes: Vec<BaseVirtualDeviceConfigSpec>) -> Option<BaseMethodFault> {
        self.reconfig(VirtualMachineConfigSpec {
            device_change: changes,
            ..Default::default()
        })
    }

    fn device(&self, key: i32) -> Option<BaseVirtualDevice> {
        devices(&self.state, &self.vm)
            .into_iter()
            .find(|d| esx_sim::mo::vm_reconfig::common(d).key == key)
    }

    fn power_on(&mut self) {
        support::power_on(&mut self.state, &self.vm);
    }
}

impl Drop for T {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn spec(
    op: VirtualDeviceConfigSpecOperation,
    file: Option<VirtualDeviceConfigSpecFileOperation>,
    device: impl Into<BaseVirtualDevice>,
) -> BaseVirtualDeviceConfigSpec {
    BaseVirtualDeviceConfigSpec::from(VirtualDeviceConfigSpec {
        operation: Some(op),
        file_operation: file,
        device: device.into(),
        ..Default::default()
    })
}

use VirtualDeviceConfigSpecFileOperation as FileOp;
use VirtualDeviceConfigSpecOperation as Op;

fn disk(key: i32, ctl: Option<i32>, unit: Option<i32>, file: &str, kb: i64) -> VirtualDisk {
    VirtualDisk {
        key,
        controller_key: ctl,
        unit_number: unit,
        capacity_in_kb: kb,
        backing: Some(BaseVirtualDeviceBackingInfo::from(
            VirtualDiskFlatVer2BackingInfo {
                file_name: file.into(),
                disk_mode: "persistent".into(),
                ..Default::default()
            },
        )),
        ..Default::default()
    }
}

fn device_spec_fault(f: Option<BaseMethodFault>) -> (i32, String) {
    match f {
        Some(BaseMethodFault::InvalidDeviceSpec(e)) => {
            (e.device_index, e.property.unwrap_or_default())
        }
        other => panic!("expected InvalidDeviceSpec, got {other:?}"),
    }
}

fn is_power_fault(f: &Option<BaseMethodFault>) -> bool {
    matches!(f, Some(BaseMethodFault::InvalidPowerState(_)))
}

#[test]
fn disks_and_controllers() {
    let mut t = T::new("disks");
    // A new paravirtual controller and a disk created on it, named by its temporary key.
    let ctl = ParaVirtualSCSIController {
        key: -100,
        bus_number: 1,
        ..Default::default()
    };
    let f = t.devices(vec![
        spec(
            Op::Add,
            Some(FileOp::Create),
            disk(-101, Some(-100), None, "", 4096),
        ),
        spec(Op::Add, None, ctl),
    ]);
    assert_eq!(f, None);
    assert_eq!(t.get("scsi1.present").as_deref(), Some("TRUE"));
    assert_eq!(t.get("scsi1.virtualDev").as_deref(), Some("pvscsi"));
    assert_eq!(t.get("scsi1:0.fileName").as_deref(), Some("t_1.vmdk"));
    assert!(t.ds.join("t/t_1.vmdk").is_file() && t.ds.join("t/t_1-flat.vmdk").is_file());
    match t.device(2016) {
        Some(BaseVirtualDevice::VirtualDisk(d)) => {
            assert_eq!(d.capacity_in_kb, 4096);
            assert_eq!((d.controller_key, d.unit_number), (Some(1001), Some(0)));
        }
        d => panic!("{d:?}"),
    }
    // Unit and controller chosen when unset: the first SCSI controller's first free unit.
    assert_eq!(
        t.devices(vec![spec(
            Op::Add,
            None,
            disk(-1, None, None, "[datastore1] t/spare.vmdk", 0)
        )]),
        None
    );
    assert_eq!(t.get("scsi0:1.fileName").as_deref(), Some("spare.vmdk"));
    assert!(
        matches!(t.device(2001), Some(BaseVirtualDevice::VirtualDisk(d)) if d.capacity_in_kb == 2048)
    );

    // Faults leave the .vmx exactly as it was.
    let before = t.raw();
    let f = t.devices(vec![spec(
        Op::Add,
        None,
        disk(-1, Some(1000), None, "[datastore1] t/none.vmdk", 0),
    )]);
    assert!(
        matches!(&f, Some(BaseMethodFault::FileNotFound(e)) if e.file == "[datastore1] t/none.vmdk"),
        "{f:?}"
    );
    let f = t.devices(vec![spec(
        Op::Add,
        Some(FileOp::Create),
        disk(-1, Some(1000), None, "[datastore1] t/t.vmdk", 10),
    )]);
    assert!(
        matches!(f, Some(BaseMethodFault::FileAlreadyExists(_))),
        "{f:?}"
    );
    assert_eq!(
        device_spec_fault(t.devices(vec![spec(
            Op::Add,
            None,
            disk(-1, Some(1000), Some(0), "[datastore1] t/spare.vmdk", 0)
        )])),
        (0, "device.unitNumber".into())
    );
    assert_eq!(
        device_spec_fault(t.devices(vec![spec(
            Op::Add,
            None,
            disk(-1, Some(1000), Some(7), "[datastore1] t/spare.vmdk", 0)
        )])),
        (0, "device.unitNumber".into())
    );
    assert_eq!(
        device_spec_fault(t.devices(vec![spec(
            Op::Add,
            None,
            disk(-1, Some(1003), None, "[datastore1] t/spare.vmdk", 0)
        )])),
        (0, "device.controllerKey".into())
    );
    assert_eq!(
        device_spec_fault(t.devices(vec![spec(
            Op::Add,
            None,
            VirtualLsiLogicController {
                key: -5,
                bus_number: 1,
                ..Default::default()
            }
        )])),
        (0, "device.busNumber".into())
    );
    // All or nothing: a good created disk, then an unknown key: nothing happens.
    let f = t.devices(vec![
        spec(
            Op::Add,
            Some(FileOp::Create),
            disk(-1, Some(1000), None, "[datastore1] t/new.vmdk", 64),
        ),
        spec(Op::Remove, None, disk(2999, None, None, "", 0)),
    ]);
    assert_eq!(device_spec_fault(f), (1, "device.key".into()));
    assert!(
        !t.ds.join("t/new.vmdk").exists(),
        "the created disk is gone again"
    );
    assert_eq!(t.raw(), before);

    // Edit: grow, change mode, swap the file.
    let f = t.devices(vec![spec(
        Op::Edit,
        None,
        VirtualDisk {
            key: 2000,
            capacity_in_kb: 3072,
            backing: Some(BaseVirtualDeviceBackingInfo::from(
                VirtualDiskFlatVer2BackingInfo {
                    file_name: "[datastore1] t/t.vmdk".into(),
                    disk_mode: "independent_nonpersistent".into(),
                    ..Default::default()
                },
            )),
            ..Default::default()
        },
    )]);
    assert_eq!(f, None);
    assert_eq!(
        t.get("scsi0:0.mode").as_deref(),
        Some("independent-nonpersistent")
    );
    assert_eq!(
        esx_sim::files::vmdk_capacity_kb(&t.ds.join("t/t.vmdk")),
        Some(3072)
    );
    let f = t.devices(vec![spec(
        Op::Edit,
        None,
        VirtualDisk {
            key: 2000,
            capacity_in_kb: 10,
            ..Default::default()
        },
    )]);
    assert_eq!(device_spec_fault(f), (0, "device.capacityInKB".into()));

    // Remove: without destroy the files stay, with it they go; a controller with disks stays.
    assert_eq!(
        device_spec_fault(t.devices(vec![spec(
            Op::Remove,
            None,
            VirtualLsiLogicController {
                key: 1000,
                ..Default::default()
            }
        )])),
        (0, "device".into())
    );
    assert_eq!(
        t.devices(vec![spec(Op::Remove, None, disk(2001, None, None, "", 0))]),
        None
    );
    assert!(t.get("scsi0:1.present").is_none() && t.get("scsi0:1.fileName").is_none());
    assert!(t.ds.join("t/spare.vmdk").is_file());
    assert_eq!(
        t.devices(vec![spec(
            Op::Remove,
            Some(FileOp::Destroy),
            disk(2016, None, None, "", 0)
        )]),
        None
    );
    assert!(!t.ds.join("t/t_1.vmdk").exists() && !t.ds.join("t/t_1-flat.vmdk").exists());
    assert_eq!(
        t.devices(vec![spec(
            Op::Remove,
            None,
            ParaVirtualSCSIController {
                key: 1001,
                ..Default::default()
            }
        )]),
        None
    );
    assert!(t.get("scsi1.present").is_none() && t.get("scsi1.virtualDev").is_none());
    // A SATA controller and a disk on it.
    let f = t.devices(vec![
        spec(
            Op::Add,
            None,
            VirtualAHCIController {
                key: -7,
                bus_number: 0,
                ..Default::default()
            },
        ),
        spec(
            Op::Add,
            None,
            disk(-8, Some(-7), Some(3), "[datastore1] t/spare.vmdk", 0),
        ),
    ]);
    assert_eq!(f, None);
    assert_eq!(t.get("sata0.present").as_deref(), Some("TRUE"));
    assert_eq!(t.get("sata0:3.fileName").as_deref(), Some("spare.vmdk"));
    assert!(matches!(
        t.device(16003),
        Some(BaseVirtualDevice::VirtualDisk(_))
    ));
    assert_eq!(
        support::read(&t.state, &t.vm, "summary.config.numVirtualDisks"),
        Some(Any::Int(2))
    );
}

fn cdrom(
    key: i32,
    ctl: Option<i32>,
    backing: impl Into<BaseVirtualDeviceBackingInfo>,
) -> VirtualCdrom {
    VirtualCdrom {
        key,
        controller_key: ctl,
        backing: Some(backing.into()),
        connectable: Some(VirtualDeviceConnectInfo {
            start_connected: true,
            allow_guest_control: true,
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn iso(name: &str) -> VirtualCdromIsoBackingInfo {
    VirtualCdromIsoBackingInfo {
        file_name: name.into(),
        ..Default::default()
    }
}

#[test]
fn cdroms_floppies_and_ports() {
    let mut t = T::new("media");
    // CD-ROM on the first free IDE unit, with an ISO.
    assert_eq!(
        t.devices(vec![spec(
            Op::Add,
            None,
            cdrom(-1, None, iso("[datastore1] iso/a.iso"))
        )]),
        None
    );
    assert_eq!(t.get("ide0:0.deviceType").as_deref(), Some("cdrom-image"));
    assert_eq!(
        t.get("ide0:0.fileName").as_deref(),
        Some("/vmfs/volumes/datastore1/iso/a.iso")
    );
    assert!(
        matches!(t.device(3000), Some(BaseVirtualDevice::VirtualCdrom(c)) if matches!(&c.backing, Some(BaseVirtualDeviceBackingInfo::VirtualCdromIsoBackingInfo(b)) if b.file_name == "[datastore1] iso/a.iso"))
    );
    let f = t.devices(vec![spec(
        Op::Add,
        None,
        cdrom(-1, Some(200), iso("[datastore1] iso/none.iso")),
    )]);
    assert!(matches!(f, Some(BaseMethodFault::FileNotFound(_))), "{f:?}");
    // Edit the media: host device, pass-through, client device, empty.
    let edit = |b: BaseVirtualDeviceBackingInfo| spec(Op::Edit, None, cdrom(3002, None, b));
    assert_eq!(
        t.devices(vec![edit(
            VirtualCdromAtapiBackingInfo {
                device_name: "/dev/cdrom".into(),
                ..Default::default()
            }
            .into()
        )]),
        None
    );
    assert_eq!(
        (
            t.get("ide1:0.deviceType").as_deref(),
            t.get("ide1:0.fileName").as_deref()
        ),
        (Some("atapi-cdrom"), Some("/dev/cdrom"))
    );
    assert_eq!(
        t.devices(vec![edit(
            VirtualCdromPassthroughBackingInfo {
                device_name: "/vmfs/devices/cdrom/mpx.vmhba0:C0:T0:L0".into(),
                ..Default::default()
            }
            .into()
        )]),
        None
    );
    assert_eq!(t.get("ide1:0.deviceType").as_deref(), Some("cdrom-raw"));
    assert_eq!(
        t.devices(vec![edit(
            VirtualCdromRemotePassthroughBackingInfo::default().into()
        )]),
        None
    );
    assert_eq!(t.get("ide1:0.clientDevice").as_deref(), Some("TRUE"));
    assert!(
        matches!(t.device(3002), Some(BaseVirtualDevice::VirtualCdrom(c)) if matches!(c.backing, Some(BaseVirtualDeviceBackingInfo::VirtualCdromRemotePassthroughBackingInfo(_))))
    );
    assert_eq!(t.devices(vec![edit(iso("").into())]), None);
    assert_eq!(
        (
            t.get("ide1:0.fileName").as_deref(),
            t.get("ide1:0.clientDevice")
        ),
        (Some("emptyBackingString"), None)
    );
    // Connectable alone.
    let mut c = cdrom(3002, None, iso(""));
    c.backing = None;
    c.connectable.as_mut().unwrap().start_connected = false;
    assert_eq!(t.devices(vec![spec(Op::Edit, None, c)]), None);
    assert_eq!(t.get("ide1:0.startConnected").as_deref(), Some("FALSE"));
    // Remove.
    assert_eq!(
        t.devices(vec![spec(
            Op::Remove,
            None,
            VirtualCdrom {
                key: 3000,
                ..Default::default()
            }
        )]),
        None
    );
    assert!(t.get("ide0:0.present").is_none());

    // Floppies.
    let flp = VirtualFloppy {
        key: -1,
        backing: Some(
            VirtualFloppyImageBackingInfo {
                file_name: "[datastore1] iso/f.flp".into(),
                ..Default::default()
            }
            .into(),
        ),
        ..Default::default()
    };
    assert_eq!(t.devices(vec![spec(Op::Add, None, flp)]), None);
    assert_eq!(
        (
            t.get("floppy0.fileType").as_deref(),
            t.get("floppy0.fileName").as_deref()
        ),
        (Some("file"), Some("/vmfs/volumes/datastore1/iso/f.flp"))
    );
    let dev = VirtualFloppy {
        key: 8000,
        backing: Some(
            VirtualFloppyDeviceBackingInfo {
                device_name: "/dev/fd0".into(),
                ..Default::default()
            }
            .into(),
        ),
        ..Default::default()
    };
    assert_eq!(t.devices(vec![spec(Op::Edit, None, dev)]), None);
    assert_eq!(
        (
            t.get("floppy0.fileType").as_deref(),
            t.get("floppy0.fileName").as_deref()
        ),
        (Some("device"), Some("/dev/fd0"))
    );

    // Serial ports: file, device, pipe, URI.
    let port = |key: i32, b: BaseVirtualDeviceBackingInfo, y: bool| VirtualSerialPort {
        key,
        backing: Some(b),
        yield_on_poll: y,
        ..Default::default()
    };
    let f = t.devices(vec![
        spec(
            Op::Add,
            None,
            port(
                -1,
                VirtualSerialPortFileBackingInfo {
                    file_name: "[datastore1] t/com1.log".into(),
                    ..Default::default()
                }
                .into(),
                true,
            ),
        ),
        spec(
            Op::Add,
            None,
            port(
                -2,
                VirtualSerialPortDeviceBackingInfo {
                    device_name: "/dev/ttyS0".into(),
                    ..Default::default()
                }
                .into(),
                false,
            ),
        ),
        spec(
            Op::Add,
            None,
            port(
                -3,
                VirtualSerialPortPipeBackingInfo {
                    pipe_name: "p".into(),
                    endpoint: "server".into(),
                    no_rx_loss: Some(true),
                }
                .into(),
                false,
            ),
        ),
        spec(
            Op::Add,
            None,
            port(
                -4,
                VirtualSerialPortURIBackingInfo {
                    service_uri: "telnet://127.0.0.1:5555".into(),
                    direction: "client".into(),
                    proxy_uri: None,
                }
                .into(),
                false,
            ),
        ),
    ]);
    assert_eq!(f, None);
    let v = t.vmx();
    let g = |k: &str| v.get(k).unwrap_or("-").to_owned();
    assert_eq!(
        [
            g("serial0.fileType"),
            g("serial0.fileName"),
            g("serial0.yieldOnMsrRead")
        ],
        ["file", "com1.log", "TRUE"]
    );
    assert_eq!(
        [g("serial1.fileType"), g("serial1.fileName")],
        ["device", "/dev/ttyS0"]
    );
    assert_eq!(
        [
            g("serial2.fileType"),
            g("serial2.pipe.endPoint"),
            g("serial2.tryNoRxLoss")
        ],
        ["pipe", "server", "TRUE"]
    );
    assert_eq!(
        [
            g("serial3.fileType"),
            g("serial3.fileName"),
            g("serial3.network.endPoint")
        ],
        ["network", "telnet://127.0.0.1:5555", "client"]
    );
    assert!(matches!(
        t.device(9003),
        Some(BaseVirtualDevice::VirtualSerialPort(_))
    ));
    // A fifth port does not fit.
    let f = t.devices(vec![spec(
        Op::Add,
        None,
        port(
            -1,
            VirtualSerialPortDeviceBackingInfo::default().into(),
            false,
        ),
    )]);
    assert_eq!(device_spec_fault(f), (0, "device".into()));
    // Parallel ports.
    let par = VirtualParallelPort {
        key: -1,
        backing: Some(
            VirtualParallelPortFileBackingInfo {
                file_name: "[datastore1] t/lpt.out".into(),
                ..Default::default()
            }
            .into(),
        ),
        ..Default::default()
    };
    assert_eq!(t.devices(vec![spec(Op::Add, None, par)]), None);
    assert_eq!(
        (
            t.get("parallel0.fileType").as_deref(),
            t.get("parallel0.fileName").as_deref()
        ),
        (Some("file"), Some("lpt.out"))
    );
    assert_eq!(
        t.devices(vec![spec(
            Op::Remove,
            None,
            VirtualParallelPort {
                key: 10000,
                ..Default::default()
            }
        )]),
        None
    );
    assert!(t.get("parallel0.present").is_none());
    // VMCI and the video card.
    assert_eq!(
        t.devices(vec![spec(
            Op::Add,
            None,
            VirtualMachineVMCIDevice {
                key: -1,
                ..Default::default()
            }
        )]),
        None
    );
    assert_eq!(t.get("vmci0.present").as_deref(), Some("TRUE"));
    let video = VirtualMachineVideoCard {
        key: 500,
        video_ram_size_in_kb: Some(8192),
        ..Default::default()
    };
    assert_eq!(t.devices(vec![spec(Op::Edit, None, video)]), None);
    assert_eq!(t.get("svga.vramSize").as_deref(), Some("8388608"));
    // Fixed devices cannot be removed or added.
    assert_eq!(
        device_spec_fault(t.devices(vec![spec(
            Op::Remove,
            None,
            VirtualIDEController {
                key: 200,
                ..Default::default()
            }
        )])),
        (0, "device".into())
    );
    assert_eq!(
        device_spec_fault(t.devices(vec![spec(
            Op::Add,
            None,
            VirtualPCIController {
                key: -1,
                ..Default::default()
            }
        )])),
        (0, "device".into())
    );
    // A spec naming a key of another family.
    assert_eq!(
        device_spec_fault(t.devices(vec![spec(
            Op::Edit,
            None,
            VirtualCdrom {
                key: 4000,
                ..Default::default()
            }
        )])),
        (0, "device".into())
    );
}

fn nic_backing(net: Option<MoRef>, name: &str) -> BaseVirtualDeviceBackingInfo {
    VirtualEthernetCardNetworkBackingInfo {
        device_name: name.into(),
        network: net,
        ..Default::default()
    }
    .into()
}

#[test]
fn nics_and_settings() {
    let mut t = T::new("nics");
    let ns = moref("HostNetworkSystem", "networkSystem-ha-host");
    call(
        &mut t.state,
        Request::AddPortGroup(Box::new(AddPortGroupRequestType {
            this: ns,
            portgrp: HostPortGroupSpec {
                name: "Other".into(),
                vswitch_name: "vSwitch0".into(),
                ..Default::default()
            },
        })),
    )
    .unwrap();
    let other = t
        .state
        .objects
        .iter()
        .find_map(|(id, m)| match m {
            esx_sim::state::Mo::Network(n) if n.name == "Other" => Some(moref("Network", id)),
            _ => None,
        })
        .unwrap();
    let f = t.devices(vec![spec(
        Op::Add,
        None,
        VirtualVmxnet3 {
            key: -1,
            backing: Some(nic_backing(Some(other.clone()), "")),
            address_type: Some("manual".into()),
            mac_address: Some("00:50:56:3F:00:10".into()),
            ..Default::default()
        },
    )]);
    assert_eq!(f, None);
    assert_eq!(t.get("ethernet1.virtualDev").as_deref(), Some("vmxnet3"));
    assert_eq!(t.get("ethernet1.networkName").as_deref(), Some("Other"));
    assert_eq!(
        (
            t.get("ethernet1.addressType").as_deref(),
            t.get("ethernet1.address").as_deref()
        ),
        (Some("static"), Some("00:50:56:3f:00:10"))
    );
    assert!(support::read(&t.state, &t.vm, "network")
        .is_some_and(|n| format!("{n:?}").contains(&other.value)));
    // vmxnet2 = vmxnet + features 15; generated MACs.
    assert_eq!(
        t.devices(vec![spec(
            Op::Add,
            None,
            VirtualVmxnet2 {
                key: -1,
                backing: Some(nic_backing(None, "VM Network")),
                ..Default::default()
            }
        )]),
        None
    );
    assert_eq!(
        (
            t.get("ethernet2.virtualDev").as_deref(),
            t.get("ethernet2.features").as_deref()
        ),
        (Some("vmxnet"), Some("15"))
    );
    assert_eq!(t.get("ethernet2.addressType").as_deref(), Some("generated"));
    assert!(t
        .get("ethernet2.generatedAddress")
        .is_some_and(|m| m.starts_with("00:0c:29:") && m.len() == 17));
    assert!(matches!(
        t.device(4002),
        Some(BaseVirtualDevice::VirtualVmxnet2(_))
    ));
    let another = VirtualE1000 {
        key: -1,
        backing: Some(nic_backing(None, "VM Network")),
        ..Default::default()
    };
    assert_eq!(t.devices(vec![spec(Op::Add, None, another)]), None);
    assert_ne!(
        t.get("ethernet3.generatedAddress"),
        t.get("ethernet2.generatedAddress")
    );
    let gone = VirtualE1000 {
        key: 4003,
        ..Default::default()
    };
    assert_eq!(t.devices(vec![spec(Op::Remove, None, gone)]), None);
    // Edit: network, assigned MAC, DVS port, connectable.
    let e1000 = |b: Option<BaseVirtualDeviceBackingInfo>, at: Option<&str>, mac: Option<&str>| {
        VirtualE1000 {
            key: 4000,
            backing: b,
            address_type: at.map(Into::into),
            mac_address: mac.map(Into::into),
            ..Default::default()
        }
    };
    assert_eq!(
        t.devices(vec![spec(
            Op::Edit,
            None,
            e1000(Some(nic_backing(Some(other.clone()), "")), None, None)
        )]),
        None
    );
    assert_eq!(t.get("ethernet0.networkName").as_deref(), Some("Other"));
    assert_eq!(
        t.get("ethernet0.generatedAddress").as_deref(),
        Some("00:0c:29:00:00:01"),
        "unchanged"
    );
    assert_eq!(
        t.devices(vec![spec(
            Op::Edit,
            None,
            e1000(None, Some("assigned"), Some("00:50:56:80:11:22"))
        )]),
        None
    );
    assert_eq!(
        (
            t.get("ethernet0.addressType").as_deref(),
            t.get("ethernet0.generatedAddress").as_deref()
        ),
        (Some("vpx"), Some("00:50:56:80:11:22"))
    );
    let dvs = VirtualEthernetCardDistributedVirtualPortBackingInfo {
        port: DistributedVirtualSwitchPortConnection {
            switch_uuid: "50 12 34".into(),
            portgroup_key: Some("dvportgroup-9".into()),
            port_key: Some("3".into()),
            connection_cookie: Some(77),
        },
    };
    assert_eq!(
        t.devices(vec![spec(
            Op::Edit,
            None,
            e1000(Some(dvs.into()), None, None)
        )]),
        None
    );
    assert_eq!(
        (
            t.get("ethernet0.dvs.switchId").as_deref(),
            t.get("ethernet0.dvs.portgroupId").as_deref(),
            t.get("ethernet0.networkName")
        ),
        (Some("50 12 34"), Some("dvportgroup-9"), None)
    );
    let f = t.devices(vec![spec(
        Op::Edit,
        None,
        e1000(None, Some("manual"), Some("zz")),
    )]);
    assert_eq!(device_spec_fault(f), (0, "device.macAddress".into()));
    let f = t.devices(vec![spec(
        Op::Edit,
        None,
        e1000(
            Some(nic_backing(Some(moref("Network", "nope")), "")),
            None,
            None,
        ),
    )]);
    assert_eq!(device_spec_fault(f), (0, "device.backing.network".into()));
    let f = t.devices(vec![spec(
        Op::Edit,
        None,
        VirtualVmxnet3 {
            key: 4000,
            ..Default::default()
        },
    )]);
    assert_eq!(device_spec_fault(f), (0, "device".into()), "another model");
    assert_eq!(
        t.devices(vec![spec(Op::Remove, None, e1000(None, None, None))]),
        None
    );
    assert!(t.vmx().keys().all(|k| !k.starts_with("ethernet0.")));
    assert_eq!(
        support::read(&t.state, &t.vm, "summary.config.numEthernetCards"),
        Some(Any::Int(2))
    );

    // Settings besides devices.
    let f = t.reconfig(VirtualMachineConfigSpec {
        name: Some("renamed".into()),
        annotation: Some("note".into()),
        memory_mb: Some(512),
        num_cp_us: Some(4),
        num_cores_per_socket: Some(2),
        guest_id: Some("ubuntu64Guest".into()),
        extra_config: vec![
            BaseOptionValue::from(OptionValue {
                key: "guestinfo.a".into(),
                value: Some(Any::String("1".into())),
            }),
            BaseOptionValue::from(OptionValue {
                key: "ethernet2.features".into(),
                value: Some(Any::String(String::new())),
            }),
        ],
        ..Default::default()
    });
    assert_eq!(f, None);
    let v = t.vmx();
    let g = |k: &str| v.get(k).map(str::to_owned);
    assert_eq!(
        [
            g("displayName"),
            g("annotation"),
            g("memsize"),
            g("numvcpus"),
            g("cpuid.coresPerSocket"),
            g("guestOS"),
            g("guestinfo.a")
        ],
        ["renamed", "note", "512", "4", "2", "ubuntu-64", "1"].map(|s| Some(s.to_owned()))
    );
    assert_eq!(
        g("ethernet2.features"),
        None,
        "an empty value removes the key"
    );
    assert_eq!(
        support::read(&t.state, &t.vm, "name"),
        Some(Any::String("renamed".into()))
    );
    let f = t.reconfig(VirtualMachineConfigSpec {
        num_cores_per_socket: Some(3),
        ..Default::default()
    });
    assert!(
        matches!(f, Some(BaseMethodFault::InvalidArgument(_))),
        "{f:?}"
    );
    let f = t.reconfig(VirtualMachineConfigSpec {
        extra_config: vec![BaseOptionValue::from(OptionValue {
            key: "bad key\n".into(),
            value: Some(Any::String("x".into())),
        })],
        ..Default::default()
    });
    assert!(
        matches!(f, Some(BaseMethodFault::InvalidArgument(_))),
        "{f:?}"
    );
}

#[test]
fn powered_on_vms_take_only_hot_plug_changes() {
    let mut t = T::new("hot");
    t.power_on();
    // Hot: a SCSI disk, a NIC, a NIC's network, CD-ROM media, connectable.
    assert_eq!(
        t.devices(vec![spec(
            Op::Add,
            None,
            disk(-1, Some(1000), None, "[datastore1] t/spare.vmdk", 0)
        )]),
        None
    );
    assert_eq!(
        t.devices(vec![spec(
            Op::Add,
            None,
            VirtualE1000e {
                key: -1,
                backing: Some(nic_backing(None, "VM Network")),
                ..Default::default()
            }
        )]),
        None
    );
    assert_eq!(
        t.devices(vec![spec(
            Op::Edit,
            None,
            cdrom(3002, None, iso("[datastore1] iso/a.iso"))
        )]),
        None
    );
    assert_eq!(
        t.devices(vec![spec(
            Op::Remove,
            None,
            VirtualE1000e {
                key: 4001,
                ..Default::default()
            }
        )]),
        None
    );
    assert!(
        matches!(t.device(3002), Some(BaseVirtualDevice::VirtualCdrom(c)) if c.connectable.as_ref().is_some_and(|c| c.connected))
    );
    // Cold: IDE devices, a MAC change, ports, removing a CD-ROM, disk mode.
    let before = t.raw();
    let cold = [
        spec(Op::Add, None, cdrom(-1, Some(200), iso(""))),
        spec(
            Op::Edit,
            None,
            VirtualE1000 {
                key: 4000,
                address_type: Some("manual".into()),
                mac_address: Some("00:50:56:00:00:01".into()),
                ..Default::default()
            },
        ),
        spec(
            Op::Add,
            None,
            VirtualSerialPort {
                key: -1,
                backing: Some(VirtualSerialPortDeviceBackingInfo::default().into()),
                ..Default::default()
            },
        ),
        spec(
            Op::Remove,
            None,
            VirtualCdrom {
                key: 3002,
                ..Default::default()
            },
        ),
        spec(
            Op::Edit,
            None,
            disk(2000, None, None, "[datastore1] t/t.vmdk", 0).tap_mode("nonpersistent"),
        ),
    ];
    for c in cold {
        let f = t.devices(vec![c.clone()]);
        assert!(is_power_fault(&f), "{c:?}: {f:?}");
    }
    assert_eq!(t.raw(), before);
}

trait TapMode {
    fn tap_mode(self, mode: &str) -> Self;
}

impl TapMode for VirtualDisk {
    fn tap_mode(mut self, mode: &str) -> Self {
        if let Some(BaseVirtualDeviceBackingInfo::VirtualDiskFlatVer2BackingInfo(b)) =
            &mut self.backing
        {
            b.disk_mode = mode.into();
        }
        self
    }
}

/// The `.vmx` a series of reconfigurations leaves is one the VMX converter reads back into the
/// devices the changes named.
#[test]
fn the_vmx_converter_reads_what_reconfiguration_writes() {
    let mut t = T::new("convert");
    let changes = vec![
        spec(
            Op::Add,
            Some(FileOp::Create),
            disk(-1, Some(1000), None, "", 2048),
        ),
        spec(
            Op::Add,
            None,
            cdrom(-2, Some(200), iso("[datastore1] iso/a.iso")),
        ),
        spec(
            Op::Add,
            None,
            VirtualAHCIController {
                key: -3,
                bus_number: 0,
                ..Default::default()
            },
        ),
        spec(
            Op::Add,
            None,
            cdrom(
                -4,
                Some(-3),
                VirtualCdromAtapiBackingInfo {
                    device_name: "/dev/cdrom".into(),
                    ..Default::default()
                },
            ),
        ),
        spec(
            Op::Add,
            None,
            VirtualVmxnet3 {
                key: -5,
                backing: Some(nic_backing(None, "VM Network")),
                address_type: Some("manual".into()),
                mac_address: Some("00:50:56:3f:00:10".into()),
                ..Default::default()
            },
        ),
        spec(
            Op::Add,
            None,
            VirtualFloppy {
                key: -6,
                backing: Some(
                    VirtualFloppyImageBackingInfo {
                        file_name: "[datastore1] iso/f.flp".into(),
                        ..Default::default()
                    }
                    .into(),
                ),
                ..Default::default()
            },
        ),
        spec(
            Op::Add,
            None,
            VirtualSerialPort {
                key: -7,
                backing: Some(
                    VirtualSerialPortFileBackingInfo {
                        file_name: "[datastore1] t/com1.log".into(),
                        ..Default::default()
                    }
                    .into(),
                ),
                ..Default::default()
            },
        ),
        spec(
            Op::Add,
            None,
            VirtualParallelPort {
                key: -8,
                backing: Some(
                    VirtualParallelPortDeviceBackingInfo {
                        device_name: "/dev/parport0".into(),
                        ..Default::default()
                    }
                    .into(),
                ),
                ..Default::default()
            },
        ),
    ];
    assert_eq!(t.devices(changes), None);
    let resolver = esx_vmx::convert::DatastoreResolver {
        datastores: vec![("datastore1".into(), "/vmfs/volumes/datastore1".into())],
        vmx_directory: "[datastore1] t".into(),
    };
    let ctx = esx_vmx::convert::ParseContext {
        resolver: &resolver,
        datacenter_path: None,
        moref: None,
    };
    let dom = esx_vmx::convert::vmx_text_to_domain(&t.raw(), &ctx).expect("the converter reads it");
    let disks: Vec<(String, Option<String>)> = dom
        .devices
        .disks
        .iter()
        .map(|d| {
            (
                d.device.clone(),
                d.source.as_ref().and_then(|s| s.path.clone()),
            )
        })
        .collect();
    for want in [
        ("disk", Some("[datastore1] t/t.vmdk")),
        ("disk", Some("[datastore1] t/t_1.vmdk")),
        ("cdrom", Some("[datastore1] iso/a.iso")),
        ("cdrom", Some("/dev/cdrom")),
        ("floppy", Some("[datastore1] iso/f.flp")),
    ] {
        assert!(
            disks
                .iter()
                .any(|(d, p)| d == want.0 && p.as_deref() == want.1),
            "{want:?} not in {disks:?}"
        );
    }
    let models: Vec<Option<String>> = dom
        .devices
        .interfaces
        .iter()
        .map(|i| i.model.clone())
        .collect();
    assert_eq!(models, [Some("e1000".into()), Some("vmxnet3".into())]);
    assert_eq!(
        dom.devices.interfaces[1]
            .mac
            .as_ref()
            .and_then(|m| m.mac_type.clone())
            .as_deref(),
        Some("static")
    );
    assert_eq!(dom.devices.serials.len(), 1);
    assert_eq!(dom.devices.parallels.len(), 1);
}
