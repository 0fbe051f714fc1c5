//! Threads, the cross-thread handoff, and the Channel and Thread objects
//! (docs/REGION_THREADING_MODEL.md).
//!
//! Contract: every mortal region has one owning thread, the only one that
//! allocates in it, exits it or mutates its objects. Values cross threads
//! only at three points, all through a *handoff region* (option B of the
//! model: transmigrate into a region the receiver adopts):
//!
//! - `spawn`: the thunk (its captured values) is copied into a handoff
//!   region the new thread adopts; the thread runs the thunk with a result
//!   region of its own.
//! - `join`: the thread copies its result's mortal part into its result
//!   region, which it hands over; the joiner adopts it and merges it into
//!   its own result region (no copy).
//! - channels (`heap/channel.rs`, handle objects in `heap/handles.rs`):
//!   `send` copies into a handoff region, `recv` adopts and merges it.
//!
//! The global region belongs to the program thread. The immortal shared
//! region (run-time symbols) is allocated in under a lock by any thread.
//! Channel and thread objects are handles in ordinary regions sharing a
//! reference-counted core (`heap/handles.rs`), freed when the last region
//! holding a handle is reclaimed. A spawned thread that tries to mutate an object it
//! does not own (a global's value) gets a runtime error from the store
//! helper (`region::owner::check_store_target`), never a data race on
//! region memory.
//!
//! Each spawned thread runs on a stack of `base::stack::stack_size()` bytes with its
//! own stack limit (generated prologues read it through the pinned
//! register), so deep recursion reports `error: stack overflow` there too.
//! An uncaught error in a spawned thread ends the program (`error: ...`,
//! exit status 1), like one on the program thread. In a REPL session
//! ([`contain_thread_errors`]) it ends only that thread: the thunk runs on a
//! native coroutine, whose raise switches back to [`thread_main`] with the
//! report (message and the thread's call stack), which is printed with the
//! thread's name; the thread's regions are released, and a `join` of it
//! raises an error in the joiner instead of returning a value.

use crate::base::atomics::SequenceCounter;
use crate::base::fatal::fatal;
use crate::base::raise::raise;
use crate::base::value::*;
use crate::graph::transmigrate::{transmigrate, transmigrate_for_handoff};
use crate::heap::channel::{message_discard, Closed, Message};
use crate::heap::handles::{channel_core, make_thread, thread_core, ThreadCore, Unclaimed};
use crate::region::owner::{mark_spawned_thread, note_threads_started};
use crate::region::{
    region_adopt, region_create, region_merge, region_prepare_handoff, region_release, Region,
};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// Uncaught errors of spawned threads end only their thread (the REPL).
static CONTAIN_THREAD_ERRORS: AtomicBool = AtomicBool::new(false);

/// From now on an uncaught error in a spawned thread is reported and ends
/// that thread only, not the process (called by the REPL's runner: a
/// session must survive it with its globals intact).
pub fn contain_thread_errors() {
    CONTAIN_THREAD_ERRORS.store(true, Ordering::Release);
}

// ------------------------------------------------------------ handoff

/// Copy `v`'s mortal part into a fresh region and prepare that region for
/// another thread: the returned message holds its one external reference.
///
/// # Safety
/// `v` is a live value whose mortal regions are owned by the calling thread.
pub unsafe fn handoff_out(v: Value) -> Message {
    let r = region_create();
    // SAFETY: `r` is fresh and ours; caller contract for `v`. After the
    // copy `r` is self-contained, as `region_prepare_handoff` requires.
    unsafe {
        let value = transmigrate_for_handoff(v, r).value;
        region_prepare_handoff(r);
        Message { region: r, value }
    }
}

