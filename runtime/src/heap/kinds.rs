//! The per-kind object metadata table: for every object kind, how to make a
//! same-shaped copy in another region (`clone`: fields still hold the old
//! values, payload buffers are copied) and how to visit every value slot of an
//! object, payload buffers included (`trace`).
//!
//! Transmigration is driven entirely by this table: there is no
//! shallow-copy default. A kind without an entry (struct, type, channel,
//! thread and error until their issues add them) is a loud failure naming
//! the kind, never a silent memcpy.

use crate::base::fatal::fatal;
use crate::base::value::{ObjKind, Value};
use crate::region::Region;

/// Visit every value slot of an object (payload buffers included).
pub type TraceFn = unsafe fn(Value, &mut dyn FnMut(*mut Value));
/// Same-shaped copy of an object into a region; fields keep the old values.
pub type CloneFn = unsafe fn(Value, *mut Region) -> Value;

/// The metadata of one object kind.
#[derive(Clone, Copy)]
pub struct KindMeta {
    pub kind: ObjKind,
    pub name: &'static str,
    pub trace: TraceFn,
    pub clone: CloneFn,
}

const fn entry(
    kind: ObjKind,
    name: &'static str,
    trace: TraceFn,
    clone: CloneFn,
) -> Option<KindMeta> {
    Some(KindMeta {
        kind,
        name,
        trace,
        clone,
    })
}

const fn build_table() -> [Option<KindMeta>; 256] {
    use crate::heap::dict::{clone_dict, trace_dict};
    use crate::heap::object::*;
    let mut t: [Option<KindMeta>; 256] = [None; 256];
    t[ObjKind::Pair as usize] = entry(ObjKind::Pair, "pair", trace_pair, clone_pair);
    t[ObjKind::Float as usize] = entry(ObjKind::Float, "float", trace_float, clone_float);
    t[ObjKind::String as usize] = entry(ObjKind::String, "string", trace_string, clone_string);
    t[ObjKind::Symbol as usize] = entry(ObjKind::Symbol, "symbol", trace_symbol, clone_symbol);
    t[ObjKind::Array as usize] = entry(ObjKind::Array, "array", trace_array, clone_array);
    t[ObjKind::Dict as usize] = entry(ObjKind::Dict, "dict", trace_dict, clone_dict);
    t[ObjKind::Closure as usize] = entry(ObjKind::Closure, "closure", trace_closure, clone_closure);
    t[ObjKind::Box as usize] = entry(ObjKind::Box, "box", trace_box, clone_box);
    t[ObjKind::Struct as usize] = entry(
        ObjKind::Struct,
        "struct",
        crate::heap::types::trace_struct,
        crate::heap::types::clone_struct,
    );
    t[ObjKind::Type as usize] = entry(
        ObjKind::Type,
        "type",
        crate::heap::types::trace_type,
        crate::heap::types::clone_type,
    );
    t[ObjKind::Channel as usize] = entry(
        ObjKind::Channel,
        "channel",
        crate::heap::handles::trace_handle,
        crate::heap::handles::clone_handle,
    );
    t[ObjKind::Thread as usize] = entry(
        ObjKind::Thread,
        "thread",
        crate::heap::handles::trace_handle,
        crate::heap::handles::clone_handle,
    );
    t[ObjKind::Error as usize] = entry(
        ObjKind::Error,
        "error",
        crate::heap::error_obj::trace_error,
        crate::heap::error_obj::clone_error,
    );
    t
}

static TABLE: [Option<KindMeta>; 256] = build_table();

/// Human name of a kind byte, whether or not it has metadata.
pub fn kind_name(kind: u8) -> &'static str {
    match kind {
        1 => "pair",
        2 => "float",
        3 => "string",
        4 => "symbol",
        5 => "array",
        6 => "dict",
        7 => "closure",
        8 => "box",
        9 => "struct",
        10 => "type",
        11 => "channel",
        12 => "thread",
        13 => "error",
        14 => "forwarded object",
        15 => "hold",
        _ => "unknown",
    }
}

/// Whether `kind` has metadata.
pub fn has_metadata(kind: u8) -> bool {
    TABLE[kind as usize].is_some()
}

/// The metadata of `kind`; aborts, naming the kind, if there is none.
#[inline]
pub fn metadata(kind: u8) -> &'static KindMeta {
    match &TABLE[kind as usize] {
        Some(m) => m,
        None => missing(kind),
    }
}

#[cold]
fn missing(kind: u8) -> ! {
    if kind == ObjKind::Forwarded as u8 {
        // Every walker resolves forwards before it traces or clones
        // (object::resolve); reaching here is a runtime bug.
        fatal(format_args!(
            "a forwarded object reached the metadata table without being resolved"
        ))
    }
    fatal(format_args!(
        "no object metadata (clone/trace) for object kind {} ({}); refusing to copy it shallowly",
        kind,
        kind_name(kind)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_existing_kind_has_metadata_and_the_rest_do_not() {
        for k in [
            ObjKind::Pair,
            ObjKind::Float,
            ObjKind::String,
            ObjKind::Symbol,
            ObjKind::Array,
            ObjKind::Dict,
        ] {
            assert!(has_metadata(k as u8), "{k:?}");
            assert_eq!(metadata(k as u8).kind, k);
        }
        for k in [ObjKind::Closure, ObjKind::Box] {
            assert_eq!(metadata(k as u8).name, kind_name(k as u8));
        }
        for k in [
            ObjKind::Struct,
            ObjKind::Type,
            ObjKind::Error,
            ObjKind::Channel,
            ObjKind::Thread,
        ] {
            assert_eq!(metadata(k as u8).name, kind_name(k as u8));
        }
        assert!(!has_metadata(0));
    }
}
