//! Dict primitives. `keys`/`values` return fresh lists in insertion order.
//! Mutators return `nothing`. (The generic `get` and `put!` are in
//! `access.rs`.)

use super::{expected, new_list, prim_fixed, prim_variadic, R};
use crate::base::value::*;
use crate::heap::dict::*;
use crate::heap::object::{float_value, is_slot_float, make_float};
use crate::region::Region;

fn dict_arg(prim: &str, v: Value) -> Result<Value, String> {
    if is_dict(v) {
        Ok(v)
    } else {
        Err(expected(prim, "a dict", v))
    }
}

/// `(dict k1 v1 k2 v2 ...)`.
pub(crate) fn make_dict(r: *mut Region, args: &[Value]) -> R {
    if !args.len().is_multiple_of(2) {
        return Err(format!(
            "dict: expected an even number of arguments, got {}",
            args.len()
        ));
    }
    // SAFETY: primitive contract: `r` is live; the new dict lives in it.
    unsafe {
        let d = alloc_dict(r, args.len() / 2);
        for kv in args.chunks_exact(2) {
            dict_set(d, kv[0], kv[1]);
        }
        Ok(d)
    }
}

#[inline]
pub fn set(d: Value, k: Value, v: Value) -> R {
    let d = dict_arg("dict-set!", d)?;
    // SAFETY: `d` is a dict used on its owning thread (the key's barrier
    // checks that first); the barrier makes the key and a value other than
    // a Float storable into it (older-only store rule). A Float is stored
    // as a slot Float of the dict's own region (heap/dict.rs): its value,
    // not the object passed, which no one can tell apart.
    unsafe {
        let k = crate::graph::barrier::omni_store_barrier(d, k);
        if is_ptr(v) && store_float(d, k, v) {
            return Ok(NOTHING);
        }
        let v = crate::graph::barrier::omni_store_barrier(d, v);
        dict_set(d, k, v)
    };
    Ok(NOTHING)
}

/// Store `v` as the value of `k` in `d` if it is a Float (true), as a slot
/// Float: the entry's own one overwritten, or a new one in `d`'s region.
///
/// # Safety
/// As `set`'s store: `d` a dict of the calling thread, `k` storable into it.
#[inline(never)]
unsafe fn store_float(d: Value, k: Value, v: Value) -> bool {
    use crate::heap::object::{float_value, is_float, make_slot_float, resolve};
    let v = resolve(v);
    if !is_float(v) {
        return false;
    }
    let d = resolve(d);
    // SAFETY: caller contract; `v` is a Float.
    unsafe {
        let x = float_value(v);
        if !dict_update_float(d, k, x) {
            dict_set(d, k, make_slot_float(crate::region::region_of(d), x));
        }
    }
    true
}

pub fn remove(d: Value, k: Value) -> R {
    let d = dict_arg("dict-remove!", d)?;
    // SAFETY: `d` is a dict.
    unsafe { dict_remove(d, k) };
    Ok(NOTHING)
}

pub fn has_key(d: Value, k: Value) -> R {
    let d = dict_arg("has-key?", d)?;
    // SAFETY: `d` is a dict.
    Ok(make_bool(unsafe { dict_peek(d, k) }.is_some()))
}

/// `keys` (`want_keys`) or `values` of a dict as a list in insertion order.
pub fn keys_or_values(r: *mut Region, d: Value, want_keys: bool) -> R {
    let d = dict_arg(if want_keys { "keys" } else { "values" }, d)?;
    // SAFETY: `d` is a dict.
    let entries = unsafe { dict_entries_peek(d) };
    // A slot Float is copied into the list's region: the entry keeps its
    // own (heap/dict.rs, "slot Floats").
    let items: Vec<Value> = entries
        .iter()
        .map(|&(k, v)| match (want_keys, is_slot_float(v)) {
            (true, _) => k,
            (false, false) => v,
            (false, true) => float_copy(r, v),
        })
        .collect();
    Ok(new_list(r, &items))
}

/// A copy of Float `v` in `r`, the calling primitive's live region.
fn float_copy(r: *mut Region, v: Value) -> Value {
    // SAFETY: primitive contract: `r` is live and usable by this thread;
    // `v` is a Float (`is_slot_float` checked it).
    unsafe { make_float(r, float_value(v)) }
}

