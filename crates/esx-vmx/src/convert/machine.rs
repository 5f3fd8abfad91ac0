//! Identity, memory, CPUs, guest OS and firmware: the machine-wide VMX keys.

use esx_domain::{CpuSet, Domain, Topology, Uuid};

use super::{format_vmx_uuid, has_case_suffix, parse_vmx_uuid, unsupported, Out, Result};
use crate::{escape_percent, escape_pipe, unescape_percent, unescape_pipe, VmxFile};

/// libvirt's limit on CPU numbers in an affinity mask.
const CPUMASK_LEN: i64 = 16384;

/// Read the machine-wide keys into `def`; returns the virtualHW version.
pub(super) fn parse(vmx: &VmxFile, def: &mut Domain) -> Result<i64> {
    let config_version = vmx.require_int("config.version")?;
    if config_version != 8 {
        return unsupported(format!(
            "Expecting VMX entry 'config.version' to be 8 but found {config_version}"
        ));
    }
    let hw = vmx.require_int("virtualHW.version")?;
    if hw < 4 {
        return unsupported(format!(
            "Expecting VMX entry 'virtualHW.version' to be 4 or higher but found {hw}"
        ));
    }

    def.uuid = Some(match vmx.get("uuid.bios") {
        Some(v) => parse_vmx_uuid(v, "uuid.bios")?,
        None => Uuid::default(),
    });

    if let Some(name) = vmx.get("displayName") {
        let unescaped = unescape_percent(name)
            .and_then(|n| unescape_pipe(&n))
            .map_err(|_| {
                super::ConvertError::Unsupported(
                    "VMX entry 'name' contains invalid escape sequence".into(),
                )
            })?;
        def.name = Some(no_nul(unescaped, "displayName")?);
    }

    let genid = vmx.get_int("vm.genid")?.unwrap_or(0);
    let genid_x = vmx.get_int("vm.genidX")?.unwrap_or(0);
    if genid != 0 || genid_x != 0 {
        let text = format!("{:016x}{:016x}", genid as u64, genid_x as u64);
        def.genid = text.parse().ok();
    }

    if let Some(annotation) = vmx.get("annotation") {
        let text = unescape_pipe(annotation).map_err(|_| {
            super::ConvertError::Unsupported(
                "VMX entry 'annotation' contains invalid escape sequence".into(),
            )
        })?;
        def.description = Some(no_nul(text, "annotation")?);
    }

    let memsize = vmx.get_int("memsize")?.unwrap_or(32);
    if memsize <= 0 || memsize % 4 != 0 {
        return unsupported(format!(
            "Expecting VMX entry 'memsize' to be an unsigned integer (multiple of 4) but found {memsize}"
        ));
    }
    // libvirt keeps KiB in an unsigned long long: MiB * 1024 wraps like C.
    let memory = (memsize as u64).wrapping_mul(1024);
    def.memory_kib = Some(memory);

    let mut mem_max = vmx.get_int("sched.mem.max")?.unwrap_or(memsize);
    if mem_max < 0 {
        mem_max = memsize;
    }
    def.current_memory_kib = Some((mem_max as u64).wrapping_mul(1024).min(memory));

    let minsize = vmx.get_int("sched.mem.minsize")?.unwrap_or(0).max(0);
    let min_guarantee = (minsize as u64).wrapping_mul(1024).min(memory);
    if min_guarantee > 0 {
        def.memtune.min_guarantee = Some(min_guarantee);
    }

    let numvcpus = vmx.get_int("numvcpus")?.unwrap_or(1);
    if numvcpus <= 0 {
        return unsupported(format!(
            "Expecting VMX entry 'numvcpus' to be an unsigned integer greater than 0 but found {numvcpus}"
        ));
    }
    // libvirt's vCPU count is an unsigned int: larger numbers wrap.
    let vcpus = numvcpus as u32;
    def.vcpu.count = vcpus;

    let cores_per_socket = vmx.get_int("cpuid.coresPerSocket")?.unwrap_or(1);
    if cores_per_socket > 1 {
        let sockets = (numvcpus / cores_per_socket) as u32;
        if sockets == 0 {
            return unsupported("VMX entry 'cpuid.coresPerSocket' smaller than 'numvcpus'");
        }
        def.cpu = Some(esx_domain::Cpu {
            topology: Some(Topology {
                sockets,
                dies: 1,
                clusters: 1,
                cores: cores_per_socket as u32,
                threads: 1,
            }),
            ..Default::default()
        });
    }

    if let Some(affinity) = vmx.get("sched.cpu.affinity") {
        if !affinity.eq_ignore_ascii_case("all") {
            def.vcpu.cpuset = Some(parse_affinity(affinity, numvcpus)?);
        }
    }

    if let Some(shares) = vmx.get("sched.cpu.shares") {
        let value = if shares.eq_ignore_ascii_case("low") {
            u64::from(vcpus.wrapping_mul(500))
        } else if shares.eq_ignore_ascii_case("normal") {
            u64::from(vcpus.wrapping_mul(1000))
        } else if shares.eq_ignore_ascii_case("high") {
            u64::from(vcpus.wrapping_mul(2000))
        } else {
            crate::file::parse_c_unsigned(shares).ok_or_else(|| {
                super::ConvertError::Unsupported(format!(
                    "Expecting VMX entry 'sched.cpu.shares' to be an unsigned integer or 'low', 'normal' or 'high' but found '{shares}'"
                ))
            })?
        };
        def.cputune.shares = Some(value);
    }

    def.on_poweroff = Some("destroy".into());
    def.on_reboot = Some("restart".into());
    def.on_crash = Some("destroy".into());
    def.os.os_type = "hvm".into();
    let guest_os = vmx.get("guestOS");
    def.os.arch = Some(if guest_os.is_some_and(|g| has_case_suffix(g, "-64")) {
        "x86_64".into()
    } else {
        "i686".into()
    });
    if vmx.get_bool("smbios.reflecthost")?.unwrap_or(false) {
        def.os.smbios_mode = Some("host".into());
    }
    Ok(hw)
}

