//! String and char primitives. Strings are immutable UTF-8; every index and
//! length is in Unicode scalars (chars), not bytes. ASCII-only strings
//! (byte length = char length) index in O(1), others scan.
//!
//! `(string-split s sep)`: `sep` is a string or char; an empty separator
//! splits into single-char strings; `(string-split s)` splits on runs of
//! whitespace (no empty parts). `(string-join xs sep)`: `xs` is a list
//! or array; strings join raw, other elements by their display form.

use super::{
    arg_count, expected, index_arg, new_list, new_string, new_string_counted, prim_fixed,
    prim_variadic, str_arg, R,
};
use crate::base::value::*;
use crate::heap::object::*;
use crate::region::Region;

/// `str`: the display forms of all arguments, concatenated.
pub fn str_concat(r: *mut Region, args: &[Value]) -> R {
    let mut s = String::new();
    reserve_text("str", &mut s, string_bytes(args, 0))?;
    for &v in args {
        crate::graph::print::print_value(&mut s, v, crate::graph::print::Mode::Display);
    }
    Ok(new_string(r, &s))
}

pub fn string_append(r: *mut Region, args: &[Value]) -> R {
    let mut s = String::new();
    let mut total = 0usize;
    for &v in args {
        total = total.saturating_add(str_arg("string-append", v)?.len());
    }
    reserve_text("string-append", &mut s, total)?;
    for &v in args {
        s.push_str(str_arg("string-append", v)?);
    }
    Ok(new_string(r, &s))
}

/// Reserve room for a result text of `bytes` bytes up front, so a size
/// the system cannot provide is the error "out of memory" rather than an
/// abort inside `String` growth.
/// `extra` plus the bytes of the strings among `items`: strings are the
/// values whose display form can be huge, so a text of their pieces is
/// reserved once (and too big a one is an error, not an abort).
fn string_bytes(items: &[Value], extra: usize) -> usize {
    items
        .iter()
        .filter(|&&v| is_string(v))
        // SAFETY: checked to be a string.
        .map(|&v| unsafe { string_str(v) }.len())
        .fold(extra, usize::saturating_add)
}

fn reserve_text(prim: &str, s: &mut String, bytes: usize) -> Result<(), String> {
    if bytes > crate::region::MAX_ALLOC_BYTES
        || crate::base::heap_count::fallible(|| s.try_reserve_exact(bytes)).is_err()
    {
        return Err(format!(
            "out of memory: {prim} cannot allocate a string of {bytes} bytes"
        ));
    }
    Ok(())
}

pub fn string_length(v: Value) -> R {
    str_arg("string-length", v)?;
    // SAFETY: checked to be a string.
    Ok(make_int(unsafe { string_char_len(v) } as i64))
}

/// Byte offset of char `i` (i ≤ char length) in string object `v`.
fn byte_offset(v: Value, text: &str, i: usize) -> usize {
    // SAFETY: `v` is the string object whose text is `text`.
    if unsafe { string_char_len(v) } == text.len() {
        i
    } else {
        text.char_indices().nth(i).map_or(text.len(), |(b, _)| b)
    }
}

/// `(substring s start)` / `(substring s start end)`, char indices, end
/// excluded.
pub fn substring(r: *mut Region, args: &[Value]) -> R {
    if args.len() < 2 || args.len() > 3 {
        return Err(arg_count("substring", "2 or 3", args.len()));
    }
    let s = args[0];
    let text = str_arg("substring", s)?;
    // SAFETY: checked to be a string.
    let len = unsafe { string_char_len(s) } as i64;
    let start = index_arg("substring", args[1])?;
    let end = match args.get(2) {
        Some(&e) => index_arg("substring", e)?,
        None => len,
    };
    if start < 0 || end < start || end > len {
        return Err(format!(
            "substring: range {start}..{end} out of bounds for string of length {len}"
        ));
    }
    let (b0, b1) = (
        byte_offset(s, text, start as usize),
        byte_offset(s, text, end as usize),
    );
    // The range holds `end - start` chars.
    Ok(new_string_counted(r, &text[b0..b1], (end - start) as usize))
}

