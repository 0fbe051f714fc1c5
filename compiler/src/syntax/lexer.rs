//! The logos lexer: source text → [`Token`]s with byte ranges.
//!
//! Every lexical rule of LANGUAGE.md §1 lives here: numbers (with `_`
//! separators, hex, signs, floats), strings with escapes, characters,
//! symbols, the reader-sugar prefixes, brackets, metadata markers, path
//! segments, and comments (line, nested block, `#_`). Errors carry the exact
//! byte range to blame (e.g. the bad escape inside a string, or the opener of
//! an unterminated block comment) so the reader can report them precisely.

use logos::{FilterResult, Lexer, Logos};
use std::ops::Range;

/// A lexical error. `span` is `None` when the whole current match is to
/// blame; the reader then uses the lexer's span.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct LexError {
    pub message: String,
    pub label: String,
    pub span: Option<Range<usize>>,
}

impl LexError {
    fn at(span: Range<usize>, message: impl Into<String>, label: impl Into<String>) -> LexError {
        LexError {
            message: message.into(),
            label: label.into(),
            span: Some(span),
        }
    }

    /// The error for input no token rule accepts (logos' fallback).
    fn unrecognized(lex: &mut Lexer<'_, Token>) -> LexError {
        let text = lex.slice();
        let span = lex.span();
        let (message, label) = match text {
            ":" => (
                "`:` must be followed by a name, as in `:key`".to_string(),
                "expected a name after `:`",
            ),
            "^" | "^:" => (
                "metadata must be written `^:name`".to_string(),
                "expected `^:name`",
            ),
            "." => (
                "a lone `.` is not valid; paths are written `a.b` or `xs.[i]`".to_string(),
                "unexpected `.`",
            ),
            "#" => (
                "unknown `#` syntax".to_string(),
                "expected `#{`, `#\\c`, `#_` or `#|`",
            ),
            _ if text.chars().next().is_some_and(char::is_control) => (
                format!(
                    "control character U+{:04X} is not allowed outside strings and comments",
                    text.chars().next().map_or(0, u32::from)
                ),
                "control character here",
            ),
            _ => (
                format!("unexpected character `{}`", text.escape_debug()),
                "not valid here",
            ),
        };
        LexError::at(span, message, label)
    }
}

/// A number literal's value: the lexer decides Int vs Float.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Num {
    Int(i64),
    Float(f64),
}

#[derive(Logos, Clone, Debug, PartialEq)]
#[logos(error(LexError, LexError::unrecognized))]
#[logos(skip r"\s+")]
// A line comment runs to the end of its line, which is exactly what the
// greedy class means here.
#[logos(skip(r";[^\n]*", allow_greedy = true))]
pub enum Token {
    #[token("(")]
    LParen,
    #[token(")")]
    RParen,
    #[token("[")]
    LBracket,
    #[token("]")]
    RBracket,
    #[token("{")]
    LBrace,
    #[token("}")]
    RBrace,
    /// `#{` opens a Dict literal.
    #[token("#{")]
    HashBrace,
    #[token("'")]
    Quote,
    #[token("`")]
    Quasiquote,
    #[token(",")]
    Unquote,
    #[token(",@")]
    UnquoteSplicing,
    /// `#_` — the next datum is skipped.
    #[token("#_")]
    DatumComment,
    /// `#| ... |#`, nesting; never emitted (skipped or an error).
    #[token("#|", block_comment)]
    BlockComment,
    /// `.[` — an index path segment; closed by `]`.
    #[token(".[")]
    IndexOpen,
    /// `..` — the rest marker in binding and match patterns.
    #[token("..")]
    Rest,
    /// `...` — the ellipsis of macro patterns and templates.
    #[token("...")]
    Ellipsis,
    /// A lone `&` — the guard marker in match patterns.
    #[token("&")]
    Amp,
    #[token("true")]
    True,
    #[token("false")]
    False,
    #[token("nothing")]
    Nothing,
    /// Integers and floats. The regex is deliberately broad (letters, `.`,
    /// signs) so that malformed literals like `12ab` or `1.2.3` are one
    /// error instead of silently splitting into a number and a symbol.
    #[regex(r"[-+]?[0-9][0-9A-Za-z_.+\-]*", lex_number, priority = 20)]
    Number(Num),
    #[regex(r#""([^"\\]|\\(.|\n))*""#, lex_string)]
    Str(String),
    /// A string whose closing quote never comes; never emitted.
    #[regex(r#""([^"\\]|\\(.|\n))*"#, unterminated_string)]
    UnterminatedStr,
    #[regex(r#"#\\[^\s][^\s()\[\]{}"';`,]*"#, lex_char)]
    Char(char),
    /// `#\` followed by whitespace or the end of input; never emitted.
    #[token("#\\", missing_char_name)]
    MissingCharName,
    #[regex(r#"[^\s\x00-\x1f\x7f-\x9f()\[\]{}"';`,.:#^&\\0-9][^\s\x00-\x1f\x7f-\x9f()\[\]{}"';`,.:#^&\\]*"#, |lex| lex.slice().to_string())]
    Sym(String),
    /// `:name`, read as `(quote name)`.
    #[regex(r#":[^\s\x00-\x1f\x7f-\x9f()\[\]{}"';`,.:#^&\\0-9][^\s\x00-\x1f\x7f-\x9f()\[\]{}"';`,.:#^&\\]*"#, |lex| lex.slice()[1..].to_string())]
    Keyword(String),
    /// `^:name` metadata marker.
    #[regex(r#"\^:[^\s\x00-\x1f\x7f-\x9f()\[\]{}"';`,.:#^&\\0-9][^\s\x00-\x1f\x7f-\x9f()\[\]{}"';`,.:#^&\\]*"#, |lex| lex.slice()[2..].to_string())]
    Meta(String),
    /// `.name` — a field path segment (only valid directly after a datum).
    #[regex(r#"\.[^\s\x00-\x1f\x7f-\x9f()\[\]{}"';`,.:#^&\\0-9][^\s\x00-\x1f\x7f-\x9f()\[\]{}"';`,.:#^&\\]*"#, |lex| lex.slice()[1..].to_string())]
    Field(String),
}

