//! Scope regions: a function that places anything in its own scope region
//! creates the region on entry and exits it, on every path, at the earliest
//! point after which nothing placed in it can be used any more (Aiken,
//! Fähndrich & Levien, "Better static memory management", 1995: free
//! early). A non-tail recursion that uses its temporaries before recursing
//! then holds one scope region at a time instead of one per frame, and each
//! iteration of a tail-recursive loop still reclaims its temporaries.
//!
//! What may point into the scope region is a small flow-insensitive
//! points-to analysis over the function (`Scope`): abstract objects of the
//! region are the objects one statement allocates there (an allocation site
//! placed `Local`, a call whose result region is the scope region), plus
//! `Any` (an object of unknown contents). Per variable it keeps the objects
//! its value may be, per object the objects its fields may hold. Copies and
//! the joins of conditionals carry a variable's objects; a load (`car`,
//! `cdr`, `box-get`) gives what its container's fields hold, so `(car p)` of
//! a local pair built from parameters is not in the region; a call result
//! may be (or be built from) what the operands its callee's summary lets
//! reach the result reach; an aliasing primitive's result may be anything
//! its arguments reach. Stores add to the container's fields; an object
//! handed to a call or to a primitive that may run a closure may get any
//! object of the region in its fields (what the callee stores there is moved
//! into the region by the barrier). Parameters, captured values, globals
//! and what is read from them were made before the region and never point
//! into it (the store barrier keeps every container's contents at least as
//! old as the container).
//!
//! The exit is placed by walking the structured IR (`place_exits`): in a
//! block ending in a return or a tail call it goes right after the last
//! statement that uses the region (allocates in it, passes it as a call's
//! result region, reads one of those values — a non-tail `if` counts as one
//! statement, so an exit never sits inside one); when the block ends in a
//! tail `if` whose condition or branches use the region, each branch gets
//! its own exit; when the tail itself reads such a value the exit stays
//! right before it. So every path exits exactly once ([`Scope::check`]
//! verifies it in debug builds and tests).

use super::analysis::{Lifetime, Summary};
use super::place::{call_level, SiteLifetimes};
use super::report::{ExitBefore, FunctionReport, RegionUse, ScopeExit};
use crate::ctrr::analysis::FunctionFacts;
use crate::ir::visit::walk_block;
use crate::ir::*;
use omni_runtime::prims::{PrimEffect, PrimResult};
use std::collections::{BTreeSet, HashMap};

/// Give `func` a scope region variable if anything in it is placed there
/// (never for the entry function, whose result region is the global one).
pub fn scope_region(
    func: &mut Function,
    facts: &FunctionFacts,
    summaries: &[Summary],
    sites: &SiteLifetimes,
) -> Option<VarId> {
    let needs = func.kind != FunctionKind::Entry && uses_local(func, facts, summaries, sites);
    needs.then(|| {
        let v = VarId(func.nvars);
        func.nvars += 1;
        v
    })
}

fn uses_local(
    func: &Function,
    facts: &FunctionFacts,
    summaries: &[Summary],
    sites: &SiteLifetimes,
) -> bool {
    let mut any = false;
    walk_block(&func.body, &mut |st| {
        if st.op.float_site().is_some() {
            // A Float temporary goes to the lazy Float region (`lazy.rs`).
        } else if let Some(site) = st.op.alloc_site() {
            any |= sites.get(&site).is_some_and(|s| s.level == Lifetime::Local);
        } else if let Op::Call { callee, .. } = &st.op {
            any |=
                st.var.is_some() && call_level(facts, summaries, st.var, callee) == Lifetime::Local;
        }
    });
    any
}

