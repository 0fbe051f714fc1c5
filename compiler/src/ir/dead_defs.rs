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
//! The REPL never runs this: a later form may read any global.

use super::{Alloc, Atom, FuncId, FunctionKind, Op, Program, Tail};

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
                stmt(
                    Some(0),
                    Op::Alloc {
                        site: crate::ir::AllocSiteId(0),
                        what: Alloc::Closure {
                            func: FuncId(func),
                            free: Vec::new(),
                        },
                    },
                ),
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
            globals: vec![Global { name: "a".into() }, Global { name: "b".into() }],
            consts: Vec::new(),
            alloc_sites: Vec::new(),
            locs: Vec::new(),
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
}
