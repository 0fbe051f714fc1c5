//! Tree → expression: a decision tree emitted as nested `let`s and `if`s
//! over lazily bound occurrences, with the clauses' results at its leaves.

use super::tree::Occs;
use super::tree::{Const, Occ, Step, Test, Tree};
use super::{err, Clause};
use crate::expand::ast::{Expr, ExprKind, Literal, LocalId};
use crate::expand::ExpandError;
use crate::expand::{Expander, Resolved, Result};
use crate::syntax::{Datum, DatumKind, Span};
use std::collections::HashMap;

impl Expander {
    /// `(type? v T)` for a `{T}` datum, `T` evaluated as a type expression
    /// (types.rs).
    /// A concrete built-in type with a predicate of the same meaning (it
    /// has no subtypes: a parent type is always abstract) is tested with
    /// that predicate, which generated code open-codes as a tag or header
    /// test.
    fn type_test(&mut self, v: Expr, ty: &Datum) -> Result<Expr> {
        let span = ty.span;
        let t = self.type_expr(ty)?;
        if let Some(pred) = builtin_predicate(&t) {
            return Ok(Expr::new(ExprKind::PrimCall(pred.into(), vec![v]), span));
        }
        self.call_named("type?", vec![v, t], span)
    }

    /// A call of the library function or primitive `name` as visible here.
    fn call_named(&mut self, name: &str, args: Vec<Expr>, span: Span) -> Result<Expr> {
        match self.resolve(name) {
            Resolved::Prim(p) => Ok(Expr::new(ExprKind::PrimCall(p.name.into(), args), span)),
            Resolved::Global(g) => Ok(Expr::new(
                ExprKind::Call(Box::new(Expr::new(ExprKind::Global(g), span)), args),
                span,
            )),
            Resolved::Local(l) => Ok(Expr::new(
                ExprKind::Call(Box::new(Expr::new(ExprKind::Local(l), span)), args),
                span,
            )),
            _ => Err(err(
                format!("this pattern needs `{name}`, which is not available"),
                span,
                "pattern needs a type test",
            )),
        }
    }

    pub(super) fn emit_tree(
        &mut self,
        tree: &Tree,
        cx: &mut EmitCx,
        env: &HashMap<Occ, LocalId>,
    ) -> Result<Expr> {
        let span = cx.span;
        match tree {
            Tree::Fail => Ok(Expr::new(
                ExprKind::PrimCall(
                    "%match-fail".into(),
                    vec![Expr::new(ExprKind::Local(cx.root), span)],
                ),
                span,
            )),
            Tree::Test { occ, test, yes, no } => {
                let mut env = env.clone();
                let mut lets = Vec::new();
                let v = self.ensure_occ(*occ, cx, &mut env, &mut lets)?;
                let cond = self.test_expr(test, v, span)?;
                let yes = self.emit_tree(yes, cx, &env)?;
                let no = self.emit_tree(no, cx, &env)?;
                let e = Expr::new(
                    ExprKind::If(Box::new(cond), Box::new(yes), Box::new(no)),
                    span,
                );
                Ok(wrap(lets, e, span))
            }
            Tree::Leaf {
                clause,
                binds,
                guards,
                otherwise,
            } => {
                let mut env = env.clone();
                let mut lets = Vec::new();
                let mut temps = Vec::new();
                for (_, _, occ) in binds {
                    temps.push(self.ensure_occ(*occ, cx, &mut env, &mut lets)?);
                }
                self.push_scope();
                let result = (|| {
                    let mut user = Vec::new();
                    let mut by_name = HashMap::new();
                    for ((name, s, _), t) in binds.iter().zip(&temps) {
                        let l = self.bind_local(name, *s);
                        by_name.insert(name.as_str(), l);
                        user.push((l, Expr::new(ExprKind::Local(*t), *s)));
                    }
                    let c = &cx.clauses[*clause];
                    let body = match cx.shared.get(clause) {
                        Some(f) => {
                            let args = c
                                .vars
                                .iter()
                                .map(|(n, s)| Expr::new(ExprKind::Local(by_name[n.as_str()]), *s))
                                .collect();
                            let callee = Expr::new(ExprKind::Local(*f), c.result.span);
                            Expr::new(ExprKind::Call(Box::new(callee), args), c.result.span)
                        }
                        None => self.expand(c.result)?,
                    };
                    let mut conds = Vec::new();
                    for g in guards.iter() {
                        conds.push(self.expand(g)?);
                    }
                    Ok::<_, ExpandError>((user, conds, body))
                })();
                self.pop_scope();
                let (user, conds, body) = result?;
                let e = match otherwise {
                    None => body,
                    Some(other) => {
                        let other = self.emit_tree(other, cx, &env)?;
                        // Guards: all must be true (short-circuit, in order).
                        let mut conds = conds.into_iter().rev();
                        let last = conds.next().expect("a leaf with `otherwise` has guards");
                        let all = conds.fold(last, |rest, c| {
                            let no = Expr::new(ExprKind::Lit(Literal::Bool(false)), span);
                            Expr::new(
                                ExprKind::If(Box::new(c), Box::new(rest), Box::new(no)),
                                span,
                            )
                        });
                        Expr::new(
                            ExprKind::If(Box::new(all), Box::new(body), Box::new(other)),
                            span,
                        )
                    }
                };
                let e = if user.is_empty() {
                    e
                } else {
                    Expr::new(ExprKind::Let(user, Box::new(e)), span)
                };
                Ok(wrap(lets, e, span))
            }
        }
    }

