//! `omnic fmt`: the source formatter.
//!
//! [`format_source`] reads the text with the reader first (a file that does
//! not read is an error, never rewritten), builds a concrete syntax tree
//! that keeps every comment and the author's line breaks (`cst.rs`), and
//! prints it in the style of docs/STYLE.md: width 100, a form that fits
//! stays on one line, line breaks the author wrote are kept, body forms
//! indent their body 2, calls align their arguments under the first one.
//! Only whitespace changes: before answering, the result is checked to
//! lex to the same tokens and comments as the input.

mod cst;

use crate::syntax::lexer::tokenize;
use crate::syntax::{read_program, SyntaxError};
use cst::{needs_space, width, Comment, Elem, Item, Node, Seg, Seq};

/// The line width the formatter keeps to (a line grows past it only when
/// one atom, comment or unbreakable run is longer).
pub const WIDTH: usize = 100;

/// The deepest indentation. Past it, deeper forms stay at this column: an
/// indentation growing with the depth would make a program nested 50,000
/// levels deep (the reader accepts 100,000) gigabytes of spaces.
pub const MAX_INDENT: usize = WIDTH;

#[derive(Debug)]
pub enum FmtError {
    /// The source does not read: the reader's error.
    Read(SyntaxError),
    /// The formatter would have changed more than whitespace (a bug in
    /// the formatter; the file is left alone).
    Internal(String),
}

/// The formatted text of `src`.
pub fn format_source(src: &str) -> Result<String, FmtError> {
    read_program(src, 0).map_err(FmtError::Read)?;
    let file =
        cst::parse(src).ok_or_else(|| FmtError::Internal("the token tree did not build".into()))?;
    let mut p = Printer::default();
    p.file(&file.items);
    let out = p.out;
    check_same_text(src, &out)?;
    Ok(out)
}

/// The formatter's promise: the output lexes to the same tokens, has the
/// same comments, and still reads.
fn check_same_text(src: &str, out: &str) -> Result<(), FmtError> {
    let same_tokens = match (tokenize(src), tokenize(out)) {
        (Ok(a), Ok(b)) => {
            a.len() == b.len()
                && a.iter()
                    .zip(&b)
                    .all(|(x, y)| x.1 == y.1 && src[x.0..x.2] == out[y.0..y.2])
        }
        _ => false,
    };
    if !same_tokens {
        return Err(FmtError::Internal(
            "formatting would change the tokens of the file".into(),
        ));
    }
    if comments_of(src) != comments_of(out) {
        return Err(FmtError::Internal(
            "formatting would change the comments of the file".into(),
        ));
    }
    if let Err(e) = read_program(out, 0) {
        return Err(FmtError::Internal(format!(
            "the formatted text does not read: {}",
            e.message
        )));
    }
    Ok(())
}

fn comments_of(src: &str) -> Vec<String> {
    fn walk(items: &[Item], out: &mut Vec<String>) {
        for it in items {
            match &it.elem {
                Elem::Comment(c) => out.push(c.text.clone()),
                Elem::Datum(d) => walk_node(d, out),
            }
        }
    }
    fn walk_node(node: &Node, out: &mut Vec<String>) {
        match node {
            Node::Atom { .. } => {}
            Node::Seq(s) => walk(&s.items, out),
            Node::Prefix {
                comments, inner, ..
            } => {
                out.extend(comments.iter().map(|c| c.text.clone()));
                walk_node(inner, out);
            }
            Node::Path { base, segs } => {
                walk_node(base, out);
                for seg in segs {
                    if let Seg::Index(s) = seg {
                        walk(&s.items, out);
                    }
                }
            }
        }
    }
    let mut out = Vec::new();
    if let Some(file) = cst::parse(src) {
        walk(&file.items, &mut out);
    }
    out
}

/// How a broken sequence places its elements (see docs/STYLE.md).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Shape {
    /// A call: the first argument on the head's line, the others aligned
    /// under it. `all_own_lines` (`cond`): every argument after the first
    /// on its own line.
    Call { all_own_lines: bool },
    /// A body form: the head and `header` elements after it on the first
    /// line (aligned under the first when they do not fit), then the body
    /// indented 2, one form per line. `pairs`: the body alternates two
    /// elements (match clauses), a pair per line. `header_own_lines`: a
    /// broken header puts one element per line (let bindings). `fill`: the
    /// body after its first line fills lines (struct fields).
    Body {
        header: usize,
        pairs: bool,
        header_own_lines: bool,
        fill: bool,
    },
    /// Data (vectors, annotations, dicts, quoted lists): elements aligned
    /// under the first, filling lines. `pairs`: a dict, a key-value pair
    /// per line.
    Data { pairs: bool },
}

fn is_meta(node: &Node) -> bool {
    matches!(node, Node::Atom { text, .. } if text.starts_with("^:"))
}

