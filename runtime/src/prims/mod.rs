//! The primitive table: every runtime function generated code may call by
//! OmniLisp name, with its exported symbol, arity, allocation behaviour and
//! address.
//!
//! ABI (docs/ARCHITECTURE.md):
//! - `Fixed(n)`: `extern "C" fn(region, a1, …, an, loc: u32) -> Value`
//! - `Variadic { min }`: `extern "C" fn(region, argc, argv, loc: u32) -> Value`
//!
//! Each primitive is written as a plain Rust function returning
//! `Result<Value, String>` (the error message), wrapped by the `prim_fixed!`
//! / `prim_variadic!` macros into the exported `omni_prim_*` symbol that
//! raises the message with the call's location. Tests call the plain
//! functions, so error messages are checked without ending the process.
//! Allocating primitives allocate in the `region` they are given; the
//! others ignore it. Mutators return `nothing`.

pub mod access;
pub mod arith;
pub mod array;
pub mod concurrency;
pub mod dict;
pub mod effects;
pub mod io;
pub mod list;
pub mod misc;
pub mod os;
pub mod pattern;
pub mod predicates;
pub mod string;
pub mod types;

use crate::base::value::*;
use crate::heap::object::*;
use crate::region::Region;
use std::sync::LazyLock;

/// Result of a primitive body: the value, or the error message to raise.
pub type R = Result<Value, String>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrimArity {
    Fixed(u8),
    Variadic { min: u8 },
}

#[derive(Clone, Copy, Debug)]
pub struct PrimDesc {
    /// OmniLisp name (`%add` etc. for the internal binary slow paths).
    pub name: &'static str,
    /// Exported symbol.
    pub symbol: &'static str,
    pub arity: PrimArity,
    /// True when the primitive may allocate in its `region` argument.
    pub allocates: bool,
    /// Whether the result can share structure with an argument (CTRR's
    /// outlives edges from the arguments to the result).
    pub result: PrimResult,
    /// What it does to its arguments (CTRR's store constraints, barrier
    /// report and thread-handoff boundaries).
    pub effect: PrimEffect,
    /// A fast path generated code may emit before calling the primitive.
    pub open_coded: Option<OpenCoded>,
    /// Address of the exported function.
    pub addr: usize,
}

/// Fast paths of primitives that generated code expands inline, falling
/// back to the call for everything else.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpenCoded {
    /// `(array-set! a i x)` on the program thread (the store barrier's
    /// ownership check only concerns spawned threads), with `a` an array,
    /// `i` a fixnum in range and `x` not a heap object (an immediate needs
    /// no barrier): one store.
    ArraySetImmediate,
    /// `(get s 'field)` with a literal symbol key (`s.field`): a struct whose
    /// type the site's field cache holds is read inline; anything else goes
    /// to `omni_field_get`, which fills the cache.
    FieldGet,
    /// `(%put! s 'field v)` (`put! s.field`): through `omni_field_put`,
    /// which finds the field's index through the site's field cache.
    FieldPut,
}

/// The fast path of the primitive named `name`, if generated code has one.
fn open_coded(name: &str) -> Option<OpenCoded> {
    match name {
        "array-set!" => Some(OpenCoded::ArraySetImmediate),
        "get" => Some(OpenCoded::FieldGet),
        "%put!" => Some(OpenCoded::FieldPut),
        _ => None,
    }
}

/// Whether the primitive named `name` reads struct fields, boxing a raw
/// Float field's value (`heap/types.rs`) in its region: its only
/// allocation, a Float, so its allocation site is a Float site to CTRR (a
/// temporary one goes to the lazy Float region). Given a null region it
/// returns `types::NEEDS_REGION` instead of boxing: generated code passes
/// the region only once it exists, and asks again after creating it.
pub fn boxes_raw_floats(name: &str) -> bool {
    matches!(name, "get" | "%struct-ref")
}

/// Whether the only thing the primitive named `name` may allocate is one
/// Float, its result (the raw-field readers, and `sqrt`, which generated
/// code computes inline): its allocation site is a Float site to CTRR,
/// like an inline arithmetic op's.
pub fn allocates_only_a_float(name: &str) -> bool {
    boxes_raw_floats(name) || name == "sqrt"
}

/// Whether a primitive's result may share structure with its arguments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrimResult {
    /// A fresh object, an immediate, an interned symbol or a global
    /// constant: never (part of) an argument.
    Fresh,
    /// May return (part of) any argument.
    MayShareArgs,
}

/// What a primitive does to its arguments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrimEffect {
    /// Reads them (or stores only into objects it allocates itself).
    Pure,
    /// Stores arguments `values` into argument `container`, through the
    /// store barrier (`barrier::omni_store_barrier`).
    Stores {
        container: u8,
        values: &'static [u8],
    },
    /// Stores its arguments into runtime tables of the global region
    /// (method tables, type definitions), through the store barrier.
    StoresGlobal,
    /// A cross-thread escape boundary (docs/REGION_THREADING_MODEL.md).
    Handoff(Handoff),
    /// Calls closures it is given or finds (methods, `try` bodies, effect
    /// handlers, continuations): to CTRR, like a call of an unknown function.
    CallsClosures,
}

