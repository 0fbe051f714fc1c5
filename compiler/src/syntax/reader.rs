//! The reader: runs the lexer, checks bracket balance and path adjacency,
//! then runs the LALR grammar to build [`Datum`]s.
//!
//! Brackets are checked on the token stream before parsing because an LR
//! parser only notices a missing `)` at the end of input, far from the cause;
//! the explicit stack lets every error point at the unclosed opener, the
//! stray closer, or the mismatched pair. Path segments (`.name`, `.[`) must
//! touch the datum before them; that is a whitespace question, so it is also
//! decided on tokens, where byte offsets are at hand.

use super::grammar::ProgramParser;
use super::lexer::{tokenize, LexError, Spanned, Token};
use super::{Datum, DatumKind, FileId, PathSeg, Span, SyntaxError};
use lalrpop_util::ParseError;

/// Reads a whole source file into its top-level datums.
pub fn read_program(src: &str, file: FileId) -> Result<Vec<Datum>, SyntaxError> {
    let tokens = tokenize(src).map_err(|(err, range)| SyntaxError {
        message: err.message,
        span: Span::new(file, range.start, range.end),
        label: err.label,
        secondary: None,
    })?;
    check_brackets(&tokens, src.len(), file)?;
    check_paths(&tokens, file)?;
    let starts: Vec<usize> = tokens.iter().map(|t| t.0).collect();
    let kinds: Vec<Token> = tokens.iter().map(|t| t.1.clone()).collect();
    ProgramParser::new()
        .parse(file, tokens.into_iter().map(Ok::<_, LexError>))
        .map_err(|e| convert_parse_error(e, &starts, &kinds, src.len(), file))
}

/// The most syntax errors one [`read_program_all`] reports: each one
/// re-reads the rest of the file.
pub const MAX_SYNTAX_ERRORS: usize = 50;

/// [`read_program`], reporting every syntax error of the file: after an
/// error, reading resumes at the next line that starts with `(` in its first
/// column (where a top-level form usually starts).
pub fn read_program_all(src: &str, file: FileId) -> Result<Vec<Datum>, Vec<SyntaxError>> {
    if let Ok(forms) = read_program(src, file) {
        return Ok(forms);
    }
    let mut errors = Vec::new();
    let mut base = 0;
    while errors.len() < MAX_SYNTAX_ERRORS {
        let Some(e) = first_error_from(src, base, file) else {
            break;
        };
        let next = next_form_start(src, e.span.start as usize + 1);
        errors.push(e);
        match next {
            Some(n) => base = n,
            None => break,
        }
    }
    Err(errors)
}

/// [`read_program_all`] for tools that want the forms that did read even
/// when some did not (the language server), at the cost of about two reads
/// of the file: the file is cut into stretches, each from a line starting
/// with `(` to the next; a stretch that does not read on its own is tried
/// together with up to [`MAX_JOINED_STRETCHES`] following ones (a form with
/// a line starting with `(` inside it); when none of those reads, the
/// stretch's own error is reported, or, when that is only "unclosed" (the
/// form goes on below), the error of the longest try (a stray `)` some
/// lines down); reading goes on after the stretch holding the error. At
/// most [`MAX_SYNTAX_ERRORS`] errors.
pub fn read_program_recovering(src: &str, file: FileId) -> (Vec<Datum>, Vec<SyntaxError>) {
    if let Ok(forms) = read_program(src, file) {
        return (forms, Vec::new());
    }
    let bytes = src.as_bytes();
    let starts: Vec<usize> = std::iter::once(0)
        .chain((1..bytes.len()).filter(|&i| bytes[i] == b'(' && bytes[i - 1] == b'\n'))
        .collect();
    let end_of = |j: usize| starts.get(j).copied().unwrap_or(src.len());
    let mut forms = Vec::new();
    let mut errors = Vec::new();
    let mut i = 0;
    while i < starts.len() {
        let base = starts[i];
        let last = (i + MAX_JOINED_STRETCHES).min(starts.len());
        let (mut own_error, mut last_error) = (None, None);
        let read = (i + 1..=last).find_map(|j| match read_program(&src[base..end_of(j)], file) {
            Ok(fs) => Some((j, fs)),
            Err(e) => {
                let e = shifted(e, base);
                if j == i + 1 {
                    own_error = Some(e.clone());
                }
                last_error = Some(e);
                None
            }
        });
        match read {
            Some((j, fs)) => {
                forms.extend(fs.into_iter().map(|mut d| {
                    shift_datum(&mut d, base as u32);
                    d
                }));
                i = j;
            }
            None => {
                let (Some(own), Some(last)) = (own_error, last_error) else {
                    break;
                };
                let e = if own.message.starts_with("unclosed")
                    && last.span.start as usize >= end_of(i + 1)
                {
                    last
                } else {
                    own
                };
                // A stretch ends before the file does: "expected `)` before
                // the end of the file" points at the file's end.
                let mut e = e;
                if let Some((span, label)) = e.secondary.as_mut() {
                    if label.contains("end of the file") {
                        *span = Span::new(file, src.len(), src.len());
                    }
                }
                // Go on after the stretch the error is in.
                let at = e.span.start as usize;
                i = (i + 1).max(starts.partition_point(|&s| s <= at));
                if errors.len() < MAX_SYNTAX_ERRORS {
                    errors.push(e);
                }
            }
        }
    }
    (forms, errors)
}

