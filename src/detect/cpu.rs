//! The processor: vendor, model, microarchitecture, ISA extensions, SIMD width, frequency.
//!
//! On x86 the hardware bits come from cpuid (raw-cpuid) and `std::arch`
//! detection cross-checks that the OS enables them (XSAVE state); on aarch64
//! and elsewhere from `/proc/cpuinfo` and `std::arch`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::read_text;
use crate::fact::Fact;

/// What the processor is and what its vector units can do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Cpu {
    /// `x86_64`, `aarch64`, … (the architecture this binary was built for).
    pub architecture: String,
    pub vendor: Fact<String>,
    pub model_name: Fact<String>,
    pub family: Fact<u32>,
    pub model: Fact<u32>,
    pub stepping: Fact<u32>,
    /// Core design, e.g. `Zen 4`, `Sapphire Rapids`, `Neoverse V1`, from a small table.
    pub microarchitecture: Fact<String>,
    /// The extensions that matter for numeric code, in a fixed order per architecture.
    pub extensions: Vec<IsaExtension>,
    pub simd: Simd,
    pub frequency: Frequency,
}

/// One ISA extension: whether the CPU has it and whether this process may use it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct IsaExtension {
    /// The `std::arch` / target-feature name, e.g. `avx512f`, `sve`.
    pub name: String,
    /// The CPU reports it (cpuid bit or `/proc/cpuinfo` feature).
    pub hardware: Fact<bool>,
    /// The CPU has it and the OS enabled its register state (`std::arch` runtime detection).
    pub usable: Fact<bool>,
}

/// The widest vector unit this process can use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Simd {
    /// The instruction set giving that width: `avx512f`, `avx2`, `avx`, `sse2`, `sve`, `neon`, or `none`.
    pub instruction_set: String,
    pub width_bits: u32,
    pub f64_lanes: u32,
    pub f32_lanes: u32,
    /// The widest width the hardware reports, usable or not.
    pub hardware_width_bits: u32,
    /// Whether the OS enables the hardware's widest width (false: the XSAVE state is off).
    pub os_enabled: bool,
    /// On x86: whether the OS turned on XSAVE (CPUID.1:ECX.OSXSAVE).
    pub osxsave: Fact<bool>,
}

/// Clock frequencies in MHz.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Frequency {
    /// Nominal (base) frequency: sysfs `base_frequency`, else cpuid leaf 0x16.
    pub base_mhz: Fact<f64>,
    /// Maximum (turbo) frequency: sysfs `cpuinfo_max_freq`, else cpuid leaf 0x16.
    pub max_mhz: Fact<f64>,
    /// The current clock of CPU 0 from `/proc/cpuinfo` (varies; informative only).
    pub current_mhz: Fact<f64>,
}

#[cfg(test)]
impl Cpu {
    /// The extension with this name, if this architecture lists it.
    pub fn extension(&self, name: &str) -> Option<&IsaExtension> {
        self.extensions.iter().find(|e| e.name == name)
    }

    /// Whether this process can use the extension (known usable).
    pub fn can_use(&self, name: &str) -> bool {
        self.extension(name)
            .is_some_and(|e| e.usable == Fact::Known(true))
    }
}

/// The fields of `/proc/cpuinfo` for the first processor.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CpuInfo {
    pub fields: BTreeMap<String, String>,
    /// x86 `flags` or aarch64 `Features`.
    pub flags: BTreeSet<String>,
}

/// Parses the first processor's block of `/proc/cpuinfo`.
pub fn parse_cpuinfo(text: &str) -> CpuInfo {
    let mut info = CpuInfo::default();
    for line in text.lines() {
        let Some((key, value)) = line.split_once(':') else {
            if line.trim().is_empty() && !info.fields.is_empty() {
                break;
            }
            continue;
        };
        let (key, value) = (key.trim(), value.trim());
        if key == "processor" && info.fields.contains_key("processor") {
            break;
        }
        if key == "flags" || key == "Features" {
            info.flags = value.split_whitespace().map(str::to_string).collect();
        }
        info.fields
            .entry(key.to_string())
            .or_insert_with(|| value.to_string());
    }
    info
}

