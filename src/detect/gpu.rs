//! GPUs and other accelerators: vendor tools (nvidia-smi, rocm-smi) first, then the PCI and DRM listings.
//!
//! Nothing here needs a driver: a missing tool is recorded in
//! [`Gpus::searched`], and devices the tools do not know about still show
//! up from sysfs with their PCI ids.

use std::collections::BTreeSet;
use std::path::Path;
use std::thread;

use serde::{Deserialize, Serialize};

use super::run::{PROBE_TIMEOUT, Runner};
use super::{joined, read_text};
use crate::fact::Fact;

/// The accelerators found and what was searched to find them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Gpus {
    pub devices: Vec<Gpu>,
    /// Each place looked at and what it gave, e.g. "nvidia-smi: `nvidia-smi` not found on PATH".
    pub searched: Vec<String>,
}

/// One GPU or accelerator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Gpu {
    /// `NVIDIA`, `AMD`, `Intel`, … or the PCI vendor id.
    pub vendor: String,
    pub model: Fact<String>,
    pub memory_bytes: Fact<u64>,
    /// The kernel driver bound to the device (`nvidia`, `amdgpu`, `i915`, …).
    pub kernel_driver: Fact<String>,
    /// The vendor driver's version, from its tool.
    pub driver_version: Fact<String>,
    /// The compute API and version the vendor tool reports, e.g. `CUDA compute capability 8.0`.
    pub compute_api: Fact<String>,
    /// PCI address `0000:07:00.0`.
    pub pci_address: Fact<String>,
    /// Where this entry came from: `nvidia-smi`, `rocm-smi`, `pci` or `drm`.
    pub source: String,
}

/// A compute adapter as a portable GPU API (wgpu) enumerates it.
///
/// Listed through the kernels crate's GPU backend (cargo feature `gpu`) by
/// [`compute_adapters`], as part of [`super::detect`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ComputeAdapter {
    /// `vulkan`, `metal`, `dx12`, `gl`.
    pub backend: String,
    pub vendor: String,
    pub name: String,
    /// `discrete`, `integrated`, `virtual`, `cpu`, `other`.
    pub device_type: String,
    /// Whether shaders may use f64.
    pub f64_support: bool,
    /// A software rasteriser such as lavapipe or SwiftShader (runs on the CPU).
    pub software: bool,
}

/// The adapters wgpu offers for compute, from the kernels crate's GPU backend.
///
/// Without the `gpu` feature, or without a Vulkan/Metal/DX12 driver, this is
/// unknown with the backend's reason ("no GPU adapter: …").
pub fn compute_adapters() -> Fact<Vec<ComputeAdapter>> {
    match hpc_kernels::gpu::list_adapters() {
        Ok(adapters) => Fact::Known(
            adapters
                .into_iter()
                .map(|a| ComputeAdapter {
                    backend: a.backend,
                    vendor: a.vendor_name,
                    name: a.name,
                    device_type: a.device_type.as_str().to_string(),
                    f64_support: a.shader_f64,
                    software: a.software,
                })
                .collect(),
        ),
        Err(unavailable) => Fact::unknown(format!("{} ({})", unavailable.reason, unavailable.hint)),
    }
}

const PCI_DEVICES: &str = "/sys/bus/pci/devices";
const DRM_CLASS: &str = "/sys/class/drm";

/// The NVIDIA query: one CSV line per GPU.
const NVIDIA_SMI_ARGS: [&str; 2] = [
    "--query-gpu=name,pci.bus_id,memory.total,driver_version,compute_cap",
    "--format=csv,noheader,nounits",
];