fn is_list(node: &Node) -> bool {
    matches!(node, Node::Seq(s) if s.open == "(")
}

fn head_symbol(node: &Node) -> Option<&str> {
    match node {
        Node::Atom { text, symbol: true } => Some(text),
        _ => None,
    }
}

/// The shape of a sequence; `quoted` inside `'` or `` ` `` data, `clause`
/// a handler clause of `handle` (`(effect [params] body ...)`).
fn shape_of(seq: &Seq, quoted: bool, clause: bool) -> Shape {
    let datums: Vec<&Node> = seq.datums().collect();
    match seq.open {
        "(" if clause && datums.len() > 2 => {
            return Shape::Body {
                header: 1,
                pairs: false,
                header_own_lines: false,
                fill: false,
            }
        }
        "(" => {}
        "#{" => return Shape::Data { pairs: true },
        _ => return Shape::Data { pairs: false },
    }
    let Some(head) = datums.first() else {
        return Shape::Data { pairs: false };
    };
    if quoted {
        return Shape::Data { pairs: false };
    }
    let args = &datums[1..];
    // Leading elements that are not lists, keeping at least one for the body.
    let leading = |from: usize, take: &dyn Fn(&Node) -> bool| {
        let mut i = from;
        while i + 1 < args.len() && take(args[i]) {
            i += 1;
        }
        i
    };
    let body = |header: usize| Shape::Body {
        header,
        pairs: false,
        header_own_lines: false,
        fill: false,
    };
    match head_symbol(head) {
        Some("define") => {
            // Metadata (and a kind right after it), then the name; a plain
            // name takes its parameters, annotations and return type along.
            let mut i = 0;
            while i < args.len() && is_meta(args[i]) {
                i += 1;
                if matches!(args.get(i), Some(Node::Seq(s)) if s.open == "{") && i + 1 < args.len()
                {
                    i += 1;
                }
            }
            if i >= args.len() {
                return body(args.len());
            }
            let name = args[i];
            i += 1;
            match name {
                Node::Atom { .. } => body(leading(i, &|n| !is_list(n))),
                // `{struct T}` and friends: the fields fill lines.
                Node::Seq(s) if s.open == "{" => Shape::Body {
                    header: i,
                    pairs: false,
                    header_own_lines: false,
                    fill: true,
                },
                _ => body(i),
            }
        }
        Some("fn" | "λ" | "lambda") => body(leading(0, &|n| !is_list(n))),
        Some("let" | "let*" | "letrec") => Shape::Body {
            // Binding slots (and `^:seq`); a Scheme-style binding list
            // (an error the expander explains) is one header element too.
            header: match leading(0, &|n| {
                is_meta(n) || matches!(n, Node::Seq(s) if s.open == "[")
            }) {
                0 if args.len() > 1 && is_list(args[0]) => 1,
                n => n,
            },
            pairs: false,
            header_own_lines: true,
            fill: false,
        },
        Some("match") => Shape::Body {
            header: args.len().min(1),
            pairs: true,
            header_own_lines: false,
            fill: false,
        },
        Some("module") => {
            let export = matches!(args.get(1), Some(Node::Seq(s))
                if s.open == "(" && s.datums().next().and_then(head_symbol) == Some("export"));
            body(args.len().min(1 + usize::from(export)))
        }
        Some("when" | "unless" | "while" | "handle" | "catch" | "with-region" | "dotimes") => {
            body(args.len().min(1))
        }
        Some("cond" | "if") => Shape::Call {
            all_own_lines: true,
        },
        Some(_) => Shape::Call {
            all_own_lines: false,
        },
        None if matches!(head, Node::Seq(_) | Node::Path { .. } | Node::Prefix { .. }) => {
            Shape::Call {
                all_own_lines: false,
            }
        }
        None => Shape::Data { pairs: false },
    }
}

#[derive(Default)]
struct Printer {
    out: String,
    /// Column (in chars) of the next character on the current line.
    col: usize,
    /// Inside a `'` or `` ` `` prefix: lists are data.
    quoted: usize,
    /// The next sequence is a handler clause of `handle`.
    clause: bool,
}

impl Printer {
    fn write(&mut self, text: &str) {
        self.out.push_str(text);
        match text.rfind('\n') {
            Some(i) => self.col = width(&text[i + 1..]),
            None => self.col += width(text),
        }
    }

    fn spaces(&mut self, n: usize) {
        for _ in 0..n {
            self.out.push(' ');
        }
        self.col += n;
    }

    /// A line break and the indentation, which stops growing at
    /// [`MAX_INDENT`].
    fn newline(&mut self, indent: usize, blank: bool) {
        self.out.push('\n');
        if blank {
            self.out.push('\n');
        }
        self.col = 0;
        self.spaces(indent.min(MAX_INDENT));
    }