fn cpuinfo_number(info: &CpuInfo, key: &str) -> Fact<u32> {
    match info.fields.get(key) {
        None => Fact::unknown(format!("no `{key}` in /proc/cpuinfo")),
        Some(text) => {
            let parsed = match text.strip_prefix("0x") {
                Some(hex) => u32::from_str_radix(hex, 16).ok(),
                None => text.parse().ok(),
            };
            Fact::from_option(parsed, || format!("`{key}` in /proc/cpuinfo is `{text}`"))
        }
    }
}

/// The microarchitecture of an x86 CPU from its vendor, family and model.
pub fn x86_microarchitecture(vendor: &str, family: u32, model: u32) -> Option<&'static str> {
    match (vendor, family) {
        ("AuthenticAMD", 0x17) => Some(if model < 0x30 { "Zen / Zen+" } else { "Zen 2" }),
        ("AuthenticAMD", 0x19) => Some(match model {
            0x10..=0x1f | 0x60..=0x7f | 0xa0..=0xaf => "Zen 4",
            0x40..=0x4f => "Zen 3+",
            _ => "Zen 3",
        }),
        ("AuthenticAMD", 0x1a) => Some("Zen 5"),
        ("GenuineIntel", 6) => Some(match model {
            0x3c | 0x3f | 0x45 | 0x46 => "Haswell",
            0x3d | 0x47 | 0x4f | 0x56 => "Broadwell",
            0x4e | 0x5e => "Skylake",
            0x55 => "Skylake-SP / Cascade Lake",
            0x8e | 0x9e => "Kaby Lake / Coffee Lake",
            0x66 => "Cannon Lake",
            0x6a | 0x6c => "Ice Lake-SP",
            0x7d | 0x7e => "Ice Lake",
            0x8c | 0x8d => "Tiger Lake",
            0x8f => "Sapphire Rapids",
            0x97 | 0x9a => "Alder Lake",
            0xb7 | 0xba | 0xbf => "Raptor Lake",
            0xaa | 0xac => "Meteor Lake",
            0xad | 0xae => "Granite Rapids",
            0xaf => "Sierra Forest",
            0xcf => "Emerald Rapids",
            0x85 => "Knights Mill",
            0x57 => "Knights Landing",
            _ => return None,
        }),
        _ => None,
    }
}

/// The vendor and core design of an Arm CPU from the MIDR implementer and part numbers.
pub fn arm_core(implementer: u32, part: u32) -> (Option<&'static str>, Option<&'static str>) {
    let vendor = match implementer {
        0x41 => Some("Arm"),
        0x42 => Some("Broadcom"),
        0x46 => Some("Fujitsu"),
        0x48 => Some("HiSilicon"),
        0x4e => Some("NVIDIA"),
        0x51 => Some("Qualcomm"),
        0x61 => Some("Apple"),
        0xc0 => Some("Ampere"),
        _ => None,
    };
    let core = match (implementer, part) {
        (0x41, 0xd03) => Some("Cortex-A53"),
        (0x41, 0xd05) => Some("Cortex-A55"),
        (0x41, 0xd07) => Some("Cortex-A57"),
        (0x41, 0xd08) => Some("Cortex-A72"),
        (0x41, 0xd0b) => Some("Cortex-A76"),
        (0x41, 0xd0c) => Some("Neoverse N1"),
        (0x41, 0xd40) => Some("Neoverse V1"),
        (0x41, 0xd41) => Some("Cortex-A78"),
        (0x41, 0xd44) => Some("Cortex-X1"),
        (0x41, 0xd49) => Some("Neoverse N2"),
        (0x41, 0xd4f) => Some("Neoverse V2"),
        (0x41, 0xd84) => Some("Neoverse V3"),
        (0x41, 0xd8e) => Some("Neoverse N3"),
        (0x46, 0x001) => Some("A64FX"),
        (0x48, 0xd01) => Some("TaiShan v110 (Kunpeng 920)"),
        (0xc0, 0xac3) => Some("AmpereOne"),
        _ => None,
    };
    (vendor, core)
}

