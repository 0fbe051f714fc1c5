//! The CTRR analysis: for every variable of every function, how long its
//! value must live, computed backwards from the places values go.
//!
//! The fact per variable is a [`Lifetime`]: `Local` (dies with the
//! function's scope region), `Result` (must live in the caller-supplied
//! result region or an older one) or `Global`. It is computed over
//! "outlives" edges `a ⊒ b` ("a must live at least as long as b") from moves
//! and joins, construction (an object's fields outlive the object), loads
//! (what is read from a container lives no shorter than the container — the
//! store barrier keeps that invariant for mutations), and calls (an argument
//! outlives the call's result when the callee's summary says the parameter
//! must outlive its result region; for unknown callees every argument and the
//! callee itself). Mutations and non-top-level global stores add no edge: the
//! store barrier repairs them at run time.
//!
//! A function's [`Summary`] lists the parameters (and captured values) that
//! must live at least as long as its result region — returned, passed to a
//! tail call, or built into something that is — so that callers place those
//! arguments accordingly: that is the induction that makes constructing an
//! object in the result region from parameters sound. Summaries also say
//! whether the function allocates in its result region at all. They are
//! computed to a fixed point over the strongly connected components of the
//! call graph (petgraph).

use crate::ir::visit::{known_callees, walk_block, walk_tails};
use crate::ir::*;
use omni_runtime::prims::{PrimEffect, PrimResult};
use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// A map keyed by [`Node`], hashed with [`NodeHasher`].
pub type NodeMap<V> = HashMap<Node, V, BuildHasherDefault<NodeHasher>>;

/// A multiplicative hash (FxHash's) for the small integer keys of the
/// value-flow graph: the analysis builds several maps per function and
/// round, and std's default SipHash, meant to resist chosen keys, made
/// hashing a sixth of its time (issue 13). The keys are variable numbers
/// of the compiler's own IR, not input an attacker picks.
#[derive(Default)]
pub struct NodeHasher(u64);

impl Hasher for NodeHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }

    fn write_isize(&mut self, n: isize) {
        self.write_u64(n as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// How long a value must live.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Lifetime {
    /// Only while the current function activation runs.
    Local,
    /// Beyond the activation: in the caller-supplied result region (or older).
    Result,
    /// For the rest of the program.
    Global,
}

/// Which inputs of a function may flow to its result.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Per fixed parameter, then the rest parameter if any: how long the
    /// argument must live. `Result`: at least as long as the result region
    /// passed to the call (returned, or built into something that is, or
    /// stored into a parameter that is). `Global`: the callee stores it,
    /// on every path, into a container of the global region (a store
    /// constraint), so the caller builds it there.
    pub param_levels: Vec<Lifetime>,
    /// The same for the closure's captured values.
    pub env_reaches: bool,
    /// The function may allocate in the result region its caller passes
    /// (directly or through callees). When it cannot, a caller that only
    /// uses the result locally passes its own result region instead of
    /// creating a scope region for the call.
    pub result_allocs: bool,
}

impl Summary {
    /// Whether a call of `callee` may allocate in the region passed for its result.
    pub fn callee_allocs(summaries: &[Summary], callee: &Callee) -> bool {
        match callee {
            Callee::Known { func, .. } => summaries[func.0 as usize].result_allocs,
            Callee::Unknown(_) => true,
        }
    }
}

/// A value-flow graph node of one function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Node {
    Var(VarId),
    /// The function's own closure (its captured values).
    Env,
}

/// Why a variable got its lifetime (shown by `--dump-ctrr`).
#[derive(Clone, Debug, PartialEq)]
pub enum Cause {
    /// Returned from the function.
    Returned,
    /// Passed to a call in tail position: it must survive the local region's exit.
    TailArgument,
    /// Defined by a top-level form as a global's value.
    TopLevelDefine,
    /// Flows into another value with this lifetime.
    FlowsInto(Node),
    /// Stored, on every path after it is made, into a container that lives
    /// in a region of this lifetime (a store constraint: built there, the
    /// store needs no repair).
    StoredInto { loc: LocId, container: Container },
    /// Passed to a callee that stores that parameter into a container of the
    /// global region (the callee's summary).
    StoredByCallee { loc: LocId, callee: FuncId },
}

/// What a store constraint stored into (for `--dump-ctrr`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Container {
    /// A global variable itself (`set!` of a global).
    Global(GlobalId),
    /// An object read from a global variable.
    ObjectOfGlobal(GlobalId),
    /// Another object (a parameter, a captured box, one built here).
    Object,
}

/// The facts for one function.
#[derive(Clone, Debug)]
pub struct FunctionFacts {
    pub level: NodeMap<Lifetime>,
    pub cause: NodeMap<Cause>,
}

