//! Types, structs, annotations, multiple dispatch, `put!`, `try`/`catch`
//! and effect handlers (LANGUAGE.md §3 errors/effects and §4).
//!
//! Everything here desugars to runtime primitives (`prims/types.rs`,
//! `effects.rs`), plain calls and lambdas:
//! - `(define {abstract Shape})`, `(define ^:parent {Shape} {struct Circle}
//!   [r {Float}])`, `{mutable-struct …}`, `(define {effect ask})` define a
//!   global bound to `(%make-type 'Name parent kind '(fields) (list types))`.
//! - `(Circle 2.0)` (a call whose head names a struct) is `(%struct-new
//!   Circle 2.0)`, its arity checked at compile time.
//! - A type expression `{T}` evaluates to the type value; built-in type
//!   names not shadowed by a definition are `(%builtin-type id)`.
//! - Annotations become `(%check-type v {T} "what")`; a literal that
//!   provably does not fit a built-in annotation is a compile error.
//! - A name defined at top level by several function `define`s is a
//!   *generic*: each method becomes a hidden global `f%m<j>`, registered in
//!   the method table `f%methods` when its `define` runs; `f%a<n>` is the
//!   dispatcher for calls with `n` arguments (`%dispatch` picks the method
//!   number, a chain of `eq?` tests tail-calls it directly) and `f` itself
//!   is the dispatcher value (`f%a<n>` when every method has arity `n`,
//!   else a rest-parameter function using `%dispatch-apply`). A call site
//!   `(f a b)` calls the single untyped method of that arity directly, or
//!   `f%a2`; a name defined once is an ordinary known function.

use super::ast::{Expr, ExprKind, GlobalId, Lambda, Literal, LocalId};
use super::{ExpandError, Expander, Resolved, Result};
use crate::syntax::{Datum, DatumKind, Span};
use std::collections::HashMap;
use std::rc::Rc;

/// A struct definition, for constructors and struct patterns.
#[derive(Debug, Clone)]
pub(crate) struct StructInfo {
    pub global: GlobalId,
    pub fields: Vec<String>,
    /// Declared `{mutable-struct}` (for pattern and dump consumers).
    #[allow(dead_code)]
    pub mutable: bool,
}

/// One method of a generic function.
#[derive(Debug, Clone)]
pub(crate) struct MethodInfo {
    pub arity: usize,
    pub rest: bool,
    pub typed: bool,
    pub global: GlobalId,
}

/// A generic function (a name with several function `define`s).
#[derive(Debug, Clone, Default)]
pub(crate) struct GenericInfo {
    pub methods: Vec<MethodInfo>,
    pub table: Option<GlobalId>,
    /// Dispatcher per fixed arity.
    pub by_arity: HashMap<usize, GlobalId>,
    /// Methods expanded so far (the next `define` is method `next`).
    pub next: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DefKind {
    Abstract,
    Struct,
    MutableStruct,
    Effect,
}

/// A parsed type/struct/effect definition.
struct TypeDef<'d> {
    kind: DefKind,
    name: &'d str,
    name_span: Span,
    parent: Option<&'d Datum>,
    /// `(name, type, span)`.
    fields: Vec<(&'d str, Option<&'d Datum>, Span)>,
}

fn err<T>(msg: impl Into<String>, span: Span, label: &str) -> Result<T> {
    Err(ExpandError::new(msg, span, label))
}