pub fn string_ref(s: Value, i: Value) -> R {
    let text = str_arg("string-ref", s)?;
    let n = index_arg("string-ref", i)?;
    // SAFETY: checked to be a string.
    let len = unsafe { string_char_len(s) };
    if n < 0 || n as u64 >= len as u64 {
        return Err(format!(
            "string-ref: index {n} out of bounds for string of length {len}"
        ));
    }
    let c = if len == text.len() {
        text.as_bytes()[n as usize] as char
    } else {
        text.chars().nth(n as usize).unwrap_or('\0')
    };
    Ok(make_char(c))
}

/// A separator argument: a string or a char.
fn sep_arg(prim: &str, v: Value) -> Result<String, String> {
    if is_char(v) {
        Ok(char_value(v).to_string())
    } else if is_string(v) {
        // SAFETY: checked to be a string.
        Ok(unsafe { string_str(v) }.to_owned())
    } else {
        Err(expected(prim, "a string or char separator", v))
    }
}

pub fn string_split(r: *mut Region, s: Value, sep: Value) -> R {
    let text = str_arg("string-split", s)?;
    let sep = sep_arg("string-split", sep)?;
    let parts: Vec<Value> = if sep.is_empty() {
        text.chars()
            .map(|c| new_string(r, c.encode_utf8(&mut [0; 4])))
            .collect()
    } else {
        text.split(sep.as_str()).map(|p| new_string(r, p)).collect()
    };
    Ok(new_list(r, &parts))
}

/// `(string-split s)` / `(string-split s sep)`.
pub fn string_split_variadic(r: *mut Region, args: &[Value]) -> R {
    match *args {
        [s] => {
            let text = str_arg("string-split", s)?;
            let parts: Vec<Value> = text.split_whitespace().map(|p| new_string(r, p)).collect();
            Ok(new_list(r, &parts))
        }
        [s, sep] => string_split(r, s, sep),
        _ => Err(arg_count("string-split", "1 or 2", args.len())),
    }
}

pub fn string_join(r: *mut Region, xs: Value, sep: Value) -> R {
    let sep = sep_arg("string-join", sep)?;
    if let Some(joined) = join_text(r, xs, &sep)? {
        return Ok(joined);
    }
    let items = if is_array(xs) {
        // SAFETY: checked to be an array.
        resolve_all(unsafe { array_slice(xs) })
    } else {
        list_to_vec(xs).ok_or_else(|| expected("string-join", "a list or array", xs))?
    };
    let mut out = String::new();
    let seps = sep.len().saturating_mul(items.len());
    reserve_text("string-join", &mut out, string_bytes(&items, seps))?;
    for (i, &x) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(&sep);
        }
        crate::graph::print::print_value(&mut out, x, crate::graph::print::Mode::Display);
    }
    Ok(new_string(r, &out))
}

/// Visit the elements of the proper list `l` in order; `None` when `l` is
/// not a proper list (improper or cyclic: Floyd's check, as `list_to_vec`).
/// `visit` returns false to stop early (then the answer is `Some(false)`).
fn each_of_list(l: Value, mut visit: impl FnMut(Value) -> bool) -> Option<bool> {
    let mut cur = resolve(l);
    let mut slow = cur;
    let mut steps = 0usize;
    loop {
        if cur == NIL {
            return Some(true);
        }
        if !is_pair(cur) {
            return None;
        }
        // SAFETY: `cur` is a pair (checked above); `slow` trails it along
        // the same chain of pairs.
        unsafe {
            if !visit(car(cur)) {
                return Some(false);
            }
            cur = cdr(cur);
            steps += 1;
            if steps.is_multiple_of(2) {
                slow = cdr(slow);
                if slow == cur && cur != NIL {
                    return None;
                }
            }
        }
    }
}