impl Token {
    /// How the token is written, for error messages.
    pub fn describe(&self) -> String {
        match self {
            Token::LParen => "`(`".into(),
            Token::RParen => "`)`".into(),
            Token::LBracket => "`[`".into(),
            Token::RBracket => "`]`".into(),
            Token::LBrace => "`{`".into(),
            Token::RBrace => "`}`".into(),
            Token::HashBrace => "`#{`".into(),
            Token::Quote => "`'`".into(),
            Token::Quasiquote => "`` ` ``".into(),
            Token::Unquote => "`,`".into(),
            Token::UnquoteSplicing => "`,@`".into(),
            Token::DatumComment => "`#_`".into(),
            Token::BlockComment => "block comment".into(),
            Token::IndexOpen => "`.[`".into(),
            Token::Rest => "`..`".into(),
            Token::Amp => "`&`".into(),
            Token::Ellipsis => "`...`".into(),
            Token::True => "`true`".into(),
            Token::False => "`false`".into(),
            Token::Nothing => "`nothing`".into(),
            Token::Number(Num::Int(n)) => format!("number `{n}`"),
            Token::Number(Num::Float(x)) => format!("number `{x:?}`"),
            Token::Str(_) | Token::UnterminatedStr => "string".into(),
            Token::Char(c) => format!("character `{c}`"),
            Token::MissingCharName => "`#\\`".into(),
            Token::Sym(s) => format!("symbol `{s}`"),
            Token::Keyword(k) => format!("`:{k}`"),
            Token::Meta(m) => format!("`^:{m}`"),
            Token::Field(f) => format!("path segment `.{f}`"),
        }
    }
}

fn lex_number(lex: &mut Lexer<'_, Token>) -> Result<Num, LexError> {
    let text = lex.slice();
    let span = lex.span();
    let invalid = || {
        LexError::at(
            span.clone(),
            format!("invalid number literal `{text}`"),
            "not a valid number",
        )
    };
    let out_of_range = || {
        LexError::at(
            span.clone(),
            format!("integer literal `{text}` does not fit in 64 bits"),
            "out of range",
        )
    };
    let (negative, body) = match text.as_bytes()[0] {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let digits: String = body.chars().filter(|&c| c != '_').collect();
    if let Some(hex) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        if hex.is_empty() || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(invalid());
        }
        let magnitude = u64::from_str_radix(hex, 16).map_err(|_| out_of_range())?;
        return signed(negative, magnitude)
            .map(Num::Int)
            .ok_or_else(out_of_range);
    }
    if digits.chars().all(|c| c.is_ascii_digit()) {
        let magnitude: u64 = digits.parse().map_err(|_| out_of_range())?;
        return signed(negative, magnitude)
            .map(Num::Int)
            .ok_or_else(out_of_range);
    }
    // Float: digits, optional fraction, optional exponent. Rust's parser
    // would also accept things like `inf`, so check the shape first.
    if !is_float_syntax(&digits) {
        return Err(invalid());
    }
    let value: f64 = digits.parse().map_err(|_| invalid())?;
    Ok(Num::Float(if negative { -value } else { value }))
}

