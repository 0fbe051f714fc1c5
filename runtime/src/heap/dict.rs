//! The mutable, insertion-ordered hash dict, plus the structural equality
//! (`equal?`) and hashing its keys use.
//!
//! Layout: `[hdr][count][used][cap][entries*][index*][index_mask]`.
//! `entries` is a raw buffer of `cap` triples `(hash, key, value)` kept in
//! insertion order; `used` triples are filled, of which `count` are live (a
//! removed entry becomes a tombstone whose key is UNBOUND). `index` is an
//! open-addressing table (linear probing) of `index_mask + 1` u32 slots
//! holding `entry + 1` (0 = empty); its size is a power of two at least twice
//! `cap`, so it is never more than half full. A tombstoned entry keeps its
//! index slot, which then acts as the probe-chain tombstone. Overwriting a
//! key rewrites its entry in place (keeps its position); removing and
//! re-adding appends a new entry (moves it to the end). When the entries
//! buffer is full it is rebuilt with tombstones compacted away. Both buffers
//! are raw allocations in the dict's own region.
//!
//! **Slot Floats.** A Float has no identity beyond its value (`eq?`
//! compares two Floats' bits), so what a dict entry holds need not be the
//! Float object that was stored, only one with its value. `dict-set!` and
//! `put!` of a Float store a fresh Float of the dict's region that nothing
//! else references (`FLOAT_FLAG_SLOT`), and the next store of a Float into
//! that entry overwrites its bits (`dict_update_float`): a dict updated in a
//! loop with Floats allocates nothing per update, so its region (the global
//! state, a carry region, a caller's scope region) does not fill with
//! replaced Floats (LANGUAGE.md §6, bounded memory). The Float stays the
//! entry's own while only the entry references it: `get` and `values` copy
//! it out into the reader's region (`dict_get_copying`, prims/dict.rs);
//! every other reader that hands the value on (`dict_get`, `dict_entries`,
//! `dict_remove`, a clone) makes it an ordinary Float first
//! (`shared_value`), and the entry's next Float store allocates again.
//! Printing, `equal?`, hashing and `has-key?` only look (`dict_peek`,
//! `dict_entries_peek`).

use crate::base::value::*;
use crate::heap::object::*;
use crate::region::{alloc_object, alloc_raw, region_of, Region};

pub const DICT_COUNT: i32 = 8;
pub const DICT_USED: i32 = 16;
pub const DICT_CAP: i32 = 24;
pub const DICT_ENTRIES: i32 = 32;
pub const DICT_INDEX: i32 = 40;
pub const DICT_INDEX_MASK: i32 = 48;
pub const DICT_SIZE: usize = 56;

/// Words per entry: hash, key, value.
const ENTRY_WORDS: usize = 3;

#[inline]
pub fn is_dict(v: Value) -> bool {
    is_kind(v, ObjKind::Dict)
}

/// Allocate an entries buffer of `cap` triples and its index in `r`, and
/// store them (empty) into `d`.
///
/// # Safety
/// `d` must be a dict object (possibly with uninitialised buffer fields) and
/// `r` a live region.
unsafe fn install_buffers(d: Value, r: *mut Region, cap: usize) {
    let index_slots = (cap * 2).next_power_of_two().max(8);
    // SAFETY: fresh buffers of the computed sizes; the index is zeroed (all empty).
    unsafe {
        let entries = alloc_raw(r, cap * ENTRY_WORDS * 8);
        let index = alloc_raw(r, index_slots * 4) as *mut u32;
        std::ptr::write_bytes(index, 0, index_slots);
        set_field(d, DICT_USED, 0);
        set_field(d, DICT_CAP, cap as u64);
        set_field(d, DICT_ENTRIES, entries as u64);
        set_field(d, DICT_INDEX, index as u64);
        set_field(d, DICT_INDEX_MASK, (index_slots - 1) as u64);
    }
}

