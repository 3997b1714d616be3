//! Where inside an inlined kernel the time goes: every sample's own instruction, resolved to its inline frames and source line.
//!
//! pprof groups samples by the start address of each frame's function and
//! names the group after the instruction of its first sample. Inside a
//! kernel that inlines everything into one function, every sample then
//! carries the inline frames of whichever instruction was sampled first:
//! one run put 98 % "self" in `_mm512_div_pd`, the next 99 % in
//! `_mm512_sqrt_pd`. So a handler is chained in front of pprof's on
//! `SIGPROF` ([`chain_in_front_of_pprof`]) that records the interrupted
//! instruction of every sample, and afterwards each address is resolved to
//! its own inline frames and source line ([`LeafSamples`]). Those
//! redistribute pprof's samples of a function over where in it they really
//! were ([`LeafSamples::chains_of`]) and give the hottest source lines
//! ([`hot_lines`]).

use std::collections::{BTreeMap, HashMap};
use std::ffi::c_void;
use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::{Deserialize, Serialize};

use super::sampler::{is_intrinsic_wrapper, is_kernel_frame, qualified, without_hash};

/// Most samples one sampled block records (at 250 samples per CPU second, minutes of two threads).
const CAPACITY: usize = 1 << 16;

/// Interrupted instruction addresses of the current block; the handler only stores into them.
static ADDRESSES: [AtomicUsize; CAPACITY] = [const { AtomicUsize::new(0) }; CAPACITY];
/// Samples recorded (or dropped past [`CAPACITY`]) in the current block.
static RECORDED: AtomicUsize = AtomicUsize::new(0);
/// pprof's `SIGPROF` handler, called after recording (0: none).
static PPROF_HANDLER: AtomicUsize = AtomicUsize::new(0);

/// Installs [`record_interrupted_instruction`] on `SIGPROF`, calling the handler
/// pprof just installed after it, until [`unchain_from_pprof`] (before pprof
/// builds its report, so the sampler's own work is not recorded).
pub fn chain_in_front_of_pprof() -> io::Result<()> {
    // SAFETY: all-zero is a valid `sigaction`; the call gets valid pointers.
    let previous = unsafe {
        let mut previous: libc::sigaction = std::mem::zeroed();
        if libc::sigaction(libc::SIGPROF, std::ptr::null(), &mut previous) != 0 {
            return Err(io::Error::last_os_error());
        }
        previous
    };
    if previous.sa_flags & libc::SA_SIGINFO == 0 || previous.sa_sigaction == 0 {
        return Err(io::Error::other("pprof's SIGPROF handler is not installed"));
    }
    PPROF_HANDLER.store(previous.sa_sigaction, Ordering::SeqCst);
    RECORDED.store(0, Ordering::SeqCst);
    install(record_interrupted_instruction as *const () as usize)
}

/// Gives `SIGPROF` back to pprof's own handler.
pub fn unchain_from_pprof() -> io::Result<()> {
    install(PPROF_HANDLER.load(Ordering::SeqCst))
}

/// Installs `handler` (an `SA_SIGINFO` handler) on `SIGPROF`.
fn install(handler: libc::sighandler_t) -> io::Result<()> {
    // SAFETY: all-zero is a valid `sigaction`, filled in before use; the call gets valid pointers.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = handler;
        action.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
        libc::sigemptyset(&mut action.sa_mask);
        if libc::sigaction(libc::SIGPROF, &action, std::ptr::null_mut()) != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// The `SIGPROF` handler: stores the interrupted instruction's address, then runs pprof's.
/// Async-signal-safe: atomic loads and stores only.
extern "C" fn record_interrupted_instruction(
    signal: libc::c_int,
    info: *mut libc::siginfo_t,
    context: *mut c_void,
) {
    if let Some(address) = interrupted_instruction(context) {
        let slot = RECORDED.fetch_add(1, Ordering::Relaxed);
        if let Some(cell) = ADDRESSES.get(slot) {
            cell.store(address, Ordering::Relaxed);
        }
    }
    let pprof = PPROF_HANDLER.load(Ordering::Relaxed);
    if pprof != 0 {
        // SAFETY: the value was read from `sigaction` as an `SA_SIGINFO` handler of this signature.
        let pprof: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut c_void) =
            unsafe { std::mem::transmute(pprof) };
        pprof(signal, info, context);
    }
}

/// The program counter saved in a signal's context.
fn interrupted_instruction(context: *mut c_void) -> Option<usize> {
    if context.is_null() {
        return None;
    }
    let context = context.cast::<libc::ucontext_t>();
    #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
    // SAFETY: the kernel passes a valid `ucontext_t` to an `SA_SIGINFO` handler.
    let address = unsafe { (*context).uc_mcontext.gregs[libc::REG_RIP as usize] as usize };
    #[cfg(all(target_arch = "aarch64", target_os = "linux"))]
    // SAFETY: as above.
    let address = unsafe { (*context).uc_mcontext.pc as usize };
    #[cfg(not(any(
        all(target_arch = "x86_64", target_os = "linux"),
        all(target_arch = "aarch64", target_os = "linux")
    )))]
    let address = {
        let _ = context;
        0
    };
    (address != 0).then_some(address)
}