/// The SVE vector length in bits from `/proc/sys/abi/sve_default_vector_length` (bytes).
pub fn parse_sve_vector_length(text: &str) -> Result<u32, String> {
    let bytes: u32 = text
        .trim()
        .parse()
        .map_err(|_| format!("SVE vector length `{}` is not a number", text.trim()))?;
    if bytes == 0 || !bytes.is_multiple_of(16) {
        return Err(format!(
            "SVE vector length of {bytes} bytes is not a multiple of 16"
        ));
    }
    Ok(bytes * 8)
}

/// The widest usable and hardware vector widths, from (instruction set, bits) candidates, widest first.
fn simd_from(candidates: &[(&str, u32)], extensions: &[IsaExtension], osxsave: Fact<bool>) -> Simd {
    let widest = |pick: &dyn Fn(&IsaExtension) -> bool| {
        candidates
            .iter()
            .copied()
            .find(|(name, _)| extensions.iter().any(|e| e.name == *name && pick(e)))
    };
    let usable = widest(&|e| e.usable == Fact::Known(true));
    let hardware = widest(&|e| e.hardware == Fact::Known(true));
    let (instruction_set, width_bits) = usable.unwrap_or(("none", 0));
    let hardware_width_bits = hardware.map_or(0, |(_, bits)| bits);
    Simd {
        instruction_set: instruction_set.to_string(),
        width_bits,
        f64_lanes: width_bits / 64,
        f32_lanes: width_bits / 32,
        hardware_width_bits,
        os_enabled: width_bits >= hardware_width_bits,
        osxsave,
    }
}

fn frequency(cpuinfo: &CpuInfo, cpuid_base_max: Option<(f64, f64)>) -> Frequency {
    let cpufreq = Path::new(super::topology::CPU_SYSFS).join("cpu0/cpufreq");
    let sysfs_mhz = |name: &str| {
        read_text(&cpufreq.join(name)).and_then(|text| {
            Fact::from_option(text.parse::<f64>().ok().map(|khz| khz / 1000.0), || {
                format!("{name} is `{text}`")
            })
        })
    };
    let from_cpuid = |pick: fn((f64, f64)) -> f64, reason: String| {
        Fact::from_option(cpuid_base_max.map(pick).filter(|&mhz| mhz > 0.0), || {
            format!("{reason}; cpuid leaf 0x16 gives no frequency")
        })
    };
    Frequency {
        base_mhz: sysfs_mhz("base_frequency")
            .or_else(|reason| from_cpuid(|(base, _)| base, reason)),
        max_mhz: sysfs_mhz("cpuinfo_max_freq").or_else(|reason| from_cpuid(|(_, max)| max, reason)),
        current_mhz: match cpuinfo.fields.get("cpu MHz") {
            Some(text) => Fact::from_option(text.parse().ok(), || format!("`cpu MHz` is `{text}`")),
            None => Fact::unknown("no `cpu MHz` in /proc/cpuinfo"),
        },
    }
}

/// Detects the CPU of this machine.
pub fn detect() -> Cpu {
    let cpuinfo = read_text(Path::new("/proc/cpuinfo"))
        .known()
        .map(|text| parse_cpuinfo(text))
        .unwrap_or_default();
    arch::detect(cpuinfo)
}

#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
mod arch {
    #[cfg(target_arch = "x86")]
    use std::arch::is_x86_feature_detected;

    use raw_cpuid::CpuId;

    use super::*;
    use crate::detect::topology::{Cache, Caches};

