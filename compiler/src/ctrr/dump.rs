//! `--dump-ctrr`: the program after the CTRR pass, per function: its
//! regions, where each allocation goes and why, the result region of every
//! call, every inserted region exit, and every store barrier kept or elided,
//! each with its source location. The format is documented in docs/CTRR.md.

use super::CtrrReport;
use crate::ir::print::{region_name, FunctionDisplay};
use crate::ir::*;
use std::fmt::Write;

/// Render the CTRR decisions of `prog` (after `ctrr::run`).
pub fn dump(prog: &Program, report: &CtrrReport, include_prelude: bool) -> String {
    let mut out = String::new();
    let loc = |l: LocId| -> String {
        let s = &prog.locs[l.0 as usize];
        if l.0 == 0 {
            "?".into()
        } else {
            format!("{}:{}:{}", s.file, s.line, s.col)
        }
    };
    for (func, fr) in prog.functions.iter().zip(&report.functions) {
        let from_prelude = prog.locs[func.loc.0 as usize]
            .file
            .ends_with("std/prelude.omni");
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
        let _ = writeln!(out, "  summary: {}", fr.summary);
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
        let mut sites: Vec<(usize, &AllocSite)> = prog
            .alloc_sites
            .iter()
            .enumerate()
            .filter(|(_, s)| s.func == func.id)
            .collect();
        sites.sort_by_key(|(_, s)| (s.span.start, s.span.end));
        for (_, s) in sites {
            let l = loc(s.loc);
            let _ = writeln!(
                out,
                "  alloc {:?} at {l} -> {}: {}",
                s.kind,
                region_name(s.region),
                s.reason
            );
        }
        for (l, r, why) in &fr.calls {
            let _ = writeln!(
                out,
                "  call at {} -> result into {}: {why}",
                loc(*l),
                region_name(*r)
            );
        }
        for (l, what) in &fr.exits {
            let _ = writeln!(out, "  region-exit at {} (before {what})", loc(*l));
        }
        for (l, what, kept, why) in &fr.barriers {
            let verdict = if *kept {
                "store barrier"
            } else {
                "barrier elided"
            };
            let _ = writeln!(out, "  {verdict} at {}: {what}: {why}", loc(*l));
        }
        for (l, what) in &fr.handoffs {
            let _ = writeln!(out, "  handoff at {}: {what}", loc(*l));
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

fn kind_name(k: FunctionKind) -> &'static str {
    match k {
        FunctionKind::User => "function",
        FunctionKind::Entry => "entry",
        FunctionKind::TopLevel => "top-level form",
        FunctionKind::PrimWrapper => "primitive wrapper",
    }
}

fn indent(s: &str) -> String {
    s.lines().map(|l| format!("    {l}\n")).collect()
}
