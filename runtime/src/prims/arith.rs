//! Numeric primitives: the binary slow paths of inline arithmetic (`%add`
//! …), the variadic operators, comparisons and the numeric library.
//!
//! Int op Int stays Int and overflow of the 63-bit range is the error
//! "integer overflow"; any Float operand makes the result a Float (IEEE
//! semantics, so Float division by zero gives an infinity). Int division
//! truncates toward zero and an Int divisor of zero is "division by zero".
//! Comparisons between Int and Float are exact (no rounding of the Int).

use super::{arg_count, expected, new_float, new_string, prim_fixed, prim_variadic, str_arg, R};
use crate::base::value::*;
use crate::graph::print::format_float;
use crate::heap::object::{float_value, is_float};
use crate::region::Region;
use std::cmp::Ordering;

/// An unboxed number.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Num {
    I(i64),
    F(f64),
}

impl Num {
    fn to_f64(self) -> f64 {
        match self {
            Num::I(i) => i as f64,
            Num::F(f) => f,
        }
    }
}

/// Read a number argument of primitive `prim`.
pub fn num(prim: &str, v: Value) -> Result<Num, String> {
    if is_int(v) {
        Ok(Num::I(int_value(v)))
    } else if is_float(v) {
        // SAFETY: checked to be a float.
        Ok(Num::F(unsafe { float_value(v) }))
    } else {
        Err(expected(prim, "a number", v))
    }
}

/// Box a number result.
pub fn num_value(r: *mut Region, n: Num) -> Value {
    match n {
        Num::I(i) => make_int(i),
        Num::F(f) => new_float(r, f),
    }
}

const OVERFLOW: &str = "integer overflow";
const DIV_ZERO: &str = "division by zero";

fn checked_int(n: Option<i64>) -> Result<Num, String> {
    match n {
        Some(i) if fits_int(i) => Ok(Num::I(i)),
        _ => Err(OVERFLOW.to_owned()),
    }
}

pub fn add(a: Num, b: Num) -> Result<Num, String> {
    match (a, b) {
        (Num::I(x), Num::I(y)) => checked_int(x.checked_add(y)),
        _ => Ok(Num::F(a.to_f64() + b.to_f64())),
    }
}

pub fn sub(a: Num, b: Num) -> Result<Num, String> {
    match (a, b) {
        (Num::I(x), Num::I(y)) => checked_int(x.checked_sub(y)),
        _ => Ok(Num::F(a.to_f64() - b.to_f64())),
    }
}

pub fn mul(a: Num, b: Num) -> Result<Num, String> {
    match (a, b) {
        (Num::I(x), Num::I(y)) => checked_int(x.checked_mul(y)),
        _ => Ok(Num::F(a.to_f64() * b.to_f64())),
    }
}

/// `/`: truncating on two Ints.
pub fn div(a: Num, b: Num) -> Result<Num, String> {
    match (a, b) {
        (Num::I(_), Num::I(0)) => Err(DIV_ZERO.to_owned()),
        (Num::I(x), Num::I(y)) => checked_int(x.checked_div(y)),
        _ => Ok(Num::F(a.to_f64() / b.to_f64())),
    }
}

/// Exact comparison of an Int with a Float (`None` when the Float is NaN).
fn cmp_int_float(i: i64, f: f64) -> Option<Ordering> {
    if f.is_nan() {
        return None;
    }
    // Every Int (63-bit) is within ±2^62, so a Float beyond ±2^63 decides
    // the order by sign; otherwise compare the integer parts exactly and
    // break ties with the fractional part.
    let two_63 = -(i64::MIN as f64);
    if f >= two_63 {
        return Some(Ordering::Less);
    }
    if f < -two_63 {
        return Some(Ordering::Greater);
    }
    let fl = f.floor();
    match (i as i128).cmp(&(fl as i128)) {
        Ordering::Equal if f > fl => Some(Ordering::Less),
        o => Some(o),
    }
}