/// Parse `(define [^:parent {P}] {kind Name} fields...)`; `items[0]` is
/// `define`. `None` when `items[1]` is a plain name.
fn parse_typedef(items: &[Datum]) -> Result<Option<TypeDef<'_>>> {
    let mut i = 1;
    let mut parent = None;
    if let Some(Datum {
        kind: DatumKind::Meta(m),
        span,
    }) = items.get(1)
    {
        if m != "parent" {
            return err(
                format!("unknown definition metadata `^:{m}` (expected `^:parent`)"),
                *span,
                "unknown metadata",
            );
        }
        match items.get(2) {
            Some(
                d @ Datum {
                    kind: DatumKind::Kind(_),
                    ..
                },
            ) => parent = Some(d),
            _ => {
                return err(
                    "`^:parent` must be followed by a type `{Parent}`",
                    *span,
                    "missing parent type",
                )
            }
        }
        i = 3;
    }
    let Some(head) = items.get(i) else {
        return err(
            "malformed definition: expected `{struct Name}`, `{abstract Name}` or `{effect name}`",
            items[0].span,
            "incomplete",
        );
    };
    let DatumKind::Kind(ks) = &head.kind else {
        if parent.is_some() {
            return err(
                "`^:parent` applies to `{struct Name}` or `{abstract Name}` definitions",
                head.span,
                "not a type definition",
            );
        }
        return Ok(None);
    };
    let (kind, name, name_span) = match ks.as_slice() {
        [k, n] => {
            let kind = match k.as_sym() {
                Some("abstract") => DefKind::Abstract,
                Some("struct") => DefKind::Struct,
                Some("mutable-struct") => DefKind::MutableStruct,
                Some("effect") => DefKind::Effect,
                _ => return err("expected `{struct Name}`, `{mutable-struct Name}`, `{abstract Name}` or `{effect name}`", head.span, "unknown definition kind"),
            };
            let Some(name) = n.as_sym() else {
                return err("the defined type needs a name", n.span, "not a name");
            };
            (kind, name, n.span)
        }
        _ => return err("expected `{struct Name}`, `{mutable-struct Name}`, `{abstract Name}` or `{effect name}`", head.span, "malformed definition"),
    };
    let mut fields: Vec<(&str, Option<&Datum>, Span)> = Vec::new();
    let rest = &items[i + 1..];
    if matches!(kind, DefKind::Abstract | DefKind::Effect) {
        if let Some(extra) = rest.first() {
            return err(
                "an abstract type or effect has no fields",
                extra.span,
                "unexpected field",
            );
        }
        if kind == DefKind::Effect && parent.is_some() {
            return err(
                "an effect has no parent type",
                head.span,
                "effect with a parent",
            );
        }
    }
    for slot in rest {
        let xs = match &slot.kind {
            DatumKind::Slot(xs) => xs.as_slice(),
            DatumKind::Sym(_) => std::slice::from_ref(slot),
            _ => {
                return err(
                    "a field is `[name]` or `[name {Type}]`",
                    slot.span,
                    "malformed field",
                )
            }
        };
        let mut j = 0;
        while j < xs.len() {
            let Some(f) = xs[j].as_sym() else {
                return err(
                    "a field is `[name]` or `[name {Type}]`",
                    xs[j].span,
                    "malformed field",
                );
            };
            let ty = type_after(xs, j);
            j += ty.is_some() as usize;
            if fields.iter().any(|(g, _, _)| *g == f) {
                return err(format!("duplicate field `{f}`"), xs[j].span, "duplicate");
            }
            fields.push((f, ty, xs[j].span));
            j += 1;
        }
    }
    Ok(Some(TypeDef {
        kind,
        name,
        name_span,
        parent,
        fields,
    }))
}

/// The name a type/struct/effect definition defines (for `define_name`).
pub(super) fn typedef_name(items: &[Datum]) -> Result<Option<(&str, Span)>> {
    Ok(parse_typedef(items)?.map(|t| (t.name, t.name_span)))
}

/// Built-in types and their parents (for compile-time literal checks).
fn builtin_parent(name: &str) -> Option<&'static str> {
    match name {
        "Int" | "Float" => Some("Number"),
        "Any" => None,
        _ => Some("Any"),
    }
}

fn builtin_subtype(mut sub: &str, sup: &str) -> bool {
    loop {
        if sub == sup {
            return true;
        }
        match builtin_parent(sub) {
            Some(p) => sub = p,
            None => return false,
        }
    }
}

/// The built-in type of a literal datum.
fn literal_type(d: &Datum) -> Option<&'static str> {
    Some(match &d.kind {
        DatumKind::Int(_) => "Int",
        DatumKind::Float(_) => "Float",
        DatumKind::Str(_) => "String",
        DatumKind::Char(_) => "Char",
        DatumKind::Bool(_) => "Bool",
        DatumKind::Nothing => "Nothing",
        DatumKind::Slot(_) => "Array",
        DatumKind::Dict(_) => "Dict",
        _ => return None,
    })
}

/// Synthesise `(head args...)` at `span`.
fn list_datum(span: Span, items: Vec<Datum>) -> Datum {
    Datum::new(DatumKind::List(items), span)
}

fn sym_datum(s: &str, span: Span) -> Datum {
    Datum::new(DatumKind::Sym(s.to_string()), span)
}

