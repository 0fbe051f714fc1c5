//! Call stacks of uncaught errors: the frames of generated code, innermost
//! first, as `  at NAME (FILE:LINE:COL)` lines.
//!
//! The compiler emits one code table (compiler `codegen/code_table.rs`):
//! every generated function's address, size, kind and OmniLisp name, and
//! per call instruction its return offset, `LocId` and direct callee. The
//! start-up code registers its address ([`omni_rt_set_code_table`]); it is
//! parsed only when an uncaught error is reported, so neither calls nor
//! `try` pay anything.
//!
//! The walk: generated code keeps frame pointers (x86-64: `[rbp]` is the
//! caller's `rbp`, `[rbp+8]` the return address into it) and has no unwind
//! tables of its own, so the first time a stack is walked the runtime
//! describes it to the system unwinder: one CIE stating that frame layout
//! and one FDE per function of each code table ([`eh_frame_for`],
//! `__register_frame`; deregistered when the REPL frees a module). Then
//! `_Unwind_Backtrace` steps through the runtime's Rust frames (their
//! `.eh_frame`) and generated frames alike, from the report down to the
//! stack's start, and every return address inside generated code is a
//! frame: a runtime -> OmniLisp trampoline (`omni_entry`, the apply
//! trampoline that `apply`, run-time dispatch, handler clauses and
//! threads' thunks go through) is crossed, not an end. A coroutine's stack
//! ends at its start routine. Should no generated frame be found that way,
//! the older walk is used: the unwinder up to the innermost generated
//! frame, then the frame-pointer chain, validated against the running
//! stack's bounds, up to the first trampoline.
//!
//! Frame lines: the innermost frame shows the error's own location, the
//! others the location of their call. A call that names its callee directly
//! but whose next inner frame is another function lost frames to tail calls:
//! `  ... (tail calls)` marks the spot. An `apply` entry that raised (an
//! arity error) is not shown: the error belongs to its caller's call. An
//! error raised in the body of a `handle` (which runs on a coroutine) has
//! that stack's frames walked before it leaves the coroutine
//! ([`note_coroutine_raise`]); re-raised by the resumer and uncaught, its
//! report shows them, then `  ... (frames on another stack)`, then the
//! frames of the resumer.

use crate::base::raise::{loc_inlined, loc_text, set_trace_formatter};
use std::ffi::c_void;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Address of the registered code table (0: none).
static TABLE: AtomicUsize = AtomicUsize::new(0);

/// Register the code table (called by the start-up code).
///
/// # Safety
/// `table` must point at a code table made by the compiler
/// (`codegen/code_table.rs`) that stays mapped while the program runs.
#[no_mangle]
pub unsafe extern "C" fn omni_rt_set_code_table(table: *const u8) {
    TABLE.store(table as usize, Ordering::Release);
    if KEEP_TABLES.load(Ordering::Acquire) {
        TABLES
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(table as usize);
    }
    set_trace_formatter(trace_lines);
}

/// Keep every registered code table, not only the last: a REPL session
/// (`rt::repl`) registers one per form's module, and code of every module
/// may be on the stack.
static KEEP_TABLES: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
static TABLES: std::sync::Mutex<Vec<usize>> = std::sync::Mutex::new(Vec::new());

/// Make later registrations add to the tables searched (see `KEEP_TABLES`).
pub fn keep_all_code_tables() {
    KEEP_TABLES.store(true, Ordering::Release);
}

/// Stop searching the last registered code table: the REPL frees the code
/// of a form nothing can call any more (`driver/repl.rs`), last registered.
pub fn forget_last_code_table() {
    let base = TABLES.lock().unwrap_or_else(|e| e.into_inner()).pop();
    if let Some(base) = base {
        unregister_unwind_info(base);
    }
}

/// IR function indices of the `k`-th kept table are offset by `k` times
/// this, so functions of different modules never compare equal.
const MODULE_IR_STRIDE: u32 = 1 << 20;