/// Numeric order (`None` if a NaN is involved).
pub fn compare(a: Num, b: Num) -> Option<Ordering> {
    match (a, b) {
        (Num::I(x), Num::I(y)) => Some(x.cmp(&y)),
        (Num::F(x), Num::F(y)) => x.partial_cmp(&y),
        (Num::I(x), Num::F(y)) => cmp_int_float(x, y),
        (Num::F(x), Num::I(y)) => cmp_int_float(y, x).map(Ordering::reverse),
    }
}

#[derive(Clone, Copy)]
pub enum Cmp {
    Lt,
    Gt,
    Le,
    Ge,
    Eq,
    Ne,
}

impl Cmp {
    fn holds(self, o: Option<Ordering>) -> bool {
        match (self, o) {
            (Cmp::Ne, None) => true,
            (_, None) => false,
            (Cmp::Lt, Some(o)) => o == Ordering::Less,
            (Cmp::Gt, Some(o)) => o == Ordering::Greater,
            (Cmp::Le, Some(o)) => o != Ordering::Greater,
            (Cmp::Ge, Some(o)) => o != Ordering::Less,
            (Cmp::Eq, Some(o)) => o == Ordering::Equal,
            (Cmp::Ne, Some(o)) => o != Ordering::Equal,
        }
    }
}

// ------------------------------------------------------- binary slow paths

fn binary(
    prim: &str,
    op: fn(Num, Num) -> Result<Num, String>,
) -> impl Fn(*mut Region, Value, Value) -> R + '_ {
    move |r, a, b| Ok(num_value(r, op(num(prim, a)?, num(prim, b)?)?))
}

fn binary_cmp(prim: &str, c: Cmp) -> impl Fn(*mut Region, Value, Value) -> R + '_ {
    move |_, a, b| Ok(make_bool(c.holds(compare(num(prim, a)?, num(prim, b)?))))
}

prim_fixed!(omni_prim_add2(a, b) => binary("+", add));
prim_fixed!(omni_prim_sub2(a, b) => binary("-", sub));
prim_fixed!(omni_prim_mul2(a, b) => binary("*", mul));
prim_fixed!(omni_prim_div2(a, b) => binary("/", div));
prim_fixed!(omni_prim_lt2(a, b) => binary_cmp("<", Cmp::Lt));
prim_fixed!(omni_prim_gt2(a, b) => binary_cmp(">", Cmp::Gt));
prim_fixed!(omni_prim_le2(a, b) => binary_cmp("<=", Cmp::Le));
prim_fixed!(omni_prim_ge2(a, b) => binary_cmp(">=", Cmp::Ge));
prim_fixed!(omni_prim_numeq2(a, b) => binary_cmp("=", Cmp::Eq));
prim_fixed!(omni_prim_numne2(a, b) => binary_cmp("!=", Cmp::Ne));

// ---------------------------------------------------------- variadic forms

/// Left fold of `op` starting from `unit` (or from the first argument when
/// `unit` is None; with one argument, `op(unit1, x)` gives negation and
/// reciprocal).
fn fold(
    prim: &str,
    args: &[Value],
    op: fn(Num, Num) -> Result<Num, String>,
    unit: Num,
    from_first: bool,
) -> Result<Num, String> {
    let nums: Vec<Num> = args
        .iter()
        .map(|&v| num(prim, v))
        .collect::<Result<_, _>>()?;
    if from_first && nums.len() >= 2 {
        let mut acc = nums[0];
        for &n in &nums[1..] {
            acc = op(acc, n)?;
        }
        Ok(acc)
    } else {
        let mut acc = unit;
        for &n in &nums {
            acc = op(acc, n)?;
        }
        Ok(acc)
    }
}

