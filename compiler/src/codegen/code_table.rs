//! The code table behind call stacks, symbol names and the perf map.
//!
//! Every generated function gets a symbol made of its OmniLisp name
//! ([`symbol_names`]) and an entry in one read-only data object,
//! `omni_code_table`, that the runtime walks when it reports an uncaught
//! error (runtime `base/backtrace.rs`): the function's address (a relocation
//! to its symbol, so the same object serves the JIT and executables), code
//! size, kind and display name, and per call instruction the offset of its
//! return address, the `LocId` of the call and the IR function it calls
//! directly (when known). The start-up code passes the table's address to
//! `omni_rt_set_code_table`; nothing is read until an error is reported.
//!
//! How call sites are found: translation gives every instruction the
//! `LocId` of its statement as Cranelift srcloc; before compiling, each call
//! instruction's srcloc is replaced by its index in the function's call-site
//! list ([`number_call_sites`]); after compiling, the srcloc range around
//! each call's return address (`buffer.call_sites()`) names the entry
//! ([`finish_entry`]). Srclocs do not change the machine code.
//!
//! Layout (little-endian; offsets from the start of the table):
//! - header (16 bytes): magic `OMCT`, version 1, number of functions (u64);
//! - per function, sorted by nothing (the runtime sorts by address), 32 bytes:
//!   address (u64, relocated), size (u32), kind (u32: 0 OmniLisp code,
//!   1 trampoline where a walk stops, 2 `apply` entry), IR function index (u32, `u32::MAX` for
//!   trampolines), number of call sites (u32), offset of the first site (u32),
//!   offset of the name (u32, length-prefixed by a u32);
//! - call sites, 12 bytes each: return offset, `LocId`, callee IR index
//!   (`u32::MAX`: unknown, e.g. a closure call or a runtime routine),
//!   sorted by offset; then the function's tail calls with offset
//!   `u32::MAX` (they leave no frame; listed so that the runtime can name
//!   the function that made a call at a location);
//! - names.

use super::Result;
use crate::ir::{self, FunctionKind};
use cranelift_codegen::ir::{ExternalName, Function, InstructionData, Opcode, SourceLoc};
use cranelift_codegen::Context;
use cranelift_module::{DataDescription, DataId, FuncId, Module};
use std::collections::HashMap;

/// Marks a renumbered call's srcloc (an index into its call-site list);
/// every other instruction's srcloc is its `LocId` (far below 2^31).
const CALL_INDEX: u32 = 1 << 31;

/// A call site's callee is not a known IR function.
pub const UNKNOWN: u32 = u32::MAX;

const HEADER: usize = 16;
const ENTRY: usize = 32;
const SITE: usize = 12;

/// What a table entry is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryKind {
    /// `code` of IR function `ir`.
    Code { ir: u32 },
    /// `apply` of IR function `ir` (unpacks an argument list; an arity
    /// error raised there belongs to the caller's call).
    Apply { ir: u32 },
    /// A SystemV trampoline from the runtime into generated code (the walk
    /// stops there).
    Trampoline,
}

/// One call instruction before compilation: its `LocId` and direct callee.
#[derive(Clone, Copy, Debug)]
pub struct CallInfo {
    pub loc: u32,
    pub callee: u32,
    /// A tail call (`return_call*`): no return address; recorded so that
    /// the runtime can tell which function made a call at a location.
    pub tail: bool,
}

/// One compiled function.
#[derive(Clone, Debug)]
pub struct TableEntry {
    pub func: FuncId,
    pub kind: EntryKind,
    /// The symbol (also the perf-map name).
    pub symbol: String,
    /// The call-stack name (`fib`, `std/map`, `fn@file.omni:3:7`).
    pub name: String,
    pub size: u32,
    /// (return offset, LocId, callee) per call, sorted by offset.
    pub sites: Vec<(u32, u32, u32)>,
    /// (code offset, LocId) where the source location changes, for the
    /// DWARF line table (debug_line.rs).
    pub lines: Vec<(u32, u32)>,
}

