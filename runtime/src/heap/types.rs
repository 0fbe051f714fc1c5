//! Types as values and struct instances (LANGUAGE.md §4).
//!
//! A **type object** (`ObjKind::Type`) lives in the global region for the
//! whole program and is compared by identity (like a symbol):
//! `[hdr][name: Symbol][parent: Type | nothing][info: word][fields: List of
//! Symbols][field types: List of Types][raw Float mask: word][dispatch
//! cache: 2 ways of 3 raw words]`.
//! `info` holds the built-in id (0 for user types) in bits 0..8 and the
//! flags `ABSTRACT`, `STRUCT`, `MUTABLE` above them. The built-in hierarchy
//! is `Any ⊃ Nothing Bool Number(abstract: Int Float) Char String Symbol List
//! Array Dict Function Channel Thread Type Box Error`; built-in types are
//! created on first use ([`builtin`]).
//!
//! A **struct instance** (`ObjKind::Struct`) is `[hdr][type][field 0]…[field n-1]`;
//! it lives in whatever region its constructor's allocation site chose.
//! A field declared `{Float}` (one of the first 64) is a **raw slot**: it
//! holds the f64's bits, not a value word (the declared type guarantees
//! every stored value is a Float, which the constructor and `put!` check),
//! so storing a Float there allocates nothing and needs no barrier, and a
//! replaced Float leaves no garbage. The type's raw Float mask says which
//! slots are raw; every reader of struct slots goes through [`struct_slot`]
//! / [`struct_get`] (or checks the mask), and the tracer skips raw slots
//! (docs/REGION_RC_MODEL.md, "Raw Float fields").
//! Field writes of mutable structs go through the store barrier, which is
//! why `struct_set` and `make_user_type` live in `prims/types.rs`: this
//! file is layouts and accessors only, and never calls the barrier.

use crate::base::value::*;
use crate::heap::object::{
    field, fixed_list_items, intern, is_closure, is_kind, kind_of, resolve, set_field, symbol_name,
};
use crate::region::{alloc_object, global_region, Region};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

pub const TYPE_NAME: i32 = 8;
pub const TYPE_PARENT: i32 = 16;
pub const TYPE_INFO: i32 = 24;
pub const TYPE_FIELDS: i32 = 32;
/// Struct types: the declared type of each field (a List of types, `Any`
/// for unannotated fields), parallel to `TYPE_FIELDS`.
pub const TYPE_FIELD_TYPES: i32 = 40;
/// Struct types: bit `i` set when field `i` (< 64) is declared `Float`
/// and its slot holds raw f64 bits ([`type_raw_floats`]).
pub const TYPE_RAW_FLOATS: i32 = 48;
/// The type's dispatch cache (raw words, never traced), two ways of three
/// words: the key of the generic function whose selection for a first
/// argument of this type is cached (its method table's address with the
/// call's argument count in the low bits, 0 for none), the method-table
/// version the selection was made at, and the selected method's number.
/// The offsets are way 0's; way `w` is `w * TYPE_DISPATCH_WAY` bytes on.
/// Filled and read only by the program thread (prims/types.rs, "type
/// dispatch caches").
pub const TYPE_DISPATCH_KEY: i32 = 56;
pub const TYPE_DISPATCH_VERSION: i32 = 64;
pub const TYPE_DISPATCH_J: i32 = 72;
pub const TYPE_DISPATCH_WAY: i32 = 24;
pub const TYPE_DISPATCH_WAYS: usize = 2;
pub const TYPE_SIZE: usize = TYPE_DISPATCH_KEY as usize + TYPE_DISPATCH_WAYS * 24;
/// Fields past this many are never raw (the mask is one word).
pub const RAW_FLOAT_FIELDS_MAX: usize = 64;

pub const TYPE_FLAG_ABSTRACT: u64 = 1 << 8;
pub const TYPE_FLAG_STRUCT: u64 = 1 << 9;
pub const TYPE_FLAG_MUTABLE: u64 = 1 << 10;
/// An effect (`(define {effect ask})`): a type-like named value handlers
/// match by identity.
pub const TYPE_FLAG_EFFECT: u64 = 1 << 11;

/// Struct instance: the type word, then the fields.
pub const STRUCT_TYPE: i32 = 8;
pub const STRUCT_FIELDS: i32 = 16;