/// The cross-thread escape boundaries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Handoff {
    Spawn,
    Send,
    Recv,
    Join,
}

impl Handoff {
    /// The transfer the runtime performs there (for `--dump-ctrr`).
    pub fn describe(self) -> &'static str {
        match self {
            Handoff::Spawn => "spawn capture: the thunk and its captured values are transmigrated into a handoff region the new thread adopts",
            Handoff::Send => "channel send: the value is transmigrated into a handoff region whose reference the channel carries to the receiver",
            Handoff::Recv => "channel receive: the sender's handoff region is adopted and merged into the result region (no copy)",
            Handoff::Join => "join: the thread's result region is adopted and merged into the result region (no copy)",
        }
    }
}

/// The CTRR facts of the primitive named `name`: the one place that says
/// which primitives return fresh values, store, or hand off to a thread.
fn ctrr_facts(name: &str) -> (PrimResult, PrimEffect) {
    use PrimEffect::*;
    let effect = match name {
        "set-car!" | "set-cdr!" | "push!" | "set-box!" => Stores {
            container: 0,
            values: &[1],
        },
        "array-set!" => Stores {
            container: 0,
            values: &[2],
        },
        "dict-set!" => Stores {
            container: 0,
            values: &[1, 2],
        },
        "%put!" => Stores {
            container: 0,
            values: &[2],
        },
        "%make-type" | "%method-add!" => StoresGlobal,
        "spawn" => Handoff(self::Handoff::Spawn),
        "send" => Handoff(self::Handoff::Send),
        "recv" => Handoff(self::Handoff::Recv),
        "join" => Handoff(self::Handoff::Join),
        // `%dispatch` only selects a method (it returns the method's
        // number; the call is compiled apart, `expand/dispatch.rs`): it runs
        // no closure and stores nothing, so it is `Pure`.
        "%dispatch-apply" | "%try" | "%handle" | "%perform" | "%resume" | "apply" => CallsClosures,
        _ => Pure,
    };
    let fresh = matches!(
        name,
        "+" | "-" | "*" | "/" | "quot" | "rem" | "mod" | "%add" | "%sub" | "%mul" | "%div"
            | "%lt" | "%gt" | "%le" | "%ge" | "%numeq" | "%numne" | "=" | "<" | ">" | "<=" | ">="
            | "!=" | "zero?" | "even?" | "odd?" | "sqrt" | "expt" | "number->string"
            | "string->number" | "eq?" | "equal?" | "not" | "list?" | "empty?" | "null?"
            | "pair?" | "length" | "array-length" | "dict-size" | "has-key?" | "str"
            | "string-append" | "string-length" | "substring" | "string-ref" | "string-split"
            | "string-join" | "string-upcase" | "string-downcase" | "string->list"
            | "list->string" | "string->symbol" | "symbol->string" | "char->int" | "int->char"
            | "print" | "println" | "display" | "write" | "newline" | "error" | "read-line"
            | "set-car!" | "set-cdr!" | "array-set!" | "push!" | "dict-set!" | "dict-remove!"
            | "set-box!" | "error-message" | "type?" | "type-of" | "%builtin-type"
            | "%make-type" | "%put!" | "%method-add!" | "%dispatch" | "%caught?"
            // Concurrency: `send` and `spawn` copy their argument into a
            // handoff region, `recv` and `join` adopt a handoff region into
            // the region passed for their result, `chan` and `spawn`
            // allocate a new handle object there (its core is shared by
            // reference count, docs/REGION_THREADING_MODEL.md): no result
            // shares structure with an argument.
            | "spawn" | "join" | "chan" | "send" | "recv" | "close!"
            // The standard library of LANGUAGE.md §10: new strings, Ints,
            // booleans, chars, lists of new strings, `nothing`. (`apply`
            // returns what the function returns: it may share arguments.)
            | "string-trim" | "string-contains?" | "string-index" | "string-replace"
            | "string-starts-with?" | "string-ends-with?" | "string<?" | "string>?"
            | "string=?" | "string-repeat" | "format" | "char-alphabetic?"
            | "char-numeric?" | "char-whitespace?" | "char-upcase" | "char-downcase"
            | "int?" | "float?" | "number?" | "string?" | "symbol?" | "char?" | "bool?"
            | "nothing?" | "array?" | "dict?" | "fn?" | "write-file" | "append-file"
            | "file-exists?" | "read-lines" | "eprintln" | "exit" | "getenv"
            | "current-time-ms" | "random" | "random-seed!"
    );
    let result = if fresh {
        PrimResult::Fresh
    } else {
        PrimResult::MayShareArgs
    };
    (result, effect)
}

