//! The runtime functions generated code calls, with their C signatures.
//!
//! The signatures are not written here: they derive from the runtime's one
//! table of support routines (`omni_runtime::abi::RT_FNS`: symbol, address,
//! parameter and result types; regions, pointers, counts and values are
//! 64-bit words, source locations 32-bit) and, for primitives, from
//! `PrimDesc::arity`. Every one is a SystemV (platform default) import; the
//! JIT resolves it from `omni_runtime::abi::runtime_symbols()`, the linker
//! from the runtime staticlib.

use super::{CodegenError, Result};
use cranelift_codegen::ir::{types, AbiParam, Signature, Type};
use cranelift_module::Module;
use omni_runtime::abi::{AbiType, RtFn};
use omni_runtime::prims::{PrimArity, PrimDesc};

const W: Type = types::I64;
const LOC: Type = types::I32;

/// A runtime support function (not a primitive).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RuntimeFn {
    AllocCons,
    AllocBox,
    AllocClosure,
    AllocArray,
    AllocDict,
    MakeFloat,
    MakeString,
    Intern,
    ListFromArgv,
    ApplyUnpack,
    CallVariadicList,
    ErrNotFn,
    Resolve,
    ErrUnbound,
    StackOverflow,
    GlobalRegion,
    SetLocs,
    SetCodeTable,
    Main,
    RegionCreate,
    RegionExit,
    RegionRecycle,
    CarryRenew,
    CarryEnd,
    StoreBarrier,
    SetApplyTrampoline,
    StateRegion,
    RegisterGlobals,
    StateSafepoint,
    GlobalSet,
    StatePin,
    StatePinRegion,
    StateUnpin,
    StateRepin,
    StateHoldValue,
    StateRefresh,
    StoreRegion,
    FieldGet,
    FieldPut,
    Dispatch1,
    Dispatch2,
    Dispatch3,
}

impl RuntimeFn {
    /// The call forwards no object and changes no array's payload or
    /// length (allocation, interning, region and pin bookkeeping), so an
    /// array checked before it is still one after it (`checked_arrays` in
    /// function.rs). Store barriers, refreshes, renewals and region exits
    /// are not.
    pub fn forwards_nothing(self) -> bool {
        matches!(
            self,
            RuntimeFn::AllocCons
                | RuntimeFn::AllocBox
                | RuntimeFn::AllocClosure
                | RuntimeFn::AllocArray
                | RuntimeFn::AllocDict
                | RuntimeFn::MakeFloat
                | RuntimeFn::MakeString
                | RuntimeFn::Intern
                | RuntimeFn::ListFromArgv
                | RuntimeFn::Resolve
                | RuntimeFn::GlobalRegion
                | RuntimeFn::RegionCreate
                | RuntimeFn::StateRegion
                | RuntimeFn::StatePin
                | RuntimeFn::StatePinRegion
                | RuntimeFn::StateHoldValue
                | RuntimeFn::StoreRegion
                | RuntimeFn::FieldGet
                | RuntimeFn::Dispatch1
                | RuntimeFn::Dispatch2
                | RuntimeFn::Dispatch3
        )
    }