/// Built-in types: `(id, name, parent id, abstract)`. Ids are 1-based
/// indexes into this table.
const BUILTINS: &[(&str, u8, bool)] = &[
    ("Any", 0, true),       // 1
    ("Nothing", 1, false),  // 2
    ("Bool", 1, false),     // 3
    ("Number", 1, true),    // 4
    ("Int", 4, false),      // 5
    ("Float", 4, false),    // 6
    ("Char", 1, false),     // 7
    ("String", 1, false),   // 8
    ("Symbol", 1, false),   // 9
    ("List", 1, false),     // 10
    ("Array", 1, false),    // 11
    ("Dict", 1, false),     // 12
    ("Function", 1, false), // 13
    ("Channel", 1, false),  // 14
    ("Thread", 1, false),   // 15
    ("Type", 1, false),     // 16
    ("Box", 1, false),      // 17
    ("Error", 1, false),    // 18
];

pub const ANY: u8 = 1;
pub const NOTHING_T: u8 = 2;
pub const BOOL: u8 = 3;
pub const INT: u8 = 5;
pub const FLOAT: u8 = 6;
pub const CHAR: u8 = 7;
pub const STRING: u8 = 8;
pub const SYMBOL: u8 = 9;
pub const LIST: u8 = 10;
pub const ARRAY: u8 = 11;
pub const DICT: u8 = 12;
pub const FUNCTION: u8 = 13;
pub const CHANNEL: u8 = 14;
pub const THREAD: u8 = 15;
pub const TYPE: u8 = 16;
pub const BOX: u8 = 17;
pub const ERROR: u8 = 18;

static BUILTIN_VALUES: [AtomicU64; 32] = [const { AtomicU64::new(0) }; 32];
/// Serialises creation of type objects (global-region allocations).
pub(crate) static TYPE_LOCK: Mutex<()> = Mutex::new(());

/// The name of a built-in type id.
pub fn builtin_name(id: u8) -> &'static str {
    BUILTINS[id as usize - 1].0
}

/// The id of the built-in type called `name`.
pub fn builtin_id(name: &str) -> Option<u8> {
    BUILTINS
        .iter()
        .position(|b| b.0 == name)
        .map(|i| i as u8 + 1)
}

/// Allocate a type object in the global region. Caller holds `TYPE_LOCK`.
pub(crate) fn alloc_type(
    name: &str,
    parent: Value,
    info: u64,
    fields: Value,
    ftypes: Value,
) -> Value {
    let g = global_region();
    // SAFETY: the global region lives for the program; TYPE_SIZE bytes are
    // written field by field.
    unsafe {
        let p = alloc_object(g, ObjKind::Type, TYPE_SIZE) as Value;
        set_field(p, TYPE_NAME, intern(name));
        set_field(p, TYPE_PARENT, parent);
        set_field(p, TYPE_INFO, info);
        set_field(p, TYPE_FIELDS, fields);
        set_field(p, TYPE_FIELD_TYPES, ftypes);
        set_field(p, TYPE_RAW_FLOATS, raw_float_mask(ftypes));
        for w in 0..TYPE_DISPATCH_WAYS as i32 {
            set_field(p, TYPE_DISPATCH_KEY + w * TYPE_DISPATCH_WAY, 0);
            set_field(p, TYPE_DISPATCH_VERSION + w * TYPE_DISPATCH_WAY, 0);
            set_field(p, TYPE_DISPATCH_J + w * TYPE_DISPATCH_WAY, 0);
        }
        p
    }
}

/// The raw Float mask of a struct type whose field types are the list
/// `ftypes` (`()` for other types): the fields declared `Float`, among the
/// first [`RAW_FLOAT_FIELDS_MAX`].
fn raw_float_mask(ftypes: Value) -> u64 {
    let mut mask = 0u64;
    for (i, ft) in fixed_list_items(ftypes)
        .take(RAW_FLOAT_FIELDS_MAX)
        .enumerate()
    {
        // SAFETY: checked to be a type object.
        if is_type(ft) && unsafe { type_info(ft) } & 0xFF == FLOAT as u64 {
            mask |= 1 << i;
        }
    }
    mask
}