/// How many stretches [`read_program_recovering`] joins at most to read a
/// form.
const MAX_JOINED_STRETCHES: usize = 8;

/// Move every span of `d` `by` bytes later in the file.
fn shift_datum(d: &mut Datum, by: u32) {
    d.span.start += by;
    d.span.end += by;
    match &mut d.kind {
        DatumKind::List(xs) | DatumKind::Slot(xs) | DatumKind::Kind(xs) | DatumKind::Dict(xs) => {
            xs.iter_mut().for_each(|x| shift_datum(x, by))
        }
        DatumKind::Path(base, segs) => {
            shift_datum(base, by);
            for seg in segs {
                match seg {
                    PathSeg::Field(_, s) => {
                        s.start += by;
                        s.end += by;
                    }
                    PathSeg::Index(i) => shift_datum(i, by),
                }
            }
        }
        _ => {}
    }
}

/// The first syntax error of `src[base..]`. The lexer runs over the whole
/// text before brackets are checked, so a read may report a bad token far
/// after a bracket error: the text before the top-level form holding the
/// reported error is read again, until it reads clean.
fn first_error_from(src: &str, base: usize, file: FileId) -> Option<SyntaxError> {
    let mut end = src.len();
    let mut found = None;
    while let Err(e) = read_program(&src[base..end], file) {
        let e = shifted(e, base);
        let form_start = src[..e.span.start as usize]
            .rfind("\n(")
            .map_or(0, |i| i + 1);
        found = Some(e);
        if form_start <= base {
            break;
        }
        end = form_start;
    }
    found
}

/// The offset of the first line at or after `from` that starts with `(`.
fn next_form_start(src: &str, from: usize) -> Option<usize> {
    let bytes = src.as_bytes();
    (from.max(1)..bytes.len()).find(|&i| bytes[i] == b'(' && bytes[i - 1] == b'\n')
}

/// `e`, read from `src[base..]`, with its spans in the whole file.
fn shifted(mut e: SyntaxError, base: usize) -> SyntaxError {
    let shift = |s: &mut Span| {
        s.start += base as u32;
        s.end += base as u32;
    };
    shift(&mut e.span);
    if let Some((s, _)) = e.secondary.as_mut() {
        shift(s);
    }
    e
}

/// `(quote d)` etc. for the prefix written at `l..m`, spanning through `d`.
pub(super) fn prefixed(file: FileId, head: &str, l: usize, m: usize, d: Datum) -> Datum {
    let span = Span::new(file, l, d.span.end as usize);
    let head = Datum::new(DatumKind::Sym(head.to_string()), Span::new(file, l, m));
    Datum::new(DatumKind::List(vec![head, d]), span)
}

/// Appends a segment, flattening `a.b.c` into one path over `a`.
pub(super) fn extend_path(base: Datum, seg: PathSeg, end: usize) -> Datum {
    let span = Span {
        end: end as u32,
        ..base.span
    };
    match base.kind {
        DatumKind::Path(inner, mut segs) => {
            segs.push(seg);
            Datum::new(DatumKind::Path(inner, segs), span)
        }
        _ => Datum::new(DatumKind::Path(Box::new(base), vec![seg]), span),
    }
}

fn opener_text(tok: &Token) -> &'static str {
    match tok {
        Token::LParen => "(",
        Token::LBracket => "[",
        Token::LBrace => "{",
        Token::HashBrace => "#{",
        Token::IndexOpen => ".[",
        _ => unreachable!("not an opener"),
    }
}

