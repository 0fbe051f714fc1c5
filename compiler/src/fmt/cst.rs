//! The formatter's concrete syntax tree: the reader's tokens grouped by
//! their brackets, with everything the reader drops kept — comments (line
//! and block), the author's line breaks and blank lines, the spaces before
//! a comment or an aligned element, and every token's exact text (numbers,
//! strings and characters as written).
//!
//! Built from [`tokenize`]: the text between two tokens holds only
//! whitespace and comments, so it is scanned here for them. The input must
//! already read cleanly (the caller checks with the reader), so brackets
//! match and paths touch their base.

use crate::syntax::lexer::{tokenize, Spanned, Token};

/// The whitespace before an element: line breaks, and the spaces on its
/// own line before it (for alignment columns and trailing comments).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Gap {
    pub newlines: usize,
    pub spaces: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Comment {
    pub text: String,
    /// A `;` comment runs to the end of its line: something must follow
    /// it on a new line. A `#| |#` block comment does not.
    pub line: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Elem {
    Datum(Node),
    Comment(Comment),
}

/// An element of a sequence (or of the file) with the whitespace before it.
#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    pub gap: Gap,
    pub elem: Elem,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    /// One token, as written. `symbol` tells a symbol (a possible form
    /// head) from literals, keywords and metadata.
    Atom {
        text: String,
        symbol: bool,
    },
    Seq(Seq),
    /// `'x`, `` `x ``, `,x`, `,@x`, `#_x`, with any comments written
    /// between the mark and its datum.
    Prefix {
        mark: &'static str,
        comments: Vec<Comment>,
        /// The author left whitespace after the mark (kept for `#_ x`).
        spaced: bool,
        inner: Box<Node>,
    },
    /// `a.b.[i]`: a datum and the segments touching it.
    Path {
        base: Box<Node>,
        segs: Vec<Seg>,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub enum Seg {
    Field(String),
    /// `.[ ... ]`, kept as a sequence opened by `.[`.
    Index(Seq),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Seq {
    pub open: &'static str,
    pub close: &'static str,
    pub items: Vec<Item>,
    /// The source has a line break or a comment somewhere inside (so the
    /// sequence cannot be laid out on one line, and the author's breaks are
    /// kept).
    pub broken: bool,
    /// The width on one line, when it has no breaks and no multi-line atom.
    pub flat_width: Option<usize>,
}

/// The whole file: its top-level items and the whitespace/comments after
/// the last datum.
pub struct File {
    pub items: Vec<Item>,
}

pub fn width(text: &str) -> usize {
    text.chars().count()
}

impl Node {
    /// The source had a line break or comment inside this datum.
    pub fn broken(&self) -> bool {
        match self {
            Node::Atom { text, .. } => text.contains('\n'),
            Node::Seq(s) => s.broken,
            Node::Prefix {
                comments, inner, ..
            } => !comments.is_empty() || inner.broken(),
            Node::Path { base, segs } => {
                base.broken()
                    || segs.iter().any(|s| match s {
                        Seg::Field(_) => false,
                        Seg::Index(seq) => seq.broken,
                    })
            }
        }
    }

    /// The width on one line, or `None` when it cannot be one line.
    pub fn flat_width(&self) -> Option<usize> {
        match self {
            Node::Atom { text, .. } => (!text.contains('\n')).then(|| width(text)),
            Node::Seq(s) => s.flat_width,
            Node::Prefix {
                mark,
                comments,
                spaced,
                inner,
            } => {
                if !comments.is_empty() {
                    return None;
                }
                let space = usize::from(needs_space(mark, *spaced, inner));
                Some(width(mark) + space + inner.flat_width()?)
            }
            Node::Path { base, segs } => {
                let mut w = base.flat_width()?;
                for seg in segs {
                    w += match seg {
                        Seg::Field(f) => width(f),
                        Seg::Index(seq) => seq.flat_width?,
                    };
                }
                Some(w)
            }
        }
    }

    /// The first character the node prints.
    fn first_char(&self) -> Option<char> {
        match self {
            Node::Atom { text, .. } => text.chars().next(),
            Node::Seq(s) => s.open.chars().next(),
            Node::Prefix { mark, .. } => mark.chars().next(),
            Node::Path { base, .. } => base.first_char(),
        }
    }
}

/// Whether a space follows a prefix mark: `, @x` must keep its space
/// (`,@x` would read as unquote-splicing), and `#_ x` keeps the one the
/// author wrote (a skipped form reads better apart); other marks touch
/// their datum.
pub fn needs_space(mark: &str, spaced: bool, inner: &Node) -> bool {
    (mark == "," && inner.first_char() == Some('@')) || (mark == "#_" && spaced)
}

impl Seq {
    fn new(open: &'static str, close: &'static str, items: Vec<Item>, close_gap: Gap) -> Seq {
        let broken = close_gap.newlines > 0
            || items.iter().any(|it| {
                it.gap.newlines > 0
                    || match &it.elem {
                        Elem::Comment(_) => true,
                        Elem::Datum(d) => d.broken(),
                    }
            });
        let flat_width = if broken {
            None
        } else {
            let mut w = width(open) + width(close);
            let mut ok = true;
            for (i, it) in items.iter().enumerate() {
                if let Elem::Datum(d) = &it.elem {
                    match d.flat_width() {
                        Some(dw) => w += dw + usize::from(i > 0),
                        None => ok = false,
                    }
                }
            }
            ok.then_some(w)
        };
        Seq {
            open,
            close,
            items,
            broken,
            flat_width,
        }
    }

    /// The datums, without comments.
    pub fn datums(&self) -> impl Iterator<Item = &Node> {
        self.items.iter().filter_map(|it| match &it.elem {
            Elem::Datum(d) => Some(d),
            Elem::Comment(_) => None,
        })
    }
}

struct Builder<'s> {
    src: &'s str,
    toks: Vec<Spanned>,
    pos: usize,
    /// Where the text not yet consumed starts.
    last_end: usize,
}

/// Builds the tree of `src`, which must read without error.
pub fn parse(src: &str) -> Option<File> {
    let toks = tokenize(src).ok()?;
    let mut b = Builder {
        src,
        toks,
        pos: 0,
        last_end: 0,
    };
    let mut items = Vec::new();
    while b.pos < b.toks.len() {
        let (comments, gap) = b.gap(b.toks[b.pos].0);
        items.extend(comments);
        let node = b.node()?;
        items.push(Item {
            gap,
            elem: Elem::Datum(node),
        });
    }
    let (comments, _) = b.gap(src.len());
    items.extend(comments);
    Some(File { items })
}

impl Builder<'_> {
    /// The comments in `src[last_end..upto]`, each with the whitespace
    /// before it, and the whitespace after the last one.
    fn gap(&mut self, upto: usize) -> (Vec<Item>, Gap) {
        let text = &self.src[self.last_end..upto];
        self.last_end = upto;
        let mut items = Vec::new();
        let mut gap = Gap::default();
        let mut rest = text;
        while let Some(c) = rest.chars().next() {
            if c == '\n' {
                gap.newlines += 1;
                gap.spaces = 0;
                rest = &rest[1..];
            } else if c == ';' {
                let end = rest.find('\n').unwrap_or(rest.len());
                items.push(Item {
                    gap,
                    elem: Elem::Comment(Comment {
                        text: rest[..end].trim_end().to_string(),
                        line: true,
                    }),
                });
                gap = Gap::default();
                rest = &rest[end..];
            } else if rest.starts_with("#|") {
                let end = block_comment_end(rest);
                items.push(Item {
                    gap,
                    elem: Elem::Comment(Comment {
                        text: rest[..end].to_string(),
                        line: false,
                    }),
                });
                gap = Gap::default();
                rest = &rest[end..];
            } else {
                // Whitespace (the lexer skips exactly `\s`); a carriage
                // return belongs to the line break it precedes.
                if c != '\r' {
                    gap.spaces += 1;
                }
                rest = &rest[c.len_utf8()..];
            }
        }
        (items, gap)
    }

    fn node(&mut self) -> Option<Node> {
        let (start, tok, end) = self.toks.get(self.pos)?.clone();
        let mut node = match tok {
            Token::LParen => Node::Seq(self.seq("(", ")")?),
            Token::LBracket => Node::Seq(self.seq("[", "]")?),
            Token::LBrace => Node::Seq(self.seq("{", "}")?),
            Token::HashBrace => Node::Seq(self.seq("#{", "}")?),
            Token::Quote
            | Token::Quasiquote
            | Token::Unquote
            | Token::UnquoteSplicing
            | Token::DatumComment => {
                let mark = match tok {
                    Token::Quote => "'",
                    Token::Quasiquote => "`",
                    Token::Unquote => ",",
                    Token::UnquoteSplicing => ",@",
                    _ => "#_",
                };
                self.pos += 1;
                self.last_end = end;
                let next = self.toks.get(self.pos)?.0;
                let (comments, _) = self.gap(next);
                let spaced = end != next && comments.is_empty();
                let comments = comments
                    .into_iter()
                    .filter_map(|it| match it.elem {
                        Elem::Comment(c) => Some(c),
                        Elem::Datum(_) => None,
                    })
                    .collect();
                let inner = self.node()?;
                return Some(Node::Prefix {
                    mark,
                    comments,
                    spaced,
                    inner: Box::new(inner),
                });
            }
            _ => {
                self.pos += 1;
                self.last_end = end;
                Node::Atom {
                    text: self.src[start..end].to_string(),
                    symbol: matches!(tok, Token::Sym(_)),
                }
            }
        };
        // Path segments touch the datum before them.
        let mut segs = Vec::new();
        while let Some((s, tok, e)) = self.toks.get(self.pos).cloned() {
            if s != self.last_end {
                break;
            }
            match tok {
                Token::Field(_) => {
                    segs.push(Seg::Field(self.src[s..e].to_string()));
                    self.pos += 1;
                    self.last_end = e;
                }
                Token::IndexOpen => segs.push(Seg::Index(self.seq(".[", "]")?)),
                _ => break,
            }
        }
        if !segs.is_empty() {
            node = Node::Path {
                base: Box::new(node),
                segs,
            };
        }
        Some(node)
    }

    /// A bracketed sequence; `pos` is at its opener.
    fn seq(&mut self, open: &'static str, close: &'static str) -> Option<Seq> {
        self.last_end = self.toks[self.pos].2;
        self.pos += 1;
        let mut items = Vec::new();
        loop {
            let (start, tok, end) = self.toks.get(self.pos)?.clone();
            let (comments, gap) = self.gap(start);
            items.extend(comments);
            if matches!(tok, Token::RParen | Token::RBracket | Token::RBrace) {
                self.pos += 1;
                self.last_end = end;
                return Some(Seq::new(open, close, items, gap));
            }
            let node = self.node()?;
            items.push(Item {
                gap,
                elem: Elem::Datum(node),
            });
        }
    }
}

/// The length of the nested block comment at the start of `text`.
fn block_comment_end(text: &str) -> usize {
    let b = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < b.len() {
        if b[i..].starts_with(b"#|") {
            depth += 1;
            i += 2;
        } else if b[i..].starts_with(b"|#") {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    b.len()
}
