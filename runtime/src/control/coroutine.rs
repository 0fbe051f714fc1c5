//! Stackful one-shot coroutines: the mechanism under `try`/`catch` and
//! effect handlers (`effects.rs`).
//!
//! A coroutine runs a thunk (a zero-argument closure) on a stack of its own
//! (an `mmap`ed, lazily committed area with a guard page at its low end).
//! [`switch_into`] saves the resumer's callee-saved registers and stack
//! pointer and continues the coroutine; [`switch_out`] does the reverse
//! from inside it, leaving an [`Event`] (done, raised an error, performed an
//! effect) for the resumer. The switch itself is a dozen instructions of
//! x86-64 SysV assembly (`omni_coro_switch`): push the callee-saved
//! registers, the MXCSR and the x87 control word, store `rsp`, load the
//! other side's `rsp`, pop the same set, return.
//!
//! Invariants kept around every switch:
//! - The thread's stack limit (`base::stack::stack_limit`, the prologue stack check)
//!   always describes the stack that runs: set to the coroutine stack's low end + margin when
//!   entering, the resumer's value restored when control comes back.
//! - The thread's current coroutine (`CURRENT`) is the one running, null on
//!   the thread's own stack; each entered coroutine remembers the coroutine
//!   it was entered from (`parent`, the dynamic handler chain).
//! - Every scope region generated code opens while a coroutine runs is
//!   recorded in that coroutine (`note_region_open` / `note_region_exit`
//!   from the region C ABI); abandoning a suspended coroutine (an error
//!   caught by `try`, a handler that does not resume) exits them, innermost
//!   first, after abandoning the coroutines it created and left suspended.
//!
//! A coroutine calls its thunk through the apply trampoline
//! (`call::apply_closure`).

use crate::base::stack::{set_stack_limit, stack_limit, STACK_MARGIN};
use crate::base::value::*;
use crate::control::call::apply_closure;
use crate::region::Region;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;

// ------------------------------------------------------- the switch

#[cfg(target_arch = "x86_64")]
std::arch::global_asm!(
    ".text",
    ".p2align 4",
    ".globl omni_coro_switch",
    "omni_coro_switch:",
    // (save_sp: *mut usize = rdi, new_sp: usize = rsi, arg: usize = rdx) -> rax = arg
    "push rbp",
    "push rbx",
    "push r12",
    "push r13",
    "push r14",
    "push r15",
    "sub rsp, 8",
    "stmxcsr [rsp]",
    "fnstcw [rsp + 4]",
    "mov [rdi], rsp",
    "mov rsp, rsi",
    "ldmxcsr [rsp]",
    "fldcw [rsp + 4]",
    "add rsp, 8",
    "pop r15",
    "pop r14",
    "pop r13",
    "pop r12",
    "pop rbx",
    "pop rbp",
    "mov rax, rdx",
    "ret",
    ".p2align 4",
    ".globl omni_coro_start",
    "omni_coro_start:",
    // First entry of a coroutine: r12 = its record (restored from the
    // initial frame); align the stack and run `coroutine_main`.
    "mov rdi, r12",
    "and rsp, -16",
    "call {main}",
    "ud2",
    main = sym coroutine_main,
);

#[cfg(target_arch = "x86_64")]
extern "C" {
    fn omni_coro_switch(save_sp: *mut usize, new_sp: usize, arg: usize) -> usize;
    fn omni_coro_start();
}

// ------------------------------------------------------- stacks

extern "C" {
    fn mmap(addr: *mut u8, len: usize, prot: i32, flags: i32, fd: i32, off: i64) -> *mut u8;
    fn mprotect(addr: *mut u8, len: usize, prot: i32) -> i32;
}

const PROT_NONE: i32 = 0;
const PROT_READ: i32 = 1;
const PROT_WRITE: i32 = 2;
const MAP_PRIVATE: i32 = 0x02;
const MAP_ANONYMOUS: i32 = 0x20;
const MAP_NORESERVE: i32 = 0x4000;
const GUARD: usize = 64 << 10;
/// Default coroutine stack (virtual; pages are committed on use). Env
/// `OMNI_CORO_STACK_SIZE` overrides.
pub const DEFAULT_CORO_STACK: usize = 64 << 20;
/// Stacks kept per thread for reuse.
const POOL_MAX: usize = 16;

struct Stack {
    base: *mut u8,
    size: usize,
    /// Resident bytes last recorded for the statistics (`bytes_stack`).
    resident: usize,
    /// Times the stack was released (for the statistics: it is measured
    /// at the 1st, 2nd, 4th, 8th… release only, as a measure reads one
    /// byte per page of the whole stack).
    releases: u64,
}

