//! Floor 1 of the runtime: what every other floor stands on. Value layouts
//! and tagging, the atomics policy (loom-switchable), the statistics
//! counters, `fatal`, buffered stdout, the per-thread stack-limit cell and
//! `raise` (the location table and the error exit path).
//!
//! Invariant: `base/` imports nothing from the crate outside `base/`.

pub mod atomics;
pub mod fatal;
pub mod heap_count;
pub mod raise;
pub mod stack;
pub mod stats;
pub mod stdout;
pub mod value;
