//! A large, realistic `RetrievePropertiesExResponse`: `n` VMs, each with `config`, `runtime`,
//! `guest` and `summary`, built with the generated types and our encoder (about 9 KB per VM).

use esx_vim::codec::soap::encode_response;
use esx_vim::*;

fn moref(t: &str, v: impl Into<String>) -> ManagedObjectReference {
    ManagedObjectReference::new(t, v)
}

fn desc(label: &str, summary: &str) -> Option<BaseDescription> {
    Some(BaseDescription::from(Description {
        label: label.into(),
        summary: summary.into(),
    }))
}

fn devices(i: usize) -> Vec<BaseVirtualDevice> {
    let mut d: Vec<BaseVirtualDevice> = Vec::new();
    for (k, bus) in [(200, 0), (201, 1)] {
        d.push(
            VirtualIDEController {
                key: k,
                device_info: desc(&format!("IDE {bus}"), "IDE"),
                bus_number: bus,
                device: if bus == 0 { vec![3002] } else { vec![] },
                ..Default::default()
            }
            .into(),
        );
    }
    d.push(
        VirtualPS2Controller {
            key: 300,
            device_info: desc("PS2 controller 0", "PS2 controller"),
            bus_number: 0,
            device: vec![600, 700],
            ..Default::default()
        }
        .into(),
    );
    d.push(
        VirtualPCIController {
            key: 100,
            device_info: desc("PCI controller 0", "PCI controller"),
            bus_number: 0,
            device: vec![500, 12000, 1000, 4000],
            ..Default::default()
        }
        .into(),
    );
    d.push(
        VirtualKeyboard {
            key: 600,
            device_info: desc("Keyboard", "Keyboard"),
            controller_key: Some(300),
            unit_number: Some(0),
            ..Default::default()
        }
        .into(),
    );
    d.push(
        VirtualMachineVideoCard {
            key: 500,
            device_info: desc("Video card", "Video card"),
            controller_key: Some(100),
            unit_number: Some(0),
            video_ram_size_in_kb: Some(4096),
            num_displays: Some(1),
            use_auto_detect: Some(false),
            enable3_d_support: Some(false),
            use3d_renderer: Some("automatic".into()),
            graphics_memory_size_in_kb: Some(262144),
            ..Default::default()
        }
        .into(),
    );
    d.push(
        ParaVirtualSCSIController {
            key: 1000,
            device_info: desc("SCSI controller 0", "VMware paravirtual SCSI"),
            controller_key: Some(100),
            unit_number: Some(3),
            bus_number: 0,
            device: vec![2000, 2001],
            hot_add_remove: Some(true),
            shared_bus: VirtualSCSISharing::NoSharing,
            scsi_ctlr_unit_number: Some(7),
            ..Default::default()
        }
        .into(),
    );
    for u in 0..2 {
        d.push(
            VirtualDisk {
                key: 2000 + u,
                device_info: desc(&format!("Hard disk {}", u + 1), "16,777,216 KB"),
                backing: Some(
                    VirtualDiskFlatVer2BackingInfo {
                        file_name: format!("[datastore1] vm-{i}/vm-{i}_{u}.vmdk"),
                        datastore: Some(moref("Datastore", "datastore-11")),
                        disk_mode: "persistent".into(),
                        split: Some(false),
                        write_through: Some(false),
                        thin_provisioned: Some(true),
                        uuid: Some(format!("6000C29{i:09}-5a1c-4f0e-9e2b-{u:012}")),
                        content_id: Some("2f8a1c6d8e1d4b2c9b0f0e1a2b3c4d5e".into()),
                        digest_enabled: Some(false),
                        sharing: Some("sharingNone".into()),
                        ..Default::default()
                    }
                    .into(),
                ),
                controller_key: Some(1000),
                unit_number: Some(u),
                capacity_in_kb: 16_777_216,
                capacity_in_bytes: Some(17_179_869_184),
                shares: Some(SharesInfo {
                    shares: 1000,
                    level: SharesLevel::Normal,
                }),
                storage_io_allocation: Some(StorageIOAllocationInfo {
                    limit: Some(-1),
                    shares: Some(SharesInfo {
                        shares: 1000,
                        level: SharesLevel::Normal,
                    }),
                    reservation: Some(0),
                }),
                disk_object_id: Some(format!("{i}-{}", 2000 + u)),
                native_unmanaged_linked_clone: Some(false),
                ..Default::default()
            }
            .into(),
        );
    }
    d.push(
        VirtualCdrom {
            key: 3002,
            device_info: desc("CD/DVD drive 1", "Remote device"),
            backing: Some(
                VirtualCdromRemotePassthroughBackingInfo {
                    device_name: String::new(),
                    use_auto_detect: Some(false),
                    exclusive: false,
                }
                .into(),
            ),
            connectable: Some(VirtualDeviceConnectInfo {
                start_connected: false,
                allow_guest_control: true,
                connected: false,
                status: Some("untried".into()),
                ..Default::default()
            }),
            controller_key: Some(200),
            unit_number: Some(0),
            ..Default::default()
        }
        .into(),
    );
    d.push(
        VirtualVmxnet3 {
            key: 4000,
            device_info: desc("Network adapter 1", "VM Network"),
            backing: Some(
                VirtualEthernetCardNetworkBackingInfo {
                    device_name: "VM Network".into(),
                    use_auto_detect: Some(false),
                    network: Some(moref("Network", "network-13")),
                    ..Default::default()
                }
                .into(),
            ),
            connectable: Some(VirtualDeviceConnectInfo {
                migrate_connect: Some("unset".into()),
                start_connected: true,
                allow_guest_control: true,
                connected: true,
                status: Some("ok".into()),
            }),
            slot_info: Some(
                VirtualDevicePciBusSlotInfo {
                    pci_slot_number: 192,
                }
                .into(),
            ),
            controller_key: Some(100),
            unit_number: Some(7),
            address_type: Some("assigned".into()),
            mac_address: Some(format!(
                "00:50:56:{:02x}:{:02x}:{:02x}",
                (i >> 16) & 0x3f,
                (i >> 8) & 0xff,
                i & 0xff
            )),
            wake_on_lan_enabled: Some(true),
            resource_allocation: Some(VirtualEthernetCardResourceAllocation {
                reservation: Some(0),
                share: SharesInfo {
                    shares: 50,
                    level: SharesLevel::Normal,
                },
                limit: Some(-1),
            }),
            upt_compatibility_enabled: Some(true),
            ..Default::default()
        }
        .into(),
    );
    d
}

