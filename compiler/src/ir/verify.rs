//! The IR's invariants, stated and checked in one place. `lower` must
//! produce IR that satisfies them and every pass must keep them; the
//! pipeline checks them in debug builds after `lower` and after `ctrr`, and
//! a test checks them over every end-to-end case program.
//!
//! The invariants:
//! 1. every variable a function names (parameter, binding, operand) is
//!    below its `nvars`, and every `EnvGet` index below its `nfree`;
//! 2. `Tail::Yield` appears only inside a non-tail `Op::If` (its branches
//!    end in `Yield`, through nested `Tail::If`s), and a `Return` or tail
//!    `Call` never does;
//! 3. every allocation site, function, global and constant an operation
//!    names exists, and each site belongs to the function that uses it;
//! 4. a known call passes exactly the callee's value parameters (its fixed
//!    parameters, plus one list for a rest parameter);
//! 5. a dict allocation has an even operand count (keys and values
//!    alternate);
//! 6. `PrimApplyList` calls only variadic primitives, and every `Prim` /
//!    `PrimApplyList` names a runtime primitive;
//! 7. after CTRR ([`Stage::Placed`]), no allocation site and no call has
//!    `RegionRef::Unassigned`.

use super::*;
use omni_runtime::prims::PrimArity;

/// Which pipeline stage the program has reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// After `lower`: regions are not decided yet.
    Lowered,
    /// After `ctrr::run`: every region is decided.
    Placed,
}

