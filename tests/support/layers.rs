//! The layering check shared by runtime/tests/layering.rs (the runtime's
//! floors) and compiler/tests/layering.rs (the compiler's stages): every
//! source file belongs to a layer by the first segment of its path, and may
//! name (`crate::x`, `$crate::x`) only its own layer or a lower one.
//! Included by both with `#[path]`.

use std::path::{Path, PathBuf};

/// One crate's layers, lowest first.
pub struct Layers {
    /// Layer names: the module path segment after `crate::`.
    pub names: &'static [&'static str],
    /// The crate root file (`lib`, `main`): declares the layers, may name all.
    pub root: &'static str,
    /// "floor", "stage".
    pub what: &'static str,
    /// "a higher floor", "a later stage".
    pub higher: &'static str,
    /// Said of a `crate::` path that names no layer.
    pub unknown: &'static str,
    /// Upward edges allowed, each with its reason: (file relative to the
    /// source directory, layer named, why).
    pub exceptions: &'static [(&'static str, &'static str, &'static str)],
}

impl Layers {
    /// The layer of a file, from its path relative to the source directory;
    /// `None` for the crate root.
    pub fn layer_of_file(&self, rel: &Path) -> Option<usize> {
        let first = rel.components().next()?.as_os_str().to_str()?;
        let name = first.strip_suffix(".rs").unwrap_or(first);
        if name == self.root {
            return None;
        }
        let layer = self.names.iter().position(|f| *f == name);
        assert!(
            layer.is_some(),
            "{}: not under a {}; put it in one of {:?} (or add one here and to docs/ARCHITECTURE.md)",
            rel.display(),
            self.what,
            self.names
        );
        layer
    }

    /// Violations in one file's text: `file:line: ...` for every `crate::`
    /// path that names a higher layer (not an exception) or no layer.
    pub fn check_text(&self, rel: &Path, layer: usize, text: &str) -> Vec<String> {
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
            match self.names.iter().position(|f| *f == name) {
                Some(target) if target <= layer => {}
                Some(_)
                    if self
                        .exceptions
                        .iter()
                        .any(|(f, n, _)| *f == file && *n == name) => {}
                Some(_) => bad.push(format!(
                    "{file}:{line}: `crate::{name}` is {} than {}/ ({text_line})",
                    self.higher, self.names[layer]
                )),
                None => bad.push(format!(
                    "{file}:{line}: `crate::{name}` {} ({text_line})",
                    self.unknown
                )),
            }
        }
        bad
    }

    /// Violations in every `.rs` file under `src`.
    pub fn check_tree(&self, src: &Path) -> Vec<String> {
        let mut files = Vec::new();
        rust_files(src, &mut files);
        files.sort();
        let mut bad = Vec::new();
        for file in &files {
            let rel = file.strip_prefix(src).unwrap();
            let Some(layer) = self.layer_of_file(rel) else {
                continue;
            };
            let text = std::fs::read_to_string(file).expect("reading a source file");
            bad.extend(self.check_text(rel, layer, &text));
        }
        bad
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("reading a source directory") {
        let path = entry.expect("reading a source directory").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
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