/// `firmware` and `uefi.secureBoot.enabled`.
pub(super) fn parse_firmware(vmx: &VmxFile, def: &mut Domain) -> Result<()> {
    match vmx.get("firmware") {
        None => {}
        Some("efi") => def.os.firmware = Some("efi".into()),
        Some(other) => {
            return unsupported(format!("VMX entry 'firmware' has unknown value '{other}'"))
        }
    }
    let secure_boot = vmx.get_bool("uefi.secureBoot.enabled")?.unwrap_or(false);
    if secure_boot && def.os.firmware.as_deref() == Some("efi") {
        def.os.firmware_features =
            vec![("enrolled-keys".into(), true), ("secure-boot".into(), true)];
    }
    Ok(())
}

/// An unescaped value that holds a NUL: libvirt's C string ends there, silently dropping the
/// rest; we refuse it (see docs/COMPATIBILITY.md).
fn no_nul(value: String, key: &str) -> Result<String> {
    if value.contains('\0') {
        return unsupported(format!(
            "VMX entry '{key}' contains an escaped NUL character, which domain XML cannot hold"
        ));
    }
    Ok(value)
}

/// `sched.cpu.affinity`: at least `numvcpus` comma-separated CPU numbers below 1024, each
/// with optional ASCII white space around it (libvirt's `virStrToLong_uip` rules: a leading
/// `+` is allowed, a `-` is not).
fn parse_affinity(affinity: &str, numvcpus: i64) -> Result<CpuSet> {
    let invalid = || {
        super::ConvertError::Unsupported(format!(
            "Expecting VMX entry 'sched.cpu.affinity' to be a comma separated list of unsigned integers but found '{affinity}'"
        ))
    };
    // g_strsplit gives no element at all for an empty string.
    let parts: Vec<&str> = if affinity.is_empty() {
        Vec::new()
    } else {
        affinity.split(',').collect()
    };
    if (parts.len() as i64) < numvcpus {
        return unsupported(format!(
            "Expecting VMX entry 'sched.cpu.affinity' to contain at least as many values as 'numvcpus' ({numvcpus}) but found only {} value(s)",
            parts.len()
        ));
    }
    let mut set = std::collections::BTreeSet::new();
    for part in parts {
        let t = part.trim_matches(|c: char| matches!(c, '\t'..='\r' | ' '));
        let digits = t.strip_prefix('+').unwrap_or(t);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid());
        }
        let n: u32 = digits.parse().map_err(|_| invalid())?;
        if i64::from(n) >= CPUMASK_LEN {
            return unsupported(format!(
                "VMX entry 'sched.cpu.affinity' contains a {}, this value is too large",
                n as i32
            ));
        }
        set.insert(n);
    }
    Ok(CpuSet(set))
}

fn div_up(a: u64, b: u64) -> u64 {
    a.div_ceil(b)
}

