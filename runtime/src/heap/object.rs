//! Constructors, accessors and metadata hooks for the heap objects of
//! `value.rs`: pair, float, string, symbol, array, box and closure (the dict
//! lives in `dict.rs`).
//!
//! Every constructor takes the region to allocate in; growable payloads
//! (array slots) are raw buffers allocated in the owning object's own region
//! (`region_of`), so an object and its payload always share a lifetime. For
//! the Region-RC metadata table each kind exports `trace_<kind>` (visit every
//! word that may hold a pointer, payload slots included) and `clone_<kind>`
//! (a same-shaped copy in another region whose fields still hold the old
//! values; payload buffers are copied into the destination region).

use crate::base::value::*;
use crate::region::{alloc_object, alloc_raw, region_of, Region};
use std::collections::HashMap;
use std::sync::Mutex;

// ---------------------------------------------------------------- raw access

/// The kind of a heap object, or `None` for an immediate word.
#[inline]
pub fn kind_of(v: Value) -> Option<u8> {
    if is_ptr(v) {
        // SAFETY: a pointer-tagged, non-zero value always points at a live
        // object whose first word is its header.
        Some(unsafe { (*(v as *const u64) & KIND_MASK) as u8 })
    } else {
        None
    }
}

/// True when `v` is an object forwarded to its copy by a store repair.
#[inline(always)]
pub fn is_forwarded(v: Value) -> bool {
    kind_of(v) == Some(ObjKind::Forwarded as u8)
}

/// The object `v` stands for: `v` itself, or, when a store repair copied it
/// into an older region, the copy (following the chain when the copy was
/// copied again). Every operation that inspects an object's kind, fields or
/// address resolves it first; values read out of objects through the
/// accessors below come back resolved.
#[inline(always)]
pub fn resolve(v: Value) -> Value {
    if is_forwarded(v) {
        resolve_chain(v)
    } else {
        v
    }
}

#[cold]
fn resolve_chain(mut v: Value) -> Value {
    while is_forwarded(v) {
        // SAFETY: a forwarded object keeps its target in word 1 (value.rs).
        v = unsafe { field(v, FORWARD_TARGET) };
    }
    v
}

/// [`resolve`] every value of `vs`.
#[cold]
pub fn resolve_all(vs: &[Value]) -> Vec<Value> {
    vs.iter().map(|&v| resolve(v)).collect()
}

/// Turn `original` into a forwarding object pointing at `copy`; the chunk
/// bits of its header stay, so `region_of(original)` is unchanged.
///
/// # Safety
/// `original` is a live object whose contents were fully copied into `copy`
/// (nothing reads its fields as the old kind afterwards: every reader
/// resolves first).
pub unsafe fn forward_to(original: Value, copy: Value) {
    // SAFETY: caller contract; every object has at least two words.
    unsafe {
        let chunk = header_chunk(*(original as *const u64));
        *(original as *mut u64) = make_header(ObjKind::Forwarded, 0, chunk);
        set_field(original, FORWARD_TARGET, copy);
    }
}

/// True when `v` is a heap object of kind `k`.
#[inline]
pub fn is_kind(v: Value, k: ObjKind) -> bool {
    kind_of(v) == Some(k as u8)
}

/// Read the word at byte offset `off` of object `v`.
///
/// # Safety
/// `v` must be a live object with at least `off + 8` bytes.
#[inline(always)]
pub unsafe fn field(v: Value, off: i32) -> u64 {
    // SAFETY: caller guarantees the field lies inside the object.
    unsafe { *((v as usize + off as usize) as *const u64) }
}

/// Write the word at byte offset `off` of object `v`.
///
/// # Safety
/// `v` must be a live object with at least `off + 8` bytes.
#[inline(always)]
pub unsafe fn set_field(v: Value, off: i32, w: u64) {
    // SAFETY: caller guarantees the field lies inside the object.
    unsafe { *((v as usize + off as usize) as *mut u64) = w }
}

