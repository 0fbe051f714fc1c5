//! The program's buffered stdout: `display`/`print` append to one buffer
//! that reaches the OS in large chunks, and is flushed at exit, before any
//! stderr output (the error path) and before reading stdin.

use std::io::Write;
use std::sync::Mutex;

/// Flush threshold: output reaches the OS in chunks of this size.
const STDOUT_CHUNK: usize = 64 << 10;

/// The program's one stdout buffer. Callers format first and append under
/// the lock, so no error is ever raised while it is held.
static STDOUT_BUF: Mutex<Vec<u8>> = Mutex::new(Vec::new());

/// Append text to buffered stdout.
pub fn write_stdout(s: &str) {
    let mut buf = STDOUT_BUF.lock().unwrap_or_else(|e| e.into_inner());
    buf.extend_from_slice(s.as_bytes());
    if buf.len() >= STDOUT_CHUNK {
        let mut out = std::io::stdout().lock();
        // Write errors (closed pipe) are ignored: output is best effort.
        let _ = out.write_all(&buf);
        let _ = out.flush();
        buf.clear();
    }
}

/// Push buffered stdout to the OS (at exit, before stderr output, before
/// reading stdin).
pub fn flush_stdout() {
    let mut buf = STDOUT_BUF.lock().unwrap_or_else(|e| e.into_inner());
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(&buf);
    let _ = out.flush();
    buf.clear();
}