pub fn variadic_add(r: *mut Region, args: &[Value]) -> R {
    Ok(num_value(r, fold("+", args, add, Num::I(0), false)?))
}
pub fn variadic_mul(r: *mut Region, args: &[Value]) -> R {
    Ok(num_value(r, fold("*", args, mul, Num::I(1), false)?))
}
/// `(- x)` negates; `(- a b c)` is `a - b - c`.
pub fn variadic_sub(r: *mut Region, args: &[Value]) -> R {
    if args.is_empty() {
        return Err(arg_count("-", "at least 1", 0));
    }
    if let [x] = args {
        // Negation, not `0 - x`: IEEE negation of `0.0` is `-0.0`.
        return Ok(num_value(
            r,
            match num("-", *x)? {
                Num::I(i) => checked_int(i.checked_neg())?,
                Num::F(f) => Num::F(-f),
            },
        ));
    }
    Ok(num_value(r, fold("-", args, sub, Num::I(0), true)?))
}
/// `(/ x)` is `1/x`; `(/ a b c)` is `a / b / c`.
pub fn variadic_div(r: *mut Region, args: &[Value]) -> R {
    if args.is_empty() {
        return Err(arg_count("/", "at least 1", 0));
    }
    Ok(num_value(r, fold("/", args, div, Num::I(1), true)?))
}

/// Chained comparison: every adjacent pair satisfies `c` (all arguments are
/// type-checked even after the result is known).
pub fn chain(prim: &str, c: Cmp, args: &[Value]) -> R {
    if args.is_empty() {
        return Err(arg_count(prim, "at least 1", 0));
    }
    // Every argument is checked to be a number, even after the chain
    // has failed; no vector (this is the path of `<` used as a value).
    let mut holds = true;
    let mut prev = num(prim, args[0])?;
    for &v in &args[1..] {
        let next = num(prim, v)?;
        holds &= c.holds(compare(prev, next));
        prev = next;
    }
    Ok(make_bool(holds))
}

prim_variadic!(omni_prim_add => variadic_add);
prim_variadic!(omni_prim_sub => variadic_sub);
prim_variadic!(omni_prim_mul => variadic_mul);
prim_variadic!(omni_prim_div => variadic_div);
prim_variadic!(omni_prim_lt => |_, a| chain("<", Cmp::Lt, a));
prim_variadic!(omni_prim_gt => |_, a| chain(">", Cmp::Gt, a));
prim_variadic!(omni_prim_le => |_, a| chain("<=", Cmp::Le, a));
prim_variadic!(omni_prim_ge => |_, a| chain(">=", Cmp::Ge, a));
prim_variadic!(omni_prim_numeq => |_, a| chain("=", Cmp::Eq, a));
prim_variadic!(omni_prim_numne => |_, a| chain("!=", Cmp::Ne, a));

// ------------------------------------------------------------ integer-ish

#[derive(Clone, Copy)]
pub enum DivKind {
    Quot,
    Rem,
    Mod,
}

/// `quot` and `rem` truncate toward zero; `mod` is floored (takes the
/// divisor's sign). Floats are accepted with the same definitions.
pub fn int_division(prim: &str, k: DivKind, a: Value, b: Value) -> Result<Num, String> {
    match (num(prim, a)?, num(prim, b)?) {
        (Num::I(_), Num::I(0)) => Err(DIV_ZERO.to_owned()),
        (Num::I(x), Num::I(y)) => match k {
            DivKind::Quot => checked_int(x.checked_div(y)),
            // rem/mod cannot overflow: |result| < |y|; wrapping_rem only
            // differs for i64::MIN / -1, which is outside the Int range.
            DivKind::Rem => Ok(Num::I(x.wrapping_rem(y))),
            DivKind::Mod => {
                let m = x.wrapping_rem(y);
                Ok(Num::I(if m != 0 && (m < 0) != (y < 0) {
                    m + y
                } else {
                    m
                }))
            }
        },
        (x, y) => {
            let (x, y) = (x.to_f64(), y.to_f64());
            Ok(Num::F(match k {
                DivKind::Quot => (x / y).trunc(),
                DivKind::Rem => x % y,
                DivKind::Mod => {
                    let m = x % y;
                    if m != 0.0 && (m < 0.0) != (y < 0.0) {
                        m + y
                    } else {
                        m
                    }
                }
            }))
        }
    }
}

