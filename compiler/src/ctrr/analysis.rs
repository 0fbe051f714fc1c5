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

use crate::ir::*;
use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use std::collections::HashMap;

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
    /// Per fixed parameter, then the rest parameter if any: the argument
    /// must live at least as long as the result region passed to the call.
    pub params_reach: Vec<bool>,
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
}

/// The facts for one function.
#[derive(Clone, Debug)]
pub struct FunctionFacts {
    pub level: HashMap<Node, Lifetime>,
    pub cause: HashMap<Node, Cause>,
}

impl FunctionFacts {
    pub fn level_of(&self, n: Node) -> Lifetime {
        self.level.get(&n).copied().unwrap_or(Lifetime::Local)
    }
}

/// Whole-program result of the analysis.
pub struct Analysis {
    pub summaries: Vec<Summary>,
    pub facts: Vec<FunctionFacts>,
}

/// Primitives whose result never shares structure with their arguments (a
/// fresh object, an immediate, an interned symbol or a global constant).
/// Every other primitive is assumed to return (part of) an argument.
pub fn prim_result_is_fresh(name: &str) -> bool {
    matches!(
        name,
        "+" | "-"
            | "*"
            | "/"
            | "quot"
            | "rem"
            | "mod"
            | "%add"
            | "%sub"
            | "%mul"
            | "%div"
            | "%lt"
            | "%gt"
            | "%le"
            | "%ge"
            | "%numeq"
            | "="
            | "<"
            | ">"
            | "<="
            | ">="
            | "!="
            | "zero?"
            | "even?"
            | "odd?"
            | "sqrt"
            | "expt"
            | "number->string"
            | "string->number"
            | "eq?"
            // Concurrency: escape boundaries repaired by the runtime. `send`
            // and `spawn` copy their argument into a handoff region, `recv`
            // and `join` adopt a handoff region into the region passed for
            // their result, `chan` makes an immortal channel: no result
            // shares structure with an argument, and no argument needs to
            // outlive anything (docs/REGION_THREADING_MODEL.md).
            | "spawn"
            | "join"
            | "chan"
            | "send"
            | "recv"
            | "close!"
            | "equal?"
            | "not"
            | "list?"
            | "empty?"
            | "null?"
            | "pair?"
            | "length"
            | "array-length"
            | "dict-size"
            | "has-key?"
            | "str"
            | "string-append"
            | "string-length"
            | "substring"
            | "string-ref"
            | "string-split"
            | "string-join"
            | "string-upcase"
            | "string-downcase"
            | "string->list"
            | "list->string"
            | "string->symbol"
            | "symbol->string"
            | "char->int"
            | "int->char"
            | "print"
            | "println"
            | "display"
            | "write"
            | "newline"
            | "error"
            | "read-line"
            | "set-car!"
            | "set-cdr!"
            | "array-set!"
            | "push!"
            | "dict-set!"
            | "dict-remove!"
            | "set-box!"
            | "error-message"
            | "type?"
            | "type-of"
            | "%builtin-type"
            | "%make-type"
            | "%put!"
            | "%method-add!"
            | "%dispatch"
            | "%caught?"
    )
}

