//! The lazy Float region: the Float results of inline arithmetic (`+ - *`
//! whose slow path allocates), and the Floats boxed from raw Float fields
//! by `get` / `%struct-ref` (`Op::float_site`), that do not outlive the call go to a region of
//! their own, created on the slow path the first time such an op actually
//! allocates, and exited before every return and tail call (an exit skips a
//! region that was never created). Integer code then pays nothing for it,
//! while a Float temporary still lives no longer than its call
//! (docs/CTRR.md). It is kept apart from the scope region so that a
//! possible Float in an operand does not hold the scope region's objects:
//! the scope region still ends at the last use of what is placed in it
//! (`scopes.rs`).

use super::analysis::Lifetime;
use super::place::SiteLifetimes;
use crate::ir::visit::walk_block;
use crate::ir::*;

/// A variable for `func`'s Float region if one of its inline ops places a
/// Float in it (never for the entry function).
pub fn float_region(func: &mut Function, sites: &SiteLifetimes) -> Option<VarId> {
    if func.kind == FunctionKind::Entry {
        return None;
    }
    let mut any = false;
    walk_block(&func.body, &mut |st| {
        if let Some(site) = st.op.float_site() {
            any |= sites.get(&site).is_some_and(|s| s.level == Lifetime::Local);
        }
    });
    any.then(|| {
        let v = VarId(func.nvars);
        func.nvars += 1;
        v
    })
}

/// Insert the Float region's lazy creation and its exit before
/// every return and tail call that some Float site may precede: on a path
/// where no inline op with a site ran, the region cannot exist, so that
/// path (the base case of `fib`, say) pays no exit check.
pub fn insert_float_region(func: &mut Function, float: VarId) {
    insert_exits(&mut func.body, float, func.loc, false);
    insert_creation(&mut func.body, float, func.loc);
}

/// Put the creation (the null handle's store) where it dominates every
/// Float site and nothing more: down the one branch that holds them all
/// (fib's recursive case), so a path without sites does not pay for it.
fn insert_creation(b: &mut Block, float: VarId, loc: LocId) {
    let first_site = b.stmts.iter().position(may_make_float);
    if first_site.is_none() {
        if let Tail::If { then, els, .. } = &mut b.tail {
            match (block_may_make_float(then), block_may_make_float(els)) {
                (true, false) => return insert_creation(then, float, loc),
                (false, true) => return insert_creation(els, float, loc),
                _ => {}
            }
        }
    }
    let at = first_site.unwrap_or(b.stmts.len());
    b.stmts.insert(
        at,
        Stmt {
            var: Some(float),
            op: Op::RegionCreateLazy,
            loc,
        },
    );
}

fn block_may_make_float(b: &Block) -> bool {
    let mut any = false;
    walk_block(b, &mut |s| any |= s.op.float_site().is_some());
    any
}

/// Whether `st` is, or contains, an inline op whose slow path may allocate
/// (a superset of the Float region's sites: those placed elsewhere only
/// cost an exit check that finds no region).
fn may_make_float(st: &Stmt) -> bool {
    match &st.op {
        Op::If { then, els, .. } => block_may_make_float(then) || block_may_make_float(els),
        op => op.float_site().is_some(),
    }
}

/// Add the exits to `b`; `seen` says whether a Float site may have run on
/// the path before `b`.
fn insert_exits(b: &mut Block, float: VarId, func_loc: LocId, mut seen: bool) {
    for st in &mut b.stmts {
        if let Op::If { then, els, .. } = &mut st.op {
            insert_exits(then, float, func_loc, seen);
            insert_exits(els, float, func_loc, seen);
        }
        seen = seen || may_make_float(st);
    }
    let exit_loc = match &mut b.tail {
        Tail::Return(_) => Some(LocId(0)),
        Tail::Call { loc, .. } => Some(*loc),
        Tail::Yield(_) => None,
        Tail::If { then, els, .. } => {
            insert_exits(then, float, func_loc, seen);
            insert_exits(els, float, func_loc, seen);
            None
        }
    };
    if let (Some(loc), true) = (exit_loc, seen) {
        // The tail's operands are computed: a Float among them that must
        // outlive the call was placed in an older region.
        let loc = if loc.0 == 0 {
            b.stmts.last().map(|s| s.loc).unwrap_or(func_loc)
        } else {
            loc
        };
        b.stmts.push(Stmt {
            var: None,
            op: Op::RegionExit(Atom::Var(float)),
            loc,
        });
    }
}
