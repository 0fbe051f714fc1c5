//! Translation of one IR function into its two Cranelift functions.
//!
//! `code(env, region, p1..pn[, rest])` is the body; `apply(env, region, list,
//! loc)` is the generic entry that unpacks an argument list (the runtime checks
//! the count) and tail-calls `code`. Both start with the stack-limit check.
//! IR variables become Cranelift `Variable`s, so the frontend builds SSA form;
//! structured IR blocks map to Cranelift blocks (a non-tail `If` gets a join
//! block with one parameter, a tail `If` two terminated branches).
//! Inline operations get a fast path for fixnums / pairs and call the named
//! runtime primitive on the slow path, which also reports type errors and
//! overflow.

use super::int_paths::{self, Range};
use super::runtime::{self, RuntimeFn};
use super::{code_value_params, tail_signature, CodegenError, ModuleCx, Result};
use crate::ir::{
    self, Alloc, AllocSiteId, Atom, Callee, FunctionKind, InlineOp, LocId, Op, RegionRef, Tail,
};
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{
    types, Block, BlockArg, FuncRef, Function, GlobalValue, InstBuilder, InstructionData,
    MemFlagsData, Opcode, SigRef, SourceLoc, StackSlot, StackSlotData, StackSlotKind, TrapCode,
    Value,
};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use cranelift_module::{DataId, FuncId, Module};
use omni_runtime::base::stack::THREAD_SPAWNED_OFFSET;
use omni_runtime::prims::access::{
    FieldClass, FIELD_CACHE_CLASS_SHIFT, FIELD_CACHE_INDEX_MASK, FIELD_CACHE_INDEX_SHIFT,
    FIELD_CACHE_TYPE_MASK,
};
use omni_runtime::prims::{OpenCoded, PrimArity};
use omni_runtime::region::{
    CHUNK_REGION, HOLD_HELD, REGION_BUMP, REGION_CURRENT_CHUNK, REGION_CURRENT_START,
    REGION_FINALIZERS, REGION_LIMIT, REGION_RETIRED_BYTES, REGION_STATE_VERSION,
};

use omni_runtime::rt::region_abi::CARRY_START_BYTES;
use omni_runtime::types::{
    NEEDS_REGION, NO_BOX_REGION, STRUCT_FIELDS, STRUCT_TYPE, TYPE_DISPATCH_J, TYPE_DISPATCH_KEY,
    TYPE_DISPATCH_VERSION, TYPE_DISPATCH_WAY, TYPE_DISPATCH_WAYS,
};
use omni_runtime::value::{
    closure_info, make_int, ObjKind, ARRAY_CAP, ARRAY_DATA, ARRAY_LEN, ARRAY_SIZE, BOX_VALUE,
    CLOSURE_APPLY, CLOSURE_CODE, CLOSURE_FREE, CLOSURE_INFO, CLOSURE_NAME, FALSE, FLOAT_SIZE,
    FLOAT_VALUE, HEADER_CHUNK_SHIFT, KIND_MASK, NIL, NOTHING, PAIR_CAR, PAIR_CDR, PAIR_SIZE,
    STRING_BYTES, STRING_BYTE_LEN, STRING_CHAR_LEN, TAG_CHAR, TAG_INT_MASK, TAG_MASK, TRUE,
    UNBOUND,
};
use std::collections::HashMap;

const W: types::Type = types::I64;

/// The largest literal array allocated inline (`inline_array`); longer
/// ones go through the runtime (code size).
const INLINE_ARRAY_MAX: usize = 16;

/// The most pairs one bump allocates (`pair_run_alloc`): a longer list
/// takes several runs, so that a chunk with little room left still
/// serves most of them inline.
const PAIR_RUN_MAX: usize = 8;

// `is_pointer` rotates the tag bits (the low `TAG_BITS`) away.
const TAG_BITS: u32 = TAG_MASK.count_ones();
const _: () = assert!(TAG_MASK == (1 << TAG_BITS) - 1);

// `bool_word` builds TRUE/FALSE as `(c << 3) | FALSE`.
const _: () = assert!(TRUE == (1 << 3) | FALSE);
// The closure name slot is read by the runtime only; we fill it via
// `omni_alloc_closure`, so its offset only documents the layout here.
const _: () = assert!(CLOSURE_NAME + 8 == CLOSURE_FREE);
const _: () = assert!(ObjKind::Channel as u8 + 1 == ObjKind::Thread as u8);

/// Trap code after calls to runtime functions that never return (errors).
const TRAP_NORETURN: TrapCode = TrapCode::unwrap_user(1);

/// Which of the two Cranelift functions of an IR function is being built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Entry {
    Code,
    Apply,
}

impl Entry {
    pub fn label(self) -> &'static str {
        match self {
            Entry::Code => "code",
            Entry::Apply => "apply",
        }
    }
}

/// Build `kind` of `f` into `func` (whose signature this sets).
pub(crate) fn translate<'a, M: Module>(
    cx: &mut ModuleCx<'a, M>,
    f: &'a ir::Function,
    kind: Entry,
    func: &mut Function,
    fb_ctx: &mut FunctionBuilderContext,
) -> Result<()> {
    func.signature = match kind {
        Entry::Code => super::code_signature(cx.module, f),
        Entry::Apply => super::apply_signature(cx.module),
    };
    let mut b = FunctionBuilder::new(func, fb_ctx);
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    b.seal_block(entry);
    let params = b.block_params(entry).to_vec();
    // Every instruction carries the LocId of the statement it was made for
    // (the function's own location for the prologue and `apply`); after
    // translation each call instruction's srcloc is renumbered into the
    // function's call-site list (code_table.rs). Source locations do not
    // change the machine code.
    // Base 0: Cranelift stores srclocs relative to the first one, and a
    // LocId one below that base would alias the "no location" value.
    b.func.params.ensure_base_srcloc(SourceLoc::new(0));
    b.set_srcloc(SourceLoc::new(f.loc.0));
    let mut tx = FnTx {
        cx,
        b,
        f,
        vars: Vec::new(),
        env: params[0],
        region: params[1],
        callee_region: params[1],
        global_region: None,
        func_refs: HashMap::new(),
        data_refs: HashMap::new(),
        indirect_sigs: HashMap::new(),
        lazy_regions: Vec::new(),
        known_regions: Vec::new(),
        region_resets: 0,
        statement_start: None,
        state_region: None,
        pins: None,
        pins_across_iterations: false,
        regions_across_iterations: Vec::new(),
        regions_kept_in_branches: Vec::new(),
        back_edge: false,
        checked_arrays: Vec::new(),
        checked_pairs: Vec::new(),
        pair_var: None,
        pair_tested: None,
        checked_structs: Vec::new(),
        checked_epoch: 0,
        uses: Vec::new(),
        unboxed: Vec::new(),
        float_paths: false,
        deferred: HashMap::new(),
        self_yields: Vec::new(),
        loop_head: None,
        int_vars: Vec::new(),
        ranges: Vec::new(),
        dead_regions: Vec::new(),
        dead_across: Vec::new(),
        comparisons: HashMap::new(),
        int_head: None,
    };
    tx.stack_check()?;
    match kind {
        Entry::Code => tx.code_body(&params)?,
        Entry::Apply => tx.apply_body(params[2], params[3])?,
    }
    tx.b.seal_all_blocks();
    let config = tx.cx.module.target_config();
    tx.b.finalize(config);
    Ok(())
}

struct FnTx<'c, 'a, 'b, M: Module> {
    cx: &'c mut ModuleCx<'a, M>,
    b: FunctionBuilder<'b>,
    f: &'a ir::Function,
    vars: Vec<Variable>,
    env: Value,
    region: Value,
    /// The result region for the call being generated (see `callee_region`).
    callee_region: Value,
    /// `omni_rt_global_region()`, called once in the entry block when some
    /// allocation site of the function uses the global region.
    global_region: Option<Value>,
    func_refs: HashMap<FuncId, FuncRef>,
    data_refs: HashMap<DataId, GlobalValue>,
    /// Signatures for `call_indirect`: `code` by value-argument count, and
    /// `apply` under `usize::MAX`.
    indirect_sigs: HashMap<usize, SigRef>,
    /// The function's regions, each with the stack slot holding its
    /// handle, null until the first use of the region: the scope region
    /// (`Op::RegionCreate`, its uses on hot paths) and the Float region
    /// (`Op::RegionCreateLazy`, used only on slow paths). A slot, not an SSA
    /// variable: the handle is then not live in a register across the
    /// function's calls, so code that never uses a region pays one store on
    /// entry and a load and test per exit.
    lazy_regions: Vec<(ir::VarId, cranelift_codegen::ir::StackSlot, bool)>,
    /// Lazy regions whose handle is known at the point being translated:
    /// loaded (and created if need be) at the top level of an earlier
    /// statement of this IR block or an enclosing one, so every path here
    /// went through that load. Later uses take the handle without loading
    /// and testing the slot again (a function with allocations and
    /// calls in one scope region loaded it at each: ~40 of the ~350
    /// CLIF instructions of benches/compile's `step-i`, compile time of
    /// issue 13). Scoped like `checked_arrays`: `block` restores its
    /// caller's, and forgets all if the block exited or reset a region.
    known_regions: Vec<(ir::VarId, Value)>,
    /// Bumped when a lazy region's slot is reset or its region exited.
    region_resets: u64,
    /// The CLIF block the statement being translated started in, while
    /// its code has not branched: a handle loaded there dominates the rest
    /// of the IR block (every branch of a statement joins again before the
    /// next one). `None` inside nested IR blocks' callers.
    statement_start: Option<Block>,
    /// `omni_rt_state_region()`, called once in the entry block when the
    /// function places something in the global-state region and cannot
    /// renew it (so the version stays current while it runs).
    state_region: Option<Value>,
    /// The stack slot of the activation's pin word (`Op::StatePins`), null
    /// until the first pin: a function that may renew the global state
    /// fetches the state region at each use and pins it.
    pins: Option<cranelift_codegen::ir::StackSlot>,
    /// The pin word is set up before the loop head of a self-tail-recursive
    /// loop and kept across iterations (`omni_state_repin` at the back edge).
    pins_across_iterations: bool,
    /// The loop's scope and Float regions (created at the top level of its
    /// body), whose handle slots outlive an iteration: the back edge keeps
    /// a region nothing was allocated in (`omni_region_recycle`).
    regions_across_iterations: Vec<ir::VarId>,
    /// Those of `regions_across_iterations` created in a branch of the
    /// loop's body: a region kept at a back edge may be left unexited by
    /// the path of a later iteration, so every exit of the function exits
    /// it if its slot holds one (it is empty then: an iteration that
    /// allocates in it exits or empties it on its own path).
    regions_kept_in_branches: Vec<ir::VarId>,
    /// The statement being translated is a `StateUnpin` or `RegionExit` of
    /// a block that ends in the loop's back edge (a self tail call).
    back_edge: bool,
    /// Arrays checked by an `array-ref` earlier in the code being
    /// translated: (array, its payload, its length). Valid until a call
    /// that may forward an object (`forget_checked`) and within the IR block
    /// that checked them (`block` restores its caller's facts). A slow path
    /// (a forwarded array) passes length 0 on, so later accesses to that
    /// array take the slow path too.
    checked_arrays: Vec<(Value, Value, Value)>,
    /// Values known to be pairs at the point being translated: (the value,
    /// the pair it stands for). A `car` or `cdr` checked the value earlier
    /// (deriv's `count` reads `(car f)` and `(cdr f)`), or it is the `then`
    /// branch of an `if` on `(pair? v)` (the `match` of a list pattern).
    /// The pair is the value itself on the fast path and the object a
    /// forwarded original resolves to on the slow one, so a later `car`,
    /// `cdr` or `pair?` of the value loads or answers without a test.
    /// Scoped like `checked_arrays` and forgotten with them.
    checked_pairs: Vec<(Value, Value)>,
    /// Set by `branch_on` for a condition that is a `pair?` (deferred, of
    /// a value read again): the variable `type_test_branch` defines as the
    /// pair. `branch_cond` takes it and leaves the tested value and the
    /// variable in `pair_tested`.
    pair_var: Option<Variable>,
    pair_tested: Option<(Value, Variable)>,
    /// Values whose kind a field access tested earlier: (the value, the
    /// value itself when it was a struct, 0 when the access took its slow
    /// path, which any value may). A later field access of the value tests
    /// that word instead of the pointer tag and header (nbody's `b.x` ...
    /// `b.mass`, interp's `c.lam` ... `c.env`). A struct is never a
    /// forwarded original, so the word stays right until a call that may
    /// forward. Scoped like `checked_arrays` and forgotten with them.
    checked_structs: Vec<(Value, Value)>,
    /// Bumped by every `forget_checked`.
    checked_epoch: u64,
    /// How many times each IR variable is read (operands and tails), for
    /// `deferrable`.
    uses: Vec<u32>,
    /// The unboxed Floats of the function (`float_locals`): for each such
    /// variable, its f64 and a flag (i8) that says the f64 is its value
    /// (the word variable then holds 0), and the allocation site whose
    /// region a Float is boxed in when a slow path needs the word.
    unboxed: Vec<Option<UnboxedVars>>,
    /// Whether the arithmetic ops and comparisons get inline Float paths
    /// and variables may be unboxed Floats (`mentions_floats`): in integer
    /// code the extra cold code cost fib 4% more instructions on its hot
    /// path, through register allocation.
    float_paths: bool,
    /// Conditions whose value only an `if` reads (`deferrable`): not
    /// materialised where they are defined, but generated by `branch_cond`
    /// as a compare and a conditional branch.
    deferred: HashMap<ir::VarId, &'a ir::Stmt>,
    /// For each variable, how many of its uses are a branch `yield v` of a
    /// non-tail `if` on `v` itself (`or`, `and`): such a use needs no value
    /// when the `if` is generated as a branch (it jumps where `v` went).
    self_yields: Vec<u32>,
    /// The block after the prologue of `code`, taking the environment and
    /// the value parameters: a tail call of the function itself jumps here
    /// (the result region is the same), a loop without a call.
    loop_head: Option<Block>,
    /// While the Int copy of the body is translated (`int_paths.rs`): per
    /// variable, whether it is a fixnum there. Empty for the generic copy.
    int_vars: Vec<bool>,
    /// Bounds of known fixnums at the point being translated, from the
    /// comparisons that decided the enclosing branches and the ops that
    /// computed them (the Int copy only). Scoped like `checked_arrays`.
    ranges: Vec<(ir::VarId, Range)>,
    /// The regions the Int copy never creates (`int_paths.rs`).
    dead_regions: Vec<ir::VarId>,
    /// The regions of a loop the Int copy never allocates in: their slots
    /// outlive an iteration (`regions_across_iterations`).
    dead_across: Vec<ir::VarId>,
    /// The comparisons of the function by variable, for the bounds an
    /// `if` on one gives its branches.
    comparisons: HashMap<ir::VarId, (InlineOp, Atom, Atom)>,
    /// While the Int copy of a loop is translated: its head and the
    /// numeric parameters (`body_with_int_paths`).
    int_head: Option<(Block, Vec<ir::VarId>)>,
}

impl<'a, M: Module> FnTx<'_, 'a, '_, M> {
    // ---- function-level structure ----

    /// Prologue: if SP < the thread's stack limit, report a stack overflow.
    /// The pinned register holds the address of the running thread's limit
    /// word (`omni_rt_stack_limit_cell`, installed by every SysV trampoline
    /// into generated code: startup.rs), so each thread checks its own stack.
    fn stack_check(&mut self) -> Result<()> {
        let limit_addr = self.b.ins().get_pinned_reg(W);
        let limit = self.b.ins().load(W, MemFlagsData::trusted(), limit_addr, 0);
        let sp = self.b.ins().get_stack_pointer(W);
        let below = self.b.ins().icmp(IntCC::UnsignedLessThan, sp, limit);
        let overflow = self.b.create_block();
        let body = self.b.create_block();
        self.b.set_cold_block(overflow);
        self.b.ins().brif(below, overflow, &[], body, &[]);
        self.b.seal_block(overflow);
        self.b.seal_block(body);
        self.b.switch_to_block(overflow);
        let loc = self.loc32(self.f.loc);
        self.call_rt(RuntimeFn::StackOverflow, &[loc])?;
        self.b.ins().trap(TrapCode::STACK_OVERFLOW);
        self.b.switch_to_block(body);
        Ok(())
    }

    fn code_body(&mut self, params: &[Value]) -> Result<()> {
        let f = self.f;
        self.vars = (0..f.nvars).map(|_| self.b.declare_var(W)).collect();
        (self.uses, self.self_yields) = use_counts(f);
        let value_params = &params[2..];
        if value_params.len() != code_value_params(f) {
            return Err(CodegenError::new(
                "code signature does not match the parameters",
            ));
        }
        if block_uses_region(self.cx.prog, &f.body, RegionRef::Global) {
            self.global_region = Some(self.call_rt1(RuntimeFn::GlobalRegion, &[])?);
        }
        let pinned = f
            .body
            .stmts
            .iter()
            .any(|s| matches!(s.op, ir::Op::StatePins));
        if !pinned && block_uses_region(self.cx.prog, &f.body, RegionRef::State) {
            self.state_region = Some(self.call_rt1(RuntimeFn::StateRegion, &[])?);
        }
        // Every self tail call becomes a jump to the loop head (after the
        // prologue and the stack check), also in a function that calls
        // itself in a non-tail position (ack, tak: callgrind 37.8 M -> 30.8 M
        // and 5.20 M -> 4.72 M instructions; tak 0.38 s -> 0.31 s). A loop
        // that only calls other functions (nqueens' `place-from`, `safe?`)
        // gained 8% (BENCH_PROTOCOL.md, causes left). A function without a
        // self tail call gets no loop head (one block less to compile).
        let mut calls_itself = false;
        ir::visit::walk_block(&f.body, &mut |st| {
            if let Op::Call {
                callee: Callee::Known { func, .. },
                ..
            } = &st.op
            {
                calls_itself |= *func == f.id;
            }
        });
        let mut tail_calls_itself = false;
        ir::visit::walk_tails(&f.body, &mut |t| {
            if let Tail::Call {
                callee: Callee::Known { func, .. },
                ..
            } = t
            {
                tail_calls_itself |= *func == f.id;
            }
        });
        let is_loop = tail_calls_itself;
        // Unboxed Floats only where the function shows signs of Float
        // arithmetic: nqueens' `safe?` would carry its integer parameters
        // with an f64 and a flag each (12% more instructions).
        self.float_paths = mentions_floats(self.cx.prog, f);
        let candidates = if self.float_paths {
            float_locals(self.cx.prog, f, &self.uses, is_loop)
        } else {
            Vec::new()
        };
        self.unboxed = candidates
            .into_iter()
            .map(|site| {
                site.map(|site| UnboxedVars {
                    float: self.b.declare_var(types::F64),
                    is_float: self.b.declare_var(types::I8),
                    site,
                })
            })
            .collect();
        if !is_loop {
            for (var, value) in f.params.iter().chain(f.rest.iter()).zip(value_params) {
                let v = self.var(*var)?;
                self.b.def_var(v, *value);
            }
            return self.body_with_int_paths();
        }
        // The regions the body creates get their handle slots here, before
        // the loop head, so a region only its scope keeps alive survives the
        // back edge, emptied (`omni_region_recycle`). One created in a
        // branch may be kept by an iteration and not reached by the next:
        // the exits of the function exit it (`exit_kept_regions`).
        let top_level: Vec<ir::VarId> = f.body.stmts.iter().filter_map(|st| st.var).collect();
        ir::visit::walk_block(&f.body, &mut |st| {
            if let (Op::RegionCreate | Op::RegionCreateLazy, Some(var)) = (&st.op, st.var) {
                self.lazy_region_slot(var, matches!(st.op, Op::RegionCreate));
                self.regions_across_iterations.push(var);
                if !top_level.contains(&var) {
                    self.regions_kept_in_branches.push(var);
                }
            }
        });
        if pinned {
            // The pin word outlives an iteration (`Op::StatePins` in the
            // loop is then only a marker; `StateUnpin` at a back edge keeps
            // pins of the current version, see `omni_state_repin`).
            self.pins = Some(self.pin_word()?);
            self.pins_across_iterations = true;
        }
        // The loop head: sealed only at the end, when every self tail call
        // has added its jump. The stack check and the region handles above
        // stay outside the loop (an iteration uses no more stack, and the
        // global and state regions do not change while the function runs:
        // it renews nothing when it fetched the state region here).
        // A parameter that is an unboxed Float (`float_locals`) takes its
        // f64 and flag as two more parameters of the head, after the words.
        let head = self.b.create_block();
        let mut jump_args = vec![self.env.into()];
        self.b.append_block_param(head, W);
        for value in value_params {
            self.b.append_block_param(head, W);
            jump_args.push((*value).into());
        }
        let loop_params: Vec<ir::VarId> = f.params.iter().chain(f.rest.iter()).copied().collect();
        for p in &loop_params {
            if self.unboxed_var(Some(*p)).is_some() {
                self.b.append_block_param(head, types::F64);
                self.b.append_block_param(head, types::I8);
                let zero = self.b.ins().f64const(0.0);
                let no = self.b.ins().iconst(types::I8, 0);
                jump_args.extend([BlockArg::from(zero), BlockArg::from(no)]);
            }
        }
        // In a loop that only calls other functions the Int copy is a loop
        // of its own, beside the generic one: its back edges with known
        // fixnums skip the test (nqueens' `place-from` and `safe?`: 12%
        // fewer instructions). Where the loop also calls itself in a
        // non-tail position, Cranelift then hoisted the slow paths'
        // constants out of the Int loop into callee-saved registers (ack
        // 20% slower, its frame 0x30 -> 0x50 bytes): there the test that
        // chooses the copy follows the one loop head, every iteration.
        // (A loop nested in the generic one hoisted them too: frame-at in
        // benches/interp 14% slower.)
        let paths = if calls_itself { None } else { self.int_paths() };
        let int_copy = match &paths {
            Some(paths) => {
                let int_copy = self.b.create_block();
                for _ in 0..jump_args.len() {
                    self.b.append_block_param(int_copy, W);
                }
                let numeric = self.numeric_words(&paths.params, value_params);
                self.branch_if_ints(&numeric, int_copy, head, &jump_args);
                Some(int_copy)
            }
            None => {
                self.b.ins().jump(head, &jump_args);
                None
            }
        };
        self.loop_head = Some(head);
        if let (Some(paths), Some(int_copy)) = (paths, int_copy) {
            self.b.switch_to_block(int_copy);
            self.loop_params(int_copy, &loop_params)?;
            self.int_head = Some((int_copy, paths.params.clone()));
            self.int_copy(paths)?;
            self.int_head = None;
            self.b.switch_to_block(head);
            self.loop_params(head, &loop_params)?;
            return self.generic_copy();
        }
        self.b.switch_to_block(head);
        self.loop_params(head, &loop_params)?;
        if calls_itself {
            return self.body_with_int_paths();
        }
        self.block(&f.body, Join::None)
    }

    /// Enter loop head `head`: its parameters are the environment and the
    /// loop's parameters (an unboxed Float one's f64 and flag after the
    /// words).
    fn loop_params(&mut self, head: Block, loop_params: &[ir::VarId]) -> Result<()> {
        let head_params = self.b.block_params(head).to_vec();
        self.env = head_params[0];
        let mut extra = head_params[1 + loop_params.len()..].iter();
        for (var, value) in loop_params.iter().zip(&head_params[1..]) {
            let v = self.var(*var)?;
            self.b.def_var(v, *value);
            if let Some(u) = self.unboxed_var(Some(*var)) {
                let (Some(f), Some(flag)) = (extra.next(), extra.next()) else {
                    return Err(CodegenError::new("loop head without a Float parameter"));
                };
                self.b.def_var(u.float, *f);
                self.b.def_var(u.is_float, *flag);
            }
        }
        Ok(())
    }

    /// The Int copy of the function (`int_paths.rs`), if it gets one.
    fn int_paths(&mut self) -> Option<int_paths::IntPaths> {
        if self.float_paths {
            return None;
        }
        let f = self.f;
        let paths = int_paths::int_paths(self.cx.prog, f)?;
        ir::visit::walk_block(&f.body, &mut |st| {
            if let (Some(v), Op::Inline(op, args, _)) = (st.var, &st.op) {
                if op.is_numeric_comparison() && args.len() == 2 {
                    self.comparisons.insert(v, (*op, args[0], args[1]));
                }
            }
        });
        Some(paths)
    }

    /// The words of the numeric parameters `numeric` among the function's
    /// parameters, whose values are `values`.
    fn numeric_words(&self, numeric: &[ir::VarId], values: &[Value]) -> Vec<Value> {
        self.f
            .params
            .iter()
            .zip(values)
            .filter(|(p, _)| numeric.contains(p))
            .map(|(_, v)| *v)
            .collect()
    }

