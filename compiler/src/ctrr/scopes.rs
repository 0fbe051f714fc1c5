//! Scope regions: a function that places anything in its own scope region
//! creates the region on entry and exits it before every return and tail
//! call (so each iteration of a tail-recursive loop reclaims its
//! temporaries).

use super::analysis::{FunctionFacts, Lifetime, Summary};
use super::place::{call_level, SiteLifetimes};
use super::report::{ExitBefore, FunctionReport};
use crate::ir::visit::walk_block;
use crate::ir::*;

/// Give `func` a scope region variable if anything in it is placed there
/// (never for the entry function, whose result region is the global one).
pub fn scope_region(
    func: &mut Function,
    facts: &FunctionFacts,
    summaries: &[Summary],
    sites: &SiteLifetimes,
) -> Option<VarId> {
    let needs = func.kind != FunctionKind::Entry && uses_local(func, facts, summaries, sites);
    needs.then(|| {
        let v = VarId(func.nvars);
        func.nvars += 1;
        v
    })
}

fn uses_local(
    func: &Function,
    facts: &FunctionFacts,
    summaries: &[Summary],
    sites: &SiteLifetimes,
) -> bool {
    let mut any = false;
    walk_block(&func.body, &mut |st| {
        if let Some(site) = st.op.alloc_site() {
            any |= sites.get(&site).is_some_and(|s| s.level == Lifetime::Local);
        } else if let Op::Call { callee, .. } = &st.op {
            any |=
                st.var.is_some() && call_level(facts, summaries, st.var, callee) == Lifetime::Local;
        }
    });
    any
}

/// Insert the scope region's exits before every return and tail call of
/// `func`, then its creation on entry.
pub fn insert_scope(func: &mut Function, report: &mut FunctionReport) {
    let Some(local) = report.local_region else {
        return;
    };
    insert_exits(&mut func.body, local, func.loc, report);
    func.body.stmts.insert(
        0,
        Stmt {
            var: Some(local),
            op: Op::RegionCreate,
            loc: func.loc,
        },
    );
}

fn insert_exits(b: &mut Block, local: VarId, func_loc: LocId, report: &mut FunctionReport) {
    for st in &mut b.stmts {
        if let Op::If { then, els, .. } = &mut st.op {
            insert_exits(then, local, func_loc, report);
            insert_exits(els, local, func_loc, report);
        }
    }
    let exit = match &mut b.tail {
        Tail::Return(_) => Some((LocId(0), ExitBefore::Return)),
        Tail::Call { loc, .. } => Some((*loc, ExitBefore::TailCall)),
        Tail::Yield(_) => None,
        Tail::If { then, els, .. } => {
            insert_exits(then, local, func_loc, report);
            insert_exits(els, local, func_loc, report);
            None
        }
    };
    if let Some((loc, before)) = exit {
        // The tail's operands are atoms, already computed: the scope's
        // objects are dead from here on. A return has no location of its
        // own: it takes the last statement's (or the function's).
        let loc = if loc.0 == 0 {
            b.stmts.last().map(|s| s.loc).unwrap_or(func_loc)
        } else {
            loc
        };
        b.stmts.push(Stmt {
            var: None,
            op: Op::RegionExit(Atom::Var(local)),
            loc,
        });
        report.exits.push((loc, before));
    }
}
