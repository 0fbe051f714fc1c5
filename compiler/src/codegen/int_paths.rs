//! Int paths: a second copy of a small integer function's body, entered
//! when the parameters it does arithmetic on are fixnums (issue 13).
//!
//! `(define fib [n] (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2)))))` tests
//! `n`'s tag at `<`, at each `-`, and checks both subtractions for
//! overflow, because `n` may be a Float, a string or a fixnum. The code
//! generator instead tests the *numeric parameters* (those an arithmetic
//! op or a comparison reads) once, where the body starts, and translates
//! the body twice: the Int copy, where those parameters are fixnums, and
//! the generic copy, which is the code every function got before (how
//! loops test and switch: `FnTx::code_body` in function.rs). In the Int
//! copy:
//! - a variable is a known fixnum when it is such a parameter, an Int
//!   literal, a copy of one, the result of `+ - * quot rem mod` of two
//!   known fixnums (Int arithmetic never leaves the Ints: LANGUAGE.md; the
//!   slow path of such an op only reports overflow or division by zero),
//!   an `if` that yields known fixnums, or the result of a call of the
//!   function itself with known fixnums at the numeric parameters when
//!   the Int copy returns only fixnums (by induction over the calls: such
//!   a call runs the Int copy; fib's `(+ (fib ..) (fib ..))`);
//! - an op on known fixnums has no tag test, and a comparison of two no
//!   slow path at all;
//! - a comparison of known fixnums bounds them in the branches it decides
//!   (`(< n 2)` false: `n >= 2`), bounds propagate through `+ - *`, and an
//!   op whose result is bounded within the fixnums has no overflow check
//!   (fib's `(- n 1)` and `(- n 2)`, tak's `(- x 1)` after `(< y x)`);
//! - a scope or Float region only such ops' slow paths would use is never
//!   created, so the copy has no handle slot to clear on entry and test on
//!   exit (`dead_regions`): those slow paths pass the result region, in
//!   which a primitive given two Ints allocates nothing.
//!
//! Only small functions that call themselves get an Int copy
//! (`MAX_STMTS`), and only where it saves two tag tests on some path
//! (`Facts::tests_saved`): the copy
//! doubles their code and compile time, and adds register pressure. Floats, bignum-sized results (an overflow
//! error), strings and every other value take the generic copy, so errors
//! and their messages are those of the generic code.

use crate::ir::{self, Atom, InlineOp, Op, RegionRef, Tail, VarId};
use omni_runtime::value::{int_value, is_int, INT_MAX, INT_MIN};

/// The largest body (statements, nested ones included) given an Int copy.
const MAX_STMTS: usize = 48;

/// Bounds `(lo, hi)` of a fixnum's value (both inclusive).
pub(super) type Range = (i128, i128);

/// Every fixnum.
pub(super) const FIXNUMS: Range = (INT_MIN as i128, INT_MAX as i128);

/// What the Int copy of a function knows.
pub(super) struct IntPaths {
    /// The parameters tested on entry.
    pub params: Vec<VarId>,
    /// Per variable: a fixnum wherever it is defined in the Int copy.
    pub ints: Vec<bool>,
    /// The regions the Int copy never creates (nor clears, nor exits).
    pub dead_regions: Vec<VarId>,
}

