//! Dropping top-level function definitions that nothing reads (whole
//! programs only; compile time, issue 13).
//!
//! `(define (f x) ...)` lowers to a top-level form that allocates `f`'s
//! closure and stores it into the global `f`; the program's entry calls
//! that form. Calls of `f` whose target is known are direct calls of its
//! code and never read the global, so when no `GlobalGet` of the global
//! exists anywhere in the program, the store is invisible: the entry
//! stops calling the form, and code generation (which compiles only what
//! the entry reaches) leaves out the form, the closure's `apply` entry and
//! every function only that closure held (most of the prelude in a small
//! program). Such a form has no other effect: its closure has no free
//! variables and allocating it in the global region cannot fail short of
//! running out of memory.
//!
//! [`drop_dead_allocations`] removes allocations (and copies) whose
//! variable nothing uses, e.g. the closure of a `let`-bound `fn` whose
//! calls were all inlined: besides the allocation, its scope region and
//! the closure's `code` and `apply` entries go.
//!
//! The REPL never runs these: a later form may read any global.

use super::{Alloc, Atom, Block, Callee, FuncId, FunctionKind, Op, Program, RegionRef, Tail};

/// Remove the entry's calls of top-level forms that only define a global
/// function no one reads; returns how many were removed. The forms stay in
/// the program (function ids are indices), unreached.
pub fn drop_unread_definitions(prog: &mut Program) -> usize {
    let mut read = vec![false; prog.globals.len()];
    for f in &prog.functions {
        super::visit::walk_block(&f.body, &mut |st| {
            if let Op::GlobalGet { global, .. } = &st.op {
                if let Some(r) = read.get_mut(global.0 as usize) {
                    *r = true;
                }
            }
        });
    }
    let dead: Vec<bool> = prog
        .functions
        .iter()
        .map(|f| f.kind == FunctionKind::TopLevel && defines_unread(f, &read))
        .collect();
    let is_dead = |func: FuncId| dead.get(func.0 as usize).copied().unwrap_or(false);
    let Some(entry) = prog.functions.get_mut(prog.entry.0 as usize) else {
        return 0;
    };
    let before = entry.body.stmts.len();
    entry.body.stmts.retain(|st| match &st.op {
        Op::Call {
            callee: super::Callee::Known { func, .. },
            args,
            ..
        } => !(st.var.is_none() && args.is_empty() && is_dead(*func)),
        _ => true,
    });
    before - entry.body.stmts.len()
}

/// `f`'s body is exactly `v = alloc closure g []; global-set G v; return
/// <immediate>` with `G` unread.
fn defines_unread(f: &super::Function, read: &[bool]) -> bool {
    let [alloc, set] = f.body.stmts.as_slice() else {
        return false;
    };
    let (
        Some(closure),
        Op::Alloc {
            what: Alloc::Closure { free, .. },
            ..
        },
    ) = (alloc.var, &alloc.op)
    else {
        return false;
    };
    let Op::GlobalSet {
        global,
        value: Atom::Var(stored),
        ..
    } = &set.op
    else {
        return false;
    };
    free.is_empty()
        && *stored == closure
        && set.var.is_none()
        && !read.get(global.0 as usize).copied().unwrap_or(true)
        && matches!(f.body.tail, Tail::Return(Atom::Imm(_)))
}

/// Remove, in every function, each allocation and each copy (`Move`)
/// whose variable nothing reads, until none is left; returns how many
/// statements were removed. Run before CTRR (a removed site gets no
/// region: CTRR places sites no code names in the global region).
pub fn drop_dead_allocations(prog: &mut Program) -> usize {
    let mut removed = 0;
    for f in &mut prog.functions {
        loop {
            let mut uses = vec![0u32; f.nvars as usize];
            count_block(&f.body, &mut uses);
            let n = remove_dead(&mut f.body, &uses);
            if n == 0 {
                break;
            }
            removed += n;
        }
    }
    removed
}

fn use_atom(a: &Atom, uses: &mut [u32]) {
    if let Atom::Var(v) = a {
        if let Some(n) = uses.get_mut(v.0 as usize) {
            *n += 1;
        }
    }
}

fn use_var(v: super::VarId, uses: &mut [u32]) {
    use_atom(&Atom::Var(v), uses);
}

fn use_region(r: &RegionRef, uses: &mut [u32]) {
    if let RegionRef::Local(v) = r {
        use_var(*v, uses);
    }
}

