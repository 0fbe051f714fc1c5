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
//!   in every function, since the renewal may come after the return;
//! - its **refreshes** (`StateRefresh v`): a value that may be *stale* —
//!   read before a renewal point this activation has passed since, or
//!   taken from a closure's environment or a box — is moved out of a
//!   retired version before it is built into an object of the state or
//!   result region, and (read before a renewal) before it is passed to a
//!   call or tail call or returned; and the result of a call that may renew
//!   is refreshed (the callee may have built it in its result region, a
//!   version retired during the call). So no object of a state version
//!   points into an older version that only a finished activation pinned.
//!
//! Objects that point into a version through stores, copies and merges are
//! covered by the runtime (store barrier, transmigration, merge).

use super::analysis::{passed_back_in_place, reaching_result, Summary};
use crate::ir::visit::{walk_block, walk_tails};
use crate::ir::*;
use omni_runtime::prims::{PrimEffect, PrimResult};
use std::collections::{HashMap, HashSet};

/// Whole-program facts of the pass.
pub struct StateFacts {
    /// Per function: it may renew the global state.
    pub may_renew: Vec<bool>,
    /// Per function: whether it may renew the state through its own stores
    /// or those of its known callees (not counting what closures it calls
    /// may do: `map`, `foldl`).
    pub renews_itself: Vec<bool>,
    /// Per global: only ever bound, by a top-level definition, to a value
    /// that is not in the state region (a constant, an immediate, the
    /// closure of a top-level function), or only ever holding Ints.
    pub immortal_global: Vec<bool>,
    /// Per global: only ever holds Ints (`Global::int_only`). A `set!` of
    /// it replaces an immediate by an immediate, which the runtime
    /// (`omni_global_set`) does without a safe point: no renewal point.
    pub int_global: Vec<bool>,
    /// The constants naming raw Float fields (`Op::is_raw_float_put`).
    pub raw_float_keys: HashSet<ConstId>,
}