/// Define an exported fixed-arity primitive from a body
/// `fn(region, a1..an) -> R`.
macro_rules! prim_fixed {
    // `checked`: the body type-checks every object argument and fails on any
    // other kind (a forwarded original included) before it changes anything,
    // so it runs on the raw arguments and only a failure with a forwarded
    // argument is retried on resolved ones: the hot accessors pay nothing.
    (checked $sym:ident($($a:ident),*) => $body:expr) => {
        /// Exported primitive (fixed arity); raises its error message.
        ///
        /// # Safety
        /// `region` must be a live region usable by the calling thread and
        /// the arguments valid values.
        #[no_mangle]
        pub unsafe extern "C" fn $sym(region: *mut $crate::region::Region, $($a: $crate::base::value::Value,)* loc: u32) -> $crate::base::value::Value {
            /// The cold path: retry on resolved arguments, or raise.
            #[cold]
            #[inline(never)]
            fn retry(region: *mut $crate::region::Region, $($a: $crate::base::value::Value,)* loc: u32, msg: String) -> $crate::base::value::Value {
                if false $(|| $crate::heap::object::is_forwarded($a))* {
                    match $body(region, $($crate::heap::object::resolve($a)),*) {
                        Ok(v) => v,
                        Err(msg) => $crate::base::raise::raise(msg, loc),
                    }
                } else {
                    $crate::base::raise::raise(msg, loc)
                }
            }
            match $body(region, $($a),*) {
                Ok(v) => v,
                Err(msg) => retry(region, $($a,)* loc, msg),
            }
        }
    };
    ($sym:ident($($a:ident),*) => $body:expr) => {
        /// Exported primitive (fixed arity); raises its error message.
        ///
        /// # Safety
        /// `region` must be a live region usable by the calling thread and
        /// the arguments valid values.
        #[no_mangle]
        pub unsafe extern "C" fn $sym(region: *mut $crate::region::Region, $($a: $crate::base::value::Value,)* loc: u32) -> $crate::base::value::Value {
            // Every argument is resolved: a primitive never sees a forwarded
            // original (docs/REGION_DEPENDENCY_RULES.md, "Identity").
            match $body(region, $($crate::heap::object::resolve($a)),*) {
                Ok(v) => v,
                Err(msg) => $crate::base::raise::raise(msg, loc),
            }
        }
    };
}

/// Define an exported variadic primitive from a body `fn(region, &[Value]) -> R`.
macro_rules! prim_variadic {
    ($sym:ident => $body:expr) => {
        /// Exported primitive (variadic); raises its error message.
        ///
        /// # Safety
        /// `region` must be a live region usable by the calling thread and
        /// `argv` must hold `argc` valid values.
        #[no_mangle]
        pub unsafe extern "C" fn $sym(
            region: *mut $crate::region::Region,
            argc: usize,
            argv: *const $crate::base::value::Value,
            loc: u32,
        ) -> $crate::base::value::Value {
            // SAFETY: caller contract: argv holds argc values.
            let raw = unsafe { $crate::control::call::args(argc, argv) };
            let resolved;
            let args = if raw.iter().any(|&v| $crate::heap::object::is_forwarded(v)) {
                resolved = $crate::heap::object::resolve_all(raw);
                &resolved[..]
            } else {
                raw
            };
            match $body(region, args) {
                Ok(v) => v,
                Err(msg) => $crate::base::raise::raise(msg, loc),
            }
        }
    };
}
pub(crate) use {prim_fixed, prim_variadic};

// ------------------------------------------------------------- shared helpers

/// The printed (write) form of `v` for an error message, shortened.
pub fn form(v: Value) -> String {
    crate::graph::print::message_form(v)
}

/// `"<prim>: expected <what>, got <form>"`.
pub fn expected(prim: &str, what: &str, v: Value) -> String {
    format!("{prim}: expected {what}, got {}", form(v))
}

/// Message for a wrong argument count of a variadic primitive.
pub fn arg_count(prim: &str, want: &str, got: usize) -> String {
    let noun = if want.ends_with(" 1") || want == "1" {
        "argument"
    } else {
        "arguments"
    };
    format!("{prim}: expected {want} {noun}, got {got}")
}

// The allocation helpers below rely on the primitive contract: the region a
// primitive receives is live and usable by the calling thread.

pub(crate) fn new_string(r: *mut Region, s: &str) -> Value {
    // SAFETY: primitive contract on `r`.
    unsafe { make_string(r, s) }
}

/// `new_string` of a text whose char count the caller knows (`chars`).
pub(crate) fn new_string_counted(r: *mut Region, s: &str, chars: usize) -> Value {
    // SAFETY: primitive contract on `r`; the caller counted `s`'s chars.
    unsafe { crate::heap::object::make_string_counted(r, s, chars) }
}

pub(crate) fn new_float(r: *mut Region, f: f64) -> Value {
    // SAFETY: primitive contract on `r`.
    unsafe { make_float(r, f) }
}

pub(crate) fn new_list(r: *mut Region, items: &[Value]) -> Value {
    // SAFETY: primitive contract on `r`.
    unsafe { list_from_slice(r, items) }
}