fn use_callee(c: &Callee, uses: &mut [u32]) {
    match c {
        Callee::Known { env, .. } => use_atom(env, uses),
        Callee::Unknown(a) => use_atom(a, uses),
    }
}

/// Count every read of every variable in `b` (nested blocks included).
fn count_block(b: &Block, uses: &mut [u32]) {
    for st in &b.stmts {
        let atoms = |list: &[Atom], uses: &mut [u32]| list.iter().for_each(|a| use_atom(a, uses));
        match &st.op {
            Op::Move(a) | Op::BoxGet(a) | Op::RegionExit(a) => use_atom(a, uses),
            Op::Inline(_, args, _) | Op::Prim { args, .. } => atoms(args, uses),
            Op::PrimApplyList { list, .. } => use_atom(list, uses),
            Op::Call {
                callee,
                args,
                region,
            } => {
                use_callee(callee, uses);
                atoms(args, uses);
                use_region(region, uses);
            }
            Op::Alloc { what, .. } => match what {
                Alloc::Cons(a, d) => atoms(&[*a, *d], uses),
                Alloc::Box(v) => use_atom(v, uses),
                Alloc::Closure { free, .. } => atoms(free, uses),
                Alloc::Array(elems) => atoms(elems, uses),
                Alloc::Dict(kvs) => atoms(kvs, uses),
            },
            Op::If { cond, then, els } => {
                use_atom(cond, uses);
                count_block(then, uses);
                count_block(els, uses);
            }
            Op::GlobalGet { .. } | Op::EnvGet(_) => {}
            Op::GlobalSet { value, .. } => use_atom(value, uses),
            Op::BoxSet { cell, value, .. } => atoms(&[*cell, *value], uses),
            Op::RegionCreate | Op::RegionCreateLazy => {}
            Op::CarryStart { carry } => use_var(*carry, uses),
            Op::StoreRegion { container, fields } => {
                use_atom(container, uses);
                atoms(fields, uses);
            }
            Op::CarryRenew {
                carry,
                limit,
                roots,
            } => {
                use_var(*carry, uses);
                use_var(*limit, uses);
                roots.iter().for_each(|v| use_var(*v, uses));
            }
            Op::CarryEnd { carry, roots } => {
                use_var(*carry, uses);
                roots.iter().for_each(|v| use_var(*v, uses));
            }
            Op::ClosureInit { closure, value, .. } => atoms(&[*closure, *value], uses),
            Op::CheckBound { value, .. } => use_atom(value, uses),
            Op::StatePin(a) | Op::StateHold { value: a, .. } | Op::StateRefresh(a) => {
                use_atom(a, uses)
            }
            Op::StatePinMoved { value, before } => atoms(&[*value, *before], uses),
            Op::StatePins | Op::StatePinCurrent | Op::StateUnpin | Op::StateSafepoint => {}
        }
    }
    match &b.tail {
        Tail::Return(a) | Tail::Yield(a) => use_atom(a, uses),
        Tail::Call { callee, args, .. } => {
            use_callee(callee, uses);
            args.iter().for_each(|a| use_atom(a, uses));
        }
        Tail::If { cond, then, els } => {
            use_atom(cond, uses);
            count_block(then, uses);
            count_block(els, uses);
        }
    }
}