impl FunctionFacts {
    pub fn level_of(&self, n: Node) -> Lifetime {
        self.level.get(&n).copied().unwrap_or(Lifetime::Local)
    }

    /// The causes of `n`'s lifetime, following `FlowsInto` (at most 8 steps).
    pub fn cause_chain(&self, n: Node) -> Vec<Cause> {
        let mut chain = Vec::new();
        let mut cur = n;
        for _ in 0..8 {
            let Some(cause) = self.cause.get(&cur) else {
                break;
            };
            chain.push(cause.clone());
            match cause {
                Cause::FlowsInto(next) => cur = *next,
                _ => break,
            }
        }
        chain
    }
}

/// Whole-program result of the analysis.
pub struct Analysis {
    pub summaries: Vec<Summary>,
    pub facts: Vec<FunctionFacts>,
}

/// Whether the primitive's result never shares structure with its
/// arguments (the table of primitive facts, `omni_runtime::prims::PRIMS`).
fn prim_result_is_fresh(prim: PrimId) -> bool {
    prim.desc().result == PrimResult::Fresh
}

/// Run the analysis over the whole program.
pub fn analyse(prog: &Program) -> Analysis {
    let n = prog.functions.len();
    let mut summaries: Vec<Summary> = prog
        .functions
        .iter()
        .map(|f| Summary {
            param_levels: vec![Lifetime::Local; f.params.len() + f.rest.is_some() as usize],
            env_reaches: false,
            result_allocs: false,
        })
        .collect();

    // The literal keys that name raw Float fields (`prim_stores`).
    let raw_keys = prog.raw_float_keys();
    // Which functions renew the global state through their own stores or
    // their known callees' (a top-level definition by their result is
    // built outside it: `Constraints::effect`).
    let may_renew = super::state::analyse(prog).renews_itself;
    // Call graph over known calls; SCCs come callee-first.
    let mut graph: DiGraph<FuncId, ()> = DiGraph::new();
    let nodes: Vec<NodeIndex> = prog
        .functions
        .iter()
        .map(|f| graph.add_node(f.id))
        .collect();
    for f in &prog.functions {
        for callee in known_callees(&f.body) {
            graph.add_edge(nodes[f.id.0 as usize], nodes[callee.0 as usize], ());
        }
    }
    // Each function's facts from the last round of its component: no
    // summary changed in that round, so they were solved with the final
    // summaries, as solving again after the loop would (which was a third
    // of CTRR's time: issue 13).
    let mut facts: Vec<Option<FunctionFacts>> = vec![None; n];
    for scc in tarjan_scc(&graph) {
        loop {
            let mut changed = false;
            for node in &scc {
                let i = graph[*node].0 as usize;
                let f = solve(&prog.functions[i], &summaries, &raw_keys, &may_renew);
                let s = summary_of(&prog.functions[i], &f, &summaries);
                if s != summaries[i] {
                    summaries[i] = s;
                    changed = true;
                }
                facts[i] = Some(f);
            }
            if !changed {
                break;
            }
        }
    }
    let facts = facts
        .into_iter()
        .enumerate()
        .map(|(i, f)| {
            f.unwrap_or_else(|| solve(&prog.functions[i], &summaries, &raw_keys, &may_renew))
        })
        .collect();
    Analysis { summaries, facts }
}