/// The raw Float mask of type object `t` (0 for types without fields).
///
/// # Safety
/// `t` must be a type object.
#[inline(always)]
pub unsafe fn type_raw_floats(t: Value) -> u64 {
    // SAFETY: caller contract; every type object has the mask word.
    unsafe { field(t, TYPE_RAW_FLOATS) }
}

/// Whether slot `i` of a struct whose type has raw Float mask `mask` holds
/// raw f64 bits.
#[inline(always)]
pub const fn slot_is_raw(mask: u64, i: usize) -> bool {
    i < RAW_FLOAT_FIELDS_MAX && (mask >> i) & 1 == 1
}

/// The type object of built-in type `id` (created on first use).
#[inline]
pub fn builtin(id: u8) -> Value {
    let v = BUILTIN_VALUES[id as usize].load(Ordering::Acquire);
    if v != 0 {
        return v;
    }
    builtin_create(id)
}

/// The type object of built-in type `id` if it has been made, else 0
/// (never creates it: no call, for the dispatch hit path).
#[inline(always)]
pub fn builtin_if_made(id: u8) -> Value {
    BUILTIN_VALUES[id as usize].load(Ordering::Acquire)
}

/// [`builtin`] on first use: create the type object.
#[cold]
#[inline(never)]
fn builtin_create(id: u8) -> Value {
    let (name, parent_id, is_abstract) = BUILTINS[id as usize - 1];
    let parent = if parent_id == 0 {
        NOTHING
    } else {
        builtin(parent_id)
    };
    let _guard = TYPE_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let v = BUILTIN_VALUES[id as usize].load(Ordering::Acquire);
    if v != 0 {
        return v;
    }
    let info = id as u64 | if is_abstract { TYPE_FLAG_ABSTRACT } else { 0 };
    let t = alloc_type(name, parent, info, NIL, NIL);
    BUILTIN_VALUES[id as usize].store(t, Ordering::Release);
    t
}

/// What kind of user type `make_user_type` (prims/types.rs) creates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserKind {
    Abstract,
    Struct,
    MutableStruct,
    Effect,
}

/// # Safety
/// `t` must be a type object.
pub unsafe fn type_field_types(t: Value) -> impl Iterator<Item = Value> {
    // SAFETY: caller contract.
    fixed_list_items(unsafe { field(t, TYPE_FIELD_TYPES) })
}

#[inline]
pub fn is_type(v: Value) -> bool {
    is_kind(v, ObjKind::Type)
}

#[inline]
pub fn is_struct(v: Value) -> bool {
    is_kind(v, ObjKind::Struct)
}

/// # Safety
/// `t` must be a type object.
pub unsafe fn type_info(t: Value) -> u64 {
    // SAFETY: caller contract.
    unsafe { field(t, TYPE_INFO) }
}

/// # Safety
/// `t` must be a type object.
pub unsafe fn type_parent(t: Value) -> Value {
    // SAFETY: caller contract.
    unsafe { field(t, TYPE_PARENT) }
}

/// # Safety
/// `t` must be a type object.
pub unsafe fn type_fields(t: Value) -> Value {
    // SAFETY: caller contract.
    unsafe { field(t, TYPE_FIELDS) }
}

/// The name of a type object.
///
/// # Safety
/// `t` must be a type object.
pub unsafe fn type_name(t: Value) -> &'static str {
    // SAFETY: the name slot holds an interned symbol.
    unsafe { symbol_name(field(t, TYPE_NAME)) }
}

/// Display name of a type value (or `?` for a non-type).
pub fn name_of(t: Value) -> String {
    if is_type(t) {
        // SAFETY: checked.
        unsafe { type_name(t) }.to_owned()
    } else {
        "?".into()
    }
}

/// Number of fields of a struct type (0 for other types).
///
/// # Safety
/// `t` must be a type object.
pub unsafe fn type_nfields(t: Value) -> usize {
    // SAFETY: caller contract.
    fixed_list_items(unsafe { type_fields(t) }).count()
}

/// Index of field `name` (a symbol) of struct type `t`.
///
/// # Safety
/// `t` must be a type object.
pub unsafe fn field_index(t: Value, name: Value) -> Option<usize> {
    // SAFETY: caller contract.
    fixed_list_items(unsafe { type_fields(t) }).position(|f| f == name)
}

