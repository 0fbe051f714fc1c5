//! Inlining of small known functions: an IR-to-IR pass run after `lower`
//! and before CTRR, so that region inference sees the inlined code and
//! places its allocations as if they were written at the call site.
//!
//! A direct call (`Callee::Known`, a call or a tail call) is replaced by a
//! copy of the callee's body when the callee is an ordinary function
//! ([`FunctionKind::User`]) without captured variables, without a rest
//! parameter, not recursive (not on a cycle of known calls), whose body
//! holds at most [`MAX_INLINE_OPS`] operations and allocates no closure. A
//! known call is only ever made by `lower` to a function whose binding
//! cannot change: a global defined once and never `set!` (and none at all
//! in the REPL, where a later form may redefine any global), or a local
//! bound once to a `fn`. A generic function's methods are called directly
//! only after the dispatch at the call site chose them, so a method can be
//! inlined, the dispatch itself stays.
//!
//! Functions are processed callees first (the strongly connected
//! components of the known-call graph in Tarjan's completion order), so a callee's body has had its own calls inlined when it is
//! copied: nesting is bounded because the budget is counted on that body.
//!
//! The copy: every variable of the callee becomes a fresh variable of the
//! caller, except the parameters, which are replaced by their argument
//! atoms (the arguments are atoms, evaluated once and in order before the
//! call, as before; an atom is pure and costs nothing to read again). No
//! copy of an argument is made: to CTRR's path-sensitive store constraints
//! a copy bound inside a branch would look like a value made there and
//! stored on every path after it; every allocation site is copied into a new site of the caller
//! (CTRR places each copy on its own). In tail position the body replaces
//! the tail call (its returns return from the caller); otherwise its
//! returns become the value of the statement: a `Tail::If` becomes a
//! non-tail `Op::If` whose branches yield, and a tail call becomes a call.
//! Annotation checks (`%check-type`) are statements of the body and stay.
//!
//! Locations: each statement of a copy gets a location that says where it
//! was inlined ([`SourceLoc::inlined`]: the inlined function and the call's
//! location, itself possibly inlined). The location table codegen emits
//! carries that chain, and the runtime's call stacks print one
//! `  at NAME (FILE:LINE:COL)` line per inlined frame, as if the call had
//! been made (`runtime/src/control/backtrace.rs`).

use super::visit::known_callees;
use super::*;
use std::collections::HashMap;

/// The largest body, in operations (statements, nested ones included, and
/// call or conditional tails), that is copied into its callers.
pub const MAX_INLINE_OPS: usize = 12;

/// What the pass did, for tests and the debug dump.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct InlineReport {
    /// Calls replaced by a copy of the callee's body.
    pub inlined_calls: usize,
}

/// Inline small known functions into their callers throughout `prog`.
pub fn inline_program(prog: &mut Program) -> InlineReport {
    let callees: Vec<Vec<FuncId>> = prog
        .functions
        .iter()
        .map(|f| known_callees(&f.body))
        .collect();
    let (order, recursive) = call_graph_order(&callees);
    let mut pass = Inliner {
        recursive,
        inlinable: vec![None; prog.functions.len()],
        loc_memo: HashMap::new(),
        report: InlineReport::default(),
    };
    for f in order {
        pass.inline_into(prog, f);
    }
    pass.report
}

/// The number of operations of a body, as the budget counts them.
pub fn body_size(b: &Block) -> usize {
    let mut n = 0;
    for st in &b.stmts {
        n += 1;
        if let Op::If { then, els, .. } = &st.op {
            n += body_size(then) + body_size(els);
        }
    }
    n + match &b.tail {
        Tail::Return(_) | Tail::Yield(_) => 0,
        Tail::Call { .. } => 1,
        Tail::If { then, els, .. } => 1 + body_size(then) + body_size(els),
    }
}

