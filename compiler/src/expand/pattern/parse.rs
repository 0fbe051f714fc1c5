//! Datum → pattern: the `match` pattern syntax (see the table in
//! `pattern/mod.rs`) parsed into [`Pat`]s, with guards and variables.

use super::tree::{Const, Pat, Step, Test};
use super::{err, quoted};
use crate::expand::{Expander, Resolved, Result};
use crate::syntax::{Datum, DatumKind, Span};

impl Expander {
    /// Parse one pattern, collecting its guards and variables.
    pub(super) fn parse_pattern(
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
                crate::expand::shape::check_quoted(q)?;
                Ok(match &q.kind {
                    DatumKind::Sym(s) => Pat::Test(
                        Test::Lit(Const::Sym(crate::expand::macros::base_name(s).to_string())),
                        vec![],
                    ),
                    DatumKind::List(xs) if xs.is_empty() => {
                        Pat::Test(Test::Lit(Const::Nil), vec![])
                    }
                    DatumKind::Int(_)
                    | DatumKind::Float(_)
                    | DatumKind::Str(_)
                    | DatumKind::Char(_)
                    | DatumKind::Bool(_)
                    | DatumKind::Nothing => return self.parse_pattern(q, guards, vars),
                    _ => {
                        let q = crate::expand::macros::strip_marks(q);
                        Pat::Test(Test::Lit(Const::Quoted(q.to_string(), q)), vec![])
                    }
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
                    // The key is the quoted symbol (a macro's mark
                    // removed); the variable keeps the mark.
                    let key = crate::expand::macros::base_name(name).to_string();
                    keys.push(key.clone());
                    subs.push((
                        Step::Key(key),
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
}

fn d_len(d: &Datum) -> usize {
    match &d.kind {
        DatumKind::Slot(xs) => xs.len(),
        _ => 0,
    }
}