    /// Vector widths, widest first.
    const SIMD_CANDIDATES: [(&str, u32); 3] = [("avx512f", 512), ("avx", 256), ("sse2", 128)];

    pub fn detect(cpuinfo: CpuInfo) -> Cpu {
        let cpuid = CpuId::new();
        let vendor = cpuid.get_vendor_info().map(|v| v.as_str().to_string());
        let features = cpuid.get_feature_info();
        let extended = cpuid.get_extended_feature_info();
        let has = |check: fn(&raw_cpuid::FeatureInfo) -> bool| -> Fact<bool> {
            Fact::from_option(features.as_ref().map(check), || {
                "cpuid leaf 1 unavailable".to_string()
            })
        };
        let has_ext = |check: fn(&raw_cpuid::ExtendedFeatures) -> bool| -> Fact<bool> {
            Fact::from_option(extended.as_ref().map(check), || {
                "cpuid leaf 7 unavailable".to_string()
            })
        };
        // std::arch on Rust 1.88 cannot name these; they share AVX-512F's register state.
        let with_avx512_state = |hardware: &Fact<bool>| {
            hardware
                .as_ref()
                .map(|&present| present && is_x86_feature_detected!("avx512f"))
        };
        let amx_usable = || {
            Fact::unknown(
                "stable std::arch cannot check AMX, and Linux grants it per process (arch_prctl)",
            )
        };
        let extension = |name: &str, hardware: Fact<bool>, usable: Fact<bool>| IsaExtension {
            name: name.to_string(),
            hardware,
            usable,
        };
        // name => cpuid leaf reader (`has`: leaf 1, `has_ext`: leaf 7) and its method.
        macro_rules! cross_checked {
            ($($name:tt => $leaf:ident . $method:ident),* $(,)?) => {
                vec![$(extension(
                    $name,
                    $leaf(|f| f.$method()),
                    Fact::Known(is_x86_feature_detected!($name)),
                )),*]
            };
        }
        let mut extensions = cross_checked![
            "sse2" => has.has_sse2,
            "sse4.2" => has.has_sse42,
            "avx" => has.has_avx,
            "fma" => has.has_fma,
            "avx2" => has_ext.has_avx2,
            "avx512f" => has_ext.has_avx512f,
            "avx512dq" => has_ext.has_avx512dq,
            "avx512cd" => has_ext.has_avx512cd,
            "avx512bw" => has_ext.has_avx512bw,
            "avx512vl" => has_ext.has_avx512vl,
            "avx512ifma" => has_ext.has_avx512_ifma,
            "avx512vnni" => has_ext.has_avx512vnni,
        ];
        let bf16 = has_ext(|f| f.has_avx512_bf16());
        let fp16 = has_ext(|f| f.has_avx512_fp16());
        extensions.extend([
            extension("avx512bf16", bf16.clone(), with_avx512_state(&bf16)),
            extension("avx512fp16", fp16.clone(), with_avx512_state(&fp16)),
            extension("amx-tile", has_ext(|f| f.has_amx_tile()), amx_usable()),
            extension("amx-bf16", has_ext(|f| f.has_amx_bf16()), amx_usable()),
            extension("amx-int8", has_ext(|f| f.has_amx_int8()), amx_usable()),
        ]);
        let osxsave = has(|f| f.has_oxsave());
        let simd = simd_from(&SIMD_CANDIDATES, &extensions, osxsave);
        let (family, model, stepping) = match &features {
            Some(f) => (
                Fact::Known(u32::from(f.family_id())),
                Fact::Known(u32::from(f.model_id())),
                Fact::Known(u32::from(f.stepping_id())),
            ),
            None => (
                cpuinfo_number(&cpuinfo, "cpu family"),
                cpuinfo_number(&cpuinfo, "model"),
                cpuinfo_number(&cpuinfo, "stepping"),
            ),
        };
        let microarchitecture = match (&vendor, &family, &model) {
            (Some(vendor), Fact::Known(family), Fact::Known(model)) => Fact::from_option(
                x86_microarchitecture(vendor, *family, *model).map(str::to_string),
                || format!("{vendor} family {family:#x} model {model:#x} is not in the table"),
            ),
            _ => Fact::unknown("vendor, family or model unknown"),
        };
        let cpuid_frequency = cpuid.get_processor_frequency_info().map(|f| {
            (
                f64::from(f.processor_base_frequency()),
                f64::from(f.processor_max_frequency()),
            )
        });
        Cpu {
            architecture: std::env::consts::ARCH.to_string(),
            vendor: Fact::from_option(vendor, || "cpuid vendor leaf unavailable".to_string()),
            model_name: Fact::from_option(
                cpuid
                    .get_processor_brand_string()
                    .map(|b| b.as_str().trim().to_string()),
                || "cpuid brand string unavailable".to_string(),
            ),
            family,
            model,
            stepping,
            microarchitecture,
            extensions,
            simd,
            frequency: frequency(&cpuinfo, cpuid_frequency),
        }
    }

