//! Macros by rules: `(define [syntax NAME] [PATTERN TEMPLATE] ...)`.
//!
//! Macro expansion runs on datums, form by form while the top level is
//! flattened (see `import.rs`), before any definition shape or special form
//! is recognised: a `define [syntax ...]` form is parsed into a [`Macro`]
//! (its patterns and templates checked, ellipsis depths included), and every
//! later form has its macro uses rewritten until none is left (quoted data
//! excepted). A macro is therefore visible from its definition to the end of
//! the file, and in the files that import that file after the import.
//!
//! Hygiene is by marks. Each expansion step takes a fresh mark `N`, and every
//! symbol the template introduces is renamed `name#N` (the reader never
//! makes a `#` inside a symbol, so no user name can collide), while the
//! datums that pattern variables stand for are inserted unchanged. The
//! expander's name resolution (`Expander::resolve`) then does the rest: a
//! marked binder binds the marked spelling, so it only captures references
//! with the same mark; a marked reference that no marked binder binds is
//! resolved in the macro's definition environment — the top level: globals,
//! special forms, primitives — skipping every local binding of the use site.
//! Quoted data loses its marks (`'x` in a template is the symbol `x`).

use super::{ExpandError, Result};
use crate::syntax::{Datum, DatumKind, PathSeg, Span};
use std::collections::HashMap;
use std::rc::Rc;

/// How many expansion steps may nest inside one use before it is reported
/// as runaway recursion.
pub(crate) const MAX_EXPANSION_DEPTH: usize = 1000;

/// How many expansion steps one top-level form may take in all (a macro
/// that doubles its work at every step stays under the depth limit).
pub(crate) const MAX_EXPANSION_STEPS: usize = 100_000;

/// How many datum nodes the expansions of one top-level form may build in
/// all: a runaway macro that grows its argument at every step (with a large
/// datum in its template) would otherwise use up memory long before the step
/// limits (found by the fuzzer: 8 GB in 9 s). A macro that recurses over
/// 3,000 arguments one at a time copies about 4.5 million.
pub(crate) const MAX_EXPANSION_NODES: usize = 5_000_000;

/// The work the expansions of one top-level form have done so far.
#[derive(Default)]
pub(crate) struct ExpansionBudget {
    steps: usize,
    nodes: usize,
}

/// The nodes of a datum (iterative: data nest 100,000 deep).
fn datum_nodes(d: &Datum) -> usize {
    let mut n = 0;
    let mut todo = vec![d];
    while let Some(d) = todo.pop() {
        n += 1;
        match &d.kind {
            DatumKind::List(xs)
            | DatumKind::Slot(xs)
            | DatumKind::Kind(xs)
            | DatumKind::Dict(xs) => todo.extend(xs),
            DatumKind::Path(base, segs) => {
                todo.push(base);
                todo.extend(segs.iter().filter_map(|s| match s {
                    PathSeg::Index(i) => Some(i),
                    PathSeg::Field(..) => None,
                }));
            }
            _ => {}
        }
    }
    n
}

/// The ellipsis of patterns and templates.
const ELLIPSIS: &str = "...";

/// Symbols a template inserts without a mark: pure syntax that is never a
/// variable (`..` rest, `&` guard, `_` wildcard, the `else` of `cond`).
const UNMARKED: &[&str] = &["..", "&", "_", "else"];

/// The name without its hygiene mark: `tmp#3` → `tmp`. `None` when the
/// symbol carries no mark (the `#%name` internals of the expander start
/// with `#` and are not marked).
pub(crate) fn unmark(name: &str) -> Option<&str> {
    let i = name.rfind('#')?;
    let digits = &name[i + 1..];
    (i > 0 && !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())).then(|| &name[..i])
}

/// The name a symbol spells, its mark removed: keywords (`define`,
/// `catch`, `unquote`, ...) are recognised by it.
pub(crate) fn base_name(name: &str) -> &str {
    unmark(name).unwrap_or(name)
}

/// The keyword a datum spells, if it is a symbol (marks removed).
pub(crate) fn keyword(d: &Datum) -> Option<&str> {
    d.as_sym().map(base_name)
}

/// `d` with every mark removed (quoted data is plain data).
pub(crate) fn strip_marks(d: &Datum) -> Datum {
    let kind = match &d.kind {
        DatumKind::Sym(s) => match unmark(s) {
            Some(base) => DatumKind::Sym(base.to_string()),
            None => return d.clone(),
        },
        DatumKind::List(xs) => DatumKind::List(xs.iter().map(strip_marks).collect()),
        DatumKind::Slot(xs) => DatumKind::Slot(xs.iter().map(strip_marks).collect()),
        DatumKind::Kind(xs) => DatumKind::Kind(xs.iter().map(strip_marks).collect()),
        DatumKind::Dict(xs) => DatumKind::Dict(xs.iter().map(strip_marks).collect()),
        DatumKind::Path(base, segs) => DatumKind::Path(
            Box::new(strip_marks(base)),
            segs.iter()
                .map(|s| match s {
                    PathSeg::Index(i) => PathSeg::Index(strip_marks(i)),
                    f => f.clone(),
                })
                .collect(),
        ),
        _ => return d.clone(),
    };
    Datum::new(kind, d.span)
}

/// One macro: its rules in order and its literals.
#[derive(Debug, Clone)]
pub(crate) struct Macro {
    pub(crate) name: String,
    /// The definition (uses before it are not expanded).
    pub(crate) span: Span,
    /// The name in the definition.
    pub(crate) name_span: Span,
    /// The namespace it is defined in (see `import.rs`): its templates'
    /// free names mean what they mean there.
    pub(crate) ns: usize,
    literals: Vec<String>,
    rules: Vec<Rule>,
}

#[derive(Debug, Clone)]
struct Rule {
    pattern: Datum,
    template: Datum,
}

/// What a pattern variable matched: one datum, or (under an ellipsis) a
/// sequence of matches, one per repetition.
/// Shared (`Rc`), so that a repetition's bindings are a cheap copy of the
/// enclosing ones.
#[derive(Debug, Clone)]
enum Binding {
    One(Rc<Datum>),
    Many(Rc<[Binding]>),
}

type Bindings = HashMap<String, Binding>;

/// A macro's key: the namespace defining it and its name there.
type MacroKey = (usize, String);