fn summary_of(f: &Function, facts: &FunctionFacts, summaries: &[Summary]) -> Summary {
    let outlives_call = |n: Node| facts.level_of(n) >= Lifetime::Result;
    let level = |v: Option<VarId>| {
        v.map(|v| facts.level_of(Node::Var(v)))
            .unwrap_or(Lifetime::Local)
    };
    // The Float of an inline `+ - *` placed in the result region counts only
    // in a loop (a function that tail-calls itself) that carries it into
    // its next iteration, where one is made per iteration: its callers then
    // pass a scope region, so the loop's intermediate Floats die with the
    // call. Counted everywhere, every function returning a sum would cost
    // its callers a region per call (fib: one per frame); the one Float a
    // call returns is left in the caller's result region, as before
    // (docs/CTRR.md).
    // Precisely: a Float the loop carries into its next iteration in a
    // parameter that outlives the call (an accumulator it returns). One it
    // returns, or carries in a counter it never returns (`(- i 1)`), is
    // made once per call or dies with the next iteration's scope.
    let mut carried: Vec<(Atom, VarId)> = Vec::new();
    let mut is_loop = false;
    walk_tails(&f.body, &mut |t| {
        if let Tail::Call {
            callee: Callee::Known { func, .. },
            args,
            ..
        } = t
        {
            if *func == f.id {
                is_loop = true;
                carried.extend(args.iter().copied().zip(f.params.iter().copied()));
            }
        }
    });
    let inline_counts = |v: Option<VarId>| -> bool {
        let Some(v) = v else { return false };
        // Stored into an object that outlives the call (a parameter's
        // field, nbody's `(put! b.vx ...)`): one is made per call and the
        // replaced one stays behind, in the caller's result region up to
        // the immortal global region when nobody gives a scope region.
        // Stored directly or through copies (`(let [x (+ ...)] (put! b.x x))`).
        if matches!(
            facts.cause_chain(Node::Var(v)).last(),
            Some(Cause::StoredInto { .. })
        ) {
            return true;
        }
        if !is_loop {
            return false;
        }
        // Carried into the next iteration in a parameter that outlives the
        // call: one such Float per iteration would pile up.
        matches!(facts.cause.get(&Node::Var(v)), Some(Cause::TailArgument))
            && carried.iter().any(|(a, p)| {
                *a == Atom::Var(v) && facts.level_of(Node::Var(*p)) >= Lifetime::Result
            })
    };
    let mut result_allocs = false;
    walk_block(&f.body, &mut |st| match &st.op {
        // A Float temporary (an inline op's, or one boxed from a raw Float
        // field by `get`) counts only as `inline_counts` says.
        op if (matches!(op, Op::Inline(..)) || op.float_site().is_some())
            && !inline_counts(st.var) => {}
        op if op.alloc_site().is_some() => {
            result_allocs |= level(st.var) == Lifetime::Result;
        }
        Op::Call { callee, .. } => {
            result_allocs |=
                level(st.var) == Lifetime::Result && Summary::callee_allocs(summaries, callee);
        }
        _ => {}
    });
    walk_tails(&f.body, &mut |t| {
        if let Tail::Call { callee, .. } = t {
            result_allocs |= Summary::callee_allocs(summaries, callee);
        }
    });
    Summary {
        param_levels: f
            .params
            .iter()
            .chain(f.rest.iter())
            .map(|v| facts.level_of(Node::Var(*v)))
            .collect(),
        env_reaches: outlives_call(Node::Env),
        result_allocs,
    }
}

/// Constraints of one function.
#[derive(Default)]
struct Constraints<'a> {
    /// `(from, to)`: `to` must outlive `from`.
    edges: Vec<(Node, Node)>,
    level_base: Vec<(Node, Lifetime, Cause)>,
    /// The block (numbered in walk order, 0 = the body) each variable is
    /// defined in; parameters and the closure belong to block 0.
    def_block: NodeMap<u32>,
    /// How each variable was produced, for the region it lives in (origins).
    produced: Vec<(VarId, Produced)>,
    /// Stores into existing objects: candidates for store constraints.
    stores: Vec<Store>,
    /// Arguments passed to a parameter the callee stores into the global
    /// region: `(argument, block of the call, loc, callee)`.
    stored_by_callee: Vec<(Node, u32, LocId, FuncId)>,
    blocks: u32,
    /// The constants naming raw Float fields (`Program::raw_float_fields`).
    raw_keys: HashSet<ConstId>,
    /// Variables holding the result of a non-tail call that may renew the
    /// global state (directly or through copies): a top-level definition
    /// of one is not built in the state.
    call_results: HashSet<VarId>,
    /// Per function: whether it renews the global state through its own
    /// stores or its known callees' (`state::StateFacts::renews_itself`;
    /// a function not listed may).
    may_renew: &'a [bool],
}

/// How a variable's value was produced (what `origins` needs).
enum Produced {
    /// Read from a global variable.
    Global(GlobalId),
    /// A copy of, or read from inside of, these atoms: it lives where they do
    /// (the older-only store rule makes an object's contents at least as old).
    From(Vec<Atom>),
}

/// A store of `value` into `container` (a mutation primitive, `set!` of a
/// captured variable or of a global).
struct Store {
    container: StoreInto,
    value: Atom,
    block: u32,
    loc: LocId,
}

enum StoreInto {
    Atom(Atom),
    Global(GlobalId),
}

fn atom_node(a: &Atom) -> Option<Node> {
    match a {
        Atom::Var(v) => Some(Node::Var(*v)),
        Atom::SelfClosure => Some(Node::Env),
        Atom::Imm(_) | Atom::Const(_) => None,
    }
}