    /// Jump to `ints` when every word of `words` is a fixnum, else to
    /// `other`, both with `args`.
    fn branch_if_ints(&mut self, words: &[Value], ints: Block, other: Block, args: &[BlockArg]) {
        let Some((&first, rest)) = words.split_first() else {
            self.b.ins().jump(ints, args);
            return;
        };
        let mut tags = first;
        for w in rest {
            tags = self.b.ins().band(tags, *w);
        }
        let tag = self.b.ins().band_imm_s(tags, 1);
        self.b.ins().brif(tag, ints, args, other, args);
    }

    /// The function's body (or a loop's that calls itself in a non-tail
    /// position), preceded, when it gets an Int copy
    /// (`int_paths.rs`), by the test of its numeric parameters' tags that
    /// chooses the Int copy or the generic one.
    fn body_with_int_paths(&mut self) -> Result<()> {
        let f = self.f;
        let Some(paths) = self.int_paths() else {
            return self.block(&f.body, Join::None);
        };
        let mut words = Vec::new();
        for p in &paths.params {
            let v = self.var(*p)?;
            words.push(self.b.use_var(v));
        }
        let int_copy = self.b.create_block();
        let generic = self.b.create_block();
        self.branch_if_ints(&words, int_copy, generic, &[]);
        self.b.seal_block(int_copy);
        self.b.seal_block(generic);
        self.b.switch_to_block(int_copy);
        self.int_copy(paths)?;
        self.b.switch_to_block(generic);
        self.generic_copy()
    }

    /// Translate the body as the Int copy described by `paths`.
    fn int_copy(&mut self, paths: int_paths::IntPaths) -> Result<()> {
        self.int_vars = paths.ints;
        // A loop's regions outlive an iteration, which may be generic: the
        // Int copy exits one at the function's exits, but not at its back
        // edges (`dead_across`).
        (self.dead_across, self.dead_regions) = paths
            .dead_regions
            .into_iter()
            .partition(|r| self.regions_across_iterations.contains(r));
        self.block(&self.f.body, Join::None)?;
        self.int_vars = Vec::new();
        self.dead_regions = Vec::new();
        self.dead_across = Vec::new();
        self.ranges = Vec::new();
        Ok(())
    }

    /// Translate the body as the generic copy of a function with an Int
    /// copy: laid out after the Int copy, with the cold blocks.
    fn generic_copy(&mut self) -> Result<()> {
        let first = self.b.func.dfg.num_blocks();
        if let Some(current) = self.b.current_block() {
            self.b.set_cold_block(current);
        }
        self.block(&self.f.body, Join::None)?;
        self.set_cold_since(first);
        Ok(())
    }

    /// A self tail call of a loop: the same result region, so only the
    /// environment and the parameters change. An unboxed Float parameter
    /// takes its argument's f64 and flag too (0 for a boxed argument).
    fn back_edge_jump(&mut self, env: &Atom, args: &[Atom], head: Block) -> Result<()> {
        let f = self.f;
        // In the Int copy: to its own head when the numeric arguments are
        // fixnums (tested here unless known), else to the generic loop.
        if let Some((int_head, numeric)) = self.int_head.clone() {
            let mut jump_args = vec![BlockArg::from(self.atom(env)?)];
            let mut unknown = Vec::new();
            for (p, a) in f.params.iter().zip(args) {
                let v = self.atom(a)?;
                jump_args.push(v.into());
                if numeric.contains(p) && !self.known_int(a) {
                    unknown.push(v);
                }
            }
            self.branch_if_ints(&unknown, int_head, head, &jump_args);
            return Ok(());
        }
        let env = self.atom(env)?;
        let mut jump_args = vec![BlockArg::from(env)];
        let mut floats = Vec::new();
        for (p, a) in f.params.iter().chain(f.rest.iter()).zip(args) {
            if self.unboxed_var(Some(*p)).is_some() {
                let n = self.num(a)?;
                let (x, flag) = match n.float {
                    Some((x, flag, _)) => (x, flag),
                    None => (
                        self.b.ins().f64const(0.0),
                        self.b.ins().iconst(types::I8, 0),
                    ),
                };
                jump_args.push(n.word.into());
                floats.extend([BlockArg::from(x), BlockArg::from(flag)]);
            } else {
                jump_args.push(self.atom(a)?.into());
            }
        }
        jump_args.extend(floats);
        self.b.ins().jump(head, &jump_args);
        Ok(())
    }

    /// Call the variadic primitive `prim` with the elements of `list`.
    fn call_variadic_with_list(
        &mut self,
        prim: omni_runtime::prims::PrimId,
        region: Value,
        list: Value,
        loc32: Value,
    ) -> Result<Value> {
        let desc = runtime::prim_by_id(prim)?;
        if !matches!(desc.arity, PrimArity::Variadic { .. }) {
            return Err(CodegenError::new(format!(
                "argument list for fixed-arity primitive `{}`",
                desc.name
            )));
        }
        let prim_fn = self.prim_func_ref(desc)?;
        let prim_addr = self.b.ins().func_addr(W, prim_fn);
        self.call_rt1(
            RuntimeFn::CallVariadicList,
            &[prim_addr, region, list, loc32],
        )
    }

    fn apply_body(&mut self, list: Value, loc: Value) -> Result<()> {
        if let FunctionKind::PrimWrapper {
            apply_list: Some(prim),
        } = self.f.kind
        {
            // Every argument count but the `code` entry's two: the
            // primitive takes the list as it is (and checks the count).
            let loc32 = self.b.ins().ireduce(types::I32, loc);
            let result = self.call_variadic_with_list(prim, self.region, list, loc32)?;
            self.b.ins().return_(&[result]);
            return Ok(());
        }
        let n = code_value_params(self.f);
        let slot = self.b.create_sized_stack_slot(StackSlotData::new(
            StackSlotKind::ExplicitSlot,
            (8 * n.max(1)) as u32,
            3,
        ));
        let out = self.b.ins().stack_addr(W, slot, 0);
        let loc32 = self.b.ins().ireduce(types::I32, loc);
        self.call_rt(RuntimeFn::ApplyUnpack, &[self.env, list, out, loc32])?;
        let mut args = vec![self.env, self.region];
        for i in 0..n {
            args.push(self.b.ins().stack_load(W, W, slot, (8 * i) as i32));
        }
        let code = self.func_ref(self.cx.code_ids[self.f.id.0 as usize]);
        self.b.ins().return_call(code, &args);
        Ok(())
    }

    /// Translate a structured block; `join` says what `Tail::Yield` does.
    fn block(&mut self, block: &'a ir::Block, join: Join) -> Result<()> {
        // What this block checks holds only inside it; what was checked
        // before it holds after it unless something in it forgot.
        let (checked, epoch) = (self.checked_arrays.clone(), self.checked_epoch);
        let pairs = self.checked_pairs.clone();
        let structs = self.checked_structs.clone();
        let (known, resets) = (self.known_regions.clone(), self.region_resets);
        let start = self.statement_start.take();
        let bounds = self.ranges.len();
        let result = self.block_body(block, join);
        self.ranges.truncate(bounds);
        if self.checked_epoch == epoch {
            self.checked_arrays = checked;
            self.checked_pairs = pairs;
            self.checked_structs = structs;
        } else {
            self.forget_checked_facts();
        }
        self.known_regions = if self.region_resets == resets {
            known
        } else {
            Vec::new()
        };
        // The caller's statement has branched (or not) since: its start
        // block is still the current one only if nothing branched.
        self.statement_start = start.filter(|&b| self.b.current_block() == Some(b));
        result
    }

    fn block_body(&mut self, block: &'a ir::Block, join: Join) -> Result<()> {
        let ends_in_back_edge = self.loop_head.is_some()
            && matches!(&block.tail, Tail::Call { callee: Callee::Known { func, .. }, .. }
                if *func == self.f.id);
        let mut run_end = 0;
        for (i, stmt) in block.stmts.iter().enumerate() {
            // The later pairs of a run were allocated with its first.
            if i < run_end {
                continue;
            }
            // A lazy region's exit right before a return is generated with
            // the return (`return_after_lazy_exit`).
            if let (true, Tail::Return(a)) = (i + 1 == block.stmts.len(), &block.tail) {
                if let (true, Op::RegionExit(region)) = (self.is_lazy_exit(stmt), &stmt.op) {
                    return self.return_after_lazy_exit(region, a);
                }
            }
            if let Some(var) = stmt.var {
                if self.deferrable(block, i, matches!(join, Join::Branch(..))) {
                    self.deferred.insert(var, stmt);
                    continue;
                }
            }
            let run = self.pair_run(&block.stmts[i..]);
            if run.len() > 1 {
                run_end = i + run.len();
                self.statement_start = self.b.current_block();
                self.pair_run_alloc(run)?;
                self.statement_start = None;
                continue;
            }
            self.back_edge =
                ends_in_back_edge && matches!(stmt.op, Op::StateUnpin | Op::RegionExit(_));
            self.statement_start = self.b.current_block();
            let value = self.stmt(stmt)?;
            self.statement_start = None;
            self.back_edge = false;
            if let Some(var) = stmt.var {
                let v = self.var(var)?;
                self.b.def_var(v, value);
                if let Op::Inline(op, args, _) = &stmt.op {
                    // A fixnum result (or an overflow error): clipped.
                    if let (true, Some(r)) = (
                        self.known_int(&Atom::Var(var)),
                        self.result_range(*op, args),
                    ) {
                        self.ranges.push((var, int_paths::clip(r)));
                    }
                }
            }
        }
        self.tail(&block.tail, join)
    }

    /// At an exit of a loop function (a return or a tail call that is not
    /// the back edge): exit each region a branch of the body created and
    /// a back edge kept, if its slot still holds it (`except`: the region
    /// the caller exits itself).
    fn exit_kept_regions(&mut self, except: Option<ir::VarId>) -> Result<()> {
        for i in 0..self.regions_kept_in_branches.len() {
            let var = self.regions_kept_in_branches[i];
            if Some(var) == except {
                continue;
            }
            let Some(slot) = self.lazy_slot(var) else {
                continue;
            };
            let r = self.b.ins().stack_load(W, W, slot, 0);
            self.if_nonzero(r, |tx| tx.call_rt(RuntimeFn::RegionExit, &[r]).map(drop))?;
        }
        Ok(())
    }

    /// Whether `stmt` exits the function's lazy region.
    fn is_lazy_exit(&self, stmt: &ir::Stmt) -> bool {
        match &stmt.op {
            Op::RegionExit(Atom::Var(v)) => {
                self.lazy_slot(*v).is_some() && !self.dead_regions.contains(v)
            }
            _ => false,
        }
    }

    /// Exit the lazy region, if it was created, and return `a`. The exit
    /// and a second return sit in a cold block, so the returned value need
    /// not survive a call on the path that finds no region (it would
    /// otherwise be moved to a callee-saved register around the cold call).
    fn return_after_lazy_exit(&mut self, region: &Atom, a: &Atom) -> Result<()> {
        let slot = match region {
            Atom::Var(v) => self.lazy_slot(*v),
            _ => None,
        }
        .ok_or_else(|| CodegenError::new("no lazy region"))?;
        let v = self.atom(a)?;
        let own = match region {
            Atom::Var(v) => Some(*v),
            _ => None,
        };
        self.exit_kept_regions(own)?;
        let r = self.b.ins().stack_load(W, W, slot, 0);
        let exit = self.b.create_block();
        let done = self.b.create_block();
        self.b.set_cold_block(exit);
        self.b.ins().brif(r, exit, &[], done, &[]);
        self.b.seal_block(exit);
        self.b.seal_block(done);
        self.b.switch_to_block(exit);
        self.call_rt(RuntimeFn::RegionExit, &[r])?;
        self.b.ins().return_(&[v]);
        self.b.switch_to_block(done);
        self.b.ins().return_(&[v]);
        Ok(())
    }

    fn tail(&mut self, tail: &'a Tail, join: Join) -> Result<()> {
        match tail {
            Tail::Return(a) => {
                let v = self.atom(a)?;
                self.exit_kept_regions(None)?;
                self.b.ins().return_(&[v]);
            }
            Tail::Yield(a) => match join {
                Join::Value(join) => {
                    let v = self.atom(a)?;
                    self.b.ins().jump(join, &[v.into()]);
                }
                Join::Branch(yes, no) => self.branch_cond(a, yes, no)?,
                Join::None => return Err(CodegenError::new("Yield outside an If")),
            },
            Tail::Call { callee, args, loc } => {
                let back_edge = self.loop_head.is_some()
                    && matches!(callee, Callee::Known { func, .. } if *func == self.f.id);
                if !back_edge {
                    self.exit_kept_regions(None)?;
                }
                self.b.set_srcloc(SourceLoc::new(loc.0));
                // A tail call returns into our caller: same result region.
                self.callee_region = self.region;
                self.call(callee, args, *loc, true)?;
            }
            Tail::If { cond, then, els } => {
                let (then_block, else_block, pair) = self.branch_on(cond)?;
                let facts = self.checked_facts();
                self.b.switch_to_block(then_block);
                self.decided_block(cond, true, then, join, pair.then_pair(true))?;
                self.restore_checked(&facts);
                self.b.switch_to_block(else_block);
                self.decided_block(cond, false, els, join, pair.then_pair(false))?;
            }
        }
        Ok(())
    }

    /// Branch on the truthiness of `cond` into two new sealed blocks.
    /// When `cond` is a `pair?` test (`pair_test`) of a value read again,
    /// also the value and the variable holding the pair it stands for in
    /// the branch where the test held.
    fn branch_on(&mut self, cond: &Atom) -> Result<(Block, Block, PairTest)> {
        let then_block = self.b.create_block();
        let else_block = self.b.create_block();
        let holds = self.pair_test(cond);
        self.pair_var = holds.map(|_| self.b.declare_var(W));
        self.branch_cond(cond, then_block, else_block)?;
        self.pair_var = None;
        let tested = self.pair_tested.take();
        self.b.seal_block(then_block);
        self.b.seal_block(else_block);
        let pair = match (holds, tested) {
            (Some(holds), Some((value, var))) => PairTest::Holds(holds, value, var),
            _ => PairTest::None,
        };
        Ok((then_block, else_block, pair))
    }

    /// Whether `cond` is a deferred `(pair? v)` of a variable read again,
    /// directly or through copies and `not`s: `Some(true)` when the `then`
    /// branch is the one where `v` is a pair, `Some(false)` for `else`.
    /// (An `and`/`or` of tests is not: its branches join other paths.)
    fn pair_test(&self, cond: &Atom) -> Option<bool> {
        let Atom::Var(v) = cond else { return None };
        match &self.deferred.get(v)?.op {
            Op::Move(a) => self.pair_test(a),
            Op::Inline(InlineOp::Not, args, _) => self.pair_test(&args[0]).map(|h| !h),
            Op::Inline(InlineOp::IsPair, args, _) if self.read_again(&args[0]) => Some(true),
            _ => None,
        }
    }

    /// Whether statement `i` of `block` is a condition that only the `if`
    /// right after it reads, so that its value need not exist: an inline
    /// comparison or test (`=`, `<`, `eq?`, `null?`, …), a `not` or a copy
    /// of one, or a non-tail `if` (the `or` and `and` of a condition) whose
    /// branches then jump to the consumer's targets. The consumer is the
    /// next statement (`not`, a copy, an `if` on it), the tail `if`, or, in
    /// a block generated as a branch (`cond_block`), its `yield`; it must be
    /// deferrable itself when it is not an `if`. The generation moves to
    /// the consumer with nothing in between (a region creation is a store
    /// of null, which may come first), so errors and their order are
    /// unchanged.
    fn deferrable(&self, block: &ir::Block, i: usize, cond_block: bool) -> bool {
        let stmt = &block.stmts[i];
        let Some(var) = stmt.var else {
            return false;
        };
        let fusable = match &stmt.op {
            Op::Inline(op, _, _) => {
                op.is_numeric_comparison()
                    || matches!(op, InlineOp::Not | InlineOp::Eq | InlineOp::IsNil)
                    || op.is_type_predicate()
            }
            Op::Move(Atom::Var(_)) | Op::If { .. } => true,
            _ => false,
        };
        let n = var.0 as usize;
        let self_yields = self.self_yields.get(n).copied().unwrap_or(0);
        let uses = self.uses.get(n).copied().unwrap_or(0);
        if !fusable || uses != self_yields + 1 {
            return false;
        }
        let this = Atom::Var(var);
        let mut j = i + 1;
        while matches!(block.stmts.get(j), Some(s) if matches!(s.op, Op::RegionCreateLazy | Op::RegionCreate))
        {
            j += 1;
        }
        match block.stmts.get(j) {
            Some(next) => match &next.op {
                // The self-yields are in this `if` (they are uses of the
                // variable): only a branch form can skip them.
                Op::If { cond, .. } => {
                    *cond == this && (self_yields == 0 || self.deferrable(block, j, cond_block))
                }
                Op::Inline(InlineOp::Not, args, _) => {
                    args[..] == [this] && self.deferrable(block, j, cond_block)
                }
                Op::Move(a) => *a == this && self.deferrable(block, j, cond_block),
                _ => false,
            },
            None => match &block.tail {
                Tail::If { cond, .. } => *cond == this && self_yields == 0,
                Tail::Yield(a) => cond_block && *a == this && self_yields == 0,
                _ => false,
            },
        }
    }

    /// End the current block by jumping to `yes` when `cond` is truthy and
    /// to `no` otherwise (neither is sealed). A deferred condition becomes
    /// its compare and a branch: no Bool is built on the fast paths; the
    /// slow paths (non-fixnum operands: Floats, big values, type errors)
    /// call the same primitive as the value form and branch on its answer.
    fn branch_cond(&mut self, cond: &Atom, yes: Block, no: Block) -> Result<()> {
        let deferred = match cond {
            Atom::Var(v) => self.deferred.remove(v),
            _ => None,
        };
        let Some(stmt) = deferred else {
            let c = self.atom(cond)?;
            let t = self.truthy(c);
            self.b.ins().brif(t, yes, &[], no, &[]);
            return Ok(());
        };
        let loc = stmt.loc;
        self.b.set_srcloc(SourceLoc::new(loc.0));
        let (op, args) = match &stmt.op {
            Op::Inline(op, args, _) => (*op, args),
            Op::Move(a) => return self.branch_cond(a, yes, no),
            Op::If { cond: c, then, els } => return self.branch_if(c, then, els, yes, no),
            _ => {
                return Err(CodegenError::new(
                    "deferred condition of an unexpected kind",
                ))
            }
        };
        match op {
            InlineOp::Not => self.branch_cond(&args[0], no, yes),
            InlineOp::IsNil => {
                let a = self.atom(&args[0])?;
                let c = self.b.ins().icmp_imm_s(IntCC::Equal, a, NIL as i64);
                self.b.ins().brif(c, yes, &[], no, &[]);
                Ok(())
            }
            op if op.is_type_predicate() => {
                let a = self.atom(&args[0])?;
                if op == InlineOp::IsPair && self.checked_pair(a).is_some() {
                    self.b.ins().jump(yes, &[]);
                    return Ok(());
                }
                let pair = match (op, self.pair_var.take()) {
                    (InlineOp::IsPair, Some(var)) => {
                        self.pair_tested = Some((a, var));
                        Some(var)
                    }
                    _ => None,
                };
                self.type_test_branch(op, a, loc, yes, no, pair)
            }
            InlineOp::Eq => {
                let a = self.atom(&args[0])?;
                let b = self.atom(&args[1])?;
                if self.words_decide_eq(args) {
                    // As in `inline`: the words decide.
                    let c = self.b.ins().icmp(IntCC::Equal, a, b);
                    self.b.ins().brif(c, yes, &[], no, &[]);
                    Ok(())
                } else {
                    self.identity_branch(a, b, loc, yes, no)
                }
            }
            _ => {
                let a = self.num(&args[0])?;
                let b = self.num(&args[1])?;
                self.compare_branch(op, a, b, loc, yes, no)
            }
        }
    }

    /// A non-tail `if` generated as a branch to `yes` or `no`: its
    /// branches' yields branch there on their values. A branch that only
    /// yields the `if`'s own condition (`or`: `(if t t b)`, `and`:
    /// `(if t b t)`) goes straight to the target that condition selects.
    fn branch_if(
        &mut self,
        cond: &'a Atom,
        then: &'a ir::Block,
        els: &'a ir::Block,
        yes: Block,
        no: Block,
    ) -> Result<()> {
        let yields_cond = |b: &ir::Block| yields_only(b, cond);
        let then_block = (!yields_cond(then)).then(|| self.b.create_block());
        let else_block = (!yields_cond(els)).then(|| self.b.create_block());
        self.branch_cond(cond, then_block.unwrap_or(yes), else_block.unwrap_or(no))?;
        for (target, body) in [(then_block, then), (else_block, els)] {
            if let Some(target) = target {
                self.b.seal_block(target);
                self.b.switch_to_block(target);
                self.block(body, Join::Branch(yes, no))?;
            }
        }
        Ok(())
    }

    // ---- statements ----