/// The per-parameter annotations of a parameter list (`None` = untyped);
/// the rest parameter is never typed.
pub(super) fn param_types(params: &[Datum]) -> Vec<(String, Option<Datum>)> {
    let mut out = Vec::new();
    for p in params {
        match &p.kind {
            DatumKind::Sym(s) if s != ".." => out.push((s.clone(), None)),
            DatumKind::Slot(xs) => {
                let mut j = 0;
                while j < xs.len() {
                    match xs[j].as_sym() {
                        Some("..") => break,
                        Some(n) => {
                            let ty = type_after(xs, j).cloned();
                            j += ty.is_some() as usize;
                            out.push((n.to_string(), ty));
                        }
                        None => {}
                    }
                    j += 1;
                }
            }
            _ => {}
        }
    }
    out
}

/// Is a `define`'s tail (after the name) a function definition?
pub(super) fn is_function_define(rest: &[Datum]) -> bool {
    let value_define = matches!(
        rest,
        [] | [_]
            | [
                Datum {
                    kind: DatumKind::Kind(_),
                    ..
                },
                _
            ]
    );
    !value_define
}

impl Expander {
    /// The value of a type expression `{T}` / `{(Array Int)}` (parametric
    /// types are checked by their outer type only).
    pub(crate) fn type_expr(&mut self, d: &Datum) -> Result<Expr> {
        let DatumKind::Kind(items) = &d.kind else {
            return err("expected a type `{T}`", d.span, "not a type");
        };
        let head = match items.as_slice() {
            [one] => match &one.kind {
                DatumKind::List(xs) if !xs.is_empty() => &xs[0],
                _ => one,
            },
            _ => {
                return err(
                    "a type annotation holds one type: `{Int}`, `{(Array Int)}`",
                    d.span,
                    "malformed type",
                )
            }
        };
        match head.as_sym() {
            Some(name) => self.type_name_expr(name, head.span),
            None => err("a type is named by a symbol", head.span, "not a type name"),
        }
    }

    /// A type name: a binding in scope, else a built-in type.
    fn type_name_expr(&mut self, name: &str, span: Span) -> Result<Expr> {
        match self.resolve(name) {
            Resolved::Local(l) => Ok(Expr::new(ExprKind::Local(l), span)),
            Resolved::Global(g) => Ok(Expr::new(ExprKind::Global(g), span)),
            _ => match self.builtin_type_expr(name, span) {
                Some(e) => Ok(e),
                None => err(format!("unknown type `{name}`"), span, "not a type"),
            },
        }
    }

    /// `(%builtin-type id)` for a built-in type name.
    pub(crate) fn builtin_type_expr(&self, name: &str, span: Span) -> Option<Expr> {
        let id = omni_runtime::types::builtin_id(name)?;
        Some(Expr::new(
            ExprKind::PrimCall(
                "%builtin-type".into(),
                vec![Expr::new(ExprKind::Lit(Literal::Int(id as i64)), span)],
            ),
            span,
        ))
    }

    /// The built-in type an annotation names, if it is one (not shadowed).
    fn annotation_builtin(&self, t: &Datum) -> Option<String> {
        let DatumKind::Kind(items) = &t.kind else {
            return None;
        };
        let head = match items.first().map(|d| &d.kind) {
            Some(DatumKind::List(xs)) => xs.first()?,
            _ => items.first()?,
        };
        let name = head.as_sym()?;
        match self.resolve(name) {
            Resolved::Local(_) | Resolved::Global(_) => None,
            _ => omni_runtime::types::builtin_id(name).map(|_| name.to_string()),
        }
    }

    /// A compile error when literal `value` provably does not fit `t`.
    pub(crate) fn check_literal(&self, what: &str, t: &Datum, value: &Datum) -> Result<()> {
        let (Some(ty), Some(lit)) = (self.annotation_builtin(t), literal_type(value)) else {
            return Ok(());
        };
        if builtin_subtype(lit, &ty) {
            return Ok(());
        }
        err(
            format!(
                "type error: {what}: expected {ty}, got {lit} {}",
                super::datum_to_string(value)
            ),
            value.span,
            format!("this {lit} does not fit {{{ty}}}").as_str(),
        )
    }

    /// `(%check-type value {T} "what")` as a datum (expanded by the caller).
    pub(crate) fn check_datum(what: &str, t: &Datum, value: Datum, span: Span) -> Datum {
        list_datum(
            span,
            vec![
                sym_datum("%check-type", span),
                value,
                t.clone(),
                Datum::new(DatumKind::Str(what.to_string()), span),
            ],
        )
    }

    // ---------------------------------------------------------- definitions

