//! Tethers and borrowed references (R5).
//!
//! A pointer loaded from a mutable place (a global, a container slot, a
//! captured variable) can lose its region when the place is overwritten and
//! the region's last reference goes away while the pointer is still in use.
//! A *tether* pins the region for such a window: it is one more unit in the
//! region's liveness word, so the region cannot be reclaimed while tethered.
//!
//! A `BorrowedRef` records `(region, epoch, tether)` when it is taken. The
//! region's epoch advances on every reclaim, so a dereference through
//! `BorrowedRef::get` in a debug build detects both "the region was
//! reclaimed" and "the tether this borrow relied on has ended" and aborts
//! with a message instead of reading freed memory. Tethers belong to the
//! region's owning thread (docs/REGION_TETHERING.md).

use crate::base::stats::{self, Counter};
use crate::base::value::{is_ptr, Value};
use crate::region::{
    fatal, liveness_add_tether, liveness_drop_tether, region_epoch, region_id, region_of, Region,
};

/// How many simultaneously active tethers per region the debug tracking
/// records; further ones are counted (they still pin) but borrows through
/// them only get the epoch check.
/// Release builds track none (the stale-borrow checks are debug-only), so
/// the record costs the control block 8 bytes there.
const TRACKED_TETHERS: usize = if cfg!(debug_assertions) { 8 } else { 0 };

/// Debug-build record of a region's active tethers (serials), kept in the
/// control block and touched only by the owning thread.
#[derive(Clone, Copy, Debug)]
pub struct TetherDebug {
    /// Serials of tracked tethers are 32-bit (they wrap after 4 billion
    /// tethers of one region, far beyond any debug session), so the record
    /// costs release builds one word.
    next_serial: u32,
    len: u32,
    active: [u64; TRACKED_TETHERS],
}

impl TetherDebug {
    pub const fn new() -> Self {
        TetherDebug {
            next_serial: 0,
            active: [0; TRACKED_TETHERS],
            len: 0,
        }
    }

    /// Register a new tether; returns its serial (0 = untracked).
    fn start(&mut self) -> u64 {
        self.next_serial = self.next_serial.wrapping_add(1).max(1);
        if (self.len as usize) < TRACKED_TETHERS {
            self.active[self.len as usize] = u64::from(self.next_serial);
            self.len += 1;
            u64::from(self.next_serial)
        } else {
            0
        }
    }

    fn end(&mut self, serial: u64) {
        let n = self.len as usize;
        if let Some(i) = self.active[..n].iter().position(|&s| s == serial) {
            self.active.copy_within(i + 1..n, i);
            self.len -= 1;
        }
    }

    /// The most recently started tracked tether (for LIFO ends from C).
    fn last(&self) -> u64 {
        if self.len == 0 {
            0
        } else {
            self.active[self.len as usize - 1]
        }
    }

    fn is_active(&self, serial: u64) -> bool {
        self.active[..self.len as usize].contains(&serial)
    }
}

impl Default for TetherDebug {
    fn default() -> Self {
        Self::new()
    }
}

/// A tether on a region, ended by `tether_end`.
#[derive(Debug)]
#[must_use = "a tether pins its region until tether_end"]
pub struct Tether {
    region: *mut Region,
    serial: u64,
}

impl Tether {
    pub fn region(&self) -> *mut Region {
        self.region
    }
}

/// Pin `r`: it will not be reclaimed before the matching `tether_end`.
///
/// # Safety
/// `r` is alive and owned by the calling thread, and the caller holds a
/// counted reference to it (typically: the live container it loaded from).
pub unsafe fn tether_start(r: *mut Region) -> Tether {
    // SAFETY: caller contract.
    unsafe { liveness_add_tether(r) };
    stats::count(Counter::Tethers, 1);
    let serial = if cfg!(debug_assertions) {
        // SAFETY: owner-thread-only field of a live region.
        unsafe { (*r).tether_debug.start() }
    } else {
        0
    };
    Tether { region: r, serial }
}

/// End a tether; reclaims the region if nothing else keeps it alive.
///
/// # Safety
/// `t` came from `tether_start` on the calling thread.
pub unsafe fn tether_end(t: Tether) {
    if cfg!(debug_assertions) {
        // SAFETY: the tether still pins the region, so it is alive.
        unsafe { (*t.region).tether_debug.end(t.serial) };
    }
    // SAFETY: `t` owns one tether unit.
    unsafe { liveness_drop_tether(t.region) }
}

