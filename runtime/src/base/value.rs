//! The tagged 64-bit value word and the heap object layouts.
//!
//! This module is the single source of truth for the data representation that
//! the compiler's code generator and the runtime share: the compiler crate
//! imports these constants instead of repeating them, so a layout change is one
//! edit here.
//!
//! Value word (u64):
//! - `...xxx1`  Int: `(n << 1) | 1`, 63-bit signed (fixnum). Arithmetic is
//!   inline with an overflow check; overflow is a runtime error.
//! - `...x000`  pointer to a heap object (8-byte aligned, never null).
//! - `...0010`  special constants: `false`, `true`, `nothing`, `()`.
//! - `...0110`  Char: `(codepoint << 8) | 0x06`.
//! - `0`        UNBOUND: the zero word, never a valid value; it marks an
//!   uninitialised global slot or letrec variable.
//!
//! Every heap object starts with one header word:
//! `bits 0..8 = kind`, `bits 8..16 = flags`, `bits 16..64 = address of the
//! chunk descriptor` of the region chunk that holds the object (user-space
//! addresses fit in 48 bits). `region_of(obj)` therefore is two loads: header
//! → chunk descriptor → region. Payload buffers (array slots, dict tables) are
//! raw region allocations without a header; they belong to their owner object.

/// A tagged OmniLisp value.
pub type Value = u64;

pub const TAG_INT_MASK: u64 = 1;
pub const TAG_MASK: u64 = 7;
pub const TAG_PTR: u64 = 0;
pub const TAG_SPECIAL: u64 = 2;
pub const TAG_CHAR: u64 = 6;

pub const FALSE: Value = 0x02;
pub const TRUE: Value = 0x0A;
pub const NOTHING: Value = 0x12;
pub const NIL: Value = 0x1A;
pub const UNBOUND: Value = 0;

/// Largest and smallest Int (63-bit signed).
pub const INT_MAX: i64 = (1i64 << 62) - 1;
pub const INT_MIN: i64 = -(1i64 << 62);

/// Object kinds (low byte of the header). Every kind has an entry in the
/// runtime's metadata table (`object::metadata`); a kind without one is a
/// loud failure.
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ObjKind {
    Pair = 1,
    Float = 2,
    String = 3,
    Symbol = 4,
    Array = 5,
    Dict = 6,
    Closure = 7,
    Box = 8,
    Struct = 9,
    Type = 10,
    Channel = 11,
    Thread = 12,
    Error = 13,
    /// A young original that a store repair copied into an older region:
    /// word 1 holds the copy ([`FORWARD_TARGET`]). Every operation that
    /// inspects an object resolves a forwarded one first (`object::resolve`),
    /// so the copy and every stale path to the original are one object
    /// (docs/REGION_DEPENDENCY_RULES.md, "Identity").
    Forwarded = 14,
    /// A *hold*: `[hdr][unused][*Region held][finalizer link]`, on its
    /// region's finalizer list. The region holding it keeps one external
    /// reference on the held region, dropped when it is reclaimed
    /// (`region::hold`). Never a value: nothing points to it.
    Hold = 15,
}

pub const KIND_MASK: u64 = 0xFF;
pub const HEADER_FLAGS_SHIFT: u64 = 8;
pub const HEADER_CHUNK_SHIFT: u64 = 16;

// ---- field offsets in bytes (from the object address) ----
pub const HEADER_OFFSET: i32 = 0;
/// Pair: `[hdr][car][cdr]`
pub const PAIR_CAR: i32 = 8;
pub const PAIR_CDR: i32 = 16;
pub const PAIR_SIZE: usize = 24;
/// Float: `[hdr][f64]`
pub const FLOAT_VALUE: i32 = 8;
pub const FLOAT_SIZE: usize = 16;
/// String: `[hdr][byte_len][char_len][utf-8 bytes, padded to 8]` (immutable)
pub const STRING_BYTE_LEN: i32 = 8;
pub const STRING_CHAR_LEN: i32 = 16;
pub const STRING_BYTES: i32 = 24;
/// Symbol: `[hdr][name: String value][hash]`, interned (global region).
pub const SYMBOL_NAME: i32 = 8;
pub const SYMBOL_HASH: i32 = 16;
pub const SYMBOL_SIZE: usize = 24;
/// Array: `[hdr][len][cap][data: *mut Value]` (payload: raw buffer in the same region)
pub const ARRAY_LEN: i32 = 8;
pub const ARRAY_CAP: i32 = 16;
pub const ARRAY_DATA: i32 = 24;
pub const ARRAY_SIZE: usize = 32;
/// Closure: `[hdr][code][apply][info][name][free 0]...[free n-1]`
/// - `code`: fixed-arity entry, Cranelift `tail` call convention,
///   `(env, region, a1..an) -> value` (a function with a rest parameter takes
///   the rest list as its last argument).
/// - `apply`: generic entry, `tail` convention, `(env, region, args_list, loc) -> value`;
///   checks the argument count and unpacks the list.
/// - `info`: `arity | flags << 16 | nfree << 32`; flag bit 0 = has rest
///   parameter. A call site with n arguments takes the fast path iff
///   `info & 0xFFFF_FFFF == n`.
/// - `name`: a Symbol value (for `#<fn name>`), or NOTHING for anonymous.
pub const CLOSURE_CODE: i32 = 8;
pub const CLOSURE_APPLY: i32 = 16;
pub const CLOSURE_INFO: i32 = 24;
pub const CLOSURE_NAME: i32 = 32;
pub const CLOSURE_FREE: i32 = 40;
pub const CLOSURE_FLAG_REST: u64 = 1;
/// Header flag of a Float that only one dict entry references (`dict.rs`,
/// "slot Floats"): a store of another Float into that entry overwrites its
/// bits instead of allocating. Cleared when the Float may be referenced
/// from anywhere else.
pub const FLOAT_FLAG_SLOT: u8 = 1;
/// Forwarded object: `[hdr: kind Forwarded, chunk bits kept][target]`. Every
/// object is at least 16 bytes, so any object can be turned into one.
pub const FORWARD_TARGET: i32 = 8;
/// Box (mutable cell for captured, assigned variables): `[hdr][value]`
pub const BOX_VALUE: i32 = 8;
pub const BOX_SIZE: usize = 16;

