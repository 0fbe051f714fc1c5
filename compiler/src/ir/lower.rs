//! Lowering: core AST → ANF IR with closure conversion.
//!
//! Two analysis walks run first: which locals are assigned (`set!`), and for
//! every lambda which locals it captures (its free variables). A local that is
//! both captured and assigned lives in a box (so every closure and scope that
//! shares it sees each `set!`); a letrec-bound lambda refers to itself through
//! its own closure (`Atom::SelfClosure`); locals and globals bound once to a
//! lambda are *known* functions, called directly. Every allocation becomes an
//! explicit `AllocSite`.

use super::*;
use crate::expand::ast::{self, Expr, ExprKind, Lambda, Literal, LocalId};
use crate::syntax::SourceMap;
use crate::syntax::{Datum, DatumKind};
use omni_runtime::prims::PrimArity;
use omni_runtime::value::{
    int_value, is_int, make_char, make_int, FALSE, NIL, NOTHING, TRUE, UNBOUND,
};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// The longest list built by inline cons allocations (see `cons_list`).
const MAX_INLINE_LIST: usize = 16;

type LambdaKey = *const Lambda;

/// Lower an expanded program to IR.
pub fn lower_program(ast: &ast::Program, sources: &SourceMap) -> Program {
    Lowerer::new(ast, sources, false).lower_entry_indexed(0).0
}

/// Lower a REPL session's program (`driver/repl.rs`): every top-level form
/// is lowered (the program's analysis sees all of them), but the entry
/// calls only the forms from `first_new` on — the earlier ones already ran
/// in earlier modules of the session. Globals are late bound: no call of a
/// global is direct, so a later redefinition is seen by all code compiled
/// before it.
///
/// `session_locs` is the session's location table so far: the program's
/// table starts with it (a location already in it keeps its id), so the
/// ids compiled into earlier modules stay valid in the table each new
/// module registers. Returns the program and the session's table after
/// it (each location with the file and offset it was made for).
pub fn lower_repl_program(
    ast: &ast::Program,
    sources: &SourceMap,
    first_new: usize,
    session_locs: &[(u32, u32, SourceLoc)],
) -> (Program, Vec<(u32, u32, SourceLoc)>) {
    let mut l = Lowerer::new(ast, sources, true);
    for (file, start, loc) in session_locs.iter().skip(1) {
        let id = LocId(l.locs.len() as u32);
        l.locs.push(loc.clone());
        l.loc_index.insert((*file, *start), id);
    }
    let (program, index) = l.lower_entry_indexed(first_new);
    let mut keys = vec![(u32::MAX, u32::MAX); program.locs.len()];
    for ((file, start), id) in index {
        keys[id.0 as usize] = (file, start);
    }
    let table = keys
        .into_iter()
        .zip(&program.locs)
        .map(|((file, start), loc)| (file, start, loc.clone()))
        .collect();
    (program, table)
}

// ---------------------------------------------------------------- analysis

#[derive(Default)]
struct Analysis {
    assigned: HashSet<LocalId>,
    captured: HashSet<LocalId>,
    /// Free locals of each lambda, in first-use order.
    free: HashMap<LambdaKey, Vec<LocalId>>,
    /// The letrec local a lambda is bound to (self-reference via its closure).
    self_binding: HashMap<LambdaKey, LocalId>,
    /// Non-lambda letrec locals: read with a check that they are initialised.
    letrec_checked: HashSet<LocalId>,
    /// Locals bound once to a lambda and never assigned.
    known_local: HashMap<LocalId, LambdaKey>,
    /// Every lambda of the program by identity.
    lambdas: HashMap<LambdaKey, Arc<Lambda>>,
}

impl Analysis {
    fn run(p: &ast::Program) -> Analysis {
        let mut a = Analysis::default();
        for e in &p.body {
            a.find_assigned(e);
        }
        let mut w = CaptureWalk {
            an: &mut a,
            owner: HashMap::new(),
            stack: vec![None],
        };
        for e in &p.body {
            w.walk(e);
        }
        a
    }

    fn find_assigned(&mut self, e: &Expr) {
        if let ExprKind::SetLocal(l, _) = &e.kind {
            self.assigned.insert(*l);
        }
        for_each_child(e, &mut |c| self.find_assigned(c));
    }

    fn boxed(&self, l: LocalId) -> bool {
        self.captured.contains(&l)
            && (self.assigned.contains(&l) || self.letrec_checked.contains(&l))
    }
}

fn for_each_child(e: &Expr, f: &mut dyn FnMut(&Expr)) {
    match &e.kind {
        ExprKind::Lit(_)
        | ExprKind::Quote(_)
        | ExprKind::Local(_)
        | ExprKind::Global(_)
        | ExprKind::PrimRef(_) => {}
        ExprKind::Lambda(lam) => f(&lam.body),
        ExprKind::Call(c, args) => {
            f(c);
            args.iter().for_each(f);
        }
        ExprKind::PrimCall(_, args)
        | ExprKind::Seq(args)
        | ExprKind::MakeArray(args)
        | ExprKind::MakeDict(args) => args.iter().for_each(f),
        ExprKind::If(a, b, c) => {
            f(a);
            f(b);
            f(c);
        }
        ExprKind::Let(bs, body) | ExprKind::Letrec(bs, body) => {
            bs.iter().for_each(|(_, x)| f(x));
            f(body);
        }
        ExprKind::SetLocal(_, v) | ExprKind::SetGlobal(_, v) | ExprKind::DefineGlobal(_, v) => f(v),
    }
}

struct CaptureWalk<'a> {
    an: &'a mut Analysis,
    /// The lambda (None = top level) that binds each local.
    owner: HashMap<LocalId, Option<LambdaKey>>,
    stack: Vec<Option<LambdaKey>>,
}

