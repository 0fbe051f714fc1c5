//! The region entry points generated code calls (`omni_region_*`). They sit
//! above the coroutines because creating or exiting a scope region must be
//! recorded in the running coroutine (`note_region_open`/`note_region_exit`),
//! so that abandoning a suspended coroutine can exit the scopes it left
//! open. The region floor itself knows nothing of coroutines.

use crate::base::stats::{self, Counter};
use crate::base::value::Value;
use crate::control::coroutine::{note_region_exit, note_region_open};
use crate::graph::transmigrate::renew_roots;
use crate::region::{
    global_region, region_absorb, region_bytes, region_cap_chunks, region_carry_growth,
    region_carry_mark, region_create, region_create_in_use, region_exit, region_release,
    region_retain, region_site, set_region_carry_growth, set_region_carry_mark, AllocSite, Region,
};

/// Create a fresh region for a scope.
#[no_mangle]
pub extern "C" fn omni_region_create() -> *mut Region {
    let r = region_create();
    note_region_open(r);
    r
}

/// Create a fresh region for a scope, remembering its source location.
#[no_mangle]
pub extern "C" fn omni_region_create_at(site: u32) -> *mut Region {
    // Generated code creates a region at its first use: it is about to be
    // allocated in.
    let r = region_create_in_use(AllocSite(site));
    note_region_open(r);
    r
}

/// Exit a region's scope.
///
/// # Safety
/// As `region_exit`: `r` is a live scope region of the calling thread,
/// exited once (generated code exits each region it created exactly once).
#[no_mangle]
pub unsafe extern "C" fn omni_region_exit(r: *mut Region) {
    note_region_exit(r);
    // SAFETY: forwarded contract.
    unsafe { region_exit(r) }
}

/// Take an external reference on a region.
///
/// # Safety
/// As `region_retain`.
#[no_mangle]
pub unsafe extern "C" fn omni_region_retain(r: *mut Region) {
    // SAFETY: forwarded contract.
    unsafe { region_retain(r) }
}

/// Drop an external reference on a region.
///
/// # Safety
/// As `region_release`.
#[no_mangle]
pub unsafe extern "C" fn omni_region_release(r: *mut Region) {
    // SAFETY: forwarded contract.
    unsafe { region_release(r) }
}

/// The global region, for generated code.
#[no_mangle]
pub extern "C" fn omni_rt_global_region() -> *mut Region {
    global_region()
}

// ------------------------------------------------------------ carry regions

/// The bytes a loop may allocate into its result region before it moves to
/// a carry region of its own: below this, a loop costs nothing but its
/// back-edge check.
pub const CARRY_START_BYTES: usize = 16 << 10;

/// The least size at which a carry region is renewed.
pub const CARRY_MIN_BYTES: usize = 64 << 10;

/// The factor between a carry region's renewal limit and its live bytes
/// after the first renewal that found more than three quarters live.
const CARRY_ACCUMULATING_GROWTH: usize = 16;

/// The largest factor between a carry region's renewal limit and its live
/// bytes (reached by loops that keep nearly all they allocate).
const CARRY_MAX_GROWTH: usize = 64;

/// A loop's carry state as generated code passes it: `[carry region, renewal
/// limit in bytes, root…]`, the roots being the values the loop carries to
/// its next iteration (the self tail call's arguments).
///
/// # Safety
/// `state` points to `n >= 2` writable words laid out as above.
unsafe fn carry_state<'a>(state: *mut Value, n: usize) -> &'a mut [Value] {
    // SAFETY: caller contract.
    unsafe { std::slice::from_raw_parts_mut(state, n) }
}

