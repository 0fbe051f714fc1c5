//! The compiler's stages (docs/ARCHITECTURE.md): every file of
//! `compiler/src` belongs to a stage by its path, and may name (`crate::x`)
//! only its own stage or an earlier one, so the stages stay a pipeline
//! (syntax < expand < diag < ir < ctrr < codegen < driver) and each can be
//! read and tested without the later ones. The compiler is one crate, so
//! the rule is checked here, as runtime/tests/layering.rs checks the
//! runtime's floors.

use std::path::{Path, PathBuf};

/// The stages, earliest first; a name is the module path segment after
/// `crate::`.
const STAGES: &[&str] = &[
    "syntax", "expand", "diag", "ir", "ctrr", "codegen", "driver",
];

/// Upward edges allowed, each with its reason: (file relative to
/// `compiler/src`, stage named, why).
const EXCEPTIONS: &[(&str, &str, &str)] = &[(
    "expand/mod.rs",
    "diag",
    "the expander's unit tests build a `SourceMap` (which lives with the \
     diagnostics that render it) to expand programs after the real prelude",
)];

/// The stage of a file, from its path relative to `compiler/src`; `None`
/// for the crate root (`main.rs`), which declares the stages and may name
/// them all.
fn stage_of_file(rel: &Path) -> Option<usize> {
    let first = rel.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    if name == "main" {
        return None;
    }
    let stage = STAGES.iter().position(|f| *f == name);
    assert!(
        stage.is_some(),
        "{}: not under a stage; put it in one of {STAGES:?} (or add a stage here and to docs/ARCHITECTURE.md)",
        rel.display()
    );
    stage
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
/// that names a later stage (not listed in [`EXCEPTIONS`]) or no stage.
fn check_text(rel: &Path, stage: usize, text: &str) -> Vec<String> {
    let mut code = String::new();
    let mut line_starts = Vec::new();
    for line in text.lines() {
        line_starts.push(code.len());
        code.push_str(code_of(line));
        code.push('\n');
    }
    let file = rel.to_string_lossy().replace('\\', "/");
    let mut bad = Vec::new();
    for (at, name) in crate_paths(&code) {
        let line = line_starts.partition_point(|&s| s <= at);
        let text_line = text.lines().nth(line - 1).unwrap_or("").trim();
        match STAGES.iter().position(|f| *f == name) {
            Some(target) if target <= stage => {}
            Some(_) if EXCEPTIONS.iter().any(|(f, n, _)| *f == file && *n == name) => {}
            Some(_) => bad.push(format!(
                "{file}:{line}: `crate::{name}` is a later stage than {}/ ({text_line})",
                STAGES[stage]
            )),
            None => bad.push(format!(
                "{file}:{line}: `crate::{name}` names no stage ({text_line})"
            )),
        }
    }
    bad
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("reading compiler/src") {
        let path = entry.expect("reading compiler/src").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_crate_path_names_its_own_stage_or_an_earlier_one() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut bad = Vec::new();
    for file in &files {
        let rel = file.strip_prefix(&src).unwrap();
        let Some(stage) = stage_of_file(rel) else {
            continue;
        };
        let text = std::fs::read_to_string(file).expect("reading a compiler source file");
        bad.extend(check_text(rel, stage, &text));
    }
    assert!(
        bad.is_empty(),
        "upward imports in compiler/src (stages, earliest first: {STAGES:?}):\n{}",
        bad.join("\n")
    );
}

#[test]
fn the_checker_sees_upward_paths_in_every_form() {
    let ir = STAGES.iter().position(|f| *f == "ir").unwrap();
    let rel = Path::new("ir/example.rs");
    let text = "use crate::syntax::Span;\n\
                use crate::{diag::SourceMap, ctrr::run};\n\
                fn f() { crate::codegen::compile(); } // crate::driver in a comment\n\
                use crate::diag::Diagnostic;\n\
                use crate::Span;\n";
    let bad = check_text(rel, ir, text);
    let lines: Vec<&str> = bad.iter().map(|b| b.split(": ").next().unwrap()).collect();
    assert_eq!(
        lines,
        ["ir/example.rs:2", "ir/example.rs:3", "ir/example.rs:5"],
        "{bad:#?}"
    );
    assert!(bad[0].contains("`crate::ctrr`"), "{bad:#?}");
    // The exception is for its one file only.
    let expand = STAGES.iter().position(|f| *f == "expand").unwrap();
    let text = "use crate::diag::SourceMap;\n";
    assert!(check_text(Path::new("expand/mod.rs"), expand, text).is_empty());
    assert_eq!(
        check_text(Path::new("expand/other.rs"), expand, text).len(),
        1
    );
}