impl CaptureWalk<'_> {
    fn bind(&mut self, l: LocalId) {
        self.owner.insert(l, *self.stack.last().unwrap());
    }

    fn reference(&mut self, l: LocalId) {
        let owner = self.owner.get(&l).copied().flatten();
        let Some(pos) = self.stack.iter().rposition(|f| *f == owner) else {
            return;
        };
        // Frames above the owner capture `l`, up to the frame that has it as
        // its own closure (letrec self-reference).
        let mut captured = false;
        for frame in self.stack[pos + 1..].iter().rev() {
            let key = frame.expect("inner frames are lambdas");
            if self.an.self_binding.get(&key) == Some(&l) {
                break;
            }
            captured = true;
        }
        if !captured {
            return;
        }
        self.an.captured.insert(l);
        for frame in self.stack[pos + 1..].iter().rev() {
            let key = frame.unwrap();
            if self.an.self_binding.get(&key) == Some(&l) {
                break;
            }
            let free = self.an.free.entry(key).or_default();
            if !free.contains(&l) {
                free.push(l);
            }
        }
    }

    fn walk(&mut self, e: &Expr) {
        match &e.kind {
            ExprKind::Local(l) => self.reference(*l),
            ExprKind::SetLocal(l, v) => {
                self.reference(*l);
                self.walk(v);
            }
            ExprKind::Lambda(lam) => self.walk_lambda(lam),
            ExprKind::Let(bs, body) => {
                for (l, init) in bs {
                    self.walk(init);
                    self.bind(*l);
                    self.note_known(*l, init);
                }
                self.walk(body);
            }
            ExprKind::Letrec(bs, body) => {
                for (l, init) in bs {
                    self.bind(*l);
                    match &init.kind {
                        ExprKind::Lambda(lam) if !self.an.assigned.contains(l) => {
                            self.an.self_binding.insert(Arc::as_ptr(lam), *l);
                        }
                        _ => {
                            self.an.letrec_checked.insert(*l);
                        }
                    }
                    self.note_known(*l, init);
                }
                for (_, init) in bs {
                    self.walk(init);
                }
                self.walk(body);
            }
            _ => for_each_child(e, &mut |c| self.walk(c)),
        }
    }

    fn note_known(&mut self, l: LocalId, init: &Expr) {
        if let ExprKind::Lambda(lam) = &init.kind {
            if !self.an.assigned.contains(&l) {
                self.an.known_local.insert(l, Arc::as_ptr(lam));
            }
        }
    }

    fn walk_lambda(&mut self, lam: &Arc<Lambda>) {
        let key = Arc::as_ptr(lam);
        self.an.lambdas.insert(key, lam.clone());
        self.an.free.entry(key).or_default();
        self.stack.push(Some(key));
        for p in lam.params.iter().chain(lam.rest.iter()) {
            self.bind(*p);
        }
        self.walk(&lam.body);
        self.stack.pop();
    }
}

// ---------------------------------------------------------------- lowering

/// How the current function reaches a local.
#[derive(Clone, Copy, Debug)]
enum Access {
    Var(VarId),
    Env(u32),
    SelfClosure,
}

struct FnCtx {
    id: FuncId,
    nvars: u32,
    access: HashMap<LocalId, Access>,
    blocks: Vec<Vec<Stmt>>,
}

/// What `finish_function` needs besides the body.
struct FunctionHead {
    name: String,
    kind: FunctionKind,
    params: Vec<VarId>,
    rest: Option<VarId>,
    nfree: u32,
}

struct Lowerer<'a> {
    ast: &'a ast::Program,
    sources: &'a SourceMap,
    an: Analysis,
    functions: Vec<Option<Function>>,
    lambda_ids: HashMap<LambdaKey, FuncId>,
    globals: Vec<Global>,
    consts: Vec<Const>,
    const_index: HashMap<String, ConstId>,
    alloc_sites: Vec<AllocSite>,
    locs: Vec<SourceLoc>,
    loc_index: HashMap<(u32, u32), LocId>,
    stack: Vec<FnCtx>,
    /// Primitive used as a value → the global holding its wrapper closure.
    prim_wrappers: HashMap<String, GlobalId>,
    /// Wrapper closures to create at the start of the entry function.
    prim_wrapper_inits: Vec<(FuncId, GlobalId, Span)>,
    /// Globals defined exactly once, never assigned, to a lambda.
    known_globals: HashMap<u32, LambdaKey>,
}

impl<'a> Lowerer<'a> {
    fn new(ast: &'a ast::Program, sources: &'a SourceMap, late_bound: bool) -> Self {
        let mut l = Lowerer {
            ast,
            sources,
            an: Analysis::run(ast),
            functions: Vec::new(),
            lambda_ids: HashMap::new(),
            globals: ast
                .globals
                .iter()
                .map(|g| Global {
                    name: g.name.clone(),
                    int_only: false,
                })
                .collect(),
            consts: Vec::new(),
            const_index: HashMap::new(),
            alloc_sites: Vec::new(),
            locs: vec![SourceLoc {
                file: String::new(),
                line: 0,
                col: 0,
                inlined: None,
            }],
            loc_index: HashMap::new(),
            stack: Vec::new(),
            prim_wrappers: HashMap::new(),
            prim_wrapper_inits: Vec::new(),
            known_globals: HashMap::new(),
        };
        for e in ast.body.iter().filter(|_| !late_bound) {
            if let ExprKind::DefineGlobal(g, init) = &e.kind {
                let info = &ast.globals[g.0 as usize];
                if let ExprKind::Lambda(lam) = &init.kind {
                    if info.definitions == 1 && !info.assigned {
                        l.known_globals.insert(g.0, Arc::as_ptr(lam));
                    }
                }
            }
        }
        l
    }

