//! Loop carry regions (docs/CTRR.md "Loop carry regions",
//! docs/REGION_RC_MODEL.md "Carry regions and renewal"): the runtime half of
//! a loop's back edge (`omni_carry_renew`) and exit (`omni_carry_end`), on a
//! carry state `[carry region, limit, root…]` as generated code passes it.

mod common;

use common::list;
use omni_runtime::object::*;
use omni_runtime::region::*;
use omni_runtime::rt::region_abi::{
    omni_carry_end, omni_carry_renew, omni_region_create, omni_region_exit, CARRY_MIN_BYTES,
};
use omni_runtime::stats::{flush_thread, snapshot, Counter};
use omni_runtime::value::*;

/// The tests read the process-wide renewal counters: they run one at a time,
/// and each moves its thread's counts into the process totals before the
/// next may start (a test thread's counts otherwise reach them only when
/// the thread exits, after the lock is released, and a loaded machine let
/// them land inside the next test's measurement: a flaky failure of the
/// accumulating loop's copying bound).
struct Serial(#[allow(dead_code)] std::sync::MutexGuard<'static, ()>);

impl Drop for Serial {
    fn drop(&mut self) {
        flush_thread();
    }
}

fn one_at_a_time() -> Serial {
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    flush_thread();
    Serial(g)
}

fn sum(mut l: Value) -> i64 {
    let mut s = 0;
    // SAFETY: the lists walked here are live.
    unsafe {
        while is_pair(l) {
            s += int_value(car(l));
            l = cdr(l);
        }
    }
    s
}

unsafe fn renew(result: *mut Region, state: &mut [Value]) {
    unsafe { omni_carry_renew(result, state.as_mut_ptr(), state.len()) }
}

/// A loop's result region and its carry state `[young, limit, root]`,
/// moved to a carry region of its own (the root: nothing yet).
unsafe fn loop_in_a_carry_region() -> (*mut Region, [Value; 3]) {
    let result = omni_region_create();
    let mut state = [result as Value, 0, NIL];
    // SAFETY: `result` was just created by this thread.
    unsafe { renew(result, &mut state) };
    (result, state)
}

unsafe fn end(result: *mut Region, state: &mut [Value]) {
    unsafe { omni_carry_end(result, state.as_mut_ptr(), state.len()) }
}

#[test]
fn a_loop_starts_in_its_result_region_and_moves_without_copying() {
    let _serial = one_at_a_time();
    unsafe {
        let result = omni_region_create();
        let l = list(result, 0, 100);
        let mut state = [result as Value, 0, l];
        renew(result, &mut state);
        let carry = state[0] as *mut Region;
        assert_ne!(carry, result, "the loop now has a carry region of its own");
        assert_eq!(state[2], l, "nothing was copied");
        assert_eq!(state[1], CARRY_MIN_BYTES as Value);
        // Exiting with nothing allocated in the carry region: merged, exited.
        end(result, &mut state);
        assert_eq!(state[2], l);
        omni_region_exit(result);
    }
}

/// The loop's old generation (a carry state's young region's bookkeeping).
unsafe fn old_generation(state: &[Value]) -> *mut Region {
    unsafe { region_carry_book(state[0] as *mut Region) }.old
}

fn renewals() -> (u64, u64) {
    let s = snapshot();
    (s.get(Counter::Renewals), s.get(Counter::RenewedBytes))
}

#[test]
fn renewal_keeps_what_the_roots_reach_and_frees_the_rest() {
    let _serial = one_at_a_time();
    unsafe {
        let result = omni_region_create();
        let mut state = [result as Value, 0, NIL, make_int(7)];
        renew(result, &mut state); // move to a carry region
        let carry = state[0] as *mut Region;
        let carry_epoch = region_accounting(carry).epoch;
        // The live part: a 1,000-element list whose tail is in the result
        // region (an external root: kept, not copied); garbage: 20,000 pairs.
        let old_tail = list(result, 1000, 10);
        let mut live = old_tail;
        for i in (0..1000).rev() {
            live = alloc_pair(carry, make_int(i), live);
        }
        let _garbage = list(carry, 0, 20_000);
        state[2] = live;
        let before = renewals();
        // First time over the limit: only marked (the last iterations built
        // the larger part, and it is probably what the next one is given).
        renew(result, &mut state);
        assert_eq!(state[0] as *mut Region, carry, "first time: only marked");
        assert!(old_generation(&state).is_null());
        // Still over the limit at the next back edge: renewed into the old
        // generation, and a fresh, empty young region follows.
        renew(result, &mut state);
        let old = old_generation(&state);
        assert!(!old.is_null());
        assert_ne!(
            region_accounting(carry).epoch,
            carry_epoch,
            "the first young region was exited and reclaimed"
        );
        assert_eq!(region_bytes(state[0] as *mut Region), 0);
        let after = renewals();
        assert_eq!(after.0 - before.0, 1);
        assert_eq!(after.1 - before.1, 1000 * PAIR_SIZE as u64);
        assert_eq!(state[3], make_int(7), "immediates are left alone");
        let l = state[2];
        assert_eq!(sum(l), (0..1000).sum::<i64>() + (1000..1010).sum::<i64>());
        let mut cur = l;
        for _ in 0..1000 {
            assert_eq!(region_of(cur), old);
            cur = cdr(cur);
        }
        assert_eq!(cur, old_tail, "the part in the result region is shared");
        assert!(
            is_older_or_same(old, state[0] as *mut Region),
            "the young generation is younger than the old one"
        );
        assert_eq!(state[1] as usize, CARRY_MIN_BYTES);
        // The exit merges both carry regions into the result region.
        end(result, &mut state);
        assert_eq!(region_of(state[2]), result);
        assert_eq!(sum(state[2]), sum(l));
        omni_region_exit(result);
    }
}

/// Run back edges until the carry state renews (a young region that is over
/// its limit is first only marked).
unsafe fn renew_until_renewed(result: *mut Region, state: &mut [Value]) {
    let young = state[0];
    for _ in 0..2 {
        unsafe { renew(result, state) };
        if state[0] != young || unsafe { region_bytes(young as *mut Region) } == 0 {
            return;
        }
    }
    panic!("the carry state was not renewed");
}

#[test]
fn the_old_generation_is_renewed_when_it_outgrows_its_limit() {
    let _serial = one_at_a_time();
    unsafe {
        let (result, mut state) = loop_in_a_carry_region();
        // Each iteration: the carried list is replaced by a fresh 2,000-pair
        // list; what was carried before becomes garbage in the old
        // generation once the next young region is renewed.
        let mut olds = Vec::new();
        let before = renewals();
        for round in 0..40 {
            let young = state[0] as *mut Region;
            state[2] = list(young, round, 2_000);
            let _garbage = list(young, 0, 4_000);
            renew_until_renewed(result, &mut state);
            olds.push(old_generation(&state));
        }
        let after = renewals();
        let live = 2_000 * PAIR_SIZE;
        let old = old_generation(&state);
        assert!(
            region_bytes(old) <= 2 * (live + CARRY_MIN_BYTES),
            "the old generation stays near what is live: {} bytes for {live} live",
            region_bytes(old)
        );
        olds.dedup();
        assert!(olds.len() > 2, "the old generation was renewed: {olds:?}");
        assert!(
            after.1 - before.1 <= 2 * 40 * live as u64,
            "copying stays within twice what survived"
        );
        assert_eq!(sum(state[2]), (39..2039).sum::<i64>());
        end(result, &mut state);
        assert_eq!(sum(state[2]), (39..2039).sum::<i64>());
        omni_region_exit(result);
    }
}

#[test]
fn a_mostly_live_young_region_is_absorbed_not_copied() {
    let _serial = one_at_a_time();
    unsafe {
        let (result, mut state) = loop_in_a_carry_region();
        // An accumulator: every pair the loop allocates stays live.
        let mut acc = NIL;
        let mut copied = Vec::new();
        for _ in 0..6 {
            let young = state[0] as *mut Region;
            for i in 0..5_000 {
                acc = alloc_pair(young, make_int(i), acc);
            }
            state[2] = acc;
            let before = renewals();
            renew_until_renewed(result, &mut state);
            acc = state[2];
            copied.push(renewals().1 - before.1);
        }
        assert!(
            copied[0] > 0,
            "the first young region is copied: {copied:?}"
        );
        assert!(
            copied[1..].iter().filter(|&&c| c == 0).count() >= 3,
            "later ones are absorbed whole: {copied:?}"
        );
        assert_eq!(sum(acc), 6 * (0..5_000).sum::<i64>());
        end(result, &mut state);
        assert_eq!(region_of(state[2]), result);
        assert_eq!(sum(state[2]), 6 * (0..5_000).sum::<i64>());
        omni_region_exit(result);
    }
}

#[test]
fn an_exit_whose_old_generation_merge_is_refused_copies_from_both() {
    let _serial = one_at_a_time();
    unsafe {
        let result = omni_region_create();
        let other = region_create_child(result, AllocSite::UNKNOWN);
        let mut state = [result as Value, 0, NIL];
        renew(result, &mut state);
        state[2] = list(state[0] as *mut Region, 0, 50);
        let _garbage = list(state[0] as *mut Region, 0, 20_000);
        renew_until_renewed(result, &mut state);
        let old = old_generation(&state);
        assert_eq!(region_of(state[2]), old);
        // A young pair pointing into the old generation, and the old
        // generation merged elsewhere by a store repair.
        let young = state[0] as *mut Region;
        state[2] = alloc_pair(young, make_int(-1), state[2]);
        let fresh_old_pair = alloc_pair(old, make_int(100), NIL);
        state[2] = alloc_pair(young, fresh_old_pair, state[2]);
        assert_eq!(region_merge(old, other), Ok(()));
        let merged_pair = alloc_pair(old, make_int(5), NIL);
        state[2] = alloc_pair(young, merged_pair, state[2]);
        end(result, &mut state);
        let out = state[2];
        assert_eq!(region_of(out), result, "copied into the result region");
        assert_eq!(
            region_of(car(out)),
            result,
            "the old generation's own objects are copied"
        );
        assert_eq!(int_value(car(car(out))), 5);
        assert_eq!(region_of(car(cdr(out))), other, "merged away before: stays");
        assert_eq!(sum(cdr(cdr(out))), (0..50).sum::<i64>() - 1);
        region_exit(other);
        omni_region_exit(result);
    }
}

#[test]
fn an_exit_whose_merge_is_refused_copies_the_values_leaving_the_loop() {
    let _serial = one_at_a_time();
    unsafe {
        let result = omni_region_create();
        // A region older than the carry region, younger than the result one.
        let other = region_create_child(result, AllocSite::UNKNOWN);
        let mut state = [result as Value, 0, NIL];
        renew(result, &mut state);
        let carry = state[0] as *mut Region;
        let l = list(carry, 0, 50);
        // A store repair merged the carry region into `other`: merging it
        // into the result region too is refused.
        assert_eq!(region_merge(carry, other), Ok(()));
        let l2 = alloc_pair(carry, make_int(-1), l);
        state[2] = l2;
        end(result, &mut state);
        let out = state[2];
        assert_eq!(region_of(out), result, "copied into the result region");
        assert_eq!(sum(out), (0..50).sum::<i64>() - 1);
        assert_eq!(
            region_of(cdr(out)),
            other,
            "what the repair merged away stays where it is"
        );
        region_exit(other);
        omni_region_exit(result);
    }
}

#[test]
fn an_accumulating_loop_backs_off_its_old_generation_renewals() {
    let _serial = one_at_a_time();
    unsafe {
        let (result, mut state) = loop_in_a_carry_region();
        // An accumulator: every pair stays live, so every renewal of the
        // old generation copies all of it and frees nothing. Once the old
        // generation and the young region promoted into it were both found
        // mostly live, the old generation's limit jumps to 128 times its
        // live bytes (json's output list: no third copy at 64 MiB).
        let mut acc = NIL;
        let mut olds = Vec::new();
        let before = renewals();
        for _ in 0..400 {
            let young = state[0] as *mut Region;
            for i in 0..1_000 {
                acc = alloc_pair(young, make_int(i), acc);
            }
            state[2] = acc;
            renew_until_renewed(result, &mut state);
            acc = state[2];
            olds.push(old_generation(&state));
        }
        let after = renewals();
        olds.dedup();
        let book = region_carry_book(state[0] as *mut Region);
        let live = region_bytes(old_generation(&state));
        assert_eq!(book.growth, 128, "the factor reached its most");
        assert!(
            book.old_limit >= 10 * live,
            "the limit backs off: {} for {live} live",
            book.old_limit
        );
        assert!(
            olds.len() <= 4,
            "the old generation is renewed at most a few times: {}",
            olds.len()
        );
        let allocated = 400 * 1_000 * PAIR_SIZE as u64;
        assert!(
            after.1 - before.1 <= allocated / 2,
            "copying stays well below what the loop kept: {} of {allocated}",
            after.1 - before.1
        );
        assert_eq!(sum(acc), 400 * (0..1_000).sum::<i64>());
        end(result, &mut state);
        assert_eq!(sum(state[2]), 400 * (0..1_000).sum::<i64>());
        omni_region_exit(result);
    }
}
