//! Printed forms of values (LANGUAGE.md §5): `display` (strings and chars
//! raw) and `write` (strings quoted and escaped, chars as `#\a`).
//!
//! The printer is iterative: it keeps an explicit stack of frames instead of
//! recursing, so neither a 1,000,000-element list nor deeply nested data
//! grows the native stack. Cyclic data terminates and prints `...` where the
//! cycle closes: a cdr chain is measured first with Brent's algorithm, and
//! when it is cyclic exactly its distinct pairs are printed followed by
//! ` ...`; a container (list head, array, dict, box, struct) met again while
//! it is still open on the printing path prints as `...`. Every infinite
//! printing path must revisit an open container, so printing always ends.
//!
//! Types and struct instances print through `kind_printer` (their forms
//! are built from parts: name, then fields); kinds with no printed form
//! print as `#<kind>`.

use crate::base::value::*;
use crate::heap::dict::{dict_entries_peek, is_dict};
use crate::heap::error_obj::{error_message, is_error};
use crate::heap::object::*;
use crate::heap::types::{struct_slots, struct_type, type_name, Slot};
use std::collections::HashSet;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `display`/`print`/`println`/`str`: strings and chars raw.
    Display,
    /// `write`: strings quoted and escaped, chars as `#\a`.
    Write,
}

/// How an externally defined kind prints: `open`, then `items` separated by
/// single spaces, then `close` — e.g. `"(Circle"`, `[2.0]`, `")"` (a space
/// is emitted between `open` and the first item only when `open` does not
/// end with an opening bracket).
pub struct KindForm {
    pub open: String,
    pub items: Vec<Slot>,
    pub close: &'static str,
}

/// A printer for objects of one kind.
pub type KindPrinter = fn(Value) -> KindForm;

/// The printers of the kinds whose form is built from parts (type objects
/// print as their name, struct instances as `(Name field …)`); other kinds
/// print through the fixed cases of `print_one`.
fn kind_printer(kind: u8) -> Option<KindPrinter> {
    match kind {
        k if k == ObjKind::Type as u8 => Some(print_type),
        k if k == ObjKind::Struct as u8 => Some(print_struct),
        _ => None,
    }
}

fn print_type(t: Value) -> KindForm {
    KindForm {
        // SAFETY: `kind_printer` picks this printer for type objects only.
        open: unsafe { type_name(t) }.to_owned(),
        items: vec![],
        close: "",
    }
}

fn print_struct(s: Value) -> KindForm {
    // SAFETY: `kind_printer` picks this printer for struct instances only.
    unsafe {
        KindForm {
            open: format!("({}", type_name(struct_type(s))),
            items: struct_slots(s),
            close: ")",
        }
    }
}

/// The display form of `v`.
pub fn display_string(v: Value) -> String {
    let mut s = String::new();
    print_value(&mut s, v, Mode::Display);
    s
}

/// The write form of `v`.
pub fn write_string(v: Value) -> String {
    let mut s = String::new();
    print_value(&mut s, v, Mode::Write);
    s
}

/// Shortest round-trip decimal form of a float, always recognisable as a
/// float: `3.0`, `0.1`, `2.5`, `1e-9`, `1e16`, `-0.0`; non-finite values
/// print Scheme-style as `+inf.0`, `-inf.0`, `+nan.0`.
pub fn format_float(f: f64) -> String {
    if f.is_nan() {
        return "+nan.0".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            "+inf.0".into()
        } else {
            "-inf.0".into()
        };
    }
    // Rust's Debug form is the shortest round-trip representation, with a
    // `.0` on integral values and an exponent for very large/small ones.
    format!("{f:?}")
}

/// Write-form text of a char: named for the whitespace/control characters
/// the reader names, `#\c` otherwise.
fn write_char(out: &mut String, c: char) {
    match c {
        ' ' => out.push_str("#\\space"),
        '\n' => out.push_str("#\\newline"),
        '\t' => out.push_str("#\\tab"),
        '\r' => out.push_str("#\\return"),
        '\0' => out.push_str("#\\nul"),
        _ => {
            out.push_str("#\\");
            out.push(c);
        }
    }
}

