//! Loop carry regions: a self-tail-recursive function that builds, in each
//! iteration, data it carries to the next one (`(build (- k 1) (insert t k))`)
//! would otherwise allocate every iteration's version in its result region,
//! where the versions the loop has moved past stay until the caller's region
//! ends. Here such a loop gets a region of its own, the *carry region*, and
//! at the back edge — where the tail call's operands are the only values
//! that outlive the iteration — the runtime renews it when it has grown past
//! twice what was live at its last renewal: it copies what the operands
//! reach into a fresh region and releases the old one. At every exit of the
//! loop the carry region goes to the result region (merged, O(chunks)).
//!
//! The transformation, after placement: the function `f` keeps its identity
//! (closures and callers still call it) but becomes a stub that starts the
//! loop (`CarryStart`) and tail-calls a new function, `f`'s body with two
//! leading parameters, the carry region and its renewal limit
//! ([`FunctionKind::CarryLoop`]). In that body every placement in the result
//! region becomes a placement in the carry region — except what the loop
//! only stores into a container older than the carry region
//! (`analysis::stays_in_result`): it stays in the result region, where the
//! container lives, so the store needs no copy; every self tail call goes
//! to the loop with `CarryRenew` before it; every return and every other
//! tail call has `CarryEnd` before it.
//!
//! Why this is sound: a value that outlives an iteration is a tail-call
//! operand or built into one (lifetime `Result` or older), so it lives in
//! the carry region or an older region; nothing older points into the carry
//! region (stores go through the barrier, which copies into the older region
//! and forwards), and the iteration's scope region has been exited before the
//! back edge. So at the back edge the operands are the only roots into the
//! carry region. At an exit, merging the carry region into the result region
//! makes everything the loop built live as long as a return value must.
//!
//! A loop starts with the result region as its carry region and moves to a
//! region of its own only after it has allocated `CARRY_START_BYTES` there:
//! short loops cost one inline comparison per iteration and nothing else.

use super::analysis::{passed_back_in_place, stays_in_result, Lifetime, Summary};
use super::report::{CarryDecision, FunctionReport};
use crate::ir::visit::{read_counts, walk_block, walk_block_mut};
use crate::ir::*;
use omni_runtime::prims::PrimEffect;
use std::collections::{HashMap, HashSet};