/// `string-join` of pieces that are all strings or chars (the printer's
/// case: json's 1.5 million pieces): one pass over the list appends each
/// piece's bytes and adds up its stored char count — no vector of the
/// pieces and no recount of the chars. One pass, not a sizing pass and a
/// copying pass: the pieces are scattered through memory, and a walk of
/// them costs cache misses, not instructions. `Ok(None)` when a piece is
/// anything else (the display-form path) or `xs` is no proper list or
/// array (the general path reports it).
fn join_text(r: *mut Region, xs: Value, sep: &str) -> Result<Option<Value>, String> {
    let mut out = String::new();
    let mut chars = 0usize;
    let sep_chars = sep.chars().count();
    let mut first = true;
    let mut buf = [0u8; 4];
    let mut append = |x: Value| {
        let text: &str = if is_string(x) {
            // SAFETY: checked to be a string; strings are immutable and
            // outlive this call.
            unsafe {
                chars += string_char_len(x);
                string_str(x)
            }
        } else if is_char(x) {
            chars += 1;
            char_value(x).encode_utf8(&mut buf)
        } else {
            return false;
        };
        let sep = if first { "" } else { sep };
        chars += if first { 0 } else { sep_chars };
        first = false;
        let need = sep.len() + text.len();
        // Growth the system refuses, or past the largest object a region
        // holds: stop; the general path reports it as out of memory.
        if out.capacity() - out.len() < need
            && (out.len() + need > crate::region::MAX_ALLOC_BYTES
                || crate::base::heap_count::fallible(|| out.try_reserve(need)).is_err())
        {
            return false;
        }
        out.push_str(sep);
        out.push_str(text);
        true
    };
    let all_text = if is_array(xs) {
        // SAFETY: checked to be an array; its elements are live values.
        unsafe { array_slice(xs) }
            .iter()
            .all(|&x| append(resolve(x)))
    } else {
        each_of_list(xs, append) == Some(true)
    };
    if !all_text {
        return Ok(None);
    }
    // `out` holds the pieces and separators whose chars were added up
    // into `chars`.
    Ok(Some(new_string_counted(r, &out, chars)))
}

pub fn string_to_list(r: *mut Region, s: Value) -> R {
    let chars: Vec<Value> = str_arg("string->list", s)?.chars().map(make_char).collect();
    Ok(new_list(r, &chars))
}

pub fn list_to_string(r: *mut Region, l: Value) -> R {
    let mut out = String::new();
    let mut chars = 0usize;
    let mut not_char = None;
    let proper = each_of_list(l, |x| {
        if is_char(x) {
            out.push(char_value(x));
            chars += 1;
            true
        } else {
            not_char = Some(x);
            false
        }
    });
    match (proper, not_char) {
        (None, _) => Err(expected("list->string", "a list of chars", l)),
        // An element that is not a char: an improper or cyclic rest would
        // have been reported first by the vector this replaced, so finish
        // the check before naming the element.
        (Some(false), Some(x)) => match each_of_list(l, |_| true) {
            None => Err(expected("list->string", "a list of chars", l)),
            Some(_) => Err(expected("list->string", "a char", x)),
        },
        // `out` holds exactly the `chars` chars pushed above.
        _ => Ok(new_string_counted(r, &out, chars)),
    }
}

pub fn string_to_symbol(s: Value) -> R {
    Ok(intern(str_arg("string->symbol", s)?))
}

pub fn symbol_to_string(v: Value) -> R {
    if is_symbol(v) {
        // SAFETY: checked to be a symbol; its name string is immutable and
        // lives in the global region, so it is shared, not copied.
        Ok(unsafe { symbol_name_value(v) })
    } else {
        Err(expected("symbol->string", "a symbol", v))
    }
}

pub fn char_to_int(c: Value) -> R {
    if is_char(c) {
        Ok(make_int(char_value(c) as i64))
    } else {
        Err(expected("char->int", "a char", c))
    }
}

pub fn int_to_char(n: Value) -> R {
    let i = super::int_arg("int->char", n)?;
    u32::try_from(i)
        .ok()
        .and_then(char::from_u32)
        .map(make_char)
        .ok_or_else(|| format!("int->char: {i} is not a Unicode scalar value"))
}

/// Char index of byte offset `b` in `text`.
fn char_index(text: &str, b: usize) -> usize {
    text[..b].chars().count()
}

/// `(string-trim s)`: without leading and trailing whitespace.
pub fn string_trim(r: *mut Region, s: Value) -> R {
    Ok(new_string(r, str_arg("string-trim", s)?.trim()))
}