fn config(i: usize) -> VirtualMachineConfigInfo {
    let t = parse_datetime("2024-03-01T10:20:30.123456Z");
    VirtualMachineConfigInfo {
        change_version: format!("2024-03-01T10:20:30.{i:06}Z"),
        modified: t,
        name: format!("vm-{i}"),
        guest_full_name: "Ubuntu Linux (64-bit)".into(),
        version: "vmx-19".into(),
        uuid: format!("42{i:06}-aaaa-bbbb-cccc-0123456789ab"),
        create_date: Some(t),
        instance_uuid: Some(format!("50{i:06}-1111-2222-3333-0123456789ab")),
        template: false,
        guest_id: "ubuntu64Guest".into(),
        alternate_guest_name: String::new(),
        annotation: Some(format!("web tier node {i} <managed by esx>")),
        files: VirtualMachineFileInfo {
            vm_path_name: Some(format!("[datastore1] vm-{i}/vm-{i}.vmx")),
            snapshot_directory: Some(format!("[datastore1] vm-{i}/")),
            suspend_directory: Some(format!("[datastore1] vm-{i}/")),
            log_directory: Some(format!("[datastore1] vm-{i}/")),
            ..Default::default()
        },
        tools: Some(ToolsConfigInfo {
            tools_version: Some(12352),
            after_power_on: Some(true),
            after_resume: Some(true),
            before_guest_standby: Some(true),
            before_guest_shutdown: Some(true),
            tools_upgrade_policy: Some("manual".into()),
            sync_time_with_host: Some(false),
            ..Default::default()
        }),
        flags: VirtualMachineFlagInfo {
            enable_logging: Some(true),
            use_toe: Some(false),
            run_with_debug_info: Some(false),
            monitor_type: Some("release".into()),
            snapshot_disabled: Some(false),
            disable_acceleration: Some(false),
            cbrc_cache_enabled: Some(false),
            vvtd_enabled: Some(false),
            vbs_enabled: Some(false),
            ..Default::default()
        },
        default_power_ops: VirtualMachineDefaultPowerOpInfo {
            power_off_type: Some("soft".into()),
            suspend_type: Some("hard".into()),
            reset_type: Some("soft".into()),
            default_power_off_type: Some("soft".into()),
            standby_action: Some("checkpoint".into()),
            ..Default::default()
        },
        hardware: VirtualHardware {
            num_cpu: 2,
            num_cores_per_socket: Some(1),
            memory_mb: 4096,
            device: devices(i),
            ..Default::default()
        },
        cpu_allocation: Some(ResourceAllocationInfo {
            reservation: Some(0),
            expandable_reservation: Some(false),
            limit: Some(-1),
            shares: Some(SharesInfo {
                shares: 2000,
                level: SharesLevel::Normal,
            }),
            ..Default::default()
        }),
        memory_allocation: Some(ResourceAllocationInfo {
            reservation: Some(0),
            expandable_reservation: Some(false),
            limit: Some(-1),
            shares: Some(SharesInfo {
                shares: 40960,
                level: SharesLevel::Normal,
            }),
            ..Default::default()
        }),
        memory_hot_add_enabled: Some(false),
        cpu_hot_add_enabled: Some(false),
        cpu_hot_remove_enabled: Some(false),
        extra_config: (0..12)
            .map(|k| {
                BaseOptionValue::from(OptionValue {
                    key: format!("guestinfo.key{k}"),
                    value: Some(Any::String(format!("value-{i}-{k}"))),
                })
            })
            .collect(),
        swap_placement: Some("inherit".into()),
        boot_options: Some(VirtualMachineBootOptions {
            boot_delay: Some(0),
            enter_bios_setup: Some(false),
            efi_secure_boot_enabled: Some(false),
            boot_retry_enabled: Some(false),
            boot_retry_delay: Some(10000),
            network_boot_protocol: Some("ipv4".into()),
            ..Default::default()
        }),
        firmware: Some("efi".into()),
        ..Default::default()
    }
}