/// Remove the allocations and copies of `b` (nested blocks included)
/// whose variable has no use in `uses`.
fn remove_dead(b: &mut Block, uses: &[u32]) -> usize {
    let before = b.stmts.len();
    b.stmts.retain(|st| {
        let unused = st
            .var
            .is_some_and(|v| uses.get(v.0 as usize).is_some_and(|&n| n == 0));
        !(unused && matches!(st.op, Op::Alloc { .. } | Op::Move(_)))
    });
    let mut removed = before - b.stmts.len();
    for st in &mut b.stmts {
        if let Op::If { then, els, .. } = &mut st.op {
            removed += remove_dead(then, uses) + remove_dead(els, uses);
        }
    }
    if let Tail::If { then, els, .. } = &mut b.tail {
        removed += remove_dead(then, uses) + remove_dead(els, uses);
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{Block, Function, Global, GlobalId, LocId, RegionRef, Stmt, VarId};
    use omni_runtime::value::NOTHING;

    fn function(id: u32, kind: FunctionKind, stmts: Vec<Stmt>, tail: Tail) -> Function {
        Function {
            id: FuncId(id),
            name: format!("f{id}"),
            kind,
            params: Vec::new(),
            rest: None,
            nfree: 0,
            nvars: 1,
            body: Block { stmts, tail },
            loc: LocId(0),
        }
    }

    /// A closure of function `func` with no free variables (site 0).
    fn closure(func: u32) -> Op {
        Op::Alloc {
            site: crate::ir::AllocSiteId(0),
            what: Alloc::Closure {
                func: FuncId(func),
                free: Vec::new(),
            },
        }
    }

    fn stmt(var: Option<u32>, op: Op) -> Stmt {
        Stmt {
            var: var.map(VarId),
            op,
            loc: LocId(0),
        }
    }

    fn define(id: u32, func: u32, global: u32) -> Function {
        function(
            id,
            FunctionKind::TopLevel,
            vec![
                stmt(Some(0), closure(func)),
                stmt(
                    None,
                    Op::GlobalSet {
                        global: GlobalId(global),
                        value: Atom::Var(VarId(0)),
                        barrier: false,
                    },
                ),
            ],
            Tail::Return(Atom::Imm(NOTHING)),
        )
    }

    fn call(func: u32) -> Stmt {
        stmt(
            None,
            Op::Call {
                callee: crate::ir::Callee::Known {
                    func: FuncId(func),
                    env: Atom::Imm(NOTHING),
                },
                args: Vec::new(),
                region: RegionRef::Global,
            },
        )
    }

    #[test]
    fn only_unread_definitions_are_dropped() {
        // f1 defines g0 (never read), f2 defines g1 (read by f5), f3 is
        // another form; f4 and f5 are the functions defined.
        let mut prog = Program {
            functions: vec![
                function(
                    0,
                    FunctionKind::Entry,
                    vec![call(1), call(2), call(3)],
                    Tail::Return(Atom::Imm(NOTHING)),
                ),
                define(1, 4, 0),
                define(2, 5, 1),
                function(
                    3,
                    FunctionKind::TopLevel,
                    vec![],
                    Tail::Return(Atom::Imm(NOTHING)),
                ),
                function(
                    4,
                    FunctionKind::User,
                    vec![],
                    Tail::Return(Atom::Imm(NOTHING)),
                ),
                function(
                    5,
                    FunctionKind::User,
                    vec![stmt(
                        Some(0),
                        Op::GlobalGet {
                            global: GlobalId(1),
                            checked: false,
                        },
                    )],
                    Tail::Return(Atom::Var(VarId(0))),
                ),
            ],
            globals: vec![
                Global {
                    name: "a".into(),
                    int_only: false,
                },
                Global {
                    name: "b".into(),
                    int_only: false,
                },
            ],
            consts: Vec::new(),
            alloc_sites: Vec::new(),
            locs: Vec::new(),
            raw_float_fields: Default::default(),
            entry: FuncId(0),
        };
        assert_eq!(drop_unread_definitions(&mut prog), 1);
        let called: Vec<_> = prog.functions[0]
            .body
            .stmts
            .iter()
            .map(|st| match &st.op {
                Op::Call {
                    callee: crate::ir::Callee::Known { func, .. },
                    ..
                } => func.0,
                _ => u32::MAX,
            })
            .collect();
        assert_eq!(called, vec![2, 3]);
    }

    #[test]
    fn unused_allocations_and_copies_go() {
        // v0 = alloc closure f1 []; v1 = v0; v2 = alloc cons 1 (); return v2
        let cons = Op::Alloc {
            site: crate::ir::AllocSiteId(1),
            what: Alloc::Cons(Atom::Imm(NOTHING), Atom::Imm(NOTHING)),
        };
        let mut prog = Program {
            functions: vec![function(
                0,
                FunctionKind::Entry,
                vec![
                    stmt(Some(0), closure(0)),
                    stmt(Some(1), Op::Move(Atom::Var(VarId(0)))),
                    stmt(Some(2), cons),
                ],
                Tail::Return(Atom::Var(VarId(2))),
            )],
            globals: Vec::new(),
            consts: Vec::new(),
            alloc_sites: Vec::new(),
            locs: Vec::new(),
            raw_float_fields: Default::default(),
            entry: FuncId(0),
        };
        prog.functions[0].nvars = 3;
        assert_eq!(drop_dead_allocations(&mut prog), 2);
        let left = &prog.functions[0].body.stmts;
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].var, Some(VarId(2)));
    }
}