fn closer_for(opener: &Token) -> &'static str {
    match opener {
        Token::LParen => ")",
        Token::LBracket | Token::IndexOpen => "]",
        _ => "}",
    }
}

/// The deepest nesting of datums a program may have: brackets plus reader
/// prefixes (`'`, `` ` ``, `,`, `,@`, `#_`) still waiting for their datum.
/// Every later stage recurses over the datum tree, so an explicit limit
/// (documented in docs/LANGUAGE.md, "Limits") turns absurd inputs into a
/// clear error; the driver runs the compiler on a stack big enough for it.
pub const MAX_NESTING: usize = 100_000;

/// One entry of the reader's nesting stack: an open bracket (its token and
/// byte range) or a prefix whose datum has not ended yet.
enum Open<'t> {
    Bracket(&'t Token, usize, usize),
    Prefix,
}

fn check_brackets(tokens: &[Spanned], src_len: usize, file: FileId) -> Result<(), SyntaxError> {
    let mut open: Vec<Open> = Vec::new();
    // A datum ended: the prefixes waiting for it are satisfied.
    let datum_ended = |open: &mut Vec<Open>| {
        while matches!(open.last(), Some(Open::Prefix)) {
            open.pop();
        }
    };
    for (start, tok, end) in tokens {
        let closer = match tok {
            Token::LParen
            | Token::LBracket
            | Token::LBrace
            | Token::HashBrace
            | Token::IndexOpen => {
                open.push(Open::Bracket(tok, *start, *end));
                check_depth(open.len(), *start, *end, file)?;
                continue;
            }
            Token::Quote
            | Token::Quasiquote
            | Token::Unquote
            | Token::UnquoteSplicing
            | Token::DatumComment => {
                open.push(Open::Prefix);
                check_depth(open.len(), *start, *end, file)?;
                continue;
            }
            Token::RParen => ")",
            Token::RBracket => "]",
            Token::RBrace => "}",
            _ => {
                datum_ended(&mut open);
                continue;
            }
        };
        let span = Span::new(file, *start, *end);
        // A prefix right before a closer is a grammar error reported later
        // with a better message; here it only must not hide the opener.
        datum_ended(&mut open);
        match open.pop() {
            None | Some(Open::Prefix) => {
                return Err(SyntaxError {
                    message: format!("unexpected `{closer}`"),
                    span,
                    label: format!("this `{closer}` has no matching opener"),
                    secondary: None,
                })
            }
            Some(Open::Bracket(opener, os, oe)) if closer_for(opener) != closer => {
                let o = opener_text(opener);
                return Err(SyntaxError {
                    message: format!(
                        "mismatched `{closer}`: the `{o}` it would close needs `{}`",
                        closer_for(opener)
                    ),
                    span,
                    label: format!("expected `{}` here", closer_for(opener)),
                    secondary: Some((Span::new(file, os, oe), format!("this `{o}` is still open"))),
                });
            }
            Some(Open::Bracket(..)) => datum_ended(&mut open),
        }
    }
    // The innermost unclosed opener is the likeliest culprit: every outer one
    // would be closed if it were.
    let innermost = open.iter().rev().find_map(|o| match o {
        Open::Bracket(t, s, e) => Some((*t, *s, *e)),
        Open::Prefix => None,
    });
    if let Some((opener, os, oe)) = innermost {
        let o = opener_text(opener);
        return Err(SyntaxError {
            message: format!("unclosed `{o}`"),
            span: Span::new(file, os, oe),
            label: format!("this `{o}` is never closed"),
            secondary: Some((
                Span::new(file, src_len, src_len),
                format!(
                    "expected `{}` before the end of the file",
                    closer_for(opener)
                ),
            )),
        });
    }
    Ok(())
}

fn check_depth(depth: usize, start: usize, end: usize, file: FileId) -> Result<(), SyntaxError> {
    if depth <= MAX_NESTING {
        return Ok(());
    }
    Err(SyntaxError {
        message: format!("datums are nested too deeply (the limit is {MAX_NESTING} levels)"),
        span: Span::new(file, start, end),
        label: format!("nesting level {depth} starts here"),
        secondary: None,
    })
}

