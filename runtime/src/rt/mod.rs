//! The top floor below the ABI table: what a running program needs around
//! generated code. `entry` starts the program (big-stack thread, stack
//! limit, command line) and holds the allocation helpers; `region_abi` is
//! the region entry points, which must tell the running coroutine about
//! every scope region they open or exit; `repl` runs the REPL's forms on
//! one program thread, catching their errors.

pub mod entry;
pub mod region_abi;
pub mod repl;
pub mod state_abi;

/// The driver records a JIT-run program's arguments here, beside `run_jit`.
pub use crate::prims::io::set_command_line_args;
pub use entry::*;
pub use region_abi::*;