/// The call-stack name of the generated function whose code starts at
/// `addr` (e.g. `fn@prog.omni:3:7`), if a code table is registered.
pub fn function_name_at(addr: usize) -> Option<String> {
    let table = Table::load()?;
    let f = table.find(addr)?;
    (f.start == addr).then(|| f.name.clone())
}

const UNKNOWN: u32 = u32::MAX;
/// Frames shown before and after the elided middle of a deep stack.
const HEAD: usize = 24;
const TAIL: usize = 8;
/// Rust frames crossed before giving up on finding generated code.
const MAX_RUST_FRAMES: usize = 256;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Code,
    Trampoline,
    Apply,
}

struct Func {
    start: usize,
    end: usize,
    kind: Kind,
    ir: u32,
    /// (return offset, LocId, callee IR index); tail calls last, with
    /// offset `u32::MAX`.
    sites: Vec<(u32, u32, u32)>,
    name: String,
}

/// The parsed code table, sorted by address.
struct Table {
    funcs: Vec<Func>,
}

fn read_u32(p: usize) -> u32 {
    // SAFETY: only called on offsets inside the table, whose layout the
    // compiler wrote (see `parse`); unaligned reads are allowed.
    unsafe { (p as *const u32).read_unaligned() }
}

fn read_u64(p: usize) -> u64 {
    // SAFETY: as for `read_u32`.
    unsafe { (p as *const u64).read_unaligned() }
}

impl Table {
    /// Parse the registered table (None if there is none or it is not one).
    fn load() -> Option<Table> {
        let kept = TABLES.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if kept.is_empty() {
            return Table::parse(TABLE.load(Ordering::Acquire), 0);
        }
        let mut funcs = Vec::new();
        for (k, base) in kept.into_iter().enumerate() {
            let offset = (k as u32).wrapping_mul(MODULE_IR_STRIDE);
            funcs.extend(Table::parse(base, offset)?.funcs);
        }
        funcs.sort_by_key(|f| f.start);
        Some(Table { funcs })
    }

    /// Parse the table at `base`, adding `ir_offset` to its IR indices.
    fn parse(base: usize, ir_offset: u32) -> Option<Table> {
        if base == 0 {
            return None;
        }
        // SAFETY: the registered pointer is a compiler-made table
        // (omni_rt_set_code_table's contract): a 16-byte header, then the
        // entries, call sites and names at the offsets the entries give.
        if unsafe { std::slice::from_raw_parts(base as *const u8, 4) } != b"OMCT"
            || read_u32(base + 4) != 1
        {
            return None;
        }
        let n = read_u64(base + 8) as usize;
        let mut funcs = Vec::with_capacity(n);
        for i in 0..n {
            let e = base + 16 + 32 * i;
            let start = read_u64(e) as usize;
            let size = read_u32(e + 8) as usize;
            let kind = match read_u32(e + 12) {
                0 => Kind::Code,
                1 => Kind::Trampoline,
                _ => Kind::Apply,
            };
            let ir = read_u32(e + 16).wrapping_add(ir_offset);
            let nsites = read_u32(e + 20) as usize;
            let sites_at = base + read_u32(e + 24) as usize;
            let name_at = base + read_u32(e + 28) as usize;
            let sites = (0..nsites)
                .map(|k| {
                    let s = sites_at + 12 * k;
                    let callee = match read_u32(s + 8) {
                        UNKNOWN => UNKNOWN,
                        c => c.wrapping_add(ir_offset),
                    };
                    (read_u32(s), read_u32(s + 4), callee)
                })
                .collect();
            let len = read_u32(name_at) as usize;
            // SAFETY: the name's bytes follow its length in the table.
            let bytes = unsafe { std::slice::from_raw_parts((name_at + 4) as *const u8, len) };
            funcs.push(Func {
                start,
                end: start + size,
                kind,
                ir,
                sites,
                name: String::from_utf8_lossy(bytes).into_owned(),
            });
        }
        funcs.sort_by_key(|f| f.start);
        Some(Table { funcs })
    }

