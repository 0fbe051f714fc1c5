//! The shapes of definitions, recognised in one place.
//!
//! "Is this datum a definition of NAME, and of what kind?" is asked by the
//! top level (declaring globals, planning generic functions, expanding),
//! by bodies (inner `define`s are letrec*) and by function expansion. Every
//! one of them asks [`recognise`], so they cannot disagree: a top-level form
//! is a value [`TopForm::Define`], a [`TopForm::Function`] (whose parameter
//! list, `{Ret}` annotation and body [`FnShape`] splits), a
//! [`TopForm::TypeDef`] (`{struct Name}`, `{abstract Name}`, `{effect
//! name}`) or an expression. Parameter lists are parsed once, with their
//! annotations, by [`parse_params`]. Argument-count checks of special forms
//! ([`expect_args`]) live here too: they are the other shape question.

use super::{ExpandError, Result};
use crate::syntax::{Datum, DatumKind, Span};

/// What a top-level (or body) form is.
#[derive(Debug)]
pub(crate) enum TopForm<'d> {
    /// `(define name value)`, `(define name {T} value)`, or a malformed
    /// `(define name)` that [`Expander::expand_define_init`] reports.
    ///
    /// [`Expander::expand_define_init`]: super::Expander::expand_define_init
    Define { name: &'d str, name_span: Span },
    /// `(define name params... [{Ret}] body...)`.
    Function {
        name: &'d str,
        name_span: Span,
        /// The span of the `define` keyword (where a missing body is reported).
        define_span: Span,
        /// Everything after the name: what `fn` would take.
        rest: &'d [Datum],
        shape: FnShape<'d>,
    },
    /// `(define [^:parent {P}] {kind Name} fields...)`.
    TypeDef(TypeDef<'d>),
    /// Anything else.
    Expr,
}

impl<'d> TopForm<'d> {
    /// The name the form defines, if it is a definition.
    pub(crate) fn defined_name(&self) -> Option<(&'d str, Span)> {
        match self {
            TopForm::Define { name, name_span }
            | TopForm::Function {
                name, name_span, ..
            } => Some((name, *name_span)),
            TopForm::TypeDef(t) => Some((t.name, t.name_span)),
            TopForm::Expr => None,
        }
    }
}

/// Recognise the shape of `d`. Errors are malformed `define`s whose name
/// cannot be found (`(define)`, `(define 5 ...)`, a broken `{struct ...}`).
pub(crate) fn recognise(d: &Datum) -> Result<TopForm<'_>> {
    let DatumKind::List(items) = &d.kind else {
        return Ok(TopForm::Expr);
    };
    if items.first().and_then(super::macros::keyword) != Some("define") {
        return Ok(TopForm::Expr);
    }
    match items.get(1) {
        Some(Datum {
            kind: DatumKind::Sym(name),
            span,
        }) => {
            let rest = &items[2..];
            if is_function_define(rest) {
                Ok(TopForm::Function {
                    name,
                    name_span: *span,
                    define_span: items[0].span,
                    rest,
                    shape: FnShape::of(rest),
                })
            } else {
                Ok(TopForm::Define {
                    name,
                    name_span: *span,
                })
            }
        }
        Some(Datum {
            kind: DatumKind::Meta(_) | DatumKind::Kind(_),
            ..
        }) => match parse_typedef(items)? {
            Some(t) => Ok(TopForm::TypeDef(t)),
            None => Ok(TopForm::Expr),
        },
        Some(other) => {
            let err = ExpandError::new(
                "malformed `define`: expected a name after `define`",
                other.span,
                "not a name",
            );
            Err(match scheme_define_name(d) {
                Some((name, _)) => {
                    let params = scheme_params(other, 1);
                    err.with_note(format!(
                        "a function is defined as `(define {name} [{params}] body...)`, \
                         not Scheme's `(define ({name}{}{params}) body...)`",
                        if params.is_empty() { "" } else { " " }
                    ))
                }
                None => err,
            })
        }
        None => Err(ExpandError::new(
            "malformed `define`: expected a name and a value",
            d.span,
            "incomplete definition",
        )),
    }
}