    /// The hypervisor cpuid names, when the hypervisor bit is set.
    pub fn hypervisor() -> Option<String> {
        let cpuid = CpuId::new();
        if !cpuid.get_feature_info()?.has_hypervisor() {
            return None;
        }
        Some(match cpuid.get_hypervisor_info().map(|h| h.identify()) {
            Some(raw_cpuid::Hypervisor::Unknown(..)) | None => "unknown hypervisor".to_string(),
            Some(known) => format!("{known:?}"),
        })
    }

    /// Caches from cpuid (leaf 4, or 0x8000001D on AMD): the fallback when sysfs is missing.
    pub fn cpuid_caches() -> Fact<Caches> {
        let Some(parameters) = CpuId::new().get_cache_parameters() else {
            return Fact::unknown("cpuid has no cache parameter leaf");
        };
        let levels: Vec<Cache> = parameters
            .map(|p| Cache {
                level: p.level(),
                kind: match p.cache_type() {
                    raw_cpuid::CacheType::Data => "data",
                    raw_cpuid::CacheType::Instruction => "instruction",
                    _ => "unified",
                }
                .to_string(),
                size_bytes: (p.associativity()
                    * p.physical_line_partitions()
                    * p.coherency_line_size()
                    * p.sets()) as u64,
                line_bytes: Fact::Known(p.coherency_line_size() as u32),
                ways: Fact::Known(p.associativity() as u32),
                shared_by_cpus: Fact::Known(p.max_cores_for_cache()),
            })
            .collect();
        if levels.is_empty() {
            Fact::unknown("cpuid lists no caches")
        } else {
            Fact::Known(Caches {
                source: "cpuid".to_string(),
                levels,
            })
        }
    }
}

#[cfg(target_arch = "aarch64")]
mod arch {
    use std::arch::is_aarch64_feature_detected;

    use super::*;
    use crate::detect::topology::Caches;

    /// NEON's fixed width; SVE's width is its vector length.
    const NEON_BITS: u32 = 128;

