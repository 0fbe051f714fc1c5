//! Calling closures from runtime code, and the call-site support generated
//! code uses: the apply trampoline ([`apply_closure`]), argument-list
//! unpacking for `apply`, variadic calls with a list, and the call-site
//! errors (not a function, unbound variable, wrong number of arguments).
//!
//! Generated code is called from here through the *apply trampoline*: a
//! SysV function the code generator emits and registers at start-up
//! (`omni_rt_set_apply_trampoline`), which calls a closure's generic `apply`
//! entry (Cranelift `tail` convention) with an argument list.

use crate::base::raise::raise;
use crate::base::value::*;
use crate::graph::print::{display_string, message_form};
use crate::heap::object::*;
use crate::region::Region;
use std::sync::atomic::{AtomicUsize, Ordering};

// ------------------------------------------------------- apply trampoline

/// `extern "C" fn(closure, region, args_list, loc) -> value`.
type ApplyTrampoline = extern "C" fn(Value, *mut Region, Value, u64) -> Value;

static APPLY_TRAMPOLINE: AtomicUsize = AtomicUsize::new(0);

/// Register the generated apply trampoline (called by `omni_init`).
#[no_mangle]
pub extern "C" fn omni_rt_set_apply_trampoline(addr: usize) {
    APPLY_TRAMPOLINE.store(addr, Ordering::Release);
}

/// The registered apply trampoline (0: none), for the REPL to restore it
/// when it frees the module that registered a newer one.
pub fn apply_trampoline_address() -> usize {
    APPLY_TRAMPOLINE.load(Ordering::Acquire)
}

/// Call closure `f` with the elements of `list` as arguments; its result
/// goes to region `r`. Raises "not a function" / arity errors like a call.
pub fn apply_closure(f: Value, r: *mut Region, list: Value, loc: u32) -> Value {
    let f = resolve(f);
    if !crate::heap::object::is_closure(f) {
        crate::base::raise::raise(crate::control::call::not_fn_message(f), loc);
    }
    let t = APPLY_TRAMPOLINE.load(Ordering::Acquire);
    if t == 0 {
        crate::base::fatal::fatal(format_args!(
            "internal: no apply trampoline registered (the program was not started by omni_init)"
        ));
    }
    // SAFETY: only `omni_rt_set_apply_trampoline` stores a non-zero word,
    // and generated start-up code passes the trampoline's address.
    let t: ApplyTrampoline = unsafe { std::mem::transmute::<usize, ApplyTrampoline>(t) };
    t(f, r, list, loc as u64)
}

// ------------------------------------------------------- argument vectors
/// Argument vector as a slice (empty when argc is 0, whatever argv is).
///
/// # Safety
/// `argv` must point at `argc` values when `argc > 0`.
pub unsafe fn args<'a>(argc: usize, argv: *const Value) -> &'a [Value] {
    if argc == 0 {
        &[]
    } else {
        // SAFETY: caller contract.
        unsafe { std::slice::from_raw_parts(argv, argc) }
    }
}

// ------------------------------------------------------------ apply support

/// "wrong number of arguments to f: expected 2, got 3" (at least N for a
/// closure with a rest parameter).
pub fn arity_message(closure: Value, got: u64) -> String {
    let (name, info) = if is_closure(closure) {
        // SAFETY: only read when `closure` is a closure.
        let (name, info, code) = unsafe {
            (
                closure_display_name(closure),
                closure_info_word(closure),
                crate::heap::object::field(closure, CLOSURE_CODE),
            )
        };
        // An anonymous function is named by its place (`fn@FILE:LINE:COL`,
        // from the code table) when the program registered one.
        let name = match name.as_str() {
            "lambda" => crate::control::backtrace::function_name_at(code as usize).unwrap_or(name),
            _ => name,
        };
        (name, info)
    } else {
        (message_form(closure), 0)
    };
    let arity = info & 0xFFFF;
    let rest = (info >> 16) & CLOSURE_FLAG_REST != 0;
    let expected = if rest {
        format!("at least {arity}")
    } else {
        arity.to_string()
    };
    format!("wrong number of arguments to {name}: expected {expected}, got {got}")
}