/// Allocate an empty dict with room for `cap` entries in `r`.
///
/// # Safety
/// `r` must be a live region usable by the calling thread.
pub unsafe fn alloc_dict(r: *mut Region, cap: usize) -> Value {
    // SAFETY: DICT_SIZE bytes, every field written below.
    unsafe {
        let d = alloc_object(r, ObjKind::Dict, DICT_SIZE) as Value;
        set_field(d, DICT_COUNT, 0);
        install_buffers(d, r, cap.max(4));
        d
    }
}

/// Number of live entries.
///
/// # Safety
/// `d` must be a dict.
pub unsafe fn dict_size(d: Value) -> usize {
    // SAFETY: dicts hold their count at DICT_COUNT.
    unsafe { field(d, DICT_COUNT) as usize }
}

/// Pointer to entry `i`'s triple.
///
/// # Safety
/// `d` must be a dict and `i < cap`.
#[inline]
unsafe fn entry(d: Value, i: usize) -> *mut u64 {
    // SAFETY: caller keeps `i` within the entries buffer.
    unsafe { (field(d, DICT_ENTRIES) as *mut u64).add(i * ENTRY_WORDS) }
}

/// Insert entry number `e` (with hash `h`) into the index: first empty slot
/// of its probe chain.
///
/// # Safety
/// `d` must be a dict whose index has an empty slot.
unsafe fn index_insert(d: Value, h: u64, e: usize) {
    // SAFETY: the index is at most half full, so probing finds an empty slot.
    unsafe {
        let index = field(d, DICT_INDEX) as *mut u32;
        let mask = field(d, DICT_INDEX_MASK) as usize;
        let mut i = h as usize & mask;
        while *index.add(i) != 0 {
            i = (i + 1) & mask;
        }
        *index.add(i) = e as u32 + 1;
    }
}

/// The entry number holding `key`, if any.
///
/// # Safety
/// `d` must be a dict.
unsafe fn find(d: Value, key: Value, h: u64) -> Option<usize> {
    // SAFETY: every non-zero index slot names an entry below `used`.
    unsafe {
        let index = field(d, DICT_INDEX) as *const u32;
        let mask = field(d, DICT_INDEX_MASK) as usize;
        let mut i = h as usize & mask;
        loop {
            let s = *index.add(i);
            if s == 0 {
                return None;
            }
            let e = entry(d, s as usize - 1);
            let k = *e.add(1);
            if k != UNBOUND && *e == h && values_equal(k, key) {
                return Some(s as usize - 1);
            }
            i = (i + 1) & mask;
        }
    }
}

/// Rebuild the buffers with room for `new_cap` entries, dropping tombstones
/// (insertion order of live entries preserved).
///
/// # Safety
/// `d` must be a dict whose region is usable by the calling thread.
unsafe fn rebuild(d: Value, new_cap: usize) {
    // SAFETY: old buffers stay valid (region memory) while live entries are copied.
    unsafe {
        let old_entries = field(d, DICT_ENTRIES) as *const u64;
        let old_used = field(d, DICT_USED) as usize;
        install_buffers(d, region_of(d), new_cap);
        let mut n = 0;
        for i in 0..old_used {
            let src = old_entries.add(i * ENTRY_WORDS);
            if *src.add(1) == UNBOUND {
                continue;
            }
            std::ptr::copy_nonoverlapping(src, entry(d, n), ENTRY_WORDS);
            index_insert(d, *src, n);
            n += 1;
        }
        set_field(d, DICT_USED, n as u64);
        set_field(d, DICT_COUNT, n as u64);
    }
}

/// The value for `key`, if present, to be kept or handed on by the caller
/// (a slot Float becomes an ordinary one).
///
/// # Safety
/// `d` must be a dict.
pub unsafe fn dict_get(d: Value, key: Value) -> Option<Value> {
    // SAFETY: forwarded contract.
    unsafe { dict_peek(d, key).map(shared_value) }
}

