//! The tree-sitter grammar of OmniLisp, for editors and tools: the
//! [`LANGUAGE`] to hand to a `tree_sitter::Parser`, and the highlight
//! query and node types that go with it.
//!
//! The grammar (`grammar.js`, the generated `src/parser.c` and the external
//! scanner `src/scanner.c`) accepts exactly the text the compiler's reader
//! accepts; the tests parse every `.omni` file of the repository.
//!
//! ```
//! let mut parser = tree_sitter::Parser::new();
//! parser
//!     .set_language(&tree_sitter_omnilisp::LANGUAGE.into())
//!     .expect("the parser's ABI matches the tree-sitter crate");
//! let tree = parser.parse("(define square x (* x x))", None).unwrap();
//! assert!(!tree.root_node().has_error());
//! ```

use tree_sitter_language::LanguageFn;

extern "C" {
    fn tree_sitter_omnilisp() -> *const ();
}

/// The OmniLisp language, convertible into a `tree_sitter::Language`.
// SAFETY: `tree_sitter_omnilisp` is the generated parser's entry point
// (compiled from src/parser.c by build.rs): it takes no arguments and
// returns a pointer to a static `TSLanguage`, which is what `from_raw`
// requires.
pub const LANGUAGE: LanguageFn = unsafe { LanguageFn::from_raw(tree_sitter_omnilisp) };

/// The highlight query (`queries/highlights.scm`).
pub const HIGHLIGHTS_QUERY: &str = include_str!("../../queries/highlights.scm");

/// The node types of the grammar (`src/node-types.json`).
pub const NODE_TYPES: &str = include_str!("../../src/node-types.json");

#[cfg(test)]
mod tests {
    #[test]
    fn the_language_loads() {
        let mut parser = tree_sitter::Parser::new();
        parser
            .set_language(&super::LANGUAGE.into())
            .expect("the parser's ABI matches the tree-sitter crate");
    }
}