/// Insert the scope region's creation on entry and its exit on every path
/// of `func`, right after the path's last use of the region (after
/// `place::place_calls`, which decides which calls allocate into it).
pub fn insert_scope(
    func: &mut Function,
    summaries: &[Summary],
    sites: &SiteLifetimes,
    report: &mut FunctionReport,
) {
    let Some(local) = report.local_region else {
        return;
    };
    let scope = Scope::new(&func.body, local, summaries, sites);
    scope.place_exits(&mut func.body, func.loc, &mut report.exits);
    if cfg!(any(debug_assertions, test)) {
        if let Err(e) = scope.check(&func.body, false) {
            panic!("scope region v{} of `{}`: {e}", local.0, func.name);
        }
    }
    func.body.stmts.insert(
        0,
        Stmt {
            var: Some(local),
            op: Op::RegionCreate,
            loc: func.loc,
        },
    );
}

/// An abstract object of the scope region: the objects one statement
/// allocates there (named by the variable it binds), or any object of the
/// region (contents unknown).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Obj {
    At(VarId),
    Any,
}

type Objs = BTreeSet<Obj>;

/// One function's scope region and what may point into it.
struct Scope<'a> {
    local: VarId,
    summaries: &'a [Summary],
    sites: &'a SiteLifetimes,
    /// Per variable, the objects of the scope region its value may be
    /// (none: it is not in the region).
    pts: HashMap<VarId, Objs>,
    /// Per object, the objects of the scope region its fields may hold
    /// (`Obj::Any`'s are `{Any}`).
    fields: HashMap<Obj, Objs>,
    /// Every `Obj::At` made so far.
    objects: Objs,
    /// More than [`PRECISE_OBJECTS`] objects: every object's fields are
    /// taken to hold `Any` (sound, and linear in the function's size).
    coarse: bool,
    changed: bool,
}

/// How many abstract objects a function's analysis tracks field by field
/// (a function building a long literal list has one per element).
const PRECISE_OBJECTS: usize = 256;

impl<'a> Scope<'a> {
    fn new(body: &Block, local: VarId, summaries: &'a [Summary], sites: &'a SiteLifetimes) -> Self {
        let mut s = Scope {
            local,
            summaries,
            sites,
            pts: HashMap::new(),
            fields: HashMap::new(),
            objects: Objs::new(),
            coarse: false,
            changed: false,
        };
        // Statement order is definition order except across letrec's
        // closure initialisations and stores into objects made earlier:
        // iterate to a fixed point (the sets only grow).
        loop {
            s.changed = false;
            s.collect(body);
            if !s.changed {
                return s;
            }
        }
    }

    /// Whether the atom's value may be an object of the region.
    fn is_local(&self, a: &Atom) -> bool {
        matches!(a, Atom::Var(v) if self.pts.get(v).is_some_and(|p| !p.is_empty()))
    }

    fn pts_of(&self, a: &Atom) -> Objs {
        match a {
            Atom::Var(v) => self.pts.get(v).cloned().unwrap_or_default(),
            Atom::Imm(_) | Atom::Const(_) | Atom::SelfClosure => Objs::new(),
        }
    }

    fn pts_all(&self, xs: &[Atom]) -> Objs {
        xs.iter().flat_map(|a| self.pts_of(a)).collect()
    }

    fn fields_of(&self, o: Obj) -> Objs {
        match o {
            _ if self.coarse => Objs::from([Obj::Any]),
            Obj::Any => Objs::from([Obj::Any]),
            Obj::At(_) => self.fields.get(&o).cloned().unwrap_or_default(),
        }
    }

    /// What a load out of the atom's value (`car`, `cdr`, `box-get`) may give.
    fn load(&self, a: &Atom) -> Objs {
        self.pts_of(a)
            .into_iter()
            .flat_map(|o| self.fields_of(o))
            .collect()
    }

    /// The objects reachable from `roots` through fields (`roots`
    /// included); every object when `Any` is among them.
    fn reachable(&self, roots: &Objs) -> Objs {
        if self.coarse && !roots.is_empty() {
            // Every object reaches `Any`; stores and exposures change
            // nothing any more, so the objects need not be listed.
            let mut all = roots.clone();
            all.insert(Obj::Any);
            return all;
        }
        let mut seen = Objs::new();
        let mut work: Vec<Obj> = roots.iter().copied().collect();
        while let Some(o) = work.pop() {
            if o == Obj::Any {
                seen.insert(o);
                seen.extend(self.objects.iter().copied());
                return seen;
            }
            if seen.insert(o) {
                work.extend(self.fields_of(o));
            }
        }
        seen
    }