/// The call-stack name of IR function `f`: its OmniLisp name, `std/` in
/// front for the standard library's, `fn@FILE:LINE:COL` for an anonymous `fn`.
pub fn display_name(prog: &ir::Program, f: &ir::Function) -> String {
    let loc = prog.locs.get(f.loc.0 as usize);
    let at = loc
        .map(|l| format!("{}:{}:{}", l.file, l.line, l.col))
        .unwrap_or_else(|| "?".into());
    let in_prelude = loc.is_some_and(|l| crate::expand::is_std_file(&l.file));
    let base = match f.kind {
        FunctionKind::Entry => return "<program>".into(),
        FunctionKind::TopLevel => return "<top level>".into(),
        _ if f.name == "lambda" => format!("fn@{at}"),
        _ => f.name.clone(),
    };
    // A standard module's globals are already named `std/map`.
    if in_prelude && !base.starts_with("fn@") && !base.starts_with("std/") {
        format!("std/{base}")
    } else {
        base
    }
}

/// Unique symbols for every IR function's `code` and `apply` entries:
/// `omni.NAME` and `omni.NAME$apply`, where NAME is the call-stack name
/// (spaces dropped; a top-level form is `toplevel@FILE:LINE:COL`, the
/// program's entry `program`), and a
/// second function with the same name gets `.2`, a third `.3`, ...
/// Only the functions marked in `compiled` are named (the others get empty
/// strings) and counted.
pub fn symbol_names(prog: &ir::Program, compiled: &[bool]) -> Vec<(String, String)> {
    let mut seen: HashMap<String, u32> = HashMap::new();
    prog.functions
        .iter()
        .map(|f| {
            if !compiled.get(f.id.0 as usize).copied().unwrap_or(true) {
                return (String::new(), String::new());
            }
            let name = match f.kind {
                FunctionKind::Entry => "program".to_string(),
                FunctionKind::TopLevel => {
                    let at = prog
                        .locs
                        .get(f.loc.0 as usize)
                        .map(|l| format!("{}:{}:{}", l.file, l.line, l.col))
                        .unwrap_or_else(|| "?".into());
                    format!("toplevel@{at}")
                }
                _ => display_name(prog, f),
            };
            let name: String = name.chars().filter(|c| !c.is_whitespace()).collect();
            let n = seen.entry(name.clone()).or_insert(0);
            *n += 1;
            let unique = if *n == 1 { name } else { format!("{name}.{n}") };
            (format!("omni.{unique}"), format!("omni.{unique}$apply"))
        })
        .collect()
}

/// Replace each call instruction's srcloc (a `LocId`) by its index in the
/// returned list, which records the `LocId` and the IR function it calls
/// directly (`ir_of` maps module functions to IR indices).
pub fn number_call_sites(func: &mut Function, ir_of: &HashMap<FuncId, u32>) -> Vec<CallInfo> {
    let mut sites = Vec::new();
    // Base 0, so that every index is stored as itself (see function.rs).
    func.params.ensure_base_srcloc(SourceLoc::new(0));
    let blocks: Vec<_> = func.layout.blocks().collect();
    for block in blocks {
        let insts: Vec<_> = func.layout.block_insts(block).collect();
        for inst in insts {
            let (callee, tail) = match (func.dfg.insts[inst].opcode(), func.dfg.insts[inst]) {
                (Opcode::Call, InstructionData::Call { func_ref, .. }) => {
                    (callee_of(func, func_ref, ir_of), false)
                }
                (Opcode::ReturnCall, InstructionData::Call { func_ref, .. }) => {
                    (callee_of(func, func_ref, ir_of), true)
                }
                (Opcode::CallIndirect, _) => (UNKNOWN, false),
                (Opcode::ReturnCallIndirect, _) => (UNKNOWN, true),
                _ => continue,
            };
            let loc = loc_of(func, inst);
            func.set_srcloc(inst, SourceLoc::new(CALL_INDEX | sites.len() as u32));
            sites.push(CallInfo { loc, callee, tail });
        }
    }
    sites
}

/// The `LocId` translation gave `inst` (0: none).
fn loc_of(func: &Function, inst: cranelift_codegen::ir::Inst) -> u32 {
    let loc = func.srcloc(inst);
    if loc.is_default() {
        0
    } else {
        loc.bits()
    }
}

/// The IR function a direct call to `func_ref` enters, if it is one.
fn callee_of(
    func: &Function,
    func_ref: cranelift_codegen::ir::FuncRef,
    ir_of: &HashMap<FuncId, u32>,
) -> u32 {
    match &func.dfg.ext_funcs[func_ref].name {
        ExternalName::User(r) => {
            let name = &func.params.user_named_funcs()[*r];
            ir_of
                .get(&FuncId::from_u32(name.index))
                .copied()
                .unwrap_or(UNKNOWN)
        }
        _ => UNKNOWN,
    }
}