/// `(string-contains? s sub)`: `sub` a string or char.
pub fn string_contains(s: Value, sub: Value) -> R {
    let text = str_arg("string-contains?", s)?;
    Ok(make_bool(
        text.contains(sep_arg("string-contains?", sub)?.as_str()),
    ))
}

/// `(string-index s sub)`: the char position of the first occurrence of
/// `sub` (a string or char), or `nothing`.
pub fn string_index(s: Value, sub: Value) -> R {
    let text = str_arg("string-index", s)?;
    let sub = sep_arg("string-index", sub)?;
    Ok(match text.find(sub.as_str()) {
        Some(b) => make_int(char_index(text, b) as i64),
        None => NOTHING,
    })
}

/// `(string-replace s old new)`: every non-overlapping occurrence of `old`,
/// left to right, replaced by `new`; an empty `old` is an error.
pub fn string_replace(r: *mut Region, s: Value, old: Value, new: Value) -> R {
    let text = str_arg("string-replace", s)?;
    let old = sep_arg("string-replace", old)?;
    let new = sep_arg("string-replace", new)?;
    if old.is_empty() {
        return Err("string-replace: the string to replace is empty".into());
    }
    let count = text.matches(old.as_str()).count();
    let bytes = (text.len() - count * old.len()).saturating_add(count.saturating_mul(new.len()));
    let mut out = String::new();
    reserve_text("string-replace", &mut out, bytes)?;
    let mut last = 0;
    for (b, _) in text.match_indices(old.as_str()) {
        out.push_str(&text[last..b]);
        out.push_str(&new);
        last = b + old.len();
    }
    out.push_str(&text[last..]);
    Ok(new_string(r, &out))
}

/// `(string-starts-with? s p)`: `p` a string or char.
pub fn string_starts_with(s: Value, p: Value) -> R {
    let text = str_arg("string-starts-with?", s)?;
    Ok(make_bool(
        text.starts_with(sep_arg("string-starts-with?", p)?.as_str()),
    ))
}

/// `(string-ends-with? s p)`: `p` a string or char.
pub fn string_ends_with(s: Value, p: Value) -> R {
    let text = str_arg("string-ends-with?", s)?;
    Ok(make_bool(
        text.ends_with(sep_arg("string-ends-with?", p)?.as_str()),
    ))
}

/// `string<?`, `string>?`, `string=?`: code-point (lexicographic) order.
pub fn string_compare(prim: &str, a: Value, b: Value, want: std::cmp::Ordering) -> R {
    let (a, b) = (str_arg(prim, a)?, str_arg(prim, b)?);
    Ok(make_bool(a.cmp(b) == want))
}

/// `(string-repeat s n)`: `n` copies of `s`; a negative `n` is an error and
/// a result too big to allocate is the error "out of memory".
pub fn string_repeat(r: *mut Region, s: Value, n: Value) -> R {
    let text = str_arg("string-repeat", s)?;
    let n = super::int_arg("string-repeat", n)?;
    if n < 0 {
        return Err(format!("string-repeat: negative count {n}"));
    }
    let bytes = text
        .len()
        .saturating_mul(usize::try_from(n).unwrap_or(usize::MAX));
    let mut out = String::new();
    reserve_text("string-repeat", &mut out, bytes)?;
    for _ in 0..n {
        out.push_str(text);
    }
    Ok(new_string(r, &out))
}