    fn add_pts(&mut self, v: Option<VarId>, objs: Objs) {
        if let (Some(v), false) = (v, objs.is_empty()) {
            let set = self.pts.entry(v).or_default();
            let before = set.len();
            set.extend(objs);
            self.changed |= set.len() != before;
        }
    }

    fn add_fields(&mut self, o: Obj, objs: &Objs) {
        if o == Obj::Any || objs.is_empty() || self.coarse {
            return;
        }
        let set = self.fields.entry(o).or_default();
        let before = set.len();
        set.extend(objs.iter().copied());
        self.changed |= set.len() != before;
    }

    /// A new object of the region bound to `v`, its fields holding `inner`.
    fn alloc(&mut self, v: Option<VarId>, inner: Objs) {
        if let Some(v) = v {
            let o = Obj::At(v);
            self.changed |= self.objects.insert(o);
            if self.objects.len() > PRECISE_OBJECTS && !self.coarse {
                self.coarse = true;
                self.changed = true;
            }
            self.add_pts(Some(v), Objs::from([o]));
            self.add_fields(o, &inner);
        }
    }

    /// A store of values that may be `values` into the atom's value.
    fn store(&mut self, container: &Atom, values: &Objs) {
        if self.coarse {
            return;
        }
        let targets = self.pts_of(container);
        let targets = if targets.contains(&Obj::Any) {
            self.objects.clone()
        } else {
            targets
        };
        for o in targets {
            self.add_fields(o, values);
        }
    }

    /// The objects reachable from `roots` are handed to code that may store
    /// into them (a callee, a primitive that runs a closure): what it stores
    /// may be a fresh object the barrier moves into the region, any one.
    fn expose(&mut self, roots: &Objs) {
        if self.coarse {
            return;
        }
        for o in self.reachable(roots) {
            self.add_fields(o, &Objs::from([Obj::Any]));
        }
    }

    /// Whether an allocation site is placed in the scope region.
    fn site_is_local(&self, site: AllocSiteId) -> bool {
        self.sites
            .get(&site)
            .is_some_and(|s| s.level == Lifetime::Local)
    }

    /// Whether `op` allocates in the scope region (an inline op's Float, or
    /// a Float boxed from a raw field, goes to the lazy Float region instead).
    fn allocates_here(&self, op: &Op) -> bool {
        op.float_site().is_none() && op.alloc_site().is_some_and(|s| self.site_is_local(s))
    }

    fn collect(&mut self, b: &Block) {
        for st in &b.stmts {
            if let Op::If { then, els, .. } = &st.op {
                self.collect(then);
                self.collect(els);
            }
            self.stmt(st);
        }
        if let Tail::If { then, els, .. } = &b.tail {
            self.collect(then);
            self.collect(els);
        }
    }

