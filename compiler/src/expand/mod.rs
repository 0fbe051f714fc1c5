//! Expansion: datums → core AST with resolved names.
//!
//! Entry point: [`expand_program`]. Special forms are desugared here (`when`,
//! `unless`, `cond`, `and`, `or`, `do`, destructuring `let`, quasiquote,
//! inner `define`s as letrec*), every symbol is resolved to a local, a global
//! or a runtime primitive, and malformed forms are reported with the span of
//! the offending datum.

pub mod ast;
mod dispatch;
mod effects;
mod forms;
mod import;
mod pattern;
mod shape;
mod types;

pub use ast::{Expr, ExprKind, GlobalId, Literal, LocalId, Program};
pub use import::{ImportLoader, ImportedFile};

use crate::syntax::{Datum, DatumKind, Span};
use shape::TopForm;
use std::collections::{HashMap, HashSet};

/// An expansion error (malformed special form, unbound name, ...).
#[derive(Debug, Clone)]
pub struct ExpandError {
    pub message: String,
    pub span: Span,
    pub label: String,
    /// Hints shown under the report.
    pub notes: Vec<String>,
    /// Further locations (e.g. an earlier definition).
    pub secondary: Vec<(Span, String)>,
}

impl ExpandError {
    pub fn new(message: impl Into<String>, span: Span, label: impl Into<String>) -> ExpandError {
        ExpandError {
            message: message.into(),
            span,
            label: label.into(),
            notes: Vec::new(),
            secondary: Vec::new(),
        }
    }

    pub fn with_secondary(mut self, span: Span, label: impl Into<String>) -> ExpandError {
        self.secondary.push((span, label.into()));
        self
    }

    pub fn with_note(mut self, note: impl Into<String>) -> ExpandError {
        self.notes.push(note.into());
        self
    }
}

pub type Result<T> = std::result::Result<T, ExpandError>;

/// Expand the prelude's datums followed by the program's: both are top-level
/// forms of one program, run in order. `(import ...)` is an error here (no
/// loader): see [`expand_program_with_imports`].
#[cfg_attr(not(test), allow(dead_code))] // the driver uses the import-aware entry
pub fn expand_program(prelude: Vec<Datum>, program: Vec<Datum>) -> Result<Program> {
    expand_program_with_imports(prelude, program, &mut |path, span| {
        Err(ExpandError::new(
            format!("cannot import \"{path}\": imports are not available here"),
            span,
            "import",
        ))
    })
}

/// [`expand_program`] with `(import "path")`: `loader` resolves, reads and
/// parses an imported file (see `import.rs`).
pub fn expand_program_with_imports(
    prelude: Vec<Datum>,
    program: Vec<Datum>,
    loader: &mut ImportLoader,
) -> Result<Program> {
    let mut ex = Expander::default();
    let mut forms = Vec::new();
    let main = program.first().map(|d| d.span.file);
    let prelude_file = prelude.first().map(|d| d.span.file);
    let mut imports = import::Imports::new(loader, main);
    for d in prelude.into_iter().chain(program) {
        ex.flatten_with_imports(d, &mut forms, &mut imports)?;
    }
    // Every top-level form's shape, recognised once.
    let shapes = forms
        .iter()
        .map(shape::recognise)
        .collect::<Result<Vec<TopForm>>>()?;
    let prelude_file = prelude_file.unwrap_or(u32::MAX);
    for (d, form) in forms.iter().zip(&shapes) {
        ex.declare_toplevel(form, d.span.file == prelude_file);
    }
    for form in &shapes {
        ex.declare_typedef(form);
    }
    ex.plan_generics(&shapes)?;
    ex.plan_result_checks(&forms, &shapes);
    for (d, form) in forms.iter().zip(&shapes) {
        ex.in_prelude = d.span.file == prelude_file;
        if let Some(method) = ex.expand_method_define(form, d.span)? {
            ex.prog.body.extend(method);
            continue;
        }
        let e = ex.expand_toplevel(d, form)?;
        ex.prog.body.push(e);
    }
    Ok(ex.prog)
}

