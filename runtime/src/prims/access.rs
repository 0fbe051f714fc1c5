//! The generic collection access primitives, over every collection kind:
//!
//! `(get coll key)` / `(get coll key default)`: on a dict, the value or the
//! default (`nothing` without one) for a missing key; on an array or list,
//! the element at an Int index — out of range gives the default when one is
//! supplied and is an error otherwise; on a struct, the field named `key`.
//! `(%put! obj key v)` (from `put!`): store into a mutable struct's field,
//! an array slot or a dict entry, through the store barrier.

use super::types::{described, struct_set};
use super::{arg_count, expected, form, index_arg, prim_fixed, prim_variadic, R};
use crate::base::value::*;
use crate::heap::dict::*;
use crate::heap::object::*;
use crate::heap::types::*;
use std::sync::atomic::{AtomicU64, Ordering};

/// `(get coll key)` / `(get coll key default)`. A struct's raw Float field,
/// and a dict entry's slot Float (heap/dict.rs), is boxed in `r`
/// (`NEEDS_REGION` when `r` is null: generated code passes a region only
/// once it exists).
pub fn get(r: *mut crate::region::Region, args: &[Value]) -> R {
    if args.len() < 2 || args.len() > 3 {
        return Err(arg_count("get", "2 or 3", args.len()));
    }
    let (coll, key, default) = (args[0], args[1], args.get(2).copied());
    let out_of_range = |n: i64, len: usize, what: &str| match default {
        Some(d) => Ok(d),
        None => Err(format!(
            "get: index {n} out of bounds for {what} of length {len}"
        )),
    };
    let may_box = r as usize != NO_BOX_REGION;
    let r = if may_box { r } else { std::ptr::null_mut() };
    // SAFETY: each accessor is used on the kind it was checked for.
    unsafe {
        if is_dict(coll) {
            let v = match may_box {
                true => dict_get_copying(coll, key, r),
                false => dict_get(coll, key),
            };
            Ok(v.or(default).unwrap_or(NOTHING))
        } else if is_array(coll) {
            let n = index_arg("get", key)?;
            let len = array_len(coll);
            if n < 0 || n as u64 >= len as u64 {
                return out_of_range(n, len, "array");
            }
            Ok(array_get(coll, n as usize))
        } else if crate::heap::types::is_struct(coll) {
            match super::types::struct_get_field(r, coll, key, default)? {
                NEEDS_REGION if !may_box => Err(no_float_site(coll, key)),
                v => Ok(v),
            }
        } else if coll == NIL || is_pair(coll) {
            let n = index_arg("get", key)?;
            let mut cur = coll;
            let mut i = 0;
            while n >= 0 && is_pair(cur) {
                if i == n {
                    return Ok(car(cur));
                }
                cur = cdr(cur);
                i += 1;
            }
            let len = if n < 0 {
                super::list::list_length(coll).unwrap_or(0)
            } else {
                i as usize
            };
            out_of_range(n, len, "list")
        } else {
            Err(expected("get", "a dict, array, list or struct", coll))
        }
    }
}

/// `(put! obj.field v)` / `(put! xs.[i] v)`: store into a mutable struct's
/// field, an array slot or a dict entry (through the store barrier).
pub fn put(obj: Value, key: Value, v: Value) -> R {
    // SAFETY: `field_index` is called with the struct's type object.
    put_with(obj, key, v, |t| unsafe { field_index(t, key) })
}

