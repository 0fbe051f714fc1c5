//! Types, structs, annotations and `put!` (LANGUAGE.md §4).
//!
//! Everything here desugars to runtime primitives (`prims/types.rs`), plain
//! calls and lambdas:
//! - `(define {abstract Shape})`, `(define ^:parent {Shape} {struct Circle}
//!   [r {Float}])`, `{mutable-struct …}`, `(define {effect ask})` define a
//!   global bound to `(%make-type 'Name parent kind '(fields) (list types))`.
//! - `(Circle 2.0)` (a call whose head names a struct) is `(%struct-new
//!   Circle 2.0)`, its arity checked at compile time.
//! - A type expression `{T}` evaluates to the type value; built-in type
//!   names not shadowed by a definition are `(%builtin-type id)`.
//! - Annotations become `(%check-type v {T} "what")`; a literal that
//!   provably does not fit a built-in annotation is a compile error. A
//!   function's `{Ret}` is checked in each tail position of its body, except
//!   at a tail call to a function known to check the same (or a narrower)
//!   built-in type itself: that call stays a proper tail call.
//!
//! Multiple dispatch is in `dispatch.rs`, `try` and effects in `effects.rs`.

use super::ast::{Expr, ExprKind, GlobalId, Literal};
use super::shape::{parse_params, DefKind, TopForm, TypeDef};
use super::{ExpandError, Expander, Resolved, Result};
use crate::syntax::{Datum, DatumKind, Span};
use std::collections::HashSet;

/// A struct definition, for constructors and struct patterns.
#[derive(Debug, Clone)]
pub(crate) struct StructInfo {
    pub global: GlobalId,
    pub fields: Vec<String>,
    /// Declared `{mutable-struct}` (for pattern and dump consumers).
    #[allow(dead_code)]
    pub mutable: bool,
}

