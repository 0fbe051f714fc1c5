//! CTRR — Compile-Time Region Reclamation: decides where every allocation
//! lives and when every region ends (see `docs/CTRR.md`).
//!
//! Entry point: [`run`], a short pipeline of passes over the IR:
//! - `analysis` computes, per variable, how long its value must live
//!   (`Local` / `Result` / `Global`) and per function which inputs reach
//!   its result and whether it allocates in its result region;
//! - `place` puts every allocation site and every call's result region in
//!   the shortest-lived region that outlives all uses: the function's local
//!   scope region, the caller-supplied result region, or the global region;
//! - `scopes` gives a function with local placements a scope region,
//!   created on entry and exited on every path right after the last use of
//!   anything placed in it (so a non-tail recursion does not keep its dead
//!   temporaries, and each iteration of a tail-recursive loop reclaims its
//!   own);
//! - `lazy` gives the Float results of inline arithmetic that die with the
//!   call a region of their own, created by the first slow path that
//!   allocates and exited before every return and tail call;
//! - `barriers` keeps or elides the store barrier of every store into an
//!   existing object (elided when the stored value is immediate or provably
//!   as old as the container);
//! - `state` inserts what keeps the versions of the global-state region
//!   alive while code uses them (pins, escape holds), the refreshes that
//!   move stale values out of retired versions, and the safe points where
//!   the runtime may renew it;
//! - `carry` gives a loop that carries allocated data from one iteration to
//!   the next a carry region of its own, renewed at the back edge when its
//!   garbage has outgrown what is live, and handed to the result region at
//!   the loop's exits.
//!
//! Each pass records its decisions, typed, in a [`CtrrReport`] (`report`);
//! `dump` words them for `--dump-ctrr`.

pub mod analysis;
mod barriers;
mod carry;
mod dump;
mod lazy;
mod place;
pub mod report;
mod scopes;
pub mod state;

use crate::ir::Program;
pub use dump::dump;
pub(crate) use dump::place_text;
pub use report::CtrrReport;
use report::FunctionReport;

/// Annotate `prog` with region decisions; returns the report for dumps.
pub fn run(prog: &mut Program) -> CtrrReport {
    run_for(prog, None)
}

/// [`run`], deciding only the functions marked in `only` (by index) when
/// it is given: the analysis still covers the whole program (its facts
/// are whole-program: summaries of callees, which closures may renew the
/// global state), but the others are left undecided, for a caller that
/// compiles only the marked functions (a REPL form: earlier functions
/// were compiled by earlier modules).
pub fn run_for(prog: &mut Program, only: Option<&[bool]>) -> CtrrReport {
    let decided = |i: usize| only.is_none_or(|m| m.get(i).copied().unwrap_or(true));
    let an = analysis::analyse(prog);
    let sites = place::site_lifetimes(prog, &an);
    let mut report = CtrrReport::default();
    for (i, func) in prog.functions.iter_mut().enumerate() {
        let (facts, summaries) = (&an.facts[i], &an.summaries[..]);
        let mut fr = FunctionReport::new(summaries[i].clone());
        if !decided(i) {
            report.functions.push(fr);
            continue;
        }
        fr.local_region = scopes::scope_region(func, facts, summaries, &sites);
        fr.float_region = lazy::float_region(func, &sites);
        place::place_calls(func, facts, summaries, &mut fr);
        scopes::insert_scope(func, summaries, &sites, &mut fr);
        if let Some(float) = fr.float_region {
            lazy::insert_float_region(func, float);
        }
        barriers::decide(func, facts, &sites, &mut fr);
        fr.handoffs = report::handoffs(func);
        report.functions.push(fr);
    }
    let immortal = state::immortal_closure_sites(prog);
    report.sites = place::place_sites(prog, &sites, &report.functions, &immortal);
    let state_facts = state::analyse(prog);
    let placed = prog.alloc_sites.clone();
    for (i, func) in prog.functions.iter_mut().enumerate() {
        if decided(i) {
            report.functions[i].state =
                state::insert_state_access(&placed, func, &an.summaries, &state_facts);
        }
    }
    carry::insert_carry_regions(prog, &mut report.functions, only);
    report
}