    /// The facts one statement adds.
    fn stmt(&mut self, st: &Stmt) {
        let v = st.var;
        let site = self.allocates_here(&st.op);
        match &st.op {
            Op::Move(a) => self.add_pts(v, self.pts_of(a)),
            // A load gives what the container's fields hold.
            Op::BoxGet(a) => self.add_pts(v, self.load(a)),
            Op::Inline(op, args, _) if op.loads_field() => {
                let objs = self.load(&args[0]);
                self.add_pts(v, objs)
            }
            // Comparisons give booleans; an arithmetic slow path allocates
            // its Float result in the lazy Float region, not this one.
            Op::Inline(..) => {}
            Op::Prim { prim, args, .. } => {
                let ops = self.pts_all(args);
                self.prim(v, *prim, site, &ops, args);
            }
            Op::PrimApplyList { prim, list, .. } => {
                // The arguments are the list's elements.
                let ops = self.reachable(&self.pts_of(list));
                self.prim(v, *prim, site, &ops, &[]);
            }
            Op::Call {
                callee,
                args,
                region,
            } => {
                // The callee may store into whatever its operands reach,
                // and build its result out of those its summary lets reach
                // it (the result itself, or parts of it: any object).
                let mut all = self.pts_of(callee_atom(callee));
                all.extend(self.pts_all(args));
                self.expose(&all);
                let mut returned = self.reachable(&self.call_may_return(callee, args));
                if !returned.is_empty() {
                    returned.insert(Obj::Any);
                }
                if *region == RegionRef::Local(self.local) {
                    let mut inner = returned.clone();
                    if let Some(v) = v {
                        inner.insert(Obj::At(v));
                    }
                    self.alloc(v, inner);
                }
                self.add_pts(v, returned);
            }
            Op::Alloc { what, .. } => {
                let inner = match what {
                    Alloc::Cons(a, d) => self.pts_all(&[*a, *d]),
                    Alloc::Box(a) => self.pts_of(a),
                    Alloc::Closure { free: xs, .. } | Alloc::Array(xs) | Alloc::Dict(xs) => {
                        self.pts_all(xs)
                    }
                };
                if site {
                    self.alloc(v, inner);
                } else if !inner.is_empty() {
                    // An older object holding values of the region (the
                    // analysis never places one so): count it as one.
                    self.add_pts(v, Objs::from([Obj::Any]));
                }
            }
            Op::If { then, els, .. } => {
                let mut ys = Vec::new();
                yields(then, &mut ys);
                yields(els, &mut ys);
                self.add_pts(v, self.pts_all(&ys));
            }
            Op::BoxSet { cell, value, .. } => self.store(cell, &self.pts_of(value)),
            Op::ClosureInit { closure, value, .. } => self.store(closure, &self.pts_of(value)),
            // Made before the region: globals, captured values.
            Op::GlobalGet { .. } | Op::EnvGet(_) => {}
            Op::GlobalSet { .. }
            | Op::RegionCreate
            | Op::RegionCreateLazy
            | Op::RegionExit(_)
            | Op::CheckBound { .. } => {}
            // Inserted by `carry.rs` and `state.rs`, after this pass: never seen here.
            Op::CarryStart { .. }
            | Op::CarryRenew { .. }
            | Op::CarryEnd { .. }
            | Op::StoreRegion { .. } => {}
            Op::StatePins
            | Op::StatePin(_)
            | Op::StatePinMoved { .. }
            | Op::StatePinCurrent
            | Op::StateUnpin
            | Op::StateHold { .. }
            | Op::StateRefresh(_)
            | Op::StateSafepoint => {}
        }
    }

    /// A primitive call: `ops` are the objects of the region its arguments
    /// may be (`args` the arguments, when passed one by one).
    fn prim(&mut self, v: Option<VarId>, prim: PrimId, site: bool, ops: &Objs, args: &[Atom]) {
        let d = prim.desc();
        let shares = d.result == PrimResult::MayShareArgs && !ops.is_empty();
        let mut result = Objs::new();
        if shares {
            // It may return an argument, a part of one, or an object
            // holding parts of them; and it may run a closure (`%try`,
            // `%handle`, dispatch), which may store anywhere.
            result = self.reachable(ops);
            result.insert(Obj::Any);
            self.expose(ops);
        }
        if let PrimEffect::Stores { container, values } = d.effect {
            match args.get(container as usize) {
                Some(c) => {
                    let vals = values
                        .iter()
                        .filter_map(|i| args.get(*i as usize))
                        .flat_map(|a| self.pts_of(a))
                        .collect();
                    self.store(c, &vals);
                }
                None => self.expose(ops),
            }
        }
        if site {
            // Made in the region; a fresh result holds only objects the
            // primitive made there too.
            let mut inner = result.clone();
            if let Some(v) = v {
                inner.insert(Obj::At(v));
            }
            self.alloc(v, inner);
        }
        self.add_pts(v, result);
    }