/// `(format fmt args...)`: each `{}` in `fmt` is replaced by the display
/// form of the next argument; `{{` and `}}` are literal braces. A lone brace
/// or a placeholder count different from the argument count is an error.
pub fn format_text(r: *mut Region, args: &[Value]) -> R {
    let Some((&fmt, rest)) = args.split_first() else {
        return Err(arg_count("format", "at least 1", 0));
    };
    let text = str_arg("format", fmt)?;
    let mut out = String::new();
    let mut next = 0usize;
    let mut chars = text.char_indices().peekable();
    let mut placeholders = 0usize;
    while let Some((i, c)) = chars.next() {
        match c {
            '{' if chars.peek().map(|p| p.1) == Some('{') => {
                chars.next();
                out.push('{');
            }
            '}' if chars.peek().map(|p| p.1) == Some('}') => {
                chars.next();
                out.push('}');
            }
            '{' if chars.peek().map(|p| p.1) == Some('}') => {
                chars.next();
                placeholders += 1;
                if let Some(&v) = rest.get(next) {
                    crate::graph::print::print_value(
                        &mut out,
                        v,
                        crate::graph::print::Mode::Display,
                    );
                }
                next += 1;
            }
            '{' | '}' => {
                return Err(format!(
                    "format: lone `{c}` at position {} of the format string (write `{c}{c}` for a literal brace)",
                    char_index(text, i)
                ))
            }
            _ => out.push(c),
        }
    }
    if placeholders != rest.len() {
        return Err(format!(
            "format: the format string has {placeholders} placeholder{} but {} argument{} {} given",
            if placeholders == 1 { "" } else { "s" },
            rest.len(),
            if rest.len() == 1 { "" } else { "s" },
            if rest.len() == 1 { "was" } else { "were" },
        ));
    }
    Ok(new_string(r, &out))
}

/// The char argument of a char primitive.
fn char_arg(prim: &str, c: Value) -> Result<char, String> {
    if is_char(c) {
        Ok(char_value(c))
    } else {
        Err(expected(prim, "a char", c))
    }
}

/// `char-upcase` / `char-downcase`: the case mapping when it is a single
/// char (Unicode), else the char unchanged (`ß` has no one-char upper case).
fn map_case<I: Iterator<Item = char>>(c: char, mapped: I) -> Value {
    let mut m = mapped;
    match (m.next(), m.next()) {
        (Some(x), None) => make_char(x),
        _ => make_char(c),
    }
}

pub fn char_predicate(prim: &str, c: Value, test: fn(char) -> bool) -> R {
    Ok(make_bool(test(char_arg(prim, c)?)))
}