/// Address of the word at byte offset `off` of `v` (for trace visitors).
#[inline(always)]
fn slot(v: Value, off: i32) -> *mut Value {
    (v as usize + off as usize) as *mut Value
}

// ---------------------------------------------------------------------- pair

/// Allocate a pair in `r`.
///
/// # Safety
/// `r` must be a live region usable by the calling thread.
pub unsafe fn alloc_pair(r: *mut Region, car: Value, cdr: Value) -> Value {
    // SAFETY: alloc_object returns PAIR_SIZE writable bytes with the header set.
    unsafe {
        let p = alloc_object(r, ObjKind::Pair, PAIR_SIZE);
        p.add(1).write(car);
        p.add(2).write(cdr);
        p as Value
    }
}

#[inline]
pub fn is_pair(v: Value) -> bool {
    is_kind(v, ObjKind::Pair)
}

/// # Safety
/// `v` must be a pair.
#[inline]
pub unsafe fn car(v: Value) -> Value {
    // SAFETY: pairs have a car field.
    resolve(unsafe { field(v, PAIR_CAR) })
}

/// # Safety
/// `v` must be a pair.
#[inline]
pub unsafe fn cdr(v: Value) -> Value {
    // SAFETY: pairs have a cdr field.
    resolve(unsafe { field(v, PAIR_CDR) })
}

/// # Safety
/// `v` must be a pair.
pub unsafe fn set_car(v: Value, x: Value) {
    // SAFETY: pairs have a car field.
    unsafe { set_field(v, PAIR_CAR, x) }
}

/// # Safety
/// `v` must be a pair.
pub unsafe fn set_cdr(v: Value, x: Value) {
    // SAFETY: pairs have a cdr field.
    unsafe { set_field(v, PAIR_CDR, x) }
}

/// Build a proper list of `items` in `r` (built back to front, so no
/// intermediate reversal is needed).
///
/// # Safety
/// `r` must be a live region usable by the calling thread.
pub unsafe fn list_from_slice(r: *mut Region, items: &[Value]) -> Value {
    let mut acc = NIL;
    for &x in items.iter().rev() {
        // SAFETY: forwarded caller contract on `r`.
        acc = unsafe { alloc_pair(r, x, acc) };
    }
    acc
}

/// The elements of a list the runtime built itself and never mutates (a
/// type's field names and field types), walked in place: the field
/// accessors of every `get`/`put!` on a struct read these, and collecting
/// them into a `Vec` first was half of nbody's time. Stops at the first
/// non-pair.
pub fn fixed_list_items(v: Value) -> impl Iterator<Item = Value> {
    let mut cur = resolve(v);
    std::iter::from_fn(move || {
        if !is_pair(cur) {
            return None;
        }
        // SAFETY: `cur` is a pair (checked above).
        let (x, next) = unsafe { (car(cur), cdr(cur)) };
        cur = next;
        Some(x)
    })
}

/// Collect the elements of a proper list; `None` if `v` is not a proper list
/// (improper tail or a cycle).
pub fn list_to_vec(v: Value) -> Option<Vec<Value>> {
    let v = resolve(v);
    let mut out = Vec::new();
    let mut cur = v;
    let mut slow = v;
    loop {
        if cur == NIL {
            return Some(out);
        }
        if !is_pair(cur) {
            return None;
        }
        // SAFETY: `cur` is a pair (checked above).
        unsafe {
            out.push(car(cur));
            cur = cdr(cur);
        }
        // Floyd: the slow cursor advances every second step; meeting it again
        // means the cdr chain is cyclic.
        if out.len().is_multiple_of(2) {
            // SAFETY: `slow` trails `cur` along the same chain of pairs.
            slow = unsafe { cdr(slow) };
            if slow == cur && cur != NIL {
                return None;
            }
        }
    }
}