    /// Function ids are handed out on first mention (a known call may come
    /// before the lambda is lowered); the body is filled in later.
    fn func_for(&mut self, key: LambdaKey) -> FuncId {
        if let Some(id) = self.lambda_ids.get(&key) {
            return *id;
        }
        let id = self.new_func_id();
        self.lambda_ids.insert(key, id);
        id
    }

    fn new_func_id(&mut self) -> FuncId {
        self.functions.push(None);
        FuncId(self.functions.len() as u32 - 1)
    }

    fn loc(&mut self, span: Span) -> LocId {
        if let Some(l) = self.loc_index.get(&(span.file, span.start)) {
            return *l;
        }
        let (line, col) = self.sources.line_col(span);
        let id = LocId(self.locs.len() as u32);
        self.locs.push(SourceLoc {
            file: self.sources.name(span.file).to_string(),
            line,
            col,
            inlined: None,
        });
        self.loc_index.insert((span.file, span.start), id);
        id
    }

    /// The allocation site of an inline op whose slow-path primitive may
    /// allocate (`+ - *` make Floats), so CTRR places its result by the
    /// result's lifetime; `None` for the others.
    fn inline_site(&mut self, op: InlineOp, span: Span) -> Option<AllocSiteId> {
        let allocates = op
            .slow_path()
            .and_then(omni_runtime::prims::lookup_id)
            .is_some_and(|p| p.desc().allocates);
        allocates.then(|| self.site(AllocKind::Float, span))
    }

    fn site(&mut self, kind: AllocKind, span: Span) -> AllocSiteId {
        let func = self.cx().id;
        let loc = self.loc(span);
        self.alloc_sites.push(AllocSite {
            kind,
            func,
            span,
            loc,
            region: RegionRef::Unassigned,
        });
        AllocSiteId(self.alloc_sites.len() as u32 - 1)
    }

    fn constant(&mut self, key: String, c: Const) -> Atom {
        if let Some(id) = self.const_index.get(&key) {
            return Atom::Const(*id);
        }
        let id = ConstId(self.consts.len() as u32);
        self.consts.push(c);
        self.const_index.insert(key, id);
        Atom::Const(id)
    }

    // ---- statement building ----

    fn cx(&mut self) -> &mut FnCtx {
        self.stack.last_mut().expect("inside a function")
    }

    fn new_var(&mut self) -> VarId {
        let cx = self.cx();
        cx.nvars += 1;
        VarId(cx.nvars - 1)
    }

    fn push(&mut self, var: Option<VarId>, op: Op, span: Span) {
        let loc = self.loc(span);
        self.cx()
            .blocks
            .last_mut()
            .unwrap()
            .push(Stmt { var, op, loc });
    }

    /// Emit `op` into a fresh variable and return it as an atom.
    fn bind(&mut self, op: Op, span: Span) -> Atom {
        let v = self.new_var();
        self.push(Some(v), op, span);
        Atom::Var(v)
    }

    /// Lower `e` into a block of its own ending in the tail `mk(atom)` or a tail form.
    fn block(&mut self, f: impl FnOnce(&mut Self) -> Tail) -> Block {
        self.cx().blocks.push(Vec::new());
        let tail = f(self);
        let stmts = self.cx().blocks.pop().unwrap();
        Block { stmts, tail }
    }

    // ---- functions ----

    /// Lower the program; also returns the location index (the source
    /// position each location was made for).
    fn lower_entry_indexed(mut self, first_run: usize) -> (Program, HashMap<(u32, u32), LocId>) {
        let entry = self.new_func_id();
        let span = self.ast.body.first().map(|e| e.span).unwrap_or_default();
        // Every top-level form becomes a function of its own, so that its
        // temporaries live in a region of their own (see ctrr).
        let forms: Vec<FuncId> = self
            .ast
            .body
            .iter()
            .map(|e| self.lower_toplevel_form(e))
            .collect();
        self.stack.push(FnCtx {
            id: entry,
            nvars: 0,
            access: HashMap::new(),
            blocks: vec![],
        });
        let body = self.block(|l| {
            // Wrapper closures of primitives used as values are created first.
            let inits = l.prim_wrapper_inits.clone();
            for (func, global, span) in inits {
                let site = l.site(AllocKind::Closure, span);
                let c = l.bind(
                    Op::Alloc {
                        site,
                        what: Alloc::Closure { func, free: vec![] },
                    },
                    span,
                );
                l.push(
                    None,
                    Op::GlobalSet {
                        global,
                        value: c,
                        barrier: false,
                    },
                    span,
                );
            }
            for (form, e) in forms.iter().zip(&l.ast.body).skip(first_run) {
                let callee = Callee::Known {
                    func: *form,
                    env: Atom::Imm(UNBOUND),
                };
                l.push(
                    None,
                    Op::Call {
                        callee,
                        args: vec![],
                        region: RegionRef::Result,
                    },
                    e.span,
                );
            }
            Tail::Return(Atom::Imm(NOTHING))
        });
        self.finish_function(
            entry,
            FunctionHead {
                name: "toplevel".into(),
                kind: FunctionKind::Entry,
                params: vec![],
                rest: None,
                nfree: 0,
            },
            body,
            span,
        );
        let program = Program {
            functions: self
                .functions
                .into_iter()
                .map(|f| f.expect("every function lowered"))
                .collect(),
            globals: self.globals,
            consts: self.consts,
            alloc_sites: self.alloc_sites,
            raw_float_fields: self
                .ast
                .field_rawness
                .iter()
                .filter(|(_, raw)| **raw)
                .map(|(name, _)| name.clone())
                .collect(),
            locs: self.locs,
            entry,
        };
        (program, self.loc_index)
    }

