//! Transmigration: deep copy out of a source region (or out of every region
//! younger than the destination) that preserves sharing and cycles, copies
//! every kind through its metadata (payload buffers included), keeps
//! pointers outside the domain as they are, and leaves no pointer into the
//! source once the source is reclaimed.

mod common;

use common::{assert_aborted_with, child_scenario, list, run_child, walk};
use omni_runtime::dict::{alloc_dict, dict_get, dict_set};
use omni_runtime::object::*;
use omni_runtime::region::*;
use omni_runtime::transmigrate::{transmigrate, transmigrate_counted, transmigrate_younger_than};
use omni_runtime::value::*;

unsafe fn tree(r: *mut Region, depth: u32) -> Value {
    if depth == 0 {
        return make_int(1);
    }
    let left = tree(r, depth - 1);
    let right = tree(r, depth - 1);
    alloc_pair(r, left, right)
}

unsafe fn tree_leaves(t: Value) -> i64 {
    if is_pair(t) {
        tree_leaves(car(t)) + tree_leaves(cdr(t))
    } else {
        int_value(t)
    }
}

#[test]
fn a_long_list_is_copied_iteratively_and_survives_its_source() {
    unsafe {
        let dst = region_create();
        let src = region_create();
        let n = 200_000; // deep enough to overflow a recursive copier's stack
        let l = list(src, 0, n);
        let out = transmigrate_counted(l, src, dst);
        assert_eq!(out.objects, n as u64);
        assert_eq!(out.bytes, n as u64 * PAIR_SIZE as u64);
        region_exit(src);
        let mut cur = out.value;
        let mut i = 0;
        while is_pair(cur) {
            assert_eq!(region_of(cur), dst);
            assert_eq!(int_value(car(cur)), i);
            i += 1;
            cur = cdr(cur);
        }
        assert_eq!(i, n);
        region_exit(dst);
    }
}

#[test]
fn sharing_and_cycles_are_preserved() {
    unsafe {
        let dst = region_create();
        let src = region_create();
        let shared = alloc_pair(src, make_int(1), NIL);
        let a = alloc_pair(src, shared, shared); // diamond
        let cyc = alloc_pair(src, make_int(9), NIL);
        set_cdr(cyc, cyc); // self cycle
        let root = alloc_pair(src, a, cyc);
        let out = transmigrate_counted(root, src, dst);
        assert_eq!(out.objects, 4, "each source object copied once");
        region_exit(src);
        let r = out.value;
        let a2 = car(r);
        assert_eq!(car(a2), cdr(a2), "sharing kept");
        let c2 = cdr(r);
        assert_eq!(cdr(c2), c2, "cycle kept");
        assert_eq!(int_value(car(c2)), 9);
        let n = walk(r, &mut |x| assert_eq!(region_of(x), dst));
        assert_eq!(n, 4);
        region_exit(dst);
    }
}

#[test]
fn pointers_outside_the_source_are_kept_as_they_are() {
    unsafe {
        let outer = region_create();
        let dst = region_create();
        let src = region_create();
        let ext = alloc_pair(outer, make_int(42), NIL);
        let sym = intern("external-root-symbol");
        let root = alloc_pair(src, ext, alloc_pair(src, sym, ext));
        let out = transmigrate_counted(root, src, dst);
        assert_eq!(out.objects, 2);
        assert_eq!(car(out.value), ext, "external root not copied");
        assert_eq!(car(cdr(out.value)), sym, "global symbol not copied");
        assert_eq!(cdr(cdr(out.value)), ext);
        // A root outside the source is returned unchanged.
        assert_eq!(transmigrate(ext, src, dst), ext);
        assert_eq!(transmigrate(make_int(3), src, dst), make_int(3));
        region_exit(src);
        region_exit(dst);
        region_exit(outer);
    }
}