    /// The objects of the region a call may return (or build its result
    /// from): the operands a known callee's summary lets reach its result
    /// (and its closure), any operand of an unknown one.
    fn call_may_return(&self, callee: &Callee, args: &[Atom]) -> Objs {
        match callee {
            Callee::Known { func, env } => {
                let s = &self.summaries[func.0 as usize];
                let mut out = if s.env_reaches {
                    self.pts_of(env)
                } else {
                    Objs::new()
                };
                for (i, a) in args.iter().enumerate() {
                    if s.param_levels.get(i).is_none_or(|l| *l >= Lifetime::Result) {
                        out.extend(self.pts_of(a));
                    }
                }
                out
            }
            Callee::Unknown(f) => {
                let mut out = self.pts_of(f);
                out.extend(self.pts_all(args));
                out
            }
        }
    }

    /// How a statement uses the scope region, if it does (a non-tail `if`
    /// with all its branches).
    fn stmt_use(&self, st: &Stmt) -> Option<RegionUse> {
        if let Op::Move(_) = st.op {
            // A copy touches no object; the copy's own uses count.
            return None;
        }
        if let Some(v) = st.op.operands().iter().find_map(|a| match a {
            a @ Atom::Var(v) if self.is_local(a) => Some(*v),
            _ => None,
        }) {
            return Some(RegionUse::Var(v));
        }
        if self.allocates_here(&st.op) {
            return Some(RegionUse::Alloc);
        }
        match &st.op {
            Op::Call { region, .. } if *region == RegionRef::Local(self.local) => {
                Some(RegionUse::CallInto)
            }
            Op::If { then, els, .. } if self.block_uses(then) || self.block_uses(els) => {
                Some(RegionUse::Branches)
            }
            _ => None,
        }
    }

    fn block_uses(&self, b: &Block) -> bool {
        b.stmts.iter().any(|st| self.stmt_use(st).is_some()) || self.tail_uses(&b.tail)
    }

    fn tail_uses(&self, t: &Tail) -> bool {
        match t {
            Tail::Return(a) => self.is_local(a),
            // The value of a non-tail `if`: the join variable's uses count.
            Tail::Yield(_) => false,
            Tail::Call { callee, args, .. } => {
                self.is_local(callee_atom(callee)) || args.iter().any(|a| self.is_local(a))
            }
            Tail::If { cond, then, els } => {
                self.is_local(cond) || self.block_uses(then) || self.block_uses(els)
            }
        }
    }

    /// Insert the exit on every path of `b`, a block ending in a return, a
    /// tail call or a tail `if`; record each in `exits`.
    fn place_exits(&self, b: &mut Block, func_loc: LocId, exits: &mut Vec<(LocId, ScopeExit)>) {
        let exit = Stmt {
            var: None,
            op: Op::RegionExit(Atom::Var(self.local)),
            loc: LocId(0),
        };
        if self.tail_uses(&b.tail) {
            let (loc, before) = match &mut b.tail {
                Tail::If { then, els, .. } => {
                    // Each branch exits on its own paths.
                    self.place_exits(then, func_loc, exits);
                    self.place_exits(els, func_loc, exits);
                    return;
                }
                // The tail reads a value that may be in the region (the
                // analysis keeps tail operands at least `Result`, so this
                // is conservative): exit right before it, its operands are
                // already computed.
                Tail::Return(_) => (
                    b.stmts.last().map(|s| s.loc).unwrap_or(func_loc),
                    ExitBefore::Return,
                ),
                Tail::Call { loc, .. } => (*loc, ExitBefore::TailCall),
                Tail::Yield(_) => {
                    unreachable!("a path of a function ends in a return or tail call")
                }
            };
            b.stmts.push(Stmt { loc, ..exit });
            exits.push((loc, ScopeExit::Before(before)));
            return;
        }
        match b.stmts.iter().rposition(|st| self.stmt_use(st).is_some()) {
            Some(i) => {
                let (loc, how) = (b.stmts[i].loc, self.stmt_use(&b.stmts[i]));
                b.stmts.insert(i + 1, Stmt { loc, ..exit });
                exits.push((loc, ScopeExit::AfterLastUse(how.expect("a use"))));
            }
            None => {
                // Nothing on this path uses the region: exit at once.
                let loc = match (&b.stmts.first(), &b.tail) {
                    (Some(st), _) => st.loc,
                    (None, Tail::Call { loc, .. }) => *loc,
                    (None, _) => func_loc,
                };
                b.stmts.insert(0, Stmt { loc, ..exit });
                exits.push((loc, ScopeExit::Unused));
            }
        }
    }