    /// Close the function being lowered (the top of the stack) and record it.
    fn finish_function(&mut self, id: FuncId, head: FunctionHead, body: Block, span: Span) {
        let cx = self.stack.pop().expect("a function being lowered");
        let loc = self.loc(span);
        self.functions[id.0 as usize] = Some(Function {
            id,
            name: head.name,
            kind: head.kind,
            params: head.params,
            rest: head.rest,
            nfree: head.nfree,
            nvars: cx.nvars,
            body,
            loc,
        });
    }

    fn lower_toplevel_form(&mut self, e: &Expr) -> FuncId {
        let id = self.new_func_id();
        self.stack.push(FnCtx {
            id,
            nvars: 0,
            access: HashMap::new(),
            blocks: vec![],
        });
        let body = self.block(|l| {
            l.lower_effect(e);
            Tail::Return(Atom::Imm(NOTHING))
        });
        let name = match &e.kind {
            ExprKind::DefineGlobal(g, _) => {
                format!("toplevel:{}", self.globals[g.0 as usize].name)
            }
            _ => "toplevel".to_string(),
        };
        self.finish_function(
            id,
            FunctionHead {
                name,
                kind: FunctionKind::TopLevel,
                params: vec![],
                rest: None,
                nfree: 0,
            },
            body,
            e.span,
        );
        id
    }

    fn lower_lambda(&mut self, lam: &Arc<Lambda>) -> FuncId {
        let key = Arc::as_ptr(lam);
        let id = self.func_for(key);
        let free = self.free_of(lam);
        let mut cx = FnCtx {
            id,
            nvars: 0,
            access: HashMap::new(),
            blocks: vec![],
        };
        for (i, l) in free.iter().enumerate() {
            cx.access.insert(*l, Access::Env(i as u32));
        }
        if let Some(me) = self.an.self_binding.get(&key) {
            cx.access.insert(*me, Access::SelfClosure);
        }
        let mut params = Vec::new();
        for p in &lam.params {
            let v = VarId(cx.nvars);
            cx.nvars += 1;
            cx.access.insert(*p, Access::Var(v));
            params.push(v);
        }
        let rest = lam.rest.map(|r| {
            let v = VarId(cx.nvars);
            cx.nvars += 1;
            cx.access.insert(r, Access::Var(v));
            v
        });
        self.stack.push(cx);
        let body = self.block(|l| {
            // Boxed parameters: move the incoming value into a fresh box.
            for p in lam.params.iter().chain(lam.rest.iter()) {
                if l.an.boxed(*p) {
                    let Some(Access::Var(v)) = l.cx().access.get(p).copied() else {
                        unreachable!()
                    };
                    let site = l.site(AllocKind::Box, lam.span);
                    let b = l.new_var();
                    l.push(
                        Some(b),
                        Op::Alloc {
                            site,
                            what: Alloc::Box(Atom::Var(v)),
                        },
                        lam.span,
                    );
                    l.cx().access.insert(*p, Access::Var(b));
                }
            }
            l.lower_tail(&lam.body)
        });
        self.finish_function(
            id,
            FunctionHead {
                name: lam.name.clone().unwrap_or_else(|| "lambda".into()),
                kind: FunctionKind::User,
                params,
                rest,
                nfree: free.len() as u32,
            },
            body,
            lam.span,
        );
        id
    }

    /// The locals a lambda captures, in slot order.
    fn free_of(&self, lam: &Arc<Lambda>) -> Vec<LocalId> {
        self.an
            .free
            .get(&Arc::as_ptr(lam))
            .cloned()
            .unwrap_or_default()
    }

    /// The closure value of a lambda: allocate it with its captured slots.
    fn make_closure(&mut self, lam: &Arc<Lambda>, span: Span) -> Atom {
        let func = self.lower_lambda(lam);
        let free = self.free_of(lam);
        let atoms: Vec<Atom> = free.iter().map(|l| self.raw_local(*l, span)).collect();
        let site = self.site(AllocKind::Closure, span);
        self.bind(
            Op::Alloc {
                site,
                what: Alloc::Closure { func, free: atoms },
            },
            span,
        )
    }

    fn prim_wrapper(&mut self, name: &str, span: Span) -> Atom {
        let global = match self.prim_wrappers.get(name) {
            Some(g) => *g,
            None => {
                let prim = omni_runtime::prims::lookup_id(name).expect("resolved primitive");
                let desc = prim.desc();
                let id = self.new_func_id();
                let global = GlobalId(self.globals.len() as u32);
                self.globals.push(Global {
                    name: format!("%prim:{name}"),
                    int_only: false,
                });
                self.prim_wrappers.insert(name.to_string(), global);
                self.prim_wrapper_inits.push((id, global, span));
                let mut cx = FnCtx {
                    id,
                    nvars: 0,
                    access: HashMap::new(),
                    blocks: vec![],
                };
                // A variadic primitive with an inline two-operand form gets
                // a two-parameter `code` (see `FunctionKind::PrimWrapper`).
                let binary = match desc.arity {
                    PrimArity::Variadic { .. } => inline_op_named(name).filter(|d| d.argc == 2),
                    PrimArity::Fixed(_) => None,
                };
                let (params, rest) = match (desc.arity, binary) {
                    (PrimArity::Fixed(n), _) => {
                        ((0..n as u32).map(VarId).collect::<Vec<_>>(), None)
                    }
                    (PrimArity::Variadic { .. }, Some(_)) => (vec![VarId(0), VarId(1)], None),
                    (PrimArity::Variadic { .. }, None) => (vec![], Some(VarId(0))),
                };
                cx.nvars = params.len() as u32 + rest.is_some() as u32;
                self.stack.push(cx);
                let body = self.block(|l| {
                    let args = params.iter().map(|v| Atom::Var(*v)).collect();
                    let op = match (binary, rest) {
                        (Some(d), _) => Op::Inline(d.op, args, l.inline_site(d.op, span)),
                        (None, None) => Op::Prim {
                            prim,
                            args,
                            site: desc.allocates.then(|| l.site(prim_site_kind(prim), span)),
                        },
                        (None, Some(r)) => Op::PrimApplyList {
                            prim,
                            list: Atom::Var(r),
                            site: desc.allocates.then(|| l.site(prim_site_kind(prim), span)),
                        },
                    };
                    Tail::Return(l.bind(op, span))
                });
                self.finish_function(
                    id,
                    FunctionHead {
                        name: name.to_string(),
                        kind: FunctionKind::PrimWrapper {
                            apply_list: binary.map(|_| prim),
                        },
                        params,
                        rest,
                        nfree: 0,
                    },
                    body,
                    span,
                );
                global
            }
        };
        self.bind(
            Op::GlobalGet {
                global,
                checked: false,
            },
            span,
        )
    }

