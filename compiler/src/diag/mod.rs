//! Diagnostics: the source map and ariadne rendering of compile errors,
//! and (`timing`) the per-stage times `OMNI_TIME_PASSES=1` reports.
//!
//! Every stage reports errors as a [`Diagnostic`]: a message, a primary span
//! with a label (where the caret goes), optional secondary spans and notes.
//! The driver keeps all loaded files in a [`SourceMap`] and renders
//! diagnostics with [`Diagnostic::render`], which prints `file:line:col`, the
//! source line and carets. Colour is used only on a terminal without
//! `NO_COLOR`, so captured output (tests, pipes) is plain text.

pub mod timing;

pub use crate::syntax::SourceMap;
use crate::syntax::{FileId, Span, SyntaxError};
use ariadne::{Color, Config, IndexType, Label, Report, ReportKind, Source};
use std::collections::HashMap;
use std::fmt;
use std::io::IsTerminal;
use std::ops::Range;

/// A compile error with the place to blame.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    pub message: String,
    pub span: Span,
    /// Text under the caret at `span`.
    pub label: String,
    pub secondary: Vec<(Span, String)>,
    pub notes: Vec<String>,
}

impl Diagnostic {
    pub fn error(message: impl Into<String>, span: Span, label: impl Into<String>) -> Diagnostic {
        Diagnostic {
            message: message.into(),
            span,
            label: label.into(),
            secondary: Vec::new(),
            notes: Vec::new(),
        }
    }

    pub fn with_secondary(mut self, span: Span, label: impl Into<String>) -> Diagnostic {
        self.secondary.push((span, label.into()));
        self
    }

    /// The report as text: `Error: message`, then `file:line:col`, the source
    /// lines with carets under each labelled span, and the notes.
    pub fn render(&self, sources: &SourceMap) -> String {
        let color = use_color();
        let config = Config::default()
            .with_color(color)
            .with_index_type(IndexType::Byte);
        let primary = label_range(sources, self.span);
        let mut report = Report::build(ReportKind::Error, (self.span.file, primary.clone()))
            .with_config(config)
            .with_message(shorten_quotes(&self.message));
        let mut primary_label = Label::new((self.span.file, primary))
            .with_message(shorten_quotes(&self.label))
            .with_order(0);
        if color {
            primary_label = primary_label.with_color(Color::Red);
        }
        report = report.with_label(primary_label);
        for (i, (span, text)) in self.secondary.iter().enumerate() {
            let mut label = Label::new((span.file, label_range(sources, *span)))
                .with_message(shorten_quotes(text))
                .with_order(i as i32 + 1);
            if color {
                label = label.with_color(Color::Blue);
            }
            report = report.with_label(label);
        }
        for note in &self.notes {
            report = report.with_note(shorten_quotes(note));
        }
        let mut out = Vec::new();
        report
            .finish()
            .write(SourceCache::new(sources), &mut out)
            .expect("rendering into memory cannot fail");
        String::from_utf8_lossy(&out).into_owned()
    }
}

impl From<SyntaxError> for Diagnostic {
    fn from(err: SyntaxError) -> Diagnostic {
        let diag = Diagnostic::error(err.message, err.span, err.label);
        match err.secondary {
            Some((span, label)) => diag.with_secondary(span, label),
            None => diag,
        }
    }
}

impl fmt::Display for Diagnostic {
    /// A one-line form without source context (for logs and test failures).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "error: {} (at bytes {}..{})",
            self.message, self.span.start, self.span.end
        )
    }
}

/// The longest token or value quoted in a message, in chars; longer ones
/// are cut with `...`, so a 1 MB identifier does not become megabytes of
/// diagnostics.
pub const MAX_QUOTED_CHARS: usize = 80;

/// `text` with every `` `quoted` `` part (and the text as a whole, at ten
/// times the limit) cut to [`MAX_QUOTED_CHARS`].
pub fn shorten_quotes(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(16 * MAX_QUOTED_CHARS));
    for (i, part) in text.split('`').enumerate() {
        if i > 0 {
            out.push('`');
        }
        // Odd parts are inside backticks.
        if i % 2 == 1 && part.chars().count() > MAX_QUOTED_CHARS {
            out.extend(part.chars().take(MAX_QUOTED_CHARS - 3));
            out.push_str("...");
        } else {
            out.push_str(part);
        }
    }
    if out.chars().count() > 10 * MAX_QUOTED_CHARS {
        out = out
            .chars()
            .take(10 * MAX_QUOTED_CHARS - 3)
            .collect::<String>()
            + "...";
    }
    out
}