impl Constraints<'_> {
    fn outlives(&mut self, longer: &Atom, shorter: Node) {
        if let Some(n) = atom_node(longer) {
            self.edges.push((shorter, n));
        }
    }

    fn call(
        &mut self,
        summaries: &[Summary],
        callee: &Callee,
        args: &[Atom],
        result: Node,
        block: u32,
        loc: LocId,
    ) {
        match callee {
            Callee::Known { func, env } => {
                let s = &summaries[func.0 as usize];
                for (a, level) in args.iter().zip(s.param_levels.iter()) {
                    if *level >= Lifetime::Result {
                        self.outlives(a, result);
                    }
                    if *level == Lifetime::Global {
                        if let Some(n) = atom_node(a) {
                            self.stored_by_callee.push((n, block, loc, *func));
                        }
                    }
                }
                if s.env_reaches {
                    self.outlives(env, result);
                }
            }
            Callee::Unknown(f) => {
                self.outlives(f, result);
                for a in args {
                    self.outlives(a, result);
                }
            }
        }
    }

    fn tail_call(
        &mut self,
        summaries: &[Summary],
        callee: &Callee,
        args: &[Atom],
        block: u32,
        loc: LocId,
    ) {
        // Every operand of a tail call must survive the scope region's exit.
        let callee_atom = match callee {
            Callee::Known { env, .. } => env,
            Callee::Unknown(f) => f,
        };
        for a in args.iter().chain(std::iter::once(callee_atom)) {
            if let Some(n) = atom_node(a) {
                self.level_base
                    .push((n, Lifetime::Result, Cause::TailArgument));
            }
        }
        if let Callee::Known { func, .. } = callee {
            let s = &summaries[func.0 as usize];
            for (a, level) in args.iter().zip(s.param_levels.iter()) {
                if let (Lifetime::Global, Some(n)) = (level, atom_node(a)) {
                    self.stored_by_callee.push((n, block, loc, *func));
                }
            }
        }
    }

    fn store(&mut self, container: StoreInto, value: &Atom, block: u32, loc: LocId) {
        if atom_node(value).is_some() {
            self.stores.push(Store {
                container,
                value: *value,
                block,
                loc,
            });
        }
    }

    fn block(&mut self, f: &Function, summaries: &[Summary], b: &Block, join: Option<Node>) {
        let here = self.blocks;
        self.blocks += 1;
        for st in &b.stmts {
            let Some(v) = st.var else {
                self.effect(f, summaries, st, here);
                continue;
            };
            let d = Node::Var(v);
            self.def_block.insert(d, here);
            match &st.op {
                Op::Move(a) => {
                    self.outlives(a, d);
                    self.produced.push((v, Produced::From(vec![*a])));
                    if matches!(a, Atom::Var(x) if self.call_results.contains(x)) {
                        self.call_results.insert(v);
                    }
                }
                Op::Inline(op, args, _) => {
                    if op.loads_field() {
                        self.outlives(&args[0], d);
                        self.produced.push((v, Produced::From(vec![args[0]])));
                    }
                }
                Op::Prim { prim, args, .. } => {
                    if !prim_result_is_fresh(*prim) {
                        for a in args {
                            self.outlives(a, d);
                        }
                        if !args.is_empty() {
                            self.produced.push((v, Produced::From(args.clone())));
                        }
                    }
                    if !st.op.is_raw_float_put(&self.raw_keys) {
                        self.prim_stores(*prim, args, here, st.loc);
                    }
                }
                Op::PrimApplyList { prim, list, .. } => {
                    if !prim_result_is_fresh(*prim) {
                        self.outlives(list, d);
                    }
                }
                Op::Call { callee, args, .. } => {
                    let renews = match callee {
                        Callee::Known { func, .. } => {
                            self.may_renew.get(func.0 as usize).copied().unwrap_or(true)
                        }
                        Callee::Unknown(_) => false,
                    };
                    if renews {
                        self.call_results.insert(v);
                    }
                    self.call(summaries, callee, args, d, here, st.loc)
                }
                Op::Alloc { what, .. } => match what {
                    Alloc::Cons(a, b) => {
                        self.outlives(a, d);
                        self.outlives(b, d);
                    }
                    Alloc::Box(a) => self.outlives(a, d),
                    Alloc::Closure { free: xs, .. } | Alloc::Array(xs) | Alloc::Dict(xs) => {
                        for a in xs {
                            self.outlives(a, d);
                        }
                    }
                },
                Op::If { then, els, .. } => {
                    self.block(f, summaries, then, Some(d));
                    self.block(f, summaries, els, Some(d));
                }
                Op::GlobalGet { global, .. } => {
                    self.produced.push((v, Produced::Global(*global)));
                }
                Op::CheckBound { .. } | Op::RegionCreate | Op::RegionCreateLazy => {}
                Op::EnvGet(_) => self.edges.push((d, Node::Env)),
                Op::BoxGet(cell) => {
                    self.outlives(cell, d);
                    self.produced.push((v, Produced::From(vec![*cell])));
                }
                _ => self.effect(f, summaries, st, here),
            }
        }
        match &b.tail {
            Tail::Return(a) => {
                if let Some(n) = atom_node(a) {
                    self.level_base.push((n, Lifetime::Result, Cause::Returned));
                }
            }
            Tail::Yield(a) => {
                if let Some(j) = join {
                    self.outlives(a, j);
                }
            }
            Tail::Call { callee, args, loc } => self.tail_call(summaries, callee, args, here, *loc),
            Tail::If { then, els, .. } => {
                self.block(f, summaries, then, join);
                self.block(f, summaries, els, join);
            }
        }
    }

    /// The stores a primitive performs (the table of primitive facts). Its
    /// callers leave out a `put!` into a raw Float field
    /// (`Op::is_raw_float_put`): it stores the Float's bits, not the
    /// object, so no store constraint: the Float stays a temporary (not a
    /// result allocation: nbody's `pair-advance` needs no carry region).
    fn prim_stores(&mut self, prim: PrimId, args: &[Atom], block: u32, loc: LocId) {
        if let PrimEffect::Stores { container, values } = prim.desc().effect {
            let Some(c) = args.get(container as usize) else {
                return;
            };
            for &i in values {
                if let Some(v) = args.get(i as usize) {
                    self.store(StoreInto::Atom(*c), v, block, loc);
                }
            }
        }
    }

    /// Statements whose value is not used as a variable.
    fn effect(&mut self, f: &Function, summaries: &[Summary], st: &Stmt, block: u32) {
        match &st.op {
            // A top-level definition by the result of a call that renews
            // the state through its own stores or its known callees'
            // (`(define value (parse doc))`, not `map` or `foldl`, whose
            // closures may or may not) does not build it in
            // the state: the call gets the form's scope region, and the
            // definition's store barrier merges that region into the state
            // (O(chunks) and a scan of the value, for 1 MB or more) or
            // copies the value (a smaller one). Built in the state, the
            // value was there while the call ran past its safe points: each
            // renewal during the call retired the version holding the
            // half-built value, and refreshes copied it into the next one
            // (json: 66 MB of copies of the parsed document). A call that
            // cannot renew still builds in the state (rbtree's tree: the
            // merge's scan would cost 7% of the run for no copy saved).
            Op::GlobalSet {
                value: Atom::Var(v),
                ..
            } if f.kind == FunctionKind::TopLevel && self.call_results.contains(v) => {}
            Op::GlobalSet { value, .. } if f.kind == FunctionKind::TopLevel => {
                if let Some(n) = atom_node(value) {
                    self.level_base
                        .push((n, Lifetime::Global, Cause::TopLevelDefine));
                }
            }
            Op::GlobalSet { global, value, .. } => {
                self.store(StoreInto::Global(*global), value, block, st.loc);
            }
            Op::BoxSet { cell, value, .. } => {
                self.store(StoreInto::Atom(*cell), value, block, st.loc);
            }
            Op::Prim { prim, args, .. } if !st.op.is_raw_float_put(&self.raw_keys) => {
                self.prim_stores(*prim, args, block, st.loc)
            }
            Op::Call { callee, args, .. } => {
                // A call whose result is unused: its stores still count.
                let sink = Node::Var(VarId(u32::MAX));
                self.call(summaries, callee, args, sink, block, st.loc);
            }
            Op::ClosureInit { closure, value, .. } => {
                if let Some(c) = atom_node(closure) {
                    self.outlives(value, c);
                }
            }
            Op::If { then, els, .. } => {
                self.block(f, summaries, then, None);
                self.block(f, summaries, els, None);
            }
            _ => {}
        }
    }
}

