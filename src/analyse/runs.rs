//! The report's records of the launched MPI job and of the GPU crossover, from what those runs returned.

use hpc_kernels::gpu::AdapterFacts;
use hpc_kernels::scatter::Agreement;
use hpc_kernels::scatter::variants::gpu::{Crossover, Precision};

use crate::bench::runner::AgreementRecord;
use crate::distributed::MpiJobResult;
use crate::fact::Fact;
use crate::report::{GpuRun, MpiRun, NodeThroughput};
use hpc_kernels::scatter::variants::mpi::RankTiming;

/// The MPI job's record, its checksum compared with naive's on the same problem.
pub fn mpi_run(result: &MpiJobResult, naive_checksum: f64, pairs: u64) -> MpiRun {
    let compute_seconds = result.compute.as_secs_f64();
    let difference = relative_difference(result.checksum, naive_checksum);
    let pairs_per_second = pairs as f64 / compute_seconds.max(f64::MIN_POSITIVE);
    let nodes = node_throughputs(&result.rank_timings);
    MpiRun {
        command: result
            .command
            .split_whitespace()
            .map(str::to_string)
            .collect(),
        ranks: result.ranks,
        threads_per_rank: result.threads_per_rank,
        whole_seconds: result.whole.as_secs_f64(),
        init_seconds: result.init.as_secs_f64(),
        compute_seconds,
        launch_seconds: result.launch_cost().as_secs_f64(),
        pairs_per_second,
        parallel_efficiency: if nodes.is_empty() {
            Fact::unknown("rank 0 reported no per-rank timings")
        } else {
            Fact::Known(pairs_per_second / nodes.iter().map(|n| n.pairs_per_second).sum::<f64>())
        },
        nodes,
        gather_seconds: result.gather.as_secs_f64(),
        imbalance_seconds: imbalance(&result.rank_timings),
        checksum: result.checksum,
        checksum_relative_difference: difference,
        agrees: difference <= Agreement::LADDER_CHECKSUM_TOLERANCE,
    }
}

/// Per node, in order of first appearance: its ranks, pairs, and the sum of their throughputs.
fn node_throughputs(timings: &[RankTiming]) -> Vec<NodeThroughput> {
    let mut nodes: Vec<NodeThroughput> = Vec::new();
    for timing in timings {
        let throughput = timing.pairs as f64 / timing.compute.as_secs_f64().max(f64::MIN_POSITIVE);
        match nodes.iter_mut().find(|n| n.node == timing.node) {
            Some(node) => {
                node.ranks += 1;
                node.pairs += timing.pairs;
                node.pairs_per_second += throughput;
            }
            None => nodes.push(NodeThroughput {
                node: timing.node.clone(),
                ranks: 1,
                pairs: timing.pairs,
                pairs_per_second: throughput,
            }),
        }
    }
    nodes
}

/// The slowest rank's compute minus the mean, in seconds (0 without timings).
fn imbalance(timings: &[RankTiming]) -> f64 {
    let seconds: Vec<f64> = timings.iter().map(|t| t.compute.as_secs_f64()).collect();
    if seconds.is_empty() {
        return 0.0;
    }
    let mean = seconds.iter().sum::<f64>() / seconds.len() as f64;
    seconds.iter().copied().fold(f64::MIN, f64::max) - mean
}

fn relative_difference(value: f64, reference: f64) -> f64 {
    if value == reference {
        0.0
    } else {
        (value - reference).abs() / reference.abs().max(f64::MIN_POSITIVE)
    }
}