impl Stack {
    /// A stack of `size` bytes (default: `OMNI_CORO_STACK_SIZE` or
    /// [`DEFAULT_CORO_STACK`]).
    fn new(size: Option<usize>) -> Stack {
        let size = size
            .or_else(|| {
                std::env::var("OMNI_CORO_STACK_SIZE")
                    .ok()
                    .and_then(|s| s.trim().parse::<usize>().ok())
            })
            .filter(|&n| n >= 4 * STACK_MARGIN)
            .unwrap_or(DEFAULT_CORO_STACK)
            .next_multiple_of(4096);
        // SAFETY: an anonymous private mapping; the result is checked.
        let base = unsafe {
            mmap(
                std::ptr::null_mut(),
                size,
                PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                -1,
                0,
            )
        };
        if base as isize == -1 || base.is_null() {
            crate::base::raise::raise("cannot allocate a coroutine stack".to_owned(), 0);
        }
        // SAFETY: the guard lies inside the fresh mapping. A failure only
        // loses the guard page (the stack-limit check still applies).
        unsafe { mprotect(base, GUARD, PROT_NONE) };
        Stack {
            base,
            size,
            resident: 0,
            releases: 0,
        }
    }

    /// With `OMNI_STATS=1`: measure the stack's touched (resident) pages —
    /// they stay resident while the stack is pooled — and move the
    /// statistics' coroutine-stack gauge by the change (`gone`: the stack is
    /// being unmapped).
    fn record_resident(&mut self, gone: bool) {
        if !crate::base::stats::enabled() {
            return;
        }
        self.releases += 1;
        if !gone && !self.releases.is_power_of_two() {
            return;
        }
        let now = if gone {
            0
        } else {
            crate::base::stack::resident_bytes(self.low(), self.size - GUARD)
        };
        crate::base::stats::coroutine_stack_bytes(now as i64 - self.resident as i64);
        self.resident = now;
    }

    fn low(&self) -> usize {
        self.base as usize + GUARD
    }

    fn top(&self) -> usize {
        (self.base as usize + self.size) & !15
    }
}

// ------------------------------------------------------- coroutines

/// What a coroutine left for its resumer when it switched out.
#[derive(Debug)]
pub enum Event {
    None,
    Done(Value),
    Raised(String, u32),
    Perform(Value, Value),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Fresh,
    Running,
    /// Switched out by `perform`, waiting for a resume.
    Suspended,
    Finished,
}

/// How a handler clause uses its continuation (decided by the compiler,
/// expand/effects.rs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResumeUse {
    /// Never: the body is abandoned (its coroutine freed) before the clause
    /// runs.
    Never,
    /// Only by resumes in tail position (`%resume-tail`): the continuation
    /// token cannot escape the clause, so one token serves every perform.
    TailOnly,
    /// Any other way.
    Any,
}

/// One clause of a `handle`.
pub struct Clause {
    pub effect: Value,
    pub handler: Value,
    pub resume_use: ResumeUse,
}

/// What the coroutine runs for.
pub enum Kind {
    Try,
    /// The clauses of a `handle`.
    Handle(Vec<Clause>),
}

pub struct Coro {
    pub id: u64,
    pub kind: Kind,
    pub state: State,
    pub event: Event,
    /// Value handed in by the resumer (perform's result).
    pub input: Value,
    /// Region of the `try`/`handle` result (the thunk's result region).
    pub region: *mut Region,
    pub loc: u32,
    /// Number of performs so far (to tell whether a handler resumed).
    pub performs: u64,
    thunk: Value,
    stack: Option<Stack>,
    sp: usize,
    resumer_sp: usize,
    saved_limit: usize,
    /// The coroutine running when this one was last entered (null: the
    /// thread's own stack).
    pub parent: *mut Coro,
    /// The coroutine running when this one was created.
    owner: *mut Coro,
    /// Scope regions opened on this coroutine's stack, not yet exited.
    regions: Vec<*mut Region>,
    /// A program entry (`omni_entry`) to run instead of `thunk`: the REPL
    /// runs each form's module this way ([`create_native`]), so that an
    /// error unwinds to the prompt; its error event carries the full report
    /// (message and call stack, walked before the switch out).
    native: Option<extern "C" fn() -> u64>,
}

thread_local! {
    static CURRENT: Cell<*mut Coro> = const { Cell::new(std::ptr::null_mut()) };
    static LIVE: RefCell<HashMap<u64, *mut Coro>> = RefCell::new(HashMap::new());
    static NEXT_ID: Cell<u64> = const { Cell::new(1) };
    static POOL: RefCell<Vec<Stack>> = const { RefCell::new(Vec::new()) };
    static HOOKED: Cell<bool> = const { Cell::new(false) };
}

/// The running coroutine (null on the thread's own stack).
pub fn current() -> *mut Coro {
    CURRENT.with(|c| c.get())
}

