//! The CTRR analysis: for every variable of every function, how long its
//! value must live, computed backwards from the places values go.
//!
//! Two facts per variable, over one set of "outlives" edges:
//! - `reach`: the value may flow to the function's result (returned, passed
//!   to a tail call whose callee lets it reach its own result, stored at
//!   construction into something that reaches, ...). Over the parameters this
//!   is the function's [`Summary`], which callers use at known call sites.
//! - `level`: the shortest [`Lifetime`] that is safe — `Local` (dies with the
//!   function's local region), `Result` (the caller's result region) or
//!   `Global`.
//!
//! Edges `a ⊒ b` ("a must live at least as long as b") come from moves and
//! joins, construction (an object's fields outlive the object), loads (what
//! is read from a container lives no shorter than the container — the store
//! barrier keeps that invariant for mutations), and calls (an argument outlives
//! the call's result when the callee's summary says the parameter reaches
//! its result; for unknown callees every argument and the callee itself).
//! Mutations and non-top-level global stores add no edge: the store barrier
//! repairs them at run time. Summaries are computed to a fixed point over the
//! strongly connected components of the call graph (petgraph).

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
    /// Per fixed parameter, then the rest parameter if any.
    pub params_reach: Vec<bool>,
    /// The closure's captured values may flow to the result.
    pub env_reaches: bool,
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
    pub reach: HashMap<Node, bool>,
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
                let facts = solve(prog, &prog.functions[fid.0 as usize], &summaries);
                let s = summary_of(&prog.functions[fid.0 as usize], &facts);
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
        .map(|i| solve(prog, &prog.functions[i], &summaries))
        .collect();
    Analysis { summaries, facts }
}

fn summary_of(f: &Function, facts: &FunctionFacts) -> Summary {
    let reach = |v: VarId| facts.reach.get(&Node::Var(v)).copied().unwrap_or(false);
    Summary {
        params_reach: f
            .params
            .iter()
            .chain(f.rest.iter())
            .map(|v| reach(*v))
            .collect(),
        env_reaches: facts.reach.get(&Node::Env).copied().unwrap_or(false),
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
    reach_base: Vec<Node>,
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

    fn tail_call(&mut self, summaries: &[Summary], callee: &Callee, args: &[Atom]) {
        let reaching: Vec<(Atom, bool)> = match callee {
            Callee::Known { func, env } => {
                let s = &summaries[func.0 as usize];
                let mut v: Vec<(Atom, bool)> = args
                    .iter()
                    .zip(s.params_reach.iter())
                    .map(|(a, r)| (*a, *r))
                    .collect();
                v.push((*env, s.env_reaches));
                v
            }
            Callee::Unknown(f) => args
                .iter()
                .chain(std::iter::once(f))
                .map(|a| (*a, true))
                .collect(),
        };
        for (a, reaches) in reaching {
            if let Some(n) = atom_node(&a) {
                self.level_base
                    .push((n, Lifetime::Result, Cause::TailArgument));
                if reaches {
                    self.reach_base.push(n);
                }
            }
        }
    }

    fn block(
        &mut self,
        prog: &Program,
        f: &Function,
        summaries: &[Summary],
        b: &Block,
        join: Option<Node>,
    ) {
        for st in &b.stmts {
            let Some(d) = st.var.map(Node::Var) else {
                self.effect(prog, f, summaries, st);
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
                    self.block(prog, f, summaries, then, Some(d));
                    self.block(prog, f, summaries, els, Some(d));
                }
                Op::GlobalGet { .. } | Op::CheckBound { .. } | Op::RegionCreate => {}
                Op::EnvGet(_) => self.edges.push((d, Node::Env)),
                Op::BoxGet(cell) => self.outlives(cell, d),
                _ => self.effect(prog, f, summaries, st),
            }
        }
        match &b.tail {
            Tail::Return(a) => {
                if let Some(n) = atom_node(a) {
                    self.level_base.push((n, Lifetime::Result, Cause::Returned));
                    self.reach_base.push(n);
                }
            }
            Tail::Yield(a) => {
                if let Some(j) = join {
                    self.outlives(a, j);
                }
            }
            Tail::Call { callee, args, .. } => self.tail_call(summaries, callee, args),
            Tail::If { then, els, .. } => {
                self.block(prog, f, summaries, then, join);
                self.block(prog, f, summaries, els, join);
            }
        }
    }

    /// Statements whose value is not used as a variable.
    fn effect(&mut self, prog: &Program, f: &Function, summaries: &[Summary], st: &Stmt) {
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
                self.block(prog, f, summaries, then, None);
                self.block(prog, f, summaries, els, None);
            }
            _ => {}
        }
    }
}

/// Solve one function's constraints under the given callee summaries.
fn solve(prog: &Program, f: &Function, summaries: &[Summary]) -> FunctionFacts {
    let mut c = Constraints::default();
    c.block(prog, f, summaries, &f.body, None);
    let mut succ: HashMap<Node, Vec<Node>> = HashMap::new();
    for (from, to) in &c.edges {
        succ.entry(*from).or_default().push(*to);
    }
    // reach: plain reachability from the sources.
    let mut reach: HashMap<Node, bool> = HashMap::new();
    let mut work: Vec<Node> = c.reach_base.clone();
    while let Some(n) = work.pop() {
        if reach.insert(n, true).is_some() {
            continue;
        }
        if let Some(next) = succ.get(&n) {
            work.extend(next.iter().copied());
        }
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
    let _ = prog;
    FunctionFacts {
        level,
        cause,
        reach,
    }
}
