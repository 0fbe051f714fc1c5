//! The IR: A-normal form, closure-converted, with every allocation an explicit
//! site.
//!
//! `lower` (in `lower.rs`) produces it from the expander's core AST; the CTRR
//! pass annotates allocation sites with regions; codegen turns it into
//! Cranelift IR. The IR is structured (nested blocks, no arbitrary CFG):
//! every operand is an [`Atom`], every computation is a [`Stmt`] that binds at
//! most one variable, and every block ends in a [`Tail`].
//!
//! Calling convention (see `docs/ARCHITECTURE.md`): every OmniLisp function is
//! compiled to `code(env, region, a1..an[, rest]) -> value` with Cranelift's
//! `tail` convention, where `env` is the closure object (or 0 when the function
//! has no free variables and is called directly) and `region` is the hidden
//! result region the caller supplies.

pub mod dead_defs;
pub mod inline;
pub mod int_params;
pub mod lower;
pub mod print;
pub mod verify;
pub mod visit;

use crate::syntax::Span;
pub use omni_runtime::prims::PrimId;
use omni_runtime::value::Value;
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VarId(pub u32);
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FuncId(pub u32);
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GlobalId(pub u32);
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConstId(pub u32);
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AllocSiteId(pub u32);
/// Index into [`Program::locs`]; 0 means "no location".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct LocId(pub u32);

/// A whole program after lowering.
#[derive(Debug, Clone)]
pub struct Program {
    pub functions: Vec<Function>,
    pub globals: Vec<Global>,
    pub consts: Vec<Const>,
    pub alloc_sites: Vec<AllocSite>,
    /// The struct field names that are raw Float slots in every struct type
    /// that declares them (`ast::Program::field_rawness`): a `put!` with
    /// such a literal key stores a Float's bits, never the object, so CTRR
    /// adds no store constraint for it (a dict with such a key still gets
    /// its value through the store barrier).
    pub raw_float_fields: std::collections::HashSet<String>,
    /// Source locations, `locs[0]` is the "unknown" location.
    pub locs: Vec<SourceLoc>,
    /// The entry function, `(env, region) -> value`: creates the wrapper
    /// closures of primitives used as values, then calls every top-level form's
    /// function in order.
    pub entry: FuncId,
}

#[derive(Debug, Clone)]
pub struct SourceLoc {
    pub file: String,
    pub line: u32,
    pub col: u32,
    /// Set on the copy of a location inside an inlined body (`inline.rs`):
    /// which function was inlined and where it was called, so that call
    /// stacks still show its frame.
    pub inlined: Option<InlinedAt>,
}

/// Where the code at a location was inlined: the inlined function and the
/// location of the call it replaced (itself possibly inside an inlined
/// body).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InlinedAt {
    pub func: FuncId,
    pub call: LocId,
}

#[derive(Debug, Clone)]
pub struct Global {
    pub name: String,
    /// Every value ever stored in it is an Int (`int_params.rs`, whole
    /// programs only): it never points into a version of the global state,
    /// so CTRR neither pins nor holds what is read from it.
    pub int_only: bool,
}

/// Constants live in one global slot each, initialised once at program start
/// (in the global region) before the entry function runs.
#[derive(Debug, Clone, PartialEq)]
pub enum Const {
    Str(String),
    Float(f64),
    Symbol(String),
    /// A quoted structure (list, array, dict, nested) built at start-up.
    Datum(QuotedDatum),
}