/// Tether the region of `v` (no-op tether on the global region for
/// immediates is not needed: returns None for non-pointers).
///
/// # Safety
/// If `v` is a pointer, its region is alive and held by the caller.
pub unsafe fn tether_value(v: Value) -> Option<Tether> {
    if !is_ptr(v) {
        return None;
    }
    // SAFETY: caller contract.
    Some(unsafe { tether_start(region_of(v)) })
}

/// A value borrowed under a tether (or under its region's scope), with what
/// is needed to check in debug builds that it is still valid when used.
#[derive(Clone, Copy, Debug)]
pub struct BorrowedRef {
    value: Value,
    region: *mut Region,
    epoch: u64,
    /// The tether the borrow relies on (0 = none: only the epoch is checked).
    tether_serial: u64,
}

/// Borrow `v` under tether `t`: valid until `t` ends.
///
/// # Safety
/// `v` is an immediate or an object of a live region.
pub unsafe fn borrow(t: &Tether, v: Value) -> BorrowedRef {
    // SAFETY: the tether keeps its region alive.
    let epoch = unsafe { region_epoch(t.region) };
    BorrowedRef {
        value: v,
        region: t.region,
        epoch,
        tether_serial: t.serial,
    }
}

/// Borrow `v` relying on its region's scope or external references only:
/// valid until the region is reclaimed.
///
/// # Safety
/// `v` is an immediate or an object of a live region.
pub unsafe fn borrow_unpinned(v: Value) -> BorrowedRef {
    if !is_ptr(v) {
        return BorrowedRef {
            value: v,
            region: std::ptr::null_mut(),
            epoch: 0,
            tether_serial: 0,
        };
    }
    // SAFETY: caller contract.
    unsafe {
        let r = region_of(v);
        BorrowedRef {
            value: v,
            region: r,
            epoch: region_epoch(r),
            tether_serial: 0,
        }
    }
}

impl BorrowedRef {
    /// The borrowed value; in debug builds checks it first (`check`).
    #[inline]
    pub fn get(&self) -> Value {
        if cfg!(debug_assertions) {
            self.check();
        }
        self.value
    }

    /// Abort if the region was reclaimed since the borrow, or (debug builds)
    /// if the tether the borrow relies on has ended.
    pub fn check(&self) {
        if self.region.is_null() {
            return;
        }
        // SAFETY: control blocks stay readable after reclaim (debug builds
        // never free them; in release builds `check` is only called
        // explicitly, by callers that keep the block pooled).
        unsafe {
            let now = region_epoch(self.region);
            if now != self.epoch {
                fatal(format_args!(
                    "stale borrow: region {} was reclaimed after the borrow (epoch {} -> {})",
                    region_id(self.region),
                    self.epoch,
                    now
                ));
            }
            if cfg!(debug_assertions)
                && self.tether_serial != 0
                && !(*self.region).tether_debug.is_active(self.tether_serial)
            {
                fatal(format_args!(
                    "stale borrow: tether {} on region {} ended before this use",
                    self.tether_serial,
                    region_id(self.region)
                ));
            }
        }
    }
}

/// C ABI: tether a region (generated code ends tethers in LIFO order).
///
/// # Safety
/// As `tether_start`.
#[no_mangle]
pub unsafe extern "C" fn omni_tether_start(r: *mut Region) {
    // SAFETY: forwarded contract; the token's serial is re-derived (LIFO) at the end.
    let _ = unsafe { tether_start(r) };
}

/// C ABI: end the most recent tether on a region.
///
/// # Safety
/// The calling thread holds a tether on `r` from `omni_tether_start`.
#[no_mangle]
pub unsafe extern "C" fn omni_tether_end(r: *mut Region) {
    let serial = if cfg!(debug_assertions) {
        // SAFETY: the tether keeps the region alive.
        unsafe { (*r).tether_debug.last() }
    } else {
        0
    };
    // SAFETY: forwarded contract.
    unsafe { tether_end(Tether { region: r, serial }) }
}