    fn stmt(&mut self, stmt: &'a ir::Stmt) -> Result<Value> {
        let loc = stmt.loc;
        self.b.set_srcloc(SourceLoc::new(loc.0));
        match &stmt.op {
            Op::Move(a) if self.unboxed_var(stmt.var).is_some() => {
                let n = self.num(a)?;
                self.define_unboxed(stmt.var, n)
            }
            Op::Move(a) => self.atom(a),
            Op::Inline(op, args, site) if self.unboxed_var(stmt.var).is_some() => {
                let n = self.inline_num(*op, args, *site, loc, true)?;
                self.define_unboxed(stmt.var, n)
            }
            Op::Inline(op, args, site) => self.inline(*op, args, *site, loc),
            Op::Prim { prim, args, site } => {
                let desc = runtime::prim_by_id(*prim)?;
                match desc.open_coded {
                    Some(OpenCoded::FieldGet) if self.field_site(args, 2) => {
                        let s = self.atom(&args[0])?;
                        let key = self.atom(&args[1])?;
                        let unboxed = self.unboxed_var(stmt.var).is_some();
                        let again = self.read_again(&args[0]);
                        let n = self.field_get(s, key, *site, unboxed, again, loc)?;
                        return self.define_num(stmt.var, n, unboxed);
                    }
                    Some(OpenCoded::FieldPut) if self.field_site(args, 3) => {
                        let s = self.atom(&args[0])?;
                        let key = self.atom(&args[1])?;
                        // An unboxed Float is stored into a raw slot as is.
                        let v = self.num(&args[2])?;
                        return self.field_put(s, key, v, loc);
                    }
                    _ => {}
                }
                if is_sqrt(desc, args) && self.float_paths {
                    let n = self.num(&args[0])?;
                    let unboxed = self.unboxed_var(stmt.var).is_some();
                    let r = self.sqrt(desc, n, *site, unboxed, loc)?;
                    return self.define_num(stmt.var, r, unboxed);
                }
                let args = self.atoms(args)?;
                if omni_runtime::prims::boxes_raw_floats(desc.name) {
                    // Its region only once it exists (see `with_site_region`).
                    return self.with_site_region(*site, |tx, region| {
                        tx.call_prim(desc, region, &args, loc)
                    });
                }
                let region = self.site_region(*site)?;
                match desc.open_coded {
                    Some(OpenCoded::ArraySetImmediate) => {
                        self.array_set_immediate(desc, region, &args, loc)
                    }
                    _ if desc.name == "%dispatch" && (3..=5).contains(&args.len()) => {
                        self.dispatch(&args, loc)
                    }
                    _ if desc.name == "type?" && args.len() == 2 => {
                        self.type_p(desc, region, &args, loc)
                    }
                    _ if desc.name == "make-array" && (1..=2).contains(&args.len()) => {
                        self.make_array(desc, region, &args, loc)
                    }
                    _ if desc.name == "array-length" && args.len() == 1 => {
                        self.field_or_prim(args[0], (ObjKind::Array, ARRAY_LEN, true), desc, loc)
                    }
                    _ => self.call_prim(desc, region, &args, loc),
                }
            }
            Op::PrimApplyList { prim, list, site } => {
                let region = match omni_runtime::prims::boxes_raw_floats(prim.desc().name) {
                    true => self.boxing_region(*site)?,
                    false => self.site_region(*site)?,
                };
                let list = self.atom(list)?;
                let loc = self.loc32(loc);
                self.call_variadic_with_list(*prim, region, list, loc)
            }
            Op::Call {
                callee,
                args,
                region,
            } => {
                self.callee_region = self.region_value(*region)?;
                let v = self.call(callee, args, loc, false)?;
                v.ok_or_else(|| CodegenError::new("non-tail call produced no value"))
            }
            Op::Alloc { site, what } => self.alloc(*site, what, loc),
            Op::If { cond, then, els } => {
                let join = self.b.create_block();
                let result = self.b.append_block_param(join, W);
                let (then_block, else_block, pair) = self.branch_on(cond)?;
                let facts = self.checked_facts();
                self.b.switch_to_block(then_block);
                self.decided_block(cond, true, then, Join::Value(join), pair.then_pair(true))?;
                self.restore_checked(&facts);
                self.b.switch_to_block(else_block);
                let pair = pair.then_pair(false);
                self.decided_block(cond, false, els, Join::Value(join), pair)?;
                // The join is reached from both branches: what either
                // forgot is forgotten.
                if self.checked_epoch != facts.3 {
                    self.forget_checked_facts();
                }
                self.b.seal_block(join);
                self.b.switch_to_block(join);
                // The branches' statements set their own locations.
                self.b.set_srcloc(SourceLoc::new(loc.0));
                Ok(result)
            }
            Op::GlobalGet { global, checked } => {
                let addr = self.global_addr(*global)?;
                let v = self.b.ins().load(W, MemFlagsData::trusted(), addr, 0);
                if *checked {
                    let name = &self.cx.prog.globals[global.0 as usize].name;
                    self.check_bound(v, name, loc)?;
                }
                Ok(v)
            }
            Op::GlobalSet {
                global,
                value,
                barrier,
            } => {
                // The runtime refuses a `set!` on a spawned thread, stores
                // (through the barrier when kept, and moving a value of a
                // retired state version into the current one), and may then
                // renew the global state.
                let v = self.atom(value)?;
                let addr = self.global_addr(*global)?;
                let barrier = self.word(u64::from(*barrier));
                let loc = self.loc32(loc);
                self.call_rt(RuntimeFn::GlobalSet, &[addr, v, barrier, loc])?;
                Ok(self.word(NOTHING))
            }
            Op::EnvGet(i) => {
                let offset = CLOSURE_FREE + 8 * *i as i32;
                Ok(self
                    .b
                    .ins()
                    .load(W, MemFlagsData::trusted(), self.env, offset))
            }
            Op::BoxGet(cell) => {
                // A cell is always a box; a forwarded one (moved by a store
                // repair) takes the cold path through `unbox`, which resolves.
                let cell = self.atom(cell)?;
                let unbox = runtime::prim("unbox")?;
                self.field_or_prim(cell, (ObjKind::Box, BOX_VALUE, false), unbox, loc)
            }
            Op::BoxSet {
                cell,
                value,
                barrier,
            } => {
                // A forwarded cell takes the cold path through `set-box!`,
                // which resolves it and stores through the store helper.
                let cell = self.atom(cell)?;
                let value = self.atom(value)?;
                let fast = self.b.create_block();
                let slow = self.b.create_block();
                let join = self.b.create_block();
                self.b.set_cold_block(slow);
                self.branch_if_kind(cell, ObjKind::Box, fast, slow);
                self.b.seal_block(fast);
                self.b.seal_block(slow);
                self.b.switch_to_block(fast);
                let mut v = value;
                if *barrier {
                    v = self.call_rt1(RuntimeFn::StoreBarrier, &[cell, v])?;
                }
                self.b
                    .ins()
                    .store(MemFlagsData::trusted(), v, cell, BOX_VALUE);
                self.b.ins().jump(join, &[]);
                self.b.switch_to_block(slow);
                // `%set-var!`: `set-box!`, refusing a spawned thread's
                // capture guard (threads share no mutable state).
                let desc = runtime::prim("%set-var!")?;
                self.call_prim(desc, self.region, &[cell, value], loc)?;
                self.b.ins().jump(join, &[]);
                self.b.seal_block(join);
                self.b.switch_to_block(join);
                Ok(self.word(NOTHING))
            }
            Op::ClosureInit {
                closure,
                index,
                value,
            } => {
                let closure = self.atom(closure)?;
                let v = self.atom(value)?;
                let offset = CLOSURE_FREE + 8 * *index as i32;
                self.b
                    .ins()
                    .store(MemFlagsData::trusted(), v, closure, offset);
                Ok(self.word(NOTHING))
            }
            // The scope region too is created at its first use (see
            // docs/CTRR.md, "Scope regions are created at their first
            // use"): nqueens' `place-from` places a pair in it on one path
            // of ten, and created 38 million regions for 3.6 million pairs.
            Op::RegionCreate | Op::RegionCreateLazy => {
                let var = stmt
                    .var
                    .ok_or_else(|| CodegenError::new("region creation without a variable"))?;
                if self.dead_regions.contains(&var) {
                    return Ok(self.word(0));
                }
                // A loop's region slot is set up before its head and kept.
                if !self.regions_across_iterations.contains(&var) {
                    self.lazy_region_slot(var, matches!(stmt.op, Op::RegionCreate));
                }
                Ok(self.word(0))
            }
            Op::RegionExit(Atom::Var(v)) if self.dead_regions.contains(v) => Ok(self.word(NOTHING)),
            // A back edge of the Int copy keeps the loop's region as it is:
            // the slot holds null or a region an earlier (generic)
            // iteration left empty at its back edge, and this iteration
            // allocated nothing in it (`omni_region_recycle` would keep it).
            Op::RegionExit(Atom::Var(v)) if self.back_edge && self.dead_across.contains(v) => {
                Ok(self.word(NOTHING))
            }
            Op::RegionExit(a) => {
                let lazy = match a {
                    Atom::Var(v) => self.lazy_slot(*v).map(|slot| (*v, slot)),
                    _ => None,
                };
                let Some((var, slot)) = lazy else {
                    let r = self.atom(a)?;
                    self.call_rt(RuntimeFn::RegionExit, &[r])?;
                    return Ok(self.word(NOTHING));
                };
                self.forget_region(var);
                let r = self.b.ins().stack_load(W, W, slot, 0);
                let across = self.regions_across_iterations.contains(&var);
                let back_edge = self.back_edge;
                // A lazy region exists only if something allocated in it.
                self.if_nonzero(r, |tx| {
                    if across && back_edge {
                        let kept = tx.call_rt1(RuntimeFn::RegionRecycle, &[r])?;
                        tx.b.ins().stack_store(W, kept, slot, 0);
                    } else {
                        tx.call_rt(RuntimeFn::RegionExit, &[r])?;
                        if across {
                            // The slot outlives the iteration.
                            let zero = tx.word(0);
                            tx.b.ins().stack_store(W, zero, slot, 0);
                        }
                    }
                    Ok(())
                })?;
                Ok(self.word(NOTHING))
            }
            Op::CheckBound { value, name } => {
                let v = self.atom(value)?;
                self.check_bound(v, name, loc)?;
                Ok(v)
            }
            Op::StatePins => {
                if !self.pins_across_iterations {
                    self.pins = Some(self.pin_word()?);
                }
                Ok(self.word(0))
            }
            Op::StatePin(a) => {
                let v = self.atom(a)?;
                self.pin_value(v)?;
                Ok(self.word(NOTHING))
            }
            Op::StatePinMoved { value, before } => {
                let (v, old) = (self.atom(value)?, self.atom(before)?);
                let moved = self.b.ins().icmp(IntCC::NotEqual, v, old);
                self.if_true(moved, |tx| tx.pin_value(v))?;
                Ok(self.word(NOTHING))
            }
            Op::StatePinCurrent => {
                let slot = self.pins_slot()?;
                let r = self.call_rt1(RuntimeFn::StateRegion, &[])?;
                let pins = self.b.ins().stack_load(W, W, slot, 0);
                let pins = self.call_rt1(RuntimeFn::StatePinRegion, &[pins, r])?;
                self.b.ins().stack_store(W, pins, slot, 0);
                Ok(self.word(NOTHING))
            }
            Op::StateUnpin if self.back_edge && self.pins_across_iterations => {
                let slot = self.pins_slot()?;
                let word = self.b.ins().stack_addr(W, slot, 0);
                self.call_rt(RuntimeFn::StateRepin, &[word])?;
                Ok(self.word(NOTHING))
            }
            Op::StateUnpin => {
                let slot = self.pins_slot()?;
                let pins = self.b.ins().stack_load(W, W, slot, 0);
                self.if_nonzero(pins, |tx| {
                    tx.call_rt(RuntimeFn::StateUnpin, &[pins])?;
                    // No pin (nor its cached version) outlives the unpin.
                    let zero = tx.word(0);
                    tx.b.ins().stack_store(W, zero, slot, 0);
                    tx.b.ins().stack_store(W, zero, slot, 8);
                    Ok(())
                })?;
                Ok(self.word(NOTHING))
            }
            Op::StateHold { value, holder } => {
                let v = self.atom(value)?;
                let holder = self.region_value(*holder)?;
                self.if_state_object(v, |tx, version| {
                    // A repeat of the holder's newest hold (a loop holding
                    // its operands in its carry region on every iteration)
                    // changes nothing: `region::hold::hold` makes the same
                    // test first, so it is made here without the call.
                    let flags = MemFlagsData::trusted();
                    let check_kind = tx.b.create_block();
                    let check_held = tx.b.create_block();
                    let call = tx.b.create_block();
                    let done = tx.b.create_block();
                    let head = tx.b.ins().load(W, flags, holder, REGION_FINALIZERS);
                    tx.b.ins().brif(head, check_kind, &[], call, &[]);
                    tx.b.seal_block(check_kind);
                    tx.b.switch_to_block(check_kind);
                    let header = tx.b.ins().load(W, flags, head, 0);
                    let kind = tx.b.ins().band_imm_s(header, KIND_MASK as i64);
                    let is_hold = tx.equals_imm(kind, ObjKind::Hold as i64);
                    tx.b.ins().brif(is_hold, check_held, &[], call, &[]);
                    tx.b.seal_block(check_held);
                    tx.b.switch_to_block(check_held);
                    let held = tx.b.ins().load(W, flags, head, HOLD_HELD);
                    let repeat = tx.b.ins().icmp(IntCC::Equal, held, version);
                    tx.b.ins().brif(repeat, done, &[], call, &[]);
                    tx.b.seal_block(call);
                    tx.b.switch_to_block(call);
                    tx.call_rt(RuntimeFn::StateHoldValue, &[holder, v])?;
                    tx.b.ins().jump(done, &[]);
                    tx.b.seal_block(done);
                    tx.b.switch_to_block(done);
                    Ok(())
                })?;
                Ok(self.word(NOTHING))
            }
            Op::StateRefresh(a) => {
                // Inline: only an object of a state version goes to the
                // runtime (which returns it as is unless its version was
                // retired); the variable is rebound to what it returns.
                // An object of the current version is returned as it is:
                // that test is made here too, so only a value of a retired
                // version (a renewal happened since it was read) calls.
                if let Atom::Var(var) = a {
                    let var = self.var(*var)?;
                    let v = self.b.use_var(var);
                    self.if_state_object(v, |tx, version| {
                        let current = tx.runtime_word("omni_state_current")?;
                        let stale = tx.b.ins().icmp(IntCC::NotEqual, version, current);
                        tx.if_true(stale, |tx| {
                            let fresh = tx.call_rt1(RuntimeFn::StateRefresh, &[v])?;
                            tx.b.def_var(var, fresh);
                            Ok(())
                        })
                    })?;
                }
                Ok(self.word(NOTHING))
            }
            Op::StateSafepoint => {
                // The runtime renews the state only once the current
                // version has reached the renewal limit (`state::safepoint`):
                // below it, or without a version, there is no call.
                let current = self.runtime_word("omni_state_current")?;
                self.if_nonzero(current, |tx| {
                    let bytes = tx.region_bytes(current);
                    let limit = tx.runtime_word("omni_state_limit")?;
                    let full =
                        tx.b.ins()
                            .icmp(IntCC::UnsignedGreaterThanOrEqual, bytes, limit);
                    tx.if_true(full, |tx| {
                        tx.call_rt(RuntimeFn::StateSafepoint, &[]).map(|_| ())
                    })
                })?;
                Ok(self.word(NOTHING))
            }
            Op::StoreRegion { container, fields } => {
                // A field that is an object may be younger than the state:
                // then the value is built in the result region (no call).
                let c = self.atom(container)?;
                let result = self.region;
                let mut object = self.b.ins().iconst(types::I8, 0);
                for a in fields {
                    let f = self.atom(a)?;
                    let p = self.is_pointer(f);
                    object = self.b.ins().bor(object, p);
                }
                let ask = self.b.create_block();
                let join = self.b.create_block();
                self.b.append_block_param(join, W);
                self.b.ins().brif(object, join, &[result.into()], ask, &[]);
                self.b.seal_block(ask);
                self.b.switch_to_block(ask);
                let r = self.call_rt1(RuntimeFn::StoreRegion, &[c, result])?;
                self.b.ins().jump(join, &[r.into()]);
                self.b.seal_block(join);
                self.b.switch_to_block(join);
                Ok(self.b.block_params(join)[0])
            }
            Op::CarryStart { carry } => {
                let c = self.var(*carry)?;
                self.b.def_var(c, self.region);
                let bytes = self.region_bytes(self.region);
                Ok(self.b.ins().iadd_imm_s(bytes, CARRY_START_BYTES as i64))
            }
            Op::CarryRenew {
                carry,
                limit,
                roots,
            } => {
                let (cv, lv) = (self.var(*carry)?, self.var(*limit)?);
                let (c, l) = (self.b.use_var(cv), self.b.use_var(lv));
                let bytes = self.region_bytes(c);
                let full = self
                    .b
                    .ins()
                    .icmp(IntCC::UnsignedGreaterThanOrEqual, bytes, l);
                self.carry_call(full, RuntimeFn::CarryRenew, *carry, Some(*limit), roots)?;
                Ok(self.word(NOTHING))
            }
            Op::CarryEnd { carry, roots } => {
                let cv = self.var(*carry)?;
                let c = self.b.use_var(cv);
                let own = self.b.ins().icmp(IntCC::NotEqual, c, self.region);
                self.carry_call(own, RuntimeFn::CarryEnd, *carry, None, roots)?;
                Ok(self.word(NOTHING))
            }
        }
    }

    /// If `v` is UNBOUND, report "unbound `name`" (the cold path interns the
    /// name only when the error happens).
    fn check_bound(&mut self, v: Value, name: &str, loc: LocId) -> Result<()> {
        let unbound = self.b.ins().icmp_imm_s(IntCC::Equal, v, UNBOUND as i64);
        let error = self.b.create_block();
        let ok = self.b.create_block();
        self.b.set_cold_block(error);
        self.b.ins().brif(unbound, error, &[], ok, &[]);
        self.b.seal_block(error);
        self.b.seal_block(ok);
        self.b.switch_to_block(error);
        let sym = self.intern(name)?;
        let loc = self.loc32(loc);
        self.call_rt(RuntimeFn::ErrUnbound, &[sym, loc])?;
        self.b.ins().trap(TRAP_NORETURN);
        self.b.switch_to_block(ok);
        Ok(())
    }

    // ---- inline operations ----

    fn inline(
        &mut self,
        op: InlineOp,
        args: &[Atom],
        site: Option<AllocSiteId>,
        loc: LocId,
    ) -> Result<Value> {
        if args.len() != op.arity() {
            return Err(CodegenError::new(format!(
                "inline {op:?} with {} operands",
                args.len()
            )));
        }
        if op.reads_numbers() {
            return Ok(self.inline_num(op, args, site, loc, false)?.word);
        }
        let a = self.atom(&args[0])?;
        match op {
            InlineOp::Car | InlineOp::Cdr => {
                let again = self.read_again(&args[0]);
                self.car_cdr(op, a, again, loc)
            }
            InlineOp::ArrayRef => {
                let i = self.atom(&args[1])?;
                self.array_ref(a, i, loc)
            }
            InlineOp::CharToInt | InlineOp::IntToChar => self.char_int(op, a, loc),
            InlineOp::StringLength => {
                let desc = slow_prim(op)?;
                self.field_or_prim(a, (ObjKind::String, STRING_CHAR_LEN, true), desc, loc)
            }
            InlineOp::StringRef => {
                let i = self.atom(&args[1])?;
                self.string_ref(a, i, loc)
            }
            InlineOp::Not => {
                let t = self.truthy(a);
                let f = self.b.ins().bxor_imm_s(t, 1);
                Ok(self.bool_word(f))
            }
            InlineOp::Eq => {
                let b = self.atom(&args[1])?;
                if self.words_decide_eq(args) {
                    // An immediate or a constant (global region) is never a
                    // forwarded original nor the copy one resolves to (copies
                    // are fresh objects): the words decide, as for
                    // `(eq? x 'sym)`.
                    let c = self.b.ins().icmp(IntCC::Equal, a, b);
                    Ok(self.bool_word(c))
                } else {
                    self.identity(a, b, loc)
                }
            }
            InlineOp::IsNil => {
                let c = self.b.ins().icmp_imm_s(IntCC::Equal, a, NIL as i64);
                Ok(self.bool_word(c))
            }
            // A known pair (or the original of one): `pair?` is true.
            InlineOp::IsPair if self.checked_pair(a).is_some() => Ok(self.word(TRUE)),
            op if op.is_type_predicate() => {
                let yes = self.b.create_block();
                let no = self.b.create_block();
                let join = self.b.create_block();
                let result = self.b.append_block_param(join, W);
                self.type_test_branch(op, a, loc, yes, no, None)?;
                self.b.seal_block(yes);
                self.b.seal_block(no);
                self.b.switch_to_block(yes);
                let t = self.word(TRUE);
                self.b.ins().jump(join, &[t.into()]);
                self.b.switch_to_block(no);
                let f = self.word(FALSE);
                self.b.ins().jump(join, &[f.into()]);
                self.b.seal_block(join);
                self.b.switch_to_block(join);
                Ok(result)
            }
            // The ops that read numbers went to `inline_num` above.
            _ => unreachable!("{op:?} reads numbers"),
        }
    }

    /// An arithmetic op or comparison on operands that may be unboxed
    /// Floats; with `unboxed_result` (an arithmetic op whose variable is an
    /// unboxed Float), a Float result stays unboxed.
    fn inline_num(
        &mut self,
        op: InlineOp,
        args: &[Atom],
        site: Option<AllocSiteId>,
        loc: LocId,
        unboxed_result: bool,
    ) -> Result<Num> {
        if args.len() != 2 {
            return Err(CodegenError::new(format!(
                "inline {op:?} with {} operands",
                args.len()
            )));
        }
        let a = self.num(&args[0])?;
        let b = self.num(&args[1])?;
        match op {
            InlineOp::Add | InlineOp::Sub | InlineOp::Mul => self.arith(
                op,
                a,
                b,
                ResultPlace {
                    site,
                    unboxed: unboxed_result,
                },
                loc,
                self.result_range(op, args)
                    .is_some_and(int_paths::within_fixnums),
            ),
            InlineOp::Div | InlineOp::Quot | InlineOp::Rem | InlineOp::Mod => self.division(
                op,
                a,
                b,
                ResultPlace {
                    site,
                    unboxed: unboxed_result,
                },
                loc,
            ),
            _ => Ok(Num::word(self.compare(op, a, b, loc)?)),
        }
    }

    /// The operand `a` of an op that reads numbers: its f64 and flag too
    /// when it is an unboxed Float variable.
    fn num(&mut self, a: &Atom) -> Result<Num> {
        if let Atom::Var(v) = a {
            if let Some(u) = self.unboxed.get(v.0 as usize).copied().flatten() {
                let word = self.var(*v)?;
                return Ok(Num {
                    word: self.b.use_var(word),
                    float: Some((self.b.use_var(u.float), self.b.use_var(u.is_float), u.site)),
                    int: false,
                });
            }
        }
        Ok(Num {
            int: self.known_int(a),
            ..Num::word(self.atom(a)?)
        })
    }

    fn unboxed_var(&self, v: Option<ir::VarId>) -> Option<UnboxedVars> {
        self.unboxed.get(v?.0 as usize).copied().flatten()
    }

    /// Define the unboxed Float variable `v` as `n` (a boxed word alone is
    /// not a Float of its own: its flag is 0).
    fn define_unboxed(&mut self, v: Option<ir::VarId>, n: Num) -> Result<Value> {
        let (Some(v), Some(u)) = (v, self.unboxed_var(v)) else {
            return Err(CodegenError::new("not an unboxed Float variable"));
        };
        let (f, flag) = match n.float {
            Some((f, flag, _)) => (f, flag),
            None => (
                self.b.ins().f64const(0.0),
                self.b.ins().iconst(types::I8, 0),
            ),
        };
        self.b.def_var(u.float, f);
        self.b.def_var(u.is_float, flag);
        let word = self.var(v)?;
        self.b.def_var(word, n.word);
        Ok(n.word)
    }

    /// A statement's value `n`: defines its variable's f64 and flag too
    /// when it is an unboxed Float variable (`unboxed`).
    fn define_num(&mut self, v: Option<ir::VarId>, n: Num, unboxed: bool) -> Result<Value> {
        if unboxed {
            self.define_unboxed(v, n)
        } else {
            Ok(n.word)
        }
    }

    /// The word of `n`: an unboxed Float is boxed (inline, in the region
    /// of its allocation site) on the path where its flag is set.
    fn boxed(&mut self, n: Num) -> Result<Value> {
        let Some((f, flag, site)) = n.float else {
            return Ok(n.word);
        };
        let first = self.b.func.dfg.num_blocks();
        let box_it = self.b.create_block();
        let join = self.b.create_block();
        let word = self.b.append_block_param(join, W);
        self.b.ins().brif(flag, box_it, &[], join, &[n.word.into()]);
        self.b.seal_block(box_it);
        self.b.switch_to_block(box_it);
        let region = self.site_region(site)?;
        let v = self.inline_float(region, f)?;
        self.b.ins().jump(join, &[v.into()]);
        self.set_cold_since(first);
        self.b.seal_block(join);
        self.b.switch_to_block(join);
        Ok(word)
    }

    /// Nonzero (i64) iff both operands are fixnums. Only the tags of those
    /// not known to be one are tested: a known Int of an Int copy
    /// (`int_paths.rs`) or a constant fixnum (`(* n 3)`, `(rem b 7)`:
    /// Cranelift would fold the `band` with the constant itself; not
    /// emitting it saves its e-graph work, issue 13).
    fn both_ints(&mut self, a: Num, b: Num) -> Value {
        let a_known = a.int || self.const_fixnum(a.word).is_some();
        let b_known = b.int || self.const_fixnum(b.word).is_some();
        let tags = match (a_known, b_known) {
            (true, _) => b.word,
            (false, true) => a.word,
            (false, false) => self.b.ins().band(a.word, b.word),
        };
        self.b.ins().band_imm_s(tags, 1)
    }

    /// Whether `a` is a known fixnum: an Int literal, or a fixnum of the
    /// Int copy being translated (`int_paths.rs`).
    fn known_int(&self, a: &Atom) -> bool {
        match a {
            Atom::Imm(w) => omni_runtime::value::is_int(*w),
            Atom::Var(v) => self.int_vars.get(v.0 as usize) == Some(&true),
            _ => false,
        }
    }

    /// The bounds of known fixnum `a` here (`ranges`).
    fn atom_range(&self, a: &Atom) -> Option<Range> {
        if let Some(r) = int_paths::imm_range(a) {
            return Some(r);
        }
        let Atom::Var(v) = a else { return None };
        if !self.known_int(a) {
            return None;
        }
        let bounds = self.ranges.iter().rev().find(|(w, _)| w == v);
        Some(bounds.map_or(int_paths::FIXNUMS, |(_, r)| *r))
    }

    /// The bounds of `+ - *` of `args` when both are known fixnums (as
    /// integers: outside the fixnums, the op overflows).
    fn result_range(&self, op: InlineOp, args: &[Atom]) -> Option<Range> {
        let (x, y) = (
            self.atom_range(args.first()?)?,
            self.atom_range(args.get(1)?)?,
        );
        int_paths::arith_range(op, x, y)
    }

    /// The bounds the comparison `cond`, known to be `holds`, gives its
    /// operands (known fixnums of the Int copy), added to `ranges`.
    fn assume(&mut self, cond: &Atom, holds: bool) {
        let Atom::Var(c) = cond else { return };
        let Some(&(op, x, y)) = self.comparisons.get(c) else {
            return;
        };
        let (Some(rx), Some(ry)) = (self.atom_range(&x), self.atom_range(&y)) else {
            return;
        };
        let (nx, ny) = int_paths::refine(op, holds, rx, ry);
        for (a, r) in [(x, nx), (y, ny)] {
            if let Atom::Var(v) = a {
                self.ranges.push((v, r));
            }
        }
    }

    /// A branch of an `if` on `cond`, taken when `cond` is `holds`: the
    /// block, with what that says of the operands of a comparison.
    ///
    /// `pair`: a value known to be a pair in this branch (a `pair?` that
    /// held) and the variable holding the pair it stands for.
    fn decided_block(
        &mut self,
        cond: &Atom,
        holds: bool,
        block: &'a ir::Block,
        join: Join,
        pair: Option<(Value, Variable)>,
    ) -> Result<()> {
        let before = self.ranges.len();
        if !self.int_vars.is_empty() {
            self.assume(cond, holds);
        }
        let epoch = self.checked_epoch;
        if let Some((value, var)) = pair {
            let p = self.b.use_var(var);
            self.checked_pairs.push((value, p));
        }
        let result = self.block(block, join);
        // `block` restored the facts it started with (this one last) or,
        // when it forgot, none.
        if pair.is_some() && self.checked_epoch == epoch {
            self.checked_pairs.pop();
        }
        self.ranges.truncate(before);
        result
    }