/// The Int copy of `f`, if it gets one: a small user function (not a
/// variadic one) with a parameter some arithmetic op or comparison reads.
pub(super) fn int_paths(prog: &ir::Program, f: &ir::Function) -> Option<IntPaths> {
    if f.kind != ir::FunctionKind::User || f.rest.is_some() {
        return None;
    }
    let nvars = f.nvars as usize;
    let mut stmts = 0;
    let mut defs = vec![0u32; nvars];
    let mut numeric = vec![false; nvars];
    ir::visit::walk_block(&f.body, &mut |st| {
        stmts += 1;
        if let Some(v) = st.var {
            if let Some(d) = defs.get_mut(v.0 as usize) {
                *d += 1;
            }
        }
        if let Op::Inline(op, args, _) = &st.op {
            if op.is_int_closed() || op.is_numeric_comparison() {
                for a in args {
                    if let Atom::Var(v) = a {
                        if let Some(n) = numeric.get_mut(v.0 as usize) {
                            *n = true;
                        }
                    }
                }
            }
        }
    });
    // Only a function that calls itself (a recursion or a loop): its
    // calls, or its iterations, compound the tests the copy saves. Other
    // small functions are inlined where they are hot, and copying them too
    // made `omnic build` of the 10,000-line benchmark 12% slower (the
    // translation of its `step-i` functions doubled).
    if stmts > MAX_STMTS || !ir::visit::known_callees(&f.body).contains(&f.id) {
        return None;
    }
    let params: Vec<VarId> = f
        .params
        .iter()
        .copied()
        .filter(|p| numeric.get(p.0 as usize) == Some(&true) && defs[p.0 as usize] == 0)
        .collect();
    if params.is_empty() {
        return None;
    }
    // The Int copy returns an Int (or does not return) if every return
    // does, assuming its calls of itself with fixnums at the numeric
    // parameters (which run the Int copy) do: induction over the calls.
    // The assumption is dropped when a return contradicts it.
    let mut facts = Facts {
        f,
        params: &params,
        defs: &defs,
        ints: vec![false; nvars],
        returns_int: true,
    };
    loop {
        facts.ints = vec![false; nvars];
        for p in &params {
            facts.ints[p.0 as usize] = true;
        }
        facts.block(&f.body);
        if !facts.returns_int || facts.returns_ints(&f.body) {
            break;
        }
        facts.returns_int = false;
    }
    // One tag test saved on a path does not pay for the test on entry and
    // the register pressure of a second copy (benches/interp's `prim`, a
    // `match` of one op per branch: 17% more instructions).
    if facts.tests_saved(&f.body) < 2 {
        return None;
    }
    let ints = facts.ints;
    let mut dead_regions = Vec::new();
    ir::visit::walk_block(&f.body, &mut |st| {
        if let (Op::RegionCreate | Op::RegionCreateLazy, Some(r)) = (&st.op, st.var) {
            if defs[r.0 as usize] == 1 && !region_used(prog, f, r, &ints) {
                dead_regions.push(r);
            }
        }
    });
    Some(IntPaths {
        params,
        ints,
        dead_regions,
    })
}

/// The known fixnums of an Int copy, found in one pass over the body.
struct Facts<'f> {
    f: &'f ir::Function,
    params: &'f [VarId],
    /// Per variable, how many statements define it.
    defs: &'f [u32],
    ints: Vec<bool>,
    /// Assume the Int copy returns a fixnum.
    returns_int: bool,
}