fn use_color() -> bool {
    std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal()
}

/// The byte range to underline for `span`. Empty spans (e.g. "end of file")
/// are widened to the char they sit on, or the one before at the very end,
/// so the caret has something to point at.
fn label_range(sources: &SourceMap, span: Span) -> Range<usize> {
    let src = sources.source(span.file);
    let len = src.len();
    let mut start = (span.start as usize).min(len);
    let mut end = (span.end as usize).clamp(start, len);
    while !src.is_char_boundary(start) {
        start -= 1;
    }
    while !src.is_char_boundary(end) {
        end += 1;
    }
    // A huge token is underlined by its first chars only: ariadne draws a
    // mark under every char of a label.
    if let Some((cut, _)) = src[start..end].char_indices().nth(MAX_QUOTED_CHARS) {
        end = start + cut;
    }
    if start == end {
        if let Some(c) = src[start..].chars().next() {
            end = start + c.len_utf8();
        } else if let Some(c) = src[..start].chars().next_back() {
            start -= c.len_utf8();
        }
    }
    start..end
}

/// Feeds ariadne the files of a [`SourceMap`], building each file's line
/// index only when a report touches it.
struct SourceCache<'s> {
    map: &'s SourceMap,
    loaded: HashMap<FileId, Source<&'s str>>,
}

impl<'s> SourceCache<'s> {
    fn new(map: &'s SourceMap) -> SourceCache<'s> {
        SourceCache {
            map,
            loaded: HashMap::new(),
        }
    }
}

impl<'s> ariadne::Cache<FileId> for SourceCache<'s> {
    type Storage = &'s str;

    fn fetch(&mut self, id: &FileId) -> Result<&Source<&'s str>, impl fmt::Debug> {
        if !self.map.contains(*id) {
            return Err(format!("no source file with id {id}"));
        }
        let map = self.map;
        Ok(self
            .loaded
            .entry(*id)
            .or_insert_with(|| Source::from(map.source(*id))))
    }

    fn display<'a>(&self, id: &'a FileId) -> Option<impl fmt::Display + 'a> {
        self.map
            .contains(*id)
            .then(|| self.map.name(*id).to_string())
    }
}

/// The most errors one report shows: a broken file should not drown the
/// user (the rest are counted).
pub const MAX_SHOWN_ERRORS: usize = 50;

/// Every error of an expansion, as diagnostics (in source order).
pub fn expand_diagnostics(errors: crate::expand::Errors) -> Vec<Diagnostic> {
    errors.into_iter().map(Diagnostic::from).collect()
}

/// Render `diags` one after the other: at most [`MAX_SHOWN_ERRORS`], then
/// "... and N more errors", then the total when there is more than one.
pub fn render_all(diags: &[Diagnostic], sources: &SourceMap) -> String {
    let mut out = String::new();
    for d in diags.iter().take(MAX_SHOWN_ERRORS) {
        out.push_str(&d.render(sources));
    }
    let hidden = diags.len().saturating_sub(MAX_SHOWN_ERRORS);
    if hidden > 0 {
        let s = if hidden == 1 { "" } else { "s" };
        out.push_str(&format!("... and {hidden} more error{s}\n"));
    }
    if diags.len() > 1 {
        out.push_str(&format!("error: {} errors\n", diags.len()));
    }
    out
}