/// Write-form text of a string: quoted, with the reader's escapes.
pub fn write_str_escaped(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\u{{{:x}}}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Number of distinct pairs in the cdr chain starting at `head` if that
/// chain is cyclic (Brent's algorithm: cycle length λ, then start μ), or
/// `None` if it ends.
fn cyclic_chain_len(head: Value) -> Option<usize> {
    let head = resolve(head);
    let next = |v: Value| -> Option<Value> {
        if is_pair(v) {
            // SAFETY: checked to be a pair.
            Some(unsafe { cdr(v) })
        } else {
            None
        }
    };
    let mut power = 1usize;
    let mut lam = 1usize;
    let mut tortoise = head;
    let mut hare = next(head)?;
    while tortoise != hare {
        if power == lam {
            tortoise = hare;
            power *= 2;
            lam = 0;
        }
        hare = next(hare)?;
        lam += 1;
    }
    let mut tortoise = head;
    let mut hare = head;
    for _ in 0..lam {
        hare = next(hare)?;
    }
    let mut mu = 0;
    while tortoise != hare {
        tortoise = next(tortoise)?;
        hare = next(hare)?;
        mu += 1;
    }
    Some(mu + lam)
}

enum Frame {
    /// Print a value.
    Value(Value),
    /// Print a dict key (symbols as `:k`, strings always in write form).
    DictKey(Value),
    Text(&'static str),
    /// Continue a list at `cur`; `left` pairs may still be printed before a
    /// cycle closes (usize::MAX for acyclic lists).
    ListRest {
        cur: Value,
        left: usize,
        first: bool,
    },
    /// Continue a sequence of values (a struct's raw Float slots among
    /// them), separated by spaces.
    Items {
        items: Vec<Slot>,
        i: usize,
    },
    /// Continue a dict's entries.
    Entries {
        entries: Vec<(Value, Value)>,
        i: usize,
    },
    /// Close a container: leave the open set and emit the closing text.
    Close {
        container: Value,
        text: &'static str,
    },
}

/// Longest printed form quoted in an error message.
pub const MESSAGE_FORM_LIMIT: usize = 200;

/// The write form of `v` for an error message: at most
/// `MESSAGE_FORM_LIMIT` bytes, ending in `...` when shortened. Printing
/// stops as soon as the limit is passed, so quoting a million-element list
/// costs no more than quoting a short one.
pub fn message_form(v: Value) -> String {
    let mut s = String::new();
    print_bounded(&mut s, v, Mode::Write, MESSAGE_FORM_LIMIT + 1);
    if s.len() > MESSAGE_FORM_LIMIT {
        let mut cut = MESSAGE_FORM_LIMIT;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push_str("...");
    }
    s
}

/// Append the printed form of `v` to `out`.
pub fn print_value(out: &mut String, v: Value, mode: Mode) {
    if mode == Mode::Display && is_string(v) {
        // `str` and `string-join` of strings: their text as it is.
        // SAFETY: checked to be a string.
        out.push_str(unsafe { string_str(v) });
        return;
    }
    print_bounded(out, v, mode, usize::MAX);
}

/// Append the printed form of `v` to `out`, stopping once `out` holds at
/// least `limit` bytes (the text is then cut short anywhere).
fn print_bounded(out: &mut String, v: Value, mode: Mode, limit: usize) {
    if out.len() >= limit {
        return;
    }
    // The first value is printed before the loop: an atom (what `str` and
    // `string-join` print piece by piece) then needs no frame and no cycle
    // set, and the empty stack and set allocate nothing.
    let mut stack = Vec::new();
    let mut open: HashSet<Value> = HashSet::new();
    print_one(out, v, mode, &mut stack, &mut open);
    while let Some(frame) = stack.pop() {
        if out.len() >= limit {
            return;
        }
        match frame {
            Frame::Text(t) => out.push_str(t),
            Frame::Close { container, text } => {
                open.remove(&container);
                out.push_str(text);
            }
            Frame::DictKey(k) => {
                let k = resolve(k);
                if is_symbol(k) {
                    out.push(':');
                    // SAFETY: checked to be a symbol.
                    out.push_str(unsafe { symbol_name(k) });
                } else if is_string(k) {
                    // SAFETY: checked to be a string.
                    write_str_escaped(out, unsafe { string_str(k) });
                } else {
                    stack.push(Frame::Value(k));
                }
            }
            Frame::ListRest { cur, left, first } => {
                if cur == NIL {
                    continue;
                }
                if !is_pair(cur) {
                    out.push_str(" . ");
                    stack.push(Frame::Value(cur));
                    continue;
                }
                if left == 0 {
                    out.push_str(" ...");
                    continue;
                }
                if !first {
                    out.push(' ');
                }
                // SAFETY: checked to be a pair.
                let (a, d) = unsafe { (car(cur), cdr(cur)) };
                stack.push(Frame::ListRest {
                    cur: d,
                    left: left - 1,
                    first: false,
                });
                stack.push(Frame::Value(a));
            }
            Frame::Items { items, i } => {
                if i < items.len() {
                    if i > 0 {
                        out.push(' ');
                    }
                    let x = items[i];
                    stack.push(Frame::Items { items, i: i + 1 });
                    match x {
                        Slot::Word(x) => stack.push(Frame::Value(x)),
                        // A raw Float field prints as its Float would.
                        Slot::Float(f) => out.push_str(&format_float(f)),
                    }
                }
            }
            Frame::Entries { entries, i } => {
                if i < entries.len() {
                    if i > 0 {
                        out.push(' ');
                    }
                    let (k, x) = entries[i];
                    stack.push(Frame::Entries { entries, i: i + 1 });
                    stack.push(Frame::Value(x));
                    stack.push(Frame::Text(" "));
                    stack.push(Frame::DictKey(k));
                }
            }
            Frame::Value(v) => print_one(out, v, mode, &mut stack, &mut open),
        }
    }
}

/// Print an atom directly, or open a container by pushing its frames.
fn print_one(
    out: &mut String,
    v: Value,
    mode: Mode,
    stack: &mut Vec<Frame>,
    open: &mut HashSet<Value>,
) {
    let v = resolve(v);
    let Some(kind) = kind_of(v) else {
        match v {
            _ if is_int(v) => {
                use std::fmt::Write;
                // Writing to a String cannot fail.
                let _ = write!(out, "{}", int_value(v));
            }
            _ if is_char(v) => match mode {
                Mode::Display => out.push(char_value(v)),
                Mode::Write => write_char(out, char_value(v)),
            },
            _ => out.push_str(&describe_immediate(v)),
        }
        return;
    };
    let is_container = [ObjKind::Pair, ObjKind::Array, ObjKind::Dict, ObjKind::Box]
        .iter()
        .any(|&k| k as u8 == kind)
        || kind_printer(kind).is_some();
    if is_container {
        if open.contains(&v) {
            out.push_str("...");
            return;
        }
        open.insert(v);
    }
    // SAFETY: every branch reads an object of the kind it matched.
    unsafe {
        match kind {
            k if k == ObjKind::Float as u8 => out.push_str(&format_float(float_value(v))),
            k if k == ObjKind::String as u8 => match mode {
                Mode::Display => out.push_str(string_str(v)),
                Mode::Write => write_str_escaped(out, string_str(v)),
            },
            k if k == ObjKind::Symbol as u8 => out.push_str(symbol_name(v)),
            k if k == ObjKind::Closure as u8 => {
                let name = closure_name(v);
                if is_symbol(name) {
                    out.push_str("#<fn ");
                    out.push_str(symbol_name(name));
                    out.push('>');
                } else {
                    out.push_str("#<fn>");
                }
            }
            k if k == ObjKind::Pair as u8 => {
                out.push('(');
                stack.push(Frame::Close {
                    container: v,
                    text: ")",
                });
                let left = cyclic_chain_len(v).unwrap_or(usize::MAX);
                stack.push(Frame::ListRest {
                    cur: v,
                    left,
                    first: true,
                });
            }
            k if k == ObjKind::Array as u8 => {
                out.push('[');
                stack.push(Frame::Close {
                    container: v,
                    text: "]",
                });
                stack.push(Frame::Items {
                    items: array_slice(v).iter().map(|&x| Slot::Word(x)).collect(),
                    i: 0,
                });
            }
            k if k == ObjKind::Dict as u8 && is_dict(v) => {
                out.push_str("#{");
                stack.push(Frame::Close {
                    container: v,
                    text: "}",
                });
                stack.push(Frame::Entries {
                    entries: dict_entries_peek(v),
                    i: 0,
                });
            }
            k if k == ObjKind::Box as u8 => {
                out.push_str("#<box ");
                stack.push(Frame::Close {
                    container: v,
                    text: ">",
                });
                stack.push(Frame::Value(box_get(v)));
            }
            k if k == ObjKind::Error as u8 && is_error(v) => {
                out.push_str("#<error ");
                write_str_escaped(out, string_str(error_message(v)));
                out.push('>');
            }
            k => {
                if let Some(printer) = kind_printer(k) {
                    let form = printer(v);
                    out.push_str(&form.open);
                    let needs_space =
                        !form.open.ends_with(['(', '[', '{']) && !form.items.is_empty();
                    stack.push(Frame::Close {
                        container: v,
                        text: form.close,
                    });
                    stack.push(Frame::Items {
                        items: form.items,
                        i: 0,
                    });
                    if needs_space {
                        out.push(' ');
                    }
                } else {
                    out.push_str(match k {
                        k if k == ObjKind::Struct as u8 => "#<struct>",
                        k if k == ObjKind::Type as u8 => "#<type>",
                        k if k == ObjKind::Channel as u8 => "#<channel>",
                        k if k == ObjKind::Thread as u8 => "#<thread>",
                        _ => "#<object>",
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heap::dict::{alloc_dict, dict_set};
    use crate::region::{region_create, Region};

    fn r() -> *mut Region {
        region_create()
    }

    fn ints(xs: &[i64]) -> Vec<Value> {
        xs.iter().map(|&n| make_int(n)).collect()
    }

    #[test]
    fn immediates() {
        assert_eq!(display_string(make_int(-42)), "-42");
        assert_eq!(display_string(TRUE), "true");
        assert_eq!(display_string(FALSE), "false");
        assert_eq!(display_string(NOTHING), "nothing");
        assert_eq!(display_string(NIL), "()");
        assert_eq!(display_string(make_char('a')), "a");
        assert_eq!(write_string(make_char('a')), "#\\a");
        assert_eq!(write_string(make_char(' ')), "#\\space");
        assert_eq!(write_string(make_char('\n')), "#\\newline");
        assert_eq!(write_string(make_char('λ')), "#\\λ");
    }

    #[test]
    fn floats() {
        assert_eq!(format_float(3.0), "3.0");
        assert_eq!(format_float(0.1), "0.1");
        assert_eq!(format_float(2.5), "2.5");
        assert_eq!(format_float(-0.5), "-0.5");
        assert_eq!(format_float(1e-9), "1e-9");
        assert_eq!(format_float(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(format_float(f64::INFINITY), "+inf.0");
        assert_eq!(format_float(f64::NAN), "+nan.0");
        // Round trip for a spread of values.
        for f in [
            1.0 / 3.0,
            123456.789,
            1e300,
            5e-324,
            1e16,
            12345678901234567.0,
        ] {
            assert_eq!(format_float(f).parse::<f64>().unwrap(), f);
        }
    }

    #[test]
    fn strings_symbols_closures() {
        let r = r();
        // SAFETY: fresh region used by this test only.
        unsafe {
            let s = make_string(r, "a\"b\\c\nλ");
            assert_eq!(display_string(s), "a\"b\\c\nλ");
            assert_eq!(write_string(s), "\"a\\\"b\\\\c\\nλ\"");
            assert_eq!(display_string(intern("done")), "done");
            let f = alloc_closure(r, 0, 0, closure_info(1, false, 0), intern("square"));
            assert_eq!(display_string(f), "#<fn square>");
            let anon = alloc_closure(r, 0, 0, closure_info(1, false, 0), NOTHING);
            assert_eq!(write_string(anon), "#<fn>");
            assert_eq!(display_string(make_float(r, 2.0)), "2.0");
        }
    }

    #[test]
    fn nested_containers() {
        let r = r();
        // SAFETY: fresh region used by this test only.
        unsafe {
            let l = list_from_slice(r, &ints(&[1, 2, 3]));
            assert_eq!(display_string(l), "(1 2 3)");
            let a = array_from_slice(r, &ints(&[1, 2, 3]));
            assert_eq!(display_string(a), "[1 2 3]");
            let strs = list_from_slice(r, &[make_string(r, "x"), make_char('c'), a, NIL]);
            assert_eq!(display_string(strs), "(x c [1 2 3] ())");
            assert_eq!(write_string(strs), "(\"x\" #\\c [1 2 3] ())");
            let dotted = alloc_pair(r, make_int(1), make_int(2));
            assert_eq!(display_string(dotted), "(1 . 2)");
            let empty = alloc_array(r, 0);
            assert_eq!(display_string(empty), "[]");
            let nested = array_from_slice(r, &[l, empty, make_float(r, 0.5)]);
            assert_eq!(display_string(nested), "[(1 2 3) [] 0.5]");
            assert_eq!(display_string(alloc_box(r, make_int(1))), "#<box 1>");
        }
    }

    #[test]
    fn dict_key_forms() {
        let r = r();
        // SAFETY: fresh region used by this test only.
        unsafe {
            let d = alloc_dict(r, 0);
            assert_eq!(display_string(d), "#{}");
            dict_set(d, intern("a"), make_int(1));
            dict_set(d, intern("b"), make_int(2));
            assert_eq!(display_string(d), "#{:a 1 :b 2}");
            let d2 = alloc_dict(r, 0);
            dict_set(d2, make_int(1), make_int(10));
            dict_set(d2, make_int(2), make_int(20));
            assert_eq!(display_string(d2), "#{1 10 2 20}");
            let d3 = alloc_dict(r, 0);
            dict_set(d3, make_string(r, "k"), make_string(r, "v"));
            assert_eq!(display_string(d3), "#{\"k\" v}");
            assert_eq!(write_string(d3), "#{\"k\" \"v\"}");
            dict_set(d3, intern("inner"), d);
            assert_eq!(display_string(d3), "#{\"k\" v :inner #{:a 1 :b 2}}");
        }
    }

    #[test]
    fn million_element_list_prints_without_recursion() {
        let r = r();
        // SAFETY: fresh region used by this test only.
        unsafe {
            let mut l = NIL;
            for i in (0..1_000_000).rev() {
                l = alloc_pair(r, make_int(i % 10), l);
            }
            let s = display_string(l);
            assert_eq!(s.len(), 2 * 1_000_000 + 1);
            assert!(s.starts_with("(0 1 2 3"));
            assert!(s.ends_with("8 9)"));
            // deep nesting along car is iterative too
            let mut deep = NIL;
            for _ in 0..200_000 {
                deep = alloc_pair(r, deep, NIL);
            }
            let s = display_string(deep);
            assert_eq!(s.len(), 200_000 * 2 + 2);
        }
    }

    #[test]
    fn cyclic_structures_terminate() {
        let r = r();
        // SAFETY: fresh region used by this test only.
        unsafe {
            let l = list_from_slice(r, &ints(&[1, 2, 3]));
            set_cdr(cdr(cdr(l)), l);
            assert_eq!(display_string(l), "(1 2 3 ...)");
            let l = list_from_slice(r, &ints(&[1, 2, 3, 4]));
            set_cdr(cdr(cdr(cdr(l))), cdr(l));
            assert_eq!(display_string(l), "(1 2 3 4 ...)");
            let m = list_from_slice(r, &ints(&[1, 2]));
            set_car(m, m);
            assert_eq!(display_string(m), "(... 2)");
            let a = array_from_slice(r, &ints(&[1]));
            array_push(a, a);
            assert_eq!(display_string(a), "[1 ...]");
            let d = alloc_dict(r, 0);
            dict_set(d, intern("self"), d);
            assert_eq!(display_string(d), "#{:self ...}");
            // shared (non-cyclic) substructure prints fully each time
            let shared = list_from_slice(r, &ints(&[7]));
            let twice = list_from_slice(r, &[shared, shared]);
            assert_eq!(display_string(twice), "((7) (7))");
        }
    }
}