prim_variadic!(omni_prim_str => str_concat);
prim_variadic!(omni_prim_string_append => string_append);
prim_fixed!(omni_prim_string_length(s) => |_, s| string_length(s));
prim_variadic!(omni_prim_substring => substring);
prim_fixed!(omni_prim_string_ref(s, i) => |_, s, i| string_ref(s, i));
prim_variadic!(omni_prim_string_split => string_split_variadic);
prim_fixed!(omni_prim_string_join(xs, sep) => string_join);
prim_fixed!(omni_prim_string_upcase(s) => |r, s| Ok(new_string(r, &str_arg("string-upcase", s)?.to_uppercase())));
prim_fixed!(omni_prim_string_downcase(s) => |r, s| Ok(new_string(r, &str_arg("string-downcase", s)?.to_lowercase())));
prim_fixed!(omni_prim_string_to_list(s) => string_to_list);
prim_fixed!(omni_prim_list_to_string(l) => list_to_string);
prim_fixed!(omni_prim_string_to_symbol(s) => |_, s| string_to_symbol(s));
prim_fixed!(omni_prim_symbol_to_string(s) => |_, s| symbol_to_string(s));
prim_fixed!(omni_prim_char_to_int(c) => |_, c| char_to_int(c));
prim_fixed!(omni_prim_int_to_char(n) => |_, n| int_to_char(n));
prim_fixed!(omni_prim_string_trim(s) => string_trim);
prim_fixed!(omni_prim_string_contains_p(s, sub) => |_, s, sub| string_contains(s, sub));
prim_fixed!(omni_prim_string_index(s, sub) => |_, s, sub| string_index(s, sub));
prim_fixed!(omni_prim_string_replace(s, old, new) => string_replace);
prim_fixed!(omni_prim_string_starts_with_p(s, p) => |_, s, p| string_starts_with(s, p));
prim_fixed!(omni_prim_string_ends_with_p(s, p) => |_, s, p| string_ends_with(s, p));
prim_fixed!(omni_prim_string_lt_p(a, b) => |_, a, b| string_compare("string<?", a, b, std::cmp::Ordering::Less));
prim_fixed!(omni_prim_string_gt_p(a, b) => |_, a, b| string_compare("string>?", a, b, std::cmp::Ordering::Greater));
prim_fixed!(omni_prim_string_eq_p(a, b) => |_, a, b| string_compare("string=?", a, b, std::cmp::Ordering::Equal));
prim_fixed!(omni_prim_string_repeat(s, n) => string_repeat);
prim_variadic!(omni_prim_format => format_text);
prim_fixed!(omni_prim_char_alphabetic_p(c) => |_, c| char_predicate("char-alphabetic?", c, char::is_alphabetic));
prim_fixed!(omni_prim_char_numeric_p(c) => |_, c| char_predicate("char-numeric?", c, char::is_numeric));
prim_fixed!(omni_prim_char_whitespace_p(c) => |_, c| char_predicate("char-whitespace?", c, char::is_whitespace));
prim_fixed!(omni_prim_char_upcase(c) => |_, c| char_arg("char-upcase", c).map(|ch| map_case(ch, ch.to_uppercase())));
prim_fixed!(omni_prim_char_downcase(c) => |_, c| char_arg("char-downcase", c).map(|ch| map_case(ch, ch.to_lowercase())));

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::print::{display_string as shown, write_string};
    use crate::region::region_create;

    #[test]
    fn non_ascii_text() {
        let r = region_create();
        let s = new_string(r, "héllo λ→世界");
        assert_eq!(string_length(s).unwrap(), make_int(10));
        assert_eq!(string_ref(s, make_int(1)).unwrap(), make_char('é'));
        assert_eq!(string_ref(s, make_int(9)).unwrap(), make_char('界'));
        assert_eq!(
            string_ref(s, make_int(10)).unwrap_err(),
            "string-ref: index 10 out of bounds for string of length 10"
        );
        let sub = substring(r, &[s, make_int(6), make_int(8)]).unwrap();
        assert_eq!(write_string(sub), "\"λ→\"");
        assert_eq!(shown(substring(r, &[s, make_int(8)]).unwrap()), "世界");
        assert_eq!(
            substring(r, &[s, make_int(3), make_int(11)]).unwrap_err(),
            "substring: range 3..11 out of bounds for string of length 10"
        );
        let up =
            (|r, s| Ok::<_, String>(new_string(r, &str_arg("string-upcase", s)?.to_uppercase())))(
                r, s,
            )
            .unwrap();
        assert_eq!(shown(up), "HÉLLO Λ→世界");
        let chars = string_to_list(r, new_string(r, "aλ")).unwrap();
        assert_eq!(write_string(chars), "(#\\a #\\λ)");
        assert_eq!(shown(list_to_string(r, chars).unwrap()), "aλ");
        assert_eq!(char_to_int(make_char('λ')).unwrap(), make_int(0x3bb));
        assert_eq!(int_to_char(make_int(0x3bb)).unwrap(), make_char('λ'));
        assert_eq!(
            int_to_char(make_int(0xD800)).unwrap_err(),
            "int->char: 55296 is not a Unicode scalar value"
        );
    }

    #[test]
    fn split_join_concat() {
        let r = region_create();
        let parts = string_split(r, new_string(r, "a,b,,ç"), new_string(r, ",")).unwrap();
        assert_eq!(write_string(parts), "(\"a\" \"b\" \"\" \"ç\")");
        let chars = string_split(r, new_string(r, "añ"), new_string(r, "")).unwrap();
        assert_eq!(write_string(chars), "(\"a\" \"ñ\")");
        let by_char = string_split(r, new_string(r, "x y"), make_char(' ')).unwrap();
        assert_eq!(write_string(by_char), "(\"x\" \"y\")");
        assert_eq!(
            shown(string_join(r, parts, new_string(r, "-")).unwrap()),
            "a-b--ç"
        );
        let mixed = new_list(r, &[make_int(1), new_string(r, "x"), make_char('c')]);
        assert_eq!(
            shown(string_join(r, mixed, new_string(r, ", ")).unwrap()),
            "1, x, c"
        );
        let s = str_concat(r, &[new_string(r, "n="), make_int(5), NIL, intern("sym")]).unwrap();
        assert_eq!(write_string(s), "\"n=5()sym\"");
        assert_eq!(
            string_append(r, &[new_string(r, "a"), make_int(1)]).unwrap_err(),
            "string-append: expected a string, got 1"
        );
        let sym = string_to_symbol(new_string(r, "ab")).unwrap();
        assert_eq!(sym, intern("ab"));
        assert_eq!(shown(symbol_to_string(sym).unwrap()), "ab");
    }

    #[test]
    fn section_10_string_functions() {
        let r = region_create();
        let st = |t: &str| new_string(r, t);
        assert_eq!(shown(string_trim(r, st(" \t x y \n")).unwrap()), "x y");
        let words = string_split_variadic(r, &[st("  a  b\tc ")]).unwrap();
        assert_eq!(write_string(words), "(\"a\" \"b\" \"c\")");
        assert_eq!(string_split_variadic(r, &[st(" ")]).unwrap(), NIL);
        assert_eq!(
            string_split_variadic(r, &[]).unwrap_err(),
            "string-split: expected 1 or 2 arguments, got 0"
        );
        assert_eq!(string_contains(st("hello"), st("ll")).unwrap(), TRUE);
        assert_eq!(string_index(st("héllo"), st("l")).unwrap(), make_int(2));
        assert_eq!(
            string_index(st("abc"), make_char('c')).unwrap(),
            make_int(2)
        );
        assert_eq!(string_index(st("abc"), st("x")).unwrap(), NOTHING);
        let replaced = string_replace(r, st("a.b.c"), st("."), st("::")).unwrap();
        assert_eq!(shown(replaced), "a::b::c");
        assert_eq!(
            string_replace(r, st("abc"), st(""), st("x")).unwrap_err(),
            "string-replace: the string to replace is empty"
        );
        assert_eq!(string_starts_with(st("abc"), st("ab")).unwrap(), TRUE);
        assert_eq!(string_ends_with(st("abc"), st("ab")).unwrap(), FALSE);
        use std::cmp::Ordering::*;
        assert_eq!(
            string_compare("string<?", st("a"), st("b"), Less).unwrap(),
            TRUE
        );
        assert_eq!(
            string_compare("string=?", st("a"), st("b"), Equal).unwrap(),
            FALSE
        );
        assert_eq!(
            string_compare("string<?", st("a"), make_int(1), Less).unwrap_err(),
            "string<?: expected a string, got 1"
        );
        assert_eq!(
            shown(string_repeat(r, st("ab"), make_int(3)).unwrap()),
            "ababab"
        );
        assert_eq!(
            string_repeat(r, st("ab"), make_int(-1)).unwrap_err(),
            "string-repeat: negative count -1"
        );
        let huge = string_repeat(r, st("ab"), make_int(INT_MAX)).unwrap_err();
        assert!(huge.starts_with("out of memory: string-repeat"), "{huge}");
        let f = format_text(r, &[st("{{{}}} {}!"), make_int(1), st("x")]).unwrap();
        assert_eq!(shown(f), "{1} x!");
        assert_eq!(
            format_text(r, &[st("{}")]).unwrap_err(),
            "format: the format string has 1 placeholder but 0 arguments were given"
        );
        assert_eq!(
            format_text(r, &[st("a } b")]).unwrap_err(),
            "format: lone `}` at position 2 of the format string (write `}}` for a literal brace)"
        );
        assert_eq!(map_case('a', 'a'.to_uppercase()), make_char('A'));
        assert_eq!(map_case('ß', 'ß'.to_uppercase()), make_char('ß'));
        assert_eq!(
            char_predicate("char-numeric?", make_char('7'), char::is_numeric).unwrap(),
            TRUE
        );
        assert_eq!(
            char_predicate("char-numeric?", make_int(7), char::is_numeric).unwrap_err(),
            "char-numeric?: expected a char, got 7"
        );
    }

    /// A string result too big to allocate is the error "out of memory",
    /// not an abort inside `String` growth (issue 14, defect 5).
    #[test]
    fn an_impossible_string_size_is_out_of_memory() {
        let mut s = String::new();
        let err = reserve_text("string-append", &mut s, usize::MAX).unwrap_err();
        assert!(err.starts_with("out of memory: string-append"), "{err}");
        assert!(reserve_text("str", &mut s, 10).is_ok());
    }
}
