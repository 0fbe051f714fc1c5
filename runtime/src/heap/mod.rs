//! Floor 3: object layouts and their accessors, one file per family of
//! kinds (pairs, strings, symbols, closures, arrays and boxes in
//! `object.rs`; dicts; types and structs; error objects; channel and thread
//! handles), and `kinds.rs`, the per-kind metadata table (trace, clone)
//! that transmigration and the store barrier walk objects with.
//!
//! Invariant: `heap/` allocates in regions but never calls the store
//! barrier, the printer, transmigration or anything that runs code.

pub mod channel;
pub mod dict;
pub mod error_obj;
pub mod handles;
pub mod kinds;
pub mod object;
pub mod types;