    /// The temporary holding occurrence `occ` on this path, binding it (and
    /// its ancestors) when the path has not yet.
    fn ensure_occ(
        &mut self,
        occ: Occ,
        cx: &mut EmitCx,
        env: &mut HashMap<Occ, LocalId>,
        lets: &mut Vec<(LocalId, Expr)>,
    ) -> Result<LocalId> {
        if let Some(l) = env.get(&occ) {
            return Ok(*l);
        }
        let (parent, step) = cx.occs.info[occ].clone().expect("the root is always bound");
        let p = self.ensure_occ(parent, cx, env, lets)?;
        let span = cx.span;
        let pv = Expr::new(ExprKind::Local(p), span);
        let int = |n: usize| Expr::new(ExprKind::Lit(Literal::Int(n as i64)), span);
        let prim = |name: &str, args| Expr::new(ExprKind::PrimCall(name.into(), args), span);
        let access = match step {
            // A list's first element and rest are `car` and `cdr`, open-coded;
            // an array (or anything else) takes the primitive.
            Step::Elem(0) => if_pair(
                &pv,
                prim("car", vec![pv.clone()]),
                prim("%match-ref", vec![pv.clone(), int(0)]),
            ),
            Step::Elem(i) => prim("%match-ref", vec![pv, int(i)]),
            Step::Drop(1) => if_pair(
                &pv,
                prim("cdr", vec![pv.clone()]),
                prim("%match-drop", vec![pv.clone(), int(1)]),
            ),
            Step::Drop(n) => prim("%match-drop", vec![pv, int(n)]),
            Step::Key(k) => prim(
                "get",
                vec![
                    pv,
                    Expr::new(ExprKind::Quote(Datum::new(DatumKind::Sym(k), span)), span),
                ],
            ),
            Step::Field(i) => self.struct_field(pv, i, span)?,
        };
        let t = self.fresh_local("m", span);
        lets.push((t, access));
        env.insert(occ, t);
        Ok(t)
    }

    /// Field `i` of a struct value (the struct test passed).
    fn struct_field(&mut self, v: Expr, i: usize, span: Span) -> Result<Expr> {
        let i = Expr::new(ExprKind::Lit(Literal::Int(i as i64)), span);
        Ok(Expr::new(
            ExprKind::PrimCall("%struct-ref".into(), vec![v, i]),
            span,
        ))
    }