fn runtime(i: usize) -> VirtualMachineRuntimeInfo {
    VirtualMachineRuntimeInfo {
        device: vec![VirtualMachineDeviceRuntimeInfo {
            runtime_state: VirtualMachineDeviceRuntimeInfoVirtualEthernetCardRuntimeState {
                vm_direct_path_gen2_active: false,
                vm_direct_path_gen2_inactive_reason_vm: vec!["vmNptIncompatibleAdapterType".into()],
                reservation_status: Some("ok".into()),
                ..Default::default()
            }
            .into(),
            key: 4000,
        }],
        host: Some(moref("HostSystem", format!("host-{}", 10 + i % 8))),
        connection_state: VirtualMachineConnectionState::Connected,
        power_state: if i.is_multiple_of(3) {
            VirtualMachinePowerState::PoweredOff
        } else {
            VirtualMachinePowerState::PoweredOn
        },
        fault_tolerance_state: Some(VirtualMachineFaultToleranceState::NotConfigured),
        tools_installer_mounted: false,
        boot_time: parse_datetime("2024-05-06T07:08:09.5Z").into(),
        suspend_interval: Some(0),
        max_cpu_usage: Some(4788),
        max_memory_usage: Some(4096),
        num_mks_connections: 0,
        record_replay_state: Some(VirtualMachineRecordReplayState::Inactive),
        online_standby: Some(false),
        consolidation_needed: Some(false),
        paused: Some(false),
        snapshot_in_background: Some(false),
        ..Default::default()
    }
}