    /// The word `v` when it is a constant fixnum: an `iconst` with the
    /// fixnum tag bit set.
    fn const_fixnum(&self, v: Value) -> Option<i64> {
        let inst = self.b.func.dfg.value_def(v).inst()?;
        match self.b.func.dfg.insts[inst] {
            InstructionData::UnaryImm {
                opcode: Opcode::Iconst,
                imm,
            } => Some(imm.bits()).filter(|w| w & 1 == 1),
            _ => None,
        }
    }

    /// `+ - *` on tagged fixnums with overflow check; anything else (floats,
    /// type errors, overflow) goes to the primitive. With `exact` (known
    /// fixnums whose bounds keep the result a fixnum), no overflow check.
    fn arith(
        &mut self,
        op: InlineOp,
        an: Num,
        bn: Num,
        place: ResultPlace,
        loc: LocId,
        exact: bool,
    ) -> Result<Num> {
        let (a, b) = (an.word, bn.word);
        // A constant operand is untagged here rather than by Cranelift's
        // constant folding (the same code, less e-graph work: issue 13).
        let (ka, kb) = (self.const_fixnum(a), self.const_fixnum(b));
        let exact = exact && an.int && bn.int;
        self.fixnums_or_prim(op, an, bn, place, loc, |tx, slow, join| {
            let minus_tag = |tx: &mut Self, w: Value, k: Option<i64>| match k {
                Some(k) => tx.b.ins().iconst(W, k - 1),
                None => tx.b.ins().iadd_imm_s(w, -1),
            };
            if exact {
                let r = match op {
                    InlineOp::Add => {
                        let b_untagged = minus_tag(tx, b, kb);
                        tx.b.ins().iadd(a, b_untagged)
                    }
                    InlineOp::Sub => {
                        let b_untagged = minus_tag(tx, b, kb);
                        tx.b.ins().isub(a, b_untagged)
                    }
                    _ => {
                        let a_untagged = minus_tag(tx, a, ka);
                        let b_shifted = tx.b.ins().sshr_imm_s(b, 1);
                        let p = tx.b.ins().imul(a_untagged, b_shifted);
                        tx.b.ins().bor_imm_s(p, 1)
                    }
                };
                tx.b.ins().jump(join, &[r.into()]);
                return;
            }
            // A constant addend (`(+ n 1)`, `(+ 1 n)`): the sum overflowed
            // iff it moved the wrong way from the other operand. One
            // compare, which the branch fuses with, where the overflow flag
            // of `sadd_overflow` is materialised by `seto` and tested
            // again (ack, nqueens, issue 13). Not for `(- m 1)`: the same
            // form there cost tak 2% more instructions (register moves at
            // its loop head) for ack's 5% (docs/BENCH_PROTOCOL.md).
            let constant = match (ka, kb) {
                (_, Some(k)) => Some((a, k)),
                (Some(k), None) => Some((b, k)),
                _ => None,
            };
            if let (InlineOp::Add, Some((w, k))) = (op, constant) {
                // `k` is a tagged fixnum: odd, so `k - 1` does not overflow.
                let delta = k - 1;
                if delta != 0 {
                    let r = tx.b.ins().iadd_imm_s(w, delta);
                    let wrong_way = if delta > 0 {
                        IntCC::SignedLessThan
                    } else {
                        IntCC::SignedGreaterThan
                    };
                    let overflow = tx.b.ins().icmp(wrong_way, r, w);
                    tx.b.ins().brif(overflow, slow, &[], join, &[r.into()]);
                    return;
                }
            }
            let (r, overflow) = match op {
                // (2x+1) + 2y = 2(x+y)+1
                InlineOp::Add => {
                    let b_untagged = minus_tag(tx, b, kb);
                    tx.b.ins().sadd_overflow(a, b_untagged)
                }
                // (2x+1) - 2y = 2(x-y)+1
                InlineOp::Sub => {
                    let b_untagged = minus_tag(tx, b, kb);
                    tx.b.ins().ssub_overflow(a, b_untagged)
                }
                // 2x * y = 2xy, then set the tag bit (cannot overflow: even + 1)
                InlineOp::Mul => {
                    let a_untagged = minus_tag(tx, a, ka);
                    let b_shifted = match kb {
                        Some(k) => tx.b.ins().iconst(W, k >> 1),
                        None => tx.b.ins().sshr_imm_s(b, 1),
                    };
                    let (p, overflow) = tx.b.ins().smul_overflow(a_untagged, b_shifted);
                    (tx.b.ins().bor_imm_s(p, 1), overflow)
                }
                _ => unreachable!("arith called with {op:?}"),
            };
            tx.b.ins().brif(overflow, slow, &[], join, &[r.into()]);
        })
    }

    /// `/`, `quot`, `rem`, `mod` of two fixnums, the divisor neither 0 nor -1
    /// (so the machine division cannot trap and the quotient fits); the
    /// primitive on a cold path for the rest (Floats, errors, -1).
    fn division(
        &mut self,
        op: InlineOp,
        an: Num,
        bn: Num,
        place: ResultPlace,
        loc: LocId,
    ) -> Result<Num> {
        let (a, b) = (an.word, bn.word);
        // A constant divisor other than 0 and -1 needs no check (a branch
        // on a constant condition is not folded away by Cranelift).
        let known_divisor = self
            .const_fixnum(b)
            .map(|w| w >> 1)
            .filter(|y| !matches!(y, 0 | -1));
        self.fixnums_or_prim(op, an, bn, place, loc, |tx, slow, join| {
            let x = tx.b.ins().sshr_imm_s(a, 1);
            let y = match known_divisor {
                Some(y) => tx.b.ins().iconst(W, y),
                None => {
                    let y = tx.b.ins().sshr_imm_s(b, 1);
                    // y + 1 > 1 (unsigned) excludes exactly y = 0 and y = -1.
                    let y1 = tx.b.ins().iadd_imm_s(y, 1);
                    let safe = tx.b.ins().icmp_imm_u(IntCC::UnsignedGreaterThan, y1, 1);
                    let divide = tx.b.create_block();
                    tx.b.ins().brif(safe, divide, &[], slow, &[]);
                    tx.b.seal_block(divide);
                    tx.b.switch_to_block(divide);
                    y
                }
            };
            let r = match op {
                InlineOp::Div | InlineOp::Quot => tx.b.ins().sdiv(x, y),
                InlineOp::Rem => tx.b.ins().srem(x, y),
                InlineOp::Mod => {
                    // floored: a nonzero remainder whose sign differs from
                    // the divisor's gets the divisor added
                    let m = tx.b.ins().srem(x, y);
                    let signs = tx.b.ins().bxor(m, y);
                    let differ = tx.b.ins().icmp_imm_s(IntCC::SignedLessThan, signs, 0);
                    let nonzero = tx.b.ins().icmp_imm_s(IntCC::NotEqual, m, 0);
                    let adjust = tx.b.ins().band(differ, nonzero);
                    let m_plus_y = tx.b.ins().iadd(m, y);
                    tx.b.ins().select(adjust, m_plus_y, m)
                }
                _ => unreachable!("division called with {op:?}"),
            };
            let shifted = tx.b.ins().ishl_imm_s(r, 1);
            let tagged = tx.b.ins().bor_imm_s(shifted, 1);
            tx.b.ins().jump(join, &[tagged.into()]);
        })
    }

    /// A two-operand op with a fixnum fast path: `fast` is emitted where
    /// both operands are fixnums and ends by jumping to `join` with the
    /// tagged result or to `slow` (overflow, a zero divisor). Otherwise,
    /// for `+ - * /`, two numbers of which one is a Float are computed
    /// inline and the Float is bumped inline (`float_arith`). The rest goes
    /// to the op's primitive. Float results go to the region CTRR placed
    /// the op's allocation site in (without a site: the result region).
    fn fixnums_or_prim(
        &mut self,
        op: InlineOp,
        a: Num,
        b: Num,
        place: ResultPlace,
        loc: LocId,
        fast: impl FnOnce(&mut Self, Block, Block),
    ) -> Result<Num> {
        let float_op = self.float_paths
            && matches!(
                op,
                InlineOp::Add | InlineOp::Sub | InlineOp::Mul | InlineOp::Div
            );
        let (site, unboxed_result) = (place.site, place.unboxed && float_op);
        let fast_block = self.b.create_block();
        let slow = self.b.create_block();
        // Without a Float path, operands that are not both fixnums go
        // straight to the primitive: the edge is critical (the fast path's
        // overflow goes there too), and Cranelift lays out the block that
        // splits it with its successor, among the cold ones. One CLIF block
        // and jump fewer than a cold block that forwards (issue 13).
        let not_ints = match float_op {
            true => self.b.create_block(),
            false => slow,
        };
        let (join, result, float_result) = self.num_join(unboxed_result);
        // The fixnum path's result, joined with a zero f64 and flag when
        // the result is unboxed.
        let int_join = if unboxed_result {
            let int_join = self.b.create_block();
            self.b.append_block_param(int_join, W);
            int_join
        } else {
            join
        };
        self.b.set_cold_block(slow);
        self.b.set_cold_block(not_ints);
        // Two unboxed Floats whose flags are set (nbody's `(- b.x c.x)`:
        // field reads): the op on their f64s, first, without the fixnum
        // test and the operand dispatch behind it.
        if let (true, Some((xa, fa, _)), Some((xb, fb, _))) = (unboxed_result, a.float, b.float) {
            let floats = self.b.create_block();
            let check_ints = self.b.create_block();
            let both = self.b.ins().band(fa, fb);
            self.b.ins().brif(both, floats, &[], check_ints, &[]);
            self.b.seal_block(floats);
            self.b.seal_block(check_ints);
            self.b.switch_to_block(floats);
            let r = self.float_arith(op, xa, xb);
            self.jump_num_float(join, true, r, site)?;
            self.b.switch_to_block(check_ints);
        }
        // An unboxed Float's word is 0: not a fixnum.
        let known = a.int && b.int;
        if known {
            // `not_ints` and, without an overflow path, `slow` are left
            // unreachable (Cranelift drops them).
            self.b.ins().jump(fast_block, &[]);
        } else {
            let ints = self.both_ints(a, b);
            self.b.ins().brif(ints, fast_block, &[], not_ints, &[]);
        }
        self.b.seal_block(fast_block);
        if float_op {
            self.b.seal_block(not_ints);
        }
        self.b.switch_to_block(fast_block);
        fast(self, slow, int_join);
        if unboxed_result {
            self.b.seal_block(int_join);
            self.b.switch_to_block(int_join);
            let r = self.b.block_params(int_join)[0];
            self.jump_num_word(join, true, r);
        }
        if float_op {
            self.b.switch_to_block(not_ints);
            let first = self.b.func.dfg.num_blocks();
            let x = self.float_operand(a, true, slow);
            let y = self.float_operand(b, true, slow);
            let r = self.float_arith(op, x, y);
            self.jump_num_float(join, unboxed_result, r, site)?;
            self.set_cold_since(first);
        }
        self.b.seal_block(slow);
        self.b.switch_to_block(slow);
        let first = self.b.func.dfg.num_blocks();
        let wa = self.boxed(a)?;
        let wb = self.boxed(b)?;
        // Given two Ints, the primitive allocates nothing (it reports
        // overflow or a zero divisor): the Int copy's dead regions.
        let region = if known {
            self.region
        } else {
            self.site_region(site)?
        };
        let desc = slow_prim(op)?;
        let v = self.call_prim(desc, region, &[wa, wb], loc)?;
        self.jump_num_word(join, unboxed_result, v);
        self.set_cold_since(first);
        Ok(self.num_at_join(join, result, float_result, site))
    }

    /// The join block of an op whose result is a word and, when it is an
    /// unboxed Float variable's (`unboxed`), also an f64 and its flag:
    /// (block, word, f64 and flag).
    fn num_join(&mut self, unboxed: bool) -> (Block, Value, Option<(Value, Value)>) {
        let join = self.b.create_block();
        let word = self.b.append_block_param(join, W);
        let float = unboxed.then(|| {
            (
                self.b.append_block_param(join, types::F64),
                self.b.append_block_param(join, types::I8),
            )
        });
        (join, word, float)
    }

    /// Jump to a `num_join` block with the word `v` (and, for an unboxed
    /// result, a zero f64 and a clear flag).
    fn jump_num_word(&mut self, join: Block, unboxed: bool, v: Value) {
        let mut args = vec![BlockArg::from(v)];
        if unboxed {
            let zero = self.b.ins().f64const(0.0);
            let no = self.b.ins().iconst(types::I8, 0);
            args.extend([BlockArg::from(zero), BlockArg::from(no)]);
        }
        self.b.ins().jump(join, &args);
    }

    /// Jump to a `num_join` block with the Float `x`: for an unboxed result
    /// as it is (word 0, flag set), else boxed inline into the region of
    /// allocation site `site`.
    fn jump_num_float(
        &mut self,
        join: Block,
        unboxed: bool,
        x: Value,
        site: Option<AllocSiteId>,
    ) -> Result<()> {
        if unboxed {
            let zero = self.word(0);
            let yes = self.b.ins().iconst(types::I8, 1);
            self.b
                .ins()
                .jump(join, &[zero.into(), x.into(), yes.into()]);
        } else {
            let region = self.site_region(site)?;
            let boxed = self.inline_float(region, x)?;
            self.b.ins().jump(join, &[boxed.into()]);
        }
        Ok(())
    }

    /// Seal and enter a `num_join` block: its parameters as a `Num` whose
    /// f64, if any, would be boxed at `site`.
    fn num_at_join(
        &mut self,
        join: Block,
        word: Value,
        float: Option<(Value, Value)>,
        site: Option<AllocSiteId>,
    ) -> Num {
        self.b.seal_block(join);
        self.b.switch_to_block(join);
        Num {
            word,
            float: float.map(|(f, flag)| (f, flag, site)),
            int: false,
        }
    }

    /// `+ - * /` of two f64s.
    fn float_arith(&mut self, op: InlineOp, x: Value, y: Value) -> Value {
        match op {
            InlineOp::Add => self.b.ins().fadd(x, y),
            InlineOp::Sub => self.b.ins().fsub(x, y),
            InlineOp::Mul => self.b.ins().fmul(x, y),
            _ => self.b.ins().fdiv(x, y),
        }
    }

    /// The f64 of `n` when it is a Float, unboxed or boxed (or, with
    /// `ints`, a fixnum, converted as the runtime's `Num::to_f64` does);
    /// anything else, a forwarded Float included, jumps to `fail` (the
    /// primitive resolves or rejects it). The builder is left where the
    /// value is known.
    fn float_operand(&mut self, n: Num, ints: bool, fail: Block) -> Value {
        let v = n.word;
        let done = self.b.create_block();
        let f = self.b.append_block_param(done, types::F64);
        let not_int = self.b.create_block();
        if let Some((x, flag, _)) = n.float {
            let word = self.b.create_block();
            self.b.ins().brif(flag, done, &[x.into()], word, &[]);
            self.b.seal_block(word);
            self.b.switch_to_block(word);
        }
        if ints {
            let int = self.b.create_block();
            let tag = self.b.ins().band_imm_s(v, 1);
            self.b.ins().brif(tag, int, &[], not_int, &[]);
            self.b.seal_block(int);
            self.b.switch_to_block(int);
            let n = self.b.ins().sshr_imm_s(v, 1);
            let x = self.b.ins().fcvt_from_sint(types::F64, n);
            self.b.ins().jump(done, &[x.into()]);
        } else {
            self.b.ins().jump(not_int, &[]);
        }
        self.b.seal_block(not_int);
        self.b.switch_to_block(not_int);
        let float = self.b.create_block();
        self.branch_if_kind(v, ObjKind::Float, float, fail);
        self.b.seal_block(float);
        self.b.switch_to_block(float);
        let x = self
            .b
            .ins()
            .load(types::F64, MemFlagsData::trusted(), v, FLOAT_VALUE);
        self.b.ins().jump(done, &[x.into()]);
        self.b.seal_block(done);
        self.b.switch_to_block(done);
        f
    }

    /// A Float object holding `x`, bumped inline from `region` (the
    /// runtime's `make_float` when the chunk has no room).
    fn inline_float(&mut self, region: Value, x: Value) -> Result<Value> {
        self.inline_object(
            region,
            FLOAT_SIZE,
            ObjKind::Float,
            |tx, p| {
                tx.b.ins().store(MemFlagsData::trusted(), x, p, FLOAT_VALUE);
            },
            |tx| {
                let bits = tx.b.ins().bitcast(W, MemFlagsData::new(), x);
                tx.call_rt1(RuntimeFn::MakeFloat, &[region, bits])
            },
        )
    }

    /// The comparison `op` of two Floats, inline (as the runtime compares
    /// them: NaN is unordered, so only `!=` holds); anything else jumps to
    /// `fail`. Mixed Int/Float operands go there too: the runtime compares
    /// them exactly, not through a rounded conversion.
    fn float_compare(&mut self, op: InlineOp, a: Num, b: Num, fail: Block) -> Result<Value> {
        let cc = match op {
            InlineOp::Lt => FloatCC::LessThan,
            InlineOp::Gt => FloatCC::GreaterThan,
            InlineOp::Le => FloatCC::LessThanOrEqual,
            InlineOp::Ge => FloatCC::GreaterThanOrEqual,
            InlineOp::NumEq => FloatCC::Equal,
            InlineOp::NumNe => FloatCC::NotEqual,
            _ => return Err(CodegenError::new(format!("{op:?} is not a comparison"))),
        };
        let first = self.b.func.dfg.num_blocks();
        let x = self.float_operand(a, false, fail);
        let y = self.float_operand(b, false, fail);
        self.set_cold_since(first);
        Ok(self.b.ins().fcmp(cc, x, y))
    }

    /// Lay out every block created since block number `first` with the
    /// cold blocks: the Float paths behind the fixnum fast paths must not
    /// sit among the hot blocks of integer code.
    fn set_cold_since(&mut self, first: usize) {
        for n in first..self.b.func.dfg.num_blocks() {
            self.b.set_cold_block(Block::from_u32(n as u32));
        }
    }

    /// Comparisons: tagged fixnums compare like their values.
    /// (The value form keeps a branch-free Bool on the fast path; an `if`
    /// on a comparison uses `compare_branch`.)
    fn compare(&mut self, op: InlineOp, a: Num, b: Num, loc: LocId) -> Result<Value> {
        let (c, not_ints) = self.fixnum_compare(op, a, b)?;
        let Some(not_ints) = not_ints else {
            return Ok(self.bool_word(c));
        };
        let join = self.b.create_block();
        let result = self.b.append_block_param(join, W);
        let word = self.bool_word(c);
        self.b.ins().jump(join, &[word.into()]);
        self.b.switch_to_block(not_ints);
        // Without Float paths `not_ints` is the slow path itself.
        if self.float_paths {
            let slow = self.b.create_block();
            self.b.set_cold_block(slow);
            let c = self.float_compare(op, a, b, slow)?;
            let word = self.bool_word(c);
            self.b.ins().jump(join, &[word.into()]);
            self.b.seal_block(slow);
            self.b.switch_to_block(slow);
        }
        let v = self.compare_slow_path(op, a, b, loc)?;
        self.b.ins().jump(join, &[v.into()]);
        self.b.seal_block(join);
        self.b.switch_to_block(join);
        Ok(result)
    }

    /// The primitive of comparison `op` on the words of `a` and `b` (an
    /// unboxed Float boxed first: a mixed Int/Float comparison or an error).
    fn compare_slow_path(&mut self, op: InlineOp, a: Num, b: Num, loc: LocId) -> Result<Value> {
        let first = self.b.func.dfg.num_blocks();
        let wa = self.boxed(a)?;
        let wb = self.boxed(b)?;
        let v = self.slow_path(op, &[wa, wb], loc)?;
        self.set_cold_since(first);
        Ok(v)
    }

    /// The inline half of a comparison: when `a` and `b` are both fixnums,
    /// their comparison `op` (the returned flag, in the current block);
    /// otherwise a branch to the returned cold block, left for the caller's
    /// slow path (both sealed). Known fixnums need no test and no slow
    /// path (`None`).
    fn fixnum_compare(&mut self, op: InlineOp, a: Num, b: Num) -> Result<(Value, Option<Block>)> {
        let cc = int_cc(op)?;
        if a.int && b.int {
            return Ok((self.b.ins().icmp(cc, a.word, b.word), None));
        }
        let fast = self.b.create_block();
        let slow = self.b.create_block();
        self.b.set_cold_block(slow);
        let ints = self.both_ints(a, b);
        self.b.ins().brif(ints, fast, &[], slow, &[]);
        self.b.seal_block(fast);
        self.b.seal_block(slow);
        self.b.switch_to_block(fast);
        Ok((self.b.ins().icmp(cc, a.word, b.word), Some(slow)))
    }

    /// Jump to `yes` if the comparison `op` of `a` and `b` holds, else to
    /// `no` (neither sealed). Fixnums compare inline; anything else goes to
    /// the primitive on a cold path (Floats, mixed Int/Float, errors), and
    /// its Bool decides.
    fn compare_branch(
        &mut self,
        op: InlineOp,
        a: Num,
        b: Num,
        loc: LocId,
        yes: Block,
        no: Block,
    ) -> Result<()> {
        let (c, not_ints) = self.fixnum_compare(op, a, b)?;
        self.b.ins().brif(c, yes, &[], no, &[]);
        let Some(not_ints) = not_ints else {
            return Ok(());
        };
        self.b.switch_to_block(not_ints);
        // Without Float paths `not_ints` is the slow path itself.
        if self.float_paths {
            let slow = self.b.create_block();
            self.b.set_cold_block(slow);
            let c = self.float_compare(op, a, b, slow)?;
            self.cold_branch_flag(c, yes, no);
            self.b.seal_block(slow);
            self.b.switch_to_block(slow);
        }
        let v = self.compare_slow_path(op, a, b, loc)?;
        self.cold_branch_on(v, yes, no);
        Ok(())
    }

    /// The Bool of a branch that ended in `yes` or `no` (unsealed, no
    /// predecessors other than the branch); the builder is left after it.
    fn bool_join(&mut self, yes: Block, no: Block) -> Result<Value> {
        let join = self.b.create_block();
        let result = self.b.append_block_param(join, W);
        self.b.seal_block(yes);
        self.b.seal_block(no);
        self.b.switch_to_block(yes);
        let t = self.word(TRUE);
        self.b.ins().jump(join, &[t.into()]);
        self.b.switch_to_block(no);
        let f = self.word(FALSE);
        self.b.ins().jump(join, &[f.into()]);
        self.b.seal_block(join);
        self.b.switch_to_block(join);
        Ok(result)
    }

    /// `(car a)` / `(cdr a)`: the field when `a` is a pair, else the
    /// primitive on a cold path (a forwarded original, which it resolves,
    /// or the type error). A pair checked earlier (`checked_pairs`) is
    /// read without a test. With `again` (the value is read elsewhere
    /// too), the pair is remembered: `a` itself on the fast path, the
    /// object `a` resolves to after the slow path (which returned, so that
    /// object is a pair).
    fn car_cdr(&mut self, op: InlineOp, a: Value, again: bool, loc: LocId) -> Result<Value> {
        let offset = if op == InlineOp::Car {
            PAIR_CAR
        } else {
            PAIR_CDR
        };
        if let Some(pair) = self.checked_pair(a) {
            return Ok(self.b.ins().load(W, MemFlagsData::trusted(), pair, offset));
        }
        let prim = slow_prim(op)?;
        if !again {
            return self.field_or_prim(a, (ObjKind::Pair, offset, false), prim, loc);
        }
        let (slow, join, result) = self.kind_fast_path(a, ObjKind::Pair);
        let pair = self.b.append_block_param(join, W);
        let field = self.b.ins().load(W, MemFlagsData::trusted(), a, offset);
        self.b.ins().jump(join, &[field.into(), a.into()]);
        self.b.seal_block(slow);
        self.b.switch_to_block(slow);
        let first = self.b.func.dfg.num_blocks();
        let answer = self.call_prim(prim, self.region, &[a], loc)?;
        let resolved = self.call_rt1(RuntimeFn::Resolve, &[a])?;
        self.b.ins().jump(join, &[answer.into(), resolved.into()]);
        self.set_cold_since(first);
        self.b.seal_block(join);
        self.b.switch_to_block(join);
        self.checked_pairs.push((a, pair));
        Ok(result)
    }

    /// The pair `a` stands for, when it is known (`checked_pairs`).
    fn checked_pair(&self, a: Value) -> Option<Value> {
        fact_of(&self.checked_pairs, a)
    }

    /// Whether the variable `a` is read by more than one operand or tail,
    /// so a fact learned at one read may serve another.
    fn read_again(&self, a: &Atom) -> bool {
        matches!(a, Atom::Var(v) if self.uses.get(v.0 as usize).is_some_and(|&n| n > 1))
    }