/// # Safety
/// `obj` must be a pair.
pub unsafe fn trace_pair(obj: Value, visit: &mut dyn FnMut(*mut Value)) {
    visit(slot(obj, PAIR_CAR));
    visit(slot(obj, PAIR_CDR));
}

/// # Safety
/// `obj` must be a pair and `dst` a live region.
pub unsafe fn clone_pair(obj: Value, dst: *mut Region) -> Value {
    // SAFETY: obj is a pair; dst is live.
    unsafe { alloc_pair(dst, car(obj), cdr(obj)) }
}

// --------------------------------------------------------------------- float

/// Allocate a boxed float in `r`.
///
/// # Safety
/// `r` must be a live region usable by the calling thread.
pub unsafe fn make_float(r: *mut Region, f: f64) -> Value {
    // SAFETY: FLOAT_SIZE writable bytes, header set.
    unsafe {
        let p = alloc_object(r, ObjKind::Float, FLOAT_SIZE);
        p.add(1).write(f.to_bits());
        p as Value
    }
}

#[inline]
pub fn is_float(v: Value) -> bool {
    is_kind(v, ObjKind::Float)
}

/// Allocate in `r` a Float that only the dict entry it is about to be
/// stored into references (`FLOAT_FLAG_SLOT`, dict.rs "slot Floats").
///
/// # Safety
/// As [`make_float`].
pub unsafe fn make_slot_float(r: *mut Region, f: f64) -> Value {
    // SAFETY: forwarded contract; the header word is the object's first.
    unsafe {
        let v = make_float(r, f);
        *(v as *mut u64) |= (FLOAT_FLAG_SLOT as u64) << HEADER_FLAGS_SHIFT;
        v
    }
}

/// Whether `v` is a Float only one dict entry references.
#[inline]
pub fn is_slot_float(v: Value) -> bool {
    // SAFETY: a Float's first word is its header.
    is_float(v) && unsafe { *(v as *const u64) >> HEADER_FLAGS_SHIFT } & FLOAT_FLAG_SLOT as u64 != 0
}

/// `v`, which is about to be referenced from elsewhere than its dict
/// entry: a slot Float stops being one (its entry's next store allocates).
#[inline]
pub fn shared_value(v: Value) -> Value {
    if is_slot_float(v) {
        // SAFETY: a Float's first word is its header.
        unsafe { *(v as *mut u64) &= !((FLOAT_FLAG_SLOT as u64) << HEADER_FLAGS_SHIFT) };
    }
    v
}

/// # Safety
/// `v` must be a float object.
#[inline]
pub unsafe fn float_value(v: Value) -> f64 {
    // SAFETY: floats store their bits at FLOAT_VALUE.
    f64::from_bits(unsafe { field(v, FLOAT_VALUE) })
}

/// Floats hold no pointers.
///
/// # Safety
/// `obj` must be a float.
pub unsafe fn trace_float(_obj: Value, _visit: &mut dyn FnMut(*mut Value)) {}

/// # Safety
/// `obj` must be a float and `dst` a live region.
pub unsafe fn clone_float(obj: Value, dst: *mut Region) -> Value {
    // SAFETY: forwarded contract.
    unsafe { make_float(dst, float_value(obj)) }
}

// -------------------------------------------------------------------- string

/// Allocate an immutable UTF-8 string in `r`.
///
/// # Safety
/// `r` must be a live region usable by the calling thread.
pub unsafe fn make_string(r: *mut Region, s: &str) -> Value {
    // SAFETY: forwarded contract; `s` is valid UTF-8.
    unsafe { make_string_bytes(r, s.as_bytes(), s.chars().count()) }
}

/// Allocate a copy of `s`, whose char count the caller already knows (a
/// substring's range, the sum of joined pieces' counts): no pass over the
/// text to count it.
///
/// # Safety
/// `r` must be a live region usable by the calling thread; `s` holds
/// exactly `char_len` chars.
pub unsafe fn make_string_counted(r: *mut Region, s: &str, char_len: usize) -> Value {
    debug_assert_eq!(s.chars().count(), char_len);
    // SAFETY: forwarded contract; `s` is valid UTF-8.
    unsafe { make_string_bytes(r, s.as_bytes(), char_len) }
}

