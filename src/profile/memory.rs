//! Where the memory goes: a counting global allocator and the process's peak resident set.
//!
//! The training profiles memory as well as time (allocation volume and peak
//! heap). [`CountingAllocator`] wraps the system allocator and the binary
//! installs it with `#[global_allocator]`. Counting must not show up in the
//! profiles it serves: one shared atomic counter cost the naive variant
//! (two allocations per pair) a sixth of its samples in locked additions.
//! So each thread counts into its own block of counters ([`ThreadCounters`]),
//! written only by that thread with plain loads and stores, and readers sum
//! the blocks. The live heap, whose peak needs a process-wide view, is
//! handed to the shared counter only when a thread's own balance has moved
//! by [`LIVE_BATCH`] bytes, so the peak is exact to within that many bytes per
//! thread. [`AllocationCounter::start`] marks the beginning of a measured run
//! and [`AllocationCounter::finish`] reads what happened since.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::ptr;
use std::sync::atomic::{AtomicI64, AtomicPtr, AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

/// Bytes a thread's live balance may drift before it is added to the process's live heap.
pub const LIVE_BATCH: i64 = 16 * 1024;

/// One thread's counters, in a list of every thread that ever allocated.
///
/// Only the owning thread writes them (a load and a store, no locked
/// instruction); any thread may read them. Blocks come from the system
/// allocator and are never freed (a thread that ends leaves its counts), so
/// the list only grows, by one 64-byte block per thread.
#[repr(align(64))]
struct ThreadCounters {
    allocations: AtomicU64,
    allocated_bytes: AtomicU64,
    /// Live bytes allocated minus released by this thread, not yet handed to [`LIVE_BYTES`].
    unflushed_live: AtomicI64,
    next: *mut ThreadCounters,
}

/// Head of the list of every thread's counters.
static THREADS: AtomicPtr<ThreadCounters> = AtomicPtr::new(ptr::null_mut());
/// Allocations made where a thread's block is out of reach (during its teardown), counted the slow way.
static ORPHAN_ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
static ORPHAN_ALLOCATED_BYTES: AtomicU64 = AtomicU64::new(0);
/// The process's live heap, to within [`LIVE_BATCH`] per thread, and its peak since the last start.
static LIVE_BYTES: AtomicI64 = AtomicI64::new(0);
static PEAK_LIVE_BYTES: AtomicI64 = AtomicI64::new(0);

thread_local! {
    /// This thread's block, once it has allocated (no destructor: usable until the thread is gone).
    static MINE: Cell<*const ThreadCounters> = const { Cell::new(ptr::null()) };
}

/// This thread's counters, registered on first use; `None` when thread-local storage is gone
/// or the block cannot be allocated.
fn thread_counters() -> Option<&'static ThreadCounters> {
    let mine = MINE.try_with(Cell::get).ok()?;
    if !mine.is_null() {
        // SAFETY: blocks are never freed and are only ever created fully initialised below.
        return Some(unsafe { &*mine });
    }
    // SAFETY: a non-zero-sized layout; the block is written before it is shared.
    let block = unsafe { System.alloc(Layout::new::<ThreadCounters>()) }.cast::<ThreadCounters>();
    if block.is_null() {
        return None;
    }
    let mut head = THREADS.load(Ordering::Acquire);
    // SAFETY: `block` is a fresh, suitably aligned allocation for one `ThreadCounters`.
    unsafe {
        block.write(ThreadCounters {
            allocations: AtomicU64::new(0),
            allocated_bytes: AtomicU64::new(0),
            unflushed_live: AtomicI64::new(0),
            next: head,
        });
    }
    // Push onto the list (lock-free: other threads register at the same time).
    while let Err(current) =
        THREADS.compare_exchange_weak(head, block, Ordering::AcqRel, Ordering::Acquire)
    {
        head = current;
        // SAFETY: not yet shared: only this thread sees `block`.
        unsafe { (*block).next = head };
    }
    MINE.try_with(|cell| cell.set(block)).ok()?;
    // SAFETY: as above, never freed.
    Some(unsafe { &*block })
}

/// Every thread's counters.
fn all_threads() -> impl Iterator<Item = &'static ThreadCounters> {
    let mut next = THREADS.load(Ordering::Acquire).cast_const();
    std::iter::from_fn(move || {
        // SAFETY: list entries are fully initialised before being published and never freed.
        let block = unsafe { next.as_ref()? };
        next = block.next;
        Some(block)
    })
}

/// Adds `value` to a counter only this thread writes: a load and a store, not a locked add.
fn bump(counter: &AtomicU64, value: u64) {
    counter.store(counter.load(Ordering::Relaxed) + value, Ordering::Relaxed);
}

/// Hands a thread's live balance to the process-wide live heap and raises the peak.
fn flush_live(delta: i64) {
    let live = LIVE_BYTES.fetch_add(delta, Ordering::Relaxed) + delta;
    PEAK_LIVE_BYTES.fetch_max(live, Ordering::Relaxed);
}

/// Moves this thread's live balance by `delta`, flushing it once it has moved [`LIVE_BATCH`].
fn move_live(counters: Option<&ThreadCounters>, delta: i64) {
    match counters {
        Some(counters) => {
            let balance = counters.unflushed_live.load(Ordering::Relaxed) + delta;
            if balance.abs() >= LIVE_BATCH {
                flush_live(balance);
                counters.unflushed_live.store(0, Ordering::Relaxed);
            } else {
                counters.unflushed_live.store(balance, Ordering::Relaxed);
            }
        }
        None => flush_live(delta),
    }
}

