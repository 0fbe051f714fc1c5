//! Equality, boxes, errors and `apply`.
//!
//! `(apply f a ... xs)` calls `f` (any callable) with the arguments `a ...`
//! followed by the elements of the list or array `xs`, through the apply
//! trampoline: a non-function or a wrong argument count raises the same
//! error as a direct call.
//!
//! `(error a b ...)` raises with the concatenated display forms of its
//! arguments as the message; `error-message` reads the message of a caught
//! error object (a string is accepted as its own message).

use super::{expected, prim_fixed, prim_variadic, R};
use crate::base::value::*;
use crate::heap::dict::values_equal;
use crate::heap::error_obj::{error_message, is_error};
use crate::heap::object::*;
use crate::region::Region;

/// The message `(error args...)` raises.
pub fn error_text(args: &[Value]) -> String {
    super::io::display_all(args, false)
}

pub fn unbox(b: Value) -> R {
    if is_box(b) {
        // SAFETY: checked to be a box.
        Ok(unsafe { box_get(b) })
    } else {
        Err(expected("unbox", "a box", b))
    }
}

pub fn set_box(b: Value, v: Value) -> R {
    if is_box(b) {
        // SAFETY: checked to be a box; the barrier makes `v` storable into it.
        unsafe { box_set(b, crate::graph::barrier::omni_store_barrier(b, v)) };
        Ok(NOTHING)
    } else {
        Err(expected("set-box!", "a box", b))
    }
}

pub fn message_of(e: Value) -> R {
    if is_error(e) {
        // SAFETY: checked to be an error object.
        Ok(unsafe { error_message(e) })
    } else if is_string(e) {
        Ok(e)
    } else {
        Err(expected("error-message", "an error", e))
    }
}

fn new_box(r: *mut Region, v: Value) -> R {
    // SAFETY: primitive contract on `r`.
    Ok(unsafe { alloc_box(r, v) })
}

// Two Floats are `eq?` when their bits are: a Float has no identity beyond
// its value (a struct field declared {Float} holds the f64 and boxes each
// read), so every path to a stored Float gives an `eq?` one (LANGUAGE.md §6).
prim_fixed!(omni_prim_eq_p(a, b) => |_, a, b| Ok(make_bool(
    a == b
        || crate::heap::handles::same_handle(a, b)
        // SAFETY: checked to be Floats.
        || (is_float(a) && is_float(b) && unsafe { float_value(a).to_bits() == float_value(b).to_bits() })
)));
prim_fixed!(omni_prim_equal_p(a, b) => |_, a, b| Ok(make_bool(values_equal(a, b))));
prim_fixed!(omni_prim_not(v) => |_, v| Ok(make_bool(!truthy(v))));
prim_fixed!(omni_prim_box(v) => new_box);
prim_fixed!(omni_prim_unbox(b) => |_, b| unbox(b));
prim_fixed!(omni_prim_set_box(b, v) => |_, b, v| set_box(b, v));
prim_variadic!(omni_prim_error => |_, args| Err(error_text(args)));
prim_fixed!(omni_prim_error_message(e) => |_, e| message_of(e));

/// The argument list of `(apply f a ... xs)`: the leading arguments
/// consed (in `r`) onto `xs` (a list, shared, or an array, copied).
pub fn apply_arguments(r: *mut Region, args: &[Value]) -> R {
    if args.len() < 2 {
        return Err(super::arg_count("apply", "at least 2", args.len()));
    }
    let (&last, leading) = args[1..].split_last().expect("at least 2 arguments");
    let mut list = if is_array(last) {
        // SAFETY: checked to be an array.
        super::new_list(r, &resolve_all(unsafe { array_slice(last) }))
    } else if list_to_vec(last).is_some() {
        last
    } else {
        return Err(expected("apply", "a list or array of arguments", last));
    };
    for &a in leading.iter().rev() {
        list = super::new_pair(r, a, list);
    }
    Ok(list)
}

/// Exported `apply` (variadic; needs the call's location for the call).
///
/// # Safety
/// `region` must be a live region usable by the calling thread and `argv`
/// must hold `argc` valid values.
#[no_mangle]
pub unsafe extern "C" fn omni_prim_apply(
    region: *mut Region,
    argc: usize,
    argv: *const Value,
    loc: u32,
) -> Value {
    // SAFETY: caller contract: argv holds argc values.
    let args = resolve_all(unsafe { crate::control::call::args(argc, argv) });
    match apply_arguments(region, &args) {
        Ok(list) => crate::control::call::apply_closure(args[0], region, list, loc),
        Err(msg) => crate::base::raise::raise(msg, loc),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prims::new_string;
    use crate::region::region_create;

    #[test]
    fn error_and_box() {
        let r = region_create();
        assert_eq!(
            error_text(&[new_string(r, "bad thing: "), make_int(5)]),
            "bad thing: 5"
        );
        let b = new_box(r, make_int(1)).unwrap();
        set_box(b, make_int(2)).unwrap();
        assert_eq!(unbox(b).unwrap(), make_int(2));
        assert_eq!(
            unbox(make_int(2)).unwrap_err(),
            "unbox: expected a box, got 2"
        );
        // SAFETY: fresh region.
        let e = unsafe { crate::heap::error_obj::make_error(r, "boom") };
        assert_eq!(
            crate::graph::print::display_string(message_of(e).unwrap()),
            "boom"
        );
        assert_eq!(
            message_of(TRUE).unwrap_err(),
            "error-message: expected an error, got true"
        );
    }

    #[test]
    fn apply_argument_lists() {
        let r = region_create();
        let f = intern("f");
        let xs = crate::prims::new_list(r, &[make_int(3)]);
        let list = apply_arguments(r, &[f, make_int(1), make_int(2), xs]).unwrap();
        assert_eq!(crate::graph::print::write_string(list), "(1 2 3)");
        // `(apply f xs)` passes the list itself.
        assert_eq!(apply_arguments(r, &[f, xs]).unwrap(), xs);
        let arr = crate::prims::new_array(r, &[make_int(4)]);
        let from_array = apply_arguments(r, &[f, make_int(0), arr]).unwrap();
        assert_eq!(crate::graph::print::write_string(from_array), "(0 4)");
        assert_eq!(
            apply_arguments(r, &[f, make_int(1)]).unwrap_err(),
            "apply: expected a list or array of arguments, got 1"
        );
        assert_eq!(
            apply_arguments(r, &[f]).unwrap_err(),
            "apply: expected at least 2 arguments, got 1"
        );
    }
}