    // ---- locals ----

    /// The variable's own slot: the box itself for boxed locals.
    fn raw_local(&mut self, l: LocalId, span: Span) -> Atom {
        match self.cx().access.get(&l).copied() {
            Some(Access::Var(v)) => Atom::Var(v),
            Some(Access::Env(i)) => self.bind(Op::EnvGet(i), span),
            Some(Access::SelfClosure) => Atom::SelfClosure,
            None => panic!(
                "local {} has no access path",
                self.ast.locals[l.0 as usize].name
            ),
        }
    }

    fn read_local(&mut self, l: LocalId, span: Span) -> Atom {
        let raw = self.raw_local(l, span);
        let v = if self.an.boxed(l) {
            self.bind(Op::BoxGet(raw), span)
        } else {
            raw
        };
        if self.an.letrec_checked.contains(&l) {
            let name = self.ast.locals[l.0 as usize].name.clone();
            self.push(None, Op::CheckBound { value: v, name }, span);
        }
        v
    }

    /// Bind a new local of the current function to `value`.
    fn define_local(&mut self, l: LocalId, value: Atom, span: Span) {
        if self.an.boxed(l) {
            let site = self.site(AllocKind::Box, span);
            let b = self.bind(
                Op::Alloc {
                    site,
                    what: Alloc::Box(value),
                },
                span,
            );
            let Atom::Var(bv) = b else { unreachable!() };
            self.cx().access.insert(l, Access::Var(bv));
        } else {
            let v = self.new_var();
            self.push(Some(v), Op::Move(value), span);
            self.cx().access.insert(l, Access::Var(v));
        }
    }

    // ---- expressions ----

    fn lower_effect(&mut self, e: &Expr) {
        let _ = self.lower(e);
    }

    fn lower_all(&mut self, es: &[Expr]) -> Vec<Atom> {
        es.iter().map(|e| self.lower(e)).collect()
    }

    /// Lower `e` in non-tail position; its value as an atom.
    fn lower(&mut self, e: &Expr) -> Atom {
        let span = e.span;
        match &e.kind {
            ExprKind::Lit(lit) => self.literal(lit),
            ExprKind::Quote(d) => self.quote(d),
            ExprKind::Local(l) => self.read_local(*l, span),
            ExprKind::Global(g) => self.bind(
                Op::GlobalGet {
                    global: GlobalId(g.0),
                    checked: true,
                },
                span,
            ),
            ExprKind::PrimRef(name) => self.prim_wrapper(name, span),
            ExprKind::Lambda(lam) => self.make_closure(lam, span),
            ExprKind::Call(callee, args) => {
                let (callee, args) = self.lower_call(callee, args);
                self.bind(
                    Op::Call {
                        callee,
                        args,
                        region: RegionRef::Unassigned,
                    },
                    span,
                )
            }
            ExprKind::PrimCall(name, args) => self.lower_prim(name, args, span),
            ExprKind::If(c, t, f) => {
                let cond = self.lower(c);
                let then = self.block(|l| Tail::Yield(l.lower(t)));
                let els = self.block(|l| Tail::Yield(l.lower(f)));
                self.bind(Op::If { cond, then, els }, span)
            }
            ExprKind::Let(..) | ExprKind::Letrec(..) | ExprKind::Seq(_) => {
                let body = self.lower_scope(e);
                self.lower(body)
            }
            ExprKind::SetLocal(l, v) => {
                let value = self.lower(v);
                self.assign_local(*l, value, span);
                Atom::Imm(NOTHING)
            }
            ExprKind::SetGlobal(g, v) | ExprKind::DefineGlobal(g, v) => {
                let value = self.lower(v);
                self.push(
                    None,
                    Op::GlobalSet {
                        global: GlobalId(g.0),
                        value,
                        barrier: true,
                    },
                    span,
                );
                Atom::Imm(NOTHING)
            }
            ExprKind::MakeArray(xs) => {
                let atoms = self.lower_all(xs);
                let site = self.site(AllocKind::Array, span);
                self.bind(
                    Op::Alloc {
                        site,
                        what: Alloc::Array(atoms),
                    },
                    span,
                )
            }
            ExprKind::MakeDict(xs) => {
                let atoms = self.lower_all(xs);
                let site = self.site(AllocKind::Dict, span);
                self.bind(
                    Op::Alloc {
                        site,
                        what: Alloc::Dict(atoms),
                    },
                    span,
                )
            }
        }
    }