/// The type of any value.
#[inline]
pub fn type_of(v: Value) -> Value {
    let v = resolve(v);
    let id = match v {
        TRUE | FALSE => BOOL,
        NOTHING => NOTHING_T,
        NIL => LIST,
        _ if is_int(v) => INT,
        _ if is_char(v) => CHAR,
        _ => match kind_of(v) {
            Some(k) if k == ObjKind::Struct as u8 => {
                // SAFETY: a struct holds its type at STRUCT_TYPE.
                return unsafe { field(v, STRUCT_TYPE) };
            }
            Some(1) => LIST,
            Some(2) => FLOAT,
            Some(3) => STRING,
            Some(4) => SYMBOL,
            Some(5) => ARRAY,
            Some(6) => DICT,
            Some(7) => FUNCTION,
            Some(8) => BOX,
            Some(10) => TYPE,
            Some(11) => CHANNEL,
            Some(12) => THREAD,
            Some(13) => ERROR,
            _ => ANY,
        },
    };
    builtin(id)
}

/// `sub` is `sup` or a descendant of it.
///
/// # Safety
/// Both must be type objects.
pub unsafe fn is_subtype(mut sub: Value, sup: Value) -> bool {
    loop {
        if sub == sup {
            return true;
        }
        if !is_type(sub) {
            return false;
        }
        // SAFETY: checked to be a type.
        sub = unsafe { type_parent(sub) };
    }
}

/// `(type? v T)`: does `v` belong to type `T`?
///
/// # Safety
/// `t` must be a type object.
pub unsafe fn value_has_type(v: Value, t: Value) -> bool {
    let v = resolve(v);
    // Fast paths for the common leaf types.
    // SAFETY: caller contract.
    let id = unsafe { type_info(t) } & 0xFF;
    match id as u8 {
        ANY => true,
        INT => is_int(v),
        FLOAT => is_kind(v, ObjKind::Float),
        FUNCTION => is_closure(v),
        // SAFETY: `type_of` returns a type object.
        _ => unsafe { is_subtype(type_of(v), t) },
    }
}

/// Depth of a type below `Any` (for "most specific" comparisons).
///
/// # Safety
/// `t` must be a type object.
pub unsafe fn type_depth(mut t: Value) -> usize {
    let mut d = 0;
    // SAFETY: parents of types are types or NOTHING.
    while is_type(t) && unsafe { type_parent(t) } != NOTHING {
        // SAFETY: `t` was just checked to be a type.
        t = unsafe { type_parent(t) };
        d += 1;
    }
    d
}

// ------------------------------------------------------------------ structs

/// Allocate an instance of struct type `t` with `fields` in `r`; a raw
/// slot receives its Float's bits.
///
/// # Safety
/// `t` is a struct type whose field count is `fields.len()`, and the value
/// for each raw slot is a Float (possibly forwarded); `r` is live.
pub unsafe fn alloc_struct(r: *mut Region, t: Value, fields: &[Value]) -> Value {
    // SAFETY: the object holds the type word plus one word per field.
    unsafe {
        let p = alloc_object(
            r,
            ObjKind::Struct,
            STRUCT_FIELDS as usize + 8 * fields.len(),
        ) as Value;
        set_field(p, STRUCT_TYPE, t);
        let mask = type_raw_floats(t);
        for (i, f) in fields.iter().enumerate() {
            let w = if slot_is_raw(mask, i) {
                raw_float_bits(*f)
            } else {
                *f
            };
            set_field(p, STRUCT_FIELDS + 8 * i as i32, w);
        }
        p
    }
}

/// The bits a raw slot holds for Float `v` (possibly forwarded).
///
/// # Safety
/// `v` must be a Float object, possibly forwarded (the declared field type
/// was checked).
#[inline]
pub unsafe fn raw_float_bits(v: Value) -> u64 {
    let v = resolve(v);
    debug_assert!(is_kind(v, ObjKind::Float), "raw slot given a non-Float");
    // SAFETY: caller contract: a Float holds its bits at FLOAT_VALUE.
    unsafe { field(v, FLOAT_VALUE) }
}

/// One slot of a struct instance: a value word, or a raw Float's value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Slot {
    Word(Value),
    Float(f64),
}

