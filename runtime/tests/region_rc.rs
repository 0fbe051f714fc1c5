//! Region-RC behaviour: allocation (lazy first chunk, chunks, dedicated chunks),
//! `region_of`, the liveness rule, pooling, age order, merge, tethers and
//! borrowed references, accounting, quotas, statistics, and every abort
//! (through the child-process pattern of `common`).

mod common;

use common::{assert_aborted_with, child_scenario, run_child};
use omni_runtime::object::{alloc_pair, car, cdr, is_pair};
use omni_runtime::region::*;
use omni_runtime::stats::{self, Counter};
use omni_runtime::tether::{borrow, borrow_unpinned, omni_tether_end, tether_end, tether_start};
use omni_runtime::value::*;

/// Build the list (0 1 ... n-1) in `r`.
unsafe fn list(r: *mut Region, n: i64) -> Value {
    let mut l = NIL;
    for i in (0..n).rev() {
        l = unsafe { alloc_pair(r, make_int(i), l) };
    }
    l
}

unsafe fn list_sum(mut l: Value) -> i64 {
    let mut s = 0;
    while is_pair(l) {
        unsafe {
            s += int_value(car(l));
            l = cdr(l);
        }
    }
    s
}

fn acct(r: *mut Region) -> RegionAccounting {
    unsafe { region_accounting(r) }
}

#[test]
fn small_region_allocates_in_one_small_first_chunk_and_region_of_finds_it() {
    unsafe {
        let r = region_create();
        // A region that has not allocated holds no chunk at all.
        let a = acct(r);
        assert_eq!((a.chunks, a.held_bytes, a.bytes), (0, 0, 0));
        // The control block is small: 160 bytes at most in release builds
        // (debug builds add a 64-byte record of active tethers).
        let limit = if cfg!(debug_assertions) { 224 } else { 160 };
        assert!(
            std::mem::size_of::<Region>() <= limit,
            "control block is {} bytes",
            std::mem::size_of::<Region>()
        );
        assert_eq!(CONTROL_BLOCK_BYTES, std::mem::size_of::<Region>());
        let p = alloc_pair(r, make_int(1), make_int(2));
        assert_eq!(region_of(p), r);
        // The header names the descriptor at the start of the first chunk,
        // a FIRST_CHUNK_BYTES block of its own (not inside the control block).
        let chunk = header_chunk(*(p as *const u64));
        assert_eq!(
            p as usize,
            chunk + CHUNK_HEADER_BYTES,
            "first object after the descriptor"
        );
        let block = r as usize;
        assert!(
            chunk + FIRST_CHUNK_BYTES <= block || chunk >= block + std::mem::size_of::<Region>()
        );
        let a = acct(r);
        assert_eq!(a.chunks, 1);
        assert_eq!(a.held_bytes, FIRST_CHUNK_BYTES);
        assert_eq!(a.bytes, PAIR_SIZE);
        assert!(a.scope_alive);
        // The first chunk holds (FIRST_CHUNK_BYTES - descriptor) / PAIR_SIZE
        // pairs, every one in the same chunk.
        let fit = (FIRST_CHUNK_BYTES - CHUNK_HEADER_BYTES) / PAIR_SIZE;
        for _ in 1..fit {
            let q = alloc_pair(r, NIL, NIL);
            assert_eq!(header_chunk(*(q as *const u64)), chunk);
        }
        assert_eq!(acct(r).chunks, 1);
        let q = alloc_pair(r, NIL, NIL);
        assert_ne!(header_chunk(*(q as *const u64)), chunk, "next chunk");
        assert_eq!(region_of(q), r);
        assert_eq!(
            acct(r).held_bytes,
            3 * FIRST_CHUNK_BYTES,
            "second chunk doubles"
        );
        region_exit(r);
    }
}