/// The back edge of a loop whose carry region has reached its renewal limit
/// (generated code checks the carry region's bytes against the limit
/// inline; see docs/CTRR.md "Loop carry regions").
///
/// - While the loop still allocates into its result region `result` (its
///   first `CARRY_START_BYTES`), it moves to a fresh carry region; nothing is
///   copied (what it allocated so far stays in the result region, which
///   outlives the loop).
/// - Otherwise the carry region is renewed — what the roots reach in it is
///   copied into a fresh region (forwarding the originals), the old one is
///   exited, and the limit becomes twice the live bytes (at least
///   `CARRY_MIN_BYTES`; when more than three quarters were live, the loop
///   is accumulating and the factor is 16, then quadruples up to 64) — but only
///   when the part allocated before the last back edge that was over the
///   limit is at least as large as the part allocated since: what the last iterations built is what the next one
///   is given, likely live, and copying it would cost more than it frees (a
///   loop whose every iteration outgrows the previous ones, like deriv's,
///   is left alone until that changes).
///
/// Copying stays below twice the bytes the loop allocated: a renewal
/// happens only at at least twice the bytes live after the previous one.
///
/// # Safety
/// `state` is a carry state of `n` words (`carry_state`); the carry region
/// is `result` or a carry region this thread created for the loop, and
/// nothing outside it points into it except the roots (CTRR: at the back
/// edge the loop's scope region is exited and every value that outlives an
/// iteration lives in the carry region or older).
#[no_mangle]
pub unsafe extern "C" fn omni_carry_renew(result: *mut Region, state: *mut Value, n: usize) {
    // SAFETY: caller contract.
    let state = unsafe { carry_state(state, n) };
    let carry = state[0] as *mut Region;
    // SAFETY: the carry region is live and this thread's (caller contract).
    let (site, before, mark, prev_growth) = unsafe {
        (
            region_site(carry),
            region_bytes(carry),
            region_carry_mark(carry),
            region_carry_growth(carry),
        )
    };
    if carry != result && 2 * mark < before {
        // The part built since the mark is larger than the part before it.
        // SAFETY: as above.
        unsafe { set_region_carry_mark(carry, before) };
        return;
    }
    let fresh = omni_region_create_at(site.0);
    // The carry region is renewed near its limit: chunks of a sixteenth of
    // it (at least 16 KiB) keep what it holds close to what it uses.
    // SAFETY: `fresh` was just created by this thread.
    unsafe { region_cap_chunks(fresh, (state[1] as usize / 16).max(16 << 10)) };
    if carry != result {
        // SAFETY: caller contract: only the roots point into `carry`.
        let (_, bytes) = unsafe { renew_roots(&mut state[2..], carry, fresh) };
        // SAFETY: the loop created `carry` and exits it once, here.
        unsafe { omni_region_exit(carry) };
        stats::count(Counter::Renewals, 1);
        stats::count(Counter::RenewedBytes, bytes);
    }
    // SAFETY: `fresh` was just created by this thread; `carry` is read
    // before only if it was not exited (it is the result region otherwise).
    let live = unsafe { region_bytes(fresh) };
    let growth = if carry != result && 4 * live > 3 * before {
        // Three quarters live: the loop is accumulating (a list builder
        // such as `map`'s or `reverse`'s loop); copy ever more rarely,
        // starting at a sixteenth: copying an accumulator frees nothing.
        (4 * prev_growth).clamp(CARRY_ACCUMULATING_GROWTH, CARRY_MAX_GROWTH)
    } else {
        2
    };
    // SAFETY: as above.
    unsafe { set_region_carry_growth(fresh, growth) };
    state[0] = fresh as Value;
    state[1] = (growth * live).max(CARRY_MIN_BYTES) as Value;
}

/// A loop's exit: its carry region (when it has one of its own) goes to
/// the loop's result region `result` — merged in O(chunks), or, if the merge
/// is refused, what the roots (the values leaving the loop) reach in it is
/// copied there — and is exited.
///
/// # Safety
/// As `omni_carry_renew`; the roots are the values that leave the loop.
#[no_mangle]
pub unsafe extern "C" fn omni_carry_end(result: *mut Region, state: *mut Value, n: usize) {
    // SAFETY: caller contract.
    let state = unsafe { carry_state(state, n) };
    let carry = state[0] as *mut Region;
    if carry == result {
        return;
    }
    // SAFETY: both regions are live and this thread's; `carry` is younger.
    if unsafe { region_absorb(carry, result) }.is_err() {
        // SAFETY: caller contract: only the roots point into `carry`.
        unsafe { renew_roots(&mut state[2..], carry, result) };
    }
    // SAFETY: the loop created `carry` and exits it once, here.
    unsafe { omni_region_exit(carry) };
}