pub(crate) fn new_pair(r: *mut Region, a: Value, d: Value) -> Value {
    // SAFETY: primitive contract on `r`.
    unsafe { alloc_pair(r, a, d) }
}

pub(crate) fn new_array(r: *mut Region, items: &[Value]) -> Value {
    // SAFETY: primitive contract on `r`.
    unsafe { array_from_slice(r, items) }
}

/// The text of a string argument.
pub(crate) fn str_arg<'a>(prim: &str, v: Value) -> Result<&'a str, String> {
    if is_string(v) {
        // SAFETY: checked to be a string; strings are immutable and live as
        // long as the primitive call that reads them.
        Ok(unsafe { string_str(v) })
    } else {
        Err(expected(prim, "a string", v))
    }
}

/// An Int argument.
pub(crate) fn int_arg(prim: &str, v: Value) -> Result<i64, String> {
    if is_int(v) {
        Ok(int_value(v))
    } else {
        Err(expected(prim, "an integer", v))
    }
}

/// A non-negative index argument (an Int; bounds are checked by the caller).
pub(crate) fn index_arg(prim: &str, v: Value) -> Result<i64, String> {
    if is_int(v) {
        Ok(int_value(v))
    } else {
        Err(expected(prim, "an integer index", v))
    }
}

// ------------------------------------------------------------------ the table

macro_rules! desc {
    ($name:literal, $sym:path, $arity:expr, $alloc:literal) => {
        PrimDesc {
            name: $name,
            symbol: {
                let path = stringify!($sym);
                // `stringify!(module::omni_prim_x)` → the bare symbol name.
                match path.rfind("::") {
                    Some(i) => path.split_at(i + 2).1,
                    None => path,
                }
            },
            arity: $arity,
            allocates: $alloc,
            result: ctrr_facts($name).0,
            effect: ctrr_facts($name).1,
            open_coded: open_coded($name),
            addr: $sym as *const () as usize,
        }
    };
}