    /// Expand a top-level type/struct/effect definition, if `d` is one.
    pub(super) fn expand_typedef(&mut self, items: &[Datum], span: Span) -> Result<Option<Expr>> {
        let Some(def) = parse_typedef(items)? else {
            return Ok(None);
        };
        let Some(Resolved::Global(g)) = Some(self.resolve(def.name)) else {
            return err(
                "type definitions are only allowed at the top level",
                span,
                "not at top level",
            );
        };
        let parent = match def.parent {
            Some(p) => self.type_expr(p)?,
            None => Expr::nothing(span),
        };
        let kind = match def.kind {
            DefKind::Abstract => 0,
            DefKind::Struct => 1,
            DefKind::MutableStruct => 2,
            DefKind::Effect => 3,
        };
        let names: Vec<Datum> = def
            .fields
            .iter()
            .map(|(n, _, s)| sym_datum(n, *s))
            .collect();
        let fields = if names.is_empty() {
            Expr::new(ExprKind::Lit(Literal::Nil), span)
        } else {
            Expr::new(ExprKind::Quote(list_datum(span, names)), span)
        };
        let mut types = Vec::new();
        for (_, t, s) in &def.fields {
            types.push(match t {
                Some(t) => self.type_expr(t)?,
                None => self.builtin_type_expr("Any", *s).expect("Any is built in"),
            });
        }
        let ftypes = if types.is_empty() {
            Expr::new(ExprKind::Lit(Literal::Nil), span)
        } else {
            Expr::new(ExprKind::PrimCall("list".into(), types), span)
        };
        let sym = Expr::new(
            ExprKind::Quote(sym_datum(def.name, def.name_span)),
            def.name_span,
        );
        let make = Expr::new(
            ExprKind::PrimCall(
                "%make-type".into(),
                vec![
                    sym,
                    parent,
                    Expr::new(ExprKind::Lit(Literal::Int(kind)), span),
                    fields,
                    ftypes,
                ],
            ),
            span,
        );
        Ok(Some(Expr::new(
            ExprKind::DefineGlobal(g, Box::new(make)),
            span,
        )))
    }

    /// Record struct definitions (after every top-level name is declared),
    /// so constructor calls anywhere in the program are recognised.
    pub(super) fn declare_typedef(&mut self, d: &Datum) -> Result<()> {
        let DatumKind::List(items) = &d.kind else {
            return Ok(());
        };
        if items.first().and_then(|h| h.as_sym()) != Some("define") {
            return Ok(());
        }
        let Some(def) = parse_typedef(items)? else {
            return Ok(());
        };
        if matches!(def.kind, DefKind::Struct | DefKind::MutableStruct) {
            if let Resolved::Global(g) = self.resolve(def.name) {
                self.structs.insert(
                    def.name.to_string(),
                    StructInfo {
                        global: g,
                        fields: def.fields.iter().map(|(n, _, _)| n.to_string()).collect(),
                        mutable: def.kind == DefKind::MutableStruct,
                    },
                );
            }
        }
        Ok(())
    }

    /// The struct defined as global `name`, if any (and never reassigned).
    pub(crate) fn struct_info(&self, name: &str) -> Option<&StructInfo> {
        let info = self.structs.get(name)?;
        match self.resolve(name) {
            Resolved::Global(g)
                if g == info.global && !self.prog.globals[g.0 as usize].assigned =>
            {
                Some(info)
            }
            _ => None,
        }
    }

    /// `(Circle 2.0)` when `Circle` names a struct: `(%struct-new Circle 2.0)`.
    pub(super) fn expand_constructor(
        &mut self,
        head: &Datum,
        args: &[Datum],
        span: Span,
    ) -> Result<Option<Expr>> {
        let Some(name) = head.as_sym() else {
            return Ok(None);
        };
        let Some(info) = self.struct_info(name).cloned() else {
            return Ok(None);
        };
        if args.len() != info.fields.len() {
            return err(
                format!(
                    "wrong number of arguments to the constructor `{name}`: expected {} ({}), got {}",
                    info.fields.len(),
                    info.fields.join(" "),
                    args.len()
                ),
                head.span,
                "called here",
            );
        }
        let mut xs = vec![Expr::new(ExprKind::Global(info.global), head.span)];
        xs.extend(self.expand_all(args)?);
        Ok(Some(Expr::new(
            ExprKind::PrimCall("%struct-new".into(), xs),
            span,
        )))
    }