/// The strongly connected components of the known-call graph (Tarjan's
/// algorithm, iterative, linear in functions and calls), callees' before
/// their callers' (the order in which Tarjan's algorithm completes them),
/// and per function whether it is on a cycle of known calls (a function
/// calling itself included): a recursive function is never inlined.
fn call_graph_order(callees: &[Vec<FuncId>]) -> (Vec<usize>, Vec<bool>) {
    const NEW: usize = usize::MAX;
    let n = callees.len();
    let mut index = vec![NEW; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut order = Vec::with_capacity(n);
    let mut recursive = vec![false; n];
    let mut next_index = 0;
    for root in 0..n {
        if index[root] != NEW {
            continue;
        }
        // (function, index of its next callee to visit)
        let mut work = vec![(root, 0usize)];
        index[root] = next_index;
        low[root] = next_index;
        next_index += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&mut (f, ref mut next)) = work.last_mut() {
            if let Some(g) = callees[f].get(*next).map(|g| g.0 as usize) {
                *next += 1;
                if g >= n {
                    continue;
                }
                if g == f {
                    recursive[f] = true;
                } else if index[g] == NEW {
                    index[g] = next_index;
                    low[g] = next_index;
                    next_index += 1;
                    stack.push(g);
                    on_stack[g] = true;
                    work.push((g, 0));
                } else if on_stack[g] {
                    low[f] = low[f].min(index[g]);
                }
                continue;
            }
            work.pop();
            if let Some(&(parent, _)) = work.last() {
                low[parent] = low[parent].min(low[f]);
            }
            if low[f] == index[f] {
                let start = stack
                    .iter()
                    .rposition(|&g| g == f)
                    .expect("f is on the stack");
                let component: Vec<usize> = stack.drain(start..).collect();
                for &g in &component {
                    on_stack[g] = false;
                    recursive[g] |= component.len() > 1;
                }
                order.extend(component);
            }
        }
    }
    (order, recursive)
}

struct Inliner {
    recursive: Vec<bool>,
    /// Per function, once decided: it may be inlined. Decided when a
    /// caller first asks, which is after the function's own calls were
    /// inlined (callees are processed first; only a function on a cycle,
    /// never inlined, is asked about earlier).
    inlinable: Vec<Option<bool>>,
    /// (location in the callee, inlined function, call location) → the
    /// location of the copy.
    loc_memo: HashMap<(LocId, FuncId, LocId), LocId>,
    report: InlineReport,
}

/// The copy of one callee's body at one call site under construction.
struct Copy<'a> {
    callee: FuncId,
    call_loc: LocId,
    /// Callee variable `v` is caller variable `var_base + v`, except a
    /// parameter, which is its argument atom.
    var_base: u32,
    args: HashMap<VarId, Atom>,
    sites: HashMap<AllocSiteId, AllocSiteId>,
    prog: &'a mut Program,
    caller: FuncId,
    inliner: &'a mut Inliner,
}

impl Inliner {
    fn inlinable(&mut self, prog: &Program, caller: usize, callee: FuncId) -> bool {
        let i = callee.0 as usize;
        let Some(f) = prog.functions.get(i) else {
            return false;
        };
        if i == caller || self.recursive[i] {
            return false;
        }
        *self.inlinable[i].get_or_insert_with(|| {
            f.kind == FunctionKind::User
                && f.nfree == 0
                && f.rest.is_none()
                && body_size(&f.body) <= MAX_INLINE_OPS
                && copyable(f)
        })
    }

    fn inline_into(&mut self, prog: &mut Program, f: usize) {
        if !matches!(
            prog.functions[f].kind,
            FunctionKind::User | FunctionKind::TopLevel
        ) {
            return;
        }
        let mut body = std::mem::replace(
            &mut prog.functions[f].body,
            Block {
                stmts: Vec::new(),
                tail: Tail::Return(Atom::Imm(omni_runtime::value::NOTHING)),
            },
        );
        self.block(prog, f, &mut body);
        prog.functions[f].body = body;
    }