fn signed(negative: bool, magnitude: u64) -> Option<i64> {
    if negative {
        0i64.checked_sub_unsigned(magnitude)
    } else {
        i64::try_from(magnitude).ok()
    }
}

/// `D+ ( '.' D* )? ( [eE] [+-]? D+ )?` with at least a fraction or exponent.
fn is_float_syntax(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    let digits_from = |mut i: usize| {
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        i
    };
    i = digits_from(i);
    if i == 0 {
        return false;
    }
    let mut is_float = false;
    if i < b.len() && b[i] == b'.' {
        is_float = true;
        i = digits_from(i + 1);
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        is_float = true;
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        let exp_start = i;
        i = digits_from(i);
        if i == exp_start {
            return false;
        }
    }
    is_float && i == b.len()
}

/// Decodes the escapes of a string literal (the match includes the quotes).
fn lex_string(lex: &mut Lexer<'_, Token>) -> Result<String, LexError> {
    let text = lex.slice();
    let base = lex.span().start;
    let inner = &text[1..text.len() - 1];
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        // Offsets are relative to `inner`, which starts one byte after `base`.
        let esc_start = base + 1 + i;
        let (j, e) = chars
            .next()
            .expect("the regex guarantees a char after `\\`");
        let esc_end = base + 1 + j + e.len_utf8();
        match e {
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            '0' => out.push('\0'),
            '\\' => out.push('\\'),
            '"' => out.push('"'),
            'u' => {
                // `\u{XXXX}`: find the closing brace within this string.
                let rest = &inner[j + 1..];
                let bad = |end: usize| {
                    LexError::at(
                        esc_start..end,
                        "invalid unicode escape: expected `\\u{` hex digits `}`",
                        "bad unicode escape",
                    )
                };
                if !rest.starts_with('{') {
                    return Err(bad(esc_end));
                }
                let Some(close) = rest.find('}') else {
                    return Err(bad(esc_end + 1));
                };
                let hex = &rest[1..close];
                let end = esc_end + close + 1;
                if hex.is_empty() || hex.len() > 6 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
                    return Err(bad(end));
                }
                let code = u32::from_str_radix(hex, 16).expect("checked hex digits");
                let Some(ch) = char::from_u32(code) else {
                    return Err(LexError::at(
                        esc_start..end,
                        format!("`\\u{{{hex}}}` is not a Unicode scalar value"),
                        "not a valid character",
                    ));
                };
                out.push(ch);
                // Skip `{hex}`.
                for _ in 0..close + 1 {
                    chars.next();
                }
            }
            other => {
                return Err(LexError::at(
                    esc_start..esc_end,
                    format!("unknown escape `\\{}` in string", other.escape_debug()),
                    "unknown escape",
                ));
            }
        }
    }
    Ok(out)
}

fn unterminated_string(lex: &mut Lexer<'_, Token>) -> Result<(), LexError> {
    let start = lex.span().start;
    Err(LexError::at(
        start..start + 1,
        "unterminated string",
        "this string is never closed",
    ))
}

/// `#\a`, `#\λ`, `#\space`, `#\newline`, `#\tab`, `#\nul`, `#\x3bb`.
fn lex_char(lex: &mut Lexer<'_, Token>) -> Result<char, LexError> {
    let name = &lex.slice()[2..];
    let mut it = name.chars();
    let first = it.next().expect("the regex requires a char");
    if it.next().is_none() {
        return Ok(first);
    }
    let named = match name {
        "space" => Some(' '),
        "newline" | "linefeed" => Some('\n'),
        "tab" => Some('\t'),
        "return" => Some('\r'),
        "nul" | "null" => Some('\0'),
        "alarm" => Some('\x07'),
        "backspace" => Some('\x08'),
        "delete" => Some('\x7f'),
        "escape" => Some('\x1b'),
        _ => name
            .strip_prefix('x')
            .filter(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_hexdigit()))
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .and_then(char::from_u32),
    };
    named.ok_or_else(|| {
        LexError::at(
            lex.span(),
            format!("unknown character name `#\\{name}`"),
            "expected a single character or one of space, newline, tab, return, nul",
        )
    })
}

fn missing_char_name(lex: &mut Lexer<'_, Token>) -> Result<(), LexError> {
    Err(LexError::at(
        lex.span(),
        "`#\\` must be followed by a character",
        "expected a character",
    ))
}

