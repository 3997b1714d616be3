//! The decision tree of docs/decision-tree.md, as data: nodes, questions, facts read, branches, advice, sources.
//!
//! Distilled from the training material's seed documents (`000` to `004`, cited by file
//! name, paraphrased). Each node asks one question; its branches are tried in
//! order and the first whose condition holds gives the answer, the actions
//! and, optionally, a follow-up node. The walk ([`super::walk`]) visits the
//! roots in order; the documentation ([`super::document`]) prints this data.

use serde::{Deserialize, Serialize};

use super::condition::{Condition, Op, Threshold};
use super::named::FactId as F;
use crate::profile::external::CPU_BOUND_FROM_CORES;

/// The whole tree: root nodes visited in order, and every node by id.
pub struct Tree {
    pub roots: &'static [&'static str],
    pub nodes: &'static [Node],
}

pub struct Node {
    pub id: &'static str,
    pub title: &'static str,
    pub question: &'static str,
    /// Facts shown as evidence (every fact a condition reads is among them).
    pub reads: &'static [F],
    pub branches: &'static [Branch],
    pub sources: &'static [Source],
}

pub struct Branch {
    pub id: &'static str,
    pub when: Condition,
    /// Why the condition and its threshold are what they are.
    pub why: &'static str,
    /// The answer, with `{fact.name}` placeholders filled from the evidence.
    pub answer: &'static str,
    pub actions: &'static [&'static ActionTemplate],
    /// The node asked next, if any.
    pub then: Option<&'static str>,
}

/// A seed document a node rests on, and what it says there, paraphrased.
pub struct Source {
    pub seed: &'static str,
    pub says: &'static str,
}

/// Something to do, with its cost and the words for it in each language.
pub struct ActionTemplate {
    pub id: &'static str,
    pub title: &'static str,
    /// A short noun for lists in sentences: "the GPU", "a process pool".
    pub name: &'static str,
    /// The action as a verb phrase inside a sentence: "use the cores with threads".
    pub phrase: &'static str,
    /// Where it goes in the plan: prerequisites first, then vectors, cores, GPU, nodes.
    pub level: Level,
    pub gain: GainRule,
    pub cost: &'static str,
    pub rust_c: &'static str,
    pub python: &'static str,
}

/// Where an action's expected gain is measured.
pub enum GainRule {
    /// Measured in this run as what the step adds on top of the plan's earlier steps.
    Marginal(Marginal),
    /// The gain cannot be measured by this tool, and why.
    NotMeasurable(&'static str),
}

/// Which two measurements of the ladder give a step's own gain ([`super::plan`] applies them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marginal {
    /// The fastest passing one-core loop without explicit SIMD over naive.
    CompiledLoop,
    /// The fastest passing one-core SIMD variant over the plan's loop so far.
    ExplicitSimd,
    /// The threaded variant of the plan's kernel over that kernel on one core.
    Threads,
    /// The worker-process variant over its own kernel on one core.
    Processes,
    /// The GPU variant, transfers included, over the fastest passing CPU variant.
    Gpu,
    /// The fastest passing MPI variant over the fastest passing single-node variant.
    Mpi,
}

impl Marginal {
    /// The rule in words, for docs/decision-tree.md.
    pub fn describe(self) -> &'static str {
        match self {
            Marginal::CompiledLoop => {
                "the fastest passing one-core variant without explicit SIMD, over naive"
            }
            Marginal::ExplicitSimd => {
                "the fastest passing one-core SIMD variant, over the plan's loop so far (the best scalar loop)"
            }
            Marginal::Threads => {
                "the threaded variant of the plan's kernel over the same kernel on one core (threads+simd over simd); capped at the usable cores"
            }
            Marginal::Processes => {
                "the worker-process variant over its own kernel on one core; capped at the usable cores times the measured efficiency, and at the work items"
            }
            Marginal::Gpu => {
                "the GPU variant with its transfers, over the fastest passing CPU variant"
            }
            Marginal::Mpi => {
                "the fastest passing MPI variant over the fastest passing single-node variant; capped at the nodes allocated"
            }
        }
    }
}

/// The plan's levels, in the order the tree puts them.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Timings that do not repeat: fix the measurement first.
    Measurement,
    /// Cost growing faster than the algorithm's order.
    Algorithm,
    /// A program waiting on input and output.
    Io,
    /// One core: a compiled, vectorised loop.
    Vector,
    /// One core: explicit SIMD on top of the compiled loop.
    ExplicitSimd,
    /// Several cores of one node.
    Cores,
    /// A GPU.
    Gpu,
    /// Several nodes.
    Nodes,
}

impl Tree {
    pub fn node(&self, id: &str) -> Option<&Node> {
        self.nodes.iter().find(|node| node.id == id)
    }
}

/// The seed documents, by file name.
pub const SEED_LADDER: &str = "000_68a0adc9494b8a62.txt";
pub const SEED_SUMMARY: &str = "001_e3dea7aff8a1c66b.txt";
pub const SEED_TALKS: &str = "002_8f2ee95847586820.txt";
pub const SEED_SLIDES: &str = "003_f54603d81766d23a.txt";
pub const SEED_SPEEDING_UP: &str = "004_5daa2ffd8ef73a0f.txt";