#[test]
fn every_object_kind_goes_through_its_metadata_payloads_included() {
    unsafe {
        let dst = region_create();
        let src = region_create();
        let s = make_string(src, "héllo wörld");
        let f = make_float(src, 2.5);
        let inner = alloc_pair(src, f, NIL);
        let arr = array_from_slice(src, &[s, inner, make_int(3)]);
        let bx = alloc_box(src, arr);
        let d = alloc_dict(src, 4);
        dict_set(d, make_int(1), bx);
        dict_set(d, s, inner);
        let clo = alloc_closure(src, 0x1000, 0x2000, closure_info(1, false, 2), intern("f"));
        closure_set_free(clo, 0, d);
        closure_set_free(clo, 1, s);
        let out = transmigrate_counted(clo, src, dst);
        // closure, dict, box, array, string, pair, float
        assert_eq!(out.objects, 7);
        // Poison (debug) or reuse the source before reading the copy.
        region_exit(src);
        let junk = region_create();
        let _ = list(junk, 0, 1000);
        let c2 = out.value;
        assert_eq!(region_of(c2), dst);
        let d2 = closure_free(c2, 0);
        let s2 = closure_free(c2, 1);
        assert_ne!(s2, s);
        assert_eq!(string_str(s2), "héllo wörld");
        let b2 = dict_get(d2, make_int(1)).expect("dict key 1");
        let arr2 = box_get(b2);
        assert_eq!(array_len(arr2), 3);
        assert_eq!(
            array_get(arr2, 0),
            s2,
            "string shared between closure and array"
        );
        let inner2 = array_get(arr2, 1);
        assert_eq!(
            dict_get(d2, s2),
            Some(inner2),
            "pair shared between dict and array"
        );
        assert_eq!(float_value(car(inner2)), 2.5);
        let n = walk(c2, &mut |x| {
            let r = region_of(x);
            // Interned symbols live in an immortal region (global or shared).
            assert!(
                r == dst || r == global_region() || r == shared_region(),
                "object outside dst: {x:#x}"
            );
        });
        assert!(n >= 7);
        region_exit(junk);
        region_exit(dst);
    }
}

#[test]
fn objects_in_the_first_chunk_are_in_the_domain() {
    unsafe {
        let dst = region_create();
        let src = region_create();
        let p = alloc_pair(src, make_int(1), NIL); // first (128-byte) chunk
        assert_eq!(acct_chunks(src), 1);
        let out = transmigrate_counted(p, src, dst);
        assert_eq!(out.objects, 1);
        assert_ne!(out.value, p);
        region_exit(src);
        assert_eq!(int_value(car(out.value)), 1);
        region_exit(dst);
    }
}

unsafe fn acct_chunks(r: *mut Region) -> u32 {
    region_accounting(r).chunks
}

#[test]
fn younger_than_copies_every_younger_region_and_nothing_older() {
    unsafe {
        let old = region_create();
        let mid = region_create();
        let young = region_create();
        let in_old = alloc_pair(old, make_int(1), NIL);
        let in_mid = alloc_pair(mid, make_int(2), in_old);
        let in_young = alloc_pair(young, make_int(3), in_mid);
        // Store target: an object of `mid`; whatever is younger than mid moves.
        let out = transmigrate_younger_than(in_young, mid);
        assert_eq!(out.objects, 1);
        assert_eq!(region_of(out.value), mid);
        assert_eq!(cdr(out.value), in_mid, "same-age object kept");
        // Target old: both mid and young objects move, old stays.
        let out2 = transmigrate_younger_than(in_young, old);
        assert_eq!(out2.objects, 2);
        assert_eq!(region_of(cdr(out2.value)), old);
        assert_eq!(cdr(cdr(out2.value)), in_old);
        region_exit(young);
        region_exit(mid);
        // Region Closure Property: nothing reachable from old's copy is dead.
        walk(out2.value, &mut |x| debug_check_live(x));
        assert_eq!(int_value(car(cdr(out2.value))), 2);
        region_exit(old);
    }
}

#[test]
fn merged_objects_are_no_longer_in_the_young_domain() {
    unsafe {
        let old = region_create();
        let dst = region_create();
        let young = region_create();
        let merged = list(young, 0, 10);
        region_merge(young, old).unwrap();
        let fresh = alloc_pair(young, make_int(0), merged);
        let out = transmigrate_counted(fresh, young, dst);
        assert_eq!(out.objects, 1, "only the post-merge pair is young's");
        assert_eq!(cdr(out.value), merged);
        region_exit(young);
        region_exit(dst);
        region_exit(old);
    }
}

