//! The process's global allocator: the system allocator, counting every
//! byte it hands out into the statistics (`stats::heap_bytes`), so
//! `OMNI_STATS` sees the memory the runtime holds outside regions too (the
//! buffers of primitives such as `equal?` or `sort`, tables, strings being
//! built) — region chunks and control blocks come from here as well.
//! Counting is a thread-local add (no shared cache line). Not under loom,
//! whose model threads must not see allocator bookkeeping. The methods are
//! never inlined: inlined into every allocating function, the bookkeeping
//! made callers too big for LLVM to inline their own helpers (the
//! `collect` in the variadic comparisons: hof +15% instructions).

use std::alloc::{GlobalAlloc, Layout, System};

pub struct CountingAlloc;

// SAFETY: every method forwards to the system allocator with the caller's
// arguments and only adds bookkeeping that neither allocates nor touches
// the returned memory.
unsafe impl GlobalAlloc for CountingAlloc {
    #[inline(never)]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded contract.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            crate::base::stats::heap_bytes(layout.size() as i64);
        }
        p
    }

    #[inline(never)]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded contract.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            crate::base::stats::heap_bytes(layout.size() as i64);
        }
        p
    }

    #[inline(never)]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded contract.
        unsafe { System.dealloc(ptr, layout) };
        crate::base::stats::heap_freed(layout.size());
    }

    #[inline(never)]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded contract.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            crate::base::stats::heap_bytes(new_size as i64 - layout.size() as i64);
        }
        p
    }
}

#[cfg(not(loom))]
#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;