#[test]
fn a_pooled_control_block_keeps_its_last_regions_largest_small_chunk() {
    // Release builds only: a debug build hands every chunk out again through
    // the pool, poisoned (`take_spare_chunk`).
    if cfg!(debug_assertions) {
        return;
    }
    unsafe {
        let r = region_create_in_use(AllocSite::UNKNOWN);
        // 8 pairs do not fit the 128-byte first chunk: a 256-byte one follows.
        let l = list(r, 8);
        assert_eq!(list_sum(l), 28);
        assert_eq!(acct(r).chunks, 2);
        region_exit(r);
        // The pool hands the same block out again; its spare is the
        // 256-byte chunk, so 8 pairs fit the new region's first chunk.
        let r2 = region_create_in_use(AllocSite::UNKNOWN);
        assert_eq!(r2, r, "the pool reuses the last block");
        let a = acct(r2);
        assert_eq!(
            (a.chunks, a.held_bytes, a.bytes),
            (1, 2 * FIRST_CHUNK_BYTES, 0)
        );
        let l = list(r2, 8);
        assert_eq!(list_sum(l), 28);
        assert_eq!(acct(r2).chunks, 1, "one chunk holds them");
        region_exit(r2);
    }
}

#[test]
fn chunks_grow_geometrically_and_region_of_holds_in_every_chunk() {
    unsafe {
        let r = region_create();
        let n = 20_000;
        let l = list(r, n);
        let mut cur = l;
        while is_pair(cur) {
            assert_eq!(region_of(cur), r);
            cur = cdr(cur);
        }
        let a = acct(r);
        assert_eq!(a.bytes, n as usize * PAIR_SIZE);
        // 480 kB in doubling chunks from 128 B: 128 B, 256 B, ..., 256 KiB.
        assert_eq!(a.chunks, 12, "chunks = {}", a.chunks);
        assert_eq!(a.held_bytes, (512 << 10) - FIRST_CHUNK_BYTES);
        // Geometric growth: the slack is below the size of the last chunk.
        assert!(a.held_bytes < 2 * a.bytes);
        assert_eq!(list_sum(l), n * (n - 1) / 2);
        region_exit(r);
    }
}

#[test]
fn large_allocation_gets_a_dedicated_chunk() {
    unsafe {
        let r = region_create();
        let before = acct(r).chunks;
        let big = alloc_object(r, ObjKind::String, DEDICATED_THRESHOLD + 64);
        assert_eq!(region_of(big as Value), r);
        assert_eq!(acct(r).chunks, before + 1);
        // The bump chunk is separate: small objects still share one.
        let p = alloc_pair(r, NIL, NIL);
        assert_eq!(
            header_chunk(*(p as *const u64)),
            header_chunk(*(alloc_pair(r, NIL, NIL) as *const u64))
        );
        assert!(acct(r).bytes >= DEDICATED_THRESHOLD + 64);
        region_exit(r);
    }
}

#[test]
fn scope_exit_alone_reclaims() {
    unsafe {
        let r = region_create();
        let e = region_epoch(r);
        assert!(region_is_alive(r));
        region_exit(r);
        assert!(!region_is_alive(r));
        assert_eq!(region_epoch(r), e + 1);
    }
}

#[test]
fn a_sole_scope_region_is_emptied_in_place_and_any_other_is_not() {
    unsafe {
        // Only its scope keeps it: emptied, kept open, the epoch advanced,
        // the bytes counted as allocated; it allocates again from the start.
        let s0 = stats::snapshot();
        let r = region_create();
        let l = list(r, 4);
        assert_eq!(list_sum(l), 6);
        let e = region_epoch(r);
        assert_eq!((acct(r).bytes, acct(r).chunks), (4 * 24, 1));
        assert!(region_reset_sole_scope(r));
        let a = acct(r);
        assert!(a.scope_alive && region_is_alive(r));
        assert_eq!((a.bytes, a.chunks, a.epoch), (0, 1, e + 1));
        assert_eq!(list_sum(list(r, 4)), 6);
        region_exit(r);
        assert!(!region_is_alive(r));
        // Other test threads may flush their counts concurrently: >=.
        let s1 = stats::snapshot();
        assert!(s1.get(Counter::BytesAllocated) >= s0.get(Counter::BytesAllocated) + 8 * 24);

        // An external reference, a tether, a second chunk: not emptied.
        let held = region_create();
        let l = list(held, 3);
        region_retain(held);
        assert!(!region_reset_sole_scope(held));
        assert_eq!(list_sum(l), 3, "its objects are untouched");
        region_release(held);
        let tethered = region_create();
        let t = tether_start(tethered);
        assert!(!region_reset_sole_scope(tethered));
        tether_end(t);
        let big = region_create();
        list(big, 10_000);
        assert!(acct(big).chunks > 1);
        assert!(!region_reset_sole_scope(big));
        for r in [held, tethered, big] {
            region_exit(r);
            assert!(!region_is_alive(r));
        }
    }
}