/// Take over a message: adopt its region and make its objects part of
/// `dst` (a merge, O(chunks); a copy if the merge is refused), then drop
/// the message's reference. Returns the value, now living in `dst` (or in
/// an immortal region).
///
/// # Safety
/// `msg` came from [`handoff_out`] and was handed to the calling thread
/// through a synchronising operation; `dst` is a live region of this thread.
pub unsafe fn handoff_in(msg: Message, dst: *mut Region) -> Value {
    // SAFETY: caller contract; the message's reference keeps its region
    // alive until the release below.
    unsafe {
        region_adopt(msg.region);
        let value = match region_merge(msg.region, dst) {
            Ok(()) => msg.value,
            Err(_) => transmigrate(msg.value, msg.region, dst),
        };
        region_release(msg.region);
        value
    }
}

/// Drop a message that will never be received (its region is reclaimed).
///
/// # Safety
/// The caller owns `msg`.
pub unsafe fn handoff_discard(msg: Message) {
    // SAFETY: caller contract: the message's one reference is ours.
    unsafe { message_discard(msg) }
}

crate::base::atomics::runtime_static!(NEXT_THREAD_ID: SequenceCounter = SequenceCounter::new(1); fn next_thread_id);

// ------------------------------------------------------------ send / recv

/// `send`: hand a copy of `v` to the channel's receiver.
///
/// # Safety
/// `ch` is a channel object; `v` a live value of this thread.
pub unsafe fn channel_send(ch: Value, v: Value) -> Result<(), String> {
    // SAFETY: caller contract.
    let core = unsafe { channel_core(ch) };
    if core.is_closed() {
        return Err("send: the channel is closed".into());
    }
    // SAFETY: caller contract.
    let msg = unsafe { handoff_out(v) };
    match core.send(msg) {
        Ok(()) => Ok(()),
        Err(Closed(msg)) => {
            // SAFETY: the message came back to us.
            unsafe { handoff_discard(msg) };
            Err("send: the channel is closed".into())
        }
    }
}

/// `recv`: the next value, adopted into `dst`; `nothing` once the channel
/// is closed and drained.
///
/// # Safety
/// `ch` is a channel object; `dst` a live region of this thread.
pub unsafe fn channel_recv(ch: Value, dst: *mut Region) -> Value {
    // SAFETY: caller contract.
    let core = unsafe { channel_core(ch) };
    match core.recv() {
        // SAFETY: the channel's mutex synchronised us with the sender.
        Some(msg) => unsafe { handoff_in(msg, dst) },
        None => NOTHING,
    }
}

// ------------------------------------------------------------ spawn / join

/// Run `thunk` (a zero-argument closure) on a new OS thread; returns the
/// Thread object, allocated in `r`.
///
/// # Safety
/// `thunk` is a live closure of this thread; `r` a live region of it.
pub unsafe fn spawn_thread(r: *mut Region, thunk: Value, loc: u32) -> Value {
    note_threads_started();
    // SAFETY: caller contract.
    let msg = unsafe { handoff_out(thunk) };
    let size = crate::base::stack::stack_size();
    let id = next_thread_id().seq_reserve(1);
    crate::region::owner::spawned_thread_begins();
    let handle = std::thread::Builder::new()
        .name(format!("omni-thread-{id}"))
        .stack_size(size)
        .spawn(move || {
            // SAFETY: the closure runs on the new thread, which now owns the
            // thunk's handoff region (the spawn is the synchronising edge).
            Unclaimed(unsafe { thread_main(msg, size, id, loc) })
        })
        .unwrap_or_else(|e| {
            crate::region::owner::spawned_thread_ends();
            raise(format!("spawn: cannot start a thread: {e}"), loc)
        });
    let core = ThreadCore {
        handle: Mutex::new(Some(handle)),
        id,
    };
    // SAFETY: caller contract for `r`.
    unsafe { make_thread(r, core) }
}

