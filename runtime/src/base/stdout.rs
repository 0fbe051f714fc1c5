//! The program's buffered stdout: `display`/`print` append to one buffer
//! that reaches the OS in large chunks, and is flushed at exit, before any
//! stderr output (the error path) and before reading stdin.
//!
//! Lost output is an error: a failed write ends the program with
//! `error: cannot write to stdout: ...` and status 1. A closed pipe
//! (`prog | head -1`) is the reader saying it has seen enough, so the
//! program ends quietly with status 0 instead (SIGPIPE is ignored by
//! `ignore_sigpipe`, so the write reports EPIPE rather than killing us).

use crate::base::atomics::ConfigWord;
use std::io::Write;
use std::sync::Mutex;

/// Flush threshold: output reaches the OS in chunks of this size.
const STDOUT_CHUNK: usize = 64 << 10;

/// The program's one stdout buffer. Callers format first and append under
/// the lock, so no error is ever raised while it is held.
static STDOUT_BUF: Mutex<Vec<u8>> = Mutex::new(Vec::new());

// Set once a write to stdout failed: later output is dropped (the exit
// path must not report the same failure again).
crate::base::atomics::runtime_static!(STDOUT_FAILED: ConfigWord = ConfigWord::new(0); fn stdout_failed);

/// Append text to buffered stdout.
pub fn write_stdout(s: &str) {
    if stdout_failed().config_load() != 0 {
        return;
    }
    let mut buf = STDOUT_BUF.lock().unwrap_or_else(|e| e.into_inner());
    buf.extend_from_slice(s.as_bytes());
    if buf.len() >= STDOUT_CHUNK {
        let result = push_to_os(&mut buf);
        drop(buf);
        if let Err(e) = result {
            stdout_write_failed(e);
        }
    }
}

/// Push buffered stdout to the OS (at exit, before stderr output, before
/// reading stdin).
pub fn flush_stdout() {
    if stdout_failed().config_load() != 0 {
        return;
    }
    let mut buf = STDOUT_BUF.lock().unwrap_or_else(|e| e.into_inner());
    let result = push_to_os(&mut buf);
    drop(buf);
    if let Err(e) = result {
        stdout_write_failed(e);
    }
}

/// Write what the buffer holds straight to file descriptor 1, allocating
/// nothing (the out-of-memory exit, base/heap_count.rs). If the buffer's
/// lock is taken — the refused allocation was the buffer's own growth —
/// its contents are left: they cannot be reached safely.
pub fn flush_stdout_without_allocating() {
    if stdout_failed().config_load() != 0 {
        return;
    }
    if let Ok(buf) = STDOUT_BUF.try_lock() {
        let _ = crate::base::heap_count::raw_fd(1).write_all(&buf);
    }
}

/// Write and empty `buf`; on failure the buffer is emptied too and the
/// failure recorded, so nothing retries it.
fn push_to_os(buf: &mut Vec<u8>) -> std::io::Result<()> {
    if buf.is_empty() {
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    let result = out.write_all(buf).and_then(|()| out.flush());
    buf.clear();
    if result.is_err() {
        stdout_failed().config_store(1);
    }
    result
}

/// End the program after a failed write to stdout (called without the
/// buffer's lock): quietly for a closed pipe, with an error otherwise.
#[cold]
fn stdout_write_failed(e: std::io::Error) -> ! {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        crate::base::stats::report_at_exit();
        std::process::exit(0);
    }
    let reason = e.to_string();
    let reason = reason.split(" (os error").next().unwrap_or(&reason);
    crate::base::raise::exit_with_error(&format!("cannot write to stdout: {reason}"), 0)
}

/// Make a write to a closed pipe fail with EPIPE instead of killing the
/// process with SIGPIPE (Rust's own `main` does this for `omnic`; an
/// executable's C `main` calls this at start-up).
pub fn ignore_sigpipe() {
    extern "C" {
        fn signal(signum: i32, handler: usize) -> usize;
    }
    const SIGPIPE: i32 = 13;
    const SIG_IGN: usize = 1;
    // SAFETY: setting a signal's disposition to SIG_IGN installs no handler
    // code and is async-signal-safe; SIGPIPE is 13 on Linux.
    unsafe {
        signal(SIGPIPE, SIG_IGN);
    }
}