/// The stack of the running coroutine, `(low, top)`, if one runs (for the
/// call-stack walk's bounds).
pub fn current_stack_bounds() -> Option<(usize, usize)> {
    let c = current();
    if c.is_null() {
        return None;
    }
    // SAFETY: CURRENT points at a live coroutine record of this thread.
    let stack = unsafe { (*c).stack.as_ref() }?;
    Some((stack.low(), stack.top()))
}

/// The live coroutine with id `id`.
pub fn lookup(id: u64) -> Option<*mut Coro> {
    LIVE.with(|l| l.borrow().get(&id).copied())
}

/// Record a scope region opened by generated code.
#[inline]
pub fn note_region_open(r: *mut Region) {
    let c = current();
    if !c.is_null() {
        // SAFETY: CURRENT points at a live coroutine record of this thread.
        unsafe { (*c).regions.push(r) };
    }
}

/// Forget a scope region exited by generated code.
#[inline]
pub fn note_region_exit(r: *mut Region) {
    let c = current();
    if !c.is_null() {
        // SAFETY: as above. Scope regions are exited by the activation that
        // opened them, so the region is normally the last one recorded.
        let regions = unsafe { &mut (*c).regions };
        if let Some(i) = regions.iter().rposition(|x| *x == r) {
            regions.remove(i);
        }
    }
}

/// The raise hook: inside a coroutine, an error switches out to the
/// resumer (which abandons the coroutine); on the thread's own stack it is
/// not caught here.
fn raise_hook(msg: String, loc: u32) -> String {
    let c = current();
    if c.is_null() {
        return msg;
    }
    // SAFETY: `c` is the running coroutine (a live record).
    let msg = if unsafe { (*c).native.is_some() } {
        // The stack to report is this one, about to be abandoned.
        crate::base::raise::report_with_trace(&msg, loc)
    } else {
        // SAFETY: as above.
        if matches!(unsafe { &(*c).kind }, Kind::Handle(_)) {
            // The resumer re-raises it: keep this stack's frames for its
            // report (a `try` body's error is caught, so it keeps none).
            crate::control::backtrace::note_coroutine_raise(loc);
        }
        msg
    };
    // SAFETY: `c` is the running coroutine; it is never resumed again.
    unsafe { switch_out(c, Event::Raised(msg, loc)) };
    unreachable!("a coroutine that raised was resumed")
}

/// Create a coroutine that will run `thunk` with result region `r`.
pub fn create(kind: Kind, thunk: Value, r: *mut Region, loc: u32) -> *mut Coro {
    let stack = POOL
        .with(|p| p.borrow_mut().pop())
        .unwrap_or_else(|| Stack::new(None));
    create_on(kind, thunk, r, loc, stack, None)
}

/// Create a coroutine that runs a program entry (`omni_entry`) on a stack
/// of `stack_size` bytes: an error raised in it (uncaught by the program)
/// ends it with [`Event::Raised`] carrying the full report instead of
/// ending the process. Used by the REPL (`rt::repl`).
pub fn create_native(entry: extern "C" fn() -> u64, stack_size: usize) -> *mut Coro {
    let stack = Stack::new(Some(stack_size));
    create_on(
        Kind::Try,
        NOTHING,
        std::ptr::null_mut(),
        0,
        stack,
        Some(entry),
    )
}

fn create_on(
    kind: Kind,
    thunk: Value,
    r: *mut Region,
    loc: u32,
    stack: Stack,
    native: Option<extern "C" fn() -> u64>,
) -> *mut Coro {
    if !HOOKED.with(|h| h.replace(true)) {
        crate::base::raise::set_raise_hook(Some(raise_hook));
    }
    let id = NEXT_ID.with(|n| {
        let id = n.get();
        n.set(id + 1);
        id
    });
    let c = Box::into_raw(Box::new(Coro {
        id,
        kind,
        state: State::Fresh,
        event: Event::None,
        input: NOTHING,
        region: r,
        loc,
        performs: 0,
        thunk,
        stack: Some(stack),
        sp: 0,
        resumer_sp: 0,
        saved_limit: 0,
        parent: std::ptr::null_mut(),
        owner: current(),
        regions: Vec::new(),
        native,
    }));
    // SAFETY: `c` is the fresh record; its stack is ours. The initial frame
    // matches what `omni_coro_switch` pops: the MXCSR/x87 word, r15, r14,
    // r13, r12 (= the record, read by `omni_coro_start`), rbx, rbp, then
    // the return address `omni_coro_start`.
    unsafe {
        let top = (*c).stack.as_ref().unwrap().top();
        let frame = (top - 8 * 9) as *mut u64;
        let init: [u64; 9] = [
            0x1F80 | (0x037F << 32),
            0,
            0,
            0,
            c as u64,
            0,
            0,
            start_address() as u64,
            0,
        ];
        std::ptr::copy_nonoverlapping(init.as_ptr(), frame, init.len());
        (*c).sp = frame as usize;
    }
    LIVE.with(|l| l.borrow_mut().insert(id, c));
    c
}

