//! Loom model test of the region liveness word (docs/ATOMIC_POLICY.md):
//! under every interleaving loom explores, concurrent retain / release /
//! tether / scope exit reclaim the region exactly once, and the reclaiming
//! thread sees every write a holder made before dropping its reference (the
//! `Release` decrement + `Acquire` fence protocol; with a relaxed decrement
//! loom reports the read in the reclaim hook as a data race).
//!
//! Run: `RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom cargo test --release -p omni-runtime --test loom_region`

#![cfg(loom)]

use loom::cell::UnsafeCell;
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread;
use omni_runtime::region::*;
use omni_runtime::stats::{self, Counter};
use omni_runtime::tether::{tether_end, tether_start};

loom::lazy_static! {
    /// Memory a holder writes while it holds the region (stands for the
    /// objects it allocated or mutated) and the reclaimer reads.
    static ref PAYLOAD: UnsafeCell<u64> = UnsafeCell::new(0);
    static ref RECLAIMS: AtomicUsize = AtomicUsize::new(0);
}

fn on_reclaim(_r: *mut Region) {
    RECLAIMS.fetch_add(1, Ordering::Relaxed);
    // SAFETY: loom checks this read against the holders' writes.
    let v = PAYLOAD.with(|p| unsafe { *p });
    assert!(v == 0 || v == 7);
}

fn send(r: *mut Region) -> usize {
    r as usize
}

fn recv(a: usize) -> *mut Region {
    a as *mut Region
}

#[test]
fn concurrent_releases_and_scope_exit_reclaim_exactly_once() {
    loom::model(|| {
        loom_set_reclaim_hook(on_reclaim);
        let r = region_create();
        // SAFETY: the scope holds `r` while the references are taken.
        unsafe {
            region_retain(r);
            region_retain(r);
        }
        let (a, b) = (send(r), send(r));
        let t1 = thread::spawn(move || {
            PAYLOAD.with_mut(|p| unsafe { *p = 7 });
            // SAFETY: this thread owns one external reference.
            unsafe { region_release(recv(a)) };
        });
        let t2 = thread::spawn(move || {
            // SAFETY: this thread owns one external reference.
            unsafe { region_release(recv(b)) };
        });
        // SAFETY: the scope is exited once.
        unsafe { region_exit(r) };
        t1.join().unwrap();
        t2.join().unwrap();
        assert_eq!(RECLAIMS.load(Ordering::Relaxed), 1);
        assert_eq!(stats::snapshot().get(Counter::RegionsReclaimed), 1);
    });
}

#[test]
fn nested_retain_tether_and_exit_reclaim_exactly_once() {
    loom::model(|| {
        loom_set_reclaim_hook(on_reclaim);
        let r = region_create();
        // SAFETY: the scope holds `r`.
        unsafe { region_retain(r) };
        let a = send(r);
        let t1 = thread::spawn(move || {
            let r = recv(a);
            // SAFETY: this thread holds one reference, so it may take another.
            unsafe {
                region_retain(r);
                PAYLOAD.with_mut(|p| *p = 7);
                region_release(r);
                region_release(r);
            }
        });
        // SAFETY: the scope holds `r`; the tether ends before the exit.
        unsafe {
            let t = tether_start(r);
            tether_end(t);
            region_exit(r);
        }
        t1.join().unwrap();
        assert_eq!(RECLAIMS.load(Ordering::Relaxed), 1);
    });
}