/// The value for `key`, if present, only to be looked at (printed,
/// compared, hashed): a slot Float stays the entry's own.
///
/// # Safety
/// `d` must be a dict.
pub unsafe fn dict_peek(d: Value, key: Value) -> Option<Value> {
    // SAFETY: `find` returns a live entry number.
    unsafe { find(d, key, hash_value(key)).map(|e| resolve(*entry(d, e).add(2))) }
}

/// `get` of `key`: the value, or for a slot Float a copy in `r` (the
/// reader's region), so the entry keeps its own; `Some(NEEDS_REGION)` when
/// a copy is needed and `r` is null (generated code passes the region of
/// `get`'s Float site once it exists, `prims::boxes_raw_floats`).
///
/// # Safety
/// `d` must be a dict; `r` null or a live region of the calling thread.
pub unsafe fn dict_get_copying(d: Value, key: Value, r: *mut Region) -> Option<Value> {
    // SAFETY: forwarded contract.
    unsafe {
        let v = dict_peek(d, key)?;
        if !is_slot_float(v) {
            return Some(v);
        }
        if r.is_null() {
            return Some(crate::heap::types::NEEDS_REGION);
        }
        Some(make_float(r, float_value(v)))
    }
}

/// Overwrite the value of `key` with Float `x` in place, when the entry
/// exists and holds a slot Float; false otherwise (the caller stores).
///
/// # Safety
/// `d` must be a dict whose region is usable by the calling thread.
pub unsafe fn dict_update_float(d: Value, key: Value, x: f64) -> bool {
    // SAFETY: `find` returns a live entry number; a slot Float is a live
    // Float that only this entry references.
    unsafe {
        let Some(e) = find(d, key, hash_value(key)) else {
            return false;
        };
        let v = *entry(d, e).add(2);
        if !is_slot_float(v) {
            return false;
        }
        set_field(v, FLOAT_VALUE, x.to_bits());
        true
    }
}

/// Set `key` to `val`: an existing key keeps its position; a new key goes
/// to the end.
///
/// # Safety
/// `d` must be a dict whose region is usable by the calling thread.
pub unsafe fn dict_set(d: Value, key: Value, val: Value) {
    let h = hash_value(key);
    // SAFETY: entries below `cap` are writable; rebuild makes room first.
    unsafe {
        if let Some(e) = find(d, key, h) {
            *entry(d, e).add(2) = val;
            return;
        }
        let used = field(d, DICT_USED) as usize;
        if used == field(d, DICT_CAP) as usize {
            rebuild(d, (dict_size(d) * 2).max(4));
        }
        let used = field(d, DICT_USED) as usize;
        let e = entry(d, used);
        e.write(h);
        e.add(1).write(key);
        e.add(2).write(val);
        index_insert(d, h, used);
        set_field(d, DICT_USED, used as u64 + 1);
        set_field(d, DICT_COUNT, field(d, DICT_COUNT) + 1);
    }
}

/// Remove `key`, returning its value if it was present.
///
/// # Safety
/// `d` must be a dict.
pub unsafe fn dict_remove(d: Value, key: Value) -> Option<Value> {
    // SAFETY: `find` returns a live entry number.
    unsafe {
        let e = find(d, key, hash_value(key))?;
        let p = entry(d, e);
        let old = shared_value(*p.add(2));
        // Clearing the value too keeps tracers from seeing a stale pointer.
        p.add(1).write(UNBOUND);
        p.add(2).write(UNBOUND);
        set_field(d, DICT_COUNT, field(d, DICT_COUNT) - 1);
        Some(old)
    }
}

/// Live `(key, value)` pairs in insertion order, to be kept or handed on
/// (slot Floats become ordinary ones).
///
/// # Safety
/// `d` must be a dict.
pub unsafe fn dict_entries(d: Value) -> Vec<(Value, Value)> {
    // SAFETY: forwarded contract.
    let mut out = unsafe { dict_entries_peek(d) };
    for (_, v) in &mut out {
        *v = shared_value(*v);
    }
    out
}