/// Where each variable's value lives at least (its region's lifetime):
/// never shorter than the lifetime it must have (CTRR placed it so), and
/// `Global` for what is read from a global or out of an object of the
/// global region. Also the global a value was read from, for the dump.
fn origins(
    c: &Constraints,
    level: &NodeMap<Lifetime>,
) -> HashMap<VarId, (Lifetime, Option<GlobalId>)> {
    let level_of = |v: VarId| level.get(&Node::Var(v)).copied().unwrap_or(Lifetime::Local);
    let mut out: HashMap<VarId, (Lifetime, Option<GlobalId>)> = HashMap::new();
    for (v, how) in &c.produced {
        let derived = match how {
            Produced::Global(g) => (Lifetime::Global, Some(*g)),
            Produced::From(atoms) => atoms
                .iter()
                .map(|a| match a {
                    Atom::Var(x) => out.get(x).copied().unwrap_or((level_of(*x), None)),
                    Atom::Const(_) | Atom::Imm(_) => (Lifetime::Global, None),
                    Atom::SelfClosure => (Lifetime::Local, None),
                })
                .min_by_key(|(l, _)| *l)
                .unwrap_or((Lifetime::Local, None)),
        };
        let own = level_of(*v);
        out.insert(
            *v,
            if derived.0 >= own {
                derived
            } else {
                (own, None)
            },
        );
    }
    out
}

