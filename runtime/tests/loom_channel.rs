//! Loom model test of the channel handoff protocol
//! (docs/REGION_THREADING_MODEL.md, "Channels"): under every interleaving
//! loom explores,
//! - the receiver sees every write the sender made to the message before
//!   `send` (the channel mutex orders them: the payload cell stands for the
//!   message region's objects, and loom reports an unordered read as a race),
//! - exactly one thread owns the message region at a time and it is
//!   reclaimed exactly once, after the receiver merged it into its own
//!   region and dropped the message's reference,
//! - a rendezvous send returns only after its message was taken,
//! - a buffered message survives `close` and is drained, after which
//!   `recv` returns `None`; a send after `close` fails and gives the message
//!   back,
//! - a channel handle copied into another thread's region (the handoff of
//!   a message holding it) keeps one count per region on the shared core;
//!   whichever thread's region reclaim drops the last count frees the core
//!   exactly once, sees every use the other thread made of it, and releases
//!   a message still queued on it.
//!
//! Run: `RUSTFLAGS="--cfg loom" cargo test --release -p omni-runtime --test loom_channel --target-dir target/loom`

#![cfg(loom)]

use loom::cell::UnsafeCell;
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::Arc;
use loom::thread;
use omni_runtime::channel::{ChannelCore, Message};
use omni_runtime::heap::handles::{channel_core, loom_cores_freed, make_channel, same_handle};
use omni_runtime::object::{alloc_pair, car, cdr};
use omni_runtime::region::*;
use omni_runtime::thread::{handoff_in, handoff_out};
use omni_runtime::value::{int_value, make_int, Value, NIL};

loom::lazy_static! {
    static ref PAYLOAD: UnsafeCell<u64> = UnsafeCell::new(0);
    static ref RECLAIMS: AtomicUsize = AtomicUsize::new(0);
}

fn on_reclaim(_r: *mut Region) {
    RECLAIMS.fetch_add(1, Ordering::Relaxed);
}

/// A message the sender built in a scope region of its own, which it exits
/// right after the send (the value must stay valid: it was copied).
fn build_and_send(ch: &ChannelCore, n: i64) {
    let scope = region_create();
    // SAFETY: `scope` is this thread's live region; the value is copied into
    // a handoff region before the scope exits.
    unsafe {
        let v = alloc_pair(scope, make_int(n), alloc_pair(scope, make_int(n + 1), NIL));
        let msg = handoff_out(v);
        region_exit(scope);
        ch.send(msg).expect("channel open");
    }
}

/// Receive one message into a region of this thread; returns the car.
fn receive(ch: &ChannelCore, dst: *mut Region) -> Option<i64> {
    let msg: Message = ch.recv()?;
    // SAFETY: the channel handed the message to us; `dst` is ours.
    unsafe {
        let v = handoff_in(msg, dst);
        assert_eq!(region_of(v), dst, "the message's objects now belong to dst");
        assert_eq!(int_value(car(cdr(v))), int_value(car(v)) + 1);
        Some(int_value(car(v)))
    }
}

#[test]
fn rendezvous_handoff_publishes_the_message_and_reclaims_its_region_once() {
    loom::model(|| {
        loom_set_reclaim_hook(on_reclaim);
        RECLAIMS.store(0, Ordering::Relaxed);
        let ch = Arc::new(ChannelCore::new(0));
        let ch2 = ch.clone();
        let sender = thread::spawn(move || {
            // SAFETY: loom checks this write against the receiver's read.
            PAYLOAD.with_mut(|p| unsafe { *p = 7 });
            build_and_send(&ch2, 40);
            assert_eq!(
                ch2.pending(),
                0,
                "a rendezvous send returns after its message was taken"
            );
        });
        let dst = region_create();
        let got = receive(&ch, dst);
        // The sender wrote the payload before sending: ordered by the channel.
        // SAFETY: loom checks the read.
        assert_eq!(PAYLOAD.with(|p| unsafe { *p }), 7);
        assert_eq!(got, Some(40));
        sender.join().unwrap();
        // sender scope + handoff region reclaimed; dst still alive
        let before = RECLAIMS.load(Ordering::Relaxed);
        // SAFETY: our own live region.
        unsafe { region_exit(dst) };
        assert_eq!(RECLAIMS.load(Ordering::Relaxed), before + 1);
        assert_eq!(before, 2, "sender scope and the message region, once each");
    });
}

