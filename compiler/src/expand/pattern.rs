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

use super::ast::{Expr, ExprKind, Lambda, Literal, LocalId};
use super::{ExpandError, Expander, Resolved, Result};
use crate::syntax::{Datum, DatumKind, Span};
use std::collections::HashMap;
use std::rc::Rc;

/// Index of an interned occurrence; 0 is the root.
type Occ = usize;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Step {
    /// Element `i` of a sequence.
    Elem(usize),
    /// The sequence after its first `n` elements.
    Drop(usize),
    /// The value under a symbol key of a dict.
    Key(String),
    /// Field `i` of a struct.
    Field(usize),
}

/// A constant a literal pattern compares with.
#[derive(Clone, Debug)]
enum Const {
    Int(i64),
    /// The bits, so that equality of tests is reflexive (NaN).
    Float(u64),
    Str(String),
    Char(char),
    Bool(bool),
    Nothing,
    Nil,
    Sym(String),
    /// A quoted compound datum (compared with `equal?`), by its text.
    Quoted(String, Datum),
}

impl PartialEq for Const {
    fn eq(&self, other: &Const) -> bool {
        use Const::*;
        match (self, other) {
            (Int(a), Int(b)) => a == b,
            (Float(a), Float(b)) => a == b,
            (Str(a), Str(b)) => a == b,
            (Char(a), Char(b)) => a == b,
            (Bool(a), Bool(b)) => a == b,
            (Nothing, Nothing) | (Nil, Nil) => true,
            (Sym(a), Sym(b)) => a == b,
            (Quoted(a, _), Quoted(b, _)) => a == b,
            _ => false,
        }
    }
}

impl Const {
    /// Not a list, array or dict: a value equal to it is not a sequence.
    fn atomic(&self) -> bool {
        !matches!(self, Const::Nil | Const::Quoted(..))
    }