/// Repeated runs spreading by more than this (5 %) make small differences noise.
pub const STABLE_SPREAD: f64 = 0.05;
/// Measured growth may exceed the algorithm's exponent by this much before it is a smell.
pub const GROWTH_TOLERANCE: f64 = 0.25;
/// One function holding at least half the samples is worth optimising on its own.
pub const DOMINANT_SHARE: f64 = 0.5;
/// Allocating at least a byte per pair evaluation means temporaries inside the hot loop.
pub const ALLOCATION_PER_PAIR: f64 = 1.0;
/// The smallest measured speedup worth a code change (1.5x).
pub const WORTHWHILE_GAIN: f64 = 1.5;
/// Parallel efficiency at or above 70 % counts as using the cores well.
pub const EFFICIENT: f64 = 0.7;
/// A serial fraction of 10 % or more caps the speedup at 10x whatever the cores.
pub const SERIAL_LIMIT: f64 = 0.1;
/// Reaching half the per-core FMA peak counts as close to the ceiling.
pub const NEAR_PEAK: f64 = 0.5;

const MPI_LAUNCHES: Condition = Condition::flag(F::MpiCanLaunch, true);
const SEVERAL_NODES: Condition = Condition::compare(F::AllocatedNodes, Op::AtLeast, 2.0);
const MPI_BEATS_THREADS: Condition = Condition::Compare {
    fact: F::MpiSpeedup,
    op: Op::AtLeast,
    threshold: Threshold::Fact {
        fact: F::BestThreadedSpeedup,
        times: WORTHWHILE_GAIN,
        plus: 0.0,
    },
};

static VECTORISE: ActionTemplate = ActionTemplate {
    id: "vectorise",
    title: "Compile and vectorise the hot loop",
    name: "a compiled loop",
    phrase: "compile and vectorise the hot loop",
    level: Level::Vector,
    gain: GainRule::Marginal(Marginal::CompiledLoop),
    cost: "a rewrite of the hot loop; whole-array code needs temporaries as large as the data, a compiled loop needs none",
    rust_c: "structure-of-arrays data, per-segment constants hoisted, loops the compiler can vectorise (no allocation inside them)",
    python: "NumPy whole-array operations instead of Python loops; where that is awkward, compile the loop with Numba (@njit)",
};

static EXPLICIT_SIMD: ActionTemplate = ActionTemplate {
    id: "explicit_simd",
    title: "Write the hot loop with explicit SIMD",
    name: "explicit SIMD",
    phrase: "write it with explicit SIMD",
    level: Level::ExplicitSimd,
    gain: GainRule::Marginal(Marginal::ExplicitSimd),
    cost: "a second code path per instruction set, with runtime dispatch and a scalar fallback; the special functions rewritten branch-free",
    rust_c: "std::arch intrinsics or a portable SIMD crate (pulp, wide) with runtime feature detection; C/C++: intrinsics or `#pragma omp simd`",
    python: "Numba (@njit(fastmath=True)) vectorises simple loops; beyond that, a compiled extension (Rust with PyO3, C++ with pybind11) for the hot loop",
};

static THREADS: ActionTemplate = ActionTemplate {
    id: "threads",
    title: "Run the work items on a pool of threads",
    name: "threads",
    phrase: "use the cores with threads",
    level: Level::Cores,
    gain: GainRule::Marginal(Marginal::Threads),
    cost: "a parallel loop over independent items; per-thread buffers for private results",
    rust_c: "rayon (par_iter over the items, with_min_len to batch small ones); C/C++: OpenMP `parallel for schedule(static)`",
    python: "Numba @njit(parallel=True) with prange, or a process pool (multiprocessing, Pathos) over chunks of items, since the GIL serialises Python threads",
};

static PROCESS_POOL: ActionTemplate = ActionTemplate {
    id: "process_pool",
    title: "Run the work items on a pool of worker processes",
    name: "a process pool",
    phrase: "use the cores with a pool of worker processes",
    level: Level::Cores,
    gain: GainRule::Marginal(Marginal::Processes),
    cost: "items and results are sent between processes; memory grows with the number of workers",
    rust_c: "worker processes fed over pipes (std::process), or MPI ranks on one node",
    python: "multiprocessing.Pool, concurrent.futures.ProcessPoolExecutor or Pathos",
};

static INDEPENDENT_RUNS: ActionTemplate = ActionTemplate {
    id: "independent_runs",
    title: "Run independent copies of the program",
    name: "independent runs",
    phrase: "run independent copies of the program",
    level: Level::Cores,
    gain: GainRule::Marginal(Marginal::Processes),
    cost: "no code change: split the input into files; memory grows with the number of copies",
    rust_c: "GNU Parallel (`parallel -j CORES ./prog ::: inputs/*`), or a Slurm job array",
    python: "GNU Parallel over input files, or a Slurm job array; no change to the script",
};

static REQUEST_CORES: ActionTemplate = ActionTemplate {
    id: "request_cores",
    title: "Get more cores before parallelising",
    name: "more cores",
    phrase: "get more cores",
    level: Level::Cores,
    gain: GainRule::NotMeasurable(
        "what more cores give cannot be measured inside a one-core allocation",
    ),
    cost: "no code change: ask for more cores (`docker run --cpus`, Slurm `--cpus-per-task`)",
    rust_c: "then rayon or OpenMP over the work items",
    python: "then a process pool (multiprocessing, Pathos) or Numba's parallel loops",
};