/// Every primitive, by OmniLisp name. (A `LazyLock` because function
/// addresses cannot be cast to integers in a constant initialiser; deref it
/// as a slice: `PRIMS.iter()`, `&PRIMS[..]`.)
pub static PRIMS: LazyLock<Vec<PrimDesc>> = LazyLock::new(|| {
    use PrimArity::{Fixed, Variadic};
    vec![
        // internal binary slow paths of inline arithmetic
        desc!("%add", arith::omni_prim_add2, Fixed(2), true),
        desc!("spawn", concurrency::omni_prim_spawn, Fixed(1), true),
        desc!("join", concurrency::omni_prim_join, Fixed(1), true),
        desc!(
            "chan",
            concurrency::omni_prim_chan,
            Variadic { min: 0 },
            true
        ),
        desc!("send", concurrency::omni_prim_send, Fixed(2), false),
        desc!("recv", concurrency::omni_prim_recv, Fixed(1), true),
        desc!("close!", concurrency::omni_prim_close, Fixed(1), false),
        desc!("%sub", arith::omni_prim_sub2, Fixed(2), true),
        desc!("%mul", arith::omni_prim_mul2, Fixed(2), true),
        desc!("%div", arith::omni_prim_div2, Fixed(2), true),
        desc!("%lt", arith::omni_prim_lt2, Fixed(2), false),
        desc!("%gt", arith::omni_prim_gt2, Fixed(2), false),
        desc!("%le", arith::omni_prim_le2, Fixed(2), false),
        desc!("%ge", arith::omni_prim_ge2, Fixed(2), false),
        desc!("%numeq", arith::omni_prim_numeq2, Fixed(2), false),
        desc!("%numne", arith::omni_prim_numne2, Fixed(2), false),
        // numbers
        desc!("+", arith::omni_prim_add, Variadic { min: 0 }, true),
        desc!("-", arith::omni_prim_sub, Variadic { min: 1 }, true),
        desc!("*", arith::omni_prim_mul, Variadic { min: 0 }, true),
        desc!("/", arith::omni_prim_div, Variadic { min: 1 }, true),
        desc!("<", arith::omni_prim_lt, Variadic { min: 1 }, false),
        desc!(">", arith::omni_prim_gt, Variadic { min: 1 }, false),
        desc!("<=", arith::omni_prim_le, Variadic { min: 1 }, false),
        desc!(">=", arith::omni_prim_ge, Variadic { min: 1 }, false),
        desc!("=", arith::omni_prim_numeq, Variadic { min: 1 }, false),
        desc!("!=", arith::omni_prim_numne, Variadic { min: 1 }, false),
        desc!("quot", arith::omni_prim_quot, Fixed(2), true),
        desc!("rem", arith::omni_prim_rem, Fixed(2), true),
        desc!("mod", arith::omni_prim_mod, Fixed(2), true),
        desc!("abs", arith::omni_prim_abs, Fixed(1), true),
        desc!("min", arith::omni_prim_min, Variadic { min: 1 }, false),
        desc!("max", arith::omni_prim_max, Variadic { min: 1 }, false),
        desc!("zero?", arith::omni_prim_zero_p, Fixed(1), false),
        desc!("even?", arith::omni_prim_even_p, Fixed(1), false),
        desc!("odd?", arith::omni_prim_odd_p, Fixed(1), false),
        desc!("float", arith::omni_prim_float, Fixed(1), true),
        desc!("int", arith::omni_prim_int, Fixed(1), false),
        desc!("floor", arith::omni_prim_floor, Fixed(1), true),
        desc!("ceil", arith::omni_prim_ceil, Fixed(1), true),
        desc!("round", arith::omni_prim_round, Fixed(1), true),
        desc!("sqrt", arith::omni_prim_sqrt, Fixed(1), true),
        desc!("expt", arith::omni_prim_expt, Fixed(2), true),
        desc!(
            "number->string",
            arith::omni_prim_number_to_string,
            Fixed(1),
            true
        ),
        desc!(
            "string->number",
            arith::omni_prim_string_to_number,
            Fixed(1),
            true
        ),
        // equality
        desc!("eq?", misc::omni_prim_eq_p, Fixed(2), false),
        desc!("equal?", misc::omni_prim_equal_p, Fixed(2), false),
        desc!("not", misc::omni_prim_not, Fixed(1), false),
        // lists
        desc!("cons", list::omni_prim_cons, Fixed(2), true),
        desc!("car", list::omni_prim_car, Fixed(1), false),
        desc!("cdr", list::omni_prim_cdr, Fixed(1), false),
        desc!("first", list::omni_prim_first, Fixed(1), false),
        desc!("rest", list::omni_prim_rest, Fixed(1), false),
        desc!("list", list::omni_prim_list, Variadic { min: 0 }, true),
        desc!("list?", list::omni_prim_list_p, Fixed(1), false),
        desc!("empty?", list::omni_prim_empty_p, Fixed(1), false),
        desc!("null?", list::omni_prim_null_p, Fixed(1), false),
        desc!("pair?", list::omni_prim_pair_p, Fixed(1), false),
        desc!("length", list::omni_prim_length, Fixed(1), false),
        desc!("set-car!", list::omni_prim_set_car, Fixed(2), false),
        desc!("set-cdr!", list::omni_prim_set_cdr, Fixed(2), false),
        // arrays
        desc!("array", array::omni_prim_array, Variadic { min: 0 }, true),
        desc!(
            "make-array",
            array::omni_prim_make_array,
            Variadic { min: 1 },
            true
        ),
        desc!("array-ref", array::omni_prim_array_ref, Fixed(2), false),
        desc!("array-set!", array::omni_prim_array_set, Fixed(3), false),
        desc!(
            "array-length",
            array::omni_prim_array_length,
            Fixed(1),
            false
        ),
        desc!("push!", array::omni_prim_push, Fixed(2), false),
        desc!("pop!", array::omni_prim_pop, Fixed(1), false),
        // dicts
        desc!("dict", dict::omni_prim_dict, Variadic { min: 0 }, true),
        desc!("get", access::omni_prim_get, Variadic { min: 2 }, true),
        desc!("dict-set!", dict::omni_prim_dict_set, Fixed(3), false),
        desc!("dict-remove!", dict::omni_prim_dict_remove, Fixed(2), false),
        desc!("has-key?", dict::omni_prim_has_key_p, Fixed(2), false),
        desc!("keys", dict::omni_prim_keys, Fixed(1), true),
        desc!("values", dict::omni_prim_values, Fixed(1), true),
        desc!("dict-size", dict::omni_prim_dict_size, Fixed(1), false),
        // strings and chars
        desc!("str", string::omni_prim_str, Variadic { min: 0 }, true),
        desc!(
            "string-append",
            string::omni_prim_string_append,
            Variadic { min: 0 },
            true
        ),
        desc!(
            "string-length",
            string::omni_prim_string_length,
            Fixed(1),
            false
        ),
        desc!(
            "substring",
            string::omni_prim_substring,
            Variadic { min: 2 },
            true
        ),
        desc!("string-ref", string::omni_prim_string_ref, Fixed(2), false),
        desc!(
            "string-split",
            string::omni_prim_string_split,
            Variadic { min: 1 },
            true
        ),
        desc!("string-join", string::omni_prim_string_join, Fixed(2), true),
        desc!(
            "string-upcase",
            string::omni_prim_string_upcase,
            Fixed(1),
            true
        ),
        desc!(
            "string-downcase",
            string::omni_prim_string_downcase,
            Fixed(1),
            true
        ),
        desc!(
            "string->list",
            string::omni_prim_string_to_list,
            Fixed(1),
            true
        ),
        desc!(
            "list->string",
            string::omni_prim_list_to_string,
            Fixed(1),
            true
        ),
        desc!(
            "string->symbol",
            string::omni_prim_string_to_symbol,
            Fixed(1),
            false
        ),
        desc!(
            "symbol->string",
            string::omni_prim_symbol_to_string,
            Fixed(1),
            false
        ),
        desc!("char->int", string::omni_prim_char_to_int, Fixed(1), false),
        desc!("int->char", string::omni_prim_int_to_char, Fixed(1), false),
        desc!("string-trim", string::omni_prim_string_trim, Fixed(1), true),
        desc!(
            "string-contains?",
            string::omni_prim_string_contains_p,
            Fixed(2),
            false
        ),
        desc!(
            "string-index",
            string::omni_prim_string_index,
            Fixed(2),
            false
        ),
        desc!(
            "string-replace",
            string::omni_prim_string_replace,
            Fixed(3),
            true
        ),
        desc!(
            "string-starts-with?",
            string::omni_prim_string_starts_with_p,
            Fixed(2),
            false
        ),
        desc!(
            "string-ends-with?",
            string::omni_prim_string_ends_with_p,
            Fixed(2),
            false
        ),
        desc!("string<?", string::omni_prim_string_lt_p, Fixed(2), false),
        desc!("string>?", string::omni_prim_string_gt_p, Fixed(2), false),
        desc!("string=?", string::omni_prim_string_eq_p, Fixed(2), false),
        desc!(
            "string-repeat",
            string::omni_prim_string_repeat,
            Fixed(2),
            true
        ),
        desc!(
            "format",
            string::omni_prim_format,
            Variadic { min: 1 },
            true
        ),
        desc!(
            "char-alphabetic?",
            string::omni_prim_char_alphabetic_p,
            Fixed(1),
            false
        ),
        desc!(
            "char-numeric?",
            string::omni_prim_char_numeric_p,
            Fixed(1),
            false
        ),
        desc!(
            "char-whitespace?",
            string::omni_prim_char_whitespace_p,
            Fixed(1),
            false
        ),
        desc!(
            "char-upcase",
            string::omni_prim_char_upcase,
            Fixed(1),
            false
        ),
        desc!(
            "char-downcase",
            string::omni_prim_char_downcase,
            Fixed(1),
            false
        ),
        // type predicates
        desc!("int?", predicates::omni_prim_int_p, Fixed(1), false),
        desc!("float?", predicates::omni_prim_float_p, Fixed(1), false),
        desc!("number?", predicates::omni_prim_number_p, Fixed(1), false),
        desc!("string?", predicates::omni_prim_string_p, Fixed(1), false),
        desc!("symbol?", predicates::omni_prim_symbol_p, Fixed(1), false),
        desc!("char?", predicates::omni_prim_char_p, Fixed(1), false),
        desc!("bool?", predicates::omni_prim_bool_p, Fixed(1), false),
        desc!("nothing?", predicates::omni_prim_nothing_p, Fixed(1), false),
        desc!("array?", predicates::omni_prim_array_p, Fixed(1), false),
        desc!("dict?", predicates::omni_prim_dict_p, Fixed(1), false),
        desc!("fn?", predicates::omni_prim_fn_p, Fixed(1), false),
        // calling
        desc!("apply", misc::omni_prim_apply, Variadic { min: 2 }, true),
        // files, environment, process (os.rs)
        desc!("write-file", os::omni_prim_write_file, Fixed(2), false),
        desc!("append-file", os::omni_prim_append_file, Fixed(2), false),
        desc!("file-exists?", os::omni_prim_file_exists_p, Fixed(1), false),
        desc!("read-lines", os::omni_prim_read_lines, Fixed(1), true),
        desc!(
            "eprintln",
            os::omni_prim_eprintln,
            Variadic { min: 0 },
            false
        ),
        desc!("exit", os::omni_prim_exit, Fixed(1), false),
        desc!("getenv", os::omni_prim_getenv, Fixed(1), true),
        desc!(
            "current-time-ms",
            os::omni_prim_current_time_ms,
            Fixed(0),
            false
        ),
        desc!("random", os::omni_prim_random, Fixed(1), false),
        desc!("random-seed!", os::omni_prim_random_seed, Fixed(1), false),
        // boxes
        desc!("box", misc::omni_prim_box, Fixed(1), true),
        desc!("unbox", misc::omni_prim_unbox, Fixed(1), false),
        desc!("set-box!", misc::omni_prim_set_box, Fixed(2), false),
        // output, errors, program
        desc!("print", io::omni_prim_print, Variadic { min: 0 }, false),
        desc!("println", io::omni_prim_println, Variadic { min: 0 }, false),
        desc!("display", io::omni_prim_display, Fixed(1), false),
        desc!("write", io::omni_prim_write, Fixed(1), false),
        desc!("newline", io::omni_prim_newline, Fixed(0), false),
        desc!("read-line", io::omni_prim_read_line, Fixed(0), true),
        desc!("read-file", io::omni_prim_read_file, Fixed(1), true),
        desc!(
            "command-line-args",
            io::omni_prim_command_line_args,
            Fixed(0),
            true
        ),
        desc!("error", misc::omni_prim_error, Variadic { min: 0 }, false),
        desc!(
            "error-message",
            misc::omni_prim_error_message,
            Fixed(1),
            false
        ),
        // types, structs, dispatch (prims/types.rs)
        desc!("type?", types::omni_prim_type_p, Fixed(2), false),
        desc!("type-of", types::omni_prim_type_of, Fixed(1), false),
        desc!(
            "%builtin-type",
            types::omni_prim_builtin_type,
            Fixed(1),
            false
        ),
        desc!("%make-type", types::omni_prim_make_type, Fixed(5), false),
        desc!(
            "%struct-new",
            types::omni_prim_struct_new,
            Variadic { min: 1 },
            true
        ),
        desc!("%struct-ref", types::omni_prim_struct_ref, Fixed(2), true),
        desc!("%check-type", types::omni_prim_check_type, Fixed(3), false),
        desc!("%put!", access::omni_prim_put, Fixed(3), false),
        desc!("%method-add!", types::omni_prim_method_add, Fixed(2), false),
        desc!(
            "%dispatch",
            types::omni_prim_dispatch,
            Variadic { min: 2 },
            false
        ),
        desc!(
            "%dispatch-apply",
            types::omni_prim_dispatch_apply,
            Fixed(3),
            true
        ),
        // errors and effects (effects.rs)
        desc!("%try", effects::omni_prim_try_run, Fixed(1), true),
        desc!("%caught?", effects::omni_prim_caught_p, Fixed(0), false),
        desc!(
            "%handle",
            effects::omni_prim_handle_run,
            Variadic { min: 1 },
            true
        ),
        desc!("%escaped", effects::omni_prim_escaped, Fixed(0), false),
        desc!("%perform", effects::omni_prim_perform, Fixed(2), false),
        desc!("%resume", effects::omni_prim_resume, Fixed(2), true),
        desc!(
            "%resume-tail",
            effects::omni_prim_resume_tail,
            Fixed(2),
            false
        ),
        // the cold path of `set!` of a boxed variable (a spawned thread's
        // capture guards: concurrency.rs)
        desc!("%set-var!", concurrency::omni_prim_set_var, Fixed(2), false),
        // match (expand/pattern.rs)
        desc!(
            "%match-len=",
            pattern::omni_prim_match_len_eq,
            Fixed(2),
            false
        ),
        desc!(
            "%match-len>=",
            pattern::omni_prim_match_len_ge,
            Fixed(2),
            false
        ),
        desc!("%match-ref", pattern::omni_prim_match_ref, Fixed(2), false),
        desc!("%match-drop", pattern::omni_prim_match_drop, Fixed(2), true),
        desc!(
            "%match-dict-keys?",
            pattern::omni_prim_match_dict_keys,
            Variadic { min: 1 },
            false
        ),
        desc!(
            "%match-fail",
            pattern::omni_prim_match_fail,
            Fixed(1),
            false
        ),
    ]
});