/// Allocate a string from bytes already known to be UTF-8 with `char_len`
/// scalars.
///
/// # Safety
/// `r` must be live; `bytes` must be valid UTF-8 holding `char_len` chars.
unsafe fn make_string_bytes(r: *mut Region, bytes: &[u8], char_len: usize) -> Value {
    let size = (STRING_BYTES as usize).saturating_add(bytes.len());
    // SAFETY: the allocation holds the three header words plus the bytes.
    unsafe {
        let p = alloc_object(r, ObjKind::String, size);
        p.add(1).write(bytes.len() as u64);
        p.add(2).write(char_len as u64);
        std::ptr::copy_nonoverlapping(
            bytes.as_ptr(),
            (p as *mut u8).add(STRING_BYTES as usize),
            bytes.len(),
        );
        p as Value
    }
}

#[inline]
pub fn is_string(v: Value) -> bool {
    is_kind(v, ObjKind::String)
}

/// The bytes of a string object (valid for the object's lifetime).
///
/// # Safety
/// `v` must be a string object that outlives the returned slice.
pub unsafe fn string_bytes<'a>(v: Value) -> &'a [u8] {
    // SAFETY: a string stores byte_len bytes right after its header words.
    unsafe {
        let len = field(v, STRING_BYTE_LEN) as usize;
        std::slice::from_raw_parts((v as usize + STRING_BYTES as usize) as *const u8, len)
    }
}

/// The text of a string object.
///
/// # Safety
/// `v` must be a string object that outlives the returned slice.
pub unsafe fn string_str<'a>(v: Value) -> &'a str {
    // SAFETY: strings are only ever built from valid UTF-8.
    unsafe { std::str::from_utf8_unchecked(string_bytes(v)) }
}

/// Number of Unicode scalars in a string object.
///
/// # Safety
/// `v` must be a string object.
pub unsafe fn string_char_len(v: Value) -> usize {
    // SAFETY: strings store their char count at STRING_CHAR_LEN.
    unsafe { field(v, STRING_CHAR_LEN) as usize }
}

/// Strings hold no pointers.
///
/// # Safety
/// `obj` must be a string.
pub unsafe fn trace_string(_obj: Value, _visit: &mut dyn FnMut(*mut Value)) {}

/// # Safety
/// `obj` must be a string and `dst` a live region.
pub unsafe fn clone_string(obj: Value, dst: *mut Region) -> Value {
    // SAFETY: forwarded contract; the source bytes are valid UTF-8.
    unsafe { make_string_bytes(dst, string_bytes(obj), string_char_len(obj)) }
}

// -------------------------------------------------------------------- symbol

/// FNV-1a: a stable hash of a symbol's name, stored in the symbol so dict
/// hashing never rereads the name.
pub fn hash_bytes(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The intern table: name → symbol object (global region). The lock also
/// serialises the global-region allocations interning performs.
static SYMBOLS: Mutex<Option<HashMap<String, Value>>> = Mutex::new(None);

/// The unique symbol named `name`, created in the global region on first use.
pub fn intern(name: &str) -> Value {
    let mut guard = SYMBOLS.lock().unwrap_or_else(|e| e.into_inner());
    let table = guard.get_or_insert_with(HashMap::new);
    if let Some(&sym) = table.get(name) {
        return sym;
    }
    // Symbols live in the immortal shared region, whose allocation lock
    // lets any thread intern (the global region belongs to the program
    // thread: docs/REGION_THREADING_MODEL.md).
    // SAFETY: the shared region lives for the whole program and
    // `with_shared_region` holds its allocation lock.
    let sym = crate::region::with_shared_region(|g| unsafe {
        let name_str = make_string(g, name);
        let p = alloc_object(g, ObjKind::Symbol, SYMBOL_SIZE);
        p.add(1).write(name_str);
        p.add(2).write(hash_bytes(name.as_bytes()));
        p as Value
    });
    table.insert(name.to_owned(), sym);
    sym
}

#[inline]
pub fn is_symbol(v: Value) -> bool {
    is_kind(v, ObjKind::Symbol)
}

/// The name of a symbol (symbols live for the whole program).
///
/// # Safety
/// `v` must be a symbol.
pub unsafe fn symbol_name(v: Value) -> &'static str {
    // SAFETY: a symbol's name slot holds a global-region string.
    unsafe { string_str(field(v, SYMBOL_NAME)) }
}