    /// Whether `node`, starting at `col`, fits on the line with `trail`
    /// closers after it.
    fn fits(node: &Node, col: usize, trail: usize) -> bool {
        node.flat_width().is_some_and(|w| col + w + trail <= WIDTH)
    }

    fn comment(&mut self, c: &Comment) {
        self.write(&c.text);
    }

    /// The top level: each form where the author started it (on its own
    /// line, or after a one-line form before it when that fits), at most
    /// one blank line between forms, one newline at the end.
    fn file(&mut self, items: &[Item]) {
        let mut pending_newline = false;
        // The last form took more than one line.
        let mut after_multiline = false;
        for (i, item) in items.iter().enumerate() {
            let trailing_comment = matches!(item.elem, Elem::Comment(_)) && item.gap.newlines == 0;
            if i == 0 {
                // Nothing before the first item.
            } else if trailing_comment && !pending_newline {
                self.spaces(item.gap.spaces.max(1));
            } else {
                let blank = item.gap.newlines >= 2;
                let same_line = !pending_newline
                    && !after_multiline
                    && item.gap.newlines == 0
                    && match &item.elem {
                        Elem::Datum(d) => Self::fits(d, self.col + 1, 0),
                        Elem::Comment(_) => true,
                    };
                if same_line {
                    self.spaces(1);
                } else {
                    self.newline(0, blank);
                }
            }
            pending_newline = false;
            match &item.elem {
                Elem::Comment(c) => {
                    self.comment(c);
                    pending_newline = c.line;
                }
                Elem::Datum(d) => {
                    let start = self.out.len();
                    self.node(d, 0);
                    after_multiline = self.out[start..].contains('\n');
                }
            }
        }
        if !items.is_empty() {
            self.out.push('\n');
        }
    }

    fn node(&mut self, node: &Node, trail: usize) {
        match node {
            Node::Atom { text, .. } => self.write(text),
            Node::Seq(seq) => self.seq(seq, trail),
            Node::Prefix {
                mark,
                comments,
                spaced,
                inner,
            } => {
                let at = self.col;
                self.write(mark);
                for c in comments {
                    self.spaces(1);
                    self.comment(c);
                    if c.line {
                        self.newline(at + width(mark), false);
                    }
                }
                if !comments.last().is_some_and(|c| c.line)
                    && (needs_space(mark, *spaced, inner) || !comments.is_empty())
                {
                    self.spaces(1);
                }
                // Inside `'` and `` ` `` lists are data; `,` and `,@` go
                // back to code.
                let quoted = self.quoted;
                match *mark {
                    "'" | "`" => self.quoted += 1,
                    "," | ",@" => self.quoted = 0,
                    _ => {}
                }
                self.node(inner, trail);
                self.quoted = quoted;
            }
            Node::Path { base, segs } => {
                self.node(base, 0);
                for (i, seg) in segs.iter().enumerate() {
                    match seg {
                        Seg::Field(f) => self.write(f),
                        Seg::Index(seq) => {
                            let t = if i + 1 == segs.len() { trail } else { 0 };
                            self.seq(seq, t);
                        }
                    }
                }
            }
        }
    }

    fn seq(&mut self, seq: &Seq, trail: usize) {
        if let Some(w) = seq.flat_width {
            if self.col + w + trail <= WIDTH {
                self.write(seq.open);
                let mut first = true;
                for d in seq.datums() {
                    if !first {
                        self.spaces(1);
                    }
                    first = false;
                    self.node(d, 0);
                }
                self.write(seq.close);
                return;
            }
        }
        self.broken_seq(seq, trail);
    }

