//! Array primitives (mutable, growable). Indices are Ints checked against
//! the current length; `push!` grows the payload inside the array's own
//! region; mutators return `nothing`, `pop!` the removed element.

use super::{arg_count, expected, index_arg, new_array, prim_fixed, prim_variadic, R};
use crate::base::value::*;
use crate::heap::object::*;
use crate::region::Region;

fn array_arg(prim: &str, v: Value) -> Result<Value, String> {
    if is_array(v) {
        Ok(v)
    } else {
        Err(expected(prim, "an array", v))
    }
}

/// Check index `i` against array `a`, returning it as a slot number.
pub fn checked_index(prim: &str, a: Value, i: Value) -> Result<usize, String> {
    let n = index_arg(prim, i)?;
    // SAFETY: `a` was checked to be an array by the caller.
    let len = unsafe { array_len(a) };
    if n < 0 || n as u64 >= len as u64 {
        return Err(format!(
            "{prim}: index {n} out of bounds for array of length {len}"
        ));
    }
    Ok(n as usize)
}

#[inline(always)]
pub fn array_ref(a: Value, i: Value) -> R {
    let a = array_arg("array-ref", a)?;
    let k = checked_index("array-ref", a, i)?;
    // SAFETY: k < len.
    Ok(unsafe { array_get(a, k) })
}

#[inline(always)]
pub fn array_set_prim(a: Value, i: Value, x: Value) -> R {
    let a = array_arg("array-set!", a)?;
    let k = checked_index("array-set!", a, i)?;
    // SAFETY: k < len; the barrier makes `x` storable into the array.
    unsafe { array_set(a, k, crate::graph::barrier::omni_store_barrier(a, x)) };
    Ok(NOTHING)
}

/// `(make-array n)` or `(make-array n fill)`; the fill defaults to nothing.
pub fn make_array(r: *mut Region, args: &[Value]) -> R {
    if args.is_empty() || args.len() > 2 {
        return Err(arg_count("make-array", "1 or 2", args.len()));
    }
    let n = super::int_arg("make-array", args[0])?;
    if n < 0 {
        return Err(expected("make-array", "a non-negative length", args[0]));
    }
    let fill = args.get(1).copied().unwrap_or(NOTHING);
    let n = n as usize;
    if n.saturating_mul(8) > crate::region::MAX_ALLOC_BYTES {
        return Err(format!(
            "out of memory: make-array of {n} elements needs more than {} bytes",
            crate::region::MAX_ALLOC_BYTES
        ));
    }
    Ok(filled_array(r, n, fill))
}

/// A fresh array of `n` copies of `fill`, allocated in place (no
/// intermediate Vec, whose failure would abort): a size the system cannot
/// provide is the error "out of memory" raised by the region.
fn filled_array(r: *mut Region, n: usize, fill: Value) -> Value {
    // SAFETY: `r` is the calling primitive's live region; the fresh array
    // has capacity n, and every slot below n is written before the length
    // is set.
    unsafe {
        let a = crate::heap::object::alloc_array(r, n);
        let data = crate::heap::object::array_data(a);
        for i in 0..n {
            data.add(i).write(fill);
        }
        crate::heap::object::set_field(a, ARRAY_LEN, n as u64);
        a
    }
}

#[inline(always)]
pub fn array_length(a: Value) -> R {
    let a = array_arg("array-length", a)?;
    // SAFETY: checked to be an array.
    Ok(make_int(unsafe { array_len(a) } as i64))
}

pub fn push(a: Value, x: Value) -> R {
    let a = array_arg("push!", a)?;
    // SAFETY: `a` is an array; the primitive runs on the array's owning
    // thread, so its region is usable for the payload growth.
    // The barrier makes `x` storable into the array first.
    unsafe { array_push(a, crate::graph::barrier::omni_store_barrier(a, x)) };
    Ok(NOTHING)
}

pub fn pop(a: Value) -> R {
    let a = array_arg("pop!", a)?;
    // SAFETY: `a` is an array.
    unsafe { array_pop(a) }.ok_or_else(|| "pop!: array is empty".to_owned())
}

prim_variadic!(omni_prim_array => |r: *mut Region, args: &[Value]| -> R { Ok(new_array(r, args)) });
prim_variadic!(omni_prim_make_array => make_array);
prim_fixed!(checked omni_prim_array_ref(a, i) => |_, a, i| array_ref(a, i));
prim_fixed!(checked omni_prim_array_set(a, i, x) => |_, a, i, x| array_set_prim(a, i, x));
prim_fixed!(checked omni_prim_array_length(a) => |_, a| array_length(a));
prim_fixed!(omni_prim_push(a, x) => |_, a, x| push(a, x));
prim_fixed!(omni_prim_pop(a) => |_, a| pop(a));

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::print::display_string;
    use crate::region::region_create;

    #[test]
    fn array_operations_and_errors() {
        let r = region_create();
        let a = new_array(r, &[make_int(1), make_int(2), make_int(3)]);
        assert_eq!(array_ref(a, make_int(2)).unwrap(), make_int(3));
        assert_eq!(
            array_ref(a, make_int(10)).unwrap_err(),
            "array-ref: index 10 out of bounds for array of length 3"
        );
        assert_eq!(
            array_ref(a, make_int(-1)).unwrap_err(),
            "array-ref: index -1 out of bounds for array of length 3"
        );
        assert_eq!(
            array_ref(make_int(1), make_int(0)).unwrap_err(),
            "array-ref: expected an array, got 1"
        );
        assert_eq!(
            array_ref(a, TRUE).unwrap_err(),
            "array-ref: expected an integer index, got true"
        );
        array_set_prim(a, make_int(0), make_int(9)).unwrap();
        for i in 0..10 {
            push(a, make_int(i)).unwrap();
        }
        assert_eq!(display_string(a), "[9 2 3 0 1 2 3 4 5 6 7 8 9]");
        assert_eq!(pop(a).unwrap(), make_int(9));
        let e = make_array(r, &[make_int(0)]).unwrap();
        assert_eq!(pop(e).unwrap_err(), "pop!: array is empty");
        assert_eq!(
            display_string(make_array(r, &[make_int(3), make_int(0)]).unwrap()),
            "[0 0 0]"
        );
        assert_eq!(
            display_string(make_array(r, &[make_int(2)]).unwrap()),
            "[nothing nothing]"
        );
    }
}
