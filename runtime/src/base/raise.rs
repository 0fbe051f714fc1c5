//! Raising runtime errors: the source-location table and [`raise`], the
//! single function every runtime error goes through. (The error *object*
//! `catch` binds is `heap::error_obj`.)
//!
//! Generated code passes a `loc: u32` to every primitive that can fail; the
//! entry registers the table mapping it to `file:line:col` with
//! `omni_rt_set_locs`. `raise` first offers the error to the current thread's
//! raise hook (how `try`/`catch` will intercept errors: the hook does not
//! return when it catches); uncaught, it flushes buffered stdout, prints
//! `error: <msg>` (and `  at <loc>`) to stderr, runs the exit hooks and exits
//! with status 1. The path is kept free of deep calls and large frames
//! because `omni_rt_stack_overflow` reaches it with only the stack margin.

use std::cell::Cell;
use std::io::Write;
use std::sync::Mutex;

/// Location strings; index 0 is "unknown" (never printed).
static LOCS: Mutex<Vec<Box<str>>> = Mutex::new(Vec::new());

/// Register the location table: newline-separated `file:line:col`, line k
/// describes loc k (line 0 = unknown). Replaces any previous table.
///
/// # Safety
/// `ptr` must point at `len` readable bytes (UTF-8; invalid bytes are
/// replaced).
#[no_mangle]
pub unsafe extern "C" fn omni_rt_set_locs(ptr: *const u8, len: usize) {
    let bytes = if len == 0 {
        &[][..]
    } else {
        // SAFETY: caller contract.
        unsafe { std::slice::from_raw_parts(ptr, len) }
    };
    let text = String::from_utf8_lossy(bytes);
    let table: Vec<Box<str>> = text.split('\n').map(Into::into).collect();
    *LOCS.lock().unwrap_or_else(|e| e.into_inner()) = table;
}

/// The `file:line:col` text of `loc`, if known.
pub fn loc_text(loc: u32) -> Option<String> {
    if loc == 0 {
        return None;
    }
    let table = LOCS.lock().unwrap_or_else(|e| e.into_inner());
    table
        .get(loc as usize)
        .filter(|s| !s.is_empty())
        .map(|s| s.to_string())
}

/// The exact text an uncaught error writes to stderr.
pub fn format_report(msg: &str, loc: u32) -> String {
    match loc_text(loc) {
        Some(at) => format!("error: {msg}\n  at {at}\n"),
        None => format!("error: {msg}\n"),
    }
}

/// A raise hook: called with the message and location of every error
/// raised on its thread. A hook that catches the error transfers control and
/// never returns (it takes the message, so nothing is left to free on the
/// abandoned stack); returning the message means "not caught here".
pub type RaiseHook = fn(msg: String, loc: u32) -> String;

thread_local! {
    static RAISE_HOOK: Cell<Option<RaiseHook>> = const { Cell::new(None) };
}

/// Install (or clear) this thread's raise hook, returning the previous one
/// (so nested `try` can restore it).
pub fn set_raise_hook(hook: Option<RaiseHook>) -> Option<RaiseHook> {
    RAISE_HOOK.with(|h| h.replace(hook))
}

/// Raise a runtime error. Never returns: either a raise hook catches it, or
/// the program reports it and exits with status 1.
#[cold]
#[inline(never)]
pub fn raise(msg: String, loc: u32) -> ! {
    let msg = match RAISE_HOOK.with(|h| h.get()) {
        Some(hook) => hook(msg, loc),
        None => msg,
    };
    exit_with_error(&msg, loc)
}

/// Report an uncaught error and end the process with status 1.
#[cold]
#[inline(never)]
pub fn exit_with_error(msg: &str, loc: u32) -> ! {
    crate::base::stdout::flush_stdout();
    let report = format_report(msg, loc);
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(report.as_bytes());
    let _ = err.flush();
    drop(err);
    run_exit_hooks();
    std::process::exit(1)
}

/// Work done on every exit path (normal end and uncaught error).
pub fn run_exit_hooks() {
    crate::base::stdout::flush_stdout();
    crate::base::stats::report_at_exit();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_includes_location_when_known() {
        let table = "\nmain.omni:3:7\nlib.omni:10:1";
        // SAFETY: the table string outlives the call.
        unsafe { omni_rt_set_locs(table.as_ptr(), table.len()) };
        assert_eq!(format_report("boom", 0), "error: boom\n");
        assert_eq!(
            format_report("boom", 1),
            "error: boom\n  at main.omni:3:7\n"
        );
        assert_eq!(format_report("x", 2), "error: x\n  at lib.omni:10:1\n");
        assert_eq!(format_report("x", 99), "error: x\n");
    }
}
