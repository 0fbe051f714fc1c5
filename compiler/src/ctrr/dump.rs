//! `--dump-ctrr`: the program after the CTRR pass, per function: its
//! regions, where each allocation goes and why, the result region of every
//! call, every inserted region exit, and every store barrier kept or elided,
//! each with its source location. The format is documented in docs/CTRR.md.
//!
//! The passes record typed decisions (`report.rs`); this is the only place
//! that words them.

use super::analysis::{Cause, Container, Lifetime, Node, Summary};
use super::report::{
    BarrierReason, CtrrReport, ExitBefore, PlaceReason, RegionUse, ScopeExit, StoreKind,
    StoreTarget,
};
use crate::ir::print::{region_name, FunctionDisplay};
use crate::ir::*;
use std::fmt::Write;

/// Render the CTRR decisions of `prog` (after `ctrr::run`).
pub fn dump(prog: &Program, report: &CtrrReport, include_prelude: bool) -> String {
    let mut out = String::new();
    let loc = |l: LocId| -> String {
        if l.0 == 0 {
            "?".into()
        } else {
            loc_text(prog, l)
        }
    };
    for (func, fr) in prog.functions.iter().zip(&report.functions) {
        let from_prelude = crate::expand::is_std_file(&prog.locs[func.loc.0 as usize].file);
        if from_prelude && !include_prelude {
            continue;
        }
        let _ = writeln!(
            out,
            "function {} ({}) at {}",
            func.name,
            kind_name(func.kind),
            loc(func.loc)
        );
        let _ = writeln!(
            out,
            "  result region: {}",
            match func.kind {
                FunctionKind::Entry | FunctionKind::TopLevel => "global (top level)",
                _ => "caller-supplied",
            }
        );
        let _ = writeln!(out, "  summary: {}", summary_text(func, &fr.summary));
        match fr.local_region {
            Some(v) => {
                let _ = writeln!(
                    out,
                    "  scope region v{}: function body at {}, created on entry",
                    v.0,
                    loc(func.loc)
                );
            }
            None => {
                let _ = writeln!(out, "  scope region: none (nothing local is allocated)");
            }
        }
        if let Some(v) = fr.float_region {
            let _ = writeln!(
                out,
                "  float region v{}: Float temporaries, created by the first that allocates, exited before each return and tail call",
                v.0
            );
        }
        let mut sites: Vec<(usize, &AllocSite)> = prog
            .alloc_sites
            .iter()
            .enumerate()
            .filter(|(_, s)| s.func == func.id)
            .collect();
        sites.sort_by_key(|(_, s)| (s.span.start, s.span.end));
        for (id, s) in sites {
            let l = loc(s.loc);
            let _ = writeln!(
                out,
                "  alloc {:?} at {l} -> {}: {}",
                s.kind,
                region_name(s.region),
                place_text(prog, &report.sites[id])
            );
        }
        for (l, r, why) in &fr.calls {
            let _ = writeln!(
                out,
                "  call at {} -> result into {}: {}",
                loc(*l),
                region_name(*r),
                place_text(prog, why)
            );
        }
        for (l, exit) in &fr.exits {
            let _ = writeln!(out, "  region-exit at {} ({})", loc(*l), exit_text(*exit));
        }
        for b in &fr.barriers {
            let verdict = if b.kept {
                "store barrier"
            } else {
                "barrier elided"
            };
            let what = match &b.store {
                StoreKind::Global => "global store".to_string(),
                StoreKind::CapturedSet => "set! of a captured variable".to_string(),
                StoreKind::Primitive(name) => format!("`{name}`"),
            };
            let _ = writeln!(
                out,
                "  {verdict} at {}: {what}: {}",
                loc(b.loc),
                barrier_text(b.reason)
            );
        }
        if let Some(c) = &fr.carry {
            if func.kind == FunctionKind::CarryLoop {
                let _ = writeln!(
                    out,
                    "  carry region v{} (renewal limit v{}): starts as the result region, moves to a region of its own after 16 KiB",
                    c.carry.0, c.limit.0
                );
                let notes: [(&[LocId], &str, &str); 4] = [
                    (&c.back_edges, "carry renewal", "once the young carry region is full, copies what the next iteration's operands reach in it into the loop's old region"),
                    (&c.exits, "carry end", "the carry regions go to the result region"),
                    (&c.where_stored, "built where its container lives", "the current state version when the container is in it, else the result region (only stored, before any renewal point)"),
                    (&c.stays_in_result, "stays in the result region", "only stored into a container older than the carry region (no barrier copy)"),
                ];
                for (locs, what, why) in notes {
                    for l in locs {
                        let _ = writeln!(out, "  {what} at {}: {why}", loc(*l));
                    }
                }
            } else {
                let _ = writeln!(
                    out,
                    "  loop carry region: the body runs as `{} (carry loop)` below",
                    prog.functions[c.loop_func.0 as usize].name
                );
            }
        }
        for (l, h) in &fr.handoffs {
            let _ = writeln!(out, "  handoff at {}: {}", loc(*l), h.describe());
        }
        let st = &fr.state;
        if st.may_renew || st.holds > 0 || st.refreshes > 0 {
            let _ = writeln!(
                out,
                "  global state: {}; {} pin(s), {} escape hold(s), {} safe point(s), \
                 {} refresh(es)",
                if st.may_renew {
                    "may renew it (stores into it, or calls what does)"
                } else {
                    "never renews it"
                },
                st.pins,
                st.holds,
                st.safepoints,
                st.refreshes
            );
        }
        let _ = writeln!(
            out,
            "  tethers: none (no inserted repair releases a region on overwrite)"
        );
        let _ = write!(
            out,
            "{}",
            indent(
                &FunctionDisplay {
                    prog,
                    func,
                    stable: true
                }
                .to_string()
            )
        );
        let _ = writeln!(out);
    }
    out
}