/// The macros defined so far, and the mark counter.
#[derive(Default)]
pub(crate) struct Macros {
    /// Macros by the namespace that defines them (see `import.rs`) and name.
    table: HashMap<MacroKey, Macro>,
    /// Macros whose definition is broken (already reported): their uses
    /// expand to `nothing` rather than add "unbound" errors.
    broken: std::collections::HashSet<MacroKey>,
    /// Imported macros: (importing namespace, name as seen there, `g/m`
    /// under `:as g`) → the macro.
    imported: HashMap<MacroKey, MacroKey>,
    next_mark: u32,
    /// The namespace of the macro each mark's expansion used.
    mark_ns: HashMap<u32, usize>,
    /// Every name a macro is defined or imported under, in any namespace
    /// (most heads are not macros: they are answered without building a
    /// key).
    names: std::collections::HashSet<String>,
    /// The namespace whose forms are being expanded.
    ns: usize,
    /// Local variables in scope at the form being walked (innermost
    /// last): a local shadows a macro of its name.
    locals: Vec<String>,
}

fn is_ellipsis(d: &Datum) -> bool {
    d.as_sym() == Some(ELLIPSIS)
}

/// If `d` is `(define [syntax ...] ...)`.
pub(crate) fn is_syntax_definition(d: &Datum) -> bool {
    matches!(&d.kind, DatumKind::List(items) if is_syntax_definition_items(items))
}

fn is_syntax_definition_items(items: &[Datum]) -> bool {
    let (Some(define), Some(slot)) = (items.first(), items.get(1)) else {
        return false;
    };
    keyword(define) == Some("define")
        && matches!(&slot.kind, DatumKind::Slot(xs) if xs.first().and_then(keyword) == Some("syntax"))
}

fn err<T>(message: impl Into<String>, span: Span, label: impl Into<String>) -> Result<T> {
    Err(ExpandError::new(message, span, label))
}

/// Parse and check `(define [syntax NAME] (literals ...)? [PATTERN TEMPLATE] ...)`.
pub(crate) fn parse_definition(d: &Datum) -> Result<Macro> {
    let DatumKind::List(items) = &d.kind else {
        unreachable!("checked by is_syntax_definition")
    };
    let DatumKind::Slot(head) = &items[1].kind else {
        unreachable!("checked by is_syntax_definition")
    };
    let name = match head.as_slice() {
        [_, n] => match n.as_sym() {
            Some(s) if s != ELLIPSIS => s.to_string(),
            _ => return err("a macro's name must be a symbol", n.span, "not a name"),
        },
        _ => {
            return err(
                "malformed syntax definition: expected `[syntax NAME]`",
                items[1].span,
                "write `[syntax NAME]`",
            )
        }
    };
    if super::SPECIAL_FORMS.contains(&name.as_str()) {
        return err(
            format!("`{name}` is a special form: it cannot be redefined as a macro"),
            head[1].span,
            "a special form",
        );
    }
    let mut rest = &items[2..];
    let mut literals = Vec::new();
    if let Some(DatumKind::List(xs)) = rest.first().map(|d| &d.kind) {
        if xs.first().and_then(|h| h.as_sym()) == Some("literals") {
            for x in &xs[1..] {
                match x.as_sym() {
                    Some(s) if s != ELLIPSIS && s != "_" => literals.push(s.to_string()),
                    _ => {
                        return err(
                            "`literals` lists symbols only",
                            x.span,
                            "not a literal symbol",
                        )
                    }
                }
            }
            rest = &rest[1..];
        }
    }
    if rest.is_empty() {
        return Err(ExpandError::new(
            format!("the macro `{name}` has no rules"),
            d.span,
            "no `[PATTERN TEMPLATE]` rule",
        )
        .with_note(format!(
            "write `(define [syntax {name}] [({name} x) template] ...)`"
        )));
    }
    let mut rules = Vec::new();
    for r in rest {
        let DatumKind::Slot(parts) = &r.kind else {
            return Err(ExpandError::new(
                "malformed macro rule: expected `[PATTERN TEMPLATE]`",
                r.span,
                "not a rule",
            )
            .with_note("`(literals ...)` may only come before the first rule"));
        };
        let [pattern, template] = parts.as_slice() else {
            return err(
                "malformed macro rule: expected `[PATTERN TEMPLATE]` (exactly two forms)",
                r.span,
                format!("{} forms here", parts.len()),
            );
        };
        match &pattern.kind {
            DatumKind::List(ps) if ps.first().and_then(|p| p.as_sym()).is_some() => {}
            _ => {
                return err(
                    format!(
                    "a macro pattern is a list that starts with the macro's name: `({name} ...)`"
                ),
                    pattern.span,
                    "not a pattern",
                )
            }
        }
        let mut vars = HashMap::new();
        pattern_vars(pattern, true, 0, &literals, &mut vars)?;
        check_template(template, 0, &vars)?;
        rules.push(Rule {
            pattern: pattern.clone(),
            template: template.clone(),
        });
    }
    Ok(Macro {
        name,
        span: d.span,
        name_span: head[1].span,
        ns: 0,
        literals,
        rules,
    })
}

