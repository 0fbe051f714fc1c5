//! The one place where the runtime touches atomic memory.
//!
//! Every atomic the runtime uses is one of the small wrapper types below, and
//! every access is a named operation whose memory ordering is fixed here and
//! justified in `docs/ATOMIC_POLICY.md`. Nothing else in the crate imports
//! `std::sync::atomic`. Under `cfg(loom)` the same wrappers are built on
//! loom's model-checked atomics, so the loom test exercises exactly the
//! orderings the real runtime uses.

#[cfg(loom)]
use loom::sync::atomic::{fence, AtomicPtr, AtomicU64, Ordering};
#[cfg(not(loom))]
use std::sync::atomic::{fence, AtomicPtr, AtomicU64, Ordering};

/// A reference count (or a packed word of counts) that decides when a shared
/// object is reclaimed. The count of whoever brings it to zero reclaims.
///
/// Ordering: increments are `Relaxed` because the caller already holds a
/// counted reference, so the object cannot be reclaimed concurrently and no
/// data is published by the increment. Decrements are `Release` so that every
/// write a holder made before dropping its reference happens-before the
/// reclaim; the thread that sees the count reach zero issues an `Acquire`
/// fence before touching the object (the `Arc` protocol).
pub struct RcWord(AtomicU64);

/// Set while exactly one thread runs runtime code: the program thread of
/// `omnic run` or of a native executable, before its first `spawn`. Nothing
/// else can then read or write a reference count at the same time, so
/// [`RcWord`] counts with a plain load and store instead of a locked
/// read-modify-write (on x86-64 a `lock xadd` costs ~20 cycles; the holds
/// of the global state's versions made them about a tenth of the `interp`
/// benchmark's time, issue 13). See docs/ATOMIC_POLICY.md, "Sole-thread
/// counting".
#[cfg(not(loom))]
static SOLE_THREAD: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The program entry is about to start the one thread that will run the
/// program (it calls this before spawning it, so the spawn publishes the
/// flag to that thread).
///
/// Only the program entry may call it, and only while no other thread can
/// touch the runtime: a test harness running several programs or regions
/// side by side must not (the runtime's own unit tests therefore never turn
/// it on: see `rt::entry::run_jit`).
pub fn sole_thread_begin() {
    #[cfg(not(loom))]
    SOLE_THREAD.store(true, Ordering::Release);
}

/// A second thread is about to start (`spawn`): from now on every count is
/// a locked read-modify-write. Called by the spawning thread before the new
/// thread exists, so the new thread sees the flag cleared (the spawn is a
/// synchronising edge) and the spawning thread sees its own store. Never
/// set again: counts stay atomic for the rest of the process.
pub fn sole_thread_end() {
    // Only the first spawn stores: it runs while no other thread exists.
    // Later spawns (any thread) find the flag clear and leave it alone,
    // so the flag is written once and read concurrently after that.
    #[cfg(not(loom))]
    if SOLE_THREAD.load(Ordering::Relaxed) {
        SOLE_THREAD.store(false, Ordering::Release);
    }
}

/// Whether the calling thread is the only one running runtime code.
#[inline(always)]
fn sole_thread() -> bool {
    #[cfg(not(loom))]
    {
        SOLE_THREAD.load(Ordering::Relaxed)
    }
    #[cfg(loom)]
    {
        false
    }
}

impl RcWord {
    #[cfg(not(loom))]
    pub const fn new(v: u64) -> Self {
        RcWord(AtomicU64::new(v))
    }
    #[cfg(loom)]
    pub fn new(v: u64) -> Self {
        RcWord(AtomicU64::new(v))
    }

    /// Add `unit`; returns the previous word. Relaxed: see the type doc.
    #[inline(always)]
    pub fn rc_increment(&self, unit: u64) -> u64 {
        if sole_thread() {
            // No other thread runs runtime code (`SOLE_THREAD`).
            let prev = self.0.load(Ordering::Relaxed);
            self.0.store(prev.wrapping_add(unit), Ordering::Relaxed);
            return prev;
        }
        self.0.fetch_add(unit, Ordering::Relaxed)
    }

    /// Subtract `unit`; returns the previous word. When the result is zero
    /// (`previous == unit`) an acquire fence has been issued, so the caller
    /// may reclaim.
    #[inline(always)]
    pub fn rc_decrement(&self, unit: u64) -> u64 {
        if sole_thread() {
            // No other thread runs runtime code (`SOLE_THREAD`): nothing to
            // publish or to acquire.
            let prev = self.0.load(Ordering::Relaxed);
            self.0.store(prev.wrapping_sub(unit), Ordering::Relaxed);
            return prev;
        }
        let prev = self.0.fetch_sub(unit, Ordering::Release);
        if prev == unit {
            fence(Ordering::Acquire);
        }
        prev
    }