    fn block(&mut self, prog: &mut Program, f: usize, b: &mut Block) {
        let stmts = std::mem::take(&mut b.stmts);
        let mut out = Vec::with_capacity(stmts.len());
        for mut st in stmts {
            if let Op::If { then, els, .. } = &mut st.op {
                self.block(prog, f, then);
                self.block(prog, f, els);
            }
            let target = match &st.op {
                Op::Call {
                    callee: Callee::Known { func, .. },
                    args,
                    ..
                } if self.inlinable(prog, f, *func) => Some((*func, args.clone())),
                _ => None,
            };
            match target {
                Some((callee, args)) => {
                    let copy = self.copy_body(prog, f, callee, &args, st.loc);
                    let value = into_value(prog, f, copy, &mut out, st.loc);
                    if let Some(v) = st.var {
                        out.push(Stmt {
                            var: Some(v),
                            op: Op::Move(value),
                            loc: st.loc,
                        });
                    }
                    self.report.inlined_calls += 1;
                }
                None => out.push(st),
            }
        }
        b.stmts = out;
        match &mut b.tail {
            Tail::If { then, els, .. } => {
                self.block(prog, f, then);
                self.block(prog, f, els);
            }
            Tail::Call {
                callee: Callee::Known { func, .. },
                args,
                loc,
            } if self.inlinable(prog, f, *func) => {
                let (callee, args, loc) = (*func, args.clone(), *loc);
                let copy = self.copy_body(prog, f, callee, &args, loc);
                b.stmts.extend(copy.stmts);
                b.tail = copy.tail;
                self.report.inlined_calls += 1;
            }
            _ => {}
        }
    }

    /// A copy of `callee`'s body for a call from `caller` at `call_loc`
    /// with `args`: its parameters bound to the arguments, its variables,
    /// sites and locations the caller's.
    fn copy_body(
        &mut self,
        prog: &mut Program,
        caller: usize,
        callee: FuncId,
        args: &[Atom],
        call_loc: LocId,
    ) -> Block {
        let source = &prog.functions[callee.0 as usize];
        let mut body = source.body.clone();
        let params = source.params.clone();
        let callee_vars = source.nvars;
        let var_base = prog.functions[caller].nvars;
        prog.functions[caller].nvars += callee_vars;
        let mut copy = Copy {
            callee,
            call_loc,
            var_base,
            args: params.iter().copied().zip(args.iter().copied()).collect(),
            sites: HashMap::new(),
            prog,
            caller: FuncId(caller as u32),
            inliner: self,
        };
        copy.block(&mut body);
        body
    }

    /// The location of the copy of callee location `l` inlined from
    /// `callee` at `call`.
    fn loc(&mut self, prog: &mut Program, l: LocId, callee: FuncId, call: LocId) -> LocId {
        if l.0 == 0 {
            return l;
        }
        if let Some(done) = self.loc_memo.get(&(l, callee, call)) {
            return *done;
        }
        let original = prog.locs[l.0 as usize].clone();
        // A location already inlined into the callee keeps its frame; the
        // call it came from is now itself inside the copy.
        let inlined = match original.inlined {
            Some(at) => InlinedAt {
                func: at.func,
                call: self.loc(prog, at.call, callee, call),
            },
            None => InlinedAt { func: callee, call },
        };
        let id = LocId(prog.locs.len() as u32);
        prog.locs.push(SourceLoc {
            inlined: Some(inlined),
            ..original
        });
        self.loc_memo.insert((l, callee, call), id);
        id
    }
}

