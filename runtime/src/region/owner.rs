//! Region ownership across threads: which thread may store into a region's
//! objects. Every mortal region has one owning thread; a spawned thread
//! that tries to mutate an object it does not own (a global's value) gets a
//! runtime error from the store barrier ([`check_store_target`]), never a
//! data race on region memory (docs/REGION_THREADING_MODEL.md). The thread
//! module (`control::thread`) sets the two flags read here when it spawns.

use super::{region_owner, Region};
use crate::base::atomics::{ConfigWord, LiveCount};
use crate::base::raise::raise;
use std::cell::Cell;

// Set once the first thread is spawned: until then no ownership check runs.
crate::base::atomics::runtime_static!(THREADS_STARTED: ConfigWord = ConfigWord::new(0); fn threads_started);

// Spawned threads that have not finished (the global-state renewal waits
// for none to run: they read globals without pins).
crate::base::atomics::runtime_static!(LIVE_SPAWNED: LiveCount = LiveCount::new(); fn live_spawned);

/// A thread is about to be spawned (counted before it starts).
pub fn spawned_thread_begins() {
    live_spawned().live_begin();
}

/// A spawned thread is done with the program's shared state (its last act).
pub fn spawned_thread_ends() {
    live_spawned().live_end();
}

/// Spawned threads started and not yet finished.
pub fn live_spawned_threads() -> u64 {
    live_spawned().live_load()
}

thread_local! {
    /// True on threads started by `spawn`.
    static SPAWNED: Cell<bool> = const { Cell::new(false) };
}

/// Record that a thread is about to be spawned (before it exists): from
/// now on stores are checked, and reference counts are locked
/// read-modify-writes (base/atomics.rs, `SOLE_THREAD`).
pub fn note_threads_started() {
    threads_started().config_store(1);
    crate::base::atomics::sole_thread_end();
}

/// Mark the calling thread as started by `spawn` (its first action).
pub fn mark_spawned_thread() {
    SPAWNED.with(|s| s.set(true));
    crate::base::stack::mark_spawned_words();
}

/// Whether the calling thread was started by `spawn`.
pub fn is_spawned_thread() -> bool {
    SPAWNED.with(|s| s.get())
}

/// The store helper's ownership check: a spawned thread may only store into
/// objects of regions it owns (the global region belongs to the program
/// thread). Raises `cannot mutate ...` otherwise. One relaxed load when no
/// thread was ever spawned.
///
/// # Safety
/// `dst` is a readable control block.
#[inline]
pub unsafe fn check_store_target(dst: *mut Region) {
    if threads_started().config_load() == 0 {
        return;
    }
    if !is_spawned_thread() {
        return;
    }
    // SAFETY: caller contract.
    let owner = unsafe { region_owner(dst) };
    if owner != crate::region::current_thread_serial() {
        foreign_store(owner)
    }
}

#[cold]
fn foreign_store(owner: u64) -> ! {
    let whose = if owner == 0 {
        "the program thread (a global's value)".to_string()
    } else {
        format!("thread serial {owner}")
    };
    raise(
        format!(
            "cannot mutate an object owned by another thread: its region belongs to {whose}; \
             send values through a channel instead"
        ),
        0,
    )
}
