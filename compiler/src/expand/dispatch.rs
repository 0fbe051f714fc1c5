//! Multiple dispatch (LANGUAGE.md §4): generic functions.
//!
//! A name defined at top level by several function `define`s is a
//! *generic*: each method becomes a hidden global `f%m<j>`, registered in
//! the method table `f%methods` when its `define` runs; `f%a<n>` is the
//! dispatcher for calls with `n` arguments (`%dispatch` picks the method
//! number, a chain of `eq?` tests tail-calls it directly) and `f` itself
//! is the dispatcher value (`f%a<n>` when every method has arity `n`,
//! else a rest-parameter function using `%dispatch-apply`). A call site
//! `(f a b)` calls the single untyped method of that arity directly, or
//! `f%a2`; a name defined once is an ordinary known function. Both the plan
//! and the method expansion read the [`TopForm::Function`] shapes, so every
//! planned method is expanded exactly once and nothing else is taken for one.

use super::ast::{Expr, ExprKind, GlobalId, Lambda, Literal, LocalId};
use super::shape::{parse_params, TopForm};
use super::types::sym_datum;
use super::{ExpandError, Expander, Resolved, Result};
use crate::syntax::{Datum, Span};
use std::collections::HashMap;
use std::sync::Arc;

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

impl Expander {
    // ---------------------------------------------------------- generics

    /// Find the generics: names with several top-level function `define`s.
    /// Declares their hidden globals.
    pub(super) fn plan_generics(&mut self, forms: &[TopForm]) -> Result<()> {
        // Per name, its definitions' shapes (`None` for a non-function).
        let mut defs: HashMap<&str, Vec<Option<&[Datum]>>> = HashMap::new();
        let mut order = Vec::new();
        for form in forms {
            let (name, fn_rest) = match form {
                TopForm::Function { name, shape, .. } => (*name, Some(shape.params)),
                TopForm::Define { name, .. } => (*name, None),
                TopForm::TypeDef(_) | TopForm::Expr => continue,
            };
            if !defs.contains_key(name) {
                order.push(name);
            }
            defs.entry(name).or_default().push(fn_rest);
        }
        for name in order {
            let ds = &defs[name];
            // `name` is a top-level definition's global name (a module's
            // definitions are already renamed), so no namespace applies.
            let Some(&g) = self.global_index.get(name) else {
                continue;
            };
            if ds.len() < 2
                || self.prog.globals[g.0 as usize].assigned
                || !ds.iter().all(|r| r.is_some())
            {
                continue;
            }
            let mut info = GenericInfo::default();
            for (j, params) in ds.iter().flatten().enumerate() {
                let ps = parse_params(params)?;
                let global = self.declare_hidden(&format!("{name}%m{j}"));
                info.methods.push(MethodInfo {
                    arity: ps.fixed.len(),
                    rest: ps.rest.is_some(),
                    typed: ps.typed(),
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
            self.generics.insert(name.to_string(), info);
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
        // By the global the name resolves to: a module's generic is known
        // under its global name, whatever the program calls it.
        match self.resolve(name) {
            Resolved::Global(g) => self.generics.get(self.global_key(g)),
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
            [] => {
                let mut arities: Vec<String> = info
                    .methods
                    .iter()
                    .map(|m| match m.rest {
                        true => format!("{} or more", m.arity),
                        false => m.arity.to_string(),
                    })
                    .collect();
                arities.dedup();
                return Err(ExpandError::new(
                    format!("no method of `{name}` takes {n} arguments"),
                    head.span,
                    format!("`{name}` called with {n} here"),
                )
                .with_note(format!(
                    "the methods of `{name}` take {} arguments",
                    arities.join(", ")
                )));
            }
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
        form: &TopForm,
        span: Span,
    ) -> Result<Option<Vec<Expr>>> {
        let TopForm::Function {
            name,
            define_span,
            rest,
            shape,
            ..
        } = form
        else {
            return Ok(None);
        };
        let name = *name;
        let Some(info) = self.generics.get(name).cloned() else {
            return Ok(None);
        };
        let j = info.next;
        self.generics.get_mut(name).expect("a generic").next += 1;
        let mut out = Vec::new();
        let table = info.table.expect("planned");
        // `name` is the definition's global name (see `import.rs`).
        let gname = self.global_index[name];
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
                    ExprKind::Lambda(Arc::new(Lambda {
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
        let lam = self.expand_lambda(Some(name.to_string()), rest, *define_span, span);
        self.skip_param_checks = false;
        let lam = lam?;
        out.push(Expr::new(
            ExprKind::DefineGlobal(m.global, Box::new(Expr::new(ExprKind::Lambda(lam), span))),
            span,
        ));
        let mut entry = vec![
            Expr::new(ExprKind::Lit(Literal::Int(j as i64)), span),
            Expr::new(ExprKind::Global(m.global), span),
            Expr::new(ExprKind::Lit(Literal::Bool(m.rest)), span),
        ];
        for p in parse_params(shape.params)?.fixed {
            entry.push(match p.ty {
                Some(t) => self.type_expr(t)?,
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
            ExprKind::Lambda(Arc::new(Lambda {
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
}