pub fn size(d: Value) -> R {
    let d = dict_arg("dict-size", d)?;
    // SAFETY: `d` is a dict.
    Ok(make_int(unsafe { dict_size(d) } as i64))
}

prim_variadic!(omni_prim_dict => make_dict);
prim_fixed!(omni_prim_dict_set(d, k, v) => |_, d, k, v| set(d, k, v));
prim_fixed!(omni_prim_dict_remove(d, k) => |_, d, k| remove(d, k));
prim_fixed!(omni_prim_has_key_p(d, k) => |_, d, k| has_key(d, k));
prim_fixed!(omni_prim_keys(d) => |r, d| keys_or_values(r, d, true));
prim_fixed!(omni_prim_values(d) => |r, d| keys_or_values(r, d, false));
prim_fixed!(omni_prim_dict_size(d) => |_, d| size(d));

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::print::display_string;
    use crate::heap::object::*;
    use crate::prims::access::get;
    use crate::prims::{new_array, new_string};
    use crate::region::region_create;

    #[test]
    fn dict_semantics_through_primitives() {
        let r = region_create();
        let (a, b, c) = (intern("a"), intern("b"), intern("c"));
        let d = make_dict(r, &[a, make_int(1), b, make_int(2)]).unwrap();
        set(d, c, make_int(3)).unwrap();
        set(d, a, make_int(10)).unwrap();
        assert_eq!(
            display_string(keys_or_values(r, d, true).unwrap()),
            "(a b c)"
        );
        assert_eq!(
            display_string(keys_or_values(r, d, false).unwrap()),
            "(10 2 3)"
        );
        remove(d, a).unwrap();
        set(d, a, make_int(11)).unwrap();
        assert_eq!(display_string(d), "#{:b 2 :c 3 :a 11}");
        assert_eq!(size(d).unwrap(), make_int(3));
        assert_eq!(has_key(d, b).unwrap(), TRUE);
        assert_eq!(has_key(d, intern("zz")).unwrap(), FALSE);
        assert_eq!(
            get(std::ptr::null_mut(), &[d, intern("zz")]).unwrap(),
            NOTHING
        );
        assert_eq!(
            get(std::ptr::null_mut(), &[d, intern("zz"), make_int(0)]).unwrap(),
            make_int(0)
        );
        assert_eq!(get(std::ptr::null_mut(), &[d, b]).unwrap(), make_int(2));
        // string keys are structural
        set(d, new_string(r, "k"), TRUE).unwrap();
        assert_eq!(
            get(std::ptr::null_mut(), &[d, new_string(r, "k")]).unwrap(),
            TRUE
        );
        assert_eq!(
            make_dict(r, &[a]).unwrap_err(),
            "dict: expected an even number of arguments, got 1"
        );
        assert_eq!(
            set(make_int(1), a, a).unwrap_err(),
            "dict-set!: expected a dict, got 1"
        );
    }

    #[test]
    fn get_on_sequences() {
        let r = region_create();
        let arr = new_array(r, &[make_int(5), make_int(6)]);
        assert_eq!(
            get(std::ptr::null_mut(), &[arr, make_int(1)]).unwrap(),
            make_int(6)
        );
        assert_eq!(
            get(std::ptr::null_mut(), &[arr, make_int(2), FALSE]).unwrap(),
            FALSE
        );
        assert_eq!(
            get(std::ptr::null_mut(), &[arr, make_int(2)]).unwrap_err(),
            "get: index 2 out of bounds for array of length 2"
        );
        let l = new_list(r, &[make_int(5), make_int(6)]);
        assert_eq!(
            get(std::ptr::null_mut(), &[l, make_int(0)]).unwrap(),
            make_int(5)
        );
        assert_eq!(
            get(std::ptr::null_mut(), &[l, make_int(3)]).unwrap_err(),
            "get: index 3 out of bounds for list of length 2"
        );
        assert_eq!(
            get(std::ptr::null_mut(), &[make_int(1), make_int(0)]).unwrap_err(),
            "get: expected a dict, array, list or struct, got 1"
        );
        assert_eq!(
            get(std::ptr::null_mut(), &[arr]).unwrap_err(),
            "get: expected 2 or 3 arguments, got 1"
        );
    }
}