pub fn detect(runner: &Runner) -> Gpus {
    let (nvidia, amd) = thread::scope(|scope| {
        let nvidia = scope.spawn(|| nvidia_smi(runner));
        let amd = scope.spawn(|| rocm_smi(runner));
        (joined(nvidia), joined(amd))
    });
    let mut devices = Vec::new();
    let mut searched = Vec::new();
    for (tool, result) in [("nvidia-smi", nvidia), ("rocm-smi", amd)] {
        match result {
            Ok(found) => {
                searched.push(format!("{tool}: {} device(s)", found.len()));
                devices.extend(found);
            }
            Err(reason) => searched.push(format!("{tool}: {reason}")),
        }
    }
    let known: BTreeSet<String> = devices
        .iter()
        .filter_map(|gpu| gpu.pci_address.known().cloned())
        .collect();
    let (pci, pci_note) = pci_devices(Path::new(PCI_DEVICES));
    searched.push(pci_note);
    devices.extend(pci.into_iter().filter(|gpu| {
        gpu.pci_address
            .known()
            .is_none_or(|address| !known.contains(address))
    }));
    let (drm, drm_note) = drm_platform_devices(Path::new(DRM_CLASS));
    searched.push(drm_note);
    devices.extend(drm);
    Gpus { devices, searched }
}

fn nvidia_smi(runner: &Runner) -> Result<Vec<Gpu>, String> {
    let output = runner.run_successfully("nvidia-smi", &NVIDIA_SMI_ARGS, PROBE_TIMEOUT)?;
    parse_nvidia_smi_csv(&output.stdout)
}

/// Parses `nvidia-smi --query-gpu=name,pci.bus_id,memory.total,driver_version,compute_cap --format=csv,noheader,nounits`.
pub fn parse_nvidia_smi_csv(text: &str) -> Result<Vec<Gpu>, String> {
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let fields: Vec<&str> = line.split(',').map(str::trim).collect();
            let [name, bus_id, memory_mib, driver, compute_cap] = fields[..] else {
                return Err(format!("unexpected nvidia-smi line `{line}`"));
            };
            let value = |text: &str, what: &str| {
                if text.is_empty() || text.starts_with('[') {
                    Fact::unknown(format!("nvidia-smi reports {what} as `{text}`"))
                } else {
                    Fact::Known(text.to_string())
                }
            };
            Ok(Gpu {
                vendor: "NVIDIA".to_string(),
                model: value(name, "the name"),
                memory_bytes: value(memory_mib, "the memory").and_then(|mib| {
                    Fact::from_option(mib.parse::<u64>().ok().map(|m| m << 20), || {
                        format!("memory.total `{mib}` is not MiB")
                    })
                }),
                kernel_driver: Fact::Known("nvidia".to_string()),
                driver_version: value(driver, "the driver version"),
                compute_api: value(compute_cap, "the compute capability")
                    .map(|cap| format!("CUDA compute capability {cap}")),
                pci_address: Fact::from_option(normalise_pci_address(bus_id), || {
                    format!("bus id `{bus_id}` is not a PCI address")
                }),
                source: "nvidia-smi".to_string(),
            })
        })
        .collect()
}

/// `00000000:07:00.0` or `0000:C1:00.0` → `0000:07:00.0` / `0000:c1:00.0`.
pub fn normalise_pci_address(text: &str) -> Option<String> {
    let text = text.trim().to_lowercase();
    let mut parts = text.rsplitn(3, ':');
    let device_function = parts.next()?;
    let bus = parts.next()?;
    let domain = parts.next().unwrap_or("0000");
    let domain = &domain[domain.len().saturating_sub(4)..];
    let hex = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_hexdigit() || c == '.');
    (hex(domain) && hex(bus) && hex(device_function))
        .then(|| format!("{domain:0>4}:{bus:0>2}:{device_function}"))
}

fn rocm_smi(runner: &Runner) -> Result<Vec<Gpu>, String> {
    let args = [
        "--showproductname",
        "--showmeminfo",
        "vram",
        "--showbus",
        "--showdriverversion",
        "--json",
    ];
    let output = runner.run_successfully("rocm-smi", &args, PROBE_TIMEOUT)?;
    parse_rocm_smi_json(&output.stdout)
}