/// Names of the special forms; a local binding shadows them.
const SPECIAL_FORMS: &[&str] = &[
    "quote",
    "quasiquote",
    "unquote",
    "unquote-splicing",
    "if",
    "when",
    "unless",
    "cond",
    "and",
    "or",
    "do",
    "begin",
    "let",
    "fn",
    "λ",
    "lambda",
    "define",
    "set!",
    "match",
    "try",
    "catch",
    "handle",
    "perform",
    "resume",
    "put!",
    "import",
];

/// Special forms of later language layers, reported as not yet implemented.
const NOT_YET: &[&str] = &[];

#[derive(Default)]
pub(crate) struct Expander {
    pub(crate) prog: Program,
    global_index: HashMap<String, GlobalId>,
    scopes: Vec<HashMap<String, LocalId>>,
    /// Struct definitions by name (constructors, struct patterns).
    pub(crate) structs: HashMap<String, types::StructInfo>,
    /// Generic functions (several top-level function `define`s of a name).
    generics: HashMap<String, dispatch::GenericInfo>,
    /// Set while expanding a generic's method: dispatch checks its parameters.
    skip_param_checks: bool,
    /// The `{Ret}` type name of top-level functions whose result check lets
    /// a tail call to them stay a tail call (see `check_result`).
    result_types: HashMap<GlobalId, String>,
    /// Globals the prelude defines with a `%` name: its internals, hidden
    /// from the program.
    internal_globals: HashSet<GlobalId>,
    /// Set while expanding the prelude's forms (which may use internals).
    in_prelude: bool,
}

/// Prefix of the spelling by which the expander's generated datums name a
/// runtime internal (`#%check-type`): the reader never makes a symbol with
/// `#`, so programs cannot.
pub(crate) const INTERNAL_PREFIX: char = '#';

pub(crate) enum Resolved {
    Local(LocalId),
    Global(GlobalId),
    Prim(&'static omni_runtime::prims::PrimDesc),
    Special,
    Unbound,
}

impl Expander {
    // ---- scopes ----
    pub(crate) fn push_scope(&mut self) {
        self.scopes.push(HashMap::new());
    }
    pub(crate) fn pop_scope(&mut self) {
        self.scopes.pop();
    }
    pub(crate) fn bind_local(&mut self, name: &str, span: Span) -> LocalId {
        let id = LocalId(self.prog.locals.len() as u32);
        self.prog.locals.push(ast::LocalInfo {
            name: name.to_string(),
            span,
        });
        self.scopes
            .last_mut()
            .expect("a scope")
            .insert(name.to_string(), id);
        id
    }
    /// A compiler temporary, not visible to the program.
    pub(crate) fn fresh_local(&mut self, hint: &str, span: Span) -> LocalId {
        let id = LocalId(self.prog.locals.len() as u32);
        self.prog.locals.push(ast::LocalInfo {
            name: format!("%{hint}"),
            span,
        });
        id
    }

    pub(crate) fn resolve(&self, name: &str) -> Resolved {
        for scope in self.scopes.iter().rev() {
            if let Some(l) = scope.get(name) {
                return Resolved::Local(*l);
            }
        }
        if SPECIAL_FORMS.contains(&name) {
            return Resolved::Special;
        }
        if let Some(g) = self.global_index.get(name) {
            if self.in_prelude || !self.internal_globals.contains(g) {
                return Resolved::Global(*g);
            }
        }
        // The runtime's `%` internals are reached only by the expander's
        // own output (`PrimCall`s and `#%name` datums), never by a program.
        if let Some(internal) = name.strip_prefix(INTERNAL_PREFIX) {
            return match omni_runtime::prims::lookup(internal) {
                Some(p) => Resolved::Prim(p),
                None => Resolved::Unbound,
            };
        }
        match omni_runtime::prims::lookup(name) {
            Some(p) if !name.starts_with('%') => Resolved::Prim(p),
            _ => Resolved::Unbound,
        }
    }

    /// A prelude global the expander's desugarings rely on.
    pub(crate) fn prelude_global(&self, name: &str, span: Span) -> Result<Expr> {
        match self.global_index.get(name) {
            Some(g) => Ok(Expr::new(ExprKind::Global(*g), span)),
            None => Err(ExpandError::new(
                format!("internal: the prelude does not define `{name}`"),
                span,
                "needed here",
            )),
        }
    }