/// Run the analysis over the whole program.
pub fn analyse(prog: &Program) -> Analysis {
    let n = prog.functions.len();
    let mut summaries: Vec<Summary> = prog
        .functions
        .iter()
        .map(|f| Summary {
            params_reach: vec![false; f.params.len() + f.rest.is_some() as usize],
            env_reaches: false,
            result_allocs: false,
        })
        .collect();

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
    for scc in tarjan_scc(&graph) {
        loop {
            let mut changed = false;
            for node in &scc {
                let fid = graph[*node];
                let facts = solve(&prog.functions[fid.0 as usize], &summaries);
                let s = summary_of(&prog.functions[fid.0 as usize], &facts, &summaries);
                if s != summaries[fid.0 as usize] {
                    summaries[fid.0 as usize] = s;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
    }
    let facts = (0..n)
        .map(|i| solve(&prog.functions[i], &summaries))
        .collect();
    Analysis { summaries, facts }
}

fn summary_of(f: &Function, facts: &FunctionFacts, summaries: &[Summary]) -> Summary {
    let outlives_call = |n: Node| facts.level_of(n) >= Lifetime::Result;
    let level = |v: Option<VarId>| {
        v.map(|v| facts.level_of(Node::Var(v)))
            .unwrap_or(Lifetime::Local)
    };
    let mut result_allocs = false;
    walk_block(&f.body, &mut |st| match &st.op {
        Op::Alloc { .. }
        | Op::Prim { site: Some(_), .. }
        | Op::PrimApplyList { site: Some(_), .. } => {
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
        params_reach: f
            .params
            .iter()
            .chain(f.rest.iter())
            .map(|v| outlives_call(Node::Var(*v)))
            .collect(),
        env_reaches: outlives_call(Node::Env),
        result_allocs,
    }
}

/// Visit every block tail, nested blocks included.
pub fn walk_tails(b: &Block, f: &mut dyn FnMut(&Tail)) {
    for st in &b.stmts {
        if let Op::If { then, els, .. } = &st.op {
            walk_tails(then, f);
            walk_tails(els, f);
        }
    }
    f(&b.tail);
    if let Tail::If { then, els, .. } = &b.tail {
        walk_tails(then, f);
        walk_tails(els, f);
    }
}

fn known_callees(b: &Block) -> Vec<FuncId> {
    let mut out = Vec::new();
    walk_block(b, &mut |st| {
        if let Op::Call {
            callee: Callee::Known { func, .. },
            ..
        } = &st.op
        {
            out.push(*func);
        }
    });
    if let Some(t) = tail_call_known(&b.tail) {
        out.extend(t);
    }
    out
}

fn tail_call_known(t: &Tail) -> Option<Vec<FuncId>> {
    match t {
        Tail::Call {
            callee: Callee::Known { func, .. },
            ..
        } => Some(vec![*func]),
        Tail::If { then, els, .. } => {
            let mut v = known_callees(then);
            v.extend(known_callees(els));
            Some(v)
        }
        _ => None,
    }
}

/// Visit every statement of a block, nested blocks included.
pub fn walk_block(b: &Block, f: &mut dyn FnMut(&Stmt)) {
    for st in &b.stmts {
        f(st);
        if let Op::If { then, els, .. } = &st.op {
            walk_block(then, f);
            walk_block(els, f);
        }
    }
    if let Tail::If { then, els, .. } = &b.tail {
        walk_block(then, f);
        walk_block(els, f);
    }
}

/// Constraints of one function.
#[derive(Default)]
struct Constraints {
    /// `(from, to)`: `to` must outlive `from`.
    edges: Vec<(Node, Node)>,
    level_base: Vec<(Node, Lifetime, Cause)>,
}

fn atom_node(a: &Atom) -> Option<Node> {
    match a {
        Atom::Var(v) => Some(Node::Var(*v)),
        Atom::SelfClosure => Some(Node::Env),
        Atom::Imm(_) | Atom::Const(_) => None,
    }
}

impl Constraints {
    fn outlives(&mut self, longer: &Atom, shorter: Node) {
        if let Some(n) = atom_node(longer) {
            self.edges.push((shorter, n));
        }
    }

    fn call(&mut self, summaries: &[Summary], callee: &Callee, args: &[Atom], result: Node) {
        match callee {
            Callee::Known { func, env } => {
                let s = &summaries[func.0 as usize];
                for (a, reaches) in args.iter().zip(s.params_reach.iter()) {
                    if *reaches {
                        self.outlives(a, result);
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

    fn tail_call(&mut self, callee: &Callee, args: &[Atom]) {
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
    }

    fn block(&mut self, f: &Function, summaries: &[Summary], b: &Block, join: Option<Node>) {
        for st in &b.stmts {
            let Some(d) = st.var.map(Node::Var) else {
                self.effect(f, summaries, st);
                continue;
            };
            match &st.op {
                Op::Move(a) => self.outlives(a, d),
                Op::Inline(op, args) => {
                    if matches!(op, InlineOp::Car | InlineOp::Cdr) {
                        self.outlives(&args[0], d);
                    }
                }
                Op::Prim { name, args, .. } => {
                    if !prim_result_is_fresh(name) {
                        for a in args {
                            self.outlives(a, d);
                        }
                    }
                }
                Op::PrimApplyList { name, list, .. } => {
                    if !prim_result_is_fresh(name) {
                        self.outlives(list, d);
                    }
                }
                Op::Call { callee, args, .. } => self.call(summaries, callee, args, d),
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
                Op::GlobalGet { .. } | Op::CheckBound { .. } | Op::RegionCreate => {}
                Op::EnvGet(_) => self.edges.push((d, Node::Env)),
                Op::BoxGet(cell) => self.outlives(cell, d),
                _ => self.effect(f, summaries, st),
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
            Tail::Call { callee, args, .. } => self.tail_call(callee, args),
            Tail::If { then, els, .. } => {
                self.block(f, summaries, then, join);
                self.block(f, summaries, els, join);
            }
        }
    }

    /// Statements whose value is not used as a variable.
    fn effect(&mut self, f: &Function, summaries: &[Summary], st: &Stmt) {
        match &st.op {
            Op::GlobalSet { value, .. } if f.kind == FunctionKind::TopLevel => {
                if let Some(n) = atom_node(value) {
                    self.level_base
                        .push((n, Lifetime::Global, Cause::TopLevelDefine));
                }
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

/// Solve one function's constraints under the given callee summaries.
fn solve(f: &Function, summaries: &[Summary]) -> FunctionFacts {
    let mut c = Constraints::default();
    c.block(f, summaries, &f.body, None);
    let mut succ: HashMap<Node, Vec<Node>> = HashMap::new();
    for (from, to) in &c.edges {
        succ.entry(*from).or_default().push(*to);
    }
    // level: max-propagation from the sources, remembering the first cause.
    let mut level: HashMap<Node, Lifetime> = HashMap::new();
    let mut cause: HashMap<Node, Cause> = HashMap::new();
    let mut work: Vec<(Node, Lifetime, Cause)> = c.level_base;
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
    FunctionFacts { level, cause }
}
