//! Reading: source text → datums with byte spans.
//!
//! `lexer.rs` is the logos lexer, `grammar.lalrpop` the LALR grammar over its
//! tokens; `read_program` is the stage's entry point (`read_program_all`
//! reads on after an error, to report every one). Reader sugar is
//! resolved here (`'x`, `` ` ``, `,`, `,@`, `:kw`, `#_`, paths `a.b` /
//! `xs.[i]`), so the expander only sees [`Datum`]s.

pub mod lexer;
#[allow(clippy::all, unused_parens)]
mod grammar {
    include!(concat!(env!("OUT_DIR"), "/syntax/grammar.rs"));
}
mod reader;

pub use reader::{read_program, read_program_all, read_program_recovering};

/// Index of a source file in the driver's [`SourceMap`].
pub type FileId = u32;

/// All source files of a compilation, indexed by [`FileId`], with the byte
/// offset of every line start (computed once per file, so a location is a
/// binary search, not a scan from the top of the file).
#[derive(Default, Debug, Clone)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

#[derive(Debug, Clone)]
struct SourceFile {
    name: String,
    text: String,
    line_starts: Vec<usize>,
}

impl SourceMap {
    pub fn add(&mut self, name: impl Into<String>, source: impl Into<String>) -> FileId {
        let text: String = source.into();
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        self.files.push(SourceFile {
            name: name.into(),
            text,
            line_starts,
        });
        (self.files.len() - 1) as FileId
    }
    pub fn name(&self, id: FileId) -> &str {
        &self.files[id as usize].name
    }
    pub fn source(&self, id: FileId) -> &str {
        &self.files[id as usize].text
    }
    pub fn contains(&self, id: FileId) -> bool {
        (id as usize) < self.files.len()
    }
    /// 1-based line and column (in chars) of the start of `span`.
    pub fn line_col(&self, span: Span) -> (u32, u32) {
        let file = &self.files[span.file as usize];
        let src = &file.text;
        let mut at = (span.start as usize).min(src.len());
        // A span inside a multi-byte char counts from that char's start.
        while !src.is_char_boundary(at) {
            at -= 1;
        }
        let line = file.line_starts.partition_point(|&s| s <= at);
        let start = file.line_starts[line - 1];
        let col = src[start..at].chars().count() as u32 + 1;
        (line as u32, col)
    }
}

/// A byte range in one source file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Span {
    pub file: FileId,
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(file: FileId, start: usize, end: usize) -> Span {
        Span {
            file,
            start: start as u32,
            end: end as u32,
        }
    }
    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span {
            file: self.file,
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Datum {
    pub kind: DatumKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum DatumKind {
    Int(i64),
    Float(f64),
    Str(String),
    Char(char),
    Bool(bool),
    Nothing,
    /// A symbol, including `λ`, `+`, `set!`. `:x` is read as `(quote x)`.
    Sym(String),
    /// `( ... )`
    List(Vec<Datum>),
    /// `[ ... ]`
    Slot(Vec<Datum>),
    /// `{ ... }`
    Kind(Vec<Datum>),
    /// `#{ k v ... }`
    Dict(Vec<Datum>),
    /// `^:name` — metadata marker; the expander decides what it applies to
    /// (e.g. `^:seq` before a binding, `^:parent {T}` before a struct).
    Meta(String),
    /// `a.b.[i]`: the base datum and its access segments.
    Path(Box<Datum>, Vec<PathSeg>),
}

#[derive(Clone, Debug, PartialEq)]
pub enum PathSeg {
    /// `.name` — field/key access with the symbol `name`.
    Field(String, Span),
    /// `.[expr]` — index/key access with an evaluated expression.
    Index(Datum),
}

impl Datum {
    pub fn new(kind: DatumKind, span: Span) -> Datum {
        Datum { kind, span }
    }
    pub fn as_sym(&self) -> Option<&str> {
        match &self.kind {
            DatumKind::Sym(s) => Some(s),
            _ => None,
        }
    }
}

/// Source text of a datum (for dumps and messages).
impl std::fmt::Display for Datum {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        fn seq(
            f: &mut std::fmt::Formatter<'_>,
            open: &str,
            xs: &[Datum],
            close: &str,
        ) -> std::fmt::Result {
            f.write_str(open)?;
            for (i, x) in xs.iter().enumerate() {
                if i > 0 {
                    f.write_str(" ")?;
                }
                write!(f, "{x}")?;
            }
            f.write_str(close)
        }
        match &self.kind {
            DatumKind::Int(n) => write!(f, "{n}"),
            DatumKind::Float(x) => write!(f, "{x:?}"),
            DatumKind::Str(s) => write!(f, "{s:?}"),
            DatumKind::Char(c) => write!(f, "#\\{c}"),
            DatumKind::Bool(b) => write!(f, "{b}"),
            DatumKind::Nothing => f.write_str("nothing"),
            DatumKind::Sym(s) => f.write_str(s),
            DatumKind::List(xs) => seq(f, "(", xs, ")"),
            DatumKind::Slot(xs) => seq(f, "[", xs, "]"),
            DatumKind::Kind(xs) => seq(f, "{", xs, "}"),
            DatumKind::Dict(xs) => seq(f, "#{", xs, "}"),
            DatumKind::Meta(m) => write!(f, "^:{m}"),
            DatumKind::Path(b, segs) => {
                write!(f, "{b}")?;
                for seg in segs {
                    match seg {
                        PathSeg::Field(n, _) => write!(f, ".{n}")?,
                        PathSeg::Index(i) => write!(f, ".[{i}]")?,
                    }
                }
                Ok(())
            }
        }
    }
}

/// A lexical or syntax error, with the span a caret should point at.
#[derive(Clone, Debug, PartialEq)]
pub struct SyntaxError {
    pub message: String,
    pub span: Span,
    /// The label text under the caret.
    pub label: String,
    /// A secondary location (e.g. the opener of an unclosed bracket).
    pub secondary: Option<(Span, String)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The line index is built once, when the file is added: one entry per
    /// line start, and every location is found in it (a binary search)
    /// with the same answer as counting from the top of the file.
    #[test]
    fn line_index_is_built_once_and_agrees_with_a_scan() {
        let mut text = String::new();
        for i in 0..2_000 {
            text.push_str(&format!("(define x{i} \"λ{i}\")\n"));
            if i % 7 == 0 {
                text.push('\n');
            }
        }
        let mut sources = SourceMap::default();
        let f = sources.add("big.omni", text.clone());
        let index = &sources.files[f as usize].line_starts;
        assert_eq!(index.len(), text.matches('\n').count() + 1);
        assert!(index.windows(2).all(|w| w[0] < w[1]));
        for (at, _) in text.char_indices().step_by(97) {
            let before = &text[..at];
            let line = before.matches('\n').count() as u32 + 1;
            let col = before.rsplit('\n').next().unwrap().chars().count() as u32 + 1;
            assert_eq!(
                sources.line_col(Span::new(f, at, at + 1)),
                (line, col),
                "offset {at}"
            );
        }
        // The end of the file is on the last (empty) line.
        let end = text.len();
        assert_eq!(
            sources.line_col(Span::new(f, end, end)),
            (index.len() as u32, 1)
        );
    }
}