    /// Emit the bindings of a `let`/`letrec`/`do` and return the final
    /// expression, to be lowered in whatever position the scope is in.
    fn lower_scope<'e>(&mut self, e: &'e Expr) -> &'e Expr {
        match &e.kind {
            ExprKind::Let(bs, body) => {
                for (l, init) in bs {
                    let v = self.lower(init);
                    self.define_local(*l, v, init.span);
                }
                self.lower_scope(body)
            }
            ExprKind::Letrec(bs, body) => {
                self.lower_letrec(bs);
                self.lower_scope(body)
            }
            ExprKind::Seq(xs) if !xs.is_empty() => {
                for x in &xs[..xs.len() - 1] {
                    self.lower_effect(x);
                }
                self.lower_scope(xs.last().unwrap())
            }
            _ => e,
        }
    }

    fn lower_letrec(&mut self, bs: &[(LocalId, Expr)]) {
        // 1. Slots for the non-lambda bindings, UNBOUND until initialised.
        for (l, init) in bs {
            if !self.is_closure_binding(*l, init) {
                self.define_local(*l, Atom::Imm(UNBOUND), init.span);
            }
        }
        // 2. Allocate every closure; a slot naming a sibling not allocated
        //    yet is patched in step 3 (initialising stores).
        let mut patches = Vec::new();
        let mut pending: HashSet<LocalId> = bs
            .iter()
            .filter(|(l, i)| self.is_closure_binding(*l, i))
            .map(|(l, _)| *l)
            .collect();
        for (l, init) in bs {
            let ExprKind::Lambda(lam) = &init.kind else {
                continue;
            };
            if !pending.contains(l) {
                continue;
            }
            let func = self.lower_lambda(lam);
            let free = self.free_of(lam);
            let mut atoms = Vec::new();
            for (i, f) in free.iter().enumerate() {
                // A sibling not allocated yet (or the closure itself) is
                // patched once every closure exists.
                if pending.contains(f) {
                    atoms.push(Atom::Imm(UNBOUND));
                    patches.push((*l, i as u32, *f, init.span));
                } else {
                    atoms.push(self.raw_local(*f, init.span));
                }
            }
            let site = self.site(AllocKind::Closure, init.span);
            let c = self.bind(
                Op::Alloc {
                    site,
                    what: Alloc::Closure { func, free: atoms },
                },
                init.span,
            );
            let Atom::Var(cv) = c else { unreachable!() };
            self.cx().access.insert(*l, Access::Var(cv));
            pending.remove(l);
        }
        // 3. Patch sibling references.
        for (l, index, f, sp) in patches {
            let closure = self.raw_local(l, sp);
            let value = self.raw_local(f, sp);
            self.push(
                None,
                Op::ClosureInit {
                    closure,
                    index,
                    value,
                },
                sp,
            );
        }
        // 4. Initialise the other bindings in order.
        for (l, init) in bs {
            if self.is_closure_binding(*l, init) {
                continue;
            }
            let value = self.lower(init);
            self.assign_local(*l, value, init.span);
        }
    }

    /// Store into an existing local: through its box (with the store
    /// barrier) when it is boxed, else a move into its variable.
    fn assign_local(&mut self, l: LocalId, value: Atom, span: Span) {
        if self.an.boxed(l) {
            let cell = self.raw_local(l, span);
            self.push(
                None,
                Op::BoxSet {
                    cell,
                    value,
                    barrier: true,
                },
                span,
            );
        } else {
            let Some(Access::Var(var)) = self.cx().access.get(&l).copied() else {
                panic!("assigned local without a variable")
            };
            self.push(Some(var), Op::Move(value), span);
        }
    }

    fn is_closure_binding(&self, l: LocalId, init: &Expr) -> bool {
        matches!(init.kind, ExprKind::Lambda(_)) && !self.an.assigned.contains(&l)
    }

    /// Lower `e` in tail position.
    fn lower_tail(&mut self, e: &Expr) -> Tail {
        let span = e.span;
        match &e.kind {
            ExprKind::If(c, t, f) => {
                let cond = self.lower(c);
                let then = self.block(|l| l.lower_tail(t));
                let els = self.block(|l| l.lower_tail(f));
                Tail::If {
                    cond,
                    then: Box::new(then),
                    els: Box::new(els),
                }
            }
            ExprKind::Call(callee, args) => {
                let (callee, args) = self.lower_call(callee, args);
                let loc = self.loc(span);
                Tail::Call { callee, args, loc }
            }
            ExprKind::Let(..) | ExprKind::Letrec(..) | ExprKind::Seq(_) => {
                let body = self.lower_scope(e);
                self.lower_tail(body)
            }
            _ => Tail::Return(self.lower(e)),
        }
    }

    fn lower_call(&mut self, callee: &Expr, args: &[Expr]) -> (Callee, Vec<Atom>) {
        let known: Option<(LambdaKey, Option<LocalId>)> = match &callee.kind {
            ExprKind::Local(l) => self.an.known_local.get(l).map(|k| (*k, Some(*l))),
            ExprKind::Global(g) => self.known_globals.get(&g.0).map(|k| (*k, None)),
            _ => None,
        };
        if let Some((key, local)) = known {
            let lam = self.lambda_by_key(key);
            let nparams = lam.params.len();
            let has_rest = lam.rest.is_some();
            if args.len() == nparams || (has_rest && args.len() >= nparams) {
                let func = self.func_for(key);
                let env = match local {
                    Some(l) => self.raw_local(l, callee.span),
                    None => Atom::Imm(UNBOUND),
                };
                let mut atoms = self.lower_all(&args[..nparams]);
                if has_rest {
                    let extra = self.lower_all(&args[nparams..]);
                    let list = self.cons_list(&extra, callee.span);
                    atoms.push(list);
                }
                return (Callee::Known { func, env }, atoms);
            }
        }
        let f = self.lower(callee);
        let atoms = self.lower_all(args);
        (Callee::Unknown(f), atoms)
    }

    fn lambda_by_key(&self, key: LambdaKey) -> Arc<Lambda> {
        self.an.lambdas[&key].clone()
    }

    /// A fresh list of `items`: a chain of inline cons allocations, or for
    /// a long list one call of the runtime's variadic `list`. Each inline
    /// cons is a variable and a few Cranelift blocks, and the SSA builder
    /// sizes a variable's table by the index of the block that defines it,
    /// so a chain of N conses costs memory quadratic in N (1.5 GB at
    /// 16,000 arguments); the call is linear.
    fn cons_list(&mut self, items: &[Atom], span: Span) -> Atom {
        if items.is_empty() {
            return Atom::Imm(NIL);
        }
        if items.len() > MAX_INLINE_LIST {
            let prim =
                omni_runtime::prims::lookup_id("list").expect("`list` is a runtime primitive");
            let site = Some(self.site(AllocKind::Prim, span));
            return self.bind(
                Op::Prim {
                    prim,
                    args: items.to_vec(),
                    site,
                },
                span,
            );
        }
        let site = self.site(AllocKind::Cons, span);
        let mut acc = Atom::Imm(NIL);
        for a in items.iter().rev() {
            acc = self.bind(
                Op::Alloc {
                    site,
                    what: Alloc::Cons(*a, acc),
                },
                span,
            );
        }
        acc
    }

    fn lower_prim(&mut self, name: &str, args: &[Expr], span: Span) -> Atom {
        let first_new = VarId(self.cx().nvars);
        let atoms = self.lower_all(args);
        if let Some(d) = inline_op_named(name) {
            if d.op.is_numeric() {
                self.copy_dict_floats_read_for(&atoms, first_new, span);
            }
            match (d.fold, atoms.len()) {
                (_, n) if n == d.argc => {
                    let site = self.inline_site(d.op, span);
                    return self.bind(Op::Inline(d.op, atoms, site), span);
                }
                (InlineFold::LeftWithIdentity(unit), 0) => return Atom::Imm(make_int(unit)),
                (InlineFold::Left | InlineFold::LeftWithIdentity(_), n) if n > 2 => {
                    let site = self.inline_site(d.op, span);
                    let mut acc = self.bind(Op::Inline(d.op, vec![atoms[0], atoms[1]], site), span);
                    for a in &atoms[2..] {
                        let site = self.inline_site(d.op, span);
                        acc = self.bind(Op::Inline(d.op, vec![acc, *a], site), span);
                    }
                    return acc;
                }
                _ => {}
            }
        }
        match alloc_prim(name, atoms.len()) {
            Some(AllocPrim::Cons) => {
                let site = self.site(AllocKind::Cons, span);
                return self.bind(
                    Op::Alloc {
                        site,
                        what: Alloc::Cons(atoms[0], atoms[1]),
                    },
                    span,
                );
            }
            Some(AllocPrim::List) => return self.cons_list(&atoms, span),
            Some(AllocPrim::Box) => {
                let site = self.site(AllocKind::Box, span);
                return self.bind(
                    Op::Alloc {
                        site,
                        what: Alloc::Box(atoms[0]),
                    },
                    span,
                );
            }
            None => {}
        }
        // The expander resolved `name` against the table: a miss is a
        // compiler bug.
        let prim = omni_runtime::prims::lookup_id(name)
            .unwrap_or_else(|| panic!("`{name}` is not a runtime primitive"));
        let site = (prim.desc().allocates && self.may_allocate(prim, &atoms))
            .then(|| self.site(prim_site_kind(prim), span));
        self.bind(
            Op::Prim {
                prim,
                args: atoms,
                site,
            },
            span,
        )
    }

    /// Whether an allocating primitive called with `args` may allocate:
    /// a `get` with a literal key no struct declares as a raw Float field,
    /// a `%struct-ref` of an index at which no struct has one, and either
    /// in a program without raw Float fields, never boxes (it has no allocation site, as before raw slots: interp's
    /// `e.test` reads cost nothing more).
    /// A `get` without an allocation site whose value is an operand of
    /// arithmetic or a numeric comparison (`(+ (get d k) 1.5)`) gets a
    /// Float site: a dict entry's slot Float is then copied out into a
    /// temporary region instead of being handed on, so the entry keeps it
    /// and the store that usually follows overwrites it in place (runtime
    /// `heap/dict.rs`, "slot Floats": a dict of Float counters updated in a
    /// loop no longer fills its region with replaced Floats). Only a `get`
    /// the operands' own lowering bound (variables from `first_new` on, in
    /// the current block) is looked for, so the search stays within them.
    fn copy_dict_floats_read_for(&mut self, operands: &[Atom], first_new: VarId, span: Span) {
        for a in operands {
            let Atom::Var(v) = *a else { continue };
            if v < first_new {
                continue;
            }
            let get_without_site = |st: &Stmt| matches!(&st.op, Op::Prim { prim, site: None, .. } if prim.desc().name == "get");
            let found = self.cx().blocks.last().and_then(|b| {
                b.iter()
                    .rposition(|st| st.var == Some(v) || st.var.is_some_and(|w| w < first_new))
                    .filter(|&i| b[i].var == Some(v) && get_without_site(&b[i]))
            });
            let Some(i) = found else { continue };
            let site = self.site(AllocKind::Float, span);
            if let Some(Op::Prim { site: s, .. }) = self
                .cx()
                .blocks
                .last_mut()
                .and_then(|b| b.get_mut(i))
                .map(|st| &mut st.op)
            {
                *s = Some(site);
            }
        }
    }

    fn may_allocate(&self, prim: omni_runtime::prims::PrimId, args: &[Atom]) -> bool {
        let name = prim.desc().name;
        if omni_runtime::prims::boxes_raw_floats(name) && self.ast.raw_float_names.is_empty() {
            // No struct of the program has a raw Float field.
            return false;
        }
        match (name, args) {
            ("get", [_, Atom::Const(c), ..]) => match self.consts.get(c.0 as usize) {
                Some(Const::Symbol(name)) => self.ast.raw_float_names.contains(name),
                _ => true,
            },
            ("%struct-ref", [_, Atom::Imm(i)]) if is_int(*i) => {
                let i = int_value(*i);
                (0..64).contains(&i) && self.ast.raw_float_indexes & (1 << i) != 0
            }
            _ => true,
        }
    }

    // ---- constants ----

    fn literal(&mut self, lit: &Literal) -> Atom {
        match lit {
            Literal::Int(n) => Atom::Imm(make_int(*n)),
            Literal::Float(x) => self.constant(format!("f:{}", x.to_bits()), Const::Float(*x)),
            Literal::Str(s) => self.constant(format!("s:{s}"), Const::Str(s.clone())),
            Literal::Char(c) => Atom::Imm(make_char(*c)),
            Literal::Bool(b) => Atom::Imm(if *b { TRUE } else { FALSE }),
            Literal::Nothing => Atom::Imm(NOTHING),
            Literal::Nil => Atom::Imm(NIL),
        }
    }

    fn quote(&mut self, d: &Datum) -> Atom {
        match quoted(d) {
            QuotedDatum::Imm(w) => Atom::Imm(w),
            QuotedDatum::Float(x) => self.literal(&Literal::Float(x)),
            QuotedDatum::Str(s) => self.literal(&Literal::Str(s)),
            QuotedDatum::Symbol(s) => self.constant(format!("y:{s}"), Const::Symbol(s)),
            // A quoted structure is one constant per `quote` in the program:
            // not deduplicated (by span or content), so a synthesized quote
            // never aliases another literal.
            other => {
                let id = ConstId(self.consts.len() as u32);
                self.consts.push(Const::Datum(other));
                Atom::Const(id)
            }
        }
    }
}