#[test]
fn a_depth_15_tree_round_trips() {
    unsafe {
        let dst = region_create();
        let src = region_create();
        let t = tree(src, 15);
        let out = transmigrate_counted(t, src, dst);
        assert_eq!(out.objects, (1 << 15) - 1);
        region_exit(src);
        assert_eq!(tree_leaves(out.value), 1 << 15);
        region_exit(dst);
    }
}

#[test]
fn header_flags_survive_the_pair_fast_path() {
    unsafe {
        let dst = region_create();
        let src = region_create();
        let p = alloc_pair(src, NIL, NIL);
        let h = *(p as *const u64);
        *(p as *mut u64) = h | (0x5A << HEADER_FLAGS_SHIFT);
        let q = transmigrate(p, src, dst);
        let hq = *(q as *const u64);
        assert_eq!((hq >> HEADER_FLAGS_SHIFT) & 0xFF, 0x5A);
        assert_eq!(hq & KIND_MASK, ObjKind::Pair as u64);
        assert_eq!(region_of(q), dst);
        region_exit(src);
        region_exit(dst);
    }
}

#[test]
fn child_process_entry() {
    let Some(scenario) = child_scenario() else {
        return;
    };
    unsafe {
        match scenario.as_str() {
            "missing_metadata" => {
                let dst = region_create();
                let src = region_create();
                // Every ObjKind has metadata now: forge a header whose kind
                // byte names no kind at all.
                let s = alloc_object(src, ObjKind::Box, 16);
                *s = (*s & !KIND_MASK) | 200;
                *s.add(1) = NIL;
                let root = alloc_pair(src, s as Value, NIL);
                let _ = transmigrate(root, src, dst);
            }
            other => panic!("unknown scenario {other}"),
        }
    }
    eprintln!("child scenario {scenario} did not abort");
    std::process::exit(3);
}

#[test]
fn a_kind_without_metadata_aborts_naming_the_kind() {
    let out = run_child("child_process_entry", "missing_metadata", &[]);
    assert_aborted_with(&out, &["no object metadata", "kind 200 (unknown)"]);
}

/// A struct's raw Float slots (fields declared `Float`) hold f64 bits, not
/// references: a copy takes the bits unchanged, even bits that equal the
/// address of an object in the source region, and never follows them; its
/// other fields are copied as references.
#[test]
fn raw_float_slots_are_copied_as_bits_and_never_followed() {
    use omni_runtime::types::*;
    unsafe {
        let dst = region_create();
        let src = region_create();
        let g = global_region();
        let fields = list_from_slice(g, &[intern("x"), intern("next"), intern("y")]);
        let any = builtin(ANY);
        let float = builtin(FLOAT);
        let ftypes = list_from_slice(g, &[float, any, float]);
        let t = omni_runtime::prims::types::make_user_type(
            "Raw",
            NOTHING,
            UserKind::MutableStruct,
            fields,
            ftypes,
        );
        assert_eq!(type_raw_floats(t), 0b101);
        let decoy = alloc_pair(src, make_int(1), NIL);
        // x's bits are the decoy pair's address: a tracer that followed
        // them would copy the pair and rewrite x.
        let x = make_float(src, f64::from_bits(decoy));
        let y = make_float(src, -0.0);
        let s = alloc_struct(src, t, &[x, decoy, y]);
        let out = transmigrate_counted(s, src, dst);
        // The struct and the pair it holds in `next`; no Float object.
        assert_eq!(out.objects, 2);
        region_exit(src);
        let s2 = out.value;
        assert_eq!(region_of(s2), dst);
        assert_eq!(struct_slot(s2, 0), Slot::Float(f64::from_bits(decoy)));
        assert!(matches!(struct_slot(s2, 2), Slot::Float(f) if f == 0.0 && f.is_sign_negative()));
        let Slot::Word(next) = struct_slot(s2, 1) else {
            panic!("`next` is a value slot");
        };
        assert_ne!(next, decoy);
        assert_eq!(region_of(next), dst);
        assert_eq!(car(next), make_int(1));
        region_exit(dst);
    }
}