/// Check every invariant of `prog`; the violations found, each naming its
/// function, or `Ok` when there are none.
pub fn verify(prog: &Program, stage: Stage) -> Result<(), Vec<String>> {
    let mut errors = Vec::new();
    if prog.functions.get(prog.entry.0 as usize).is_none() {
        errors.push(format!("entry function f{} does not exist", prog.entry.0));
    }
    for (i, f) in prog.functions.iter().enumerate() {
        if f.id.0 as usize != i {
            errors.push(format!(
                "function `{}` at index {i} has id {}",
                f.name, f.id.0
            ));
        }
        let mut cx = Checker {
            prog,
            func: f,
            stage,
            errors: &mut errors,
        };
        for v in f.params.iter().chain(f.rest.iter()) {
            cx.var(*v);
        }
        cx.block(&f.body, false);
    }
    if stage == Stage::Placed {
        for (i, s) in prog.alloc_sites.iter().enumerate() {
            if s.region == RegionRef::Unassigned {
                errors.push(format!("allocation site {i} has no region after CTRR"));
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

struct Checker<'a> {
    prog: &'a Program,
    func: &'a Function,
    stage: Stage,
    errors: &'a mut Vec<String>,
}

impl Checker<'_> {
    fn error(&mut self, what: String) {
        let name = &self.func.name;
        self.errors.push(format!("in `{name}`: {what}"));
    }

    fn var(&mut self, v: VarId) {
        if v.0 >= self.func.nvars {
            self.error(format!("v{} is not below nvars {}", v.0, self.func.nvars));
        }
    }

    fn atom(&mut self, a: &Atom) {
        match a {
            Atom::Var(v) => self.var(*v),
            Atom::Const(c) if c.0 as usize >= self.prog.consts.len() => {
                self.error(format!("constant c{} does not exist", c.0));
            }
            _ => {}
        }
    }

    fn atoms(&mut self, atoms: &[Atom]) {
        for a in atoms {
            self.atom(a);
        }
    }

    fn func_exists(&mut self, f: FuncId) -> Option<&Function> {
        let found = self.prog.functions.get(f.0 as usize);
        if found.is_none() {
            self.error(format!("function f{} does not exist", f.0));
        }
        found
    }

    fn global(&mut self, g: GlobalId) {
        if g.0 as usize >= self.prog.globals.len() {
            self.error(format!("global g{} does not exist", g.0));
        }
    }

    fn site(&mut self, s: AllocSiteId) {
        match self.prog.alloc_sites.get(s.0 as usize) {
            None => self.error(format!("allocation site {} does not exist", s.0)),
            Some(site) if site.func != self.func.id => self.error(format!(
                "allocation site {} belongs to function f{}",
                s.0, site.func.0
            )),
            Some(_) => {}
        }
    }

    fn region(&mut self, r: RegionRef) {
        match r {
            RegionRef::Unassigned if self.stage == Stage::Placed => {
                self.error("call with no result region after CTRR".into());
            }
            RegionRef::Local(v) => self.var(v),
            _ => {}
        }
    }

    fn call(&mut self, callee: &Callee, args: &[Atom]) {
        self.atoms(args);
        match callee {
            Callee::Known { func, env } => {
                self.atom(env);
                if let Some(target) = self.func_exists(*func) {
                    let takes = target.params.len() + usize::from(target.rest.is_some());
                    if takes != args.len() {
                        let name = target.name.clone();
                        self.error(format!(
                            "known call of `{name}` with {} arguments, it takes {takes}",
                            args.len()
                        ));
                    }
                }
            }
            Callee::Unknown(f) => self.atom(f),
        }
    }

    fn prim(&mut self, prim: PrimId, variadic_only: bool) {
        match prim.get() {
            None => self.error(format!("primitive index {} is outside the table", prim.0)),
            Some(d) if variadic_only && !matches!(d.arity, PrimArity::Variadic { .. }) => {
                self.error(format!(
                    "PrimApplyList of fixed-arity primitive `{}`",
                    d.name
                ));
            }
            Some(_) => {}
        }
    }

    /// `in_if`: the block is a branch of a non-tail `Op::If` (it yields).
    fn block(&mut self, b: &Block, in_if: bool) {
        for st in &b.stmts {
            if let Some(v) = st.var {
                self.var(v);
            }
            self.op(&st.op);
        }
        match &b.tail {
            Tail::Return(a) => {
                self.atom(a);
                if in_if {
                    self.error("Return inside a non-tail If".into());
                }
            }
            Tail::Yield(a) => {
                self.atom(a);
                if !in_if {
                    self.error("Yield outside a non-tail If".into());
                }
            }
            Tail::Call { callee, args, .. } => {
                self.call(callee, args);
                if in_if {
                    self.error("tail call inside a non-tail If".into());
                }
            }
            Tail::If { cond, then, els } => {
                self.atom(cond);
                self.block(then, in_if);
                self.block(els, in_if);
            }
        }
    }

    fn op(&mut self, op: &Op) {
        if let Some(site) = op.alloc_site() {
            self.site(site);
        }
        match op {
            Op::Move(a) | Op::BoxGet(a) | Op::RegionExit(a) => self.atom(a),
            Op::Inline(_, args, _) => self.atoms(args),
            Op::Prim { prim, args, .. } => {
                self.atoms(args);
                self.prim(*prim, false);
            }
            Op::PrimApplyList { prim, list, .. } => {
                self.atom(list);
                self.prim(*prim, true);
            }
            Op::Call {
                callee,
                args,
                region,
            } => {
                self.call(callee, args);
                self.region(*region);
            }
            Op::Alloc { what, .. } => match what {
                Alloc::Cons(a, d) => self.atoms(&[*a, *d]),
                Alloc::Box(v) => self.atom(v),
                Alloc::Closure { func, free } => {
                    self.func_exists(*func);
                    self.atoms(free);
                }
                Alloc::Array(elems) => self.atoms(elems),
                Alloc::Dict(kvs) => {
                    self.atoms(kvs);
                    if kvs.len() % 2 != 0 {
                        self.error("dict allocation with an odd operand count".into());
                    }
                }
            },
            Op::If { cond, then, els } => {
                self.atom(cond);
                self.block(then, true);
                self.block(els, true);
            }
            Op::GlobalGet { global, .. } => self.global(*global),
            Op::GlobalSet { global, value, .. } => {
                self.global(*global);
                self.atom(value);
            }
            Op::EnvGet(i) => {
                if *i >= self.func.nfree {
                    self.error(format!(
                        "EnvGet({i}) with only {} free variables",
                        self.func.nfree
                    ));
                }
            }
            Op::BoxSet { cell, value, .. } => self.atoms(&[*cell, *value]),
            Op::RegionCreate | Op::RegionCreateLazy => {}
            Op::CarryStart { carry } => self.var(*carry),
            Op::StoreRegion { container, fields } => {
                self.atoms(&[*container]);
                self.atoms(fields);
            }
            Op::CarryRenew {
                carry,
                limit,
                roots,
            } => {
                self.var(*carry);
                self.var(*limit);
                roots.iter().for_each(|v| self.var(*v));
            }
            Op::CarryEnd { carry, roots } => {
                self.var(*carry);
                roots.iter().for_each(|v| self.var(*v));
            }
            Op::ClosureInit { closure, value, .. } => self.atoms(&[*closure, *value]),
            Op::CheckBound { value, .. } => self.atom(value),
            Op::StatePin(a) | Op::StateHold { value: a, .. } | Op::StateRefresh(a) => self.atom(a),
            Op::StatePinMoved { value, before } => self.atoms(&[*value, *before]),
            Op::StatePins | Op::StatePinCurrent | Op::StateUnpin | Op::StateSafepoint => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use omni_runtime::value::make_int;

    /// A program of one entry function with `body` and `nvars` variables,
    /// one allocation site of its own with region `region`.
    fn program(body: Block, nvars: u32, region: RegionRef) -> Program {
        Program {
            functions: vec![Function {
                id: FuncId(0),
                name: "entry".into(),
                kind: FunctionKind::Entry,
                params: vec![],
                rest: None,
                nfree: 0,
                nvars,
                body,
                loc: LocId(0),
            }],
            globals: vec![],
            consts: vec![],
            alloc_sites: vec![AllocSite {
                kind: AllocKind::Dict,
                func: FuncId(0),
                span: Span::default(),
                loc: LocId(0),
                region,
            }],
            locs: vec![SourceLoc {
                file: "?".into(),
                line: 0,
                col: 0,
                inlined: None,
            }],
            raw_float_fields: Default::default(),
            entry: FuncId(0),
        }
    }

    fn one(a: i64) -> Atom {
        Atom::Imm(make_int(a))
    }

    fn errors(prog: &Program, stage: Stage) -> String {
        verify(prog, stage).err().unwrap_or_default().join("\n")
    }

    #[test]
    fn well_formed_program_verifies() {
        let dict = Stmt {
            var: Some(VarId(0)),
            op: Op::Alloc {
                site: AllocSiteId(0),
                what: Alloc::Dict(vec![one(1), one(2)]),
            },
            loc: LocId(0),
        };
        let body = Block {
            stmts: vec![dict],
            tail: Tail::Return(Atom::Var(VarId(0))),
        };
        assert_eq!(
            verify(&program(body, 1, RegionRef::Global), Stage::Placed),
            Ok(())
        );
    }

    #[test]
    fn violations_are_named() {
        let odd_dict = Stmt {
            var: Some(VarId(3)),
            op: Op::Alloc {
                site: AllocSiteId(0),
                what: Alloc::Dict(vec![one(1)]),
            },
            loc: LocId(0),
        };
        let apply_fixed = Stmt {
            var: None,
            op: Op::PrimApplyList {
                prim: omni_runtime::prims::lookup_id("car").unwrap(),
                list: one(0),
                site: None,
            },
            loc: LocId(0),
        };
        let body = Block {
            stmts: vec![odd_dict, apply_fixed],
            tail: Tail::Yield(one(0)),
        };
        let prog = program(body, 1, RegionRef::Unassigned);
        let lowered = errors(&prog, Stage::Lowered);
        for expected in [
            "v3 is not below nvars 1",
            "odd operand count",
            "PrimApplyList of fixed-arity primitive `car`",
            "Yield outside a non-tail If",
        ] {
            assert!(lowered.contains(expected), "{expected} not in:\n{lowered}");
        }
        assert!(!lowered.contains("no region"));
        assert!(errors(&prog, Stage::Placed).contains("allocation site 0 has no region after CTRR"));
    }
}
