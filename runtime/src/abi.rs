//! Every symbol generated code may reference, with its address, so the JIT
//! can register them (the native executable links the staticlib instead,
//! where the same `#[no_mangle]` names resolve by the linker).

use crate::base::{raise, stack};
use crate::control::{backtrace, call};
use crate::graph::barrier;
use crate::prims::{access, types, PRIMS};
use crate::rt::{self, region_abi, state_abi};
use std::sync::LazyLock;

/// An argument or result of a runtime routine in the C ABI.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AbiType {
    /// A 64-bit word: a value, a region or other pointer, a count.
    Word,
    /// A 32-bit source location (an index into the location table).
    Loc,
}

/// A runtime support routine generated code calls (the primitives are in
/// `prims::PRIMS`): the one place that gives its symbol, address and C
/// signature. The code generator derives its imports' signatures from it
/// (Cranelift's `LibCall::signature` habit), the JIT registers the
/// addresses, the linker resolves the same `#[no_mangle]` symbols.
#[derive(Clone, Copy, Debug)]
pub struct RtFn {
    pub symbol: &'static str,
    pub addr: usize,
    pub params: &'static [AbiType],
    pub returns: &'static [AbiType],
}

macro_rules! rt_fn {
    ($path:path, [$($p:ident),*] -> [$($r:ident),*]) => {
        RtFn {
            symbol: {
                let path = stringify!($path);
                // `stringify!(module::omni_x)` → the bare symbol name.
                match path.rfind("::") {
                    Some(i) => path.split_at(i + 2).1,
                    None => path,
                }
            },
            addr: $path as *const () as usize,
            params: &[$(AbiType::$p),*],
            returns: &[$(AbiType::$r),*],
        }
    };
}

/// Every runtime support routine. (A `LazyLock` because function addresses
/// cannot be cast to integers in a constant initialiser.)
pub static RT_FNS: LazyLock<Vec<RtFn>> = LazyLock::new(|| {
    vec![
        // () -> the running thread's stack-limit cell
        rt_fn!(stack::omni_rt_stack_limit_cell, [] -> [Word]),
        rt_fn!(region_abi::omni_region_create, [] -> [Word]),
        // (site: the creating function's location) -> region
        rt_fn!(region_abi::omni_region_create_at, [Loc] -> [Word]),
        rt_fn!(region_abi::omni_region_exit, [Word] -> []),
        rt_fn!(region_abi::omni_region_recycle, [Word] -> [Word]),
        rt_fn!(region_abi::omni_region_retain, [Word] -> []),
        rt_fn!(region_abi::omni_region_release, [Word] -> []),
        rt_fn!(region_abi::omni_rt_global_region, [] -> [Word]),
        // the global state (graph/state.rs)
        rt_fn!(state_abi::omni_rt_state_region, [] -> [Word]),
        // (slots, count)
        rt_fn!(state_abi::omni_rt_register_globals, [Word, Word] -> []),
        rt_fn!(state_abi::omni_state_safepoint, [] -> []),
        // (slot, value, barrier?, loc)
        rt_fn!(state_abi::omni_global_set, [Word, Word, Word, Loc] -> []),
        // (pins, value) -> pins; (pins, region) -> pins; (pins)
        rt_fn!(state_abi::omni_state_pin_region, [Word, Word] -> [Word]),
        rt_fn!(state_abi::omni_state_unpin, [Word] -> []),
        rt_fn!(state_abi::omni_state_repin, [Word] -> []),
        rt_fn!(state_abi::omni_state_pin_word, [Word, Word] -> []),
        // (holder, value)
        rt_fn!(state_abi::omni_state_hold_value, [Word, Word] -> []),
        // (value) -> the value, moved out of a retired version
        rt_fn!(state_abi::omni_state_refresh, [Word] -> [Word]),
        rt_fn!(state_abi::omni_store_region, [Word, Word] -> [Word]),
        // (result region, carry state, words): a loop's back edge and exit
        rt_fn!(region_abi::omni_carry_renew, [Word, Word, Word] -> []),
        rt_fn!(region_abi::omni_carry_end, [Word, Word, Word] -> []),
        // (ptr, len) of the location table
        rt_fn!(raise::omni_rt_set_locs, [Word, Word] -> []),
        // (table) of code addresses and call sites (codegen/code_table.rs)
        rt_fn!(backtrace::omni_rt_set_code_table, [Word] -> []),
        // (argc, argv, entry) -> exit status
        rt_fn!(rt::omni_rt_main, [Loc, Word, Word] -> [Loc]),
        // (value) -> the object it stands for (forwarding resolved)
        rt_fn!(call::omni_rt_resolve, [Word] -> [Word]),
        // (container, value) -> the value to store
        rt_fn!(barrier::omni_store_barrier, [Word, Word] -> [Word]),
        // (table, name, a0 [a1 [a2]], loc) -> the selected method's number
        rt_fn!(types::omni_dispatch1, [Word, Word, Word, Loc] -> [Word]),
        rt_fn!(types::omni_dispatch2, [Word, Word, Word, Word, Loc] -> [Word]),
        rt_fn!(types::omni_dispatch3, [Word, Word, Word, Word, Word, Loc] -> [Word]),
        // (value) -> the value to store into a global
        rt_fn!(barrier::omni_global_store, [Word] -> [Word]),
        rt_fn!(barrier::omni_rt_set_merge_threshold, [Word] -> []),
        // (loc) -> never returns
        rt_fn!(rt::omni_rt_stack_overflow, [Loc] -> []),
        // (region, car, cdr) -> pair
        rt_fn!(rt::omni_alloc_cons, [Word, Word, Word] -> [Word]),
        // (region, value) -> box
        rt_fn!(rt::omni_alloc_box, [Word, Word] -> [Word]),
        // (region, code, apply, info, name) -> closure
        rt_fn!(rt::omni_alloc_closure, [Word, Word, Word, Word, Word] -> [Word]),
        // (region, argc, argv) -> array
        rt_fn!(rt::omni_alloc_array, [Word, Word, Word] -> [Word]),
        // (region, argc, argv, loc) -> dict
        rt_fn!(rt::omni_alloc_dict, [Word, Word, Word, Loc] -> [Word]),
        // (region, f64 bits) -> float
        rt_fn!(rt::omni_make_float, [Word, Word] -> [Word]),
        // (region, ptr, len) -> string
        rt_fn!(rt::omni_make_string, [Word, Word, Word] -> [Word]),
        // (ptr, len) -> symbol
        rt_fn!(rt::omni_intern, [Word, Word] -> [Word]),
        // (region, argc, argv) -> list
        rt_fn!(rt::omni_rt_list_from_argv, [Word, Word, Word] -> [Word]),
        // (closure, list, out, loc): checks the count, writes the args to out
        rt_fn!(call::omni_rt_apply_unpack, [Word, Word, Word, Loc] -> []),
        // (prim fn pointer, region, list, loc) -> value
        rt_fn!(call::omni_rt_call_variadic_list, [Word, Word, Word, Loc] -> [Word]),
        // (value, loc) -> never returns
        rt_fn!(call::omni_rt_err_not_fn, [Word, Loc] -> []),
        // (name symbol, loc) -> never returns
        rt_fn!(call::omni_rt_err_unbound, [Word, Loc] -> []),
        // (closure, argument count, loc) -> never returns
        rt_fn!(call::omni_rt_err_arity, [Word, Word, Loc] -> []),
        // (address of the generated apply trampoline)
        rt_fn!(call::omni_rt_set_apply_trampoline, [Word] -> []),
        // (object, key symbol, field cache word, region or null, loc) -> value
        rt_fn!(access::omni_field_get, [Word, Word, Word, Word, Loc] -> [Word]),
        // (object, key symbol, value, field cache word, loc) -> nothing
        rt_fn!(access::omni_field_put, [Word, Word, Word, Word, Loc] -> [Word]),
    ]
});

