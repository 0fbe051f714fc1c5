//! List primitives: pairs, list construction and predicates, `length`.
//!
//! `car`/`cdr` are strict (an error on anything but a pair, `()` included);
//! `first`/`rest` are the forgiving sequence versions: `(first ())` is
//! `nothing` and `(rest ())` is `()`. `empty?` is true for `()`, and for an
//! empty array, string or dict. `length` counts lists, arrays, strings
//! (chars) and dicts.

use super::{expected, new_list, new_pair, prim_fixed, prim_variadic, R};
use crate::base::value::*;
use crate::heap::dict::{dict_size, is_dict};
use crate::heap::object::*;
use crate::region::Region;

pub fn car_of(v: Value) -> R {
    if is_pair(v) {
        // SAFETY: checked to be a pair.
        Ok(unsafe { car(v) })
    } else {
        Err(expected("car", "a pair", v))
    }
}

pub fn cdr_of(v: Value) -> R {
    if is_pair(v) {
        // SAFETY: checked to be a pair.
        Ok(unsafe { cdr(v) })
    } else {
        Err(expected("cdr", "a pair", v))
    }
}

/// Length of a proper list; `None` for an improper or cyclic one. Floyd's
/// check keeps a cyclic list from looping forever.
pub fn list_length(v: Value) -> Option<usize> {
    let mut n = 0usize;
    let mut fast = v;
    let mut slow = v;
    loop {
        if fast == NIL {
            return Some(n);
        }
        if !is_pair(fast) {
            return None;
        }
        // SAFETY: `fast` is a pair; `slow` trails it on the same chain.
        unsafe {
            fast = cdr(fast);
            n += 1;
            if n.is_multiple_of(2) {
                slow = cdr(slow);
                if slow == fast && fast != NIL {
                    return None;
                }
            }
        }
    }
}

pub fn length(v: Value) -> R {
    // SAFETY: each accessor is used on the kind it was checked for.
    unsafe {
        if v == NIL || is_pair(v) {
            list_length(v)
                .map(|n| make_int(n as i64))
                .ok_or_else(|| expected("length", "a proper list", v))
        } else if is_array(v) {
            Ok(make_int(array_len(v) as i64))
        } else if is_string(v) {
            Ok(make_int(string_char_len(v) as i64))
        } else if is_dict(v) {
            Ok(make_int(dict_size(v) as i64))
        } else {
            Err(expected("length", "a list, array, string or dict", v))
        }
    }
}

pub fn is_empty(v: Value) -> R {
    // SAFETY: each accessor is used on the kind it was checked for.
    unsafe {
        Ok(make_bool(if v == NIL {
            true
        } else if is_pair(v) {
            false
        } else if is_array(v) {
            array_len(v) == 0
        } else if is_string(v) {
            string_char_len(v) == 0
        } else if is_dict(v) {
            dict_size(v) == 0
        } else {
            return Err(expected("empty?", "a list, array, string or dict", v));
        }))
    }
}

fn mutate_pair(prim: &str, p: Value, x: Value, set: unsafe fn(Value, Value)) -> R {
    if !is_pair(p) {
        return Err(expected(prim, "a pair", p));
    }
    // SAFETY: checked to be a pair; the barrier makes `x` storable into it
    // (older-only store rule) and `set` writes one of its fields.
    unsafe { set(p, crate::graph::barrier::omni_store_barrier(p, x)) };
    Ok(NOTHING)
}

prim_fixed!(omni_prim_cons(a, d) => |r, a, d| Ok(new_pair(r, a, d)));
prim_fixed!(omni_prim_car(v) => |_, v| car_of(v));
prim_fixed!(omni_prim_cdr(v) => |_, v| cdr_of(v));
prim_fixed!(omni_prim_first(v) => |_, v| if v == NIL { Ok(NOTHING) } else { car_of(v).map_err(|_| expected("first", "a list", v)) });
prim_fixed!(omni_prim_rest(v) => |_, v| if v == NIL { Ok(NIL) } else { cdr_of(v).map_err(|_| expected("rest", "a list", v)) });
prim_variadic!(omni_prim_list => |r: *mut Region, args: &[Value]| -> R { Ok(new_list(r, args)) });
prim_fixed!(omni_prim_list_p(v) => |_, v| Ok(make_bool(list_length(v).is_some())));
prim_fixed!(omni_prim_empty_p(v) => |_, v| is_empty(v));
prim_fixed!(omni_prim_null_p(v) => |_, v| Ok(make_bool(v == NIL)));
prim_fixed!(omni_prim_pair_p(v) => |_, v| Ok(make_bool(is_pair(v))));
prim_fixed!(omni_prim_length(v) => |_, v| length(v));
prim_fixed!(omni_prim_set_car(p, x) => |_, p, x| mutate_pair("set-car!", p, x, set_car));
prim_fixed!(omni_prim_set_cdr(p, x) => |_, p, x| mutate_pair("set-cdr!", p, x, set_cdr));

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::print::display_string;
    use crate::region::region_create;

    #[test]
    fn accessors_and_errors() {
        let r = region_create();
        let l = new_list(r, &[make_int(1), make_int(2)]);
        assert_eq!(car_of(l).unwrap(), make_int(1));
        assert_eq!(display_string(cdr_of(l).unwrap()), "(2)");
        assert_eq!(
            car_of(make_int(5)).unwrap_err(),
            "car: expected a pair, got 5"
        );
        assert_eq!(cdr_of(NIL).unwrap_err(), "cdr: expected a pair, got ()");
        assert_eq!(length(l).unwrap(), make_int(2));
        assert_eq!(length(NIL).unwrap(), make_int(0));
        let dotted = new_pair(r, make_int(1), make_int(2));
        assert_eq!(
            length(dotted).unwrap_err(),
            "length: expected a proper list, got (1 . 2)"
        );
        assert_eq!(list_length(dotted), None);
        // SAFETY: `l` is a pair chain of two.
        unsafe { set_cdr(cdr(l), l) };
        assert_eq!(list_length(l), None, "cyclic list is not a proper list");
        assert_eq!(is_empty(NIL).unwrap(), TRUE);
        assert_eq!(is_empty(new_list(r, &[NIL])).unwrap(), FALSE);
        assert_eq!(
            mutate_pair("set-car!", NIL, make_int(1), set_car).unwrap_err(),
            "set-car!: expected a pair, got ()"
        );
    }
}
