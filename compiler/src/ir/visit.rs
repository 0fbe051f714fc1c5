//! Walks over the structured IR shared by the passes that read it (CTRR's
//! analysis and decisions, the verifier): every statement, every block
//! tail, the known callees of a body, and which operation has an
//! allocation site.

use super::*;

impl Program {
    /// The constants that name raw Float fields (`raw_float_fields`), for
    /// [`Op::is_raw_float_put`].
    pub fn raw_float_keys(&self) -> std::collections::HashSet<ConstId> {
        self.consts
            .iter()
            .enumerate()
            .filter(
                |(_, c)| matches!(c, Const::Symbol(name) if self.raw_float_fields.contains(name)),
            )
            .map(|(i, _)| ConstId(i as u32))
            .collect()
    }
}

impl Op {
    /// Whether this is a `put!` into a raw Float field (`s.vx` where every
    /// struct declaring a field `vx` declares it `{Float}`; `keys` from
    /// [`Program::raw_float_keys`]): a store of a Float's bits, which
    /// allocates nothing and stores no object. (Were `s` a dict, the store
    /// barrier `put!` keeps would still copy the Float into it.)
    pub fn is_raw_float_put(&self, keys: &std::collections::HashSet<ConstId>) -> bool {
        matches!(self, Op::Prim { prim, args, .. }
            if prim.desc().name == "%put!"
                && matches!(args.get(1), Some(Atom::Const(c)) if keys.contains(c)))
    }

    /// The allocation site of this operation, if it allocates through one:
    /// an explicit allocation, or a primitive call that may allocate.
    pub fn alloc_site(&self) -> Option<AllocSiteId> {
        match self {
            Op::Alloc { site, .. } => Some(*site),
            Op::Prim { site, .. } | Op::PrimApplyList { site, .. } | Op::Inline(_, _, site) => {
                *site
            }
            _ => None,
        }
    }

    /// The allocation site of this operation if its only allocation is a
    /// Float temporary: an inline arithmetic op's slow path, a primitive
    /// that boxes a raw Float field (`get`, `%struct-ref`), or `sqrt`
    /// (`prims::allocates_only_a_float`). CTRR places a `Local` one in the lazy
    /// Float region, not the scope region.
    pub fn float_site(&self) -> Option<AllocSiteId> {
        match self {
            Op::Inline(_, _, site) => *site,
            Op::Prim { prim, site, .. } | Op::PrimApplyList { prim, site, .. }
                if omni_runtime::prims::allocates_only_a_float(prim.desc().name) =>
            {
                *site
            }
            _ => None,
        }
    }

    /// The atoms this operation reads itself (a non-tail `if`: its
    /// condition; its blocks are walked separately).
    pub fn operands(&self) -> Vec<Atom> {
        match self {
            Op::Move(a) | Op::BoxGet(a) | Op::RegionExit(a) | Op::If { cond: a, .. } => vec![*a],
            Op::CheckBound { value: a, .. } | Op::GlobalSet { value: a, .. } => vec![*a],
            Op::Inline(_, xs, _) | Op::Prim { args: xs, .. } => xs.clone(),
            Op::PrimApplyList { list, .. } => vec![*list],
            Op::Call { callee, args, .. } => {
                let mut v = vec![match callee {
                    Callee::Known { env, .. } => *env,
                    Callee::Unknown(f) => *f,
                }];
                v.extend(args.iter().copied());
                v
            }
            Op::Alloc { what, .. } => match what {
                Alloc::Cons(a, d) => vec![*a, *d],
                Alloc::Box(a) => vec![*a],
                Alloc::Closure { free: xs, .. } | Alloc::Array(xs) | Alloc::Dict(xs) => xs.clone(),
            },
            Op::BoxSet { cell, value, .. } => vec![*cell, *value],
            Op::ClosureInit { closure, value, .. } => vec![*closure, *value],
            Op::StatePin(a) | Op::StateHold { value: a, .. } | Op::StateRefresh(a) => vec![*a],
            Op::StatePinMoved { value, before } => vec![*value, *before],
            Op::StoreRegion { container, fields } => std::iter::once(*container)
                .chain(fields.iter().copied())
                .collect(),
            Op::StatePins | Op::StatePinCurrent | Op::StateUnpin | Op::StateSafepoint => vec![],
            Op::GlobalGet { .. }
            | Op::EnvGet(_)
            | Op::RegionCreate
            | Op::RegionCreateLazy
            | Op::CarryStart { .. } => vec![],
            Op::CarryRenew { roots, .. } | Op::CarryEnd { roots, .. } => {
                roots.iter().map(|v| Atom::Var(*v)).collect()
            }
        }
    }
}

impl Tail {
    /// The atoms this tail reads (a tail `if`: its condition; its blocks
    /// are walked separately; a call: its closure, then its arguments).
    pub fn operands(&self) -> Vec<Atom> {
        match self {
            Tail::Return(a) | Tail::Yield(a) | Tail::If { cond: a, .. } => vec![*a],
            Tail::Call { callee, args, .. } => {
                let env = match callee {
                    Callee::Known { env, .. } => *env,
                    Callee::Unknown(f) => *f,
                };
                std::iter::once(env).chain(args.iter().copied()).collect()
            }
        }
    }
}

