//! Primitives behind `match` (compiler/src/expand/pattern.rs): the shape
//! tests and accessors of sequence and dict patterns, and the no-match
//! error. The tests never fail: on a value of another kind they answer
//! `false`. The accessors are only called by the decision tree after the
//! matching test succeeded, but they still check (a guard may have mutated
//! the value in between), so a misuse is an error, never a crash.
//!
//! A *sequence* is a proper list or an array.

use super::{expected, form, index_arg, new_array, prim_fixed, prim_variadic, R};
use crate::base::value::*;
use crate::heap::dict::{dict_peek, is_dict};
use crate::heap::object::*;
use crate::region::Region;

/// Length of the sequence `v` when it is at most `limit`, or `limit + 1`
/// when it is longer (lists are walked at most `limit + 1` cells, so a long
/// or cyclic list costs no more than the pattern needs); `None` when `v` is
/// not a sequence (improper lists included).
fn seq_len_upto(v: Value, limit: usize) -> Option<usize> {
    if is_array(v) {
        // SAFETY: checked to be an array.
        return Some(unsafe { array_len(v) }.min(limit + 1));
    }
    let mut n = 0usize;
    let mut cur = v;
    loop {
        if cur == NIL {
            return Some(n);
        }
        if !is_pair(cur) {
            return None;
        }
        if n > limit {
            return Some(n);
        }
        // SAFETY: `cur` is a pair.
        cur = unsafe { cdr(cur) };
        n += 1;
    }
}

fn count_arg(prim: &str, n: Value) -> Result<usize, String> {
    let k = index_arg(prim, n)?;
    usize::try_from(k).map_err(|_| expected(prim, "a non-negative count", n))
}

/// `(%match-len= v n)`: `v` is a list or array of exactly `n` elements.
pub fn len_eq(v: Value, n: Value) -> R {
    let n = count_arg("%match-len=", n)?;
    Ok(make_bool(seq_len_upto(v, n) == Some(n)))
}

/// `(%match-len>= v n)`: `v` is a list or array of at least `n` elements.
pub fn len_ge(v: Value, n: Value) -> R {
    let n = count_arg("%match-len>=", n)?;
    Ok(make_bool(seq_len_upto(v, n).is_some_and(|k| k >= n)))
}

/// `(%match-ref s i)`: element `i` of a list or array.
pub fn seq_ref(s: Value, i: Value) -> R {
    let i = count_arg("%match-ref", i)?;
    // SAFETY: each accessor is used on the kind it was checked for.
    unsafe {
        if is_array(s) {
            if i < array_len(s) {
                return Ok(array_get(s, i));
            }
            return Err(format!("match: index {i} out of range for {}", form(s)));
        }
        let mut cur = s;
        for _ in 0..i {
            if !is_pair(cur) {
                break;
            }
            cur = cdr(cur);
        }
        if is_pair(cur) {
            Ok(car(cur))
        } else {
            Err(format!("match: index {i} out of range for {}", form(s)))
        }
    }
}

/// `(%match-drop s n)`: the sequence without its first `n` elements — the
/// shared tail of a list, a new array for an array.
pub fn seq_drop(r: *mut Region, s: Value, n: Value) -> R {
    let n = count_arg("%match-drop", n)?;
    // SAFETY: each accessor is used on the kind it was checked for.
    unsafe {
        if is_array(s) {
            let items = array_slice(s);
            if n <= items.len() {
                return Ok(new_array(r, &items[n..]));
            }
            return Err(format!("match: cannot drop {n} elements of {}", form(s)));
        }
        let mut cur = s;
        for _ in 0..n {
            if !is_pair(cur) {
                return Err(format!("match: cannot drop {n} elements of {}", form(s)));
            }
            cur = cdr(cur);
        }
        Ok(cur)
    }
}

/// `(%match-dict-keys? v k1 k2 ...)`: `v` is a dict holding every key.
pub fn dict_has_keys(args: &[Value]) -> R {
    let Some((&v, keys)) = args.split_first() else {
        return Err(super::arg_count("%match-dict-keys?", "at least 1", 0));
    };
    if !is_dict(v) {
        return Ok(FALSE);
    }
    // SAFETY: checked to be a dict.
    Ok(make_bool(
        keys.iter().all(|&k| unsafe { dict_peek(v, k) }.is_some()),
    ))
}