/// The name of a Scheme-style `(define (name params...) body...)`.
pub(crate) fn scheme_define_name(d: &Datum) -> Option<(&str, Span)> {
    let DatumKind::List(items) = &d.kind else {
        return None;
    };
    let [define, head, ..] = items.as_slice() else {
        return None;
    };
    if super::macros::keyword(define) != Some("define") {
        return None;
    }
    let DatumKind::List(sig) = &head.kind else {
        return None;
    };
    let name = sig.first()?;
    Some((name.as_sym()?, name.span))
}

/// The items of a Scheme-style parameter list `(x y)` (after the first
/// `skip` items: 1 for `(f x y)`), as slot text (`x y`), for hints.
pub(crate) fn scheme_params(list: &Datum, skip: usize) -> String {
    let DatumKind::List(items) = &list.kind else {
        return String::new();
    };
    items
        .iter()
        .skip(skip)
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

/// If `d` is a `define` of a name, that name.
pub(crate) fn define_name(d: &Datum) -> Result<Option<(&str, Span)>> {
    Ok(recognise(d)?.defined_name())
}

/// Is a `define`'s tail (after the name) a function definition? A value
/// definition is `value` or `{T} value`.
fn is_function_define(rest: &[Datum]) -> bool {
    let value_define = matches!(
        rest,
        [] | [_]
            | [
                Datum {
                    kind: DatumKind::Kind(_),
                    ..
                },
                _
            ]
    );
    !value_define
}

// ------------------------------------------------------------- functions

/// `params... [{Ret}] body...` of a function definition or `fn`, split.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FnShape<'d> {
    pub params: &'d [Datum],
    pub ret: Option<&'d Datum>,
    pub body: &'d [Datum],
}

impl<'d> FnShape<'d> {
    /// Split `items`: the leading parameter-like forms are parameters, a
    /// `{Ret}` after them is the return annotation, the rest the body.
    /// When everything looks like a parameter the last form is the body.
    pub(crate) fn of(items: &'d [Datum]) -> FnShape<'d> {
        let mut n = items.iter().take_while(|d| is_param_like(d)).count();
        let mut body_start = n;
        let mut ret = None;
        if let Some(
            d @ Datum {
                kind: DatumKind::Kind(_),
                ..
            },
        ) = items.get(n)
        {
            body_start = n + 1;
            ret = Some(d);
        }
        if body_start >= items.len() && n > 0 && body_start == n {
            n -= 1;
            body_start = n;
        }
        FnShape {
            params: &items[..n],
            ret,
            body: &items[body_start..],
        }
    }
}

/// A parameter slot: `[]`, `[x]`, `[x {T}]`, `[x y z]`, `[x {T} y]`,
/// `[.. xs]`, `[a .. rest]`: names, each optionally followed by its type, and
/// at most one `..` before the last name.
fn is_param_slot(d: &Datum) -> bool {
    let DatumKind::Slot(xs) = &d.kind else {
        return false;
    };
    let mut prev_name = false;
    let mut i = 0;
    while i < xs.len() {
        match &xs[i].kind {
            DatumKind::Sym(s) if s == ".." => {
                return i + 2 == xs.len() && matches!(xs[i + 1].as_sym(), Some(n) if n != "..");
            }
            DatumKind::Sym(_) => prev_name = true,
            DatumKind::Kind(_) if prev_name => prev_name = false,
            _ => return false,
        }
        i += 1;
    }
    true
}

fn is_param_like(d: &Datum) -> bool {
    d.as_sym().is_some() || is_param_slot(d)
}

/// One fixed parameter: its name, where it is written and its annotation.
#[derive(Debug, Clone)]
pub(crate) struct Param<'d> {
    pub name: &'d str,
    pub span: Span,
    pub ty: Option<&'d Datum>,
}

