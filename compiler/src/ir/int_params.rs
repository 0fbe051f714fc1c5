//! Integer parameters: `+ - *` of two Ints allocate nothing (whole
//! programs only; issue 13).
//!
//! `(+ i 1)` lowers to an inline add with an allocation site for the Float
//! its slow path makes when an operand is a Float. CTRR places that site
//! like any other: in a self-tail-recursive loop that passes `(+ i 1)` to
//! its next iteration it goes to the result region, which makes the loop
//! a carry loop (`ctrr/carry.rs`) and makes every caller pass it a region
//! for a result it never builds (interp's `fill`: a scope region per
//! frame). When both operands are Ints the result is an Int or the
//! `integer overflow` error (LANGUAGE.md: Int arithmetic never leaves the
//! Ints), so the site is never used: this pass drops it.
//!
//! The same holds for `quot rem mod` of two Ints. An operand is an Int
//! when it is an Int literal, the result of such an operation or of
//! `array-length`, `length`, `string-length`, `char->int`, a copy of
//! one, or a parameter that is an Int at every call. A parameter is one
//! when its function is *closed* — only ever called directly: its closure
//! is made only by the top-level definition that stores it into a global
//! no code reads (so no closure value reaches an unknown caller, `apply`
//! or `map`), and it does not use its own closure as a value — and every
//! direct call passes an Int there. The parameters are found as a greatest
//! fixed point (start from "every parameter of a closed function is an
//! Int", drop those some call contradicts, repeat): `fill`'s `i` is 0 from
//! `new-frame` and `(+ i 1)` from itself, an Int on every call by
//! induction over the calls.
//!
//! A global is an Int the same way: when every `set!` and definition of
//! it stores an Int (`(set! pos (+ pos 1))`, with `pos` itself an Int by
//! the same fixed point), a read of it is one, so `(+ pos 1)` makes no
//! Float, and the global is marked `int_only`: it never points into a
//! version of the global state, so CTRR's state pass neither pins nor
//! holds what is read from it (json's parser read its position `pos` in
//! every function: a pin and an escape hold per call).
//!
//! The REPL never runs this: a later form may read any global, which
//! would let its closure reach an unknown caller, or store anything in it.

use super::visit::{walk_block, walk_block_mut, walk_tails};
use super::{Alloc, Atom, Callee, FuncId, Function, FunctionKind, InlineOp, Op, Program, Tail};
use omni_runtime::base::value::is_int;
use std::collections::HashSet;

/// Per variable of a function (by index): whether it holds an Int
/// whenever it is defined.
type IntVars = Vec<bool>;

/// Drop the allocation site of every `+ - *` whose operands are both
/// Ints; returns how many were dropped.
pub fn drop_int_arithmetic_sites(prog: &mut Program) -> usize {
    let (ints_of, int_globals) = int_facts(prog);
    for (g, &int) in prog.globals.iter_mut().zip(&int_globals) {
        g.int_only = int;
    }
    let mut dropped = 0;
    for (f, ints) in prog.functions.iter_mut().zip(&ints_of) {
        walk_block_mut(&mut f.body, &mut |st| {
            if let Op::Inline(op, args, site) = &mut st.op {
                if site.is_some() && int_result(*op, args, ints) {
                    *site = None;
                    dropped += 1;
                }
            }
        });
    }
    dropped
}

/// `op` of `args` is an Int (or raises): `+ - *` and `quot rem mod` of
/// two Ints (runtime/src/prims/arith.rs: Int operands give an Int or the
/// overflow / division-by-zero error).
fn int_result(op: InlineOp, args: &[Atom], ints: &IntVars) -> bool {
    op.is_int_closed() && args.len() == 2 && args.iter().all(|a| is_int_atom(a, ints))
}

fn is_int_atom(a: &Atom, ints: &IntVars) -> bool {
    match a {
        Atom::Imm(v) => is_int(*v),
        Atom::Var(v) => ints.get(v.0 as usize).copied().unwrap_or(false),
        Atom::Const(_) | Atom::SelfClosure => false,
    }
}