    /// Check the exits of `b` (entered with the region already exited or
    /// not): every path exits exactly once, nothing uses the region after
    /// its exit (the operands of a return or tail call aside: they are
    /// already computed), and no exit sits inside a non-tail `if`.
    fn check(&self, b: &Block, mut exited: bool) -> Result<(), String> {
        let is_exit =
            |st: &Stmt| matches!(&st.op, Op::RegionExit(Atom::Var(v)) if *v == self.local);
        for st in &b.stmts {
            if is_exit(st) {
                if exited {
                    return Err("exited twice on a path".into());
                }
                exited = true;
                continue;
            }
            if exited {
                if let Some(u) = self.stmt_use(st) {
                    return Err(format!("used after its exit ({u:?})"));
                }
            }
            if let Op::If { then, els, .. } = &st.op {
                let mut inside = false;
                for blk in [then, els] {
                    walk_block(blk, &mut |s| inside |= is_exit(s));
                }
                if inside {
                    return Err("exited inside a non-tail `if`".into());
                }
            }
        }
        match &b.tail {
            Tail::If { cond, then, els } => {
                if exited && self.is_local(cond) {
                    return Err("a condition used after the exit".into());
                }
                self.check(then, exited)?;
                self.check(els, exited)
            }
            Tail::Return(_) | Tail::Call { .. } if !exited => {
                Err("a path returns without exiting it".into())
            }
            Tail::Return(_) | Tail::Call { .. } => Ok(()),
            Tail::Yield(_) => Err("a path of the body ends in a yield".into()),
        }
    }
}

fn callee_atom(c: &Callee) -> &Atom {
    match c {
        Callee::Known { env, .. } => env,
        Callee::Unknown(f) => f,
    }
}

/// The atoms a non-tail `if`'s branch may yield.
fn yields(b: &Block, out: &mut Vec<Atom>) {
    match &b.tail {
        Tail::Yield(a) => out.push(*a),
        Tail::If { then, els, .. } => {
            yields(then, out);
            yields(els, out);
        }
        Tail::Return(_) | Tail::Call { .. } => {}
    }
}

#[cfg(test)]
mod tests {
    use crate::ir::print::FunctionDisplay;
    use crate::ir::{Function, FunctionKind};

    /// The IR after CTRR of the function `name` defined in `src` (after the
    /// real prelude), one statement a line, trimmed.
    fn ir_of(src: &str, name: &str) -> Vec<String> {
        let (sm, ast) = crate::expand::expand_with_prelude(src);
        let mut prog = crate::ir::lower::lower_program(&ast.expect("expands"), &sm);
        let _ = crate::ctrr::run(&mut prog);
        // A loop given a carry region (`carry.rs`) has its body in the
        // `CarryLoop` function of the same name.
        let named = |f: &&Function| f.name == name && prog.locs[f.loc.0 as usize].file == "t.omni";
        let func = prog
            .functions
            .iter()
            .filter(named)
            .max_by_key(|f| f.kind == FunctionKind::CarryLoop)
            .unwrap_or_else(|| panic!("no function {name}"));
        FunctionDisplay {
            prog: &prog,
            func,
            stable: true,
        }
        .to_string()
        .lines()
        .map(|l| l.trim().to_string())
        .collect()
    }

    /// The index of the only line containing `needle`.
    fn line(ir: &[String], needle: &str) -> usize {
        let found: Vec<usize> = (0..ir.len()).filter(|i| ir[*i].contains(needle)).collect();
        assert_eq!(found.len(), 1, "{needle:?} in\n{}", ir.join("\n"));
        found[0]
    }

