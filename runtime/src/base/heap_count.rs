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
//!
//! When the system refuses an allocation the program ends with
//! `error: out of memory: ...` and status 1, its buffered output written
//! first (`out_of_memory`): Rust's default is an abort, with the output
//! lost (found by the fuzzer under an address-space limit). Allocations
//! made inside `fallible` — region chunks, the strings primitives build —
//! get the refusal back instead, and raise a catchable "out of memory"
//! error (region/chunk.rs, prims/string.rs).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

thread_local! {
    /// Set while the thread runs `fallible`: a refused allocation returns
    /// null to the caller, which handles it.
    static FALLIBLE: Cell<bool> = const { Cell::new(false) };
}

/// Run `f`, in which an allocation the system refuses returns null (or
/// `Err` from `try_reserve`) rather than ending the program.
pub fn fallible<T>(f: impl FnOnce() -> T) -> T {
    let outer = FALLIBLE.with(|c| c.replace(true));
    let out = f();
    FALLIBLE.with(|c| c.set(outer));
    out
}

/// A refused allocation of `bytes`: null for a `fallible` caller, the end
/// of the program otherwise.
#[cold]
#[inline(never)]
fn refused(bytes: usize) -> *mut u8 {
    if FALLIBLE.try_with(Cell::get).unwrap_or(false) {
        return std::ptr::null_mut();
    }
    out_of_memory(bytes)
}

pub struct CountingAlloc;

// SAFETY: every method forwards to the system allocator with the caller's
// arguments and only adds bookkeeping that neither allocates nor touches
// the returned memory.
unsafe impl GlobalAlloc for CountingAlloc {
    #[inline(never)]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded contract.
        let p = unsafe { System.alloc(layout) };
        if p.is_null() {
            return refused(layout.size());
        }
        crate::base::stats::heap_bytes(layout.size() as i64);
        p
    }

    #[inline(never)]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded contract.
        let p = unsafe { System.alloc_zeroed(layout) };
        if p.is_null() {
            return refused(layout.size());
        }
        crate::base::stats::heap_bytes(layout.size() as i64);
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
        if p.is_null() {
            return refused(new_size);
        }
        crate::base::stats::heap_bytes(new_size as i64 - layout.size() as i64);
        p
    }
}

/// End the program after the system refused `bytes`: the buffered stdout
/// and the message go straight to the file descriptors, and nothing here
/// allocates (a second refusal while reporting ends the process at once).
#[cold]
#[inline(never)]
fn out_of_memory(bytes: usize) -> ! {
    use std::io::Write;
    use std::sync::atomic::{AtomicBool, Ordering};
    static REPORTING: AtomicBool = AtomicBool::new(false);
    if !REPORTING.swap(true, Ordering::SeqCst) {
        crate::base::stdout::flush_stdout_without_allocating();
        let mut digits = [0u8; 20];
        let mut at = digits.len();
        let mut n = bytes;
        loop {
            at -= 1;
            digits[at] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        let mut err = raw_fd(2);
        let _ = err.write_all(b"error: out of memory: the system refused ");
        let _ = err.write_all(&digits[at..]);
        let _ = err.write_all(b" bytes\n");
    }
    std::process::exit(1)
}

/// File descriptor `fd` as a writer that neither buffers nor closes it.
pub(crate) fn raw_fd(fd: i32) -> std::mem::ManuallyDrop<std::fs::File> {
    use std::os::fd::FromRawFd;
    // SAFETY: 1 and 2 are open for the life of the process; ManuallyDrop
    // keeps the File from closing the descriptor.
    std::mem::ManuallyDrop::new(unsafe { std::fs::File::from_raw_fd(fd) })
}

#[cfg(not(loom))]
#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;