/// The name string object of a symbol.
///
/// # Safety
/// `v` must be a symbol.
pub unsafe fn symbol_name_value(v: Value) -> Value {
    // SAFETY: symbols store their name string at SYMBOL_NAME.
    unsafe { field(v, SYMBOL_NAME) }
}

/// # Safety
/// `v` must be a symbol.
pub unsafe fn symbol_hash(v: Value) -> u64 {
    // SAFETY: symbols store their hash at SYMBOL_HASH.
    unsafe { field(v, SYMBOL_HASH) }
}

/// # Safety
/// `obj` must be a symbol.
pub unsafe fn trace_symbol(obj: Value, visit: &mut dyn FnMut(*mut Value)) {
    visit(slot(obj, SYMBOL_NAME));
}

/// Symbols are interned in the global region and compared by identity, so
/// the only correct "copy" is the symbol itself: a second object with the
/// same name would break `eq?`.
///
/// # Safety
/// `obj` must be a symbol.
pub unsafe fn clone_symbol(obj: Value, _dst: *mut Region) -> Value {
    obj
}

// --------------------------------------------------------------------- array

/// Allocate an empty array with room for `cap` elements in `r`.
///
/// # Safety
/// `r` must be a live region usable by the calling thread.
pub unsafe fn alloc_array(r: *mut Region, cap: usize) -> Value {
    let cap = cap.max(1);
    // SAFETY: ARRAY_SIZE writable bytes plus a cap-word payload in `r`.
    unsafe {
        // Saturating: an impossible size is "out of memory", not a wrap.
        let data = alloc_raw(r, cap.saturating_mul(8)) as *mut Value;
        let p = alloc_object(r, ObjKind::Array, ARRAY_SIZE);
        p.add(1).write(0);
        p.add(2).write(cap as u64);
        p.add(3).write(data as u64);
        p as Value
    }
}

/// Allocate an array holding a copy of `items`.
///
/// # Safety
/// `r` must be a live region usable by the calling thread.
pub unsafe fn array_from_slice(r: *mut Region, items: &[Value]) -> Value {
    // SAFETY: the fresh array has capacity >= items.len().
    unsafe {
        let a = alloc_array(r, items.len());
        std::ptr::copy_nonoverlapping(items.as_ptr(), array_data(a), items.len());
        set_field(a, ARRAY_LEN, items.len() as u64);
        a
    }
}

#[inline]
pub fn is_array(v: Value) -> bool {
    is_kind(v, ObjKind::Array)
}

/// # Safety
/// `v` must be an array.
#[inline]
pub unsafe fn array_len(v: Value) -> usize {
    // SAFETY: arrays store their length at ARRAY_LEN.
    unsafe { field(v, ARRAY_LEN) as usize }
}

/// # Safety
/// `v` must be an array.
#[inline]
pub unsafe fn array_data(v: Value) -> *mut Value {
    // SAFETY: arrays store their payload pointer at ARRAY_DATA.
    unsafe { field(v, ARRAY_DATA) as *mut Value }
}