#[test]
fn external_reference_keeps_a_region_alive_after_scope_exit() {
    unsafe {
        let r = region_create();
        let l = list(r, 100);
        let e = region_epoch(r);
        region_retain(r);
        region_exit(r);
        let a = acct(r);
        assert!(!a.scope_alive && a.external_rc == 1 && region_is_alive(r));
        assert_eq!(list_sum(l), 4950, "objects stay valid while referenced");
        region_release(r);
        assert!(!region_is_alive(r));
        assert_eq!(region_epoch(r), e + 1);
    }
}

#[test]
fn a_tether_keeps_a_region_alive_after_scope_exit() {
    unsafe {
        let r = region_create();
        let l = list(r, 10);
        let t = tether_start(r);
        region_exit(r);
        assert!(region_is_alive(r));
        assert_eq!(acct(r).tethers, 1);
        assert_eq!(list_sum(l), 45);
        let e = region_epoch(r);
        tether_end(t);
        assert!(!region_is_alive(r));
        assert_eq!(region_epoch(r), e + 1);
    }
}

/// Whatever order scope exit, external release and tether end happen in, the
/// region is reclaimed exactly once, right after the last of them.
#[test]
fn the_last_of_scope_external_and_tether_reclaims_exactly_once() {
    let orders: [[u8; 3]; 6] = [
        [0, 1, 2],
        [0, 2, 1],
        [1, 0, 2],
        [1, 2, 0],
        [2, 0, 1],
        [2, 1, 0],
    ];
    for order in orders {
        unsafe {
            let r = region_create();
            region_retain(r);
            let mut t = Some(tether_start(r));
            let e = region_epoch(r);
            for (i, step) in order.iter().enumerate() {
                assert!(region_is_alive(r), "{order:?}: reclaimed before step {i}");
                match step {
                    0 => region_exit(r),
                    1 => region_release(r),
                    _ => tether_end(t.take().unwrap()),
                }
                let expect_epoch = if i == 2 { e + 1 } else { e };
                assert_eq!(region_epoch(r), expect_epoch, "{order:?} after step {i}");
            }
            assert!(!region_is_alive(r));
        }
    }
}

#[test]
fn pooled_control_blocks_are_reused_with_a_fresh_identity_and_a_later_epoch() {
    unsafe {
        let r1 = region_create();
        let id1 = region_id(r1);
        let e1 = region_epoch(r1);
        region_exit(r1);
        let r2 = region_create();
        assert_eq!(r2, r1, "LIFO pool hands the same block back");
        assert!(region_id(r2) > id1);
        assert_eq!(region_epoch(r2), e1 + 1);
        let a = acct(r2);
        assert_eq!((a.bytes, a.chunks, a.external_rc, a.tethers), (0, 0, 0, 0));
        region_exit(r2);
    }
}

#[test]
fn age_order_is_global_then_depth_then_sequence() {
    unsafe {
        let g = global_region();
        let a = region_create();
        let b = region_create(); // nested in a's scope on this thread
        let c = region_create_child(a, AllocSite(3));
        assert!(is_older_or_same(g, a) && !is_older_or_same(a, g));
        assert!(is_older_or_same(a, a));
        assert!(is_older_or_same(a, b) && !is_older_or_same(b, a));
        assert!(is_older_or_same(a, c) && !is_older_or_same(c, a));
        assert_eq!(acct(c).depth, acct(a).depth + 1);
        // b and c have the same depth: the older sequence number wins.
        assert_eq!(acct(b).depth, acct(c).depth);
        assert!(is_older_or_same(b, c) && !is_older_or_same(c, b));
        region_exit(c);
        region_exit(b);
        region_exit(a);
    }
}

