//! Placement: every allocation site and every call's result region goes to
//! the shortest-lived region that outlives all uses (the function's scope
//! region, the caller-supplied result region, or the global region).
//! [`region_for`] is the one mapping from a lifetime to a region.

use super::analysis::{Analysis, FunctionFacts, Lifetime, Node, Summary};
use super::report::{FunctionReport, PlaceReason};
use crate::ir::visit::{walk_block, walk_block_mut};
use crate::ir::*;
use std::collections::HashMap;

/// The lifetime an allocation site needs: the longest over its uses, with
/// the reason and the function of that use.
#[derive(Debug, Clone)]
pub struct SiteLifetime {
    pub level: Lifetime,
    pub reason: PlaceReason,
    pub func: FuncId,
}

/// Per allocation site reached by some function, its lifetime.
pub type SiteLifetimes = HashMap<AllocSiteId, SiteLifetime>;

/// The region a value of lifetime `level` is allocated in, in a function of
/// `kind` with scope region `local`. The global lifetime is the global-state
/// region's (state.rs); a top-level form's result region is the immortal
/// global region; a function without a scope region allocates its local
/// values in its result region.
pub fn region_for(level: Lifetime, kind: FunctionKind, local: Option<VarId>) -> RegionRef {
    match (level, local) {
        (Lifetime::Global, _) => RegionRef::State,
        (Lifetime::Result, _) if matches!(kind, FunctionKind::TopLevel | FunctionKind::Entry) => {
            RegionRef::Global
        }
        (Lifetime::Result, _) => RegionRef::Result,
        (Lifetime::Local, Some(v)) => RegionRef::Local(v),
        (Lifetime::Local, None) => RegionRef::Result,
    }
}

/// The lifetime every allocation site needs, over all its uses.
pub fn site_lifetimes(prog: &Program, an: &Analysis) -> SiteLifetimes {
    let mut sites = SiteLifetimes::new();
    for f in &prog.functions {
        let facts = &an.facts[f.id.0 as usize];
        walk_block(&f.body, &mut |st| {
            if let Some(site) = st.op.alloc_site() {
                let (level, reason) = match st.var {
                    Some(v) => (
                        facts.level_of(Node::Var(v)),
                        PlaceReason::Causes(facts.cause_chain(Node::Var(v))),
                    ),
                    None => (Lifetime::Local, PlaceReason::ResultUnused),
                };
                let e = sites.entry(site).or_insert(SiteLifetime {
                    level,
                    reason: reason.clone(),
                    func: f.id,
                });
                if level > e.level {
                    *e = SiteLifetime {
                        level,
                        reason,
                        func: f.id,
                    };
                }
            }
        });
    }
    sites
}

/// The lifetime a call's result region must have: the result's own, except
/// that a callee which never allocates in its result region is given the
/// caller's result region instead of a scope region (a scope region would
/// hold nothing, and creating one per call costs time).
pub fn call_level(
    facts: &FunctionFacts,
    summaries: &[Summary],
    var: Option<VarId>,
    callee: &Callee,
) -> Lifetime {
    let level = var
        .map(|v| facts.level_of(Node::Var(v)))
        .unwrap_or(Lifetime::Local);
    if level == Lifetime::Local && !Summary::callee_allocs(summaries, callee) {
        Lifetime::Result
    } else {
        level
    }
}

/// Choose the result region of every non-tail call in `func`.
pub fn place_calls(
    func: &mut Function,
    facts: &FunctionFacts,
    summaries: &[Summary],
    report: &mut FunctionReport,
) {
    let (kind, local) = (func.kind, report.local_region);
    walk_block_mut(&mut func.body, &mut |st| {
        let var = st.var;
        if let Op::Call { region, callee, .. } = &mut st.op {
            let level = call_level(facts, summaries, var, callee);
            *region = region_for(level, kind, local);
            let own = var
                .map(|v| facts.level_of(Node::Var(v)))
                .unwrap_or(Lifetime::Local);
            let reason = if level != own {
                PlaceReason::CalleeAllocatesNothing
            } else {
                match var {
                    Some(v) => PlaceReason::CallResult(facts.cause.get(&Node::Var(v)).cloned()),
                    None => PlaceReason::ResultUnused,
                }
            };
            report.calls.push((st.loc, *region, reason));
        }
    });
}

/// Write every allocation site's region into `prog`; returns the reasons,
/// per site (after every function's scope region is known). The closures
/// of top-level function definitions (`immortal`) go to the immortal global
/// region.
pub fn place_sites(
    prog: &mut Program,
    sites: &SiteLifetimes,
    functions: &[FunctionReport],
    immortal: &std::collections::HashSet<AllocSiteId>,
) -> Vec<PlaceReason> {
    let kinds: Vec<FunctionKind> = prog.functions.iter().map(|f| f.kind).collect();
    let mut reasons = Vec::with_capacity(prog.alloc_sites.len());
    for (id, site) in prog.alloc_sites.iter_mut().enumerate() {
        match sites.get(&AllocSiteId(id as u32)) {
            None => {
                site.region = RegionRef::Global;
                reasons.push(PlaceReason::UnusedSite);
            }
            Some(s) => {
                let f = s.func.0 as usize;
                // A Float temporary goes to the lazy Float region.
                let local = match site.kind {
                    AllocKind::Float => functions[f].float_region,
                    _ => functions[f].local_region,
                };
                site.region = if immortal.contains(&AllocSiteId(id as u32)) {
                    RegionRef::Global
                } else {
                    region_for(s.level, kinds[f], local)
                };
                reasons.push(s.reason.clone());
            }
        }
    }
    reasons
}