/// A parsed parameter list; the rest parameter is never annotated.
#[derive(Debug, Clone, Default)]
pub(crate) struct Params<'d> {
    pub fixed: Vec<Param<'d>>,
    pub rest: Option<(&'d str, Span)>,
}

impl Params<'_> {
    /// Does any fixed parameter carry a `{T}`?
    pub(crate) fn typed(&self) -> bool {
        self.fixed.iter().any(|p| p.ty.is_some())
    }
}

/// Parse a parameter list (the `params` of an [`FnShape`]).
pub(crate) fn parse_params<'d>(items: &'d [Datum]) -> Result<Params<'d>> {
    let mut p = Params::default();
    let bad =
        |d: &Datum, msg: &str| ExpandError::new(msg.to_string(), d.span, "malformed parameter");
    let mut i = 0;
    while i < items.len() {
        let d = &items[i];
        if p.rest.is_some() {
            return Err(bad(d, "no parameter may follow the rest parameter"));
        }
        match &d.kind {
            DatumKind::Sym(s) if s == ".." => {
                let Some(name) = items
                    .get(i + 1)
                    .and_then(|n| n.as_sym().map(|s| (s, n.span)))
                else {
                    return Err(bad(d, "`..` must be followed by the rest parameter's name"));
                };
                p.rest = Some(name);
                i += 2;
                continue;
            }
            DatumKind::Sym(s) => p.fixed.push(Param {
                name: s,
                span: d.span,
                ty: None,
            }),
            DatumKind::Slot(xs) if is_param_slot(d) => {
                // The slot's shape is checked: names, each with an optional
                // `{T}`, and `.. rest` at the end.
                let mut j = 0;
                while j < xs.len() {
                    match &xs[j].kind {
                        DatumKind::Sym(s) if s == ".." => {
                            let r = &xs[j + 1];
                            p.rest = Some((r.as_sym().unwrap_or("?"), r.span));
                            break;
                        }
                        DatumKind::Sym(s) => {
                            let ty = type_after(xs, j);
                            p.fixed.push(Param {
                                name: s,
                                span: xs[j].span,
                                ty,
                            });
                            j += ty.is_some() as usize;
                        }
                        _ => {}
                    }
                    j += 1;
                }
            }
            DatumKind::Slot(_) => return Err(bad(
                d,
                "a parameter slot holds names, each optionally followed by `{Type}`, and `.. rest`",
            )),
            _ => return Err(bad(d, "a parameter is a name or a slot `[name {Type}]`")),
        }
        i += 1;
    }
    let names: Vec<(&str, Span)> = p
        .fixed
        .iter()
        .map(|q| (q.name, q.span))
        .chain(p.rest)
        .collect();
    for (k, (a, sa)) in names.iter().enumerate() {
        if names[k + 1..].iter().any(|(b, _)| a == b) {
            return Err(ExpandError::new(
                format!("duplicate parameter `{a}`"),
                *sa,
                "duplicate",
            ));
        }
    }
    Ok(p)
}

/// The `{Type}` right after the name at `xs[j]`, if there is one.
pub(crate) fn type_after(xs: &[Datum], j: usize) -> Option<&Datum> {
    xs.get(j + 1)
        .filter(|t| matches!(t.kind, DatumKind::Kind(_)))
}

// ------------------------------------------------------------- type definitions

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DefKind {
    Abstract,
    Struct,
    MutableStruct,
    Effect,
}

/// A parsed type/struct/effect definition.
#[derive(Debug)]
pub(crate) struct TypeDef<'d> {
    pub kind: DefKind,
    pub name: &'d str,
    pub name_span: Span,
    pub parent: Option<&'d Datum>,
    /// `(name, type, span)`.
    pub fields: Vec<(&'d str, Option<&'d Datum>, Span)>,
}