/// A quoted datum, independent of the syntax tree.
#[derive(Debug, Clone, PartialEq)]
pub enum QuotedDatum {
    Imm(Value),
    Float(f64),
    Str(String),
    Symbol(String),
    List(Vec<QuotedDatum>),
    Array(Vec<QuotedDatum>),
    Dict(Vec<(QuotedDatum, QuotedDatum)>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FunctionKind {
    /// A `fn`/`define` from the program or the prelude.
    User,
    /// The program's entry: calls the top-level forms in order.
    Entry,
    /// One top-level form of the program, run once by the entry with the
    /// global region as its result region.
    TopLevel,
    /// A closure wrapping a runtime primitive used as a first-class value.
    /// `apply_list`: a variadic primitive whose two-operand form is an
    /// inline op (`+`, `<`, ...). The wrapper's `code` then takes exactly
    /// two arguments and runs the inline op, so `(foldl + 0 xs)` calls it
    /// directly with no argument list; its `apply` entry (every other
    /// argument count, and `apply`) hands the whole list to this primitive.
    PrimWrapper {
        apply_list: Option<omni_runtime::prims::PrimId>,
    },
    /// The body of a self-tail-recursive function that carries allocated
    /// data from one iteration to the next, with the loop's carry region and
    /// its renewal limit as two leading parameters (CTRR `carry.rs`); the
    /// function itself became a stub that starts the loop.
    CarryLoop,
}

#[derive(Debug, Clone)]
pub struct Function {
    pub id: FuncId,
    /// Display name (`#<fn name>`), e.g. `make-counter` or `lambda`.
    pub name: String,
    pub kind: FunctionKind,
    pub params: Vec<VarId>,
    pub rest: Option<VarId>,
    /// Number of free variables captured in the closure (read with `Op::EnvGet`).
    pub nfree: u32,
    /// Number of local variables (`VarId`s are `0..nvars`).
    pub nvars: u32,
    pub body: Block,
    pub loc: LocId,
}

impl Function {
    pub fn arity(&self) -> usize {
        self.params.len()
    }
}

#[derive(Debug, Clone)]
pub struct Block {
    pub stmts: Vec<Stmt>,
    pub tail: Tail,
}

/// One computation; binds `var` to its result when present.
#[derive(Debug, Clone)]
pub struct Stmt {
    pub var: Option<VarId>,
    pub op: Op,
    pub loc: LocId,
}

/// An operand: cheap, pure, never fails.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Atom {
    Var(VarId),
    /// An immediate tagged word (Int, Bool, nothing, `()`, Char).
    Imm(Value),
    /// The value of a constant slot (string, float, symbol, quoted datum).
    Const(ConstId),
    /// The current function's own closure (its `env` parameter).
    SelfClosure,
}

/// Operations the code generator expands inline, with a fast path for
/// fixnums/pairs and a call to the named runtime primitive as slow path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InlineOp {
    /// `+`, slow path `%add`.
    Add,
    /// `-`, slow path `%sub`.
    Sub,
    /// `*`, slow path `%mul`.
    Mul,
    /// `/` (truncating on two Ints; Floats divide inline), slow path `%div`
    /// (a zero or -1 divisor, non-numbers).
    Div,
    /// `quot` (truncating), slow path `quot` (Floats, a zero or -1 divisor).
    Quot,
    /// `rem` (the sign of the dividend), slow path `rem`.
    Rem,
    /// `mod` (floored: the sign of the divisor), slow path `mod`.
    Mod,
    /// `<`, slow path `%lt`.
    Lt,
    /// `>`, slow path `%gt`.
    Gt,
    /// `<=`, slow path `%le`.
    Le,
    /// `>=`, slow path `%ge`.
    Ge,
    /// `=`, slow path `%numeq`.
    NumEq,
    /// `!=`, slow path `%numne`.
    NumNe,
    /// `car`, slow path `car` (which raises the type error).
    Car,
    /// `cdr`, slow path `cdr`.
    Cdr,
    /// `array-ref`, slow path `array-ref` (forwarded arrays, a non-array, a
    /// non-fixnum or out-of-range index).
    ArrayRef,
    /// `string-length`, slow path `string-length`.
    StringLength,
    /// `string-ref` on an ASCII string (its char count equals its byte
    /// count), slow path `string-ref` (any other string, errors).
    StringRef,
    /// `char->int`, slow path `char->int` (a non-char).
    CharToInt,
    /// `int->char` of an Int below the surrogates (0 .. #xD7FF), slow path
    /// `int->char` (the other scalar values, errors).
    IntToChar,
    /// `not`: no slow path.
    Not,
    /// `eq?`: identity of words, no slow path.
    Eq,
    /// `empty?` / `null?` on a list: `()` test, no slow path.
    IsNil,
    /// `pair?`, slow path `pair?` (a forwarded original).
    IsPair,
    /// `string?`, slow path `string?` (a forwarded original).
    IsString,
    /// `symbol?`, slow path `symbol?`.
    IsSymbol,
    /// `array?`, slow path `array?`.
    IsArray,
    /// `dict?`, slow path `dict?`.
    IsDict,
    /// `float?`, slow path `float?`.
    IsFloat,
    /// `int?`: a tag test, no slow path.
    IsInt,
    /// `char?`: a tag test, no slow path.
    IsChar,
}

