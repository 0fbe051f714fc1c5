//! The special forms: definitions, functions, bodies (letrec*), `let` with
//! destructuring, `cond`, `and`/`or` and quasiquote.

use super::ast::{Expr, ExprKind, Lambda, Literal, LocalId};
use super::shape::{define_name, parse_params, FnShape};
use super::{ExpandError, Expander, Resolved, Result};
use crate::syntax::{Datum, DatumKind, Span};
use omni_runtime::prims::{PrimArity, PrimDesc};
use std::sync::Arc;

pub(super) fn check_prim_arity(p: &PrimDesc, n: usize, span: Span) -> Result<()> {
    let ok = match p.arity {
        PrimArity::Fixed(k) => n == k as usize,
        PrimArity::Variadic { min } => n >= min as usize,
    };
    if ok {
        return Ok(());
    }
    let expected = match p.arity {
        PrimArity::Fixed(k) => format!("{k}"),
        PrimArity::Variadic { min } => format!("at least {min}"),
    };
    Err(ExpandError::new(
        format!(
            "wrong number of arguments to `{}`: expected {expected}, got {n}",
            p.name
        ),
        span,
        "called here",
    ))
}

impl Expander {
    /// The value of a `define` form (`items[0]` is `define`, `items[1]` the name).
    pub(super) fn expand_define_init(&mut self, items: &[Datum], span: Span) -> Result<Expr> {
        if !matches!(items[1].kind, DatumKind::Sym(_)) {
            return Err(ExpandError::new(
                "type, struct and effect definitions are only allowed at the top level",
                items[1].span,
                "not at top level",
            ));
        }
        let name = items[1].as_sym().unwrap_or("?");
        // A program's `reverse` is declared `reverse#0` (see `import.rs`).
        let name = name.strip_suffix("#0").unwrap_or(name).to_string();
        let rest = &items[2..];
        match rest {
            [] => Err(ExpandError::new(
                format!(
                    "malformed `define` of `{name}`: expected a value or parameters and a body"
                ),
                span,
                "incomplete definition",
            )),
            [value] => self.expand(value),
            [t @ Datum {
                kind: DatumKind::Kind(_),
                ..
            }, value] => {
                self.check_literal(&name, t, value)?;
                let checked = Self::check_datum(&name, t, value.clone(), value.span);
                self.expand(&checked)
            }
            _ => {
                let lam = self.expand_lambda(Some(name), rest, items[0].span, span)?;
                Ok(Expr::new(ExprKind::Lambda(lam), span))
            }
        }
    }

    /// `fn` forms and function definitions: `params... [{Ret}] body...`.
    pub(super) fn expand_lambda(
        &mut self,
        name: Option<String>,
        items: &[Datum],
        head_span: Span,
        span: Span,
    ) -> Result<Arc<Lambda>> {
        let shape = FnShape::of(items);
        let body = shape.body;
        if body.is_empty() {
            return Err(ExpandError::new(
                "malformed function: expected parameters and a body",
                head_span,
                "function without a body",
            ));
        }
        let p = parse_params(shape.params)?;
        self.push_scope();
        let params: Vec<LocalId> = p
            .fixed
            .iter()
            .map(|q| self.bind_local(q.name, q.span))
            .collect();
        let rest = p.rest.map(|(n, s)| self.bind_local(n, s));
        self.note_struct_params(&p.fixed, &params, body);
        let fname = name.clone().unwrap_or_else(|| "lambda".into());
        // Annotation checks: typed parameters on entry, the result on exit
        // (a function with a `{Ret}` annotation returns through the check,
        // so its body's last call is not a tail call).
        let mut checked: Vec<Datum> = Vec::new();
        if !self.skip_param_checks {
            for q in &p.fixed {
                if let Some(t) = q.ty {
                    let what = format!("parameter {} of {fname}", q.name);
                    checked.push(Self::check_datum(
                        &what,
                        t,
                        Datum::new(DatumKind::Sym(q.name.to_string()), t.span),
                        t.span,
                    ));
                }
            }
        }
        checked.extend(body.iter().cloned());
        let body = self.expand_body(&checked, span);
        // The result is checked in each tail position (a `{Ret}` annotation
        // keeps the tail calls proper where the callee checks its own result).
        let body = match (shape.ret, body) {
            (Some(t), Ok(b)) => {
                let what = format!("result of {fname}");
                self.check_result(b, t, &what)
            }
            (_, b) => b,
        };
        self.pop_scope();
        Ok(Arc::new(Lambda {
            name,
            params,
            rest,
            body: body?,
            span,
        }))
    }