#[test]
fn releases_from_many_threads_reclaim_exactly_once() {
    for _round in 0..50 {
        unsafe {
            let r = region_create();
            let l = list(r, 50);
            let e = region_epoch(r);
            let n = 8;
            for _ in 0..n {
                region_retain(r);
            }
            let addr = r as usize;
            let handles: Vec<_> = (0..n)
                .map(|_| {
                    std::thread::spawn(move || {
                        let r = addr as *mut Region;
                        region_release(r);
                    })
                })
                .collect();
            assert_eq!(list_sum(l), 1225, "scope still holds the region");
            region_exit(r);
            for h in handles {
                h.join().unwrap();
            }
            assert!(!region_is_alive(r));
            assert_eq!(region_epoch(r), e + 1, "reclaimed exactly once");
        }
    }
}

#[test]
fn merge_moves_every_object_in_time_proportional_to_chunks() {
    unsafe {
        let old = region_create();
        let young = region_create();
        let l = list(young, 5000);
        let young_bytes = acct(young).bytes;
        let young_chunks = acct(young).chunks;
        let old_bytes = acct(old).bytes;
        let old_chunks = acct(old).chunks;
        assert!(young_chunks > 2);
        region_merge(young, old).unwrap();
        let mut cur = l;
        while is_pair(cur) {
            assert_eq!(
                region_of(cur),
                old,
                "every merged object now belongs to old"
            );
            cur = cdr(cur);
        }
        assert_eq!(acct(old).bytes, old_bytes + young_bytes);
        assert_eq!(acct(old).chunks, old_chunks + young_chunks);
        assert_eq!(acct(young).bytes, 0);
        assert_eq!(region_merged_into(young), old);
        assert_eq!(acct(old).external_rc, 1, "young holds old");
        // The young region keeps allocating in fresh chunks of its own.
        let p = alloc_pair(young, make_int(1), l);
        assert_eq!(region_of(p), young);
        region_exit(young);
        assert_eq!(acct(old).external_rc, 0);
        assert_eq!(list_sum(l), 5000 * 4999 / 2);
        let e = region_epoch(old);
        region_exit(old);
        assert_eq!(region_epoch(old), e + 1);
    }
}

#[test]
fn a_merged_young_region_keeps_the_old_region_alive() {
    unsafe {
        let old = region_create();
        let young = region_create();
        let l = list(young, 300);
        region_merge(young, old).unwrap();
        let e_old = region_epoch(old);
        region_exit(old); // out of order on purpose: young still holds old
        assert!(region_is_alive(old));
        assert_eq!(list_sum(l), 300 * 299 / 2);
        region_exit(young);
        assert!(!region_is_alive(old), "young's reclaim released old");
        assert_eq!(region_epoch(old), e_old + 1);
    }
}

#[test]
fn merged_first_chunk_outlives_the_young_control_block_until_the_old_region_goes() {
    unsafe {
        let old = region_create();
        let young = region_create();
        let p = alloc_pair(young, make_int(7), NIL); // in young's first chunk
        let held = acct(young).held_bytes;
        region_merge(young, old).unwrap();
        assert_eq!(region_of(p), old);
        assert_eq!(acct(old).held_bytes, held, "the chunk is old's now");
        assert_eq!(acct(young).held_bytes, 0);
        region_exit(young);
        // The chunk is separate from young's control block, so the block is
        // recycled at once, and reusing it (and allocating in the new
        // regions) leaves the handed-over chunk alone.
        let others: Vec<_> = (0..4).map(|_| region_create()).collect();
        assert!(
            others.contains(&young),
            "young's block is pooled as soon as young is reclaimed"
        );
        for &r in &others {
            let _ = list(r, 20);
        }
        assert_eq!(
            int_value(car(p)),
            7,
            "object in the handed-over first chunk is intact"
        );
        assert_eq!(region_of(p), old);
        for r in others.into_iter().rev() {
            region_exit(r);
        }
        region_exit(old);
        assert!(!region_is_alive(old));
    }
}