pub(super) fn err<T>(msg: impl Into<String>, span: Span, label: &str) -> Result<T> {
    Err(ExpandError::new(msg, span, label))
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
pub(super) fn list_datum(span: Span, items: Vec<Datum>) -> Datum {
    Datum::new(DatumKind::List(items), span)
}

pub(super) fn sym_datum(s: &str, span: Span) -> Datum {
    Datum::new(DatumKind::Sym(s.to_string()), span)
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
            format!("type error: {what}: expected {ty}, got {lit} {}", value),
            value.span,
            format!("this {lit} does not fit {{{ty}}}").as_str(),
        )
    }

    /// `(%check-type value {T} "what")` as a datum (expanded by the caller).
    pub(crate) fn check_datum(what: &str, t: &Datum, value: Datum, span: Span) -> Datum {
        list_datum(
            span,
            vec![
                sym_datum(&format!("{}%check-type", super::INTERNAL_PREFIX), span),
                value,
                t.clone(),
                Datum::new(DatumKind::Str(what.to_string()), span),
            ],
        )
    }

    /// The simple type name of annotation `{Name}`, if it is one.
    fn simple_annotation(t: &Datum) -> Option<&str> {
        match &t.kind {
            DatumKind::Kind(items) => match items.as_slice() {
                [one] => one.as_sym(),
                _ => None,
            },
            _ => None,
        }
    }

    /// Record the top-level functions whose `{Name}` result check makes a
    /// tail call to them safe to leave unchecked: defined once, never the
    /// target of a `set!` anywhere (a syntactic over-approximation), and
    /// `Name` not one of their parameters.
    pub(super) fn plan_result_checks(&mut self, forms: &[Datum], shapes: &[TopForm]) {
        let assigned = set_targets(forms);
        for form in shapes {
            let TopForm::Function {
                name, shape, rest, ..
            } = form
            else {
                continue;
            };
            let Some(ty) = shape.ret.and_then(Self::simple_annotation) else {
                continue;
            };
            let Some(&g) = self.global_index.get(*name) else {
                continue;
            };
            let Ok(params) = parse_params(super::shape::FnShape::of(rest).params) else {
                continue;
            };
            let shadowed = params
                .fixed
                .iter()
                .map(|p| p.name)
                .chain(params.rest.map(|r| r.0))
                .any(|p| p == ty);
            if self.prog.globals[g.0 as usize].definitions == 1
                && !assigned.contains(*name)
                && !shadowed
                && !self.generics.contains_key(*name)
            {
                self.result_types.insert(g, ty.to_string());
            }
        }
    }

    /// `body` with its result checked against `t` in each tail position.
    pub(crate) fn check_result(&mut self, body: Expr, t: &Datum, what: &str) -> Result<Expr> {
        // The caller's type name, when a callee's own check can stand for it.
        let name = Self::simple_annotation(t)
            .filter(|n| !matches!(self.resolve(n), Resolved::Local(_)))
            .map(str::to_string);
        self.check_tail(body, t, what, name.as_deref())
    }

    fn check_tail(&mut self, e: Expr, t: &Datum, what: &str, name: Option<&str>) -> Result<Expr> {
        let span = e.span;
        let kind = match e.kind {
            ExprKind::If(c, a, b) => {
                let a = self.check_tail(*a, t, what, name)?;
                let b = self.check_tail(*b, t, what, name)?;
                ExprKind::If(c, Box::new(a), Box::new(b))
            }
            ExprKind::Let(bs, body) => {
                ExprKind::Let(bs, Box::new(self.check_tail(*body, t, what, name)?))
            }
            ExprKind::Letrec(bs, body) => {
                ExprKind::Letrec(bs, Box::new(self.check_tail(*body, t, what, name)?))
            }
            ExprKind::Seq(mut xs) if !xs.is_empty() => {
                let last = xs.pop().expect("not empty");
                xs.push(self.check_tail(last, t, what, name)?);
                ExprKind::Seq(xs)
            }
            ExprKind::Call(callee, args) if matches!(callee.kind, ExprKind::Global(g) if self.checks_within(g, name)) => {
                ExprKind::Call(callee, args)
            }
            kind => {
                let ty = self.type_expr(t)?;
                let what = Expr::new(ExprKind::Lit(Literal::Str(what.to_string())), t.span);
                ExprKind::PrimCall("%check-type".into(), vec![Expr::new(kind, span), ty, what])
            }
        };
        Ok(Expr::new(kind, span))
    }

    /// Does global function `g` check its own result against `name` or a
    /// built-in type below it?
    fn checks_within(&self, g: GlobalId, name: Option<&str>) -> bool {
        let (Some(name), Some(callee)) = (name, self.result_types.get(&g)) else {
            return false;
        };
        if callee == name {
            return true;
        }
        let builtin = |n: &str| {
            !matches!(self.resolve(n), Resolved::Local(_) | Resolved::Global(_))
                && omni_runtime::types::builtin_id(n).is_some()
        };
        builtin(name) && builtin(callee) && builtin_subtype(callee, name)
    }

    // ---------------------------------------------------------- definitions

    /// Expand a top-level type/struct/effect definition, if `d` is one.
    pub(super) fn expand_typedef(&mut self, def: &TypeDef, span: Span) -> Result<Expr> {
        // `def.name` is the global name (a module's definitions are renamed).
        let Some(&g) = self.global_index.get(def.name) else {
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
        for (i, ((name, _, _), t)) in def.fields.iter().zip(&types).enumerate() {
            let raw = i < omni_runtime::types::RAW_FLOAT_FIELDS_MAX
                && matches!(&t.kind, ExprKind::PrimCall(p, args)
                    if p == "%builtin-type"
                        && matches!(args.as_slice(), [Expr { kind: ExprKind::Lit(Literal::Int(id)), .. }]
                            if *id == omni_runtime::types::FLOAT as i64));
            self.prog
                .field_rawness
                .entry(name.to_string())
                .and_modify(|r| *r &= raw)
                .or_insert(raw);
            if raw {
                self.prog.raw_float_indexes |= 1 << i;
                self.prog.raw_float_names.insert(name.to_string());
            }
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
        Ok(Expr::new(ExprKind::DefineGlobal(g, Box::new(make)), span))
    }

    /// Record struct definitions (after every top-level name is declared),
    /// so constructor calls anywhere in the program are recognised.
    pub(super) fn declare_typedef(&mut self, form: &TopForm) {
        let TopForm::TypeDef(def) = form else {
            return;
        };
        if matches!(def.kind, DefKind::Struct | DefKind::MutableStruct) {
            // `def.name` is the global name (see `import.rs`).
            if let Some(&g) = self.global_index.get(def.name) {
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
    }

    /// The struct defined as global `name`, if any (and never reassigned).
    pub(crate) fn struct_info(&self, name: &str) -> Option<&StructInfo> {
        let Resolved::Global(g) = self.resolve(name) else {
            return None;
        };
        let s = self.structs.get(self.global_key(g))?;
        (s.global == g && !self.prog.globals[g.0 as usize].assigned).then_some(s)
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
}

/// The names any `(set! name ...)` in `forms` assigns (walked with an
/// explicit stack: programs may nest deeply).
pub(super) fn set_targets(forms: &[Datum]) -> HashSet<&str> {
    let mut out = HashSet::new();
    let mut stack: Vec<&Datum> = forms.iter().collect();
    while let Some(d) = stack.pop() {
        match &d.kind {
            DatumKind::List(xs) => {
                if let [head, target, ..] = xs.as_slice() {
                    if let (Some("set!"), Some(t)) = (super::macros::keyword(head), target.as_sym())
                    {
                        out.insert(t);
                    }
                }
                stack.extend(xs);
            }
            DatumKind::Slot(xs) | DatumKind::Kind(xs) | DatumKind::Dict(xs) => stack.extend(xs),
            DatumKind::Path(b, _) => stack.push(b),
            _ => {}
        }
    }
    out
}
