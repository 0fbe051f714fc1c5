//! Channel and thread handles are reclaimed when nothing refers to them
//! (docs/REGION_THREADING_MODEL.md §3a): each region holding a handle
//! counts once on the shared core; the reclaim of the last such region
//! frees the core (observed here through a message queued on the channel,
//! whose region the freed core releases), copies stay the same channel,
//! and a merge hands the young region's handles to the old region.

#![cfg(not(loom))]

mod common;

use common::list;
use omni_runtime::dict::{hash_value, values_equal};
use omni_runtime::heap::handles::{channel_core, handle_count, make_channel, same_handle};
use omni_runtime::region::*;
use omni_runtime::thread::{handoff_in, handoff_out};
use omni_runtime::transmigrate::transmigrate;
use omni_runtime::value::Value;

/// Queue a message on channel `ch` (buffered, with room); returns its
/// region and that region's epoch, which advances when the message region
/// is reclaimed.
///
/// # Safety
/// `ch` is a live channel object; the calling thread owns a live region.
unsafe fn queue_probe(ch: Value) -> (*mut Region, u64) {
    // SAFETY: caller contract.
    unsafe {
        let scope = region_create();
        let msg = handoff_out(list(scope, 1, 3));
        region_exit(scope);
        let r = msg.region;
        let e = region_epoch(r);
        channel_core(ch).send(msg).expect("open, with room");
        (r, e)
    }
}

#[test]
fn a_copy_shares_the_core_and_the_last_region_frees_it() {
    unsafe {
        let a = region_create();
        let h = make_channel(a, 4);
        assert_eq!(handle_count(h), 1);
        let b = region_create();
        let h2 = transmigrate(h, a, b);
        assert_ne!(h, h2, "a copy is a new handle object in the destination");
        assert_eq!(region_of(h2), b);
        assert_eq!(handle_count(h), 2);
        assert!(same_handle(h, h2));
        assert!(values_equal(h, h2));
        assert_eq!(hash_value(h), hash_value(h2));
        let other = make_channel(a, 1);
        assert!(!same_handle(h, other) && !values_equal(h, other));
        let (probe, e) = queue_probe(h);
        region_exit(a);
        assert_eq!(handle_count(h2), 1, "a's handle dropped its count");
        assert_eq!(region_epoch(probe), e, "the core (and its queue) lives on");
        assert_eq!(channel_core(h2).pending(), 1);
        region_exit(b);
        assert_eq!(
            region_epoch(probe),
            e + 1,
            "the last handle freed the core, which released the queued message"
        );
    }
}

#[test]
fn a_merge_hands_the_young_regions_handles_to_the_old_region() {
    unsafe {
        let old = region_create();
        let young = region_create();
        let h = make_channel(young, 2);
        let (probe, e) = queue_probe(h);
        region_merge(young, old).expect("merge permitted");
        region_exit(young);
        assert_eq!(region_epoch(probe), e, "the handle now belongs to old");
        assert_eq!(handle_count(h), 1);
        assert_eq!(channel_core(h).pending(), 1);
        region_exit(old);
        assert_eq!(region_epoch(probe), e + 1, "old's reclaim freed the core");
    }
}

#[test]
fn a_handle_handed_to_another_thread_is_the_same_channel_and_either_side_may_free_it() {
    for receiver_last in [false, true] {
        unsafe {
            let a = region_create();
            let h = make_channel(a, 4);
            let msg = handoff_out(h);
            assert_eq!(handle_count(h), 2, "the message region holds a copy");
            let h_word = h as usize;
            let (checked_tx, checked_rx) = std::sync::mpsc::channel::<()>();
            let (gone_tx, gone_rx) = std::sync::mpsc::channel::<()>();
            let t = std::thread::spawn(move || {
                let dst = region_create();
                let h2 = handoff_in(msg, dst);
                assert_eq!(region_of(h2), dst, "merged into the receiver's region");
                // `h` is alive until we signal: its region is not exited yet.
                assert!(same_handle(h2, h_word as Value));
                let (probe, e) = queue_probe(h2);
                checked_tx.send(()).unwrap();
                if receiver_last {
                    gone_rx.recv().unwrap(); // the sender's region is gone
                    region_exit(dst);
                    assert_eq!(region_epoch(probe), e + 1, "freed here, once");
                } else {
                    region_exit(dst);
                    assert_eq!(region_epoch(probe), e, "the sender still holds it");
                }
            });
            checked_rx.recv().unwrap();
            if receiver_last {
                region_exit(a);
                gone_tx.send(()).unwrap();
                t.join().unwrap();
            } else {
                t.join().unwrap();
                assert_eq!(handle_count(h), 1);
                assert_eq!(channel_core(h).pending(), 1);
                region_exit(a);
            }
        }
    }
}