    /// Parameters annotated with a struct type hold exactly that struct
    /// (a parent is always abstract) unless the body `set!`s them: their
    /// field paths are checked at compile time (see `check_field_path`).
    fn note_struct_params(
        &mut self,
        params: &[super::shape::Param],
        ids: &[LocalId],
        body: &[Datum],
    ) {
        let mut assigned = None;
        for (q, id) in params.iter().zip(ids) {
            let Some(DatumKind::Kind(t)) = q.ty.map(|t| &t.kind) else {
                continue;
            };
            let [Datum {
                kind: DatumKind::Sym(ty),
                ..
            }] = t.as_slice()
            else {
                continue;
            };
            // The struct's global name (an imported struct is renamed).
            let Some(ty) = self
                .struct_info(ty)
                .map(|s| self.global_key(s.global).to_string())
            else {
                continue;
            };
            let assigned = assigned.get_or_insert_with(|| super::types::set_targets(body));
            if !assigned.contains(q.name) {
                self.struct_locals.insert(*id, ty);
            }
        }
    }

    /// `s.f` where `s` is known to hold a struct without a field `f`: a
    /// path has no default, so this read always fails.
    pub(super) fn check_field_path(&self, base: &Datum, field: &str, span: Span) -> Result<()> {
        let Some(Resolved::Local(l)) = base.as_sym().map(|n| self.resolve(n)) else {
            return Ok(());
        };
        let Some(ty) = self.struct_locals.get(&l) else {
            return Ok(());
        };
        let Some(info) = self.structs.get(ty) else {
            return Ok(());
        };
        if info.fields.iter().any(|f| f == field) {
            return Ok(());
        }
        let fields = info
            .fields
            .iter()
            .map(|f| format!("`{f}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let name = base.as_sym().unwrap_or("?");
        let err = ExpandError::new(
            format!("struct `{ty}` has no field `{field}`"),
            span,
            format!("`{name}` is a `{ty}` (its annotation)"),
        );
        Err(if fields.is_empty() {
            err.with_note(format!("`{ty}` has no fields"))
        } else {
            err.with_note(format!("the fields of `{ty}` are {fields}"))
        })
    }

    /// Would expanding the symbol `d` fail? (A name that is a binding in
    /// another language's syntax is then reported with a hint rather than
    /// as unbound; if it resolves, the form is valid OmniLisp and stays so.)
    fn is_unbound(&self, d: &Datum) -> bool {
        match d.as_sym() {
            Some(name) => {
                matches!(self.resolve(name), Resolved::Unbound)
                    && self.builtin_type_expr(name, d.span).is_none()
            }
            None => false,
        }
    }

    /// `(lambda (x y) body...)`: Scheme's parameter list, whose names would
    /// be reported as unbound. The hint gives the slot form.
    pub(super) fn scheme_lambda_hint(&self, keyword: &str, args: &[Datum]) -> Option<ExpandError> {
        let [params, _, ..] = args else {
            return None;
        };
        let DatumKind::List(names) = &params.kind else {
            return None;
        };
        let all_names = names.iter().all(|d| d.as_sym().is_some());
        if !all_names || !names.iter().any(|d| self.is_unbound(d)) {
            return None;
        }
        let slot = super::shape::scheme_params(params, 0);
        Some(
            ExpandError::new(
                format!("the parameters of `{keyword}` go in a slot `[{slot}]`, not a list"),
                params.span,
                "a Scheme-style parameter list",
            )
            .with_note(format!("write `(fn [{slot}] body...)`")),
        )
    }

    /// `(let ((x 1)) ...)` (Scheme) and `(let [a 1 b 2] ...)` (Clojure):
    /// OmniLisp's `let` takes one slot `[name value]` per binding. Only a
    /// form whose names would be unbound is reported (anything else is a
    /// valid `let` without bindings).
    fn let_shape_hint(&self, args: &[Datum]) -> Option<ExpandError> {
        let first = args.first()?;
        let slots = |pairs: Vec<(&Datum, &Datum)>| {
            pairs
                .iter()
                .map(|(n, v)| format!("[{n} {v}]"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        match &first.kind {
            DatumKind::Slot(xs) if xs.len() >= 4 && xs.len() % 2 == 0 => {
                let pairs: Vec<(&Datum, &Datum)> = xs.chunks(2).map(|p| (&p[0], &p[1])).collect();
                if !pairs.iter().any(|(n, _)| self.is_unbound(n)) {
                    return None;
                }
                Some(
                    ExpandError::new(
                        "`let` takes one slot `[name value]` per binding",
                        first.span,
                        "several bindings in one slot (Clojure style)",
                    )
                    .with_note(format!("write `(let {} body...)`", slots(pairs))),
                )
            }
            DatumKind::List(xs) if !xs.is_empty() => {
                let mut pairs = Vec::new();
                for x in xs {
                    match &x.kind {
                        DatumKind::List(p) if p.len() == 2 && p[0].as_sym().is_some() => {
                            pairs.push((&p[0], &p[1]))
                        }
                        _ => return None,
                    }
                }
                if !pairs.iter().any(|(n, _)| self.is_unbound(n)) {
                    return None;
                }
                Some(
                    ExpandError::new(
                        "`let` bindings are slots `[name value]`, not a list of lists",
                        first.span,
                        "Scheme-style bindings",
                    )
                    .with_note(format!("write `(let {} body...)`", slots(pairs))),
                )
            }
            _ => None,
        }
    }

    /// A body: a sequence of forms whose `define`s are mutually recursive
    /// (letrec*). Expressions before a define keep their order.
    pub(crate) fn expand_body(&mut self, forms: &[Datum], span: Span) -> Result<Expr> {
        let spliced;
        let forms = if forms.iter().any(|d| self.defining_block(d).is_some()) {
            spliced = self.splice_defining_blocks(forms);
            &spliced[..]
        } else {
            forms
        };
        let has_defines = forms.iter().any(|d| matches!(define_name(d), Ok(Some(_))));
        if !has_defines {
            for d in forms {
                define_name(d)?;
            }
            let mut xs = self.expand_all(forms)?;
            return Ok(if xs.len() == 1 {
                xs.pop().unwrap()
            } else {
                Expr::new(ExprKind::Seq(xs), span)
            });
        }
        self.push_scope();
        let result = self.expand_letrec_body(forms, span);
        self.pop_scope();
        result
    }

    /// The forms of `(do ...)`/`(begin ...)` holding a `define` (what a
    /// macro expands to for several definitions): in a body they are
    /// spliced into it, as at the top level.
    fn defining_block<'d>(&self, d: &'d Datum) -> Option<&'d [Datum]> {
        let DatumKind::List(items) = &d.kind else {
            return None;
        };
        let head = items.first()?;
        let is_block = matches!(super::macros::keyword(head), Some("do" | "begin"))
            && matches!(self.resolve(head.as_sym()?), Resolved::Special);
        let defines =
            |x: &Datum| matches!(define_name(x), Ok(Some(_))) || self.defining_block(x).is_some();
        (is_block && items[1..].iter().any(defines)).then(|| &items[1..])
    }

    fn splice_defining_blocks(&self, forms: &[Datum]) -> Vec<Datum> {
        let mut out = Vec::with_capacity(forms.len());
        for d in forms {
            match self.defining_block(d) {
                Some(inner) => out.extend(self.splice_defining_blocks(inner)),
                None => out.push(d.clone()),
            }
        }
        out
    }

    fn expand_letrec_body(&mut self, forms: &[Datum], span: Span) -> Result<Expr> {
        let last_define = forms
            .iter()
            .rposition(|d| matches!(define_name(d), Ok(Some(_))))
            .unwrap();
        // Bind every defined name first: all inits and the body see them.
        let mut ids = Vec::new();
        for d in &forms[..=last_define] {
            match define_name(d)? {
                Some((name, s)) => {
                    if let Some(prev) = self.scopes.last().and_then(|sc| sc.get(name)).copied() {
                        let first = self.prog.locals[prev.0 as usize].span;
                        return Err(ExpandError::new(
                            format!("`{name}` is defined twice in the same body"),
                            s,
                            "second definition",
                        )
                        .with_secondary(first, "first defined here"));
                    }
                    ids.push(Some(self.bind_local(name, s)));
                }
                None => ids.push(None),
            }
        }
        let mut bindings = Vec::new();
        for (d, id) in forms[..=last_define].iter().zip(ids) {
            match id {
                Some(l) => {
                    let DatumKind::List(items) = &d.kind else {
                        unreachable!()
                    };
                    let init = self.expand_define_init(items, d.span)?;
                    bindings.push((l, init));
                }
                None => {
                    let e = self.expand(d)?;
                    let t = self.fresh_local("effect", d.span);
                    bindings.push((t, e));
                }
            }
        }
        let rest = &forms[last_define + 1..];
        let body = if rest.is_empty() {
            Expr::nothing(span)
        } else {
            self.expand_body(rest, span)?
        };
        Ok(Expr::new(ExprKind::Letrec(bindings, Box::new(body)), span))
    }

    /// `(let [pat init]... body...)`, `(let ^:seq [..]... body...)`.
    pub(super) fn expand_let(
        &mut self,
        args: &[Datum],
        head_span: Span,
        span: Span,
    ) -> Result<Expr> {
        let (sequential, args) = match args.first().map(|d| &d.kind) {
            Some(DatumKind::Meta(m)) if m == "seq" => (true, &args[1..]),
            Some(DatumKind::Meta(m)) => {
                return Err(ExpandError::new(
                    format!("unknown `let` metadata `^:{m}` (expected `^:seq`)"),
                    args[0].span,
                    "unknown metadata",
                ))
            }
            _ => (false, args),
        };
        if let Some(e) = self.let_shape_hint(args) {
            return Err(e);
        }
        let is_binding = |d: &Datum| matches!(&d.kind, DatumKind::Slot(xs) if xs.len() == 2 || (xs.len() == 3 && matches!(xs[1].kind, DatumKind::Kind(_))));
        let mut nb = args.iter().take_while(|d| is_binding(d)).count();
        if nb == args.len() && nb > 0 {
            nb -= 1;
        }
        let (bindings, body) = args.split_at(nb);
        if body.is_empty() {
            return Err(ExpandError::new(
                "malformed `let`: expected bindings `[name value]` and a body",
                head_span,
                "`let` without a body",
            ));
        }
        if let Some(bad) = bindings.iter().find(|d| !is_binding(d)) {
            return Err(ExpandError::new(
                "malformed `let` binding",
                bad.span,
                "expected `[name value]`",
            ));
        }
        // `[name {T} value]`: the value is checked against `T`.
        let mut inits: Vec<Datum> = Vec::new();
        for b in bindings {
            let DatumKind::Slot(xs) = &b.kind else {
                unreachable!()
            };
            if let [pat, t, value] = xs.as_slice() {
                let what = pat.as_sym().unwrap_or("let binding").to_string();
                self.check_literal(&what, t, value)?;
                inits.push(Self::check_datum(&what, t, value.clone(), value.span));
            } else {
                inits.push(xs[1].clone());
            }
        }
        let parsed: Vec<(&Datum, &Datum)> = bindings
            .iter()
            .zip(&inits)
            .map(|(b, init)| {
                let DatumKind::Slot(xs) = &b.kind else {
                    unreachable!()
                };
                (&xs[0], init)
            })
            .collect();
        if sequential {
            self.expand_let_seq(&parsed, body, span)
        } else {
            // Parallel: every init sees the outer scope.
            let mut inits = Vec::new();
            for (_, init) in &parsed {
                inits.push(self.expand(init)?);
            }
            self.push_scope();
            let result = self.bind_patterns(&parsed, inits, body, span);
            self.pop_scope();
            result
        }
    }

    fn expand_let_seq(
        &mut self,
        parsed: &[(&Datum, &Datum)],
        body: &[Datum],
        span: Span,
    ) -> Result<Expr> {
        let Some(((pat, init), rest)) = parsed.split_first() else {
            return self.expand_body(body, span);
        };
        let init = self.expand(init)?;
        self.push_scope();
        let mut binds = Vec::new();
        let result = (|| {
            self.bind_pattern(pat, init, &mut binds)?;
            let inner = self.expand_let_seq(rest, body, span)?;
            Ok(Expr::new(ExprKind::Let(binds, Box::new(inner)), span))
        })();
        self.pop_scope();
        result
    }

    fn bind_patterns(
        &mut self,
        parsed: &[(&Datum, &Datum)],
        inits: Vec<Expr>,
        body: &[Datum],
        span: Span,
    ) -> Result<Expr> {
        // Names must be bound only after all inits are evaluated; destructuring
        // reads happen in a nested let so they see the temporaries.
        let mut outer = Vec::new();
        let mut inner = Vec::new();
        for ((pat, _), init) in parsed.iter().zip(inits) {
            if pat.as_sym().is_some() {
                self.bind_pattern(pat, init, &mut outer)?;
            } else {
                let t = self.fresh_local("let", pat.span);
                outer.push((t, init));
                let tv = Expr::new(ExprKind::Local(t), pat.span);
                self.bind_pattern(pat, tv, &mut inner)?;
            }
        }
        let body = self.expand_body(body, span)?;
        let body = if inner.is_empty() {
            body
        } else {
            Expr::new(ExprKind::Let(inner, Box::new(body)), span)
        };
        Ok(Expr::new(ExprKind::Let(outer, Box::new(body)), span))
    }

    /// Bind `pat` to `value`, pushing the bindings (to be evaluated in order).
    fn bind_pattern(
        &mut self,
        pat: &Datum,
        value: Expr,
        out: &mut Vec<(LocalId, Expr)>,
    ) -> Result<()> {
        match &pat.kind {
            DatumKind::Sym(name) if name != ".." && name != "&" => {
                let l = self.bind_local(name, pat.span);
                out.push((l, value));
                Ok(())
            }
            DatumKind::Slot(elems) => {
                let t = self.fresh_local("seq", pat.span);
                out.push((t, value));
                let tv = || Expr::new(ExprKind::Local(t), pat.span);
                let mut i = 0;
                while i < elems.len() {
                    let e = &elems[i];
                    if e.as_sym() == Some("..") {
                        let Some(rest) = elems.get(i + 1) else {
                            return Err(ExpandError::new(
                                "`..` needs a name after it",
                                e.span,
                                "missing rest name",
                            ));
                        };
                        if i + 2 != elems.len() {
                            return Err(ExpandError::new(
                                "the rest pattern `.. name` must come last",
                                e.span,
                                "not last",
                            ));
                        }
                        let drop = self.prelude_global("%seq-drop", e.span)?;
                        let n = Expr::new(ExprKind::Lit(Literal::Int(i as i64)), e.span);
                        let v = Expr::new(ExprKind::Call(Box::new(drop), vec![tv(), n]), e.span);
                        return self.bind_pattern(rest, v, out);
                    }
                    let seq_ref = self.prelude_global("%seq-ref", e.span)?;
                    let n = Expr::new(ExprKind::Lit(Literal::Int(i as i64)), e.span);
                    let v = Expr::new(ExprKind::Call(Box::new(seq_ref), vec![tv(), n]), e.span);
                    self.bind_pattern(e, v, out)?;
                    i += 1;
                }
                Ok(())
            }
            DatumKind::List(keys) => {
                let t = self.fresh_local("dict", pat.span);
                out.push((t, value));
                for k in keys {
                    let name = match &k.kind {
                        DatumKind::List(q)
                            if q.len() == 2 && super::macros::keyword(&q[0]) == Some("quote") =>
                        {
                            q[1].as_sym()
                        }
                        _ => None,
                    };
                    let Some(name) = name else {
                        return Err(ExpandError::new(
                            "a dict pattern lists keys like `(:name :age)`",
                            k.span,
                            "expected `:key`",
                        ));
                    };
                    // The key is the symbol as quoted data (a macro's mark
                    // removed); the variable keeps the mark.
                    let key_name = super::macros::base_name(name).to_string();
                    let key = Expr::new(
                        ExprKind::Quote(Datum::new(DatumKind::Sym(key_name), k.span)),
                        k.span,
                    );
                    let get = Expr::new(
                        ExprKind::PrimCall(
                            "get".into(),
                            vec![Expr::new(ExprKind::Local(t), k.span), key],
                        ),
                        k.span,
                    );
                    let l = self.bind_local(name, k.span);
                    out.push((l, get));
                }
                Ok(())
            }
            _ => Err(ExpandError::new(
                "malformed binding pattern: expected a name, `[a b .. rest]` or `(:key ...)`",
                pat.span,
                "bad pattern",
            )),
        }
    }

    pub(super) fn expand_cond(&mut self, clauses: &[Datum], span: Span) -> Result<Expr> {
        let Some((first, rest)) = clauses.split_first() else {
            return Ok(Expr::nothing(span));
        };
        let items = match &first.kind {
            DatumKind::Slot(xs) | DatumKind::List(xs) if !xs.is_empty() => xs,
            _ => {
                return Err(ExpandError::new(
                    "malformed `cond` clause: expected `[test body...]`",
                    first.span,
                    "bad clause",
                ))
            }
        };
        let is_else = items[0].as_sym() == Some("else")
            && !matches!(self.resolve("else"), Resolved::Local(_));
        if is_else {
            if items.len() < 2 {
                return Err(ExpandError::new(
                    "`else` clause needs a body",
                    first.span,
                    "empty else",
                ));
            }
            return self.expand_body(&items[1..], first.span);
        }
        let test = self.expand(&items[0])?;
        let otherwise = self.expand_cond(rest, span)?;
        if items.len() == 1 {
            // `[test]` yields the test's value when it is true.
            return Ok(self.or_expr(test, otherwise, first.span));
        }
        let body = self.expand_body(&items[1..], first.span)?;
        Ok(Expr::new(
            ExprKind::If(Box::new(test), Box::new(body), Box::new(otherwise)),
            span,
        ))
    }

    fn or_expr(&mut self, a: Expr, b: Expr, span: Span) -> Expr {
        let t = self.fresh_local("or", span);
        let tv = || Expr::new(ExprKind::Local(t), span);
        let iff = Expr::new(
            ExprKind::If(Box::new(tv()), Box::new(tv()), Box::new(b)),
            span,
        );
        Expr::new(ExprKind::Let(vec![(t, a)], Box::new(iff)), span)
    }

    pub(super) fn expand_and_or(
        &mut self,
        is_and: bool,
        args: &[Datum],
        span: Span,
    ) -> Result<Expr> {
        match args {
            [] => Ok(Expr::new(ExprKind::Lit(Literal::Bool(is_and)), span)),
            [x] => self.expand(x),
            [x, rest @ ..] => {
                let a = self.expand(x)?;
                let b = self.expand_and_or(is_and, rest, span)?;
                if is_and {
                    let t = self.fresh_local("and", x.span);
                    let tv = || Expr::new(ExprKind::Local(t), x.span);
                    let iff = Expr::new(
                        ExprKind::If(Box::new(tv()), Box::new(b), Box::new(tv())),
                        span,
                    );
                    Ok(Expr::new(ExprKind::Let(vec![(t, a)], Box::new(iff)), span))
                } else {
                    Ok(self.or_expr(a, b, span))
                }
            }
        }
    }

    /// Quasiquote at nesting `depth` (1 = innermost active level).
    pub(super) fn expand_quasi(&mut self, d: &Datum, depth: u32) -> Result<Expr> {
        if !contains_unquote(d) {
            return Ok(Expr::new(
                ExprKind::Quote(super::macros::strip_marks(d)),
                d.span,
            ));
        }
        let span = d.span;
        match &d.kind {
            DatumKind::List(items) => {
                if let [head, arg] = items.as_slice() {
                    match super::macros::keyword(head) {
                        Some("unquote") if depth == 1 => return self.expand(arg),
                        Some("unquote") | Some("quasiquote") => {
                            let inner_depth = if super::macros::keyword(head) == Some("unquote") {
                                depth - 1
                            } else {
                                depth + 1
                            };
                            let h = Expr::new(
                                ExprKind::Quote(super::macros::strip_marks(head)),
                                head.span,
                            );
                            let a = self.expand_quasi(arg, inner_depth)?;
                            let nil = Expr::new(ExprKind::Lit(Literal::Nil), span);
                            let tail =
                                Expr::new(ExprKind::PrimCall("cons".into(), vec![a, nil]), span);
                            return Ok(Expr::new(
                                ExprKind::PrimCall("cons".into(), vec![h, tail]),
                                span,
                            ));
                        }
                        _ => {}
                    }
                }
                let mut acc = Expr::new(ExprKind::Lit(Literal::Nil), span);
                for item in items.iter().rev() {
                    if let DatumKind::List(xs) = &item.kind {
                        if xs.len() == 2
                            && super::macros::keyword(&xs[0]) == Some("unquote-splicing")
                            && depth == 1
                        {
                            let spliced = self.expand(&xs[1])?;
                            let append = self.prelude_global("append", item.span)?;
                            acc = Expr::new(
                                ExprKind::Call(Box::new(append), vec![spliced, acc]),
                                item.span,
                            );
                            continue;
                        }
                    }
                    let x = self.expand_quasi(item, depth)?;
                    acc = Expr::new(ExprKind::PrimCall("cons".into(), vec![x, acc]), span);
                }
                Ok(acc)
            }
            DatumKind::Slot(items) => {
                let xs = items
                    .iter()
                    .map(|x| self.expand_quasi(x, depth))
                    .collect::<Result<Vec<_>>>()?;
                Ok(Expr::new(ExprKind::MakeArray(xs), span))
            }
            DatumKind::Dict(items) => {
                let xs = items
                    .iter()
                    .map(|x| self.expand_quasi(x, depth))
                    .collect::<Result<Vec<_>>>()?;
                Ok(Expr::new(ExprKind::MakeDict(xs), span))
            }
            _ => Ok(Expr::new(
                ExprKind::Quote(super::macros::strip_marks(d)),
                span,
            )),
        }
    }
}

fn contains_unquote(d: &Datum) -> bool {
    match &d.kind {
        DatumKind::List(xs) => {
            matches!(
                xs.first().and_then(super::macros::keyword),
                Some("unquote" | "unquote-splicing")
            ) || xs.iter().any(contains_unquote)
        }
        DatumKind::Slot(xs) | DatumKind::Dict(xs) => xs.iter().any(contains_unquote),
        _ => false,
    }
}
