//! Concurrency primitives (LANGUAGE.md §5): `spawn`, `join`, `chan`,
//! `send`, `recv`, `close!`. The mechanics (handoff regions, adoption,
//! channel queue) are in `control/thread.rs`, `heap/handles.rs` and
//! `heap/channel.rs`; the contract is
//! docs/REGION_THREADING_MODEL.md.

use super::{expected, prim_fixed, prim_variadic, R};
use crate::base::value::*;
use crate::control::thread::{channel_recv, channel_send, join_thread, spawn_thread};
use crate::heap::handles::{channel_core, is_channel, is_thread, make_channel};
use crate::heap::object::is_closure;
use crate::region::Region;

fn spawn(r: *mut Region, thunk: Value, loc: u32) -> R {
    if !is_closure(thunk) {
        return Err(expected("spawn", "a function of no arguments", thunk));
    }
    // SAFETY: a live closure of this thread, `r` its live result region;
    // the location (the `spawn` call's) is for errors raised while
    // starting the thread or calling the thunk with no arguments.
    Ok(unsafe { spawn_thread(r, thunk, loc) })
}

fn join(r: *mut Region, t: Value) -> R {
    if !is_thread(t) {
        return Err(expected("join", "a thread", t));
    }
    // SAFETY: a thread object; `r` is the live region for the result.
    unsafe { join_thread(t, r) }
}

fn chan(r: *mut Region, args: &[Value]) -> R {
    let capacity = match args {
        [] => 0,
        [n] if is_int(*n) && int_value(*n) >= 0 => int_value(*n) as usize,
        [n] => return Err(expected("chan", "a non-negative buffer size", *n)),
        _ => {
            return Err(format!(
                "chan: expected 0 or 1 arguments, got {}",
                args.len()
            ))
        }
    };
    // SAFETY: `r` is the live result region of this thread.
    Ok(unsafe { make_channel(r, capacity) })
}

fn send(_r: *mut Region, ch: Value, v: Value) -> R {
    if !is_channel(ch) {
        return Err(expected("send", "a channel", ch));
    }
    // SAFETY: a channel object; `v` is a live value of this thread.
    unsafe { channel_send(ch, v) }.map(|()| NOTHING)
}

fn recv(r: *mut Region, ch: Value) -> R {
    if !is_channel(ch) {
        return Err(expected("recv", "a channel", ch));
    }
    // SAFETY: a channel object; `r` is the live region for the result.
    Ok(unsafe { channel_recv(ch, r) })
}

fn close(_r: *mut Region, ch: Value) -> R {
    if !is_channel(ch) {
        return Err(expected("close!", "a channel", ch));
    }
    // SAFETY: a channel object.
    unsafe { channel_core(ch) }.close();
    Ok(NOTHING)
}

/// `(%set-var! cell v)`: the cold path of `set!` of a boxed variable
/// (generated code stores into a box inline): a capture guard
/// (`control/thread.rs`) is refused — the variable belongs to the thread
/// that spawned this one — anything else is `set-box!`.
fn set_var(cell: Value, v: Value) -> R {
    if crate::control::thread::is_capture_guard(cell) {
        // The error report adds the thread's name (`in thread …`).
        return Err("set! of a variable captured by the spawned thunk: threads share no mutable state (the thread would change a private copy; return results through join or a channel)".into());
    }
    super::misc::set_box(crate::heap::object::resolve(cell), v)
}

/// `spawn`: see [`spawn`]; written out (not `prim_fixed!`) to pass its
/// location on to the new thread.
///
/// # Safety
/// `region` is a live region of this thread; `thunk` a valid value.
#[no_mangle]
pub unsafe extern "C" fn omni_prim_spawn(region: *mut Region, thunk: Value, loc: u32) -> Value {
    let thunk = crate::heap::object::resolve(thunk);
    match spawn(region, thunk, loc) {
        Ok(v) => v,
        Err(msg) => crate::base::raise::raise(msg, loc),
    }
}

/// `%set-var!`: see [`set_var`]. Unlike the table's other primitives it
/// receives the cell unresolved (a capture guard is a forwarding object).
///
/// # Safety
/// The arguments are valid values of this thread.
#[no_mangle]
pub unsafe extern "C" fn omni_prim_set_var(
    _region: *mut Region,
    cell: Value,
    v: Value,
    loc: u32,
) -> Value {
    match set_var(cell, v) {
        Ok(v) => v,
        Err(msg) => crate::base::raise::raise(msg, loc),
    }
}
prim_fixed!(omni_prim_join(t) => join);
prim_variadic!(omni_prim_chan => chan);
prim_fixed!(omni_prim_send(ch, v) => send);
prim_fixed!(omni_prim_recv(ch) => recv);
prim_fixed!(omni_prim_close(ch) => close);
