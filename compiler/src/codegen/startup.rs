//! Program start-up: `omni_init`, the `omni_entry` trampoline and `main`.
//!
//! `omni_init` (tail convention) registers the source-location table with the
//! runtime, builds every constant into its slot in the global region
//! (strings, floats, symbols, quoted structures bottom-up), interns every
//! function's name into its name slot (read when closures are allocated), and
//! finally tail-calls the IR entry function with env 0 and the global region.
//! `omni_entry() -> i64` is the exported SystemV trampoline the runtime calls;
//! `main(argc, argv)` (object output only) hands it to `omni_rt_main`.
//!
//! Every SystemV trampoline into generated code (`omni_entry`, the apply
//! trampoline) must install the pinned register — the address of the
//! running thread's stack-limit word, read by every prologue — and restore
//! the caller's value before returning: [`enter_generated`] /
//! [`leave_generated`] (docs/REGION_THREADING_MODEL.md, "Stack overflow").

use super::parallel::{Job, Pipeline};
use super::runtime::RuntimeFn;
use super::{tail_signature, CodegenError, CodegenOptions, ModuleCx, Result};
use crate::ir::{Const, QuotedDatum};
use cranelift_codegen::ir::immediates::Imm64;
use cranelift_codegen::ir::{
    types, AbiParam, FuncRef, GlobalValue, GlobalValueData, InstBuilder, MemFlagsData,
    StackSlotData, StackSlotKind, Value,
};
use cranelift_codegen::Context;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_module::{DataDescription, DataId, FuncId, Linkage, Module};
use omni_runtime::value::NIL;
use std::collections::HashMap;

const W: types::Type = types::I64;