/// Write the machine-wide keys up to `sched.cpu.shares`.
pub(super) fn format(def: &Domain, hw: i64, out: &mut Out) -> Result<()> {
    if def.domain_type != "vmware" {
        return unsupported(format!(
            "Expecting virt type to be 'vmware' but found '{}'",
            def.domain_type
        ));
    }
    out.put(".encoding", "UTF-8");
    out.put("config.version", "8");
    out.put("virtualHW.version", hw.to_string());

    match def.os.arch.as_deref() {
        Some("i686") => out.put("guestOS", "other"),
        Some("x86_64") => out.put("guestOS", "other-64"),
        other => {
            return unsupported(format!(
                "Expecting domain XML attribute 'arch' of entry 'os/type' to be 'i686' or 'x86_64' but found '{}'",
                other.unwrap_or("")
            ))
        }
    }

    match def.os.smbios_mode.as_deref() {
        Some("host") => out.put("smbios.reflecthost", "true"),
        Some("sysinfo") => return unsupported("Unsupported SMBIOS mode 'sysinfo'"),
        _ => {}
    }

    match &def.uuid {
        Some(u) if !u.is_nil() => out.put("uuid.bios", format_vmx_uuid(u)),
        _ => out.put("uuid.action", "create"),
    }

    if let Some(name) = &def.name {
        out.put("displayName", escape_percent(&escape_pipe(name)));
    }
    if let Some(d) = &def.description {
        out.put("annotation", escape_pipe(d));
    }

    let max_balloon = div_up(def.memory_kib.unwrap_or(0), 4096) * 4096;
    out.put("memsize", (max_balloon / 1024).to_string());
    let cur = def.current_memory_kib.unwrap_or(max_balloon);
    if cur < max_balloon {
        out.put("sched.mem.max", div_up(cur, 1024).to_string());
    }
    if let Some(min) = def.memtune.min_guarantee.filter(|m| *m > 0) {
        out.put("sched.mem.minsize", div_up(min, 1024).to_string());
    }

    let vcpus = def.vcpu.count;
    if def.vcpu.current.is_some_and(|c| c != vcpus) {
        return unsupported("No support for domain XML entry 'vcpu' attribute 'current'");
    }
    if vcpus == 0 {
        return unsupported("Expecting domain XML entry 'vcpu' to be greater than 0");
    }
    out.put("numvcpus", vcpus.to_string());

    if let Some(cpu) = &def.cpu {
        if let Some(mode) = cpu.mode.as_deref().filter(|m| *m != "custom") {
            return unsupported(format!(
                "Expecting domain XML CPU mode 'custom' but found '{mode}'"
            ));
        }
        if let Some(t) = &cpu.topology {
            if t.threads != 1 {
                return unsupported("Only 1 thread per core is supported");
            }
            if t.dies != 1 {
                return unsupported("Only 1 die per socket is supported");
            }
            if t.clusters != 1 {
                return unsupported("Only 1 cluster per die is supported");
            }
            let total = u64::from(t.sockets) * u64::from(t.cores);
            if total != u64::from(vcpus) {
                return unsupported(format!(
                    "Expecting domain XML CPU sockets per core as {} but found {}",
                    vcpus, total
                ));
            }
            out.put("cpuid.coresPerSocket", t.cores.to_string());
        }
    }

    if let Some(set) = &def.vcpu.cpuset {
        if (set.0.len() as u64) < u64::from(vcpus) {
            return unsupported(format!(
                "Expecting domain XML attribute 'cpuset' of entry 'vcpu' to contain at least {vcpus} CPU(s)"
            ));
        }
        let list: Vec<String> = set.0.iter().map(|c| c.to_string()).collect();
        out.put("sched.cpu.affinity", list.join(","));
    }

    if let Some(shares) = def.cputune.shares {
        let v = u64::from(vcpus);
        let text = if shares == v * 500 {
            "low".to_string()
        } else if shares == v * 1000 {
            "normal".to_string()
        } else if shares == v * 2000 {
            "high".to_string()
        } else {
            shares.to_string()
        };
        out.put("sched.cpu.shares", text);
    }
    Ok(())
}

/// Write `firmware` and, at virtualHW 7 or later, the PCI bridges and VMCI lines.
pub(super) fn format_tail(def: &Domain, hw: i64, has_scsi: bool, out: &mut Out) -> Result<()> {
    match def.os.firmware.as_deref() {
        None | Some("bios") => {}
        Some("efi") => out.put("firmware", "efi"),
        Some(other) => return unsupported(format!("Firmware '{other}' is not supported")),
    }
    if hw >= 7 {
        if has_scsi {
            out.put("pciBridge0.present", "true");
            for n in 4..=7 {
                out.put(&format!("pciBridge{n}.present"), "true");
                out.put(&format!("pciBridge{n}.virtualDev"), "pcieRootPort");
                out.put(&format!("pciBridge{n}.functions"), "8");
            }
        }
        out.put("vmci0.present", "true");
    }
    Ok(())
}
