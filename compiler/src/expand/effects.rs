//! `try`/`catch` and effect handlers (LANGUAGE.md §3): `handle`, `perform`
//! and the `resume` of a handler clause.
//!
//! Each desugars to a runtime primitive (`runtime/src/effects.rs`) applied
//! to thunks and handler lambdas: `(try body (catch e h))` is `(%try thunk)`
//! followed by a `%caught?` test, `(handle body (eff [p k] h...) ...)` is
//! `(%handle thunk eff use handler ...)` where `k` wraps `%resume` (`use`: how
//! the clause uses `k`; a resume in tail position becomes `%resume-tail`), and
//! `(perform eff v)` is `(%perform eff v)`.

use super::ast::{Expr, ExprKind, Lambda, LocalId};
use super::types::err;
use super::{Expander, Result};
use crate::syntax::{Datum, DatumKind, Span};
use std::sync::Arc;

impl Expander {
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
            Some(DatumKind::List(xs))
                if xs.first().and_then(super::macros::keyword) == Some("catch") =>
            {
                xs
            }
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
        // The escape branches: (clause number, its body expanded a second
        // time with the payload bound to a local of this frame).
        let mut escapes: Vec<(usize, Expr)> = Vec::new();
        let result = self.fresh_local("handled", span);
        for (clause_no, c) in clauses.iter().enumerate() {
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
                ExprKind::Lambda(Arc::new(Lambda {
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
            let mut hbody = hbody?;
            // How the clause uses its continuation, for the runtime
            // (prims/effects.rs `ResumeUse`): 0 never (the body is
            // abandoned before the clause runs), 1 only by resumes in tail
            // position (its token cannot escape), 2 any other way.
            let resume_use = if !mentions_local(&hbody, kl) {
                // The clause abandons the body: when the body performs its
                // effect, `%handle` frees the body and returns the payload
                // (`%escaped` tells which clause), and the clause runs here,
                // in the `handle`'s own frame: a tail call in it is a tail
                // call of the function the `handle` is in, so a chain of
                // handles whose clauses call the next one runs in constant
                // stack. (The lambda still serves a perform reached through
                // a `resume` of another clause.)
                self.push_scope();
                let escaped_payload = self.bind_local(p, ps[0].span);
                self.bind_local(k, ps[1].span);
                let escape_body = self.expand_body(&items[2..], c.span);
                self.pop_scope();
                let escape = Expr::new(
                    ExprKind::Let(
                        vec![(escaped_payload, Expr::new(ExprKind::Local(result), c.span))],
                        Box::new(escape_body?),
                    ),
                    c.span,
                );
                escapes.push((clause_no, escape));
                0
            } else {
                if !assigns_local(&hbody, kl) {
                    resume_in_tail_position(&mut hbody, kl, kraw);
                }
                if mentions_local(&hbody, kl) {
                    hbody = Expr::new(ExprKind::Let(vec![(kl, resume)], Box::new(hbody)), c.span);
                    2
                } else {
                    1
                }
            };
            xs.push(Expr::new(
                ExprKind::Lit(super::ast::Literal::Int(resume_use)),
                c.span,
            ));
            xs.push(Expr::new(
                ExprKind::Lambda(Arc::new(Lambda {
                    name: eff.as_sym().map(|s| format!("handler:{s}")),
                    params: vec![pl, kraw],
                    rest: None,
                    body: hbody,
                    span: c.span,
                })),
                c.span,
            ));
        }
        let handle = Expr::new(ExprKind::PrimCall("%handle".into(), xs), span);
        if escapes.is_empty() {
            return Ok(handle);
        }
        // (let [v (%handle …)] [e (%escaped)]
        //   (if e (if (eq? e 0) clause-0 … v) v))
        let escaped = self.fresh_local("escaped", span);
        let local = |l: LocalId| Expr::new(ExprKind::Local(l), span);
        let mut dispatch = local(result);
        for (clause_no, escape) in escapes.into_iter().rev() {
            let test = Expr::new(
                ExprKind::PrimCall(
                    "eq?".into(),
                    vec![
                        local(escaped),
                        Expr::new(
                            ExprKind::Lit(super::ast::Literal::Int(clause_no as i64)),
                            span,
                        ),
                    ],
                ),
                span,
            );
            dispatch = Expr::new(
                ExprKind::If(Box::new(test), Box::new(escape), Box::new(dispatch)),
                span,
            );
        }
        let body = Expr::new(
            ExprKind::If(
                Box::new(local(escaped)),
                Box::new(dispatch),
                Box::new(local(result)),
            ),
            span,
        );
        let after = Expr::new(
            ExprKind::Let(
                vec![(
                    escaped,
                    Expr::new(ExprKind::PrimCall("%escaped".into(), vec![]), span),
                )],
                Box::new(body),
            ),
            span,
        );
        Ok(Expr::new(
            ExprKind::Let(vec![(result, handle)], Box::new(after)),
            span,
        ))
    }

    /// `(perform eff)` / `(perform eff payload)`.
    pub(super) fn expand_perform(
        &mut self,
        head: &Datum,
        args: &[Datum],
        span: Span,
    ) -> Result<Expr> {
        super::shape::expect_args("perform", args, 1, 2, head.span)?;
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

impl Expander {
    /// Threads share no mutable state (LANGUAGE.md §6): a `fn` given
    /// directly to `spawn` may not `set!` a variable it captures (the thread
    /// would change a private copy). Other spawned closures are checked at
    /// run time (runtime/src/control/thread.rs).
    pub(super) fn check_spawn_thunk(&self, args: &[Expr]) -> Result<()> {
        let [Expr {
            kind: ExprKind::Lambda(lam),
            ..
        }] = args
        else {
            return Ok(());
        };
        let mut bound: Vec<super::ast::LocalId> = Vec::new();
        any_subexpr(&lam.body, &mut |e| {
            match &e.kind {
                ExprKind::Lambda(inner) => {
                    bound.extend(inner.params.iter().copied().chain(inner.rest));
                }
                ExprKind::Let(bs, _) | ExprKind::Letrec(bs, _) => {
                    bound.extend(bs.iter().map(|(l, _)| *l));
                }
                _ => {}
            }
            false
        });
        bound.extend(lam.params.iter().copied().chain(lam.rest));
        let mut captured = None;
        any_subexpr(&lam.body, &mut |e| match &e.kind {
            ExprKind::SetLocal(l, _) if !bound.contains(l) => {
                captured = Some((*l, e.span));
                true
            }
            _ => false,
        });
        match captured {
            Some((l, span)) => {
                let name = &self.prog.locals[l.0 as usize].name;
                err(
                    format!(
                        "`set!` of `{name}`, a variable the thread captures: threads share no mutable state, so the thread would change a private copy (return results through `join` or a channel)"
                    ),
                    span,
                    "assigned inside the thunk given to `spawn`",
                )
            }
            None => Ok(()),
        }
    }
}

/// Rewrite each call `(k x)` of a handler clause's `resume` (local `k`) in
/// tail position of the clause body into `(%resume-tail kraw x)`: the
/// clause then returns a resume request to the handle's loop instead of
/// continuing the body from a frame of its own, so a generator whose
/// handler resumes in tail position runs in constant stack.
fn resume_in_tail_position(e: &mut Expr, k: super::ast::LocalId, kraw: super::ast::LocalId) {
    match &mut e.kind {
        ExprKind::If(_, then, els) => {
            resume_in_tail_position(then, k, kraw);
            resume_in_tail_position(els, k, kraw);
        }
        ExprKind::Let(_, body) | ExprKind::Letrec(_, body) => {
            resume_in_tail_position(body, k, kraw)
        }
        ExprKind::Seq(xs) => {
            if let Some(last) = xs.last_mut() {
                resume_in_tail_position(last, k, kraw);
            }
        }
        ExprKind::Call(f, args)
            if args.len() == 1 && matches!(f.kind, ExprKind::Local(l) if l == k) =>
        {
            let x = args.pop().expect("one argument");
            let token = Expr::new(ExprKind::Local(kraw), f.span);
            e.kind = ExprKind::PrimCall("%resume-tail".into(), vec![token, x]);
        }
        _ => {}
    }
}

/// Does `e` read local `l` anywhere (also inside nested lambdas)?
fn mentions_local(e: &Expr, l: super::ast::LocalId) -> bool {
    any_subexpr(e, &mut |x| match &x.kind {
        ExprKind::Local(y) | ExprKind::SetLocal(y, _) => *y == l,
        _ => false,
    })
}

/// Does `e` assign local `l` (`set!`) anywhere?
fn assigns_local(e: &Expr, l: super::ast::LocalId) -> bool {
    any_subexpr(
        e,
        &mut |x| matches!(&x.kind, ExprKind::SetLocal(y, _) if *y == l),
    )
}

/// Is `pred` true of `e` or of any expression inside it (lambda bodies
/// included)?
pub(super) fn any_subexpr(e: &Expr, pred: &mut dyn FnMut(&Expr) -> bool) -> bool {
    if pred(e) {
        return true;
    }
    let children: Vec<&Expr> = match &e.kind {
        ExprKind::Lit(_)
        | ExprKind::Quote(_)
        | ExprKind::Local(_)
        | ExprKind::Global(_)
        | ExprKind::PrimRef(_) => vec![],
        ExprKind::Lambda(lam) => vec![&lam.body],
        ExprKind::Call(f, args) => std::iter::once(&**f).chain(args.iter()).collect(),
        ExprKind::PrimCall(_, args) | ExprKind::MakeArray(args) | ExprKind::MakeDict(args) => {
            args.iter().collect()
        }
        ExprKind::If(a, b, c) => vec![&**a, &**b, &**c],
        ExprKind::Let(bs, body) | ExprKind::Letrec(bs, body) => bs
            .iter()
            .map(|(_, x)| x)
            .chain(std::iter::once(&**body))
            .collect(),
        ExprKind::Seq(xs) => xs.iter().collect(),
        ExprKind::SetLocal(_, x) | ExprKind::SetGlobal(_, x) | ExprKind::DefineGlobal(_, x) => {
            vec![&**x]
        }
    };
    children.into_iter().any(|x| any_subexpr(x, pred))
}