    fn test_expr(&mut self, test: &Test, v: LocalId, span: Span) -> Result<Expr> {
        let vx = Expr::new(ExprKind::Local(v), span);
        let prim = |name: &str, args| Expr::new(ExprKind::PrimCall(name.into(), args), span);
        let lit = |l| Expr::new(ExprKind::Lit(l), span);
        let int = |n: usize| lit(Literal::Int(n as i64));
        Ok(match test {
            Test::Lit(c) => {
                let (k, e) = match c {
                    Const::Int(n) => ("eq?", lit(Literal::Int(*n))),
                    Const::Char(ch) => ("eq?", lit(Literal::Char(*ch))),
                    Const::Bool(b) => ("eq?", lit(Literal::Bool(*b))),
                    Const::Nothing => ("eq?", lit(Literal::Nothing)),
                    Const::Nil => ("eq?", lit(Literal::Nil)),
                    Const::Sym(s) => (
                        "eq?",
                        Expr::new(
                            ExprKind::Quote(Datum::new(DatumKind::Sym(s.clone()), span)),
                            span,
                        ),
                    ),
                    Const::Float(bits) => ("equal?", lit(Literal::Float(f64::from_bits(*bits)))),
                    Const::Str(s) => ("equal?", lit(Literal::Str(s.clone()))),
                    Const::Quoted(_, d) => ("equal?", Expr::new(ExprKind::Quote(d.clone()), span)),
                };
                prim(k, vec![vx, e])
            }
            Test::SeqLen { n, exact: true } => prim("%match-len=", vec![vx, int(*n)]),
            Test::SeqLen { n: 1, exact: false } => {
                // `[x .. rest]` on a list, open-coded with the answer of
                // `%match-len>=`, which looks at most two pairs past the
                // first: a pair whose cdr is `()`, or a pair whose cddr is
                // `()` or a pair (a list of at least two, not yet known to
                // be proper), is long enough; any other tail is no list.
                let cdr = |e: Expr| prim("cdr", vec![e]);
                let null = |e: Expr| prim("null?", vec![e]);
                let pair = |e: Expr| prim("pair?", vec![e]);
                let yes = || lit(Literal::Bool(true));
                let if_ = |c: Expr, t: Expr, e: Expr| {
                    Expr::new(ExprKind::If(Box::new(c), Box::new(t), Box::new(e)), span)
                };
                let d = cdr(vx.clone());
                let dd = cdr(d.clone());
                let two_or_more = if_(null(dd.clone()), yes(), pair(dd));
                let tail = if_(
                    null(d.clone()),
                    yes(),
                    if_(pair(d), two_or_more, lit(Literal::Bool(false))),
                );
                if_pair(&vx, tail, prim("%match-len>=", vec![vx.clone(), int(1)]))
            }
            Test::SeqLen { n, exact: false } => prim("%match-len>=", vec![vx, int(*n)]),
            Test::DictKeys(keys) => {
                // Symbols one by one: quoted symbols are shared constants
                // (a synthetic quoted list would need a span of its own).
                let mut args = vec![vx];
                args.extend(keys.iter().map(|k| {
                    Expr::new(
                        ExprKind::Quote(Datum::new(DatumKind::Sym(k.clone()), span)),
                        span,
                    )
                }));
                prim("%match-dict-keys?", args)
            }
            Test::Type(_, ty, _) => self.type_test(vx, ty)?,
            Test::Struct(_, name) => {
                let ty = Datum::new(DatumKind::Kind(vec![name.clone()]), name.span);
                self.type_test(vx, &ty)?
            }
        })
    }
}

pub(super) struct EmitCx<'a, 'b> {
    pub(super) occs: &'a Occs,
    pub(super) clauses: &'a [Clause<'b>],
    pub(super) shared: &'a HashMap<usize, LocalId>,
    pub(super) root: LocalId,
    pub(super) span: Span,
}

fn wrap(lets: Vec<(LocalId, Expr)>, e: Expr, span: Span) -> Expr {
    if lets.is_empty() {
        e
    } else {
        Expr::new(ExprKind::Let(lets, Box::new(e)), span)
    }
}

/// The predicate equivalent to `(type? v T)` when `t` is `(%builtin-type
/// id)` of a concrete built-in type that has one (`int?` is `{Int}`, ...).
fn builtin_predicate(t: &Expr) -> Option<&'static str> {
    use omni_runtime::types as rt;
    let ExprKind::PrimCall(name, args) = &t.kind else {
        return None;
    };
    let [Expr {
        kind: ExprKind::Lit(Literal::Int(id)),
        ..
    }] = args.as_slice()
    else {
        return None;
    };
    if name != "%builtin-type" {
        return None;
    }
    let id = u8::try_from(*id).ok()?;
    Some(match id {
        rt::INT => "int?",
        rt::FLOAT => "float?",
        rt::STRING => "string?",
        rt::SYMBOL => "symbol?",
        rt::CHAR => "char?",
        rt::ARRAY => "array?",
        rt::DICT => "dict?",
        _ => return None,
    })
}

/// `(if (pair? v) then otherwise)`.
fn if_pair(v: &Expr, then: Expr, otherwise: Expr) -> Expr {
    let span = v.span;
    let test = Expr::new(ExprKind::PrimCall("pair?".into(), vec![v.clone()]), span);
    Expr::new(
        ExprKind::If(Box::new(test), Box::new(then), Box::new(otherwise)),
        span,
    )
}