    /// `(array-ref a i)`: the slot when `a` is an array and `i` a fixnum in
    /// range; anything else (a forwarded array included) goes to the
    /// primitive on a cold path, which resolves it or raises the error.
    ///
    /// An array checked earlier (`checked_arrays`) needs only the index
    /// test: rbtree's `balance` reads five to ten slots of one node with no
    /// call in between.
    fn array_ref(&mut self, a: Value, i: Value, loc: LocId) -> Result<Value> {
        let slow = self.b.create_block();
        let join = self.b.create_block();
        let result = self.b.append_block_param(join, W);
        let checked = self.checked_arrays.iter().find(|c| c.0 == a).copied();
        let (data_out, len_out) = (
            self.b.append_block_param(join, W),
            self.b.append_block_param(join, W),
        );
        self.b.set_cold_block(slow);
        let (addr, data, len) = match checked {
            Some((_, data, len)) => {
                let k = self.index_in(i, len, slow);
                let offset = self.b.ins().ishl_imm_s(k, 3);
                (self.b.ins().iadd(data, offset), data, len)
            }
            None => self.array_slot(a, i, slow),
        };
        let slot = self.b.ins().load(W, MemFlagsData::trusted(), addr, 0);
        self.b
            .ins()
            .jump(join, &[slot.into(), data.into(), len.into()]);
        self.b.seal_block(slow);
        self.b.switch_to_block(slow);
        let prim = slow_prim(InlineOp::ArrayRef)?;
        let r = self.call_prim(prim, self.region, &[a, i], loc)?;
        // The slow path may have met a forwarded array: length 0 sends the
        // accesses after this one to the slow path too.
        let zero = self.word(0);
        self.b
            .ins()
            .jump(join, &[r.into(), zero.into(), zero.into()]);
        self.b.seal_block(join);
        self.b.switch_to_block(join);
        self.checked_arrays.retain(|c| c.0 != a);
        self.checked_arrays.push((a, data_out, len_out));
        Ok(result)
    }

    /// End the current block by jumping to `yes` when `a` passes the type
    /// predicate `op` and to `no` otherwise (neither is sealed). `int?` and
    /// `char?` test the tag; the others the header's kind, and a value of
    /// another kind that is a forwarded original (an object a store repair
    /// copied) goes to the predicate on a cold path, which resolves it, and
    /// branches on its answer.
    ///
    /// With `pair` (a `pair?` whose `yes` branch reads the value again),
    /// the variable is defined as the pair the value stands for on the
    /// paths to `yes`: the value, or the object a forwarded original
    /// resolves to.
    fn type_test_branch(
        &mut self,
        op: InlineOp,
        a: Value,
        loc: LocId,
        yes: Block,
        no: Block,
        pair: Option<Variable>,
    ) -> Result<()> {
        if let Some(var) = pair {
            self.b.def_var(var, a);
        }
        let kind = match op {
            InlineOp::IsPair => ObjKind::Pair,
            InlineOp::IsString => ObjKind::String,
            InlineOp::IsSymbol => ObjKind::Symbol,
            InlineOp::IsArray => ObjKind::Array,
            InlineOp::IsDict => ObjKind::Dict,
            InlineOp::IsFloat => ObjKind::Float,
            InlineOp::IsInt | InlineOp::IsChar => {
                let (mask, tag) = if op == InlineOp::IsInt {
                    (TAG_INT_MASK, 1)
                } else {
                    (0xFF, TAG_CHAR)
                };
                let bits = self.b.ins().band_imm_s(a, mask as i64);
                let c = self.b.ins().icmp_imm_s(IntCC::Equal, bits, tag as i64);
                self.b.ins().brif(c, yes, &[], no, &[]);
                return Ok(());
            }
            _ => return Err(CodegenError::new(format!("{op:?} is not a type test"))),
        };
        let other = self.b.create_block();
        let forwarded = self.b.create_block();
        self.b.set_cold_block(forwarded);
        self.branch_if_kind(a, kind, yes, other);
        self.b.seal_block(other);
        self.b.switch_to_block(other);
        self.branch_if_kind(a, ObjKind::Forwarded, forwarded, no);
        self.b.seal_block(forwarded);
        self.b.switch_to_block(forwarded);
        let v = self.slow_path(op, &[a], loc)?;
        if let Some(var) = pair {
            let resolved = self.call_rt1(RuntimeFn::Resolve, &[a])?;
            self.b.def_var(var, resolved);
        }
        let t = self.truthy(v);
        self.b.ins().brif(t, yes, &[], no, &[]);
        Ok(())
    }

    /// `(char->int c)` and `(int->char n)`: a char word is its scalar value
    /// shifted over the char tag, an Int's is shifted over the fixnum tag.
    /// `int->char` is open-coded below the surrogates (0 .. #xD7FF); the
    /// other scalar values and every error go to the primitive.
    fn char_int(&mut self, op: InlineOp, a: Value, loc: LocId) -> Result<Value> {
        let fast = self.b.create_block();
        let slow = self.b.create_block();
        let join = self.b.create_block();
        let result = self.b.append_block_param(join, W);
        self.b.set_cold_block(slow);
        let (ok, converted) = if op == InlineOp::CharToInt {
            let tag = self.b.ins().band_imm_s(a, 0xFF);
            let ok = self.b.ins().icmp_imm_s(IntCC::Equal, tag, TAG_CHAR as i64);
            // (c << 8 | tag) >> 7 is c << 1 with a clear low bit.
            let shifted = self.b.ins().ushr_imm_s(a, 7);
            (ok, self.b.ins().bor_imm_s(shifted, 1))
        } else {
            // A fixnum 2n + 1 with 0 <= n < 0xD800: as unsigned, a < 2 * 0xD800.
            let tag = self.b.ins().band_imm_s(a, 1);
            let is_fixnum = self.b.ins().icmp_imm_s(IntCC::NotEqual, tag, 0);
            let below = self
                .b
                .ins()
                .icmp_imm_u(IntCC::UnsignedLessThan, a, 2 * 0xD800);
            let ok = self.b.ins().band(is_fixnum, below);
            let n = self.b.ins().ushr_imm_s(a, 1);
            let shifted = self.b.ins().ishl_imm_s(n, 8);
            (ok, self.b.ins().bor_imm_s(shifted, TAG_CHAR as i64))
        };
        self.b.ins().brif(ok, fast, &[], slow, &[]);
        self.b.seal_block(fast);
        self.b.seal_block(slow);
        self.b.switch_to_block(fast);
        self.b.ins().jump(join, &[converted.into()]);
        self.b.switch_to_block(slow);
        let r = self.slow_path(op, &[a], loc)?;
        self.b.ins().jump(join, &[r.into()]);
        self.b.seal_block(join);
        self.b.switch_to_block(join);
        Ok(result)
    }

    /// `(string-ref s i)`: the byte at `i` as a char when `s` is an ASCII
    /// string (char count = byte count: every char is one byte) and `i` a
    /// fixnum in range. Any other string (a char index must be decoded),
    /// a forwarded one, or an error goes to the primitive on a cold path.
    fn string_ref(&mut self, s: Value, i: Value, loc: LocId) -> Result<Value> {
        let (slow, join, result) = self.kind_fast_path(s, ObjKind::String);
        let flags = MemFlagsData::trusted();
        let bytes = self.b.ins().load(W, flags, s, STRING_BYTE_LEN);
        let chars = self.b.ins().load(W, flags, s, STRING_CHAR_LEN);
        let ascii = self.b.ins().icmp(IntCC::Equal, bytes, chars);
        let check_index = self.b.create_block();
        self.b.ins().brif(ascii, check_index, &[], slow, &[]);
        self.b.seal_block(check_index);
        self.b.switch_to_block(check_index);
        let k = self.index_in(i, bytes, slow);
        let addr = self.b.ins().iadd(s, k);
        let byte = self.b.ins().uload8(W, flags, addr, STRING_BYTES);
        let shifted = self.b.ins().ishl_imm_s(byte, 8);
        let c = self.b.ins().bor_imm_s(shifted, TAG_CHAR as i64);
        self.b.ins().jump(join, &[c.into()]);
        self.b.seal_block(slow);
        self.b.switch_to_block(slow);
        let r = self.slow_path(InlineOp::StringRef, &[s, i], loc)?;
        self.b.ins().jump(join, &[r.into()]);
        self.b.seal_block(join);
        self.b.switch_to_block(join);
        Ok(result)
    }

    /// `k` of a fixnum index `i = 2k + 1` with `k < len` (as unsigned, so
    /// k >= 0); anything else jumps to `slow`. The builder is left in the
    /// block where the test passed.
    fn index_in(&mut self, i: Value, len: Value, slow: Block) -> Value {
        let fast = self.b.create_block();
        let tag = self.b.ins().band_imm_s(i, 1);
        let is_fixnum = self.b.ins().icmp_imm_s(IntCC::NotEqual, tag, 0);
        let k = self.b.ins().sshr_imm_s(i, 1);
        let in_range = self.b.ins().icmp(IntCC::UnsignedLessThan, k, len);
        let ok = self.b.ins().band(is_fixnum, in_range);
        self.b.ins().brif(ok, fast, &[], slow, &[]);
        self.b.seal_block(fast);
        self.b.switch_to_block(fast);
        k
    }

    /// The address of slot `i` of `a` when `a` is an array (not forwarded)
    /// and `i` a fixnum in range, the builder left in that block; anything
    /// else jumps to `slow` (left unsealed for the caller). The current
    /// block ends here.
    /// Also returns the array's payload and length (loaded before the
    /// index test, so they are available wherever the address is).
    fn array_slot(&mut self, a: Value, i: Value, slow: Block) -> (Value, Value, Value) {
        let check_index = self.b.create_block();
        self.branch_if_kind(a, ObjKind::Array, check_index, slow);
        self.b.seal_block(check_index);
        self.b.switch_to_block(check_index);
        let flags = MemFlagsData::trusted();
        let len = self.b.ins().load(W, flags, a, ARRAY_LEN);
        let data = self.b.ins().load(W, flags, a, ARRAY_DATA);
        let k = self.index_in(i, len, slow);
        let offset = self.b.ins().ishl_imm_s(k, 3);
        (self.b.ins().iadd(data, offset), data, len)
    }

    /// `(array-set! a i x)`: one store on the program thread when `a` is an
    /// array, `i` a fixnum in range and `x` not a heap object (an immediate
    /// needs no barrier, and only a spawned thread's stores are checked for
    /// ownership); the primitive on a cold path for the rest (barrier,
    /// spawned threads, errors, forwarded arrays). The result is `nothing`.
    fn array_set_immediate(
        &mut self,
        desc: &'static omni_runtime::prims::PrimDesc,
        region: Value,
        args: &[Value],
        loc: LocId,
    ) -> Result<Value> {
        let [a, i, x] = args else {
            return Err(CodegenError::new("array-set! takes 3 operands"));
        };
        let (a, i, x) = (*a, *i, *x);
        let check_array = self.b.create_block();
        let slow = self.b.create_block();
        let join = self.b.create_block();
        self.b.set_cold_block(slow);
        let flags = MemFlagsData::trusted();
        // An immediate value, on a thread not started by `spawn` (the
        // thread's words behind the pinned register say so).
        let is_ptr = self.is_pointer(x);
        let immediate = self.b.ins().icmp_imm_s(IntCC::Equal, is_ptr, 0);
        let program_thread = self.program_thread();
        let go = self.b.ins().band(immediate, program_thread);
        self.b.ins().brif(go, check_array, &[], slow, &[]);
        self.b.seal_block(check_array);
        self.b.switch_to_block(check_array);
        let (addr, _, _) = self.array_slot(a, i, slow);
        self.b.ins().store(flags, x, addr, 0);
        self.b.ins().jump(join, &[]);
        self.b.seal_block(slow);
        self.b.switch_to_block(slow);
        self.call_prim(desc, region, &[a, i, x], loc)?;
        self.b.ins().jump(join, &[]);
        self.b.seal_block(join);
        self.b.switch_to_block(join);
        Ok(self.word(NOTHING))
    }

    /// Whether a `get`/`%put!` with these operands names a struct field
    /// (`s.field`): `argc` operands, the key a literal symbol.
    fn field_site(&self, args: &[Atom], argc: usize) -> bool {
        is_field_site(self.cx.prog, args, argc)
    }

    /// The address of a new field cache word for the site being translated.
    fn field_cache(&mut self) -> Result<Value> {
        let id = self.cx.field_cache()?;
        Ok(self.data_addr(id))
    }

    /// `s.field`: when `s` is a struct of the type the site's field cache
    /// holds, the field at the cached index, read inline: a value word as
    /// it is; a raw Float slot's f64 (`FieldClass::Float`) boxed in the
    /// region of the `get`'s allocation site, or, for an unboxed Float
    /// variable (`unboxed`), not boxed at all (the result's f64 and flag).
    /// Anything else (another type, a forwarded struct, a dict, a missing
    /// field) goes to `omni_field_get`, which fills the cache or does what
    /// `get` does.
    ///
    /// With `again` (`s` is read elsewhere too), what the access learned of
    /// `s` is remembered (`checked_structs`): `s` where the cache hit, 0
    /// where it did not.
    #[allow(clippy::too_many_arguments)]
    fn field_get(
        &mut self,
        s: Value,
        key: Value,
        site: Option<AllocSiteId>,
        unboxed: bool,
        again: bool,
        loc: LocId,
    ) -> Result<Num> {
        let learned = (again && self.checked_struct(s).is_none()).then(|| self.b.declare_var(W));
        let flags = MemFlagsData::trusted();
        let cache = self.field_cache()?;
        let hit = self.b.create_block();
        let word = self.b.create_block();
        let raw = self.b.create_block();
        let slow = self.b.create_block();
        let (join, result, float_result) = self.num_join(unboxed);
        self.b.set_cold_block(slow);
        let (w, same) = self.cached_struct_type(s, cache, slow);
        self.b.ins().brif(same, hit, &[], slow, &[]);
        self.b.seal_block(hit);
        self.b.switch_to_block(hit);
        if let Some(var) = learned {
            self.b.def_var(var, s);
        }
        let addr = self.cached_field_addr(s, w);
        // Without an allocation site no struct has a raw slot of this name
        // (lowering's `may_allocate`): the class test is left out.
        if site.is_some() || unboxed {
            let class = self.b.ins().ushr_imm_s(w, FIELD_CACHE_CLASS_SHIFT as i64);
            self.b.ins().brif(class, raw, &[], word, &[]);
        } else {
            self.b.ins().jump(word, &[]);
        }
        self.b.seal_block(word);
        self.b.switch_to_block(word);
        let v = self.b.ins().load(W, flags, addr, STRUCT_FIELDS);
        self.jump_num_word(join, unboxed, v);
        if site.is_some() || unboxed {
            self.b.seal_block(raw);
            self.b.switch_to_block(raw);
            let x = self.b.ins().load(types::F64, flags, addr, STRUCT_FIELDS);
            self.jump_num_float(join, unboxed, x, site)?;
        }
        self.b.seal_block(slow);
        self.b.switch_to_block(slow);
        let first = self.b.func.dfg.num_blocks();
        if let Some(var) = learned {
            let unknown = self.word(0);
            self.b.def_var(var, unknown);
        }
        let loc = self.loc32(loc);
        let v = self.with_site_region(site, |tx, region| {
            tx.call_rt1(RuntimeFn::FieldGet, &[s, key, cache, region, loc])
        })?;
        self.jump_num_word(join, unboxed, v);
        self.set_cold_since(first);
        let n = self.num_at_join(join, result, float_result, site);
        if let Some(var) = learned {
            let word = self.b.use_var(var);
            self.checked_structs.push((s, word));
        }
        Ok(n)
    }

    /// What an earlier field access learned of `s` (`checked_structs`).
    fn checked_struct(&self, s: Value) -> Option<Value> {
        fact_of(&self.checked_structs, s)
    }

    /// The address of the field a cache word `w` (of struct `s`'s type)
    /// indexes; its first field is at `STRUCT_FIELDS` from it.
    fn cached_field_addr(&mut self, s: Value, w: Value) -> Value {
        let index = self.b.ins().ushr_imm_s(w, FIELD_CACHE_INDEX_SHIFT as i64);
        let index = self
            .b
            .ins()
            .band_imm_s(index, FIELD_CACHE_INDEX_MASK as i64);
        let offset = self.b.ins().ishl_imm_s(index, 3);
        self.b.ins().iadd(s, offset)
    }

    /// `(sqrt x)` of a Float (unboxed or not) or an Int, inline: the
    /// square root boxed in the region of the call's allocation site, or
    /// for an unboxed Float variable (`unboxed`) left unboxed. Anything
    /// else goes to the primitive (which raises the type error).
    fn sqrt(
        &mut self,
        desc: &'static omni_runtime::prims::PrimDesc,
        n: Num,
        site: Option<AllocSiteId>,
        unboxed: bool,
        loc: LocId,
    ) -> Result<Num> {
        let slow = self.b.create_block();
        let (join, result, float_result) = self.num_join(unboxed);
        self.b.set_cold_block(slow);
        let x = self.float_operand(n, true, slow);
        let r = self.b.ins().sqrt(x);
        self.jump_num_float(join, unboxed, r, site)?;
        self.b.seal_block(slow);
        self.b.switch_to_block(slow);
        let first = self.b.func.dfg.num_blocks();
        let w = self.boxed(n)?;
        let region = self.site_region(site)?;
        let v = self.call_prim(desc, region, &[w], loc)?;
        self.jump_num_word(join, unboxed, v);
        self.set_cold_since(first);
        Ok(self.num_at_join(join, result, float_result, site))
    }

    /// The region a primitive that boxes raw Floats
    /// (`prims::boxes_raw_floats`) gets without a retry: its site's, or,
    /// without a site (nothing may be allocated there), `NO_BOX_REGION`,
    /// so that the runtime boxes nothing.
    fn boxing_region(&mut self, site: Option<AllocSiteId>) -> Result<Value> {
        match site {
            Some(_) => self.site_region(site),
            None => Ok(self.word(NO_BOX_REGION as u64)),
        }
    }

    /// `call(region)` for a call that boxes a raw Float field in the region
    /// of allocation site `site` (`prims::boxes_raw_floats`): a lazily
    /// created region is passed only if it exists already (else null), so
    /// a `get` on a dict does not create it; the runtime answers
    /// `NEEDS_REGION` when it needed one, and the call is made again (cold)
    /// with the region, created then.
    fn with_site_region(
        &mut self,
        site: Option<AllocSiteId>,
        call: impl Fn(&mut Self, Value) -> Result<Value>,
    ) -> Result<Value> {
        let lazy = match site.and_then(|s| self.cx.prog.alloc_sites.get(s.0 as usize)) {
            Some(ir::AllocSite {
                region: RegionRef::Local(v),
                ..
            }) => self.lazy_slot(*v),
            _ => None,
        };
        let Some(slot) = lazy else {
            let region = self.boxing_region(site)?;
            return call(self, region);
        };
        let existing = self.b.ins().stack_load(W, W, slot, 0);
        let v = call(self, existing)?;
        let retry = self.b.create_block();
        let join = self.b.create_block();
        let result = self.b.append_block_param(join, W);
        self.b.set_cold_block(retry);
        let needs = self
            .b
            .ins()
            .icmp_imm_s(IntCC::Equal, v, NEEDS_REGION as i64);
        self.b.ins().brif(needs, retry, &[], join, &[v.into()]);
        self.b.seal_block(retry);
        self.b.switch_to_block(retry);
        let first = self.b.func.dfg.num_blocks();
        let region = self.site_region(site)?;
        let again = call(self, region)?;
        self.b.ins().jump(join, &[again.into()]);
        self.set_cold_since(first);
        self.b.seal_block(join);
        self.b.switch_to_block(join);
        Ok(result)
    }

    /// `(put! s.field v)`: when `s` is a struct of the type the site's cache
    /// holds (a mutable one: the cache is filled by a store), on the program
    /// thread, and `v` passes the field's declared type as the cache
    /// records it (`FieldClass`): into a raw Float slot, a Float's f64 (an
    /// unboxed Float variable's as it is: no allocation, no barrier); into
    /// another slot, a value that needs no store barrier (an immediate, or
    /// an object of `s`'s own region), one store. Anything else goes to
    /// `omni_field_put`.
    fn field_put(&mut self, s: Value, key: Value, n: Num, loc: LocId) -> Result<Value> {
        let flags = MemFlagsData::trusted();
        let cache = self.field_cache()?;
        let check_value = self.b.create_block();
        let raw = self.b.create_block();
        let not_raw = self.b.create_block();
        let immediate = self.b.create_block();
        let object = self.b.create_block();
        let check_regions = self.b.create_block();
        let other_chunk = self.b.create_block();
        let store = self.b.create_block();
        let slow = self.b.create_block();
        let join = self.b.create_block();
        self.b.set_cold_block(slow);
        let (w, same) = self.cached_struct_type(s, cache, slow);
        // The store barrier's ownership check only concerns spawned threads.
        let program_thread = self.program_thread();
        let go = self.b.ins().band(same, program_thread);
        self.b.ins().brif(go, check_value, &[], slow, &[]);
        self.b.seal_block(check_value);
        self.b.switch_to_block(check_value);
        let class = self.b.ins().ushr_imm_s(w, FIELD_CACHE_CLASS_SHIFT as i64);
        let addr = self.cached_field_addr(s, w);
        let float_field = self.equals_imm(class, FieldClass::Float as i64);
        self.b.ins().brif(float_field, raw, &[], not_raw, &[]);
        // A raw Float slot: the f64 of an unboxed Float, or of a Float
        // object (a forwarded one, or anything else, goes to the runtime).
        self.b.seal_block(raw);
        self.b.switch_to_block(raw);
        let x = self.float_operand(n, false, slow);
        self.b.ins().store(flags, x, addr, STRUCT_FIELDS);
        self.b.ins().jump(join, &[]);
        // Another slot takes the word.
        self.b.seal_block(not_raw);
        self.b.switch_to_block(not_raw);
        let v = self.boxed(n)?;
        let is_ptr = self.is_pointer(v);
        self.b.ins().brif(is_ptr, object, &[], immediate, &[]);
        self.b.seal_block(immediate);
        self.b.switch_to_block(immediate);
        // An immediate: any field, or an Int field and a fixnum.
        let any = self.equals_imm(class, FieldClass::Any as i64);
        let int_field = self.equals_imm(class, FieldClass::Int as i64);
        let tag = self.b.ins().band_imm_s(v, 1);
        let fixnum = self.b.ins().icmp_imm_s(IntCC::NotEqual, tag, 0);
        let int_ok = self.b.ins().band(int_field, fixnum);
        let ok = self.b.ins().bor(any, int_ok);
        self.b.ins().brif(ok, store, &[], slow, &[]);
        self.b.seal_block(object);
        self.b.switch_to_block(object);
        // An object: an `Any` field (not a forwarded original), and in the
        // struct's own region.
        let k = self.kind_of(v);
        let not_forwarded = self
            .b
            .ins()
            .icmp_imm_s(IntCC::NotEqual, k, ObjKind::Forwarded as i64);
        let any = self.equals_imm(class, FieldClass::Any as i64);
        let any_ok = self.b.ins().band(any, not_forwarded);
        self.b.ins().brif(any_ok, check_regions, &[], slow, &[]);
        self.b.seal_block(check_regions);
        self.b.switch_to_block(check_regions);
        let hv = self.b.ins().load(W, flags, v, 0);
        let hs = self.b.ins().load(W, flags, s, 0);
        let chunk_v = self.b.ins().ushr_imm_s(hv, HEADER_CHUNK_SHIFT as i64);
        let chunk_s = self.b.ins().ushr_imm_s(hs, HEADER_CHUNK_SHIFT as i64);
        let same_chunk = self.b.ins().icmp(IntCC::Equal, chunk_v, chunk_s);
        self.b.ins().brif(same_chunk, store, &[], other_chunk, &[]);
        self.b.seal_block(other_chunk);
        self.b.switch_to_block(other_chunk);
        let region_v = self.b.ins().load(W, flags, chunk_v, CHUNK_REGION);
        let region_s = self.b.ins().load(W, flags, chunk_s, CHUNK_REGION);
        let same_region = self.b.ins().icmp(IntCC::Equal, region_v, region_s);
        self.b.ins().brif(same_region, store, &[], slow, &[]);
        self.b.seal_block(store);
        self.b.switch_to_block(store);
        self.b.ins().store(flags, v, addr, STRUCT_FIELDS);
        self.b.ins().jump(join, &[]);
        self.b.seal_block(slow);
        self.b.switch_to_block(slow);
        let first = self.b.func.dfg.num_blocks();
        self.forget_checked();
        let v = self.boxed(n)?;
        let loc = self.loc32(loc);
        self.call_rt1(RuntimeFn::FieldPut, &[s, key, v, cache, loc])?;
        self.b.ins().jump(join, &[]);
        self.set_cold_since(first);
        self.b.seal_block(join);
        self.b.switch_to_block(join);
        Ok(self.word(NOTHING))
    }