/// The live elements of an array (invalidated by a push that grows it),
/// as stored: an element may be a forwarded original, so a reader that
/// inspects one resolves it first ([`resolve`]).
///
/// # Safety
/// `v` must be an array not resized while the slice is used.
pub unsafe fn array_slice<'a>(v: Value) -> &'a [Value] {
    // SAFETY: data holds len initialised values.
    unsafe { std::slice::from_raw_parts(array_data(v), array_len(v)) }
}

/// Element `i` as stored: it may be a forwarded original. Only primitives
/// that hand it straight back to generated code use it (`array-ref`, `get`),
/// and generated code resolves on its first kind test; runtime code that
/// inspects an element resolves it first ([`resolve`]).
///
/// # Safety
/// `v` must be an array and `i < array_len(v)`.
pub unsafe fn array_get(v: Value, i: usize) -> Value {
    // SAFETY: caller checked the bound.
    unsafe { *array_data(v).add(i) }
}

/// # Safety
/// `v` must be an array and `i < array_len(v)`.
pub unsafe fn array_set(v: Value, i: usize, x: Value) {
    // SAFETY: caller checked the bound.
    unsafe { *array_data(v).add(i) = x }
}

/// Append `x`, doubling the payload (allocated in the array's own region)
/// when full. The old payload stays in the region until it is reclaimed.
///
/// # Safety
/// `v` must be an array whose region is usable by the calling thread.
pub unsafe fn array_push(v: Value, x: Value) {
    // SAFETY: len <= cap; a new payload of 2*cap words receives the old ones.
    unsafe {
        let len = array_len(v);
        let cap = field(v, ARRAY_CAP) as usize;
        if len == cap {
            let new_cap = (cap * 2).max(4);
            let data = alloc_raw(region_of(v), new_cap.saturating_mul(8)) as *mut Value;
            std::ptr::copy_nonoverlapping(array_data(v), data, len);
            set_field(v, ARRAY_DATA, data as u64);
            set_field(v, ARRAY_CAP, new_cap as u64);
        }
        *array_data(v).add(len) = x;
        set_field(v, ARRAY_LEN, (len + 1) as u64);
    }
}

/// Remove and return the last element, or `None` when empty.
///
/// # Safety
/// `v` must be an array.
pub unsafe fn array_pop(v: Value) -> Option<Value> {
    // SAFETY: len > 0 is checked before reading slot len-1.
    unsafe {
        let len = array_len(v);
        if len == 0 {
            return None;
        }
        let x = *array_data(v).add(len - 1);
        set_field(v, ARRAY_LEN, (len - 1) as u64);
        Some(x)
    }
}

/// Visits the live payload slots (slots past `len` are dead).
///
/// # Safety
/// `obj` must be an array.
pub unsafe fn trace_array(obj: Value, visit: &mut dyn FnMut(*mut Value)) {
    // SAFETY: data holds len slots.
    unsafe {
        let data = array_data(obj);
        for i in 0..array_len(obj) {
            visit(data.add(i));
        }
    }
}

/// # Safety
/// `obj` must be an array and `dst` a live region.
pub unsafe fn clone_array(obj: Value, dst: *mut Region) -> Value {
    // SAFETY: forwarded contract.
    unsafe { array_from_slice(dst, array_slice(obj)) }
}

// ----------------------------------------------------------------------- box

/// # Safety
/// `r` must be a live region usable by the calling thread.
pub unsafe fn alloc_box(r: *mut Region, v: Value) -> Value {
    // SAFETY: BOX_SIZE writable bytes, header set.
    unsafe {
        let p = alloc_object(r, ObjKind::Box, BOX_SIZE);
        p.add(1).write(v);
        p as Value
    }
}

#[inline]
pub fn is_box(v: Value) -> bool {
    is_kind(v, ObjKind::Box)
}

/// # Safety
/// `b` must be a box.
pub unsafe fn box_get(b: Value) -> Value {
    // SAFETY: boxes hold their value at BOX_VALUE.
    resolve(unsafe { field(b, BOX_VALUE) })
}