/// Define `omni_init` (through `pipeline`, which must be finished after),
/// `omni_entry` and (with `emit_main`) `main`; returns `omni_entry`. Called
/// before the functions are translated, so that `omni_init` compiles
/// beside them.
pub(crate) fn define_startup<M: Module>(
    cx: &mut ModuleCx<'_, M>,
    pipeline: &mut Pipeline,
    ctx: &mut Context,
    fb_ctx: &mut FunctionBuilderContext,
    opts: &CodegenOptions,
    clif: &mut String,
) -> Result<FuncId> {
    // The apply trampoline: SystemV `(closure, region, args, loc) -> value`,
    // calls the closure's generic `apply` entry (tail convention). The
    // runtime calls closures through it (try/handle bodies, handlers,
    // `%dispatch-apply`).
    let mut tramp_sig = cx.module.make_signature();
    for _ in 0..4 {
        tramp_sig.params.push(AbiParam::new(W));
    }
    tramp_sig.returns.push(AbiParam::new(W));
    let tramp = cx
        .module
        .declare_function("omni_apply_trampoline", Linkage::Local, &tramp_sig)?;
    cx.module.clear_context(ctx);
    ctx.func.signature = tramp_sig;
    {
        let apply_sig = super::apply_signature(cx.module);
        let mut b = FunctionBuilder::new(&mut ctx.func, fb_ctx);
        let block = b.create_block();
        b.append_block_params_for_function_params(block);
        b.switch_to_block(block);
        b.seal_block(block);
        let ps = b.block_params(block).to_vec();
        let saved = enter_generated(cx, &mut b)?;
        let code = b.ins().load(
            W,
            MemFlagsData::trusted(),
            ps[0],
            omni_runtime::value::CLOSURE_APPLY,
        );
        let sig_ref = b.import_signature(apply_sig);
        let call = b.ins().call_indirect(sig_ref, code, &ps);
        let result = b.inst_results(call)[0];
        leave_generated(&mut b, saved);
        b.ins().return_(&[result]);
        b.finalize(cx.module.target_config());
    }
    finish(cx, ctx, tramp, "omni_apply_trampoline", opts, clif)?;

    let init_sig = tail_signature(cx.module, 0);
    let init = cx
        .module
        .declare_function("omni_init", Linkage::Local, &init_sig)?;
    // `omni_init` runs once: compiled quickly rather than well
    // (`parallel::run_once_isa`), and on a worker like the functions (for
    // a large program it is one long straight line of calls, tens of
    // thousands of instructions).
    let mut init_ctx = pipeline.context(cx.module);
    init_ctx.func.signature = init_sig;
    define_init(cx, &mut init_ctx, fb_ctx, opts.merge_threshold_bytes, tramp)?;
    if opts.dump_clif {
        clif.push_str(&format!(";; omni_init\n{}\n", init_ctx.func.display()));
    }
    let calls = super::code_table::number_call_sites(&mut init_ctx.func, &cx.ir_of);
    let job = Job {
        id: init,
        kind: super::code_table::EntryKind::Trampoline,
        symbol: "omni_init".to_string(),
        name: "omni_init".to_string(),
        calls,
        run_once: true,
    };
    pipeline.submit(cx.module, init_ctx, job, &mut cx.table)?;

    let mut entry_sig = cx.module.make_signature();
    entry_sig.returns.push(AbiParam::new(W));
    let entry = cx
        .module
        .declare_function("omni_entry", Linkage::Export, &entry_sig)?;
    cx.module.clear_context(ctx);
    ctx.func.signature = entry_sig;
    {
        let mut b = FunctionBuilder::new(&mut ctx.func, fb_ctx);
        let block = b.create_block();
        b.switch_to_block(block);
        b.seal_block(block);
        let saved = enter_generated(cx, &mut b)?;
        let init_ref = cx.module.declare_func_in_func(init, b.func);
        let call = b.ins().call(init_ref, &[]);
        let result = b.inst_results(call)[0];
        leave_generated(&mut b, saved);
        b.ins().return_(&[result]);
        b.finalize(cx.module.target_config());
    }
    finish(cx, ctx, entry, "omni_entry", opts, clif)?;

    if opts.emit_main {
        let mut main_sig = cx.module.make_signature();
        main_sig.params.push(AbiParam::new(types::I32));
        main_sig.params.push(AbiParam::new(W));
        main_sig.returns.push(AbiParam::new(types::I32));
        let main = cx
            .module
            .declare_function("main", Linkage::Export, &main_sig)?;
        cx.module.clear_context(ctx);
        ctx.func.signature = main_sig;
        let rt_main_sig = RuntimeFn::Main.signature(cx.module);
        let rt_main = cx.import_function(RuntimeFn::Main.symbol(), &rt_main_sig)?;
        {
            let mut b = FunctionBuilder::new(&mut ctx.func, fb_ctx);
            let block = b.create_block();
            b.append_block_params_for_function_params(block);
            b.switch_to_block(block);
            b.seal_block(block);
            let (argc, argv) = (b.block_params(block)[0], b.block_params(block)[1]);
            let entry_ref = cx.module.declare_func_in_func(entry, b.func);
            let entry_addr = b.ins().func_addr(W, entry_ref);
            let rt_main_ref = cx.module.declare_func_in_func(rt_main, b.func);
            let call = b.ins().call(rt_main_ref, &[argc, argv, entry_addr]);
            let status = b.inst_results(call)[0];
            b.ins().return_(&[status]);
            b.finalize(cx.module.target_config());
        }
        finish(cx, ctx, main, "main", opts, clif)?;
    }
    Ok(entry)
}

/// Start of a SystemV trampoline into generated code: save the caller's
/// pinned register and point it at this thread's stack-limit word
/// (`omni_rt_stack_limit_cell`). Returns the saved value for
/// [`leave_generated`].
pub(crate) fn enter_generated<M: Module>(
    cx: &mut ModuleCx<'_, M>,
    b: &mut FunctionBuilder<'_>,
) -> Result<Value> {
    let saved = b.ins().get_pinned_reg(W);
    let mut sig = cx.module.make_signature();
    sig.returns.push(AbiParam::new(W));
    let id = cx.import_function("omni_rt_stack_limit_cell", &sig)?;
    let fr = cx.module.declare_func_in_func(id, b.func);
    let call = b.ins().call(fr, &[]);
    let cell = b.inst_results(call)[0];
    b.ins().set_pinned_reg(cell);
    Ok(saved)
}