/// Compute which functions may renew the global state and which globals
/// hold immortal values.
pub fn analyse(prog: &Program) -> StateFacts {
    let raw_float_keys = prog.raw_float_keys();
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
                Op::GlobalSet { global, .. } => {
                    sh.stores |= f.kind != FunctionKind::TopLevel && !int_global(prog, *global)
                }
                Op::BoxSet { .. } => sh.stores = true,
                // A raw Float field takes the bits: the state cannot grow.
                op if op.is_raw_float_put(&raw_float_keys) => {}
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
    // First through stores and known calls only.
    let mut renews_itself: Vec<bool> = shapes.iter().map(|s| s.stores).collect();
    loop {
        let mut changed = false;
        for (i, sh) in shapes.iter().enumerate() {
            if !renews_itself[i] && sh.known.iter().any(|g| renews_itself[g.0 as usize]) {
                renews_itself[i] = true;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let mut may_renew = renews_itself.clone();
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
        renews_itself,
        immortal_global: immortal_globals(prog),
        int_global: (0..prog.globals.len())
            .map(|g| int_global(prog, GlobalId(g as u32)))
            .collect(),
        raw_float_keys,
    }
}

fn int_global(prog: &Program, g: GlobalId) -> bool {
    prog.globals.get(g.0 as usize).is_some_and(|g| g.int_only)
}

/// Globals bound only by top-level definitions to constants, immediates or
/// closures without free variables allocated by those definitions (which
/// code generation places in the immortal region: `immortal_closure_sites`),
/// and globals that only ever hold Ints.
fn immortal_globals(prog: &Program) -> Vec<bool> {
    let mut immortal = vec![true; prog.globals.len()];
    for f in &prog.functions {
        let closures: HashSet<VarId> = immortal_closures(f).into_iter().map(|(v, _)| v).collect();
        walk_block(&f.body, &mut |st| {
            if let Op::GlobalSet { global, value, .. } = &st.op {
                let ok = runs_once(f)
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
    // A global that only ever holds Ints (`Global::int_only`) points into
    // no version either.
    for (i, g) in prog.globals.iter().enumerate() {
        immortal[i] |= g.int_only;
    }
    immortal
}

/// The closures without free variables a top-level form allocates (the
/// values of function definitions, and the entry function's wrappers of
/// primitives used as values): (variable, allocation site). Code
/// generation places them in the immortal region (they are code, not state,
/// and a top-level form runs once).
fn immortal_closures(f: &Function) -> Vec<(VarId, AllocSiteId)> {
    let mut out = Vec::new();
    if !runs_once(f) {
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

/// A top-level form, or the entry function (which binds the wrappers of
/// primitives used as values): code that runs once.
fn runs_once(f: &Function) -> bool {
    matches!(f.kind, FunctionKind::TopLevel | FunctionKind::Entry)
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
    pub refreshes: usize,
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
    // A parameter a loop passes back in its own place does not reach the
    // result region by being carried (`reaching_result`), so the back edge
    // gives its refreshed value no escape hold, which kept one version per
    // renewal alive for the whole loop (issue 12): the loop's pin keeps it
    // instead, from one iteration to the next (`StatePinMoved` after the
    // back edge's `StateUnpin`, which keeps only pins of the current
    // version, when the back edge's refresh moved it).
    let in_place = passed_back_in_place(func);
    let escaping = if holds_result {
        reaching_result(func, summaries, &in_place)
    } else {
        HashSet::new()
    };
    let pinned = may_renew && uses_state(prog_sites, &func.body, facts);
    let mut acc = StateAccess {
        may_renew,
        ..StateAccess::default()
    };
    let mut cx = Cx {
        sites: prog_sites,
        facts,
        escaping: &escaping,
        in_place: &in_place,
        self_id: func.id,
        func_loc: func.loc,
        next_var: std::cell::Cell::new(func.nvars),
        pinned,
        may_renew,
        needed: HashSet::new(),
    };
    // Only a loop that may renew the state on the way to its back edge
    // refreshes what goes back in its own place, and pins it then.
    if may_renew && !pinned && !in_place.is_empty() {
        let mut renews = false;
        walk_block(&func.body, &mut |st| renews |= cx.is_renewal_point(&st.op));
        cx.pinned = renews;
    }
    let pinned = cx.pinned;
    if pinned {
        cx.needed = cx.needed_pins(&func.body);
    }
    let mut stale = Staleness::default();
    for &p in &func.params {
        stale.define(p, false, false);
    }
    cx.block(&mut func.body, &mut acc, &mut stale, false);
    func.nvars = cx.next_var.get();
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
    /// The parameters passed back in their own place (`passed_back_in_place`).
    in_place: &'a HashSet<VarId>,
    self_id: FuncId,
    /// The next variable number free for what the pass adds.
    next_var: std::cell::Cell<u32>,
    /// Where the function starts: the location of what is inserted into
    /// an empty block.
    func_loc: LocId,
    facts: &'a StateFacts,
    escaping: &'a HashSet<VarId>,
    pinned: bool,
    may_renew: bool,
    /// The variables whose version must be pinned (`needed_pins`).
    needed: HashSet<VarId>,
}

impl Cx<'_> {
    /// Both branches of a conditional in a yield context, from `stale`,
    /// which is left as their join; whether some path yields a stale
    /// value. The first branch's changes are taken back before the second
    /// is walked (`Staleness`).
    fn branches(
        &self,
        then: &mut Block,
        els: &mut Block,
        acc: &mut StateAccess,
        stale: &mut Staleness,
    ) -> bool {
        let mark = stale.mark();
        let then_yields_stale = self.block(then, acc, stale, true);
        let then_changes = stale.undo_to(mark);
        let els_yields_stale = self.block(els, acc, stale, true);
        stale.join_logged(mark, &then_changes);
        then_yields_stale || els_yields_stale
    }

    /// Insert the state accesses of `b`, starting from `stale`, which is
    /// left as the state at the block's end. `yields`: `b` is (inside) a
    /// branch of a non-tail `Op::If`, whose branches end in `Yield` through
    /// nested `Tail::If`s; then the end state is the join over those paths,
    /// and the result says whether some path yields a stale value.
    fn block(
        &self,
        b: &mut Block,
        acc: &mut StateAccess,
        stale: &mut Staleness,
        yields: bool,
    ) -> bool {
        let old = std::mem::take(&mut b.stmts);
        let mut out = Vec::with_capacity(old.len());
        for mut st in old {
            let loc = st.loc;
            let refresh = |v: VarId, out: &mut Vec<Stmt>, acc: &mut StateAccess| {
                out.push(Stmt {
                    var: None,
                    op: Op::StateRefresh(Atom::Var(v)),
                    loc,
                });
                acc.refreshes += 1;
            };
            for v in self.to_refresh(&st.op, stale) {
                // The refreshed value may be a copy in the current version:
                // kept like a loaded one.
                refresh(v, &mut out, acc);
                let mut keep = Vec::new();
                self.keep(v, true, &mut keep, acc);
                out.extend(keep.into_iter().map(|op| Stmt { var: None, op, loc }));
                stale.refreshed(v);
            }
            if let Op::If { then, els, .. } = &mut st.op {
                let yielded_stale = self.branches(then, els, acc, stale);
                if let Some(v) = st.var {
                    stale.define(v, yielded_stale, false);
                }
            }
            let after = self.after(&st, acc);
            if self.pinned && self.renewing_call_into_state(&st.op) {
                out.push(Stmt {
                    var: None,
                    op: Op::StatePinCurrent,
                    loc,
                });
                acc.pins += 1;
            }
            let renews = self.is_renewal_point(&st.op);
            let calls = matches!(st.op, Op::Call { .. })
                || matches!(&st.op, Op::Prim { prim, .. } | Op::PrimApplyList { prim, .. }
                    if prim.desc().effect == PrimEffect::CallsClosures);
            if !matches!(st.op, Op::If { .. }) {
                if let Some(v) = st.var {
                    let (renewed, unowned) = self.derives_stale(&st.op, stale);
                    stale.define(v, renewed, unowned);
                }
            }
            let result = st.var;
            out.push(st);

            if renews {
                stale.renewal();
                // The callee may have built its result in a version retired
                // during the call.
                if let (true, Some(v)) = (calls, result) {
                    refresh(v, &mut out, acc);
                    stale.refreshed(v);
                }
            }
            out.extend(after.into_iter().map(|op| Stmt { var: None, op, loc }));
        }
        b.stmts = out;
        let loc = b.stmts.last().map(|s| s.loc).unwrap_or(self.func_loc);
        // What leaves the activation is refreshed (callees and callers
        // take parameters and results as fresh).
        // A tail callee that may store into the state may build what it is
        // given into a state object (then stale from an environment or a
        // box counts too).
        let (leaving, unowned_too): (Vec<VarId>, bool) = match &b.tail {
            Tail::Return(Atom::Var(v)) => (vec![*v], false),
            Tail::Call { callee, args, .. } => {
                (call_vars(callee, args), self.callee_may_renew(callee))
            }
            _ => (Vec::new(), false),
        };
        let back_edge = matches!(&b.tail, Tail::Call { callee: Callee::Known { func, .. }, .. } if *func == self.self_id);
        let mut repin: Vec<(VarId, VarId)> = Vec::new();
        for v in leaving {
            let stale_here =
                stale.renewed.contains(&v) || (unowned_too && stale.unowned.contains(&v));
            let in_place = self.in_place.contains(&v);
            if stale_here && in_place && back_edge {
                // Its value before the refresh, to tell whether it moved.
                let before = VarId(self.next_var.get());
                self.next_var.set(before.0 + 1);
                b.stmts.push(Stmt {
                    var: Some(before),
                    op: Op::Move(Atom::Var(v)),
                    loc,
                });
                repin.push((v, before));
            }
            if stale_here {
                b.stmts.push(Stmt {
                    var: None,
                    op: Op::StateRefresh(Atom::Var(v)),
                    loc,
                });
                acc.refreshes += 1;
                stale.refreshed(v);
            }
            // What goes back in its own place is pinned into the next
            // iteration (below), not held; the loop's exit holds it instead,
            // refreshed or not (an earlier back edge may have refreshed it:
            // then it is no longer the caller's value).
            let hold = match in_place {
                true => !back_edge,
                false => stale_here,
            };
            if hold && self.escaping.contains(&v) {
                b.stmts.push(Stmt {
                    var: None,
                    op: Op::StateHold {
                        value: Atom::Var(v),
                        holder: RegionRef::Result,
                    },
                    loc,
                });
                acc.holds += 1;
            }
        }
        match &mut b.tail {
            // The `Op::If` this block yields to continues after it from the
            // join of both paths' states.
            Tail::If { then, els, .. } if yields => return self.branches(then, els, acc, stale),
            Tail::If { then, els, .. } => {
                // Nothing follows a tail conditional of the function body:
                // the else branch continues with this path's state itself.
                let mark = stale.mark();
                self.block(then, acc, stale, false);
                stale.undo_to(mark);
                self.block(els, acc, stale, false);
            }
            Tail::Yield(Atom::Var(y)) => return stale.is_stale(*y),
            Tail::Return(_) | Tail::Call { .. } if self.pinned => {
                b.stmts.push(Stmt {
                    var: None,
                    op: Op::StateUnpin,
                    loc,
                });
                // Moved by its refresh back into its own place: pinned into
                // the next iteration (a renewal there may retire its version
                // before the next back edge refreshes it again). Unmoved, it
                // is the caller's value or one an earlier back edge pinned,
                // whose pin the unpin kept (its version is still current).
                for (v, before) in repin {
                    b.stmts.push(Stmt {
                        var: None,
                        op: Op::StatePinMoved {
                            value: Atom::Var(v),
                            before: Atom::Var(before),
                        },
                        loc,
                    });
                    acc.pins += 1;
                }
            }
            _ => {}
        }
        false
    }

    /// The variables whose version must stay pinned: those from which a
    /// value still to be used when the state may be renewed derives
    /// (through any operation). A version nothing of this activation reads
    /// after the renewal may go with it: pins no longer needed are left
    /// out (a pin costs a region per activation). A value stored by a
    /// store that is not into a global's container counts as used at the
    /// renewal: a merge of its region into the container's takes the pins'
    /// holds (region/merge.rs).
    fn needed_pins(&self, body: &Block) -> HashSet<VarId> {
        let mut deps: HashMap<VarId, Vec<VarId>> = HashMap::new();
        let mut from_global: HashSet<VarId> = HashSet::new();
        walk_block(body, &mut |st| {
            let Some(d) = st.var else { return };
            let mut ds: Vec<VarId> = match &st.op {
                // A fresh result shares nothing with the operands (a new
                // object, or an immediate such as `%dispatch`'s method
                // number): using it later keeps no operand's version in use.
                Op::Prim { prim, .. } if prim.desc().result == PrimResult::Fresh => Vec::new(),
                op => atom_vars(&op.operands()),
            };
            if let Op::If { then, els, .. } = &st.op {
                for blk in [then, els] {
                    if let Tail::Yield(Atom::Var(y)) = blk.tail {
                        ds.push(y);
                    }
                }
            }
            match &st.op {
                Op::GlobalGet { .. } => {
                    from_global.insert(d);
                }
                Op::Move(Atom::Var(s)) if from_global.contains(s) => {
                    from_global.insert(d);
                }
                _ => {}
            }
            deps.entry(d).or_default().extend(ds);
        });
        let mut at_renewal = HashSet::new();
        self.live_in(body, HashSet::new(), &from_global, &mut at_renewal);
        let mut needed = HashSet::new();
        let mut work: Vec<VarId> = at_renewal.into_iter().collect();
        while let Some(v) = work.pop() {
            if needed.insert(v) {
                if let Some(ds) = deps.get(&v) {
                    work.extend(ds.iter().copied());
                }
            }
        }
        needed
    }

    /// The variables live on entry of `b` given those live after it;
    /// collects in `at_renewal` those live at a renewal point.
    fn live_in(
        &self,
        b: &Block,
        live_out: HashSet<VarId>,
        from_global: &HashSet<VarId>,
        at_renewal: &mut HashSet<VarId>,
    ) -> HashSet<VarId> {
        let mut live = live_out;
        match &b.tail {
            Tail::Return(a) | Tail::Yield(a) => live.extend(atom_vars(&[*a])),
            Tail::Call { callee, args, .. } => live.extend(call_vars(callee, args)),
            Tail::If { cond, then, els } => {
                live = self.live_in(then, HashSet::new(), from_global, at_renewal);
                live.extend(self.live_in(els, HashSet::new(), from_global, at_renewal));
                live.extend(atom_vars(&[*cond]));
            }
        }
        for st in b.stmts.iter().rev() {
            if self.is_renewal_point(&st.op) {
                at_renewal.extend(live.iter().filter(|&&v| Some(v) != st.var));
                // Used during the renewal: a call's operands; a store's,
                // unless into a global's container (then the runtime copies
                // what it stores into the state, holding what it must).
                let during = match &st.op {
                    Op::Call { .. } | Op::BoxSet { .. } => true,
                    Op::Prim { prim, args, .. } => match prim.desc().effect {
                        PrimEffect::Stores { container, .. } => !matches!(
                            args.get(container as usize),
                            Some(Atom::Var(c)) if from_global.contains(c)
                        ),
                        _ => true,
                    },
                    Op::PrimApplyList { .. } => true,
                    _ => false,
                };
                if during {
                    at_renewal.extend(atom_vars(&st.op.operands()));
                }
            }
            if let Some(d) = st.var {
                live.remove(&d);
            }
            if let Op::If { cond, then, els } = &st.op {
                let after = live.clone();
                live = self.live_in(then, after.clone(), from_global, at_renewal);
                live.extend(self.live_in(els, after, from_global, at_renewal));
                live.extend(atom_vars(&[*cond]));
            } else {
                live.extend(atom_vars(&st.op.operands()));
            }
        }
        live
    }

    /// Whether the runtime may renew the state during or right after `op`
    /// (a call that may renew, or a store's safe point).
    fn is_renewal_point(&self, op: &Op) -> bool {
        if !self.may_renew {
            return false;
        }
        match op {
            Op::Call { callee, .. } => self.callee_may_renew(callee),
            Op::Prim { prim, .. } | Op::PrimApplyList { prim, .. } => {
                prim.desc().effect == PrimEffect::CallsClosures
                    || store_may_grow(op, &self.facts.raw_float_keys)
            }
            Op::BoxSet { .. } => store_may_grow(op, &self.facts.raw_float_keys),
            Op::GlobalSet { global, .. } => !self
                .facts
                .int_global
                .get(global.0 as usize)
                .copied()
                .unwrap_or(false),
            _ => false,
        }
    }

    /// Whether the value `op` binds may be stale (read before a renewal;
    /// from a closure's environment or a box), given its operands'.
    fn derives_stale(&self, op: &Op, stale: &Staleness) -> (bool, bool) {
        match op {
            // Read now, or built now from refreshed operands, or refreshed
            // after the call: fresh.
            Op::Inline(op, args, _) if op.loads_field() => match args[0] {
                Atom::Var(v) => (stale.renewed.contains(&v), stale.unowned.contains(&v)),
                _ => (false, false),
            },
            Op::GlobalGet { .. } | Op::Alloc { .. } | Op::Call { .. } | Op::Inline(..) => {
                (false, false)
            }
            Op::EnvGet(_) | Op::BoxGet(_) => (false, true),
            Op::Prim { prim, .. } | Op::PrimApplyList { prim, .. }
                if prim.desc().result == PrimResult::Fresh =>
            {
                (false, false)
            }
            op => {
                let vars = op.operands().into_iter().filter_map(|a| match a {
                    Atom::Var(v) => Some(v),
                    _ => None,
                });
                vars.fold((false, false), |(r, u), v| {
                    (
                        r || stale.renewed.contains(&v),
                        u || stale.unowned.contains(&v),
                    )
                })
            }
        }
    }

    /// The operands of `op` to refresh before it: stale values built into
    /// an object of the state or result region, and values read before a
    /// renewal passed to a call.
    fn to_refresh(&self, op: &Op, stale: &Staleness) -> Vec<VarId> {
        let built_into = |site: &Option<AllocSiteId>| {
            site.is_some_and(|s| {
                matches!(
                    self.sites[s.0 as usize].region,
                    RegionRef::State | RegionRef::Result
                )
            })
        };
        // What a callee that may store into the state (or builds its result
        // there) is given may be built into a state object: as if built here.
        let (built, passed): (Vec<Atom>, Vec<Atom>) = match op {
            Op::Alloc { site, .. } if built_into(&Some(*site)) => (op.operands(), Vec::new()),
            Op::ClosureInit { value, .. } => (vec![*value], Vec::new()),
            Op::Prim { prim, args, site } => match prim.desc() {
                // The closures it calls may store into the state only when
                // this function may (and then nothing is left stale).
                d if d.effect == PrimEffect::CallsClosures => match self.may_renew {
                    true => (args.clone(), Vec::new()),
                    false => (Vec::new(), Vec::new()),
                },
                d if d.result == PrimResult::MayShareArgs && built_into(site) => {
                    (args.clone(), Vec::new())
                }
                _ => (Vec::new(), Vec::new()),
            },
            Op::Call {
                callee,
                args,
                region,
            } => {
                let vars = call_vars(callee, args).into_iter().map(Atom::Var).collect();
                if *region == RegionRef::State || self.callee_may_renew(callee) {
                    (vars, Vec::new())
                } else {
                    (Vec::new(), vars)
                }
            }
            _ => (Vec::new(), Vec::new()),
        };
        let mut out: Vec<VarId> = Vec::new();
        for a in built {
            if let Atom::Var(v) = a {
                if stale.is_stale(v) && !out.contains(&v) {
                    out.push(v);
                }
            }
        }
        for a in passed {
            if let Atom::Var(v) = a {
                if stale.renewed.contains(&v) && !out.contains(&v) {
                    out.push(v);
                }
            }
        }
        out
    }

    /// Whether a call of `callee` may renew the state (store into it).
    fn callee_may_renew(&self, callee: &Callee) -> bool {
        match callee {
            Callee::Known { func, .. } => self.facts.may_renew[func.0 as usize],
            Callee::Unknown(_) => self.may_renew,
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

    /// Keep the version `v` points into: pinned for the activation, and
    /// held by the result region when `v` may reach it (`escape`).
    fn keep(&self, v: VarId, escape: bool, ops: &mut Vec<Op>, acc: &mut StateAccess) {
        if self.pinned && self.needed.contains(&v) {
            ops.push(Op::StatePin(Atom::Var(v)));
            acc.pins += 1;
        }
        if escape && self.escaping.contains(&v) {
            ops.push(Op::StateHold {
                value: Atom::Var(v),
                holder: RegionRef::Result,
            });
            acc.holds += 1;
        }
    }

    /// The ops that follow `st`.
    fn after(&self, st: &Stmt, acc: &mut StateAccess) -> Vec<Op> {
        let mut ops = Vec::new();
        let in_state = st
            .op
            .alloc_site()
            .is_some_and(|s| self.sites[s.0 as usize].region == RegionRef::State);
        // Values that may point into a version: what is loaded from a
        // global, a call's result, what is allocated in the state region.
        let loaded = matches!(&st.op, Op::GlobalGet { global, .. }
            if !self.facts.immortal_global[global.0 as usize]);
        let root = matches!(st.op, Op::Call { .. }) || in_state || loaded;
        if let (true, Some(v)) = (root, st.var) {
            // Outside a function that may renew, only a global's value can
            // be of a version that nothing else keeps.
            self.keep(v, loaded || self.may_renew, &mut ops, acc);
        }
        match (&st.op, st.var) {
            (Op::BoxSet { .. } | Op::Prim { .. } | Op::PrimApplyList { .. }, _)
                if store_may_grow(&st.op, &self.facts.raw_float_keys) =>
            {
                ops.push(Op::StateSafepoint);
                acc.safepoints += 1;
            }
            _ => {}
        }
        ops
    }
}

/// The variables a call passes (its closure and arguments).
fn call_vars(callee: &Callee, args: &[Atom]) -> Vec<VarId> {
    let env = match callee {
        Callee::Known { env, .. } => *env,
        Callee::Unknown(f) => *f,
    };
    std::iter::once(env)
        .chain(args.iter().copied())
        .filter_map(|a| match a {
            Atom::Var(v) => Some(v),
            _ => None,
        })
        .collect()
}

/// A set of one function's variables, a bit each: copying, joining and
/// scanning it cost a word per 64 variables.
#[derive(Clone, Default)]
struct VarSet(Vec<u64>);

impl VarSet {
    fn contains(&self, v: &VarId) -> bool {
        let (w, b) = (v.0 as usize / 64, v.0 % 64);
        self.0.get(w).is_some_and(|word| word >> b & 1 == 1)
    }

    /// Add `v`; whether it was new.
    fn insert(&mut self, v: VarId) -> bool {
        let (w, b) = (v.0 as usize / 64, v.0 % 64);
        if w >= self.0.len() {
            self.0.resize(w + 1, 0);
        }
        let had = self.0[w] >> b & 1 == 1;
        self.0[w] |= 1 << b;
        !had
    }

    /// Take `v` out; whether it was there.
    fn remove(&mut self, v: VarId) -> bool {
        let (w, b) = (v.0 as usize / 64, v.0 % 64);
        match self.0.get_mut(w) {
            Some(word) if *word >> b & 1 == 1 => {
                *word &= !(1 << b);
                true
            }
            _ => false,
        }
    }

    /// The members of `self` not in `other`.
    fn minus<'s>(&'s self, other: &'s VarSet) -> impl Iterator<Item = VarId> + 's {
        self.0.iter().enumerate().flat_map(move |(w, &word)| {
            let mut rest = word & !other.0.get(w).copied().unwrap_or(0);
            std::iter::from_fn(move || {
                if rest == 0 {
                    return None;
                }
                let b = rest.trailing_zeros();
                rest &= rest - 1;
                Some(VarId(w as u32 * 64 + b))
            })
        })
    }
}

/// The three sets of [`Staleness`], for its change log.
#[derive(Clone, Copy, PartialEq, Eq)]
enum StaleSet {
    Defined,
    Renewed,
    Unowned,
}

/// One change to a [`Staleness`]: `var` entered (`added`) or left `set`.
#[derive(Clone, Copy)]
struct StaleChange {
    set: StaleSet,
    var: VarId,
    added: bool,
}

/// Which variables may hold a stale value at a point of the walk (a
/// forward pass over the structured body: at a join, stale on either path).
///
/// Both branches of a conditional start from the state before it. The
/// walk does not copy the state for a branch: it logs every change, walks
/// the first branch, takes its changes off again (`undo_to`), walks the
/// second, and joins by replaying what the first one added (`join_logged`).
/// Copying the sets for each branch kept a copy per nesting level alive: a
/// `cond` or an arithmetic over value `if`s nested 20,000 deep took 1.8 GB
/// and 37 s; the work is now proportional to the changes.
#[derive(Default)]
struct Staleness {
    /// Every variable defined so far on this path (parameters included).
    defined: VarSet,
    /// Read before a renewal point passed since (or derived from one).
    renewed: VarSet,
    /// From a closure's environment or a box (or derived from one): stale
    /// whenever a renewal happened since it was stored, which this
    /// activation cannot see.
    unowned: VarSet,
    /// Every change made, oldest first (`mark`, `undo_to`).
    log: Vec<StaleChange>,
    /// The removals among them (refreshes), oldest first: a join looks
    /// only at these, so walking a long chain of `else` branches stays
    /// linear when nothing in it is refreshed.
    removals: Vec<StaleChange>,
}

/// A point of a [`Staleness`]'s logs.
#[derive(Clone, Copy)]
struct StaleMark {
    log: usize,
    removals: usize,
}

impl Staleness {
    fn set_mut(&mut self, set: StaleSet) -> &mut VarSet {
        match set {
            StaleSet::Defined => &mut self.defined,
            StaleSet::Renewed => &mut self.renewed,
            StaleSet::Unowned => &mut self.unowned,
        }
    }

    fn add(&mut self, set: StaleSet, var: VarId) {
        if self.set_mut(set).insert(var) {
            self.log.push(StaleChange {
                set,
                var,
                added: true,
            });
        }
    }

    fn take_out(&mut self, set: StaleSet, var: VarId) {
        if self.set_mut(set).remove(var) {
            let change = StaleChange {
                set,
                var,
                added: false,
            };
            self.log.push(change);
            self.removals.push(change);
        }
    }

    fn define(&mut self, v: VarId, renewed: bool, unowned: bool) {
        self.add(StaleSet::Defined, v);
        if renewed {
            self.add(StaleSet::Renewed, v);
        }
        if unowned {
            self.add(StaleSet::Unowned, v);
        }
    }

    fn is_stale(&self, v: VarId) -> bool {
        self.renewed.contains(&v) || self.unowned.contains(&v)
    }

    /// A renewal point: everything read so far may be stale after it.
    fn renewal(&mut self) {
        let fresh: Vec<VarId> = self.defined.minus(&self.renewed).collect();
        for v in fresh {
            self.add(StaleSet::Renewed, v);
        }
    }

    /// `v` was just moved to the current version.
    fn refreshed(&mut self, v: VarId) {
        self.take_out(StaleSet::Renewed, v);
        self.take_out(StaleSet::Unowned, v);
    }

    /// A point to come back to with [`Self::undo_to`].
    fn mark(&self) -> StaleMark {
        StaleMark {
            log: self.log.len(),
            removals: self.removals.len(),
        }
    }

    /// Take back every change made since `mark`; returns them, oldest
    /// first.
    fn undo_to(&mut self, mark: StaleMark) -> Vec<StaleChange> {
        self.removals.truncate(mark.removals);
        let changes = self.log.split_off(mark.log);
        for c in changes.iter().rev() {
            let set = self.set_mut(c.set);
            if c.added {
                set.remove(c.var);
            } else {
                set.insert(c.var);
            }
        }
        changes
    }

    /// The state after a conditional, stale on either branch: `self` is
    /// the second branch's end state, walked from the state at `mark`, and
    /// `first` the changes the first branch made from that same state.
    /// The union takes what the first branch added, and whatever the
    /// second branch removed from the starting state that the first one
    /// kept.
    fn join_logged(&mut self, mark: StaleMark, first: &[StaleChange]) {
        // Whether the first branch ended with each variable it touched.
        let mut first_ends: HashMap<(u8, VarId), bool> = HashMap::new();
        for c in first {
            first_ends.insert((c.set as u8, c.var), c.added);
        }
        let mut restore: Vec<(StaleSet, VarId)> = first
            .iter()
            .filter(|c| c.added)
            .map(|c| (c.set, c.var))
            .collect();
        // A variable the second branch took out of a set: if it was there
        // at `mark` (its first change since then in the log of the set's
        // members is this removal, or it was added by an earlier change of
        // the second branch: then `add` below is harmless) and the first
        // branch did not take it out, it stays in the union. Only sets
        // that shrink (renewed, unowned) have removals.
        for c in &self.removals[mark.removals..] {
            if first_ends.get(&(c.set as u8, c.var)) != Some(&false) {
                restore.push((c.set, c.var));
            }
        }
        for (set, var) in restore {
            self.add(set, var);
        }
    }
}

/// The variables among `atoms`.
fn atom_vars(atoms: &[Atom]) -> Vec<VarId> {
    atoms
        .iter()
        .filter_map(|a| match a {
            Atom::Var(v) => Some(*v),
            _ => None,
        })
        .collect()
}

/// Whether `op` is a store (into a box or by a store primitive) that may
/// grow the global state: a store of immediates only allocates nothing
/// (the barrier has nothing to copy), so it needs no safe point after it;
/// nor does a store into a raw Float field (`Op::is_raw_float_put`).
fn store_may_grow(op: &Op, raw_float_keys: &HashSet<ConstId>) -> bool {
    let not_imm = |a: Option<&Atom>| !matches!(a, Some(Atom::Imm(_)));
    if op.is_raw_float_put(raw_float_keys) {
        return false;
    }
    match op {
        Op::BoxSet { value, .. } => not_imm(Some(value)),
        Op::Prim { prim, args, .. } => match prim.desc().effect {
            PrimEffect::Stores { values, .. } => {
                values.iter().any(|&i| not_imm(args.get(i as usize)))
            }
            _ => false,
        },
        Op::PrimApplyList { prim, .. } => {
            matches!(prim.desc().effect, PrimEffect::Stores { .. })
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(renewed: &[u32]) -> Staleness {
        let mut s = Staleness::default();
        for &v in renewed {
            s.define(VarId(v), true, false);
        }
        s
    }

    #[test]
    fn undo_takes_back_exactly_the_changes_since_the_mark() {
        let mut s = with(&[1, 2]);
        let mark = s.mark();
        s.define(VarId(70), true, true);
        s.refreshed(VarId(1));
        s.renewal();
        let changes = s.undo_to(mark);
        assert!(!changes.is_empty());
        assert!(s.is_stale(VarId(1)) && s.is_stale(VarId(2)));
        assert!(!s.defined.contains(&VarId(70)) && !s.is_stale(VarId(70)));
        assert_eq!(s.log.len(), mark.log);
        assert_eq!(s.removals.len(), mark.removals);
    }

    #[test]
    fn a_join_is_stale_on_either_branch() {
        // Before the conditional: 1, 2 and 3 stale.
        let mut s = with(&[1, 2, 3]);
        let mark = s.mark();
        // First branch: refreshes 3, defines 200 stale.
        s.refreshed(VarId(3));
        s.define(VarId(200), true, false);
        let first = s.undo_to(mark);
        // Second branch: refreshes 2 and 3, defines 9 fresh.
        s.refreshed(VarId(2));
        s.refreshed(VarId(3));
        s.define(VarId(9), false, false);
        s.join_logged(mark, &first);
        // 1: stale on both; 2: stale on the first; 200: on the first;
        // 3: refreshed on both; 9: fresh, but defined on a path.
        assert!(s.is_stale(VarId(1)) && s.is_stale(VarId(2)) && s.is_stale(VarId(200)));
        assert!(!s.is_stale(VarId(3)) && !s.is_stale(VarId(9)));
        assert!(s.defined.contains(&VarId(9)) && s.defined.contains(&VarId(200)));
        // The join's own changes are logged: an enclosing branch takes
        // them back too.
        let outer = s.undo_to(StaleMark {
            log: 0,
            removals: 0,
        });
        assert!(!outer.is_empty() && !s.is_stale(VarId(1)) && !s.defined.contains(&VarId(2)));
    }
}