static PARTITION_DATA: ActionTemplate = ActionTemplate {
    id: "partition_data",
    title: "Parallelise inside the dominant data structures",
    name: "partitioning the data",
    phrase: "parallelise inside the dominant data structures",
    level: Level::Cores,
    gain: GainRule::NotMeasurable(
        "depends on your data structures, which the ladder does not model",
    ),
    cost: "finding the data structures that dominate, then splitting them or their operations",
    rust_c: "threaded libraries (BLAS, FFTW), rayon over chunks of the data",
    python: "NumPy/SciPy calls that use threaded BLAS; Dask arrays or dataframes to partition large data",
};

static GPU: ActionTemplate = ActionTemplate {
    id: "gpu",
    title: "Offload the kernel to the GPU",
    name: "the GPU",
    phrase: "offload the kernel to the GPU",
    level: Level::Gpu,
    gain: GainRule::Marginal(Marginal::Gpu),
    cost: "a GPU kernel and host-device transfers; the data must fit in device memory",
    rust_c: "a library if one fits (cuBLAS, cuFFT); otherwise a compute shader (wgpu) or a CUDA/HIP kernel",
    python: "CuPy arrays or PyTorch tensors if the problem maps to them; otherwise Numba @cuda.jit",
};

static MPI: ActionTemplate = ActionTemplate {
    id: "mpi",
    title: "Scale out across nodes with MPI",
    name: "MPI",
    phrase: "scale out across nodes with MPI",
    level: Level::Nodes,
    gain: GainRule::Marginal(Marginal::Mpi),
    cost: "splitting the work across ranks and gathering the results; one copy of the shared data per rank",
    rust_c: "MPI (the rsmpi crate, or MPI in C) launched with the launcher found",
    python: "mpi4py; or Dask distributed, or GNU Parallel with --sshlogin for independent runs",
};

static FIX_MEASUREMENT: ActionTemplate = ActionTemplate {
    id: "fix_measurement",
    title: "Get timings that repeat before comparing anything",
    name: "a cleaner measurement",
    phrase: "get timings that repeat",
    level: Level::Measurement,
    gain: GainRule::NotMeasurable(
        "a clean measurement gains no speed; it makes every other gain believable",
    ),
    cost: "a quiet machine (an exclusive node, no other jobs), a fixed clock, more repeats",
    rust_c: "criterion or hyperfine with warm-up and many repeats; pin the process (taskset) and compare medians with intervals",
    python: "timeit or pyperf with repeats and warm-up; pin the process; compare medians, not one run",
};

static FIX_ALGORITHM: ActionTemplate = ActionTemplate {
    id: "fix_algorithm",
    title: "Fix the algorithm before the hardware",
    name: "an algorithm fix",
    phrase: "fix the algorithm",
    level: Level::Algorithm,
    gain: GainRule::NotMeasurable(
        "grows with the problem size: the larger the problem, the larger the gain",
    ),
    cost: "finding the part whose cost grows faster than it should (a search inside a loop, repeated copies)",
    rust_c: "hash maps or sorted data instead of linear searches; reuse instead of recompute",
    python: "dicts and sets instead of list searches; NumPy instead of growing lists",
};

static OVERLAP_IO: ActionTemplate = ActionTemplate {
    id: "overlap_io",
    title: "Overlap or reduce the input and output",
    name: "overlapping the I/O",
    phrase: "overlap or reduce the input and output",
    level: Level::Io,
    gain: GainRule::NotMeasurable("set by the storage, which this tool does not benchmark"),
    cost: "restructuring reads and writes; buffers for data in flight",
    rust_c: "buffered and asynchronous I/O (tokio, a reader thread), fewer and larger reads",
    python: "asyncio or a thread pool for I/O (threads help here despite the GIL); binary formats (HDF5, Parquet)",
};

