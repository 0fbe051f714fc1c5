//! Every symbol generated code may reference, with its address, so the JIT
//! can register them (the native executable links the staticlib instead,
//! where the same `#[no_mangle]` names resolve by the linker).

use crate::base::{raise, stack};
use crate::control::call;
use crate::graph::barrier;
use crate::prims::PRIMS;
use crate::rt::{self, region_abi};

/// `(symbol name, address)` for every primitive, support function and data
/// symbol of the runtime ABI.
pub fn runtime_symbols() -> Vec<(&'static str, usize)> {
    let mut syms: Vec<(&'static str, usize)> = PRIMS.iter().map(|d| (d.symbol, d.addr)).collect();
    syms.extend_from_slice(&[
        (
            "omni_rt_stack_limit_cell",
            stack::omni_rt_stack_limit_cell as *const () as usize,
        ),
        (
            "omni_region_create",
            region_abi::omni_region_create as *const () as usize,
        ),
        (
            "omni_region_create_at",
            region_abi::omni_region_create_at as *const () as usize,
        ),
        (
            "omni_region_exit",
            region_abi::omni_region_exit as *const () as usize,
        ),
        (
            "omni_region_retain",
            region_abi::omni_region_retain as *const () as usize,
        ),
        (
            "omni_region_release",
            region_abi::omni_region_release as *const () as usize,
        ),
        (
            "omni_rt_global_region",
            region_abi::omni_rt_global_region as *const () as usize,
        ),
        (
            "omni_rt_set_locs",
            raise::omni_rt_set_locs as *const () as usize,
        ),
        ("omni_rt_main", rt::omni_rt_main as *const () as usize),
        (
            "omni_rt_resolve",
            call::omni_rt_resolve as *const () as usize,
        ),
        (
            "omni_store_barrier",
            barrier::omni_store_barrier as *const () as usize,
        ),
        (
            "omni_global_store",
            barrier::omni_global_store as *const () as usize,
        ),
        (
            "omni_rt_set_merge_threshold",
            barrier::omni_rt_set_merge_threshold as *const () as usize,
        ),
        (
            "omni_rt_stack_overflow",
            rt::omni_rt_stack_overflow as *const () as usize,
        ),
        ("omni_alloc_cons", rt::omni_alloc_cons as *const () as usize),
        ("omni_alloc_box", rt::omni_alloc_box as *const () as usize),
        (
            "omni_alloc_closure",
            rt::omni_alloc_closure as *const () as usize,
        ),
        (
            "omni_alloc_array",
            rt::omni_alloc_array as *const () as usize,
        ),
        ("omni_alloc_dict", rt::omni_alloc_dict as *const () as usize),
        ("omni_make_float", rt::omni_make_float as *const () as usize),
        (
            "omni_make_string",
            rt::omni_make_string as *const () as usize,
        ),
        ("omni_intern", rt::omni_intern as *const () as usize),
        (
            "omni_rt_list_from_argv",
            rt::omni_rt_list_from_argv as *const () as usize,
        ),
        (
            "omni_rt_apply_unpack",
            call::omni_rt_apply_unpack as *const () as usize,
        ),
        (
            "omni_rt_call_variadic_list",
            call::omni_rt_call_variadic_list as *const () as usize,
        ),
        (
            "omni_rt_err_not_fn",
            call::omni_rt_err_not_fn as *const () as usize,
        ),
        (
            "omni_rt_err_unbound",
            call::omni_rt_err_unbound as *const () as usize,
        ),
        (
            "omni_rt_err_arity",
            call::omni_rt_err_arity as *const () as usize,
        ),
        (
            "omni_rt_set_apply_trampoline",
            call::omni_rt_set_apply_trampoline as *const () as usize,
        ),
    ]);
    syms
}

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
        ] {
            assert!(symbol_address(needed).is_some(), "{needed}");
        }
        assert_eq!(
            symbol_address("omni_prim_car"),
            crate::prims::lookup("car").map(|d| d.addr)
        );
    }
}
