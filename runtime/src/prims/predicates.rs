//! Type predicates (`int? float? number? string? symbol? char? bool?
//! nothing? array? dict? fn?`): each takes any value and answers `true` or
//! `false`, never an error. `fn?` is true for everything a call accepts as
//! a function: closures, primitives used as values (wrapper closures) and
//! generic functions (dispatcher closures).

use super::{prim_fixed, R};
use crate::base::value::*;
use crate::heap::dict::is_dict;
use crate::heap::object::*;

/// The test of the predicate named `name` (None for another name).
pub fn predicate(name: &str) -> Option<fn(Value) -> bool> {
    Some(match name {
        "int?" => is_int,
        "float?" => is_float,
        "number?" => |v| is_int(v) || is_float(v),
        "string?" => is_string,
        "symbol?" => is_symbol,
        "char?" => is_char,
        "bool?" => |v| v == TRUE || v == FALSE,
        "nothing?" => |v| v == NOTHING,
        "array?" => is_array,
        "dict?" => is_dict,
        "fn?" => is_closure,
        _ => return None,
    })
}

fn answer(name: &str, v: Value) -> R {
    let test = predicate(name).expect("every predicate primitive has a test");
    Ok(make_bool(test(v)))
}

prim_fixed!(omni_prim_int_p(v) => |_, v| answer("int?", v));
prim_fixed!(omni_prim_float_p(v) => |_, v| answer("float?", v));
prim_fixed!(omni_prim_number_p(v) => |_, v| answer("number?", v));
prim_fixed!(omni_prim_string_p(v) => |_, v| answer("string?", v));
prim_fixed!(omni_prim_symbol_p(v) => |_, v| answer("symbol?", v));
prim_fixed!(omni_prim_char_p(v) => |_, v| answer("char?", v));
prim_fixed!(omni_prim_bool_p(v) => |_, v| answer("bool?", v));
prim_fixed!(omni_prim_nothing_p(v) => |_, v| answer("nothing?", v));
prim_fixed!(omni_prim_array_p(v) => |_, v| answer("array?", v));
prim_fixed!(omni_prim_dict_p(v) => |_, v| answer("dict?", v));
prim_fixed!(omni_prim_fn_p(v) => |_, v| answer("fn?", v));

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prims::{new_array, new_float, new_list, new_string};
    use crate::region::region_create;

    #[test]
    fn each_predicate_accepts_only_its_kind() {
        let r = region_create();
        let values = [
            ("int?", make_int(3)),
            ("float?", new_float(r, 1.5)),
            ("string?", new_string(r, "s")),
            ("symbol?", intern("s")),
            ("char?", make_char('c')),
            ("bool?", FALSE),
            ("nothing?", NOTHING),
            ("array?", new_array(r, &[])),
            // SAFETY: `r` is a live region of this thread.
            ("dict?", unsafe { crate::heap::dict::alloc_dict(r, 0) }),
        ];
        for (name, _) in values {
            let test = predicate(name).unwrap();
            for (other, v) in values {
                assert_eq!(test(v), name == other, "({name} <{other}>)");
            }
            assert!(!test(new_list(r, &[make_int(1)])), "{name} of a list");
        }
        let number = predicate("number?").unwrap();
        assert!(number(make_int(1)) && number(new_float(r, 2.0)) && !number(NIL));
        assert!(predicate("bool?").unwrap()(TRUE));
        assert!(!predicate("fn?").unwrap()(make_int(1)));
        assert!(predicate("pair?").is_none());
    }
}
