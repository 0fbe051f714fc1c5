//! Micro-benchmarks of the Region-RC runtime (issue 3 targets):
//! small-object allocation, pooled region create+exit, transmigration of a
//! 10,000-element list and of a depth-15 binary tree against a plain Rust
//! recursive deep copy of the same tree, merge at 1k vs 100k objects, and
//! tether start/end.
//!
//! Harness: each measurement runs a warm-up, then `ROUNDS` timed rounds of a
//! fixed batch and reports the fastest round's ns/op (the least disturbed by
//! the other work on the machine). Run:
//! `cargo bench -p omni-runtime --bench region_bench`

use omni_runtime::object::{alloc_pair, car, cdr, is_pair};
use omni_runtime::region::*;
use omni_runtime::tether::{tether_end, tether_start};
use omni_runtime::transmigrate::transmigrate;
use omni_runtime::value::*;
use std::hint::black_box;
use std::time::{Duration, Instant};

const ROUNDS: usize = 7;

/// Fastest of `ROUNDS` rounds of `f` (which runs `ops` operations and
/// returns the time it measured itself), in ns/op.
fn best(ops: u64, mut f: impl FnMut() -> Duration) -> f64 {
    f(); // warm-up (pools, caches, page faults)
    (0..ROUNDS)
        .map(|_| f().as_nanos() as f64 / ops as f64)
        .fold(f64::INFINITY, f64::min)
}

fn timed(f: impl FnOnce()) -> Duration {
    let t = Instant::now();
    f();
    t.elapsed()
}

unsafe fn list(r: *mut Region, n: i64) -> Value {
    let mut l = NIL;
    for i in (0..n).rev() {
        l = alloc_pair(r, make_int(i), l);
    }
    l
}

unsafe fn tree(r: *mut Region, depth: u32) -> Value {
    if depth == 0 {
        return make_int(1);
    }
    let left = tree(r, depth - 1);
    let right = tree(r, depth - 1);
    alloc_pair(r, left, right)
}

/// The reference: the same tree as plain Rust boxes, deep-copied recursively.
#[derive(Clone)]
enum RustTree {
    Leaf(i64),
    Node(Box<RustTree>, Box<RustTree>),
}

fn rust_tree(depth: u32) -> RustTree {
    if depth == 0 {
        RustTree::Leaf(1)
    } else {
        RustTree::Node(
            Box::new(rust_tree(depth - 1)),
            Box::new(rust_tree(depth - 1)),
        )
    }
}

/// A tighter reference: the same recursive copy into a pre-reserved Vec
/// arena (no malloc per node), nodes as `(left, right)` indices, leaf = MAX.
fn arena_copy(src: &[(u32, u32)], i: u32, dst: &mut Vec<(u32, u32)>) -> u32 {
    if i == u32::MAX {
        return i;
    }
    let (l, r) = src[i as usize];
    let l2 = arena_copy(src, l, dst);
    let r2 = arena_copy(src, r, dst);
    dst.push((l2, r2));
    (dst.len() - 1) as u32
}

fn arena_tree(depth: u32, out: &mut Vec<(u32, u32)>) -> u32 {
    if depth == 0 {
        return u32::MAX;
    }
    let l = arena_tree(depth - 1, out);
    let r = arena_tree(depth - 1, out);
    out.push((l, r));
    (out.len() - 1) as u32
}

fn rust_leaves(t: &RustTree) -> i64 {
    match t {
        RustTree::Leaf(n) => *n,
        RustTree::Node(a, b) => rust_leaves(a) + rust_leaves(b),
    }
}

unsafe fn leaves(t: Value) -> i64 {
    if is_pair(t) {
        leaves(car(t)) + leaves(cdr(t))
    } else {
        int_value(t)
    }
}

/// Whether the benchmark group `name` was selected (`cargo bench ... -- name`;
/// no filter runs everything).
fn selected(name: &str) -> bool {
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    filters.is_empty() || filters.iter().any(|f| name.contains(f.as_str()))
}

fn main() {
    println!("omni-runtime region micro-benchmarks (best of {ROUNDS} rounds, ns/op)");
    unsafe {
        if selected("alloc") {
            bench_alloc();
        }
        if selected("create") {
            bench_create_exit();
        }
        if selected("tether") {
            bench_tether();
        }
        if selected("transmigrate") {
            bench_transmigrate();
        }
        if selected("merge") {
            bench_merge();
        }
    }
}

unsafe fn bench_alloc() {
    {
        // --- small-object allocation
        let per_region = 10_000u64;
        let regions = 100u64;
        let alloc_ns = best(per_region * regions, || {
            let rs: Vec<_> = (0..regions).map(|_| region_create()).collect();
            let d = timed(|| {
                for &r in &rs {
                    for i in 0..per_region {
                        black_box(alloc_pair(r, make_int(i as i64), NIL));
                    }
                }
            });
            for r in rs.into_iter().rev() {
                region_exit(r);
            }
            d
        });
        println!("object::alloc_pair (24 B, out-of-line)    {alloc_ns:8.2} ns/op");
        let raw_ns = best(per_region * regions, || {
            let rs: Vec<_> = (0..regions).map(|_| region_create()).collect();
            let d = timed(|| {
                for &r in &rs {
                    for _ in 0..per_region {
                        black_box(alloc_object(r, ObjKind::Box, BOX_SIZE));
                    }
                }
            });
            for r in rs.into_iter().rev() {
                region_exit(r);
            }
            d
        });
        println!("alloc_object (16 B, header only)          {raw_ns:8.2} ns/op");
        let pair_ns = best(per_region * regions, || {
            let rs: Vec<_> = (0..regions).map(|_| region_create()).collect();
            let d = timed(|| {
                for &r in &rs {
                    for i in 0..per_region {
                        let p = alloc_object(r, ObjKind::Pair, PAIR_SIZE);
                        p.add(1).write(make_int(i as i64));
                        p.add(2).write(NIL);
                        black_box(p);
                    }
                }
            });
            for r in rs.into_iter().rev() {
                region_exit(r);
            }
            d
        });
        println!("pair via inlined alloc_object + 2 stores  {pair_ns:8.2} ns/op   target <= 3");
    }
}

