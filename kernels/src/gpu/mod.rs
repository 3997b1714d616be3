//! GPU adapters as plain facts, and the one device the GPU variant computes on.
//!
//! The decision tree's GPU node needs to know what GPUs this build can
//! reach and whether a run pays once transfers are counted. With the `gpu`
//! cargo feature this module talks to wgpu (Vulkan, Metal or DX12, whatever
//! the platform offers); without it, the same functions exist and say how to
//! enable GPU support, so callers never need a `cfg` of their own.
//!
//! [`list_adapters`] returns every adapter as an [`AdapterFacts`] (plain
//! data: strings, numbers and flags, ready to mirror into a report). A
//! software adapter (Mesa's llvmpipe/lavapipe, SwiftShader, WARP) is flagged
//! as such: it is a correctness target for the GPU code path, never a reason
//! to recommend offloading. When no adapter is found the answer is a
//! [`GpuUnavailable`] whose reason starts with "no GPU adapter:".

#[cfg(feature = "gpu")]
mod enabled;
#[cfg(feature = "gpu")]
pub use enabled::*;

#[cfg(not(feature = "gpu"))]
mod disabled;
#[cfg(not(feature = "gpu"))]
pub use disabled::*;

use thiserror::Error;

/// What kind of device an adapter drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeviceKind {
    Discrete,
    Integrated,
    /// A virtual or hosted GPU (e.g. in a VM).
    Virtual,
    /// A software rasteriser running on the CPU.
    Cpu,
    Other,
}

impl DeviceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceKind::Discrete => "discrete",
            DeviceKind::Integrated => "integrated",
            DeviceKind::Virtual => "virtual",
            DeviceKind::Cpu => "cpu",
            DeviceKind::Other => "other",
        }
    }
}

/// The limits of an adapter that bound how the compute shader is launched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdapterLimits {
    pub max_workgroup_size_x: u32,
    pub max_invocations_per_workgroup: u32,
    pub max_workgroups_per_dimension: u32,
    pub max_storage_buffer_binding_bytes: u64,
    pub max_buffer_bytes: u64,
}

/// One GPU adapter as the graphics API reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdapterFacts {
    /// `vulkan`, `metal`, `dx12`, ...
    pub backend: String,
    /// PCI vendor id (Vulkan ids above 0xffff name driver vendors, e.g. 0x10005 = Mesa).
    pub vendor_id: u32,
    /// The vendor's name when the id is a known one, otherwise the id in hex.
    pub vendor_name: String,
    pub device_id: u32,
    /// Device name, e.g. `NVIDIA GeForce RTX 4070` or `llvmpipe (LLVM 15.0.6, 256 bits)`.
    pub name: String,
    pub device_type: DeviceKind,
    /// Driver name and version as the driver gives them.
    pub driver: String,
    pub driver_info: String,
    pub limits: AdapterLimits,
    /// Whether compute shaders may use `f64` (wgpu's `SHADER_F64`).
    pub shader_f64: bool,
    /// A software implementation on the CPU: correct, but says nothing about GPU speed.
    pub software: bool,
}

impl AdapterFacts {
    /// One line for logs and terminal reports.
    pub fn summary(&self) -> String {
        format!(
            "{} ({}, {} via {}{}{})",
            self.name,
            self.vendor_name,
            self.device_type.as_str(),
            self.backend,
            if self.shader_f64 { ", f64" } else { ", no f64" },
            if self.software {
                ", software: correctness only"
            } else {
                ""
            }
        )
    }
}

/// Why no GPU can be used, and what the user can do about it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{reason}")]
pub struct GpuUnavailable {
    pub reason: String,
    pub hint: String,
}

/// A vendor's name from its PCI (or Khronos) vendor id.
pub fn vendor_name(vendor_id: u32) -> String {
    match vendor_id {
        0x10de => "NVIDIA".into(),
        0x1002 | 0x1022 => "AMD".into(),
        0x8086 => "Intel".into(),
        0x106b => "Apple".into(),
        0x13b5 => "ARM".into(),
        0x5143 => "Qualcomm".into(),
        0x1414 => "Microsoft".into(),
        0x1af4 => "Red Hat (virtio)".into(),
        0x15ad => "VMware".into(),
        0x10005 => "Mesa".into(),
        other => format!("{other:#x}"),
    }
}