/// The parameters of `f` that each tail call passing them at all is a self
/// call passing them back in their own place (`(loop (+ i 1) d)` for `d`):
/// such a parameter holds the caller's value in every iteration.
pub fn passed_back_in_place(f: &Function) -> HashSet<VarId> {
    let mut out: HashSet<VarId> = HashSet::new();
    let mut elsewhere: HashSet<VarId> = HashSet::new();
    walk_tails(&f.body, &mut |t| {
        let Tail::Call { callee, args, .. } = t else {
            return;
        };
        let self_call = matches!(callee, Callee::Known { func, .. } if *func == f.id);
        if let Callee::Known {
            env: Atom::Var(v), ..
        }
        | Callee::Unknown(Atom::Var(v)) = callee
        {
            elsewhere.insert(*v);
        }
        for (i, a) in args.iter().enumerate() {
            let Atom::Var(v) = a else { continue };
            if self_call && f.params.get(i) == Some(v) {
                out.insert(*v);
            } else {
                elsewhere.insert(*v);
            }
        }
    });
    out.retain(|v| !elsewhere.contains(v));
    out
}

/// The variables of `f` whose values may reach its result region: returned,
/// passed to a tail call, or built or passed (per the callee summaries) into
/// something that is. Unlike the levels, a store into the global state does
/// not count (the state region is not the result region).
///
/// `in_place`: the parameters the function passes back only in their own
/// place (`passed_back_in_place`).
pub fn reaching_result(
    f: &Function,
    summaries: &[Summary],
    in_place: &HashSet<VarId>,
) -> HashSet<VarId> {
    let mut c = Constraints::default();
    c.block(f, summaries, &f.body, None);
    let mut succ: NodeMap<Vec<Node>> = NodeMap::default();
    for (from, to) in &c.edges {
        succ.entry(*from).or_default().push(*to);
    }
    // A parameter a loop only ever passes back in its own place is the
    // caller's value in every iteration: it reaches the result region only
    // if the body uses it so, not by being carried to the next iteration.
    let base: Vec<(Node, Lifetime, Cause)> = c
        .level_base
        .into_iter()
        .filter(|(n, _, why)| match why {
            Cause::Returned => true,
            Cause::TailArgument => !matches!(n, Node::Var(v) if in_place.contains(v)),
            _ => false,
        })
        .collect();
    let (level, _) = propagate(&base, &succ);
    level
        .into_iter()
        .filter_map(|(n, l)| match n {
            Node::Var(v) if l >= Lifetime::Result => Some(v),
            _ => None,
        })
        .collect()
}