/// Per function, its Int variables ([`int_vars`]) given which of its
/// parameters are an Int at every call; per global, whether every store
/// into it stores an Int (a global never stored into is not one). Both
/// are a greatest fixed point. The parameters are found with a worklist
/// for given Int globals: a function is looked at again only when a call
/// has just contradicted one of its parameters, rather than every
/// function on every round (issue 13: a chain of calls took a round per
/// link). Then the globals' stores are checked against the variables
/// found; a global that is no longer an Int sends every function through
/// the worklist again (rare: a global found not to be an Int on the
/// first check usually is one of a few).
fn int_facts(prog: &Program) -> (Vec<IntVars>, Vec<bool>) {
    let closed = closed_functions(prog);
    let mut globals = vec![false; prog.globals.len()];
    for f in &prog.functions {
        walk_block(&f.body, &mut |st| {
            if let Op::GlobalSet { global, .. } = &st.op {
                if let Some(g) = globals.get_mut(global.0 as usize) {
                    *g = true;
                }
            }
        });
    }
    let mut params: Vec<Vec<bool>> = prog
        .functions
        .iter()
        .map(|f| {
            let candidate = closed.contains(&f.id) && f.rest.is_none();
            vec![candidate; f.params.len()]
        })
        .collect();
    let mut ints_of: Vec<IntVars> = vec![Vec::new(); prog.functions.len()];
    loop {
        int_params_for(prog, &globals, &mut params, &mut ints_of);
        let mut changed = false;
        for (f, ints) in prog.functions.iter().zip(&ints_of) {
            walk_block(&f.body, &mut |st| {
                if let Op::GlobalSet { global, value, .. } = &st.op {
                    if let Some(g) = globals.get_mut(global.0 as usize) {
                        if *g && !is_int_atom(value, ints) {
                            *g = false;
                            changed = true;
                        }
                    }
                }
            });
        }
        if !changed {
            return (ints_of, globals);
        }
    }
}

/// The worklist of [`int_facts`] for given Int globals: narrows `params`
/// (each an upper bound) and sets each function's Int variables.
fn int_params_for(
    prog: &Program,
    globals: &[bool],
    params: &mut [Vec<bool>],
    ints_of: &mut [IntVars],
) {
    let mut queued = vec![true; prog.functions.len()];
    let mut work: Vec<usize> = (0..prog.functions.len()).rev().collect();
    while let Some(i) = work.pop() {
        queued[i] = false;
        let f = &prog.functions[i];
        let ints = int_vars(f, &params[f.id.0 as usize], globals);
        let mut check = |func: FuncId, args: &[Atom]| {
            let Some(ps) = params.get_mut(func.0 as usize) else {
                return;
            };
            let mut changed = false;
            if ps.len() != args.len() {
                changed = ps.iter().any(|p| *p);
                ps.iter_mut().for_each(|p| *p = false);
            } else {
                for (p, a) in ps.iter_mut().zip(args) {
                    if *p && !is_int_atom(a, &ints) {
                        *p = false;
                        changed = true;
                    }
                }
            }
            let callee = func.0 as usize;
            if changed && callee < queued.len() && !queued[callee] {
                queued[callee] = true;
                work.push(callee);
            }
        };
        walk_block(&f.body, &mut |st| {
            if let Op::Call {
                callee: Callee::Known { func, .. },
                args,
                ..
            } = &st.op
            {
                check(*func, args);
            }
        });
        walk_tails(&f.body, &mut |t| {
            if let Tail::Call {
                callee: Callee::Known { func, .. },
                args,
                ..
            } = t
            {
                check(*func, args);
            }
        });
        ints_of[i] = ints;
    }
}

/// The variables of `f` that hold an Int whenever they are defined, given
/// which parameters are Ints: a least fixed point over the definitions
/// (a variable defined more than once must be an Int at each).
fn int_vars(f: &Function, int_params: &[bool], int_globals: &[bool]) -> IntVars {
    let n = f.nvars as usize;
    let mut defs: Vec<Vec<Def>> = vec![Vec::new(); n];
    let mut defined_in_body = vec![false; n];
    walk_block(&f.body, &mut |st| {
        if let Some(v) = st.var {
            if let Some(d) = defs.get_mut(v.0 as usize) {
                defined_in_body[v.0 as usize] = true;
                d.push(Def::of(&st.op, int_globals));
            }
        }
    });
    let mut ints: IntVars = vec![false; n];
    let mut is_param = vec![false; n];
    for (p, is) in f.params.iter().zip(int_params) {
        if let Some(slot) = is_param.get_mut(p.0 as usize) {
            *slot = true;
            ints[p.0 as usize] = *is && !defined_in_body[p.0 as usize];
        }
    }
    loop {
        let mut changed = false;
        for (i, ds) in defs.iter().enumerate() {
            if ds.is_empty() || ints[i] || is_param[i] {
                continue;
            }
            if ds.iter().all(|d| d.is_int(&ints)) {
                ints[i] = true;
                changed = true;
            }
        }
        if !changed {
            return ints;
        }
    }
}

/// What a definition of a variable says about its being an Int.
#[derive(Clone)]
enum Def {
    /// A copy of the atom.
    Move(Atom),
    /// An inline operation of the atoms.
    Inline(InlineOp, Vec<Atom>),
    /// A primitive whose result is always an Int (a length), or a read
    /// of a global that only ever holds Ints.
    IntPrim,
    /// A conditional's value: what its branches yield (`digit`'s `(if
    /// (and (>= k 0) (< k 10)) k -1)`). A branch that returns or
    /// tail-calls yields nothing here.
    Join(Vec<Atom>),
    /// Anything else: not known to be an Int.
    Other,
}