/// How a variadic call of an inline op with more operands than its arity is
/// lowered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InlineFold {
    /// Only the exact arity is inlined; other counts call the primitive.
    None,
    /// Three or more operands are folded left (`(- a b c)` is `(- (- a b) c)`);
    /// none is the primitive's own error.
    Left,
    /// Folded left as [`InlineFold::Left`], and with no operand the call is
    /// this fixnum (the operation's identity).
    LeftWithIdentity(i64),
}

/// One primitive the lowering expands inline instead of calling.
#[derive(Debug, Clone, Copy)]
pub struct InlineOpDesc {
    /// The primitive's OmniLisp name.
    pub name: &'static str,
    pub op: InlineOp,
    /// The operand count expanded inline.
    pub argc: usize,
    /// The runtime primitive called when the fast path does not apply (a
    /// non-fixnum or non-pair operand); `None`: the op never leaves the fast
    /// path.
    pub slow_path: Option<&'static str>,
    pub fold: InlineFold,
}

/// The one table of inline ops: the lowering reads names from it, codegen
/// reads slow paths and arities. No primitive name is matched elsewhere.
pub const INLINE_OPS: &[InlineOpDesc] = &[
    inline_op(
        "+",
        InlineOp::Add,
        2,
        Some("%add"),
        InlineFold::LeftWithIdentity(0),
    ),
    inline_op("-", InlineOp::Sub, 2, Some("%sub"), InlineFold::Left),
    inline_op(
        "*",
        InlineOp::Mul,
        2,
        Some("%mul"),
        InlineFold::LeftWithIdentity(1),
    ),
    inline_op("/", InlineOp::Div, 2, Some("%div"), InlineFold::Left),
    inline_op("quot", InlineOp::Quot, 2, Some("quot"), InlineFold::None),
    inline_op("rem", InlineOp::Rem, 2, Some("rem"), InlineFold::None),
    inline_op("mod", InlineOp::Mod, 2, Some("mod"), InlineFold::None),
    inline_op("<", InlineOp::Lt, 2, Some("%lt"), InlineFold::None),
    inline_op(">", InlineOp::Gt, 2, Some("%gt"), InlineFold::None),
    inline_op("<=", InlineOp::Le, 2, Some("%le"), InlineFold::None),
    inline_op(">=", InlineOp::Ge, 2, Some("%ge"), InlineFold::None),
    inline_op("=", InlineOp::NumEq, 2, Some("%numeq"), InlineFold::None),
    inline_op("!=", InlineOp::NumNe, 2, Some("%numne"), InlineFold::None),
    inline_op("eq?", InlineOp::Eq, 2, None, InlineFold::None),
    // `car`/`cdr` call themselves on the slow path: the primitive raises
    // the type error.
    inline_op("car", InlineOp::Car, 1, Some("car"), InlineFold::None),
    inline_op("cdr", InlineOp::Cdr, 1, Some("cdr"), InlineFold::None),
    inline_op(
        "array-ref",
        InlineOp::ArrayRef,
        2,
        Some("array-ref"),
        InlineFold::None,
    ),
    inline_op(
        "string-length",
        InlineOp::StringLength,
        1,
        Some("string-length"),
        InlineFold::None,
    ),
    inline_op(
        "string-ref",
        InlineOp::StringRef,
        2,
        Some("string-ref"),
        InlineFold::None,
    ),
    inline_op(
        "char->int",
        InlineOp::CharToInt,
        1,
        Some("char->int"),
        InlineFold::None,
    ),
    inline_op(
        "int->char",
        InlineOp::IntToChar,
        1,
        Some("int->char"),
        InlineFold::None,
    ),
    inline_op("not", InlineOp::Not, 1, None, InlineFold::None),
    inline_op("null?", InlineOp::IsNil, 1, None, InlineFold::None),
    inline_op(
        "pair?",
        InlineOp::IsPair,
        1,
        Some("pair?"),
        InlineFold::None,
    ),
    inline_op(
        "string?",
        InlineOp::IsString,
        1,
        Some("string?"),
        InlineFold::None,
    ),
    inline_op(
        "symbol?",
        InlineOp::IsSymbol,
        1,
        Some("symbol?"),
        InlineFold::None,
    ),
    inline_op(
        "array?",
        InlineOp::IsArray,
        1,
        Some("array?"),
        InlineFold::None,
    ),
    inline_op(
        "dict?",
        InlineOp::IsDict,
        1,
        Some("dict?"),
        InlineFold::None,
    ),
    inline_op(
        "float?",
        InlineOp::IsFloat,
        1,
        Some("float?"),
        InlineFold::None,
    ),
    inline_op("int?", InlineOp::IsInt, 1, None, InlineFold::None),
    inline_op("char?", InlineOp::IsChar, 1, None, InlineFold::None),
];

