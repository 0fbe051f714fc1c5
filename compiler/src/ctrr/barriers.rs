//! Store barriers: every store into an existing object keeps or elides its
//! barrier. It is elided when the stored value is immediate, a constant, or
//! was allocated here in a region provably as old as the container's (its
//! origin, tracked per variable in statement order).

use super::analysis::{FunctionFacts, Lifetime, Node};
use super::place::SiteLifetimes;
use super::report::{BarrierDecision, BarrierReason, FunctionReport, StoreKind, StoreTarget};
use crate::ir::visit::walk_block_mut;
use crate::ir::*;
use omni_runtime::prims::PrimEffect;
use std::collections::HashMap;

/// Decide every store barrier of `func`.
pub fn decide(
    func: &mut Function,
    facts: &FunctionFacts,
    sites: &SiteLifetimes,
    report: &mut FunctionReport,
) {
    // How each variable was produced here: the lifetime of the region its
    // value was allocated in, when this function allocated it.
    let mut origins: HashMap<VarId, Lifetime> = HashMap::new();
    walk_block_mut(&mut func.body, &mut |st| {
        let var = st.var;
        if let Some(site) = st.op.alloc_site() {
            if let (Some(v), Some(s)) = (var, sites.get(&site)) {
                origins.insert(v, s.level);
            }
            return;
        }
        match &mut st.op {
            Op::GlobalGet { .. } => {
                if let Some(v) = var {
                    origins.insert(v, Lifetime::Global);
                }
            }
            Op::Call { .. } => {
                if let Some(v) = var {
                    // The result lives in the region passed or in an
                    // argument's, which the outlives edges keep at least as
                    // old as the variable's own lifetime.
                    origins.insert(v, facts.level_of(Node::Var(v)));
                }
            }
            Op::GlobalSet { value, barrier, .. } => {
                let (kept, reason) =
                    needs_barrier(&origins, value, Lifetime::Global, StoreTarget::GlobalRegion);
                *barrier = kept;
                report.barriers.push(BarrierDecision {
                    loc: st.loc,
                    store: StoreKind::Global,
                    kept,
                    reason,
                });
            }
            Op::BoxSet {
                cell,
                value,
                barrier,
            } => {
                let cell_level = match cell {
                    Atom::Var(v) => origins.get(v).copied(),
                    _ => None,
                };
                let (kept, reason) = match cell_level {
                    Some(l) => needs_barrier(&origins, value, l, StoreTarget::BoxRegion),
                    None if is_immediate(value) => (false, BarrierReason::Immediate),
                    None => (true, BarrierReason::BoxFromElsewhere),
                };
                *barrier = kept;
                report.barriers.push(BarrierDecision {
                    loc: st.loc,
                    store: StoreKind::CapturedSet,
                    kept,
                    reason,
                });
            }
            Op::Prim { prim, .. } if matches!(prim.desc().effect, PrimEffect::Stores { .. }) => {
                report.barriers.push(BarrierDecision {
                    loc: st.loc,
                    store: StoreKind::Primitive(prim.desc().name.to_string()),
                    kept: true,
                    reason: BarrierReason::MutationPrimitive,
                });
            }
            _ => {}
        }
    });
}

/// Whether storing `value` into a container of lifetime `container` needs
/// the barrier, and why.
fn needs_barrier(
    origins: &HashMap<VarId, Lifetime>,
    value: &Atom,
    container: Lifetime,
    target: StoreTarget,
) -> (bool, BarrierReason) {
    match value {
        Atom::Imm(_) => (false, BarrierReason::Immediate),
        Atom::Const(_) => (false, BarrierReason::Constant),
        Atom::Var(v) if origins.get(v).is_some_and(|l| *l >= container) => {
            (false, BarrierReason::ValueAsOld(target))
        }
        _ => (true, BarrierReason::ValueNotProvablyAsOld(target)),
    }
}

fn is_immediate(a: &Atom) -> bool {
    matches!(a, Atom::Imm(_))
}