/// Give every eligible loop of `prog` a carry region; the new loop bodies'
/// reports are appended to `reports` (which is in `prog.functions` order).
pub fn insert_carry_regions(
    prog: &mut Program,
    reports: &mut Vec<FunctionReport>,
    only: Option<&[bool]>,
) {
    let n = prog.functions.len();
    let summaries: Vec<Summary> = reports.iter().map(|r| r.summary.clone()).collect();
    let raw_keys = prog.raw_float_keys();
    let state_result = may_get_state_result(prog);
    for i in 0..n {
        let decided = only.is_none_or(|m| m.get(i).copied().unwrap_or(true));
        if !decided || !reports[i].summary.result_allocs || !eligible(prog, i) {
            continue;
        }
        // What the loop only stores into a container older than the carry
        // region stays in the result region (`stays_in_result`).
        let stays = {
            let f = &prog.functions[i];
            let (mut placed, mut floats) = (HashSet::new(), HashSet::new());
            walk_block(&f.body, &mut |st| {
                let in_result = match (&st.op, st.op.alloc_site()) {
                    (_, Some(site)) => {
                        prog.alloc_sites[site.0 as usize].region == RegionRef::Result
                    }
                    (Op::Call { region, .. }, None) => *region == RegionRef::Result,
                    _ => false,
                };
                if let (true, Some(v)) = (in_result, st.var) {
                    placed.insert(v);
                    // A Float stays a carry-region temporary: stored into a
                    // dict entry it only gives the entry's slot Float its
                    // bits (heap/dict.rs, no copy), so one built in the
                    // result region per iteration would pile up there
                    // (tests/churn/dict-floats.omni).
                    let float = st.op.float_site().is_some()
                        || st.op.alloc_site().is_some_and(|site| {
                            prog.alloc_sites[site.0 as usize].kind == AllocKind::Float
                        });
                    if float {
                        floats.insert(v);
                    }
                }
            });
            if state_result[i] {
                HashSet::new()
            } else {
                stays_in_result(f, &summaries, &raw_keys, &placed, &floats)
            }
        };
        let in_place = passed_back_in_place(&prog.functions[i]);
        let loop_id = FuncId(prog.functions.len() as u32);
        let f = &mut prog.functions[i];
        let (carry, limit) = (VarId(f.nvars), VarId(f.nvars + 1));
        let mut body = std::mem::replace(
            &mut f.body,
            Block {
                stmts: Vec::new(),
                tail: Tail::Return(Atom::Imm(omni_runtime::value::NOTHING)),
            },
        );
        let mut decision = CarryDecision {
            carry,
            limit,
            loop_func: loop_id,
            back_edges: Vec::new(),
            exits: Vec::new(),
            stays_in_result: Vec::new(),
            where_stored: Vec::new(),
        };
        let ids = LoopIds {
            stub: f.id,
            loop_id,
            carry,
            limit,
            loc: f.loc,
        };
        rewrite_block(&mut body, &ids, &stays, &mut decision);
        let mut nvars = f.nvars + 2;
        let where_stored =
            build_where_stored(&mut body, &stays, &in_place, &prog.alloc_sites, &mut nvars);
        for (site, region) in &where_stored {
            prog.alloc_sites[site.0 as usize].region = RegionRef::Local(*region);
        }
        // The stub: start the loop with the result region as carry region.
        let fixed: Vec<Atom> = f.params.iter().map(|p| Atom::Var(*p)).collect();
        let mut args = vec![Atom::Var(carry), Atom::Var(limit)];
        args.extend(fixed);
        args.extend(f.rest.map(Atom::Var));
        f.body = Block {
            stmts: vec![Stmt {
                var: Some(limit),
                op: Op::CarryStart { carry },
                loc: f.loc,
            }],
            tail: Tail::Call {
                callee: Callee::Known {
                    func: loop_id,
                    env: Atom::SelfClosure,
                },
                args,
                loc: f.loc,
            },
        };
        let mut params = vec![carry, limit];
        params.extend(f.params.iter().copied());
        let worker = Function {
            id: loop_id,
            name: f.name.clone(),
            kind: FunctionKind::CarryLoop,
            params,
            rest: f.rest,
            nfree: f.nfree,
            nvars,
            body,
            loc: f.loc,
        };
        f.nvars += 2;
        let stub_id = f.id;
        let summary = reports[i].summary.clone();
        // The loop's allocation sites belong to the loop, and those of the
        // result region go to the carry region.
        walk_block(&worker.body, &mut |st| {
            if let Some(site) = st.op.alloc_site() {
                let s = &mut prog.alloc_sites[site.0 as usize];
                s.func = loop_id;
                if s.region == RegionRef::Result && !st.var.is_some_and(|v| stays.contains(&v)) {
                    s.region = RegionRef::Local(carry);
                } else if s.region == RegionRef::Result {
                    decision.stays_in_result.push(st.loc);
                } else if where_stored.iter().any(|(w, _)| *w == site) {
                    decision.where_stored.push(st.loc);
                }
            }
        });
        prog.functions.push(worker);
        let mut loop_report =
            std::mem::replace(&mut reports[i], FunctionReport::new(summary.clone()));
        // The loop's two leading parameters are the carry state, not values.
        loop_report
            .summary
            .param_levels
            .splice(0..0, [Lifetime::Local; 2]);
        // The report lists the calls in walk order, as `place_calls` met
        // them: each takes the region the rewritten call has.
        let mut call_regions = Vec::new();
        walk_block(&prog.functions[loop_id.0 as usize].body, &mut |st| {
            if let Op::Call { region, .. } = &st.op {
                call_regions.push((*region, st.loc));
            }
        });
        for ((_, region, _), (now, loc)) in loop_report.calls.iter_mut().zip(call_regions) {
            if *region == RegionRef::Result && now == RegionRef::Result {
                decision.stays_in_result.push(loc);
            }
            *region = now;
        }
        let mut stub_report = FunctionReport::new(summary);
        stub_report.carry = Some(CarryDecision {
            loop_func: loop_id,
            ..decision.clone()
        });
        loop_report.carry = Some(decision);
        reports[stub_id.0 as usize] = stub_report;
        reports.push(loop_report);
    }
}

