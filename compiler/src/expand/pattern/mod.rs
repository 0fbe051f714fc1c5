//! `match`: patterns compiled to a decision tree.
//!
//! ```text
//! (match expr  pat1 result1  pat2 result2 ...)
//! ```
//!
//! # Patterns
//!
//! | pattern            | matches                                        | test                      |
//! |--------------------|------------------------------------------------|---------------------------|
//! | `_`                | anything                                       | —                         |
//! | `x`                | anything, binds `x`                            | —                         |
//! | `42` `"s"` `#\a` `1.5` `true` `nothing` `()` | an `equal?` value    | `eq?` / `equal?`          |
//! | `'sym` `:sym` `'(1 2)` | the quoted datum                           | `eq?` / `equal?`          |
//! | `[x {T}]`          | a value of type `T`, binds `x` (`_` allowed)   | `(type? v T)`             |
//! | `[p1 p2 .. r]`     | a list or array of ≥ 2 elements; `r` the rest  | `%match-len>=`            |
//! | `[p1 p2]`          | a list or array of exactly 2 elements          | `%match-len=`             |
//! | `(:k1 :k2)`        | a dict holding keys `k1`, `k2`; binds both     | `%match-dict-keys?`       |
//! | `(S p1 p2)`        | a struct `S` whose fields match `p1`, `p2`     | `(type? v S)`             |
//! | `[... & g1 g2]`    | as `[...]` and then every guard is true         | after the structure       |
//!
//! # The algorithm
//!
//! Every sub-value a pattern looks at is an *occurrence*: the scrutinee
//! (the root), or a step from another occurrence — element `i`, the rest
//! after `n` elements, the value under key `k`, field `i`. Occurrences are
//! interned, so two clauses looking at "element 0 of the root" share one.
//!
//! A clause becomes a *row*: a list of pending constraints `(occurrence,
//! pattern)`, the variables it has bound so far (name → occurrence), its
//! guards and its index. Wildcards vanish and bindings move to the row's
//! variables as soon as a row is built (normalisation), so the pending
//! constraints are all tests: literal equality, sequence length (exact or at
//! least), dict keys, type, struct type. A test that succeeds adds its
//! sub-patterns (on the child occurrences) as new constraints.
//!
//! `compile(rows)`:
//! - no rows: the *fail* leaf (`no match for <value>` at the match);
//! - the first row has no constraints left: a *leaf* for its clause; when the
//!   clause has guards, the leaf tests them and continues with
//!   `compile(rows[1..])` when they are false;
//! - otherwise pick one constraint `(o, t)` of the first row — the one whose
//!   occurrence the most rows constrain (Maranget's "needed by many rows"
//!   heuristic; ties go to the leftmost) — and build a test node with
//!   `yes = compile(specialise(rows, o, t, true))` and
//!   `no = compile(specialise(rows, o, t, false))`.
//!
//! `specialise(rows, o, t, outcome)` keeps the rows in order and, for each
//! constraint `(o, p)` on the same occurrence, asks what `t` having answered
//! `outcome` says about `p` ([`implied`]): *certainly true* — the constraint
//! is replaced by `p`'s sub-patterns; *certainly false* — the row is dropped;
//! *unknown* — the constraint stays and will be tested later. Knowledge is
//! shared across clauses this way: after `%match-len= v 2` succeeded, every
//! other row's `[a b]` test on `v` is resolved (true), every `[a b c]` or
//! `[]` is dropped and every `[a .. r]` is resolved true; a failed
//! `(eq? v 0)` drops every other `0` clause, and a successful one drops the
//! other literals. Each step resolves the chosen constraint of the first row
//! in both branches, so compilation terminates.
//!
//! Emission ([`Expander::emit_tree`]) walks the tree. Occurrences are bound
//! lazily to temporaries the first time a path needs them (after the parent's
//! test, so every accessor is safe), each once per path. A leaf binds the
//! clause's variables, tests its guards (left to right, with every variable
//! of the clause in scope) and evaluates the result. A clause whose result
//! would be emitted at several leaves (a default `_` clause reached from
//! different failed tests, typically) is repeated at each leaf when that
//! costs at most [`DUPLICATE_LIMIT`] extra datum nodes; a larger one is
//! compiled once, as a local function of the clause's variables bound before
//! the tree, and each leaf calls it (a known call, in tail position when the
//! match is).
//!
//! Types plug in through [`Expander::type_test`]: `{T}` becomes
//! `(type? v T)` where `T` is expanded as an expression (a type value: a
//! built-in global like `Int` or a user type). Struct patterns use the same
//! test plus the struct's field accessors.

mod emit;
mod parse;
mod tree;