fn guest(i: usize) -> GuestInfo {
    let ip = format!("10.{}.{}.{}", (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff);
    GuestInfo {
        tools_status: Some(VirtualMachineToolsStatus::ToolsOk),
        tools_version_status: Some("guestToolsUnmanaged".into()),
        tools_version_status2: Some("guestToolsUnmanaged".into()),
        tools_running_status: Some("guestToolsRunning".into()),
        tools_version: Some("12352".into()),
        tools_install_type: Some("guestToolsTypeOpenVMTools".into()),
        guest_id: Some("ubuntu64Guest".into()),
        guest_family: Some("linuxGuest".into()),
        guest_full_name: Some("Ubuntu Linux (64-bit)".into()),
        host_name: Some(format!("vm-{i}.example.com")),
        ip_address: Some(ip.clone()),
        net: vec![GuestNicInfo {
            network: Some("VM Network".into()),
            ip_address: vec![ip.clone(), "fe80::250:56ff:fe00:1".into()],
            mac_address: Some("00:50:56:00:00:01".into()),
            connected: true,
            device_config_id: 4000,
            ..Default::default()
        }],
        disk: vec![GuestDiskInfo {
            disk_path: Some("/".into()),
            capacity: Some(16_000_000_000),
            free_space: Some(9_000_000_000),
            filesystem_type: Some("ext4".into()),
            ..Default::default()
        }],
        screen: Some(GuestScreenInfo {
            width: 1280,
            height: 800,
        }),
        guest_state: "running".into(),
        app_heartbeat_status: Some("appStatusGray".into()),
        guest_kernel_crashed: Some(false),
        app_state: Some("none".into()),
        guest_operations_ready: Some(true),
        interactive_guest_operations_ready: Some(false),
        guest_state_change_supported: Some(true),
        hw_version: Some("vmx-19".into()),
        ..Default::default()
    }
}

fn summary(i: usize) -> VirtualMachineSummary {
    VirtualMachineSummary {
        vm: Some(moref("VirtualMachine", format!("vm-{i}"))),
        runtime: runtime(i),
        guest: Some(VirtualMachineGuestSummary {
            guest_id: Some("ubuntu64Guest".into()),
            guest_full_name: Some("Ubuntu Linux (64-bit)".into()),
            tools_status: Some(VirtualMachineToolsStatus::ToolsOk),
            tools_version_status: Some("guestToolsUnmanaged".into()),
            tools_running_status: Some("guestToolsRunning".into()),
            host_name: Some(format!("vm-{i}.example.com")),
            ip_address: Some("10.0.0.1".into()),
            hw_version: Some("vmx-19".into()),
            ..Default::default()
        }),
        config: VirtualMachineConfigSummary {
            name: format!("vm-{i}"),
            template: false,
            vm_path_name: format!("[datastore1] vm-{i}/vm-{i}.vmx"),
            memory_size_mb: Some(4096),
            cpu_reservation: Some(0),
            memory_reservation: Some(0),
            num_cpu: Some(2),
            num_ethernet_cards: Some(1),
            num_virtual_disks: Some(2),
            uuid: Some(format!("42{i:06}-aaaa-bbbb-cccc-0123456789ab")),
            instance_uuid: Some(format!("50{i:06}-1111-2222-3333-0123456789ab")),
            guest_id: Some("ubuntu64Guest".into()),
            guest_full_name: Some("Ubuntu Linux (64-bit)".into()),
            annotation: Some(String::new()),
            install_boot_required: Some(false),
            tpm_present: Some(false),
            num_vmiop_backings: Some(0),
            hw_version: Some("vmx-19".into()),
            ..Default::default()
        },
        storage: Some(VirtualMachineStorageSummary {
            committed: 8_589_934_592,
            uncommitted: 25_769_803_776,
            unshared: 8_589_934_592,
            timestamp: parse_datetime("2024-05-06T07:08:09Z"),
        }),
        quick_stats: VirtualMachineQuickStats {
            overall_cpu_usage: Some(23),
            overall_cpu_demand: Some(23),
            overall_cpu_readiness: Some(0),
            guest_memory_usage: Some(204),
            host_memory_usage: Some(4123),
            guest_heartbeat_status: ManagedEntityStatus::Green,
            distributed_cpu_entitlement: Some(23),
            distributed_memory_entitlement: Some(1094),
            static_cpu_entitlement: Some(2394),
            static_memory_entitlement: Some(4150),
            granted_memory: Some(4096),
            private_memory: Some(4064),
            shared_memory: Some(0),
            swapped_memory: Some(0),
            ballooned_memory: Some(0),
            consumed_overhead_memory: Some(36),
            ft_log_bandwidth: Some(-1),
            ft_secondary_latency: Some(-1),
            ft_latency_status: Some(ManagedEntityStatus::Gray),
            compressed_memory: Some(0),
            uptime_seconds: Some(1_234_567),
            ssd_swapped_memory: Some(0),
            active_memory: Some(40),
            ..Default::default()
        },
        overall_status: ManagedEntityStatus::Green,
        ..Default::default()
    }
}

fn parse_datetime(s: &str) -> DateTime {
    esx_vim::codec::parse_datetime(s).unwrap_or_default()
}

/// The response body for `n` VMs.
pub fn retrieve_properties_response(n: usize) -> Vec<u8> {
    let objects = (0..n)
        .map(|i| ObjectContent {
            obj: moref("VirtualMachine", format!("vm-{i}")),
            prop_set: vec![
                DynamicProperty {
                    name: "config".into(),
                    val: Any::from(config(i)),
                },
                DynamicProperty {
                    name: "guest".into(),
                    val: Any::from(guest(i)),
                },
                DynamicProperty {
                    name: "runtime".into(),
                    val: Any::from(runtime(i)),
                },
                DynamicProperty {
                    name: "summary".into(),
                    val: Any::from(summary(i)),
                },
            ],
            ..Default::default()
        })
        .collect();
    let resp = RetrievePropertiesExResponse {
        returnval: Some(RetrieveResult {
            token: Some("1".into()),
            objects,
        }),
    };
    encode_response("RetrievePropertiesEx", &resp)
}