/// Per function: whether its result region may be a version of the global
/// state (a caller passes `into state`, or passes on a result region that
/// may be one: a call `into result`, a tail call). Such a loop keeps every
/// result placement in its carry region: a value built in the version
/// directly would stay in it when a renewal during the loop retires it,
/// and every refresh of the container would copy what it was built from
/// (json's parser, whose document goes to the state, built each element
/// in a retired version and copied the whole array at each renewal).
/// Unknown callees: every function whose closure the program makes.
fn may_get_state_result(prog: &Program) -> Vec<bool> {
    let n = prog.functions.len();
    let mut marked = vec![false; n];
    let mut closures: Vec<FuncId> = Vec::new();
    for f in &prog.functions {
        walk_block(&f.body, &mut |st| {
            if let Op::Alloc {
                what: Alloc::Closure { func, .. },
                ..
            } = &st.op
            {
                closures.push(*func);
            }
        });
    }
    let site_region =
        |site: &Option<AllocSiteId>| site.map(|s| prog.alloc_sites[s.0 as usize].region);
    // What `f` passes a state version to, given whether its own result
    // region may be one: known callees, and whether an unknown one may get it.
    let passes = |f: &Function, own: bool| -> (Vec<FuncId>, bool) {
        let is_state = |r: RegionRef| r == RegionRef::State || (own && r == RegionRef::Result);
        let (mut known, mut unknown) = (Vec::new(), false);
        walk_block(&f.body, &mut |st| match &st.op {
            Op::Call { callee, region, .. } if is_state(*region) => match callee {
                Callee::Known { func, .. } => known.push(*func),
                Callee::Unknown(_) => unknown = true,
            },
            Op::Prim { prim, site, .. } if prim.desc().effect == PrimEffect::CallsClosures => {
                unknown |= own || site_region(site).is_some_and(is_state);
            }
            Op::PrimApplyList { .. } => unknown |= own,
            _ => {}
        });
        if own {
            crate::ir::visit::walk_tails(&f.body, &mut |t| {
                if let Tail::Call { callee, .. } = t {
                    match callee {
                        Callee::Known { func, .. } => known.push(*func),
                        Callee::Unknown(_) => unknown = true,
                    }
                }
            });
        }
        (known, unknown)
    };
    let mut work: Vec<usize> = Vec::new();
    let mut all_closures = false;
    let mark = |i: usize, marked: &mut Vec<bool>, work: &mut Vec<usize>| {
        if i < n && !marked[i] {
            marked[i] = true;
            work.push(i);
        }
    };
    for f in &prog.functions {
        let (known, unknown) = passes(f, false);
        for g in known {
            mark(g.0 as usize, &mut marked, &mut work);
        }
        all_closures |= unknown;
    }
    loop {
        while let Some(i) = work.pop() {
            let (known, unknown) = passes(&prog.functions[i], true);
            for g in known {
                mark(g.0 as usize, &mut marked, &mut work);
            }
            all_closures |= unknown;
        }
        if !all_closures {
            break;
        }
        for g in &closures {
            mark(g.0 as usize, &mut marked, &mut work);
        }
        if work.is_empty() {
            break;
        }
    }
    marked
}

/// A function whose body tail-calls itself and places something in its
/// result region (directly, or by passing it to a call that may allocate
/// there), and whose summary says it may allocate there at all (a call given
/// the result region because its callee allocates nothing, or an integer
/// operation's possible Float that is not carried into the next iteration,
/// does not make a loop: `tak`): without a carry region, every iteration's
/// allocations would stay in the result region.
fn eligible(prog: &Program, i: usize) -> bool {
    let f = &prog.functions[i];
    if f.kind != FunctionKind::User {
        return false;
    }
    let mut self_tail = false;
    crate::ir::visit::walk_tails(&f.body, &mut |t| {
        if let Tail::Call {
            callee: Callee::Known { func, .. },
            ..
        } = t
        {
            self_tail |= *func == f.id;
        }
    });
    if !self_tail {
        return false;
    }
    let mut in_result = false;
    walk_block(&f.body, &mut |st| {
        if let Some(site) = st.op.alloc_site() {
            in_result |= prog.alloc_sites[site.0 as usize].region == RegionRef::Result;
        } else if let Op::Call { region, .. } = &st.op {
            in_result |= *region == RegionRef::Result;
        }
    });
    in_result
}

/// The variables among `atoms` (each once): what may point into the carry
/// region when they leave the iteration.
fn roots<'a>(atoms: impl IntoIterator<Item = &'a Atom>) -> Vec<VarId> {
    let mut out: Vec<VarId> = Vec::new();
    for a in atoms {
        if let Atom::Var(v) = a {
            if !out.contains(v) {
                out.push(*v);
            }
        }
    }
    out
}

/// Rewrite one block of the loop body (and the blocks nested in it).
/// What the rewrite of a loop body needs to know.
#[derive(Clone, Copy)]
struct LoopIds {
    stub: FuncId,
    loop_id: FuncId,
    carry: VarId,
    limit: VarId,
    /// The function's location (for a tail without a statement before it).
    loc: LocId,
}