fn err<T>(msg: impl Into<String>, span: Span, label: &str) -> Result<T> {
    Err(ExpandError::new(msg, span, label))
}

/// Parse `(define [^:parent {P}] {kind Name} fields...)`; `items[0]` is
/// `define`. `None` when `items[1]` is a plain name.
pub(crate) fn parse_typedef(items: &[Datum]) -> Result<Option<TypeDef<'_>>> {
    let mut i = 1;
    let mut parent = None;
    if let Some(Datum {
        kind: DatumKind::Meta(m),
        span,
    }) = items.get(1)
    {
        if m != "parent" {
            return err(
                format!("unknown definition metadata `^:{m}` (expected `^:parent`)"),
                *span,
                "unknown metadata",
            );
        }
        match items.get(2) {
            Some(
                d @ Datum {
                    kind: DatumKind::Kind(_),
                    ..
                },
            ) => parent = Some(d),
            _ => {
                return err(
                    "`^:parent` must be followed by a type `{Parent}`",
                    *span,
                    "missing parent type",
                )
            }
        }
        i = 3;
    }
    let Some(head) = items.get(i) else {
        return err(
            "malformed definition: expected `{struct Name}`, `{abstract Name}` or `{effect name}`",
            items[0].span,
            "incomplete",
        );
    };
    let DatumKind::Kind(ks) = &head.kind else {
        if parent.is_some() {
            return err(
                "`^:parent` applies to `{struct Name}` or `{abstract Name}` definitions",
                head.span,
                "not a type definition",
            );
        }
        return Ok(None);
    };
    let (kind, name, name_span) = match ks.as_slice() {
        [k, n] => {
            let kind = match k.as_sym() {
                Some("abstract") => DefKind::Abstract,
                Some("struct") => DefKind::Struct,
                Some("mutable-struct") => DefKind::MutableStruct,
                Some("effect") => DefKind::Effect,
                _ => return err("expected `{struct Name}`, `{mutable-struct Name}`, `{abstract Name}` or `{effect name}`", head.span, "unknown definition kind"),
            };
            let Some(name) = n.as_sym() else {
                return err("the defined type needs a name", n.span, "not a name");
            };
            (kind, name, n.span)
        }
        _ => return err("expected `{struct Name}`, `{mutable-struct Name}`, `{abstract Name}` or `{effect name}`", head.span, "malformed definition"),
    };
    let mut fields: Vec<(&str, Option<&Datum>, Span)> = Vec::new();
    let rest = &items[i + 1..];
    if matches!(kind, DefKind::Abstract | DefKind::Effect) {
        if let Some(extra) = rest.first() {
            return err(
                "an abstract type or effect has no fields",
                extra.span,
                "unexpected field",
            );
        }
        if kind == DefKind::Effect && parent.is_some() {
            return err(
                "an effect has no parent type",
                head.span,
                "effect with a parent",
            );
        }
    }
    for slot in rest {
        let xs = match &slot.kind {
            DatumKind::Slot(xs) => xs.as_slice(),
            DatumKind::Sym(_) => std::slice::from_ref(slot),
            _ => {
                return err(
                    "a field is `[name]` or `[name {Type}]`",
                    slot.span,
                    "malformed field",
                )
            }
        };
        let mut j = 0;
        while j < xs.len() {
            let Some(f) = xs[j].as_sym() else {
                return err(
                    "a field is `[name]` or `[name {Type}]`",
                    xs[j].span,
                    "malformed field",
                );
            };
            let ty = type_after(xs, j);
            j += ty.is_some() as usize;
            if fields.iter().any(|(g, _, _)| *g == f) {
                return err(format!("duplicate field `{f}`"), xs[j].span, "duplicate");
            }
            fields.push((f, ty, xs[j].span));
            j += 1;
        }
    }
    Ok(Some(TypeDef {
        kind,
        name,
        name_span,
        parent,
        fields,
    }))
}