/// `put` with the index of a struct's field found by `index_of(type)`.
fn put_with(obj: Value, key: Value, v: Value, index_of: impl FnOnce(Value) -> Option<usize>) -> R {
    if is_struct(obj) {
        // SAFETY: checked to be a struct.
        unsafe {
            let t = struct_type(obj);
            if type_info(t) & TYPE_FLAG_MUTABLE == 0 {
                return Err(format!("put!: {} is immutable", type_name(t)));
            }
            let tname = type_name(t);
            let Some(i) = index_of(t) else {
                return Err(format!("put!: {tname} has no field {}", form(key)));
            };
            let field_type = type_field_types(t).nth(i);
            if let Some(ft) = field_type.filter(|&ft| !value_has_type(v, ft)) {
                return Err(format!(
                    "type error: {tname} field {}: expected {}, got {}",
                    form(key),
                    name_of(ft),
                    described(v)
                ));
            }
            struct_set(obj, i, v);
        }
        Ok(NOTHING)
    } else if is_array(obj) {
        super::array::array_set_prim(obj, key, v).map_err(|m| m.replacen("array-set!", "put!", 1))
    } else if crate::heap::dict::is_dict(obj) {
        super::dict::set(obj, key, v)
    } else {
        Err(expected(
            "put!",
            "a mutable struct, an array or a dict",
            obj,
        ))
    }
}

/// A raw Float field read where CTRR saw no Float allocation site: a
/// compiler defect (lowering's `may_allocate` said no struct declares the
/// field raw), reported rather than boxed into a region nothing exits.
#[cold]
fn no_float_site(s: Value, key: Value) -> String {
    format!(
        "internal error: get of raw Float field {} of {} without a region (please report)",
        form(key),
        described(s)
    )
}

prim_variadic!(omni_prim_get => get);
prim_fixed!(omni_prim_put(obj, key, v) => |_, o, k, v| put(o, k, v));

// ------------------------------------------------------------ field caches

/// A field cache of generated code: one word per `x.field` site (`get` or
/// `put!` with a literal symbol key), 0 until a struct passes, then that
/// struct's type object (its address, below 2^48) with the field's index
/// above it ([`FIELD_CACHE_INDEX_SHIFT`]). Generated code reads
/// the field inline when a struct's type is the cached one; these routines
/// are its slow path and fill the cache. One word, so a thread reads a
/// cache written by another either whole or not at all; a type object is
/// never reclaimed (global region), so a stale entry only misses.
pub const FIELD_CACHE_INDEX_SHIFT: u32 = 48;
pub const FIELD_CACHE_TYPE_MASK: u64 = (1 << FIELD_CACHE_INDEX_SHIFT) - 1;
/// The top two bits say what the field's declared type lets generated
/// code store without the type check ([`FieldClass`]; 0 in a `get` site's
/// cache); the index has the 14 bits below them.
pub const FIELD_CACHE_CLASS_SHIFT: u32 = 62;
pub const FIELD_CACHE_INDEX_MASK: u64 =
    (1 << (FIELD_CACHE_CLASS_SHIFT - FIELD_CACHE_INDEX_SHIFT)) - 1;

/// What a site's cache records about the field: for a `put!` site, what
/// its declared type lets generated code store without the type check;
/// for a `get` site, only whether the slot is raw (`Float`) or a value
/// word (`Any`).
#[repr(u64)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldClass {
    /// `Any` (unannotated): every value.
    Any = 0,
    /// A raw Float slot (declared `Float`, `heap/types.rs`): the slot
    /// holds the f64's bits; a store takes a Float's bits, a read boxes
    /// them (or feeds them to arithmetic unboxed).
    Float = 1,
    /// `Int`: a fixnum.
    Int = 2,
}

impl FieldClass {
    /// The class of slot `i` declared of type `ft` in a struct whose type
    /// has raw Float mask `mask`, if generated code can store into it.
    fn of(ft: Value, mask: u64, i: usize) -> Option<FieldClass> {
        if slot_is_raw(mask, i) {
            return Some(FieldClass::Float);
        }
        // SAFETY: `ft` is a type object (a field type).
        match unsafe { type_info(ft) } as u8 {
            ANY => Some(FieldClass::Any),
            INT => Some(FieldClass::Int),
            // A `Float` field past the raw mask holds Float objects:
            // generated code leaves it to the runtime.
            _ => None,
        }
    }
}

