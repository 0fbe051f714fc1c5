//! The compiler's stages (docs/ARCHITECTURE.md): every file of
//! `compiler/src` belongs to a stage by its path, and may name (`crate::x`)
//! only its own stage or an earlier one, so the stages stay a pipeline
//! (syntax < expand < diag < ir < ctrr < codegen < lsp < driver) and each can be
//! read and tested without the later ones. The compiler is one crate, so
//! the rule is checked here, as runtime/tests/layering.rs checks the
//! runtime's floors.

#[path = "../../tests/support/layers.rs"]
mod layers;

use layers::Layers;
use std::path::Path;

/// The stages, earliest first; a name is the module path segment after
/// `crate::`.
const STAGES: Layers = Layers {
    names: &[
        "syntax", "fmt", "expand", "diag", "ir", "ctrr", "codegen", "lsp", "driver",
    ],
    root: "main",
    what: "stage",
    higher: "a later stage",
    unknown: "names no stage",
    exceptions: &[],
};

#[test]
fn every_crate_path_names_its_own_stage_or_an_earlier_one() {
    let bad = STAGES.check_tree(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    assert!(
        bad.is_empty(),
        "upward imports in compiler/src (stages, earliest first: {:?}):\n{}",
        STAGES.names,
        bad.join("\n")
    );
}

#[test]
fn the_checker_sees_upward_paths_in_every_form() {
    let ir = STAGES.names.iter().position(|f| *f == "ir").unwrap();
    let rel = Path::new("ir/example.rs");
    let text = "use crate::syntax::Span;\n\
                use crate::{diag::SourceMap, ctrr::run};\n\
                fn f() { crate::codegen::compile(); } // crate::driver in a comment\n\
                use crate::diag::Diagnostic;\n\
                use crate::Span;\n";
    let bad = STAGES.check_text(rel, ir, text);
    let lines: Vec<&str> = bad.iter().map(|b| b.split(": ").next().unwrap()).collect();
    assert_eq!(
        lines,
        ["ir/example.rs:2", "ir/example.rs:3", "ir/example.rs:5"],
        "{bad:#?}"
    );
    assert!(bad[0].contains("`crate::ctrr`"), "{bad:#?}");
    // Every stage is held to the rule (there are no exceptions).
    let expand = STAGES.names.iter().position(|f| *f == "expand").unwrap();
    let text = "use crate::diag::SourceMap;\n";
    assert_eq!(
        STAGES
            .check_text(Path::new("expand/mod.rs"), expand, text)
            .len(),
        1
    );
}