unsafe fn bench_create_exit() {
    {
        let n = 1_000_000u64;
        let ce_ns = best(n, || {
            timed(|| {
                for _ in 0..n {
                    let r = region_create();
                    black_box(r);
                    region_exit(r);
                }
            })
        });
        println!("region create+exit (pooled)               {ce_ns:8.2} ns/op   target <= 20");
        let ce1_ns = best(n, || {
            timed(|| {
                for _ in 0..n {
                    let r = region_create();
                    black_box(alloc_pair(r, NIL, NIL));
                    region_exit(r);
                }
            })
        });
        println!("region create+alloc_pair+exit             {ce1_ns:8.2} ns/op");
    }
}

unsafe fn bench_tether() {
    {
        let r = region_create();
        let tn = 1_000_000u64;
        let tether_ns = best(tn, || {
            timed(|| {
                for _ in 0..tn {
                    let t = tether_start(black_box(r));
                    tether_end(t);
                }
            })
        });
        region_exit(r);
        println!("tether start+end                          {tether_ns:8.2} ns/op");
    }
}

unsafe fn bench_transmigrate() {
    {
        let src = region_create();
        let l = list(src, 10_000);
        let reps = 200u64;
        let list_ns = best(reps, || {
            let dsts: Vec<_> = (0..reps).map(|_| region_create()).collect();
            let d = timed(|| {
                for &dst in &dsts {
                    black_box(transmigrate(l, src, dst));
                }
            });
            for dst in dsts.into_iter().rev() {
                region_exit(dst);
            }
            d
        });
        println!(
            "transmigrate list 10,000                  {:8.0} ns/op   ({:.2} ns/object)",
            list_ns,
            list_ns / 10_000.0
        );
        region_exit(src);

        // --- transmigration of a depth-15 tree vs a plain Rust deep copy
        let depth = 15;
        let nodes = (1u64 << depth) - 1;
        let src = region_create();
        let t = tree(src, depth);
        let reps = 40u64;
        let tree_ns = best(reps, || {
            let dsts: Vec<_> = (0..reps).map(|_| region_create()).collect();
            let mut out = Vec::with_capacity(reps as usize);
            let d = timed(|| {
                for &dst in &dsts {
                    out.push(transmigrate(t, src, dst));
                }
            });
            assert_eq!(leaves(out[0]), 1 << depth);
            for dst in dsts.into_iter().rev() {
                region_exit(dst);
            }
            d
        });
        let rt = rust_tree(depth);
        let rust_ns = best(reps, || {
            let mut out = Vec::with_capacity(reps as usize);
            let d = timed(|| {
                for _ in 0..reps {
                    out.push(black_box(&rt).clone());
                }
            });
            assert_eq!(rust_leaves(&out[0]), 1 << depth);
            drop(out); // freeing is not part of the copy
            d
        });
        // Copy + free, both sides: region exit vs dropping the boxes.
        let tree_free_ns = best(reps, || {
            timed(|| {
                for _ in 0..reps {
                    let dst = region_create();
                    black_box(transmigrate(t, src, dst));
                    region_exit(dst);
                }
            })
        });
        let rust_free_ns = best(reps, || {
            timed(|| {
                for _ in 0..reps {
                    drop(black_box(black_box(&rt).clone()));
                }
            })
        });
        let mut arena = Vec::new();
        let root = arena_tree(depth, &mut arena);
        let mut dst_arena: Vec<(u32, u32)> = Vec::with_capacity(arena.len());
        let arena_ns = best(reps, || {
            timed(|| {
                for _ in 0..reps {
                    dst_arena.clear();
                    black_box(arena_copy(black_box(&arena), root, &mut dst_arena));
                }
            })
        });
        region_exit(src);
        println!(
            "transmigrate tree depth 15 ({nodes} pairs) {:8.0} ns/op   ({:.2} ns/object)",
            tree_ns,
            tree_ns / nodes as f64
        );
        println!(
            "rust recursive deep copy, same tree       {:8.0} ns/op   ratio transmigrate/rust = {:.2}  target <= 1.5",
            rust_ns,
            tree_ns / rust_ns
        );
        println!(
            "rust recursive copy into a reserved arena {:8.0} ns/op   ratio transmigrate/arena = {:.2} (no malloc, no sharing check)",
            arena_ns,
            tree_ns / arena_ns
        );
        println!(
            "  copy + free: transmigrate+exit {:.0} ns, rust clone+drop {:.0} ns, ratio {:.2}",
            tree_free_ns,
            rust_free_ns,
            tree_free_ns / rust_free_ns
        );
    }
}

unsafe fn bench_merge() {
    {
        for objects in [1_000i64, 100_000] {
            let reps = 200u64;
            let mut chunks = 0;
            let merge_ns = best(reps, || {
                let mut total = Duration::ZERO;
                for _ in 0..reps {
                    let old = region_create();
                    let young = region_create();
                    black_box(list(young, objects));
                    chunks = region_accounting(young).chunks;
                    let t0 = Instant::now();
                    region_merge(young, old).unwrap();
                    total += t0.elapsed();
                    region_exit(young);
                    region_exit(old);
                }
                total
            });
            println!("merge young region of {objects:>7} objects ({chunks:>2} chunks) {merge_ns:8.1} ns/op");
        }
    }
}