/// Body of a spawned thread: adopt the thunk's region, run the thunk into a
/// result region of its own, hand the result region back. None: the thunk
/// raised an error that was reported (only with [`contain_thread_errors`];
/// otherwise the error ended the process).
///
/// # Safety
/// `thunk` is the message made by `spawn_thread`, now owned by this thread.
unsafe fn thread_main(thunk: Message, stack: usize, id: u64, loc: u32) -> Option<Message> {
    mark_spawned_thread();
    crate::base::stack::arm_stack_limit(stack);
    // SAFETY: the spawn synchronised us with the parent; the region is ours.
    unsafe { region_adopt(thunk.region) };
    // SAFETY: the thunk (a closure) and its captured values are in the
    // adopted region or immortal ones; `thunk.region` is ours and live.
    unsafe { guard_captured_variables(thunk.value, thunk.region) };
    // The thread's first scope: its result region (depth 1, older than
    // every scope the thunk opens).
    let result = region_create();
    let v = if CONTAIN_THREAD_ERRORS.load(Ordering::Acquire) {
        // SAFETY: `thunk.value` is this thread's closure, `result` its live
        // region.
        match unsafe { run_contained(thunk.value, result, stack, loc) } {
            Ok(v) => v,
            Err(report) => {
                report_thread_error(&report, id);
                // SAFETY: both regions are ours; nothing refers into them
                // any more (the thunk's coroutine was released): the
                // result region's scope ends, the thunk's handoff
                // reference goes.
                unsafe {
                    crate::region::region_exit(result);
                    region_release(thunk.region);
                }
                crate::base::stack::set_stack_limit(0);
                crate::region::owner::spawned_thread_ends();
                return None;
            }
        }
    } else {
        crate::control::call::apply_closure(thunk.value, result, NIL, loc)
    };
    // SAFETY: `result` is ours and live; `v` reaches only this thread's
    // regions and immortal ones. After the copy nothing refers into the
    // thunk's region any more, so its reference can go, and `result` is
    // self-contained.
    let out = unsafe {
        let value = transmigrate_for_handoff(v, result).value;
        region_release(thunk.region);
        region_prepare_handoff(result);
        Message {
            region: result,
            value,
        }
    };
    crate::base::stack::set_stack_limit(0);
    // The result holds no pointer into the global state (the handoff copied
    // it): from here on the program thread may renew it.
    crate::region::owner::spawned_thread_ends();
    Some(out)
}

thread_local! {
    /// The thunk a contained thread's coroutine runs (see [`run_contained`]).
    static CONTAINED_THUNK: std::cell::Cell<(Value, usize, u32)> =
        const { std::cell::Cell::new((NOTHING, 0, 0)) };
}

/// The entry of a contained thread's coroutine: call the thunk left in
/// [`CONTAINED_THUNK`].
extern "C" fn contained_entry() -> u64 {
    let (thunk, result, loc) = CONTAINED_THUNK.with(|t| t.get());
    crate::control::call::apply_closure(thunk, result as *mut Region, NIL, loc)
}

/// Run `thunk` into `result` on a native coroutine of `stack` bytes: `Err`
/// holds the report (`error: ...` and the call stack) of an error it did
/// not catch; its scope regions are exited either way.
///
/// # Safety
/// `thunk` is a live closure of this thread; `result` a live region of it.
unsafe fn run_contained(
    thunk: Value,
    result: *mut Region,
    stack: usize,
    loc: u32,
) -> Result<Value, String> {
    use crate::control::coroutine::{create_native, release, switch_into, Event};
    CONTAINED_THUNK.with(|t| t.set((thunk, result as usize, loc)));
    let c = create_native(contained_entry, stack);
    // SAFETY: `c` is a fresh coroutine of this thread.
    let event = unsafe { switch_into(c, NOTHING) };
    // SAFETY: `c` ran to its end or raised; it is not running. Releasing
    // it exits the scope regions an error left open.
    unsafe { release(c) };
    match event {
        Event::Done(v) => Ok(v),
        Event::Raised(report, _) => Err(report),
        _ => fatal(format_args!(
            "a spawned thread's thunk performed out of its thread"
        )),
    }
}

/// Print a contained thread's error report as an uncaught one is printed
/// (the program's output so far first), naming the thread.
fn report_thread_error(report: &str, id: u64) {
    use std::io::Write;
    crate::base::stdout::flush_stdout();
    let mut text = report.to_string();
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&format!("  in thread omni-thread-{id}\n"));
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(text.as_bytes());
    let _ = err.flush();
}