/// The message of a failed `match`.
pub fn no_match(v: Value) -> String {
    format!("no match for {}", form(v))
}

prim_fixed!(omni_prim_match_len_eq(v, n) => |_, v, n| len_eq(v, n));
prim_fixed!(omni_prim_match_len_ge(v, n) => |_, v, n| len_ge(v, n));
prim_fixed!(omni_prim_match_ref(s, i) => |_, s, i| seq_ref(s, i));
prim_fixed!(omni_prim_match_drop(s, n) => seq_drop);
prim_variadic!(omni_prim_match_dict_keys => |_, args| dict_has_keys(args));
prim_fixed!(omni_prim_match_fail(v) => |_, v| -> R { Err(no_match(v)) });

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prims::{new_list, new_pair, new_string};
    use crate::region::region_create;

    #[test]
    fn sequence_shapes() {
        let r = region_create();
        let l = new_list(r, &[make_int(1), make_int(2), make_int(3)]);
        let a = new_array(r, &[make_int(1), make_int(2)]);
        let i = make_int;
        assert_eq!(len_eq(l, i(3)), Ok(TRUE));
        assert_eq!(len_eq(l, i(2)), Ok(FALSE));
        assert_eq!(len_ge(l, i(2)), Ok(TRUE));
        assert_eq!(len_ge(l, i(4)), Ok(FALSE));
        assert_eq!(len_eq(NIL, i(0)), Ok(TRUE));
        assert_eq!(len_eq(a, i(2)), Ok(TRUE));
        assert_eq!(len_ge(a, i(3)), Ok(FALSE));
        assert_eq!(len_ge(i(5), i(0)), Ok(FALSE));
        let improper = new_pair(r, i(1), i(2));
        assert_eq!(len_ge(improper, i(1)), Ok(FALSE));
        assert_eq!(seq_ref(l, i(2)), Ok(i(3)));
        assert_eq!(seq_ref(a, i(1)), Ok(i(2)));
        assert!(seq_ref(a, i(2)).unwrap_err().contains("out of range"));
        let tail = seq_drop(r, l, i(1)).unwrap();
        // SAFETY: `l` is a pair; the tail is shared.
        assert_eq!(tail, unsafe { cdr(l) });
        let rest = seq_drop(r, a, i(1)).unwrap();
        // SAFETY: checked to be an array.
        assert_eq!(unsafe { array_slice(rest) }, &[i(2)]);
        assert!(seq_drop(r, l, i(4)).is_err());
    }

    #[test]
    fn cyclic_lists_terminate() {
        let r = region_create();
        let c = new_pair(r, make_int(1), NIL);
        // SAFETY: `c` is a pair.
        unsafe { set_cdr(c, c) };
        assert_eq!(len_eq(c, make_int(3)), Ok(FALSE));
        assert_eq!(len_ge(c, make_int(3)), Ok(TRUE));
    }

    #[test]
    fn dict_keys() {
        let r = region_create();
        let (a, b) = (intern("a"), intern("b"));
        // SAFETY: a fresh dict in a fresh region.
        let d = unsafe {
            let d = crate::heap::dict::alloc_dict(r, 4);
            crate::heap::dict::dict_set(d, a, NOTHING);
            d
        };
        assert_eq!(dict_has_keys(&[d, a]), Ok(TRUE));
        assert_eq!(dict_has_keys(&[d]), Ok(TRUE));
        assert_eq!(dict_has_keys(&[d, a, b]), Ok(FALSE));
        assert_eq!(dict_has_keys(&[make_int(1), a]), Ok(FALSE));
    }

    #[test]
    fn no_match_message() {
        let r = region_create();
        assert_eq!(no_match(new_string(r, "x")), "no match for \"x\"");
        assert_eq!(no_match(make_int(7)), "no match for 7");
    }
}
