//! The region entry points generated code calls (`omni_region_*`). They sit
//! above the coroutines because creating or exiting a scope region must be
//! recorded in the running coroutine (`note_region_open`/`note_region_exit`),
//! so that abandoning a suspended coroutine can exit the scopes it left
//! open. The region floor itself knows nothing of coroutines.

use crate::base::stats::{self, Counter};
use crate::base::value::Value;
use crate::control::coroutine::{note_region_exit, note_region_open};
use crate::graph::transmigrate::{renew_roots, renew_roots_of_two};
use crate::region::{
    global_region, region_absorb, region_bytes, region_cap_chunks, region_carry_book,
    region_create, region_create_child, region_create_in_use, region_exit, region_release,
    region_reset_sole_scope, region_retain, region_site, set_region_carry_book, AllocSite, Region,
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

/// A loop's scope region at the back edge of an iteration: kept for the
/// next iteration, emptied, when only its scope keeps it alive and its
/// objects fit its one chunk (`region_reset_sole_scope`: what exiting it
/// and creating the next one would give); else exited (null: the next
/// iteration creates one at its first use). A `filter` loop calling its
/// predicate gave each call a result region, and mbrot's Float loop a Float
/// region per iteration, each created and reclaimed before.
///
/// # Safety
/// As `omni_region_exit`.
#[no_mangle]
pub unsafe extern "C" fn omni_region_recycle(r: *mut Region) -> *mut Region {
    // SAFETY: forwarded contract.
    unsafe {
        if region_reset_sole_scope(r) {
            return r;
        }
        omni_region_exit(r);
    }
    std::ptr::null_mut()
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

/// The most a young carry region holds before the back edge renews it.
const CARRY_YOUNG_MAX_BYTES: usize = 4 << 20;

/// The factor between the old generation's renewal limit and its live
/// bytes after the first renewal that found more than three quarters live.
const CARRY_ACCUMULATING_GROWTH: usize = 16;

/// The largest factor between the old generation's renewal limit and its
/// live bytes when the young generation was not accumulating too.
const CARRY_MAX_GROWTH: usize = 64;

/// The largest factor for a loop that keeps nearly all it allocates: its
/// old generation was more than three quarters live at its renewal, and so
/// was the young region just promoted into it (an accumulating list or
/// string: each renewal copies everything and frees nothing; json's output
/// list copied 64 KiB, 1 MiB and then 64 MiB at once, old and copy both
/// held at that peak). Reached in one step from
/// [`CARRY_ACCUMULATING_GROWTH`] (the factor grows eightfold per such
/// renewal), so the second renewal of an accumulator sets a limit of 128
/// times its live bytes. A renewal that finds a quarter dead resets the
/// factor to 2. Fits the control block's byte (`CarryBook::growth`).
const CARRY_MAX_ACCUMULATING_GROWTH: usize = 128;

/// A loop's carry state as generated code passes it: `[young carry region,
/// its renewal limit in bytes, root…]`, the roots being the values the loop
/// carries to its next iteration (the self tail call's arguments).
///
/// # Safety
/// `state` points to `n >= 2` writable words laid out as above.
unsafe fn carry_state<'a>(state: *mut Value, n: usize) -> &'a mut [Value] {
    // SAFETY: caller contract.
    unsafe { std::slice::from_raw_parts_mut(state, n) }
}

/// Create a carry region younger than `old` (a young generation: the
/// barrier copies or merges what a store would make `old` point into it).
///
/// # Safety
/// `old` is a live region of the calling thread.
unsafe fn create_younger_than(old: *mut Region, site: AllocSite) -> *mut Region {
    // SAFETY: caller contract.
    let r = unsafe { region_create_child(old, site) };
    note_region_open(r);
    r
}

/// Count one renewal that copied `bytes`.
fn count_renewal(bytes: u64) {
    stats::count(Counter::Renewals, 1);
    stats::count(Counter::RenewedBytes, bytes);
}

/// The back edge of a loop whose young carry region has reached its renewal
/// limit (generated code checks the young region's bytes against the limit
/// inline; see docs/CTRR.md "Loop carry regions"). A loop's carry regions
/// are two generations: the **young** one it allocates in, and the **old**
/// one that holds what survived the young ones before.
///
/// - While the loop still allocates into its result region `result` (its
///   first `CARRY_START_BYTES`), it moves to a young region of its own;
///   nothing is copied (what it allocated so far stays in the result region,
///   which outlives the loop).
/// - Otherwise the young region is **renewed into the old one**: what the
///   roots reach in it is copied into the old generation (forwarding the
///   originals) and it is exited; when the previous young region was more
///   than three quarters live, this one is absorbed whole instead (O(chunks):
///   copying an accumulator frees nothing). A fresh young region follows,
///   its limit a quarter of the old generation's bytes, between
///   `CARRY_MIN_BYTES` and `CARRY_YOUNG_MAX_BYTES`: copying costs what
///   survives, not what the loop allocates.
/// - When the old generation reaches its own limit it is renewed: what the
///   roots reach in it is copied into a fresh old region, and the limit
///   becomes twice the live bytes (at least `CARRY_MIN_BYTES`; when more
///   than three quarters were live, the loop is accumulating and the factor
///   is 16, then quadruples up to 64).
/// - A young region is renewed only when the part allocated before the last
///   back edge that was over the limit is at least as large as the part
///   allocated since: what the last iterations built is what the next one
///   is given, likely live, and copying it would cost more than it frees (a
///   loop whose every iteration outgrows the previous ones, like deriv's,
///   is left alone until that changes).
///
/// # Safety
/// `state` is a carry state of `n` words (`carry_state`); the young region
/// is `result` or a carry region this thread created for the loop, and
/// nothing outside the loop's carry regions points into them except the
/// roots and (into the old one) the young one (CTRR: at the back edge the
/// loop's scope region is exited and every value that outlives an iteration
/// lives in a carry region or older).
#[no_mangle]
pub unsafe extern "C" fn omni_carry_renew(result: *mut Region, state: *mut Value, n: usize) {
    // SAFETY: caller contract.
    let state = unsafe { carry_state(state, n) };
    let young = state[0] as *mut Region;
    // SAFETY: the young region is live and this thread's (caller contract).
    let site = unsafe { region_site(young) };
    if young == result {
        let fresh = omni_region_create_at(site.0);
        // SAFETY: `fresh` was just created by this thread.
        unsafe { region_cap_chunks(fresh, 16 << 10) };
        state[0] = fresh as Value;
        state[1] = CARRY_MIN_BYTES as Value;
        return;
    }
    // SAFETY: as above; the loop's old generation, if any, is live too.
    let (before, mut book) = unsafe { (region_bytes(young), region_carry_book(young)) };
    if 2 * book.mark < before {
        // The part built since the mark is larger than the part before it.
        book.mark = before;
        // SAFETY: as above.
        unsafe { set_region_carry_book(young, book) };
        return;
    }
    let mut old = book.old;
    if old.is_null() {
        old = omni_region_create_at(site.0);
        book.old_limit = CARRY_MIN_BYTES;
    }
    // SAFETY: the loop's carry regions are live and this thread's; `old` is
    // older than `young` (or was created after it, holding nothing yet:
    // nothing in `young` points into it).
    let (old_before, absorbed) = unsafe {
        let old_before = region_bytes(old);
        (old_before, book.absorb && region_absorb(young, old).is_ok())
    };
    if !absorbed {
        // SAFETY: caller contract: only the roots point into `young`.
        let (_, bytes) = unsafe { renew_roots(&mut state[2..], young, old) };
        count_renewal(bytes);
    }
    // SAFETY: the loop created `young` and exits it once, here.
    unsafe { omni_region_exit(young) };
    // SAFETY: `old` is live and this thread's.
    let old_bytes = unsafe { region_bytes(old) };
    book.absorb = 4 * old_bytes.saturating_sub(old_before) > 3 * before;
    if old_bytes >= book.old_limit {
        let fresh_old = omni_region_create_at(site.0);
        // SAFETY: `fresh_old` was just created by this thread.
        unsafe { region_cap_chunks(fresh_old, (book.old_limit / 16).max(16 << 10)) };
        // SAFETY: only the roots point into `old` now that `young` is gone.
        let (_, bytes) = unsafe { renew_roots(&mut state[2..], old, fresh_old) };
        count_renewal(bytes);
        // SAFETY: the loop created `old` and exits it once, here.
        unsafe { omni_region_exit(old) };
        old = fresh_old;
        // SAFETY: `old` is live and this thread's.
        let live = unsafe { region_bytes(old) };
        book.growth = if 4 * live > 3 * old_bytes {
            if book.absorb {
                // The young region just promoted was accumulating too.
                (8 * book.growth).clamp(CARRY_ACCUMULATING_GROWTH, CARRY_MAX_ACCUMULATING_GROWTH)
            } else {
                (4 * book.growth).clamp(CARRY_ACCUMULATING_GROWTH, CARRY_MAX_GROWTH)
            }
        } else {
            2
        };
        book.old_limit = (book.growth * live).max(CARRY_MIN_BYTES);
        book.absorb = false;
    }
    // SAFETY: `old` is live and this thread's.
    let fresh = unsafe { create_younger_than(old, site) };
    // SAFETY: as above.
    let young_limit =
        (unsafe { region_bytes(old) } / 4).clamp(CARRY_MIN_BYTES, CARRY_YOUNG_MAX_BYTES);
    book.old = old;
    book.mark = 0;
    // SAFETY: `fresh` was just created by this thread.
    unsafe {
        region_cap_chunks(fresh, (young_limit / 8).max(16 << 10));
        set_region_carry_book(fresh, book);
    }
    state[0] = fresh as Value;
    state[1] = young_limit as Value;
}

/// A loop's exit: its carry regions (when it has its own) go to the loop's
/// result region `result` — merged in O(chunks), or, if a merge is refused,
/// what the roots (the values leaving the loop) reach in them is copied
/// there — and are exited.
///
/// # Safety
/// As `omni_carry_renew`; the roots are the values that leave the loop.
#[no_mangle]
pub unsafe extern "C" fn omni_carry_end(result: *mut Region, state: *mut Value, n: usize) {
    // SAFETY: caller contract.
    let state = unsafe { carry_state(state, n) };
    let young = state[0] as *mut Region;
    if young == result {
        return;
    }
    // SAFETY: the young region is live and this thread's.
    let old = unsafe { region_carry_book(young) }.old;
    // SAFETY: the regions are live and this thread's; both carry regions are
    // younger than `result`. Caller contract: only the roots point into the
    // carry regions (and the young one into the old one), so copying from
    // both at once leaves nothing pointing into either.
    unsafe {
        let old_merged = old.is_null() || region_absorb(old, result).is_ok();
        if !old_merged {
            renew_roots_of_two(&mut state[2..], young, old, result);
        } else if region_absorb(young, result).is_err() {
            renew_roots(&mut state[2..], young, result);
        }
    }
    // SAFETY: the loop created its carry regions and exits each once, here.
    unsafe {
        omni_region_exit(young);
        if !old.is_null() {
            omni_region_exit(old);
        }
    }
}