/// Live `(key, value)` pairs in insertion order, only to be looked at.
///
/// # Safety
/// `d` must be a dict.
pub unsafe fn dict_entries_peek(d: Value) -> Vec<(Value, Value)> {
    // SAFETY: the first `used` entries are initialised.
    unsafe {
        let used = field(d, DICT_USED) as usize;
        let mut out = Vec::with_capacity(dict_size(d));
        for i in 0..used {
            let e = entry(d, i);
            if *e.add(1) != UNBOUND {
                out.push((resolve(*e.add(1)), resolve(*e.add(2))));
            }
        }
        out
    }
}

/// Visits the key and value slots of every used entry (tombstones hold
/// UNBOUND, which visitors skip as a non-pointer).
///
/// # Safety
/// `obj` must be a dict.
pub unsafe fn trace_dict(obj: Value, visit: &mut dyn FnMut(*mut Value)) {
    // SAFETY: the first `used` entries are initialised.
    unsafe {
        for i in 0..field(obj, DICT_USED) as usize {
            let e = entry(obj, i);
            visit(e.add(1));
            visit(e.add(2));
        }
    }
}

/// Same-shaped copy: identical count/used/cap, both buffers copied verbatim
/// into `dst` (keys and values still the old words).
///
/// # Safety
/// `obj` must be a dict and `dst` a live region.
pub unsafe fn clone_dict(obj: Value, dst: *mut Region) -> Value {
    // SAFETY: install_buffers sizes the copies exactly like the source's.
    unsafe {
        let cap = field(obj, DICT_CAP) as usize;
        let d = alloc_object(dst, ObjKind::Dict, DICT_SIZE) as Value;
        install_buffers(d, dst, cap);
        debug_assert_eq!(field(d, DICT_INDEX_MASK), field(obj, DICT_INDEX_MASK));
        let used = field(obj, DICT_USED) as usize;
        std::ptr::copy_nonoverlapping(
            field(obj, DICT_ENTRIES) as *const u64,
            field(d, DICT_ENTRIES) as *mut u64,
            used * ENTRY_WORDS,
        );
        std::ptr::copy_nonoverlapping(
            field(obj, DICT_INDEX) as *const u32,
            field(d, DICT_INDEX) as *mut u32,
            field(obj, DICT_INDEX_MASK) as usize + 1,
        );
        set_field(d, DICT_USED, used as u64);
        set_field(d, DICT_COUNT, field(obj, DICT_COUNT));
        // Both dicts now hold the same value words: no Float is one
        // entry's own any more.
        for i in 0..used {
            shared_value(*entry(d, i).add(2));
        }
        d
    }
}

// ------------------------------------------------------- equality and hashing