    /// The lines exiting the scope region (not the lazy Float region).
    fn exits(ir: &[String]) -> Vec<usize> {
        let Some(scope) = ir.iter().find_map(|l| l.strip_suffix(" = region-create")) else {
            return Vec::new();
        };
        let exit = format!("region-exit {scope}");
        (0..ir.len()).filter(|i| ir[*i] == exit).collect()
    }

    /// `h` allocates (so a too-early exit would let it reuse the memory).
    const H: &str = "(define h [n] (length (list n n n)))\n";

    /// `g` of `src` (after `H`) exits its scope region once, right after the
    /// line containing `anchor`, and after the call of `h` when `kept` (the
    /// region outlives it) or before it.
    fn assert_one_exit_after(src: &str, anchor: &str, kept: bool) {
        let ir = ir_of(&format!("{H}{src}"), "g");
        let text = ir.join("\n");
        let ex = exits(&ir);
        assert_eq!(ex.len(), 1, "{text}");
        assert_eq!(ex[0], line(&ir, anchor) + 1, "{text}");
        assert_eq!(ex[0] > line(&ir, "call known <h>"), kept, "{text}");
    }

    #[test]
    fn non_tail_recursion_exits_before_recursing() {
        let ir = ir_of(
            "(define walk [n] (if (= n 0) 0 (let [tmp (range 1000)] (+ (length tmp) (walk (- n 1))))))",
            "walk",
        );
        let ex = exits(&ir);
        assert_eq!(ex.len(), 2, "{}", ir.join("\n"));
        // The base case does not use the region: it exits at once.
        assert_eq!(ir[ex[0] - 1], "if v1 {", "{}", ir.join("\n"));
        // The other path: right after `length`, before the recursive call.
        assert_eq!(ex[1], line(&ir, "prim length") + 1, "{}", ir.join("\n"));
        assert!(ex[1] < line(&ir, "call known <walk>"), "{}", ir.join("\n"));
    }

    #[test]
    fn a_load_of_an_older_field_does_not_keep_the_region() {
        // `(car p)` is `n`, a parameter: not in the region.
        let ir = ir_of(
            "(define f [n] (if (= n 0) 0 (let [p (cons n n)] (+ (car p) (f (- n 1))))))",
            "f",
        );
        let ex = exits(&ir);
        assert_eq!(ex[1], line(&ir, "Car") + 1, "{}", ir.join("\n"));
        assert!(ex[1] < line(&ir, "call known <f>"), "{}", ir.join("\n"));
    }

    #[test]
    fn a_load_of_a_local_field_keeps_the_region() {
        let ir = ir_of(
            &format!("{H}(define g [n] (let [p (cons (list n n) n)] (let [q (car p)] (+ (h n) (length q)))))"),
            "g",
        );
        let ex = exits(&ir);
        assert_eq!(ex.len(), 1, "{}", ir.join("\n"));
        assert!(ex[0] > line(&ir, "call known <h>"), "{}", ir.join("\n"));
        assert_eq!(ex[0], line(&ir, "prim length") + 1, "{}", ir.join("\n"));
    }

    #[test]
    fn a_non_tail_if_using_the_region_exits_after_it() {
        let ir = ir_of(
            &format!(
                "{H}(define g [n] (let [xs (list n n)] (+ (if (> n 0) (length xs) 0) (h n))))"
            ),
            "g",
        );
        let ex = exits(&ir);
        assert_eq!(ex.len(), 1, "{}", ir.join("\n"));
        // Right after the `if` (its closing brace), before `h`.
        assert_eq!(ir[ex[0] - 1], "}", "{}", ir.join("\n"));
        assert!(ex[0] > line(&ir, "prim length"), "{}", ir.join("\n"));
        assert!(ex[0] < line(&ir, "call known <h>"), "{}", ir.join("\n"));
    }