    pub fn detect(cpuinfo: CpuInfo) -> Cpu {
        let flags_known = !cpuinfo.flags.is_empty();
        let hardware = |flag: &str| {
            if flags_known {
                Fact::Known(cpuinfo.flags.contains(flag))
            } else {
                Fact::unknown("no `Features` line in /proc/cpuinfo")
            }
        };
        let extension = |name: &str, flag: &str, usable: bool| IsaExtension {
            name: name.to_string(),
            hardware: hardware(flag),
            usable: Fact::Known(usable),
        };
        let extensions = vec![
            extension("neon", "asimd", is_aarch64_feature_detected!("neon")),
            extension("fp16", "asimdhp", is_aarch64_feature_detected!("fp16")),
            extension(
                "dotprod",
                "asimddp",
                is_aarch64_feature_detected!("dotprod"),
            ),
            extension("bf16", "bf16", is_aarch64_feature_detected!("bf16")),
            extension("i8mm", "i8mm", is_aarch64_feature_detected!("i8mm")),
            extension("sve", "sve", is_aarch64_feature_detected!("sve")),
            extension("sve2", "sve2", is_aarch64_feature_detected!("sve2")),
        ];
        let sve_bits = read_text(Path::new("/proc/sys/abi/sve_default_vector_length"))
            .and_then(|text| parse_sve_vector_length(&text).into());
        let sve_candidate = sve_bits.known().map(|&bits| ("sve", bits));
        let candidates: Vec<(&str, u32)> = sve_candidate
            .into_iter()
            .chain([("neon", NEON_BITS)])
            .collect();
        let simd = simd_from(
            &candidates,
            &extensions,
            Fact::unknown("XSAVE is an x86 concept"),
        );
        let implementer = cpuinfo_number(&cpuinfo, "CPU implementer");
        let part = cpuinfo_number(&cpuinfo, "CPU part");
        let (vendor, core) = match (&implementer, &part) {
            (Fact::Known(implementer), Fact::Known(part)) => arm_core(*implementer, *part),
            _ => (None, None),
        };
        let midr = format!("implementer {implementer}, part {part}");
        Cpu {
            architecture: std::env::consts::ARCH.to_string(),
            vendor: Fact::from_option(vendor.map(str::to_string), || {
                format!("{midr} not in the table")
            }),
            model_name: Fact::from_option(cpuinfo.fields.get("model name").cloned(), || {
                "no `model name` in /proc/cpuinfo".to_string()
            })
            .or_else(|reason| Fact::from_option(core.map(str::to_string), || reason)),
            family: cpuinfo_number(&cpuinfo, "CPU architecture"),
            model: part,
            stepping: cpuinfo_number(&cpuinfo, "CPU revision"),
            microarchitecture: Fact::from_option(core.map(str::to_string), || {
                format!("{midr} not in the table")
            }),
            extensions,
            simd,
            frequency: frequency(&cpuinfo, None),
        }
    }

    pub fn hypervisor() -> Option<String> {
        None
    }

    pub fn cpuid_caches() -> Fact<Caches> {
        Fact::unknown("cpuid is x86 only")
    }
}

#[cfg(not(any(target_arch = "x86", target_arch = "x86_64", target_arch = "aarch64")))]
mod arch {
    use super::*;
    use crate::detect::topology::Caches;

    pub fn detect(cpuinfo: CpuInfo) -> Cpu {
        let unsupported =
            || Fact::unknown(format!("no CPU detection for {}", std::env::consts::ARCH));
        Cpu {
            architecture: std::env::consts::ARCH.to_string(),
            vendor: unsupported(),
            model_name: Fact::from_option(cpuinfo.fields.get("model name").cloned(), || {
                "no `model name` in /proc/cpuinfo".to_string()
            }),
            family: unsupported(),
            model: unsupported(),
            stepping: unsupported(),
            microarchitecture: unsupported(),
            extensions: Vec::new(),
            simd: simd_from(&[], &[], unsupported()),
            frequency: frequency(&cpuinfo, None),
        }
    }

    pub fn hypervisor() -> Option<String> {
        None
    }

    pub fn cpuid_caches() -> Fact<Caches> {
        Fact::unknown("cpuid is x86 only")
    }
}

pub use arch::{cpuid_caches, hypervisor};

#[cfg(test)]
mod tests {
    use super::*;

    const X86_CPUINFO: &str = "processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\nmodel\t\t: 17\nmodel name\t: AMD EPYC\ncpu MHz\t\t: 2596.138\nflags\t\t: fpu sse2 avx avx2 avx512f hypervisor\n\nprocessor\t: 1\nvendor_id\t: AuthenticAMD\n";
    const ARM_CPUINFO: &str = "processor\t: 0\nBogoMIPS\t: 243.75\nFeatures\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp sve\nCPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x1\nCPU part\t: 0xd40\nCPU revision\t: 1\n\nprocessor\t: 1\n";