    /// `(put! obj.field v)`, `(put! xs.[i] v)`, `(put! obj key v)`.
    pub(super) fn expand_put(&mut self, head: &Datum, args: &[Datum], span: Span) -> Result<Expr> {
        let (obj, key, value) = match args {
            [target, value] => {
                let t = self.expand(target)?;
                match t.kind {
                    ExprKind::PrimCall(ref g, ref xs) if g == "get" && xs.len() == 2 => {
                        (xs[0].clone(), xs[1].clone(), self.expand(value)?)
                    }
                    _ => {
                        return err(
                            "`put!` needs a field path like `acc.balance` or `xs.[i]`",
                            target.span,
                            "not a path",
                        )
                    }
                }
            }
            [obj, key, value] => (self.expand(obj)?, self.expand(key)?, self.expand(value)?),
            _ => {
                return err(
                    "`put!` expects a path and a value: `(put! acc.balance 25)`",
                    head.span,
                    "wrong number of arguments",
                )
            }
        };
        Ok(Expr::new(
            ExprKind::PrimCall("%put!".into(), vec![obj, key, value]),
            span,
        ))
    }

    // ---------------------------------------------------------- generics

    /// Find the generics: names with several top-level function `define`s.
    /// Declares their hidden globals.
    pub(super) fn plan_generics(&mut self, forms: &[Datum]) -> Result<()> {
        let mut defs: HashMap<String, Vec<&[Datum]>> = HashMap::new();
        let mut order = Vec::new();
        for d in forms {
            let DatumKind::List(items) = &d.kind else {
                continue;
            };
            if items.first().and_then(|h| h.as_sym()) != Some("define") {
                continue;
            }
            let Some(name) = items.get(1).and_then(|n| n.as_sym()) else {
                continue;
            };
            if !defs.contains_key(name) {
                order.push(name.to_string());
            }
            defs.entry(name.to_string()).or_default().push(&items[2..]);
        }
        for name in order {
            let ds = &defs[&name];
            let Resolved::Global(g) = self.resolve(&name) else {
                continue;
            };
            if ds.len() < 2
                || self.prog.globals[g.0 as usize].assigned
                || !ds.iter().all(|r| is_function_define(r))
            {
                continue;
            }
            let mut info = GenericInfo::default();
            for (j, rest) in ds.iter().enumerate() {
                let (params, _) = super::forms::split_function_pub(rest);
                let ps = param_types(params);
                let has_rest = params.iter().any(|p| match &p.kind {
                    DatumKind::Slot(xs) => xs.iter().any(|x| x.as_sym() == Some("..")),
                    _ => false,
                });
                let global = self.declare_hidden(&format!("{name}%m{j}"));
                info.methods.push(MethodInfo {
                    arity: ps.len(),
                    rest: has_rest,
                    typed: ps.iter().any(|(_, t)| t.is_some()),
                    global,
                });
            }
            info.table = Some(self.declare_hidden(&format!("{name}%methods")));
            let mut arities: Vec<usize> = info
                .methods
                .iter()
                .filter(|m| !m.rest)
                .map(|m| m.arity)
                .collect();
            arities.sort();
            arities.dedup();
            for n in arities {
                let gid = self.declare_hidden(&format!("{name}%a{n}"));
                info.by_arity.insert(n, gid);
            }
            self.generics.insert(name, info);
        }
        Ok(())
    }

    fn declare_hidden(&mut self, name: &str) -> GlobalId {
        let g = GlobalId(self.prog.globals.len() as u32);
        self.prog.globals.push(super::ast::GlobalInfo {
            name: name.to_string(),
            definitions: 1,
            assigned: false,
        });
        self.global_index.insert(name.to_string(), g);
        g
    }

    /// The generic named by a call head, if it is one.
    fn generic_of(&self, name: &str) -> Option<&GenericInfo> {
        let info = self.generics.get(name)?;
        match self.resolve(name) {
            Resolved::Global(_) => Some(info),
            _ => None,
        }
    }