#[test]
fn merges_that_are_not_allowed_are_refused() {
    unsafe {
        let a = region_create();
        let b = region_create();
        let c = region_create();
        assert_eq!(region_merge(a, a), Err(MergeRefusal::SameRegion));
        assert_eq!(region_merge(a, b), Err(MergeRefusal::NotOlder));
        assert_eq!(
            region_merge(global_region(), a),
            Err(MergeRefusal::YoungIsGlobal)
        );
        region_merge(c, b).unwrap();
        assert_eq!(
            region_merge(c, a),
            Err(MergeRefusal::AlreadyMergedElsewhere)
        );
        region_merge(c, b).unwrap(); // again into the same region: fine
        assert_eq!(acct(b).external_rc, 1, "one reference however many merges");
        let other_thread = std::thread::spawn(|| region_create() as usize)
            .join()
            .unwrap() as *mut Region;
        let d = region_create();
        assert_eq!(
            region_merge(d, other_thread),
            Err(MergeRefusal::DifferentOwners)
        );
        region_exit(d);
        region_exit(c);
        region_exit(b);
        region_exit(a);
    }
}

#[test]
fn merging_into_the_global_region_is_allowed() {
    unsafe {
        let y = region_create();
        let l = list(y, 20);
        region_merge(y, global_region()).unwrap();
        assert_eq!(region_of(l), global_region());
        region_exit(y);
        assert_eq!(list_sum(l), 190);
    }
}

#[test]
fn borrowed_refs_check_epoch_and_tether() {
    unsafe {
        let r = region_create();
        let p = alloc_pair(r, make_int(5), NIL);
        let t = tether_start(r);
        let b = borrow(&t, p);
        assert_eq!(b.get(), p);
        b.check();
        let u = borrow_unpinned(p);
        tether_end(t);
        assert_eq!(
            u.get(),
            p,
            "an unpinned borrow stays valid while the scope lives"
        );
        region_exit(r);
    }
}

#[test]
fn reclaimed_memory_is_poisoned_in_debug_builds() {
    unsafe {
        let r = region_create();
        let p = alloc_pair(r, make_int(1), NIL);
        let big = list(r, 1000);
        region_exit(r);
        if cfg!(debug_assertions) {
            assert_eq!(*(p as *const u64), POISON_WORD);
            assert_eq!(*(big as *const u64), POISON_WORD);
        }
    }
}

#[test]
fn accounting_and_statistics_move() {
    unsafe {
        let s0 = stats::snapshot();
        let r = region_create();
        let _l = list(r, 1000);
        let a = acct(r);
        assert_eq!(a.bytes, 24_000);
        assert!(a.chunks >= 3);
        let t = tether_start(r);
        tether_end(t);
        region_retain(r);
        region_release(r);
        region_exit(r);
        let s1 = stats::snapshot();
        // Other test threads may flush their counts concurrently: >=.
        assert!(s1.get(Counter::RegionsCreated) > s0.get(Counter::RegionsCreated));
        assert!(s1.get(Counter::RegionsReclaimed) > s0.get(Counter::RegionsReclaimed));
        assert!(s1.get(Counter::BytesAllocated) >= s0.get(Counter::BytesAllocated) + 24_000);
        assert!(s1.get(Counter::Tethers) > s0.get(Counter::Tethers));
        assert!(s1.get(Counter::ExternalRetains) > s0.get(Counter::ExternalRetains));
        assert!(s1.bytes_peak_live >= 24_000);
        assert!(s1.regions_peak_live >= 1);
    }
}

// ------------------------------------------------------------ aborts

