//! The runtime's floors (docs/ARCHITECTURE.md, "The runtime"): every file of
//! `runtime/src` belongs to a floor by its path, and may name (`crate::x`,
//! in a `use` or inline, `$crate::x` in a macro) only its own floor or a
//! lower one. A separate crate per floor would let Cargo enforce this, but
//! the plain-`rustc` staticlib build (`compiler/build.rs`) compiles the
//! runtime as one crate, so the rule is checked here, the way
//! rust-analyzer's `tidy.rs` checks its own.

use std::path::{Path, PathBuf};

/// The floors, lowest first; a name is the module path segment after `crate::`.
const FLOORS: &[&str] = &[
    "base", "region", "heap", "graph", "control", "prims", "rt", "abi",
];

/// The floor of a file, from its path relative to `runtime/src`; `None`
/// for the crate root (`lib.rs`), which declares the floors and may name
/// them all.
fn floor_of_file(rel: &Path) -> Option<usize> {
    let first = rel.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    if name == "lib" {
        return None;
    }
    let floor = FLOORS.iter().position(|f| *f == name);
    assert!(
        floor.is_some(),
        "{}: not under a floor; put it in one of {FLOORS:?} (or add a floor here and to docs/ARCHITECTURE.md)",
        rel.display()
    );
    floor
}

/// The line without its `//` comment (a `//` inside a string literal is
/// kept; the check is about paths in code).
fn code_of(line: &str) -> &str {
    let mut in_str = false;
    let mut prev = ' ';
    for (i, c) in line.char_indices() {
        match c {
            '"' if prev != '\\' && prev != '\'' => in_str = !in_str,
            '/' if !in_str && prev == '/' => return &line[..i - 1],
            _ => {}
        }
        prev = if prev == '\\' && c == '\\' { ' ' } else { c };
    }
    line
}

/// The first segment of every `crate::` path in `code`, with its byte
/// offset. `crate::{a, b::c}` yields `a` and `b`.
fn crate_paths(code: &str) -> Vec<(usize, String)> {
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = code[from..].find("crate::") {
        let at = from + i;
        from = at + "crate::".len();
        let before = code[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue; // `my_crate::`, not the crate root
        }
        let rest = &code[from..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0;
            let mut start = true;
            for (j, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => start = true,
                    c if start && !c.is_whitespace() => {
                        start = false;
                        out.push((from + 1 + j, ident(&group[j..])));
                    }
                    _ => {}
                }
            }
        } else {
            out.push((from, ident(rest)));
        }
    }
    out
}

/// Violations in one file's text: `file:line: ...` for every `crate::` path
/// that names a higher floor or no floor.
fn check_text(rel: &Path, floor: usize, text: &str) -> Vec<String> {
    let mut code = String::new();
    let mut line_starts = Vec::new();
    for line in text.lines() {
        line_starts.push(code.len());
        code.push_str(code_of(line));
        code.push('\n');
    }
    let mut bad = Vec::new();
    for (at, name) in crate_paths(&code) {
        let line = line_starts.partition_point(|&s| s <= at);
        let text_line = text.lines().nth(line - 1).unwrap_or("").trim();
        match FLOORS.iter().position(|f| *f == name) {
            Some(target) if target <= floor => {}
            Some(_) => bad.push(format!(
                "{}:{line}: `crate::{name}` is a higher floor than {}/ ({text_line})",
                rel.display(),
                FLOORS[floor]
            )),
            None => bad.push(format!(
                "{}:{line}: `crate::{name}` names no floor; write the floor path ({text_line})",
                rel.display()
            )),
        }
    }
    bad
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("reading runtime/src") {
        let path = entry.expect("reading runtime/src").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_crate_path_names_its_own_floor_or_a_lower_one() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut bad = Vec::new();
    for file in &files {
        let rel = file.strip_prefix(&src).unwrap();
        let Some(floor) = floor_of_file(rel) else {
            continue;
        };
        let text = std::fs::read_to_string(file).expect("reading a runtime source file");
        bad.extend(check_text(rel, floor, &text));
    }
    assert!(
        bad.is_empty(),
        "upward imports in runtime/src (floors, lowest first: {FLOORS:?}):\n{}",
        bad.join("\n")
    );
}

#[test]
fn the_checker_sees_upward_paths_in_every_form() {
    let heap = FLOORS.iter().position(|f| *f == "heap").unwrap();
    let rel = Path::new("heap/example.rs");
    let text = "use crate::base::value::Value;\n\
                use crate::{region::Region, rt::entry};\n\
                fn f() { crate::graph::print::display_string(0); } // crate::rt in a comment\n\
                macro_rules! m { () => { $crate::control::call::args } }\n\
                const S: &str = \"// crate::rt in a string is still code-like\";\n\
                use crate::value::Value;\n";
    let bad = check_text(rel, heap, text);
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
