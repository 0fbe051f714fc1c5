//! The store barrier and auto-repair policy H0 (issue 5, R2-auto-repair-tests,
//! docs/REGION_DEPENDENCY_RULES.md): a younger→older store is repaired by
//! transmigration (young region below the merge threshold) or merge (at or
//! above it), merge refusals fall back to transmigration, the young scope can
//! then exit and the container still reads the right value, the would-be
//! region cycle leaves no pointer into a dead region and the counts return to
//! zero. Run in a debug build too: reclaimed memory is poisoned there, so a
//! missed repair reads `POISON_WORD` and `debug_check_live` aborts.
//!
//! The statistics are process-wide, so every test holds `SERIAL` and flushes
//! its thread's counts before releasing it: deltas are exact.

mod common;

use common::{child_scenario, list, run_child, walk};
use omni_runtime::barrier::*;
use omni_runtime::dict::{alloc_dict, dict_get, dict_set};
use omni_runtime::object::*;
use omni_runtime::region::*;
use omni_runtime::stats::{self, Counter};
use omni_runtime::value::*;
use std::sync::{Mutex, MutexGuard};

static SERIAL: Mutex<()> = Mutex::new(());

/// Serialises the tests of this file; flushes the thread's statistics when
/// dropped (before the lock is released).
struct Serial(#[allow(dead_code)] MutexGuard<'static, ()>);

impl Drop for Serial {
    fn drop(&mut self) {
        set_merge_threshold(None);
        stats::flush_thread();
    }
}

fn serial() -> Serial {
    let g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    stats::flush_thread();
    Serial(g)
}

/// Counter deltas since `before`.
struct Delta(stats::StatsSnapshot);

impl Delta {
    fn start() -> Delta {
        Delta(stats::snapshot())
    }
    fn get(&self, c: Counter) -> u64 {
        stats::snapshot().get(c) - self.0.get(c)
    }
    fn regions_live(&self) -> i64 {
        stats::snapshot().regions_live - self.0.regions_live
    }
}

unsafe fn last_pair(mut l: Value) -> Value {
    while is_pair(cdr(l)) {
        l = cdr(l);
    }
    l
}

/// The Region Closure Property for `root` stored in an object of `dst`:
/// every reachable object is live and in `dst` or an older region.
unsafe fn assert_closed(root: Value, dst: *mut Region) -> usize {
    walk(root, &mut |x| {
        debug_check_live(x);
        assert!(
            is_older_or_same(region_of(x), dst),
            "object {x:#x} younger than the container's region"
        );
    })
}

unsafe fn sum(mut l: Value) -> i64 {
    let mut s = 0;
    while is_pair(l) {
        s += int_value(car(l));
        l = cdr(l);
    }
    s
}

/// A young list (n elements) stored into a pair of an older region through
/// the barrier; the young scope exits; the container still reads it.
unsafe fn young_into_old(threshold: u64, n: i64) -> (Repair, Value, Value) {
    set_merge_threshold(Some(threshold));
    let old = region_create();
    let container = alloc_pair(old, NIL, NIL);
    let young = region_create();
    let value = list(young, 1, n);
    let out = store_into_outcome(region_of(container), value);
    set_car(container, out.value);
    region_exit(young);
    let kept = car(container);
    assert_eq!(sum(kept), n * (n + 1) / 2);
    assert_eq!(assert_closed(kept, old), n as usize);
    let acc = region_accounting(old);
    assert_eq!(
        (acc.external_rc, acc.tethers),
        (0, 0),
        "counts back to zero"
    );
    region_exit(old);
    (out.repair, value, kept)
}

#[test]
fn younger_to_older_store_below_threshold_transmigrates_and_survives_exit() {
    let _s = serial();
    let d = Delta::start();
    // SAFETY: regions of this thread, exited once each.
    let (repair, value, kept) = unsafe { young_into_old(u64::MAX - 1, 500) };
    assert_eq!(repair, Repair::Transmigrated);
    assert_ne!(value, kept, "a copy was stored");
    assert_eq!(d.get(Counter::Transmigrations), 1);
    assert_eq!(d.get(Counter::TransmigratedObjects), 500);
    assert_eq!(d.get(Counter::Merges), 0);
    assert_eq!(d.get(Counter::BarrierCalls), 1);
    assert_eq!(d.get(Counter::BarrierRepairs), 1);
    assert_eq!(d.regions_live(), 0);
}

#[test]
fn younger_to_older_store_at_threshold_merges_and_survives_exit() {
    let _s = serial();
    let d = Delta::start();
    // SAFETY: as above.
    let (repair, value, kept) = unsafe { young_into_old(0, 500) };
    assert_eq!(repair, Repair::Merged { regions: 1 });
    assert_eq!(value, kept, "the original value was stored");
    assert_eq!(d.get(Counter::Merges), 1);
    assert_eq!(d.get(Counter::Transmigrations), 0);
    assert_eq!(d.get(Counter::BarrierRepairs), 1);
    assert_eq!(d.regions_live(), 0);
}

#[test]
fn the_threshold_is_compared_with_the_young_regions_allocated_bytes() {
    let _s = serial();
    // SAFETY: regions of this thread, exited once each.
    unsafe {
        let old = region_create();
        let young = region_create();
        let value = list(young, 0, 10); // 240 bytes
        let bytes = region_accounting(young).bytes as u64;
        assert_eq!(bytes, 240);
        set_merge_threshold(Some(bytes + 1));
        assert_eq!(merge_threshold(), bytes + 1);
        let copied = store_into_outcome(old, value);
        assert_eq!(copied.repair, Repair::Transmigrated);
        // The original now stands for its copy: storing it again stores the
        // copy, with no repair (one object, docs/REGION_DEPENDENCY_RULES.md).
        assert_eq!(resolve(value), copied.value);
        assert_eq!(
            store_into_outcome(old, value),
            StoreOutcome {
                value: copied.value,
                repair: Repair::None
            }
        );
        let value = list(young, 0, 10);
        set_merge_threshold(Some(region_accounting(young).bytes as u64));
        assert!(matches!(
            store_into_outcome(old, value).repair,
            Repair::Merged { .. }
        ));
        // Now merged: the same value needs no repair any more.
        assert_eq!(store_into_outcome(old, value).repair, Repair::None);
        region_exit(young);
        region_exit(old);
    }
}

#[test]
fn immediates_and_older_values_need_no_repair() {
    let _s = serial();
    let d = Delta::start();
    // SAFETY: regions of this thread, exited once each.
    unsafe {
        let old = region_create();
        let young = region_create();
        let c = alloc_pair(young, NIL, NIL);
        let older = list(old, 0, 3);
        assert_eq!(omni_store_barrier(c, make_int(7)), make_int(7));
        assert_eq!(omni_store_barrier(c, older), older);
        assert_eq!(store_into_outcome(old, older).repair, Repair::None);
        let g = omni_global_store(older);
        assert_ne!(g, older, "a young value stored into a global is repaired");
        assert_eq!(
            region_of(g),
            omni_runtime::graph::state::state_region(),
            "a global's value lives in the global-state region"
        );
        region_exit(young);
        region_exit(old);
    }
    assert_eq!(d.get(Counter::BarrierRepairs), 1);
}

#[test]
fn a_merge_takes_every_young_region_of_the_graph_along() {
    let _s = serial();
    let d = Delta::start();
    // SAFETY: regions of this thread, exited once each (young before mid).
    unsafe {
        set_merge_threshold(Some(0));
        let old = region_create();
        let dict = alloc_dict(old, 4);
        let mid = region_create();
        let shared = list(mid, 100, 50);
        let young = region_create();
        // young list whose tail is the mid list
        let value = alloc_pair(young, make_int(1), shared);
        let key = make_int(5);
        let k = omni_store_barrier(dict, key);
        let out = store_into_outcome(region_of(dict), value);
        assert_eq!(out.repair, Repair::Merged { regions: 2 });
        dict_set(dict, k, out.value);
        region_exit(young);
        region_exit(mid);
        let got = dict_get(dict, key).unwrap();
        assert_eq!(got, value);
        assert_eq!(sum(got), 1 + (100..150).sum::<i64>());
        assert_closed(dict, old);
        region_exit(old);
    }
    assert_eq!(d.get(Counter::Merges), 2);
    assert_eq!(d.get(Counter::Transmigrations), 0);
    assert_eq!(d.regions_live(), 0);
}

#[test]
fn a_transmigration_copies_every_younger_region_once_keeping_sharing() {
    let _s = serial();
    // SAFETY: regions of this thread, exited once each.
    unsafe {
        set_merge_threshold(Some(u64::MAX - 1));
        let old = region_create();
        let arr = alloc_array(old, 2);
        let mid = region_create();
        let shared = list(mid, 0, 20);
        let young = region_create();
        let value = alloc_pair(young, shared, shared);
        let v2 = omni_store_barrier(arr, value);
        array_push(arr, v2);
        region_exit(young);
        region_exit(mid);
        let got = array_slice(arr)[0];
        assert_eq!(car(got), cdr(got), "sharing preserved");
        assert_eq!(assert_closed(arr, old), 1 + 1 + 20);
        region_exit(old);
    }
}

#[test]
fn merge_not_permitted_falls_back_to_transmigration() {
    let _s = serial();
    let d = Delta::start();
    // SAFETY: regions of this thread, exited once each; `young` outlives
    // `other` (its merged_into) only until it is exited.
    unsafe {
        set_merge_threshold(Some(0));
        let old = region_create();
        let other = region_create();
        let young = region_create();
        let first = list(young, 0, 5);
        region_merge(young, other).unwrap(); // young now forwards to `other`
        let value = alloc_pair(young, make_int(9), first); // fresh chunk of young
        assert_eq!(region_of(value), young);
        let container = alloc_pair(old, NIL, NIL);
        let out = store_into_outcome(region_of(container), value);
        assert_eq!(
            out.repair,
            Repair::MergeRefused(MergeRefusal::AlreadyMergedElsewhere)
        );
        set_cdr(container, out.value);
        region_exit(young);
        region_exit(other);
        assert_eq!(sum(cdr(container)), 9 + 10);
        assert_closed(container, old);
        region_exit(old);
    }
    assert_eq!(d.get(Counter::Transmigrations), 1);
    assert_eq!(d.get(Counter::Merges), 1, "only the explicit one");
    assert_eq!(d.regions_live(), 0);
}

/// A region of another thread: (region, a list in it); the thread exits the
/// region when told to.
fn foreign_list(
    n: i64,
) -> (
    usize,
    Value,
    std::sync::mpsc::Sender<()>,
    std::thread::JoinHandle<()>,
) {
    let (tx, rx) = std::sync::mpsc::channel::<(usize, Value)>();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let h = std::thread::spawn(move || {
        // SAFETY: this thread owns the region and exits it once, after the
        // test thread is done reading it.
        unsafe {
            // two open scopes, so the region is younger than the test's
            let outer = region_create();
            let r = region_create();
            let l = list(r, 1000, n);
            tx.send((r as usize, l)).unwrap();
            done_rx.recv().unwrap();
            region_exit(r);
            region_exit(outer);
        }
    });
    let (r, l) = rx.recv().unwrap();
    (r, l, done_tx, h)
}

#[test]
fn a_region_of_another_thread_is_not_merged() {
    let _s = serial();
    // SAFETY: the foreign region stays alive (its thread waits) until the
    // repair is done; our regions are exited once each.
    unsafe {
        set_merge_threshold(Some(0));
        let old = region_create();
        let (r, foreign, done, h) = foreign_list(30);
        assert!(!is_older_or_same(r as *mut Region, old));
        let out = store_into_outcome(old, foreign);
        assert_eq!(
            out.repair,
            Repair::MergeRefused(MergeRefusal::DifferentOwners)
        );
        let container = alloc_pair(old, out.value, NIL);
        done.send(()).unwrap();
        h.join().unwrap();
        assert_eq!(sum(car(container)), (1000..1030).sum::<i64>());
        assert_closed(container, old);
        region_exit(old);
    }
}

#[test]
fn a_region_that_refuses_makes_the_whole_store_transmigrate() {
    let _s = serial();
    // SAFETY: as above.
    unsafe {
        set_merge_threshold(Some(0));
        let old = region_create();
        let (r, foreign, done, h) = foreign_list(10);
        // depth 3: younger than the foreign region (depth 2) whatever the ids
        let between = region_create();
        let young = region_create();
        assert!(is_older_or_same(r as *mut Region, young));
        assert!(!is_older_or_same(r as *mut Region, old));
        // two young pairs sharing the foreign list
        let value = alloc_pair(young, foreign, alloc_pair(young, foreign, NIL));
        let out = store_into_outcome(old, value);
        // The foreign region (another thread's) cannot be merged, so nothing
        // is: a partial merge would leave merged objects pointing into it.
        assert_eq!(
            out.repair,
            Repair::MergeRefused(MergeRefusal::DifferentOwners)
        );
        assert_ne!(out.value, value, "repaired by a copy");
        let container = alloc_pair(old, out.value, NIL);
        region_exit(young);
        region_exit(between);
        done.send(()).unwrap();
        h.join().unwrap(); // the foreign region is reclaimed now
        let got = car(container);
        assert_eq!(car(got), car(cdr(got)), "one copy, sharing kept");
        assert_eq!(sum(car(got)), (1000..1010).sum::<i64>());
        assert_closed(container, old);
        region_exit(old);
    }
}

/// A merge takes along the open regions between the container's and the
/// value's: an unrelated object of the merged region may point into them.
#[test]
fn a_merge_takes_the_regions_in_between() {
    let _s = serial();
    // SAFETY: as above.
    unsafe {
        set_merge_threshold(Some(0));
        let old = region_create();
        let between = region_create();
        let mid = list(between, 100, 3);
        let young = region_create();
        // not reachable from the stored value, but in the merged region
        let unrelated = alloc_pair(young, mid, NIL);
        let value = list(young, 0, 3);
        let out = store_into_outcome(old, value);
        assert_eq!(out.repair, Repair::Merged { regions: 2 });
        assert_eq!(region_of(unrelated), old);
        assert_eq!(region_of(mid), old, "the region in between was merged too");
        // a later store of the unrelated object needs no repair, and stays valid
        let container = alloc_pair(old, NIL, NIL);
        let v = omni_store_barrier(container, unrelated);
        assert_eq!(v, unrelated);
        set_car(container, v);
        region_exit(young);
        region_exit(between);
        assert_eq!(sum(car(car(container))), 100 + 101 + 102);
        assert_closed(container, old);
        region_exit(old);
    }
}

/// The would-be cycle: old list → young list → old list.
unsafe fn would_be_cycle(threshold: u64) {
    set_merge_threshold(Some(threshold));
    let d = Delta::start();
    let old = region_create();
    let a = list(old, 0, 3);
    let young = region_create();
    let b = list(young, 10, 3);
    // young → old: allowed, no repair
    let v = omni_store_barrier(last_pair(b), a);
    assert_eq!(v, a);
    set_cdr(last_pair(b), v);
    // old → young: repaired (this is the edge that would make the cycle
    // between the two regions)
    let v = omni_store_barrier(last_pair(a), b);
    set_cdr(last_pair(a), v);
    region_exit(young);
    // the cycle lives entirely in `old`: 6 pairs, all live, none younger
    assert_eq!(assert_closed(a, old), 6);
    let mut p = a;
    let mut seen = Vec::new();
    for _ in 0..6 {
        seen.push(int_value(car(p)));
        p = cdr(p);
    }
    assert_eq!(seen, vec![0, 1, 2, 10, 11, 12]);
    assert_eq!(p, a, "the cycle closes on the old list");
    let acc = region_accounting(old);
    assert_eq!((acc.external_rc, acc.tethers), (0, 0));
    region_exit(old);
    assert_eq!(
        d.regions_live(),
        0,
        "both regions reclaimed: no region cycle"
    );
    assert_eq!(d.get(Counter::BarrierCalls), 2);
    assert_eq!(d.get(Counter::BarrierRepairs), 1);
    assert_eq!(
        d.get(Counter::RegionsReclaimed),
        d.get(Counter::RegionsCreated)
    );
}

#[test]
fn the_would_be_region_cycle_is_repaired_by_transmigration() {
    let _s = serial();
    // SAFETY: regions of this thread, exited once each.
    unsafe { would_be_cycle(u64::MAX - 1) };
}

#[test]
fn the_would_be_region_cycle_is_repaired_by_merge() {
    let _s = serial();
    // SAFETY: regions of this thread, exited once each.
    unsafe { would_be_cycle(0) };
}

#[test]
fn h0_is_deterministic() {
    let _s = serial();
    let run = || {
        let mut out = Vec::new();
        // SAFETY: regions of this thread, exited once each.
        unsafe {
            set_merge_threshold(Some(2048));
            let old = region_create();
            for n in [10, 80, 90, 200] {
                let young = region_create();
                let v = list(young, 0, n);
                out.push(store_into_outcome(old, v).repair);
                region_exit(young);
            }
            region_exit(old);
        }
        out
    };
    let first = run();
    assert_eq!(first, run());
    // 24 bytes a pair: 80 pairs = 1920 < 2048 <= 90 pairs = 2160
    assert_eq!(first[0], Repair::Transmigrated);
    assert_eq!(first[1], Repair::Transmigrated);
    assert!(matches!(first[2], Repair::Merged { .. }));
    assert!(matches!(first[3], Repair::Merged { .. }));
}

#[test]
fn child_process_entry() {
    let Some(scenario) = child_scenario() else {
        return;
    };
    match scenario.as_str() {
        "env_overrides_compiled" => {
            omni_rt_set_merge_threshold(999);
            assert_eq!(merge_threshold(), 123);
        }
        "compiled_without_env" => {
            assert_eq!(merge_threshold(), DEFAULT_MERGE_THRESHOLD_BYTES);
            omni_rt_set_merge_threshold(999);
            assert_eq!(merge_threshold(), 999);
        }
        other => panic!("unknown scenario {other}"),
    }
}

#[test]
fn the_env_overrides_the_compiled_in_threshold() {
    let out = run_child(
        "child_process_entry",
        "env_overrides_compiled",
        &[(MERGE_THRESHOLD_ENV, "123")],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new(exe)
        .args(["child_process_entry", "--exact", "--test-threads=1"])
        .env(common::SCENARIO_VAR, "compiled_without_env")
        .env_remove(MERGE_THRESHOLD_ENV)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