    /// When `s` is a struct (else a jump to `slow`): the site's field cache
    /// word and whether it holds `s`'s type. A plain load of the one-word
    /// cache: another thread's store is seen whole or not at all (an
    /// aligned word).
    fn cached_struct_type(&mut self, s: Value, cache: Value, slow: Block) -> (Value, Value) {
        let check_type = self.b.create_block();
        match self.checked_struct(s) {
            // Tested by an earlier access: the word is `s` if it was a
            // struct, 0 if not known.
            Some(word) => {
                self.b.ins().brif(word, check_type, &[], slow, &[]);
            }
            None => self.branch_if_kind(s, ObjKind::Struct, check_type, slow),
        }
        self.b.seal_block(check_type);
        self.b.switch_to_block(check_type);
        let t = self
            .b
            .ins()
            .load(W, MemFlagsData::trusted(), s, STRUCT_TYPE);
        let w = self.b.ins().load(W, MemFlagsData::new(), cache, 0);
        let cached = self.b.ins().band_imm_s(w, FIELD_CACHE_TYPE_MASK as i64);
        (w, self.b.ins().icmp(IntCC::Equal, cached, t))
    }

    /// Whether the running thread is the program thread (not started by
    /// `spawn`): the thread's words behind the pinned register say so.
    fn program_thread(&mut self) -> Value {
        let words = self.b.ins().get_pinned_reg(W);
        let spawned = self
            .b
            .ins()
            .load(W, MemFlagsData::trusted(), words, THREAD_SPAWNED_OFFSET);
        self.b.ins().icmp_imm_s(IntCC::Equal, spawned, 0)
    }

    /// `v == imm` as a flag.
    fn equals_imm(&mut self, v: Value, imm: i64) -> Value {
        self.b.ins().icmp_imm_s(IntCC::Equal, v, imm)
    }

    /// The word at `offset` of `v` when `v` is an object of `kind` (with
    /// `count`, a count it stores, tagged as an Int: an array's length, a
    /// string's chars); anything else, a forwarded original included, goes
    /// to `prim` on a cold path, which resolves it or raises the type error.
    fn field_or_prim(
        &mut self,
        v: Value,
        (kind, offset, count): (ObjKind, i32, bool),
        prim: &'static omni_runtime::prims::PrimDesc,
        loc: LocId,
    ) -> Result<Value> {
        let (slow, join, result) = self.kind_fast_path(v, kind);
        let mut field = self.b.ins().load(W, MemFlagsData::trusted(), v, offset);
        if count {
            let shifted = self.b.ins().ishl_imm_s(field, 1);
            field = self.b.ins().bor_imm_s(shifted, 1);
        }
        self.b.ins().jump(join, &[field.into()]);
        self.prim_slow_path(slow, join, prim, self.region, &[v], loc)?;
        Ok(result)
    }

    /// Call the primitive behind an inline op that does not allocate (the
    /// region parameter is unused: the result region is passed).
    fn slow_path(&mut self, op: InlineOp, args: &[Value], loc: LocId) -> Result<Value> {
        let desc = slow_prim(op)?;
        self.call_prim(desc, self.region, args, loc)
    }

    /// Jump to `yes` if `v` is a heap object of `kind`, else to `no` (a
    /// forwarded original goes to `no` too: the slow paths behind `no` are
    /// primitives, which resolve it). The header is only loaded after the
    /// pointer test (the current block ends here; neither target is sealed).
    fn branch_if_kind(&mut self, v: Value, kind: ObjKind, yes: Block, no: Block) {
        let is_ptr = self.is_pointer(v);
        let check_kind = self.b.create_block();
        self.b.ins().brif(is_ptr, check_kind, &[], no, &[]);
        self.b.seal_block(check_kind);
        self.b.switch_to_block(check_kind);
        let k = self.kind_of(v);
        let matches = self.b.ins().icmp_imm_s(IntCC::Equal, k, kind as i64);
        self.b.ins().brif(matches, yes, &[], no, &[]);
    }

    /// Jump to `yes(v')` if `v` is a heap object of `kind`, else to `no(v')`
    /// (both blocks take the value as their one parameter). A forwarded
    /// original (an object a store repair moved to an older region) is
    /// resolved on a cold path and tested again, so `v'` is the object `v`
    /// stands for; the fast paths cost one compare more only when the kind
    /// does not match. The current block ends here; neither target is sealed.
    fn branch_on_kind(&mut self, v: Value, kind: ObjKind, yes: Block, no: Block) -> Result<()> {
        let is_ptr = self.is_pointer(v);
        let check_kind = self.b.create_block();
        let check_forward = self.b.create_block();
        let resolve = self.b.create_block();
        self.b.set_cold_block(resolve);
        self.b.ins().brif(is_ptr, check_kind, &[], no, &[v.into()]);
        self.b.seal_block(check_kind);
        self.b.switch_to_block(check_kind);
        let k = self.kind_of(v);
        let matches = self.b.ins().icmp_imm_s(IntCC::Equal, k, kind as i64);
        self.b
            .ins()
            .brif(matches, yes, &[v.into()], check_forward, &[]);
        self.b.seal_block(check_forward);
        self.b.switch_to_block(check_forward);
        let forwarded = self
            .b
            .ins()
            .icmp_imm_s(IntCC::Equal, k, ObjKind::Forwarded as i64);
        self.b.ins().brif(forwarded, resolve, &[], no, &[v.into()]);
        self.b.seal_block(resolve);
        self.b.switch_to_block(resolve);
        // The object a forward leads to is never itself forwarded.
        let r = self.call_rt1(RuntimeFn::Resolve, &[v])?;
        let k = self.kind_of(r);
        let matches = self.b.ins().icmp_imm_s(IntCC::Equal, k, kind as i64);
        self.b
            .ins()
            .brif(matches, yes, &[r.into()], no, &[r.into()]);
        Ok(())
    }

    /// The kind byte of heap object `v`.
    fn kind_of(&mut self, v: Value) -> Value {
        let header = self.b.ins().load(W, MemFlagsData::trusted(), v, 0);
        self.b.ins().band_imm_s(header, KIND_MASK as i64)
    }

    /// `eq?`: the same word, or two objects that stand for the same one
    /// (`identity_branch`), as a Bool.
    fn identity(&mut self, a: Value, b: Value, loc: LocId) -> Result<Value> {
        let yes = self.b.create_block();
        let no = self.b.create_block();
        self.identity_branch(a, b, loc, yes, no)?;
        self.bool_join(yes, no)
    }

    /// `eq?` with an immediate or a constant that is not a Float (a
    /// constant lives in the global region: never a forwarded original nor
    /// a copy, and never equal to another Float): the words decide, as for
    /// `(eq? x 'sym)`. A Float constant is compared as a Float (its bits).
    fn words_decide_eq(&self, args: &[Atom]) -> bool {
        args.iter().any(|x| match x {
            Atom::Imm(_) => true,
            Atom::Const(c) => !matches!(
                self.cx.prog.consts[c.0 as usize],
                ir::Const::Float(_) | ir::Const::Datum(ir::QuotedDatum::Float(_))
            ),
            _ => false,
        })
    }

    /// Jump to `yes` if `a` and `b` are the same word or two objects that
    /// stand for the same one (a forwarded original and its copy, or two
    /// handles of one channel or thread; decided by the primitive on a cold
    /// path that only forwarded objects and handles reach), else to `no`
    /// (neither sealed).
    fn identity_branch(
        &mut self,
        a: Value,
        b: Value,
        loc: LocId,
        yes: Block,
        no: Block,
    ) -> Result<()> {
        let differ = self.b.create_block();
        let both_objects = self.b.create_block();
        let slow = self.b.create_block();
        self.b.set_cold_block(slow);
        let same = self.b.ins().icmp(IntCC::Equal, a, b);
        self.b.ins().brif(same, yes, &[], differ, &[]);
        self.b.seal_block(differ);
        self.b.switch_to_block(differ);
        // Both words are pointers: tag bits clear, neither zero.
        let or = self.b.ins().bor(a, b);
        let low = self.b.ins().band_imm_s(or, TAG_MASK as i64);
        let aligned = self.b.ins().icmp_imm_s(IntCC::Equal, low, 0);
        let a_nz = self.b.ins().icmp_imm_s(IntCC::NotEqual, a, 0);
        let b_nz = self.b.ins().icmp_imm_s(IntCC::NotEqual, b, 0);
        let nz = self.b.ins().band(a_nz, b_nz);
        let ptrs = self.b.ins().band(aligned, nz);
        self.b.ins().brif(ptrs, both_objects, &[], no, &[]);
        self.b.seal_block(both_objects);
        self.b.switch_to_block(both_objects);
        let ka = self.kind_of(a);
        let kb = self.kind_of(b);
        let fa = self.equals_imm(ka, ObjKind::Forwarded as i64);
        let fb = self.equals_imm(kb, ObjKind::Forwarded as i64);
        // Channel and thread handles (kinds Channel, Thread: adjacent) are
        // one object per region holding them; the primitive compares their
        // shared cores.
        let off = self.b.ins().iadd_imm_s(ka, -(ObjKind::Channel as i64));
        let handle = self.b.ins().icmp_imm_u(IntCC::UnsignedLessThan, off, 2);
        // Two Floats are the same when their bits are (a Float has no
        // identity beyond its value: a raw Float field boxes each read).
        let float_a = self.equals_imm(ka, ObjKind::Float as i64);
        let float_b = self.equals_imm(kb, ObjKind::Float as i64);
        let floats = self.b.ins().band(float_a, float_b);
        let any = self.b.ins().bor(fa, fb);
        let any = self.b.ins().bor(any, handle);
        let any = self.b.ins().bor(any, floats);
        self.b.ins().brif(any, slow, &[], no, &[]);
        self.b.seal_block(slow);
        self.b.switch_to_block(slow);
        let desc = runtime::prim("eq?")?;
        let v = self.call_prim(desc, self.region, &[a, b], loc)?;
        self.cold_branch_on(v, yes, no);
        Ok(())
    }

    /// From a cold slow path, branch on the truthiness of `v` to `yes` or
    /// `no` through two cold blocks of one jump each. Without them the
    /// edges into `yes` and `no`, which the fast path reaches too, would be
    /// critical; Cranelift splits such an edge with a block laid out among
    /// the hot ones, and the fast path then jumps over it.
    fn cold_branch_on(&mut self, v: Value, yes: Block, no: Block) {
        let t = self.truthy(v);
        self.cold_branch_flag(t, yes, no);
    }

    /// `cold_branch_on` for a flag computed on a cold path.
    fn cold_branch_flag(&mut self, t: Value, yes: Block, no: Block) {
        let to_yes = self.b.create_block();
        let to_no = self.b.create_block();
        self.b.set_cold_block(to_yes);
        self.b.set_cold_block(to_no);
        self.b.ins().brif(t, to_yes, &[], to_no, &[]);
        self.b.seal_block(to_yes);
        self.b.seal_block(to_no);
        self.b.switch_to_block(to_yes);
        self.b.ins().jump(yes, &[]);
        self.b.switch_to_block(to_no);
        self.b.ins().jump(no, &[]);
    }

    // ---- calls ----

    /// A call; in tail position (`tail`) it ends the current block with a
    /// proper tail call and returns `None`.
    fn call(
        &mut self,
        callee: &Callee,
        args: &[Atom],
        loc: LocId,
        tail: bool,
    ) -> Result<Option<Value>> {
        if let (true, Callee::Known { func, env }, Some(head)) = (tail, callee, self.loop_head) {
            if *func == self.f.id {
                return self.back_edge_jump(env, args, head).map(|()| None);
            }
        }
        let arg_values = self.atoms(args)?;
        match callee {
            Callee::Known { func, env } => {
                let target = self.cx.prog.functions.get(func.0 as usize).ok_or_else(|| {
                    CodegenError::new(format!("call of unknown function {}", func.0))
                })?;
                if code_value_params(target) != args.len() {
                    return Err(CodegenError::new(format!(
                        "known call of `{}` with {} arguments, its code takes {}",
                        target.name,
                        args.len(),
                        code_value_params(target)
                    )));
                }
                let env = self.atom(env)?;
                let code = self.func_ref(self.cx.code_ids[func.0 as usize]);
                let mut call_args = vec![env, self.callee_region()];
                call_args.extend(arg_values);
                if tail {
                    self.b.ins().return_call(code, &call_args);
                    Ok(None)
                } else {
                    self.forget_checked();
                    let call = self.b.ins().call(code, &call_args);
                    Ok(Some(self.b.inst_results(call)[0]))
                }
            }
            Callee::Unknown(f) => {
                let f = self.atom(f)?;
                self.unknown_call(f, &arg_values, loc, tail)
            }
        }
    }

    /// Call through a closure value: check it is a closure, take the fast
    /// path (`code`) when the argument count equals its arity (and it has no
    /// rest parameter), else pack the arguments and go through `apply`.
    fn unknown_call(
        &mut self,
        f_in: Value,
        args: &[Value],
        loc: LocId,
        tail: bool,
    ) -> Result<Option<Value>> {
        let n = args.len();
        self.forget_checked();
        let is_closure = self.b.create_block();
        let not_fn = self.b.create_block();
        self.b.set_cold_block(not_fn);
        let f = self.b.append_block_param(is_closure, W);
        let other = self.b.append_block_param(not_fn, W);
        self.branch_on_kind(f_in, ObjKind::Closure, is_closure, not_fn)?;
        self.b.seal_block(is_closure);
        self.b.seal_block(not_fn);

        self.b.switch_to_block(not_fn);
        let loc32 = self.loc32(loc);
        self.call_rt(RuntimeFn::ErrNotFn, &[other, loc32])?;
        self.b.ins().trap(TRAP_NORETURN);

        self.b.switch_to_block(is_closure);
        let info = self
            .b
            .ins()
            .load(W, MemFlagsData::trusted(), f, CLOSURE_INFO);
        let arity = self.b.ins().band_imm_s(info, 0xFFFF_FFFF);
        let exact = self.b.ins().icmp_imm_s(IntCC::Equal, arity, n as i64);
        let direct = self.b.create_block();
        let via_apply = self.b.create_block();
        self.b.ins().brif(exact, direct, &[], via_apply, &[]);
        self.b.seal_block(direct);
        self.b.seal_block(via_apply);
        let join = if tail {
            None
        } else {
            let join = self.b.create_block();
            let result = self.b.append_block_param(join, W);
            Some((join, result))
        };

        self.b.switch_to_block(direct);
        let code = self
            .b
            .ins()
            .load(W, MemFlagsData::trusted(), f, CLOSURE_CODE);
        let code_sig = self.indirect_sig(n);
        let region = self.callee_region();
        let mut call_args = vec![f, region];
        call_args.extend_from_slice(args);
        if let Some((join, _)) = join {
            let call = self.b.ins().call_indirect(code_sig, code, &call_args);
            let r = self.b.inst_results(call)[0];
            self.b.ins().jump(join, &[r.into()]);
        } else {
            self.b
                .ins()
                .return_call_indirect(code_sig, code, &call_args);
        }

        self.b.switch_to_block(via_apply);
        let (argc, argv) = self.spill(args);
        // The packed list may become the callee's rest parameter and be
        // returned, so it lives in the callee's result region.
        let list = self.call_rt1(RuntimeFn::ListFromArgv, &[region, argc, argv])?;
        let apply = self
            .b
            .ins()
            .load(W, MemFlagsData::trusted(), f, CLOSURE_APPLY);
        let apply_sig = self.indirect_sig(usize::MAX);
        let loc64 = self.word(u64::from(loc.0));
        let apply_args = [f, region, list, loc64];
        if let Some((join, _)) = join {
            let call = self.b.ins().call_indirect(apply_sig, apply, &apply_args);
            let r = self.b.inst_results(call)[0];
            self.b.ins().jump(join, &[r.into()]);
        } else {
            self.b
                .ins()
                .return_call_indirect(apply_sig, apply, &apply_args);
        }

        Ok(join.map(|(join, result)| {
            self.b.seal_block(join);
            self.b.switch_to_block(join);
            result
        }))
    }

    /// The result region passed to the callee of the call being generated:
    /// the `region` of an `Op::Call`, the own result region for tail calls.
    fn callee_region(&self) -> Value {
        self.callee_region
    }

    /// The signature of `code` with `n` value arguments (`usize::MAX`: `apply`).
    fn indirect_sig(&mut self, n: usize) -> SigRef {
        if let Some(sig) = self.indirect_sigs.get(&n) {
            return *sig;
        }
        let sig = if n == usize::MAX {
            tail_signature(self.cx.module, 4)
        } else {
            tail_signature(self.cx.module, 2 + n)
        };
        let sig = self.b.import_signature(sig);
        self.indirect_sigs.insert(n, sig);
        sig
    }

    fn call_prim(
        &mut self,
        desc: &'static omni_runtime::prims::PrimDesc,
        region: Value,
        args: &[Value],
        loc: LocId,
    ) -> Result<Value> {
        let prim_fn = self.prim_func_ref(desc)?;
        let loc = self.loc32(loc);
        let call_args = match desc.arity {
            PrimArity::Fixed(n) => {
                if args.len() != n as usize {
                    return Err(CodegenError::new(format!(
                        "primitive `{}` takes {n} arguments, got {}",
                        desc.name,
                        args.len()
                    )));
                }
                let mut v = vec![region];
                v.extend_from_slice(args);
                v.push(loc);
                v
            }
            PrimArity::Variadic { min } => {
                if args.len() < min as usize {
                    return Err(CodegenError::new(format!(
                        "primitive `{}` takes at least {min} arguments, got {}",
                        desc.name,
                        args.len()
                    )));
                }
                let (argc, argv) = self.spill(args);
                vec![region, argc, argv, loc]
            }
        };
        // A pure primitive reads its arguments (or stores only into what it
        // allocates): it forwards nothing. A mutator (`pop!`) may still
        // change an array's length.
        if desc.effect != omni_runtime::prims::PrimEffect::Pure || desc.name.ends_with('!') {
            self.forget_checked();
        }
        let call = self.b.ins().call(prim_fn, &call_args);
        Ok(self.b.inst_results(call)[0])
    }

    /// `(%dispatch table 'name a0 …)` with one to three arguments: the
    /// runtime's fixed-arity entry (`omni_dispatch1..3`), which takes the
    /// arguments in registers, not spilled to a vector as a variadic
    /// primitive's are. It selects only (a `Pure` primitive): it forwards
    /// nothing and changes no array.
    ///
    /// First, inline, the first argument's type's dispatch cache
    /// (`omni_runtime::prims::types`, "type dispatch caches"): when the
    /// first argument is a struct whose type holds a selection of this
    /// table for this many arguments, made at the current method-table
    /// version, and the thread is the program thread (the only one that
    /// fills and reads those words), that selection is the method number,
    /// without a call. Anything else (another type or table, a method
    /// added since, a forwarded struct, a non-struct, a table whose
    /// methods also select on later arguments, a spawned thread) calls the
    /// runtime, which selects through its per-thread cache and fills the
    /// type's cache when it may.
    fn dispatch(&mut self, args: &[Value], loc: LocId) -> Result<Value> {
        let rt = match args.len() {
            3 => RuntimeFn::Dispatch1,
            4 => RuntimeFn::Dispatch2,
            _ => RuntimeFn::Dispatch3,
        };
        let (table, a0, argc) = (args[0], args[2], args.len() as i64 - 2);
        let (slow, join, j) = self.kind_fast_path(a0, ObjKind::Struct);
        // The type words are written by the runtime (not trusted-readonly).
        let flags = MemFlagsData::new();
        let t = self
            .b
            .ins()
            .load(W, MemFlagsData::trusted(), a0, STRUCT_TYPE);
        let want = self.b.ins().bor_imm_s(table, argc);
        let version = self.runtime_word("omni_methods_version")?;
        let program_thread = self.program_thread();
        // Way 0, then way 1 (two generic functions on one type).
        let mut next = slow;
        let fast = self.b.current_block().expect("in the fast block");
        let ways: Vec<(Block, Block)> = (0..TYPE_DISPATCH_WAYS)
            .map(|w| {
                let test = if w == 0 {
                    None
                } else {
                    Some(self.b.create_block())
                };
                (test.unwrap_or(fast), self.b.create_block())
            })
            .collect();
        for (w, &(test, way_hit)) in ways.iter().enumerate() {
            if w > 0 {
                self.b.seal_block(test);
                self.b.switch_to_block(test);
            }
            let off = w as i32 * TYPE_DISPATCH_WAY;
            next = ways.get(w + 1).map_or(slow, |&(t, _)| t);
            let key = self.b.ins().load(W, flags, t, TYPE_DISPATCH_KEY + off);
            let same_key = self.b.ins().icmp(IntCC::Equal, key, want);
            let cached_version = self.b.ins().load(W, flags, t, TYPE_DISPATCH_VERSION + off);
            let same_version = self.b.ins().icmp(IntCC::Equal, version, cached_version);
            let same = self.b.ins().band(same_key, same_version);
            let go = self.b.ins().band(same, program_thread);
            self.b.ins().brif(go, way_hit, &[], next, &[]);
            self.b.seal_block(way_hit);
            self.b.switch_to_block(way_hit);
            let cached = self.b.ins().load(W, flags, t, TYPE_DISPATCH_J + off);
            self.b.ins().jump(join, &[cached.into()]);
        }
        debug_assert_eq!(next, slow);
        self.b.seal_block(slow);
        self.b.switch_to_block(slow);
        let first = self.b.func.dfg.num_blocks();
        let loc = self.loc32(loc);
        let mut call_args = args.to_vec();
        call_args.push(loc);
        let selected = self.call_rt1(rt, &call_args)?;
        self.b.ins().jump(join, &[selected.into()]);
        self.set_cold_since(first);
        self.b.seal_block(join);
        self.b.switch_to_block(join);
        Ok(j)
    }

    fn prim_func_ref(&mut self, desc: &omni_runtime::prims::PrimDesc) -> Result<FuncRef> {
        let sig = runtime::prim_signature(self.cx.module, desc);
        let id = self.cx.import_function(desc.symbol, &sig)?;
        Ok(self.func_ref(id))
    }

    // ---- allocation ----

    fn alloc(&mut self, site: AllocSiteId, what: &Alloc, loc: LocId) -> Result<Value> {
        let region = self.site_region(Some(site))?;
        match what {
            Alloc::Cons(car, cdr) => {
                let car = self.atom(car)?;
                let cdr = self.atom(cdr)?;
                self.inline_cons(region, car, cdr)
            }
            Alloc::Box(v) => {
                let v = self.atom(v)?;
                self.call_rt1(RuntimeFn::AllocBox, &[region, v])
            }
            Alloc::Closure { func, free } => {
                let target = self.cx.prog.functions.get(func.0 as usize).ok_or_else(|| {
                    CodegenError::new(format!("closure of unknown function {}", func.0))
                })?;
                if free.len() > target.nfree as usize {
                    return Err(CodegenError::new(format!(
                        "closure of `{}` with {} free values, it has {}",
                        target.name,
                        free.len(),
                        target.nfree
                    )));
                }
                let info = closure_info(target.arity() as u16, target.rest.is_some(), target.nfree);
                let nfree = target.nfree;
                let free = self.atoms(free)?;
                let code = self.func_ref(self.cx.code_ids[func.0 as usize]);
                let apply_id = self.cx.apply_ids[func.0 as usize].ok_or_else(|| {
                    CodegenError::new(format!(
                        "closure of `{}` without an apply entry",
                        target.name
                    ))
                })?;
                let apply = self.func_ref(apply_id);
                let code_addr = self.b.ins().func_addr(W, code);
                let apply_addr = self.b.ins().func_addr(W, apply);
                let info = self.word(info);
                let name_addr = self.data_addr(self.cx.name_slots[func.0 as usize]);
                let name = self.b.ins().load(W, MemFlagsData::trusted(), name_addr, 0);
                let closure = self.call_rt1(
                    RuntimeFn::AllocClosure,
                    &[region, code_addr, apply_addr, info, name],
                )?;
                // Slots not given here are filled later by `ClosureInit`;
                // until then they hold UNBOUND, never garbage.
                let unbound = self.word(UNBOUND);
                for i in 0..nfree as usize {
                    let v = free.get(i).copied().unwrap_or(unbound);
                    let offset = CLOSURE_FREE + 8 * i as i32;
                    self.b
                        .ins()
                        .store(MemFlagsData::trusted(), v, closure, offset);
                }
                Ok(closure)
            }
            Alloc::Array(elems) if elems.len() <= INLINE_ARRAY_MAX => {
                let elems = self.atoms(elems)?;
                self.inline_array(region, &elems)
            }
            Alloc::Array(elems) => {
                let elems = self.atoms(elems)?;
                let (argc, argv) = self.spill(&elems);
                self.call_rt1(RuntimeFn::AllocArray, &[region, argc, argv])
            }
            Alloc::Dict(kvs) => {
                if kvs.len() % 2 != 0 {
                    return Err(CodegenError::new(
                        "dict allocation with an odd operand count",
                    ));
                }
                let kvs = self.atoms(kvs)?;
                let (argc, argv) = self.spill(&kvs);
                let loc = self.loc32(loc);
                self.call_rt1(RuntimeFn::AllocDict, &[region, argc, argv, loc])
            }
        }
    }