    #[test]
    fn a_value_joined_out_of_an_if_keeps_the_region() {
        assert_one_exit_after(
            "(define g [n] (let [a (list 1 2)] (let [b (list 3)] (let [c (if (> n 0) a b)] (+ (h n) (length c))))))",
            "prim length",
            true,
        );
    }

    #[test]
    fn a_closure_capturing_a_local_value_keeps_the_region_until_called() {
        assert_one_exit_after(
            "(define g [n] (let [xs (list n n)] (let [k (fn [] (length xs))] (+ (h n) (k)))))",
            "call known <lambda>",
            true,
        );
    }

    #[test]
    fn a_call_returning_its_argument_keeps_the_region() {
        assert_one_exit_after(
            "(define id [x] x)\n(define g [n] (let [xs (list n n)] (let [ys (id xs)] (+ (h n) (length ys)))))",
            "prim length",
            true,
        );
    }

    #[test]
    fn a_call_not_returning_its_argument_does_not_keep_the_region() {
        // `count`'s result is an integer: its summary says `xs` does not
        // reach it.
        let ir = ir_of(
            &format!(
                "{H}(define count [x] (length x))\n(define g [n] (let [xs (list n n)] (let [c (count xs)] (+ (h n) c))))"
            ),
            "g",
        );
        let ex = exits(&ir);
        assert_eq!(
            ex[0],
            line(&ir, "call known <count>") + 1,
            "{}",
            ir.join("\n")
        );
    }

    #[test]
    fn a_mutated_local_object_keeps_the_region_for_its_loads() {
        // `fill!` stores a fresh list into the box (the barrier moves it into
        // the box's region, the scope region): the load after it is local.
        assert_one_exit_after(
            "(define fill! [b] (set-box! b (list 1 2 3)))\n(define g [n] (let [b (box 0)] (fill! b) (let [c (unbox b)] (+ (h n) (length c)))))",
            "prim length",
            true,
        );
    }

    #[test]
    fn a_try_body_capturing_a_local_value_keeps_the_region_until_it_ran() {
        let ir = ir_of(
            &format!("{H}(define g [n] (let [xs (list n n)] (try (println (length xs)) (catch e 0)) (h n)))"),
            "g",
        );
        let ex = exits(&ir);
        assert_eq!(ex.len(), 1, "{}", ir.join("\n"));
        // Right after the `%try` (and the state pass's refresh of its result).
        let after_try = (line(&ir, "prim %try") + 1..ir.len())
            .find(|&i| !ir[i].trim_start().starts_with("state-"))
            .unwrap();
        assert_eq!(ex[0], after_try, "{}", ir.join("\n"));
        assert!(ex[0] < line(&ir, "call known <h>"), "{}", ir.join("\n"));
    }

    #[test]
    fn a_function_with_many_objects_is_analysed_coarsely_and_soundly() {
        // 300 conses: more than `PRECISE_OBJECTS`, every load is local.
        let items: Vec<String> = (0..300).map(|i| i.to_string()).collect();
        let ir = ir_of(
            &format!(
                "{H}(define g [n] (let [xs (list {})] (let [p (cons xs n)] (+ (h n) (length (car p))))))",
                items.join(" ")
            ),
            "g",
        );
        let ex = exits(&ir);
        assert_eq!(ex.len(), 1, "{}", ir.join("\n"));
        assert_eq!(ex[0], line(&ir, "prim length") + 1, "{}", ir.join("\n"));
        assert!(ex[0] > line(&ir, "call known <h>"), "{}", ir.join("\n"));
    }

    #[test]
    fn a_tail_if_exits_on_each_branch_and_a_tail_loop_every_iteration() {
        let ir = ir_of(
            "(define loop [i acc] (if (= i 0) acc (loop (- i 1) (+ acc (length (range 10))))))",
            "loop",
        );
        let ex = exits(&ir);
        assert_eq!(ex.len(), 2, "{}", ir.join("\n"));
        assert_eq!(ex[1], line(&ir, "prim length") + 1, "{}", ir.join("\n"));
        assert!(ex[1] < line(&ir, "tail-call"), "{}", ir.join("\n"));
    }
}