/// For a loop that is about to get a carry region (`carry.rs`): the
/// variables among `result_placed` (the allocations and call results `f`
/// places in its result region, which the carry pass would move to the
/// carry region) that may stay in the *real* result region instead,
/// because the loop only stores them into a container that lives there.
///
/// `(records (+ i 1) n a)` after `(push! a (record i))`: the record is a
/// `Result` value only because it is stored into `a`, a parameter the loop
/// passes on unchanged (so the caller's object, in the result region or an
/// older one). Built in the carry region, the `push!` barrier must copy it
/// out into `a`'s region (the carry region's renewal would free it: `a` is
/// older than the carry region); built in the result region, the barrier
/// finds it as old as `a` and copies nothing. A variable `w` qualifies when:
///
/// - it does not reach the loop's result or a tail call (it is not carried:
///   a carried value belongs in the carry region, where renewal bounds it);
/// - it is stored, on every path after it is made (the block that defines
///   it, as for store constraints), into a container that is not in the
///   carry region: an invariant parameter (every self tail call passes it
///   on unchanged), the closure, a value read from a global, or read out of
///   one of these (contents are at least as old as their container), or it
///   is built into such a stored value (a field of it): the container keeps
///   it alive anyway, so the carry region could not reclaim it; and a
///   replaced one costs what the barrier's copy into the container's
///   region did;
/// - nothing it points to (its outlives successors, transitively) may be
///   in the carry region: no other result-placed variable that does not
///   qualify, no parameter that is not invariant. Otherwise an object of
///   the result region would point into the younger carry region, which a
///   renewal may free (the Region Closure Property). Nor may it point to a
///   value the loop read from a global, a box or its closure: one of a
///   state version would be held by nothing once the loop's pin moves on.
///
/// The last condition is iterated to a fixed point (removing one variable
/// may disqualify those that point to it). The variables in `never` (the
/// caller's choice: Floats) stay where they were placed.
pub fn stays_in_result(
    f: &Function,
    summaries: &[Summary],
    raw_keys: &HashSet<ConstId>,
    result_placed: &HashSet<VarId>,
    never: &HashSet<VarId>,
) -> HashSet<VarId> {
    let (c, succ) = flow_graph(f, summaries, raw_keys, &[]);
    // Carried or returned: reaches the result region (as `reaching_result`).
    let base: Vec<(Node, Lifetime, Cause)> = c
        .level_base
        .iter()
        .filter(|(_, _, why)| matches!(why, Cause::Returned | Cause::TailArgument))
        .cloned()
        .collect();
    let (carried, _) = propagate(&base, &succ);
    let is_carried = |n: &Node| carried.get(n).is_some_and(|l| *l >= Lifetime::Result);
    // Immediate results: an Int or boolean operation without a Float site
    // holds no pointer, whatever iteration made it.
    let mut immediate: HashSet<VarId> = HashSet::new();
    walk_block(&f.body, &mut |st| {
        if let (Some(v), Op::Inline(op, _, None)) = (st.var, &st.op) {
            if op.reads_numbers() || op.is_type_predicate() {
                immediate.insert(v);
            }
        }
    });
    // Invariant parameters: every self tail call passes the parameter
    // itself (or an immediate) back, so it holds the caller's value, never
    // one of the carry region. A rest parameter is a fresh list: not one.
    let mut invariant: HashSet<VarId> = f.params.iter().copied().collect();
    walk_tails(&f.body, &mut |t| {
        if let Tail::Call {
            callee: Callee::Known { func, .. },
            args,
            ..
        } = t
        {
            if *func != f.id {
                return;
            }
            for (i, p) in f.params.iter().enumerate() {
                let same = match args.get(i) {
                    Some(Atom::Var(v)) => v == p || immediate.contains(v),
                    Some(Atom::Imm(_) | Atom::Const(_)) => true,
                    _ => false,
                };
                if !same {
                    invariant.remove(p);
                }
            }
        }
    });
    // Where each variable lives at least outside the carry region: read
    // from a global, an invariant parameter, the closure, or read out of
    // such a value (`produced` is in definition order).
    let mut outside: HashSet<VarId> = invariant.clone();
    for (v, how) in &c.produced {
        let out = match how {
            Produced::Global(_) => true,
            Produced::From(atoms) => atoms.iter().all(|a| match a {
                Atom::Var(x) => outside.contains(x),
                Atom::SelfClosure | Atom::Imm(_) | Atom::Const(_) => true,
            }),
        };
        if out {
            outside.insert(*v);
        }
    }
    // Stored into such a container on every path after it is made, or built
    // into a value that is.
    let mut anchored: HashSet<Node> = HashSet::new();
    let mut work: Vec<Node> = Vec::new();
    for st in &c.stores {
        let Some(n) = atom_node(&st.value) else {
            continue;
        };
        let container_outside = match &st.container {
            StoreInto::Global(_) => true,
            StoreInto::Atom(Atom::Var(x)) => outside.contains(x),
            StoreInto::Atom(_) => true,
        };
        if container_outside && c.def_block.get(&n) == Some(&st.block) {
            work.push(n);
        }
    }
    while let Some(n) = work.pop() {
        if anchored.insert(n) {
            work.extend(succ.get(&n).into_iter().flatten().copied());
        }
    }
    let mut keep: HashSet<VarId> = result_placed
        .iter()
        .copied()
        .filter(|v| {
            anchored.contains(&Node::Var(*v)) && !is_carried(&Node::Var(*v)) && !never.contains(v)
        })
        .collect();
    let params: HashSet<VarId> = f.params.iter().chain(f.rest.iter()).copied().collect();
    // Values the loop reads from a global, a box or its closure may be
    // objects of a state version that only the loop's pin keeps, and the
    // pin lets a retired version go at a later back edge: an object of the
    // result region pointing to one would dangle (nothing makes the result
    // region hold the version: escape holds follow what reaches the
    // result, and the barrier, finding the object as old as its container,
    // takes none). In the carry region the barrier's copy took the hold.
    let mut from_state: HashSet<VarId> = HashSet::new();
    for (v, how) in &c.produced {
        if matches!(how, Produced::Global(_)) {
            from_state.insert(*v);
        }
    }
    walk_block(&f.body, &mut |st| {
        if let (Some(v), Op::BoxGet(_) | Op::EnvGet(_)) = (st.var, &st.op) {
            from_state.insert(v);
        }
    });
    loop {
        let may_be_in_carry = |n: &Node, keep: &HashSet<VarId>| match n {
            Node::Var(x) if params.contains(x) => !invariant.contains(x),
            Node::Var(x) if from_state.contains(x) => true,
            Node::Var(x) => result_placed.contains(x) && !keep.contains(x),
            Node::Env => true,
        };
        let mut dropped = Vec::new();
        for &w in &keep {
            let mut seen: HashSet<Node> = HashSet::new();
            let mut stack = vec![Node::Var(w)];
            let mut bad = false;
            while let Some(n) = stack.pop() {
                if !seen.insert(n) {
                    continue;
                }
                if may_be_in_carry(&n, &keep) {
                    bad = true;
                    break;
                }
                stack.extend(succ.get(&n).into_iter().flatten().copied());
            }
            if bad {
                dropped.push(w);
            }
        }
        if dropped.is_empty() {
            return keep;
        }
        for w in dropped {
            keep.remove(&w);
        }
    }
}

