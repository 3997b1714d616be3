//! GPU access through wgpu: adapter enumeration, the device the GPU variant uses, and a
//! time limit on every wait for the driver.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use super::{AdapterFacts, AdapterLimits, DeviceKind, GpuUnavailable, is_software, vendor_name};

/// Longest wait for the driver to list adapters or open a device.
const DRIVER_TIMEOUT: Duration = Duration::from_secs(30);

/// Workgroup size wanted when the adapter allows it: a multiple of every
/// vendor's SIMD width (NVIDIA and Apple 32, AMD 32 or 64, Intel 8 to 32),
/// small enough to leave many workgroups for small grids.
const PREFERRED_WORKGROUP_SIZE: u32 = 64;

/// The device the GPU variant computes on, opened once per process.
pub(crate) struct Gpu {
    pub(crate) facts: AdapterFacts,
    pub(crate) device: wgpu::Device,
    pub(crate) queue: wgpu::Queue,
    /// Set when the device is lost or reports an error outside any error scope.
    fault: Arc<Mutex<Option<String>>>,
}

impl Gpu {
    /// Invocations per workgroup: the preferred size within the adapter's limits.
    pub(crate) fn workgroup_size(&self) -> u32 {
        let limits = &self.facts.limits;
        PREFERRED_WORKGROUP_SIZE
            .min(limits.max_workgroup_size_x)
            .min(limits.max_invocations_per_workgroup)
            .max(1)
    }

    /// Why the device can no longer be trusted, if it cannot.
    pub(crate) fn fault(&self) -> Option<String> {
        self.fault
            .lock()
            .map_or_else(|e| e.into_inner().clone(), |f| f.clone())
    }

    /// Marks the device as untrustworthy for `reason`, unless a reason is already known;
    /// returns the reason that stands.
    pub(crate) fn record_fault(&self, reason: String) -> String {
        let mut fault = self.fault.lock().unwrap_or_else(|e| e.into_inner());
        fault.get_or_insert(reason).clone()
    }
}

/// Every GPU adapter wgpu can reach in this process, best first.
///
/// Never panics and never waits on the driver longer than 30 s; with no
/// adapter (no driver, no Vulkan loader) it returns a [`GpuUnavailable`]
/// whose reason starts with "no GPU adapter:".
pub fn list_adapters() -> Result<Vec<AdapterFacts>, GpuUnavailable> {
    let mut facts: Vec<AdapterFacts> = adapters()?.iter().map(facts_of).collect();
    facts.sort_by_key(|f| std::cmp::Reverse(preference(f)));
    Ok(facts)
}

/// The adapter the GPU variant computes on (the best of [`list_adapters`]).
pub fn selected_adapter() -> Result<AdapterFacts, GpuUnavailable> {
    gpu().map(|gpu| gpu.facts.clone())
}

/// The process's GPU device, opened on first use; the outcome (or the reason there is none) is kept.
pub(crate) fn gpu() -> Result<&'static Gpu, GpuUnavailable> {
    static GPU: OnceLock<Result<Gpu, GpuUnavailable>> = OnceLock::new();
    GPU.get_or_init(open).as_ref().map_err(Clone::clone)
}

fn instance() -> &'static wgpu::Instance {
    static INSTANCE: OnceLock<wgpu::Instance> = OnceLock::new();
    INSTANCE.get_or_init(|| {
        let mut descriptor = wgpu::InstanceDescriptor::new_without_display_handle_from_env();
        // GL lacks f64 and reliable compute; WGPU_BACKEND still overrides the choice.
        descriptor.backends = wgpu::Backends::PRIMARY.with_env();
        wgpu::Instance::new(descriptor)
    })
}

/// Runs `work` on its own thread and waits at most `limit`: a hung or crashing driver
/// becomes an error message instead of a hang or a panic here.
pub(crate) fn with_timeout<T: Send + 'static>(
    what: &str,
    limit: Duration,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, String> {
    let (sender, receiver) = mpsc::channel();
    std::thread::Builder::new()
        .name("gpu-driver".into())
        .spawn(move || {
            // The receiver is gone only after a timeout, when nobody wants the result.
            let _ = sender.send(work());
        })
        .map_err(|e| format!("cannot start a thread to {what}: {e}"))?;
    receiver.recv_timeout(limit).map_err(|e| match e {
        RecvTimeoutError::Timeout => {
            format!("the driver did not {what} within {} s", limit.as_secs())
        }
        RecvTimeoutError::Disconnected => format!("the driver failed while trying to {what}"),
    })
}