/// A quoted datum as a constant structure.
fn quoted(d: &Datum) -> QuotedDatum {
    match &d.kind {
        DatumKind::Int(n) => QuotedDatum::Imm(make_int(*n)),
        DatumKind::Float(x) => QuotedDatum::Float(*x),
        DatumKind::Str(s) => QuotedDatum::Str(s.clone()),
        DatumKind::Char(c) => QuotedDatum::Imm(make_char(*c)),
        DatumKind::Bool(b) => QuotedDatum::Imm(if *b { TRUE } else { FALSE }),
        DatumKind::Nothing => QuotedDatum::Imm(NOTHING),
        DatumKind::Sym(s) => QuotedDatum::Symbol(s.clone()),
        DatumKind::List(xs) if xs.is_empty() => QuotedDatum::Imm(NIL),
        DatumKind::List(xs) | DatumKind::Kind(xs) => {
            QuotedDatum::List(xs.iter().map(quoted).collect())
        }
        DatumKind::Slot(xs) => QuotedDatum::Array(xs.iter().map(quoted).collect()),
        DatumKind::Dict(xs) => QuotedDatum::Dict(
            xs.chunks(2)
                .map(|kv| (quoted(&kv[0]), quoted(&kv[1])))
                .collect(),
        ),
        DatumKind::Meta(_) | DatumKind::Path(..) => {
            QuotedDatum::Symbol(crate::expand::datum_to_string(d))
        }
    }
}