/// # Safety
/// `b` must be a box.
pub unsafe fn box_set(b: Value, v: Value) {
    // SAFETY: boxes hold their value at BOX_VALUE.
    unsafe { set_field(b, BOX_VALUE, v) }
}

/// # Safety
/// `obj` must be a box.
pub unsafe fn trace_box(obj: Value, visit: &mut dyn FnMut(*mut Value)) {
    visit(slot(obj, BOX_VALUE));
}

/// # Safety
/// `obj` must be a box and `dst` a live region.
pub unsafe fn clone_box(obj: Value, dst: *mut Region) -> Value {
    // SAFETY: forwarded contract.
    unsafe { alloc_box(dst, box_get(obj)) }
}

// ------------------------------------------------------------------- closure

/// Allocate a closure with `info`'s number of free slots, all zeroed
/// (UNBOUND) until generated code stores them.
///
/// # Safety
/// `r` must be a live region usable by the calling thread.
pub unsafe fn alloc_closure(
    r: *mut Region,
    code: usize,
    apply: usize,
    info: u64,
    name: Value,
) -> Value {
    let nfree = (info >> 32) as usize;
    // SAFETY: the allocation holds the 5 fixed words plus nfree slots.
    unsafe {
        let p = alloc_object(r, ObjKind::Closure, CLOSURE_FREE as usize + nfree * 8);
        p.add(1).write(code as u64);
        p.add(2).write(apply as u64);
        p.add(3).write(info);
        p.add(4).write(name);
        for i in 0..nfree {
            p.add(5 + i).write(UNBOUND);
        }
        p as Value
    }
}

#[inline]
pub fn is_closure(v: Value) -> bool {
    is_kind(v, ObjKind::Closure)
}

/// # Safety
/// `c` must be a closure.
pub unsafe fn closure_info_word(c: Value) -> u64 {
    // SAFETY: closures hold info at CLOSURE_INFO.
    unsafe { field(c, CLOSURE_INFO) }
}

/// # Safety
/// `c` must be a closure.
pub unsafe fn closure_name(c: Value) -> Value {
    // SAFETY: closures hold their name at CLOSURE_NAME.
    unsafe { field(c, CLOSURE_NAME) }
}

/// # Safety
/// `c` must be a closure.
pub unsafe fn closure_nfree(c: Value) -> usize {
    // SAFETY: nfree lives in the upper half of info.
    unsafe { (closure_info_word(c) >> 32) as usize }
}

/// # Safety
/// `c` must be a closure with more than `i` free slots.
pub unsafe fn closure_free(c: Value, i: usize) -> Value {
    // SAFETY: caller checked `i < nfree`.
    resolve(unsafe { field(c, CLOSURE_FREE + 8 * i as i32) })
}

/// # Safety
/// `c` must be a closure with more than `i` free slots.
pub unsafe fn closure_set_free(c: Value, i: usize, v: Value) {
    // SAFETY: caller checked `i < nfree`.
    unsafe { set_field(c, CLOSURE_FREE + 8 * i as i32, v) }
}

/// Display name of a closure for messages: its name symbol, or `lambda`.
///
/// # Safety
/// `c` must be a closure.
pub unsafe fn closure_display_name(c: Value) -> String {
    // SAFETY: forwarded contract.
    let name = unsafe { closure_name(c) };
    if is_symbol(name) {
        // SAFETY: checked it is a symbol.
        unsafe { symbol_name(name) }.to_owned()
    } else {
        "lambda".to_owned()
    }
}

/// Visits the name slot and every free slot (code/apply/info are not values).
///
/// # Safety
/// `obj` must be a closure.
pub unsafe fn trace_closure(obj: Value, visit: &mut dyn FnMut(*mut Value)) {
    visit(slot(obj, CLOSURE_NAME));
    // SAFETY: the closure has nfree free slots.
    for i in 0..unsafe { closure_nfree(obj) } {
        visit(slot(obj, CLOSURE_FREE + 8 * i as i32));
    }
}

