//! The OmniLisp runtime: tagged values, heap objects in regions, primitives,
//! printing and program start-up. Built as an rlib (linked into `omnic` for
//! the JIT) and as a staticlib (linked into every executable `omnic build`
//! writes).
//!
//! Every function generated code calls is `extern "C"` and `#[no_mangle]`;
//! `abi::runtime_symbols()` lists them all, with their addresses, for the JIT.
//!
//! The modules are floors, each importing only from the floors below it
//! (`runtime/tests/layering.rs` enforces this; docs/ARCHITECTURE.md
//! states each floor's invariant):
//!
//! ```text
//! base < region < heap < graph < control < prims < rt < abi
//! ```

// The unsafe discipline, made mechanical: every unsafe operation sits in an
// explicit `unsafe` block with a `// SAFETY:` comment, and every unsafe fn
// documents its contract in a `# Safety` section. Declared here rather than
// in Cargo.toml's `[lints]`, which would also bind the integration tests and
// benches (they call unsafe helpers freely inside unsafe test functions).
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks, clippy::missing_safety_doc)]

pub mod abi;
pub mod base;
pub mod control;
pub mod graph;
pub mod heap;
pub mod prims;
pub mod region;
pub mod rt;

// The flat module paths the compiler, the integration tests and the
// benches use (`omni_runtime::value::Value`, `omni_runtime::region::*`).
// Code inside the runtime names the floor (`crate::base::value`).
pub use base::{atomics, stats, value};
pub use control::{coroutine, thread};
pub use graph::{barrier, print, transmigrate};
pub use heap::{channel, dict, object, types};
pub use region::tether;
