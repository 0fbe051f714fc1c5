//! The decision-tree compiler of `match` (see the module doc of
//! `pattern/mod.rs`): rows of pending constraints → a [`Tree`] of tests.
//! Pure: it needs no `Expander`, only the patterns parse.rs builds.

use crate::syntax::{Datum, Span};
use std::collections::HashMap;
use std::rc::Rc;

/// Index of an interned occurrence; 0 is the root.
pub(super) type Occ = usize;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) enum Step {
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
pub(super) enum Const {
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
    pub(super) fn atomic(&self) -> bool {
        !matches!(self, Const::Nil | Const::Quoted(..))
    }

    /// Certainly no value is `equal?` to both constants.
    pub(super) fn distinct(&self, other: &Const) -> bool {
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
pub(super) enum Test {
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
pub(super) enum Pat {
    Wild,
    Bind(String, Span, Box<Pat>),
    Test(Test, Vec<(Step, Pat)>),
}

#[derive(Clone, Debug)]
pub(super) struct Row {
    pub(super) cons: Vec<(Occ, Pat)>,
    pub(super) binds: Vec<(String, Span, Occ)>,
    pub(super) guards: Rc<Vec<Datum>>,
    pub(super) clause: usize,
}

#[derive(Debug)]
pub(super) enum Tree {
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
pub(super) fn implied(t: &Test, outcome: bool, p: &Test) -> Option<bool> {
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
pub(super) fn subtype(a: &str, b: &str) -> bool {
    a == b || b == "Any" || (b == "Number" && matches!(a, "Int" | "Float"))
}

/// No value has both built-in types.
pub(super) fn disjoint(a: &str, b: &str) -> bool {
    !subtype(a, b) && !subtype(b, a)
}

/// The built-in type of a constant, when it is certain.
pub(super) fn const_type(c: &Const) -> Option<&'static str> {
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
pub(super) struct Occs {
    /// Parent and step of each occurrence (the root has none).
    pub(super) info: Vec<Option<(Occ, Step)>>,
    pub(super) index: HashMap<(Occ, Step), Occ>,
}

impl Occs {
    pub(super) fn root() -> Occs {
        Occs {
            info: vec![None],
            index: HashMap::new(),
        }
    }
    pub(super) fn child(&mut self, parent: Occ, step: Step) -> Occ {
        if let Some(o) = self.index.get(&(parent, step.clone())) {
            return *o;
        }
        self.info.push(Some((parent, step.clone())));
        let o = self.info.len() - 1;
        self.index.insert((parent, step), o);
        o
    }
}

/// Move wildcards out and bindings into the row's variables.
pub(super) fn normalise(mut row: Row) -> Row {
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

pub(super) fn compile(rows: Vec<Row>, occs: &mut Occs) -> Tree {
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

pub(super) fn specialise(
    rows: &[Row],
    occ: Occ,
    t: &Test,
    outcome: bool,
    occs: &mut Occs,
) -> Vec<Row> {
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

pub(super) fn count_leaves(t: &Tree, counts: &mut [usize]) {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn row(clause: usize, pat: Pat) -> Row {
        normalise(Row {
            cons: vec![(0, pat)],
            binds: vec![],
            guards: Rc::new(vec![]),
            clause,
        })
    }

    fn lit(n: i64) -> Pat {
        Pat::Test(Test::Lit(Const::Int(n)), vec![])
    }

    fn seq(n: usize, exact: bool) -> Pat {
        let subs = (0..n).map(|i| (Step::Elem(i), Pat::Wild)).collect();
        Pat::Test(Test::SeqLen { n, exact }, subs)
    }

    /// The tree as text: `(test occ TEST yes no)`, `(leaf N)`, `fail`.
    fn show(t: &Tree) -> String {
        match t {
            Tree::Fail => "fail".into(),
            Tree::Leaf {
                clause, otherwise, ..
            } => match otherwise {
                Some(o) => format!("(leaf {clause} else {})", show(o)),
                None => format!("(leaf {clause})"),
            },
            Tree::Test { occ, test, yes, no } => {
                let test = match test {
                    Test::Lit(Const::Int(n)) => format!("={n}"),
                    Test::SeqLen { n, exact: true } => format!("len={n}"),
                    Test::SeqLen { n, exact: false } => format!("len>={n}"),
                    other => format!("{other:?}"),
                };
                format!("(test {occ} {test} {} {})", show(yes), show(no))
            }
        }
    }

    fn tree(rows: Vec<Row>) -> String {
        show(&compile(rows, &mut Occs::root()))
    }

    #[test]
    fn no_rows_fail() {
        assert_eq!(tree(vec![]), "fail");
    }

    #[test]
    fn wildcard_first_is_a_leaf() {
        assert_eq!(tree(vec![row(0, Pat::Wild), row(1, lit(1))]), "(leaf 0)");
    }

    #[test]
    fn literals_then_default() {
        assert_eq!(
            tree(vec![row(0, lit(0)), row(1, lit(1)), row(2, Pat::Wild)]),
            "(test 0 =0 (leaf 0) (test 0 =1 (leaf 1) (leaf 2)))"
        );
    }

    #[test]
    fn a_failed_literal_drops_its_repeats_and_a_passed_one_the_others() {
        // After `= 0` failed, clause 2's `0` is dropped; after it passed,
        // clause 1's `1` is.
        assert_eq!(
            tree(vec![row(0, lit(0)), row(1, lit(1)), row(2, lit(0))]),
            "(test 0 =0 (leaf 0) (test 0 =1 (leaf 1) fail))"
        );
    }

    #[test]
    fn sequence_lengths_share_knowledge() {
        // `[a b]`, `[a .. r]`, `[]`: once `len=2` passed, `len>=1` is known
        // true; once it failed, `len>=1` is still tested and `[]` remains.
        assert_eq!(
            tree(vec![
                row(0, seq(2, true)),
                row(1, seq(1, false)),
                row(2, seq(0, true))
            ]),
            "(test 0 len=2 (leaf 0) (test 0 len>=1 (leaf 1) (test 0 len=0 (leaf 2) fail)))"
        );
    }

    #[test]
    fn sub_patterns_test_child_occurrences() {
        // `[0 _]` then `_`: the element test is on occurrence 1 (element 0
        // of the root), after the length test.
        let p = Pat::Test(
            Test::SeqLen { n: 2, exact: true },
            vec![(Step::Elem(0), lit(0)), (Step::Elem(1), Pat::Wild)],
        );
        assert_eq!(
            tree(vec![row(0, p), row(1, Pat::Wild)]),
            "(test 0 len=2 (test 1 =0 (leaf 0) (leaf 1)) (leaf 1))"
        );
    }
}
