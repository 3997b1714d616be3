//! Where the memory goes: a counting global allocator and the process's peak resident set.
//!
//! The training profiles memory as well as time (allocation volume and peak
//! heap). [`CountingAllocator`] wraps the system allocator with a handful of
//! relaxed atomic operations (a few nanoseconds per allocation, unlike a full
//! heap profiler), and the binary installs it with `#[global_allocator]`.
//! Counters are process-wide: [`AllocationCounter::start`] marks the
//! beginning of a measured run and [`AllocationCounter::finish`] reads what
//! happened since, including the peak live heap above the starting level.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
static ALLOCATED_BYTES: AtomicU64 = AtomicU64::new(0);
static LIVE_BYTES: AtomicU64 = AtomicU64::new(0);
static PEAK_LIVE_BYTES: AtomicU64 = AtomicU64::new(0);

/// The system allocator, counting allocations, bytes and the peak of live bytes.
///
/// Install it in a binary with
/// `#[global_allocator] static ALLOCATOR: CountingAllocator = CountingAllocator;`.
/// A reallocation counts as one allocation of the new size.
#[derive(Debug, Default, Clone, Copy)]
pub struct CountingAllocator;

fn record_allocation(size: usize) {
    let size = size as u64;
    ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    ALLOCATED_BYTES.fetch_add(size, Ordering::Relaxed);
    let live = LIVE_BYTES.fetch_add(size, Ordering::Relaxed) + size;
    PEAK_LIVE_BYTES.fetch_max(live, Ordering::Relaxed);
}

fn record_release(size: usize) {
    LIVE_BYTES.fetch_sub(size as u64, Ordering::Relaxed);
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

/// Whether a [`CountingAllocator`] is installed in this process (it has counted something).
pub fn is_counting() -> bool {
    ALLOCATIONS.load(Ordering::Relaxed) > 0
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
/// Counters are process-wide, so allocations by other threads that run at the
/// same time are included: measure one thing at a time.
#[derive(Debug)]
pub struct AllocationCounter {
    allocations: u64,
    allocated_bytes: u64,
    live_bytes: u64,
}

impl AllocationCounter {
    /// Starts a measurement: resets the peak to the current live heap.
    pub fn start() -> AllocationCounter {
        let live_bytes = LIVE_BYTES.load(Ordering::Relaxed);
        PEAK_LIVE_BYTES.store(live_bytes, Ordering::Relaxed);
        AllocationCounter {
            allocations: ALLOCATIONS.load(Ordering::Relaxed),
            allocated_bytes: ALLOCATED_BYTES.load(Ordering::Relaxed),
            live_bytes,
        }
    }

    /// What was allocated since [`AllocationCounter::start`].
    pub fn finish(self) -> AllocationStats {
        AllocationStats {
            allocations: ALLOCATIONS.load(Ordering::Relaxed) - self.allocations,
            allocated_bytes: ALLOCATED_BYTES.load(Ordering::Relaxed) - self.allocated_bytes,
            peak_live_bytes: PEAK_LIVE_BYTES
                .load(Ordering::Relaxed)
                .saturating_sub(self.live_bytes),
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