const fn inline_op(
    name: &'static str,
    op: InlineOp,
    argc: usize,
    slow_path: Option<&'static str>,
    fold: InlineFold,
) -> InlineOpDesc {
    InlineOpDesc {
        name,
        op,
        argc,
        slow_path,
        fold,
    }
}

/// The inline op named `name`, if the primitive is expanded inline.
pub fn inline_op_named(name: &str) -> Option<&'static InlineOpDesc> {
    INLINE_OPS.iter().find(|d| d.name == name)
}

impl InlineOp {
    /// Arithmetic or a numeric comparison: an op on Ints and Floats.
    pub fn is_numeric(self) -> bool {
        use InlineOp::*;
        matches!(
            self,
            Add | Sub | Mul | Div | Quot | Rem | Mod | Lt | Gt | Le | Ge | NumEq | NumNe
        )
    }

    /// An op whose result is an Int when both operands are Ints (Int
    /// arithmetic never leaves the Ints: its slow path only reports
    /// overflow or a zero divisor; runtime/src/prims/arith.rs).
    pub fn is_int_closed(self) -> bool {
        use InlineOp::*;
        matches!(self, Add | Sub | Mul | Quot | Rem | Mod)
    }

    /// A comparison of two numbers.
    pub fn is_numeric_comparison(self) -> bool {
        use InlineOp::*;
        matches!(self, Lt | Gt | Le | Ge | NumEq | NumNe)
    }

    /// The op's row of [`INLINE_OPS`].
    pub fn desc(self) -> &'static InlineOpDesc {
        INLINE_OPS
            .iter()
            .find(|d| d.op == self)
            .expect("every InlineOp has a row in INLINE_OPS")
    }
    /// An arithmetic op or a numeric comparison: its operands are
    /// numbers (they may be unboxed Floats in generated code).
    pub fn reads_numbers(self) -> bool {
        matches!(
            self,
            InlineOp::Add
                | InlineOp::Sub
                | InlineOp::Mul
                | InlineOp::Div
                | InlineOp::Quot
                | InlineOp::Rem
                | InlineOp::Mod
                | InlineOp::Lt
                | InlineOp::Gt
                | InlineOp::Le
                | InlineOp::Ge
                | InlineOp::NumEq
                | InlineOp::NumNe
        )
    }
    /// A type predicate (`pair? string? symbol? array? dict? float? int?
    /// char?`): a tag or header test in generated code.
    pub fn is_type_predicate(self) -> bool {
        matches!(
            self,
            InlineOp::IsPair
                | InlineOp::IsString
                | InlineOp::IsSymbol
                | InlineOp::IsArray
                | InlineOp::IsDict
                | InlineOp::IsFloat
                | InlineOp::IsInt
                | InlineOp::IsChar
        )
    }
    /// The runtime primitive used on the slow path, if any.
    pub fn slow_path(self) -> Option<&'static str> {
        self.desc().slow_path
    }
    pub fn arity(self) -> usize {
        self.desc().argc
    }
    /// The op reads a field of its first operand (`car`, `cdr`,
    /// `array-ref`): its result is part of that object.
    pub fn loads_field(self) -> bool {
        matches!(self, InlineOp::Car | InlineOp::Cdr | InlineOp::ArrayRef)
    }
}

/// Primitives the lowering turns into explicit allocation sites (`Op::Alloc`)
/// rather than runtime calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AllocPrim {
    /// `(cons a d)`: one pair.
    Cons,
    /// `(list x...)`: a chain of pairs, any operand count.
    List,
    /// `(box v)`: one box.
    Box,
}

/// The table of allocation primitives: (name, operand count inlined or
/// `None` for any, what it allocates).
pub const ALLOC_PRIMS: &[(&str, Option<usize>, AllocPrim)] = &[
    ("cons", Some(2), AllocPrim::Cons),
    ("list", None, AllocPrim::List),
    ("box", Some(1), AllocPrim::Box),
];