/// Hands this thread's live balance over now (before a reading, so its own allocations are exact).
fn flush_this_thread() {
    if let Some(counters) = thread_counters() {
        let balance = counters.unflushed_live.swap(0, Ordering::Relaxed);
        flush_live(balance);
    }
}

/// The system allocator, counting allocations, bytes and the peak of live bytes.
///
/// Install it in a binary with
/// `#[global_allocator] static ALLOCATOR: CountingAllocator = CountingAllocator;`.
/// A reallocation counts as one allocation of the new size.
#[derive(Debug, Default, Clone, Copy)]
pub struct CountingAllocator;

fn record_allocation(size: usize) {
    let counters = thread_counters();
    match counters {
        Some(counters) => {
            bump(&counters.allocations, 1);
            bump(&counters.allocated_bytes, size as u64);
        }
        None => {
            ORPHAN_ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
            ORPHAN_ALLOCATED_BYTES.fetch_add(size as u64, Ordering::Relaxed);
        }
    }
    move_live(counters, size as i64);
}

fn record_release(size: usize) {
    move_live(thread_counters(), -(size as i64));
}

// SAFETY: every method forwards to `System` with the caller's arguments and only
// updates counters when the system allocator succeeded.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged; the caller upholds `alloc`'s contract.
        let pointer = unsafe { System.alloc(layout) };
        if !pointer.is_null() {
            record_allocation(layout.size());
        }
        pointer
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged; the caller upholds `alloc_zeroed`'s contract.
        let pointer = unsafe { System.alloc_zeroed(layout) };
        if !pointer.is_null() {
            record_allocation(layout.size());
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged; `pointer` came from this allocator with `layout`.
        unsafe { System.dealloc(pointer, layout) };
        record_release(layout.size());
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded unchanged; the caller upholds `realloc`'s contract.
        let moved = unsafe { System.realloc(pointer, layout, new_size) };
        if !moved.is_null() {
            record_release(layout.size());
            record_allocation(new_size);
        }
        moved
    }
}

/// `(allocations, allocated bytes)` of every thread so far.
fn totals() -> (u64, u64) {
    all_threads().fold(
        (
            ORPHAN_ALLOCATIONS.load(Ordering::Relaxed),
            ORPHAN_ALLOCATED_BYTES.load(Ordering::Relaxed),
        ),
        |(allocations, bytes), counters| {
            (
                allocations + counters.allocations.load(Ordering::Relaxed),
                bytes + counters.allocated_bytes.load(Ordering::Relaxed),
            )
        },
    )
}

/// Whether a [`CountingAllocator`] is installed in this process (it has counted something).
pub fn is_counting() -> bool {
    totals().0 > 0
}

/// Heap activity of one measured stretch of the program.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AllocationStats {
    /// Heap allocations (a reallocation counts as one).
    pub allocations: u64,
    /// Bytes requested by those allocations, in total.
    pub allocated_bytes: u64,
    /// Highest live heap during the stretch, above the live heap when it started.
    pub peak_live_bytes: u64,
}

/// Marks the start of a measured stretch; [`AllocationCounter::finish`] reads its statistics.
///
/// Counts cover every thread, so allocations by other threads that run at the
/// same time are included: measure one thing at a time. Counts are exact once
/// the threads that allocated are idle (a run's workers are, when it returns);
/// the peak is exact to within [`LIVE_BATCH`] bytes per thread.
#[derive(Debug)]
pub struct AllocationCounter {
    allocations: u64,
    allocated_bytes: u64,
    live_bytes: i64,
}

impl AllocationCounter {
    /// Starts a measurement: resets the peak to the current live heap.
    pub fn start() -> AllocationCounter {
        flush_this_thread();
        let live_bytes = LIVE_BYTES.load(Ordering::Relaxed);
        PEAK_LIVE_BYTES.store(live_bytes, Ordering::Relaxed);
        let (allocations, allocated_bytes) = totals();
        AllocationCounter {
            allocations,
            allocated_bytes,
            live_bytes,
        }
    }

    /// What was allocated since [`AllocationCounter::start`].
    pub fn finish(self) -> AllocationStats {
        flush_this_thread();
        let (allocations, allocated_bytes) = totals();
        let peak = PEAK_LIVE_BYTES.load(Ordering::Relaxed) - self.live_bytes;
        AllocationStats {
            allocations: allocations - self.allocations,
            allocated_bytes: allocated_bytes - self.allocated_bytes,
            peak_live_bytes: u64::try_from(peak).unwrap_or(0),
        }
    }
}

/// Converts `ru_maxrss` to bytes: the kernel reports KiB on Linux and bytes on macOS.
pub fn max_rss_bytes(ru_maxrss: libc::c_long) -> u64 {
    let value = u64::try_from(ru_maxrss).unwrap_or(0);
    if cfg!(target_os = "macos") {
        value
    } else {
        value * 1024
    }
}

/// Peak resident set size of this process so far, in bytes (`getrusage(RUSAGE_SELF)`).
pub fn peak_rss_bytes() -> Option<u64> {
    // SAFETY: an all-zero `rusage` is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `usage` is a valid, writable rusage for the duration of the call.
    let status = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    (status == 0).then(|| max_rss_bytes(usage.ru_maxrss))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peak_rss_is_at_least_a_megabyte() {
        let rss = peak_rss_bytes().expect("getrusage works");
        assert!(rss > 1 << 20, "peak RSS {rss} bytes");
    }
}