/// End of a SystemV trampoline: give the caller its pinned register back
/// (r15 is callee-saved for Rust callers).
pub(crate) fn leave_generated(b: &mut FunctionBuilder<'_>, saved: Value) {
    b.ins().set_pinned_reg(saved);
}

fn finish<M: Module>(
    cx: &mut ModuleCx<'_, M>,
    ctx: &mut Context,
    id: FuncId,
    name: &str,
    opts: &CodegenOptions,
    clif: &mut String,
) -> Result<()> {
    if opts.dump_clif {
        clif.push_str(&format!(";; {name}\n{}\n", ctx.func.display()));
    }
    let calls = super::code_table::number_call_sites(&mut ctx.func, &cx.ir_of);
    cx.module.define_function(id, ctx)?;
    // Trampolines from the runtime end a call-stack walk; `omni_init` only
    // runs before the program's code.
    let entry = super::code_table::finish_entry(
        ctx,
        id,
        super::code_table::EntryKind::Trampoline,
        name.to_string(),
        name.to_string(),
        &calls,
    );
    cx.table.push(entry);
    Ok(())
}

/// The text of the location table: one line per `LocId`, `file:line:col`;
/// a location inside an inlined body adds the inlined function's
/// call-stack name and the `LocId` of its call, tab-separated
/// (`file:line:col\tNAME\tCALL`, read by the runtime's `base/raise.rs`).
pub(crate) fn location_table(prog: &crate::ir::Program) -> String {
    use std::fmt::Write;
    // Written into one string (a large program has a location per
    // expression: one string per line and a join cost ~2,000 instructions
    // each, on the serial path of code generation).
    let mut table = String::with_capacity(prog.locs.len() * 24);
    table.push_str("<unknown>");
    for l in prog.locs.iter().skip(1) {
        table.push('\n');
        table.push_str(&l.file);
        // Writing to a String cannot fail.
        let _ = write!(table, ":{}:{}", l.line, l.col);
        if let Some(inl) = l.inlined {
            let name = super::code_table::display_name(prog, &prog.functions[inl.func.0 as usize]);
            table.push('\t');
            table.extend(
                name.chars()
                    .map(|c| if c == '\t' || c == '\n' { ' ' } else { c }),
            );
            let _ = write!(table, "\t{}", inl.call.0);
        }
    }
    table
}