    /// The OmniLisp function with a call (tail calls included) at `loc`.
    fn function_calling_at(&self, loc: u32) -> Option<&Func> {
        self.funcs
            .iter()
            .filter(|f| f.kind == Kind::Code)
            .find(|f| f.sites.iter().any(|s| s.1 == loc))
    }

    /// The function whose code contains `addr` (callers pass a return
    /// address minus one: a call can be a function's last instruction).
    fn find(&self, addr: usize) -> Option<&Func> {
        let i = self.funcs.partition_point(|f| f.start <= addr);
        let f = self.funcs.get(i.checked_sub(1)?)?;
        (addr < f.end).then_some(f)
    }
}

impl Func {
    /// (LocId, callee) of the call whose return address is `ret`.
    fn site(&self, ret: usize) -> (u32, u32) {
        let off = (ret - self.start) as u32;
        match self.sites.binary_search_by_key(&off, |s| s.0) {
            Ok(i) => (self.sites[i].1, self.sites[i].2),
            Err(_) => (0, UNKNOWN),
        }
    }
}

#[repr(C)]
struct UnwindContext {
    _opaque: [u8; 0],
}

type TraceFn = extern "C" fn(*mut UnwindContext, *mut c_void) -> i32;

extern "C" {
    fn _Unwind_Backtrace(trace: TraceFn, arg: *mut c_void) -> i32;
    fn _Unwind_GetIP(ctx: *mut UnwindContext) -> usize;
    fn _Unwind_GetGR(ctx: *mut UnwindContext, reg: i32) -> usize;
    fn pthread_self() -> usize;
    fn pthread_getattr_np(thread: usize, attr: *mut PthreadAttr) -> i32;
    fn pthread_attr_getstack(attr: *const PthreadAttr, addr: *mut usize, size: *mut usize) -> i32;
    fn pthread_attr_destroy(attr: *mut PthreadAttr) -> i32;
}

/// glibc's `pthread_attr_t` (56 bytes on x86-64), opaque here.
#[repr(C, align(8))]
struct PthreadAttr([u8; 64]);

/// DWARF register number of `rbp` on x86-64.
const DWARF_RBP: i32 = 6;
const URC_NO_REASON: i32 = 0;
const URC_END_OF_STACK: i32 = 5;

/// The search for the innermost generated frame.
struct Search<'t> {
    table: &'t Table,
    rust_frames: usize,
    /// (return address into generated code, that frame's rbp)
    found: Option<(usize, usize)>,
}