    /// Certainly no value is `equal?` to both constants.
    fn distinct(&self, other: &Const) -> bool {
        match (self, other) {
            (Const::Quoted(..), _) | (_, Const::Quoted(..)) => false,
            // `equal?` on floats: `==`, or both NaN; 0.0 equals -0.0.
            (Const::Float(a), Const::Float(b)) => {
                let (x, y) = (f64::from_bits(*a), f64::from_bits(*b));
                !(x == y || (x.is_nan() && y.is_nan()))
            }
            _ => self != other,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Test {
    Lit(Const),
    /// A list or array of exactly `n` elements (`exact`) or at least `n`.
    SeqLen {
        n: usize,
        exact: bool,
    },
    /// A dict holding every key (sorted, distinct).
    DictKeys(Vec<String>),
    /// `(type? v T)`; `T` by its text, its `{T}` datum and, when `T` is an
    /// unshadowed built-in type, its name (for compile-time implications).
    Type(String, Datum, Option<String>),
    /// A struct pattern `(S ...)`: `(type? v S)`, by the name `S`.
    Struct(String, Datum),
}

#[derive(Clone, Debug)]
enum Pat {
    Wild,
    Bind(String, Span, Box<Pat>),
    Test(Test, Vec<(Step, Pat)>),
}

#[derive(Clone, Debug)]
struct Row {
    cons: Vec<(Occ, Pat)>,
    binds: Vec<(String, Span, Occ)>,
    guards: Rc<Vec<Datum>>,
    clause: usize,
}

#[derive(Debug)]
enum Tree {
    Fail,
    Test {
        occ: Occ,
        test: Test,
        yes: Box<Tree>,
        no: Box<Tree>,
    },
    Leaf {
        clause: usize,
        binds: Vec<(String, Span, Occ)>,
        guards: Rc<Vec<Datum>>,
        /// Where to continue when a guard is false.
        otherwise: Option<Box<Tree>>,
    },
}

/// What a test's outcome says about another test on the same occurrence:
/// `Some(true)` it certainly passes, `Some(false)` it certainly fails,
/// `None` unknown. Must answer `Some(outcome)` for `p == t`.
fn implied(t: &Test, outcome: bool, p: &Test) -> Option<bool> {
    use Test::*;
    if t == p {
        return Some(outcome);
    }
    match (t, p, outcome) {
        (Lit(c), Lit(d), true) if c.distinct(d) => Some(false),
        (Lit(c), SeqLen { n, .. }, true) => match c {
            Const::Nil => Some(*n == 0),
            c if c.atomic() => Some(false),
            _ => None,
        },
        (Lit(c), DictKeys(_) | Struct(..), true) if c.atomic() || *c == Const::Nil => Some(false),
        (SeqLen { n, exact }, SeqLen { n: m, exact: f }, true) => match (exact, f) {
            (true, true) => Some(n == m),
            (true, false) => Some(n >= m),
            (false, true) if m < n => Some(false),
            (false, false) if m <= n => Some(true),
            _ => None,
        },
        (SeqLen { n, exact }, SeqLen { n: m, .. }, false) => {
            // "exactly n" failed says nothing about other lengths; "at least
            // n" failed means shorter than n, or not a sequence.
            (!exact && m >= n).then_some(false)
        }
        (SeqLen { n, .. }, Lit(d), true) => {
            (d.atomic() || (*d == Const::Nil && *n > 0)).then_some(false)
        }
        (SeqLen { .. } | Struct(..), DictKeys(_), true) => Some(false),
        (DictKeys(_) | Struct(..), SeqLen { .. }, true) => Some(false),
        (DictKeys(k), DictKeys(k2), true) if k2.iter().all(|x| k.contains(x)) => Some(true),
        (DictKeys(k), DictKeys(k2), false) if k.iter().all(|x| k2.contains(x)) => Some(false),
        (DictKeys(_), Lit(d), true) if d.atomic() || *d == Const::Nil => Some(false),
        (DictKeys(_) | SeqLen { .. }, Struct(..), true) => Some(false),
        (Struct(..), Lit(_), true) => Some(false),
        // Distinct struct types are disjoint.
        (Struct(a, _), Struct(b, _), true) if a != b => Some(false),
        (Type(_, _, Some(a)), Type(_, _, Some(b)), true) => {
            if subtype(a, b) {
                Some(true)
            } else {
                disjoint(a, b).then_some(false)
            }
        }
        // Not an `a`, so not a `b` below it.
        (Type(_, _, Some(a)), Type(_, _, Some(b)), false) if subtype(b, a) => Some(false),
        (Lit(c), Type(_, _, Some(b)), true) => const_type(c).map(|a| subtype(a, b)),
        (Type(_, _, Some(a)), Lit(c), true) => {
            const_type(c).and_then(|b| disjoint(a, b).then_some(false))
        }
        (SeqLen { .. }, Type(_, _, Some(b)), true) | (Type(_, _, Some(b)), SeqLen { .. }, true) => {
            (!matches!(b.as_str(), "List" | "Array" | "Any")).then_some(false)
        }
        (DictKeys(_), Type(_, _, Some(b)), true) | (Type(_, _, Some(b)), DictKeys(_), true) => {
            (!matches!(b.as_str(), "Dict" | "Any")).then_some(false)
        }
        // A struct's type is a user type: it may sit below `Any`, `Number`
        // or a user type, never below the other built-in types.
        (Struct(..), Type(_, _, Some(b)), true) | (Type(_, _, Some(b)), Struct(..), true) => {
            (!matches!(b.as_str(), "Any" | "Number")).then_some(false)
        }
        _ => None,
    }
}

/// `a` is `b` or below it, among the built-in types.
fn subtype(a: &str, b: &str) -> bool {
    a == b || b == "Any" || (b == "Number" && matches!(a, "Int" | "Float"))
}

/// No value has both built-in types.
fn disjoint(a: &str, b: &str) -> bool {
    !subtype(a, b) && !subtype(b, a)
}

/// The built-in type of a constant, when it is certain.
fn const_type(c: &Const) -> Option<&'static str> {
    Some(match c {
        Const::Int(_) => "Int",
        Const::Float(_) => "Float",
        Const::Str(_) => "String",
        Const::Char(_) => "Char",
        Const::Bool(_) => "Bool",
        Const::Nothing => "Nothing",
        Const::Sym(_) => "Symbol",
        Const::Nil | Const::Quoted(..) => return None,
    })
}

/// The occurrence table of one match.
#[derive(Default)]
struct Occs {
    /// Parent and step of each occurrence (the root has none).
    info: Vec<Option<(Occ, Step)>>,
    index: HashMap<(Occ, Step), Occ>,
}

impl Occs {
    fn root() -> Occs {
        Occs {
            info: vec![None],
            index: HashMap::new(),
        }
    }
    fn child(&mut self, parent: Occ, step: Step) -> Occ {
        if let Some(o) = self.index.get(&(parent, step.clone())) {
            return *o;
        }
        self.info.push(Some((parent, step.clone())));
        let o = self.info.len() - 1;
        self.index.insert((parent, step), o);
        o
    }
}

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
        DatumKind::List(q) if q.len() == 2 && q[0].as_sym() == Some("quote") => Some(&q[1]),
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
    fn clause_function(&mut self, c: &Clause, span: Span) -> Result<Rc<Lambda>> {
        self.push_scope();
        let params: Vec<LocalId> = c.vars.iter().map(|(n, s)| self.bind_local(n, *s)).collect();
        let body = self.expand(c.result);
        self.pop_scope();
        Ok(Rc::new(Lambda {
            name: Some("match-clause".into()),
            params,
            rest: None,
            body: body?,
            span,
        }))
    }

    /// Parse one pattern, collecting its guards and variables.
    fn parse_pattern(
        &mut self,
        d: &Datum,
        guards: &mut Vec<Datum>,
        vars: &mut Vec<(String, Span)>,
    ) -> Result<Pat> {
        let lit = |c| Ok(Pat::Test(Test::Lit(c), vec![]));
        match &d.kind {
            DatumKind::Int(n) => lit(Const::Int(*n)),
            DatumKind::Float(x) => lit(Const::Float(x.to_bits())),
            DatumKind::Str(s) => lit(Const::Str(s.clone())),
            DatumKind::Char(c) => lit(Const::Char(*c)),
            DatumKind::Bool(b) => lit(Const::Bool(*b)),
            DatumKind::Nothing => lit(Const::Nothing),
            DatumKind::Sym(s) if s == "_" => Ok(Pat::Wild),
            DatumKind::Sym(s) if s == ".." || s == "&" => Err(err(
                format!("`{s}` can only appear inside a bracketed pattern"),
                d.span,
                "misplaced",
            )),
            DatumKind::Sym(s) => {
                self.add_var(s, d.span, vars)?;
                Ok(Pat::Bind(s.clone(), d.span, Box::new(Pat::Wild)))
            }
            DatumKind::List(items) if items.is_empty() => lit(Const::Nil),
            DatumKind::List(_) if quoted(d).is_some() => {
                let q = quoted(d).unwrap();
                super::shape::check_quoted(q)?;
                Ok(match &q.kind {
                    DatumKind::Sym(s) => Pat::Test(Test::Lit(Const::Sym(s.clone())), vec![]),
                    DatumKind::List(xs) if xs.is_empty() => {
                        Pat::Test(Test::Lit(Const::Nil), vec![])
                    }
                    DatumKind::Int(_)
                    | DatumKind::Float(_)
                    | DatumKind::Str(_)
                    | DatumKind::Char(_)
                    | DatumKind::Bool(_)
                    | DatumKind::Nothing => return self.parse_pattern(q, guards, vars),
                    _ => Pat::Test(Test::Lit(Const::Quoted(q.to_string(), q.clone())), vec![]),
                })
            }
            DatumKind::List(items) if items.iter().all(|k| quoted(k).is_some()) => {
                // Dict pattern `(:k1 :k2)`.
                let mut keys = Vec::new();
                let mut subs = Vec::new();
                for k in items {
                    let Some(name) = quoted(k).and_then(|q| q.as_sym()) else {
                        return Err(err(
                            "a dict pattern lists symbol keys like `(:name :age)`",
                            k.span,
                            "expected `:key`",
                        ));
                    };
                    self.add_var(name, k.span, vars)?;
                    keys.push(name.to_string());
                    subs.push((
                        Step::Key(name.to_string()),
                        Pat::Bind(name.to_string(), k.span, Box::new(Pat::Wild)),
                    ));
                }
                keys.sort();
                keys.dedup();
                Ok(Pat::Test(Test::DictKeys(keys), subs))
            }
            DatumKind::List(items) => self.parse_struct_pattern(d, items, guards, vars),
            DatumKind::Slot(elems) => {
                let (elems, guard) = match elems.iter().position(|e| e.as_sym() == Some("&")) {
                    Some(i) => (&elems[..i], &elems[i + 1..]),
                    None => (&elems[..], &[][..]),
                };
                if elems.len() != d_len(d) && guard.is_empty() {
                    return Err(err(
                        "`&` must be followed by a guard expression",
                        d.span,
                        "missing guard",
                    ));
                }
                // Guards of inner patterns come before the outer one's: they
                // are all tested together once the structure matched.
                let pat = match elems {
                    [name, ty @ Datum {
                        kind: DatumKind::Kind(_),
                        ..
                    }] if name.as_sym().is_some_and(|s| s != ".." && s != "&") => {
                        let test = self.type_pattern(ty)?;
                        let s = name.as_sym().unwrap();
                        match (s, test) {
                            ("_", None) => Pat::Wild,
                            ("_", Some(t)) => Pat::Test(t, vec![]),
                            (s, t) => {
                                self.add_var(s, name.span, vars)?;
                                let inner = t.map_or(Pat::Wild, |t| Pat::Test(t, vec![]));
                                Pat::Bind(s.to_string(), name.span, Box::new(inner))
                            }
                        }
                    }
                    _ => self.parse_seq_pattern(elems, guards, vars)?,
                };
                guards.extend(guard.iter().cloned());
                Ok(pat)
            }
            DatumKind::Kind(_) => Err(err(
                "a type pattern binds a name: write `[x {T}]` (or `[_ {T}]`)",
                d.span,
                "bare type",
            )),
            DatumKind::Dict(_) => Err(err(
                "dict literals are not patterns; match keys with `(:k1 :k2)`",
                d.span,
                "not a pattern",
            )),
            DatumKind::Meta(_) | DatumKind::Path(..) => {
                Err(err("malformed pattern", d.span, "not a pattern"))
            }
        }
    }

    fn add_var(&mut self, name: &str, span: Span, vars: &mut Vec<(String, Span)>) -> Result<()> {
        if vars.iter().any(|(n, _)| n == name) {
            return Err(err(
                format!("`{name}` is bound twice in one pattern"),
                span,
                "second binding",
            ));
        }
        vars.push((name.to_string(), span));
        Ok(())
    }

    /// `[p1 p2 .. rest]` (the guard already split off).
    fn parse_seq_pattern(
        &mut self,
        elems: &[Datum],
        guards: &mut Vec<Datum>,
        vars: &mut Vec<(String, Span)>,
    ) -> Result<Pat> {
        let mut subs = Vec::new();
        let mut i = 0;
        while i < elems.len() {
            let e = &elems[i];
            if e.as_sym() == Some("..") {
                let Some(rest) = elems.get(i + 1) else {
                    return Err(err(
                        "`..` needs a pattern for the rest after it",
                        e.span,
                        "missing rest",
                    ));
                };
                if i + 2 != elems.len() {
                    return Err(err(
                        "the rest pattern `.. rest` must come last",
                        e.span,
                        "not last",
                    ));
                }
                let rest = self.parse_pattern(rest, guards, vars)?;
                if !matches!(rest, Pat::Wild) {
                    subs.push((Step::Drop(i), rest));
                }
                return Ok(Pat::Test(Test::SeqLen { n: i, exact: false }, subs));
            }
            let p = self.parse_pattern(e, guards, vars)?;
            if !matches!(p, Pat::Wild) {
                subs.push((Step::Elem(i), p));
            }
            i += 1;
        }
        Ok(Pat::Test(
            Test::SeqLen {
                n: elems.len(),
                exact: true,
            },
            subs,
        ))
    }

    /// `{T}` in a typed binding: `None` for `{Any}` (no test needed).
    fn type_pattern(&mut self, ty: &Datum) -> Result<Option<Test>> {
        let DatumKind::Kind(inner) = &ty.kind else {
            unreachable!()
        };
        let mut builtin = None;
        if let [t] = inner.as_slice() {
            if let Some(name) = t.as_sym() {
                let shadowed =
                    matches!(self.resolve(name), Resolved::Local(_) | Resolved::Global(_));
                if !shadowed && omni_runtime::types::builtin_id(name).is_some() {
                    if name == "Any" {
                        return Ok(None);
                    }
                    builtin = Some(name.to_string());
                }
            }
        } else {
            return Err(err(
                "a type annotation holds one type: `{Int}`, `{(Array Int)}`",
                ty.span,
                "malformed type",
            ));
        }
        Ok(Some(Test::Type(ty.to_string(), ty.clone(), builtin)))
    }

    /// `(S p1 ... pn)`: a struct pattern.
    fn parse_struct_pattern(
        &mut self,
        d: &Datum,
        items: &[Datum],
        guards: &mut Vec<Datum>,
        vars: &mut Vec<(String, Span)>,
    ) -> Result<Pat> {
        let Some(name) = items[0].as_sym() else {
            return Err(err(
                "malformed pattern: a struct pattern is `(Name field-pattern ...)`, a dict pattern `(:k1 :k2)`",
                d.span,
                "not a pattern",
            ));
        };
        let nfields = self.struct_field_count(name, items[0].span)?;
        if nfields != items.len() - 1 {
            return Err(err(
                format!(
                    "struct `{name}` has {nfields} field{}, the pattern gives {}",
                    if nfields == 1 { "" } else { "s" },
                    items.len() - 1
                ),
                d.span,
                "wrong number of field patterns",
            ));
        }
        let mut subs = Vec::new();
        for (i, f) in items[1..].iter().enumerate() {
            let p = self.parse_pattern(f, guards, vars)?;
            if !matches!(p, Pat::Wild) {
                subs.push((Step::Field(i), p));
            }
        }
        Ok(Pat::Test(
            Test::Struct(name.to_string(), items[0].clone()),
            subs,
        ))
    }

    /// The number of fields of the struct type `name` (types.rs).
    fn struct_field_count(&mut self, name: &str, span: Span) -> Result<usize> {
        match self.struct_info(name) {
            Some(info) => Ok(info.fields.len()),
            None => Err(err(
                format!("`{name}` is not a struct type: a pattern `({name} ...)` needs one (a dict pattern lists keys `(:k1 :k2)`)"),
                span,
                "not a struct type",
            )),
        }
    }

    /// `(type? v T)` for a `{T}` datum, `T` evaluated as a type expression
    /// (types.rs).
    fn type_test(&mut self, v: Expr, ty: &Datum) -> Result<Expr> {
        let span = ty.span;
        let t = self.type_expr(ty)?;
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

    fn emit_tree(
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
            Step::Elem(i) => prim("%match-ref", vec![pv, int(i)]),
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

struct EmitCx<'a, 'b> {
    occs: &'a Occs,
    clauses: &'a [Clause<'b>],
    shared: &'a HashMap<usize, LocalId>,
    root: LocalId,
    span: Span,
}

fn d_len(d: &Datum) -> usize {
    match &d.kind {
        DatumKind::Slot(xs) => xs.len(),
        _ => 0,
    }
}

fn wrap(lets: Vec<(LocalId, Expr)>, e: Expr, span: Span) -> Expr {
    if lets.is_empty() {
        e
    } else {
        Expr::new(ExprKind::Let(lets, Box::new(e)), span)
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

/// Move wildcards out and bindings into the row's variables.
fn normalise(mut row: Row) -> Row {
    let mut work: Vec<(Occ, Pat)> = std::mem::take(&mut row.cons);
    work.reverse();
    while let Some((o, p)) = work.pop() {
        match p {
            Pat::Wild => {}
            Pat::Bind(name, span, inner) => {
                row.binds.push((name, span, o));
                work.push((o, *inner));
            }
            Pat::Test(..) => row.cons.push((o, p)),
        }
    }
    row
}

fn compile(rows: Vec<Row>, occs: &mut Occs) -> Tree {
    let Some(first) = rows.first() else {
        return Tree::Fail;
    };
    if first.cons.is_empty() {
        let first = rows[0].clone();
        let otherwise = (!first.guards.is_empty())
            .then(|| Box::new(compile(rows.into_iter().skip(1).collect(), occs)));
        return Tree::Leaf {
            clause: first.clause,
            binds: first.binds,
            guards: first.guards,
            otherwise,
        };
    }
    // The first row's constraint whose occurrence most rows look at.
    let score = |o: Occ| {
        rows.iter()
            .filter(|r| r.cons.iter().any(|(q, _)| *q == o))
            .count()
    };
    let (occ, test) = first
        .cons
        .iter()
        .enumerate()
        .max_by_key(|(i, (o, _))| (score(*o), std::cmp::Reverse(*i)))
        .map(|(_, (o, p))| match p {
            Pat::Test(t, _) => (*o, t.clone()),
            _ => unreachable!("normalised rows hold tests only"),
        })
        .unwrap();
    let yes = specialise(&rows, occ, &test, true, occs);
    let no = specialise(&rows, occ, &test, false, occs);
    Tree::Test {
        occ,
        yes: Box::new(compile(yes, occs)),
        no: Box::new(compile(no, occs)),
        test,
    }
}

fn specialise(rows: &[Row], occ: Occ, t: &Test, outcome: bool, occs: &mut Occs) -> Vec<Row> {
    let mut out = Vec::new();
    'rows: for row in rows {
        let mut cons = Vec::new();
        for (o, p) in &row.cons {
            let Pat::Test(pt, subs) = p else {
                unreachable!("normalised rows hold tests only")
            };
            if *o != occ {
                cons.push((*o, p.clone()));
                continue;
            }
            match implied(t, outcome, pt) {
                Some(true) => {
                    for (step, sp) in subs {
                        cons.push((occs.child(*o, step.clone()), sp.clone()));
                    }
                }
                Some(false) => continue 'rows,
                None => cons.push((*o, p.clone())),
            }
        }
        let r = Row {
            cons,
            binds: row.binds.clone(),
            guards: row.guards.clone(),
            clause: row.clause,
        };
        out.push(normalise(r));
    }
    out
}

fn count_leaves(t: &Tree, counts: &mut [usize]) {
    match t {
        Tree::Fail => {}
        Tree::Test { yes, no, .. } => {
            count_leaves(yes, counts);
            count_leaves(no, counts);
        }
        Tree::Leaf {
            clause, otherwise, ..
        } => {
            counts[*clause] += 1;
            if let Some(o) = otherwise {
                count_leaves(o, counts);
            }
        }
    }
}
