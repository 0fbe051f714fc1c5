//! Floor 4: algorithms over object graphs, driven by the kind table of
//! `heap/kinds.rs`: transmigration (copying a graph into another region),
//! the store barrier (keeping pointers flowing from younger to older
//! regions), and the printer.
//!
//! Invariant: `graph/` never switches stacks, starts threads or calls
//! generated code.

pub mod barrier;
pub mod print;
pub mod state;
pub mod transmigrate;
