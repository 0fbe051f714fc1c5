//! CTRR — Compile-Time Region Reclamation: decides where every allocation
//! lives and when every region ends (see `docs/CTRR.md`).
//!
//! Entry point: [`run`]. `analysis` computes, per variable, how long its
//! value must live (`Local` / `Result` / `Global`) and per function which
//! inputs reach its result; this module turns that into decisions written
//! into the IR:
//! - every allocation site and every call's result region goes to the
//!   shortest-lived region that outlives all uses: the function's local
//!   scope region, the caller-supplied result region, or the global region;
//! - a function with local placements creates its scope region on entry and
//!   exits it before every return and tail call (so each iteration of a
//!   tail-recursive loop reclaims its temporaries);
//! - every store into an existing object keeps or elides its store barrier
//!   (elided when the stored value is immediate or provably as old as the
//!   container).
//!
//! The decisions and their reasons are kept in [`CtrrReport`] for
//! `--dump-ctrr`.

pub mod analysis;
mod dump;

use crate::ir::*;
use analysis::{Cause, Container, FunctionFacts, Lifetime, Node};
pub use dump::dump;
use omni_runtime::prims::PrimEffect;
use std::collections::HashMap;

/// What CTRR decided, per function, for `--dump-ctrr`.
#[derive(Debug, Clone, Default)]
pub struct CtrrReport {
    pub functions: Vec<FunctionReport>,
}

#[derive(Debug, Clone, Default)]
pub struct FunctionReport {
    /// The scope region variable, if the function has one.
    pub local_region: Option<VarId>,
    /// Calls: (loc, region chosen for the result, reason).
    pub calls: Vec<(LocId, RegionRef, String)>,
    /// Region exits inserted: (loc of the return / tail call, kind).
    pub exits: Vec<(LocId, &'static str)>,
    /// Store barriers: (loc, what, kept?, reason).
    pub barriers: Vec<(LocId, String, bool, String)>,
    /// Which inputs reach the result (the function summary).
    pub summary: String,
    /// Cross-thread escape boundaries (`spawn`, `send`, `recv`, `join`):
    /// (loc, the transfer the runtime performs there).
    pub handoffs: Vec<(LocId, String)>,
}

/// The repair or transfer the runtime performs at a cross-thread escape
/// boundary (docs/REGION_THREADING_MODEL.md), for `--dump-ctrr`.
pub fn handoff_boundary(name: &str) -> Option<&'static str> {
    match analysis::prim_desc(name)?.effect {
        PrimEffect::Handoff(h) => Some(h.describe()),
        _ => None,
    }
}