/// The index of a primitive in [`PRIMS`] (what the IR names a primitive by).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PrimId(pub u16);

impl PrimId {
    /// The primitive's descriptor (`self` comes from [`lookup_id`]).
    pub fn desc(self) -> &'static PrimDesc {
        &PRIMS[self.0 as usize]
    }
    /// The descriptor, or `None` for an index outside the table.
    pub fn get(self) -> Option<&'static PrimDesc> {
        PRIMS.get(self.0 as usize)
    }
}

/// The index of the primitive named `name`.
pub fn lookup_id(name: &str) -> Option<PrimId> {
    PRIMS
        .iter()
        .position(|d| d.name == name)
        .map(|i| PrimId(i as u16))
}

/// The descriptor of the primitive named `name` (OmniLisp name).
pub fn lookup(name: &str) -> Option<&'static PrimDesc> {
    PRIMS.iter().find(|d| d.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every primitive the table says stores goes through the store helper:
    /// a young value stored into an old container comes back repaired (in a
    /// region at least as old as the container), and the young original
    /// stands for it. A storing primitive added to the table without a case
    /// here fails the test.
    #[test]
    fn every_storing_primitive_calls_the_store_helper() {
        use crate::heap::dict::dict_get;
        use crate::heap::object::resolve;
        use crate::heap::types::struct_get;
        use crate::region::{is_older_or_same, region_create, region_exit, region_of};
        type Fixed2 = unsafe extern "C" fn(*mut Region, Value, Value, u32) -> Value;
        type Fixed3 = unsafe extern "C" fn(*mut Region, Value, Value, Value, u32) -> Value;
        let storing: Vec<&PrimDesc> = PRIMS
            .iter()
            .filter(|d| matches!(d.effect, PrimEffect::Stores { .. }))
            .collect();
        assert!(storing.len() >= 7, "{storing:?}");
        for d in storing {
            let PrimEffect::Stores { values, .. } = d.effect else {
                unreachable!()
            };
            let old = region_create();
            let young = region_create();
            let fresh = || new_list(young, &[make_int(1), make_int(2)]);
            let (x, k) = (fresh(), new_string(young, "key"));
            let container = match d.name {
                "set-car!" | "set-cdr!" => new_pair(old, NIL, NIL),
                "push!" => new_array(old, &[]),
                "array-set!" => new_array(old, &[NIL]),
                // SAFETY: `old` is a live region of this thread.
                "set-box!" => unsafe { alloc_box(old, NIL) },
                // SAFETY: as above.
                "dict-set!" => unsafe { crate::heap::dict::alloc_dict(old, 0) },
                "%put!" => {
                    let g = crate::region::global_region();
                    let any = crate::heap::types::builtin(crate::heap::types::ANY);
                    let ty = types::make_type(
                        intern("Cell"),
                        NOTHING,
                        make_int(2),
                        new_list(g, &[intern("v")]),
                        new_list(g, &[any]),
                    )
                    .unwrap();
                    types::struct_new(old, &[ty, NIL]).unwrap()
                }
                other => panic!("storing primitive `{other}` has no case in this test"),
            };
            /// The stored value (and, for a dict, the stored key).
            ///
            /// # Safety
            /// `c` is the container made above for primitive `name`, after the store.
            unsafe fn read_back(name: &str, c: Value) -> Vec<Value> {
                // SAFETY: each container has the kind its primitive stores into,
                // and holds the one value (entry) stored.
                unsafe {
                    match name {
                        "set-car!" => vec![car(c)],
                        "set-cdr!" => vec![cdr(c)],
                        "push!" | "array-set!" => vec![array_get(c, 0)],
                        "set-box!" => vec![box_get(c)],
                        "dict-set!" => {
                            let key = crate::heap::dict::dict_entries(c)[0].0;
                            vec![dict_get(c, key).unwrap(), key]
                        }
                        _ => vec![struct_get(c, 0, std::ptr::null_mut())],
                    }
                }
            }
            // SAFETY: the addresses are the primitives' exported functions,
            // with the fixed-arity primitive ABI of their arity.
            unsafe {
                match (d.name, d.arity) {
                    ("array-set!", PrimArity::Fixed(3)) => {
                        std::mem::transmute::<usize, Fixed3>(d.addr)(
                            old,
                            container,
                            make_int(0),
                            x,
                            0,
                        );
                    }
                    ("dict-set!", PrimArity::Fixed(3)) => {
                        std::mem::transmute::<usize, Fixed3>(d.addr)(old, container, k, x, 0);
                    }
                    ("%put!", PrimArity::Fixed(3)) => {
                        std::mem::transmute::<usize, Fixed3>(d.addr)(
                            old,
                            container,
                            intern("v"),
                            x,
                            0,
                        );
                    }
                    (_, PrimArity::Fixed(2)) => {
                        std::mem::transmute::<usize, Fixed2>(d.addr)(old, container, x, 0);
                    }
                    (name, arity) => panic!("`{name}`: unexpected arity {arity:?}"),
                }
            }
            // SAFETY: the store above has run on `container`.
            let stored = unsafe { read_back(d.name, container) };
            assert_eq!(stored.len(), values.len(), "{}", d.name);
            for (v, original) in stored.iter().zip([x, k]) {
                // SAFETY: the stored values are live objects.
                unsafe {
                    assert!(
                        is_older_or_same(region_of(*v), old),
                        "`{}` stored a young value without the store helper",
                        d.name
                    );
                }
                assert_eq!(resolve(original), *v, "`{}`: one object", d.name);
            }
            // SAFETY: both regions were created above and are exited once.
            unsafe {
                region_exit(young);
                region_exit(old);
            }
        }
    }

    #[test]
    fn table_is_consistent() {
        let mut names = std::collections::HashSet::new();
        let mut symbols = std::collections::HashSet::new();
        for d in PRIMS.iter() {
            assert!(names.insert(d.name), "duplicate name {}", d.name);
            assert!(symbols.insert(d.symbol), "duplicate symbol {}", d.symbol);
            assert!(d.symbol.starts_with("omni_prim_"), "{}", d.symbol);
            assert_ne!(d.addr, 0);
        }
        assert_eq!(lookup("%add").unwrap().symbol, "omni_prim_add2");
        assert_eq!(lookup("get").unwrap().arity, PrimArity::Variadic { min: 2 });
        assert!(lookup("no-such-prim").is_none());
        for needed in [
            "%add", "%sub", "%mul", "%lt", "%gt", "%le", "%ge", "%numeq", "%numne", "car", "cdr",
        ] {
            assert!(lookup(needed).is_some(), "{needed}");
        }
    }

    #[test]
    fn message_forms_are_shortened() {
        let r = crate::region::region_create();
        let long = new_string(r, &"x".repeat(1000));
        let m = expected("f", "a number", long);
        assert!(m.len() < 300 && m.ends_with("..."), "{m}");
        assert_eq!(
            expected("+", "a number", new_string(r, "a")),
            "+: expected a number, got \"a\""
        );
    }
}