fn define_init<M: Module>(
    cx: &mut ModuleCx<'_, M>,
    ctx: &mut Context,
    fb_ctx: &mut FunctionBuilderContext,
    merge_threshold_bytes: Option<u64>,
    tramp: FuncId,
) -> Result<()> {
    let mut b = FunctionBuilder::new(&mut ctx.func, fb_ctx);
    let block = b.create_block();
    b.switch_to_block(block);
    b.seal_block(block);
    let mut tx = InitTx {
        cx,
        b,
        func_refs: HashMap::new(),
        data_refs: HashMap::new(),
        names: None,
    };

    // A REPL module leaves its location table to the session, which adds
    // only the new locations (`driver/repl.rs`): the whole session's table
    // in every module would grow with the square of the forms.
    if tx.cx.link.is_none() {
        let table = location_table(tx.cx.prog);
        let table_data = tx.cx.byte_string(table.as_bytes())?;
        let table_ptr = tx.data_addr(table_data);
        let table_len = tx.word(table.len() as u64);
        tx.call_rt(RuntimeFn::SetLocs, &[table_ptr, table_len])?;
    }
    // The code table for call stacks (code_table.rs), read only when an
    // uncaught error is reported.
    let code_table = tx.data_addr(tx.cx.code_table);
    tx.call_rt(RuntimeFn::SetCodeTable, &[code_table])?;
    let tramp_ref = tx.func_ref(tramp);
    let tramp_addr = tx.b.ins().func_addr(W, tramp_ref);
    tx.call_rt(RuntimeFn::SetApplyTrampoline, &[tramp_addr])?;
    if let Some(bytes) = merge_threshold_bytes {
        // The store barrier's H0 threshold from omnic.toml (runtime/src/barrier.rs).
        let mut sig = tx.cx.module.make_signature();
        sig.params.push(AbiParam::new(W));
        let id = tx.cx.import_function("omni_rt_set_merge_threshold", &sig)?;
        let fr = tx.func_ref(id);
        let arg = tx.word(bytes);
        tx.b.ins().call(fr, &[arg]);
    }

    let (globals, nglobals) = match tx.cx.link {
        // A REPL module registers the session's array (every slot in use,
        // the earlier forms' globals included).
        Some(link) => (tx.word(link.base as u64), tx.word(link.nslots as u64)),
        None => {
            let globals = tx.data_addr(tx.cx.globals);
            (globals, tx.word(tx.cx.prog.globals.len() as u64))
        }
    };
    tx.call_rt(RuntimeFn::RegisterGlobals, &[globals, nglobals])?;
    let region = tx.call_rt1(RuntimeFn::GlobalRegion, &[])?;
    let prog = tx.cx.prog;
    for (i, c) in prog.consts.iter().enumerate() {
        if tx.cx.const_slots[i] == DataId::from_u32(u32::MAX) {
            // Not read by this (REPL) module's code.
            continue;
        }
        let v = match c {
            Const::Str(s) => tx.string(region, s)?,
            Const::Float(x) => tx.float(region, *x)?,
            Const::Symbol(s) => tx.intern(s)?,
            Const::Datum(d) => tx.datum(region, d)?,
        };
        let slot = tx.data_addr(tx.cx.const_slots[i]);
        tx.b.ins().store(MemFlagsData::trusted(), v, slot, 0);
    }
    for (i, f) in prog.functions.iter().enumerate() {
        if !tx.cx.reachable[i] {
            continue;
        }
        let sym = tx.intern(&f.name)?;
        let slot = tx.data_addr(tx.cx.name_slots[i]);
        tx.b.ins().store(MemFlagsData::trusted(), sym, slot, 0);
    }
    let entry_code = tx.func_ref(tx.cx.code_ids[prog.entry.0 as usize]);
    let no_env = tx.word(0);
    tx.b.ins().return_call(entry_code, &[no_env, region]);
    tx.define_names()?;
    let config = tx.cx.module.target_config();
    tx.b.finalize(config);
    Ok(())
}

/// A quoted list, array or dict whose parts are being built (`datum`).
enum OpenDatum<'d> {
    /// Items `..left` are still to build; `list` holds the items after them.
    List {
        items: &'d [QuotedDatum],
        left: usize,
        list: Value,
    },
    /// An array's items or a dict's alternating keys and values, built
    /// front to back.
    Seq {
        items: Vec<&'d QuotedDatum>,
        built: Vec<Value>,
        dict: bool,
    },
}

struct InitTx<'c, 'a, 'b, M: Module> {
    cx: &'c mut ModuleCx<'a, M>,
    b: FunctionBuilder<'b>,
    func_refs: HashMap<FuncId, FuncRef>,
    data_refs: HashMap<DataId, GlobalValue>,
    /// The names `intern` passes to the runtime, in one data object
    /// (defined by `define_names` after the last): a name is its address
    /// plus an offset. One data object per name cost ~10,000 instructions
    /// each in the object file's bookkeeping, on the serial start of code
    /// generation (a name per function: issue 13).
    names: Option<NameBlob>,
}

/// The data object of `InitTx::names`: its id, its global value in
/// `omni_init`, its bytes so far and each name's offset.
struct NameBlob {
    id: DataId,
    base: GlobalValue,
    bytes: Vec<u8>,
    offsets: HashMap<String, usize>,
}