/// The addresses recorded since [`chain_in_front_of_pprof`], and how many did not fit.
/// Call after the sampler has stopped.
pub fn take_recorded() -> (Vec<usize>, usize) {
    let recorded = RECORDED.swap(0, Ordering::SeqCst);
    let kept = recorded.min(CAPACITY);
    let addresses = ADDRESSES[..kept]
        .iter()
        .map(|cell| cell.load(Ordering::Relaxed))
        .collect();
    (addresses, recorded - kept)
}

/// One instruction address, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Resolved {
    /// The function the instruction is compiled into, then the functions inlined into it
    /// down to the instruction's own, outermost first, qualified as the stacks are.
    chain: Vec<String>,
    /// The source line in the innermost kernel function of the chain (where it calls an
    /// intrinsic or wrapper, the call's line): `(file, line, function)`.
    kernel_line: Option<(String, u32, String)>,
}

/// Samples resolved to their own inline frames, by the function they were compiled into.
#[derive(Debug, Default)]
pub struct LeafSamples {
    /// Per compiled function: each distinct inline chain and its samples.
    chains: HashMap<String, BTreeMap<Vec<String>, u64>>,
    /// Samples per kernel source line `(file, line, function)`.
    lines: BTreeMap<(String, u32, String), u64>,
    /// All samples taken: resolved or not, and those a full table could not keep.
    total: u64,
    /// Every address resolved so far, kept across blocks: a hot loop has few distinct
    /// instructions, and the same ones come back in every block.
    resolved: HashMap<usize, Option<Resolved>>,
}

impl LeafSamples {
    /// Resolves `addresses` (each distinct one once per profile) and adds them.
    pub fn add(&mut self, addresses: &[usize], dropped: usize) {
        for &address in addresses {
            self.total += 1;
            let Some(sample) = self
                .resolved
                .entry(address)
                .or_insert_with(|| resolve(address))
            else {
                continue;
            };
            let Some(function) = sample.chain.first() else {
                continue;
            };
            *self
                .chains
                .entry(function.clone())
                .or_default()
                .entry(sample.chain.clone())
                .or_default() += 1;
            if let Some(line) = &sample.kernel_line {
                *self.lines.entry(line.clone()).or_default() += 1;
            }
        }
        // Samples past the table's end were taken but not kept: they count in the total.
        self.total += dropped as u64;
    }

    /// Samples of `function` in the given inline chains (for tests of their use).
    #[cfg(test)]
    pub(super) fn of_chains(function: &str, chains: &[(&[&str], u64)]) -> LeafSamples {
        let mut leaves = LeafSamples::default();
        for (chain, samples) in chains {
            let chain = chain.iter().map(|name| name.to_string()).collect();
            *leaves
                .chains
                .entry(function.to_string())
                .or_default()
                .entry(chain)
                .or_default() += samples;
            leaves.total += samples;
        }
        leaves
    }

    /// The inline chains (outermost first, starting with `function` itself) that the
    /// samples compiled into `function` fell in, with their sample counts.
    pub fn chains_of(&self, function: &str) -> Option<&BTreeMap<Vec<String>, u64>> {
        self.chains
            .get(function)
            .filter(|chains| !chains.is_empty())
    }

    pub fn total(&self) -> u64 {
        self.total
    }

    /// The `limit` kernel source lines with the most samples, as shares of all samples taken.
    pub fn hot_lines(&self, limit: usize) -> Vec<HotLine> {
        let mut lines: Vec<_> = self.lines.iter().collect();
        lines.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
        lines
            .into_iter()
            .take(limit)
            .map(|((file, line, function), &samples)| HotLine {
                location: match line {
                    0 => format!("{} (no single line)", display_path(file)),
                    line => format!("{}:{line}", display_path(file)),
                },
                function: function.clone(),
                code: match line {
                    0 => Some("code the compiler merged from several lines".to_string()),
                    line => source_line(file, *line),
                },
                samples,
                share: samples as f64 / self.total.max(1) as f64,
            })
            .collect()
    }
}

/// A source line of the kernel and the share of samples executing its code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct HotLine {
    /// `file:line`, the file relative to the kernel crate's `src/`.
    pub location: String,
    /// The innermost kernel function the line belongs to.
    pub function: String,
    /// The line's code, trimmed, when the source is readable where the profile ran
    /// (for "no single line", what that means).
    pub code: Option<String>,
    pub samples: u64,
    /// Of all samples the line sampler recorded.
    pub share: f64,
}