/// The value-flow constraints of `f` (its parameters and closure defined
/// in the body's block) and the graph of their edges, by source.
fn flow_graph<'a>(
    f: &Function,
    summaries: &[Summary],
    raw_keys: &HashSet<ConstId>,
    may_renew: &'a [bool],
) -> (Constraints<'a>, NodeMap<Vec<Node>>) {
    let mut c = Constraints {
        raw_keys: raw_keys.clone(),
        may_renew,
        ..Constraints::default()
    };
    for p in f.params.iter().chain(f.rest.iter()) {
        c.def_block.insert(Node::Var(*p), 0);
    }
    c.def_block.insert(Node::Env, 0);
    c.block(f, summaries, &f.body, None);
    let mut succ: NodeMap<Vec<Node>> = NodeMap::default();
    for (from, to) in &c.edges {
        succ.entry(*from).or_default().push(*to);
    }
    (c, succ)
}

/// Solve one function's constraints under the given callee summaries.
///
/// Store constraints: a value stored into a container on every path after
/// it is made (the store sits in the block that defines the value) must
/// live as long as the container's region, so it is built there and the
/// store needs no repair. The container's region depends on the solution
/// (an object's region is its placement), so the solution is iterated until
/// no store raises a lifetime; levels only grow, so this ends.
fn solve(
    f: &Function,
    summaries: &[Summary],
    raw_keys: &HashSet<ConstId>,
    may_renew: &[bool],
) -> FunctionFacts {
    let (mut c, succ) = flow_graph(f, summaries, raw_keys, may_renew);
    let mut base = std::mem::take(&mut c.level_base);
    for (n, block, loc, callee) in &c.stored_by_callee {
        if c.def_block.get(n) == Some(block) {
            base.push((
                *n,
                Lifetime::Global,
                Cause::StoredByCallee {
                    loc: *loc,
                    callee: *callee,
                },
            ));
        }
    }
    loop {
        let (level, cause) = propagate(&base, &succ);
        let origin = origins(&c, &level);
        let origin_of = |a: &Atom| -> (Lifetime, Option<GlobalId>) {
            match a {
                Atom::Var(v) => origin.get(v).copied().unwrap_or((
                    level
                        .get(&Node::Var(*v))
                        .copied()
                        .unwrap_or(Lifetime::Local),
                    None,
                )),
                Atom::Const(_) | Atom::Imm(_) => (Lifetime::Global, None),
                Atom::SelfClosure => (Lifetime::Local, None),
            }
        };
        let mut grew = false;
        for st in &c.stores {
            let Some(n) = atom_node(&st.value) else {
                continue;
            };
            if c.def_block.get(&n) != Some(&st.block) {
                continue; // stored on some paths only: the barrier repairs those
            }
            let (into, container) = match &st.container {
                StoreInto::Global(g) => (Lifetime::Global, Container::Global(*g)),
                StoreInto::Atom(a) => match origin_of(a) {
                    (l, Some(g)) => (l, Container::ObjectOfGlobal(g)),
                    (l, None) => (l, Container::Object),
                },
            };
            let cur = level.get(&n).copied().unwrap_or(Lifetime::Local);
            if into > cur {
                base.push((
                    n,
                    into,
                    Cause::StoredInto {
                        loc: st.loc,
                        container,
                    },
                ));
                grew = true;
            }
        }
        if !grew {
            return FunctionFacts { level, cause };
        }
    }
}

/// Max-propagation of lifetimes from the sources along the outlives edges,
/// remembering the first cause.
fn propagate(
    base: &[(Node, Lifetime, Cause)],
    succ: &NodeMap<Vec<Node>>,
) -> (NodeMap<Lifetime>, NodeMap<Cause>) {
    let mut level: NodeMap<Lifetime> = NodeMap::default();
    let mut cause: NodeMap<Cause> = NodeMap::default();
    let mut work: Vec<(Node, Lifetime, Cause)> = base.to_vec();
    work.sort_by_key(|(_, l, _)| *l);
    while let Some((n, l, why)) = work.pop() {
        let cur = level.get(&n).copied().unwrap_or(Lifetime::Local);
        if level.contains_key(&n) && cur >= l {
            continue;
        }
        level.insert(n, l.max(cur));
        cause.insert(n, why);
        if let Some(next) = succ.get(&n) {
            for m in next {
                work.push((*m, l, Cause::FlowsInto(n)));
            }
        }
    }
    (level, cause)
}