/// The kind of a primitive call's allocation site: a Float site for the
/// primitives whose only allocation is one Float (a boxed raw Float field,
/// `sqrt`: `prims::allocates_only_a_float`), so a temporary one goes to the lazy Float
/// region (created only when a Float is boxed) and not the scope region.
fn prim_site_kind(prim: omni_runtime::prims::PrimId) -> AllocKind {
    if omni_runtime::prims::allocates_only_a_float(prim.desc().name) {
        AllocKind::Float
    } else {
        AllocKind::Prim
    }
}

#[cfg(test)]
mod tests {
    /// Read, expand and lower `src` with the real prelude; the IR text.
    pub(crate) fn lower_text(src: &str) -> String {
        let (sm, ast) = crate::expand::expand_with_prelude(src);
        let ast = ast.expect("expands");
        let ir = super::lower_program(&ast, &sm);
        ir.to_string()
    }

    #[test]
    fn counter_boxes_captured_assigned_local() {
        let ir = lower_text("(define make-counter [] (let [n 0] (fn [] (set! n (+ n 1)) n)))");
        assert!(ir.contains("alloc box"), "{ir}");
        assert!(ir.contains("box-set"), "{ir}");
    }

    #[test]
    fn self_recursive_global_is_a_known_tail_call() {
        let ir = lower_text("(define loop n (if (= n 0) 'done (loop (- n 1))))");
        assert!(ir.contains("tail-call known"), "{ir}");
    }

    #[test]
    fn a_get_read_by_arithmetic_has_a_float_site() {
        // In a program without raw Float fields a `get` has no site, except
        // where arithmetic reads it (a dict's slot Float is copied out).
        let ir = lower_text("(define f [d] (+ (get d 'k) 1.5)) (define g [d] (get d 'k))");
        let get_of = |name: &str| {
            ir.split("\nfn ")
                .find(|f| f.split_whitespace().nth(1) == Some(name))
                .and_then(|f| f.lines().find(|l| l.contains("prim get")))
                .unwrap_or_else(|| panic!("no get in {name}: {ir}"))
                .to_string()
        };
        assert!(get_of("f").contains(" @s"), "{ir}");
        assert!(!get_of("g").contains(" @s"), "{ir}");
    }

    #[test]
    fn letrec_siblings_are_patched() {
        let ir = lower_text(
            "(define p [n] (define ev [k] (if (= k 0) 1 (od (- k 1)))) (define od [k] (if (= k 0) 0 (ev (- k 1)))) (ev n))",
        );
        assert!(ir.contains("closure-init"), "{ir}");
    }
}
