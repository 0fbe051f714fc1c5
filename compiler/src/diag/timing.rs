//! `OMNI_TIME_PASSES=1`: the wall time of each compiler stage on stderr,
//! for finding where a slow build spends its time (the compile-time
//! benchmark, docs/BENCH_PROTOCOL.md). Off, a stage costs one relaxed
//! atomic load.

use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

/// 0: not read yet, 1: off, 2: on.
static ENABLED: AtomicU8 = AtomicU8::new(0);

/// Is `OMNI_TIME_PASSES` set to something other than empty or `0`?
pub(crate) fn enabled() -> bool {
    match ENABLED.load(Ordering::Relaxed) {
        0 => {
            let on =
                std::env::var_os("OMNI_TIME_PASSES").is_some_and(|v| !v.is_empty() && v != "0");
            ENABLED.store(if on { 2 } else { 1 }, Ordering::Relaxed);
            on
        }
        state => state == 2,
    }
}

/// Print one stage's time (`omnic: time NAME  12.3 ms`) when enabled.
pub(crate) fn report(stage: &str, took: Duration) {
    if enabled() {
        eprintln!(
            "omnic: time {stage:<28} {:8.1} ms",
            took.as_secs_f64() * 1e3
        );
    }
}

/// Run `body` and report its wall time as `stage`.
pub(crate) fn time<R>(stage: &str, body: impl FnOnce() -> R) -> R {
    if !enabled() {
        return body();
    }
    let start = Instant::now();
    let result = body();
    report(stage, start.elapsed());
    result
}

/// Adds up the time of many short intervals of one stage (translating
/// each function, say) and reports the sum when dropped.
pub(crate) struct Total {
    stage: &'static str,
    sum: Duration,
    on: bool,
}

impl Total {
    pub(crate) fn new(stage: &'static str) -> Total {
        Total {
            stage,
            sum: Duration::ZERO,
            on: enabled(),
        }
    }

    /// Run `body`, adding its wall time to the total.
    pub(crate) fn time<R>(&mut self, body: impl FnOnce() -> R) -> R {
        if !self.on {
            return body();
        }
        let start = Instant::now();
        let result = body();
        self.sum += start.elapsed();
        result
    }
}

impl Drop for Total {
    fn drop(&mut self) {
        if self.on {
            report(self.stage, self.sum);
        }
    }
}
