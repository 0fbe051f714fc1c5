//! Text form of the IR, for `--dump-ir` and `--dump-ctrr`.

use super::*;
use std::fmt::{self, Write};

impl fmt::Display for Program {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, c) in self.consts.iter().enumerate() {
            writeln!(f, "const c{i} = {c:?}")?;
        }
        for (i, g) in self.globals.iter().enumerate() {
            writeln!(f, "global g{i} {}", g.name)?;
        }
        for func in &self.functions {
            writeln!(f)?;
            write!(f, "{}", FunctionDisplay { prog: self, func })?;
        }
        Ok(())
    }
}

pub struct FunctionDisplay<'a> {
    pub prog: &'a Program,
    pub func: &'a Function,
}

impl fmt::Display for FunctionDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let func = self.func;
        let mut params: Vec<String> = func.params.iter().map(|v| format!("v{}", v.0)).collect();
        if let Some(r) = func.rest {
            params.push(format!(".. v{}", r.0));
        }
        writeln!(
            f,
            "fn f{} {} [{}] nfree={} ({:?}) {{",
            func.id.0,
            func.name,
            params.join(" "),
            func.nfree,
            func.kind
        )?;
        let mut out = String::new();
        write_block(self.prog, &func.body, 1, &mut out)?;
        f.write_str(&out)?;
        writeln!(f, "}}")
    }
}

fn indent(depth: usize, out: &mut String) {
    for _ in 0..depth {
        out.push_str("  ");
    }
}

fn atoms(xs: &[Atom]) -> String {
    xs.iter()
        .map(|a| a.to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

fn callee(prog: &Program, c: &Callee) -> String {
    match c {
        Callee::Known { func, env } => {
            format!(
                "known f{}<{}>[env {}]",
                func.0, prog.functions[func.0 as usize].name, env
            )
        }
        Callee::Unknown(a) => format!("unknown {a}"),
    }
}

pub(crate) fn region_name(r: RegionRef) -> String {
    match r {
        RegionRef::Unassigned => "?".to_string(),
        RegionRef::Global => "global".to_string(),
        RegionRef::Result => "result".to_string(),
        RegionRef::Local(v) => format!("local(v{})", v.0),
    }
}

fn site(prog: &Program, s: &AllocSiteId) -> String {
    let site = &prog.alloc_sites[s.0 as usize];
    format!("@s{} in {}", s.0, region_name(site.region))
}

fn write_block(prog: &Program, b: &Block, depth: usize, out: &mut String) -> fmt::Result {
    for st in &b.stmts {
        indent(depth, out);
        if let Some(v) = st.var {
            write!(out, "v{} = ", v.0)?;
        }
        match &st.op {
            Op::Move(a) => writeln!(out, "{a}")?,
            Op::Inline(op, xs) => writeln!(out, "{op:?} {}", atoms(xs))?,
            Op::Prim {
                name,
                args,
                site: s,
            } => {
                let at = s
                    .map(|s| format!(" {}", site(prog, &s)))
                    .unwrap_or_default();
                writeln!(out, "prim {name} {}{at}", atoms(args))?
            }
            Op::PrimApplyList {
                name,
                list,
                site: s,
            } => {
                let at = s
                    .map(|s| format!(" {}", site(prog, &s)))
                    .unwrap_or_default();
                writeln!(out, "prim-apply {name} {list}{at}")?
            }
            Op::Call {
                callee: c,
                args,
                region,
            } => writeln!(
                out,
                "call {} ({}) into {}",
                callee(prog, c),
                atoms(args),
                region_name(*region)
            )?,
            Op::Alloc { site: s, what } => {
                let w = match what {
                    Alloc::Cons(a, b) => format!("cons {a} {b}"),
                    Alloc::Box(a) => format!("box {a}"),
                    Alloc::Closure { func, free } => format!(
                        "closure f{}<{}> [{}]",
                        func.0,
                        prog.functions[func.0 as usize].name,
                        atoms(free)
                    ),
                    Alloc::Array(xs) => format!("array [{}]", atoms(xs)),
                    Alloc::Dict(xs) => format!("dict [{}]", atoms(xs)),
                };
                writeln!(out, "alloc {w} {}", site(prog, s))?
            }
            Op::If { cond, then, els } => {
                writeln!(out, "if {cond} {{")?;
                write_block(prog, then, depth + 1, out)?;
                indent(depth, out);
                writeln!(out, "}} else {{")?;
                write_block(prog, els, depth + 1, out)?;
                indent(depth, out);
                writeln!(out, "}}")?
            }
            Op::GlobalGet { global, checked } => writeln!(
                out,
                "global-get {}{}",
                prog.globals[global.0 as usize].name,
                if *checked { " (checked)" } else { "" }
            )?,
            Op::GlobalSet {
                global,
                value,
                barrier,
            } => writeln!(
                out,
                "global-set {} {value}{}",
                prog.globals[global.0 as usize].name,
                if *barrier { " (barrier)" } else { "" }
            )?,
            Op::EnvGet(i) => writeln!(out, "env-get {i}")?,
            Op::BoxGet(a) => writeln!(out, "box-get {a}")?,
            Op::BoxSet {
                cell,
                value,
                barrier,
            } => writeln!(
                out,
                "box-set {cell} {value}{}",
                if *barrier { " (barrier)" } else { "" }
            )?,
            Op::RegionCreate => writeln!(out, "region-create")?,
            Op::RegionExit(r) => writeln!(out, "region-exit {r}")?,
            Op::ClosureInit {
                closure,
                index,
                value,
            } => writeln!(out, "closure-init {closure}[{index}] {value}")?,
            Op::CheckBound { value, name } => writeln!(out, "check-bound {value} ({name})")?,
        }
    }
    indent(depth, out);
    match &b.tail {
        Tail::Return(a) => writeln!(out, "return {a}"),
        Tail::Yield(a) => writeln!(out, "yield {a}"),
        Tail::Call {
            callee: c, args, ..
        } => writeln!(out, "tail-call {} ({})", callee(prog, c), atoms(args)),
        Tail::If { cond, then, els } => {
            writeln!(out, "if {cond} {{")?;
            write_block(prog, then, depth + 1, out)?;
            indent(depth, out);
            writeln!(out, "}} else {{")?;
            write_block(prog, els, depth + 1, out)?;
            indent(depth, out);
            writeln!(out, "}}")
        }
    }
}
