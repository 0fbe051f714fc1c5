//! Access to the global state: what keeps the versions of the global-state
//! region alive while code uses them, and where the runtime may renew it
//! (docs/CTRR.md, "The global state"; the runtime side is
//! `runtime/src/graph/state.rs`).
//!
//! Values of globals, and what is stored into them, live in the global-state
//! region, which the runtime *renews* at safe points: it copies what the
//! globals reach into a fresh version, forwarding the originals, and
//! retires the old version. A retired version must stay alive while a
//! running activation or an object of another region may still point into
//! it. This pass decides, per function:
//! - whether it **may renew** the state: it stores into a global, a box or
//!   a container (each such store is followed by a `StateSafepoint`), or
//!   calls a function that may — an unknown callee may when some closure of
//!   the program may;
//! - if so, its **pin**: `StatePins` on entry, `StatePin v` after every load
//!   from a global (other than one bound once, at top level, to an immortal
//!   value) and every call's result (either may point into the version it
//!   was read from), and `StateUnpin` before every return and tail call.
//!   Its uses of the state region (allocations and result regions placed
//!   there) pin the version they use too (code generation);
//! - its **escape holds**: a value loaded from a global that may reach the
//!   result region makes the result region hold its version (`StateHold`),
//!   in every function, since the renewal may come after the return.
//!
//! Objects that point into a version through stores, copies and merges are
//! covered by the runtime (store barrier, transmigration, merge).

use super::analysis::{reaching_result, Summary};
use crate::ir::visit::{walk_block, walk_tails};
use crate::ir::*;
use omni_runtime::prims::PrimEffect;
use std::collections::HashSet;

/// Whole-program facts of the pass.
pub struct StateFacts {
    /// Per function: it may renew the global state.
    pub may_renew: Vec<bool>,
    /// Per global: only ever bound, by a top-level definition, to a value
    /// that is not in the state region (a constant, an immediate, the
    /// closure of a top-level function).
    pub immortal_global: Vec<bool>,
}

/// Compute which functions may renew the global state and which globals
/// hold immortal values.
pub fn analyse(prog: &Program) -> StateFacts {
    struct Shape {
        stores: bool,
        unknown_calls: bool,
        known: Vec<FuncId>,
        closures: Vec<FuncId>,
    }
    let shapes: Vec<Shape> = prog
        .functions
        .iter()
        .map(|f| {
            let mut sh = Shape {
                stores: false,
                unknown_calls: false,
                known: crate::ir::visit::known_callees(&f.body),
                closures: Vec::new(),
            };
            walk_block(&f.body, &mut |st| match &st.op {
                Op::GlobalSet { .. } => sh.stores |= f.kind != FunctionKind::TopLevel,
                Op::BoxSet { .. } => sh.stores = true,
                Op::Prim { prim, .. } | Op::PrimApplyList { prim, .. } => {
                    match prim.desc().effect {
                        PrimEffect::Stores { .. } => sh.stores = true,
                        PrimEffect::CallsClosures => sh.unknown_calls = true,
                        _ => {}
                    }
                }
                Op::Call {
                    callee: Callee::Unknown(_),
                    ..
                } => sh.unknown_calls = true,
                Op::Alloc {
                    what: Alloc::Closure { func, .. },
                    ..
                } => sh.closures.push(*func),
                _ => {}
            });
            walk_tails(&f.body, &mut |t| {
                sh.unknown_calls |= matches!(
                    t,
                    Tail::Call {
                        callee: Callee::Unknown(_),
                        ..
                    }
                )
            });
            sh
        })
        .collect();
    let mut may_renew: Vec<bool> = shapes.iter().map(|s| s.stores).collect();
    let mut closure_renews = false;
    loop {
        let mut changed = false;
        for (i, sh) in shapes.iter().enumerate() {
            let m = sh.stores
                || sh.known.iter().any(|g| may_renew[g.0 as usize])
                || (sh.unknown_calls && closure_renews);
            if m && !may_renew[i] {
                may_renew[i] = true;
                changed = true;
            }
        }
        let any = shapes
            .iter()
            .any(|sh| sh.closures.iter().any(|g| may_renew[g.0 as usize]));
        if any != closure_renews {
            closure_renews = any;
            changed = true;
        }
        if !changed {
            break;
        }
    }
    StateFacts {
        may_renew,
        immortal_global: immortal_globals(prog),
    }
}

/// Globals bound only by top-level definitions to constants, immediates or
/// closures without free variables allocated by those definitions (which
/// code generation places in the immortal region: `immortal_closure_sites`).
fn immortal_globals(prog: &Program) -> Vec<bool> {
    let mut immortal = vec![true; prog.globals.len()];
    for f in &prog.functions {
        let closures: HashSet<VarId> = immortal_closures(f).into_iter().map(|(v, _)| v).collect();
        walk_block(&f.body, &mut |st| {
            if let Op::GlobalSet { global, value, .. } = &st.op {
                let ok = f.kind == FunctionKind::TopLevel
                    && match value {
                        Atom::Imm(_) | Atom::Const(_) => true,
                        Atom::Var(v) => closures.contains(v),
                        Atom::SelfClosure => false,
                    };
                if !ok {
                    immortal[global.0 as usize] = false;
                }
            }
        });
    }
    immortal
}

/// The closures without free variables a top-level form allocates (the
/// values of function definitions): (variable, allocation site). Code
/// generation places them in the immortal region (they are code, not state,
/// and a top-level form runs once).
fn immortal_closures(f: &Function) -> Vec<(VarId, AllocSiteId)> {
    let mut out = Vec::new();
    if f.kind != FunctionKind::TopLevel {
        return out;
    }
    walk_block(&f.body, &mut |st| {
        if let (
            Some(v),
            Op::Alloc {
                site,
                what: Alloc::Closure { free, .. },
            },
        ) = (st.var, &st.op)
        {
            if free.is_empty() {
                out.push((v, *site));
            }
        }
    });
    out
}