/// The support routine named `symbol`.
pub fn rt_fn(symbol: &str) -> Option<&'static RtFn> {
    RT_FNS.iter().find(|f| f.symbol == symbol)
}

/// `(symbol name, address)` for every primitive and support routine of the
/// runtime ABI, and the data generated code reads ([`RT_DATA`]).
pub fn runtime_symbols() -> Vec<(&'static str, usize)> {
    PRIMS
        .iter()
        .map(|d| (d.symbol, d.addr))
        .chain(RT_FNS.iter().map(|f| (f.symbol, f.addr)))
        .chain(RT_DATA.iter().map(|&(name, addr)| (name, addr())))
        .collect()
}

/// A runtime data word: its symbol and a function answering its address.
pub type RtData = (&'static str, fn() -> usize);

/// The runtime's data words generated code reads by symbol: the version of
/// the method tables, which a type's dispatch cache must match
/// (prims/types.rs, "type dispatch caches"); the current version of the
/// global-state region and its renewal limit, which a refresh and a safe
/// point test before calling (graph/state.rs).
pub const RT_DATA: &[RtData] = &[
    ("omni_methods_version", || {
        &crate::prims::types::METHODS_VERSION as *const _ as usize
    }),
    (
        "omni_state_current",
        crate::graph::state::current_version_word,
    ),
    ("omni_state_limit", crate::graph::state::renewal_limit_word),
];

/// The address of one runtime symbol.
pub fn symbol_address(name: &str) -> Option<usize> {
    runtime_symbols()
        .into_iter()
        .find(|&(n, _)| n == name)
        .map(|(_, a)| a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols_are_unique_and_complete() {
        let syms = runtime_symbols();
        let mut seen = std::collections::HashSet::new();
        for &(name, addr) in &syms {
            assert!(seen.insert(name), "duplicate {name}");
            assert_ne!(addr, 0, "{name}");
        }
        for needed in [
            "omni_rt_stack_limit_cell",
            "omni_prim_add2",
            "omni_prim_car",
            "omni_rt_apply_unpack",
            "omni_rt_main",
            "omni_methods_version",
        ] {
            assert!(symbol_address(needed).is_some(), "{needed}");
        }
        assert_eq!(
            symbol_address("omni_prim_car"),
            crate::prims::lookup("car").map(|d| d.addr)
        );
    }
}
