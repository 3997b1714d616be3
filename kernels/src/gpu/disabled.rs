//! The GPU API of a build without the `gpu` feature: every answer says how to enable it.

use super::{AdapterFacts, GpuUnavailable};

fn not_built() -> GpuUnavailable {
    GpuUnavailable {
        reason: "GPU support is not built in (the `gpu` cargo feature is off)".into(),
        hint: "rebuild with `cargo build --release --features gpu` (it needs only the Rust \
               toolchain; running needs a Vulkan, Metal or DX12 driver)"
            .into(),
    }
}

/// Every GPU adapter this build can reach: none without the `gpu` feature.
pub fn list_adapters() -> Result<Vec<AdapterFacts>, GpuUnavailable> {
    Err(not_built())
}

/// The adapter the GPU variant would compute on: none without the `gpu` feature.
pub fn selected_adapter() -> Result<AdapterFacts, GpuUnavailable> {
    Err(not_built())
}