/// Why a scope region is exited where it is on one path, in words.
fn exit_text(exit: ScopeExit) -> String {
    match exit {
        ScopeExit::AfterLastUse(RegionUse::Var(v)) => format!("after the last use of v{}", v.0),
        ScopeExit::AfterLastUse(RegionUse::Alloc) => "after the last allocation in it".into(),
        ScopeExit::AfterLastUse(RegionUse::CallInto) => {
            "after the last call whose result goes into it".into()
        }
        ScopeExit::AfterLastUse(RegionUse::Branches) => {
            "after a conditional whose branches use it".into()
        }
        ScopeExit::Unused => "not used on this path".into(),
        ScopeExit::Before(ExitBefore::Return) => "before return".into(),
        ScopeExit::Before(ExitBefore::TailCall) => "before tail call".into(),
    }
}

fn kind_name(k: FunctionKind) -> &'static str {
    match k {
        FunctionKind::User => "function",
        FunctionKind::Entry => "entry",
        FunctionKind::TopLevel => "top-level form",
        FunctionKind::PrimWrapper { .. } => "primitive wrapper",
        FunctionKind::CarryLoop => "carry loop",
    }
}

fn indent(s: &str) -> String {
    s.lines().map(|l| format!("    {l}\n")).collect()
}

/// Which inputs reach the result, in words.
fn summary_text(f: &Function, s: &Summary) -> String {
    let params_at = |level: Lifetime| -> Vec<String> {
        f.params
            .iter()
            .chain(f.rest.iter())
            .zip(&s.param_levels)
            .filter(|(_, l)| **l == level)
            .map(|(v, _)| format!("v{}", v.0))
            .collect()
    };
    let mut parts = params_at(Lifetime::Result);
    // Parameters that must live in the global region (a store constraint).
    let stored = params_at(Lifetime::Global);
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

/// Why an allocation or a call result got its region, in words.
pub(crate) fn place_text(prog: &Program, reason: &PlaceReason) -> String {
    match reason {
        PlaceReason::UnusedSite => "unused site".into(),
        PlaceReason::ResultUnused => "result unused".into(),
        PlaceReason::CalleeAllocatesNothing => {
            "the callee allocates nothing in its result region: no scope region needed".into()
        }
        PlaceReason::Causes(chain) if chain.is_empty() => {
            "does not outlive the call: local scope region".into()
        }
        PlaceReason::Causes(chain) => chain
            .iter()
            .map(|c| cause_text(prog, c))
            .collect::<Vec<_>>()
            .join(", "),
        PlaceReason::CallResult(cause) => match cause {
            None => "result used only within the call: local scope region".into(),
            Some(Cause::Returned) => "result returned".into(),
            Some(Cause::TailArgument) => "result passed to a tail call".into(),
            Some(Cause::TopLevelDefine) => "result defines a global".into(),
            Some(Cause::FlowsInto(n)) => format!("result flows into {}", node_name(*n)),
            Some(Cause::StoredInto { .. } | Cause::StoredByCallee { .. }) => {
                "result stored into an older container (store constraint)".into()
            }
        },
    }
}

/// One step of a lifetime's cause chain, in words.
fn cause_text(prog: &Program, cause: &Cause) -> String {
    match cause {
        Cause::Returned => "returned".into(),
        Cause::TailArgument => "passed to a tail call (must survive the scope's exit)".into(),
        Cause::TopLevelDefine => "stored into a global by a top-level definition".into(),
        Cause::FlowsInto(next) => format!("flows into {}", node_name(*next)),
        Cause::StoredInto { .. } | Cause::StoredByCallee { .. } => stored_text(prog, cause),
    }
}

/// `FILE:LINE:COL`; for code inlined from another function (`ir/inline.rs`)
/// followed by ` (inlined from NAME at FILE:LINE:COL)`, the call it replaced
/// (itself possibly inlined).
fn loc_text(prog: &Program, l: LocId) -> String {
    let s = &prog.locs[l.0 as usize];
    let at = format!("{}:{}:{}", s.file, s.line, s.col);
    match s.inlined {
        Some(inl) => format!(
            "{at} (inlined from {} at {})",
            prog.functions[inl.func.0 as usize].name,
            loc_text(prog, inl.call)
        ),
        None => at,
    }
}

/// "stored into `index` at FILE:LINE:COL" (a store constraint).
fn stored_text(prog: &Program, cause: &Cause) -> String {
    let at = |l: LocId| loc_text(prog, l);
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

/// Why a store barrier was kept or elided, in words.
fn barrier_text(reason: BarrierReason) -> String {
    let target = |t: StoreTarget| match t {
        StoreTarget::GlobalRegion => "the global region",
        StoreTarget::BoxRegion => "the box's region",
    };
    match reason {
        BarrierReason::Immediate => "immediate value".into(),
        BarrierReason::Constant => "constant in the global region".into(),
        BarrierReason::ValueAsOld(t) => format!(
            "value allocated here in a region at least as old as {}",
            target(t)
        ),
        BarrierReason::ValueNotProvablyAsOld(t) => {
            format!("value's region not provably as old as {}", target(t))
        }
        BarrierReason::BoxFromElsewhere => {
            "box allocated elsewhere: its region is not known here".into()
        }
        BarrierReason::MutationPrimitive => {
            "mutation primitive: the runtime store helper runs inside it".into()
        }
    }
}