/// Header flag of a capture guard: a forwarding object that stands for a
/// variable cell (box) captured by a spawned thunk (see
/// [`guard_captured_variables`]).
pub const CAPTURE_GUARD_FLAG: u8 = 0x01;

/// Threads share no mutable state (LANGUAGE.md §6): the spawned thread's
/// copy of every variable cell (box) the thunk captures — directly or
/// through a captured closure — is replaced, in the closures' free slots,
/// by a capture guard: a forwarding object to the cell, so reading the
/// variable resolves it as usual (the cold path of generated code), while
/// `set!` of it (`%set-var!`, the cold path of a box store) is an error
/// instead of a silent change of a private copy. (`set!` in a `fn` given
/// directly to `spawn` is already refused at compile time.)
///
/// # Safety
/// `thunk` is a live value whose mortal part lives in `r`, a live region of
/// this thread.
unsafe fn guard_captured_variables(thunk: Value, r: *mut Region) {
    use crate::heap::object::{closure_free, closure_nfree, closure_set_free, is_box, is_closure};
    let mut work = vec![thunk];
    let mut seen = std::collections::HashSet::new();
    while let Some(c) = work.pop() {
        // Only the copies in the handoff region: a closure elsewhere (an
        // immortal one) belongs to no one thread and stays as it is.
        // SAFETY: `region_of` is read only for a closure (a heap object).
        if !is_closure(c) || unsafe { crate::region::region_of(c) } != r || !seen.insert(c) {
            continue;
        }
        // SAFETY: `c` is a closure; its free slots are read and written
        // within `nfree`; the guard is a fresh two-word object in `r`, the
        // region the closure and its cells were copied into.
        unsafe {
            for i in 0..closure_nfree(c) {
                let v = closure_free(c, i);
                if is_box(v) {
                    let guard = crate::region::alloc_object(r, ObjKind::Forwarded, 16);
                    *guard |= (CAPTURE_GUARD_FLAG as u64) << HEADER_FLAGS_SHIFT;
                    guard.add(1).write(v);
                    closure_set_free(c, i, guard as Value);
                } else if is_closure(v) {
                    work.push(v);
                }
            }
        }
    }
}

/// Is `v` a capture guard ([`guard_captured_variables`])?
pub fn is_capture_guard(v: Value) -> bool {
    crate::heap::object::is_forwarded(v)
        // SAFETY: a forwarded object: a heap object with a header word.
        && unsafe { (*(v as *const u64) >> HEADER_FLAGS_SHIFT) as u8 } & CAPTURE_GUARD_FLAG != 0
}

/// `join`: wait for the thread and adopt its result into `dst`.
///
/// # Safety
/// `t` is a thread object; `dst` a live region of this thread.
pub unsafe fn join_thread(t: Value, dst: *mut Region) -> Result<Value, String> {
    // SAFETY: caller contract.
    let core = unsafe { thread_core(t) };
    let handle = core.handle.lock().unwrap_or_else(|e| e.into_inner()).take();
    let Some(handle) = handle else {
        return Err(format!(
            "join: thread {} was already joined (its value went to the first join)",
            core.id
        ));
    };
    match handle.join() {
        Ok(mut result) => {
            let Some(msg) = result.0.take() else {
                // Only with contained thread errors (the REPL): the
                // thread's error was reported when it happened.
                return Err(format!(
                    "join: thread {} ended with an error (reported above)",
                    core.id
                ));
            };
            // SAFETY: the OS join synchronised us with the thread's exit.
            let v = unsafe { handoff_in(msg, dst) };
            // The thread's counts were flushed at its exit; flushing ours
            // keeps the process-wide gauges (regions/bytes live) from
            // drifting when its regions are reclaimed here.
            crate::base::stats::flush_thread();
            Ok(v)
        }
        // A panic in runtime code: the process state is unknown.
        Err(_) => fatal(format_args!("thread {} panicked", core.id)),
    }
}