/// The allocation primitive `name` called with `argc` operands, if the
/// lowering expands it into allocation sites.
pub fn alloc_prim(name: &str, argc: usize) -> Option<AllocPrim> {
    ALLOC_PRIMS
        .iter()
        .find(|(n, c, _)| *n == name && c.is_none_or(|c| c == argc))
        .map(|(_, _, a)| *a)
}

#[derive(Debug, Clone)]
pub enum Op {
    Move(Atom),
    /// An inline operation (fast path in generated code). `site` is set when
    /// its slow path may allocate (a Float from `+ - *`): the region the
    /// slow path passes to its primitive, placed by CTRR like any site.
    Inline(InlineOp, Vec<Atom>, Option<AllocSiteId>),
    /// Call of a runtime primitive: its index in `omni_runtime::prims::PRIMS`
    /// (resolved once, by lowering; `prim.desc()` holds its facts). `site` is
    /// set when the primitive may allocate (its `region` argument is then the
    /// site's region; otherwise the global region is passed).
    Prim {
        prim: PrimId,
        args: Vec<Atom>,
        site: Option<AllocSiteId>,
    },
    /// Call a variadic primitive with a list of arguments (used by wrappers of
    /// variadic primitives taken as values).
    PrimApplyList {
        prim: PrimId,
        list: Atom,
        site: Option<AllocSiteId>,
    },
    /// A non-tail call; `region` is the result region passed to the callee
    /// (decided by CTRR: where the call's result must live).
    Call {
        callee: Callee,
        args: Vec<Atom>,
        region: RegionRef,
    },
    Alloc {
        site: AllocSiteId,
        what: Alloc,
    },
    /// Non-tail conditional: both blocks end in `Tail::Yield`.
    If {
        cond: Atom,
        then: Block,
        els: Block,
    },
    /// Read a global; `checked` means it may still be unbound (runtime error).
    GlobalGet {
        global: GlobalId,
        checked: bool,
    },
    /// Store into a global; with `barrier` the value first goes through the
    /// store helper (`omni_global_store`), which makes it storable into the
    /// global region.
    GlobalSet {
        global: GlobalId,
        value: Atom,
        barrier: bool,
    },
    /// Read free variable `i` of the current closure.
    EnvGet(u32),
    BoxGet(Atom),
    /// Store into a box; with `barrier` through `omni_store_barrier`.
    BoxSet {
        cell: Atom,
        value: Atom,
        barrier: bool,
    },
    /// Create a scope region (inserted by CTRR); binds its handle.
    RegionCreate,
    /// A scope region created on first use: binds a null handle; the slow
    /// path of an inline op placed in it creates the region when it first
    /// allocates, and `RegionExit` skips a null handle (ctrr/lazy.rs).
    RegionCreateLazy,
    /// Exit a scope region (inserted by CTRR) once nothing in it is live.
    RegionExit(Atom),
    /// Start of a loop with a carry region (inserted by CTRR, `carry.rs`, in
    /// the loop's entry stub): `carry` is set to the result region (a loop
    /// allocates there until it has allocated `CARRY_MIN_BYTES`) and the
    /// statement's variable to the renewal limit (the result region's bytes
    /// now plus `CARRY_MIN_BYTES`).
    CarryStart {
        carry: VarId,
    },
    /// The region to build a stored value in (inserted by CTRR, `carry.rs`,
    /// in a carry loop): the current version of the global state when the
    /// container (its latest copy) lives there and none of the `fields` the
    /// value is built of is an object (which may be younger than the state),
    /// else the result region (`omni_store_region`). Binds its handle; the
    /// value's allocation sites are placed in it (`RegionRef::Local`).
    StoreRegion {
        container: Atom,
        fields: Vec<Atom>,
    },
    /// A loop's back edge (inserted by CTRR before the self tail call):
    /// when the carry region holds `limit` bytes or more, the runtime moves
    /// the loop to a fresh carry region or renews it (`omni_carry_renew`).
    /// Sets `carry`, `limit` and every root anew: the roots (the values
    /// carried to the next iteration) may have moved.
    CarryRenew {
        carry: VarId,
        limit: VarId,
        roots: Vec<VarId>,
    },
    /// A loop's exit (inserted by CTRR before a return or another tail
    /// call): a carry region of its own goes to the result region
    /// (`omni_carry_end`). Sets every root anew (the values leaving the
    /// loop may have moved).
    CarryEnd {
        carry: VarId,
        roots: Vec<VarId>,
    },
    /// The activation's pin word, null (inserted by CTRR, `state.rs`, on
    /// entry of a function that may renew the global state and loads from
    /// it): the versions of the global state its `StatePin`s name stay
    /// alive until the `StateUnpin` before every return and tail call.
    StatePins,
    /// Pin the version of the global state the value points into, if any
    /// (after a load from a global, or a call's result, that may live
    /// across a renewal).
    StatePin(Atom),
    /// At a loop's back edge, after its `StateUnpin`: pin `value`'s version
    /// if the back edge's refresh moved it (it differs from `before`, its
    /// value before the refresh), so the next iteration may use it after a
    /// renewal; unmoved, it is kept as it was (ctrr/state.rs).
    StatePinMoved {
        value: Atom,
        before: Atom,
    },
    /// Pin the current version of the global state (before a call that
    /// may renew it and is given it as its result region).
    StatePinCurrent,
    /// End the activation's pin (before a return or tail call).
    StateUnpin,
    /// A value loaded from a global escapes to `holder` (the result region,
    /// or a loop's carry region that stands for it): the holder holds the
    /// version of the global state the value points into.
    StateHold {
        value: Atom,
        holder: RegionRef,
    },
    /// Make the variable's value *fresh* (inserted by CTRR, `state.rs`): an
    /// object of a retired version of the global state moves to the current
    /// one (forwarding the original: the same object) and the variable is
    /// rebound to the moved object; any other value stays as it is.
    StateRefresh(Atom),
    /// A safe point after a store that may grow the global state: the
    /// runtime renews it when its garbage has outgrown what is live.
    StateSafepoint,
    /// Initialising store into a closure's free-variable slot (letrec of
    /// mutually recursive closures).
    ClosureInit {
        closure: Atom,
        index: u32,
        value: Atom,
    },
    /// Check that a letrec variable is initialised (not UNBOUND).
    CheckBound {
        value: Atom,
        name: String,
    },
}