/// Skips a `#| ... |#` comment, honouring nesting.
fn block_comment(lex: &mut Lexer<'_, Token>) -> FilterResult<(), LexError> {
    let opener = lex.span();
    let rest = lex.remainder().as_bytes();
    let mut depth = 1usize;
    let mut i = 0;
    while i < rest.len() {
        if rest[i..].starts_with(b"|#") {
            depth -= 1;
            i += 2;
            if depth == 0 {
                lex.bump(i);
                return FilterResult::Skip;
            }
        } else if rest[i..].starts_with(b"#|") {
            depth += 1;
            i += 2;
        } else {
            i += 1;
        }
    }
    lex.bump(rest.len());
    FilterResult::Error(LexError::at(
        opener,
        "unterminated block comment",
        "this `#|` is never closed by `|#`",
    ))
}

/// A token with its start and end byte offsets, as the grammar consumes it.
pub type Spanned = (usize, Token, usize);

/// Lexes the whole input: tokens with their byte ranges, or the first error
/// with the range it blames.
pub fn tokenize(src: &str) -> Result<Vec<Spanned>, (LexError, Range<usize>)> {
    let mut lex = Token::lexer(src);
    let mut out = Vec::new();
    while let Some(result) = lex.next() {
        let span = lex.span();
        match result {
            Ok(tok) => out.push((span.start, tok, span.end)),
            Err(err) => {
                let blamed = err.span.clone().unwrap_or(span);
                return Err((err, blamed));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(src: &str) -> Vec<Token> {
        tokenize(src)
            .expect("lexes")
            .into_iter()
            .map(|(_, t, _)| t)
            .collect()
    }

    fn err(src: &str) -> (LexError, Range<usize>) {
        tokenize(src).expect_err("should fail to lex")
    }

    fn sym(s: &str) -> Token {
        Token::Sym(s.to_string())
    }

    #[test]
    fn brackets_and_prefixes() {
        assert_eq!(
            toks("( ) [ ] { } #{ ' ` , ,@ #_ .. & ..."),
            vec![
                Token::LParen,
                Token::RParen,
                Token::LBracket,
                Token::RBracket,
                Token::LBrace,
                Token::RBrace,
                Token::HashBrace,
                Token::Quote,
                Token::Quasiquote,
                Token::Unquote,
                Token::UnquoteSplicing,
                Token::DatumComment,
                Token::Rest,
                Token::Amp,
                Token::Ellipsis,
            ]
        );
    }

    #[test]
    fn literals_and_symbols() {
        assert_eq!(
            toks("true false nothing truer foo set! empty? ->str + - <= λ a-b"),
            vec![
                Token::True,
                Token::False,
                Token::Nothing,
                sym("truer"),
                sym("foo"),
                sym("set!"),
                sym("empty?"),
                sym("->str"),
                sym("+"),
                sym("-"),
                sym("<="),
                sym("λ"),
                sym("a-b"),
            ]
        );
    }

    #[test]
    fn keywords_meta_and_path_segments() {
        assert_eq!(
            toks(":name ^:seq a.b xs.[i]"),
            vec![
                Token::Keyword("name".into()),
                Token::Meta("seq".into()),
                sym("a"),
                Token::Field("b".into()),
                sym("xs"),
                Token::IndexOpen,
                sym("i"),
                Token::RBracket,
            ]
        );
    }

    #[test]
    fn numbers() {
        let n = |src: &str| toks(src);
        assert_eq!(n("42"), vec![Token::Number(Num::Int(42))]);
        assert_eq!(n("-7"), vec![Token::Number(Num::Int(-7))]);
        assert_eq!(n("+7"), vec![Token::Number(Num::Int(7))]);
        assert_eq!(n("1_000_000"), vec![Token::Number(Num::Int(1_000_000))]);
        assert_eq!(n("0xff"), vec![Token::Number(Num::Int(255))]);
        assert_eq!(n("-0x10"), vec![Token::Number(Num::Int(-16))]);
        assert_eq!(n("2.75"), vec![Token::Number(Num::Float(2.75))]);
        assert_eq!(n("-0.5"), vec![Token::Number(Num::Float(-0.5))]);
        assert_eq!(n("1e-9"), vec![Token::Number(Num::Float(1e-9))]);
        assert_eq!(n("2."), vec![Token::Number(Num::Float(2.0))]);
        assert_eq!(n("2.5E3"), vec![Token::Number(Num::Float(2500.0))]);
        assert_eq!(
            n("9223372036854775807 -9223372036854775808"),
            vec![
                Token::Number(Num::Int(i64::MAX)),
                Token::Number(Num::Int(i64::MIN))
            ]
        );
        // A number directly followed by a closer ends at the closer.
        assert_eq!(
            n("(1)"),
            vec![Token::LParen, Token::Number(Num::Int(1)), Token::RParen]
        );
    }

    #[test]
    fn number_errors() {
        let (e, span) = err("(+ 9223372036854775808 1)");
        assert!(e.message.contains("does not fit"), "{}", e.message);
        assert_eq!(span, 3..22);
        let (e, span) = err("x 12ab");
        assert!(
            e.message.contains("invalid number literal `12ab`"),
            "{}",
            e.message
        );
        assert_eq!(span, 2..6);
        assert!(err("1.2.3").0.message.contains("invalid number"));
        assert!(err("1e").0.message.contains("invalid number"));
        assert!(err("0x").0.message.contains("invalid number"));
        assert!(err("0x1_0000_0000_0000_0000")
            .0
            .message
            .contains("does not fit"));
    }

    #[test]
    fn strings_and_escapes() {
        assert_eq!(
            toks(
                r#""a\n\t\\\"\u{3bb}" "" "multi
line""#
            ),
            vec![
                Token::Str("a\n\t\\\"λ".into()),
                Token::Str(String::new()),
                Token::Str("multi\nline".into()),
            ]
        );
    }

    #[test]
    fn string_errors_point_at_the_problem() {
        let (e, span) = err(r#"(f "ab\qc")"#);
        assert!(e.message.contains("unknown escape `\\q`"), "{}", e.message);
        assert_eq!(span, 6..8);
        let (e, span) = err(r#""\u{110000}""#);
        assert!(e.message.contains("not a Unicode scalar"), "{}", e.message);
        assert_eq!(span, 1..11);
        let (_, span) = err(r#""x\u{zz}""#);
        assert_eq!(span, 2..8);
        let (e, span) = err("(f \"abc)\n");
        assert_eq!(e.message, "unterminated string");
        assert_eq!(span, 3..4);
    }

    #[test]
    fn chars() {
        assert_eq!(
            toks(r"#\a #\space #\newline #\tab #\λ #\( #\) #\x41"),
            vec![
                Token::Char('a'),
                Token::Char(' '),
                Token::Char('\n'),
                Token::Char('\t'),
                Token::Char('λ'),
                Token::Char('('),
                Token::Char(')'),
                Token::Char('A'),
            ]
        );
        assert_eq!(
            toks(r"(#\a)"),
            vec![Token::LParen, Token::Char('a'), Token::RParen]
        );
        let (e, span) = err(r"(x #\spcae)");
        assert!(
            e.message.contains("unknown character name `#\\spcae`"),
            "{}",
            e.message
        );
        assert_eq!(span, 3..10);
        assert!(err("#\\ ")
            .0
            .message
            .contains("must be followed by a character"));
    }

    #[test]
    fn comments() {
        assert_eq!(toks("a ; comment ( \nb"), vec![sym("a"), sym("b")]);
        assert_eq!(
            toks("a #| outer #| inner |# still |# b"),
            vec![sym("a"), sym("b")]
        );
        assert_eq!(toks("a #| |# b #||# c"), vec![sym("a"), sym("b"), sym("c")]);
        let (e, span) = err("a #| x #| y |# z");
        assert_eq!(e.message, "unterminated block comment");
        assert_eq!(span, 2..4);
    }

    #[test]
    fn unexpected_characters() {
        let (e, span) = err("(a \\ b)");
        assert!(e.message.contains("unexpected character"), "{}", e.message);
        assert_eq!(span, 3..4);
        assert!(err("a : b").0.message.contains("`:` must be followed"));
        assert!(err("a # b").0.message.contains("unknown `#` syntax"));
    }

    #[test]
    fn control_characters_are_not_symbol_characters() {
        for src in ["(define a\0b 1)", "a\u{1}", "\u{7f}x", "x\u{9f}"] {
            let (e, span) = err(src);
            assert!(
                e.message.contains("control character"),
                "{src:?}: {}",
                e.message
            );
            assert_eq!(span.len(), src[span.clone()].len());
        }
        let (e, span) = err("ab\0");
        assert!(e.message.contains("U+0000"), "{}", e.message);
        assert_eq!(span, 2..3);
        // Inside strings and comments they are data.
        assert_eq!(toks("\"a\0b\" ; \u{1}"), vec![Token::Str("a\0b".into())]);
    }

    #[test]
    fn spans_are_byte_offsets() {
        let spans: Vec<_> = tokenize("λ (ab)")
            .unwrap()
            .into_iter()
            .map(|(s, _, e)| (s, e))
            .collect();
        assert_eq!(spans, vec![(0, 2), (3, 4), (4, 6), (6, 7)]);
    }
}