/// The body of `f` can be copied into another function: it reads no closure
/// environment (nor its own closure) and creates no closure (whose code
/// would be shared between the copies). Region, carry and state operations
/// only exist after CTRR; they are refused all the same.
fn copyable(f: &Function) -> bool {
    let b = &f.body;
    let mut ok = true;
    let self_free = |a: &Atom| !matches!(a, Atom::SelfClosure);
    super::visit::walk_block(b, &mut |st| {
        let op_ok = match &st.op {
            Op::EnvGet(_)
            | Op::ClosureInit { .. }
            | Op::RegionCreate
            | Op::RegionCreateLazy
            | Op::RegionExit(_)
            | Op::CarryStart { .. }
            | Op::StoreRegion { .. }
            | Op::CarryRenew { .. }
            | Op::CarryEnd { .. }
            | Op::StatePins
            | Op::StatePin(_)
            | Op::StatePinMoved { .. }
            | Op::StatePinCurrent
            | Op::StateUnpin
            | Op::StateHold { .. }
            | Op::StateRefresh(_)
            | Op::StateSafepoint => false,
            Op::Alloc {
                what: Alloc::Closure { .. },
                ..
            } => false,
            op => op.operands().iter().all(self_free),
        };
        // A parameter is replaced by its argument: it must never be bound
        // again (lowering binds each variable once; checked all the same).
        let rebinds_param = st.var.is_some_and(|v| f.params.contains(&v));
        ok &= op_ok && !rebinds_param;
    });
    super::visit::walk_tails(b, &mut |t| {
        ok &= match t {
            Tail::Return(a) | Tail::Yield(a) => self_free(a),
            Tail::Call { callee, args, .. } => {
                let env = match callee {
                    Callee::Known { env, .. } => env,
                    Callee::Unknown(f) => f,
                };
                self_free(env) && args.iter().all(self_free)
            }
            Tail::If { cond, .. } => self_free(cond),
        };
    });
    ok
}

/// Append the statements of inlined `body` (not in tail position) to
/// `out`; the atom holding its value.
fn into_value(
    prog: &mut Program,
    caller: usize,
    body: Block,
    out: &mut Vec<Stmt>,
    loc: LocId,
) -> Atom {
    out.extend(body.stmts);
    match body.tail {
        Tail::Return(a) | Tail::Yield(a) => a,
        Tail::Call { callee, args, loc } => {
            let v = fresh_var(prog, caller);
            out.push(Stmt {
                var: Some(v),
                op: Op::Call {
                    callee,
                    args,
                    region: RegionRef::Unassigned,
                },
                loc,
            });
            Atom::Var(v)
        }
        Tail::If { cond, then, els } => {
            let then = into_yield(prog, caller, *then, loc);
            let els = into_yield(prog, caller, *els, loc);
            let v = fresh_var(prog, caller);
            out.push(Stmt {
                var: Some(v),
                op: Op::If { cond, then, els },
                loc,
            });
            Atom::Var(v)
        }
    }
}

/// A new variable of function `caller`.
fn fresh_var(prog: &mut Program, caller: usize) -> VarId {
    let f = &mut prog.functions[caller];
    f.nvars += 1;
    VarId(f.nvars - 1)
}

/// The branch of a non-tail `If` made from a tail block.
fn into_yield(prog: &mut Program, caller: usize, b: Block, loc: LocId) -> Block {
    let mut stmts = Vec::new();
    let value = into_value(prog, caller, b, &mut stmts, loc);
    Block {
        stmts,
        tail: Tail::Yield(value),
    }
}