/// Entry point of the child processes (does nothing in a normal run).
#[test]
fn child_process_entry() {
    let Some(scenario) = child_scenario() else {
        return;
    };
    unsafe {
        match scenario.as_str() {
            "double_exit" => {
                let r = region_create();
                region_retain(r);
                region_exit(r);
                region_exit(r);
            }
            "double_exit_reclaimed" => {
                let r = region_create();
                region_exit(r);
                region_exit(r);
            }
            "rc_underflow" => {
                let r = region_create();
                region_release(r);
            }
            "destroy_while_pinned" => {
                let r = region_create();
                let _t = tether_start(r);
                region_destroy(r);
            }
            "destroy_while_referenced" => {
                let r = region_create();
                region_retain(r);
                region_destroy(r);
            }
            "tether_underflow" => {
                let r = region_create();
                omni_tether_end(r);
            }
            "exit_global" => region_exit(global_region()),
            "quota" => {
                let r = region_create_at(AllocSite(7));
                let _ = list(r, 100_000);
            }
            "stale_borrow_after_tether_end" => {
                let r = region_create();
                let p = alloc_pair(r, NIL, NIL);
                let t = tether_start(r);
                let b = borrow(&t, p);
                tether_end(t);
                let _ = b.get(); // scope still alive, but the tether is gone
            }
            "stale_borrow_after_exit" => {
                let r = region_create();
                let p = alloc_pair(r, NIL, NIL);
                let b = borrow_unpinned(p);
                region_exit(r);
                b.check();
            }
            "dead_pointer" => {
                let r = region_create();
                let p = alloc_pair(r, NIL, NIL);
                region_exit(r);
                debug_check_live(p);
            }
            "stats_report" => {
                let r = region_create();
                let _ = list(r, 100);
                region_exit(r);
                stats::report_at_exit();
                return;
            }
            other => panic!("unknown scenario {other}"),
        }
    }
    eprintln!("child scenario {scenario} did not abort");
    std::process::exit(3);
}

fn child(scenario: &str) -> std::process::Output {
    run_child("child_process_entry", scenario, &[])
}

#[test]
fn double_exit_aborts_naming_the_region() {
    assert_aborted_with(
        &child("double_exit"),
        &["double exit of region #", "1 external reference"],
    );
    assert_aborted_with(
        &child("double_exit_reclaimed"),
        &["double exit of region #", "already reclaimed"],
    );
}

#[test]
fn rc_underflow_aborts() {
    assert_aborted_with(
        &child("rc_underflow"),
        &["external RC underflow on region #"],
    );
    assert_aborted_with(
        &child("tether_underflow"),
        &["tether_end without tether_start on region #"],
    );
}

#[test]
fn destroy_while_pinned_aborts() {
    assert_aborted_with(
        &child("destroy_while_pinned"),
        &["destroy of region #", "while pinned by 1 tether"],
    );
    assert_aborted_with(
        &child("destroy_while_referenced"),
        &["while 1 external reference(s) remain"],
    );
}

#[test]
fn exiting_the_global_region_aborts() {
    assert_aborted_with(&child("exit_global"), &["exit of the global region"]);
}

#[test]
fn quota_abort_names_region_and_site() {
    let out = run_child(
        "child_process_entry",
        "quota",
        &[("OMNI_REGION_QUOTA_BYTES", "65536")],
    );
    assert_aborted_with(
        &out,
        &[
            "region exceeded quota; likely escape/retention",
            "region #",
            "quota 65536 bytes",
            "site 7",
        ],
    );
}

#[test]
fn stale_borrows_abort() {
    assert_aborted_with(
        &child("stale_borrow_after_exit"),
        &["stale borrow: region #", "was reclaimed"],
    );
    if cfg!(debug_assertions) {
        assert_aborted_with(
            &child("stale_borrow_after_tether_end"),
            &["stale borrow: tether 1 on region #", "ended"],
        );
    }
}

#[test]
fn pointer_into_a_dead_region_trips_the_check() {
    assert_aborted_with(&child("dead_pointer"), &["omni runtime fatal: pointer 0x"]);
}

