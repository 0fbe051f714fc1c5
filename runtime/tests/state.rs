//! The global-state region's renewal (graph/state.rs, docs/REGION_RC_MODEL.md
//! "The global-state region"), driven directly through the entry points
//! generated code calls: registered globals, safe points, pins.
//!
//! The state region is process-wide: the tests hold `SERIAL`, and each
//! starts by registering its own global slot.

mod common;

use common::list;
use omni_runtime::graph::state::{safepoint, state_region};
use omni_runtime::object::{alloc_pair, car, cdr, is_forwarded, resolve};
use omni_runtime::region::{
    for_each_hold, open_regions, region_accounting, region_bytes, region_epoch, region_exit,
    region_id, region_is_alive, region_of, Region,
};
use omni_runtime::rt::state_abi::{
    omni_rt_register_globals, omni_state_pin_region, omni_state_pin_word, omni_state_refresh,
    omni_state_repin, omni_state_unpin,
};
use omni_runtime::stats::snapshot;
use omni_runtime::value::{int_value, Value, NIL};
use std::sync::{Mutex, MutexGuard};

static SERIAL: Mutex<()> = Mutex::new(());

/// Serialises the tests of this file; flushes the thread's statistics when
/// dropped (before the lock is released), so the counts one test reads are
/// not moved by another test's thread ending.
struct Serial(#[allow(dead_code)] MutexGuard<'static, ()>);

impl Drop for Serial {
    fn drop(&mut self) {
        omni_runtime::stats::flush_thread();
    }
}

fn serial() -> Serial {
    let g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    omni_runtime::stats::flush_thread();
    Serial(g)
}

/// Allocate garbage in the current version until it passes the renewal
/// limit, then run a safe point: a renewal.
///
/// # Safety
/// The program thread, with the globals registered.
unsafe fn renew_now() -> *mut Region {
    let before = state_region();
    // SAFETY: the current version is alive and this thread's.
    unsafe {
        while region_bytes(before) < (1 << 20) {
            list(before, 0, 64);
        }
    }
    safepoint();
    let after = state_region();
    assert_ne!(before, after, "the safe point renewed the state");
    after
}

/// Pin `v` as generated code does (`omni_state_pin_word`) for an activation
/// whose pin region is `pins` (null: none yet); the pin region after.
///
/// # Safety
/// As `omni_state_pin_word`.
unsafe fn pin_value(pins: *mut Region, v: Value) -> *mut Region {
    let mut word = [pins, std::ptr::null_mut()];
    // SAFETY: caller contract.
    unsafe { omni_state_pin_word(word.as_mut_ptr(), v) };
    word[0]
}

/// The sum of a list of Ints (reading through forwarding).
///
/// # Safety
/// `l` is a live proper list of Ints.
unsafe fn sum(mut l: Value) -> i64 {
    let mut s = 0;
    while l != NIL {
        // SAFETY: caller contract.
        unsafe {
            s += int_value(car(l));
            l = cdr(l);
        }
    }
    s
}

/// The program's one global: a leaked slot registered as the state's root,
/// holding a 10-element list (sum 55) built in the current state version;
/// with the live-region count from before the list and that version.
///
/// # Safety
/// The calling test is the program thread and holds `serial()`.
unsafe fn one_global_of_ten() -> (&'static mut Value, i64, *mut Region) {
    let slot: &'static mut Value = Box::leak(Box::new(NIL));
    // SAFETY: the slot lives for the process (leaked).
    unsafe { omni_rt_register_globals(slot as *mut Value, 1) };
    let regions_at_start = snapshot().regions_live;
    let v1 = state_region();
    // SAFETY: `v1` is the current version, alive.
    *slot = unsafe { list(v1, 1, 10) };
    (slot, regions_at_start, v1)
}

/// An object built in a newer version from a value of an older one, kept
/// by a caller (pinned) and dropped from every global, stays intact across
/// later renewals: the value is refreshed before it is built in (without,
/// the object pointed into the older version, released by the next renewal
/// once the callee's pin had ended).
#[test]
fn an_object_built_from_an_older_versions_value_keeps_that_version() {
    let _s = serial();
    // SAFETY: this test is the program thread; the slot lives for the
    // process; every pin is ended once.
    unsafe {
        let slot: &'static mut Value = Box::leak(Box::new(NIL));
        omni_rt_register_globals(slot as *mut Value, 1);
        let v1 = state_region();
        let regions_at_start = snapshot().regions_live;
        *slot = list(v1, 1, 100); // sum 5050
                                  // The callee loads the global (pinning its version) ...
        let p = *slot;
        let callee_pin = pin_value(std::ptr::null_mut(), p);
        // ... a renewal happens while it holds the value ...
        let v2 = renew_now();
        assert!(is_forwarded(p), "the renewal forwarded the global's value");
        // ... and it builds its result in the new version around it: the
        // value read before the renewal is refreshed first (ctrr/state.rs).
        let fresh = omni_state_refresh(p);
        assert_ne!(
            region_of(fresh),
            v1,
            "the refreshed value left the retired version"
        );
        let o = alloc_pair(v2, fresh, NIL);
        assert_eq!(region_of(o), v2);
        // The caller keeps the result (pins its version); the callee ends.
        let caller_pin = pin_value(std::ptr::null_mut(), o);
        omni_state_unpin(callee_pin);
        // The global lets go of the value; renewals follow.
        *slot = NIL;
        for _ in 0..4 {
            renew_now();
        }
        assert_eq!(sum(car(resolve(o))), 5050, "the old value is intact");
        omni_state_unpin(caller_pin);
        for _ in 0..2 {
            renew_now();
        }
        // Every version but the current one went, and so did the pins.
        assert_eq!(snapshot().regions_live, regions_at_start);
    }
}

/// An object built in an *older* version (a caller's result region, fetched
/// before a renewal) from a value of a newer version pinned by the callee
/// only: the callee's pin ending must not release the newer version (the
/// older one grew since the renewal), and the caller's refresh of the
/// result moves it, with what it reaches, to the current version.
#[test]
fn an_object_built_in_a_retired_version_keeps_the_newer_version_it_points_into() {
    let _s = serial();
    // SAFETY: as in the test above.
    unsafe {
        let slot: &'static mut Value = Box::leak(Box::new(NIL));
        omni_rt_register_globals(slot as *mut Value, 1);
        renew_now();
        let regions_at_start = snapshot().regions_live;
        // The caller pins the current version and passes it as the callee's
        // result region.
        let result_region = state_region();
        let caller_pin = omni_state_pin_region(std::ptr::null_mut(), result_region);
        // The callee renews, loads the global, pins it, renews again ...
        let v2 = renew_now();
        *slot = list(v2, 1, 100); // sum 5050
        let p = *slot;
        let callee_pin = pin_value(std::ptr::null_mut(), p);
        renew_now();
        // ... and builds its result in the caller's region around it.
        let o = alloc_pair(result_region, p, NIL);
        omni_state_unpin(callee_pin);
        // The callee may have renewed: the caller refreshes the result (a
        // pin that ended must not have released what it points into).
        let o = omni_state_refresh(o);
        assert_eq!(
            region_of(o),
            state_region(),
            "the result moved to the current version"
        );
        // ... and pins what it keeps, as generated code does.
        let caller_pin = pin_value(caller_pin, o);
        *slot = NIL;
        for _ in 0..4 {
            renew_now();
        }
        assert_eq!(sum(car(resolve(o))), 5050, "the newer value is intact");
        omni_state_unpin(caller_pin);
        for _ in 0..2 {
            renew_now();
        }
        assert_eq!(snapshot().regions_live, regions_at_start);
    }
}

/// A loop's pin word `[pins, last]` (generated code's `StatePin` with its
/// cache, and `omni_state_repin` at the back edge): pinning values of one
/// version makes one pin region holding it and caches the version; at a back
/// edge a pin of the current version is kept for the next iteration; after a
/// renewal it is ended (the retired version is not kept by the loop), and a
/// later pin pins the new version.
#[test]
fn a_loops_pin_word_keeps_the_current_version_and_drops_a_retired_one() {
    let _s = serial();
    // SAFETY: this test is the program thread; the slot lives for the
    // process; the pin word is ended once.
    unsafe {
        let (slot, regions_at_start, v1) = one_global_of_ten();
        let mut word: [*mut Region; 2] = [std::ptr::null_mut(); 2];
        // Immediates and objects outside the state pin nothing.
        omni_state_pin_word(word.as_mut_ptr(), omni_runtime::value::make_int(3));
        assert!(word[0].is_null() && word[1].is_null());
        let mut cell = *slot;
        while cell != NIL {
            omni_state_pin_word(word.as_mut_ptr(), cell);
            cell = cdr(cell);
        }
        assert!(!word[0].is_null(), "a pin region");
        assert_eq!(word[1], v1, "the pinned version is cached");
        let pins = word[0];
        // The back edge keeps a pin of the current version.
        omni_state_repin(word.as_mut_ptr());
        assert_eq!(word, [pins, v1]);
        // A renewal retires v1: the next back edge ends the pin.
        let v2 = renew_now();
        omni_state_repin(word.as_mut_ptr());
        assert!(word[0].is_null() && word[1].is_null());
        // The next iteration pins the new version.
        let fresh = omni_state_refresh(*slot);
        omni_state_pin_word(word.as_mut_ptr(), fresh);
        assert_eq!(word[1], v2);
        assert_eq!(sum(*slot), 55);
        omni_state_unpin(word[0]);
        *slot = NIL;
        for _ in 0..2 {
            renew_now();
        }
        assert_eq!(snapshot().regions_live, regions_at_start);
    }
}

/// The regions an ended pin region holds.
///
/// # Safety
/// `pins` is a live region of this thread.
unsafe fn holds_of(pins: *mut Region) -> Vec<*mut Region> {
    let mut held = Vec::new();
    // SAFETY: caller contract.
    unsafe { for_each_hold(pins, &mut |r| held.push(r)) };
    held
}

/// An ended pin region is parked with its chunk and reused by the next
/// first pin (rt/state_abi.rs, region `region_exit_pin`): it then holds only
/// what the new activation pins — the version the old activation pinned was
/// let go when its pin ended, so a renewal releases it — and it is opened
/// as a new scope (a new identity and epoch, the current depth, on top of
/// the open-region stack).
#[test]
fn a_reused_pin_region_holds_only_what_the_new_activation_pins() {
    let _s = serial();
    // SAFETY: this test is the program thread; the slot lives for the
    // process; every pin is ended once.
    unsafe {
        let (slot, regions_at_start, v1) = one_global_of_ten();
        let first = pin_value(std::ptr::null_mut(), *slot);
        assert_eq!(holds_of(first), vec![v1]);
        let first_id = region_id(first);
        let first_epoch = region_epoch(first);
        omni_state_unpin(first);
        assert_eq!(
            snapshot().regions_live,
            regions_at_start,
            "an ended pin counts as reclaimed"
        );
        // Nothing pins v1 any more: the renewal releases it (the global's
        // list moves to v2).
        let v2 = renew_now();
        assert_eq!(snapshot().regions_live, regions_at_start);
        let fresh = omni_state_refresh(*slot);
        assert_eq!(region_of(fresh), v2);
        // The next first pin takes the parked region, emptied.
        let scope = omni_runtime::region::region_create();
        let second = pin_value(std::ptr::null_mut(), fresh);
        assert_eq!(second, first, "the parked pin region is reused");
        assert_eq!(holds_of(second), vec![v2], "it holds only the new pin");
        assert!(region_id(second) > first_id, "a new identity");
        assert!(region_epoch(second) > first_epoch, "old borrows are stale");
        let acc = region_accounting(second);
        assert_eq!(acc.depth, region_accounting(scope).depth + 1);
        assert_eq!((acc.bytes, acc.chunks, acc.external_rc), (32, 1, 0));
        let open = open_regions();
        assert_eq!(open.last(), Some(&second), "the innermost open scope");
        assert_eq!(snapshot().regions_live, regions_at_start + 2);
        omni_state_unpin(second);
        region_exit(scope);
        assert!(!open_regions().contains(&second));
        assert_eq!(sum(*slot), 55);
        *slot = NIL;
        renew_now();
        assert_eq!(snapshot().regions_live, regions_at_start);
    }
}

/// A pin region still open — a suspended coroutine's, or one an error
/// abandoned before its exit — is never handed to another activation:
/// only ended pins are parked. It keeps its version across the others'
/// pins and renewals, and the abandonment's exit (control/coroutine.rs
/// exits every scope region it left open) reclaims it and lets the version
/// go.
#[test]
fn an_open_pin_region_is_not_reused_and_its_abandonment_ends_it() {
    let _s = serial();
    // SAFETY: this test is the program thread; the slot lives for the
    // process; every pin is ended once.
    unsafe {
        let (slot, regions_at_start, v1) = one_global_of_ten();
        let suspended = pin_value(std::ptr::null_mut(), *slot);
        let mut others = Vec::new();
        for _ in 0..4 {
            let v = omni_state_refresh(*slot);
            let p = pin_value(std::ptr::null_mut(), v);
            assert_ne!(p, suspended, "an open pin region is not reused");
            others.push(p);
            omni_state_unpin(p);
            renew_now();
        }
        assert_eq!(others[1], others[0], "ended pins are reused");
        assert_eq!(holds_of(suspended), vec![v1], "v1 is still pinned");
        assert!(region_is_alive(v1));
        // The abandonment exits the open pin like any scope region.
        region_exit(suspended);
        renew_now();
        assert_eq!(snapshot().regions_live, regions_at_start);
        assert_eq!(sum(*slot), 55);
        *slot = NIL;
        renew_now();
        assert_eq!(snapshot().regions_live, regions_at_start);
    }
}
