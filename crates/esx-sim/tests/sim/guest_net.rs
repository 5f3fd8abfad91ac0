//! `guest.net` and `guest.ipAddress` of running VMs, from `guestinfo.esxsim.ip.N` or derived,
//! set through `extraConfig`, found by `FindByIp`; nothing while powered off.

use esx_sim::state::{moref, Mo, MoRef};
use esx_vim::*;

use crate::support;

use support::{call, read, vm_with};

fn net(state: &esx_sim::state::State, vm: &MoRef) -> Vec<GuestNicInfo> {
    match read(state, vm, "guest.net") {
        Some(Any::ArrayOfGuestNicInfo(a)) => a.guest_nic_info,
        None => Vec::new(),
        other => panic!("{other:?}"),
    }
}

fn find_by_ip(state: &mut esx_sim::state::State, ip: &str) -> Option<MoRef> {
    match call(
        state,
        Request::FindByIp(Box::new(FindByIpRequestType {
            this: moref("SearchIndex", "ha-searchindex"),
            datacenter: None,
            ip: ip.into(),
            vm_search: true,
        })),
    ) {
        Ok(Response::FindByIp(r)) => r.returnval,
        other => panic!("{other:?}"),
    }
}

#[test]
fn guest_nics_follow_power_and_vmx() {
    let (mut state, dir) = support::start("guestnet", "nics", esx_sim::Flavor::Esx, Some("vm=1"));
    let vm = vm_with(
        &mut state,
        "g",
        "ethernet0.present = \"TRUE\"\nethernet0.virtualDev = \"vmxnet3\"\nethernet0.networkName = \"VM Network\"\n\
         ethernet0.addressType = \"static\"\nethernet0.address = \"00:50:56:00:00:0A\"\n\
         guestinfo.esxsim.ip.0 = \"192.168.10.20/24,fd00::20/64\"\n\
         ethernet1.present = \"TRUE\"\nethernet1.virtualDev = \"e1000\"\nethernet1.networkName = \"VM Network\"\n\
         ethernet1.generatedAddress = \"00:0c:29:00:00:0b\"\n\
         ethernet2.present = \"TRUE\"\nethernet2.networkName = \"VM Network\"\nethernet2.startConnected = \"FALSE\"\n",
    );
    assert!(net(&state, &vm).is_empty(), "nothing while powered off");
    assert_eq!(read(&state, &vm, "guest.ipAddress"), None);
    support::power_on(&mut state, &vm);
    let n = net(&state, &vm);
    assert_eq!(n.len(), 2, "{n:?}");
    assert_eq!(n[0].network.as_deref(), Some("VM Network"));
    assert_eq!(n[0].mac_address.as_deref(), Some("00:50:56:00:00:0a"));
    assert!(n[0].connected);
    assert_eq!(n[0].device_config_id, 4000);
    assert_eq!(n[0].ip_address, ["192.168.10.20", "fd00::20"]);
    let cfg = &n[0].ip_config.as_ref().unwrap().ip_address;
    assert_eq!((cfg[0].prefix_length, cfg[1].prefix_length), (24, 64));
    assert_eq!(n[1].device_config_id, 4001);
    assert!(
        n[1].ip_address[0].starts_with("10."),
        "{:?}",
        n[1].ip_address
    );
    // deviceConfigId names the NIC's key in the device list, with the same MAC.
    let devs = support::devices(&state, &vm);
    assert!(devs.iter().any(|d| matches!(d, BaseVirtualDevice::VirtualE1000(e) if e.key == 4001 && e.mac_address == n[1].mac_address)));
    assert_eq!(
        read(&state, &vm, "guest.ipAddress"),
        Some(Any::String("192.168.10.20".into()))
    );
    assert_eq!(
        read(&state, &vm, "summary.guest.ipAddress"),
        Some(Any::String("192.168.10.20".into()))
    );
    assert_eq!(find_by_ip(&mut state, "fd00::20"), Some(vm.clone()));
    assert_eq!(find_by_ip(&mut state, "192.0.2.1"), None);

    // extraConfig sets the addresses.
    let resp = call(
        &mut state,
        Request::ReconfigVM_Task(Box::new(ReconfigVMRequestType {
            this: vm.clone(),
            spec: VirtualMachineConfigSpec {
                extra_config: vec![BaseOptionValue::from(OptionValue {
                    key: "guestinfo.esxsim.ip.1".into(),
                    value: Some(Any::String("172.16.0.5/16".into())),
                })],
                ..Default::default()
            },
        })),
    )
    .unwrap();
    assert_eq!(support::task_error(&state, &resp), None);
    assert_eq!(net(&state, &vm)[1].ip_address, ["172.16.0.5"]);

    // A generated VM powered on keeps its devices and reports its NIC.
    let gen = state
        .objects
        .iter()
        .find_map(|(id, m)| match m {
            Mo::VirtualMachine(v) if v.files_pending() => Some(moref("VirtualMachine", id)),
            _ => None,
        })
        .expect("a generated VM");
    support::power_on(&mut state, &gen);
    assert_eq!(net(&state, &gen).len(), 1);
    assert!(support::devices(&state, &gen)
        .iter()
        .any(|d| matches!(d, BaseVirtualDevice::VirtualDisk(_))));
    let _ = std::fs::remove_dir_all(dir);
}