/// Tokens after which a path segment may follow: the ends of datums.
fn ends_value(tok: &Token) -> bool {
    matches!(
        tok,
        Token::Number(_)
            | Token::Str(_)
            | Token::Char(_)
            | Token::Sym(_)
            | Token::True
            | Token::False
            | Token::Nothing
            | Token::RParen
            | Token::RBracket
            | Token::RBrace
            | Token::Field(_)
    )
}

fn check_paths(tokens: &[Spanned], file: FileId) -> Result<(), SyntaxError> {
    for (i, (start, tok, end)) in tokens.iter().enumerate() {
        if !matches!(tok, Token::Field(_) | Token::IndexOpen) {
            continue;
        }
        let span = Span::new(file, *start, *end);
        let seg = match tok {
            Token::Field(f) => format!(".{f}"),
            _ => ".[".to_string(),
        };
        let prev = i.checked_sub(1).map(|p| &tokens[p]);
        match prev {
            Some((_, p, pend)) if pend == start && ends_value(p) => {}
            Some((_, p, pend)) if pend == start => {
                return Err(SyntaxError {
                    message: format!("path segment `{seg}` must follow a value"),
                    span,
                    label: format!("{} cannot start a path", p.describe()),
                    secondary: None,
                })
            }
            _ => {
                return Err(SyntaxError {
                    message: format!("path segment `{seg}` must directly follow a value"),
                    span,
                    label: "no whitespace is allowed before a path segment".to_string(),
                    secondary: None,
                })
            }
        }
    }
    Ok(())
}

