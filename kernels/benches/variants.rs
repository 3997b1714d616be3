//! Criterion benches of every available variant in the registry, in pair evaluations per second.
//!
//! `cargo bench -p hpc-kernels --bench variants` runs each variant on a small
//! problem (32 x 32 cells, 32 segments) and on the default one (128 x 128,
//! 128); add a filter such as `-- default/simd` to run a subset. Threaded
//! variants use every usable core. A new variant is benchmarked as soon as it
//! is registered. The `simd-division` group times the SIMD kernel at the
//! default size in both formulations of its divisions, whichever the
//! process's plan would pick (`-- simd-division`).

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use hpc_kernels::scatter::variants::rows::run_serial;
use hpc_kernels::scatter::variants::simd::SimdRows;
use hpc_kernels::scatter::variants::simd::division::Formulation;
use hpc_kernels::scatter::variants::simd::isa::Isa;
use hpc_kernels::scatter::{Availability, Problem, RunSettings, Scene, registry};

fn variants(c: &mut Criterion) {
    let sizes = [("small", 32), ("default", 128)];
    let settings = RunSettings::default();
    for (label, cells) in sizes {
        let problem = Problem::builder()
            .cells(cells, cells)
            .segments(cells)
            .build()
            .expect("the bench problems are valid");
        let pairs = pair_count(&problem, &settings);
        let mut group = c.benchmark_group(label);
        group.throughput(Throughput::Elements(pairs));
        // The slowest rungs take a second per run at the default size: keep the sample small.
        group.sample_size(10);
        group.warm_up_time(Duration::from_millis(500));
        for variant in registry::all() {
            if variant.availability() != Availability::Available {
                continue;
            }
            group.bench_function(BenchmarkId::from_parameter(variant.name()), |b| {
                b.iter(|| {
                    variant
                        .run(black_box(&problem), &settings)
                        .expect("an available variant runs")
                })
            });
        }
        group.finish();
    }
}

/// The serial SIMD kernel on the detected level, hardware division against divide-free.
fn simd_divisions(c: &mut Criterion) {
    let problem = Problem::default();
    let settings = RunSettings::default();
    let scene = Scene::new(&problem);
    let mut group = c.benchmark_group("simd-division");
    group.throughput(Throughput::Elements(pair_count(&problem, &settings)));
    for formulation in Formulation::ALL {
        let kernel = SimdRows::on(Isa::detect(), formulation);
        group.bench_function(BenchmarkId::from_parameter(formulation.key()), |b| {
            b.iter(|| run_serial(&kernel, black_box(&scene)))
        });
    }
    group.finish();
}

/// Pair evaluations of `problem`: outside nodes times segments, from one reference run.
fn pair_count(problem: &Problem, settings: &RunSettings) -> u64 {
    let field = registry::reference()
        .run(problem, settings)
        .expect("the reference runs")
        .field
        .expect("the reference returns the field");
    field.outside_nodes() as u64 * problem.nc() as u64
}

criterion_group!(benches, variants, simd_divisions);
criterion_main!(benches);
