//! The global-state entry points generated code calls (`omni_state_*`,
//! `omni_global_set`): the current state region, safe points, `set!` of a
//! global, pins and escape holds (graph/state.rs has the model).
//!
//! A *pin* keeps the state versions an activation loaded values from alive
//! until the activation ends: generated code keeps one word per activation
//! (null until the first pin), passes it to `omni_state_pin*`, and exits it
//! with `omni_state_unpin` before every return and tail call. The pin is a
//! scope region of its own holding each version, so a coroutine abandoned
//! by an error exits it like any other scope region it left open.

use crate::base::raise::raise;
use crate::base::value::{is_ptr, Value, UNBOUND};
use crate::control::coroutine::{note_region_exit, note_region_open};
use crate::graph::barrier::store_into;
use crate::graph::state::{self, version_of};
use crate::region::{
    for_each_hold, hold, owner, region_create_pin, region_exit_pin, region_is_state_version, Region,
};

/// The current version of the global-state region.
#[no_mangle]
pub extern "C" fn omni_rt_state_region() -> *mut Region {
    state::state_region()
}

/// Register the global variables' slots (the start-up code, once).
///
/// # Safety
/// `base` points to `n` value slots that stay valid for the program.
#[no_mangle]
pub unsafe extern "C" fn omni_rt_register_globals(base: *mut Value, n: u64) {
    // SAFETY: forwarded contract.
    unsafe { state::register_roots(base, n as usize) };
    state::state_region();
}

/// A safe point after a store that may have grown the global state.
#[no_mangle]
pub extern "C" fn omni_state_safepoint() {
    state::safepoint();
}

/// `set!` or definition of a global variable: refused on a spawned thread
/// (globals belong to the program thread), the value made storable into the
/// global state when `barrier` is set, stored, then a safe point — or, for
/// the global's first binding, a definition point (`state::definition_point`:
/// the defined value is live, so the renewal limit grows instead).
///
/// # Safety
/// `slot` is a global variable's slot; `value` a live value of this thread.
#[no_mangle]
pub unsafe extern "C" fn omni_global_set(slot: *mut Value, value: Value, barrier: u64, loc: u32) {
    if owner::is_spawned_thread() {
        foreign_global_set(loc);
    }
    // SAFETY: caller contract.
    let old = unsafe { *slot };
    if !is_ptr(value) && !is_ptr(old) && old != UNBOUND {
        // An immediate replacing an immediate (json's `(set! pos (+ pos
        // 1))`): the global state neither grows nor drops anything, so
        // there is nothing to repair and no reason for a safe point.
        // SAFETY: caller contract.
        unsafe { *slot = value };
        return;
    }
    // The barrier also moves a value of a retired version (built before a
    // renewal this activation saw) into the current one.
    // SAFETY: `value` is a live value (caller contract).
    let in_state = unsafe { version_of(value) }.is_some();
    let value = if barrier != 0 || in_state {
        // SAFETY: the current state version is live; `value` is live.
        unsafe { store_into(state::state_region(), value) }
    } else {
        value
    };
    // A global's first binding replaces nothing: no renewal there.
    // SAFETY: caller contract.
    let defining = unsafe { *slot } == UNBOUND;
    // SAFETY: caller contract.
    unsafe { *slot = value };
    if defining {
        state::definition_point();
    } else {
        state::safepoint();
    }
}

#[cold]
fn foreign_global_set(loc: u32) -> ! {
    let me = std::thread::current();
    let name = me.name().unwrap_or("a spawned thread");
    raise(
        format!(
            "cannot set! a global variable from {name}: globals belong to the program thread; \
             send values through a channel instead"
        ),
        loc,
    )
}

/// Pin the state version `v` points into (if any) for the rest of the
/// activation whose two-word pin word is `[pins, last]`: `pins` is its pin
/// region (null until the first pin), `last` the version it pinned last.
/// Generated code compares a value's region with `last` and calls only when
/// they differ: a loop over a global list pins cell after cell of one
/// version. `last` is always a version `pins` holds, so it cannot be
/// reclaimed (and its control block reused) while it is cached.
///
/// # Safety
/// `word` is this activation's pin word; `v` a live value.
#[no_mangle]
pub unsafe extern "C" fn omni_state_pin_word(word: *mut *mut Region, v: Value) {
    // SAFETY: caller contract.
    unsafe {
        let Some(r) = version_of(v) else {
            return;
        };
        if owner::is_spawned_thread() {
            return;
        }
        *word = pin_on_program_thread(*word, r);
        *word.add(1) = r;
    }
}

/// Pin the state version `r` (the current one, passed as a region operand).
///
/// # Safety
/// `pins` is null or this activation's pin region; `r` is a live state
/// version.
#[no_mangle]
pub unsafe extern "C" fn omni_state_pin_region(pins: *mut Region, r: *mut Region) -> *mut Region {
    // SAFETY: forwarded contract.
    unsafe { pin(pins, r) }
}