/// # Safety
/// `obj` must be a closure and `dst` a live region.
pub unsafe fn clone_closure(obj: Value, dst: *mut Region) -> Value {
    // SAFETY: both closures have the same nfree slots.
    unsafe {
        let c = alloc_closure(
            dst,
            field(obj, CLOSURE_CODE) as usize,
            field(obj, CLOSURE_APPLY) as usize,
            closure_info_word(obj),
            closure_name(obj),
        );
        for i in 0..closure_nfree(obj) {
            closure_set_free(c, i, closure_free(obj, i));
        }
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tests run on parallel threads, so each uses its own region (the
    /// global region is single-threaded apart from interning).
    fn g() -> *mut Region {
        crate::region::region_create()
    }

    #[test]
    fn pairs_and_lists() {
        // SAFETY: the test region is live for the test process.
        unsafe {
            let l = list_from_slice(g(), &[make_int(1), make_int(2), make_int(3)]);
            assert_eq!(
                list_to_vec(l).unwrap(),
                vec![make_int(1), make_int(2), make_int(3)]
            );
            let improper = alloc_pair(g(), make_int(1), make_int(2));
            assert!(list_to_vec(improper).is_none());
            let cyc = list_from_slice(g(), &[make_int(1), make_int(2), make_int(3)]);
            set_cdr(cdr(cdr(cyc)), cyc);
            assert!(list_to_vec(cyc).is_none());
        }
    }

    #[test]
    fn strings_count_chars() {
        // SAFETY: the test region is live.
        unsafe {
            let s = make_string(g(), "λx→y");
            assert_eq!(string_str(s), "λx→y");
            assert_eq!(string_char_len(s), 4);
            assert_eq!(string_bytes(s).len(), "λx→y".len());
            let c = clone_string(s, g());
            assert_ne!(c, s);
            assert_eq!(string_str(c), "λx→y");
        }
    }

    #[test]
    fn symbols_are_interned() {
        let a = intern("hello");
        let b = intern("hello");
        let c = intern("world");
        assert_eq!(a, b);
        assert_ne!(a, c);
        // SAFETY: `a` is a symbol.
        unsafe {
            assert_eq!(symbol_name(a), "hello");
            assert_eq!(clone_symbol(a, g()), a);
        }
    }

    #[test]
    fn arrays_grow_in_their_region() {
        let r = g();
        // SAFETY: `r` is a fresh live region.
        unsafe {
            let a = alloc_array(r, 0);
            for i in 0..100 {
                array_push(a, make_int(i));
            }
            assert_eq!(array_len(a), 100);
            assert_eq!(array_get(a, 57), make_int(57));
            assert_eq!(array_pop(a), Some(make_int(99)));
            let mut n = 0;
            trace_array(a, &mut |_| n += 1);
            assert_eq!(n, 99);
            let c = clone_array(a, g());
            assert_ne!(array_data(c), array_data(a));
            assert_eq!(array_slice(c), array_slice(a));
        }
    }

    #[test]
    fn closures_have_zeroed_free_slots() {
        // SAFETY: the test region is live.
        unsafe {
            let c = alloc_closure(g(), 0x1000, 0x2000, closure_info(2, true, 3), intern("f"));
            assert_eq!(closure_nfree(c), 3);
            for i in 0..3 {
                assert_eq!(closure_free(c, i), UNBOUND);
            }
            closure_set_free(c, 1, make_int(7));
            let mut seen = Vec::new();
            trace_closure(c, &mut |p| seen.push(*p));
            assert_eq!(seen, vec![intern("f"), UNBOUND, make_int(7), UNBOUND]);
            let d = clone_closure(c, g());
            assert_eq!(closure_free(d, 1), make_int(7));
            assert_eq!(closure_display_name(d), "f");
        }
    }
}