    /// A pair allocated by bumping the region's pointer inline (the common
    /// case: the current chunk has room), `omni_alloc_cons` otherwise (a new
    /// chunk is needed). Same layout and header as the runtime's
    /// `alloc_object`: `[chunk << 16 | Pair][car][cdr]`.
    fn inline_cons(&mut self, region: Value, car: Value, cdr: Value) -> Result<Value> {
        let flags = MemFlagsData::trusted();
        self.inline_object(
            region,
            PAIR_SIZE,
            ObjKind::Pair,
            |tx, p| {
                tx.b.ins().store(flags, car, p, PAIR_CAR);
                tx.b.ins().store(flags, cdr, p, PAIR_CDR);
            },
            |tx| tx.call_rt1(RuntimeFn::AllocCons, &[region, car, cdr]),
        )
    }

    /// The statements at the start of `stmts` that allocate pairs in one
    /// region, each the `cdr` of the next (the pairs of a `(list a b c)`):
    /// [`Self::pair_run_alloc`] bumps the region's pointer once for all of
    /// them. Empty unless the first statement is a pair allocation; at
    /// most [`PAIR_RUN_MAX`] pairs. A `car` may not be a pair of the run
    /// (its value would not exist yet on the slow path), and the region
    /// must be one whose handle stays the same (not the state region,
    /// fetched at each use where the state may be renewed).
    fn pair_run(&self, stmts: &'a [ir::Stmt]) -> &'a [ir::Stmt] {
        let pair = |st: &ir::Stmt| match (&st.op, st.var) {
            (
                Op::Alloc {
                    site,
                    what: Alloc::Cons(car, cdr),
                },
                Some(var),
            ) => {
                let region = self.cx.prog.alloc_sites.get(site.0 as usize)?.region;
                Some((region, *car, *cdr, var))
            }
            _ => None,
        };
        let Some((region, _, _, first)) = stmts.first().and_then(pair) else {
            return &stmts[..0];
        };
        if matches!(region, RegionRef::State) || self.unboxed_var(Some(first)).is_some() {
            return &stmts[..1];
        }
        let mut vars = vec![first];
        for st in &stmts[1..stmts.len().min(PAIR_RUN_MAX)] {
            match pair(st) {
                Some((r, car, cdr, var))
                    if r == region
                        && cdr == Atom::Var(vars[vars.len() - 1])
                        && !matches!(car, Atom::Var(c) if vars.contains(&c))
                        && self.unboxed_var(Some(var)).is_none() =>
                {
                    vars.push(var)
                }
                _ => break,
            }
        }
        &stmts[..vars.len()]
    }

    /// The pairs of a [`Self::pair_run`], allocated by one bump of their
    /// region's pointer when the chunk has room for all of them (the
    /// layout of allocating them one after the other: `[hdr][car][cdr]`
    /// each, the first pair first), by `omni_alloc_cons` for each, in
    /// order, otherwise. Each pair that a statement other than the next
    /// pair reads is defined in its variable. Fewer checks at run time,
    /// and for `omnic build` ~20 fewer CLIF instructions and 4 fewer
    /// blocks per three-element list (issue 13).
    fn pair_run_alloc(&mut self, run: &'a [ir::Stmt]) -> Result<()> {
        let flags = MemFlagsData::trusted();
        let mut cars = Vec::with_capacity(run.len());
        let mut vars = Vec::with_capacity(run.len());
        let mut first_cdr = None;
        let mut site = None;
        for st in run {
            if let (
                Op::Alloc {
                    site: s,
                    what: Alloc::Cons(car, cdr),
                },
                Some(var),
            ) = (&st.op, st.var)
            {
                site.get_or_insert(*s);
                first_cdr.get_or_insert(*cdr);
                cars.push(*car);
                vars.push(var);
            } else {
                return Err(CodegenError::new("a pair run with another statement"));
            }
        }
        let (Some(site), Some(first_cdr)) = (site, first_cdr) else {
            return Err(CodegenError::new("an empty pair run"));
        };
        self.b.set_srcloc(SourceLoc::new(run[0].loc.0));
        let region = self.site_region(Some(site))?;
        let mut car_values = Vec::with_capacity(cars.len());
        for car in &cars {
            car_values.push(self.atom(car)?);
        }
        let first_cdr = self.atom(&first_cdr)?;
        // The pairs read elsewhere than as the next pair's cdr (the last
        // is the list itself).
        let last = vars.len() - 1;
        let read: Vec<usize> = (0..vars.len())
            .filter(|&k| k == last || self.uses.get(vars[k].0 as usize).copied().unwrap_or(0) > 1)
            .collect();
        let size = PAIR_SIZE * vars.len();
        let slow = self.b.create_block();
        let join = self.b.create_block();
        for _ in &read {
            self.b.append_block_param(join, W);
        }
        self.b.set_cold_block(slow);
        let (bump, header) = self.bump_alloc(region, AllocBytes::Const(size), ObjKind::Pair, slow);
        self.b.seal_block(slow);
        let mut pairs = Vec::with_capacity(vars.len());
        let mut cdr = first_cdr;
        for (k, car) in car_values.iter().enumerate() {
            let p = match k {
                0 => bump,
                _ => self.b.ins().iadd_imm_s(bump, (PAIR_SIZE * k) as i64),
            };
            self.b.ins().store(flags, header, p, 0);
            self.b.ins().store(flags, *car, p, PAIR_CAR);
            self.b.ins().store(flags, cdr, p, PAIR_CDR);
            pairs.push(p);
            cdr = p;
        }
        let args: Vec<BlockArg> = read.iter().map(|&k| pairs[k].into()).collect();
        self.b.ins().jump(join, &args);

        self.b.switch_to_block(slow);
        let mut pairs = Vec::with_capacity(vars.len());
        let mut cdr = first_cdr;
        for car in &car_values {
            let p = self.call_rt1(RuntimeFn::AllocCons, &[region, *car, cdr])?;
            pairs.push(p);
            cdr = p;
        }
        let args: Vec<BlockArg> = read.iter().map(|&k| pairs[k].into()).collect();
        self.b.ins().jump(join, &args);

        self.b.seal_block(join);
        self.b.switch_to_block(join);
        for (n, &k) in read.iter().enumerate() {
            let value = self.b.block_params(join)[n];
            let v = self.var(vars[k])?;
            self.b.def_var(v, value);
        }
        Ok(())
    }

    /// A literal array (`(array a b c)`, the rbtree's nodes) allocated inline
    /// as one block: the array object with its payload right behind it
    /// (`[hdr][len][cap][data = p + ARRAY_SIZE][elements]`), which every
    /// array operation reads through `data` as it reads a payload of its own
    /// (a growing `push!` moves the payload, as before). `omni_alloc_array`
    /// when the chunk has no room. Before, every node went through the
    /// runtime and a `memmove` of its elements: 30% of rbtree's time.
    fn inline_array(&mut self, region: Value, elems: &[Value]) -> Result<Value> {
        let flags = MemFlagsData::trusted();
        let cap = elems.len().max(1);
        let size = ARRAY_SIZE + 8 * cap;
        let n = elems.len();
        self.inline_object(
            region,
            size,
            ObjKind::Array,
            |tx, p| {
                let len = tx.word(n as u64);
                let capacity = tx.word(cap as u64);
                let data = tx.b.ins().iadd_imm_s(p, ARRAY_SIZE as i64);
                tx.b.ins().store(flags, len, p, ARRAY_LEN);
                tx.b.ins().store(flags, capacity, p, ARRAY_CAP);
                tx.b.ins().store(flags, data, p, ARRAY_DATA);
                for (i, v) in elems.iter().enumerate() {
                    tx.b.ins().store(flags, *v, data, 8 * i as i32);
                }
            },
            |tx| {
                let (argc, argv) = tx.spill(elems);
                tx.call_rt1(RuntimeFn::AllocArray, &[region, argc, argv])
            },
        )
    }

    /// `(type? v T)`: true, inline, when `v` is a struct whose type is `T`
    /// itself (a struct has its type, whatever the parents); anything else
    /// (a parent or built-in type, another struct type, a forwarded
    /// struct, a `T` that is not a type) asks the primitive. interp's
    /// `match` on `{Closure}` called it for every interpreted call.
    fn type_p(
        &mut self,
        desc: &'static omni_runtime::prims::PrimDesc,
        region: Value,
        args: &[Value],
        loc: LocId,
    ) -> Result<Value> {
        let (v, t) = (args[0], args[1]);
        let (slow, join, result) = self.kind_fast_path(v, ObjKind::Struct);
        let own = self
            .b
            .ins()
            .load(W, MemFlagsData::trusted(), v, STRUCT_TYPE);
        let same = self.b.ins().icmp(IntCC::Equal, own, t);
        let yes = self.word(TRUE);
        self.b.ins().brif(same, join, &[yes.into()], slow, &[]);
        self.prim_slow_path(slow, join, desc, region, args, loc)?;
        Ok(result)
    }

    /// The blocks of an op open-coded for an object of `kind`: the current
    /// block branches to a new fast block when `v` is one (code generation
    /// goes on there), else to the cold block `slow`; both end at `join`,
    /// whose parameter (returned) is the op's value.
    fn kind_fast_path(&mut self, v: Value, kind: ObjKind) -> (Block, Block, Value) {
        let fast = self.b.create_block();
        let slow = self.b.create_block();
        let join = self.b.create_block();
        let result = self.b.append_block_param(join, W);
        self.b.set_cold_block(slow);
        self.branch_if_kind(v, kind, fast, slow);
        self.b.seal_block(fast);
        self.b.switch_to_block(fast);
        (slow, join, result)
    }

    /// The cold block `slow` of an open-coded primitive: the primitive
    /// itself, its answer passed to `join`, where code generation goes on.
    fn prim_slow_path(
        &mut self,
        slow: Block,
        join: Block,
        desc: &'static omni_runtime::prims::PrimDesc,
        region: Value,
        args: &[Value],
        loc: LocId,
    ) -> Result<()> {
        self.b.seal_block(slow);
        self.b.switch_to_block(slow);
        let first = self.b.func.dfg.num_blocks();
        let answer = self.call_prim(desc, region, args, loc)?;
        self.b.ins().jump(join, &[answer.into()]);
        self.set_cold_since(first);
        self.b.seal_block(join);
        self.b.switch_to_block(join);
        Ok(())
    }

    /// `(make-array n fill)` (`fill` nothing when left out) for a fixnum
    /// `n` in `0..=MAKE_ARRAY_INLINE_MAX`: the array and its payload bumped
    /// inline from `region`'s current chunk as one object, the layout
    /// `inline_array` writes (the payload right after the header words),
    /// and filled by a loop. Anything else (another length, a chunk without
    /// room) goes to the primitive, which raises the errors. A new frame
    /// in interp called the primitive through an argument vector (two
    /// hundred instructions) per interpreted call.
    fn make_array(
        &mut self,
        desc: &'static omni_runtime::prims::PrimDesc,
        region: Value,
        args: &[Value],
        loc: LocId,
    ) -> Result<Value> {
        const MAKE_ARRAY_INLINE_MAX: i64 = 16;
        let flags = MemFlagsData::trusted();
        let n = args[0];
        let fill = match args.get(1) {
            Some(v) => *v,
            None => self.word(NOTHING),
        };
        let check_room = self.b.create_block();
        let fill_head = self.b.create_block();
        let i = self.b.append_block_param(fill_head, W);
        let fill_body = self.b.create_block();
        let filled = self.b.create_block();
        let slow = self.b.create_block();
        let join = self.b.create_block();
        let result = self.b.append_block_param(join, W);
        self.b.set_cold_block(slow);
        // A fixnum in range: its tagged word, as unsigned, is at most the
        // largest one's (a negative fixnum is a huge unsigned word).
        let tag = self.b.ins().band_imm_s(n, TAG_INT_MASK as i64);
        let small = self.b.ins().icmp_imm_s(
            IntCC::UnsignedLessThanOrEqual,
            n,
            make_int(MAKE_ARRAY_INLINE_MAX) as i64,
        );
        let ok = self.b.ins().band(tag, small);
        self.b.ins().brif(ok, check_room, &[], slow, &[]);
        self.b.seal_block(check_room);
        self.b.switch_to_block(check_room);
        let len = self.b.ins().sshr_imm_s(n, 1);
        // The payload holds at least one word (`alloc_array`).
        let empty = self.b.ins().icmp_imm_s(IntCC::Equal, len, 0);
        let empty = self.b.ins().uextend(W, empty);
        let cap = self.b.ins().iadd(len, empty);
        let payload = self.b.ins().ishl_imm_s(cap, 3);
        let size = self.b.ins().iadd_imm_s(payload, ARRAY_SIZE as i64);
        let (bump, header) = self.bump_alloc(region, AllocBytes::Value(size), ObjKind::Array, slow);
        self.b.ins().store(flags, header, bump, 0);
        let data = self.b.ins().iadd_imm_s(bump, ARRAY_SIZE as i64);
        self.b.ins().store(flags, len, bump, ARRAY_LEN);
        self.b.ins().store(flags, cap, bump, ARRAY_CAP);
        self.b.ins().store(flags, data, bump, ARRAY_DATA);
        let zero = self.word(0);
        self.b.ins().jump(fill_head, &[zero.into()]);
        self.b.switch_to_block(fill_head);
        let more = self.b.ins().icmp(IntCC::UnsignedLessThan, i, len);
        self.b.ins().brif(more, fill_body, &[], filled, &[]);
        self.b.seal_block(fill_body);
        self.b.switch_to_block(fill_body);
        let offset = self.b.ins().ishl_imm_s(i, 3);
        let addr = self.b.ins().iadd(data, offset);
        self.b.ins().store(flags, fill, addr, 0);
        let next_i = self.b.ins().iadd_imm_s(i, 1);
        self.b.ins().jump(fill_head, &[next_i.into()]);
        self.b.seal_block(fill_head);
        self.b.seal_block(filled);
        self.b.switch_to_block(filled);
        self.b.ins().jump(join, &[bump.into()]);
        self.prim_slow_path(slow, join, desc, region, args, loc)?;
        Ok(result)
    }

    /// An object of `size` bytes (a multiple of 8) and `kind`, bumped inline
    /// from `region`'s current chunk with the runtime's header
    /// (`alloc_object`); `init` writes its fields. `slow` (a cold block)
    /// allocates through the runtime when the chunk has no room.
    fn inline_object(
        &mut self,
        region: Value,
        size: usize,
        kind: ObjKind,
        init: impl FnOnce(&mut Self, Value),
        slow: impl FnOnce(&mut Self) -> Result<Value>,
    ) -> Result<Value> {
        debug_assert!(size.is_multiple_of(8));
        let flags = MemFlagsData::trusted();
        let slow_block = self.b.create_block();
        let join = self.b.create_block();
        let result = self.b.append_block_param(join, W);
        self.b.set_cold_block(slow_block);
        let (bump, header) = self.bump_alloc(region, AllocBytes::Const(size), kind, slow_block);
        self.b.seal_block(slow_block);
        self.b.ins().store(flags, header, bump, 0);
        init(self, bump);
        self.b.ins().jump(join, &[bump.into()]);

        self.b.switch_to_block(slow_block);
        let v = slow(self)?;
        self.b.ins().jump(join, &[v.into()]);

        self.b.seal_block(join);
        self.b.switch_to_block(join);
        Ok(result)
    }

    /// Inline bump allocation of `size` bytes in `region`'s current chunk:
    /// when they fit between the bump pointer and the limit, the code goes
    /// on in a new block (current on return), where the pointer is bumped;
    /// else it jumps to `slow` (neither sealed nor made cold here). Returns
    /// the object's start and the header word of `kind` for its chunk
    /// (`alloc_object`'s), for the caller to store.
    fn bump_alloc(
        &mut self,
        region: Value,
        size: AllocBytes,
        kind: ObjKind,
        slow: Block,
    ) -> (Value, Value) {
        let flags = MemFlagsData::trusted();
        let bump = self.b.ins().load(W, flags, region, REGION_BUMP);
        let limit = self.b.ins().load(W, flags, region, REGION_LIMIT);
        let room = self.b.ins().isub(limit, bump);
        let fits = match size {
            AllocBytes::Const(n) => {
                self.b
                    .ins()
                    .icmp_imm_s(IntCC::UnsignedGreaterThanOrEqual, room, n as i64)
            }
            AllocBytes::Value(n) => self
                .b
                .ins()
                .icmp(IntCC::UnsignedGreaterThanOrEqual, room, n),
        };
        let fast = self.b.create_block();
        self.b.ins().brif(fits, fast, &[], slow, &[]);
        self.b.seal_block(fast);
        self.b.switch_to_block(fast);
        let next = match size {
            AllocBytes::Const(n) => self.b.ins().iadd_imm_s(bump, n as i64),
            AllocBytes::Value(n) => self.b.ins().iadd(bump, n),
        };
        self.b.ins().store(flags, next, region, REGION_BUMP);
        let chunk = self.b.ins().load(W, flags, region, REGION_CURRENT_CHUNK);
        let shifted = self.b.ins().ishl_imm_s(chunk, HEADER_CHUNK_SHIFT as i64);
        let header = self.b.ins().bor_imm_s(shifted, kind as i64);
        (bump, header)
    }

    /// The region an allocation goes to. Before CTRR has run a site is
    /// `Unassigned`; the global region is the conservative choice then (it
    /// is never reclaimed, so nothing can dangle).
    fn site_region(&mut self, site: Option<AllocSiteId>) -> Result<Value> {
        let Some(site) = site else {
            return Ok(self.region);
        };
        let site = self
            .cx
            .prog
            .alloc_sites
            .get(site.0 as usize)
            .ok_or_else(|| CodegenError::new(format!("unknown allocation site {}", site.0)))?;
        self.region_value(site.region)
    }

    /// The runtime value of a region reference. An `Unassigned` allocation
    /// site (CTRR did not run) goes to the global region, which is never
    /// reclaimed, so nothing can dangle.
    fn region_value(&mut self, r: RegionRef) -> Result<Value> {
        match r {
            RegionRef::Result => Ok(self.region),
            RegionRef::Local(v) if self.lazy_slot(v).is_some() => self.lazy_region_value(v),
            RegionRef::Local(v) => {
                let v = self.var(v)?;
                Ok(self.b.use_var(v))
            }
            RegionRef::Global | RegionRef::Unassigned => self
                .global_region
                .ok_or_else(|| CodegenError::new("global region not prepared")),
            // A function that may renew the state fetches the current
            // version at each use (what it allocates there is pinned after,
            // `Op::StatePin`; a call that may renew pins the version first,
            // `Op::StatePinCurrent`).
            RegionRef::State => match self.state_region {
                Some(r) => Ok(r),
                None if self.pins.is_some() => self.call_rt1(RuntimeFn::StateRegion, &[]),
                None => Err(CodegenError::new("state region not prepared")),
            },
        }
    }

    /// The stack slot of the activation's pin word.
    /// A fresh pin word `[pins, last pinned version]`, both null (no pin
    /// region yet; see `omni_state_pin_word`).
    fn pin_word(&mut self) -> Result<cranelift_codegen::ir::StackSlot> {
        let slot =
            self.b
                .create_sized_stack_slot(StackSlotData::new(StackSlotKind::ExplicitSlot, 16, 3));
        let zero = self.word(0);
        self.b.ins().stack_store(W, zero, slot, 0);
        self.b.ins().stack_store(W, zero, slot, 8);
        Ok(slot)
    }

    fn pins_slot(&self) -> Result<cranelift_codegen::ir::StackSlot> {
        self.pins
            .ok_or_else(|| CodegenError::new("state pin without `state-pins`"))
    }

    /// Run `body` (on a cold path) only when `v` is a heap object.
    fn if_pointer(&mut self, v: Value, body: impl FnOnce(&mut Self) -> Result<()>) -> Result<()> {
        let is_ptr = self.is_pointer(v);
        self.if_true(is_ptr, body)
    }

    /// Nonzero (i8) iff the word `v` is a heap object: aligned (no tag
    /// bits) and not the zero word.
    /// One compare: rotating the word right by the tag width moves the tag
    /// bits to the top, so an aligned nonzero word becomes a number in
    /// `1..2^61` and anything else either 0 or at least `2^61`; minus one,
    /// an unsigned compare with `2^61 - 1` separates them.
    fn is_pointer(&mut self, v: Value) -> Value {
        let rotated = self.b.ins().rotr_imm_s(v, TAG_BITS as i64);
        let less_one = self.b.ins().iadd_imm_s(rotated, -1);
        self.b.ins().icmp_imm_u(
            IntCC::UnsignedLessThan,
            less_one,
            (1u64 << (64 - TAG_BITS)) as i64 - 1,
        )
    }

    /// Pin the state version `v` points into, if any, for the activation.
    fn pin_value(&mut self, v: Value) -> Result<()> {
        let slot = self.pins_slot()?;
        // The call only when `v` is in a state version other than
        // the one the activation pinned last (`omni_state_pin_word`).
        self.if_pointer(v, |tx| {
            let flags = MemFlagsData::trusted();
            let header = tx.b.ins().load(W, flags, v, 0);
            let chunk = tx.b.ins().ushr_imm_s(header, HEADER_CHUNK_SHIFT as i64);
            let region = tx.b.ins().load(W, flags, chunk, CHUNK_REGION);
            let last = tx.b.ins().stack_load(W, W, slot, 8);
            let other = tx.b.ins().icmp(IntCC::NotEqual, region, last);
            tx.if_true(other, |tx| {
                let is_state =
                    tx.b.ins()
                        .uload8(types::I32, flags, region, REGION_STATE_VERSION);
                tx.if_nonzero(is_state, |tx| {
                    let word = tx.b.ins().stack_addr(W, slot, 0);
                    tx.call_rt(RuntimeFn::StatePin, &[word, v]).map(|_| ())
                })
            })
        })?;
        Ok(())
    }

    /// Run `body` (on a cold path) only when `v` is an object of a version
    /// of the global-state region (its chunk's region has the flag).
    /// `body` is given the version `v` is in.
    fn if_state_object(
        &mut self,
        v: Value,
        body: impl FnOnce(&mut Self, Value) -> Result<()>,
    ) -> Result<()> {
        self.if_pointer(v, |tx| {
            let flags = MemFlagsData::trusted();
            let header = tx.b.ins().load(W, flags, v, 0);
            let chunk = tx.b.ins().ushr_imm_s(header, HEADER_CHUNK_SHIFT as i64);
            let region = tx.b.ins().load(W, flags, chunk, CHUNK_REGION);
            let is_state =
                tx.b.ins()
                    .uload8(types::I32, flags, region, REGION_STATE_VERSION);
            tx.if_nonzero(is_state, |tx| body(tx, region))
        })
    }

    /// Run `body` (on a cold path) only when the word `v` is not zero.
    fn if_nonzero(&mut self, v: Value, body: impl FnOnce(&mut Self) -> Result<()>) -> Result<()> {
        let nonzero = self.b.ins().icmp_imm_s(IntCC::NotEqual, v, 0);
        self.if_true(nonzero, body)
    }

    fn if_true(&mut self, cond: Value, body: impl FnOnce(&mut Self) -> Result<()>) -> Result<()> {
        let then = self.b.create_block();
        let done = self.b.create_block();
        self.b.set_cold_block(then);
        self.b.ins().brif(cond, then, &[], done, &[]);
        self.b.seal_block(then);
        self.b.switch_to_block(then);
        body(self)?;
        self.b.ins().jump(done, &[]);
        self.b.seal_block(done);
        self.b.switch_to_block(done);
        Ok(())
    }

    /// A new handle slot for lazily created region `v`, holding null.
    fn lazy_region_slot(&mut self, v: ir::VarId, hot: bool) -> StackSlot {
        let slot = match self.lazy_slot(v) {
            Some(slot) => slot,
            None => {
                let slot = self.b.create_sized_stack_slot(StackSlotData::new(
                    StackSlotKind::ExplicitSlot,
                    8,
                    3,
                ));
                self.lazy_regions.push((v, slot, hot));
                slot
            }
        };
        self.forget_region(v);
        let zero = self.word(0);
        self.b.ins().stack_store(W, zero, slot, 0);
        slot
    }

    /// Region `v`'s slot is reset or its region exited: its handle is no
    /// longer known, here or (`region_resets`) after an enclosing block.
    fn forget_region(&mut self, v: ir::VarId) {
        self.known_regions.retain(|(known, _)| *known != v);
        self.region_resets += 1;
    }

    /// The stack slot of lazily created region `v`, if it is one.
    fn lazy_slot(&self, v: ir::VarId) -> Option<StackSlot> {
        self.lazy_regions
            .iter()
            .find(|(lv, _, _)| *lv == v)
            .map(|(_, slot, _)| *slot)
    }

    /// The handle of the lazily created region `v`, creating the region if
    /// this is its first use.
    fn lazy_region_value(&mut self, v: ir::VarId) -> Result<Value> {
        let (_, slot, hot) = *self
            .lazy_regions
            .iter()
            .find(|(lv, _, _)| *lv == v)
            .ok_or_else(|| CodegenError::new("no lazy region"))?;
        if let Some(&(_, handle)) = self.known_regions.iter().find(|(known, _)| *known == v) {
            return Ok(handle);
        }
        let at_statement_start =
            self.statement_start.is_some() && self.statement_start == self.b.current_block();
        let r = self.b.ins().stack_load(W, W, slot, 0);
        let create = self.b.create_block();
        let have = self.b.create_block();
        let handle = self.b.append_block_param(have, W);
        // The Float region is only used on cold slow paths, which continue
        // in `have`: it must not be laid out among the hot blocks (a jump
        // over it would cost every fast path).
        self.b.set_cold_block(create);
        if !hot {
            self.b.set_cold_block(have);
        }
        self.b.ins().brif(r, have, &[r.into()], create, &[]);
        self.b.seal_block(create);
        self.b.switch_to_block(create);
        let site = self.loc32(self.f.loc);
        let fresh = self.call_rt1(RuntimeFn::RegionCreate, &[site])?;
        self.b.ins().stack_store(W, fresh, slot, 0);
        self.b.ins().jump(have, &[fresh.into()]);
        self.b.seal_block(have);
        self.b.switch_to_block(have);
        if at_statement_start {
            // Every later point of the statement and of the IR block is
            // reached through `have`.
            self.known_regions.push((v, handle));
            self.statement_start = Some(have);
        }
        Ok(handle)
    }

    // ---- small helpers ----

    fn var(&self, v: ir::VarId) -> Result<Variable> {
        self.vars.get(v.0 as usize).copied().ok_or_else(|| {
            CodegenError::new(format!(
                "variable v{} out of range in `{}`",
                v.0, self.f.name
            ))
        })
    }

    fn atom(&mut self, a: &Atom) -> Result<Value> {
        Ok(match a {
            // Every read of an unboxed Float is an operand of an op that
            // reads numbers (`float_locals`), which takes it through
            // `num`; any other read gets the boxed word.
            Atom::Var(v) if self.unboxed_var(Some(*v)).is_some() => {
                let n = self.num(a)?;
                self.boxed(n)?
            }
            Atom::Var(v) => {
                let v = self.var(*v)?;
                self.b.use_var(v)
            }
            Atom::Imm(w) => self.word(*w),
            Atom::Const(c) => {
                let slot =
                    *self.cx.const_slots.get(c.0 as usize).ok_or_else(|| {
                        CodegenError::new(format!("constant c{} out of range", c.0))
                    })?;
                if slot == cranelift_module::DataId::from_u32(u32::MAX) {
                    return Err(CodegenError::new(format!(
                        "constant c{} is not built by this module",
                        c.0
                    )));
                }
                let addr = self.data_addr(slot);
                self.b.ins().load(W, MemFlagsData::trusted(), addr, 0)
            }
            Atom::SelfClosure => self.env,
        })
    }

    fn atoms(&mut self, atoms: &[Atom]) -> Result<Vec<Value>> {
        atoms.iter().map(|a| self.atom(a)).collect()
    }

    fn word(&mut self, w: u64) -> Value {
        self.b.ins().iconst(W, w as i64)
    }

    fn loc32(&mut self, loc: LocId) -> Value {
        self.b.ins().iconst(types::I32, i64::from(loc.0))
    }

    /// i8: 1 iff `v` is truthy (`(v | 0x10) != 0x12`).
    fn truthy(&mut self, v: Value) -> Value {
        let merged = self.b.ins().bor_imm_s(v, 0x10);
        self.b.ins().icmp_imm_s(IntCC::NotEqual, merged, 0x12)
    }

    /// TRUE or FALSE from an i8 condition.
    fn bool_word(&mut self, c: Value) -> Value {
        let wide = self.b.ins().uextend(W, c);
        let shifted = self.b.ins().ishl_imm_s(wide, 3);
        self.b.ins().bor_imm_s(shifted, FALSE as i64)
    }

    /// Store `values` into a fresh stack slot; returns (count, address).
    fn spill(&mut self, values: &[Value]) -> (Value, Value) {
        let (_, argc, argv) = self.spill_slot(values);
        (argc, argv)
    }

    /// `spill`, also giving the stack slot (to read the words back).
    fn spill_slot(&mut self, values: &[Value]) -> (StackSlot, Value, Value) {
        let slot = self.b.create_sized_stack_slot(StackSlotData::new(
            StackSlotKind::ExplicitSlot,
            (8 * values.len().max(1)) as u32,
            3,
        ));
        for (i, v) in values.iter().enumerate() {
            self.b.ins().stack_store(W, *v, slot, (8 * i) as i32);
        }
        let argc = self.word(values.len() as u64);
        let argv = self.b.ins().stack_addr(W, slot, 0);
        (slot, argc, argv)
    }

    /// The bytes allocated in `region` (`region_bytes`, inline):
    /// `retired_bytes + bump - current_start`.
    fn region_bytes(&mut self, region: Value) -> Value {
        let flags = MemFlagsData::trusted();
        let retired = self.b.ins().load(W, flags, region, REGION_RETIRED_BYTES);
        let bump = self.b.ins().load(W, flags, region, REGION_BUMP);
        let start = self.b.ins().load(W, flags, region, REGION_CURRENT_START);
        let used = self.b.ins().isub(bump, start);
        self.b.ins().iadd(retired, used)
    }

    /// When `cond` holds, call the carry routine `rt` in a cold block on
    /// the loop's carry state `[carry region, limit, root…]` (no `limit`: a
    /// zero word, the exit does not use it), and take back what the routine
    /// may have changed: the roots, and the region and limit when given.
    fn carry_call(
        &mut self,
        cond: Value,
        rt: RuntimeFn,
        carry: ir::VarId,
        limit: Option<ir::VarId>,
        roots: &[ir::VarId],
    ) -> Result<()> {
        let call = self.b.create_block();
        let join = self.b.create_block();
        self.b.set_cold_block(call);
        self.b.ins().brif(cond, call, &[], join, &[]);
        self.b.seal_block(call);
        self.b.switch_to_block(call);
        // Slot i of the state and the variable it is read back into.
        let mut taken_back: Vec<(usize, ir::VarId)> = Vec::with_capacity(roots.len() + 2);
        if let Some(l) = limit {
            taken_back.extend([(0, carry), (1, l)]);
        }
        taken_back.extend(roots.iter().enumerate().map(|(i, v)| (i + 2, *v)));
        let mut values = Vec::with_capacity(roots.len() + 2);
        for v in [Some(carry), limit]
            .into_iter()
            .chain(roots.iter().map(|v| Some(*v)))
        {
            values.push(match v {
                Some(v) => {
                    let var = self.var(v)?;
                    self.b.use_var(var)
                }
                None => self.word(0),
            });
        }
        let (slot, argc, argv) = self.spill_slot(&values);
        let region = self.region;
        self.call_rt(rt, &[region, argv, argc])?;
        for (i, v) in taken_back {
            let var = self.var(v)?;
            let w = self.b.ins().stack_load(W, W, slot, (8 * i) as i32);
            self.b.def_var(var, w);
        }
        self.b.ins().jump(join, &[]);
        self.b.seal_block(join);
        self.b.switch_to_block(join);
        Ok(())
    }

    /// The address of global `g`'s slot in the globals array.
    fn global_addr(&mut self, g: ir::GlobalId) -> Result<Value> {
        if g.0 as usize >= self.cx.prog.globals.len() {
            return Err(CodegenError::new(format!("global g{} out of range", g.0)));
        }
        if let Some(link) = self.cx.link {
            let addr = link.base + 8 * link.slot_of[g.0 as usize] as usize;
            return Ok(self.b.ins().iconst(W, addr as i64));
        }
        let base = self.data_addr(self.cx.globals);
        Ok(self.b.ins().iadd_imm_s(base, 8 * g.0 as i64))
    }

    fn func_ref(&mut self, id: FuncId) -> FuncRef {
        if let Some(r) = self.func_refs.get(&id) {
            return *r;
        }
        let r = self.cx.module.declare_func_in_func(id, self.b.func);
        self.func_refs.insert(id, r);
        r
    }

    fn data_addr(&mut self, id: DataId) -> Value {
        let gv = match self.data_refs.get(&id) {
            Some(gv) => *gv,
            None => {
                let gv = self.cx.module.declare_data_in_func(id, self.b.func);
                self.data_refs.insert(id, gv);
                gv
            }
        };
        self.b.ins().symbol_value(W, gv)
    }

    /// The current value of the runtime's data word `symbol`
    /// (`omni_runtime::abi::RT_DATA`; it may change: a plain load).
    fn runtime_word(&mut self, symbol: &str) -> Result<Value> {
        let id = self.cx.import_data(symbol)?;
        let addr = self.data_addr(id);
        Ok(self.b.ins().load(W, MemFlagsData::new(), addr, 0))
    }

    /// Intern `name` at run time (used on cold error paths).
    fn intern(&mut self, name: &str) -> Result<Value> {
        let data = self.cx.byte_string(name.as_bytes())?;
        let ptr = self.data_addr(data);
        let len = self.word(name.len() as u64);
        self.call_rt1(RuntimeFn::Intern, &[ptr, len])
    }

    fn call_rt(&mut self, rt: RuntimeFn, args: &[Value]) -> Result<Option<Value>> {
        if !rt.forwards_nothing() {
            self.forget_checked();
        }
        let sig = rt.signature(self.cx.module);
        let id = self.cx.import_function(rt.symbol(), &sig)?;
        let fr = self.func_ref(id);
        let call = self.b.ins().call(fr, args);
        Ok(self.b.inst_results(call).first().copied())
    }

    /// The checked arrays and pairs and the epoch, at a branch point.
    fn checked_facts(&self) -> CheckedFacts {
        (
            self.checked_arrays.clone(),
            self.checked_pairs.clone(),
            self.checked_structs.clone(),
            self.checked_epoch,
        )
    }

    /// Before the `else` branch of an `if`: the facts of the branch point
    /// (`checked_facts`), whatever the `then` branch forgot (it does not
    /// run on the way to `else`).
    fn restore_checked(&mut self, facts: &CheckedFacts) {
        self.checked_arrays.clone_from(&facts.0);
        self.checked_pairs.clone_from(&facts.1);
        self.checked_structs.clone_from(&facts.2);
    }

    /// Forget the checked arrays, pairs and structs: a call may forward an object (a store
    /// barrier's repair, a renewal), after which its old address is a
    /// forwarding object.
    fn forget_checked(&mut self) {
        self.forget_checked_facts();
        self.checked_epoch += 1;
    }

    /// Clear the checked arrays, pairs and structs (without a new epoch:
    /// the end of a block or an `if` that forgot them).
    fn forget_checked_facts(&mut self) {
        self.checked_arrays.clear();
        self.checked_pairs.clear();
        self.checked_structs.clear();
    }

    fn call_rt1(&mut self, rt: RuntimeFn, args: &[Value]) -> Result<Value> {
        self.call_rt(rt, args)?
            .ok_or_else(|| CodegenError::new(format!("{} returns no value", rt.symbol())))
    }
}

/// Whether any allocation site or call result region in `block`
/// (recursively) is `region` (`Global` also counts unassigned sites).
fn block_uses_region(prog: &ir::Program, block: &ir::Block, region: RegionRef) -> bool {
    let is_global =
        |r: RegionRef| r == region || (region == RegionRef::Global && r == RegionRef::Unassigned);
    let global = |site: &AllocSiteId| {
        prog.alloc_sites
            .get(site.0 as usize)
            .is_some_and(|s| is_global(s.region))
    };
    let in_stmts = block.stmts.iter().any(|s| match &s.op {
        op if op.alloc_site().is_some() => op.alloc_site().is_some_and(|site| global(&site)),
        Op::Call { region, .. } => is_global(*region),
        Op::If { then, els, .. } => {
            block_uses_region(prog, then, region) || block_uses_region(prog, els, region)
        }
        _ => false,
    });
    in_stmts
        || match &block.tail {
            Tail::If { then, els, .. } => {
                block_uses_region(prog, then, region) || block_uses_region(prog, els, region)
            }
            _ => false,
        }
}

/// The primitive behind an inline op's slow path.
/// Whether block `b` only yields `a`.
fn yields_only(b: &ir::Block, a: &Atom) -> bool {
    b.stmts.is_empty() && matches!(&b.tail, Tail::Yield(y) if y == a)
}

/// The checked arrays, pairs and structs and the epoch at a point
/// (`checked_facts`).
type CheckedFacts = (
    Vec<(Value, Value, Value)>,
    Vec<(Value, Value)>,
    Vec<(Value, Value)>,
    u64,
);

/// What a branch of an `if` learned from its condition about pairs
/// (`branch_on`).
#[derive(Clone, Copy)]
enum PairTest {
    None,
    /// The condition was `(pair? v)` (or its negation): the branch it
    /// holds in (`true`: `then`), `v`, and the variable holding the pair
    /// `v` stands for there.
    Holds(bool, Value, Variable),
}

impl PairTest {
    /// The value and pair variable for the branch taken when the
    /// condition is `branch`, if the test held there.
    fn then_pair(self, branch: bool) -> Option<(Value, Variable)> {
        match self {
            PairTest::Holds(holds, value, var) if holds == branch => Some((value, var)),
            _ => None,
        }
    }
}

/// What a block's `Tail::Yield` does: nothing may yield (a function body),
/// jump to the join block of a non-tail `if` with the value, or branch on
/// the value (a non-tail `if` generated as a condition, `branch_if`).
#[derive(Clone, Copy)]
enum Join {
    None,
    Value(Block),
    Branch(Block, Block),
}

/// The integer condition of an inline comparison (on tagged fixnums, which
/// compare like their values).
fn int_cc(op: InlineOp) -> Result<IntCC> {
    Ok(match op {
        InlineOp::Lt => IntCC::SignedLessThan,
        InlineOp::Gt => IntCC::SignedGreaterThan,
        InlineOp::Le => IntCC::SignedLessThanOrEqual,
        InlineOp::Ge => IntCC::SignedGreaterThanOrEqual,
        InlineOp::NumEq => IntCC::Equal,
        InlineOp::NumNe => IntCC::NotEqual,
        _ => return Err(CodegenError::new(format!("{op:?} is not a comparison"))),
    })
}

/// How many times each variable of `f` is read: statement operands and
/// block tails (conditions, returned and yielded atoms, call operands).
fn use_counts(f: &ir::Function) -> (Vec<u32>, Vec<u32>) {
    let uses = ir::visit::read_counts(&f.body, f.nvars);
    let mut self_yields = vec![0u32; f.nvars as usize];
    ir::visit::walk_block(&f.body, &mut |st| {
        if let Op::If {
            cond: Atom::Var(c),
            then,
            els,
        } = &st.op
        {
            for b in [then, els] {
                if yields_only(b, &Atom::Var(*c)) {
                    if let Some(n) = self_yields.get_mut(c.0 as usize) {
                        *n += 1;
                    }
                }
            }
        }
    });
    (uses, self_yields)
}

fn slow_prim(op: InlineOp) -> Result<&'static omni_runtime::prims::PrimDesc> {
    let name = op
        .slow_path()
        .ok_or_else(|| CodegenError::new(format!("{op:?} has no slow path")))?;
    runtime::prim(name)
}