impl Copy<'_> {
    fn var(&self, v: &mut VarId) {
        v.0 += self.var_base;
    }

    fn atom(&self, a: &mut Atom) {
        if let Atom::Var(v) = a {
            match self.args.get(v) {
                Some(arg) => *a = *arg,
                None => self.var(v),
            }
        }
    }

    fn atoms(&self, xs: &mut [Atom]) {
        for a in xs {
            self.atom(a);
        }
    }

    fn loc(&mut self, l: LocId) -> LocId {
        self.inliner.loc(self.prog, l, self.callee, self.call_loc)
    }

    /// The caller's copy of allocation site `s` (one per site per copy).
    fn site(&mut self, s: &mut AllocSiteId) {
        if let Some(done) = self.sites.get(s) {
            *s = *done;
            return;
        }
        let original = self.prog.alloc_sites[s.0 as usize].clone();
        let loc = self.loc(original.loc);
        let id = AllocSiteId(self.prog.alloc_sites.len() as u32);
        self.prog.alloc_sites.push(AllocSite {
            func: self.caller,
            loc,
            region: RegionRef::Unassigned,
            ..original
        });
        self.sites.insert(*s, id);
        *s = id;
    }

    fn callee(&self, c: &mut Callee) {
        match c {
            Callee::Known { env, .. } => self.atom(env),
            Callee::Unknown(f) => self.atom(f),
        }
    }

    fn block(&mut self, b: &mut Block) {
        for st in &mut b.stmts {
            if let Some(v) = &mut st.var {
                self.var(v);
            }
            st.loc = self.loc(st.loc);
            self.op(&mut st.op);
        }
        match &mut b.tail {
            Tail::Return(a) | Tail::Yield(a) => self.atom(a),
            Tail::Call { callee, args, loc } => {
                self.callee(callee);
                self.atoms(args);
                *loc = self.loc(*loc);
            }
            Tail::If { cond, then, els } => {
                self.atom(cond);
                self.block(then);
                self.block(els);
            }
        }
    }

    fn op(&mut self, op: &mut Op) {
        match op {
            Op::Move(a) | Op::BoxGet(a) | Op::RegionExit(a) => self.atom(a),
            Op::StatePin(a) | Op::StateHold { value: a, .. } | Op::StateRefresh(a) => self.atom(a),
            Op::StatePinMoved { value, before } => {
                self.atom(value);
                self.atom(before);
            }
            Op::Inline(_, args, site) => {
                self.atoms(args);
                if let Some(s) = site {
                    self.site(s);
                }
            }
            Op::Prim { args, site, .. } => {
                self.atoms(args);
                if let Some(s) = site {
                    self.site(s);
                }
            }
            Op::PrimApplyList { list, site, .. } => {
                self.atom(list);
                if let Some(s) = site {
                    self.site(s);
                }
            }
            Op::Call {
                callee,
                args,
                region,
            } => {
                self.callee(callee);
                self.atoms(args);
                if let RegionRef::Local(v) = region {
                    self.var(v);
                }
            }
            Op::Alloc { site, what } => {
                self.site(site);
                match what {
                    Alloc::Cons(a, d) => {
                        self.atom(a);
                        self.atom(d);
                    }
                    Alloc::Box(a) => self.atom(a),
                    Alloc::Closure { free: xs, .. } | Alloc::Array(xs) | Alloc::Dict(xs) => {
                        self.atoms(xs)
                    }
                }
            }
            Op::If { cond, then, els } => {
                self.atom(cond);
                self.block(then);
                self.block(els);
            }
            Op::GlobalSet { value, .. } => self.atom(value),
            Op::BoxSet { cell, value, .. } => {
                self.atom(cell);
                self.atom(value);
            }
            Op::ClosureInit { closure, value, .. } => {
                self.atom(closure);
                self.atom(value);
            }
            Op::CheckBound { value, .. } => self.atom(value),
            Op::CarryStart { carry } => self.var(carry),
            Op::StoreRegion { container, fields } => {
                self.atom(container);
                fields.iter_mut().for_each(|a| self.atom(a));
            }
            Op::CarryRenew {
                carry,
                limit,
                roots,
            } => {
                self.var(carry);
                self.var(limit);
                roots.iter_mut().for_each(|v| self.var(v));
            }
            Op::CarryEnd { carry, roots } => {
                self.var(carry);
                roots.iter_mut().for_each(|v| self.var(v));
            }
            Op::GlobalGet { .. }
            | Op::EnvGet(_)
            | Op::RegionCreate
            | Op::RegionCreateLazy
            | Op::StatePins
            | Op::StatePinCurrent
            | Op::StateUnpin
            | Op::StateSafepoint => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::verify::{verify, Stage};

    /// `src` after the prelude, lowered and inlined (checked by the
    /// verifier), with the pass's report.
    fn inlined(src: &str) -> (Program, InlineReport) {
        let (sm, ast) = crate::expand::expand_with_prelude(src);
        let mut prog = crate::ir::lower::lower_program(&ast.expect("expands"), &sm);
        let report = inline_program(&mut prog);
        if let Err(errors) = verify(&prog, Stage::Lowered) {
            panic!("{}", errors.join("\n"));
        }
        (prog, report)
    }

    /// The program's (not the prelude's) user function `name`.
    fn func<'p>(prog: &'p Program, name: &str) -> &'p Function {
        prog.functions
            .iter()
            .find(|f| {
                f.name == name
                    && f.kind == FunctionKind::User
                    && prog.locs[f.loc.0 as usize].file == "t.omni"
            })
            .unwrap_or_else(|| panic!("no function {name}"))
    }

    /// The names of the functions `name` calls directly.
    fn known_calls(prog: &Program, name: &str) -> Vec<String> {
        known_callees(&func(prog, name).body)
            .into_iter()
            .map(|f| prog.functions[f.0 as usize].name.clone())
            .collect()
    }

    fn has_unknown_call(b: &Block) -> bool {
        let mut found = false;
        super::super::visit::walk_block(b, &mut |st| {
            found |= matches!(
                st.op,
                Op::Call {
                    callee: Callee::Unknown(_),
                    ..
                }
            );
        });
        found
    }

    const ACCESSORS: &str = "
        (define color [t] (array-ref t 0))
        (define key [t] (array-ref t 1))
        (define mk [c k] [c k])
        (define red? [t] (and (not (null? t)) (= (color t) 0)))
        (define f [x] (if (red? x) (key x) (color x)))
        (println (f (mk 0 5)))";

    #[test]
    fn accessors_are_inlined_into_callers() {
        let (prog, report) = inlined(ACCESSORS);
        assert!(report.inlined_calls >= 4, "{report:?}");
        assert_eq!(known_calls(&prog, "f"), Vec::<String>::new());
        // `red?` got `color` inlined before being inlined itself.
        assert_eq!(known_calls(&prog, "red?"), Vec::<String>::new());
        // The inlined functions themselves stay (their closures are values).
        assert_eq!(body_size(&func(&prog, "color").body), 1);
    }

    #[test]
    fn inlined_code_has_its_own_sites_and_chained_locations() {
        let (prog, _) = inlined(ACCESSORS);
        let f = func(&prog, "f");
        let mut seen_nested = false;
        super::super::visit::walk_block(&f.body, &mut |st| {
            if let Some(site) = st.op.alloc_site() {
                assert_eq!(prog.alloc_sites[site.0 as usize].func, f.id);
            }
            if let Op::Inline(InlineOp::ArrayRef, ..) = st.op {
                let at = prog.locs[st.loc.0 as usize].inlined.expect("inlined");
                let name = &prog.functions[at.func.0 as usize].name;
                assert!(name == "color" || name == "key", "{name}");
                // `color` inside `red?` inside `f`: the call's location is
                // itself inlined (from `red?`), whose call is in `f`.
                if let Some(outer) = prog.locs[at.call.0 as usize].inlined {
                    assert_eq!(prog.functions[outer.func.0 as usize].name, "red?");
                    assert!(prog.locs[outer.call.0 as usize].inlined.is_none());
                    seen_nested = true;
                }
            }
        });
        assert!(seen_nested);
        // `mk`'s array allocation, inlined into the top level, is a new site.
        let sites = prog
            .alloc_sites
            .iter()
            .filter(|s| s.kind == AllocKind::Array);
        assert!(sites.count() >= 2);
    }

    #[test]
    fn recursive_and_large_functions_are_not_inlined() {
        let (prog, _) = inlined(
            "(define count [n] (if (= n 0) 0 (count (- n 1))))
             (define even? [n] (if (= n 0) true (odd? (- n 1))))
             (define odd? [n] (if (= n 0) false (even? (- n 1))))
             (define big [a] (+ a (+ a (+ a (+ a (+ a (+ a (+ a (+ a (+ a (+ a (+ a (+ a (+ a a))))))))))))))
             (define use [x] (list (count x) (even? x) (big x)))
             (println (use 3))",
        );
        let mut calls = known_calls(&prog, "use");
        calls.sort();
        assert_eq!(calls, vec!["big", "count", "even?"]);
        assert_eq!(known_calls(&prog, "odd?"), vec!["even?"]);
    }

    #[test]
    fn assigned_globals_and_closures_are_not_inlined() {
        let (prog, _) = inlined(
            "(define scale [x] (* x 2))
             (define use [x] (+ (scale x) 1))
             (set! scale (fn [x] (* x 3)))
             (define adder [n] (let [add (fn [x] (+ x n))] (add 1)))
             (println (use 1) (adder 2))",
        );
        assert!(has_unknown_call(&func(&prog, "use").body));
        // `add` captures `n`: the call stays.
        assert_eq!(known_calls(&prog, "adder"), vec!["lambda"]);
    }

    #[test]
    fn tail_and_non_tail_copies_keep_the_shape() {
        let (prog, _) = inlined(
            "(define pick [c a b] (if c a b))
             (define g [x] (list x))
             (define h [x] (if x (g x) (g 0)))
             (define non-tail [x] (list (h x)))
             (define tail [x] (pick x 1 2))
             (println (non-tail 1) (tail true))",
        );
        // In tail position the callee's `Tail::If` is the caller's tail.
        let tail = func(&prog, "tail");
        assert!(matches!(tail.body.tail, Tail::If { .. }));
        // Not in tail position: a non-tail `If` whose branches yield, and
        // the callee's tail calls became calls (or were inlined too).
        let non_tail = func(&prog, "non-tail");
        assert!(known_calls(&prog, "non-tail").is_empty());
        assert!(non_tail
            .body
            .stmts
            .iter()
            .any(|st| matches!(st.op, Op::If { .. })));
    }

    #[test]
    fn a_known_local_function_without_free_variables_is_inlined() {
        let (prog, report) = inlined(
            "(define outer [x] (let [sq (fn [y] (* y y))] (+ (sq x) 1)))
             (println (outer 3))",
        );
        assert!(report.inlined_calls >= 1);
        assert!(known_calls(&prog, "outer").is_empty());
    }

    #[test]
    fn call_graph_order_puts_callees_first_and_finds_cycles() {
        // 0 -> 1 -> 2, 2 -> 1 (a cycle), 3 -> 3 (self), 4 -> 0, 4 -> 3
        let f = |xs: &[u32]| xs.iter().map(|&x| FuncId(x)).collect::<Vec<_>>();
        let callees = vec![f(&[1]), f(&[2]), f(&[1]), f(&[3]), f(&[0, 3])];
        let (order, recursive) = call_graph_order(&callees);
        assert_eq!(recursive, vec![false, true, true, true, false]);
        let at = |x: usize| order.iter().position(|&y| y == x).unwrap();
        assert_eq!(order.len(), 5);
        assert!(at(1) < at(0) && at(2) < at(0) && at(0) < at(4) && at(3) < at(4));
    }

    #[test]
    fn body_size_counts_nested_statements_and_tails() {
        let (prog, _) = inlined(ACCESSORS);
        let red = &func(&prog, "red?").body;
        let mut stmts = 0;
        super::super::visit::walk_block(red, &mut |_| stmts += 1);
        assert!(body_size(red) >= stmts);
        assert_eq!(body_size(&func(&prog, "mk").body), 1);
    }
}
