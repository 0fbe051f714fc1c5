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
use omni_runtime::stats::{snapshot, Counter};
use omni_runtime::value::*;

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

unsafe fn end(result: *mut Region, state: &mut [Value]) {
    unsafe { omni_carry_end(result, state.as_mut_ptr(), state.len()) }
}

#[test]
fn a_loop_starts_in_its_result_region_and_moves_without_copying() {
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

#[test]
fn renewal_keeps_what_the_roots_reach_and_frees_the_rest() {
    unsafe {
        let result = omni_region_create();
        let mut state = [result as Value, 0, NIL, make_int(7)];
        renew(result, &mut state); // move to a carry region
        let carry = state[0] as *mut Region;
        // The live part: a 1,000-element list whose tail is in the result
        // region (an external root: kept, not copied); garbage: 20,000 pairs.
        let old_tail = list(result, 1000, 10);
        let mut live = old_tail;
        for i in (0..1000).rev() {
            live = alloc_pair(carry, make_int(i), live);
        }
        let _garbage = list(carry, 0, 20_000);
        state[2] = live;
        let before = snapshot();
        // First time over the limit: only marked (the last iterations built
        // the larger part, and it is probably what the next one is given).
        renew(result, &mut state);
        assert_eq!(state[0] as *mut Region, carry, "first time: only marked");
        // Still over the limit at the next back edge: renewed.
        renew(result, &mut state);
        let fresh = state[0] as *mut Region;
        assert_ne!(fresh, carry);
        assert!(!region_is_alive(carry), "the old carry region was exited");
        let after = snapshot();
        assert_eq!(
            after.get(Counter::Renewals) - before.get(Counter::Renewals),
            1
        );
        assert_eq!(
            after.get(Counter::RenewedBytes) - before.get(Counter::RenewedBytes),
            1000 * PAIR_SIZE as u64
        );
        assert_eq!(state[3], make_int(7), "immediates are left alone");
        let l = state[2];
        assert_eq!(sum(l), (0..1000).sum::<i64>() + (1000..1010).sum::<i64>());
        let mut cur = l;
        for _ in 0..1000 {
            assert_eq!(region_of(cur), fresh);
            cur = cdr(cur);
        }
        assert_eq!(cur, old_tail, "the part in the result region is shared");
        let limit = state[1] as usize;
        assert!(limit >= CARRY_MIN_BYTES && limit >= 2 * region_bytes(fresh));
        // The exit merges the carry region into the result region.
        end(result, &mut state);
        assert_eq!(region_of(state[2]), result);
        assert_eq!(sum(state[2]), sum(l));
        omni_region_exit(result);
    }
}

#[test]
fn an_exit_whose_merge_is_refused_copies_the_values_leaving_the_loop() {
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