/// Unpack `list` for the closure's `code` entry: the fixed arguments, then
/// (with a rest parameter) the remaining tail of `list`, shared, not copied.
/// Returns the message on a count mismatch or an improper list.
///
/// # Safety
/// `closure` must be a closure; `out` must have room for arity (+1) values.
pub unsafe fn apply_unpack(closure: Value, list: Value, out: *mut Value) -> Result<(), String> {
    let (closure, list) = (resolve(closure), resolve(list));
    // SAFETY: `closure` is a closure; writes stay below arity(+1) slots.
    unsafe {
        let info = closure_info_word(closure);
        let arity = (info & 0xFFFF) as usize;
        let rest = (info >> 16) & CLOSURE_FLAG_REST != 0;
        let mut cur = list;
        for i in 0..arity {
            if !is_pair(cur) {
                let got = list_to_vec(list).map(|v| v.len()).unwrap_or(i);
                return Err(arity_message(closure, got as u64));
            }
            *out.add(i) = car(cur);
            cur = cdr(cur);
        }
        if rest {
            *out.add(arity) = cur;
        } else if cur != NIL {
            let got = list_to_vec(list).map(|v| v.len()).unwrap_or(arity + 1);
            return Err(arity_message(closure, got as u64));
        }
        Ok(())
    }
}

/// See [`apply_unpack`]; raises the arity error.
///
/// # Safety
/// `closure` must be a closure; `out` must have room for arity (+1) values.
#[no_mangle]
pub unsafe extern "C" fn omni_rt_apply_unpack(
    closure: Value,
    list: Value,
    out: *mut Value,
    loc: u32,
) {
    // SAFETY: forwarded contract.
    if let Err(msg) = unsafe { apply_unpack(closure, list, out) } {
        raise(msg, loc);
    }
}

/// The ABI of variadic primitives.
pub type VariadicFn = extern "C" fn(*mut Region, usize, *const Value, u32) -> Value;

/// Call the variadic primitive at `fnptr` with the elements of `list`.
///
/// # Safety
/// `fnptr` must be a variadic primitive's address; `region` must be live.
#[no_mangle]
pub unsafe extern "C" fn omni_rt_call_variadic_list(
    fnptr: usize,
    region: *mut Region,
    list: Value,
    loc: u32,
) -> Value {
    let Some(items) = list_to_vec(list) else {
        raise(
            format!(
                "apply: expected a list of arguments, got {}",
                message_form(list)
            ),
            loc,
        )
    };
    // SAFETY: caller contract: fnptr has the variadic primitive ABI.
    let f: VariadicFn = unsafe { std::mem::transmute::<usize, VariadicFn>(fnptr) };
    f(region, items.len(), items.as_ptr(), loc)
}

/// The object a forwarded original stands for (generated code calls this on
/// the cold path of a kind test that met a forwarded object).
#[no_mangle]
pub extern "C" fn omni_rt_resolve(v: Value) -> Value {
    resolve(v)
}

/// Message for calling a non-function.
pub fn not_fn_message(v: Value) -> String {
    format!("not a function: {}", message_form(v))
}

#[no_mangle]
pub extern "C" fn omni_rt_err_not_fn(v: Value, loc: u32) -> ! {
    raise(not_fn_message(v), loc)
}

/// Message for reading an unbound variable.
pub fn unbound_message(name_sym: Value) -> String {
    format!("unbound variable: {}", display_string(name_sym))
}

#[no_mangle]
pub extern "C" fn omni_rt_err_unbound(name_sym: Value, loc: u32) -> ! {
    raise(unbound_message(name_sym), loc)
}

#[no_mangle]
pub extern "C" fn omni_rt_err_arity(closure: Value, got: u64, loc: u32) -> ! {
    raise(arity_message(closure, got), loc)
}