/// Annotate `prog` with region decisions; returns the report for dumps.
pub fn run(prog: &mut Program) -> CtrrReport {
    let an = analysis::analyse(prog);
    let mut report = CtrrReport::default();
    let mut site_level: HashMap<AllocSiteId, (Lifetime, String, FuncId)> = HashMap::new();
    for f in &prog.functions {
        let facts = &an.facts[f.id.0 as usize];
        analysis::walk_block(&f.body, &mut |st| {
            let site = match &st.op {
                Op::Alloc { site, .. } => Some(*site),
                Op::Prim { site, .. } | Op::PrimApplyList { site, .. } => *site,
                _ => None,
            };
            if let Some(site) = site {
                let (level, why) = match st.var {
                    Some(v) => (
                        facts.level_of(Node::Var(v)),
                        reason(prog, facts, Node::Var(v)),
                    ),
                    None => (Lifetime::Local, "result unused".to_string()),
                };
                let e = site_level.entry(site).or_insert((level, why.clone(), f.id));
                if level > e.0 {
                    *e = (level, why, f.id);
                }
            }
        });
    }
    for (i, func) in prog.functions.iter_mut().enumerate() {
        let facts = &an.facts[i];
        let mut fr = FunctionReport {
            summary: summary_text(func, &an.summaries[i]),
            ..Default::default()
        };
        let needs_local =
            func.kind != FunctionKind::Entry && uses_local(func, facts, &an.summaries, &site_level);
        let local = needs_local.then(|| {
            let v = VarId(func.nvars);
            func.nvars += 1;
            v
        });
        fr.local_region = local;
        let kind = func.kind;
        let place = move |l: Lifetime| -> RegionRef {
            match (l, local) {
                (Lifetime::Global, _) => RegionRef::Global,
                (Lifetime::Result, _)
                    if matches!(kind, FunctionKind::TopLevel | FunctionKind::Entry) =>
                {
                    RegionRef::Global
                }
                (Lifetime::Result, _) => RegionRef::Result,
                (Lifetime::Local, Some(v)) => RegionRef::Local(v),
                (Lifetime::Local, None) => RegionRef::Result,
            }
        };
        let mut body = std::mem::replace(
            &mut func.body,
            Block {
                stmts: vec![],
                tail: Tail::Return(Atom::Imm(0)),
            },
        );
        let mut cx = Placer {
            summaries: &an.summaries,
            prog_sites: &site_level,
            facts,
            place: &place,
            report: &mut fr,
            local,
            func_loc: func.loc,
            origins: HashMap::new(),
        };
        cx.block(&mut body);
        if let Some(v) = local {
            body.stmts.insert(
                0,
                Stmt {
                    var: Some(v),
                    op: Op::RegionCreate,
                    loc: func.loc,
                },
            );
        }
        func.body = body;
        report.functions.push(fr);
    }
    for (id, site) in prog.alloc_sites.iter_mut().enumerate() {
        let Some((level, why, fid)) = site_level.get(&AllocSiteId(id as u32)).cloned() else {
            site.region = RegionRef::Global;
            site.reason = "unused site".into();
            continue;
        };
        let f = &report.functions[fid.0 as usize];
        let kind = prog.functions[fid.0 as usize].kind;
        site.region = match level {
            Lifetime::Global => RegionRef::Global,
            Lifetime::Result if matches!(kind, FunctionKind::TopLevel | FunctionKind::Entry) => {
                RegionRef::Global
            }
            Lifetime::Result => RegionRef::Result,
            Lifetime::Local => match f.local_region {
                Some(v) => RegionRef::Local(v),
                None => RegionRef::Result,
            },
        };
        site.reason = why;
    }
    report
}

/// The lifetime a call's result region must have: the result's own, except
/// that a callee which never allocates in its result region is given the
/// caller's result region instead of a scope region (a scope region would
/// hold nothing, and creating one per call costs time).
fn call_level(
    facts: &FunctionFacts,
    summaries: &[analysis::Summary],
    var: Option<VarId>,
    callee: &Callee,
) -> Lifetime {
    let level = var
        .map(|v| facts.level_of(Node::Var(v)))
        .unwrap_or(Lifetime::Local);
    if level == Lifetime::Local && !analysis::Summary::callee_allocs(summaries, callee) {
        Lifetime::Result
    } else {
        level
    }
}

fn uses_local(
    func: &Function,
    facts: &FunctionFacts,
    summaries: &[analysis::Summary],
    sites: &HashMap<AllocSiteId, (Lifetime, String, FuncId)>,
) -> bool {
    let mut any = false;
    analysis::walk_block(&func.body, &mut |st| match &st.op {
        Op::Alloc { site, .. }
        | Op::Prim {
            site: Some(site), ..
        }
        | Op::PrimApplyList {
            site: Some(site), ..
        } if sites.get(site).is_some_and(|s| s.0 == Lifetime::Local) => any = true,
        Op::Call { callee, .. } => {
            any |=
                st.var.is_some() && call_level(facts, summaries, st.var, callee) == Lifetime::Local;
        }
        _ => {}
    });
    any
}

fn summary_text(f: &Function, s: &analysis::Summary) -> String {
    let mut parts: Vec<String> = f
        .params
        .iter()
        .chain(f.rest.iter())
        .zip(&s.param_levels)
        .filter(|(_, l)| **l == Lifetime::Result)
        .map(|(v, _)| format!("v{}", v.0))
        .collect();
    // Parameters that must live in the global region (a store constraint).
    let stored: Vec<String> = f
        .params
        .iter()
        .chain(f.rest.iter())
        .zip(&s.param_levels)
        .filter(|(_, l)| **l == Lifetime::Global)
        .map(|(v, _)| format!("v{}", v.0))
        .collect();
    if s.env_reaches {
        parts.push("captured values".into());
    }
    let inputs = if parts.is_empty() {
        "no input must outlive the result region".to_string()
    } else {
        format!("must outlive the result region: {}", parts.join(", "))
    };
    let allocs = if s.result_allocs {
        "allocates in the result region"
    } else {
        "allocates nothing in the result region"
    };
    if stored.is_empty() {
        format!("{inputs}; {allocs}")
    } else {
        format!(
            "{inputs}; must live in the global region (stored there): {}; {allocs}",
            stored.join(", ")
        )
    }
}