use super::ast::{Expr, ExprKind, Lambda, LocalId};
use super::{ExpandError, Expander, Result};
use crate::syntax::{Datum, DatumKind, Span};
use emit::EmitCx;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;
use tree::{compile, count_leaves, normalise, Occs, Pat, Row};

/// A parsed clause.
struct Clause<'a> {
    pat: Pat,
    guards: Vec<Datum>,
    /// Variables in pattern order.
    vars: Vec<(String, Span)>,
    result: &'a Datum,
}

fn err(msg: impl Into<String>, span: Span, label: &str) -> ExpandError {
    ExpandError::new(msg, span, label)
}

fn quoted(d: &Datum) -> Option<&Datum> {
    match &d.kind {
        DatumKind::List(q) if q.len() == 2 && super::macros::keyword(&q[0]) == Some("quote") => {
            Some(&q[1])
        }
        _ => None,
    }
}

impl Expander {
    /// `(match expr pat result ...)`.
    pub(super) fn expand_match(
        &mut self,
        args: &[Datum],
        head_span: Span,
        span: Span,
    ) -> Result<Expr> {
        let Some((scrutinee, clauses)) = args.split_first() else {
            return Err(err(
                "`match` needs a value and clauses `pattern result ...`",
                head_span,
                "empty match",
            ));
        };
        if clauses.is_empty() {
            return Err(err(
                "`match` needs at least one clause `pattern result`",
                span,
                "no clauses",
            ));
        }
        if clauses.len() % 2 != 0 {
            let last = clauses.last().unwrap();
            return Err(err(
                "`match` clauses alternate pattern and result: this pattern has no result",
                last.span,
                "pattern without a result",
            ));
        }
        let value = self.expand(scrutinee)?;
        let mut parsed = Vec::new();
        for pair in clauses.chunks(2) {
            let mut c = Clause {
                pat: Pat::Wild,
                guards: vec![],
                vars: vec![],
                result: &pair[1],
            };
            c.pat = self.parse_pattern(&pair[0], &mut c.guards, &mut c.vars)?;
            parsed.push(c);
        }

        let mut occs = Occs::root();
        let rows: Vec<Row> = parsed
            .iter()
            .enumerate()
            .map(|(i, c)| {
                normalise(Row {
                    cons: vec![(0, c.pat.clone())],
                    binds: vec![],
                    guards: Rc::new(c.guards.clone()),
                    clause: i,
                })
            })
            .collect();
        let tree = compile(rows, &mut occs);

        let mut leaves = vec![0usize; parsed.len()];
        count_leaves(&tree, &mut leaves);

        let root = self.fresh_local("match", scrutinee.span);
        let mut lets = vec![(root, value)];
        // Results reached from several leaves become local functions.
        let mut shared: HashMap<usize, LocalId> = HashMap::new();
        for (i, c) in parsed.iter().enumerate() {
            if leaves[i] > 1 && datum_size(c.result) * (leaves[i] - 1) > DUPLICATE_LIMIT {
                let f = self.fresh_local("clause", c.result.span);
                let lam = self.clause_function(c, span)?;
                lets.push((f, Expr::new(ExprKind::Lambda(lam), c.result.span)));
                shared.insert(i, f);
            }
        }
        let mut cx = EmitCx {
            occs: &occs,
            clauses: &parsed,
            shared: &shared,
            root,
            span,
        };
        let mut env = HashMap::new();
        env.insert(0, root);
        let body = self.emit_tree(&tree, &mut cx, &env)?;
        Ok(Expr::new(ExprKind::Let(lets, Box::new(body)), span))
    }

    /// The result of a shared clause as `(fn [vars...] result)`.
    fn clause_function(&mut self, c: &Clause, span: Span) -> Result<Arc<Lambda>> {
        self.push_scope();
        let params: Vec<LocalId> = c.vars.iter().map(|(n, s)| self.bind_local(n, *s)).collect();
        let body = self.expand(c.result);
        self.pop_scope();
        Ok(Arc::new(Lambda {
            name: Some("match-clause".into()),
            params,
            rest: None,
            body: body?,
            span,
        }))
    }
}

/// How many extra datum nodes a match may spend on repeating a clause's
/// result at several leaves before the result becomes a local function.
const DUPLICATE_LIMIT: usize = 40;

/// Number of datum nodes in `d` (code-size estimate of a result).
fn datum_size(d: &Datum) -> usize {
    match &d.kind {
        DatumKind::List(xs) | DatumKind::Slot(xs) | DatumKind::Kind(xs) | DatumKind::Dict(xs) => {
            1 + xs.iter().map(datum_size).sum::<usize>()
        }
        DatumKind::Path(b, segs) => 1 + datum_size(b) + segs.len(),
        _ => 1,
    }
}