/// Parses `rocm-smi --showproductname --showmeminfo vram --showbus --showdriverversion --json`.
pub fn parse_rocm_smi_json(text: &str) -> Result<Vec<Gpu>, String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("rocm-smi printed invalid JSON: {e}"))?;
    let object = value.as_object().ok_or("rocm-smi JSON is not an object")?;
    let driver = object
        .get("system")
        .and_then(|system| system.get("Driver version"))
        .and_then(|v| v.as_str())
        .map(str::to_string);
    Ok(object
        .iter()
        .filter(|(key, _)| key.starts_with("card"))
        .map(|(card, fields)| {
            let field = |name: &str| {
                fields
                    .get(name)
                    .and_then(|v| v.as_str())
                    .map(str::to_string)
            };
            Gpu {
                vendor: "AMD".to_string(),
                model: Fact::from_option(
                    field("Card series").or_else(|| field("Card model")),
                    || format!("rocm-smi gives no product name for {card}"),
                ),
                memory_bytes: Fact::from_option(
                    field("VRAM Total Memory (B)").and_then(|b| b.parse().ok()),
                    || format!("rocm-smi gives no VRAM total for {card}"),
                ),
                kernel_driver: Fact::Known("amdgpu".to_string()),
                driver_version: Fact::from_option(driver.clone(), || {
                    "rocm-smi gives no driver version".to_string()
                }),
                compute_api: Fact::Known("ROCm".to_string()),
                pci_address: Fact::from_option(
                    field("PCI Bus").and_then(|bus| normalise_pci_address(&bus)),
                    || format!("rocm-smi gives no PCI bus for {card}"),
                ),
                source: "rocm-smi".to_string(),
            }
        })
        .collect())
}

/// The vendor's name for a PCI vendor id.
pub fn pci_vendor_name(id: u32) -> Option<&'static str> {
    Some(match id {
        0x10de => "NVIDIA",
        0x1002 => "AMD",
        0x8086 => "Intel",
        0x1af4 => "virtio (virtual)",
        0x1234 => "QEMU (virtual)",
        0x15ad => "VMware (virtual)",
        0x1414 => "Microsoft (virtual)",
        0x1a03 => "ASPEED (BMC display)",
        0x1ded => "Alibaba",
        0x1e52 => "Tenstorrent",
        0x1da3 => "Habana Labs",
        _ => return None,
    })
}

/// Whether a PCI class code (`0x030000`) is a display controller or a processing accelerator.
pub fn is_gpu_class(class: u32) -> bool {
    let base = class >> 16;
    base == 0x03 || base == 0x12
}

fn hex_file(path: &Path) -> Option<u32> {
    let text = read_text(path).known()?.clone();
    u32::from_str_radix(text.trim_start_matches("0x"), 16).ok()
}

fn link_name(path: &Path) -> Fact<String> {
    match std::fs::read_link(path) {
        Ok(target) => Fact::from_option(
            target.file_name().map(|n| n.to_string_lossy().into_owned()),
            || format!("{} has no name", path.display()),
        ),
        Err(_) => Fact::unknown("no kernel driver bound"),
    }
}

/// Display and accelerator devices on the PCI bus, with a note of what was scanned.
fn pci_devices(root: &Path) -> (Vec<Gpu>, String) {
    let entries = match std::fs::read_dir(root) {
        Ok(entries) => entries,
        Err(error) => return (Vec::new(), format!("{}: {error}", root.display())),
    };
    let mut scanned = 0;
    let mut devices = Vec::new();
    // Read only when a display device is found: the file is large.
    let mut pci_ids: Option<Option<String>> = None;
    let mut paths: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    paths.sort();
    for dir in paths {
        scanned += 1;
        let (Some(class), Some(vendor)) =
            (hex_file(&dir.join("class")), hex_file(&dir.join("vendor")))
        else {
            continue;
        };
        if !is_gpu_class(class) {
            continue;
        }
        let device = hex_file(&dir.join("device"));
        let address = dir.file_name().map(|n| n.to_string_lossy().into_owned());
        let pci_ids = pci_ids.get_or_insert_with(read_pci_ids);
        devices.push(Gpu {
            vendor: pci_vendor_name(vendor)
                .map_or_else(|| format!("PCI vendor {vendor:04x}"), str::to_string),
            model: Fact::from_option(
                device.map(|device| {
                    let id = format!("PCI {vendor:04x}:{device:04x}");
                    match pci_ids
                        .as_deref()
                        .and_then(|ids| pci_device_name(ids, vendor, device))
                    {
                        Some(name) => format!("{name} ({id})"),
                        None => id,
                    }
                }),
                || "no PCI device id".to_string(),
            ),
            memory_bytes: read_text(&dir.join("mem_info_vram_total"))
                .and_then(|t| Fact::from_option(t.parse().ok(), || format!("VRAM total `{t}`")))
                .or_else(|_| Fact::unknown("sysfs shows no VRAM size (only amdgpu does)")),
            kernel_driver: link_name(&dir.join("driver")),
            driver_version: Fact::unknown("sysfs has no driver version"),
            compute_api: Fact::unknown("sysfs names no compute API"),
            pci_address: Fact::from_option(address, || "no PCI address".to_string()),
            source: "pci".to_string(),
        });
    }
    let note = format!(
        "{}: {} display/accelerator device(s) among {scanned}",
        root.display(),
        devices.len()
    );
    (devices, note)
}