    // ---- top level ----

    fn declare_toplevel(&mut self, form: &TopForm, in_prelude: bool) {
        let Some((name, _)) = form.defined_name() else {
            return;
        };
        match self.global_index.get(name) {
            Some(g) => self.prog.globals[g.0 as usize].definitions += 1,
            None => {
                let g = GlobalId(self.prog.globals.len() as u32);
                self.prog.globals.push(ast::GlobalInfo {
                    name: name.to_string(),
                    definitions: 1,
                    assigned: false,
                });
                self.global_index.insert(name.to_string(), g);
                if in_prelude && name.starts_with('%') {
                    self.internal_globals.insert(g);
                }
            }
        }
    }

    fn expand_toplevel(&mut self, d: &Datum, form: &TopForm) -> Result<Expr> {
        match form {
            TopForm::TypeDef(def) => self.expand_typedef(def, d.span),
            TopForm::Define { name, .. } | TopForm::Function { name, .. } => {
                let g = self.global_index[*name];
                let DatumKind::List(items) = &d.kind else {
                    unreachable!("a define is a list")
                };
                let init = self.expand_define_init(items, d.span)?;
                Ok(Expr::new(ExprKind::DefineGlobal(g, Box::new(init)), d.span))
            }
            TopForm::Expr => self.expand(d),
        }
    }

    // ---- expressions ----

    pub(crate) fn expand(&mut self, d: &Datum) -> Result<Expr> {
        let span = d.span;
        let lit = |l| Ok(Expr::new(ExprKind::Lit(l), span));
        match &d.kind {
            DatumKind::Int(n) if !omni_runtime::value::fits_int(*n) => Err(ExpandError::new(
                format!("integer literal {n} is out of range (Ints are 63-bit)"),
                span,
                "too large",
            )),
            DatumKind::Int(n) => lit(Literal::Int(*n)),
            DatumKind::Float(x) => lit(Literal::Float(*x)),
            DatumKind::Str(s) => lit(Literal::Str(s.clone())),
            DatumKind::Char(c) => lit(Literal::Char(*c)),
            DatumKind::Bool(b) => lit(Literal::Bool(*b)),
            DatumKind::Nothing => lit(Literal::Nothing),
            DatumKind::Sym(name) => self.expand_symbol(name, span),
            DatumKind::List(items) if items.is_empty() => lit(Literal::Nil),
            DatumKind::List(items) => self.expand_list(items, span),
            DatumKind::Slot(items) => {
                let xs = self.expand_all(items)?;
                Ok(Expr::new(ExprKind::MakeArray(xs), span))
            }
            DatumKind::Dict(items) => {
                if items.len() % 2 != 0 {
                    return Err(ExpandError::new(
                        "dict literal needs an even number of forms (keys and values alternate)",
                        span,
                        "odd number of forms",
                    ));
                }
                let xs = self.expand_all(items)?;
                Ok(Expr::new(ExprKind::MakeDict(xs), span))
            }
            DatumKind::Kind(_) => self.type_expr(d),
            DatumKind::Meta(m) => Err(ExpandError::new(
                format!("metadata `^:{m}` must come before a binding or a definition"),
                span,
                "misplaced metadata",
            )),
            DatumKind::Path(base, segs) => {
                let mut e = self.expand(base)?;
                for seg in segs {
                    let (key, kspan) = match seg {
                        crate::syntax::PathSeg::Field(name, s) => (
                            Expr::new(
                                ExprKind::Quote(Datum::new(DatumKind::Sym(name.clone()), *s)),
                                *s,
                            ),
                            *s,
                        ),
                        crate::syntax::PathSeg::Index(i) => (self.expand(i)?, i.span),
                    };
                    let sp = span.to(kspan);
                    e = Expr::new(ExprKind::PrimCall("get".into(), vec![e, key]), sp);
                }
                Ok(e)
            }
        }
    }

    pub(crate) fn expand_all(&mut self, ds: &[Datum]) -> Result<Vec<Expr>> {
        ds.iter().map(|d| self.expand(d)).collect()
    }