/// Whether an adapter is a software implementation, judged by its type and its name.
pub fn is_software(device_type: DeviceKind, name: &str, driver: &str) -> bool {
    let text = format!("{name} {driver}").to_lowercase();
    device_type == DeviceKind::Cpu
        || [
            "llvmpipe",
            "lavapipe",
            "swiftshader",
            "softpipe",
            "warp",
            "basic render",
        ]
        .iter()
        .any(|marker| text.contains(marker))
}

/// The environment variable that keeps Mesa's Vulkan layer quiet, if this environment needs it.
///
/// Mesa's device-select layer connects to Wayland to learn the display GPU,
/// and libwayland prints "XDG_RUNTIME_DIR is invalid or not set" to the
/// terminal when that variable is missing (containers, `sudo`, CI). Disabling
/// the layer with `NODEVICE_SELECT=1` silences it; we only do so when the
/// message would appear and the user has not chosen a device through Mesa
/// (`MESA_VK_DEVICE_SELECT`, `DRI_PRIME`), since the layer exists for that choice.
pub fn driver_noise_fix(
    get: impl Fn(&str) -> Option<std::ffi::OsString>,
) -> Option<(&'static str, &'static str)> {
    let runtime_dir_valid = get("XDG_RUNTIME_DIR")
        .map(std::path::PathBuf::from)
        .is_some_and(|dir| dir.is_absolute() && dir.is_dir());
    let user_chose = ["NODEVICE_SELECT", "MESA_VK_DEVICE_SELECT", "DRI_PRIME"]
        .iter()
        .any(|name| get(name).is_some());
    (!runtime_dir_valid && !user_chose).then_some(("NODEVICE_SELECT", "1"))
}

/// Applies [`driver_noise_fix`] to this process's environment.
///
/// Changing the environment is only sound while no other thread reads it,
/// so this is meant to be the first call in `main` (or in a test binary's
/// own `main`), before any thread starts and before the first GPU instance
/// is created. The alternative, redirecting the stderr file descriptor
/// around instance creation, would also swallow other threads' messages.
///
/// # Safety
/// No other thread may exist that reads or writes the environment.
pub unsafe fn quiet_driver_environment() {
    if let Some((name, value)) = driver_noise_fix(|name| std::env::var_os(name)) {
        // SAFETY: the caller guarantees that this process is still single-threaded.
        unsafe { std::env::set_var(name, value) };
    }
}

#[cfg(test)]
mod tests {
    use std::ffi::OsString;

    use super::*;

    #[test]
    fn software_adapters_are_recognised_by_type_or_name() {
        assert!(is_software(DeviceKind::Cpu, "anything", ""));
        assert!(is_software(
            DeviceKind::Other,
            "llvmpipe (LLVM 15.0.6, 256 bits)",
            "llvmpipe"
        ));
        assert!(is_software(
            DeviceKind::Integrated,
            "SwiftShader Device",
            ""
        ));
        assert!(!is_software(
            DeviceKind::Discrete,
            "NVIDIA GeForce RTX 4070",
            "NVIDIA"
        ));
    }

    #[test]
    fn known_vendors_have_names_and_others_their_id() {
        assert_eq!(vendor_name(0x10de), "NVIDIA");
        assert_eq!(vendor_name(0x10005), "Mesa");
        assert_eq!(vendor_name(0x1234), "0x1234");
    }

    #[test]
    fn the_device_select_layer_is_silenced_only_when_it_would_print() {
        fn env(pairs: Vec<(&'static str, String)>) -> impl Fn(&str) -> Option<OsString> {
            move |name| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| OsString::from(v))
            }
        }
        let silence = Some(("NODEVICE_SELECT", "1"));
        assert_eq!(driver_noise_fix(env(vec![])), silence);
        let relative = ("XDG_RUNTIME_DIR", "relative/dir".to_string());
        assert_eq!(driver_noise_fix(env(vec![relative])), silence);
        let valid = std::env::temp_dir().to_string_lossy().into_owned();
        assert_eq!(
            driver_noise_fix(env(vec![("XDG_RUNTIME_DIR", valid)])),
            None
        );
        assert_eq!(driver_noise_fix(env(vec![("DRI_PRIME", "1".into())])), None);
    }
}
