//! The runtime's floors (docs/ARCHITECTURE.md, "The runtime"): every file of
//! `runtime/src` belongs to a floor by its path, and may name (`crate::x`,
//! in a `use` or inline, `$crate::x` in a macro) only its own floor or a
//! lower one. A separate crate per floor would let Cargo enforce this, but
//! the plain-`rustc` staticlib build (`compiler/build.rs`) compiles the
//! runtime as one crate, so the rule is checked here, the way
//! rust-analyzer's `tidy.rs` checks its own.

#[path = "../../tests/support/layers.rs"]
mod layers;

use layers::Layers;
use std::path::Path;

/// The floors, lowest first; a name is the module path segment after `crate::`.
const FLOORS: Layers = Layers {
    names: &[
        "base", "region", "heap", "graph", "control", "prims", "rt", "abi",
    ],
    root: "lib",
    what: "floor",
    higher: "a higher floor",
    unknown: "names no floor; write the floor path",
    exceptions: &[],
};

#[test]
fn every_crate_path_names_its_own_floor_or_a_lower_one() {
    let bad = FLOORS.check_tree(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    assert!(
        bad.is_empty(),
        "upward imports in runtime/src (floors, lowest first: {:?}):\n{}",
        FLOORS.names,
        bad.join("\n")
    );
}

#[test]
fn the_checker_sees_upward_paths_in_every_form() {
    let heap = FLOORS.names.iter().position(|f| *f == "heap").unwrap();
    let rel = Path::new("heap/example.rs");
    let text = "use crate::base::value::Value;\n\
                use crate::{region::Region, rt::entry};\n\
                fn f() { crate::graph::print::display_string(0); } // crate::rt in a comment\n\
                macro_rules! m { () => { $crate::control::call::args } }\n\
                const S: &str = \"// crate::rt in a string is still code-like\";\n\
                use crate::value::Value;\n";
    let bad = FLOORS.check_text(rel, heap, text);
    let lines: Vec<&str> = bad.iter().map(|b| b.split(": ").next().unwrap()).collect();
    assert_eq!(
        lines,
        [
            "heap/example.rs:2",
            "heap/example.rs:3",
            "heap/example.rs:4",
            "heap/example.rs:5",
            "heap/example.rs:6"
        ],
        "{bad:#?}"
    );
    assert!(bad[0].contains("`crate::rt`"), "{bad:#?}");
}