    /// The exported symbol name.
    pub fn symbol(self) -> &'static str {
        match self {
            RuntimeFn::AllocCons => "omni_alloc_cons",
            RuntimeFn::AllocBox => "omni_alloc_box",
            RuntimeFn::AllocClosure => "omni_alloc_closure",
            RuntimeFn::AllocArray => "omni_alloc_array",
            RuntimeFn::AllocDict => "omni_alloc_dict",
            RuntimeFn::MakeFloat => "omni_make_float",
            RuntimeFn::MakeString => "omni_make_string",
            RuntimeFn::Intern => "omni_intern",
            RuntimeFn::ListFromArgv => "omni_rt_list_from_argv",
            RuntimeFn::ApplyUnpack => "omni_rt_apply_unpack",
            RuntimeFn::CallVariadicList => "omni_rt_call_variadic_list",
            RuntimeFn::ErrNotFn => "omni_rt_err_not_fn",
            RuntimeFn::Resolve => "omni_rt_resolve",
            RuntimeFn::ErrUnbound => "omni_rt_err_unbound",
            RuntimeFn::StackOverflow => "omni_rt_stack_overflow",
            RuntimeFn::GlobalRegion => "omni_rt_global_region",
            RuntimeFn::SetLocs => "omni_rt_set_locs",
            RuntimeFn::SetCodeTable => "omni_rt_set_code_table",
            RuntimeFn::Main => "omni_rt_main",
            RuntimeFn::RegionCreate => "omni_region_create_at",
            RuntimeFn::RegionExit => "omni_region_exit",
            RuntimeFn::RegionRecycle => "omni_region_recycle",
            RuntimeFn::CarryRenew => "omni_carry_renew",
            RuntimeFn::CarryEnd => "omni_carry_end",
            RuntimeFn::StoreBarrier => "omni_store_barrier",
            RuntimeFn::SetApplyTrampoline => "omni_rt_set_apply_trampoline",
            RuntimeFn::StateRegion => "omni_rt_state_region",
            RuntimeFn::RegisterGlobals => "omni_rt_register_globals",
            RuntimeFn::StateSafepoint => "omni_state_safepoint",
            RuntimeFn::GlobalSet => "omni_global_set",
            RuntimeFn::StatePin => "omni_state_pin_word",
            RuntimeFn::StatePinRegion => "omni_state_pin_region",
            RuntimeFn::StateUnpin => "omni_state_unpin",
            RuntimeFn::StateRepin => "omni_state_repin",
            RuntimeFn::StateHoldValue => "omni_state_hold_value",
            RuntimeFn::StateRefresh => "omni_state_refresh",
            RuntimeFn::StoreRegion => "omni_store_region",
            RuntimeFn::FieldGet => "omni_field_get",
            RuntimeFn::FieldPut => "omni_field_put",
            RuntimeFn::Dispatch1 => "omni_dispatch1",
            RuntimeFn::Dispatch2 => "omni_dispatch2",
            RuntimeFn::Dispatch3 => "omni_dispatch3",
        }
    }

    /// Every routine (for the test that each is in the runtime's table).
    #[cfg(test)]
    pub const ALL: &'static [RuntimeFn] = &[
        RuntimeFn::AllocCons,
        RuntimeFn::AllocBox,
        RuntimeFn::AllocClosure,
        RuntimeFn::AllocArray,
        RuntimeFn::AllocDict,
        RuntimeFn::MakeFloat,
        RuntimeFn::MakeString,
        RuntimeFn::Intern,
        RuntimeFn::ListFromArgv,
        RuntimeFn::ApplyUnpack,
        RuntimeFn::CallVariadicList,
        RuntimeFn::ErrNotFn,
        RuntimeFn::Resolve,
        RuntimeFn::ErrUnbound,
        RuntimeFn::StackOverflow,
        RuntimeFn::GlobalRegion,
        RuntimeFn::SetLocs,
        RuntimeFn::SetCodeTable,
        RuntimeFn::Main,
        RuntimeFn::RegionCreate,
        RuntimeFn::RegionExit,
        RuntimeFn::RegionRecycle,
        RuntimeFn::CarryRenew,
        RuntimeFn::CarryEnd,
        RuntimeFn::StoreBarrier,
        RuntimeFn::SetApplyTrampoline,
        RuntimeFn::StateRegion,
        RuntimeFn::RegisterGlobals,
        RuntimeFn::StateSafepoint,
        RuntimeFn::GlobalSet,
        RuntimeFn::StatePin,
        RuntimeFn::StatePinRegion,
        RuntimeFn::StateUnpin,
        RuntimeFn::StateRepin,
        RuntimeFn::StateHoldValue,
        RuntimeFn::StateRefresh,
        RuntimeFn::StoreRegion,
        RuntimeFn::FieldGet,
        RuntimeFn::FieldPut,
        RuntimeFn::Dispatch1,
        RuntimeFn::Dispatch2,
        RuntimeFn::Dispatch3,
    ];

    /// The runtime's description of the routine (`omni_runtime::abi::RT_FNS`:
    /// symbol, address and C signature in one place).
    fn desc(self) -> &'static RtFn {
        omni_runtime::abi::rt_fn(self.symbol()).unwrap_or_else(|| {
            panic!(
                "runtime routine `{}` is not in omni_runtime::abi::RT_FNS",
                self.symbol()
            )
        })
    }

    /// The signature in the module's default (C) calling convention.
    pub fn signature<M: Module + ?Sized>(self, module: &M) -> Signature {
        let clif = |t: &AbiType| {
            AbiParam::new(match t {
                AbiType::Word => W,
                AbiType::Loc => LOC,
            })
        };
        let d = self.desc();
        let mut sig = module.make_signature();
        sig.params.extend(d.params.iter().map(clif));
        sig.returns.extend(d.returns.iter().map(clif));
        sig
    }
}

/// The descriptor of the primitive an IR `Prim` names.
pub fn prim_by_id(prim: omni_runtime::prims::PrimId) -> Result<&'static PrimDesc> {
    prim.get().ok_or_else(|| {
        CodegenError::new(format!(
            "primitive index {} is outside the runtime's table",
            prim.0
        ))
    })
}

/// Look up a primitive by its OmniLisp name.
pub fn prim(name: &str) -> Result<&'static PrimDesc> {
    omni_runtime::prims::lookup(name)
        .ok_or_else(|| CodegenError::new(format!("unknown runtime primitive `{name}`")))
}

/// The C signature of a primitive:
/// fixed `(region, a1..an, loc) -> value`, variadic
/// `(region, argc, argv, loc) -> value`.
pub fn prim_signature<M: Module + ?Sized>(module: &M, desc: &PrimDesc) -> Signature {
    let mut sig = module.make_signature();
    sig.params.push(AbiParam::new(W));
    match desc.arity {
        PrimArity::Fixed(n) => {
            sig.params
                .extend(std::iter::repeat_n(AbiParam::new(W), n as usize));
        }
        PrimArity::Variadic { .. } => {
            sig.params.push(AbiParam::new(W));
            sig.params.push(AbiParam::new(W));
        }
    }
    sig.params.push(AbiParam::new(LOC));
    sig.returns.push(AbiParam::new(W));
    sig
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every routine the code generator imports is in the runtime's table,
    /// so its signature is derived, never written twice.
    #[test]
    fn every_routine_is_in_the_runtime_table() {
        for f in RuntimeFn::ALL {
            let d = f.desc();
            assert_eq!(d.symbol, f.symbol());
            assert_ne!(d.addr, 0, "{}", d.symbol);
        }
    }
}
