//! `try`/`catch` and effect handlers (LANGUAGE.md §3): `handle`, `perform`
//! and the `resume` of a handler clause.
//!
//! Each desugars to a runtime primitive (`runtime/src/effects.rs`) applied
//! to thunks and handler lambdas: `(try body (catch e h))` is `(%try thunk)`
//! followed by a `%caught?` test, `(handle body (eff [p k] h...) ...)` is
//! `(%handle thunk eff handler ...)` where `k` wraps `%resume`, and
//! `(perform eff v)` is `(%perform eff v)`.

use super::ast::{Expr, ExprKind, Lambda};
use super::types::err;
use super::{Expander, Result};
use crate::syntax::{Datum, DatumKind, Span};
use std::rc::Rc;

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