/// How many times each of the `nvars` variables is read in `b`, nested
/// blocks included: statement operands and block tails.
pub fn read_counts(b: &Block, nvars: u32) -> Vec<u32> {
    let mut uses = vec![0u32; nvars as usize];
    let mut count = |atoms: Vec<Atom>| {
        for a in atoms {
            if let Atom::Var(v) = a {
                if let Some(n) = uses.get_mut(v.0 as usize) {
                    *n += 1;
                }
            }
        }
    };
    walk_block(b, &mut |st| count(st.op.operands()));
    walk_tails(b, &mut |t| count(t.operands()));
    uses
}

/// Visit every statement of a block, nested blocks included.
pub fn walk_block(b: &Block, f: &mut dyn FnMut(&Stmt)) {
    for st in &b.stmts {
        f(st);
        if let Op::If { then, els, .. } = &st.op {
            walk_block(then, f);
            walk_block(els, f);
        }
    }
    if let Tail::If { then, els, .. } = &b.tail {
        walk_block(then, f);
        walk_block(els, f);
    }
}

/// Visit every block tail, nested blocks included.
pub fn walk_tails(b: &Block, f: &mut dyn FnMut(&Tail)) {
    for st in &b.stmts {
        if let Op::If { then, els, .. } = &st.op {
            walk_tails(then, f);
            walk_tails(els, f);
        }
    }
    f(&b.tail);
    if let Tail::If { then, els, .. } = &b.tail {
        walk_tails(then, f);
        walk_tails(els, f);
    }
}

/// The functions a body calls directly (`Callee::Known`), in calls and tail
/// calls; a function may be listed more than once. One walk over the
/// statements and one over the tails: collecting a tail conditional's
/// callees by walking each branch again made a body of nested tail `if`s
/// quadratic (a 16,000-deep one took 4.5 s in CTRR).
pub fn known_callees(b: &Block) -> Vec<FuncId> {
    let mut out = Vec::new();
    walk_block(b, &mut |st| {
        if let Op::Call {
            callee: Callee::Known { func, .. },
            ..
        } = &st.op
        {
            out.push(*func);
        }
    });
    walk_tails(b, &mut |t| {
        if let Tail::Call {
            callee: Callee::Known { func, .. },
            ..
        } = t
        {
            out.push(*func);
        }
    });
    out
}

/// Visit every statement of a block mutably, in the order of
/// [`walk_block`].
pub fn walk_block_mut(b: &mut Block, f: &mut dyn FnMut(&mut Stmt)) {
    for st in &mut b.stmts {
        f(st);
        if let Op::If { then, els, .. } = &mut st.op {
            walk_block_mut(then, f);
            walk_block_mut(els, f);
        }
    }
    if let Tail::If { then, els, .. } = &mut b.tail {
        walk_block_mut(then, f);
        walk_block_mut(els, f);
    }
}

/// The functions code reachable from the program's entry can run without
/// going through a global: the entry, the functions it calls directly and
/// whose closures it allocates, transitively. (A REPL module compiles only
/// these, `codegen::compile_linked`: every other function is reached
/// through a global slot, whose closure an earlier module built.)
pub fn reachable_from_entry(prog: &Program) -> Vec<bool> {
    let mut seen = vec![false; prog.functions.len()];
    let mut work = vec![prog.entry];
    while let Some(f) = work.pop() {
        let i = f.0 as usize;
        if i >= seen.len() || seen[i] {
            continue;
        }
        seen[i] = true;
        let body = &prog.functions[i].body;
        work.extend(known_callees(body));
        walk_block(body, &mut |st| {
            if let Op::Alloc {
                what: Alloc::Closure { func, .. },
                ..
            } = &st.op
            {
                work.push(*func);
            }
        });
    }
    seen
}

/// Which constants the functions marked in `functions` read (by constant
/// index): a REPL module builds only those (codegen's start-up code).
pub fn used_consts(prog: &Program, functions: &[bool]) -> Vec<bool> {
    let mut used = vec![false; prog.consts.len()];
    let mut mark = |a: &Atom| {
        if let Atom::Const(c) = a {
            if let Some(u) = used.get_mut(c.0 as usize) {
                *u = true;
            }
        }
    };
    for f in prog
        .functions
        .iter()
        .filter(|f| functions.get(f.id.0 as usize).copied().unwrap_or(false))
    {
        walk_block(&f.body, &mut |st| {
            st.op.operands().iter().for_each(&mut mark)
        });
        walk_tails(&f.body, &mut |t| match t {
            Tail::Return(a) | Tail::Yield(a) | Tail::If { cond: a, .. } => mark(a),
            Tail::Call { callee, args, .. } => {
                match callee {
                    Callee::Known { env, .. } => mark(env),
                    Callee::Unknown(f) => mark(f),
                }
                args.iter().for_each(&mut mark);
            }
        });
    }
    used
}