/// Collect the variables of `pat` with their ellipsis depths; check the
/// ellipses (one per sequence, never first) and that no variable repeats.
/// `top`: the pattern itself, whose first element is the macro's name.
fn pattern_vars(
    pat: &Datum,
    top: bool,
    depth: usize,
    literals: &[String],
    vars: &mut HashMap<String, (usize, Span)>,
) -> Result<()> {
    match &pat.kind {
        DatumKind::Sym(s) if s == ELLIPSIS => err(
            "`...` must follow a sub-pattern",
            pat.span,
            "nothing to repeat",
        ),
        DatumKind::Sym(s) if s == "_" || literals.contains(s) => Ok(()),
        DatumKind::Sym(s) => {
            if let Some((_, first)) = vars.insert(s.clone(), (depth, pat.span)) {
                return Err(ExpandError::new(
                    format!("the pattern variable `{s}` appears twice in one pattern"),
                    pat.span,
                    "second use",
                )
                .with_secondary(first, "first use"));
            }
            Ok(())
        }
        DatumKind::List(xs) | DatumKind::Slot(xs) | DatumKind::Kind(xs) | DatumKind::Dict(xs) => {
            let xs = if top { &xs[1..] } else { &xs[..] };
            let mut seen_ellipsis = false;
            let mut i = 0;
            while i < xs.len() {
                let repeated = xs.get(i + 1).is_some_and(is_ellipsis);
                if repeated {
                    if seen_ellipsis {
                        return err(
                            "only one `...` is allowed in a pattern sequence",
                            xs[i + 1].span,
                            "second ellipsis",
                        );
                    }
                    seen_ellipsis = true;
                    pattern_vars(&xs[i], false, depth + 1, literals, vars)?;
                    i += 2;
                } else {
                    pattern_vars(&xs[i], false, depth, literals, vars)?;
                    i += 1;
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Check a template against the pattern's variables: a variable bound
/// under N ellipses must be used under at least N (under more, it is
/// repeated along with the variables that drive the outer ellipses), and
/// each ellipsis must repeat at least one variable bound under an ellipsis.
fn check_template(t: &Datum, depth: usize, vars: &HashMap<String, (usize, Span)>) -> Result<()> {
    match &t.kind {
        DatumKind::Sym(s) if s == ELLIPSIS => err(
            "`...` must follow a sub-template",
            t.span,
            "nothing to repeat",
        ),
        DatumKind::Sym(s) => match vars.get(s) {
            Some(&(bound, bound_span)) if bound > depth => Err(ExpandError::new(
                format!(
                    "ellipsis depth mismatch: the pattern variable `{s}` is bound under {bound} `...` \
                     but used under {depth} here"
                ),
                t.span,
                format!("needs {bound} `...` after it"),
            )
            .with_secondary(bound_span, "bound here")),
            _ => Ok(()),
        },
        DatumKind::List(xs) | DatumKind::Slot(xs) | DatumKind::Kind(xs) | DatumKind::Dict(xs) => {
            let mut i = 0;
            while i < xs.len() {
                if xs.get(i + 1).is_some_and(is_ellipsis) {
                    check_template(&xs[i], depth + 1, vars)?;
                    if !drives_ellipsis(&xs[i], depth + 1, vars) {
                        return Err(ExpandError::new(
                            "ellipsis depth mismatch: this `...` repeats no pattern variable bound under an ellipsis",
                            xs[i + 1].span,
                            "nothing to repeat",
                        )
                        .with_secondary(xs[i].span, "this sub-template"));
                    }
                    i += 2;
                } else {
                    check_template(&xs[i], depth, vars)?;
                    i += 1;
                }
            }
            Ok(())
        }
        DatumKind::Path(base, segs) => {
            check_template(base, depth, vars)?;
            for s in segs {
                if let PathSeg::Index(i) = s {
                    check_template(i, depth, vars)?;
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Does `t` (under `depth` ellipses) use a variable bound that deep?
fn drives_ellipsis(t: &Datum, depth: usize, vars: &HashMap<String, (usize, Span)>) -> bool {
    let mut found = false;
    each_symbol(t, &mut |s| {
        if vars.get(s).is_some_and(|&(d, _)| d >= depth) {
            found = true;
        }
    });
    found
}

fn each_symbol(t: &Datum, f: &mut dyn FnMut(&str)) {
    match &t.kind {
        DatumKind::Sym(s) => f(s),
        DatumKind::List(xs) | DatumKind::Slot(xs) | DatumKind::Kind(xs) | DatumKind::Dict(xs) => {
            xs.iter().for_each(|x| each_symbol(x, f))
        }
        DatumKind::Path(base, segs) => {
            each_symbol(base, f);
            for s in segs {
                if let PathSeg::Index(i) = s {
                    each_symbol(i, f);
                }
            }
        }
        _ => {}
    }
}

impl Macro {
    /// The patterns of the rules, for "no rule matches" reports.
    fn patterns(&self) -> Vec<String> {
        self.rules.iter().map(|r| r.pattern.to_string()).collect()
    }

    /// Match `use_` against the rules in order: the first match's
    /// bindings and template.
    fn match_use(&self, use_: &Datum) -> Option<(Bindings, &Datum)> {
        let DatumKind::List(args) = &use_.kind else {
            return None;
        };
        for rule in &self.rules {
            let DatumKind::List(ps) = &rule.pattern.kind else {
                continue;
            };
            let mut b = Bindings::new();
            if self.match_seq(&ps[1..], &args[1..], &mut b) {
                return Some((b, &rule.template));
            }
        }
        None
    }

    fn match_pat(&self, pat: &Datum, d: &Datum, b: &mut Bindings) -> bool {
        match (&pat.kind, &d.kind) {
            (DatumKind::Sym(s), _) if s == "_" => true,
            (DatumKind::Sym(s), _) if self.literals.contains(s) => keyword(d) == Some(s.as_str()),
            (DatumKind::Sym(s), _) => {
                b.insert(s.clone(), Binding::One(Rc::new(d.clone())));
                true
            }
            (DatumKind::List(ps), DatumKind::List(ds))
            | (DatumKind::Slot(ps), DatumKind::Slot(ds))
            | (DatumKind::Kind(ps), DatumKind::Kind(ds))
            | (DatumKind::Dict(ps), DatumKind::Dict(ds)) => self.match_seq(ps, ds, b),
            (p, x) => same_atom(p, x),
        }
    }

    fn match_seq(&self, ps: &[Datum], ds: &[Datum], b: &mut Bindings) -> bool {
        let Some(e) = ps.iter().position(is_ellipsis) else {
            return ps.len() == ds.len() && ps.iter().zip(ds).all(|(p, d)| self.match_pat(p, d, b));
        };
        let (before, rep, after) = (&ps[..e - 1], &ps[e - 1], &ps[e + 1..]);
        if ds.len() < before.len() + after.len() {
            return false;
        }
        let tail = ds.len() - after.len();
        if !before.iter().zip(ds).all(|(p, d)| self.match_pat(p, d, b))
            || !after
                .iter()
                .zip(&ds[tail..])
                .all(|(p, d)| self.match_pat(p, d, b))
        {
            return false;
        }
        let mut names = Vec::new();
        self.variables(rep, &mut names);
        let mut seqs: Vec<Vec<Binding>> = vec![Vec::new(); names.len()];
        for d in &ds[before.len()..tail] {
            let mut one = Bindings::new();
            if !self.match_pat(rep, d, &mut one) {
                return false;
            }
            for (name, seq) in names.iter().zip(&mut seqs) {
                if let Some(x) = one.remove(name) {
                    seq.push(x);
                }
            }
        }
        for (name, seq) in names.into_iter().zip(seqs) {
            b.insert(name, Binding::Many(seq.into()));
        }
        true
    }
}

impl Macro {
    /// The variables a sub-pattern binds (as [`pattern_vars`] finds them).
    fn variables(&self, pat: &Datum, out: &mut Vec<String>) {
        match &pat.kind {
            DatumKind::Sym(s) if s == "_" || s == ELLIPSIS || self.literals.contains(s) => {}
            DatumKind::Sym(s) => out.push(s.clone()),
            DatumKind::List(xs)
            | DatumKind::Slot(xs)
            | DatumKind::Kind(xs)
            | DatumKind::Dict(xs) => xs.iter().for_each(|x| self.variables(x, out)),
            _ => {}
        }
    }
}

/// Atoms match when equal (spans aside).
fn same_atom(p: &DatumKind, x: &DatumKind) -> bool {
    match (p, x) {
        (DatumKind::Int(a), DatumKind::Int(b)) => a == b,
        (DatumKind::Float(a), DatumKind::Float(b)) => a == b,
        (DatumKind::Str(a), DatumKind::Str(b)) => a == b,
        (DatumKind::Char(a), DatumKind::Char(b)) => a == b,
        (DatumKind::Bool(a), DatumKind::Bool(b)) => a == b,
        (DatumKind::Nothing, DatumKind::Nothing) => true,
        (DatumKind::Meta(a), DatumKind::Meta(b)) => a == b,
        _ => false,
    }
}

/// Build a template's instance: pattern variables replaced by what they
/// matched, every other symbol marked with `mark` (`None`: left as
/// written), introduced datums located at the use (`at`). Type
/// annotations `{...}` and type definitions `(define {struct P} ...)` are
/// not marked: types and struct fields are global names.
fn instantiate(t: &Datum, b: &Bindings, mark: Option<u32>, at: Span) -> Result<Datum> {
    let kind = match &t.kind {
        DatumKind::Sym(s) => match (b.get(s), mark) {
            (Some(Binding::One(d)), _) => return Ok(Datum::clone(d)),
            (Some(Binding::Many(_)), _) => {
                // The definition's depth check rules this out; say so
                // rather than panic if it ever did not.
                return err(
                    format!("internal: the pattern variable `{s}` is used without its `...`"),
                    at,
                    "in this macro use",
                );
            }
            (None, Some(mark)) if !UNMARKED.contains(&s.as_str()) => {
                DatumKind::Sym(format!("{s}#{mark}"))
            }
            (None, _) => DatumKind::Sym(s.clone()),
        },
        DatumKind::List(xs) => {
            let typedef = xs.first().and_then(|h| h.as_sym()) == Some("define")
                && matches!(
                    xs.get(1).map(|d| &d.kind),
                    Some(DatumKind::Kind(_) | DatumKind::Meta(_))
                );
            let mark = if typedef { None } else { mark };
            DatumKind::List(instantiate_seq(xs, b, mark, at)?)
        }
        DatumKind::Slot(xs) => DatumKind::Slot(instantiate_seq(xs, b, mark, at)?),
        DatumKind::Kind(xs) => DatumKind::Kind(instantiate_seq(xs, b, None, at)?),
        DatumKind::Dict(xs) => DatumKind::Dict(instantiate_seq(xs, b, mark, at)?),
        DatumKind::Path(base, segs) => {
            let mut out = Vec::with_capacity(segs.len());
            for s in segs {
                out.push(match s {
                    PathSeg::Index(i) => PathSeg::Index(instantiate(i, b, mark, at)?),
                    f => f.clone(),
                });
            }
            DatumKind::Path(Box::new(instantiate(base, b, mark, at)?), out)
        }
        k => k.clone(),
    };
    Ok(Datum::new(kind, at))
}

/// The first `define [syntax ...]` inside `d` (a top-level form that is
/// not one itself) outside quoted data, in the order [`Macros::walk`]
/// meets it.
fn nested_syntax_definition(d: &Datum) -> Option<Span> {
    match &d.kind {
        DatumKind::List(items) if !items.is_empty() => match items.first().and_then(keyword) {
            Some("quote") => None,
            Some("quasiquote") => nested_in_quasi(items, 0),
            _ if is_syntax_definition_items(items) => Some(d.span),
            _ => items.iter().find_map(nested_syntax_definition),
        },
        DatumKind::Slot(xs) | DatumKind::Dict(xs) => xs.iter().find_map(nested_syntax_definition),
        DatumKind::Path(base, segs) => nested_syntax_definition(base).or_else(|| {
            segs.iter().find_map(|s| match s {
                PathSeg::Index(i) => nested_syntax_definition(i),
                PathSeg::Field(..) => None,
            })
        }),
        _ => None,
    }
}

/// [`nested_syntax_definition`] in the items of a quasiquoted form at
/// `level` (as [`Macros::walk_quasi_items`] walks them).
fn nested_in_quasi(items: &[Datum], level: usize) -> Option<Span> {
    let level = match items.first().and_then(keyword) {
        Some("quasiquote") if items.len() == 2 => level + 1,
        Some("unquote" | "unquote-splicing") if items.len() == 2 => level.saturating_sub(1),
        _ => level,
    };
    if level == 0 {
        return items.iter().find_map(nested_syntax_definition);
    }
    items.iter().find_map(|x| match &x.kind {
        DatumKind::List(xs) | DatumKind::Slot(xs) | DatumKind::Dict(xs) => {
            nested_in_quasi(xs, level)
        }
        _ => None,
    })
}

/// The names of the `(define name ...)` forms among `items`, those of a
/// `(do ...)`/`(begin ...)` among them included (a body splices them).
fn push_inner_defines(items: &[Datum], out: &mut Vec<String>) {
    for x in items {
        if let DatumKind::List(d) = &x.kind {
            match (
                d.first().and_then(keyword),
                d.get(1).and_then(Datum::as_sym),
            ) {
                (Some("define"), Some(name)) => out.push(name.to_string()),
                (Some("do" | "begin"), _) => push_inner_defines(&d[1..], out),
                _ => {}
            }
        }
    }
}

/// The symbols of a binding pattern or parameter list that may be
/// variables: not the markers `_` `..` `&`, not types `{...}`, not quoted
/// data, and not the guards after `&`.
fn pattern_names(p: &Datum, out: &mut Vec<String>) {
    match &p.kind {
        DatumKind::Sym(s) if !matches!(base_name(s), "_" | ".." | "&" | ELLIPSIS) => {
            out.push(s.clone())
        }
        DatumKind::List(xs) if xs.first().and_then(keyword) == Some("quote") => {}
        DatumKind::List(xs) | DatumKind::Slot(xs) | DatumKind::Dict(xs) => {
            for x in xs {
                if x.as_sym().map(base_name) == Some("&") {
                    break;
                }
                pattern_names(x, out);
            }
        }
        _ => {}
    }
}

fn instantiate_seq(xs: &[Datum], b: &Bindings, mark: Option<u32>, at: Span) -> Result<Vec<Datum>> {
    let mut out = Vec::with_capacity(xs.len());
    let mut i = 0;
    while i < xs.len() {
        if !xs.get(i + 1).is_some_and(is_ellipsis) {
            out.push(instantiate(&xs[i], b, mark, at)?);
            i += 1;
            continue;
        }
        // The variables of this sub-template that are still sequences
        // drive the repetition; they must agree on its length.
        let mut drivers: Vec<(&str, &Rc<[Binding]>)> = Vec::new();
        each_symbol(&xs[i], &mut |s| {
            if let Some((name, Binding::Many(seq))) = b.get_key_value(s) {
                if !drivers.iter().any(|(n, _)| *n == name) {
                    drivers.push((name, seq));
                }
            }
        });
        let n = drivers.first().map_or(0, |(_, seq)| seq.len());
        if let Some((other, seq)) = drivers.iter().find(|(_, seq)| seq.len() != n) {
            return Err(ExpandError::new(
                format!(
                    "the pattern variables `{}` and `{other}` matched different numbers of forms ({n} and {}), \
                     but one `...` repeats both",
                    drivers[0].0,
                    seq.len()
                ),
                at,
                "in this macro use",
            ));
        }
        for k in 0..n {
            let mut one = b.clone();
            for (name, seq) in &drivers {
                one.insert(name.to_string(), seq[k].clone());
            }
            out.push(instantiate(&xs[i], &one, mark, at)?);
        }
        i += 2;
    }
    Ok(out)
}

impl Macros {
    /// Record a macro (a later definition of the same name replaces it).
    /// The namespace whose names a marked name (`tmp#3`) means, when no
    /// binder of its expansion binds it.
    pub(crate) fn namespace_of(&self, name: &str) -> Option<usize> {
        let mark = name.rsplit_once('#')?.1.parse().ok()?;
        self.mark_ns.get(&mark).copied()
    }

    pub(crate) fn define(&mut self, m: Macro) {
        let key = (m.ns, m.name.clone());
        self.names.insert(m.name.clone());
        self.broken.remove(&key);
        self.table.insert(key, m);
    }

    /// Remember that the definition `d`, in namespace `ns`, is broken
    /// (see `broken`).
    pub(crate) fn define_broken(&mut self, d: &Datum, ns: usize) {
        if let DatumKind::List(items) = &d.kind {
            if let Some(DatumKind::Slot(head)) = items.get(1).map(|h| &h.kind) {
                if let Some(name) = head.get(1).and_then(|n| n.as_sym()) {
                    let key = (ns, name.to_string());
                    self.names.insert(name.to_string());
                    self.table.remove(&key);
                    self.broken.insert(key);
                }
            }
        }
    }

    /// Make the macro `name` of namespace `module` visible in namespace
    /// `importer` as `visible`; false when `module` defines no such macro.
    pub(crate) fn import(
        &mut self,
        importer: usize,
        visible: &str,
        module: usize,
        name: &str,
    ) -> bool {
        let key = (module, name.to_string());
        if !self.table.contains_key(&key) && !self.broken.contains(&key) {
            return false;
        }
        self.names.insert(visible.to_string());
        self.imported.insert((importer, visible.to_string()), key);
        true
    }

    /// The macro that `name` (as written, perhaps marked) means in
    /// namespace `ns`: one defined there, one imported there, or the
    /// prelude's. A name a template introduced (`m#3`) means what it
    /// means in the namespace of that template's macro.
    fn key_in(&self, name: &str, ns: usize) -> Option<MacroKey> {
        let (name, ns) = match unmark(name) {
            Some(base) => (base, self.namespace_of(name).unwrap_or(ns)),
            None => (name, ns),
        };
        if !self.names.contains(name) {
            return None;
        }
        let known = |k: &MacroKey| self.table.contains_key(k) || self.broken.contains(k);
        let own = (ns, name.to_string());
        if known(&own) {
            return Some(own);
        }
        if let Some(k) = self.imported.get(&own) {
            return Some(k.clone());
        }
        let prelude = (super::import::PRELUDE_NS, name.to_string());
        known(&prelude).then_some(prelude)
    }

    /// The definition of the macro `name` means in namespace `ns`, if it
    /// is valid.
    pub(crate) fn get(&self, name: &str, ns: usize) -> Option<&Macro> {
        self.table.get(&self.key_in(name, ns)?)
    }

    /// Does `name` mean a macro in namespace `ns`?
    pub(crate) fn is_macro(&self, name: &str, ns: usize) -> bool {
        self.key_in(name, ns).is_some()
    }

    /// Does namespace `ns` itself define the macro `name`?
    pub(crate) fn defines(&self, ns: usize, name: &str) -> bool {
        let key = (ns, name.to_string());
        self.table.contains_key(&key) || self.broken.contains(&key)
    }

    /// Rewrite every macro use in `d`, a top-level form of namespace `ns`
    /// (outside quoted data and where no local shadows the macro's name),
    /// until none is left.
    pub(crate) fn expand_uses(&mut self, d: Datum, ns: usize) -> Result<Datum> {
        // No macro yet (the standard library, most programs): nothing to
        // rewrite, only misplaced macro definitions to report (checked
        // without rebuilding the form: compile time of every program).
        if self.table.is_empty() && self.broken.is_empty() {
            return match nested_syntax_definition(&d) {
                Some(at) => err(
                    "`define [syntax ...]` is only allowed at the top level of a file",
                    at,
                    "macro definition inside a form",
                ),
                None => Ok(d),
            };
        }
        let mut steps = ExpansionBudget::default();
        self.ns = ns;
        self.locals.clear();
        let out = self.walk(d, 0, None, &mut steps);
        self.locals.clear();
        out
    }

    /// `origin`: the outermost use being expanded (where runaway
    /// expansion is reported).
    fn walk(
        &mut self,
        d: Datum,
        depth: usize,
        origin: Option<&(Span, String)>,
        steps: &mut ExpansionBudget,
    ) -> Result<Datum> {
        let span = d.span;
        let kind = match d.kind {
            DatumKind::List(items) if !items.is_empty() => {
                let head = items[0].as_sym().map(base_name).map(str::to_string);
                match head.as_deref() {
                    Some("quote") => DatumKind::List(items),
                    Some("quasiquote") => {
                        DatumKind::List(self.walk_quasi_items(items, 0, depth, origin, steps)?)
                    }
                    Some("define") if is_syntax_definition_items(&items) => {
                        return match origin {
                            Some((_, name)) => err(
                                format!("the macro `{name}` expands into a macro definition: macros cannot define macros"),
                                span,
                                "in this expansion",
                            ),
                            None => err(
                                "`define [syntax ...]` is only allowed at the top level of a file",
                                span,
                                "macro definition inside a form",
                            ),
                        };
                    }
                    _ if self.shadowed(&items[0]) => {
                        DatumKind::List(self.walk_all(items, depth, origin, steps)?)
                    }
                    Some(_)
                        if self
                            .use_key(&items[0])
                            .is_some_and(|k| self.broken.contains(&k)) =>
                    {
                        return Ok(Datum::new(DatumKind::Nothing, span))
                    }
                    Some(h) if self.use_key(&items[0]).is_some() => {
                        let key = self.use_key(&items[0]).expect("a macro");
                        let use_ = Datum::new(DatumKind::List(items), span);
                        let first;
                        let origin = match origin {
                            Some(o) => o,
                            None => {
                                first = (span, h.to_string());
                                &first
                            }
                        };
                        steps.steps += 1;
                        let runaway = if depth >= MAX_EXPANSION_DEPTH {
                            Some(format!("{MAX_EXPANSION_DEPTH} nested expansions"))
                        } else if steps.steps > MAX_EXPANSION_STEPS {
                            Some(format!("{MAX_EXPANSION_STEPS} expansion steps"))
                        } else if steps.nodes > MAX_EXPANSION_NODES {
                            Some(format!("{MAX_EXPANSION_NODES} expanded forms and atoms"))
                        } else {
                            None
                        };
                        if let Some(what) = runaway {
                            return Err(ExpandError::new(
                                format!(
                                    "macro expansion does not stop: this use of `{}` took more than {what}",
                                    origin.1
                                ),
                                origin.0,
                                "runaway macro expansion",
                            )
                            .with_note("a recursive macro must reach a rule whose template does not use it"));
                        }
                        self.next_mark += 1;
                        let mark = self.next_mark;
                        let m = &self.table[&key];
                        self.mark_ns.insert(mark, m.ns);
                        let Some((bindings, template)) = m.match_use(&use_) else {
                            let mut e = ExpandError::new(
                                format!("no rule of the macro `{}` matches this use", m.name),
                                span,
                                "matches no rule",
                            );
                            for p in m.patterns() {
                                e = e.with_note(format!("a rule's pattern: {p}"));
                            }
                            return Err(e);
                        };
                        let expanded = instantiate(template, &bindings, Some(mark), span)?;
                        steps.nodes += datum_nodes(&expanded);
                        return self.walk(expanded, depth + 1, Some(origin), steps);
                    }
                    Some("handle") => {
                        DatumKind::List(self.walk_handle(items, depth, origin, steps)?)
                    }
                    Some(k @ ("let" | "fn" | "lambda" | "λ" | "define" | "match" | "catch")) => {
                        let k = k.to_string();
                        DatumKind::List(self.walk_binder(&k, items, depth, origin, steps)?)
                    }
                    _ => DatumKind::List(self.walk_body(items, depth, origin, steps)?),
                }
            }
            DatumKind::Slot(xs) => DatumKind::Slot(self.walk_all(xs, depth, origin, steps)?),
            DatumKind::Dict(xs) => DatumKind::Dict(self.walk_all(xs, depth, origin, steps)?),
            DatumKind::Path(base, segs) => {
                let base = self.walk(*base, depth, origin, steps)?;
                let mut out = Vec::with_capacity(segs.len());
                for s in segs {
                    out.push(match s {
                        PathSeg::Index(i) => PathSeg::Index(self.walk(i, depth, origin, steps)?),
                        f => f,
                    });
                }
                DatumKind::Path(Box::new(base), out)
            }
            k => k,
        };
        Ok(Datum::new(kind, span))
    }

    /// The macro a use's head names (none when it is no symbol).
    fn use_key(&self, head: &Datum) -> Option<MacroKey> {
        self.key_in(head.as_sym()?, self.ns)
    }

    /// Whether the symbol `head` names a local variable here.
    fn shadowed(&self, head: &Datum) -> bool {
        head.as_sym()
            .is_some_and(|h| self.locals.iter().any(|l| l == h))
    }

    /// The items of a list that may be a body: the names of the inner
    /// `define`s among them are locals of all of them (a body's
    /// definitions are mutually recursive).
    fn walk_body(
        &mut self,
        items: Vec<Datum>,
        depth: usize,
        origin: Option<&(Span, String)>,
        steps: &mut ExpansionBudget,
    ) -> Result<Vec<Datum>> {
        let scope = self.locals.len();
        push_inner_defines(&items, &mut self.locals);
        let out = self.walk_all(items, depth, origin, steps);
        self.locals.truncate(scope);
        out
    }

    /// The items of a binding form (`let`, `fn`, `define`, `match`,
    /// `catch`): each part is walked with the locals bound before it in
    /// scope, so that a local named like a macro shadows the macro there.
    /// (The names are collected from the binding patterns as written: a
    /// symbol in a pattern is a variable, a constructor or a key, and only
    /// variables can share a macro's name in a valid program.)
    fn walk_binder(
        &mut self,
        keyword: &str,
        items: Vec<Datum>,
        depth: usize,
        origin: Option<&(Span, String)>,
        steps: &mut ExpansionBudget,
    ) -> Result<Vec<Datum>> {
        let scope = self.locals.len();
        if keyword != "match" {
            push_inner_defines(&items, &mut self.locals);
        }
        let mut out: Vec<Datum> = Vec::with_capacity(items.len());
        let mut items = items.into_iter();
        out.extend(items.next());
        let mut params_seen = false;
        for (i, x) in items.enumerate() {
            // `(match e pattern result ...)`: a pattern's variables are in
            // scope in its result only. (An error leaves `locals` to
            // `expand_uses`, which clears them.)
            if keyword == "match" {
                let here = self.locals.len();
                if i > 0 && i % 2 == 0 {
                    if let Some(pattern) = out.last() {
                        pattern_names(pattern, &mut self.locals);
                    }
                }
                let walked = self.walk(x, depth, origin, steps)?;
                self.locals.truncate(here);
                out.push(walked);
                continue;
            }
            let mut bound = Vec::new();
            match (keyword, &x.kind) {
                // `(let [p v] ... body)`, `(let loop [p v] ...)`: a
                // binding's variables are in scope after it.
                ("let", DatumKind::Slot(b)) => {
                    if let Some(p) = b.first() {
                        pattern_names(p, &mut bound);
                    }
                }
                ("let" | "catch", DatumKind::Sym(name)) if i == 0 => bound.push(name.clone()),
                // `(fn [params] body)`, `(define f [params] body)`.
                ("fn" | "lambda" | "λ" | "define", DatumKind::Slot(_)) if !params_seen => {
                    params_seen = true;
                    pattern_names(&x, &mut bound);
                }
                _ => {}
            }
            out.push(self.walk(x, depth, origin, steps)?);
            self.locals.extend(bound);
        }
        self.locals.truncate(scope);
        Ok(out)
    }

    /// `(handle body (effect [payload resume] clause-body...) ...)`: a
    /// clause's parameters are locals of its body; the effect's name is
    /// not a use of anything.
    fn walk_handle(
        &mut self,
        items: Vec<Datum>,
        depth: usize,
        origin: Option<&(Span, String)>,
        steps: &mut ExpansionBudget,
    ) -> Result<Vec<Datum>> {
        let mut out = Vec::with_capacity(items.len());
        for (i, x) in items.into_iter().enumerate() {
            let clause = i >= 2
                && matches!(&x.kind, DatumKind::List(c)
                    if matches!(c.get(1).map(|p| &p.kind), Some(DatumKind::Slot(_))));
            if !clause {
                out.push(if i == 0 {
                    x
                } else {
                    self.walk(x, depth, origin, steps)?
                });
                continue;
            }
            let span = x.span;
            let DatumKind::List(parts) = x.kind else {
                unreachable!("a clause is a list")
            };
            let here = self.locals.len();
            pattern_names(&parts[1], &mut self.locals);
            let mut walked = Vec::with_capacity(parts.len());
            for (j, part) in parts.into_iter().enumerate() {
                walked.push(if j < 2 {
                    part
                } else {
                    self.walk(part, depth, origin, steps)?
                });
            }
            self.locals.truncate(here);
            out.push(Datum::new(DatumKind::List(walked), span));
        }
        Ok(out)
    }

    fn walk_all(
        &mut self,
        xs: Vec<Datum>,
        depth: usize,
        origin: Option<&(Span, String)>,
        steps: &mut ExpansionBudget,
    ) -> Result<Vec<Datum>> {
        xs.into_iter()
            .map(|x| self.walk(x, depth, origin, steps))
            .collect()
    }

    /// The items of a quasiquoted form at `level`: only unquoted parts at
    /// level 0 are code.
    fn walk_quasi_items(
        &mut self,
        items: Vec<Datum>,
        level: usize,
        depth: usize,
        origin: Option<&(Span, String)>,
        steps: &mut ExpansionBudget,
    ) -> Result<Vec<Datum>> {
        let head = items.first().and_then(keyword).map(str::to_string);
        let level = match head.as_deref() {
            Some("quasiquote") if items.len() == 2 => level + 1,
            Some("unquote" | "unquote-splicing") if items.len() == 2 => level.saturating_sub(1),
            _ => level,
        };
        if level == 0 {
            return self.walk_all(items, depth, origin, steps);
        }
        let mut out = Vec::with_capacity(items.len());
        for x in items {
            let span = x.span;
            out.push(match x.kind {
                DatumKind::List(xs) => Datum::new(
                    DatumKind::List(self.walk_quasi_items(xs, level, depth, origin, steps)?),
                    span,
                ),
                DatumKind::Slot(xs) => Datum::new(
                    DatumKind::Slot(self.walk_quasi_items(xs, level, depth, origin, steps)?),
                    span,
                ),
                DatumKind::Dict(xs) => Datum::new(
                    DatumKind::Dict(self.walk_quasi_items(xs, level, depth, origin, steps)?),
                    span,
                ),
                k => Datum::new(k, span),
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Read `src` as datums (file 0).
    fn read(src: &str) -> Vec<Datum> {
        crate::syntax::read_program(src, 0).expect("reads")
    }

    /// The macros defined by `defs` and the expansions of `uses`, as text.
    fn expand(defs: &str, uses: &str) -> Vec<std::result::Result<String, String>> {
        let mut macros = Macros::default();
        for d in read(defs) {
            assert!(is_syntax_definition(&d), "{d}");
            macros.define(parse_definition(&d).expect("a valid definition"));
        }
        read(uses)
            .into_iter()
            .map(|d| {
                macros
                    .expand_uses(d, 0)
                    .map(|e| e.to_string())
                    .map_err(|e| e.message)
            })
            .collect()
    }

    fn definition_error(def: &str) -> String {
        let d = read(def).pop().expect("a form");
        parse_definition(&d).expect_err(def).message
    }

    #[test]
    fn marks_are_recognised_and_removed() {
        assert_eq!(unmark("tmp#3"), Some("tmp"));
        assert_eq!(unmark("set!#12"), Some("set!"));
        assert_eq!(unmark("tmp"), None);
        assert_eq!(unmark("#%check-type"), None);
        assert_eq!(unmark("a#"), None);
        assert_eq!(base_name("if#7"), "if");
        // The reader never makes a marked symbol: build one.
        let sym = |s: &str| Datum::new(DatumKind::Sym(s.to_string()), Span::default());
        let d = Datum::new(
            DatumKind::List(vec![
                sym("a#1"),
                Datum::new(DatumKind::Slot(vec![sym("b#2"), sym("c")]), Span::default()),
                Datum::new(
                    DatumKind::Path(Box::new(sym("d#4")), vec![PathSeg::Index(sym("e#3"))]),
                    Span::default(),
                ),
            ]),
            Span::default(),
        );
        assert_eq!(strip_marks(&d).to_string(), "(a [b c] d.[e])");
    }

    #[test]
    fn rules_are_tried_in_order_and_introduced_names_marked() {
        let defs = "(define [syntax my-or] [(my-or) false] [(my-or e) e]
                      [(my-or e r ...) (let [t e] (if t t (my-or r ...)))])";
        let out = expand(defs, "(my-or) (my-or x) (my-or x y)");
        assert_eq!(out[0].as_deref(), Ok("false"));
        assert_eq!(out[1].as_deref(), Ok("x"));
        // Every step has its own mark (the earlier uses took 1 and 2);
        // the user's `x` and `y` have none.
        assert_eq!(out[2].as_deref(), Ok("(let#3 [t#3 x] (if#3 t#3 t#3 y))"));
    }

    #[test]
    fn literals_wildcards_atoms_and_brackets_match() {
        let defs = "(define [syntax m] (literals in)
                      [(m x in xs) (each x xs)]
                      [(m 0 _) zero]
                      [(m [a b] \"s\") (pair a b)])";
        let out = expand(
            defs,
            "(m v in vs) (m v on vs) (m 0 anything) (m [1 2] \"s\") (m (1 2) \"s\")",
        );
        assert_eq!(out[0].as_deref(), Ok("(each#1 v vs)"));
        assert_eq!(
            out[1],
            Err("no rule of the macro `m` matches this use".to_string())
        );
        assert_eq!(out[2].as_deref(), Ok("zero#3"));
        assert_eq!(out[3].as_deref(), Ok("(pair#4 1 2)"));
        assert!(out[4].is_err(), "a list does not match a bracket pattern");
    }

    #[test]
    fn nested_ellipses_and_fixed_tails() {
        let defs = "(define [syntax m]
                      [(m (k v ...) ... last) (list (k v ... last) ...)])";
        let out = expand(defs, "(m (a 1 2) (b) (c 3) z) (m z)");
        assert_eq!(out[0].as_deref(), Ok("(list#1 (a 1 2 z) (b z) (c 3 z))"));
        assert_eq!(out[1].as_deref(), Ok("(list#2)"));
        // Zero repetitions of a variable used together with another.
        let defs = "(define [syntax zip] [(zip (a ...) (b ...)) (list [a b] ...)])";
        let out = expand(defs, "(zip (1 2) (3 4)) (zip (1) (3 4))");
        assert_eq!(out[0].as_deref(), Ok("(list#1 [1 3] [2 4])"));
        assert!(out[1]
            .as_ref()
            .unwrap_err()
            .contains("matched different numbers of forms"));
    }

    #[test]
    fn quoted_data_is_not_expanded_but_unquoted_code_is() {
        let defs = "(define [syntax m] [(m) 1])";
        let out = expand(defs, "'(m) `(m ,(m) ,@(list (m))) (list (m))");
        assert_eq!(out[0].as_deref(), Ok("(quote (m))"));
        assert_eq!(
            out[1].as_deref(),
            Ok("(quasiquote (m (unquote 1) (unquote-splicing (list 1))))")
        );
        assert_eq!(out[2].as_deref(), Ok("(list 1)"));
    }

    #[test]
    fn types_and_syntax_markers_are_not_marked() {
        let defs = "(define [syntax m] [(m x) (fn [y {Int} .. r] (cond [else x]))])";
        let out = expand(defs, "(m 1)");
        assert_eq!(
            out[0].as_deref(),
            Ok("(fn#1 [y#1 {Int} .. r#1] (cond#1 [else 1]))")
        );
    }

    #[test]
    fn macros_cannot_define_macros() {
        let out = expand(
            "(define [syntax def-m] [(def-m n) (define [syntax n] [(n) 1])])",
            "(def-m k) (f (define [syntax n] [(n) 1]))",
        );
        assert_eq!(
            out[0],
            Err(
                "the macro `def-m` expands into a macro definition: macros cannot define macros"
                    .to_string()
            )
        );
        assert_eq!(
            out[1],
            Err("`define [syntax ...]` is only allowed at the top level of a file".to_string())
        );
    }

    #[test]
    fn runaway_expansion_is_an_error() {
        // The expansion recurses once per nested step: the front end's
        // big stack, as in the driver.
        let run = || {
            let out = expand("(define [syntax f] [(f x) (f (g x))])", "(f 1)");
            assert!(out[0]
                .as_ref()
                .unwrap_err()
                .starts_with("macro expansion does not stop"));
            let out = expand("(define [syntax b] [(b x) (list (b x) (b x))])", "(b 1)");
            assert!(out[0].is_err());
        };
        std::thread::Builder::new()
            .stack_size(1 << 30)
            .spawn(run)
            .expect("a thread")
            .join()
            .expect("no panic");
    }

    #[test]
    fn malformed_definitions_are_reported() {
        for (def, message) in [
            ("(define [syntax] [(m) 1])", "malformed syntax definition: expected `[syntax NAME]`"),
            ("(define [syntax 5] [(m) 1])", "a macro's name must be a symbol"),
            ("(define [syntax m])", "the macro `m` has no rules"),
            ("(define [syntax m] (m) 1)", "malformed macro rule: expected `[PATTERN TEMPLATE]`"),
            ("(define [syntax m] [x 1])", "a macro pattern is a list that starts with the macro's name: `(m ...)`"),
            ("(define [syntax m] [(m ... x) 1])", "`...` must follow a sub-pattern"),
            ("(define [syntax m] [(m x x) 1])", "the pattern variable `x` appears twice in one pattern"),
            ("(define [syntax m] (literals \"in\") [(m) 1])", "`literals` lists symbols only"),
            ("(define [syntax m] [(m (x ...) ...) (list x ...)])",
             "ellipsis depth mismatch: the pattern variable `x` is bound under 2 `...` but used under 1 here"),
            ("(define [syntax m] [(m x) (list x ...)])",
             "ellipsis depth mismatch: this `...` repeats no pattern variable bound under an ellipsis"),
            ("(define [syntax let] [(let) 1])", "`let` is a special form: it cannot be redefined as a macro"),
        ] {
            assert_eq!(definition_error(def), message, "{def}");
        }
    }

    #[test]
    fn a_depth_zero_variable_repeats_with_the_ellipsis() {
        let defs = "(define [syntax m] [(m f (x ...)) (list (f x) ...)])";
        let out = expand(defs, "(m g (1 2))");
        assert_eq!(out[0].as_deref(), Ok("(list#1 (g 1) (g 2))"));
    }
}