#[inline(always)]
pub const fn make_int(n: i64) -> Value {
    ((n as u64) << 1) | 1
}
#[inline(always)]
pub const fn int_value(v: Value) -> i64 {
    (v as i64) >> 1
}
#[inline(always)]
pub const fn is_int(v: Value) -> bool {
    v & TAG_INT_MASK == 1
}
#[inline(always)]
pub const fn fits_int(n: i64) -> bool {
    n >= INT_MIN && n <= INT_MAX
}
#[inline(always)]
pub const fn is_ptr(v: Value) -> bool {
    v & TAG_MASK == TAG_PTR && v != 0
}
#[inline(always)]
pub const fn is_char(v: Value) -> bool {
    v & 0xFF == TAG_CHAR
}
#[inline(always)]
pub const fn make_char(c: char) -> Value {
    ((c as u64) << 8) | TAG_CHAR
}
#[inline(always)]
pub fn char_value(v: Value) -> char {
    char::from_u32((v >> 8) as u32).unwrap_or('\u{FFFD}')
}
#[inline(always)]
pub const fn make_bool(b: bool) -> Value {
    if b {
        TRUE
    } else {
        FALSE
    }
}
/// Only `false` and `nothing` are false.
#[inline(always)]
pub const fn truthy(v: Value) -> bool {
    v | 0x10 != 0x12
}
#[inline(always)]
pub const fn make_header(kind: ObjKind, flags: u8, chunk: usize) -> u64 {
    ((chunk as u64) << HEADER_CHUNK_SHIFT) | ((flags as u64) << HEADER_FLAGS_SHIFT) | kind as u64
}
#[inline(always)]
pub const fn header_chunk(header: u64) -> usize {
    (header >> HEADER_CHUNK_SHIFT) as usize
}
#[inline(always)]
pub const fn closure_info(arity: u16, has_rest: bool, nfree: u32) -> u64 {
    arity as u64 | (if has_rest { CLOSURE_FLAG_REST } else { 0 }) << 16 | (nfree as u64) << 32
}

/// Printable form of an immediate word (for compiler dumps and tests).
pub fn describe_immediate(v: Value) -> String {
    match v {
        FALSE => "false".into(),
        TRUE => "true".into(),
        NOTHING => "nothing".into(),
        NIL => "()".into(),
        UNBOUND => "#<unbound>".into(),
        _ if is_int(v) => int_value(v).to_string(),
        _ if is_char(v) => format!("#\\{}", char_value(v)),
        _ => format!("#<word {v:#x}>"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int_roundtrip_and_range() {
        for n in [0, 1, -1, INT_MAX, INT_MIN, 123456789] {
            assert!(is_int(make_int(n)));
            assert_eq!(int_value(make_int(n)), n);
        }
        assert!(!fits_int(INT_MAX + 1));
    }

    #[test]
    fn truthiness() {
        assert!(!truthy(FALSE));
        assert!(!truthy(NOTHING));
        for v in [TRUE, NIL, make_int(0), make_char('a'), 0x1000] {
            assert!(truthy(v), "{v:#x}");
        }
    }

    #[test]
    fn tags_are_disjoint() {
        for v in [FALSE, TRUE, NOTHING, NIL] {
            assert!(!is_int(v) && !is_ptr(v) && !is_char(v));
        }
        assert!(is_char(make_char('λ')) && !is_int(make_char('λ')));
        assert_eq!(char_value(make_char('λ')), 'λ');
    }
}