    fn expand_symbol(&mut self, name: &str, span: Span) -> Result<Expr> {
        match self.resolve(name) {
            Resolved::Local(l) => Ok(Expr::new(ExprKind::Local(l), span)),
            Resolved::Global(g) => Ok(Expr::new(ExprKind::Global(g), span)),
            Resolved::Prim(p) => Ok(Expr::new(ExprKind::PrimRef(p.name.to_string()), span)),
            Resolved::Special => Err(ExpandError::new(
                format!("`{name}` is a special form, not a value"),
                span,
                "used as a value here",
            )),
            Resolved::Unbound => match self.builtin_type_expr(name, span) {
                Some(t) => Ok(t),
                None => Err(ExpandError::new(
                    format!("unbound name `{name}`"),
                    span,
                    "not defined anywhere",
                )),
            },
        }
    }

    fn expand_list(&mut self, items: &[Datum], span: Span) -> Result<Expr> {
        let head = &items[0];
        let args = &items[1..];
        if let Some(name) = head.as_sym() {
            match self.resolve(name) {
                Resolved::Special => return self.expand_special(name, head, args, span),
                Resolved::Prim(p) => {
                    forms::check_prim_arity(p, args.len(), head.span)?;
                    let xs = self.expand_all(args)?;
                    if p.name == "spawn" {
                        self.check_spawn_thunk(&xs)?;
                    }
                    return Ok(Expr::new(ExprKind::PrimCall(p.name.to_string(), xs), span));
                }
                _ => {}
            }
        }
        if let Some(e) = self.expand_constructor(head, args, span)? {
            return Ok(e);
        }
        if let Some(e) = self.expand_generic_call(head, args, span)? {
            return Ok(e);
        }
        let callee = self.expand(head)?;
        let xs = self.expand_all(args)?;
        Ok(Expr::new(ExprKind::Call(Box::new(callee), xs), span))
    }