/// # Safety
/// As `omni_state_pin_region`.
unsafe fn pin(pins: *mut Region, r: *mut Region) -> *mut Region {
    // Spawned threads never see a renewal while they run: nothing to pin.
    if owner::is_spawned_thread() {
        return pins;
    }
    // SAFETY: forwarded contract.
    unsafe { pin_on_program_thread(pins, r) }
}

/// `pin` once the caller knows this is not a spawned thread.
///
/// # Safety
/// As `omni_state_pin_region`.
#[inline]
unsafe fn pin_on_program_thread(pins: *mut Region, r: *mut Region) -> *mut Region {
    let p = if pins.is_null() {
        let p = region_create_pin();
        note_region_open(p);
        p
    } else {
        pins
    };
    // SAFETY: `p` is this thread's; `r` is alive (the caller's value or
    // region operand is in it).
    unsafe { hold(p, r) };
    p
}

/// End the activation's pin (null: it pinned nothing).
///
/// # Safety
/// `pins` is null or this activation's pin region, unpinned once.
#[no_mangle]
pub unsafe extern "C" fn omni_state_unpin(pins: *mut Region) {
    if pins.is_null() {
        return;
    }
    note_region_exit(pins);
    // A version the last renewal retired may be released when this pin,
    // which held it, ends (state::pin_ended).
    let retired = state::retired_while_pinned();
    let mut held_retired = false;
    // SAFETY: caller contract: `pins` is live until the exit below.
    unsafe {
        if !retired.is_null() {
            for_each_hold(pins, &mut |r| held_retired |= r == retired);
        }
        region_exit_pin(pins);
    }
    if held_retired {
        state::pin_ended(retired);
    }
}

/// The pins of a loop iteration at its back edge: a self-tail-recursive
/// loop keeps its pin region from one iteration to the next while every
/// version it holds is the current one (which is alive anyway, so holding
/// it an iteration longer keeps nothing extra alive); otherwise the pins
/// end as by [`omni_state_unpin`] and the next iteration starts with none.
/// A loop over a global list that calls an unknown function pinned and
/// unpinned a fresh pin region at every element before.
///
/// # Safety
/// `word` is this activation's pin word (`omni_state_pin_word`).
#[no_mangle]
pub unsafe extern "C" fn omni_state_repin(word: *mut *mut Region) {
    // SAFETY: caller contract.
    let pins = unsafe { *word };
    if pins.is_null() {
        return;
    }
    let current = state::current_version();
    let mut only_current = true;
    // SAFETY: caller contract: `pins` is this activation's live pin region.
    unsafe {
        for_each_hold(pins, &mut |r| only_current &= r == current);
        if only_current {
            return;
        }
        omni_state_unpin(pins);
        *word = std::ptr::null_mut();
        *word.add(1) = std::ptr::null_mut();
    }
}

/// A value that may be *stale* — read before a renewal, or from a
/// closure's environment or a box — about to be built into a new object,
/// passed to a call or returned: when it is an object of a retired version
/// of the global state, it moves to the current version (forwarding the
/// original, so it stays the same object) and the moved value is returned.
/// An object of the current version or of another region is returned as
/// is. No object built in the state region therefore points into a
/// version that nothing it reaches keeps alive (ctrr/state.rs, "refresh").
///
/// # Safety
/// `v` is a live value of the program thread (spawned threads never see a
/// renewal: values are returned as they are).
#[no_mangle]
pub unsafe extern "C" fn omni_state_refresh(v: Value) -> Value {
    if owner::is_spawned_thread() {
        return v;
    }
    // SAFETY: caller contract.
    unsafe { state::refresh(v) }
}

/// A value loaded from a global escapes to `holder` (the result region):
/// `holder` holds the state version it points into.
///
/// # Safety
/// `holder` is a live region of this thread; `v` a live value.
#[no_mangle]
pub unsafe extern "C" fn omni_state_hold_value(holder: *mut Region, v: Value) {
    // SAFETY: caller contract; state versions never hold one another here
    // (the renewal's retired set keeps those, graph/state.rs).
    unsafe {
        if !region_is_state_version(holder) {
            state::hold_value(holder, v);
        }
    }
}

/// The region to build a value in that a loop stores into `container`
/// and into nothing else, before any renewal point (ctrr/carry.rs, "built
/// where the container lives"): the current version of the global state
/// when the container (its latest copy) is an object of it — the store then
/// repairs nothing and the value is garbage of that version once replaced,
/// which the next renewal reclaims — else `result`, the loop's result
/// region, where a container of it (a caller's own array) keeps it without
/// a copy; for any other container the store barrier copies as before. A
/// spawned thread never builds in the state (it may not store into it).
///
/// # Safety
/// `container` is a live value of this thread; `result` its live region.
#[no_mangle]
pub unsafe extern "C" fn omni_store_region(container: Value, result: *mut Region) -> *mut Region {
    let c = crate::heap::object::resolve(container);
    if !is_ptr(c) || owner::is_spawned_thread() {
        return result;
    }
    let current = state::current_version();
    // SAFETY: caller contract: `c` is a live object, so it has a region.
    if !current.is_null() && unsafe { crate::region::region_of(c) } == current {
        current
    } else {
        result
    }
}
