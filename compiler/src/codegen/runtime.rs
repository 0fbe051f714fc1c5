//! The runtime functions generated code calls, with their C signatures.
//!
//! These mirror the "Runtime ABI" section of `docs/ARCHITECTURE.md`: region,
//! pointers, counts and values are 64-bit words, source locations (`loc`) are
//! 32-bit. Every one is a SystemV (platform default) import; the JIT resolves
//! it from `RUNTIME_SYMBOLS`, the linker from the runtime staticlib.
//! Primitives' signatures derive from their `PrimDesc::arity`.

use super::{CodegenError, Result};
use cranelift_codegen::ir::{types, AbiParam, Signature, Type};
use cranelift_module::Module;
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
    Main,
    RegionCreate,
    RegionExit,
    StoreBarrier,
    GlobalStore,
    SetApplyTrampoline,
}

impl RuntimeFn {
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
            RuntimeFn::Main => "omni_rt_main",
            RuntimeFn::RegionCreate => "omni_region_create_at",
            RuntimeFn::RegionExit => "omni_region_exit",
            RuntimeFn::StoreBarrier => "omni_store_barrier",
            RuntimeFn::GlobalStore => "omni_global_store",
            RuntimeFn::SetApplyTrampoline => "omni_rt_set_apply_trampoline",
        }
    }

    /// Parameter and result types of the C function.
    fn types(self) -> (&'static [Type], &'static [Type]) {
        match self {
            // (region, car, cdr) -> pair
            RuntimeFn::AllocCons => (&[W, W, W], &[W]),
            // (region, value) -> box
            RuntimeFn::AllocBox => (&[W, W], &[W]),
            // (region, code, apply, info, name) -> closure
            RuntimeFn::AllocClosure => (&[W, W, W, W, W], &[W]),
            // (region, argc, argv) -> array
            RuntimeFn::AllocArray => (&[W, W, W], &[W]),
            // (region, argc, argv, loc) -> dict
            RuntimeFn::AllocDict => (&[W, W, W, LOC], &[W]),
            // (region, f64 bits) -> float
            RuntimeFn::MakeFloat => (&[W, W], &[W]),
            // (region, ptr, len) -> string
            RuntimeFn::MakeString => (&[W, W, W], &[W]),
            // (ptr, len) -> symbol
            RuntimeFn::Intern => (&[W, W], &[W]),
            // (region, argc, argv) -> list
            RuntimeFn::ListFromArgv => (&[W, W, W], &[W]),
            // (closure, list, out, loc): checks the count, writes the args to out
            RuntimeFn::ApplyUnpack => (&[W, W, W, LOC], &[]),
            // (prim fn pointer, region, list, loc) -> value
            RuntimeFn::CallVariadicList => (&[W, W, W, LOC], &[W]),
            // (value, loc) -> never returns
            RuntimeFn::ErrNotFn => (&[W, LOC], &[]),
            // (value) -> the object it stands for (forwarding resolved)
            RuntimeFn::Resolve => (&[W], &[W]),
            // (name symbol, loc) -> never returns
            RuntimeFn::ErrUnbound => (&[W, LOC], &[]),
            // (loc) -> never returns
            RuntimeFn::StackOverflow => (&[LOC], &[]),
            // () -> region
            RuntimeFn::GlobalRegion => (&[], &[W]),
            // (ptr, len)
            RuntimeFn::SetLocs => (&[W, W], &[]),
            // (argc, argv, entry) -> exit status
            RuntimeFn::Main => (&[LOC, W, W], &[LOC]),
            // (site: the creating function's location) -> region
            RuntimeFn::RegionCreate => (&[LOC], &[W]),
            // (region)
            RuntimeFn::RegionExit => (&[W], &[]),
            // (container, value) -> value to store
            RuntimeFn::StoreBarrier => (&[W, W], &[W]),
            // (value) -> value to store into a global
            RuntimeFn::GlobalStore => (&[W], &[W]),
            // (address of the generated apply trampoline)
            RuntimeFn::SetApplyTrampoline => (&[W], &[]),
        }
    }

    /// The signature in the module's default (C) calling convention.
    pub fn signature<M: Module + ?Sized>(self, module: &M) -> Signature {
        let (params, returns) = self.types();
        let mut sig = module.make_signature();
        sig.params.extend(params.iter().map(|t| AbiParam::new(*t)));
        sig.returns
            .extend(returns.iter().map(|t| AbiParam::new(*t)));
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
