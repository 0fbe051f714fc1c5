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
            write!(
                f,
                "{}",
                FunctionDisplay {
                    prog: self,
                    func,
                    stable: false
                }
            )?;
        }
        Ok(())
    }
}

pub struct FunctionDisplay<'a> {
    pub prog: &'a Program,
    pub func: &'a Function,
    /// Name functions and omit program-wide ids (function and site
    /// numbers), so the text does not change when the prelude does.
    pub stable: bool,
}

impl fmt::Display for FunctionDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let func = self.func;
        let mut params: Vec<String> = func.params.iter().map(|v| format!("v{}", v.0)).collect();
        if let Some(r) = func.rest {
            params.push(format!(".. v{}", r.0));
        }
        let id = if self.stable {
            String::new()
        } else {
            format!("f{} ", func.id.0)
        };
        let kind = match func.kind {
            FunctionKind::PrimWrapper {
                apply_list: Some(_),
            } => "PrimWrapper, two-argument code".to_string(),
            FunctionKind::PrimWrapper { apply_list: None } => "PrimWrapper".to_string(),
            other => format!("{other:?}"),
        };
        writeln!(
            f,
            "fn {id}{} [{}] nfree={} ({kind}) {{",
            func.name,
            params.join(" "),
            func.nfree,
        )?;
        let mut out = String::new();
        let p = Printer {
            prog: self.prog,
            stable: self.stable,
        };
        p.block(&func.body, 1, &mut out)?;
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

pub(crate) fn region_name(r: RegionRef) -> String {
    match r {
        RegionRef::Unassigned => "?".to_string(),
        RegionRef::Global => "global".to_string(),
        RegionRef::State => "state".to_string(),
        RegionRef::Result => "result".to_string(),
        RegionRef::Local(v) => format!("local(v{})", v.0),
    }
}

struct Printer<'a> {
    prog: &'a Program,
    stable: bool,
}