fn rewrite_block(
    b: &mut Block,
    ids: &LoopIds,
    stays: &HashSet<VarId>,
    decision: &mut CarryDecision,
) {
    let carry = ids.carry;
    walk_block_mut(b, &mut |st| {
        // What escapes to the result region escapes to the carry region
        // now: calls build their results there, and it holds the state
        // versions their values point into (renewals pass the holds on).
        // A call whose result the loop only stores into an older container
        // keeps the result region (`stays_in_result`).
        let stays_here = st.var.is_some_and(|v| stays.contains(&v));
        match &mut st.op {
            Op::Call { region, .. } if !stays_here && *region == RegionRef::Result => {
                *region = RegionRef::Local(carry);
            }
            Op::StateHold { holder: region, .. } if *region == RegionRef::Result => {
                *region = RegionRef::Local(carry);
            }
            _ => {}
        }
    });
    rewrite_tails(b, ids, decision);
}

/// Values the loop builds only to store into a container it was given
/// (`(serve (+ i 1) d)` after `(dict-set! d k (list i i i))`), left in the
/// result region by `stays_in_result`: built instead in the region the
/// container lives in, chosen at run time (`Op::StoreRegion`): the current
/// state version when the container is a global's, else the result region.
/// Built in the result region, a value stored into a global's container was
/// copied into the state by the barrier, and the original stayed in the
/// result region until the loop's caller ended (issue 12).
///
/// A group qualifies when, in one block: its allocations (`stays`, each
/// operand that is a variable also of the group or none) lead to the value
/// one store primitive stores into a parameter passed back in its own place
/// (`in_place`: the caller's container in every iteration); no variable of
/// the group is used anywhere else; and nothing between its first
/// allocation and the store calls anything (no renewal point: the values,
/// in a version no pin keeps, are dead once stored, and only the store and
/// the version's next renewal see them). Returns each allocation site with
/// the variable its region is bound to (a `StoreRegion` before the group).
fn build_where_stored(
    body: &mut Block,
    stays: &HashSet<VarId>,
    in_place: &HashSet<VarId>,
    sites: &[AllocSite],
    nvars: &mut u32,
) -> Vec<(AllocSiteId, VarId)> {
    let uses = read_counts(body, *nvars);
    let mut out = Vec::new();
    where_stored_in(body, stays, in_place, sites, &uses, nvars, &mut out);
    out
}