pub static TREE: Tree = Tree {
    roots: &[
        "profile.stability",
        "profile.algorithm",
        "profile.hotspot",
        "profile.memory",
        "profile.program",
        "vector.single_core",
        "cores.usable",
        "gpu.present",
        "nodes.saturated",
        "beyond.ceiling",
    ],
    nodes: &[
        Node {
            id: "profile.stability",
            title: "Consistent timing",
            question: "Do repeated runs take the same time?",
            reads: &[F::RunSpread],
            branches: &[
                Branch {
                    id: "stable",
                    when: Condition::compare(F::RunSpread, Op::AtMost, STABLE_SPREAD),
                    why: "a spread of a few percent (5 %) is small against the smallest gain worth acting on (1.5x)",
                    answer: "yes: repeated runs spread by {bench.run_spread}",
                    actions: &[],
                    then: None,
                },
                Branch {
                    id: "noisy",
                    when: Condition::Always,
                    why: "beyond 5 %, differences between variants of that size are indistinguishable from noise",
                    answer: "no: repeated runs spread by {bench.run_spread}; gains smaller than that are noise, re-run on a quiet machine before trusting them",
                    actions: &[&FIX_MEASUREMENT],
                    then: None,
                },
            ],
            sources: &[Source {
                seed: SEED_SUMMARY,
                says: "before optimising, make sure the program runs in a consistent time, or improvements cannot be told from chance",
            }],
        },
        Node {
            id: "profile.algorithm",
            title: "Algorithm before hardware",
            question: "Does the cost grow with the problem size as the algorithm says it should?",
            reads: &[F::GrowthExponent, F::GrowthExpected],
            branches: &[
                Branch {
                    id: "as_expected",
                    when: Condition::Compare {
                        fact: F::GrowthExponent,
                        op: Op::AtMost,
                        threshold: Threshold::Fact {
                            fact: F::GrowthExpected,
                            times: 1.0,
                            plus: GROWTH_TOLERANCE,
                        },
                    },
                    why: "a fit over three sizes on a shared machine scatters by about a tenth; a quarter power more than expected is beyond that",
                    answer: "yes: time grows as size^{bench.growth_exponent}, the algorithm's order is {problem.expected_growth_exponent}",
                    actions: &[],
                    then: None,
                },
                Branch {
                    id: "too_steep",
                    when: Condition::Always,
                    why: "cost growing faster than the algorithm's order is the accidentally-quadratic smell",
                    answer: "no: time grows as size^{bench.growth_exponent}, steeper than the algorithm's {problem.expected_growth_exponent}: something is accidentally quadratic",
                    actions: &[&FIX_ALGORITHM],
                    then: None,
                },
            ],
            sources: &[
                Source {
                    seed: SEED_SPEEDING_UP,
                    says: "when the algorithm is slow, rethink it and check that it is not accidentally quadratic before anything else",
                },
                Source {
                    seed: SEED_SUMMARY,
                    says: "time a test case long enough that start-up does not dominate and short enough to iterate on",
                },
            ],
        },
        Node {
            id: "profile.hotspot",
            title: "Where the time goes",
            question: "Does one function hold most of the time?",
            reads: &[F::HottestShare, F::PerfPermitted],
            branches: &[
                Branch {
                    id: "concentrated",
                    when: Condition::compare(F::HottestShare, Op::AtLeast, DOMINANT_SHARE),
                    why: "by Amdahl's law, speeding up a function holding half the time can at most double the whole; below half, no single function can carry a large gain",
                    answer: "yes: the hottest function holds {profile.hottest_share} of the samples: optimise it first",
                    actions: &[],
                    then: None,
                },
                Branch {
                    id: "spread",
                    when: Condition::Always,
                    why: "no function holds half the samples",
                    answer: "no: the hottest function holds only {profile.hottest_share}; the time is spread, so look at the structure, not one loop",
                    actions: &[],
                    then: None,
                },
            ],
            sources: &[
                Source {
                    seed: SEED_SUMMARY,
                    says: "profile, and target the functions that take most of the run time",
                },
                Source {
                    seed: SEED_SPEEDING_UP,
                    says: "profile first, to make informed choices about what to optimise",
                },
                Source {
                    seed: SEED_SLIDES,
                    says: "tackle performance bottlenecks only after a testing harness is in place",
                },
            ],
        },
        Node {
            id: "profile.memory",
            title: "Memory",
            question: "Does the hot loop allocate memory?",
            reads: &[F::AllocatedPerPair, F::PeakHeap],
            branches: &[
                Branch {
                    id: "allocates",
                    when: Condition::compare(F::AllocatedPerPair, Op::AtLeast, ALLOCATION_PER_PAIR),
                    why: "a loop that keeps its working data in registers allocates nothing per pair; a steady byte or more per pair means temporaries inside it",
                    answer: "yes: {profile.allocated_per_pair} allocated (peak heap {profile.peak_heap}): temporary arrays inside the hot loop; fused loops avoid them",
                    actions: &[],
                    then: None,
                },
                Branch {
                    id: "lean",
                    when: Condition::Always,
                    why: "under a byte per pair is set-up, not the loop",
                    answer: "no: {profile.allocated_per_pair} allocated, peak heap {profile.peak_heap}",
                    actions: &[],
                    then: None,
                },
            ],
            sources: &[Source {
                seed: SEED_SPEEDING_UP,
                says: "profile memory as well as time; on modern machines using less memory often also saves time",
            }],
        },
        Node {
            id: "profile.program",
            title: "Your program",
            question: "Is your own program limited by the CPU?",
            reads: &[
                F::ProgramCpuUtilisation,
                F::ProgramIoBound,
                F::ProgramWall,
                F::ProgramPeakRss,
            ],
            branches: &[
                Branch {
                    id: "io_bound",
                    when: Condition::flag(F::ProgramIoBound, true),
                    why: "a program waiting on input and output gains little from faster arithmetic",
                    answer: "no: it is I/O-bound ({program.cpu_utilisation} busy on average over {program.wall_time}): deal with the I/O before vectors or cores",
                    actions: &[&OVERLAP_IO],
                    then: None,
                },
                Branch {
                    id: "cpu_bound",
                    when: Condition::compare(
                        F::ProgramCpuUtilisation,
                        Op::AtLeast,
                        CPU_BOUND_FROM_CORES,
                    ),
                    why: "keeping at least 0.8 cores busy means it computes rather than waits",
                    answer: "yes: {program.cpu_utilisation} busy on average over {program.wall_time}: the rest of the tree applies",
                    actions: &[],
                    then: None,
                },
                Branch {
                    id: "waiting",
                    when: Condition::Always,
                    why: "under 0.8 busy cores without heavy I/O, it waits on something else (locks, sleeps, the network)",
                    answer: "partly: only {program.cpu_utilisation} busy on average over {program.wall_time}; find what it waits on",
                    actions: &[],
                    then: None,
                },
            ],
            sources: &[Source {
                seed: SEED_SPEEDING_UP,
                says: "threads and asynchronous code help when a program is I/O-bound; separate processes sidestep the GIL for computation",
            }],
        },
        Node {
            id: "vector.single_core",
            title: "One core first",
            question: "Does compiled, vectorised code beat the naive loop on one core?",
            reads: &[F::BestSingleCoreSpeedup, F::PythonPackages],
            branches: &[
                Branch {
                    id: "pays",
                    when: Condition::compare(
                        F::BestSingleCoreSpeedup,
                        Op::AtLeast,
                        WORTHWHILE_GAIN,
                    ),
                    why: "1.5x is the smallest gain worth a code change: below it, noise on shared machines and the cost of a second code path outweigh it",
                    answer: "yes: {speedup.best_single_core} over naive on one core",
                    actions: &[&VECTORISE],
                    then: Some("vector.lanes"),
                },
                Branch {
                    id: "no_gain",
                    when: Condition::Always,
                    why: "under 1.5x the rewrite does not pay",
                    answer: "no: the best one-core variant gains only {speedup.best_single_core}",
                    actions: &[],
                    then: None,
                },
            ],
            sources: &[
                Source {
                    seed: SEED_SUMMARY,
                    says: "if the vector units go unused, move to NumPy types; if that is impractical, compile just in time with Numba",
                },
                Source {
                    seed: SEED_LADDER,
                    says: "vectorising gave 7-8x over the original, Numba 16-17x, a hand-written C++ extension 20-30x",
                },
                Source {
                    seed: SEED_SLIDES,
                    says: "SIMD instructions operate on several values at once; ahead-of-time or just-in-time compilation reaches them from Python",
                },
            ],
        },
        Node {
            id: "vector.lanes",
            title: "Vector units",
            question: "Is the hot loop using the machine's SIMD lanes?",
            reads: &[F::SimdLanes, F::SimdOverScalar],
            branches: &[
                Branch {
                    id: "no_lanes",
                    when: Condition::compare(F::SimdLanes, Op::AtMost, 1.0),
                    why: "one f64 lane means no vector unit to use",
                    answer: "there are none: the machine offers {simd.f64_lanes}",
                    actions: &[],
                    then: None,
                },
                Branch {
                    id: "explicit_pays",
                    when: Condition::compare(F::SimdOverScalar, Op::AtLeast, WORTHWHILE_GAIN),
                    why: "explicit SIMD must beat the best scalar compiled loop by the same 1.5x to be worth its second code path",
                    answer: "only with explicit SIMD: it runs {speedup.simd_over_scalar} faster than the best scalar loop, on {simd.f64_lanes}",
                    actions: &[&EXPLICIT_SIMD],
                    then: None,
                },
                Branch {
                    id: "already",
                    when: Condition::Always,
                    why: "under 1.5x, the compiler already uses the lanes or the loop waits on memory",
                    answer: "yes, or it does not matter: explicit SIMD adds only {speedup.simd_over_scalar} on {simd.f64_lanes}",
                    actions: &[],
                    then: None,
                },
            ],
            sources: &[
                Source {
                    seed: SEED_SUMMARY,
                    says: "use the vector units: NumPy data types first, Numba where that is impractical",
                },
                Source {
                    seed: SEED_SPEEDING_UP,
                    says: "compilers such as Numba transform loops over numbers to use SIMD and other CPU-specific features",
                },
            ],
        },
        Node {
            id: "cores.usable",
            title: "Cores",
            question: "How many cores may this process really use?",
            reads: &[F::CoresUsable, F::CoresHardware],
            branches: &[
                Branch {
                    id: "one",
                    when: Condition::compare(F::CoresUsable, Op::AtMost, 1.0),
                    why: "with one usable core, threads and processes only take turns",
                    answer: "one: {cores.usable} usable, of {cores.hardware} in the hardware; threads and processes cannot help inside this allocation",
                    actions: &[&REQUEST_CORES],
                    then: None,
                },
                Branch {
                    id: "several",
                    when: Condition::Always,
                    why: "more than one usable core",
                    answer: "{cores.usable} usable, of {cores.hardware} in the hardware",
                    actions: &[],
                    then: Some("cores.split"),
                },
            ],
            sources: &[Source {
                seed: SEED_SUMMARY,
                says: "multiple cores pay when the work divides into many items processed at the same time",
            }],
        },
        Node {
            id: "cores.split",
            title: "Independent work",
            question: "Does the work divide into at least as many independent items as there are cores?",
            reads: &[F::IndependentItems, F::CoresUsable],
            branches: &[
                Branch {
                    id: "many",
                    when: Condition::compare_facts(
                        F::IndependentItems,
                        Op::AtLeast,
                        F::CoresUsable,
                    ),
                    why: "with fewer items than cores some cores idle",
                    answer: "yes: {problem.independent_items} for {cores.usable}",
                    actions: &[],
                    then: Some("cores.item_size"),
                },
                Branch {
                    id: "few",
                    when: Condition::Always,
                    why: "fewer independent items than cores",
                    answer: "no: {problem.independent_items} for {cores.usable}; parallelise inside the data structures that dominate",
                    actions: &[&PARTITION_DATA],
                    then: None,
                },
            ],
            sources: &[Source {
                seed: SEED_SUMMARY,
                says: "without a natural split, find the dominating data structures: array libraries already use several cores, Dask partitions large data",
            }],
        },
        Node {
            id: "cores.item_size",
            title: "Work-item size",
            question: "Which parallel mechanism fits the size of one work item?",
            reads: &[
                F::WorkItemSeconds,
                F::CrossoverThreads,
                F::CrossoverProcesses,
                F::CrossoverIndependentRuns,
            ],
            branches: &[
                Branch {
                    id: "independent_runs",
                    when: Condition::compare_facts(
                        F::WorkItemSeconds,
                        Op::AtLeast,
                        F::CrossoverIndependentRuns,
                    ),
                    why: "items this long absorb a whole program's start-up: run copies, no code change",
                    answer: "independent runs: items of {work.item_time} are above {crossover.independent_runs_min_item}",
                    actions: &[&INDEPENDENT_RUNS],
                    then: Some("cores.scaling"),
                },
                Branch {
                    id: "process_pool",
                    when: Condition::compare_facts(
                        F::WorkItemSeconds,
                        Op::AtLeast,
                        F::CrossoverProcesses,
                    ),
                    why: "items this long absorb a process start-up within 1 %",
                    answer: "a process pool: items of {work.item_time} are above {crossover.processes_min_item}, under {crossover.independent_runs_min_item}",
                    actions: &[&PROCESS_POOL],
                    then: Some("cores.scaling"),
                },
                Branch {
                    id: "threads",
                    when: Condition::compare_facts(
                        F::WorkItemSeconds,
                        Op::AtLeast,
                        F::CrossoverThreads,
                    ),
                    why: "items this long absorb a pool task within 1 % but not a process start-up",
                    answer: "threads: items of {work.item_time} are above {crossover.threads_min_item}, under {crossover.processes_min_item}",
                    actions: &[&THREADS],
                    then: Some("cores.scaling"),
                },
                Branch {
                    id: "batch",
                    when: Condition::Always,
                    why: "items shorter than the thread crossover must be grouped, or the pool's overhead dominates",
                    answer: "threads over batches: items of {work.item_time} are under {crossover.threads_min_item}, so give each task a chunk of items",
                    actions: &[&THREADS],
                    then: Some("cores.scaling"),
                },
            ],
            sources: &[
                Source {
                    seed: SEED_SUMMARY,
                    says: "large items (a minute or more) suit many copies of the program under GNU Parallel; small ones (seconds) a pool of workers such as Pathos",
                },
                Source {
                    seed: SEED_SPEEDING_UP,
                    says: "split the data well for threads and processes: fewer, bigger chunks",
                },
                Source {
                    seed: SEED_SLIDES,
                    says: "start-up overhead and communication are what limit parallel speedups",
                },
            ],
        },
        Node {
            id: "cores.scaling",
            title: "Thread scaling",
            question: "Do the threads scale?",
            reads: &[
                F::ThreadsCount,
                F::ThreadsSpeedup,
                F::ThreadsEfficiency,
                F::SerialFraction,
                F::Bandwidth,
            ],
            branches: &[
                Branch {
                    id: "scales",
                    when: Condition::compare(F::ThreadsEfficiency, Op::AtLeast, EFFICIENT),
                    why: "at 70 % efficiency or more, at most about a third of the cores paid for is lost",
                    answer: "yes: {scaling.speedup} on {scaling.threads}, efficiency {scaling.efficiency}",
                    actions: &[],
                    then: None,
                },
                Branch {
                    id: "serial_part",
                    when: Condition::compare(F::SerialFraction, Op::AtLeast, SERIAL_LIMIT),
                    why: "a serial fraction s caps the speedup at 1/s: 10 % caps it at 10x",
                    answer: "no: efficiency {scaling.efficiency}, and a serial fraction of {scaling.serial_fraction} caps the speedup; parallelise the serial part first",
                    actions: &[],
                    then: None,
                },
                Branch {
                    id: "contention",
                    when: Condition::Always,
                    why: "low efficiency with a small serial part points at shared resources",
                    answer: "no: efficiency {scaling.efficiency} with a small serial part: the cores contend for memory bandwidth ({ceiling.bandwidth}) or are shared",
                    actions: &[],
                    then: None,
                },
            ],
            sources: &[Source {
                seed: SEED_LADDER,
                says: "8 threads of a process pool gave only 3-4x and 8 MPI processes 5-6x: scaling must be measured, not assumed",
            }],
        },
        Node {
            id: "gpu.present",
            title: "GPUs",
            question: "Is there a usable (hardware) GPU?",
            reads: &[F::GpusHardware, F::GpusSoftware],
            branches: &[
                Branch {
                    id: "none",
                    when: Condition::compare(F::GpusHardware, Op::AtMost, 0.0),
                    why: "software renderers such as lavapipe run on the CPU and never count as a GPU",
                    answer: "no: {gpu.hardware_count} in hardware (NVIDIA, AMD and Intel devices were looked for); software renderers never count ({gpu.software_count} found as such)",
                    actions: &[],
                    then: None,
                },
                Branch {
                    id: "present",
                    when: Condition::Always,
                    why: "at least one hardware GPU",
                    answer: "yes: {gpu.hardware_count}",
                    actions: &[],
                    then: Some("gpu.offload"),
                },
            ],
            sources: &[Source {
                seed: SEED_SUMMARY,
                says: "for GPUs, first look for existing libraries that fit the problem; otherwise compile specific functions for the GPU with Numba",
            }],
        },
        Node {
            id: "gpu.offload",
            title: "GPU offload",
            question: "Does offloading pay, transfers included?",
            reads: &[
                F::GpuOnSoftware,
                F::GpuOverBestCpu,
                F::GpuOverNaive,
                F::GpuCrossoverPairs,
                F::ProblemPairs,
            ],
            branches: &[
                Branch {
                    id: "software",
                    when: Condition::flag(F::GpuOnSoftware, true),
                    why: "a timing on a software renderer says nothing about a GPU",
                    answer: "not measured on the GPU: the GPU variant ran on a software renderer; never recommended",
                    actions: &[],
                    then: None,
                },
                Branch {
                    id: "pays",
                    when: Condition::compare(F::GpuOverBestCpu, Op::AtLeast, WORTHWHILE_GAIN),
                    why: "the GPU must beat the best CPU variant, transfers included, by the 1.5x worth a second code path",
                    answer: "yes: {speedup.gpu_over_best_cpu} over the best CPU variant with transfers, at {problem.pairs}; below {gpu.crossover_pairs} it loses",
                    actions: &[&GPU],
                    then: None,
                },
                Branch {
                    id: "loses",
                    when: Condition::Always,
                    why: "under 1.5x over the best CPU variant the transfers eat the gain",
                    answer: "no: {speedup.gpu_over_best_cpu} against the best CPU variant with transfers, at {problem.pairs}",
                    actions: &[],
                    then: None,
                },
            ],
            sources: &[
                Source {
                    seed: SEED_SUMMARY,
                    says: "use a GPU library related to the problem if one exists, else Numba's GPU compilation",
                },
                Source {
                    seed: SEED_TALKS,
                    says: "pyCUDA and similar tools put GPU kernels within reach of Python",
                },
            ],
        },
        Node {
            id: "nodes.saturated",
            title: "One node first",
            question: "Is one node's parallelism already fully used?",
            reads: &[F::ThreadsCount, F::CoresUsable, F::ThreadsEfficiency],
            branches: &[
                Branch {
                    id: "not_yet",
                    when: Condition::Any(&[
                        Condition::compare_facts(F::ThreadsCount, Op::Less, F::CoresUsable),
                        Condition::compare(F::ThreadsEfficiency, Op::Less, EFFICIENT),
                    ]),
                    why: "scaling out before the cores of one node are used well multiplies the waste",
                    answer: "no: {scaling.threads} measured on {cores.usable} at efficiency {scaling.efficiency}; use this node fully before adding nodes",
                    actions: &[],
                    then: None,
                },
                Branch {
                    id: "saturated",
                    when: Condition::Always,
                    why: "every usable core runs at 70 % efficiency or more",
                    answer: "yes: {scaling.threads} on {cores.usable} at efficiency {scaling.efficiency}",
                    actions: &[],
                    then: Some("nodes.scale_out"),
                },
            ],
            sources: &[Source {
                seed: SEED_SUMMARY,
                says: "before going to several nodes, make sure one node's parallelism is fully used",
            }],
        },
        Node {
            id: "nodes.scale_out",
            title: "Several nodes",
            question: "Can the work go across nodes here?",
            reads: &[
                F::MpiCanLaunch,
                F::MpiLauncher,
                F::AllocatedNodes,
                F::AllocatedTasks,
                F::MpiSpeedup,
                F::BestThreadedSpeedup,
                F::OverheadMpirunLaunch,
                F::CrossoverMpi,
            ],
            branches: &[
                Branch {
                    id: "mpi",
                    when: Condition::All(&[MPI_LAUNCHES, SEVERAL_NODES, MPI_BEATS_THREADS]),
                    why: "MPI launches, the allocation spans several nodes, and the measured MPI variant beats the best threaded one by the 1.5x worth the extra code",
                    answer: "yes: {scheduler.nodes} allocated, MPI launches and gains {speedup.mpi} against {speedup.best_threaded} with threads: launch {scheduler.tasks} with `{mpi.launcher}`; jobs shorter than {crossover.mpi_min_job} are dominated by the launch",
                    actions: &[&MPI],
                    then: None,
                },
                Branch {
                    id: "mpi_too_small",
                    when: Condition::All(&[MPI_LAUNCHES, SEVERAL_NODES]),
                    why: "MPI runs over several nodes but does not beat threads by 1.5x: launch and communication eat the gain at this size",
                    answer: "not at this size: over {scheduler.nodes} MPI gains {speedup.mpi} against {speedup.best_threaded} with threads; scale out only larger problems (launch alone is {overhead.mpirun_launch})",
                    actions: &[],
                    then: None,
                },
                Branch {
                    id: "one_node",
                    when: MPI_LAUNCHES,
                    why: "MPI launches, but only one node is allocated",
                    answer: "not in this allocation: MPI launches with {mpi.launcher}, but {scheduler.nodes} is allocated; ask the scheduler for more nodes to scale out",
                    actions: &[],
                    then: None,
                },
                Branch {
                    id: "no_mpi",
                    when: Condition::Always,
                    why: "no MPI that launches",
                    answer: "not with MPI: none launches here; independent runs across nodes (GNU Parallel --sshlogin) or Dask distributed need no MPI",
                    actions: &[],
                    then: None,
                },
            ],
            sources: &[
                Source {
                    seed: SEED_SUMMARY,
                    says: "once one node is used fully, the multi-core tools carry over to several nodes: GNU Parallel used carefully, Pathos, Dask",
                },
                Source {
                    seed: SEED_LADDER,
                    says: "MPI with 8 processes gave 5-6x on the reference problem",
                },
                Source {
                    seed: SEED_SLIDES,
                    says: "distributed computing adds start-up overhead and communication; mpi4py and Dask are the Python frameworks",
                },
            ],
        },
        Node {
            id: "beyond.ceiling",
            title: "Beyond the tree",
            question: "How close is the best one-core code to the machine's peak?",
            reads: &[F::PeakShare, F::FmaPeak],
            branches: &[
                Branch {
                    id: "near_peak",
                    when: Condition::compare(F::PeakShare, Op::AtLeast, NEAR_PEAK),
                    why: "at half the FMA peak or more, little is left on one core",
                    answer: "close: {ceiling.best_single_core_share} of the per-core peak ({ceiling.fma_peak_per_core}); more speed needs more cores, nodes or a GPU, or less work",
                    actions: &[],
                    then: None,
                },
                Branch {
                    id: "room_left",
                    when: Condition::Always,
                    why: "under half the FMA peak, one core still has headroom",
                    answer: "room left: {ceiling.best_single_core_share} of the per-core peak ({ceiling.fma_peak_per_core}); combine the techniques, and if still too slow rewrite the hot part in a compiled language behind a library",
                    actions: &[],
                    then: None,
                },
            ],
            sources: &[
                Source {
                    seed: SEED_LADDER,
                    says: "techniques combine: compiled code with OpenMP threads gave about 110x with 8 threads",
                },
                Source {
                    seed: SEED_SUMMARY,
                    says: "small, targeted changes, each checked by tests and a timing, beat a rewrite; if every technique is used and it is still too slow, rewrite the hot part in a compiled language and expose it as a library",
                },
                Source {
                    seed: SEED_TALKS,
                    says: "combining Python with a compiled language and tuned numerical libraries gives most of both productivity and speed",
                },
            ],
        },
    ],
};

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::advise::walk::{placeholders, unknown_placeholders};

    const SEEDS: [&str; 5] = [
        SEED_LADDER,
        SEED_SUMMARY,
        SEED_TALKS,
        SEED_SLIDES,
        SEED_SPEEDING_UP,
    ];

    #[test]
    fn every_named_node_exists_and_every_node_is_reachable() {
        let mut reachable = BTreeSet::new();
        let mut pending: Vec<&str> = TREE.roots.to_vec();
        while let Some(id) = pending.pop() {
            let node = TREE
                .node(id)
                .unwrap_or_else(|| panic!("node `{id}` is named but not defined"));
            if reachable.insert(id) {
                pending.extend(node.branches.iter().filter_map(|b| b.then));
            }
        }
        let defined: BTreeSet<&str> = TREE.nodes.iter().map(|n| n.id).collect();
        assert_eq!(reachable, defined);
        assert_eq!(defined.len(), TREE.nodes.len(), "node ids must be unique");
    }

    #[test]
    fn every_node_ends_with_a_catch_all_and_has_unique_branches() {
        for node in TREE.nodes {
            assert_eq!(
                node.branches.last().map(|b| b.when),
                Some(Condition::Always),
                "{}",
                node.id
            );
            let ids: BTreeSet<&str> = node.branches.iter().map(|b| b.id).collect();
            assert_eq!(ids.len(), node.branches.len(), "{}", node.id);
        }
    }

    #[test]
    fn conditions_read_declared_facts_of_the_right_kind() {
        for node in TREE.nodes {
            for branch in node.branches {
                assert!(
                    branch.when.kind_mistakes().is_empty(),
                    "{}/{}: {:?}",
                    node.id,
                    branch.id,
                    branch.when.kind_mistakes()
                );
                for fact in branch.when.facts() {
                    assert!(
                        node.reads.contains(&fact),
                        "{}/{} reads {} without declaring it",
                        node.id,
                        branch.id,
                        fact.name()
                    );
                }
            }
        }
    }

    #[test]
    fn templates_name_facts_the_evidence_shows() {
        for node in TREE.nodes {
            for branch in node.branches {
                assert!(
                    unknown_placeholders(branch.answer).is_empty(),
                    "{}/{}",
                    node.id,
                    branch.id
                );
                for name in placeholders(branch.answer) {
                    assert!(
                        node.reads.iter().any(|f| f.name() == name),
                        "{}/{} shows {name} without reading it",
                        node.id,
                        branch.id
                    );
                }
            }
        }
    }

    #[test]
    fn the_cpu_bound_texts_name_the_threshold_the_condition_uses() {
        let node = TREE.node("profile.program").unwrap();
        let threshold = format!("{CPU_BOUND_FROM_CORES}");
        for id in ["cpu_bound", "waiting"] {
            let branch = node.branches.iter().find(|b| b.id == id).unwrap();
            assert!(branch.why.contains(&threshold), "{id}: {}", branch.why);
        }
    }

    #[test]
    fn every_node_cites_a_seed_document() {
        for node in TREE.nodes {
            assert!(!node.sources.is_empty(), "{}", node.id);
            for source in node.sources {
                assert!(SEEDS.contains(&source.seed), "{}: {}", node.id, source.seed);
            }
        }
    }
}
