//! The per-thread stack limit behind the stack-overflow check, and the
//! stack sizes of program threads.
//!
//! Stack overflow: every generated prologue compares its stack pointer with
//! the calling thread's *stack limit* and calls `omni_rt_stack_overflow`
//! when below it. The limit is a per-thread word (a thread-local cell whose
//! address generated code keeps in Cranelift's pinned register, r15 on
//! x86-64: every SysV trampoline into generated code loads it from
//! [`omni_rt_stack_limit_cell`]), so each program thread, spawned threads
//! and coroutine stacks included, is checked against its own stack
//! (docs/REGION_THREADING_MODEL.md). The limit leaves [`STACK_MARGIN`] bytes
//! above the real end of the stack for runtime code (primitives, printing,
//! the error path). While it is 0 (no program code running on the thread)
//! the check never fires.

use std::cell::Cell;

/// The per-thread words generated code reaches through the pinned
/// register: the stack limit first (what every prologue loads), then
/// whether the thread was started by `spawn` (a store fast path skips the
/// ownership check only when it is 0: region/owner.rs).
#[repr(C)]
struct ThreadWords {
    /// Lowest stack address generated code running on this thread may use;
    /// 0 disables the check.
    limit: Cell<usize>,
    /// 1 on a thread started by `spawn`.
    spawned: Cell<usize>,
}

thread_local! {
    static WORDS: ThreadWords = const {
        ThreadWords {
            limit: Cell::new(0),
            spawned: Cell::new(0),
        }
    };
}

/// Offset of the spawned-thread word from the stack-limit word.
pub const THREAD_SPAWNED_OFFSET: i32 = std::mem::offset_of!(ThreadWords, spawned) as i32
    - std::mem::offset_of!(ThreadWords, limit) as i32;

/// Address of the calling thread's stack-limit word (stable for the
/// thread's lifetime). Generated trampolines put it in the pinned register;
/// every prologue loads the limit through it.
#[no_mangle]
pub extern "C" fn omni_rt_stack_limit_cell() -> *mut usize {
    WORDS.with(|w| w.limit.as_ptr())
}

/// The calling thread's stack limit (0: unchecked).
pub fn stack_limit() -> usize {
    WORDS.with(|w| w.limit.get())
}

/// Set the calling thread's stack limit (0 disables the check).
pub fn set_stack_limit(limit: usize) {
    WORDS.with(|w| w.limit.set(limit));
}

/// Record, in the word generated code reads, that the calling thread was
/// started by `spawn`.
pub fn mark_spawned_words() {
    WORDS.with(|w| w.spawned.set(1));
}

/// Whether the calling thread was started by `spawn` (the word generated
/// code reads).
pub fn is_spawned_thread() -> bool {
    WORDS.with(|w| w.spawned.get() != 0)
}

/// Default stack of the program thread (env `OMNI_STACK_SIZE` overrides).
pub const DEFAULT_STACK_SIZE: usize = 256 << 20;
/// Stack kept free below the limit for runtime code and the error path.
pub const STACK_MARGIN: usize = 256 << 10;

/// Stack size of program threads (the main one and spawned ones).
pub fn stack_size() -> usize {
    std::env::var("OMNI_STACK_SIZE")
        .ok()
        .and_then(|s| s.trim().parse::<usize>().ok())
        .filter(|&n| n >= 4 * STACK_MARGIN)
        .unwrap_or(DEFAULT_STACK_SIZE)
}

/// An address inside the current stack frame.
#[inline(never)]
pub fn current_stack_pointer() -> usize {
    let marker = 0u8;
    std::hint::black_box(&marker) as *const u8 as usize
}

/// Arm the calling thread's stack limit for a stack of `size` bytes whose
/// top lies slightly above the caller's frame: the stack spans at most
/// `size` bytes below here, so `sp - size` is at or below its low end and
/// the margin is measured from there.
pub fn arm_stack_limit(size: usize) {
    let sp = current_stack_pointer();
    set_stack_limit(sp.saturating_sub(size) + STACK_MARGIN);
}

extern "C" {
    fn mincore(addr: *mut u8, len: usize, vec: *mut u8) -> i32;
}

/// Bytes of the `len`-byte range at `low` that are resident (touched), from
/// `mincore`; 0 if the range is not entirely mapped.
pub fn resident_bytes(low: usize, len: usize) -> usize {
    const PAGE: usize = 4096;
    let start = low.next_multiple_of(PAGE);
    let end = (low + len) & !(PAGE - 1);
    if end <= start {
        return 0;
    }
    let pages = (end - start) / PAGE;
    let mut vec = vec![0u8; pages];
    // SAFETY: `start` is page-aligned and `vec` has one byte per page of the
    // range; mincore only writes `vec` and fails (ENOMEM) on unmapped pages.
    let rc = unsafe { mincore(start as *mut u8, end - start, vec.as_mut_ptr()) };
    if rc != 0 {
        return 0;
    }
    vec.iter().filter(|&&b| b & 1 != 0).count() * PAGE
}

/// Record, for the statistics (`bytes_stack`), how much of the calling
/// thread's stack of `size` bytes has been touched: its resident pages below
/// the caller's frame (a thread's stack pages stay resident once touched, so
/// this is the thread's stack high-water mark). Call it near the stack's
/// top, as the thread's work ends; only with `OMNI_STATS=1`.
pub fn record_touched_stack(size: usize) {
    if !crate::base::stats::enabled() {
        return;
    }
    let sp = current_stack_pointer();
    let low = sp.saturating_sub(size) + STACK_MARGIN;
    crate::base::stats::record_stack_bytes(resident_bytes(low, sp - low));
}