/// The allocation sites of `immortal_closures`, over the program.
pub fn immortal_closure_sites(prog: &Program) -> HashSet<AllocSiteId> {
    prog.functions
        .iter()
        .flat_map(immortal_closures)
        .map(|(_, site)| site)
        .collect()
}

/// What the pass inserted into one function (for `--dump-ctrr`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StateAccess {
    pub may_renew: bool,
    pub pins: usize,
    pub holds: usize,
    pub safepoints: usize,
}

/// Insert the pin, escape holds and safe points of `func`.
pub fn insert_state_access(
    prog_sites: &[AllocSite],
    func: &mut Function,
    summaries: &[Summary],
    facts: &StateFacts,
) -> StateAccess {
    let may_renew = facts.may_renew[func.id.0 as usize];
    let holds_result = !matches!(func.kind, FunctionKind::TopLevel | FunctionKind::Entry);
    let escaping = if holds_result {
        reaching_result(func, summaries)
    } else {
        HashSet::new()
    };
    let pinned = may_renew && uses_state(prog_sites, &func.body, facts);
    let mut acc = StateAccess {
        may_renew,
        ..StateAccess::default()
    };
    let cx = Cx {
        sites: prog_sites,
        facts,
        escaping: &escaping,
        pinned,
    };
    cx.block(&mut func.body, &mut acc);
    if pinned {
        func.body.stmts.insert(
            0,
            Stmt {
                var: None,
                op: Op::StatePins,
                loc: func.loc,
            },
        );
    }
    acc
}

/// Whether a function that may renew reads the state: loads a global that
/// may hold a state value, uses a call's result, or places something in the
/// state region.
fn uses_state(sites: &[AllocSite], b: &Block, facts: &StateFacts) -> bool {
    let mut any = false;
    walk_block(b, &mut |st| {
        any |= match &st.op {
            Op::GlobalGet { global, .. } => !facts.immortal_global[global.0 as usize],
            Op::Call { region, .. } => st.var.is_some() || *region == RegionRef::State,
            op => op
                .alloc_site()
                .is_some_and(|s| sites[s.0 as usize].region == RegionRef::State),
        };
    });
    any
}

struct Cx<'a> {
    sites: &'a [AllocSite],
    facts: &'a StateFacts,
    escaping: &'a HashSet<VarId>,
    pinned: bool,
}

impl Cx<'_> {
    fn block(&self, b: &mut Block, acc: &mut StateAccess) {
        let old = std::mem::take(&mut b.stmts);
        let mut out = Vec::with_capacity(old.len());
        for mut st in old {
            if let Op::If { then, els, .. } = &mut st.op {
                self.block(then, acc);
                self.block(els, acc);
            }
            let after = self.after(&st, acc);
            let loc = st.loc;
            if self.pinned && self.renewing_call_into_state(&st.op) {
                out.push(Stmt {
                    var: None,
                    op: Op::StatePinCurrent,
                    loc,
                });
                acc.pins += 1;
            }
            out.push(st);
            out.extend(after.into_iter().map(|op| Stmt { var: None, op, loc }));
        }
        b.stmts = out;
        match &mut b.tail {
            Tail::If { then, els, .. } => {
                self.block(then, acc);
                self.block(els, acc);
            }
            Tail::Return(_) | Tail::Call { .. } if self.pinned => {
                let loc = b.stmts.last().map(|s| s.loc).unwrap_or(LocId(0));
                b.stmts.push(Stmt {
                    var: None,
                    op: Op::StateUnpin,
                    loc,
                });
            }
            _ => {}
        }
    }

    /// A call given the state region as its result region that may renew
    /// the state: the version must outlive the call.
    fn renewing_call_into_state(&self, op: &Op) -> bool {
        match op {
            Op::Call {
                region: RegionRef::State,
                callee,
                ..
            } => match callee {
                Callee::Known { func, .. } => self.facts.may_renew[func.0 as usize],
                Callee::Unknown(_) => true,
            },
            _ => false,
        }
    }

    /// The ops that follow `st`.
    fn after(&self, st: &Stmt, acc: &mut StateAccess) -> Vec<Op> {
        let mut ops = Vec::new();
        let in_state = st
            .op
            .alloc_site()
            .is_some_and(|s| self.sites[s.0 as usize].region == RegionRef::State);
        if let (true, true, Some(v)) = (self.pinned, in_state, st.var) {
            ops.push(Op::StatePin(Atom::Var(v)));
            acc.pins += 1;
        }
        match (&st.op, st.var) {
            (Op::GlobalGet { global, .. }, Some(v))
                if !self.facts.immortal_global[global.0 as usize] =>
            {
                if self.pinned {
                    ops.push(Op::StatePin(Atom::Var(v)));
                    acc.pins += 1;
                }
                if self.escaping.contains(&v) {
                    ops.push(Op::StateHold(Atom::Var(v)));
                    acc.holds += 1;
                }
            }
            (Op::Call { .. }, Some(v)) if self.pinned => {
                ops.push(Op::StatePin(Atom::Var(v)));
                acc.pins += 1;
            }
            (Op::BoxSet { .. }, _) => {
                ops.push(Op::StateSafepoint);
                acc.safepoints += 1;
            }
            (Op::Prim { prim, .. } | Op::PrimApplyList { prim, .. }, _)
                if matches!(prim.desc().effect, PrimEffect::Stores { .. }) =>
            {
                ops.push(Op::StateSafepoint);
                acc.safepoints += 1;
            }
            _ => {}
        }
        ops
    }
}