/// Human-readable reason for a node's lifetime.
fn reason(prog: &Program, facts: &FunctionFacts, n: Node) -> String {
    let mut chain = Vec::new();
    let mut cur = n;
    for _ in 0..8 {
        match facts.cause.get(&cur) {
            None => {
                if chain.is_empty() {
                    return "does not outlive the call: local scope region".into();
                }
                break;
            }
            Some(Cause::Returned) => {
                chain.push("returned".to_string());
                break;
            }
            Some(Cause::TailArgument) => {
                chain.push("passed to a tail call (must survive the scope's exit)".to_string());
                break;
            }
            Some(Cause::TopLevelDefine) => {
                chain.push("stored into a global by a top-level definition".to_string());
                break;
            }
            Some(Cause::FlowsInto(next)) => {
                chain.push(format!("flows into {}", node_name(*next)));
                cur = *next;
            }
            Some(cause @ (Cause::StoredInto { .. } | Cause::StoredByCallee { .. })) => {
                chain.push(stored_text(prog, cause));
                break;
            }
        }
    }
    chain.join(", ")
}

/// "stored into `index` at FILE:LINE:COL" (a store constraint).
fn stored_text(prog: &Program, cause: &Cause) -> String {
    let at = |l: LocId| {
        let s = &prog.locs[l.0 as usize];
        format!("{}:{}:{}", s.file, s.line, s.col)
    };
    match cause {
        Cause::StoredInto { loc, container } => {
            let what = match container {
                Container::Global(g) => format!("global `{}`", prog.globals[g.0 as usize].name),
                Container::ObjectOfGlobal(g) => {
                    format!("`{}`", prog.globals[g.0 as usize].name)
                }
                Container::Object => "an object of that region".to_string(),
            };
            format!("stored into {what} at {}", at(*loc))
        }
        Cause::StoredByCallee { loc, callee } => format!(
            "passed to `{}` at {}, which stores it into the global region",
            prog.functions[callee.0 as usize].name,
            at(*loc)
        ),
        _ => String::new(),
    }
}

fn node_name(n: Node) -> String {
    match n {
        Node::Var(v) => format!("v{}", v.0),
        Node::Env => "the closure".into(),
    }
}

/// Writes decisions into one function's blocks.
struct Placer<'a> {
    summaries: &'a [analysis::Summary],
    prog_sites: &'a HashMap<AllocSiteId, (Lifetime, String, FuncId)>,
    facts: &'a FunctionFacts,
    place: &'a dyn Fn(Lifetime) -> RegionRef,
    report: &'a mut FunctionReport,
    local: Option<VarId>,
    /// The function's own location (for exits with no statement before them).
    func_loc: LocId,
    /// How each variable was produced here: the lifetime of the region its
    /// value was allocated in, when this function allocated it.
    origins: HashMap<VarId, Lifetime>,
}

