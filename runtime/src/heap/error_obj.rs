//! The error object: `[hdr][message: String value]`, what `catch` binds
//! and what `error?`/`error-message` read. Raising an error is
//! `base::raise`; this is only the value.

use crate::base::value::{ObjKind, Value};
use crate::heap::object::{field, is_kind, is_string, make_string, set_field};
use crate::region::{alloc_object, Region};

/// Error object: `[hdr][message: String value]` — what `catch` binds.
pub const ERROR_MESSAGE: i32 = 8;
pub const ERROR_SIZE: usize = 16;

/// Allocate an error object carrying `msg` in `r`.
///
/// # Safety
/// `r` must be a live region usable by the calling thread.
pub unsafe fn make_error(r: *mut Region, msg: &str) -> Value {
    // SAFETY: ERROR_SIZE bytes, the one field written here.
    unsafe {
        let s = make_string(r, msg);
        let p = alloc_object(r, ObjKind::Error, ERROR_SIZE) as Value;
        set_field(p, ERROR_MESSAGE, s);
        p
    }
}

#[inline]
pub fn is_error(v: Value) -> bool {
    is_kind(v, ObjKind::Error)
}

/// The message string of an error object.
///
/// # Safety
/// `e` must be an error object.
pub unsafe fn error_message(e: Value) -> Value {
    // SAFETY: error objects hold the message at ERROR_MESSAGE.
    crate::heap::object::resolve(unsafe { field(e, ERROR_MESSAGE) })
}

/// # Safety
/// `obj` must be an error object.
pub unsafe fn trace_error(obj: Value, visit: &mut dyn FnMut(*mut Value)) {
    visit((obj as usize + ERROR_MESSAGE as usize) as *mut Value);
}

/// # Safety
/// `obj` must be an error object and `dst` a live region.
pub unsafe fn clone_error(obj: Value, dst: *mut Region) -> Value {
    // SAFETY: same shape; the message word is copied unchanged.
    unsafe {
        let p = alloc_object(dst, ObjKind::Error, ERROR_SIZE) as Value;
        set_field(p, ERROR_MESSAGE, error_message(obj));
        debug_assert!(is_string(error_message(obj)));
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_objects_carry_their_message() {
        let r = crate::region::region_create();
        // SAFETY: fresh region.
        unsafe {
            let e = make_error(r, "bad thing: 5");
            assert!(is_error(e));
            assert_eq!(
                crate::heap::object::string_str(error_message(e)),
                "bad thing: 5"
            );
            let c = clone_error(e, r);
            assert_eq!(error_message(c), error_message(e));
        }
    }
}