/// Slot `i` of a struct instance (a value word comes back resolved).
///
/// # Safety
/// `s` must be a struct instance with more than `i` fields.
#[inline]
pub unsafe fn struct_slot(s: Value, i: usize) -> Slot {
    // SAFETY: caller contract.
    unsafe {
        let w = field(s, STRUCT_FIELDS + 8 * i as i32);
        if slot_is_raw(type_raw_floats(struct_type(s)), i) {
            Slot::Float(f64::from_bits(w))
        } else {
            Slot::Word(resolve(w))
        }
    }
}

/// # Safety
/// `s` must be a struct instance.
pub unsafe fn struct_type(s: Value) -> Value {
    // SAFETY: caller contract.
    unsafe { field(s, STRUCT_TYPE) }
}

/// The slots of a struct instance ([`Slot`]).
///
/// # Safety
/// `s` must be a struct instance.
pub unsafe fn struct_slots(s: Value) -> Vec<Slot> {
    // SAFETY: the instance has type_nfields(type) fields.
    unsafe {
        let n = type_nfields(struct_type(s));
        (0..n).map(|i| struct_slot(s, i)).collect()
    }
}

/// What [`struct_get`] returns for a raw slot when it was given no region
/// to box the Float in (generated code then creates its region and asks
/// again: codegen `get_with_region`). Never a value.
pub const NEEDS_REGION: Value = UNBOUND;

/// The region generated code passes to `get` (and a field site's slow
/// path) that has no Float allocation site, so may not allocate (CTRR
/// placed nothing): never a region's address. No struct field it can read
/// is raw, and a dict entry's slot Float is handed out as it is, becoming
/// an ordinary Float (heap/dict.rs, "slot Floats").
pub const NO_BOX_REGION: usize = 8;

/// Field `i` as a value: a raw slot's Float is boxed in `r` (a new Float
/// object; [`NEEDS_REGION`] when `r` is null).
///
/// # Safety
/// `s` must be a struct instance with more than `i` fields; `r` null or a
/// live region usable by the calling thread.
pub unsafe fn struct_get(s: Value, i: usize, r: *mut Region) -> Value {
    // SAFETY: caller contract.
    unsafe {
        match struct_slot(s, i) {
            Slot::Word(v) => v,
            Slot::Float(_) if r.is_null() => NEEDS_REGION,
            Slot::Float(f) => crate::heap::object::make_float(r, f),
        }
    }
}

// ------------------------------------------------------------------ metadata

/// # Safety
/// `obj` must be a type object.
pub unsafe fn trace_type(obj: Value, visit: &mut dyn FnMut(*mut Value)) {
    for off in [TYPE_NAME, TYPE_PARENT, TYPE_FIELDS, TYPE_FIELD_TYPES] {
        visit((obj as usize + off as usize) as *mut Value);
    }
}

/// Types are global-region objects compared by identity (dispatch, `eq?`):
/// the only correct copy is the type itself.
///
/// # Safety
/// `obj` must be a type object.
pub unsafe fn clone_type(obj: Value, _dst: *mut Region) -> Value {
    obj
}

/// # Safety
/// `obj` must be a struct instance.
pub unsafe fn trace_struct(obj: Value, visit: &mut dyn FnMut(*mut Value)) {
    // SAFETY: the instance has type_nfields fields.
    let (n, mask) = unsafe {
        let t = struct_type(obj);
        (type_nfields(t), type_raw_floats(t))
    };
    visit((obj as usize + STRUCT_TYPE as usize) as *mut Value);
    for i in 0..n {
        // A raw slot holds f64 bits, which may look like any word.
        if !slot_is_raw(mask, i) {
            visit((obj as usize + STRUCT_FIELDS as usize + 8 * i) as *mut Value);
        }
    }
}

/// # Safety
/// `obj` must be a struct instance and `dst` a live region.
pub unsafe fn clone_struct(obj: Value, dst: *mut Region) -> Value {
    // SAFETY: same shape; value words copied (resolved), raw slots' bits
    // copied as they are.
    unsafe {
        let t = struct_type(obj);
        let n = type_nfields(t);
        let p = alloc_object(dst, ObjKind::Struct, STRUCT_FIELDS as usize + 8 * n) as Value;
        set_field(p, STRUCT_TYPE, t);
        let mask = type_raw_floats(t);
        for i in 0..n {
            let off = STRUCT_FIELDS + 8 * i as i32;
            let w = field(obj, off);
            set_field(p, off, if slot_is_raw(mask, i) { w } else { resolve(w) });
        }
        p
    }
}
