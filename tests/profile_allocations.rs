//! The counting allocator sees what each variant allocates: per pair, per node, or only up front.
//!
//! The counters are process-wide, so this file holds a single test: nothing
//! else allocates in this test binary while a variant is measured.

use hpc_advisor::profile::memory::{AllocationCounter, AllocationStats, CountingAllocator};
use hpc_kernels::scatter::{Problem, RunSettings, registry};

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

struct Measured {
    stats: AllocationStats,
    nodes: u64,
    pairs: u64,
}

fn measure(variant: &str, cells: usize, segments: usize) -> Measured {
    let problem = Problem::builder()
        .cells(cells, cells)
        .segments(segments)
        .build()
        .unwrap();
    let variant = registry::find(variant).unwrap();
    let mut settings = RunSettings::default();
    settings.threads = Some(2);
    let counter = AllocationCounter::start();
    let output = variant.run(&problem, &settings).unwrap();
    let stats = counter.finish();
    let field = output.field.unwrap();
    Measured {
        stats,
        nodes: ((cells + 1) * (cells + 1)) as u64,
        pairs: field.outside_nodes() as u64 * segments as u64,
    }
}

fn assert_ratio(what: &str, actual: f64, expected: f64) {
    assert!(
        (actual / expected - 1.0).abs() < 0.05,
        "{what}: ratio {actual:.3}, expected {expected:.3}"
    );
}

#[test]
fn allocation_counts_follow_each_variants_structure() {
    // Doubling the segments doubles the pairs and leaves the nodes alone.
    let (cells, few, many) = (24, 16, 32);

    // naive: up to four little vectors per pair (the optimiser may keep some
    // on the stack), one per node.
    let small = measure("naive", cells, few);
    let large = measure("naive", cells, many);
    for m in [&small, &large] {
        assert!(
            m.stats.allocations >= m.pairs && m.stats.allocations <= 4 * m.pairs + m.nodes + 64,
            "naive: {} allocations for {} pairs and {} nodes",
            m.stats.allocations,
            m.pairs,
            m.nodes
        );
    }
    assert_ratio(
        "naive allocations, per pair",
        large.stats.allocations as f64 / small.stats.allocations as f64,
        large.pairs as f64 / small.pairs as f64,
    );

    // vectorised: a fixed number of temporary arrays per node, each as long as the segments.
    let small = measure("vectorised", cells, few);
    let large = measure("vectorised", cells, many);
    // (the inside set shifts a little with the polygon, hence a ratio, not equality)
    assert_ratio(
        "vectorised allocations, per node not per pair",
        large.stats.allocations as f64 / small.stats.allocations as f64,
        1.0,
    );
    assert!(small.stats.allocations > 10 * small.nodes);
    assert_ratio(
        "vectorised bytes",
        large.stats.allocated_bytes as f64 / small.stats.allocated_bytes as f64,
        large.pairs as f64 / small.pairs as f64,
    );

    // fused: the field and the segment table up front, nothing in the loop.
    let small = measure("fused", cells, few);
    let large = measure("fused", 2 * cells, many);
    // (eight times the pairs; a few more vector growths while building the larger scene)
    for m in [&small, &large] {
        assert!(
            m.stats.allocations <= 64,
            "fused: {} allocations for {} pairs",
            m.stats.allocations,
            m.pairs
        );
    }
    let field_bytes = 2 * large.nodes * 8;
    assert!(
        large.stats.peak_live_bytes >= field_bytes,
        "the field ({field_bytes} bytes) is live at the peak: {:?}",
        large.stats
    );

    // threads+fused: the pool and its scheduling add at most O(rows).
    let threaded = measure("threads+fused", 2 * cells, many);
    let rows = 2 * cells as u64 + 1;
    assert!(
        threaded.stats.allocations <= rows + 256,
        "threads+fused: {} allocations for {rows} rows",
        threaded.stats.allocations
    );
}
