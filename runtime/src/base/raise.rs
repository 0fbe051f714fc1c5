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
//! with status 1; with a code table registered (`control/backtrace.rs`)
//! the `  at` lines are the call stack. The path is kept free of deep calls and large frames
//! because `omni_rt_stack_overflow` reaches it with only the stack margin.

use crate::base::atomics::{ConfigWord, SequenceCounter};
use std::cell::Cell;
use std::io::Write;
use std::sync::Mutex;

/// Location strings; index 0 is "unknown" (never printed).
static LOCS: Mutex<Vec<Box<str>>> = Mutex::new(Vec::new());

/// Register the location table: newline-separated, line k describes loc k
/// (line 0 = unknown) as `file:line:col`; a location inside an inlined
/// body adds, tab-separated, the inlined function's name and the loc of
/// the call it replaced (`file:line:col\tNAME\tCALL`). Replaces any
/// previous table.
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

/// Extend the location table (the REPL: each form's module adds only its
/// new locations, so a session's table costs memory in proportion to its
/// forms, not their square): the table keeps its first `first` lines and
/// `lines` follow, line k of them describing loc `first + k`.
pub fn extend_locs(first: usize, lines: &[&str]) {
    let mut table = LOCS.lock().unwrap_or_else(|e| e.into_inner());
    table.truncate(first);
    while table.len() < first {
        table.push("".into());
    }
    table.extend(lines.iter().map(|l| Box::<str>::from(*l)));
}

/// The line of the table describing `loc` (None for loc 0 or an empty line).
fn loc_line(loc: u32) -> Option<String> {
    if loc == 0 {
        return None;
    }
    let table = LOCS.lock().unwrap_or_else(|e| e.into_inner());
    table
        .get(loc as usize)
        .filter(|s| !s.is_empty())
        .map(|s| s.to_string())
}

/// The `file:line:col` text of `loc`, if known.
pub fn loc_text(loc: u32) -> Option<String> {
    let line = loc_line(loc)?;
    Some(match line.split_once('\t') {
        Some((at, _)) => at.to_string(),
        None => line,
    })
}

/// For a location inside an inlined body: the inlined function's name and
/// the location of the call the compiler replaced by its body.
pub fn loc_inlined(loc: u32) -> Option<(String, u32)> {
    let line = loc_line(loc)?;
    let mut fields = line.split('\t').skip(1);
    let name = fields.next()?.to_string();
    let call = fields.next()?.parse().ok()?;
    Some((name, call))
}

/// The exact text an uncaught error writes to stderr without a call
/// stack: the message and, when known, its location.
pub fn format_report(msg: &str, loc: u32) -> String {
    match loc_text(loc) {
        Some(at) => format!("error: {msg}\n  at {at}\n"),
        None => format!("error: {msg}\n"),
    }
}

/// Makes the call-stack lines of an error raised at a location (None when
/// there is no generated frame to show).
pub type TraceFormatter = fn(loc: u32) -> Option<String>;

/// The registered call-stack formatter (`control/backtrace.rs`), as a
/// function address (0: none).
static TRACE_FORMATTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Register the call-stack formatter used by uncaught error reports.
pub fn set_trace_formatter(f: TraceFormatter) {
    TRACE_FORMATTER.store(f as usize, std::sync::atomic::Ordering::Release);
}

/// The report of an uncaught error: the message, then the call stack
/// (`  at NAME (FILE:LINE:COL)` lines) when one can be walked, else the
/// error's location alone.
pub(crate) fn report_with_trace(msg: &str, loc: u32) -> String {
    let f = TRACE_FORMATTER.load(std::sync::atomic::Ordering::Acquire);
    if f != 0 {
        // SAFETY: only `set_trace_formatter` stores here, always a valid
        // `TraceFormatter`.
        let f: TraceFormatter = unsafe { std::mem::transmute::<usize, TraceFormatter>(f) };
        if let Some(lines) = f(loc) {
            return format!("error: {msg}\n{lines}");
        }
    }
    format_report(msg, loc)
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

// Set by the first thread that reports an uncaught error: the process is
// ending with that report, and no other thread's report follows it.
crate::base::atomics::runtime_static!(REPORT_CLAIMS: SequenceCounter = SequenceCounter::new(0); fn report_claims);
// Nonzero once a thread claimed the report (read by the normal exit path).
crate::base::atomics::runtime_static!(REPORTING: ConfigWord = ConfigWord::new(0); fn reporting);

thread_local! {
    /// This thread is the one reporting (a failure while reporting, such
    /// as a failed flush of stdout, may report again on the same thread).
    static IS_REPORTER: Cell<bool> = const { Cell::new(false) };
}

/// Claim the right to report and end the process; a thread that loses the
/// race waits (forever) while the winner exits.
fn claim_report() {
    if IS_REPORTER.with(|r| r.get()) {
        return;
    }
    if report_claims().seq_reserve(1) != 0 {
        wait_for_exit();
    }
    reporting().config_store(1);
    IS_REPORTER.with(|r| r.set(true));
}

/// Block forever: another thread is reporting an error and will end the
/// process.
fn wait_for_exit() -> ! {
    loop {
        std::thread::park();
    }
}

/// On the normal exit path: if some thread is reporting an uncaught error,
/// let it end the process (with status 1) instead of exiting with 0.
pub fn defer_to_error_report() {
    if reporting().config_load() != 0 && !IS_REPORTER.with(|r| r.get()) {
        wait_for_exit();
    }
}

/// The name of a spawned thread, for the report of an error raised on it
/// (None on the program's own thread).
fn spawned_thread_name() -> Option<String> {
    let t = std::thread::current();
    let name = t.name()?;
    name.starts_with("omni-thread-").then(|| name.to_string())
}

/// Report an uncaught error and end the process with status 1. Only the
/// first thread to get here reports; the report names the thread when it
/// is not the program's own.
#[cold]
#[inline(never)]
pub fn exit_with_error(msg: &str, loc: u32) -> ! {
    claim_report();
    crate::base::stdout::flush_stdout();
    let mut report = report_with_trace(msg, loc);
    if let Some(name) = spawned_thread_name() {
        report.push_str(&format!("  in thread {name}\n"));
    }
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

    /// Inlined locations name their function and call (run by
    /// `report_includes_location_when_known`: the table is process-wide,
    /// so the two must not run in parallel).
    fn inlined_locations_name_their_function_and_call() {
        let table = "\nmain.omni:3:7\nlib.omni:1:19\tinner\t1\nlib.omni:2:5\tstd/walk\t2";
        // SAFETY: the table string outlives the call.
        unsafe { omni_rt_set_locs(table.as_ptr(), table.len()) };
        assert_eq!(loc_text(2).as_deref(), Some("lib.omni:1:19"));
        assert_eq!(loc_inlined(1), None);
        assert_eq!(loc_inlined(2), Some(("inner".to_string(), 1)));
        assert_eq!(loc_inlined(3), Some(("std/walk".to_string(), 2)));
        assert_eq!(loc_inlined(0), None);
        assert_eq!(format_report("x", 3), "error: x\n  at lib.omni:2:5\n");
    }

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
        inlined_locations_name_their_function_and_call();
    }
}