impl Placer<'_> {
    fn block(&mut self, b: &mut Block) {
        for st in &mut b.stmts {
            self.stmt(st);
        }
        let exit_loc = match &mut b.tail {
            Tail::Return(_) => Some((LocId(0), "return")),
            Tail::Call { loc, .. } => Some((*loc, "tail call")),
            Tail::Yield(_) => None,
            Tail::If { then, els, .. } => {
                self.block(then);
                self.block(els);
                None
            }
        };
        if let (Some((loc, what)), Some(v)) = (exit_loc, self.local) {
            // The tail's operands are atoms, already computed: the scope's
            // objects are dead from here on.
            let loc = if loc.0 == 0 {
                b.stmts.last().map(|s| s.loc).unwrap_or(self.func_loc)
            } else {
                loc
            };
            b.stmts.push(Stmt {
                var: None,
                op: Op::RegionExit(Atom::Var(v)),
                loc,
            });
            self.report.exits.push((loc, what));
        }
    }

    fn stmt(&mut self, st: &mut Stmt) {
        let var = st.var;
        if let Op::Prim { name, .. } = &st.op {
            if let Some(what) = handoff_boundary(name) {
                self.report.handoffs.push((st.loc, what.to_string()));
            }
        }
        match &mut st.op {
            Op::Alloc { site, .. }
            | Op::Prim {
                site: Some(site), ..
            }
            | Op::PrimApplyList {
                site: Some(site), ..
            } => {
                if let (Some(v), Some((l, _, _))) = (var, self.prog_sites.get(site)) {
                    self.origins.insert(v, *l);
                }
            }
            Op::GlobalGet { .. } => {
                if let Some(v) = var {
                    self.origins.insert(v, Lifetime::Global);
                }
            }
            Op::Call { region, callee, .. } => {
                let level = call_level(self.facts, self.summaries, var, callee);
                *region = (self.place)(level);
                let own = var
                    .map(|v| self.facts.level_of(Node::Var(v)))
                    .unwrap_or(Lifetime::Local);
                if let Some(v) = var {
                    // The result lives in the region passed or in an argument's,
                    // which the outlives edges keep at least as old as `own`.
                    self.origins.insert(v, own);
                }
                let why = if level != own {
                    "the callee allocates nothing in its result region: no scope region needed"
                        .to_string()
                } else {
                    match var {
                        Some(v) => reason_plain(self.facts, v),
                        None => "result unused".to_string(),
                    }
                };
                self.report.calls.push((st.loc, *region, why));
            }
            Op::If { then, els, .. } => {
                self.block(then);
                self.block(els);
            }
            Op::GlobalSet { value, barrier, .. } => {
                let (keep, why) = self.needs_barrier(value, Lifetime::Global, "the global region");
                *barrier = keep;
                self.report
                    .barriers
                    .push((st.loc, "global store".into(), keep, why));
            }
            Op::BoxSet {
                cell,
                value,
                barrier,
            } => {
                let cell_level = match cell {
                    Atom::Var(v) => self.origins.get(v).copied(),
                    _ => None,
                };
                let (keep, why) = match cell_level {
                    Some(l) => self.needs_barrier(value, l, "the box's region"),
                    None if is_immediate(value) => (false, "immediate value".to_string()),
                    None => (
                        true,
                        "box allocated elsewhere: its region is not known here".to_string(),
                    ),
                };
                *barrier = keep;
                self.report.barriers.push((
                    st.loc,
                    "set! of a captured variable".into(),
                    keep,
                    why,
                ));
            }
            Op::Prim { name, .. }
                if matches!(
                    analysis::prim_desc(name).map(|d| d.effect),
                    Some(PrimEffect::Stores { .. })
                ) =>
            {
                self.report.barriers.push((
                    st.loc,
                    format!("`{name}`"),
                    true,
                    "mutation primitive: the runtime store helper runs inside it".into(),
                ));
            }
            _ => {}
        }
    }

    fn needs_barrier(&self, value: &Atom, container: Lifetime, what: &str) -> (bool, String) {
        if is_immediate(value) {
            return (false, "immediate value".into());
        }
        if let Atom::Const(_) = value {
            return (false, "constant in the global region".into());
        }
        if let Atom::Var(v) = value {
            if let Some(l) = self.origins.get(v) {
                if *l >= container {
                    return (
                        false,
                        format!("value allocated here in a region at least as old as {what}"),
                    );
                }
            }
        }
        (
            true,
            format!("value's region not provably as old as {what}"),
        )
    }
}

fn reason_plain(facts: &FunctionFacts, v: VarId) -> String {
    match facts.cause.get(&Node::Var(v)) {
        None => "result used only within the call: local scope region".into(),
        Some(Cause::Returned) => "result returned".into(),
        Some(Cause::TailArgument) => "result passed to a tail call".into(),
        Some(Cause::TopLevelDefine) => "result defines a global".into(),
        Some(Cause::FlowsInto(n)) => format!("result flows into {}", node_name(*n)),
        Some(Cause::StoredInto { .. } | Cause::StoredByCallee { .. }) => {
            "result stored into an older container (store constraint)".into()
        }
    }
}

fn is_immediate(a: &Atom) -> bool {
    matches!(a, Atom::Imm(_))
}