prim_fixed!(omni_prim_quot(a, b) => |r, a, b| Ok(num_value(r, int_division("quot", DivKind::Quot, a, b)?)));
prim_fixed!(omni_prim_rem(a, b) => |r, a, b| Ok(num_value(r, int_division("rem", DivKind::Rem, a, b)?)));
prim_fixed!(omni_prim_mod(a, b) => |r, a, b| Ok(num_value(r, int_division("mod", DivKind::Mod, a, b)?)));

pub fn abs(r: *mut Region, v: Value) -> R {
    Ok(num_value(
        r,
        match num("abs", v)? {
            Num::I(i) => checked_int(i.checked_abs())?,
            Num::F(f) => Num::F(f.abs()),
        },
    ))
}
prim_fixed!(omni_prim_abs(v) => abs);

/// `min`/`max`: the chosen argument itself (its own type). A NaN argument
/// is the result of both (the first NaN; every argument is still checked to
/// be a number), as IEEE `minimum`/`maximum` specify.
pub fn extremum(prim: &str, want: Ordering, args: &[Value]) -> R {
    let Some((&first, rest)) = args.split_first() else {
        return Err(arg_count(prim, "at least 1", 0));
    };
    // Fast path: all fixnums (tagged words compare like their values).
    if args.iter().all(|&v| is_int(v)) {
        let pick = |a: Value, b: Value| {
            if (b as i64).cmp(&(a as i64)) == want {
                b
            } else {
                a
            }
        };
        return Ok(rest.iter().fold(first, |best, &v| pick(best, v)));
    }
    let is_nan = |n: Num| matches!(n, Num::F(f) if f.is_nan());
    let mut best = first;
    let mut best_n = num(prim, first)?;
    for &v in rest {
        let n = num(prim, v)?;
        if is_nan(best_n) {
            continue;
        }
        if is_nan(n) || compare(n, best_n) == Some(want) {
            best = v;
            best_n = n;
        }
    }
    Ok(best)
}
prim_variadic!(omni_prim_min => |_, a| extremum("min", Ordering::Less, a));
prim_variadic!(omni_prim_max => |_, a| extremum("max", Ordering::Greater, a));

prim_fixed!(omni_prim_zero_p(v) => |_, v| Ok(make_bool(match num("zero?", v)? {
    Num::I(i) => i == 0,
    Num::F(f) => f == 0.0,
})));
prim_fixed!(omni_prim_even_p(v) => |_, v| Ok(make_bool(super::int_arg("even?", v)? % 2 == 0)));
prim_fixed!(omni_prim_odd_p(v) => |_, v| Ok(make_bool(super::int_arg("odd?", v)? % 2 != 0)));

prim_fixed!(omni_prim_float(v) => |r, v| Ok(new_float(r, num("float", v)?.to_f64())));

/// `int`: truncates a Float toward zero; an error when it has no Int value.
pub fn to_int(v: Value) -> R {
    match num("int", v)? {
        Num::I(i) => Ok(make_int(i)),
        Num::F(f) => {
            let t = f.trunc();
            // `INT_MAX as f64` rounds up to 2^62, which is out of range:
            // compare against the exact bounds -2^62 <= t < 2^62.
            let bound = -(INT_MIN as f64);
            if t.is_finite() && t >= -bound && t < bound {
                Ok(make_int(t as i64))
            } else {
                Err(format!(
                    "int: cannot convert {} to an integer",
                    format_float(f)
                ))
            }
        }
    }
}
prim_fixed!(omni_prim_int(v) => |_, v| to_int(v));