    /// Drop `unit` when the caller may be the *sole* holder: if the word is
    /// exactly `unit` (an `Acquire` load), nobody else holds a reference and,
    /// since only holders may add references, nobody can add one
    /// concurrently, so the word is left as is and `unit` is returned (the
    /// caller reclaims; the memory is reinitialised before reuse). Otherwise
    /// an ordinary `rc_decrement`. Saves the locked read-modify-write on the
    /// common "scope exit of an unshared region" path.
    #[inline(always)]
    pub fn rc_decrement_sole_fast(&self, unit: u64) -> u64 {
        let now = self.0.load(Ordering::Acquire);
        if now == unit {
            return unit;
        }
        self.rc_decrement(unit)
    }

    /// A snapshot for diagnostics and debug checks; never used to decide a
    /// reclaim (that is only ever the result of `rc_decrement`).
    #[inline(always)]
    pub fn load_snapshot(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    /// (Re)initialise a word nobody else can see yet (a fresh or pooled
    /// control block before it is handed out).
    #[inline(always)]
    pub fn init_unshared(&self, v: u64) {
        self.0.store(v, Ordering::Relaxed)
    }
}

/// A statistics counter: only ever summed and reported, never used to
/// synchronise, so every access is `Relaxed`.
pub struct StatCounter(AtomicU64);

impl StatCounter {
    #[cfg(not(loom))]
    pub const fn new(v: u64) -> Self {
        StatCounter(AtomicU64::new(v))
    }
    #[cfg(loom)]
    pub fn new(v: u64) -> Self {
        StatCounter(AtomicU64::new(v))
    }
    #[inline(always)]
    pub fn stat_add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }
    #[inline(always)]
    pub fn stat_sub(&self, n: u64) {
        self.0.fetch_sub(n, Ordering::Relaxed);
    }
    /// Raise to at least `v` (peaks).
    #[inline(always)]
    pub fn stat_max(&self, v: u64) {
        self.0.fetch_max(v, Ordering::Relaxed);
    }
    /// Reset (statistics baselines only).
    #[inline(always)]
    pub fn stat_store(&self, v: u64) {
        self.0.store(v, Ordering::Relaxed);
    }
    #[inline(always)]
    pub fn stat_load(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A source of unique, increasing numbers (region creation sequence, thread
/// serials). Uniqueness only needs the atomicity of `fetch_add`; the numbers
/// publish no data, so `Relaxed`.
pub struct SequenceCounter(AtomicU64);

impl SequenceCounter {
    #[cfg(not(loom))]
    pub const fn new(first: u64) -> Self {
        SequenceCounter(AtomicU64::new(first))
    }
    #[cfg(loom)]
    pub fn new(first: u64) -> Self {
        SequenceCounter(AtomicU64::new(first))
    }
    /// Reserve `n` consecutive numbers; returns the first.
    #[inline(always)]
    pub fn seq_reserve(&self, n: u64) -> u64 {
        self.0.fetch_add(n, Ordering::Relaxed)
    }
}

/// A region's reclaim epoch: bumped once per reclaim of the control block.
/// Written by the reclaiming thread (`Release`) and read by debug borrow
/// checks (`Acquire`), so a check that sees the new epoch also sees the
/// reclaim's other effects (poisoned memory).
pub struct EpochCell(AtomicU64);

impl EpochCell {
    #[cfg(not(loom))]
    pub const fn new(v: u64) -> Self {
        EpochCell(AtomicU64::new(v))
    }
    #[cfg(loom)]
    pub fn new(v: u64) -> Self {
        EpochCell(AtomicU64::new(v))
    }
    #[inline(always)]
    pub fn epoch_load(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }
    /// Advance the epoch. Only the unique reclaimer of a control block
    /// writes it, so a plain load + `Release` store suffices (no locked RMW).
    #[inline(always)]
    pub fn epoch_advance(&self) -> u64 {
        let next = self.0.load(Ordering::Relaxed) + 1;
        self.0.store(next, Ordering::Release);
        next
    }
}

/// A pointer that is published once (the global region). `Release` on the
/// publishing compare-exchange, `Acquire` on loads, so whoever sees the
/// pointer sees the fully initialised object behind it.
#[repr(transparent)]
pub struct PublishedPtr<T>(AtomicPtr<T>);

impl<T> PublishedPtr<T> {
    #[cfg(not(loom))]
    pub const fn new() -> Self {
        PublishedPtr(AtomicPtr::new(std::ptr::null_mut()))
    }
    #[cfg(loom)]
    pub fn new() -> Self {
        PublishedPtr(AtomicPtr::new(std::ptr::null_mut()))
    }
    #[inline(always)]
    pub fn ptr_load(&self) -> *mut T {
        self.0.load(Ordering::Acquire)
    }
    /// Replace the published pointer (the global-state region's renewal, on
    /// the program thread while no other thread runs; readers on other
    /// threads later see it through `ptr_load`'s acquire).
    #[inline(always)]
    pub fn ptr_replace(&self, p: *mut T) {
        self.0.store(p, Ordering::Release)
    }
    /// Publish `p` if nothing was published yet; returns the pointer that is
    /// published after the call (either `p` or the earlier winner).
    pub fn ptr_publish_once(&self, p: *mut T) -> *mut T {
        match self
            .0
            .compare_exchange(std::ptr::null_mut(), p, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => p,
            Err(winner) => winner,
        }
    }
}

/// A count of running things (spawned threads) that gates work which must
/// not overlap them (the global-state renewal). A thing ends with a
/// `Release` decrement after its last access to shared state; the gate
/// reads with `Acquire`, so seeing zero orders every such access before
/// the gated work. Increments are `Relaxed`: they come before the thing
/// starts, in the starting thread's own order.
pub struct LiveCount(AtomicU64);

impl Default for LiveCount {
    fn default() -> Self {
        Self::new()
    }
}

impl LiveCount {
    #[cfg(not(loom))]
    pub const fn new() -> Self {
        LiveCount(AtomicU64::new(0))
    }
    #[cfg(loom)]
    pub fn new() -> Self {
        LiveCount(AtomicU64::new(0))
    }
    #[inline(always)]
    pub fn live_begin(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
    #[inline(always)]
    pub fn live_end(&self) {
        self.0.fetch_sub(1, Ordering::Release);
    }
    #[inline(always)]
    pub fn live_load(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }
}

/// A configuration word read on slow paths (the region quota). Set once at
/// start-up or by tests; readers only need *some* value that was stored, so
/// `Relaxed`.
#[repr(transparent)]
pub struct ConfigWord(AtomicU64);

impl ConfigWord {
    #[cfg(not(loom))]
    pub const fn new(v: u64) -> Self {
        ConfigWord(AtomicU64::new(v))
    }
    #[cfg(loom)]
    pub fn new(v: u64) -> Self {
        ConfigWord(AtomicU64::new(v))
    }
    #[inline(always)]
    pub fn config_load(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
    #[inline(always)]
    pub fn config_store(&self, v: u64) {
        self.0.store(v, Ordering::Relaxed)
    }
}

/// Declare a process-wide static holding atomics, with an accessor function.
/// Loom atomics cannot be built in a `const` context and must be created
/// inside each model execution, so under `cfg(loom)` the static is a
/// `loom::lazy_static`.
macro_rules! runtime_static {
    ($name:ident : $ty:ty = $init:expr; fn $getter:ident) => {
        #[cfg(not(loom))]
        static $name: $ty = $init;
        #[cfg(not(loom))]
        #[inline(always)]
        fn $getter() -> &'static $ty {
            &$name
        }
        #[cfg(loom)]
        loom::lazy_static! {
            static ref $name: $ty = $init;
        }
        #[cfg(loom)]
        fn $getter() -> &'static $ty {
            &$name
        }
    };
}
pub(crate) use runtime_static;

impl<T> Default for PublishedPtr<T> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn rc_word_reports_the_zero_transition_once() {
        let w = RcWord::new(1);
        assert_eq!(w.rc_increment(4), 1);
        assert_eq!(w.rc_decrement(1), 5);
        assert_eq!(
            w.rc_decrement(4),
            4,
            "previous == unit means this call reached zero"
        );
        assert_eq!(w.load_snapshot(), 0);
    }

    #[test]
    fn counters_and_sequences() {
        let c = StatCounter::new(0);
        c.stat_add(5);
        c.stat_sub(2);
        c.stat_max(2);
        assert_eq!(c.stat_load(), 3);
        c.stat_max(10);
        assert_eq!(c.stat_load(), 10);
        let s = SequenceCounter::new(7);
        assert_eq!(s.seq_reserve(3), 7);
        assert_eq!(s.seq_reserve(1), 10);
        let e = EpochCell::new(0);
        assert_eq!(e.epoch_advance(), 1);
        assert_eq!(e.epoch_load(), 1);
        let p: PublishedPtr<u8> = PublishedPtr::new();
        let mut a = 1u8;
        let mut b = 2u8;
        assert_eq!(p.ptr_publish_once(&mut a), &mut a as *mut u8);
        assert_eq!(p.ptr_publish_once(&mut b), &mut a as *mut u8);
        assert_eq!(p.ptr_load(), &mut a as *mut u8);
    }
}
