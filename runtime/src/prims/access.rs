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

/// `(get coll key)` / `(get coll key default)`.
pub fn get(args: &[Value]) -> R {
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
    // SAFETY: each accessor is used on the kind it was checked for.
    unsafe {
        if is_dict(coll) {
            Ok(dict_get(coll, key).or(default).unwrap_or(NOTHING))
        } else if is_array(coll) {
            let n = index_arg("get", key)?;
            let len = array_len(coll);
            if n < 0 || n as u64 >= len as u64 {
                return out_of_range(n, len, "array");
            }
            Ok(array_get(coll, n as usize))
        } else if crate::heap::types::is_struct(coll) {
            super::types::struct_get_field(coll, key, default)
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
    if is_struct(obj) {
        // SAFETY: checked to be a struct.
        unsafe {
            let t = struct_type(obj);
            let tname = type_name(t);
            if type_info(t) & TYPE_FLAG_MUTABLE == 0 {
                return Err(format!("put!: {tname} is immutable"));
            }
            let Some(i) = field_index(t, key) else {
                return Err(format!("put!: {tname} has no field {}", form(key)));
            };
            let ft = type_field_types(t)[i];
            if !value_has_type(v, ft) {
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

prim_variadic!(omni_prim_get => |_, args| get(args));
prim_fixed!(omni_prim_put(obj, key, v) => |_, o, k, v| put(o, k, v));