/// The PCI ID database of pciutils/hwdata, when installed.
fn read_pci_ids() -> Option<String> {
    [
        "/usr/share/misc/pci.ids",
        "/usr/share/hwdata/pci.ids",
        "/usr/share/pci.ids",
    ]
    .iter()
    .find_map(|path| std::fs::read_to_string(path).ok())
}

/// A device's name in `pci.ids` (vendor lines `10de  NVIDIA…`, device lines `\t2330  GH100 …`).
pub fn pci_device_name(pci_ids: &str, vendor: u32, device: u32) -> Option<String> {
    let vendor_prefix = format!("{vendor:04x}  ");
    let device_prefix = format!("\t{device:04x}  ");
    let mut lines = pci_ids
        .lines()
        .skip_while(|line| !line.starts_with(&vendor_prefix));
    lines.next()?;
    lines
        .take_while(|line| line.starts_with('\t') || line.starts_with('#') || line.is_empty())
        .find_map(|line| line.strip_prefix(&device_prefix))
        .map(|name| name.trim().to_string())
}

/// DRM cards that are not PCI devices (e.g. Arm SoC GPUs), with a note of what was scanned.
fn drm_platform_devices(root: &Path) -> (Vec<Gpu>, String) {
    let entries = match std::fs::read_dir(root) {
        Ok(entries) => entries,
        Err(error) => return (Vec::new(), format!("{}: {error}", root.display())),
    };
    let mut devices = Vec::new();
    let mut cards = 0;
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_card = name
            .strip_prefix("card")
            .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
        if !is_card {
            continue;
        }
        cards += 1;
        let device = entry.path().join("device");
        if device.join("vendor").exists() {
            continue;
        }
        let driver = link_name(&device.join("driver"));
        devices.push(Gpu {
            vendor: "platform device".to_string(),
            model: driver.clone(),
            memory_bytes: Fact::unknown("platform GPUs share system memory"),
            kernel_driver: driver,
            driver_version: Fact::unknown("sysfs has no driver version"),
            compute_api: Fact::unknown("sysfs names no compute API"),
            pci_address: Fact::unknown("not a PCI device"),
            source: "drm".to_string(),
        });
    }
    let note = format!(
        "{}: {cards} card(s), {} not on PCI",
        root.display(),
        devices.len()
    );
    (devices, note)
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    #[test]
    fn nvidia_smi_csv_lines() {
        let csv = "NVIDIA A100-SXM4-40GB, 00000000:07:00.0, 40960, 535.104.05, 8.0\n\
                   Tesla V100-PCIE-16GB, 00000000:3B:00.0, 16384, 470.82.01, [N/A]\n";
        let gpus = parse_nvidia_smi_csv(csv).unwrap();
        assert_eq!(gpus.len(), 2);
        assert_eq!(
            gpus[0].model,
            Fact::Known("NVIDIA A100-SXM4-40GB".to_string())
        );
        assert_eq!(gpus[0].memory_bytes, Fact::Known(40960 << 20));
        assert_eq!(
            gpus[0].driver_version,
            Fact::Known("535.104.05".to_string())
        );
        assert_eq!(
            gpus[0].compute_api,
            Fact::Known("CUDA compute capability 8.0".to_string())
        );
        assert_eq!(gpus[0].pci_address, Fact::Known("0000:07:00.0".to_string()));
        assert_eq!(gpus[1].pci_address, Fact::Known("0000:3b:00.0".to_string()));
        assert!(gpus[1].compute_api.known().is_none());
        assert!(parse_nvidia_smi_csv("garbage\n").is_err());
        assert!(parse_nvidia_smi_csv("").unwrap().is_empty());
    }

    #[test]
    fn rocm_smi_json() {
        let json = r#"{"card0": {"Card series": "Instinct MI210", "Card model": "0x0c34",
            "VRAM Total Memory (B)": "68702699520", "PCI Bus": "0000:C1:00.0"},
            "system": {"Driver version": "6.2.4"}}"#;
        let gpus = parse_rocm_smi_json(json).unwrap();
        assert_eq!(gpus.len(), 1);
        assert_eq!(gpus[0].model, Fact::Known("Instinct MI210".to_string()));
        assert_eq!(gpus[0].memory_bytes, Fact::Known(68702699520));
        assert_eq!(gpus[0].pci_address, Fact::Known("0000:c1:00.0".to_string()));
        assert_eq!(gpus[0].driver_version, Fact::Known("6.2.4".to_string()));
        assert!(parse_rocm_smi_json("WARNING: no GPU").is_err());
    }

    #[test]
    fn pci_addresses_and_classes() {
        assert_eq!(
            normalise_pci_address("00000000:07:00.0").as_deref(),
            Some("0000:07:00.0")
        );
        assert_eq!(
            normalise_pci_address("07:00.0").as_deref(),
            Some("0000:07:00.0")
        );
        assert_eq!(normalise_pci_address("nope"), None);
        assert!(is_gpu_class(0x030000));
        assert!(is_gpu_class(0x030200));
        assert!(is_gpu_class(0x120000));
        assert!(!is_gpu_class(0x020000));
        assert_eq!(pci_vendor_name(0x1002), Some("AMD"));
    }

    #[test]
    fn device_names_from_pci_ids() {
        let ids = "# comment\n1002  Advanced Micro Devices, Inc. [AMD/ATI]\n\t740f  Aldebaran/MI200 [Instinct MI210]\n\t\t1002 0c34  Instinct MI210\n10de  NVIDIA Corporation\n\t2330  GH100 [H100 SXM5 80GB]\n\t740f  not this one\n";
        assert_eq!(
            pci_device_name(ids, 0x10de, 0x2330).as_deref(),
            Some("GH100 [H100 SXM5 80GB]")
        );
        assert_eq!(
            pci_device_name(ids, 0x1002, 0x740f).as_deref(),
            Some("Aldebaran/MI200 [Instinct MI210]")
        );
        assert_eq!(pci_device_name(ids, 0x10de, 0x9999), None);
        assert_eq!(pci_device_name(ids, 0x8086, 0x2330), None);
    }

    #[test]
    fn pci_scan_keeps_display_devices_only() {
        let dir = tempfile::tempdir().unwrap();
        for (address, class, vendor) in [
            ("0000:00:02.0", "0x030000", "0x8086"),
            ("0000:00:03.0", "0x020000", "0x1af4"),
            ("0000:c1:00.0", "0x038000", "0x1002"),
        ] {
            let device = dir.path().join(address);
            fs::create_dir_all(&device).unwrap();
            fs::write(device.join("class"), format!("{class}\n")).unwrap();
            fs::write(device.join("vendor"), format!("{vendor}\n")).unwrap();
            fs::write(device.join("device"), "0x1234\n").unwrap();
        }
        fs::write(
            dir.path().join("0000:c1:00.0/mem_info_vram_total"),
            "68702699520\n",
        )
        .unwrap();
        let (gpus, note) = pci_devices(dir.path());
        assert_eq!(gpus.len(), 2, "{note}");
        assert_eq!(gpus[0].vendor, "Intel");
        assert_eq!(gpus[1].vendor, "AMD");
        assert_eq!(gpus[1].memory_bytes, Fact::Known(68702699520));
        assert!(
            note.contains("2 display/accelerator device(s) among 3"),
            "{note}"
        );
    }
}