#[inline]
fn mix(mut x: u64) -> u64 {
    // splitmix64 finaliser: spreads immediates so linear probing stays short.
    x ^= x >> 30;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// How many elements of a sequence, and how deep, contribute to its hash.
/// Bounding both keeps hashing cheap and terminating on cycles; equal values
/// still hash equal because the same prefix is hashed.
const HASH_ELEMS: usize = 16;
const HASH_DEPTH: u32 = 4;

/// A hash consistent with [`values_equal`].
pub fn hash_value(v: Value) -> u64 {
    hash_bounded(v, HASH_DEPTH)
}

fn hash_bounded(v: Value, depth: u32) -> u64 {
    let v = resolve(v);
    let Some(kind) = kind_of(v) else {
        return mix(v);
    };
    // SAFETY: each branch reads an object of the kind it matched.
    unsafe {
        match kind {
            k if k == ObjKind::String as u8 => hash_bytes(string_bytes(v)),
            k if k == ObjKind::Symbol as u8 => symbol_hash(v),
            k if k == ObjKind::Float as u8 => {
                let f = float_value(v);
                // 0.0 and -0.0 are equal?, so they must hash alike.
                mix(if f == 0.0 { 0 } else { f.to_bits() } ^ 0x5555)
            }
            k if k == ObjKind::Pair as u8 || k == ObjKind::Array as u8 => {
                let mut h = mix(k as u64);
                if depth == 0 {
                    return h;
                }
                let mut n = 0;
                let mut each = |x: Value| {
                    h = mix(h ^ hash_bounded(x, depth - 1));
                };
                if k == ObjKind::Array as u8 {
                    for &x in array_slice(v).iter().take(HASH_ELEMS) {
                        each(x);
                    }
                } else {
                    let mut cur = v;
                    while is_pair(cur) && n < HASH_ELEMS {
                        each(car(cur));
                        cur = cdr(cur);
                        n += 1;
                    }
                    each(cur);
                }
                h
            }
            k if k == ObjKind::Dict as u8 => mix(dict_size(v) as u64 ^ 0xd1c7),
            // `equal?` compares structs field by field: same type, same hash.
            k if k == ObjKind::Struct as u8 => mix(crate::heap::types::struct_type(v) ^ 0x57c7),
            // Closures compare by identity, but a store repair may have
            // moved one (its stale original resolves to the copy): hash what
            // the copy shares with the original, its code.
            k if k == ObjKind::Closure as u8 => mix(field(v, CLOSURE_CODE) ^ 0xc105),
            k if k == ObjKind::Box as u8 || k == ObjKind::Error as u8 => mix(k as u64),
            // Every handle of a channel/thread (one per region holding it)
            // names the same core: hash the core.
            k if k == ObjKind::Channel as u8 || k == ObjKind::Thread as u8 => {
                mix(crate::heap::handles::handle_identity(v).unwrap_or(0) as u64 ^ 0xc4a7)
            }
            // Types live in immortal regions: never moved.
            _ => mix(v),
        }
    }
}

/// Container comparisons `values_equal` makes before it starts recording
/// visited pairs (a cycle costs at most this many extra steps).
const EQUAL_STEP_BUDGET: usize = 10_000;

/// Kinds `values_equal` descends into (the only ones that can close a cycle).
fn is_container_kind(k: u8) -> bool {
    k == ObjKind::Pair as u8
        || k == ObjKind::Array as u8
        || k == ObjKind::Struct as u8
        || k == ObjKind::Dict as u8
}

/// Structural equality (`equal?`): numbers of the same type by value (Int
/// and Float are never equal?; `=` compares across types), strings by
/// content, pairs/arrays element-wise, dicts as key→value mappings
/// regardless of order; everything else by identity. Iterative (explicit
/// work list), so long lists do not recurse. Terminates on cyclic data
/// (R7RS): two structures are equal when they unfold to the same possibly
/// infinite tree. After `EQUAL_STEP_BUDGET` comparisons a set of the
/// container pairs already under comparison is kept, and a pair met again
/// is taken as equal (its other obligations are still checked), so the
/// common small acyclic case never pays for the set.
pub fn values_equal(a: Value, b: Value) -> bool {
    // Fast paths without the work list (dict keys are mostly these): the
    // same word, an immediate (equal only to itself), two strings.
    if a == b {
        return true;
    }
    let (a, b) = (resolve(a), resolve(b));
    if a == b {
        return true;
    }
    match (kind_of(a), kind_of(b)) {
        (None, _) | (_, None) => return false,
        (Some(ka), Some(kb)) if ka != kb => return false,
        (Some(k), _) if k == ObjKind::String as u8 => {
            // SAFETY: both are strings (kinds checked above).
            return unsafe { string_bytes(a) == string_bytes(b) };
        }
        _ => {}
    }
    let mut work = vec![(a, b)];
    let mut steps = 0usize;
    let mut seen: Option<std::collections::HashSet<(Value, Value)>> = None;
    while let Some((x, y)) = work.pop() {
        let (x, y) = (resolve(x), resolve(y));
        if x == y {
            continue;
        }
        let (Some(kx), Some(ky)) = (kind_of(x), kind_of(y)) else {
            return false;
        };
        if kx != ky {
            return false;
        }
        if is_container_kind(kx) {
            steps += 1;
            if steps > EQUAL_STEP_BUDGET {
                let seen = seen.get_or_insert_with(Default::default);
                if !seen.insert((x, y)) {
                    continue;
                }
            }
        }
        // SAFETY: both objects have kind `kx`, matched below.
        unsafe {
            match kx {
                k if k == ObjKind::Float as u8 => {
                    let (f, g) = (float_value(x), float_value(y));
                    if !(f == g || (f.is_nan() && g.is_nan())) {
                        return false;
                    }
                }
                k if k == ObjKind::String as u8 => {
                    if string_bytes(x) != string_bytes(y) {
                        return false;
                    }
                }
                k if k == ObjKind::Pair as u8 => {
                    work.push((cdr(x), cdr(y)));
                    work.push((car(x), car(y)));
                }
                k if k == ObjKind::Struct as u8 => {
                    // Same struct type, equal fields.
                    if crate::heap::types::struct_type(x) != crate::heap::types::struct_type(y) {
                        return false;
                    }
                    use crate::heap::types::{struct_slots, Slot};
                    let mut words = Vec::new();
                    for (sx, sy) in struct_slots(x).into_iter().zip(struct_slots(y)) {
                        match (sx, sy) {
                            (Slot::Word(a), Slot::Word(b)) => words.push((a, b)),
                            // Raw Float fields compare as their Floats do.
                            (Slot::Float(f), Slot::Float(g)) => {
                                if !(f == g || (f.is_nan() && g.is_nan())) {
                                    return false;
                                }
                            }
                            _ => return false,
                        }
                    }
                    work.extend(words.into_iter().rev());
                }
                k if k == ObjKind::Array as u8 => {
                    let (sx, sy) = (array_slice(x), array_slice(y));
                    if sx.len() != sy.len() {
                        return false;
                    }
                    work.extend(sx.iter().copied().zip(sy.iter().copied()).rev());
                }
                k if k == ObjKind::Dict as u8 => {
                    if dict_size(x) != dict_size(y) {
                        return false;
                    }
                    for (key, val) in dict_entries_peek(x) {
                        match dict_peek(y, key) {
                            Some(other) => work.push((val, other)),
                            None => return false,
                        }
                    }
                }
                k if k == ObjKind::Channel as u8 || k == ObjKind::Thread as u8 => {
                    if !crate::heap::handles::same_handle(x, y) {
                        return false;
                    }
                }
                _ => return false,
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::region::region_create;

    fn keys_of(d: Value) -> Vec<Value> {
        // SAFETY: `d` is a dict.
        unsafe { dict_entries(d).into_iter().map(|(k, _)| k).collect() }
    }

    #[test]
    fn slot_floats_are_updated_in_place_until_handed_on() {
        let (r, reader) = (region_create(), region_create());
        // SAFETY: fresh regions used only by this test.
        unsafe {
            let d = alloc_dict(r, 0);
            let x = intern("x");
            let own = make_slot_float(r, 1.5);
            dict_set(d, x, own);
            assert!(dict_update_float(d, x, 2.5), "a slot Float is overwritten");
            assert_eq!(dict_peek(d, x), Some(own));
            assert_eq!(float_value(own), 2.5);
            assert!(!dict_update_float(d, intern("missing"), 1.0));
            // `get` copies it out; the entry keeps its own.
            assert_eq!(
                dict_get_copying(d, x, std::ptr::null_mut()),
                Some(crate::heap::types::NEEDS_REGION)
            );
            let copy = dict_get_copying(d, x, reader).unwrap();
            assert_ne!(copy, own);
            assert_eq!(float_value(copy), 2.5);
            assert!(is_slot_float(own) && !is_slot_float(copy));
            assert!(dict_update_float(d, x, 3.5));
            assert_eq!(float_value(copy), 2.5, "a copy read before keeps its value");
            // Handed on: an ordinary Float, never overwritten again.
            let kept = dict_get(d, x).unwrap();
            assert_eq!(kept, own);
            assert!(!is_slot_float(kept));
            assert!(!dict_update_float(d, x, 4.5));
            assert_eq!(float_value(kept), 3.5);
            // So are the values of a clone, which share the words.
            let own2 = make_slot_float(r, 1.0);
            dict_set(d, x, own2);
            let _clone = clone_dict(d, reader);
            assert!(!is_slot_float(own2));
        }
    }

    #[test]
    fn insertion_order_and_overwrite() {
        let r = region_create();
        // SAFETY: `r` is a fresh region used only by this test.
        unsafe {
            let d = alloc_dict(r, 0);
            let (a, b, c) = (intern("a"), intern("b"), intern("c"));
            dict_set(d, a, make_int(1));
            dict_set(d, b, make_int(2));
            dict_set(d, c, make_int(3));
            dict_set(d, a, make_int(10));
            assert_eq!(keys_of(d), vec![a, b, c], "overwrite keeps place");
            assert_eq!(dict_get(d, a), Some(make_int(10)));
            assert_eq!(dict_remove(d, a), Some(make_int(10)));
            assert_eq!(dict_get(d, a), None);
            assert_eq!(dict_remove(d, a), None);
            dict_set(d, a, make_int(11));
            assert_eq!(keys_of(d), vec![b, c, a], "re-adding moves to the end");
            assert_eq!(dict_size(d), 3);
        }
    }

    #[test]
    fn structural_string_keys_and_growth_with_tombstones() {
        let r = region_create();
        // SAFETY: `r` is a fresh region used only by this test.
        unsafe {
            let d = alloc_dict(r, 0);
            for i in 0..1000 {
                dict_set(d, make_string(r, &format!("k{i}")), make_int(i));
                if i % 3 == 0 {
                    dict_remove(d, make_string(r, &format!("k{i}")));
                }
            }
            assert_eq!(dict_size(d), 666);
            assert_eq!(dict_get(d, make_string(r, "k998")), Some(make_int(998)));
            assert_eq!(dict_get(d, make_string(r, "k999")), None);
            let ks = keys_of(d);
            assert_eq!(string_str(ks[0]), "k1");
            assert_eq!(string_str(ks[665]), "k998");
            // Compaction happened: used never exceeds cap and stays near count.
            assert!(field(d, DICT_USED) <= field(d, DICT_CAP));
            // Int, char and float keys.
            dict_set(d, make_int(5), TRUE);
            dict_set(d, make_char('λ'), FALSE);
            dict_set(d, make_float(r, 1.5), NOTHING);
            assert_eq!(dict_get(d, make_int(5)), Some(TRUE));
            assert_eq!(dict_get(d, make_char('λ')), Some(FALSE));
            assert_eq!(dict_get(d, make_float(r, 1.5)), Some(NOTHING));
            let c = clone_dict(d, region_create());
            assert_eq!(keys_of(c), keys_of(d));
            assert_eq!(dict_get(c, make_string(r, "k2")), Some(make_int(2)));
            assert!(values_equal(c, d));
        }
    }

    #[test]
    fn equality_is_structural() {
        let r = region_create();
        // SAFETY: `r` is a fresh region used only by this test.
        unsafe {
            let l1 = list_from_slice(r, &[make_int(1), make_string(r, "x")]);
            let l2 = list_from_slice(r, &[make_int(1), make_string(r, "x")]);
            assert!(values_equal(l1, l2));
            assert_eq!(hash_value(l1), hash_value(l2));
            let a1 = array_from_slice(r, &[l1, make_float(r, 2.0)]);
            let a2 = array_from_slice(r, &[l2, make_float(r, 2.0)]);
            assert!(values_equal(a1, a2));
            assert!(!values_equal(make_int(1), make_float(r, 1.0)));
            let l3 = list_from_slice(r, &[make_int(1)]);
            assert!(!values_equal(l1, l3));
            // a list used as a key finds the structurally equal one
            let d = alloc_dict(r, 0);
            dict_set(d, l1, TRUE);
            assert_eq!(dict_get(d, l2), Some(TRUE));
        }
    }
}