#[test]
fn stats_report_prints_every_counter() {
    let out = run_child(
        "child_process_entry",
        "stats_report",
        &[("OMNI_STATS", "1")],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    for key in [
        "regions_created",
        "regions_peak_live",
        "regions_live",
        "bytes_allocated",
        "bytes_peak_live",
        "bytes_regions_peak",
        "bytes_pooled",
        "bytes_stack",
        "bytes_held_peak",
        "transmigrations",
        "transmigrated_objects",
        "transmigrated_bytes",
        "merges",
        "barrier_calls",
        "barrier_repairs",
        "tethers",
        "external_retains",
    ] {
        assert!(
            stderr.contains(&format!("omni-stats: {key}=")),
            "missing {key}:\n{stderr}"
        );
    }
    // 100 pairs = 2,400 bytes of objects, held in chunks of 128 B, 256 B,
    // ..., 2 KiB (3,968 bytes); after the exit all of them sit in the
    // thread's pool (the 128-byte one as the pooled control block's spare).
    let held = 3968;
    for exact in [
        "regions_created=1\n".to_string(),
        "regions_live=0\n".to_string(),
        "regions_peak_live=1\n".to_string(),
        "bytes_allocated=2400\n".to_string(),
        format!("bytes_regions_peak={held}\n"),
        format!("bytes_pooled={held}\n"),
    ] {
        assert!(
            stderr.contains(&format!("omni-stats: {exact}")),
            "expected {exact:?}:\n{stderr}"
        );
    }
    // Everything else the process allocated counts too: bytes_peak_live
    // (heap in use + stack) and bytes_held_peak (pooled memory included)
    // are at least the region's share.
    let get = |k: &str| -> usize {
        let prefix = format!("omni-stats: {k}=");
        stderr
            .lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {k} in {stderr}"))
    };
    assert!(get("bytes_peak_live") >= held, "{stderr}");
    assert!(get("bytes_held_peak") >= get("bytes_peak_live"), "{stderr}");
    assert!(
        get("bytes_held_peak") >= held + get("bytes_stack"),
        "{stderr}"
    );
}

#[test]
fn a_region_created_in_use_reuses_its_blocks_spare_chunk_and_starts_empty() {
    unsafe {
        // A first region, reclaimed with one first-size chunk: its control
        // block goes back to the pool keeping that chunk as its spare.
        let r1 = region_create_in_use(AllocSite(5));
        let old = alloc_pair(r1, make_int(1), make_int(2));
        region_exit(r1);
        let s0 = stats::snapshot();
        let r2 = region_create_in_use(AllocSite(5));
        assert_eq!(r2, r1, "LIFO pool hands the same block back");
        let a = acct(r2);
        assert_eq!(a.bytes, 0, "a reused region starts empty");
        assert_eq!((a.external_rc, a.tethers), (0, 0));
        assert!(a.scope_alive);
        if cfg!(debug_assertions) {
            // Debug builds poison a chunk when its region is reclaimed, so
            // a use after free reads poison until the chunk is reused, and
            // take the spare only at the first allocation (the slow path).
            assert_eq!(*(old as *const u64), POISON_WORD);
            assert_eq!(a.chunks, 0);
        } else {
            // Release builds install the spare at creation.
            assert_eq!(a.chunks, 1);
            assert_eq!(a.held_bytes, FIRST_CHUNK_BYTES);
        }
        let fresh = alloc_pair(r2, make_int(3), make_int(4));
        assert_eq!((int_value(car(fresh)), int_value(cdr(fresh))), (3, 4));
        assert_eq!(
            fresh, old,
            "the same memory, the bump pointer back at its start"
        );
        assert_eq!(acct(r2).chunks, 1);
        assert_eq!(acct(r2).bytes, 24);
        region_exit(r2);
        assert!(!region_is_alive(r2));
        let s1 = stats::snapshot();
        // Other test threads may flush their counts concurrently: >=.
        assert!(s1.get(Counter::RegionsCreated) > s0.get(Counter::RegionsCreated));
        assert!(s1.get(Counter::RegionsReclaimed) > s0.get(Counter::RegionsReclaimed));
        assert!(s1.get(Counter::ChunksAllocated) > s0.get(Counter::ChunksAllocated));
        assert!(s1.get(Counter::BytesAllocated) >= s0.get(Counter::BytesAllocated) + 24);
    }
}