impl Facts<'_> {
    fn known(&self, a: &Atom) -> bool {
        match a {
            Atom::Imm(w) => is_int(*w),
            Atom::Var(v) => self.ints.get(v.0 as usize) == Some(&true),
            _ => false,
        }
    }

    /// A call of the function itself that runs its Int copy: fixnums at
    /// the numeric parameters.
    fn int_self_call(&self, callee: &ir::Callee, args: &[Atom]) -> bool {
        matches!(callee, ir::Callee::Known { func, .. } if *func == self.f.id)
            && args.len() == self.f.params.len()
            && self
                .f
                .params
                .iter()
                .zip(args)
                .all(|(p, a)| !self.params.contains(p) || self.known(a))
    }

    /// Mark the variables `b` defines (a definition comes before its uses;
    /// an `if`'s value after its branches).
    fn block(&mut self, b: &ir::Block) {
        for st in &b.stmts {
            if let Op::If { then, els, .. } = &st.op {
                self.block(then);
                self.block(els);
            }
            let Some(v) = st.var else { continue };
            if self.defs[v.0 as usize] != 1 {
                continue;
            }
            let int = match &st.op {
                Op::Inline(op, args, _) if op.is_int_closed() => args.iter().all(|a| self.known(a)),
                Op::Move(a) => self.known(a),
                Op::Call { callee, args, .. } => {
                    self.returns_int && self.int_self_call(callee, args)
                }
                Op::If { then, els, .. } => self.yields_ints(then) && self.yields_ints(els),
                _ => false,
            };
            self.ints[v.0 as usize] = int;
        }
        if let Tail::If { then, els, .. } = &b.tail {
            self.block(then);
            self.block(els);
        }
    }

    /// The most ops on one path through `b` whose tag test the Int copy
    /// saves: numeric ops reading a known fixnum variable.
    fn tests_saved(&self, b: &ir::Block) -> usize {
        let mut n = 0;
        for st in &b.stmts {
            match &st.op {
                Op::Inline(op, args, _) if op.is_int_closed() || op.is_numeric_comparison() => {
                    let reads_known = args
                        .iter()
                        .any(|a| matches!(a, Atom::Var(_)) && self.known(a));
                    n += usize::from(reads_known);
                }
                Op::If { then, els, .. } => n += self.tests_saved(then).max(self.tests_saved(els)),
                _ => {}
            }
        }
        if let Tail::If { then, els, .. } = &b.tail {
            n += self.tests_saved(then).max(self.tests_saved(els));
        }
        n
    }

    /// Whether every value a branch of a non-tail `if` yields is known.
    fn yields_ints(&self, b: &ir::Block) -> bool {
        match &b.tail {
            Tail::Yield(a) => self.known(a),
            Tail::If { then, els, .. } => self.yields_ints(then) && self.yields_ints(els),
            _ => false,
        }
    }

    /// Whether every return of the body is a known fixnum or a tail call
    /// of the Int copy.
    fn returns_ints(&self, body: &ir::Block) -> bool {
        let mut all = true;
        ir::visit::walk_tails(body, &mut |t| {
            all &= match t {
                Tail::Return(a) => self.known(a),
                Tail::Call { callee, args, .. } => self.int_self_call(callee, args),
                Tail::Yield(_) | Tail::If { .. } => true,
            };
        });
        all
    }
}

/// Whether anything in the Int copy of `f` uses region `r`, other than
/// its exits and the slow paths of ops on two known fixnums (`ints`).
fn region_used(prog: &ir::Program, f: &ir::Function, r: VarId, ints: &[bool]) -> bool {
    let here = RegionRef::Local(r);
    let known = |a: &Atom| match a {
        Atom::Imm(w) => is_int(*w),
        Atom::Var(v) => ints.get(v.0 as usize) == Some(&true),
        _ => false,
    };
    let mut used = false;
    ir::visit::walk_block(&f.body, &mut |st| {
        let in_here = st.op.alloc_site().is_some_and(|site| {
            prog.alloc_sites
                .get(site.0 as usize)
                .is_none_or(|s| s.region == here)
        });
        let int_op = matches!(&st.op, Op::Inline(op, args, _)
            if (op.is_int_closed() || op.is_numeric_comparison()) && args.iter().all(known));
        used |= match &st.op {
            Op::RegionExit(Atom::Var(v)) if *v == r => false,
            Op::Call { region, .. } if *region == here => true,
            Op::StateHold { holder, .. } if *holder == here => true,
            _ if in_here && !int_op => true,
            op => op.operands().contains(&Atom::Var(r)),
        };
    });
    // Tails name no region; a tail call's region is the result region.
    used
}

/// The bounds of fixnum literal `a`.
pub(super) fn imm_range(a: &Atom) -> Option<Range> {
    match a {
        Atom::Imm(w) if is_int(*w) => {
            let n = int_value(*w) as i128;
            Some((n, n))
        }
        _ => None,
    }
}

/// The bounds of `x op y` for fixnums `x` in `rx` and `y` in `ry` (as
/// mathematical integers: the op may overflow the fixnums), for `+ - *`.
pub(super) fn arith_range(op: InlineOp, rx: Range, ry: Range) -> Option<Range> {
    match op {
        InlineOp::Add => Some((rx.0 + ry.0, rx.1 + ry.1)),
        InlineOp::Sub => Some((rx.0 - ry.1, rx.1 - ry.0)),
        InlineOp::Mul => {
            let p = [rx.0 * ry.0, rx.0 * ry.1, rx.1 * ry.0, rx.1 * ry.1];
            Some((*p.iter().min()?, *p.iter().max()?))
        }
        _ => None,
    }
}

