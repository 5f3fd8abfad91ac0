//! `config.hardware.device` of VMs registered from hand-written `.vmx` files, read through the
//! property engine: keys, controllers, capacities from the disk descriptors on the datastore,
//! and `summary.config` counts.

use esx_vim::*;

use crate::support;

use support::{datastore, devices, read, vm_with};

#[test]
fn device_list_from_vmx_and_descriptors() {
    let (mut state, dir) = support::start("devices", "list", esx_sim::Flavor::Esx, Some("vm=0"));
    let (_, ds_dir) = datastore(&state);
    std::fs::create_dir_all(ds_dir.join("rich")).unwrap();
    esx_sim::files::create_disk(
        &ds_dir.join("rich/rich.vmdk"),
        4096,
        "lsilogic",
        "60 00 C2 91 22 33 44 55-66 77 88 99 aa bb cc dd",
    )
    .unwrap();
    let vm = vm_with(
        &mut state,
        "rich",
        "scsi0.present = \"TRUE\"\nscsi0.virtualDev = \"pvscsi\"\n\
         scsi0:0.present = \"TRUE\"\nscsi0:0.fileName = \"rich.vmdk\"\nscsi0:0.sim.capacityKB = \"1\"\n\
         scsi0:1.present = \"TRUE\"\nscsi0:1.fileName = \"missing.vmdk\"\nscsi0:1.sim.capacityKB = \"777\"\n\
         ide1:0.present = \"TRUE\"\nide1:0.deviceType = \"cdrom-image\"\nide1:0.fileName = \"x.iso\"\n\
         ethernet0.present = \"TRUE\"\nethernet0.virtualDev = \"vmxnet3\"\nethernet0.networkName = \"VM Network\"\n\
         ethernet1.present = \"TRUE\"\nethernet1.virtualDev = \"e1000e\"\nethernet1.networkName = \"VM Network\"\n\
         vmci0.present = \"TRUE\"\nsvga.vramSize = \"16777216\"\n",
    );
    let devs = devices(&state, &vm);
    let disk = |k: i32| {
        devs.iter()
            .find_map(|d| match d {
                BaseVirtualDevice::VirtualDisk(x) if x.key == k => Some(x.clone()),
                _ => None,
            })
            .unwrap()
    };
    let d0 = disk(2000);
    assert_eq!(
        d0.capacity_in_kb, 4096,
        "from the descriptor, not the sim key"
    );
    match d0.backing {
        Some(BaseVirtualDeviceBackingInfo::VirtualDiskFlatVer2BackingInfo(b)) => {
            assert_eq!(b.file_name, "[datastore1] rich/rich.vmdk");
            assert_eq!(
                b.uuid.as_deref(),
                Some("6000C291-2233-4455-6677-8899aabbccdd")
            );
        }
        b => panic!("{b:?}"),
    }
    assert_eq!(disk(2001).capacity_in_kb, 777, "no descriptor: the sim key");
    assert!(devs.iter().any(|d| matches!(d, BaseVirtualDevice::ParaVirtualSCSIController(c) if c.key == 1000 && c.device == [2000, 2001])));
    assert!(devs.iter().any(|d| matches!(d, BaseVirtualDevice::VirtualCdrom(c) if c.key == 3002 && c.controller_key == Some(201))));
    assert!(devs
        .iter()
        .any(|d| matches!(d, BaseVirtualDevice::VirtualMachineVMCIDevice(_))));
    assert!(devs.iter().any(|d| matches!(d, BaseVirtualDevice::VirtualMachineVideoCard(v) if v.video_ram_size_in_kb == Some(16384))));
    let net = devs
        .iter()
        .find_map(|d| match d {
            BaseVirtualDevice::VirtualVmxnet3(n) => n.backing.clone(),
            _ => None,
        })
        .unwrap();
    match net {
        BaseVirtualDeviceBackingInfo::VirtualEthernetCardNetworkBackingInfo(b) => {
            let n = b.network.expect("the Network moref");
            assert_eq!(state.name_of(&n).as_deref(), Some("VM Network"));
        }
        b => panic!("{b:?}"),
    }
    assert_eq!(
        read(&state, &vm, "summary.config.numVirtualDisks"),
        Some(Any::Int(2))
    );
    assert_eq!(
        read(&state, &vm, "summary.config.numEthernetCards"),
        Some(Any::Int(2))
    );
    // `config` as a whole and `config.hardware` carry the same list.
    match read(&state, &vm, "config") {
        Some(Any::VirtualMachineConfigInfo(c)) => assert_eq!(c.hardware.device, devs),
        other => panic!("{other:?}"),
    }
    match read(&state, &vm, "config.hardware") {
        Some(Any::VirtualHardware(h)) => assert_eq!(h.device.len(), devs.len()),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        read(&state, &vm, "config.hardware.memoryMB"),
        Some(Any::Int(256))
    );
    let _ = std::fs::remove_dir_all(dir);
}