#[derive(Debug, Clone)]
pub enum Alloc {
    Cons(Atom, Atom),
    Box(Atom),
    Closure {
        func: FuncId,
        free: Vec<Atom>,
    },
    Array(Vec<Atom>),
    /// Keys and values alternate.
    Dict(Vec<Atom>),
}

#[derive(Debug, Clone)]
pub enum Callee {
    /// Direct call of a known function; `env` is passed as its closure.
    Known { func: FuncId, env: Atom },
    /// Call through a closure value (checked: non-function and arity errors).
    Unknown(Atom),
}

#[derive(Debug, Clone)]
pub enum Tail {
    Return(Atom),
    /// End of a branch of a non-tail `Op::If`: the value of the `If`.
    Yield(Atom),
    /// A call in tail position (proper tail call).
    Call {
        callee: Callee,
        args: Vec<Atom>,
        loc: LocId,
    },
    If {
        cond: Atom,
        then: Box<Block>,
        els: Box<Block>,
    },
}

/// Where an allocation site allocates; decided by the CTRR pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegionRef {
    /// Not decided yet (only before CTRR runs).
    Unassigned,
    /// The immortal global region (constants, type objects, the closures
    /// of top-level function definitions).
    Global,
    /// The current version of the global-state region: values of globals
    /// and what is stored into them (renewable, graph/state.rs in the
    /// runtime).
    State,
    /// The function's hidden result-region parameter.
    Result,
    /// A scope region created by `Op::RegionCreate` into this variable.
    Local(VarId),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AllocKind {
    Cons,
    Box,
    Closure,
    Array,
    Dict,
    /// An allocation done inside a runtime primitive (string, float, list...).
    Prim,
    /// The Float result of an inline arithmetic op's slow path; a `Local`
    /// one goes to the function's lazy Float region, not its scope region.
    Float,
}

#[derive(Debug, Clone)]
pub struct AllocSite {
    pub kind: AllocKind,
    pub func: FuncId,
    pub span: Span,
    pub loc: LocId,
    pub region: RegionRef,
}

impl fmt::Display for Atom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Atom::Var(v) => write!(f, "v{}", v.0),
            Atom::Imm(w) => write!(f, "{}", omni_runtime::value::describe_immediate(*w)),
            Atom::Const(c) => write!(f, "c{}", c.0),
            Atom::SelfClosure => write!(f, "self"),
        }
    }
}