impl Def {
    fn of(op: &Op, int_globals: &[bool]) -> Def {
        match op {
            Op::GlobalGet { global, .. }
                if int_globals.get(global.0 as usize).copied().unwrap_or(false) =>
            {
                Def::IntPrim
            }
            Op::If { then, els, .. } => {
                let mut yields = Vec::new();
                yielded(then, &mut yields);
                yielded(els, &mut yields);
                Def::Join(yields)
            }
            Op::Move(a) => Def::Move(*a),
            Op::Inline(op, args, _) => Def::Inline(*op, args.clone()),
            Op::Prim { prim, .. }
                if matches!(
                    prim.desc().name,
                    "array-length" | "length" | "string-length"
                ) =>
            {
                Def::IntPrim
            }
            _ => Def::Other,
        }
    }

    /// The definition always yields an Int (or raises) given the Int
    /// variables `ints`.
    fn is_int(&self, ints: &IntVars) -> bool {
        match self {
            Def::Move(a) => is_int_atom(a, ints),
            // `string-length` and `char->int` open-coded: an Int or a
            // type error.
            Def::Inline(InlineOp::StringLength | InlineOp::CharToInt, _) => true,
            Def::Inline(op, args) => int_result(*op, args, ints),
            Def::IntPrim => true,
            Def::Join(atoms) => atoms.iter().all(|a| is_int_atom(a, ints)),
            Def::Other => false,
        }
    }
}

/// The atoms `b` yields to its enclosing conditional (through nested
/// tail conditionals).
fn yielded(b: &super::Block, out: &mut Vec<Atom>) {
    match &b.tail {
        Tail::Yield(a) => out.push(*a),
        Tail::If { then, els, .. } => {
            yielded(then, out);
            yielded(els, out);
        }
        Tail::Return(_) | Tail::Call { .. } => {}
    }
}

/// The functions only ever called directly (see the module comment).
fn closed_functions(prog: &Program) -> HashSet<FuncId> {
    let mut read = vec![false; prog.globals.len()];
    for f in &prog.functions {
        walk_block(&f.body, &mut |st| {
            if let Op::GlobalGet { global, .. } = &st.op {
                if let Some(r) = read.get_mut(global.0 as usize) {
                    *r = true;
                }
            }
        });
    }
    let mut closed: HashSet<FuncId> = prog
        .functions
        .iter()
        .filter(|f| f.kind == FunctionKind::User && !uses_own_closure(f))
        .map(|f| f.id)
        .collect();
    for f in &prog.functions {
        let defined = defined_unread(f, &read);
        walk_block(&f.body, &mut |st| {
            if let Op::Alloc {
                what: Alloc::Closure { func, .. },
                ..
            } = &st.op
            {
                if defined != Some(*func) {
                    closed.remove(func);
                }
            }
        });
    }
    closed
}

/// The function `f` (a top-level form) defines when its body is exactly
/// `v = alloc closure g []; global-set G v; return <immediate>` with `G`
/// unread: `g`'s closure goes nowhere but into that global.
fn defined_unread(f: &Function, read: &[bool]) -> Option<FuncId> {
    if f.kind != FunctionKind::TopLevel {
        return None;
    }
    let [alloc, set] = f.body.stmts.as_slice() else {
        return None;
    };
    let (
        Some(closure),
        Op::Alloc {
            what: Alloc::Closure { func, free },
            ..
        },
    ) = (alloc.var, &alloc.op)
    else {
        return None;
    };
    let Op::GlobalSet {
        global,
        value: Atom::Var(stored),
        ..
    } = &set.op
    else {
        return None;
    };
    let unread = !read.get(global.0 as usize).copied().unwrap_or(true);
    (free.is_empty()
        && *stored == closure
        && set.var.is_none()
        && unread
        && matches!(f.body.tail, Tail::Return(Atom::Imm(_))))
    .then_some(*func)
}

/// `f` uses its own closure as a value (anywhere but as the closure
/// passed to a direct call): it may hand itself to an unknown caller.
fn uses_own_closure(f: &Function) -> bool {
    let mut uses = false;
    walk_block(&f.body, &mut |st| {
        let operands = match &st.op {
            Op::Call {
                callee: Callee::Known { func, env },
                args,
                ..
            } if *func == f.id || *env != Atom::SelfClosure => args.clone(),
            op => op.operands(),
        };
        uses |= operands.contains(&Atom::SelfClosure);
    });
    walk_tails(&f.body, &mut |t| {
        let atoms: Vec<Atom> = match t {
            Tail::Return(a) | Tail::Yield(a) => vec![*a],
            Tail::Call {
                callee: Callee::Known { func, env },
                args,
                ..
            } if *func == f.id || *env != Atom::SelfClosure => args.clone(),
            Tail::Call {
                callee: Callee::Known { env, .. },
                args,
                ..
            } => args.iter().copied().chain(std::iter::once(*env)).collect(),
            Tail::Call {
                callee: Callee::Unknown(c),
                args,
                ..
            } => args.iter().copied().chain(std::iter::once(*c)).collect(),
            Tail::If { cond, .. } => vec![*cond],
        };
        uses |= atoms.contains(&Atom::SelfClosure);
    });
    uses
}