    /// A call of a generic: the single untyped method of that arity
    /// directly, else the per-arity dispatcher, else the generic value.
    pub(super) fn expand_generic_call(
        &mut self,
        head: &Datum,
        args: &[Datum],
        span: Span,
    ) -> Result<Option<Expr>> {
        let Some(name) = head.as_sym() else {
            return Ok(None);
        };
        let Some(info) = self.generic_of(name) else {
            return Ok(None);
        };
        let n = args.len();
        let cands: Vec<&MethodInfo> = info
            .methods
            .iter()
            .filter(|m| m.arity == n || (m.rest && m.arity <= n))
            .collect();
        let target = match cands.as_slice() {
            [m] if !m.typed && !m.rest => m.global,
            _ if !info.by_arity.contains_key(&n) => return Ok(None),
            _ => {
                // Inline dispatch: the arguments are bound, `%dispatch`
                // (errors carry this call's location) picks the method, the
                // chosen method is called directly (a tail call here when
                // the call is in tail position).
                let info = info.clone();
                let table = info.table.expect("planned");
                let xs = self.expand_all(args)?;
                let ps: Vec<LocalId> = (0..n)
                    .map(|k| self.fresh_local(&format!("a{k}"), span))
                    .collect();
                let body = self.dispatch_body(name, &info, table, &ps, span);
                return Ok(Some(Expr::new(
                    ExprKind::Let(ps.into_iter().zip(xs).collect(), Box::new(body)),
                    span,
                )));
            }
        };
        let xs = self.expand_all(args)?;
        Ok(Some(Expr::new(
            ExprKind::Call(Box::new(Expr::new(ExprKind::Global(target), head.span)), xs),
            span,
        )))
    }

    /// A top-level `define` of a generic's method: the method, its
    /// registration and (for the first method) the table and dispatchers.
    pub(super) fn expand_method_define(
        &mut self,
        items: &[Datum],
        span: Span,
    ) -> Result<Option<Vec<Expr>>> {
        let Some(name) = items.get(1).and_then(|n| n.as_sym()) else {
            return Ok(None);
        };
        let Some(info) = self.generics.get(name).cloned() else {
            return Ok(None);
        };
        let j = info.next;
        self.generics.get_mut(name).unwrap().next += 1;
        let mut out = Vec::new();
        let table = info.table.expect("planned");
        let gname = match self.resolve(name) {
            Resolved::Global(g) => g,
            _ => unreachable!("generic names are globals"),
        };
        let sym = |s: Span| Expr::new(ExprKind::Quote(sym_datum(name, s)), s);
        if j == 0 {
            out.push(Expr::new(
                ExprKind::DefineGlobal(
                    table,
                    Box::new(Expr::new(ExprKind::MakeArray(vec![]), span)),
                ),
                span,
            ));
            let mut arities: Vec<(usize, GlobalId)> =
                info.by_arity.iter().map(|(a, g)| (*a, *g)).collect();
            arities.sort();
            for (n, g) in &arities {
                let lam = self.dispatcher(name, &info, table, *n, span);
                out.push(Expr::new(ExprKind::DefineGlobal(*g, Box::new(lam)), span));
            }
            let single = info.methods.iter().all(|m| !m.rest) && arities.len() == 1;
            let main = if single {
                Expr::new(ExprKind::Global(arities[0].1), span)
            } else {
                let args = self.fresh_local("args", span);
                let body = Expr::new(
                    ExprKind::PrimCall(
                        "%dispatch-apply".into(),
                        vec![
                            Expr::new(ExprKind::Global(table), span),
                            sym(span),
                            Expr::new(ExprKind::Local(args), span),
                        ],
                    ),
                    span,
                );
                Expr::new(
                    ExprKind::Lambda(Rc::new(Lambda {
                        name: Some(name.to_string()),
                        params: vec![],
                        rest: Some(args),
                        body,
                        span,
                    })),
                    span,
                )
            };
            out.push(Expr::new(
                ExprKind::DefineGlobal(gname, Box::new(main)),
                span,
            ));
        }
        // The method itself (parameter types are guaranteed by dispatch).
        let m = &info.methods[j];
        self.skip_param_checks = true;
        let lam = self.expand_lambda(Some(name.to_string()), &items[2..], items[0].span, span);
        self.skip_param_checks = false;
        let lam = lam?;
        let params = super::forms::split_function_pub(&items[2..]).0;
        out.push(Expr::new(
            ExprKind::DefineGlobal(m.global, Box::new(Expr::new(ExprKind::Lambda(lam), span))),
            span,
        ));
        let mut entry = vec![
            Expr::new(ExprKind::Lit(Literal::Int(j as i64)), span),
            Expr::new(ExprKind::Global(m.global), span),
            Expr::new(ExprKind::Lit(Literal::Bool(m.rest)), span),
        ];
        for (_, t) in param_types(params) {
            entry.push(match t {
                Some(t) => self.type_expr(&t)?,
                None => self
                    .builtin_type_expr("Any", span)
                    .expect("Any is built in"),
            });
        }
        out.push(Expr::new(
            ExprKind::PrimCall(
                "%method-add!".into(),
                vec![
                    Expr::new(ExprKind::Global(table), span),
                    Expr::new(ExprKind::MakeArray(entry), span),
                ],
            ),
            span,
        ));
        Ok(Some(out))
    }