fn where_stored_in(
    b: &mut Block,
    stays: &HashSet<VarId>,
    in_place: &HashSet<VarId>,
    sites: &[AllocSite],
    uses: &[u32],
    nvars: &mut u32,
    out: &mut Vec<(AllocSiteId, VarId)>,
) {
    for st in &mut b.stmts {
        if let Op::If { then, els, .. } = &mut st.op {
            where_stored_in(then, stays, in_place, sites, uses, nvars, out);
            where_stored_in(els, stays, in_place, sites, uses, nvars, out);
        }
    }
    if let Tail::If { then, els, .. } = &mut b.tail {
        where_stored_in(then, stays, in_place, sites, uses, nvars, out);
        where_stored_in(els, stays, in_place, sites, uses, nvars, out);
    }
    let def: HashMap<VarId, usize> = b
        .stmts
        .iter()
        .enumerate()
        .filter_map(|(i, st)| st.var.map(|v| (v, i)))
        .collect();
    let mut inserts: Vec<(usize, VarId, Atom, Vec<Atom>)> = Vec::new();
    for (si, st) in b.stmts.iter().enumerate() {
        let Op::Prim { prim, args, .. } = &st.op else {
            continue;
        };
        let PrimEffect::Stores { container, values } = prim.desc().effect else {
            continue;
        };
        let Some(Atom::Var(c)) = args.get(container as usize) else {
            continue;
        };
        if !in_place.contains(c) {
            continue;
        }
        for &vi in values {
            let Some(Atom::Var(w)) = args.get(vi as usize) else {
                continue;
            };
            // The group: `w` and the group allocations its fields name.
            let mut group: Vec<VarId> = Vec::new();
            let mut work = vec![*w];
            let mut ok = true;
            while let Some(v) = work.pop() {
                if group.contains(&v) {
                    continue;
                }
                let Some(&di) = def.get(&v).filter(|&&di| di < si) else {
                    ok = false;
                    break;
                };
                let Op::Alloc { site, .. } = &b.stmts[di].op else {
                    ok = false;
                    break;
                };
                if !stays.contains(&v) || sites[site.0 as usize].region != RegionRef::Result {
                    ok = false;
                    break;
                }
                group.push(v);
                for a in b.stmts[di].op.operands() {
                    if let Atom::Var(x) = a {
                        if stays.contains(&x) {
                            work.push(x);
                        }
                    }
                }
            }
            if !ok || group.is_empty() {
                continue;
            }
            // Used only inside the group and by this store (once).
            let inner: usize = group
                .iter()
                .map(|&v| {
                    b.stmts[def[&v]]
                        .op
                        .operands()
                        .iter()
                        .filter(|a| matches!(a, Atom::Var(x) if group.contains(x)))
                        .count()
                })
                .sum();
            let at_store = args
                .iter()
                .filter(|a| matches!(a, Atom::Var(x) if group.contains(x)))
                .count();
            let total: usize = group
                .iter()
                .map(|v| uses.get(v.0 as usize).copied().unwrap_or(0) as usize)
                .sum();
            if total != inner + at_store || at_store != 1 {
                continue;
            }
            // Nothing in between may call (renew the state).
            let first = group.iter().map(|v| def[v]).min().unwrap_or(si);
            let quiet = b.stmts[first..si].iter().all(|s| {
                matches!(
                    s.op,
                    Op::Alloc { .. } | Op::Inline(..) | Op::Move(_) | Op::EnvGet(_) | Op::BoxGet(_)
                )
            });
            if !quiet {
                continue;
            }
            let region = VarId(*nvars);
            *nvars += 1;
            for &v in &group {
                if let Some(site) = b.stmts[def[&v]].op.alloc_site() {
                    out.push((site, region));
                }
            }
            let mut fields: Vec<Atom> = Vec::new();
            for &v in &group {
                for a in b.stmts[def[&v]].op.operands() {
                    // Constants are immortal; immediates no objects.
                    let outside = match a {
                        Atom::Var(x) => !group.contains(&x),
                        Atom::SelfClosure => true,
                        Atom::Imm(_) | Atom::Const(_) => false,
                    };
                    if outside && !fields.contains(&a) {
                        fields.push(a);
                    }
                }
            }
            inserts.push((first, region, Atom::Var(*c), fields));
        }
    }
    inserts.sort_by_key(|i| std::cmp::Reverse(i.0));
    for (at, region, container, fields) in inserts {
        let loc = b.stmts[at].loc;
        b.stmts.insert(
            at,
            Stmt {
                var: Some(region),
                op: Op::StoreRegion { container, fields },
                loc,
            },
        );
    }
}

/// Insert the back-edge renewal and the exits before every tail.
fn rewrite_tails(b: &mut Block, ids: &LoopIds, decision: &mut CarryDecision) {
    let LoopIds {
        stub,
        loop_id,
        carry,
        limit,
        loc: func_loc,
    } = *ids;
    let last_loc = b.stmts.last().map(|s| s.loc).unwrap_or(func_loc);
    match &mut b.tail {
        Tail::If { then, els, .. } => {
            rewrite_tails(then, ids, decision);
            rewrite_tails(els, ids, decision);
        }
        Tail::Yield(_) => {}
        Tail::Return(a) => {
            let roots = roots([&*a]);
            decision.exits.push(last_loc);
            b.stmts.push(Stmt {
                var: None,
                op: Op::CarryEnd { carry, roots },
                loc: last_loc,
            });
        }
        Tail::Call { callee, args, loc } => {
            let loc = *loc;
            match callee {
                Callee::Known { func, env } if *func == stub => {
                    let roots = roots(args.iter().chain(std::iter::once(&*env)));
                    *func = loop_id;
                    let mut new_args = vec![Atom::Var(carry), Atom::Var(limit)];
                    new_args.append(args);
                    *args = new_args;
                    decision.back_edges.push(loc);
                    b.stmts.push(Stmt {
                        var: None,
                        op: Op::CarryRenew {
                            carry,
                            limit,
                            roots,
                        },
                        loc,
                    });
                }
                Callee::Known { env: f, .. } | Callee::Unknown(f) => {
                    let roots = roots(args.iter().chain(std::iter::once(&*f)));
                    decision.exits.push(loc);
                    b.stmts.push(Stmt {
                        var: None,
                        op: Op::CarryEnd { carry, roots },
                        loc,
                    });
                }
            }
        }
    }
}