/// Rounding keeps the argument's type: an Int is returned unchanged, a
/// Float rounds to an integral Float (`round` is half-to-even).
fn rounding(prim: &'static str, f: fn(f64) -> f64) -> impl Fn(*mut Region, Value) -> R {
    move |r, v| match num(prim, v)? {
        Num::I(_) => Ok(v),
        Num::F(x) => Ok(new_float(r, f(x))),
    }
}
prim_fixed!(omni_prim_floor(v) => rounding("floor", f64::floor));
prim_fixed!(omni_prim_ceil(v) => rounding("ceil", f64::ceil));
prim_fixed!(omni_prim_round(v) => rounding("round", f64::round_ties_even));

// `sqrt` always returns a Float (`(sqrt 16)` is `4.0`; negative → NaN).
prim_fixed!(omni_prim_sqrt(v) => |r, v| Ok(new_float(r, num("sqrt", v)?.to_f64().sqrt())));

/// `expt`: Int base and non-negative Int exponent give an exact Int
/// (overflow is an error); otherwise a Float.
pub fn expt(a: Num, b: Num) -> Result<Num, String> {
    match (a, b) {
        (Num::I(x), Num::I(y)) if y >= 0 => {
            let e = u32::try_from(y).ok();
            match (x, e) {
                (0 | 1, _) => Ok(Num::I(if y == 0 { 1 } else { x })),
                (-1, _) => Ok(Num::I(if y % 2 == 0 { 1 } else { -1 })),
                (_, Some(e)) => checked_int(x.checked_pow(e)),
                (_, None) => Err(OVERFLOW.to_owned()),
            }
        }
        (Num::I(x), Num::I(y)) => Ok(Num::F((x as f64).powf(y as f64))),
        _ => Ok(Num::F(a.to_f64().powf(b.to_f64()))),
    }
}
prim_fixed!(omni_prim_expt(a, b) => |r, a, b| Ok(num_value(r, expt(num("expt", a)?, num("expt", b)?)?)));

prim_fixed!(omni_prim_number_to_string(v) => |r, v| {
    let text = match num("number->string", v)? {
        Num::I(i) => i.to_string(),
        Num::F(f) => format_float(f),
    };
    Ok(new_string(r, &text))
});

/// Parse a number the way the reader writes one: optional sign, decimal or
/// `0x` hex Ints with `_` separators, decimal Floats with `.`/exponent.
/// `None` when the text is not a number or an Int is out of range.
pub fn parse_number(text: &str) -> Option<Num> {
    let t = text.trim();
    let (neg, body) = match t.as_bytes().first()? {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, t),
    };
    if body.is_empty() || !body.as_bytes()[0].is_ascii_digit() && !body.starts_with('.') {
        return None;
    }
    let clean: String = body.chars().filter(|&c| c != '_').collect();
    if let Some(hex) = clean
        .strip_prefix("0x")
        .or_else(|| clean.strip_prefix("0X"))
    {
        let m = i64::from_str_radix(hex, 16).ok()?;
        let n = if neg { -m } else { m };
        return fits_int(n).then_some(Num::I(n));
    }
    if clean.bytes().all(|b| b.is_ascii_digit()) {
        let m: i64 = clean.parse().ok()?;
        let n = if neg { -m } else { m };
        return fits_int(n).then_some(Num::I(n));
    }
    // Only digits, one '.', and an exponent: rejects "inf", "nan" and "1x".
    if !clean
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'))
    {
        return None;
    }
    let f: f64 = clean.parse().ok()?;
    Some(Num::F(if neg { -f } else { f }))
}