#[cfg(target_arch = "x86_64")]
fn start_address() -> usize {
    omni_coro_start as *const () as usize
}

#[cfg(not(target_arch = "x86_64"))]
fn start_address() -> usize {
    crate::base::fatal::fatal(format_args!("coroutines need x86-64"))
}

/// First code run on a coroutine's stack.
extern "C" fn coroutine_main(c: *mut Coro) -> ! {
    // SAFETY: `c` is the record passed through r12 by `create`'s frame.
    let (thunk, r, loc, native) = unsafe { ((*c).thunk, (*c).region, (*c).loc, (*c).native) };
    let v = match native {
        Some(entry) => entry(),
        None => apply_closure(thunk, r, NIL, loc),
    };
    // SAFETY: `c` is running; a finished coroutine is never resumed.
    unsafe { switch_out(c, Event::Done(v)) };
    unreachable!("a finished coroutine was resumed")
}

/// Continue `c` with `input` until it switches out; returns its event.
///
/// # Safety
/// `c` is a live coroutine of this thread, fresh or suspended.
pub unsafe fn switch_into(c: *mut Coro, input: Value) -> Event {
    // SAFETY: caller contract; the record outlives the switch. No
    // reference into the record is held across the switch (the other side
    // writes it).
    unsafe {
        (*c).input = input;
        (*c).parent = current();
        (*c).state = State::Running;
        (*c).saved_limit = stack_limit();
        let low = (*c).stack.as_ref().unwrap().low();
        set_stack_limit(low + STACK_MARGIN);
        CURRENT.with(|cur| cur.set(c));
        switch_raw(&raw mut (*c).resumer_sp, (*c).sp);
        // Back on the resumer's stack: the coroutine switched out.
        CURRENT.with(|cur| cur.set((*c).parent));
        set_stack_limit((*c).saved_limit);
        std::mem::replace(&mut (*c).event, Event::None)
    }
}

/// Leave the running coroutine `c` with `event`; returns when resumed.
///
/// # Safety
/// `c` is the running coroutine (CURRENT).
pub unsafe fn switch_out(c: *mut Coro, event: Event) {
    // SAFETY: caller contract; no reference into the record is held
    // across the switch.
    unsafe {
        (*c).state = match event {
            Event::Perform(..) => State::Suspended,
            _ => State::Finished,
        };
        (*c).event = event;
        switch_raw(&raw mut (*c).sp, (*c).resumer_sp);
    }
}

#[cfg(target_arch = "x86_64")]
unsafe fn switch_raw(save: *mut usize, to: usize) {
    // SAFETY: `to` is a stack pointer saved by `omni_coro_switch` (or the
    // initial frame built by `create`), on a stack that is still mapped;
    // the current context is saved into `save` before the switch.
    unsafe { omni_coro_switch(save, to, 0) };
}

#[cfg(not(target_arch = "x86_64"))]
unsafe fn switch_raw(_save: *mut usize, _to: usize) {
    crate::base::fatal::fatal(format_args!("coroutines need x86-64"))
}

/// Free a coroutine that will not run again (finished, or suspended and
/// abandoned): abandon the coroutines it created that are still suspended,
/// exit the scope regions it left open (innermost first), return its stack
/// to the pool and drop the record.
///
/// # Safety
/// `c` is a live coroutine of this thread that is not running.
pub unsafe fn release(c: *mut Coro) {
    let children: Vec<*mut Coro> = LIVE.with(|l| {
        l.borrow()
            .values()
            .copied()
            // SAFETY: every LIVE entry is a live record.
            .filter(|x| unsafe { (**x).owner } == c)
            .collect()
    });
    for child in children {
        // SAFETY: a child that is still live is suspended (not running:
        // only `c`'s chain could run it, and `c` is not running).
        unsafe { release(child) };
    }
    // SAFETY: caller contract; the record is dropped exactly once here.
    unsafe {
        let mut co = Box::from_raw(c);
        LIVE.with(|l| l.borrow_mut().remove(&co.id));
        while let Some(r) = co.regions.pop() {
            crate::region::region_exit(r);
        }
        if let Some(mut stack) = co.stack.take() {
            POOL.with(|p| {
                let mut p = p.borrow_mut();
                if p.len() < POOL_MAX {
                    stack.record_resident(false);
                    p.push(stack);
                } else {
                    stack.record_resident(true);
                    extern "C" {
                        fn munmap(addr: *mut u8, len: usize) -> i32;
                    }
                    munmap(stack.base, stack.size);
                }
            });
        }
    }
}