/// The table entry of the function just compiled in `ctx`: its size and
/// the return offset of every call numbered by [`number_call_sites`].
pub fn finish_entry(
    ctx: &Context,
    func: FuncId,
    kind: EntryKind,
    symbol: String,
    name: String,
    calls: &[CallInfo],
) -> TableEntry {
    let mut sites = Vec::new();
    let mut lines = Vec::new();
    let mut size = 0;
    if let Some(code) = ctx.compiled_code() {
        size = code.code_info().total_size;
        let srclocs = code.buffer.get_srclocs_sorted();
        for site in code.buffer.call_sites() {
            let at = site.ret_addr.saturating_sub(1);
            let i = srclocs.partition_point(|s| s.end <= at);
            let info = srclocs
                .get(i)
                .filter(|s| s.start <= at && !s.loc.is_default())
                .filter(|s| s.loc.bits() & CALL_INDEX != 0)
                .and_then(|s| calls.get((s.loc.bits() & !CALL_INDEX) as usize));
            let (loc, callee) = info.map_or((0, UNKNOWN), |c| (c.loc, c.callee));
            sites.push((site.ret_addr, loc, callee));
        }
        sites.sort_unstable();
        for s in srclocs {
            let bits = s.loc.bits();
            let loc = if s.loc.is_default() {
                0
            } else if bits & CALL_INDEX != 0 {
                calls
                    .get((bits & !CALL_INDEX) as usize)
                    .map_or(0, |c| c.loc)
            } else {
                bits
            };
            if loc != 0 && lines.last().is_none_or(|l: &(u32, u32)| l.1 != loc) {
                lines.push((s.start, loc));
            }
        }
        sites.extend(
            calls
                .iter()
                .filter(|c| c.tail)
                .map(|c| (u32::MAX, c.loc, c.callee)),
        );
    }
    TableEntry {
        func,
        kind,
        symbol,
        name,
        size,
        sites,
        lines,
    }
}

/// Define the `omni_code_table` data object `id` from `entries`.
pub fn define_table<M: Module>(module: &mut M, id: DataId, entries: &[TableEntry]) -> Result<()> {
    let nsites: usize = entries.iter().map(|e| e.sites.len()).sum();
    let sites_at = HEADER + ENTRY * entries.len();
    let names_at = sites_at + SITE * nsites;
    let mut bytes = Vec::with_capacity(names_at + 32 * entries.len());
    bytes.extend_from_slice(b"OMCT");
    bytes.extend_from_slice(&1u32.to_le_bytes());
    bytes.extend_from_slice(&(entries.len() as u64).to_le_bytes());
    let mut sites = Vec::with_capacity(SITE * nsites);
    let mut names = Vec::new();
    let mut desc = DataDescription::new();
    let mut func_refs = HashMap::new();
    for e in entries {
        let fref = *func_refs
            .entry(e.func)
            .or_insert_with(|| module.declare_func_in_data(e.func, &mut desc));
        desc.write_function_addr(bytes.len() as u32, fref);
        bytes.extend_from_slice(&0u64.to_le_bytes());
        let (kind, ir) = match e.kind {
            EntryKind::Code { ir } => (0u32, ir),
            EntryKind::Trampoline => (1, UNKNOWN),
            EntryKind::Apply { ir } => (2, ir),
        };
        let first_site = sites_at + sites.len();
        let name_at = names_at + names.len();
        for w in [
            e.size,
            kind,
            ir,
            e.sites.len() as u32,
            first_site as u32,
            name_at as u32,
        ] {
            bytes.extend_from_slice(&w.to_le_bytes());
        }
        for &(ret, loc, callee) in &e.sites {
            for w in [ret, loc, callee] {
                sites.extend_from_slice(&w.to_le_bytes());
            }
        }
        names.extend_from_slice(&(e.name.len() as u32).to_le_bytes());
        names.extend_from_slice(e.name.as_bytes());
    }
    bytes.extend_from_slice(&sites);
    bytes.extend_from_slice(&names);
    desc.define(bytes.into_boxed_slice());
    desc.set_align(8);
    module.define_data(id, &desc)?;
    Ok(())
}