fn no_adapter_hint() -> String {
    let mut hint = String::from(
        "install a GPU driver with Vulkan (Linux: the NVIDIA driver, or mesa-vulkan-drivers for \
         AMD/Intel, plus libvulkan1), Metal (macOS) or DX12 (Windows); for a software adapter \
         that checks correctness only: apt-get install mesa-vulkan-drivers libvulkan1",
    );
    for name in ["VK_ICD_FILENAMES", "VK_DRIVER_FILES", "WGPU_BACKEND"] {
        if let Some(value) = std::env::var_os(name) {
            hint.push_str(&format!(
                "; {name} is set to `{}`, which may hide the driver",
                value.to_string_lossy()
            ));
        }
    }
    hint
}

fn adapters() -> Result<Vec<wgpu::Adapter>, GpuUnavailable> {
    let unavailable = |reason: String| GpuUnavailable {
        reason: format!("no GPU adapter: {reason}"),
        hint: no_adapter_hint(),
    };
    let adapters = with_timeout("list its adapters", DRIVER_TIMEOUT, || {
        let instance = instance();
        pollster::block_on(instance.enumerate_adapters(wgpu::Backends::all()))
    })
    .map_err(unavailable)?;
    if adapters.is_empty() {
        return Err(unavailable(
            "wgpu found no Vulkan, Metal or DX12 device (no GPU driver installed, or no Vulkan \
             loader)"
                .into(),
        ));
    }
    Ok(adapters)
}

fn facts_of(adapter: &wgpu::Adapter) -> AdapterFacts {
    let info = adapter.get_info();
    let limits = adapter.limits();
    let device_type = match info.device_type {
        wgpu::DeviceType::DiscreteGpu => DeviceKind::Discrete,
        wgpu::DeviceType::IntegratedGpu => DeviceKind::Integrated,
        wgpu::DeviceType::VirtualGpu => DeviceKind::Virtual,
        wgpu::DeviceType::Cpu => DeviceKind::Cpu,
        wgpu::DeviceType::Other => DeviceKind::Other,
    };
    AdapterFacts {
        backend: info.backend.to_str().to_string(),
        vendor_id: info.vendor,
        vendor_name: vendor_name(info.vendor),
        device_id: info.device,
        software: is_software(device_type, &info.name, &info.driver),
        name: info.name,
        device_type,
        driver: info.driver,
        driver_info: info.driver_info,
        limits: AdapterLimits {
            max_workgroup_size_x: limits.max_compute_workgroup_size_x,
            max_invocations_per_workgroup: limits.max_compute_invocations_per_workgroup,
            max_workgroups_per_dimension: limits.max_compute_workgroups_per_dimension,
            max_storage_buffer_binding_bytes: limits.max_storage_buffer_binding_size,
            max_buffer_bytes: limits.max_buffer_size,
        },
        shader_f64: adapter.features().contains(wgpu::Features::SHADER_F64),
    }
}

/// Hardware before software, discrete before integrated, f64 as the tie-break.
fn preference(facts: &AdapterFacts) -> (bool, u8, bool) {
    let kind = match facts.device_type {
        DeviceKind::Discrete => 4,
        DeviceKind::Integrated => 3,
        DeviceKind::Virtual => 2,
        DeviceKind::Other => 1,
        DeviceKind::Cpu => 0,
    };
    (!facts.software, kind, facts.shader_f64)
}

fn open() -> Result<Gpu, GpuUnavailable> {
    let adapter = adapters()?
        .into_iter()
        .max_by_key(|adapter| preference(&facts_of(adapter)))
        .expect("adapters() never returns an empty list");
    let facts = facts_of(&adapter);
    let descriptor = wgpu::DeviceDescriptor {
        label: Some("hpc-advisor"),
        required_features: if facts.shader_f64 {
            wgpu::Features::SHADER_F64
        } else {
            wgpu::Features::empty()
        },
        // Everything the adapter offers: real GPUs allow far larger buffers than the defaults.
        required_limits: adapter.limits(),
        ..Default::default()
    };
    let cannot_open = |reason: String| GpuUnavailable {
        reason: format!(
            "the GPU adapter {} could not be opened: {reason}",
            facts.name
        ),
        hint: "update the GPU driver; `hpc-advisor detect` lists the adapters found".into(),
    };
    let (device, queue) = with_timeout("open the device", DRIVER_TIMEOUT, move || {
        pollster::block_on(adapter.request_device(&descriptor)).map_err(|e| e.to_string())
    })
    .map_err(cannot_open)?
    .map_err(cannot_open)?;
    let fault = Arc::new(Mutex::new(None));
    let on_lost = Arc::clone(&fault);
    device.set_device_lost_callback(move |reason, message| {
        if let Ok(mut fault) = on_lost.lock() {
            *fault = Some(format!("the GPU device was lost ({reason:?}): {message}"));
        }
    });
    let on_error = Arc::clone(&fault);
    device.on_uncaptured_error(Arc::new(move |error| {
        if let Ok(mut fault) = on_error.lock() {
            fault.get_or_insert_with(|| format!("the GPU reported an error: {error}"));
        }
    }));
    Ok(Gpu {
        facts,
        device,
        queue,
        fault,
    })
}