fn convert_parse_error(
    err: ParseError<usize, Token, LexError>,
    starts: &[usize],
    kinds: &[Token],
    src_len: usize,
    file: FileId,
) -> SyntaxError {
    // The token before offset `at`, if it is a prefix waiting for a datum.
    let dangling_prefix = |at: usize| {
        let idx = starts.partition_point(|&s| s < at);
        let prev = idx.checked_sub(1)?;
        match &kinds[prev] {
            Token::Quote
            | Token::Quasiquote
            | Token::Unquote
            | Token::UnquoteSplicing
            | Token::DatumComment => Some((starts[prev], &kinds[prev])),
            _ => None,
        }
    };
    let prefix_error = |ps: usize, p: &Token, found: String| {
        let len = match p {
            Token::UnquoteSplicing | Token::DatumComment => 2,
            _ => 1,
        };
        SyntaxError {
            message: format!("{} must be followed by a datum", p.describe()),
            span: Span::new(file, ps, ps + len),
            label: format!("expected a datum after this, found {found}"),
            secondary: None,
        }
    };
    match err {
        ParseError::UnrecognizedEof { location, .. } => match dangling_prefix(location) {
            Some((ps, p)) => prefix_error(ps, p, "the end of the file".into()),
            None => SyntaxError {
                message: "unexpected end of file".into(),
                span: Span::new(file, src_len, src_len),
                label: "the file ends here".into(),
                secondary: None,
            },
        },
        ParseError::UnrecognizedToken {
            token: (l, tok, r), ..
        } => match dangling_prefix(l) {
            Some((ps, p)) => prefix_error(ps, p, tok.describe()),
            None => SyntaxError {
                message: format!("unexpected {}", tok.describe()),
                span: Span::new(file, l, r),
                label: "not expected here".into(),
                secondary: None,
            },
        },
        ParseError::ExtraToken { token: (l, tok, r) } => SyntaxError {
            message: format!("unexpected {}", tok.describe()),
            span: Span::new(file, l, r),
            label: "not expected here".into(),
            secondary: None,
        },
        ParseError::InvalidToken { location } => SyntaxError {
            message: "invalid token".into(),
            span: Span::new(file, location, location + 1),
            label: "not valid here".into(),
            secondary: None,
        },
        ParseError::User { error } => {
            let range = error.span.unwrap_or(0..0);
            SyntaxError {
                message: error.message,
                span: Span::new(file, range.start, range.end),
                label: error.label,
                secondary: None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_top_level_syntax_error_is_reported() {
        let src = "(display (+ 1 2]\n(display 1)\n(define x #\\nope)\n(ok)\n(a))\n";
        let errors = super::read_program_all(src, 0).expect_err("three errors");
        let starts: Vec<u32> = errors.iter().map(|e| e.span.start).collect();
        let lines: Vec<usize> = starts
            .iter()
            .map(|&s| src[..s as usize].matches('\n').count() + 1)
            .collect();
        assert_eq!(lines, [1, 3, 5], "{errors:?}");
        assert_eq!(&src[starts[2] as usize..][..1], ")");
        // A clean file reads once, as `read_program` does.
        assert_eq!(super::read_program_all("(a) (b)", 0).unwrap().len(), 2);
        // A broken file stops at the cap.
        let many = "(]\n".repeat(2 * super::MAX_SYNTAX_ERRORS);
        let errors = super::read_program_all(&many, 0).expect_err("many");
        assert_eq!(errors.len(), super::MAX_SYNTAX_ERRORS);
    }

    use super::*;

    /// The forms around an unreadable one are read; the errors are those
    /// of `read_program_all`, with spans in the whole file.
    #[test]
    fn recovering_reads_the_forms_around_an_error() {
        let src = "(define a 1)\n(define b (\n(define c\n  [x]\n(+ x 1))\n(d \"(\")\n";
        let (forms, errors) = read_program_recovering(src, 0);
        assert_eq!(errors, read_program_all(src, 0).unwrap_err());
        let text: Vec<String> = forms.iter().map(|d| d.to_string()).collect();
        // `(define c` is split by a line starting with `(`: read joined.
        assert_eq!(
            text,
            ["(define a 1)", "(define c [x] (+ x 1))", "(d \"(\")"]
        );
        let c = &forms[1];
        assert_eq!(
            &src[c.span.start as usize..c.span.end as usize],
            "(define c\n  [x]\n(+ x 1))"
        );
        assert_eq!(read_program_recovering("(a)", 0).1, Vec::new());
        // A bracket error before a bad token further down: both reported.
        let src = "(display (+ 1 2]\n(display 1)\n(define c #\\nope)\n(display c))\n";
        let (forms, errors) = read_program_recovering(src, 0);
        let at: Vec<&str> = errors
            .iter()
            .map(|e| &src[e.span.start as usize..e.span.end as usize])
            .collect();
        assert_eq!(at, ["]", "#\\nope", ")"]);
        assert_eq!(forms.len(), 1);
        // A stray `)` lines below a form cut by a line starting with `(`:
        // the `)` is the error, not the form it cuts.
        let src = "(define f [x]\n(+ x 1)\n(car x)))\n(ok)\n";
        let (forms, errors) = read_program_recovering(src, 0);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].span.start as usize, src.find(")))").unwrap() + 2);
        assert_eq!(forms.last().map(|d| d.to_string()).as_deref(), Some("(ok)"));
    }

    fn read(src: &str) -> Vec<Datum> {
        read_program(src, 0).unwrap_or_else(|e| panic!("{src:?} failed: {e:?}"))
    }

    fn read_err(src: &str) -> SyntaxError {
        match read_program(src, 0) {
            Ok(d) => panic!("{src:?} should fail, read {d:?}"),
            Err(e) => e,
        }
    }

    /// A compact printed form, so expectations stay readable.
    fn show(d: &Datum) -> String {
        let seq = |open: &str, items: &[Datum], close: &str| {
            let inner: Vec<String> = items.iter().map(show).collect();
            format!("{open}{}{close}", inner.join(" "))
        };
        match &d.kind {
            DatumKind::Int(n) => n.to_string(),
            DatumKind::Float(x) => format!("{x:?}"),
            DatumKind::Str(s) => format!("{s:?}"),
            DatumKind::Char(c) => format!("#\\{c}"),
            DatumKind::Bool(b) => b.to_string(),
            DatumKind::Nothing => "nothing".into(),
            DatumKind::Sym(s) => s.clone(),
            DatumKind::List(items) => seq("(", items, ")"),
            DatumKind::Slot(items) => seq("[", items, "]"),
            DatumKind::Kind(items) => seq("{", items, "}"),
            DatumKind::Dict(items) => seq("#{", items, "}"),
            DatumKind::Meta(m) => format!("^:{m}"),
            DatumKind::Path(base, segs) => {
                let mut out = format!("<path {}", show(base));
                for seg in segs {
                    match seg {
                        PathSeg::Field(f, _) => out += &format!(" .{f}"),
                        PathSeg::Index(i) => out += &format!(" .[{}]", show(i)),
                    }
                }
                out + ">"
            }
        }
    }

    fn shown(src: &str) -> String {
        read(src).iter().map(show).collect::<Vec<_>>().join(" ")
    }

    fn span(start: usize, end: usize) -> Span {
        Span::new(0, start, end)
    }

    #[test]
    fn atoms_and_collections() {
        assert_eq!(
            shown(r#"42 -0.5 "s" #\a true false nothing foo (a [b {Int}] #{:k 1})"#),
            r#"42 -0.5 "s" #\a true false nothing foo (a [b {Int}] #{(quote k) 1})"#
        );
        assert_eq!(shown("() [] {} #{}"), "() [] {} #{}");
        assert_eq!(
            shown("[a b .. rest] [x {Int} & (> x 1)]"),
            "[a b .. rest] [x {Int} & (> x 1)]"
        );
    }

    #[test]
    fn spans_cover_each_datum() {
        let ds = read("(f x)  [y]");
        assert_eq!(ds[0].span, span(0, 5));
        assert_eq!(ds[1].span, span(7, 10));
        let DatumKind::List(items) = &ds[0].kind else {
            panic!()
        };
        assert_eq!(items[1].span, span(3, 4));
    }

    #[test]
    fn reader_sugar() {
        assert_eq!(shown("'x"), "(quote x)");
        assert_eq!(
            shown("`(a ,b ,@c)"),
            "(quasiquote (a (unquote b) (unquote-splicing c)))"
        );
        assert_eq!(shown(":k"), "(quote k)");
        assert_eq!(shown("''x"), "(quote (quote x))");
        assert_eq!(shown("^:seq [x 1]"), "^:seq [x 1]");
        assert_eq!(
            shown("^:parent {Shape} {struct Circle}"),
            "^:parent {Shape} {struct Circle}"
        );
        let q = &read(" 'abc")[0];
        assert_eq!(q.span, span(1, 5));
        let DatumKind::List(items) = &q.kind else {
            panic!()
        };
        assert_eq!(items[0].span, span(1, 2));
        assert_eq!(items[1].span, span(2, 5));
        let k = &read(":name")[0];
        let DatumKind::List(items) = &k.kind else {
            panic!()
        };
        assert_eq!(items[1].span, span(1, 5));
    }

    #[test]
    fn datum_comments_skip_one_datum() {
        assert_eq!(shown("a #_ b c"), "a c");
        assert_eq!(shown("(f #_(g x) y)"), "(f y)");
        assert_eq!(shown("#_ #_ a b c"), "c");
        assert_eq!(shown("(a #_ 'b)"), "(a)");
    }

    #[test]
    fn comments() {
        assert_eq!(shown("a ; c (\n b #| x #| (nested |# ) |# c"), "a b c");
    }

    #[test]
    fn paths() {
        assert_eq!(shown("a.b.c"), "<path a .b .c>");
        assert_eq!(shown("xs.[i]"), "<path xs .[i]>");
        assert_eq!(shown("xs.[(+ i 1)].name"), "<path xs .[(+ i 1)] .name>");
        assert_eq!(shown("(f x).y"), "<path (f x) .y>");
        assert_eq!(shown("(Circle 1.0).r"), "<path (Circle 1.0) .r>");
        assert_eq!(shown("(* s.r s.r)"), "(* <path s .r> <path s .r>)");
        assert_eq!(shown("'a.b"), "(quote <path a .b>)");
        let p = &read("  p.x.y")[0];
        assert_eq!(p.span, span(2, 7));
        let DatumKind::Path(base, segs) = &p.kind else {
            panic!()
        };
        assert_eq!(base.span, span(2, 3));
        assert_eq!(segs[0], PathSeg::Field("x".into(), span(4, 5)));
    }

    #[test]
    fn whitespace_before_a_segment_is_not_a_path() {
        let e = read_err("a .b");
        assert_eq!(e.span, span(2, 4));
        assert!(
            e.message.contains("must directly follow a value"),
            "{}",
            e.message
        );
        let e = read_err("(.b)");
        assert_eq!(e.span, span(1, 3));
        assert!(e.message.contains("must follow a value"), "{}", e.message);
        assert_eq!(read_err("xs .[0]").span, span(3, 5));
    }

    #[test]
    fn unclosed_opener_is_blamed() {
        let e = read_err("(define x\n  (+ 1 2)");
        assert_eq!(e.message, "unclosed `(`");
        assert_eq!(e.label, "this `(` is never closed");
        assert_eq!(e.span, span(0, 1));
        let (eof, _) = e.secondary.expect("end-of-file label");
        assert_eq!(eof, span(19, 19));
        // The innermost unclosed opener is reported.
        let e = read_err("(a [b #{c (d)");
        assert_eq!(e.message, "unclosed `#{`");
        assert_eq!(e.span, span(6, 8));
        assert_eq!(read_err("xs.[1").span, span(2, 4));
    }

    #[test]
    fn stray_closer() {
        let e = read_err("(a b))");
        assert_eq!(e.message, "unexpected `)`");
        assert_eq!(e.span, span(5, 6));
        assert_eq!(read_err("]").span, span(0, 1));
    }

    #[test]
    fn mismatched_closer() {
        let e = read_err("(a\n (b c]");
        assert_eq!(e.span, span(8, 9));
        assert!(e.message.contains("mismatched `]`"), "{}", e.message);
        let (opener, label) = e.secondary.expect("opener label");
        assert_eq!(opener, span(4, 5));
        assert!(label.contains("`(`"));
        let e = read_err("#{a 1)");
        assert_eq!(e.span, span(5, 6));
        assert_eq!(e.secondary.unwrap().0, span(0, 2));
    }

    #[test]
    fn lexical_errors_become_syntax_errors() {
        let e = read_err("(print \"a\\qb\")");
        assert_eq!(e.span, span(9, 11));
        assert!(e.message.contains("unknown escape"));
        let e = read_err("(print \"abc)");
        assert_eq!(e.span, span(7, 8));
        let e = read_err("x #| never");
        assert_eq!(e.span, span(2, 4));
        assert_eq!(read_err(r"#\bogus").span, span(0, 7));
    }

    #[test]
    fn dangling_prefixes() {
        let e = read_err("(a ')");
        assert_eq!(e.span, span(3, 4));
        assert!(
            e.message.contains("must be followed by a datum"),
            "{}",
            e.message
        );
        let e = read_err("x ,@");
        assert_eq!(e.span, span(2, 4));
        assert!(e.label.contains("end of the file"), "{}", e.label);
        assert_eq!(read_err("(f #_)").span, span(3, 5));
    }

    #[test]
    fn nesting_up_to_the_limit_reads_and_beyond_it_is_an_error() {
        let deep = |n: usize, open: &str, close: &str| open.repeat(n) + &close.repeat(n);
        // Run on a big stack, as the driver does: dropping the datum tree
        // recurses.
        std::thread::Builder::new()
            .stack_size(1 << 30)
            .spawn(move || {
                assert!(read_program(&deep(MAX_NESTING, "(", ")"), 0).is_ok());
                assert!(read_program(&("'".repeat(MAX_NESTING) + "x"), 0).is_ok());
                let e = read_err(&deep(MAX_NESTING + 1, "[", "]"));
                assert!(e.message.contains("nested too deeply"), "{}", e.message);
                assert_eq!(e.span, span(MAX_NESTING, MAX_NESTING + 1));
                let e = read_err(&("'(".repeat(MAX_NESTING / 2 + 1) + "x"));
                assert!(e.message.contains("nested too deeply"), "{}", e.message);
            })
            .unwrap()
            .join()
            .unwrap();
    }

    /// Random soups of token fragments: reading never panics, and every
    /// error span lies inside the source on char boundaries (ariadne and
    /// `line_col` rely on that).
    #[test]
    fn random_inputs_give_well_formed_results() {
        const PARTS: &[&str] = &[
            "(", ")", "[", "]", "{", "}", "#{", "'", "`", ",", ",@", "#_", " ", "\n", "a", ".b",
            ".[", "..", "&", "1", "-2.5", "0x", "\"s\\n\"", "\"", "\\u{", "#\\", "#\\x", "λ",
            ";c\n", "#|", "|#", ":k", "^:m", "#", ".", "1e", "é",
        ];
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let (mut oks, mut errs) = (0, 0);
        for _ in 0..3000 {
            let len = (next() % 12) as usize;
            let src: String = (0..len)
                .map(|_| PARTS[(next() % PARTS.len() as u64) as usize])
                .collect();
            match read_program(&src, 0) {
                Ok(_) => oks += 1,
                Err(e) => {
                    errs += 1;
                    let (s, t) = (e.span.start as usize, e.span.end as usize);
                    assert!(s <= t && t <= src.len(), "{src:?}: {e:?}");
                    assert!(
                        src.is_char_boundary(s) && src.is_char_boundary(t),
                        "{src:?}: {e:?}"
                    );
                }
            }
        }
        assert!(oks > 100 && errs > 100, "{oks} ok, {errs} errors");
    }
}