    #[test]
    fn x86_cpuinfo_first_processor_only() {
        let info = parse_cpuinfo(X86_CPUINFO);
        assert_eq!(info.fields["vendor_id"], "AuthenticAMD");
        assert_eq!(info.fields["model name"], "AMD EPYC");
        assert!(info.flags.contains("avx512f"));
        assert_eq!(cpuinfo_number(&info, "cpu family"), Fact::Known(25));
        assert!(cpuinfo_number(&info, "CPU part").known().is_none());
    }

    #[test]
    fn arm_cpuinfo_midr_and_features() {
        let info = parse_cpuinfo(ARM_CPUINFO);
        assert!(info.flags.contains("sve"));
        assert!(info.flags.contains("asimd"));
        let implementer = *cpuinfo_number(&info, "CPU implementer").known().unwrap();
        let part = *cpuinfo_number(&info, "CPU part").known().unwrap();
        assert_eq!((implementer, part), (0x41, 0xd40));
        assert_eq!(
            arm_core(implementer, part),
            (Some("Arm"), Some("Neoverse V1"))
        );
        assert_eq!(arm_core(0x99, 0x1), (None, None));
    }

    #[test]
    fn microarchitecture_table() {
        assert_eq!(x86_microarchitecture("AuthenticAMD", 25, 17), Some("Zen 4"));
        assert_eq!(x86_microarchitecture("AuthenticAMD", 25, 1), Some("Zen 3"));
        assert_eq!(
            x86_microarchitecture("GenuineIntel", 6, 0x8f),
            Some("Sapphire Rapids")
        );
        assert_eq!(x86_microarchitecture("GenuineIntel", 6, 0x01), None);
    }

    #[test]
    fn sve_vector_length_in_bits() {
        assert_eq!(parse_sve_vector_length("32\n").unwrap(), 256);
        assert_eq!(parse_sve_vector_length("16").unwrap(), 128);
        assert!(parse_sve_vector_length("20").is_err());
        assert!(parse_sve_vector_length("").is_err());
    }

    fn ext(name: &str, hardware: bool, usable: bool) -> IsaExtension {
        IsaExtension {
            name: name.to_string(),
            hardware: Fact::Known(hardware),
            usable: Fact::Known(usable),
        }
    }

    #[test]
    fn simd_width_is_the_widest_usable_and_flags_a_disabled_os_state() {
        let candidates = [("avx512f", 512), ("avx", 256), ("sse2", 128)];
        let on = simd_from(
            &candidates,
            &[
                ext("sse2", true, true),
                ext("avx", true, true),
                ext("avx512f", true, true),
            ],
            Fact::Known(true),
        );
        assert_eq!((on.width_bits, on.f64_lanes, on.f32_lanes), (512, 8, 16));
        assert!(on.os_enabled);
        let off = simd_from(
            &candidates,
            &[
                ext("sse2", true, true),
                ext("avx", true, true),
                ext("avx512f", true, false),
            ],
            Fact::Known(true),
        );
        assert_eq!((off.instruction_set.as_str(), off.width_bits), ("avx", 256));
        assert_eq!(off.hardware_width_bits, 512);
        assert!(!off.os_enabled);
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn cpuid_and_std_arch_agree_on_sse2() {
        let cpu = detect();
        let sse2 = cpu.extension("sse2").expect("x86_64 lists sse2");
        assert_eq!(sse2.hardware, Fact::Known(true), "cpuid: {sse2:?}");
        assert!(cpu.can_use("sse2"));
        assert!(cpu.simd.width_bits >= 128);
        assert_eq!(cpu.architecture, "x86_64");
    }
}