    /// `(fn name [p1 … pn] (let [i (%dispatch table 'name p1 … pn)] (if (eq? i j) (f%mj p1 … pn) …)))`.
    fn dispatcher(
        &mut self,
        name: &str,
        info: &GenericInfo,
        table: GlobalId,
        n: usize,
        span: Span,
    ) -> Expr {
        let params: Vec<LocalId> = (0..n)
            .map(|k| self.fresh_local(&format!("p{k}"), span))
            .collect();
        let body = self.dispatch_body(name, info, table, &params, span);
        Expr::new(
            ExprKind::Lambda(Rc::new(Lambda {
                name: Some(name.to_string()),
                params,
                rest: None,
                body,
                span,
            })),
            span,
        )
    }

    /// `(let [i (%dispatch table 'name p1 … pn)] (if (eq? i j) (f%mj p1 … pn) …))`.
    fn dispatch_body(
        &mut self,
        name: &str,
        info: &GenericInfo,
        table: GlobalId,
        params: &[LocalId],
        span: Span,
    ) -> Expr {
        let n = params.len();
        let i = self.fresh_local("method", span);
        let args = || {
            params
                .iter()
                .map(|p| Expr::new(ExprKind::Local(*p), span))
                .collect::<Vec<_>>()
        };
        let mut dargs = vec![
            Expr::new(ExprKind::Global(table), span),
            Expr::new(ExprKind::Quote(sym_datum(name, span)), span),
        ];
        dargs.extend(args());
        let cands: Vec<(usize, GlobalId)> = info
            .methods
            .iter()
            .enumerate()
            .filter(|(_, m)| m.arity == n || (m.rest && m.arity <= n))
            .map(|(j, m)| (j, m.global))
            .collect();
        let call = |g: GlobalId| {
            Expr::new(
                ExprKind::Call(Box::new(Expr::new(ExprKind::Global(g), span)), args()),
                span,
            )
        };
        let (&(_, last), rest) = cands.split_last().expect("a dispatcher has methods");
        let mut chain = call(last);
        for (j, g) in rest.iter().rev() {
            let test = Expr::new(
                ExprKind::PrimCall(
                    "eq?".into(),
                    vec![
                        Expr::new(ExprKind::Local(i), span),
                        Expr::new(ExprKind::Lit(Literal::Int(*j as i64)), span),
                    ],
                ),
                span,
            );
            chain = Expr::new(
                ExprKind::If(Box::new(test), Box::new(call(*g)), Box::new(chain)),
                span,
            );
        }
        Expr::new(
            ExprKind::Let(
                vec![(
                    i,
                    Expr::new(ExprKind::PrimCall("%dispatch".into(), dargs), span),
                )],
                Box::new(chain),
            ),
            span,
        )
    }

    // ---------------------------------------------------------- try / effects

    /// A zero-parameter lambda around `body` forms.
    fn thunk(&mut self, body: &[Datum], head_span: Span, span: Span) -> Result<Expr> {
        let mut items = vec![Datum::new(DatumKind::Slot(vec![]), head_span)];
        items.extend(body.iter().cloned());
        let lam = self.expand_lambda(None, &items, head_span, span)?;
        Ok(Expr::new(ExprKind::Lambda(lam), span))
    }

    /// `(try body... (catch e handler...))`.
    pub(super) fn expand_try(&mut self, head: &Datum, args: &[Datum], span: Span) -> Result<Expr> {
        let catch = match args.last().map(|d| &d.kind) {
            Some(DatumKind::List(xs)) if xs.first().and_then(|h| h.as_sym()) == Some("catch") => xs,
            _ => {
                return err(
                    "`try` needs a body and a final `(catch e handler...)`",
                    head.span,
                    "missing catch",
                )
            }
        };
        let body = &args[..args.len() - 1];
        if body.is_empty() {
            return err(
                "`try` needs a body before its `catch`",
                head.span,
                "empty try",
            );
        }
        let (Some(var), true) = (
            catch.get(1).and_then(|v| v.as_sym().map(|s| (s, v.span))),
            catch.len() >= 3,
        ) else {
            return err(
                "`catch` needs a variable and a handler: `(catch e (error-message e))`",
                args[args.len() - 1].span,
                "malformed catch",
            );
        };
        let thunk = self.thunk(body, head.span, span)?;
        let r = self.fresh_local("try", span);
        self.push_scope();
        let e = self.bind_local(var.0, var.1);
        let handler = self.expand_body(&catch[2..], span);
        self.pop_scope();
        let handler = Expr::new(
            ExprKind::Let(
                vec![(e, Expr::new(ExprKind::Local(r), span))],
                Box::new(handler?),
            ),
            span,
        );
        let caught = Expr::new(ExprKind::PrimCall("%caught?".into(), vec![]), span);
        let iff = Expr::new(
            ExprKind::If(
                Box::new(caught),
                Box::new(handler),
                Box::new(Expr::new(ExprKind::Local(r), span)),
            ),
            span,
        );
        let run = Expr::new(ExprKind::PrimCall("%try".into(), vec![thunk]), span);
        Ok(Expr::new(
            ExprKind::Let(vec![(r, run)], Box::new(iff)),
            span,
        ))
    }