/// Where the kernel crate's sources are (a path dependency of this workspace).
const KERNEL_SOURCES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/kernels/src/");

/// A kernel source path relative to the crate's `src/`, other paths as they are.
fn display_path(file: &str) -> &str {
    file.strip_prefix(KERNEL_SOURCES).unwrap_or(file)
}

/// Line `line` of `file`, trimmed and shortened, when the file can be read.
fn source_line(file: &str, line: u32) -> Option<String> {
    const WIDTH: usize = 72;
    let text = std::fs::read_to_string(file).ok()?;
    let code = text.lines().nth(line.checked_sub(1)? as usize)?.trim();
    Some(if code.chars().count() > WIDTH {
        format!("{}...", code.chars().take(WIDTH - 3).collect::<String>())
    } else {
        code.to_string()
    })
}

/// The inline chain of the instruction at `address` and its line in the innermost kernel function.
fn resolve(address: usize) -> Option<Resolved> {
    // backtrace reports the instruction's own function first, then each caller it was inlined into.
    let mut innermost_first: Vec<(String, Option<String>, Option<u32>)> = Vec::new();
    backtrace::resolve(address as *mut c_void, |symbol| {
        let file = symbol.filename();
        let name = symbol
            .name()
            .map(|name| qualified(&without_hash(&name.to_string()), file));
        if let Some(name) = name {
            innermost_first.push((
                name,
                file.and_then(Path::to_str).map(str::to_string),
                symbol.lineno(),
            ));
        }
    });
    if innermost_first.is_empty() {
        return None;
    }
    // Line 0 (or none) marks instructions the compiler merged from several lines.
    let kernel_line = innermost_first
        .iter()
        .find(|(name, _, _)| is_kernel_frame(name) && !is_intrinsic_wrapper(name))
        .and_then(|(name, file, line)| Some((file.clone()?, line.unwrap_or(0), name.clone())));
    Some(Resolved {
        chain: innermost_first
            .into_iter()
            .rev()
            .map(|(name, _, _)| name)
            .collect(),
        kernel_line,
    })
}

/// Splits `total` samples over `weights` in proportion, by largest remainder (the parts sum to `total`).
pub fn apportion(total: u64, weights: &[u64]) -> Vec<u64> {
    let sum: u64 = weights.iter().sum();
    if sum == 0 {
        return vec![0; weights.len()];
    }
    let exact: Vec<f64> = weights
        .iter()
        .map(|&w| total as f64 * w as f64 / sum as f64)
        .collect();
    let mut parts: Vec<u64> = exact.iter().map(|x| x.floor() as u64).collect();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|&a, &b| {
        let remainder = |i: usize| exact[i] - exact[i].floor();
        remainder(b).total_cmp(&remainder(a)).then(a.cmp(&b))
    });
    let missing = total - parts.iter().sum::<u64>();
    for &i in order.iter().take(missing as usize) {
        parts[i] += 1;
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apportioning_keeps_the_total_and_the_proportions() {
        assert_eq!(apportion(10, &[1, 1]), vec![5, 5]);
        assert_eq!(apportion(10, &[3, 1]), vec![8, 2]); // 7.5 and 2.5: ties go to the first
        assert_eq!(apportion(7, &[1, 1, 1]), vec![3, 2, 2]);
        assert_eq!(apportion(0, &[4, 2]), vec![0, 0]);
        assert_eq!(apportion(5, &[0, 0]), vec![0, 0]);
        assert_eq!(apportion(100, &[97, 2, 1]).iter().sum::<u64>(), 100);
    }

    #[inline(never)]
    fn a_function_of_this_test() -> usize {
        // The address of an instruction inside this function.
        let here: fn() -> usize = a_function_of_this_test;
        std::hint::black_box(here as usize) + 4
    }

    #[test]
    fn an_address_resolves_to_its_function_and_a_line_of_this_file() {
        let resolved = resolve(a_function_of_this_test()).expect("the test binary has line tables");
        // Outermost first: the compiled function, then what was inlined into it (`black_box`).
        let function = resolved.chain.first().expect("a chain");
        assert!(
            function.ends_with("a_function_of_this_test"),
            "{:?}",
            resolved.chain
        );
        // Not a kernel frame, so no kernel line.
        assert_eq!(resolved.kernel_line, None);
    }

    #[test]
    fn kernel_paths_are_shown_relative_to_the_kernel_sources() {
        let file = format!("{KERNEL_SOURCES}scatter/variants/simd/division.rs");
        assert_eq!(display_path(&file), "scatter/variants/simd/division.rs");
        assert_eq!(display_path("/usr/src/other.rs"), "/usr/src/other.rs");
    }
}
