//! The core AST: special forms desugared, every name resolved to a local, a
//! global or a runtime primitive.

use crate::syntax::{Datum, Span};
use std::fmt;
use std::sync::Arc;

/// A local variable, unique in the whole program.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LocalId(pub u32);

/// A global variable (top-level `define`, prelude or program).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GlobalId(pub u32);

#[derive(Debug, Clone)]
pub struct LocalInfo {
    pub name: String,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct GlobalInfo {
    pub name: String,
    /// Number of top-level `define`s of this name.
    pub definitions: u32,
    /// Assigned with `set!` somewhere.
    pub assigned: bool,
}

/// The expanded program: global table, local table and the top-level forms
/// in order (prelude first).
#[derive(Debug, Clone, Default)]
pub struct Program {
    /// The program's top-level forms (the prelude's left out) after macro
    /// expansion, for `--dump-expanded` (empty unless asked for:
    /// `expand_program_keeping`).
    pub expanded: Vec<crate::syntax::Datum>,
    pub globals: Vec<GlobalInfo>,
    /// Per struct field name: whether every struct type declaring a field
    /// of that name declares it `{Float}` among its first 64 fields (a raw
    /// Float slot at run time, `heap/types.rs`). CTRR needs no store
    /// constraint for a `put!` into such a field (`ir::Program::raw_float_fields`).
    pub field_rawness: std::collections::HashMap<String, bool>,
    /// The union of the raw Float masks of every struct type: bit `i` set
    /// when some struct's field `i` is a raw Float slot. With
    /// `field_rawness`, lowering leaves the allocation site out of a `get`
    /// or `%struct-ref` that can never read a raw slot.
    pub raw_float_indexes: u64,
    /// The field names some struct type declares as a raw Float slot.
    pub raw_float_names: std::collections::HashSet<String>,
    pub locals: Vec<LocalInfo>,
    pub body: Vec<Expr>,
}

#[derive(Debug, Clone)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Lambda {
    pub name: Option<String>,
    pub params: Vec<LocalId>,
    pub rest: Option<LocalId>,
    pub body: Expr,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum Literal {
    Int(i64),
    Float(f64),
    Str(String),
    Char(char),
    Bool(bool),
    Nothing,
    Nil,
}

#[derive(Debug, Clone)]
pub enum ExprKind {
    Lit(Literal),
    /// `(quote d)`: a constant structure.
    Quote(Datum),
    Local(LocalId),
    Global(GlobalId),
    /// A runtime primitive used as a value.
    PrimRef(String),
    Lambda(Arc<Lambda>),
    Call(Box<Expr>, Vec<Expr>),
    /// A direct call of a runtime primitive (name not shadowed).
    PrimCall(String, Vec<Expr>),
    If(Box<Expr>, Box<Expr>, Box<Expr>),
    /// Bindings evaluated in order in the outer scope, then the body.
    Let(Vec<(LocalId, Expr)>, Box<Expr>),
    /// letrec*: bindings visible in every init and the body, initialised in order.
    Letrec(Vec<(LocalId, Expr)>, Box<Expr>),
    Seq(Vec<Expr>),
    SetLocal(LocalId, Box<Expr>),
    SetGlobal(GlobalId, Box<Expr>),
    /// Top-level `define`.
    DefineGlobal(GlobalId, Box<Expr>),
    /// `[a b c]` in expression position.
    MakeArray(Vec<Expr>),
    /// `#{k v ...}`: keys and values alternate.
    MakeDict(Vec<Expr>),
}

impl Expr {
    pub fn new(kind: ExprKind, span: Span) -> Expr {
        Expr { kind, span }
    }
    pub fn nothing(span: Span) -> Expr {
        Expr::new(ExprKind::Lit(Literal::Nothing), span)
    }
}

impl Program {
    fn local_name(&self, l: LocalId) -> String {
        format!("{}#{}", self.locals[l.0 as usize].name, l.0)
    }
    fn write_expr(&self, e: &Expr, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |f: &mut fmt::Formatter<'_>, head: &str, xs: &[Expr]| -> fmt::Result {
            write!(f, "({head}")?;
            for x in xs {
                write!(f, " ")?;
                self.write_expr(x, f)?;
            }
            write!(f, ")")
        };
        match &e.kind {
            ExprKind::Lit(l) => match l {
                Literal::Int(n) => write!(f, "{n}"),
                Literal::Float(x) => write!(f, "{x:?}"),
                Literal::Str(s) => write!(f, "{s:?}"),
                Literal::Char(c) => write!(f, "#\\{c}"),
                Literal::Bool(b) => write!(f, "{b}"),
                Literal::Nothing => write!(f, "nothing"),
                Literal::Nil => write!(f, "()"),
            },
            ExprKind::Quote(d) => write!(f, "(quote {d})"),
            ExprKind::Local(l) => write!(f, "{}", self.local_name(*l)),
            ExprKind::Global(g) => write!(f, "{}", self.globals[g.0 as usize].name),
            ExprKind::PrimRef(p) => write!(f, "%prim:{p}"),
            ExprKind::Lambda(lam) => {
                write!(f, "(fn")?;
                if let Some(n) = &lam.name {
                    write!(f, " :name {n}")?;
                }
                write!(f, " [")?;
                for (i, p) in lam.params.iter().enumerate() {
                    if i > 0 {
                        write!(f, " ")?;
                    }
                    write!(f, "{}", self.local_name(*p))?;
                }
                if let Some(r) = lam.rest {
                    write!(f, " .. {}", self.local_name(r))?;
                }
                write!(f, "] ")?;
                self.write_expr(&lam.body, f)?;
                write!(f, ")")
            }
            ExprKind::Call(callee, args) => {
                write!(f, "(")?;
                self.write_expr(callee, f)?;
                for a in args {
                    write!(f, " ")?;
                    self.write_expr(a, f)?;
                }
                write!(f, ")")
            }
            ExprKind::PrimCall(p, args) => list(f, &format!("%prim:{p}"), args),
            ExprKind::If(c, t, e) => list(f, "if", &[(**c).clone(), (**t).clone(), (**e).clone()]),
            ExprKind::Let(bs, body) | ExprKind::Letrec(bs, body) => {
                let head = if matches!(e.kind, ExprKind::Let(..)) {
                    "let"
                } else {
                    "letrec*"
                };
                write!(f, "({head} (")?;
                for (i, (l, init)) in bs.iter().enumerate() {
                    if i > 0 {
                        write!(f, " ")?;
                    }
                    write!(f, "[{} ", self.local_name(*l))?;
                    self.write_expr(init, f)?;
                    write!(f, "]")?;
                }
                write!(f, ") ")?;
                self.write_expr(body, f)?;
                write!(f, ")")
            }
            ExprKind::Seq(xs) => list(f, "do", xs),
            ExprKind::SetLocal(l, v) => {
                write!(f, "(set! {} ", self.local_name(*l))?;
                self.write_expr(v, f)?;
                write!(f, ")")
            }
            ExprKind::SetGlobal(g, v) | ExprKind::DefineGlobal(g, v) => {
                let head = if matches!(e.kind, ExprKind::SetGlobal(..)) {
                    "set!"
                } else {
                    "define"
                };
                write!(f, "({head} {} ", self.globals[g.0 as usize].name)?;
                self.write_expr(v, f)?;
                write!(f, ")")
            }
            ExprKind::MakeArray(xs) => list(f, "%array", xs),
            ExprKind::MakeDict(xs) => list(f, "%dict", xs),
        }
    }
}

impl fmt::Display for Program {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for e in &self.body {
            self.write_expr(e, f)?;
            writeln!(f)?;
        }
        Ok(())
    }
}
