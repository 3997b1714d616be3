//! Where the GPU starts to beat the fastest CPU variant on this machine, with the GPU's
//! upload/compute/download breakdown at each size.
//!
//! `cargo run --release -p hpc-kernels --features gpu --example gpu_crossover -- [--f32] [--cpu NAME] [N ...]`
//! measures `N x N` cells with `N` segments for each `N` (default 16 32 64 96 128)
//! against `NAME`, or else the fastest available CPU variant at 64^3.

use std::error::Error;

use hpc_kernels::gpu;
use hpc_kernels::scatter::variants::gpu::{crossover, fastest_cpu_variant};
use hpc_kernels::scatter::{Problem, RunSettings, registry};

fn main() -> Result<(), Box<dyn Error>> {
    // SAFETY: first statement of `main`, before any thread exists.
    unsafe { gpu::quiet_driver_environment() };
    let mut settings = RunSettings::default();
    let mut sizes = Vec::new();
    let mut cpu_name = None;
    let mut arguments = std::env::args().skip(1);
    while let Some(argument) = arguments.next() {
        match argument.as_str() {
            "--f32" => settings.force_f32 = true,
            "--cpu" => cpu_name = Some(arguments.next().ok_or("--cpu needs a variant name")?),
            size => sizes.push(
                size.parse::<usize>()
                    .map_err(|e| format!("`{size}`: {e}"))?,
            ),
        }
    }
    if sizes.is_empty() {
        sizes = vec![16, 32, 64, 96, 128];
    }
    for adapter in gpu::list_adapters()? {
        println!("adapter   {}", adapter.summary());
    }
    let cpu = match cpu_name {
        Some(name) => registry::find(&name).ok_or(format!("unknown variant `{name}`"))?,
        None => {
            let probe = Problem::builder().cells(64, 64).segments(64).build()?;
            fastest_cpu_variant(&probe, 2, &settings)?
        }
    };
    let result = crossover(cpu, &sizes, 3, &settings)?;
    println!("compared  gpu against `{}`", result.cpu_variant);
    for note in &result.gpu_notes {
        println!("gpu note  {note}");
    }
    println!(
        "{:>5} {:>10} {:>10} {:>10} {:>8}  gpu phases",
        "n", "pairs", "cpu ms", "gpu ms", "speedup"
    );
    for sample in &result.samples {
        let phases: Vec<String> = sample
            .gpu_phases
            .iter()
            .map(|p| format!("{} {:.2}", p.name, p.duration.as_secs_f64() * 1e3))
            .collect();
        println!(
            "{:>5} {:>10} {:>10.2} {:>10.2} {:>8.2}  {}",
            sample.cells,
            sample.pairs,
            sample.cpu_seconds * 1e3,
            sample.gpu_seconds * 1e3,
            sample.speedup(),
            phases.join(", ")
        );
    }
    match result.gpu_loses_below_pairs {
        Some(0) => println!("crossover the GPU won at every size measured"),
        Some(pairs) => println!("crossover the GPU loses below about {pairs} pairs"),
        None => println!("crossover the GPU lost at every size measured"),
    }
    Ok(())
}