impl Printer<'_> {
    fn func_name(&self, func: FuncId) -> String {
        let name = &self.prog.functions[func.0 as usize].name;
        if self.stable {
            format!("<{name}>")
        } else {
            format!("f{}<{name}>", func.0)
        }
    }

    fn callee(&self, c: &Callee) -> String {
        match c {
            Callee::Known { func, env } => format!("known {}[env {}]", self.func_name(*func), env),
            Callee::Unknown(a) => format!("unknown {a}"),
        }
    }

    fn site(&self, s: &AllocSiteId) -> String {
        let site = &self.prog.alloc_sites[s.0 as usize];
        if self.stable {
            format!("in {}", region_name(site.region))
        } else {
            format!("@s{} in {}", s.0, region_name(site.region))
        }
    }

    fn block(&self, b: &Block, depth: usize, out: &mut String) -> fmt::Result {
        let prog = self.prog;
        for st in &b.stmts {
            indent(depth, out);
            if let Some(v) = st.var {
                write!(out, "v{} = ", v.0)?;
            }
            match &st.op {
                Op::Move(a) => writeln!(out, "{a}")?,
                Op::Inline(op, xs, s) => {
                    let at = s.map(|s| format!(" {}", self.site(&s))).unwrap_or_default();
                    writeln!(out, "{op:?} {}{at}", atoms(xs))?
                }
                Op::Prim {
                    prim,
                    args,
                    site: s,
                } => {
                    let name = prim_name(*prim);
                    let at = s.map(|s| format!(" {}", self.site(&s))).unwrap_or_default();
                    writeln!(out, "prim {name} {}{at}", atoms(args))?
                }
                Op::PrimApplyList {
                    prim,
                    list,
                    site: s,
                } => {
                    let name = prim_name(*prim);
                    let at = s.map(|s| format!(" {}", self.site(&s))).unwrap_or_default();
                    writeln!(out, "prim-apply {name} {list}{at}")?
                }
                Op::Call {
                    callee: c,
                    args,
                    region,
                } => writeln!(
                    out,
                    "call {} ({}) into {}",
                    self.callee(c),
                    atoms(args),
                    region_name(*region)
                )?,
                Op::Alloc { site: s, what } => {
                    let w = match what {
                        Alloc::Cons(a, b) => format!("cons {a} {b}"),
                        Alloc::Box(a) => format!("box {a}"),
                        Alloc::Closure { func, free } => {
                            format!("closure {} [{}]", self.func_name(*func), atoms(free))
                        }
                        Alloc::Array(xs) => format!("array [{}]", atoms(xs)),
                        Alloc::Dict(xs) => format!("dict [{}]", atoms(xs)),
                    };
                    writeln!(out, "alloc {w} {}", self.site(s))?
                }
                Op::If { cond, then, els } => self.if_else(cond, then, els, depth, out)?,
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
                Op::RegionCreateLazy => writeln!(out, "region-create-lazy")?,
                Op::RegionExit(r) => writeln!(out, "region-exit {r}")?,
                Op::CarryStart { carry } => writeln!(out, "carry-start v{}", carry.0)?,
                Op::StoreRegion { container, fields } => {
                    write!(out, "store-region {container}")?;
                    if !fields.is_empty() {
                        write!(out, " unless-objects")?;
                        for a in fields {
                            write!(out, " {a}")?;
                        }
                    }
                    writeln!(out)?
                }
                Op::CarryRenew {
                    carry,
                    limit,
                    roots,
                } => writeln!(
                    out,
                    "carry-renew v{} v{} roots {}",
                    carry.0,
                    limit.0,
                    var_list(roots)
                )?,
                Op::CarryEnd { carry, roots } => {
                    writeln!(out, "carry-end v{} roots {}", carry.0, var_list(roots))?
                }
                Op::ClosureInit {
                    closure,
                    index,
                    value,
                } => writeln!(out, "closure-init {closure}[{index}] {value}")?,
                Op::CheckBound { value, name } => writeln!(out, "check-bound {value} ({name})")?,
                Op::StatePins => writeln!(out, "state-pins")?,
                Op::StatePin(a) => writeln!(out, "state-pin {a}")?,
                Op::StatePinMoved { value, before } => {
                    writeln!(out, "state-pin {value} if moved from {before}")?
                }
                Op::StatePinCurrent => writeln!(out, "state-pin-current")?,
                Op::StateUnpin => writeln!(out, "state-unpin")?,
                Op::StateHold {
                    value,
                    holder: RegionRef::Result,
                } => writeln!(out, "state-hold {value}")?,
                Op::StateHold { value, holder } => {
                    writeln!(out, "state-hold {value} in {}", region_name(*holder))?
                }
                Op::StateRefresh(a) => writeln!(out, "state-refresh {a}")?,
                Op::StateSafepoint => writeln!(out, "state-safepoint")?,
            }
        }
        indent(depth, out);
        match &b.tail {
            Tail::Return(a) => writeln!(out, "return {a}"),
            Tail::Yield(a) => writeln!(out, "yield {a}"),
            Tail::Call {
                callee: c, args, ..
            } => writeln!(out, "tail-call {} ({})", self.callee(c), atoms(args)),
            Tail::If { cond, then, els } => self.if_else(cond, then, els, depth, out),
        }
    }

    fn if_else(
        &self,
        cond: &Atom,
        then: &Block,
        els: &Block,
        depth: usize,
        out: &mut String,
    ) -> fmt::Result {
        writeln!(out, "if {cond} {{")?;
        self.block(then, depth + 1, out)?;
        indent(depth, out);
        writeln!(out, "}} else {{")?;
        self.block(els, depth + 1, out)?;
        indent(depth, out);
        writeln!(out, "}}")
    }
}

/// A primitive's OmniLisp name (an index outside the table prints as such).
fn prim_name(p: PrimId) -> String {
    p.get()
        .map(|d| d.name.to_string())
        .unwrap_or_else(|| format!("#<prim {}>", p.0))
}

fn var_list(vs: &[VarId]) -> String {
    let names: Vec<String> = vs.iter().map(|v| format!("v{}", v.0)).collect();
    format!("[{}]", names.join(" "))
}