/// The GPU stage's record: the adapter, the largest measured size's phases, the ladder's
/// agreement check of the gpu variant against naive, and the crossover.
pub fn gpu_run(
    adapter: &AdapterFacts,
    crossover: &Crossover,
    agreement: &AgreementRecord,
) -> GpuRun {
    let precision = match Precision::from_notes(&crossover.gpu_notes) {
        Some(Precision::F64) => "f64",
        Some(Precision::F32Compensated) => "f32 with compensated summation",
        None if adapter.shader_f64 => "f64",
        None => "f32 with compensated summation",
    };
    let largest = crossover.samples.iter().max_by_key(|s| s.pairs);
    GpuRun {
        adapter: adapter.summary(),
        software: adapter.software,
        precision: precision.to_string(),
        phases: largest.map_or_else(Vec::new, |sample| {
            sample
                .gpu_phases
                .iter()
                .map(|phase| (phase.name.to_string(), phase.duration.as_secs_f64()))
                .collect()
        }),
        checksum_relative_difference: agreement.checksum_relative_difference,
        agrees: agreement.within_tolerance,
        crossover_pairs: match crossover.gpu_loses_below_pairs {
            Some(pairs) => Fact::Known(pairs),
            None => Fact::unknown(format!(
                "the GPU lost to {} at every size measured (up to {} pairs)",
                crossover.cpu_variant,
                largest.map_or(0, |s| s.pairs)
            )),
        },
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::time::Duration;

    use hpc_kernels::gpu::{AdapterLimits, DeviceKind};
    use hpc_kernels::scatter::Phase;
    use hpc_kernels::scatter::variants::gpu::CrossoverSample;

    use super::*;

    #[test]
    fn the_mpi_record_separates_launch_from_compute_and_checks_the_checksum() {
        let result = MpiJobResult {
            command: "mpirun -n 2 hpc-advisor kernel run --variant mpi".into(),
            ranks: 2,
            threads_per_rank: 1,
            whole: Duration::from_millis(900),
            init: Duration::from_millis(100),
            compute: Duration::from_millis(300),
            gather: Duration::from_millis(20),
            rank_timings: Vec::new(),
            checksum: 1234.5,
        };
        let run = mpi_run(&result, 1234.5, 3_000_000);
        assert!(run.nodes.is_empty() && matches!(run.parallel_efficiency, Fact::Unknown(_)));
        assert_eq!(run.command[..3], ["mpirun", "-n", "2"]);
        assert!((run.launch_seconds - 0.6).abs() < 1e-9);
        assert!((run.pairs_per_second - 1e7).abs() < 1.0);
        assert!(run.agrees);
        let wrong = mpi_run(&result, 1000.0, 3_000_000);
        assert!(!wrong.agrees);
        assert!((wrong.checksum_relative_difference - 0.2345).abs() < 1e-9);
    }

    #[test]
    fn ranks_add_up_per_node_and_the_slowest_sets_the_imbalance() {
        let rank = |rank: usize, node: &str, millis: u64| RankTiming {
            rank,
            node: node.into(),
            pairs: 1_000_000,
            compute: Duration::from_millis(millis),
        };
        let timings = [
            rank(0, "a", 100),
            rank(1, "b", 100),
            rank(2, "a", 100),
            rank(3, "b", 200),
        ];
        let nodes = node_throughputs(&timings);
        assert_eq!(nodes.len(), 2);
        assert_eq!(
            (nodes[0].node.as_str(), nodes[0].ranks, nodes[0].pairs),
            ("a", 2, 2_000_000)
        );
        assert!((nodes[0].pairs_per_second - 2e7).abs() < 1.0);
        assert!((nodes[1].pairs_per_second - 1.5e7).abs() < 1.0);
        // mean 125 ms, slowest 200 ms
        assert!((imbalance(&timings) - 0.075).abs() < 1e-9);
        let result = MpiJobResult {
            command: "srun hpc-advisor kernel run --variant mpi".into(),
            ranks: 4,
            threads_per_rank: 1,
            whole: Duration::from_millis(900),
            init: Duration::from_millis(100),
            compute: Duration::from_millis(250),
            gather: Duration::from_millis(50),
            rank_timings: timings.to_vec(),
            checksum: 1.0,
        };
        let run = mpi_run(&result, 1.0, 4_000_000);
        // 4e6 pairs in 0.25 s = 1.6e7 pairs/s against 3.5e7 the ranks reach on their own
        let Fact::Known(efficiency) = run.parallel_efficiency else {
            panic!("timings were given");
        };
        assert!((efficiency - 1.6e7 / 3.5e7).abs() < 1e-9, "{efficiency}");
        assert!((run.gather_seconds - 0.05).abs() < 1e-12);
    }

    pub(crate) fn lavapipe() -> AdapterFacts {
        AdapterFacts {
            backend: "vulkan".into(),
            vendor_id: 0x10005,
            vendor_name: "Mesa".into(),
            device_id: 0,
            name: "llvmpipe (LLVM 15.0.6, 256 bits)".into(),
            device_type: DeviceKind::Cpu,
            driver: "llvmpipe".into(),
            driver_info: "Mesa 22.3.6".into(),
            limits: AdapterLimits {
                max_workgroup_size_x: 256,
                max_invocations_per_workgroup: 256,
                max_workgroups_per_dimension: 65535,
                max_storage_buffer_binding_bytes: 1 << 27,
                max_buffer_bytes: 1 << 28,
            },
            shader_f64: true,
            software: true,
        }
    }

    #[test]
    fn the_gpu_record_keeps_the_software_flag_and_an_unknown_crossover_when_it_never_won() {
        let sample = |cells: usize, pairs: u64| CrossoverSample {
            cells,
            pairs,
            cpu_seconds: 0.001,
            gpu_seconds: 0.01,
            gpu_phases: vec![Phase {
                name: "compute",
                duration: Duration::from_millis(8),
            }],
        };
        let crossover = Crossover {
            cpu_variant: "threads+simd",
            gpu_notes: vec![Precision::F64.note().to_string()],
            samples: vec![sample(16, 4_000), sample(32, 30_000)],
            gpu_loses_below_pairs: None,
        };
        let agreement = AgreementRecord {
            max_relative_difference: 1e-12,
            checksum_relative_difference: 1e-13,
            within_tolerance: true,
        };
        let run = gpu_run(&lavapipe(), &crossover, &agreement);
        assert!(run.software && run.agrees);
        assert_eq!(run.precision, "f64");
        assert_eq!(run.phases, vec![("compute".to_string(), 0.008)]);
        assert_eq!(
            run.crossover_pairs,
            Fact::unknown(
                "the GPU lost to threads+simd at every size measured (up to 30000 pairs)"
            )
        );
        let winning = Crossover {
            gpu_loses_below_pairs: Some(12_000),
            ..crossover
        };
        assert_eq!(
            gpu_run(&lavapipe(), &winning, &agreement).crossover_pairs,
            Fact::Known(12_000)
        );
    }
}