    fn expand_special(
        &mut self,
        name: &str,
        head: &Datum,
        args: &[Datum],
        span: Span,
    ) -> Result<Expr> {
        if NOT_YET.contains(&name) {
            return Err(ExpandError::new(
                format!("`{name}` is not supported yet"),
                head.span,
                "not supported yet",
            ));
        }
        match name {
            "quote" => {
                shape::expect_args(name, args, 1, 1, head.span)?;
                shape::check_quoted(&args[0])?;
                Ok(Expr::new(ExprKind::Quote(args[0].clone()), span))
            }
            "quasiquote" => {
                shape::expect_args(name, args, 1, 1, head.span)?;
                shape::check_quoted(&args[0])?;
                self.expand_quasi(&args[0], 1)
            }
            "unquote" | "unquote-splicing" => Err(ExpandError::new(
                format!("`{name}` outside of a quasiquote"),
                head.span,
                "not inside a quasiquote",
            )),
            "if" => {
                shape::expect_args(name, args, 2, 3, head.span)?;
                let c = self.expand(&args[0])?;
                let t = self.expand(&args[1])?;
                let e = match args.get(2) {
                    Some(d) => self.expand(d)?,
                    None => Expr::nothing(span),
                };
                Ok(Expr::new(
                    ExprKind::If(Box::new(c), Box::new(t), Box::new(e)),
                    span,
                ))
            }
            "when" | "unless" => {
                shape::expect_args(name, args, 2, usize::MAX, head.span)?;
                let c = self.expand(&args[0])?;
                let body = self.expand_body(&args[1..], span)?;
                let (t, e) = if name == "when" {
                    (body, Expr::nothing(span))
                } else {
                    (Expr::nothing(span), body)
                };
                Ok(Expr::new(
                    ExprKind::If(Box::new(c), Box::new(t), Box::new(e)),
                    span,
                ))
            }
            "cond" => self.expand_cond(args, span),
            "and" | "or" => self.expand_and_or(name == "and", args, span),
            "do" | "begin" => {
                if args.is_empty() {
                    return Ok(Expr::nothing(span));
                }
                self.expand_body(args, span)
            }
            "let" => self.expand_let(args, head.span, span),
            "try" => self.expand_try(head, args, span),
            "handle" => self.expand_handle(head, args, span),
            "perform" => self.expand_perform(head, args, span),
            "put!" => self.expand_put(head, args, span),
            "catch" => Err(ExpandError::new(
                "`catch` outside of a `try`",
                head.span,
                "not the last form of a `try`",
            )),
            "resume" => Err(ExpandError::new(
                "`resume` outside of an effect handler (name it in the clause: `(eff [payload resume] ...)`)",
                head.span,
                "no handler here",
            )),
            "match" => self.expand_match(args, head.span, span),
            "import" => Err(ExpandError::new(
                "`import` is only allowed at the top level of a file",
                head.span,
                "import inside an expression",
            )),
            "fn" | "λ" | "lambda" => {
                let lam = self.expand_lambda(None, args, head.span, span)?;
                Ok(Expr::new(ExprKind::Lambda(lam), span))
            }
            "define" => Err(ExpandError::new(
                "`define` is only allowed at the top level or at the start of a body",
                head.span,
                "definition in expression position",
            )
            .with_note("use `let` to bind a value inside an expression")),
            "set!" => {
                shape::expect_args(name, args, 2, 2, head.span)?;
                let Some(target) = args[0].as_sym() else {
                    return Err(ExpandError::new(
                        "`set!` needs a variable name",
                        args[0].span,
                        "not a variable",
                    ));
                };
                let value = Box::new(self.expand(&args[1])?);
                match self.resolve(target) {
                    Resolved::Local(l) => Ok(Expr::new(ExprKind::SetLocal(l, value), span)),
                    Resolved::Global(g) => {
                        self.prog.globals[g.0 as usize].assigned = true;
                        Ok(Expr::new(ExprKind::SetGlobal(g, value), span))
                    }
                    Resolved::Prim(_) | Resolved::Special => Err(ExpandError::new(
                        format!("cannot `set!` the built-in `{target}`"),
                        args[0].span,
                        "built-in name",
                    )),
                    Resolved::Unbound => Err(ExpandError::new(
                        format!("unbound name `{target}`"),
                        args[0].span,
                        "`set!` of an undefined variable",
                    )),
                }
            }
            _ => unreachable!("special form {name}"),
        }
    }
}

/// Render a datum as source text (for dumps and messages; the lowering
/// names it this way).
pub fn datum_to_string(d: &Datum) -> String {
    d.to_string()
}

/// Read and expand `src` after the real prelude (for the unit tests of this
/// and later stages); also returns the source map.
#[cfg(test)]
pub(crate) fn expand_with_prelude(src: &str) -> (crate::syntax::SourceMap, Result<Program>) {
    let mut sm = crate::syntax::SourceMap::default();
    let pf = sm.add(
        "std/prelude.omni",
        include_str!("../../../std/prelude.omni"),
    );
    let f = sm.add("t.omni", src);
    let prelude = crate::syntax::read_program(sm.source(pf), pf).expect("prelude reads");
    let prog = crate::syntax::read_program(sm.source(f), f).expect("program reads");
    let expanded = expand_program(prelude, prog);
    (sm, expanded)
}

#[cfg(test)]
mod tests {
    /// Expand `src` after the real prelude.
    fn expand(src: &str) -> super::Result<super::Program> {
        super::expand_with_prelude(src).1
    }

    #[test]
    fn no_runtime_internal_resolves_in_a_program() {
        let internals: Vec<&str> = omni_runtime::prims::PRIMS
            .iter()
            .map(|p| p.name)
            .filter(|n| n.starts_with('%'))
            .collect();
        assert!(internals.len() > 10, "{internals:?}");
        for name in internals {
            for src in [format!("({name} 1 2 3)"), format!("(list {name})")] {
                let e = expand(&src).expect_err(&src);
                assert_eq!(e.message, format!("unbound name `{name}`"), "{src}");
            }
        }
        // The prelude's own `%` helpers are internals too.
        let e = expand("(%seq-ref (list 1) 0)").expect_err("a prelude internal");
        assert_eq!(e.message, "unbound name `%seq-ref`");
    }

    #[test]
    fn generated_code_still_reaches_internals() {
        // Annotations, dispatch, effects and `match` all expand to `%` calls.
        let src = "(define f [x {Int}] {Int} x) (define g [x] 1) (define g [x y] 2)
                   (match (list 1 2) [a b] a _ 0) (try (f 1) (catch e e))";
        assert!(expand(src).is_ok());
    }
}
