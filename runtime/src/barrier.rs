//! The store barrier: the one helper through which every pointer store into
//! an existing object goes (docs/REGION_DEPENDENCY_RULES.md).
//!
//! Invariant kept: nothing reachable from an object points into a region
//! younger than the object's own region (the older-only store rule), so a
//! region can never be kept alive by — or dangle from — an older one, and
//! region cycles cannot form. A store that would break it is repaired, never
//! refused: the stored graph's young part is transmigrated into the
//! container's region and the copy is stored.

use crate::region::{global_region, is_older_or_same, region_of, Region};
use crate::stats;
use crate::transmigrate::transmigrate_younger_than;
use crate::value::{is_ptr, Value};

/// Make `value` storable into an object of region `dst`: returns `value`
/// itself when it already lives in `dst` or an older region, else a copy of
/// its young part in `dst`.
///
/// # Safety
/// `dst` is a live region of the calling thread; `value` is a live value.
pub unsafe fn store_into(dst: *mut Region, value: Value) -> Value {
    if !is_ptr(value) {
        return value;
    }
    // SAFETY: `value` is a live object (caller contract), so it has a region.
    let src = unsafe { region_of(value) };
    // SAFETY: both regions are live.
    if src == dst || unsafe { is_older_or_same(src, dst) } {
        // The value itself is old enough; its reachable part is too (by
        // induction: every earlier store kept the invariant).
        stats::record_barrier(false);
        return value;
    }
    stats::record_barrier(true);
    // SAFETY: forwarded contract.
    unsafe { transmigrate_younger_than(value, dst).value }
}

/// The store helper for a store of `value` into a field of `container`;
/// returns the value to store.
///
/// # Safety
/// `container` is a live heap object, `value` a live value, both of this thread.
#[no_mangle]
pub unsafe extern "C" fn omni_store_barrier(container: Value, value: Value) -> Value {
    if !is_ptr(value) {
        return value;
    }
    // SAFETY: the container is a live object.
    unsafe { store_into(region_of(container), value) }
}

/// The store helper for a store of `value` into a global variable (the
/// global region is the container).
///
/// # Safety
/// `value` is a live value of this thread.
#[no_mangle]
pub unsafe extern "C" fn omni_global_store(value: Value) -> Value {
    // SAFETY: the global region lives for the whole program.
    unsafe { store_into(global_region(), value) }
}