impl From<crate::expand::ExpandError> for Diagnostic {
    fn from(e: crate::expand::ExpandError) -> Diagnostic {
        let mut diag = Diagnostic::error(e.message, e.span, e.label);
        diag.secondary = e.secondary;
        diag.notes = e.notes;
        diag
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::read_program;

    fn syntax_diag(name: &str, src: &str) -> (SourceMap, Diagnostic) {
        let mut sources = SourceMap::default();
        let file = sources.add(name, src);
        let err = read_program(src, file).expect_err("should not read");
        (sources, Diagnostic::from(err))
    }

    #[test]
    fn line_col_counts_lines_and_chars() {
        let mut sources = SourceMap::default();
        sources.add("other.omni", "x");
        let f = sources.add("a.omni", "ab\nλλ x\n");
        assert_eq!(sources.name(f), "a.omni");
        assert_eq!(sources.line_col(Span::new(f, 0, 1)), (1, 1));
        assert_eq!(sources.line_col(Span::new(f, 3, 4)), (2, 1));
        // `x` is after two 2-byte chars and a space: column 4.
        assert_eq!(sources.line_col(Span::new(f, 8, 9)), (2, 4));
    }

    #[test]
    fn unclosed_paren_renders_location_and_caret() {
        let (sources, diag) = syntax_diag("prog.omni", "(define x\n  (+ 1 2)");
        let text = diag.render(&sources);
        assert!(text.contains("unclosed `(`"), "{text}");
        assert!(text.contains("prog.omni:1:1"), "{text}");
        assert!(text.contains("this `(` is never closed"), "{text}");
        assert!(
            text.contains("expected `)` before the end of the file"),
            "{text}"
        );
        assert!(text.contains("(define x"), "{text}");
        // The underline/caret sits under the opener, in the first column.
        let caret_line = text
            .lines()
            .find(|l| l.contains('┬') || l.contains('^'))
            .unwrap_or_else(|| panic!("no caret line in {text}"));
        let source_line = text.lines().find(|l| l.contains("(define x")).unwrap();
        assert_eq!(
            caret_line
                .find(['┬', '^'])
                .map(|i| caret_line[..i].chars().count()),
            source_line
                .find('(')
                .map(|i| source_line[..i].chars().count()),
            "{text}"
        );
    }

    #[test]
    fn stray_closer_on_a_later_line() {
        let (sources, diag) = syntax_diag("x.omni", "(a)\n  (b))\n");
        let text = diag.render(&sources);
        assert!(text.contains("x.omni:2:6"), "{text}");
        assert!(text.contains("unexpected `)`"), "{text}");
    }

    #[test]
    fn notes_and_secondaries_render() {
        let mut sources = SourceMap::default();
        let f = sources.add("m.omni", "(let [x 1]\n  (+ x y))\n");
        let mut d1 = Diagnostic::error("unbound variable `y`", Span::new(f, 18, 19), "not defined")
            .with_secondary(Span::new(f, 6, 7), "did you mean `x`?");
        d1.notes.push("variables must be defined before use".into());
        let text = d1.render(&sources);
        assert!(text.contains("m.omni:2:8"), "{text}");
        assert!(text.contains("not defined"), "{text}");
        assert!(text.contains("did you mean `x`?"), "{text}");
        assert!(
            text.contains("variables must be defined before use"),
            "{text}"
        );
        assert_eq!(d1.secondary.len(), 1);
        assert_eq!(d1.notes.len(), 1);
    }

    #[test]
    fn empty_span_at_end_of_file_still_renders() {
        let mut sources = SourceMap::default();
        let f = sources.add("e.omni", "(a");
        let text = Diagnostic::error("eof", Span::new(f, 2, 2), "ends here").render(&sources);
        assert!(text.contains("e.omni:1:2"), "{text}");
        assert!(text.contains("ends here"), "{text}");
    }

    #[test]
    fn huge_tokens_are_shortened_in_messages_and_underlines() {
        let name = "x".repeat(100_000);
        let mut sources = SourceMap::default();
        let f = sources.add("big.omni", format!("(display {name})"));
        let d = Diagnostic::error(
            format!("unbound name `{name}`"),
            Span::new(f, 9, 9 + name.len()),
            format!("`{name}` is not defined"),
        );
        let text = d.render(&sources);
        // The source line itself is still shown once; the message, label
        // and underline are bounded.
        assert!(text.len() < name.len() + 2_000, "{} bytes", text.len());
        assert!(text.contains(&format!("unbound name `{}...`", "x".repeat(77))));
        assert_eq!(shorten_quotes("a `b` c"), "a `b` c");
    }

    #[test]
    fn many_errors_are_capped() {
        let mut sources = SourceMap::default();
        let f = sources.add("many.omni", "x\n".repeat(60));
        let diags: Vec<Diagnostic> = (0..60)
            .map(|i| {
                Diagnostic::error(
                    format!("error number {i}"),
                    Span::new(f, 2 * i, 2 * i + 1),
                    "here",
                )
            })
            .collect();
        let text = render_all(&diags, &sources);
        assert!(text.contains("error number 49"), "{text}");
        assert!(!text.contains("error number 50"), "{text}");
        assert!(text.contains("many.omni:50:1"), "{text}");
        assert!(
            text.contains("... and 10 more errors\nerror: 60 errors\n"),
            "{text}"
        );
        let one = render_all(&diags[..1], &sources);
        assert!(!one.contains("errors"), "{one}");
    }

    #[test]
    fn syntax_error_secondary_is_kept() {
        let (_, diag) = syntax_diag("s.omni", "(a]");
        assert_eq!(diag.span, Span::new(0, 2, 3));
        assert_eq!(diag.secondary[0].0, Span::new(0, 0, 1));
    }
}