/// An operand or result of an op that reads numbers: a word, and for an
/// unboxed Float variable its f64, the flag that says the f64 is the value
/// (the word is then 0) and the allocation site to box it in.
#[derive(Clone, Copy)]
struct Num {
    word: Value,
    float: Option<(Value, Value, Option<AllocSiteId>)>,
    /// A known fixnum (an Int literal, or a fixnum of the Int copy):
    /// its ops test no tag.
    int: bool,
}

impl Num {
    fn word(word: Value) -> Num {
        Num {
            word,
            float: None,
            int: false,
        }
    }
}

/// Where the result of an arithmetic op goes: boxed in the region of its
/// allocation site, or (an unboxed Float variable's op) unboxed.
#[derive(Clone, Copy)]
struct ResultPlace {
    site: Option<AllocSiteId>,
    unboxed: bool,
}

/// The Cranelift variables of an unboxed Float variable (`Num`).
#[derive(Clone, Copy)]
struct UnboxedVars {
    float: Variable,
    is_float: Variable,
    site: Option<AllocSiteId>,
}

/// The variables of `f` that stay unboxed Floats: those defined by `+ - *
/// /` (or copied from such a variable) whose every read is an operand of an
/// arithmetic op or a comparison (or a copy into another such variable).
/// Their Floats are never boxed on the paths where they are Floats: mbrot's
/// `(+ (* zr zr) (* zi zi))` allocated three Floats per iteration, and now
/// none. A read elsewhere (a call, a store, a return) boxes, so a variable
/// with one is left out. For each, the allocation site of the op that
/// defines it (through the copies): a slow path that needs the word boxes
/// the Float in that site's region.
fn float_locals(
    prog: &ir::Program,
    f: &ir::Function,
    uses: &[u32],
    is_loop: bool,
) -> Vec<Option<Option<AllocSiteId>>> {
    let n = f.nvars as usize;
    let mut site: Vec<Option<Option<AllocSiteId>>> = vec![None; n];
    let mut numeric_reads = vec![0u32; n];
    // A loop's parameters may be unboxed too: the back edges pass their
    // arguments' f64s (a Float boxed for a slow path goes to the result
    // region, where the argument would have been). An argument is read by
    // the parameter it is passed to.
    let params: Vec<usize> = f
        .params
        .iter()
        .chain(f.rest.iter())
        .map(|p| p.0 as usize)
        .filter(|&p| p < n)
        .collect();
    let mut passed: Vec<(usize, usize)> = Vec::new();
    if is_loop && f.rest.is_none() {
        for &p in &params {
            site[p] = Some(None);
        }
        ir::visit::walk_tails(&f.body, &mut |t| {
            if let Tail::Call {
                callee: Callee::Known { func, .. },
                args,
                ..
            } = t
            {
                if *func == f.id {
                    for (&p, a) in params.iter().zip(args) {
                        if let Atom::Var(u) = a {
                            if (u.0 as usize) < n {
                                passed.push((p, u.0 as usize));
                            }
                        }
                    }
                }
            }
        });
    }
    let mut copies: Vec<(usize, usize)> = Vec::new();
    let var_index = |a: &Atom| match a {
        Atom::Var(v) if (v.0 as usize) < n => Some(v.0 as usize),
        _ => None,
    };
    ir::visit::walk_block(&f.body, &mut |st| match &st.op {
        Op::Inline(op, args, op_site) if op.reads_numbers() => {
            for a in args {
                if let Some(u) = var_index(a) {
                    numeric_reads[u] += 1;
                }
            }
            let arithmetic = matches!(
                op,
                InlineOp::Add | InlineOp::Sub | InlineOp::Mul | InlineOp::Div
            );
            if let (true, Some(v)) = (arithmetic, st.var) {
                if let Some(s) = site.get_mut(v.0 as usize) {
                    *s = Some(*op_site);
                }
            }
        }
        Op::Move(a) => {
            if let (Some(u), Some(v)) = (var_index(a), st.var) {
                if (v.0 as usize) < n {
                    copies.push((v.0 as usize, u));
                }
            }
        }
        // A field read may be a raw Float slot's f64, given unboxed; the
        // value stored by a `put!` into a field may be one too (a raw slot
        // takes it as is, another slot boxes it).
        Op::Prim {
            prim,
            args,
            site: get_site,
        } if runtime::prim_by_id(*prim).is_ok_and(|d| is_sqrt(d, args)) => {
            // `sqrt` is computed inline: its operand read as a number, its
            // result possibly left unboxed.
            if let Some(u) = var_index(&args[0]) {
                numeric_reads[u] += 1;
            }
            if let Some(s) = st.var.and_then(|v| site.get_mut(v.0 as usize)) {
                *s = Some(*get_site);
            }
        }
        Op::Prim {
            args,
            site: get_site,
            ..
        } => match field_access(prog, &st.op) {
            // Without a site no struct has a raw slot of that name.
            Some(OpenCoded::FieldGet) if get_site.is_some() => {
                if let Some(s) = st.var.and_then(|v| site.get_mut(v.0 as usize)) {
                    *s = Some(*get_site);
                }
            }
            Some(OpenCoded::FieldPut) => {
                if let Some(u) = var_index(&args[2]) {
                    numeric_reads[u] += 1;
                }
            }
            _ => {}
        },
        _ => {}
    });
    // Copies take their source's site; then drop every variable with a
    // read that is not numeric, until nothing changes.
    let mut copy_target = vec![false; n];
    loop {
        let mut changed = false;
        for &(v, u) in &copies {
            if site[v].is_none() && site[u].is_some() && !copy_target[v] {
                site[v] = site[u];
                copy_target[v] = true;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    loop {
        let mut changed = false;
        for v in 0..n {
            if site[v].is_none() {
                continue;
            }
            let copied = copies
                .iter()
                .chain(&passed)
                .filter(|&&(t, u)| u == v && site[t].is_some())
                .count() as u32;
            let source_boxed =
                copy_target[v] && copies.iter().any(|&(t, u)| t == v && site[u].is_none());
            if numeric_reads[v] + copied != uses.get(v).copied().unwrap_or(0) || source_boxed {
                site[v] = None;
                changed = true;
            }
        }
        if !changed {
            return site;
        }
    }
}

/// Whether a `get`/`%put!` with these operands names a struct field
/// (`s.field`): `argc` operands, the key a literal symbol.
fn is_field_site(prog: &ir::Program, args: &[Atom], argc: usize) -> bool {
    args.len() == argc
        && matches!(args[1], Atom::Const(c)
            if matches!(prog.consts.get(c.0 as usize), Some(ir::Const::Symbol(_))))
}

/// Whether a primitive call is `(sqrt x)`, which generated code computes
/// inline (`FnTx::sqrt`).
fn is_sqrt(desc: &omni_runtime::prims::PrimDesc, args: &[Atom]) -> bool {
    desc.name == "sqrt" && args.len() == 1
}

/// The open-coded field access a statement is, if it is one (`s.field`).
fn field_access(prog: &ir::Program, op: &Op) -> Option<OpenCoded> {
    let Op::Prim { prim, args, .. } = op else {
        return None;
    };
    match runtime::prim_by_id(*prim).ok()?.open_coded? {
        OpenCoded::FieldGet if is_field_site(prog, args, 2) => Some(OpenCoded::FieldGet),
        OpenCoded::FieldPut if is_field_site(prog, args, 3) => Some(OpenCoded::FieldPut),
        _ => None,
    }
}

/// Whether `f` shows signs of Float arithmetic: a Float constant, a `/`, a
/// Float primitive (`float`, `sqrt`, ...), or a struct field read or store
/// (fields are where programs keep their Floats: nbody's `move`).
fn mentions_floats(prog: &ir::Program, f: &ir::Function) -> bool {
    let float_const = |a: &Atom| {
        matches!(a, Atom::Const(c)
            if matches!(prog.consts.get(c.0 as usize), Some(ir::Const::Float(_))))
    };
    let mut found = false;
    ir::visit::walk_block(&f.body, &mut |st| {
        found |= st.op.operands().iter().any(float_const)
            || match &st.op {
                Op::Inline(op, ..) => *op == InlineOp::Div,
                Op::Prim { prim, .. } => runtime::prim_by_id(*prim).is_ok_and(|d| {
                    d.open_coded
                        .is_some_and(|o| matches!(o, OpenCoded::FieldGet | OpenCoded::FieldPut))
                        || FLOAT_PRIMS.contains(&d.name)
                }),
                _ => false,
            };
    });
    ir::visit::walk_tails(&f.body, &mut |t| {
        if let Tail::Call { args, .. } = t {
            found |= args.iter().any(float_const);
        }
    });
    found
}

/// Primitives whose use suggests Float arithmetic nearby.
const FLOAT_PRIMS: &[&str] = &[
    "float", "sqrt", "exp", "log", "sin", "cos", "tan", "atan", "expt", "floor", "ceiling",
    "round", "truncate", "abs",
];

/// The size of an inline allocation (`FnTx::bump_alloc`): known when the
/// code is generated, or computed by it.
#[derive(Clone, Copy)]
enum AllocBytes {
    Const(usize),
    Value(Value),
}

/// What a block's facts (`checked_pairs`, `checked_structs`) say of `v`.
fn fact_of(facts: &[(Value, Value)], v: Value) -> Option<Value> {
    facts.iter().find(|c| c.0 == v).map(|&(_, fact)| fact)
}
