//! CTRR's decisions as data: where each allocation site and call result
//! was placed and why, each region exit, each store barrier kept or elided
//! and why, each cross-thread handoff. The passes record them here; only
//! `dump.rs` turns them into prose (`--dump-ctrr`).

use super::analysis::{self, Cause};
use crate::ir::visit::walk_block;
use crate::ir::*;
use omni_runtime::prims::{Handoff, PrimEffect};

/// What CTRR decided for the whole program.
#[derive(Debug, Clone, Default)]
pub struct CtrrReport {
    /// Per function, in `Program::functions` order.
    pub functions: Vec<FunctionReport>,
    /// Per allocation site, in `Program::alloc_sites` order: why its region
    /// was chosen.
    pub sites: Vec<PlaceReason>,
}

/// What CTRR decided in one function.
#[derive(Debug, Clone)]
pub struct FunctionReport {
    /// The scope region variable, if the function has one.
    pub local_region: Option<VarId>,
    /// The lazy Float region variable, if the function has one (`lazy.rs`).
    pub float_region: Option<VarId>,
    /// Calls: (loc, region chosen for the result, reason).
    pub calls: Vec<(LocId, RegionRef, PlaceReason)>,
    /// Scope region exits inserted, one per path: (loc of the statement
    /// the exit follows, or of the return / tail call it precedes; why
    /// there).
    pub exits: Vec<(LocId, ScopeExit)>,
    /// Store barriers, in statement order.
    pub barriers: Vec<BarrierDecision>,
    /// Which inputs reach the result (the function summary).
    pub summary: analysis::Summary,
    /// Cross-thread escape boundaries (`spawn`, `send`, `recv`, `join`):
    /// (loc, the transfer the runtime performs there).
    pub handoffs: Vec<(LocId, Handoff)>,
    /// The loop carry region (`carry.rs`): set on the stub that starts the
    /// loop and on the loop body.
    pub carry: Option<CarryDecision>,
    /// Access to the global state (`state.rs`): whether the function may
    /// renew it, and the pins, escape holds, safe points and refreshes
    /// inserted.
    pub state: super::state::StateAccess,
}

/// A loop given a carry region.
#[derive(Debug, Clone, PartialEq)]
pub struct CarryDecision {
    /// The loop body's parameters holding the carry region and its renewal
    /// limit.
    pub carry: VarId,
    pub limit: VarId,
    /// The function holding the loop body.
    pub loop_func: FuncId,
    /// Self tail calls, each preceded by a renewal check.
    pub back_edges: Vec<LocId>,
    /// Returns and other tail calls, each preceded by the hand-over of the
    /// carry region to the result region.
    pub exits: Vec<LocId>,
    /// Allocations and calls left in the result region: the loop only
    /// stores their values into a container older than the carry region
    /// (`analysis::stays_in_result`).
    pub stays_in_result: Vec<LocId>,
    /// Of those, the allocations built in the region their container lives
    /// in, chosen at run time (`carry::build_where_stored`).
    pub where_stored: Vec<LocId>,
}

impl FunctionReport {
    pub fn new(summary: analysis::Summary) -> Self {
        FunctionReport {
            local_region: None,
            float_region: None,
            calls: Vec::new(),
            exits: Vec::new(),
            barriers: Vec::new(),
            summary,
            handoffs: Vec::new(),
            carry: None,
            state: Default::default(),
        }
    }
}

/// Why an allocation site or a call result got its region.
#[derive(Debug, Clone, PartialEq)]
pub enum PlaceReason {
    /// No function reaches the site: placed in the global region.
    UnusedSite,
    /// The statement binds no variable: nothing outlives it.
    ResultUnused,
    /// An allocation: the chain of causes of its variable's lifetime, from
    /// the variable on (empty: it does not outlive the call).
    Causes(Vec<Cause>),
    /// A call result: the first cause of the variable's lifetime (`None`:
    /// used only within the call).
    CallResult(Option<Cause>),
    /// A call whose callee allocates nothing in its result region, given
    /// the caller's result region instead of a scope region.
    CalleeAllocatesNothing,
}

/// Which tail a region exit is inserted before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitBefore {
    Return,
    TailCall,
}

/// Where the scope region is exited on one path, and why there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopeExit {
    /// Right after the path's last statement that uses the region: nothing
    /// placed in it can be used later on this path.
    AfterLastUse(RegionUse),
    /// At the start of a branch that does not use the region at all.
    Unused,
    /// Right before the path's return or tail call, which reads a value
    /// that may be in the region (its operands are already computed).
    Before(ExitBefore),
}

/// How the statement a scope region's exit follows uses the region.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegionUse {
    /// Reads (or passes on) this variable, whose value may point into it.
    Var(VarId),
    /// Allocates in it.
    Alloc,
    /// A call whose result region it is.
    CallInto,
    /// A non-tail conditional whose branches use it.
    Branches,
}

/// A store whose barrier CTRR kept or elided.
#[derive(Debug, Clone, PartialEq)]
pub struct BarrierDecision {
    pub loc: LocId,
    pub store: StoreKind,
    pub kept: bool,
    pub reason: BarrierReason,
}

/// What kind of store a barrier decision is about.
#[derive(Debug, Clone, PartialEq)]
pub enum StoreKind {
    /// `set!` of a global.
    Global,
    /// `set!` of a captured (boxed) variable.
    CapturedSet,
    /// A mutation primitive, by name.
    Primitive(String),
}

/// The region a store writes into, as far as the decision knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreTarget {
    GlobalRegion,
    BoxRegion,
}

/// Why a store barrier was kept or elided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BarrierReason {
    /// Elided: the value is an immediate word.
    Immediate,
    /// Elided: the value is a constant, which lives in the global region.
    Constant,
    /// Elided: the value was allocated here in a region at least as old as
    /// the target's.
    ValueAsOld(StoreTarget),
    /// Kept: the value's region is not provably as old as the target's.
    ValueNotProvablyAsOld(StoreTarget),
    /// Kept: the box was allocated elsewhere, its region is unknown here.
    BoxFromElsewhere,
    /// Kept: a mutation primitive runs the runtime store helper itself.
    MutationPrimitive,
}

/// The transfer the runtime performs when `prim` is a cross-thread escape
/// boundary (docs/REGION_THREADING_MODEL.md).
pub fn handoff_boundary(prim: PrimId) -> Option<Handoff> {
    match prim.desc().effect {
        PrimEffect::Handoff(h) => Some(h),
        _ => None,
    }
}

/// The cross-thread escape boundaries of `func`, in statement order.
pub fn handoffs(func: &Function) -> Vec<(LocId, Handoff)> {
    let mut out = Vec::new();
    walk_block(&func.body, &mut |st| {
        if let Op::Prim { prim, .. } = &st.op {
            if let Some(h) = handoff_boundary(*prim) {
                out.push((st.loc, h));
            }
        }
    });
    out
}