    /// A sequence over several lines. Each element after the first goes on
    /// a new line when the author put it there, when the shape asks for it,
    /// or when it does not fit where it is but would on a new line; else it
    /// follows on the same line.
    fn broken_seq(&mut self, seq: &Seq, trail: usize) {
        let shape = shape_of(seq, self.quoted > 0, std::mem::take(&mut self.clause));
        let handle = matches!(seq.datums().next(), Some(h) if head_symbol(h) == Some("handle"));
        // The author wrote it on one line: the formatter chooses every break
        // (see `movable` below).
        let canonical = !seq.broken;
        let open_col = self.col;
        self.write(seq.open);
        let first_col = self.col;
        let last_item = seq.items.len().saturating_sub(1);
        // Column of the first argument (element 1), once placed.
        let mut arg_col: Option<usize> = None;
        // The header of a body form is broken (let: one binding per line).
        let mut header_broken = false;
        let mut pending_newline = false;
        let mut k = 0usize; // index of the next datum
        let datums: Vec<&Node> = seq.datums().collect();
        let datum_gaps: Vec<cst::Gap> = seq
            .items
            .iter()
            .filter(|it| matches!(it.elem, Elem::Datum(_)))
            .map(|it| it.gap)
            .collect();
        let indent_for = |k: usize, arg_col: Option<usize>| -> usize {
            match shape {
                Shape::Call { .. } => match k {
                    0 => first_col,
                    1 => open_col + 2,
                    _ => arg_col.unwrap_or(open_col + 2),
                },
                Shape::Body { header, pairs, .. } => {
                    if k == 0 {
                        first_col
                    } else if k <= header {
                        if k == 1 {
                            open_col + 4
                        } else {
                            arg_col.unwrap_or(open_col + 4)
                        }
                    } else if pairs && (k - header - 1) % 2 == 1 {
                        open_col + 4
                    } else {
                        open_col + 2
                    }
                }
                Shape::Data { pairs } => {
                    if pairs && k % 2 == 1 {
                        first_col + 2
                    } else {
                        first_col
                    }
                }
            }
        };
        for (idx, item) in seq.items.iter().enumerate() {
            let node = match &item.elem {
                Elem::Comment(c) => {
                    if item.gap.newlines == 0 && !pending_newline {
                        self.spaces(item.gap.spaces.max(1));
                    } else {
                        self.newline(indent_for(k, arg_col), item.gap.newlines >= 2 && idx > 0);
                    }
                    self.comment(c);
                    pending_newline = c.line;
                    continue;
                }
                Elem::Datum(d) => d,
            };
            let i = k;
            k += 1;
            let item_trail = if idx == last_item {
                trail + width(seq.close)
            } else {
                0
            };
            let indent = indent_for(i, arg_col);
            let newline = if pending_newline {
                true
            } else if i == 0 {
                false
            } else {
                let forced = match shape {
                    Shape::Call { all_own_lines } => all_own_lines && i >= 2,
                    Shape::Body {
                        header,
                        pairs,
                        header_own_lines,
                        fill,
                    } => {
                        if i > header {
                            let k = i - header - 1;
                            if fill {
                                k == 0
                            } else {
                                !pairs || k.is_multiple_of(2)
                            }
                        } else {
                            // Metadata stays with the binding after it.
                            header_own_lines && header_broken && i >= 2 && !is_meta(datums[i - 1])
                        }
                    }
                    Shape::Data { pairs } => pairs && i.is_multiple_of(2),
                };
                // Written on one line by the author, a call argument or a
                // match result that does not fit moves to a new line even
                // if it still does not fit there (it breaks inside, further
                // left).
                let fits_here = Self::fits(node, self.col + 1, item_trail);
                let fits_below = Self::fits(node, indent, item_trail);
                let movable = match shape {
                    Shape::Call { .. } => i >= 2,
                    Shape::Body { header, pairs, .. } => {
                        pairs && i > header && (i - header - 1) % 2 == 1
                    }
                    Shape::Data { .. } => false,
                };
                forced
                    || item.gap.newlines > 0
                    || (!fits_here && (fits_below || (canonical && movable && indent < self.col)))
            };
            if newline {
                self.newline(indent, item.gap.newlines >= 2);
            } else if i > 0 {
                // Alignment spaces the author put between a match pattern
                // and its result, or a dict key and its value, are kept.
                let aligned = match shape {
                    Shape::Body { header, pairs, .. } => {
                        pairs && i > header && (i - header - 1) % 2 == 1
                    }
                    Shape::Data { pairs } => pairs && i % 2 == 1,
                    Shape::Call { .. } => false,
                };
                let n = if aligned && item.gap.newlines == 0 {
                    item.gap.spaces.max(1)
                } else {
                    1
                };
                self.spaces(n);
            }
            pending_newline = false;
            // The first argument's column; a let's bindings align under the
            // first binding, not under its `^:seq`.
            let meta_first = i == 2 && is_meta(datums[1]) && matches!(shape, Shape::Body { .. });
            if i == 1 || meta_first {
                arg_col = Some(self.col);
            }
            if i == 1 {
                if let Shape::Body {
                    header,
                    header_own_lines: true,
                    ..
                } = shape
                {
                    // The header fits on this line only if all of it does.
                    let mut col = self.col;
                    for (j, d) in datums.iter().enumerate().take(header + 1).skip(1) {
                        col += d.flat_width().unwrap_or(WIDTH + 1) + usize::from(j > 1);
                    }
                    header_broken = col > WIDTH
                        || datum_gaps
                            .iter()
                            .take(header + 1)
                            .skip(2)
                            .any(|g| g.newlines > 0);
                }
            }
            // The clauses of `handle` after its body expression.
            self.clause = handle && i >= 2;
            self.node(node, item_trail);
            self.clause = false;
        }
        if pending_newline {
            self.newline(indent_for(k, arg_col), false);
        }
        self.write(seq.close);
    }
}

#[cfg(test)]
mod tests;