/// The index of field `key` of a struct of type `t`, through a site's
/// field cache. A `put!` site's cache also records the field's
/// [`FieldClass`] (a field of another type leaves the cache empty, so
/// generated code never stores into it inline); a `get` site's records
/// whether the slot is raw.
///
/// # Safety
/// `t` is the type object of a struct (for `put`, a mutable one); `cache`
/// points to a field cache word.
unsafe fn cached_field_index(
    t: Value,
    key: Value,
    cache: *const AtomicU64,
    put: bool,
) -> Option<usize> {
    // SAFETY: caller contract.
    let cell = unsafe { &*cache };
    let w = cell.load(Ordering::Relaxed);
    if w != 0 && w & FIELD_CACHE_TYPE_MASK == t {
        return Some(((w >> FIELD_CACHE_INDEX_SHIFT) & FIELD_CACHE_INDEX_MASK) as usize);
    }
    // SAFETY: caller contract.
    let i = unsafe { field_index(t, key) }?;
    // SAFETY: as above.
    let mask = unsafe { type_raw_floats(t) };
    let class = if put {
        // SAFETY: as above.
        unsafe { type_field_types(t) }
            .nth(i)
            .and_then(|ft| FieldClass::of(ft, mask, i))
    } else if slot_is_raw(mask, i) {
        Some(FieldClass::Float)
    } else {
        Some(FieldClass::Any)
    };
    if let Some(class) = class {
        if t & !FIELD_CACHE_TYPE_MASK == 0 && (i as u64) <= FIELD_CACHE_INDEX_MASK {
            let w = t
                | (i as u64) << FIELD_CACHE_INDEX_SHIFT
                | (class as u64) << FIELD_CACHE_CLASS_SHIFT;
            cell.store(w, Ordering::Relaxed);
        }
    }
    Some(i)
}

/// `(get obj 'key)` of a `obj.key` site whose inline path missed: any
/// collection, as `get`; a struct fills the site's cache. A raw Float
/// field is boxed in `region` (`NEEDS_REGION` when it is null).
///
/// # Safety
/// `obj` and `key` are valid values; `cache` points to the site's field
/// cache word (a writable, 8-aligned word of the generated code's data);
/// `region` is null, `NO_BOX_REGION` or a live region usable by the
/// calling thread.
#[no_mangle]
pub unsafe extern "C" fn omni_field_get(
    obj: Value,
    key: Value,
    cache: *const AtomicU64,
    region: *mut crate::region::Region,
    loc: u32,
) -> Value {
    let (obj, key) = (resolve(obj), resolve(key));
    let r = if is_struct(obj) {
        // SAFETY: `obj` is a struct; caller contract for `cache`.
        match unsafe { cached_field_index(struct_type(obj), key, cache, false) } {
            Some(i) if region as usize == NO_BOX_REGION => {
                // SAFETY: a field index of the struct's own type; no region.
                match unsafe { struct_get(obj, i, std::ptr::null_mut()) } {
                    NEEDS_REGION => Err(no_float_site(obj, key)),
                    v => Ok(v),
                }
            }
            // SAFETY: a field index of the struct's own type; caller
            // contract for `region`.
            Some(i) => Ok(unsafe { struct_get(obj, i, region) }),
            None => get(region, &[obj, key]),
        }
    } else {
        get(region, &[obj, key])
    };
    r.unwrap_or_else(|msg| crate::base::raise::raise(msg, loc))
}

/// `(put! obj.key v)` through the site's field cache: as `%put!` (the
/// mutability and field type checks and the store barrier are the same).
/// After a store into a struct, the cache also records the field's
/// [`FieldClass`], so generated code can store into the same field of the
/// same type inline (a Float's bits into a raw slot; an immediate, or an
/// object of the struct's own region, which needs no barrier:
/// `barrier::store_into`).
///
/// # Safety
/// As [`omni_field_get`].
#[no_mangle]
pub unsafe extern "C" fn omni_field_put(
    obj: Value,
    key: Value,
    v: Value,
    cache: *const AtomicU64,
    loc: u32,
) -> Value {
    let (obj, key, v) = (resolve(obj), resolve(key), resolve(v));
    // SAFETY: `put_with` calls the finder with the struct's type; caller
    // contract for `cache`.
    let r = put_with(obj, key, v, |t| unsafe {
        cached_field_index(t, key, cache, true)
    });
    r.unwrap_or_else(|msg| crate::base::raise::raise(msg, loc))
}