/// Whether every value of `r` is a fixnum.
pub(super) fn within_fixnums(r: Range) -> bool {
    FIXNUMS.0 <= r.0 && r.1 <= FIXNUMS.1
}

/// `r` clipped to the fixnums.
pub(super) fn clip(r: Range) -> Range {
    (r.0.max(FIXNUMS.0), r.1.min(FIXNUMS.1))
}

/// The bounds of fixnums `x` in `rx` and `y` in `ry` where the comparison
/// `x op y` is `holds`.
pub(super) fn refine(op: InlineOp, holds: bool, rx: Range, ry: Range) -> (Range, Range) {
    use InlineOp::*;
    let op = match (op, holds) {
        (op, true) => op,
        (Lt, false) => Ge,
        (Le, false) => Gt,
        (Gt, false) => Le,
        (Ge, false) => Lt,
        (NumEq, false) => NumNe,
        (_, false) => NumEq,
    };
    // x < y: x <= max(y) - 1 and y >= min(x) + 1; x <= y likewise.
    let less = |rx: Range, ry: Range, strict: i128| {
        (
            (rx.0, rx.1.min(ry.1 - strict)),
            (ry.0.max(rx.0 + strict), ry.1),
        )
    };
    match op {
        Lt => less(rx, ry, 1),
        Le => less(rx, ry, 0),
        Gt => {
            let (y, x) = less(ry, rx, 1);
            (x, y)
        }
        Ge => {
            let (y, x) = less(ry, rx, 0);
            (x, y)
        }
        NumEq => {
            let both = (rx.0.max(ry.0), rx.1.min(ry.1));
            (both, both)
        }
        _ => (rx, ry),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparisons_bound_both_sides() {
        let n = FIXNUMS;
        let two = (2, 2);
        // (< n 2) false: n >= 2, so n - 1 and n - 2 cannot overflow.
        let (rn, _) = refine(InlineOp::Lt, false, n, two);
        assert_eq!(rn, (2, FIXNUMS.1));
        assert!(within_fixnums(arith_range(InlineOp::Sub, rn, two).unwrap()));
        // (< y x) true: x > y >= INT_MIN, so x - 1 cannot overflow, y + 1 neither.
        let (ry, rx) = refine(InlineOp::Lt, true, n, n);
        assert!(within_fixnums(
            arith_range(InlineOp::Sub, rx, (1, 1)).unwrap()
        ));
        assert!(within_fixnums(
            arith_range(InlineOp::Add, ry, (1, 1)).unwrap()
        ));
        assert!(!within_fixnums(
            arith_range(InlineOp::Sub, ry, (1, 1)).unwrap()
        ));
        // (= m 0) false tells nothing; true pins m.
        assert_eq!(refine(InlineOp::NumEq, false, n, (0, 0)).0, n);
        assert_eq!(refine(InlineOp::NumEq, true, n, (0, 0)).0, (0, 0));
        // (<= x 10) false: x >= 11; (>= x 10) false: x <= 9.
        assert_eq!(refine(InlineOp::Le, false, n, (10, 10)).0, (11, FIXNUMS.1));
        assert_eq!(refine(InlineOp::Ge, false, n, (10, 10)).0, (FIXNUMS.0, 9));
        assert_eq!(refine(InlineOp::Gt, true, n, (10, 10)).0, (11, FIXNUMS.1));
    }

    #[test]
    fn products_take_the_extreme_corners() {
        assert_eq!(
            arith_range(InlineOp::Mul, (-3, 2), (-5, 4)),
            Some((-12, 15))
        );
        assert!(!within_fixnums(
            arith_range(InlineOp::Mul, FIXNUMS, (2, 2)).unwrap()
        ));
    }
}
