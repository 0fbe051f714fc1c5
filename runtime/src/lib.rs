//! The OmniLisp runtime: tagged values, heap objects in regions, primitives,
//! printing and program start-up. Built as an rlib (linked into `omnic` for
//! the JIT) and as a staticlib (linked into every executable `omnic build`
//! writes).
//!
//! Every function generated code calls is `extern "C"` and `#[no_mangle]`;
//! `abi::runtime_symbols()` lists them all, with their addresses, for the JIT.

pub mod abi;
pub mod atomics;
pub mod barrier;
pub mod channel;
pub mod coroutine;
pub mod dict;
pub mod effects;
pub mod error;
pub mod metadata;
pub mod object;
pub mod prims;
pub mod print;
pub mod region;
pub mod rt;
pub mod stats;
pub mod tether;
pub mod thread;
pub mod transmigrate;
pub mod types;
pub mod value;