extern "C" fn on_frame(ctx: *mut UnwindContext, arg: *mut c_void) -> i32 {
    // SAFETY: `arg` is the `Search` passed to `_Unwind_Backtrace` below,
    // alive for the whole walk; `ctx` is the unwinder's current frame.
    let search = unsafe { &mut *(arg as *mut Search<'_>) };
    // SAFETY: `ctx` is the unwinder's live context for this callback.
    let ip = unsafe { _Unwind_GetIP(ctx) };
    if search.table.find(ip.wrapping_sub(1)).is_some() {
        // SAFETY: as above; rbp is tracked by every frame's unwind rules.
        let rbp = unsafe { _Unwind_GetGR(ctx, DWARF_RBP) };
        search.found = Some((ip, rbp));
        return URC_END_OF_STACK;
    }
    search.rust_frames += 1;
    if search.rust_frames > MAX_RUST_FRAMES {
        return URC_END_OF_STACK;
    }
    URC_NO_REASON
}

/// The innermost generated frame below the caller: (return address, rbp).
#[inline(never)]
fn innermost_generated_frame(table: &Table) -> Option<(usize, usize)> {
    let mut search = Search {
        table,
        rust_frames: 0,
        found: None,
    };
    // SAFETY: `on_frame` only reads the unwinder's context and writes the
    // `Search`, which outlives the call.
    unsafe { _Unwind_Backtrace(on_frame, &mut search as *mut Search<'_> as *mut c_void) };
    search.found
}

/// Bounds `(low, high)` of the stack that holds `addr`: the running
/// coroutine's or the thread's own.
fn stack_bounds(addr: usize) -> Option<(usize, usize)> {
    if let Some((low, high)) = crate::control::coroutine::current_stack_bounds() {
        if (low..high).contains(&addr) {
            return Some((low, high));
        }
    }
    let mut attr = PthreadAttr([0; 64]);
    let (mut low, mut size) = (0usize, 0usize);
    // SAFETY: `attr` is large enough for glibc's pthread_attr_t; it is
    // initialised by pthread_getattr_np and destroyed once read.
    unsafe {
        if pthread_getattr_np(pthread_self(), &mut attr) != 0 {
            return None;
        }
        let rc = pthread_attr_getstack(&attr, &mut low, &mut size);
        pthread_attr_destroy(&mut attr);
        if rc != 0 {
            return None;
        }
    }
    let high = low + size;
    (low..high).contains(&addr).then_some((low, high))
}

/// One generated frame: its function and the (LocId, callee) of the call
/// it was making.
struct Frame<'t> {
    func: &'t Func,
    loc: u32,
    callee: u32,
}

/// Keep `frame` of a walk: the first `HEAD` frames, then the last `TAIL`
/// (a deep recursion's middle is elided from the trace).
fn keep_frame<'t>(
    head: &mut Vec<Frame<'t>>,
    tail: &mut std::collections::VecDeque<Frame<'t>>,
    frame: Frame<'t>,
) {
    if head.len() < HEAD {
        head.push(frame);
    } else {
        if tail.len() == TAIL {
            tail.pop_front();
        }
        tail.push_back(frame);
    }
}

// ------------------------------------------------ unwind info for the walk

extern "C" {
    fn __register_frame(begin: *const u8);
    fn __deregister_frame(begin: *const u8);
}

/// The `.eh_frame` data registered for each code table (by table address;
/// registered the first time a call stack is walked).
static UNWIND_INFO: std::sync::Mutex<Vec<(usize, Box<[u8]>)>> = std::sync::Mutex::new(Vec::new());

/// `.eh_frame` data describing every function of the code table at `base`
/// for the system unwinder: one CIE with the frame every generated function
/// (trampolines included) keeps at its calls — `push rbp; mov rbp, rsp`,
/// so the caller's frame address is `rbp + 16`, the return address is at
/// `rbp + 8` and the caller's `rbp` at `rbp` — and one FDE per function.
/// With it the unwinder steps through generated frames as through the
/// runtime's own, so a walk crosses every runtime -> OmniLisp trampoline
/// (`apply`, methods chosen at run time, effect handler clauses).
fn eh_frame_for(table: &Table) -> Box<[u8]> {
    let mut out = Vec::new();
    let pad = |v: &mut Vec<u8>, start: usize| {
        while !(v.len() - start).is_multiple_of(8) {
            v.push(0); // DW_CFA_nop
        }
    };
    // CIE: version 1, augmentation "zR", code alignment 1, data alignment
    // -8, return address register 16 (rip), absolute 8-byte pointers.
    let cie_start = out.len();
    out.extend_from_slice(&[0; 4]); // length, patched below
    out.extend_from_slice(&0u32.to_le_bytes()); // CIE id
    out.extend_from_slice(&[1, b'z', b'R', 0, 1, 0x78, 16, 1, 0x00]);
    // DW_CFA_def_cfa rbp(6), 16; DW_CFA_offset rip(16) at cfa-8;
    // DW_CFA_offset rbp(6) at cfa-16.
    out.extend_from_slice(&[0x0c, 6, 16, 0x80 | 16, 1, 0x80 | 6, 2]);
    pad(&mut out, cie_start + 4);
    let cie_len = (out.len() - cie_start - 4) as u32;
    out[cie_start..cie_start + 4].copy_from_slice(&cie_len.to_le_bytes());
    for f in &table.funcs {
        let fde_start = out.len();
        out.extend_from_slice(&[0; 4]);
        // The CIE pointer: from this field back to the CIE.
        let back = (out.len() - cie_start) as u32;
        out.extend_from_slice(&back.to_le_bytes());
        out.extend_from_slice(&(f.start as u64).to_le_bytes());
        out.extend_from_slice(&((f.end - f.start) as u64).to_le_bytes());
        out.push(0); // no augmentation data
        pad(&mut out, fde_start + 4);
        let len = (out.len() - fde_start - 4) as u32;
        out[fde_start..fde_start + 4].copy_from_slice(&len.to_le_bytes());
    }
    out.extend_from_slice(&0u32.to_le_bytes()); // terminator
    out.into_boxed_slice()
}

/// Register the unwind data of every code table in use (once each).
fn register_unwind_info() {
    let mut bases = TABLES.lock().unwrap_or_else(|e| e.into_inner()).clone();
    if bases.is_empty() {
        bases.push(TABLE.load(Ordering::Acquire));
    }
    let mut done = UNWIND_INFO.lock().unwrap_or_else(|e| e.into_inner());
    for base in bases {
        if base == 0 || done.iter().any(|(b, _)| *b == base) {
            continue;
        }
        let Some(table) = Table::parse(base, 0) else {
            continue;
        };
        let info = eh_frame_for(&table);
        // SAFETY: `info` is a well-formed `.eh_frame` sequence ending with
        // a zero terminator; it is kept (in UNWIND_INFO) until it is
        // deregistered.
        unsafe { __register_frame(info.as_ptr()) };
        done.push((base, info));
    }
}

/// Deregister the unwind data of the code table at `base`, if registered
/// (its code is about to be freed).
fn unregister_unwind_info(base: usize) {
    let mut done = UNWIND_INFO.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(i) = done.iter().position(|(b, _)| *b == base) {
        let (_, info) = done.remove(i);
        // SAFETY: `info` was registered by `register_unwind_info`.
        unsafe { __deregister_frame(info.as_ptr()) };
    }
}

/// The search that collects every generated frame of the running stack.
struct Collect<'t> {
    table: &'t Table,
    /// Return addresses into generated code, innermost first.
    ips: Vec<usize>,
}

/// Frames collected at most (a bound against a corrupt stack).
const MAX_COLLECTED: usize = 1 << 24;

extern "C" fn on_any_frame(ctx: *mut UnwindContext, arg: *mut c_void) -> i32 {
    // SAFETY: `arg` is the `Collect` passed to `_Unwind_Backtrace` below,
    // alive for the whole walk; `ctx` is the unwinder's current frame.
    let collect = unsafe { &mut *(arg as *mut Collect<'_>) };
    // SAFETY: `ctx` is the unwinder's live context for this callback.
    let ip = unsafe { _Unwind_GetIP(ctx) };
    if collect.table.find(ip.wrapping_sub(1)).is_some() {
        collect.ips.push(ip);
        if collect.ips.len() >= MAX_COLLECTED {
            return URC_END_OF_STACK;
        }
    }
    URC_NO_REASON
}

/// Walk the whole running stack with the system unwinder (generated code
/// described by [`register_unwind_info`]): the first HEAD and last TAIL
/// generated frames and their total count, trampolines left out. None
/// when no generated frame was found this way.
#[inline(never)]
fn walk_unwinding(table: &Table) -> Option<(Vec<Frame<'_>>, Vec<Frame<'_>>, usize)> {
    register_unwind_info();
    let mut collect = Collect {
        table,
        ips: Vec::new(),
    };
    // SAFETY: `on_any_frame` only reads the unwinder's context and writes
    // the `Collect`, which outlives the call.
    unsafe {
        _Unwind_Backtrace(
            on_any_frame,
            &mut collect as *mut Collect<'_> as *mut c_void,
        )
    };
    let mut head = Vec::new();
    let mut tail = std::collections::VecDeque::new();
    let mut count = 0;
    for &ip in &collect.ips {
        let Some(func) = table.find(ip.wrapping_sub(1)) else {
            continue;
        };
        if func.kind == Kind::Trampoline {
            continue;
        }
        let (loc, callee) = func.site(ip);
        count += 1;
        keep_frame(&mut head, &mut tail, Frame { func, loc, callee });
    }
    (count > 0).then(|| (head, tail.into(), count))
}

/// The generated frames of the running stack, innermost first: the first
/// HEAD and last TAIL frames and the total count. The system unwinder,
/// given unwind data for generated code, crosses the runtime's frames
/// between trampolines; without it (registration failed) the
/// frame-pointer chain is followed from the innermost generated frame up
/// to the first trampoline.
fn walk(table: &Table) -> (Vec<Frame<'_>>, Vec<Frame<'_>>, usize) {
    walk_unwinding(table).unwrap_or_else(|| walk_frame_pointers(table))
}

/// Walk the frame-pointer chain from the innermost generated frame.
/// Returns the first HEAD and last TAIL frames and the total count.
fn walk_frame_pointers(table: &Table) -> (Vec<Frame<'_>>, Vec<Frame<'_>>, usize) {
    let mut head = Vec::new();
    let mut tail = std::collections::VecDeque::new();
    let mut count = 0;
    let Some((mut ip, mut fp)) = innermost_generated_frame(table) else {
        return (head, Vec::new(), 0);
    };
    let Some((_, high)) = stack_bounds(fp) else {
        return (head, Vec::new(), 0);
    };
    while let Some(func) = table.find(ip.wrapping_sub(1)) {
        if func.kind == Kind::Trampoline {
            break;
        }
        let (loc, callee) = func.site(ip);
        count += 1;
        keep_frame(&mut head, &mut tail, Frame { func, loc, callee });
        // The frame record [fp] (caller's fp), [fp+8] (return address)
        // must lie on this stack, above the previous one.
        if fp % 8 != 0 || fp.checked_add(16).is_none_or(|end| end > high) {
            break;
        }
        // SAFETY: fp..fp+16 lies inside the running stack (checked above),
        // which is mapped and readable from the current stack pointer up.
        let (next_fp, ret) = unsafe { (*(fp as *const usize), *((fp + 8) as *const usize)) };
        if next_fp <= fp {
            break;
        }
        fp = next_fp;
        ip = ret;
    }
    (head, tail.into(), count)
}

thread_local! {
    /// The frame lines of the last error raised in the body of a `handle`
    /// (which runs on a coroutine of its own), with its location: walked
    /// on that stack before the error leaves it (see [`note_coroutine_raise`]).
    static COROUTINE_TRACE: std::cell::RefCell<Option<(u32, String)>> =
        const { std::cell::RefCell::new(None) };
}

/// An error at `loc` is leaving the body of a `handle`, whose stack is
/// about to be abandoned: keep its frame lines, shown if the error ends
/// uncaught (before `  ... (frames on another stack)`). Costs a walk of
/// that stack per error raised in a handled body; `try` bodies pay nothing.
pub fn note_coroutine_raise(loc: u32) {
    let lines = trace_lines(loc);
    COROUTINE_TRACE.with(|t| *t.borrow_mut() = lines.map(|l| (loc, l)));
}

/// The kept frame lines of an error at `loc` raised on another stack.
fn coroutine_trace(loc: u32) -> Option<String> {
    COROUTINE_TRACE.with(|t| {
        t.borrow()
            .as_ref()
            .filter(|(at, _)| *at == loc)
            .map(|(_, lines)| lines.clone())
    })
}

/// One line of a printed call stack.
enum Line<'t> {
    /// `  at NAME (LOC)`
    At(&'t str, u32),
    /// `  ... (tail calls)`
    TailCalls,
    /// `  ... (N more frames)`
    More(usize),
    /// `  ... (frames on another stack)`
    OtherStack,
    /// Lines already formatted (the frames of another stack).
    Text(String),
}

/// `  at NAME (FILE:LINE:COL)`, or `  at NAME` when `loc` is unknown.
fn push_at(out: &mut String, name: &str, loc: u32) {
    match loc_text(loc) {
        Some(at) => out.push_str(&format!("  at {name} ({at})\n")),
        None => out.push_str(&format!("  at {name}\n")),
    }
}

/// The frame lines of the current call stack for an error raised at `loc`
/// (None when no generated frame was found: the caller prints `loc` alone).
fn trace_lines(loc: u32) -> Option<String> {
    let table = Table::load()?;
    let (mut head, tail, count) = walk(&table);
    let mut lines = Vec::new();
    // The callee the next (outer) frame's call must name, if it made the
    // call that the last printed line describes.
    let mut inner: Option<u32> = None;
    if head.first().is_some_and(|f| f.func.kind == Kind::Apply) {
        // An arity error raised while unpacking the arguments: it belongs
        // to the call at `loc`. Its caller made that call unless it has
        // since tail-called away: then the function containing `loc` is
        // shown and the gap marked.
        let applied = head.remove(0);
        match head.first() {
            Some(next) if next.loc == loc || loc == 0 => {}
            _ => {
                if let Some(g) = table.function_calling_at(loc) {
                    lines.push(Line::At(&g.name, loc));
                    if !head.is_empty() {
                        lines.push(Line::TailCalls);
                    }
                }
            }
        }
        inner = Some(applied.func.ir);
    } else if let Some(f) = head.first().filter(|f| loc != 0 && f.loc != loc) {
        // The innermost frame did not make the failing call: the error was
        // raised on another stack (the body of a `handle`, which runs on a
        // coroutine) and re-raised here. Show that stack's frames, walked
        // before it was left, or else name the function that made it.
        if let Some(text) = coroutine_trace(loc) {
            lines.push(Line::Text(text));
            lines.push(Line::OtherStack);
        } else if let Some(g) = table.function_calling_at(loc).filter(|g| g.ir != f.func.ir) {
            lines.push(Line::At(&g.name, loc));
            lines.push(Line::OtherStack);
        }
    }
    if head.is_empty() && lines.is_empty() {
        return None;
    }
    let shown = head.len() + tail.len();
    let mut first = lines.is_empty();
    for (i, f) in head.iter().chain(tail.iter()).enumerate() {
        if i == head.len() && count > shown {
            lines.push(Line::More(count - shown));
            inner = None;
        }
        if let Some(ir) = inner {
            if f.callee != UNKNOWN
                && f.callee != ir
                && !matches!(lines.last(), Some(Line::TailCalls))
            {
                lines.push(Line::TailCalls);
            }
        }
        let at = if first && loc != 0 { loc } else { f.loc };
        lines.push(Line::At(&f.func.name, at));
        first = false;
        inner = Some(f.func.ir);
    }
    let mut out = String::new();
    for line in lines {
        match line {
            Line::At(name, at) => {
                // Code the compiler inlined: one line per inlined call, as
                // if it had been made (innermost first), then the frame.
                let mut at = at;
                let mut depth = 0;
                while let Some((inlined, call)) = loc_inlined(at) {
                    // The chain only goes outwards (a bound against a
                    // corrupt table).
                    depth += 1;
                    if depth > 64 {
                        break;
                    }
                    push_at(&mut out, &inlined, at);
                    at = call;
                }
                push_at(&mut out, name, at);
            }
            Line::TailCalls => out.push_str("  ... (tail calls)\n"),
            Line::OtherStack => out.push_str("  ... (frames on another stack)\n"),
            Line::Text(text) => out.push_str(&text),
            Line::More(n) => out.push_str(&format!("  ... ({n} more frames)\n")),
        }
    }
    Some(out)
}
