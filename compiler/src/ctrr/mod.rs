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
    report.functions = per_function(&mut prog.functions, |i, func| {
        let (facts, summaries) = (&an.facts[i], &an.summaries[..]);
        let mut fr = FunctionReport::new(summaries[i].clone());
        if !decided(i) {
            return fr;
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
        fr
    });
    let immortal = state::immortal_closure_sites(prog);
    report.sites = place::place_sites(prog, &sites, &report.functions, &immortal);
    let state_facts = state::analyse(prog);
    let placed = prog.alloc_sites.clone();
    let states = per_function(&mut prog.functions, |i, func| {
        decided(i).then(|| state::insert_state_access(&placed, func, &an.summaries, &state_facts))
    });
    for (fr, state) in report.functions.iter_mut().zip(states) {
        if let Some(state) = state {
            fr.state = state;
        }
    }
    carry::insert_carry_regions(prog, &mut report.functions, only);
    report
}

/// Below this many functions [`per_function`] stays on the calling
/// thread (the REPL's forms, small programs: a thread costs more).
const MIN_FUNCTIONS_FOR_THREADS: usize = 512;

/// Stack of a [`per_function`] thread: the front end's own
/// (`driver::COMPILER_STACK_SIZE`), since the passes recurse over a
/// function's IR as deep as the program nests (up to the reader's limit of
/// 100,000 levels). Only reserved, committed as deep recursion touches it;
/// where the system refuses to reserve it, the calling thread, which has
/// that stack, decides the run itself.
const THREAD_STACK_SIZE: usize = 4 << 30;

/// How many threads [`per_function`] uses for a large program:
/// `OMNI_CODEGEN_THREADS` when set (1 keeps everything on the calling
/// thread, for debugging, as in code generation), else the available
/// cores, at most 4.
fn thread_count() -> usize {
    if let Some(n) = std::env::var("OMNI_CODEGEN_THREADS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
    {
        return n;
    }
    std::thread::available_parallelism().map_or(1, |n| n.get().min(4))
}

/// A contiguous run of functions and the index of its first.
type Run<'f> = (usize, &'f mut [crate::ir::Function]);

/// `decide(i, function)` for every function, in order, the results in a
/// vector. Each function's decisions read only whole-program facts
/// computed before and change only that function, so a large program's
/// functions are split into contiguous runs decided on up to
/// [`thread_count`] threads, the calling one included: the same results
/// in the same order whatever the split or the timing. `omnic build` and
/// `omnic check` spend this part of CTRR, a fifth of the front end, with
/// the other cores idle (issue 13).
fn per_function<T: Send>(
    functions: &mut [crate::ir::Function],
    decide: impl Fn(usize, &mut crate::ir::Function) -> T + Sync,
) -> Vec<T> {
    let threads = if functions.len() < MIN_FUNCTIONS_FOR_THREADS {
        1
    } else {
        thread_count()
    };
    if threads <= 1 {
        return functions
            .iter_mut()
            .enumerate()
            .map(|(i, f)| decide(i, f))
            .collect();
    }
    use std::sync::Mutex;
    let run = functions.len().div_ceil(threads);
    // Each run is taken by whichever thread comes first: a spawned one, or
    // the calling thread once it has done its own (also when the system
    // refused a thread).
    let runs: Vec<Mutex<Option<Run<'_>>>> = functions
        .chunks_mut(run)
        .enumerate()
        .map(|(k, chunk)| Mutex::new(Some((k * run, chunk))))
        .collect();
    let results: Vec<Mutex<Vec<T>>> = runs.iter().map(|_| Mutex::new(Vec::new())).collect();
    let take_and_decide = |k: usize| {
        let Some((first, chunk)) = lock(&runs[k]).take() else {
            return;
        };
        let decided: Vec<T> = chunk
            .iter_mut()
            .enumerate()
            .map(|(j, f)| decide(first + j, f))
            .collect();
        *lock(&results[k]) = decided;
    };
    std::thread::scope(|scope| {
        for k in 1..runs.len() {
            let take_and_decide = &take_and_decide;
            // A refused thread leaves its run to the loop below.
            let _ = std::thread::Builder::new()
                .name("omnic-ctrr".into())
                .stack_size(THREAD_STACK_SIZE)
                .spawn_scoped(scope, move || take_and_decide(k));
        }
        for k in 0..runs.len() {
            take_and_decide(k);
        }
    });
    results
        .into_iter()
        .flat_map(|m| m.into_inner().unwrap_or_else(|e| e.into_inner()))
        .collect()
}

/// The value behind `m`; a panic on another thread that held it is
/// raised again by `std::thread::scope`, so its poison is ignored here.
fn lock<X>(m: &std::sync::Mutex<X>) -> std::sync::MutexGuard<'_, X> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