impl<M: Module> InitTx<'_, '_, '_, M> {
    fn string(&mut self, region: Value, s: &str) -> Result<Value> {
        let data = self.cx.byte_string(s.as_bytes())?;
        let ptr = self.data_addr(data);
        let len = self.word(s.len() as u64);
        self.call_rt1(RuntimeFn::MakeString, &[region, ptr, len])
    }

    fn float(&mut self, region: Value, x: f64) -> Result<Value> {
        let bits = self.word(x.to_bits());
        self.call_rt1(RuntimeFn::MakeFloat, &[region, bits])
    }

    fn intern(&mut self, name: &str) -> Result<Value> {
        let ptr = self.name_addr(name)?;
        let len = self.word(name.len() as u64);
        self.call_rt1(RuntimeFn::Intern, &[ptr, len])
    }

    /// The address of `name`'s bytes in the names' data object: a global
    /// value of its own, the object's symbol plus the name's offset (one
    /// `symbol_value`, as a data object of its own took).
    fn name_addr(&mut self, name: &str) -> Result<Value> {
        if self.names.is_none() {
            let id = self.cx.module.declare_anonymous_data(false, false)?;
            let base = self.cx.module.declare_data_in_func(id, self.b.func);
            self.names = Some(NameBlob {
                id,
                base,
                bytes: Vec::new(),
                offsets: HashMap::new(),
            });
        }
        let blob = self
            .names
            .as_mut()
            .ok_or_else(|| CodegenError::new("no names"))?;
        let offset = match blob.offsets.get(name) {
            Some(&offset) => offset,
            None => {
                let offset = blob.bytes.len();
                blob.bytes.extend_from_slice(name.as_bytes());
                blob.offsets.insert(name.to_string(), offset);
                offset
            }
        };
        let gv = match offset {
            0 => blob.base,
            _ => {
                let GlobalValueData::Symbol {
                    name: sym,
                    colocated,
                    tls,
                    ..
                } = self.b.func.global_values[blob.base].clone()
                else {
                    return Err(CodegenError::new("the names' global value is not a symbol"));
                };
                self.b.func.create_global_value(GlobalValueData::Symbol {
                    name: sym,
                    offset: Imm64::new(offset as i64),
                    colocated,
                    tls,
                })
            }
        };
        Ok(self.b.ins().symbol_value(W, gv))
    }

    /// Define the names' data object with every name `intern` used.
    fn define_names(&mut self) -> Result<()> {
        let Some(blob) = self.names.take() else {
            return Ok(());
        };
        let mut desc = DataDescription::new();
        // An empty data object is not allowed by every object format (all
        // names empty: the lengths passed are 0).
        let mut contents = blob.bytes;
        if contents.is_empty() {
            contents.push(0);
        }
        desc.define(contents.into_boxed_slice());
        desc.set_align(8);
        self.cx.module.define_data(blob.id, &desc)?;
        Ok(())
    }

    /// Build a quoted datum bottom-up in `region`. Iterative, with a stack
    /// of its own: code generation of `omnic run` stays on the main thread
    /// (driver/mod.rs), whose stack a quote nested 100,000 deep overflowed
    /// (found by the fuzzer).
    fn datum(&mut self, region: Value, d: &QuotedDatum) -> Result<Value> {
        let mut open: Vec<OpenDatum> = Vec::new();
        let mut next = d;
        loop {
            // Descend to the first datum whose value can be built at once.
            let mut value = match next {
                QuotedDatum::Imm(w) => self.word(*w),
                QuotedDatum::Float(x) => self.float(region, *x)?,
                QuotedDatum::Str(s) => self.string(region, s)?,
                QuotedDatum::Symbol(s) => self.intern(s)?,
                QuotedDatum::List(items) if !items.is_empty() => {
                    // Back to front, each item consed as soon as it is
                    // built: only the list built so far stays live (building
                    // every item first kept one value per element live, and
                    // a deeply nested quote made register allocation
                    // quadratic: issue 14, defect 12).
                    let nil = self.word(NIL);
                    next = &items[items.len() - 1];
                    open.push(OpenDatum::List {
                        items,
                        left: items.len() - 1,
                        list: nil,
                    });
                    continue;
                }
                QuotedDatum::List(_) => self.word(NIL),
                QuotedDatum::Array(_) | QuotedDatum::Dict(_) => {
                    // An array's items, or a dict's alternating keys and
                    // values, built front to back.
                    let (items, dict): (Vec<&QuotedDatum>, bool) = match next {
                        QuotedDatum::Array(items) => (items.iter().collect(), false),
                        QuotedDatum::Dict(pairs) => {
                            (pairs.iter().flat_map(|(k, v)| [k, v]).collect(), true)
                        }
                        _ => unreachable!("matched an array or a dict"),
                    };
                    match items.first() {
                        Some(first) => {
                            next = first;
                            open.push(OpenDatum::Seq {
                                items,
                                built: Vec::new(),
                                dict,
                            });
                            continue;
                        }
                        None => self.alloc_seq(region, &[], dict)?,
                    }
                }
            };
            // Ascend: hand the value to the datum it is part of, finishing
            // each one whose parts are all built.
            loop {
                match open.last_mut() {
                    None => return Ok(value),
                    Some(OpenDatum::List { items, left, list }) => {
                        *list = self.call_rt1(RuntimeFn::AllocCons, &[region, value, *list])?;
                        if *left > 0 {
                            *left -= 1;
                            next = &items[*left];
                            break;
                        }
                        value = *list;
                    }
                    Some(OpenDatum::Seq { items, built, dict }) => {
                        built.push(value);
                        if built.len() < items.len() {
                            next = items[built.len()];
                            break;
                        }
                        let (built, dict) = (std::mem::take(built), *dict);
                        value = self.alloc_seq(region, &built, dict)?;
                    }
                }
                open.pop();
            }
        }
    }

    /// An array (or, `dict`, a dict of alternating keys and values) of the
    /// built `values`.
    fn alloc_seq(&mut self, region: Value, values: &[Value], dict: bool) -> Result<Value> {
        let (argc, argv) = self.spill(values);
        if dict {
            let loc = self.b.ins().iconst(types::I32, 0);
            self.call_rt1(RuntimeFn::AllocDict, &[region, argc, argv, loc])
        } else {
            self.call_rt1(RuntimeFn::AllocArray, &[region, argc, argv])
        }
    }

    fn spill(&mut self, values: &[Value]) -> (Value, Value) {
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
        (argc, argv)
    }

    fn word(&mut self, w: u64) -> Value {
        self.b.ins().iconst(W, w as i64)
    }

    fn func_ref(&mut self, id: FuncId) -> FuncRef {
        *self
            .func_refs
            .entry(id)
            .or_insert_with(|| self.cx.module.declare_func_in_func(id, self.b.func))
    }

    fn data_addr(&mut self, id: DataId) -> Value {
        let gv = *self
            .data_refs
            .entry(id)
            .or_insert_with(|| self.cx.module.declare_data_in_func(id, self.b.func));
        self.b.ins().symbol_value(W, gv)
    }

    fn call_rt(&mut self, rt: RuntimeFn, args: &[Value]) -> Result<Option<Value>> {
        let sig = rt.signature(self.cx.module);
        let id = self.cx.import_function(rt.symbol(), &sig)?;
        let fr = self.func_ref(id);
        let call = self.b.ins().call(fr, args);
        Ok(self.b.inst_results(call).first().copied())
    }

    fn call_rt1(&mut self, rt: RuntimeFn, args: &[Value]) -> Result<Value> {
        self.call_rt(rt, args)?
            .ok_or_else(|| CodegenError::new(format!("{} returns no value", rt.symbol())))
    }
}