// ------------------------------------------------------------- special forms

/// Check that special form `form` got between `min` and `max` arguments.
pub(crate) fn expect_args(
    form: &str,
    args: &[Datum],
    min: usize,
    max: usize,
    span: Span,
) -> Result<()> {
    if args.len() >= min && args.len() <= max {
        return Ok(());
    }
    let expected = if max == usize::MAX {
        format!("at least {min}")
    } else if min == max {
        format!("{min}")
    } else {
        format!("{min} or {max}")
    };
    Err(ExpandError::new(
        format!(
            "`{form}` expects {expected} argument{}, got {}",
            plural(if min == max { min } else { 2 }),
            args.len()
        ),
        span,
        format!("wrong number of arguments to `{form}`"),
    ))
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// Check that quoted datum `d` denotes a constant: every dict literal in it
/// has keys and values in pairs (walked with an explicit stack: quoted data
/// may nest deeply).
pub(crate) fn check_quoted(d: &Datum) -> Result<()> {
    let mut stack = vec![d];
    while let Some(d) = stack.pop() {
        match &d.kind {
            DatumKind::Dict(xs) if xs.len() % 2 != 0 => {
                return Err(ExpandError::new(
                    "dict literal needs an even number of forms (keys and values alternate)",
                    d.span,
                    "odd number of forms",
                ))
            }
            DatumKind::List(xs)
            | DatumKind::Slot(xs)
            | DatumKind::Kind(xs)
            | DatumKind::Dict(xs) => stack.extend(xs),
            DatumKind::Path(base, segs) => {
                stack.push(base);
                for s in segs {
                    if let crate::syntax::PathSeg::Index(i) = s {
                        stack.push(i);
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(src: &str) -> Datum {
        let mut forms = crate::syntax::read_program(src, 0).expect("reads");
        assert_eq!(forms.len(), 1, "one form: {src}");
        forms.pop().expect("one form")
    }

    fn names(ds: &[Datum]) -> Vec<String> {
        ds.iter().map(|d| d.to_string()).collect()
    }

    #[test]
    fn value_define() {
        for src in ["(define x 1)", "(define x {Int} 1)", "(define x)"] {
            let d = read(src);
            let form = recognise(&d).expect("recognised");
            assert!(matches!(form, TopForm::Define { name: "x", .. }), "{src}");
            assert_eq!(form.defined_name().map(|n| n.0), Some("x"));
        }
    }

    #[test]
    fn function_define_splits_params_return_type_and_body() {
        let d = read("(define f [x {Int}] y {Float} (g x) (h y))");
        let TopForm::Function {
            name, shape, rest, ..
        } = recognise(&d).expect("recognised")
        else {
            panic!("not a function");
        };
        assert_eq!(name, "f");
        assert_eq!(rest.len(), 5);
        assert_eq!(names(shape.params), ["[x {Int}]", "y"]);
        assert_eq!(shape.ret.map(|t| t.to_string()).as_deref(), Some("{Float}"));
        assert_eq!(names(shape.body), ["(g x)", "(h y)"]);
        let ps = parse_params(shape.params).expect("params");
        let fixed: Vec<(&str, Option<String>)> = ps
            .fixed
            .iter()
            .map(|p| (p.name, p.ty.map(|t| t.to_string())))
            .collect();
        assert_eq!(fixed, [("x", Some("{Int}".to_string())), ("y", None)]);
        assert!(ps.rest.is_none());
        assert!(ps.typed());
    }

    #[test]
    fn function_whose_forms_all_look_like_params_has_the_last_as_body() {
        let d = read("(define f [x] x)");
        let TopForm::Function { shape, .. } = recognise(&d).expect("recognised") else {
            panic!("not a function");
        };
        assert_eq!(names(shape.params), ["[x]"]);
        assert!(shape.ret.is_none());
        assert_eq!(names(shape.body), ["x"]);
    }

    #[test]
    fn rest_parameter() {
        let d = read("(define f [a {Int} .. more] more)");
        let TopForm::Function { shape, .. } = recognise(&d).expect("recognised") else {
            panic!("not a function");
        };
        let ps = parse_params(shape.params).expect("params");
        assert_eq!(ps.fixed.len(), 1);
        assert_eq!(ps.rest.map(|r| r.0), Some("more"));
    }

    #[test]
    fn malformed_params_are_errors() {
        for (src, msg) in [
            ("(fn [x x] 1)", "duplicate parameter `x`"),
            (
                "(fn [.. r] [y] 1)",
                "no parameter may follow the rest parameter",
            ),
        ] {
            let d = read(src);
            let DatumKind::List(items) = &d.kind else {
                panic!("a list")
            };
            let shape = FnShape::of(&items[1..]);
            let e = parse_params(shape.params).expect_err(src);
            assert_eq!(e.message, msg, "{src}");
        }
    }

    #[test]
    fn type_definitions() {
        let d = read("(define ^:parent {Shape} {struct Circle} [r {Float}] [c])");
        let TopForm::TypeDef(t) = recognise(&d).expect("recognised") else {
            panic!("not a typedef");
        };
        assert_eq!((t.kind, t.name), (DefKind::Struct, "Circle"));
        assert_eq!(t.parent.map(|p| p.to_string()).as_deref(), Some("{Shape}"));
        let fields: Vec<&str> = t.fields.iter().map(|f| f.0).collect();
        assert_eq!(fields, ["r", "c"]);
        for (src, kind) in [
            ("(define {abstract Shape})", DefKind::Abstract),
            ("(define {mutable-struct Acc} [n])", DefKind::MutableStruct),
            ("(define {effect ask})", DefKind::Effect),
        ] {
            let d = read(src);
            let TopForm::TypeDef(t) = recognise(&d).expect("recognised") else {
                panic!("not a typedef: {src}");
            };
            assert_eq!(t.kind, kind, "{src}");
        }
        let d = read("(define {effect ask} [x])");
        let e = recognise(&d).expect_err("effect with a field");
        assert_eq!(e.message, "an abstract type or effect has no fields");
    }

    #[test]
    fn expressions_are_not_definitions() {
        // The generic's name in second position of a form that is not a
        // `define` (the cause of an internal error once).
        for src in [
            "(display f)",
            "(for-each f xs)",
            "(set! f 1)",
            "'f",
            "f",
            "(definex f [x] 1)",
        ] {
            let d = read(src);
            assert!(matches!(recognise(&d), Ok(TopForm::Expr)), "{src}");
        }
    }

    #[test]
    fn malformed_defines_are_errors() {
        let d = read("(define)");
        assert_eq!(
            recognise(&d).expect_err("no name").message,
            "malformed `define`: expected a name and a value"
        );
        let d = read("(define 5 1)");
        assert_eq!(
            recognise(&d).expect_err("not a name").message,
            "malformed `define`: expected a name after `define`"
        );
    }

    #[test]
    fn expect_args_messages() {
        let d = read("(if)");
        let DatumKind::List(items) = &d.kind else {
            panic!("a list")
        };
        let e = expect_args("if", &items[1..], 2, 3, d.span).expect_err("too few");
        assert_eq!(e.message, "`if` expects 2 or 3 arguments, got 0");
        assert!(expect_args("quote", &items[..1], 1, 1, d.span).is_ok());
    }

    #[test]
    fn odd_quoted_dicts_are_found_at_any_depth() {
        assert!(check_quoted(&read("'(1 [2 #{3 4}])")).is_ok());
        let e = check_quoted(&read("'(1 [2 #{3}])")).expect_err("odd");
        assert!(e.message.contains("even number of forms"), "{}", e.message);
    }
}
