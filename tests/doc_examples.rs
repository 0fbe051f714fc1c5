//! The standard library reference of `docs/LANGUAGE.md` is checked: every
//! standard name (each primitive of the runtime's table and each function of
//! `std/*.omni`, except internal `%` names) has an entry, and every
//! example marked `;=>`, `;prints` or `;error` gives exactly the documented
//! result when run through the real `omnic run`.
//!
//! Format (inside ```omni blocks of the "Standard library reference"
//! section): a line `;; (name args) (name2 args): text` documents the names
//! heading its leading parenthesised groups; any other non-empty line is an
//! example. `EXPR ;=> TEXT`: `(write EXPR)` prints `TEXT`. `EXPR ;prints
//! TEXT`: running `EXPR` prints the line `TEXT`. `EXPR ;stderr TEXT`:
//! running `EXPR` prints nothing on stdout and the line `TEXT` on stderr.
//! `EXPR ;error MESSAGE`: `EXPR` raises an error with that message.
//! Unmarked examples are not run. The examples run in order, as one
//! program, in an empty temporary directory (so file examples may write
//! relative paths and read them back).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The text of the reference section.
fn reference_section() -> String {
    let doc = std::fs::read_to_string(repo().join("docs/LANGUAGE.md")).unwrap();
    let start = doc
        .find("\n## Standard library reference")
        .expect("docs/LANGUAGE.md has a \"Standard library reference\" section");
    let rest = &doc[start + 1..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |i| i + 3);
    rest[..end].to_string()
}

/// The lines of the ```omni blocks of `text`.
fn omni_lines(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut inside = false;
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with("```") {
            inside = !inside && t == "```omni";
            continue;
        }
        if inside && !t.is_empty() {
            out.push(t.to_string());
        }
    }
    out
}

/// The names a `;; (name args) ...: text` line documents.
fn documented_names(sig: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = sig.trim_start_matches(";;").trim_start();
    while rest.starts_with('(') {
        let mut depth = 0;
        let mut end = rest.len();
        for (i, c) in rest.char_indices() {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        end = i + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        let group = &rest[1..end - 1];
        if let Some(head) = group.split_whitespace().next() {
            names.push(head.to_string());
        }
        rest = rest[end..].trim_start();
    }
    names
}

/// Tokens of an example line (for "is the name used in an example").
fn tokens(line: &str) -> Vec<&str> {
    line.split(|c: char| c.is_whitespace() || "()[]{}'".contains(c))
        .filter(|t| !t.is_empty())
        .collect()
}

/// Every standard name: the runtime's primitives and the top-level
/// functions of the prelude and the standard modules, without internal `%`
/// names.
fn standard_names() -> BTreeSet<String> {
    let mut names: BTreeSet<String> = omni_runtime::prims::PRIMS
        .iter()
        .map(|d| d.name.to_string())
        .filter(|n| !n.starts_with('%'))
        .collect();
    // The prelude and the standard modules it imports: their top-level
    // definitions start a line, or are indented once inside `(module ...)`
    // (docs/STYLE.md); nested definitions are indented further.
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo().join("std"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "omni"))
        .collect();
    files.sort();
    assert!(files.len() > 1, "{files:?}");
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for line in text.lines() {
            let top = line.strip_prefix("  ").unwrap_or(line);
            if let Some(rest) = top.strip_prefix("(define ") {
                let name = rest.split_whitespace().next().unwrap();
                if !name.starts_with('%') {
                    names.insert(name.to_string());
                }
            }
        }
    }
    names
}

#[test]
fn every_standard_name_is_documented_with_an_example() {
    let lines = omni_lines(&reference_section());
    let mut documented = BTreeSet::new();
    let mut used = BTreeSet::new();
    for line in &lines {
        if line.starts_with(";;") {
            documented.extend(documented_names(line));
        } else {
            used.extend(tokens(line).into_iter().map(String::from));
        }
    }
    let all = standard_names();
    let undocumented: Vec<&String> = all.iter().filter(|n| !documented.contains(*n)).collect();
    assert!(
        undocumented.is_empty(),
        "standard names without an entry in the reference: {undocumented:?}"
    );
    let no_example: Vec<&String> = documented.iter().filter(|n| !used.contains(*n)).collect();
    assert!(
        no_example.is_empty(),
        "documented names without an example: {no_example:?}"
    );
    let unknown: Vec<&String> = documented.iter().filter(|n| !all.contains(*n)).collect();
    assert!(
        unknown.is_empty(),
        "documented names that are not standard names: {unknown:?}"
    );
}

/// One checked example: the program text that runs it and the output it
/// must print.
struct Example {
    line: String,
    code: String,
    expected: String,
    /// A line the program's stderr must hold (`;stderr`).
    stderr: Option<String>,
}

fn checked_example(line: &str) -> Option<Example> {
    let (code, expected) = if let Some((e, t)) = line.split_once(" ;=> ") {
        (
            format!("(write {})\n(newline)", e.trim()),
            t.trim().to_string(),
        )
    } else if let Some((e, t)) = line.split_once(" ;prints ") {
        (e.trim().to_string(), t.trim().to_string())
    } else if let Some((e, t)) = line.split_once(" ;stderr ") {
        return Some(Example {
            line: line.to_string(),
            code: e.trim().to_string(),
            expected: String::new(),
            stderr: Some(t.trim().to_string()),
        });
    } else if let Some((e, t)) = line.split_once(" ;error ") {
        (
            format!(
                "(println (try (do {} \"(no error)\") (catch e (str \"error: \" (error-message e)))))",
                e.trim()
            ),
            format!("error: {}", t.trim()),
        )
    } else {
        return None;
    };
    Some(Example {
        line: line.to_string(),
        code,
        expected,
        stderr: None,
    })
}

#[test]
fn reference_examples_give_the_documented_results() {
    let examples: Vec<Example> = omni_lines(&reference_section())
        .iter()
        .filter(|l| !l.starts_with(";;"))
        .filter_map(|l| checked_example(l))
        .collect();
    assert!(examples.len() > 100, "only {} examples", examples.len());
    // One program: each example's output follows a marker line.
    let mut program = String::new();
    for (i, ex) in examples.iter().enumerate() {
        program.push_str(&format!("(println \"@@example {i}\")\n{}\n", ex.code));
    }
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("doc_examples.omni");
    std::fs::write(&src, &program).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_omnic"))
        .arg("run")
        .arg(&src)
        .current_dir(tmp.path())
        .env_remove("OMNI_DOC_SURELY_UNSET")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the examples program failed:\n{}\n--- stdout\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut outputs: Vec<String> = vec![String::new(); examples.len()];
    let mut current: Option<usize> = None;
    for line in stdout.lines() {
        if let Some(i) = line.strip_prefix("@@example ") {
            current = Some(i.parse().unwrap());
        } else if let Some(i) = current {
            if !outputs[i].is_empty() {
                outputs[i].push('\n');
            }
            outputs[i].push_str(line);
        }
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let mut wrong: Vec<String> = examples
        .iter()
        .zip(&outputs)
        .filter(|(ex, got)| ex.expected != **got)
        .map(|(ex, got)| format!("{}\n    got: {got}", ex.line))
        .collect();
    for ex in &examples {
        if let Some(line) = &ex.stderr {
            if !stderr.lines().any(|l| l == line) {
                wrong.push(format!("{}\n    stderr: {stderr}", ex.line));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} examples differ from the reference:\n{}",
        wrong.len(),
        examples.len(),
        wrong.join("\n")
    );
}