    /// `(handle body (eff [payload resume] handler...) ...)`.
    pub(super) fn expand_handle(
        &mut self,
        head: &Datum,
        args: &[Datum],
        span: Span,
    ) -> Result<Expr> {
        let Some((body, clauses)) = args.split_first() else {
            return err(
                "`handle` needs a body and handler clauses",
                head.span,
                "empty handle",
            );
        };
        let thunk = self.thunk(std::slice::from_ref(body), head.span, span)?;
        let mut xs = vec![thunk];
        for c in clauses {
            let bad = || {
                err(
                    "a handler clause is `(effect [payload resume] body...)`",
                    c.span,
                    "malformed clause",
                )
            };
            let DatumKind::List(items) = &c.kind else {
                return bad();
            };
            let (
                Some(eff),
                Some(Datum {
                    kind: DatumKind::Slot(ps),
                    ..
                }),
            ) = (items.first(), items.get(1))
            else {
                return bad();
            };
            let (Some(p), Some(k)) = (
                ps.first().and_then(|d| d.as_sym()),
                ps.get(1).and_then(|d| d.as_sym()),
            ) else {
                return bad();
            };
            if ps.len() != 2 || items.len() < 3 {
                return bad();
            }
            xs.push(self.expand(eff)?);
            let kraw = self.fresh_local("k", c.span);
            let v = self.fresh_local("v", c.span);
            let resume = Expr::new(
                ExprKind::Lambda(Rc::new(Lambda {
                    name: Some("resume".into()),
                    params: vec![v],
                    rest: None,
                    body: Expr::new(
                        ExprKind::PrimCall(
                            "%resume".into(),
                            vec![
                                Expr::new(ExprKind::Local(kraw), c.span),
                                Expr::new(ExprKind::Local(v), c.span),
                            ],
                        ),
                        c.span,
                    ),
                    span: c.span,
                })),
                c.span,
            );
            self.push_scope();
            let pl = self.bind_local(p, ps[0].span);
            let kl = self.bind_local(k, ps[1].span);
            let hbody = self.expand_body(&items[2..], c.span);
            self.pop_scope();
            let hbody = Expr::new(ExprKind::Let(vec![(kl, resume)], Box::new(hbody?)), c.span);
            xs.push(Expr::new(
                ExprKind::Lambda(Rc::new(Lambda {
                    name: eff.as_sym().map(|s| format!("handler:{s}")),
                    params: vec![pl, kraw],
                    rest: None,
                    body: hbody,
                    span: c.span,
                })),
                c.span,
            ));
        }
        Ok(Expr::new(ExprKind::PrimCall("%handle".into(), xs), span))
    }

    /// `(perform eff)` / `(perform eff payload)`.
    pub(super) fn expand_perform(
        &mut self,
        head: &Datum,
        args: &[Datum],
        span: Span,
    ) -> Result<Expr> {
        super::forms::expect_args("perform", args, 1, 2, head.span)?;
        let eff = self.expand(&args[0])?;
        let v = match args.get(1) {
            Some(d) => self.expand(d)?,
            None => Expr::nothing(span),
        };
        Ok(Expr::new(
            ExprKind::PrimCall("%perform".into(), vec![eff, v]),
            span,
        ))
    }
}

/// The `{Type}` right after the name at `xs[j]`, if there is one.
fn type_after(xs: &[Datum], j: usize) -> Option<&Datum> {
    xs.get(j + 1)
        .filter(|t| matches!(t.kind, DatumKind::Kind(_)))
}
