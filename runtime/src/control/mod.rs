//! Floor 5: control flow that leaves the ordinary call stack. Calling
//! closures from runtime code (`call.rs`, the apply trampoline and the
//! call-site errors), stackful coroutines (`try`/`catch`, effect handlers)
//! and threads with the cross-thread handoff.
//!
//! Invariant: `control/` implements mechanisms, not primitives: nothing
//! here is in the primitive table.

pub mod backtrace;
pub mod call;
pub mod coroutine;
pub mod thread;