// `string->number`: the number, or `nothing` when the text is not one.
prim_fixed!(omni_prim_string_to_number(v) => |r, v| {
    Ok(parse_number(str_arg("string->number", v)?).map_or(NOTHING, |n| num_value(r, n)))
});

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::print::display_string;
    use crate::region::region_create;

    fn ints(xs: &[i64]) -> Vec<Value> {
        xs.iter().map(|&n| make_int(n)).collect()
    }

    #[test]
    fn overflow_is_detected_at_int_max() {
        let r = region_create();
        let add2 = binary("+", add);
        assert_eq!(
            add2(r, make_int(INT_MAX), make_int(1)).unwrap_err(),
            "integer overflow"
        );
        assert_eq!(
            add2(r, make_int(INT_MAX - 1), make_int(1)).unwrap(),
            make_int(INT_MAX)
        );
        assert_eq!(
            binary("-", sub)(r, make_int(INT_MIN), make_int(1)).unwrap_err(),
            "integer overflow"
        );
        assert_eq!(
            binary("*", mul)(r, make_int(INT_MAX / 2 + 1), make_int(2)).unwrap_err(),
            "integer overflow"
        );
        assert_eq!(
            variadic_sub(r, &ints(&[INT_MIN])).unwrap_err(),
            "integer overflow"
        );
        assert_eq!(abs(r, make_int(INT_MIN)).unwrap_err(), "integer overflow");
        assert_eq!(
            variadic_div(r, &ints(&[INT_MIN, -1])).unwrap_err(),
            "integer overflow"
        );
    }

    #[test]
    fn mixing_and_type_errors() {
        let r = region_create();
        let f = new_float(r, 0.5);
        assert_eq!(
            display_string(variadic_add(r, &[make_int(1), f]).unwrap()),
            "1.5"
        );
        assert_eq!(display_string(variadic_add(r, &[]).unwrap()), "0");
        assert_eq!(
            display_string(variadic_mul(r, &ints(&[2, 3, 4])).unwrap()),
            "24"
        );
        assert_eq!(display_string(variadic_sub(r, &ints(&[5])).unwrap()), "-5");
        assert_eq!(
            display_string(variadic_sub(r, &ints(&[10, 1, 2])).unwrap()),
            "7"
        );
        let s = new_string(r, "a");
        assert_eq!(
            variadic_add(r, &[make_int(1), s]).unwrap_err(),
            "+: expected a number, got \"a\""
        );
        assert_eq!(
            binary("+", add)(r, s, make_int(1)).unwrap_err(),
            "+: expected a number, got \"a\""
        );
    }

    #[test]
    fn division() {
        let r = region_create();
        assert_eq!(variadic_div(r, &ints(&[7, 2])).unwrap(), make_int(3));
        assert_eq!(variadic_div(r, &ints(&[-7, 2])).unwrap(), make_int(-3));
        assert_eq!(variadic_div(r, &ints(&[100, 5, 2])).unwrap(), make_int(10));
        assert_eq!(
            variadic_div(r, &ints(&[1, 0])).unwrap_err(),
            "division by zero"
        );
        assert_eq!(
            display_string(variadic_div(r, &[make_int(7), new_float(r, 2.0)]).unwrap()),
            "3.5"
        );
        assert_eq!(
            display_string(variadic_div(r, &[new_float(r, 1.0), make_int(0)]).unwrap()),
            "+inf.0"
        );
        let d = |a, b, k| int_division("x", k, make_int(a), make_int(b)).unwrap();
        assert_eq!(d(-7, 2, DivKind::Quot), Num::I(-3));
        assert_eq!(d(-7, 2, DivKind::Rem), Num::I(-1));
        assert_eq!(d(-7, 2, DivKind::Mod), Num::I(1));
        assert_eq!(d(7, -2, DivKind::Mod), Num::I(-1));
        assert_eq!(d(7, 2, DivKind::Mod), Num::I(1));
        assert_eq!(d(-6, 3, DivKind::Mod), Num::I(0));
        assert_eq!(
            int_division("mod", DivKind::Mod, make_int(1), make_int(0)).unwrap_err(),
            "division by zero"
        );
        let fm = int_division("mod", DivKind::Mod, new_float(r, -7.5), make_int(2)).unwrap();
        assert_eq!(fm, Num::F(0.5));
    }

    #[test]
    fn comparisons_chain_and_mix_exactly() {
        let r = region_create();
        assert_eq!(chain("<", Cmp::Lt, &ints(&[1, 2, 3])).unwrap(), TRUE);
        assert_eq!(chain("<", Cmp::Lt, &ints(&[1, 3, 2])).unwrap(), FALSE);
        assert_eq!(chain("<=", Cmp::Le, &ints(&[1, 1, 2])).unwrap(), TRUE);
        assert_eq!(chain("=", Cmp::Eq, &ints(&[4])).unwrap(), TRUE);
        assert_eq!(chain("!=", Cmp::Ne, &ints(&[1, 2, 1])).unwrap(), TRUE);
        assert_eq!(
            chain("=", Cmp::Eq, &[make_int(1), new_float(r, 1.0)]).unwrap(),
            TRUE
        );
        // 2^53 + 1 is not representable as a Float; comparison stays exact.
        let big = (1i64 << 53) + 1;
        assert_eq!(
            chain(
                "=",
                Cmp::Eq,
                &[make_int(big), new_float(r, (1u64 << 53) as f64)]
            )
            .unwrap(),
            FALSE
        );
        assert_eq!(
            chain(
                ">",
                Cmp::Gt,
                &[make_int(big), new_float(r, (1u64 << 53) as f64)]
            )
            .unwrap(),
            TRUE
        );
        assert_eq!(
            chain("<", Cmp::Lt, &[make_int(2), new_float(r, 2.5)]).unwrap(),
            TRUE
        );
        assert_eq!(
            chain("<", Cmp::Lt, &[make_int(-3), new_float(r, -2.5)]).unwrap(),
            TRUE
        );
        assert_eq!(
            chain("<", Cmp::Lt, &[new_float(r, f64::NAN), make_int(1)]).unwrap(),
            FALSE
        );
        assert_eq!(
            chain("<", Cmp::Lt, &[make_int(1), TRUE]).unwrap_err(),
            "<: expected a number, got true"
        );
        assert_eq!(
            binary_cmp("<", Cmp::Lt)(r, make_int(1), make_int(2)).unwrap(),
            TRUE
        );
    }

    #[test]
    fn numeric_library() {
        let r = region_create();
        assert_eq!(expt(Num::I(2), Num::I(10)).unwrap(), Num::I(1024));
        assert_eq!(expt(Num::I(2), Num::I(62)).unwrap_err(), "integer overflow");
        assert_eq!(expt(Num::I(-1), Num::I(1 << 40)).unwrap(), Num::I(1));
        assert_eq!(expt(Num::I(2), Num::I(-1)).unwrap(), Num::F(0.5));
        assert_eq!(to_int(new_float(r, -2.7)).unwrap(), make_int(-2));
        assert!(to_int(new_float(r, f64::INFINITY))
            .unwrap_err()
            .contains("+inf.0"));
        assert_eq!(
            display_string(rounding("round", f64::round_ties_even)(r, new_float(r, 2.5)).unwrap()),
            "2.0"
        );
        assert_eq!(
            display_string(rounding("floor", f64::floor)(r, new_float(r, -0.5)).unwrap()),
            "-1.0"
        );
        assert_eq!(
            rounding("floor", f64::floor)(r, make_int(3)).unwrap(),
            make_int(3)
        );
        assert_eq!(
            extremum("max", Ordering::Greater, &ints(&[3, 9, 2])).unwrap(),
            make_int(9)
        );
        assert_eq!(
            extremum("min", Ordering::Less, &ints(&[3, 9, 2])).unwrap(),
            make_int(2)
        );
        assert_eq!(parse_number("42"), Some(Num::I(42)));
        assert_eq!(parse_number("-0x1f"), Some(Num::I(-31)));
        assert_eq!(parse_number("1_000"), Some(Num::I(1000)));
        assert_eq!(parse_number("2.5"), Some(Num::F(2.5)));
        assert_eq!(parse_number("1e-9"), Some(Num::F(1e-9)));
        assert_eq!(parse_number("inf"), None);
        assert_eq!(parse_number("abc"), None);
        assert_eq!(parse_number("12x"), None);
        assert_eq!(parse_number(""), None);
        assert_eq!(parse_number("99999999999999999999"), None);
    }
}
