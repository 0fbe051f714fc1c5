//! Store-barrier benchmark (issue 5): the cost of repairing one
//! younger→older store of an n-element list by transmigration vs by merge
//! (H0's two branches), n = 8 … 65,536, to choose the default merge
//! threshold (docs/REGION_DEPENDENCY_RULES.md, "Choosing the threshold").
//!
//! Each sample: create an old region and a young region, build the list in
//! the young region (not timed), time the barrier store, exit both regions
//! (not timed). Reports the median ns per store over `SAMPLES` samples and
//! the bytes the old region holds afterwards (what the repair retains).
//! Run: `cargo bench -p omni-runtime --bench barrier_bench`

use omni_runtime::barrier::{set_merge_threshold, store_into_outcome, Repair};
use omni_runtime::object::alloc_pair;
use omni_runtime::region::*;
use omni_runtime::value::*;
use std::time::Instant;

const SAMPLES: usize = 201;

unsafe fn list(r: *mut Region, n: i64) -> Value {
    let mut l = NIL;
    for i in (0..n).rev() {
        l = alloc_pair(r, make_int(i), l);
    }
    l
}

/// (median ns per store, bytes retained in the old region)
fn measure(n: i64, threshold: u64, garbage: i64) -> (f64, usize) {
    set_merge_threshold(Some(threshold));
    let mut times = Vec::with_capacity(SAMPLES);
    let mut retained = 0;
    for _ in 0..SAMPLES {
        // SAFETY: regions of this thread, each exited once.
        unsafe {
            let old = region_create();
            let young = region_create();
            let _ = list(young, garbage); // temporaries of the young scope
            let v = list(young, n);
            let t = Instant::now();
            let out = store_into_outcome(old, v);
            let el = t.elapsed();
            std::hint::black_box(out.value);
            let want_merge = threshold == 0;
            assert_eq!(matches!(out.repair, Repair::Merged { .. }), want_merge);
            times.push(el.as_nanos() as f64);
            region_exit(young);
            retained = region_accounting(old).bytes;
            region_exit(old);
        }
    }
    times.sort_by(|a, b| a.partial_cmp(b).unwrap());
    (times[SAMPLES / 2], retained)
}

fn main() {
    println!("store of an n-element young list into an older region (median of {SAMPLES})");
    println!(
        "{:>7} {:>10} | {:>14} {:>10} | {:>14} {:>10} | {:>16}",
        "n", "bytes", "transmigrate", "retained", "merge", "retained", "merge+4x garbage"
    );
    for n in [8i64, 32, 64, 128, 170, 256, 512, 1024, 4096, 16384, 65536] {
        let (tt, tr) = measure(n, u64::MAX - 1, 0);
        let (mt, mr) = measure(n, 0, 0);
        let (_, gr) = measure(n, 0, 4 * n);
        println!(
            "{n:>7} {:>10} | {:>11.0} ns {tr:>10} | {:>11.0} ns {mr:>10} | {gr:>10} bytes",
            n * 24,
            tt,
            mt
        );
    }
}