#[test]
fn a_buffered_message_survives_close_and_is_drained() {
    loom::model(|| {
        let ch = Arc::new(ChannelCore::new(1));
        let ch2 = ch.clone();
        let sender = thread::spawn(move || {
            build_and_send(&ch2, 1);
            ch2.close();
        });
        let dst = region_create();
        assert_eq!(receive(&ch, dst), Some(1));
        assert_eq!(receive(&ch, dst), None, "closed and drained");
        sender.join().unwrap();
        // SAFETY: our own live region.
        unsafe { region_exit(dst) };
    });
}

#[test]
fn send_after_close_fails_and_returns_the_message() {
    loom::model(|| {
        let ch = Arc::new(ChannelCore::new(1));
        let ch2 = ch.clone();
        let closer = thread::spawn(move || ch2.close());
        let scope = region_create();
        // SAFETY: this thread's live region; the message region is ours
        // until it is queued.
        unsafe {
            let v = alloc_pair(scope, make_int(5), alloc_pair(scope, make_int(6), NIL));
            let msg = handoff_out(v);
            region_exit(scope);
            match ch.send(msg) {
                Ok(()) => {
                    // Sent before the close: still receivable.
                    let dst = region_create();
                    assert_eq!(receive(&ch, dst), Some(5));
                    region_exit(dst);
                }
                Err(closed) => omni_runtime::thread::handoff_discard(closed.0),
            }
        }
        closer.join().unwrap();
        assert!(ch.recv().is_none());
    });
}

/// Messages moved into a loom thread (each owned by one thread at a time).
struct Carried(Message, Message);
// SAFETY: the messages are moved to the other thread, which owns them then
// (the spawn synchronises the two threads).
unsafe impl Send for Carried {}

#[test]
fn the_last_region_holding_a_channel_frees_its_core_once_on_either_thread() {
    // Every region and statistics operation is a loom atomic: bound the
    // preemptions so the model stays small (the race is the two final
    // decrements of the core's count, which a bound of 2 covers).
    let mut model = loom::model::Builder::new();
    model.preemption_bound = Some(3);
    model.check(|| {
        loom_set_reclaim_hook(on_reclaim);
        RECLAIMS.store(0, Ordering::Relaxed);
        // SAFETY: every region below is live and used by its owning thread;
        // the messages are moved to the other thread by the spawn.
        unsafe {
            let a = region_create();
            let h = make_channel(a, 1);
            // The other thread's copy of the handle travels in a handoff
            // region, like a channel captured by a spawned thunk.
            let handle_msg = handoff_out(h);
            let payload = handoff_out(make_int(9));
            let carried = Carried(handle_msg, payload);
            let h_word = h as usize;
            let other = thread::spawn(move || {
                let Carried(handle_msg, payload) = carried;
                let dst = region_create();
                let h2 = handoff_in(handle_msg, dst);
                assert!(same_handle(h2, h_word as Value));
                channel_core(h2).send(payload).expect("open, with room");
                region_exit(dst);
            });
            // Concurrently: drop this thread's count.
            region_exit(a);
            other.join().unwrap();
        }
        assert_eq!(loom_cores_freed(), 1, "the core is freed exactly once");
        // a, the handle's handoff region, dst, and the queued message's
        // region (released by whichever thread freed the core).
        assert_eq!(RECLAIMS.load(Ordering::Relaxed), 4);
    });
}
